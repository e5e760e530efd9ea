#include "credential_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "passkey_fixtures.hpp"
#include "test_dir.hpp"
#include "trusted_file.hpp"

namespace pp::helper {
namespace {

using test::TestDir;
using test::TestKey;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// One key for all records: only credential ids must be unique, and P-256 key generation is not free.
const std::string& es256_key() {
    static const std::string key = TestKey::p256().public_key();
    return key;
}

StoredCredential credential(const std::string& user, std::string cred_id, std::string nickname = "my key") {
    StoredCredential c{pp::RpId("pam://test-host")};
    c.user = user;
    c.cred_id = std::move(cred_id);
    c.alg = KeyAlgorithm::Es256;
    c.public_key = es256_key();
    c.nickname = std::move(nickname);
    c.created = 1700000000;
    return c;
}

void expect_same(const StoredCredential& a, const StoredCredential& b) {
    EXPECT_EQ(a.user, b.user);
    EXPECT_EQ(a.cred_id, b.cred_id);
    EXPECT_EQ(a.alg, b.alg);
    EXPECT_EQ(a.public_key, b.public_key);
    EXPECT_EQ(a.rp_id, b.rp_id);
    EXPECT_EQ(a.nickname, b.nickname);
    EXPECT_EQ(a.created, b.created);
    EXPECT_EQ(a.last_used, b.last_used);
    EXPECT_EQ(a.counter, b.counter);
    EXPECT_EQ(a.uv, b.uv);
    EXPECT_EQ(a.uv_required, b.uv_required);
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

class Store : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!test::running_as_root()) GTEST_SKIP() << "the store's files must be owned by root";
        dir_.emplace();
        store_.emplace(dir_->file("credentials"));
        store_->ensure_dir();
    }
    CredentialStore& store() { return *store_; }
    std::string file(const std::string& user) const { return dir_->file("credentials/" + user); }
    // Stores `a` and then `b` for their user and returns their two lines as the store wrote them.
    std::pair<std::string, std::string> stored_lines(const StoredCredential& a, const StoredCredential& b) {
        store().add(a);
        store().add(b);
        const std::string text = read_all(file(a.user));
        const auto second = text.find('\n') + 1;
        return {text.substr(0, second), text.substr(second)};
    }

    std::optional<TestDir> dir_;
    std::optional<CredentialStore> store_;
};

TEST_F(Store, EnsureDirCreatesAPrivateDirectory) {
    struct stat st {};
    ASSERT_EQ(::stat(store().dir().c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    store().ensure_dir();  // again: nothing to do
    ASSERT_EQ(::chmod(store().dir().c_str(), 0770), 0);
    EXPECT_THROW(store().ensure_dir(), FileError);
    EXPECT_THROW(store().add(credential("alice", "id")), FileError);
}

TEST_F(Store, MissingFileIsEmpty) {
    const auto loaded = store().load("alice");
    EXPECT_THAT(loaded.credentials, IsEmpty());
    EXPECT_THAT(loaded.problems, IsEmpty());
    EXPECT_THAT(store().users(), IsEmpty());
}

// What holders() and load() keep is kept only when read at least a second after the last change of what was
// read (its ctime, which every change sets and no call can set back). Waits, polling the clock, until then.
void wait_a_second_past_the_last_change(const std::string& path) {
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    const auto later = [](const timespec& a, const timespec& b) {
        return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
    };
    timespec until = later(st.st_mtim, st.st_ctim) ? st.st_mtim : st.st_ctim;
    until.tv_sec += 1;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        timespec now{};
        ASSERT_EQ(::clock_gettime(CLOCK_REALTIME, &now), 0);
        if (later(now, until)) return;
        ASSERT_LT(std::chrono::steady_clock::now(), give_up)
            << "the clock did not pass the change of " << path;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void set_modified(const std::string& path, int seconds_from_now) {
    timespec times[2]{};
    times[0].tv_nsec = UTIME_OMIT;
    ASSERT_EQ(::clock_gettime(CLOCK_REALTIME, &times[1]), 0);
    times[1].tv_sec += seconds_from_now;
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
}

// The decoy reads the list of key holders at every walk (login/unknown_user.cpp): holders() keeps a listing
// while the directory is unchanged. The same object back means the listing was kept; another object, that the
// directory was read again.
TEST_F(Store, TheHoldersListingIsKeptOnlyWhileTheDirectoryIsUnchanged) {
    store().add(credential("alice", "id-a"));
    ASSERT_NO_FATAL_FAILURE(wait_a_second_past_the_last_change(store().dir()));
    const auto kept = store().holders();
    EXPECT_THAT(*kept, ElementsAre("alice"));
    EXPECT_EQ(store().holders(), kept) << "a listing taken a second after the last change is kept";
    EXPECT_EQ(store().holders(), kept);

    store().add(credential("bob", "id-b"));
    const auto changed = store().holders();
    EXPECT_THAT(*changed, ElementsAre("alice", "bob")) << "a new holder is seen at the next walk";

    ASSERT_NO_FATAL_FAILURE(wait_a_second_past_the_last_change(store().dir()));
    const auto again = store().holders();
    EXPECT_EQ(store().holders(), again);
    // Any change to the directory reads it again, even one that lists the same (its mode, here).
    ASSERT_EQ(::chmod(store().dir().c_str(), 0700), 0);
    EXPECT_NE(store().holders(), again);

    // A listing taken within a second of the last change is not kept: here, a modification time set ahead.
    ASSERT_NO_FATAL_FAILURE(set_modified(store().dir(), 3600));
    const auto ahead = store().holders();
    EXPECT_THAT(*ahead, ElementsAre("alice", "bob"));
    EXPECT_NE(store().holders(), ahead);
}

// A key holder's login computes its name's decoy walk with the listing as last seen (Login::decoy_twin): it
// has looked at the directory for its own file already. Within the window the directory is not looked at;
// past it, or with no listing seen, it is listed as holders() lists it.
TEST_F(Store, TheHoldersListingLastSeenIsTakenWithinItsWindow) {
    store().add(credential("alice", "id-a"));
    EXPECT_THAT(*store().holders_seen_within(std::chrono::hours(1)), ElementsAre("alice"))
        << "nothing seen yet: listed";
    ASSERT_NO_FATAL_FAILURE(wait_a_second_past_the_last_change(store().dir()));
    const auto seen = store().holders();
    store().add(credential("bob", "id-b"));
    EXPECT_EQ(store().holders_seen_within(std::chrono::hours(1)), seen)
        << "seen within the hour: the directory is not looked at";
    EXPECT_THAT(*store().holders_seen_within(std::chrono::seconds(0)), ElementsAre("alice", "bob"))
        << "not seen since: listed again";
}

// load() keeps a file's parse while the file is unchanged, as holders() keeps its listing. Every change is
// seen at the next load, and what is there is checked at every load as a read checks it.
// credential_files_parsed() tells a parse kept from one made.
TEST_F(Store, AKeptParseIsUsedOnlyWhileTheFileIsUnchanged) {
    const auto ids = [&](const std::string& user) {
        std::vector<std::string> out;
        for (const auto& c : store().load(user).credentials) out.push_back(c.cred_id);
        return out;
    };
    store().add(credential("alice", "id-a"));
    store().add(credential("bob", "id-b"));
    const std::string alice = file("alice");
    const std::string bob_line = read_all(file("bob"));

    ASSERT_NO_FATAL_FAILURE(wait_a_second_past_the_last_change(alice));
    EXPECT_THAT(ids("alice"), ElementsAre("id-a"));
    const auto parses = credential_files_parsed();
    EXPECT_THAT(ids("alice"), ElementsAre("id-a"));
    EXPECT_THAT(ids("alice"), ElementsAre("id-a"));
    EXPECT_EQ(credential_files_parsed(), parses) << "an unchanged file's parse is kept";

    // A change in place (the same inode): seen.
    std::ofstream(alice, std::ios::app) << bob_line;
    EXPECT_THAT(ids("alice"), ElementsAre("id-a", "id-b"));

    // The store's own write (a new inode): seen.
    ASSERT_NO_FATAL_FAILURE(wait_a_second_past_the_last_change(alice));
    EXPECT_THAT(ids("alice"), ElementsAre("id-a", "id-b"));
    ASSERT_TRUE(store().remove("alice", "id-b"));
    EXPECT_THAT(ids("alice"), ElementsAre("id-a"));

    // Opened to others: refused at once, as a read refuses it; and read again once closed (its ctime moved).
    ASSERT_NO_FATAL_FAILURE(wait_a_second_past_the_last_change(alice));
    EXPECT_THAT(ids("alice"), ElementsAre("id-a"));
    ASSERT_EQ(::chmod(alice.c_str(), 0666), 0);
    EXPECT_THROW(store().load("alice"), FileError);
    ASSERT_EQ(::chmod(alice.c_str(), 0600), 0);
    EXPECT_THAT(ids("alice"), ElementsAre("id-a"));

    // An edit of the same size in place, with its old modification time put back (as cp -p, rsync -t or tar
    // would): seen, since the ctime moved.
    ASSERT_NO_FATAL_FAILURE(wait_a_second_past_the_last_change(alice));
    EXPECT_THAT(ids("alice"), ElementsAre("id-a"));
    struct stat before {};
    ASSERT_EQ(::stat(alice.c_str(), &before), 0);
    std::string text = read_all(alice);
    const auto at = text.find("aWQtYQ");  // base64url of "id-a"
    ASSERT_NE(at, std::string::npos) << text;
    text.replace(at, 6, "aWQtYw");  // "id-c"
    std::ofstream(alice, std::ios::trunc) << text;
    timespec times[2]{before.st_atim, before.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, alice.c_str(), times, 0), 0);
    EXPECT_THAT(ids("alice"), ElementsAre("id-c"));

    // Gone: an empty list, not the kept parse; and a new file in its place is read.
    ASSERT_NO_FATAL_FAILURE(wait_a_second_past_the_last_change(alice));
    EXPECT_THAT(ids("alice"), ElementsAre("id-c"));
    ASSERT_EQ(::unlink(alice.c_str()), 0);
    EXPECT_THAT(ids("alice"), IsEmpty());
    store().add(credential("alice", "id-d"));
    EXPECT_THAT(ids("alice"), ElementsAre("id-d"));
}

// load_shape() (a decoy copying a key holder) takes the parse a login looked at lately without looking at the
// file again, so that a decoy's reading of the store costs what a real login's does; past that time it loads.
TEST_F(Store, AShapeIsTakenFromAParseLookedAtLately) {
    const auto ids = [](const CredentialStore::Loaded& loaded) {
        std::vector<std::string> out;
        for (const auto& c : loaded.credentials) out.push_back(c.cred_id);
        return out;
    };
    store().add(credential("alice", "id-a"));
    store().add(credential("bob", "id-b"));
    const std::string alice = file("alice");
    ASSERT_NO_FATAL_FAILURE(wait_a_second_past_the_last_change(alice));
    EXPECT_THAT(ids(store().load("alice")), ElementsAre("id-a"));
    std::ofstream(alice, std::ios::app) << read_all(file("bob"));
    const auto parses = credential_files_parsed();
    EXPECT_THAT(ids(store().load_shape("alice", std::chrono::hours(1))), ElementsAre("id-a"))
        << "looked at within the hour: the file is not looked at";
    EXPECT_EQ(credential_files_parsed(), parses);
    EXPECT_THAT(ids(store().load_shape("alice", std::chrono::seconds(0))), ElementsAre("id-a", "id-b"))
        << "not looked at since: loaded";
    EXPECT_THAT(ids(store().load_shape("bob", std::chrono::hours(1))), ElementsAre("id-b"))
        << "never looked at: loaded";
    EXPECT_THAT(ids(store().load_shape("carol", std::chrono::hours(1))), IsEmpty());
}

TEST_F(Store, RoundTrip) {
    auto a1 = credential("alice", test::random_bytes(16), "Schlüssel \\ ✓");
    a1.uv = true;
    auto a2 = credential("alice", test::random_bytes(1023), "backup");
    a2.alg = KeyAlgorithm::EdDsa;
    a2.public_key = TestKey::ed25519().public_key();
    a2.rp_id = pp::RpId("pam://other-host");
    const auto b1 = credential("bob", test::random_bytes(32));
    store().add(a1);
    store().add(a2);
    store().add(b1);

    auto alice = store().load("alice");
    EXPECT_THAT(alice.problems, IsEmpty());
    ASSERT_EQ(alice.credentials.size(), 2u);
    expect_same(alice.credentials[0], a1);
    expect_same(alice.credentials[1], a2);
    EXPECT_THAT(store().users(), ElementsAre("alice", "bob"));

    struct stat st {};
    ASSERT_EQ(::lstat(file("alice").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    const std::string text = read_all(file("alice"));
    EXPECT_THAT(text, StartsWith("v1\t"));
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);

    EXPECT_TRUE(store().rename("alice", a1.cred_id, "renamed"));
    EXPECT_FALSE(store().rename("alice", b1.cred_id, "not hers"));
    store().record_use("alice", a2.cred_id, 42, 1700000100);
    alice = store().load("alice");
    a1.nickname = "renamed";
    a2.counter = 42;
    a2.last_used = 1700000100;
    expect_same(alice.credentials[0], a1);
    expect_same(alice.credentials[1], a2);

    EXPECT_TRUE(store().remove("alice", a1.cred_id));
    EXPECT_FALSE(store().remove("alice", a1.cred_id));
    ASSERT_EQ(store().load("alice").credentials.size(), 1u);
    EXPECT_TRUE(store().remove("alice", a2.cred_id));
    // An account with no credentials has no file and is not listed.
    EXPECT_NE(::access(file("alice").c_str(), F_OK), 0);
    EXPECT_THAT(store().users(), ElementsAre("bob"));
}

// A credential that requires user verification is written as a v2 record, which a helper that cannot
// enforce the requirement skips; the others stay v1, and v1 records load as not requiring it.
TEST_F(Store, UserVerificationRequirementIsKept) {
    auto strict = credential("alice", test::random_bytes(16), "pin key");
    strict.uv = true;
    strict.uv_required = true;
    const auto plain = credential("alice", test::random_bytes(16), "touch key");
    store().add(strict);
    store().add(plain);
    const std::string text = read_all(file("alice"));
    EXPECT_THAT(text, StartsWith("v2\t"));
    EXPECT_THAT(text, HasSubstr("\nv1\t"));
    auto loaded = store().load("alice");
    EXPECT_THAT(loaded.problems, IsEmpty());
    ASSERT_EQ(loaded.credentials.size(), 2u);
    expect_same(loaded.credentials[0], strict);
    expect_same(loaded.credentials[1], plain);
    // A use keeps the requirement.
    store().record_use("alice", strict.cred_id, 5, 1700000200);
    EXPECT_TRUE(store().load("alice").credentials[0].uv_required);

    const std::string f = file("alice");
    ASSERT_NO_THROW(write_file_atomically(f,
                                          "v2\tAQ\t-7\tAQ\tpam://h\t0\t0\t0\t1\t7\tx\n"
                                          "v2\tAQ\t-7\tAQ\tpam://h\t0\t0\t0\t1\tx\n"));
    EXPECT_THAT(store().load("alice").problems,
                ElementsAre(f + ":1: bad user-verification requirement",
                            f + ":2: expected 11 tab-separated fields, found 10"));
}

TEST_F(Store, DuplicateCredentialIdRefusedForAnyUser) {
    const auto c = credential("alice", test::random_bytes(16));
    store().add(c);
    EXPECT_THROW(store().add(c), CredentialError);
    auto for_bob = c;
    for_bob.user = "bob";
    EXPECT_THROW(store().add(for_bob), CredentialError);
    EXPECT_THAT(store().users(), ElementsAre("alice"));
}

TEST_F(Store, InvalidFieldsRefused) {
    const auto refused = [&](StoredCredential c) {
        try {
            store().add(c);
        } catch (const CredentialError&) {
            return true;
        }
        return false;
    };
    const auto good = credential("alice", "id");
    auto c = good;
    for (const std::string& user :
         std::vector<std::string>{"", ".", "..", "a/b", "-x", "alice.tmp.123", std::string(65, 'a')}) {
        c.user = user;
        EXPECT_TRUE(refused(c)) << "user '" << user << "'";
    }
    for (const std::string& nickname : std::vector<std::string>{
             std::string(), std::string(65, 'n'), std::string("a\nb"), std::string("a\tb"),
             std::string("\xe2\x80\xae"
                         "evil"),
             std::string("\xc3\x28"), std::string("\xed\xa0\x80"), std::string("\xc0\xaf"),
             std::string("a\x7f")}) {
        c = good;
        c.nickname = nickname;
        EXPECT_TRUE(refused(c)) << "nickname '" << nickname << "'";
    }
    c = good;
    c.nickname = std::string(16, 'x') + "日本語のキー";  // multi-byte, within 64 bytes
    EXPECT_FALSE(refused(c));
    // An invalid relying-party id cannot reach add(): a credential is made with an RpId, which refuses it.
    // Read from disk, such an id makes the record corrupt (RecordWithAnInvalidRelyingPartyIdIsCorrupt).
    for (const std::string& rp :
         std::vector<std::string>{std::string(), std::string("pam://a b"), std::string(256, 'r')})
        EXPECT_THROW(pp::RpId{rp}, std::invalid_argument) << "rp_id '" << rp << "'";
    c = good;
    c.cred_id.clear();
    EXPECT_TRUE(refused(c));
    c.cred_id = std::string(1024, 'i');
    EXPECT_TRUE(refused(c));
    c = good;
    c.cred_id = "another";
    c.public_key.pop_back();
    EXPECT_TRUE(refused(c)) << "short key";
    c.public_key = std::string(64, '\x01');
    EXPECT_TRUE(refused(c)) << "not on the curve";
    c.public_key = good.public_key;
    c.alg = KeyAlgorithm::EdDsa;
    EXPECT_TRUE(refused(c)) << "ES256 key as EdDSA";
    c = good;
    c.cred_id = "yet another";
    c.created = -1;
    EXPECT_TRUE(refused(c));
    EXPECT_THROW(store().rename("alice", good.cred_id, "bad\nname"), CredentialError);
    EXPECT_THROW((void)store().load("../etc"), CredentialError);
}

TEST_F(Store, PerUserLimit) {
    for (std::size_t i = 0; i < kMaxCredentialsPerUser; ++i)
        store().add(credential("alice", "id" + std::to_string(i)));
    EXPECT_THROW(store().add(credential("alice", "one too many")), CredentialError);
    store().add(credential("bob", "one too many"));
}

TEST_F(Store, CorruptRecordIsReportedAndTheOthersLoad) {
    const auto a1 = credential("alice", "first");
    const auto a2 = credential("alice", "second");
    const auto [line1, line2] = stored_lines(a1, a2);
    std::string bad_field = line2;
    bad_field.replace(3, 1, "!");  // not base64url
    const std::string corrupt = line1 + "garbage\n" + "v1\tonly\tthree\n" + "\n" + bad_field +
                                "v1\tAQ\t-7\tAQ\tpam://h\t0\t0\t0\t0\tx\n" + line2;
    ASSERT_NO_THROW(write_file_atomically(file("alice"), corrupt));

    auto loaded = store().load("alice");
    ASSERT_EQ(loaded.credentials.size(), 2u);
    expect_same(loaded.credentials[0], a1);
    expect_same(loaded.credentials[1], a2);
    const std::string f = file("alice");
    EXPECT_THAT(loaded.problems, ElementsAre(f + ":2: not a v1 or v2 record",
                                             f + ":3: expected 10 tab-separated fields, found 3",
                                             f + ":5: credential id is not base64url",
                                             f + ":6: public key length does not fit the algorithm"));

    // A change to one record keeps the lines it cannot read, for the admin to repair.
    store().record_use("alice", a1.cred_id, 1, 1700000001);
    loaded = store().load("alice");
    EXPECT_EQ(loaded.credentials[0].counter, 1u);
    EXPECT_EQ(loaded.problems.size(), 4u);
    EXPECT_THAT(read_all(f), HasSubstr("garbage\n"));
}

TEST_F(Store, RecordWithAnInvalidRelyingPartyIdIsCorrupt) {
    const auto a1 = credential("alice", "first");
    const auto [line1, line2] = stored_lines(a1, credential("alice", "second"));
    const std::string rp = "pam://test-host";
    ASSERT_NE(line2.find(rp), std::string::npos);
    std::string spaced = line2, empty = line2, long_id = line2;
    spaced.replace(spaced.find(rp), rp.size(), "pam://a b");
    empty.replace(empty.find(rp), rp.size(), "");
    long_id.replace(long_id.find(rp), rp.size(), std::string(pp::RpId::kMaxBytes + 1, 'r'));
    ASSERT_NO_THROW(write_file_atomically(file("alice"), line1 + spaced + empty + long_id));

    const auto loaded = store().load("alice");
    ASSERT_EQ(loaded.credentials.size(), 1u);
    expect_same(loaded.credentials[0], a1);
    const std::string f = file("alice");
    EXPECT_THAT(loaded.problems,
                ElementsAre(f + ":2: invalid relying-party id", f + ":3: invalid relying-party id",
                            f + ":4: invalid relying-party id"));
}

TEST_F(Store, DuplicateRecordInFileIsReported) {
    const auto c = credential("alice", "dup");
    store().add(c);
    const std::string line = read_all(file("alice"));
    ASSERT_NO_THROW(write_file_atomically(file("alice"), line + line));
    const auto loaded = store().load("alice");
    EXPECT_EQ(loaded.credentials.size(), 1u);
    EXPECT_THAT(loaded.problems, ElementsAre(file("alice") + ":2: duplicate credential id"));
}

TEST_F(Store, UnsafeFilesAreRefused) {
    store().add(credential("alice", "a"));
    const std::string alice = file("alice");

    ASSERT_EQ(::chmod(alice.c_str(), 0666), 0);
    EXPECT_THROW((void)store().load("alice"), FileError);
    EXPECT_THROW(store().add(credential("alice", "b")), FileError);
    EXPECT_THROW(store().record_use("alice", "a", 1, 1), FileError);
    ASSERT_EQ(::chmod(alice.c_str(), 0600), 0);

    ASSERT_EQ(::chown(alice.c_str(), 65534, 65534), 0);
    EXPECT_THROW((void)store().load("alice"), FileError);
    EXPECT_THROW(store().remove("alice", "a"), FileError);
    ASSERT_EQ(::chown(alice.c_str(), 0, 0), 0);

    ASSERT_EQ(::symlink(alice.c_str(), file("bob").c_str()), 0);
    EXPECT_THROW((void)store().load("bob"), FileError);
    // The planted link also blocks enrolment for others, rather than hiding a credential id from the
    // duplicate check.
    EXPECT_THROW(store().add(credential("carol", "c")), FileError);
    ASSERT_EQ(::unlink(file("bob").c_str()), 0);

    ASSERT_EQ(::mkdir(file("dave").c_str(), 0700), 0);
    EXPECT_THROW((void)store().load("dave"), FileError);
}

TEST_F(Store, UsersSkipsTheLockAndLeftoverTemporaryFiles) {
    store().add(credential("alice", "a"));
    ASSERT_NO_THROW(write_file_atomically(file("alice.tmp.12345"), "left behind by a crash"));
    EXPECT_THAT(store().users(), ElementsAre("alice"));
}

TEST_F(Store, RecordUseRefusesWhatCannotBeRecorded) {
    store().add(credential("alice", "a"));
    store().record_use("alice", "a", 0, 10);  // a key that does not count
    store().record_use("alice", "a", 5, 11);
    EXPECT_THROW(store().record_use("alice", "a", 5, 12), CredentialError);
    EXPECT_THROW(store().record_use("alice", "a", 4, 12), CredentialError);
    EXPECT_THROW(store().record_use("alice", "gone", 9, 12), CredentialError);
    const auto c = store().load("alice").credentials.at(0);
    EXPECT_EQ(c.counter, 5u);
    EXPECT_EQ(c.last_used, 11);
}

TEST_F(Store, ConcurrentRecordUseLosesNoUpdate) {
    constexpr int kThreads = 8;
    constexpr std::uint32_t kUses = 25;
    for (int t = 0; t < kThreads; ++t)
        store().add(credential(t % 2 ? "alice" : "bob", "key" + std::to_string(t)));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([this, t] {
            // Each thread has its own store object and lock file descriptor, as separate helper processes
            // would.
            CredentialStore mine(store().dir());
            for (std::uint32_t use = 1; use <= kUses; ++use)
                mine.record_use(t % 2 ? "alice" : "bob", "key" + std::to_string(t), use, 1700000000 + use);
        });
    }
    for (auto& th : threads) th.join();
    for (const std::string user : {"alice", "bob"}) {
        const auto loaded = store().load(user);
        EXPECT_THAT(loaded.problems, IsEmpty());
        ASSERT_EQ(loaded.credentials.size(), kThreads / 2u);
        for (const auto& c : loaded.credentials) {
            EXPECT_EQ(c.counter, kUses) << c.cred_id;
            EXPECT_EQ(c.last_used, 1700000000 + kUses) << c.cred_id;
        }
    }
}

TEST(Nicknames, Bounds) {
    EXPECT_TRUE(valid_nickname("YubiKey 5 NFC"));
    EXPECT_TRUE(valid_nickname(std::string(64, 'k')));
    EXPECT_FALSE(valid_nickname(std::string(65, 'k')));
    EXPECT_FALSE(valid_nickname("\xe2\x80\xa8"));      // line separator
    EXPECT_FALSE(valid_nickname("\xc2\x85"));          // NEL, a C1 control
    EXPECT_FALSE(valid_nickname("\xf4\x90\x80\x80"));  // past U+10FFFF
}

TEST(StorePath, MustBeAbsolute) {
    EXPECT_THROW(CredentialStore("relative/dir"), CredentialError);
    EXPECT_EQ(CredentialStore("/var/lib/x/").dir(), "/var/lib/x");
}

TEST(Algorithms, CoseNumbers) {
    EXPECT_EQ(cose_number(KeyAlgorithm::Es256), -7);
    EXPECT_EQ(cose_number(KeyAlgorithm::EdDsa), -8);
    EXPECT_EQ(algorithm_from_cose(-7), KeyAlgorithm::Es256);
    EXPECT_EQ(algorithm_from_cose(-8), KeyAlgorithm::EdDsa);
    EXPECT_EQ(algorithm_from_cose(-257), std::nullopt);
}

}  // namespace
}  // namespace pp::helper
