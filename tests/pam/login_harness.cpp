#include "login_harness.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cctype>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

extern "C" {
#include <libpamtest.h>
}

#include <gtest/gtest.h>

namespace pp::test {

fs::path fresh_dir(const std::string& name) {
    const fs::path p = fs::path(PP_RUN_DIR) / name;
    fs::remove_all(p);
    fs::create_directories(p);
    fs::permissions(p, fs::perms(0755));
    return p;
}

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_text(const fs::path& p, const std::string& text, fs::perms mode) {
    // Test processes run side by side and write the same service files: a temporary name of this process's
    // own, outside the service directory that pam_wrapper copies from, then an atomic rename.
    const fs::path tmp =
        fs::path(PP_RUN_DIR) / (p.filename().string() + ".tmp." + std::to_string(::getpid()));
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    fs::permissions(tmp, mode);
    fs::rename(tmp, p);
}

Env operator+(Env a, const Env& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

bool contains_word(const std::string& haystack, const std::string& needle) {
    const auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    for (auto at = haystack.find(needle); !needle.empty() && at != std::string::npos;
         at = haystack.find(needle, at + 1)) {
        const auto end = at + needle.size();
        if ((at == 0 || !alnum(haystack[at - 1])) && (end == haystack.size() || !alnum(haystack[end])))
            return true;
    }
    return false;
}

std::string short_name(std::string_view prefix, const std::string& key) {
    std::uint32_t h = 2166136261u;
    for (const unsigned char c : key) h = (h ^ c) * 16777619u;
    char buf[16];
    std::snprintf(buf, sizeof buf, "-%08x", h);
    return std::string(prefix) + buf;
}

std::unique_ptr<StandIn> StandInTest::standin_;
fs::path StandInTest::standin_dir_;

void StandInTest::SetUpTestSuite() {
    if (::geteuid() != 0) return;
    standin_dir_ = fresh_dir("standin-" + std::to_string(::getpid()));
    standin_ = std::make_unique<StandIn>(standin_dir_);
}

void StandInTest::TearDownTestSuite() {
    standin_.reset();
    if (!standin_dir_.empty()) fs::remove_all(standin_dir_);
}

void StandInTest::SetUp() {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: the helper trusts only root-owned files and sockets";
    standin_->clear_control();
    dir_ = fresh_dir(test_dir().filename());
    write_text(dir_ / "test-name", test_key() + "\n");
    service_ = test_service();
}

std::string preload_entry(const std::string& libraries) {
    const char* asan = std::getenv("PP_ASAN_RUNTIME");
    return "LD_PRELOAD=" + (asan != nullptr && *asan != '\0' ? std::string(asan) + ":" : std::string()) +
           libraries;
}

std::vector<std::string> with_local_accounts(const std::vector<std::string>& argv, const fs::path& dir,
                                             const std::vector<std::string>& extra) {
    std::string passwd =
        "root:x:0:0:root:/root:/bin/sh\n"
        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
        "backup:x:34:34:backup:/var/backups:/usr/sbin/nologin\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
    std::string group = "root:x:0:\ndaemon:x:1:\nbackup:x:34:\nnogroup:x:65534:\n";
    std::vector<std::string> users{"alice", "bob", "carol", "dave", "mallory"};
    users.insert(users.end(), extra.begin(), extra.end());
    for (std::size_t i = 0; i < users.size(); ++i) {
        const std::string id = std::to_string(kAliceUid + i);
        passwd += users[i] + ":x:" + id + ":" + id + "::/nonexistent:/bin/sh\n";
        group += users[i] + ":x:" + id + ":\n";
    }
    write_text(dir / "passwd", passwd);
    write_text(dir / "group", group);
    std::vector<std::string> cmd{"/usr/bin/env", preload_entry(PP_NSS_WRAPPER_LIBRARY),
                                 "NSS_WRAPPER_PASSWD=" + (dir / "passwd").string(),
                                 "NSS_WRAPPER_GROUP=" + (dir / "group").string()};
    cmd.insert(cmd.end(), argv.begin(), argv.end());
    return cmd;
}

std::vector<pid_t> children_of(pid_t parent) {
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(entry.path() / "stat");
        std::string stat;
        if (!std::getline(in, stat)) continue;  // gone since the listing
        // pid (comm) state ppid ...: comm may hold spaces, the last ')' ends it.
        const auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 2));
        std::string state;
        pid_t ppid = 0;
        rest >> state >> ppid;
        if (ppid == parent) out.push_back(static_cast<pid_t>(std::stol(name)));
    }
    return out;
}

int helper_login_threads(pid_t pid) {
    std::error_code ec;
    int busy = 0;
    for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::ifstream comm(task.path() / "comm");
        std::string name;
        if (std::getline(comm, name) && name == "pp-login") ++busy;
    }
    return ec ? -1 : busy;
}

std::vector<std::string> sanitizer_env() {
    std::vector<std::string> env;
    for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"})
        if (const char* value = std::getenv(name)) env.push_back(std::string(name) + "=" + value);
    return env;
}

bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    auto pause = std::chrono::milliseconds(2);
    while (!ready()) {
        if (std::chrono::steady_clock::now() >= end) return false;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
    return true;
}

Process::Process(const std::vector<std::string>& argv, const fs::path& log) {
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        const int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) ::dup2(devnull, 0);
        // The children are the real programs: they must not inherit the test's pam_wrapper preload.
        ::unsetenv("LD_PRELOAD");
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
}

Process::Process(Process&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}

Process& Process::operator=(Process&& o) noexcept {
    if (this != &o) {
        stop();
        pid_ = std::exchange(o.pid_, -1);
    }
    return *this;
}

Process::~Process() {
    stop();
}

void Process::signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
}

bool Process::running() const {
    if (pid_ <= 0) return false;
    // WNOWAIT: look without reaping, so stop() still reaps this child and never signals a reused pid.
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return false;
    return info.si_pid == 0;
}

void Process::stop() {
    (void)stop_within(std::chrono::seconds(15));
}

std::optional<int> Process::stop_within(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return std::nullopt;
    ::kill(pid_, SIGTERM);
    int status = 0;
    const bool ended = wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, limit);
    if (!ended) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
    return ended ? std::optional<int>(status) : std::nullopt;
}

StandIn::StandIn(const fs::path& dir) : StandIn(dir, PP_TEST_POOL) {}

fs::path test_pool_with(const fs::path& path, const std::string& key, const std::string& value) {
    std::string text = read_text(PP_TEST_POOL);
    const std::string quoted = "\"" + key + "\":";
    const auto at = text.find(quoted);
    if (at == std::string::npos) throw std::runtime_error("no " + key + " in " PP_TEST_POOL);
    const auto from = at + quoted.size();
    const auto to = text.find_first_of(",\n}", from);
    text.replace(from, to - from, " " + value);
    write_text(path, text);
    return path;
}

StandIn::StandIn(const fs::path& dir, const fs::path& pool_file) : dir_(dir) {
    fs::remove(dir_ / "ready.json");
    proc_ = Process({"/usr/bin/python3", PP_STANDIN_SCRIPT, "serve", "--state-dir", dir_.string(), "--pool",
                     pool_file.string(), "--host", "127.0.0.1", "--port", "0"},
                    dir_ / "standin.log");
    if (!wait_until([&] { return fs::exists(dir_ / "ready.json"); }))
        throw std::runtime_error("the user-pool stand-in did not get ready: " +
                                 read_text(dir_ / "standin.log"));
    const std::string ready = read_text(dir_ / "ready.json");
    const auto pos = ready.find("\"port\"");
    port_ = std::atoi(ready.c_str() + ready.find(':', pos) + 1);
    if (port_ <= 0) throw std::runtime_error("no port in ready.json: " + ready);
}

StandIn::~StandIn() {
    proc_.stop();
}

std::string StandIn::url() const {
    return "https://127.0.0.1:" + std::to_string(port_) + "/";
}
std::string StandIn::issuer() const {
    return "https://127.0.0.1:" + std::to_string(port_) + "/us-east-1_TestPool";
}

void StandIn::set_control(const std::string& json) const {
    write_text(dir_ / "control.json", json);
}

std::optional<std::string> StandIn::latest_code(const std::string& destination) const {
    std::optional<std::string> code;
    std::istringstream in(read_text(dir_ / "outbox.jsonl"));
    std::string line;
    while (std::getline(in, line)) {
        if (line.find("\"destination\": \"" + destination + "\"") == std::string::npos &&
            line.find("\"destination\":\"" + destination + "\"") == std::string::npos)
            continue;
        auto at = line.find("\"code\"");
        if (at == std::string::npos) continue;
        at = line.find('"', line.find(':', at) + 1);
        const auto end = line.find('"', at + 1);
        code = line.substr(at + 1, end - at - 1);
    }
    return code;
}

std::size_t StandIn::outbox_lines() const {
    const std::string s = read_text(dir_ / "outbox.jsonl");
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

std::string StandIn::requests_log() const {
    return read_text(dir_ / "requests.jsonl");
}

std::string questions_since(const StandIn& standin, std::size_t offset) {
    std::istringstream lines(standin.requests_log().substr(offset));
    std::string out;
    for (std::string line; std::getline(lines, line);)
        if (line.find("\"op\": \"jwks\"") == std::string::npos) out += line + "\n";
    return out;
}

std::vector<std::string> StandIn::issued_secrets() const {
    // Lines are {"time": T, "kind": K, "value": V} with V base64url text (no escapes), value last.
    std::vector<std::string> values;
    std::istringstream in(read_text(dir_ / "issued.jsonl"));
    std::string line;
    const std::string key = "\"value\": \"";
    while (std::getline(in, line)) {
        const auto at = line.find(key);
        if (at == std::string::npos) continue;
        const auto start = at + key.size();
        const auto end = line.find('"', start);
        if (end != std::string::npos) values.push_back(line.substr(start, end - start));
    }
    return values;
}

std::string pool_section(const StandIn& s, const fs::path& dir, bool with_secret) {
    std::string out = "[pool]\npool_id = us-east-1_TestPool\n";
    out += "endpoint = " + s.url() + "\n";
    out += "issuer = " + s.issuer() + "\n";
    out += "ca_file = " + s.ca_file() + "\n";
    if (with_secret) {
        write_text(dir / "client-secret", "s3cr3t-for-the-local-stand-in-only\n", fs::perms(0600));
        out += "client_id = testclient123\nclient_secret_file = " + (dir / "client-secret").string() + "\n";
    } else {
        out += "client_id = publicclient456\n";
    }
    return out;
}

Helper::Helper(const fs::path& dir, const StandIn& standin, const HelperFiles& files,
               const HelperLaunch& launch)
    : dir_(dir), launcher_(launch.launcher), extra_args_(launch.extra_args) {
    if (!launch.program.empty()) program_ = launch.program;
    std::string conf = pool_section(standin, dir, files.with_secret) + files.config;
    if (!files.identities.empty()) {
        write_text(dir / "identities", files.identities);
        if (conf.find("[binding]") == std::string::npos) conf += "\n[binding]\n";
        conf.insert(conf.find("[binding]") + 10, "mapping_file = " + (dir / "identities").string() + "\n");
    }
    if (conf.find("[limits]") == std::string::npos)
        conf += "\n[limits]\nstate_file = " + (dir / "limits").string() + "\n";
    write_text(config_path(), conf);
    start(config_path());
}

Helper::Helper(const fs::path& dir, const fs::path& config_path) : dir_(dir) {
    start(config_path);
}

void Helper::start(const fs::path& config) {
    fs::remove(socket());
    std::vector<std::string> argv = launcher_;
    argv.insert(argv.end(), {program_, "--foreground", "--socket", socket(), "--config", config.string()});
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    proc_ = Process(with_local_accounts(argv, dir_), dir_ / "helper.log");
    if (!wait_until([&] { return fs::exists(socket()) || !proc_.running(); }) || !fs::exists(socket()))
        throw std::runtime_error("the helper did not start: " + log());
    // The socket is bound before the configuration is read: a test that rewrites the file next must not race
    // the first load.
    const auto loaded = [&] {
        const std::string text = log();
        return text.find("configuration loaded from") != std::string::npos ||
               text.find("configuration refused") != std::string::npos;
    };
    if (!wait_until([&] { return loaded() || !proc_.running(); }) || !loaded())
        throw std::runtime_error("the helper did not read its configuration: " + log());
}

Helper::~Helper() {
    stop();
}

void Helper::stop() {
    proc_.stop();
}

std::string Helper::log() const {
    return read_text(dir_ / "helper.log");
}

void Helper::reload() const {
    proc_.signal(SIGHUP);
}

std::string PamRun::all_text() const {
    std::string s;
    for (const auto& t : transcript) s += t.text + "\n";
    return s;
}

std::vector<std::string> PamRun::of_style(std::initializer_list<int> styles) const {
    std::vector<std::string> out;
    for (const auto& t : transcript)
        if (std::find(styles.begin(), styles.end(), t.style) != styles.end()) out.push_back(t.text);
    return out;
}

std::vector<std::string> PamRun::prompts() const {
    return of_style({PAM_PROMPT_ECHO_OFF, PAM_PROMPT_ECHO_ON});
}

std::vector<std::string> PamRun::infos() const {
    return of_style({PAM_TEXT_INFO});
}

PamRun parse_driver_output(const std::string& out) {
    static const std::map<std::string, int, std::less<>> styles{{"echo_off", PAM_PROMPT_ECHO_OFF},
                                                                {"echo_on", PAM_PROMPT_ECHO_ON},
                                                                {"error", PAM_ERROR_MSG},
                                                                {"info", PAM_TEXT_INFO}};
    PamRun run;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("pam_code=")) {
            run.code = std::stoi(line.substr(9));
            continue;
        }
        const auto space = line.find(' ');
        const auto style = styles.find(line.substr(0, space));
        if (style == styles.end()) continue;
        std::string text;
        const std::string escaped = space == std::string::npos ? "" : line.substr(space + 1);
        for (std::size_t i = 0; i < escaped.size(); ++i) {
            if (escaped[i] == '\\' && i + 1 < escaped.size()) {
                text.push_back(escaped[++i] == 'n' ? '\n' : escaped[i]);
            } else {
                text.push_back(escaped[i]);
            }
        }
        run.transcript.push_back({style->second, text});
    }
    return run;
}

int run_as_uid(uid_t uid, const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        // SO_PEERCRED still reports the new uid, which is what the helper judges.
        ::prctl(PR_SET_KEEPCAPS, 1);
        if (::setgroups(0, nullptr) != 0 || ::setgid(uid) != 0 || ::setuid(uid) != 0) ::_exit(200);
        __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct data[2] = {};
        data[0].effective = data[0].permitted = 1u << CAP_DAC_READ_SEARCH;
        if (::syscall(SYS_capset, &hdr, data) != 0) ::_exit(201);
        ::_exit(body());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    // pam_wrapper sets itself up again in a forked process that calls PAM, in a directory /tmp/pam.? that
    // names its process in "pid"; the child ends with _exit, so that directory is left behind. Ours to
    // remove.
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/tmp", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() == 5 && name.starts_with("pam.") &&
            read_text(entry.path() / "pid") == std::to_string(pid))
            fs::remove_all(entry.path(), ec);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

namespace {

struct ConvState {
    const Answerer* answer;
    std::vector<Turn>* transcript;
};

int conversation(int n, const pam_message** msgs, pam_response** resp, void* appdata) {
    auto* st = static_cast<ConvState*>(appdata);
    auto* replies =
        static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(n), sizeof(pam_response)));
    if (replies == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < n; ++i) {
        const int style = msgs[i]->msg_style;
        const std::string text = msgs[i]->msg ? msgs[i]->msg : "";
        st->transcript->push_back({style, text});
        if (style == PAM_PROMPT_ECHO_OFF || style == PAM_PROMPT_ECHO_ON) {
            const auto a = (*st->answer)(style, text);
            if (!a) {
                for (int j = 0; j < i; ++j) std::free(replies[j].resp);
                std::free(replies);
                return PAM_CONV_ERR;
            }
            replies[i].resp = ::strdup(a->c_str());
        }
    }
    *resp = replies;
    return PAM_SUCCESS;
}

}  // namespace

namespace {

std::string key_of(const std::string& suite, const std::string& name) {
    // Linux-PAM lower-cases service names, so keys are lower case to serve as both file and service names.
    std::string k = suite + "." + name;
    for (char& c : k)
        c = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'
                ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                : '_';
    return k;
}

}  // namespace

std::string test_key() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return key_of(info->test_suite_name(), info->name());
}

fs::path test_dir() {
    return fs::path(PP_RUN_DIR) / short_name("t", test_key());
}
std::string test_socket() {
    return (test_dir() / "helper.sock").string();
}
std::string test_service(std::string_view variant) {
    return "pp-" + test_key() + (variant.empty() ? "" : "-" + std::string(variant));
}

void write_services_for_all_tests() {
    const fs::path dir(PP_SERVICE_DIR);
    fs::create_directories(dir);
    fs::create_directories(PP_RUN_DIR);
    // Rewriting an unchanged file would only race with another test process's pam_wrapper copying it.
    auto write_text = [](const fs::path& p, const std::string& text) {
        if (fs::exists(p) && read_text(p) == text) return;
        pp::test::write_text(p, text);
    };
    const auto* unit = ::testing::UnitTest::GetInstance();
    for (int i = 0; i < unit->total_test_suite_count(); ++i) {
        const auto* suite = unit->GetTestSuite(i);
        for (int j = 0; j < suite->total_test_count(); ++j) {
            const std::string key = key_of(suite->name(), suite->GetTestInfo(j)->name());
            const std::string args =
                "socket=" + (fs::path(PP_RUN_DIR) / short_name("t", key) / "helper.sock").string() +
                " timeout=30";
            const std::string items = "auth required " PP_PAM_WRAPPER_MODULES "/pam_set_items.so\n";
            const std::string module = PP_MODULE_PATH " " + args;
            const std::string account = "account required pam_permit.so\n";
            write_text(dir / ("pp-" + key), items + "auth required " + module + "\n" + account);
            write_text(dir / ("pp-" + key + "-badarg"),
                       items + "auth required " + module + " no_such_option\n" + account);
            write_text(dir / ("pp-" + key + "-debug"),
                       items + "auth required " + module + " debug\n" + account);
            // How an admin lets users without an identity fall through to the next method (here pam_permit).
            write_text(dir / ("pp-" + key + "-fallthrough"),
                       items + "auth [success=done ignore=ignore default=die] " + module +
                           "\nauth required pam_permit.so\n" + account);
            write_text(dir / ("pp-" + key + "-profile"),
                       items + "auth [success=done default=ignore] " + module +
                           " unknown_user=ignore\nauth required pam_permit.so\n" + account);
        }
    }
}

bool is_code_offer(int style, const std::string& text) {
    return style == PAM_PROMPT_ECHO_ON && text.find("Send a code to ") != std::string::npos &&
           text.ends_with("? [Y/n] ");
}

Answerer accepting_code_offers(Answerer inner) {
    return [inner = std::move(inner)](int style, const std::string& text) -> std::optional<std::string> {
        if (is_code_offer(style, text)) return std::string();
        return inner(style, text);
    };
}

Answerer sshd_password_conversation(std::string password) {
    return [password = std::move(password)](int style, const std::string&) -> std::optional<std::string> {
        if (style == PAM_PROMPT_ECHO_OFF) return password;
        return std::nullopt;
    };
}

namespace {
const std::vector<Turn>* live = nullptr;
}  // namespace

const std::vector<Turn>& live_transcript() {
    static const std::vector<Turn> none;
    return live != nullptr ? *live : none;
}

PamRun run_pam(const std::string& service, const std::string& user, const Answerer& answer,
               const std::map<std::string, std::string>& items) {
    for (const auto& [k, v] : items) ::setenv(k.c_str(), v.c_str(), 1);
    PamRun run;
    ConvState st{&answer, &run.transcript};
    pam_testcase cases[] = {pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS)};
    live = &run.transcript;
    const auto err = _pamtest_conv(service.c_str(), user.c_str(), conversation, &st, cases, 1, nullptr);
    live = nullptr;
    for (const auto& kv : items) ::unsetenv(kv.first.c_str());
    if (err != PAMTEST_ERR_OK && err != PAMTEST_ERR_CASE)
        throw std::runtime_error(std::string("libpamtest: ") + pamtest_strerror(err));
    run.code = cases[0].op_rv;
    return run;
}

}  // namespace pp::test
