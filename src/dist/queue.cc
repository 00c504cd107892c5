#include "dist/queue.h"

#include <unistd.h>

#include <random>

#include "base/strings.h"
#include "base/subprocess.h"

namespace sw::dist {

namespace pg = store::pg;

namespace {

// Every column of a task, in the order RowToTask reads them.
constexpr const char* kColumns =
    "id, run_id, kind, node, key, attempt, labels, status, payload, result, owner, lease_until, claims, "
    "cancel_requested, consumed, reserved_usd, created_at, claimed_at, finished_at";
// The database's clock, as unix seconds.
constexpr const char* kNow = "extract(epoch from clock_timestamp())::float8";

Task RowToTask(const pg::Rows& r, int i, int col = 0) {
  Task t;
  t.id = r.Int(i, col + 0);
  t.run_id = r.Str(i, col + 1);
  t.kind = r.Str(i, col + 2);
  t.node = r.Str(i, col + 3);
  t.key = r.Str(i, col + 4);
  t.attempt = static_cast<int>(r.Int(i, col + 5));
  t.labels = r.Str(i, col + 6);
  t.status = r.Str(i, col + 7);
  t.payload = r.Str(i, col + 8);
  t.result = r.Str(i, col + 9);
  t.owner = r.Str(i, col + 10);
  t.lease_until = r.Real(i, col + 11);
  t.claims = static_cast<int>(r.Int(i, col + 12));
  t.cancel_requested = r.Bool(i, col + 13);
  t.consumed = r.Bool(i, col + 14);
  t.reserved_usd = r.Real(i, col + 15);
  t.created_at = r.Real(i, col + 16);
  t.claimed_at = r.Real(i, col + 17);
  t.finished_at = r.Real(i, col + 18);
  return t;
}

std::vector<Task> RowsToTasks(const pg::Rows& r) {
  std::vector<Task> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(RowToTask(r, i));
  return out;
}

/// ArrayLiteral is a text[] parameter ("{\"a\",\"b\"}"); elements are labels (ValidLabel: no
/// quote or backslash in them).
std::string ArrayLiteral(const std::vector<std::string>& v) {
  // Quoted, so that a label spelled like NULL is that label, not a NULL element.
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ",\"" : "\"") + v[i] + "\"";
  return s + "}";
}

std::string IdArray(const std::vector<int64_t>& ids) {
  std::string s = "{";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "}";
}

}  // namespace

bool ValidLabel(const std::string& label) {
  if (label.empty() || label.size() > 64) return false;
  for (char c : label)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

Result<std::vector<std::string>> ParseLabels(const std::string& text) {
  std::vector<std::string> out;
  if (Trim(text).empty()) return out;
  for (const auto& part : Split(text, ',')) {
    std::string l = Trim(part);
    if (!ValidLabel(l))
      return InvalidInput("label " + Quote(l) + " is not a label: use 1 to 64 of a-z, 0-9, '_', '.', '-'");
    out.push_back(l);
  }
  return out;
}

Result<std::unique_ptr<Queue>> Queue::Open(const std::string& url) {
  SW_ASSIGN_OR_RETURN(auto conn, pg::Conn::Open(url));
  return std::unique_ptr<Queue>(new Queue(std::move(conn)));
}

Result<pg::Rows> Queue::Run(const std::string& sql, const std::vector<pg::Param>& params) {
  std::lock_guard<std::mutex> l(mu_);
  if (!conn_->ok()) SW_RETURN_IF_ERROR(conn_->Reset());
  auto r = conn_->Exec(sql, params);
  if (r.ok() || r.status().code() != Code::kUnavailable || conn_->ok()) return r;
  // The connection is gone: the statement's transaction did not commit, or the caller cannot
  // know. Reconnect so the next statement works; report this one.
  (void)conn_->Reset();
  return r;
}

Result<pg::Rows> Queue::Exec(const std::string& sql, const std::vector<pg::Param>& params) { return Run(sql, params); }

Result<int64_t> Queue::Enqueue(const NewTask& t) {
  if (t.kind != "orchestrate" && t.kind != "llm" && t.kind != "tool")
    return InvalidInput("task kind " + Quote(t.kind) + " is not orchestrate, llm or tool");
  std::string sql = std::string(
                        "WITH i AS (INSERT INTO tasks (run_id, kind, node, key, attempt, labels, payload, "
                        "reserved_usd, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ") +
                    kNow +
                    ") ON CONFLICT (run_id) WHERE kind = 'orchestrate' AND status IN ('ready', 'claimed') DO NOTHING "
                    "RETURNING id, kind) SELECT id, pg_notify('specwright_tasks', kind) FROM i";
  SW_ASSIGN_OR_RETURN(auto rows, Run(sql, {pg::Text(t.run_id), pg::Text(t.kind), pg::Text(t.node), pg::Text(t.key),
                                           pg::Int(t.attempt), pg::Text(t.labels), pg::Text(t.payload),
                                           pg::Real(t.reserved_usd)}));
  return rows.empty() ? 0 : rows.Int(0, 0);
}

Result<std::optional<Task>> Queue::Claim(const std::string& worker, const ClaimFilter& f, double lease) {
  if (!f.orchestrate && !f.calls) return std::optional<Task>();
  std::string kinds = f.orchestrate && f.calls ? "" : f.orchestrate ? "AND kind = 'orchestrate' " : "AND kind <> 'orchestrate' ";
  std::string match = "AND string_to_array(labels, ',') <@ $3::text[] " + kinds;
  // A lapsed lease first (its run waits on it), then the oldest ready task. Each candidate is
  // locked with SKIP LOCKED, so concurrent claimers never wait on each other or take the same
  // row; the UPDATE and the run's ownership are one statement, one transaction.
  std::string sql = std::string("WITH now AS (SELECT ") + kNow +
                    " AS t), c AS (UPDATE tasks SET status = 'claimed', owner = $1, "
                    "lease_until = (SELECT t FROM now) + $2, claims = claims + 1, claimed_at = (SELECT t FROM now) "
                    "WHERE id = COALESCE("
                    "(SELECT id FROM tasks WHERE status = 'claimed' AND lease_until < (SELECT t FROM now) AND owner <> $1 " +
                    match +
                    "ORDER BY lease_until LIMIT 1 FOR UPDATE SKIP LOCKED), "
                    "(SELECT id FROM tasks WHERE status = 'ready' " +
                    match +
                    "ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)) "
                    "RETURNING " + kColumns + "), "
                    "r AS (UPDATE runs SET owner = $1, lease_until = c.lease_until FROM c "
                    "WHERE c.kind = 'orchestrate' AND runs.id = c.run_id RETURNING runs.id) "
                    "SELECT c.*, (SELECT count(*) FROM r) FROM c";
  SW_ASSIGN_OR_RETURN(auto rows, Run(sql, {pg::Text(worker), pg::Real(lease), pg::Text(ArrayLiteral(f.labels))}));
  if (rows.empty()) return std::optional<Task>();
  return std::optional<Task>(RowToTask(rows, 0));
}

Result<Beat> Queue::Heartbeat(const std::string& worker, double lease, const std::optional<std::vector<int64_t>>& only) {
  std::string sql = std::string("WITH now AS (SELECT ") + kNow +
                    " AS t), h AS (UPDATE tasks SET lease_until = (SELECT t FROM now) + $2 "
                    "WHERE owner = $1 AND status = 'claimed' " +
                    (only ? "AND id = ANY($3::bigint[]) " : "") +
                    "RETURNING id, kind, run_id, cancel_requested), "
                    "r AS (UPDATE runs SET lease_until = (SELECT t FROM now) + $2 WHERE owner = $1 "
                    "AND id IN (SELECT run_id FROM h WHERE kind = 'orchestrate') RETURNING id), "
                    "w AS (UPDATE workers SET heartbeat_at = (SELECT t FROM now) WHERE id = $1 RETURNING id) "
                    "SELECT h.id, h.cancel_requested, (SELECT t FROM now), (SELECT count(*) FROM r), "
                    "(SELECT count(*) FROM w) FROM h RIGHT JOIN (SELECT 1) one ON true";
  std::vector<pg::Param> params{pg::Text(worker), pg::Real(lease)};
  if (only) params.push_back(pg::Text(IdArray(*only)));
  SW_ASSIGN_OR_RETURN(auto rows, Run(sql, params));
  Beat b;
  for (int i = 0; i < rows.size(); ++i) {
    b.now = rows.Real(i, 2);
    if (rows.IsNull(i, 0)) continue;  // the one row of a worker that holds nothing
    b.held.push_back(rows.Int(i, 0));
    if (rows.Bool(i, 1)) b.cancel.push_back(rows.Int(i, 0));
  }
  return b;
}

Result<bool> Queue::Complete(int64_t id, const std::string& worker, const std::string& result) {
  std::string sql = std::string("WITH now AS (SELECT ") + kNow +
                    " AS t), c AS (UPDATE tasks SET status = 'done', result = $3, finished_at = (SELECT t FROM now), "
                    "lease_until = 0 WHERE id = $1 AND owner = $2 AND status = 'claimed' RETURNING id, run_id, kind), "
                    "w AS (UPDATE workers SET tasks_done = tasks_done + 1 WHERE id = $2 AND EXISTS (SELECT 1 FROM c) "
                    "RETURNING id), "
                    "r AS (UPDATE runs SET owner = '', lease_until = 0 FROM c WHERE c.kind = 'orchestrate' "
                    "AND runs.id = c.run_id AND runs.owner = $2 RETURNING runs.id) "
                    "SELECT c.id, pg_notify('specwright_done', c.run_id || ':' || c.id), (SELECT count(*) FROM w), "
                    "(SELECT count(*) FROM r) FROM c";
  SW_ASSIGN_OR_RETURN(auto rows, Run(sql, {pg::Int(id), pg::Text(worker), pg::Text(result)}));
  return !rows.empty();
}

Result<bool> Queue::Release(int64_t id, const std::string& worker) {
  std::string sql =
      "WITH c AS (UPDATE tasks SET status = 'ready', owner = '', lease_until = 0, claims = greatest(claims - 1, 0) "
      "WHERE id = $1 AND owner = $2 AND status = 'claimed' RETURNING id, run_id, kind), "
      "r AS (UPDATE runs SET owner = '', lease_until = 0 FROM c WHERE c.kind = 'orchestrate' AND runs.id = c.run_id "
      "AND runs.owner = $2 RETURNING runs.id) "
      "SELECT c.id, pg_notify('specwright_tasks', c.kind), (SELECT count(*) FROM r) FROM c";
  SW_ASSIGN_OR_RETURN(auto rows, Run(sql, {pg::Int(id), pg::Text(worker)}));
  return !rows.empty();
}

Result<bool> Queue::RequestCancel(int64_t id) {
  std::string sql = std::string("UPDATE tasks SET cancel_requested = true, status = CASE WHEN status = 'ready' THEN "
                                "'cancelled' ELSE status END, finished_at = CASE WHEN status = 'ready' THEN ") +
                    kNow + " ELSE finished_at END WHERE id = $1 AND status IN ('ready', 'claimed') RETURNING status";
  SW_ASSIGN_OR_RETURN(auto rows, Run(sql, {pg::Int(id)}));
  return !rows.empty() && rows.Str(0, 0) == "cancelled";
}

Result<int64_t> Queue::CancelRun(const std::string& run_id) {
  std::string sql = std::string("UPDATE tasks SET cancel_requested = true, status = CASE WHEN status = 'ready' THEN "
                                "'cancelled' ELSE status END, finished_at = CASE WHEN status = 'ready' THEN ") +
                    kNow +
                    " ELSE finished_at END WHERE (run_id = $1 OR left(run_id, length($1) + 1) = $1 || '.') "
                    "AND status IN ('ready', 'claimed') RETURNING status";
  SW_ASSIGN_OR_RETURN(auto rows, Run(sql, {pg::Text(run_id)}));
  int64_t n = 0;
  for (int i = 0; i < rows.size(); ++i) n += rows.Str(i, 0) == "cancelled";
  return n;
}

Result<std::vector<std::string>> Queue::RequeueDecided() {
  // A gate is decided and still unread when its node's latest attempt waits and its approval
  // row is no longer pending (the engine that reads it records a new attempt).
  std::string sql = std::string(
                        "WITH due AS (SELECT r.id, r.options_json FROM runs r WHERE r.status = 'waiting' AND "
                        "r.parent_id = '' AND r.options_json LIKE '%\"detached\":true%' "
                        "AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.run_id = r.id AND t.kind = 'orchestrate' "
                        "AND t.status IN ('ready', 'claimed')) "
                        "AND EXISTS (SELECT 1 FROM approvals a JOIN node_runs n ON n.run_id = a.run_id AND n.node = a.node "
                        "AND n.iteration = a.iteration AND n.item = a.item AND n.status = 'waiting' "
                        "WHERE (a.run_id = r.id OR left(a.run_id, length(r.id) + 1) = r.id || '.') "
                        "AND a.decision <> 'pending' AND n.attempt = (SELECT max(m.attempt) FROM node_runs m "
                        "WHERE m.run_id = n.run_id AND m.node = n.node AND m.iteration = n.iteration AND m.item = n.item)) "
                        "LIMIT 100), "
                        "i AS (INSERT INTO tasks (run_id, kind, labels, payload, created_at) "
                        "SELECT id, 'orchestrate', coalesce(options_json::json->>'labels', ''), "
                        "'{\"resume\":true,\"why\":\"a gate was decided\"}', ") +
                    kNow +
                    " FROM due ON CONFLICT (run_id) WHERE kind = 'orchestrate' AND status IN ('ready', 'claimed') "
                    "DO NOTHING RETURNING run_id, kind) "
                    "SELECT run_id, pg_notify('specwright_tasks', kind) FROM i";
  SW_ASSIGN_OR_RETURN(auto rows, Run(sql, {}));
  std::vector<std::string> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(rows.Str(i, 0));
  return out;
}

Status Queue::MarkConsumed(int64_t id) {
  return Run("UPDATE tasks SET consumed = true WHERE id = $1", {pg::Int(id)}).status();
}

Result<std::optional<Task>> Queue::Get(int64_t id) {
  SW_ASSIGN_OR_RETURN(auto rows, Run(std::string("SELECT ") + kColumns + " FROM tasks WHERE id = $1", {pg::Int(id)}));
  if (rows.empty()) return std::optional<Task>();
  return std::optional<Task>(RowToTask(rows, 0));
}

Result<std::vector<Task>> Queue::FindByKey(const std::string& run_id, const std::string& kind, const std::string& key) {
  SW_ASSIGN_OR_RETURN(auto rows, Run(std::string("SELECT ") + kColumns +
                                         " FROM tasks WHERE run_id = $1 AND kind = $2 AND key = $3 ORDER BY id",
                                     {pg::Text(run_id), pg::Text(kind), pg::Text(key)}));
  return RowsToTasks(rows);
}

Result<std::vector<Task>> Queue::Finished(const std::vector<int64_t>& ids) {
  if (ids.empty()) return std::vector<Task>();
  SW_ASSIGN_OR_RETURN(auto rows, Run(std::string("SELECT ") + kColumns +
                                         " FROM tasks WHERE id = ANY($1::bigint[]) AND status IN ('done', 'cancelled')",
                                     {pg::Text(IdArray(ids))}));
  return RowsToTasks(rows);
}

Result<std::vector<Task>> Queue::ListRun(const std::string& run_id, bool include_children) {
  std::string where = include_children ? "run_id = $1 OR left(run_id, length($1) + 1) = $1 || '.'" : "run_id = $1";
  SW_ASSIGN_OR_RETURN(auto rows,
                      Run(std::string("SELECT ") + kColumns + " FROM tasks WHERE " + where + " ORDER BY id", {pg::Text(run_id)}));
  return RowsToTasks(rows);
}

Result<double> Queue::UnrecordedSpend(const std::string& run_id) {
  SW_ASSIGN_OR_RETURN(
      auto rows,
      Run("SELECT coalesce(sum(t.reserved_usd), 0) FROM tasks t WHERE t.kind = 'llm' AND "
          "(t.run_id = $1 OR left(t.run_id, length($1) + 1) = $1 || '.') AND "
          "(t.status IN ('ready', 'claimed') OR (t.status = 'done' AND NOT EXISTS "
          "(SELECT 1 FROM llm_calls c WHERE c.run_id = t.run_id AND c.request_hash = t.key AND c.attempt >= t.attempt)))",
          {pg::Text(run_id)}));
  return rows.Real(0, 0);
}

Status Queue::RegisterWorker(const std::string& id, const std::string& labels, int concurrency) {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  std::string sql = std::string("INSERT INTO workers (id, host, pid, labels, concurrency, started_at, heartbeat_at) "
                                "VALUES ($1, $2, $3, $4, $5, ") +
                    kNow + ", " + kNow +
                    ") ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, labels = excluded.labels, "
                    "concurrency = excluded.concurrency, stopped_at = 0";
  return Run(sql, {pg::Text(id), pg::Text(host), pg::Int(::getpid()), pg::Text(labels), pg::Int(concurrency)}).status();
}

Status Queue::WorkerStopped(const std::string& id) {
  return Run(std::string("UPDATE workers SET stopped_at = ") + kNow + " WHERE id = $1", {pg::Text(id)}).status();
}

Result<double> Queue::Now() {
  SW_ASSIGN_OR_RETURN(auto rows, Run(std::string("SELECT ") + kNow, {}));
  return rows.Real(0, 0);
}

Result<std::unique_ptr<Notifier>> Notifier::Open(const std::string& url, std::vector<std::string> channels) {
  std::unique_ptr<Notifier> n(new Notifier(url, std::move(channels)));
  SW_RETURN_IF_ERROR(n->Connect());
  return n;
}

Status Notifier::Connect() {
  conn_.reset();
  SW_ASSIGN_OR_RETURN(auto c, pg::Conn::Open(url_));
  for (const auto& ch : channels_) SW_RETURN_IF_ERROR(c->Listen(ch));
  conn_ = std::move(c);
  return Status::Ok();
}

std::vector<pg::Notification> Notifier::Wait(double timeout) {
  if (!conn_ || !conn_->ok()) {
    // Lost: try again, no faster than the caller's poll; what was missed meanwhile the
    // callers find by polling.
    if (!Connect().ok()) {
      ::usleep(static_cast<useconds_t>(std::min(timeout, 1.0) * 1e6));
      return {};
    }
  }
  auto r = conn_->Wait(timeout);
  if (!r.ok()) {
    conn_.reset();
    return {};
  }
  return std::move(r).value();
}

std::string NewWorkerId() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  std::random_device rd;
  std::mt19937_64 g((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(::getpid()));
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(g() & 0xffffffffu));
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + hex;
}

}  // namespace sw::dist
