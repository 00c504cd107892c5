// A `repo:` workspace through the real binary, checked with the real `git`: who the run's
// commits name (the repository's identity, an `author:` override, the fallback), the user's
// uncommitted changes (left out with a warning, or taken in as the branch's first commit,
// never touching the user's files or index; not taken again on resume), and what `gc` leaves
// in the repository (no stale work tree record; the branch kept, deleted or asked about).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "cli_runner.h"
#include "store/store.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace e2e;

/// ScopedEnv sets variables for the test's life (children inherit them), then puts them back.
class ScopedEnv {
 public:
  void Set(const std::string& name, const std::string& value) {
    Remember(name);
    setenv(name.c_str(), value.c_str(), 1);
  }
  void Unset(const std::string& name) {
    Remember(name);
    unsetenv(name.c_str());
  }
  ~ScopedEnv() {
    for (const auto& [name, old] : saved_) {
      if (old) setenv(name.c_str(), old->c_str(), 1);
      else unsetenv(name.c_str());
    }
  }

 private:
  void Remember(const std::string& name) {
    for (const auto& s : saved_)
      if (s.first == name) return;
    const char* v = getenv(name.c_str());
    saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

class WorkspaceE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_ws_e2e_XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = dir_ + "/store";
    repo_ = dir_ + "/repo";
    // No identity but the repository's: a home, XDG and system configuration of our own.
    fs::create_directories(dir_ + "/home");
    env_.Set("HOME", dir_ + "/home");
    env_.Set("XDG_CONFIG_HOME", dir_ + "/home/.config");
    env_.Set("GIT_CONFIG_NOSYSTEM", "1");
    for (const char* v : {"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL",
                          "GIT_DIR", "GIT_WORK_TREE", "SPECWRIGHT_CONFIG"})
      env_.Unset(v);
    fs::create_directories(repo_ + "/sub");
    Git("init -q -b main");
    Git("config user.name 'Ada Lovelace'");
    Git("config user.email ada@example.com");
    Write(repo_ + "/a.txt", "a\n");
    Write(repo_ + "/sub/b.txt", "b\n");
    Write(repo_ + "/doomed.txt", "doomed\n");
    Write(repo_ + "/.gitignore", "*.o\n");
    Git("add -A");
    Git("commit -q -m init");
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  static std::string Read(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

  /// Git runs the real git in the user's repository (or in `in`) and returns its stdout.
  std::string Git(const std::string& args, const std::string& in = "", int* code = nullptr) {
    std::string cmd = "git -C '" + (in.empty() ? repo_ : in) + "' " + args + " 2>&1";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    int rc = pclose(p);
    if (code) *code = WEXITSTATUS(rc);
    else EXPECT_EQ(WEXITSTATUS(rc), 0) << cmd << "\n" << out;
    return out;
  }

  /// Dirty leaves every kind of uncommitted change: a modified file in a folder, a staged
  /// change, a deleted file, an untracked file (in a new folder) and an ignored one.
  void Dirty() {
    Write(repo_ + "/sub/b.txt", "b\nmine, not committed\n");
    Write(repo_ + "/a.txt", "a\nstaged\n");
    Git("add a.txt");
    fs::remove(repo_ + "/doomed.txt");
    fs::create_directories(repo_ + "/notes");
    Write(repo_ + "/notes/new.txt", "new\n");
    Write(repo_ + "/build.o", "object code\n");
  }

  /// Flow writes a workflow with a repo workspace (extra: more keys of `workspace:`) whose one
  /// tool node appends to a.txt, then runs `more`.
  /// (edit: false: the node changes no file; repo: the workspace's repository, relative to dir_.)
  std::string Flow(const std::string& extra, const std::string& more = "true", bool edit = true,
                   const std::string& repo = "repo") {
    std::string flow = dir_ + "/flow.yaml";
    Write(flow, "name: ws\nworkspace: {repo: " + repo + extra +
                    "}\nshell: {allow: [sh], timeout: 60s}\nnodes:\n  edit:\n    kind: tool\n    tool: builtin://shell.run\n"
                    "    args: {argv: [sh, -c, " +
                    json((edit ? "echo run >> a.txt; " : "") + more).dump() + "]}\n");
    return flow;
  }

  /// WorkspaceEvent is the `workspace` event a run recorded.
  json WorkspaceEvent(const std::string& run) {
    auto st = sw::store::OpenSqlite(store_);
    EXPECT_TRUE(st.ok());
    if (!st.ok()) return json();
    auto ev = (*st)->ListEventsOfType(run, "workspace");
    EXPECT_TRUE(ev.ok() && ev->size() == 1u);
    if (!ev.ok() || ev->size() != 1u) return json();
    return json::parse((*ev)[0].data);
  }

  /// Actions maps each run of a gc report's "worktrees" or "branches" to its action.
  static std::map<std::string, std::string> Actions(const json& list) {
    std::map<std::string, std::string> out;
    for (const auto& x : list) out[x["run"]] = x["action"];
    return out;
  }

  Result Run(const std::string& flow, const std::string& id) {
    return RunCli({"run", flow, "--store", store_, "--run-id", id}, dir_);
  }
  Result Gc(std::vector<std::string> extra) {
    std::vector<std::string> args{"gc", "--store", store_, "--older-than", "0s", "--grace", "0s"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCli(args, dir_);
  }
  std::string Ws(const std::string& id) { return store_ + "/workspaces/" + id; }

  ScopedEnv env_;
  std::string dir_, store_, repo_;
};

TEST_F(WorkspaceE2E, CommitsNameTheRepositorysIdentityAndAnAuthorOverridesTheAuthorOnly) {
  auto r = Run(Flow(""), "who");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(Git("log -1 --format='%an <%ae>|%cn <%ce>' specwright/who"),
            "Ada Lovelace <ada@example.com>|Ada Lovelace <ada@example.com>\n");
  // The environment wins over the configuration, as with git.
  env_.Set("GIT_AUTHOR_NAME", "Env Author");
  env_.Set("GIT_COMMITTER_EMAIL", "env@example.com");
  r = Run(Flow(""), "env");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Git("log -1 --format='%an <%ae>|%cn <%ce>' specwright/env"),
            "Env Author <ada@example.com>|Ada Lovelace <env@example.com>\n");
  env_.Unset("GIT_AUTHOR_NAME");
  env_.Unset("GIT_COMMITTER_EMAIL");
  // author: names the author; the committer stays the configured identity.
  r = Run(Flow(", author: \"Robo Dev <robo@example.org>\""), "over");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Git("log -1 --format='%an <%ae>|%cn <%ce>' specwright/over"),
            "Robo Dev <robo@example.org>|Ada Lovelace <ada@example.com>\n");
  // Nobody configured: the fallback.
  Git("config --unset user.name");
  Git("config --unset user.email");
  r = Run(Flow(""), "nobody");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Git("log -1 --format='%an <%ae>|%cn <%ce>' specwright/nobody"),
            "Specwright <specwright@localhost>|Specwright <specwright@localhost>\n");
  // A global file is read as git reads it: ~/.gitconfig, unless GIT_CONFIG_GLOBAL says
  // otherwise (/dev/null: none; a .gitconfig elsewhere: that one). libgit2 alone ignores it.
  std::string home = dir_ + "/home";
  fs::create_directories(home + "/other");
  Write(home + "/.gitconfig", "[user]\n\tname = Home Person\n\temail = home@example.com\n");
  Write(home + "/other/.gitconfig", "[user]\n\tname = Other Person\n\temail = other@example.com\n");
  env_.Set("HOME", home);
  env_.Unset("GIT_CONFIG_GLOBAL");
  r = Run(Flow(""), "home");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Git("log -1 --format='%an <%ae>' specwright/home"), "Home Person <home@example.com>\n");
  env_.Set("GIT_CONFIG_GLOBAL", home + "/other/.gitconfig");
  r = Run(Flow(""), "other");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Git("log -1 --format='%an <%ae>' specwright/other"), "Other Person <other@example.com>\n");
  env_.Set("GIT_CONFIG_GLOBAL", "/dev/null");
  r = Run(Flow(""), "devnull");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Git("log -1 --format='%an <%ae>' specwright/devnull"), "Specwright <specwright@localhost>\n");
  // A malformed author is a workflow error at its line and column.
  for (const char* bad : {"\"Robo\"", "\"<robo@example.org>\"", "\"Robo <not-an-email>\"", "[1]"}) {
    r = Run(Flow(std::string(", author: ") + bad), "bad");
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_NE(r.err.find("flow.yaml:2:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("author"), std::string::npos) << r.err;
  }
}

TEST_F(WorkspaceE2E, UncommittedChangesAreLeftOutWithAWarning) {
  Dirty();
  std::string status_before = Git("status --porcelain");
  auto r = Run(Flow(""), "out");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("warning: 4 uncommitted change(s) in " + repo_), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("include_uncommitted: true"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sub/b.txt (modified)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("build.o"), std::string::npos) << "ignored files are not changes: " << r.err;
  // Said when the workspace is made, before any node ends (not only in the closing summary),
  // with the identity the commits carry and where it came from.
  size_t said = r.err.find("  workspace: git worktree of " + repo_ + " on branch specwright/out, commits by ");
  ASSERT_NE(said, std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(from ", said), std::string::npos) << r.err;
  size_t first_ok = r.err.find("  ok ");
  ASSERT_NE(first_ok, std::string::npos) << r.err;
  EXPECT_LT(r.err.find("  warning: 4 uncommitted change(s)"), first_ok) << r.err;
  EXPECT_EQ(Read(Ws("out") + "/sub/b.txt"), "b\n");
  EXPECT_TRUE(fs::exists(Ws("out") + "/doomed.txt"));
  EXPECT_FALSE(fs::exists(Ws("out") + "/notes/new.txt"));
  EXPECT_EQ(Git("status --porcelain"), status_before);
  // The warning is in the run's events too.
  auto st = sw::store::OpenSqlite(store_);
  ASSERT_TRUE(st.ok());
  auto ev = (*st)->ListEventsOfType("out", "warning");
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_NE((*ev)[0].data.find("uncommitted"), std::string::npos);
  auto ws = (*st)->ListEventsOfType("out", "workspace");
  ASSERT_TRUE(ws.ok() && ws->size() == 1u);
  json d = json::parse((*ws)[0].data);
  EXPECT_EQ(d["uncommitted"]["files"], 4);
  EXPECT_EQ(d["uncommitted"]["included"], false);
  EXPECT_EQ(d["author"], "Ada Lovelace <ada@example.com>");
}

TEST_F(WorkspaceE2E, IncludeUncommittedStartsFromTheWorkTreeAndLeavesTheUsersFilesAlone) {
  Dirty();
  std::string status_before = Git("status --porcelain");
  std::string index_before = Read(repo_ + "/.git/index");
  std::string head_before = Git("rev-parse HEAD");
  auto r = Run(Flow(", include_uncommitted: true"), "incl");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  // The workspace has the user's work tree: modified (staged and not), deleted, untracked in
  // a new folder; the ignored file stays out.
  EXPECT_EQ(Read(Ws("incl") + "/sub/b.txt"), "b\nmine, not committed\n");
  EXPECT_EQ(Read(Ws("incl") + "/a.txt"), "a\nstaged\nrun\n");
  EXPECT_FALSE(fs::exists(Ws("incl") + "/doomed.txt"));
  EXPECT_EQ(Read(Ws("incl") + "/notes/new.txt"), "new\n");
  EXPECT_FALSE(fs::exists(Ws("incl") + "/build.o"));
  // The branch: HEAD, the user's changes as a commit of their own, then the run's.
  EXPECT_EQ(Git("log --format=%s specwright/incl"), "specwright: run incl node edit attempt 1 (succeeded)\n"
                                                  "specwright: uncommitted changes from " + repo_ + "\ninit\n");
  EXPECT_EQ(Git("diff --name-status specwright/incl~2 specwright/incl~1"),
            "M\ta.txt\nD\tdoomed.txt\nA\tnotes/new.txt\nM\tsub/b.txt\n");
  EXPECT_EQ(Git("diff --name-only specwright/incl~1 specwright/incl"), "a.txt\n") << "the run's own change only";
  // The user's checkout: same HEAD, same status, the index file byte for byte.
  EXPECT_EQ(Git("rev-parse HEAD"), head_before);
  EXPECT_EQ(Git("status --porcelain"), status_before);
  EXPECT_EQ(Read(repo_ + "/.git/index"), index_before);
  EXPECT_EQ(Read(repo_ + "/build.o"), "object code\n");
}

TEST_F(WorkspaceE2E, AResumedRunDoesNotTakeTheChangesInAgain) {
  Dirty();
  std::string gate = dir_ + "/go";
  std::string flow = Flow(", include_uncommitted: true",
                          "if [ ! -f " + gate + " ]; then touch started; sleep 60; fi");
  Proc p = Spawn({"run", flow, "--store", store_, "--run-id", "again"}, dir_);
  for (int i = 0; i < 400 && !fs::exists(Ws("again") + "/started"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_TRUE(fs::exists(Ws("again") + "/started")) << Read(p.err_path);
  ASSERT_EQ(::kill(p.pid, SIGKILL), 0);
  Wait(p);
  // More changes after the run started: a resume must not take them.
  Write(repo_ + "/later.txt", "later\n");
  Write(gate, "");
  auto r = RunCli({"resume", "again", "--store", store_}, dir_);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_FALSE(fs::exists(Ws("again") + "/later.txt"));
  EXPECT_EQ(Read(Ws("again") + "/a.txt"), "a\nstaged\nrun\n") << "the interrupted attempt's edit was reset";
  std::string log = Git("log --format=%s specwright/again");
  size_t imports = 0;
  for (size_t at = 0; (at = log.find("uncommitted changes from", at)) != std::string::npos; ++at) ++imports;
  EXPECT_EQ(imports, 1u) << log;
}

TEST_F(WorkspaceE2E, GcPrunesTheWorktreeAndKeepsTheBranchUnlessToldOtherwise) {
  ASSERT_EQ(Run(Flow(""), "keep").code, 0);
  ASSERT_EQ(Run(Flow(""), "drop").code, 0);
  // A dry run names what it would touch and touches nothing.
  auto r = Gc({"--dry-run", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json dry = json::parse(r.out);
  ASSERT_EQ(dry["worktrees"].size(), 2u) << dry.dump(2);
  EXPECT_EQ(dry["worktrees"][0]["action"], "would_prune");
  ASSERT_EQ(dry["branches"].size(), 2u);
  EXPECT_EQ(dry["branches"][0]["action"], "would_keep");
  EXPECT_EQ(dry["branches"][0]["unique_commits"], 1);
  EXPECT_TRUE(fs::exists(Ws("keep")));
  EXPECT_NE(Git("worktree list --porcelain").find(Ws("keep")), std::string::npos);

  // Not on a terminal, by default: the record goes, the branch stays, the command is printed.
  r = Gc({});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("pruned work tree specwright-keep"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("git -C " + repo_ + " branch -D specwright/keep"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 commit(s) on no other branch"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(Ws("keep")));
  std::string wl = Git("worktree list --porcelain");
  EXPECT_EQ(wl.find("prunable"), std::string::npos) << wl;
  EXPECT_EQ(wl.find("specwright"), std::string::npos) << wl;
  EXPECT_EQ(Git("branch --list 'specwright/*' --format='%(refname:short)'"), "specwright/drop\nspecwright/keep\n");
  EXPECT_FALSE(fs::exists(repo_ + "/.git/worktrees/specwright-keep"));
  // What the issue reported: `git branch -D` works without `git worktree prune` first.
  EXPECT_NE(Git("branch -D specwright/keep").find("Deleted branch specwright/keep"), std::string::npos);

  // --delete-branches: a new run's branch goes with it, after saying it had work on it.
  ASSERT_EQ(Run(Flow(""), "gone").code, 0);
  r = Gc({"--delete-branches"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("deleted branch specwright/gone"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("has 1 commit(s) no other branch has"), std::string::npos) << r.out;
  EXPECT_EQ(Git("branch --list 'specwright/*' --format='%(refname:short)'"), "specwright/drop\n");
  EXPECT_EQ(Git("worktree list --porcelain").find("specwright"), std::string::npos);
}

TEST_F(WorkspaceE2E, GcNeverDeletesACheckedOutBranchAndGoesOnWhenTheRepositoryMoved) {
  ASSERT_EQ(Run(Flow(""), "mine").code, 0);
  ASSERT_EQ(Run(Flow(""), "moved").code, 0);
  std::string other_repo = dir_ + "/other";
  // The user adopts run "mine": its work tree removed by hand, its branch checked out in
  // their own checkout.
  fs::remove_all(Ws("mine"));
  Git("worktree prune");
  Git("checkout -q specwright/mine");
  // A dry run says what the real pass will do: keep the branch the user has checked out, and
  // delete the other (whose only holder is the run's own work tree, which gc prunes).
  auto r = Gc({"--delete-branches", "--json", "--dry-run"});
  ASSERT_EQ(r.code, 0) << r.err;
  json g = json::parse(r.out);
  std::map<std::string, std::string> would;
  for (const auto& b : g["branches"]) would[b["run"]] = b["action"];
  EXPECT_EQ(would["mine"], "checked_out") << r.out;
  EXPECT_EQ(would["moved"], "would_delete") << r.out;
  r = Gc({"--delete-branches", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  g = json::parse(r.out);
  std::map<std::string, std::string> action;
  for (const auto& b : g["branches"]) action[b["run"]] = b["action"];
  EXPECT_EQ(action["mine"], "checked_out");
  EXPECT_EQ(action["moved"], "deleted");
  EXPECT_NE(Git("branch --list 'specwright/*'").find("specwright/mine"), std::string::npos);

  // A repository moved away: reported, and the rest goes on.
  Git("checkout -q main");
  ASSERT_EQ(Run(Flow(""), "lost").code, 0);
  fs::rename(repo_, other_repo);
  r = Gc({"--delete-branches", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  g = json::parse(r.out);
  EXPECT_EQ(g["runs_deleted"], json::array({"lost"}));
  ASSERT_EQ(g["worktrees"].size(), 1u);
  EXPECT_EQ(g["worktrees"][0]["action"], "repository_gone");
  EXPECT_FALSE(fs::exists(Ws("lost")));
}

TEST_F(WorkspaceE2E, GitsAuthorAndCommitterKeysComeBeforeUserAndTheEventSaysWhereEachCameFrom) {
  Git("config author.name 'Author Key'");
  Git("config author.email author@example.com");
  Git("config committer.email committer@example.com");
  auto r = Run(Flow(""), "keys");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(Git("log -1 --format='%an <%ae>|%cn <%ce>' specwright/keys"),
            "Author Key <author@example.com>|Ada Lovelace <committer@example.com>\n");
  json d = WorkspaceEvent("keys");
  EXPECT_EQ(d["author"], "Author Key <author@example.com>");
  EXPECT_EQ(d["author_from"], "the repository's git config (author.*)");
  EXPECT_EQ(d["committer_from"], "the repository's git config (user.*) and the repository's git config (committer.*)");
  // The environment, the workspace's author: and the fallback are named too.
  env_.Set("GIT_AUTHOR_NAME", "Env Author");
  env_.Set("GIT_AUTHOR_EMAIL", "env@example.com");
  ASSERT_EQ(Run(Flow(""), "env").code, 0);
  EXPECT_EQ(WorkspaceEvent("env")["author_from"], "GIT_AUTHOR_*");
  ASSERT_EQ(Run(Flow(", author: \"Robo Dev <robo@example.org>\""), "over").code, 0);
  EXPECT_EQ(WorkspaceEvent("over")["author_from"], "workspace.author");
  env_.Unset("GIT_AUTHOR_NAME");
  env_.Unset("GIT_AUTHOR_EMAIL");
  for (const char* k : {"author.name", "author.email", "committer.email", "user.name", "user.email"})
    Git(std::string("config --unset ") + k);
  ASSERT_EQ(Run(Flow(""), "nobody").code, 0);
  EXPECT_EQ(WorkspaceEvent("nobody")["committer_from"], "the fallback (no identity configured)");
}

TEST_F(WorkspaceE2E, GcWithoutAStoreReportsEveryKeyOfANormalReport) {
  auto none = RunCli({"gc", "--store", dir_ + "/nowhere", "--json"}, dir_);
  ASSERT_EQ(none.code, 0) << none.err;
  json empty = json::parse(none.out);
  EXPECT_EQ(empty["runs_deleted"], json::array());
  EXPECT_EQ(empty["worktrees"], json::array());
  EXPECT_EQ(empty["branches"], json::array());
  EXPECT_EQ(empty["blobs_deleted"], 0);
  EXPECT_EQ(empty["blob_bytes_freed"], 0);
  EXPECT_EQ(empty["vacuumed"], false);
  EXPECT_EQ(empty["dry_run"], false);
  EXPECT_FALSE(fs::exists(dir_ + "/nowhere")) << "gc makes no store";
  ASSERT_EQ(Run(Flow(""), "one").code, 0);
  auto normal = Gc({"--json"});
  ASSERT_EQ(normal.code, 0) << normal.err;
  std::set<std::string> want, got;
  json full = json::parse(normal.out);
  for (const auto& [k, v] : full.items()) want.insert(k);
  for (const auto& [k, v] : empty.items()) got.insert(k);
  EXPECT_EQ(got, want);
}

TEST_F(WorkspaceE2E, GcDryRunAnswersWhatTheRealPassDoesInALinkedRepositoryAndForALockedWorkTree) {
  // The user's repository is itself a linked work tree (its .git is a file): the records of
  // the run's work tree live in the main repository's .git/worktrees.
  Git("worktree add -q " + dir_ + "/linked -b side");
  ASSERT_TRUE(fs::is_regular_file(dir_ + "/linked/.git"));
  ASSERT_EQ(Run(Flow("", "true", true, "linked"), "lnk").code, 0);
  ASSERT_EQ(Run(Flow(""), "lck").code, 0);
  Git("worktree lock " + Ws("lck"));
  auto r = Gc({"--dry-run", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto dry = Actions(json::parse(r.out)["worktrees"]);
  EXPECT_EQ(dry["lnk"], "would_prune") << r.out;
  EXPECT_EQ(dry["lck"], "locked") << r.out;
  r = Gc({"--dry-run"});
  EXPECT_NE(r.out.find("work tree specwright-lck of " + repo_ + " is locked (git worktree unlock): would be left alone"),
            std::string::npos)
      << r.out;
  r = Gc({"--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto real = Actions(json::parse(r.out)["worktrees"]);
  EXPECT_EQ(real["lnk"], "pruned") << r.out;
  EXPECT_EQ(real["lck"], "locked") << r.out;
  std::string wl = Git("worktree list --porcelain");
  EXPECT_EQ(wl.find("specwright-lnk"), std::string::npos) << wl;
  EXPECT_NE(wl.find("locked"), std::string::npos) << wl;
}

TEST_F(WorkspaceE2E, GcFollowsLinksAndSaysWhenTheRecordIsOfAnotherFolder) {
  // The store reached through a symbolic link: the record still is the run's.
  fs::create_directory_symlink(dir_, dir_ + "/via");
  std::string via_store = dir_ + "/via/store";
  ASSERT_EQ(RunCli({"run", Flow(""), "--store", via_store, "--run-id", "link"}, dir_).code, 0);
  auto r = RunCli({"gc", "--store", via_store, "--older-than", "0s", "--json"}, dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Actions(json::parse(r.out)["worktrees"])["link"], "pruned") << r.out;
  EXPECT_EQ(Git("worktree list --porcelain").find("specwright-link"), std::string::npos);

  // The run's work tree removed by hand and its name taken by another: left alone, and said.
  ASSERT_EQ(Run(Flow(""), "oth").code, 0);
  fs::remove_all(Ws("oth"));
  Git("worktree prune");
  std::string elsewhere = dir_ + "/elsewhere/specwright-oth";
  Git("worktree add -q " + elsewhere + " -b elsewhere");
  r = Gc({"--dry-run"});
  EXPECT_NE(r.out.find("work tree specwright-oth of " + repo_ + " is recorded at " + elsewhere), std::string::npos)
      << r.out;
  r = Gc({"--keep-branches"});
  EXPECT_NE(r.out.find("is recorded at " + elsewhere + ", not at the run's " + Ws("oth")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(": left alone"), std::string::npos) << r.out;
  EXPECT_NE(Git("worktree list --porcelain").find(elsewhere), std::string::npos);
}

TEST_F(WorkspaceE2E, GcJsonNamesTheFolderAnotherRecordIsOf) {
  ASSERT_EQ(Run(Flow(""), "oth").code, 0);
  fs::remove_all(Ws("oth"));
  Git("worktree prune");
  std::string elsewhere = dir_ + "/elsewhere/specwright-oth";
  Git("worktree add -q " + elsewhere + " -b elsewhere");
  auto r = Gc({"--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json g = json::parse(r.out);
  ASSERT_EQ(g["worktrees"].size(), 1u) << r.out;
  EXPECT_EQ(g["worktrees"][0]["action"], "other");
  EXPECT_EQ(fs::weakly_canonical(g["worktrees"][0]["recorded_dir"].get<std::string>()), fs::weakly_canonical(elsewhere));
}

TEST_F(WorkspaceE2E, GcDoesNotCountTheSnapshotOfUncommittedChangesAsTheRunsWork) {
  Dirty();
  ASSERT_EQ(Run(Flow(", include_uncommitted: true", "true", /*edit=*/false), "snap").code, 0);
  ASSERT_EQ(Run(Flow(", include_uncommitted: true"), "work").code, 0);
  std::string snapshot = WorkspaceEvent("snap")["uncommitted"]["commit"];
  ASSERT_FALSE(snapshot.empty());
  auto r = Gc({"--dry-run", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json dry = json::parse(r.out);
  std::map<std::string, json> br;
  for (const auto& b : dry["branches"]) br[b["run"].get<std::string>()] = b;
  EXPECT_EQ(br["snap"]["unique_commits"], 0) << r.out;
  EXPECT_EQ(br["snap"]["snapshot_unique"], true);
  EXPECT_EQ(br["snap"]["snapshot"], snapshot);
  EXPECT_EQ(br["work"]["unique_commits"], 1) << r.out;
  EXPECT_EQ(br["work"]["snapshot_unique"], true);
  r = Gc({"--delete-branches"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("specwright/snap of " + repo_ + " holds only the snapshot of uncommitted changes"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("specwright/snap of " + repo_ + " has"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("specwright/work of " + repo_ + " has 1 commit(s) no other branch has (the run's work, on top of "
                       "the snapshot of uncommitted changes"),
            std::string::npos)
      << r.out;
}

TEST_F(WorkspaceE2E, GcTakesTheWorkTreeOfARunWhoseRecordIsGone) {
  ASSERT_EQ(Run(Flow(""), "norec").code, 0);
  // Its workspace event gone (as for a run gc's real pass takes that its probe did not see).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((store_ + "/specwright.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DELETE FROM events WHERE type = 'workspace'", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto r = Gc({"--json", "--keep-branches"});
  ASSERT_EQ(r.code, 0) << r.err;
  json g = json::parse(r.out);
  EXPECT_EQ(g["workspaces_deleted"], 1) << r.out;
  EXPECT_EQ(Actions(g["worktrees"])["norec"], "pruned") << r.out;
  EXPECT_EQ(Actions(g["branches"])["norec"], "kept") << r.out;
  EXPECT_FALSE(fs::exists(Ws("norec")));
  EXPECT_EQ(Git("worktree list --porcelain").find("specwright"), std::string::npos);
}

TEST_F(WorkspaceE2E, OlderThanTakesZeroInAnyUnitAndNamesABadValue) {
  for (const char* age : {"0s", "0m", "0h", "0d", "90s"}) {
    auto r = RunCli({"gc", "--store", store_, "--older-than", age, "--dry-run"}, dir_);
    EXPECT_EQ(r.code, 0) << age << ": " << r.err;
  }
  for (const char* bad : {"-1d", "-5s", "soon", "5x", "s"}) {
    auto r = RunCli({"gc", "--store", store_, "--older-than", bad}, dir_);
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_NE(r.err.find(std::string("\"") + bad + "\""), std::string::npos) << r.err;
  }
}

}  // namespace
