// engine::Run executes one workflow run: a single dispatcher thread owns all run state,
// starts ready nodes, and receives their completions from a queue. Every state change is an
// event committed to the store before it is acted on, so a crashed run resumes exactly.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/status.h"
#include "llm/prices.h"
#include "llm/provider.h"
#include "store/store.h"
#include "tools/tool.h"
#include "workflow/workflow.h"

namespace sw::engine {

using json = nlohmann::json;

struct RunSummary;
/// RunObserver hears when a top-level run (one without parent_run_id) ends or parks at a gate:
/// Run and Resume call OnRunEnded once, on the caller's thread, after the run's final record is
/// committed (src/notify delivers the workflow's and specwright.yaml's webhooks from it).
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void OnRunEnded(const workflow::Workflow& wf, const RunSummary& summary) = 0;
  /// OnRunWaiting: a top-level run's human gate started waiting on a person outside the
  /// process (RunOptions::human_outside: `run --wait`, develop; a decision comes from
  /// `specwright approve` or the UI) while the run goes on. Once per gate wait (a gate that
  /// starts while another of the run already waits says nothing), on the run's dispatcher
  /// thread: it must not block. Gates of sub-runs are not told.
  virtual void OnRunWaiting(const workflow::Workflow& wf, const std::string& run_id,
                            const std::vector<std::string>& nodes) {
    (void)wf, (void)run_id, (void)nodes;
  }
};

/// Services are what a run acts through; owned by the caller, shared by sub-runs.
struct Services {
  llm::Registry* providers = nullptr;
  llm::PriceTable* prices = nullptr;
  tools::Registry* tools = nullptr;
  store::Store* store = nullptr;  // null: in memory only (no resume, no cache)
  Clock* clock = SystemClock::Default();
  RunObserver* observer = nullptr;  // null: nobody is told when a run ends
};

struct HumanRequest {
  std::string run_id;
  std::string node;
  bool approve_mode = true;
  std::string message;
  int iteration = 0;  // which loop round and map item asks (a replay answers each as recorded)
  int item = -1;
};
struct HumanAnswer {
  bool approved = true;
  std::string text;
  std::string by = "terminal";
};
/// HumanFn asks a person; nullopt means nobody can answer now (the run waits for
/// `specwright approve`). It runs on its own thread and may block.
using HumanFn = std::function<std::optional<HumanAnswer>(const HumanRequest&)>;

/// LiveEvent is what a progress display sees, on the dispatcher thread.
struct LiveEvent {
  std::string type;  // node_started, node_succeeded, node_failed, node_skipped, attempt_failed, ...
  std::string node;
  int iteration = 0;
  int item = -1;
  int attempt = 0;
  std::string message;
};

/// Progress is a snapshot of the run's counters. `done` of `total` counts the nodes that reached
/// a final state (succeeded, failed, skipped) in this round of a loop or an earlier one, so it
/// never goes backwards while a loop runs its body again; the rounds show in `loops`.
struct Progress {
  std::string run_id;
  int total = 0, done = 0, running = 0, succeeded = 0, failed = 0, skipped = 0, waiting = 0;
  int64_t tokens = 0;
  int64_t calls = 0;
  double cost_usd = 0;
  double elapsed = 0;  // seconds since this process started (or resumed) the run
  /// A map node in flight: its items that succeeded and that run now, of all its items.
  struct Map {
    std::string node;
    int done = 0, running = 0, total = 0;
  };
  std::vector<Map> maps;
  /// A loop going round: its owner runs round `round` of at most `max`.
  struct Loop {
    std::string node;
    int round = 0, max = 0;
  };
  std::vector<Loop> loops;
};

class Listener {
 public:
  virtual ~Listener() = default;
  virtual void OnEvent(const LiveEvent& e, const Progress& p) = 0;
};

class BudgetAccount;

struct RunOptions {
  json inputs = json::object();  // already resolved against the declarations
  bool use_cache = true;
  /// Recorded on the run: the develop/modify session it belongs to and what it is for in it.
  std::string session, label;
  bool auto_approve = false;
  HumanFn human;
  /// human waits for a person outside this process (AwaitDecisions): a top-level run tells
  /// Services::observer (OnRunWaiting) when a gate starts waiting. False for a terminal prompt.
  bool human_outside = false;
  int64_t default_max_calls = 500;
  std::shared_ptr<std::atomic<bool>> cancel;  // set it (e.g. from SIGINT) to cancel the run
  Listener* listener = nullptr;
  std::string run_id;         // fixed id for a new run ("" = generate)
  std::string parent_run_id;  // set for sub-runs
  std::shared_ptr<BudgetAccount> parent_budget;
  json record_options = json::object();  // stored with the run (script path, flags)
  double store_poll_interval = 0.25;     // how often to look for `specwright cancel`
  double commit_interval = 0;            // >0: group commits (never delays a dependent)
  int blocking_threads = 4;              // pool for tools (an agent's parallel tool calls)
  /// Where run workspaces are made (`<store>/workspaces`; "" = a temp dir). Sub-runs get
  /// their parent's workspace in workspace_dir instead.
  std::string workspace_root;
  std::string workspace_dir;
  /// With workspace_dir: the author its commits name (the parent's `workspace: {author}`).
  std::string workspace_author_name, workspace_author_email;
  /// Replay: nodes named in `reuse` take their stored result from run `reuse_from` instead of
  /// running (up to the given iteration of a loop body; see engine/replay.h). A node the
  /// stored run never finished runs.
  std::string reuse_from;
  std::map<std::string, int> reuse;
  /// Resume: spend this run must count that its store's model calls do not show — calls a
  /// previous orchestrator of a distributed run had in flight, or had answered but not yet
  /// recorded, when it died (their worst cases). Charged to the run's budget, never recorded
  /// as a call; a warning says so.
  double unrecorded_usd = 0;
};

struct RunSummary {
  std::string run_id;
  std::string status;  // succeeded | failed | cancelled | waiting
  std::string error;
  int64_t tokens_in = 0, tokens_out = 0, calls = 0;
  double cost_usd = 0;
  bool cost_unknown = false;
  /// The run failed and its own budget account refused a call for good under policy stop
  /// (its sub-runs' calls are charged through that account too).
  bool budget_stopped = false;
  int succeeded = 0, failed = 0, skipped = 0;
  std::vector<std::string> waiting;   // human nodes waiting for `specwright approve`
  std::vector<std::string> warnings;
  json outputs = json::object();      // node id -> output value of every succeeded node
  std::string last_output;            // text output of the last succeeded sink node
  /// Top-level keys the webhook payload adds (src/notify; never ones it has): an eval run's
  /// `eval` (eval::NotifyExtra). The engine leaves it empty.
  json notify_extra = json::object();
};

/// Run starts a new run of wf and blocks until it ends (succeeded, failed, cancelled, or
/// waiting on a human gate). A non-ok Result means the run could not be run at all.
Result<RunSummary> Run(std::shared_ptr<const workflow::Workflow> wf, const Services& services, RunOptions options);

/// Resume continues a stored run: nodes that completed are restored from the store, never
/// re-run; attempts in flight at the crash run again. wf must be the run's workflow (the
/// caller checks its hash).
Result<RunSummary> Resume(const std::string& run_id, std::shared_ptr<const workflow::Workflow> wf,
                          const Services& services, RunOptions options);

/// BackoffCap is the upper bound of the full-jitter delay before attempt `next_attempt` (2..).
double BackoffCap(const workflow::RetryPolicy& p, int next_attempt);

}  // namespace sw::engine
