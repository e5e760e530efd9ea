#include "trusted_file.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_dir.hpp"

namespace pp::helper {
namespace {

using test::TestDir;
using ::testing::EndsWith;
using ::testing::HasSubstr;

class TrustedFile : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!test::running_as_root()) GTEST_SKIP() << "trusted files must be owned by root";
        dir_.emplace();
    }
    const TestDir& dir() const { return *dir_; }

    std::string error_for(const std::string& path, std::size_t max,
                          Confidentiality c = Confidentiality::Public) {
        try {
            (void)read_trusted_file(path, max, c);
        } catch (const FileError& e) {
            return e.what();
        }
        ADD_FAILURE() << "accepted " << path;
        return {};
    }

    std::vector<std::string> names_in(const std::string& d) const {
        std::vector<std::string> out;
        DIR* dp = ::opendir(d.c_str());
        if (dp == nullptr) return out;
        while (const dirent* e = ::readdir(dp))
            if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..")
                out.emplace_back(e->d_name);
        ::closedir(dp);
        return out;
    }

  private:
    std::optional<TestDir> dir_;
};

TEST_F(TrustedFile, ReadsWholeFile) {
    std::string text = "line one\nline two\n";
    text.push_back('\0');
    text += "after a NUL";
    const auto p = dir().write("conf", text, 0644);
    EXPECT_EQ(read_trusted_file(p, 1024), text);
    EXPECT_EQ(read_trusted_file(dir().write("empty", "", 0600), 1024), "");
}

TEST_F(TrustedFile, SizeLimitIsInclusive) {
    const auto p = dir().write("conf", std::string(100, 'x'), 0644);
    EXPECT_EQ(read_trusted_file(p, 100).size(), 100u);
    EXPECT_THAT(error_for(p, 99), EndsWith(": larger than 99 bytes"));
}

// The buffer starts at the size fstat reports; a file whose size fstat does not know (procfs reports 0) or
// that grew since is still read whole, and the limit still holds.
TEST_F(TrustedFile, ReadsAFileLargerThanItsReportedSize) {
    struct stat st {};
    ASSERT_EQ(::stat("/proc/self/status", &st), 0);
    ASSERT_EQ(st.st_size, 0);
    const std::string text = read_trusted_file("/proc/self/status", 1024 * 1024);
    EXPECT_GT(text.size(), 256u);
    EXPECT_THAT(text, HasSubstr("\nPid:\t"));
    EXPECT_THAT(error_for("/proc/self/status", 10), EndsWith(": larger than 10 bytes"));
}

TEST_F(TrustedFile, ReadsTheHeadOnly) {
    const auto p = dir().write("state", "# header\n" + std::string(100000, 'x'), 0600);
    EXPECT_EQ(read_trusted_head(p, 8, Confidentiality::Secret), "# header");
    EXPECT_EQ(read_trusted_head(dir().write("short", "# he", 0600), 8, Confidentiality::Secret), "# he");
    // The same checks as a whole read.
    const auto open = dir().write("open", "# header\n", 0644);
    EXPECT_THROW((void)read_trusted_head(open, 8, Confidentiality::Secret), FileError);
}

TEST_F(TrustedFile, RefusesRelativeMissingAndNonRegular) {
    EXPECT_THAT(error_for("conf", 100), HasSubstr("not an absolute path"));
    EXPECT_THAT(error_for(dir().file("missing"), 100), HasSubstr("No such file"));
    EXPECT_THAT(error_for(dir().subdir("sub"), 100), HasSubstr("not a regular file"));
    EXPECT_THAT(error_for(dir().file("missing-dir/conf"), 100), HasSubstr("missing-dir"));
}

TEST_F(TrustedFile, RefusesAFifoWithoutWaitingForAWriter) {
    const auto p = dir().file("fifo");
    ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
    EXPECT_THAT(error_for(p, 100), HasSubstr("not a regular file"));
}

TEST_F(TrustedFile, RefusesGroupOrWorldWritable) {
    EXPECT_THAT(error_for(dir().write("g", "x", 0664), 100), EndsWith("/g: writable by group or others"));
    EXPECT_THAT(error_for(dir().write("o", "x", 0646), 100), EndsWith("/o: writable by group or others"));
}

TEST_F(TrustedFile, RefusesSymlink) {
    const auto target = dir().write("target", "x", 0644);
    const auto link = dir().file("link");
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    EXPECT_THAT(error_for(link, 100), EndsWith("/link: is a symlink"));
}

TEST_F(TrustedFile, RefusesWritableDirectory) {
    for (mode_t mode : {01777, 0775, 0757}) {
        const auto sub = dir().subdir("d" + std::to_string(mode), mode);
        const auto p = dir().write("d" + std::to_string(mode) + "/conf", "x", 0644);
        EXPECT_EQ(error_for(p, 100), sub + ": directory is writable by group or others") << std::oct << mode;
    }
}

TEST_F(TrustedFile, RefusesFileNotOwnedByRoot) {
    const auto p = dir().write("conf", "x", 0644);
    ASSERT_EQ(::chown(p.c_str(), 65534, 65534), 0);
    EXPECT_THAT(error_for(p, 100), EndsWith("/conf: not owned by root"));
}

TEST_F(TrustedFile, RefusesDirectoryNotOwnedByRoot) {
    const auto sub = dir().subdir("sub", 0755);
    const auto p = dir().write("sub/conf", "x", 0644);
    ASSERT_EQ(::chown(sub.c_str(), 65534, 65534), 0);
    EXPECT_EQ(error_for(p, 100), sub + ": directory is not owned by root");
}

TEST_F(TrustedFile, SecretsMustNotBeReadableByOthers) {
    for (mode_t mode : {0640, 0604, 0644, 0610}) {
        const auto p = dir().write("s" + std::to_string(mode), "secret", mode);
        EXPECT_THAT(error_for(p, 100, Confidentiality::Secret), HasSubstr("readable by group or others"))
            << std::oct << mode;
    }
    EXPECT_EQ(read_trusted_file(dir().write("s600", "secret", 0600), 100, Confidentiality::Secret), "secret");
    EXPECT_EQ(read_trusted_file(dir().write("s400", "secret", 0400), 100, Confidentiality::Secret), "secret");
}

TEST_F(TrustedFile, SecretFileLosesTrailingNewlinesOnly) {
    const auto p = dir().write("secret", " s3cr3t value \r\n\n", 0600);
    EXPECT_EQ(read_secret_file(p, 100).view(), " s3cr3t value ");
    EXPECT_THROW(read_secret_file(dir().write("shared", "s3cr3t\n", 0644), 100), FileError);
}

TEST_F(TrustedFile, WriteCreatesMode0600WithTheContents) {
    const auto p = dir().file("state");
    const mode_t old = ::umask(0);
    write_file_atomically(p, std::string_view("hello\0world", 11));
    ::umask(old);
    struct stat st {};
    ASSERT_EQ(::lstat(p.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(read_trusted_file(p, 100, Confidentiality::Secret), std::string("hello\0world", 11));
    EXPECT_EQ(names_in(dir().path()), std::vector<std::string>{"state"});  // no temporary file left behind
}

TEST_F(TrustedFile, WriteReplacesAnExistingFile) {
    const auto p = dir().write("state", "old contents that are longer", 0644);
    struct stat before {};
    ASSERT_EQ(::stat(p.c_str(), &before), 0);
    write_file_atomically(p, "new");
    struct stat after {};
    ASSERT_EQ(::stat(p.c_str(), &after), 0);
    EXPECT_NE(before.st_ino, after.st_ino);  // a new file renamed into place, not rewritten in place
    EXPECT_EQ(after.st_mode & 07777, 0600u);
    EXPECT_EQ(read_trusted_file(p, 100), "new");
    write_file_atomically(p, "");
    EXPECT_EQ(read_trusted_file(p, 100), "");
    EXPECT_EQ(names_in(dir().path()), std::vector<std::string>{"state"});
}

TEST_F(TrustedFile, WriteRefusesAnUntrustedDirectory) {
    const auto sub = dir().subdir("open", 0777);
    EXPECT_THROW(write_file_atomically(sub + "/state", "x"), FileError);
    EXPECT_TRUE(names_in(sub).empty());
    EXPECT_THROW(write_file_atomically(dir().file("missing/state"), "x"), FileError);
}

}  // namespace
}  // namespace pp::helper
