// What shaping one decoy walk costs as the real users grow: shape_decoy (helper/decoy.hpp) for 300 names
// against identity maps of 10, 1000 and 10000 users (a tenth of them with security keys), taking turns, the
// median per walk of each and their ratios to the 10-user map. A decoy walk whose time grows with the users
// tells a made-up login from a real one, whose time does not.
//
//   cmake --build build --target decoy_shape_bench && ./build/tests/unit/helper/decoy_shape_bench
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "decoy.hpp"

int main() {
    using pp::helper::IdentityMap;
    using pp::helper::Method;
    const std::string key(32, 'k');
    const std::vector<Method> methods{Method::EmailOtp, Method::SmsOtp, Method::SecurityKey};
    const std::vector<int> sizes{10, 1000, 10000};
    std::vector<IdentityMap> maps;
    std::vector<std::vector<std::string>> key_users(sizes.size());
    for (std::size_t s = 0; s < sizes.size(); ++s) {
        std::string text;
        for (int i = 0; i < sizes[s]; ++i) {
            const std::string u = "user" + std::to_string(i);
            text += u + " " + u + "@example.org\n";
            if (i % 10 == 0) key_users[s].push_back(u);
        }
        std::sort(key_users[s].begin(), key_users[s].end());
        maps.push_back(IdentityMap::parse(text, "bench"));
    }
    constexpr int kNames = 300, kRounds = 5;
    std::vector<std::vector<double>> per_walk_us(sizes.size());
    for (int round = 0; round < kRounds; ++round)
        for (std::size_t s = 0; s < sizes.size(); ++s) {
            // The first walk of a configuration may build what later ones reuse: not counted.
            (void)pp::helper::shape_decoy(key, "warm-up", methods, maps[s], key_users[s], false);
            for (int n = 0; n < kNames; ++n) {
                const std::string name = "nobody" + std::to_string(round * kNames + n);
                const auto start = std::chrono::steady_clock::now();
                const auto walk = pp::helper::shape_decoy(key, name, methods, maps[s], key_users[s], false);
                const auto took = std::chrono::steady_clock::now() - start;
                if (walk.offered.empty()) return 1;
                per_walk_us[s].push_back(std::chrono::duration<double, std::micro>(took).count());
            }
        }
    std::printf("%-12s %8s %12s %10s\n", "real users", "walks", "median us", "vs 10");
    std::vector<double> medians;
    for (std::size_t s = 0; s < sizes.size(); ++s) {
        auto& v = per_walk_us[s];
        std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
        medians.push_back(v[v.size() / 2]);
        std::printf("%-12d %8zu %12.2f %9.2fx\n", sizes[s], v.size(), medians[s], medians[s] / medians[0]);
    }
    return 0;
}
