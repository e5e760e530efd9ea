#include "reused_threads.hpp"

#include <pthread.h>

#include <utility>

#include "spent_stack.hpp"

namespace pp {

bool ReusedThreads::start(std::function<void()> work) {
    auto owned = std::make_unique<std::function<void()>>(std::move(work));
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return false;
        if (waiting_ > queue_.size()) {
            queue_.push_back(std::move(owned));
            wake_.notify_one();
            return true;
        }
        ++live_;
    }
    struct Start {
        std::shared_ptr<ReusedThreads> pool;
        Work first;
    };
    auto start = std::make_unique<Start>(Start{shared_from_this(), std::move(owned)});
    pthread_attr_t attr;
    int r = pthread_attr_init(&attr);
    if (r == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, options_.stack_size);
        pthread_t t;
        r = pthread_create(
            &t, &attr,
            [](void* arg) -> void* {
                std::unique_ptr<Start> s(static_cast<Start*>(arg));
                auto pool = std::move(s->pool);
                Work first = std::move(s->first);
                s.reset();
                pool->serve(std::move(first));
                return nullptr;
            },
            start.get());
        pthread_attr_destroy(&attr);
    }
    // The thread owns its first work from here on; when it could not start, `start` frees it.
    if (r == 0) {
        static_cast<void>(start.release());
        return true;
    }
    std::lock_guard lock(mutex_);
    --live_;
    ended_.notify_all();
    return false;
}

void ReusedThreads::stop(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
    ended_.wait_for(lock, limit, [&] { return live_ == 0; });
}

void ReusedThreads::serve(Work work) {
    for (;;) {
        pthread_setname_np(pthread_self(), options_.busy_name.c_str());
        (*work)();
        work.reset();
        wipe_spent_stack();
        pthread_setname_np(pthread_self(), options_.idle_name.c_str());
        std::unique_lock lock(mutex_);
        if (stopping_ || waiting_ >= options_.max_idle) break;
        ++waiting_;
        wake_.wait_for(lock, options_.idle_for, [&] { return stopping_ || !queue_.empty(); });
        --waiting_;
        if (queue_.empty()) break;
        work = std::move(queue_.front());
        queue_.pop_front();
    }
    if (options_.at_exit) options_.at_exit();
    std::lock_guard lock(mutex_);
    --live_;
    ended_.notify_all();
}

}  // namespace pp
