#include "recovery_codes.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_dir.hpp"

namespace pp::helper {
namespace {

TEST(RecoveryCode, TypedFormsAreNormalised) {
    const auto a = normalise_recovery_code("abcd-efgh-jkmn-pqrs");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->view(), "ABCDEFGHJKMNPQRS");
    // I and L read as 1, O as 0, spaces and dashes anywhere.
    const auto b = normalise_recovery_code("il0o 2345-6789 ABCD");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->view(), "110023456789ABCD");
}

TEST(RecoveryCode, WhatCannotBeACodeIsRefused) {
    EXPECT_FALSE(normalise_recovery_code(""));
    EXPECT_FALSE(normalise_recovery_code("ABCD-EFGH-JKMN-PQR"));    // 15 symbols
    EXPECT_FALSE(normalise_recovery_code("ABCD-EFGH-JKMN-PQRST"));  // 17
    EXPECT_FALSE(normalise_recovery_code("ABCD-EFGH-JKMN-PQRU"));   // U is not in the alphabet
    EXPECT_FALSE(normalise_recovery_code("ABCD-EFGH-JKMN-PQR\n"));
}

class RecoveryStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!test::running_as_root()) GTEST_SKIP() << "the store's files must be owned by root";
    }
    test::TestDir dir_;
    [[nodiscard]] std::string store() const { return dir_.path() + "/recovery"; }
};

TEST_F(RecoveryStoreTest, EachCodeWorksOnceForItsUserOnly) {
    RecoveryStore s(store());
    const auto g = s.generate("alice", 3);
    ASSERT_EQ(g.codes.size(), 3u);
    EXPECT_EQ(g.replaced, 0);
    std::set<std::string> distinct;
    for (const auto& c : g.codes) {
        EXPECT_EQ(c.size(), 19u) << c.view();
        distinct.insert(std::string(c.view()));
    }
    EXPECT_EQ(distinct.size(), 3u);
    EXPECT_FALSE(s.consume("bob", g.codes[0].view()).used);
    const auto first = s.consume("alice", g.codes[0].view());
    EXPECT_TRUE(first.used);
    EXPECT_EQ(first.left, 2);
    EXPECT_FALSE(s.consume("alice", g.codes[0].view()).used);
    EXPECT_EQ(s.left("alice"), 2);
    EXPECT_EQ(s.left("bob"), 0);
    EXPECT_TRUE(s.any_set());
    struct stat st {};
    ASSERT_EQ(::stat((store() + "/alice").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(RecoveryStoreTest, ANewSetReplacesTheOld) {
    RecoveryStore s(store());
    const auto old_set = s.generate("alice", 2);
    const auto new_set = s.generate("alice", 4);
    EXPECT_EQ(new_set.replaced, 2);
    EXPECT_FALSE(s.consume("alice", old_set.codes[1].view()).used);
    EXPECT_TRUE(s.consume("alice", new_set.codes[3].view()).used);
}

TEST_F(RecoveryStoreTest, RacingUsesOfOneCodeSucceedOnce) {
    RecoveryStore s(store());
    const auto g = s.generate("alice", 1);
    const std::string code(g.codes[0].view());
    std::atomic<int> used{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&] { used += RecoveryStore(store()).consume("alice", code).used ? 1 : 0; });
    for (auto& t : threads) t.join();
    EXPECT_EQ(used.load(), 1);
}

TEST_F(RecoveryStoreTest, NoStoreMeansNoSet) {
    RecoveryStore s(store());
    EXPECT_FALSE(s.any_set());
    EXPECT_EQ(s.left("alice"), 0);
    EXPECT_FALSE(s.consume("alice", "ABCD-EFGH-JKMN-PQRS").used);
    EXPECT_TRUE(s.all().empty());
}

TEST_F(RecoveryStoreTest, ADamagedOrUnsafeFileIsRefused) {
    RecoveryStore s(store());
    s.generate("alice", 1);
    dir_.write("recovery/bob", "salt 00\n", 0600);
    EXPECT_THROW(s.consume("bob", "ABCD-EFGH-JKMN-PQRS"), RecoveryError);
    ASSERT_EQ(::chmod((store() + "/alice").c_str(), 0644), 0);
    EXPECT_THROW(s.left("alice"), RecoveryError);
}

TEST_F(RecoveryStoreTest, NamesThatAreNoUserAreRefused) {
    RecoveryStore s(store());
    EXPECT_THROW(s.generate("..", 1), RecoveryError);
    EXPECT_THROW(s.generate("a/b", 1), RecoveryError);
    EXPECT_THROW(s.generate("alice", 0), RecoveryError);
    EXPECT_THROW(s.generate("alice", kMaxRecoveryCodes + 1), RecoveryError);
}

}  // namespace
}  // namespace pp::helper
