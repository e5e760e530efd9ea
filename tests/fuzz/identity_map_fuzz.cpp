// The root-owned map from local accounts to user-pool identities (helper/identity_map.cpp).
#include <sstream>
#include <stdexcept>
#include <string>

#include "fuzz_support.hpp"
#include "identity_map.hpp"

using namespace pp::helper;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(pp::fuzz::text(data, size));
    try {
        const IdentityMap map = IdentityMap::parse(text, "/etc/pam_passwordless/identities");
        // Look up every account the text names, and mask what is found as the prompts would.
        std::istringstream lines(text);
        std::string line;
        while (std::getline(lines, line)) {
            std::istringstream fields(line);
            std::string user;
            if (!(fields >> user)) continue;
            for (const Identifier& id : map.lookup(user)) {
                PP_FUZZ_CHECK(!id.value.empty());
                (void)mask(id);
                (void)kind_name(id.kind);
            }
        }
        PP_FUZZ_CHECK(map.lookup("no such user!").empty());
    } catch (const std::runtime_error&) {
        // A line it refuses: the documented way to fail.
    }
    return 0;
}
