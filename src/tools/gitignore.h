// .gitignore rules, read as git reads them, for the walks that honour them (the spec scan and
// the code index): last match wins, `!` re-includes, `dir/` matches folders only, a pattern
// with a slash is anchored to its file's folder, `#` comments, trailing spaces unless escaped.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace re2 {
class RE2;
}

namespace sw::tools {

struct IgnoreRule {
  std::shared_ptr<re2::RE2> re;
  bool negate = false, dir_only = false;
  std::string base;  // the folder of its .gitignore, relative to the root ("" or "a/b/")
};

/// ParseGitignore appends the rules of one .gitignore's text, found in the folder base.
void ParseGitignore(const std::string& text, const std::string& base, std::vector<IgnoreRule>* rules);

/// Ignored applies the rules in order (the last match decides) to rel, a path relative to the
/// root; a rule only sees paths below its own folder.
bool Ignored(const std::vector<IgnoreRule>& rules, const std::string& rel, bool is_dir);

}  // namespace sw::tools
