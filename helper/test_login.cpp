// Root's `pam-passwordless test-login USER [--service S] [--rhost ADDR]`: a real login, served like any other
// (the same policy, limits, audit line and status count), whose steps the helper also tells the admin running
// it. A step says what the configuration, the audit line and the person's screens already hold between them,
// all of which root may read: no code, session or token ever goes into one.
#include <unistd.h>

#include "channel.hpp"
#include "remote_host.hpp"
#include "session.hpp"

namespace pp::helper {
namespace {

std::string joined(const std::vector<Method>& methods) {
    std::string out;
    for (const Method m : methods) out += (out.empty() ? "" : " ") + std::string(method_name(m));
    return out.empty() ? "(none)" : out;
}

}  // namespace

MaybeEnd Session::begin_test_login(const protocol::Begin& begin) {
    if (!begin.test_login) return std::nullopt;
    // Its steps name the policy and the identity behind an account, which the decoy hides from everyone
    // else; and it sends a real code to anyone. Refused like any caller that may not ask, before login work.
    if (ctx_.peer.uid != 0)
        return Verdict{wire::Outcome::AuthErr, kTestLoginRootOnly,
                       "test-login asked by a caller that is not root", true};
    test_login_ = true;
    wire::send_message(ctx_.fd,
                       protocol::Trace{"the helper (pid " + std::to_string(::getpid()) +
                                       ") serves this test login as a real one (login id " + rec_.login_id +
                                       "): it sends real codes and counts in the limits and the status"}
                           .encode());
    return std::nullopt;
}

void Login::trace(const std::string& step) const {
    if (!test_login_) return;
    wire::send_message(ctx_.fd, protocol::Trace{step}.encode());
}

void Login::trace_policy(const std::vector<Method>& methods) const {
    if (!test_login_) return;
    const bool remote = is_remote_login(facts_.rhost, cfg());
    const std::string section = cfg().section_for(facts_.service);
    trace("policy: service '" + facts_.service + "' " +
          (section == facts_.service ? "has [service " + facts_.service + "]"
           : section.empty()         ? "has no [service " + facts_.service + "] section, so [login] applies"
                             : "has no [service " + facts_.service + "] section; [service " + section +
                                   "] holds for it (config/methods.cpp, service_family)") +
          "; " +
          (remote ? "remote login from " + facts_.rhost + ": remote_methods" : "local login: methods") +
          " = " + joined(methods) + "; users without an identity: " +
          (unknown_user_ == UnknownUser::Ignore ? "ignore (PAM_IGNORE)" : "fail (the decoy)"));
}

void Login::trace_bound(const Identifier& ident, std::string_view sub) const {
    if (!test_login_) return;
    trace("the user pool accepted the answer; ID token verified; identity bound: " +
          std::string(kind_name(ident.kind)) + " identity sub=" + loggable(sub, 64) + " belongs to " +
          facts_.user + (known_.empty() ? " by the token's claim " + cfg().claim : " by the identity map") +
          (!known_.empty() && !cfg().claim.empty() ? " and the claim " + cfg().claim : ""));
}

}  // namespace pp::helper
