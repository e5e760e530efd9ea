#include "config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "login/passkey_uv_memory.hpp"
#include "login/pool_session_memory.hpp"
#include "test_dir.hpp"
#include "trusted_file.hpp"

namespace pp::helper {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kSource = "/etc/pam_passwordless/helper.conf";

// The least a valid file needs; tests append to it or replace parts of it.
const std::string kPool = "[pool]\npool_id = eu-west-1_AbCdEf123\nclient_id = 1example23456789abcdefghij\n";
const std::string kBinding = "[binding]\nmapping_file = /etc/pam_passwordless/identities\n";
const std::string kMinimal = kPool + kBinding;

// The message parse_config throws for `text`; a failure when it accepts it.
std::string error_for(const std::string& text) {
    try {
        (void)parse_config(text, kSource);
    } catch (const ConfigError& e) {
        return e.what();
    }
    ADD_FAILURE() << "accepted:\n" << text;
    return {};
}

// The error for one "key = value" line put into `section` of an otherwise valid file, always as line 2.
std::string error_for_key(const std::string& section, const std::string& line) {
    if (section == "pool") return error_for("[pool]\n" + line + "\n" + kMinimal.substr(7));
    if (section == "binding") return error_for("[binding]\n" + line + "\n" + kBinding.substr(10) + kPool);
    return error_for("[" + section + "]\n" + line + "\n" + kMinimal);
}

const std::string kFull = R"(# every key, with comments and blank lines between

[pool]
region = eu-west-1
pool_id = eu-west-1_AbCdEf123   # trailing comment
client_id = 1example23456789abcdefghij
client_secret_file = /etc/pam_passwordless/client-secret
endpoint = https://cognito.example.test:8443/
issuer = https://issuer.example.test/eu-west-1_AbCdEf123
jwks_url = https://issuer.example.test/jwks.json
ca_file = /etc/pam_passwordless/ca.pem

[login]
methods = sms_otp email_otp
remote_methods = email_otp
max_tries = 5
request_timeout = 7
login_timeout = 120
unknown_user = ignore
allow_unprivileged_self = yes
max_concurrent_logins = 100
max_concurrent_per_caller = 4
loopback_is_local = no

[binding]
mapping_file = /etc/pam_passwordless/identities
claim = cognito:username
ask_identifier = yes
claim_min_uid = 1500
claim_allow_users =

[service sshd]
methods = email_otp

[service sudo]
remote_methods = sms_otp
methods = email_otp sms_otp

	[ service  gdm-password ]
	methods = sms_otp
)";

TEST(ParseConfig, FullFileSetsEveryKey) {
    const Config c = parse_config(kFull, kSource);
    EXPECT_EQ(c.source, kSource);
    EXPECT_EQ(c.region, "eu-west-1");
    EXPECT_EQ(c.pool_id, "eu-west-1_AbCdEf123");
    EXPECT_EQ(c.client_id, "1example23456789abcdefghij");
    EXPECT_EQ(c.client_secret_file, "/etc/pam_passwordless/client-secret");
    EXPECT_FALSE(c.client_secret.has_value());  // read by load_config, not by the parser
    EXPECT_EQ(c.endpoint, "https://cognito.example.test:8443/");
    EXPECT_EQ(c.issuer, "https://issuer.example.test/eu-west-1_AbCdEf123");
    EXPECT_EQ(c.jwks_url, "https://issuer.example.test/jwks.json");
    EXPECT_EQ(c.ca_file, "/etc/pam_passwordless/ca.pem");
    EXPECT_EQ(c.methods.local, (std::vector<Method>{Method::SmsOtp, Method::EmailOtp}));
    EXPECT_EQ(c.methods.remote, (std::vector<Method>{Method::EmailOtp}));
    EXPECT_EQ(c.max_tries, 5);
    EXPECT_EQ(c.request_timeout, std::chrono::seconds(7));
    EXPECT_EQ(c.login_timeout, std::chrono::seconds(120));
    EXPECT_EQ(c.unknown_user, UnknownUser::Ignore);
    EXPECT_TRUE(c.allow_unprivileged_self);
    EXPECT_EQ(c.max_concurrent_logins, 100);
    EXPECT_EQ(c.max_concurrent_per_caller, 4);
    EXPECT_FALSE(c.loopback_is_local);
    EXPECT_EQ(c.claim_min_uid, 1500u);
    EXPECT_TRUE(c.claim_allow_users.empty());
    EXPECT_EQ(c.mapping_file, "/etc/pam_passwordless/identities");
    EXPECT_EQ(c.claim, "cognito:username");
    EXPECT_TRUE(c.ask_identifier);
    ASSERT_EQ(c.services.size(), 3u);
    EXPECT_TRUE(c.services.count("sshd"));
    EXPECT_TRUE(c.services.count("sudo"));
    EXPECT_TRUE(c.services.count("gdm-password"));
}

// How long the pool's factors are trusted for the menu (factor_memory.hpp): a duration with a unit.
TEST(ParseConfig, RememberFactorsIsADurationAndZeroTurnsItOff) {
    EXPECT_EQ(parse_config(kMinimal, kSource).remember_factors, std::chrono::hours(24 * 30));
    for (const auto& [text, seconds] : std::vector<std::pair<std::string, long>>{{"30d", 30 * 86400},
                                                                                 {"12h", 12 * 3600},
                                                                                 {"90m", 5400},
                                                                                 {"3600", 3600},
                                                                                 {"1s", 1},
                                                                                 {"0", 0},
                                                                                 {"365d", 365 * 86400}}) {
        const Config c = parse_config("[login]\nremember_factors = " + text + "\n" + kMinimal, kSource);
        EXPECT_EQ(c.remember_factors.count(), seconds) << text;
    }
    for (const std::string bad : {"30x", "-1", "d", "1.5d", "366d", "9999999999", "30 d"})
        EXPECT_THAT(error_for_key("login", "remember_factors = " + bad),
                    HasSubstr(":2: remember_factors must be a duration such as 30d"))
            << bad;
    EXPECT_THAT(describe_config(parse_config(kMinimal, kSource)),
                HasSubstr("factor memory: the menu before the user pool is asked"));
    EXPECT_THAT(describe_config(parse_config("[login]\nremember_factors = 0\n" + kMinimal, kSource)),
                HasSubstr("factor memory: off (remember_factors = 0)"));
}

TEST(ParseConfig, MethodsForUsesTheServiceSectionOrTheLoginDefaults) {
    const Config c = parse_config(kFull, kSource);
    using V = std::vector<Method>;
    // No section of its own: [login].
    EXPECT_EQ(c.methods_for("login", false), (V{Method::SmsOtp, Method::EmailOtp}));
    EXPECT_EQ(c.methods_for("login", true), (V{Method::EmailOtp}));
    // Only methods given: remote logins get the same.
    EXPECT_EQ(c.methods_for("sshd", false), (V{Method::EmailOtp}));
    EXPECT_EQ(c.methods_for("sshd", true), (V{Method::EmailOtp}));
    // remote_methods given before methods still wins for remote logins.
    EXPECT_EQ(c.methods_for("sudo", false), (V{Method::EmailOtp, Method::SmsOtp}));
    EXPECT_EQ(c.methods_for("sudo", true), (V{Method::SmsOtp}));
    EXPECT_EQ(c.methods_for("gdm-password", false), (V{Method::SmsOtp}));
    EXPECT_EQ(c.methods_for("gdm-password", true), (V{Method::SmsOtp}));
}

// Review 31a: `sudo -i` authenticates as "sudo-i", `su -` as "su-l", `runuser -l` as "runuser-l"; a section
// of the program holds for its second name unless that has one of its own, recovery included. Other names
// with a dash are names of their own.
TEST(ParseConfig, ASecondPamNameOfAProgramFollowsItsSection) {
    using V = std::vector<Method>;
    const Config c = parse_config(kMinimal +
                                      "[login]\nmethods = email_otp\n"
                                      "[service sudo]\nmethods = security_key\nrecovery = no\n"
                                      "[service su]\nmethods = security_key\n"
                                      "[service runuser]\nmethods = sms_otp\n"
                                      "[service runuser-l]\nmethods = email_otp\n",
                                  kSource);
    EXPECT_EQ(c.methods_for("sudo-i", false), (V{Method::SecurityKey}));
    EXPECT_EQ(c.methods_for("sudo-i", true), V{});  // as sudo's: no key of the server for a remote login
    EXPECT_EQ(c.section_for("sudo-i"), "sudo");
    EXPECT_FALSE(c.recovery_for("sudo-i"));
    EXPECT_EQ(c.methods_for("su-l", false), (V{Method::SecurityKey}));
    EXPECT_TRUE(c.recovery_for("su-l"));
    EXPECT_EQ(c.methods_for("runuser-l", false), (V{Method::EmailOtp}));  // its own section
    EXPECT_EQ(c.section_for("runuser-l"), "runuser-l");
    // The other ways to root follow [service sudo] too; and names are compared as PAM names them.
    EXPECT_EQ(c.methods_for("polkit-1", false), (V{Method::SecurityKey}));
    EXPECT_EQ(c.methods_for("doas", false), (V{Method::SecurityKey}));
    EXPECT_EQ(c.section_for("SUDO"), "sudo");
    EXPECT_EQ(c.section_for("Sudo-I"), "sudo");
    for (const char* other : {"sudo-x", "su-i", "sudo-", "-i", "login-l", "sshd"}) {
        EXPECT_EQ(c.methods_for(other, false), (V{Method::EmailOtp})) << other;
        EXPECT_EQ(c.section_for(other), "") << other;
    }
    // Without a section of the program, its second name falls to [login] as the program does.
    const Config plain = parse_config(kMinimal + "[login]\nmethods = sms_otp\n", kSource);
    EXPECT_EQ(plain.methods_for("sudo-i", false), (V{Method::SmsOtp}));
    EXPECT_EQ(plain.section_for("sudo-i"), "");
    EXPECT_THAT(describe_config(c),
                HasSubstr("service sudo: security_key; remote logins: (none); also "
                          "for sudo-i (sudo -i); also for polkit-1 (pkexec); also for doas (doas)\n"));
    EXPECT_THAT(describe_config(c), HasSubstr("service sudo: no (and sudo-i)"));
    EXPECT_THAT(describe_config(c), Not(HasSubstr("also for runuser-l")));
}

// Review 31b: Linux-PAM lower-cases every service name, so [service Sudo] is sudo's section (and given
// beside [service sudo], twice).
TEST(ParseConfig, AServiceSectionIsNamedAsPamNamesItsService) {
    using V = std::vector<Method>;
    const Config c = parse_config(
        kMinimal + "[login]\nmethods = email_otp\n[service Sudo]\nmethods = security_key\n", kSource);
    EXPECT_EQ(c.methods_for("sudo", false), (V{Method::SecurityKey}));
    EXPECT_EQ(c.section_for("sudo"), "sudo");
    EXPECT_THAT(describe_config(c), HasSubstr("service sudo: security_key"));
    EXPECT_THROW(parse_config(kMinimal + "[service sudo]\nmethods = email_otp\n[service SUDO]\nmethods = "
                                         "email_otp\n",
                              kSource),
                 ConfigError);
}

TEST(ParseConfig, RemoteMethodsDefaultToLocalMethods) {
    const Config c = parse_config(kMinimal + "[login]\nmethods = sms_otp\n", kSource);
    EXPECT_EQ(c.methods_for("sshd", true), (std::vector<Method>{Method::SmsOtp}));
    EXPECT_EQ(c.methods_for("sshd", false), (std::vector<Method>{Method::SmsOtp}));
}

TEST(ParseConfig, RemoteMethodsBeforeMethodsAreKept) {
    const Config c =
        parse_config(kMinimal + "[login]\nremote_methods = sms_otp\nmethods = email_otp\n", kSource);
    EXPECT_EQ(c.methods.local, (std::vector<Method>{Method::EmailOtp}));
    EXPECT_EQ(c.methods.remote, (std::vector<Method>{Method::SmsOtp}));
}

TEST(ParseConfig, EmptyMethodsDisableAndWarn) {
    const Config c = parse_config(kMinimal + "[login]\nmethods =\n", kSource);
    EXPECT_TRUE(c.methods.local.empty());
    EXPECT_TRUE(c.methods.remote.empty());
    const auto w = config_warnings(c);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_THAT(w[0], HasSubstr("no method is enabled"));
}

TEST(ParseConfig, DefaultsAreDerivedFromThePoolId) {
    const Config c = parse_config(kMinimal, kSource);
    EXPECT_EQ(c.region, "eu-west-1");
    EXPECT_EQ(c.endpoint, "https://cognito-idp.eu-west-1.amazonaws.com/");
    EXPECT_EQ(c.issuer, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123");
    EXPECT_EQ(c.jwks_url,
              "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json");
    EXPECT_TRUE(c.client_secret_file.empty());
    EXPECT_TRUE(c.ca_file.empty());
    EXPECT_EQ(c.methods.local, (std::vector<Method>{Method::EmailOtp}));
    EXPECT_EQ(c.methods.remote, (std::vector<Method>{Method::EmailOtp}));
    EXPECT_EQ(c.max_tries, 3);
    EXPECT_EQ(c.request_timeout, std::chrono::seconds(10));
    EXPECT_EQ(c.login_timeout, std::chrono::seconds(300));
    EXPECT_EQ(c.unknown_user, UnknownUser::Fail);
    EXPECT_FALSE(c.allow_unprivileged_self);
    EXPECT_EQ(c.max_concurrent_logins, 64);
    EXPECT_EQ(c.max_concurrent_per_caller, 16);
    EXPECT_TRUE(c.claim.empty());
    EXPECT_FALSE(c.ask_identifier);
    EXPECT_TRUE(c.services.empty());
    EXPECT_TRUE(config_warnings(c).empty());
}

// The example's ids name no pool: check-config says so (the example itself must still load: the package
// installs it and the unit checks it before every start).
TEST(ParseConfig, PlaceholderIdsAreNamed) {
    const std::string binding = "[binding]\nclaim = cognito:username\n";
    const auto w = placeholder_warning(parse_config(kPool + binding, kSource));
    ASSERT_TRUE(w.has_value());
    EXPECT_THAT(*w, HasSubstr("eu-west-1_AbCdEf123"));
    EXPECT_THAT(*w, HasSubstr("placeholder"));
    EXPECT_THAT(*w, HasSubstr("check-config --online"));
    EXPECT_TRUE(placeholder_warning(
                    parse_config("[pool]\npool_id = eu-west-1_AbCdEf123\nclient_id = realclient\n" + binding,
                                 kSource))
                    .has_value());
    EXPECT_FALSE(
        placeholder_warning(
            parse_config("[pool]\npool_id = eu-west-1_Real42\nclient_id = realclient\n" + binding, kSource))
            .has_value());
}

TEST(ParseConfig, IssuerDefaultFollowsAnOtherRegion) {
    const Config c = parse_config(
        "[pool]\npool_id = ap-southeast-2_Xyz9\nclient_id = abc\n[binding]\nclaim = cognito:username\n",
        kSource);
    EXPECT_EQ(c.region, "ap-southeast-2");
    EXPECT_EQ(c.issuer, "https://cognito-idp.ap-southeast-2.amazonaws.com/ap-southeast-2_Xyz9");
    // jwks_url follows an issuer that was set explicitly.
    const Config d = parse_config(kPool + "issuer = https://idp.example.test/p\n" + kBinding, kSource);
    EXPECT_EQ(d.jwks_url, "https://idp.example.test/p/.well-known/jwks.json");
    EXPECT_EQ(d.endpoint, "https://cognito-idp.eu-west-1.amazonaws.com/");
}

TEST(ParseConfig, BooleansAcceptYesNoTrueFalse) {
    EXPECT_TRUE(parse_config(kMinimal + "[login]\nallow_unprivileged_self = true\n", kSource)
                    .allow_unprivileged_self);
    EXPECT_FALSE(
        parse_config(kMinimal + "[login]\nallow_unprivileged_self = no\n", kSource).allow_unprivileged_self);
    EXPECT_FALSE(parse_config(kMinimal + "[login]\nallow_unprivileged_self = false\n", kSource)
                     .allow_unprivileged_self);
}

TEST(ParseConfig, IntegerBoundsAreInclusive) {
    const Config lo = parse_config(kMinimal +
                                       "[login]\nmax_tries = 1\nrequest_timeout = 1\nlogin_timeout = 10\n"
                                       "max_concurrent_logins = 1\nmax_concurrent_per_caller = 1\n",
                                   kSource);
    EXPECT_EQ(lo.max_tries, 1);
    EXPECT_EQ(lo.request_timeout.count(), 1);
    EXPECT_EQ(lo.login_timeout.count(), 10);
    const Config hi =
        parse_config(kMinimal +
                         "[login]\nmax_tries = 10\nrequest_timeout = 120\nlogin_timeout = 3600\n"
                         "max_concurrent_logins = 4096\nmax_concurrent_per_caller = 4096\n",
                     kSource);
    EXPECT_EQ(hi.max_tries, 10);
    EXPECT_EQ(hi.request_timeout.count(), 120);
    EXPECT_EQ(hi.login_timeout.count(), 3600);
    EXPECT_EQ(hi.max_concurrent_logins, 4096);
    EXPECT_EQ(hi.max_concurrent_per_caller, 4096);
}

TEST(ParseConfig, TheMachineCeilingAndTheStoreCapAreBoundedAndShown) {
    const Config c = parse_config(kMinimal + "[limits]\nsends_per_hour = 50\nstate_max_size = 64\n", kSource);
    EXPECT_EQ(c.limits.sends_per_hour, 50);
    EXPECT_EQ(c.limits.state_max_bytes, 64 * 1024);
    EXPECT_EQ(parse_config(kMinimal, kSource).limits.sends_per_hour, 200);
    EXPECT_THAT(describe_config(c), HasSubstr("50 per hour from this machine"));
    EXPECT_THAT(describe_config(c), HasSubstr("at most 64 KiB"));
    EXPECT_THAT(error_for_key("limits", "sends_per_hour = 0"), HasSubstr("sends_per_hour"));
    EXPECT_THAT(error_for_key("limits", "state_max_size = 63"), HasSubstr("state_max_size"));
}

TEST(ParseConfig, UnknownKeyNamesFileAndLine) {
    EXPECT_THAT(error_for(kMinimal + "\n# comment\n[login]\nx = 1\n"),
                StartsWith(std::string(kSource) + ":9: unknown key 'x'"));
    EXPECT_THAT(error_for("[pool]\nx = 1\n"),
                StartsWith(std::string(kSource) + ":2: unknown key 'x' in [pool]"));
    EXPECT_THAT(error_for_key("binding", "x = 1"), StartsWith(std::string(kSource) + ":2: unknown key 'x'"));
    EXPECT_THAT(error_for_key("service sshd", "max_tries = 3"),
                StartsWith(std::string(kSource) + ":2: unknown key 'max_tries' in [service sshd]"));
}

TEST(ParseConfig, BadPoolValues) {
    EXPECT_THAT(error_for_key("pool", "region = eu_west_1"),
                HasSubstr(":2: region must look like eu-west-1"));
    EXPECT_THAT(error_for_key("pool", "region = EU-WEST-1"), HasSubstr("region must look like"));
    EXPECT_THAT(error_for_key("pool", "region = eu-west"), HasSubstr("region must look like"));
    for (const char* id : {"eu-west-1", "eu-west-1_", "eu-west-1_Ab-Cd", "_AbCd", "eu-west-1_AbCd!"})
        EXPECT_THAT(error_for("[pool]\npool_id = " + std::string(id) + "\n"),
                    HasSubstr(":2: pool_id must look like eu-west-1_AbCdEf123"))
            << id;
    EXPECT_THAT(error_for("[pool]\npool_id = eu-west-1_" + std::string(46, 'a') + "\n"),
                HasSubstr("pool_id must look like"));
    for (const char* id : {"abc-def", "abc def", "abc/def", "abc=", "é"})
        EXPECT_THAT(error_for_key("pool", "client_id = " + std::string(id)),
                    HasSubstr(":2: client_id must be"))
            << id;
    EXPECT_THAT(error_for_key("pool", "client_id = " + std::string(129, 'a')),
                HasSubstr("client_id must be"));
    EXPECT_THAT(error_for_key("pool", "client_secret_file = etc/secret"),
                HasSubstr(":2: client_secret_file must be an absolute path"));
    EXPECT_THAT(error_for_key("pool", "ca_file = ca.pem"), HasSubstr("ca_file must be an absolute path"));
    EXPECT_THAT(error_for_key("pool", "ca_file = /" + std::string(4096, 'a')), HasSubstr("ca_file must be"));
    for (const char* key : {"endpoint", "issuer", "jwks_url"}) {
        for (const char* url :
             {"http://cognito.example.test/", "https://", "ftp://x", "https://a b", "https://x\"y",
              "https://x'y", "https://x<y", "https://x\\y", "cognito.example.test"})
            EXPECT_THAT(error_for_key("pool", std::string(key) + " = " + url),
                        HasSubstr(":2: " + std::string(key) + " must be an https:// URL"))
                << key << " " << url;
        EXPECT_THAT(error_for_key("pool", std::string(key) + " = https://" + std::string(505, 'a')),
                    HasSubstr("must be an https:// URL"));
    }
    // 512 characters in all is still allowed.
    EXPECT_EQ(parse_config(kPool + "endpoint = https://" + std::string(504, 'a') + "\n" + kBinding, kSource)
                  .endpoint.size(),
              512u);
}

TEST(ParseConfig, OverlongValuesAreRefusedWithoutCrashing) {
    // Within the 256 KiB that load_config reads; std::regex would recurse once per character.
    const std::string lots(200 * 1024, 'a');
    EXPECT_THAT(error_for_key("pool", "region = eu-" + lots + "-1"), HasSubstr("region must look like"));
    EXPECT_THAT(error_for("[pool]\npool_id = eu-" + lots + "-1_Ab\n"), HasSubstr("pool_id must look like"));
    EXPECT_THAT(error_for_key("pool", "client_id = " + lots), HasSubstr("client_id must be"));
    EXPECT_THAT(error_for_key("binding", "claim = " + lots), HasSubstr("claim must be"));
}

TEST(ParseConfig, RegionMustMatchThePoolId) {
    EXPECT_EQ(error_for(kPool + "region = us-east-1\n" + kBinding),
              std::string(kSource) + ": [pool] region 'us-east-1' differs from the pool id's 'eu-west-1'");
    EXPECT_EQ(parse_config(kPool + "region = eu-west-1\n" + kBinding, kSource).region, "eu-west-1");
}

TEST(ParseConfig, BadLoginValues) {
    for (const char* v : {"0", "11", "-1", "three", "3x", "+3", "", "99999999999999999999"})
        EXPECT_THAT(error_for_key("login", std::string("max_tries = ") + v),
                    HasSubstr(":2: max_tries must be a whole number from 1 to 10"))
            << v;
    EXPECT_THAT(error_for_key("login", "request_timeout = 0"),
                HasSubstr("request_timeout must be a whole number from 1 to 120"));
    EXPECT_THAT(error_for_key("login", "request_timeout = 121"), HasSubstr("request_timeout must be"));
    EXPECT_THAT(error_for_key("login", "login_timeout = 9"),
                HasSubstr("login_timeout must be a whole number from 10 to 3600"));
    EXPECT_THAT(error_for_key("login", "login_timeout = 3601"), HasSubstr("login_timeout must be"));
    EXPECT_THAT(error_for_key("login", "max_concurrent_logins = 0"),
                HasSubstr("max_concurrent_logins must be a whole number from 1 to 4096"));
    EXPECT_THAT(error_for_key("login", "max_concurrent_per_caller = 4097"),
                HasSubstr("max_concurrent_per_caller must be a whole number from 1 to 4096"));
    EXPECT_THAT(error_for_key("login", "unknown_user = maybe"),
                HasSubstr(":2: unknown_user must be fail or ignore"));
    EXPECT_THAT(error_for_key("login", "allow_unprivileged_self = 1"),
                HasSubstr(":2: allow_unprivileged_self must be yes or no"));
}

TEST(ParseConfig, BadMethods) {
    EXPECT_THAT(
        error_for_key("login", "methods = email_otp password"),
        HasSubstr(":2: methods: unknown method 'password' (known: email_otp sms_otp security_key passkey "
                  "browser)"));
    EXPECT_THAT(error_for_key("login", "remote_methods = EMAIL_OTP"),
                HasSubstr("unknown method 'EMAIL_OTP'"));
    EXPECT_THAT(error_for_key("login", "methods = email_otp sms_otp email_otp"),
                HasSubstr(":2: methods: method 'email_otp' listed twice"));
    EXPECT_THAT(error_for_key("service sshd", "methods = webauthn"),
                HasSubstr(":2: methods: unknown method"));
    EXPECT_THAT(error_for_key("service sshd", "remote_methods = sms_otp sms_otp"),
                HasSubstr("remote_methods: method 'sms_otp' listed twice"));
}

TEST(ParseConfig, BadBindingValues) {
    EXPECT_THAT(error_for_key("binding", "claim = cognito username"),
                HasSubstr(":2: claim must be a claim name"));
    EXPECT_THAT(error_for_key("binding", "claim = " + std::string(65, 'c')), HasSubstr("claim must be"));
    EXPECT_THAT(error_for_key("binding", "ask_identifier = sometimes"),
                HasSubstr("ask_identifier must be yes or no"));
    EXPECT_THAT(error_for("[binding]\nmapping_file = identities\n"),
                HasSubstr(":2: mapping_file must be an absolute"));
}

TEST(ParseConfig, StructuralErrorsNameTheLine) {
    EXPECT_THAT(error_for(kPool + "client_id = other\n" + kBinding),
                StartsWith(std::string(kSource) + ":4: 'client_id' given twice in [pool]"));
    EXPECT_THAT(error_for(kMinimal + "[service sshd]\nmethods = email_otp\n[service sshd]\n"),
                StartsWith(std::string(kSource) + ":8: section [service sshd] given twice"));
    EXPECT_THAT(error_for(kMinimal + "[service sshd]\nmethods = sms_otp\nmethods = email_otp\n"),
                StartsWith(std::string(kSource) + ":8: 'methods' given twice in [service sshd]"));
    EXPECT_THAT(error_for(kMinimal + "[logins]\n"),
                StartsWith(std::string(kSource) + ":6: unknown section [logins]"));
    EXPECT_THAT(error_for(kMinimal + "[service]\n"),
                StartsWith(std::string(kSource) + ":6: unknown section [service]"));
    EXPECT_THAT(error_for(kMinimal + "[service a/b]\n"),
                StartsWith(std::string(kSource) + ":6: invalid service name in [service a/b]"));
    EXPECT_THAT(error_for(kMinimal + "[service " + std::string(129, 's') + "]\n"),
                HasSubstr("invalid service name"));
    EXPECT_THAT(error_for(kMinimal + "[login\n"),
                StartsWith(std::string(kSource) + ":6: section header must end"));
    EXPECT_THAT(error_for("# first\nregion = eu-west-1\n" + kMinimal),
                StartsWith(std::string(kSource) + ":2: 'region' outside a section"));
    EXPECT_THAT(error_for(kMinimal + "[login]\nmax_tries 3\n"),
                StartsWith(std::string(kSource) + ":7: expected 'key = value'"));
}

TEST(ParseConfig, RequiredKeys) {
    EXPECT_EQ(error_for("[pool]\nclient_id = abc\n" + kBinding),
              std::string(kSource) + ": [pool] pool_id is required");
    EXPECT_EQ(error_for("[pool]\npool_id = eu-west-1_Ab\n" + kBinding),
              std::string(kSource) + ": [pool] client_id is required");
    EXPECT_EQ(error_for(""), std::string(kSource) + ": [pool] pool_id is required");
}

TEST(ParseConfig, BindingIsRequired) {
    EXPECT_THAT(error_for(kPool),
                StartsWith(std::string(kSource) + ": [binding] needs mapping_file or claim"));
    EXPECT_THAT(error_for(kPool + "[binding]\nask_identifier = no\n"),
                HasSubstr("needs mapping_file or claim"));
    EXPECT_NO_THROW(parse_config(kPool + "[binding]\nclaim = cognito:username\n", kSource));
}

TEST(ParseConfig, AskIdentifierNeedsClaim) {
    EXPECT_THAT(error_for(kMinimal + "[binding]\nask_identifier = yes\n"),
                StartsWith(std::string(kSource) + ": [binding] ask_identifier = yes needs claim"));
}

TEST(ParseConfig, WindowsLineEndingsAndTabsAreTolerated) {
    const Config c = parse_config(
        "[pool]\r\n\tpool_id\t=\teu-west-1_Ab\r\nclient_id = abc \r\n[binding]\r\n"
        "claim = sub\r\n",
        kSource);
    EXPECT_EQ(c.pool_id, "eu-west-1_Ab");
    EXPECT_EQ(c.client_id, "abc");
    EXPECT_EQ(c.claim, "sub");
}

TEST(DescribeConfig, ShowsTheSettingsInForce) {
    const Config c = parse_config(kFull, kSource);
    const std::string d = describe_config(c);
    EXPECT_THAT(d, HasSubstr("configuration: /etc/pam_passwordless/helper.conf\n"));
    EXPECT_THAT(d,
                HasSubstr("pool: eu-west-1_AbCdEf123 (region eu-west-1), client 1example23456789abcdefghij, "
                          "no client secret\n"));
    EXPECT_THAT(d, HasSubstr("endpoint: https://cognito.example.test:8443/\n"));
    EXPECT_THAT(d, HasSubstr("trust: /etc/pam_passwordless/ca.pem (peer and host always verified)\n"));
    EXPECT_THAT(d, HasSubstr("methods: sms_otp email_otp; remote logins: email_otp\n"));
    EXPECT_THAT(d, HasSubstr("service sudo: email_otp sms_otp; remote logins: sms_otp; also for sudo-i "
                             "(sudo -i); also for polkit-1 (pkexec); also for doas (doas)\n"));
    EXPECT_THAT(d, HasSubstr("max_tries: 5, request timeout 7 s, login timeout 120 s\n"));
    EXPECT_THAT(d,
                HasSubstr("binding: mapping /etc/pam_passwordless/identities and claim cognito:username must "
                          "equal the local user; unmapped users are asked for their email or phone\n"));
    EXPECT_THAT(d, HasSubstr("unknown users: PAM_IGNORE\n"));
    EXPECT_THAT(d, HasSubstr("non-root callers: may authenticate themselves\n"));

    const std::string m = describe_config(parse_config(kMinimal + "[login]\nremote_methods =\n", kSource));
    EXPECT_THAT(m, HasSubstr("trust: system CA store"));
    EXPECT_THAT(m, HasSubstr("methods: email_otp; remote logins: (none)\n"));
    EXPECT_THAT(m, HasSubstr("binding: mapping /etc/pam_passwordless/identities\n"));
    EXPECT_THAT(m, HasSubstr("unknown users: the decoy, ending as a real user failing the same way\n"));
    EXPECT_THAT(m, HasSubstr("non-root callers: refused\n"));
}

TEST(DescribeConfig, NeverShowsTheClientSecret) {
    Config c = parse_config(kMinimal, kSource);
    c.client_secret = Secret(std::string_view("very-secret-value"));
    const std::string d = describe_config(c);
    EXPECT_THAT(d, HasSubstr("with a client secret"));
    EXPECT_THAT(d, ::testing::Not(HasSubstr("very-secret-value")));
}

TEST(ConfigWarnings, AskIdentifierAndIgnoreAreCalledOut) {
    const auto w = config_warnings(parse_config(kFull, kSource));
    ASSERT_EQ(w.size(), 2u);
    EXPECT_THAT(w[0], HasSubstr("ask_identifier = yes"));
    EXPECT_THAT(w[0], HasSubstr("claim 'cognito:username'"));
    EXPECT_THAT(w[0], HasSubstr("which names are local accounts the claim may bind"));
    EXPECT_THAT(w[1], HasSubstr("unknown_user = ignore"));
}

TEST(MethodNames, AsWrittenAndAsThePoolNamesThem) {
    EXPECT_EQ(method_name(Method::EmailOtp), "email_otp");
    EXPECT_EQ(method_name(Method::SmsOtp), "sms_otp");
    EXPECT_EQ(method_challenge(Method::EmailOtp), "EMAIL_OTP");
    EXPECT_EQ(method_challenge(Method::SmsOtp), "SMS_OTP");
}

TEST(ParseConfig, AdmissionKeys) {
    const Config d = parse_config(kMinimal, kSource);
    EXPECT_EQ(d.max_remote_logins, 4096);
    EXPECT_EQ(d.refusal_log_interval, std::chrono::seconds(60));
    const Config c =
        parse_config(kMinimal + "[login]\nmax_remote_logins = 20000\nrefusal_log_interval = 300\n", kSource);
    EXPECT_EQ(c.max_remote_logins, 20000);
    EXPECT_EQ(c.refusal_log_interval, std::chrono::seconds(300));
    EXPECT_THAT(describe_config(c), HasSubstr("64 local (no remote host), 20000 remote"));
    EXPECT_THAT(describe_config(c), HasSubstr("every 300 s"));
    EXPECT_THAT(error_for_key("login", "max_remote_logins = 0"),
                HasSubstr("max_remote_logins must be a whole number from 1 to 65536"));
    EXPECT_THAT(error_for_key("login", "refusal_log_interval = 86401"),
                HasSubstr("refusal_log_interval must be a whole number from 1 to 86400"));
}

// Recovery codes: on by default for every service, closed per service or everywhere, and a warning when the
// admin says yes for sshd, where it can have no effect.
TEST(ParseConfig, RecoveryIsPerServiceAndWarnsForSshd) {
    const Config d = parse_config(kMinimal, kSource);
    EXPECT_TRUE(d.recovery_for("sudo"));
    EXPECT_EQ(d.recovery.store_dir, "/var/lib/pam_passwordless/recovery");
    const Config c = parse_config(kMinimal +
                                      "[recovery]\nenabled = no\nstore_dir = /srv/rc\n"
                                      "[service sudo]\nrecovery = yes\n[service sshd]\nrecovery = yes\n",
                                  kSource);
    EXPECT_FALSE(c.recovery_for("login"));
    EXPECT_TRUE(c.recovery_for("sudo"));
    EXPECT_EQ(c.recovery.store_dir, "/srv/rc");
    const auto w = config_warnings(c);
    EXPECT_TRUE(std::any_of(w.begin(), w.end(), [](const std::string& s) {
        return s.find("[service sshd] recovery = yes has no effect") != std::string::npos;
    }));
    EXPECT_THAT(describe_config(c), HasSubstr("recovery codes: not offered"));
    EXPECT_THAT(error_for(kMinimal + "[recovery]\nenabled = maybe\n"),
                HasSubstr("enabled must be yes or no"));
    EXPECT_THAT(error_for(kMinimal + "[recovery]\nstore_dir = relative\n"), HasSubstr("store_dir"));
    EXPECT_THAT(error_for(kMinimal + "[service sudo]\nrecovery = 1\n"),
                HasSubstr("recovery must be yes or no"));
}

}  // namespace
}  // namespace pp::helper

namespace pp::helper {
namespace {

// [pool] proxy: plain http://HOST:PORT only; the rest is refused with what it must look like.
TEST(ParseConfig, ProxyIsAnHttpHostAndPort) {
    EXPECT_EQ(parse_config(kMinimal, kSource).proxy, "");
    for (const char* good : {"http://proxy.example.net:3128", "http://127.0.0.1:8080/", "http://[::1]:3128"})
        EXPECT_EQ(parse_config(kMinimal + "[pool]\nproxy = " + good + "\n", kSource).proxy, good);
    for (const char* bad : {"https://proxy.example.net:3128", "http://proxy.example.net", "proxy:3128",
                            "http://user:pass@proxy:3128", "http://proxy:3128/path", "http://proxy:0",
                            "http://proxy:65536", "socks5://proxy:1080", "http://pro xy:3128"})
        EXPECT_THAT(error_for_key("pool", std::string("proxy = ") + bad),
                    StartsWith(std::string(kSource) + ":2: proxy "))
            << bad;
}

TEST(ParseConfig, LogLevelIsInfoOrDebug) {
    EXPECT_FALSE(parse_config(kMinimal, kSource).debug_log);
    EXPECT_TRUE(parse_config(kMinimal + "[log]\nlevel = debug\n", kSource).debug_log);
    EXPECT_FALSE(parse_config(kMinimal + "[log]\nlevel = info\n", kSource).debug_log);
    EXPECT_THAT(error_for_key("log", "level = trace"),
                StartsWith(std::string(kSource) + ":2: level must be info or debug"));
    EXPECT_THAT(error_for_key("log", "x = 1"),
                StartsWith(std::string(kSource) + ":2: unknown key 'x' in [log]"));
}

TEST(DescribeConfig, ShowsTheProxyAndTheLogLevel) {
    const std::string none = describe_config(parse_config(kMinimal, kSource));
    EXPECT_THAT(none, HasSubstr("proxy: none (https_proxy and the like in the environment are ignored)\n"));
    EXPECT_THAT(none, HasSubstr("log level: info\n"));
    const std::string set = describe_config(parse_config(
        kMinimal + "[pool]\nproxy = http://proxy.example.net:3128\n[log]\nlevel = debug\n", kSource));
    EXPECT_THAT(
        set,
        HasSubstr("proxy: http://proxy.example.net:3128 (CONNECT tunnel; TLS to the pool end to end)\n"));
    EXPECT_THAT(set, HasSubstr("log level: debug"));
}

}  // namespace
}  // namespace pp::helper

namespace pp::helper {
namespace {

// [browser] (issue #13): the managed login's domain, a public app client and the callback page.
const std::string kBrowser =
    "[browser]\ndomain = pamdemo.auth.eu-west-1.amazoncognito.com\nredirect_uri = "
    "https://pam.example.org/cb\n";

TEST(BrowserConfig, ASectionWithADomainSetsBrowserSignIn) {
    const Config c = parse_config(kMinimal + "[login]\nmethods = email_otp browser\n" + kBrowser, kSource);
    ASSERT_TRUE(c.browser);
    EXPECT_EQ(c.browser->domain, "pamdemo.auth.eu-west-1.amazoncognito.com");
    EXPECT_EQ(c.browser->redirect_uri, "https://pam.example.org/cb");
    // No client secret in [pool]: its client serves the browser sign-in too.
    EXPECT_EQ(c.browser->client_id, "1example23456789abcdefghij");
    EXPECT_EQ(c.browser->scopes, (std::vector<std::string>{"openid", "email", "phone"}));
    EXPECT_FALSE(c.browser->require_passkey);
    EXPECT_TRUE(c.browser->show_qr);
    EXPECT_EQ(c.browser->link, BrowserSignIn::Link::Short);
    EXPECT_EQ(c.methods.local, (std::vector<Method>{Method::EmailOtp, Method::Browser}));
    // Not a key plugged into this machine: remote logins get it too.
    EXPECT_EQ(c.methods.remote, (std::vector<Method>{Method::EmailOtp, Method::Browser}));
    EXPECT_THAT(describe_config(c), HasSubstr("browser sign-in: managed login "
                                              "https://pamdemo.auth.eu-west-1.amazoncognito.com, public app "
                                              "client 1example23456789abcdefghij"));
}

TEST(BrowserConfig, EveryKey) {
    const Config c = parse_config(kMinimal +
                                      "[browser]\ndomain = localhost:8443\nclient_id = 7d2pub\n"
                                      "redirect_uri = https://localhost:9443/cb/\nscopes = openid email\n"
                                      "require_passkey = yes\nshow_qr = no\nlink = full\n",
                                  kSource);
    ASSERT_TRUE(c.browser);
    EXPECT_EQ(c.browser->domain, "localhost:8443");
    EXPECT_EQ(c.browser->client_id, "7d2pub");
    EXPECT_EQ(c.browser->redirect_uri, "https://localhost:9443/cb/");
    EXPECT_EQ(c.browser->scopes, (std::vector<std::string>{"openid", "email"}));
    EXPECT_TRUE(c.browser->require_passkey);
    EXPECT_FALSE(c.browser->show_qr);
    EXPECT_EQ(c.browser->link, BrowserSignIn::Link::Full);
    EXPECT_THAT(describe_config(c), HasSubstr("full authorize link"));
    const auto w = config_warnings(c);
    EXPECT_TRUE(std::any_of(w.begin(), w.end(), [](const std::string& s) {
        return s.find("no methods list browser") != std::string::npos;
    }));
    EXPECT_TRUE(std::any_of(w.begin(), w.end(), [](const std::string& s) {
        return s.find("on the loopback") != std::string::npos;
    }));
    EXPECT_TRUE(std::any_of(w.begin(), w.end(), [](const std::string& s) {
        return s.find("require_passkey = yes") != std::string::npos &&
               s.find("puts no amr in its ID tokens refuses every browser sign-in") != std::string::npos;
    }));
    // Without require_passkey, no such warning.
    const auto without =
        config_warnings(parse_config(kMinimal + "[browser]\ndomain = localhost:8443\nclient_id = 7d2pub\n"
                                                "redirect_uri = https://localhost:9443/cb/\n",
                                     kSource));
    EXPECT_TRUE(std::none_of(without.begin(), without.end(), [](const std::string& s) {
        return s.find("require_passkey") != std::string::npos;
    }));
}

TEST(BrowserConfig, NoSectionNoBrowser) {
    EXPECT_FALSE(parse_config(kMinimal, kSource).browser);
    EXPECT_FALSE(parse_config(kMinimal + "[browser]\n", kSource).browser);
    EXPECT_THAT(error_for(kMinimal + "[login]\nmethods = browser\n"),
                HasSubstr("methods lists browser, but there is no [browser] section with a domain"));
    EXPECT_THAT(error_for(kMinimal + "[service sshd]\nremote_methods = browser\n"),
                HasSubstr("methods lists browser"));
    EXPECT_THAT(error_for(kMinimal + "[browser]\nredirect_uri = https://pam.example.org/cb\n"),
                HasSubstr("[browser] domain is required"));
    EXPECT_THAT(error_for(kMinimal + "[browser]\ndomain = auth.example.org\n"),
                HasSubstr("[browser] redirect_uri is required"));
}

TEST(BrowserConfig, TheDomainIsAHostAndAPortAlone) {
    for (const std::string bad :
         {"https://auth.example.org", "auth.example.org/oauth2", "auth.example.org:0",
          "auth.example.org:70000", "auth.example.org:", "auth..example.org", "-auth.example.org",
          "auth.example.org.", "user@auth.example.org", "auth example.org", "auth.example.org:443x"}) {
        SCOPED_TRACE(bad);
        EXPECT_THAT(error_for_key("browser", "domain = " + bad), HasSubstr(":2: domain"));
    }
    EXPECT_THAT(error_for_key("browser", "domain = https://auth.example.org"), HasSubstr("no https://"));
}

TEST(BrowserConfig, TheRedirectUriIsAnHttpsPage) {
    for (const std::string bad :
         {"http://pam.example.org/cb", "pam.example.org/cb", "https://", "https:///cb",
          "https://user@pam.example.org/cb", "https://pam.example.org/c b"}) {
        SCOPED_TRACE(bad);
        EXPECT_THAT(error_for("[browser]\ndomain = a.example.org\nredirect_uri = " + bad + "\n" + kMinimal),
                    HasSubstr(":3: redirect_uri must be an https:// URL"));
    }
}

TEST(BrowserConfig, ScopesHoldOpenidOnceEach) {
    EXPECT_THAT(error_for_key("browser", "scopes = email phone"), HasSubstr(":2: scopes must hold openid"));
    EXPECT_THAT(error_for_key("browser", "scopes = openid openid"), HasSubstr("'openid' listed twice"));
    EXPECT_THAT(error_for_key("browser", "scopes = openid e\"mail"), HasSubstr("is not a scope name"));
    const Config c =
        parse_config(kMinimal + kBrowser + "scopes = openid aws.cognito.signin.user.admin\n", kSource);
    EXPECT_EQ(c.browser->scopes, (std::vector<std::string>{"openid", "aws.cognito.signin.user.admin"}));
}

TEST(BrowserConfig, AClientWithASecretIsNeverTheBrowsersClient) {
    const std::string with_secret = kMinimal + "[pool]\nclient_secret_file = /etc/pam_passwordless/secret\n";
    // Not given: the pool's client has a secret, so there is no public client to default to.
    EXPECT_THAT(error_for(with_secret + kBrowser), HasSubstr("[browser] client_id is required"));
    // Given as the pool's client, which has a secret: refused.
    EXPECT_THAT(error_for(with_secret + kBrowser + "client_id = 1example23456789abcdefghij\n"),
                HasSubstr("needs a public app client (no secret)"));
    // Another (public) client: accepted.
    const Config c = parse_config(with_secret + kBrowser + "client_id = 7d2pub\n", kSource);
    EXPECT_EQ(c.browser->client_id, "7d2pub");
    // Without a secret in [pool], naming its client again is fine.
    EXPECT_EQ(parse_config(kMinimal + kBrowser + "client_id = 1example23456789abcdefghij\n", kSource)
                  .browser->client_id,
              "1example23456789abcdefghij");
}

TEST(BrowserConfig, UnknownKeysAndBadValues) {
    EXPECT_THAT(error_for_key("browser", "client_secret = x"),
                HasSubstr("unknown key 'client_secret' in [browser]"));
    EXPECT_THAT(error_for_key("browser", "client_id = a b"), HasSubstr(":2: client_id must be"));
    EXPECT_THAT(error_for_key("browser", "require_passkey = maybe"),
                HasSubstr(":2: require_passkey must be yes or no"));
    EXPECT_THAT(error_for_key("browser", "show_qr = 1"), HasSubstr(":2: show_qr must be yes or no"));
    EXPECT_THAT(error_for_key("browser", "link = Short"), HasSubstr(":2: link must be short or full"));
}

TEST(BrowserConfig, AShortLinkNeedsARedirectUriWithoutAQuery) {
    const std::string browser =
        "[browser]\ndomain = pool.example.org\nclient_id = 7d2pub\nredirect_uri = "
        "https://pam.example.org/cb/?x=1\n";
    EXPECT_THAT(error_for(kMinimal + browser), HasSubstr("[browser] redirect_uri has a query"));
    const Config c = parse_config(kMinimal + browser + "link = full\n", kSource);
    ASSERT_TRUE(c.browser);
    EXPECT_EQ(c.browser->redirect_uri, "https://pam.example.org/cb/?x=1");
    EXPECT_THAT(describe_config(parse_config(kMinimal + kBrowser, kSource)),
                HasSubstr("short link to the callback page"));
}

TEST(BrowserConfig, TheBrowserNeedsABindingAsTheCodesDo) {
    EXPECT_THAT(error_for(kPool + "[login]\nmethods = browser\n" + kBrowser),
                HasSubstr("[binding] needs mapping_file or claim"));
}

TEST(BrowserConfig, MethodWords) {
    EXPECT_EQ(method_name(Method::Browser), "browser");
    EXPECT_EQ(method_challenge(Method::Browser), "");
    EXPECT_FALSE(is_pool_method(Method::Browser));
    EXPECT_FALSE(is_otp(Method::Browser));
    EXPECT_TRUE(is_browser(Method::Browser));
    EXPECT_FALSE(is_browser(Method::Passkey));
}

}  // namespace
// [passkey] user_verification: the user pool's passkey setting as the admin states it, read by the decoy
// until a real login shows what the pool asks (helper/login/passkey_uv_memory.hpp).
TEST(Config, PasskeyUserVerificationStatesThePoolsSetting) {
    const std::string passkey = "[login]\nmethods = passkey\n[passkey]\nrp_id = auth.example.com\n";
    EXPECT_FALSE(parse_config(passkey + kMinimal, kSource).passkey.pool_requires_uv);
    EXPECT_FALSE(parse_config(passkey + "user_verification = preferred\n" + kMinimal, kSource)
                     .passkey.pool_requires_uv);
    EXPECT_TRUE(parse_config(passkey + "user_verification = required\n" + kMinimal, kSource)
                    .passkey.pool_requires_uv);
    for (const std::string bad : {"discouraged", "yes", "Required", ""})
        EXPECT_THAT(error_for_key("passkey", "user_verification = " + bad),
                    HasSubstr(":2: user_verification must be preferred or required"))
            << bad;
    EXPECT_THAT(error_for_key("passkey", "pin = yes"), HasSubstr("(known: rp_id origin user_verification)"));
}

// check-config warns when the pool asked otherwise, at the last passkey login here, than [passkey]
// user_verification states; not when the two agree, nor before any login was seen.
TEST(Config, WarnsWhenThePoolAskedOtherwiseThanTheStatedUserVerification) {
    if (!test::running_as_root()) GTEST_SKIP() << "the state's files are read only when root owns them";
    const test::TestDir dir;
    const std::string state = dir.file("limits");
    const auto config = [&](const std::string& stated) {
        return parse_config("[login]\nmethods = passkey\n[passkey]\nrp_id = auth.example.com\n" + stated +
                                "[limits]\nstate_file = " + state + "\n" + kMinimal,
                            kSource);
    };
    const auto warned = [](const Config& c) {
        const auto w = config_warnings(c);
        return std::count_if(w.begin(), w.end(), [](const std::string& s) {
            return s.find("[passkey] user_verification") != std::string::npos;
        });
    };
    EXPECT_EQ(warned(config("")), 0);
    const Config probe = config("");
    PasskeyUvMemory(state).saw(probe.pool_id, "auth.example.com", true);
    EXPECT_EQ(warned(config("")), 1);
    EXPECT_THAT(config_warnings(config("user_verification = preferred\n")),
                Contains(HasSubstr("the user pool asked \"required\" at the last passkey login here")));
    EXPECT_EQ(warned(config("user_verification = required\n")), 0);
}

// [pool] session_validity and code_attempts: the pool's sessions as the admin states them, which the decoy's
// made-up session follows until real logins show the pool's own (helper/login/pool_session_memory.hpp).
TEST(Config, SessionValidityIsCognitosRangeAndCodeAttemptsAreStatedOrUnset) {
    const Config defaults = parse_config(kMinimal, kSource);
    EXPECT_EQ(defaults.session_validity, std::chrono::seconds(180));
    EXPECT_EQ(defaults.code_attempts, 0);
    EXPECT_EQ(parse_config("[pool]\nsession_validity = 15m\n" + kMinimal, kSource).session_validity,
              std::chrono::seconds(900));
    EXPECT_EQ(parse_config("[pool]\nsession_validity = 300\n" + kMinimal, kSource).session_validity,
              std::chrono::seconds(300));
    EXPECT_EQ(parse_config("[pool]\ncode_attempts = 5\n" + kMinimal, kSource).code_attempts, 5);
    for (const std::string bad : {"16m", "1h", "0", "3 minutes", "-1"})
        EXPECT_THAT(error_for_key("pool", "session_validity = " + bad), HasSubstr("session_validity must"))
            << bad;
    // Below Cognito's 3 minutes: a slip at Cognito's own endpoint ("3" meant as minutes), refused; accepted
    // for a pool at an endpoint of its own (the tests' stand-in).
    EXPECT_THAT(error_for("[pool]\nsession_validity = 3\n" + kMinimal),
                HasSubstr("[pool] session_validity must be 3m to 15m"));
    EXPECT_EQ(parse_config("[pool]\nsession_validity = 3\nendpoint = https://pool.example.test/\n" + kMinimal,
                           kSource)
                  .session_validity,
              std::chrono::seconds(3));
    for (const std::string bad : {"0", "101", "x"})
        EXPECT_THAT(error_for_key("pool", "code_attempts = " + bad), HasSubstr(":2: code_attempts")) << bad;
}

// check-config warns when max_tries is above the pool's wrong codes per session (stated, or as the pool ended
// a real login here), and when the pool contradicted the stated session validity.
TEST(Config, WarnsWhereThePoolsSessionsDifferFromTheStatementOrMaxTriesOutlastsThem) {
    if (!test::running_as_root()) GTEST_SKIP() << "the state's files are read only when root owns them";
    const test::TestDir dir;
    const std::string state = dir.file("limits");
    const auto config = [&](const std::string& pool, int max_tries) {
        return parse_config("[pool]\n" + pool + "[login]\nmax_tries = " + std::to_string(max_tries) +
                                "\n[limits]\nstate_file = " + state + "\n" + kMinimal,
                            kSource);
    };
    const auto warned = [](const Config& c, const std::string& about) {
        const auto w = config_warnings(c);
        return std::count_if(w.begin(), w.end(),
                             [&](const std::string& s) { return s.find(about) != std::string::npos; });
    };
    EXPECT_EQ(warned(config("", 8), "wrong codes the user pool takes"), 0);
    EXPECT_EQ(warned(config("code_attempts = 5\n", 5), "wrong codes the user pool takes"), 0);
    EXPECT_THAT(
        config_warnings(config("code_attempts = 5\n", 8)),
        Contains(HasSubstr("max_tries = 8 is above the 5 wrong codes the user pool takes per session")));
    const Config probe = config("", 3);
    const PoolSessionMemory::Pool pool{probe.pool_id, probe.client_id};
    using Age = PoolSessionMemory::Age;
    {
        PoolSessionMemory seen(state);
        seen.ended_after(pool, 4);
        seen.expired(pool, Age(120000), Age(180000));
    }
    EXPECT_THAT(config_warnings(config("", 8)),
                Contains(HasSubstr("max_tries = 8 is above the 4 wrong codes the user pool takes per session "
                                   "(as it ended a real login here)")));
    EXPECT_THAT(
        config_warnings(config("code_attempts = 5\n", 3)),
        Contains(HasSubstr("[pool] code_attempts = 5, but the user pool ended a real login here after 4")));
    EXPECT_THAT(config_warnings(config("", 3)),
                Contains(HasSubstr("the user pool refused a session of 120 s as expired here")));
    EXPECT_EQ(warned(config("session_validity = 100\nendpoint = https://pool.example.test/\n", 3),
                     "session_validity"),
              0);
}

// What real logins showed of the pool's sessions brings the stated validity into line, and is kept for the
// next helper; a finding that contradicts the other bound replaces it; another pool's row counts for nothing.
TEST(Config, ThePoolsSessionsAsRealLoginsShowedThemBoundTheStatedValidity) {
    if (!test::running_as_root()) GTEST_SKIP() << "the state's files are read only when root owns them";
    const test::TestDir dir;
    const std::string state = dir.file("limits");
    using Age = PoolSessionMemory::Age;
    const PoolSessionMemory::Pool pool{"eu-west-1_A", "client"};
    const Age stated(180000);
    {
        PoolSessionMemory m(state);
        EXPECT_EQ(m.validity(pool, stated), stated);
        m.taken(pool, Age(30000), stated);  // within the statement: nothing changes
        EXPECT_EQ(m.validity(pool, stated), stated);
        m.expired(pool, Age(150000), stated);
        EXPECT_EQ(m.validity(pool, stated), Age(149999));
    }
    {
        PoolSessionMemory m(state);  // read back
        EXPECT_EQ(m.validity(pool, stated), Age(149999));
        m.taken(pool, Age(200000), stated);  // the pool's setting was raised: the newest finding wins
        EXPECT_EQ(m.validity(pool, stated), Age(200000));
        EXPECT_FALSE(m.seen(pool).expired_at);
        EXPECT_EQ(m.validity({"eu-west-1_B", "client"}, stated), stated);
        EXPECT_FALSE(m.wrong_codes({"eu-west-1_A", "other"}));
    }
    EXPECT_EQ(PoolSessionMemory(state).validity(pool, stated), Age(200000));
}

// Whether the pool answers the question before the menu with an error is kept in the same line (a sixth
// word); a line of five, written before it was kept, reads as a pool that answers with its menu.
TEST(Config, ThePoolsAnswerToTheQuestionIsKeptBesideItsSessions) {
    if (!test::running_as_root()) GTEST_SKIP() << "the state's files are read only when root owns them";
    const test::TestDir dir;
    const std::string state = dir.file("limits");
    const PoolSessionMemory::Pool pool{"eu-west-1_A", "client"};
    {
        PoolSessionMemory m(state);
        EXPECT_FALSE(m.refuses_preference(pool));
        m.preference_refused(pool, true);
        EXPECT_TRUE(m.refuses_preference(pool));
        EXPECT_FALSE(m.refuses_preference({"eu-west-1_B", "client"}));
    }
    EXPECT_TRUE(PoolSessionMemory(state).refuses_preference(pool));
    std::ifstream kept(PoolSessionMemory::path_for(state));
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(kept), {}),
              "eu-west-1_A client - - - refuses-preference\n");
    PoolSessionMemory(state).preference_refused(pool, false);
    EXPECT_FALSE(PoolSessionMemory(state).refuses_preference(pool));
    write_file_atomically(PoolSessionMemory::path_for(state), "eu-west-1_A client - - 4\n");
    const PoolSessionMemory old(state);
    EXPECT_FALSE(old.refuses_preference(pool));
    EXPECT_EQ(old.wrong_codes(pool), 4);
    write_file_atomically(PoolSessionMemory::path_for(state), "eu-west-1_A client - - 4 something-else\n");
    EXPECT_FALSE(PoolSessionMemory(state).wrong_codes(pool)) << "a line that is not ours counts for nothing";
}

// Whether the pool answers a one-factor person's question with that factor (its code sent before the menu)
// is kept in the same line, after the answer with an error; a line without it, written before it was kept,
// reads as a pool that answers with its menu.
TEST(Config, ThePoolsSkipToAOneFactorPersonsCodeIsKeptBesideItsSessions) {
    if (!test::running_as_root()) GTEST_SKIP() << "the state's files are read only when root owns them";
    const test::TestDir dir;
    const std::string state = dir.file("limits");
    const PoolSessionMemory::Pool pool{"eu-west-1_A", "client"};
    const auto kept = [&] {
        std::ifstream in(PoolSessionMemory::path_for(state));
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    {
        PoolSessionMemory m(state);
        EXPECT_FALSE(m.skips_to_one_factor(pool));
        m.question_skipped(pool, true);
        EXPECT_TRUE(m.skips_to_one_factor(pool));
        EXPECT_FALSE(m.refuses_preference(pool));
        EXPECT_FALSE(m.skips_to_one_factor({"eu-west-1_B", "client"}));
    }
    EXPECT_TRUE(PoolSessionMemory(state).skips_to_one_factor(pool));
    EXPECT_EQ(kept(), "eu-west-1_A client - - - skips-to-one-factor\n");
    {
        // Both words, in their order, each read back.
        PoolSessionMemory m(state);
        m.preference_refused(pool, true);
        EXPECT_EQ(kept(), "eu-west-1_A client - - - refuses-preference skips-to-one-factor\n");
    }
    const PoolSessionMemory both(state);
    EXPECT_TRUE(both.refuses_preference(pool));
    EXPECT_TRUE(both.skips_to_one_factor(pool));
    PoolSessionMemory(state).question_skipped(pool, false);
    EXPECT_EQ(kept(), "eu-west-1_A client - - - refuses-preference\n");
    EXPECT_FALSE(PoolSessionMemory(state).skips_to_one_factor(pool));
    write_file_atomically(PoolSessionMemory::path_for(state),
                          "eu-west-1_A client - - 4 refuses-preference\n");
    const PoolSessionMemory sixth(state);
    EXPECT_TRUE(sixth.refuses_preference(pool));
    EXPECT_FALSE(sixth.skips_to_one_factor(pool))
        << "a line of six, written before the seventh word was kept";
    EXPECT_EQ(sixth.wrong_codes(pool), 4);
    write_file_atomically(PoolSessionMemory::path_for(state),
                          "eu-west-1_A client - - 4 skips-to-one-factor\n");
    EXPECT_TRUE(PoolSessionMemory(state).skips_to_one_factor(pool));
    for (const char* line : {"eu-west-1_A client - - 4 skips-to-one-factor refuses-preference\n",
                             "eu-west-1_A client - - 4 skips-to-one-factor skips-to-one-factor\n",
                             "eu-west-1_A client - - 4 skips-to-one-factor something-else\n"}) {
        write_file_atomically(PoolSessionMemory::path_for(state), line);
        const PoolSessionMemory odd(state);
        EXPECT_FALSE(odd.wrong_codes(pool)) << "a line that is not ours counts for nothing: " << line;
        EXPECT_FALSE(odd.skips_to_one_factor(pool)) << line;
    }
}

}  // namespace pp::helper
