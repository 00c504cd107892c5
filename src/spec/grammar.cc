// The ID grammar and the `spec:` section of specwright.yaml.
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include "workflow/yaml_json.h"

#include <cstring>
#include <filesystem>

#include "base/fs.h"
#include "base/strings.h"
#include "spec/spec.h"
#include "tools/glob.h"

namespace sw::spec {

struct Grammar::Impl {
  std::unique_ptr<RE2> spec, code, whole;
  std::set<std::string> prefixes;
  /// The default grammar (PREFIX-NN-NNN) is matched by hand in code: a skip over its fixed
  /// tail, then the letters before it (FindFast). RE2 over 60 MB of code was 2.6x grep.
  bool fast = false;
  size_t longest_prefix = 0;
};

std::map<std::string, Severity> DefaultRules() {
  return {{"duplicate-id", Severity::kError},     {"dangling-link", Severity::kError},
          {"unknown-citation", Severity::kError}, {"req-no-downstream", Severity::kWarning},
          {"no-upstream", Severity::kWarning},    {"req-no-code", Severity::kWarning},
          {"req-no-test", Severity::kWarning},    {"req-test-not-passed", Severity::kWarning},
          {"test-results", Severity::kError},    {"link-cycle", Severity::kWarning}};
}

namespace {

bool IsWordChar(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::string Where(const std::string& file, const YAML::Node& n) {
  return file + ":" + std::to_string(n.Mark().line + 1) + ":" + std::to_string(n.Mark().column + 1);
}

}  // namespace

Result<Grammar> Grammar::Make(const Config& c) {
  auto impl = std::make_shared<Impl>();
  std::string pattern = c.id_pattern;
  if (pattern.empty()) {
    std::vector<std::string> quoted;
    for (const auto& p : c.prefixes) quoted.push_back(RE2::QuoteMeta(p));
    pattern = "(?:" + Join(quoted, "|") + ")-[0-9]{2}-[0-9]{3}";
  }
  for (const auto& p : c.prefixes) {
    impl->prefixes.insert(p);
    impl->longest_prefix = std::max(impl->longest_prefix, p.size());
  }
  impl->fast = c.id_pattern.empty();
  for (const auto& p : c.prefixes)
    for (char ch : p) impl->fast = impl->fast && ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'));
  RE2::Options o;
  o.set_log_errors(false);
  impl->spec = std::make_unique<RE2>("(" + pattern + ")", o);
  if (!impl->spec->ok())
    return InvalidInput("spec.id_pattern " + Quote(pattern) + " is not a regular expression: " + impl->spec->error());
  // In code a separator may be '_' (test names): each '-' outside a character class and not
  // escaped becomes [-_].
  std::string code;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char ch = pattern[i];
    if (ch == '\\' && i + 1 < pattern.size()) {
      code += ch;
      code += pattern[++i];
      continue;
    }
    if (ch == '[') in_class = true;
    else if (ch == ']') in_class = false;
    code += ch == '-' && !in_class ? std::string("[-_]") : std::string(1, ch);
  }
  impl->code = std::make_unique<RE2>("(" + code + ")", o);
  impl->whole = std::make_unique<RE2>(pattern, o);
  if (!impl->code->ok() || !impl->whole->ok())
    return InvalidInput("spec.id_pattern " + Quote(pattern) + " cannot be used for code: " + impl->code->error());
  Grammar g;
  g.impl = impl;
  return g;
}

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSep(char c, bool code) { return c == '-' || (code && c == '_'); }
bool IsLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/// FindFast matches PREFIX SEP NN SEP NNN by hand: windows of seven bytes are skipped unless
/// their last byte could be part of the tail, then the digits and the letters before are checked.
void FindFast(const Grammar::Impl& g, std::string_view text, bool code,
              const std::function<void(std::string_view, size_t)>& fn) {
  const char* p = text.data();
  const size_t n = text.size();
  std::string id;
  auto at = [&](size_t i) {
    // i is a separator: digits, separator, digits after it; a prefix before it.
    if (i + 7 > n) return;
    if (!IsDigit(p[i + 1]) || !IsDigit(p[i + 2]) || !IsSep(p[i + 3], code) || !IsDigit(p[i + 4]) ||
        !IsDigit(p[i + 5]) || !IsDigit(p[i + 6]))
      return;
    if (i + 7 < n && IsWordChar(p[i + 7])) return;
    size_t start = i;
    while (start > 0 && IsLetter(p[start - 1]) && i - start < g.longest_prefix + 1) --start;
    if (start == i || (start > 0 && IsWordChar(p[start - 1]))) return;
    std::string_view prefix(p + start, i - start);
    if (!g.prefixes.count(std::string(prefix))) return;
    id.assign(p + start, i + 7 - start);
    id[i - start] = '-';
    id[i - start + 3] = '-';
    fn(id, start);
  };
  // Skip like Boyer-Moore over the fixed tail SEP D D SEP D D D: when the last byte of a
  // window of seven is neither a digit nor a separator, no tail overlaps it, and the next
  // possible tail starts after it.
  size_t start = 0;
  while (start + 7 <= n) {
    size_t last = start + 6;
    char ch = p[last];
    if (!IsDigit(ch) && !IsSep(ch, code)) {
      start = last + 1;
      continue;
    }
    for (size_t s = start; s <= last; ++s)
      if (IsSep(p[s], code)) at(s);
    start = last + 1;
  }
}

}  // namespace

void Grammar::Find(std::string_view text, bool code,
                   const std::function<void(std::string_view id, size_t offset)>& fn) const {
  if (impl->fast && code) {
    FindFast(*impl, text, code, fn);
    return;
  }
  const RE2& re = code ? *impl->code : *impl->spec;
  re2::StringPiece in(text.data(), text.size());
  re2::StringPiece m;
  std::string norm;
  while (RE2::FindAndConsume(&in, re, &m)) {
    size_t off = static_cast<size_t>(m.data() - text.data());
    size_t end = off + m.size();
    // Not part of a longer word: a letter or digit before, or a letter or digit after (an
    // underscore after is a test name going on: TC_06_009_signs_up).
    if (off > 0 && IsWordChar(text[off - 1])) continue;
    if (end < text.size() && IsWordChar(text[end])) continue;
    if (m.empty()) break;
    norm.assign(m.data(), m.size());
    if (code)
      for (auto& ch : norm)
        if (ch == '_') ch = '-';
    fn(norm, off);
  }
}

std::string Grammar::PrefixOf(const std::string& id) const {
  for (size_t n = id.size(); n > 0; --n)
    if (impl->prefixes.count(id.substr(0, n))) return id.substr(0, n);
  size_t dash = id.find('-');
  return dash == std::string::npos ? id : id.substr(0, dash);
}

bool Grammar::IsId(const std::string& s) const { return RE2::FullMatch(s, *impl->whole); }

Result<Config> LoadConfig(const std::string& root) {
  Config c;
  c.root = std::filesystem::absolute(root).lexically_normal().string();
  if (!c.root.empty() && c.root.size() > 1 && c.root.back() == '/') c.root.pop_back();
  c.rules = DefaultRules();
  std::string file = c.root + "/specwright.yaml";
  if (!FileExists(file)) return c;
  SW_ASSIGN_OR_RETURN(YAML::Node top, LoadYamlFile(file));
  YAML::Node s = top.IsMap() ? top["spec"] : YAML::Node();
  if (!s || s.IsNull()) return c;
  if (!s.IsMap()) return InvalidInput(Where(file, s) + ": spec must be a map");
  static const std::set<std::string> kKeys{"specs_dir",   "prefixes",      "id_pattern",    "requirement_prefix",
                                           "test_prefix", "test_globs",    "matrix_levels", "rules", "threads",
                                           "exclude",     "test_results"};
  try {
    for (const auto& kv : s) {
      std::string k = kv.first.as<std::string>();
      if (!kKeys.count(k)) {
        std::vector<std::string> all(kKeys.begin(), kKeys.end());
        std::string hint = DidYouMean(k, all);
        return InvalidInput(Where(file, kv.first) + ": unknown key spec." + k +
                            (hint.empty() ? "" : " (did you mean " + hint + "?)"));
      }
    }
    auto list = [&](const char* key, std::vector<std::string>* out) -> Status {
      YAML::Node n = s[key];
      if (!n) return Status::Ok();
      if (!n.IsSequence()) return InvalidInput(Where(file, n) + ": spec." + key + " must be a list of strings");
      out->clear();
      for (const auto& v : n) {
        if (!v.IsScalar()) return InvalidInput(Where(file, v) + ": spec." + key + " must be a list of strings");
        out->push_back(v.as<std::string>());
      }
      return Status::Ok();
    };
    SW_RETURN_IF_ERROR(list("prefixes", &c.prefixes));
    SW_RETURN_IF_ERROR(list("test_globs", &c.test_globs));
    SW_RETURN_IF_ERROR(list("matrix_levels", &c.matrix_levels));
    SW_RETURN_IF_ERROR(list("exclude", &c.exclude));
    if (s["specs_dir"]) c.specs_dir = s["specs_dir"].as<std::string>();
    if (s["id_pattern"]) c.id_pattern = s["id_pattern"].as<std::string>();
    if (s["requirement_prefix"]) c.requirement_prefix = s["requirement_prefix"].as<std::string>();
    if (s["test_prefix"]) c.test_case_prefix = s["test_prefix"].as<std::string>();
    if (s["threads"]) c.threads = s["threads"].as<int>();
    if (YAML::Node t = s["test_results"]) {
      c.test_results = t.as<std::string>();
      // Written by QA inside the project: a path that leaves it is refused ("" turns it off).
      if (!c.test_results.empty() && (c.test_results.front() == '/' || c.test_results.find("..") != std::string::npos))
        return InvalidInput(Where(file, t) + ": spec.test_results is " + Quote(c.test_results) +
                            "; it must be a path inside the project (or \"\" to turn the recorded test run off)");
    }
    if (YAML::Node r = s["rules"]) {
      if (!r.IsMap()) return InvalidInput(Where(file, r) + ": spec.rules must be a map of rule: error|warning|off");
      for (const auto& kv : r) {
        std::string rule = kv.first.as<std::string>(), v = kv.second.as<std::string>();
        if (!c.rules.count(rule)) {
          std::vector<std::string> names;
          for (const auto& [n, _] : DefaultRules()) names.push_back(n);
          std::string hint = DidYouMean(rule, names);
          return InvalidInput(Where(file, kv.first) + ": unknown rule " + Quote(rule) +
                              (hint.empty() ? "" : " (did you mean " + Quote(hint) + "?)") + "; rules: " + Join(names, ", "));
        }
        if (v == "error") c.rules[rule] = Severity::kError;
        else if (v == "warning") c.rules[rule] = Severity::kWarning;
        else if (v == "off") c.rules[rule] = Severity::kOff;
        else return InvalidInput(Where(file, kv.second) + ": rule " + rule + " must be error, warning or off, got " + Quote(v));
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidInput(file + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                        ": in spec: " + e.msg);
  }
  std::filesystem::path sd(c.specs_dir);
  std::string norm = sd.lexically_normal().string();
  while (norm.size() > 1 && norm.back() == '/') norm.pop_back();
  if (sd.is_absolute() || norm == ".." || norm.rfind("../", 0) == 0)
    return InvalidInput(file + ": spec.specs_dir " + Quote(c.specs_dir) + " must be a folder inside the project");
  c.specs_dir = norm;  // "specs/" and "./specs" are "specs": the scan compares paths
  for (auto& glob : c.exclude) {
    while (glob.size() > 1 && glob.back() == '/') glob.pop_back();  // "vendor/" names the folder
    RE2::Options quiet;
    quiet.set_log_errors(false);
    RE2 re(tools::GlobToRegex(glob), quiet);
    if (!re.ok()) return InvalidInput(file + ": spec.exclude " + Quote(glob) + " is not a usable glob: " + re.error());
  }
  return c;
}

}  // namespace sw::spec
