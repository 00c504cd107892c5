#include "workflow/patterns.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "base/strings.h"

namespace sw::workflow {
namespace fs = std::filesystem;

std::string PatternsDir() {
  auto ok = [](const fs::path& d) {
    std::error_code ec;
    return fs::is_directory(d / "std", ec);
  };
  if (const char* e = std::getenv("SPECWRIGHT_PATTERNS_DIR"); e && *e)
    return ok(e) ? fs::absolute(e).lexically_normal().string() : "";
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
    if (ok(c)) return c.lexically_normal().string();
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
