#include "wire.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace pp::wire {

const char* outcome_name(Outcome o) noexcept {
    switch (o) {
        case Outcome::Success:
            return "success";
        case Outcome::AuthErr:
            return "auth_err";
        case Outcome::MaxTries:
            return "maxtries";
        case Outcome::UserUnknown:
            return "user_unknown";
        case Outcome::Ignore:
            return "ignore";
        case Outcome::AuthinfoUnavail:
            return "authinfo_unavail";
        case Outcome::CredInsufficient:
            return "cred_insufficient";
        case Outcome::ServiceErr:
            return "service_err";
        case Outcome::ConvErr:
            return "conv_err";
        case Outcome::Abort:
            return "abort";
    }
    return "unknown";
}

bool valid_login_id(std::string_view id) noexcept {
    if (id.size() != 16) return false;
    for (const char c : id)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

Message& Message::add(Tag tag, std::string_view value) {
    if (value.size() > 0xffff) throw ProtocolError("field too long");
    if (fields_.size() >= kMaxFields) throw ProtocolError("too many fields");
    fields_.emplace_back(tag, Secret(value));
    return *this;
}

Message& Message::add(Tag tag, std::uint32_t value) {
    const std::uint32_t be = htonl(value);
    char buf[4];
    std::memcpy(buf, &be, sizeof buf);
    return add(tag, std::string_view(buf, sizeof buf));
}

std::optional<std::string_view> Message::get(Tag tag) const {
    for (const auto& [t, v] : fields_)
        if (t == tag) return v.view();
    return std::nullopt;
}

std::string_view Message::get_or(Tag tag, std::string_view fallback) const {
    auto v = get(tag);
    return v ? *v : fallback;
}

std::optional<std::uint32_t> Message::get_u32(Tag tag) const {
    auto v = get(tag);
    if (!v) return std::nullopt;
    if (v->size() != 4) throw ProtocolError("integer field of wrong size");
    std::uint32_t be;
    std::memcpy(&be, v->data(), sizeof be);
    return ntohl(be);
}

std::vector<std::string_view> Message::all(Tag tag) const {
    std::vector<std::string_view> out;
    for (const auto& [t, v] : fields_)
        if (t == tag) out.push_back(v.view());
    return out;
}

Secret Message::encode() const {
    std::size_t total = 2;
    for (const auto& f : fields_) total += 3 + f.second.size();
    if (total > kMaxMessage) throw ProtocolError("message too long");
    Secret out;
    out.reserve(total);
    const char head[2] = {static_cast<char>(kVersion), static_cast<char>(type_)};
    out.append(std::string_view(head, 2));
    for (const auto& [tag, value] : fields_) {
        const char fh[3] = {static_cast<char>(tag), static_cast<char>((value.size() >> 8) & 0xff),
                            static_cast<char>(value.size() & 0xff)};
        out.append(std::string_view(fh, 3));
        out.append(value.view());
    }
    return out;
}

Message Message::decode(std::string_view bytes) {
    if (bytes.size() < 2 || bytes.size() > kMaxMessage) throw ProtocolError("message size out of bounds");
    if (static_cast<std::uint8_t>(bytes[0]) != kVersion) throw ProtocolError("unsupported protocol version");
    const auto type = static_cast<std::uint8_t>(bytes[1]);
    switch (static_cast<Type>(type)) {
        case Type::Begin:
        case Type::Answer:
        case Type::Assertion:
        case Type::Cancel:
        case Type::Manage:
        case Type::Credential:
        case Type::CredentialRequest:
        case Type::Listing:
        case Type::Trace:
        case Type::Started:
        case Type::Link:
        case Type::Control:
        case Type::Status:
        case Type::Prompt:
        case Type::KeyRequest:
        case Type::Result:
            break;
        default:
            throw ProtocolError("unknown message type");
    }
    Message m(static_cast<Type>(type));
    std::size_t pos = 2;
    while (pos < bytes.size()) {
        if (bytes.size() - pos < 3) throw ProtocolError("truncated field header");
        const auto tag = static_cast<std::uint8_t>(bytes[pos]);
        const std::size_t len = (static_cast<std::size_t>(static_cast<std::uint8_t>(bytes[pos + 1])) << 8) |
                                static_cast<std::uint8_t>(bytes[pos + 2]);
        pos += 3;
        if (bytes.size() - pos < len) throw ProtocolError("truncated field");
        if (tag == 0 || tag > static_cast<std::uint8_t>(kLastTag)) throw ProtocolError("unknown field");
        m.add(static_cast<Tag>(tag), bytes.substr(pos, len));
        pos += len;
    }
    return m;
}

}  // namespace pp::wire
