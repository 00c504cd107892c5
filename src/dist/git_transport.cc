#include "dist/git_transport.h"

#include <fcntl.h>
#include <git2.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <utility>

#include "base/fs.h"
#include "base/ids.h"
#include "base/strings.h"
#include "tools/git_owned.h"

namespace sw::dist {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxSlots = 256;  // work trees of one run on one machine at once
constexpr const char* kRefRoot = "refs/specwright/runs/";

void InitOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    git_libgit2_init();
    // tools' own initialisation (the git config files git itself would read, for the
    // identities commits name) runs on its first use: use it now.
    (void)tools::ResolveIdentities(nullptr);
  });
}

using tools::git::Owned;
using tools::git::OidHex;
using Repo = Owned<git_repository, git_repository_free>;
using Commit = Owned<git_commit, git_commit_free>;
using Tree = Owned<git_tree, git_tree_free>;
using Index = Owned<git_index, git_index_free>;
using Ref = Owned<git_reference, git_reference_free>;
using Diff = Owned<git_diff, git_diff_free>;

std::string LastGitError() {
  const git_error* e = git_error_last();
  std::string m = e && e->message ? e->message : "unknown error";
  git_error_clear();
  return m;
}

/// Err is libgit2's last error as a Status naming what we were doing.
Status Err(const std::string& what) { return IoError("git: " + what + ": " + LastGitError()); }


Status ValidateCommitId(const std::string& id, const char* what) {
  bool ok = id.size() == GIT_OID_HEXSZ;
  for (char c : id) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!ok) return InvalidInput(std::string("invalid ") + what + " " + Quote(id) + ": a full commit id (40 hex digits) is needed");
  return Status::Ok();
}

Status CheckRefName(const std::string& ref) {
  int valid = 0;
  if (git_reference_name_is_valid(&valid, ref.c_str()) != 0 || !valid) {
    git_error_clear();
    return InvalidInput("not a valid git ref name: " + Quote(ref));
  }
  return Status::Ok();
}

/// PushRef pushes one local ref to the same name on the remote.
Status PushRef(git_repository* repo, const std::string& remote, const std::string& ref, const TransportOptions& o) {
  return PushRefs(repo, remote, {ref + ":" + ref}, ref, o);
}

Result<bool> HasCommit(git_repository* repo, const std::string& id) {
  git_oid oid;
  git_oid_fromstr(&oid, id.c_str());
  Owned<git_odb, git_odb_free> odb;
  if (git_repository_odb(odb.out(), repo) != 0) return Err("opening the object database");
  bool has = git_odb_exists(odb.get(), &oid) == 1;
  git_error_clear();
  return has;
}

Status LookupCommit(git_repository* repo, const std::string& id, Commit* c) {
  git_oid oid;
  git_oid_fromstr(&oid, id.c_str());
  if (git_commit_lookup(c->out(), repo, &oid) != 0) return Err("reading commit " + id);
  return Status::Ok();
}

Status SetRef(git_repository* repo, const std::string& ref, const std::string& id) {
  SW_RETURN_IF_ERROR(CheckRefName(ref));
  git_oid oid;
  git_oid_fromstr(&oid, id.c_str());
  Ref r;
  if (git_reference_create(r.out(), repo, ref.c_str(), &oid, 1, "specwright: transport") != 0) return Err("writing " + ref);
  return Status::Ok();
}

Status OpenRepo(const std::string& dir, Repo* repo) {
  InitOnce();
  if (git_repository_open(repo->out(), dir.c_str()) != 0) return Err("opening the repository at " + dir);
  return Status::Ok();
}

/// WorkTreeTree writes the tree of the work tree as it is (ignored files left out, tracked
/// ones kept) through the repository's index object, then forgets it: the index file is
/// never written.
Status WorkTreeTree(git_repository* repo, git_oid* tree_id) {
  Index idx;
  if (git_repository_index(idx.out(), repo) != 0) return Err("opening the index");
  if (git_index_read(idx.get(), 1) != 0) return Err("reading the index");
  char star[] = "*";
  char* pats[] = {star};
  git_strarray spec = {pats, 1};
  int rc = git_index_add_all(idx.get(), &spec, GIT_INDEX_ADD_DEFAULT, nullptr, nullptr);
  if (rc == 0) rc = git_index_update_all(idx.get(), &spec, nullptr, nullptr);
  if (rc == 0) rc = git_index_write_tree(tree_id, idx.get());
  std::string err = rc != 0 ? LastGitError() : "";
  git_index_read(idx.get(), 1);
  git_error_clear();
  if (rc != 0) return IoError("git: reading the work tree: " + err);
  return Status::Ok();
}

/// The lock every Publish and Absorb of this process takes: one writer of a work tree at a time.
std::mutex& WorkspaceMutex() {
  static std::mutex mu;
  return mu;
}

/// FileLock is an flock(2) on a file, held until destroyed (or released to a TaskTree).
class FileLock {
 public:
  ~FileLock() {
    if (fd_ >= 0) close(fd_);
  }
  /// Acquire blocks for the lock (wait) or tries once; false when another holds it.
  Result<bool> Acquire(const std::string& path, bool wait) {
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return IoError("opening " + path + ": " + std::strerror(errno));
    while (flock(fd_, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd_);
      fd_ = -1;
      if (e == EWOULDBLOCK) return false;
      return IoError("locking " + path + ": " + std::strerror(e));
    }
    return true;
  }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

/// RemoveStaleLocks removes lock files git leaves when killed mid-write; only called with the
/// folder's flock held, when no other writer can be there.
void RemoveStaleLocks(const fs::path& git_dir, const std::vector<std::string>& refs) {
  std::error_code ec;
  for (const char* f : {"index.lock", "HEAD.lock", "packed-refs.lock", "config.lock"}) fs::remove(git_dir / f, ec);
  for (const auto& r : refs) fs::remove(git_dir / (r + ".lock"), ec);
}

/// PrepareSlot makes the slot at dir a repository borrowing shared's objects, with its work
/// tree exactly `commit`.
Status PrepareSlot(const fs::path& dir, const fs::path& shared, const std::string& commit) {
  std::error_code ec;
  if (!fs::exists(dir / ".git" / "HEAD", ec)) {
    fs::remove_all(dir, ec);
    git_repository_init_options io = GIT_REPOSITORY_INIT_OPTIONS_INIT;
    io.flags = GIT_REPOSITORY_INIT_MKPATH;
    Repo fresh;
    if (git_repository_init_ext(fresh.out(), dir.c_str(), &io) != 0) return Err("creating a work tree at " + dir.string());
  }
  // Objects come from the run's shared store: written once, fetched once.
  SW_RETURN_IF_ERROR(
      WriteFileAtomic((dir / ".git" / "objects" / "info" / "alternates").string(), fs::absolute(shared / "objects").string() + "\n"));
  RemoveStaleLocks(dir / ".git", {});
  Repo repo;
  SW_RETURN_IF_ERROR(OpenRepo(dir.string(), &repo));
  git_oid oid;
  git_oid_fromstr(&oid, commit.c_str());
  Owned<git_object, git_object_free> obj;
  if (git_object_lookup(obj.out(), repo.get(), &oid, GIT_OBJECT_COMMIT) != 0) return Err("reading commit " + commit);
  if (git_repository_set_head_detached(repo.get(), &oid) != 0) return Err("detaching HEAD at " + commit);
  git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
  co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED | GIT_CHECKOUT_REMOVE_IGNORED;
  if (git_reset(repo.get(), obj.get(), GIT_RESET_HARD, &co) != 0) return Err("resetting " + dir.string() + " to " + commit);
  // git_reset forces its own checkout strategy: files the commit does not know need a second pass.
  if (git_checkout_head(repo.get(), &co) != 0) return Err("cleaning " + dir.string());
  return Status::Ok();
}

std::string RunDir(const std::string& cache_root, const std::string& run_id) {
  return (fs::path(cache_root) / run_id).string();
}

}  // namespace

// ---- public ----

Status ValidateTaskId(std::string_view id) {
  Status s = ValidateRunId(id);
  if (s.ok()) return s;
  std::string m = s.message();
  if (StartsWith(m, "invalid run id")) m = "invalid task id" + m.substr(std::string("invalid run id").size());
  return Status(s.code(), m);
}

std::string BaseRef(const std::string& run_id, const std::string& commit) {
  return kRefRoot + run_id + "/base/" + commit;
}

std::string TaskRef(const std::string& run_id, const std::string& task_id, const std::string& commit) {
  return kRefRoot + run_id + "/task/" + task_id + "/" + commit;
}

Result<std::string> Publish(const std::string& workspace_dir, const std::string& remote, const std::string& run_id,
                            const TransportOptions& options) {
  SW_RETURN_IF_ERROR(ValidateRunId(run_id));
  SW_RETURN_IF_ERROR(ValidateRemote(remote));
  std::lock_guard<std::mutex> lock(WorkspaceMutex());
  SW_ASSIGN_OR_RETURN(auto ws, tools::GitRepo::Open(workspace_dir));
  SW_ASSIGN_OR_RETURN(std::string commit,
                      ws->SnapshotWorkTree("specwright: the workspace of run " + run_id + " for its tasks\n\n"
                                           "HEAD plus the work tree's uncommitted changes, as a task's base."));
  if (commit.empty()) {
    SW_ASSIGN_OR_RETURN(commit, ws->Head());
  }
  if (commit.empty()) return Failed("the workspace " + workspace_dir + " has no commit to publish");
  Repo repo;
  SW_RETURN_IF_ERROR(OpenRepo(workspace_dir, &repo));
  std::string ref = BaseRef(run_id, commit);
  SW_RETURN_IF_ERROR(SetRef(repo.get(), ref, commit));
  SW_RETURN_IF_ERROR(PushRef(repo.get(), remote, ref, options).Annotate("publishing the workspace of run " + run_id));
  return commit;
}

TaskTree::~TaskTree() {
  if (lock_fd_ >= 0) close(lock_fd_);
}

Result<std::unique_ptr<TaskTree>> Checkout(const std::string& cache_root, const std::string& remote,
                                           const std::string& run_id, const std::string& commit,
                                           const TransportOptions& options) {
  SW_RETURN_IF_ERROR(ValidateRunId(run_id));
  SW_RETURN_IF_ERROR(ValidateCommitId(commit, "base commit"));
  SW_RETURN_IF_ERROR(ValidateRemote(remote));
  if (cache_root.empty()) return InvalidInput("no cache folder given for the workspaces of tasks");
  InitOnce();
  fs::path run_dir = RunDir(cache_root, run_id);
  fs::path shared = run_dir / "shared.git";
  SW_RETURN_IF_ERROR(MakeDirs((run_dir / "trees").string()));
  {
    // One fetch into the shared store at a time (threads and processes of this machine).
    FileLock fetch_lock;
    SW_ASSIGN_OR_RETURN(bool locked, fetch_lock.Acquire((run_dir / "fetch.lock").string(), /*wait=*/true));
    (void)locked;
    Repo repo;
    if (!fs::exists(shared / "HEAD")) {
      git_repository_init_options io = GIT_REPOSITORY_INIT_OPTIONS_INIT;
      io.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_BARE;
      if (git_repository_init_ext(repo.out(), shared.c_str(), &io) != 0) return Err("creating " + shared.string());
    } else {
      SW_RETURN_IF_ERROR(OpenRepo(shared.string(), &repo));
    }
    SW_ASSIGN_OR_RETURN(bool has, HasCommit(repo.get(), commit));
    if (!has) {
      std::string ref = BaseRef(run_id, commit);
      RemoveStaleLocks(shared, {ref});
      SW_RETURN_IF_ERROR(FetchRef(repo.get(), remote, ref, commit, options).Annotate("checking out run " + run_id));
    }
  }
  // A slot no other task holds: the first free one.
  for (int n = 0; n < kMaxSlots; ++n) {
    FileLock slot_lock;
    fs::path lock_path = run_dir / "trees" / (std::to_string(n) + ".lock");
    SW_ASSIGN_OR_RETURN(bool got, slot_lock.Acquire(lock_path.string(), /*wait=*/false));
    if (!got) continue;
    fs::path dir = run_dir / "trees" / std::to_string(n);
    Status s = PrepareSlot(dir, shared, commit);
    if (!s.ok()) {
      // What a tool did to the slot (its .git removed or broken, files it cannot reset) is no
      // reason to fail the next task: start the slot afresh, once.
      std::error_code ec;
      fs::remove_all(dir, ec);
      s = PrepareSlot(dir, shared, commit);
    }
    if (!s.ok()) return s.Annotate("checking out run " + run_id + " at " + commit);
    return std::unique_ptr<TaskTree>(new TaskTree(fs::absolute(dir).lexically_normal().string(), commit, slot_lock.Release()));
  }
  return Status(Code::kUnavailable, "all " + std::to_string(kMaxSlots) + " work trees of run " + run_id + " in " +
                                        run_dir.string() + " are in use");
}

Result<std::string> Deliver(const std::string& dir, const std::string& remote, const std::string& run_id,
                            const std::string& task_id, const std::string& base_commit, const tools::Identity& author,
                            const TransportOptions& options) {
  SW_RETURN_IF_ERROR(ValidateRunId(run_id));
  SW_RETURN_IF_ERROR(ValidateTaskId(task_id));
  SW_RETURN_IF_ERROR(ValidateCommitId(base_commit, "base commit"));
  SW_RETURN_IF_ERROR(ValidateRemote(remote));
  Repo repo;
  SW_RETURN_IF_ERROR(OpenRepo(dir, &repo));
  Commit base;
  SW_RETURN_IF_ERROR(LookupCommit(repo.get(), base_commit, &base));
  git_oid tree_id;
  SW_RETURN_IF_ERROR(WorkTreeTree(repo.get(), &tree_id));
  if (git_oid_equal(&tree_id, git_commit_tree_id(base.get()))) return std::string();
  Tree tree;
  if (git_tree_lookup(tree.out(), repo.get(), &tree_id) != 0) return Err("reading the new tree");
  // Signed by the one rule every Specwright commit follows.
  tools::CommitIdentities who = tools::ResolveIdentities(repo.get(), author);
  Owned<git_signature, git_signature_free> a, c;
  if (git_signature_now(a.out(), who.author.name.c_str(), who.author.email.c_str()) != 0 ||
      git_signature_now(c.out(), who.committer.name.c_str(), who.committer.email.c_str()) != 0)
    return Err("making a signature");
  std::string message = "specwright: run " + run_id + " task " + task_id + "\n\nBase: " + base_commit + "\n";
  git_oid id;
  const git_commit* parents[] = {base.get()};
  if (git_commit_create(&id, repo.get(), nullptr, a.get(), c.get(), "UTF-8", message.c_str(), tree.get(), 1, parents) != 0)
    return Err("committing the task's changes");
  std::string commit = OidHex(id);
  std::string ref = TaskRef(run_id, task_id, commit);
  SW_RETURN_IF_ERROR(SetRef(repo.get(), ref, commit));
  SW_RETURN_IF_ERROR(PushRef(repo.get(), remote, ref, options).Annotate("delivering task " + task_id + " of run " + run_id));
  return commit;
}

Result<Absorbed> Absorb(const std::string& workspace_dir, const std::string& remote, const std::string& run_id,
                        const std::string& task_id, const std::string& commit, const TransportOptions& options) {
  SW_RETURN_IF_ERROR(ValidateRunId(run_id));
  SW_RETURN_IF_ERROR(ValidateTaskId(task_id));
  SW_RETURN_IF_ERROR(ValidateCommitId(commit, "task commit"));
  SW_RETURN_IF_ERROR(ValidateRemote(remote));
  std::string what = "absorbing task " + task_id + " of run " + run_id + " (" + commit.substr(0, 12) + ")";
  std::lock_guard<std::mutex> lock(WorkspaceMutex());
  Repo repo;
  SW_RETURN_IF_ERROR(OpenRepo(workspace_dir, &repo));
  SW_ASSIGN_OR_RETURN(bool has, HasCommit(repo.get(), commit));
  if (!has) {
    SW_RETURN_IF_ERROR(FetchRef(repo.get(), remote, TaskRef(run_id, task_id, commit), commit, options).Annotate(what));
  }
  Commit task;
  SW_RETURN_IF_ERROR(LookupCommit(repo.get(), commit, &task));
  if (git_commit_parentcount(task.get()) != 1)
    return Failed(what + ": the commit has " + std::to_string(git_commit_parentcount(task.get())) +
                  " parents; a delivered task has one, its base");
  Commit base;
  if (git_commit_parent(base.out(), task.get(), 0) != 0) return Err(what + ": reading its base");
  Tree base_tree, task_tree, current_tree, result_tree;
  if (git_commit_tree(base_tree.out(), base.get()) != 0 || git_commit_tree(task_tree.out(), task.get()) != 0)
    return Err(what + ": reading its trees");
  git_oid current_id;
  SW_RETURN_IF_ERROR(WorkTreeTree(repo.get(), &current_id));
  if (git_tree_lookup(current_tree.out(), repo.get(), &current_id) != 0) return Err(what + ": reading the work tree");

  Absorbed out;
  git_oid result_id;
  if (git_oid_equal(&current_id, git_tree_id(task_tree.get()))) {
    out.mode = "unchanged";
    return out;
  }
  if (git_oid_equal(&current_id, git_tree_id(base_tree.get()))) {
    out.mode = "fast-forward";
    git_oid_cpy(&result_id, git_tree_id(task_tree.get()));
  } else {
    out.mode = "merge";
    git_merge_options mo = GIT_MERGE_OPTIONS_INIT;
    Index merged;
    if (git_merge_trees(merged.out(), repo.get(), base_tree.get(), current_tree.get(), task_tree.get(), &mo) != 0)
      return Err(what + ": merging");
    if (git_index_has_conflicts(merged.get())) {
      std::set<std::string> paths;
      git_index_conflict_iterator* it = nullptr;
      if (git_index_conflict_iterator_new(&it, merged.get()) == 0) {
        const git_index_entry *anc, *ours, *theirs;
        while (git_index_conflict_next(&anc, &ours, &theirs, it) == 0)
          for (const git_index_entry* e : {anc, ours, theirs})
            if (e) paths.insert(e->path);
        git_index_conflict_iterator_free(it);
      }
      git_error_clear();
      return Failed("merge conflict " + what + ": it and the workspace both changed " +
                    Join(std::vector<std::string>(paths.begin(), paths.end()), ", ") + "; the workspace is unchanged");
    }
    if (git_index_write_tree_to(&result_id, merged.get(), repo.get()) != 0) return Err(what + ": writing the merged tree");
    if (git_oid_equal(&result_id, &current_id)) {
      out.mode = "unchanged";
      return out;
    }
  }
  if (git_tree_lookup(result_tree.out(), repo.get(), &result_id) != 0) return Err(what + ": reading the merged tree");
  Diff diff;
  if (git_diff_tree_to_tree(diff.out(), repo.get(), current_tree.get(), result_tree.get(), nullptr) != 0)
    return Err(what + ": comparing");
  for (size_t i = 0, n = git_diff_num_deltas(diff.get()); i < n; ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
    out.files.push_back(d->new_file.path ? d->new_file.path : d->old_file.path);
  }
  // The work tree goes from what it is (the baseline) to the result; a file that changed
  // since it was read is a conflict, found before anything is written. The index is left
  // as it is: the next checkpoint stages everything.
  struct Notes {
    std::vector<std::string> paths;
  } notes;
  git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
  co.checkout_strategy = GIT_CHECKOUT_SAFE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
  co.baseline = current_tree.get();
  co.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT;
  co.notify_payload = &notes;
  co.notify_cb = [](git_checkout_notify_t, const char* path, const git_diff_file*, const git_diff_file*,
                    const git_diff_file*, void* p) -> int {
    static_cast<Notes*>(p)->paths.push_back(path);
    return 0;
  };
  int rc = git_checkout_tree(repo.get(), reinterpret_cast<git_object*>(result_tree.get()), &co);
  if (rc == GIT_ECONFLICT || !notes.paths.empty()) {
    git_error_clear();
    return Failed("merge conflict " + what + ": the workspace's " + Join(notes.paths, ", ") +
                  " changed while it was applied; the workspace is unchanged");
  }
  if (rc != 0) return Err(what + ": writing the work tree");
  return out;
}

std::string CheckpointRef(const std::string& run_id, const std::string& commit) {
  return kRefRoot + run_id + "/checkpoint/" + commit;
}

Result<std::string> PushCheckpoint(const std::string& workspace_dir, const std::string& remote, const std::string& run_id,
                                   const TransportOptions& options) {
  SW_RETURN_IF_ERROR(ValidateRunId(run_id));
  SW_RETURN_IF_ERROR(ValidateRemote(remote));
  std::lock_guard<std::mutex> lock(WorkspaceMutex());
  Repo repo;
  SW_RETURN_IF_ERROR(OpenRepo(workspace_dir, &repo));
  git_oid head;
  if (git_reference_name_to_id(&head, repo.get(), "HEAD") != 0) return Err("reading HEAD of " + workspace_dir);
  std::string commit = OidHex(head);
  std::string ref = CheckpointRef(run_id, commit);
  SW_RETURN_IF_ERROR(SetRef(repo.get(), ref, commit));
  SW_RETURN_IF_ERROR(PushRef(repo.get(), remote, ref, options).Annotate("pushing the checkpoints of run " + run_id));
  return commit;
}

Status RestoreWorkspace(const std::string& dir, const std::string& remote, const std::string& run_id,
                        const std::string& commit, const TransportOptions& options) {
  SW_RETURN_IF_ERROR(ValidateRunId(run_id));
  SW_RETURN_IF_ERROR(ValidateCommitId(commit, "checkpoint commit"));
  SW_RETURN_IF_ERROR(ValidateRemote(remote));
  InitOnce();
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
    return InvalidInput("cannot restore the workspace of run " + run_id + " into " + dir + ": it is not empty");
  bool existed = fs::exists(dir, ec);
  Status s = [&]() -> Status {
    std::string branch = "specwright/" + run_id;
    git_repository_init_options io = GIT_REPOSITORY_INIT_OPTIONS_INIT;
    io.flags = GIT_REPOSITORY_INIT_MKPATH;
    io.initial_head = branch.c_str();
    Repo repo;
    if (git_repository_init_ext(repo.out(), dir.c_str(), &io) != 0) return Err("creating a repository in " + dir);
    std::string what = "restoring the workspace of run " + run_id;
    SW_RETURN_IF_ERROR(FetchRef(repo.get(), remote, CheckpointRef(run_id, commit), commit, options).Annotate(what));
    Commit c;
    SW_RETURN_IF_ERROR(LookupCommit(repo.get(), commit, &c));
    Ref br;
    if (git_branch_create(br.out(), repo.get(), branch.c_str(), c.get(), 0) != 0) return Err(what + ": creating " + branch);
    git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
    co.checkout_strategy = GIT_CHECKOUT_FORCE;
    if (git_checkout_head(repo.get(), &co) != 0) return Err(what + ": checking out " + commit);
    return Status::Ok();
  }();
  if (!s.ok()) {
    // Half a restore is no workspace: the next try (here, or after a give-back) must find the
    // folder as it was, empty or absent, and restore again, not resume in an empty repository.
    if (!existed) {
      fs::remove_all(dir, ec);
    } else {
      for (const auto& e : fs::directory_iterator(dir, ec)) fs::remove_all(e.path(), ec);
    }
  }
  return s;
}

Status ForgetRun(const std::string& workspace_dir, const std::string& remote, const std::string& cache_root,
                 const std::string& run_id, const TransportOptions& options) {
  SW_RETURN_IF_ERROR(ValidateRunId(run_id));
  InitOnce();
  std::string prefix = kRefRoot + run_id + "/";
  if (!workspace_dir.empty()) {
    std::lock_guard<std::mutex> lock(WorkspaceMutex());
    Repo repo;
    SW_RETURN_IF_ERROR(OpenRepo(workspace_dir, &repo));
    std::vector<std::string> refs;
    git_reference_iterator* it = nullptr;
    if (git_reference_iterator_glob_new(&it, repo.get(), (prefix + "*").c_str()) == 0) {
      const char* name = nullptr;
      while (git_reference_next_name(&name, it) == 0) refs.push_back(name);
      git_reference_iterator_free(it);
    }
    git_error_clear();
    for (const auto& r : refs)
      if (git_reference_remove(repo.get(), r.c_str()) != 0) return Err("removing " + r);
    if (!remote.empty()) {
      SW_RETURN_IF_ERROR(ValidateRemote(remote));
      SW_ASSIGN_OR_RETURN(auto there, ListRemoteRefs(repo.get(), remote, prefix, options));
      std::vector<std::string> gone;
      for (const auto& r : there) gone.push_back(":" + r);
      if (!gone.empty()) SW_RETURN_IF_ERROR(PushRefs(repo.get(), remote, gone, "the removal of run " + run_id + "'s refs", options));
    }
  } else if (!remote.empty()) {
    return InvalidInput("forgetting run " + run_id + " on a remote needs a repository to push from (workspace_dir)");
  }
  if (!cache_root.empty()) {
    fs::path run_dir = RunDir(cache_root, run_id);
    std::error_code ec;
    if (!fs::exists(run_dir, ec)) return Status::Ok();
    std::vector<std::unique_ptr<FileLock>> held;
    for (int n = 0; n < kMaxSlots; ++n) {
      fs::path lock_path = run_dir / "trees" / (std::to_string(n) + ".lock");
      if (!fs::exists(lock_path, ec)) continue;
      held.push_back(std::make_unique<FileLock>());
      SW_ASSIGN_OR_RETURN(bool got, held.back()->Acquire(lock_path.string(), /*wait=*/false));
      if (!got) return Status(Code::kUnavailable, "a task of run " + run_id + " still uses " + (run_dir / "trees" / std::to_string(n)).string());
    }
    fs::remove_all(run_dir, ec);
    if (ec) return IoError("removing " + run_dir.string() + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace sw::dist
