#include "control.hpp"

#include <cerrno>
#include <chrono>
#include <iostream>

#include "channel.hpp"
#include "helper_connection.hpp"

namespace pp::helper {
namespace {

constexpr const char* kOpStatus = "status";
constexpr const char* kOpReload = "reload";

// A reload reads the configuration, the identity map and the client secret: well within this, and a helper
// that takes longer is reported as not answering.
constexpr std::chrono::seconds kAnswerWait{30};

void send_result(int fd, wire::Outcome outcome, const std::string& text) {
    wire::Message r(wire::Type::Result);
    r.add(wire::Tag::Outcome, static_cast<std::uint32_t>(outcome)).add(wire::Tag::Text, text);
    wire::send_message(fd, r);
}

bool not_running(const client::HelperUnavailable& e) {
    return e.error_number() == ENOENT || e.error_number() == ECONNREFUSED;
}

}  // namespace

void serve_control(int fd, const ucred& peer, HelperState& state, const wire::Message& request,
                   bool started_helper) noexcept {
    try {
        if (peer.uid != 0) {
            send_result(fd, wire::Outcome::AuthErr,
                        "only root may ask the helper for its status or a reload");
            return;
        }
        const std::string_view op = request.get_or(wire::Tag::Op, "");
        if (op == kOpStatus) {
            wire::Message s(wire::Type::Status);
            for (const auto& line : state.status(started_helper)) s.add(wire::Tag::Record, line);
            wire::send_message(fd, s);
        } else if (op == kOpReload) {
            const std::string error =
                state.load(started_helper ? "reload request, which started the helper" : "reload request");
            const std::string started =
                started_helper ? "helper started by this request (it was idle, socket-activated); " : "";
            if (error.empty())
                send_result(fd, wire::Outcome::Success,
                            started + "configuration reloaded from " + state.config_path() + " (sha256 " +
                                state.config_sha256() + ")");
            else
                send_result(fd, wire::Outcome::ServiceErr,
                            started + "new configuration refused, the one in force stays: " + error);
        } else {
            send_result(fd, wire::Outcome::ServiceErr, "unknown control operation");
        }
    } catch (const std::exception&) {
        // The caller went away or the answer could not be built; the command reports no answer.
    }
}

int status_command(const std::string& socket_path) {
    try {
        auto helper = client::HelperConnection::open(socket_path, kAnswerWait);
        helper.send(wire::Message(wire::Type::Control).add(wire::Tag::Op, kOpStatus));
        const wire::Message answer = helper.receive();
        if (answer.type() == wire::Type::Status) {
            for (const auto line : answer.all(wire::Tag::Record)) std::cout << line << "\n";
            return 0;
        }
        std::cerr << "pam-passwordless-helper: status refused: "
                  << answer.get_or(wire::Tag::Text, "no reason") << "\n";
        return 4;
    } catch (const client::HelperUnavailable& e) {
        if (not_running(e)) {
            std::cout << "helper: not running (nothing listens on " << socket_path << ")\n";
            return 3;
        }
        std::cerr << "pam-passwordless-helper: " << e.what() << "\n";
        return 4;
    } catch (const std::exception& e) {
        std::cerr << "pam-passwordless-helper: no answer from the helper: " << e.what() << "\n";
        return 4;
    }
}

int reload_command(const std::string& socket_path, const std::string& config_path) {
    try {
        Runtime::load(config_path);
    } catch (const std::exception& e) {
        std::cerr << "pam-passwordless-helper: " << config_path << " refused, nothing reloaded: " << e.what()
                  << "\n";
        return 1;
    }
    try {
        auto helper = client::HelperConnection::open(socket_path, kAnswerWait);
        helper.send(wire::Message(wire::Type::Control).add(wire::Tag::Op, kOpReload));
        const wire::Message answer = helper.receive();
        const auto outcome = answer.get_u32(wire::Tag::Outcome);
        const std::string_view text = answer.get_or(wire::Tag::Text, "no reason given");
        if (answer.type() == wire::Type::Result && outcome &&
            *outcome == static_cast<std::uint32_t>(wire::Outcome::Success)) {
            std::cout << text << "\n";
            return 0;
        }
        std::cerr << "pam-passwordless-helper: " << text << "\n";
        return 1;
    } catch (const client::HelperUnavailable& e) {
        if (not_running(e)) {
            std::cout << "no helper is running (nothing listens on " << socket_path
                      << "): nothing to reload; the next start reads " << config_path << ", which is valid\n";
            return 0;
        }
        std::cerr << "pam-passwordless-helper: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "pam-passwordless-helper: no answer from the helper: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace pp::helper
