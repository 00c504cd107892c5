#include "tools/git_repo.h"

#include <cstdlib>
#include <ctime>
#include <git2.h>

#include <filesystem>
#include <mutex>
#include <set>

#include "base/fs.h"
#include "base/strings.h"
#include "tools/git_owned.h"

namespace sw::tools {
namespace {

namespace fs = std::filesystem;

/// HonourGitConfigEnvironment makes libgit2 read the configuration files git would: libgit2
/// ignores GIT_CONFIG_NOSYSTEM and GIT_CONFIG_GLOBAL, which git (and a CI or a test that sets
/// them) uses to leave out /etc/gitconfig and ~/.gitconfig. GIT_CONFIG_GLOBAL naming another
/// file is followed where that file is a `.gitconfig` (libgit2 searches folders for that
/// name); /dev/null or empty leaves out the global and the XDG files, as git does.
void HonourGitConfigEnvironment() {
  auto set = [](int level, const char* path) { git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, path); };
  const char* nosystem = std::getenv("GIT_CONFIG_NOSYSTEM");
  if (nosystem && *nosystem && std::string(nosystem) != "0" && std::string(nosystem) != "false") {
    set(GIT_CONFIG_LEVEL_SYSTEM, "");
    set(GIT_CONFIG_LEVEL_PROGRAMDATA, "");
  }
  if (const char* global = std::getenv("GIT_CONFIG_GLOBAL")) {
    fs::path file(global);
    if (file.filename() == ".gitconfig") {
      set(GIT_CONFIG_LEVEL_GLOBAL, file.parent_path().c_str());
      set(GIT_CONFIG_LEVEL_XDG, "");
    } else if (!*global || file == "/dev/null") {
      set(GIT_CONFIG_LEVEL_GLOBAL, "");
      set(GIT_CONFIG_LEVEL_XDG, "");
    }
  }
  git_error_clear();
}

void InitOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    git_libgit2_init();
    HonourGitConfigEnvironment();
  });
}

/// Err turns libgit2's last error into a Status naming what we were doing.
sw::Status Err(const std::string& what) {
  const git_error* e = git_error_last();
  return sw::Status(Code::kIo, "git: " + what + ": " + (e && e->message ? e->message : "unknown error"));
}

using git::Owned;
using git::OidHex;
using Tree = Owned<git_tree, git_tree_free>;
using Commit = Owned<git_commit, git_commit_free>;
using Index = Owned<git_index, git_index_free>;
using Diffp = Owned<git_diff, git_diff_free>;
using Ref = Owned<git_reference, git_reference_free>;


/// TreeOf loads the tree of a commit id ("" leaves *tree null: the empty tree).
sw::Status TreeOf(git_repository* repo, const std::string& id, Tree* tree) {
  if (id.empty()) return sw::Status::Ok();
  git_oid oid;
  if (git_oid_fromstr(&oid, id.c_str()) != 0) return InvalidInput("not a commit id: " + id);
  Commit c;
  if (git_commit_lookup(c.out(), repo, &oid) != 0) return Err("looking up commit " + id);
  if (git_commit_tree(tree->out(), c.get()) != 0) return Err("reading the tree of " + id);
  return sw::Status::Ok();
}

Result<std::unique_ptr<git_diff, void (*)(git_diff*)>> MakeDiff(git_repository* repo, const std::string& from,
                                                                 const std::string& to) {
  Tree a, b;
  SW_RETURN_IF_ERROR(TreeOf(repo, from, &a));
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  git_diff* diff = nullptr;
  int rc;
  if (to.empty()) {
    opts.flags |= GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS | GIT_DIFF_SHOW_UNTRACKED_CONTENT;
    rc = git_diff_tree_to_workdir_with_index(&diff, repo, a.get(), &opts);
  } else {
    SW_RETURN_IF_ERROR(TreeOf(repo, to, &b));
    rc = git_diff_tree_to_tree(&diff, repo, a.get(), b.get(), &opts);
  }
  if (rc != 0) return Err("diff " + from + ".." + to);
  return std::unique_ptr<git_diff, void (*)(git_diff*)>(diff, git_diff_free);
}

/// Repo opens a repository (a work tree, or any folder inside one) for a one-off question.
using RepoPtr = std::unique_ptr<git_repository, void (*)(git_repository*)>;
Result<RepoPtr> OpenRepo(const std::string& dir) {
  InitOnce();
  git_repository* r = nullptr;
  if (git_repository_open_ext(&r, dir.c_str(), 0, nullptr) != 0) return Err(dir + " is not a git repository");
  return RepoPtr(r, git_repository_free);
}

std::string EnvValue(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

/// Usable: git_signature_now accepts it (a name and an email, no angle brackets or newlines).
bool Usable(const Identity& id) {
  git_signature* sig = nullptr;
  if (id.name.empty() || id.email.empty() || git_signature_now(&sig, id.name.c_str(), id.email.c_str()) != 0) return false;
  git_signature_free(sig);
  return true;
}

/// Field is one half of an identity (a name or an email) and where it was found.
struct Field {
  std::string value, from;
};

/// ConfigField reads a key of the configuration, naming the file it came from.
Field ConfigField(git_config* cfg, const std::string& section, const char* key) {
  Field f;
  git_config_entry* e = nullptr;
  if (!cfg || git_config_get_entry(&e, cfg, (section + "." + key).c_str()) != 0 || !e) {
    git_error_clear();
    return f;
  }
  f.value = e->value ? e->value : "";
  const char* where = e->level == GIT_CONFIG_LEVEL_LOCAL                                      ? "the repository's git config"
                      : e->level == GIT_CONFIG_LEVEL_GLOBAL || e->level == GIT_CONFIG_LEVEL_XDG ? "the global git config"
                      : e->level == GIT_CONFIG_LEVEL_SYSTEM || e->level == GIT_CONFIG_LEVEL_PROGRAMDATA
                          ? "the system git config"
                          : "the git config";
  f.from = std::string(where) + " (" + section + ".*)";
  git_config_entry_free(e);
  return f;
}

/// Role is the identity of one role (author or committer), the way git finds it: its
/// variables, over ROLE.name/ROLE.email, over user.name/user.email, the email over $EMAIL.
Identity Role(git_config* cfg, const char* role, const char* name_var, const char* email_var, const char* vars,
              std::string* from) {
  auto pick = [&](const char* var, const char* key) {
    Field f{EnvValue(var), vars};
    if (f.value.empty()) f = ConfigField(cfg, role, key);
    if (f.value.empty()) f = ConfigField(cfg, "user", key);
    return f;
  };
  Field name = pick(name_var, "name");
  Field email = pick(email_var, "email");
  if (email.value.empty()) email = Field{EnvValue("EMAIL"), "$EMAIL"};
  Identity id{name.value, email.value};
  if (!Usable(id)) {
    *from = "the fallback (no identity configured)";
    return kFallbackIdentity;
  }
  *from = name.from == email.from ? name.from : name.from + " and " + email.from;
  return id;
}

}  // namespace

CommitIdentities ResolveIdentities(git_repository* repo, const Identity& author) {
  InitOnce();
  git_config* cfg = nullptr;
  if (!repo || git_repository_config_snapshot(&cfg, repo) != 0) cfg = nullptr;
  git_error_clear();
  CommitIdentities out;
  if (Usable(author)) {
    out.author = author;
    out.author_from = "workspace.author";
  } else {
    out.author = Role(cfg, "author", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_AUTHOR_*", &out.author_from);
  }
  out.committer =
      Role(cfg, "committer", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_*", &out.committer_from);
  if (cfg) git_config_free(cfg);
  return out;
}

CommitIdentities GitRepo::Identities() const { return ResolveIdentities(repo_, author_); }

Result<std::unique_ptr<GitRepo>> GitRepo::Open(const std::string& dir) {
  InitOnce();
  git_repository* r = nullptr;
  if (git_repository_open(&r, dir.c_str()) != 0) return Err("opening " + dir);
  return std::unique_ptr<GitRepo>(new GitRepo(r, dir));
}

Result<std::unique_ptr<GitRepo>> GitRepo::Init(const std::string& dir, const std::string& branch) {
  InitOnce();
  git_repository_init_options o = GIT_REPOSITORY_INIT_OPTIONS_INIT;
  o.flags = GIT_REPOSITORY_INIT_MKPATH;
  o.initial_head = branch.c_str();
  git_repository* r = nullptr;
  if (git_repository_init_ext(&r, dir.c_str(), &o) != 0) return Err("creating a repository in " + dir);
  return std::unique_ptr<GitRepo>(new GitRepo(r, dir));
}

Result<std::unique_ptr<GitRepo>> GitRepo::AddWorktree(const std::string& repo_dir, const std::string& dir,
                                                      const std::string& worktree_name, const std::string& branch,
                                                      const std::string& start) {
  SW_ASSIGN_OR_RETURN(RepoPtr owned, OpenRepo(repo_dir));
  git_repository* base = owned.get();
  git_oid head;
  if (!start.empty()) {
    if (git_oid_fromstr(&head, start.c_str()) != 0) return InvalidInput("not a commit id: " + start);
  } else if (git_reference_name_to_id(&head, base, "HEAD") != 0) {
    return Err("reading HEAD of " + repo_dir + " (no commits?)");
  }
  Commit c;
  if (git_commit_lookup(c.out(), base, &head) != 0) return Err("reading commit " + OidHex(head) + " of " + repo_dir);
  Ref br;
  if (git_branch_create(br.out(), base, branch.c_str(), c.get(), 0) != 0) return Err("creating branch " + branch);
  git_worktree_add_options wo = GIT_WORKTREE_ADD_OPTIONS_INIT;
  wo.ref = br.get();
  git_worktree* wt = nullptr;
  std::error_code ec;
  fs::create_directories(fs::path(dir).parent_path(), ec);
  if (git_worktree_add(&wt, base, worktree_name.c_str(), dir.c_str(), &wo) != 0)
    return Err("adding a work tree at " + dir);
  git_worktree_free(wt);
  return Open(dir);
}

GitRepo::~GitRepo() { git_repository_free(repo_); }

Result<std::string> GitRepo::Head() {
  git_oid oid;
  int rc = git_reference_name_to_id(&oid, repo_, "HEAD");
  if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH) return std::string();
  if (rc != 0) return Err("reading HEAD");
  return OidHex(oid);
}

namespace {

/// CommitTree commits tree_id with HEAD (if any) as its parent and points update_ref at it
/// ("HEAD": the branch moves; a ref of its own: HEAD stays). skip_unchanged: "" and no commit
/// when the tree is HEAD's.
Result<std::string> CommitTree(git_repository* repo, GitRepo* self, const char* update_ref, const std::string& message,
                               const git_oid& tree_id, bool skip_unchanged) {
  SW_ASSIGN_OR_RETURN(std::string head, self->Head());
  Commit parent;
  if (!head.empty()) {
    git_oid pid;
    git_oid_fromstr(&pid, head.c_str());
    if (git_commit_lookup(parent.out(), repo, &pid) != 0) return Err("reading HEAD");
    if (skip_unchanged && git_oid_equal(git_commit_tree_id(parent.get()), &tree_id)) return std::string();
  }
  Tree tree;
  if (git_tree_lookup(tree.out(), repo, &tree_id) != 0) return Err("reading the new tree");
  // Every commit Specwright makes is signed here, by one rule (ResolveIdentities).
  CommitIdentities who = self->Identities();
  git_signature *author = nullptr, *committer = nullptr;
  if (git_signature_now(&author, who.author.name.c_str(), who.author.email.c_str()) != 0 ||
      git_signature_now(&committer, who.committer.name.c_str(), who.committer.email.c_str()) != 0) {
    git_signature_free(author);
    return Err("making a signature");
  }
  git_oid id;
  const git_commit* parents[] = {parent.get()};
  int rc = git_commit_create(&id, repo, update_ref, author, committer, "UTF-8", message.c_str(), tree.get(),
                             head.empty() ? 0 : 1, parents);
  git_signature_free(author);
  git_signature_free(committer);
  if (rc != 0) return Err("committing");
  return OidHex(id);
}

/// CommitSpec stages the pathspec (changes, additions, deletions) and commits the
/// index on HEAD; "" when the tree did not change.
Result<std::string> CommitSpec(git_repository* repo, GitRepo* self, const std::string& message,
                               const std::vector<std::string>& paths, bool literal) {
  Index idx;
  if (git_repository_index(idx.out(), repo) != 0) return Err("opening the index");
  std::vector<char*> ptrs;
  for (const auto& p : paths) ptrs.push_back(const_cast<char*>(p.c_str()));
  git_strarray spec = {ptrs.data(), ptrs.size()};
  // Literal paths are names, not patterns: a file called "*" stages only itself.
  unsigned flags = literal ? GIT_INDEX_ADD_DISABLE_PATHSPEC_MATCH : GIT_INDEX_ADD_DEFAULT;
  if (git_index_add_all(idx.get(), &spec, flags, nullptr, nullptr) != 0) return Err("staging changes");
  if (git_index_update_all(idx.get(), &spec, nullptr, nullptr) != 0) return Err("staging deletions");
  if (git_index_write(idx.get()) != 0) return Err("writing the index");
  git_oid tree_id;
  if (git_index_write_tree(&tree_id, idx.get()) != 0) return Err("writing the tree");
  return CommitTree(repo, self, "HEAD", message, tree_id, /*skip_unchanged=*/true);
}

}  // namespace

Result<std::string> GitRepo::CommitAll(const std::string& message) { return CommitSpec(repo_, this, message, {"*"}, false); }

Result<std::string> GitRepo::CommitPaths(const std::string& message, const std::vector<std::string>& paths) {
  for (const auto& p : paths)
    if (p.empty() || p[0] == '/' || p.find("..") != std::string::npos)
      return InvalidInput("cannot commit path " + Quote(p) + ": paths are relative to the work tree");
  if (paths.empty()) return std::string();
  return CommitSpec(repo_, this, message, paths, true);
}

namespace {
/// WorkTreeTree writes the tree of the work tree as it is (ignored files left out), built in
/// the repository's index object and then forgotten (read back from disk): the index file
/// itself is never written.
sw::Status WorkTreeTree(git_repository* repo, git_oid* tree_id) {
  Index idx;
  if (git_repository_index(idx.out(), repo) != 0) return Err("opening the index");
  char star[] = "*";
  char* pats[] = {star};
  git_strarray spec = {pats, 1};
  int rc = git_index_add_all(idx.get(), &spec, GIT_INDEX_ADD_DEFAULT, nullptr, nullptr);
  if (rc == 0) rc = git_index_update_all(idx.get(), &spec, nullptr, nullptr);
  if (rc == 0) rc = git_index_write_tree(tree_id, idx.get());
  git_index_read(idx.get(), 1);
  if (rc != 0) return Err("reading the work tree");
  return sw::Status::Ok();
}
}  // namespace

Result<std::string> GitRepo::SnapshotWorkTree(const std::string& message) {
  git_oid tree_id;
  SW_RETURN_IF_ERROR(WorkTreeTree(repo_, &tree_id));
  return CommitTree(repo_, this, nullptr, message, tree_id, /*skip_unchanged=*/true);
}

Result<KeptAside> GitRepo::KeepAside(const std::string& message, const std::string& since) {
  KeptAside kept;
  SW_ASSIGN_OR_RETURN(nlohmann::json status, Status());
  SW_ASSIGN_OR_RETURN(std::string head_now, Head());
  bool moved = !since.empty() && head_now != since;
  if (status.empty() && !moved) return kept;
  if (!moved)
    for (const auto& f : status) kept.files.emplace_back(f.value("path", ""), f.value("status", ""));
  git_oid tree_id;
  SW_RETURN_IF_ERROR(WorkTreeTree(repo_, &tree_id));
  // A ref of its own: refs/specwright/kept/20261206-031500, then -2, -3... if taken.
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  std::string base = std::string("refs/specwright/kept/") + stamp;
  kept.ref = base;
  for (int n = 2;; ++n) {
    git_reference* existing = nullptr;
    if (git_reference_lookup(&existing, repo_, kept.ref.c_str()) != 0) break;
    git_reference_free(existing);
    kept.ref = base + "-" + std::to_string(n);
  }
  SW_ASSIGN_OR_RETURN(kept.commit, CommitTree(repo_, this, kept.ref.c_str(), message, tree_id, /*skip_unchanged=*/false));
  if (moved) {
    // What a reset to `since` would take away: every path that differs from it.
    SW_ASSIGN_OR_RETURN(auto diff, MakeDiff(repo_, since, kept.commit));
    size_t n = git_diff_num_deltas(diff.get());
    for (size_t i = 0; i < n; ++i) {
      const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
      const char* what = d->status == GIT_DELTA_ADDED     ? "added"
                         : d->status == GIT_DELTA_DELETED ? "deleted"
                         : d->status == GIT_DELTA_RENAMED ? "renamed"
                                                          : "modified";
      kept.files.emplace_back(d->new_file.path ? d->new_file.path : d->old_file.path, what);
    }
    if (kept.files.empty()) kept.files.emplace_back("(no file: commits only)", "commits");
  }
  return kept;
}

sw::Status GitRepo::ResetMixed(const std::string& commit) {
  git_oid oid;
  if (git_oid_fromstr(&oid, commit.c_str()) != 0) return InvalidInput("not a commit id: " + commit);
  git_object* obj = nullptr;
  if (git_object_lookup(&obj, repo_, &oid, GIT_OBJECT_COMMIT) != 0) return Err("looking up " + commit);
  int rc = git_reset(repo_, obj, GIT_RESET_MIXED, nullptr);
  git_object_free(obj);
  if (rc != 0) return Err("resetting to " + commit);
  return sw::Status::Ok();
}

Result<std::string> GitRepo::Diff(const std::string& from, const std::string& to) {
  SW_ASSIGN_OR_RETURN(auto diff, MakeDiff(repo_, from, to));
  std::string out;
  auto cb = [](const git_diff_delta*, const git_diff_hunk*, const git_diff_line* l, void* payload) -> int {
    auto* s = static_cast<std::string*>(payload);
    if (l->origin == GIT_DIFF_LINE_CONTEXT || l->origin == GIT_DIFF_LINE_ADDITION || l->origin == GIT_DIFF_LINE_DELETION)
      s->push_back(l->origin);
    s->append(l->content, l->content_len);
    return 0;
  };
  if (git_diff_print(diff.get(), GIT_DIFF_FORMAT_PATCH, cb, &out) != 0) return Err("printing the diff");
  return out;
}

Result<std::vector<std::string>> GitRepo::ChangedFiles(const std::string& from, const std::string& to) {
  SW_ASSIGN_OR_RETURN(auto diff, MakeDiff(repo_, from, to));
  std::vector<std::string> out;
  size_t n = git_diff_num_deltas(diff.get());
  for (size_t i = 0; i < n; ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
    out.push_back(d->new_file.path ? d->new_file.path : d->old_file.path);
  }
  return out;
}

Result<nlohmann::json> GitRepo::Status() {
  git_status_options o = GIT_STATUS_OPTIONS_INIT;
  o.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  o.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS | GIT_STATUS_OPT_RENAMES_HEAD_TO_INDEX;
  git_status_list* list = nullptr;
  if (git_status_list_new(&list, repo_, &o) != 0) return Err("reading the status");
  nlohmann::json out = nlohmann::json::array();
  size_t n = git_status_list_entrycount(list);
  for (size_t i = 0; i < n; ++i) {
    const git_status_entry* e = git_status_byindex(list, i);
    const git_diff_delta* d = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;
    if (!d) continue;
    unsigned s = e->status;
    const char* what = (s & (GIT_STATUS_WT_NEW | GIT_STATUS_INDEX_NEW))           ? "added"
                       : (s & (GIT_STATUS_WT_DELETED | GIT_STATUS_INDEX_DELETED)) ? "deleted"
                       : (s & (GIT_STATUS_WT_RENAMED | GIT_STATUS_INDEX_RENAMED)) ? "renamed"
                                                                                   : "modified";
    if (s & GIT_STATUS_WT_NEW) what = "untracked";
    out.push_back({{"path", d->new_file.path ? d->new_file.path : d->old_file.path}, {"status", what}});
  }
  git_status_list_free(list);
  return out;
}

Result<std::vector<CommitInfo>> GitRepo::Log(int max) {
  std::vector<CommitInfo> out;
  SW_ASSIGN_OR_RETURN(std::string head, Head());
  if (head.empty()) return out;
  git_revwalk* walk = nullptr;
  if (git_revwalk_new(&walk, repo_) != 0) return Err("walking the history");
  git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);  // parents after children, as git log
  git_revwalk_push_head(walk);
  git_oid oid;
  while (static_cast<int>(out.size()) < max && git_revwalk_next(&oid, walk) == 0) {
    Commit c;
    if (git_commit_lookup(c.out(), repo_, &oid) != 0) break;
    const char* summary = git_commit_summary(c.get());
    out.push_back(CommitInfo{OidHex(oid), summary ? summary : "", static_cast<double>(git_commit_time(c.get()))});
  }
  git_revwalk_free(walk);
  return out;
}

sw::Status GitRepo::ResetHard(const std::string& commit, bool remove_ignored) {
  git_oid oid;
  if (git_oid_fromstr(&oid, commit.c_str()) != 0) return InvalidInput("not a commit id: " + commit);
  git_object* obj = nullptr;
  if (git_object_lookup(&obj, repo_, &oid, GIT_OBJECT_COMMIT) != 0) return Err("looking up " + commit);
  git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
  // Ignored files go too: build outputs of an interrupted node are its state as much as its
  // edits, and a resumed node must start from exactly what the checkpoint holds.
  co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED;
  if (remove_ignored) co.checkout_strategy |= GIT_CHECKOUT_REMOVE_IGNORED;
  int rc = git_reset(repo_, obj, GIT_RESET_HARD, &co);
  git_object_free(obj);
  if (rc != 0) return Err("resetting to " + commit);
  // git_reset forces its own checkout strategy; files the commit does not know (and that are
  // not ignored) need a second pass.
  if (git_checkout_head(repo_, &co) != 0) return Err("removing untracked files");
  return sw::Status::Ok();
}

Result<std::map<std::string, std::string>> GitRepo::ReadFilesAt(const std::string& rev, const std::string& prefix,
                                                                const std::string& suffix) {
  git_object* obj = nullptr;
  if (git_revparse_single(&obj, repo_, rev.c_str()) != 0) return InvalidInput(Err("git revision " + Quote(rev)).message());
  git_tree* tree = nullptr;
  int rc = git_object_peel(reinterpret_cast<git_object**>(&tree), obj, GIT_OBJECT_TREE);
  git_object_free(obj);
  if (rc != 0) return InvalidInput(Err("revision " + Quote(rev) + " has no tree").message());
  struct Walk {
    git_repository* repo;
    std::string prefix, suffix;
    std::map<std::string, std::string> files;
    sw::Status status;
  } walk{repo_, prefix.empty() || prefix.back() == '/' ? prefix : prefix + "/", suffix, {}, sw::Status::Ok()};
  auto cb = [](const char* root, const git_tree_entry* e, void* payload) -> int {
    auto* w = static_cast<Walk*>(payload);
    std::string path = std::string(root) + git_tree_entry_name(e);
    if (git_tree_entry_filemode(e) == GIT_FILEMODE_TREE) {
      // Descend only into folders on the way to (or inside) the prefix.
      std::string dir = path + "/";
      bool on_way = w->prefix.compare(0, dir.size(), dir) == 0 || dir.compare(0, w->prefix.size(), w->prefix) == 0;
      return on_way ? 0 : 1;
    }
    if (git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB && git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB_EXECUTABLE)
      return 0;
    if (path.compare(0, w->prefix.size(), w->prefix) != 0) return 0;
    if (path.size() < w->suffix.size() || path.compare(path.size() - w->suffix.size(), w->suffix.size(), w->suffix) != 0)
      return 0;
    git_blob* blob = nullptr;
    if (git_blob_lookup(&blob, w->repo, git_tree_entry_id(e)) != 0) {
      w->status = IoError("reading " + path);
      return -1;
    }
    w->files[path] = std::string(static_cast<const char*>(git_blob_rawcontent(blob)), static_cast<size_t>(git_blob_rawsize(blob)));
    git_blob_free(blob);
    return 0;
  };
  rc = git_tree_walk(tree, GIT_TREEWALK_PRE, cb, &walk);
  git_tree_free(tree);
  if (!walk.status.ok()) return walk.status;
  if (rc < 0) return Err("walking the tree of " + rev);
  return std::move(walk.files);
}

sw::Status GitRepo::ExportTree(const std::string& commit, const std::string& dest) {
  git_oid oid;
  if (git_oid_fromstr(&oid, commit.c_str()) != 0) return InvalidInput("not a commit id: " + commit);
  git_commit* c = nullptr;
  if (git_commit_lookup(&c, repo_, &oid) != 0) return Err("looking up " + commit);
  git_tree* tree = nullptr;
  int rc = git_commit_tree(&tree, c);
  git_commit_free(c);
  if (rc != 0) return Err("reading the tree of " + commit);
  struct Walk {
    git_repository* repo;
    std::string dest;
    sw::Status status;
    std::set<std::string> seen;  // a path written once: a tree listing a name twice is refused
  } walk{repo_, dest, sw::Status::Ok(), {}};
  auto cb = [](const char* root, const git_tree_entry* e, void* payload) -> int {
    auto* w = static_cast<Walk*>(payload);
    std::string name = git_tree_entry_name(e);
    if (name.empty() || name == "." || name == ".." || name == ".git" || name.find('/') != std::string::npos) {
      w->status = InvalidInput(std::string("commit has an unsafe path: ") + root + name);
      return -1;
    }
    std::string path = w->dest + "/" + root + name;
    if (!w->seen.insert(std::string(root) + name).second) {
      w->status = InvalidInput(std::string("commit lists a path twice: ") + root + name);
      return -1;
    }
    git_filemode_t mode = git_tree_entry_filemode(e);
    std::error_code ec;
    if (mode == GIT_FILEMODE_TREE) {
      // Only a real directory of our own: never one reached through a link.
      auto st = std::filesystem::symlink_status(path, ec);
      if (std::filesystem::exists(st) && !std::filesystem::is_directory(st)) {
        w->status = InvalidInput("commit puts a directory where " + path + " is not one");
        return -1;
      }
      std::filesystem::create_directory(path, ec);
      if (ec) w->status = IoError("creating " + path + ": " + ec.message());
      return ec ? -1 : 0;
    }
    if (mode == GIT_FILEMODE_COMMIT) return 0;  // a submodule: not part of this tree's files
    git_blob* blob = nullptr;
    if (git_blob_lookup(&blob, w->repo, git_tree_entry_id(e)) != 0) {
      w->status = IoError("reading " + std::string(root) + name);
      return -1;
    }
    std::string data(static_cast<const char*>(git_blob_rawcontent(blob)), static_cast<size_t>(git_blob_rawsize(blob)));
    git_blob_free(blob);
    std::filesystem::remove(path, ec);
    if (mode == GIT_FILEMODE_LINK) {
      std::filesystem::create_symlink(data, path, ec);
      if (ec) w->status = IoError("creating link " + path + ": " + ec.message());
      return ec ? -1 : 0;
    }
    sw::Status s = WriteFileAtomic(path, data);
    if (s.ok() && mode == GIT_FILEMODE_BLOB_EXECUTABLE)
      std::filesystem::permissions(path, std::filesystem::perms::owner_exec | std::filesystem::perms::group_exec |
                                             std::filesystem::perms::others_exec,
                                   std::filesystem::perm_options::add, ec);
    if (!s.ok()) w->status = s;
    return s.ok() ? 0 : -1;
  };
  rc = git_tree_walk(tree, GIT_TREEWALK_PRE, cb, &walk);
  git_tree_free(tree);
  if (!walk.status.ok()) return walk.status;
  if (rc != 0) return Err("exporting " + commit);
  return sw::Status::Ok();
}

std::string GitRepo::GitDir() const { return git_repository_path(repo_); }

namespace {

using WorktreePtr = std::unique_ptr<git_worktree, void (*)(git_worktree*)>;

/// ExamineWorktree is InspectWorktree on an open repository; a record it finds is left in *wt.
Result<WorktreeRecord> ExamineWorktree(git_repository* repo, const std::string& repo_dir, const std::string& name,
                                       const std::string& dir, bool folder_going, WorktreePtr* wt) {
  WorktreeRecord out;
  git_worktree* raw = nullptr;
  int rc = git_worktree_lookup(&raw, repo, name.c_str());
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    out.state = "none";
    return out;
  }
  if (rc != 0) return Err("reading work tree " + name + " of " + repo_dir);
  wt->reset(raw);
  const char* path = git_worktree_path(raw);
  out.path = path ? path : "";
  if (!path || !SamePath(path, dir)) {
    out.state = "other";
    return out;
  }
  if (!folder_going && git_worktree_validate(raw) == 0) {
    out.state = "present";
    return out;
  }
  git_error_clear();
  out.state = git_worktree_is_locked(nullptr, raw) > 0 ? "locked" : "prunable";
  git_error_clear();
  return out;
}

}  // namespace

Result<WorktreeRecord> GitRepo::InspectWorktree(const std::string& repo_dir, const std::string& name,
                                                const std::string& dir, bool folder_going) {
  SW_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(repo_dir));
  WorktreePtr wt(nullptr, git_worktree_free);
  return ExamineWorktree(repo.get(), repo_dir, name, dir, folder_going, &wt);
}

Result<WorktreeRecord> GitRepo::PruneWorktree(const std::string& repo_dir, const std::string& name,
                                              const std::string& dir) {
  SW_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(repo_dir));
  WorktreePtr wt(nullptr, git_worktree_free);
  SW_ASSIGN_OR_RETURN(WorktreeRecord rec, ExamineWorktree(repo.get(), repo_dir, name, dir, false, &wt));
  if (rec.state != "prunable") return rec;
  git_worktree_prune_options po = GIT_WORKTREE_PRUNE_OPTIONS_INIT;
  po.flags = 0;  // only an invalid (folder gone), unlocked record: never a live work tree
  if (git_worktree_prune(wt.get(), &po) != 0) return Err("pruning work tree " + name + " of " + repo_dir);
  rec.state = "pruned";
  return rec;
}

Result<LinkedWorktree> GitRepo::LinkedWorktreeOf(const std::string& dir) {
  InitOnce();
  git_repository* r = nullptr;
  if (git_repository_open_ext(&r, dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0) {
    git_error_clear();
    return NotFound(dir + " is not a git work tree");
  }
  RepoPtr repo(r, git_repository_free);
  if (git_repository_is_worktree(r) != 1) return NotFound(dir + " is not a linked work tree");
  LinkedWorktree out;
  fs::path common = fs::path(git_repository_commondir(r)).lexically_normal();
  if (!common.has_filename()) common = common.parent_path();
  out.repo = common.filename() == ".git" ? common.parent_path().string() : common.string();
  fs::path gitdir = fs::path(git_repository_path(r)).lexically_normal();
  if (!gitdir.has_filename()) gitdir = gitdir.parent_path();
  out.name = gitdir.filename().string();
  Ref head;
  if (git_repository_head(head.out(), r) == 0 && git_reference_is_branch(head.get()))
    out.branch = git_reference_shorthand(head.get());
  git_error_clear();
  return out;
}

Result<RunBranch> GitRepo::InspectBranch(const std::string& repo_dir, const std::string& branch,
                                         const std::string& snapshot, const std::string& own_worktree) {
  SW_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(repo_dir));
  RunBranch out;
  Ref ref;
  int rc = git_branch_lookup(ref.out(), repo.get(), branch.c_str(), GIT_BRANCH_LOCAL);
  if (rc == GIT_ENOTFOUND) return out;
  if (rc != 0) return Err("reading branch " + branch + " of " + repo_dir);
  out.exists = true;
  out.checked_out = git_branch_is_checked_out(ref.get()) == 1;
  if (out.checked_out) {
    // Which work tree: the main one's HEAD, or a linked one's other than the run's own.
    std::string full = "refs/heads/" + branch;
    auto holds = [&](git_reference* head) {
      bool yes = head && git_reference_type(head) == GIT_REFERENCE_SYMBOLIC
                     ? full == git_reference_symbolic_target(head)
                     : head && git_reference_name(head) && full == git_reference_name(head);
      git_reference_free(head);
      return yes;
    };
    git_repository* main_repo = repo.get();
    git_reference* head = nullptr;
    if (git_repository_head(&head, main_repo) == 0 && holds(head)) out.checked_out_elsewhere = true;
    git_strarray names{};
    if (!out.checked_out_elsewhere && git_worktree_list(&names, main_repo) == 0) {
      for (size_t i = 0; i < names.count && !out.checked_out_elsewhere; ++i) {
        if (own_worktree == names.strings[i]) continue;
        git_reference* wt_head = nullptr;
        if (git_repository_head_for_worktree(&wt_head, main_repo, names.strings[i]) == 0 && holds(wt_head))
          out.checked_out_elsewhere = true;
      }
      git_strarray_dispose(&names);
    }
    git_error_clear();
  }
  const git_oid* tip = git_reference_target(ref.get());
  if (!tip) return out;
  // Commits of the branch that no other branch (local or remote-tracking) reaches.
  git_revwalk* walk = nullptr;
  if (git_revwalk_new(&walk, repo.get()) != 0) return Err("walking the history of " + branch);
  std::unique_ptr<git_revwalk, void (*)(git_revwalk*)> owned_walk(walk, git_revwalk_free);
  if (git_revwalk_push(walk, tip) != 0) return Err("walking the history of " + branch);
  std::string full = git_reference_name(ref.get());
  for (const char* glob : {"refs/heads/*", "refs/remotes/*"}) {
    git_reference_iterator* it = nullptr;
    if (git_reference_iterator_glob_new(&it, repo.get(), glob) != 0) continue;
    git_reference* other = nullptr;
    while (git_reference_next(&other, it) == 0) {
      Ref resolved;
      if (full != git_reference_name(other) && git_reference_resolve(resolved.out(), other) == 0)
        if (const git_oid* t = git_reference_target(resolved.get())) git_revwalk_hide(walk, t);
      git_reference_free(other);
    }
    git_reference_iterator_free(it);
  }
  git_oid snap;
  bool has_snap = !snapshot.empty() && git_oid_fromstr(&snap, snapshot.c_str()) == 0;
  git_oid oid;
  while (git_revwalk_next(&oid, walk) == 0) {
    if (has_snap && git_oid_equal(&oid, &snap)) out.snapshot_unique = true;
    else ++out.unique_commits;
  }
  git_error_clear();
  return out;
}

sw::Status GitRepo::DeleteBranch(const std::string& repo_dir, const std::string& branch) {
  SW_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(repo_dir));
  Ref ref;
  if (git_branch_lookup(ref.out(), repo.get(), branch.c_str(), GIT_BRANCH_LOCAL) != 0)
    return Err("reading branch " + branch + " of " + repo_dir);
  if (git_branch_delete(ref.get()) != 0) return Err("deleting branch " + branch + " of " + repo_dir);
  return sw::Status::Ok();
}

}  // namespace sw::tools
