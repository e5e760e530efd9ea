// Per-credential signature counters. With a state directory they survive the process and are shared by every
// process using the key (one file per credential, updated under a lock with an atomic rename); without one
// they live in this process's memory.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "bytes.hpp"
#include "knobs.hpp"

namespace vfido {

// A number kept in a file of the state directory: nullopt when there is none; a damaged file throws rather
// than start again from scratch (that could hide what a test looks for). Written whole, by a rename.
std::optional<std::uint32_t> read_state_number(const std::string& path);
void write_state_number(const std::string& path, std::uint32_t value);
// Replaces the number `name` of the state directory `dir` by what `change` makes of it, under the directory's
// lock (a read-modify-write that concurrent processes cannot interleave), and returns it.
std::uint32_t change_state_number(const std::string& dir, const std::string& name,
                                  const std::function<std::uint32_t(std::optional<std::uint32_t>)>& change);

class SignCounters {
  public:
    explicit SignCounters(std::string state_dir) : state_dir_(std::move(state_dir)) {}

    // The counter for the next assertion with `credential_id`, already recorded:
    //   normal  - one more than the last;
    //   zero    - always 0, nothing recorded (a key that does not count);
    //   regress - one less than the last (never below 0); a credential never used before starts at 100 so
    //             that a single process sees 100, 99, 98: the first value is legal, the rest go backwards.
    std::uint32_t next(ByteView credential_id, CounterMode mode);

  private:
    std::uint32_t advance_in_file(const std::string& name, CounterMode mode);

    std::string state_dir_;
    std::mutex mutex_;
    std::map<std::string, std::uint32_t> in_memory_;
};

}  // namespace vfido
