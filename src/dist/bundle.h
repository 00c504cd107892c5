// bundle: a workflow as it travels to a worker — its file and every file it references
// (prompt files, sub-workflows, recursively), by absolute path — so a worker needs no checkout.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "workflow/workflow.h"

namespace sw::dist {

/// Bundle is {"root": the workflow's absolute path, "files": {absolute path: text}}.
using Bundle = nlohmann::json;

/// CheckDetachable refuses, naming the file, line and column, what a worker elsewhere could
/// not do: a workspace that copies or branches a folder of this machine (`workspace: copy`
/// or `repo`). Prompt files and sub-workflows are fine: they travel in the bundle.
Status CheckDetachable(const workflow::Workflow& wf);

/// MakeBundle reads the workflow's files again (the bytes the loader hashed; a file changed
/// since is an error, as the source hash would no longer match).
Result<Bundle> MakeBundle(const workflow::Workflow& wf);

/// LoadBundle writes the files under scratch_dir (by their absolute paths), loads the root
/// from there and gives the workflow its original paths back; the source hash is the
/// submitted one's. scratch_dir may be deleted afterwards.
Result<std::shared_ptr<const workflow::Workflow>> LoadBundle(const Bundle& bundle, const std::string& scratch_dir);

}  // namespace sw::dist
