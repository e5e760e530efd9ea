// What `list` prints: the helper's Listing records ("field=value" pairs separated by tabs) as a table.
#pragma once

#include <string>
#include <vector>

namespace pp::cli {

// Columns ID, NAME, ALG, UV, CREATED, LAST USED, RP ID, one row per record, in the helper's order. The id is
// printed whole, as rename and remove take it. Times are local; a credential never used shows "never".
std::string credential_table(const std::vector<std::string>& records);

}  // namespace pp::cli
