// The management requests' endings, now values: the real Management run against a store under the build
// tree, the person's side scripted and the login side's sign-in replaced by a fake that says how it ended.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "account_policy.hpp"
#include "base64.hpp"
#include "config.hpp"
#include "credential_store.hpp"
#include "enrol_policy.hpp"
#include "login/key_status.hpp"
#include "manage/management.hpp"
#include "person_texts.hpp"
#include "runtime.hpp"
#include "software_authenticator.hpp"
#include "test_dir.hpp"

namespace pp::helper {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using wire::Outcome;
using Op = protocol::Manage::Op;

const std::string kPool =
    "[pool]\npool_id = eu-west-1_AbCdEf123\nclient_id = 1example23456789abcdefghij\n"
    "[binding]\nmapping_file = /etc/pam_passwordless/identities\n";

// The person at the command line: answers credential requests from a script and keeps what was shown.
// Management asks no question and no assertion itself (those belong to the sign-in, faked below).
class Person final : public Connection {
  public:
    std::deque<Credential> keys;  // the key's next answers to credential requests
    std::vector<CredentialRequest> credential_requests;
    std::vector<std::vector<std::string>> listings;
    bool clock_started = false;

    Secret ask(const std::string& text, bool) override { gone("a question: " + text); }
    Assertion get_assertion(const AssertionRequest&, const std::function<void()>&) override {
        gone("an assertion");
    }
    void show_link(const std::string&, const std::string&, bool) override { gone("a link"); }
    Credential make_credential(const CredentialRequest& request) override {
        credential_requests.push_back(request);
        if (keys.empty()) gone("a credential");
        Credential c = keys.front();
        keys.pop_front();
        return c;
    }
    void send_listing(const std::vector<std::string>& records) override { listings.push_back(records); }
    void start_clock(std::chrono::milliseconds limit) override {
        clock_started = true;
        deadline_ = std::chrono::steady_clock::now() + limit;
    }
    Deadline deadline() const override { return deadline_; }
    std::chrono::milliseconds time_left() const override { return pp::time_left(deadline_); }

  private:
    [[noreturn]] static void gone(const std::string& what) {
        throw ConnectionEnded(Verdict{Outcome::ConvErr, "", "test person: nothing scripted for " + what});
    }
    Deadline deadline_{};
};

// The login side's sign-in, as management sees it: asked with which methods, answering as scripted.
class FakeSignIn final : public ManagementSignIn {
  public:
    std::variant<Presence, Verdict> answer = Presence{std::nullopt};
    std::vector<std::vector<Method>> asked;
    std::vector<bool> kept_token;
    int forgotten = 0;

    std::variant<Presence, Verdict> sign_in(const std::vector<Method>& methods,
                                            bool keep_access_token) override {
        asked.push_back(methods);
        kept_token.push_back(keep_access_token);
        return answer;
    }
    void forget_factors() override { ++forgotten; }
};

// A new ES256 credential as a key makes it for `rp_id` ("none" attestation: nothing to sign).
Credential new_key(const std::string& rp_id, const std::string& cred_id) {
    namespace t = cognito::test;
    const t::P256Key key;
    const std::string raw =
        t::authenticator_data(rp_id, t::flag_up | t::flag_at, 0,
                              t::attested_credential_data(std::string(16, '\0'), cred_id, key.cose_key()));
    Credential c;
    c.status = wire::DeviceStatus::Ok;
    c.fmt = "none";
    c.auth_data = t::cbor_bytes(raw);
    c.cred_id = cred_id;
    c.public_key = key.raw_public_key();
    c.algorithm = -7;
    return c;
}

protocol::Manage request(Op op, std::string user) {
    protocol::Manage m;
    m.op = op;
    m.user = std::move(user);
    return m;
}

class Manage : public ::testing::Test {
  protected:
    Manage() { configure("[login]\nmethods = security_key email_otp\n"); }

    void configure(const std::string& rest, const std::string& identities = "") {
        auto runtime = std::make_shared<Runtime>();
        Config c = parse_config(kPool + rest, dir_.file("helper.conf"));
        c.security_key.store_dir = store_dir_;
        runtime->config = std::move(c);
        runtime->identities = IdentityMap::parse(identities, "identities");
        runtime_ = std::move(runtime);
    }
    Verdict run(const protocol::Manage& m, uid_t caller = 0) {
        LoginContext ctx{};
        ctx.fd = -1;
        ctx.peer = ucred{::getpid(), caller, caller};
        ctx.runtime = runtime_;
        ctx.config_error = "broken";
        rec_ = AuditRecord{};
        return Management(ctx, person_, rec_, sign_in_).run(m);
    }
    std::vector<StoredCredential> stored(const std::string& user) const {
        return CredentialStore(store_dir_).load(user).credentials;
    }
    const std::string& rp_id() const { return runtime_->config.security_key.rp_id; }
    static uid_t nobody() {
        const auto uid = local_account_uid("nobody");
        EXPECT_TRUE(uid.has_value()) << "the tests need the account nobody";
        return uid.value_or(65534);
    }

    test::TestDir dir_;
    std::string store_dir_ = dir_.subdir("credentials", 0700);
    std::shared_ptr<const Runtime> runtime_;
    Person person_;
    FakeSignIn sign_in_;
    AuditRecord rec_;
};

void expect_ending(const Verdict& v, Outcome outcome, const std::string& text, const std::string& reason) {
    EXPECT_EQ(v.outcome(), outcome);
    EXPECT_EQ(v.person_text(), text);
    EXPECT_EQ(v.audit_reason(), reason);
}

TEST_F(Manage, AnInvalidTargetIsRefusedBeforeTheClockStarts) {
    expect_ending(run(request(Op::List, "no/such user")), Outcome::AuthErr, kInvalidUserName,
                  "invalid target user");
    EXPECT_FALSE(person_.clock_started);
}

TEST_F(Manage, WithoutAConfigurationTheRequestIsMisconfigured) {
    runtime_.reset();
    expect_ending(run(request(Op::List, "root")), Outcome::ServiceErr, kMisconfigured,
                  "configuration: broken");
}

TEST_F(Manage, EnrolmentForAnAccountThatIsNotHereIsSaidPlainly) {
    const Verdict v = run(request(Op::Enroll, "no-such-account-here"));
    expect_ending(v, Outcome::UserUnknown, "There is no local account 'no-such-account-here'.",
                  "target is not a local account");
    EXPECT_TRUE(person_.credential_requests.empty());
    EXPECT_EQ(rec_.method, "manage:enroll");
    EXPECT_EQ(rec_.service, kManageService);
}

TEST_F(Manage, RootEnrolsListsRenamesAndRemovesAKey) {
    person_.keys.push_back(new_key(rp_id(), std::string(32, '\x5a')));
    const Verdict enrolled = run(request(Op::Enroll, "root"));
    ASSERT_TRUE(enrolled.granted()) << enrolled.audit_reason();
    EXPECT_EQ(enrolled.person_text(), "Enrolled security key 'security key 1' for root.");
    EXPECT_THAT(enrolled.audit_reason(), StartsWith("enrolled credential "));
    ASSERT_EQ(person_.credential_requests.size(), 1u);
    EXPECT_EQ(person_.credential_requests[0].text, kTouchToEnrol);
    ASSERT_EQ(stored("root").size(), 1u);
    EXPECT_EQ(stored("root")[0].nickname, "security key 1");
    EXPECT_TRUE(sign_in_.asked.empty());  // root's authority is the kernel's word alone

    const Verdict listed = run(request(Op::List, "root"));
    ASSERT_TRUE(listed.granted());
    EXPECT_EQ(listed.person_text(), "1 security key(s) enrolled for root.");
    EXPECT_EQ(listed.audit_reason(), "listed");
    ASSERT_EQ(person_.listings.size(), 1u);
    ASSERT_EQ(person_.listings[0].size(), 1u);
    EXPECT_THAT(person_.listings[0][0], HasSubstr("\tname=security key 1\t"));

    const std::string id = base64url_encode(stored("root")[0].cred_id);
    auto rename = request(Op::Rename, "root");
    rename.cred_id = id.substr(0, 8);
    rename.text = "office";
    const Verdict renamed = run(rename);
    ASSERT_TRUE(renamed.granted()) << renamed.audit_reason();
    EXPECT_EQ(renamed.person_text(), "Renamed the security key to 'office'.");
    EXPECT_EQ(renamed.audit_reason(), "renamed credential " + id.substr(0, 16));
    EXPECT_EQ(stored("root")[0].nickname, "office");

    auto remove = request(Op::Remove, "root");
    remove.cred_id = id;
    const Verdict removed = run(remove);
    ASSERT_TRUE(removed.granted());
    EXPECT_EQ(removed.person_text(), kRemovedKey);
    EXPECT_TRUE(stored("root").empty());
}

TEST_F(Manage, AKeyThatMadeNoCredentialEndsAsTheOneMappingSays) {
    Credential refused;
    refused.status = wire::DeviceStatus::Timeout;
    person_.keys.push_back(refused);
    const Verdict v = run(request(Op::Enroll, "root"));
    const Verdict expected = login::key_status_verdict(wire::DeviceStatus::Timeout, login::KeyUse::Enrol);
    expect_ending(v, expected.outcome(), expected.person_text(), expected.audit_reason());
    EXPECT_TRUE(stored("root").empty());
}

TEST_F(Manage, AKeyAnswerForAnotherRelyingPartyIsNotStored) {
    person_.keys.push_back(new_key("pam://elsewhere", std::string(32, '\x11')));
    const Verdict v = run(request(Op::Enroll, "root"));
    EXPECT_EQ(v.outcome(), Outcome::AuthErr);
    EXPECT_EQ(v.person_text(), kKeyAnswerUnverified);
    EXPECT_THAT(v.audit_reason(), StartsWith("enrol: "));
    EXPECT_TRUE(stored("root").empty());
}

TEST_F(Manage, AnIdNamingNoKeyIsRefused) {
    auto remove = request(Op::Remove, "root");
    expect_ending(run(remove), Outcome::AuthErr, "No such security key.", "remove: bad credential id");
    auto rename = request(Op::Rename, "root");
    rename.cred_id = "AAAAAAAAAAAA";
    rename.text = "office";
    const Verdict v = run(rename);
    EXPECT_EQ(v.outcome(), Outcome::AuthErr);
    EXPECT_EQ(v.audit_reason(), "rename: credential id unknown");
}

TEST_F(Manage, AnotherAccountsKeysAreNotTheCallersToManage) {
    const uid_t caller = nobody();
    expect_ending(run(request(Op::List, "root"), caller), Outcome::AuthErr, kOwnKeysOnly,
                  "caller uid " + std::to_string(caller) + " may not manage this user's keys");
    expect_ending(run(request(Op::Import, "nobody"), caller), Outcome::AuthErr, kImportRootOnly,
                  "import by non-root");
    EXPECT_TRUE(sign_in_.asked.empty());
}

TEST_F(Manage, AnOwnerListsWithoutASignIn) {
    const Verdict v = run(request(Op::List, "nobody"), nobody());
    ASSERT_TRUE(v.granted()) << v.audit_reason();
    EXPECT_EQ(v.person_text(), "0 security key(s) enrolled for nobody.");
    EXPECT_TRUE(sign_in_.asked.empty());
}

TEST_F(Manage, AnOwnersChangeWaitsForTheSignInAndKeepsItsEnding) {
    sign_in_.answer = Verdict{Outcome::Abort, kCancelled, "no identifier given"};
    auto remove = request(Op::Remove, "nobody");
    remove.cred_id = "AAAA";
    expect_ending(run(remove, nobody()), Outcome::Abort, kCancelled, "no identifier given");
    ASSERT_EQ(sign_in_.asked.size(), 1u);
    EXPECT_EQ(sign_in_.asked[0], runtime_->config.methods_for(kManageService, false));
    EXPECT_FALSE(sign_in_.kept_token[0]);
}

TEST_F(Manage, ASelfEnrolmentIsProvenOnlyByMethodsStrongEnough) {
    // [login] takes keys and codes: a code proves it; a key would, but the account has none.
    sign_in_.answer = Verdict{Outcome::AuthErr, kSignInFailed, "wrong code"};
    expect_ending(run(request(Op::Enroll, "nobody"), nobody()), Outcome::AuthErr, kSignInFailed,
                  "wrong code");
    ASSERT_EQ(sign_in_.asked.size(), 1u);
    EXPECT_EQ(sign_in_.asked[0], std::vector<Method>{Method::EmailOtp});
    EXPECT_TRUE(person_.credential_requests.empty());

    // sudo takes keys alone: no code is strong enough, and the person is told to ask root.
    configure("[login]\nmethods = email_otp\n[service sudo]\nmethods = security_key\n");
    const Verdict v = run(request(Op::Enroll, "nobody"), nobody());
    EXPECT_EQ(v.outcome(), Outcome::AuthErr);
    EXPECT_THAT(v.person_text(), HasSubstr("pam-passwordless enroll --user nobody"));
    EXPECT_THAT(v.audit_reason(), StartsWith("self-enrolment refused: "));
    EXPECT_EQ(sign_in_.asked.size(), 1u);
}

TEST_F(Manage, ImportNeedsARelyingPartyAndSomethingToImport) {
    auto import = request(Op::Import, "root");
    expect_ending(run(import), Outcome::AuthErr, kImportNeedsRpId, "import: no rp id");
    import.rp_id = "pam://pam-passwordless";
    expect_ending(run(import), Outcome::AuthErr, kImportedNothing, "imported nothing, 0 problem(s)");
}

TEST_F(Manage, PoolPasskeysAreRefusedPlainlyBeforeAnySignIn) {
    const uid_t caller = nobody();
    expect_ending(run(request(Op::PoolList, "root"), caller), Outcome::AuthErr, kOwnPasskeysOnly,
                  "caller uid " + std::to_string(caller) + " may not manage this user's passkeys");
    expect_ending(run(request(Op::PoolList, "root")), Outcome::UserUnknown,
                  "root has no identity in the mapping file.", "no user-pool identity for this account");
    configure("[login]\nmethods = security_key\n", "root root@example.com\n");
    expect_ending(run(request(Op::PoolRegister, "root")), Outcome::AuthErr, kNoPoolMethod,
                  "no pool method for pam-passwordless");
    EXPECT_TRUE(sign_in_.asked.empty());
}

TEST_F(Manage, PoolPasskeysNeedTheSignInsAccessToken) {
    configure("[login]\nmethods = email_otp\n", "root root@example.com\n");
    sign_in_.answer = ManagementSignIn::Presence{std::nullopt};
    expect_ending(run(request(Op::PoolDelete, "root")), Outcome::AuthErr, kSignInFailed,
                  "no access token from the user pool's sign-in");
    ASSERT_EQ(sign_in_.kept_token.size(), 1u);
    EXPECT_TRUE(sign_in_.kept_token[0]);
    EXPECT_EQ(sign_in_.forgotten, 0);
}

// Review 31a: a user's own pool-register is proven by the rule a self-enrolment follows (enrol_policy.hpp),
// with the passkey as the credential added. sudo takes a passkey alone: a code does not prove it; root is
// exempt and signs the account in with any of the pool's methods.
TEST_F(Manage, ASelfRegistrationIsProvenOnlyByMethodsStrongEnough) {
    const std::string passkey_only =
        "[passkey]\nrp_id = auth.example.com\n[login]\nmethods = email_otp passkey\n[service sudo]\n"
        "methods = passkey\n";
    configure(passkey_only, "nobody nobody@example.com\nroot root@example.com\n");
    sign_in_.answer = Verdict{Outcome::AuthErr, kSignInFailed, "wrong code"};
    expect_ending(run(request(Op::PoolRegister, "nobody"), nobody()), Outcome::AuthErr, kSignInFailed,
                  "wrong code");
    ASSERT_EQ(sign_in_.asked.size(), 1u);
    EXPECT_EQ(sign_in_.asked[0], std::vector<Method>{Method::Passkey});
    // The pool offers nobody none of them (no passkey yet): told to ask root, not that nothing is available.
    sign_in_.answer = Verdict{Outcome::AuthErr, kNoMethodAvailable, "neither ..."};
    const Verdict none = run(request(Op::PoolRegister, "nobody"), nobody());
    EXPECT_THAT(none.person_text(), HasSubstr("pam-passwordless pool-register --user nobody"));
    EXPECT_THAT(none.audit_reason(), StartsWith("self-registration refused: the user pool offers"));
    // Listing and deleting add nothing: any of the pool's methods proves them.
    sign_in_.answer = Verdict{Outcome::AuthErr, kSignInFailed, "wrong code"};
    run(request(Op::PoolList, "nobody"), nobody());
    EXPECT_EQ(sign_in_.asked.back(), (std::vector<Method>{Method::EmailOtp, Method::Passkey}));
    // Root registers for anyone after any of them.
    run(request(Op::PoolRegister, "nobody"));
    EXPECT_EQ(sign_in_.asked.back(), (std::vector<Method>{Method::EmailOtp, Method::Passkey}));

    // [service pam-passwordless] without the passkey: refused before any sign-in.
    configure(passkey_only + "[service pam-passwordless]\nmethods = email_otp\n",
              "nobody nobody@example.com\n");
    const std::size_t asked = sign_in_.asked.size();
    const Verdict v = run(request(Op::PoolRegister, "nobody"), nobody());
    EXPECT_EQ(v.outcome(), Outcome::AuthErr);
    EXPECT_THAT(v.person_text(),
                HasSubstr("ask an administrator to run: pam-passwordless pool-register --user nobody"));
    EXPECT_THAT(v.audit_reason(), StartsWith("self-registration refused: no user-pool method of "));
    EXPECT_EQ(sign_in_.asked.size(), asked);
}

}  // namespace
}  // namespace pp::helper
