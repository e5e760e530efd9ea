#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "identity_map.hpp"
#include "json_web_key_set.hpp"
#include "pinned_keys.hpp"
#include "test_dir.hpp"
#include "test_keys.hpp"
#include "trusted_file.hpp"

namespace pp::helper {
namespace {

using test::TestDir;
using ::testing::EndsWith;
using ::testing::HasSubstr;

// Only the PEM markers are read at load; libcurl parses the certificates at each request.
constexpr const char* kPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

class LoadConfig : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!test::running_as_root()) GTEST_SKIP() << "the configuration must be owned by root";
        dir_.emplace();
    }
    const TestDir& dir() const { return *dir_; }

    // A valid configuration, with the client secret at `secret_path` when one is given.
    static std::string text(const std::string& secret_path = {}) {
        std::string t = "[pool]\npool_id = eu-west-1_AbCdEf123\nclient_id = abc\n";
        if (!secret_path.empty()) t += "client_secret_file = " + secret_path + "\n";
        return t + "[binding]\nclaim = cognito:username\n";
    }

    static std::string error_for(const std::string& path) {
        try {
            (void)load_config(path);
        } catch (const ConfigError& e) {
            return e.what();
        }
        ADD_FAILURE() << "accepted " << path;
        return {};
    }

  private:
    std::optional<TestDir> dir_;
};

TEST_F(LoadConfig, ReadsASafeFile) {
    const auto p = dir().write("helper.conf", text(), 0644);
    const Config c = load_config(p);
    EXPECT_EQ(c.source, p);
    EXPECT_EQ(c.pool_id, "eu-west-1_AbCdEf123");
    EXPECT_FALSE(c.client_secret.has_value());
    EXPECT_NO_THROW(load_config(dir().write("ro.conf", text(), 0400)));
}

TEST_F(LoadConfig, ParseErrorsNameThePath) {
    const auto p = dir().write("helper.conf", text() + "[login]\nbogus = 1\n", 0644);
    EXPECT_THAT(error_for(p), HasSubstr(p + ":7: unknown key 'bogus'"));
}

TEST_F(LoadConfig, RefusesGroupOrWorldWritableFile) {
    EXPECT_THAT(error_for(dir().write("g.conf", text(), 0664)),
                EndsWith("g.conf: writable by group or others"));
    EXPECT_THAT(error_for(dir().write("o.conf", text(), 0666)),
                EndsWith("o.conf: writable by group or others"));
}

TEST_F(LoadConfig, RefusesWritableParentDirectory) {
    const auto sub = dir().subdir("conf.d", 0777);
    const auto p = dir().write("conf.d/helper.conf", text(), 0644);
    EXPECT_EQ(error_for(p), sub + ": directory is writable by group or others");
}

TEST_F(LoadConfig, RefusesSymlink) {
    const auto real = dir().write("real.conf", text(), 0644);
    const auto link = dir().file("helper.conf");
    ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
    EXPECT_EQ(error_for(link), link + ": is a symlink");
}

TEST_F(LoadConfig, RefusesFileNotOwnedByRoot) {
    const auto p = dir().write("helper.conf", text(), 0644);
    ASSERT_EQ(::chown(p.c_str(), 65534, 65534), 0);
    EXPECT_EQ(error_for(p), p + ": not owned by root");
}

TEST_F(LoadConfig, RefusesTooLargeFile) {
    const auto p = dir().write("helper.conf", text() + std::string(256 * 1024, '#'), 0644);
    EXPECT_THAT(error_for(p), EndsWith("larger than 262144 bytes"));
}

TEST_F(LoadConfig, ReadsTheClientSecretAndStripsTheNewline) {
    const auto secret = dir().write("client-secret", "s3cr3t-value\n", 0600);
    const Config c = load_config(dir().write("helper.conf", text(secret), 0644));
    ASSERT_TRUE(c.client_secret.has_value());
    EXPECT_EQ(c.client_secret->view(), "s3cr3t-value");
    EXPECT_THAT(describe_config(c), HasSubstr("with a client secret"));
    EXPECT_THAT(describe_config(c), ::testing::Not(HasSubstr("s3cr3t-value")));
}

TEST_F(LoadConfig, RefusesAClientSecretOthersCanRead) {
    const auto secret = dir().write("client-secret", "s3cr3t-value\n", 0644);
    const auto msg = error_for(dir().write("helper.conf", text(secret), 0644));
    EXPECT_THAT(msg, HasSubstr(secret + ": readable by group or others"));
    EXPECT_THAT(msg, EndsWith("(client_secret_file)"));
    EXPECT_THAT(msg, ::testing::Not(HasSubstr("s3cr3t")));
}

TEST_F(LoadConfig, RefusesAnEmptyClientSecret) {
    for (const char* contents : {"", "\n", "\r\n"}) {
        const auto secret = dir().write("client-secret", contents, 0600);
        EXPECT_EQ(error_for(dir().write("helper.conf", text(secret), 0644)),
                  secret + ": the client secret is empty (client_secret_file)");
    }
}

TEST_F(LoadConfig, RefusesAMissingClientSecretFile) {
    const auto p = dir().write("helper.conf", text(dir().file("missing-secret")), 0644);
    EXPECT_THAT(error_for(p), HasSubstr("missing-secret: No such file or directory (client_secret_file)"));
}

// Every request trusts ca_file alone: a missing one would fail every login at the first request, and one
// that others can write would let them vouch for a pool of their own. Refused at load, naming the key.
TEST_F(LoadConfig, RefusesACaFileThatIsMissingUnsafeOrNoCertificate) {
    const auto conf = [&](const std::string& ca) {
        return dir().write("helper.conf",
                           "[pool]\npool_id = eu-west-1_AbCdEf123\nclient_id = abc\nca_file = " + ca +
                               "\n[binding]\nclaim = cognito:username\n",
                           0644);
    };
    EXPECT_THAT(error_for(conf(dir().file("missing-ca.pem"))),
                HasSubstr("missing-ca.pem: No such file or directory (ca_file)"));
    EXPECT_THAT(error_for(conf(dir().write("writable-ca.pem", kPem, 0666))),
                EndsWith("writable-ca.pem: writable by group or others (ca_file)"));
    EXPECT_THAT(error_for(conf(dir().write("key.pem", "-----BEGIN PRIVATE KEY-----\n", 0644))),
                EndsWith("key.pem: holds no PEM certificate (ca_file)"));
    EXPECT_EQ(load_config(conf(dir().write("ca.pem", kPem, 0644))).ca_file, dir().file("ca.pem"));
}

TEST_F(LoadConfig, IdentityMapLoadsThroughTheSameChecks) {
    const auto p = dir().write("identities", "alice alice@example.com\n", 0644);
    EXPECT_EQ(IdentityMap::load(p).lookup("alice").size(), 1u);
    const auto w = dir().write("writable-identities", "mallory alice@example.com\n", 0666);
    EXPECT_THROW(IdentityMap::load(w), FileError);
    EXPECT_THROW(IdentityMap::load(dir().write("bad-identities", "alice\n", 0644)), std::runtime_error);
}

// [pool] jwks_file: the pool's keys pinned in a file the helper trusts as it trusts ca_file, and a key set
// it can verify ID tokens with; anything else is refused at load, naming the key and how to make the file.
class PinnedKeysFile : public LoadConfig {
  protected:
    std::string conf(const std::string& jwks) const {
        return dir().write("helper.conf",
                           "[pool]\npool_id = eu-west-1_AbCdEf123\nclient_id = abc\njwks_file = " + jwks +
                               "\n[binding]\nclaim = cognito:username\n",
                           0644);
    }
    static std::string key_set(const std::string& kid) {
        static const cognito::test::TestKey key;
        return R"({"keys":[)" + key.jwk(kid) + "]}";
    }
    static constexpr const char* kFix =
        " ([pool] jwks_file; fix: download the pool's key set as root with: curl -fsS --proto =https -o ";
};

TEST_F(PinnedKeysFile, RefusesAMissingFile) {
    const auto path = dir().file("missing-jwks.json");
    EXPECT_THAT(error_for(conf(path)), HasSubstr(path + ": No such file or directory" + kFix + path +
                                                 " https://cognito-idp.eu-west-1.amazonaws.com/"
                                                 "eu-west-1_AbCdEf123/.well-known/jwks.json && chmod 0644 " +
                                                 path + ", then run check-config)"));
}

TEST_F(PinnedKeysFile, RefusesAFileOthersCanWriteOrNotOwnedByRoot) {
    const auto writable = dir().write("writable-jwks.json", key_set("k"), 0666);
    EXPECT_THAT(error_for(conf(writable)), HasSubstr(writable + ": writable by group or others" + kFix));
    const auto foreign = dir().write("foreign-jwks.json", key_set("k"), 0644);
    ASSERT_EQ(::chown(foreign.c_str(), 65534, 65534), 0);
    EXPECT_THAT(error_for(conf(foreign)), HasSubstr(foreign + ": not owned by root" + kFix));
    const auto large = dir().write("large-jwks.json", key_set("k") + std::string(64 * 1024, ' '), 0644);
    EXPECT_THAT(error_for(conf(large)), HasSubstr("larger than 65536 bytes" + std::string(kFix)));
}

TEST_F(PinnedKeysFile, RefusesAFileThatIsNotAKeySet) {
    for (const char* text : {"<html>403</html>", "{\"issuer\":\"https://x\"}", ""}) {
        const auto path = dir().write("not-jwks.json", text, 0644);
        EXPECT_THAT(error_for(conf(path)), HasSubstr(path + ": not a key set (JWKS): ")) << text;
        EXPECT_THAT(error_for(conf(path)), HasSubstr(kFix)) << text;
    }
}

TEST_F(PinnedKeysFile, RefusesAKeySetWithoutAUsableKey) {
    std::string enc = key_set("k");
    enc.replace(enc.find(R"("use":"sig")"), 11, R"("use":"enc")");
    for (const std::string& text : {std::string(R"({"keys":[]})"), enc,
                                    std::string(R"({"keys":[{"kty":"EC","kid":"e","crv":"P-256"}]})")}) {
        const auto path = dir().write("unusable-jwks.json", text, 0644);
        EXPECT_THAT(error_for(conf(path)),
                    HasSubstr(path +
                              ": holds no key usable for ID tokens (an RSA key of 2048 to 8192 bits "
                              "with a kid, for use sig and alg RS256)" +
                              kFix))
            << text;
    }
}

TEST_F(PinnedKeysFile, ReadsAGoodFileAndCheckConfigShowsIt) {
    const auto path = dir().write("jwks.json", key_set("pool-key-1"), 0644);
    const Config c = load_config(conf(path));
    ASSERT_TRUE(c.pinned_keys);
    EXPECT_EQ(c.pinned_keys->ids(), std::vector<std::string>{"pool-key-1"});
    EXPECT_THAT(describe_config(c),
                HasSubstr("jwks: pinned in " + path +
                          " (1 key(s)); ID tokens are verified with these keys alone and "
                          "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/"
                          ".well-known/jwks.json is never fetched for a login\n"));
    // Without the key nothing is pinned and the description is as before.
    const Config plain = load_config(dir().write("plain.conf", text(), 0644));
    EXPECT_FALSE(plain.pinned_keys);
    EXPECT_THAT(describe_config(plain),
                HasSubstr("jwks: https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/"
                          ".well-known/jwks.json\n"));
}

// check-config --online's comparison, by key id and by key: a key the pool replaced under the same id is
// told apart from one it added or withdrew.
TEST(PinnedKeysComparison, NamesAddedWithdrawnAndReplacedKeys) {
    static const cognito::test::TestKey one, two;
    const auto set = [](const std::string& entries) {
        return cognito::JsonWebKeySet::parse(R"({"keys":[)" + entries + "]}");
    };
    const auto pinned = set(one.jwk("kept") + "," + one.jwk("replaced") + "," + one.jwk("withdrawn"));
    EXPECT_TRUE(compare_pinned(pinned, pinned).agree());
    const auto d =
        compare_pinned(pinned, set(one.jwk("kept") + "," + two.jwk("replaced") + "," + two.jwk("new")));
    EXPECT_FALSE(d.agree());
    EXPECT_EQ(d.not_pinned, std::vector<std::string>{"new"});
    EXPECT_EQ(d.unpublished, std::vector<std::string>{"withdrawn"});
    EXPECT_EQ(d.different, std::vector<std::string>{"replaced"});
}

TEST(PinnedKeysConfig, JwksFileMustBeAnAbsolutePath) {
    EXPECT_THROW(
        parse_config("[pool]\npool_id = eu-west-1_AbCdEf123\nclient_id = abc\njwks_file = jwks.json\n"
                     "[binding]\nclaim = cognito:username\n",
                     "t.conf"),
        ConfigError);
}

}  // namespace
}  // namespace pp::helper
