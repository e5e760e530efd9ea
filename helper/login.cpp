#include "login.hpp"

#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pwd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <optional>
#include <thread>

#include "channel.hpp"
#include "token_verifier.hpp"

namespace pp::helper {
namespace {

using cognito::Deadline;
using cognito::Failure;
using cognito::ServiceError;
using wire::Outcome;

constexpr const char* kSignInFailed = "Sign-in failed.";
constexpr const char* kTooManyWrong = "Sign-in failed: too many wrong codes.";
constexpr const char* kUnavailable = "The sign-in service cannot be reached; try again later.";
constexpr const char* kMisconfigured = "Passwordless sign-in is misconfigured; contact your administrator.";

// Ends the login from anywhere in the flow.
struct Finish {
    Outcome outcome;
    std::string text;    // for the person
    std::string reason;  // for the audit log
};

// How long the user pool takes to answer, so a login for an unknown user can take as long as a real one.
std::atomic<long> g_service_latency_ms{250};

void note_latency(std::chrono::steady_clock::duration d) {
    const long ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    const long old = g_service_latency_ms.load();
    g_service_latency_ms.store((old * 7 + ms) / 8);
}

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> b(bytes);
    if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) throw std::runtime_error("no randomness");
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (auto c : b) {
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
    return out;
}

// A key that lives as long as the process, so decoy destinations stay the same for one user between attempts
// without being predictable from outside.
const std::vector<unsigned char>& decoy_key() {
    static const std::vector<unsigned char> key = [] {
        std::vector<unsigned char> k(32);
        if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1) throw std::runtime_error("no randomness");
        return k;
    }();
    return key;
}

bool is_remote(const std::string& rhost) {
    return !rhost.empty() && rhost != "localhost" && rhost != "127.0.0.1" && rhost != "::1";
}

bool valid_code(std::string_view code) {
    return code.size() >= 4 && code.size() <= 12 &&
           std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool printable_bounded(std::string_view s, std::size_t max) {
    return s.size() <= max && std::all_of(s.begin(), s.end(), [](char c) {
               const auto u = static_cast<unsigned char>(c);
               return u >= 0x20 && u < 0x7f;
           });
}

Finish from_service_error(const ServiceError& e) {
    const std::string reason = "user pool: " + std::string(cognito::to_string(e.failure())) +
                               (e.name().empty() ? "" : " " + e.name()) + ": " + e.message();
    if (e.failure() != Failure::Rejected) return {Outcome::AuthinfoUnavail, kUnavailable, reason};
    const std::string& n = e.name();
    static const char* const unavailable[] = {"TooManyRequestsException",
                                              "LimitExceededException",
                                              "InternalErrorException",
                                              "ForbiddenException",
                                              "UnexpectedLambdaException",
                                              "InvalidLambdaResponseException",
                                              "UserLambdaValidationException",
                                              "InvalidSmsRoleAccessPolicyException",
                                              "InvalidSmsRoleTrustRelationshipException",
                                              "InvalidEmailRoleAccessPolicyException",
                                              "CodeDeliveryFailureException"};
    static const char* const misconfigured[] = {
        "ResourceNotFoundException", "InvalidUserPoolConfigurationException", "UnsupportedOperationException",
        "OperationNotEnabledException", "InvalidParameterException"};
    for (const char* u : unavailable)
        if (n == u) return {Outcome::AuthinfoUnavail, kUnavailable, reason};
    for (const char* m : misconfigured)
        if (n == m) return {Outcome::ServiceErr, kMisconfigured, reason};
    if (n == "NotAuthorizedException") {
        std::string lower = e.message();
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (lower.find("secret hash") != std::string::npos || lower.find("secret_hash") != std::string::npos)
            return {Outcome::ServiceErr, kMisconfigured, reason};
        if (lower.find("session") != std::string::npos)
            return {Outcome::AuthErr, "The sign-in session has expired; please start again.", reason};
    }
    if (n == "ExpiredCodeException")
        return {Outcome::AuthErr, "The code has expired; please start again.", reason};
    if (n == "UserNotFoundException") return {Outcome::UserUnknown, kSignInFailed, reason};
    return {Outcome::AuthErr, kSignInFailed, reason};
}

bool claims_match(const Identifier& id, const cognito::IdClaims& c) {
    switch (id.kind) {
        case IdentifierKind::Email: {
            if (!c.email || !c.email_verified) return false;
            const auto e = parse_email(*c.email);
            return e && e->value == id.value;
        }
        case IdentifierKind::Phone:
            return c.phone_number && c.phone_number_verified && *c.phone_number == id.value;
        case IdentifierKind::Username:
            return c.cognito_username && *c.cognito_username == id.value;
    }
    return false;
}

class Login {
  public:
    explicit Login(const LoginContext& ctx) : ctx_(ctx) {
        rec_.login_id = random_hex(8);
        rec_.caller_uid = ctx.peer.uid;
    }

    void run() noexcept {
        Finish f{Outcome::AuthErr, kSignInFailed, "internal error"};
        bool module_gone = false;
        try {
            flow();
        } catch (const Finish& done) {
            f = done;
        } catch (const wire::ChannelError& e) {
            module_gone = true;
            f = {e.kind() == wire::ChannelError::Kind::Timeout ? Outcome::AuthErr : Outcome::ConvErr, "",
                 std::string("module connection: ") + e.what()};
        } catch (const ServiceError& e) {
            f = from_service_error(e);
        } catch (const std::exception& e) {
            f = {Outcome::AuthErr, kSignInFailed, std::string("internal error: ") + e.what()};
        } catch (...) {
        }
        // No path but an explicit verification sets Success; anything else that ends here is a failure.
        if (f.outcome == Outcome::Success && !verified_)
            f = {Outcome::AuthErr, kSignInFailed, "success without proof"};
        rec_.outcome = f.outcome;
        rec_.reason = f.reason;
        // Logged before the module hears the verdict, so the line exists by the time the login returns.
        audit(rec_);
        if (!module_gone) {
            try {
                wire::Message result(wire::Type::Result);
                result.add(wire::Tag::Outcome, static_cast<std::uint32_t>(f.outcome))
                    .add(wire::Tag::Text, f.text);
                if (f.outcome == Outcome::Success) result.add(wire::Tag::User, rec_.user);
                wire::send_message(ctx_.fd, result);
            } catch (const std::exception&) {
                // The module went away; it returns an error of its own and nothing is granted.
            }
        }
    }

  private:
    const Config& cfg() const { return ctx_.runtime->config; }

    std::chrono::milliseconds time_left() const {
        const auto left = cognito::time_left(deadline_);
        if (left.count() == 0) throw Finish{Outcome::AuthErr, "Sign-in timed out.", "login timeout"};
        return left;
    }

    Secret ask(const std::string& text, bool echo) {
        wire::Message p(wire::Type::Prompt);
        p.add(wire::Tag::Style,
              static_cast<std::uint32_t>(echo ? wire::PromptStyle::EchoOn : wire::PromptStyle::EchoOff))
            .add(wire::Tag::Text, text);
        wire::send_message(ctx_.fd, p);
        wire::Message reply = receive();
        if (reply.type() == wire::Type::Cancel) cancelled(reply);
        if (reply.type() != wire::Type::Answer)
            throw Finish{Outcome::AuthinfoUnavail, kUnavailable, "protocol: expected an answer"};
        return Secret(reply.get_or(wire::Tag::Text, ""));
    }

    wire::Message receive() {
        try {
            return wire::receive_message(ctx_.fd, time_left());
        } catch (const wire::ChannelError& e) {
            if (e.kind() == wire::ChannelError::Kind::Timeout)
                throw Finish{Outcome::AuthErr, "Sign-in timed out.", "no answer before the login timeout"};
            throw;
        }
    }

    [[noreturn]] void cancelled(const wire::Message& m) {
        const auto why = static_cast<Outcome>(
            m.get_u32(wire::Tag::Outcome).value_or(static_cast<std::uint32_t>(Outcome::ConvErr)));
        if (why == Outcome::Abort) throw Finish{Outcome::Abort, "", "the person cancelled"};
        throw Finish{Outcome::ConvErr, "", "the conversation failed"};
    }

    template <typename F>
    auto timed(F&& call) {
        const auto start = std::chrono::steady_clock::now();
        auto r = call();
        note_latency(std::chrono::steady_clock::now() - start);
        return r;
    }

    void read_begin() {
        wire::Message b = wire::receive_message(ctx_.fd, std::chrono::seconds(10));
        if (b.type() != wire::Type::Begin)
            throw Finish{Outcome::AuthinfoUnavail, kUnavailable, "protocol: expected begin"};
        rec_.user = std::string(b.get_or(wire::Tag::User, ""));
        rec_.service = std::string(b.get_or(wire::Tag::Service, ""));
        rec_.rhost = std::string(b.get_or(wire::Tag::Rhost, ""));
        rec_.tty = std::string(b.get_or(wire::Tag::Tty, ""));
        if (!printable_bounded(rec_.service, 128) || !printable_bounded(rec_.rhost, 255) ||
            !printable_bounded(rec_.tty, 64) || !printable_bounded(b.get_or(wire::Tag::Ruser, ""), 64))
            throw Finish{Outcome::AuthErr, kSignInFailed, "malformed service, rhost, tty or ruser"};
        if (!valid_local_user(rec_.user))
            throw Finish{Outcome::UserUnknown, kSignInFailed, "user name outside the accepted character set"};
    }

    // root may authenticate anyone; anybody else only themselves, and only where the admin allows it.
    void authorize_caller() {
        if (ctx_.peer.uid == 0) return;
        if (cfg().allow_unprivileged_self) {
            passwd pw{}, *found = nullptr;
            std::vector<char> buf(16384);
            if (getpwnam_r(rec_.user.c_str(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
                found->pw_uid == ctx_.peer.uid)
                return;
        }
        throw Finish{Outcome::AuthErr, "Not allowed to authenticate this user.",
                     "caller uid " + std::to_string(ctx_.peer.uid) + " may not authenticate this user"};
    }

    void flow() {
        read_begin();
        if (!ctx_.runtime)
            throw Finish{Outcome::ServiceErr, kMisconfigured, "configuration: " + ctx_.config_error};
        deadline_ = std::chrono::steady_clock::now() + cfg().login_timeout;
        authorize_caller();

        const auto& methods = cfg().methods_for(rec_.service, is_remote(rec_.rhost));
        if (methods.empty())
            throw Finish{Outcome::AuthErr, "No sign-in method is enabled here.",
                         "no method enabled for this service"};

        known_ = ctx_.runtime->identities.lookup(rec_.user);
        std::optional<Identifier> ident;
        if (!known_.empty()) {
            ident = known_.front();
        } else if (cfg().ask_identifier) {
            ident = ask_identifier();
        } else if (!cfg().claim.empty() && valid_pool_username(rec_.user)) {
            ident = Identifier{IdentifierKind::Username, rec_.user};
        }
        if (!ident) {
            if (cfg().unknown_user == UnknownUser::Ignore)
                throw Finish{Outcome::Ignore, "", "no identity for this user (ignored by configuration)"};
            decoy(methods, "no identity for this user");
        }
        otp(*ident, methods);
    }

    Identifier ask_identifier() {
        std::string prefix;
        for (int i = 0; i < cfg().max_tries; ++i) {
            const Secret typed = ask(prefix + "Email or phone for " + rec_.user + ": ", true);
            if (typed.empty()) throw Finish{Outcome::Abort, "Sign-in cancelled.", "no identifier given"};
            if (auto id = parse_identifier(typed.view(), false)) {
                typed_ = *id;
                return *id;
            }
            prefix = "That is not an email address or phone number. ";
        }
        throw Finish{Outcome::AuthErr, kSignInFailed, "no valid identifier given"};
    }

    std::string destination_for(Method m) const {
        const auto want = m == Method::EmailOtp ? IdentifierKind::Email : IdentifierKind::Phone;
        for (const auto& id : known_)
            if (id.kind == want) return mask(id);
        if (typed_ && typed_->kind == want) return mask(*typed_);
        return {};
    }

    static std::string label(Method m, const std::string& dest) {
        const std::string base = m == Method::EmailOtp ? "Email code" : "Text message code";
        return dest.empty() ? base : base + " to " + dest;
    }

    Method menu(const std::vector<Method>& offered, const std::vector<std::string>& dests) {
        std::string text = "Choose how to sign in:\n";
        for (std::size_t i = 0; i < offered.size(); ++i)
            text += "  " + std::to_string(i + 1) + ") " + label(offered[i], dests[i]) + "\n";
        text += "Choice [1-" + std::to_string(offered.size()) + "]: ";
        std::string prefix;
        for (int i = 0; i < cfg().max_tries; ++i) {
            const Secret answer = ask(prefix + text, true);
            if (answer.empty()) throw Finish{Outcome::Abort, "Sign-in cancelled.", "no method chosen"};
            const auto v = answer.view();
            if (v.size() <= 2 &&
                std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
                const std::size_t n = std::stoul(std::string(v));
                if (n >= 1 && n <= offered.size()) return offered[n - 1];
            }
            prefix = "Please answer with a number from the list.\n";
        }
        throw Finish{Outcome::AuthErr, kSignInFailed, "no valid method chosen"};
    }

    void otp(const Identifier& ident, const std::vector<Method>& methods) {
        auto& client = *ctx_.runtime->client;
        std::string username = ident.value;
        std::optional<std::string_view> preferred;
        if (methods.size() == 1) preferred = method_challenge(methods.front());

        cognito::Step step;
        try {
            step = timed([&] { return client.initiate_user_auth(username, preferred, deadline_); });
        } catch (const ServiceError& e) {
            if (e.failure() == Failure::Rejected && e.name() == "UserNotFoundException") {
                if (cfg().unknown_user == UnknownUser::Ignore)
                    throw Finish{Outcome::Ignore, "",
                                 "identity unknown to the user pool (ignored by configuration)"};
                decoy(methods, "identity unknown to the user pool", true);
            }
            throw;
        }

        if (step.challenge == "SELECT_CHALLENGE") {
            std::vector<Method> offered;
            for (auto m : methods)
                if (std::find(step.available.begin(), step.available.end(), method_challenge(m)) !=
                    step.available.end())
                    offered.push_back(m);
            if (offered.empty())
                throw Finish{Outcome::AuthErr, "No sign-in method is available for this account.",
                             "the user pool offers none of the enabled methods"};
            Method chosen = offered.front();
            if (offered.size() > 1) {
                std::vector<std::string> dests;
                for (auto m : offered) dests.push_back(destination_for(m));
                chosen = menu(offered, dests);
            }
            rec_.method = std::string(method_name(chosen));
            std::vector<std::pair<std::string, Secret>> answer;
            answer.emplace_back("ANSWER", Secret(method_challenge(chosen)));
            const Secret session = step.session;
            step = timed(
                [&] { return client.respond("SELECT_CHALLENGE", session, username, answer, deadline_); });
        }

        std::optional<Method> method;
        for (auto m : methods)
            if (step.challenge == method_challenge(m)) method = m;
        if (!method)
            throw Finish{Outcome::AuthErr, kSignInFailed,
                         "the user pool answered with challenge '" + loggable(step.challenge, 40) + "'"};
        rec_.method = std::string(method_name(*method));
        if (const auto it = step.parameters.find("USERNAME");
            it != step.parameters.end() && valid_pool_username(it->second))
            username = it->second;
        std::string dest;
        if (const auto it = step.parameters.find("CODE_DELIVERY_DESTINATION");
            it != step.parameters.end() && printable_bounded(it->second, 64))
            dest = it->second;
        if (dest.empty()) dest = destination_for(*method);
        const std::string code_key = *method == Method::EmailOtp ? "EMAIL_OTP_CODE" : "SMS_OTP_CODE";
        const std::string where =
            dest.empty() ? std::string(*method == Method::EmailOtp ? "your email" : "your phone") : dest;

        std::string prefix;
        for (int attempt = 1;; ++attempt) {
            Secret code = ask(prefix + "Code sent to " + where + ": ", false);
            if (code.empty()) throw Finish{Outcome::Abort, "Sign-in cancelled.", "no code given"};
            bool wrong = !valid_code(code.view());
            if (!wrong) {
                std::vector<std::pair<std::string, Secret>> answer;
                answer.emplace_back(code_key, std::move(code));
                try {
                    const Secret session = step.session;
                    const auto next = timed(
                        [&] { return client.respond(step.challenge, session, username, answer, deadline_); });
                    if (next.id_token) {
                        verify_and_bind(*next.id_token, ident);
                    }
                    throw Finish{
                        Outcome::AuthErr, kSignInFailed,
                        "the user pool asked for a further step ('" + loggable(next.challenge, 40) + "')"};
                } catch (const ServiceError& e) {
                    if (e.failure() != Failure::Rejected || e.name() != "CodeMismatchException") throw;
                    wrong = true;
                }
            }
            if (attempt >= cfg().max_tries)
                throw Finish{Outcome::MaxTries, kTooManyWrong,
                             "wrong code " + std::to_string(attempt) + " times"};
            prefix = "Wrong code. ";
        }
    }

    [[noreturn]] void verify_and_bind(const Secret& id_token, const Identifier& ident) {
        cognito::IdClaims claims;
        try {
            claims = ctx_.runtime->verifier->verify_id_token(id_token.view(), deadline_);
        } catch (const cognito::TokenError& e) {
            throw Finish{Outcome::AuthErr, kSignInFailed, std::string("ID token refused: ") + e.what()};
        }
        bool bound = true;
        if (!known_.empty())
            bound = std::any_of(known_.begin(), known_.end(),
                                [&](const Identifier& k) { return claims_match(k, claims); });
        else
            bound = claims_match(ident, claims);
        if (!cfg().claim.empty()) {
            const auto it = claims.strings.find(cfg().claim);
            bound = bound && it != claims.strings.end() && it->second == rec_.user;
        }
        if (!bound)
            throw Finish{Outcome::AuthErr, "This sign-in is not linked to the account " + rec_.user + ".",
                         "identity sub=" + loggable(claims.sub, 64) + " is not bound to this user"};
        verified_ = true;
        throw Finish{
            Outcome::Success, "",
            "verified " + std::string(kind_name(ident.kind)) + " identity sub=" + loggable(claims.sub, 64)};
    }

    // The walk an unknown user takes: the same prompts, the same waits, and a failure at the end. Nothing is
    // sent.
    [[noreturn]] void decoy(const std::vector<Method>& methods, const std::string& reason,
                            bool service_already_asked = false) {
        auto pause = [] {
            std::this_thread::sleep_for(std::chrono::milliseconds(g_service_latency_ms.load()));
        };
        unsigned char mac[32];
        unsigned int mac_len = 0;
        const auto& key = decoy_key();
        HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(rec_.user.data()), rec_.user.size(), mac, &mac_len);
        auto fake = [&](Method m) {
            if (m == Method::EmailOtp)
                return std::string(1, static_cast<char>('a' + mac[0] % 26)) + "***@" +
                       static_cast<char>('a' + mac[1] % 26) + "***";
            std::string digits;
            for (int i = 2; i < 6; ++i) digits.push_back(static_cast<char>('0' + mac[i] % 10));
            return "+" + std::string(mac[6] % 2 ? 10 : 7, '*') + digits;
        };
        if (!service_already_asked) pause();
        Method chosen = methods.front();
        if (methods.size() > 1) {
            std::vector<std::string> dests;
            for (auto m : methods) dests.push_back(fake(m));
            chosen = menu(methods, dests);
            pause();
        }
        rec_.method = std::string(method_name(chosen));
        std::string prefix;
        for (int attempt = 1; attempt <= cfg().max_tries; ++attempt) {
            Secret code = ask(prefix + "Code sent to " + fake(chosen) + ": ", false);
            if (code.empty())
                throw Finish{Outcome::Abort, "Sign-in cancelled.", "no code given (" + reason + ")"};
            if (valid_code(code.view())) pause();
            prefix = "Wrong code. ";
        }
        throw Finish{cfg().unknown_user == UnknownUser::Ignore ? Outcome::Ignore : Outcome::UserUnknown,
                     kTooManyWrong, reason};
    }

    const LoginContext& ctx_;
    AuditRecord rec_;
    Deadline deadline_{};
    std::vector<Identifier> known_;
    std::optional<Identifier> typed_;
    bool verified_ = false;
};

}  // namespace

void run_login(const LoginContext& ctx) noexcept {
    try {
        Login(ctx).run();
    } catch (...) {
        // Only random_hex can throw here (no randomness); without it nothing is safe to do but drop the
        // login.
    }
}

}  // namespace pp::helper
