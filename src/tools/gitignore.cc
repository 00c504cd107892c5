#include "tools/gitignore.h"

#include <re2/re2.h>

#include "base/strings.h"
#include "tools/glob.h"

namespace sw::tools {

void ParseGitignore(const std::string& text, const std::string& base, std::vector<IgnoreRule>* rules) {
  RE2::Options quiet;
  quiet.set_log_errors(false);
  for (std::string line : Split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    while (!line.empty() && line.back() == ' ' && (line.size() < 2 || line[line.size() - 2] != '\\')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    IgnoreRule r;
    r.base = base;
    if (line[0] == '!') r.negate = true, line.erase(0, 1);
    if (!line.empty() && line.back() == '/') r.dir_only = true, line.pop_back();
    if (line.empty()) continue;
    bool anchored = line.find('/') != std::string::npos;
    if (line[0] == '/') line.erase(0, 1);
    std::string re = anchored ? GlobToRegex(line) : "(?:.*/)?" + GlobToRegex(line);
    r.re = std::make_shared<RE2>(re, quiet);
    if (r.re->ok()) rules->push_back(std::move(r));
  }
}

bool Ignored(const std::vector<IgnoreRule>& rules, const std::string& rel, bool is_dir) {
  bool ignored = false;
  for (const auto& r : rules) {
    if (r.dir_only && !is_dir) continue;
    if (!r.base.empty() && rel.compare(0, r.base.size(), r.base) != 0) continue;
    re2::StringPiece sub(rel.data() + r.base.size(), rel.size() - r.base.size());
    if (RE2::FullMatch(sub, *r.re)) ignored = !r.negate;
  }
  return ignored;
}

}  // namespace sw::tools
