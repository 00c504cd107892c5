// submit: a run handed to the workers (`specwright run --detach`, `submit`), and what a person
// does to such a run from outside — approve, resume, cancel — which the workers carry out.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "dist/queue.h"
#include "store/store.h"
#include "workflow/workflow.h"

namespace sw::dist {

struct SubmitOptions {
  nlohmann::json inputs = nlohmann::json::object();  // resolved against the declarations
  /// What `run` records of its flags (script, no_cache, yes, max_calls, config, model...);
  /// `detached`, `workflow_blob` and `labels` are added.
  nlohmann::json record_options = nlohmann::json::object();
  std::string run_id;  // "" : a new one
  std::string labels;  // every task of the run needs these worker labels (comma list)
  /// The shared bare repository the run's workspace travels through (git_transport.h), so its
  /// tool calls run on any worker; "": they run on the worker orchestrating the run.
  std::string workspace_remote;
};

/// Submit records the run as "queued" — its workflow and every file it references in a blob,
/// so a worker needs no copy of them — and adds its orchestrate task; returns the run id.
/// A workflow a worker elsewhere could not run (CheckDetachable) is refused here.
Result<std::string> Submit(store::Store* st, Queue* q, const workflow::Workflow& wf, SubmitOptions o);

/// IsDetached says whether a run was submitted to the workers.
bool IsDetached(const store::RunRecord& run);

/// Requeue asks the workers to continue a detached run (after an approval, or `resume`): a
/// new orchestrate task, unless one is ready or running (that one picks the decision up).
/// Returns what happened, in one sentence.
Result<std::string> Requeue(store::Store* st, Queue* q, const store::RunRecord& run, const std::string& why);

/// CancelDetached cancels a detached run: its orchestrator (if a worker runs it) stops the run
/// and its calls in flight; a run nobody orchestrates now (queued, waiting) is marked
/// cancelled here. Returns what happened, in one sentence.
Result<std::string> CancelDetached(store::Store* st, Queue* q, const store::RunRecord& run, const std::string& by);

}  // namespace sw::dist
