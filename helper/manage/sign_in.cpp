// The session's one call into management, and the login side's sign-in as management's proof of presence
// (ManagementSignIn, management.hpp): the login's own proof (Login::prove), its ending returned as it is;
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
        // The request's own record names who is signed in; the login's method goes into it at the end. It
        // checks the user's backoff and is armed as a login is (its try reserved at its first code sent or
        // key asked, in prove): failed sign-ins here count as a login's do (Session settles them), and so
        // they wait as a login's do.
        if (!s_.login_) {
            s_.login_.emplace(s_.ctx_, s_.conn_,
                              LoginFacts{s_.rec_.user, s_.rec_.service, s_.rec_.rhost, s_.rec_.tty, {}},
                              false);
            if (auto end = s_.login_->check_backoff()) return *end;
        }
        Login& login = *s_.login_;
        login.keep_access_token(keep_access_token);
        std::optional<Proof> proof;
        try {
            proof.emplace(login.prove(methods));
        } catch (const cognito::ServiceError& e) {
            return service_failure(e);
        }
        if (const Verdict* ending = ending_of(*proof)) return *ending;
        // prove() returned a Verified: only verification makes one.
        return Presence{login.take_access_token()};
    }

    void forget_factors() override {
        if (s_.login_) s_.login_->forget_known_factors();
    }

  private:
    Session& s_;
};

Verdict Session::manage(const protocol::Manage& request) {
    SignInForManagement sign_in(*this);
    return Management(ctx_, conn_, rec_, sign_in).run(request);
}

}  // namespace pp::helper
