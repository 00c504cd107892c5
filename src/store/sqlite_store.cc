#include "store/sqlite_store.h"

#include <sys/stat.h>
#include <utime.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "base/fs.h"
#include "base/ids.h"
#include "base/subprocess.h"
#include "store/columns.h"
#include "base/hash.h"
#include "store/call_detail.h"

namespace sw::store {
namespace {

constexpr int kSchemaVersion = 7;

/// Version 1: the tables mirror the structs of store.h column for column.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE runs (
  id TEXT PRIMARY KEY, parent_id TEXT NOT NULL DEFAULT '', workflow_file TEXT NOT NULL DEFAULT '',
  workflow_name TEXT NOT NULL DEFAULT '', workflow_hash TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'running', created_at REAL NOT NULL DEFAULT 0,
  finished_at REAL NOT NULL DEFAULT 0, inputs_json TEXT NOT NULL DEFAULT '{}',
  options_json TEXT NOT NULL DEFAULT '{}', error TEXT NOT NULL DEFAULT '',
  pid INTEGER NOT NULL DEFAULT 0, tokens_in INTEGER NOT NULL DEFAULT 0,
  tokens_out INTEGER NOT NULL DEFAULT 0, calls INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0, nodes_total INTEGER NOT NULL DEFAULT 0,
  nodes_succeeded INTEGER NOT NULL DEFAULT 0, nodes_failed INTEGER NOT NULL DEFAULT 0,
  nodes_skipped INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0);
CREATE INDEX runs_by_created ON runs (created_at, id);
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, ts REAL NOT NULL,
  type TEXT NOT NULL, node TEXT NOT NULL, iteration INTEGER NOT NULL, item INTEGER NOT NULL,
  attempt INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX events_by_run ON events (run_id, seq);
CREATE TABLE node_runs (
  run_id TEXT NOT NULL, node TEXT NOT NULL, iteration INTEGER NOT NULL, item INTEGER NOT NULL,
  attempt INTEGER NOT NULL, status TEXT NOT NULL, started_at REAL NOT NULL,
  finished_at REAL NOT NULL, tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL,
  cost_usd REAL NOT NULL, calls INTEGER NOT NULL, model TEXT NOT NULL, error TEXT NOT NULL,
  output_blob TEXT NOT NULL, cached INTEGER NOT NULL,
  PRIMARY KEY (run_id, node, iteration, item, attempt)) WITHOUT ROWID;
CREATE TABLE llm_calls (
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, node TEXT NOT NULL,
  iteration INTEGER NOT NULL, item INTEGER NOT NULL, attempt INTEGER NOT NULL,
  provider TEXT NOT NULL, model TEXT NOT NULL, tokens_in INTEGER NOT NULL,
  tokens_out INTEGER NOT NULL, tokens_cached_read INTEGER NOT NULL,
  tokens_cache_write INTEGER NOT NULL, tokens_reasoning INTEGER NOT NULL,
  cost_usd REAL, started_at REAL NOT NULL, latency_ms REAL NOT NULL, ttft_ms REAL NOT NULL,
  status TEXT NOT NULL, error TEXT NOT NULL, request_blob TEXT NOT NULL,
  response_blob TEXT NOT NULL);
CREATE INDEX llm_calls_by_run ON llm_calls (run_id, id);
CREATE TABLE artifacts (
  run_id TEXT NOT NULL, name TEXT NOT NULL, media_type TEXT NOT NULL, blob TEXT NOT NULL,
  produced_by TEXT NOT NULL, derived_from TEXT NOT NULL, created_at REAL NOT NULL,
  PRIMARY KEY (run_id, name));
CREATE TABLE approvals (
  run_id TEXT NOT NULL, node TEXT NOT NULL, iteration INTEGER NOT NULL, item INTEGER NOT NULL,
  decision TEXT NOT NULL, text TEXT NOT NULL, "by" TEXT NOT NULL, ts REAL NOT NULL,
  PRIMARY KEY (run_id, node, iteration, item));
CREATE TABLE cache (
  key TEXT PRIMARY KEY, output_blob TEXT NOT NULL, node TEXT NOT NULL, model TEXT NOT NULL,
  tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL, cost_usd REAL NOT NULL,
  created_at REAL NOT NULL);
CREATE TABLE blobs (hash TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL);
)sql";

/// Version 2: what offline replay matches a request on and answers with; artifacts by name
/// (lineage across runs); events by type (reports read one kind of event of a large run).
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE llm_calls ADD COLUMN request_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE llm_calls ADD COLUMN reply_blob TEXT NOT NULL DEFAULT '';
ALTER TABLE node_runs ADD COLUMN cost_unknown INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN cost_unknown INTEGER NOT NULL DEFAULT 0;
CREATE INDEX llm_calls_by_start ON llm_calls (started_at);
CREATE INDEX artifacts_by_name ON artifacts (name, created_at);
CREATE INDEX events_by_type ON events (run_id, type, seq);
CREATE INDEX events_by_node ON events (run_id, node, seq);
CREATE INDEX llm_calls_by_node ON llm_calls (run_id, node, id);
)sql";

/// Migration i takes the schema from version i to i + 1; append, never edit, once shipped.
/// Version 3: the text of model calls in flight, for the web UI (rows live only while a call runs).
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE live (
  run_id TEXT NOT NULL, node TEXT NOT NULL, iteration INTEGER NOT NULL, item INTEGER NOT NULL,
  attempt INTEGER NOT NULL, text TEXT NOT NULL, updated_at REAL NOT NULL,
  PRIMARY KEY (run_id, node, iteration, item, attempt));
)sql";

/// Version 4: fewer indexes to write. Events by type cost every event a third index entry
/// (~7% of a durable node's time) for a few reads that now scan one run's events
/// (events_by_run); llm_calls_by_run is the prefix of llm_calls_by_node (a run's calls in id
/// order are read through it and sorted). And the model that answered, as the provider
/// named it, beside the one requested; a run's develop/modify session and what it was for in it.
constexpr const char* kSchemaV4 = R"sql(
DROP INDEX IF EXISTS events_by_type;
DROP INDEX IF EXISTS llm_calls_by_run;
ALTER TABLE llm_calls ADD COLUMN response_model TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN session TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN label TEXT NOT NULL DEFAULT '';
)sql";

/// Version 5: what OpenTelemetry's GenAI conventions report of a call and the columns did not
/// keep (the provider's response id, the finish reason, a failure's class), as one JSON object
/// so the next such fact needs no migration.
constexpr const char* kSchemaV5 = R"sql(
ALTER TABLE llm_calls ADD COLUMN detail TEXT NOT NULL DEFAULT '';
)sql";

/// Version 6: who orchestrates a run under a worker's lease, and until when (the work queue
/// writes them; a SQLite store has no workers, but `store copy` keeps them and the columns are
/// the same on both backends).
constexpr const char* kSchemaV6 = R"sql(
ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN lease_until REAL NOT NULL DEFAULT 0;
)sql";

/// Version 7: the windows of schedules that came due (workflow/schedule.h), one row per
/// (schedule, window): inserting the row is claiming the fire, so no window fires twice.
constexpr const char* kSchemaV7 = R"sql(
CREATE TABLE schedule_fires (
  schedule TEXT NOT NULL, fire_at REAL NOT NULL, run_id TEXT NOT NULL, status TEXT NOT NULL,
  error TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '', claimed_at REAL NOT NULL DEFAULT 0,
  claimed_by TEXT NOT NULL DEFAULT '', started_at REAL NOT NULL DEFAULT 0, pid INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (schedule, fire_at));
CREATE INDEX schedule_fires_by_run ON schedule_fires (run_id);
CREATE INDEX schedule_fires_by_status ON schedule_fires (status, fire_at);
)sql";

constexpr const char* kMigrations[kSchemaVersion] = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4,
                                                     kSchemaV5, kSchemaV6, kSchemaV7};

// The run upsert writes SW_RUN_WRITE_COLS; owner and lease_until are the work queue's.

/// kSqlText is indexed by Sql; every literal is a compile-time constant, prepared once.
constexpr const char* kSqlText[] = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    // kUpsertRun: an upsert never clears a cancel request made by another process, except on
    // the transition back into 'running' (a resume), where the engine's value wins.
    "INSERT INTO runs (" SW_RUN_WRITE_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
    "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24) ON CONFLICT (id) DO UPDATE SET "
    SW_RUN_UPSERT_SET
    "cancel_requested = CASE WHEN runs.status <> 'running' AND excluded.status = 'running' "
    "THEN excluded.cancel_requested ELSE max(runs.cancel_requested, excluded.cancel_requested) END, "
    "status = excluded.status",
    "INSERT INTO events (run_id, ts, type, node, iteration, item, attempt, data) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    "INSERT INTO node_runs (" SW_NODE_RUN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
    "?11, ?12, ?13, ?14, ?15, ?16, ?17) ON CONFLICT (run_id, node, iteration, item, attempt) DO UPDATE "
    "SET status = excluded.status, started_at = excluded.started_at, "
    "finished_at = excluded.finished_at, tokens_in = excluded.tokens_in, "
    "tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd, calls = excluded.calls, "
    "model = excluded.model, error = excluded.error, output_blob = excluded.output_blob, "
    "cached = excluded.cached, cost_unknown = excluded.cost_unknown",
    "INSERT INTO llm_calls (" SW_LLM_CALL_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
    "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
    "INSERT INTO artifacts (run_id, name, media_type, blob, produced_by, derived_from, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (run_id, name) DO UPDATE SET "
    "media_type = excluded.media_type, blob = excluded.blob, produced_by = excluded.produced_by, "
    "derived_from = excluded.derived_from, created_at = excluded.created_at",
    "INSERT INTO approvals (run_id, node, iteration, item, decision, text, \"by\", ts) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (run_id, node, iteration, item) DO UPDATE "
    "SET decision = excluded.decision, text = excluded.text, \"by\" = excluded.\"by\", ts = excluded.ts "
    // A gate is decided once: only a pending row changes (two people answering at once, or a
    // pending row written late, cannot overwrite a decision).
    "WHERE approvals.decision = 'pending'",
    "INSERT INTO cache (key, output_blob, node, model, tokens_in, tokens_out, cost_usd, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (key) DO UPDATE SET "
    "output_blob = excluded.output_blob, node = excluded.node, model = excluded.model, "
    "tokens_in = excluded.tokens_in, tokens_out = excluded.tokens_out, "
    "cost_usd = excluded.cost_usd, created_at = excluded.created_at",
    "INSERT OR IGNORE INTO blobs (hash, size, data) VALUES (?1, ?2, ?3)",
    "SELECT " SW_RUN_COLS " FROM runs WHERE id = ?1",
    "SELECT " SW_RUN_COLS " FROM runs WHERE ?1 OR parent_id = '' "
    "ORDER BY created_at DESC, id DESC LIMIT ?2",
    "SELECT id FROM runs WHERE parent_id = '' ORDER BY created_at DESC, id DESC LIMIT 1",
    "SELECT id FROM runs WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 6",
    "SELECT seq, run_id, ts, type, node, iteration, item, attempt, data FROM events "
    "WHERE run_id = ?1 AND seq > ?2 ORDER BY seq",
    // In key order (no sort in SQL: ListNodeRuns orders by start time in memory, much faster).
    "SELECT " SW_NODE_RUN_COLS " FROM node_runs WHERE run_id = ?1 ORDER BY node, iteration, item, attempt",
    "SELECT id, " SW_LLM_CALL_COLS " FROM llm_calls WHERE run_id = ?1 ORDER BY id",
    "SELECT run_id, name, media_type, blob, produced_by, derived_from, created_at FROM artifacts "
    "WHERE run_id = ?1 ORDER BY created_at, name",
    "SELECT run_id, node, iteration, item, decision, text, \"by\", ts FROM approvals "
    "WHERE run_id = ?1 ORDER BY ts, rowid",
    "SELECT key, output_blob, node, model, tokens_in, tokens_out, cost_usd, created_at FROM cache "
    "WHERE key = ?1",
    "SELECT data FROM blobs WHERE hash = ?1",
    "UPDATE runs SET cancel_requested = 1 WHERE id = ?1",
    "SELECT cancel_requested FROM runs WHERE id = ?1",
    "PRAGMA integrity_check",
    "SELECT seq, run_id, ts, type, node, iteration, item, attempt, data FROM events "
    "WHERE run_id = ?1 AND type = ?2 ORDER BY seq",
    "SELECT " SW_RUN_COLS " FROM runs WHERE created_at >= ?1 ORDER BY created_at, id",
    "SELECT id, " SW_LLM_CALL_COLS " FROM llm_calls WHERE started_at >= ?1 ORDER BY started_at, id",
    "SELECT run_id, name, media_type, blob, produced_by, derived_from, created_at FROM artifacts "
    "WHERE name = ?1 ORDER BY created_at DESC, run_id DESC",
    "SELECT " SW_NODE_RUN_COLS " FROM node_runs WHERE run_id = ?1 AND node = ?2 "
    "ORDER BY started_at, iteration, item, attempt",
    "SELECT id, " SW_LLM_CALL_COLS " FROM llm_calls WHERE run_id = ?1 AND node = ?2 ORDER BY id",
    "SELECT seq, run_id, ts, type, node, iteration, item, attempt, data FROM events "
    "WHERE run_id = ?1 AND node = ?2 ORDER BY seq",
    "WITH RECURSIVE tree(id) AS (SELECT id FROM runs WHERE parent_id = ?1 UNION "
    "SELECT runs.id FROM runs JOIN tree ON runs.parent_id = tree.id) "
    "SELECT " SW_RUN_COLS " FROM runs WHERE id IN (SELECT id FROM tree) ORDER BY created_at, id",
    "INSERT INTO live (run_id, node, iteration, item, attempt, text, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (run_id, node, iteration, item, attempt) DO UPDATE SET text = excluded.text, "
    "updated_at = excluded.updated_at",
    "DELETE FROM live WHERE run_id = ?1 AND node = ?2 AND iteration = ?3 AND item = ?4 AND attempt = ?5",
    "DELETE FROM live WHERE run_id = ?1",
    "SELECT run_id, node, iteration, item, attempt, text, updated_at FROM live WHERE run_id = ?1 "
    "ORDER BY node, iteration, item, attempt",
    "UPDATE runs SET status = 'running', pid = ?1 WHERE id = ?2 AND status = ?3 AND pid = ?4",
    "SELECT owner FROM runs WHERE id = ?1",
};
static_assert(sizeof(kSqlText) / sizeof(kSqlText[0]) == static_cast<size_t>(Sql::kCount));

#undef SW_RUN_COLS
#undef SW_RUN_WRITE_COLS
#undef SW_NODE_RUN_COLS
#undef SW_LLM_CALL_COLS

/// Blob marks a value that binds as a BLOB rather than TEXT.
struct Blob {
  std::string_view data;
};

/// Binder binds arguments to ?1, ?2, ... in order; strings are bound without copying, so they
/// must outlive the step (they always do: the batch outlives Commit).
struct Binder {
  sqlite3_stmt* s;
  int i = 1;
  void operator()(const std::string& v) {
    sqlite3_bind_text(s, i++, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void operator()(int v) { sqlite3_bind_int64(s, i++, v); }
  void operator()(int64_t v) { sqlite3_bind_int64(s, i++, v); }
  void operator()(bool v) { sqlite3_bind_int64(s, i++, v ? 1 : 0); }
  void operator()(double v) { sqlite3_bind_double(s, i++, v); }
  void operator()(const std::optional<double>& v) {
    v ? sqlite3_bind_double(s, i++, *v) : sqlite3_bind_null(s, i++);
  }
  void operator()(Blob v) {
    if (v.data.empty()) {
      sqlite3_bind_zeroblob(s, i++, 0);
    } else {
      sqlite3_bind_blob(s, i++, v.data.data(), static_cast<int>(v.data.size()), SQLITE_STATIC);
    }
  }
};

template <typename... A>
void Bind(sqlite3_stmt* s, const A&... args) {
  Binder b{s};
  (b(args), ...);
}

/// Reset returns a statement to its reusable state when the scope ends, whatever the outcome.
struct Reset {
  sqlite3_stmt* s;
  ~Reset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

std::string Text(sqlite3_stmt* s, int col) {
  const char* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, col))) : std::string();
}
int64_t Int(sqlite3_stmt* s, int col) { return sqlite3_column_int64(s, col); }
double Real(sqlite3_stmt* s, int col) { return sqlite3_column_double(s, col); }

/// Printable quotes untrusted input for an error message: short, no control characters.
std::string Printable(std::string_view s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < 64; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof(b), "\\x%02x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + (s.size() > 64 ? "...'" : "'");
}

Status SqliteStatus(sqlite3* db, int rc, const std::string& what) {
  std::string msg = what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Status(Code::kUnavailable, msg);
  return IoError(msg);
}

Status Exec(sqlite3* db, const char* sql, const std::string& what) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? Status::Ok() : SqliteStatus(db, rc, what);
}

Result<int64_t> QueryInt(sqlite3* db, const char* sql, const std::string& what) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    Status st = SqliteStatus(db, rc, what);
    sqlite3_finalize(s);
    return st;
  }
  int64_t v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

/// Migrate brings the schema to kSchemaVersion in one write transaction; two processes opening
/// a new store at once serialise on BEGIN IMMEDIATE and the second finds nothing to do.
Status Migrate(sqlite3* db, const std::string& path) {
  SW_ASSIGN_OR_RETURN(int64_t version, QueryInt(db, "PRAGMA user_version", "reading " + path));
  if (version == kSchemaVersion) return Status::Ok();
  SW_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", "migrating " + path));
  auto fail = [&](Status s) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  };
  auto reread = QueryInt(db, "PRAGMA user_version", "reading " + path);
  if (!reread.ok()) return fail(reread.status());
  version = *reread;
  if (version > kSchemaVersion || version < 0) {
    return fail(InvalidInput(path + ": schema version " + std::to_string(version) +
                             " is newer than this specwright supports (" +
                             std::to_string(kSchemaVersion) + "); upgrade specwright"));
  }
  for (int64_t v = version; v < kSchemaVersion; ++v) {
    Status s = Exec(db, kMigrations[v], "migrating " + path + " to schema version " + std::to_string(v + 1));
    if (!s.ok()) return fail(s);
  }
  std::string set = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
  Status s = Exec(db, set.c_str(), "migrating " + path);
  if (s.ok()) s = Exec(db, "COMMIT", "migrating " + path);
  return s.ok() ? s : fail(s);
}

RunRecord ReadRun(sqlite3_stmt* s) {
  RunRecord r;
  r.id = Text(s, 0);
  r.parent_id = Text(s, 1);
  r.workflow_file = Text(s, 2);
  r.workflow_name = Text(s, 3);
  r.workflow_hash = Text(s, 4);
  r.status = Text(s, 5);
  r.created_at = Real(s, 6);
  r.finished_at = Real(s, 7);
  r.inputs_json = Text(s, 8);
  r.options_json = Text(s, 9);
  r.error = Text(s, 10);
  r.pid = Int(s, 11);
  r.tokens_in = Int(s, 12);
  r.tokens_out = Int(s, 13);
  r.calls = Int(s, 14);
  r.cost_usd = Real(s, 15);
  r.nodes_total = Int(s, 16);
  r.nodes_succeeded = Int(s, 17);
  r.nodes_failed = Int(s, 18);
  r.nodes_skipped = Int(s, 19);
  r.cancel_requested = Int(s, 20) != 0;
  r.cost_unknown = Int(s, 21) != 0;
  r.session = Text(s, 22);
  r.label = Text(s, 23);
  r.owner = Text(s, 24);
  r.lease_until = Real(s, 25);
  return r;
}

Event ReadEvent(sqlite3_stmt* s) {
  Event e;
  e.seq = Int(s, 0);
  e.run_id = Text(s, 1);
  e.ts = Real(s, 2);
  e.type = Text(s, 3);
  e.node = Text(s, 4);
  e.iteration = static_cast<int>(Int(s, 5));
  e.item = static_cast<int>(Int(s, 6));
  e.attempt = static_cast<int>(Int(s, 7));
  e.data = Text(s, 8);
  return e;
}

NodeRunRecord ReadNodeRun(sqlite3_stmt* s) {
  NodeRunRecord n;
  n.run_id = Text(s, 0);
  n.node = Text(s, 1);
  n.iteration = static_cast<int>(Int(s, 2));
  n.item = static_cast<int>(Int(s, 3));
  n.attempt = static_cast<int>(Int(s, 4));
  n.status = Text(s, 5);
  n.started_at = Real(s, 6);
  n.finished_at = Real(s, 7);
  n.tokens_in = Int(s, 8);
  n.tokens_out = Int(s, 9);
  n.cost_usd = Real(s, 10);
  n.calls = Int(s, 11);
  n.model = Text(s, 12);
  n.error = Text(s, 13);
  n.output_blob = Text(s, 14);
  n.cached = Int(s, 15) != 0;
  n.cost_unknown = Int(s, 16) != 0;
  return n;
}

LlmCallRecord ReadLlmCall(sqlite3_stmt* s) {
  LlmCallRecord c;
  c.id = Int(s, 0);
  c.run_id = Text(s, 1);
  c.node = Text(s, 2);
  c.iteration = static_cast<int>(Int(s, 3));
  c.item = static_cast<int>(Int(s, 4));
  c.attempt = static_cast<int>(Int(s, 5));
  c.provider = Text(s, 6);
  c.model = Text(s, 7);
  c.tokens_in = Int(s, 8);
  c.tokens_out = Int(s, 9);
  c.tokens_cached_read = Int(s, 10);
  c.tokens_cache_write = Int(s, 11);
  c.tokens_reasoning = Int(s, 12);
  if (sqlite3_column_type(s, 13) != SQLITE_NULL) c.cost_usd = Real(s, 13);
  c.started_at = Real(s, 14);
  c.latency_ms = Real(s, 15);
  c.ttft_ms = Real(s, 16);
  c.status = Text(s, 17);
  c.error = Text(s, 18);
  c.request_blob = Text(s, 19);
  c.response_blob = Text(s, 20);
  c.request_hash = Text(s, 21);
  c.reply_blob = Text(s, 22);
  c.response_model = Text(s, 23);
  ReadCallDetail(Text(s, 24), c);
  return c;
}

ArtifactRecord ReadArtifact(sqlite3_stmt* s) {
  return ArtifactRecord{Text(s, 0), Text(s, 1), Text(s, 2), Text(s, 3),
                        Text(s, 4), Text(s, 5), Real(s, 6)};
}

ApprovalRecord ReadApproval(sqlite3_stmt* s) {
  return ApprovalRecord{Text(s, 0), Text(s, 1), static_cast<int>(Int(s, 2)), static_cast<int>(Int(s, 3)),
                        Text(s, 4), Text(s, 5), Text(s, 6),                   Real(s, 7)};
}

LiveText ReadLive(sqlite3_stmt* s) {
  return LiveText{Text(s, 0), Text(s, 1), static_cast<int>(Int(s, 2)), static_cast<int>(Int(s, 3)),
                  static_cast<int>(Int(s, 4)), Text(s, 5), Real(s, 6), false};
}

CacheEntry ReadCache(sqlite3_stmt* s) {
  return CacheEntry{Text(s, 0), Text(s, 1), Text(s, 2), Text(s, 3), Int(s, 4), Int(s, 5), Real(s, 6), Real(s, 7)};
}

/// Collect steps a bound statement to the end, reading each row; the caller holds the lock.
template <typename T>
Result<std::vector<T>> Collect(sqlite3* db, sqlite3_stmt* s, T (*read)(sqlite3_stmt*), const char* what) {
  Reset reset{s};
  std::vector<T> out;
  out.reserve(64);
  for (;;) {
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      out.push_back(read(s));
    } else if (rc == SQLITE_DONE) {
      return out;
    } else {
      return SqliteStatus(db, rc, what);
    }
  }
}

}  // namespace

bool ProcessAlive(const RunRecord& run) {
  if (run.status != "running") return false;
  if (run.lease_until > 0) {
    struct timespec now {};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return run.lease_until > static_cast<double>(now.tv_sec) + now.tv_nsec * 1e-9;
  }
  return ProcessRunning(run.pid);
}

std::string UnusedRunId(Store* st, double wall_seconds) {
  std::string id;
  for (int i = 0; i < 16; ++i) {
    id = NewRunId(wall_seconds);
    auto taken = st->GetRun(id);
    if (taken.ok() && !*taken) break;
  }
  return id;
}

Result<std::unique_ptr<Store>> OpenSqlite(const std::string& dir, const StoreOptions& options) {
  SW_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(dir, options));
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& dir, const StoreOptions& options) {
  if (dir.empty()) return InvalidInput("store directory is empty");
  std::unique_ptr<SqliteStore> store(new SqliteStore(dir, options));
  SW_RETURN_IF_ERROR(store->Init());
  return store;
}

std::string SqliteDatabasePath(const std::string& dir) { return dir + "/specwright.db"; }

Status SqliteStore::Init() {
  db_path_ = SqliteDatabasePath(dir_);
  if (options_.create) {
    SW_RETURN_IF_ERROR(MakeDirs(dir_));
    SW_RETURN_IF_ERROR(MakeDirs(dir_ + "/blobs"));
  } else if (!FileExists(db_path_)) {
    return NotFound("no store at " + dir_ + " (" + db_path_ + " does not exist)");
  }
  const std::string what = "opening " + db_path_;
  // Without create, SQLite may not make the file either (it could vanish between the check
  // and the open).
  int rc = sqlite3_open_v2(db_path_.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | (options_.create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db_, rc, what);
  sqlite3_busy_timeout(db_, 5000);
  // The first statement that reads the file is where a non-database file is detected.
  auto mode = QueryInt(db_, "PRAGMA journal_mode = WAL", what);
  if (!mode.ok()) return mode.status();
  std::string sync = options_.fsync_every_commit ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
  SW_RETURN_IF_ERROR(Exec(db_, sync.c_str(), what));
  SW_RETURN_IF_ERROR(Exec(db_, "PRAGMA foreign_keys = OFF", what));
  // Reads map the file instead of copying each page through read(): a report over a
  // 10,000-node run reads tens of megabytes, and the copies were a fifth of its time.
  SW_RETURN_IF_ERROR(Exec(db_, "PRAGMA mmap_size = 1073741824", what));
  SW_RETURN_IF_ERROR(Migrate(db_, db_path_));
  return PrepareAll();
}

Status SqliteStore::PrepareAll() {
  for (size_t i = 0; i < stmts_.size(); ++i) {
    int rc = sqlite3_prepare_v3(db_, kSqlText[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts_[i], nullptr);
    if (rc != SQLITE_OK) return SqliteStatus(db_, rc, "preparing '" + std::string(kSqlText[i]).substr(0, 40) + "'");
  }
  return Status::Ok();
}

SqliteStore::~SqliteStore() {
  for (sqlite3_stmt* s : stmts_) sqlite3_finalize(s);
  if (db_) sqlite3_close_v2(db_);
}

Status SqliteStore::Error(const std::string& what) const {
  return SqliteStatus(db_, sqlite3_errcode(db_), what);
}

std::string SqliteStore::BlobPath(const std::string& hash) const {
  return dir_ + "/blobs/" + hash.substr(0, 2) + "/" + hash;
}

Status SqliteStore::Commit(Batch& batch) {
  if (batch.empty()) return Status::Ok();
  for (const auto& [hash, data] : batch.blobs) {
    if (!IsHexDigest(hash)) return InvalidInput("commit: invalid blob hash " + Printable(hash));
  }
  std::vector<int64_t> seqs, ids;
  std::lock_guard<std::mutex> lock(mu_);
  {
    Reset r{Stmt(Sql::kBegin)};
    if (sqlite3_step(Stmt(Sql::kBegin)) != SQLITE_DONE) return Error("commit: begin");
  }
  // A fenced batch whose run has another owner now writes nothing, not even a blob file.
  if (Status fs = CheckFence(batch); !fs.ok()) {
    Reset r{Stmt(Sql::kRollback)};
    sqlite3_step(Stmt(Sql::kRollback));
    return fs;
  }
  // Large blobs go to files inside the write transaction (a crash before COMMIT leaves only
  // an unreferenced file), so `gc`, which deletes files under the same lock, can never remove
  // one a commit is about to reference.
  for (const auto& [hash, data] : batch.blobs) {
    if (data.size() <= options_.inline_blob_max) continue;
    std::string path = BlobPath(hash);
    if (FileExists(path)) continue;
    Status ws = MakeDirs(dir_ + "/blobs/" + hash.substr(0, 2));
    if (ws.ok()) ws = WriteFileAtomic(path, data).Annotate("commit: writing blob");
    if (!ws.ok()) {
      Reset r{Stmt(Sql::kRollback)};
      sqlite3_step(Stmt(Sql::kRollback));
      return ws;
    }
  }
  Status s = WriteInBatch(batch, seqs, ids);
  if (s.ok()) {
    Reset r{Stmt(Sql::kCommit)};
    if (sqlite3_step(Stmt(Sql::kCommit)) != SQLITE_DONE) s = Error("commit");
  }
  if (!s.ok()) {
    if (!sqlite3_get_autocommit(db_)) {
      Reset r{Stmt(Sql::kRollback)};
      sqlite3_step(Stmt(Sql::kRollback));
    }
    return s;
  }
  for (size_t i = 0; i < seqs.size(); ++i) batch.events[i].seq = seqs[i];
  for (size_t i = 0; i < ids.size(); ++i) batch.llm_calls[i].id = ids[i];
  return Status::Ok();
}

Status SqliteStore::CheckFence(const Batch& batch) {
  if (!batch.fence) return Status::Ok();
  const Fence& f = *batch.fence;
  Bind(Stmt(Sql::kRunOwner), f.run_id);
  auto read_owner = +[](sqlite3_stmt* s) { return Text(s, 0); };
  SW_ASSIGN_OR_RETURN(auto owners, Collect(db_, Stmt(Sql::kRunOwner), read_owner, "commit: reading the run's owner"));
  if (!owners.empty() && owners[0] == f.owner) return Status::Ok();
  std::string now = owners.empty() ? "nobody (the run is not in the store)" : owners[0].empty() ? "nobody" : owners[0];
  return Failed("lease lost: run " + f.run_id + " is now orchestrated by " + now);
}

Status SqliteStore::WriteInBatch(Batch& batch, std::vector<int64_t>& seqs, std::vector<int64_t>& ids) {
  auto step = [&](Sql sql, const char* table) -> Status {
    sqlite3_stmt* s = Stmt(sql);
    Reset r{s};
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return SqliteStatus(db_, rc, std::string("commit: writing ") + table);
    return Status::Ok();
  };
  if (batch.run) {
    const RunRecord& r = *batch.run;
    Bind(Stmt(Sql::kUpsertRun), r.id, r.parent_id, r.workflow_file, r.workflow_name, r.workflow_hash, r.status,
         r.created_at, r.finished_at, r.inputs_json, r.options_json, r.error, r.pid, r.tokens_in, r.tokens_out,
         r.calls, r.cost_usd, r.nodes_total, r.nodes_succeeded, r.nodes_failed, r.nodes_skipped,
         r.cancel_requested, r.cost_unknown, r.session, r.label);
    SW_RETURN_IF_ERROR(step(Sql::kUpsertRun, "runs"));
  }
  seqs.reserve(batch.events.size());
  for (const Event& e : batch.events) {
    Bind(Stmt(Sql::kInsertEvent), e.run_id, e.ts, e.type, e.node, e.iteration, e.item, e.attempt, e.data);
    SW_RETURN_IF_ERROR(step(Sql::kInsertEvent, "events"));
    seqs.push_back(sqlite3_last_insert_rowid(db_));
  }
  for (const NodeRunRecord& n : batch.node_runs) {
    Bind(Stmt(Sql::kUpsertNodeRun), n.run_id, n.node, n.iteration, n.item, n.attempt, n.status, n.started_at,
         n.finished_at, n.tokens_in, n.tokens_out, n.cost_usd, n.calls, n.model, n.error, n.output_blob, n.cached,
         n.cost_unknown);
    SW_RETURN_IF_ERROR(step(Sql::kUpsertNodeRun, "node_runs"));
  }
  ids.reserve(batch.llm_calls.size());
  for (const LlmCallRecord& c : batch.llm_calls) {
    const std::string detail = CallDetail(c);  // bound without a copy: lives until the step
    Bind(Stmt(Sql::kInsertLlmCall), c.run_id, c.node, c.iteration, c.item, c.attempt, c.provider, c.model,
         c.tokens_in, c.tokens_out, c.tokens_cached_read, c.tokens_cache_write, c.tokens_reasoning, c.cost_usd,
         c.started_at, c.latency_ms, c.ttft_ms, c.status, c.error, c.request_blob, c.response_blob,
         c.request_hash, c.reply_blob, c.response_model, detail);
    SW_RETURN_IF_ERROR(step(Sql::kInsertLlmCall, "llm_calls"));
    ids.push_back(sqlite3_last_insert_rowid(db_));
  }
  for (const ArtifactRecord& a : batch.artifacts) {
    Bind(Stmt(Sql::kUpsertArtifact), a.run_id, a.name, a.media_type, a.blob, a.produced_by, a.derived_from,
         a.created_at);
    SW_RETURN_IF_ERROR(step(Sql::kUpsertArtifact, "artifacts"));
  }
  for (const ApprovalRecord& a : batch.approvals) {
    Bind(Stmt(Sql::kUpsertApproval), a.run_id, a.node, a.iteration, a.item, a.decision, a.text, a.by, a.ts);
    SW_RETURN_IF_ERROR(step(Sql::kUpsertApproval, "approvals"));
  }
  for (const CacheEntry& c : batch.cache) {
    Bind(Stmt(Sql::kUpsertCache), c.key, c.output_blob, c.node, c.model, c.tokens_in, c.tokens_out, c.cost_usd,
         c.created_at);
    SW_RETURN_IF_ERROR(step(Sql::kUpsertCache, "cache"));
  }
  for (const LiveText& l : batch.live) {
    if (l.done && l.node.empty()) {
      Bind(Stmt(Sql::kDeleteRunLive), l.run_id);
      SW_RETURN_IF_ERROR(step(Sql::kDeleteRunLive, "live"));
    } else if (l.done) {
      Bind(Stmt(Sql::kDeleteLive), l.run_id, l.node, l.iteration, l.item, l.attempt);
      SW_RETURN_IF_ERROR(step(Sql::kDeleteLive, "live"));
    } else {
      Bind(Stmt(Sql::kUpsertLive), l.run_id, l.node, l.iteration, l.item, l.attempt, l.text, l.updated_at);
      SW_RETURN_IF_ERROR(step(Sql::kUpsertLive, "live"));
    }
  }
  for (const auto& [hash, data] : batch.blobs) {
    if (data.size() > options_.inline_blob_max) continue;
    Bind(Stmt(Sql::kInsertBlob), hash, static_cast<int64_t>(data.size()), Blob{data});
    SW_RETURN_IF_ERROR(step(Sql::kInsertBlob, "blobs"));
  }
  return Status::Ok();
}

Result<std::optional<RunRecord>> SqliteStore::GetRun(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kGetRun), id);
  SW_ASSIGN_OR_RETURN(auto rows, Collect(db_, Stmt(Sql::kGetRun), ReadRun, "reading runs"));
  if (rows.empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(std::move(rows[0]));
}

Result<std::vector<RunRecord>> SqliteStore::ListRuns(int limit, bool include_children) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kListRuns), include_children, static_cast<int64_t>(limit > 0 ? limit : -1));
  return Collect(db_, Stmt(Sql::kListRuns), ReadRun, "listing runs");
}

Result<std::string> SqliteStore::ResolveRunId(const std::string& id_or_prefix) {
  SW_RETURN_IF_ERROR(ValidateRunId(id_or_prefix));
  auto read_id = +[](sqlite3_stmt* s) { return Text(s, 0); };
  std::lock_guard<std::mutex> lock(mu_);
  if (id_or_prefix == "latest") {
    SW_ASSIGN_OR_RETURN(auto ids, Collect(db_, Stmt(Sql::kLatestRun), read_id, "reading runs"));
    if (ids.empty()) return NotFound("no run matches 'latest' (the store has no runs)");
    return ids[0];
  }
  // Valid ids are ASCII, so every id with this prefix sorts in [prefix, prefix + "\xff").
  std::string upper = id_or_prefix + "\xff";
  Bind(Stmt(Sql::kRunsByPrefix), id_or_prefix, upper);
  SW_ASSIGN_OR_RETURN(auto ids, Collect(db_, Stmt(Sql::kRunsByPrefix), read_id, "reading runs"));
  if (ids.empty()) return NotFound("no run matches '" + id_or_prefix + "'");
  if (ids[0] == id_or_prefix || ids.size() == 1) return ids[0];
  std::string list;
  for (size_t i = 0; i < ids.size() && i < 5; ++i) list += (i ? ", " : "") + ids[i];
  if (ids.size() > 5) list += ", ...";
  return InvalidInput("run id '" + id_or_prefix + "' is ambiguous: " + list);
}

Result<std::vector<Event>> SqliteStore::ListEvents(const std::string& run_id, int64_t after_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kListEvents), run_id, after_seq);
  return Collect(db_, Stmt(Sql::kListEvents), ReadEvent, "reading events");
}

Result<std::vector<NodeRunRecord>> SqliteStore::ListNodeRuns(const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kListNodeRuns), run_id);
  SW_ASSIGN_OR_RETURN(auto rows, Collect(db_, Stmt(Sql::kListNodeRuns), ReadNodeRun, "reading node_runs"));
  // Start order, ties in key order: sort small (time, index) pairs, then move each row once.
  std::vector<std::pair<double, uint32_t>> order(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) order[i] = {rows[i].started_at, static_cast<uint32_t>(i)};
  std::sort(order.begin(), order.end());
  std::vector<NodeRunRecord> sorted;
  sorted.reserve(rows.size());
  for (const auto& [t, i] : order) sorted.push_back(std::move(rows[i]));
  return sorted;
}

Result<std::vector<LlmCallRecord>> SqliteStore::ListLlmCalls(const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kListLlmCalls), run_id);
  return Collect(db_, Stmt(Sql::kListLlmCalls), ReadLlmCall, "reading llm_calls");
}

Result<std::vector<ArtifactRecord>> SqliteStore::ListArtifacts(const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kListArtifacts), run_id);
  return Collect(db_, Stmt(Sql::kListArtifacts), ReadArtifact, "reading artifacts");
}

Result<std::vector<ApprovalRecord>> SqliteStore::ListApprovals(const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kListApprovals), run_id);
  return Collect(db_, Stmt(Sql::kListApprovals), ReadApproval, "reading approvals");
}

Result<bool> SqliteStore::ClaimRun(const std::string& run_id, const std::string& seen_status, int64_t seen_pid,
                                   int64_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* st = Stmt(Sql::kClaimRun);
  Bind(st, pid, run_id, seen_status, seen_pid);
  Reset reset{st};
  int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE) return SqliteStatus(db_, rc, "claiming run '" + run_id + "'");
  return sqlite3_changes(db_) == 1;
}

Result<std::vector<LiveText>> SqliteStore::ListLive(const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kListLive), run_id);
  return Collect(db_, Stmt(Sql::kListLive), ReadLive, "reading live");
}

Result<std::optional<CacheEntry>> SqliteStore::GetCache(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kGetCache), key);
  SW_ASSIGN_OR_RETURN(auto rows, Collect(db_, Stmt(Sql::kGetCache), ReadCache, "reading cache"));
  if (rows.empty()) return std::optional<CacheEntry>();
  return std::optional<CacheEntry>(std::move(rows[0]));
}

Result<std::string> SqliteStore::GetBlob(const std::string& hash) {
  if (!IsHexDigest(hash)) return InvalidInput("invalid blob hash " + Printable(hash) + ": want 32 hex digits");
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto read_data = +[](sqlite3_stmt* s) {
      const void* p = sqlite3_column_blob(s, 0);
      return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s, 0)))
               : std::string();
    };
    Bind(Stmt(Sql::kGetBlob), hash);
    SW_ASSIGN_OR_RETURN(auto rows, Collect(db_, Stmt(Sql::kGetBlob), read_data, "reading blobs"));
    if (!rows.empty()) return std::move(rows[0]);
  }
  auto file = ReadFile(BlobPath(hash));
  if (file.ok()) return std::move(file).value();
  if (file.status().code() == Code::kNotFound) return NotFound("blob " + hash + " not found");
  return file.status();
}

Result<std::vector<Event>> SqliteStore::ListEventsOfType(const std::string& run_id, const std::string& type) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kListEventsOfType), run_id, type);
  return Collect(db_, Stmt(Sql::kListEventsOfType), ReadEvent, "reading events");
}

Result<std::vector<NodeRunRecord>> SqliteStore::ListNodeRunsOf(const std::string& run_id, const std::string& node) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kListNodeRunsOf), run_id, node);
  return Collect(db_, Stmt(Sql::kListNodeRunsOf), ReadNodeRun, "reading node_runs");
}

Result<std::vector<LlmCallRecord>> SqliteStore::ListLlmCallsOf(const std::string& run_id, const std::string& node) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kListLlmCallsOf), run_id, node);
  return Collect(db_, Stmt(Sql::kListLlmCallsOf), ReadLlmCall, "reading llm_calls");
}

Result<std::vector<Event>> SqliteStore::ListNodeEvents(const std::string& run_id, const std::string& node) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kListNodeEvents), run_id, node);
  return Collect(db_, Stmt(Sql::kListNodeEvents), ReadEvent, "reading events");
}

Result<std::vector<RunRecord>> SqliteStore::ListSubRuns(const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kListSubRuns), run_id);
  return Collect(db_, Stmt(Sql::kListSubRuns), ReadRun, "listing sub-runs");
}

Result<std::vector<RunRecord>> SqliteStore::ListRunsSince(double since) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kListRunsSince), since);
  return Collect(db_, Stmt(Sql::kListRunsSince), ReadRun, "listing runs");
}

Result<std::vector<LlmCallRecord>> SqliteStore::ListLlmCallsSince(double since) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kListLlmCallsSince), since);
  return Collect(db_, Stmt(Sql::kListLlmCallsSince), ReadLlmCall, "reading llm_calls");
}

Result<std::vector<ArtifactRecord>> SqliteStore::ListArtifactsNamed(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kListArtifactsNamed), name);
  return Collect(db_, Stmt(Sql::kListArtifactsNamed), ReadArtifact, "reading artifacts");
}

namespace {
int64_t FileBytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}
}  // namespace

Result<GcReport> SqliteStore::CollectGarbage(const GcOptions& o) {
  GcReport rep;
  const std::string what = "gc of " + db_path_;
  double now = o.now > 0 ? o.now : static_cast<double>(std::time(nullptr));
  std::unordered_set<std::string> referenced;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rep.db_bytes_before = FileBytes(db_path_) + FileBytes(db_path_ + "-wal");
    SW_RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE", what));
    auto fail = [&](Status s) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return s;
    };
    // Each step is a one-off statement (gc is rare): prepared here, not at open.
    auto run = [&](const std::string& sql, const std::function<void(sqlite3_stmt*)>& bind,
                   const std::function<void(sqlite3_stmt*)>& row) -> Status {
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return Error(what);
      if (bind) bind(st);
      int rc;
      while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (row) row(st);
      sqlite3_finalize(st);
      return rc == SQLITE_DONE ? Status::Ok() : SqliteStatus(db_, rc, what);
    };
    auto exec = [&](const std::string& sql) -> Status {
      SW_RETURN_IF_ERROR(Exec(db_, sql.c_str(), what));
      rep.rows_deleted += sqlite3_changes(db_);
      return Status::Ok();
    };
    Status s = Exec(db_, "CREATE TEMP TABLE IF NOT EXISTS gc_runs (id TEXT PRIMARY KEY); DELETE FROM gc_runs;", what);
    // Old top-level runs that are neither running nor queued (a queued run waits for a worker;
    // both are reported as kept), and every sub-run below them.
    if (s.ok())
      s = run("SELECT id, status FROM runs WHERE parent_id = '' AND created_at < ?1 ORDER BY created_at",
              [&](sqlite3_stmt* st) { sqlite3_bind_double(st, 1, o.before); },
              [&](sqlite3_stmt* st) {
                std::string status = Text(st, 1);
                (status == "running" || status == "queued" ? rep.runs_kept_running : rep.runs_deleted)
                    .push_back(Text(st, 0));
              });
    if (s.ok())
      s = run("INSERT INTO gc_runs WITH RECURSIVE tree(id) AS (SELECT id FROM runs WHERE parent_id = '' AND "
              "created_at < ?1 AND status NOT IN ('running', 'queued') UNION SELECT runs.id FROM runs JOIN tree ON "
              "runs.parent_id = tree.id) SELECT id FROM tree",
              [&](sqlite3_stmt* st) { sqlite3_bind_double(st, 1, o.before); }, nullptr);
    if (s.ok()) {
      rep.runs_deleted.clear();
      s = run("SELECT id FROM gc_runs ORDER BY id", nullptr,
              [&](sqlite3_stmt* st) { rep.runs_deleted.push_back(Text(st, 0)); });
    }
    for (const char* table : {"events", "node_runs", "llm_calls", "artifacts", "approvals", "live"})
      if (s.ok()) s = exec(std::string("DELETE FROM ") + table + " WHERE run_id IN (SELECT id FROM gc_runs)");
    if (s.ok()) s = Exec(db_, "DELETE FROM runs WHERE id IN (SELECT id FROM gc_runs)", what);
    // Cache entries age out with the runs (they would otherwise keep their blobs forever).
    if (s.ok()) {
      std::string sql = "DELETE FROM cache WHERE created_at < " + std::to_string(o.before);
      s = exec(sql);
    }
    const char* kReferenced =
        "SELECT output_blob FROM node_runs UNION SELECT request_blob FROM llm_calls UNION "
        "SELECT response_blob FROM llm_calls UNION SELECT reply_blob FROM llm_calls UNION "
        "SELECT blob FROM artifacts UNION SELECT output_blob FROM cache UNION "
        "SELECT json_extract(data, '$.blob') FROM events WHERE json_valid(data) AND "
        "json_type(data, '$.blob') = 'text' UNION "
        // A run's options and inputs name blobs in "*_blob" members at any depth (a detached
        // run's workflow_blob, read by a worker at every claim).
        "SELECT j.value FROM runs, json_tree(CASE WHEN json_valid(runs.options_json) THEN runs.options_json "
        "ELSE '{}' END) AS j WHERE j.type = 'text' AND (j.key = 'blob' OR j.key LIKE '%\\_blob' ESCAPE '\\') UNION "
        "SELECT j.value FROM runs, json_tree(CASE WHEN json_valid(runs.inputs_json) THEN runs.inputs_json "
        "ELSE '{}' END) AS j WHERE j.type = 'text' AND (j.key = 'blob' OR j.key LIKE '%\\_blob' ESCAPE '\\')";
    if (s.ok()) s = run(kReferenced, nullptr, [&](sqlite3_stmt* st) { referenced.insert(Text(st, 0)); });
    std::vector<std::pair<std::string, int64_t>> inline_blobs;
    if (s.ok())
      s = run("SELECT hash, size FROM blobs", nullptr,
              [&](sqlite3_stmt* st) { inline_blobs.emplace_back(Text(st, 0), Int(st, 1)); });
    if (s.ok() && !inline_blobs.empty()) {
      sqlite3_stmt* del = nullptr;
      if (sqlite3_prepare_v2(db_, "DELETE FROM blobs WHERE hash = ?1", -1, &del, nullptr) != SQLITE_OK) s = Error(what);
      for (const auto& [hash, size] : inline_blobs) {
        if (!s.ok() || referenced.count(hash)) continue;
        sqlite3_bind_text(del, 1, hash.data(), static_cast<int>(hash.size()), SQLITE_STATIC);
        if (sqlite3_step(del) != SQLITE_DONE) s = Error(what);
        sqlite3_reset(del);
        ++rep.blobs_deleted;
        rep.blob_bytes_freed += size;
      }
      sqlite3_finalize(del);
    }
    if (!s.ok()) return fail(s);
    // A dry run measures by doing the work and rolling it back.
    s = Exec(db_, o.dry_run ? "ROLLBACK" : "COMMIT", what);
    if (!s.ok()) return fail(s);
    // Blob files nothing referenced then, older than the grace period, are candidates. The
    // scan holds no lock (a store of many files takes a while); the deletion below re-checks.
    std::vector<std::pair<std::string, int64_t>> candidates;  // path, size
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir_ + "/blobs", ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::string name = it->path().filename().string();
      if (!IsHexDigest(name) || referenced.count(name)) continue;
      struct stat st {};
      if (::stat(it->path().c_str(), &st) != 0) continue;
      if (now - static_cast<double>(st.st_mtime) < o.blob_grace_seconds) continue;
      candidates.emplace_back(it->path().string(), static_cast<int64_t>(st.st_size));
    }
    if (o.dry_run) {
      for (const auto& [path, size] : candidates) {
        ++rep.blobs_deleted;
        rep.blob_bytes_freed += size;
        rep.blob_file_bytes_freed += size;
      }
    } else if (!candidates.empty()) {
      // Files go under the write lock, against the references as they are now: a commit
      // writes and dedupes its files inside its own write transaction, so none can be about
      // to reference a file deleted here.
      SW_RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE", what));
      std::unordered_set<std::string> now_referenced;
      Status rs = run(kReferenced, nullptr, [&](sqlite3_stmt* st) { now_referenced.insert(Text(st, 0)); });
      if (rs.ok())
        for (const auto& [path, size] : candidates) {
          std::string name = std::filesystem::path(path).filename().string();
          if (now_referenced.count(name) || ::unlink(path.c_str()) != 0) continue;
          ++rep.blobs_deleted;
          rep.blob_bytes_freed += size;
          rep.blob_file_bytes_freed += size;
        }
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);  // nothing was written
      SW_RETURN_IF_ERROR(rs);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  // VACUUM rewrites the whole file under the write lock: not while a run may be committing.
  auto running = QueryInt(db_, "SELECT count(*) FROM runs WHERE status = 'running'", what);
  if (!running.ok()) return running.status();
  if (!o.dry_run && *running == 0 && (rep.rows_deleted > 0 || rep.blobs_deleted > 0 || !rep.runs_deleted.empty())) {
    SW_RETURN_IF_ERROR(Exec(db_, "VACUUM", what));
    SW_RETURN_IF_ERROR(Exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)", what));
    rep.vacuumed = true;
  }
  rep.db_bytes_after = FileBytes(db_path_) + FileBytes(db_path_ + "-wal");
  return rep;
}

Status SqliteStore::RequestCancel(const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* s = Stmt(Sql::kRequestCancel);
  Reset r{s};
  Bind(s, run_id);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) return SqliteStatus(db_, rc, "requesting cancel of run '" + run_id + "'");
  if (sqlite3_changes(db_) == 0) return NotFound("no run '" + run_id + "'");
  return Status::Ok();
}

Result<bool> SqliteStore::CancelRequested(const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Bind(Stmt(Sql::kCancelRequested), run_id);
  auto read_flag = +[](sqlite3_stmt* s) { return Int(s, 0) != 0; };
  SW_ASSIGN_OR_RETURN(auto rows, Collect(db_, Stmt(Sql::kCancelRequested), read_flag, "reading runs"));
  if (rows.empty()) return NotFound("no run '" + run_id + "'");
  return static_cast<bool>(rows[0]);
}

Result<std::string> SqliteStore::IntegrityCheck() {
  std::lock_guard<std::mutex> lock(mu_);
  SW_ASSIGN_OR_RETURN(auto lines, Collect(db_, Stmt(Sql::kIntegrityCheck), +[](sqlite3_stmt* s) { return Text(s, 0); },
                                          "integrity check"));
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) out += (i ? "\n" : "") + lines[i];
  return out;
}

// ---------------------------------------------------------------- schedule fires
// Rare (a few per scheduler tick), so prepared per call rather than kept in stmts_.

namespace {

FireRecord ReadFire(sqlite3_stmt* s) {
  FireRecord f;
  f.schedule = Text(s, 0);
  f.fire_at = Real(s, 1);
  f.run_id = Text(s, 2);
  f.status = Text(s, 3);
  f.error = Text(s, 4);
  f.note = Text(s, 5);
  f.claimed_at = Real(s, 6);
  f.claimed_by = Text(s, 7);
  f.started_at = Real(s, 8);
  f.pid = Int(s, 9);
  return f;
}

/// Prepared is a statement prepared for one call, finalized at the end of the scope.
struct Prepared {
  sqlite3_stmt* s = nullptr;
  ~Prepared() { sqlite3_finalize(s); }
};

}  // namespace

Result<bool> SqliteStore::ClaimFire(const FireRecord& f) {
  std::lock_guard<std::mutex> lock(mu_);
  Prepared p;
  if (sqlite3_prepare_v2(db_, "INSERT INTO schedule_fires (" SW_FIRE_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
                         "ON CONFLICT (schedule, fire_at) DO NOTHING", -1, &p.s, nullptr) != SQLITE_OK)
    return Error("claiming a schedule fire");
  Bind(p.s, f.schedule, f.fire_at, f.run_id, f.status, f.error, f.note, f.claimed_at, f.claimed_by, f.started_at, f.pid);
  int rc = sqlite3_step(p.s);
  if (rc != SQLITE_DONE) return SqliteStatus(db_, rc, "claiming the fire of " + f.schedule);
  return sqlite3_changes(db_) == 1;
}

Result<std::optional<FireRecord>> SqliteStore::StartFire(const std::string& run_id, int64_t pid, double now) {
  std::lock_guard<std::mutex> lock(mu_);
  Prepared p;
  if (sqlite3_prepare_v2(db_, "UPDATE schedule_fires SET status = 'started', started_at = ?2, pid = ?3 "
                         "WHERE run_id = ?1 AND status = 'claimed' RETURNING " SW_FIRE_COLS, -1, &p.s, nullptr) != SQLITE_OK)
    return Error("starting a schedule fire");
  Bind(p.s, run_id, now, pid);
  SW_ASSIGN_OR_RETURN(auto rows, Collect(db_, p.s, ReadFire, "starting a schedule fire"));
  if (rows.empty()) return std::optional<FireRecord>();
  return std::optional<FireRecord>(std::move(rows[0]));
}

Status SqliteStore::FinishFire(const std::string& run_id, const std::string& status, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  Prepared p;
  if (sqlite3_prepare_v2(db_, "UPDATE schedule_fires SET status = ?2, error = ?3 WHERE run_id = ?1", -1, &p.s, nullptr) !=
      SQLITE_OK)
    return Error("updating a schedule fire");
  Bind(p.s, run_id, status, error);
  int rc = sqlite3_step(p.s);
  if (rc != SQLITE_DONE) return SqliteStatus(db_, rc, "updating the fire of run '" + run_id + "'");
  if (sqlite3_changes(db_) == 0) return NotFound("no schedule fire of run '" + run_id + "'");
  return Status::Ok();
}

Result<std::vector<FireRecord>> SqliteStore::ListFires(const std::string& schedule, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Prepared p;
  // Two statements, so that one schedule's newest fire is read through the primary key.
  const char* sql = schedule.empty()
                        ? "SELECT " SW_FIRE_COLS " FROM schedule_fires WHERE ?1 = '' ORDER BY fire_at DESC, schedule LIMIT ?2"
                        : "SELECT " SW_FIRE_COLS " FROM schedule_fires WHERE schedule = ?1 ORDER BY fire_at DESC LIMIT ?2";
  if (sqlite3_prepare_v2(db_, sql, -1, &p.s, nullptr) != SQLITE_OK)
    return Error("reading schedule fires");
  Bind(p.s, schedule, static_cast<int64_t>(limit > 0 ? limit : -1));
  return Collect(db_, p.s, ReadFire, "reading schedule fires");
}

Result<std::vector<FireRecord>> SqliteStore::ListClaimedFires() {
  std::lock_guard<std::mutex> lock(mu_);
  Prepared p;
  if (sqlite3_prepare_v2(db_, "SELECT " SW_FIRE_COLS " FROM schedule_fires WHERE status = 'claimed' ORDER BY fire_at, schedule",
                         -1, &p.s, nullptr) != SQLITE_OK)
    return Error("reading schedule fires");
  return Collect(db_, p.s, ReadFire, "reading schedule fires");
}

}  // namespace sw::store
