// A user's file in the local credential store (helper/credential_store.cpp), as load() reads it.
#include <set>
#include <string>

#include "credential_store.hpp"
#include "fuzz_support.hpp"

using namespace pp::helper;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto loaded = parse_credential_records(pp::fuzz::text(data, size), "alice", "/store/alice");
    // Whatever is read back must be something add() would have written.
    std::set<std::string> ids;
    for (const StoredCredential& c : loaded.credentials) {
        PP_FUZZ_CHECK(c.user == "alice");
        PP_FUZZ_CHECK(!c.cred_id.empty() && c.cred_id.size() <= kMaxCredentialIdBytes);
        PP_FUZZ_CHECK(c.public_key.size() == public_key_size(c.alg));
        PP_FUZZ_CHECK(pp::RpId::valid(c.rp_id.str()));
        PP_FUZZ_CHECK(valid_nickname(c.nickname));
        PP_FUZZ_CHECK(c.created >= 0 && c.last_used >= 0);
        PP_FUZZ_CHECK(ids.insert(c.cred_id).second);
    }
    for (const std::string& problem : loaded.problems) PP_FUZZ_CHECK(problem.starts_with("/store/alice:"));
    return 0;
}
