// Store: the durable record of every run. The engine appends events and rows in batches;
// each Commit is one transaction, so a crash leaves either all of a batch or none of it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sw::store {

/// RunRecord is one row of `runs`. JSON-valued fields are stored as text.
struct RunRecord {
  std::string id;
  std::string parent_id;      // set for sub-runs (kind: workflow)
  std::string workflow_file;  // absolute path
  std::string workflow_name;
  std::string workflow_hash;
  std::string status = "running";  // running|succeeded|failed|cancelled|waiting
  double created_at = 0;           // unix seconds
  double finished_at = 0;          // 0 while unfinished
  std::string inputs_json = "{}";
  std::string options_json = "{}";  // run options (no_cache, auto_approve, script, ...)
  std::string error;
  int64_t pid = 0;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  int64_t calls = 0;
  double cost_usd = 0;
  int64_t nodes_total = 0;
  int64_t nodes_succeeded = 0;
  int64_t nodes_failed = 0;
  int64_t nodes_skipped = 0;
  bool cancel_requested = false;
  bool cost_unknown = false;  // some model call had no price: cost_usd is a lower bound
  /// The develop or modify session the run belongs to ("" : none; sub-runs share their
  /// parent's), and what it was for in it ("requirements", "development wave 1 (TASK-01,
  /// TASK-02)", ...): `runs` and `sessions` show them.
  std::string session;
  std::string label;
  /// Who orchestrates the run now when a worker does ("host:pid:worker-id"; "" for a local
  /// run), and until when its lease holds (unix seconds; 0: no lease). Written only by the
  /// work queue (src/dist); Commit's run upsert never changes them.
  std::string owner;
  double lease_until = 0;
};

/// Event is one entry of the append-only trace. seq is assigned by Commit (monotonic per store).
struct Event {
  int64_t seq = 0;
  std::string run_id;
  double ts = 0;
  std::string type;  // run_started, node_started, node_succeeded, ... (see engine/events.h)
  std::string node;
  int iteration = 0;
  int item = -1;     // map item index, -1 when not a map item
  int attempt = 0;
  std::string data = "{}";  // JSON object
};

/// NodeRunRecord is one row per node x iteration x item x attempt (upserted by that key).
struct NodeRunRecord {
  std::string run_id;
  std::string node;
  int iteration = 0;
  int item = -1;
  int attempt = 1;
  std::string status;  // running|succeeded|failed|skipped|waiting|cancelled|interrupted
  double started_at = 0;
  double finished_at = 0;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  double cost_usd = 0;
  int64_t calls = 0;
  std::string model;
  std::string error;
  std::string output_blob;  // blob hash of the output, "" if none
  bool cached = false;
  bool cost_unknown = false;  // a model call of this attempt has no price: cost_usd is a lower bound
};

/// LlmCallRecord is one model request/response pair. cost_usd is unset when the price is
/// unknown (never recorded as 0).
struct LlmCallRecord {
  int64_t id = 0;  // assigned by Commit
  std::string run_id;
  std::string node;
  int iteration = 0;
  int item = -1;
  int attempt = 1;
  std::string provider;
  std::string model;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  int64_t tokens_cached_read = 0;
  int64_t tokens_cache_write = 0;
  int64_t tokens_reasoning = 0;
  std::optional<double> cost_usd;
  double started_at = 0;
  double latency_ms = 0;
  double ttft_ms = 0;
  std::string status;  // ok | error | timeout | cancelled
  std::string error;
  std::string request_blob;
  std::string response_blob;
  /// request_hash is llm::RequestFingerprint of the provider-neutral request (what offline
  /// replay matches on); reply_blob the provider-neutral answer {text, tool_calls, usage,
  /// finish_reason}. Both "" for calls recorded before schema version 2.
  std::string request_hash;
  std::string reply_blob;
  /// The model that answered as the provider named it ("" when it did not say); `model` is the
  /// one requested.
  std::string response_model;
  /// The provider's id of the completion, the canonical finish reason (llm/finish.h) of an
  /// answered call, and a failed call's class (llm::ErrorType: "429", "timeout", ...); ""
  /// when unknown. Kept together in the llm_calls.detail JSON column (schema version 5).
  std::string response_id;
  std::string finish_reason;
  std::string error_type;
  /// The request's settings: max_tokens (0: the provider's default) and temperature (unset: the
  /// provider's default). Also in detail.
  int64_t max_tokens = 0;
  std::optional<double> temperature;
};

struct ArtifactRecord {
  std::string run_id;
  std::string name;  // validated by ValidateArtifactName before it is stored
  std::string media_type = "text/plain";
  std::string blob;
  std::string produced_by;          // node id
  std::string derived_from = "[]";  // JSON list of artifact names
  double created_at = 0;
};

struct ApprovalRecord {
  std::string run_id;
  std::string node;
  int iteration = 0;
  int item = -1;
  std::string decision;  // pending|approved|rejected|input
  std::string text;
  std::string by;        // "terminal", "auto", "cli"
  double ts = 0;
};

/// LiveText is the text a model call still in flight has streamed so far (what the web UI
/// shows while a node runs). Transient: the engine deletes it when the call ends.
struct LiveText {
  std::string run_id;
  std::string node;  // with done and node "": every live row of the run goes
  int iteration = 0;
  int item = -1;
  int attempt = 1;
  std::string text;
  double updated_at = 0;
  bool done = false;  // delete the row instead of writing it
};

struct CacheEntry {
  std::string key;
  std::string output_blob;
  std::string node;
  std::string model;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  double cost_usd = 0;  // what the original call cost (a hit costs nothing)
  double created_at = 0;
};

/// Fence makes a Commit conditional: it writes only while runs.owner of run_id is owner (a
/// worker whose lease on the run lapsed, and was taken over, writes nothing more).
struct Fence {
  std::string run_id;
  std::string owner;
};

/// FireRecord is one row of schedule_fires: a window of a schedule (workflow/schedule.h) that
/// came due, keyed by (schedule, fire_at). The row's insert is the fire: whoever inserts it
/// (ClaimFire) owns the window, so a restarted or second scheduler never fires it again.
struct FireRecord {
  std::string schedule;  // workflow::ScheduleKey: "/abs/file.yaml#name" (or "#INDEX")
  double fire_at = 0;    // the window, unix seconds (a whole minute)
  std::string run_id;    // derived from schedule and fire_at (one id per window)
  /// claimed: owned, not started yet; started: its process began (StartFire); skipped: a
  /// missed window not run (catch_up: skip); failed: could not be started (error says why).
  std::string status = "claimed";
  std::string error;
  std::string note;        // e.g. "catch-up for 3 missed windows since ..."
  double claimed_at = 0;   // wall clock, unix seconds
  std::string claimed_by;  // "host:pid" of the scheduler that claimed it
  double started_at = 0;
  int64_t pid = 0;         // the process that started it
};

/// Batch is what one Commit persists atomically.
struct Batch {
  /// Checked first, in the same transaction: a mismatch fails the whole batch with
  /// kFailed "lease lost: run R is now orchestrated by <owner>" and writes nothing.
  std::optional<Fence> fence;
  std::optional<RunRecord> run;  // upsert by id
  std::vector<Event> events;
  std::vector<NodeRunRecord> node_runs;  // upsert by (run_id, node, iteration, item, attempt)
  std::vector<LlmCallRecord> llm_calls;
  std::vector<ArtifactRecord> artifacts;  // upsert by (run_id, name)
  std::vector<ApprovalRecord> approvals;  // insert, or update a row still pending, by (run_id, node, iteration, item)
  std::vector<CacheEntry> cache;          // upsert by key
  std::vector<LiveText> live;             // upsert (or delete, when done) by (run_id, node, iteration, item, attempt)
  std::vector<std::pair<std::string, std::string>> blobs;  // (hash, data); hash = Hash128Hex(data)

  bool empty() const {
    return !run && events.empty() && node_runs.empty() && llm_calls.empty() && artifacts.empty() &&
           approvals.empty() && cache.empty() && live.empty() && blobs.empty();
  }
  void clear() { *this = Batch(); }
};

/// GcOptions: what `specwright gc` removes.
struct GcOptions {
  double before = 0;        // delete top-level runs created before this (unix seconds), with their sub-runs
  bool dry_run = false;     // count only
  /// Blob files younger than this are kept even when unreferenced: another process may have
  /// written them for a transaction it has not committed yet.
  double blob_grace_seconds = 3600;
  double now = 0;           // unix seconds; 0 = the system clock
};

struct GcReport {
  std::vector<std::string> runs_deleted;  // top-level and sub-runs
  std::vector<std::string> runs_kept_running;  // old but still marked running or queued
  int64_t rows_deleted = 0;    // events, node_runs, llm_calls, artifacts, approvals, cache (and tasks, workers)
  int64_t blobs_deleted = 0;
  int64_t blob_bytes_freed = 0;       // inline and file blobs
  int64_t blob_file_bytes_freed = 0;  // of which files (inline ones free database pages)
  int64_t db_bytes_before = 0;
  int64_t db_bytes_after = 0;
  bool vacuumed = false;  // skipped while some run is marked running
};

struct StoreOptions {
  /// true: PRAGMA synchronous=FULL (survives power loss); false: NORMAL, which in WAL mode
  /// survives any process crash including kill -9, and is much faster.
  bool fsync_every_commit = false;
  /// Blobs up to this size live in the database; larger ones are files under blobs/.
  size_t inline_blob_max = 4096;
  /// true: make the directory, blobs/ and the database as needed. false: the store must
  /// exist (a NotFound naming the database otherwise) and opening it creates nothing; blobs/
  /// is made when the first large blob is written.
  bool create = true;
  /// PostgreSQL: connections the store may hold at once (readers run in parallel; one is
  /// opened at start, the rest as needed), and how long a connection attempt may take.
  int max_connections = 4;
  double connect_timeout = 10;
};

class Store {
 public:
  virtual ~Store() = default;

  /// Commit writes the whole batch in one transaction. Large blobs are written as files (atomic
  /// rename) before the transaction commits. Assigns Event::seq and LlmCallRecord::id in place.
  virtual Status Commit(Batch& batch) = 0;

  virtual Result<std::optional<RunRecord>> GetRun(const std::string& id) = 0;
  /// ListRuns returns runs newest first; top-level only unless include_children.
  virtual Result<std::vector<RunRecord>> ListRuns(int limit, bool include_children = false) = 0;
  /// ResolveRunId accepts a full id, a unique prefix, or "latest"; errors name the candidates.
  virtual Result<std::string> ResolveRunId(const std::string& id_or_prefix) = 0;

  virtual Result<std::vector<Event>> ListEvents(const std::string& run_id, int64_t after_seq = 0) = 0;
  virtual Result<std::vector<NodeRunRecord>> ListNodeRuns(const std::string& run_id) = 0;
  virtual Result<std::vector<LlmCallRecord>> ListLlmCalls(const std::string& run_id) = 0;
  virtual Result<std::vector<ArtifactRecord>> ListArtifacts(const std::string& run_id) = 0;
  virtual Result<std::vector<ApprovalRecord>> ListApprovals(const std::string& run_id) = 0;

  /// ListEventsOfType returns one run's events of one type, in order.
  virtual Result<std::vector<Event>> ListEventsOfType(const std::string& run_id, const std::string& type) = 0;
  /// One node's rows, calls and events (indexed: a report on one node of a large run reads only it).
  virtual Result<std::vector<NodeRunRecord>> ListNodeRunsOf(const std::string& run_id, const std::string& node) = 0;
  virtual Result<std::vector<LlmCallRecord>> ListLlmCallsOf(const std::string& run_id, const std::string& node) = 0;
  virtual Result<std::vector<Event>> ListNodeEvents(const std::string& run_id, const std::string& node) = 0;
  /// ListSubRuns returns every sub-run below run_id (children, their children, ...) in start
  /// order, following parent_id.
  virtual Result<std::vector<RunRecord>> ListSubRuns(const std::string& run_id) = 0;
  /// ListRunsSince returns runs (sub-runs included) created at or after since, oldest first.
  virtual Result<std::vector<RunRecord>> ListRunsSince(double since) = 0;
  /// ListLlmCallsSince returns every model call started at or after since, in order.
  virtual Result<std::vector<LlmCallRecord>> ListLlmCallsSince(double since) = 0;
  /// ListArtifactsNamed returns the artifacts called name across runs, newest first.
  virtual Result<std::vector<ArtifactRecord>> ListArtifactsNamed(const std::string& name) = 0;

  /// CollectGarbage deletes old runs and every blob (inline or file) that nothing left in the
  /// store references, then compacts the database.
  virtual Result<GcReport> CollectGarbage(const GcOptions& options) = 0;

  virtual Result<std::optional<CacheEntry>> GetCache(const std::string& key) = 0;
  /// ListLive returns the streamed-so-far text of run's calls in flight.
  virtual Result<std::vector<LiveText>> ListLive(const std::string& run_id) = 0;

  /// GetBlob refuses anything that is not a 32-hex-digit hash (never touches the filesystem
  /// with it); NotFound when absent.
  virtual Result<std::string> GetBlob(const std::string& hash) = 0;

  /// RequestCancel sets runs.cancel_requested (another process may be running the run).
  virtual Status RequestCancel(const std::string& run_id) = 0;
  /// ClaimRun marks run as running in process pid if it is still as the caller saw it (status
  /// and pid): of two processes about to resume one run, exactly one gets true.
  virtual Result<bool> ClaimRun(const std::string& run_id, const std::string& seen_status, int64_t seen_pid,
                                int64_t pid) = 0;
  virtual Result<bool> CancelRequested(const std::string& run_id) = 0;

  /// ClaimFire inserts fire unless a row of its (schedule, fire_at) exists: true when this
  /// call inserted it. Of any number of schedulers claiming one window, exactly one gets true.
  virtual Result<bool> ClaimFire(const FireRecord& fire) {
    return Status(Code::kFailed, "this store keeps no schedule fires");
  }
  /// StartFire moves the fire of run_id from claimed to started (started_at, pid) and returns
  /// it; nullopt when it is not (or no longer) claimed: of two processes starting one fire,
  /// exactly one gets it.
  virtual Result<std::optional<FireRecord>> StartFire(const std::string& run_id, int64_t pid, double now) {
    return Status(Code::kFailed, "this store keeps no schedule fires");
  }
  /// FinishFire sets a fire's status and error (e.g. failed, "cannot read the workflow").
  virtual Status FinishFire(const std::string& run_id, const std::string& status, const std::string& error) {
    return Status(Code::kFailed, "this store keeps no schedule fires");
  }
  /// ListFires returns a schedule's fires, newest window first (limit <= 0: all); schedule "":
  /// every schedule's (`store copy`).
  virtual Result<std::vector<FireRecord>> ListFires(const std::string& schedule, int limit) {
    return Status(Code::kFailed, "this store keeps no schedule fires");
  }
  /// ListClaimedFires returns every fire still claimed but not started, oldest window first.
  virtual Result<std::vector<FireRecord>> ListClaimedFires() {
    return Status(Code::kFailed, "this store keeps no schedule fires");
  }

  /// IntegrityCheck returns "ok" when healthy, else the problems, one a line. SQLite: PRAGMA
  /// integrity_check. PostgreSQL: the data's own consistency (every row's run exists, every
  /// referenced blob exists, a finished run's totals match its model calls, the work queue's
  /// invariants).
  virtual Result<std::string> IntegrityCheck() = 0;

  /// Location is what to show of where the store is: its directory, or its URL without the
  /// password. Backend is "sqlite" or "postgresql".
  virtual std::string Location() const { return ""; }
  virtual std::string Backend() const { return ""; }
};

/// ProcessAlive says whether whoever runs run is still there: for a run under a worker's lease
/// (lease_until > 0), whether the lease is still in force (the worker may be on another
/// machine); else whether the process recorded as running it is (a zombie nobody reaped is
/// not). The engine, the CLI, the web UI and the approvals view ask it.
bool ProcessAlive(const RunRecord& run);

/// UnusedRunId draws run ids (NewRunId: the time and 24 random bits) until one is not in st:
/// concurrent runs started in the same second never collide.
std::string UnusedRunId(Store* st, double wall_seconds);

/// SqliteDatabasePath is the database file of the SQLite store in dir (dir/specwright.db); a
/// store is there when that file is.
std::string SqliteDatabasePath(const std::string& dir);

/// OpenSqlite opens (creating if needed) the store in dir: dir/specwright.db (WAL) and
/// dir/blobs/. Applies the schema and migrations.
Result<std::unique_ptr<Store>> OpenSqlite(const std::string& dir, const StoreOptions& options = {});

/// IsStoreUrl says whether location names a PostgreSQL store (postgresql:// or postgres://)
/// rather than a directory.
bool IsStoreUrl(const std::string& location);

/// OpenPostgres opens the store in the PostgreSQL database url names, creating or migrating
/// its tables (versioned, under an advisory lock: processes opening one database at once
/// apply each migration once). With options.create false the tables must exist (NotFound
/// otherwise) and nothing is created. Errors show the URL without its password.
Result<std::unique_ptr<Store>> OpenPostgres(const std::string& url, const StoreOptions& options = {});

/// OpenStore opens a directory with OpenSqlite and a URL with OpenPostgres.
Result<std::unique_ptr<Store>> OpenStore(const std::string& location, const StoreOptions& options = {});

/// StoreLocationForDisplay is location fit for a message or log: a directory as it is, a URL
/// without its password.
std::string StoreLocationForDisplay(const std::string& location);

}  // namespace sw::store
