#include "flow_harness.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

#include "channel.hpp"
#include "config.hpp"
#include "login.hpp"
#include "messages.hpp"
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
    cognito::Step initiate_user_auth(std::string_view u, std::optional<std::string_view> p, Deadline d,
                                     const cognito::UserContext& c) override {
        return pool_.initiate_user_auth(u, p, d, c);
    }
    cognito::Step respond(std::string_view ch, const Secret& s, std::string_view u,
                          const std::vector<std::pair<std::string, Secret>>& a, Deadline d,
                          const cognito::UserContext& c) override {
        return pool_.respond(ch, s, u, a, d, c);
    }
    std::string fetch_jwks(Deadline d) override { return pool_.fetch_jwks(d); }
    cognito::OpenIdConfiguration fetch_openid_configuration(Deadline d) override {
        return pool_.fetch_openid_configuration(d);
    }
    cognito::CallbackPageCheck fetch_callback_page(const std::string& u, Deadline d) override {
        return pool_.fetch_callback_page(u, d);
    }
    cognito::RegistrationStart start_webauthn_registration(const Secret& t, Deadline d) override {
        return pool_.start_webauthn_registration(t, d);
    }
    void complete_webauthn_registration(const Secret& t, std::string_view j, Deadline d) override {
        pool_.complete_webauthn_registration(t, j, d);
    }
    std::vector<cognito::WebAuthnCredential> list_webauthn_credentials(const Secret& t, Deadline d) override {
        return pool_.list_webauthn_credentials(t, d);
    }
    void delete_webauthn_credential(const Secret& t, std::string_view id, Deadline d) override {
        pool_.delete_webauthn_credential(t, id, d);
    }
    Secret redeem_authorization_code(const Secret& body, Deadline d) override {
        return pool_.redeem_authorization_code(body, d);
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
        wire::send_message(fd, protocol::Cancel{e.verdict().outcome()}.encode());
    };
    switch (msg.type()) {
        case wire::Type::Started:
        case wire::Type::Trace:
            return true;
        case wire::Type::Prompt: {
            const auto prompt = protocol::Prompt::decode(msg);
            try {
                Secret typed = person.ask(prompt.text, prompt.style == wire::PromptStyle::EchoOn);
                wire::send_message(fd, protocol::Answer{std::move(typed)}.encode());
            } catch (const ConnectionEnded& e) {
                cancel(e);
            }
            return true;
        }
        case wire::Type::Link: {
            const auto link = protocol::Link::decode(msg);
            person.show_link(link.text, link.url, link.qr);
            return true;
        }
        case wire::Type::KeyRequest: {
            try {
                wire::send_message(
                    fd, person.get_assertion(protocol::AssertionRequest::decode(msg), {}).encode());
            } catch (const ConnectionEnded& e) {
                cancel(e);
            }
            return true;
        }
        case wire::Type::Result: {
            const auto result = protocol::Result::decode(msg);
            end.outcome = result.outcome;
            end.text = result.text;
            end.user = result.user.value_or("");
            return false;
        }
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
        kIssuer, kClientId, [pool = pool_](Deadline d) { return pool->fetch_jwks(d); });
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
        const protocol::Begin begin{as.user, as.service,      as.rhost, as.rhost.empty() ? "tty1" : "ssh",
                                    "",      as.unknown_user, false};
        wire::send_message(person_end.fd, begin.encode());
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
