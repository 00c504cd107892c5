// SqliteStore: the default Store, one SQLite file in WAL mode plus a directory of large blobs.
#pragma once

#include <sqlite3.h>

#include <array>
#include <memory>
#include <mutex>
#include <string>

#include "store/store.h"

namespace sw::store {

/// Sql names every statement the store runs; each is prepared once at open and reused.
enum class Sql {
  kBegin,
  kCommit,
  kRollback,
  kUpsertRun,
  kInsertEvent,
  kUpsertNodeRun,
  kInsertLlmCall,
  kUpsertArtifact,
  kUpsertApproval,
  kUpsertCache,
  kInsertBlob,
  kGetRun,
  kListRuns,
  kLatestRun,
  kRunsByPrefix,
  kListEvents,
  kListNodeRuns,
  kListLlmCalls,
  kListArtifacts,
  kListApprovals,
  kGetCache,
  kGetBlob,
  kRequestCancel,
  kCancelRequested,
  kIntegrityCheck,
  kListEventsOfType,
  kListRunsSince,
  kListLlmCallsSince,
  kListArtifactsNamed,
  kListNodeRunsOf,
  kListLlmCallsOf,
  kListNodeEvents,
  kListSubRuns,
  kUpsertLive,
  kDeleteLive,
  kDeleteRunLive,
  kListLive,
  kClaimRun,
  kRunOwner,
  kCount,  // not a statement: the size of the table
};

/// SqliteStore keeps one connection and its prepared statements; a mutex serialises callers.
class SqliteStore final : public Store {
 public:
  /// Open creates dir, dir/blobs and dir/specwright.db as needed (unless options.create is
  /// false: then the database must exist) and migrates the schema.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& dir, const StoreOptions& options);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

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
  std::string Location() const override { return dir_; }
  std::string Backend() const override { return "sqlite"; }

 private:
  SqliteStore(std::string dir, const StoreOptions& options) : dir_(std::move(dir)), options_(options) {}

  Status Init();
  Status PrepareAll();
  /// BlobPath is where a large blob lives; hash has already passed IsHexDigest.
  std::string BlobPath(const std::string& hash) const;
  /// CheckFence fails the batch when its fence's run has another owner now.
  Status CheckFence(const Batch& batch);
  /// WriteInBatch runs every insert of the batch; the caller owns the transaction.
  Status WriteInBatch(Batch& batch, std::vector<int64_t>& seqs, std::vector<int64_t>& ids);
  /// Error turns the connection's last error into a Status that says what we were doing.
  Status Error(const std::string& what) const;
  sqlite3_stmt* Stmt(Sql sql) const { return stmts_[static_cast<size_t>(sql)]; }

  std::string dir_;
  std::string db_path_;
  StoreOptions options_;
  sqlite3* db_ = nullptr;
  std::array<sqlite3_stmt*, static_cast<size_t>(Sql::kCount)> stmts_{};
  std::mutex mu_;
};

}  // namespace sw::store
