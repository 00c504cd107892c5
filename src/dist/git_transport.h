// git_transport: a run's workspace travels between machines as git history, through a shared
// bare repository (the "remote": a local path, file://, ssh:// or user@host:path, http(s)://).
// No shared file system is assumed beyond that remote.
//
//   orchestrator                         remote                          worker
//   Publish(workspace) ──push──> refs/specwright/runs/R/base/C
//                                                       <──fetch── Checkout(cache, R, C) -> dir
//                                                                  (the tool runs in dir)
//                        refs/specwright/runs/R/task/T/D <──push── Deliver(dir, R, T, C) -> D
//   Absorb(workspace, R, T, D) <──fetch──
//
// Everything is libgit2 (never the git command). Refs and paths are built only from validated
// ids (ValidateRunId's grammar) and full commit ids; a remote's userinfo (user:password@, or a
// token as the user of an http(s) URL) never appears in an error (RedactRemote).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "dist/git_remote.h"
#include "tools/git_repo.h"

namespace sw::dist {

/// ValidateTaskId: the grammar of run ids (ValidateRunId): [A-Za-z0-9._-], 1..128 chars, no
/// "..", not starting with '.' or '-', not ending with '.' or ".lock".
Status ValidateTaskId(std::string_view id);

/// BaseRef is where Publish puts a base: refs/specwright/runs/<run>/base/<commit>.
std::string BaseRef(const std::string& run_id, const std::string& commit);
/// TaskRef is where Deliver puts a task's result: refs/specwright/runs/<run>/task/<task>/<commit>.
/// The commit is part of the name, so a task re-run after a lost lease never overwrites the
/// result another attempt already reported: every result stays fetchable by its own id.
std::string TaskRef(const std::string& run_id, const std::string& task_id, const std::string& commit);

/// Publish (orchestrator) records the workspace's work tree as it is now — HEAD plus every
/// uncommitted change, untracked files included, ignored files left out — as a commit whose
/// parent is HEAD (HEAD itself when nothing is uncommitted), without moving the run's branch or
/// writing the index or the work tree; keeps it under BaseRef in the workspace's repository and
/// pushes it there on the remote. Returns the commit id (the base a task starts from).
Result<std::string> Publish(const std::string& workspace_dir, const std::string& remote, const std::string& run_id,
                            const TransportOptions& options = {});

/// TaskTree is a work tree a worker checked out for one task: a slot of the run's cache that
/// no other task (thread or process on this machine) gets until this object is destroyed.
class TaskTree {
 public:
  ~TaskTree();
  TaskTree(const TaskTree&) = delete;
  TaskTree& operator=(const TaskTree&) = delete;
  /// dir is the work tree the tool runs in (CallContext::workspace).
  const std::string& dir() const { return dir_; }
  /// git_dir is its repository's own folder (dir/.git/), e.g. for the tool's process ledger.
  std::string git_dir() const { return dir_ + "/.git/"; }
  /// base is the commit the work tree was checked out at.
  const std::string& base() const { return base_; }

 private:
  friend Result<std::unique_ptr<TaskTree>> Checkout(const std::string&, const std::string&, const std::string&,
                                                    const std::string&, const TransportOptions&);
  TaskTree(std::string dir, std::string base, int lock_fd) : dir_(std::move(dir)), base_(std::move(base)), lock_fd_(lock_fd) {}
  std::string dir_, base_;
  int lock_fd_ = -1;
};

/// Checkout (worker) gives a clean work tree at exactly `commit` (a base Publish pushed for
/// run_id). The run's cache is cache_root/<run>/: one object store (shared.git) that fetches
/// only what it lacks (nothing when it has the commit), and work-tree slots (trees/<n>, each a
/// repository borrowing shared.git's objects) taken under an flock, so concurrent tasks of one
/// run never share a work tree. A slot is reset hard to the commit and cleaned of untracked and
/// ignored files: nothing an earlier task left there leaks into the next.
Result<std::unique_ptr<TaskTree>> Checkout(const std::string& cache_root, const std::string& remote,
                                           const std::string& run_id, const std::string& commit,
                                           const TransportOptions& options = {});

/// Deliver (worker) commits everything in the work tree at dir that differs from base_commit
/// (added, modified, deleted files, new folders; ignored files left out; commits a tool made
/// itself are flattened into this one) as one commit whose only parent is base_commit, author
/// per tools::ResolveIdentities(repo, author), and pushes it to TaskRef. "" (and no push) when
/// nothing changed.
Result<std::string> Deliver(const std::string& dir, const std::string& remote, const std::string& run_id,
                            const std::string& task_id, const std::string& base_commit,
                            const tools::Identity& author = {}, const TransportOptions& options = {});

/// Absorbed is what Absorb did to the workspace's work tree.
struct Absorbed {
  /// "fast-forward": the work tree was still the base and became the task's tree;
  /// "merge": the task's changes (base -> commit) were merged into a work tree that moved on;
  /// "unchanged": the work tree had them all already.
  std::string mode;
  std::vector<std::string> files;  // the paths the work tree changed in
};

/// Absorb (orchestrator) fetches the task's commit (TaskRef; no fetch when the workspace's
/// repository has it) and applies its changes — from its parent, the base it was delivered
/// on, to it — to the workspace's work tree, which may have moved on since the base (other
/// tasks absorbed, checkpoints, a person's edits): a 3-way merge of base, the work tree as it
/// is now and the task commit. Only the work tree changes (never HEAD, the branch or the
/// index): the engine's next checkpoint commits it. A conflict is a kFailed error
/// "merge conflict ... in PATH, PATH" and nothing is touched; so is a work tree file changed
/// meanwhile (libgit2's safe checkout refuses to overwrite it). Publish and Absorb calls in
/// one process are serialized.
Result<Absorbed> Absorb(const std::string& workspace_dir, const std::string& remote, const std::string& run_id,
                        const std::string& task_id, const std::string& commit, const TransportOptions& options = {});

/// CheckpointRef is where PushCheckpoint puts the run's branch head:
/// refs/specwright/runs/<run>/checkpoint/<commit>.
std::string CheckpointRef(const std::string& run_id, const std::string& commit);

/// PushCheckpoint (orchestrator) pushes the workspace's HEAD — the run's branch with its
/// checkpoints — to CheckpointRef and returns its id, so that an orchestrator taking the run
/// over on another machine can rebuild the workspace (RestoreWorkspace).
Result<std::string> PushCheckpoint(const std::string& workspace_dir, const std::string& remote, const std::string& run_id,
                                   const TransportOptions& options = {});

/// RestoreWorkspace (a new orchestrator) makes dir (absent or empty) a repository on the
/// run's branch specwright/<run> at `commit` (a CheckpointRef pushed before), work tree
/// checked out: what engine resume then opens and resets. A standalone repository: the
/// user's own repository (of a `repo` workspace) is on the first machine only.
Status RestoreWorkspace(const std::string& dir, const std::string& remote, const std::string& run_id,
                        const std::string& commit, const TransportOptions& options = {});

/// ForgetRun removes what the transport keeps of a run once it is over: its refs
/// (refs/specwright/runs/<run>/...) in the workspace's repository (when workspace_dir is not
/// "") and on the remote (when remote is not ""), and its cache under cache_root (when not "").
Status ForgetRun(const std::string& workspace_dir, const std::string& remote, const std::string& cache_root,
                 const std::string& run_id, const TransportOptions& options = {});

}  // namespace sw::dist
