// observe: what happened in a run, read from the store — timelines, post-mortems, spend,
// lineage, run-to-run diffs and OpenTelemetry spans. Each report is a plain struct that the
// CLI renders as text and writes as JSON (`--json`), and the web UI's API serves as the same
// JSON. Reports over a 10,000-node run are built from typed rows and written with JsonWriter:
// assembling nlohmann::json documents of that size was ten times slower than the store reads.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/text_diff.h"
#include "store/store.h"

namespace sw::observe {

using json = nlohmann::json;

// ---- runs and show ----

/// RunsJson is the run list (`runs --json`, GET /runs): each run's summary fields.
std::string RunsJson(const std::vector<store::RunRecord>& runs);
std::string RunJson(const store::RunRecord& run);
/// FilterRuns keeps the runs with status (when set) whose id, workflow name or file contains
/// query (case-insensitive, when set): `runs --status --search` and the Runs page.
std::vector<store::RunRecord> FilterRuns(std::vector<store::RunRecord> runs, const std::string& status,
                                         const std::string& query);

// ---- sessions (src/observe/sessions.cc) ----

/// SessionsJson folds runs (newest first, as ListRuns gives them) into the sessions of
/// develop, modify, update and review, newest first, at most limit (0: all): `specwright
/// sessions --json` and GET /sessions.
json SessionsJson(store::Store* st, const std::vector<store::RunRecord>& runs, int limit);
/// SessionJson is one session: its SessionsJson fields, `run_list` (oldest first), and from
/// the project's .specwright/process.json its `step_list` (key, label, status, rounds, gate,
/// spend, runs, times), the change (route, impact plan, kept items) or the develop's tasks and
/// complexity, and `qa`; `note` says why the state file was not used. GET /sessions/{id}.
Result<json> SessionJson(store::Store* st, const std::vector<store::RunRecord>& runs, const std::string& id);
/// SessionProject is the project folder of a session (from its newest run's options).
Result<std::string> SessionProject(const std::vector<store::RunRecord>& runs, const std::string& id);

/// ShowLine is one node x iteration of a run, attempts and map items folded in.
struct ShowLine {
  std::string node;
  int iteration = 0;
  std::string status;
  int attempts = 0, items = 0;
  double start = 0, end = 0;
  int64_t tokens = 0, calls = 0;
  double cost = 0;
  bool cost_unknown = false, cached = false;
  std::string error;
  double last_ts = -1;
};
struct ShowReport {
  store::RunRecord run;
  std::vector<ShowLine> lines;  // in start order
  std::string inputs = "{}";    // the run's inputs as resolved at its start (JSON), from run_started
};
Result<ShowReport> Show(store::Store* st, const std::string& run_id);
std::string ToJson(const ShowReport& r);

// ---- the web UI's views ----

/// GraphJson is the run's recorded workflow shape with each node's latest state (the run
/// graph): {run, nodes: [{id, kind, needs, model, status, ...}]}; nodes that never started
/// are "pending".
Result<std::string> GraphJson(store::Store* st, const std::string& run_id);

/// NodeJson is everything about one node of a run (the node inspector): attempts, each model
/// call with its rendered prompt and response, tool calls with arguments and results, the
/// output, and the text of calls still streaming.
Result<std::string> NodeJson(store::Store* st, const std::string& run_id, const std::string& node);

/// PendingApprovalsJson lists the human gates waiting for a decision in the newest max_runs
/// runs (sub-runs included): run, node, message, since, whether a live process waits on it
/// (`alive`: it takes the decision itself) and the top-level run to resume otherwise.
Result<std::string> PendingApprovalsJson(store::Store* st, int max_runs = 1000);

/// WorkflowJson loads a workflow file (or text in its place) and reports {path, text, ok,
/// errors: [{line, column, message}], warnings, nodes: [{id, kind, needs, model, line}],
/// inputs: [{name, type, required, default?, description, line}]}, and, for the file on disk
/// (no text given), its version: a hash of its bytes that a save names as what it edited.
/// confine: referenced files must lie inside it (see workflow::Load). builtin_tools, when
/// given, are the tool URIs a run has: a builtin:// tool not among them is an error.
std::string WorkflowJson(const std::string& path, const std::string* text = nullptr, const std::string& confine = "",
                         const std::vector<std::string>& builtin_tools = {});

/// WorkflowsJson lists the workflow files below dir (depth 4; hidden folders, node_modules,
/// build* and dist skipped) and those recorded runs used: [{path, abs, name, runs, last_run, exists}].
Result<std::string> WorkflowsJson(store::Store* st, const std::string& dir);

// ---- trace ----

struct ToolCallRow {
  int turn = 0, item = -1, attempt = 0;
  std::string call_id, name, tool, arguments;  // arguments as JSON text
  double started_at = 0, finished_at = 0;      // finished_at 0: no result yet
  bool ok = false;
  int64_t bytes = 0;
  std::string preview, result_blob;
};

/// TraceReport: the run and one row per node x iteration x item x attempt, in start order;
/// with node set, that node's model calls and tool calls as well.
struct TraceReport {
  store::RunRecord run;
  double start = 0, end = 0;
  std::string node;
  std::vector<store::NodeRunRecord> rows;
  std::vector<store::LlmCallRecord> calls;
  std::vector<ToolCallRow> tool_calls;
  std::string output_blob;  // with node set: the output of its latest success
};
Result<TraceReport> Trace(store::Store* st, const std::string& run_id, const std::string& node = "");
std::string ToJson(const TraceReport& r);

// ---- debug ----

/// Debug: for each failed node (or just `node`): the error, every attempt with the provider's
/// own message, the retries, the rendered prompt, the inputs it received, its last output and
/// the dependents it took down; then every skipped node with why.
Result<json> Debug(store::Store* st, const std::string& run_id, const std::string& node = "");
/// DebugText renders Debug's report as `specwright debug` prints it (src/observe/text.cc).
std::string DebugText(const json& debug);

// ---- cost ----

/// Bucket is one line of spend; unknown counts calls whose price is unknown (their cost is
/// not in usd, and the bucket's cost is shown as unknown, never as zero).
struct Bucket {
  std::string key;
  int64_t calls = 0, input = 0, output = 0, cached_read = 0, cache_write = 0, reasoning = 0, unknown = 0;
  double usd = 0;
  void Add(const store::LlmCallRecord& c);
};

struct CostReport {
  store::RunRecord run;
  int64_t sub_runs = 0;
  Bucket total;
  std::vector<Bucket> by_node, by_model, by_provider;  // most expensive first
  std::optional<double> max_usd;
  std::optional<int64_t> max_tokens, max_calls;
};
Result<CostReport> RunCost(store::Store* st, const std::string& run_id);
std::string ToJson(const CostReport& r);

struct RunSpend {
  store::RunRecord run;
  Bucket spend;
};
struct CostSinceReport {
  double since = 0;
  std::vector<RunSpend> runs;  // top-level runs, oldest first; sub-run spend folded in
  Bucket total;
  std::vector<Bucket> by_model, by_provider, by_workflow, by_day;  // by_day in date order
  /// Spend of develop, modify, update and review sessions (runs without one are left out).
  std::vector<Bucket> by_session;
};
Result<CostSinceReport> CostSince(store::Store* st, double since);
std::string ToJson(const CostSinceReport& r);

// ---- artifacts and lineage ----

/// TreeLine is one line of a derivation tree in pre-order; depth 0 is a root. seen: shown
/// earlier in full; missing: named in derived_from but not stored; cycle: the path back.
struct TreeLine {
  int depth = 0;
  std::string name, produced_by, media_type, blob;
  double created_at = 0;
  bool seen = false, missing = false;
  std::string cycle;
};

struct ArtifactsReport {
  std::string run_id;
  std::vector<store::ArtifactRecord> artifacts;
  std::vector<TreeLine> tree;       // artifacts nothing derives from are roots, newest first
  std::vector<std::string> cycles;  // each reported once
};
Result<ArtifactsReport> Artifacts(store::Store* st, const std::string& run_id);
/// Lineage of one artifact (in run_id, or the newest run that has it when run_id is "").
Result<ArtifactsReport> Lineage(store::Store* st, const std::string& artifact, const std::string& run_id = "");
std::string ToJson(const ArtifactsReport& r);

// ---- diff ----

struct DiffSide {
  std::string status, model, output_blob;
  double duration_s = 0, cost_usd = 0;
  bool cost_known = true;
  int64_t tokens = 0, calls = 0;
  int attempts = 0;
};
struct DiffNode {
  std::string node;
  std::optional<DiffSide> a, b;
  std::vector<std::string> differs;  // only in A/B, status, model, output
  std::string diff;                  // unified diff of the outputs, when they differ
};
struct DiffReport {
  store::RunRecord a, b;
  std::vector<DiffNode> nodes;  // in A's start order, then B's own
  int differing = 0;
  int first_divergence = -1;  // index into nodes
  int diffs_omitted = 0;      // differing outputs past max_diffs, left without a text diff
};
/// Diff compares two runs; text diffs are made for the first max_diffs differing outputs
/// (<= 0: all), so two 10,000-node runs that differ everywhere still answer at once.
Result<DiffReport> Diff(store::Store* st, const std::string& run_a, const std::string& run_b, int max_diffs = 50);
std::string ToJson(const DiffReport& r);

/// UnifiedDiff of two texts (base/text_diff.h).
using sw::UnifiedDiff;

// ---- spans and export ----

/// Span is one timed operation of a run: the run, a node attempt, a model call or a tool call.
struct Span {
  std::string kind;  // run | node | llm | tool
  std::string span_id, parent_id;
  std::string name;
  std::string node;
  int iteration = 0, item = -1, attempt = 0;
  double start = 0, end = 0;  // unix seconds
  std::string status;         // ok | error | running | waiting | timeout | cancelled
  std::string error;
  /// A failure's class, low-cardinality (OpenTelemetry's error.type): "429", "timeout",
  /// "cancelled", "budget_exceeded", "tool_error", ... "_OTHER"; "" when it did not fail.
  std::string error_type;
  /// The failure is this span's own (an exception event goes on it), not one its model call
  /// below already carries.
  bool own_error = false;
  /// llm spans: the provider's completion id, the finish reason, the request's max_tokens
  /// (0: default) and temperature, the time to the first streamed chunk (ms, 0: unknown).
  std::string response_id, finish_reason;
  int64_t max_tokens = 0;
  std::optional<double> temperature;
  double ttft_ms = 0;
  /// node spans: the earlier attempts of the same node (iteration, item) that failed.
  struct Retry {
    int attempt = 0;
    std::string span_id, error_type, error;
  };
  std::vector<Retry> retried;
  std::string provider, model, node_kind;
  std::string response_model;  // llm spans: the model that answered, as the provider named it
  std::string tool, tool_call_id;
  int64_t tokens_in = 0, tokens_out = 0, cached_read = 0, cache_write = 0, reasoning = 0;
  bool cost_known = true;
  double cost_usd = 0;
  std::string request_blob, reply_blob, arguments, result_blob;
};

struct SpanSet {
  std::string trace_id;  // 32 hex digits, derived from the run id
  store::RunRecord run;
  std::vector<Span> spans;
  /// The OTLP resource's attributes besides the defaults (service.name "specwright",
  /// service.version, telemetry.sdk.*); a key given here replaces a default
  /// (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES: otlp_exporter.h's OtlpEnvironment).
  std::vector<std::pair<std::string, std::string>> resource;
};

/// CollectSpans reads a run's spans (the run's own span first).
Result<SpanSet> CollectSpans(store::Store* st, const std::string& run_id);

/// OtlpJson encodes spans as an OTLP/JSON ExportTraceServiceRequest with the GenAI semantic
/// conventions' attributes; message content only when include_content (read from the blobs).
/// With sink set, the output is streamed to it in chunks and the result is "".
using Sink = std::function<void(std::string_view)>;
std::string OtlpJson(store::Store* st, const SpanSet& set, bool include_content, const Sink& sink = nullptr);
/// SpansJson / SpansCsv are the same spans as plain JSON and as CSV (one span a row).
std::string SpansJson(const SpanSet& set, const Sink& sink = nullptr);
std::string SpansCsv(const SpanSet& set, const Sink& sink = nullptr);

// ---- Markdown (src/observe/markdown.cc) ----

/// RunMarkdown is a run as one Markdown document: its summary, each node's model calls (the
/// prompt's messages and the answer), tool calls with their results, outputs, the decisions at
/// its gates, its cost, then its sub-runs. `export --format markdown`, MCP's export_markdown.
Result<std::string> RunMarkdown(store::Store* st, const std::string& run_id);
/// SessionMarkdown is a develop/modify session (runs as ListRuns gives them): its summary, its
/// steps with their gate rounds, then each of its runs as RunMarkdown writes it.
Result<std::string> SessionMarkdown(store::Store* st, const std::vector<store::RunRecord>& runs, const std::string& id);

// ---- helpers ----

/// Definitions is the run's recorded workflow shape (node id -> {hash, kind, needs, model}),
/// or null for runs recorded before it existed; with only set, just those nodes (parsing
/// skips the rest instead of building a 10,000-entry document).
json Definitions(store::Store* st, const std::string& run_id, const std::vector<std::string>* only = nullptr);

/// BlobOf reads the "blob" field of an event's data without parsing the whole object (the
/// engine writes it; "" when absent or not a blob hash).
std::string BlobOf(const std::string& data);

/// ParseSince reads "7d", "12h", "30m", "45s", "2w" or a date "2026-11-01" into unix seconds.
Result<double> ParseSince(const std::string& text, double now);

}  // namespace sw::observe
