// The process's decisions that are not plain data: complexity score and tier, each task's path
// to code, parallel waves, review consensus, test reports, routing, preferences.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <sstream>

#include "base/strings.h"
#include "process/process.h"

namespace sw::process {

// ---- complexity --------------------------------------------------------------------------

std::string TierOf(int score) { return score <= 3 ? "minimal" : score <= 7 ? "standard" : "full"; }

Result<Complexity> ScoreComplexity(const json& a) {
  static const std::vector<std::pair<std::string, int>> kDims{
      {"technical", 3}, {"users", 2}, {"integrations", 2}, {"compliance", 2}, {"scale", 1}};
  if (!a.is_object()) return InvalidInput("the complexity assessment is not a JSON object");
  Complexity c;
  for (const auto& [name, max] : kDims) {
    if (!a.contains(name) || !a[name].is_object() || !a[name].contains("score") || !a[name]["score"].is_number_integer())
      return InvalidInput("the complexity assessment has no integer score for " + Quote(name));
    int s = a[name]["score"].get<int>();
    if (s < 0 || s > max)
      return InvalidInput("complexity " + name + " is scored " + std::to_string(s) + "; it must be 0-" +
                          std::to_string(max));
    c.score += s;
    c.dimensions.emplace_back(name, s);
    c.reasons.push_back(a[name].value("reason", ""));
  }
  c.tier = TierOf(c.score);
  return c;
}

std::string Complexity::ToMarkdown() const {
  static const std::map<std::string, int> kMax{{"technical", 3}, {"users", 2}, {"integrations", 2}, {"compliance", 2},
                                               {"scale", 1}};
  std::string out = "# Complexity assessment\n\nScore: **" + std::to_string(score) + " / 10** -> template tier **" + tier +
                    "** (0-3 minimal, 4-7 standard, 8-10 full).\n\n| dimension | score | reason |\n|---|---|---|\n";
  for (size_t i = 0; i < dimensions.size(); ++i)
    out += "| " + dimensions[i].first + " | " + std::to_string(dimensions[i].second) + " / " +
           std::to_string(kMax.at(dimensions[i].first)) + " | " + reasons[i] + " |\n";
  return out;
}

// ---- tasks -------------------------------------------------------------------------------

namespace {

std::vector<std::string> Strings(const json& v) {
  std::vector<std::string> out;
  if (v.is_array())
    for (const auto& x : v)
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

bool SafeRelative(const std::string& p) {
  if (p.empty() || p[0] == '/' || p.find('\\') != std::string::npos) return false;
  for (const auto& part : std::filesystem::path(p))
    if (part == ".." || part == ".git" || part == ".specwright") return false;
  return true;
}

}  // namespace

json Task::ToJson() const {
  return json{{"id", id},
              {"title", title},
              {"description", description},
              {"implements", implements},
              {"files", files},
              {"components", components},
              {"parallel", parallel},
              {"interfaces_clear", interfaces_clear},
              {"performance_sensitive", performance_sensitive},
              {"path", path},
              {"path_reason", path_reason}};
}

Result<std::vector<Task>> ParseTasks(const json& plan) {
  if (!plan.is_object() || !plan.contains("tasks") || !plan["tasks"].is_array() || plan["tasks"].empty())
    return InvalidInput("the task plan has no tasks");
  std::vector<Task> out;
  std::set<std::string> ids;
  for (const auto& t : plan["tasks"]) {
    Task k;
    if (!t.is_object()) return InvalidInput("a task of the plan is not an object");
    auto str = [&](const char* key) { return t.contains(key) && t[key].is_string() ? t[key].get<std::string>() : ""; };
    k.id = str("id");
    k.title = str("title");
    k.description = str("description");
    k.implements = Strings(t.value("implements", json()));
    k.files = Strings(t.value("files", json()));
    k.components = Strings(t.value("components", json()));
    k.parallel = t.value("parallel", false);
    k.interfaces_clear = t.value("interfaces_clear", true);
    k.performance_sensitive = t.value("performance_sensitive", false);
    if (k.id.empty()) return InvalidInput("a task of the plan has no id");
    if (!ids.insert(k.id).second) return InvalidInput("the plan has task " + k.id + " twice");
    if (k.files.empty()) return InvalidInput("task " + k.id + " names no files");
    for (const auto& f : k.files)
      if (!SafeRelative(f)) return InvalidInput("task " + k.id + " names file " + Quote(f) + ", which is not inside the project");
    if (t.contains("path") && t["path"].is_string()) k.path = t["path"].get<std::string>();
    if (t.contains("path_reason") && t["path_reason"].is_string()) k.path_reason = t["path_reason"].get<std::string>();
    if (k.path.empty()) ChoosePath(&k);
    out.push_back(std::move(k));
  }
  return out;
}

void ChoosePath(Task* t) {
  std::vector<std::string> why;
  if (t->components.size() > 1) why.push_back("it touches " + std::to_string(t->components.size()) + " components (" +
                                              Join(t->components, ", ") + ")");
  if (!t->interfaces_clear) why.push_back("its public interfaces are not obvious from the specs");
  if (t->performance_sensitive) why.push_back("performance constrains how it is built");
  if (why.empty()) {
    t->path = "direct";
    t->path_reason = "fully described by its spec items and touches one component";
  } else {
    t->path = "design";
    t->path_reason = Join(why, "; ");
  }
}

std::vector<std::vector<int>> PlanWaves(const std::vector<Task>& tasks) {
  std::vector<std::vector<int>> waves;
  std::set<std::string> wave_files;
  bool open = false;  // the last wave takes more parallel tasks
  // Paths compare normalised, and a folder ("src/") overlaps everything below it.
  auto norm = [](const std::string& f) { return std::filesystem::path(f).lexically_normal().generic_string(); };
  auto clash = [&](const std::string& a, const std::string& b) {
    if (a == b) return true;
    auto under = [](const std::string& x, const std::string& dir) {
      std::string d = dir.ends_with("/") ? dir : dir + "/";
      return x.starts_with(d);
    };
    return under(a, b) || under(b, a);
  };
  for (int i = 0; i < static_cast<int>(tasks.size()); ++i) {
    const Task& t = tasks[static_cast<size_t>(i)];
    bool overlaps = std::any_of(t.files.begin(), t.files.end(), [&](const std::string& f) {
      return std::any_of(wave_files.begin(), wave_files.end(), [&](const std::string& w) { return clash(norm(f), w); });
    });
    if (t.parallel && open && !overlaps) {
      waves.back().push_back(i);
    } else {
      waves.push_back({i});
      wave_files.clear();
      open = t.parallel;
    }
    for (const auto& f : t.files) wave_files.insert(norm(f));
  }
  return waves;
}

std::string TasksMarkdown(const std::vector<Task>& tasks, const std::vector<std::vector<int>>& waves) {
  std::string out = "# Task plan\n\n`[P]`: runs in parallel with the other tasks of its wave (their files do not overlap).\n";
  for (size_t w = 0; w < waves.size(); ++w) {
    out += "\n## Wave " + std::to_string(w + 1) + "\n";
    for (int i : waves[w]) {
      const Task& t = tasks[static_cast<size_t>(i)];
      out += "\n### " + t.id + " " + t.title + (t.parallel ? " [P]" : "") + "\n\n";
      if (!t.description.empty()) out += t.description + "\n\n";
      out += "- Implements: " + Join(t.implements, ", ") + "\n";
      out += "- Files: " + Join(t.files, ", ") + "\n";
      out += "- Path to code: " + t.path + " (" + t.path_reason + ")\n";
    }
  }
  return out;
}

// ---- review ------------------------------------------------------------------------------

Consensus Judge(const std::vector<Review>& reviews) {
  int approving = 0, asking = 0;
  for (const auto& r : reviews) {
    bool major = std::any_of(r.findings.begin(), r.findings.end(), [](const ReviewFinding& f) { return f.severity == "major"; });
    if (r.approve && !major) ++approving;
    else ++asking;
  }
  if (asking == 0) return Consensus::kApproved;
  if (approving == 0) return Consensus::kAgreeOnChanges;
  return Consensus::kDisagree;
}

const char* ConsensusName(Consensus c) {
  switch (c) {
    case Consensus::kApproved:
      return "all approve";
    case Consensus::kAgreeOnChanges:
      return "agree on changes";
    case Consensus::kDisagree:
      return "disagree";
  }
  return "?";
}

// ---- QA ----------------------------------------------------------------------------------

namespace {

/// Verdict of one output line: its first or last word (PASS, PASSED, OK / FAIL, FAILED,
/// ERROR; googletest's "[       OK ]" and "[  FAILED  ]", pytest's "... PASSED", TAP's "ok" and
/// "not ok" count), so a description that says "fails" is not a failure. 1 passed, -1
/// failed, 0 neither.
int LineVerdict(const std::string& line) {
  std::vector<std::string> words;
  std::string w;
  for (char c : line + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      w.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    } else if (!w.empty()) {
      words.push_back(w);
      w.clear();
    }
  }
  // Timing and progress at the end ("0.01 sec", "[ 50%]", "(3 ms)") are not the verdict.
  auto noise = [](const std::string& x) {
    return x.find_first_not_of("0123456789") == std::string::npos || x == "MS" || x == "S" || x == "SEC" ||
           x == "SECS" || x == "SECONDS";
  };
  while (!words.empty() && noise(words.back())) words.pop_back();
  if (words.empty()) return 0;
  if (words.size() > 1 && words[0] == "NOT" && words[1] == "OK") return -1;  // TAP
  auto first = [](const std::string& x) {
    if (x == "PASS" || x == "PASSED" || x == "OK") return 1;
    if (x == "FAIL" || x == "FAILED" || x == "ERROR") return -1;
    return 0;
  };
  if (int v = first(words.front())) return v;
  // At the end of a line only a status column counts (pytest, ctest, cargo): a description
  // that ends with "error" is not a verdict.
  const std::string& x = words.back();
  if (x == "PASSED" || x == "PASS" || x == "OK") return 1;  // "test tc_06_001 ... ok" (cargo)
  if (x == "FAILED" || x == "FAIL") return -1;
  return 0;
}

}  // namespace

TestReport ParseTestRun(const std::string& out, const std::vector<std::string>& cases) {
  TestReport r;
  size_t at = out.find("\nexit code ");
  if (at != std::string::npos) r.exit_code = std::atoi(out.c_str() + at + 11);
  std::map<std::string, bool> pass, fail;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    int v = LineVerdict(line);
    if (v == 0) continue;
    for (const auto& tc : cases) {
      std::string under = tc;
      std::replace(under.begin(), under.end(), '-', '_');
      if (line.find(tc) == std::string::npos && line.find(under) == std::string::npos) continue;
      (v > 0 ? pass : fail)[tc] = true;
    }
  }
  for (const auto& tc : cases) {
    std::string s = fail.count(tc) ? "failed" : pass.count(tc) ? "passed" : "not run";
    r.per_case[tc] = s;
    (s == "passed" ? r.passed_cases : s == "failed" ? r.failed_cases : r.missing_cases)++;
  }
  // The run passes when the command did and no test case reported a failure.
  r.passed = r.exit_code == 0 && r.failed_cases == 0;
  return r;
}

// ---- router ------------------------------------------------------------------------------

Result<std::string> EntryPhase(const std::string& category) {
  static const std::vector<std::string> kLevels{"requirements", "domain", "stories", "architecture", "api"};
  if (category == "bug") return std::string("development");
  if (std::find(kLevels.begin(), kLevels.end(), category) != kLevels.end()) return category;
  std::vector<std::string> all = kLevels;
  all.push_back("bug");
  return InvalidInput("the change was classified as " + Quote(category) + "; expected one of " + Join(all, ", "));
}

// ---- preferences -------------------------------------------------------------------------

std::string TopicKey(const std::string& topic) {
  std::string k;
  for (char c : topic) {
    if (std::isalnum(static_cast<unsigned char>(c))) k.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    else if (!k.empty() && k.back() != '-') k.push_back('-');
  }
  while (!k.empty() && k.back() == '-') k.pop_back();
  return k;
}

Preferences Preferences::Parse(const std::string& text) {
  Preferences p;
  std::istringstream in(text);
  std::string line;
  Entry* cur = nullptr;
  while (std::getline(in, line)) {
    if (line.starts_with("## ")) {
      p.entries_.push_back({Trim(line.substr(3)), "", ""});
      cur = &p.entries_.back();
    } else if (cur && line.starts_with("Source: ")) {
      cur->source = Trim(line.substr(8));
    } else if (cur && !Trim(line).empty()) {
      cur->answer += (cur->answer.empty() ? "" : "\n") + line;
    }
  }
  return p;
}

std::optional<std::string> Preferences::Get(const std::string& topic) const {
  for (const auto& e : entries_)
    if (TopicKey(e.topic) == TopicKey(topic)) return e.answer;
  return std::nullopt;
}

void Preferences::Set(const std::string& topic, const std::string& answer, const std::string& source) {
  for (auto& e : entries_)
    if (TopicKey(e.topic) == TopicKey(topic)) {
      e.answer = answer;
      e.source = source;
      return;
    }
  entries_.push_back({topic, answer, source});
}

std::string Preferences::ToMarkdown(const std::string& title) const {
  std::string out = "# " + title + "\n\nOne section per topic; each holds the current decision only.\n";
  for (const auto& e : entries_) {
    out += "\n## " + e.topic + "\n\n" + e.answer + "\n";
    if (!e.source.empty()) out += "\nSource: " + e.source + "\n";
  }
  return out;
}

}  // namespace sw::process
