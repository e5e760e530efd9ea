// A browser sign-in's link (protocol::Link, issue #13) through the real module under the real libpam, from a
// scripted helper on the test's socket (the helper's browser method sends it; here the bytes are the test's
// own, so that a hostile or broken helper can be played too). A valid link is ONE PAM_TEXT_INFO (the text, a
// blank line, the URL on its own line, the QR code) before the prompt; a link the module must not show (not
// https, a control character, too long) ends the login closed, PAM_AUTHINFO_UNAVAIL, with nothing of it on
// the screen and no answer sent, even when a success for this very user would follow. root's
// `pam-passwordless test-login` shows a link the same way, and refuses the same ones.
#include <security/pam_appl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <gtest/gtest.h>

#include <cstring>
#include <future>
#include <optional>
#include <string>

#include "channel.hpp"
#include "child_process.hpp"
#include "login_harness.hpp"
#include "messages.hpp"
#include "qr_text.hpp"
#include "unique_fd.hpp"
#include "wire.hpp"

namespace pp::test {
namespace {

constexpr const char* kText =
    "Open this link on your phone or computer and sign in. The page then shows a code for alice on host.";
constexpr const char* kUrl =
    "https://auth.example.com/oauth2/authorize?response_type=code&client_id=abc&state=s1&nonce=n1";
constexpr const char* kPrompt = "Code from the browser: ";
constexpr const char* kCode = "ABCD-1234";

// What the scripted helper saw: the first message's type, and the answer the module sent (if any).
struct Served {
    int first = -1;
    bool answered = false;
    std::string answer;
};

// A stand-in for the helper: takes one connection, reads its Begin, sends Started, `link`, a prompt, and on
// an answer a Result of success for the user the Begin named.
Served serve_one_link_login(UniqueFd listener, const wire::Message& link) {
    Served served;
    UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) return served;
    try {
        const wire::Message begin = wire::receive_message(conn.get(), std::chrono::seconds(20));
        served.first = static_cast<int>(begin.type());
        wire::send_message(conn.get(), protocol::Started{"0123456789abcdef"}.encode());
        wire::send_message(conn.get(), link);
        wire::send_message(conn.get(), protocol::Prompt{wire::PromptStyle::EchoOn, kPrompt}.encode());
        const wire::Message reply = wire::receive_message(conn.get(), std::chrono::seconds(20));
        if (reply.type() != wire::Type::Answer) return served;
        served.answered = true;
        served.answer = std::string(protocol::Answer::decode(reply).text.view());
        wire::send_message(conn.get(), protocol::Result{wire::Outcome::Success, "Signed in.",
                                                        protocol::Begin::decode(begin).user, std::nullopt}
                                           .encode());
    } catch (const wire::ChannelError&) {
        // The module hung up at the link: what it must do with one it refuses.
    }
    return served;
}

// A link with the fields as given, bypassing protocol::Link's own refusals (the helper's side).
wire::Message raw_link(const std::string& text, const std::string& url, std::uint32_t qr = 1) {
    wire::Message m(wire::Type::Link);
    m.add(wire::Tag::Text, text).add(wire::Tag::Url, url).add(wire::Tag::Qr, qr);
    return m;
}

struct LinkLogin {
    PamRun run;
    Served served;
};

// The test's socket, bound and listening.
UniqueFd listening_socket() {
    fresh_dir(test_dir().filename());
    UniqueFd listener(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    EXPECT_TRUE(listener);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = test_socket();
    EXPECT_LT(path.size(), sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    EXPECT_EQ(::bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listener.get(), 4), 0);
    return listener;
}

LinkLogin login_with(const wire::Message& link) {
    auto served = std::async(std::launch::async, serve_one_link_login, listening_socket(), link);
    LinkLogin out;
    out.run = run_pam(test_service(), "alice", [](int style, const std::string& text) {
        if (style == PAM_PROMPT_ECHO_ON && text == kPrompt) return std::optional<std::string>(kCode);
        return std::optional<std::string>();
    });
    out.served = served.get();
    return out;
}

class LinkScreen : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root: the module trusts only a root-owned socket served by root";
    }

    // A refused link: the login ends closed, the helper gets no answer, and nothing of the link shows.
    static void expect_refused(const wire::Message& link, const std::string& shown_part) {
        const LinkLogin l = login_with(link);
        EXPECT_EQ(l.served.first, static_cast<int>(wire::Type::Begin));
        EXPECT_EQ(l.run.code, PAM_AUTHINFO_UNAVAIL) << l.run.all_text();
        EXPECT_FALSE(l.served.answered);
        EXPECT_TRUE(l.run.infos().empty()) << l.run.all_text();
        EXPECT_TRUE(l.run.prompts().empty()) << l.run.all_text();
        EXPECT_FALSE(contains(l.run.all_text(), shown_part)) << l.run.all_text();
    }
};

TEST_F(LinkScreen, ALinkIsOneInfoWithTheTextTheUrlAndItsQrCodeBeforeThePrompt) {
    const LinkLogin l = login_with(protocol::Link{kText, kUrl, true}.encode());
    EXPECT_EQ(l.run.code, PAM_SUCCESS) << l.run.all_text();
    EXPECT_TRUE(l.served.answered);
    EXPECT_EQ(l.served.answer, kCode);
    ASSERT_GE(l.run.transcript.size(), 2u) << l.run.all_text();
    const Turn& shown = l.run.transcript[0];
    EXPECT_EQ(shown.style, PAM_TEXT_INFO);
    const std::string qr = client::render_qr(kUrl);
    EXPECT_EQ(shown.text, std::string(kText) + "\n\n" + kUrl + "\n\n" + qr);
    // The URL on a line of its own; the code's half blocks on the lines after it.
    EXPECT_TRUE(contains(shown.text, std::string("\n") + kUrl + "\n")) << shown.text;
    EXPECT_TRUE(contains(shown.text, "\u2588")) << shown.text;
    EXPECT_EQ(l.run.transcript[1].style, PAM_PROMPT_ECHO_ON);
    EXPECT_EQ(l.run.transcript[1].text, kPrompt);
    // One informational message for the link, one for the verdict.
    EXPECT_EQ(l.run.infos().size(), 2u) << l.run.all_text();
}

TEST_F(LinkScreen, ALinkWithoutItsQrCodeIsTheTextAndTheUrl) {
    const LinkLogin l = login_with(protocol::Link{kText, kUrl, false}.encode());
    EXPECT_EQ(l.run.code, PAM_SUCCESS) << l.run.all_text();
    ASSERT_FALSE(l.run.transcript.empty());
    EXPECT_EQ(l.run.transcript[0].style, PAM_TEXT_INFO);
    EXPECT_EQ(l.run.transcript[0].text, std::string(kText) + "\n\n" + kUrl);
}

TEST_F(LinkScreen, AnHttpLinkIsRefused) {
    expect_refused(raw_link(kText, "http://auth.example.com/oauth2/authorize?state=s1"), "auth.example.com");
}

TEST_F(LinkScreen, AControlCharacterInTheUrlIsRefused) {
    expect_refused(raw_link(kText, "https://auth.example.com/\x1b[2J?state=s1"), "auth.example.com");
}

TEST_F(LinkScreen, AControlCharacterInTheTextIsRefused) {
    expect_refused(raw_link("Open this link\x1b[8m now.", kUrl), "Open this link");
}

TEST_F(LinkScreen, AnOverLongUrlIsRefused) {
    const std::string url = "https://auth.example.com/" + std::string(protocol::Link::kMaxLinkUrl, 'a');
    expect_refused(raw_link(kText, url), "auth.example.com");
}

TEST_F(LinkScreen, AnUnknownQrValueIsRefused) {
    expect_refused(raw_link(kText, kUrl, 2), "auth.example.com");
}

// root's test-login for root against the scripted helper, the code on standard input (no terminal).
struct CliLogin {
    ChildResult child;
    Served served;
};

CliLogin test_login_with(const wire::Message& link) {
    auto served = std::async(std::launch::async, serve_one_link_login, listening_socket(), link);
    ChildSpec spec;
    spec.argv = {PP_CLI_BIN, "test-login", "root", "--socket", test_socket()};
    spec.env = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8"};
    spec.input = std::string(kCode) + "\n";
    spec.work = test_dir();
    CliLogin out;
    out.child = run_child(spec);
    out.served = served.get();
    return out;
}

TEST_F(LinkScreen, TestLoginShowsTheLinkTheSameWay) {
    const CliLogin l = test_login_with(protocol::Link{kText, kUrl, true}.encode());
    EXPECT_EQ(l.child.exit_code, 0) << l.child.describe();
    EXPECT_EQ(l.served.answer, kCode);
    // Without a terminal the person's side (the link, the prompt) is on standard error.
    const std::string screen = std::string(kText) + "\n\n" + kUrl + "\n\n" + client::render_qr(kUrl) + "\n";
    EXPECT_EQ(l.child.err.rfind(screen + kPrompt, 0), 0u) << l.child.describe();
}

TEST_F(LinkScreen, TestLoginRefusesALinkTheModuleRefuses) {
    const CliLogin l = test_login_with(raw_link(kText, "http://auth.example.com/oauth2/authorize?state=s1"));
    EXPECT_EQ(l.child.exit_code, 3) << l.child.describe();
    EXPECT_FALSE(l.served.answered);
    EXPECT_TRUE(contains(l.child.err, "malformed link: url not a bounded https URL")) << l.child.describe();
    EXPECT_FALSE(contains(l.child.err, kText)) << l.child.describe();
    EXPECT_FALSE(contains(l.child.out, kText)) << l.child.describe();
}

}  // namespace
}  // namespace pp::test
