// control: what a person does to a run from outside it — answer a human gate, cancel it.
// One implementation serves `specwright approve`/`cancel` and the web UI.
#pragma once

#include <optional>
#include <string>

#include <atomic>
#include <memory>

#include "base/status.h"
#include "engine/engine.h"
#include "store/store.h"

namespace sw::engine {

struct Decision {
  std::string node;
  bool approve = true;
  std::string text;
  std::string by = "cli";             // recorded with the answer: cli, ui, ...
  std::optional<int> iteration, item;  // which pending gate, when the node waits more than once
};

/// Decide stores the answer to a pending gate of run; the engine that runs the run next (or
/// the one running it now) takes it. InvalidInput names the waiting nodes when node is not one.
Result<store::ApprovalRecord> Decide(store::Store* st, const std::string& run_id, const Decision& d);

/// Cancel asks a live run's process to stop (it does within a second), or marks a run that
/// nobody is running as cancelled; returns what happened in one sentence.
Result<std::string> Cancel(store::Store* st, const store::RunRecord& run, const std::string& by);

/// Recount sets a run's spend from what the store holds: the model calls of the run and of
/// its sub-runs (tokens, calls, dollars; unknown when a call's cost is). A run whose process
/// died never wrote its last totals: this is what it really spent. The cost is also unknown
/// when a node attempt was still running: the call in flight was never reported.
Status Recount(store::Store* st, store::RunRecord* run);

/// ShownAsAbandoned marks a run whose process died while it ran as "abandoned", with what its
/// calls really cost (read, not written: closing it is for the next develop or resume). How
/// `runs`, `sessions` and the MCP server's run tools show runs.
void ShownAsAbandoned(store::Store* st, store::RunRecord* run);

/// CloseAbandoned closes a run whose process died while it ran (status "running", no live
/// process): "failed", the error saying it was abandoned, its spend recounted (Recount), and
/// the same for its sub-runs. Any other run is returned unchanged.
Result<store::RunRecord> CloseAbandoned(store::Store* st, const store::RunRecord& run);

/// AwaitDecisions is a HumanFn that waits for an answer given from outside the process
/// (`specwright approve`, the web UI): it records the gate as pending, then polls the store
/// until the gate is decided, the run is cancelled, or *stop is set (nullopt: the run waits).
HumanFn AwaitDecisions(store::Store* st, std::shared_ptr<std::atomic<bool>> stop, double poll_seconds = 0.25);

/// ProcessStepOf says how to continue a run that is a step of `specwright develop` or
/// `modify` ("" for any other run): the process binds its roles and commits the step, so such
/// a run continues through that command, not `specwright resume` (the CLI and the web UI ask).
std::string ProcessStepOf(const store::RunRecord& run);

}  // namespace sw::engine
