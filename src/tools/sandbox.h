// Sandbox: every path a tool touches is resolved here, against the run's workspace, and
// refused when it could lead outside: absolute paths, `..` that climbs above the root,
// symlinks (anywhere on the way) whose target is outside, and the workspace's own .git.
#pragma once

#include <string>

#include "base/status.h"

namespace sw::tools {

/// ResolveInWorkspace maps a path relative to root to an absolute path inside root (whose
/// parents may not exist yet when for_write). The root itself is "" or ".".
Result<std::string> ResolveInWorkspace(const std::string& root, const std::string& rel, bool for_write);

/// RelativeToWorkspace turns an absolute path inside root back into the form tools report.
std::string RelativeToWorkspace(const std::string& root, const std::string& abs);

}  // namespace sw::tools
