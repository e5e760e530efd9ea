#include "enrol_policy.hpp"

#include <algorithm>

namespace pp::helper {
namespace {

// The weakest method of a list that accepts `added`; 0 when the list does not accept it.
int weakest_if_accepts(const std::vector<Method>& ms, Method added) {
    if (std::find(ms.begin(), ms.end(), added) == ms.end()) return 0;
    int weakest = method_strength(added);
    for (auto m : ms) weakest = std::min(weakest, method_strength(m));
    return weakest;
}

template <typename F>
void for_each_list(const Config& c, F&& f) {
    f(std::string(), c.methods.local);
    f(std::string(), c.methods.remote);
    for (const auto& [name, pol] : c.services) {
        f(name, pol.local);
        f(name, pol.remote);
    }
}

}  // namespace

int method_strength(Method m) {
    switch (m) {
        case Method::SecurityKey:
            return 3;
        case Method::Passkey:
            return 2;
        case Method::EmailOtp:
        case Method::SmsOtp:
        case Method::Browser:  // the managed login may take an email or SMS code
            return 1;
    }
    return 0;
}

int strength_to_add(const Config& c, Method added) {
    int needed = 0;
    for_each_list(c, [&](const std::string&, const std::vector<Method>& ms) {
        needed = std::max(needed, weakest_if_accepts(ms, added));
    });
    return needed;
}

std::string strictest_service_for(const Config& c, Method added) {
    int needed = 0;
    std::string service;
    for_each_list(c, [&](const std::string& name, const std::vector<Method>& ms) {
        if (const int w = weakest_if_accepts(ms, added); w > needed) {
            needed = w;
            service = name;
        }
    });
    return service;
}

std::vector<Method> methods_to_add(const Config& c, Method added) {
    const int needed = strength_to_add(c, added);
    std::vector<Method> out;
    for (auto m : c.methods_for(kManageService, false))
        if (method_strength(m) >= needed) out.push_back(m);
    return out;
}

}  // namespace pp::helper
