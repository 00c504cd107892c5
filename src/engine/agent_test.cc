// Agent nodes against a real workspace (a git repository in a temp dir), the real builtin
// tools, a real SQLite store and an in-test model that answers turn by turn.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "base/fs.h"
#include "engine/agent.h"
#include "engine/engine.h"
#include "store/store.h"
#include "tools/git_repo.h"

namespace sw::engine {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

/// TurnModel answers each call with handler(request) and keeps every request.
class TurnModel : public llm::Provider {
 public:
  using Handler = std::function<llm::CallResult(const llm::Request&)>;
  explicit TurnModel(Handler h) : h_(std::move(h)) {}
  std::string name() const override { return "fake"; }
  void Start(const llm::Request& r, llm::CancelFlag, llm::DeltaFn, llm::DoneFn done) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      calls_.push_back(r);
    }
    done(h_(r));
  }
  std::vector<llm::Request> Calls() {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }

 private:
  Handler h_;
  std::mutex mu_;
  std::vector<llm::Request> calls_;
};

llm::CallResult Say(const std::string& text) {
  llm::CallResult r;
  r.response = llm::Response{};
  r.response->text = text;
  r.response->usage = {100, 20, 0, 0, 0};
  return r;
}

llm::CallResult Use(std::vector<std::pair<std::string, json>> calls, const std::string& text = "") {
  llm::CallResult r = Say(text);
  int i = 0;
  for (auto& [name, args] : calls)
    r.response->tool_calls.push_back(llm::ToolCall{"c" + std::to_string(++i), name, args.dump(), ""});
  return r;
}

/// BarrierTool holds every call until `want` calls are in flight at once (or 3 s pass).
class BarrierTool : public tools::Tool {
 public:
  explicit BarrierTool(int want) : want_(want) {}
  std::string uri() const override { return "test://barrier"; }
  std::string description() const override { return "waits for its siblings"; }
  json schema() const override { return {{"type", "object"}, {"properties", {{"i", {{"type", "integer"}}}}}}; }
  Result<json> Call(const json& args, const tools::CallContext&) override {
    std::unique_lock<std::mutex> l(mu_);
    peak_ = std::max(peak_, ++in_flight_);
    cv_.notify_all();
    cv_.wait_for(l, std::chrono::seconds(3), [&] { return in_flight_ >= want_ || released_; });
    released_ = true;
    cv_.notify_all();
    --in_flight_;
    return json("result " + std::to_string(args.value("i", 0)));
  }
  int peak() {
    std::lock_guard<std::mutex> l(mu_);
    return peak_;
  }

 private:
  int want_;
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0, peak_ = 0;
  bool released_ = false;
};

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_agent_XXXXXX";
    dir_ = mkdtemp(tmpl);
    fs::create_directories(dir_ + "/app");
    std::ofstream(dir_ + "/app/a.txt") << "hello\n";
    std::ofstream(dir_ + "/app/b.txt") << "other\n";
    std::ofstream(dir_ + "/secret.txt") << "outside\n";
    tools::AddBuiltins(&tools_);
    auto st = store::OpenSqlite(dir_ + "/store");
    ASSERT_TRUE(st.ok());
    store_ = std::move(st).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<const workflow::Workflow> Load(const std::string& nodes, const std::string& extra = "") {
    std::string path = dir_ + "/flow" + std::to_string(counter_++) + ".yaml";
    std::ofstream(path) << "name: agent\nworkspace: {copy: app}\nshell: {allow: [cat, sleep, sh], timeout: 10s}\n" << extra
                        << "defaults: {model: fake/m}\nnodes:\n"
                        << nodes;
    auto r = workflow::Load(path);
    std::string errs;
    for (auto& d : r.errors) errs += d.ToString() + "\n";
    EXPECT_TRUE(r.errors.empty()) << errs;
    return r.workflow;
  }

  /// RunWith runs wf with model as its only provider; ResumeWith resumes run_id the same way.
  RunSummary RunWith(TurnModel* model, std::shared_ptr<const workflow::Workflow> wf, bool cache = true) {
    auto r = With(model, cache, [&](const Services& s, const RunOptions& o) { return engine::Run(wf, s, o); });
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : RunSummary{};
  }
  Result<RunSummary> ResumeWith(TurnModel* model, const std::string& run_id, std::shared_ptr<const workflow::Workflow> wf,
                                bool cache = true) {
    return With(model, cache, [&](const Services& s, const RunOptions& o) { return engine::Resume(run_id, wf, s, o); });
  }
  template <typename F>
  Result<RunSummary> With(TurnModel* model, bool cache, F f) {
    llm::Registry providers;
    providers.Add(std::shared_ptr<llm::Provider>(model, [](llm::Provider*) {}));
    Services s;
    s.providers = &providers;
    s.prices = &prices_;
    s.tools = &tools_;
    s.store = store_.get();
    RunOptions o;
    o.workspace_root = dir_ + "/workspaces";
    o.use_cache = cache;
    return f(s, o);
  }

  std::vector<store::Event> Events(const std::string& run, const std::string& type) {
    std::vector<store::Event> out;
    auto all = store_->ListEvents(run);
    EXPECT_TRUE(all.ok());
    for (auto& e : *all)
      if (e.type == type) out.push_back(e);
    return out;
  }

  std::string dir_;
  int counter_ = 0;
  llm::PriceTable prices_;
  tools::Registry tools_;
  std::unique_ptr<store::Store> store_;
};

// Models send several edits of one file in one turn (each expecting the one before it); run
// at once, the later edit would overwrite the earlier one. Calls on the same file run in the
// order given; calls on other files still run beside them.
TEST_F(AgentTest, EditsOfOneFileInOneTurnRunInTheOrderGiven) {
  TurnModel model([](const llm::Request& r) {
    if (r.turn > 1) return Say("done");
    std::vector<std::pair<std::string, json>> calls;
    std::string prev = "hello";
    for (int k = 1; k <= 8; ++k) {
      std::string next = "step" + std::to_string(k);
      calls.push_back({"fs_edit", {{"path", k % 2 ? "a.txt" : "./a.txt"}, {"old_text", prev}, {"new_text", next}}});
      calls.push_back({"fs_write", {{"path", "b" + std::to_string(k) + ".txt"}, {"content", next + "\n"}}});
      prev = next;
    }
    return Use(calls);
  });
  auto wf = Load(R"(  fix:
    kind: agent
    system: "You fix files."
    prompt: "Edit a.txt eight times."
    tools: [builtin://fs.edit, builtin://fs.write]
)");
  auto s = RunWith(&model, wf);
  ASSERT_EQ(s.status, "succeeded") << s.error;
  std::string ws = dir_ + "/workspaces/" + s.run_id;
  EXPECT_EQ(*ReadFile(ws + "/a.txt"), "step8\n");
  for (auto& e : Events(s.run_id, "tool_result")) EXPECT_TRUE(json::parse(e.data)["ok"].get<bool>()) << e.data;
  for (int k = 1; k <= 8; ++k) EXPECT_EQ(*ReadFile(ws + "/b" + std::to_string(k) + ".txt"), "step" + std::to_string(k) + "\n");
}

// A shell command in a turn sees every file written before it in that turn, and a write
// after it waits for it: a model writes, builds, and writes again in one answer.
TEST_F(AgentTest, AShellCommandRunsAfterTheWritesBeforeItInItsTurn) {
  TurnModel model([](const llm::Request& r) {
    if (r.turn > 1) return Say("done");
    return Use({{"fs_write", {{"path", "a.txt"}, {"content", "first\n"}}},
                {"fs_write", {{"path", "b.txt"}, {"content", "beside\n"}}},
                {"shell_run", {{"command", "sh -c 'sleep 0.2; cat a.txt b.txt'"}}},
                {"fs_write", {{"path", "a.txt"}, {"content", "second\n"}}}});
  });
  auto wf = Load(R"(  fix:
    kind: agent
    system: "You fix files."
    prompt: "Write, run, write."
    tools: [builtin://fs.write, builtin://shell.run]
)");
  auto s = RunWith(&model, wf);
  ASSERT_EQ(s.status, "succeeded") << s.error;
  EXPECT_EQ(*ReadFile(dir_ + "/workspaces/" + s.run_id + "/a.txt"), "second\n");
  auto calls = model.Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_NE(calls[1].messages[5].content.find("--- stdout\nfirst\nbeside\n"), std::string::npos)
      << calls[1].messages[5].content;
}

TEST_F(AgentTest, ReadsEditsRunsAToolAndFinishesWithEveryStepRecorded) {
  TurnModel model([](const llm::Request& r) {
    switch (r.turn) {
      case 1: return Use({{"fs_read", {{"path", "a.txt"}}}});
      case 2: return Use({{"fs_edit", {{"path", "a.txt"}, {"old_text", "hello"}, {"new_text", "world"}}}}, "fixing");
      case 3: return Use({{"shell_run", {{"command", "cat a.txt"}}}});
      default: return Say("done: a.txt now says world");
    }
  });
  auto wf = Load(R"(  fix:
    kind: agent
    system: "You fix files."
    prompt: "Make a.txt say world."
    tools: [builtin://fs.read, builtin://fs.edit, builtin://shell.run]
)");
  auto s = RunWith(&model, wf);
  ASSERT_EQ(s.status, "succeeded") << s.error;
  EXPECT_EQ(s.outputs["fix"], "done: a.txt now says world");
  auto calls = model.Calls();
  ASSERT_EQ(calls.size(), 4u);
  // Each turn sees the whole conversation: the tools, the calls and their results.
  EXPECT_EQ(calls[0].tools.size(), 3u);
  EXPECT_EQ(calls[0].tools[0].name, "fs_read");
  EXPECT_NE(calls[0].tools[0].parameters_json.find("\"path\""), std::string::npos);
  const auto& last = calls[3].messages;
  ASSERT_EQ(last.size(), 2u + 3 * 2);  // system, user, then (assistant, tool) per turn
  EXPECT_EQ(last[3].role, "tool");
  EXPECT_EQ(last[3].content, "hello\n");
  EXPECT_EQ(last[3].tool_call_id, "c1");
  EXPECT_NE(last[7].content.find("--- stdout\nworld\n"), std::string::npos) << last[7].content;
  // The events tell the story; results are stored whole.
  EXPECT_EQ(Events(s.run_id, "agent_turn").size(), 4u);
  auto results = Events(s.run_id, "tool_result");
  ASSERT_EQ(results.size(), 3u);
  for (auto& e : results) EXPECT_TRUE(json::parse(e.data)["ok"].get<bool>()) << e.data;
  auto blob = store_->GetBlob(json::parse(results[0].data)["blob"]);
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(*blob, "hello\n");
  // The node's changes are a commit on the run's branch.
  auto cps = Events(s.run_id, "checkpoint");
  ASSERT_EQ(cps.size(), 1u);
  json cp = json::parse(cps[0].data);
  EXPECT_EQ(cp["files"], json::array({"a.txt"}));
  EXPECT_NE(cp["message"].get<std::string>().find("run " + s.run_id + " node fix attempt 1"), std::string::npos);
  std::string ws = dir_ + "/workspaces/" + s.run_id;
  EXPECT_EQ(*ReadFile(ws + "/a.txt"), "world\n");
  EXPECT_EQ(*ReadFile(dir_ + "/app/a.txt"), "hello\n") << "the source folder is a copy, untouched";
  auto repo = tools::GitRepo::Open(ws);
  ASSERT_TRUE(repo.ok());
  auto diff = (*repo)->Diff(cp["parent"], cp["commit"]);
  ASSERT_TRUE(diff.ok());
  EXPECT_NE(diff->find("-hello\n+world"), std::string::npos) << *diff;
}

TEST_F(AgentTest, ToolCallsOfOneTurnRunInParallel) {
  auto barrier = std::make_shared<BarrierTool>(3);
  tools_.Add(barrier);
  TurnModel model([](const llm::Request& r) {
    if (r.turn == 1) return Use({{"barrier", {{"i", 1}}}, {"barrier", {{"i", 2}}}, {"barrier", {{"i", 3}}}});
    return Say("all three answered");
  });
  auto wf = Load("  par: {kind: agent, prompt: go, tools: [\"test://barrier\"]}\n");
  auto s = RunWith(&model, wf);
  ASSERT_EQ(s.status, "succeeded") << s.error;
  EXPECT_EQ(barrier->peak(), 3);
  auto calls = model.Calls();
  ASSERT_EQ(calls.size(), 2u);
  // Results go back in the order the model asked, whatever order they finished in.
  const auto& m = calls[1].messages;
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[2].content, "result 1");
  EXPECT_EQ(m[3].content, "result 2");
  EXPECT_EQ(m[4].content, "result 3");
}

TEST_F(AgentTest, LoopGuardStopsTheSameCallRepeated) {
  TurnModel model([](const llm::Request&) { return Use({{"fs_read", {{"path", "a.txt"}}}}); });
  auto wf = Load("  stuck: {kind: agent, prompt: go, tools: [builtin://fs.read]}\n");
  auto s = RunWith(&model, wf);
  EXPECT_EQ(s.status, "failed");
  EXPECT_NE(s.error.find("loop guard: builtin://fs.read was called 3 times with the same arguments {\"path\":\"a.txt\"} "
                         "and the same result each time"),
            std::string::npos)
      << s.error;
  EXPECT_EQ(model.Calls().size(), 3u) << "stopped at the third identical call, before running it";
}

TEST_F(AgentTest, TestFixTestIsNotALoop) {
  // The same command again after each change: its result differs, so the guard stays quiet.
  TurnModel model([](const llm::Request& r) {
    if (r.turn > 6) return Say("converged");
    if (r.turn % 2) return Use({{"shell_run", {{"command", "cat a.txt"}}}});
    return Use({{"fs_write", {{"path", "a.txt"}, {"content", "v" + std::to_string(r.turn) + "\n"}}}});
  });
  auto wf = Load("  iterate: {kind: agent, prompt: go, tools: [builtin://shell.run, builtin://fs.write]}\n");
  auto s = RunWith(&model, wf);
  ASSERT_EQ(s.status, "succeeded") << s.error;
  EXPECT_EQ(model.Calls().size(), 7u);
}

TEST_F(AgentTest, ABudgetStopsTheAgentAndItsRowShowsWhatItSpent) {
  prices_.Set("fake/m", llm::Price{1e-5, 1e-5});
  TurnModel model([](const llm::Request& r) { return Use({{"fs_list", {{"path", "."}, {"recursive", r.turn % 2 == 0}}},
                                                         {"fs_read", {{"path", "a.txt"}, {"offset", r.turn}}}}); });
  // Each turn reserves (the bytes sent, the two tools' schemas included, + 100 max_tokens) at
  // $1e-5: about $0.01-0.02 apiece.
  auto wf = Load("  spender: {kind: agent, prompt: go, tools: [builtin://fs.read, builtin://fs.list], max_tokens: 100, loop_guard: 50,\n"
                 "           budget: {max_usd: 0.05}}\n");
  auto s = RunWith(&model, wf);
  EXPECT_EQ(s.status, "failed");
  EXPECT_NE(s.error.find("budget"), std::string::npos) << s.error;
  EXPECT_GE(model.Calls().size(), 2u);
  EXPECT_LE(s.cost_usd, 0.05);
  auto rows = store_->ListNodeRuns(s.run_id);
  ASSERT_TRUE(rows.ok());
  bool found = false;
  for (const auto& r : *rows)
    if (r.node == "spender") {
      found = true;
      EXPECT_EQ(r.status, "failed");
      EXPECT_GT(r.calls, 0);
      EXPECT_GT(r.tokens_in, 0);
      EXPECT_GT(r.cost_usd, 0);
    }
  EXPECT_TRUE(found);
}

TEST_F(AgentTest, ASubWorkflowsAgentWorksInItsParentsWorkspace) {
  std::ofstream(dir_ + "/sub.yaml") << "name: sub\ndefaults: {model: fake/m}\nnodes:\n"
                                       "  inner: {kind: agent, prompt: go, tools: [builtin://fs.edit]}\n";
  TurnModel model([](const llm::Request& r) {
    if (r.turn == 1) return Use({{"fs_edit", {{"path", "a.txt"}, {"old_text", "hello"}, {"new_text", "from the sub-run"}}}});
    return Say("edited");
  });
  auto wf = Load("  outer: {kind: workflow, workflow: sub.yaml}\n");
  auto s = RunWith(&model, wf);
  ASSERT_EQ(s.status, "succeeded") << s.error;
  EXPECT_EQ(*ReadFile(dir_ + "/workspaces/" + s.run_id + "/a.txt"), "from the sub-run\n");
  EXPECT_FALSE(fs::exists(dir_ + "/workspaces/" + s.run_id + ".outer")) << "no workspace of its own";
}

TEST_F(AgentTest, AResumeStartsFromTheLastSucceededCheckpoint) {
  std::atomic<bool> second_try{false};
  TurnModel model([&](const llm::Request& r) {
    if (r.node_id == "prep") return r.turn == 1 ? Use({{"fs_write", {{"path", "prep.txt"}, {"content", "prepared\n"}}}}) : Say("ok");
    // fix: edits a.txt, then fails the first time (a non-retryable error); succeeds when resumed.
    if (r.turn == 1) return Use({{"fs_edit", {{"path", "a.txt"}, {"old_text", "hello"}, {"new_text", "hello hello"}}}});
    if (!second_try) {
      llm::CallResult e;
      e.error.status = Status(Code::kFailed, "HTTP 400: bad request");
      return e;
    }
    return Say("fixed");
  });
  auto wf = Load(R"(  prep: {kind: agent, prompt: prep, tools: [builtin://fs.write]}
  fix: {kind: agent, needs: [prep], prompt: fix, tools: [builtin://fs.edit], cache: false}
)");
  auto first = RunWith(&model, wf);
  ASSERT_EQ(first.status, "failed");
  std::string ws = dir_ + "/workspaces/" + first.run_id;
  EXPECT_EQ(*ReadFile(ws + "/a.txt"), "hello hello\n") << "the failed attempt's edit is there (and committed)";
  EXPECT_EQ(Events(first.run_id, "checkpoint").size(), 2u);
  second_try = true;
  auto resumed = ResumeWith(&model, first.run_id, wf);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  ASSERT_EQ(resumed->status, "succeeded") << resumed->error;
  // Back to prep's checkpoint before fix ran again: one "hello hello", not two.
  EXPECT_EQ(*ReadFile(ws + "/a.txt"), "hello hello\n");
  EXPECT_EQ(*ReadFile(ws + "/prep.txt"), "prepared\n");
}

// cache: false (or --no-cache) must not make a resume pay again for turns the run finished:
// they are journaled with the run and replayed from there.
TEST_F(AgentTest, AResumeNeverPaysTwiceForFinishedTurnsEvenWithTheCacheOff) {
  std::atomic<bool> resumed_run{false};
  TurnModel model([&](const llm::Request& r) {
    if (r.turn <= 3) return Use({{"fs_read", {{"path", "a.txt"}, {"offset", r.turn}}}});
    if (!resumed_run) {
      llm::CallResult e;
      e.error.status = Status(Code::kFailed, "HTTP 400: bad request");
      return e;
    }
    return Say("read it thrice");
  });
  auto wf = Load("  reader: {kind: agent, prompt: read, tools: [builtin://fs.read], cache: false, loop_guard: 10}\n");
  auto first = RunWith(&model, wf, /*cache=*/false);
  ASSERT_EQ(first.status, "failed");
  size_t paid_before = model.Calls().size();
  ASSERT_EQ(paid_before, 4u) << "three turns, then the failing fourth";
  resumed_run = true;
  auto resumed = ResumeWith(&model, first.run_id, wf, /*cache=*/false);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  ASSERT_EQ(resumed->status, "succeeded") << resumed->error;
  EXPECT_EQ(model.Calls().size(), paid_before + 1) << "only the turn that never finished is asked again";
  auto turns = Events(first.run_id, "agent_turn");
  int replayed = 0;
  for (const auto& e : turns) replayed += json::parse(e.data).value("cached", false);
  EXPECT_EQ(replayed, 3);
}

TEST_F(AgentTest, LoopGuardStopsACycleThatLearnsNothing) {
  TurnModel model([](const llm::Request& r) {
    return Use({{"fs_read", {{"path", r.turn % 2 ? "a.txt" : "b.txt"}}}});
  });
  auto wf = Load("  cycle: {kind: agent, prompt: go, tools: [builtin://fs.read], loop_guard: 10}\n");
  auto s = RunWith(&model, wf);
  EXPECT_EQ(s.status, "failed");
  EXPECT_NE(s.error.find("the last 2 turns repeated the 2 before them with the same results"), std::string::npos)
      << s.error;
  EXPECT_EQ(model.Calls().size(), 4u);
}

TEST_F(AgentTest, MaxTurnsStopsAnAgentThatNeverAnswers) {
  TurnModel model([](const llm::Request& r) {
    return Use({{"fs_list", {{"recursive", r.turn % 2 == 0}}}, {"fs_read", {{"path", r.turn % 3 ? "a.txt" : "b.txt"}}}});
  });
  auto wf = Load("  busy: {kind: agent, prompt: go, tools: [builtin://fs.list, builtin://fs.read], max_turns: 3, loop_guard: 50}\n");
  auto s = RunWith(&model, wf);
  EXPECT_EQ(s.status, "failed");
  EXPECT_NE(s.error.find("max_turns (3 model calls)"), std::string::npos) << s.error;
  EXPECT_EQ(model.Calls().size(), 3u);
}

TEST_F(AgentTest, BadArgumentsUnknownToolsAndEscapesGoBackToTheModel) {
  TurnModel model([](const llm::Request& r) {
    if (r.turn == 1)
      return Use({{"fs_read", json::object()}, {"rm_rf", {{"path", "/"}}}, {"fs_read", {{"path", "../secret.txt"}}}});
    return Say("understood");
  });
  auto wf = Load("  careful: {kind: agent, prompt: go, tools: [builtin://fs.read]}\n");
  auto s = RunWith(&model, wf);
  ASSERT_EQ(s.status, "succeeded") << s.error;
  auto calls = model.Calls();
  const auto& m = calls[1].messages;
  ASSERT_EQ(m.size(), 5u);  // user, assistant, three results
  EXPECT_NE(m[2].content.find("error: invalid arguments"), std::string::npos) << m[2].content;
  EXPECT_NE(m[2].content.find("path"), std::string::npos) << m[2].content;
  EXPECT_NE(m[3].content.find("error: there is no tool \"rm_rf\"; the tools are: fs_read"), std::string::npos) << m[3].content;
  EXPECT_NE(m[4].content.find("leads outside the workspace"), std::string::npos) << m[4].content;
  for (auto& e : Events(s.run_id, "tool_result")) EXPECT_FALSE(json::parse(e.data)["ok"].get<bool>());
}

TEST_F(AgentTest, ATransientModelErrorRetriesTheTurnNotTheAgent) {
  std::atomic<int> failures{0};
  TurnModel model([&](const llm::Request& r) {
    if (r.turn == 2 && failures++ == 0) {
      llm::CallResult e;
      e.error.status = Status(Code::kUnavailable, "HTTP 503: overloaded");
      e.error.retryable = true;
      e.error.retry_after = 0;
      return e;
    }
    return r.turn == 1 ? Use({{"fs_read", {{"path", "a.txt"}}}}) : Say("ok");
  });
  auto wf = Load("  flaky: {kind: agent, prompt: go, tools: [builtin://fs.read], retry: {attempts: 3, backoff: 10ms}}\n");
  auto s = RunWith(&model, wf);
  ASSERT_EQ(s.status, "succeeded") << s.error;
  auto calls = model.Calls();
  ASSERT_EQ(calls.size(), 3u);  // turn 1, turn 2 (failed), turn 2 again
  EXPECT_EQ(calls[2].turn, 2);
  EXPECT_EQ(calls[2].attempt, 1) << "the same attempt of the agent";
  EXPECT_EQ(Events(s.run_id, "tool_result").size(), 1u) << "the tool ran once";
}

TEST_F(AgentTest, ATimeoutStopsTheAgentAndItsRunningTool) {
  TurnModel model([](const llm::Request&) { return Use({{"shell_run", {{"argv", {"sleep", "20"}}}}}); });
  auto wf = Load("  slow: {kind: agent, prompt: go, tools: [builtin://shell.run], timeout: 500ms}\n");
  auto t0 = std::chrono::steady_clock::now();
  auto s = RunWith(&model, wf);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(s.status, "failed");
  EXPECT_NE(s.error.find("timed out"), std::string::npos) << s.error;
  EXPECT_EQ(model.Calls().size(), 1u) << "not started over";
  EXPECT_LT(took, 10) << "the sleeping tool was cancelled";
}

TEST_F(AgentTest, AReRunReplaysFinishedTurnsFromTheCacheAtNoCost) {
  TurnModel model([](const llm::Request& r) {
    if (r.turn == 1) return Use({{"fs_edit", {{"path", "a.txt"}, {"old_text", "hello"}, {"new_text", "bye"}}}});
    return Say("edited");
  });
  auto wf = Load("  once: {kind: agent, prompt: go, tools: [builtin://fs.edit]}\n");
  auto first = RunWith(&model, wf);
  ASSERT_EQ(first.status, "succeeded") << first.error;
  EXPECT_EQ(model.Calls().size(), 2u);
  auto second = RunWith(&model, wf);
  ASSERT_EQ(second.status, "succeeded") << second.error;
  EXPECT_EQ(model.Calls().size(), 2u) << "no new model call";
  EXPECT_EQ(second.outputs["once"], "edited");
  EXPECT_EQ(second.calls, 0);
  EXPECT_EQ(second.cost_usd, 0);
  // The tools really ran again, in the new run's own workspace.
  EXPECT_EQ(*ReadFile(dir_ + "/workspaces/" + second.run_id + "/a.txt"), "bye\n");
  auto turns = Events(second.run_id, "agent_turn");
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_TRUE(json::parse(turns[0].data)["cached"].get<bool>());
}

TEST_F(AgentTest, McpToolsOfARealServerForAgentsAndToolNodes) {
  std::string server = std::string(SW_SOURCE_DIR) + "/tests/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js";
  ASSERT_TRUE(fs::exists(server)) << "run scripts/mcp-servers.sh (make test does)";
  TurnModel model([](const llm::Request& r) {
    if (r.turn == 1) return Use({{"everything__echo", {{"message", "hi"}}}, {"everything__get-sum", {{"a", 2}, {"b", 3}}}});
    return Say("echoed and summed");
  });
  auto wf = Load(R"(  ask: {kind: agent, prompt: go, tools: ["mcp://everything/echo", "mcp://everything/get-sum"]}
  direct: {kind: tool, tool: "mcp://everything/get-sum", args: {a: 40, b: 2}}
)", "mcp_servers:\n  everything: {command: node, args: [\"" + server + "\", stdio], timeout: 20s}\n");
  auto s = RunWith(&model, wf);
  ASSERT_EQ(s.status, "succeeded") << s.error;
  auto calls = model.Calls();
  ASSERT_EQ(calls.size(), 2u);
  ASSERT_EQ(calls[0].tools.size(), 2u);
  EXPECT_NE(calls[0].tools[0].parameters_json.find("message"), std::string::npos) << "the server's own schema";
  const auto& m = calls[1].messages;
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[2].content, "Echo: hi");
  EXPECT_NE(m[3].content.find("5"), std::string::npos) << m[3].content;
  EXPECT_NE(s.outputs["direct"].get<std::string>().find("42"), std::string::npos) << s.outputs["direct"];
}

// MCP tools that return structuredContent (the SDK's registerTool with an outputSchema): the
// structured form is the node's JSON, conditions read it, and the model sees the data once.
TEST_F(AgentTest, StructuredContentOfARealServerIsTheNodesJson) {
  std::string server = std::string(SW_SOURCE_DIR) + "/tests/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js";
  ASSERT_TRUE(fs::exists(server)) << "run scripts/mcp-servers.sh (make test does)";
  TurnModel model([](const llm::Request& r) {
    if (r.turn == 1) return Use({{"everything__get-structured-content", {{"location", "Chicago"}}}});
    return Say("wet");
  });
  auto wf = Load(R"(  weather: {kind: tool, tool: "mcp://everything/get-structured-content", args: {location: Chicago}}
  humid:
    kind: tool
    needs: [weather]
    when: "nodes.weather.json.humidity > 80"
    tool: builtin://echo
    args: {text: "{{nodes.weather.json.conditions}}"}
  ask: {kind: agent, prompt: go, tools: ["mcp://everything/get-structured-content"]}
)", "mcp_servers:\n  everything: {command: node, args: [\"" + server + "\", stdio], timeout: 20s}\n");
  auto s = RunWith(&model, wf);
  ASSERT_EQ(s.status, "succeeded") << s.error;
  EXPECT_EQ(s.outputs["weather"], (json{{"temperature", 36}, {"conditions", "Light rain / drizzle"}, {"humidity", 82}}));
  EXPECT_EQ(s.outputs["humid"], "Light rain / drizzle") << "the condition read the structured field";
  auto calls = model.Calls();
  ASSERT_EQ(calls.size(), 2u);
  const auto& m = calls[1].messages;
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(json::parse(m[2].content), s.outputs["weather"]) << "the data once, not text and JSON glued: " << m[2].content;
}

TEST_F(AgentTest, AnMcpServerThatCannotStartFailsTheRunNamingIt) {
  TurnModel model([](const llm::Request&) { return Say("never"); });
  auto wf = Load("  ask: {kind: agent, prompt: go, tools: [\"mcp://broken/x\"]}\n",
                 "mcp_servers:\n  broken: {command: no-such-mcp-binary}\n");
  auto s = RunWith(&model, wf);
  EXPECT_EQ(s.status, "failed");
  EXPECT_NE(s.error.find("MCP server \"broken\""), std::string::npos) << s.error;
  EXPECT_NE(s.error.find("no-such-mcp-binary"), std::string::npos) << s.error;
  EXPECT_TRUE(model.Calls().empty());
}

TEST(AgentHelpers, ToolNamesEveryApiAcceptsAndCycleDetection) {
  EXPECT_EQ(ModelToolName("builtin://fs.read"), "fs_read");
  EXPECT_EQ(ModelToolName("mcp://everything/get-sum"), "everything__get-sum");
  EXPECT_LE(ModelToolName("mcp://s/" + std::string(100, 'x')).size(), 64u);
  EXPECT_EQ(RepeatingCycle({"a", "b", "a", "b"}), 2);
  EXPECT_EQ(RepeatingCycle({"a", "b", "c", "a", "b", "c"}), 3);
  EXPECT_EQ(RepeatingCycle({"a", "b", "a", "c"}), 0);
  EXPECT_EQ(RepeatingCycle({"a", "a"}), 0) << "a single repeat is the other rule's";
}

}  // namespace
}  // namespace sw::engine
