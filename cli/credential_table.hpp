// What `list` and `pool-list` print: the helper's Listing records ("field=value" pairs separated by tabs) as
// tables.
#pragma once

#include <string>
#include <vector>

namespace pp::cli {

// Columns ID, NAME, ALG, UV, CREATED, LAST USED, RP ID, one row per record, in the helper's order. The id is
// its short form (the shortest start, 8 characters or more, that tells it from the account's others), which
// rename and remove take. Times are local; a credential never used shows "never".
std::string credential_table(const std::vector<std::string>& records);

// Columns ID, NAME, RP ID, ATTACHMENT, TRANSPORTS, CREATED for the user pool's passkeys, in the pool's order.
// The id is the short form of the pool's own string, as pool-delete takes it; an empty value shows "-".
std::string pool_passkey_table(const std::vector<std::string>& records);

}  // namespace pp::cli
