// `pam-passwordless-helper recovery-codes`: root makes a user's break-glass codes, or asks how many are left.
#pragma once

#include <string>
#include <vector>

namespace pp::helper {

// args: what follows "recovery-codes" on the command line (--user NAME, --count N, --left). Returns the exit
// status: 0 done, 1 refused or failed, 2 usage error, 4 no such local account.
int recovery_codes_command(const std::vector<std::string>& args, const std::string& config_path);

}  // namespace pp::helper
