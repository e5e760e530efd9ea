// Reading the credentials that pam-u2f knows (its authfile), so users keep their keys when switching.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "credential.hpp"

namespace pp::helper {

// pam-u2f reads at most this many credentials per user (its max_devices default) and ignores the rest.
inline constexpr std::size_t kPamU2fMaxDevices = 24;

// Parses a pam-u2f authfile as pamu2fcfg writes it: one line per user, "user:entry[:entry...]", where an
// entry is "KeyHandle,PublicKey,CoseType,Options" (standard base64 with padding for the first two; the
// public key as libfido2 gives it; "es256" or "eddsa", any case; options such as "+presence+verification").
// The old format "KeyHandle,PublicKey" (base64url key handle, hex 0x04||x||y public key) is read as ES256.
// Each credential becomes a StoredCredential for `rp_id`: pam-u2f's "origin" ("pam://" + hostname at
// enrolment unless set). Old-format credentials were made for pam-u2f's "appid", which is the origin unless
// the admin set appid=. Nickname "imported from pam-u2f", created = now, counter 0, uv and uv_required (every
// login asks for the PIN, as pam-u2f did) when the options say "+verification" or "+pin".
// Like pam-u2f, a later line for the same user replaces an earlier one and entries past kPamU2fMaxDevices are
// not taken; each such case is reported. Blank lines and '#' comments are skipped. A line or entry that
// cannot be read goes to `problems` as "<line>: <why>" and the rest are still returned. Resident
// credentials ("*" for the key handle) and RS256 keys cannot be imported. Throws CredentialError when
// `rp_id` is not a valid relying-party id.
std::vector<StoredCredential> parse_pam_u2f_authfile(std::string_view text, const std::string& rp_id,
                                                     std::int64_t now, std::vector<std::string>& problems);

}  // namespace pp::helper
