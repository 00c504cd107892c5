// Glob patterns as RE2 regular expressions (fs.glob, fs.grep's file filter, the spec scan's
// .gitignore rules and test globs).
#pragma once

#include <string>

namespace sw::tools {

/// GlobToRegex: `**/` any run of folders (none included), `**` anything, `*` anything but
/// '/', `?` one character but '/', `[abc]` / `[!abc]` a class, `\x` a literal x; everything
/// else literal. The result matches a whole '/'-separated path (use FullMatch).
std::string GlobToRegex(const std::string& glob);

}  // namespace sw::tools
