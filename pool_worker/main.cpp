// pam-passwordless-pool: the network worker. It talks HTTPS to the user pool for the root helper and hands
// back what the answers mean, typed (pool_protocol.hpp). It holds no secret of the machine's: no client
// secret (root sends SECRET_HASH), no credential, no state; it reads no configuration file. It never runs as
// root.
//
// Two ways to be started:
//   --fd N   by the helper itself (spawned): N is a SOCK_SEQPACKET socket over which each connection arrives
//            as a descriptor (SCM_RIGHTS); the worker ends when the helper closes it.
//   (none)   by systemd (pam-passwordless-pool.socket): the listening socket is LISTEN_FDS' first; only root
//            may connect.
#include <fcntl.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "reused_threads.hpp"
#include "worker.hpp"

namespace {

constexpr const char* kProgram = "pam-passwordless-pool: ";
// More connections at once than the helper ever makes (one per login in flight), yet bounded.
constexpr int kMaxConnections = 4096;
std::atomic<int> connections{0};

// A request's thread runs libcurl, OpenSSL and json-c: a few tens of KiB of stack (as the helper's login
// threads, helper/server.cpp). 512 KiB leaves a wide margin; 4096 of them cost address space, not memory.
// Threads are kept for the next request (common/reused_threads.hpp) and wipe their stacks between requests.
pp::ReusedThreads& threads() {
    static const auto pool = std::make_shared<pp::ReusedThreads>(pp::ReusedThreads::Options{
        .stack_size = 512 * 1024, .busy_name = "pp-request", .idle_name = "pp-idle", .at_exit = [] {
            // OpenSSL's per-thread state (random generators, error queue) freed with the thread.
            OPENSSL_thread_stop();
        }});
    return *pool;
}

// Connections closed unserved (too many at once, or no thread to be had: the machine out of tasks). The
// helper reports such a login as the pool unreachable; these lines tell the admin why. One line for the
// first, then one a minute with the count while it goes on, so that a burst cannot flood the log. Touched by
// the main thread alone.
struct Unserved {
    std::chrono::steady_clock::time_point last_line{};
    bool any_line = false;
    long since_line = 0;
    std::string why;

    void count(std::string reason) {
        ++since_line;
        why = std::move(reason);
        const auto now = std::chrono::steady_clock::now();
        if (!any_line) flush(now);
        due(now);
    }
    // The count so far, once a minute has passed since the last line (at each connection, and at an idle
    // minute: main's wait), so that what a burst left uncounted is logged while connections go on.
    void due(std::chrono::steady_clock::time_point now) {
        if (since_line > 0 && now - last_line >= std::chrono::minutes(1)) flush(now);
    }
    void flush(std::chrono::steady_clock::time_point now) {
        if (since_line == 0) return;
        if (since_line == 1)
            std::cerr << kProgram << "a connection from the helper closed unserved (" << why
                      << "): its login ends as if the user pool could not be reached\n";
        else
            std::cerr
                << kProgram << since_line << " more connections from the helper closed unserved (" << why
                << ") since the last such line: their logins end as if the user pool could not be reached\n";
        since_line = 0;
        last_line = now;
        any_line = true;
    }
};
Unserved unserved;

void serve_in_thread(int fd) {
    unserved.due(std::chrono::steady_clock::now());
    if (connections.fetch_add(1) >= kMaxConnections) {
        connections.fetch_sub(1);
        ::close(fd);
        unserved.count("more than " + std::to_string(kMaxConnections) + " at once");
        return;
    }
    bool started = false;
    try {
        started = threads().start([fd] {
            pp::pool::serve_connection(fd, [](bool waiting) {
                pthread_setname_np(pthread_self(), waiting ? "pp-kept" : "pp-request");
            });
            connections.fetch_sub(1);
        });
    } catch (const std::exception&) {
    }
    if (!started) {
        connections.fetch_sub(1);
        ::close(fd);
        unserved.count("no thread could be started: out of tasks or memory");
    }
}

// Waits for `fd` to be readable; once a minute meanwhile, the idle HTTPS connections past their time are
// closed (a burst's connections would otherwise stay open, and their memory held, until the next request).
void wait_readable(int fd) {
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, 60 * 1000);
        if (r > 0 || (r < 0 && errno != EINTR)) return;
        if (r == 0) {
            unserved.due(std::chrono::steady_clock::now());
            pp::pool::close_idle_connections();
            // A minute without a new connection after a burst: what the burst's threads and connections freed
            // goes back to the system (as the helper does, helper/server.cpp).
            ::malloc_trim(0);
        }
    }
}

// Connections handed over by the helper that spawned this worker.
int serve_handed_over(int control) {
    for (;;) {
        wait_readable(control);
        char byte = 0;
        iovec iov{&byte, 1};
        alignas(cmsghdr) char space[CMSG_SPACE(sizeof(int))];
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = space;
        msg.msg_controllen = sizeof space;
        const ssize_t n = ::recvmsg(control, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) std::_Exit(0);  // the helper is gone: so is the worker, whatever it was doing
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (i == 0)
                    serve_in_thread(fd);
                else
                    ::close(fd);
            }
        }
    }
}

// Connections accepted on systemd's listening socket: from root only (the socket's mode says so too).
int serve_listening(int listener) {
    for (;;) {
        wait_readable(listener);
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) continue;
            std::cerr << kProgram << "accept: " << std::strerror(errno) << "\n";
            return 1;
        }
        ucred peer{};
        socklen_t len = sizeof peer;
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || peer.uid != 0) {
            ::close(fd);
            continue;
        }
        serve_in_thread(fd);
    }
}

}  // namespace

int main(int argc, char** argv) {
    // Tokens and sessions pass through this process: no core file, no attaching to it.
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    std::signal(SIGPIPE, SIG_IGN);
    if (::geteuid() == 0 || ::getegid() == 0) {
        std::cerr << kProgram << "refuses to run as root: it is the helper's unprivileged network worker\n";
        return 1;
    }
    if (argc == 3 && std::string(argv[1]) == "--fd") {
        char* end = nullptr;
        const long fd = std::strtol(argv[2], &end, 10);
        if (end == argv[2] || *end != '\0' || fd < 0 || fd > 1024 ||
            ::fcntl(static_cast<int>(fd), F_GETFD) < 0) {
            std::cerr << kProgram << "--fd needs an open descriptor\n";
            return 2;
        }
        ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
        return serve_handed_over(static_cast<int>(fd));
    }
    if (argc == 1) {
        const char* pid = std::getenv("LISTEN_PID");
        const char* fds = std::getenv("LISTEN_FDS");
        if (pid == nullptr || fds == nullptr || std::to_string(::getpid()) != pid ||
            std::string(fds) != "1") {
            std::cerr
                << kProgram
                << "no socket from systemd (pam-passwordless-pool.socket); the helper starts this program "
                   "itself when it has no such socket\n";
            return 2;
        }
        ::unsetenv("LISTEN_PID");
        ::unsetenv("LISTEN_FDS");
        ::unsetenv("LISTEN_FDNAMES");
        constexpr int kFirst = 3;  // SD_LISTEN_FDS_START
        ::fcntl(kFirst, F_SETFD, FD_CLOEXEC);
        return serve_listening(kFirst);
    }
    std::cerr << "usage: pam-passwordless-pool [--fd N]   (started by pam-passwordless-helper or systemd)\n";
    return 2;
}
