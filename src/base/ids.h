// Identifiers: run ids and the names that may end up near a filesystem path.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace sw {

/// NewRunId makes a sortable, readable id such as "20261122-223512-3f9a".
std::string NewRunId(double wall_seconds);

/// ValidateRunId accepts [A-Za-z0-9._-], 1..128 chars, that make a git ref name: not starting
/// with '.' or '-', not ending with '.' or ".lock", no "..".
Status ValidateRunId(std::string_view id);

/// ValidateArtifactName accepts relative names made of [A-Za-z0-9._-] segments joined by '/';
/// it refuses absolute paths, "..", ".", empty segments, backslashes and control characters,
/// so an artifact name can never address a file outside the store.
Status ValidateArtifactName(std::string_view name);

/// ValidateNodeId accepts identifiers: a letter or '_' then [A-Za-z0-9_-], up to 64 chars.
Status ValidateNodeId(std::string_view id);

}  // namespace sw
