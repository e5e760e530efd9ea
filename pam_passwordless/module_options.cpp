#include "module_options.hpp"

#include <charconv>
#include <string_view>

namespace pp::module {

std::optional<Options> parse_options(int argc, const char** argv, std::string& error) {
    Options o;
    for (int i = 0; i < argc; ++i) {
        const std::string_view arg = argv[i] ? argv[i] : "";
        if (arg == "debug") {
            o.debug = true;
        } else if (arg.starts_with("socket=")) {
            const auto path = arg.substr(7);
            if (path.empty() || path.front() != '/' || path.size() >= 108) {
                error = "socket= needs an absolute path shorter than 108 bytes";
                return std::nullopt;
            }
            o.socket_path = std::string(path);
        } else if (arg.starts_with("timeout=")) {
            const auto v = arg.substr(8);
            unsigned seconds = 0;
            const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
            if (ec != std::errc() || p != v.data() + v.size() || seconds == 0 || seconds > 3600) {
                error = "timeout= needs a whole number of seconds from 1 to 3600";
                return std::nullopt;
            }
            o.helper_timeout = std::chrono::seconds(seconds);
        } else if (arg.starts_with("unknown_user=")) {
            const auto v = arg.substr(13);
            if (v == "ignore") {
                o.unknown_user = wire::UnknownUser::Ignore;
            } else if (v == "fail") {
                o.unknown_user = wire::UnknownUser::Fail;
            } else {
                error = "unknown_user= needs ignore or fail";
                return std::nullopt;
            }
        } else {
            error = "unknown argument '" + std::string(arg) + "'";
            return std::nullopt;
        }
    }
    return o;
}

}  // namespace pp::module
