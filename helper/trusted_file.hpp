// Reading and writing the files the helper trusts: configuration, identity map, secrets, state.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "secret.hpp"

namespace pp::helper {

class FileError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class Confidentiality { Public, Secret };

// Reads a whole file that root owns, that no group or other user can write (for secrets: read either), that
// is not a symlink, in a directory with the same properties. Anything else could have been planted by someone
// other than the admin. Throws FileError naming the path and the problem.
std::string read_trusted_file(const std::string& path, std::size_t max_size,
                              Confidentiality c = Confidentiality::Public);
Secret read_secret_file(const std::string& path, std::size_t max_size);
// The first `n` bytes (fewer if the file is shorter), after the same checks: to tell a file's format without
// reading all of it.
std::string read_trusted_head(const std::string& path, std::size_t n, Confidentiality c);

// The same checks without reading: the directory, and the file when it exists (returns false when it does
// not). For files another library opens, such as the limits' SQLite database.
bool check_trusted_path(const std::string& path, Confidentiality c);

// The checks read_trusted_file makes of the file itself, on its `st` (fstat of the open file): for files
// opened elsewhere, such as the counter journal.
void check_trusted_file(const std::string& path, const struct stat& st, Confidentiality c);

// A directory the helper trusts as read_trusted_file trusts a file's: root's, writable by nobody else.
void check_trusted_directory(const std::string& dir);
// Creates the absolute path `dir` and any missing parent (mode 0700), then checks it as above: the home of a
// store of root-only files (security-key credentials, recovery codes).
void make_private_directory(const std::string& dir);

// Replaces `path` with `contents` atomically: a temporary file in the same directory, fsync, rename, fsync of
// the directory. Mode 0600, owned by the writer (root).
void write_file_atomically(const std::string& path, std::string_view contents);

}  // namespace pp::helper
