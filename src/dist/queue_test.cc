// The work queue against a real PostgreSQL (tests/pg_test_db.h: a fresh database per test).
#include "dist/queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "dist/remote.h"
#include "store/store.h"
#include "tests/pg_test_db.h"

namespace sw::dist {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

class QueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<testpg::TempPgDatabase>();
    SW_REQUIRE_PG(*db_);
    // The store's migrations make the queue's tables (migration 2) and runs.
    auto st = store::OpenStore(db_->url());
    ASSERT_TRUE(st.ok()) << st.status().message();
    store_ = std::move(st).value();
    auto q = Queue::Open(db_->url());
    ASSERT_TRUE(q.ok()) << q.status().message();
    q_ = std::move(q).value();
  }
  std::unique_ptr<Queue> Open() {
    auto q = Queue::Open(db_->url());
    EXPECT_TRUE(q.ok()) << q.status().message();
    return q.ok() ? std::move(q).value() : nullptr;
  }
  int64_t Add(const std::string& kind = "llm", const std::string& labels = "", const std::string& run = "r1",
              const std::string& key = "") {
    NewTask t;
    t.run_id = run;
    t.kind = kind;
    t.node = "n";
    t.key = key;
    t.labels = labels;
    auto id = q_->Enqueue(t);
    EXPECT_TRUE(id.ok()) << id.status().message();
    return id.ok() ? *id : 0;
  }
  void AddRun(const std::string& id, const std::string& status = "queued") {
    store::RunRecord r;
    r.id = id;
    r.status = status;
    r.workflow_file = "/w.yaml";
    r.created_at = 1;
    store::Batch b;
    b.run = r;
    ASSERT_TRUE(store_->Commit(b).ok());
  }
  std::unique_ptr<testpg::TempPgDatabase> db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Queue> q_;
};

TEST_F(QueueTest, ManyClaimersGetDistinctTasksAndEachIsDoneOnce) {
  constexpr int kTasks = 300, kThreads = 8;
  for (int i = 0; i < kTasks; ++i) Add();
  std::mutex mu;
  std::multiset<int64_t> claimed;
  std::atomic<int> completed{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      auto q = Open();
      if (!q) return;
      std::string me = "w" + std::to_string(w);
      for (;;) {
        auto t = q->Claim(me, ClaimFilter{}, 30);
        ASSERT_TRUE(t.ok()) << t.status().message();
        if (!*t) break;
        {
          std::lock_guard<std::mutex> l(mu);
          claimed.insert((*t)->id);
        }
        auto ok = q->Complete((*t)->id, me, "{\"by\":\"" + me + "\"}");
        ASSERT_TRUE(ok.ok()) << ok.status().message();
        EXPECT_TRUE(*ok);
        ++completed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kTasks));
  EXPECT_EQ(std::set<int64_t>(claimed.begin(), claimed.end()).size(), static_cast<size_t>(kTasks));  // none twice
  EXPECT_EQ(completed.load(), kTasks);
  auto rows = q_->Exec("SELECT count(*), sum(claims), count(DISTINCT owner) FROM tasks WHERE status = 'done'");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Int(0, 0), kTasks);
  EXPECT_EQ(rows->Int(0, 1), kTasks);  // every task claimed exactly once
  EXPECT_GT(rows->Int(0, 2), 1);       // and the work was shared
}

TEST_F(QueueTest, ALapsedLeaseIsClaimedAgainAndTheOldOwnerIsRefused) {
  int64_t id = Add();
  auto a = q_->Claim("A", ClaimFilter{}, 0.3);
  ASSERT_TRUE(a.ok() && *a);
  EXPECT_EQ((*a)->id, id);
  EXPECT_EQ((*a)->claims, 1);
  // Within the lease nobody else gets it.
  auto none = q_->Claim("B", ClaimFilter{}, 30);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  auto b = q_->Claim("B", ClaimFilter{}, 30);
  ASSERT_TRUE(b.ok() && *b);
  EXPECT_EQ((*b)->id, id);
  EXPECT_EQ((*b)->claims, 2);  // a re-run, counted
  auto late = q_->Complete(id, "A", "{\"by\":\"A\"}");
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(*late);  // A's result is dropped
  auto beat = q_->Heartbeat("A", 30);
  ASSERT_TRUE(beat.ok());
  EXPECT_TRUE(beat->held.empty());  // A learns it lost the task
  auto done = q_->Complete(id, "B", "{\"by\":\"B\"}");
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(*done);
  auto t = q_->Get(id);
  ASSERT_TRUE(t.ok() && *t);
  EXPECT_EQ((*t)->status, "done");
  EXPECT_EQ((*t)->result, "{\"by\":\"B\"}");
  EXPECT_EQ((*t)->owner, "B");
  // Done is final: nobody claims it again, and a second Complete changes nothing.
  auto again = q_->Claim("C", ClaimFilter{}, 30);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto twice = q_->Complete(id, "B", "{\"by\":\"B2\"}");
  ASSERT_TRUE(twice.ok());
  EXPECT_FALSE(*twice);
}

TEST_F(QueueTest, HeartbeatsKeepTheLeaseAndCarryCancel) {
  int64_t id = Add();
  auto a = q_->Claim("A", ClaimFilter{}, 0.6);
  ASSERT_TRUE(a.ok() && *a);
  double until = Now() + 1.5;
  while (Now() < until) {
    auto beat = q_->Heartbeat("A", 0.6);
    ASSERT_TRUE(beat.ok()) << beat.status().message();
    ASSERT_EQ(beat->held, std::vector<int64_t>{id});
    EXPECT_TRUE(beat->cancel.empty());
    auto b = q_->Claim("B", ClaimFilter{}, 30);
    ASSERT_TRUE(b.ok());
    EXPECT_FALSE(*b) << "claimed while its lease was being renewed";
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  auto c = q_->RequestCancel(id);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(*c);  // claimed: its worker must stop it
  auto beat = q_->Heartbeat("A", 0.6);
  ASSERT_TRUE(beat.ok());
  EXPECT_EQ(beat->cancel, std::vector<int64_t>{id});
  // A ready task is cancelled at once and never claimed.
  int64_t id2 = Add();
  auto c2 = q_->RequestCancel(id2);
  ASSERT_TRUE(c2.ok());
  EXPECT_TRUE(*c2);
  auto none = q_->Claim("B", ClaimFilter{}, 30);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
}

TEST_F(QueueTest, LabelsFilterWhoMayClaim) {
  int64_t gpu = Add("llm", "gpu");
  int64_t both = Add("llm", "gpu,linux");
  ClaimFilter plain;
  auto none = q_->Claim("plain", plain, 30);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
  ClaimFilter g;
  g.labels = {"gpu"};
  auto t = q_->Claim("g", g, 30);
  ASSERT_TRUE(t.ok() && *t);
  EXPECT_EQ((*t)->id, gpu);
  auto t2 = q_->Claim("g", g, 30);
  ASSERT_TRUE(t2.ok());
  EXPECT_FALSE(*t2);  // it lacks linux
  ClaimFilter gl;
  gl.labels = {"linux", "gpu", "big"};
  auto t3 = q_->Claim("gl", gl, 30);
  ASSERT_TRUE(t3.ok() && *t3);
  EXPECT_EQ((*t3)->id, both);
  // A task without labels goes to anyone, labelled or not.
  int64_t any = Add();
  auto t4 = q_->Claim("gl", gl, 30);
  ASSERT_TRUE(t4.ok() && *t4);
  EXPECT_EQ((*t4)->id, any);
  EXPECT_FALSE(ParseLabels("gpu,Bad Label").ok());
  EXPECT_EQ(*ParseLabels(" gpu , linux"), (std::vector<std::string>{"gpu", "linux"}));
}

TEST_F(QueueTest, AHeartbeatOfTheTasksInHandLetsADroppedOneLapse) {
  int64_t kept = Add(), dropped = Add();
  auto a = q_->Claim("A", ClaimFilter{}, 0.6);
  auto b = q_->Claim("A", ClaimFilter{}, 0.6);
  ASSERT_TRUE(a.ok() && *a && b.ok() && *b);
  // A worker whose Complete of `dropped` never reached the database beats only for `kept`.
  double until = Now() + 1.2;
  while (Now() < until) {
    auto beat = q_->Heartbeat("A", 0.6, std::vector<int64_t>{kept});
    ASSERT_TRUE(beat.ok()) << beat.status().message();
    EXPECT_EQ(beat->held, std::vector<int64_t>{kept});
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  auto c = q_->Claim("B", ClaimFilter{}, 30);
  ASSERT_TRUE(c.ok() && *c);
  EXPECT_EQ((*c)->id, dropped);  // it lapsed and moved on
  auto none = q_->Claim("B", ClaimFilter{}, 30);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);  // the one in hand did not
}

TEST_F(QueueTest, ALabelSpelledNullIsALabel) {
  int64_t id = Add("llm", "null");
  ClaimFilter f;
  f.labels = {"null"};
  auto t = q_->Claim("w", f, 30);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_TRUE(*t);
  EXPECT_EQ((*t)->id, id);
}

TEST_F(QueueTest, ClaimFilterSeparatesRunsFromCalls) {
  AddRun("r1");
  int64_t orch = Add("orchestrate", "", "r1");
  int64_t call = Add("llm");
  ClaimFilter calls_only;
  calls_only.orchestrate = false;
  auto t = q_->Claim("w", calls_only, 30);
  ASSERT_TRUE(t.ok() && *t);
  EXPECT_EQ((*t)->id, call);
  ClaimFilter runs_only;
  runs_only.calls = false;
  auto o = q_->Claim("w", runs_only, 30);
  ASSERT_TRUE(o.ok() && *o);
  EXPECT_EQ((*o)->id, orch);
}

TEST_F(QueueTest, AnOrchestrateClaimOwnsTheRunUntilDone) {
  AddRun("r1", "running");  // a run taken over from a worker that died
  int64_t id = Add("orchestrate", "", "r1");
  EXPECT_EQ(Add("orchestrate", "", "r1"), 0);  // one orchestrator per run at a time
  auto t = q_->Claim("W1", ClaimFilter{}, 5);
  ASSERT_TRUE(t.ok() && *t);
  auto run = store_->GetRun("r1");
  ASSERT_TRUE(run.ok() && *run);
  EXPECT_EQ((*run)->owner, "W1");
  EXPECT_GT((*run)->lease_until, 0);
  EXPECT_TRUE(store::ProcessAlive(**run));
  // A fenced commit of another owner is refused, whole.
  store::Batch b;
  store::RunRecord r = **run;
  r.status = "failed";
  b.run = r;
  b.fence = store::Fence{"r1", "W2"};
  Status s = store_->Commit(b);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("lease lost"), std::string::npos) << s.message();
  EXPECT_EQ((*store_->GetRun("r1"))->status, "running");
  b.fence = store::Fence{"r1", "W1"};
  EXPECT_TRUE(store_->Commit(b).ok());
  auto beat = q_->Heartbeat("W1", 10);
  ASSERT_TRUE(beat.ok());
  auto ok = q_->Complete(id, "W1", "{}");
  ASSERT_TRUE(ok.ok() && *ok);
  run = store_->GetRun("r1");
  EXPECT_EQ((*run)->owner, "");
  EXPECT_EQ((*run)->lease_until, 0);
  EXPECT_GT(Add("orchestrate", "", "r1"), 0);  // a new one may come (approve, resume)
}

TEST_F(QueueTest, ReleaseGivesATaskBackUncounted) {
  int64_t id = Add();
  auto t = q_->Claim("A", ClaimFilter{}, 30);
  ASSERT_TRUE(t.ok() && *t);
  auto r = q_->Release(id, "A");
  ASSERT_TRUE(r.ok() && *r);
  auto b = q_->Claim("B", ClaimFilter{}, 30);
  ASSERT_TRUE(b.ok() && *b);
  EXPECT_EQ((*b)->id, id);
  EXPECT_EQ((*b)->claims, 1);
  auto r2 = q_->Release(id, "A");
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(*r2);  // not A's any more
}

TEST_F(QueueTest, CancelRunReachesSubRunsOnly) {
  int64_t claimed = Add("tool", "", "r1");
  auto t = q_->Claim("W", ClaimFilter{}, 30);
  ASSERT_TRUE(t.ok() && *t);
  ASSERT_EQ((*t)->id, claimed);
  int64_t a = Add("llm", "", "r1");
  int64_t sub = Add("llm", "", "r1.child");
  int64_t other = Add("llm", "", "r10");
  auto n = q_->CancelRun("r1");
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 2);  // a and the sub-run's
  EXPECT_EQ((*q_->Get(a))->status, "cancelled");
  EXPECT_EQ((*q_->Get(sub))->status, "cancelled");
  EXPECT_EQ((*q_->Get(other))->status, "ready");
  auto c = *q_->Get(claimed);
  EXPECT_EQ(c->status, "claimed");
  EXPECT_TRUE(c->cancel_requested);
}

TEST_F(QueueTest, NotifyWakesAWaitingClaimerFast) {
  auto n = Notifier::Open(db_->url(), {"specwright_tasks"});
  ASSERT_TRUE(n.ok()) << n.status().message();
  double woke = 0;
  std::thread waiter([&] {
    double t0 = Now();
    auto notes = (*n)->Wait(10);
    if (!notes.empty()) woke = Now() - t0;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  double t0 = Now();
  Add();
  waiter.join();
  (void)t0;
  ASSERT_GT(woke, 0) << "no NOTIFY within 10 s";
  // It waited ~0.2 s for the enqueue, then woke at once (well before any poll would).
  EXPECT_LT(woke, 0.2 + 0.3) << "the NOTIFY took " << woke << " s";
}

TEST_F(QueueTest, WaiterFiresOnNotifyAndByPollingWithout) {
  for (bool listen : {true, false}) {
    auto calls = Open();
    auto w = Waiter::Start(listen ? db_->url() : "", calls.get(), /*poll=*/0.5);
    ASSERT_TRUE(w.ok()) << w.status().message();
    int64_t id = Add("llm", "", "r1", listen ? "k1" : "k2");
    std::atomic<double> fired{0};
    std::optional<Task> got;
    std::mutex mu;
    (*w)->Await(id, Waiter::Wait{}, [&](std::optional<Task> t) {
      std::lock_guard<std::mutex> l(mu);
      got = std::move(t);
      fired = Now();
    });
    auto t = q_->Claim("W", ClaimFilter{}, 30);
    ASSERT_TRUE(t.ok() && *t);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    double t0 = Now();
    ASSERT_TRUE(*q_->Complete(id, "W", "{\"x\":1}"));
    while (fired.load() == 0 && Now() - t0 < 5) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_GT(fired.load(), 0) << (listen ? "with" : "without") << " LISTEN";
    double latency = fired.load() - t0;
    if (listen) EXPECT_LT(latency, 0.25) << "NOTIFY should wake at once";
    else EXPECT_LT(latency, 0.5 + 0.3) << "polling every 0.5 s";
    std::lock_guard<std::mutex> l(mu);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->result, "{\"x\":1}");
  }
}

TEST_F(QueueTest, WaiterCancelsAReadyTaskAtOnce) {
  auto calls = Open();
  auto w = Waiter::Start(db_->url(), calls.get(), 0.5);
  ASSERT_TRUE(w.ok());
  int64_t id = Add();
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  std::atomic<bool> fired{false};
  std::optional<Task> got;
  (*w)->Await(id, Waiter::Wait{cancel, nullptr, 5}, [&](std::optional<Task> t) {
    got = std::move(t);
    fired = true;
  });
  cancel->store(true);
  double t0 = Now();
  while (!fired && Now() - t0 < 3) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(fired);
  EXPECT_LT(Now() - t0, 0.5);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, "cancelled");
  EXPECT_EQ(got->claims, 0);
}

// A new orchestrator's budget counts what the store's calls do not show: model-call tasks in
// flight, and answered ones no recorded call has; not recorded, cancelled or tool tasks, and
// not another run's.
TEST_F(QueueTest, UnrecordedSpendCountsCallsInFlightAndAnsweredButNotRecorded) {
  AddRun("r1", "running");
  auto add = [&](const std::string& run, const std::string& kind, const std::string& key, double usd, int attempt = 1) {
    NewTask t;
    t.run_id = run;
    t.kind = kind;
    t.node = "n";
    t.key = key;
    t.attempt = attempt;
    t.reserved_usd = usd;
    auto id = q_->Enqueue(t);
    EXPECT_TRUE(id.ok()) << id.status().message();
    return id.ok() ? *id : 0;
  };
  add("r1", "llm", "ready", 0.01);                              // ready: counted
  int64_t claimed = add("r1", "llm", "claimed", 0.02);          // claimed: counted
  int64_t orphan = add("r1", "llm", "orphan", 0.04);            // done, unrecorded: counted
  int64_t recorded = add("r1", "llm", "recorded", 0.08);        // done, recorded: not
  int64_t cancelled = add("r1", "llm", "cancelled", 0.16);      // cancelled: not
  add("r1.w1", "llm", "child", 0.32);                           // a sub-run's: counted
  add("r2", "llm", "other", 0.64);                              // another run's: not
  add("r1", "tool", "tool", 1.28);                              // a tool call: not
  int64_t retry = add("r1", "llm", "recorded", 2.56, 2);        // done, a retry of a recorded one: counted
  ASSERT_TRUE(q_->Exec("UPDATE tasks SET status = 'claimed', owner = 'w' WHERE id = $1", {store::pg::Int(claimed)}).ok());
  ASSERT_TRUE(q_->Exec("UPDATE tasks SET status = 'done' WHERE id IN ($1, $2, $3)",
                       {store::pg::Int(orphan), store::pg::Int(recorded), store::pg::Int(retry)}).ok());
  ASSERT_TRUE(q_->Exec("UPDATE tasks SET status = 'cancelled' WHERE id = $1", {store::pg::Int(cancelled)}).ok());
  store::Batch b;
  store::LlmCallRecord c;
  c.run_id = "r1";
  c.node = "n";
  c.provider = "scripted";
  c.model = "m";
  c.status = "ok";
  c.request_hash = "recorded";
  b.llm_calls.push_back(c);
  ASSERT_TRUE(store_->Commit(b).ok());
  auto spend = q_->UnrecordedSpend("r1");
  ASSERT_TRUE(spend.ok()) << spend.status().message();
  EXPECT_NEAR(*spend, 0.01 + 0.02 + 0.04 + 0.32 + 2.56, 1e-12);
}

}  // namespace
}  // namespace sw::dist
