// What every fuzz target shares: the libFuzzer entry point, one input read as several fields, and a check
// that ends the run with a crash libFuzzer records when an invariant of the code under test breaks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace pp::fuzz {

[[noreturn]] inline void invariant_failed(const char* what, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    std::abort();
}

// Not assert(): it must hold in every build, NDEBUG or not.
#define PP_FUZZ_CHECK(cond) ((cond) ? (void)0 : ::pp::fuzz::invariant_failed(#cond, __FILE__, __LINE__))

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
    return size == 0 ? std::string_view{} : std::string_view(reinterpret_cast<const char*>(data), size);
}

// One input as a sequence of parts: single bytes, fields (a 2-byte big-endian length, then that many bytes,
// or fewer when the input ends first) and the rest. Past the end every part is empty or 0, so any input is
// a valid one. Seeds are written in the same layout with field_bytes().
class Input {
  public:
    Input(const std::uint8_t* data, std::size_t size) : rest_(text(data, size)) {}

    std::uint8_t byte() {
        if (rest_.empty()) return 0;
        const auto b = static_cast<std::uint8_t>(rest_.front());
        rest_.remove_prefix(1);
        return b;
    }
    std::string_view field() {
        const std::size_t length = static_cast<std::size_t>(byte()) << 8 | byte();
        const std::string_view out = rest_.substr(0, length);
        rest_.remove_prefix(out.size());
        return out;
    }
    std::string_view rest() {
        const std::string_view out = rest_;
        rest_ = {};
        return out;
    }

  private:
    std::string_view rest_;
};

inline std::string field_bytes(std::string_view value) {
    std::string out;
    out.push_back(static_cast<char>((value.size() >> 8) & 0xFF));
    out.push_back(static_cast<char>(value.size() & 0xFF));
    out += value;
    return out;
}

// A typed wire message (protocol/messages.hpp) decoded from `m`, whose encoding is stable: decoding it and
// encoding again gives the same bytes. For the targets that read the wire as the helper and as the module.
template <class X, class M>
X decoded_stably(const M& m) {
    X x = X::decode(m);
    const auto once = x.encode().encode();
    const auto twice = X::decode(x.encode()).encode().encode();
    PP_FUZZ_CHECK(once.view() == twice.view());
    return x;
}

}  // namespace pp::fuzz
