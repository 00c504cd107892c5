// spec_api: a session's project as the web UI shows it — its spec documents rendered, the
// traceability matrix, `spec check`'s findings, the trace of one ID with each test's last
// result, the impact of IDs, and a project file by path. Read-only; every path stays inside
// the project.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"

namespace sw::server {

/// InsideTree resolves rel (relative to root) by the workspace rule every tool uses
/// (tools::ResolveInWorkspace: relative, no `..`, no link out, not under .git or .specwright),
/// then refuses a .git or .specwright anywhere on the resolved path (a submodule's), in any
/// case. for_write: the file (and its parents) may not exist yet. Project files and the
/// editor's saves both go through it.
Result<std::filesystem::path> InsideTree(const std::string& root, const std::string& rel, bool for_write);

/// SpecView is GET /sessions/{id}/spec: {project, docs: [{path, html, items: [{id, title,
/// line}]}], findings, errors, warnings, matrix, results, items: [{id, title, file, line}]}.
Result<std::string> SpecView(const std::string& project);
/// SpecTrace is `spec trace ID --json` plus `results` (test case -> passed | failed | not run).
Result<std::string> SpecTrace(const std::string& project, const std::string& id);
/// SpecImpact is `spec impact IDS --json`.
Result<std::string> SpecImpact(const std::string& project, const std::vector<std::string>& ids);
/// ProjectFile is {path, text} of a text file inside the project (at most 2 MiB; not .git or
/// .specwright; no path or link out of the project).
Result<std::string> ProjectFile(const std::string& project, const std::string& rel);

}  // namespace sw::server
