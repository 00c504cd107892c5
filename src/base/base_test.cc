#include <gtest/gtest.h>

#include "base/clock.h"
#include "base/fs.h"
#include "base/hash.h"
#include "base/ids.h"
#include "base/strings.h"
#include "base/subprocess.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace sw {
namespace {

TEST(Ids, ArtifactNamesCannotEscapeTheStore) {
  for (const char* bad : {"../../etc/passwd", "/etc/passwd", "a/../../b", "..", ".", "a//b", "a/./b", "a\\b", "",
                          "a\nb", "docs/../../x", "trailing/"}) {
    EXPECT_FALSE(ValidateArtifactName(bad).ok()) << bad;
  }
  for (const char* good : {"plan", "docs/plan.md", "launch/announcement.md", "a-b_c.1/x"}) {
    EXPECT_TRUE(ValidateArtifactName(good).ok()) << good;
  }
  EXPECT_NE(ValidateArtifactName("../../etc/passwd").message().find("'..'"), std::string::npos);
}

TEST(Ids, RunIdsAreSafeAndSortable) {
  EXPECT_FALSE(ValidateRunId("../x").ok());
  EXPECT_FALSE(ValidateRunId("a/b").ok());
  EXPECT_FALSE(ValidateRunId("..").ok());
  // git's ref-name rules: run ids name refs.
  for (const char* bad : {"...", ".hidden", "a..b", "ends.", "x.lock", "-n", ""}) {
    SCOPED_TRACE(bad);
    auto s = ValidateRunId(bad);
    EXPECT_FALSE(s.ok());
    if (*bad) EXPECT_NE(s.message().find(bad), std::string::npos) << s.message();
  }
  EXPECT_TRUE(ValidateRunId("v1.2_rc-3").ok());
}

TEST(Strings, Utf8PrefixNeverCutsACharacter) {
  std::string s = "caf\xC3\xA9 \xE2\x80\x99ok";  // "café ’ok"
  EXPECT_EQ(Utf8Prefix(s, 4), "caf");                 // é would be cut: left out
  EXPECT_EQ(Utf8Prefix(s, 5), "caf\xC3\xA9");
  EXPECT_EQ(Utf8Prefix(s, 7), "caf\xC3\xA9 ");        // ’ is three bytes
  EXPECT_EQ(Utf8Prefix(s, 100), s);
  EXPECT_TRUE(ValidateRunId("20261122-223512-3f9a").ok());
  std::string a = NewRunId(1700000000), b = NewRunId(1700000001);
  EXPECT_TRUE(ValidateRunId(a).ok());
  EXPECT_LT(a.substr(0, 15), b.substr(0, 15));
}

TEST(Ids, NodeIds) {
  EXPECT_TRUE(ValidateNodeId("plan_2").ok());
  EXPECT_TRUE(ValidateNodeId("review-loop").ok());
  EXPECT_FALSE(ValidateNodeId("2plan").ok());
  EXPECT_FALSE(ValidateNodeId("a.b").ok());
  EXPECT_FALSE(ValidateNodeId("").ok());
}

TEST(Hash, StableHexAndPartsAreDelimited) {
  EXPECT_EQ(Hash128Hex("abc"), Hash128Hex("abc"));
  EXPECT_NE(Hash128Hex("abc"), Hash128Hex("abd"));
  EXPECT_TRUE(IsHexDigest(Hash128Hex("")));
  // The stored form: stores written by earlier versions are read by these names.
  EXPECT_EQ(Hash128Hex(""), "99aa06d3014798d86001c324468d497f");
  EXPECT_EQ(Hash128Hex("abc"), "06b05ab6733a618578af5f94892f3950");
  Hasher h1, h2;
  h1.Add("ab").Add("c");
  h2.Add("a").Add("bc");
  EXPECT_NE(h1.HexDigest(), h2.HexDigest());
  EXPECT_FALSE(IsHexDigest("../../etc/passwd"));
  EXPECT_FALSE(IsHexDigest("ABCDEF0123456789ABCDEF0123456789"));
}

TEST(Strings, PercentDecodeTakesAnEscapedNulOnlyWhenAllowed) {
  std::string out;
  EXPECT_FALSE(PercentDecode("a%00b", &out));
  ASSERT_TRUE(PercentDecode("a%00b", &out, false, /*allow_nul=*/true));
  EXPECT_EQ(out, std::string("a\0b", 3));
  EXPECT_FALSE(PercentDecode("a%0", &out, false, true));
}

TEST(Strings, DidYouMean) {
  EXPECT_EQ(DidYouMean("promt", {"prompt", "needs", "model"}), "prompt");
  EXPECT_EQ(DidYouMean("xyzzy", {"prompt", "needs"}), "");
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(HumanDuration(0.25), "250ms");
  EXPECT_EQ(HumanDuration(125), "2m05s");
  EXPECT_EQ(FormatUsd(0.0012), "$0.0012");
  EXPECT_EQ(FormatUsd(1.5), "$1.50");
}

TEST(Clock, ManualClockJumpsToDeadlinesAndRecordsThem) {
  ManualClock c(100);
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock<std::mutex> l(mu);
  c.WaitUntil(cv, l, 103.5);
  c.WaitUntil(cv, l, 90);  // in the past: no sleep
  EXPECT_DOUBLE_EQ(c.Now(), 103.5);
  ASSERT_EQ(c.Sleeps().size(), 1u);
  EXPECT_DOUBLE_EQ(c.Sleeps()[0], 3.5);
}

}  // namespace
}  // namespace sw

namespace sw {
namespace {

// A tool's processes die with us: SIGKILL the process running shell.run's RunProcess and
// neither the program nor what it started in the background writes anything afterwards.
TEST(Subprocess, WhatWeStartedDiesWhenWeAreKilled) {
  char tmpl[] = "/tmp/sw_guard_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  pid_t runner = fork();
  ASSERT_GE(runner, 0);
  if (runner == 0) {
    SpawnOptions so;
    so.argv = {"/bin/sh", "-c", "(sleep 1; echo late > background.txt) & sleep 1; echo late > foreground.txt; wait"};
    so.cwd = dir;
    so.env = {"PATH=/usr/bin:/bin"};
    RunOptions ro;
    ro.timeout = 30;
    auto r = RunProcess(so, ro);
    _exit(r.ok() ? 0 : 1);
  }
  usleep(300 * 1000);
  kill(runner, SIGKILL);
  waitpid(runner, nullptr, 0);
  sleep(2);
  EXPECT_FALSE(std::filesystem::exists(dir + "/foreground.txt")) << "the program outlived us";
  EXPECT_FALSE(std::filesystem::exists(dir + "/background.txt")) << "its background job outlived us";
  std::filesystem::remove_all(dir);
}

// A tool call's background job that lets go of the pipes is killed when the call ends.
TEST(Subprocess, WhatACallLeftBehindDiesWithIt) {
  char tmpl[] = "/tmp/sw_guard_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  SpawnOptions so;
  so.argv = {"/bin/sh", "-c", "(sleep 1; echo late > left.txt) >/dev/null 2>&1 & echo started"};
  so.cwd = dir;
  so.env = {"PATH=/usr/bin:/bin"};
  RunOptions ro;
  ro.timeout = 30;
  auto r = RunProcess(so, ro);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_LT(r->seconds, 0.9) << "the call does not wait for what it left behind";
  sleep(2);
  EXPECT_FALSE(std::filesystem::exists(dir + "/left.txt"));
  std::filesystem::remove_all(dir);
}

TEST(Subprocess, ExitCodesSignalsAndTimeoutsAreAsBefore) {
  SpawnOptions so;
  so.env = {"PATH=/usr/bin:/bin"};
  RunOptions ro;
  ro.timeout = 10;
  so.argv = {"/bin/sh", "-c", "echo out; echo err >&2; exit 7"};
  auto r = RunProcess(so, ro);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  so.argv = {"/bin/sh", "-c", "kill -TERM $$"};
  r = RunProcess(so, ro);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->signal, SIGTERM);
  so.argv = {"/bin/sh", "-c", "sleep 5 & sleep 5"};
  ro.timeout = 0.3;
  r = RunProcess(so, ro);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_LT(r->seconds, 3);
  so.argv = {"no-such-program-here"};
  EXPECT_FALSE(RunProcess(so, ro).ok());
}

}  // namespace
}  // namespace sw

namespace sw {
namespace {

/// The start time (field 22 of /proc/PID/stat) of a live process.
unsigned long long StartOf(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(f, line);
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 22; ++i) rest >> field;
  return std::stoull(field);
}

std::string BootIdNow() {
  std::ifstream f("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(f, id);
  return id;
}

TEST(Subprocess, KillRecordedGroupsKillsOnlyTheRecordedGroup) {
  char tmpl[] = "/tmp/sw_ledger_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  // A group of its own, as a guard leads one: `sleep` in a new process group.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::setpgid(0, 0);
    ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(child, child);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  unsigned long long start = StartOf(child);
  // A record whose leader started at another time names a reused id: nothing is killed.
  std::ofstream(dir + "/" + std::to_string(child)) << BootIdNow() << " " << start + 1 << "\n";
  auto none = KillRecordedGroups(dir);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_EQ(*none, 0);
  EXPECT_EQ(::kill(child, 0), 0) << "a process the record does not name was killed";
  EXPECT_FALSE(std::filesystem::exists(dir + "/" + std::to_string(child))) << "the stale record is dropped";
  // Another boot's record is dropped too.
  std::ofstream(dir + "/" + std::to_string(child)) << "another-boot " << start << "\n";
  EXPECT_EQ(*KillRecordedGroups(dir), 0);
  EXPECT_EQ(::kill(child, 0), 0);
  // The real record: the group dies, and the call waits until it has.
  std::ofstream(dir + "/" + std::to_string(child)) << BootIdNow() << " " << start << "\n";
  auto one = KillRecordedGroups(dir);
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_EQ(*one, 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sw

namespace sw {
namespace {

TEST(Fs, SamePathResolvesLinksAndIgnoresATrailingSlash) {
  char tmpl[] = "/tmp/sw_samepath_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::filesystem::create_directories(dir + "/real/sub");
  std::filesystem::create_directory_symlink(dir + "/real", dir + "/link");
  EXPECT_TRUE(SamePath(dir + "/real/sub", dir + "/link/sub"));
  EXPECT_TRUE(SamePath(dir + "/real/sub/", dir + "/real/./sub"));
  EXPECT_TRUE(SamePath(dir + "/gone/x", dir + "/gone/y/../x")) << "a path that does not exist is compared as written";
  EXPECT_FALSE(SamePath(dir + "/real", dir + "/real/sub"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sw
