// process: the built-in LLM developer. `specwright develop BRIEF` runs the shipped workflows of
// process/ (complexity, the spec phases, the task plan, development waves, test cases, review,
// QA) as engine runs in the project's folder, one phase after another, and keeps what it
// decided in .specwright/process.json so an interrupted develop continues where it stopped.
// `specwright modify "REQUEST"` routes a change and re-runs only the phases and items it
// touches. What is plain data (phases, prompts, guidelines) lives in process/; the decisions
// that are not (scores, paths to code, waves, consensus, routing, preferences) live here.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "engine/engine.h"
#include "store/store.h"
#include "workflow/workflow.h"

namespace sw::process {

using json = nlohmann::json;

// ---- roles -------------------------------------------------------------------------------

/// Roles maps the process's roles to models ("provider/name"). Workflows in process/ name
/// `role/architect` etc.; BindRoles puts the models in.
struct Roles {
  std::string architect, developer, verifier, qa;
  std::vector<std::string> reviewers;
};
/// DefaultRoles picks models from the providers that have keys (Anthropic, OpenAI, Gemini, in
/// that order): the strongest model of the first for the architect, a cheaper one for the
/// developer and QA, the verifier from the second provider when there is one, and one
/// reviewer per provider (up to three) so reviews come from different vendors. With none,
/// the scripted role names a recording answers.
Roles DefaultRoles(const std::vector<std::string>& providers);
/// BindRoles copies wf with every `role/NAME` model replaced by the role's model; a node
/// whose model is `role/reviewer` is cloned once per reviewer (review_1, review_2, ...).
Result<std::shared_ptr<const workflow::Workflow>> BindRoles(const workflow::Workflow& wf, const Roles& roles);

// ---- complexity --------------------------------------------------------------------------

/// Complexity is the assessment's score 0-10 from five dimensions and the tier it selects.
struct Complexity {
  int score = 0;
  std::string tier;  // minimal (0-3) | standard (4-7) | full (8-10)
  std::vector<std::pair<std::string, int>> dimensions;
  std::vector<std::string> reasons;
  std::string ToMarkdown() const;
};
/// ScoreComplexity checks each dimension against its range (technical 0-3, users 0-2,
/// integrations 0-2, compliance 0-2, scale 0-1) and sums them.
Result<Complexity> ScoreComplexity(const json& assessment);
std::string TierOf(int score);

// ---- tasks -------------------------------------------------------------------------------

struct Task {
  std::string id, title, description;
  std::vector<std::string> implements, files, components;
  bool parallel = false, interfaces_clear = true, performance_sensitive = false;
  std::string path;         // "direct" | "design"
  std::string path_reason;  // why, recorded in the plan and the PR
  json ToJson() const;
};
/// ParseTasks reads the plan's JSON; task ids must be unique, and files relative paths that
/// stay inside the project.
Result<std::vector<Task>> ParseTasks(const json& plan);
/// ChoosePath decides a task's path to code: straight to code when it touches one component
/// and its interfaces are clear and performance does not constrain it; else a design note.
void ChoosePath(Task* t);
/// PlanWaves groups tasks, in order, into waves that run in parallel: a parallel task joins
/// the current wave when it shares no file with the wave's tasks; any other task is a wave
/// of its own.
std::vector<std::vector<int>> PlanWaves(const std::vector<Task>& tasks);
std::string TasksMarkdown(const std::vector<Task>& tasks, const std::vector<std::vector<int>>& waves);

// ---- review ------------------------------------------------------------------------------

struct ReviewFinding {
  std::string id, severity, file, finding;
};
struct Review {
  std::string reviewer;  // node id (review_1) and model
  std::string model;
  bool approve = false;
  std::vector<ReviewFinding> findings;
};
enum class Consensus { kApproved, kAgreeOnChanges, kDisagree };
/// Judge: every reviewer approves with no major finding -> approved; every reviewer asks for
/// changes -> they agree (the union of their findings is applied); otherwise they disagree
/// and the architect decides.
Consensus Judge(const std::vector<Review>& reviews);
const char* ConsensusName(Consensus c);

// ---- QA ----------------------------------------------------------------------------------

struct TestReport {
  bool passed = false;
  int exit_code = -1;
  std::map<std::string, std::string> per_case;  // TC id -> passed | failed | not run
  int passed_cases = 0, failed_cases = 0, missing_cases = 0;
};
/// ParseTestRun reads builtin://shell.run's text (the command, "exit code N", the streams):
/// a test case passed when a line names it with PASS/ok and no line names it with FAIL.
TestReport ParseTestRun(const std::string& shell_output, const std::vector<std::string>& test_cases);

// ---- router ------------------------------------------------------------------------------

/// EntryPhase maps a classification to the phase a change enters at ("bug" -> development).
Result<std::string> EntryPhase(const std::string& category);

// ---- preferences -------------------------------------------------------------------------

/// Preferences is a Markdown file of decisions, one `## topic` section each holding the
/// current answer only: Set replaces the answer on the same topic.
class Preferences {
 public:
  static Preferences Parse(const std::string& text);
  std::optional<std::string> Get(const std::string& topic) const;
  void Set(const std::string& topic, const std::string& answer, const std::string& source);
  std::string ToMarkdown(const std::string& title) const;
  bool empty() const { return entries_.empty(); }
  std::vector<std::string> Topics() const {
    std::vector<std::string> t;
    for (const auto& e : entries_) t.push_back(e.topic);
    return t;
  }

 private:
  struct Entry {
    std::string topic, answer, source;
  };
  std::vector<Entry> entries_;
};
/// TopicKey normalises a topic for lookups ("Data storage" == "data-storage").
std::string TopicKey(const std::string& topic);

// ---- running the process -----------------------------------------------------------------

/// StepRun is one engine run the process asks for.
struct StepRun {
  std::string label;  // what the user sees: "requirements", "development wave 1"
  std::string session;  // the develop or modify this step belongs to (recorded on its run)
  std::shared_ptr<const workflow::Workflow> wf;
  json inputs;
  std::string run_id;     // the new run's id (chosen by the process, recorded before it starts)
  std::string resume_id;  // set instead: resume this run (it waits on a decision)
  std::string workspace;  // the project folder the run's tools act in
  /// The step's last run failed on what the models answered: run without the cache, so they
  /// answer afresh (a cancelled or crashed step keeps the cache: nothing is paid twice).
  bool no_cache = false;
};
/// RunFn runs (or resumes) one step and blocks until it ends; the CLI gives one with a
/// progress display, the terminal or the web UI as the human, and --yes.
using RunFn = std::function<Result<engine::RunSummary>(const StepRun&)>;

struct Options {
  store::Store* store = nullptr;
  RunFn run;
  std::string process_dir;  // the shipped process/ folder
  std::string project;      // the generated project (absolute)
  /// The workspace-wide preferences, kept across projects (the CLI: preferences.md in the
  /// store's folder, by default ./.specwright/preferences.md).
  std::string prefs_file;
  Roles roles;
  bool yes = false;         // approve gates and take suggested answers
  std::string until;        // stop after this phase ("" = run them all)
  bool abandon = false;     // modify: drop the unfinished change, back to where it started
  bool no_cache = false;    // --no-cache: every step's model calls are made afresh, none from the cache
  std::string qa_command = "make test";
  std::vector<std::string> qa_allow{"make"};
  std::function<void(const std::string&)> say;  // one line of progress for the user
};

/// Outcome of develop / modify: done, or stopped waiting for a person (exit code 3).
struct Outcome {
  bool waiting = false;
  bool stopped = false;  // --until reached
  std::string message;
};

/// LoadProcessConfig reads `roles:` and `process:` (qa_command, qa_allow) of the config file
/// into o (absent file or section: defaults; a role not given takes its default). Errors
/// name the file, line and column and the offending value.
Status LoadProcessConfig(const std::string& config_file, const std::vector<std::string>& providers, Options* o);
/// LoadProcessConfigs reads several such files in order, each over the one before (the
/// user-level specwright.yaml, then the project's); a role the later file names wins.
Status LoadProcessConfigs(const std::vector<std::string>& files, const std::vector<std::string>& providers, Options* o);

/// DevelopPhases are a develop's phases in the order they end, which is where `--until` stops:
/// complexity, requirements, domain, stories, architecture, api, tasks, tests, development,
/// review, QA. "tests" begins (its test cases) before tasks and ends (their code) after it.
const std::vector<std::string>& DevelopPhases();
/// UntilPhases are the phases `develop --until` can stop after: DevelopPhases up to
/// development (review and QA end the develop).
const std::vector<std::string>& UntilPhases();

/// Develop runs (or continues) the develop of the brief; o.until, when set, is one of UntilPhases.
Result<Outcome> Develop(const Options& o, const std::string& brief_path);
Result<Outcome> Modify(const Options& o, const std::string& request);
/// ReviewPhase revisits one phase's decisions with a person: their words (or, without any, a
/// question asked first; none keeps the phase as it is) go to the architect, the revision is
/// verified and gated as a dialogue until they approve, and what changed cascades below it
/// as a modify does. Phases: requirements, domain, stories, architecture, api, tests.
Result<Outcome> ReviewPhase(const Options& o, const std::string& phase, const std::string& words);

/// FindProcessDir: --process-dir, $SPECWRIGHT_PROCESS_DIR, beside the binary, the installed
/// share/specwright/process, or the source tree.
Result<std::string> FindProcessDir(const std::string& flag, const std::string& argv0);

}  // namespace sw::process
