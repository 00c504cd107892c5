// End-to-end: the commands that read the store never create one. Each runs in an empty
// folder (the default store, ./.specwright) and must leave it empty, say where it looked, and
// exit 0 for a listing with nothing to list, 2 for a run it cannot find. Also: `runs` says
// what a filter matched against, and refuses a status that is not one.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace {

namespace fs = std::filesystem;

/// RunIn runs the binary with dir as its working folder, stdin from in_file ("" : /dev/null).
e2e::Result RunIn(const std::string& dir, const std::vector<std::string>& args, const std::string& out_dir,
                  const std::string& in_file = "") {
  static int n = 0;
  std::string out = out_dir + "/ro_out" + std::to_string(n) + ".txt", err = out_dir + "/ro_err" + std::to_string(n++) + ".txt";
  std::vector<std::string> all = {SW_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string in = in_file.empty() ? "/dev/null" : in_file;
  pid_t pid = fork();
  if (pid == 0) {
    int i = ::open(in.c_str(), O_RDONLY), o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644),
        e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(i, 0);
    dup2(o, 1);
    dup2(e, 2);
    if (::chdir(dir.c_str()) != 0) _exit(126);
    execv(SW_BINARY, argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return e2e::Result{WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), e2e::Slurp(out), e2e::Slurp(err)};
}

class ReadOnlyE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("SPECWRIGHT_STORE");  // the default store: ./.specwright
    char tmpl[] = "/tmp/sw_readonly_XXXXXX";
    dir_ = mkdtemp(tmpl);
    empty_ = dir_ + "/empty";
    fs::create_directories(empty_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_, empty_;
};

TEST_F(ReadOnlyE2E, ReadingCommandsNeverCreateAStore) {
  const std::string looked = empty_ + "/.specwright";
  struct Case {
    std::vector<std::string> args;
    int code;
  };
  const std::vector<Case> cases = {
      {{"runs"}, 0},
      {{"runs", "--json"}, 0},
      {{"runs", "--status", "failed", "--search", "x"}, 0},
      {{"sessions"}, 0},
      {{"sessions", "develop-1"}, 2},
      {{"show", "r1"}, 2},
      {{"show", "latest"}, 2},
      {{"trace", "r1"}, 2},
      {{"debug"}, 2},
      {{"cost", "r1"}, 2},
      {{"cost", "--since", "7d"}, 0},
      {{"artifacts", "r1"}, 2},
      {{"lineage", "plan"}, 2},
      {{"diff", "r1", "r2"}, 2},
      {{"export", "r1"}, 2},
      {{"export", "r1", "--format", "markdown"}, 2},
      {{"files", "r1"}, 2},
      {{"cancel", "r1"}, 2},
      {{"approve", "r1", "gate"}, 2},
      {{"gc"}, 0},
      {{"gc", "--dry-run"}, 0},
      {{"replay", "r1"}, 2},
      {{"resume", "r1"}, 2},
  };
  for (const auto& c : cases) {
    std::string what;
    for (const auto& a : c.args) what += a + " ";
    auto r = RunIn(empty_, c.args, dir_);
    EXPECT_EQ(r.code, c.code) << what << "\n" << r.out << r.err;
    // It says where it looked, as an absolute path.
    EXPECT_NE((r.out + r.err).find("no store at " + looked), std::string::npos) << what << "\n" << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("--store"), std::string::npos) << what << "\n" << r.out << r.err;
    EXPECT_TRUE(fs::is_empty(empty_)) << what << " created " << fs::directory_iterator(empty_)->path();
    if (!fs::is_empty(empty_)) fs::remove_all(looked);
  }
  auto listed = RunIn(empty_, {"runs", "--json"}, dir_);
  EXPECT_EQ(listed.out, "[]\n");
  auto runs = RunIn(empty_, {"runs"}, dir_);
  EXPECT_NE(runs.out.find("no runs yet"), std::string::npos) << runs.out;
  auto show = RunIn(empty_, {"show", "r1"}, dir_);
  EXPECT_NE(show.err.find("no run \"r1\""), std::string::npos) << show.err;
}

// A store that is there but does not open (not a database) is an error every reading command
// reports, with the store's path, exit 1 and no crash; the file is left as it was.
TEST_F(ReadOnlyE2E, ACorruptStoreIsAClearErrorNotACrash) {
  const std::string looked = empty_ + "/.specwright";
  fs::create_directories(looked);
  std::ofstream(looked + "/specwright.db") << "garbage\n";
  const std::vector<std::vector<std::string>> cases = {
      {"runs"}, {"runs", "--json"}, {"runs", "--status", "failed"}, {"sessions"}, {"sessions", "--json"},
      {"sessions", "develop-1"}, {"show", "r1"}, {"show", "latest"}, {"trace", "r1"}, {"debug"}, {"cost", "r1"},
      {"cost", "--since", "7d"}, {"artifacts", "r1"}, {"lineage", "plan"}, {"diff", "r1", "r2"}, {"export", "r1"},
      {"export", "r1", "--format", "markdown"}, {"files", "r1"}, {"cancel", "r1"}, {"approve", "r1", "gate"},
      {"gc"}, {"gc", "--dry-run"}, {"replay", "r1"}, {"resume", "r1"},
  };
  for (const auto& args : cases) {
    std::string what;
    for (const auto& a : args) what += a + " ";
    auto r = RunIn(empty_, args, dir_);
    EXPECT_EQ(r.code, 1) << what << "\n" << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("opening the store " + looked), std::string::npos) << what << "\n" << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("not a database"), std::string::npos) << what << "\n" << r.out << r.err;
    if (std::find(args.begin(), args.end(), "--json") != args.end()) {
      auto j = nlohmann::json::parse(r.out, nullptr, false);
      EXPECT_TRUE(j.is_object() && j.contains("error")) << what << "\n" << r.out;
    }
    EXPECT_EQ(e2e::Slurp(looked + "/specwright.db"), "garbage\n") << what;
  }
}

// develop, modify and review refuse what they cannot do before they make a store: a refused
// command leaves the folder as it was.
TEST_F(ReadOnlyE2E, RefusedProcessCommandsCreateNothing) {
  std::ofstream(dir_ + "/BRIEF.md") << "# tipsplit - split a bill\n\nSplit a bill.\n";
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"modify", "--abandon"}, "has no develop to abandon a change of (no .specwright/process.json)"},
      {{"modify", "add a tip"}, "has no develop to modify (no .specwright/process.json)"},
      {{"review", "requirements", "--text", "x"}, "has no develop to review (no .specwright/process.json)"},
      {{"review", "requirements", "--json"}, "has no develop to review"},
      {{"develop", dir_ + "/BRIEF.md", "--until", "architecure"}, "is not a phase (did you mean \"architecture\"?)"},
      {{"develop", dir_ + "/nosuch.md"}, "the brief"},
  };
  for (const auto& c : cases) {
    std::string what;
    for (const auto& a : c.args) what += a + " ";
    auto r = RunIn(empty_, c.args, dir_);
    EXPECT_EQ(r.code, 2) << what << "\n" << r.out << r.err;
    EXPECT_NE((r.out + r.err).find(c.says), std::string::npos) << what << "\n" << r.out << r.err;
    EXPECT_TRUE(fs::is_empty(empty_)) << what << " created " << fs::directory_iterator(empty_)->path();
    if (!fs::is_empty(empty_)) fs::remove_all(empty_ + "/.specwright");
  }
}

// The MCP server, read only, answers from no store and makes none.
TEST_F(ReadOnlyE2E, McpServerReadOnlyMakesNoStore) {
  std::ofstream(dir_ + "/mcp_in.jsonl")
      << R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})"
      << "\n"
      << R"({"jsonrpc":"2.0","method":"notifications/initialized"})" << "\n"
      << R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"runs_list","arguments":{}}})" << "\n";
  auto r = RunIn(empty_, {"mcp"}, dir_, dir_ + "/mcp_in.jsonl");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("no Specwright store"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_empty(empty_));
}

// A store that exists opens as before: a read does not change what it holds.
TEST_F(ReadOnlyE2E, RunsSaysWhatAFilterMatchedAgainst) {
  std::ofstream(dir_ + "/flow.yaml") << "name: one\ndefaults: {model: scripted/m}\nnodes:\n  a: {prompt: \"p\"}\n";
  std::ofstream(dir_ + "/script.yaml") << "nodes:\n  \"*\": [{text: ok}]\n";
  std::string store = dir_ + "/store";
  for (int i = 0; i < 3; ++i) {
    auto run = e2e::RunCli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--store", store}, dir_);
    ASSERT_EQ(run.code, 0) << run.err;
  }
  std::string abs = fs::absolute(store).lexically_normal().string();
  auto none = e2e::RunCli({"runs", "--search", "nomatch", "--store", store}, dir_);
  EXPECT_EQ(none.code, 0);
  EXPECT_NE(none.out.find("no runs match \"nomatch\" (3 runs in " + abs + ")"), std::string::npos) << none.out;
  EXPECT_EQ(none.out.find("no runs yet"), std::string::npos) << none.out;
  // One run is "1 run".
  std::string one = dir_ + "/one";
  ASSERT_EQ(e2e::RunCli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--store", one}, dir_).code, 0);
  auto single = e2e::RunCli({"runs", "--search", "nomatch", "--store", one}, dir_);
  EXPECT_NE(single.out.find("(1 run in "), std::string::npos) << single.out;
  auto failed = e2e::RunCli({"runs", "--status", "failed", "--store", store}, dir_);
  EXPECT_EQ(failed.code, 0);
  EXPECT_NE(failed.out.find("no runs match --status failed (3 runs in "), std::string::npos) << failed.out;
  // A filter looks past the limit: --limit counts what it keeps.
  auto two = e2e::RunCli({"runs", "--status", "succeeded", "--limit", "2", "--json", "--store", store}, dir_);
  EXPECT_EQ(two.code, 0);
  auto two_json = nlohmann::json::parse(two.out, nullptr, false);
  ASSERT_TRUE(two_json.is_array()) << two.out;
  EXPECT_EQ(two_json.size(), 2u) << two.out;

  auto bogus = e2e::RunCli({"runs", "--status", "bogus", "--store", store}, dir_);
  EXPECT_EQ(bogus.code, 2);
  EXPECT_NE(bogus.err.find("\"bogus\""), std::string::npos) << bogus.err;
  EXPECT_NE(bogus.err.find("running, waiting, succeeded, failed, cancelled, abandoned"), std::string::npos) << bogus.err;
  EXPECT_TRUE(bogus.out.empty()) << bogus.out;
  auto typo = e2e::RunCli({"runs", "--status", "faild", "--store", store}, dir_);
  EXPECT_EQ(typo.code, 2);
  EXPECT_NE(typo.err.find("did you mean \"failed\""), std::string::npos) << typo.err;
  for (const char* bad : {"x", "0", "-3"}) {
    auto lim = e2e::RunCli({"runs", "--limit", bad, "--store", store}, dir_);
    EXPECT_EQ(lim.code, 2) << bad;
    EXPECT_NE(lim.err.find("--limit needs a positive integer"), std::string::npos) << bad << ": " << lim.err;
    auto ses = e2e::RunCli({"sessions", "--limit", bad, "--store", store}, dir_);
    EXPECT_EQ(ses.code, 2) << bad;
  }
}

}  // namespace
