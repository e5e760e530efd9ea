#include "http_client.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <exception>
#include <mutex>
#include <new>
#include <string_view>
#include <utility>

#include "libcurl.hpp"
#include "service_error.hpp"

namespace pp::cognito {
namespace {

// Connections kept alive for later requests: as many as logins overlap on a busy machine (the helper keeps as
// many connections to this worker, helper/pool_client.hpp), so that a steady load of a few hundred sign-ins
// in flight pays no TLS handshake once warm (at 8 kept, 200 in flight opened some 180 connections every 200
// logins: three quarters of the worker's CPU). Each idle one holds a socket and its TLS state (the buffers
// are released while idle, below). One idle longer than max_idle_age is closed when the next request comes:
// Cognito's side closes idle connections long before, and a reused closed one costs a failed try.
constexpr std::size_t max_idle_connections = 256;
constexpr std::size_t max_error_type_length = 256;
constexpr std::size_t initial_body_capacity = 4096;

struct SlistRelease {
    void operator()(curl_slist* list) const noexcept { libcurl().slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistRelease>;

void append(Slist& list, const char* line) {
    // Returns the head, which is the old head unless the list was empty; on failure the old list is intact.
    curl_slist* head = libcurl().slist_append(list.get(), line);
    if (head == nullptr) throw std::bad_alloc();
    (void)list.release();
    list.reset(head);
}

// What the callbacks collect. They run inside libcurl's C frames, so they park exceptions here instead of
// throwing through them.
struct Transfer {
    pp::Secret body;
    bool too_large = false;
    std::string error_type;
    std::exception_ptr failure;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) noexcept {
    auto& transfer = *static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    if (n > HttpClient::max_response_size - transfer.body.size()) {
        transfer.too_large = true;
        return 0;
    }
    try {
        // A first chunk gets room for a usual answer whole; later ones grow it as Secret::append grows.
        if (transfer.body.capacity() < initial_body_capacity) transfer.body.reserve(initial_body_capacity);
        transfer.body.append(std::string_view(data, n));
    } catch (...) {
        transfer.failure = std::current_exception();
        return 0;
    }
    return n;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trimmed(std::string_view text) {
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && blank(text.front())) text.remove_prefix(1);
    while (!text.empty() && blank(text.back())) text.remove_suffix(1);
    return text;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) noexcept {
    auto& transfer = *static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    const std::string_view line(data, n);
    try {
        // Headers of an interim (1xx) answer must not leak into the final one.
        if (line.starts_with("HTTP/")) {
            transfer.error_type.clear();
        } else if (const auto colon = line.find(':');
                   colon != std::string_view::npos &&
                   equals_ignoring_case(line.substr(0, colon), "x-amzn-ErrorType")) {
            transfer.error_type.assign(trimmed(line.substr(colon + 1)).substr(0, max_error_type_length));
        }
    } catch (...) {
        transfer.failure = std::current_exception();
        return 0;
    }
    return n;
}

Failure failure_for(CURLcode code) {
    switch (code) {
        case CURLE_OPERATION_TIMEDOUT:
            return Failure::Timeout;
        // A URL that is not https is refused rather than sent in the clear.
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_SHUTDOWN_FAILED:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_CLIENTCERT:
        case CURLE_USE_SSL_FAILED:
            return Failure::Tls;
        case CURLE_WEIRD_SERVER_REPLY:
            return Failure::Malformed;
        default:
            // Resolving, connecting, sending, receiving, an empty reply, and anything unforeseen: the service
            // could not be reached.
            return Failure::Unreachable;
    }
}

void check(CURLcode code) {
    if (code != CURLE_OK) {
        throw ServiceError(Failure::Unreachable, "",
                           std::string("libcurl setup: ") + libcurl().easy_strerror(code));
    }
}

// OpenSSL decrypts each record in place in its read buffer, so an idle kept-alive connection would hold the
// plaintext of the last answer (a Session, the tokens) until the next one overwrites it. Released buffers are
// freed, and so wiped, as soon as they are empty; a new one is allocated per record.
CURLcode release_tls_buffers(CURL*, void* ssl_ctx, void*) noexcept {
    SSL_CTX_set_mode(static_cast<SSL_CTX*>(ssl_ctx), SSL_MODE_RELEASE_BUFFERS);
    return CURLE_OK;
}

struct EasyRelease {
    void operator()(CURL* easy) const noexcept { libcurl().easy_cleanup(easy); }
};
using Easy = std::unique_ptr<CURL, EasyRelease>;

// Runs one request on the lane's multi handle, as curl_easy_perform would on a multi handle of its own, and
// takes the handle out of the lane again. The request's own timeout (CURLOPT_TIMEOUT_MS) bounds the loop.
CURLcode drive(const LibCurl& curl, CURLM* multi, CURL* easy) {
    if (curl.multi_add_handle(multi, easy) != CURLM_OK) return CURLE_OUT_OF_MEMORY;
    CURLcode result = CURLE_OK;
    CURLMcode step = CURLM_OK;
    for (int running = 1;;) {
        step = curl.multi_perform(multi, &running);
        if (step != CURLM_OK || running == 0) break;
        step = curl.multi_poll(multi, nullptr, 0, 1000, nullptr);
        if (step != CURLM_OK) break;
    }
    bool done = false;
    int left = 0;
    while (CURLMsg* m = curl.multi_info_read(multi, &left)) {
        if (m->msg == CURLMSG_DONE && m->easy_handle == easy) {
            result = m->data.result;
            done = true;
        }
    }
    curl.multi_remove_handle(multi, easy);
    if (step != CURLM_OK) return step == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_RECV_ERROR;
    return done ? result : CURLE_RECV_ERROR;
}

}  // namespace

void HttpClient::LaneRelease::operator()(void* multi) const noexcept {
    libcurl().multi_cleanup(multi);
}

void HttpClient::load_library() {
    (void)libcurl();
}

HttpClient::HttpClient(std::string ca_file, std::chrono::milliseconds request_timeout, std::string proxy,
                       std::string ca_pem)
    : ca_file_(std::move(ca_file)),
      ca_pem_(std::move(ca_pem)),
      request_timeout_(request_timeout),
      proxy_(std::move(proxy)) {}

HttpClient::Lane HttpClient::take_lane() {
    std::vector<IdleLane> stale;
    {
        std::lock_guard lock(idle_mutex_);
        stale = take_stale_lanes(std::chrono::steady_clock::now());
        if (!idle_.empty()) {
            Lane lane = std::move(idle_.back().lane);
            idle_.pop_back();
            return lane;
        }
    }
    unsigned number = 0;
    {
        std::lock_guard lock(idle_mutex_);
        number = ++lanes_made_;
    }
    const LibCurl& curl = libcurl();
    Lane lane(curl.multi_init(), LaneRelease{number});
    if (!lane) throw ServiceError(Failure::Unreachable, "", "libcurl could not create a multi handle");
    // One connection per lane: the pool's endpoint is one host.
    if (curl.multi_setopt(lane.get(), CURLMOPT_MAXCONNECTS, 1L) != CURLM_OK)
        throw ServiceError(Failure::Unreachable, "", "libcurl could not set up a multi handle");
    return lane;
}

// The most recently used are taken first, so those at the front are the ones idle longest. Returned to be
// closed once idle_mutex_ is released (a TLS close notify is written to each).
std::vector<HttpClient::IdleLane> HttpClient::take_stale_lanes(std::chrono::steady_clock::time_point now) {
    std::size_t n = 0;
    while (n < idle_.size() && now - idle_[n].since > max_idle_age) ++n;
    std::vector<IdleLane> stale(std::make_move_iterator(idle_.begin()),
                                std::make_move_iterator(idle_.begin() + static_cast<std::ptrdiff_t>(n)));
    idle_.erase(idle_.begin(), idle_.begin() + static_cast<std::ptrdiff_t>(n));
    return stale;
}

void HttpClient::close_idle_connections(std::chrono::steady_clock::time_point now) {
    std::vector<IdleLane> stale;  // closed after the lock is released
    std::lock_guard lock(idle_mutex_);
    stale = take_stale_lanes(now);
}

void HttpClient::give_back(Lane lane) {
    const auto now = std::chrono::steady_clock::now();
    std::vector<IdleLane> stale;
    std::lock_guard lock(idle_mutex_);
    stale = take_stale_lanes(now);
    // Beyond the idle limit the lane is dropped, and its connection closed with it.
    if (idle_.size() < max_idle_connections) idle_.push_back(IdleLane{std::move(lane), now});
}

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::post(const std::string& url, const std::vector<std::string>& headers,
                              const pp::Secret& body, Deadline deadline) {
    return perform(url, headers, &body, deadline);
}

HttpResponse HttpClient::get(const std::string& url, Deadline deadline) {
    return perform(url, {}, nullptr, deadline);
}

HttpResponse HttpClient::perform(const std::string& url, const std::vector<std::string>& headers,
                                 const pp::Secret* body, Deadline deadline) {
    const auto budget = std::min(request_timeout_, time_left(deadline));
    if (budget.count() <= 0) throw ServiceError(Failure::Timeout, "", "no time left to send the request");

    const LibCurl& curl = libcurl();
    Slist header_list;
    for (const std::string& header : headers) append(header_list, header.c_str());
    // Our bodies are small; a 100-continue round trip would only add latency.
    if (body != nullptr) append(header_list, "Expect:");

    // A handle of its own, so its buffers (the request it built, the answer it received) are freed when the
    // request ends; the connection stays in the lane, which this request alone uses until it is given back.
    // libcurl's own account of a failure ("SSL certificate problem: certificate has expired"), where
    // easy_strerror only names its kind; declared before the handle, which may write it until freed.
    char detail[CURL_ERROR_SIZE] = "";
    Lane lane = take_lane();
    Easy owner(curl.easy_init());
    if (!owner) throw ServiceError(Failure::Unreachable, "", "libcurl could not create a handle");
    CURL* easy = owner.get();
    Transfer transfer;
    check(curl.easy_setopt(easy, CURLOPT_ERRORBUFFER, detail));
    check(curl.easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, release_tls_buffers));
    check(curl.easy_setopt(easy, CURLOPT_URL, url.c_str()));
    check(curl.easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "https"));
    check(curl.easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "https"));
    check(curl.easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L));
    check(curl.easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L));
    check(curl.easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L));
    check(curl.easy_setopt(easy, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2)));
    // A trust store given replaces the system's: libcurl would otherwise still look in its built-in CA
    // directory (Debian's: /etc/ssl/certs) for any issuer the file lacks.
    if (!ca_pem_.empty()) {
        curl_blob blob{ca_pem_.data(), ca_pem_.size(), CURL_BLOB_NOCOPY};
        check(curl.easy_setopt(easy, CURLOPT_CAINFO_BLOB, &blob));
        check(curl.easy_setopt(easy, CURLOPT_CAINFO, nullptr));
        check(curl.easy_setopt(easy, CURLOPT_CAPATH, nullptr));
    } else if (!ca_file_.empty()) {
        check(curl.easy_setopt(easy, CURLOPT_CAINFO, ca_file_.c_str()));
        check(curl.easy_setopt(easy, CURLOPT_CAPATH, nullptr));
    }
    // Only the configured proxy, never one from the environment: an empty CURLOPT_PROXY turns off libcurl's
    // reading of https_proxy and all_proxy, an empty CURLOPT_NOPROXY its reading of no_proxy. A root daemon's
    // environment is no configuration file.
    check(curl.easy_setopt(easy, CURLOPT_PROXY, proxy_.c_str()));
    check(curl.easy_setopt(easy, CURLOPT_NOPROXY, ""));
    if (!proxy_.empty()) {
        check(curl.easy_setopt(easy, CURLOPT_PROXYTYPE, static_cast<long>(CURLPROXY_HTTP)));
        // A CONNECT tunnel: the proxy sees the host name and port, never the request.
        check(curl.easy_setopt(easy, CURLOPT_HTTPPROXYTUNNEL, 1L));
    }
    // The helper is multi-threaded; libcurl's SIGALRM-based DNS timeouts are not safe there.
    check(curl.easy_setopt(easy, CURLOPT_NOSIGNAL, 1L));
    check(curl.easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(budget.count())));
    check(curl.easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(budget.count())));
    check(curl.easy_setopt(easy, CURLOPT_USERAGENT, PP_USER_AGENT));
    check(curl.easy_setopt(easy, CURLOPT_HTTPHEADER, header_list.get()));
    check(curl.easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_response_size)));
    // Over TLS libcurl copies a request into its upload buffer before sending it (64 KiB unless told), which
    // it allocates per handle; every block freed here is wiped (helper/wiping_free.cpp), so the size is paid
    // twice a request. Our requests are a few KiB: the smallest buffer libcurl allows (a larger body is sent
    // in pieces of it). Half of the worker's wiping of libcurl's memory (bench/README.md, session 15).
    check(curl.easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, 16L * 1024));
    check(curl.easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body));
    check(curl.easy_setopt(easy, CURLOPT_WRITEDATA, &transfer));
    check(curl.easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header));
    check(curl.easy_setopt(easy, CURLOPT_HEADERDATA, &transfer));
    if (body != nullptr) {
        check(curl.easy_setopt(easy, CURLOPT_POST, 1L));
        // Not COPYPOSTFIELDS: libcurl would keep a copy of the secret-bearing body that nobody wipes.
        check(curl.easy_setopt(easy, CURLOPT_POSTFIELDS, body->c_str()));
        check(curl.easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size())));
    } else {
        check(curl.easy_setopt(easy, CURLOPT_HTTPGET, 1L));
    }

    const CURLcode code = drive(curl, lane.get(), easy);
    if (transfer.failure) std::rethrow_exception(transfer.failure);
    if (transfer.too_large || code == CURLE_FILESIZE_EXCEEDED) {
        throw ServiceError(Failure::Malformed, "", "answer larger than 1 MiB");
    }
    if (code != CURLE_OK) {
        // Which hop failed is what an admin needs first: the proxy, or the pool behind it.
        std::string why = curl.easy_strerror(code);
        if (detail[0] != '\0') why += std::string(" (") + detail + ")";
        if (!proxy_.empty()) {
            long connect_status = 0;
            (void)curl.easy_getinfo(easy, CURLINFO_HTTP_CONNECTCODE, &connect_status);
            why += connect_status != 0 ? " (the proxy " + proxy_ + " answered CONNECT with HTTP " +
                                             std::to_string(connect_status) + ")"
                                       : " (through the proxy " + proxy_ + ")";
        }
        throw ServiceError(failure_for(code), "", why);
    }

    HttpResponse response;
    check(curl.easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response.status));
    long connects = 0;
    (void)curl.easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
    response.new_connection = connects > 0;
    response.lane = lane.get_deleter().number;
    response.body = std::move(transfer.body);
    response.error_type = std::move(transfer.error_type);
    // The lane goes back only after a request that got an answer (drive() has taken the handle out of it):
    // the lane of a request that failed, and whatever state its connection is in, is dropped.
    owner.reset();
    give_back(std::move(lane));
    return response;
}

}  // namespace pp::cognito
