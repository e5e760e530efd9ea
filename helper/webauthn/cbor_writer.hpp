// The few CBOR items a WebAuthn attestationObject needs, written in the CTAP2 canonical form (CTAP 2.1 §8
// "Message Encoding"): the shortest head for every length and integer, definite lengths only, and map keys
// ordered by the length of their encoding, then bytewise. Each item is encoded when it is made, so a map
// can sort its members by their encoded keys.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pp::webauthn::cbor {

class Item {
  public:
    static Item integer(std::int64_t value);
    static Item bytes(std::string_view value);
    // Text that is not valid UTF-8 throws std::invalid_argument: CBOR text strings are UTF-8.
    static Item text(std::string_view value);
    static Item array(const std::vector<Item>& elements);
    // Text keys only (all WebAuthn needs). A key given twice throws std::invalid_argument.
    static Item map(const std::vector<std::pair<std::string_view, Item>>& members);

    [[nodiscard]] const std::string& encoded() const noexcept { return encoded_; }

  private:
    explicit Item(std::string encoded) : encoded_(std::move(encoded)) {}
    std::string encoded_;
};

}  // namespace pp::webauthn::cbor
