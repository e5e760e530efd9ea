// Owned libcbor items, builders that keep the encodings canonical (smallest integer widths, which libfido2
// checks for map keys), and lookups that read a host's request without trusting its types.
#pragma once

#include <cbor.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytes.hpp"

namespace vfido::cbor {

struct Decref {
    void operator()(cbor_item_t* item) const noexcept { cbor_decref(&item); }
};
using Item = std::unique_ptr<cbor_item_t, Decref>;

Item uint(std::uint64_t value);
Item integer(std::int64_t value);
Item bytes(ByteView value);
Item text(std::string_view value);
Item boolean(bool value);
Item array(std::vector<Item> elements);

template <typename... Items>
Item array_of(Items... elements) {
    std::vector<Item> all;
    (all.push_back(std::move(elements)), ...);
    return array(std::move(all));
}

// Entries keep their insertion order, so callers write them in CTAP's canonical order.
class Map {
  public:
    Map& add(Item key, Item value);
    Map& add(int key, Item value) { return add(integer(key), std::move(value)); }
    Map& add(std::string_view key, Item value) { return add(text(key), std::move(value)); }
    Item build();

  private:
    std::vector<std::pair<Item, Item>> entries_;
};

Bytes encode(const Item& item);
// nullptr unless `data` is exactly one well-formed item.
Item decode(ByteView data);

// Lookups in a definite map; nullptr when the key is absent or `map_item` is not a definite map.
const cbor_item_t* find(const cbor_item_t* map_item, std::int64_t key);
const cbor_item_t* find(const cbor_item_t* map_item, std::string_view key);

// Typed reads; nullopt when the item is absent or of another type.
std::optional<Bytes> as_bytes(const cbor_item_t* item);
std::optional<std::string> as_text(const cbor_item_t* item);
std::optional<std::int64_t> as_int(const cbor_item_t* item);
std::optional<bool> as_bool(const cbor_item_t* item);
bool is_definite_map(const cbor_item_t* item);
// The elements of a definite array; nullopt for anything else.
std::optional<std::vector<const cbor_item_t*>> as_array(const cbor_item_t* item);

}  // namespace vfido::cbor
