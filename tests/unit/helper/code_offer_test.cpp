#include "code_offer.hpp"

#include <gtest/gtest.h>

namespace pp::helper {
namespace {

TEST(CodeOffer, PromptNamesTheMaskedDestination) {
    EXPECT_EQ(code_offer_prompt(Method::EmailOtp, "a***@e***"), "Send a code to a***@e***? [Y/n] ");
    EXPECT_EQ(code_offer_prompt(Method::SmsOtp, "+*******0123"), "Send a code to +*******0123? [Y/n] ");
}

TEST(CodeOffer, PromptWithoutADestinationNamesTheKind) {
    EXPECT_EQ(code_offer_prompt(Method::EmailOtp, ""), "Send a code to your email? [Y/n] ");
    EXPECT_EQ(code_offer_prompt(Method::SmsOtp, ""), "Send a code to your phone? [Y/n] ");
}

TEST(CodeOffer, EnterAndYesSend) {
    for (const char* a : {"", "y", "Y", "yes", "YES", " y ", "  "})
        EXPECT_EQ(read_offer_answer(a), OfferAnswer::Send) << '"' << a << '"';
}

TEST(CodeOffer, NoCancels) {
    for (const char* a : {"n", "N", "no", "No", " n"})
        EXPECT_EQ(read_offer_answer(a), OfferAnswer::Cancel) << '"' << a << '"';
}

TEST(CodeOffer, AnythingElseIsAskedAgain) {
    for (const char* a : {"1", "maybe", "yess", "nope", "12345678", "correct horse battery staple"})
        EXPECT_EQ(read_offer_answer(a), OfferAnswer::Unclear) << '"' << a << '"';
}

// sshd's keyboard-interactive answer for a name that is no local account: the walk goes on as for a real one.
TEST(CodeOffer, SshdStandInAnswerReadsAsEnter) {
    EXPECT_EQ(read_offer_answer("\b\n\r\177INCORRECT"), OfferAnswer::Send);
}

}  // namespace
}  // namespace pp::helper
