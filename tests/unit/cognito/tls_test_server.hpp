// A small HTTPS server on 127.0.0.1 with a certificate made in the test, to drive the real HTTP client:
// keep-alive, slow and oversized answers, untrusted or mismatched certificates.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "unique_fd.hpp"

namespace pp::cognito::test {

struct TestCertificate {
    std::string cert_pem, key_pem;
    std::string cert_file;  // cert_pem written out, to serve as the client's CA file
};

// Self-signed, valid for the given subjectAltName entries (e.g. "IP:127.0.0.1", "DNS:other.example").
TestCertificate make_certificate(const std::string& subject_alt_names);

struct HttpRequest {
    std::string method, target, body;
    std::map<std::string, std::string> headers;  // names in lower case
};

struct HttpReply {
    int status = 200;
    std::vector<std::string> headers{};  // complete "Name: value" lines
    std::string body{};
    std::chrono::milliseconds delay{0};
    bool close_delimited = false;  // no Content-Length: the body ends when the connection closes
};

class TlsTestServer {
  public:
    using Handler = std::function<HttpReply(const HttpRequest&)>;

    TlsTestServer(const TestCertificate& certificate, Handler handler);
    ~TlsTestServer();
    TlsTestServer(const TlsTestServer&) = delete;
    TlsTestServer& operator=(const TlsTestServer&) = delete;

    std::string url(const std::string& path = "/") const;
    int port() const { return port_; }
    int connections() const { return connections_; }
    std::vector<HttpRequest> requests() const;

  private:
    struct CtxFree {
        void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
    };

    void accept_loop();
    void serve(pp::UniqueFd fd);
    // Waits until fd has data, giving up when the server stops.
    bool wait_readable(int fd) const;

    Handler handler_;
    std::unique_ptr<SSL_CTX, CtxFree> ctx_;
    pp::UniqueFd listen_fd_;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    mutable std::mutex mutex_;
    std::vector<HttpRequest> requests_;
    std::vector<std::thread> workers_;
    std::thread acceptor_;
};

}  // namespace pp::cognito::test
