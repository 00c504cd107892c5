// RemoteProvider and RemoteTool against a real PostgreSQL: the adoption rules (a finished call
// is never paid twice) and the round trip through a task.
#include "dist/remote.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "llm/replay.h"
#include "store/store.h"
#include "tests/pg_test_db.h"

namespace sw::dist {
namespace {

class RemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<testpg::TempPgDatabase>();
    SW_REQUIRE_PG(*db_);
    auto st = store::OpenStore(db_->url());
    ASSERT_TRUE(st.ok()) << st.status().message();
    store_ = std::move(st).value();
    queue_ = std::move(Queue::Open(db_->url())).value();
    worker_q_ = std::move(Queue::Open(db_->url())).value();
    auto w = Waiter::Start(db_->url(), queue_.get(), 0.5);
    ASSERT_TRUE(w.ok()) << w.status().message();
    waiter_ = std::move(w).value();
    run_ = std::make_shared<RemoteRun>();
    run_->queue = queue_.get();
    run_->waiter = waiter_.get();
    run_->store = store_.get();
  }
  void TearDown() override {
    waiter_.reset();
    run_.reset();
  }
  llm::Request Req(int attempt = 1) {
    llm::Request r;
    r.provider = "scripted";
    r.model = "m";
    r.messages = {{"user", "hello", {}, ""}};
    r.run_id = "r1";
    r.node_id = "a";
    r.attempt = attempt;
    return r;
  }
  /// Call starts a call through a RemoteProvider and returns its result when it comes.
  std::future<llm::CallResult> Call(const llm::Request& r, llm::CancelFlag cancel = nullptr) {
    auto p = std::make_shared<std::promise<llm::CallResult>>();
    auto f = p->get_future();
    RemoteProvider prov("scripted", run_);
    prov.Start(r, cancel ? cancel : std::make_shared<std::atomic<bool>>(false), nullptr,
               [p](llm::CallResult c) { p->set_value(std::move(c)); });
    return f;
  }
  /// Serve claims the next task as worker W and completes it with text.
  int64_t Serve(const std::string& text) {
    std::optional<Task> t;
    for (int i = 0; i < 100 && !t; ++i) {
      auto c = worker_q_->Claim("W", ClaimFilter{}, 30);
      if (c.ok() && *c) t = **c;
      else std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(t) << "no task was enqueued";
    if (!t) return 0;
    llm::CallResult r;
    r.response = llm::Response{};
    r.response->text = text;
    r.response->usage = {10, 2, 0, 0, 0};
    EXPECT_TRUE(*worker_q_->Complete(t->id, "W", CallResultToJson(r).dump()));
    return t->id;
  }
  int64_t Count(const std::string& where) {
    auto r = queue_->Exec("SELECT count(*) FROM tasks WHERE " + where);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->Int(0, 0) : -1;
  }
  void Record(const llm::Request& r, int attempt) {
    store::RunRecord run;
    run.id = "r1";
    run.created_at = 1;
    store::LlmCallRecord c;
    c.run_id = "r1";
    c.node = r.node_id;
    c.iteration = r.iteration;
    c.item = r.item;
    c.attempt = attempt;
    c.provider = "scripted";
    c.model = "m";
    c.status = "ok";
    c.request_hash = llm::RequestFingerprint(r);
    store::Batch b;
    b.run = run;
    b.llm_calls.push_back(c);
    ASSERT_TRUE(store_->Commit(b).ok());
  }
  std::unique_ptr<testpg::TempPgDatabase> db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Queue> queue_, worker_q_;
  std::unique_ptr<Waiter> waiter_;
  std::shared_ptr<RemoteRun> run_;
};

TEST_F(RemoteTest, ACallIsATaskAndItsResultComesBackWhole) {
  auto f = Call(Req());
  Serve("answer");
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto r = f.get();
  ASSERT_TRUE(r.ok()) << r.error.status.message();
  EXPECT_EQ(r.response->text, "answer");
  EXPECT_EQ(r.response->usage.input, 10);
  EXPECT_EQ(Count("kind = 'llm' AND key = '" + llm::RequestFingerprint(Req()) + "'"), 1);
}

TEST_F(RemoteTest, AFinishedUnrecordedCallIsAdoptedNotPaidAgain) {
  // An orchestrator asked (attempt 1), a worker answered, the orchestrator died before it
  // recorded the call. Its successor asks again (attempt 2): the answer is taken, no new task.
  {
    auto f = Call(Req(1));
    Serve("first");
    f.get();
  }
  run_->consumed.clear();  // a new orchestrator remembers nothing
  auto f = Call(Req(2));
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(f.get().response->text, "first");
  EXPECT_EQ(Count("kind = 'llm'"), 1);
  EXPECT_EQ(run_->adopted.load(), 1);
}

TEST_F(RemoteTest, ARecordedCallIsNotAdoptedAgain) {
  {
    auto f = Call(Req(1));
    Serve("first");
    f.get();
  }
  Record(Req(1), 1);  // the engine recorded it: asking again is a new call (a retry)
  run_->consumed.clear();
  auto f = Call(Req(2));
  Serve("second");
  EXPECT_EQ(f.get().response->text, "second");
  EXPECT_EQ(Count("kind = 'llm'"), 2);
}

TEST_F(RemoteTest, ACallStillInFlightIsWaitedFor) {
  // The dead orchestrator's call is claimed by a worker: the successor waits for it.
  NewTask t;
  t.run_id = "r1";
  t.kind = "llm";
  t.node = "a";
  t.key = llm::RequestFingerprint(Req());
  t.attempt = 1;
  t.payload = RequestToJson(Req(1)).dump();
  int64_t id = *queue_->Enqueue(t);
  auto claimed = worker_q_->Claim("W", ClaimFilter{}, 30);
  ASSERT_TRUE(claimed.ok() && *claimed);
  auto f = Call(Req(2));
  EXPECT_EQ(f.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  llm::CallResult r;
  r.response = llm::Response{};
  r.response->text = "late";
  ASSERT_TRUE(*worker_q_->Complete(id, "W", CallResultToJson(r).dump()));
  ASSERT_EQ(f.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_EQ(f.get().response->text, "late");
  EXPECT_EQ(Count("kind = 'llm'"), 1);
  EXPECT_EQ(run_->awaited.load(), 1);
}

TEST_F(RemoteTest, CancelOfAWaitingCallCancelsItsTask) {
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto f = Call(Req(), cancel);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  cancel->store(true);
  ASSERT_EQ(f.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  auto r = f.get();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error.status.code(), Code::kCancelled);
  EXPECT_TRUE(r.error.usage_known);  // it never left: nothing was billed
  EXPECT_EQ(Count("status = 'cancelled'"), 1);
  // A cancelled task is not adopted later: the next ask is a new task.
  auto g = Call(Req(2));
  Serve("again");
  EXPECT_EQ(g.get().response->text, "again");
}

class EchoTool final : public tools::Tool {
 public:
  std::string uri() const override { return "builtin://echo"; }
  std::string description() const override { return "echo"; }
  Result<json> Call(const json& args, const tools::CallContext&) override { return args; }
};

TEST_F(RemoteTest, AToolCallAdoptsADoneResultOnce) {
  EchoTool local;
  RemoteTool tool(&local, run_);
  tools::CallContext ctx;
  ctx.run_id = "r1";
  ctx.node_id = "t";
  ctx.cancel = std::make_shared<std::atomic<bool>>(false);
  json args{{"text", "hi"}};
  // A worker's finished result of the same call, never handed to an engine.
  ToolTask tt;
  tt.uri = "builtin://echo";
  tt.args = args;
  NewTask t;
  t.run_id = "r1";
  t.kind = "tool";
  t.node = "t";
  t.key = TaskKeyOfTool("builtin://echo", args, ctx);
  t.payload = ToolTaskToJson(tt).dump();
  int64_t id = *queue_->Enqueue(t);
  ASSERT_TRUE(*worker_q_->Claim("W", ClaimFilter{}, 30));
  ToolOutcome o;
  o.ok = true;
  o.value = json{{"from", "worker"}};
  ASSERT_TRUE(*worker_q_->Complete(id, "W", ToolOutcomeToJson(o).dump()));
  auto r = tool.Call(args, ctx);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, (json{{"from", "worker"}}));
  EXPECT_TRUE((*queue_->Get(id))->consumed);
  // Consumed: the same call again is a new task.
  std::thread serve([&] {
    for (int i = 0; i < 100; ++i) {
      auto c = worker_q_->Claim("W", ClaimFilter{}, 30);
      if (c.ok() && *c) {
        ToolOutcome again;
        again.ok = true;
        again.value = "second";
        (void)worker_q_->Complete((*c)->id, "W", ToolOutcomeToJson(again).dump());
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  auto r2 = tool.Call(args, ctx);
  serve.join();
  ASSERT_TRUE(r2.ok()) << r2.status().message();
  EXPECT_EQ(*r2, json("second"));
  EXPECT_EQ(Count("kind = 'tool'"), 2);
}

TEST_F(RemoteTest, AWorkspaceToolRunsHereWithoutATransport) {
  EchoTool local;
  class FsTool final : public tools::Tool {
   public:
    std::string uri() const override { return "builtin://fs.read"; }
    std::string description() const override { return ""; }
    Result<json> Call(const json&, const tools::CallContext& ctx) override { return json(ctx.workspace); }
  } fs;
  RemoteTool tool(&fs, run_);
  tools::CallContext ctx;
  ctx.run_id = "r1";
  ctx.node_id = "t";
  ctx.workspace = "/tmp/ws";
  auto r = tool.Call(json::object(), ctx);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, json("/tmp/ws"));
  EXPECT_EQ(Count("true"), 0);
}

}  // namespace
}  // namespace sw::dist
