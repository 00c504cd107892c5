#include "workflow/patterns.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "base/strings.h"

namespace sw::workflow {
namespace fs = std::filesystem;

namespace {
thread_local std::string* g_override = nullptr;  // a ScopedPatternsDir's dir on this thread
}  // namespace

ScopedPatternsDir::ScopedPatternsDir(std::string dir) : had_previous_(g_override != nullptr) {
  if (had_previous_) previous_ = *g_override;
  if (!g_override) g_override = new std::string;
  *g_override = std::move(dir);
}

ScopedPatternsDir::~ScopedPatternsDir() {
  if (had_previous_) {
    *g_override = std::move(previous_);
  } else {
    delete g_override;
    g_override = nullptr;
  }
}

std::string PatternsDir() {
  if (g_override) return *g_override;
  auto ok = [](const fs::path& d) {
    std::error_code ec;
    return fs::is_directory(d / "std", ec);
  };
  // No trailing '/': callers (a bundle's patterns_dir prefix test) append "/std/...".
  auto plain = [](const fs::path& d) {
    std::string s = fs::absolute(d).lexically_normal().string();
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
  };
  if (const char* e = std::getenv("SPECWRIGHT_PATTERNS_DIR"); e && *e) return ok(e) ? plain(e) : "";
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    candidates.push_back(exe.parent_path() / "patterns");
    candidates.push_back(exe.parent_path().parent_path() / "share/specwright/patterns");
  }
#ifdef SW_SOURCE_DIR
  candidates.push_back(fs::path(SW_SOURCE_DIR) / "patterns");
#endif
  for (const auto& c : candidates)
    if (ok(c)) return plain(c);
  return "";
}

bool IsPatternRef(const std::string& ref) {
  if (ref.size() <= 4 || ref.compare(0, 4, "std/") != 0) return false;
  for (size_t i = 4; i < ref.size(); ++i) {
    char c = ref[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::vector<std::string> PatternNames() {
  std::vector<std::string> out;
  std::string dir = PatternsDir();
  if (dir.empty()) return out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(dir) / "std", ec)) {
    if (e.path().extension() != ".yaml") continue;
    std::string ref = "std/" + e.path().stem().string();
    if (IsPatternRef(ref)) out.push_back(ref);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> ResolvePattern(const std::string& ref) {
  if (!IsPatternRef(ref)) return InvalidInput("\"" + ref + "\" is not a pattern name (std/NAME)");
  std::string dir = PatternsDir();
  if (const char* e = std::getenv("SPECWRIGHT_PATTERNS_DIR"); dir.empty() && e && *e)
    return NotFound("cannot resolve " + ref + ": SPECWRIGHT_PATTERNS_DIR is " + e + ", which has no std/ folder");
  if (dir.empty())
    return NotFound("cannot find the shipped patterns/ folder for " + ref +
                    " (looked beside the binary, in share/specwright/patterns and the source tree); set "
                    "SPECWRIGHT_PATTERNS_DIR");
  fs::path p = fs::path(dir) / (ref + ".yaml");
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) {
    auto names = PatternNames();
    return NotFound("no pattern " + ref + " in " + dir + " (the library has: " + Join(names, ", ") + ")");
  }
  return p.string();
}

}  // namespace sw::workflow
