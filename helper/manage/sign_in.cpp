// The session's one call into management, and the login side's sign-in as management's proof of presence
// (ManagementSignIn, management.hpp): the login's own proof (Session::prove), its ending returned as it is;
// only the user pool's failure, which the login keeps as an exception for its break-glass, is made a value
// here.
#include <optional>

#include "manage/management.hpp"
#include "service_error.hpp"
#include "session.hpp"

namespace pp::helper {

class Session::SignInForManagement final : public ManagementSignIn {
  public:
    explicit SignInForManagement(Session& session) : s_(session) {}

    std::variant<Presence, Verdict> sign_in(const std::vector<Method>& methods,
                                            bool keep_access_token) override {
        s_.want_access_token_ = keep_access_token;
        std::optional<Proof> proof;
        try {
            proof.emplace(s_.prove(methods));
        } catch (const cognito::ServiceError& e) {
            return service_failure(e);
        }
        if (const Verdict* ending = ending_of(*proof)) return *ending;
        Presence presence;
        presence.proven = true;  // prove() returned a Verified: only verification makes one
        if (s_.access_token_) presence.access_token = std::move(*s_.access_token_);
        s_.access_token_.reset();
        return presence;
    }

    void forget_factors() override {
        if (!s_.known_.empty()) s_.forget_factors(s_.known_.front());
    }

  private:
    Session& s_;
};

Verdict Session::manage(const protocol::Manage& request) {
    SignInForManagement sign_in(*this);
    return Management(ctx_, conn_, rec_, sign_in).run(request);
}

}  // namespace pp::helper
