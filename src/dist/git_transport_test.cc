// The workspace's journey through a shared bare repository, with real repositories in temp
// folders, real libgit2 and the real git command to look at the results.
#include "dist/git_transport.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "base/strings.h"
#include "tests/isolated_env.h"

namespace sw::dist {
namespace {

namespace fs = std::filesystem;

struct Out {
  int rc;
  std::string text;
};

Out Sh(const std::string& cmd) {
  Out o{-1, ""};
  FILE* f = popen((cmd + " 2>&1").c_str(), "r");
  if (!f) return o;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) o.text.append(buf, n);
  int st = pclose(f);
  o.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return o;
}

std::string Git(const std::string& dir, const std::string& args) {
  Out o = Sh("git -C '" + dir + "' -c user.name=Tester -c user.email=tester@example.com " + args);
  EXPECT_EQ(o.rc, 0) << "git " << args << ": " << o.text;
  return o.text;
}

void Write(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Files lists a work tree's files (not .git) with their contents.
std::map<std::string, std::string> Files(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    if (it->path().filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) out[it->path().lexically_relative(dir).string()] = Read(it->path());
  }
  return out;
}

std::string Binary(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  s[0] = '\0';
  s[1] = '\xff';
  return s;
}

class GitTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_git_transport_XXXXXX";
    root_ = mkdtemp(tmpl);
    bare_ = (root_ / "shared.git").string();
    Git(root_.string(), "init -q --bare '" + bare_ + "'");
    // The user's repository, and the run's workspace as the engine makes it: a linked work
    // tree on the run's branch.
    user_ = root_ / "user";
    Git(root_.string(), "init -q -b main '" + user_.string() + "'");
    Write(user_ / "a.txt", "one\ntwo\nthree\nfour\nfive\n");
    Write(user_ / "z.txt", "zed\n");
    Write(user_ / "old.txt", "to be deleted\n");
    Write(user_ / "dir" / "b.txt", "bee\n");
    Write(user_ / "bin.dat", Binary(3000, 1));
    Write(user_ / ".gitignore", "build/\n");
    Git(user_.string(), "add -A");
    Git(user_.string(), "commit -q -m initial");
    ws_ = root_ / "ws";
    Git(user_.string(), "worktree add -q -b specwright/R1 '" + ws_.string() + "'");
    cache_ = (root_ / "cache").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string RemoteRefs() { return Sh("git -C '" + bare_ + "' show-ref").text; }
  std::string GitStatus(const fs::path& dir) { return Git(dir.string(), "status --porcelain --untracked-files=all"); }
  std::string Head(const fs::path& dir) { return Git(dir.string(), "rev-parse HEAD"); }
  /// WorktreeIndex is the bytes of the workspace's index file.
  std::string WorktreeIndex() { return Read(user_ / ".git" / "worktrees" / "ws" / "index"); }

  fs::path root_, user_, ws_;
  std::string bare_, cache_;
};

TEST_F(GitTransportTest, PublishCheckoutDeliverAbsorbCarriesEveryKindOfChange) {
  // What the run's tools left uncommitted travels; an ignored build output does not.
  Write(ws_ / "a.txt", "one\ntwo\nthree\nfour\nfive\nsix\n");
  Write(ws_ / "untracked" / "u.txt", "new before publish\n");
  Write(ws_ / "build" / "out.o", "ignored");
  std::string head = Head(ws_), status = GitStatus(ws_), index = WorktreeIndex();

  auto base = Publish(ws_.string(), bare_, "R1");
  ASSERT_TRUE(base.ok()) << base.status().message();
  EXPECT_NE(RemoteRefs().find(*base + " refs/specwright/runs/R1/base/" + *base), std::string::npos) << RemoteRefs();
  // Neither the branch, the index nor the work tree moved.
  EXPECT_EQ(Head(ws_), head);
  EXPECT_EQ(GitStatus(ws_), status);
  EXPECT_EQ(WorktreeIndex(), index);
  EXPECT_EQ(Git(ws_.string(), "rev-parse " + *base + "^"), head);

  auto tree = Checkout(cache_, bare_, "R1", *base);
  ASSERT_TRUE(tree.ok()) << tree.status().message();
  fs::path dir = (*tree)->dir();
  EXPECT_TRUE(StartsWith(dir.string(), cache_));
  auto files = Files(dir);
  EXPECT_EQ(files["a.txt"], "one\ntwo\nthree\nfour\nfive\nsix\n");
  EXPECT_EQ(files["untracked/u.txt"], "new before publish\n");
  EXPECT_EQ(files["bin.dat"], Binary(3000, 1));
  EXPECT_FALSE(fs::exists(dir / "build")) << "ignored files stay home";

  // The tool: adds (in new folders), modifies, deletes, renames, changes a binary file.
  Write(dir / "new" / "deep" / "f.txt", "deep\n");
  Write(dir / "a.txt", "ONE\ntwo\nthree\nfour\nfive\nsix\n");
  fs::remove(dir / "old.txt");
  fs::rename(dir / "dir" / "b.txt", dir / "dir" / "c.txt");
  Write(dir / "bin.dat", Binary(5000, 2));
  Write(dir / "build" / "tool.o", "the tool's build output");
  fs::permissions(dir / "z.txt", fs::perms::owner_exec, fs::perm_options::add);

  auto delivered = Deliver(dir.string(), bare_, "R1", "42", *base, tools::Identity{"Run Author", "run@example.com"});
  ASSERT_TRUE(delivered.ok()) << delivered.status().message();
  ASSERT_FALSE(delivered->empty());
  EXPECT_NE(RemoteRefs().find(*delivered + " refs/specwright/runs/R1/task/42/" + *delivered), std::string::npos);
  EXPECT_EQ(Sh("git -C '" + bare_ + "' rev-parse " + *delivered + "^").text, *base + "\n");
  EXPECT_EQ(Sh("git -C '" + bare_ + "' log -1 --format=%an%n%ae " + *delivered).text, "Run Author\nrun@example.com\n");
  EXPECT_EQ(Sh("git -C '" + bare_ + "' ls-tree -r --name-only " + *delivered + " build").text, "");
  tree->reset();

  std::string person_index = WorktreeIndex();
  auto absorbed = Absorb(ws_.string(), bare_, "R1", "42", *delivered);
  ASSERT_TRUE(absorbed.ok()) << absorbed.status().message();
  EXPECT_EQ(absorbed->mode, "fast-forward");
  auto got = Files(ws_);
  EXPECT_EQ(got["a.txt"], "ONE\ntwo\nthree\nfour\nfive\nsix\n");
  EXPECT_EQ(got["new/deep/f.txt"], "deep\n");
  EXPECT_EQ(got.count("old.txt"), 0u);
  EXPECT_EQ(got.count("dir/b.txt"), 0u);
  EXPECT_EQ(got["dir/c.txt"], "bee\n");
  EXPECT_EQ(got["bin.dat"], Binary(5000, 2));
  EXPECT_EQ(got["untracked/u.txt"], "new before publish\n");
  EXPECT_EQ(got["build/out.o"], "ignored") << "the workspace's own ignored files are never touched";
  EXPECT_EQ(got.count("build/tool.o"), 0u);
  EXPECT_TRUE((fs::status(ws_ / "z.txt").permissions() & fs::perms::owner_exec) != fs::perms::none);
  EXPECT_EQ(Head(ws_), head) << "the branch moves only with the engine's next checkpoint";
  EXPECT_EQ(WorktreeIndex(), person_index);
  // The work tree is now exactly the task's tree (git's own view: stage all, compare).
  Git(ws_.string(), "add -A");
  EXPECT_EQ(Git(ws_.string(), "write-tree"), Git(ws_.string(), "rev-parse " + *delivered + "^{tree}"));
  // Absorbing again changes nothing.
  Git(ws_.string(), "reset -q");
  auto again = Absorb(ws_.string(), bare_, "R1", "42", *delivered);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->mode, "unchanged");
}

TEST_F(GitTransportTest, TwoParallelTasksOnDifferentFilesBothAbsorb) {
  auto base = Publish(ws_.string(), bare_, "R1");
  ASSERT_TRUE(base.ok()) << base.status().message();
  // Both work trees at once: two slots, never one.
  auto t1 = Checkout(cache_, bare_, "R1", *base);
  auto t2 = Checkout(cache_, bare_, "R1", *base);
  ASSERT_TRUE(t1.ok() && t2.ok());
  ASSERT_NE((*t1)->dir(), (*t2)->dir());
  Write(fs::path((*t1)->dir()) / "a.txt", "ONE\ntwo\nthree\nfour\nfive\n");
  Write(fs::path((*t1)->dir()) / "bin.dat", Binary(4000, 7));
  Write(fs::path((*t2)->dir()) / "z.txt", "ZED\n");
  Write(fs::path((*t2)->dir()) / "a.txt", "one\ntwo\nthree\nfour\nFIVE\n");  // far from t1's line
  Write(fs::path((*t2)->dir()) / "t2" / "new.txt", "t2\n");
  auto d1 = Deliver((*t1)->dir(), bare_, "R1", "t1", *base);
  auto d2 = Deliver((*t2)->dir(), bare_, "R1", "t2", *base);
  ASSERT_TRUE(d1.ok() && d2.ok()) << d1.status().message() << d2.status().message();
  // Meanwhile a person edits another file of the workspace, and a line between the tasks'
  // lines of a.txt: staged, then edited again (index, work tree and HEAD all differ).
  Write(ws_ / "dir" / "b.txt", "bee, edited by a person\n");
  Write(ws_ / "a.txt", "one\ntwo\nthree staged\nfour\nfive\n");
  Git(ws_.string(), "add a.txt");
  Write(ws_ / "a.txt", "one\ntwo\nthree edited again\nfour\nfive\n");
  std::string index = WorktreeIndex();

  auto a2 = Absorb(ws_.string(), bare_, "R1", "t2", *d2);
  ASSERT_TRUE(a2.ok()) << a2.status().message();
  EXPECT_EQ(a2->mode, "merge");
  auto a1 = Absorb(ws_.string(), bare_, "R1", "t1", *d1);
  ASSERT_TRUE(a1.ok()) << a1.status().message();
  EXPECT_EQ(a1->mode, "merge");
  EXPECT_EQ(a1->files, (std::vector<std::string>{"a.txt", "bin.dat"}));
  auto got = Files(ws_);
  EXPECT_EQ(got["a.txt"], "ONE\ntwo\nthree edited again\nfour\nFIVE\n");
  EXPECT_EQ(WorktreeIndex(), index) << "what the person staged stays staged";
  EXPECT_EQ(got["z.txt"], "ZED\n");
  EXPECT_EQ(got["t2/new.txt"], "t2\n");
  EXPECT_EQ(got["bin.dat"], Binary(4000, 7));
  EXPECT_EQ(got["dir/b.txt"], "bee, edited by a person\n");
}

TEST_F(GitTransportTest, TasksChangingTheSameLinesConflictAndLeaveTheWorkspaceAlone) {
  auto base = Publish(ws_.string(), bare_, "R1");
  ASSERT_TRUE(base.ok());
  std::string d[2];
  for (int i = 0; i < 2; ++i) {
    auto t = Checkout(cache_, bare_, "R1", *base);
    ASSERT_TRUE(t.ok()) << t.status().message();
    Write(fs::path((*t)->dir()) / "a.txt", "one\nTWO by " + std::to_string(i) + "\nthree\nfour\nfive\n");
    Write(fs::path((*t)->dir()) / ("only" + std::to_string(i) + ".txt"), "x\n");
    auto r = Deliver((*t)->dir(), bare_, "R1", "t" + std::to_string(i), *base);
    ASSERT_TRUE(r.ok()) << r.status().message();
    d[i] = *r;
  }
  ASSERT_TRUE(Absorb(ws_.string(), bare_, "R1", "t0", d[0]).ok());
  Write(ws_ / "person.txt", "a person's work\n");
  auto before = Files(ws_);
  std::string status = GitStatus(ws_), index = WorktreeIndex();
  auto r = Absorb(ws_.string(), bare_, "R1", "t1", d[1]);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailed);
  EXPECT_NE(r.status().message().find("conflict"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("a.txt"), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find("only1.txt"), std::string::npos) << r.status().message();
  EXPECT_EQ(Files(ws_), before);
  EXPECT_EQ(GitStatus(ws_), status);
  EXPECT_EQ(WorktreeIndex(), index);
}

TEST_F(GitTransportTest, NothingChangedDeliversNothing) {
  auto base = Publish(ws_.string(), bare_, "R1");
  ASSERT_TRUE(base.ok());
  auto t = Checkout(cache_, bare_, "R1", *base);
  ASSERT_TRUE(t.ok());
  Write(fs::path((*t)->dir()) / "build" / "x.o", "ignored output only");
  Write(fs::path((*t)->dir()) / "a.txt", Read(fs::path((*t)->dir()) / "a.txt"));  // rewritten, same bytes
  auto r = Deliver((*t)->dir(), bare_, "R1", "t", *base);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "");
  EXPECT_EQ(RemoteRefs().find("/task/"), std::string::npos) << RemoteRefs();
}

TEST_F(GitTransportTest, ATasksLeftoversNeverReachTheNextTaskAndKnownCommitsAreNotFetched) {
  auto base = Publish(ws_.string(), bare_, "R1");
  ASSERT_TRUE(base.ok());
  std::string dir;
  {
    auto t = Checkout(cache_, bare_, "R1", *base);
    ASSERT_TRUE(t.ok());
    dir = (*t)->dir();
    Write(fs::path(dir) / "stale.txt", "left by task 1\n");
    Write(fs::path(dir) / "build" / "stale.o", "ignored, left by task 1\n");
    Write(fs::path(dir) / "a.txt", "changed by task 1\n");
    fs::remove(fs::path(dir) / "z.txt");
    // A tool that commits on its own, and leaves a lock file behind as if killed.
    Git(dir, "add -A");
    Git(dir, "commit -q -m tool-commit");
    Write(fs::path(dir) / ".git" / "index.lock", "");
  }
  // The remote goes away: the base is in the cache, so nothing is fetched.
  fs::rename(bare_, bare_ + ".away");
  auto t = Checkout(cache_, bare_, "R1", *base);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ((*t)->dir(), dir) << "the slot is reused";
  EXPECT_EQ((*t)->base(), *base);
  EXPECT_FALSE(fs::exists(fs::path(dir) / "stale.txt"));
  EXPECT_FALSE(fs::exists(fs::path(dir) / "build"));
  EXPECT_EQ(Read(fs::path(dir) / "a.txt"), "one\ntwo\nthree\nfour\nfive\n");
  EXPECT_TRUE(fs::exists(fs::path(dir) / "z.txt"));
  EXPECT_EQ(Head(dir), *base + "\n");
  fs::rename(bare_ + ".away", bare_);
}

TEST_F(GitTransportTest, ToolCommitsAreFlattenedOntoTheBase) {
  auto base = Publish(ws_.string(), bare_, "R1");
  ASSERT_TRUE(base.ok());
  auto t = Checkout(cache_, bare_, "R1", *base);
  ASSERT_TRUE(t.ok());
  std::string dir = (*t)->dir();
  Write(fs::path(dir) / "c1.txt", "first\n");
  Git(dir, "add -A");
  Git(dir, "commit -q -m one");
  Write(fs::path(dir) / "c2.txt", "second, uncommitted\n");
  auto d = Deliver(dir, bare_, "R1", "t", *base);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(Sh("git -C '" + bare_ + "' rev-list --parents -n1 " + *d).text, *d + " " + *base + "\n");
  EXPECT_EQ(Sh("git -C '" + bare_ + "' diff --name-only " + *base + " " + *d).text, "c1.txt\nc2.txt\n");
}

TEST_F(GitTransportTest, BadIdsAreRefusedBeforeAnythingHappens) {
  auto base = Publish(ws_.string(), bare_, "R1");
  ASSERT_TRUE(base.ok());
  std::string refs = RemoteRefs();
  for (std::string run : {"../x", "a..b", "x.lock", "-x", "a/b", "ref~1", "a b", "", ".hidden", "r:1", "r^", "r\nx"}) {
    auto p = Publish(ws_.string(), bare_, run);
    ASSERT_FALSE(p.ok()) << run;
    EXPECT_EQ(p.status().code(), Code::kInvalidInput) << run;
    EXPECT_FALSE(Checkout(cache_, bare_, run, *base).ok()) << run;
  }
  auto t = Checkout(cache_, bare_, "R1", *base);
  ASSERT_TRUE(t.ok());
  Write(fs::path((*t)->dir()) / "x.txt", "x");
  for (std::string task : {"..", "a/../b", "t.lock", "a/b", "refs/heads/main", "-f", "t@{1}"}) {
    auto d = Deliver((*t)->dir(), bare_, "R1", task, *base);
    ASSERT_FALSE(d.ok()) << task;
    EXPECT_NE(d.status().message().find("invalid task id"), std::string::npos) << d.status().message();
    EXPECT_FALSE(Absorb(ws_.string(), bare_, "R1", task, *base).ok());
  }
  for (std::string commit : std::vector<std::string>{"HEAD", "main", base->substr(0, 12), std::string(40, 'g'), *base + "0"}) {
    auto c = Checkout(cache_, bare_, "R1", commit);
    EXPECT_EQ(c.status().code(), Code::kInvalidInput) << commit;
    EXPECT_EQ(Absorb(ws_.string(), bare_, "R1", "t", commit).status().code(), Code::kInvalidInput) << commit;
  }
  EXPECT_EQ(RemoteRefs(), refs) << "nothing was pushed";
  EXPECT_FALSE(fs::exists(fs::path(cache_) / ".." / "x"));
}

TEST_F(GitTransportTest, RemotesAreValidatedAndAMissingOneIsAClearError) {
  EXPECT_TRUE(ValidateRemote("/srv/git/shared.git").ok());
  EXPECT_TRUE(ValidateRemote("file:///srv/git/shared.git").ok());
  EXPECT_TRUE(ValidateRemote("ssh://git@host:2222/shared.git").ok());
  EXPECT_TRUE(ValidateRemote("git@host.example.com:team/shared.git").ok());
  EXPECT_TRUE(ValidateRemote("https://host/shared.git").ok());
  for (std::string bad : {"", "shared.git", "./shared.git", "-uhack", "ext::sh -c touch% /tmp/x", "fd::3",
                          "ftp://host/x", "/srv/x\n", "host:"})
    EXPECT_EQ(ValidateRemote(bad).code(), Code::kInvalidInput) << bad;

  std::string missing = (root_ / "nowhere" / "shared.git").string();
  auto p = Publish(ws_.string(), missing, "R1");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kNotFound) << p.status().message();
  EXPECT_NE(p.status().message().find("does not exist"), std::string::npos) << p.status().message();
  EXPECT_NE(p.status().message().find(missing), std::string::npos) << p.status().message();
  EXPECT_NE(p.status().message().find("refs/specwright/runs/R1/base/"), std::string::npos) << p.status().message();

  auto base = Publish(ws_.string(), bare_, "R1");
  ASSERT_TRUE(base.ok());
  auto c = Checkout(cache_, "file://" + missing, "R1", *base);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("refs/specwright/runs/R1/base/" + *base), std::string::npos) << c.status().message();
  // A folder that is no repository.
  fs::create_directories(missing);
  auto notrepo = Publish(ws_.string(), missing, "R1");
  ASSERT_FALSE(notrepo.ok());
  EXPECT_NE(notrepo.status().message().find(missing), std::string::npos) << notrepo.status().message();
  EXPECT_NE(c.status().message().find("file://" + missing), std::string::npos) << c.status().message();
  // A commit that was never published: the remote has no such base.
  std::string unknown(40, 'a');
  auto u = Checkout(cache_, bare_, "R1", unknown);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().code(), Code::kNotFound) << u.status().message();
  EXPECT_NE(u.status().message().find("refs/specwright/runs/R1/base/" + unknown), std::string::npos) << u.status().message();
  auto a = Absorb(ws_.string(), bare_, "R1", "t9", unknown);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("refs/specwright/runs/R1/task/t9/" + unknown), std::string::npos) << a.status().message();
}

TEST_F(GitTransportTest, PasswordsNeverAppearInErrors) {
  EXPECT_EQ(RedactRemote("https://bob:s3cr3t@git.example.com/r.git"), "https://bob:***@git.example.com/r.git");
  EXPECT_EQ(RedactRemote("https://ghp_T0KEN@git.example.com/r.git?x=1"), "https://***@git.example.com/r.git");
  EXPECT_EQ(RedactRemote("ssh://git:pw@host/r.git"), "ssh://git:***@host/r.git");
  EXPECT_EQ(RedactRemote("ssh://git@host/r.git"), "ssh://git@host/r.git");
  EXPECT_EQ(RedactRemote("git@host:r.git"), "git@host:r.git");
  EXPECT_EQ(RedactRemote("/srv/r.git"), "/srv/r.git");
  // Nothing listens on port 1: the push fails, and says so without the password.
  for (std::string url : {"https://bob:s3cr3t@127.0.0.1:1/r.git", "http://bob:s3cr3t@127.0.0.1:1/r.git",
                          "ssh://bob:s3cr3t@127.0.0.1:1/r.git", "https://s3cr3t@127.0.0.1:1/r.git"}) {
    auto p = Publish(ws_.string(), url, "R1");
    ASSERT_FALSE(p.ok()) << url;
    const std::string& m = p.status().message();
    EXPECT_EQ(m.find("s3cr3t"), std::string::npos) << m;
    EXPECT_NE(m.find("127.0.0.1:1/r.git"), std::string::npos) << m;
    EXPECT_NE(m.find("refs/specwright/runs/R1/base/"), std::string::npos) << m;
    auto c = Checkout(cache_, url, "R1", std::string(40, 'b'));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().message().find("s3cr3t"), std::string::npos) << c.status().message();
  }
  auto bad = ValidateRemote("ftp://bob:s3cr3t@host/x");
  EXPECT_EQ(bad.message().find("s3cr3t"), std::string::npos) << bad.message();
}

TEST_F(GitTransportTest, TransfersAreCappedAndTimed) {
  Write(ws_ / "big.dat", Binary(400000, 3));  // does not compress
  TransportOptions small;
  small.max_transfer_bytes = 10000;
  auto p = Publish(ws_.string(), bare_, "R1", small);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("cap of 10000 bytes"), std::string::npos) << p.status().message();
  EXPECT_NE(p.status().message().find(bare_), std::string::npos) << p.status().message();

  auto base = Publish(ws_.string(), bare_, "R1");
  ASSERT_TRUE(base.ok()) << base.status().message();
  auto c = Checkout(cache_, bare_, "R1", *base, small);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("cap of 10000 bytes"), std::string::npos) << c.status().message();

  TransportOptions instant;
  instant.timeout_seconds = 0;
  auto t = Checkout(cache_, bare_, "R1", *base, instant);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kTimeout) << t.status().message();
  EXPECT_TRUE(Checkout(cache_, bare_, "R1", *base).ok()) << "a failed fetch leaves the cache usable";
}

TEST_F(GitTransportTest, ConcurrentCheckoutsFromThreadsGetTheirOwnTrees) {
  auto base = Publish(ws_.string(), bare_, "R1");
  ASSERT_TRUE(base.ok());
  constexpr int kN = 6;
  std::vector<std::unique_ptr<TaskTree>> trees(kN);
  std::vector<std::string> errors(kN);
  std::vector<std::thread> threads;
  for (int i = 0; i < kN; ++i)
    threads.emplace_back([&, i] {
      auto t = Checkout(cache_, bare_, "R1", *base);
      if (t.ok()) trees[i] = std::move(t).value();
      else errors[i] = t.status().message();
    });
  for (auto& th : threads) th.join();
  std::set<std::string> dirs;
  for (int i = 0; i < kN; ++i) {
    ASSERT_TRUE(trees[i]) << errors[i];
    dirs.insert(trees[i]->dir());
    EXPECT_EQ(Read(fs::path(trees[i]->dir()) / "z.txt"), "zed\n");
  }
  EXPECT_EQ(dirs.size(), static_cast<size_t>(kN));
}

TEST_F(GitTransportTest, ACheckpointPushedIsAWorkspaceRestoredElsewhere) {
  Write(ws_ / "node1.txt", "a node's output\n");
  Git(ws_.string(), "add -A");
  Git(ws_.string(), "commit -q -m checkpoint");
  Write(ws_ / "uncommitted.txt", "not part of a checkpoint\n");
  auto cp = PushCheckpoint(ws_.string(), bare_, "R1");
  ASSERT_TRUE(cp.ok()) << cp.status().message();
  EXPECT_EQ(*cp + "\n", Head(ws_));
  EXPECT_NE(RemoteRefs().find(*cp + " refs/specwright/runs/R1/checkpoint/" + *cp), std::string::npos) << RemoteRefs();
  fs::path elsewhere = root_ / "machine2" / "ws";
  Status s = RestoreWorkspace(elsewhere.string(), bare_, "R1", *cp);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Git(elsewhere.string(), "rev-parse --abbrev-ref HEAD"), "specwright/R1\n");
  EXPECT_EQ(Head(elsewhere), *cp + "\n");
  EXPECT_EQ(GitStatus(elsewhere), "");
  EXPECT_EQ(Read(elsewhere / "node1.txt"), "a node's output\n");
  EXPECT_FALSE(fs::exists(elsewhere / "uncommitted.txt"));
  EXPECT_EQ(RestoreWorkspace(elsewhere.string(), bare_, "R1", *cp).code(), Code::kInvalidInput) << "never over files";
  EXPECT_EQ(RestoreWorkspace((root_ / "m3").string(), bare_, "R1", std::string(40, 'c')).code(), Code::kNotFound);
}

TEST_F(GitTransportTest, ForgetRunRemovesRefsHereThereAndTheCache) {
  auto base = Publish(ws_.string(), bare_, "R1");
  ASSERT_TRUE(base.ok());
  auto other = Publish(ws_.string(), bare_, "R2");
  ASSERT_TRUE(other.ok());
  {
    auto t = Checkout(cache_, bare_, "R1", *base);
    ASSERT_TRUE(t.ok());
    Write(fs::path((*t)->dir()) / "n.txt", "n\n");
    auto d = Deliver((*t)->dir(), bare_, "R1", "t", *base);
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(Absorb(ws_.string(), bare_, "R1", "t", *d).ok());
    // While a task holds a tree, its cache stays.
    EXPECT_EQ(ForgetRun("", "", cache_, "R1").code(), Code::kUnavailable);
  }
  ASSERT_TRUE(ForgetRun(ws_.string(), bare_, cache_, "R1").ok());
  EXPECT_EQ(RemoteRefs().find("runs/R1/"), std::string::npos) << RemoteRefs();
  EXPECT_NE(RemoteRefs().find("runs/R2/"), std::string::npos) << RemoteRefs();
  EXPECT_EQ(Sh("git -C '" + user_.string() + "' for-each-ref refs/specwright/runs/R1").text, "");
  EXPECT_FALSE(fs::exists(fs::path(cache_) / "R1"));
}

}  // namespace
}  // namespace sw::dist
