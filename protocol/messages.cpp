#include "messages.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "text.hpp"

namespace pp::protocol {
namespace {

using wire::Tag;
using wire::Type;

// Reads the fields of one message and says what is wrong with it in the message's own terms.
class Reader {
  public:
    Reader(const wire::Message& m, Type expected) : m_(m), type_(expected) {
        if (m.type() != expected)
            fail(std::string("a ") + type_name(m.type()) + " message where one was expected");
    }

    [[noreturn]] void fail(const std::string& fault) const { throw MalformedMessage(type_, fault); }

    std::string text(Tag tag, std::string_view fallback = "") const {
        return std::string(m_.get_or(tag, fallback));
    }
    std::optional<std::string> optional_text(Tag tag) const {
        const auto v = m_.get(tag);
        return v ? std::optional<std::string>(*v) : std::nullopt;
    }
    std::vector<std::string> all(Tag tag) const {
        std::vector<std::string> out;
        for (const auto v : m_.all(tag)) out.emplace_back(v);
        return out;
    }

    // An integer field: 4 bytes, big-endian, or absent.
    std::optional<std::uint32_t> u32(Tag tag, const char* name) const {
        const auto v = m_.get(tag);
        if (!v) return std::nullopt;
        if (v->size() != 4) fail(std::string(name) + " of wrong size");
        std::uint32_t be = 0;
        std::memcpy(&be, v->data(), sizeof be);
        return ntohl(be);
    }

    // An enum field whose values run from `first` to `last`.
    template <class E>
    std::optional<E> enumerated(Tag tag, const char* name, E first, E last) const {
        const auto v = u32(tag, name);
        if (!v) return std::nullopt;
        if (*v < static_cast<std::uint32_t>(first) || *v > static_cast<std::uint32_t>(last))
            fail(std::string("unknown ") + name + " value");
        return static_cast<E>(*v);
    }

    std::optional<wire::DeviceStatus> device_status() const {
        return enumerated(Tag::DeviceStatus, "device_status", wire::DeviceStatus::Ok,
                          wire::DeviceStatus::Error);
    }
    std::optional<wire::Outcome> outcome() const {
        return enumerated(Tag::Outcome, "outcome", wire::Outcome::Success, wire::Outcome::Abort);
    }

    // user_verification travels as 2 (required) or 0 (not asked).
    bool user_verification() const {
        const auto v = u32(Tag::UserVerification, "user_verification");
        if (!v || *v == 0) return false;
        if (*v == 2) return true;
        fail("unknown user_verification value");
    }

  private:
    const wire::Message& m_;
    Type type_;
};

constexpr std::uint32_t u32_of(bool uv) {
    return uv ? 2u : 0u;
}

template <class E>
constexpr std::uint32_t u32_of(E e) {
    return static_cast<std::uint32_t>(e);
}

constexpr std::uint32_t u32_of(std::int32_t i) {
    return static_cast<std::uint32_t>(i);
}

// The fields both requests to a security key carry, in this order on the wire: the relying party, the
// challenge, user verification, how long to wait for a touch, and what the person is told.
template <class KeyRequest>
void add_key_fields(wire::Message& m, const KeyRequest& k) {
    m.add(Tag::RpId, k.rp_id)
        .add(Tag::ClientDataHash, k.client_data_hash)
        .add(Tag::UserVerification, u32_of(k.user_verification))
        .add(Tag::TimeoutMs, k.timeout_ms)
        .add(Tag::Text, k.text)
        .add(Tag::PinPrompt, k.pin_prompt);
}

template <class KeyRequest>
void read_key_fields(const Reader& r, KeyRequest& k) {
    k.rp_id = r.text(Tag::RpId);
    k.client_data_hash = r.text(Tag::ClientDataHash);
    k.user_verification = r.user_verification();
    k.timeout_ms = r.u32(Tag::TimeoutMs, "timeout_ms").value_or(kTouchTimeoutMs);
    k.text = r.text(Tag::Text, kTouchText);
    k.pin_prompt = r.text(Tag::PinPrompt, kPinPrompt);
}

constexpr Manage::Op kOps[] = {Manage::Op::Enroll,   Manage::Op::List,      Manage::Op::Rename,
                               Manage::Op::Remove,   Manage::Op::Import,    Manage::Op::PoolRegister,
                               Manage::Op::PoolList, Manage::Op::PoolDelete};

// (uid_t)-1: what setresuid(2) and chown(2) read as "unchanged", never an account's uid.
constexpr std::uint32_t kNoUid = 0xffffffffu;

constexpr const char* kControlStatus = "status";
constexpr const char* kControlReload = "reload";

}  // namespace

MalformedMessage::MalformedMessage(wire::Type type, const std::string& fault)
    : wire::ProtocolError(std::string("malformed ") + type_name(type) + ": " + fault),
      detail_(std::string(type_name(type)) + ": " + fault) {}

const char* type_name(wire::Type t) noexcept {
    switch (t) {
        case Type::Begin:
            return "begin";
        case Type::Answer:
            return "answer";
        case Type::Assertion:
            return "assertion";
        case Type::Cancel:
            return "cancel";
        case Type::Manage:
            return "manage";
        case Type::Credential:
            return "credential";
        case Type::Control:
            return "control";
        case Type::Prompt:
            return "prompt";
        case Type::KeyRequest:
            return "assertion request";
        case Type::Result:
            return "result";
        case Type::CredentialRequest:
            return "credential request";
        case Type::Listing:
            return "listing";
        case Type::Trace:
            return "trace";
        case Type::Started:
            return "started";
        case Type::Link:
            return "link";
        case Type::Status:
            return "status";
    }
    return "unknown";
}

// Begin

wire::Message Begin::encode() const {
    wire::Message m(Type::Begin);
    m.add(Tag::User, user).add(Tag::Service, service).add(Tag::Rhost, rhost);
    if (!test_login) m.add(Tag::Tty, tty).add(Tag::Ruser, ruser);
    if (test_login) m.add(Tag::TestLogin, 1u);
    if (unknown_user) m.add(Tag::UnknownUser, u32_of(*unknown_user));
    if (real_uid == kNoUid) throw MalformedMessage(Type::Begin, "real_uid is no uid");
    if (real_uid != 0) m.add(Tag::RealUid, real_uid);
    return m;
}

Begin Begin::decode(const wire::Message& m) {
    const Reader r(m, Type::Begin);
    Begin b;
    b.user = r.text(Tag::User);
    b.service = r.text(Tag::Service);
    b.rhost = r.text(Tag::Rhost);
    b.tty = r.text(Tag::Tty);
    b.ruser = r.text(Tag::Ruser);
    b.unknown_user =
        r.enumerated(Tag::UnknownUser, "unknown_user", wire::UnknownUser::Fail, wire::UnknownUser::Ignore);
    if (const auto t = r.u32(Tag::TestLogin, "test_login")) {
        if (*t != 1) r.fail("unknown test_login value");
        b.test_login = true;
    }
    if (m.all(Tag::RealUid).size() > 1) r.fail("real_uid repeated");
    if (const auto uid = r.u32(Tag::RealUid, "real_uid")) {
        // One encoding per value: the helper must not read two Begins that say the same thing differently.
        if (*uid == 0) r.fail("real_uid 0 sent as a field");
        if (*uid == kNoUid) r.fail("real_uid is no uid");
        b.real_uid = *uid;
    }
    return b;
}

// Answer

wire::Message Answer::encode() const {
    wire::Message m(Type::Answer);
    m.add(Tag::Text, text.view());
    return m;
}

Answer Answer::decode(const wire::Message& m) {
    const Reader r(m, Type::Answer);
    return Answer{Secret(m.get_or(Tag::Text, ""))};
}

// Assertion

wire::Message Assertion::encode() const {
    wire::Message m(Type::Assertion);
    m.add(Tag::DeviceStatus, u32_of(status));
    if (status == wire::DeviceStatus::Ok)
        m.add(Tag::CredId, cred_id)
            .add(Tag::AuthData, auth_data)
            .add(Tag::Signature, signature)
            .add(Tag::UserHandle, user_handle);
    return m;
}

Assertion Assertion::decode(const wire::Message& m) {
    const Reader r(m, Type::Assertion);
    Assertion a;
    a.status = r.device_status().value_or(wire::DeviceStatus::Error);
    a.cred_id = r.text(Tag::CredId);
    a.auth_data = r.text(Tag::AuthData);
    a.signature = r.text(Tag::Signature);
    a.user_handle = r.text(Tag::UserHandle);
    return a;
}

// Cancel

wire::Message Cancel::encode() const {
    wire::Message m(Type::Cancel);
    m.add(Tag::Outcome, u32_of(outcome));
    return m;
}

Cancel Cancel::decode(const wire::Message& m) {
    const Reader r(m, Type::Cancel);
    return Cancel{r.outcome().value_or(wire::Outcome::ConvErr)};
}

// Manage

const char* op_name(Manage::Op op) noexcept {
    switch (op) {
        case Manage::Op::Enroll:
            return "enroll";
        case Manage::Op::List:
            return "list";
        case Manage::Op::Rename:
            return "rename";
        case Manage::Op::Remove:
            return "remove";
        case Manage::Op::Import:
            return "import";
        case Manage::Op::PoolRegister:
            return "pool-register";
        case Manage::Op::PoolList:
            return "pool-list";
        case Manage::Op::PoolDelete:
            return "pool-delete";
    }
    return "unknown";
}

std::optional<Manage::Op> parse_op(std::string_view name) noexcept {
    for (const auto op : kOps)
        if (name == op_name(op)) return op;
    return std::nullopt;
}

wire::Message Manage::encode() const {
    wire::Message m(Type::Manage);
    m.add(Tag::Op, op_name(op)).add(Tag::User, user);
    if (op == Op::Rename || op == Op::Remove || op == Op::PoolDelete) m.add(Tag::CredId, cred_id);
    if (text) m.add(Tag::Text, *text);
    if (op == Op::Import) m.add(Tag::RpId, rp_id).add(Tag::ImportData, import_data);
    return m;
}

Manage Manage::decode(const wire::Message& m) {
    const Reader r(m, Type::Manage);
    const auto op = m.get(Tag::Op);
    if (!op) r.fail("no management operation");
    const auto parsed = parse_op(*op);
    if (!parsed) r.fail("unknown management operation");
    Manage out;
    out.op = *parsed;
    out.user = r.text(Tag::User);
    out.text = r.optional_text(Tag::Text);
    out.cred_id = r.text(Tag::CredId);
    out.rp_id = r.text(Tag::RpId);
    out.import_data = r.text(Tag::ImportData);
    return out;
}

// Credential

wire::Message Credential::encode() const {
    wire::Message m(Type::Credential);
    m.add(Tag::DeviceStatus, u32_of(status));
    if (status == wire::DeviceStatus::Ok)
        m.add(Tag::Fmt, fmt)
            .add(Tag::AuthData, auth_data)
            .add(Tag::Signature, signature)
            .add(Tag::X5c, x5c)
            .add(Tag::CredId, cred_id)
            .add(Tag::PublicKey, public_key)
            .add(Tag::Algorithm, u32_of(algorithm));
    return m;
}

Credential Credential::decode(const wire::Message& m) {
    const Reader r(m, Type::Credential);
    Credential c;
    c.status = r.device_status().value_or(wire::DeviceStatus::Error);
    c.fmt = r.text(Tag::Fmt);
    c.auth_data = r.text(Tag::AuthData);
    c.signature = r.text(Tag::Signature);
    c.x5c = r.text(Tag::X5c);
    c.cred_id = r.text(Tag::CredId);
    c.public_key = r.text(Tag::PublicKey);
    c.algorithm = static_cast<std::int32_t>(r.u32(Tag::Algorithm, "algorithm").value_or(0));
    return c;
}

// Control

wire::Message Control::encode() const {
    wire::Message m(Type::Control);
    m.add(Tag::Op, op == Op::Status ? kControlStatus : kControlReload);
    return m;
}

Control Control::decode(const wire::Message& m) {
    const Reader r(m, Type::Control);
    const auto op = m.get_or(Tag::Op, "");
    if (op == kControlStatus) return Control{Op::Status};
    if (op == kControlReload) return Control{Op::Reload};
    r.fail("unknown control operation");
}

// Prompt

wire::Message Prompt::encode() const {
    wire::Message m(Type::Prompt);
    m.add(Tag::Style, u32_of(style)).add(Tag::Text, text);
    return m;
}

Prompt Prompt::decode(const wire::Message& m) {
    const Reader r(m, Type::Prompt);
    Prompt p;
    p.style = r.enumerated(Tag::Style, "style", wire::PromptStyle::EchoOff, wire::PromptStyle::EchoOn)
                  .value_or(wire::PromptStyle::EchoOff);
    p.text = r.text(Tag::Text);
    return p;
}

// AssertionRequest

bool CredentialKey::well_formed() const noexcept {
    switch (algorithm) {
        case kUnknown:
            return public_key.empty();
        case kEs256:
            return public_key.size() == 64;
        case kEdDsa:
            return public_key.size() == 32;
        default:
            return false;
    }
}

namespace {

// What is wrong with a request's cred_keys, or nothing.
const char* cred_keys_fault(const AssertionRequest& a) {
    if (a.cred_keys.empty()) return nullptr;
    if (a.cred_keys.size() != a.cred_ids.size()) return "cred_keys not one per cred_id";
    for (const auto& k : a.cred_keys)
        if (!k.well_formed()) return "cred_keys entry of unknown algorithm or wrong size";
    return nullptr;
}

// What is wrong with a request's asks, or nothing.
const char* groups_fault(const AssertionRequest& a) {
    if (a.more_groups.size() > 254) return "more than 255 asks";
    for (const auto& g : a.more_groups)
        if (g.rp_id.empty() || g.rp_id.size() > 0xffff) return "ask without a relying party";
    if (a.cred_groups.empty()) return a.more_groups.empty() ? nullptr : "cred_groups missing";
    if (a.cred_groups.size() != a.cred_ids.size()) return "cred_groups not one per cred_id";
    std::vector<bool> used(a.more_groups.size() + 1, false);
    for (const auto g : a.cred_groups) {
        if (g > a.more_groups.size()) return "cred_groups names an ask that does not exist";
        used[g] = true;
    }
    if (std::find(used.begin(), used.end(), false) != used.end()) return "an ask without a credential";
    return nullptr;
}

// Entry: user_verification (1 byte), relying party length (2 bytes, big-endian), relying party.
std::string encode_groups(const std::vector<KeyAskGroup>& groups) {
    std::string out;
    for (const auto& g : groups) {
        out += static_cast<char>(g.user_verification ? 1 : 0);
        out += static_cast<char>((g.rp_id.size() >> 8) & 0xff);
        out += static_cast<char>(g.rp_id.size() & 0xff);
        out += g.rp_id;
    }
    return out;
}

std::vector<KeyAskGroup> decode_groups(const Reader& r, std::string_view v) {
    std::vector<KeyAskGroup> groups;
    while (!v.empty()) {
        if (v.size() < 3) r.fail("key_groups entry truncated");
        const auto byte = [&](std::size_t i) {
            return static_cast<std::size_t>(static_cast<std::uint8_t>(v[i]));
        };
        if (byte(0) > 1) r.fail("unknown key_groups user_verification value");
        const std::size_t length = byte(1) << 8 | byte(2);
        if (v.size() - 3 < length) r.fail("key_groups entry truncated");
        groups.push_back({std::string(v.substr(3, length)), byte(0) == 1});
        v.remove_prefix(3 + length);
    }
    return groups;
}

// Entry: algorithm (4 bytes, big-endian two's complement), key length (2 bytes, big-endian), key.
std::string encode_cred_keys(const std::vector<CredentialKey>& keys) {
    std::string out;
    for (const auto& k : keys) {
        const auto alg = static_cast<std::uint32_t>(k.algorithm);
        const char head[6] = {static_cast<char>(alg >> 24),
                              static_cast<char>((alg >> 16) & 0xff),
                              static_cast<char>((alg >> 8) & 0xff),
                              static_cast<char>(alg & 0xff),
                              static_cast<char>((k.public_key.size() >> 8) & 0xff),
                              static_cast<char>(k.public_key.size() & 0xff)};
        out.append(head, sizeof head);
        out += k.public_key;
    }
    return out;
}

std::vector<CredentialKey> decode_cred_keys(const Reader& r, std::string_view v) {
    std::vector<CredentialKey> keys;
    const auto byte = [&](std::size_t i) {
        return static_cast<std::uint32_t>(static_cast<std::uint8_t>(v[i]));
    };
    while (!v.empty()) {
        if (v.size() < 6) r.fail("cred_keys entry truncated");
        const std::uint32_t alg = byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
        const std::size_t length = byte(4) << 8 | byte(5);
        if (v.size() - 6 < length) r.fail("cred_keys entry truncated");
        keys.push_back({static_cast<std::int32_t>(alg), std::string(v.substr(6, length))});
        v.remove_prefix(6 + length);
    }
    return keys;
}

}  // namespace

wire::Message AssertionRequest::encode() const {
    if (const char* fault = cred_keys_fault(*this)) throw MalformedMessage(Type::KeyRequest, fault);
    if (const char* fault = groups_fault(*this)) throw MalformedMessage(Type::KeyRequest, fault);
    wire::Message m(Type::KeyRequest);
    add_key_fields(m, *this);
    m.add(Tag::UserPresence, user_presence ? 1u : 0u);
    for (const auto& id : cred_ids) m.add(Tag::CredId, id);
    if (!cred_keys.empty()) m.add(Tag::CredKeys, encode_cred_keys(cred_keys));
    if (!more_groups.empty()) m.add(Tag::KeyGroups, encode_groups(more_groups));
    if (!cred_groups.empty()) m.add(Tag::CredGroups, std::string(cred_groups.begin(), cred_groups.end()));
    return m;
}

std::vector<AssertionRequest> AssertionRequest::asks() const {
    std::vector<AssertionRequest> out(more_groups.size() + 1, *this);
    for (std::size_t g = 0; g < out.size(); ++g) {
        auto& ask = out[g];
        if (g > 0)
            ask.rp_id = more_groups[g - 1].rp_id,
            ask.user_verification = more_groups[g - 1].user_verification;
        ask.more_groups.clear();
        ask.cred_groups.clear();
        ask.cred_ids.clear();
        ask.cred_keys.clear();
        for (std::size_t i = 0; i < cred_ids.size(); ++i) {
            if ((cred_groups.empty() ? 0u : cred_groups[i]) != g) continue;
            ask.cred_ids.push_back(cred_ids[i]);
            if (!cred_keys.empty()) ask.cred_keys.push_back(cred_keys[i]);
        }
    }
    return out;
}

AssertionRequest AssertionRequest::decode(const wire::Message& m) {
    const Reader r(m, Type::KeyRequest);
    AssertionRequest a;
    read_key_fields(r, a);
    a.cred_ids = r.all(Tag::CredId);
    if (const auto up = r.u32(Tag::UserPresence, "user_presence")) {
        if (*up > 1) r.fail("unknown user_presence value");
        a.user_presence = *up == 1;
    }
    const auto keys = m.all(Tag::CredKeys);
    if (keys.size() > 1) r.fail("cred_keys repeated");
    if (!keys.empty()) {
        a.cred_keys = decode_cred_keys(r, keys.front());
        // An empty field would decode to "none known" and encode to no field at all.
        if (a.cred_keys.empty()) r.fail("cred_keys empty");
    }
    if (const char* fault = cred_keys_fault(a)) r.fail(fault);
    const auto groups = m.all(Tag::KeyGroups);
    if (groups.size() > 1) r.fail("key_groups repeated");
    if (!groups.empty()) {
        a.more_groups = decode_groups(r, groups.front());
        if (a.more_groups.empty()) r.fail("key_groups empty");
    }
    const auto of = m.all(Tag::CredGroups);
    if (of.size() > 1) r.fail("cred_groups repeated");
    if (!of.empty()) {
        a.cred_groups.assign(of.front().begin(), of.front().end());
        if (a.cred_groups.empty()) r.fail("cred_groups empty");
    }
    if (const char* fault = groups_fault(a)) r.fail(fault);
    return a;
}

// Result

wire::Message Result::encode() const {
    wire::Message m(Type::Result);
    m.add(Tag::Outcome, u32_of(outcome)).add(Tag::Text, text);
    if (user) m.add(Tag::User, *user);
    if (audit_line) m.add(Tag::AuditLine, *audit_line);
    return m;
}

Result Result::decode(const wire::Message& m) {
    const Reader r(m, Type::Result);
    const auto outcome = r.outcome();
    if (!outcome) r.fail("no outcome");
    Result out;
    out.outcome = *outcome;
    out.text = r.text(Tag::Text);
    out.user = r.optional_text(Tag::User);
    out.audit_line = r.optional_text(Tag::AuditLine);
    return out;
}

// CredentialRequest

wire::Message CredentialRequest::encode() const {
    wire::Message m(Type::CredentialRequest);
    add_key_fields(m, *this);
    m.add(Tag::UserId, user_id).add(Tag::User, user_name).add(Tag::Algorithm, u32_of(algorithm));
    for (const auto& id : exclude_ids) m.add(Tag::CredId, id);
    return m;
}

CredentialRequest CredentialRequest::decode(const wire::Message& m) {
    const Reader r(m, Type::CredentialRequest);
    CredentialRequest c;
    read_key_fields(r, c);
    c.user_id = r.text(Tag::UserId);
    c.user_name = r.text(Tag::User);
    if (const auto alg = r.u32(Tag::Algorithm, "algorithm")) c.algorithm = static_cast<std::int32_t>(*alg);
    c.exclude_ids = r.all(Tag::CredId);
    return c;
}

// Listing, Trace, Started, Status

wire::Message Listing::encode() const {
    wire::Message m(Type::Listing);
    for (const auto& rec : records) m.add(Tag::Record, rec);
    return m;
}

Listing Listing::decode(const wire::Message& m) {
    const Reader r(m, Type::Listing);
    return Listing{r.all(Tag::Record)};
}

wire::Message Trace::encode() const {
    wire::Message m(Type::Trace);
    m.add(Tag::Text, text);
    return m;
}

Trace Trace::decode(const wire::Message& m) {
    const Reader r(m, Type::Trace);
    return Trace{r.text(Tag::Text)};
}

wire::Message Started::encode() const {
    wire::Message m(Type::Started);
    m.add(Tag::LoginId, login_id);
    return m;
}

Started Started::decode(const wire::Message& m) {
    const Reader r(m, Type::Started);
    Started s{r.text(Tag::LoginId)};
    // The id goes into the module's log lines as it is: only the helper's own form.
    if (!wire::valid_login_id(s.login_id)) r.fail("malformed login id");
    return s;
}

// Link

namespace {

// What is wrong with a link the module would show, or nothing.
const char* link_fault(const Link& l) {
    if (!text::https_url(l.url, Link::kMaxLinkUrl)) return "url not a bounded https URL";
    if (l.text.empty() || !text::printable_utf8(l.text, Link::kMaxLinkText))
        return "text not bounded printable UTF-8";
    return nullptr;
}

}  // namespace

wire::Message Link::encode() const {
    if (const char* fault = link_fault(*this)) throw MalformedMessage(Type::Link, fault);
    wire::Message m(Type::Link);
    m.add(Tag::Text, text).add(Tag::Url, url).add(Tag::Qr, qr ? 1u : 0u);
    return m;
}

Link Link::decode(const wire::Message& m) {
    const Reader r(m, Type::Link);
    Link l;
    l.text = r.text(Tag::Text);
    l.url = r.text(Tag::Url);
    if (const auto qr = r.u32(Tag::Qr, "qr")) {
        if (*qr > 1) r.fail("unknown qr value");
        l.qr = *qr == 1;
    }
    if (const char* fault = link_fault(l)) r.fail(fault);
    return l;
}

wire::Message Status::encode() const {
    wire::Message m(Type::Status);
    for (const auto& rec : records) m.add(Tag::Record, rec);
    return m;
}

Status Status::decode(const wire::Message& m) {
    const Reader r(m, Type::Status);
    return Status{r.all(Tag::Record)};
}

}  // namespace pp::protocol
