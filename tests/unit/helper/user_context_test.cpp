#include "user_context.hpp"

#include <gtest/gtest.h>

namespace pp::helper {
namespace {

std::optional<std::string> sent(std::string_view rhost) {
    return user_context_for(rhost).ip_address;
}

TEST(UserContext, AnAddressOfAnotherHostIsSentInCanonicalForm) {
    EXPECT_EQ(sent("198.51.100.7"), "198.51.100.7");
    EXPECT_EQ(sent("10.0.0.1"), "10.0.0.1");
    EXPECT_EQ(sent("2001:DB8:0:0:0:0:0:7"), "2001:db8::7");
    EXPECT_EQ(sent("[2001:db8::8]"), "2001:db8::8");
    EXPECT_EQ(sent("::ffff:203.0.113.9"), "203.0.113.9");
}

// A local login, the end of a tunnel on this machine, and anything that is not an address send nothing.
TEST(UserContext, NothingForLocalLoopbackNamesOrJunk) {
    for (const char* rhost :
         {"", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1", "localhost", "LOCALHOST.",
          "client.example.net", "198.51.100.7x", "198.51.100", "0x7f.1", "fe80::1%eth0", "[2001:db8::8",
          "2001:db8::8]", " 198.51.100.7", "198.51.100.7\n"})
        EXPECT_FALSE(sent(rhost)) << rhost;
}

}  // namespace
}  // namespace pp::helper
