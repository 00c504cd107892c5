// Filesystem helpers; every write that must not be seen half-done goes through WriteFileAtomic.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace sw {

Result<std::string> ReadFile(const std::string& path);
/// WriteFileAtomic writes to a temporary sibling then renames it over path.
Status WriteFileAtomic(const std::string& path, std::string_view data);
Status MakeDirs(const std::string& path);
bool FileExists(const std::string& path);

}  // namespace sw
