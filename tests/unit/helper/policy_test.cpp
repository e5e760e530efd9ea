// The policies of issue #10 finding 6 in isolation: which remote hosts are remote, what proves a
// self-enrolment, the claim-binding keys and check-config's warnings about each hazard.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "account_policy.hpp"
#include "config.hpp"
#include "enrol_policy.hpp"
#include "identity_map.hpp"
#include "remote_host.hpp"
#include "test_dir.hpp"
#include "trusted_file.hpp"

namespace pp::helper {
namespace {

using ::testing::HasSubstr;

const std::string kPool = "[pool]\npool_id = eu-west-1_AbCdEf123\nclient_id = 1example23456789abcdefghij\n";

Config parse(const std::string& rest, const std::string& binding = "claim = cognito:username\n") {
    return parse_config(kPool + "[binding]\n" + binding + rest, "test.conf");
}

std::string all_warnings(const Config& c) {
    std::string out;
    for (const auto& w : config_warnings(c)) out += w + "\n";
    return out;
}

TEST(RemoteHost, LoopbackNamesAndAddresses) {
    for (const char* h : {"127.0.0.1", "127.255.0.9", "::1", "[::1]", "::ffff:127.0.0.1", "localhost",
                          "LocalHost", "localhost.", "0:0:0:0:0:0:0:1"})
        EXPECT_TRUE(is_loopback_host(h)) << h;
    for (const char* h : {"", "128.0.0.1", "10.0.0.1", "::2", "::ffff:10.0.0.1", "localhost.example.com",
                          "mylocalhost", "127.0.0.1.example.com", "fe80::1%lo"})
        EXPECT_FALSE(is_loopback_host(h)) << h;
}

TEST(RemoteHost, LoopbackIsRemoteUnlessTheAdminSaysOtherwise) {
    const Config strict = parse("");
    EXPECT_FALSE(is_remote_login("", strict));
    EXPECT_TRUE(is_remote_login("127.0.0.1", strict));
    EXPECT_TRUE(is_remote_login("::1", strict));
    EXPECT_TRUE(is_remote_login("198.51.100.7", strict));
    const Config lax = parse("[login]\nloopback_is_local = yes\n");
    EXPECT_FALSE(is_remote_login("127.0.0.1", lax));
    EXPECT_FALSE(is_remote_login("localhost", lax));
    EXPECT_TRUE(is_remote_login("198.51.100.7", lax));
    EXPECT_THAT(all_warnings(lax), HasSubstr("loopback_is_local = yes"));
    EXPECT_THAT(all_warnings(strict), ::testing::Not(HasSubstr("loopback_is_local")));
}

TEST(EnrolPolicy, StrengthOrder) {
    EXPECT_GT(method_strength(Method::SecurityKey), method_strength(Method::Passkey));
    EXPECT_GT(method_strength(Method::Passkey), method_strength(Method::EmailOtp));
    EXPECT_EQ(method_strength(Method::EmailOtp), method_strength(Method::SmsOtp));
}

TEST(EnrolPolicy, KeyOnlyServiceRefusesCodeProvenSelfEnrolment) {
    const Config c = parse("[login]\nmethods = email_otp\n[service sudo]\nmethods = security_key\n");
    EXPECT_EQ(strength_to_add(c, Method::SecurityKey), method_strength(Method::SecurityKey));
    EXPECT_TRUE(methods_to_add(c, Method::SecurityKey).empty());
    EXPECT_EQ(strictest_service_for(c, Method::SecurityKey), "sudo");
    EXPECT_THAT(all_warnings(c), HasSubstr("[service sudo]"));
    EXPECT_THAT(all_warnings(c), HasSubstr("pam-passwordless enroll --user NAME"));
    EXPECT_THAT(describe_config(c), HasSubstr("self-enrolment: refused"));
}

TEST(EnrolPolicy, OnlyStrongEnoughMethodsProveSelfEnrolment) {
    const Config c =
        parse("[login]\nmethods = security_key email_otp\n[service sudo]\nmethods = security_key\n");
    EXPECT_EQ(methods_to_add(c, Method::SecurityKey), std::vector<Method>{Method::SecurityKey});
    EXPECT_THAT(all_warnings(c), HasSubstr("self-enrolment is proven only with security_key"));
}

TEST(EnrolPolicy, ServicesThatTakeCodesLetCodesProveIt) {
    const Config c = parse("[login]\nmethods = security_key email_otp\n");
    EXPECT_EQ(strength_to_add(c, Method::SecurityKey), method_strength(Method::EmailOtp));
    EXPECT_EQ(methods_to_add(c, Method::SecurityKey),
              (std::vector<Method>{Method::SecurityKey, Method::EmailOtp}));
    // No service accepts keys: nothing to protect.
    const Config codes = parse("[login]\nmethods = email_otp\n");
    EXPECT_EQ(strength_to_add(codes, Method::SecurityKey), 0);
    EXPECT_EQ(methods_to_add(codes, Method::SecurityKey), std::vector<Method>{Method::EmailOtp});
}

TEST(EnrolPolicy, ARemoteKeyListCounts) {
    const Config c = parse(
        "[login]\nmethods = email_otp\n[service sshd]\nmethods = email_otp\n"
        "remote_methods = security_key\n");
    EXPECT_TRUE(methods_to_add(c, Method::SecurityKey).empty());
}

// Review 31a: the same rule for a passkey registered with the user pool. A service that lets in with a pool
// passkey alone makes a code too weak to register one; root registers it instead, and check-config says both
// that and that the pool's own registrations are trusted as far.
const std::string kPasskey = "[passkey]\nrp_id = auth.example.com\n";

TEST(EnrolPolicy, APasskeyOnlyServiceRefusesCodeProvenPoolRegistration) {
    const Config c =
        parse(kPasskey + "[login]\nmethods = email_otp passkey\n[service sudo]\nmethods = passkey\n");
    EXPECT_EQ(strength_to_add(c, Method::Passkey), method_strength(Method::Passkey));
    EXPECT_EQ(methods_to_add(c, Method::Passkey), std::vector<Method>{Method::Passkey});
    EXPECT_EQ(strictest_service_for(c, Method::Passkey), "sudo");
    // No list accepts local keys: a code still enrols one (it opens nothing a code does not).
    EXPECT_EQ(strength_to_add(c, Method::SecurityKey), 0);
    const auto w = all_warnings(c);
    EXPECT_THAT(w, HasSubstr("a user's own pool-register is proven only with passkey."));
    EXPECT_THAT(w, HasSubstr("[service sudo] lets in with a user-pool passkey but no code: a pool passkey is "
                             "only as strong as the user pool's own sign-ins."));
    const Config codes_only =
        parse(kPasskey + "[login]\nmethods = email_otp\n[service sudo]\nmethods = passkey\n");
    EXPECT_TRUE(methods_to_add(codes_only, Method::Passkey).empty());
    EXPECT_THAT(describe_config(c),
                HasSubstr("self-registration (pool-register): after proof with passkey\n"));
    EXPECT_THAT(describe_config(codes_only), HasSubstr("self-registration (pool-register): refused"));
    EXPECT_THAT(all_warnings(codes_only),
                HasSubstr("root registers them, signing the account in with the pool "
                          "(pam-passwordless pool-register --user NAME)."));
    // Where every list that takes a passkey takes a code too, a code proves it, and nothing is said.
    const Config lax = parse(kPasskey + "[login]\nmethods = email_otp passkey\n");
    EXPECT_EQ(strength_to_add(lax, Method::Passkey), method_strength(Method::EmailOtp));
    EXPECT_EQ(methods_to_add(lax, Method::Passkey), (std::vector<Method>{Method::EmailOtp, Method::Passkey}));
    EXPECT_THAT(all_warnings(lax), ::testing::Not(HasSubstr("pool")));
}

// The chain: whatever a pool passkey proves for a local key's enrolment, registering that passkey needed at
// least as much. A code never buys, through a passkey, a key for a list that takes no code.
TEST(EnrolPolicy, APoolPasskeyIsNeverCheaperThanWhatItProves) {
    for (const char* rest : {"[service sudo]\nmethods = security_key passkey\n",
                             "[service sudo]\nmethods = passkey\n[service su]\nmethods = security_key\n",
                             "[service sudo]\nmethods = security_key\n",
                             "[service sshd]\nmethods = email_otp\nremote_methods = passkey security_key\n",
                             "[service sudo]\nmethods = security_key email_otp passkey\n", ""}) {
        const Config c = parse(kPasskey + "[login]\nmethods = email_otp passkey security_key\n" + rest);
        const auto local = methods_to_add(c, Method::SecurityKey);
        const int needed = strength_to_add(c, Method::SecurityKey);
        if (std::find(local.begin(), local.end(), Method::Passkey) != local.end()) {
            EXPECT_GE(strength_to_add(c, Method::Passkey), needed) << rest;
        }
        // A code that buys a passkey which then proves a key's enrolment could have proven that enrolment.
        const int code = method_strength(Method::EmailOtp);
        if (strength_to_add(c, Method::Passkey) <= code && needed <= method_strength(Method::Passkey)) {
            EXPECT_LE(needed, code) << rest;
        }
    }
}

TEST(ClaimBinding, RootAndSystemAccountsOnlyWhenListed) {
    const Config c = parse("");
    EXPECT_EQ(c.claim_min_uid, 1000u);
    EXPECT_FALSE(claim_may_bind(c, "root", 0));
    EXPECT_FALSE(claim_may_bind(c, "daemon", 1));
    EXPECT_FALSE(claim_may_bind(c, "sys", 999));
    EXPECT_TRUE(claim_may_bind(c, "alice", 1000));
    const Config listed =
        parse("", "claim = cognito:username\nclaim_allow_users = root backup\nclaim_min_uid = 500\n");
    EXPECT_TRUE(claim_may_bind(listed, "root", 0));
    EXPECT_TRUE(claim_may_bind(listed, "backup", 34));
    EXPECT_FALSE(claim_may_bind(listed, "daemon", 1));
    EXPECT_TRUE(claim_may_bind(listed, "svc", 500));
    const auto w = all_warnings(listed);
    EXPECT_THAT(w, HasSubstr("claim_min_uid = 500"));
    EXPECT_THAT(w, HasSubstr("claim_allow_users lists 'root' (root)"));
    EXPECT_THAT(w, HasSubstr("claim_allow_users lists 'backup'"));
    EXPECT_THAT(all_warnings(c), ::testing::Not(HasSubstr("claim_")));
    EXPECT_THAT(w, ::testing::Not(HasSubstr("only cognito:username is fixed")));
}

// Review 31a: a claim a person may write for themselves binds whoever writes a local name into it.
TEST(ClaimBinding, AClaimOtherThanTheUserNameIsWarnedAbout) {
    for (const char* claim : {"preferred_username", "custom:login", "email"}) {
        const auto w = all_warnings(parse("", std::string("claim = ") + claim + "\n"));
        EXPECT_THAT(w, HasSubstr(std::string("claim = ") + claim + ": only cognito:username is fixed"));
        EXPECT_THAT(w, HasSubstr("signs in as that account"));
    }
}

TEST(ClaimBinding, BadKeysAreRefused) {
    for (const char* line : {"claim_min_uid = 0", "claim_min_uid = -1", "claim_min_uid = x",
                             "claim_allow_users = bad/name", "claim_allow_users = root root"}) {
        try {
            (void)parse("", std::string("claim = cognito:username\n") + line + "\n");
            ADD_FAILURE() << "accepted " << line;
        } catch (const ConfigError& e) {
            EXPECT_THAT(e.what(), HasSubstr("test.conf:")) << line;
        }
    }
}

// A map line for an account that does not exist here is never used (such a name gets no code): the admin
// should hear about it, as a typo in a name is the likely cause. check-config prints these warnings and the
// helper logs them at each load (tests/pam/admin_cli_test.cpp runs both programs).
TEST(IdentityMapWarnings, LinesForAccountsThatDoNotExistHere) {
    if (!test::running_as_root()) GTEST_SKIP() << "the identity map must be owned by root";
    const test::TestDir dir;
    const auto map =
        dir.write("identities", "root root@example.com\nno-such-account-pp-test a@example.com\n", 0640);
    const auto loaded = IdentityMap::load(map);
    std::string w;
    for (const auto& line : loaded.warnings()) w += line + "\n";
    EXPECT_THAT(w, HasSubstr("'no-such-account-pp-test' is not a local account here"));
    EXPECT_THAT(w, ::testing::Not(HasSubstr("'root' is not")));
    EXPECT_THAT(w, ::testing::Not(HasSubstr("readable by every local user")));
}

// Readable by all is warned about (it tells every local user who is enrolled, and where); writable by group
// or others is refused, as for every file the helper trusts.
TEST(IdentityMapWarnings, AFileEveryoneCanReadIsWarnedAboutAndOneOthersCanWriteIsRefused) {
    if (!test::running_as_root()) GTEST_SKIP() << "the identity map must be owned by root";
    const test::TestDir dir;
    const auto readable = dir.write("identities", "root root@example.com\n", 0644);
    const auto loaded = IdentityMap::load(readable);
    ASSERT_EQ(loaded.warnings().size(), 1u);
    EXPECT_THAT(loaded.warnings()[0], HasSubstr("readable by every local user"));
    for (const mode_t mode : {0664, 0646})
        EXPECT_THROW(
            (void)IdentityMap::load(dir.write("identities-" + std::to_string(mode), "root r@x.org\n", mode)),
            FileError)
            << std::oct << mode;
}

TEST(LocalAccount, RootExistsAndANonsenseNameDoesNot) {
    EXPECT_EQ(local_account_uid("root"), 0u);
    EXPECT_FALSE(local_account_uid("no-such-account-pp-test").has_value());
}

}  // namespace
}  // namespace pp::helper
