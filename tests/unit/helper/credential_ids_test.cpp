// Credential ids by unique prefix: the short forms 'list' shows and what a typed prefix names.
#include "credential_ids.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pp::helper {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CredentialIds, ShortFormsAreEightCharactersUnlessMoreAreNeeded) {
    EXPECT_THAT(short_ids({"AAAAAAAAxyz", "BBBBBBBBxyz"}), ElementsAre("AAAAAAAA", "BBBBBBBB"));
    // Sharing the first ten characters: eleven tell them apart.
    EXPECT_THAT(short_ids({"abcdefghijKLMN", "abcdefghijXYZ", "zzzzzzzzzz"}),
                ElementsAre("abcdefghijK", "abcdefghijX", "zzzzzzzz"));
    // An id that is the start of another is shown whole.
    EXPECT_THAT(short_ids({"abcdefghij", "abcdefghijk"}), ElementsAre("abcdefghij", "abcdefghijk"));
    EXPECT_THAT(short_ids({"short"}), ElementsAre("short"));
    EXPECT_TRUE(short_ids({}).empty());
}

TEST(CredentialIds, EveryShortFormNamesItsOwnId) {
    const std::vector<std::string> ids{"abcdefghijKLMN", "abcdefghijXYZ", "zzzzzzzzzz", "abcdefgh"};
    const auto shorts = short_ids(ids);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const auto m = match_id(shorts[i], ids);
        ASSERT_EQ(m.kind, IdMatch::Kind::Unique) << shorts[i];
        EXPECT_EQ(m.id, ids[i]);
    }
}

TEST(CredentialIds, AmbiguousUnknownAndTooShortPrefixesAreRefused) {
    const std::vector<std::string> ids{"abcdefghijKLMN", "abcdefghijXYZ", "zzzzzzzzzz"};
    const auto ambiguous = match_id("abcdefgh", ids);
    ASSERT_EQ(ambiguous.kind, IdMatch::Kind::Ambiguous);
    EXPECT_THAT(ambiguous.candidates, ElementsAre("abcdefghijK", "abcdefghijX"));
    EXPECT_EQ(id_match_problem(ambiguous, "abcdefgh", "security key"),
              "'abcdefgh' is the start of 2 IDs (abcdefghijK, abcdefghijX); type more of it.");

    EXPECT_EQ(match_id("abcdefgX", ids).kind, IdMatch::Kind::None);
    EXPECT_EQ(id_match_problem(match_id("abcdefgX", ids), "abcdefgX", "passkey"), "No such passkey.");
    EXPECT_EQ(match_id("zzzzzzzzzzz", ids).kind, IdMatch::Kind::None) << "longer than the id itself";
    const auto short_prefix = match_id("zzzz", ids);
    EXPECT_EQ(short_prefix.kind, IdMatch::Kind::TooShort) << "even when only one id starts so";
    EXPECT_THAT(id_match_problem(short_prefix, "zzzz", "security key"), HasSubstr("at least 8 characters"));
    EXPECT_EQ(match_id("", ids).kind, IdMatch::Kind::TooShort);
}

TEST(CredentialIds, AWholeIdAlwaysNamesItselfEvenWhenShortOrTheStartOfAnother) {
    const std::vector<std::string> ids{"abc", "abcdefghij", "abcdefghijk"};
    for (const auto& id : ids) {
        const auto m = match_id(id, ids);
        ASSERT_EQ(m.kind, IdMatch::Kind::Unique) << id;
        EXPECT_EQ(m.id, id);
    }
}

}  // namespace
}  // namespace pp::helper
