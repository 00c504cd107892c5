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
  // How items are written (Config::items, id_scope, heading_ids, specs_dir).
  bool heading_items = true, list_items = false, table_items = false, scoped = false;
  std::string specs_dir;
  std::vector<std::pair<std::unique_ptr<RE2>, std::string>> heading_ids;
};

std::map<std::string, Severity> DefaultRules() {
  return {{"duplicate-id", Severity::kError},     {"dangling-link", Severity::kError},
          {"unknown-citation", Severity::kError}, {"req-no-downstream", Severity::kWarning},
          {"no-upstream", Severity::kWarning},    {"req-no-code", Severity::kWarning},
          {"req-no-test", Severity::kWarning},    {"req-test-not-passed", Severity::kWarning},
          {"test-results", Severity::kError},    {"link-cycle", Severity::kWarning},
          {"no-items", Severity::kError}};
}

const std::vector<Preset>& Presets() {
  static const std::vector<Preset> kPresets{
      {"specwright", "headings that start with an ID: `## REQ-01-001 Title`",
       [](Config* c) {
         Config d;
         c->prefixes = d.prefixes;
         c->id_pattern = c->code_id_pattern = "";
         c->items = {"heading"};
         c->id_scope = "project";
         c->heading_ids.clear();
         c->requirement_prefix = "REQ";
         c->test_case_prefix = "TC";
         c->matrix_levels = d.matrix_levels;
       },
       [](const std::vector<std::string>&) { return std::string(); }},  // the default PREFIX-NN-NNN over them
      {"spec-kit", "specs/NNN-feature/spec.md with `- **FR-001**: …`, `### User Story 1 - …`, tasks `- [ ] T012 [US1] …`",
       [](Config* c) {
         c->prefixes = {"FR", "NFR", "SC", "US", "T", "CHK"};
         c->id_pattern = "(?:FR|NFR|SC)-[0-9]{3}|US[0-9]+|T[0-9]{3}|CHK[0-9]{3}";
         c->code_id_pattern = "(?:FR|NFR|SC)-[0-9]{3}";
         c->items = {"heading", "list", "table"};
         c->id_scope = "feature";
         c->heading_ids = {{"User Story ([0-9]+)\\b", "US\\1"}};
         c->requirement_prefix = "FR";
         c->test_case_prefix = "TC";
         c->matrix_levels = {"T"};
         // Its stories, tasks and success criteria do not name the requirements they serve.
         c->rules["no-upstream"] = Severity::kOff;
       },
       nullptr},
      {"area", "IDs PREFIX-AA-XXX (two-letter area, three characters): `[US-AC-K3M] As a …`, `## REQ-AC-K3M Title`",
       [](Config* c) {
         c->prefixes = {"REQ", "NFR", "BR", "ENT", "US", "AC", "SVC", "API", "ERR", "TC", "DEC", "TASK"};
         c->id_pattern = "(?:REQ|NFR|BR|ENT|US|AC|SVC|API|ERR|TC|DEC|TASK)-[A-Z]{2}-[A-Z0-9]{3}";
         c->code_id_pattern = "";
         c->items = {"heading", "list", "table"};
         c->id_scope = "project";
         c->heading_ids.clear();
         c->requirement_prefix = "REQ";
         c->test_case_prefix = "TC";
         c->matrix_levels = {"US", "SVC", "API"};
       },
       [](const std::vector<std::string>& prefixes) {
         std::vector<std::string> quoted;
         for (const auto& p : prefixes) quoted.push_back(RE2::QuoteMeta(p));
         return "(?:" + Join(quoted, "|") + ")-[A-Z]{2}-[A-Z0-9]{3}";
       }},
  };
  return kPresets;
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
  impl->fast = c.id_pattern.empty() && c.code_id_pattern.empty();
  impl->heading_items = std::find(c.items.begin(), c.items.end(), "heading") != c.items.end();
  impl->list_items = std::find(c.items.begin(), c.items.end(), "list") != c.items.end();
  impl->table_items = std::find(c.items.begin(), c.items.end(), "table") != c.items.end();
  impl->scoped = c.id_scope == "feature";
  impl->specs_dir = c.specs_dir;
  for (const auto& h : c.heading_ids) {
    RE2::Options ho;
    ho.set_log_errors(false);
    auto re = std::make_unique<RE2>(h.pattern, ho);
    if (!re->ok()) return InvalidInput("spec.heading_ids pattern " + Quote(h.pattern) + " is not a regular expression: " + re->error());
    impl->heading_ids.emplace_back(std::move(re), h.id);
  }
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
  if (!c.code_id_pattern.empty()) {
    RE2 check(c.code_id_pattern, o);
    if (!check.ok())
      return InvalidInput("spec.code_id_pattern " + Quote(c.code_id_pattern) + " is not a regular expression: " + check.error());
    pattern = c.code_id_pattern;
  }
  const std::string spec_pattern = impl->spec->pattern().substr(1, impl->spec->pattern().size() - 2);
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
  impl->whole = std::make_unique<RE2>(spec_pattern, o);
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

bool Grammar::IsId(const std::string& s) const {
  if (RE2::FullMatch(s, *impl->whole)) return true;
  size_t slash = s.rfind('/');
  return impl->scoped && slash != std::string::npos && slash > 0 && RE2::FullMatch(s.substr(slash + 1), *impl->whole);
}

namespace {

/// DefinitionLines counts the lines of the spec documents that define an item as c and g read
/// them, without parsing the Markdown: a cheap vote between the formats.
int64_t DefinitionLines(const Config& c, const Grammar& g, const std::vector<std::pair<std::string, std::string>>& docs) {
  const auto& impl = *g.impl;
  int64_t n = 0;
  for (const auto& [file, text] : docs) {
    if (impl.scoped && g.ScopeOf(file).empty()) continue;  // spec-kit's items live in specs/NNN-feature/
    std::string_view rest_of_doc = text;
    while (!rest_of_doc.empty()) {
      size_t nl = rest_of_doc.find('\n');
      std::string_view line = rest_of_doc.substr(0, nl);
      rest_of_doc.remove_prefix(nl == std::string_view::npos ? rest_of_doc.size() : nl + 1);
      size_t i = 0;
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      line.remove_prefix(i);
      bool heading = false;
      if (!line.empty() && line[0] == '#') {
        while (!line.empty() && line[0] == '#') line.remove_prefix(1);
        heading = true;
      } else if (line.size() > 1 && (line[0] == '-' || line[0] == '*' || line[0] == '+') && line[1] == ' ') {
        if (!impl.list_items) continue;
        line.remove_prefix(2);
        if (line.size() > 3 && line[0] == '[' && line[2] == ']' && (line[1] == ' ' || line[1] == 'x' || line[1] == 'X'))
          line.remove_prefix(3);
      } else if (!line.empty() && line[0] == '|') {
        if (!impl.table_items) continue;
        line.remove_prefix(1);
      } else {
        continue;
      }
      if (heading && !impl.heading_items) continue;
      while (!line.empty() && (line[0] == ' ' || line[0] == '*' || line[0] == '[' || line[0] == '`')) line.remove_prefix(1);
      // An ID at the start: one anchored match, not a search of the line.
      re2::StringPiece at(line.data(), line.size());
      bool found = RE2::Consume(&at, *impl.spec);
      if (!found && heading)
        for (const auto& [re, id] : impl.heading_ids) {
          re2::StringPiece in(line.data(), line.size());
          found = found || RE2::Consume(&in, *re);
        }
      n += found;
    }
  }
  return n;
}

}  // namespace

bool Grammar::HeadingItems() const { return impl->heading_items; }
bool Grammar::ListItems() const { return impl->list_items; }
bool Grammar::TableItems() const { return impl->table_items; }
bool Grammar::Scoped() const { return impl->scoped; }

std::string Grammar::HeadingId(const std::string& text, std::string* rest) const {
  for (const auto& [re, id] : impl->heading_ids) {
    re2::StringPiece in(text);
    std::string out;
    // The rule is anchored at the start: Consume matches a prefix only.
    if (RE2::Extract(text, *re, id, &out) && RE2::Consume(&in, *re)) {
      if (rest) *rest = std::string(in.data(), in.size());
      return out;
    }
  }
  return "";
}

std::string Grammar::ScopeOf(const std::string& file) const {
  if (!impl->scoped) return "";
  std::string dir = impl->specs_dir == "." ? "" : impl->specs_dir + "/";
  if (file.compare(0, dir.size(), dir) != 0) return "";
  size_t slash = file.find('/', dir.size());
  return slash == std::string::npos ? "" : file.substr(dir.size(), slash - dir.size());
}

Result<Config> LoadConfig(const std::string& root) {
  Config c;
  c.root = std::filesystem::absolute(root).lexically_normal().string();
  if (!c.root.empty() && c.root.size() > 1 && c.root.back() == '/') c.root.pop_back();
  c.rules = DefaultRules();
  std::string file = c.root + "/specwright.yaml";
  // Keys that define the format: when none is set (nor format), the format is detected.
  static const std::set<std::string> kFormatKeys{"format",        "prefixes", "id_pattern",  "code_id_pattern",
                                                 "items",         "id_scope", "heading_ids", "requirement_prefix",
                                                 "test_prefix"};
  std::set<std::string> given;
  YAML::Node s;
  if (FileExists(file)) {
    SW_ASSIGN_OR_RETURN(YAML::Node top, LoadYamlFile(file));
    s = top.IsMap() ? top["spec"] : YAML::Node();
    if (s && !s.IsNull() && !s.IsMap()) return InvalidInput(Where(file, s) + ": spec must be a map");
  }
  static const std::set<std::string> kKeys{"specs_dir",   "prefixes",      "id_pattern",    "requirement_prefix",
                                           "test_prefix", "test_globs",    "matrix_levels", "rules", "threads",
                                           "exclude",     "test_results",  "format",        "items", "id_scope",
                                           "heading_ids", "code_id_pattern"};
  std::string format = "auto";
  std::map<std::string, Severity> rule_overrides;
  Config set;  // the values specwright.yaml gives, applied over the format's preset
  try {
    if (s && s.IsMap()) {
      for (const auto& kv : s) {
        std::string k = kv.first.as<std::string>();
        if (!kKeys.count(k)) {
          std::vector<std::string> all(kKeys.begin(), kKeys.end());
          std::string hint = DidYouMean(k, all);
          return InvalidInput(Where(file, kv.first) + ": unknown key spec." + k +
                              (hint.empty() ? "" : " (did you mean " + hint + "?)"));
        }
        given.insert(k);
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
      SW_RETURN_IF_ERROR(list("prefixes", &set.prefixes));
      SW_RETURN_IF_ERROR(list("test_globs", &c.test_globs));
      SW_RETURN_IF_ERROR(list("matrix_levels", &set.matrix_levels));
      SW_RETURN_IF_ERROR(list("exclude", &c.exclude));
      SW_RETURN_IF_ERROR(list("items", &set.items));
      for (const auto& f : set.items)
        if (f != "heading" && f != "list" && f != "table")
          return InvalidInput(Where(file, s["items"]) + ": spec.items lists " + Quote(f) + "; expected heading, list or table");
      if (given.count("items") && set.items.empty())
        return InvalidInput(Where(file, s["items"]) + ": spec.items is empty; name at least one of heading, list, table");
      if (YAML::Node f = s["format"]) {
        format = f.as<std::string>();
        std::vector<std::string> names{"auto"};
        for (const auto& p : Presets()) names.push_back(p.name);
        if (std::find(names.begin(), names.end(), format) == names.end()) {
          std::string hint = DidYouMean(format, names);
          return InvalidInput(Where(file, f) + ": spec.format is " + Quote(format) + (hint.empty() ? "" : " (did you mean " + Quote(hint) + "?)") +
                              "; expected one of " + Join(names, ", "));
        }
      }
      if (YAML::Node sc = s["id_scope"]) {
        set.id_scope = sc.as<std::string>();
        if (set.id_scope != "project" && set.id_scope != "feature")
          return InvalidInput(Where(file, sc) + ": spec.id_scope is " + Quote(set.id_scope) + "; expected project or feature");
      }
      if (YAML::Node h = s["heading_ids"]) {
        if (!h.IsSequence()) return InvalidInput(Where(file, h) + ": spec.heading_ids must be a list of {pattern, id}");
        for (const auto& e : h) {
          if (!e.IsMap() || !e["pattern"] || !e["id"])
            return InvalidInput(Where(file, e) + ": each of spec.heading_ids needs pattern (a regular expression) and id (\\1 for a group)");
          set.heading_ids.push_back({e["pattern"].as<std::string>(), e["id"].as<std::string>()});
        }
      }
      if (s["specs_dir"]) c.specs_dir = s["specs_dir"].as<std::string>();
      if (s["id_pattern"]) set.id_pattern = s["id_pattern"].as<std::string>();
      if (s["code_id_pattern"]) set.code_id_pattern = s["code_id_pattern"].as<std::string>();
      if (s["requirement_prefix"]) set.requirement_prefix = s["requirement_prefix"].as<std::string>();
      if (s["test_prefix"]) set.test_case_prefix = s["test_prefix"].as<std::string>();
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
          if (v == "error") rule_overrides[rule] = Severity::kError;
          else if (v == "warning") rule_overrides[rule] = Severity::kWarning;
          else if (v == "off") rule_overrides[rule] = Severity::kOff;
          else return InvalidInput(Where(file, kv.second) + ": rule " + rule + " must be error, warning or off, got " + Quote(v));
        }
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
  // The format: as given, or (nothing that defines one given) the one under which the most
  // lines of the spec documents define items; our own wins a tie, and is what an empty tree
  // gets (the no-items finding then names every format tried).
  auto apply = [&](const Preset& p) -> Status {
    p.apply(&c);
    c.format = p.name;
    if (given.count("prefixes")) c.prefixes = set.prefixes;
    if (given.count("id_pattern")) c.id_pattern = set.id_pattern;
    // Other prefixes under a preset's pattern: the pattern is made for them, or (where the
    // preset's IDs have no one shape to put them in) the config must give the pattern too,
    // never a pattern that cannot match the prefixes it names.
    else if (given.count("prefixes") && !p.pattern_for)
      return InvalidInput(Where(file, s["prefixes"]) + ": spec.prefixes under format " + p.name +
                          " needs spec.id_pattern too: its IDs (" + p.example + ") have no one shape for other prefixes");
    else if (given.count("prefixes")) c.id_pattern = p.pattern_for(c.prefixes);
    if (given.count("code_id_pattern")) c.code_id_pattern = set.code_id_pattern;
    if (given.count("items")) c.items = set.items;
    if (given.count("id_scope")) c.id_scope = set.id_scope;
    if (given.count("heading_ids")) c.heading_ids = set.heading_ids;
    if (given.count("requirement_prefix")) c.requirement_prefix = set.requirement_prefix;
    if (given.count("test_prefix")) c.test_case_prefix = set.test_case_prefix;
    if (given.count("matrix_levels")) c.matrix_levels = set.matrix_levels;
    for (const auto& [rule, sev] : rule_overrides) c.rules[rule] = sev;
    // Requirements the grammar cannot name would make every item "trace up to no requirement".
    if ((given.count("prefixes") || given.count("requirement_prefix")) &&
        std::find(c.prefixes.begin(), c.prefixes.end(), c.requirement_prefix) == c.prefixes.end())
      return InvalidInput(Where(file, s[given.count("requirement_prefix") ? "requirement_prefix" : "prefixes"]) +
                          ": spec.requirement_prefix is " + Quote(c.requirement_prefix) + ", which is not one of spec.prefixes (" +
                          Join(c.prefixes, ", ") + "); name the requirements' prefix in both");
    return Status::Ok();
  };
  bool detect = format == "auto";
  for (const auto& k : kFormatKeys) detect = detect && (k == "format" || !given.count(k));
  if (!detect) {
    for (const auto& p : Presets())
      if (p.name == (format == "auto" ? "specwright" : format)) SW_RETURN_IF_ERROR(apply(p));
    return c;
  }
  SW_ASSIGN_OR_RETURN(auto docs, ReadSpecDocs(c));
  const Preset* best = &Presets().front();
  int64_t best_n = 0;
  for (const auto& p : Presets()) {
    Config trial = c;
    p.apply(&trial);
    SW_ASSIGN_OR_RETURN(Grammar g, Grammar::Make(trial));
    int64_t n = DefinitionLines(trial, g, docs);
    if (n > best_n) best = &p, best_n = n;
    c.formats_tried.push_back(p.name);
  }
  SW_RETURN_IF_ERROR(apply(*best));
  c.format_detected = true;
  if (best_n > 0) c.formats_tried.clear();
  return c;
}

}  // namespace sw::spec
