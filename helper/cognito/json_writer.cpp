#include "json_writer.hpp"

#include "hex.hpp"
#include "utf8.hpp"

#include <cstdint>
#include <stdexcept>
#include <utility>

namespace pp::cognito {
namespace {

// Room for a typical request, so the buffer is rarely grown (each growth copies and wipes).
constexpr std::size_t initial_capacity = 4096;

}  // namespace

JsonWriter::JsonWriter() {
    out_.reserve(initial_capacity);
    out_.append("{");
    first_in_level_.push_back(true);
}

JsonWriter& JsonWriter::member(std::string_view name, std::string_view value) {
    key(name);
    quoted(value);
    return *this;
}

JsonWriter& JsonWriter::raw_member(std::string_view name, std::string_view json) {
    key(name);
    out_.append(json);
    return *this;
}

void JsonWriter::open_object(std::string_view name) {
    key(name);
    out_.append("{");
    first_in_level_.push_back(true);
}

void JsonWriter::close_object() {
    if (first_in_level_.size() < 2) throw std::logic_error("JsonWriter: no nested object is open");
    out_.append("}");
    first_in_level_.pop_back();
}

pp::Secret JsonWriter::finish() {
    if (first_in_level_.size() != 1) throw std::logic_error("JsonWriter: a nested object is still open");
    out_.append("}");
    first_in_level_.clear();
    return std::move(out_);
}

void JsonWriter::key(std::string_view name) {
    if (first_in_level_.empty()) throw std::logic_error("JsonWriter: already finished");
    if (!first_in_level_.back()) out_.append(",");
    first_in_level_.back() = false;
    quoted(name);
    out_.append(":");
}

void JsonWriter::quoted(std::string_view text) {
    if (!valid_utf8(text)) throw std::invalid_argument("request text is not valid UTF-8");
    out_.append("\"");
    for (const char c : text) {
        const auto byte = static_cast<std::uint8_t>(c);
        if (c == '"') {
            out_.append("\\\"");
        } else if (c == '\\') {
            out_.append("\\\\");
        } else if (byte < 0x20) {
            out_.append("\\u00");
            out_.append(hex_encode(std::string_view(&c, 1)));
        } else {
            out_.append(std::string_view(&c, 1));
        }
    }
    out_.append("\"");
}

}  // namespace pp::cognito
