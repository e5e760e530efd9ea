#include "json_document.hpp"

#include <json-c/json.h>

#include <climits>
#include <new>
#include <string>

#include "secret.hpp"
#include "utf8.hpp"

namespace pp::cognito::json {
namespace {

struct TokenerRelease {
    void operator()(json_tokener* tokener) const noexcept { json_tokener_free(tokener); }
};

void wipe_strings(json_object* node) noexcept {
    switch (json_object_get_type(node)) {
        case json_type_string:
            // json-c owns the buffer and hands it out read-only; it is ordinary heap memory we may overwrite
            // because this tree is about to be freed.
            pp::wipe(const_cast<char*>(json_object_get_string(node)),
                     static_cast<std::size_t>(json_object_get_string_len(node)));
            break;
        case json_type_object: {
            json_object_iterator it = json_object_iter_begin(node);
            const json_object_iterator end = json_object_iter_end(node);
            while (!json_object_iter_equal(&it, &end)) {
                wipe_strings(json_object_iter_peek_value(&it));
                json_object_iter_next(&it);
            }
            break;
        }
        case json_type_array:
            for (std::size_t i = 0; i < json_object_array_length(node); ++i) {
                wipe_strings(json_object_array_get_idx(node, i));
            }
            break;
        default:
            break;
    }
}

// json-c keeps the last of duplicate members (its tokener replaces the earlier value, and 0.16 has no flag to
// refuse them), so the tree alone cannot show them. In JSON that json-c's strict mode accepted, every ':'
// outside a string separates one member's name from its value: the text names as many members as it has such
// colons, and the tree holds fewer exactly when some object named a member twice (at any depth, however the
// name was escaped).
std::size_t members_in_text(std::string_view text) {
    std::size_t count = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;  // the escaped character cannot end the string
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == ':') {
            ++count;
        }
    }
    return count;
}

// Recursion is bounded by max_depth, which the tokener enforced.
std::size_t members_in_tree(json_object* node) {
    std::size_t count = 0;
    if (json_object_is_type(node, json_type_object)) {
        json_object_iterator it = json_object_iter_begin(node);
        const json_object_iterator end = json_object_iter_end(node);
        while (!json_object_iter_equal(&it, &end)) {
            count += 1 + members_in_tree(json_object_iter_peek_value(&it));
            json_object_iter_next(&it);
        }
    } else if (json_object_is_type(node, json_type_array)) {
        for (std::size_t i = 0; i < json_object_array_length(node); ++i) {
            count += members_in_tree(json_object_array_get_idx(node, i));
        }
    }
    return count;
}

json_object* typed_member(json_object* object, const char* key, json_type type, const char* type_name) {
    json_object* value = nullptr;
    if (!json_object_object_get_ex(object, key, &value) || value == nullptr) return nullptr;
    if (!json_object_is_type(value, type)) throw Error(std::string("field ") + key + " is not " + type_name);
    return value;
}

}  // namespace

void Release::operator()(json_object* root) const noexcept {
    if (root == nullptr) return;
    wipe_strings(root);
    json_object_put(root);
}

Document parse_object(std::string_view text) {
    if (text.size() > static_cast<std::size_t>(INT_MAX)) throw Error("JSON text too large");
    // json-c's own check (JSON_TOKENER_VALIDATE_UTF8, 0.16) lets overlong forms, surrogates and code points
    // past U+10FFFF through, such as C0 8D for a carriage return; found by fuzzing
    // (tests/fuzz/corpus/json_document). Its \u escapes always decode to valid UTF-8, so checking the text
    // suffices.
    if (!valid_utf8(text)) throw Error("invalid JSON: not UTF-8");
    const std::unique_ptr<json_tokener, TokenerRelease> tokener(json_tokener_new_ex(max_depth));
    if (!tokener) throw std::bad_alloc();
    json_tokener_set_flags(tokener.get(), JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    Document doc(json_tokener_parse_ex(tokener.get(), text.data(), static_cast<int>(text.size())));
    const json_tokener_error status = json_tokener_get_error(tokener.get());
    if (!doc || status != json_tokener_success) {
        throw Error(std::string("invalid JSON: ") +
                    (status == json_tokener_continue ? "incomplete" : json_tokener_error_desc(status)));
    }
    if (json_tokener_get_parse_end(tokener.get()) != text.size()) {
        throw Error("invalid JSON: data after the value");
    }
    if (!json_object_is_type(doc.get(), json_type_object)) throw Error("JSON value is not an object");
    if (members_in_tree(doc.get()) != members_in_text(text)) {
        throw Error("invalid JSON: an object names a member twice (duplicate member)");
    }
    return doc;
}

std::string_view lenient_string_member(json_object* object, const char* key) {
    try {
        return string_member(object, key).value_or("");
    } catch (const Error&) {
        return {};
    }
}

std::optional<std::string_view> string_member(json_object* object, const char* key) {
    json_object* value = typed_member(object, key, json_type_string, "a string");
    if (value == nullptr) return std::nullopt;
    return as_string(value, key);
}

json_object* object_member(json_object* object, const char* key) {
    return typed_member(object, key, json_type_object, "an object");
}

json_object* array_member(json_object* object, const char* key) {
    return typed_member(object, key, json_type_array, "an array");
}

std::string_view as_string(json_object* value, std::string_view what) {
    if (!json_object_is_type(value, json_type_string)) throw Error(std::string(what) + " is not a string");
    return {json_object_get_string(value), static_cast<std::size_t>(json_object_get_string_len(value))};
}

void for_each_member(json_object* object, const std::function<void(std::string_view, json_object*)>& visit) {
    json_object_iterator it = json_object_iter_begin(object);
    const json_object_iterator end = json_object_iter_end(object);
    while (!json_object_iter_equal(&it, &end)) {
        visit(json_object_iter_peek_name(&it), json_object_iter_peek_value(&it));
        json_object_iter_next(&it);
    }
}

void for_each_element(json_object* array, const std::function<void(json_object*)>& visit) {
    for (std::size_t i = 0; i < json_object_array_length(array); ++i) {
        visit(json_object_array_get_idx(array, i));
    }
}

}  // namespace pp::cognito::json
