// Workflow: the validated, immutable form of a YAML workflow file. The loader (loader.cc)
// turns YAML into this and reports every problem with file:line:col.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "workflow/expr.h"
#include "workflow/schedule.h"
#include "workflow/template.h"
#include "workflow/notify_spec.h"

namespace sw::workflow {

using json = nlohmann::json;

/// Pos is a 1-based line and column in a source file; 0 means unknown.
struct Pos {
  int line = 0;
  int col = 0;
};

/// Diagnostic is one problem found while loading; ToString gives "file:line:col: message".
struct Diagnostic {
  std::string file;
  Pos pos;
  std::string message;
  std::string ToString() const;
};

enum class NodeKind { kLlm, kTool, kHuman, kWorkflow, kAgent };
/// text: the answer as it is; json: its JSON value (FindJson); document: the Markdown
/// document in it, out of a fence or past a preamble (FindDocument).
enum class OutputKind { kText, kJson, kDocument };
/// What an answer cut at max_tokens (or paused by the provider) does to its node.
enum class TruncatedPolicy { kFail, kAccept, kContinue };
enum class BudgetPolicy { kStop, kWarn };
enum class HumanMode { kApprove, kInput };

const char* NodeKindName(NodeKind k);
/// NodeKeys lists the keys a node of kind k may have (every kind's and its own); TopKeys the
/// workflow's top-level keys. docs/workflow.schema.json, which the web editor completes and
/// explains from, is tested against them.
std::vector<std::string> NodeKeys(NodeKind k);
const std::vector<std::string>& TopKeys();

/// Attempts a model (llm, agent) node makes when neither it nor `defaults` sets retry.
constexpr int kDefaultModelAttempts = 3;

/// RetryPolicy: `attempts` total tries (1 = no retry); delay before try n+1 is drawn uniformly
/// from [0, min(max_delay, backoff * 2^(n-1))] seconds (exponential backoff, full jitter).
struct RetryPolicy {
  int attempts = 1;
  double backoff = 1.0;
  double max_delay = 60.0;
};

/// Budget limits spend; unset fields are unlimited (except max_calls, defaulted by the engine).
struct Budget {
  std::optional<double> max_usd;
  std::optional<int64_t> max_tokens;
  std::optional<int64_t> max_calls;
  BudgetPolicy policy = BudgetPolicy::kStop;
};

/// ModelSettings: `model` is "provider/name" (e.g. "scripted/demo", "openai/gpt-4o").
struct ModelSettings {
  std::string model;
  /// Tried in order when the model is unavailable (connection failures, 5xx and 429 after
  /// their retries, timeouts, model not found, auth errors); "provider/model" each.
  std::vector<std::string> fallbacks;
  std::optional<double> temperature;
  std::optional<int64_t> max_tokens;
  std::vector<std::string> stop;
};

/// Text is a template with where it came from (inline in the workflow or `file:`).
struct Text {
  tmpl::TemplatePtr tmpl;
  std::string file;  // file the template text lives in (the workflow, or the prompt file)
  Pos pos;
};

/// Condition is a parsed expression with its position.
struct Condition {
  expr::ExprPtr expr;
  Pos pos;
};

/// Loop is a bounded back edge on the node that owns it: after the owner finishes, while
/// `cond` holds and fewer than max_iterations iterations ran, the chain from `to` to the
/// owner (the body: nodes that are descendants of `to` and ancestors of the owner,
/// inclusive) runs again.
struct Loop {
  std::string to;
  Condition cond;
  int max_iterations = 3;
  bool fail_on_exhausted = false;  // `on_exhausted: fail` (default `continue`, with a warning)
  Pos pos;
};

/// Map fans a node out over a list; the node's output is the list of per-item outputs.
struct Map {
  Condition over;
  std::string as = "item";
  int max_parallel = 0;  // 0: bounded only by the concurrency limits
  Pos pos;
};

struct Node {
  std::string id;
  Pos pos;
  NodeKind kind = NodeKind::kLlm;
  std::string description;
  std::vector<std::string> needs;
  std::optional<Condition> when;
  RetryPolicy retry;
  double timeout = 0;  // seconds; 0 = none
  Budget budget;       // per-node limits (max_usd / max_tokens / max_calls)
  ModelSettings model; // merged with workflow defaults by the loader
  OutputKind output = OutputKind::kText;
  TruncatedPolicy on_truncated = TruncatedPolicy::kFail;  // llm and agent nodes
  std::optional<json> schema;  // for output: json
  bool cache = true;           // llm default true; tool/human/workflow default false
  std::string artifact;        // name the output is stored under ("" = node id)

  // llm (and later agent)
  std::optional<Text> system;
  std::optional<Text> prompt;

  // agent: a model in a loop with tools
  std::vector<std::string> tools;  // tool URIs; "mcp://SERVER/*" means every tool of SERVER
  std::vector<Pos> tools_pos;      // where each of tools is written
  int max_turns = 20;              // model calls of one agent run
  int loop_guard = 3;              // the same call with the same arguments this many times stops it

  // tool
  std::string tool;  // e.g. "builtin://echo"
  Pos tool_pos;
  json args = json::object();  // string leaves are templates, pre-parsed in arg_templates
  std::map<std::string, tmpl::TemplatePtr> arg_templates;  // JSON pointer -> template

  // human
  HumanMode human_mode = HumanMode::kApprove;
  std::optional<Text> message;

  // workflow (sub-run)
  std::string workflow_file;  // absolute path
  std::shared_ptr<const struct Workflow> sub;
  std::map<std::string, Text> with;  // inputs for the sub-workflow

  std::optional<Loop> loop;
  std::optional<Map> map;

  /// definition_hash covers everything above that changes what the node does (canonical JSON
  /// of its YAML plus the text of any prompt files); part of the cache key.
  std::string definition_hash;
};

/// McpServerDecl is one `mcp_servers:` entry: a command started for the run (stdio) or the
/// URL of a Streamable HTTP endpoint. `${VAR}` in env and header values is expanded at run
/// start from the environment.
struct McpServerDecl {
  std::string name;
  std::string command;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::string url;
  std::map<std::string, std::string> headers;
  double timeout = 60;  // seconds per request
  Pos pos;
};

/// Workspace is where the run's tools act (`workspace:`): a fresh empty repository, a copy of
/// a folder, or a new branch of an existing repository in a work tree of its own.
enum class WorkspaceKind { kNone, kEmpty, kCopy, kRepo };
struct WorkspaceDecl {
  WorkspaceKind kind = WorkspaceKind::kNone;
  std::string path;  // absolute: the folder to copy or the repository
  /// repo: start from HEAD plus the user's uncommitted changes (`include_uncommitted: true`).
  bool include_uncommitted = false;
  /// `author: "Name <email>"`: the author of the run's commits ("": the configured identity).
  std::string author_name, author_email;
  Pos pos;
};

/// ShellDecl is what builtin://shell.run may run (`shell:`).
struct ShellDecl {
  std::vector<std::string> allow;
  double timeout = 120;
  int64_t max_output = 64 << 10;
};

struct InputDecl {
  std::string name;
  std::string type = "string";  // string | number | integer | boolean | list | object
  std::optional<json> default_value;
  bool required = false;  // true when no default is given, unless `required: false`
  std::string description;
  Pos pos;
};

struct Concurrency {
  int global = 8;
  std::map<std::string, int> per_provider;  // provider name -> cap
};

struct Workflow {
  std::string file;  // absolute path of the YAML file
  std::string dir;   // its directory (relative `file:` references resolve here)
  std::string name;
  std::string description;
  std::vector<InputDecl> inputs;
  ModelSettings default_model;
  RetryPolicy default_retry;
  double default_timeout = 0;
  Budget budget;
  Concurrency concurrency;
  WorkspaceDecl workspace;
  ShellDecl shell;
  std::vector<McpServerDecl> mcp_servers;
  std::vector<NotifyTarget> notify;   // webhooks when the run ends or waits (src/notify)
  std::vector<Node> nodes;             // in a topological order (loop back edges ignored)
  std::map<std::string, int> index;    // node id -> position in nodes
  std::string source_hash;             // hash of the file bytes and every prompt file
  /// `schedule:` (workflow/schedule.h): when the scheduler starts this workflow by itself.
  std::vector<Schedule> schedules;

  const Node* Find(const std::string& id) const {
    auto it = index.find(id);
    return it == index.end() ? nullptr : &nodes[static_cast<size_t>(it->second)];
  }
};

/// LoadResult carries the workflow when there were no errors, and all diagnostics either way.
struct LoadResult {
  std::shared_ptr<const Workflow> workflow;  // null when errors is non-empty
  std::shared_ptr<const Workflow> partial;   // what could be read despite errors (may be null)
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
};

/// Load parses and validates a workflow file, collecting every problem (does not stop at the
/// first). Sub-workflows (`kind: workflow`) are loaded recursively; a file that includes
/// itself, directly or not, is an error naming the chain.
LoadResult Load(const std::string& path);
/// Load with text (when not null) read in place of the top file's bytes: an editor's unsaved
/// text, checked with the same rules and relative references as the file itself. With
/// confine set, a referenced file (sub-workflow, prompt file) outside that folder is an error
/// and is never read.
LoadResult Load(const std::string& path, const std::string* text, const std::string& confine = "");

/// CheckTools reports each tool URI that wf (or a sub-workflow) names and a run would not
/// have: known is the URIs of the run's tool registry; mcp:// tools come from the servers the
/// workflow declares (the loader checks those). An unknown name gets a did-you-mean, an
/// unknown scheme the list of those that exist. Which tools exist is the runtime's to say,
/// so the loader leaves this to its callers (validate, run, the editor).
std::vector<Diagnostic> CheckTools(const Workflow& wf, const std::vector<std::string>& known);

/// LoadOrError is Load folded into a Result: the status message lists every diagnostic.
Result<std::shared_ptr<const Workflow>> LoadOrError(const std::string& path);

/// CheckPrompt checks a template meant to replace node_id's prompt (`replay --prompt`) by the
/// loader's own rules: syntax, declared inputs, upstream nodes, node fields. Every problem is
/// a diagnostic in `file` with its line and column; empty when the template is fine.
std::vector<Diagnostic> CheckPrompt(const Workflow& wf, const std::string& node_id, const std::string& file,
                                    const std::string& text);

/// ResolveInputs checks user-given inputs (strings from --input k=v, or JSON values) against
/// the declarations: unknown names (with "did you mean"), missing required inputs, type
/// mismatches; fills defaults. Strings are converted to the declared type ("3" -> 3).
Result<json> ResolveInputs(const Workflow& wf, const std::map<std::string, json>& given);

/// WithModel returns a copy of wf (and of its sub-workflows) whose llm and agent nodes all use
/// model: `run --model`, a replay of such a run, and an eval's judge model.
std::shared_ptr<const Workflow> WithModel(const std::shared_ptr<const Workflow>& wf, const std::string& model);

}  // namespace sw::workflow
