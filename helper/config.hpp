// The helper's configuration: one file, parsed and validated once, replaced as a whole on SIGHUP.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "defaults.hpp"
#include "rate_limits.hpp"
#include "secret.hpp"

namespace pp::cognito {
class JsonWebKeySet;
}

namespace pp::helper {

inline constexpr const char* kDefaultConfigPath = "/etc/pam_passwordless/helper.conf";
inline constexpr const char* kDefaultLimitsStateFile = "/var/lib/pam_passwordless/limits";
// The ids of the example configuration (conf/helper.conf), which name no real pool.
inline constexpr std::string_view kExamplePoolId = "eu-west-1_AbCdEf123";
inline constexpr std::string_view kExampleClientId = "1example23456789abcdefghij";

enum class Method { EmailOtp, SmsOtp, SecurityKey, Passkey, Browser };
// As written in the file: email_otp, sms_otp, security_key, passkey, browser.
std::string_view method_name(Method m);
// As the user pool's USER_AUTH names it: EMAIL_OTP, SMS_OTP, WEB_AUTHN ("" for a local key and the browser).
std::string_view method_challenge(Method m);
bool is_otp(Method m);
bool is_pool_method(Method m);  // answered through USER_AUTH: the codes and the pool's passkeys
// Signed in at the user pool's managed login on the person's own device (authorization code + PKCE): not
// USER_AUTH, but it ends in an ID token of the pool as they do, so it needs the identity binding too.
bool is_browser(Method m);

// Passkeys registered with the user pool (WEB_AUTHN), used through a key connected to this machine.
struct PasskeyPolicy {
    std::string rp_id;   // must equal the rpId the pool sends; required when the passkey method is enabled
    std::string origin;  // the origin written into clientDataJSON; default https://<rp_id>
    // The user pool's WebAuthnConfiguration.UserVerification as the admin states it ("preferred", Cognito's
    // default, or "required"): what the decoy's passkey asks until a real login has shown what the pool asks
    // (login/passkey_uv_memory.hpp).
    bool pool_requires_uv = false;
};
// The pool's setting as [passkey] user_verification, the pool_passkey_uv file and the log lines name it.
inline const char* uv_setting_name(bool required) {
    return required ? "required" : "preferred";
}

enum class UserVerification { Discouraged, Preferred, Required };

// Locally enrolled FIDO2 keys.
struct SecurityKeyPolicy {
    // Stable by design: never derived from the host name at login time, so renaming a host breaks no key.
    std::string rp_id = "pam://pam-passwordless";
    std::string store_dir = "/var/lib/pam_passwordless/credentials";
    UserVerification user_verification = UserVerification::Preferred;
    std::chrono::seconds touch_timeout{protocol::kTouchTimeout};
};

// [browser]: "Sign in with your browser" (issue #13, specs/cognito-managed-login.md). The client secret never
// leaves root, and the token endpoint would need the secret itself (not a hash) for a confidential client: so
// the app client used here is a PUBLIC one (no secret), and PKCE protects the code.
struct BrowserSignIn {
    std::string domain;        // host[:port] of the user pool's managed login; always https
    std::string client_id;     // a PUBLIC app client (no secret): code grant + PKCE
    std::string redirect_uri;  // https URL of the callback page, registered as the client's callback URL
    std::vector<std::string> scopes{"openid", "email", "phone"};
    bool require_passkey = false;  // the ID token's amr must hold "swk" or "hwk"
    bool show_qr = true;           // the module draws a QR code of the link
    // short: the callback page's URL with a #fragment (the page launches the sign-in from its pool.json);
    // full: the whole authorize URL (a page folder without pool.json).
    enum class Link { Short, Full } link = Link::Short;
};

struct MethodPolicy {
    std::vector<Method> local;   // logins from the console or with no remote host
    std::vector<Method> remote;  // logins with PAM_RHOST set to another host
};

enum class UnknownUser { Fail, Ignore };

struct Config {
    std::string source;  // the path it was read from

    // [pool]
    std::string region, pool_id, client_id;
    std::string client_secret_file;
    std::optional<Secret> client_secret;
    std::string endpoint, issuer, jwks_url, ca_file;
    std::string
        ca_pem;  // ca_file's text, read and checked at load (the network worker gets it, not the path)
    // Every request to the pool (API and key set) goes through this HTTP proxy's CONNECT tunnel when set, and
    // through no proxy when not: the daemon's environment (https_proxy, all_proxy, no_proxy) is never read.
    std::string proxy;
    // The pool's signing keys pinned by the admin (pinned_keys.hpp): ID tokens are verified with these alone
    // and jwks_url is never fetched for a login. Read and checked at load; null when jwks_file is not set.
    std::string jwks_file;
    std::shared_ptr<const cognito::JsonWebKeySet> pinned_keys;
    // What the pool's sign-in sessions allow, as the admin states them: the app client's AuthSessionValidity
    // and the pool's wrong codes per session (0: not stated). The decoy's made-up session ends as a real one
    // does, by these until real logins have shown otherwise (login/pool_session_memory.hpp).
    std::chrono::seconds session_validity{180};
    int code_attempts = 0;

    // [log]
    bool debug_log = false;  // level = debug: trace each login's steps (never a code, token or secret)

    // [login]
    MethodPolicy methods;
    int max_tries = 3;
    std::chrono::seconds request_timeout{10};
    std::chrono::seconds login_timeout{300};
    UnknownUser unknown_user = UnknownUser::Fail;
    bool allow_unprivileged_self = false;
    int max_concurrent_logins = 64;
    int max_concurrent_per_caller = 16;
    // Admission (admission.hpp): max_concurrent_logins is the local pool, max_concurrent_per_caller applies
    // to callers other than root; remote logins have a pool of their own, shared fairly by source network.
    int max_remote_logins = 4096;
    std::chrono::seconds refusal_log_interval{60};
    // A loopback PAM_RHOST (127.0.0.0/8, ::1, localhost) is a local login only when the admin says so: by
    // default it is a remote one, as sshd reports connections through a local port forward that way.
    bool loopback_is_local = false;
    // How long what the user pool offered an identity at its last login is trusted to show the menu before
    // asking the pool (factor_memory.hpp); 0 turns the memory off.
    std::chrono::seconds remember_factors{30 * 86400};

    // [binding]
    std::string mapping_file;
    std::string claim;
    bool ask_identifier = false;
    // Claim binding alone serves root and accounts below this uid only when they are listed by name.
    uid_t claim_min_uid = 1000;
    std::vector<std::string> claim_allow_users;

    // [security_key]
    SecurityKeyPolicy security_key;

    // [passkey]
    PasskeyPolicy passkey;

    // [browser]: set iff the section gives a domain.
    std::optional<BrowserSignIn> browser;

    // [limits]
    LimitPolicy limits;
    std::string limits_state_file = kDefaultLimitsStateFile;

    // Keys an older version read that no longer do anything (check-config names them).
    std::vector<std::string> obsolete_keys;

    // [service NAME]
    std::map<std::string, MethodPolicy> services;

    // [recovery], and `recovery` in [service NAME]: break-glass codes for local logins while the user pool
    // cannot be reached (recovery_codes.hpp, recovery_login.cpp).
    struct RecoveryPolicy {
        bool enabled = true;  // for services that do not say
        std::string store_dir = "/var/lib/pam_passwordless/recovery";
        std::map<std::string, bool> services;
    } recovery;
    [[nodiscard]] bool recovery_for(const std::string& service) const;

    [[nodiscard]] const std::vector<Method>& methods_for(const std::string& service, bool remote) const;
    // The [service NAME] section that holds for a PAM service (without case, as PAM names it): its own, else
    // that of service_family, else none ("": [login] applies).
    [[nodiscard]] std::string section_for(const std::string& service) const;
};

// The service whose section holds for a PAM service without one of its own (Debian's second names: "sudo-i"
// → "sudo", "su-l" → "su", "runuser-l" → "runuser"; the other ways to root: "polkit-1", "doas" → "sudo"), or
// "". held_with: the other way, each with the command it stands for.
std::string_view service_family(std::string_view service);
std::vector<std::pair<std::string_view, std::string_view>> held_with(std::string_view service);

class ConfigError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Parses text as if read from `source`; errors name the source and the line.
Config parse_config(const std::string& text, const std::string& source);
// Reads the file through the trusted-file checks, parses it and reads the client secret file.
Config load_config(const std::string& path);
// What check-config prints: the settings in force and the warnings an admin should read.
std::string describe_config(const Config& c);
std::vector<std::string> config_warnings(const Config& c);
// The example's placeholder ids in [pool]. check-config warns rather than refuses: the package installs the
// example and its unit runs check-config before the helper starts; with these ids every login fails at the
// pool, closed.
std::optional<std::string> placeholder_warning(const Config& c);

}  // namespace pp::helper
