// Reads another process's memory as a core file would hold it, to look for secrets that outlived their use.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace pp::test {

struct MemoryHit {
    std::string needle_name;  // what was found, never the secret itself
    std::string mapping;      // the line of /proc/PID/maps it lies in
    unsigned long address = 0;
};

struct Needle {
    std::string name;   // printable, e.g. "code 1" or "IdToken 2 (bytes 64..96)"
    std::string bytes;  // what to look for
};

// Every readable private mapping of `pid` (heap, anonymous memory, thread stacks, the writable data of
// the program and its libraries: what a core file would hold), read through /proc/PID/mem as root. Returns
// every place a needle occurs. Throws std::runtime_error when the process cannot be read at all.
std::vector<MemoryHit> find_in_memory(pid_t pid, const std::vector<Needle>& needles);

// Needles for one secret: the whole value and, for values long enough, windows of 24 bytes at the start, the
// middle and the end, so that a partial copy (a split TLS record, one segment of a JWT) is found too.
std::vector<Needle> needles_for(const std::string& name, const std::string& secret);

}  // namespace pp::test
