// The agent example through the real binary: it reads the code, runs the real tests, sees
// them fail, fixes the code and sees them pass; `show` tells every step and `files` the diff.
// Then the same agent killed with SIGKILL mid-way and resumed: the workspace starts again
// from its last checkpoint and the finished turns replay from the cache, never paid twice.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "store/store.h"

namespace {

namespace fs = std::filesystem;
using namespace e2e;

class AgentE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_agent_e2e_XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = dir_ + "/store";
    fs::copy(std::string(SW_SOURCE_DIR) + "/examples/agent-fix", dir_ + "/example", fs::copy_options::recursive);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_, store_;
};

TEST_F(AgentE2E, TheExampleFixesTheCodeWithEveryStepVisible) {
  auto run = RunCli({"run", dir_ + "/example/flow.yaml", "--script", dir_ + "/example/script.yaml", "--store", store_}, dir_);
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  auto show = RunCli({"show", "latest", "--store", store_}, dir_);
  ASSERT_EQ(show.code, 0) << show.err;
  for (const char* want : {"steps of agent \"fix\", attempt 1", "-> fs_read {\"path\":\"calc.c\"}", "-> shell_run {\"command\":\"make test\"}",
                           "<- builtin://shell.run ok $ make test exit code 2", "FAIL mul(3, 4): got 7, want 12",
                           "<- builtin://shell.run ok $ make test exit code 0", "turn 6   answer  Fixed mul()"}) {
    EXPECT_NE(show.out.find(want), std::string::npos) << "missing " << want << " in\n" << show.out;
  }
  auto files = RunCli({"files", "latest", "fix", "--store", store_}, dir_);
  ASSERT_EQ(files.code, 0) << files.err;
  EXPECT_NE(files.out.find("== node fix attempt 1"), std::string::npos) << files.out;
  EXPECT_NE(files.out.find("-  return a + b;\n+  return a * b;"), std::string::npos) << files.out;
  auto none = RunCli({"files", "latest", "changelog", "--store", store_}, dir_);
  EXPECT_EQ(none.code, 2) << none.out;
  EXPECT_NE(none.err.find("changed no file (nodes that did: fix)"), std::string::npos) << none.err;
  auto json_files = RunCli({"files", "latest", "--json", "--store", store_}, dir_);
  ASSERT_EQ(json_files.code, 0);
  auto j = nlohmann::json::parse(json_files.out);
  ASSERT_EQ(j["checkpoints"].size(), 1u);
  EXPECT_EQ(j["checkpoints"][0]["files"], nlohmann::json::array({"calc.c"}));
  // The fix is real: the workspace's tests pass, and the example's own copy is untouched.
  std::string ws = j["workspace"];
  EXPECT_EQ(std::system(("make -s -C " + ws + " test > /dev/null").c_str()), 0);
  EXPECT_NE(std::system(("make -s -C " + dir_ + "/example/app test > /dev/null 2>&1").c_str()), 0);
}

TEST_F(AgentE2E, KilledMidAgentResumesFromTheCheckpointWithoutPayingTwice) {
  // Slow turns so the kill lands in the middle of the agent.
  std::string script = Slurp(dir_ + "/example/script.yaml");
  std::ofstream(dir_ + "/example/slow.yaml") << "latency_ms: 300\n" << script;
  std::string log = dir_ + "/calls.log";
  std::vector<std::string> env = {"SW_SCRIPTED_CALL_LOG=" + log};
  Proc p = Spawn({"run", dir_ + "/example/flow.yaml", "--script", dir_ + "/example/slow.yaml", "--store", store_}, dir_, env);
  std::string run_id;
  int turns_before = 0;
  for (int i = 0; i < 200 && turns_before < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto st = sw::store::OpenSqlite(store_);
    if (!st.ok()) continue;
    auto runs = (*st)->ListRuns(1);
    if (!runs.ok() || runs->empty()) continue;
    run_id = runs->front().id;
    auto events = (*st)->ListEvents(run_id);
    if (!events.ok()) continue;
    turns_before = 0;
    for (auto& e : *events) turns_before += e.type == "agent_turn";
  }
  ASSERT_GE(turns_before, 3) << "the agent never got going";
  ::kill(p.pid, SIGKILL);
  Wait(p);
  auto resumed = RunCli({"resume", run_id, "--store", store_}, dir_, env);
  ASSERT_EQ(resumed.code, 0) << resumed.out << resumed.err;
  // Every finished turn was paid once: the provider saw each (node, turn) at most twice —
  // and twice only for the turn that was in flight when the process died.
  std::map<std::string, int> seen;
  for (const auto& line : [&] {
         std::vector<std::string> lines;
         std::istringstream in(Slurp(log));
         for (std::string l; std::getline(in, l);) lines.push_back(l);
         return lines;
       }())
    ++seen[line];
  int repeated = 0;
  for (auto& [k, n] : seen) {
    EXPECT_LE(n, 2) << k;
    repeated += n > 1;
  }
  EXPECT_LE(repeated, 1) << "only the call in flight at the kill may repeat";
  auto st = sw::store::OpenSqlite(store_);
  ASSERT_TRUE(st.ok());
  auto calls = (*st)->ListLlmCalls(run_id);
  ASSERT_TRUE(calls.ok());
  int fix_calls = 0;
  for (auto& c : *calls) fix_calls += c.node == "fix";
  EXPECT_LE(fix_calls, 6 + 1) << "six turns, plus at most the one cut by the kill";
  auto events = (*st)->ListEvents(run_id);
  ASSERT_TRUE(events.ok());
  bool reset = false;
  for (auto& e : *events) reset |= e.type == "workspace_reset";
  EXPECT_TRUE(reset) << "the workspace went back to its last checkpoint";
  auto files = RunCli({"files", run_id, "fix", "--store", store_}, dir_);
  EXPECT_NE(files.out.find("+  return a * b;"), std::string::npos) << files.out << files.err;
  size_t first = files.out.find("== node fix");
  EXPECT_NE(first, std::string::npos);
  EXPECT_EQ(files.out.find("== node fix", first + 1), std::string::npos) << "one checkpoint: the finished attempt's";
}

}  // namespace

namespace {

TEST_F(AgentE2E, AReplayAfterAnAgentStartsFromTheFilesTheReusedAgentLeft) {
  auto run = RunCli({"run", dir_ + "/example/flow.yaml", "--script", dir_ + "/example/script.yaml", "--store", store_,
                     "--run-id", "fixed"},
                    dir_);
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  // Only the changelog runs again; the agent's result and its edit of calc.c are reused.
  auto rep = RunCli({"replay", "fixed", "--from", "changelog", "--store", store_, "--run-id", "again"}, dir_);
  ASSERT_EQ(rep.code, 0) << rep.out << rep.err;
  auto files = RunCli({"files", "again", "--json", "--store", store_}, dir_);
  ASSERT_EQ(files.code, 0) << files.err;
  std::string ws = nlohmann::json::parse(files.out)["workspace"];
  EXPECT_NE(Slurp(ws + "/calc.c").find("return a * b;"), std::string::npos) << "the fix is in the replay's workspace";
  EXPECT_EQ(std::system(("make -s -C " + ws + " test > /dev/null").c_str()), 0);
  auto trace = RunCli({"trace", "again", "--json", "--store", store_}, dir_);
  auto t = nlohmann::json::parse(trace.out);
  int fix_rows = 0;
  for (const auto& row : t["rows"])
    if (row["node"] == "fix") {
      ++fix_rows;
      EXPECT_TRUE(row["cached"].get<bool>()) << "reused, not re-run";
    }
  EXPECT_EQ(fix_rows, 1) << trace.out;
}

}  // namespace

namespace {

/// The first line of a file ("" when it is missing).
std::string FirstLine(const std::string& path) {
  std::ifstream f(path);
  std::string l;
  std::getline(f, l);
  return l;
}

bool Alive(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return false;
  size_t close = line.rfind(')');
  return close != std::string::npos && line.size() > close + 2 && line[close + 2] != 'Z';
}

/// TicksFlow writes a workflow whose one tool node runs `sh -c SCRIPT` in an empty workspace.
std::string TicksFlow(const std::string& dir, const std::string& script) {
  std::string flow = dir + "/ticks.yaml";
  std::ofstream(flow) << "name: ticks\nworkspace: empty\nshell: {allow: [sh], timeout: 60s}\nnodes:\n  tick:\n"
                         "    kind: tool\n    tool: builtin://shell.run\n    args: {argv: [sh, -c, "
                      << nlohmann::json(script).dump() << "]}\n";
  return flow;
}

// A tool whose child keeps writing into the workspace, and a run killed together with the
// guard that would have killed the child: the resume must kill what was left before it resets
// the workspace, so none of the dead run's writes lands in the resumed node's checkpoint.
TEST_F(AgentE2E, AResumeKillsWhatTheDeadRunLeftWritingBeforeTheReset) {
  // The child notes its pid and group, then appends a tick every 50 ms to a file named after
  // itself: 60 ticks (3 s) when nobody stops it.
  std::string flow = TicksFlow(dir_, "cut -d' ' -f5 /proc/$$/stat > group.$$; echo $$ >> pids; i=0; "
                                     "while [ $i -lt 60 ]; do echo $i >> ticks.$$; i=$((i+1)); sleep 0.05; done");
  Proc p = Spawn({"run", flow, "--store", store_, "--run-id", "ticking"}, dir_);
  std::string ws = store_ + "/workspaces/ticking";
  std::string first_pid;
  for (int i = 0; i < 400 && first_pid.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    first_pid = FirstLine(ws + "/pids");
  }
  ASSERT_FALSE(first_pid.empty()) << "the tool never started: " << Slurp(p.err_path);
  std::string group;
  for (int i = 0; i < 100 && group.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    group = FirstLine(ws + "/group." + first_pid);
  }
  ASSERT_FALSE(group.empty());
  pid_t child = std::stoi(first_pid), guard = std::stoi(group);
  ASSERT_NE(guard, child) << "the guard leads the group, not the program";
  // Guard first, then the engine: nothing is left to pass the engine's death on.
  ASSERT_EQ(::kill(guard, SIGKILL), 0);
  ASSERT_EQ(::kill(p.pid, SIGKILL), 0);
  Wait(p);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  ASSERT_TRUE(Alive(child)) << "the orphaned child should still be running (the case under test)";
  auto resumed = RunCli({"resume", "ticking", "--store", store_}, dir_);
  ASSERT_EQ(resumed.code, 0) << resumed.out << resumed.err;
  EXPECT_FALSE(Alive(child)) << "the resume killed the dead run's child";
  EXPECT_NE(resumed.err.find(" process(es) the interrupted run's tools left running"), std::string::npos)
      << resumed.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // The dead child's file went with the reset and never came back; the resumed node's own
  // child finished its 60 ticks.
  EXPECT_FALSE(fs::exists(ws + "/ticks." + first_pid)) << "a write of the dead run reached the resumed workspace";
  std::string second_pid;
  {
    std::ifstream f(ws + "/pids");
    std::getline(f, second_pid);
  }
  ASSERT_NE(second_pid, first_pid);
  std::ifstream ticks(ws + "/ticks." + second_pid);
  int n = 0;
  for (std::string l; std::getline(ticks, l);) ++n;
  EXPECT_EQ(n, 60);
  auto files = RunCli({"files", "ticking", "--json", "--store", store_}, dir_);
  ASSERT_EQ(files.code, 0) << files.err;
  EXPECT_EQ(files.out.find("ticks." + first_pid), std::string::npos) << files.out;
  // And the ledger is empty again: nothing is left recorded as running.
  auto ledger = ws + "/.git/specwright-processes";
  EXPECT_TRUE(!fs::exists(ledger) || fs::is_empty(ledger));
}

// The plain case: the engine alone is SIGKILLed; its guard kills the child at once.
TEST_F(AgentE2E, AToolsChildDiesWithTheEngine) {
  std::string flow = TicksFlow(dir_, "echo $$ > pid; while true; do echo . >> ticks; sleep 0.05; done");
  Proc p = Spawn({"run", flow, "--store", store_, "--run-id", "dies"}, dir_);
  std::string ws = store_ + "/workspaces/dies", pid;
  for (int i = 0; i < 400 && pid.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    pid = FirstLine(ws + "/pid");
  }
  ASSERT_FALSE(pid.empty()) << Slurp(p.err_path);
  ASSERT_EQ(::kill(p.pid, SIGKILL), 0);
  Wait(p);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    gone = !Alive(std::stoi(pid));
  }
  EXPECT_TRUE(gone) << "the child outlived the engine";
  auto size = fs::file_size(ws + "/ticks");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(fs::file_size(ws + "/ticks"), size) << "something still writes";
}

}  // namespace
