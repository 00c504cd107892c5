// The developer process, run for real: the shipped process/ workflows on the engine, with the
// scripted provider answering from the tipsplit recording (entries prepended per test to steer
// a case), builtin and spec tools acting in a temp project, real git, real `make test`.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "base/fs.h"
#include "engine/control.h"
#include "llm/prices.h"
#include "llm/scripted.h"
#include "process/process.h"
#include "spec/spec.h"
#include "store/sqlite_store.h"
#include "tools/git_repo.h"
#include "tools/tool.h"
#include "workflow/yaml_json.h"

namespace sw::process {
namespace {

namespace fs = std::filesystem;
const std::string kSource = SW_SOURCE_DIR;
const std::string kExample = kSource + "/examples/develop/tipsplit";

Status Put(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  return WriteFileAtomic(path, text);
}

std::map<std::string, std::string> Snapshot(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    std::string rel = fs::relative(it->path(), root).string();
    if (rel == ".git" || rel == ".specwright" || rel == "build") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) out[rel] = *ReadFile(it->path().string());
  }
  return out;
}

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw-process-XXXXXX";
    root_ = mkdtemp(tmpl);
    auto st = store::OpenSqlite(root_ + "/store");
    ASSERT_TRUE(st.ok()) << st.status().message();
    store_ = std::move(st).value();
    tools::AddBuiltins(&tools_);
    spec::AddSpecTools(&tools_);
    auto y = sw::ParseYamlText(*ReadFile(kExample + "/recording.yaml"), "recording.yaml");
    ASSERT_TRUE(y.ok()) << y.status().message();
    script_ = *y;
    project_ = root_ + "/tipsplit";
  }
  void TearDown() override { fs::remove_all(root_); }

  /// Prepend puts entry first among node's answers, so it wins where its `when` matches.
  void Prepend(const std::string& node, json entry) {
    json& list = script_["nodes"][node];
    if (!list.is_array()) list = json::array();
    list.insert(list.begin(), std::move(entry));
  }

  Options Make() {
    auto p = llm::ScriptedFromJson(script_.dump(), "test script", &prices_, llm::ScriptedOptions{root_ + "/calls.log"});
    EXPECT_TRUE(p.ok()) << p.status().message();
    providers_.Add(*p);
    Options o;
    o.store = store_.get();
    o.process_dir = kSource + "/process";
    o.project = project_;
    o.prefs_file = root_ + "/.specwright/preferences.md";
    o.roles = DefaultRoles({});
    o.yes = true;
    o.run = [this](const StepRun& step) -> Result<engine::RunSummary> {
      engine::RunOptions ro;
      ro.inputs = step.inputs;
      ro.run_id = step.run_id;
      ro.workspace_dir = step.workspace;
      ro.use_cache = !step.no_cache;
      ro.session = step.session;
      ro.label = step.label;
      ro.auto_approve = yes_;
      ro.cancel = cancel_;
      engine::Services sv;
      sv.providers = &providers_;
      sv.prices = &prices_;
      sv.tools = &tools_;
      sv.store = store_.get();
      labels_[step.run_id.empty() ? step.resume_id : step.run_id] = step.label;
      return step.resume_id.empty() ? engine::Run(step.wf, sv, std::move(ro))
                                    : engine::Resume(step.resume_id, step.wf, sv, std::move(ro));
    };
    return o;
  }

  Result<Outcome> Develop(Options o) { return process::Develop(o, kExample + "/BRIEF.md"); }

  json State() { return json::parse(*ReadFile(project_ + "/.specwright/process.json")); }

  /// Calls lists "step/node" for every model call of the steps whose key starts with prefix.
  std::multiset<std::string> Calls(const std::string& prefix) {
    std::multiset<std::string> out;
    json st = State();
    for (const auto& [key, step] : st["steps"].items()) {
      if (!key.starts_with(prefix)) continue;
      for (const auto& r : step.value("runs", json::array())) {
        auto calls = store_->ListLlmCalls(r.get<std::string>());
        for (const auto& c : *calls) out.insert(key + "/" + c.node);
      }
    }
    return out;
  }

  std::string PromptOf(const std::string& step, const std::string& node) {
    json st = State();
    std::string run = st["steps"][step]["run"];
    auto calls = store_->ListLlmCallsOf(run, node);
    if (!calls.ok() || calls->empty()) return "";
    auto blob = store_->GetBlob(calls->back().request_blob);
    return blob.ok() ? *blob : "";
  }

  std::string root_, project_;
  std::unique_ptr<store::Store> store_;
  tools::Registry tools_;
  llm::Registry providers_;
  llm::PriceTable prices_;
  json script_;
  std::shared_ptr<std::atomic<bool>> cancel_ = std::make_shared<std::atomic<bool>>(false);
  /// InterruptTheFirstDeveloperTurn runs a develop and cancels it while the first developer
  /// agent's second turn is in flight; the next Develop continues at that wave.
  void InterruptTheFirstDeveloperTurn() {
    for (auto& e : script_["nodes"]["develop"])
      if (e.contains("when") && e["when"].value("turn", 0) == 2) e["latency_ms"] = 1500;
    std::atomic<bool> stop{false};
    std::thread interrupter([&] {
      while (!stop) {
        auto log = ReadFile(root_ + "/calls.log");
        if (log.ok() && log->find("develop\t") != std::string::npos) {
          std::this_thread::sleep_for(std::chrono::milliseconds(150));
          cancel_->store(true);
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    auto first = Develop(Make());
    stop = true;
    interrupter.join();
    ASSERT_FALSE(first.ok());
    ASSERT_EQ(State()["steps"]["tests-code"]["status"], "cancelled");
    cancel_->store(false);
    for (auto& e : script_["nodes"]["develop"]) e.erase("latency_ms");
  }

  /// ReachTheRequirementsGate develops (without --yes) until the requirements gate waits,
  /// answering the open question on the way; the gate's run, or "" when it never waited.
  std::string ReachTheRequirementsGate(const Options& o) {
    for (int round = 0; round < 4; ++round) {
      auto d = Develop(o);
      EXPECT_TRUE(d.ok()) << d.status().message();
      if (!d.ok() || !d->waiting) return "";
      json st = State();
      if (st["steps"].contains("requirements") && st["steps"]["requirements"]["status"] == "waiting")
        return st["steps"]["requirements"]["run"];
      for (const auto& [key, step] : st["steps"].items())
        if (step.value("status", "") == "waiting" && key.starts_with("question"))
          EXPECT_TRUE(
              engine::Decide(store_.get(), step["run"], {"ask", true, "Round each share up to the cent", "test"}).ok());
    }
    return "";
  }

  std::map<std::string, std::string> labels_;
  bool yes_ = true;  // what the gates get: approved, or nobody to answer (the run waits)
};

int SpecErrors(const std::string& project, int* warnings) {
  auto p = spec::Open(project);
  spec::Graph graph(p->corpus, p->config);
  int errors = 0;
  *warnings = 0;
  for (const auto& f : graph.Check()) (f.severity == spec::Severity::kError ? errors : *warnings)++;
  return errors;
}

std::vector<std::string> GitLog(const std::string& dir) {
  auto r = tools::GitRepo::Open(dir);
  auto log = (*r)->Log(100);
  std::vector<std::string> out;
  for (const auto& c : *log) out.push_back(c.summary);
  return out;
}

// ---- the decisions -------------------------------------------------------------------------

// The phases in the order they end: tests (begun before tasks, with its test cases) ends after
// tasks, with its code; --until names one of them up to development.
TEST(Logic, DevelopPhasesAreOneListAndUntilIsCheckedAgainstIt) {
  EXPECT_EQ(DevelopPhases(), (std::vector<std::string>{"complexity", "requirements", "domain", "stories", "architecture",
                                                       "api", "tasks", "tests", "development", "review", "QA"}));
  EXPECT_EQ(UntilPhases(), std::vector<std::string>(DevelopPhases().begin(), DevelopPhases().end() - 2));
  Options o;
  o.until = "architecure";
  auto out = Develop(o, "/nonexistent/BRIEF.md");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Code::kInvalidInput);
  EXPECT_NE(out.status().message().find("--until \"architecure\" is not a phase (did you mean \"architecture\"?)"),
            std::string::npos)
      << out.status().message();
}

TEST(Logic, ComplexityTiersAndRanges) {
  auto dims = [](int t, int u, int i, int c, int s) {
    auto d = [](int v) { return json{{"score", v}, {"reason", "r"}}; };
    return json{{"technical", d(t)}, {"users", d(u)}, {"integrations", d(i)}, {"compliance", d(c)}, {"scale", d(s)}};
  };
  EXPECT_EQ(ScoreComplexity(dims(1, 0, 0, 0, 0))->tier, "minimal");
  EXPECT_EQ(ScoreComplexity(dims(2, 1, 0, 0, 0))->tier, "minimal");  // 3
  EXPECT_EQ(ScoreComplexity(dims(2, 1, 1, 0, 0))->tier, "standard");  // 4
  EXPECT_EQ(ScoreComplexity(dims(3, 2, 1, 1, 0))->tier, "standard");  // 7
  auto full = ScoreComplexity(dims(3, 2, 2, 1, 0));
  EXPECT_EQ(full->score, 8);
  EXPECT_EQ(full->tier, "full");
  EXPECT_EQ(ScoreComplexity(dims(3, 2, 2, 2, 1))->score, 10);
  auto bad = ScoreComplexity(dims(4, 0, 0, 0, 0));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("technical is scored 4; it must be 0-3"), std::string::npos);
  json missing = dims(1, 0, 0, 0, 0);
  missing.erase("scale");
  EXPECT_NE(ScoreComplexity(missing).status().message().find("\"scale\""), std::string::npos);
}

TEST(Logic, PathToCodeAndWaves) {
  Task a{"TASK-01", "", "", {"API-05-001"}, {"src/a.c"}, {"core"}, true, true, false, "", ""};
  ChoosePath(&a);
  EXPECT_EQ(a.path, "direct");
  Task b = a;
  b.components = {"core", "cli"};
  ChoosePath(&b);
  EXPECT_EQ(b.path, "design");
  EXPECT_NE(b.path_reason.find("2 components"), std::string::npos);
  Task c = a;
  c.performance_sensitive = true;
  ChoosePath(&c);
  EXPECT_EQ(c.path, "design");
  EXPECT_NE(c.path_reason.find("performance"), std::string::npos);
  Task d = a;
  d.interfaces_clear = false;
  ChoosePath(&d);
  EXPECT_EQ(d.path, "design");

  // Parallel tasks share a wave only when their files do not overlap.
  auto task = [](std::string id, std::vector<std::string> files, bool parallel) {
    Task t;
    t.id = id;
    t.files = files;
    t.parallel = parallel;
    return t;
  };
  std::vector<Task> ts{task("T1", {"a.c"}, true), task("T2", {"b.c"}, true), task("T3", {"b.c", "c.c"}, true),
                       task("T4", {"d.c"}, false), task("T5", {"e.c"}, true), task("T6", {"f.c"}, true)};
  auto waves = PlanWaves(ts);
  std::vector<std::vector<int>> want{{0, 1}, {2}, {3}, {4, 5}};
  EXPECT_EQ(waves, want);
  // A folder overlaps what is below it, and paths compare normalised.
  std::vector<Task> dirs{task("T1", {"src/"}, true), task("T2", {"src/a.c"}, true), task("T3", {"./lib/b.c"}, true),
                         task("T4", {"lib/b.c"}, true)};
  std::vector<std::vector<int>> want_dirs{{0}, {1, 2}, {3}};
  EXPECT_EQ(PlanWaves(dirs), want_dirs);

  auto bad = ParseTasks(json{{"tasks", {{{"id", "TASK-01"}, {"files", {"../etc/passwd"}}}}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not inside the project"), std::string::npos);
  auto dup = ParseTasks(json{{"tasks", {{{"id", "T"}, {"files", {"a"}}}, {{"id", "T"}, {"files", {"b"}}}}}});
  EXPECT_NE(dup.status().message().find("task T twice"), std::string::npos);
}

TEST(Logic, ReviewConsensus) {
  Review yes{"r1", "m1", true, {}};
  Review minor{"r2", "m2", true, {{"F1", "minor", "a.c", "x"}}};
  Review no{"r3", "m3", false, {{"F1", "major", "a.c", "x"}}};
  EXPECT_EQ(Judge({yes, minor}), Consensus::kApproved);  // minor findings with an approval
  EXPECT_EQ(Judge({no, no}), Consensus::kAgreeOnChanges);
  EXPECT_EQ(Judge({yes, no}), Consensus::kDisagree);
}

TEST(Logic, TestReportPerCase) {
  std::string out = "$ make test\nexit code 2\n--- stdout\nPASS TC-06-001 refused input fails with exit 2\n"
                    "FAIL TC-06-002: got 3\nTC_06_003_x ... ok\n[  FAILED  ] Split.TC_06_005_y (0 ms)\n";
  auto r = ParseTestRun(out, {"TC-06-001", "TC-06-002", "TC-06-003", "TC-06-004", "TC-06-005"});
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.per_case["TC-06-001"], "passed");
  EXPECT_EQ(r.per_case["TC-06-002"], "failed");
  EXPECT_EQ(r.per_case["TC-06-003"], "passed");
  EXPECT_EQ(r.per_case["TC-06-004"], "not run");
  EXPECT_EQ(r.per_case["TC-06-005"], "failed");
  EXPECT_TRUE(ParseTestRun("$ make test\nexit code 0\n", {}).passed);
  auto formats = ParseTestRun(
      "$ make test\nexit code 1\n--- stdout\n[       OK ] Split.TC_06_001_x (0 ms)\n"
      "tests/test_a.py::test_TC_06_002 PASSED\nok 3 - TC-06-003\nnot ok 4 - TC-06-004\n"
      "tests/test_a.py::test_TC_06_005 FAILED\n",
      {"TC-06-001", "TC-06-002", "TC-06-003", "TC-06-004", "TC-06-005"});
  EXPECT_EQ(formats.passed_cases, 3);
  EXPECT_EQ(formats.per_case["TC-06-004"], "failed");
  EXPECT_EQ(formats.per_case["TC-06-005"], "failed");
  // A case that reports a failure fails the run even when the command exits 0.
  EXPECT_FALSE(ParseTestRun("$ make test\nexit code 0\n--- stdout\nFAIL TC-06-001: no\n", {"TC-06-001"}).passed);
}

TEST(Logic, RouterCategories) {
  EXPECT_EQ(*EntryPhase("bug"), "development");
  for (const char* level : {"requirements", "domain", "stories", "architecture", "api"}) EXPECT_EQ(*EntryPhase(level), level);
  auto bad = EntryPhase("feature");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("expected one of requirements, domain"), std::string::npos);
}

TEST(Logic, PreferencesKeepTheCurrentDecisionOnly) {
  Preferences p = Preferences::Parse("# P\n\n## Data storage\n\nSQLite\n\nSource: a person\n");
  EXPECT_EQ(*p.Get("data-storage"), "SQLite");
  p.Set("Data Storage", "PostgreSQL", "modify 2");
  p.Set("language", "C99", "preferences");
  std::string md = p.ToMarkdown("Preferences");
  EXPECT_EQ(md.find("SQLite"), std::string::npos);
  Preferences again = Preferences::Parse(md);
  EXPECT_EQ(*again.Get("data storage"), "PostgreSQL");
  EXPECT_EQ(again.Topics().size(), 2u);
}

TEST(Logic, RolesDefaultsConfigAndBinding) {
  Roles none = DefaultRoles({});
  EXPECT_EQ(none.architect, "scripted/architect");
  Roles two = DefaultRoles({"openai", "anthropic"});
  EXPECT_EQ(two.architect, "anthropic/claude-opus-4-5");   // the strongest model architects
  EXPECT_EQ(two.developer, "anthropic/claude-sonnet-4-5");  // a cheaper one develops
  ASSERT_EQ(two.reviewers.size(), 2u);                      // reviewers from different providers
  EXPECT_EQ(two.reviewers[1], "openai/gpt-5");

  char tmpl[] = "/tmp/sw-roles-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  ASSERT_TRUE(WriteFileAtomic(dir + "/a.yaml", "roles:\n  architect: openai/o3\n  reviewers: [openai/gpt-5, gemini/gemini-2.5-pro]\nprocess:\n  qa_command: make check\n").ok());
  Options o;
  ASSERT_TRUE(LoadProcessConfig(dir + "/a.yaml", {"anthropic"}, &o).ok());
  EXPECT_EQ(o.roles.architect, "openai/o3");
  EXPECT_EQ(o.roles.developer, "anthropic/claude-sonnet-4-5");
  EXPECT_EQ(o.roles.reviewers.size(), 2u);
  EXPECT_EQ(o.qa_command, "make check");
  ASSERT_TRUE(WriteFileAtomic(dir + "/b.yaml", "roles:\n  architekt: openai/o3\n").ok());
  Status s = LoadProcessConfig(dir + "/b.yaml", {}, &o);
  EXPECT_NE(s.message().find("b.yaml:2:3: unknown role \"architekt\" (did you mean \"architect\"?)"), std::string::npos)
      << s.message();
  ASSERT_TRUE(WriteFileAtomic(dir + "/c.yaml", "roles:\n  developer: gpt-5\n").ok());
  s = LoadProcessConfig(dir + "/c.yaml", {}, &o);
  EXPECT_NE(s.message().find("c.yaml:2:14: roles.developer is \"gpt-5\"; expected provider/model"), std::string::npos)
      << s.message();
  fs::remove_all(dir);

  auto wf = workflow::LoadOrError(kSource + "/process/review.yaml");
  ASSERT_TRUE(wf.ok()) << wf.status().message();
  auto bound = BindRoles(**wf, two);
  ASSERT_TRUE(bound.ok());
  ASSERT_EQ((*bound)->nodes.size(), 2u);
  EXPECT_EQ((*bound)->nodes[0].id, "review_1");
  EXPECT_EQ((*bound)->nodes[1].model.model, "openai/gpt-5");
  EXPECT_NE((*bound)->Find("review_2"), nullptr);
}

// ---- develop -------------------------------------------------------------------------------

TEST_F(ProcessTest, DevelopBuildsATracedTestedProject) {
  auto out = Develop(Make());
  ASSERT_TRUE(out.ok()) << out.status().message();
  // The project's own tests pass (QA ran them for real) and its traceability is clean.
  int warnings = 0;
  EXPECT_EQ(SpecErrors(project_, &warnings), 0);
  EXPECT_EQ(warnings, 0);
  json st = State();
  EXPECT_EQ(st["status"], "done");
  EXPECT_TRUE(st["qa"]["passed"].get<bool>());
  EXPECT_EQ(st["qa"]["passed_cases"], 6);
  EXPECT_EQ(st["complexity"]["tier"], "minimal");
  // A commit per phase and per task, on the branch specwright/develop.
  auto log = GitLog(project_);
  std::vector<std::string> want{"PR.md: summary, traceability matrix, verification, review and QA",
                                "specwright: QA round 1",
                                "TASK-02: The command line and the build",
                                "TASK-01: The core: shares and amounts",
                                // Tests first: the test cases and their code come before any code,
                                // after the design notes that fix the interfaces the tests call.
                                "TASK-T1: Implement the test cases",
                                "specs(architecture): design notes for TASK-01",
                                "specs(tasks): the task plan (2 tasks in 1 waves)",
                                "specs(tests): test cases (TC)",
                                "specs(api): API (API, ERR)",
                                "specs(architecture): architecture (SVC, DEC)",
                                "specs(stories): user stories (US)",
                                "specs(domain): domain model (ENT)",
                                "specs(requirements): requirements (REQ, BR)",
                                "specs(requirements): decisions and preferences",
                                "specs: complexity 1/10, tier minimal",
                                "specwright: the brief"};
  EXPECT_EQ(log, want);
  // Each task's commit holds its own files: the two tasks of the parallel wave are separate.
  auto repo = tools::GitRepo::Open(project_);
  auto head = (*repo)->Log(100);
  std::map<std::string, std::string> by_summary;
  for (const auto& c : *head) by_summary[c.summary] = c.id;
  auto files_of = [&](const std::string& summary) {
    for (size_t i = 0; i + 1 < head->size(); ++i)
      if ((*head)[i].summary == summary) return *(*repo)->ChangedFiles((*head)[i + 1].id, (*head)[i].id);
    return std::vector<std::string>{};
  };
  EXPECT_EQ(files_of("TASK-01: The core: shares and amounts"), (std::vector<std::string>{"src/split.c", "src/split.h"}));
  EXPECT_EQ(files_of("TASK-02: The command line and the build"), (std::vector<std::string>{"Makefile", "src/main.c"}));
  // The verify-fix loop: the verifier's finding went back to the architect, who fixed it.
  EXPECT_EQ(st["steps"]["requirements"]["verify_rounds"], 2);
  auto calls = Calls("requirements");
  EXPECT_EQ(calls.count("requirements/produce"), 2u);
  EXPECT_EQ(calls.count("requirements/verify"), 2u);
  EXPECT_NE(PromptOf("requirements", "produce").find("no business rule states that limit"), std::string::npos);
  // Disagreeing reviewers: the architect decided, and why is recorded.
  EXPECT_EQ(st["steps"]["review-1"]["consensus"], "disagree");
  EXPECT_EQ(Calls("arbitrate-1").count("arbitrate-1/decide"), 1u);
  std::string pr = *ReadFile(project_ + "/PR.md");
  EXPECT_NE(pr.find("| REQ-01-003 Round shares up to the cent | US-03-001 | SVC-04-001 |"), std::string::npos);
  EXPECT_NE(pr.find("| requirements | 2 | approve after fixes |"), std::string::npos);
  EXPECT_NE(pr.find("reject review_2/F1: A leading space"), std::string::npos);
  EXPECT_NE(pr.find("| TC-06-006 | passed |"), std::string::npos);
  EXPECT_NE(pr.find("| TASK-01 The core: shares and amounts | design | its public interfaces are not obvious"),
            std::string::npos);
  std::string context = *ReadFile(project_ + "/CONTEXT.md");
  EXPECT_NE(context.find("rounding: Round each share up to the cent"), std::string::npos);
  EXPECT_NE(PromptOf("development-1", "develop").find("## Project context (CONTEXT.md)"), std::string::npos);
  // Tests first: the tests were written before the code, and the developers work to them.
  EXPECT_NE(PromptOf("tests-code", "develop").find("The code does not exist yet"), std::string::npos);
  EXPECT_NE(PromptOf("tests-code", "develop").find("## DEC-04-002 The core's interface"), std::string::npos);
  EXPECT_NE(PromptOf("development-1", "develop").find("## Your goal\\nThe tests in tests/ were written first"),
            std::string::npos);
  EXPECT_NE(PromptOf("tasks", "plan").find("TC-06-001"), std::string::npos) << "the plan knows the test cases";
  // Red before green: the tests ran once before any code, and none passed.
  EXPECT_EQ(st["steps"]["tests-red"]["status"], "done");
  EXPECT_EQ(st["tests_first"]["passed_before_code"], json::array());
  EXPECT_EQ(st["tests_first"]["cases"].size(), 6u);
  for (const auto& [id, result] : st["tests_first"]["cases"].items()) EXPECT_NE(result, "passed") << id;
  // The verifier checks each phase's checklist point by point.
  for (const char* phase : {"requirements", "domain", "stories", "architecture", "api", "tests"})
    EXPECT_NE(PromptOf(phase, "verify").find("## Checklist (check every point"), std::string::npos) << phase;
  EXPECT_NE(PromptOf("requirements", "verify").find("Each BR states both bounds"), std::string::npos);
  // Preferences: a suggestion taken with --yes is this project's decision, not the workspace's.
  EXPECT_NE(ReadFile(project_ + "/specs/requirements/preferences.md")->find("## rounding"), std::string::npos);
  EXPECT_FALSE(fs::exists(root_ + "/.specwright/preferences.md"));

  // A finished develop names the ways to change it and runs nothing.
  auto again = Develop(Make());
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->message.find("`specwright modify"), std::string::npos) << again->message;
  EXPECT_NE(again->message.find("`specwright review PHASE"), std::string::npos) << again->message;
}

TEST_F(ProcessTest, EachComplexityTierPicksItsTemplates) {
  for (auto [score, tier] : std::vector<std::pair<int, std::string>>{{2, "minimal"}, {5, "standard"}, {9, "full"}}) {
    fs::remove_all(project_);
    // A store of its own: the same prompts would come from the engine's cache otherwise.
    store_ = std::move(store::OpenSqlite(root_ + "/store-" + tier)).value();
    auto d = [](int v) { return json{{"score", v}, {"reason", "because"}}; };
    int t = std::min(score, 3), rest = score - t;
    int u = std::min(rest, 2);
    rest -= u;
    int i = std::min(rest, 2);
    rest -= i;
    int c = std::min(rest, 2);
    rest -= c;
    json a{{"technical", d(t)}, {"users", d(u)}, {"integrations", d(i)}, {"compliance", d(c)}, {"scale", d(rest)},
           {"questions", json::array()}};
    script_["nodes"]["assess"] = json::array({json{{"json", a}}});
    Options o = Make();
    o.until = "architecture";
    auto out = Develop(o);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_TRUE(out->stopped);
    json st = State();
    EXPECT_EQ(st["complexity"]["score"], score);
    EXPECT_EQ(st["complexity"]["tier"], tier);
    EXPECT_NE(ReadFile(project_ + "/specs/complexity.md")->find("template tier **" + tier + "**"), std::string::npos);
    std::string want = "Tier: " + tier + " (";
    EXPECT_NE(PromptOf("requirements", "produce").find(want), std::string::npos) << tier;
    std::string arch = PromptOf("architecture", "produce");
    EXPECT_NE(arch.find("Tier: " + tier + "."), std::string::npos) << tier;
    EXPECT_FALSE(fs::exists(project_ + "/specs/tasks/tasks.md"));  // --until architecture
  }
}

TEST_F(ProcessTest, ReviewersWhoAgreeOnChangesGetThemApplied) {
  json changes{{"verdict", "changes"},
               {"findings", {{{"id", "F1"}, {"severity", "major"}, {"file", "src/main.c"}, {"finding", "say usage first"}}}}};
  Prepend("review_1", {{"when", {{"prompt_contains", "Review round: 1"}}}, {"json", changes}});
  Prepend("review_2", {{"when", {{"prompt_contains", "Review round: 1"}}}, {"json", changes}});
  Prepend("develop", {{"when", {{"turn", 1}, {"prompt_contains", "Task: TASK-R1 "}}},
                      {"tool_calls", {{{"name", "fs_edit"},
                                       {"arguments",
                                        {{"path", "src/main.c"},
                                         {"old_text", "/* The tipsplit command line."},
                                         {"new_text", "/* The tipsplit command line (usage: tipsplit AMOUNT PEOPLE [TIP])."}}}}}}});
  Prepend("develop", {{"when", {{"turn", 2}, {"prompt_contains", "Task: TASK-R1 "}}}, {"text", "Applied F1."}});
  auto out = Develop(Make());
  ASSERT_TRUE(out.ok()) << out.status().message();
  json st = State();
  EXPECT_EQ(st["steps"]["review-1"]["consensus"], "agree on changes");
  EXPECT_FALSE(st["steps"].contains("arbitrate-1"));  // nobody to arbitrate
  EXPECT_EQ(st["steps"]["review-1"]["applied"], json::array({"review_1/F1", "review_2/F1"}));
  EXPECT_EQ(st["steps"]["review-2"]["consensus"], "disagree");  // round 2: the recording's answers
  EXPECT_NE(ReadFile(project_ + "/src/main.c")->find("usage: tipsplit AMOUNT PEOPLE [TIP])."), std::string::npos);
  EXPECT_NE(GitLog(project_)[0].find("PR.md"), std::string::npos);
  auto log = GitLog(project_);
  EXPECT_NE(std::find(log.begin(), log.end(), "TASK-R1: Apply the review findings of round 1"), log.end());
  // What the reviewers found and had fixed is a gotcha in CONTEXT.md for the next agents.
  std::string context = *ReadFile(project_ + "/CONTEXT.md");
  EXPECT_NE(context.find("\n- review round 1: "), std::string::npos) << context;
}

TEST_F(ProcessTest, ReviewersWhoAgreeApproveAndTheArchitectCanApplyAFinding) {
  // All approve: no arbitration, no fixes.
  Prepend("review_2", {{"json", {{"verdict", "approve"}, {"findings", json::array()}}}});
  auto out = Develop(Make());
  ASSERT_TRUE(out.ok()) << out.status().message();
  json st = State();
  EXPECT_EQ(st["steps"]["review-1"]["consensus"], "all approve");
  EXPECT_FALSE(st["steps"].contains("arbitrate-1"));
  EXPECT_FALSE(st["steps"].contains("review-fix-1"));
}

TEST_F(ProcessTest, TheArchitectDecidesToApplyAFinding) {
  Prepend("decide", {{"json", {{"apply", {{{"id", "review_2/F1"}, {"why", "ERR-05-001 says malformed"}}}}, {"reject", json::array()}}}});
  Prepend("develop", {{"when", {{"turn", 1}, {"prompt_contains", "Task: TASK-R1 "}}}, {"text", "Nothing to change after all."}});
  Prepend("review_2", {{"when", {{"prompt_contains", "Review round: 2"}}}, {"json", {{"verdict", "approve"}, {"findings", json::array()}}}});
  auto out = Develop(Make());
  ASSERT_TRUE(out.ok()) << out.status().message();
  json st = State();
  EXPECT_EQ(st["steps"]["review-1"]["consensus"], "disagree");
  EXPECT_EQ(st["steps"]["review-1"]["applied"], json::array({"review_2/F1"}));
  EXPECT_EQ(st["steps"]["review-2"]["consensus"], "all approve");
  EXPECT_NE(PromptOf("review-fix-1", "develop").find("review_2/F1 [minor] src/main.c: strtol accepts"), std::string::npos);
  EXPECT_NE(ReadFile(project_ + "/CONTEXT.md")->find("apply review_2/F1 - ERR-05-001 says malformed"), std::string::npos);
}

TEST_F(ProcessTest, QaFailureGoesBackToTheDeveloperWithTheRealOutput) {
  // TASK-01 first rounds shares down, so TC-06-003 fails for real.
  json& dev = script_["nodes"]["develop"];
  json first;
  for (const auto& e : dev)
    if (e.contains("when") && e["when"].value("prompt_contains", "") == "Task: TASK-01 " && e["when"].value("turn", 0) == 1)
      first = e;
  ASSERT_FALSE(first.is_null());
  std::string correct = first["tool_calls"][1]["arguments"]["content"];
  json buggy = first;
  std::string down = correct;
  size_t at = down.find("(with_tip + per - 1) / per");
  ASSERT_NE(at, std::string::npos);
  down.replace(at, 26, "with_tip / per");
  buggy["tool_calls"][1]["arguments"]["content"] = down;
  Prepend("develop", buggy);
  Prepend("develop", {{"when", {{"turn", 1}, {"prompt_contains", "Task: TASK-Q1 "}}},
                      {"tool_calls", {{{"name", "fs_write"}, {"arguments", {{"path", "src/split.c"}, {"content", correct}}}}}}});
  Prepend("develop", {{"when", {{"turn", 2}, {"prompt_contains", "Task: TASK-Q1 "}}}, {"text", "split_bill rounds up again."}});
  Prepend("triage", {{"text", "TC-06-003 fails: split_bill rounds down; it must round up (REQ-01-003)."}});
  // The test writer's own run sees the failure too; it leaves the fix to QA.
  auto out = Develop(Make());
  ASSERT_TRUE(out.ok()) << out.status().message();
  json st = State();
  EXPECT_FALSE(st["steps"]["qa-1"]["passed"].get<bool>());
  EXPECT_EQ(st["steps"]["qa-1"]["cases"]["TC-06-003"], "failed");
  EXPECT_EQ(st["steps"]["qa-1"]["cases"]["TC-06-001"], "passed");
  EXPECT_TRUE(st["steps"]["qa-2"]["passed"].get<bool>());
  EXPECT_EQ(st["qa"]["rounds"], 2);
  std::string fix_prompt = PromptOf("qa-fix-1", "develop");
  EXPECT_NE(fix_prompt.find("FAIL TC-06-003: 10.00 for 3 with no tip is 3.34 each"), std::string::npos);
  EXPECT_NE(fix_prompt.find("split_bill rounds down"), std::string::npos);
  EXPECT_NE(ReadFile(project_ + "/CONTEXT.md")->find("QA round 1: TC-06-003 fails"), std::string::npos);
  EXPECT_NE(ReadFile(project_ + "/PR.md")->find("pass** after 2 round(s)"), std::string::npos);
}

TEST_F(ProcessTest, AnInterruptedDevelopmentResumesWithoutPayingTwice) {
  InterruptTheFirstDeveloperTurn();
  json st = State();
  EXPECT_TRUE(st["steps"]["api"]["status"] == "done");
  auto paid_before = Calls("tests-code");
  // Continue: a new Develop picks up at the interrupted step (the tests' code, written first).
  auto second = Develop(Make());
  ASSERT_TRUE(second.ok()) << second.status().message();
  // The calls that finished before the interruption came from the cache: the agent turns
  // that succeeded are paid once in all.
  int ok_calls = 0;
  json now = State();
  for (const auto& r : now["steps"]["tests-code"]["runs"])
    for (const auto& c : *store_->ListLlmCalls(r.get<std::string>()))
      if (c.node == "develop" && c.status == "ok") ++ok_calls;

  EXPECT_EQ(ok_calls, 3);  // the test agent's three turns, as in a run never interrupted
  EXPECT_EQ(now["steps"]["tests-code"]["runs"].size(), 2u);
  EXPECT_GE(paid_before.size(), 2u);  // the first turns were paid in the interrupted run
  // Phases before the wave were not run again.
  EXPECT_EQ(now["steps"]["api"]["runs"].size(), 1u);
  EXPECT_TRUE(now["qa"]["passed"].get<bool>());
  auto log = GitLog(project_);
  EXPECT_EQ(std::count(log.begin(), log.end(), "TASK-01: The core: shares and amounts"), 1);
}

// A person edits the project while a develop is interrupted: a tracked file changed, one
// deleted, a new file. Running develop again resets the project to the step's start, as it
// must, but nothing of theirs is deleted: it is kept in git under refs/specwright/kept/…,
// listed with how to take it back, and recorded in the state.
TEST_F(ProcessTest, APersonsEditsSurviveTheRerunOfAnInterruptedStep) {
  InterruptTheFirstDeveloperTurn();
  // The person's changes: an edit, a deletion and two new files.
  std::ofstream(project_ + "/BRIEF.md", std::ios::app) << "\nA note of mine.\n";
  ASSERT_TRUE(fs::remove(project_ + "/CONTEXT.md"));
  fs::create_directories(project_ + "/notes");
  std::ofstream(project_ + "/notes/todo.txt") << "ask about rounding\n";
  std::ofstream(project_ + "/scratch.md") << "mine\n";
  // And a commit of their own on the branch, which a reset to the step's start would drop.
  std::ofstream(project_ + "/mine.txt") << "committed by me\n";
  {
    auto repo = tools::GitRepo::Open(project_);
    ASSERT_TRUE(repo.ok());
    ASSERT_TRUE((*repo)->CommitPaths("my own commit", {"mine.txt"}).ok());
  }
  std::vector<std::string> said;
  Options o = Make();
  o.say = [&](const std::string& line) { said.push_back(line); };
  auto second = Develop(o);
  ASSERT_TRUE(second.ok()) << second.status().message();
  json st = State();
  ASSERT_TRUE(st["kept"].is_array());
  ASSERT_EQ(st["kept"].size(), 1u) << st["kept"].dump();
  const json& k = st["kept"][0];
  std::string ref = k["ref"];
  EXPECT_EQ(ref.rfind("refs/specwright/kept/", 0), 0u) << ref;
  std::map<std::string, std::string> files;
  for (const auto& f : k["files"]) files[f["path"]] = f["status"];
  EXPECT_EQ(files["BRIEF.md"], "modified");
  EXPECT_EQ(files["CONTEXT.md"], "deleted");
  EXPECT_EQ(files["notes/todo.txt"], "added");
  EXPECT_EQ(files["scratch.md"], "added");
  EXPECT_EQ(files["mine.txt"], "added");
  std::string all;
  for (const auto& l : said) all += l + "\n";
  EXPECT_NE(all.find("kept aside"), std::string::npos) << all;
  EXPECT_NE(all.find("notes/todo.txt"), std::string::npos) << all;
  EXPECT_NE(all.find("checkout " + ref + " -- PATH"), std::string::npos) << all;
  // Every one of them is in git, as the person left it.
  auto repo = tools::GitRepo::Open(project_);
  ASSERT_TRUE(repo.ok());
  auto kept = (*repo)->ReadFilesAt(ref, "", "");
  ASSERT_TRUE(kept.ok()) << kept.status().message();
  EXPECT_EQ((*kept)["notes/todo.txt"], "ask about rounding\n");
  EXPECT_EQ((*kept)["scratch.md"], "mine\n");
  EXPECT_NE((*kept)["BRIEF.md"].find("A note of mine."), std::string::npos);
  EXPECT_EQ(kept->count("CONTEXT.md"), 0u) << "deleted, as the person left it";
  EXPECT_EQ((*kept)["mine.txt"], "committed by me\n");
  // And the develop finished as one never interrupted.
  EXPECT_TRUE(st["qa"]["passed"].get<bool>());
}

// A phase naming a guideline or checklist file that is not there is refused at load, with the
// file and the name: a missing file would silently weaken a prompt.
TEST_F(ProcessTest, AMissingChecklistIsRefusedAtLoad) {
  fs::copy(kSource + "/process", root_ + "/process", fs::copy_options::recursive);
  fs::remove(root_ + "/process/checklists/domain.md");
  Options o = Make();
  o.process_dir = root_ + "/process";
  auto d = Develop(o);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("process.yaml: phase domain names \"checklists/domain.md\", which is not a file"),
            std::string::npos)
      << d.status().message();
  EXPECT_FALSE(fs::exists(project_));
}

// The process's messages name only flags `specwright approve` has (it had --note, which it
// does not).
TEST(ProcessFiles, GateMessagesNameOnlyFlagsThatExist) {
  const std::set<std::string> flags = {"--reject", "--text", "--store"};
  int seen = 0;
  for (const auto& e : fs::directory_iterator(kSource + "/process")) {
    if (e.path().extension() != ".yaml") continue;
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);) {
      size_t at = line.find("specwright approve");
      if (at == std::string::npos) continue;
      ++seen;
      std::string rest = line.substr(at);
      for (size_t p = rest.find("--"); p != std::string::npos; p = rest.find("--", p + 2)) {
        size_t end = rest.find_first_not_of("abcdefghijklmnopqrstuvwxyz-", p + 2);
        std::string flag = rest.substr(p, end == std::string::npos ? std::string::npos : end - p);
        EXPECT_TRUE(flags.count(flag)) << e.path() << ": " << flag << " in: " << line;
      }
    }
  }
  EXPECT_GE(seen, 2);
}

// A step's process that died mid-run (SIGKILL, a crash) left its run "running" with the
// totals of its last flush: running develop again closes it as abandoned with what its calls
// really cost, and the step's spend (PR.md's) counts it.
TEST_F(ProcessTest, AnAbandonedRunIsClosedWithWhatItReallySpent) {
  InterruptTheFirstDeveloperTurn();
  json st = State();
  std::string dead_run = st["steps"]["tests-code"]["run"];
  // Make it look as a SIGKILL leaves it: still running, no totals, a process that is gone.
  pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  ::waitpid(gone, nullptr, 0);
  auto rec = *store_->GetRun(dead_run);
  ASSERT_TRUE(rec);
  store::RunRecord r = *rec;
  r.status = "running";
  r.pid = gone;
  r.tokens_in = r.tokens_out = r.calls = 0;
  r.cost_usd = 0;
  store::Batch b;
  b.run = r;
  ASSERT_TRUE(store_->Commit(b).ok());
  double paid = 0;
  int64_t tokens = 0;
  for (const auto& c : *store_->ListLlmCalls(dead_run)) paid += c.cost_usd.value_or(0), tokens += c.tokens_in + c.tokens_out;
  ASSERT_GT(paid, 0);
  std::vector<std::string> said;
  Options o = Make();
  o.say = [&](const std::string& line) { said.push_back(line); };
  auto again = Develop(o);
  ASSERT_TRUE(again.ok()) << again.status().message();
  auto closed = *store_->GetRun(dead_run);
  EXPECT_EQ(closed->status, "failed");
  EXPECT_NE(closed->error.find("abandoned: its process (pid " + std::to_string(gone) + ") ended while it ran"),
            std::string::npos) << closed->error;
  EXPECT_DOUBLE_EQ(closed->cost_usd, paid);
  EXPECT_EQ(closed->tokens_in + closed->tokens_out, tokens);
  EXPECT_GT(closed->finished_at, 0);
  std::string all;
  for (const auto& l : said) all += l + "\n";
  EXPECT_NE(all.find("run " + dead_run + " of "), std::string::npos) << all;
  // The step's spend is both runs' real spend.
  json now = State();
  double step_usd = 0;
  for (const auto& id : now["steps"]["tests-code"]["runs"]) step_usd += (*store_->GetRun(id.get<std::string>()))->cost_usd;
  EXPECT_DOUBLE_EQ(now["steps"]["tests-code"]["cost_usd"].get<double>(), step_usd);
  EXPECT_GE(step_usd, paid);
}

// --no-cache: the step run again pays for every call, the turns that finished before the
// interruption included (by default they come from the cache: four paid turns in all).
TEST_F(ProcessTest, NoCacheMakesEveryCallAfresh) {
  InterruptTheFirstDeveloperTurn();
  Options o = Make();
  o.no_cache = true;
  auto again = Develop(o);
  ASSERT_TRUE(again.ok()) << again.status().message();
  json now = State();
  int ok_calls = 0, cached = 0;
  for (const auto& r : now["steps"]["tests-code"]["runs"])
    for (const auto& c : *store_->ListLlmCalls(r.get<std::string>()))
      if (c.node == "develop" && c.status == "ok") ++ok_calls;
  for (const auto& n : *store_->ListNodeRuns(now["steps"]["tests-code"]["run"].get<std::string>())) cached += n.cached;
  EXPECT_GT(ok_calls, 3) << "the finished first turns were paid again (a clean run of the step makes 3)";
  EXPECT_EQ(cached, 0);
}

// A gate is a dialogue: the person rejects the requirements with a note, the note (and the
// document it is about) reaches the architect in a new model call, the revised document is
// verified and the gate asks again; a plain approval ends it. Every round is in the store.
TEST_F(ProcessTest, AGateDialogueRevisesTheDocumentUntilApproved) {
  json reqs = script_["nodes"]["produce"][1];
  std::string revised = reqs["text"].get<std::string>() + "\nEach share is rounded up to the cent.\n";
  Prepend("produce", {{"when", {{"prompt_contains", "Their words:\nRound each share up to the cent"}}}, {"text", revised}});
  yes_ = false;
  Options o = Make();
  o.yes = false;
  o.until = "requirements";
  std::string gate_run = ReachTheRequirementsGate(o);
  ASSERT_FALSE(gate_run.empty()) << State().dump();
  std::string first_prompt = PromptOf("requirements", "produce");
  // Round 1: not approved, with a note.
  ASSERT_TRUE(engine::Decide(store_.get(), gate_run, {"approve", false, "Round each share up to the cent", "ana"}).ok());
  auto d2 = Develop(o);
  ASSERT_TRUE(d2.ok()) << d2.status().message();
  EXPECT_TRUE(d2->waiting) << "the gate asks again about the revised document";
  std::string prompt = PromptOf("requirements", "produce");
  EXPECT_NE(prompt, first_prompt) << "a new model call, not the cached one";
  prompt = json::parse(prompt)["messages"].back()["content"];
  EXPECT_NE(prompt.find("They did not approve it. Their words:\nRound each share up to the cent"), std::string::npos)
      << prompt.substr(prompt.size() > 3000 ? prompt.size() - 3000 : 0);
  EXPECT_NE(prompt.find("## Your last version\n# Requirements"), std::string::npos) << "the document it concerns";
  EXPECT_NE(ReadFile(project_ + "/specs/requirements/requirements.md")->find("Each share is rounded up to the cent."),
            std::string::npos);
  // Round 2: approved.
  engine::Decision yes{"approve", true, "", "ana"};
  yes.iteration = 1;
  ASSERT_TRUE(engine::Decide(store_.get(), gate_run, yes).ok());
  auto d3 = Develop(o);
  ASSERT_TRUE(d3.ok()) << d3.status().message();
  EXPECT_TRUE(d3->stopped) << d3->message;
  EXPECT_EQ(State()["steps"]["requirements"]["status"], "done");
  auto approvals = store_->ListApprovals(gate_run);
  ASSERT_TRUE(approvals.ok());
  std::vector<std::string> rounds;
  for (const auto& a : *approvals)
    if (a.node == "approve") rounds.push_back(std::to_string(a.iteration) + " " + a.decision + " by " + a.by + ": " + a.text);
  EXPECT_EQ(rounds, (std::vector<std::string>{"0 rejected by ana: Round each share up to the cent", "1 approved by ana: "}));
  EXPECT_EQ(State()["steps"]["requirements"]["gate"].size(), 2u);

  // The task-plan gate is a dialogue too: an approval with a comment sends the plan back once.
  o.until = "tasks";
  auto t1 = Develop(o);
  ASSERT_TRUE(t1.ok()) << t1.status().message();
  ASSERT_TRUE(t1->waiting) << t1->message;
  std::string tasks_run = State()["steps"]["tasks"]["run"];
  ASSERT_TRUE(engine::Decide(store_.get(), tasks_run, {"approve", true, "Keep TASK-01 first", "ana"}).ok());
  auto t2 = Develop(o);
  ASSERT_TRUE(t2.ok()) << t2.status().message();
  ASSERT_TRUE(t2->waiting) << "asked again after the comment";
  std::string plan_prompt = json::parse(PromptOf("tasks", "plan"))["messages"].back()["content"];
  EXPECT_NE(plan_prompt.find("They approved it with a comment. Their words:\nKeep TASK-01 first"), std::string::npos);
  EXPECT_NE(plan_prompt.find("## Your last plan\n{"), std::string::npos);
  engine::Decision ok{"approve", true, "", "ana"};
  ok.iteration = 1;
  ASSERT_TRUE(engine::Decide(store_.get(), tasks_run, ok).ok());
  auto t3 = Develop(o);
  ASSERT_TRUE(t3.ok()) << t3.status().message();
  EXPECT_TRUE(t3->stopped) << t3->message;
}

// A gate round whose revision was interrupted: the step starts a new run, and PR.md's gate
// history keeps the rounds of both runs, numbered on.
TEST_F(ProcessTest, GateRoundsOfAnInterruptedStepAreAllKept) {
  json reqs = script_["nodes"]["produce"][1];
  Prepend("produce", {{"when", {{"prompt_contains", "Their words:\nRound each share up to the cent"}}},
                      {"text", reqs["text"].get<std::string>() + "\nEach share is rounded up to the cent.\n"},
                      {"latency_ms", 3000}});
  yes_ = false;
  Options o = Make();
  o.yes = false;
  o.until = "requirements";
  std::string gate_run = ReachTheRequirementsGate(o);
  ASSERT_FALSE(gate_run.empty());
  ASSERT_TRUE(engine::Decide(store_.get(), gate_run, {"approve", false, "Round each share up to the cent", "ana"}).ok());
  auto produce_calls = [&] {
    auto log = ReadFile(root_ + "/calls.log");
    size_t n = 0;
    for (size_t at = 0; log.ok() && (at = log->find("produce\t", at)) != std::string::npos; ++at) ++n;
    return n;
  };
  size_t before = produce_calls();
  std::thread interrupter([&] {
    for (int i = 0; i < 2000 && produce_calls() == before; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel_->store(true);
  });
  auto cut = Develop(o);  // the revision is under way when it is cancelled
  interrupter.join();
  ASSERT_FALSE(cut.ok());
  cancel_->store(false);
  script_["nodes"]["produce"][0].erase("latency_ms");
  o = Make();
  o.yes = false;
  o.until = "requirements";
  // Run again: a new run of the step, its gate asks again; approved.
  auto again = Develop(o);
  ASSERT_TRUE(again.ok()) << again.status().message();
  ASSERT_TRUE(again->waiting) << again->message;
  std::string second = State()["steps"]["requirements"]["run"];
  ASSERT_NE(second, gate_run);
  // The person's words were not lost with the interrupted run: the new run's writer has them.
  std::string prompt = json::parse(PromptOf("requirements", "produce"))["messages"].back()["content"];
  EXPECT_NE(prompt.find("before this step was interrupted\nThey did not approve it. Their words:\nRound each share up to "
                        "the cent"),
            std::string::npos)
      << prompt;
  ASSERT_TRUE(engine::Decide(store_.get(), second, {"approve", true, "", "ana"}).ok());
  auto done = Develop(o);
  ASSERT_TRUE(done.ok()) << done.status().message();
  json gate = State()["steps"]["requirements"]["gate"];
  ASSERT_EQ(gate.size(), 2u) << gate.dump();
  EXPECT_EQ(gate[0]["round"], 1);
  EXPECT_EQ(gate[0]["decision"], "rejected");
  EXPECT_EQ(gate[0]["run"], gate_run);
  EXPECT_EQ(gate[1]["round"], 2);
  EXPECT_EQ(gate[1]["decision"], "approved");
  EXPECT_EQ(gate[1]["run"], second);
}

// A question belongs to the phase that decides it: asked when that phase begins, one at a
// time, and kept in that phase's preferences, which its prompt carries.
TEST_F(ProcessTest, QuestionsAreAskedInTheirPhaseAndKeptInItsPreferences) {
  json& assess = script_["nodes"]["assess"][0]["json"];
  assess["questions"].push_back({{"topic", "storage"},
                                 {"question", "Should tipsplit remember past bills?"},
                                 {"suggestion", "No: nothing is stored"},
                                 {"phase", "architecture"}});
  yes_ = false;
  Options o = Make();
  o.yes = false;
  o.until = "architecture";
  std::vector<std::string> asked;  // the order the waiting steps came in
  for (int round = 0; round < 8; ++round) {
    auto d = Develop(o);
    ASSERT_TRUE(d.ok()) << d.status().message();
    if (!d->waiting) break;
    json st = State();
    for (const auto& [key, step] : st["steps"].items()) {
      if (step.value("status", "") != "waiting") continue;
      asked.push_back(key);
      if (key == "question-2") {
        // Asked only now: the stories are written, the architecture is not begun.
        EXPECT_EQ(st["steps"]["stories"]["status"], "done");
        EXPECT_FALSE(st["steps"].contains("architecture"));
      }
      std::string words = key == "question-2" ? "Keep nothing between runs"
                          : key == "question-1" ? "Round each share up to the cent"
                                                : "";  // a plain approval at the gate
      engine::Decision d{key.starts_with("question") ? "ask" : "approve", true, words, "ana"};
      ASSERT_TRUE(engine::Decide(store_.get(), step["run"], d).ok());
    }
  }
  EXPECT_EQ(asked, (std::vector<std::string>{"question-1", "requirements", "question-2"}));
  json st = State();
  EXPECT_EQ(st["steps"]["architecture"]["status"], "done");
  std::string arch = *ReadFile(project_ + "/specs/architecture/preferences.md");
  EXPECT_NE(arch.find("## storage\n\nKeep nothing between runs\n\nSource: answered by a person"), std::string::npos) << arch;
  EXPECT_EQ(ReadFile(project_ + "/specs/requirements/preferences.md")->find("storage"), std::string::npos);
  // The architect read it when writing the architecture.
  std::string prompt = json::parse(PromptOf("architecture", "produce"))["messages"].back()["content"];
  EXPECT_NE(prompt.find("Keep nothing between runs"), std::string::npos);
  std::string req_prompt = json::parse(PromptOf("requirements", "produce"))["messages"].back()["content"];
  EXPECT_EQ(req_prompt.find("Keep nothing between runs"), std::string::npos);
  auto log = GitLog(project_);
  EXPECT_NE(std::find(log.begin(), log.end(), "specs(architecture): decisions and preferences"), log.end());
}

// ---- modify --------------------------------------------------------------------------------

TEST_F(ProcessTest, AOneRequirementModifyRegeneratesOnlyWhatItTouches) {
  ASSERT_TRUE(Develop(Make()).ok());
  auto before = Snapshot(project_);
  auto out = process::Modify(Make(), "Allow tips up to 50%");
  ASSERT_TRUE(out.ok()) << out.status().message();
  // Exactly these nodes called a model.
  // The cascade check keeps ERR-05-001 (it does not restate the tip range), so the API
  // phase does not run; TC-06-004 is rewritten.
  std::multiset<std::string> want{"m1-classify/classify", "m1-requirements/produce", "m1-requirements/verify",
                                  "m1-cascade/cascade",   "m1-tests/produce",        "m1-tests/verify",
                                  "m1-development/develop", "m1-development/develop", "m1-development/develop",
                                  "m1-review-1/review_1", "m1-review-1/review_2"};
  EXPECT_EQ(Calls("m1-"), want);
  json st = State();
  EXPECT_EQ(st["modifies"][0]["category"], "requirements");
  // CONTEXT.md says the project has moved on from its brief.
  std::string context = *ReadFile(project_ + "/CONTEXT.md");
  EXPECT_NE(context.find("## Changes since the develop\n\n- modify 1 (done): Allow tips up to 50%"), std::string::npos)
      << context;
  EXPECT_EQ(st["modifies"][0]["skipped"], json::array({"domain", "stories", "architecture", "api"}));
  EXPECT_EQ(st["modifies"][0]["changed"], json::array({"BR-01-001", "TC-06-004"}));
  ASSERT_EQ(st["modifies"][0]["kept"].size(), 1u) << st["modifies"][0].dump();
  EXPECT_EQ(st["modifies"][0]["kept"][0]["id"], "ERR-05-001");
  EXPECT_NE(ReadFile(project_ + "/PR.md")->find("- Kept as it is by the cascade check: ERR-05-001 (It says an argument"),
            std::string::npos);
  // The check was asked about the items directly below the change, with the changed text.
  std::string cascade = json::parse(PromptOf("m1-cascade", "cascade"))["messages"].back()["content"];
  EXPECT_NE(cascade.find("## Changed items\n## BR-01-001 Tip range"), std::string::npos) << cascade;
  EXPECT_NE(cascade.find("## ERR-05-001 "), std::string::npos) << cascade;
  EXPECT_NE(cascade.find("## TC-06-004 "), std::string::npos) << cascade;
  // Files outside the impact are byte-identical.
  auto after = Snapshot(project_);
  std::set<std::string> differ;
  for (const auto& [f, text] : after)
    if (!before.count(f) || before[f] != text) differ.insert(f);
  for (const auto& [f, text] : before)
    if (!after.count(f)) differ.insert(f);
  // CONTEXT.md too: it lists the change.
  std::set<std::string> expected{"CONTEXT.md", "PR.md", "specs/requirements/requirements.md",
                                 "specs/tests/test-cases.md", "src/split.h", "tests/test_split.c"};
  EXPECT_EQ(differ, expected);
  // Inside the changed documents, every item but the changed ones is byte-identical.
  auto items = [](const std::string& project) {
    std::map<std::string, std::string> m;
    auto opened = spec::Open(project);  // bound: a member of a temporary would dangle in the loop
    for (const auto& it : opened->corpus.items) m[it.id] = it.title + "\n" + it.body;
    return m;
  };
  for (const auto& [f, text] : before) ASSERT_TRUE(Put(root_ + "/old/" + f, text).ok());
  auto old_items = items(root_ + "/old"), new_items = items(project_);
  ASSERT_EQ(old_items.size(), new_items.size());
  for (const auto& [id, body] : old_items) {
    if (id == "BR-01-001" || id == "TC-06-004") EXPECT_NE(new_items[id], body) << id;
    else EXPECT_EQ(new_items[id], body) << id;
  }
  EXPECT_NE(ReadFile(project_ + "/src/split.h")->find("#define SPLIT_MAX_TIP 50"), std::string::npos);
  EXPECT_TRUE(st["m1-qa"]["passed"].get<bool>());
  // Tests first in a change too: the developer's goal says so.
  EXPECT_NE(PromptOf("m1-development", "develop").find("## Your goal\\nChange the tests of the changed test cases first"),
            std::string::npos);
  int warnings = 0;
  EXPECT_EQ(SpecErrors(project_, &warnings), 0);
  EXPECT_EQ(warnings, 0);
  // The modify spent a fraction of the develop.
  int64_t dev_tokens = 0, mod_tokens = 0;
  for (const auto& [key, step] : st["steps"].items()) (key.starts_with("m1-") ? mod_tokens : dev_tokens) += step.value("tokens", int64_t{0});
  EXPECT_LT(mod_tokens, dev_tokens / 3);
  EXPECT_NE(ReadFile(project_ + "/PR.md")->find("## Change 1 (modify): Allow tips up to 50%"), std::string::npos);
}

// Update mode: develop again with an edited brief; its diff is routed like a modify.
TEST_F(ProcessTest, AnUpdateOfTheBriefRegeneratesOnlyWhatItTouches) {
  ASSERT_TRUE(Develop(Make()).ok());
  auto before = Snapshot(project_);
  std::string brief = *ReadFile(kExample + "/BRIEF.md");
  size_t at = brief.find("Tips go from 0% to 30%");
  ASSERT_NE(at, std::string::npos);
  brief.replace(at, 22, "Tips go from 0% to 50%");
  // The person edits the project's own BRIEF.md in place (not committed) and develops with it:
  // that edit is the update's, not a change in the way.
  ASSERT_TRUE(Put(project_ + "/BRIEF.md", brief).ok());
  std::vector<std::string> said;
  Options o = Make();
  o.say = [&](const std::string& line) { said.push_back(line); };
  auto out = process::Develop(o, project_ + "/BRIEF.md");
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_NE(out->message.find("change 1 done"), std::string::npos) << out->message;
  json st = State();
  const json& m = st["modifies"][0];
  EXPECT_EQ(m["kind"], "update");
  EXPECT_EQ(m["category"], "requirements");
  EXPECT_EQ(m["changed"], json::array({"BR-01-001", "TC-06-004"}));
  // The classifier read the diff of the brief, not the whole brief.
  std::string prompt = json::parse(PromptOf("m1-classify", "classify"))["messages"].back()["content"];
  EXPECT_NE(prompt.find("-- The usual tip is 15%. Tips go from 0% to 30%; a table has 1 to 100 people.\n"
                        "+- The usual tip is 15%. Tips go from 0% to 50%; a table has 1 to 100 people."),
            std::string::npos)
      << prompt;
  // The cascade check keeps ERR-05-001 (it does not restate the tip range), so the API
  // phase does not run; TC-06-004 is rewritten.
  std::multiset<std::string> want{"m1-classify/classify", "m1-requirements/produce", "m1-requirements/verify",
                                  "m1-cascade/cascade",   "m1-tests/produce",        "m1-tests/verify",
                                  "m1-development/develop", "m1-development/develop", "m1-development/develop",
                                  "m1-review-1/review_1", "m1-review-1/review_2"};
  EXPECT_EQ(Calls("m1-"), want);
  auto after = Snapshot(project_);
  std::set<std::string> differ;
  for (const auto& [f, text] : after)
    if (!before.count(f) || before[f] != text) differ.insert(f);
  std::set<std::string> expected{"BRIEF.md", "CONTEXT.md", "PR.md", "specs/requirements/requirements.md",
                                 "specs/tests/test-cases.md", "src/split.h", "tests/test_split.c"};
  EXPECT_EQ(differ, expected);
  EXPECT_EQ(after["BRIEF.md"], brief);
  EXPECT_TRUE(st["m1-qa"]["passed"].get<bool>());
  EXPECT_NE(after["PR.md"].find("## Change 1 (update): the brief changed"), std::string::npos);
  EXPECT_NE(after["PR.md"].find("```diff\n"), std::string::npos);
  EXPECT_NE(after["CONTEXT.md"].find("- update 1 (done): the brief changed"), std::string::npos);
  // The project is now developed from the new brief; the old one is a change again.
  auto again = process::Develop(Make(), project_ + "/BRIEF.md");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->message.find("is already developed"), std::string::npos) << again->message;
  // The new brief is the update's first commit.
  auto log = GitLog(project_);
  EXPECT_NE(std::find(log.begin(), log.end(), "update 1: the brief, from " + project_ + "/BRIEF.md"), log.end());
}

// An update waits at its impact plan; dropped, the brief goes back with it and nothing of it
// is left waiting.
TEST_F(ProcessTest, AnUnfinishedUpdateCanBeAbandonedBriefIncluded) {
  ASSERT_TRUE(Develop(Make()).ok());
  const std::string original = *ReadFile(project_ + "/BRIEF.md");
  const std::string hash = State()["brief_hash"];
  std::string brief = original;
  brief.replace(brief.find("Tips go from 0% to 30%"), 22, "Tips go from 0% to 50%");
  ASSERT_TRUE(Put(root_ + "/edited/BRIEF.md", brief).ok());
  yes_ = false;
  Options o = Make();
  o.yes = false;
  auto u = process::Develop(o, root_ + "/edited/BRIEF.md");
  ASSERT_TRUE(u.ok()) << u.status().message();
  ASSERT_TRUE(u->waiting);
  EXPECT_NE(u->message.find("specwright modify --abandon --workspace " + project_), std::string::npos) << u->message;
  EXPECT_EQ(*ReadFile(project_ + "/BRIEF.md"), brief) << "the new brief is the update's first commit";
  std::string plan_run = State()["steps"]["m1-plan"]["run"];
  // The brief edited again meanwhile: refused, with the way out.
  ASSERT_TRUE(Put(root_ + "/edited/BRIEF.md", brief + "\nOne more line.\n").ok());
  auto twice = process::Develop(o, root_ + "/edited/BRIEF.md");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("the brief changed again while its update is unfinished"), std::string::npos)
      << twice.status().message();
  o.abandon = true;
  auto dropped = process::Modify(o, "");
  ASSERT_TRUE(dropped.ok()) << dropped.status().message();
  EXPECT_NE(dropped->message.find("abandoned the update"), std::string::npos) << dropped->message;
  EXPECT_EQ(*ReadFile(project_ + "/BRIEF.md"), original);
  json st = State();
  EXPECT_EQ(st["brief_hash"], hash);
  EXPECT_EQ(st["modifies"][0]["status"], "abandoned");
  auto rec = store_->GetRun(plan_run);
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->status, "cancelled") << "nothing of the dropped change waits in Approvals";
  o.abandon = false;
  auto same = process::Develop(o, kExample + "/BRIEF.md");
  ASSERT_TRUE(same.ok());
  EXPECT_NE(same->message.find("is already developed"), std::string::npos) << same->message;
}

// A fresh step does not start over a person's changes, and does not commit them with its own
// (the commit of a phase's decisions included); committed, they are theirs and it goes on.
TEST_F(ProcessTest, AFreshStepStopsForAPersonsChanges) {
  Options o = Make();
  o.until = "requirements";
  ASSERT_TRUE(Develop(o).ok());
  std::ofstream(project_ + "/notes.txt") << "mine\n";
  std::ofstream(project_ + "/BRIEF.md", std::ios::app) << "\nA note of mine.\n";
  o.until = "domain";
  auto held = Develop(o);
  ASSERT_FALSE(held.ok());
  std::string msg = held.status().message();
  EXPECT_NE(msg.find("untracked  notes.txt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("modified  BRIEF.md"), std::string::npos) << msg;
  EXPECT_NE(msg.find("commit -m"), std::string::npos) << "outside a change, committing them is a way on: " << msg;
  EXPECT_FALSE(State()["steps"].contains("domain"));
  for (const auto& c : GitLog(project_)) EXPECT_EQ(c.find("domain"), std::string::npos) << c;
  {
    auto repo = tools::GitRepo::Open(project_);
    ASSERT_TRUE(repo.ok());
    ASSERT_TRUE((*repo)->CommitAll("my notes").ok());
  }
  auto d = Develop(o);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(State()["steps"]["domain"]["status"], "done");
  EXPECT_EQ(*ReadFile(project_ + "/notes.txt"), "mine\n");
  auto log = GitLog(project_);
  EXPECT_NE(std::find(log.begin(), log.end(), "my notes"), log.end());
}

// Review mode: a person revisits a phase; nothing said keeps it, words revise it through the
// phase's gate and the change cascades.
TEST_F(ProcessTest, AReviewRevisitsAPhaseWithAPerson) {
  ASSERT_TRUE(Develop(Make()).ok());
  Options o = Make();
  auto bad = process::ReviewPhase(o, "requirments", "x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("did you mean \"requirements\""), std::string::npos) << bad.status().message();
  // The person's words go to the architect; the revision waits at the gate for them.
  yes_ = false;
  o.yes = false;
  auto r1 = process::ReviewPhase(o, "requirements", "Tips should go up to 50%");
  ASSERT_TRUE(r1.ok()) << r1.status().message();
  ASSERT_TRUE(r1->waiting) << r1->message;
  json st = State();
  EXPECT_EQ(st["modifies"][0]["kind"], "review");
  EXPECT_EQ(st["modifies"][0]["entry"], "requirements");
  std::string prompt = json::parse(PromptOf("m1-requirements", "produce"))["messages"].back()["content"];
  EXPECT_NE(prompt.find("A person reviewed the requirements. Their words:\nTips should go up to 50%"), std::string::npos)
      << prompt;
  std::string gate = st["steps"]["m1-requirements"]["run"];
  ASSERT_TRUE(engine::Decide(store_.get(), gate, {"approve", true, "", "ana"}).ok());
  // Continued without the words: they are kept with the change.
  auto r2 = process::ReviewPhase(o, "requirements", "");
  ASSERT_TRUE(r2.ok()) << r2.status().message();
  EXPECT_FALSE(r2->waiting) << r2->message;
  st = State();
  EXPECT_EQ(st["modifies"][0]["status"], "done");
  EXPECT_EQ(st["modifies"][0]["changed"], json::array({"BR-01-001", "TC-06-004"}));
  EXPECT_EQ(st["steps"]["m1-requirements"]["gate"].size(), 1u);
  EXPECT_NE(ReadFile(project_ + "/src/split.h")->find("#define SPLIT_MAX_TIP 50"), std::string::npos);
  std::string pr = *ReadFile(project_ + "/PR.md");
  EXPECT_NE(pr.find("## Change 1 (review): review of the requirements\n\nWhat the person asked:\n\n> Tips should go up to "
                    "50%"),
            std::string::npos)
      << pr;
  // Asked, and nothing to change (--yes takes the empty suggestion): kept, no model call.
  auto before = Snapshot(project_);
  yes_ = true;
  o.yes = true;
  auto kept = process::ReviewPhase(o, "architecture", "");
  ASSERT_TRUE(kept.ok()) << kept.status().message();
  EXPECT_NE(kept->message.find("kept as it is"), std::string::npos) << kept->message;
  EXPECT_TRUE(Calls("m2-").empty());
  for (const auto& [f, text] : Snapshot(project_))
    if (f != "PR.md" && f != "CONTEXT.md") EXPECT_EQ(before[f], text) << f;
  EXPECT_NE(ReadFile(project_ + "/PR.md")->find("## Change 2 (review): review of the architecture\n\nKept as it is"),
            std::string::npos);
}

TEST_F(ProcessTest, FilesOutsideTheImpactArePutBackAndAChangeCanBeAbandoned) {
  ASSERT_TRUE(Develop(Make()).ok());
  auto before = Snapshot(project_);
  // The developer also "tidies" main.c and adds a stray file: neither is in the impact.
  for (auto& e : script_["nodes"]["develop"])
    if (e.contains("when") && e["when"].value("prompt_contains", "") == "Task: TASK-M1 " && e["when"].value("turn", 0) == 1) {
      e["tool_calls"].push_back({{"name", "fs_edit"},
                                 {"arguments", {{"path", "src/main.c"}, {"old_text", "The tipsplit command line."},
                                                {"new_text", "The tipsplit command line, tidied."}}}});
      e["tool_calls"].push_back({{"name", "fs_write"}, {"arguments", {{"path", "NOTES.txt"}, {"content", "stray"}}}});
      // A new file beside the change's files is part of the change.
      e["tool_calls"].push_back({{"name", "fs_write"}, {"arguments", {{"path", "src/limits.txt"}, {"content", "0-50"}}}});
      // And it cannot reach Specwright's own state.
      e["tool_calls"].push_back({{"name", "fs_write"}, {"arguments", {{"path", ".specwright/stray"}, {"content", "{}"}}}});
    }
  // A reviewer asks for a fix, the architect applies it, and the fix strays into the Makefile:
  // put back after QA, and QA runs again on what is left.
  Prepend("review_1", {{"when", {{"prompt_contains", "+#define SPLIT_MAX_TIP 50"}}},
                       {"json", {{"verdict", "changes"},
                                 {"findings", {{{"id", "F9"}, {"severity", "minor"}, {"file", "src/split.h"},
                                                {"finding", "say 50 in the comment of SPLIT_MAX_TIP"}}}}}}});
  Prepend("review_1", {{"when", {{"prompt_contains", "Review round: 2"}}}, {"json", {{"verdict", "approve"}, {"findings", json::array()}}}});
  Prepend("decide", {{"when", {{"prompt_contains", "F9"}}},
                     {"json", {{"apply", {{{"id", "review_1/F9"}, {"why", "cheap and clearer"}}}}, {"reject", json::array()}}}});
  Prepend("develop", {{"when", {{"turn", 1}, {"prompt_contains", "Task: TASK-R1 "}}},
                      {"tool_calls", {{{"name", "fs_edit"},
                                       {"arguments", {{"path", "Makefile"}, {"old_text", "CFLAGS ?="}, {"new_text", "CFLAGS ?= -g"}}}}}}});
  Prepend("develop", {{"when", {{"turn", 2}, {"prompt_contains", "Task: TASK-R1 "}}}, {"text", "Done."}});
  auto out = process::Modify(Make(), "Allow tips up to 50%");
  ASSERT_TRUE(out.ok()) << out.status().message();
  json st = State();
  EXPECT_EQ(st["modifies"][0]["restored"], json::array({"NOTES.txt", "src/main.c", "Makefile"}));
  EXPECT_TRUE(fs::exists(project_ + "/src/limits.txt"));
  EXPECT_EQ(*ReadFile(project_ + "/Makefile"), before["Makefile"]);
  EXPECT_EQ(st["steps"]["m1-qa-after-put-back"]["status"], "done");
  EXPECT_TRUE(st["m1-qa"]["passed"].get<bool>());
  EXPECT_EQ(st["m1-qa"]["rounds"], 2);
  auto after = Snapshot(project_);
  EXPECT_EQ(after["src/main.c"], before["src/main.c"]);
  EXPECT_FALSE(after.count("NOTES.txt"));
  EXPECT_NE(ReadFile(project_ + "/CONTEXT.md")->find("were changed (NOTES.txt, src/main.c) and put back"), std::string::npos);
  EXPECT_NE(ReadFile(project_ + "/CONTEXT.md")->find("were changed (Makefile) and put back"), std::string::npos);
  EXPECT_FALSE(fs::exists(project_ + "/.specwright/stray"));  // the sandbox refused it
  EXPECT_EQ(st["status"], "done");

  // A second change that stops halfway (its stories phase has no answer, after the
  // requirements phase committed) can be dropped, and the project is as it was.
  auto mid = Snapshot(project_);
  std::string mid_head = GitLog(project_)[0];
  Prepend("classify", {{"json", {{"category", "requirements"}, {"reason", "r"}, {"targets", {"REQ-01-002"}}}}});
  Prepend("produce", {{"when", {{"prompt_contains", "Only these items may be rewritten: REQ-01-002"}}},
                      {"text", "## REQ-01-002 Default tip\n\nWhen no tip is given, the tool shall use a tip of 18%.\n\n"
                               "Acceptance: 100.00 for 2 people with no tip given gives 59.00 each.\n"}});
  auto stuck = process::Modify(Make(), "Make the default tip 18%");
  ASSERT_FALSE(stuck.ok());
  EXPECT_NE(stuck.status().message().find("domain failed"), std::string::npos) << stuck.status().message();
  EXPECT_NE(ReadFile(project_ + "/specs/requirements/requirements.md")->find("tip of 18%"), std::string::npos);
  auto other = process::Modify(Make(), "Something else");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("specwright modify --abandon"), std::string::npos);
  Options ab = Make();
  ab.abandon = true;
  auto dropped = process::Modify(ab, "-");
  ASSERT_TRUE(dropped.ok()) << dropped.status().message();
  EXPECT_EQ(State()["modifies"][1]["status"], "abandoned");
  EXPECT_EQ(Snapshot(project_), mid);
  EXPECT_EQ(GitLog(project_)[0], mid_head);
  // The next change gets a number of its own.
  script_["nodes"]["classify"].erase(script_["nodes"]["classify"].begin());
  auto next = process::Modify(Make(), "Allow tips up to 50%");
  ASSERT_TRUE(next.ok()) << next.status().message();
  EXPECT_EQ(State()["modifies"][2]["status"], "done");
}

TEST_F(ProcessTest, AnApiLevelChangeThatChangesNothingStopsThere) {
  ASSERT_TRUE(Develop(Make()).ok());
  auto before = Snapshot(project_);
  Prepend("classify", {{"json", {{"category", "api"}, {"reason", "the error's wording"}, {"targets", {"ERR-05-001"}}}}});
  auto out = process::Modify(Make(), "Name the usage line in ERR-05-001");
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_NE(out->message.find("changed no spec item"), std::string::npos);
  // The item came back as it was: nothing new to verify, no verifier call.
  std::multiset<std::string> want{"m1-classify/classify", "m1-api/produce"};
  EXPECT_EQ(Calls("m1-"), want);
  auto after = Snapshot(project_);
  // Only the records change: PR.md, and CONTEXT.md's list of changes.
  for (const auto& [f, text] : before)
    if (f != "PR.md" && f != "CONTEXT.md") EXPECT_EQ(after[f], text) << f;
}

// An update's verifier is skipped only when its first answer changed nothing: a fix round
// that gives back the text the verifier just refused is verified again (and fails when the
// rounds run out), not waved through because it did not change since the last round.
TEST_F(ProcessTest, AFixRoundOfAnUpdateIsVerifiedEvenWhenItRepeatsItself) {
  ASSERT_TRUE(Develop(Make()).ok());
  Prepend("classify", {{"json", {{"category", "api"}, {"reason", "the error's wording"}, {"targets", {"ERR-05-001"}}}}});
  Prepend("produce", {{"when", {{"prompt_contains", "Phase: api (update)"}}},
                      {"text", "## ERR-05-001 Invalid argument\n\nA malformed argument exits with code 2 and the usage "
                               "line.\n\nTraces: US-03-002, REQ-01-004, BR-01-001, BR-01-002\n"}});
  Prepend("verify", {{"when", {{"prompt_contains", "Verify phase: api (update)"}}},
                     {"json", {{"verdict", "fix"}, {"findings", {{{"severity", "major"}, {"item", "ERR-05-001"},
                                                                  {"problem", "it no longer says what goes to stderr"}}}}}}});
  auto out = process::Modify(Make(), "Shorten ERR-05-001");
  ASSERT_FALSE(out.ok());
  std::multiset<std::string> want{"m1-classify/classify", "m1-api/produce", "m1-api/produce", "m1-api/produce",
                                  "m1-api/verify",        "m1-api/verify",  "m1-api/verify"};
  EXPECT_EQ(Calls("m1-"), want);
}

TEST_F(ProcessTest, EachSpecLevelIsAnEntryPoint) {
  ASSERT_TRUE(Develop(Make()).ok());
  // Each level's change enters there: nothing above it runs. The architect gives the item
  // back unchanged, so the walk stops at the entry level.
  int n = 0;
  for (auto [level, id] : std::vector<std::pair<std::string, std::string>>{
           {"domain", "ENT-02-002"}, {"stories", "US-03-002"}, {"architecture", "DEC-04-001"}}) {
    ++n;
    auto opened = spec::Open(project_);
    std::string section;
    for (const auto& it : opened->corpus.items) {
      if (it.id != id) continue;
      std::string doc = *ReadFile(project_ + "/" + it.at.file);
      size_t from = doc.find("## " + id);
      size_t to = doc.find("\n## ", from + 3);
      section = doc.substr(from, to == std::string::npos ? std::string::npos : to + 1 - from);
    }
    ASSERT_FALSE(section.empty()) << id;
    script_["nodes"]["classify"] =
        json::array({json{{"json", {{"category", level}, {"reason", "it changes the " + level}, {"targets", {id}}}}}});
    Prepend("produce", {{"when", {{"prompt_contains", "Phase: " + level + " (update)"}}}, {"text", section}});
    auto out = process::Modify(Make(), "A change to " + id);
    ASSERT_TRUE(out.ok()) << level << ": " << out.status().message();
    std::string prefix = "m" + std::to_string(n) + "-";
    std::multiset<std::string> want{prefix + "classify/classify", prefix + level + "/produce"};
    EXPECT_EQ(Calls(prefix), want) << level;
    json st = State();
    EXPECT_EQ(st["modifies"][n - 1]["entry"], level);
    EXPECT_EQ(st["modifies"][n - 1]["phases"], json::array({level}));
  }
}

TEST_F(ProcessTest, ABugGoesToDevelopmentWithARegressionTestCase) {
  ASSERT_TRUE(Develop(Make()).ok());
  Prepend("classify", {{"json", {{"category", "bug"}, {"reason", "REQ-01-003 is right; the code must follow it"},
                                 {"targets", {"REQ-01-003"}}}}});
  Prepend("produce", {{"when", {{"prompt_contains", "Phase: tests (update)"}}},
                      {"text", "## TC-06-007 Regression: a share of 0.01 people\n\n1.00 for 100 people with no tip is 0.01 each.\n\nTraces: REQ-01-003, US-03-001\n"}});
  Prepend("develop", {{"when", {{"turn", 1}, {"prompt_contains", "Task: TASK-M1 "}}},
                      {"tool_calls",
                       {{{"name", "fs_edit"},
                         {"arguments",
                          {{"path", "tests/test_split.c"},
                           {"old_text", "int main(void) {\n"},
                           {"new_text", "static void TC_06_007_regression_tiny_share(void) {\n  struct bill b = {100, 0, 100};\n  long share = 0;\n  check(\"TC-06-007\", split_bill(&b, &share) == SPLIT_OK && share == 1, \"1.00 for 100 is 0.01 each\");\n}\n\nint main(void) {\n  TC_06_007_regression_tiny_share();\n"}}}}}}});
  Prepend("develop", {{"when", {{"turn", 2}, {"prompt_contains", "Task: TASK-M1 "}}}, {"text", "Added TC_06_007; the code already passes it."}});
  auto before = Snapshot(project_);
  auto out = process::Modify(Make(), "Tiny shares come out as zero");
  ASSERT_TRUE(out.ok()) << out.status().message();
  json st = State();
  EXPECT_EQ(st["modifies"][0]["entry"], "development");
  EXPECT_EQ(st["modifies"][0]["phases"], json::array({"tests"}));
  EXPECT_EQ(st["modifies"][0]["added"], json::array({"TC-06-007"}));
  // review_2 keeps its finding on this diff too, so the architect decides again.
  std::multiset<std::string> want{"m1-classify/classify", "m1-tests/produce", "m1-tests/verify",
                                  "m1-development/develop", "m1-development/develop", "m1-review-1/review_1",
                                  "m1-review-1/review_2", "m1-arbitrate-1/decide"};
  EXPECT_EQ(Calls("m1-"), want);
  EXPECT_EQ(st["m1-qa"]["cases"]["TC-06-007"], "passed");
  auto after = Snapshot(project_);
  for (const auto& f : {"specs/requirements/requirements.md", "specs/stories/stories.md", "specs/api/api.md", "src/main.c",
                        "Makefile"})
    EXPECT_EQ(after[f], before[f]) << f;
}

TEST_F(ProcessTest, AStepThatFailedOnTheAnswersIsAskedAfresh) {
  // A question whose topic is not a string.
  script_["nodes"]["assess"] = json::array({json{{"json",
                                                  {{"technical", {{"score", 1}, {"reason", "x"}}},
                                                   {"users", {{"score", 0}, {"reason", "x"}}},
                                                   {"integrations", {{"score", 0}, {"reason", "x"}}},
                                                   {"compliance", {{"score", 0}, {"reason", "x"}}},
                                                   {"scale", {{"score", 0}, {"reason", "x"}}},
                                                   {"questions", {{{"topic", 7}, {"question", "?"}, {"suggestion", "s"}}}}}}}});
  Options o = Make();
  o.until = "complexity";
  auto typed = Develop(o);  // the schema refuses it: a failed step with the reason, not a crash
  ASSERT_FALSE(typed.ok());
  EXPECT_NE(typed.status().message().find("complexity failed"), std::string::npos) << typed.status().message();
  fs::remove_all(project_);
  auto rec = sw::ParseYamlText(*ReadFile(kExample + "/recording.yaml"), "recording.yaml");
  script_["nodes"]["assess"] = (*rec)["nodes"]["assess"];
  // A plan naming a file outside the project is refused when the step finishes...
  script_["nodes"]["plan"] = json::array({json{{"json", {{"tasks", {{{"id", "TASK-01"}, {"title", "t"}, {"implements", {"REQ-01-001"}},
                                                                      {"files", {"../outside.c"}}, {"parallel", false},
                                                                      {"components", {"core"}}, {"interfaces_clear", true},
                                                                      {"performance_sensitive", false}}}}}}}});
  o = Make();
  o.until = "tasks";
  auto first = Develop(o);
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.status().message().find("not inside the project"), std::string::npos) << first.status().message();
  EXPECT_EQ(State()["steps"]["tasks"].value("fresh", false), true);
  // ...and the next attempt asks the architect again instead of replaying the cached plan.
  script_["nodes"]["plan"] = (*rec)["nodes"]["plan"];
  o = Make();
  o.until = "tasks";
  auto second = Develop(o);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(Calls("tasks").count("tasks/plan"), 2u);  // paid again, on purpose: the first answer was unusable
  EXPECT_EQ(State()["tasks"].size(), 2u);
}

TEST_F(ProcessTest, AProviderFailureKeepsTheCache) {
  script_["nodes"]["assess"] = json::array({json{{"error", {{"message", "overloaded"}, {"retryable", false}}}}});
  auto out = Develop(Make());
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("not paid twice"), std::string::npos) << out.status().message();
  EXPECT_FALSE(State()["steps"]["complexity"].contains("fresh"));
}

TEST_F(ProcessTest, CodeCitingUnknownIdsFailsTheWave) {
  for (auto& e : script_["nodes"]["develop"])
    if (e.contains("when") && e["when"].value("prompt_contains", "") == "Task: TASK-02 " && e["when"].value("turn", 0) == 1) {
      std::string c = e["tool_calls"][0]["arguments"]["content"];
      e["tool_calls"][0]["arguments"]["content"] = "/* Implements: API-05-099 */\n" + c;
    }
  auto out = Develop(Make());
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("the code cites IDs no spec defines"), std::string::npos) << out.status().message();
  EXPECT_NE(out.status().message().find("API-05-099"), std::string::npos);
  json st = State();
  EXPECT_EQ(st["steps"]["development-1"]["status"], "failed");
  EXPECT_EQ(st["steps"]["development-1"].value("fresh", false), true);
}

TEST(Logic, MergeReplacesOnlyAllowedItemsAndToleratesUnchangedOnes) {
  spec::Config c;
  auto g = spec::Grammar::Make(c);
  std::string doc = "# R\n\n## REQ-01-001 A\n\nOne.\n\n## REQ-01-002 B\n\nTwo.\n";
  std::vector<std::string> replaced, added;
  auto same = spec::MergeItems(*g, doc, "## REQ-01-001 A\n\nOne.\n\n## REQ-01-002 B\n\nTwo, now.\n", {"REQ-01-002"}, {},
                               &replaced, &added);
  ASSERT_TRUE(same.ok()) << same.status().message();  // REQ-01-001 came back unchanged: no trespass
  EXPECT_EQ(*same, "# R\n\n## REQ-01-001 A\n\nOne.\n\n## REQ-01-002 B\n\nTwo, now.\n");
  EXPECT_EQ(replaced, std::vector<std::string>{"REQ-01-002"});
  auto trespass = spec::MergeItems(*g, doc, "## REQ-01-001 A\n\nChanged.\n", {"REQ-01-002"}, {});
  ASSERT_FALSE(trespass.ok());
  EXPECT_NE(trespass.status().message().find("REQ-01-001 is outside the change"), std::string::npos);
  auto add = spec::MergeItems(*g, doc, "## REQ-01-003 C\n\nThree.\n", {}, {}, nullptr, &added);
  ASSERT_TRUE(add.ok());
  EXPECT_TRUE(add->ends_with("Two.\n\n## REQ-01-003 C\n\nThree.\n")) << *add;
  auto elsewhere = spec::MergeItems(*g, doc, "## US-03-001 S\n\nx\n", {}, {"US-03-001"});
  EXPECT_NE(elsewhere.status().message().find("defined in another document"), std::string::npos);
}

TEST_F(ProcessTest, BadInputIsRefusedWithoutTouchingAnything) {
  Options o = Make();
  auto none = process::Modify(o, "anything");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("has no develop to modify"), std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(root_ + "/empty.md", "  \n").ok());
  auto empty = process::Develop(o, root_ + "/empty.md");
  EXPECT_NE(empty.status().message().find("is empty"), std::string::npos);
  auto missing = process::Develop(o, root_ + "/nope.md");
  EXPECT_FALSE(missing.ok());
  ASSERT_TRUE(Put(project_ + "/keep.txt", "mine").ok());
  auto occupied = Develop(o);
  ASSERT_FALSE(occupied.ok());
  EXPECT_NE(occupied.status().message().find("exists and is not empty"), std::string::npos);
  EXPECT_EQ(*ReadFile(project_ + "/keep.txt"), "mine");
  fs::remove_all(project_);
  fs::create_directories(project_ + "/.git");
  auto repo = Develop(o);
  ASSERT_FALSE(repo.ok());
  EXPECT_NE(repo.status().message().find("it has \".git\""), std::string::npos) << repo.status().message();
  fs::remove_all(project_);
  // A malformed answer from the model is the step's failure, with what was wrong.
  script_["nodes"]["assess"] = json::array({json{{"json", {{"technical", {{"score", 7}, {"reason", "x"}}}}}}});
  auto bad = Develop(Make());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("complexity"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace sw::process
