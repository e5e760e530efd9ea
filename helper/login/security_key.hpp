// A local security key's proof: the assertion checked against the enrolled credentials and its signature
// counter stored before the person is let in (a clone replaying later is refused). The one place a key's
// answer becomes a Verified.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "credential_store.hpp"
#include "key_verification.hpp"
#include "verdict.hpp"

namespace pp::helper {

class KeyCounterCheck {
  public:
    // The proof, or the ending of an assertion refused (signature, counter, store). group: the credentials
    // the key was asked for; store_dir: where their counters are kept; reserved: their next counters, made
    // durable while the key was asked (CredentialStore::reserve_use), if that succeeded.
    static std::variant<Verified, Verdict> accept(const std::string& user, const std::string& store_dir,
                                                  const AssertionPolicy& policy, const AssertionInput& input,
                                                  const std::vector<StoredCredential>& group,
                                                  CredentialStore::UseReservation* reserved = nullptr);
};

}  // namespace pp::helper
