// helper/pool_client.hpp WorkerLink: the connections to the network worker kept between requests.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>

#include "pool_client.hpp"

namespace pp::helper {
namespace {

using namespace std::chrono_literals;

struct Pair {
    int ours = -1, theirs = -1;
    Pair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
            throw std::runtime_error("socketpair");
        ours = fds[0];
        theirs = fds[1];
    }
    ~Pair() { ::close(theirs); }
    // Whether the helper's end was closed, as the worker sees it: its read ends at once with nothing.
    [[nodiscard]] bool closed_by_the_helper() const {
        char c;
        return ::recv(theirs, &c, 1, MSG_DONTWAIT) == 0;
    }
};

// A burst leaves up to kMaxKept connections: the helper's main loop closes those whose time has passed while
// it is idle (server.cpp), and keeps the others for the next request, which takes them.
TEST(WorkerLink, KeptConnectionsPastTheirTimeAreClosedAndTheOthersKept) {
    const auto link = WorkerLink::at_socket("/nonexistent/pool.sock");
    Pair soon, later;
    const auto start = std::chrono::steady_clock::now();
    link->keep(UniqueFd(soon.ours), 2s);    // kept for half of it: 1 s
    link->keep(UniqueFd(later.ours), 60s);  // 30 s
    EXPECT_FALSE(soon.closed_by_the_helper());

    EXPECT_TRUE(link->close_expired(start + 5s));
    EXPECT_TRUE(soon.closed_by_the_helper());
    EXPECT_FALSE(later.closed_by_the_helper());
    EXPECT_EQ(errno, EAGAIN);

    // The one left is what the next request takes.
    const UniqueFd taken = link->take();
    ASSERT_TRUE(taken);
    EXPECT_FALSE(link->close_expired(start + 5s));
}

TEST(WorkerLink, WithNothingKeptThereIsNothingToClose) {
    const auto link = WorkerLink::at_socket("/nonexistent/pool.sock");
    EXPECT_FALSE(link->close_expired(std::chrono::steady_clock::now()));
    Pair one;
    link->keep(UniqueFd(one.ours), 60s);
    EXPECT_FALSE(link->close_expired(std::chrono::steady_clock::now() + 31s));
    EXPECT_TRUE(one.closed_by_the_helper());
}

}  // namespace
}  // namespace pp::helper
