#include "tls_test_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "unique_fd.hpp"

namespace pp::cognito::test {
namespace {

struct Free {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
    void operator()(X509* p) const noexcept { X509_free(p); }
    void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
    void operator()(BIO* p) const noexcept { BIO_free(p); }
    void operator()(SSL_CTX* p) const noexcept { SSL_CTX_free(p); }
    void operator()(SSL* p) const noexcept { SSL_free(p); }
};

std::string pem_of(const std::function<int(BIO*)>& write) {
    const std::unique_ptr<BIO, Free> bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) throw std::runtime_error("PEM write");
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

void expect(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(what);
}

std::string reason(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 302:
            return "Found";
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 500:
            return "Internal Server Error";
        default:
            return "Status";
    }
}

}  // namespace

TestCertificate make_certificate(const std::string& subject_alt_names) {
    const std::unique_ptr<EVP_PKEY, Free> key(EVP_EC_gen("P-256"));
    const std::unique_ptr<X509, Free> cert(X509_new());
    expect(key && cert, "key or certificate allocation");
    static std::atomic<long> serial{1};
    expect(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("pp test"),
                               -1, -1, 0);
    expect(X509_set_issuer_name(cert.get(), name) == 1, "X509_set_issuer_name");
    expect(X509_set_pubkey(cert.get(), key.get()) == 1, "X509_set_pubkey");
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
    const std::unique_ptr<X509_EXTENSION, Free> san(
        X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, subject_alt_names.c_str()));
    expect(san && X509_add_ext(cert.get(), san.get(), -1) == 1, "subjectAltName");
    expect(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "X509_sign");

    TestCertificate out;
    out.cert_pem = pem_of([&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); });
    out.key_pem = pem_of([&](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    out.cert_file = ::testing::TempDir() + "/pp-test-ca-" + std::to_string(::getpid()) + "-" +
                    std::to_string(serial.load()) + ".pem";
    std::ofstream(out.cert_file) << out.cert_pem;
    return out;
}

TlsTestServer::TlsTestServer(const TestCertificate& certificate, Handler handler)
    : handler_(std::move(handler)), ctx_(SSL_CTX_new(TLS_server_method())) {
    // A client that gives up mid-answer must not kill the test run.
    std::signal(SIGPIPE, SIG_IGN);
    expect(ctx_ != nullptr, "SSL_CTX_new");
    const std::unique_ptr<BIO, Free> cert_bio(BIO_new_mem_buf(certificate.cert_pem.data(), -1));
    const std::unique_ptr<BIO, Free> key_bio(BIO_new_mem_buf(certificate.key_pem.data(), -1));
    const std::unique_ptr<X509, Free> cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    const std::unique_ptr<EVP_PKEY, Free> key(
        PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    expect(cert && key && SSL_CTX_use_certificate(ctx_.get(), cert.get()) == 1 &&
               SSL_CTX_use_PrivateKey(ctx_.get(), key.get()) == 1,
           "server certificate");

    listen_fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    expect(static_cast<bool>(listen_fd_), "socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    expect(::bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
               ::listen(listen_fd_.get(), 16) == 0 &&
               ::getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0,
           "listen");
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

TlsTestServer::~TlsTestServer() {
    stop_ = true;
    acceptor_.join();
    const std::lock_guard lock(mutex_);
    for (std::thread& worker : workers_) worker.join();
}

std::string TlsTestServer::url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<HttpRequest> TlsTestServer::requests() const {
    const std::lock_guard lock(mutex_);
    return requests_;
}

bool TlsTestServer::wait_readable(int fd) const {
    while (!stop_) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 20) > 0) return true;
    }
    return false;
}

void TlsTestServer::accept_loop() {
    while (wait_readable(listen_fd_.get())) {
        pp::UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!fd) continue;
        ++connections_;
        const std::lock_guard lock(mutex_);
        workers_.emplace_back([this, fd = std::move(fd)]() mutable { serve(std::move(fd)); });
    }
}

void TlsTestServer::serve(pp::UniqueFd fd) {
    // Bounds the handshake: a client that refuses our certificate just goes away.
    const timeval handshake_limit{2, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &handshake_limit, sizeof handshake_limit);
    const std::unique_ptr<SSL, Free> ssl(SSL_new(ctx_.get()));
    if (!ssl || SSL_set_fd(ssl.get(), fd.get()) != 1 || SSL_accept(ssl.get()) != 1) {
        ERR_clear_error();
        return;
    }
    std::string buffer;
    const auto read_more = [&] {
        if (SSL_pending(ssl.get()) == 0 && !wait_readable(fd.get())) return false;
        char chunk[16384];
        const int n = SSL_read(ssl.get(), chunk, sizeof chunk);
        if (n <= 0) return false;
        buffer.append(chunk, static_cast<std::size_t>(n));
        return true;
    };
    for (;;) {
        std::size_t end;
        while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
            if (!read_more()) return;
        }
        HttpRequest request;
        std::size_t line_end = buffer.find("\r\n");
        const std::string request_line = buffer.substr(0, line_end);
        request.method = request_line.substr(0, request_line.find(' '));
        request.target = request_line.substr(request.method.size() + 1,
                                             request_line.rfind(' ') - request.method.size() - 1);
        while (line_end < end) {
            const std::size_t next = buffer.find("\r\n", line_end + 2);
            const std::string line = buffer.substr(line_end + 2, next - line_end - 2);
            line_end = next;
            const std::size_t colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string name = line.substr(0, colon);
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            request.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
        }
        const std::size_t body_length =
            request.headers.count("content-length") ? std::stoul(request.headers["content-length"]) : 0;
        while (buffer.size() < end + 4 + body_length) {
            if (!read_more()) return;
        }
        request.body = buffer.substr(end + 4, body_length);
        buffer.erase(0, end + 4 + body_length);
        {
            const std::lock_guard lock(mutex_);
            requests_.push_back(request);
        }

        const HttpReply reply = handler_(request);
        for (auto waited = std::chrono::milliseconds(0); waited < reply.delay && !stop_;
             waited += std::chrono::milliseconds(10)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason(reply.status) + "\r\n";
        for (const std::string& header : reply.headers) out += header + "\r\n";
        out += reply.close_delimited ? "Connection: close\r\n"
                                     : "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
        out += "\r\n" + reply.body;
        if (SSL_write(ssl.get(), out.data(), static_cast<int>(out.size())) <= 0 || reply.close_delimited) {
            SSL_shutdown(ssl.get());
            return;
        }
    }
}

}  // namespace pp::cognito::test
