// GitRepo: the run's workspace as a git repository, through libgit2 (never the git command).
// A run works on its own branch `specwright/RUN_ID`; every node that changed files ends with
// a commit there, which is what `specwright files` shows and what resume starts from.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

struct git_repository;

namespace sw::tools {

/// KeptAside is what GitRepo::KeepAside saved: the ref and commit holding it, and each path with
/// its status (modified, deleted, untracked...). Empty files: there was nothing to keep.
struct KeptAside {
  std::string ref, commit;
  std::vector<std::pair<std::string, std::string>> files;
};

/// Identity is a person (or program) a commit names as its author or committer.
struct Identity {
  std::string name, email;
  bool empty() const { return name.empty() && email.empty(); }
};

/// kFallbackIdentity signs commits when no identity is configured anywhere.
inline const Identity kFallbackIdentity{"Specwright", "specwright@localhost"};

/// CommitIdentities is who the commits of a repository name, the way git itself chooses:
/// the author is `author` when given, else $GIT_AUTHOR_NAME/$GIT_AUTHOR_EMAIL over the
/// configuration's author.name/author.email (git >= 2.22) over user.name/user.email (the
/// repository's, then global, XDG and system files), the email last from $EMAIL; the
/// committer is $GIT_COMMITTER_NAME/$GIT_COMMITTER_EMAIL over committer.name/committer.email
/// over the same user.* (an `author` override changes the author only, like `git commit
/// --author`). Either falls back to kFallbackIdentity when its name or email is still unknown.
/// author_from/committer_from say where each came from, for a person: "workspace.author",
/// "GIT_AUTHOR_*", "the repository's git config (user.*)", "the global git config
/// (author.*)", "$EMAIL", joined with " and " when mixed, or "the fallback (no identity
/// configured)".
struct CommitIdentities {
  Identity author, committer;
  std::string author_from, committer_from;
};
CommitIdentities ResolveIdentities(git_repository* repo, const Identity& author = {});

/// RunBranch is what gc needs to know about a run's branch in the user's repository.
struct RunBranch {
  bool exists = false;
  bool checked_out = false;   // by some work tree (the main one or a linked one)
  bool checked_out_elsewhere = false;  // by a work tree other than own_worktree (the run's)
  int unique_commits = 0;     // commits reachable from no other branch (local or remote),
                              // the snapshot (InspectBranch's) not counted
  bool snapshot_unique = false;  // the snapshot commit is one of them: only this branch has it
};

/// WorktreeRecord is what a repository records of one linked work tree, as gc sees it:
/// state "none" (no such record), "other" (it is of another folder than the one asked
/// about: path says which), "present" (its folder is still there), "locked", or
/// "prunable" (its folder is gone and it is not locked: `git worktree prune` would remove it).
struct WorktreeRecord {
  std::string state;
  std::string path;  // the folder the record names ("" for none)
};

/// LinkedWorktree is the repository a linked work tree belongs to, read from the work tree.
struct LinkedWorktree {
  std::string repo;    // the repository's work tree (or its git directory, if bare)
  std::string name;    // the work tree's name there (.git/worktrees/NAME)
  std::string branch;  // the branch it has checked out ("" if detached)
};

struct CommitInfo {
  std::string id;
  std::string summary;
  double time = 0;  // unix seconds
};

class GitRepo {
 public:
  /// Open a repository whose work tree is dir.
  static Result<std::unique_ptr<GitRepo>> Open(const std::string& dir);
  /// Init a new repository in dir with HEAD on `branch` (unborn until the first commit).
  static Result<std::unique_ptr<GitRepo>> Init(const std::string& dir, const std::string& branch);
  /// AddWorktree checks out a new branch of the repository at repo_dir, started from its
  /// HEAD (or from `start`, a commit), as a separate work tree at dir (the user's own
  /// checkout is not touched).
  static Result<std::unique_ptr<GitRepo>> AddWorktree(const std::string& repo_dir, const std::string& dir,
                                                      const std::string& worktree_name, const std::string& branch,
                                                      const std::string& start = "");
  /// InspectWorktree reads, changing nothing, the record of the linked work tree `name` in
  /// the repository at repo_dir (any folder git opens as it: a work tree, linked or not, or
  /// a git directory) and says what PruneWorktree would find: its paths are compared with
  /// dir after resolving links. folder_going: dir is about to be removed, so a record whose
  /// folder is there now counts as "prunable" (gc --dry-run, before it removes the folder).
  static Result<WorktreeRecord> InspectWorktree(const std::string& repo_dir, const std::string& name,
                                                const std::string& dir, bool folder_going = false);
  /// PruneWorktree removes the record of the linked work tree `name` from the repository at
  /// repo_dir (.git/worktrees/NAME) once its folder is gone, as `git worktree prune` would.
  /// Returns the record as InspectWorktree found it, with state "pruned" when it was
  /// removed; "none", "other", "present" and "locked" are left alone.
  static Result<WorktreeRecord> PruneWorktree(const std::string& repo_dir, const std::string& name,
                                              const std::string& dir);
  /// LinkedWorktreeOf says which repository the linked work tree at dir belongs to (NotFound
  /// if dir is no linked work tree).
  static Result<LinkedWorktree> LinkedWorktreeOf(const std::string& dir);
  /// InspectBranch says whether a local branch exists, is checked out, and holds commits no
  /// other branch has; `snapshot` (a commit id, may be "") is not counted among them but
  /// reported apart (snapshot_unique). own_worktree (may be ""): the run's work tree, which
  /// checked_out_elsewhere leaves out.
  static Result<RunBranch> InspectBranch(const std::string& repo_dir, const std::string& branch,
                                         const std::string& snapshot = "", const std::string& own_worktree = "");
  /// DeleteBranch deletes a local branch that no work tree has checked out.
  static sw::Status DeleteBranch(const std::string& repo_dir, const std::string& branch);
  ~GitRepo();
  GitRepo(const GitRepo&) = delete;
  GitRepo& operator=(const GitRepo&) = delete;

  const std::string& dir() const { return dir_; }
  /// SetAuthor makes the commits of this handle name `who` as their author (the committer
  /// stays the configured identity); empty: the configured identity (ResolveIdentities).
  void SetAuthor(const Identity& who) { author_ = who; }
  const Identity& author() const { return author_; }
  /// Identities is who this handle's next commit will name.
  CommitIdentities Identities() const;
  /// GitDir is the repository's own directory for this work tree (".git/", or
  /// ".git/worktrees/NAME/" of a linked work tree), ending in '/'.
  std::string GitDir() const;
  /// CommitAll stages every change in the work tree (honouring .gitignore, deletions
  /// included) and commits it on HEAD; "" when nothing changed.
  Result<std::string> CommitAll(const std::string& message);
  /// Head is the commit HEAD points to ("" on an unborn branch).
  Result<std::string> Head();
  /// Diff is the unified patch from commit `from` ("" = the empty tree) to commit `to`
  /// ("" = the work tree, untracked files included).
  Result<std::string> Diff(const std::string& from, const std::string& to);
  /// ChangedFiles lists the paths that differ between two commits.
  Result<std::vector<std::string>> ChangedFiles(const std::string& from, const std::string& to);
  /// Status lists changed and untracked paths: [{"path", "status"}].
  Result<nlohmann::json> Status();
  /// Log is the newest `max` commits reachable from HEAD.
  Result<std::vector<CommitInfo>> Log(int max);
  /// ResetHard makes the work tree exactly `commit` again: tracked files restored, untracked
  /// and ignored files (build outputs) removed.
  sw::Status ResetHard(const std::string& commit, bool remove_ignored = true);
  /// KeepAside saves every change of the work tree that HEAD does not have (modified, deleted
  /// and untracked files; ignored ones stay out) as a commit on HEAD under a ref of its own,
  /// refs/specwright/kept/<time>, touching neither HEAD, the index nor the work tree: what a
  /// reset is about to remove stays in git, to be taken back with
  /// `git checkout REF -- PATH`.
  /// With `since` (a commit), everything since it is kept too — commits made on the branch
  /// since (a person's, or checkpoints that took a person's edits in) and the work tree — and
  /// files lists what differs from it: a reset to `since` loses none of it.
  Result<KeptAside> KeepAside(const std::string& message, const std::string& since = "");
  /// SnapshotWorkTree commits HEAD plus every change of the work tree (modified, deleted and
  /// untracked files; ignored ones stay out) with HEAD as its parent, moving no ref and
  /// writing neither the index nor the work tree; "" when there is nothing to take.
  Result<std::string> SnapshotWorkTree(const std::string& message);
  /// ResetMixed moves HEAD (and the index) to `commit` and leaves the work tree alone, so the
  /// changes since can be committed again in other slices (CommitPaths).
  sw::Status ResetMixed(const std::string& commit);
  /// CommitPaths stages only the given paths (relative; changes, additions and deletions) and
  /// commits them on HEAD; "" when none of them changed.
  Result<std::string> CommitPaths(const std::string& message, const std::vector<std::string>& paths);
  /// ExportTree writes the files of `commit` into dest (an existing directory): regular and
  /// executable files and symlinks; entry names that could leave dest are refused.
  sw::Status ExportTree(const std::string& commit, const std::string& dest);
  /// ReadFilesAt returns the files below prefix (a folder, "" = all) whose names end with
  /// suffix, as they are at revision rev (any revision git understands: HEAD~2, a tag, a
  /// short id), by path.
  Result<std::map<std::string, std::string>> ReadFilesAt(const std::string& rev, const std::string& prefix,
                                                         const std::string& suffix);

 private:
  GitRepo(git_repository* r, std::string dir) : repo_(r), dir_(std::move(dir)) {}
  git_repository* repo_;
  std::string dir_;
  Identity author_;
};

}  // namespace sw::tools
