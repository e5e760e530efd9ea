#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "config.hpp"
#include "identity_map.hpp"
#include "test_dir.hpp"
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

}  // namespace
}  // namespace pp::helper
