#include "knobs.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <map>
#include <optional>

namespace vfido {
namespace {

constexpr std::string_view prefix = "VFIDO_";
constexpr std::string_view key_prefix = "VFIDO_KEY";

std::optional<unsigned> parse_unsigned(std::string_view text, unsigned low, unsigned high) {
    unsigned value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < low ||
        value > high)
        return std::nullopt;
    return value;
}

std::optional<bool> parse_flag(std::string_view text) {
    if (text == "0") return false;
    if (text == "1") return true;
    return std::nullopt;
}

// Applies one per-key knob; returns what was wrong with it, or nothing.
std::optional<std::string> apply(KeyKnobs& key, std::string_view name, std::string_view value) {
    if (name == "TOUCH") {
        if (value == "ok")
            key.touch = TouchMode::ok;
        else if (value == "deny")
            key.touch = TouchMode::deny;
        else if (value == "silent")
            key.touch = TouchMode::silent;
        else if (value == "mute")
            key.touch = TouchMode::mute;
        else
            return "expected ok, deny, silent or mute";
    } else if (name == "PIN") {
        // CTAP's PIN policy: 4 to 63 bytes. Empty means "no PIN", so a per-key override can remove a global
        // PIN.
        if (!value.empty() && (value.size() < 4 || value.size() > 63)) return "a PIN has 4 to 63 bytes";
        key.pin = value;
    } else if (name == "GARBAGE" || name == "WRONG_RPID") {
        const auto flag = parse_flag(value);
        if (!flag) return "expected 0 or 1";
        (name == "GARBAGE" ? key.garbage : key.wrong_rpid) = *flag;
    } else if (name == "ROGUE") {
        if (value == "0")
            key.rogue = RogueMode::off;
        else if (value == "1")
            key.rogue = RogueMode::claim;
        else if (value == "unlisted")
            key.rogue = RogueMode::unlisted;
        else
            return "expected 0, 1 or unlisted";
    } else if (name == "COUNTER") {
        if (value == "normal")
            key.counter = CounterMode::normal;
        else if (value == "regress")
            key.counter = CounterMode::regress;
        else if (value == "zero")
            key.counter = CounterMode::zero;
        else
            return "expected normal, regress or zero";
    } else if (name == "KEEPALIVES") {
        const auto count = parse_unsigned(value, 0, 1000);
        if (!count) return "expected a number from 0 to 1000";
        key.keepalives = *count;
    } else if (name == "KEEPALIVE_MS") {
        // Never zero: a silent key would otherwise flood its reader with keepalives.
        const auto ms = parse_unsigned(value, 1, 10000);
        if (!ms) return "expected a number of milliseconds from 1 to 10000";
        key.keepalive_ms = *ms;
    } else if (name == "TOUCH_PROBE") {
        if (value == "wait")
            key.instant_touch_probe = false;
        else if (value == "instant")
            key.instant_touch_probe = true;
        else
            return "expected wait or instant";
    } else if (name == "SILENT_PROBE") {
        if (value == "answer")
            key.refuse_silent_probe = false;
        else if (value == "refuse")
            key.refuse_silent_probe = true;
        else
            return "expected answer or refuse";
    } else if (name == "PIN_CHECK_MS") {
        const auto ms = parse_unsigned(value, 0, 10000);
        if (!ms) return "expected a number of milliseconds from 0 to 10000";
        key.pin_check_ms = *ms;
    } else if (name == "CTAP") {
        if (value == "2.0")
            key.ctap = CtapVersion::v2_0;
        else if (value == "2.1")
            key.ctap = CtapVersion::v2_1;
        else
            return "expected 2.0 or 2.1";
    } else {
        return "unknown knob";
    }
    return std::nullopt;
}

std::string describe(std::string_view name, std::string_view value, std::string_view problem) {
    std::string line = "pp_virtual_fido: ";
    line += name;
    // Never echo a PIN, even a test one: logs of a failed run get pasted around.
    if (name.ends_with("_PIN"))
        line += "=<hidden>";
    else
        (line += '=') += value;
    line += ": ";
    line += problem;
    line += "; every virtual key stays mute";
    return line;
}

}  // namespace

ParsedKnobs parse_knobs(const std::vector<std::string_view>& environment) {
    std::map<std::string_view, std::string_view> entries;
    for (std::string_view entry : environment) {
        const auto equals = entry.find('=');
        if (entry.starts_with(prefix) && equals != std::string_view::npos)
            entries.emplace(entry.substr(0, equals), entry.substr(equals + 1));
    }

    ParsedKnobs out;
    Knobs& knobs = out.knobs;
    auto fail = [&out](std::string_view name, std::string_view value, std::string_view problem) {
        if (out.error.empty()) out.error = describe(name, value, problem);
    };

    if (const auto it = entries.find("VFIDO_KEYS"); it != entries.end()) {
        const auto count = parse_unsigned(it->second, 0, max_keys);
        if (count)
            knobs.keys = *count;
        else
            fail(it->first, it->second, "expected a number of keys from 0 to 8");
    }
    if (const auto it = entries.find("VFIDO_STATE_DIR"); it != entries.end()) {
        struct stat info {};
        const std::string dir(it->second);
        if (dir.empty() || dir.front() != '/' || ::stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode))
            fail(it->first, it->second, "expected the absolute path of an existing directory");
        else
            knobs.state_dir = dir;
    }

    if (const auto it = entries.find("VFIDO_LOG"); it != entries.end()) {
        struct stat info {};
        const std::string file(it->second);
        const auto slash = file.rfind('/');
        if (file.empty() || file.front() != '/' || slash + 1 == file.size() ||
            ::stat(file.substr(0, slash + 1).c_str(), &info) != 0 || !S_ISDIR(info.st_mode))
            fail(it->first, it->second, "expected the absolute path of a file in an existing directory");
        else
            knobs.log = file;
    }

    KeyKnobs defaults;
    for (const auto& [name, value] : entries) {
        if (name == "VFIDO_KEYS" || name == "VFIDO_STATE_DIR" || name == "VFIDO_LOG" ||
            (name.starts_with(key_prefix) && name.size() > key_prefix.size() &&
             name[key_prefix.size()] >= '0' && name[key_prefix.size()] <= '9'))
            continue;
        if (const auto problem = apply(defaults, name.substr(prefix.size()), value))
            fail(name, value, *problem);
    }
    knobs.per_key.assign(knobs.keys, defaults);

    for (const auto& [name, value] : entries) {
        if (!name.starts_with(key_prefix) || name == "VFIDO_KEYS") continue;
        const std::string_view rest = name.substr(key_prefix.size());
        const auto underscore = rest.find('_');
        const auto index = parse_unsigned(rest.substr(0, underscore), 0, max_keys - 1);
        if (underscore == std::string_view::npos || !index) {
            fail(name, value, "unknown knob");
        } else if (*index >= knobs.keys) {
            fail(name, value, "no key has this index (see VFIDO_KEYS)");
        } else if (const auto problem = apply(knobs.per_key[*index], rest.substr(underscore + 1), value)) {
            fail(name, value, *problem);
        }
    }

    if (!out.error.empty()) {
        knobs.valid = false;
        knobs.per_key.assign(knobs.keys, KeyKnobs{});
    }
    return out;
}

const Knobs& knobs() {
    static const Knobs loaded = [] {
        std::vector<std::string_view> environment;
        for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry)
            environment.emplace_back(*entry);
        ParsedKnobs parsed = parse_knobs(environment);
        if (!parsed.error.empty()) std::fprintf(stderr, "%s\n", parsed.error.c_str());
        return std::move(parsed.knobs);
    }();
    return loaded;
}

}  // namespace vfido
