// What `specwright gc` does to the git side of the runs it deletes: their workspace folders,
// the work tree records a `repo:` workspace left in the user's repository, and its branch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "store/store.h"

namespace sw::cli {

/// GcWorkspace is a deleted run's workspace, as its `workspace` event recorded it.
struct GcWorkspace {
  std::string run;
  std::string kind;      // empty | copy | repo ("" : no record)
  std::string dir;       // the work tree
  std::string repo;      // repo: the user's repository
  std::string branch;    // repo: specwright/RUN
  std::string worktree;  // repo: the work tree's name in the repository (specwright-RUN)
};

/// WorkspacesOf reads the workspace records of runs; call it before gc deletes their events.
Result<std::vector<GcWorkspace>> WorkspacesOf(store::Store* store, const std::vector<std::string>& runs);

enum class BranchMode { kAsk, kDelete, kKeep };

struct GcGitOptions {
  std::string root;  // the store's workspaces folder: gc removes folders only inside it
  bool dry_run = false;
  BranchMode mode = BranchMode::kAsk;
  bool interactive = false;  // kAsk on a terminal: ask y/N; otherwise keep and print the command
  bool print = true;         // human lines on stdout (not with --json)
};

struct GcGitReport {
  int workspaces_deleted = 0;
  int64_t workspace_bytes_freed = 0;
  nlohmann::json worktrees = nlohmann::json::array();  // [{run, repo, dir, worktree, action}]
  nlohmann::json branches = nlohmann::json::array();   // [{run, repo, branch, action, unique_commits, command}]
};

/// CleanWorkspaces removes the runs' workspace folders (inside root only), prunes the work tree
/// records of `repo:` workspaces, and deletes, keeps or asks about their branches. A
/// repository that moved or is gone is reported, and the rest goes on.
GcGitReport CleanWorkspaces(const std::vector<GcWorkspace>& workspaces, const GcGitOptions& o);

}  // namespace sw::cli
