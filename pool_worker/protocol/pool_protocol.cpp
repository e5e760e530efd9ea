#include "pool_protocol.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pp::pool {
namespace {

// Field tags, one space for every record of this protocol.
enum Tag : std::uint8_t {
    kOp = 1,
    kApiUrl,
    kJwksUrl,
    kIssuer,
    kClientId,
    kCaPem,
    kProxy,
    kRequestTimeout,
    kDebugging,
    kTimeLeft,
    kUsername,
    kPreferredChallenge,
    kIpAddress,
    kChallenge,
    kSession,
    kAnswer,  // a record: kName, kValue
    kSecretHash,
    kAccessToken,
    kCredentialJson,
    kCredentialId,
    kName,
    kValue,
    kContact,  // a record: kAnswered, kWhy
    kAnswered,
    kWhy,
    kDebugLine,
    kFailure,
    kErrorName,
    kErrorMessage,
    kHttpStatus,
    kStep,  // a record
    kParameter,
    kAvailable,
    kIdToken,
    kRequestOptions,  // a record
    kRequestOptionsError,
    kRpId,
    kAllowCredential,
    kUserVerification,
    kTimeoutMs,
    kDocument,
    kOpenIdIssuer,
    kOpenIdJwksUri,
    kRegistration,  // a record
    kOptionsJson,
    kRpName,
    kUserId,
    kUserName,
    kDisplayName,
    kAlgorithm,
    kExcludeCredential,
    kResidentKey,
    kCredential,  // a record
    kFriendlyName,
    kAttachment,
    kTransport,
    kCreatedAt,
    kKeptFor,
    kOauthDomain,
    kFormBody,
    kOpenIdAuthorizationEndpoint,
    kOpenIdTokenEndpoint,
    kCallbackUrl,
    kPageStatus,
    kPageIsCallback,
    kPoolJsonStatus,
    kPoolJsonDomain,
    kPoolJsonClientId,
    kPoolJsonScope,
    kPoolJsonError,
    kPauseUs,
    kLastTag = kPauseUs,
};

enum Kind : std::uint8_t { kRequest = 1, kReply = 2, kNested = 3 };

std::uint32_t read_be32(const char* p) {
    std::uint32_t be;
    std::memcpy(&be, p, sizeof be);
    return ntohl(be);
}

void write_be32(char* out, std::uint32_t v) {
    const std::uint32_t be = htonl(v);
    std::memcpy(out, &be, sizeof be);
}

void append_be32(Secret& out, std::uint32_t v) {
    char buf[4];
    write_be32(buf, v);
    out.append(std::string_view(buf, sizeof buf));
}

std::string need_string(const Record& r, std::uint8_t tag, const char* what) {
    const auto v = r.get(tag);
    if (!v) throw ProtocolError(std::string("missing ") + what);
    return std::string(*v);
}

std::optional<std::string> optional_string(const Record& r, std::uint8_t tag) {
    const auto v = r.get(tag);
    if (!v) return std::nullopt;
    return std::string(*v);
}

std::optional<Secret> optional_secret(const Record& r, std::uint8_t tag) {
    const auto v = r.get(tag);
    if (!v) return std::nullopt;
    return Secret(*v);
}

Record options_record(const webauthn::RequestOptions& o) {
    Record r(kNested);
    r.add(kChallenge, o.challenge).add(kRpId, o.rp_id).add(kUserVerification, o.user_verification);
    for (const auto& c : o.allow_credentials) r.add(kAllowCredential, c);
    if (o.timeout_ms) r.add_u32(kTimeoutMs, *o.timeout_ms);
    return r;
}

webauthn::RequestOptions read_options(const Record& r) {
    webauthn::RequestOptions o;
    o.challenge = need_string(r, kChallenge, "options challenge");
    o.rp_id = need_string(r, kRpId, "options rpId");
    o.user_verification = r.get_string(kUserVerification);
    for (const auto c : r.all(kAllowCredential)) o.allow_credentials.emplace_back(c);
    o.timeout_ms = r.get_u32(kTimeoutMs);
    return o;
}

Record step_record(const cognito::Step& s) {
    Record r(kNested);
    r.add(kChallenge, s.challenge).add(kSession, s.session.view());
    for (const auto& [name, value] : s.parameters)
        r.add_record(kParameter, Record(kNested).add(kName, name).add(kValue, value));
    for (const auto& a : s.available) r.add(kAvailable, a);
    if (s.id_token) r.add(kIdToken, s.id_token->view());
    if (s.access_token) r.add(kAccessToken, s.access_token->view());
    if (s.request_options) r.add_record(kRequestOptions, options_record(*s.request_options));
    if (!s.request_options_error.empty()) r.add(kRequestOptionsError, s.request_options_error);
    return r;
}

cognito::Step read_step(const Record& r) {
    cognito::Step s;
    s.challenge = r.get_string(kChallenge);
    s.session = Secret(r.get(kSession).value_or(""));
    for (const auto& p : r.all_records(kParameter))
        s.parameters.emplace(need_string(p, kName, "parameter name"),
                             need_string(p, kValue, "parameter value"));
    for (const auto a : r.all(kAvailable)) s.available.emplace_back(a);
    s.id_token = optional_secret(r, kIdToken);
    s.access_token = optional_secret(r, kAccessToken);
    const auto options = r.all_records(kRequestOptions);
    if (options.size() > 1) throw ProtocolError("more than one set of request options");
    if (!options.empty()) s.request_options = read_options(options.front());
    s.request_options_error = r.get_string(kRequestOptionsError);
    // The same rules parse_step holds the pool's answer to, so a worker cannot hand root an ambiguous step.
    if (!s.challenge.empty() && (s.id_token || s.access_token))
        throw ProtocolError("a step with both a challenge and tokens");
    if (!s.challenge.empty() && s.session.empty()) throw ProtocolError("a challenge without a session");
    if (s.challenge.empty() && !s.id_token)
        throw ProtocolError("a step with neither a challenge nor an ID token");
    return s;
}

Record registration_record(const cognito::RegistrationStart& start) {
    const auto& o = start.options;
    Record r(kNested);
    r.add(kOptionsJson, start.options_json)
        .add(kChallenge, o.challenge)
        .add(kRpId, o.rp_id)
        .add(kRpName, o.rp_name)
        .add(kUserId, o.user_id)
        .add(kUserName, o.user_name)
        .add(kDisplayName, o.display_name)
        .add(kResidentKey, o.resident_key)
        .add(kUserVerification, o.user_verification);
    for (const int alg : o.algorithms) r.add_u32(kAlgorithm, static_cast<std::uint32_t>(alg));
    for (const auto& c : o.exclude_credentials) r.add(kExcludeCredential, c);
    if (o.timeout_ms) r.add_u32(kTimeoutMs, *o.timeout_ms);
    return r;
}

cognito::RegistrationStart read_registration(const Record& r) {
    cognito::RegistrationStart start;
    auto& o = start.options;
    start.options_json = r.get_string(kOptionsJson);
    o.challenge = need_string(r, kChallenge, "creation challenge");
    o.rp_id = need_string(r, kRpId, "creation rp id");
    o.rp_name = r.get_string(kRpName);
    o.user_id = need_string(r, kUserId, "creation user id");
    o.user_name = r.get_string(kUserName);
    o.display_name = r.get_string(kDisplayName);
    o.resident_key = r.get_string(kResidentKey);
    o.user_verification = r.get_string(kUserVerification);
    for (const auto a : r.all(kAlgorithm)) {
        if (a.size() != 4) throw ProtocolError("algorithm of wrong size");
        o.algorithms.push_back(static_cast<int>(read_be32(a.data())));
    }
    if (o.algorithms.empty()) throw ProtocolError("creation options without an algorithm");
    for (const auto c : r.all(kExcludeCredential)) o.exclude_credentials.emplace_back(c);
    o.timeout_ms = r.get_u32(kTimeoutMs);
    return start;
}

Record credential_record(const cognito::WebAuthnCredential& c) {
    Record r(kNested);
    r.add(kCredentialId, c.credential_id)
        .add(kFriendlyName, c.friendly_name)
        .add(kRpId, c.relying_party_id)
        .add(kAttachment, c.attachment);
    for (const auto& t : c.transports) r.add(kTransport, t);
    std::uint64_t bits;
    static_assert(sizeof bits == sizeof c.created_at);
    std::memcpy(&bits, &c.created_at, sizeof bits);
    char buf[8];
    for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((bits >> (56 - 8 * i)) & 0xff);
    r.add(kCreatedAt, std::string_view(buf, sizeof buf));
    return r;
}

cognito::WebAuthnCredential read_credential(const Record& r) {
    cognito::WebAuthnCredential c;
    c.credential_id = need_string(r, kCredentialId, "credential id");
    c.friendly_name = r.get_string(kFriendlyName);
    c.relying_party_id = r.get_string(kRpId);
    c.attachment = r.get_string(kAttachment);
    for (const auto t : r.all(kTransport)) c.transports.emplace_back(t);
    if (const auto at = r.get(kCreatedAt)) {
        if (at->size() != 8) throw ProtocolError("creation time of wrong size");
        std::uint64_t bits = 0;
        for (const char b : *at) bits = (bits << 8) | static_cast<std::uint8_t>(b);
        std::memcpy(&c.created_at, &bits, sizeof bits);
    }
    return c;
}

// The worker's reading of the callback page and its pool.json, held to what the worker may say: statuses that
// are HTTP statuses, values with checkPool's charsets (root prints them), a short reason.
cognito::CallbackPageCheck read_callback_check(const Record& r) {
    cognito::CallbackPageCheck c;
    const auto page = r.get_u32(kPageStatus);
    if (!page) throw ProtocolError("a callback page reply without its status");
    const std::uint32_t pool_json = r.get_u32(kPoolJsonStatus).value_or(0);
    if (*page < 100 || *page > 999 || (pool_json != 0 && (pool_json < 100 || pool_json > 999)))
        throw ProtocolError("an HTTP status out of range");
    c.page_status = static_cast<long>(*page);
    c.pool_json_status = static_cast<long>(pool_json);
    c.page_is_callback = r.get_u32(kPageIsCallback).value_or(0) != 0;
    if (c.page_is_callback && c.page_status != 200) throw ProtocolError("a callback page without HTTP 200");
    c.domain = optional_string(r, kPoolJsonDomain);
    c.client_id = optional_string(r, kPoolJsonClientId);
    for (const auto s : r.all(kPoolJsonScope)) c.scopes.emplace_back(s);
    c.pool_json_error = r.get_string(kPoolJsonError);
    const bool read = c.domain || c.client_id || !c.scopes.empty();
    if (read) {
        if (!c.domain || !cognito::callback_domain_ok(*c.domain) || !c.client_id ||
            !cognito::callback_client_id_ok(*c.client_id) || c.scopes.empty() ||
            c.scopes.size() > cognito::kMaxCallbackScopes ||
            !std::all_of(c.scopes.begin(), c.scopes.end(), cognito::callback_scope_ok))
            throw ProtocolError("a pool.json reading checkPool would refuse");
        if (c.pool_json_status != 200 || !c.pool_json_error.empty())
            throw ProtocolError("a pool.json reading without HTTP 200");
    }
    if (c.pool_json_error.size() > 512) throw ProtocolError("a pool.json reason too long");
    return c;
}

bool valid_op(std::uint32_t op) {
    return op >= static_cast<std::uint32_t>(Op::InitiateAuth) && op <= static_cast<std::uint32_t>(kLastOp);
}

}  // namespace

const char* op_name(Op op) noexcept {
    switch (op) {
        case Op::InitiateAuth:
            return "InitiateAuth";
        case Op::Respond:
            return "RespondToAuthChallenge";
        case Op::FetchJwks:
            return "key set (JWKS)";
        case Op::FetchOpenIdConfiguration:
            return "openid-configuration";
        case Op::StartRegistration:
            return "StartWebAuthnRegistration";
        case Op::CompleteRegistration:
            return "CompleteWebAuthnRegistration";
        case Op::ListCredentials:
            return "ListWebAuthnCredentials";
        case Op::DeleteCredential:
            return "DeleteWebAuthnCredential";
        case Op::RedeemAuthorizationCode:
            return "token endpoint (authorization code)";
        case Op::FetchCallbackPage:
            return "callback page";
        case Op::Pause:
            return "pause";
    }
    return "unknown";
}

Record::Record(std::uint8_t kind) : kind_(kind) {
    const char head[2] = {static_cast<char>(kVersion), static_cast<char>(kind)};
    bytes_.reserve(256);
    bytes_.append(std::string_view(head, 2));
}

Record& Record::add(std::uint8_t tag, std::string_view value) {
    if (value.size() > kMaxFrame) throw ProtocolError("field too long");
    if (fields_.size() >= kMaxFields) throw ProtocolError("too many fields");
    const char head = static_cast<char>(tag);
    bytes_.append(std::string_view(&head, 1));
    append_be32(bytes_, static_cast<std::uint32_t>(value.size()));
    const auto offset = static_cast<std::uint32_t>(bytes_.size());
    bytes_.append(value);
    fields_.push_back(Field{tag, offset, static_cast<std::uint32_t>(value.size())});
    return *this;
}

Record& Record::add_u32(std::uint8_t tag, std::uint32_t value) {
    const std::uint32_t be = htonl(value);
    char buf[4];
    std::memcpy(buf, &be, sizeof buf);
    return add(tag, std::string_view(buf, sizeof buf));
}

Record& Record::add_record(std::uint8_t tag, const Record& nested) {
    if (nested.bytes_.size() > kMaxFrame) throw ProtocolError("record too long");
    return add(tag, nested.bytes_.view());
}

std::optional<std::string_view> Record::get(std::uint8_t tag) const {
    std::optional<std::string_view> found;
    for (const Field& f : fields_) {
        if (f.tag != tag) continue;
        // A field given twice could be read one way by one side and another way by the other.
        if (found) throw ProtocolError("a field given twice");
        found = bytes_.view().substr(f.offset, f.size);
    }
    return found;
}

std::string Record::get_string(std::uint8_t tag) const {
    return std::string(get(tag).value_or(""));
}

std::optional<std::uint32_t> Record::get_u32(std::uint8_t tag) const {
    const auto v = get(tag);
    if (!v) return std::nullopt;
    if (v->size() != 4) throw ProtocolError("integer field of wrong size");
    return read_be32(v->data());
}

std::vector<std::string_view> Record::all(std::uint8_t tag) const {
    std::vector<std::string_view> out;
    for (const Field& f : fields_)
        if (f.tag == tag) out.push_back(bytes_.view().substr(f.offset, f.size));
    return out;
}

std::vector<Record> Record::all_records(std::uint8_t tag) const {
    std::vector<Record> out;
    for (const Field& f : fields_)
        if (f.tag == tag) out.push_back(decode(bytes_.view().substr(f.offset, f.size), 1));
    return out;
}

Secret Record::encode() const {
    if (bytes_.size() > kMaxFrame) throw ProtocolError("record too long");
    return bytes_;
}

void Record::scan(std::string_view bytes, int depth, Record* into) {
    if (depth > kMaxDepth) throw ProtocolError("records nested too deep");
    if (bytes.size() < 2 || bytes.size() > kMaxFrame) throw ProtocolError("record size out of bounds");
    if (static_cast<std::uint8_t>(bytes[0]) != kVersion) throw ProtocolError("unsupported protocol version");
    const auto kind = static_cast<std::uint8_t>(bytes[1]);
    if (kind != kRequest && kind != kReply && kind != kNested) throw ProtocolError("unknown record kind");
    if ((kind == kNested) != (depth > 0)) throw ProtocolError("record kind out of place");
    std::size_t pos = 2, count = 0;
    while (pos < bytes.size()) {
        if (bytes.size() - pos < 5) throw ProtocolError("truncated field header");
        const auto tag = static_cast<std::uint8_t>(bytes[pos]);
        const std::size_t len = read_be32(bytes.data() + pos + 1);
        pos += 5;
        if (bytes.size() - pos < len) throw ProtocolError("truncated field");
        if (tag == 0 || tag > kLastTag) throw ProtocolError("unknown field");
        if (++count > kMaxFields) throw ProtocolError("too many fields");
        // Every nested record is read now, so a bad one is refused with the message that holds it.
        if (tag == kAnswer || tag == kContact || tag == kStep || tag == kParameter ||
            tag == kRequestOptions || tag == kRegistration || tag == kCredential)
            scan(bytes.substr(pos, len), depth + 1, nullptr);
        if (into != nullptr)
            into->fields_.push_back(
                Field{tag, static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(len)});
        pos += len;
    }
}

Record::Record(std::string_view encoded)
    : kind_(encoded.size() >= 2 ? static_cast<std::uint8_t>(encoded[1]) : 0), bytes_(encoded) {}

Record Record::decode(std::string_view bytes, int depth) {
    Record r(bytes);
    scan(r.bytes_.view(), depth, &r);
    return r;
}

Secret encode_request(const Request& q) {
    Record r(kRequest);
    const Settings& s = q.settings;
    r.add_u32(kOp, static_cast<std::uint32_t>(q.op))
        .add(kApiUrl, s.api_url)
        .add(kJwksUrl, s.jwks_url)
        .add(kIssuer, s.issuer)
        .add(kClientId, s.client_id)
        .add(kCaPem, s.ca_pem)
        .add(kProxy, s.proxy)
        .add_u32(kRequestTimeout, s.request_timeout_ms)
        .add_u32(kDebugging, s.debugging ? 1 : 0)
        .add_u32(kTimeLeft, q.time_left_ms)
        .add(kUsername, q.username)
        .add(kChallenge, q.challenge)
        .add(kSession, q.session.view())
        .add(kAccessToken, q.access_token.view())
        .add(kCredentialJson, q.credential_json)
        .add(kCredentialId, q.credential_id);
    if (!s.oauth_domain.empty()) r.add(kOauthDomain, s.oauth_domain);
    if (!q.form_body.empty()) r.add(kFormBody, q.form_body.view());
    if (!q.callback_url.empty()) r.add(kCallbackUrl, q.callback_url);
    if (q.op == Op::Pause) r.add_u32(kPauseUs, q.pause_us);
    if (q.preferred_challenge) r.add(kPreferredChallenge, *q.preferred_challenge);
    if (q.context.ip_address) r.add(kIpAddress, *q.context.ip_address);
    for (const auto& [name, value] : q.answers)
        r.add_record(kAnswer, Record(kNested).add(kName, name).add(kValue, value.view()));
    if (q.secret_hash) r.add(kSecretHash, q.secret_hash->view());
    return r.encode();
}

Request decode_request(std::string_view bytes) {
    const Record r = Record::decode(bytes);
    if (r.kind() != kRequest) throw ProtocolError("not a request");
    Request q;
    const auto op = r.get_u32(kOp);
    if (!op || !valid_op(*op)) throw ProtocolError("unknown operation");
    q.op = static_cast<Op>(*op);
    Settings& s = q.settings;
    s.api_url = need_string(r, kApiUrl, "api url");
    s.jwks_url = r.get_string(kJwksUrl);
    s.issuer = r.get_string(kIssuer);
    s.client_id = need_string(r, kClientId, "client id");
    s.ca_pem = r.get_string(kCaPem);
    s.proxy = r.get_string(kProxy);
    s.oauth_domain = r.get_string(kOauthDomain);
    s.request_timeout_ms = r.get_u32(kRequestTimeout).value_or(0);
    s.debugging = r.get_u32(kDebugging).value_or(0) != 0;
    q.time_left_ms = r.get_u32(kTimeLeft).value_or(0);
    q.username = r.get_string(kUsername);
    q.preferred_challenge = optional_string(r, kPreferredChallenge);
    q.context.ip_address = optional_string(r, kIpAddress);
    q.challenge = r.get_string(kChallenge);
    q.session = Secret(r.get(kSession).value_or(""));
    for (const auto& a : r.all_records(kAnswer))
        q.answers.emplace_back(need_string(a, kName, "answer name"), Secret(a.get(kValue).value_or("")));
    q.secret_hash = optional_secret(r, kSecretHash);
    q.access_token = Secret(r.get(kAccessToken).value_or(""));
    q.credential_json = r.get_string(kCredentialJson);
    q.credential_id = r.get_string(kCredentialId);
    q.form_body = Secret(r.get(kFormBody).value_or(""));
    q.callback_url = r.get_string(kCallbackUrl);
    q.pause_us = r.get_u32(kPauseUs).value_or(0);
    return q;
}

Secret encode_reply(const Reply& p) {
    Record r(kReply);
    if (p.kept_for_ms > 0) r.add_u32(kKeptFor, p.kept_for_ms);
    for (const auto& c : p.contacts)
        r.add_record(kContact, Record(kNested).add_u32(kAnswered, c.answered ? 1 : 0).add(kWhy, c.why));
    for (const auto& line : p.debug_lines) r.add(kDebugLine, line);
    if (p.error) {
        r.add_u32(kFailure, static_cast<std::uint32_t>(p.error->failure()))
            .add(kErrorName, p.error->name())
            .add(kErrorMessage, p.error->message())
            .add_u32(kHttpStatus, static_cast<std::uint32_t>(p.error->http_status()));
    }
    if (p.step) r.add_record(kStep, step_record(*p.step));
    if (!p.document.empty()) r.add(kDocument, p.document);
    if (p.openid) {
        r.add(kOpenIdIssuer, p.openid->issuer);
        if (p.openid->jwks_uri) r.add(kOpenIdJwksUri, *p.openid->jwks_uri);
        if (p.openid->authorization_endpoint)
            r.add(kOpenIdAuthorizationEndpoint, *p.openid->authorization_endpoint);
        if (p.openid->token_endpoint) r.add(kOpenIdTokenEndpoint, *p.openid->token_endpoint);
    }
    if (p.id_token) r.add(kIdToken, p.id_token->view());
    if (p.callback) {
        const cognito::CallbackPageCheck& c = *p.callback;
        r.add_u32(kPageStatus, static_cast<std::uint32_t>(c.page_status))
            .add_u32(kPageIsCallback, c.page_is_callback ? 1 : 0)
            .add_u32(kPoolJsonStatus, static_cast<std::uint32_t>(c.pool_json_status));
        if (c.domain) r.add(kPoolJsonDomain, *c.domain);
        if (c.client_id) r.add(kPoolJsonClientId, *c.client_id);
        for (const auto& scope : c.scopes) r.add(kPoolJsonScope, scope);
        if (!c.pool_json_error.empty()) r.add(kPoolJsonError, c.pool_json_error);
    }
    if (p.registration) r.add_record(kRegistration, registration_record(*p.registration));
    for (const auto& c : p.credentials) r.add_record(kCredential, credential_record(c));
    return r.encode();
}

Reply decode_reply(std::string_view bytes, Op op) {
    const Record r = Record::decode(bytes);
    if (r.kind() != kReply) throw ProtocolError("not a reply");
    Reply p;
    p.kept_for_ms = r.get_u32(kKeptFor).value_or(0);
    for (const auto& c : r.all_records(kContact))
        p.contacts.push_back(Contact{c.get_u32(kAnswered).value_or(0) != 0, c.get_string(kWhy)});
    for (const auto line : r.all(kDebugLine)) p.debug_lines.emplace_back(line);
    if (const auto failure = r.get_u32(kFailure)) {
        if (*failure > static_cast<std::uint32_t>(cognito::Failure::Rejected))
            throw ProtocolError("unknown failure");
        p.error.emplace(static_cast<cognito::Failure>(*failure), r.get_string(kErrorName),
                        r.get_string(kErrorMessage), static_cast<long>(r.get_u32(kHttpStatus).value_or(0)));
        return p;
    }
    switch (op) {
        case Op::InitiateAuth:
        case Op::Respond: {
            const auto steps = r.all_records(kStep);
            if (steps.size() != 1) throw ProtocolError("a sign-in reply without its step");
            p.step = read_step(steps.front());
            break;
        }
        case Op::FetchJwks:
            p.document = need_string(r, kDocument, "key set");
            break;
        case Op::FetchOpenIdConfiguration:
            p.openid = cognito::OpenIdConfiguration{
                need_string(r, kOpenIdIssuer, "issuer"), optional_string(r, kOpenIdJwksUri),
                optional_string(r, kOpenIdAuthorizationEndpoint), optional_string(r, kOpenIdTokenEndpoint)};
            break;
        case Op::RedeemAuthorizationCode: {
            p.id_token = optional_secret(r, kIdToken);
            if (!p.id_token || p.id_token->empty()) throw ProtocolError("a token reply without its ID token");
            break;
        }
        case Op::FetchCallbackPage:
            p.callback = read_callback_check(r);
            break;
        case Op::StartRegistration: {
            const auto regs = r.all_records(kRegistration);
            if (regs.size() != 1) throw ProtocolError("a registration reply without its options");
            p.registration = read_registration(regs.front());
            break;
        }
        case Op::ListCredentials:
            for (const auto& c : r.all_records(kCredential)) p.credentials.push_back(read_credential(c));
            break;
        case Op::CompleteRegistration:
        case Op::DeleteCredential:
        case Op::Pause:
            break;
    }
    return p;
}

namespace {

// A frame's first read: enough for every sign-in's request and reply (a reply with its tokens is a few KiB),
// so that one receive takes the whole frame; larger ones (a key set, a list of passkeys) take more.
constexpr std::size_t kFirstRead = 8 * 1024;

void check_time(std::chrono::steady_clock::time_point deadline) {
    if (std::chrono::steady_clock::now() >= deadline) throw ProtocolError("timed out");
}

// What is left of a frame (its 4-byte head, then `body_size` bytes of body) once `done` bytes of it have
// travelled: one or two pieces for sendmsg or recvmsg.
std::size_t rest_of_frame(iovec (&iov)[2], char* head, char* body, std::size_t body_size, std::size_t done) {
    std::size_t count = 0;
    if (done < 4) iov[count++] = {head + done, 4 - done};
    const std::size_t body_done = done > 4 ? done - 4 : 0;
    if (body_done < body_size) iov[count++] = {body + body_done, body_size - body_done};
    return count;
}

void wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) throw ProtocolError("timed out");
        pollfd p{fd, events, 0};
        const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count() + 1, 60 * 60 * 1000)));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw ProtocolError(std::string("poll: ") + std::strerror(errno));
        if (r > 0) return;
    }
}

}  // namespace

// Each system call is tried first and waited for only when it would block: a frame is written whole by one
// send and, on the other side, usually read whole by one receive (the worker's reads follow a poll that saw
// the request arrive; the helper's, the reply it waits for). Two sign-in requests cost the helper six system
// calls instead of fourteen, and the worker two a request instead of six.
void send_frame(int fd, const Secret& bytes, std::chrono::steady_clock::time_point deadline) {
    if (bytes.size() > kMaxFrame) throw ProtocolError("frame too long");
    check_time(deadline);
    char head[4];
    write_be32(head, static_cast<std::uint32_t>(bytes.size()));
    char* const body = const_cast<char*>(bytes.view().data());
    std::size_t sent = 0;
    while (sent < 4 + bytes.size()) {
        iovec iov[2];
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = rest_of_frame(iov, head, body, bytes.size(), sent);
        const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            wait_for(fd, POLLOUT, deadline);
            continue;
        }
        if (n < 0) throw ProtocolError(std::string("send: ") + std::strerror(errno));
        sent += static_cast<std::size_t>(n);
    }
}

std::size_t max_reply_size(Op op) {
    return op == Op::ListCredentials || op == Op::FetchCallbackPage ? kMaxFrame : kMaxSignInReply;
}

Secret receive_frame(int fd, std::chrono::steady_clock::time_point deadline, bool* bytes_followed,
                     std::size_t max) {
    check_time(deadline);
    char head[4];
    // Wiped however this ends, the bytes past the frame's size included (the whole capacity is wiped).
    Secret body(std::string(kFirstRead, '\0'));
    std::size_t got = 0;  // of the head and the body together
    // The body's size once the head is in; until then, what the first read may take.
    std::size_t size = kFirstRead;
    bool sized = false;
    while (!sized || got < 4 + size) {
        iovec iov[2];
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = rest_of_frame(iov, head, const_cast<char*>(body.view().data()), size, got);
        const ssize_t r = ::recvmsg(fd, &msg, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            wait_for(fd, POLLIN, deadline);
            continue;
        }
        if (r < 0) throw ProtocolError(std::string("recv: ") + std::strerror(errno));
        if (r == 0) throw ProtocolError("the peer closed the connection");
        got += static_cast<std::size_t>(r);
        if (sized || got < 4) continue;
        sized = true;
        size = read_be32(head);
        if (size > std::min(max, kMaxFrame)) throw ProtocolError("frame over the size limit");
        // Only one frame is ever in flight on a connection: bytes past it are the peer's fault. They are read
        // with the frame only when it came whole in the first read; the caller that may say so keeps the
        // frame and drops the connection, with the bytes (wiped with the buffer).
        if (got - 4 > size) {
            if (bytes_followed == nullptr) throw ProtocolError("bytes after the frame");
            *bytes_followed = true;
            body.truncate(size);
            return body;
        }
        if (size > body.size()) {
            Secret bigger(std::string(size, '\0'));
            std::memcpy(const_cast<char*>(bigger.view().data()), body.view().data(), got - 4);
            body = std::move(bigger);
        }
    }
    body.truncate(size);
    return body;
}

}  // namespace pp::pool
