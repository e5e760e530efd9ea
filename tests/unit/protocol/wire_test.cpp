#include "wire.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace pp::wire {
namespace {

std::string bytes_of(const Message& m) {
    return std::string(m.encode().view());
}

// A field header as the wire carries it: tag, then the length big-endian.
std::string field(std::uint8_t tag, std::string_view value) {
    std::string out;
    out.push_back(static_cast<char>(tag));
    out.push_back(static_cast<char>((value.size() >> 8) & 0xff));
    out.push_back(static_cast<char>(value.size() & 0xff));
    out.append(value);
    return out;
}

std::string header(std::uint8_t type, std::uint8_t version = kVersion) {
    return std::string{static_cast<char>(version), static_cast<char>(type)};
}

TEST(Wire, EncodesTheDocumentedLayout) {
    Message m(Type::Answer);
    m.add(Tag::Text, "123456");
    EXPECT_EQ(bytes_of(m), header(2) + std::string("\x06\x00\x06", 3) + "123456");
}

TEST(Wire, EmptyMessageRoundTrips) {
    const Message m = Message::decode(bytes_of(Message(Type::Cancel)));
    EXPECT_EQ(m.type(), Type::Cancel);
    EXPECT_FALSE(m.get(Tag::Text).has_value());
    EXPECT_TRUE(m.all(Tag::Text).empty());
}

TEST(Wire, EveryTypeRoundTrips) {
    for (Type t : {Type::Begin, Type::Answer, Type::Assertion, Type::Cancel, Type::Prompt, Type::KeyRequest,
                   Type::Result, Type::Control, Type::Status}) {
        Message m(t);
        m.add(Tag::Text, "x");
        EXPECT_EQ(Message::decode(bytes_of(m)).type(), t);
    }
}

TEST(Wire, EveryTagRoundTrips) {
    Message m(Type::KeyRequest);
    for (std::uint8_t t = 1; t <= static_cast<std::uint8_t>(Tag::UserHandle); ++t)
        m.add(static_cast<Tag>(t), "value-" + std::to_string(t));
    const Message d = Message::decode(bytes_of(m));
    for (std::uint8_t t = 1; t <= static_cast<std::uint8_t>(Tag::UserHandle); ++t)
        EXPECT_EQ(d.get(static_cast<Tag>(t)), "value-" + std::to_string(t)) << "tag " << int(t);
}

TEST(Wire, BeginFieldsRoundTrip) {
    Message m(Type::Begin);
    m.add(Tag::User, "alice").add(Tag::Service, "sshd").add(Tag::Rhost, "192.0.2.7").add(Tag::Tty, "ssh");
    m.add(Tag::Ruser, "");
    const Message d = Message::decode(bytes_of(m));
    EXPECT_EQ(d.type(), Type::Begin);
    EXPECT_EQ(d.get(Tag::User), "alice");
    EXPECT_EQ(d.get(Tag::Service), "sshd");
    EXPECT_EQ(d.get(Tag::Rhost), "192.0.2.7");
    EXPECT_EQ(d.get(Tag::Tty), "ssh");
    ASSERT_TRUE(d.get(Tag::Ruser).has_value());
    EXPECT_EQ(d.get(Tag::Ruser)->size(), 0u);
}

TEST(Wire, BinaryValuesKeepEveryByte) {
    std::string blob;
    for (int i = 0; i < 256; ++i) blob.push_back(static_cast<char>(i));
    Message m(Type::Assertion);
    m.add(Tag::AuthData, blob).add(Tag::Signature, std::string_view("\0\0\0", 3));
    const Message d = Message::decode(bytes_of(m));
    EXPECT_EQ(d.get(Tag::AuthData), blob);
    EXPECT_EQ(d.get(Tag::Signature), std::string_view("\0\0\0", 3));
}

TEST(Wire, IntegersRoundTripBigEndian) {
    Message m(Type::KeyRequest);
    m.add(Tag::TimeoutMs, std::uint32_t{30000})
        .add(Tag::UserPresence, std::uint32_t{0})
        .add(Tag::UserVerification, std::uint32_t{0xffffffffu});
    const Message d = Message::decode(bytes_of(m));
    EXPECT_EQ(d.get_u32(Tag::TimeoutMs), 30000u);
    EXPECT_EQ(d.get_u32(Tag::UserPresence), 0u);
    EXPECT_EQ(d.get_u32(Tag::UserVerification), 0xffffffffu);
    EXPECT_EQ(d.get(Tag::TimeoutMs), std::string_view("\x00\x00\x75\x30", 4));
    EXPECT_FALSE(d.get_u32(Tag::PinPrompt).has_value());
}

TEST(Wire, EnumsTravelAsIntegers) {
    Message m(Type::Result);
    m.add(Tag::Outcome, static_cast<std::uint32_t>(Outcome::MaxTries));
    m.add(Tag::Style, static_cast<std::uint32_t>(PromptStyle::EchoOff));
    m.add(Tag::DeviceStatus, static_cast<std::uint32_t>(DeviceStatus::PinBlocked));
    const Message d = Message::decode(bytes_of(m));
    EXPECT_EQ(static_cast<Outcome>(*d.get_u32(Tag::Outcome)), Outcome::MaxTries);
    EXPECT_EQ(static_cast<PromptStyle>(*d.get_u32(Tag::Style)), PromptStyle::EchoOff);
    EXPECT_EQ(static_cast<DeviceStatus>(*d.get_u32(Tag::DeviceStatus)), DeviceStatus::PinBlocked);
}

TEST(Wire, RepeatedFieldsKeepTheirOrder) {
    Message m(Type::KeyRequest);
    m.add(Tag::CredId, "first")
        .add(Tag::RpId, "example.com")
        .add(Tag::CredId, "second")
        .add(Tag::CredId, "third");
    const Message d = Message::decode(bytes_of(m));
    const auto ids = d.all(Tag::CredId);
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_EQ(ids[0], "first");
    EXPECT_EQ(ids[1], "second");
    EXPECT_EQ(ids[2], "third");
    EXPECT_EQ(d.get(Tag::CredId), "first");  // get() answers the first
}

TEST(Wire, GetOrFallsBack) {
    Message m(Type::Prompt);
    m.add(Tag::Text, "Code:");
    EXPECT_EQ(m.get_or(Tag::Text, "none"), "Code:");
    EXPECT_EQ(m.get_or(Tag::Rhost, "none"), "none");
}

TEST(Wire, OutcomeNames) {
    EXPECT_STREQ(outcome_name(Outcome::Success), "success");
    EXPECT_STREQ(outcome_name(Outcome::MaxTries), "maxtries");
    EXPECT_STREQ(outcome_name(Outcome::Abort), "abort");
    EXPECT_STREQ(outcome_name(static_cast<Outcome>(200)), "unknown");
}

TEST(Wire, GetU32OfWrongSizeIsRefused) {
    Message m(Type::KeyRequest);
    m.add(Tag::TimeoutMs, "123");
    m.add(Tag::UserPresence, "12345");
    m.add(Tag::UserVerification, "");
    EXPECT_THROW((void)m.get_u32(Tag::TimeoutMs), ProtocolError);
    EXPECT_THROW((void)m.get_u32(Tag::UserPresence), ProtocolError);
    EXPECT_THROW((void)m.get_u32(Tag::UserVerification), ProtocolError);
}

TEST(Wire, DecodeRefusesTooShortForAHeader) {
    EXPECT_THROW(Message::decode(""), ProtocolError);
    EXPECT_THROW(Message::decode(std::string(1, static_cast<char>(kVersion))), ProtocolError);
}

TEST(Wire, DecodeRefusesUnknownVersion) {
    EXPECT_THROW(Message::decode(header(2, 0) + field(6, "x")), ProtocolError);
    EXPECT_THROW(Message::decode(header(2, kVersion + 1)), ProtocolError);
    EXPECT_THROW(Message::decode(header(2, 0xff)), ProtocolError);
}

TEST(Wire, DecodeRefusesUnknownType) {
    for (int t : {0, 7, 15, 24, 39, 42, 255})
        EXPECT_THROW(Message::decode(header(t)), ProtocolError) << "type " << t;
}

TEST(Wire, DecodeRefusesUnknownTag) {
    EXPECT_THROW(Message::decode(header(2) + field(0, "x")), ProtocolError);
    EXPECT_THROW(
        Message::decode(header(2) + field(static_cast<std::uint8_t>(static_cast<int>(kLastTag) + 1), "x")),
        ProtocolError);
    EXPECT_THROW(Message::decode(header(2) + field(6, "ok") + field(255, "")), ProtocolError);
}

TEST(Wire, BeginCarriesTheStacksUnknownUserChoice) {
    Message begin(Type::Begin);
    begin.add(Tag::User, "alice").add(Tag::UnknownUser, static_cast<std::uint32_t>(UnknownUser::Ignore));
    const Message back = Message::decode(begin.encode().view());
    EXPECT_EQ(back.get_u32(Tag::UnknownUser), static_cast<std::uint32_t>(UnknownUser::Ignore));
}

TEST(Wire, ATestLoginsBeginTraceAndResultRoundTrip) {
    Message begin(Type::Begin);
    begin.add(Tag::User, "alice").add(Tag::TestLogin, 1u);
    EXPECT_EQ(Message::decode(begin.encode().view()).get_u32(Tag::TestLogin), 1u);
    Message trace(Type::Trace);
    trace.add(Tag::Text, "policy: [login]");
    const Message trace_back = Message::decode(trace.encode().view());
    EXPECT_EQ(trace_back.type(), Type::Trace);
    EXPECT_EQ(trace_back.get_or(Tag::Text, ""), "policy: [login]");
    Message result(Type::Result);
    result.add(Tag::Outcome, 0u).add(Tag::AuditLine, "login=0123456789abcdef user=\"alice\"");
    EXPECT_EQ(Message::decode(result.encode().view()).get_or(Tag::AuditLine, ""),
              "login=0123456789abcdef user=\"alice\"");
}

TEST(Wire, DecodeRefusesTruncatedFieldHeader) {
    const std::string good = header(2) + field(6, "abc");
    EXPECT_NO_THROW(Message::decode(good));
    EXPECT_THROW(Message::decode(good + std::string(1, '\x06')), ProtocolError);
    EXPECT_THROW(Message::decode(good + std::string("\x06\x00", 2)), ProtocolError);
}

TEST(Wire, DecodeRefusesTruncatedField) {
    const std::string whole = header(2) + field(6, "abcdef");
    for (std::size_t cut = 3; cut < whole.size(); ++cut)
        EXPECT_THROW(Message::decode(whole.substr(0, cut)), ProtocolError) << "cut at " << cut;
    // A length that promises more than the whole message.
    EXPECT_THROW(Message::decode(header(2) + std::string("\x06\xff\xff", 3) + "abc"), ProtocolError);
}

TEST(Wire, DecodeAcceptsExactlyTheLimitAndRefusesOneMore) {
    const std::size_t room = kMaxMessage - 2 - 3;
    std::string at_limit = header(18) + field(6, std::string(room, 'a'));
    ASSERT_EQ(at_limit.size(), kMaxMessage);
    EXPECT_EQ(Message::decode(at_limit).get(Tag::Text)->size(), room);
    EXPECT_THROW(Message::decode(at_limit + field(6, "")), ProtocolError);
    EXPECT_THROW(Message::decode(at_limit + "x"), ProtocolError);
}

TEST(Wire, EncodeRefusesOverLongMessage) {
    Message m(Type::Result);
    m.add(Tag::Text, std::string(kMaxMessage - 2 - 3, 'a'));
    EXPECT_EQ(m.encode().size(), kMaxMessage);
    m.add(Tag::User, "");
    EXPECT_THROW((void)m.encode(), ProtocolError);
}

TEST(Wire, AddRefusesFieldLongerThanTheLengthPrefix) {
    Message m(Type::Result);
    EXPECT_NO_THROW(m.add(Tag::Text, std::string(0xffff, 'a')));
    EXPECT_THROW(m.add(Tag::Text, std::string(0x10000, 'a')), ProtocolError);
}

TEST(Wire, TooManyFieldsAreRefused) {
    Message m(Type::KeyRequest);
    for (std::size_t i = 0; i < kMaxFields; ++i) m.add(Tag::CredId, "c");
    EXPECT_THROW(m.add(Tag::CredId, "c"), ProtocolError);
    EXPECT_EQ(Message::decode(bytes_of(m)).all(Tag::CredId).size(), kMaxFields);

    std::string wire = header(17);
    for (std::size_t i = 0; i < kMaxFields + 1; ++i) wire += field(11, "c");
    EXPECT_THROW(Message::decode(wire), ProtocolError);
}

TEST(Wire, StartedCarriesTheLoginId) {
    Message started(Type::Started);
    started.add(Tag::LoginId, "0123456789abcdef");
    const Message back = Message::decode(started.encode().view());
    EXPECT_EQ(back.type(), Type::Started);
    EXPECT_EQ(back.get_or(Tag::LoginId, ""), "0123456789abcdef");
    EXPECT_TRUE(valid_login_id("0123456789abcdef"));
    EXPECT_FALSE(valid_login_id("0123456789ABCDEF"));
    EXPECT_FALSE(valid_login_id("0123456789abcde"));
    EXPECT_FALSE(valid_login_id("0123456789abcdef0"));
    EXPECT_FALSE(valid_login_id("0123456789abcde\n"));
}

}  // namespace
}  // namespace pp::wire
