#include "cbor_writer.hpp"

#include <algorithm>
#include <stdexcept>

#include "utf8.hpp"

namespace pp::webauthn::cbor {

using cognito::valid_utf8;

namespace {

enum Major : std::uint8_t {
    unsigned_integer = 0,
    negative_integer = 1,
    byte_string = 2,
    text_string = 3,
    array_of_items = 4,
    map_of_pairs = 5,
};

// The initial byte and the argument in as few bytes as hold it (RFC 8949 §3, §4.2.1).
std::string head(Major major, std::uint64_t argument) {
    const auto initial = [major](unsigned info) { return static_cast<char>((major << 5) | info); };
    std::string out;
    if (argument < 24) {
        out.push_back(initial(static_cast<unsigned>(argument)));
        return out;
    }
    unsigned width = 8;
    unsigned info = 27;
    if (argument <= 0xFF) {
        width = 1;
        info = 24;
    } else if (argument <= 0xFFFF) {
        width = 2;
        info = 25;
    } else if (argument <= 0xFFFFFFFF) {
        width = 4;
        info = 26;
    }
    out.push_back(initial(info));
    for (unsigned i = width; i-- > 0;) out.push_back(static_cast<char>((argument >> (8 * i)) & 0xFF));
    return out;
}

}  // namespace

Item Item::integer(std::int64_t value) {
    if (value >= 0) return Item(head(unsigned_integer, static_cast<std::uint64_t>(value)));
    // -1 - value cannot overflow for any negative int64, INT64_MIN included.
    return Item(head(negative_integer, static_cast<std::uint64_t>(-(value + 1))));
}

Item Item::bytes(std::string_view value) {
    return Item(head(byte_string, value.size()).append(value));
}

Item Item::text(std::string_view value) {
    if (!valid_utf8(value)) throw std::invalid_argument("CBOR text is not valid UTF-8");
    return Item(head(text_string, value.size()).append(value));
}

Item Item::array(const std::vector<Item>& elements) {
    std::string out = head(array_of_items, elements.size());
    for (const Item& element : elements) out += element.encoded_;
    return Item(std::move(out));
}

Item Item::map(const std::vector<std::pair<std::string_view, Item>>& members) {
    std::vector<std::pair<std::string, const Item*>> encoded;
    encoded.reserve(members.size());
    for (const auto& [key, value] : members) encoded.emplace_back(text(key).encoded_, &value);
    std::sort(encoded.begin(), encoded.end(), [](const auto& a, const auto& b) {
        if (a.first.size() != b.first.size()) return a.first.size() < b.first.size();
        return a.first < b.first;
    });
    const auto same_key = [](const auto& a, const auto& b) { return a.first == b.first; };
    if (std::adjacent_find(encoded.begin(), encoded.end(), same_key) != encoded.end()) {
        throw std::invalid_argument("CBOR map key given twice");
    }
    std::string out = head(map_of_pairs, encoded.size());
    for (const auto& [key, value] : encoded) out.append(key).append(value->encoded_);
    return Item(std::move(out));
}

}  // namespace pp::webauthn::cbor
