// PgStore: the Store in a PostgreSQL database, shared by every process and machine that opens
// the same URL (the scale-out backend; the work queue's tables live beside it). The data model
// is SQLite's, column for column; blobs are rows too (bytea), so no shared file system.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/pg.h"
#include "store/store.h"

namespace sw::store {

/// kPgSchemaVersion is the newest migration this binary knows (schema_migrations.version).
inline constexpr int kPgSchemaVersion = 3;
/// kPgMaxBlobBytes caps one blob (a commit with a larger one fails, naming it).
inline constexpr size_t kPgMaxBlobBytes = size_t{64} << 20;

/// PgStore keeps a small pool of connections (StoreOptions::max_connections): readers such as
/// the web UI's request threads run at once, and a commit holds one connection for its single
/// round trip (every statement of the batch sent as one pipeline).
class PgStore final : public Store {
 public:
  /// Open connects, then creates or migrates the schema (see OpenPostgres).
  static Result<std::unique_ptr<PgStore>> Open(const std::string& url, const StoreOptions& options);
  ~PgStore() override;
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

  Status Commit(Batch& batch) override;
  Result<std::optional<RunRecord>> GetRun(const std::string& id) override;
  Result<std::vector<RunRecord>> ListRuns(int limit, bool include_children) override;
  Result<std::string> ResolveRunId(const std::string& id_or_prefix) override;
  Result<std::vector<Event>> ListEvents(const std::string& run_id, int64_t after_seq) override;
  Result<std::vector<NodeRunRecord>> ListNodeRuns(const std::string& run_id) override;
  Result<std::vector<LlmCallRecord>> ListLlmCalls(const std::string& run_id) override;
  Result<std::vector<ArtifactRecord>> ListArtifacts(const std::string& run_id) override;
  Result<std::vector<ApprovalRecord>> ListApprovals(const std::string& run_id) override;
  Result<std::vector<Event>> ListEventsOfType(const std::string& run_id, const std::string& type) override;
  Result<std::vector<NodeRunRecord>> ListNodeRunsOf(const std::string& run_id, const std::string& node) override;
  Result<std::vector<LlmCallRecord>> ListLlmCallsOf(const std::string& run_id, const std::string& node) override;
  Result<std::vector<Event>> ListNodeEvents(const std::string& run_id, const std::string& node) override;
  Result<std::vector<RunRecord>> ListSubRuns(const std::string& run_id) override;
  Result<std::vector<RunRecord>> ListRunsSince(double since) override;
  Result<std::vector<LlmCallRecord>> ListLlmCallsSince(double since) override;
  Result<std::vector<ArtifactRecord>> ListArtifactsNamed(const std::string& name) override;
  Result<GcReport> CollectGarbage(const GcOptions& options) override;
  Result<std::optional<CacheEntry>> GetCache(const std::string& key) override;
  Result<std::vector<LiveText>> ListLive(const std::string& run_id) override;
  Result<std::string> GetBlob(const std::string& hash) override;
  Status RequestCancel(const std::string& run_id) override;
  Result<bool> ClaimRun(const std::string& run_id, const std::string& seen_status, int64_t seen_pid,
                        int64_t pid) override;
  Result<bool> CancelRequested(const std::string& run_id) override;
  Result<std::string> IntegrityCheck() override;
  Result<bool> ClaimFire(const FireRecord& fire) override;
  Result<std::optional<FireRecord>> StartFire(const std::string& run_id, int64_t pid, double now) override;
  Status FinishFire(const std::string& run_id, const std::string& status, const std::string& error) override;
  Result<std::vector<FireRecord>> ListFires(const std::string& schedule, int limit) override;
  Result<std::vector<FireRecord>> ListClaimedFires() override;
  std::string Location() const override { return shown_; }
  std::string Backend() const override { return "postgresql"; }

 private:
  PgStore(std::string url, const StoreOptions& options);

  Status Init();
  /// Connect opens one connection and sets its session up (timeouts, durability).
  Result<std::unique_ptr<pg::Conn>> Connect();
  /// Acquire takes an idle connection, opens one while under max_connections, or waits.
  Result<std::unique_ptr<pg::Conn>> Acquire();
  /// Release returns a connection to the pool; a broken one is dropped with every idle one
  /// (a server restart broke them all).
  void Release(std::unique_ptr<pg::Conn> conn);
  /// Query runs one statement, retrying once on a fresh connection when the connection was
  /// lost (a statement that is not idempotent only if it was never sent); errors say what was
  /// being done and where.
  Result<pg::Rows> Query(const std::string& what, const std::string& sql, const std::vector<pg::Param>& params = {},
                         bool idempotent = true);
  /// WithConn runs f on one connection of the pool (for multi-statement work: gc, checks).
  template <typename F>
  auto WithConn(F&& f) -> decltype(f(std::declval<pg::Conn&>()));

  std::string url_;    // may hold a password: never shown
  std::string shown_;  // the URL without it
  StoreOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pg::Conn>> idle_;
  int open_ = 0;  // connections out of the pool or idle in it
};

}  // namespace sw::store
