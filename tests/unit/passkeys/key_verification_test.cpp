#include "key_verification.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "passkey_fixtures.hpp"

namespace pp::helper {
namespace {

using test::kAt;
using test::kEd;
using test::kUp;
using test::kUv;
using test::TestKey;
using ::testing::HasSubstr;

constexpr const char* kRp = "pam://test-host";

StoredCredential stored(const TestKey& key, std::string cred_id, std::uint32_t counter = 0) {
    StoredCredential c{pp::RpId(kRp)};
    c.user = "alice";
    c.cred_id = std::move(cred_id);
    c.alg = key.alg();
    c.public_key = key.public_key();
    c.nickname = "test key";
    c.counter = counter;
    return c;
}

class Assertions : public ::testing::Test {
  protected:
    Assertions()
        : es_(TestKey::p256()),
          ed_(TestKey::ed25519()),
          cdh_(test::random_bytes(32)),
          candidates_{stored(es_, test::random_bytes(16)), stored(ed_, test::random_bytes(64))} {}

    // An assertion as a key would return it: the signature covers the raw authData and the client data hash.
    AssertionInput assertion(const TestKey& key, const StoredCredential& c, std::uint8_t flags,
                             std::uint32_t counter, const std::string& rp = kRp) const {
        const std::string raw = test::raw_auth_data(rp, flags, counter);
        return {c.cred_id, test::cbor_bytes(raw), key.sign(raw + cdh_)};
    }
    AssertionResult verify(const AssertionInput& in, bool require_uv = false) const {
        return verify_assertion(AssertionPolicy{kRp, cdh_, require_uv}, in, candidates_);
    }

    TestKey es_, ed_;
    std::string cdh_;
    std::vector<StoredCredential> candidates_;
};

TEST_F(Assertions, AcceptsEs256) {
    const auto r = verify(assertion(es_, candidates_[0], kUp, 7));
    EXPECT_EQ(r.verdict, AssertionVerdict::Ok);
    EXPECT_EQ(r.index, 0u);
    EXPECT_EQ(r.counter, 7u);
    EXPECT_FALSE(r.uv);
}

TEST_F(Assertions, AcceptsEdDsa) {
    const auto r = verify(assertion(ed_, candidates_[1], kUp | kUv, 1));
    EXPECT_EQ(r.verdict, AssertionVerdict::Ok);
    EXPECT_EQ(r.index, 1u);
    EXPECT_EQ(r.counter, 1u);
    EXPECT_TRUE(r.uv);
}

TEST_F(Assertions, UnknownCredential) {
    StoredCredential other = stored(es_, test::random_bytes(16));
    EXPECT_EQ(verify(assertion(es_, other, kUp, 1)).verdict, AssertionVerdict::UnknownCredential);
    // The right id, but enrolled for another relying party, is not a candidate for this one.
    candidates_[0].rp_id = pp::RpId("pam://elsewhere");
    EXPECT_EQ(verify(assertion(es_, candidates_[0], kUp, 1)).verdict, AssertionVerdict::UnknownCredential);
    EXPECT_EQ(verify_assertion(AssertionPolicy{kRp, cdh_, false}, assertion(es_, candidates_[0], kUp, 1), {})
                  .verdict,
              AssertionVerdict::UnknownCredential);
}

TEST_F(Assertions, WrongRelyingParty) {
    EXPECT_EQ(verify(assertion(es_, candidates_[0], kUp, 1, "pam://other-host")).verdict,
              AssertionVerdict::WrongRelyingParty);
    // Checked before the flags: the answer names the first thing wrong.
    EXPECT_EQ(verify(assertion(ed_, candidates_[1], 0, 1, "pam://other-host")).verdict,
              AssertionVerdict::WrongRelyingParty);
}

TEST_F(Assertions, NoUserPresence) {
    EXPECT_EQ(verify(assertion(es_, candidates_[0], 0, 1)).verdict, AssertionVerdict::NoUserPresence);
    EXPECT_EQ(verify(assertion(ed_, candidates_[1], kUv, 1), true).verdict, AssertionVerdict::NoUserPresence);
}

TEST_F(Assertions, UserVerificationOnlyWhenRequired) {
    const auto in = assertion(es_, candidates_[0], kUp, 1);
    EXPECT_EQ(verify(in, true).verdict, AssertionVerdict::NoUserVerification);
    EXPECT_EQ(verify(in, false).verdict, AssertionVerdict::Ok);
    const auto with_uv = verify(assertion(es_, candidates_[0], kUp | kUv, 2), true);
    EXPECT_EQ(with_uv.verdict, AssertionVerdict::Ok);
    EXPECT_TRUE(with_uv.uv);
}

TEST_F(Assertions, BadSignature) {
    auto in = assertion(es_, candidates_[0], kUp, 1);
    // Signed by another key.
    const std::string raw = test::raw_auth_data(kRp, kUp, 1);
    in.signature = TestKey::p256().sign(raw + cdh_);
    EXPECT_EQ(verify(in).verdict, AssertionVerdict::BadSignature);
    // Signed over another challenge: a replay of an earlier login.
    in.signature = es_.sign(raw + test::random_bytes(32));
    EXPECT_EQ(verify(in).verdict, AssertionVerdict::BadSignature);
    // The authData changed after signing (a counter bumped to get past the counter check).
    in = assertion(es_, candidates_[0], kUp, 1);
    in.auth_data = test::cbor_bytes(test::raw_auth_data(kRp, kUp, 2));
    EXPECT_EQ(verify(in).verdict, AssertionVerdict::BadSignature);

    auto ed_in = assertion(ed_, candidates_[1], kUp, 1);
    ed_in.signature[10] ^= 0x01;
    EXPECT_EQ(verify(ed_in).verdict, AssertionVerdict::BadSignature);
    // Not even the shape of a signature.
    ed_in.signature = "x";
    EXPECT_EQ(verify(ed_in).verdict, AssertionVerdict::BadSignature);
}

// ES256 keys are kept after their first use (key_verification.cpp): a kept key answers as a new one does,
// and one credential's key never verifies another's signature.
TEST_F(Assertions, KeptEs256KeysAnswerAsNewOnes) {
    const TestKey other = TestKey::p256();
    candidates_.push_back(stored(other, test::random_bytes(16)));
    for (std::uint32_t round = 1; round <= 3; ++round) {
        EXPECT_EQ(verify(assertion(es_, candidates_[0], kUp, round)).verdict, AssertionVerdict::Ok) << round;
        EXPECT_EQ(verify(assertion(other, candidates_[2], kUp, round)).verdict, AssertionVerdict::Ok)
            << round;
        // Each key's signature presented for the other's credential.
        EXPECT_EQ(verify(assertion(es_, candidates_[2], kUp, round)).verdict, AssertionVerdict::BadSignature);
        EXPECT_EQ(verify(assertion(other, candidates_[0], kUp, round)).verdict,
                  AssertionVerdict::BadSignature);
    }
    auto in = assertion(es_, candidates_[0], kUp, 4);
    in.signature[in.signature.size() - 1] ^= 0x01;
    EXPECT_EQ(verify(in).verdict, AssertionVerdict::BadSignature);
    // Not even the shape of a signature, and a valid signature with bytes after it.
    in.signature = "x";
    EXPECT_EQ(verify(in).verdict, AssertionVerdict::BadSignature);
    in = assertion(es_, candidates_[0], kUp, 4);
    in.signature += '\0';
    EXPECT_EQ(verify(in).verdict, AssertionVerdict::BadSignature);
    // A key that is not on the curve is never kept: it stays malformed, however often it is asked for.
    candidates_[2].public_key = std::string(64, '\x01');
    for (int i = 0; i < 2; ++i)
        EXPECT_EQ(verify(assertion(other, candidates_[2], kUp, 5)).verdict, AssertionVerdict::Malformed);
}

TEST_F(Assertions, CounterMustIncreaseOnceCounting) {
    candidates_[0].counter = 5;
    EXPECT_EQ(verify(assertion(es_, candidates_[0], kUp, 5)).verdict, AssertionVerdict::CounterRegressed);
    EXPECT_EQ(verify(assertion(es_, candidates_[0], kUp, 4)).verdict, AssertionVerdict::CounterRegressed);
    EXPECT_EQ(verify(assertion(es_, candidates_[0], kUp, 0)).verdict, AssertionVerdict::CounterRegressed);
    const auto r = verify(assertion(es_, candidates_[0], kUp, 6));
    EXPECT_EQ(r.verdict, AssertionVerdict::Ok);
    EXPECT_EQ(r.counter, 6u);
}

TEST_F(Assertions, KeyThatNeverCountsIsAccepted) {
    candidates_[1].counter = 0;
    const auto r = verify(assertion(ed_, candidates_[1], kUp, 0));
    EXPECT_EQ(r.verdict, AssertionVerdict::Ok);
    EXPECT_EQ(r.counter, 0u);
}

TEST_F(Assertions, MalformedAuthData) {
    const std::string raw = test::raw_auth_data(kRp, kUp, 1);
    const std::string sig = es_.sign(raw + cdh_);
    const auto with = [&](std::string auth_data) {
        return verify(AssertionInput{candidates_[0].cred_id, std::move(auth_data), sig}).verdict;
    };
    const std::string cbor = test::cbor_bytes(raw);
    EXPECT_EQ(with(cbor.substr(0, cbor.size() - 1)), AssertionVerdict::Malformed) << "truncated";
    EXPECT_EQ(with(raw), AssertionVerdict::Malformed) << "not CBOR";
    EXPECT_EQ(with(""), AssertionVerdict::Malformed) << "empty";
    EXPECT_EQ(with(cbor + std::string(1, '\0')), AssertionVerdict::Malformed)
        << "trailing bytes after the byte string";
    EXPECT_EQ(with(test::cbor_bytes(raw.substr(0, 36))), AssertionVerdict::Malformed) << "short authData";
    EXPECT_EQ(with(test::cbor_bytes(raw + "junk")), AssertionVerdict::Malformed)
        << "junk after the fixed fields";
    EXPECT_EQ(with("\x5f" + test::cbor_bytes(raw) + "\xff"), AssertionVerdict::Malformed)
        << "indefinite length";
    EXPECT_EQ(with("\x78\x25" + raw), AssertionVerdict::Malformed) << "a text string";
    EXPECT_EQ(with(test::cbor_bytes(test::raw_auth_data(kRp, kUp | kAt, 1))), AssertionVerdict::Malformed)
        << "attested credential data in an assertion";
}

TEST_F(Assertions, MalformedOtherwise) {
    auto in = assertion(es_, candidates_[0], kUp, 1);
    EXPECT_EQ(verify_assertion(AssertionPolicy{kRp, cdh_.substr(1), false}, in, candidates_).verdict,
              AssertionVerdict::Malformed)
        << "client data hash of 31 bytes";
    in.signature.clear();
    EXPECT_EQ(verify(in).verdict, AssertionVerdict::Malformed) << "no signature";
    // A stored key that is not a point on P-256.
    candidates_[0].public_key = std::string(64, '\x01');
    EXPECT_EQ(verify(assertion(es_, candidates_[0], kUp, 1)).verdict, AssertionVerdict::Malformed);
}

TEST_F(Assertions, ExtensionsNotAskedForAreMalformed) {
    // {"credBlob": h'00'}: the key volunteered an extension output that nobody asked for.
    const std::string ext = std::string(
        "\xa1\x68"
        "credBlob"
        "\x41\x00",
        12);
    const std::string raw = test::raw_auth_data(kRp, kUp | kEd, 1, ext);
    const AssertionInput in{candidates_[0].cred_id, test::cbor_bytes(raw), es_.sign(raw + cdh_)};
    EXPECT_EQ(verify(in).verdict, AssertionVerdict::Malformed);
}

TEST(VerdictText, EachVerdictHasItsOwnText) {
    std::set<std::string_view> texts;
    for (const auto v : {AssertionVerdict::Ok, AssertionVerdict::UnknownCredential,
                         AssertionVerdict::Malformed, AssertionVerdict::WrongRelyingParty,
                         AssertionVerdict::NoUserPresence, AssertionVerdict::NoUserVerification,
                         AssertionVerdict::BadSignature, AssertionVerdict::CounterRegressed})
        texts.insert(verdict_text(v));
    EXPECT_EQ(texts.size(), 8u);
    EXPECT_EQ(verdict_text(AssertionVerdict::BadSignature), "bad signature");
}

class Enrolment : public ::testing::Test {
  protected:
    Enrolment() : cdh_(test::random_bytes(32)), cred_id_(test::random_bytes(48)) {}

    // A packed self attestation: the new credential's own key signs authData || clientDataHash.
    AttestationInput packed_self(const TestKey& key, std::uint8_t flags = kUp | kAt,
                                 const std::string& rp = kRp, std::uint32_t counter = 0) const {
        const std::string raw =
            test::raw_auth_data(rp, flags, counter, test::attested_credential(cred_id_, key));
        return {"packed",  test::cbor_bytes(raw), key.sign(raw + cdh_), "", cred_id_, key.public_key(),
                key.cose()};
    }
    AttestationInput none(const TestKey& key, std::uint8_t flags = kUp | kAt) const {
        AttestationInput in = packed_self(key, flags);
        in.fmt = "none";
        in.signature.clear();
        return in;
    }
    StoredCredential enrol(const AttestationInput& in, bool require_uv = false) const {
        return verify_new_credential(AttestationPolicy{kRp, cdh_, require_uv}, in);
    }
    std::string refusal(const AttestationInput& in, bool require_uv = false) const {
        try {
            (void)enrol(in, require_uv);
        } catch (const CredentialError& e) {
            return e.what();
        }
        ADD_FAILURE() << "accepted";
        return {};
    }

    std::string cdh_, cred_id_;
};

TEST_F(Enrolment, PackedSelfAttestationEs256) {
    const auto key = TestKey::p256();
    const auto c = enrol(packed_self(key, kUp | kAt, kRp, 3));
    EXPECT_EQ(c.cred_id, cred_id_);
    EXPECT_EQ(c.alg, KeyAlgorithm::Es256);
    EXPECT_EQ(c.public_key, key.public_key());
    EXPECT_EQ(c.public_key.size(), 64u);
    EXPECT_EQ(c.counter, 3u);
    EXPECT_FALSE(c.uv);
}

TEST_F(Enrolment, PackedSelfAttestationEdDsaWithUserVerification) {
    const auto key = TestKey::ed25519();
    const auto c = enrol(packed_self(key, kUp | kUv | kAt), true);
    EXPECT_EQ(c.alg, KeyAlgorithm::EdDsa);
    EXPECT_EQ(c.public_key, key.public_key());
    EXPECT_TRUE(c.uv);
}

TEST_F(Enrolment, PackedFullAttestation) {
    const auto key = TestKey::ed25519();
    const auto attestation = TestKey::p256();
    auto in = packed_self(key);
    const std::string raw = test::raw_auth_data(kRp, kUp | kAt, 0, test::attested_credential(cred_id_, key));
    in.signature = attestation.sign(raw + cdh_);
    in.x5c = attestation.self_signed_certificate();
    EXPECT_EQ(enrol(in).public_key, key.public_key());
    // The certificate of another key.
    in.x5c = TestKey::p256().self_signed_certificate();
    EXPECT_THAT(refusal(in), HasSubstr("signature does not verify"));
}

TEST_F(Enrolment, FidoU2fAttestation) {
    const auto key = TestKey::p256();
    const auto attestation = TestKey::p256();
    auto in = packed_self(key);
    in.fmt = "fido-u2f";
    // U2F signs 0x00 || rpIdHash || clientDataHash || key handle || 0x04 || x || y.
    in.signature = attestation.sign(std::string(1, '\0') + test::sha256(kRp) + cdh_ + cred_id_ + "\x04" +
                                    key.public_key());
    in.x5c = attestation.self_signed_certificate();
    EXPECT_EQ(enrol(in).cred_id, cred_id_);
    in.x5c.clear();
    EXPECT_THAT(refusal(in), HasSubstr("certificate"));
}

TEST_F(Enrolment, NoneAttestation) {
    const auto key = TestKey::p256();
    EXPECT_EQ(enrol(none(key)).public_key, key.public_key());
    auto with_sig = none(key);
    with_sig.signature = "sig";
    EXPECT_THAT(refusal(with_sig), HasSubstr("no signature"));
}

TEST_F(Enrolment, WrongRelyingParty) {
    EXPECT_THAT(refusal(packed_self(TestKey::p256(), kUp | kAt, "pam://other-host")),
                HasSubstr("another relying party"));
}

TEST_F(Enrolment, MissingUserPresence) {
    EXPECT_THAT(refusal(packed_self(TestKey::p256(), kAt)), HasSubstr("user presence"));
    EXPECT_THAT(refusal(none(TestKey::ed25519(), kAt)), HasSubstr("user presence"));
}

TEST_F(Enrolment, MissingUserVerificationWhenRequired) {
    EXPECT_THAT(refusal(packed_self(TestKey::p256()), true), HasSubstr("did not verify the user"));
}

TEST_F(Enrolment, MismatchedCredentialIdOrKey) {
    const auto key = TestKey::p256();
    auto in = packed_self(key);
    in.cred_id = test::random_bytes(48);
    EXPECT_THAT(refusal(in), HasSubstr("credential id does not match"));
    in = packed_self(key);
    in.public_key = TestKey::p256().public_key();
    EXPECT_THAT(refusal(in), HasSubstr("public key does not match"));
    in = none(key);
    in.cred_id.pop_back();
    EXPECT_THAT(refusal(in), HasSubstr("credential id does not match"));
}

TEST_F(Enrolment, BadSelfSignature) {
    auto in = packed_self(TestKey::p256());
    in.signature = TestKey::p256().sign("something else");
    EXPECT_THAT(refusal(in), HasSubstr("signature does not verify"));
    in.signature.clear();
    EXPECT_THAT(refusal(in), HasSubstr("signature is missing"));
}

TEST_F(Enrolment, AlgorithmMustBeEs256OrEdDsaAndMatchTheKey) {
    auto in = packed_self(TestKey::p256());
    in.cose_alg = -257;  // RS256
    EXPECT_THAT(refusal(in), HasSubstr("only ES256 (-7) and EdDSA (-8)"));
    in.cose_alg = -8;
    EXPECT_THAT(refusal(in), HasSubstr("does not hold an EdDSA key"));
}

TEST_F(Enrolment, RefusesOtherFormatsExtensionsAndMissingCredentialData) {
    auto in = packed_self(TestKey::p256());
    in.fmt = "tpm";
    EXPECT_THAT(refusal(in), HasSubstr("unsupported attestation format"));
    EXPECT_THAT(refusal(packed_self(TestKey::p256(), kUp | kAt | kEd)), HasSubstr("extensions"));
    // Credential data without the AT flag is bytes after the fixed fields that are no CBOR item: refused as
    // malformed authenticator data before libfido2 (and its libcbor) would read them.
    EXPECT_THAT(refusal(packed_self(TestKey::p256(), kUp)), HasSubstr("authenticator data"));
    in = packed_self(TestKey::p256());
    in.auth_data.pop_back();
    EXPECT_THAT(refusal(in), HasSubstr("not a CBOR byte string"));
}

TEST(PublicKeys, ValidatesShapeAndCurve) {
    EXPECT_TRUE(valid_public_key(KeyAlgorithm::Es256, TestKey::p256().public_key()));
    EXPECT_TRUE(valid_public_key(KeyAlgorithm::EdDsa, TestKey::ed25519().public_key()));
    EXPECT_FALSE(valid_public_key(KeyAlgorithm::Es256, std::string(64, '\x01')));
    EXPECT_FALSE(valid_public_key(KeyAlgorithm::Es256, "\x04" + TestKey::p256().public_key()));
    EXPECT_FALSE(valid_public_key(KeyAlgorithm::EdDsa, TestKey::p256().public_key()));
}

}  // namespace
}  // namespace pp::helper
