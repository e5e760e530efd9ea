// Self-test of the virtual authenticator through the real libfido2 API. This program links libfido2 normally;
// the virtual keys exist only because CTest runs it with LD_PRELOAD=libpp_virtual_fido.so, and each CTest
// entry selects the suites that match its knobs (the knobs are read once, when the library loads).
#include <dlfcn.h>
#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Bytes = std::vector<std::uint8_t>;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct DevDelete {
    void operator()(fido_dev_t* dev) const {
        fido_dev_close(dev);  // harmless on a device that never opened
        fido_dev_free(&dev);
    }
};
struct CredDelete {
    void operator()(fido_cred_t* cred) const { fido_cred_free(&cred); }
};
struct AssertDelete {
    void operator()(fido_assert_t* assertion) const { fido_assert_free(&assertion); }
};
struct InfoDelete {
    void operator()(fido_cbor_info_t* info) const { fido_cbor_info_free(&info); }
};
struct Es256Delete {
    void operator()(es256_pk_t* pk) const { es256_pk_free(&pk); }
};
struct EddsaDelete {
    void operator()(eddsa_pk_t* pk) const { eddsa_pk_free(&pk); }
};
using Dev = std::unique_ptr<fido_dev_t, DevDelete>;
using Cred = std::unique_ptr<fido_cred_t, CredDelete>;
using Assertion = std::unique_ptr<fido_assert_t, AssertDelete>;
using Info = std::unique_ptr<fido_cbor_info_t, InfoDelete>;

class DevList {
  public:
    explicit DevList(std::size_t capacity) : capacity_(capacity), list_(fido_dev_info_new(capacity)) {
        if (list_ == nullptr) throw std::runtime_error("fido_dev_info_new");
    }
    DevList(const DevList&) = delete;
    DevList& operator=(const DevList&) = delete;
    ~DevList() { fido_dev_info_free(&list_, capacity_); }
    [[nodiscard]] fido_dev_info_t* get() const { return list_; }
    [[nodiscard]] std::size_t capacity() const { return capacity_; }

  private:
    std::size_t capacity_;
    fido_dev_info_t* list_;
};

std::string to_hex(const Bytes& data) {
    std::string out;
    char digits[3];
    for (std::uint8_t b : data) {
        std::snprintf(digits, sizeof digits, "%02x", b);
        out += digits;
    }
    return out;
}

Bytes from_hex(const std::string& text) {
    Bytes out;
    for (std::size_t i = 0; i + 1 < text.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoul(text.substr(i, 2), nullptr, 16)));
    return out;
}

Bytes sha256(const Bytes& data) {
    Bytes digest(32);
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("EVP_Digest");
    return digest;
}

Bytes sha256(const std::string& text) {
    return sha256(Bytes(text.begin(), text.end()));
}

Bytes bytes_of(const unsigned char* ptr, std::size_t length) {
    return ptr == nullptr ? Bytes{} : Bytes(ptr, ptr + length);
}

std::string env_or(const char* name, const std::string& fallback) {
    const char* value = std::getenv(name);
    return value != nullptr ? value : fallback;
}

unsigned long keepalives_sent() {
    using Hook = unsigned long (*)();
    const auto hook = reinterpret_cast<Hook>(dlsym(RTLD_DEFAULT, "vfido_keepalives_sent"));
    if (hook == nullptr) throw std::runtime_error("not running under LD_PRELOAD=libpp_virtual_fido.so");
    return hook();
}

enum class Path { transport, io };

std::string path_of(unsigned index) {
    return "vfido:" + std::to_string(index);
}

struct Opened {
    Dev dev;
    int error;
};

// The two ways production code may open a key: enumerate and open with the entry (transport functions), or
// open by path (io functions, libfido2 frames CTAPHID itself).
Opened open_key(unsigned index, Path path) {
    const std::string wanted = path_of(index);
    if (path == Path::io) {
        Dev dev(fido_dev_new());
        const int r = fido_dev_open(dev.get(), wanted.c_str());
        return {std::move(dev), r};
    }
    DevList list(16);
    std::size_t found = 0;
    if (fido_dev_info_manifest(list.get(), list.capacity(), &found) != FIDO_OK)
        return {nullptr, FIDO_ERR_INTERNAL};
    for (std::size_t i = 0; i < found; ++i) {
        const fido_dev_info_t* entry = fido_dev_info_ptr(list.get(), i);
        if (wanted != fido_dev_info_path(entry)) continue;
        Dev dev(fido_dev_new_with_info(entry));
        const int r = fido_dev_open_with_info(dev.get());
        return {std::move(dev), r};
    }
    return {nullptr, FIDO_ERR_NOTFOUND};
}

Dev must_open(unsigned index, Path path) {
    Opened opened = open_key(index, path);
    if (opened.error != FIDO_OK)
        throw std::runtime_error("open " + path_of(index) + ": " + fido_strerr(opened.error));
    return std::move(opened.dev);
}

const Bytes client_data_hash(32, 0x42);
const Bytes user_id = {0x75, 0x69, 0x64, 0x2d, 0x61, 0x6c, 0x69, 0x63, 0x65};
constexpr char rp[] = "example.org";

struct MadeCred {
    Cred cred;
    int error;
};

MadeCred make_cred(fido_dev_t* dev, const char* rp_id = rp, int type = COSE_ES256, const char* pin = nullptr,
                   fido_opt_t rk = FIDO_OPT_OMIT, fido_opt_t uv = FIDO_OPT_OMIT,
                   const std::vector<Bytes>& exclude = {}) {
    Cred cred(fido_cred_new());
    if (fido_cred_set_type(cred.get(), type) != FIDO_OK ||
        fido_cred_set_clientdata_hash(cred.get(), client_data_hash.data(), client_data_hash.size()) !=
            FIDO_OK ||
        fido_cred_set_rp(cred.get(), rp_id, "Example") != FIDO_OK ||
        fido_cred_set_user(cred.get(), user_id.data(), user_id.size(), "alice", "Alice", nullptr) !=
            FIDO_OK ||
        fido_cred_set_rk(cred.get(), rk) != FIDO_OK || fido_cred_set_uv(cred.get(), uv) != FIDO_OK)
        throw std::runtime_error("fido_cred_set_*");
    for (const Bytes& id : exclude)
        if (fido_cred_exclude(cred.get(), id.data(), id.size()) != FIDO_OK)
            throw std::runtime_error("fido_cred_exclude");
    const int r = fido_dev_make_cred(dev, cred.get(), pin);
    return {std::move(cred), r};
}

struct Enrolled {
    Bytes id;
    Bytes public_key;
    int type = COSE_ES256;
};

Enrolled enrol(fido_dev_t* dev, int type = COSE_ES256, const char* pin = nullptr, const char* rp_id = rp) {
    MadeCred made = make_cred(dev, rp_id, type, pin);
    if (made.error != FIDO_OK) throw std::runtime_error(std::string("make_cred: ") + fido_strerr(made.error));
    return {bytes_of(fido_cred_id_ptr(made.cred.get()), fido_cred_id_len(made.cred.get())),
            bytes_of(fido_cred_pubkey_ptr(made.cred.get()), fido_cred_pubkey_len(made.cred.get())), type};
}

struct GotAssertion {
    Assertion assertion;
    int error;
};

GotAssertion get_assert(fido_dev_t* dev, const std::vector<Bytes>& allow, const char* pin = nullptr,
                        fido_opt_t up = FIDO_OPT_OMIT, fido_opt_t uv = FIDO_OPT_OMIT,
                        const char* rp_id = rp) {
    Assertion assertion(fido_assert_new());
    if (fido_assert_set_rp(assertion.get(), rp_id) != FIDO_OK ||
        fido_assert_set_clientdata_hash(assertion.get(), client_data_hash.data(), client_data_hash.size()) !=
            FIDO_OK ||
        fido_assert_set_up(assertion.get(), up) != FIDO_OK ||
        fido_assert_set_uv(assertion.get(), uv) != FIDO_OK)
        throw std::runtime_error("fido_assert_set_*");
    for (const Bytes& id : allow)
        if (fido_assert_allow_cred(assertion.get(), id.data(), id.size()) != FIDO_OK)
            throw std::runtime_error("fido_assert_allow_cred");
    const int r = fido_dev_get_assert(dev, assertion.get(), pin);
    return {std::move(assertion), r};
}

int verify(const fido_assert_t* assertion, const Enrolled& cred) {
    if (cred.type == COSE_EDDSA) {
        std::unique_ptr<eddsa_pk_t, EddsaDelete> pk(eddsa_pk_new());
        if (eddsa_pk_from_ptr(pk.get(), cred.public_key.data(), cred.public_key.size()) != FIDO_OK)
            return FIDO_ERR_INTERNAL;
        return fido_assert_verify(assertion, 0, COSE_EDDSA, pk.get());
    }
    std::unique_ptr<es256_pk_t, Es256Delete> pk(es256_pk_new());
    if (es256_pk_from_ptr(pk.get(), cred.public_key.data(), cred.public_key.size()) != FIDO_OK)
        return FIDO_ERR_INTERNAL;
    return fido_assert_verify(assertion, 0, COSE_ES256, pk.get());
}

std::uint8_t flags(const GotAssertion& got) {
    return fido_assert_flags(got.assertion.get(), 0);
}
std::uint32_t counter(const GotAssertion& got) {
    return fido_assert_sigcount(got.assertion.get(), 0);
}

constexpr std::uint8_t flag_up = 0x01;
constexpr std::uint8_t flag_uv = 0x04;
constexpr std::uint8_t flag_at = 0x40;

Info info_of(fido_dev_t* dev) {
    Info info(fido_cbor_info_new());
    const int r = fido_dev_get_cbor_info(dev, info.get());
    if (r != FIDO_OK) throw std::runtime_error(std::string("get_cbor_info: ") + fido_strerr(r));
    return info;
}

std::optional<bool> info_option(const fido_cbor_info_t* info, const char* name) {
    char* const* names = fido_cbor_info_options_name_ptr(info);
    const bool* values = fido_cbor_info_options_value_ptr(info);
    for (std::size_t i = 0; i < fido_cbor_info_options_len(info); ++i)
        if (std::strcmp(names[i], name) == 0) return values[i];
    return std::nullopt;
}

std::vector<std::string> info_versions(const fido_cbor_info_t* info) {
    char* const* versions = fido_cbor_info_versions_ptr(info);
    return {versions, versions + fido_cbor_info_versions_len(info)};
}

// Runs one test of this program in a fresh process (so the library loads again, with changed knobs if asked).
// `changes` sets (or, with nullopt, removes) environment variables. Returns the exit status.
int run_self(const std::string& test,
             const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) {
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string text(*entry);
        const std::string name = text.substr(0, text.find('='));
        if (std::none_of(changes.begin(), changes.end(), [&](const auto& c) { return c.first == name; }))
            environment.push_back(text);
    }
    for (const auto& [name, value] : changes)
        if (value) environment.push_back(name + "=" + *value);
    std::string exe = "/proc/self/exe";
    std::string filter = "--gtest_filter=" + test;
    std::vector<char*> argv = {exe.data(), filter.data(), nullptr};
    std::vector<char*> envp;
    for (std::string& entry : environment) envp.push_back(entry.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), envp.data()) != 0) return -1;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

std::string temp_file(const std::string& tag) {
    return testing::TempDir() + "vfido-" + tag + "-" + std::to_string(getpid());
}

std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// Enrols on key `index` in a child process whose knobs are changed as asked: how a test gets a credential on
// a key that this process's knobs make refuse to enrol (touch denied, never touched).
Enrolled enrol_in_child(unsigned index,
                        const std::vector<std::pair<std::string, std::optional<std::string>>>& knobs) {
    const std::string out = temp_file("enrol");
    auto changes = knobs;
    changes.emplace_back("PP_VFIDO_TEST_OUT", out);
    changes.emplace_back("PP_VFIDO_TEST_KEY", std::to_string(index));
    if (run_self("Helper.Enrol", changes) != 0) throw std::runtime_error("child enrolment failed");
    const auto lines = read_lines(out);
    std::remove(out.c_str());
    if (lines.size() != 2) throw std::runtime_error("child enrolment wrote nothing");
    return {from_hex(lines[0]), from_hex(lines[1]), COSE_ES256};
}

std::string path_name(const testing::TestParamInfo<Path>& info) {
    return info.param == Path::transport ? "transport" : "io";
}

class PathTest : public testing::TestWithParam<Path> {
  protected:
    Dev open(unsigned index = 0) { return must_open(index, GetParam()); }
};

#define VFIDO_PATH_SUITE(suite)       \
    class suite : public PathTest {}; \
    INSTANTIATE_TEST_SUITE_P(Paths, suite, testing::Values(Path::transport, Path::io), path_name)

// ---------------------------------------------------------------------------------------------------------------
// Helpers run by run_self() in a child process; skipped when run directly.

TEST(Helper, Enrol) {
    const char* out = std::getenv("PP_VFIDO_TEST_OUT");
    if (out == nullptr) GTEST_SKIP() << "only run by enrol_in_child()";
    const unsigned index = static_cast<unsigned>(std::stoul(env_or("PP_VFIDO_TEST_KEY", "0")));
    Dev dev = must_open(index, Path::transport);
    const Enrolled cred = enrol(dev.get());
    std::ofstream(out) << to_hex(cred.id) << "\n" << to_hex(cred.public_key) << "\n";
}

TEST(Helper, Assert) {
    const char* out = std::getenv("PP_VFIDO_TEST_OUT");
    if (out == nullptr) GTEST_SKIP() << "only run by a test that needs a second process";
    const Enrolled cred{from_hex(env_or("PP_VFIDO_TEST_CRED", "")),
                        from_hex(env_or("PP_VFIDO_TEST_PUBKEY", "")), COSE_ES256};
    Dev dev = must_open(0, Path::transport);
    const GotAssertion got = get_assert(dev.get(), {cred.id});
    ASSERT_EQ(got.error, FIDO_OK) << fido_strerr(got.error);
    ASSERT_EQ(verify(got.assertion.get(), cred), FIDO_OK);
    std::ofstream(out) << counter(got) << "\n";
}

// ---------------------------------------------------------------------------------------------------------------
// VFIDO_KEYS=0, unset (1) and 2.

TEST(Manifest, ListsTheConfiguredKeys) {
    const unsigned expected = static_cast<unsigned>(std::stoul(env_or("VFIDO_KEYS", "1")));
    DevList list(16);
    std::size_t found = 99;
    ASSERT_EQ(fido_dev_info_manifest(list.get(), list.capacity(), &found), FIDO_OK);
    ASSERT_EQ(found, expected);
    for (unsigned i = 0; i < expected; ++i) {
        const fido_dev_info_t* entry = fido_dev_info_ptr(list.get(), i);
        EXPECT_EQ(std::string(fido_dev_info_path(entry)), path_of(i));
        EXPECT_EQ(std::string(fido_dev_info_manufacturer_string(entry)), "pam_passwordless test suite");
        EXPECT_NE(std::string(fido_dev_info_product_string(entry)).find("Virtual FIDO2 test key"),
                  std::string::npos);
    }
    if (expected > 1) {
        std::size_t bounded = 0;
        ASSERT_EQ(fido_dev_info_manifest(list.get(), 1, &bounded), FIDO_OK);
        EXPECT_EQ(bounded, 1U);
    }
}

TEST(Manifest, EveryKeyOpensOnBothPathsAndDescribesItself) {
    const unsigned expected = static_cast<unsigned>(std::stoul(env_or("VFIDO_KEYS", "1")));
    for (unsigned i = 0; i < expected; ++i) {
        for (Path path : {Path::transport, Path::io}) {
            Dev dev = must_open(i, path);
            EXPECT_TRUE(fido_dev_is_fido2(dev.get()));
            EXPECT_EQ(fido_dev_flags(dev.get()) & (FIDO_CAP_CBOR | FIDO_CAP_NMSG),
                      FIDO_CAP_CBOR | FIDO_CAP_NMSG);
            EXPECT_TRUE(fido_dev_supports_pin(dev.get()));
            EXPECT_FALSE(fido_dev_has_pin(dev.get()));
            EXPECT_FALSE(fido_dev_supports_permissions(dev.get()));
            const Info info = info_of(dev.get());
            EXPECT_EQ(info_versions(info.get()), std::vector<std::string>{"FIDO_2_0"});
            EXPECT_EQ(std::string(reinterpret_cast<const char*>(fido_cbor_info_aaguid_ptr(info.get())),
                                  fido_cbor_info_aaguid_len(info.get())),
                      "pp-vfido-test-01");
            EXPECT_EQ(info_option(info.get(), "rk"), false);
            EXPECT_EQ(info_option(info.get(), "up"), true);
            EXPECT_EQ(info_option(info.get(), "plat"), false);
            EXPECT_EQ(info_option(info.get(), "clientPin"), false);
            EXPECT_EQ(
                bytes_of(fido_cbor_info_protocols_ptr(info.get()), fido_cbor_info_protocols_len(info.get())),
                Bytes{1});
            ASSERT_EQ(fido_cbor_info_algorithm_count(info.get()), 2U);
            EXPECT_EQ(fido_cbor_info_algorithm_cose(info.get(), 0), COSE_ES256);
            EXPECT_EQ(fido_cbor_info_algorithm_cose(info.get(), 1), COSE_EDDSA);
            EXPECT_EQ(fido_cbor_info_maxmsgsiz(info.get()), 1200U);
        }
    }
    // Opening a path with no key behind it fails like a missing hidraw node.
    EXPECT_EQ(open_key(expected, Path::io).error, FIDO_ERR_INTERNAL);
}

// ---------------------------------------------------------------------------------------------------------------
// Default knobs, VFIDO_STATE_DIR set.

VFIDO_PATH_SUITE(Basic);

TEST_P(Basic, MakesAnEs256CredentialWithPackedSelfAttestation) {
    Dev dev = open();
    const MadeCred made = make_cred(dev.get());
    ASSERT_EQ(made.error, FIDO_OK) << fido_strerr(made.error);
    const fido_cred_t* cred = made.cred.get();
    EXPECT_EQ(std::string(fido_cred_fmt(cred)), "packed");
    EXPECT_EQ(fido_cred_type(cred), COSE_ES256);
    EXPECT_EQ(fido_cred_verify_self(cred), FIDO_OK);
    // Self attestation has no certificate: the full verification has nothing to check against.
    EXPECT_EQ(fido_cred_x5c_ptr(cred), nullptr);
    EXPECT_EQ(fido_cred_verify(cred), FIDO_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fido_cred_flags(cred), flag_up | flag_at);
    EXPECT_EQ(fido_cred_sigcount(cred), 0U);
    EXPECT_EQ(
        std::string(reinterpret_cast<const char*>(fido_cred_aaguid_ptr(cred)), fido_cred_aaguid_len(cred)),
        "pp-vfido-test-01");
    EXPECT_EQ(fido_cred_pubkey_len(cred), 64U);
}

TEST_P(Basic, GetsAnAssertionThatVerifies) {
    Dev dev = open();
    const Enrolled cred = enrol(dev.get());
    const GotAssertion got = get_assert(dev.get(), {cred.id});
    ASSERT_EQ(got.error, FIDO_OK) << fido_strerr(got.error);
    EXPECT_EQ(verify(got.assertion.get(), cred), FIDO_OK);
    EXPECT_EQ(flags(got), flag_up);
    EXPECT_EQ(
        bytes_of(fido_assert_id_ptr(got.assertion.get(), 0), fido_assert_id_len(got.assertion.get(), 0)),
        cred.id);
    EXPECT_EQ(bytes_of(fido_assert_user_id_ptr(got.assertion.get(), 0),
                       fido_assert_user_id_len(got.assertion.get(), 0)),
              user_id);
}

TEST_P(Basic, EdDsaCredentialsWork) {
    Dev dev = open();
    const MadeCred made = make_cred(dev.get(), rp, COSE_EDDSA);
    ASSERT_EQ(made.error, FIDO_OK) << fido_strerr(made.error);
    EXPECT_EQ(fido_cred_type(made.cred.get()), COSE_EDDSA);
    EXPECT_EQ(fido_cred_verify_self(made.cred.get()), FIDO_OK);
    const Enrolled cred{
        bytes_of(fido_cred_id_ptr(made.cred.get()), fido_cred_id_len(made.cred.get())),
        bytes_of(fido_cred_pubkey_ptr(made.cred.get()), fido_cred_pubkey_len(made.cred.get())), COSE_EDDSA};
    const GotAssertion got = get_assert(dev.get(), {cred.id});
    ASSERT_EQ(got.error, FIDO_OK) << fido_strerr(got.error);
    EXPECT_EQ(verify(got.assertion.get(), cred), FIDO_OK);
}

TEST_P(Basic, CounterIncreasesAndIsPersistedPerCredential) {
    Dev dev = open();
    const Enrolled cred = enrol(dev.get());
    const GotAssertion first = get_assert(dev.get(), {cred.id});
    const GotAssertion second = get_assert(dev.get(), {cred.id});
    ASSERT_EQ(first.error, FIDO_OK);
    ASSERT_EQ(second.error, FIDO_OK);
    EXPECT_EQ(counter(first), 1U);
    EXPECT_EQ(counter(second), 2U);
    const std::string file = env_or("VFIDO_STATE_DIR", "") + "/" + to_hex(sha256(cred.id)) + ".counter";
    EXPECT_EQ(read_lines(file), std::vector<std::string>{"2"});
}

TEST_P(Basic, CredentialsThatAreNotOursGiveNoCredentials) {
    Dev dev = open();
    const Enrolled cred = enrol(dev.get());
    Bytes tampered = cred.id;
    tampered[20] ^= 0x01;
    const Bytes foreign(cred.id.size(), 0x5a);
    EXPECT_EQ(get_assert(dev.get(), {foreign}).error, FIDO_ERR_NO_CREDENTIALS);
    EXPECT_EQ(get_assert(dev.get(), {tampered}).error, FIDO_ERR_NO_CREDENTIALS);
    EXPECT_EQ(get_assert(dev.get(), {foreign}, nullptr, FIDO_OPT_FALSE).error, FIDO_ERR_NO_CREDENTIALS);
    // Bound to its rpId: the same id asked for by another relying party is not ours either.
    EXPECT_EQ(get_assert(dev.get(), {cred.id}, nullptr, FIDO_OPT_OMIT, FIDO_OPT_OMIT, "other.example").error,
              FIDO_ERR_NO_CREDENTIALS);
    EXPECT_EQ(get_assert(dev.get(), {}).error, FIDO_ERR_NO_CREDENTIALS);
}

TEST_P(Basic, PicksOurCredentialOutOfAnAllowList) {
    Dev dev = open();
    const Enrolled cred = enrol(dev.get());
    const GotAssertion got = get_assert(dev.get(), {Bytes(40, 0x11), cred.id, Bytes(60, 0x22)});
    ASSERT_EQ(got.error, FIDO_OK);
    EXPECT_EQ(
        bytes_of(fido_assert_id_ptr(got.assertion.get(), 0), fido_assert_id_len(got.assertion.get(), 0)),
        cred.id);
    EXPECT_EQ(verify(got.assertion.get(), cred), FIDO_OK);
}

TEST_P(Basic, HonoursTheExcludeList) {
    Dev dev = open();
    const Enrolled cred = enrol(dev.get());
    EXPECT_EQ(make_cred(dev.get(), rp, COSE_ES256, nullptr, FIDO_OPT_OMIT, FIDO_OPT_OMIT, {cred.id}).error,
              FIDO_ERR_CREDENTIAL_EXCLUDED);
    EXPECT_EQ(
        make_cred(dev.get(), "other.example", COSE_ES256, nullptr, FIDO_OPT_OMIT, FIDO_OPT_OMIT, {cred.id})
            .error,
        FIDO_OK);
}

TEST_P(Basic, RefusesResidentKeysAndUvWithoutAPin) {
    Dev dev = open();
    EXPECT_EQ(make_cred(dev.get(), rp, COSE_ES256, nullptr, FIDO_OPT_TRUE).error,
              FIDO_ERR_UNSUPPORTED_OPTION);
    EXPECT_EQ(make_cred(dev.get(), rp, COSE_ES256, nullptr, FIDO_OPT_OMIT, FIDO_OPT_TRUE).error,
              FIDO_ERR_UNSUPPORTED_OPTION);
    const Enrolled cred = enrol(dev.get());
    EXPECT_EQ(get_assert(dev.get(), {cred.id}, nullptr, FIDO_OPT_OMIT, FIDO_OPT_TRUE).error,
              FIDO_ERR_UNSUPPORTED_OPTION);
    EXPECT_EQ(get_assert(dev.get(), {cred.id}, "1234").error, FIDO_ERR_PIN_NOT_SET);
    EXPECT_EQ(make_cred(dev.get(), rp, COSE_ES256, "1234").error, FIDO_ERR_PIN_NOT_SET);
}

TEST_P(Basic, UpFalseAssertionsNeedNoTouchAndSaySo) {
    Dev dev = open();
    const Enrolled cred = enrol(dev.get());
    const GotAssertion got = get_assert(dev.get(), {cred.id}, nullptr, FIDO_OPT_FALSE);
    ASSERT_EQ(got.error, FIDO_OK);
    EXPECT_EQ(flags(got), 0);
    EXPECT_EQ(verify(got.assertion.get(), cred), FIDO_OK);
}

TEST_P(Basic, TouchProbeReportsATouch) {
    Dev dev = open();
    ASSERT_EQ(fido_dev_get_touch_begin(dev.get()), FIDO_OK);
    int touched = 0;
    ASSERT_EQ(fido_dev_get_touch_status(dev.get(), &touched, 1000), FIDO_OK);
    EXPECT_EQ(touched, 1);
}

TEST_P(Basic, CancelWithNothingPendingIsHarmless) {
    Dev dev = open();
    EXPECT_EQ(fido_dev_cancel(dev.get()), FIDO_OK);
    EXPECT_EQ(make_cred(dev.get()).error, FIDO_OK);
}

TEST_P(Basic, ACredentialMadeHereAssertsInAnotherProcess) {
    Dev dev = open();
    const Enrolled cred = enrol(dev.get());
    const std::string out = temp_file("assert");
    ASSERT_EQ(run_self("Helper.Assert", {{"PP_VFIDO_TEST_OUT", out},
                                         {"PP_VFIDO_TEST_CRED", to_hex(cred.id)},
                                         {"PP_VFIDO_TEST_PUBKEY", to_hex(cred.public_key)}}),
              0);
    EXPECT_EQ(read_lines(out), std::vector<std::string>{"1"});
    std::remove(out.c_str());
    // The state directory carries the count on.
    const GotAssertion got = get_assert(dev.get(), {cred.id});
    ASSERT_EQ(got.error, FIDO_OK);
    EXPECT_EQ(counter(got), 2U);
}

TEST_P(Basic, ACredentialMadeInAnotherProcessAssertsHere) {
    const Enrolled cred = enrol_in_child(0, {});
    Dev dev = open();
    const GotAssertion got = get_assert(dev.get(), {cred.id});
    ASSERT_EQ(got.error, FIDO_OK) << fido_strerr(got.error);
    EXPECT_EQ(verify(got.assertion.get(), cred), FIDO_OK);
}

TEST_P(Basic, AForkedChildKeepsUsingTheOpenKey) {
    Dev dev = open();
    const Enrolled cred = enrol(dev.get());
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        try {
            const GotAssertion got = get_assert(dev.get(), {cred.id});
            _exit(got.error == FIDO_OK && verify(got.assertion.get(), cred) == FIDO_OK ? 0 : 1);
        } catch (...) {
            _exit(3);
        }
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    const GotAssertion got = get_assert(dev.get(), {cred.id});
    ASSERT_EQ(got.error, FIDO_OK);
    EXPECT_EQ(counter(got), 2U);
}

TEST(BasicProcesses, ConcurrentProcessesShareOneCounterWithoutLosingSteps) {
    constexpr int children = 4;
    constexpr int each = 5;
    Dev dev = must_open(0, Path::transport);
    const Enrolled cred = enrol(dev.get());
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::vector<pid_t> pids;
    for (int c = 0; c < children; ++c) {
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            // Nothing may unwind into GoogleTest's copy of the parent's state.
            try {
                close(fds[0]);
                Dev own = must_open(0, Path::transport);
                for (int i = 0; i < each; ++i) {
                    const GotAssertion got = get_assert(own.get(), {cred.id});
                    const std::uint32_t value = got.error == FIDO_OK ? counter(got) : 0;
                    if (write(fds[1], &value, sizeof value) != sizeof value) _exit(2);
                }
                _exit(0);
            } catch (...) {
                _exit(3);
            }
        }
        pids.push_back(pid);
    }
    close(fds[1]);
    std::vector<std::uint32_t> seen;
    std::uint32_t value = 0;
    while (read(fds[0], &value, sizeof value) == sizeof value) seen.push_back(value);
    close(fds[0]);
    for (pid_t pid : pids) {
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(children * each));
    std::sort(seen.begin(), seen.end());
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i + 1);
}

// ---------------------------------------------------------------------------------------------------------------
// No VFIDO_STATE_DIR: counters live in each process's memory.

TEST(CounterInMemory, CountsInThisProcessAndStartsOverInTheNext) {
    Dev dev = must_open(0, Path::transport);
    const Enrolled cred = enrol(dev.get());
    EXPECT_EQ(counter(get_assert(dev.get(), {cred.id})), 1U);
    EXPECT_EQ(counter(get_assert(dev.get(), {cred.id})), 2U);
    const std::string out = temp_file("memory");
    ASSERT_EQ(run_self("Helper.Assert", {{"PP_VFIDO_TEST_OUT", out},
                                         {"PP_VFIDO_TEST_CRED", to_hex(cred.id)},
                                         {"PP_VFIDO_TEST_PUBKEY", to_hex(cred.public_key)}}),
              0);
    EXPECT_EQ(read_lines(out), std::vector<std::string>{"1"});
    std::remove(out.c_str());
}

// VFIDO_COUNTER=regress
VFIDO_PATH_SUITE(CounterRegress);

TEST_P(CounterRegress, GoesBackByOneEachAssertion) {
    Dev dev = open();
    const Enrolled cred = enrol(dev.get());
    std::vector<std::uint32_t> values;
    for (int i = 0; i < 3; ++i) {
        const GotAssertion got = get_assert(dev.get(), {cred.id});
        ASSERT_EQ(got.error, FIDO_OK);
        EXPECT_EQ(verify(got.assertion.get(), cred), FIDO_OK);
        values.push_back(counter(got));
    }
    EXPECT_EQ(values, (std::vector<std::uint32_t>{100, 99, 98}));
}

// VFIDO_COUNTER=zero
VFIDO_PATH_SUITE(CounterZero);

TEST_P(CounterZero, NeverCounts) {
    Dev dev = open();
    const Enrolled cred = enrol(dev.get());
    for (int i = 0; i < 2; ++i) {
        const GotAssertion got = get_assert(dev.get(), {cred.id});
        ASSERT_EQ(got.error, FIDO_OK);
        EXPECT_EQ(verify(got.assertion.get(), cred), FIDO_OK);
        EXPECT_EQ(counter(got), 0U);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// VFIDO_TOUCH=deny

VFIDO_PATH_SUITE(TouchDeny);

TEST_P(TouchDeny, DeniedTouchFailsEveryOperationThatNeedsOne) {
    const Enrolled cred = enrol_in_child(0, {{"VFIDO_TOUCH", "ok"}});
    Dev dev = open();
    const unsigned long before = keepalives_sent();
    EXPECT_EQ(make_cred(dev.get()).error, FIDO_ERR_OPERATION_DENIED);
    EXPECT_EQ(get_assert(dev.get(), {cred.id}).error, FIDO_ERR_OPERATION_DENIED);
    EXPECT_GE(keepalives_sent() - before, 2U);
    // Nothing to touch for an up=false probe.
    const GotAssertion probe = get_assert(dev.get(), {cred.id}, nullptr, FIDO_OPT_FALSE);
    ASSERT_EQ(probe.error, FIDO_OK);
    EXPECT_EQ(verify(probe.assertion.get(), cred), FIDO_OK);
    ASSERT_EQ(fido_dev_get_touch_begin(dev.get()), FIDO_OK);
    int touched = 0;
    EXPECT_EQ(fido_dev_get_touch_status(dev.get(), &touched, 1000), FIDO_ERR_OPERATION_DENIED);
    EXPECT_EQ(touched, 0);
}

// ---------------------------------------------------------------------------------------------------------------
// VFIDO_TOUCH=silent

VFIDO_PATH_SUITE(TouchSilent);

TEST_P(TouchSilent, TimesOutWithinTheDeadlineAndTheKeyStaysUsable) {
    const Enrolled cred = enrol_in_child(0, {{"VFIDO_TOUCH", "ok"}});
    Dev dev = open();
    ASSERT_EQ(fido_dev_set_timeout(dev.get(), 500), FIDO_OK);
    const auto start = Clock::now();
    EXPECT_EQ(get_assert(dev.get(), {cred.id}).error, FIDO_ERR_RX);
    const auto elapsed = Clock::now() - start;
    EXPECT_GE(elapsed, milliseconds(450));
    EXPECT_LT(elapsed, milliseconds(3000));
    // The same handle goes on working: a new request replaces the abandoned one.
    EXPECT_NO_THROW(info_of(dev.get()));
    const GotAssertion probe = get_assert(dev.get(), {cred.id}, nullptr, FIDO_OPT_FALSE);
    ASSERT_EQ(probe.error, FIDO_OK);
    EXPECT_EQ(verify(probe.assertion.get(), cred), FIDO_OK);
}

TEST_P(TouchSilent, CancelEndsTheWaitWithKeepaliveCancel) {
    const Enrolled cred = enrol_in_child(0, {{"VFIDO_TOUCH", "ok"}});
    Dev dev = open();
    ASSERT_EQ(fido_dev_set_timeout(dev.get(), 10000), FIDO_OK);  // a guard only; the cancel ends it
    const unsigned long before = keepalives_sent();
    int result = FIDO_OK;
    const auto start = Clock::now();
    std::thread waiter([&] { result = get_assert(dev.get(), {cred.id}).error; });
    // Cancel once the key is visibly waiting for a touch.
    while (keepalives_sent() == before && Clock::now() - start < milliseconds(5000))
        std::this_thread::sleep_for(milliseconds(2));
    EXPECT_EQ(fido_dev_cancel(dev.get()), FIDO_OK);
    waiter.join();
    EXPECT_EQ(result, FIDO_ERR_KEEPALIVE_CANCEL);
    EXPECT_LT(Clock::now() - start, milliseconds(5000));
}

TEST_P(TouchSilent, TouchPollingSeesNoTouchUntilCancelled) {
    Dev dev = open();
    ASSERT_EQ(fido_dev_get_touch_begin(dev.get()), FIDO_OK);
    int touched = 1;
    // libfido2 treats a poll that times out as "not touched yet", not as an error.
    EXPECT_EQ(fido_dev_get_touch_status(dev.get(), &touched, 50), FIDO_OK);
    EXPECT_EQ(touched, 0);
    EXPECT_EQ(fido_dev_get_touch_status(dev.get(), &touched, 50), FIDO_OK);
    EXPECT_EQ(touched, 0);
    EXPECT_EQ(fido_dev_cancel(dev.get()), FIDO_OK);
    EXPECT_EQ(fido_dev_get_touch_status(dev.get(), &touched, 1000), FIDO_ERR_KEEPALIVE_CANCEL);
    EXPECT_EQ(touched, 0);
}

// ---------------------------------------------------------------------------------------------------------------
// VFIDO_TOUCH=mute, VFIDO_KEEPALIVE_MS=20

VFIDO_PATH_SUITE(TouchMute);

TEST_P(TouchMute, EvenTheTouchlessProbeWaitsUntilCancelled) {
    const Enrolled cred = enrol_in_child(0, {{"VFIDO_TOUCH", "ok"}});
    Dev dev = open();
    EXPECT_NO_THROW(info_of(dev.get()));                         // getInfo still answers: the key opens
    ASSERT_EQ(fido_dev_set_timeout(dev.get(), 10000), FIDO_OK);  // a guard only; the cancel ends it
    const unsigned long before = keepalives_sent();
    int result = FIDO_OK;
    const auto start = Clock::now();
    std::thread waiter([&] { result = get_assert(dev.get(), {cred.id}, nullptr, FIDO_OPT_FALSE).error; });
    while (keepalives_sent() == before && Clock::now() - start < milliseconds(5000))
        std::this_thread::sleep_for(milliseconds(2));
    EXPECT_GT(keepalives_sent(), before) << "the up=false probe did not wait";
    EXPECT_EQ(fido_dev_cancel(dev.get()), FIDO_OK);
    waiter.join();
    EXPECT_EQ(result, FIDO_ERR_KEEPALIVE_CANCEL);
}

// ---------------------------------------------------------------------------------------------------------------
// VFIDO_KEEPALIVES=3, VFIDO_KEEPALIVE_MS=20

VFIDO_PATH_SUITE(Keepalives);

TEST_P(Keepalives, SendsTheConfiguredKeepalivesBeforeEachTouch) {
    Dev dev = open();
    unsigned long before = keepalives_sent();
    const Enrolled cred = enrol(dev.get());
    EXPECT_EQ(keepalives_sent() - before, 3U);
    before = keepalives_sent();
    const GotAssertion got = get_assert(dev.get(), {cred.id});
    ASSERT_EQ(got.error, FIDO_OK);
    EXPECT_EQ(verify(got.assertion.get(), cred), FIDO_OK);
    EXPECT_EQ(keepalives_sent() - before, 3U);
    before = keepalives_sent();
    EXPECT_EQ(get_assert(dev.get(), {cred.id}, nullptr, FIDO_OPT_FALSE).error, FIDO_OK);
    EXPECT_EQ(keepalives_sent() - before, 0U);
}

TEST_P(Keepalives, ATouchSlowerThanTheTimeoutTimesOut) {
    Dev dev = open();
    const Enrolled cred = enrol(dev.get());
    // Three keepalives 20 ms apart: the touch lands after 60 ms.
    ASSERT_EQ(fido_dev_set_timeout(dev.get(), 20), FIDO_OK);
    EXPECT_EQ(get_assert(dev.get(), {cred.id}).error, FIDO_ERR_RX);
    ASSERT_EQ(fido_dev_set_timeout(dev.get(), -1), FIDO_OK);
    EXPECT_EQ(get_assert(dev.get(), {cred.id}).error, FIDO_OK);
}

// ---------------------------------------------------------------------------------------------------------------
// VFIDO_GARBAGE=1

VFIDO_PATH_SUITE(Garbage);

TEST_P(Garbage, AnAssertionThatIsNotCborNeverSucceeds) {
    Dev dev = open();
    const Enrolled cred = enrol(dev.get());
    EXPECT_EQ(get_assert(dev.get(), {cred.id}).error, FIDO_ERR_RX_NOT_CBOR);
    EXPECT_EQ(get_assert(dev.get(), {cred.id}, nullptr, FIDO_OPT_FALSE).error, FIDO_ERR_RX_NOT_CBOR);
}

// ---------------------------------------------------------------------------------------------------------------
// VFIDO_WRONG_RPID=1

VFIDO_PATH_SUITE(WrongRpId);

TEST_P(WrongRpId, VerificationCatchesTheForeignRpIdHash) {
    Dev dev = open();
    const Enrolled cred = enrol(dev.get());
    const GotAssertion got = get_assert(dev.get(), {cred.id});
    ASSERT_EQ(got.error, FIDO_OK);
    EXPECT_EQ(verify(got.assertion.get(), cred), FIDO_ERR_INVALID_PARAM);
    // libfido2 keeps authData CBOR-wrapped: a 37-byte byte string has the two-byte header 0x58 0x25.
    const Bytes wrapped = bytes_of(fido_assert_authdata_ptr(got.assertion.get(), 0),
                                   fido_assert_authdata_len(got.assertion.get(), 0));
    ASSERT_EQ(wrapped.size(), 2U + 37U);
    ASSERT_EQ(wrapped[0], 0x58);
    const Bytes rp_id_hash(wrapped.begin() + 2, wrapped.begin() + 2 + 32);
    EXPECT_NE(rp_id_hash, sha256(std::string(rp)));
    EXPECT_EQ(rp_id_hash, sha256(std::string("wrong-rpid.invalid")));
}

// ---------------------------------------------------------------------------------------------------------------
// VFIDO_KEYS=2, VFIDO_PIN=4321 (CTAP 2.0: getPINToken, subcommand 5)

constexpr char pin[] = "4321";

VFIDO_PATH_SUITE(Pin);

TEST_P(Pin, TheKeySaysItHasAPin) {
    Dev dev = open();
    EXPECT_TRUE(fido_dev_has_pin(dev.get()));
    EXPECT_FALSE(fido_dev_supports_permissions(dev.get()));
    EXPECT_EQ(info_option(info_of(dev.get()).get(), "clientPin"), true);
    int retries = 0;
    ASSERT_EQ(fido_dev_get_retry_count(dev.get(), &retries), FIDO_OK);
    EXPECT_EQ(retries, 8);
}

TEST_P(Pin, EnrolmentNeedsThePin) {
    Dev dev = open();
    EXPECT_EQ(make_cred(dev.get()).error, FIDO_ERR_PIN_REQUIRED);
    EXPECT_EQ(make_cred(dev.get(), rp, COSE_ES256, "0000").error, FIDO_ERR_PIN_INVALID);
    const MadeCred made = make_cred(dev.get(), rp, COSE_ES256, pin);
    ASSERT_EQ(made.error, FIDO_OK);
    EXPECT_EQ(fido_cred_flags(made.cred.get()), flag_up | flag_uv | flag_at);
    EXPECT_EQ(fido_cred_verify_self(made.cred.get()), FIDO_OK);
}

TEST_P(Pin, TheRightPinSetsUvAndAWrongOneIsRefused) {
    Dev dev = open();
    const Enrolled cred = enrol(dev.get(), COSE_ES256, pin);
    const GotAssertion verified = get_assert(dev.get(), {cred.id}, pin);
    ASSERT_EQ(verified.error, FIDO_OK);
    EXPECT_EQ(flags(verified), flag_up | flag_uv);
    ASSERT_EQ(fido_assert_set_uv(verified.assertion.get(), FIDO_OPT_TRUE), FIDO_OK);
    EXPECT_EQ(verify(verified.assertion.get(), cred), FIDO_OK);

    const GotAssertion plain = get_assert(dev.get(), {cred.id});
    ASSERT_EQ(plain.error, FIDO_OK);
    EXPECT_EQ(flags(plain), flag_up);

    EXPECT_EQ(get_assert(dev.get(), {cred.id}, nullptr, FIDO_OPT_OMIT, FIDO_OPT_TRUE).error,
              FIDO_ERR_PIN_REQUIRED);
    EXPECT_EQ(get_assert(dev.get(), {cred.id}, "9999").error, FIDO_ERR_PIN_INVALID);
    int retries = 0;
    ASSERT_EQ(fido_dev_get_retry_count(dev.get(), &retries), FIDO_OK);
    EXPECT_EQ(retries, 7);
    EXPECT_EQ(get_assert(dev.get(), {cred.id}, pin).error, FIDO_OK);
    ASSERT_EQ(fido_dev_get_retry_count(dev.get(), &retries), FIDO_OK);
    EXPECT_EQ(retries, 8);
}

TEST_P(Pin, TouchProbeCountsAsATouch) {
    Dev dev = open();
    ASSERT_EQ(fido_dev_get_touch_begin(dev.get()), FIDO_OK);
    int touched = 0;
    ASSERT_EQ(fido_dev_get_touch_status(dev.get(), &touched, 1000), FIDO_OK);
    EXPECT_EQ(touched, 1);
}

TEST(PinOnce, ThreeWrongPinsInARowBlockUntilThePowerCycle) {
    Dev dev = must_open(1, Path::transport);
    EXPECT_EQ(make_cred(dev.get(), rp, COSE_ES256, "1111").error, FIDO_ERR_PIN_INVALID);
    EXPECT_EQ(make_cred(dev.get(), rp, COSE_ES256, "2222").error, FIDO_ERR_PIN_INVALID);
    EXPECT_EQ(make_cred(dev.get(), rp, COSE_ES256, "3333").error, FIDO_ERR_PIN_AUTH_BLOCKED);
    EXPECT_EQ(make_cred(dev.get(), rp, COSE_ES256, pin).error, FIDO_ERR_PIN_AUTH_BLOCKED);
    int retries = 0;
    ASSERT_EQ(fido_dev_get_retry_count(dev.get(), &retries), FIDO_OK);
    EXPECT_EQ(retries, 5);
}

// ---------------------------------------------------------------------------------------------------------------
// VFIDO_KEYS=2, VFIDO_PIN=4321, VFIDO_KEY1_PIN= (empty), VFIDO_CTAP=2.1 (pinUvAuthToken: subcommand 9)

VFIDO_PATH_SUITE(PinCtap21);

TEST_P(PinCtap21, TokensWithPermissionsWork) {
    Dev dev = open();
    EXPECT_TRUE(fido_dev_supports_permissions(dev.get()));
    EXPECT_EQ(info_versions(info_of(dev.get()).get()), (std::vector<std::string>{"FIDO_2_0", "FIDO_2_1"}));
    EXPECT_EQ(make_cred(dev.get()).error, FIDO_ERR_PIN_REQUIRED);
    const Enrolled cred = enrol(dev.get(), COSE_ES256, pin);
    const GotAssertion got = get_assert(dev.get(), {cred.id}, pin);
    ASSERT_EQ(got.error, FIDO_OK);
    EXPECT_EQ(flags(got), flag_up | flag_uv);
    EXPECT_EQ(verify(got.assertion.get(), cred), FIDO_OK);
    // libfido2 itself refuses uv without a PIN on a key that has no built-in UV.
    EXPECT_EQ(get_assert(dev.get(), {cred.id}, nullptr, FIDO_OPT_OMIT, FIDO_OPT_TRUE).error,
              FIDO_ERR_PIN_REQUIRED);
    EXPECT_EQ(get_assert(dev.get(), {cred.id}, "9999").error, FIDO_ERR_PIN_INVALID);
    EXPECT_EQ(get_assert(dev.get(), {cred.id}, pin).error, FIDO_OK);
}

TEST_P(PinCtap21, WithoutAPinLibfido2RefusesUvItself) {
    Dev dev = open(1);  // VFIDO_KEY1_PIN= (empty) takes the global PIN away from key 1
    EXPECT_FALSE(fido_dev_has_pin(dev.get()));
    const Enrolled cred = enrol(dev.get());
    EXPECT_EQ(get_assert(dev.get(), {cred.id}, nullptr, FIDO_OPT_OMIT, FIDO_OPT_TRUE).error,
              FIDO_ERR_PIN_REQUIRED);
    EXPECT_EQ(get_assert(dev.get(), {cred.id}, pin).error, FIDO_ERR_PIN_NOT_SET);
}

// ---------------------------------------------------------------------------------------------------------------
// VFIDO_KEYS=3, VFIDO_KEY1_PIN=9999, VFIDO_KEY2_TOUCH=deny

VFIDO_PATH_SUITE(MultipleKeys);

TEST_P(MultipleKeys, ACredentialAnswersOnlyOnTheKeyThatMadeIt) {
    Dev key0 = open(0);
    Dev key1 = open(1);
    Dev key2 = open(2);
    EXPECT_FALSE(fido_dev_has_pin(key0.get()));
    EXPECT_TRUE(fido_dev_has_pin(key1.get()));

    const Enrolled on0 = enrol(key0.get());
    const Enrolled on1 = enrol(key1.get(), COSE_ES256, "9999");
    EXPECT_EQ(get_assert(key0.get(), {on0.id}).error, FIDO_OK);
    EXPECT_EQ(get_assert(key1.get(), {on0.id}).error, FIDO_ERR_NO_CREDENTIALS);
    EXPECT_EQ(get_assert(key1.get(), {on1.id}, "9999").error, FIDO_OK);
    EXPECT_EQ(get_assert(key0.get(), {on1.id}).error, FIDO_ERR_NO_CREDENTIALS);
    // Key 2 denies touches but an up=false probe still tells that the credential is not there.
    EXPECT_EQ(get_assert(key2.get(), {on0.id}, nullptr, FIDO_OPT_FALSE).error, FIDO_ERR_NO_CREDENTIALS);
    EXPECT_EQ(get_assert(key2.get(), {on0.id}).error, FIDO_ERR_OPERATION_DENIED);
    EXPECT_EQ(make_cred(key2.get()).error, FIDO_ERR_OPERATION_DENIED);
}

// ---------------------------------------------------------------------------------------------------------------
// VFIDO_KEYS=2, VFIDO_PIN=4321, VFIDO_KEY0_ROGUE=1: key 0 is a rogue device, key 1 an honest key

VFIDO_PATH_SUITE(Rogue);

TEST_P(Rogue, ClaimsAnotherKeysCredentialButItsSignatureDoesNotVerify) {
    Dev rogue = open(0);
    Dev honest = open(1);
    const Enrolled cred = enrol(honest.get(), COSE_ES256, pin);
    for (const auto up : {FIDO_OPT_FALSE, FIDO_OPT_OMIT}) {
        const GotAssertion got = get_assert(rogue.get(), {Bytes(40, 0x11), cred.id}, nullptr, up);
        ASSERT_EQ(got.error, FIDO_OK);
        EXPECT_EQ(
            bytes_of(fido_assert_id_ptr(got.assertion.get(), 0), fido_assert_id_len(got.assertion.get(), 0)),
            Bytes(40, 0x11))
            << "the first id of the allowList, whoever minted it";
        EXPECT_EQ(flags(got), up == FIDO_OPT_FALSE ? 0 : flag_up);
    }
    const GotAssertion claimed = get_assert(rogue.get(), {cred.id});
    ASSERT_EQ(claimed.error, FIDO_OK);
    EXPECT_EQ(verify(claimed.assertion.get(), cred), FIDO_ERR_INVALID_SIG);
    // Any PIN gets a token: the PIN's hash is what the device was after.
    EXPECT_EQ(get_assert(rogue.get(), {cred.id}, "9999").error, FIDO_OK);
    const GotAssertion real = get_assert(honest.get(), {cred.id});
    ASSERT_EQ(real.error, FIDO_OK);
    EXPECT_EQ(verify(real.assertion.get(), cred), FIDO_OK);
}

// ---------------------------------------------------------------------------------------------------------------
// An invalid knob (bad value, unknown name, index out of range): the keys are listed but never answer.

VFIDO_PATH_SUITE(MisconfiguredKey);

TEST_P(MisconfiguredKey, IsListedButNeverAnswers) {
    DevList list(4);
    std::size_t found = 0;
    ASSERT_EQ(fido_dev_info_manifest(list.get(), list.capacity(), &found), FIDO_OK);
    EXPECT_EQ(found, 1U);
    const auto start = Clock::now();
    EXPECT_EQ(open_key(0, GetParam()).error, FIDO_ERR_RX);
    EXPECT_LT(Clock::now() - start, milliseconds(1000));
}

// ---------------------------------------------------------------------------------------------------------------
// No LD_PRELOAD at all.

TEST(WithoutPreload, NothingVirtualExists) {
    EXPECT_EQ(dlsym(RTLD_DEFAULT, "vfido_keepalives_sent"), nullptr);
    DevList list(16);
    std::size_t found = 0;
    ASSERT_EQ(fido_dev_info_manifest(list.get(), list.capacity(), &found), FIDO_OK);
    for (std::size_t i = 0; i < found; ++i)
        EXPECT_EQ(std::string(fido_dev_info_path(fido_dev_info_ptr(list.get(), i))).rfind("vfido:", 0),
                  std::string::npos);
    EXPECT_NE(open_key(0, Path::io).error, FIDO_OK);
}

}  // namespace

int main(int argc, char** argv) {
    // libfido2 wants this first; it also turns on FIDO_DEBUG=1 traffic dumps when asked.
    fido_init(0);
    testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
