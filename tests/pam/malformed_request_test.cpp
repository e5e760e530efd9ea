// Requests the typed decoders (protocol/messages.cpp) refuse, sent to the real helper over its socket as a
// hostile or mismatched client would send them (the real module cannot: it only sends what it encodes). A
// malformed Begin is refused before admission (no Started, no slot), with the Result a client maps to a
// defined PAM code and a log line naming the fault; a management request with an unknown op likewise. Such a
// request begins no login, so its line is the caller's refusal summary (admission.hpp), not an audit line.
#include <security/pam_appl.h>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "channel.hpp"
#include "helper/person_texts.hpp"
#include "helper_connection.hpp"
#include "login_harness.hpp"
#include "messages.hpp"
#include "result_mapping.hpp"
#include "wire.hpp"

namespace pp::test {
namespace {

constexpr const char* kIdentities = "alice alice@example.com\n";

// What the helper sent back to one request: the types in order, and the Result.
struct Reply {
    std::vector<wire::Type> types;
    protocol::Result result;
};

class MalformedRequest : public StandInTest {
  protected:
    void SetUp() override {
        StandInTest::SetUp();
        if (IsSkipped()) return;
        helper_ = std::make_unique<Helper>(
            dir_, *standin_,
            HelperFiles{
                "\n[login]\nmethods = email_otp\nlogin_timeout = 60\nrefusal_log_interval = 1\n\n[binding]\n",
                kIdentities});
    }

    // Sends `first` as the connection's first message and reads until the helper's Result.
    Reply send_first(const wire::Message& first) const {
        auto conn = client::HelperConnection::open(helper_->socket(), std::chrono::seconds(20));
        conn.send(first);
        Reply reply;
        for (;;) {
            const wire::Message m = conn.receive();
            reply.types.push_back(m.type());
            if (m.type() == wire::Type::Result) {
                reply.result = protocol::Result::decode(m);
                return reply;
            }
        }
    }

    // The helper's audit line for the login that ended with `reason` (empty: none yet).
    std::string audit_line_with(const std::string& reason) const {
        return line_with("reason=\"" + reason + "\"");
    }

    // The refusal summary's line that names `reason` for root's requests: the first refusal's line, or the
    // count of those after it (every refusal_log_interval, here 1 s).
    std::string summary_with(const std::string& reason) const {
        std::string found;
        wait_until([&] {
            std::istringstream in(helper_->log());
            for (std::string line; std::getline(in, line);)
                if (line.find("refused a request from uid 0: " + reason) != std::string::npos ||
                    (line.find("more requests from uid 0 in the last") != std::string::npos &&
                     line.find(reason) != std::string::npos)) {
                    found = line;
                    return true;
                }
            return false;
        });
        return found;
    }

    // The first line of the helper's log that holds `text` (empty: none yet).
    std::string line_with(const std::string& text) const {
        std::string line;
        wait_until([&] {
            const std::string log = helper_->log();
            const auto at = log.find(text);
            if (at == std::string::npos) return false;
            const auto newline = log.rfind('\n', at);
            const auto start = newline == std::string::npos ? 0 : newline + 1;
            const auto end = log.find('\n', at);
            line = log.substr(start, end == std::string::npos ? std::string::npos : end - start);
            return true;
        });
        return line;
    }

    // A well-formed Begin for alice, to which `extra` is added as a raw field.
    static wire::Message begin_with(wire::Tag tag, std::string_view raw) {
        wire::Message m = protocol::Begin{"alice", "sshd", "", "tty1", "", std::nullopt, false}.encode();
        m.add(tag, raw);
        return m;
    }

    std::unique_ptr<Helper> helper_;
};

TEST_F(MalformedRequest, BeginWithAnUnknownUnknownUserValueIsRefusedBeforeAdmission) {
    const wire::Message begin = begin_with(wire::Tag::UnknownUser, std::string_view("\0\0\0\x07", 4));
    const Reply reply = send_first(begin);
    // No Started: the id goes out only once a Begin is admitted; the Result is the only answer.
    ASSERT_EQ(reply.types, std::vector<wire::Type>{wire::Type::Result});
    EXPECT_EQ(reply.result.outcome, wire::Outcome::AuthinfoUnavail);
    EXPECT_EQ(module::pam_code_for(reply.result.outcome), PAM_AUTHINFO_UNAVAIL);
    EXPECT_EQ(reply.result.text, helper::kSignInFailed);
    EXPECT_EQ(reply.result.user, std::nullopt);
    const std::string line = summary_with("protocol: malformed begin: unknown unknown_user value");
    EXPECT_FALSE(line.empty()) << helper_->log();
    // Refused before the identity fields are read: no audit line, and no line names the user.
    EXPECT_EQ(helper_->log().find("alice"), std::string::npos) << helper_->log();
    EXPECT_EQ(helper_->log().find("outcome="), std::string::npos) << helper_->log();
}

TEST_F(MalformedRequest, BeginWithAWrongSizeIntegerFieldIsRefusedBeforeAdmission) {
    // unknown_user=ignore as one byte instead of four.
    const Reply reply = send_first(begin_with(wire::Tag::UnknownUser, std::string_view("\x02", 1)));
    ASSERT_EQ(reply.types, std::vector<wire::Type>{wire::Type::Result});
    EXPECT_EQ(reply.result.outcome, wire::Outcome::AuthinfoUnavail);
    EXPECT_EQ(module::pam_code_for(reply.result.outcome), PAM_AUTHINFO_UNAVAIL);
    EXPECT_FALSE(summary_with("protocol: malformed begin: unknown_user of wrong size").empty())
        << helper_->log();

    // test_login as five bytes: refused the same way, before the root-only check could even look at it.
    const Reply test_login =
        send_first(begin_with(wire::Tag::TestLogin, std::string_view("\0\0\0\0\x01", 5)));
    ASSERT_EQ(test_login.types, std::vector<wire::Type>{wire::Type::Result});
    EXPECT_EQ(test_login.result.outcome, wire::Outcome::AuthinfoUnavail);
    EXPECT_FALSE(summary_with("protocol: malformed begin: test_login of wrong size").empty())
        << helper_->log();
    EXPECT_EQ(helper_->log().find("outcome="), std::string::npos) << "no audit line\n" << helper_->log();
}

TEST_F(MalformedRequest, AWellFormedBeginIsStillAdmitted) {
    // The same request without the bad field starts a login: the helper sends its id first.
    auto conn = client::HelperConnection::open(helper_->socket(), std::chrono::seconds(20));
    conn.send(protocol::Begin{"alice", "sshd", "", "tty1", "", wire::UnknownUser::Fail, false}.encode());
    const wire::Message first = conn.receive();
    EXPECT_EQ(first.type(), wire::Type::Started);
    EXPECT_TRUE(wire::valid_login_id(protocol::Started::decode(first).login_id));
}

TEST_F(MalformedRequest, AnUnknownManagementOpIsRefusedAndLoggedOncePerCaller) {
    wire::Message manage(wire::Type::Manage);
    manage.add(wire::Tag::Op, "format-disk").add(wire::Tag::User, "alice");
    const Reply reply = send_first(manage);
    ASSERT_EQ(reply.types, std::vector<wire::Type>{wire::Type::Result});
    EXPECT_EQ(reply.result.outcome, wire::Outcome::AuthErr);
    EXPECT_EQ(module::pam_code_for(reply.result.outcome), PAM_AUTH_ERR);
    EXPECT_EQ(reply.result.text, helper::kUnknownRequest);
    EXPECT_FALSE(summary_with("unknown management operation").empty()) << helper_->log();

    // Without any op at all: the same refusal.
    wire::Message no_op(wire::Type::Manage);
    no_op.add(wire::Tag::User, "alice");
    const Reply bare = send_first(no_op);
    EXPECT_EQ(bare.result.outcome, wire::Outcome::AuthErr);
    EXPECT_EQ(bare.result.text, helper::kUnknownRequest);
    // Counted in the next summary line (or, had the interval passed in between, logged as a first again).
    EXPECT_TRUE(wait_until([&] {
        const std::string log = helper_->log();
        const std::string first = "refused a request from uid 0: unknown management operation";
        const auto once = log.find(first);
        return log.find("refused 1 more requests from uid 0 in the last") != std::string::npos ||
               (once != std::string::npos && log.find(first, once + 1) != std::string::npos);
    })) << helper_->log();
    EXPECT_EQ(helper_->log().find("outcome="), std::string::npos) << helper_->log();
}

// The Result reaches a client that keeps sending while the helper ends its login: a module whose answer
// crosses the helper's end (the login's time ran out as the person answered), or one that sends what it
// should not. The helper shuts the connection both ways after its Result and drops what had arrived, so the
// client's later sends fail ("closed", which the module takes as "read the verdict") and the close never
// resets the connection with the Result unread. (The helper before session 15 read and dropped for up to a
// second, then closed with the client's newest messages unread: the client's receive failed with ECONNRESET
// and it reported "unavailable" instead of the helper's verdict.)
TEST_F(MalformedRequest, TheResultIsReadWhileTheClientKeepsSendingAsTheHelperEnds) {
    for (int round = 0; round < 20; ++round) {
        auto conn = client::HelperConnection::open(helper_->socket(), std::chrono::seconds(20));
        conn.send(protocol::Begin{"alice", "sshd", "", "tty1", "", wire::UnknownUser::Fail, false}.encode());
        for (;;) {
            const wire::Message m = conn.receive();
            ASSERT_NE(m.type(), wire::Type::Result) << "round " << round;
            if (m.type() == wire::Type::Prompt) break;
        }
        // Not an answer: the helper ends the login at once ("protocol: expected an answer").
        conn.send(protocol::Prompt{wire::PromptStyle::EchoOn, "not an answer"}.encode());
        // Until the helper refuses more, for at most 5 seconds (the old helper read on for one).
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        int sent = 0;
        bool closed = false;
        for (; std::chrono::steady_clock::now() < until; ++sent) {
            try {
                conn.send(protocol::Answer{Secret(std::string_view("y"))}.encode());
            } catch (const wire::ChannelError& e) {
                ASSERT_EQ(e.kind(), wire::ChannelError::Kind::Closed)
                    << "round " << round << ": " << e.what();
                closed = true;
                break;
            }
        }
        ASSERT_TRUE(closed) << "round " << round << ": the helper never ended the login";
        std::optional<wire::Message> last;
        ASSERT_NO_THROW(last.emplace(conn.receive()))
            << "round " << round << " (after " << sent << " answers sent)";
        ASSERT_EQ(last->type(), wire::Type::Result) << "round " << round;
        const auto result = protocol::Result::decode(*last);
        EXPECT_EQ(result.outcome, wire::Outcome::AuthinfoUnavail) << "round " << round;
        EXPECT_EQ(result.text, helper::kSignInFailed) << "round " << round;
    }
    EXPECT_FALSE(audit_line_with("protocol: expected an answer").empty()) << helper_->log();
}

}  // namespace
}  // namespace pp::test
