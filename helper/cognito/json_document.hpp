// Reading JSON from the network with json-c under fixed bounds, and type-checked access to its members.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>

struct json_object;

namespace pp::cognito::json {

// what(): names the problem and at most a field name, never a value.
class Error : public std::runtime_error {
    using runtime_error::runtime_error;
};

// Wipes every string in the tree before releasing it: answers carry sessions and tokens.
struct Release {
    void operator()(json_object* root) const noexcept;
};
using Document = std::unique_ptr<json_object, Release>;

inline constexpr int max_depth = 16;

// Accepts exactly one JSON object: strict syntax, valid UTF-8, at most max_depth levels, no object naming a
// member twice (at any depth), nothing after it but white space.
Document parse_object(std::string_view text);

// Members that are absent or JSON null read as nullopt / nullptr; a member of another type throws Error.
std::optional<std::string_view> string_member(json_object* object, const char* key);
// For an error answer's best-effort fields: a member that is absent, null or not a string reads as empty.
std::string_view lenient_string_member(json_object* object, const char* key);
json_object* object_member(json_object* object, const char* key);
json_object* array_member(json_object* object, const char* key);

// Throws Error naming `what` unless value is a JSON string.
std::string_view as_string(json_object* value, std::string_view what);

void for_each_member(json_object* object, const std::function<void(std::string_view, json_object*)>& visit);
void for_each_element(json_object* array, const std::function<void(json_object*)>& visit);

}  // namespace pp::cognito::json
