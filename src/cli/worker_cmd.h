// The distributed mode's hooks into run, resume, approve and cancel (worker_cmd.cc).
#pragma once

#include <string>

#include "base/status.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "engine/engine.h"
#include "store/store.h"
#include "workflow/workflow.h"

namespace sw::cli {

/// WantsDetach: `submit`, or `run --detach`.
bool WantsDetach(const Context& ctx);
/// CheckDetach refuses a detached run without a PostgreSQL store, or with flags only a run in
/// this process has.
Status CheckDetach(const Context& ctx);
/// SubmitDetached records the run for the workers, prints its id and returns at once.
int SubmitDetached(Context& ctx, Env& env, const workflow::Workflow& wf, const engine::RunOptions& options);
/// RequeueDetached hands a detached run back to the workers (approve, resume).
Result<std::string> RequeueDetached(Context& ctx, Env& env, const store::RunRecord& run, const std::string& why);
/// CancelDetachedRun cancels a detached run through the queue.
Result<std::string> CancelDetachedRun(Context& ctx, Env& env, const store::RunRecord& run);

}  // namespace sw::cli
