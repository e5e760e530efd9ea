#include "http_client.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "service_error.hpp"
#include "tls_test_server.hpp"

namespace pp::cognito {
namespace {

using namespace std::string_view_literals;

using namespace std::chrono_literals;
using test::HttpReply;
using test::HttpRequest;
using test::make_certificate;
using test::TestCertificate;
using test::TlsTestServer;

const TestCertificate& localhost_certificate() {
    static const TestCertificate certificate = make_certificate("IP:127.0.0.1");
    return certificate;
}

Deadline soon() {
    return std::chrono::steady_clock::now() + 10s;
}

Failure failure_of(const std::function<void()>& call) {
    try {
        call();
    } catch (const ServiceError& e) {
        return e.failure();
    }
    throw std::logic_error("no ServiceError");
}

TEST(HttpClient, PostSendsHeadersAndBodyAndReadsTheAnswer) {
    TlsTestServer server(localhost_certificate(), [](const HttpRequest&) {
        return HttpReply{
            .status = 400, .headers = {"x-amzn-ErrorType: NotAuthorizedException:"}, .body = "{}"};
    });
    HttpClient client(localhost_certificate().cert_file, 5s);
    const HttpResponse response =
        client.post(server.url("/"), {"Content-Type: application/x-amz-json-1.1", "X-Amz-Target: Svc.Op"},
                    pp::Secret(R"({"a":"b"})"sv), soon());
    EXPECT_EQ(response.status, 400);
    EXPECT_EQ(response.body.view(), "{}");
    EXPECT_EQ(response.error_type, "NotAuthorizedException:");

    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, "POST");
    EXPECT_EQ(requests[0].target, "/");
    EXPECT_EQ(requests[0].body, R"({"a":"b"})");
    EXPECT_EQ(requests[0].headers.at("content-type"), "application/x-amz-json-1.1");
    EXPECT_EQ(requests[0].headers.at("x-amz-target"), "Svc.Op");
    EXPECT_EQ(requests[0].headers.at("user-agent").rfind("pam_passwordless/", 0), 0u);
    EXPECT_EQ(requests[0].headers.count("expect"), 0u);
}

TEST(HttpClient, GetReturnsTheBody) {
    TlsTestServer server(localhost_certificate(),
                         [](const HttpRequest&) { return HttpReply{.body = R"({"keys":[]})"}; });
    HttpClient client(localhost_certificate().cert_file, 5s);
    const HttpResponse response = client.get(server.url("/pool/.well-known/jwks.json"), soon());
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body.view(), R"({"keys":[]})");
    EXPECT_TRUE(response.error_type.empty());
    EXPECT_EQ(server.requests().at(0).method, "GET");
    EXPECT_EQ(server.requests().at(0).target, "/pool/.well-known/jwks.json");
}

TEST(HttpClient, KeepsTheConnectionAliveAcrossRequests) {
    TlsTestServer server(localhost_certificate(), [](const HttpRequest&) { return HttpReply{.body = "{}"}; });
    HttpClient client(localhost_certificate().cert_file, 5s);
    for (int i = 0; i < 3; ++i) client.post(server.url(), {}, pp::Secret("{}"sv), soon());
    EXPECT_EQ(server.requests().size(), 3u);
    EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, RedirectsAreNotFollowed) {
    TlsTestServer server(localhost_certificate(), [&](const HttpRequest&) {
        return HttpReply{.status = 302, .headers = {"Location: https://127.0.0.1:1/elsewhere"}};
    });
    HttpClient client(localhost_certificate().cert_file, 5s);
    EXPECT_EQ(client.get(server.url(), soon()).status, 302);
    EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpClient, UntrustedCertificateIsATlsFailure) {
    TlsTestServer server(localhost_certificate(), [](const HttpRequest&) { return HttpReply{.body = "{}"}; });
    HttpClient system_store("", 5s);
    EXPECT_EQ(failure_of([&] { system_store.get(server.url(), soon()); }), Failure::Tls);
    const TestCertificate other = make_certificate("IP:127.0.0.1");
    HttpClient other_ca(other.cert_file, 5s);
    EXPECT_EQ(failure_of([&] { other_ca.get(server.url(), soon()); }), Failure::Tls);
    EXPECT_TRUE(server.requests().empty());
}

TEST(HttpClient, HostNameMismatchIsATlsFailure) {
    const TestCertificate elsewhere = make_certificate("DNS:cognito-idp.example");
    TlsTestServer server(elsewhere, [](const HttpRequest&) { return HttpReply{.body = "{}"}; });
    HttpClient client(elsewhere.cert_file, 5s);
    EXPECT_EQ(failure_of([&] { client.get(server.url(), soon()); }), Failure::Tls);
    EXPECT_TRUE(server.requests().empty());
}

TEST(HttpClient, MissingCaFileIsATlsFailure) {
    TlsTestServer server(localhost_certificate(), [](const HttpRequest&) { return HttpReply{.body = "{}"}; });
    HttpClient client(::testing::TempDir() + "/no-such-ca.pem", 5s);
    EXPECT_EQ(failure_of([&] { client.get(server.url(), soon()); }), Failure::Tls);
}

TEST(HttpClient, PlainHttpIsRefusedWithoutConnecting) {
    TlsTestServer server(localhost_certificate(), [](const HttpRequest&) { return HttpReply{.body = "{}"}; });
    HttpClient client(localhost_certificate().cert_file, 5s);
    EXPECT_EQ(
        failure_of([&] { client.get("http://127.0.0.1:" + std::to_string(server.port()) + "/", soon()); }),
        Failure::Tls);
    EXPECT_EQ(server.connections(), 0);
}

TEST(HttpClient, SlowAnswerTimesOutAtTheRequestTimeout) {
    TlsTestServer server(localhost_certificate(),
                         [](const HttpRequest&) { return HttpReply{.body = "{}", .delay = 3s}; });
    HttpClient client(localhost_certificate().cert_file, 300ms);
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(failure_of([&] { client.get(server.url(), soon()); }), Failure::Timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST(HttpClient, DeadlineCutsTheRequestTimeoutShort) {
    TlsTestServer server(localhost_certificate(),
                         [](const HttpRequest&) { return HttpReply{.body = "{}", .delay = 3s}; });
    HttpClient client(localhost_certificate().cert_file, 10s);
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(failure_of([&] { client.get(server.url(), started + 300ms); }), Failure::Timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST(HttpClient, PassedDeadlineSendsNothing) {
    TlsTestServer server(localhost_certificate(), [](const HttpRequest&) { return HttpReply{.body = "{}"}; });
    HttpClient client(localhost_certificate().cert_file, 5s);
    EXPECT_EQ(failure_of([&] {
                  client.post(server.url(), {}, pp::Secret("{}"sv), std::chrono::steady_clock::now() - 1ms);
              }),
              Failure::Timeout);
    EXPECT_EQ(server.connections(), 0);
}

TEST(HttpClient, AnswerUpToOneMebibyteIsRead) {
    TlsTestServer server(localhost_certificate(), [](const HttpRequest&) {
        return HttpReply{.body = std::string(HttpClient::max_response_size, 'x')};
    });
    HttpClient client(localhost_certificate().cert_file, 5s);
    EXPECT_EQ(client.get(server.url(), soon()).body.size(), HttpClient::max_response_size);
}

TEST(HttpClient, OversizedAnswerIsMalformed) {
    TlsTestServer server(localhost_certificate(), [](const HttpRequest& request) {
        return HttpReply{.body = std::string(HttpClient::max_response_size + 1, 'x'),
                         .close_delimited = request.target == "/unannounced"};
    });
    HttpClient client(localhost_certificate().cert_file, 5s);
    EXPECT_EQ(failure_of([&] { client.get(server.url("/announced"), soon()); }), Failure::Malformed);
    EXPECT_EQ(failure_of([&] { client.get(server.url("/unannounced"), soon()); }), Failure::Malformed);
}

TEST(HttpClient, NothingListeningIsUnreachable) {
    // A port that was just free on loopback.
    const pp::UniqueFd probe(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ASSERT_EQ(::bind(probe.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::getsockname(probe.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
    HttpClient client(localhost_certificate().cert_file, 5s);
    EXPECT_EQ(failure_of([&] {
                  client.get("https://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/", soon());
              }),
              Failure::Unreachable);
}

TEST(HttpClient, ConcurrentRequestsEachGetTheirAnswer) {
    TlsTestServer server(localhost_certificate(),
                         [](const HttpRequest& request) { return HttpReply{.body = request.body}; });
    HttpClient client(localhost_certificate().cert_file, 5s);
    std::vector<std::thread> threads;
    std::atomic<int> matched{0};
    for (int i = 0; i < 6; ++i) {
        threads.emplace_back([&, i] {
            for (int k = 0; k < 4; ++k) {
                const std::string body = std::to_string(i * 100 + k);
                if (client.post(server.url(), {}, pp::Secret(body), soon()).body.view() == body) ++matched;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(matched, 24);
    EXPECT_LE(server.connections(), 6);
}

// A burst of requests in flight at once leaves its connections for the next burst: the second burst of as
// many opens none. (Before session 15 only 8 were kept: this burst opened 16 more.)
TEST(HttpClient, AsManyConnectionsAreKeptAsRequestsWereInFlight) {
    constexpr int kBurst = 24;
    std::mutex m;
    std::condition_variable cv;
    int arrived = 0;
    // Each answer waits until the whole burst has arrived (at most 10 s), so the burst's requests are in
    // flight at once, each on a connection of its own.
    TlsTestServer server(localhost_certificate(), [&](const HttpRequest&) {
        std::unique_lock lock(m);
        const int burst_end = (arrived / kBurst + 1) * kBurst;
        ++arrived;
        cv.notify_all();
        cv.wait_for(lock, 10s, [&] { return arrived >= burst_end; });
        return HttpReply{.body = "{}"};
    });
    HttpClient client(localhost_certificate().cert_file, 20s);
    for (int burst = 0; burst < 2; ++burst) {
        std::vector<std::thread> threads;
        std::atomic<int> answered{0};
        for (int i = 0; i < kBurst; ++i)
            threads.emplace_back([&] {
                if (client.post(server.url(), {}, pp::Secret("{}"sv), soon() + 10s).status == 200) ++answered;
            });
        for (auto& t : threads) t.join();
        EXPECT_EQ(answered, kBurst) << "burst " << burst;
    }
    EXPECT_EQ(server.requests().size(), 2u * kBurst);
    EXPECT_EQ(server.connections(), kBurst);
}

// A kept connection idle past max_idle_age is closed by close_idle_connections (the worker calls it each
// minute); one idle for less is kept.
TEST(HttpClient, IdleConnectionsPastTheirAgeAreClosed) {
    TlsTestServer server(localhost_certificate(), [](const HttpRequest&) { return HttpReply{.body = "{}"}; });
    HttpClient client(localhost_certificate().cert_file, 5s);
    client.post(server.url(), {}, pp::Secret("{}"sv), soon());
    client.close_idle_connections(std::chrono::steady_clock::now() + HttpClient::max_idle_age / 2);
    client.post(server.url(), {}, pp::Secret("{}"sv), soon());
    EXPECT_EQ(server.connections(), 1);
    client.close_idle_connections(std::chrono::steady_clock::now() + HttpClient::max_idle_age + 1s);
    client.post(server.url(), {}, pp::Secret("{}"sv), soon());
    EXPECT_EQ(server.connections(), 2);
    EXPECT_EQ(server.requests().size(), 3u);
}

}  // namespace
}  // namespace pp::cognito
