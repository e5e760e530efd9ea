#include "load_rig.hpp"

#include <sched.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "login_harness.hpp"

namespace pp::load {
namespace {

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The child's whole life: wait for the start, log in, leave the outcome in a file, and _exit (never exit: the
// parent's static objects, such as its helper and stand-in handles, must not be destroyed in a copy).
[[noreturn]] void child(const LoadUser& user, int index, const RunOptions& o, int start_fd) {
    if (start_fd >= 0) {
        char c;
        while (::read(start_fd, &c, 1) < 0 && errno == EINTR) {
        }
    }
    bool own = true;
    std::string first_prompt;
    int code = -1;
    const auto t0 = std::chrono::steady_clock::now();
    double first_answer = -1;
    try {
        const auto run = test::run_pam(
            o.service, user.name, [&](int, const std::string& prompt) -> std::optional<std::string> {
                if (first_answer < 0)
                    first_answer =
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                // One method: the offer of the code comes first, with the same masked address.
                if (prompt == "Send a code to " + user.masked + "? [Y/n] ") {
                    std::this_thread::sleep_for(o.think);
                    return std::string();
                }
                if (first_prompt.empty()) first_prompt = prompt;
                if (prompt != "Code sent to " + user.masked + ": ") {
                    own = false;
                    return std::nullopt;
                }
                return latest_code(o.outbox, user.email).value_or("no-code");
            });
        code = run.code;
    } catch (...) {
        code = -1;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    {
        std::ofstream out(o.work / ("result-" + std::to_string(index)), std::ios::trunc);
        out << code << " " << (own ? 1 : 0) << " " << seconds << " " << first_answer << "\n"
            << first_prompt << "\n";
    }
    ::_exit(0);
}

}  // namespace

std::vector<LoadUser> load_users(int count) {
    std::vector<LoadUser> users;
    for (int i = 0; i < count; ++i) {
        const char local = static_cast<char>('a' + i % 26);
        const char domain = static_cast<char>('a' + (i / 26) % 26);
        char sub[64];
        std::snprintf(sub, sizeof sub, "00000000-0000-4000-8000-%012d", i);
        users.push_back({"user" + std::to_string(i),
                         std::string(1, local) + "u" + std::to_string(i) + "@" + domain + "mail.example",
                         std::string(1, local) + "***@" + domain + "***", sub});
    }
    return users;
}

void private_pam_dir(const fs::path& dir) {
    auto step = [](bool ok, const char* what) {
        if (!ok) throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
    };
    step(::unshare(CLONE_NEWNS) == 0, "unshare(CLONE_NEWNS)");
    // Private from here down, so the bind mount below never propagates back to the machine's /etc.
    step(::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0, "making / private");
    step(::mount(dir.c_str(), "/etc/pam.d", nullptr, MS_BIND, nullptr) == 0, "bind-mounting over /etc/pam.d");
}

std::string pool_json(const std::vector<LoadUser>& users) {
    std::string s =
        "{\"pool_id\": \"us-east-1_TestPool\",\n"
        " \"clients\": [{\"client_id\": \"testclient123\", \"client_secret\": "
        "\"s3cr3t-for-the-local-stand-in-only\", \"explicit_auth_flows\": [\"ALLOW_USER_AUTH\"]}],\n"
        " \"allowed_first_auth_factors\": [\"EMAIL_OTP\"],\n"
        " \"session_validity_seconds\": 600, \"otp_length\": 8, \"max_code_attempts\": 5,\n"
        " \"users\": [\n";
    for (std::size_t i = 0; i < users.size(); ++i) {
        const auto& u = users[i];
        s += "  {\"username\": \"" + u.name + "\", \"sub\": \"" + u.sub + "\", \"email\": \"" + u.email +
             "\", \"email_verified\": true, \"enabled\": true, \"confirmed\": true}";
        s += i + 1 < users.size() ? ",\n" : "\n";
    }
    return s + " ]}\n";
}

std::string identity_map(const std::vector<LoadUser>& users) {
    std::string s;
    for (const auto& u : users) s += u.name + " " + u.email + "\n";
    return s;
}

std::optional<std::string> latest_code(const fs::path& outbox, const std::string& destination) {
    std::optional<std::string> code;
    std::istringstream in(read_file(outbox));
    std::string line;
    const std::string want = "\"destination\": \"" + destination + "\"";
    while (std::getline(in, line)) {
        if (line.find(want) == std::string::npos) continue;
        auto at = line.find("\"code\"");
        if (at == std::string::npos) continue;
        at = line.find('"', line.find(':', at) + 1);
        const auto end = line.find('"', at + 1);
        code = line.substr(at + 1, end - at - 1);
    }
    return code;
}

std::vector<LoginOutcome> run_logins(const std::vector<LoadUser>& users, const std::vector<int>& who,
                                     const RunOptions& o) {
    fs::create_directories(o.work);
    for (std::size_t k = 0; k < who.size(); ++k) fs::remove(o.work / ("result-" + std::to_string(k)));
    const bool together = o.concurrency == 0;
    int start[2] = {-1, -1};
    if (together && ::pipe(start) != 0) throw std::runtime_error("pipe failed");

    std::map<pid_t, std::size_t> running;
    const auto deadline = std::chrono::steady_clock::now() + o.limit;
    auto reap_some = [&](bool block) {
        auto pause = std::chrono::microseconds(200);
        for (;;) {
            for (auto it = running.begin(); it != running.end();) {
                int status = 0;
                if (::waitpid(it->first, &status, WNOHANG) == it->first)
                    it = running.erase(it);
                else
                    ++it;
            }
            if (!block || running.empty()) return;
            if (std::chrono::steady_clock::now() > deadline) {
                for (const auto& [pid, k] : running) ::kill(pid, SIGKILL);
                for (const auto& [pid, k] : running) ::waitpid(pid, nullptr, 0);
                running.clear();
                return;
            }
            std::this_thread::sleep_for(pause);
            pause = std::min(pause * 2, std::chrono::microseconds(5000));
        }
    };

    std::fflush(nullptr);
    for (std::size_t k = 0; k < who.size(); ++k) {
        while (!together && running.size() >= o.concurrency) {
            const auto before = running.size();
            reap_some(false);
            if (running.size() == before) {
                if (std::chrono::steady_clock::now() > deadline) break;
                std::this_thread::sleep_for(std::chrono::microseconds(500));
            }
        }
        const pid_t pid = ::fork();
        if (pid < 0) {
            reap_some(true);
            throw std::runtime_error("fork failed");
        }
        if (pid == 0) {
            if (together) ::close(start[1]);
            child(users.at(static_cast<std::size_t>(who[k])), static_cast<int>(k), o,
                  together ? start[0] : -1);
        }
        running.emplace(pid, k);
    }
    if (together) {
        ::close(start[0]);
        ::close(start[1]);  // every child reads end-of-file: all start at once
    }
    reap_some(true);

    std::vector<LoginOutcome> out;
    for (std::size_t k = 0; k < who.size(); ++k) {
        LoginOutcome r;
        r.user = who[k];
        std::istringstream in(read_file(o.work / ("result-" + std::to_string(k))));
        int own = 0;
        if (in >> r.pam_code >> own >> r.seconds >> r.first_answer_seconds) {
            r.own_prompt = own == 1;
            in.ignore(1);
            std::getline(in, r.prompt);
        } else {
            r.pam_code = -1;
        }
        out.push_back(r);
    }
    return out;
}

namespace {

long status_field(pid_t pid, const std::string& key) {
    std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
    return -1;
}

}  // namespace

long vm_rss_kib(pid_t pid) {
    return status_field(pid, "VmRSS");
}

int thread_count(pid_t pid) {
    return static_cast<int>(status_field(pid, "Threads"));
}

PoolStandIn::PoolStandIn(const fs::path& dir, const fs::path& pool) : dir_(dir) {
    fs::create_directories(dir);
    proc_ = test::Process({"/usr/bin/python3", PP_STANDIN_SCRIPT, "serve", "--state-dir", dir.string(),
                           "--pool", pool.string(), "--host", "127.0.0.1", "--port", "0"},
                          dir / "standin.log");
    if (!test::wait_until([&] { return fs::exists(dir / "ready.json"); }))
        throw std::runtime_error("the user-pool stand-in did not get ready: " +
                                 test::read_text(dir / "standin.log"));
    const std::string ready = test::read_text(dir / "ready.json");
    port_ = std::atoi(ready.c_str() + ready.find(':', ready.find("\"port\"")) + 1);
}

std::string PoolStandIn::pool_section(const fs::path& secret) const {
    const std::string base = "https://127.0.0.1:" + std::to_string(port_) + "/";
    return "[pool]\npool_id = us-east-1_TestPool\nclient_id = testclient123\nclient_secret_file = " +
           secret.string() + "\nendpoint = " + base + "\nissuer = " + base +
           "us-east-1_TestPool\nca_file = " + (dir_ / "ca.pem").string() + "\n";
}

}  // namespace pp::load
