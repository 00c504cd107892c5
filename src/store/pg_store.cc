#include "store/pg_store.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

#include "base/hash.h"
#include "base/ids.h"
#include "base/strings.h"
#include "store/columns.h"
#include "store/call_detail.h"
#include "store/pg_queue_schema.h"

namespace sw::store {
namespace {

using pg::Bool;
using pg::Bytes;
using pg::Int;
using pg::Null;
using pg::Param;
using pg::Real;
using pg::Rows;
using pg::Statement;
using pg::Text;

/// Advisory lock keys (the one-bigint key space): migrations, and gc against commits (a
/// commit holds the gc lock shared; gc's sweep takes it exclusive one short batch at a time, so
/// no commit is in flight while a batch deletes blobs: see CollectGarbage).
constexpr int64_t kMigrateLock = 0x53574d4947520001;  // "SWMIGR"
constexpr int64_t kGcLock = 0x5357474300000001;       // "SWGC"
/// Events of one run are written under a lock of that run (the two-int key space, this class),
/// so their seqs grow in commit order: a reader paging by after_seq never skips one.
constexpr int kRunEventsLockClass = 0x5357;

/// Migration 1: SQLite's data model at its version 6, column for column. Text keys compare
/// bytewise (COLLATE "C"), as SQLite's do, whatever the database's locale.
constexpr const char* kPgSchemaV1 = R"sql(
CREATE TABLE runs (
  id TEXT COLLATE "C" PRIMARY KEY, parent_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  workflow_file TEXT NOT NULL DEFAULT '', workflow_name TEXT NOT NULL DEFAULT '',
  workflow_hash TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT 'running',
  created_at DOUBLE PRECISION NOT NULL DEFAULT 0, finished_at DOUBLE PRECISION NOT NULL DEFAULT 0,
  inputs_json TEXT NOT NULL DEFAULT '{}', options_json TEXT NOT NULL DEFAULT '{}',
  error TEXT NOT NULL DEFAULT '', pid BIGINT NOT NULL DEFAULT 0, tokens_in BIGINT NOT NULL DEFAULT 0,
  tokens_out BIGINT NOT NULL DEFAULT 0, calls BIGINT NOT NULL DEFAULT 0,
  cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0, nodes_total BIGINT NOT NULL DEFAULT 0,
  nodes_succeeded BIGINT NOT NULL DEFAULT 0, nodes_failed BIGINT NOT NULL DEFAULT 0,
  nodes_skipped BIGINT NOT NULL DEFAULT 0, cancel_requested BOOLEAN NOT NULL DEFAULT false,
  cost_unknown BOOLEAN NOT NULL DEFAULT false, session TEXT NOT NULL DEFAULT '',
  label TEXT NOT NULL DEFAULT '', owner TEXT NOT NULL DEFAULT '',
  lease_until DOUBLE PRECISION NOT NULL DEFAULT 0);
CREATE INDEX runs_by_created ON runs (created_at, id);
CREATE INDEX runs_by_parent ON runs (parent_id, created_at);
CREATE TABLE events (
  seq BIGSERIAL PRIMARY KEY, run_id TEXT COLLATE "C" NOT NULL, ts DOUBLE PRECISION NOT NULL,
  type TEXT NOT NULL, node TEXT COLLATE "C" NOT NULL, iteration INTEGER NOT NULL,
  item INTEGER NOT NULL, attempt INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX events_by_run ON events (run_id, seq);
CREATE INDEX events_by_node ON events (run_id, node, seq);
CREATE TABLE node_runs (
  run_id TEXT COLLATE "C" NOT NULL, node TEXT COLLATE "C" NOT NULL, iteration INTEGER NOT NULL,
  item INTEGER NOT NULL, attempt INTEGER NOT NULL, status TEXT NOT NULL,
  started_at DOUBLE PRECISION NOT NULL, finished_at DOUBLE PRECISION NOT NULL,
  tokens_in BIGINT NOT NULL, tokens_out BIGINT NOT NULL, cost_usd DOUBLE PRECISION NOT NULL,
  calls BIGINT NOT NULL, model TEXT NOT NULL, error TEXT NOT NULL, output_blob TEXT NOT NULL,
  cached BOOLEAN NOT NULL, cost_unknown BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (run_id, node, iteration, item, attempt));
CREATE TABLE llm_calls (
  id BIGSERIAL PRIMARY KEY, run_id TEXT COLLATE "C" NOT NULL, node TEXT COLLATE "C" NOT NULL,
  iteration INTEGER NOT NULL, item INTEGER NOT NULL, attempt INTEGER NOT NULL,
  provider TEXT NOT NULL, model TEXT NOT NULL, tokens_in BIGINT NOT NULL, tokens_out BIGINT NOT NULL,
  tokens_cached_read BIGINT NOT NULL, tokens_cache_write BIGINT NOT NULL,
  tokens_reasoning BIGINT NOT NULL, cost_usd DOUBLE PRECISION, started_at DOUBLE PRECISION NOT NULL,
  latency_ms DOUBLE PRECISION NOT NULL, ttft_ms DOUBLE PRECISION NOT NULL, status TEXT NOT NULL,
  error TEXT NOT NULL, request_blob TEXT NOT NULL, response_blob TEXT NOT NULL,
  request_hash TEXT NOT NULL DEFAULT '', reply_blob TEXT NOT NULL DEFAULT '',
  response_model TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '');
CREATE INDEX llm_calls_by_node ON llm_calls (run_id, node, id);
CREATE INDEX llm_calls_by_start ON llm_calls (started_at);
CREATE TABLE artifacts (
  run_id TEXT COLLATE "C" NOT NULL, name TEXT COLLATE "C" NOT NULL, media_type TEXT NOT NULL,
  blob TEXT NOT NULL, produced_by TEXT NOT NULL, derived_from TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (run_id, name));
CREATE INDEX artifacts_by_name ON artifacts (name, created_at);
CREATE TABLE approvals (
  id BIGSERIAL, run_id TEXT COLLATE "C" NOT NULL, node TEXT COLLATE "C" NOT NULL,
  iteration INTEGER NOT NULL, item INTEGER NOT NULL, decision TEXT NOT NULL, text TEXT NOT NULL,
  "by" TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL, PRIMARY KEY (run_id, node, iteration, item));
CREATE TABLE cache (
  key TEXT COLLATE "C" PRIMARY KEY, output_blob TEXT NOT NULL, node TEXT NOT NULL, model TEXT NOT NULL,
  tokens_in BIGINT NOT NULL, tokens_out BIGINT NOT NULL, cost_usd DOUBLE PRECISION NOT NULL,
  created_at DOUBLE PRECISION NOT NULL);
CREATE TABLE blobs (
  hash TEXT COLLATE "C" PRIMARY KEY, size BIGINT NOT NULL, data BYTEA NOT NULL,
  created_at DOUBLE PRECISION NOT NULL DEFAULT 0);
CREATE TABLE live (
  run_id TEXT COLLATE "C" NOT NULL, node TEXT COLLATE "C" NOT NULL, iteration INTEGER NOT NULL,
  item INTEGER NOT NULL, attempt INTEGER NOT NULL, text TEXT NOT NULL,
  updated_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (run_id, node, iteration, item, attempt));
-- A fenced commit's first write: it locks the run's row and fails the transaction unless the
-- run's owner is still the committer (so the rest of the pipelined batch is never applied).
CREATE FUNCTION specwright_fence(p_run TEXT, p_owner TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
  cur TEXT;
BEGIN
  SELECT owner INTO cur FROM runs WHERE id = p_run FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'SWL01',
      MESSAGE = format('lease lost: run %s is now orchestrated by nobody (the run is not in the store)', p_run);
  END IF;
  IF cur IS DISTINCT FROM p_owner THEN
    RAISE EXCEPTION USING ERRCODE = 'SWL01', MESSAGE = format('lease lost: run %s is now orchestrated by %s',
      p_run, CASE WHEN cur = '' THEN 'nobody' ELSE cur END);
  END IF;
END $$;
)sql";

/// Migration 3: SQLite's schema version 7, the windows of schedules that came due.
constexpr const char* kPgSchemaFires = R"sql(
CREATE TABLE schedule_fires (
  schedule TEXT COLLATE "C" NOT NULL, fire_at DOUBLE PRECISION NOT NULL, run_id TEXT COLLATE "C" NOT NULL,
  status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '',
  claimed_at DOUBLE PRECISION NOT NULL DEFAULT 0, claimed_by TEXT NOT NULL DEFAULT '',
  started_at DOUBLE PRECISION NOT NULL DEFAULT 0, pid BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (schedule, fire_at));
CREATE INDEX schedule_fires_by_run ON schedule_fires (run_id);
CREATE INDEX schedule_fires_by_status ON schedule_fires (status, fire_at);
)sql";

struct Migration {
  const char* sql;
  const char* description;
};
const Migration kPgMigrations[kPgSchemaVersion] = {
    {kPgSchemaV1, "the data model (SQLite schema version 6)"},
    {kPgQueueSchemaSql, "the work queue: tasks and workers"},
    {kPgSchemaFires, "schedule fires (SQLite schema version 7)"},
};

#define SW_EVENT_COLS "seq, run_id, ts, type, node, iteration, item, attempt, data"
#define SW_ARTIFACT_COLS "run_id, name, media_type, blob, produced_by, derived_from, created_at"
#define SW_APPROVAL_COLS "run_id, node, iteration, item, decision, text, \"by\", ts"
#define SW_CACHE_COLS "key, output_blob, node, model, tokens_in, tokens_out, cost_usd, created_at"
#define SW_LIVE_COLS "run_id, node, iteration, item, attempt, text, updated_at"

// The commit's statements. The run upsert never clears a cancel request made by another
// process, except on the transition back into 'running' (a resume), where the engine's value
// wins; it never writes owner or lease_until (the work queue's).
const std::string kUpsertRun =
    "INSERT INTO runs (" SW_RUN_WRITE_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
    "$14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24) ON CONFLICT (id) DO UPDATE SET "
    SW_RUN_UPSERT_SET
    "cancel_requested = CASE WHEN runs.status <> 'running' AND excluded.status = 'running' "
    "THEN excluded.cancel_requested ELSE runs.cancel_requested OR excluded.cancel_requested END, "
    "status = excluded.status";
const std::string kInsertEvent =
    "INSERT INTO events (run_id, ts, type, node, iteration, item, attempt, data) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq";
const std::string kUpsertNodeRun =
    "INSERT INTO node_runs (" SW_NODE_RUN_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
    "$13, $14, $15, $16, $17) ON CONFLICT (run_id, node, iteration, item, attempt) DO UPDATE "
    "SET status = excluded.status, started_at = excluded.started_at, "
    "finished_at = excluded.finished_at, tokens_in = excluded.tokens_in, "
    "tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd, calls = excluded.calls, "
    "model = excluded.model, error = excluded.error, output_blob = excluded.output_blob, "
    "cached = excluded.cached, cost_unknown = excluded.cost_unknown";
const std::string kInsertLlmCall =
    "INSERT INTO llm_calls (" SW_LLM_CALL_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
    "$13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24) RETURNING id";
const std::string kUpsertArtifact =
    "INSERT INTO artifacts (" SW_ARTIFACT_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7) "
    "ON CONFLICT (run_id, name) DO UPDATE SET media_type = excluded.media_type, blob = excluded.blob, "
    "produced_by = excluded.produced_by, derived_from = excluded.derived_from, created_at = excluded.created_at";
// A gate is decided once: only a pending row changes.
const std::string kUpsertApproval =
    "INSERT INTO approvals (" SW_APPROVAL_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
    "ON CONFLICT (run_id, node, iteration, item) DO UPDATE SET decision = excluded.decision, "
    "text = excluded.text, \"by\" = excluded.\"by\", ts = excluded.ts WHERE approvals.decision = 'pending'";
const std::string kUpsertCache =
    "INSERT INTO cache (" SW_CACHE_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key) DO UPDATE SET "
    "output_blob = excluded.output_blob, node = excluded.node, model = excluded.model, "
    "tokens_in = excluded.tokens_in, tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd, "
    "created_at = excluded.created_at";
const std::string kUpsertLive =
    "INSERT INTO live (" SW_LIVE_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7) "
    "ON CONFLICT (run_id, node, iteration, item, attempt) DO UPDATE SET text = excluded.text, "
    "updated_at = excluded.updated_at";
const std::string kDeleteLive =
    "DELETE FROM live WHERE run_id = $1 AND node = $2 AND iteration = $3 AND item = $4 AND attempt = $5";
const std::string kDeleteRunLive = "DELETE FROM live WHERE run_id = $1";
// A blob written again is young again (gc's grace period counts from the last write), at every
// write: gc's sweep keeps a blob a commit came to reference after gc listed it because of this
// (see CollectGarbage).
const std::string kInsertBlob =
    "INSERT INTO blobs (hash, size, data, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO UPDATE "
    "SET created_at = greatest(blobs.created_at, excluded.created_at)";

double WallNow() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

RunRecord ReadRun(const Rows& r, int i) {
  RunRecord x;
  x.id = r.Str(i, 0);
  x.parent_id = r.Str(i, 1);
  x.workflow_file = r.Str(i, 2);
  x.workflow_name = r.Str(i, 3);
  x.workflow_hash = r.Str(i, 4);
  x.status = r.Str(i, 5);
  x.created_at = r.Real(i, 6);
  x.finished_at = r.Real(i, 7);
  x.inputs_json = r.Str(i, 8);
  x.options_json = r.Str(i, 9);
  x.error = r.Str(i, 10);
  x.pid = r.Int(i, 11);
  x.tokens_in = r.Int(i, 12);
  x.tokens_out = r.Int(i, 13);
  x.calls = r.Int(i, 14);
  x.cost_usd = r.Real(i, 15);
  x.nodes_total = r.Int(i, 16);
  x.nodes_succeeded = r.Int(i, 17);
  x.nodes_failed = r.Int(i, 18);
  x.nodes_skipped = r.Int(i, 19);
  x.cancel_requested = r.Bool(i, 20);
  x.cost_unknown = r.Bool(i, 21);
  x.session = r.Str(i, 22);
  x.label = r.Str(i, 23);
  x.owner = r.Str(i, 24);
  x.lease_until = r.Real(i, 25);
  return x;
}

Event ReadEvent(const Rows& r, int i) {
  Event e;
  e.seq = r.Int(i, 0);
  e.run_id = r.Str(i, 1);
  e.ts = r.Real(i, 2);
  e.type = r.Str(i, 3);
  e.node = r.Str(i, 4);
  e.iteration = static_cast<int>(r.Int(i, 5));
  e.item = static_cast<int>(r.Int(i, 6));
  e.attempt = static_cast<int>(r.Int(i, 7));
  e.data = r.Str(i, 8);
  return e;
}

NodeRunRecord ReadNodeRun(const Rows& r, int i) {
  NodeRunRecord n;
  n.run_id = r.Str(i, 0);
  n.node = r.Str(i, 1);
  n.iteration = static_cast<int>(r.Int(i, 2));
  n.item = static_cast<int>(r.Int(i, 3));
  n.attempt = static_cast<int>(r.Int(i, 4));
  n.status = r.Str(i, 5);
  n.started_at = r.Real(i, 6);
  n.finished_at = r.Real(i, 7);
  n.tokens_in = r.Int(i, 8);
  n.tokens_out = r.Int(i, 9);
  n.cost_usd = r.Real(i, 10);
  n.calls = r.Int(i, 11);
  n.model = r.Str(i, 12);
  n.error = r.Str(i, 13);
  n.output_blob = r.Str(i, 14);
  n.cached = r.Bool(i, 15);
  n.cost_unknown = r.Bool(i, 16);
  return n;
}

LlmCallRecord ReadLlmCall(const Rows& r, int i) {
  LlmCallRecord c;
  c.id = r.Int(i, 0);
  c.run_id = r.Str(i, 1);
  c.node = r.Str(i, 2);
  c.iteration = static_cast<int>(r.Int(i, 3));
  c.item = static_cast<int>(r.Int(i, 4));
  c.attempt = static_cast<int>(r.Int(i, 5));
  c.provider = r.Str(i, 6);
  c.model = r.Str(i, 7);
  c.tokens_in = r.Int(i, 8);
  c.tokens_out = r.Int(i, 9);
  c.tokens_cached_read = r.Int(i, 10);
  c.tokens_cache_write = r.Int(i, 11);
  c.tokens_reasoning = r.Int(i, 12);
  if (!r.IsNull(i, 13)) c.cost_usd = r.Real(i, 13);
  c.started_at = r.Real(i, 14);
  c.latency_ms = r.Real(i, 15);
  c.ttft_ms = r.Real(i, 16);
  c.status = r.Str(i, 17);
  c.error = r.Str(i, 18);
  c.request_blob = r.Str(i, 19);
  c.response_blob = r.Str(i, 20);
  c.request_hash = r.Str(i, 21);
  c.reply_blob = r.Str(i, 22);
  c.response_model = r.Str(i, 23);
  ReadCallDetail(r.Str(i, 24), c);
  return c;
}

ArtifactRecord ReadArtifact(const Rows& r, int i) {
  return ArtifactRecord{r.Str(i, 0), r.Str(i, 1), r.Str(i, 2), r.Str(i, 3), r.Str(i, 4), r.Str(i, 5), r.Real(i, 6)};
}

ApprovalRecord ReadApproval(const Rows& r, int i) {
  return ApprovalRecord{r.Str(i, 0),  r.Str(i, 1), static_cast<int>(r.Int(i, 2)), static_cast<int>(r.Int(i, 3)),
                        r.Str(i, 4),  r.Str(i, 5), r.Str(i, 6),                    r.Real(i, 7)};
}

LiveText ReadLive(const Rows& r, int i) {
  return LiveText{r.Str(i, 0), r.Str(i, 1), static_cast<int>(r.Int(i, 2)), static_cast<int>(r.Int(i, 3)),
                  static_cast<int>(r.Int(i, 4)), r.Str(i, 5), r.Real(i, 6), false};
}

CacheEntry ReadCache(const Rows& r, int i) {
  return CacheEntry{r.Str(i, 0), r.Str(i, 1), r.Str(i, 2), r.Str(i, 3),
                    r.Int(i, 4), r.Int(i, 5), r.Real(i, 6), r.Real(i, 7)};
}

template <typename T>
std::vector<T> All(const Rows& rows, T (*read)(const Rows&, int)) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (int i = 0; i < rows.size(); ++i) out.push_back(read(rows, i));
  return out;
}

/// TextArray is a PostgreSQL array literal of strings ('{"a","b"}'), for = ANY($1::text[]).
std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

/// Retryable says a commit failed without applying anything and may be sent again: the
/// server rolled it back (a serialization failure, a deadlock), or the connection was found
/// dead before anything was sent on it. Once the batch is sent, a lost connection may or may
/// not have committed it, and the caller is told so instead.
bool Retryable(const Status& s) {
  return s.code() == Code::kUnavailable && (s.message().find("serialization failure") != std::string::npos ||
                                            s.message().find("deadlock detected") != std::string::npos ||
                                            s.message().find(pg::kLostBeforeSending) != std::string::npos);
}

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgres(const std::string& url, const StoreOptions& options) {
  SW_ASSIGN_OR_RETURN(std::unique_ptr<PgStore> store, PgStore::Open(url, options));
  return std::unique_ptr<Store>(std::move(store));
}

PgStore::PgStore(std::string url, const StoreOptions& options)
    : url_(std::move(url)), shown_(pg::RedactUrl(url_)), options_(options) {
  if (options_.max_connections < 1) options_.max_connections = 1;
}

PgStore::~PgStore() = default;

Result<std::unique_ptr<PgStore>> PgStore::Open(const std::string& url, const StoreOptions& options) {
  if (!pg::IsPostgresUrl(url)) return InvalidInput("not a PostgreSQL URL: " + pg::RedactUrl(url));
  std::unique_ptr<PgStore> store(new PgStore(url, options));
  SW_RETURN_IF_ERROR(store->Init());
  return store;
}

Result<std::unique_ptr<pg::Conn>> PgStore::Connect() {
  SW_ASSIGN_OR_RETURN(auto conn, pg::Conn::Open(url_, options_.connect_timeout));
  // Reads and writes are bounded in time (gc and migrations lift the bound for themselves);
  // a transaction left open by a client that vanished cannot hold its locks for long.
  // Without fsync_every_commit a commit does not wait for the server's disk: like SQLite's
  // WAL at synchronous=NORMAL, it survives any crash of ours, not the server machine's.
  std::string setup =
      "SET statement_timeout = '60s'; SET idle_in_transaction_session_timeout = '300s'; "
      "SET extra_float_digits = 3;";
  if (!options_.fsync_every_commit) setup += " SET synchronous_commit = off;";
  SW_RETURN_IF_ERROR(conn->ExecScript(setup).Annotate("setting up a connection to " + shown_));
  return conn;
}

Result<std::unique_ptr<pg::Conn>> PgStore::Acquire() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < options_.max_connections; });
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
  }
  auto conn = Connect();
  if (!conn.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    --open_;
    cv_.notify_one();
  }
  return conn;
}

void PgStore::Release(std::unique_ptr<pg::Conn> conn) {
  std::vector<std::unique_ptr<pg::Conn>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn && conn->ok()) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
      open_ -= static_cast<int>(idle_.size());
      dropped.swap(idle_);
    }
  }
  cv_.notify_all();
}

template <typename F>
auto PgStore::WithConn(F&& f) -> decltype(f(std::declval<pg::Conn&>())) {
  auto conn = Acquire();
  if (!conn.ok()) return conn.status();
  auto result = f(**conn);
  Release(std::move(conn).value());
  return result;
}

Result<Rows> PgStore::Query(const std::string& what, const std::string& sql, const std::vector<Param>& params,
                            bool idempotent) {
  for (int attempt = 0;; ++attempt) {
    auto conn = Acquire();
    if (!conn.ok()) return conn.status().Annotate(what);
    auto rows = (*conn)->Exec(sql, params);
    Release(std::move(conn).value());
    if (rows.ok()) return rows;
    // Once more on a fresh connection: a read always, a write only when it was never sent.
    const Status& s = rows.status();
    if (attempt == 0 && s.code() == Code::kUnavailable &&
        (idempotent || s.message().find(pg::kLostBeforeSending) != std::string::npos))
      continue;
    return rows.status().Annotate(what + " in " + shown_);
  }
}

Status PgStore::Init() {
  SW_ASSIGN_OR_RETURN(auto conn, Acquire());
  const std::string what = "opening the store in " + shown_;
  auto migrate = [&](pg::Conn& c) -> Status {
    // Most opens find the schema current and take no lock.
    SW_ASSIGN_OR_RETURN(Rows has, c.Exec("SELECT to_regclass('schema_migrations') IS NOT NULL"));
    int64_t version = 0;
    if (has.Bool(0, 0)) {
      SW_ASSIGN_OR_RETURN(Rows v, c.Exec("SELECT coalesce(max(version), 0) FROM schema_migrations"));
      version = v.Int(0, 0);
      if (version == kPgSchemaVersion) return Status::Ok();
    } else if (!options_.create) {
      return NotFound("no specwright store in " + shown_ + " (it has no schema_migrations table)");
    }
    auto newer = [&](int64_t v) {
      return InvalidInput(shown_ + ": schema version " + std::to_string(v) + " is newer than this specwright supports (" +
                          std::to_string(kPgSchemaVersion) + "); upgrade specwright");
    };
    if (version > kPgSchemaVersion) return newer(version);
    // One transaction under one lock: of processes opening a new database at once, the first
    // migrates and the others find nothing left to do.
    SW_RETURN_IF_ERROR(c.Begin());
    auto fail = [&](Status s) {
      (void)c.Rollback();
      return s;
    };
    Status s = c.ExecScript("SET LOCAL statement_timeout = 0");
    if (s.ok()) s = c.Exec("SELECT pg_advisory_xact_lock($1)", {Int(kMigrateLock)}).status();
    if (s.ok())
      s = c.ExecScript(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
          "applied_at DOUBLE PRECISION NOT NULL, description TEXT NOT NULL)");
    if (!s.ok()) return fail(s);
    auto v = c.Exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (!v.ok()) return fail(v.status());
    version = v->Int(0, 0);
    if (version > kPgSchemaVersion) return fail(newer(version));
    for (int64_t m = version; m < kPgSchemaVersion; ++m) {
      s = c.ExecScript(kPgMigrations[m].sql).Annotate("migrating to schema version " + std::to_string(m + 1));
      if (s.ok())
        s = c.Exec("INSERT INTO schema_migrations (version, applied_at, description) VALUES ($1, $2, $3)",
                   {Int(m + 1), Real(WallNow()), Text(kPgMigrations[m].description)})
                .status();
      if (!s.ok()) return fail(s);
    }
    s = c.Commit();
    return s.ok() ? s : fail(s);
  };
  Status s = migrate(*conn);
  Release(std::move(conn));
  return s.Annotate(what);
}

Status PgStore::Commit(Batch& batch) {
  if (batch.empty()) return Status::Ok();
  for (const auto& [hash, data] : batch.blobs) {
    if (!IsHexDigest(hash)) return InvalidInput("commit: invalid blob hash " + Quote(hash));
    if (data.size() > kPgMaxBlobBytes)
      return InvalidInput("commit: blob " + hash + " is " + std::to_string(data.size()) +
                          " bytes, over the PostgreSQL store's limit of " + std::to_string(kPgMaxBlobBytes) + " bytes");
  }
  std::vector<Statement> st;
  std::vector<const char*> writes;  // what each statement writes, for an error's message
  auto add = [&](const char* what, Statement s) {
    st.push_back(std::move(s));
    writes.push_back(what);
  };
  st.reserve(8 + batch.events.size() + batch.node_runs.size() + batch.llm_calls.size() + batch.live.size() +
             batch.blobs.size());
  add("begin", {"BEGIN", {}});
  // The gc lock, shared; then each run whose events this batch appends, in a fixed order.
  std::set<std::string> event_runs;
  for (const Event& e : batch.events) event_runs.insert(e.run_id);
  {
    Statement locks{"SELECT pg_advisory_xact_lock_shared($1)", {Int(kGcLock)}};
    for (const std::string& run : event_runs) {
      locks.params.push_back(Text(run));
      locks.sql += ", pg_advisory_xact_lock(" + std::to_string(kRunEventsLockClass) + ", hashtext($" +
                   std::to_string(locks.params.size()) + "))";
    }
    add("locks", std::move(locks));
  }
  if (batch.fence) add("the fence", {"SELECT specwright_fence($1, $2)", {Text(batch.fence->run_id), Text(batch.fence->owner)}});
  if (batch.run) {
    const RunRecord& r = *batch.run;
    add("runs", {kUpsertRun,
                  {Text(r.id), Text(r.parent_id), Text(r.workflow_file), Text(r.workflow_name), Text(r.workflow_hash),
                   Text(r.status), Real(r.created_at), Real(r.finished_at), Text(r.inputs_json), Text(r.options_json),
                   Text(r.error), Int(r.pid), Int(r.tokens_in), Int(r.tokens_out), Int(r.calls), Real(r.cost_usd),
                   Int(r.nodes_total), Int(r.nodes_succeeded), Int(r.nodes_failed), Int(r.nodes_skipped),
                   Bool(r.cancel_requested), Bool(r.cost_unknown), Text(r.session), Text(r.label)}});
  }
  size_t first_event = st.size();
  for (const Event& e : batch.events)
    add("events", {kInsertEvent,
                  {Text(e.run_id), Real(e.ts), Text(e.type), Text(e.node), Int(e.iteration), Int(e.item),
                   Int(e.attempt), Text(e.data)}});
  for (const NodeRunRecord& n : batch.node_runs)
    add("node_runs", {kUpsertNodeRun,
                  {Text(n.run_id), Text(n.node), Int(n.iteration), Int(n.item), Int(n.attempt), Text(n.status),
                   Real(n.started_at), Real(n.finished_at), Int(n.tokens_in), Int(n.tokens_out), Real(n.cost_usd),
                   Int(n.calls), Text(n.model), Text(n.error), Text(n.output_blob), Bool(n.cached),
                   Bool(n.cost_unknown)}});
  size_t first_call = st.size();
  for (const LlmCallRecord& c : batch.llm_calls)
    add("llm_calls", {kInsertLlmCall,
                  {Text(c.run_id), Text(c.node), Int(c.iteration), Int(c.item), Int(c.attempt), Text(c.provider),
                   Text(c.model), Int(c.tokens_in), Int(c.tokens_out), Int(c.tokens_cached_read),
                   Int(c.tokens_cache_write), Int(c.tokens_reasoning), c.cost_usd ? Real(*c.cost_usd) : Null(),
                   Real(c.started_at), Real(c.latency_ms), Real(c.ttft_ms), Text(c.status), Text(c.error),
                   Text(c.request_blob), Text(c.response_blob), Text(c.request_hash), Text(c.reply_blob),
                   Text(c.response_model), Text(CallDetail(c))}});
  for (const ArtifactRecord& a : batch.artifacts)
    add("artifacts", {kUpsertArtifact,
                  {Text(a.run_id), Text(a.name), Text(a.media_type), Text(a.blob), Text(a.produced_by),
                   Text(a.derived_from), Real(a.created_at)}});
  for (const ApprovalRecord& a : batch.approvals)
    add("approvals", {kUpsertApproval,
                  {Text(a.run_id), Text(a.node), Int(a.iteration), Int(a.item), Text(a.decision), Text(a.text),
                   Text(a.by), Real(a.ts)}});
  for (const CacheEntry& c : batch.cache)
    add("cache", {kUpsertCache,
                  {Text(c.key), Text(c.output_blob), Text(c.node), Text(c.model), Int(c.tokens_in), Int(c.tokens_out),
                   Real(c.cost_usd), Real(c.created_at)}});
  for (const LiveText& l : batch.live) {
    if (l.done && l.node.empty()) {
      add("live", {kDeleteRunLive, {Text(l.run_id)}});
    } else if (l.done) {
      add("live", {kDeleteLive, {Text(l.run_id), Text(l.node), Int(l.iteration), Int(l.item), Int(l.attempt)}});
    } else {
      add("live", {kUpsertLive,
                    {Text(l.run_id), Text(l.node), Int(l.iteration), Int(l.item), Int(l.attempt), Text(l.text),
                     Real(l.updated_at)}});
    }
  }
  double now = WallNow();
  for (const auto& [hash, data] : batch.blobs)
    add("blobs", {kInsertBlob, {Text(hash), Int(static_cast<int64_t>(data.size())), Bytes(data), Real(now)}});
  // Watchers (the web UI) may wake on a run's new events; delivered at COMMIT, if at all.
  for (const std::string& run : event_runs) add("notify", {"SELECT pg_notify('specwright_events', $1)", {Text(run)}});
  add("commit", {"COMMIT", {}});

  Status last;
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5 << attempt));
    auto conn = Acquire();
    if (!conn.ok()) return conn.status().Annotate("commit to " + shown_);
    auto results = (*conn)->Pipeline(st);
    Release(std::move(conn).value());
    if (results.ok()) {
      for (size_t i = 0; i < batch.events.size(); ++i) batch.events[i].seq = (*results)[first_event + i].Int(0, 0);
      for (size_t i = 0; i < batch.llm_calls.size(); ++i) batch.llm_calls[i].id = (*results)[first_call + i].Int(0, 0);
      return Status::Ok();
    }
    last = results.status();
    const std::string& m = last.message();
    if (size_t at = m.find("lease lost: "); at != std::string::npos && m.find("SWL01") != std::string::npos) {
      std::string text = m.substr(at);
      text = text.substr(0, text.find(" [SQLSTATE"));
      return Failed(text);
    }
    if (!Retryable(last)) break;
  }
  // "statement N of M: ..." names the failed statement: say which table it was writing.
  if (size_t at = last.message().find("statement "); at != std::string::npos) {
    size_t n = std::strtoul(last.message().c_str() + at + 10, nullptr, 10);
    if (n >= 1 && n <= writes.size()) last = last.Annotate(std::string("writing ") + writes[n - 1]);
  }
  if (last.code() == Code::kUnavailable && !Retryable(last))
    return last.Annotate("commit to " + shown_ + " (the connection was lost while committing: the batch may or may not be written)");
  return last.Annotate("commit to " + shown_);
}

Result<std::optional<RunRecord>> PgStore::GetRun(const std::string& id) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading runs", "SELECT " SW_RUN_COLS " FROM runs WHERE id = $1", {Text(id)}));
  if (rows.empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(ReadRun(rows, 0));
}

Result<std::vector<RunRecord>> PgStore::ListRuns(int limit, bool include_children) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("listing runs",
                                       "SELECT " SW_RUN_COLS " FROM runs WHERE $1 OR parent_id = '' "
                                       "ORDER BY created_at DESC, id DESC LIMIT $2",
                                       {Bool(include_children), limit > 0 ? Int(limit) : Null()}));
  return All(rows, ReadRun);
}

Result<std::string> PgStore::ResolveRunId(const std::string& id_or_prefix) {
  SW_RETURN_IF_ERROR(ValidateRunId(id_or_prefix));
  if (id_or_prefix == "latest") {
    SW_ASSIGN_OR_RETURN(Rows rows, Query("reading runs",
                                         "SELECT id FROM runs WHERE parent_id = '' ORDER BY created_at DESC, id DESC "
                                         "LIMIT 1"));
    if (rows.empty()) return NotFound("no run matches 'latest' (the store has no runs)");
    return rows.Str(0, 0);
  }
  // Valid ids are letters, digits and ._-, so every id with this prefix sorts in
  // [prefix, prefix + "\x7f") bytewise.
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading runs", "SELECT id FROM runs WHERE id >= $1 AND id < $2 ORDER BY id LIMIT 6",
                                       {Text(id_or_prefix), Text(id_or_prefix + "\x7f")}));
  if (rows.empty()) return NotFound("no run matches '" + id_or_prefix + "'");
  if (rows.Str(0, 0) == id_or_prefix || rows.size() == 1) return rows.Str(0, 0);
  std::string list;
  for (int i = 0; i < rows.size() && i < 5; ++i) list += (i ? ", " : "") + rows.Str(i, 0);
  if (rows.size() > 5) list += ", ...";
  return InvalidInput("run id '" + id_or_prefix + "' is ambiguous: " + list);
}

Result<std::vector<Event>> PgStore::ListEvents(const std::string& run_id, int64_t after_seq) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading events",
                                       "SELECT " SW_EVENT_COLS " FROM events WHERE run_id = $1 AND seq > $2 ORDER BY seq",
                                       {Text(run_id), Int(after_seq)}));
  return All(rows, ReadEvent);
}

Result<std::vector<NodeRunRecord>> PgStore::ListNodeRuns(const std::string& run_id) {
  // Start order, ties in key order.
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading node_runs",
                                       "SELECT " SW_NODE_RUN_COLS " FROM node_runs WHERE run_id = $1 "
                                       "ORDER BY started_at, node, iteration, item, attempt",
                                       {Text(run_id)}));
  return All(rows, ReadNodeRun);
}

Result<std::vector<LlmCallRecord>> PgStore::ListLlmCalls(const std::string& run_id) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading llm_calls",
                                       "SELECT id, " SW_LLM_CALL_COLS " FROM llm_calls WHERE run_id = $1 ORDER BY id",
                                       {Text(run_id)}));
  return All(rows, ReadLlmCall);
}

Result<std::vector<ArtifactRecord>> PgStore::ListArtifacts(const std::string& run_id) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading artifacts",
                                       "SELECT " SW_ARTIFACT_COLS " FROM artifacts WHERE run_id = $1 "
                                       "ORDER BY created_at, name",
                                       {Text(run_id)}));
  return All(rows, ReadArtifact);
}

Result<std::vector<ApprovalRecord>> PgStore::ListApprovals(const std::string& run_id) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading approvals",
                                       "SELECT " SW_APPROVAL_COLS " FROM approvals WHERE run_id = $1 ORDER BY ts, id",
                                       {Text(run_id)}));
  return All(rows, ReadApproval);
}

Result<std::vector<Event>> PgStore::ListEventsOfType(const std::string& run_id, const std::string& type) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading events",
                                       "SELECT " SW_EVENT_COLS " FROM events WHERE run_id = $1 AND type = $2 ORDER BY seq",
                                       {Text(run_id), Text(type)}));
  return All(rows, ReadEvent);
}

Result<std::vector<NodeRunRecord>> PgStore::ListNodeRunsOf(const std::string& run_id, const std::string& node) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading node_runs",
                                       "SELECT " SW_NODE_RUN_COLS " FROM node_runs WHERE run_id = $1 AND node = $2 "
                                       "ORDER BY started_at, iteration, item, attempt",
                                       {Text(run_id), Text(node)}));
  return All(rows, ReadNodeRun);
}

Result<std::vector<LlmCallRecord>> PgStore::ListLlmCallsOf(const std::string& run_id, const std::string& node) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading llm_calls",
                                       "SELECT id, " SW_LLM_CALL_COLS " FROM llm_calls WHERE run_id = $1 AND node = $2 "
                                       "ORDER BY id",
                                       {Text(run_id), Text(node)}));
  return All(rows, ReadLlmCall);
}

Result<std::vector<Event>> PgStore::ListNodeEvents(const std::string& run_id, const std::string& node) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading events",
                                       "SELECT " SW_EVENT_COLS " FROM events WHERE run_id = $1 AND node = $2 ORDER BY seq",
                                       {Text(run_id), Text(node)}));
  return All(rows, ReadEvent);
}

Result<std::vector<RunRecord>> PgStore::ListSubRuns(const std::string& run_id) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("listing sub-runs",
                                       "WITH RECURSIVE tree(id) AS (SELECT id FROM runs WHERE parent_id = $1 UNION "
                                       "SELECT runs.id FROM runs JOIN tree ON runs.parent_id = tree.id) "
                                       "SELECT " SW_RUN_COLS " FROM runs WHERE id IN (SELECT id FROM tree) "
                                       "ORDER BY created_at, id",
                                       {Text(run_id)}));
  return All(rows, ReadRun);
}

Result<std::vector<RunRecord>> PgStore::ListRunsSince(double since) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("listing runs",
                                       "SELECT " SW_RUN_COLS " FROM runs WHERE created_at >= $1 ORDER BY created_at, id",
                                       {Real(since)}));
  return All(rows, ReadRun);
}

Result<std::vector<LlmCallRecord>> PgStore::ListLlmCallsSince(double since) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading llm_calls",
                                       "SELECT id, " SW_LLM_CALL_COLS " FROM llm_calls WHERE started_at >= $1 "
                                       "ORDER BY started_at, id",
                                       {Real(since)}));
  return All(rows, ReadLlmCall);
}

Result<std::vector<ArtifactRecord>> PgStore::ListArtifactsNamed(const std::string& name) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading artifacts",
                                       "SELECT " SW_ARTIFACT_COLS " FROM artifacts WHERE name = $1 "
                                       "ORDER BY created_at DESC, run_id DESC",
                                       {Text(name)}));
  return All(rows, ReadArtifact);
}

Result<std::optional<CacheEntry>> PgStore::GetCache(const std::string& key) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading cache", "SELECT " SW_CACHE_COLS " FROM cache WHERE key = $1", {Text(key)}));
  if (rows.empty()) return std::optional<CacheEntry>();
  return std::optional<CacheEntry>(ReadCache(rows, 0));
}

Result<std::vector<LiveText>> PgStore::ListLive(const std::string& run_id) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading live",
                                       "SELECT " SW_LIVE_COLS " FROM live WHERE run_id = $1 "
                                       "ORDER BY node, iteration, item, attempt",
                                       {Text(run_id)}));
  return All(rows, ReadLive);
}

Result<std::string> PgStore::GetBlob(const std::string& hash) {
  if (!IsHexDigest(hash)) return InvalidInput("invalid blob hash " + Quote(hash) + ": want 32 hex digits");
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading blobs", "SELECT data FROM blobs WHERE hash = $1", {Text(hash)}));
  if (rows.empty()) return NotFound("blob " + hash + " not found");
  return rows.Bytes(0, 0);
}

Status PgStore::RequestCancel(const std::string& run_id) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("requesting cancel of run '" + run_id + "'",
                                       "UPDATE runs SET cancel_requested = true WHERE id = $1", {Text(run_id)}));
  if (rows.affected == 0) return NotFound("no run '" + run_id + "'");
  return Status::Ok();
}

Result<bool> PgStore::CancelRequested(const std::string& run_id) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading runs", "SELECT cancel_requested FROM runs WHERE id = $1", {Text(run_id)}));
  if (rows.empty()) return NotFound("no run '" + run_id + "'");
  return rows.Bool(0, 0);
}

Result<bool> PgStore::ClaimRun(const std::string& run_id, const std::string& seen_status, int64_t seen_pid,
                               int64_t pid) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("claiming run '" + run_id + "'",
                                       "UPDATE runs SET status = 'running', pid = $1 WHERE id = $2 AND status = $3 "
                                       "AND pid = $4",
                                       {Int(pid), Text(run_id), Text(seen_status), Int(seen_pid)}, false));
  return rows.affected == 1;
}

// ---------------------------------------------------------------- schedule fires

namespace {

std::vector<FireRecord> ReadFires(const Rows& r) {
  std::vector<FireRecord> out;
  for (int i = 0; i < r.size(); ++i) {
    FireRecord f;
    f.schedule = r.Str(i, 0);
    f.fire_at = r.Real(i, 1);
    f.run_id = r.Str(i, 2);
    f.status = r.Str(i, 3);
    f.error = r.Str(i, 4);
    f.note = r.Str(i, 5);
    f.claimed_at = r.Real(i, 6);
    f.claimed_by = r.Str(i, 7);
    f.started_at = r.Real(i, 8);
    f.pid = r.Int(i, 9);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

Result<bool> PgStore::ClaimFire(const FireRecord& f) {
  // Not idempotent across a lost connection only in what it reports: a retry after the row went
  // in says false, and the window is then left claimed (started on the scheduler's next look).
  SW_ASSIGN_OR_RETURN(Rows rows, Query("claiming the fire of " + f.schedule,
                                       "INSERT INTO schedule_fires (" SW_FIRE_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, "
                                       "$8, $9, $10) ON CONFLICT (schedule, fire_at) DO NOTHING",
                                       {Text(f.schedule), Real(f.fire_at), Text(f.run_id), Text(f.status), Text(f.error),
                                        Text(f.note), Real(f.claimed_at), Text(f.claimed_by), Real(f.started_at),
                                        Int(f.pid)},
                                       false));
  return rows.affected == 1;
}

Result<std::optional<FireRecord>> PgStore::StartFire(const std::string& run_id, int64_t pid, double now) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("starting the fire of run '" + run_id + "'",
                                       "UPDATE schedule_fires SET status = 'started', started_at = $2, pid = $3 "
                                       "WHERE run_id = $1 AND status = 'claimed' RETURNING " SW_FIRE_COLS,
                                       {Text(run_id), Real(now), Int(pid)}, false));
  auto fires = ReadFires(rows);
  if (fires.empty()) return std::optional<FireRecord>();
  return std::optional<FireRecord>(std::move(fires[0]));
}

Status PgStore::FinishFire(const std::string& run_id, const std::string& status, const std::string& error) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("updating the fire of run '" + run_id + "'",
                                       "UPDATE schedule_fires SET status = $2, error = $3 WHERE run_id = $1",
                                       {Text(run_id), Text(status), Text(error)}));
  if (rows.affected == 0) return NotFound("no schedule fire of run '" + run_id + "'");
  return Status::Ok();
}

Result<std::vector<FireRecord>> PgStore::ListFires(const std::string& schedule, int limit) {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading schedule fires",
                                       schedule.empty() ? "SELECT " SW_FIRE_COLS " FROM schedule_fires WHERE $1::text = '' "
                                                          "ORDER BY fire_at DESC, schedule LIMIT $2"
                                                        : "SELECT " SW_FIRE_COLS " FROM schedule_fires WHERE schedule = $1 "
                                                          "ORDER BY fire_at DESC LIMIT $2",
                                       {Text(schedule), Int(limit > 0 ? limit : int64_t{1} << 62)}));
  return ReadFires(rows);
}

Result<std::vector<FireRecord>> PgStore::ListClaimedFires() {
  SW_ASSIGN_OR_RETURN(Rows rows, Query("reading schedule fires",
                                       "SELECT " SW_FIRE_COLS " FROM schedule_fires WHERE status = 'claimed' "
                                       "ORDER BY fire_at, schedule"));
  return ReadFires(rows);
}

namespace {

/// Blobs still named by a row: columns, and "blob" / "*_blob" members at any depth of an event's
/// data and of a run's options and inputs (a detached run's workflow_blob). Every match counts
/// (as text: a false match only keeps a blob).
#define SW_BLOB_REFS(col) \
  "(regexp_matches(" col ", '\"[A-Za-z0-9_]*blob\"\\s*:\\s*\"([0-9a-f]{32})\"', 'g'))[1]"
const char* const kBlobRefs =
    "WITH refs(h) AS (SELECT output_blob FROM node_runs UNION SELECT request_blob FROM llm_calls "
    "UNION SELECT response_blob FROM llm_calls UNION SELECT reply_blob FROM llm_calls "
    "UNION SELECT blob FROM artifacts UNION SELECT output_blob FROM cache "
    "UNION SELECT " SW_BLOB_REFS("data") " FROM events WHERE data LIKE '%blob\"%' "
    "UNION SELECT " SW_BLOB_REFS("options_json") " FROM runs WHERE options_json LIKE '%blob\"%' "
    "UNION SELECT " SW_BLOB_REFS("inputs_json") " FROM runs WHERE inputs_json LIKE '%blob\"%') ";
#undef SW_BLOB_REFS
/// Unreferenced blobs written before $1 (the grace period's start).
#define SW_UNREFERENCED "FROM blobs b WHERE b.created_at < $1 AND NOT EXISTS (SELECT 1 FROM refs WHERE refs.h = b.hash)"

/// A sweep deletes blobs in batches of at most this many, and this many bytes (at least one
/// blob), each batch a short transaction of its own under the gc lock.
constexpr int64_t kGcBatchBlobs = 500;
constexpr int64_t kGcBatchBytes = 64 << 20;

}  // namespace

// gc never makes a commit wait long. A commit holds the gc lock shared; gc takes it exclusive
// only for one bounded batch of blob deletions at a time (milliseconds), never for the runs or
// for finding the unreferenced blobs (a full scan, minutes on a big store — under the lock it
// stalled every worker's commit until statement_timeout failed it).
//  - Runs go in one transaction without the lock: a run gc takes is neither running nor queued,
//    so no commit is writing its rows (and a commit to another run touches none of them).
//  - Blobs: a barrier (the lock taken and let go at once: the commits in flight finish), then
//    the unreferenced ones older than the grace period are listed without the lock; then each
//    batch deletes, under the lock, those still older than the grace period. A commit writes
//    every blob its rows name in the same transaction, and writing a blob that exists refreshes
//    its created_at (kInsertBlob), so a blob a commit came to reference since the list was made
//    is young again and the batch keeps it; a commit after the batch writes it anew. (A commit
//    slower than the grace period could lose one: the grace period, 1 h by default, covers it.)
Result<GcReport> PgStore::CollectGarbage(const GcOptions& o) {
  const std::string what = "gc of " + shown_;
  double now = o.now > 0 ? o.now : WallNow();
  double cutoff = now - o.blob_grace_seconds;
  auto gc = [&](pg::Conn& c) -> Result<GcReport> {
    GcReport rep;
    SW_ASSIGN_OR_RETURN(Rows size, c.Exec("SELECT pg_database_size(current_database())"));
    rep.db_bytes_before = size.Int(0, 0);
    SW_RETURN_IF_ERROR(c.Begin());
    auto fail = [&](Status s) {
      (void)c.Rollback();
      return s;
    };
    Status s = c.ExecScript("SET LOCAL statement_timeout = 0");
    if (!s.ok()) return fail(s);
    // Old top-level runs that are neither running nor queued (a queued run waits for a worker;
    // both are reported as kept), and every sub-run below them.
    auto top = c.Exec("SELECT id, status FROM runs WHERE parent_id = '' AND created_at < $1 ORDER BY created_at",
                      {Real(o.before)});
    if (!top.ok()) return fail(top.status());
    for (int i = 0; i < top->size(); ++i)
      if (top->Str(i, 1) == "running" || top->Str(i, 1) == "queued") rep.runs_kept_running.push_back(top->Str(i, 0));
    // The roots are locked before anything goes: a resume or approve that claims one of them
    // meanwhile (ClaimRun's compare-and-set) waits for this transaction and then finds the run
    // gone, instead of gc deleting a run that has just started running again; and a run that
    // turned running before the lock no longer matches and stays.
    auto roots = c.Exec(
        "SELECT id FROM runs WHERE parent_id = '' AND created_at < $1 AND status NOT IN ('running', 'queued') "
        "ORDER BY id FOR UPDATE",
        {Real(o.before)});
    if (!roots.ok()) return fail(roots.status());
    std::vector<std::string> root_ids;
    for (int i = 0; i < roots->size(); ++i) root_ids.push_back(roots->Str(i, 0));
    auto tree = c.Exec(
        "WITH RECURSIVE tree(id) AS (SELECT id FROM runs WHERE id = ANY($1::text[]) UNION SELECT runs.id FROM runs JOIN tree ON "
        "runs.parent_id = tree.id) SELECT id FROM tree ORDER BY id",
        {Text(TextArray(root_ids))});
    if (!tree.ok()) return fail(tree.status());
    for (int i = 0; i < tree->size(); ++i) rep.runs_deleted.push_back(tree->Str(i, 0));
    std::string ids = TextArray(rep.runs_deleted);
    for (const char* table : {"events", "node_runs", "llm_calls", "artifacts", "approvals", "live", "tasks"}) {
      auto del = c.Exec(std::string("DELETE FROM ") + table + " WHERE run_id = ANY($1::text[])", {Text(ids)});
      if (!del.ok()) return fail(del.status());
      rep.rows_deleted += del->affected;
    }
    auto runs = c.Exec("DELETE FROM runs WHERE id = ANY($1::text[])", {Text(ids)});
    if (!runs.ok()) return fail(runs.status());
    // The queue: finished tasks older than the cutoff, unless their run may still read them
    // (a run orchestrated, queued or waiting adopts a done task whose answer it has not
    // recorded yet); any task of a run no longer in the store (never claimable again); and
    // workers that stopped before the cutoff.
    for (const char* sql :
         {"DELETE FROM tasks t WHERE t.status IN ('done', 'cancelled') AND t.finished_at < $1 AND NOT EXISTS "
          "(SELECT 1 FROM runs r WHERE r.id = t.run_id AND r.status IN ('running', 'queued', 'waiting'))",
          "DELETE FROM tasks t WHERE t.created_at < $1 AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = t.run_id)",
          "DELETE FROM workers WHERE stopped_at > 0 AND stopped_at < $1",
          // Cache entries age out with the runs (they would otherwise keep their blobs forever).
          "DELETE FROM cache WHERE created_at < $1"}) {
      auto del = c.Exec(sql, {Real(o.before)});
      if (!del.ok()) return fail(del.status());
      rep.rows_deleted += del->affected;
    }
    if (o.dry_run) {
      // A dry run measures by doing the work and rolling it back; blobs it only counts.
      auto blobs = c.Exec(std::string(kBlobRefs) + "SELECT count(*), coalesce(sum(b.size), 0)::bigint " SW_UNREFERENCED,
                          {Real(cutoff)});
      if (!blobs.ok()) return fail(blobs.status());
      rep.blobs_deleted = blobs->Int(0, 0);
      rep.blob_bytes_freed = blobs->Int(0, 1);
      SW_RETURN_IF_ERROR(c.Rollback());
      rep.db_bytes_after = rep.db_bytes_before;
      return rep;
    }
    s = c.Commit();
    if (!s.ok()) return fail(s);

    // The barrier, then the list of unreferenced blobs (in a table of this session).
    std::vector<Statement> barrier = {{"BEGIN", {}}, {"SELECT pg_advisory_xact_lock($1)", {Int(kGcLock)}}, {"COMMIT", {}}};
    SW_RETURN_IF_ERROR(c.Pipeline(barrier).status());
    SW_RETURN_IF_ERROR(c.ExecScript(
        "DROP TABLE IF EXISTS pg_temp.gc_candidates; "
        "CREATE TEMP TABLE gc_candidates (hash TEXT COLLATE \"C\" PRIMARY KEY, size BIGINT NOT NULL)"));
    SW_RETURN_IF_ERROR(c.Begin());
    s = c.ExecScript("SET LOCAL statement_timeout = 0");
    if (s.ok())
      s = c.Exec(std::string(kBlobRefs) + "INSERT INTO gc_candidates SELECT b.hash, b.size " SW_UNREFERENCED,
                 {Real(cutoff)})
              .status();
    if (s.ok()) s = c.Commit();
    if (!s.ok()) return fail(s);
    // Each batch: BEGIN, the lock, the deletion, COMMIT — one round trip, so the lock is held
    // only while the server deletes.
    std::string last;
    for (;;) {
      std::vector<Statement> batch = {
          {"BEGIN", {}},
          {"SELECT pg_advisory_xact_lock($1)", {Int(kGcLock)}},
          {"WITH page AS (SELECT hash, size FROM gc_candidates WHERE hash > $2 ORDER BY hash LIMIT $3), "
           "batch AS (SELECT hash FROM (SELECT hash, sum(size) OVER (ORDER BY hash) - size AS ahead FROM page) p "
           "WHERE ahead < $4), "
           "gone AS (DELETE FROM blobs b USING batch WHERE b.hash = batch.hash AND b.created_at < $1 RETURNING b.size) "
           "SELECT (SELECT max(hash) FROM batch), (SELECT count(*) FROM gone), "
           "(SELECT coalesce(sum(size), 0)::bigint FROM gone)",
           {Real(cutoff), Text(last), Int(kGcBatchBlobs), Int(kGcBatchBytes)}},
          {"COMMIT", {}}};
      auto done = c.Pipeline(batch);
      if (!done.ok()) {
        (void)c.Rollback();
        return done.status();
      }
      const Rows& r = (*done)[2];
      if (r.IsNull(0, 0)) break;
      last = r.Str(0, 0);
      rep.blobs_deleted += r.Int(0, 1);
      rep.blob_bytes_freed += r.Int(0, 2);
    }
    SW_RETURN_IF_ERROR(c.ExecScript("DROP TABLE IF EXISTS pg_temp.gc_candidates"));
    SW_ASSIGN_OR_RETURN(Rows running, c.Exec("SELECT count(*) FROM runs WHERE status = 'running'"));
    if (running.Int(0, 0) == 0 && (rep.rows_deleted > 0 || rep.blobs_deleted > 0 || !rep.runs_deleted.empty())) {
      SW_RETURN_IF_ERROR(c.ExecScript("SET statement_timeout = 0"));
      Status v = c.ExecScript(
          "VACUUM (ANALYZE) runs, events, node_runs, llm_calls, artifacts, approvals, cache, blobs, live, tasks, workers");
      SW_RETURN_IF_ERROR(c.ExecScript("SET statement_timeout = '60s'"));
      SW_RETURN_IF_ERROR(v);
      rep.vacuumed = true;
    }
    SW_ASSIGN_OR_RETURN(Rows after, c.Exec("SELECT pg_database_size(current_database())"));
    rep.db_bytes_after = after.Int(0, 0);
    return rep;
  };
  auto rep = WithConn(gc);
  if (!rep.ok()) return rep.status().Annotate(what);
  return rep;
}
#undef SW_UNREFERENCED

Result<std::string> PgStore::IntegrityCheck() {
  // Each check lists at most 20 problems; the query's text says what it found.
  static const char* const kChecks[] = {
      // Rows whose run is not in runs.
      "SELECT format('%s: rows of run %s, which is not in runs', t, run_id) FROM ("
      "SELECT DISTINCT 'events' AS t, run_id FROM events e WHERE NOT EXISTS (SELECT 1 FROM runs WHERE id = e.run_id) "
      "UNION ALL SELECT DISTINCT 'node_runs', run_id FROM node_runs n WHERE NOT EXISTS (SELECT 1 FROM runs WHERE id = n.run_id) "
      "UNION ALL SELECT DISTINCT 'llm_calls', run_id FROM llm_calls l WHERE NOT EXISTS (SELECT 1 FROM runs WHERE id = l.run_id) "
      "UNION ALL SELECT DISTINCT 'artifacts', run_id FROM artifacts a WHERE NOT EXISTS (SELECT 1 FROM runs WHERE id = a.run_id) "
      "UNION ALL SELECT DISTINCT 'approvals', run_id FROM approvals p WHERE NOT EXISTS (SELECT 1 FROM runs WHERE id = p.run_id)"
      ") x ORDER BY 1 LIMIT 20",
      // Blobs referenced and absent.
      "SELECT format('%s: run %s references blob %s, which is not in blobs', t, run_id, h) FROM ("
      "SELECT 'node_runs' AS t, run_id, output_blob AS h FROM node_runs UNION "
      "SELECT 'llm_calls', run_id, request_blob FROM llm_calls UNION SELECT 'llm_calls', run_id, response_blob FROM llm_calls UNION "
      "SELECT 'llm_calls', run_id, reply_blob FROM llm_calls UNION SELECT 'artifacts', run_id, blob FROM artifacts UNION "
      "SELECT 'cache', key, output_blob FROM cache) x "
      "WHERE h <> '' AND NOT EXISTS (SELECT 1 FROM blobs WHERE hash = x.h) ORDER BY 1 LIMIT 20",
      // A finished run's totals are its model calls and its sub-runs'.
      "WITH RECURSIVE below(root, id) AS (SELECT id, id FROM runs WHERE status IN ('succeeded', 'failed', 'cancelled') "
      "UNION SELECT below.root, runs.id FROM runs JOIN below ON runs.parent_id = below.id), "
      "sums AS (SELECT below.root, count(l.id) AS calls, coalesce(sum(l.cost_usd), 0) AS cost FROM below "
      "LEFT JOIN llm_calls l ON l.run_id = below.id GROUP BY below.root) "
      "SELECT format('runs: run %s records %s calls costing %s but its model calls (with its sub-runs'') are %s "
      "costing %s', r.id, r.calls, r.cost_usd, s.calls, s.cost) FROM runs r JOIN sums s ON s.root = r.id "
      "WHERE r.calls <> s.calls OR abs(r.cost_usd - s.cost) > 1e-9 ORDER BY r.id LIMIT 20",
      // The work queue.
      "SELECT format('tasks: task %s is claimed by nobody', id) FROM tasks WHERE status = 'claimed' AND owner = '' "
      "ORDER BY id LIMIT 20",
      "SELECT format('tasks: %s done llm tasks of run %s key %s attempt %s', count(*), run_id, key, attempt) FROM tasks "
      "WHERE kind = 'llm' AND status = 'done' GROUP BY run_id, key, attempt HAVING count(*) > 1 ORDER BY 1 LIMIT 20",
  };
  std::string out;
  for (const char* sql : kChecks) {
    SW_ASSIGN_OR_RETURN(Rows rows, Query("integrity check", sql));
    for (int i = 0; i < rows.size(); ++i) out += (out.empty() ? "" : "\n") + rows.Str(i, 0);
  }
  return out.empty() ? std::string("ok") : out;
}

}  // namespace sw::store
