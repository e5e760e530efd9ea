// The worker's pause (pool::Op::Pause): the end of a decoy login's wait, answered by the worker as a real
// request's wait is (helper/pool_latency.hpp). It contacts no pool, lasts the time asked, never outlasts the
// caller's time left, and its answer holds nothing but that it ended.
#include <gtest/gtest.h>

#include <chrono>

#include "pool_protocol.hpp"
#include "worker.hpp"

namespace pp::pool {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Request pause_request(std::uint32_t pause_us, std::uint32_t time_left_ms) {
    Request q;
    q.op = Op::Pause;
    // An address nothing answers at: a pause that tried the pool would report a contact or a failure.
    q.settings.api_url = "https://127.0.0.1:1/";
    q.settings.client_id = "client1";
    q.settings.request_timeout_ms = 5000;
    q.time_left_ms = time_left_ms;
    q.pause_us = pause_us;
    return q;
}

TEST(WorkerPause, LastsTheTimeAskedAndContactsNoPool) {
    const auto began = Clock::now();
    const Reply r = carry_out(pause_request(150'000, 10'000));
    const auto took = Clock::now() - began;
    EXPECT_GE(took, 150ms);
    EXPECT_FALSE(r.error);
    EXPECT_TRUE(r.contacts.empty());
    EXPECT_FALSE(r.step);
    // What root reads of it: an answer and nothing more.
    const Reply back = decode_reply(encode_reply(r).view(), Op::Pause);
    EXPECT_FALSE(back.error);
    EXPECT_TRUE(back.contacts.empty());
}

TEST(WorkerPause, NeverOutlastsTheCallersTimeLeft) {
    const auto began = Clock::now();
    const Reply r = carry_out(pause_request(60'000'000, 100));
    const auto took = Clock::now() - began;
    EXPECT_GE(took, 100ms);
    EXPECT_LT(took, 30s) << "a pause of a minute asked with 100 ms left lasted the minute";
    EXPECT_FALSE(r.error);
}

TEST(WorkerPause, OfNothingAnswersAtOnce) {
    const Reply r = carry_out(pause_request(0, 10'000));
    EXPECT_FALSE(r.error);
    EXPECT_TRUE(r.contacts.empty());
}

}  // namespace
}  // namespace pp::pool
