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
  std::string snapshot;  // repo: the commit holding the user's uncommitted changes
                         // (include_uncommitted), the branch's first; "" if none
};

/// WorkspacesOf reads the workspace records of runs; call it before gc deletes their events.
Result<std::vector<GcWorkspace>> WorkspacesOf(store::Store* store, const std::vector<std::string>& runs);

/// WorkspaceInFolder is what the folder root/RUN tells of a deleted run's workspace when its
/// record is gone (gc deleted the run's events, say, after it finished between gc's dry probe
/// and its real pass): a linked work tree names its repository, work tree and branch.
GcWorkspace WorkspaceInFolder(const std::string& root, const std::string& run);

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
  nlohmann::json worktrees = nlohmann::json::array();  // [{run, repo, dir, worktree, action[, recorded_dir]}]
  nlohmann::json branches = nlohmann::json::array();   // [{run, repo, branch, action, unique_commits,
                                                       //   snapshot_unique[, snapshot], command}]
};

/// CleanWorkspaces removes the runs' workspace folders (inside root only), prunes the work tree
/// records of `repo:` workspaces, and deletes, keeps or asks about their branches. A
/// repository that moved or is gone is reported, and the rest goes on.
GcGitReport CleanWorkspaces(const std::vector<GcWorkspace>& workspaces, const GcGitOptions& o);

/// GcJson is `gc --json`'s report (an empty store's too: every key, zero).
nlohmann::json GcJson(const store::GcOptions& o, const store::GcReport& rep, const GcGitReport& git);

}  // namespace sw::cli
