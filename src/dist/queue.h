// Queue: the work queue in PostgreSQL (tables in store/pg_queue_schema.h). A task is one unit
// of remote work — one orchestration of a run, one model call, one tool call — that any worker
// may claim. A claim is a lease: the worker extends it by heartbeats; when it lapses (the
// worker died or lost the network) another worker claims the task again, and the first
// worker's Complete is refused, so a task's result is written once, by its current owner.
// Times are the database's clock (never the machines'), so skewed clocks do not break leases.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/pg.h"

namespace sw::dist {

/// Task is one row of `tasks`.
struct Task {
  int64_t id = 0;
  std::string run_id;
  std::string kind;  // orchestrate | llm | tool
  std::string node;
  std::string key;  // idempotency key of the call (adoption, remote.h)
  int attempt = 0;
  std::string labels;  // comma list a worker must have ("" = any)
  std::string status;  // ready | claimed | done | cancelled
  std::string payload = "{}";
  std::string result;
  std::string owner;
  double lease_until = 0;
  int claims = 0;
  bool cancel_requested = false;
  bool consumed = false;
  double reserved_usd = 0;
  double created_at = 0, claimed_at = 0, finished_at = 0;
};

/// NewTask is what Enqueue inserts.
struct NewTask {
  std::string run_id;
  std::string kind;
  std::string node;
  std::string key;
  int attempt = 0;
  std::string labels;
  std::string payload = "{}";
  double reserved_usd = 0;
};

/// ClaimFilter says what a worker may take now.
struct ClaimFilter {
  std::vector<std::string> labels;  // the worker's labels: a task needs all of its own among them
  bool orchestrate = true;          // orchestrations (a slot for a run) are free
  bool calls = true;                // model and tool calls (a slot for work) are free
};

/// Beat is what a heartbeat learned about the tasks the worker holds.
struct Beat {
  std::vector<int64_t> held;       // still ours, lease extended
  std::vector<int64_t> cancel;     // of those, cancel was asked
  double now = 0;                  // the database's clock
};

/// ValidLabel: a label is [a-z0-9_.-]{1,64}.
bool ValidLabel(const std::string& label);
/// ParseLabels splits "a,b" into labels, refusing any that is not ValidLabel (naming it).
Result<std::vector<std::string>> ParseLabels(const std::string& text);

class Queue {
 public:
  /// Open connects to the database at url (its password never appears in an error).
  static Result<std::unique_ptr<Queue>> Open(const std::string& url);
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  /// Enqueue inserts a ready task and NOTIFYs specwright_tasks in the same transaction. An
  /// orchestrate task of a run that already has one ready or claimed is not added: 0 then.
  Result<int64_t> Enqueue(const NewTask& t);
  /// Claim takes the oldest claimable task (ready, or claimed with a lapsed lease and another
  /// owner) that the filter allows, leased to worker for lease seconds (claims + 1). Claiming
  /// an orchestrate task also makes worker the run's owner (runs.owner, runs.lease_until).
  Result<std::optional<Task>> Claim(const std::string& worker, const ClaimFilter& filter, double lease);
  /// Heartbeat extends the lease of every task worker holds (and of the runs it
  /// orchestrates), and the worker's heartbeat_at. With `only`, just those of its tasks: a
  /// task the worker no longer works on (a Complete or Release that never reached the
  /// database, a Claim whose answer was lost) then lapses and moves on to another worker.
  Result<Beat> Heartbeat(const std::string& worker, double lease,
                         const std::optional<std::vector<int64_t>>& only = std::nullopt);
  /// Complete stores a task's result and marks it done if worker still holds it (NOTIFY
  /// specwright_done '<run_id>:<id>'); false when the lease was lost (nothing written). An
  /// orchestrate task's run loses its owner.
  Result<bool> Complete(int64_t id, const std::string& worker, const std::string& result);
  /// Release gives a task back unfinished (a worker shutting down): ready again, its claim
  /// not counted as a run; false when worker no longer held it.
  Result<bool> Release(int64_t id, const std::string& worker);
  /// RequestCancel asks for task id to stop: a ready task is cancelled at once (true), a
  /// claimed one gets cancel_requested (its worker stops the call at its next heartbeat).
  Result<bool> RequestCancel(int64_t id);
  /// CancelRun cancels every ready task of run and its sub-runs and asks claimed ones to stop;
  /// returns how many were cancelled at once.
  Result<int64_t> CancelRun(const std::string& run_id);
  /// RequeueDecided adds an orchestrate task for every detached run that waits on a gate
  /// someone has decided since (approve from the CLI, the web UI or the MCP server; a gate of
  /// a sub-run included) and that nobody orchestrates; returns the runs re-queued.
  Result<std::vector<std::string>> RequeueDecided();
  /// MarkConsumed notes that a done task's result was handed to the engine.
  Status MarkConsumed(int64_t id);

  Result<std::optional<Task>> Get(int64_t id);
  /// FindByKey returns the tasks of (run_id, kind, key), oldest first.
  Result<std::vector<Task>> FindByKey(const std::string& run_id, const std::string& kind, const std::string& key);
  /// Finished returns those of ids that are done or cancelled.
  Result<std::vector<Task>> Finished(const std::vector<int64_t>& ids);
  /// ListRun returns every task of run_id (sub-runs' with include_children), oldest first.
  Result<std::vector<Task>> ListRun(const std::string& run_id, bool include_children = false);

  /// UnrecordedSpend is what a new orchestrator of run_id (its sub-runs included) must count
  /// beyond the recorded model calls: the reservations (worst cases) of its model-call tasks
  /// still ready or claimed, and of those done whose request no recorded call of the run has
  /// (answered, never recorded: the previous orchestrator died first; a retry asks the same
  /// request again, so a recorded call of an earlier attempt does not count). Either may be paid.
  Result<double> UnrecordedSpend(const std::string& run_id);

  /// RegisterWorker adds (or refreshes) the worker's row; WorkerStopped stamps its end.
  Status RegisterWorker(const std::string& id, const std::string& labels, int concurrency);
  Status WorkerStopped(const std::string& id);
  /// Now is the database's clock (unix seconds).
  Result<double> Now();

  /// Exec runs a statement on the queue's connection (tests, reports).
  Result<store::pg::Rows> Exec(const std::string& sql, const std::vector<store::pg::Param>& params = {});

 private:
  explicit Queue(std::unique_ptr<store::pg::Conn> conn) : conn_(std::move(conn)) {}
  /// Run executes one statement, reconnecting once when the connection was lost before it
  /// ran (every queue statement is one transaction: a lost one left nothing behind — except a
  /// Complete whose COMMIT was sent: the caller sees the error and the lease decides).
  Result<store::pg::Rows> Run(const std::string& sql, const std::vector<store::pg::Param>& params);
  std::mutex mu_;
  std::unique_ptr<store::pg::Conn> conn_;
};

/// Notifier waits for NOTIFYs on a connection of its own (LISTEN channels), reconnecting
/// when it is lost; a missed notification is never fatal: callers poll as well.
class Notifier {
 public:
  static Result<std::unique_ptr<Notifier>> Open(const std::string& url, std::vector<std::string> channels);
  /// Wait returns the notifications received within timeout seconds (empty: none, or the
  /// connection is being re-established).
  std::vector<store::pg::Notification> Wait(double timeout);

 private:
  Notifier(std::string url, std::vector<std::string> channels) : url_(std::move(url)), channels_(std::move(channels)) {}
  Status Connect();
  std::string url_;
  std::vector<std::string> channels_;
  std::unique_ptr<store::pg::Conn> conn_;
};

/// NewWorkerId is "<host>:<pid>:<8 random hex digits>".
std::string NewWorkerId();

}  // namespace sw::dist
