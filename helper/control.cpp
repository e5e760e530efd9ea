#include "control.hpp"

#include <cerrno>
#include <chrono>
#include <iostream>

#include "channel.hpp"
#include "helper_connection.hpp"
#include "messages.hpp"

namespace pp::helper {
namespace {

// A reload reads the configuration, the identity map and the client secret: well within this, and a helper
// that takes longer is reported as not answering.
constexpr std::chrono::seconds kAnswerWait{30};

void send_result(int fd, wire::Outcome outcome, const std::string& text) {
    wire::send_message(fd, protocol::Result{outcome, text, std::nullopt, std::nullopt}.encode());
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
        protocol::Control control;
        try {
            control = protocol::Control::decode(request);
        } catch (const protocol::MalformedMessage&) {
            send_result(fd, wire::Outcome::ServiceErr, "unknown control operation");
            return;
        }
        if (control.op == protocol::Control::Op::Status) {
            wire::send_message(fd, protocol::Status{state.status(started_helper)}.encode());
        } else {
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
        }
    } catch (const std::exception&) {
        // The caller went away or the answer could not be built; the command reports no answer.
    }
}

int status_command(const std::string& socket_path) {
    try {
        auto helper = client::HelperConnection::open(socket_path, kAnswerWait);
        helper.send(protocol::Control{protocol::Control::Op::Status}.encode());
        const wire::Message answer = helper.receive();
        if (answer.type() == wire::Type::Status) {
            for (const auto& line : protocol::Status::decode(answer).records) std::cout << line << "\n";
            return 0;
        }
        const auto refusal = protocol::Result::decode(answer);
        std::cerr << "pam-passwordless-helper: status refused: "
                  << (refusal.text.empty() ? "no reason" : refusal.text) << "\n";
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
        helper.send(protocol::Control{protocol::Control::Op::Reload}.encode());
        const auto answer = protocol::Result::decode(helper.receive());
        const std::string text = answer.text.empty() ? "no reason given" : answer.text;
        if (answer.outcome == wire::Outcome::Success) {
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
