#include "spent_stack.hpp"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace pp {

namespace {

// The thread's stack, found at its first wipe: pthread_getattr_np asks the kernel for the thread's CPU
// affinity every time (a system call per login in the helper, per request in the worker).
struct Stack {
    void* low = nullptr;
    std::size_t size = 0;
};
thread_local Stack this_stack;

}  // namespace

[[gnu::noinline]] void wipe_spent_stack() {
    if (this_stack.size == 0) {
        pthread_attr_t attr;
        if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
        Stack found;
        const bool known = pthread_attr_getstack(&attr, &found.low, &found.size) == 0;
        pthread_attr_destroy(&attr);
        if (!known) return;
        this_stack = found;
    }
    void* const low = this_stack.low;
    const std::size_t size = this_stack.size;
    constexpr std::uintptr_t kPage = 4096, kNear = 64 * 1024, kMargin = 32 * 1024;
    const auto here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    const auto base = reinterpret_cast<std::uintptr_t>(low);
    if (here > base + size || here < base + kMargin + kNear + kPage) return;
    const std::uintptr_t released_from = (base + kMargin + kPage - 1) & ~(kPage - 1);
    const std::uintptr_t released_to = (here - kNear) & ~(kPage - 1);
    if (released_to > released_from)
        ::madvise(reinterpret_cast<void*>(released_from), released_to - released_from, MADV_DONTNEED);
    const std::size_t near = here - released_to - 512;
    auto* spent = static_cast<char*>(__builtin_alloca(near));
    explicit_bzero(spent, near);
}

}  // namespace pp
