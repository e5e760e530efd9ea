#include "store_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <optional>
#include <string>

#include "recovery_codes.hpp"
#include "test_dir.hpp"
#include "trusted_file.hpp"
#include "unique_fd.hpp"

namespace pp::helper {
namespace {

using test::TestDir;
using ::testing::EndsWith;

class StoreLockTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!test::running_as_root()) GTEST_SKIP() << "the lock file and its directory must be owned by root";
    }
    [[nodiscard]] std::string lock_path() const { return dir_.file(kStoreLockName); }
    // What StoreLock refuses with, or "" when it takes the lock.
    [[nodiscard]] std::string error_for(const std::string& dir) const {
        try {
            const StoreLock lock(dir);
        } catch (const FileError& e) {
            return e.what();
        }
        return "";
    }
    // Whether another open file description could take the lock now.
    [[nodiscard]] bool free_now() const {
        const UniqueFd fd(::open(lock_path().c_str(), O_RDONLY | O_CLOEXEC));
        EXPECT_TRUE(fd);
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return true;
        EXPECT_EQ(errno, EWOULDBLOCK);
        return false;
    }
    TestDir dir_;
};

TEST_F(StoreLockTest, HeldUntilDestroyedAndTheFileIsRootsAlone) {
    std::optional<StoreLock> lock(std::in_place, dir_.path());
    struct stat st {};
    ASSERT_EQ(::lstat(lock_path().c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_FALSE(free_now());
    lock.reset();
    EXPECT_TRUE(free_now());
}

TEST_F(StoreLockTest, RefusesALockFileOthersCouldHold) {
    dir_.write(kStoreLockName, "", 0644);
    EXPECT_EQ(error_for(dir_.path()),
              lock_path() + ": readable by group or others (a secret must be mode 0600 or 0400)");
    ASSERT_EQ(::chmod(lock_path().c_str(), 0600), 0);
    ASSERT_EQ(::chown(lock_path().c_str(), 65534, 65534), 0);
    EXPECT_EQ(error_for(dir_.path()), lock_path() + ": not owned by root");
}

TEST_F(StoreLockTest, RefusesASymlinkOrADirectory) {
    const auto target = dir_.write("target", "", 0600);
    ASSERT_EQ(::symlink(target.c_str(), lock_path().c_str()), 0);
    EXPECT_EQ(error_for(dir_.path()), lock_path() + ": is a symlink");
    const auto sub = dir_.subdir("sub", 0700);
    ASSERT_EQ(::mkdir((sub + "/" + std::string(kStoreLockName)).c_str(), 0700), 0);
    EXPECT_THAT(error_for(sub), EndsWith("/sub/~lock: Is a directory"));
}

TEST_F(StoreLockTest, RefusesADirectoryRootDoesNotHoldAlone) {
    const auto open_dir = dir_.subdir("open", 0777);
    EXPECT_EQ(error_for(open_dir), open_dir + ": directory is writable by group or others");
    const auto foreign = dir_.subdir("foreign", 0700);
    ASSERT_EQ(::chown(foreign.c_str(), 65534, 65534), 0);
    EXPECT_EQ(error_for(foreign), foreign + ": directory is not owned by root");
    struct stat st {};
    EXPECT_NE(::lstat((foreign + "/" + std::string(kStoreLockName)).c_str(), &st), 0)
        << "made in a foreign directory";
}

TEST_F(StoreLockTest, TheRecoveryStoreReportsItInItsOwnError) {
    RecoveryStore store(dir_.path());
    dir_.write(kStoreLockName, "", 0644);
    EXPECT_THROW((void)store.generate("alice", 1), RecoveryError);
}

}  // namespace
}  // namespace pp::helper
