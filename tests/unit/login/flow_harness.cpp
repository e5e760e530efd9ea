#include "flow_harness.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

#include "channel.hpp"
#include "config.hpp"
#include "login.hpp"
#include "recovery_codes.hpp"
#include "syslog_capture.hpp"

namespace pp::helper::test {
namespace {

constexpr std::int64_t kMiB = 1024 * 1024;

// The Runtime owns its client; the test keeps the fake pool to script and inspect it. Both hold it: the
// process-wide pool warm-up (pool_warm_up.cpp) starts once, at the first test that reaches the pool, and its
// thread holds that test's Runtime and may fetch the key set through it after the test and its harness
// are gone (seen as a rare SEGFAULT of a later test under load).
class PoolRef final : public cognito::PoolApi {
  public:
    explicit PoolRef(std::shared_ptr<cognito::PoolApi> pool) : held_(std::move(pool)), pool_(*held_) {}
    cognito::Step initiate_user_auth(std::string_view u, std::optional<std::string_view> p,
                                     cognito::Deadline d, const cognito::UserContext& c) override {
        return pool_.initiate_user_auth(u, p, d, c);
    }
    cognito::Step respond(std::string_view ch, const Secret& s, std::string_view u,
                          const std::vector<std::pair<std::string, Secret>>& a, cognito::Deadline d,
                          const cognito::UserContext& c) override {
        return pool_.respond(ch, s, u, a, d, c);
    }
    std::string fetch_jwks(cognito::Deadline d) override { return pool_.fetch_jwks(d); }
    cognito::OpenIdConfiguration fetch_openid_configuration(cognito::Deadline d) override {
        return pool_.fetch_openid_configuration(d);
    }
    cognito::RegistrationStart start_webauthn_registration(const Secret& t, cognito::Deadline d) override {
        return pool_.start_webauthn_registration(t, d);
    }
    void complete_webauthn_registration(const Secret& t, std::string_view j, cognito::Deadline d) override {
        pool_.complete_webauthn_registration(t, j, d);
    }
    std::vector<cognito::WebAuthnCredential> list_webauthn_credentials(const Secret& t,
                                                                       cognito::Deadline d) override {
        return pool_.list_webauthn_credentials(t, d);
    }
    void delete_webauthn_credential(const Secret& t, std::string_view id, cognito::Deadline d) override {
        pool_.delete_webauthn_credential(t, id, d);
    }

  private:
    std::shared_ptr<cognito::PoolApi> held_;
    cognito::PoolApi& pool_;
};

const std::string kPoolSection =
    "[pool]\nregion = eu-west-1\npool_id = eu-west-1_Flowtest\nclient_id = " + kClientId +
    "\nissuer = " + kIssuer + "\n";
const std::string kBindingSection = "[binding]\nmapping_file = /etc/pam_passwordless/identities\n";

struct Socket {
    int fd = -1;
    ~Socket() {
        if (fd >= 0) ::close(fd);
    }
};

// The person's side of one message from the helper; false once the Result came.
bool answer(int fd, const wire::Message& msg, FakeConnection& person, Ending& end) {
    auto cancel = [&](const ConnectionEnded& e) {
        wire::Message c(wire::Type::Cancel);
        c.add(wire::Tag::Outcome, static_cast<std::uint32_t>(e.verdict().outcome()));
        wire::send_message(fd, c);
    };
    switch (msg.type()) {
        case wire::Type::Started:
        case wire::Type::Trace:
            return true;
        case wire::Type::Prompt: {
            const bool echo = msg.get_u32(wire::Tag::Style).value_or(0) ==
                              static_cast<std::uint32_t>(wire::PromptStyle::EchoOn);
            try {
                const Secret typed = person.ask(std::string(msg.get_or(wire::Tag::Text, "")), echo);
                wire::Message a(wire::Type::Answer);
                a.add(wire::Tag::Text, typed.view());
                wire::send_message(fd, a);
            } catch (const ConnectionEnded& e) {
                cancel(e);
            }
            return true;
        }
        case wire::Type::KeyRequest: {
            AssertionRequest r;
            r.rp_id = msg.get_or(wire::Tag::RpId, "");
            r.client_data_hash = msg.get_or(wire::Tag::ClientDataHash, "");
            r.user_verification = msg.get_u32(wire::Tag::UserVerification).value_or(0) != 0;
            r.timeout_ms = msg.get_u32(wire::Tag::TimeoutMs).value_or(0);
            r.text = msg.get_or(wire::Tag::Text, "");
            for (const auto id : msg.all(wire::Tag::CredId)) r.cred_ids.emplace_back(id);
            try {
                const Assertion a = person.get_assertion(r);
                wire::Message reply(wire::Type::Assertion);
                reply.add(wire::Tag::DeviceStatus, static_cast<std::uint32_t>(a.status));
                if (a.status == wire::DeviceStatus::Ok)
                    reply.add(wire::Tag::CredId, a.cred_id)
                        .add(wire::Tag::AuthData, a.auth_data)
                        .add(wire::Tag::Signature, a.signature)
                        .add(wire::Tag::UserHandle, a.user_handle);
                wire::send_message(fd, reply);
            } catch (const ConnectionEnded& e) {
                cancel(e);
            }
            return true;
        }
        case wire::Type::Result:
            end.outcome = static_cast<wire::Outcome>(msg.get_u32(wire::Tag::Outcome).value_or(255));
            end.text = msg.get_or(wire::Tag::Text, "");
            end.user = msg.get_or(wire::Tag::User, "");
            return false;
        default:
            throw std::runtime_error("unexpected message from the helper: type " +
                                     std::to_string(static_cast<int>(msg.type())));
    }
}

// `name="value"` or `name=value` in an audit line.
std::string field(const std::string& line, const std::string& name) {
    const auto at = line.find(" " + name + "=");
    if (at == std::string::npos) return {};
    auto from = at + name.size() + 2;
    if (from < line.size() && line[from] == '"') {
        const auto to = line.find('"', from + 1);
        return line.substr(from + 1, to - from - 1);
    }
    return line.substr(from, line.find(' ', from) - from);
}

}  // namespace

FlowHarness::FlowHarness(const std::string& config, const std::string& identities)
    : runtime_(std::make_shared<Runtime>()), limits_("", 16 * kMiB), state_(dir_.file("helper.conf")) {
    // A test that binds by the token's claim brings its own [binding].
    const bool own_binding = config.find("[binding]") != std::string::npos;
    Config c =
        parse_config(kPoolSection + (own_binding ? "" : kBindingSection) + config, dir_.file("helper.conf"));
    c.security_key.store_dir = dir_.subdir("credentials", 0700);
    c.recovery.store_dir = dir_.subdir("recovery", 0700);
    c.limits_state_file = dir_.file("limits");
    runtime_->config = std::move(c);
    runtime_->identities = IdentityMap::parse(identities, "identities");
    runtime_->client = std::make_unique<PoolRef>(pool_);
    runtime_->verifier = std::make_unique<cognito::TokenVerifier>(
        kIssuer, kClientId, [pool = pool_](cognito::Deadline d) { return pool->fetch_jwks(d); });
}

FlowHarness::~FlowHarness() = default;

std::vector<Secret> FlowHarness::recovery_codes(const std::string& user, int count) {
    return RecoveryStore(runtime_->config.recovery.store_dir).generate(user, count).codes;
}

Ending FlowHarness::login(FakeConnection& person, const LoginAs& as) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        throw std::runtime_error("socketpair");
    Socket helper_end{sv[0]}, person_end{sv[1]};
    SyslogCapture log(dir_);
    LoginContext ctx{};
    ctx.fd = helper_end.fd;
    ctx.peer = ucred{::getpid(), 0, 0};  // root's PAM stack asks, as sshd's does
    ctx.runtime = runtime_;
    ctx.limits = &limits_;
    ctx.admission = &admission_;
    ctx.state = &state_;
    std::thread helper([&] { run_connection(ctx); });

    Ending end;
    try {
        wire::Message begin(wire::Type::Begin);
        begin.add(wire::Tag::User, as.user)
            .add(wire::Tag::Service, as.service)
            .add(wire::Tag::Rhost, as.rhost)
            .add(wire::Tag::Tty, as.rhost.empty() ? "tty1" : "ssh")
            .add(wire::Tag::Ruser, "");
        if (as.unknown_user) begin.add(wire::Tag::UnknownUser, static_cast<std::uint32_t>(*as.unknown_user));
        wire::send_message(person_end.fd, begin);
        // Generous: the flow waits for nothing but the fake pool and the decoy's pauses.
        while (answer(person_end.fd, wire::receive_message(person_end.fd, std::chrono::seconds(60)), person,
                      end)) {
        }
    } catch (...) {
        ::shutdown(person_end.fd, SHUT_RDWR);
        helper.join();
        throw;
    }
    helper.join();
    // The audit line: the last line naming a caller and a reason.
    const std::string text = log.text();
    std::size_t at = std::string::npos;
    for (auto p = text.find(" caller_uid="); p != std::string::npos; p = text.find(" caller_uid=", p + 1))
        at = p;
    if (at != std::string::npos) {
        const auto start = text.rfind('\n', at) == std::string::npos ? 0 : text.rfind('\n', at) + 1;
        end.audit = text.substr(start, text.find('\n', at) - start);
        end.method = field(end.audit, "method");
        end.reason = field(end.audit, "reason");
    }
    return end;
}

}  // namespace pp::helper::test
