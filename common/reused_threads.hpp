// Threads that serve one piece of work after another: the helper's logins (helper/server.cpp) and the network
// worker's requests (pool_worker/main.cpp).
//
// A thread that ends its work waits a while for the next instead of ending: starting a thread costs a clone,
// a fresh stack's page faults and OpenSSL's per-thread state (its random generators) again, which at hundreds
// of logins a second was a tenth of the helper's CPU, and in the worker (a thread per request) doubled the
// CPU of a code login. As many as a busy machine has logins in flight stay idle (max_idle: at 200 logins in
// flight, 16 kept threads meant some 180 started and ended every 200 logins, a fifth of the root process's
// CPU), and leave after idle_for; each idle one holds the part of its stack a login uses (some 70 KiB, the
// rest is given back by the wipe). Work that finds no idle thread gets a new one, so a flood of parked logins
// still costs one thread each and nothing waits for a thread. Between two pieces of work a thread wipes what
// the first left on its stack (spent_stack.hpp): codes, sessions and tokens pass through it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace pp {

class ReusedThreads : public std::enable_shared_from_this<ReusedThreads> {
  public:
    struct Options {
        std::size_t stack_size = 512 * 1024;
        // The thread's name while it works and while it waits (/proc/PID/task/*/comm, at most 15 characters):
        // tests and benches wait for no thread to be working.
        std::string busy_name;
        std::string idle_name;
        std::size_t max_idle = 256;
        std::chrono::seconds idle_for{30};
        // Called on the thread just before it ends (OpenSSL's per-thread state freed, for one).
        std::function<void()> at_exit;
    };

    explicit ReusedThreads(Options options) : options_(std::move(options)) {}

    // False when the system has no thread to give; the work is then not run.
    bool start(std::function<void()> work);

    // Sends the idle threads away and waits (up to `limit`) for every thread to be gone, so that none is
    // still freeing its per-thread state while the process exits.
    void stop(std::chrono::milliseconds limit);

  private:
    using Work = std::unique_ptr<std::function<void()>>;
    void serve(Work work);

    const Options options_;
    std::mutex mutex_;
    std::condition_variable wake_, ended_;
    std::deque<Work> queue_;
    std::size_t waiting_ = 0;  // threads idle, waiting for work
    std::size_t live_ = 0;     // all threads
    bool stopping_ = false;
};

}  // namespace pp
