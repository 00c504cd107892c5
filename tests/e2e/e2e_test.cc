// End-to-end: the real `specwright` binary as a subprocess, a real SQLite store in a temp
// dir, the scripted provider with simulated latency. Includes the crash test: SIGKILL in
// the middle of a run, resume, and proof that no completed node ran twice.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "store/store.h"
#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace {

namespace fs = std::filesystem;
using namespace e2e;

class E2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_e2e_XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = dir_ + "/store";
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ + "/" + name) << text; }
  std::string dir_, store_;
};

TEST_F(E2E, KillDashNineThenResumeNeverRerunsCompletedNodes) {
  // 8 layers x 3 nodes; each call takes 150 ms, so the run lasts about 1.2 s.
  std::string flow = "name: crash\ndefaults: {model: scripted/m}\nconcurrency: {global: 3}\nnodes:\n";
  for (int layer = 0; layer < 8; ++layer)
    for (int k = 0; k < 3; ++k) {
      flow += "  n" + std::to_string(layer) + "_" + std::to_string(k) + ":\n    prompt: \"layer " +
              std::to_string(layer) + "\"\n    cache: false\n";
      if (layer > 0) {
        flow += "    needs: [";
        for (int j = 0; j < 3; ++j) flow += (j ? ", n" : "n") + std::to_string(layer - 1) + "_" + std::to_string(j);
        flow += "]\n";
      }
    }
  Write("flow.yaml", flow);
  Write("script.yaml", "latency_ms: 150\nprices: {scripted/m: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}}\nnodes:\n  \"*\": [{text: done}]\n");
  std::string log = dir_ + "/calls.log";
  std::vector<std::string> env = {"SW_SCRIPTED_CALL_LOG=" + log};
  Proc p = Spawn({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--store", store_, "--run-id", "crash-1"},
                 dir_, env);
  // Wait until some, but not all, nodes have finished, then kill -9.
  std::set<std::string> done_before_kill;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto st = sw::store::OpenSqlite(store_);
    if (!st.ok()) continue;
    auto ev = (*st)->ListEvents("crash-1");
    if (!ev.ok()) continue;
    int succeeded = 0;
    for (auto& e : *ev) succeeded += e.type == "node_succeeded";
    if (succeeded >= 7) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "run made no progress";
  }
  ASSERT_EQ(kill(p.pid, SIGKILL), 0);
  EXPECT_EQ(Wait(p), 128 + SIGKILL);
  {
    auto st = sw::store::OpenSqlite(store_);
    ASSERT_TRUE(st.ok());
    auto ev = (*st)->ListEvents("crash-1");
    ASSERT_TRUE(ev.ok());
    for (auto& e : *ev)
      if (e.type == "node_succeeded") done_before_kill.insert(e.node);
    auto run = (*st)->GetRun("crash-1");
    ASSERT_TRUE(run.ok() && run->has_value());
    EXPECT_EQ((*run)->status, "running");  // it died without finishing
    // `runs` shows it abandoned, with what its recorded calls spent (not its last flush).
    auto calls = (*st)->ListLlmCalls("crash-1");
    ASSERT_TRUE(calls.ok());
    int64_t in = 0;
    for (const auto& c : *calls) in += c.tokens_in;
    auto listed = RunCli({"runs", "--json", "--store", store_}, dir_);
    ASSERT_EQ(listed.code, 0) << listed.err;
    bool found = false;
    for (const auto& row : nlohmann::json::parse(listed.out))
      if (row["id"] == "crash-1") {
        found = true;
        EXPECT_EQ(row["status"], "abandoned");
        EXPECT_EQ(row["tokens_in"].get<int64_t>(), std::max<int64_t>(in, (*run)->tokens_in));
        EXPECT_EQ(row["calls"].get<int64_t>(), std::max<int64_t>(static_cast<int64_t>(calls->size()), (*run)->calls));
      }
    EXPECT_TRUE(found) << listed.out;
    auto show = RunCli({"show", "crash-1", "--store", store_}, dir_);
    EXPECT_NE(show.out.find("status    abandoned (its process, pid " + std::to_string(p.pid) + ", ended while it ran"),
              std::string::npos) << show.out;
  }
  ASSERT_GE(done_before_kill.size(), 7u);
  ASSERT_LT(done_before_kill.size(), 24u);

  Result r = RunCli({"resume", "crash-1", "--store", store_}, dir_, env);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("succeeded"), std::string::npos) << r.out;

  std::map<std::string, int> calls;
  std::istringstream lines(Slurp(log));
  std::string line;
  while (std::getline(lines, line)) calls[line.substr(0, line.find('\t'))]++;
  EXPECT_EQ(calls.size(), 24u);
  for (const auto& node : done_before_kill) EXPECT_EQ(calls[node], 1) << node << " ran twice";

  auto st = sw::store::OpenSqlite(store_);
  ASSERT_TRUE(st.ok());
  auto ic = (*st)->IntegrityCheck();
  ASSERT_TRUE(ic.ok());
  EXPECT_EQ(*ic, "ok");
  auto run = (*st)->GetRun("crash-1");
  ASSERT_TRUE(run.ok() && run->has_value());
  EXPECT_EQ((*run)->status, "succeeded");
  EXPECT_EQ((*run)->nodes_succeeded, 24);
  // Every paid call is recorded once; calls killed in flight were never recorded as paid.
  auto recorded = (*st)->ListLlmCalls("crash-1");
  ASSERT_TRUE(recorded.ok());
  int logged = 0;
  for (auto& [k, v] : calls) logged += v;
  EXPECT_LE(static_cast<int>(recorded->size()), logged);
  EXPECT_GE(static_cast<int>(recorded->size()), 24);
}

TEST_F(E2E, ValidateReportsEveryProblemWithPositionAndExitsTwo) {
  Write("bad.yaml", "name: bad\nnodes:\n  a:\n    promt: hi\n  b:\n    needs: [zzz]\n    prompt: x\n");
  Result r = RunCli({"validate", dir_ + "/bad.yaml"}, dir_);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("bad.yaml:4:5"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("prompt"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("zzz"), std::string::npos) << r.err;
  Result j = RunCli({"validate", "--json", dir_ + "/bad.yaml"}, dir_);
  EXPECT_EQ(j.code, 2);
  EXPECT_NE(j.out.find("\"line\": 4"), std::string::npos) << j.out;
}

TEST_F(E2E, ValidateAndRunRefuseToolsThatDoNotExist) {
  Write("tools.yaml",
        "name: tools\nnodes:\n  a:\n    kind: tool\n    tool: builtin://web_search\n"
        "  b:\n    kind: tool\n    tool: builtin://fs.reed\n    args: {path: x}\n  c:\n    kind: tool\n    tool: python://m.f\n");
  Result r = RunCli({"validate", dir_ + "/tools.yaml"}, dir_);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.err.find("tools.yaml:5:11: error: no builtin tool \"builtin://web_search\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tools.yaml:8:11: error: no builtin tool \"builtin://fs.reed\" (did you mean \"builtin://fs.read\"?)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("tools.yaml:12:11: error: unsupported tool scheme \"python://\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the schemes are builtin://, mcp://"), std::string::npos) << r.err;
  Write("one.yaml", "name: one\nnodes:\n  a:\n    kind: tool\n    tool: builtin://web_search\n");
  Result v = RunCli({"validate", dir_ + "/one.yaml"}, dir_);
  EXPECT_EQ(v.code, 2);
  Result run = RunCli({"run", dir_ + "/one.yaml", "--store", store_}, dir_);
  EXPECT_EQ(run.code, 2) << run.out << run.err;
  EXPECT_NE(run.err.find("no builtin tool \"builtin://web_search\""), std::string::npos) << run.err;
}

TEST_F(E2E, UsageErrorsExitTwoWithSuggestions) {
  Result r = RunCli({"rnu"}, dir_);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("did you mean \"run\""), std::string::npos) << r.err;
  r = RunCli({"runs", "--limt", "3", "--store", store_}, dir_);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--limit"), std::string::npos) << r.err;
  r = RunCli({"show", "nope", "--store", store_}, dir_);
  EXPECT_EQ(r.code, 2);
  r = RunCli({"show", "../../etc/passwd", "--store", store_}, dir_);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("invalid run id"), std::string::npos) << r.err;
}

TEST_F(E2E, RunShowRunsAndExitCodes) {
  Write("flow.yaml", "name: ok\ninputs: {n: {type: integer, default: 2}}\ndefaults: {model: scripted/m}\nnodes:\n  a: {prompt: \"n={{inputs.n}}\"}\n  b: {needs: [a], prompt: \"{{nodes.a.output}}\"}\n");
  Write("script.yaml", "nodes:\n  \"*\": [{text: fine}]\n");
  Result r = RunCli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--store", store_, "--input", "n=5"}, dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  Result bad = RunCli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--store", store_, "--input", "n=five"}, dir_);
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("five"), std::string::npos) << bad.err;
  Result unknown = RunCli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--store", store_, "--input", "m=1"}, dir_);
  EXPECT_EQ(unknown.code, 2);
  Result runs = RunCli({"runs", "--json", "--store", store_}, dir_);
  EXPECT_EQ(runs.code, 0);
  EXPECT_NE(runs.out.find("\"status\": \"succeeded\""), std::string::npos) << runs.out;
  Result show = RunCli({"show", "latest", "--store", store_}, dir_);
  EXPECT_EQ(show.code, 0);
  EXPECT_NE(show.out.find("succeeded"), std::string::npos);
  Write("fail.yaml", "name: f\ndefaults: {model: scripted/m}\nnodes:\n  a: {prompt: x}\n");
  Write("fail.script.yaml", "nodes:\n  a: [{error: {message: \"invalid api key\", retryable: false}}]\n");
  Result f = RunCli({"run", dir_ + "/fail.yaml", "--script", dir_ + "/fail.script.yaml", "--store", store_}, dir_);
  EXPECT_EQ(f.code, 1);
  EXPECT_NE(f.out.find("invalid api key"), std::string::npos) << f.out;
}

TEST_F(E2E, SigintCancelsCleanly) {
  Write("flow.yaml", "name: slow\ndefaults: {model: scripted/m}\nnodes:\n  a: {prompt: x}\n  b: {needs: [a], prompt: y}\n");
  Write("script.yaml", "latency_ms: 3000\nnodes:\n  \"*\": [{text: fine}]\n");
  Proc p = Spawn({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--store", store_, "--run-id", "c-1"}, dir_);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  kill(p.pid, SIGINT);
  EXPECT_EQ(Wait(p), 130);
  auto st = sw::store::OpenSqlite(store_);
  ASSERT_TRUE(st.ok());
  auto run = (*st)->GetRun("c-1");
  ASSERT_TRUE(run.ok() && run->has_value());
  EXPECT_EQ((*run)->status, "cancelled");
  EXPECT_EQ(*(*st)->IntegrityCheck(), "ok");
}

TEST_F(E2E, CancelCommandStopsARunningRun) {
  Write("flow.yaml", "name: slow\ndefaults: {model: scripted/m}\nnodes:\n  a: {prompt: x}\n  b: {needs: [a], prompt: y}\n");
  Write("script.yaml", "latency_ms: 3000\nnodes:\n  \"*\": [{text: fine}]\n");
  Proc p = Spawn({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--store", store_, "--run-id", "c-2"}, dir_);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Result c = RunCli({"cancel", "c-2", "--store", store_}, dir_);
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(Wait(p), 130);
  Result show = RunCli({"show", "c-2", "--store", store_}, dir_);
  EXPECT_NE(show.out.find("cancelled"), std::string::npos) << show.out;
}

TEST_F(E2E, HumanGateWaitsApproveResume) {
  Write("flow.yaml", "name: gate\ndefaults: {model: scripted/m}\nnodes:\n  a: {prompt: x}\n  g: {kind: human, needs: [a], message: \"ship?\"}\n  b: {needs: [g], prompt: y}\n");
  Write("script.yaml", "nodes:\n  \"*\": [{text: fine}]\n");
  Result r = RunCli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--store", store_, "--run-id", "g-1"}, dir_);
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("specwright approve g-1 g"), std::string::npos) << r.out;
  Result a = RunCli({"approve", "g-1", "gg", "--store", store_}, dir_);
  EXPECT_EQ(a.code, 2);
  EXPECT_NE(a.err.find("did you mean \"g\""), std::string::npos) << a.err;
  a = RunCli({"approve", "g-1", "g", "--store", store_}, dir_);
  EXPECT_EQ(a.code, 0) << a.err;
  Result res = RunCli({"resume", "g-1", "--store", store_}, dir_);
  EXPECT_EQ(res.code, 0) << res.out << res.err;
}

TEST_F(E2E, InitWritesAStarterThatRuns) {
  Result i = RunCli({"init", dir_ + "/proj"}, dir_);
  ASSERT_EQ(i.code, 0) << i.err;
  Result v = RunCli({"validate", dir_ + "/proj/flow.yaml"}, dir_);
  EXPECT_EQ(v.code, 0) << v.err;
  Result r = RunCli({"run", dir_ + "/proj/flow.yaml", "--script", dir_ + "/proj/flow.script.yaml", "--store", store_,
                     "--run-id", "starter-1"},
                    dir_);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  // The second review approves, as the script intends: a loop round is never answered from an
  // earlier round's cache entry although its prompt is the same.
  EXPECT_EQ((r.out + r.err).find("max_iterations"), std::string::npos) << r.out << r.err;
  auto st = sw::store::OpenSqlite(store_);
  ASSERT_TRUE(st.ok());
  auto reviews = (*st)->ListLlmCallsOf("starter-1", "review");
  ASSERT_TRUE(reviews.ok());
  EXPECT_EQ(reviews->size(), 2u);
  // A second run replays both rounds from the cache: nothing is paid twice.
  Result r2 = RunCli({"run", dir_ + "/proj/flow.yaml", "--script", dir_ + "/proj/flow.script.yaml", "--store", store_,
                      "--run-id", "starter-2"},
                     dir_);
  EXPECT_EQ(r2.code, 0) << r2.out << r2.err;
  EXPECT_EQ((r2.out + r2.err).find("max_iterations"), std::string::npos) << r2.out << r2.err;
  auto paid = (*st)->ListLlmCalls("starter-2");
  ASSERT_TRUE(paid.ok());
  EXPECT_EQ(paid->size(), 0u) << "every round came from the cache";
  Result again = RunCli({"init", dir_ + "/proj"}, dir_);
  EXPECT_EQ(again.code, 2);
}

}  // namespace

namespace {

// A model that answers in prose with the wrong type gets a repair turn; `trace --node` says so,
// with the schema error the model was shown.
TEST_F(E2E, TraceOfANodeShowsItsRepairTurns) {
  Write("wf.yaml", R"(name: rep
defaults: {model: scripted/m}
nodes:
  plan:
    prompt: "give JSON"
    output: json
    schema: {type: object, required: [n], properties: {n: {type: integer}}}
)");
  Write("s.yaml", "nodes:\n  plan:\n    - {text: \"Sure! ```json\\n{\\\"n\\\": \\\"x\\\"}\\n```\"}\n    - {text: \"{\\\"n\\\": 3}\"}\n");
  auto run = RunCli({"run", dir_ + "/wf.yaml", "--script", dir_ + "/s.yaml", "--store", store_}, dir_);
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  auto trace = RunCli({"trace", "latest", "--node", "plan", "--store", store_}, dir_);
  ASSERT_EQ(trace.code, 0) << trace.err;
  EXPECT_NE(trace.out.find("answers of plan:\n  attempt 1  repair turn: the JSON does not match the schema: $.n: "
                           "Value type not permitted by 'type' constraint."),
            std::string::npos)
      << trace.out;
}

}  // namespace
