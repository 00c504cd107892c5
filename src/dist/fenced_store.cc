#include "dist/fenced_store.h"

namespace sw::dist {

Status FencedStore::Commit(store::Batch& batch) {
  if (detaching_->load()) {
    refused_ = true;
    return Failed("lease lost: run " + run_id_ + " is no longer orchestrated by " + owner_);
  }
  batch.fence = store::Fence{run_id_, owner_};
  Status s = inner_->Commit(batch);
  // Refused by the fence: someone else orchestrates the run now. Stop without touching the
  // calls in flight (the new orchestrator adopts them).
  if (!s.ok() && s.message().rfind("lease lost", 0) == 0) {
    refused_ = true;
    detaching_->store(true);
  }
  if (s.ok() && after_commit) after_commit(batch);
  return s;
}

Result<std::optional<store::RunRecord>> FencedStore::GetRun(const std::string& id) {
  SW_ASSIGN_OR_RETURN(auto r, inner_->GetRun(id));
  if (id == run_id_ && r && r->status == "queued") return std::optional<store::RunRecord>();
  return r;
}

}  // namespace sw::dist
