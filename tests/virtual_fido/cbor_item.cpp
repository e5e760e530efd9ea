#include "cbor_item.hpp"

#include <cstdlib>
#include <limits>
#include <new>

namespace vfido::cbor {
namespace {

Item own(cbor_item_t* item) {
    if (item == nullptr) throw std::bad_alloc();
    return Item(item);
}

struct FreeBuffer {
    void operator()(unsigned char* buffer) const noexcept { std::free(buffer); }
};

}  // namespace

Item uint(std::uint64_t value) {
    if (value <= std::numeric_limits<std::uint8_t>::max())
        return own(cbor_build_uint8(static_cast<std::uint8_t>(value)));
    if (value <= std::numeric_limits<std::uint16_t>::max())
        return own(cbor_build_uint16(static_cast<std::uint16_t>(value)));
    if (value <= std::numeric_limits<std::uint32_t>::max())
        return own(cbor_build_uint32(static_cast<std::uint32_t>(value)));
    return own(cbor_build_uint64(value));
}

Item integer(std::int64_t value) {
    if (value >= 0) return uint(static_cast<std::uint64_t>(value));
    // CBOR stores a negative n as -1 - n.
    const auto magnitude = static_cast<std::uint64_t>(-(value + 1));
    if (magnitude <= std::numeric_limits<std::uint8_t>::max())
        return own(cbor_build_negint8(static_cast<std::uint8_t>(magnitude)));
    if (magnitude <= std::numeric_limits<std::uint16_t>::max())
        return own(cbor_build_negint16(static_cast<std::uint16_t>(magnitude)));
    if (magnitude <= std::numeric_limits<std::uint32_t>::max())
        return own(cbor_build_negint32(static_cast<std::uint32_t>(magnitude)));
    return own(cbor_build_negint64(magnitude));
}

Item bytes(ByteView value) {
    return own(cbor_build_bytestring(value.data(), value.size()));
}

Item text(std::string_view value) {
    return own(cbor_build_stringn(value.data(), value.size()));
}

Item boolean(bool value) {
    return own(cbor_build_bool(value));
}

Item array(std::vector<Item> elements) {
    Item out = own(cbor_new_definite_array(elements.size()));
    for (Item& element : elements)
        if (!cbor_array_push(out.get(), element.get())) throw std::bad_alloc();
    return out;
}

Map& Map::add(Item key, Item value) {
    entries_.emplace_back(std::move(key), std::move(value));
    return *this;
}

Item Map::build() {
    Item out = own(cbor_new_definite_map(entries_.size()));
    // cbor_map_add takes its own references; ours are dropped with entries_.
    for (auto& [key, value] : entries_)
        if (!cbor_map_add(out.get(), cbor_pair{key.get(), value.get()})) throw std::bad_alloc();
    entries_.clear();
    return out;
}

Bytes encode(const Item& item) {
    unsigned char* raw = nullptr;
    std::size_t allocated = 0;
    const std::size_t length = cbor_serialize_alloc(item.get(), &raw, &allocated);
    std::unique_ptr<unsigned char, FreeBuffer> buffer(raw);
    if (length == 0 || buffer == nullptr) throw std::bad_alloc();
    return Bytes(buffer.get(), buffer.get() + length);
}

Item decode(ByteView data) {
    if (data.empty()) return nullptr;
    cbor_load_result result{};
    Item item(cbor_load(data.data(), data.size(), &result));
    if (item == nullptr || result.error.code != CBOR_ERR_NONE || result.read != data.size()) return nullptr;
    return item;
}

bool is_definite_map(const cbor_item_t* item) {
    return item != nullptr && cbor_isa_map(item) && cbor_map_is_definite(item);
}

const cbor_item_t* find(const cbor_item_t* map_item, std::int64_t key) {
    if (!is_definite_map(map_item)) return nullptr;
    const cbor_pair* pairs = cbor_map_handle(map_item);
    for (std::size_t i = 0; i < cbor_map_size(map_item); ++i)
        if (as_int(pairs[i].key) == key) return pairs[i].value;
    return nullptr;
}

const cbor_item_t* find(const cbor_item_t* map_item, std::string_view key) {
    if (!is_definite_map(map_item)) return nullptr;
    const cbor_pair* pairs = cbor_map_handle(map_item);
    for (std::size_t i = 0; i < cbor_map_size(map_item); ++i)
        if (as_text(pairs[i].key) == key) return pairs[i].value;
    return nullptr;
}

std::optional<Bytes> as_bytes(const cbor_item_t* item) {
    if (item == nullptr || !cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item))
        return std::nullopt;
    const unsigned char* data = cbor_bytestring_handle(item);
    return Bytes(data, data + cbor_bytestring_length(item));
}

std::optional<std::string> as_text(const cbor_item_t* item) {
    if (item == nullptr || !cbor_isa_string(item) || !cbor_string_is_definite(item)) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(cbor_string_handle(item)), cbor_string_length(item));
}

std::optional<std::int64_t> as_int(const cbor_item_t* item) {
    if (item == nullptr || !cbor_is_int(item)) return std::nullopt;
    const std::uint64_t magnitude = cbor_get_int(item);
    if (magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    const auto value = static_cast<std::int64_t>(magnitude);
    return cbor_isa_uint(item) ? value : -1 - value;
}

std::optional<bool> as_bool(const cbor_item_t* item) {
    if (item == nullptr || !cbor_is_bool(item)) return std::nullopt;
    return cbor_get_bool(item);
}

std::optional<std::vector<const cbor_item_t*>> as_array(const cbor_item_t* item) {
    if (item == nullptr || !cbor_isa_array(item) || !cbor_array_is_definite(item)) return std::nullopt;
    cbor_item_t** elements = cbor_array_handle(item);
    return std::vector<const cbor_item_t*>(elements, elements + cbor_array_size(item));
}

}  // namespace vfido::cbor
