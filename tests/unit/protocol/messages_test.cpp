// The typed messages (protocol/messages.hpp): each encodes to the very bytes that the hand-built messages
// of the code before them put on the wire (the hex below was printed from those builders, field for field,
// before they were replaced), decodes back to itself, and refuses what its readers refused.
#include "messages.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace pp::protocol {
namespace {

using wire::Tag;
using wire::Type;

// The bytes today's builders produced, one message each (see the test names for what each one is).
constexpr const char* kBegin =
    "0101010005616c696365020004737368640300093139322e302e322e370400037373680500001c000400000002";
constexpr const char* kBeginPlain = "0101010005616c6963650200056c6f67696e03000004000474747931050004726f6f74";
constexpr const char* kBeginTest = "0101010003626f62020004737368640300001d0004000000011c000400000001";
constexpr const char* kAnswer = "0102060006313233343536";
constexpr const char* kCancel = "010408000400000009";
constexpr const char* kAssertionStatus = "010310000400000001";
constexpr const char* kAssertionOk = "0103100004000000000b00036369641100026164120003736967130000";
constexpr const char* kCredentialStatus = "010610000400000002";
constexpr const char* kCredentialOk =
    "0106100004000000001600067061636b656411000261641200037369671700037835630b0003636964180002706b190004ffffff"
    "f9";
constexpr const char* kManageEnroll = "0105140006656e726f6c6c010005616c696365";
constexpr const char* kManageEnrollNamed = "0105140006656e726f6c6c010005616c696365060008626c7565206b6579";
constexpr const char* kManageList = "01051400046c697374010005616c696365";
constexpr const char* kManageRename = "010514000672656e616d65010005616c6963650b0004416243640600036e6577";
constexpr const char* kManageRemove = "010514000672656d6f7665010005616c6963650b000441624364";
constexpr const char* kManagePoolRegister = "010514000d706f6f6c2d7265676973746572010005616c696365";
constexpr const char* kManagePoolList = "0105140009706f6f6c2d6c697374010005616c696365";
constexpr const char* kManagePoolDelete = "010514000b706f6f6c2d64656c657465010005616c6963650b000358795a";
constexpr const char* kManageImport =
    "0105140006696d706f7274010004726f6f7409000a70616d3a2f2f686f7374150007616c6963653a78";
constexpr const char* kControlStatus = "0128140006737461747573";
constexpr const char* kControlReload = "012814000672656c6f6164";
constexpr const char* kPrompt = "01100700040000000206000f456d61696c20616464726573733a20";
constexpr const char* kAssertionRequest =
    "011109001670616d3a2f2f70616d2d70617373776f72646c6573730a002068686868686868686868686868686868686868686868"
    "686868686868686868680d0004000000020e000400007530060018546f75636820796f7572207365637572697479206b65792e0f"
    "00125365637572697479206b65792050494e3a200c0004000000010b000263310b00026332";
constexpr const char* kCredentialRequest =
    "011309000b6578616d706c652e636f6d0a002068686868686868686868686868686868686868686868686868686868686868680d"
    "0004000000000e000400003a98060024546f75636820796f7572207365637572697479206b657920746f20656e726f6c2069742e"
    "0f00125365637572697479206b65792050494e3a201a0003756964010005616c696365190004fffffff90b00027831";
constexpr const char* kListing = "01141b000b69643d61096e616d653d621b000469643d63";
constexpr const char* kResultFull =
    "01120800040000000006000a5369676e656420696e2e010005616c6963651e00056175646974";
constexpr const char* kResultBusy =
    "011208000400000005060031546f6f206d616e79207369676e2d696e73206174206f6e63653b2074727920616761696e20696e20"
    "61206d6f6d656e742e";
constexpr const char* kTrace = "0115060009706f6c6963793a2078";
constexpr const char* kStarted = "01161f001030313233343536373839616263646566";
constexpr const char* kStatus = "01291b000f68656c7065723a2072756e6e696e671b0004783a2079";
std::string hex(const wire::Message& m) {
    static constexpr char kDigits[] = "0123456789abcdef";
    const Secret bytes = m.encode();  // kept: the loop below must not outlive it
    std::string out;
    for (const unsigned char c : bytes.view()) {
        out.push_back(kDigits[c >> 4]);
        out.push_back(kDigits[c & 0xf]);
    }
    return out;
}

// The message decoded from its own bytes, as a peer receives it.
wire::Message over_the_wire(const wire::Message& m) {
    const Secret bytes = m.encode();
    return wire::Message::decode(bytes.view());
}

// Decoding `m` as X throws MalformedMessage whose reason names `fault`.
template <class X>
void expect_refused(const wire::Message& m, const std::string& fault) {
    try {
        (void)X::decode(m);
        ADD_FAILURE() << "decoded, expected a refusal naming '" << fault << "'";
    } catch (const MalformedMessage& e) {
        EXPECT_NE(e.reason().find(fault), std::string::npos) << e.reason();
        EXPECT_EQ(e.reason().rfind("malformed ", 0), 0u) << e.reason();
    }
}

TEST(Messages, BeginEncodesAsThePamModuleBuiltIt) {
    Begin b{"alice", "sshd", "192.0.2.7", "ssh", "", wire::UnknownUser::Ignore, false};
    EXPECT_EQ(hex(b.encode()), kBegin);
    Begin plain{"alice", "login", "", "tty1", "root", std::nullopt, false};
    EXPECT_EQ(hex(plain.encode()), kBeginPlain);

    const Begin d = Begin::decode(over_the_wire(b.encode()));
    EXPECT_EQ(d.user, "alice");
    EXPECT_EQ(d.service, "sshd");
    EXPECT_EQ(d.rhost, "192.0.2.7");
    EXPECT_EQ(d.tty, "ssh");
    EXPECT_EQ(d.ruser, "");
    EXPECT_EQ(d.unknown_user, wire::UnknownUser::Ignore);
    EXPECT_FALSE(d.test_login);
    EXPECT_EQ(Begin::decode(plain.encode()).unknown_user, std::nullopt);
}

TEST(Messages, TestLoginBeginEncodesAsTheCommandLineBuiltIt) {
    Begin b;
    b.user = "bob";
    b.service = "sshd";
    b.test_login = true;
    b.unknown_user = wire::UnknownUser::Fail;
    EXPECT_EQ(hex(b.encode()), kBeginTest);
    const Begin d = Begin::decode(over_the_wire(b.encode()));
    EXPECT_TRUE(d.test_login);
    EXPECT_EQ(d.unknown_user, wire::UnknownUser::Fail);
    EXPECT_EQ(d.user, "bob");
}

// The real uid of the module's process: one u32 field after the others, only when it is not 0, so a root
// process's Begin keeps the bytes above (kBeginPlain) and a Begin without it reads as real uid 0.
TEST(Messages, BeginCarriesTheRealUidOfASetuidProgram) {
    Begin b{"alice", "polkit-1", "", "", "alice", std::nullopt, false, 65534};
    const wire::Message m = b.encode();
    const auto field = m.get(Tag::RealUid);
    ASSERT_TRUE(field.has_value());
    EXPECT_EQ(*field, std::string("\x00\x00\xff\xfe", 4));
    EXPECT_EQ(Begin::decode(over_the_wire(m)).real_uid, 65534u);
    EXPECT_EQ(Begin::decode(over_the_wire(m)).ruser, "alice");
    const Begin highest{"a", "su", "", "", "", std::nullopt, false, 0xfffffffeu};
    EXPECT_EQ(Begin::decode(over_the_wire(highest.encode())).real_uid, 0xfffffffeu);

    Begin root{"alice", "login", "", "tty1", "root", std::nullopt, false, 0};
    EXPECT_EQ(hex(root.encode()), kBeginPlain);
    EXPECT_FALSE(root.encode().get(Tag::RealUid).has_value());
    EXPECT_EQ(Begin::decode(over_the_wire(root.encode())).real_uid, 0u);

    const auto with = [](std::string_view uid) {
        return wire::Message(Type::Begin).add(Tag::User, "a").add(Tag::RealUid, uid);
    };
    expect_refused<Begin>(with(std::string_view("\x00\x00\x00\x00", 4)), "real_uid 0 sent as a field");
    expect_refused<Begin>(with(std::string_view("\xff\xff\xff\xff", 4)), "real_uid is no uid");
    expect_refused<Begin>(with(std::string_view("\x03\xe8", 2)), "real_uid of wrong size");
    expect_refused<Begin>(with(std::string_view("\x00\x00\x03\xe8\x00", 5)), "real_uid of wrong size");
    expect_refused<Begin>(with("").add(Tag::User, "b"), "real_uid of wrong size");
    expect_refused<Begin>(wire::Message(Type::Begin).add(Tag::RealUid, 1000u).add(Tag::RealUid, 1000u),
                          "real_uid repeated");
    const Begin no_uid{"a", "su", "", "", "", std::nullopt, false, 0xffffffffu};
    EXPECT_THROW((void)no_uid.encode(), MalformedMessage);
}

TEST(Messages, BeginRefusesUnknownValuesAndWrongSizes) {
    expect_refused<Begin>(wire::Message(Type::Begin).add(Tag::User, "a").add(Tag::UnknownUser, 3u),
                          "unknown unknown_user value");
    expect_refused<Begin>(wire::Message(Type::Begin).add(Tag::UnknownUser, 0u), "unknown unknown_user value");
    expect_refused<Begin>(wire::Message(Type::Begin).add(Tag::UnknownUser, std::string_view("\x01", 1)),
                          "unknown_user of wrong size");
    expect_refused<Begin>(wire::Message(Type::Begin).add(Tag::TestLogin, std::string_view("\0\0\0\0\1", 5)),
                          "test_login of wrong size");
    expect_refused<Begin>(wire::Message(Type::Begin).add(Tag::TestLogin, 2u), "unknown test_login value");
    expect_refused<Begin>(wire::Message(Type::Manage).add(Tag::User, "a"), "a manage message");
}

TEST(Messages, AnswerAndCancel) {
    EXPECT_EQ(hex(Answer{Secret(std::string_view("123456"))}.encode()), kAnswer);
    EXPECT_EQ(Answer::decode(over_the_wire(Answer{Secret(std::string_view("42"))}.encode())).text.view(),
              "42");
    EXPECT_EQ(Answer::decode(wire::Message(Type::Answer)).text.view(), "");  // Enter alone
    expect_refused<Answer>(wire::Message(Type::Prompt), "a prompt message");

    EXPECT_EQ(hex(Cancel{wire::Outcome::Abort}.encode()), kCancel);
    EXPECT_EQ(Cancel::decode(over_the_wire(Cancel{wire::Outcome::Abort}.encode())).outcome,
              wire::Outcome::Abort);
    EXPECT_EQ(Cancel::decode(wire::Message(Type::Cancel)).outcome, wire::Outcome::ConvErr);
    expect_refused<Cancel>(wire::Message(Type::Cancel).add(Tag::Outcome, 10u), "unknown outcome value");
    expect_refused<Cancel>(wire::Message(Type::Cancel).add(Tag::Outcome, std::string_view("\0\0", 2)),
                           "outcome of wrong size");
}

TEST(Messages, AssertionEncodesAsTheKeyCodeBuiltIt) {
    EXPECT_EQ(hex(Assertion{wire::DeviceStatus::NoDevice, "", "", "", ""}.encode()), kAssertionStatus);
    const Assertion ok{wire::DeviceStatus::Ok, "cid", "ad", "sig", ""};
    EXPECT_EQ(hex(ok.encode()), kAssertionOk);
    const Assertion d = Assertion::decode(over_the_wire(ok.encode()));
    EXPECT_EQ(d.status, wire::DeviceStatus::Ok);
    EXPECT_EQ(d.cred_id, "cid");
    EXPECT_EQ(d.auth_data, "ad");
    EXPECT_EQ(d.signature, "sig");
    EXPECT_EQ(d.user_handle, "");
    // Without a status the key failed, as the helper always read it.
    EXPECT_EQ(Assertion::decode(wire::Message(Type::Assertion)).status, wire::DeviceStatus::Error);
    expect_refused<Assertion>(wire::Message(Type::Assertion).add(Tag::DeviceStatus, 8u),
                              "unknown device_status value");
    expect_refused<Assertion>(
        wire::Message(Type::Assertion).add(Tag::DeviceStatus, std::string_view("\0", 1)),
        "device_status of wrong size");
    expect_refused<Assertion>(wire::Message(Type::Credential), "a credential message");
}

TEST(Messages, CredentialEncodesAsTheKeyCodeBuiltIt) {
    Credential status;
    status.status = wire::DeviceStatus::Denied;
    EXPECT_EQ(hex(status.encode()), kCredentialStatus);
    const Credential ok{wire::DeviceStatus::Ok, "packed", "ad", "sig", "x5c", "cid", "pk", -7};
    EXPECT_EQ(hex(ok.encode()), kCredentialOk);
    const Credential d = Credential::decode(over_the_wire(ok.encode()));
    EXPECT_EQ(d.status, wire::DeviceStatus::Ok);
    EXPECT_EQ(d.fmt, "packed");
    EXPECT_EQ(d.x5c, "x5c");
    EXPECT_EQ(d.public_key, "pk");
    EXPECT_EQ(d.algorithm, -7);
    expect_refused<Credential>(wire::Message(Type::Credential)
                                   .add(Tag::DeviceStatus, 0u)
                                   .add(Tag::Algorithm, std::string_view("\xf9", 1)),
                               "algorithm of wrong size");
    expect_refused<Credential>(wire::Message(Type::Credential).add(Tag::DeviceStatus, 99u),
                               "unknown device_status value");
}

TEST(Messages, ManageEncodesAsTheCommandLineBuiltIt) {
    using Op = Manage::Op;
    const auto manage = [](Op op, std::string user) {
        Manage m;
        m.op = op;
        m.user = std::move(user);
        return m;
    };
    EXPECT_EQ(hex(manage(Op::Enroll, "alice").encode()), kManageEnroll);
    auto named = manage(Op::Enroll, "alice");
    named.text = "blue key";
    EXPECT_EQ(hex(named.encode()), kManageEnrollNamed);
    EXPECT_EQ(hex(manage(Op::List, "alice").encode()), kManageList);
    auto rename = manage(Op::Rename, "alice");
    rename.cred_id = "AbCd";
    rename.text = "new";
    EXPECT_EQ(hex(rename.encode()), kManageRename);
    auto remove = manage(Op::Remove, "alice");
    remove.cred_id = "AbCd";
    EXPECT_EQ(hex(remove.encode()), kManageRemove);
    EXPECT_EQ(hex(manage(Op::PoolRegister, "alice").encode()), kManagePoolRegister);
    EXPECT_EQ(hex(manage(Op::PoolList, "alice").encode()), kManagePoolList);
    auto pool_delete = manage(Op::PoolDelete, "alice");
    pool_delete.cred_id = "XyZ";
    EXPECT_EQ(hex(pool_delete.encode()), kManagePoolDelete);
    auto import = manage(Op::Import, "root");
    import.rp_id = "pam://host";
    import.import_data = "alice:x";
    EXPECT_EQ(hex(import.encode()), kManageImport);

    const Manage d = Manage::decode(over_the_wire(rename.encode()));
    EXPECT_EQ(d.op, Op::Rename);
    EXPECT_EQ(d.user, "alice");
    EXPECT_EQ(d.cred_id, "AbCd");
    EXPECT_EQ(d.text, "new");
    const Manage i = Manage::decode(over_the_wire(import.encode()));
    EXPECT_EQ(i.op, Op::Import);
    EXPECT_EQ(i.rp_id, "pam://host");
    EXPECT_EQ(i.import_data, "alice:x");
    EXPECT_EQ(Manage::decode(manage(Op::Enroll, "a").encode()).text, std::nullopt);
    for (const auto op : {Op::Enroll, Op::List, Op::Rename, Op::Remove, Op::Import, Op::PoolRegister,
                          Op::PoolList, Op::PoolDelete})
        EXPECT_EQ(parse_op(op_name(op)), op);

    expect_refused<Manage>(wire::Message(Type::Manage).add(Tag::Op, "format-disk").add(Tag::User, "alice"),
                           "unknown management operation");
    expect_refused<Manage>(wire::Message(Type::Manage).add(Tag::Op, "Enroll"),
                           "unknown management operation");
    expect_refused<Manage>(wire::Message(Type::Manage).add(Tag::User, "alice"), "no management operation");
    expect_refused<Manage>(wire::Message(Type::Begin).add(Tag::Op, "list"), "a begin message");
}

TEST(Messages, ControlEncodesAsTheAdminCommandBuiltIt) {
    EXPECT_EQ(hex(Control{Control::Op::Status}.encode()), kControlStatus);
    EXPECT_EQ(hex(Control{Control::Op::Reload}.encode()), kControlReload);
    EXPECT_EQ(Control::decode(over_the_wire(Control{Control::Op::Reload}.encode())).op, Control::Op::Reload);
    expect_refused<Control>(wire::Message(Type::Control).add(Tag::Op, "restart"),
                            "unknown control operation");
    expect_refused<Control>(wire::Message(Type::Control), "unknown control operation");
}

TEST(Messages, PromptEncodesAsTheHelperBuiltIt) {
    const Prompt p{wire::PromptStyle::EchoOn, "Email address: "};
    EXPECT_EQ(hex(p.encode()), kPrompt);
    const Prompt d = Prompt::decode(over_the_wire(p.encode()));
    EXPECT_EQ(d.style, wire::PromptStyle::EchoOn);
    EXPECT_EQ(d.text, "Email address: ");
    EXPECT_EQ(Prompt::decode(wire::Message(Type::Prompt)).style, wire::PromptStyle::EchoOff);
    expect_refused<Prompt>(wire::Message(Type::Prompt).add(Tag::Style, 3u), "unknown style value");
    expect_refused<Prompt>(wire::Message(Type::Prompt).add(Tag::Style, std::string_view("\x01", 1)),
                           "style of wrong size");
}

TEST(Messages, AssertionRequestEncodesAsTheHelperBuiltTheKeyRequest) {
    AssertionRequest r{"pam://pam-passwordless",   std::string(32, 'h'), true, 30000,
                       "Touch your security key.", {"c1", "c2"}};
    EXPECT_EQ(hex(r.encode()), kAssertionRequest);
    const AssertionRequest d = AssertionRequest::decode(over_the_wire(r.encode()));
    EXPECT_EQ(d.rp_id, r.rp_id);
    EXPECT_EQ(d.client_data_hash, r.client_data_hash);
    EXPECT_TRUE(d.user_verification);
    EXPECT_EQ(d.timeout_ms, 30000u);
    EXPECT_EQ(d.cred_ids, r.cred_ids);
    EXPECT_EQ(d.pin_prompt, kPinPrompt);
    EXPECT_TRUE(d.user_presence);

    // What a request without the optional fields means, as the key code always read it.
    const AssertionRequest bare = AssertionRequest::decode(wire::Message(Type::KeyRequest));
    EXPECT_EQ(bare.timeout_ms, kTouchTimeoutMs);
    EXPECT_EQ(bare.text, kTouchText);
    EXPECT_EQ(bare.pin_prompt, kPinPrompt);
    EXPECT_TRUE(bare.user_presence);
    EXPECT_FALSE(bare.user_verification);
    EXPECT_FALSE(
        AssertionRequest::decode(wire::Message(Type::KeyRequest).add(Tag::UserPresence, 0u)).user_presence);

    expect_refused<AssertionRequest>(
        wire::Message(Type::KeyRequest).add(Tag::TimeoutMs, std::string_view("\1\2", 2)),
        "timeout_ms of wrong size");
    expect_refused<AssertionRequest>(wire::Message(Type::KeyRequest).add(Tag::UserVerification, 1u),
                                     "unknown user_verification value");
    expect_refused<AssertionRequest>(wire::Message(Type::KeyRequest).add(Tag::UserPresence, 2u),
                                     "unknown user_presence value");
    expect_refused<AssertionRequest>(wire::Message(Type::CredentialRequest), "a credential request message");
}

// The public keys of the allowed credentials, for the module's check of the touch before the PIN: one field
// after the cred_ids, one entry per cred_id (algorithm, length, key); a request without keys keeps the bytes
// above.
TEST(Messages, AssertionRequestCarriesTheCredentialsPublicKeys) {
    AssertionRequest r{"pam://pam-passwordless",   std::string(32, 'h'), true, 30000,
                       "Touch your security key.", {"c1", "c2", "c3"}};
    r.cred_keys = {
        {CredentialKey::kEs256, std::string(64, 'x')}, {}, {CredentialKey::kEdDsa, std::string(32, 'e')}};
    const wire::Message m = r.encode();
    const auto field = m.get(Tag::CredKeys);
    ASSERT_TRUE(field.has_value());
    EXPECT_EQ(*field, std::string("\xff\xff\xff\xf9\x00\x40", 6) + std::string(64, 'x') +
                          std::string(6, '\0') + std::string("\xff\xff\xff\xf8\x00\x20", 6) +
                          std::string(32, 'e'));
    const AssertionRequest d = AssertionRequest::decode(over_the_wire(m));
    EXPECT_EQ(d.cred_ids, r.cred_ids);
    EXPECT_EQ(d.cred_keys, r.cred_keys);
    EXPECT_FALSE(d.cred_keys[1].known());
    EXPECT_TRUE(AssertionRequest::decode(over_the_wire(AssertionRequest{}.encode())).cred_keys.empty());

    const auto with = [](std::string_view keys, int ids = 1) {
        wire::Message k(Type::KeyRequest);
        for (int i = 0; i < ids; ++i) k.add(Tag::CredId, "c");
        return k.add(Tag::CredKeys, keys);
    };
    const std::string es256 = std::string("\xff\xff\xff\xf9\x00\x40", 6) + std::string(64, 'x');
    expect_refused<AssertionRequest>(with(es256, 2), "cred_keys not one per cred_id");
    expect_refused<AssertionRequest>(with(es256 + es256), "cred_keys not one per cred_id");
    expect_refused<AssertionRequest>(with(es256.substr(0, 40)), "cred_keys entry truncated");
    expect_refused<AssertionRequest>(with(es256.substr(0, 5)), "cred_keys entry truncated");
    expect_refused<AssertionRequest>(with(""), "cred_keys empty");
    expect_refused<AssertionRequest>(with(std::string("\xff\xff\xff\xf9\x00\x20", 6) + std::string(32, 'x')),
                                     "wrong size");
    expect_refused<AssertionRequest>(with(std::string("\xff\xff\xff\xdd\x00\x40", 6) + std::string(64, 'x')),
                                     "unknown algorithm");
    expect_refused<AssertionRequest>(with(std::string("\0\0\0\0\0\1x", 7)), "wrong size");
    expect_refused<AssertionRequest>(with(es256).add(Tag::CredKeys, es256), "cred_keys repeated");

    AssertionRequest uneven = r;
    uneven.cred_keys.pop_back();
    EXPECT_THROW((void)uneven.encode(), MalformedMessage);
    AssertionRequest short_key = r;
    short_key.cred_keys[0].public_key.pop_back();
    EXPECT_THROW((void)short_key.encode(), MalformedMessage);
}

// Review 31a: a login's asks (relying parties, PIN needs) travel in one request, so that the module asks them
// all after one prompt and within one timeout.
TEST(Messages, AssertionRequestCarriesSeveralAsks) {
    AssertionRequest r{"pam://pam-passwordless",   std::string(32, 'h'),    false, 30000,
                       "Touch your security key.", {"c1", "c2", "c3", "c4"}};
    r.cred_keys = {{CredentialKey::kEs256, std::string(64, 'a')},
                   {CredentialKey::kEs256, std::string(64, 'b')},
                   {CredentialKey::kEdDsa, std::string(32, 'c')},
                   {CredentialKey::kEs256, std::string(64, 'd')}};
    r.more_groups = {{"pam://oldhost", false}, {"pam://pam-passwordless", true}};
    r.cred_groups = {0, 1, 2, 1};
    const wire::Message m = r.encode();
    ASSERT_TRUE(m.get(Tag::KeyGroups).has_value());
    EXPECT_EQ(*m.get(Tag::KeyGroups),
              std::string("\0\0\x0dpam://oldhost", 16) + std::string("\1\0\x16pam://pam-passwordless", 25));
    EXPECT_EQ(*m.get(Tag::CredGroups), std::string("\0\1\2\1", 4));
    const AssertionRequest d = AssertionRequest::decode(over_the_wire(m));
    EXPECT_EQ(d.more_groups, r.more_groups);
    EXPECT_EQ(d.cred_groups, r.cred_groups);

    const auto asks = d.asks();
    ASSERT_EQ(asks.size(), 3u);
    EXPECT_EQ(asks[0].rp_id, "pam://pam-passwordless");
    EXPECT_FALSE(asks[0].user_verification);
    EXPECT_EQ(asks[0].cred_ids, std::vector<std::string>{"c1"});
    EXPECT_EQ(asks[1].rp_id, "pam://oldhost");
    EXPECT_EQ(asks[1].cred_ids, (std::vector<std::string>{"c2", "c4"}));
    EXPECT_EQ(asks[1].cred_keys, (std::vector<CredentialKey>{r.cred_keys[1], r.cred_keys[3]}));
    EXPECT_TRUE(asks[2].user_verification);
    EXPECT_EQ(asks[2].cred_ids, std::vector<std::string>{"c3"});
    for (const auto& ask : asks) {
        EXPECT_TRUE(ask.more_groups.empty());
        EXPECT_TRUE(ask.cred_groups.empty());
        EXPECT_EQ(ask.client_data_hash, r.client_data_hash);
    }
    // Without more asks the request is one ask, as before.
    const AssertionRequest single{
        "pam://pam-passwordless", std::string(32, 'h'), false, 30000, "Touch", {"c1"}};
    const AssertionRequest one = AssertionRequest::decode(over_the_wire(single.encode()));
    EXPECT_FALSE(single.encode().get(Tag::KeyGroups).has_value());
    EXPECT_TRUE(one.more_groups.empty());
    EXPECT_EQ(one.asks().size(), 1u);

    AssertionRequest missing = r;
    missing.cred_groups.clear();
    EXPECT_THROW((void)missing.encode(), MalformedMessage);
    AssertionRequest uneven = r;
    uneven.cred_groups.pop_back();
    EXPECT_THROW((void)uneven.encode(), MalformedMessage);
    AssertionRequest beyond = r;
    beyond.cred_groups[0] = 3;
    EXPECT_THROW((void)beyond.encode(), MalformedMessage);
    AssertionRequest empty_ask = r;
    empty_ask.cred_groups = {0, 1, 1, 1};
    EXPECT_THROW((void)empty_ask.encode(), MalformedMessage);
    const auto with = [&](std::string_view groups, std::string_view of) {
        wire::Message k(Type::KeyRequest);
        k.add(Tag::CredId, "c1").add(Tag::CredId, "c2");
        if (!groups.empty()) k.add(Tag::KeyGroups, groups);
        return k.add(Tag::CredGroups, of);
    };
    const std::string old("\0\0\x0dpam://oldhost", 16);
    EXPECT_EQ(AssertionRequest::decode(with(old, std::string("\0\1", 2))).asks().size(), 2u);
    expect_refused<AssertionRequest>(with(old, std::string("\0", 1)), "cred_groups not one per cred_id");
    expect_refused<AssertionRequest>(with(old, std::string("\0\2", 2)), "does not exist");
    expect_refused<AssertionRequest>(with(old, std::string("\0\0", 2)), "an ask without a credential");
    expect_refused<AssertionRequest>(with(old.substr(0, 10), std::string("\0\1", 2)),
                                     "key_groups entry truncated");
    expect_refused<AssertionRequest>(with(std::string("\2\0\1x", 4), std::string("\0\1", 2)),
                                     "unknown key_groups user_verification value");
    expect_refused<AssertionRequest>(with(std::string("\0\0\0", 3), std::string("\0\1", 2)),
                                     "ask without a relying party");
    expect_refused<AssertionRequest>(with(old, ""), "cred_groups empty");
}

TEST(Messages, CredentialRequestEncodesAsTheHelperBuiltIt) {
    CredentialRequest r{"example.com",
                        std::string(32, 'h'),
                        false,
                        15000,
                        "Touch your security key to enrol it.",
                        "uid",
                        "alice",
                        -7,
                        {"x1"}};
    EXPECT_EQ(hex(r.encode()), kCredentialRequest);
    const CredentialRequest d = CredentialRequest::decode(over_the_wire(r.encode()));
    EXPECT_EQ(d.rp_id, "example.com");
    EXPECT_FALSE(d.user_verification);
    EXPECT_EQ(d.timeout_ms, 15000u);
    EXPECT_EQ(d.user_id, "uid");
    EXPECT_EQ(d.user_name, "alice");
    EXPECT_EQ(d.algorithm, -7);
    EXPECT_EQ(d.exclude_ids, r.exclude_ids);
    EXPECT_EQ(CredentialRequest::decode(wire::Message(Type::CredentialRequest)).algorithm, -7);  // ES256
    expect_refused<CredentialRequest>(
        wire::Message(Type::CredentialRequest).add(Tag::Algorithm, std::string_view("\xff\xf9", 2)),
        "algorithm of wrong size");
    expect_refused<CredentialRequest>(wire::Message(Type::CredentialRequest).add(Tag::UserVerification, 7u),
                                      "unknown user_verification value");
}

TEST(Messages, ResultEncodesAsTheHelperBuiltIt) {
    const Result full{wire::Outcome::Success, "Signed in.", "alice", "audit"};
    EXPECT_EQ(hex(full.encode()), kResultFull);
    EXPECT_EQ(hex(Result{wire::Outcome::AuthinfoUnavail, "Too many sign-ins at once; try again in a moment.",
                         std::nullopt, std::nullopt}
                      .encode()),
              kResultBusy);
    const Result d = Result::decode(over_the_wire(full.encode()));
    EXPECT_EQ(d.outcome, wire::Outcome::Success);
    EXPECT_EQ(d.text, "Signed in.");
    EXPECT_EQ(d.user, "alice");
    EXPECT_EQ(d.audit_line, "audit");
    EXPECT_EQ(Result::decode(Result{wire::Outcome::AuthErr, "no", std::nullopt, std::nullopt}.encode()).user,
              std::nullopt);
    expect_refused<Result>(wire::Message(Type::Result).add(Tag::Text, "x"), "no outcome");
    expect_refused<Result>(wire::Message(Type::Result).add(Tag::Outcome, 10u), "unknown outcome value");
    expect_refused<Result>(wire::Message(Type::Result).add(Tag::Outcome, std::string_view("\0\0\0\0\0", 5)),
                           "outcome of wrong size");
}

TEST(Messages, ListingTraceStartedStatus) {
    const Listing l{{"id=a\tname=b", "id=c"}};
    EXPECT_EQ(hex(l.encode()), kListing);
    EXPECT_EQ(Listing::decode(over_the_wire(l.encode())).records, l.records);
    EXPECT_TRUE(Listing::decode(wire::Message(Type::Listing)).records.empty());

    EXPECT_EQ(hex(Trace{"policy: x"}.encode()), kTrace);
    EXPECT_EQ(Trace::decode(over_the_wire(Trace{"policy: x"}.encode())).text, "policy: x");

    EXPECT_EQ(hex(Started{"0123456789abcdef"}.encode()), kStarted);
    EXPECT_EQ(Started::decode(over_the_wire(Started{"0123456789abcdef"}.encode())).login_id,
              "0123456789abcdef");
    expect_refused<Started>(wire::Message(Type::Started), "malformed login id");
    expect_refused<Started>(Started{"0123456789ABCDEF"}.encode(), "malformed login id");
    expect_refused<Started>(Started{"0123456789abcdef\n"}.encode(), "malformed login id");

    const Status s{{"helper: running", "x: y"}};
    EXPECT_EQ(hex(s.encode()), kStatus);
    EXPECT_EQ(Status::decode(over_the_wire(s.encode())).records, s.records);
    expect_refused<Status>(wire::Message(Type::Listing), "a listing message");
}

// A browser sign-in's link (issue #13): text, url, qr, in that order; the module shows text and URL as they
// are, so both decoding and encoding refuse anything but a bounded https URL and a bounded printable text.
TEST(Messages, LinkRoundTripsWithItsFieldsInOrder) {
    const Link l{"Open this link.", "https://a.example/x?y=1", true};
    EXPECT_EQ(hex(l.encode()),
              "011706000f4f70656e2074686973206c696e6b2e20001768747470733a2f2f612e6578616d70"
              "6c652f783f793d31210004"
              "00000001");
    const Link back = Link::decode(over_the_wire(l.encode()));
    EXPECT_EQ(back.text, l.text);
    EXPECT_EQ(back.url, l.url);
    EXPECT_TRUE(back.qr);
    EXPECT_FALSE(Link::decode(over_the_wire(Link{"t", "https://a", false}.encode())).qr);
    // Without the qr field: drawn.
    EXPECT_TRUE(Link::decode(wire::Message(Type::Link).add(Tag::Text, "t").add(Tag::Url, "https://a")).qr);
    // UTF-8 text and a URL of the largest size pass.
    const std::string longest = "https://" + std::string(Link::kMaxLinkUrl - 8, 'a');
    EXPECT_EQ(Link::decode(over_the_wire(Link{"caf\xc3\xa9 \xe2\x86\x92 ok", longest, true}.encode())).url,
              longest);
    EXPECT_EQ(std::string(type_name(Type::Link)), "link");
}

TEST(Messages, LinkRefusesWhatTheModuleMustNotShow) {
    const auto link = [](std::string_view text, std::string_view url) {
        return wire::Message(Type::Link).add(Tag::Text, text).add(Tag::Url, url);
    };
    constexpr const char* kBadUrl = "url not a bounded https URL";
    constexpr const char* kBadText = "text not bounded printable UTF-8";
    expect_refused<Link>(link("t", "http://a.example/"), kBadUrl);
    expect_refused<Link>(link("t", "HTTPS://a.example/"), kBadUrl);
    expect_refused<Link>(link("t", "https://"), kBadUrl);
    expect_refused<Link>(link("t", "https://a.example/\x1b[2J"), kBadUrl);
    expect_refused<Link>(link("t", "https://a.example/ b"), kBadUrl);
    expect_refused<Link>(link("t", "https://a.example/\nhttps://evil"), kBadUrl);
    expect_refused<Link>(link("t", "https://a.example/caf\xc3\xa9"), kBadUrl);
    expect_refused<Link>(link("t", "https://" + std::string(Link::kMaxLinkUrl - 7, 'a')), kBadUrl);
    expect_refused<Link>(wire::Message(Type::Link).add(Tag::Text, "t"), kBadUrl);
    expect_refused<Link>(link("", "https://a"), kBadText);
    expect_refused<Link>(link("a\x1b[31mred", "https://a"), kBadText);
    expect_refused<Link>(link("two\nlines", "https://a"), kBadText);
    expect_refused<Link>(link("c1 \xc2\x9b", "https://a"), kBadText);
    expect_refused<Link>(link("bidi \xe2\x80\xae", "https://a"), kBadText);
    expect_refused<Link>(link("cut \xc3", "https://a"), kBadText);
    expect_refused<Link>(link("overlong \xc0\xaf", "https://a"), kBadText);
    expect_refused<Link>(link("surrogate \xed\xa0\x80", "https://a"), kBadText);
    expect_refused<Link>(link(std::string(Link::kMaxLinkText + 1, 'a'), "https://a"), kBadText);
    expect_refused<Link>(link("t", "https://a").add(Tag::Qr, 2u), "unknown qr value");
    expect_refused<Link>(link("t", "https://a").add(Tag::Qr, "x"), "qr of wrong size");
    expect_refused<Link>(wire::Message(Type::Prompt), "a prompt message");
    // The helper cannot send one either.
    EXPECT_THROW((void)(Link{"t", "http://a", true}.encode()), MalformedMessage);
    EXPECT_THROW((void)(Link{"", "https://a", true}.encode()), MalformedMessage);
    // Over the wire, the type decodes (the codec knows it); the typed decoder does the rest.
    EXPECT_EQ(over_the_wire(link("t", "https://a")).type(), Type::Link);
}

TEST(Messages, ARefusalIsAProtocolErrorWithTheReasonInIt) {
    try {
        (void)Begin::decode(wire::Message(Type::Begin).add(Tag::UnknownUser, 9u));
        FAIL() << "decoded";
    } catch (const wire::ProtocolError& e) {
        EXPECT_STREQ(e.what(), "malformed begin: unknown unknown_user value");
    }
}

}  // namespace
}  // namespace pp::protocol
