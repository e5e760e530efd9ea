// The session's one call into management, and the login side's sign-in as management's proof of presence
// (ManagementSignIn, management.hpp): the sign-in still ends by throwing, and its ending is made a value
// here.
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
        try {
            s_.authenticate(methods);
        } catch (const Finish& ending) {
            return ending;
        } catch (const cognito::ServiceError& e) {
            return service_failure(e);
        }
        Presence presence;
        presence.proven = s_.verified_.has_value();
        s_.verified_.reset();
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
