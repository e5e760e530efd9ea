// The JSON reader every user-pool answer goes through (helper/cognito/json_document.cpp): parse_object under
// its bounds, then every member read through the typed accessors.
#include <json-c/json.h>

#include <algorithm>
#include <string>

#include "fuzz_support.hpp"
#include "json_document.hpp"
#include "utf8.hpp"

using namespace pp::cognito;

namespace {

// Returns the depth of the tree under `node` (a scalar is 1).
int walk(json_object* node) {
    int deepest = 0;
    switch (json_object_get_type(node)) {
        case json_type_object:
            json::for_each_member(node, [&](std::string_view name, json_object* value) {
                PP_FUZZ_CHECK(valid_utf8(name));
                const std::string key(name);
                // Each typed accessor either returns the member or throws for another type.
                try {
                    (void)json::string_member(node, key.c_str());
                } catch (const json::Error&) {
                }
                try {
                    (void)json::object_member(node, key.c_str());
                } catch (const json::Error&) {
                }
                try {
                    (void)json::array_member(node, key.c_str());
                } catch (const json::Error&) {
                }
                if (value != nullptr) deepest = std::max(deepest, walk(value));
            });
            return deepest + 1;
        case json_type_array:
            json::for_each_element(node, [&](json_object* value) {
                if (value != nullptr) deepest = std::max(deepest, walk(value));
            });
            return deepest + 1;
        case json_type_string:
            // What the reader promises: every string is UTF-8 (callers log, compare and re-send them).
            PP_FUZZ_CHECK(valid_utf8(json::as_string(node, "a string")));
            return 1;
        default:
            try {
                (void)json::as_string(node, "a value");
                PP_FUZZ_CHECK(false);
            } catch (const json::Error&) {
            }
            return 1;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const json::Document doc = json::parse_object(pp::fuzz::text(data, size));
        PP_FUZZ_CHECK(json_object_is_type(doc.get(), json_type_object));
        PP_FUZZ_CHECK(walk(doc.get()) <= json::max_depth);
    } catch (const json::Error&) {
    }
    return 0;
}
