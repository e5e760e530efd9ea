// A pam-u2f authfile as `pam-passwordless import` reads it (helper/pam_u2f_import.cpp).
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "identifiers.hpp"
#include "key_verification.hpp"
#include "pam_u2f_import.hpp"

using namespace pp::helper;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string rp_id = "pam://fuzzhost";
    std::vector<std::string> problems;
    const auto credentials =
        parse_pam_u2f_authfile(pp::fuzz::text(data, size), rp_id, 1'800'000'000, problems);
    std::set<std::string> ids;
    std::map<std::string, std::size_t> per_user;
    for (const StoredCredential& c : credentials) {
        PP_FUZZ_CHECK(valid_local_user(c.user));
        PP_FUZZ_CHECK(c.rp_id == rp_id);
        PP_FUZZ_CHECK(!c.cred_id.empty() && c.cred_id.size() <= kMaxCredentialIdBytes);
        PP_FUZZ_CHECK(valid_public_key(c.alg, c.public_key));
        PP_FUZZ_CHECK(valid_nickname(c.nickname));
        PP_FUZZ_CHECK(c.counter == 0 && c.created == 1'800'000'000);
        PP_FUZZ_CHECK(ids.insert(c.cred_id).second);
        PP_FUZZ_CHECK(++per_user[c.user] <= kPamU2fMaxDevices);
    }
    return 0;
}
