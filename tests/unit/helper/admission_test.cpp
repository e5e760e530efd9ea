// The admission rules (helper/admission.hpp): which pool a login takes, the fair share of a source network,
// and how networks are told apart.
#include "admission.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "syslog_capture.hpp"
#include "test_dir.hpp"

namespace pp::helper {
namespace {

AdmissionLimits limits(int local, int remote, int per_caller = 16) {
    return {local, remote, per_caller, std::chrono::seconds(60)};
}

TEST(SourceNetwork, Ipv4CountsAsItsSlash24) {
    EXPECT_EQ(source_network("192.0.2.77"), "192.0.2.0/24");
    EXPECT_EQ(source_network("192.0.2.1"), source_network("192.0.2.254"));
    EXPECT_NE(source_network("192.0.2.1"), source_network("192.0.3.1"));
}

TEST(SourceNetwork, Ipv4MappedIpv6CountsAsIpv4) {
    EXPECT_EQ(source_network("::ffff:192.0.2.77"), "192.0.2.0/24");
}

TEST(SourceNetwork, Ipv6CountsAsItsSlash64) {
    EXPECT_EQ(source_network("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
    EXPECT_EQ(source_network("2001:db8:1:2::9"), source_network("2001:db8:1:2:ffff::1"));
    EXPECT_NE(source_network("2001:db8:1:2::9"), source_network("2001:db8:1:3::9"));
    EXPECT_EQ(source_network("fe80::1%eth0"), "fe80::/64");
}

TEST(SourceNetwork, HostNameIsANetworkOfItsOwn) {
    EXPECT_EQ(source_network("Shell.Example.COM"), "host shell.example.com");
    EXPECT_NE(source_network("a.example.com"), source_network("b.example.com"));
}

// Review 31a: an IPv6 /48 is one site's 65 536 networks; an IPv4 /24 and a host name have no wider site.
TEST(SourceSite, Ipv6CountsAsItsSlash48AndNothingElseHasOne) {
    EXPECT_EQ(source_site("2001:db8:77:1::1"), "2001:db8:77::/48");
    EXPECT_EQ(source_site("2001:db8:77:ffff:1:2:3:4"), source_site("2001:db8:77:0::9"));
    EXPECT_NE(source_site("2001:db8:77::1"), source_site("2001:db8:78::1"));
    EXPECT_EQ(source_site("fe80::1%eth0"), "fe80::/48");
    EXPECT_EQ(source_site("192.0.2.7"), "");
    EXPECT_EQ(source_site("::ffff:192.0.2.7"), "");
    EXPECT_EQ(source_site("shell.example.com"), "");
}

TEST(FairShare, LeavesAShareForANetworkNotYetSeen) {
    EXPECT_EQ(fair_share(4096, 1), 2048);
    EXPECT_EQ(fair_share(4096, 20), 195);
    EXPECT_EQ(fair_share(4, 1), 2);
}

TEST(Admission, RemoteLoginsNeverTakeLocalCapacity) {
    Admission a;
    std::vector<AdmissionTicket> held;
    // Remote logins from many networks until the remote pool refuses.
    for (int i = 0; i < 64; ++i) {
        auto t = a.admit(0, true, "198.51." + std::to_string(i) + ".1", limits(2, 8));
        if (t.admitted()) held.push_back(std::move(t));
    }
    EXPECT_EQ(held.size(), 8u);
    auto local1 = a.admit(0, false, "", limits(2, 8));
    auto local2 = a.admit(0, false, "", limits(2, 8));
    EXPECT_TRUE(local1.admitted());
    EXPECT_TRUE(local2.admitted());
    EXPECT_FALSE(a.admit(0, false, "", limits(2, 8)).admitted()) << "the local pool has its own size";
}

// su and sudo run their logins as root for a user (PAM_RUSER): one such user takes at most a fair share of
// the local pool, and logins that run for nobody (the console's) are capped by the pool alone.
TEST(Admission, LocalLoginsForOneUserTakeAFairShareOfTheLocalPool) {
    Admission a;
    std::vector<AdmissionTicket> held;
    for (int i = 0; i < 8; ++i) {
        auto t = a.admit(0, false, "", limits(8, 8), "mallory");
        if (t.admitted()) held.push_back(std::move(t));
    }
    EXPECT_EQ(held.size(), 4u) << "fair_share(8, 1)";
    auto admin = a.admit(0, false, "", limits(8, 8), "admin");
    EXPECT_TRUE(admin.admitted());
    auto console = a.admit(0, false, "", limits(8, 8));
    EXPECT_TRUE(console.admitted());
    EXPECT_EQ(Admission::log_source(0, false, "", "mallory"), "uid 0 for mallory");
    // With admin in too, mallory's share is 8 / 3: what it holds past that is kept, and nothing more given.
    held.pop_back();
    EXPECT_FALSE(a.admit(0, false, "", limits(8, 8), "mallory").admitted());
    // admin's login ends: the share is 8 / 2 again, and the slot mallory gave back is theirs again.
    admin = {};
    EXPECT_TRUE(a.admit(0, false, "", limits(8, 8), "mallory").admitted());
}

// chsh, chfn and passwd set no PAM_RUSER and authenticate the person who runs them: their logins take that
// person's fair share, the one the su and sudo they run count in too, and never root's or another user's.
TEST(Admission, LocalLoginsWithoutARuserTakeTheFairShareOfTheirUser) {
    Admission a;
    std::vector<AdmissionTicket> held;
    for (int i = 0; i < 8; ++i) {
        auto t = a.admit(0, false, "", limits(8, 8), "", "mallory");
        if (t.admitted()) held.push_back(std::move(t));
    }
    EXPECT_EQ(held.size(), 4u) << "fair_share(8, 1)";
    EXPECT_FALSE(a.admit(0, false, "", limits(8, 8), "mallory", "root").admitted())
        << "su root run by mallory counts in her share, which her chsh logins hold";
    auto root_sudo = a.admit(0, false, "", limits(8, 8), "root", "root");
    EXPECT_TRUE(root_sudo.admitted());
    auto console = a.admit(0, false, "", limits(8, 8), "", "alice");
    EXPECT_TRUE(console.admitted());
    EXPECT_EQ(Admission::log_source(0, false, "", "", "mallory"), "uid 0 for mallory");
    EXPECT_EQ(Admission::local_share("", "mallory", "root"), Admission::local_share("", "", "mallory"));
    EXPECT_EQ(Admission::local_share("", "", ""), "") << "a request that names no one: the pool alone";
}

// A loopback login the admin counts as local comes through sshd, whose client names any user it likes: its
// logins share by source network, not by the names tried.
TEST(Admission, LoopbackLoginsCountedAsLocalShareByNetworkWhateverTheNames) {
    Admission a;
    std::vector<AdmissionTicket> held;
    for (int i = 0; i < 8; ++i) {
        auto t = a.admit(0, false, "127.0.0.1", limits(8, 8), "", "name" + std::to_string(i));
        if (t.admitted()) held.push_back(std::move(t));
    }
    EXPECT_EQ(held.size(), 4u) << "fair_share(8, 1)";
    EXPECT_TRUE(a.admit(0, false, "", limits(8, 8), "", "name0").admitted()) << "the console's name0";
    EXPECT_EQ(Admission::log_source(0, false, "127.0.0.1", "", "name0"), "uid 0 from network 127.0.0.0/24");
}

TEST(Admission, NoNetworkHoldsMoreThanItsFairShare) {
    Admission a;
    const auto lim = limits(4, 4);
    auto a1 = a.admit(0, true, "192.0.2.1", lim);
    auto a2 = a.admit(0, true, "192.0.2.2", lim);
    EXPECT_TRUE(a1.admitted() && a2.admitted());
    EXPECT_FALSE(a.admit(0, true, "192.0.2.3", lim).admitted()) << "4 / (1 + 1) = 2 for a network alone";
    auto b1 = a.admit(0, true, "2001:db8::1", lim);
    EXPECT_TRUE(b1.admitted()) << "a newcomer finds the share kept free";
    EXPECT_FALSE(a.admit(0, true, "192.0.2.4", lim).admitted());
    // A network's logins ending give its slots back.
    a1 = AdmissionTicket();
    a2 = AdmissionTicket();
    EXPECT_TRUE(a.admit(0, true, "192.0.2.5", lim).admitted());
}

TEST(Admission, NonRootCallersHaveTheirOwnPoolAndPerCallerCap) {
    Admission a;
    EXPECT_TRUE(a.open(1000, 2, 100));
    EXPECT_TRUE(a.open(1000, 2, 100));
    EXPECT_FALSE(a.open(1000, 2, 100)) << "max_concurrent_per_caller applies to a non-root caller";
    EXPECT_TRUE(a.open(1001, 2, 100));
    for (int i = 0; i < 50; ++i) EXPECT_TRUE(a.open(0, 2, 100)) << "not to root's logins";
    EXPECT_FALSE(a.close(1000));
    EXPECT_TRUE(a.open(1000, 2, 100));

    const auto lim = limits(1, 8);
    auto mine = a.admit(1000, false, "", lim);
    EXPECT_TRUE(mine.admitted());
    EXPECT_FALSE(a.admit(1001, false, "", lim).admitted()) << "non-root callers share one pool";
    EXPECT_TRUE(a.admit(0, false, "", lim).admitted()) << "which is not root's local pool";
}

// A summary line gives the count and the distinct reasons behind it (a few, then "and others"): a flood of
// requests that never began a login shows what they were without a line each.
TEST(RefusalLog, ASummaryNamesTheCountAndTheDistinctReasons) {
    test::TestDir dir;
    test::SyslogCapture log(dir);
    RefusalLog refusals;
    const std::chrono::seconds every(60);
    const std::string closed = "client connection: peer closed the connection";
    refusals.refused("uid 1000", closed, every);
    for (int i = 0; i < 3; ++i) refusals.refused("uid 1000", "protocol: malformed begin: x", every);
    refusals.refused("uid 1000", closed, every);
    for (int i = 0; i < 6; ++i) refusals.refused("uid 1000", "reason " + std::to_string(i), every);
    EXPECT_EQ(log.count("refused a request from uid 1000: " + closed), 1) << log.text();
    EXPECT_EQ(log.count("more requests"), 0) << "counted, not logged, within the interval";
    refusals.flush(true);
    EXPECT_EQ(
        log.count("refused 10 more requests from uid 1000 in the last 0 s: protocol: malformed begin: x; " +
                  closed + "; reason 0; reason 1; and others"),
        1)
        << log.text();
}

TEST(Admission, RefusalsAreCountedPerSource) {
    EXPECT_EQ(Admission::log_source(0, true, "192.0.2.9"), "network 192.0.2.0/24");
    EXPECT_EQ(Admission::log_source(0, false, ""), "uid 0");
    EXPECT_EQ(Admission::log_source(0, false, "", "", "alice"), "uid 0 for alice");
    EXPECT_EQ(Admission::log_source(1000, false, "", "mallory", "alice"), "uid 1000");
    EXPECT_EQ(Admission::log_source(1000, true, "192.0.2.9"), "uid 1000");
}

}  // namespace
}  // namespace pp::helper
