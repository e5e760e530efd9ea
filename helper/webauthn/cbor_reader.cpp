#include "cbor_reader.hpp"

#include <cstddef>
#include <cstdint>

namespace pp::webauthn::cbor {

ByteString read_byte_string(std::string_view cbor, LengthForm form) {
    if (cbor.empty()) return {{}, "is empty"};
    const auto initial = static_cast<unsigned char>(cbor[0]);
    if ((initial >> 5) != 2) return {{}, "is not a CBOR byte string"};
    const unsigned info = initial & 0x1F;
    // Indefinite lengths (31) and the reserved values (28-30) are not what libfido2 writes.
    if (info > 27) return {{}, "has no definite length"};
    std::uint64_t length = info;
    std::size_t header = 1;
    if (info >= 24) {
        const std::size_t width = std::size_t{1} << (info - 24);
        if (cbor.size() <= width) return {{}, "is truncated"};
        length = 0;
        for (std::size_t i = 1; i <= width; ++i) length = (length << 8) | static_cast<unsigned char>(cbor[i]);
        header += width;
        const std::uint64_t smallest = info == 24 ? 24 : std::uint64_t{1} << (8 * (width / 2));
        if (form == LengthForm::Shortest && length < smallest) return {{}, "length is not in shortest form"};
    }
    if (cbor.size() - header != length) return {{}, "length does not match"};
    return {cbor.substr(header), nullptr};
}

}  // namespace pp::webauthn::cbor
