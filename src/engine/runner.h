// Runner: the private state and dispatcher of one run (see engine.h for the public API).
// Only the dispatcher thread touches Runner state; other threads talk to it through Inbox.
#pragma once

#include <condition_variable>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <optional>
#include <vector>

#include "engine/budget.h"
#include "engine/engine.h"
#include "engine/thread_pool.h"
#include "llm/json_answer.h"
#include "llm/prices.h"
#include "tools/git_repo.h"
#include "tools/mcp_client.h"

namespace sw::engine {

constexpr double kNever = std::numeric_limits<double>::infinity();
/// How often streamed text of calls in flight is written to the store (seconds).
constexpr double kLiveInterval = 0.25;

enum class NodeStatus { kPending, kRunning, kWaiting, kSucceeded, kFailed, kSkipped };
const char* StatusName(NodeStatus s);

/// Outcome is what a unit of work (one attempt of a node or of one map item) produced.
struct Outcome {
  bool ok = false;
  bool retryable = false;
  double retry_after = -1;
  std::string error;
  std::string error_kind;  // llm_calls.status of a failed call: error | timeout | cancelled
  int http_status = 0;     // a failed model call's HTTP status (0: none)
  json value;             // output value (string for text output)
  bool cached = false;
  // LLM accounting (unset for tools and humans)
  bool is_llm = false;
  std::string provider, model;
  std::string answered_model;  // as the provider named it ("" : it did not say)
  std::string response_id;     // the provider's id of the completion ("" : it did not say)
  std::string finish_reason;   // llm/finish.h's canonical reason of an answered call
  std::string error_type;      // a failed call's class (llm::ErrorType; a finish problem's reason)
  int64_t max_tokens = 0;      // the request's settings (0 / unset: the provider's default)
  std::optional<double> temperature;
  llm::Usage usage;
  std::optional<double> cost;
  double latency_ms = 0, ttft_ms = 0, started_at = 0;
  std::string request_json, response_raw;
  std::string request_hash, reply_json;  // what offline replay matches and answers with
  bool cost_unknown = false;              // an agent's totals include an unpriced call
  bool usage_unknown = false;             // the provider reported no usage for this call
  std::string cache_key;
  std::vector<llm::ToolCall> tool_calls;  // an agent's model call asked for these
  // Non-empty: the answer was cut at max_tokens or paused (llm/finish.h's message); the
  // node's on_truncated decides what happens.
  std::string truncated;
  bool followup = false;  // a repair turn or a continuation: its answer alone is no cache entry
  // agent tool call: which call of the unit's current turn this result answers (-1: none)
  int agent_call = -1;
  // human
  bool waiting = false;
  std::string approval_by;
  // sub-run
  int64_t sub_tokens_in = 0, sub_tokens_out = 0, sub_calls = 0;
  double sub_cost = 0;
};

/// RunWorkspace is the run's working tree and its repository (workspace.cc).
struct RunWorkspace {
  std::string dir;
  std::unique_ptr<tools::GitRepo> repo;
  std::string process_ledger;  // the tools' running process groups (base/subprocess.h)
};

/// IsUnavailable says a failed model call means its model cannot serve now (fallback.cc).
bool IsUnavailable(const Outcome& o);

/// RepairMessage is the turn that shows a model why its answer cannot be used and asks for the
/// corrected JSON only (answer.cc; llm nodes and agents' final answers).
std::string RepairMessage(const std::string& error, const std::optional<json>& schema);

/// AgentTotals is what an agent run spent, in the shape RecordNodeRun reads (agent.cc).
Outcome AgentTotals(const struct AgentState& st);

/// Completion is a message from a worker back to the dispatcher.
struct Completion {
  int node = 0;
  int unit = 0;
  int iteration = 0;
  int item = -1;
  int attempt = 1;
  uint64_t token = 0;
  Reservation reservation;
  bool reserved = false;
  Outcome outcome;
};

/// Inbox is the only shared structure: workers push, the dispatcher pops.
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Completion> items;
  int outstanding = 0;  // launched work whose completion has not arrived yet
  void Push(Completion c) {
    {
      std::lock_guard<std::mutex> l(mu);
      items.push_back(std::move(c));
      --outstanding;
    }
    cv.notify_one();
  }
};

/// LiveBuffer collects what model calls in flight have streamed (written by the providers'
/// threads); the dispatcher copies what changed into the store at most every kLiveInterval.
struct LiveBuffer {
  struct Key {
    std::string node;
    int iteration, item, attempt;
    auto operator<=>(const Key&) const = default;
  };
  /// A live row shows the latest kMaxText bytes of a streamed answer (the stored call keeps
  /// all of it, within the response's cap): the UI follows the tail, the store stays small.
  static constexpr size_t kMaxText = 256 << 10;
  struct Entry {
    std::string text;
    size_t dropped = 0;  // bytes cut from the front
    bool dirty = false;
    bool stored = false;  // a live row was written: the call's end deletes it
    void Append(std::string_view d) {
      text.append(d);
      if (text.size() > 2 * kMaxText) {  // amortised: cut back to kMaxText at most once per kMaxText
        size_t cut = text.size() - kMaxText;
        text.erase(0, cut);
        dropped += cut;
      }
    }
    std::string Shown() const {
      return dropped == 0 ? text : "[… " + std::to_string(dropped) + " earlier bytes not shown …]\n" + text;
    }
  };
  std::mutex mu;
  std::map<Key, Entry> calls;
  bool dirty = false;
  double last_wake = 0;  // steady seconds of the last dispatcher wake-up a delta asked for
};

/// Unit is one attempt sequence: the whole node, or one item of a map node.
struct Unit {
  int attempt = 0;       // attempts started so far (continues across resumes)
  int attempt_base = 0;  // attempts made before this process; retries count from here
  bool running = false;
  bool done = false;
  bool queued = false;  // waiting in the launch queue
  double retry_at = -1;
  double deadline = kNever;
  double started = 0;
  uint64_t token = 0;
  llm::CancelFlag cancel;
  json value;
  std::shared_ptr<struct AgentState> agent;  // an agent unit's conversation (agent.h)
  /// The agent's model-facing tool names -> URIs; kept after the agent stops, so an answer
  /// that arrives late can still be cached as the turn it was.
  std::shared_ptr<const std::map<std::string, std::string>> tool_uris;
  /// An llm unit's conversation beyond its prompt: the model's earlier answer and what to do
  /// about it (a repair turn after an unusable answer, "continue" after a cut one). The next
  /// attempt sends the prompt plus these (answer.cc).
  std::vector<llm::Message> followup;
  std::string joined;     // the cut answers so far, which the next answer continues
  int continuations = 0;  // of the current answer (bounded by kMaxContinuations)
  /// Which model the unit calls: 0 the node's model, k its fallbacks[k - 1] (fallback.cc).
  int model_choice = 0;
  bool unavailable = false;  // the last failure said the model is unavailable
};

struct NodeState {
  NodeStatus status = NodeStatus::kPending;
  int iteration = 0;
  int loops = 0;  // for loop owners: how many times the loop went back
  int pending_deps = 0;
  bool propagated = false;  // reached a final state and told its dependents
  bool failed_by_dep = false;
  bool succeeded_before = false;  // a loop reset it after it had succeeded (progress counts it)
  bool finished_before = false;   // a loop reset it after it had reached any final state
  /// A human gate whose question waits in this process for a decision (`--wait`): its unit
  /// runs, but the run's progress and events say it waits for a person.
  bool awaiting_person = false;
  std::string error;
  json output;  // text: string; json: value; map: array
  std::string output_blob;
  bool is_map = false;
  std::vector<json> items;
  std::vector<Unit> units;
  int units_done = 0, units_running = 0;
  std::string provider;  // for per-provider concurrency ("" for non-LLM)
  int64_t tokens_in = 0, tokens_out = 0, calls = 0;
  double cost = 0;
  bool cost_unknown = false;
  bool cached = false;
  double started_at = 0, finished_at = 0;
  std::shared_ptr<BudgetAccount> budget;  // per-node limits (null when none)
  std::vector<int> dependents;
  std::vector<int> deps;
};

/// Prepared is a unit whose attempt is recorded and budget reserved, launched after Flush.
struct Prepared {
  int node = 0;
  int unit = 0;
  uint64_t token = 0;
  int attempt = 1;
  llm::Request request;
  std::string provider_name;
  Reservation reservation;
  bool reserved = false;
  std::string cache_key;
  json args;  // tool arguments / sub-workflow inputs
  std::optional<json> cached_turn;  // an agent turn answered from the cache: {text, tool_calls}
};

/// Restored is what a resumed run learned from the events about one node iteration.
struct Restored {
  std::map<int, int> attempts;  // item (-1 for the node) -> highest attempt started
  std::map<int, json> items;    // map items that had succeeded
};

/// Spend is what a run subtree has paid, from its recorded model calls.
struct Spend {
  double usd = 0;
  bool usd_unknown = false;
  int64_t tokens_in = 0, tokens_out = 0, calls = 0;
  void Add(const Spend& o) {
    usd += o.usd;
    usd_unknown |= o.usd_unknown;
    tokens_in += o.tokens_in;
    tokens_out += o.tokens_out;
    calls += o.calls;
  }
};

/// Jitter draws a delay uniformly from [0, cap] (full jitter).
double Jitter(double cap);

/// NeutralRequest is a model call as provider-neutral JSON (messages with tool calls, tools,
/// settings): what the store keeps when a provider has no wire format, and what agent turns
/// are cached by.
json NeutralRequest(const llm::Request& r);
/// TurnCalls is an agent turn's tool calls as the agent_turn event and the cache hold them:
/// id, model-facing name, arguments, the tool's URI (by uri_of) and provider data.
json TurnCalls(const std::vector<llm::ToolCall>& tool_calls, const std::map<std::string, std::string>& uri_of);

/// DescendantSpend sums the recorded calls of every sub-run below run_id (ids "run_id.*"),
/// keyed by the parent node that started the top-level child.
Result<std::map<std::string, Spend>> DescendantSpend(store::Store* st, const std::string& run_id);

class Runner {
 public:
  Runner(std::shared_ptr<const workflow::Workflow> wf, const Services& services, RunOptions options);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  Result<RunSummary> Start();
  Result<RunSummary> Resume(const std::string& run_id);

 private:
  friend class RunScope;
  friend Result<RunSummary> RunChild(Runner* parent, Prepared& p, const std::string& child_id,
                                     std::shared_ptr<std::atomic<bool>> cancel);
  // dispatcher (runner.cc)
  Result<RunSummary> Loop();
  void Drain(std::deque<Completion>& batch);
  void HandleCompletion(Completion c);
  void Decide(int n);
  void StartNode(int n);
  /// TryReuse finishes node n with the stored result of options_.reuse_from, if allowed.
  bool TryReuse(int n);
  Status LoadReuse();
  Status SeedFromReplayed(RunWorkspace* ws);
  /// UncommittedStart looks at the uncommitted changes of a `repo:` workspace's repository:
  /// none -> ""; left out -> a warning and ""; include_uncommitted -> the commit of HEAD plus
  /// them, where the run's branch starts. *record says what was found, for the event.
  static constexpr size_t kUncommittedShown = 10;
  Result<std::string> UncommittedStart(const workflow::WorkspaceDecl& decl, const tools::Identity& author, json* record);
  void UnitSucceeded(int n, int u, json value, bool cached);
  void UnitFailed(int n, int u, const std::string& error, bool retryable, double retry_after);
  void NodeSucceeded(int n);
  void NodeFailed(int n, const std::string& error);
  void NodeSkipped(int n, const std::string& reason, bool by_failure);
  void Finalize(int n);
  void ResetBody(int owner, int to);
  void StopRun(const std::string& status, const std::string& reason, bool cancel_inflight);
  void ReleaseUnit(int n, int u);
  void RecordSkip(int n, const std::string& reason);
  std::vector<int> LoopBody(int owner, int to) const;
  void CheckTimers();
  void LaunchReady();
  Status Flush();
  void PollStore();
  RunSummary Summarize();
  Progress Snapshot() const;

  // launching (launch.cc)
  bool HasCapacity(int n) const;
  /// Prepare renders, checks the cache, reserves budget and records the attempt; it returns
  /// false when the unit finished or failed on the spot (cache hit, budget refusal).
  bool Prepare(int n, int u, Prepared* p);
  bool Reserve(int n, int u, Prepared* p);
  /// ResolveProvider fills the request's model, provider and settings from the node and
  /// checks the provider exists (failing the node when not).
  bool ResolveProvider(int n, int item, Prepared* p);

  // fallback models (fallback.cc)
  /// ModelOf is the "provider/model" unit u of node n calls now.
  const std::string& ModelOf(int n, int u) const;
  /// NextModel moves unit u to its node's next fallback model (with retries of its own),
  /// saying so in a warning and an event; false when there is none left. TryFallback does
  /// that and starts the unit again at once.
  bool NextModel(int n, int u, const std::string& error);
  bool TryFallback(int n, int u, const std::string& error);
  /// MarkRunning gives the unit a new token and counts it as running.
  void MarkRunning(int n, int u, Prepared* p);
  /// CacheResult stores a model call's output under its cache key (when caching applies).
  void CacheResult(int n, const Outcome& o, const std::string& output);
  void Launch(Prepared& p);
  void LaunchLlm(Prepared& p);
  void LaunchTool(Prepared& p);
  void LaunchHuman(Prepared& p);
  void LaunchWorkflow(Prepared& p);
  void Post(Prepared& p, Outcome o);  // hand an outcome to the inbox from the dispatcher thread
  /// ParseOutput finds node n's JSON in a model's answer (fenced, in prose) and checks it
  /// against the node's schema (answer.cc).
  llm::JsonAnswer ParseOutput(int n, const std::string& text);

  // what an llm node makes of an answer (answer.cc)
  /// LlmAnswered takes a successful model call of an llm node: a cut answer follows
  /// on_truncated, a JSON answer is found or repaired, and the unit succeeds or goes on.
  void LlmAnswered(Completion& c);
  /// FollowUp starts the unit's next attempt at once with the model's answer and a message
  /// appended to its conversation (a repair turn, or "continue").
  void FollowUp(int n, int u, const std::string& answer, const std::string& message, const char* event,
                const json& data);

  // events and persistence (runner.cc)
  void Emit(const char* type, int n, int item, int attempt, const std::function<json()>& data);
  /// Warn keeps msg for the run's summary and records it as a `warning` event.
  void Warn(int n, int item, int attempt, const std::string& msg);
  void RecordNodeRun(int n, int item, int attempt, const char* status, const Outcome* o, const std::string& error);
  std::string PutBlob(const std::string& data);

  // resume (restore.cc)
  Status Restore(const std::vector<store::Event>& events);
  double WorstCaseOf(const store::LlmCallRecord& c, int n);

  // agents (agent.cc)
  bool PrepareAgent(int n, int u, Prepared* p, bool* fresh);
  void AgentModelDone(Completion& c);
  void AgentToolDone(Completion& c);
  void AgentNextTurn(int n, int u);
  void AgentFail(int n, int u, const std::string& error);

  // workspace and tools of the run (workspace.cc)
  Status SetUpRun(const std::vector<store::Event>* resumed_events);
  void Checkpoint(int n);
  void ShutDownRun();
  tools::CallContext ToolContext(int n, int u);

  std::string ItemLabel(int n, int item) const;

  std::shared_ptr<const workflow::Workflow> wf_;
  Services services_;
  RunOptions options_;
  std::string run_id_;
  store::RunRecord run_;
  std::vector<NodeState> nodes_;
  std::shared_ptr<Inbox> inbox_;
  std::shared_ptr<LiveBuffer> live_ = std::make_shared<LiveBuffer>();
  double last_live_write_ = 0;
  /// FlushLive moves changed live text into the batch (done: the calls that ended).
  void FlushLive(bool force);
  std::shared_ptr<BudgetAccount> budget_;
  std::deque<int> ready_;                       // nodes whose dependencies are all final
  std::deque<std::pair<int, int>> launchable_;  // (node, unit) waiting for capacity
  std::vector<Prepared> to_launch_;             // prepared this step, launched after Flush
  std::multimap<double, std::pair<int, int>> retry_timers_;
  std::set<std::pair<int, int>> running_set_;
  std::map<std::pair<int, int>, Restored> restored_;  // (node, iteration) -> restored state
  /// The agent turns this run finished before a crash, by "cache key:item" (restore.cc): a
  /// resume replays them free whether or not the cache is on, so it never pays twice.
  std::map<std::string, json> turn_journal_;
  std::set<std::string> fallback_warned_;  // "node\nfrom\nto" already warned about (fallback.cc)
  /// Replay: (node id, iteration) -> (blob, is_json) of the source run's node_succeeded.
  std::map<std::pair<std::string, int>, std::pair<std::string, bool>> reusable_;
  std::map<std::string, int> provider_running_;
  int running_units_ = 0;
  bool stopping_ = false;
  std::string stop_status_, stop_reason_;
  store::Batch batch_;
  double started_at_ = 0;     // monotonic; set before the first event (progress's elapsed)
  double last_poll_ = 0;
  double last_run_write_ = 0;
  uint64_t next_token_ = 1;
  bool replaying_ = false;
  std::vector<std::string> warnings_;
  // Prices by "provider/model": the table's lookup (a regex for dated snapshots) once per
  // model and run, not twice per call.
  std::unordered_map<std::string, std::optional<llm::Price>> prices_seen_;
  std::optional<llm::Price> PriceOf(const std::string& provider, const std::string& model);
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<RunWorkspace> workspace_;
  tools::Registry run_tools_;  // the services' tools plus this run's MCP tools
  std::vector<std::unique_ptr<tools::McpClient>> mcp_;
  std::vector<std::thread> threads_;  // human prompts and sub-runs
  int64_t tokens_in_ = 0, tokens_out_ = 0, calls_ = 0;
  double cost_ = 0;
  bool cost_unknown_ = false;
  Status fatal_;
};

}  // namespace sw::engine
