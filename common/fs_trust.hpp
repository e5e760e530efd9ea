// The one rule for "only root could have put this here", shared by the helper's trusted files and directories
// and the module's check of the helper's socket directory.
#pragma once

#include <sys/stat.h>

namespace pp {

// What keeps a file or directory (its stat) from being one root alone can change: nullptr when root owns it
// and neither its group nor others may write it, else the flaw in words ("not owned by root", "writable by
// group or others") for the caller to put after its own subject, so each keeps its own message.
const char* not_root_alone(const struct stat& st);

}  // namespace pp
