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
/// SamePath says whether two paths name the same file or folder, links resolved as far as
/// the paths exist (else compared as written, normalised; a trailing '/' does not count).
bool SamePath(const std::string& a, const std::string& b);

}  // namespace sw
