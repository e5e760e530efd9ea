// Writes request bodies straight into a wiped buffer: they carry sessions, codes and the SECRET_HASH, and
// json-c's own serialiser would leave copies in memory it frees without wiping.
#pragma once

#include <string_view>
#include <vector>

#include "secret.hpp"

namespace pp::cognito {

// Builds one JSON object of string members and nested objects. Text that is not valid UTF-8 throws
// std::invalid_argument, so malformed input never reaches the wire.
class JsonWriter {
  public:
    JsonWriter();

    void member(std::string_view key, std::string_view value);
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
