// FencedStore: the store as an orchestrating worker's engine sees it. Every Commit carries the
// run's fence (Batch::fence: runs.owner must still be this worker), so an orchestrator whose
// lease lapsed and whose run another worker took over writes nothing more — its whole batch is
// refused, and it stops. A queued run (recorded by `submit`, never started) reads as absent,
// so engine::Run starts it under its recorded id.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "store/store.h"

namespace sw::dist {

class FencedStore final : public store::Store {
 public:
  /// detaching is set when the lease is found lost (by a refused commit or a heartbeat) or
  /// the worker gives the run back: from then on every Commit is refused.
  FencedStore(store::Store* inner, std::string run_id, std::string owner, std::shared_ptr<std::atomic<bool>> detaching)
      : inner_(inner), run_id_(std::move(run_id)), owner_(std::move(owner)), detaching_(std::move(detaching)) {}

  Status Commit(store::Batch& batch) override;
  Result<std::optional<store::RunRecord>> GetRun(const std::string& id) override;

  Result<std::vector<store::RunRecord>> ListRuns(int limit, bool include_children) override {
    return inner_->ListRuns(limit, include_children);
  }
  Result<std::string> ResolveRunId(const std::string& id_or_prefix) override { return inner_->ResolveRunId(id_or_prefix); }
  Result<std::vector<store::Event>> ListEvents(const std::string& run_id, int64_t after_seq) override {
    return inner_->ListEvents(run_id, after_seq);
  }
  Result<std::vector<store::NodeRunRecord>> ListNodeRuns(const std::string& run_id) override {
    return inner_->ListNodeRuns(run_id);
  }
  Result<std::vector<store::LlmCallRecord>> ListLlmCalls(const std::string& run_id) override {
    return inner_->ListLlmCalls(run_id);
  }
  Result<std::vector<store::ArtifactRecord>> ListArtifacts(const std::string& run_id) override {
    return inner_->ListArtifacts(run_id);
  }
  Result<std::vector<store::ApprovalRecord>> ListApprovals(const std::string& run_id) override {
    return inner_->ListApprovals(run_id);
  }
  Result<std::vector<store::Event>> ListEventsOfType(const std::string& run_id, const std::string& type) override {
    return inner_->ListEventsOfType(run_id, type);
  }
  Result<std::vector<store::NodeRunRecord>> ListNodeRunsOf(const std::string& run_id, const std::string& node) override {
    return inner_->ListNodeRunsOf(run_id, node);
  }
  Result<std::vector<store::LlmCallRecord>> ListLlmCallsOf(const std::string& run_id, const std::string& node) override {
    return inner_->ListLlmCallsOf(run_id, node);
  }
  Result<std::vector<store::Event>> ListNodeEvents(const std::string& run_id, const std::string& node) override {
    return inner_->ListNodeEvents(run_id, node);
  }
  Result<std::vector<store::RunRecord>> ListSubRuns(const std::string& run_id) override { return inner_->ListSubRuns(run_id); }
  Result<std::vector<store::RunRecord>> ListRunsSince(double since) override { return inner_->ListRunsSince(since); }
  Result<std::vector<store::LlmCallRecord>> ListLlmCallsSince(double since) override {
    return inner_->ListLlmCallsSince(since);
  }
  Result<std::vector<store::ArtifactRecord>> ListArtifactsNamed(const std::string& name) override {
    return inner_->ListArtifactsNamed(name);
  }
  Result<store::GcReport> CollectGarbage(const store::GcOptions&) override {
    return InvalidInput("an orchestrating worker does not collect garbage");
  }
  Result<std::optional<store::CacheEntry>> GetCache(const std::string& key) override { return inner_->GetCache(key); }
  Result<std::vector<store::LiveText>> ListLive(const std::string& run_id) override { return inner_->ListLive(run_id); }
  Result<std::string> GetBlob(const std::string& hash) override { return inner_->GetBlob(hash); }
  Status RequestCancel(const std::string& run_id) override { return inner_->RequestCancel(run_id); }
  Result<bool> ClaimRun(const std::string& run_id, const std::string& seen_status, int64_t seen_pid, int64_t pid) override {
    return inner_->ClaimRun(run_id, seen_status, seen_pid, pid);
  }
  Result<bool> CancelRequested(const std::string& run_id) override { return inner_->CancelRequested(run_id); }
  Result<std::string> IntegrityCheck() override { return inner_->IntegrityCheck(); }
  std::string Location() const override { return inner_->Location(); }
  std::string Backend() const override { return inner_->Backend(); }

  /// after_commit runs after each Commit that went through (on the committing thread).
  std::function<void(const store::Batch&)> after_commit;

  /// refused says a Commit was refused (fence or detaching): the engine's record is incomplete.
  bool refused() const { return refused_; }

 private:
  std::atomic<bool> refused_{false};
  store::Store* inner_;
  std::string run_id_, owner_;
  std::shared_ptr<std::atomic<bool>> detaching_;
};

}  // namespace sw::dist
