// Every text the helper shows a person on the login and management paths, in one place: the flow and the
// tests (which include this header instead of copying the words) read the same bytes, and README.md and the
// man pages quote them. Texts built from a value (a destination, a wait) have their builder here too.
#pragma once

#include <cstdint>
#include <string>

#include "defaults.hpp"

namespace pp::helper {

// config.hpp's sign-in methods; declared here alone so that tests include this header without the helper's.
enum class Method;

// --- Endings every path shares
inline constexpr const char* kSignInFailed = "Sign-in failed.";
inline constexpr const char* kMisconfigured =
    "Passwordless sign-in is misconfigured; contact your administrator.";
inline constexpr const char* kUnavailable = "The sign-in service cannot be reached; try again later.";
inline constexpr const char* kLookupUnavailable = "Sign-in is unavailable right now; try again later.";
inline constexpr const char* kCancelled = "Sign-in cancelled.";
inline constexpr const char* kTimedOut = "Sign-in timed out.";
inline constexpr const char* kNotAllowed = "Not allowed to authenticate this user.";
inline constexpr const char* kBusy = "Too many sign-ins at once; try again in a moment.";
inline constexpr const char* kBusyRemote =
    "Too many sign-ins at once from your network; try again in a moment.";
// Other logins of this user's budget hold every try it allows right now (rate_limits.hpp): nothing failed.
inline constexpr const char* kSignInInProgress =
    "Another sign-in for this user is already in progress; try again in a minute.";
inline constexpr const char* kTestLoginRootOnly = "test-login is for root only.";
inline constexpr const char* kNoMethodEnabled = "No sign-in method is enabled here.";
inline constexpr const char* kNoMethodAvailable = "No sign-in method is available for this account.";
inline constexpr const char* kSessionExpired = "The sign-in session has expired; please start again.";
inline constexpr const char* kCodeExpired = "The code has expired; please start again.";
inline constexpr const char* kRememberedGone =
    "That sign-in method is not available now; please sign in again.";

// --- The menu and the identifier question
inline constexpr const char* kChooseHeader = "Choose how to sign in:\n";
inline constexpr const char* kChooseAgain = "Please answer with a number from the list.\n";
inline constexpr const char* kNotAnIdentifier = "That is not an email address or phone number. ";
// "Email or phone for alice: "
std::string identifier_prompt(const std::string& user);
// A method as the menu lists it ("Email code", "Text message code to +*******0123").
std::string menu_label(Method m, const std::string& dest);

// --- Codes
inline constexpr const char* kTooManyWrong = "Sign-in failed: too many wrong codes.";
inline constexpr const char* kOfferAgain = "Please press Enter to send the code, or answer n to cancel.\n";
// The prompt for a code sent to `where` (a masked destination); after a wrong code it says so.
std::string code_prompt(const std::string& where, bool after_wrong);
// "Send a code to a***@e***? [Y/n] "; without a masked destination "your email" or "your phone".
std::string code_offer_prompt(Method method, const std::string& masked);
// "Too many codes requested; try again in 3 minutes." and its kin: a wait in whole minutes, rounded up.
std::string send_limit_text(std::int64_t wait_seconds);
std::string machine_send_limit_text(std::int64_t wait_seconds);
std::string network_ask_limit_text(std::int64_t wait_seconds);
std::string machine_ask_limit_text(std::int64_t wait_seconds);
std::string backoff_text(std::int64_t wait_seconds);

// --- Security keys and passkeys
// What a key request shows when it does not say otherwise (protocol/defaults.hpp): one text, both sides.
inline constexpr const char* kTouchKey = protocol::kTouchText;
inline constexpr const char* kTouchToEnrol = "Touch your security key to enrol it.";
inline constexpr const char* kTouchToRegister = "Touch your security key to register it with the user pool.";
inline constexpr const char* kPinPrompt = protocol::kPinPrompt;
inline constexpr const char* kNoKey = "No security key found. Plug in your security key and try again.";
// Put before the menu shown again when the chosen security key was not there.
inline constexpr const char* kNoKeyAgain = "No security key found.\n";
inline constexpr const char* kKeyDenied = "The security key refused the touch.";
inline constexpr const char* kKeyDeniedEnrol = "The security key refused: is it enrolled already?";
inline constexpr const char* kKeyTimeout = "Security key timed out: no touch in time.";
inline constexpr const char* kKeyPinRequired = "This sign-in needs the security key's PIN.";
inline constexpr const char* kKeyPinRequiredEnrol = "This key needs a PIN; set one and try again.";
inline constexpr const char* kKeyPinInvalid = "Wrong security key PIN.";
inline constexpr const char* kKeyPinBlocked = "The security key's PIN is blocked.";
inline constexpr const char* kKeyError = "The security key did not answer properly.";
inline constexpr const char* kPoolRefusedPasskey = "The user pool did not accept the passkey.";

// --- Sign in with your browser (issue #13)
inline constexpr const char* kBrowserMenuEntry = "Sign in with your browser";
inline constexpr const char* kBrowserCodePrompt = "Code from the browser: ";
inline constexpr const char* kBrowserCodeRefused = "That code is not valid for this sign-in.";
inline constexpr const char* kBrowserLinkExpired = "The sign-in link has expired.";
// "Open this link on your phone or computer and sign in. The page then shows a code for alice on host1."
std::string browser_link_text(const std::string& user, const std::string& host);

// --- The break-glass
inline constexpr const char* kRecoveryPrompt =
    "The sign-in service cannot be reached.\nRecovery code (Enter to cancel): ";

// --- Management
inline constexpr const char* kInvalidUserName = "Invalid user name.";
inline constexpr const char* kUnknownRequest = "Unknown request.";
inline constexpr const char* kImportRootOnly = "Only root may import credentials.";
inline constexpr const char* kOwnKeysOnly = "You may manage only your own security keys.";
inline constexpr const char* kOwnPasskeysOnly = "You may manage only your own passkeys.";
inline constexpr const char* kBadNickname = "A name is 1 to 64 printable characters.";
inline constexpr const char* kNoSuchKey = "No such security key.";
inline constexpr const char* kNoSuchPasskey = "No such passkey.";
inline constexpr const char* kNoPoolMethod = "No user-pool sign-in method is enabled here.";
inline constexpr const char* kNoUsableAlgorithm = "The user pool accepts no algorithm this key offers.";
inline constexpr const char* kKeyAnswerUnusable = "The security key's answer is unusable.";
inline constexpr const char* kKeyAnswerUnverified = "The security key's answer did not verify.";
inline constexpr const char* kRemovedKey = "Removed the security key.";
inline constexpr const char* kDeletedPasskey = "Deleted the passkey from the user pool.";
inline constexpr const char* kImportedNothing = "Imported nothing: the file holds no pam-u2f line.";
inline constexpr const char* kImportNeedsRpId = "import needs the origin pam-u2f used (--rp-id).";

}  // namespace pp::helper
