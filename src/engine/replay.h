// Replay planning: which nodes of a stored run a new run may take as they are, and which it
// must run live because they are downstream of what the user changed.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "workflow/workflow.h"

namespace sw::engine {

/// ReplayChanges is what `specwright replay` was asked to change.
struct ReplayChanges {
  std::vector<std::string> from;                  // --from NODE (run it and its downstream live)
  std::map<std::string, std::string> models;      // --model NODE=provider/model
  std::map<std::string, std::string> prompts;     // --prompt NODE=file, as path -> read by the caller
  std::map<std::string, std::string> prompt_text; // the files' contents, by node
  std::set<std::string> inputs;                   // names of inputs given a new value
};

/// ReplayPlan: `live` runs again; `reuse` maps every other node to the last iteration whose
/// stored result may be taken (a loop body above a changed node reuses only its first round,
/// since later rounds read the changed loop's feedback). `drift` lists reusable nodes whose
/// definition is not the one the stored run ran.
struct ReplayPlan {
  std::vector<std::string> changed;  // the seeds, in workflow order
  std::vector<std::string> live;     // seeds and everything downstream, in workflow order
  std::map<std::string, int> reuse;
  std::vector<std::string> drift;
  std::shared_ptr<const workflow::Workflow> workflow;  // with the model and prompt changes applied
};

/// PlanReplay applies changes to wf and computes the plan. source_defs maps node id to the
/// definition hash the stored run recorded (null: unknown, every reused node counts as drift
/// when the workflow file's hash differs, which the caller decides).
Result<ReplayPlan> PlanReplay(std::shared_ptr<const workflow::Workflow> wf, const ReplayChanges& changes,
                              const nlohmann::json& source_defs);

/// DefinitionsJson is what a run records of its workflow (the `definitions` event's blob), for
/// replays and reports: node id -> {hash, kind, needs, model}.
nlohmann::json DefinitionsJson(const workflow::Workflow& wf);

}  // namespace sw::engine
