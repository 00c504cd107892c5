// Eval suites: a workflow run over a dataset of cases, each case's run checked by assertions
// (output equals/contains/regex, JSON Schema, a `when`-style expression, cost/latency/token
// limits, a model-graded rubric run as std/judge), summarised in a report that can be compared
// with an earlier one (a regression beyond the tolerance gates CI) and exported as JUnit XML.
//
// The eval is itself a run record (top-level, label "eval", options_json {"kind": "eval"});
// every case is an engine::Run of the workflow with parent_run_id = the eval's id and one
// BudgetAccount for the whole suite; a rubric's judge is an engine::Run of std/judge with
// parent_run_id = the case's run. The report is the eval run's artifact eval/report.json.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "base/status.h"
#include "engine/engine.h"
#include "workflow/workflow.h"

namespace sw::eval {

using json = nlohmann::json;

inline constexpr const char* kReportFormat = "specwright-eval-report/1";
inline constexpr const char* kReportArtifact = "eval/report.json";
inline constexpr size_t kMaxDatasetBytes = 64u << 20;
inline constexpr size_t kMaxCases = 100000;
inline constexpr size_t kMaxActualBytes = 2048;

struct Tolerance {
  double pass_rate = 0.0;  // allowed absolute drop of the pass rate (0..1)
  double cost = 0.25;      // allowed growth of the total cost (ratio: 0.25 = +25%)
  double latency = 0.5;    // allowed growth of the p50 case latency (ratio)
  int64_t cases = 0;       // how many cases may regress (passed -> failed/error, failed -> error)
};

/// ToleranceJson is {pass_rate, cost, latency, cases}, as reports and comparisons carry it.
json ToleranceJson(const Tolerance& t);

/// LatencyFloorMs: a p50 latency that grew by less than this is never a regression, whatever
/// the ratio (scheduling noise on runs of a few milliseconds).
inline constexpr double kLatencyFloorMs = 100;

enum class AssertKind { kEquals, kContains, kNotContains, kIContains, kRegex, kJsonSchema, kExpr, kCost, kLatency, kTokens, kRubric };

/// TypeName: "equals", "contains", ..., "cost_usd", "latency_ms", "tokens", "rubric".
std::string TypeName(AssertKind k);

struct Assertion {
  std::string id;           // "A1", ... in order, unless given
  std::string description;
  AssertKind kind = AssertKind::kContains;
  std::string node;         // "" = the whole case (limits), else a node of the workflow
  json value;               // equals/contains/regex: the string (a Mustache template over `case`); json_schema: the schema; expr: the source
  double max = 0;           // cost/latency/tokens
  double threshold = 0.5;   // rubric: the judge's score must be at least this (and pass true)
  std::string judge_model;  // rubric: "" = the suite's judge model
  std::string file;         // where it was written (for messages)
  int line = 0, col = 0;
};

struct Case {
  std::string id;
  json inputs = json::object();
  json vars = json::object();
  std::vector<Assertion> asserts;  // the case's own, after the suite's
  int line = 0;                    // in the dataset file (0: inline)
};

struct Suite {
  std::string file;           // absolute path of the suite file
  std::string hash;           // of its bytes and the dataset's
  std::string name;
  std::string workflow_file;  // absolute
  std::string dataset_file;   // absolute; "" when the cases are inline
  int concurrency = 4;
  workflow::Budget budget;
  bool has_tolerance = false;
  Tolerance tolerance;
  std::string judge_model = "scripted/judge";
  json schedule;              // the `schedule:` value as written (the scheduler reads it)
  std::vector<workflow::NotifyTarget> notify;  // `notify:` (workflow::ParseNotify): webhooks when the eval ends
  std::vector<Assertion> asserts;
  std::vector<Case> cases;
};

/// LoadSuite reads a suite file and its dataset. Every problem is an error naming
/// file:line:col (or the dataset's file:line); unknown keys come with a suggestion.
Result<Suite> LoadSuite(const std::string& path);

/// CheckSuite is LoadSuite, then the suite's workflow loaded and every assertion's node checked
/// against it (as RunSuite does before anything runs): what `specwright validate` says of a suite.
Result<Suite> CheckSuite(const std::string& path);

/// CheckAssertionNodes: every assertion's `node:` is a node of wf (else file:line:col and a
/// "did you mean").
Status CheckAssertionNodes(const Suite& suite, const workflow::Workflow& wf);

/// LooksLikeSuite tells an eval suite from a workflow by its shape (as the scheduler does): a
/// top-level map without `nodes:`, whose `workflow:` is a string, with `cases:` or `dataset:`.
/// LooksLikeSuiteFile reads the file (false when it cannot be read or parsed).
bool LooksLikeSuite(const YAML::Node& root);
bool LooksLikeSuiteFile(const std::string& path);

/// ParseDataset reads cases from text: format "yaml" (a list, or {cases: [...]}), "jsonl" or
/// "csv". origin names the file in errors. CSV: a header row; column `id` is the case id,
/// `vars.X` columns go to vars.X, every other column is an input; JSONL/YAML rows are objects
/// {id?, inputs?, vars?, assert?} — a row without `inputs` takes its other keys as the inputs.
Result<std::vector<Case>> ParseDataset(const std::string& text, const std::string& format, const std::string& origin);

/// ParseAssertion reads one assertion (a JSON object) as the suite file writes it; default_id
/// is used when it has no `id`.
Result<Assertion> ParseAssertion(const json& a, const std::string& default_id, const std::string& where);

/// CaseResult is what CheckCase needs of a finished case run.
struct CaseRun {
  std::string run_id;
  std::string run_status;  // succeeded | failed | cancelled | waiting | "" (never ran)
  std::string error;
  json inputs = json::object();
  json outputs = json::object();  // node id -> output value
  double cost_usd = 0;
  bool cost_unknown = false;
  int64_t tokens_in = 0, tokens_out = 0, calls = 0;
  double latency_ms = 0;
  /// Per node: cost, tokens, latency (ms from its first start to its last finish).
  struct NodeStats {
    double cost_usd = 0;
    int64_t tokens = 0;
    double latency_ms = 0;
    bool cost_unknown = false;  // a model call of this node had no price
  };
  std::map<std::string, NodeStats> nodes;
};

/// Judge runs a rubric: rubric, the node's output text, and the case (JSON) -> {pass, score,
/// reason, run, cost_usd, tokens_in, tokens_out, calls} or an error.
using JudgeFn = std::function<Result<json>(const Assertion& a, const std::string& model, const std::string& output,
                                           const json& case_json)>;

/// CheckAssertion evaluates one assertion on a case run; returns the report's assertion entry
/// {id, type, passed, message, actual, expected, score?, judge_run?} (passed: true|false, or
/// "error" as status when it could not be evaluated — see `status`).
json CheckAssertion(const Assertion& a, const Case& c, const CaseRun& run, const JudgeFn& judge,
                    const std::string& default_judge_model);

/// Cut is s, at most max bytes (UTF-8 safe), with "… [cut: N bytes more]" when cut.
std::string Cut(const std::string& s, size_t max = kMaxActualBytes);

/// CaseServices is what one case runs with (offline replay answers each case from its own
/// recordings); keep holds whatever the services point to.
struct CaseServices {
  engine::Services services;
  std::shared_ptr<void> keep;
};

struct EvalOptions {
  engine::Services services;  // must have a store
  std::string run_id;         // the eval run's id ("" = generate)
  int concurrency = 0;        // 0: the suite's
  std::vector<std::string> only_cases;  // --case (empty: all)
  bool use_cache = true;
  int64_t default_max_calls = 500;
  std::string workspace_root;  // where case runs make their workspaces ("" = a temp dir)
  json record_options = json::object();  // merged into the eval run's options_json (kind: eval added)
  std::shared_ptr<std::atomic<bool>> cancel;
  /// Optional: the services one case (and its judges) run with, by case id.
  std::function<Result<CaseServices>(const std::string& case_id)> case_services;
  /// Called (under a lock) when a case is done: its report entry, done count, total.
  std::function<void(const json& case_entry, int done, int total)> on_case;
  /// --baseline: the report compared with (null: none) under baseline_tolerance; only for the
  /// verdict in the webhook payload (the caller prints and gates on its own Compare).
  json baseline;
  Tolerance baseline_tolerance;
};

/// RunSuite runs every case and returns the report (also stored as the eval run's artifact).
/// A non-ok Result means the eval could not run at all. When the eval run's record is final,
/// services.observer (if any) hears OnRunEnded for it, as for a top-level run: the suite's
/// `notify:` targets (and the observer's own, specwright.yaml's) get succeeded, failed or
/// budget_stopped, with NotifyExtra in the payload; a cancelled eval tells nothing.
Result<json> RunSuite(const Suite& suite, const EvalOptions& options);

/// NotifyExtra is what an eval adds to its webhook payload: {eval: {suite, pass_rate, cases,
/// passed, failed, errored, verdict?}} — verdict ("ok" | "regression") only with a baseline.
json NotifyExtra(const json& report, const json& compare);

/// Summarise fills report["summary"] and report["assertions"] from report["cases"].
void Summarise(json* report);

/// Compare compares report a (the baseline) with b under tol; the compare JSON.
json Compare(const json& a, const json& b, const Tolerance& tol);

/// JUnitXml renders a report as JUnit XML (one testsuite, a testcase per case).
std::string JUnitXml(const json& report);

/// TextReport is the human-readable report; TextCompare the comparison.
std::string TextReport(const json& report, bool failures_only = false);
std::string TextCompare(const json& cmp);

/// CheckReport verifies that j looks like an eval report (format and shape); origin names it.
Status CheckReport(const json& j, const std::string& origin);

/// ToleranceOf reads a report's tolerance (defaults for missing fields).
Tolerance ToleranceOf(const json& report);
/// ParseTolerance applies "pass_rate=0.05,cost=0.1,cases=2" / repeated "k=v" to *t.
Status ParseTolerance(const std::string& spec, Tolerance* t);

/// History lists the eval runs in the store grouped by suite (newest first), with each run's
/// summary: {suites: [{name, file, runs: [{run, status, created_at, finished_at, cases, passed,
/// failed, errored, pass_rate, cost_usd, latency_p50_ms, latency_p95_ms, replay_of}]}]} (replay_of: the
/// eval an offline replay reproduced, else null). suite_filter: a
/// suite name or file ("" = all). Every top-level run record is scanned (records are small;
/// ordinary runs never hide evals), and at most `limit` eval runs, the newest, are listed: only
/// their reports are read.
Result<json> History(store::Store* st, const std::string& suite_filter, int limit = 1000);

/// LoadStoredReport reads the report of eval run id (its artifact).
Result<json> LoadStoredReport(store::Store* st, const std::string& run_id);

/// ReplayOf: the eval an offline replay's report (report["replay"] = {of, offline: true})
/// reproduced, "" for a live eval. Such a report's latencies are the recordings' (a few ms):
/// Compare does not judge latency against or of it, and the history marks it.
std::string ReplayOf(const json& report);

/// IsEvalRun says whether a run record is an eval (options_json kind: eval).
bool IsEvalRun(const store::RunRecord& r);

}  // namespace sw::eval
