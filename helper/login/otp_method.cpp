// A code by email or text message, sent by the user pool and answered here.
#include <algorithm>
#include <cctype>
#include <functional>

#include "audit.hpp"
#include "factor_memory.hpp"
#include "login/binding.hpp"
#include "login/login.hpp"
#include "login/method_object.hpp"
#include "login/pool_session_memory.hpp"
#include "login_steps.hpp"
#include "pool_latency.hpp"
#include "user_context.hpp"

namespace pp::helper {

using cognito::Failure;
using cognito::ServiceError;
using wire::Outcome;

bool valid_code(std::string_view code) {
    return code.size() >= 4 && code.size() <= 12 &&
           std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Verdict too_many_wrong_codes(std::string reason) {
    return {Outcome::MaxTries, kTooManyWrong, std::move(reason)};
}

namespace {

// After wrong codes the pool may end the session itself (its own attempt limit): it then refuses the next
// answer with NotAuthorizedException. For the person that is the same ending as the helper's own limit; an
// expired session or a refused secret hash keeps its own meaning.
bool pool_ended_after_wrong_codes(const ServiceError& e, bool after_wrong) {
    if (!after_wrong || e.failure() != Failure::Rejected || e.name() != "NotAuthorizedException")
        return false;
    std::string lower = e.message();
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower.find("expired") == std::string::npos && lower.find("secret") == std::string::npos;
}

// The one code loop, for a real code and the unknown walk alike: asks for a code naming `where` until `judge`
// ends it (a Proof) or max_tries codes were refused (nullopt from judge). walk_reason: the unknown walk's
// audit reason ("" for a real code).
using CodeJudge = std::function<std::optional<Proof>(Secret code, int attempt, bool wrong)>;
Proof code_loop(MethodContext& login, const std::string& where, const CodeJudge& judge,
                const std::string& walk_reason = {}) {
    const std::string also = walk_reason.empty() ? std::string() : " (" + walk_reason + ")";
    bool wrong = false;
    for (int attempt = 1;; ++attempt) {
        Secret code = login.person().ask(code_prompt(where, wrong), false);
        if (code.empty()) return Verdict{Outcome::Abort, kCancelled, "no code given" + also};
        if (auto end = login.proof_tried()) return std::move(*end);
        if (auto proof = judge(std::move(code), attempt, wrong)) return std::move(*proof);
        if (attempt >= login.config().max_tries)
            return too_many_wrong_codes(
                walk_reason.empty() ? "wrong code " + std::to_string(attempt) + " times" : walk_reason);
        wrong = true;
    }
}

// The code the user pool sent, answered: each one that could be a code goes to the pool.
Proof otp_code_loop(MethodContext& login, const Identifier& ident, cognito::Step step, std::string username,
                    Method method) {
    auto& client = login.pool();
    if (auto pool_name = announced_user(step.parameters); !pool_name.empty()) username = std::move(pool_name);
    std::string dest;
    if (const auto it = step.parameters.find("CODE_DELIVERY_DESTINATION");
        it != step.parameters.end() && printable_bounded(it->second, 64))
        dest = it->second;
    if (dest.empty()) dest = login.destination_for(method);
    const std::string code_key = method == Method::EmailOtp ? "EMAIL_OTP_CODE" : "SMS_OTP_CODE";
    const std::string where =
        dest.empty() ? std::string(method == Method::EmailOtp ? "your email" : "your phone") : dest;
    login.trace("method " + std::string(method_name(method)) + ": the user pool sent a code to " + where);

    // What the pool's answers tell of its sessions, for the decoy's made-up one (pool_session_memory.hpp):
    // the age of the session each code was sent on, and how many wrong codes it took.
    const auto& cfg = login.config();
    auto& sessions = pool_session_memory(cfg.limits_state_file);
    const PoolSessionMemory::Pool pool{cfg.pool_id, cfg.client_id};
    const auto configured = std::chrono::duration_cast<PoolSessionMemory::Age>(cfg.session_validity);
    const auto made = step.received;
    int pool_wrong = 0;
    return code_loop(login, where, [&](Secret code, int attempt, bool wrong) -> std::optional<Proof> {
        const auto answered_at = std::chrono::steady_clock::now();
        const auto age = std::chrono::duration_cast<PoolSessionMemory::Age>(answered_at - made);
        const bool timed_session = made != std::chrono::steady_clock::time_point{};
        if (!valid_code(code.view())) {
            // Control characters wait as the decoy's walk waits for them (walk_unknown below), and meet an
            // outage as often: what a client sends as a code (sshd's stand-in, after a code the pool sent
            // unasked) must not tell an enrolled account from one without an identity.
            if (has_control_characters(code.view()))
                LatencyWalk(&client, kAnswersReplaced).pause(PoolStep::Answer, answered_at);
            return std::nullopt;
        }
        std::vector<std::pair<std::string, Secret>> answer;
        answer.emplace_back(code_key, std::move(code));
        try {
            const Secret session = step.session;
            const auto next = timed(PoolStep::Answer, [&] {
                return client.respond(step.challenge, session, username, answer, login.person().deadline(),
                                      user_context_for(login.facts().rhost));
            });
            if (timed_session) sessions.taken(pool, age, configured);
            if (!next.id_token)
                return Proof(Verdict{
                    Outcome::AuthErr, kSignInFailed,
                    "the user pool asked for a further step ('" + loggable(next.challenge, 40) + "')"});
            if (next.access_token) login.offer_access_token(*next.access_token);
            return verify_and_bind(login, *next.id_token, ident, method);
        } catch (const ServiceError& e) {
            if (timed_session && session_expired_error(e)) sessions.expired(pool, age, configured);
            if (e.failure() == Failure::Rejected && e.name() == "CodeMismatchException") {
                ++pool_wrong;
                if (timed_session) sessions.taken(pool, age, configured);
            }
            if (pool_ended_after_wrong_codes(e, wrong)) {
                sessions.ended_after(pool, pool_wrong);
                return Proof(too_many_wrong_codes(
                    "wrong code " + std::to_string(attempt - 1) +
                    " times; the user pool then ended the session: " + loggable(e.message(), 120)));
            }
            if (e.failure() != Failure::Rejected || e.name() != "CodeMismatchException") throw;
        }
        return std::nullopt;
    });
}

}  // namespace

// A code by email or text message: one class per Method value below, as the registry names classes.
class CodeMethod : public LoginMethod {
  public:
    explicit CodeMethod(Method m) : method_(m) {}

    std::optional<Proof> prove(MethodContext& login, MethodStart start) const override {
        return otp_code_loop(login, start.ident.value(), std::move(start.step), std::move(start.username),
                             method_);
    }

    // The prompts of a real code, every code refused. A real login sends each code that could be one to the
    // pool and waits; the walk waits as long for sshd's control characters too: they stand for what a person
    // typed at a name that is no account. Its made-up session ends as the pool's would, at the code that
    // would reach the pool past its wrong-code limit or past its validity (pool_session_memory.hpp), with
    // the same ending; what a real login never sends (control characters, what is no code) meets neither.
    std::optional<Proof> walk_unknown(MethodContext& login, const UnknownWalk& walk) const override {
        int sent = 0;
        return code_loop(
            login, walk.code_destination,
            [&](Secret code, int, bool) -> std::optional<Proof> {
                const auto answered_at = std::chrono::steady_clock::now();
                if (valid_code(code.view())) {
                    walk.pool.pause(PoolStep::Answer, answered_at);
                    if (walk.session.wrong_codes > 0 && sent >= walk.session.wrong_codes)
                        return Proof(too_many_wrong_codes(walk.reason));
                    if (walk.session.expired_at(answered_at))
                        return Proof(session_expired_ending(walk.reason));
                    ++sent;
                } else if (has_control_characters(code.view())) {
                    walk.pool.pause(PoolStep::Answer, answered_at);
                }
                return std::nullopt;
            },
            walk.reason);
    }

  private:
    Method method_;
};

class EmailCodeMethod final : public CodeMethod {
  public:
    EmailCodeMethod() : CodeMethod(Method::EmailOtp) {}
};

class SmsCodeMethod final : public CodeMethod {
  public:
    SmsCodeMethod() : CodeMethod(Method::SmsOtp) {}
};

template const LoginMethod& method_object<EmailCodeMethod>();
template const LoginMethod& method_object<SmsCodeMethod>();

}  // namespace pp::helper
