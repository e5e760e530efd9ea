// The messages between the root helper and the network worker (pam-passwordless-pool).
//
// The root helper asks, the worker talks HTTPS to the user pool and answers with what the pool's answer
// means, typed: the root side never reads the pool's JSON. Requests one after another on a SOCK_STREAM
// socket, each answered before the next is sent: a reply that says the worker keeps the connection
// (Reply::kept_for_ms) lets the root side send its next request there instead of opening another (a socket
// handed over and a thread woken on each side per request were a third of the pair's CPU per login); a reply
// without it ends the connection. A frame is a 4-byte big-endian length and then a record. A record is a
// version byte, a kind byte and fields: tag (1 byte), length (4 bytes, big-endian), value; a field may hold a
// record of its own (a credential, a challenge parameter). Every size is bounded, so either side refuses a
// hostile peer before allocating for it: the worker is the less trusted of the two, and the root side reads
// its answers as it would any input.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pool_types.hpp"
#include "secret.hpp"
#include "service_error.hpp"

namespace pp::pool {

inline constexpr std::uint8_t kVersion = 1;
// A frame holds at most this many bytes: the largest request (a ca_file of up to 4 MiB, config.cpp's limit)
// and the largest answer (a body of up to 1 MiB, the HTTP client's limit) with room for the rest.
inline constexpr std::size_t kMaxFrame = 6 * 1024 * 1024;
// The most a reply to a sign-in step (and every operation but the two that gather pages) may hold: a step
// with its Session, its tokens (the helper reads none over 16 KiB) and a passkey challenge's options. The
// receiving side sizes its buffer from the frame's length before the body comes, so a worker taken over
// could otherwise make each waiting login hold kMaxFrame.
inline constexpr std::size_t kMaxSignInReply = 256 * 1024;
inline constexpr std::size_t kMaxFields = 4096;
inline constexpr int kMaxDepth = 3;

class ProtocolError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A bag of tagged fields; values are wiped when it goes away (sessions, tokens and answers travel in them).
class Record {
  public:
    explicit Record(std::uint8_t kind = 0);

    [[nodiscard]] std::uint8_t kind() const noexcept { return kind_; }
    Record& add(std::uint8_t tag, std::string_view value);
    Record& add_u32(std::uint8_t tag, std::uint32_t value);
    Record& add_record(std::uint8_t tag, const Record& nested);
    [[nodiscard]] std::optional<std::string_view> get(std::uint8_t tag) const;
    [[nodiscard]] std::string get_string(std::uint8_t tag) const;
    [[nodiscard]] std::optional<std::uint32_t> get_u32(std::uint8_t tag) const;
    [[nodiscard]] std::vector<std::string_view> all(std::uint8_t tag) const;
    [[nodiscard]] std::vector<Record> all_records(std::uint8_t tag) const;

    [[nodiscard]] Secret encode() const;
    // Refuses anything malformed: another version, a truncated field, too many fields or too deep a nesting.
    static Record decode(std::string_view bytes, int depth = 0);

  private:
    // Where a field's value lies in bytes_.
    struct Field {
        std::uint8_t tag;
        std::uint32_t offset, size;
    };
    // A copy of an encoded record, its fields not yet read (decode).
    explicit Record(std::string_view encoded);
    // Walks an encoded record; fills `into` when given (its bytes_ already hold `bytes`), else only checks.
    static void scan(std::string_view bytes, int depth, Record* into);

    std::uint8_t kind_;
    // The record as it is sent: the version, the kind, then each field's tag, length and value. One buffer,
    // so that a record built or read costs one allocation (and one wipe), not one per field.
    Secret bytes_;
    std::vector<Field> fields_;
};

enum class Op : std::uint8_t {
    InitiateAuth = 1,
    Respond = 2,
    FetchJwks = 3,
    FetchOpenIdConfiguration = 4,
    StartRegistration = 5,
    CompleteRegistration = 6,
    ListCredentials = 7,
    DeleteCredential = 8,
    RedeemAuthorizationCode = 9,  // browser sign-in: POST https://<oauth_domain>/oauth2/token
    FetchCallbackPage = 10,       // check-config --online: GET [browser] redirect_uri and its pool.json
    // No request to the pool: the worker answers after Request::pause_us (at most the time left). A decoy
    // login's pause ends so, woken by the worker as a real login is by the pool's answer
    // (helper/pool_latency.hpp).
    Pause = 11,
};
inline constexpr Op kLastOp = Op::Pause;
const char* op_name(Op op) noexcept;

// Where and as whom to talk to the pool: everything the worker needs from the configuration, which it cannot
// read. The client secret is not here: root computes SECRET_HASH itself and sends only that.
struct Settings {
    std::string api_url, jwks_url, issuer, client_id;
    std::string ca_pem;  // the text of ca_file, read and checked by root; empty: the system's trust store
    std::string proxy;
    // [browser] domain (host[:port]) or empty: the only host the worker redeems authorization codes at.
    std::string oauth_domain;
    std::uint32_t request_timeout_ms = 10000;
    bool debugging = false;  // the worker adds its debug lines to the reply
};

struct Request {
    Op op = Op::FetchJwks;
    Settings settings;
    std::uint32_t time_left_ms = 0;  // the caller's deadline, as time left when the request was made
    std::string username;
    std::optional<std::string> preferred_challenge;
    cognito::UserContext context;
    std::string challenge;
    pp::Secret session;
    std::vector<std::pair<std::string, pp::Secret>> answers;
    std::optional<pp::Secret> secret_hash;
    pp::Secret access_token;
    std::string credential_json;
    std::string credential_id;
    pp::Secret form_body;        // RedeemAuthorizationCode: the token request, built by root
    std::string callback_url;    // FetchCallbackPage: [browser] redirect_uri
    std::uint32_t pause_us = 0;  // Pause: how long, from when the worker reads the request
};

// What the worker saw on the way, for the root side's status and debug log.
struct Contact {
    bool answered = false;
    std::string why;
};

struct Reply {
    // How long the worker waits on this connection for the next request; 0: it closes it. The root side
    // sends no request there once half of it has passed (it cannot race the worker's close).
    std::uint32_t kept_for_ms = 0;
    std::vector<Contact> contacts;
    std::vector<std::string> debug_lines;
    std::optional<cognito::ServiceError> error;
    std::optional<cognito::Step> step;
    std::string document;  // FetchJwks
    std::optional<cognito::OpenIdConfiguration> openid;
    std::optional<cognito::RegistrationStart> registration;
    std::vector<cognito::WebAuthnCredential> credentials;
    std::optional<pp::Secret> id_token;                  // RedeemAuthorizationCode: the id_token alone
    std::optional<cognito::CallbackPageCheck> callback;  // FetchCallbackPage
};

Secret encode_request(const Request& request);
Request decode_request(std::string_view bytes);
Secret encode_reply(const Reply& reply);
// Checks what the operation needs is there (a step for a sign-in call, and so on); throws ProtocolError.
Reply decode_reply(std::string_view bytes, Op op);
// The largest reply frame to `op`: kMaxFrame for the list of credentials (its pages) and the callback page
// (with its pool.json), kMaxSignInReply for every other.
std::size_t max_reply_size(Op op);

// One frame on a connected stream socket. send_frame throws ProtocolError when it cannot send all of it;
// receive_frame waits until `deadline` and throws ProtocolError for a closed socket, a timeout or a frame
// over `max` (at most kMaxFrame), refused at its length before the body is read (the reason says which).
void send_frame(int fd, const Secret& bytes, std::chrono::steady_clock::time_point deadline);
// Bytes that follow the frame (a peer that wrote more than one answer) are refused ("bytes after the
// frame"), unless `bytes_followed` is given: it is then set, the frame returned, and the connection must not
// be read again.
Secret receive_frame(int fd, std::chrono::steady_clock::time_point deadline, bool* bytes_followed = nullptr,
                     std::size_t max = kMaxFrame);

}  // namespace pp::pool
