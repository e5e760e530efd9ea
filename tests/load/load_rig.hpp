// Many logins at once through one helper: the users, the user pool they live in, and a runner that gives
// every login a process of its own, as sshd does. Shared by the load test and the benchmark driver, so both
// measure the same thing.
//
// The logins use the real libpam without pam_wrapper: pam_wrapper 1.1.4 sets itself up again in every forked
// process that calls PAM, each time in one of only 62 directories /tmp/pam.? shared by the whole machine, so
// 200 processes at once cannot all get one. Instead the process moves into a mount namespace of its own in
// which a directory of ours is bind-mounted over /etc/pam.d (nothing changes outside this process tree).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "login_harness.hpp"

namespace pp::load {

namespace fs = std::filesystem;

// user<i>, with an email address of their own whose masked form ("a***@b***") no other user shares (for up to
// 676 users), and a fixed `sub`, so a login's audit line can be matched to the right person.
struct LoadUser {
    std::string name;
    std::string email;
    std::string masked;  // as the code prompt shows it
    std::string sub;
};

std::vector<LoadUser> load_users(int count);

// Moves this process (and the children it starts afterwards) into a private mount namespace in which `dir`
// is /etc/pam.d. Needs root; throws std::runtime_error naming the step that failed.
void private_pam_dir(const fs::path& dir);
// A user pool for tests/cognito_standin with these users, the client "testclient123" and its secret.
std::string pool_json(const std::vector<LoadUser>& users);
// The helper's identity map: "user<i> <email>".
std::string identity_map(const std::vector<LoadUser>& users);

// The newest code the stand-in "sent" to `destination` (its outbox.jsonl).
std::optional<std::string> latest_code(const fs::path& outbox, const std::string& destination);

struct LoginOutcome {
    int user = -1;            // index into the users
    int pam_code = -1;        // -1: the child did not report (crashed, killed)
    bool own_prompt = false;  // every code prompt named this user's own masked address
    std::string prompt;       // the first code prompt seen
    double seconds = 0;       // pam_authenticate, start to end, measured in the child
    // From the start of pam_authenticate to the helper's first message reaching the conversation (the first
    // prompt); -1 when there was none.
    double first_answer_seconds = -1;
};

struct RunOptions {
    std::string service;              // the PAM service (file in PAM_WRAPPER_SERVICE_DIR)
    fs::path outbox;                  // the stand-in's outbox.jsonl
    fs::path work;                    // where the children leave their results
    std::size_t concurrency = 0;      // logins in flight at most; 0 = all at once, released together
    std::chrono::seconds limit{120};  // then the children left are killed and count as failed
    // How long the person takes to answer the first prompt (the offer of the code): what a person reading it
    // gives the helper to prepare the rest (bench/cold_start.py).
    std::chrono::milliseconds think{0};
};

// Runs one login for each index in `who`, each in a forked child that answers its code prompt with the code
// the stand-in sent to that user's address. Every child is reaped before this returns. Outcomes are in the
// order of `who`. The service must be findable by libpam (see private_pam_dir).
std::vector<LoginOutcome> run_logins(const std::vector<LoadUser>& users, const std::vector<int>& who,
                                     const RunOptions& options);

// From /proc/<pid>/status, in KiB and threads.
long vm_rss_kib(pid_t pid);
int thread_count(pid_t pid);

// The user-pool stand-in with a pool file of our own (the harness's StandIn always loads the test pool),
// started in `dir`; gone with the object.
class PoolStandIn {
  public:
    PoolStandIn(const fs::path& dir, const fs::path& pool);
    [[nodiscard]] std::string pool_section(const fs::path& secret) const;
    [[nodiscard]] fs::path outbox() const { return dir_ / "outbox.jsonl"; }

  private:
    fs::path dir_;
    test::Process proc_;
    int port_ = 0;
};

}  // namespace pp::load
