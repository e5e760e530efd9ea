// The cost of keeping secrets out of the helper's memory, side by side in one run:
//   free:     a login's allocation pattern with the helper's wiping free() against glibc's own free()
//   request:  an HTTPS POST on a kept-alive loopback connection, the helper's HttpClient (a libcurl handle
//   per
//             request, connections in a share, OpenSSL record buffers released) against one libcurl handle
//             reused with curl_easy_reset (the previous design), both with the wiping free().
// Rounds alternate between the two sides; each side's per-round times are compared as a ratio of medians,
// with a two-sided Mann-Whitney U test (normal approximation) on the rounds.
#include <curl/curl.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "tls_test_server.hpp"

extern "C" {
void* __libc_malloc(std::size_t size);
void __libc_free(void* block);
}

namespace {

using Clock = std::chrono::steady_clock;
using namespace pp::cognito;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Two-sided p-value of the Mann-Whitney U test, normal approximation with tie correction omitted (the
// samples are continuous timings).
double mann_whitney_p(const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<std::pair<double, int>> all;
    for (double x : a) all.push_back({x, 0});
    for (double x : b) all.push_back({x, 1});
    std::sort(all.begin(), all.end());
    double rank_a = 0;
    for (std::size_t i = 0; i < all.size(); ++i)
        if (all[i].second == 0) rank_a += static_cast<double>(i + 1);
    const double n1 = static_cast<double>(a.size()), n2 = static_cast<double>(b.size());
    const double u = rank_a - n1 * (n1 + 1) / 2;
    const double mean = n1 * n2 / 2, sd = std::sqrt(n1 * n2 * (n1 + n2 + 1) / 12);
    const double z = (u - mean) / sd;
    return std::erfc(std::fabs(z) / std::sqrt(2.0));
}

void report(const char* what, const char* unit, const char* new_name, const std::vector<double>& fresh,
            const char* old_name, const std::vector<double>& old) {
    const double m_new = median(fresh), m_old = median(old);
    std::printf("%-8s %-34s median %9.3f %s\n", what, new_name, m_new, unit);
    std::printf("%-8s %-34s median %9.3f %s\n", what, old_name, m_old, unit);
    std::printf("%-8s ratio %.3f (new/old), Mann-Whitney p = %.3g, %zu rounds each\n\n", what, m_new / m_old,
                mann_whitney_p(fresh, old), fresh.size());
}

// A login's allocations, roughly: many small strings and nodes, some KiB-sized buffers (JSON, records),
// a few 16 KiB ones (libcurl's receive buffer, TLS records). Freed in a shuffled order.
std::vector<std::size_t> login_sizes() {
    std::mt19937 random(7);
    std::vector<std::size_t> sizes;
    for (int i = 0; i < 2000; ++i) sizes.push_back(16 + random() % 112);
    for (int i = 0; i < 200; ++i) sizes.push_back(512 + random() % 3584);
    for (int i = 0; i < 8; ++i) sizes.push_back(16384 + 5);
    return sizes;
}

template <class Alloc, class Free>
double allocation_round_us(const std::vector<std::size_t>& sizes, Alloc alloc, Free release) {
    std::vector<void*> blocks(sizes.size());
    const auto start = Clock::now();
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        blocks[i] = alloc(sizes[i]);
        static_cast<volatile char*>(blocks[i])[0] = 1;  // touched, as a real user of the block would
    }
    for (std::size_t i = 0; i < blocks.size(); i += 2) release(blocks[i]);
    for (std::size_t i = 1; i < blocks.size(); i += 2) release(blocks[i]);
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

std::size_t discard(char*, std::size_t size, std::size_t count, void*) {
    return size * count;
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
    // The test server writes its certificate where GoogleTest keeps temporary files: here, not in /tmp.
    ::setenv("TEST_TMPDIR", ".", 0);
    const auto sizes = login_sizes();
    std::vector<double> wiped, plain;
    for (int r = 0; r < rounds; ++r) {
        wiped.push_back(allocation_round_us(sizes, ::malloc, ::free));
        plain.push_back(allocation_round_us(sizes, __libc_malloc, __libc_free));
    }
    report("free", "us per login pattern", "wiping free()", wiped, "glibc free()", plain);

    const auto certificate = test::make_certificate("IP:127.0.0.1");
    test::TlsTestServer server(certificate, [](const test::HttpRequest& request) {
        // An answer the size of a sign-in result: three tokens.
        return test::HttpReply{.body = std::string(3000, 'a') + request.body.substr(0, 1)};
    });
    const std::string body(400, 'b');
    HttpClient client(certificate.cert_file, std::chrono::seconds(10));
    CURL* reused = curl_easy_init();
    const int per_round = 10;
    const auto old_request = [&] {
        curl_easy_reset(reused);
        curl_easy_setopt(reused, CURLOPT_URL, server.url().c_str());
        curl_easy_setopt(reused, CURLOPT_CAINFO, certificate.cert_file.c_str());
        curl_easy_setopt(reused, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(reused, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(reused, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        curl_easy_setopt(reused, CURLOPT_WRITEFUNCTION, discard);
        if (curl_easy_perform(reused) != CURLE_OK) std::abort();
    };
    const auto new_request = [&] {
        (void)client.post(server.url(), {}, pp::Secret(body), Clock::now() + std::chrono::seconds(10));
    };
    old_request();  // both connections open before timing
    new_request();
    std::vector<double> fresh, old;
    for (int r = 0; r < rounds / 4; ++r) {
        auto start = Clock::now();
        for (int i = 0; i < per_round; ++i) new_request();
        fresh.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() / per_round);
        start = Clock::now();
        for (int i = 0; i < per_round; ++i) old_request();
        old.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() / per_round);
    }
    curl_easy_cleanup(reused);
    report("request", "us per request", "handle per request + share", fresh, "one handle, curl_easy_reset",
           old);
    std::printf("connections opened by the server: %d (one each: both sides kept theirs alive)\n",
                server.connections());
    return 0;
}
