// What shaping one decoy walk costs as the real users grow: the list of key holders read from a real
// credential store directory and shape_decoy (helper/decoy.hpp), for 300 names against identity maps of 10,
// 1000 and 10000 users (a tenth of them with security keys, each a file in the store), taking turns. Two
// ways side by side: the listing read at every walk (CredentialStore::users(), as until session 20) and
// the one the helper uses (CredentialStore::holders(): kept while the directory is unchanged). Prints the
// median per walk of each and their ratios to the 10-user map. A decoy walk whose time grows with the users
// tells a made-up login from a real one, whose time does not.
//
//   cmake --build build --target decoy_shape_bench
//   cd build && ./tests/unit/helper/decoy_shape_bench      # writes its stores under ./decoy-shape-bench
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "credential_store.hpp"
#include "decoy.hpp"

namespace {

double median(std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main() {
    namespace fs = std::filesystem;
    using pp::helper::CredentialStore;
    using pp::helper::IdentityMap;
    using pp::helper::Method;
    const std::string key(32, 'k');
    const std::vector<Method> methods{Method::EmailOtp, Method::SmsOtp, Method::SecurityKey};
    const std::vector<int> sizes{10, 1000, 10000};
    const fs::path root = fs::absolute("decoy-shape-bench");
    fs::remove_all(root);
    std::vector<IdentityMap> maps;
    std::vector<CredentialStore> stores;
    for (const int size : sizes) {
        const fs::path dir = root / std::to_string(size);
        fs::create_directories(dir);
        std::string text;
        for (int i = 0; i < size; ++i) {
            const std::string u = "user" + std::to_string(i);
            text += u + " " + u + "@example.org\n";
            if (i % 10 == 0) std::ofstream(dir / u) << "\n";
        }
        maps.push_back(IdentityMap::parse(text, "bench"));
        stores.emplace_back(dir.string());
    }
    // As stores nobody has enrolled in for a while: a listing is kept only once a second has passed since the
    // directory last changed (CredentialStore::holders()). Waits, polling the clock, until then.
    timespec last{};
    for (const int size : sizes) {
        struct stat st {};
        if (stat((root / std::to_string(size)).c_str(), &st) != 0) return 1;
        for (const timespec& t : {st.st_mtim, st.st_ctim})
            if (t.tv_sec > last.tv_sec || (t.tv_sec == last.tv_sec && t.tv_nsec > last.tv_nsec)) last = t;
    }
    for (timespec now{};; std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
        clock_gettime(CLOCK_REALTIME, &now);
        if (now.tv_sec > last.tv_sec + 1 || (now.tv_sec == last.tv_sec + 1 && now.tv_nsec > last.tv_nsec))
            break;
    }
    constexpr int kNames = 300, kRounds = 5;
    std::vector<std::vector<double>> listed(sizes.size()), kept(sizes.size());
    const auto us = [](auto took) { return std::chrono::duration<double, std::micro>(took).count(); };
    for (int round = 0; round < kRounds; ++round)
        for (std::size_t s = 0; s < sizes.size(); ++s) {
            // The first walk of a configuration may build what later ones reuse: not counted.
            (void)pp::helper::shape_decoy_among(key, "warm-up", methods, maps[s], stores[s].holders(), false);
            for (int n = 0; n < kNames; ++n) {
                const std::string name = "nobody" + std::to_string(round * kNames + n);
                auto start = std::chrono::steady_clock::now();
                const auto a = pp::helper::shape_decoy(key, name, methods, maps[s], stores[s].users(), false);
                listed[s].push_back(us(std::chrono::steady_clock::now() - start));
                start = std::chrono::steady_clock::now();
                const auto b =
                    pp::helper::shape_decoy_among(key, name, methods, maps[s], stores[s].holders(), false);
                kept[s].push_back(us(std::chrono::steady_clock::now() - start));
                if (a.offered.empty() || a.offered != b.offered || a.key_model != b.key_model) return 1;
            }
        }
    std::printf("%-12s %8s | %-26s | %-26s | %s\n", "real users", "walks", "listed every walk: median",
                "kept listing: median", "kept / listed");
    const double listed0 = median(listed[0]), kept0 = median(kept[0]);
    for (std::size_t s = 0; s < sizes.size(); ++s) {
        const double l = median(listed[s]), k = median(kept[s]);
        std::printf("%-12d %8zu | %9.2f us %6.2fx vs 10 | %9.2f us %6.2fx vs 10 | %6.3fx\n", sizes[s],
                    listed[s].size(), l, l / listed0, k, k / kept0, k / l);
    }
    fs::remove_all(root);
    return 0;
}
