#include "tools/sandbox.h"

#include <filesystem>
#include <system_error>

#include "base/strings.h"

namespace sw::tools {
namespace {

namespace fs = std::filesystem;

bool Within(const fs::path& root, const fs::path& p) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q)
    if (q == p.end() || *r != *q) return false;
  return true;
}

}  // namespace

Result<std::string> ResolveInWorkspace(const std::string& root, const std::string& rel, bool for_write) {
  if (root.empty()) return InvalidInput("this run has no workspace (add `workspace:` to the workflow)");
  if (rel.find('\0') != std::string::npos) return InvalidInput("path contains a NUL byte");
  fs::path given(rel.empty() ? "." : rel);
  if (given.is_absolute())
    return InvalidInput("path " + Quote(rel) + " is absolute; give it relative to the workspace");
  std::error_code ec;
  fs::path real_root = fs::canonical(root, ec);
  if (ec) return IoError("workspace " + root + ": " + ec.message());
  fs::path norm = given.lexically_normal();
  if (!norm.empty() && *norm.begin() == "..")
    return InvalidInput("path " + Quote(rel) + " leads outside the workspace");
  if (!norm.empty() && (*norm.begin() == ".git"))
    return InvalidInput("path " + Quote(rel) + " is inside .git, which holds the run's checkpoints");
  if (!norm.empty() && (*norm.begin() == ".specwright"))
    return InvalidInput("path " + Quote(rel) + " is inside .specwright, which holds Specwright's own state");
  fs::path joined = (real_root / norm).lexically_normal();
  // Resolve symlinks on the longest prefix that exists; whatever is left does not exist yet
  // (and so cannot be a link).
  fs::path existing = joined, rest;
  while (!existing.empty() && existing != real_root && !fs::exists(fs::symlink_status(existing, ec))) {
    rest = rest.empty() ? existing.filename() : existing.filename() / rest;
    existing = existing.parent_path();
  }
  fs::path real = fs::canonical(existing, ec);
  if (ec) {
    // A dangling symlink: writing through it would create its target, wherever that is.
    if (fs::is_symlink(fs::symlink_status(existing)))
      return InvalidInput("path " + Quote(rel) + " goes through a symlink whose target does not exist (" +
                          fs::read_symlink(existing, ec).string() + ")");
    return IoError("resolving " + Quote(rel) + ": " + ec.message());
  }
  if (!Within(real_root, real))
    return InvalidInput("path " + Quote(rel) + " leads outside the workspace (through a symlink to " + real.string() +
                        ")");
  fs::path out = rest.empty() ? real : (real / rest).lexically_normal();
  if (!for_write && !rest.empty()) return NotFound("no such file or directory: " + Quote(rel));
  fs::path rel_out = out.lexically_relative(real_root);
  if (!rel_out.empty() && *rel_out.begin() == ".git")
    return InvalidInput("path " + Quote(rel) + " is inside .git, which holds the run's checkpoints");
  if (!rel_out.empty() && *rel_out.begin() == ".specwright")
    return InvalidInput("path " + Quote(rel) + " is inside .specwright, which holds Specwright's own state");
  return out.string();
}

std::string RelativeToWorkspace(const std::string& root, const std::string& abs) {
  std::error_code ec;
  fs::path real_root = fs::canonical(root, ec);
  fs::path r = fs::path(abs).lexically_relative(ec ? fs::path(root) : real_root);
  std::string s = r.string();
  return s.empty() ? "." : s;
}

}  // namespace sw::tools
