// Holders for secrets (codes, PINs, tokens, the client secret) that wipe their bytes when they go away.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace pp {

// Wipes memory in a way the optimiser may not drop.
inline void wipe(void* p, std::size_t n) noexcept {
    if (p != nullptr && n != 0) explicit_bzero(p, n);
}

// A string for secret material. The buffer is wiped on destruction, on assignment and on clear(), so a
// secret does not linger in freed heap memory (where a core file or a later allocation could show it).
class Secret {
  public:
    Secret() = default;
    explicit Secret(std::string_view v) : s_(v) {}
    explicit Secret(std::string&& v) noexcept : s_(std::move(v)) {}
    Secret(const Secret& o) : s_(o.s_) {}
    Secret(Secret&& o) noexcept : s_(std::move(o.s_)) { o.clear(); }
    Secret& operator=(const Secret& o) {
        if (this != &o) {
            clear();
            s_ = o.s_;
        }
        return *this;
    }
    Secret& operator=(Secret&& o) noexcept {
        if (this != &o) {
            clear();
            s_ = std::move(o.s_);
            o.clear();
        }
        return *this;
    }
    ~Secret() { clear(); }

    void clear() noexcept {
        wipe(s_.data(), s_.capacity());
        s_.clear();
    }
    [[nodiscard]] std::string_view view() const noexcept { return s_; }
    [[nodiscard]] const char* c_str() const noexcept { return s_.c_str(); }
    [[nodiscard]] std::size_t size() const noexcept { return s_.size(); }
    [[nodiscard]] bool empty() const noexcept { return s_.empty(); }
    // Appends without reallocating into a fresh buffer that would leave the old bytes behind unwiped.
    void reserve(std::size_t n) {
        if (n <= s_.capacity()) return;
        std::string bigger;
        bigger.reserve(n);
        bigger.assign(s_);
        clear();
        s_ = std::move(bigger);
    }
    // Keeps the first n bytes (n <= size()); the buffer, and so the wipe, stays as it was.
    void truncate(std::size_t n) noexcept {
        if (n < s_.size()) {
            wipe(s_.data() + n, s_.size() - n);
            s_.resize(n);
        }
    }
    // Grows by doubling: each growth copies what it held and wipes the old buffer, so a Secret built in
    // many appends (a frame's fields, a response's chunks) is copied a bounded number of times per byte.
    void append(std::string_view v) {
        const std::size_t need = s_.size() + v.size();
        if (need > s_.capacity()) reserve(std::max(need, 2 * s_.capacity()));
        s_.append(v);
    }
    [[nodiscard]] std::size_t capacity() const noexcept { return s_.capacity(); }

  private:
    std::string s_;
};

}  // namespace pp
