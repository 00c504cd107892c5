// End-to-end: detached runs (`submit`) carried out by `specwright worker` processes against a
// real PostgreSQL (tests/pg_test_db.h: a fresh database per test), with the scripted provider.
// A DAG of model and tool nodes over two workers, a worker killed with -9 mid-run, a budget
// across workers, cancel, a human gate approved from outside, and a workflow whose files are
// gone from disk by the time a worker runs it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "../pg_test_db.h"
#include "cli_runner.h"
#include "store/pg.h"
#include "store/store.h"

namespace {

namespace fs = std::filesystem;
using namespace e2e;
using json = nlohmann::json;

class DistE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_dist_e2e_XXXXXX";
    dir_ = mkdtemp(tmpl);
    db_ = std::make_unique<testpg::TempPgDatabase>();
    url_ = db_->url();
    SW_REQUIRE_PG(*db_);
  }
  void TearDown() override {
    for (auto& w : workers_)
      if (w.pid > 0) {
        kill(w.pid, SIGKILL);
        Wait(w);
      }
    workers_.clear();
    store_.reset();
    db_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void Write(const std::string& name, const std::string& text) {
    fs::create_directories(fs::path(dir_ + "/" + name).parent_path());
    std::ofstream(dir_ + "/" + name) << text;
  }
  sw::store::Store* Store() {
    if (!store_) {
      auto st = sw::store::OpenStore(url_);
      EXPECT_TRUE(st.ok()) << st.status().message();
      if (st.ok()) store_ = std::move(st).value();
    }
    return store_.get();
  }
  /// StartWorker runs `specwright worker` with short leases and polls, as the tests need.
  Proc StartWorker(std::vector<std::string> extra = {}, const std::vector<std::string>& env = {}) {
    std::vector<std::string> args = {"worker", "--store", url_, "--script", dir_ + "/script.yaml", "--lease", "2",
                                     "--poll", "0.3"};
    args.insert(args.end(), extra.begin(), extra.end());
    Proc p = Spawn(args, dir_, env);
    workers_.push_back(p);
    return p;
  }
  std::string Submit(const std::string& flow, const std::string& id, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"submit", flow, "--store", url_, "--run-id", id, "--script", dir_ + "/script.yaml"};
    args.insert(args.end(), extra.begin(), extra.end());
    Result r = RunCli(args, dir_);
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_EQ(r.out, id + "\n") << r.err;  // the run id, and nothing else, on stdout
    return id;
  }
  /// WaitStatus waits until run's status is one of want; returns the last status seen.
  std::string WaitStatus(const std::string& id, const std::set<std::string>& want, double seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int>(seconds * 1000));
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = Store()->GetRun(id);
      if (r.ok() && *r) {
        last = (*r)->status;
        if (want.count(last)) return last;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return last;
  }
  std::map<std::string, int> Succeeded(const std::string& id) {
    std::map<std::string, int> n;
    auto ev = Store()->ListEvents(id);
    EXPECT_TRUE(ev.ok());
    if (ev.ok())
      for (const auto& e : *ev)
        if (e.type == "node_succeeded") n[e.node]++;
    return n;
  }
  std::string Logs() {
    std::string all;
    for (const auto& w : workers_) all += Slurp(w.err_path);
    return all;
  }
  void StopWorkers() {
    for (auto& w : workers_)
      if (w.pid > 0) kill(w.pid, SIGTERM);
    for (auto& w : workers_)
      if (w.pid > 0) {
        int code = Wait(w);
        EXPECT_EQ(code, 0) << Slurp(w.err_path);
        w.pid = -1;
      }
  }
  /// Dag writes a flow of 14 model nodes and 6 tool nodes in layers.
  void Dag(const std::string& name, int latency_ms, const std::string& budget = "") {
    std::string flow = "name: dag\ndefaults: {model: scripted/m, max_tokens: 64}\nconcurrency: {global: 6}\n" + budget +
                       "nodes:\n";
    std::vector<std::string> prev;
    for (int layer = 0; layer < 5; ++layer) {
      std::vector<std::string> cur;
      for (int k = 0; k < 4; ++k) {
        std::string id = "n" + std::to_string(layer) + "_" + std::to_string(k);
        bool tool = (k == 3 && layer > 0) || (k == 2 && (layer == 2 || layer == 4));
        flow += "  " + id + ":\n";
        if (tool) {
          flow += "    kind: tool\n    tool: builtin://echo\n    args: {text: \"" + id + " after {{nodes." + prev[0] +
                  ".output}}\"}\n";
        } else {
          flow += "    prompt: \"" + id + (prev.empty() ? "" : " after {{nodes." + prev[0] + ".output}}") +
                  "\"\n    cache: false\n";
        }
        if (!prev.empty()) {
          flow += "    needs: [";
          for (size_t j = 0; j < prev.size(); ++j) flow += (j ? ", " : "") + prev[j];
          flow += "]\n";
        }
        cur.push_back(id);
      }
      prev = cur;
    }
    Write(name, flow);
    Write("script.yaml", "latency_ms: " + std::to_string(latency_ms) +
                             "\nprices: {scripted/m: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}}\n"
                             "nodes:\n  \"*\": [{text: done, usage: {input: 100, output: 20}}]\n");
  }
  std::string dir_, url_;
  std::unique_ptr<testpg::TempPgDatabase> db_;
  std::unique_ptr<sw::store::Store> store_;
  std::vector<Proc> workers_;
};

std::map<std::string, int> CallsPerNode(const std::string& log) {
  std::map<std::string, int> calls;
  std::istringstream lines(Slurp(log));
  std::string line;
  while (std::getline(lines, line)) calls[line.substr(0, line.find('\t'))]++;
  return calls;
}

TEST_F(DistE2E, TwoWorkersRunADagOnceAtTheSingleProcessCost) {
  Dag("flow.yaml", 30);
  // The same flow in one process, on SQLite: the cost to match.
  Result local = RunCli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--store", dir_ + "/local", "--json"},
                        dir_);
  ASSERT_EQ(local.code, 0) << local.out << local.err;
  double local_cost = json::parse(local.out)["cost_usd"].get<double>();
  ASSERT_GT(local_cost, 0);

  std::string log = dir_ + "/calls.log";
  Submit(dir_ + "/flow.yaml", "dag-1");
  // Queued until a worker comes, and every reader shows it so.
  Result runs = RunCli({"runs", "--store", url_, "--json"}, dir_);
  ASSERT_EQ(runs.code, 0) << runs.err;
  EXPECT_EQ(json::parse(runs.out)[0]["status"], "queued") << runs.out;
  Result show = RunCli({"show", "dag-1", "--store", url_}, dir_);
  EXPECT_EQ(show.code, 0) << show.err;
  EXPECT_NE(show.out.find("queued"), std::string::npos) << show.out;

  StartWorker({"--concurrency", "3"}, {"SW_SCRIPTED_CALL_LOG=" + log});
  StartWorker({"--concurrency", "3"}, {"SW_SCRIPTED_CALL_LOG=" + log});
  ASSERT_EQ(WaitStatus("dag-1", {"succeeded", "failed", "cancelled"}, 60), "succeeded") << Logs();
  auto run = Store()->GetRun("dag-1");
  ASSERT_TRUE(run.ok() && *run);
  EXPECT_EQ((*run)->nodes_succeeded, 20);
  EXPECT_NEAR((*run)->cost_usd, local_cost, 1e-12);
  EXPECT_EQ((*run)->owner, "");  // done: nobody orchestrates it
  auto once = Succeeded("dag-1");
  EXPECT_EQ(once.size(), 20u);
  for (const auto& [node, n] : once) EXPECT_EQ(n, 1) << node << " committed " << n << " times";
  // Each model call was made once, whichever worker made it.
  auto calls = CallsPerNode(log);
  EXPECT_EQ(calls.size(), 14u);
  for (const auto& [node, n] : calls) EXPECT_EQ(n, 1) << node;
  auto recorded = Store()->ListLlmCalls("dag-1");
  ASSERT_TRUE(recorded.ok());
  EXPECT_EQ(recorded->size(), 14u);
  StopWorkers();
  std::string logs = Logs();
  // 1 orchestration + 14 model calls + 6 tool calls, claimed and finished once each.
  size_t claimed = 0, finished = 0;
  for (size_t at = 0; (at = logs.find(": claimed task ", at)) != std::string::npos; ++at) ++claimed;
  for (size_t at = 0; (at = logs.find(": finished task ", at)) != std::string::npos; ++at) ++finished;
  EXPECT_EQ(claimed, 21u) << logs;
  EXPECT_EQ(finished, 21u) << logs;
  EXPECT_EQ(logs.find("a re-run after a lost lease"), std::string::npos) << logs;
  EXPECT_NE(logs.find("(0 re-runs)"), std::string::npos) << logs;
  auto ic = Store()->IntegrityCheck();
  ASSERT_TRUE(ic.ok());
  EXPECT_EQ(*ic, "ok");
}

TEST_F(DistE2E, AWorkerKilledMidRunLosesItsLeasesAndTheRunStillCompletes) {
  Dag("flow.yaml", 250);
  std::string log = dir_ + "/calls.log";
  std::vector<std::string> env = {"SW_SCRIPTED_CALL_LOG=" + log};
  Submit(dir_ + "/flow.yaml", "kill-1");
  Proc a = StartWorker({"--concurrency", "3"}, env);
  // The orchestrator is a, alone for now; b comes once a has started.
  ASSERT_EQ(WaitStatus("kill-1", {"running"}, 30), "running") << Logs();
  Proc b = StartWorker({"--concurrency", "3"}, env);
  std::set<std::string> before;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (before.size() < 6) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no progress\n" << Logs();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    before.clear();
    for (const auto& [node, n] : Succeeded("kill-1")) before.insert(node);
  }
  ASSERT_EQ(kill(a.pid, SIGKILL), 0);
  EXPECT_EQ(Wait(a), 128 + SIGKILL);
  workers_[0].pid = -1;
  ASSERT_LT(before.size(), 20u) << "the run ended before the kill";
  // b takes the orchestration over once a's lease lapses (2 s), resumes, adopts what a left.
  ASSERT_EQ(WaitStatus("kill-1", {"succeeded", "failed", "cancelled"}, 90), "succeeded") << Logs();
  auto once = Succeeded("kill-1");
  EXPECT_EQ(once.size(), 20u);
  for (const auto& [node, n] : once) EXPECT_EQ(n, 1) << node << " committed " << n << " times";
  auto calls = CallsPerNode(log);
  EXPECT_EQ(calls.size(), 14u);
  for (const auto& node : before)
    if (calls.count(node)) {
      EXPECT_EQ(calls[node], 1) << node << " finished before the kill and ran again";
    }
  int repeats = 0;
  for (const auto& [node, n] : calls) repeats += n - 1;
  // Only calls in flight at the kill may repeat: at most the concurrency of a (3) plus its
  // orchestration's calls in flight on b (6).
  EXPECT_LE(repeats, 9);
  auto rows = Store()->ListLlmCalls("kill-1");
  ASSERT_TRUE(rows.ok());
  std::map<std::string, int> ok_rows;
  for (const auto& c : *rows) ok_rows[c.node] += c.status == "ok";
  for (const auto& [node, n] : ok_rows) EXPECT_EQ(n, 1) << node << " recorded paid " << n << " times";
  std::string logs = Slurp(b.err_path);
  EXPECT_NE(logs.find("claimed task"), std::string::npos);
  EXPECT_NE(logs.find("resuming run kill-1"), std::string::npos) << logs;
  StopWorkers();
  auto ic = Store()->IntegrityCheck();
  ASSERT_TRUE(ic.ok());
  EXPECT_EQ(*ic, "ok");
  auto conn = sw::store::pg::Conn::Open(url_);
  ASSERT_TRUE(conn.ok());
  auto reclaimed = (*conn)->Exec("SELECT count(*) FROM tasks WHERE claims > 1");
  ASSERT_TRUE(reclaimed.ok());
  std::printf("[ info ] kill -9 of the orchestrating worker: %d model calls repeated, %lld tasks re-claimed\n", repeats,
              static_cast<long long>(reclaimed->Int(0, 0)));
  EXPECT_GE(reclaimed->Int(0, 0), 1);  // the orchestration at least
}

TEST_F(DistE2E, ABudgetStopsTheRunAcrossWorkers) {
  // Each call costs 100e-6 + 20*2e-6 = 140e-6 at most 64 output tokens: worst case 228e-6.
  Dag("flow.yaml", 20, "budget: {max_usd: 0.0012, policy: stop}\n");
  Result local = RunCli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--store", dir_ + "/local", "--json"},
                        dir_);
  double local_cost = json::parse(local.out)["cost_usd"].get<double>();
  Submit(dir_ + "/flow.yaml", "budget-1");
  StartWorker({"--concurrency", "4"});
  StartWorker({"--concurrency", "4"});
  std::string status = WaitStatus("budget-1", {"succeeded", "failed", "cancelled"}, 60);
  EXPECT_EQ(status, "failed") << Logs();
  auto run = Store()->GetRun("budget-1");
  ASSERT_TRUE(run.ok() && *run);
  EXPECT_LE((*run)->cost_usd, 0.0012 + 1e-12);
  EXPECT_GT((*run)->cost_usd, 0);
  EXPECT_NE((*run)->error.find("budget"), std::string::npos) << (*run)->error;
  double paid = 0;
  auto paid_calls = Store()->ListLlmCalls("budget-1");
  ASSERT_TRUE(paid_calls.ok());
  for (const auto& c : *paid_calls) paid += c.cost_usd.value_or(0);
  EXPECT_LE(paid, 0.0012 + 1e-12);
  EXPECT_NEAR(paid, local_cost, 1e-12);  // as far as one process gets
}

TEST_F(DistE2E, SigtermFinishesTheCallsInHandAndGivesTheRunBack) {
  Dag("flow.yaml", 300);
  std::string log = dir_ + "/calls.log";
  std::vector<std::string> env = {"SW_SCRIPTED_CALL_LOG=" + log};
  Submit(dir_ + "/flow.yaml", "term-1");
  Proc a = StartWorker({"--concurrency", "3"}, env);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Succeeded("term-1").size() < 3) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << Logs();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(kill(a.pid, SIGTERM), 0);
  EXPECT_EQ(Wait(a), 0) << Slurp(a.err_path);  // graceful: exit 0
  workers_[0].pid = -1;
  std::string alog = Slurp(a.err_path);
  EXPECT_NE(alog.find("gave back task"), std::string::npos) << alog;  // the orchestration
  // Another worker carries the run on, straight away (no lease to wait out).
  StartWorker({"--concurrency", "3"}, env);
  ASSERT_EQ(WaitStatus("term-1", {"succeeded", "failed"}, 60), "succeeded") << Logs();
  for (const auto& [node, n] : Succeeded("term-1")) EXPECT_EQ(n, 1) << node;
  for (const auto& [node, n] : CallsPerNode(log)) EXPECT_EQ(n, 1) << node << ": a call in hand was finished, not repeated";
  auto conn = sw::store::pg::Conn::Open(url_);
  ASSERT_TRUE(conn.ok());
  auto reclaimed = (*conn)->Exec("SELECT count(*) FROM tasks WHERE claims > 1");
  ASSERT_TRUE(reclaimed.ok());
  EXPECT_EQ(reclaimed->Int(0, 0), 0);  // a task given back is no re-run
}

TEST_F(DistE2E, CancelStopsADetachedRunAndItsCalls) {
  Write("flow.yaml",
        "name: slow\ndefaults: {model: scripted/m}\nnodes:\n  a: {prompt: a}\n  b: {prompt: b}\n  c: {needs: [a, b], prompt: c}\n");
  Write("script.yaml", "latency_ms: 20000\nnodes:\n  \"*\": [{text: late}]\n");
  Submit(dir_ + "/flow.yaml", "cancel-1");
  StartWorker({"--concurrency", "2"});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << Logs();
    auto tasks = RunCli({"show", "cancel-1", "--store", url_}, dir_);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto ev = Store()->ListEvents("cancel-1");
    int started = 0;
    if (ev.ok())
      for (const auto& e : *ev) started += e.type == "attempt_started";
    if (started >= 2) break;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the calls are claimed
  auto t0 = std::chrono::steady_clock::now();
  Result c = RunCli({"cancel", "cancel-1", "--store", url_}, dir_);
  ASSERT_EQ(c.code, 0) << c.out << c.err;
  EXPECT_EQ(WaitStatus("cancel-1", {"cancelled", "failed", "succeeded"}, 15), "cancelled") << Logs();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));  // not the 20 s of the calls
  EXPECT_TRUE(Succeeded("cancel-1").empty());
  // Every call of the run was cancelled: at once when not started, else by its worker (which
  // stops a provider's call; the scripted provider's simulated latency runs out regardless).
  auto conn = sw::store::pg::Conn::Open(url_);
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  auto left = (*conn)->Exec(
      "SELECT count(*) FROM tasks WHERE run_id = 'cancel-1' AND kind = 'llm' AND status <> 'cancelled' "
      "AND NOT cancel_requested");
  ASSERT_TRUE(left.ok()) << left.status().message();
  EXPECT_EQ(left->Int(0, 0), 0);
  auto deadline2 = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (Logs().find("cancel asked for task") == std::string::npos && std::chrono::steady_clock::now() < deadline2)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::string logs = Logs();
  EXPECT_NE(logs.find("cancel asked for task"), std::string::npos) << logs;
}

TEST_F(DistE2E, CancelOfAQueuedRunNeedsNoWorker) {
  Write("flow.yaml", "name: q\ndefaults: {model: scripted/m}\nnodes:\n  a: {prompt: a}\n");
  Write("script.yaml", "nodes:\n  \"*\": [{text: x}]\n");
  Submit(dir_ + "/flow.yaml", "queued-1");
  Result c = RunCli({"cancel", "queued-1", "--store", url_}, dir_);
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_NE(c.out.find("cancelled"), std::string::npos) << c.out;
  EXPECT_EQ(WaitStatus("queued-1", {"cancelled"}, 1), "cancelled");
  // A worker that comes later finds nothing to do.
  Proc w = StartWorker({"--idle-exit", "1"});
  EXPECT_EQ(Wait(w), 0);
  workers_.back().pid = -1;
  EXPECT_EQ(Slurp(w.err_path).find("claimed task"), std::string::npos) << Slurp(w.err_path);
  EXPECT_EQ(WaitStatus("queued-1", {"cancelled"}, 1), "cancelled");
}

TEST_F(DistE2E, AHumanGateWaitsAndApproveRequeuesTheRun) {
  Write("flow.yaml",
        "name: gated\ndefaults: {model: scripted/m}\nnodes:\n  draft: {prompt: draft}\n"
        "  gate: {kind: human, needs: [draft], message: \"ship {{nodes.draft.output}}?\"}\n"
        "  ship: {needs: [gate], prompt: \"ship it\"}\n");
  Write("script.yaml", "nodes:\n  \"*\": [{text: ok}]\n");
  Submit(dir_ + "/flow.yaml", "gate-1");
  StartWorker();
  ASSERT_EQ(WaitStatus("gate-1", {"waiting", "failed", "succeeded"}, 30), "waiting") << Logs();
  auto once = Succeeded("gate-1");
  EXPECT_EQ(once.count("draft"), 1u);
  EXPECT_EQ(once.count("ship"), 0u);
  Result a = RunCli({"approve", "gate-1", "gate", "--store", url_}, dir_);
  ASSERT_EQ(a.code, 0) << a.out << a.err;
  EXPECT_NE(a.out.find("queued for the workers"), std::string::npos) << a.out;
  ASSERT_EQ(WaitStatus("gate-1", {"succeeded", "failed"}, 30), "succeeded") << Logs();
  once = Succeeded("gate-1");
  EXPECT_EQ(once["draft"], 1);  // not re-run by the resume
  EXPECT_EQ(once["ship"], 1);
  // resume of a finished detached run has nothing to do; of a waiting one, it re-queues.
  Result r = RunCli({"resume", "gate-1", "--store", url_}, dir_);
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(DistE2E, AGateDecidedElsewhereIsPickedUpByTheWorkers) {
  // The web UI and the MCP server answer a gate through the store only (engine::Decide); the
  // workers notice and carry the run on. Here the gate is a sub-run's.
  Write("sub.yaml", "name: sub\nnodes:\n  gate: {kind: human, message: \"ok\"}\n");
  Write("flow.yaml",
        "name: outer\ndefaults: {model: scripted/m}\nnodes:\n  a: {prompt: a}\n"
        "  sub: {kind: workflow, needs: [a], workflow: sub.yaml}\n  b: {needs: [sub], prompt: b}\n");
  Write("script.yaml", "nodes:\n  \"*\": [{text: ok}]\n");
  Submit(dir_ + "/flow.yaml", "ui-1");
  StartWorker({"--no-listen"});  // polling only: it finds its work all the same
  ASSERT_EQ(WaitStatus("ui-1", {"waiting", "failed", "succeeded"}, 30), "waiting") << Logs();
  auto pending = Store()->ListApprovals("ui-1.sub");
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  sw::store::ApprovalRecord a = (*pending)[0];
  a.decision = "approved";
  a.by = "ui";
  a.ts = 1;
  sw::store::Batch b;
  b.approvals.push_back(a);
  ASSERT_TRUE(Store()->Commit(b).ok());
  ASSERT_EQ(WaitStatus("ui-1", {"succeeded", "failed"}, 30), "succeeded") << Logs();
  EXPECT_NE(Logs().find("re-queued run ui-1: a gate of it was decided"), std::string::npos) << Logs();
  EXPECT_EQ(Succeeded("ui-1")["b"], 1);
}

TEST_F(DistE2E, AWorkflowTravelsWithItsPromptFilesAndSubWorkflows) {
  Write("src/prompts/a.md", "Write about {{inputs.topic}}\n");
  Write("src/sub.yaml", "name: sub\ninputs: {topic: {type: string}}\ndefaults: {model: scripted/m}\nnodes:\n"
                        "  s: {prompt: {file: prompts/a.md}}\n");
  Write("src/flow.yaml",
        "name: travel\ninputs: {topic: {type: string, default: ships}}\ndefaults: {model: scripted/m}\nnodes:\n"
        "  a: {prompt: {file: prompts/a.md}}\n"
        "  sub: {kind: workflow, needs: [a], workflow: sub.yaml, with: {topic: \"{{nodes.a.output}}\"}}\n");
  Write("script.yaml", "nodes:\n  \"*\": [{text: ok}]\n");
  Submit(dir_ + "/src/flow.yaml", "travel-1");
  fs::remove_all(dir_ + "/src");  // the worker has no copy of the workflow's files
  StartWorker();
  ASSERT_EQ(WaitStatus("travel-1", {"succeeded", "failed"}, 30), "succeeded") << Logs();
  auto run = Store()->GetRun("travel-1");
  EXPECT_EQ((*run)->workflow_file, dir_ + "/src/flow.yaml");  // the path it was submitted from
  auto subs = Store()->ListSubRuns("travel-1");
  ASSERT_TRUE(subs.ok());
  ASSERT_EQ(subs->size(), 1u);
  EXPECT_EQ((*subs)[0].status, "succeeded");
}

TEST_F(DistE2E, AStdPatternTravelsWithTheRunAndTheWorkerUsesTheSubmittersCopy) {
  const std::string ex = std::string(SW_SOURCE_DIR) + "/examples/patterns/critic";
  Write("src/flow.yaml", Slurp(ex + "/flow.yaml"));
  Write("script.yaml", Slurp(ex + "/script.yaml"));
  Submit(dir_ + "/src/flow.yaml", "pattern-1");
  // The worker's own library has no std/critic: only the copy in the bundle can answer.
  fs::create_directories(dir_ + "/worker-lib/std");
  StartWorker({}, {"SPECWRIGHT_PATTERNS_DIR=" + dir_ + "/worker-lib"});
  ASSERT_EQ(WaitStatus("pattern-1", {"succeeded", "failed"}, 30), "succeeded") << Logs();
  auto subs = Store()->ListSubRuns("pattern-1");
  ASSERT_TRUE(subs.ok());
  ASSERT_EQ(subs->size(), 1u);
  EXPECT_EQ((*subs)[0].status, "succeeded");
  // Shown with the path it has on the submitting machine.
  EXPECT_EQ((*subs)[0].workflow_file, std::string(SW_SOURCE_DIR) + "/patterns/std/critic.yaml");
  auto calls = Store()->ListLlmCalls("pattern-1.note");
  ASSERT_TRUE(calls.ok());
  EXPECT_EQ(calls->size(), 4u);  // writer and critic, two rounds
}

TEST_F(DistE2E, ToolCallsRunOnWorkersThroughTheWorkspaceRemote) {
  // A bare repository both "machines" reach: the workspace travels through it, not a disk.
  std::string remote = dir_ + "/shared.git";
  ASSERT_EQ(std::system(("git init -q --bare " + remote).c_str()), 0);
  Write("flow.yaml",
        "name: ws\nworkspace: empty\nshell: {allow: [cat]}\nnodes:\n"
        "  write: {kind: tool, tool: builtin://fs.write, args: {path: notes/a.txt, content: \"hello from a worker\\n\"}}\n"
        "  more: {kind: tool, tool: builtin://fs.write, args: {path: b.txt, content: \"second\\n\"}}\n"
        "  read: {kind: tool, needs: [write, more], tool: builtin://shell.run, args: {command: \"cat notes/a.txt b.txt\"}}\n");
  Write("script.yaml", "nodes: {}\n");
  Submit(dir_ + "/flow.yaml", "ws-1", {"--workspace-remote", remote});
  StartWorker({"--concurrency", "2"});
  StartWorker({"--concurrency", "2"});
  ASSERT_EQ(WaitStatus("ws-1", {"succeeded", "failed"}, 60), "succeeded") << Logs();
  // Every tool call was a task a worker ran on its own checkout, its changes merged back.
  auto conn = sw::store::pg::Conn::Open(url_);
  ASSERT_TRUE(conn.ok());
  auto tasks = (*conn)->Exec("SELECT node, payload, result FROM tasks WHERE run_id = 'ws-1' AND kind = 'tool' ORDER BY id");
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->size(), 3);
  for (int i = 0; i < tasks->size(); ++i) {
    json payload = json::parse(tasks->Str(i, 1)), result = json::parse(tasks->Str(i, 2));
    EXPECT_EQ(payload["workspace"]["remote"], remote);
    EXPECT_EQ(payload["workspace"]["base"].get<std::string>().size(), 40u);
    EXPECT_TRUE(result["ok"].get<bool>()) << tasks->Str(i, 2);
    if (tasks->Str(i, 0) != "read") {
      EXPECT_EQ(result["workspace"]["commit"].get<std::string>().size(), 40u);
    }
  }
  std::string out;
  auto succeeded = Store()->ListEventsOfType("ws-1", "node_succeeded");
  ASSERT_TRUE(succeeded.ok());
  for (const auto& e : *succeeded)
    if (e.node == "read") {
      auto blob = Store()->GetBlob(json::parse(e.data).value("blob", ""));
      ASSERT_TRUE(blob.ok()) << blob.status().message();
      out = *blob;
    }
  EXPECT_NE(out.find("hello from a worker\nsecond"), std::string::npos) << out;
  // The orchestrator's workspace holds both files, committed by its checkpoints.
  json ws;
  auto events = Store()->ListEvents("ws-1");
  ASSERT_TRUE(events.ok()) << events.status().message();
  for (const auto& e : *events)
    if (e.type == "workspace") ws = json::parse(e.data);
  std::string wsdir = ws.value("dir", "");
  ASSERT_FALSE(wsdir.empty());
  EXPECT_EQ(Slurp(wsdir + "/notes/a.txt"), "hello from a worker\n");
  EXPECT_EQ(Slurp(wsdir + "/b.txt"), "second\n");
  // Its checkpoints went to the remote too, for an orchestrator elsewhere.
  FILE* f = popen(("git --git-dir " + remote + " for-each-ref --format='%(refname)' refs/specwright/runs/ws-1/checkpoint/").c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf, f);
  pclose(f);
  EXPECT_GT(n, 0u) << "no checkpoint ref on the remote";
}

TEST_F(DistE2E, AnOrchestratorWithoutTheWorkspaceRestoresItFromTheRemote) {
  std::string remote = dir_ + "/shared.git";
  ASSERT_EQ(std::system(("git init -q --bare " + remote).c_str()), 0);
  Write("flow.yaml",
        "name: ws\nworkspace: empty\nshell: {allow: [cat]}\nnodes:\n"
        "  write: {kind: tool, tool: builtin://fs.write, args: {path: a.txt, content: \"kept\\n\"}}\n"
        "  gate: {kind: human, needs: [write]}\n"
        "  read: {kind: tool, needs: [gate], tool: builtin://shell.run, args: {command: \"cat a.txt\"}}\n");
  Write("script.yaml", "nodes: {}\n");
  Submit(dir_ + "/flow.yaml", "restore-1", {"--workspace-remote", remote});
  StartWorker();
  ASSERT_EQ(WaitStatus("restore-1", {"waiting", "failed", "succeeded"}, 30), "waiting") << Logs();
  // The next orchestrator is "another machine": the workspace folder is not there.
  std::string wsdir;
  auto events = Store()->ListEvents("restore-1");
  ASSERT_TRUE(events.ok());
  for (const auto& e : *events)
    if (e.type == "workspace") wsdir = json::parse(e.data).value("dir", "");
  ASSERT_FALSE(wsdir.empty());
  fs::remove_all(wsdir);
  Result a = RunCli({"approve", "restore-1", "gate", "--store", url_}, dir_);
  ASSERT_EQ(a.code, 0) << a.err;
  ASSERT_EQ(WaitStatus("restore-1", {"succeeded", "failed"}, 30), "succeeded") << Logs();
  EXPECT_NE(Logs().find("restoring its workspace"), std::string::npos) << Logs();
  EXPECT_EQ(Slurp(wsdir + "/a.txt"), "kept\n");
}

// An orchestrator that cannot restore the run's workspace fails the run, saying why; it is not
// re-queued by its decided gate, and leaves no half-restored folder behind. A failure that
// looks transient (a remote that does not answer) is given back a few times, then fails too:
// never claimed and given back in a loop.
TEST_F(DistE2E, AWorkspaceThatCannotBeRestoredFailsTheRunAfterAFewTries) {
  std::string remote = dir_ + "/shared.git";
  ASSERT_EQ(std::system(("git init -q --bare " + remote).c_str()), 0);
  Write("flow.yaml",
        "name: ws\nworkspace: empty\nnodes:\n"
        "  write: {kind: tool, tool: builtin://fs.write, args: {path: a.txt, content: \"kept\\n\"}}\n"
        "  gate: {kind: human, needs: [write]}\n");
  Write("echo.yaml",
        "name: ws\nworkspace: empty\nnodes:\n"
        "  a: {kind: tool, tool: builtin://echo, args: {text: x}}\n"
        "  gate: {kind: human, needs: [a]}\n");
  Write("script.yaml", "nodes: {}\n");
  Submit(dir_ + "/flow.yaml", "gone-1", {"--workspace-remote", remote});
  Submit(dir_ + "/echo.yaml", "deaf-1", {"--workspace-remote", "http://127.0.0.1:9/ws.git"});
  StartWorker();
  std::map<std::string, std::string> wsdir;
  for (const std::string id : {"gone-1", "deaf-1"}) {
    ASSERT_EQ(WaitStatus(id, {"waiting", "failed", "succeeded"}, 30), "waiting") << Logs();
    auto events = Store()->ListEvents(id);
    ASSERT_TRUE(events.ok());
    for (const auto& e : *events)
      if (e.type == "workspace") wsdir[id] = json::parse(e.data).value("dir", "");
    ASSERT_FALSE(wsdir[id].empty());
    fs::remove_all(wsdir[id]);  // the next orchestrator is "another machine"
  }
  fs::remove_all(remote);
  for (const std::string id : {"gone-1", "deaf-1"}) {
    Result a = RunCli({"approve", id, "gate", "--store", url_}, dir_);
    ASSERT_EQ(a.code, 0) << a.err;
  }
  for (const std::string id : {"gone-1", "deaf-1"}) {
    EXPECT_EQ(WaitStatus(id, {"succeeded", "failed"}, 40), "failed") << id << "\n" << Logs();
    auto run = Store()->GetRun(id);
    ASSERT_TRUE(run.ok() && *run);
    EXPECT_NE((*run)->error.find("restoring the run's workspace"), std::string::npos) << (*run)->error;
    EXPECT_FALSE(fs::exists(wsdir[id])) << "a half-restored workspace of " << id << " was left";
  }
  EXPECT_EQ(Logs().find("re-queued run gone-1"), std::string::npos) << Logs();
  EXPECT_NE(Logs().find("run deaf-1: " ), std::string::npos) << Logs();
  EXPECT_NE(Logs().find("another try (3 of 3)"), std::string::npos) << Logs();
  EXPECT_EQ(Logs().find("another try (4 of"), std::string::npos) << Logs();
}

TEST_F(DistE2E, SubmitRefusesWhatAWorkerCouldNotRun) {
  Write("flow.yaml", "name: ws\nworkspace: {copy: .}\nnodes:\n  a: {kind: tool, tool: builtin://echo, args: {text: x}}\n");
  Result r = RunCli({"submit", dir_ + "/flow.yaml", "--store", url_}, dir_);
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("flow.yaml:2:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("a detached run cannot use `workspace: copy`"), std::string::npos) << r.err;
  Result dir = RunCli({"run", dir_ + "/flow.yaml", "--detach", "--store", dir_ + "/local"}, dir_);
  EXPECT_EQ(dir.code, 2);
  EXPECT_NE(dir.err.find("--detach needs a PostgreSQL store"), std::string::npos) << dir.err;
  Result w = RunCli({"worker", "--store", url_, "--lease", "0.1"}, dir_);
  EXPECT_EQ(w.code, 2);
  EXPECT_NE(w.err.find("--lease"), std::string::npos) << w.err;
  // A workspace remote with a token would be stored with the run: refused, the token unsaid.
  Write("ok.yaml", "name: ok\nworkspace: empty\nnodes:\n  a: {kind: tool, tool: builtin://echo, args: {text: x}}\n");
  Result cred = RunCli({"submit", dir_ + "/ok.yaml", "--store", url_, "--workspace-remote",
                        "https://bob:s3cr3t-token@git.example.org/ws.git"},
                       dir_);
  EXPECT_EQ(cred.code, 2) << cred.out << cred.err;
  EXPECT_NE(cred.err.find("password or token"), std::string::npos) << cred.err;
  EXPECT_EQ((cred.out + cred.err).find("s3cr3t-token"), std::string::npos) << cred.err;
  // From the environment or specwright.yaml, the error says where the remote was named.
  Result envr = RunCli({"submit", dir_ + "/ok.yaml", "--store", url_}, dir_,
                       {"SPECWRIGHT_WORKSPACE_REMOTE=https://bob:s3cr3t-token@git.example.org/ws.git"});
  EXPECT_EQ(envr.code, 2) << envr.out << envr.err;
  EXPECT_NE(envr.err.find("$SPECWRIGHT_WORKSPACE_REMOTE: "), std::string::npos) << envr.err;
  EXPECT_EQ((envr.out + envr.err).find("s3cr3t-token"), std::string::npos) << envr.err;
  Write("specwright.yaml", "workers: {workspace_remote: shared/ws.git}\n");
  Result cfg = RunCli({"submit", dir_ + "/ok.yaml", "--store", url_, "--config", dir_ + "/specwright.yaml"}, dir_);
  fs::remove(dir_ + "/specwright.yaml");
  EXPECT_EQ(cfg.code, 2) << cfg.out << cfg.err;
  EXPECT_NE(cfg.err.find("specwright.yaml:1:29: workers.workspace_remote: "), std::string::npos) << cfg.err;
  EXPECT_NE(cfg.err.find("relative path"), std::string::npos) << cfg.err;
}

}  // namespace
