// Writes request bodies straight into a wiped buffer: they carry sessions, codes and the SECRET_HASH, and
// json-c's own serialiser would leave copies in memory it frees without wiping.
#pragma once

#include <string_view>
#include <vector>

#include "secret.hpp"

namespace pp::cognito {

// The one JSON writer: request bodies to the user pool and the WebAuthn texts in them (client data, the
// responses of a key). Builds one JSON object of string members and nested objects, escaped as WebAuthn L3
// §5.8.1.2 CCDToString asks ('"' and '\' with a backslash, code points below U+0020 as \u00xx in lower-case
// hex, everything else as its own UTF-8 bytes), which is also a valid RFC 8259 serialisation. Text that is
// not valid UTF-8 throws std::invalid_argument, so malformed input never reaches the wire.
class JsonWriter {
  public:
    JsonWriter();

    JsonWriter& member(std::string_view key, std::string_view value);
    // A value written as given: a number, a literal, or JSON the caller has checked.
    JsonWriter& raw_member(std::string_view key, std::string_view json);
    void open_object(std::string_view key);
    void close_object();

    // Closes the outermost object and hands the text over.
    pp::Secret finish();

  private:
    void key(std::string_view name);
    void quoted(std::string_view text);

    pp::Secret out_;
    std::vector<bool> first_in_level_;
};

}  // namespace pp::cognito
