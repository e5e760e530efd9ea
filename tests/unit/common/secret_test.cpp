#include "secret.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace pp {
namespace {

// A Secret built in many appends (a frame's fields, a response's chunks) grows by doubling: each growth
// copies what it held and wipes the old buffer, so growing by exactly what each append needs would copy
// the bytes again at every append.
TEST(Secret, AppendsGrowTheBufferByDoubling) {
    Secret s;
    std::set<std::size_t> capacities;
    std::string expected;
    for (int i = 0; i < 4096; ++i) {
        const char c = static_cast<char>('a' + i % 26);
        s.append(std::string_view(&c, 1));
        expected.push_back(c);
        capacities.insert(s.capacity());
    }
    EXPECT_EQ(s.view(), expected);
    EXPECT_LE(capacities.size(), 14u) << "one growth per doubling from the small-string buffer to 4096";
}

TEST(Secret, AReserveOrAnAppendThatFitsKeepsTheBuffer) {
    Secret s;
    s.reserve(100);
    const std::size_t room = s.capacity();
    ASSERT_GE(room, 100u);
    s.append(std::string(100, 'x'));
    EXPECT_EQ(s.capacity(), room);
    s.append("y");
    EXPECT_GE(s.capacity(), 2 * room) << "past it, doubled";
    EXPECT_EQ(s.view(), std::string(100, 'x') + "y");
}

}  // namespace
}  // namespace pp
