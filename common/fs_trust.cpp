#include "fs_trust.hpp"

namespace pp {

const char* not_root_alone(const struct stat& st) {
    if (st.st_uid != 0) return "not owned by root";
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) return "writable by group or others";
    return nullptr;
}

}  // namespace pp
