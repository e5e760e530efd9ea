#include "session.hpp"

#include <algorithm>
#include <optional>

#include "account_policy.hpp"
#include "channel.hpp"
#include "control.hpp"
#include "crypto.hpp"
#include "enrol_policy.hpp"
#include "hex.hpp"
#include "local_runner.hpp"
#include "login_log.hpp"
#include "pool_types.hpp"
#include "pool_warm_up.hpp"
#include "remote_host.hpp"

namespace pp::helper {
namespace {

using wire::Outcome;

std::string random_hex(std::size_t bytes) {
    return hex_encode(random_bytes(bytes));
}

}  // namespace

Session::Session(const LoginContext& ctx) : ctx_(ctx), conn_(ctx.fd, ctx.runtime) {
    rec_.login_id = random_hex(8);
    rec_.caller_uid = ctx.peer.uid;
    summary_source_ = Admission::log_source(ctx.peer.uid, false, "");
}

Session::~Session() = default;

Verdict Session::serve(const wire::Message& first) {
    // Decoded once, before admission: a request that is malformed takes no slot and reaches no check.
    std::optional<protocol::Begin> begin;
    std::optional<protocol::Manage> request;
    if (first.type() == wire::Type::Begin) {
        try {
            begin = protocol::Begin::decode(first);
        } catch (const protocol::MalformedMessage& e) {
            return Verdict{Outcome::AuthinfoUnavail, kSignInFailed, "protocol: malformed " + e.detail()};
        }
    } else if (first.type() == wire::Type::Manage) {
        rec_.method = "manage";
        rec_.service = kManageService;
        try {
            request = protocol::Manage::decode(first);
        } catch (const protocol::MalformedMessage&) {
            // The op is the only field a Manage can get wrong: a missing or unknown one.
            return Verdict{Outcome::AuthErr, kUnknownRequest, "unknown management operation"};
        }
    }
    began_ = begin || request;
    // Who runs the login (local_runner.hpp): what its fair share and its budget are keyed on. Only a root
    // caller's Begin is believed, so only then is its real uid looked up.
    if (begin && ctx_.peer.uid == 0) runner_ = local_runner(begin->real_uid, begin->ruser);
    if (auto end = begin ? admit(begin->rhost, runner_, begin->user) : admit({}, {}, {})) return *end;
    if (begin) {
        rec_.ruser = begin->ruser;
        if (ctx_.peer.uid == 0) rec_.real_uid = begin->real_uid;
        // The module's lines about this login carry the same id as the helper's.
        wire::send_message(ctx_.fd, protocol::Started{rec_.login_id}.encode());
        debug_line("begin: service \"%s\", %s", loggable(begin->service, 128).c_str(),
                   begin->rhost.empty() ? "no remote host" : "remote host set");
        counted_ = true;
        if (auto end = begin_test_login(*begin)) return *end;
        return login(*begin);
    }
    if (!request)
        return Verdict{Outcome::AuthinfoUnavail, kSignInFailed, "protocol: expected begin or manage"};
    return manage(*request);
}

void Session::run() noexcept {
    Verdict f{Outcome::AuthErr, kSignInFailed, "internal error"};
    bool client_gone = false;
    // Set once the request is known to be a login or a management request: root's status and reload are
    // neither, and their lines carry no id.
    std::optional<LoginLogScope> log_scope;
    try {
        const wire::Message first = wire::receive_message(ctx_.fd, std::chrono::seconds(10));
        // Root's status and reload requests are no login: no admission, no audit line, no count.
        if (first.type() == wire::Type::Control) {
            // Refused (serve_control answers why), and logged as refusals are: summarised per caller.
            if (ctx_.peer.uid != 0)
                ctx_.admission->refusals().refused(
                    summary_source_, "status or reload asked by a caller that is not root",
                    admission_limits(ctx_.runtime ? &cfg() : nullptr).log_interval);
            serve_control(ctx_.fd, ctx_.peer, *ctx_.state, first, ctx_.started_helper);
            return;
        }
        log_scope.emplace(rec_.login_id);
        f = serve(first);
    } catch (const ConnectionEnded& e) {
        f = e.verdict();
    } catch (const wire::ChannelError& e) {
        client_gone = true;
        f = {e.kind() == wire::ChannelError::Kind::Timeout ? Outcome::AuthErr : Outcome::ConvErr, "",
             std::string("client connection: ") + e.what()};
    } catch (const cognito::ServiceError& e) {
        f = service_failure(e);
    } catch (const AccountLookupError& e) {
        f = {Outcome::AuthinfoUnavail, kLookupUnavailable, e.what()};
    } catch (const std::exception& e) {
        f = {Outcome::AuthErr, kSignInFailed, std::string("internal error: ") + e.what()};
    } catch (...) {
    }
    // Success is a Verdict only a Verified makes (verdict.hpp): no run-time guard is needed here.
    if (login_) {
        // Before the Result, as the limits: the person's next login, begun the moment this one returns,
        // finds it.
        if (f.granted()) login_->remember_learned_factors();
        login_->settle_limits(f.outcome());
    }
    complete_record(f);
    // A request that never began (closed, timed out or garbled before its first message was read, or a first
    // message that is no well-formed Begin or Manage) is no login: any local user may make one per
    // connection, as fast as it can connect, so it is summarised per caller as refusals are, not written as
    // an audit line each. Root's too: sshd's PAM process dies when its client hangs up or LoginGraceTime
    // passes, which a remote client can time to fall between the module's connect and its Begin. A request
    // that began ends with its own audit line, whatever its reason.
    const bool summarised = f.summarised() || !began_;
    // Logged before the client hears the verdict, so the line exists by the time the login returns.
    const auto interval = admission_limits(ctx_.runtime ? &cfg() : nullptr).log_interval;
    if (summarised && f.outcome() == Outcome::Success)
        ctx_.admission->refusals().repeated(summary_source_, f.audit_reason(), interval);
    else if (summarised)
        ctx_.admission->refusals().refused(summary_source_, f.audit_reason(), interval);
    else
        audit(rec_);
    if (counted_) ctx_.state->count(f.outcome());
    if (counted_ && !summarised) ctx_.state->record_login(rec_, test_login_);
    if (client_gone) return;
    try {
        protocol::Result result{f.outcome(), f.person_text(), std::nullopt, std::nullopt};
        if (f.granted()) result.user = rec_.user;
        if (test_login_) result.audit_line = audit_line(rec_);
        wire::send_message(ctx_.fd, result.encode());
    } catch (const std::exception&) {
        // The client went away; it returns an error of its own and nothing is granted.
    }
}

// Only once the first message is read does the helper know a local login from a remote one; refusing after
// reading it also lets the Result reach the person (a connection closed with its request unread is reset,
// and the client would see only "unavailable").
MaybeEnd Session::admit(const std::string& rhost, const std::string& runner, const std::string& user) {
    // The one place where admission tells the two apart, by the same rule as the methods (remote_host.hpp);
    // without a configuration any remote host counts as remote.
    const bool remote = ctx_.runtime ? is_remote_login(rhost, cfg()) : !rhost.empty();
    admission_ = ctx_.admission->admit(ctx_.peer.uid, remote, rhost,
                                       admission_limits(ctx_.runtime ? &cfg() : nullptr), runner, user);
    summary_source_ = Admission::log_source(ctx_.peer.uid, remote, rhost, runner, user);
    if (!admission_.admitted())
        return Verdict{Outcome::AuthinfoUnavail, remote ? kBusyRemote : kBusy,
                       remote ? "remote logins in flight at the limit for this network"
                       : ctx_.peer.uid != 0 || Admission::local_share(rhost, runner, user).empty()
                           ? "logins in flight at the limit"
                           : "local logins in flight at the limit for the person they run for",
                       true};
    return std::nullopt;
}

Verdict Session::login(const protocol::Begin& begin) {
    login_.emplace(ctx_, conn_, Login::facts_of(begin, runner_, test_login_), test_login_);
    return login_->run(begin);
}

void Session::complete_record(const Verdict& ending) {
    if (login_) {
        // A management request names its own user and service; its sign-in only the method. (A login is
        // counted; the sign-in of a management request is not.)
        if (counted_) {
            const LoginFacts& facts = login_->facts();
            rec_.user = facts.user;
            rec_.service = facts.service;
            rec_.rhost = facts.rhost;
            rec_.tty = facts.tty;
        }
        if (!login_->method().empty()) rec_.method = login_->method();
    }
    rec_.outcome = ending.outcome();
    rec_.reason = ending.audit_reason();
}

void run_connection(const LoginContext& ctx) noexcept {
    try {
        Session(ctx).run();
    } catch (...) {
        // Only the login id's randomness can fail here; without it nothing is safe to do but drop the
        // connection.
    }
}

}  // namespace pp::helper
