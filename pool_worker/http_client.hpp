// HTTPS to the user pool: verified TLS only, connections kept alive across logins, every request bounded in
// time (the login's deadline) and in size. No request leaves its bytes behind: each has a libcurl handle of
// its own, freed (and so wiped, see helper/wiping_free.cpp) when it ends; only the connections are kept, each
// in a multi handle of its own, with OpenSSL told to release its record buffers whenever they are empty.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "deadline.hpp"
#include "secret.hpp"

namespace pp::cognito {

struct HttpResponse {
    long status = 0;
    pp::Secret body;
    std::string error_type;  // the x-amzn-ErrorType header; empty when absent
    // For the debug trace: which lane (kept-alive connection) carried it, whether a new connection was made.
    unsigned lane = 0;
    bool new_connection = false;
};

// Thread-safe. Failures to get an answer throw ServiceError: Timeout (also when the deadline has already
// passed, without sending anything), Tls, Unreachable, or Malformed for an answer over max_response_size.
// Any HTTP status is an answer and is returned.
class HttpClient {
  public:
    static constexpr std::size_t max_response_size = 1024 * 1024;

    // ca_file: empty for the system trust store. Each request gets min(request_timeout, time to deadline).
    // proxy: "http://host:port" to tunnel every request through (CONNECT; TLS to the server end to end), or
    // empty for none: never a proxy from the environment (https_proxy, all_proxy, no_proxy).
    // ca_pem: PEM certificates to trust instead of ca_file's (the network worker gets the root-checked file's
    // text, not its path).
    HttpClient(std::string ca_file, std::chrono::milliseconds request_timeout, std::string proxy = {},
               std::string ca_pem = {});
    // Loads libcurl now rather than at the first request (libcurl.hpp); throws ServiceError as a request
    // would when it cannot.
    static void load_library();
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // headers: complete "Name: value" lines.
    HttpResponse post(const std::string& url, const std::vector<std::string>& headers, const pp::Secret& body,
                      Deadline deadline);
    HttpResponse get(const std::string& url, Deadline deadline);

    // Closes the kept connections idle longer than max_idle_age at `now` (the worker does it every minute,
    // so that a burst's connections do not stay open until the next request).
    void close_idle_connections(std::chrono::steady_clock::time_point now);
    static constexpr std::chrono::seconds max_idle_age{60};

  private:
    // libcurl's CURLM is void.
    struct LaneRelease {
        void operator()(void* multi) const noexcept;
        unsigned number = 0;  // 1, 2, ... in the order lanes were made, for the debug trace
    };
    // One kept-alive connection (with its DNS cache) in a multi handle of its own, which drives one request
    // at a time: made once and reused, where curl_easy_perform would make (and free) a multi handle, with its
    // wake-up socket pair, on every request.
    using Lane = std::unique_ptr<void, LaneRelease>;
    // A lane is used by one request at a time: libcurl does not support sharing a connection cache between
    // threads that use it at once (seen as requests timing out under 200 concurrent logins).
    Lane take_lane();
    void give_back(Lane lane);
    HttpResponse perform(const std::string& url, const std::vector<std::string>& headers,
                         const pp::Secret* body, Deadline deadline);

    std::string ca_file_;
    std::string ca_pem_;
    std::chrono::milliseconds request_timeout_;
    std::string proxy_;
    unsigned lanes_made_ = 0;  // under idle_mutex_
    std::mutex idle_mutex_;
    struct IdleLane {
        Lane lane;
        std::chrono::steady_clock::time_point since;
    };
    std::vector<IdleLane> take_stale_lanes(std::chrono::steady_clock::time_point now);  // under idle_mutex_
    // At most max_idle_connections, each with the connection its last request left, oldest first.
    std::vector<IdleLane> idle_;
};

}  // namespace pp::cognito
