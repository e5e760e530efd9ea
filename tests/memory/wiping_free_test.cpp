// helper/wiping_free.cpp: every block freed (or moved by realloc) is wiped before glibc gets it back. Checked
// from outside: a child process frees marked blocks and the parent reads the child's memory.
#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "process_memory.hpp"

namespace pp::test {
namespace {

// The byte at `i` of marker `kind`: computed where it is written, so that the child holds a marker only in
// the block under test (a copy in a variable would be found instead).
char marker_byte(int kind, std::size_t i) {
    if (i % 16 < 6) return "WIPED-"[i % 16];
    if (i % 16 == 6) return static_cast<char>('A' + kind);
    return static_cast<char>('a' + (i * 7 + static_cast<std::size_t>(kind) * 13) % 26);
}
// Through volatile: stores into a block that is freed next are dead to the optimiser, which would drop them.
void write_marker(void* block, int kind, std::size_t length) {
    volatile char* bytes = static_cast<char*>(block);
    for (std::size_t i = 0; i < length; ++i) bytes[i] = marker_byte(kind, i);
}
std::string marker(int kind, std::size_t length) {
    std::string out(length, '\0');
    for (std::size_t i = 0; i < length; ++i) out[i] = marker_byte(kind, i);
    return out;
}

enum Kind { kSmall, kMedium, kCalloc, kReallocMoved, kString, kStrdup, kLive, kKinds };
constexpr std::size_t kLength = 80;
// glibc keeps its free-list links in the first 32 bytes of a freed block (tcache, bins, large-bin size
// links), over the marker's start: the rest is what an unwiped block would still show.
constexpr std::size_t kLinks = 32;

// In the child: leaves marker kLive in a live block and every other marker only in freed memory. Nothing is
// allocated after the frees, so no later block covers a freed one and hides what it held.
[[noreturn]] void child(int ready_fd, int done_fd) {
    // The control: still allocated when the parent looks, so the parent must find it.
    void* live = std::malloc(kLength);
    write_marker(live, kLive, kLength);

    void* small = std::malloc(kLength);
    write_marker(small, kSmall, kLength);
    void* medium = std::malloc(4000);
    write_marker(medium, kMedium, kLength);
    void* zeroed = std::calloc(1, 600);
    write_marker(zeroed, kCalloc, kLength);
    auto text = std::make_unique<std::string>(200, 'x');
    write_marker(text->data(), kString, kLength);
    char* source = static_cast<char*>(std::malloc(kLength + 1));
    write_marker(source, kStrdup, kLength);
    source[kLength] = '\0';
    char* copy = ::strdup(source);
    std::memset(source, 0, kLength);

    // Grown until it has to move: the old block must be wiped although the caller never frees it.
    char* moving = static_cast<char*>(std::malloc(kLength));
    write_marker(moving, kReallocMoved, kLength);
    const auto old = reinterpret_cast<std::uintptr_t>(moving);
    const auto moved = [&] { return reinterpret_cast<std::uintptr_t>(moving) != old; };
    for (std::size_t size = 2 * kLength; !moved() && size < (1u << 20); size *= 2) {
        char* bigger = static_cast<char*>(std::realloc(moving, size));
        if (bigger == nullptr) ::_exit(3);
        moving = bigger;
    }
    if (!moved()) ::_exit(4);
    // The caller is done with the contents; the block itself stays allocated.
    std::memset(moving, 0, kLength);

    std::free(small);
    std::free(medium);
    std::free(zeroed);
    text.reset();
    std::free(copy);

    const char byte = 1;
    if (::write(ready_fd, &byte, 1) != 1) ::_exit(5);
    char ignored;
    while (::read(done_fd, &ignored, 1) > 0) {
    }
    ::_exit(0);
}

TEST(WipingFree, FreedAndMovedBlocksAreWipedLiveOnesAreNot) {
    int ready[2], done[2];
    ASSERT_EQ(::pipe(ready), 0);
    ASSERT_EQ(::pipe(done), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(ready[0]);
        ::close(done[1]);
        child(ready[1], done[0]);
    }
    ::close(ready[1]);
    ::close(done[0]);
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1) << "the child did not get ready";

    std::vector<Needle> needles;
    const char* names[] = {"small block",        "medium block", "calloc block", "block moved by realloc",
                           "std::string buffer", "strdup copy",  "live block"};
    for (int kind = 0; kind < kKinds; ++kind)
        needles.push_back({names[kind], marker(kind, kLength).substr(kLinks)});
    std::vector<MemoryHit> hits;
    std::string error;
    try {
        hits = find_in_memory(pid, needles);
    } catch (const std::exception& e) {
        error = e.what();
    }
    ::close(done[1]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ::close(ready[0]);
    ASSERT_TRUE(error.empty()) << error;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

    bool live_found = false;
    for (const auto& hit : hits) {
        if (hit.needle_name == names[kLive]) live_found = true;
        // What is checked here is the heap; the optimiser may leave a marker it built in a register spilled
        // to the main stack (the helper's memory as a whole is checked by KeptSecrets).
        else if (hit.mapping.find("[stack]") == std::string::npos)
            ADD_FAILURE() << hit.needle_name << " still in memory at " << std::hex << hit.address << " "
                          << hit.mapping;
    }
    EXPECT_TRUE(live_found) << "the scan does not see the child's heap";
}

TEST(WipingFree, ReallocKeepsContentsAndFollowsItsContract) {
    char* block = static_cast<char*>(std::realloc(nullptr, 16));
    ASSERT_NE(block, nullptr);
    std::memcpy(block, "0123456789abcde", 16);
    block = static_cast<char*>(std::realloc(block, 100000));
    ASSERT_NE(block, nullptr);
    EXPECT_STREQ(block, "0123456789abcde");
    EXPECT_GE(malloc_usable_size(block), 100000u);
    block = static_cast<char*>(std::realloc(block, 8));
    ASSERT_NE(block, nullptr);
    EXPECT_EQ(std::memcmp(block, "01234567", 8), 0);
    EXPECT_EQ(std::realloc(block, 0), nullptr);  // frees, as glibc's does

    errno = 0;
    // volatile: the compiler would refuse the overflowing product it can see.
    volatile std::size_t huge = SIZE_MAX / 2;
    EXPECT_EQ(::reallocarray(nullptr, huge, 4), nullptr);
    EXPECT_EQ(errno, ENOMEM);
    int* numbers = static_cast<int*>(::reallocarray(nullptr, 10, sizeof(int)));
    ASSERT_NE(numbers, nullptr);
    for (int i = 0; i < 10; ++i) numbers[i] = i;
    numbers = static_cast<int*>(::reallocarray(numbers, 1000, sizeof(int)));
    ASSERT_NE(numbers, nullptr);
    EXPECT_EQ(numbers[9], 9);
    std::free(numbers);
    std::free(nullptr);
}

}  // namespace
}  // namespace pp::test
