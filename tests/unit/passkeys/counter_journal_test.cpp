// The counter journal on its own: in-place updates, torn writes, damage, reuse of removed credentials' pairs,
// and the migration of counters that today's credential files carry.
#include "counter_journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "credential_store.hpp"
#include "crypto.hpp"
#include "passkey_fixtures.hpp"
#include "test_dir.hpp"
#include "unique_fd.hpp"

namespace pp::helper {
namespace {

using test::TestDir;
using ::testing::HasSubstr;

constexpr std::size_t kSlot = 64;

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Overwrites `bytes` at `offset` in place, as a torn write or a bad disk would.
void poke(const std::string& path, off_t offset, const std::string& bytes) {
    const UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    ASSERT_TRUE(fd) << path;
    ASSERT_EQ(::pwrite(fd.get(), bytes.data(), bytes.size(), offset), static_cast<ssize_t>(bytes.size()));
}

class Journal : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!test::running_as_root()) GTEST_SKIP() << "the journal must be owned by root";
        dir_.emplace();
        journal_.emplace(dir_->file("counters"));
    }
    [[nodiscard]] const CounterJournal& journal() const { return *journal_; }
    [[nodiscard]] std::string path() const { return journal_->path(); }

    std::optional<TestDir> dir_;
    std::optional<CounterJournal> journal_;
};

TEST_F(Journal, MissingFileHoldsNothing) {
    EXPECT_EQ(journal().find("alice", "a"), std::nullopt);
    journal().forget("alice", "a");  // nothing to forget, nothing created
    EXPECT_FALSE(std::ifstream(path()).good());
}

TEST_F(Journal, UpdatesInPlace) {
    ASSERT_TRUE(journal().advance("alice", "a", 0, {1, 100}));
    ASSERT_TRUE(journal().advance("bob", "b", 0, {7, 200}));
    EXPECT_EQ(read_all(path()).size(), 4 * kSlot);  // one pair per credential
    ASSERT_TRUE(journal().advance("alice", "a", 0, {2, 101}));
    ASSERT_TRUE(journal().advance("alice", "a", 0, {3, 102}));
    EXPECT_EQ(read_all(path()).size(), 4 * kSlot) << "an update writes no new record";
    const auto a = journal().find("alice", "a");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->counter, 3u);
    EXPECT_EQ(a->last_used, 102);
    EXPECT_EQ(journal().find("bob", "b")->counter, 7u);
    // The key covers the account: another account's credential of the same id is another entry.
    EXPECT_EQ(journal().find("bob", "a"), std::nullopt);
    struct stat st {};
    ASSERT_EQ(::stat(path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_THAT(read_all(path()), ::testing::Not(HasSubstr("alice"))) << "the file names nobody";
}

TEST_F(Journal, OnlyAHigherCounterAdvances) {
    EXPECT_TRUE(journal().advance("alice", "a", 5, {6, 100}));
    EXPECT_FALSE(journal().advance("alice", "a", 0, {6, 101})) << "the same counter again";
    EXPECT_FALSE(journal().advance("alice", "a", 0, {2, 101})) << "a lower one";
    EXPECT_FALSE(journal().advance("alice", "a", 9, {8, 101})) << "below the record's floor";
    EXPECT_TRUE(journal().advance("alice", "a", 0, {7, 50}));
    const auto e = journal().find("alice", "a");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->counter, 7u);
    EXPECT_EQ(e->last_used, 100) << "the time of last use never goes back";
    // A key that does not count (always 0) is let in; once a key counted, 0 is a regression.
    EXPECT_TRUE(journal().advance("bob", "b", 0, {0, 1}));
    EXPECT_TRUE(journal().advance("bob", "b", 0, {0, 2}));
    EXPECT_FALSE(journal().advance("alice", "a", 0, {0, 3}));
}

TEST_F(Journal, ATornCopyLeavesTheOtherOne) {
    ASSERT_TRUE(journal().advance("alice", "a", 0, {1, 100}));  // both copies: counter 1
    ASSERT_TRUE(journal().advance("alice", "a", 0, {2, 101}));  // one copy now holds 2
    ASSERT_TRUE(journal().advance("alice", "a", 0, {3, 102}));  // the other holds 3, the first still 2
    const std::string before = read_all(path());
    std::vector<std::uint32_t> seen;
    for (const off_t slot : {off_t{0}, off_t{kSlot}}) {
        poke(path(), 0, before);
        poke(path(), slot + 20, std::string(10, '\xAA'));
        const auto e = journal().find("alice", "a");
        ASSERT_TRUE(e) << "one good copy is enough";
        seen.push_back(e->counter);
    }
    // Tearing the newest copy falls back to the one before, never to 0 or to garbage.
    EXPECT_THAT(seen, ::testing::UnorderedElementsAre(2u, 3u));
}

TEST_F(Journal, AnUpdateNeverOverwritesTheNewestCopy) {
    ASSERT_TRUE(journal().advance("alice", "a", 0, {1, 100}));
    ASSERT_TRUE(journal().advance("alice", "a", 0, {2, 101}));
    const std::string after_two = read_all(path());
    ASSERT_TRUE(journal().advance("alice", "a", 0, {3, 102}));
    const std::string after_three = read_all(path());
    // Exactly one copy changed, and the copy that held 2 is not the one that now holds 3: the other copy.
    const bool first_changed = after_two.compare(0, kSlot, after_three, 0, kSlot) != 0;
    const bool second_changed = after_two.compare(kSlot, kSlot, after_three, kSlot, kSlot) != 0;
    EXPECT_NE(first_changed, second_changed);
    // Tear the copy just written: 2 is what is left.
    poke(path(), first_changed ? 0 : kSlot, std::string(kSlot, '\x55'));
    EXPECT_EQ(journal().find("alice", "a")->counter, 2u);
    // The next update rewrites the torn copy, not the good one.
    ASSERT_TRUE(journal().advance("alice", "a", 0, {4, 103}));
    EXPECT_EQ(journal().find("alice", "a")->counter, 4u);
}

TEST_F(Journal, BothCopiesDamagedFailsClosed) {
    ASSERT_TRUE(journal().advance("bob", "b", 0, {9, 1}));
    ASSERT_TRUE(journal().advance("alice", "a", 0, {5, 100}));
    poke(path(), 2 * kSlot + 3, "xx");
    poke(path(), 3 * kSlot + 40, "yy");
    try {
        (void)journal().find("bob", "b");
        FAIL() << "a damaged journal was read";
    } catch (const CounterJournalDamaged& e) {
        EXPECT_THAT(e.what(), HasSubstr(path()));
        EXPECT_THAT(e.what(), HasSubstr("byte 128"));
    }
    EXPECT_THROW((void)journal().advance("bob", "b", 0, {10, 2}), CounterJournalDamaged);
    EXPECT_THROW(journal().forget("bob", "b"), CounterJournalDamaged);
}

TEST_F(Journal, ATornFirstWriteIsFreeSpaceNotDamage) {
    ASSERT_TRUE(journal().advance("alice", "a", 0, {5, 100}));
    // A crash while appending a new entry: only part of its first copy reached the file.
    poke(path(), 2 * kSlot, "ppc1 and then nothing");
    EXPECT_EQ(journal().find("alice", "a")->counter, 5u);
    EXPECT_EQ(journal().find("bob", "b"), std::nullopt);
    ASSERT_TRUE(journal().advance("bob", "b", 0, {1, 1}));  // reuses the torn pair
    EXPECT_EQ(read_all(path()).size(), 4 * kSlot);
    EXPECT_EQ(journal().find("bob", "b")->counter, 1u);
}

TEST_F(Journal, ForgottenPairsAreReused) {
    ASSERT_TRUE(journal().advance("alice", "a", 0, {5, 100}));
    ASSERT_TRUE(journal().advance("bob", "b", 0, {6, 100}));
    journal().forget("alice", "a");
    EXPECT_EQ(journal().find("alice", "a"), std::nullopt);
    ASSERT_TRUE(journal().advance("carol", "c", 0, {1, 1}));
    EXPECT_EQ(read_all(path()).size(), 4 * kSlot) << "carol's entry takes alice's old pair";
    EXPECT_EQ(journal().find("carol", "c")->counter, 1u);
    EXPECT_EQ(journal().find("bob", "b")->counter, 6u);
}

TEST_F(Journal, UnsafeFileIsRefused) {
    ASSERT_TRUE(journal().advance("alice", "a", 0, {5, 100}));
    ASSERT_EQ(::chmod(path().c_str(), 0666), 0);
    EXPECT_THROW((void)journal().find("alice", "a"), FileError);
    EXPECT_THROW((void)journal().advance("alice", "a", 0, {6, 100}), FileError);
    ASSERT_EQ(::chmod(path().c_str(), 0600), 0);
    ASSERT_EQ(::chown(path().c_str(), 65534, 65534), 0);
    EXPECT_THROW((void)journal().find("alice", "a"), FileError);
    ASSERT_EQ(::chown(path().c_str(), 0, 0), 0);
    const std::string real = path() + ".real";
    ASSERT_EQ(::rename(path().c_str(), real.c_str()), 0);
    ASSERT_EQ(::symlink(real.c_str(), path().c_str()), 0);
    EXPECT_THROW((void)journal().find("alice", "a"), FileError);
    EXPECT_THROW((void)journal().advance("alice", "a", 0, {6, 100}), FileError);
}

// Credential files written before the journal carry the counters: they stay the floor, untouched.
class Migration : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!test::running_as_root()) GTEST_SKIP() << "the store's files must be owned by root";
        dir_.emplace();
        store_.emplace(dir_->file("credentials"));
        store_->ensure_dir();
    }
    // One of alice's credentials, enrolled at 1700000000.
    static StoredCredential alices(const std::string& id, const std::string& nickname) {
        StoredCredential c{pp::RpId("pam://test-host")};
        c.user = "alice";
        c.cred_id = id;
        c.public_key = test::TestKey::p256().public_key();
        c.nickname = nickname;
        c.created = 1700000000;
        return c;
    }

    std::optional<TestDir> dir_;
    std::optional<CredentialStore> store_;
};

TEST_F(Migration, TheCountersInTodaysFilesStayTheFloor) {
    StoredCredential c = alices("old-credential", "old key");
    c.last_used = 1700000500;
    c.counter = 100;  // as the store wrote it on every login before the journal
    store_->add(c);
    const std::string file = store_->dir() + "/alice";
    const std::string before = read_all(file);
    ASSERT_THAT(before, HasSubstr("\t100\t")) << before;

    EXPECT_THROW(store_->record_use("alice", c.cred_id, 100, 1700000600), CredentialError);
    EXPECT_THROW(store_->record_use("alice", c.cred_id, 99, 1700000600), CredentialError);
    store_->record_use("alice", c.cred_id, 101, 1700000600);
    EXPECT_EQ(read_all(file), before) << "a login no longer rewrites the credential file";
    auto loaded = store_->load("alice").credentials.at(0);
    EXPECT_EQ(loaded.counter, 101u);
    EXPECT_EQ(loaded.last_used, 1700000600);
    EXPECT_THROW(store_->record_use("alice", c.cred_id, 101, 1700000700), CredentialError);

    // A later rewrite of the file (a rename) keeps the journal's counter in force.
    ASSERT_TRUE(store_->rename("alice", c.cred_id, "renamed"));
    EXPECT_THROW(store_->record_use("alice", c.cred_id, 101, 1700000700), CredentialError);
    EXPECT_EQ(store_->load("alice").credentials.at(0).counter, 101u);

    // Removing the credential frees its entry: a new enrolment does not inherit it.
    ASSERT_TRUE(store_->remove("alice", c.cred_id));
    c.counter = 0;
    store_->add(c);
    EXPECT_EQ(store_->load("alice").credentials.at(0).counter, 0u);
    store_->record_use("alice", c.cred_id, 1, 1700000800);
}

// Counter reservations (counter_journal.hpp): what each flush leaves on disk, and how a reserved copy reads
// in the boot that wrote it and after a crash.
std::string g_flushed;  // the file as the last flush left it on disk
int g_flushes = 0;

void remember_flush(int fd) {
    ++g_flushes;
    struct stat st {};
    ASSERT_EQ(::fstat(fd, &st), 0);
    g_flushed.assign(static_cast<std::size_t>(st.st_size), '\0');
    ASSERT_EQ(::pread(fd, g_flushed.data(), g_flushed.size(), 0), st.st_size);
}

int copies_with_magic(const std::string& bytes, std::string_view magic) {
    int n = 0;
    for (std::size_t at = 0; at + kSlot <= bytes.size(); at += kSlot)
        if (bytes.compare(at, magic.size(), magic) == 0) ++n;
    return n;
}

// The bytes as a reboot finds them: every reserved copy was written in a boot that is not the running one.
std::string rebooted(std::string bytes) {
    for (std::size_t at = 0; at + kSlot <= bytes.size(); at += kSlot) {
        if (bytes.compare(at, 4, "ppr1") != 0) continue;
        bytes[at + 48] = static_cast<char>(bytes[at + 48] ^ 0x5A);  // the boot, [48,56)
        const auto check = pp::sha256(std::string_view(bytes).substr(at, 56));
        std::copy(check.begin(), check.begin() + 8, bytes.begin() + static_cast<std::ptrdiff_t>(at + 56));
    }
    return bytes;
}

class Reservations : public Journal {
  protected:
    void SetUp() override {
        Journal::SetUp();
        if (IsSkipped()) return;
        g_flushed.clear();
        g_flushes = 0;
        CounterJournal::observe_flushes_for_tests(remember_flush);
    }
    void TearDown() override { CounterJournal::observe_flushes_for_tests(nullptr); }

    // A journal holding `bytes` at a path of its own (no login of this process holds its reservations).
    [[nodiscard]] CounterJournal copy(const std::string& bytes) {
        const std::string p = dir_->file("copy" + std::to_string(++copies_));
        {
            std::ofstream out(p, std::ios::binary);
            out << bytes;
        }
        EXPECT_EQ(::chmod(p.c_str(), 0600), 0);
        return CounterJournal(p);
    }
    // The journal a crash right now would leave: only what was flushed, read after the reboot.
    [[nodiscard]] CounterJournal after_crash() { return copy(rebooted(g_flushed)); }

    int copies_ = 0;
};

TEST_F(Reservations, AKeyAnsweringTheReservedCounterNeedsNoFlushAfterIt) {
    ASSERT_TRUE(journal().advance("alice", "a", 0, {5, 100}));
    g_flushes = 0;
    auto r = journal().reserve("alice", {{"a", 0}});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].counter, 6u);
    EXPECT_EQ(g_flushes, 1) << "the reservation is on disk before the key is awaited";
    const auto held = journal().find("alice", "a");
    ASSERT_TRUE(held);
    EXPECT_EQ(held->counter, 5u) << "in the boot that wrote it, a reservation is the counter before it";
    EXPECT_EQ(held->last_used, 100) << "and hides no time of last use";

    g_flushes = 0;
    ASSERT_TRUE(journal().advance("alice", "a", 0, {6, 200}, &r));
    EXPECT_EQ(g_flushes, 0) << "the reserved counter was durable before the key answered";
    EXPECT_TRUE(r.empty()) << "used: nothing is left to give back";
    EXPECT_EQ(journal().find("alice", "a")->counter, 6u);
    EXPECT_EQ(journal().find("alice", "a")->last_used, 200);
    EXPECT_FALSE(journal().advance("alice", "a", 0, {6, 201})) << "the same counter again";
}

// The property the flush was for: whatever a crash keeps (what was flushed), no counter a login was let in
// with is let in again, reserved or not, answered with the reserved counter or not.
TEST_F(Reservations, WhatWasFlushedRefusesEveryCounterLetIn) {
    ASSERT_TRUE(journal().advance("alice", "a", 0, {5, 100}));
    struct Login {
        std::uint32_t counter;
        bool reserve;
    };
    for (const Login login : {Login{6, true}, Login{9, true}, Login{10, false}, Login{11, true}}) {
        std::vector<CounterJournal::Reserved> r;
        if (login.reserve) {
            r = journal().reserve("alice", {{"a", 0}});
            ASSERT_EQ(r.size(), 1u);
        }
        ASSERT_TRUE(journal().advance("alice", "a", 0, {login.counter, 300}, &r)) << login.counter;
        journal().release(r);
        const CounterJournal crashed = after_crash();
        EXPECT_FALSE(crashed.advance("alice", "a", 0, {login.counter, 400}))
            << "counter " << login.counter << " let in again after a crash";
        EXPECT_TRUE(crashed.advance("alice", "a", 0, {login.counter + 1, 400}))
            << "the key's next answer after counter " << login.counter;
    }
}

TEST_F(Reservations, AnUnusedReservationIsGivenBack) {
    ASSERT_TRUE(journal().advance("alice", "a", 0, {5, 100}));
    const auto r = journal().reserve("alice", {{"a", 0}});
    ASSERT_EQ(r.size(), 1u);
    g_flushes = 0;
    journal().release(r);
    EXPECT_EQ(g_flushes, 0);
    EXPECT_EQ(copies_with_magic(read_all(path()), "ppr1"), 1) << "the reserved copy is now the older one";
    EXPECT_EQ(journal().find("alice", "a")->counter, 5u);
    // Given back, as it reaches the disk: even read after a reboot, the key's next answer (6) is let in.
    EXPECT_TRUE(copy(rebooted(read_all(path()))).advance("alice", "a", 0, {6, 200}));
    EXPECT_TRUE(journal().advance("alice", "a", 0, {6, 200}));
}

// A login that ended without giving its reservation back (its process was killed): in the same boot the copy
// is the counter before it, so the key's next answer is let in. After a crash it is the reserved counter:
// the price of a crash in the middle of a key login is one answer refused.
TEST_F(Reservations, AReservationLeftBehindReadsByTheBootThatWroteIt) {
    ASSERT_TRUE(journal().advance("alice", "a", 0, {5, 100}));
    const auto r = journal().reserve("alice", {{"a", 0}});
    ASSERT_EQ(r.size(), 1u);
    const std::string left = read_all(path());
    EXPECT_EQ(journal().find("alice", "a")->counter, 5u);
    EXPECT_TRUE(copy(left).advance("alice", "a", 0, {6, 200})) << "same boot";
    const CounterJournal crashed = copy(rebooted(left));
    EXPECT_EQ(crashed.find("alice", "a")->counter, 6u);
    EXPECT_FALSE(crashed.advance("alice", "a", 0, {6, 200})) << "after a reboot";
    EXPECT_TRUE(crashed.advance("alice", "a", 0, {7, 200}));
    // A new login does not stack a reservation on one left behind: it stores its counter with a flush.
    EXPECT_TRUE(journal().reserve("alice", {{"a", 0}}).empty());
    g_flushes = 0;
    ASSERT_TRUE(journal().advance("alice", "a", 0, {6, 300}));
    EXPECT_EQ(g_flushes, 1);
    EXPECT_EQ(journal().reserve("alice", {{"a", 0}}).size(), 1u) << "and the next one reserves again";
}

// A key ask reserves every credential it names; the answer uses one. Only the others are left to give back,
// and a login whose answer used all it reserved ends without reading the journal again.
TEST_F(Reservations, TheReservationAnAnswerUsesIsNotGivenBack) {
    ASSERT_TRUE(journal().advance("alice", "a", 0, {5, 100}));
    ASSERT_TRUE(journal().advance("alice", "b", 0, {7, 100}));
    auto r = journal().reserve("alice", {{"a", 0}, {"b", 0}});
    ASSERT_EQ(r.size(), 2u);
    ASSERT_FALSE(journal().advance("alice", "b", 0, {7, 150}, &r)) << "a replay writes nothing";
    EXPECT_EQ(r.size(), 2u) << "and uses no reservation";
    ASSERT_TRUE(journal().advance("alice", "b", 0, {8, 200}, &r));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].counter, 6u) << "a's reservation is still this login's";
    journal().release(r);
    EXPECT_EQ(journal().find("alice", "a")->counter, 5u);
    EXPECT_EQ(journal().find("alice", "b")->counter, 8u);
    EXPECT_TRUE(copy(rebooted(read_all(path()))).advance("alice", "a", 0, {6, 300}))
        << "given back: even after a reboot a's key is let in with the counter it had reserved";
    EXPECT_FALSE(copy(rebooted(read_all(path()))).advance("alice", "b", 0, {8, 300}));
}

TEST_F(Reservations, AnotherLoginMayUseTheReservedCounterFirst) {
    ASSERT_TRUE(journal().advance("alice", "a", 0, {5, 100}));
    auto mine = journal().reserve("alice", {{"a", 0}});
    ASSERT_EQ(mine.size(), 1u);
    EXPECT_TRUE(journal().reserve("alice", {{"a", 0}}).empty()) << "one reservation at a time";
    g_flushes = 0;
    ASSERT_TRUE(journal().advance("alice", "a", 0, {6, 200})) << "another login, without a reservation";
    EXPECT_EQ(g_flushes, 1);
    EXPECT_FALSE(journal().advance("alice", "a", 0, {6, 201}, &mine)) << "the counter was used already";
    const std::string before = read_all(path());
    journal().release(mine);
    EXPECT_EQ(read_all(path()), before) << "nothing of this login's is left to give back";
    EXPECT_EQ(journal().find("alice", "a")->counter, 6u);
}

TEST_F(Reservations, OnlyCountingEntriesAreReserved) {
    EXPECT_TRUE(journal().reserve("alice", {{"a", 0}}).empty());
    EXPECT_FALSE(std::ifstream(path()).good()) << "no journal is created for a reservation";
    ASSERT_TRUE(journal().advance("bob", "b", 0, {0, 1}));  // a key that does not count
    ASSERT_TRUE(journal().advance("carol", "c", 0, {0xFFFFFFFFu, 1}));
    ASSERT_TRUE(journal().advance("alice", "a", 0, {5, 1}));
    EXPECT_TRUE(journal().reserve("bob", {{"b", 0}}).empty());
    EXPECT_TRUE(journal().reserve("carol", {{"c", 0}}).empty());
    EXPECT_TRUE(journal().reserve("alice", {{"new", 0}}).empty()) << "no entry yet";
    // The record's counter is a floor for the reservation too.
    auto r = journal().reserve("alice", {{"a", 8}, {"new", 0}});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].counter, 9u);
    ASSERT_FALSE(journal().advance("alice", "a", 8, {8, 2}, &r));
    ASSERT_TRUE(journal().advance("alice", "a", 8, {9, 2}, &r));
}

TEST_F(Migration, AReservationIsGivenBackUnlessTheLoginUsedIt) {
    const StoredCredential c = alices("key", "key");
    store_->add(c);
    store_->record_use("alice", c.cred_id, 1, 1700000001);
    {
        const auto r = store_->reserve_use(
            "alice", {store_->load("alice").credentials.at(0), alices("not-enrolled", "x")});
        EXPECT_EQ(r.size(), 1u);
    }
    EXPECT_EQ(store_->load("alice").credentials.at(0).counter, 1u);
    store_->record_use("alice", c.cred_id, 2, 1700000002);  // the reserved counter, without the reservation
    auto r = store_->reserve_use("alice", store_->load("alice").credentials);
    ASSERT_EQ(r.size(), 1u);
    CounterJournal::observe_flushes_for_tests(remember_flush);
    g_flushes = 0;
    store_->record_use("alice", c.cred_id, 3, 1700000003, &r);
    CounterJournal::observe_flushes_for_tests(nullptr);
    EXPECT_EQ(g_flushes, 0);
    EXPECT_EQ(r.size(), 0u) << "used: the login has nothing to give back when it ends";
    EXPECT_EQ(store_->load("alice").credentials.at(0).counter, 3u);
    EXPECT_EQ(store_->load("alice").credentials.at(0).last_used, 1700000003);
}

// The decoy's made-up key ask (unknown_user.cpp) pays what a real user's reservation and its giving back
// cost, and changes nothing.
TEST_F(Migration, AMadeUpReservationCostsWhatARealOneDoesAndChangesNothing) {
    const StoredCredential c = alices("key", "key");
    store_->add(c);
    const std::string journal = store_->dir() + "/~counters";
    CounterJournal::observe_flushes_for_tests(remember_flush);
    g_flushes = 0;
    {
        const auto none =
            store_->reserve_made_up();  // no journal yet: a real user has none to reserve either
    }
    EXPECT_EQ(g_flushes, 0);
    EXPECT_FALSE(std::ifstream(journal).good()) << "and none is made";
    store_->record_use("alice", c.cred_id, 1, 1700000001);
    g_flushes = 0;
    {
        const auto real = store_->reserve_use("alice", store_->load("alice").credentials);
        EXPECT_EQ(g_flushes, 1);
    }
    const int real_flushes = g_flushes;
    const std::string before = read_all(journal);
    g_flushes = 0;
    {
        const auto made_up = store_->reserve_made_up();
        EXPECT_EQ(g_flushes, 1) << "flushed while the key is asked, as a real reservation is";
        EXPECT_EQ(made_up.size(), 0u);
    }
    CounterJournal::observe_flushes_for_tests(nullptr);
    EXPECT_EQ(g_flushes, real_flushes) << "and given back without a flush, as a real one is";
    EXPECT_EQ(read_all(journal), before) << "nothing changed";
    EXPECT_EQ(store_->load("alice").credentials.at(0).counter, 1u);
    store_->record_use("alice", c.cred_id, 2, 1700000002);
}

}  // namespace
}  // namespace pp::helper
