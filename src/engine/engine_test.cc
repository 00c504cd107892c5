// Scheduler, retries, budgets, loops, cache, resume and gates, against real YAML workflows,
// a real SQLite store in a temp dir, and an in-test provider that records every call.
#include "engine/budget.h"
#include "engine/engine.h"
#include "engine/replay.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "llm/scripted.h"
#include "store/store.h"

namespace sw::engine {
namespace {

namespace fs = std::filesystem;

/// FakeProvider answers with a handler and records calls; async mode completes on a thread.
class FakeProvider : public llm::Provider {
 public:
  using Handler = std::function<llm::CallResult(const llm::Request&)>;
  explicit FakeProvider(Handler h, bool async = false) : handler_(std::move(h)), async_(async) {}
  ~FakeProvider() override {
    for (auto& t : threads_) t.join();
  }
  std::string name() const override { return "fake"; }
  void Start(const llm::Request& req, llm::CancelFlag cancel, llm::DeltaFn, llm::DoneFn done) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      calls_.push_back(req);
      ++in_flight_;
      peak_ = std::max(peak_, in_flight_);
    }
    cv_.notify_all();
    if (!async_) {
      auto r = handler_(req);
      {
        std::lock_guard<std::mutex> l(mu_);
        --in_flight_;
      }
      done(std::move(r));
      return;
    }
    std::lock_guard<std::mutex> l(mu_);
    threads_.emplace_back([this, req, done = std::move(done), cancel] {
      if (barrier_ > 0) {
        std::unique_lock<std::mutex> l2(mu_);
        cv_.wait_for(l2, std::chrono::seconds(3), [&] { return static_cast<int>(calls_.size()) >= barrier_; });
      }
      auto r = handler_(req);
      {
        std::lock_guard<std::mutex> l2(mu_);
        --in_flight_;
      }
      done(std::move(r));
    });
  }
  std::vector<llm::Request> Calls() {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }
  int Count(const std::string& node) {
    int n = 0;
    for (auto& c : Calls()) n += c.node_id == node;
    return n;
  }
  int peak() {
    std::lock_guard<std::mutex> l(mu_);
    return peak_;
  }
  int barrier_ = 0;  // async: hold every call until this many calls have started

 private:
  Handler handler_;
  bool async_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<llm::Request> calls_;
  std::vector<std::thread> threads_;
  int in_flight_ = 0, peak_ = 0;
};

llm::CallResult Ok(const std::string& text, int64_t in = 10, int64_t out = 10) {
  llm::CallResult r;
  r.response = llm::Response{};
  r.response->text = text;
  r.response->usage.input = in;
  r.response->usage.output = out;
  return r;
}

llm::CallResult Err(const std::string& msg, bool retryable, double retry_after = -1) {
  llm::CallResult r;
  r.error.status = Status(retryable ? Code::kUnavailable : Code::kFailed, msg);
  r.error.retryable = retryable;
  r.error.retry_after = retry_after;
  return r;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_engine_XXXXXX";
    dir_ = mkdtemp(tmpl);
    tools::AddBuiltins(&tools_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<const workflow::Workflow> Load(const std::string& yaml) {
    std::string path = dir_ + "/wf" + std::to_string(counter_++) + ".yaml";
    std::ofstream(path) << yaml;
    auto r = workflow::Load(path);
    std::string errs;
    for (auto& d : r.errors) errs += d.ToString() + "\n";
    EXPECT_TRUE(r.errors.empty()) << errs;
    return r.workflow;
  }

  store::Store* Store() {
    if (!store_) {
      auto s = store::OpenSqlite(dir_ + "/store");
      EXPECT_TRUE(s.ok()) << s.status().message();
      store_ = std::move(s).value();
    }
    return store_.get();
  }

  Services Svc(FakeProvider* p, bool with_store = false, Clock* clock = nullptr) {
    if (p && !registered_) {
      providers_.Add(std::shared_ptr<llm::Provider>(p, [](llm::Provider*) {}));
      registered_ = true;
    }
    Services s;
    s.providers = &providers_;
    s.prices = &prices_;
    s.tools = &tools_;
    s.store = with_store ? Store() : nullptr;
    if (clock) s.clock = clock;
    return s;
  }

  RunSummary MustRun(std::shared_ptr<const workflow::Workflow> wf, const Services& s, RunOptions o = {}) {
    auto r = engine::Run(wf, s, std::move(o));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : RunSummary{};
  }

  std::string dir_;
  int counter_ = 0;
  llm::Registry providers_;
  llm::PriceTable prices_;
  tools::Registry tools_;
  std::unique_ptr<store::Store> store_;
  bool registered_ = false;
};

TEST_F(EngineTest, ChainRunsInOrderAndPassesOutputs) {
  FakeProvider p([](const llm::Request& r) { return Ok("out-" + r.node_id + "(" + r.messages.back().content + ")"); });
  auto wf = Load(R"(
name: chain
defaults: {model: fake/m}
nodes:
  a: {prompt: "start"}
  b: {needs: [a], prompt: "after {{nodes.a.output}}"}
  c: {needs: [b], prompt: "after {{nodes.b.output}}"}
)");
  auto s = MustRun(wf, Svc(&p));
  EXPECT_EQ(s.status, "succeeded");
  auto calls = p.Calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].node_id, "a");
  EXPECT_EQ(calls[1].node_id, "b");
  EXPECT_EQ(calls[2].node_id, "c");
  EXPECT_EQ(calls[2].messages.back().content, "after out-b(after out-a(start))");
}

TEST_F(EngineTest, IndependentBranchesRunInParallelUpToTheCap) {
  FakeProvider p([](const llm::Request&) { return Ok("x"); }, /*async=*/true);
  p.barrier_ = 4;
  auto wf = Load(R"(
name: fan
defaults: {model: fake/m}
nodes:
  a: {prompt: "1"}
  b: {prompt: "2"}
  c: {prompt: "3"}
  d: {prompt: "4"}
  join: {needs: [a, b, c, d], prompt: "j"}
)");
  auto s = MustRun(wf, Svc(&p));
  EXPECT_EQ(s.status, "succeeded");
  EXPECT_EQ(p.peak(), 4);
  EXPECT_EQ(p.Calls().back().node_id, "join");
}

TEST_F(EngineTest, GlobalConcurrencyCapIsRespected) {
  FakeProvider p([](const llm::Request&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return Ok("x");
  }, true);
  auto wf = Load(R"(
name: capped
defaults: {model: fake/m}
concurrency: {global: 2}
nodes:
  a: {prompt: "1"}
  b: {prompt: "2"}
  c: {prompt: "3"}
  d: {prompt: "4"}
  e: {prompt: "5"}
)");
  auto s = MustRun(wf, Svc(&p));
  EXPECT_EQ(s.status, "succeeded");
  EXPECT_EQ(p.peak(), 2);
  EXPECT_EQ(p.Calls().size(), 5u);
}

TEST_F(EngineTest, FailureSkipsDependentsWhileIndependentBranchesFinish) {
  FakeProvider p([](const llm::Request& r) { return r.node_id == "bad" ? Err("boom", false) : Ok("fine"); });
  auto wf = Load(R"(
name: fail
defaults: {model: fake/m}
nodes:
  bad: {prompt: "x"}
  after_bad: {needs: [bad], prompt: "y"}
  after_after: {needs: [after_bad], prompt: "z"}
  good: {prompt: "g"}
  after_good: {needs: [good], prompt: "h"}
)");
  auto s = MustRun(wf, Svc(&p, true));
  EXPECT_EQ(s.status, "failed");
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.skipped, 2);
  EXPECT_EQ(s.succeeded, 2);
  EXPECT_NE(s.error.find("boom"), std::string::npos);
  auto rows = Store()->ListNodeRuns(s.run_id);
  ASSERT_TRUE(rows.ok());
  bool saw = false;
  for (auto& r : *rows)
    if (r.node == "after_after") {
      saw = true;
      EXPECT_EQ(r.status, "skipped");
      EXPECT_NE(r.error.find("after_bad"), std::string::npos) << r.error;
    }
  EXPECT_TRUE(saw);
}

TEST_F(EngineTest, FalseConditionSkipsNodeAndExclusiveDependentsOnly) {
  FakeProvider p([](const llm::Request& r) { return Ok(r.node_id == "decide" ? "{\"go\": false}" : "ok"); });
  auto wf = Load(R"(
name: cond
defaults: {model: fake/m}
nodes:
  decide: {prompt: "d", output: json}
  branch: {needs: [decide], when: "nodes.decide.json.go == true", prompt: "b"}
  only_branch: {needs: [branch], prompt: "ob"}
  other: {needs: [decide], prompt: "o"}
  join: {needs: [branch, other], prompt: "j {{nodes.branch.output}}|{{nodes.other.output}}"}
)");
  auto s = MustRun(wf, Svc(&p));
  EXPECT_EQ(s.status, "succeeded");
  EXPECT_EQ(p.Count("branch"), 0);
  EXPECT_EQ(p.Count("only_branch"), 0);
  EXPECT_EQ(p.Count("join"), 1);
  EXPECT_EQ(s.skipped, 2);
  for (auto& c : p.Calls())
    if (c.node_id == "join") EXPECT_EQ(c.messages.back().content, "j |ok");
}

TEST_F(EngineTest, RetriesUseExponentialBackoffWithFullJitterOnTheClock) {
  ManualClock clock;
  int n = 0;
  FakeProvider p([&](const llm::Request&) { return ++n <= 3 ? Err("overloaded", true) : Ok("finally"); });
  auto wf = Load(R"(
name: retry
defaults: {model: fake/m}
nodes:
  a: {prompt: "x", retry: {attempts: 4, backoff: 2s, max_delay: 5s}}
)");
  auto s = MustRun(wf, Svc(&p, false, &clock));
  EXPECT_EQ(s.status, "succeeded");
  EXPECT_EQ(p.Count("a"), 4);
  auto sleeps = clock.Sleeps();
  ASSERT_EQ(sleeps.size(), 3u);
  EXPECT_LE(sleeps[0], 2.0 + 1e-9);  // cap backoff * 2^0
  EXPECT_LE(sleeps[1], 4.0 + 1e-9);  // cap backoff * 2^1
  EXPECT_LE(sleeps[2], 5.0 + 1e-9);  // min(8, max_delay 5)
  EXPECT_DOUBLE_EQ(BackoffCap(wf->nodes[0].retry, 2), 2.0);
  EXPECT_DOUBLE_EQ(BackoffCap(wf->nodes[0].retry, 3), 4.0);
  EXPECT_DOUBLE_EQ(BackoffCap(wf->nodes[0].retry, 4), 5.0);
}

TEST_F(EngineTest, RetryHonoursProviderRetryAfterAndStopsAtAttempts) {
  ManualClock clock;
  FakeProvider p([&](const llm::Request&) { return Err("rate limited", true, 7.0); });
  auto wf = Load(R"(
name: retry2
defaults: {model: fake/m}
nodes:
  a: {prompt: "x", retry: {attempts: 2, backoff: 1s, max_delay: 10s}}
)");
  auto s = MustRun(wf, Svc(&p, false, &clock));
  EXPECT_EQ(s.status, "failed");
  EXPECT_EQ(p.Count("a"), 2);
  auto sleeps = clock.Sleeps();
  ASSERT_GE(sleeps.size(), 1u);
  EXPECT_GE(sleeps[0], 7.0 - 1e-9);
  EXPECT_NE(s.error.find("after 2 attempts"), std::string::npos) << s.error;
}

TEST_F(EngineTest, ARetryAfterLongerThanMaxDelayFailsAtOnce) {
  ManualClock clock;
  FakeProvider p([&](const llm::Request&) { return Err("daily quota exceeded", true, 86400.0); });
  auto wf = Load(R"(
name: retry3
defaults: {model: fake/m}
nodes:
  a: {prompt: "x", retry: {attempts: 5, backoff: 1s, max_delay: 60s}}
)");
  auto s = MustRun(wf, Svc(&p, false, &clock));
  EXPECT_EQ(s.status, "failed");
  EXPECT_EQ(p.Count("a"), 1);
  EXPECT_TRUE(clock.Sleeps().empty());
  EXPECT_NE(s.error.find("asks to wait"), std::string::npos) << s.error;
  EXPECT_NE(s.error.find("retry.max_delay"), std::string::npos) << s.error;
}

TEST_F(EngineTest, ModelNodesRetryTransientErrorsByDefault) {
  ManualClock clock;
  int calls = 0;
  FakeProvider p([&](const llm::Request&) { return ++calls < 3 ? Err("HTTP 503", true) : Ok("fine"); });
  auto wf = Load(R"(
name: retry4
defaults: {model: fake/m}
nodes:
  a: {prompt: "x"}
)");
  EXPECT_EQ(wf->nodes[0].retry.attempts, workflow::kDefaultModelAttempts);
  auto s = MustRun(wf, Svc(&p, false, &clock));
  EXPECT_EQ(s.status, "succeeded") << s.error;
  EXPECT_EQ(p.Count("a"), 3);
}

TEST_F(EngineTest, NonRetryableErrorIsNotRetried) {
  ManualClock clock;
  FakeProvider p([&](const llm::Request&) { return Err("bad request", false); });
  auto wf = Load("name: x\ndefaults: {model: fake/m}\nnodes:\n  a: {prompt: p, retry: {attempts: 5}}\n");
  auto s = MustRun(wf, Svc(&p, false, &clock));
  EXPECT_EQ(s.status, "failed");
  EXPECT_EQ(p.Count("a"), 1);
}

TEST_F(EngineTest, TimeoutFailsTheAttemptAndRetries) {
  ManualClock clock;
  int n = 0;
  // The first call never answers until cancelled: it completes only when its cancel flag is set.
  class Hang : public llm::Provider {
   public:
    explicit Hang(int* n) : n_(n) {}
    std::string name() const override { return "fake"; }
    void Start(const llm::Request&, llm::CancelFlag cancel, llm::DeltaFn, llm::DoneFn done) override {
      if (++*n_ == 1) {
        threads_.emplace_back([cancel, done] {
          while (!cancel->load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          done(Err("cancelled", false));
        });
        return;
      }
      done(Ok("second time"));
    }
    ~Hang() override {
      for (auto& t : threads_) t.join();
    }
    int* n_;
    std::vector<std::thread> threads_;
  };
  Hang hang(&n);
  providers_.Add(std::shared_ptr<llm::Provider>(&hang, [](llm::Provider*) {}));
  registered_ = true;
  auto wf = Load("name: t\ndefaults: {model: fake/m}\nnodes:\n  a: {prompt: p, timeout: 30s, retry: {attempts: 2, backoff: 0s}}\n");
  auto s = MustRun(wf, Svc(nullptr, false, &clock));
  EXPECT_EQ(s.status, "succeeded");
  EXPECT_EQ(n, 2);
  EXPECT_EQ(s.outputs["a"], "second time");
}

TEST_F(EngineTest, BudgetStopsBeforeACallThatCouldExceedIt) {
  llm::Price price;
  price.input = 0.001;   // $ per token
  price.output = 0.001;
  prices_.Set("fake/m", price);
  FakeProvider p([](const llm::Request&) { return Ok("x", 20, 20); });
  // Each call reserves (input estimate + max_tokens 100) tokens at $0.001: about $0.13.
  auto wf = Load(R"(
name: budget
defaults: {model: fake/m, max_tokens: 100}
budget: {max_usd: 0.15}
nodes:
  a: {prompt: "one"}
  b: {needs: [a], prompt: "two"}
  c: {needs: [b], prompt: "three"}
)");
  auto s = MustRun(wf, Svc(&p, true));
  EXPECT_EQ(s.status, "failed");
  EXPECT_EQ(p.Calls().size(), 1u);
  EXPECT_LE(s.cost_usd, 0.15);
  EXPECT_NE(s.error.find("budget"), std::string::npos) << s.error;
  EXPECT_EQ(s.skipped, 1);  // c never starts
}

TEST_F(EngineTest, ModelCallCapStopsRunawayWork) {
  FakeProvider p([](const llm::Request&) { return Ok("x"); });
  auto wf = Load(R"(
name: cap
defaults: {model: fake/m}
nodes:
  a: {prompt: "1"}
  b: {needs: [a], prompt: "2"}
  c: {needs: [b], prompt: "3"}
)");
  RunOptions o;
  o.default_max_calls = 2;
  auto s = MustRun(wf, Svc(&p), o);
  EXPECT_EQ(s.status, "failed");
  EXPECT_EQ(p.Calls().size(), 2u);
  EXPECT_NE(s.error.find("call cap"), std::string::npos) << s.error;
}

TEST_F(EngineTest, LoopIsBoundedByMaxIterations) {
  FakeProvider p([](const llm::Request& r) {
    return Ok(r.node_id == "review" ? "{\"approved\": false}" : "draft " + std::to_string(r.iteration));
  });
  const char* yaml = R"(
name: loop
defaults: {model: fake/m}
nodes:
  brief: {prompt: "b"}
  dev: {needs: [brief], prompt: "write; feedback: {{nodes.review.output}}"}
  review:
    needs: [dev]
    output: json
    prompt: "review {{nodes.dev.output}}"
    loop: {to: dev, while: "nodes.review.json.approved == false", max_iterations: 3%s}
  ship: {needs: [review], prompt: "ship {{nodes.dev.output}}"}
)";
  char buf[1024];
  std::snprintf(buf, sizeof(buf), yaml, "");
  auto s = MustRun(Load(buf), Svc(&p));
  EXPECT_EQ(s.status, "succeeded");
  EXPECT_EQ(p.Count("brief"), 1);
  EXPECT_EQ(p.Count("dev"), 3);
  EXPECT_EQ(p.Count("review"), 3);
  EXPECT_EQ(p.Count("ship"), 1);
  bool warned = false;
  for (auto& w : s.warnings) warned |= w.find("max_iterations 3") != std::string::npos;
  EXPECT_TRUE(warned);
  // The developer's second iteration saw the reviewer's feedback.
  for (auto& c : p.Calls())
    if (c.node_id == "dev" && c.iteration == 1) EXPECT_NE(c.messages.back().content.find("approved"), std::string::npos);

  std::snprintf(buf, sizeof(buf), yaml, ", on_exhausted: fail");
  auto s2 = MustRun(Load(buf), Svc(&p));
  EXPECT_EQ(s2.status, "failed");
  EXPECT_NE(s2.error.find("max_iterations"), std::string::npos);
}

// The progress a run reports (the CLI's [n/N], the run row's nodes_succeeded) never goes
// backwards while a loop runs its body again: a node that succeeded stays counted.
TEST_F(EngineTest, ProgressNeverGoesBackwardsInALoop) {
  FakeProvider p([](const llm::Request& r) {
    if (r.node_id == "review") return Ok(r.iteration >= 2 ? "{\"approved\": true}" : "{\"approved\": false}");
    return Ok("draft");
  });
  struct Recorder : Listener {
    std::vector<int> succeeded;
    void OnEvent(const LiveEvent&, const Progress& pr) override { succeeded.push_back(pr.succeeded); }
  } rec;
  RunOptions o;
  o.listener = &rec;
  auto s = MustRun(Load(R"(
name: loop3
defaults: {model: fake/m}
nodes:
  brief: {prompt: "b"}
  dev: {needs: [brief], prompt: "write"}
  review: {needs: [dev], output: json, prompt: "r", loop: {to: dev, while: "!nodes.review.json.approved", max_iterations: 5}}
  ship: {needs: [review], prompt: "ship"}
)"), Svc(&p), std::move(o));
  EXPECT_EQ(s.status, "succeeded");
  EXPECT_EQ(p.Count("dev"), 3);
  ASSERT_FALSE(rec.succeeded.empty());
  for (size_t i = 1; i < rec.succeeded.size(); ++i) EXPECT_GE(rec.succeeded[i], rec.succeeded[i - 1]) << i;
  EXPECT_EQ(rec.succeeded.back(), 4);
}

/// Snapshots records every event a listener sees with the progress that came with it.
struct Snapshots : Listener {
  std::vector<std::pair<LiveEvent, Progress>> seen;
  void OnEvent(const LiveEvent& e, const Progress& pr) override { seen.emplace_back(e, pr); }
};

// The first event's elapsed is measured from the run's start, not from the monotonic clock's
// origin (the machine's uptime: the first status line once said 24m27s).
TEST_F(EngineTest, ElapsedOfTheFirstEventIsFromTheRunsStart) {
  FakeProvider p([](const llm::Request&) { return Ok("x"); });
  ManualClock clock(86400.0);  // a machine up for a day
  Snapshots rec;
  RunOptions o;
  o.listener = &rec;
  MustRun(Load("name: one\ndefaults: {model: fake/m}\nnodes:\n  a: {prompt: \"p\"}\n"), Svc(&p, false, &clock),
          std::move(o));
  ASSERT_FALSE(rec.seen.empty());
  EXPECT_EQ(rec.seen.front().first.type, "run_started");
  for (const auto& [e, pr] : rec.seen) {
    EXPECT_GE(pr.elapsed, 0) << e.type;
    EXPECT_LT(pr.elapsed, 60) << e.type;
  }
}

// Nodes in flight count as running from their start: two branches launched together are
// both counted while the first one runs.
TEST_F(EngineTest, ProgressCountsEveryNodeInFlightAsRunning) {
  FakeProvider p([](const llm::Request&) { return Ok("x"); }, /*async=*/true);
  Snapshots rec;
  RunOptions o;
  o.listener = &rec;
  auto s = MustRun(Load(R"(
name: fan
defaults: {model: fake/m}
nodes:
  a: {prompt: "a"}
  b: {needs: [a], prompt: "b"}
  c: {needs: [a], prompt: "c"}
)"), Svc(&p), std::move(o));
  EXPECT_EQ(s.status, "succeeded");
  int most = 0;
  for (const auto& [e, pr] : rec.seen) {
    if (e.type == "attempt_started") {
      EXPECT_GE(pr.running, 1) << e.node;
    }
    most = std::max(most, pr.running);
    EXPECT_LE(pr.done + pr.running, pr.total) << e.type << " " << e.node;
  }
  EXPECT_EQ(most, 2);
  EXPECT_EQ(rec.seen.back().second.running, 0);
  EXPECT_EQ(rec.seen.back().second.done, 3);
}

// done/total never goes backwards while a loop goes round, also for a node of the body that
// was skipped (it is pending again in the next round), and the rounds show in loops.
TEST_F(EngineTest, DoneNeverGoesBackwardsAndLoopRoundsShow) {
  FakeProvider p([](const llm::Request& r) {
    if (r.node_id == "review") return Ok(r.iteration >= 2 ? "{\"approved\": true}" : "{\"approved\": false}");
    if (r.node_id == "decide") return Ok("{\"go\": false}");
    return Ok("draft");
  });
  Snapshots rec;
  RunOptions o;
  o.listener = &rec;
  auto s = MustRun(Load(R"(
name: loopskip
defaults: {model: fake/m}
nodes:
  decide: {output: json, prompt: "d"}
  dev: {needs: [decide], prompt: "write"}
  extra: {needs: [dev], when: "nodes.decide.json.go == true", prompt: "x"}
  review: {needs: [dev, extra], output: json, prompt: "r", loop: {to: dev, while: "!nodes.review.json.approved", max_iterations: 5}}
  ship: {needs: [review], prompt: "ship"}
)"), Svc(&p), std::move(o));
  EXPECT_EQ(s.status, "succeeded");
  EXPECT_EQ(p.Count("dev"), 3);
  ASSERT_FALSE(rec.seen.empty());
  std::set<int> rounds;
  for (size_t i = 1; i < rec.seen.size(); ++i) {
    const Progress& pr = rec.seen[i].second;
    EXPECT_GE(pr.done, rec.seen[i - 1].second.done) << i << " " << rec.seen[i].first.type;
    EXPECT_LE(pr.done, pr.total);
    for (const auto& l : pr.loops) {
      EXPECT_EQ(l.node, "review");
      EXPECT_EQ(l.max, 5);
      rounds.insert(l.round);
    }
  }
  EXPECT_EQ(rounds, (std::set<int>{2, 3}));
  EXPECT_EQ(rec.seen.back().second.done, 5);
  EXPECT_TRUE(rec.seen.back().second.loops.empty());
}

// A map node in flight reports its items: finished, running, all.
TEST_F(EngineTest, ProgressReportsAMapsItems) {
  FakeProvider p([](const llm::Request& r) {
    if (r.node_id == "list") return Ok("[1, 2, 3, 4, 5]");
    return Ok("done");
  });
  Snapshots rec;
  RunOptions o;
  o.listener = &rec;
  auto s = MustRun(Load(R"(
name: fan
defaults: {model: fake/m}
nodes:
  list: {output: json, prompt: "l"}
  each: {needs: [list], map: {over: nodes.list.json, as: x, max_parallel: 2}, prompt: "{{x}}"}
)"), Svc(&p), std::move(o));
  EXPECT_EQ(s.status, "succeeded");
  std::vector<int> done_items;
  for (const auto& [e, pr] : rec.seen) {
    if (e.type != "item_succeeded") continue;
    ASSERT_EQ(pr.maps.size(), 1u);
    EXPECT_EQ(pr.maps[0].node, "each");
    EXPECT_EQ(pr.maps[0].total, 5);
    EXPECT_LE(pr.maps[0].running, 2);
    done_items.push_back(pr.maps[0].done);
  }
  EXPECT_EQ(done_items, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(rec.seen.back().second.maps.empty());
}

TEST_F(EngineTest, LoopEndsWhenConditionTurnsFalse) {
  FakeProvider p([](const llm::Request& r) {
    if (r.node_id == "review") return Ok(r.iteration >= 1 ? "{\"approved\": true}" : "{\"approved\": false}");
    return Ok("draft");
  });
  auto wf = Load(R"(
name: loop2
defaults: {model: fake/m}
nodes:
  dev: {prompt: "w"}
  review: {needs: [dev], output: json, prompt: "r", loop: {to: dev, while: "!nodes.review.json.approved", max_iterations: 5}}
)");
  auto s = MustRun(wf, Svc(&p));
  EXPECT_EQ(s.status, "succeeded");
  EXPECT_EQ(p.Count("review"), 2);
  for (auto& w : s.warnings) EXPECT_EQ(w.find("max_iterations"), std::string::npos) << w;
}

TEST_F(EngineTest, MapFansOutAndCollectsOutputsInOrder) {
  FakeProvider p([](const llm::Request& r) {
    if (r.node_id == "list") return Ok("[\"a\", \"b\", \"c\", \"d\"]");
    return Ok("item:" + r.messages.back().content);
  }, true);
  auto wf = Load(R"(
name: map
defaults: {model: fake/m}
nodes:
  list: {prompt: "l", output: json}
  each: {needs: [list], map: {over: nodes.list.json, as: x, max_parallel: 2}, prompt: "{{x}}"}
  join: {needs: [each], prompt: "{{nodes.each.json.2}}"}
)");
  auto s = MustRun(wf, Svc(&p));
  EXPECT_EQ(s.status, "succeeded");
  EXPECT_EQ(s.outputs["each"], json::parse(R"(["item:a","item:b","item:c","item:d"])"));
  EXPECT_LE(p.peak(), 2);
  EXPECT_EQ(p.Calls().back().messages.back().content, "item:c");
}

TEST_F(EngineTest, JsonOutputIsCheckedAgainstTheSchema) {
  int n = 0;
  FakeProvider p([&](const llm::Request&) { return Ok(++n == 1 ? "{\"count\": \"three\"}" : "```json\n{\"count\": 3}\n```"); });
  auto wf = Load(R"(
name: schema
defaults: {model: fake/m}
nodes:
  a:
    prompt: p
    output: json
    schema: {type: object, required: [count], properties: {count: {type: integer}}}
    retry: {attempts: 2, backoff: 0s}
)");
  auto s = MustRun(wf, Svc(&p));
  EXPECT_EQ(s.status, "succeeded");
  EXPECT_EQ(s.outputs["a"]["count"], 3);
  EXPECT_EQ(n, 2);
}

TEST_F(EngineTest, CacheMakesAnUnchangedRerunFree) {
  FakeProvider p([](const llm::Request& r) { return Ok("out " + r.node_id); });
  auto wf = Load(R"(
name: cache
defaults: {model: fake/m}
nodes:
  a: {prompt: "x"}
  b: {needs: [a], prompt: "{{nodes.a.output}}"}
)");
  auto s1 = MustRun(wf, Svc(&p, true));
  EXPECT_EQ(p.Calls().size(), 2u);
  auto s2 = MustRun(wf, Svc(&p, true));
  EXPECT_EQ(s2.status, "succeeded");
  EXPECT_EQ(p.Calls().size(), 2u);  // zero new calls
  EXPECT_EQ(s2.calls, 0);
  EXPECT_EQ(s2.outputs, s1.outputs);
  RunOptions o;
  o.use_cache = false;
  MustRun(wf, Svc(&p, true), o);
  EXPECT_EQ(p.Calls().size(), 4u);
}

TEST_F(EngineTest, ResumeRerunsOnlyWhatDidNotFinish) {
  bool broken = true;
  FakeProvider p([&](const llm::Request& r) {
    if (r.node_id == "b" && broken) return Err("provider down", false);
    return Ok("out " + r.node_id);
  });
  auto wf = Load(R"(
name: resume
defaults: {model: fake/m}
nodes:
  a: {prompt: "x", cache: false}
  b: {needs: [a], prompt: "{{nodes.a.output}}", cache: false}
  c: {needs: [b], prompt: "{{nodes.b.output}}", cache: false}
)");
  auto s = MustRun(wf, Svc(&p, true));
  EXPECT_EQ(s.status, "failed");
  EXPECT_EQ(p.Count("a"), 1);
  broken = false;
  auto r = Resume(s.run_id, wf, Svc(&p, true), RunOptions{});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, "succeeded");
  EXPECT_EQ(p.Count("a"), 1);  // never re-run
  EXPECT_EQ(p.Count("b"), 2);
  EXPECT_EQ(p.Count("c"), 1);
  EXPECT_EQ(r->calls, 4);  // spend of the first attempt is kept
  EXPECT_EQ(r->outputs["c"], "out c");
}

TEST_F(EngineTest, HumanGateWaitsThenResumesAfterApproval) {
  FakeProvider p([](const llm::Request& r) { return Ok("out " + r.node_id); });
  auto wf = Load(R"(
name: gate
defaults: {model: fake/m}
nodes:
  a: {prompt: "x"}
  gate: {kind: human, needs: [a], message: "ok {{nodes.a.output}}?"}
  b: {needs: [gate], prompt: "go"}
)");
  auto s = MustRun(wf, Svc(&p, true));
  EXPECT_EQ(s.status, "waiting");
  ASSERT_EQ(s.waiting.size(), 1u);
  auto approvals = Store()->ListApprovals(s.run_id);
  ASSERT_TRUE(approvals.ok());
  ASSERT_EQ(approvals->size(), 1u);
  EXPECT_EQ((*approvals)[0].decision, "pending");
  EXPECT_EQ((*approvals)[0].text, "ok out a?");
  store::Batch b;
  auto a = (*approvals)[0];
  a.decision = "approved";
  a.by = "cli";
  b.approvals.push_back(a);
  ASSERT_TRUE(Store()->Commit(b).ok());
  auto r = Resume(s.run_id, wf, Svc(&p, true), RunOptions{});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, "succeeded");
  EXPECT_EQ(p.Count("a"), 1);
  EXPECT_EQ(p.Count("b"), 1);

  RunOptions yes;
  yes.auto_approve = true;
  yes.use_cache = false;
  EXPECT_EQ(MustRun(wf, Svc(&p, true), yes).status, "succeeded");
}

TEST_F(EngineTest, ToolNodeAndSubWorkflow) {
  FakeProvider p([](const llm::Request& r) { return Ok("sub says " + r.messages.back().content); });
  std::ofstream(dir_ + "/child.yaml") << R"(
name: child
inputs: {topic: {type: string}}
defaults: {model: fake/m}
nodes:
  write: {prompt: "about {{inputs.topic}}"}
)";
  auto wf = Load(R"(
name: parent
nodes:
  echo: {kind: tool, tool: "builtin://echo", args: {text: "hello {{inputs.who}}"}}
  sub: {kind: workflow, needs: [echo], workflow: child.yaml, with: {topic: "{{nodes.echo.output}}"}}
inputs: {who: {type: string, default: world}}
)");
  RunOptions o;
  o.inputs = json{{"who", "world"}};
  auto s = MustRun(wf, Svc(&p, true), o);
  EXPECT_EQ(s.status, "succeeded") << s.error;
  EXPECT_EQ(s.outputs["echo"], "hello world");
  EXPECT_EQ(s.outputs["sub"]["output"], "sub says about hello world");
  EXPECT_EQ(s.calls, 1);
  auto runs = Store()->ListRuns(10, true);
  ASSERT_TRUE(runs.ok());
  bool child = false;
  for (auto& r : *runs) child |= r.parent_id == s.run_id;
  EXPECT_TRUE(child);
}

TEST_F(EngineTest, EventsAreRecordedForEveryStateChange) {
  FakeProvider p([](const llm::Request&) { return Ok("x"); });
  auto wf = Load("name: ev\ndefaults: {model: fake/m}\nnodes:\n  a: {prompt: p}\n");
  auto s = MustRun(wf, Svc(&p, true));
  auto ev = Store()->ListEvents(s.run_id);
  ASSERT_TRUE(ev.ok());
  std::vector<std::string> types;
  for (auto& e : *ev) types.push_back(e.type);
  std::vector<std::string> want = {"run_started", "definitions", "node_started", "attempt_started", "node_succeeded",
                                   "run_finished"};
  EXPECT_EQ(types, want);
  auto calls = Store()->ListLlmCalls(s.run_id);
  ASSERT_TRUE(calls.ok());
  ASSERT_EQ(calls->size(), 1u);
  // What offline replay needs: the request's fingerprint and the neutral reply.
  EXPECT_EQ((*calls)[0].request_hash.size(), 32u);
  auto reply = Store()->GetBlob((*calls)[0].reply_blob);
  ASSERT_TRUE(reply.ok());
  EXPECT_NE(reply->find("\"text\":\"x\""), std::string::npos) << *reply;
  EXPECT_FALSE((*calls)[0].cost_usd.has_value());  // unknown price is unknown, not zero
  auto req = Store()->GetBlob((*calls)[0].request_blob);
  ASSERT_TRUE(req.ok());
  EXPECT_NE(req->find("\"content\":\"p\""), std::string::npos);
}

TEST_F(EngineTest, NestedLoopCountsAfreshEachOuterRound) {
  FakeProvider p([&](const llm::Request& r) {
    if (r.node_id == "b" || r.node_id == "c") return Ok("{\"again\": true}");
    return Ok("x");
  });
  auto wf = Load(R"(
name: nested
defaults: {model: fake/m}
nodes:
  a: {prompt: "a"}
  b: {needs: [a], prompt: "b", output: json, loop: {to: b, while: "nodes.b.json.again", max_iterations: 2}}
  c: {needs: [b], prompt: "c", output: json, loop: {to: a, while: "nodes.c.json.again", max_iterations: 3}}
)");
  auto s = MustRun(wf, Svc(&p));
  EXPECT_EQ(s.status, "succeeded") << s.error;
  EXPECT_EQ(p.Count("a"), 3);
  EXPECT_EQ(p.Count("b"), 6);  // two inner rounds in each of three outer rounds
  EXPECT_EQ(p.Count("c"), 3);
}

TEST_F(EngineTest, ResumeCountsWhatSubRunsPaidBeforeAndKeepsTheBudget) {
  llm::Price price;
  price.input = 0.001;
  price.output = 0.001;
  prices_.Set("fake/m", price);
  bool broken = true;
  FakeProvider p([&](const llm::Request& r) {
    if (r.node_id == "after" && broken) return Err("down", false);
    return Ok("x", 20, 20);
  });
  std::ofstream(dir_ + "/child2.yaml")
      << "name: child\ndefaults: {model: fake/m, max_tokens: 50}\nnodes:\n  w1: {prompt: \"w\", cache: false}\n"
         "  w2: {prompt: \"v\", cache: false}\n";
  auto wf = Load(R"(
name: parent
defaults: {model: fake/m, max_tokens: 50}
budget: {max_usd: 0.15}
nodes:
  sub: {kind: workflow, workflow: child2.yaml}
  after: {needs: [sub], prompt: "after", cache: false}
  after2: {needs: [after], prompt: "after2", cache: false}
)");
  auto s = MustRun(wf, Svc(&p, true));
  ASSERT_EQ(s.status, "failed");
  EXPECT_NEAR(s.cost_usd, 0.08, 1e-9);  // the child's two calls
  broken = false;
  auto r = Resume(s.run_id, wf, Svc(&p, true), RunOptions{});
  ASSERT_TRUE(r.ok());
  double paid = 0;
  int64_t calls = 0;
  auto runs = Store()->ListRuns(100, true);
  ASSERT_TRUE(runs.ok());
  for (auto& run : *runs) {
    auto cs = Store()->ListLlmCalls(run.id);
    ASSERT_TRUE(cs.ok());
    for (auto& c : *cs) {
      paid += c.cost_usd.value_or(0);
      ++calls;
    }
  }
  EXPECT_LE(paid, 0.15 + 1e-9) << "resume must not forget what the sub-run paid";
  EXPECT_NEAR(r->cost_usd, paid, 1e-9);
  EXPECT_EQ(r->calls, calls);
  EXPECT_NE(r->status, "succeeded");  // after2 would pass max_usd
}

TEST_F(EngineTest, ResumedSubRunReportsOnlyNewSpend) {
  llm::Price price;
  price.input = 0.001;
  price.output = 0.001;
  prices_.Set("fake/m", price);
  bool broken = true;
  FakeProvider p([&](const llm::Request& r) {
    if (r.node_id == "w2" && broken) return Err("down", false);
    return Ok("x", 20, 20);
  });
  std::ofstream(dir_ + "/child3.yaml")
      << "name: child\ndefaults: {model: fake/m, max_tokens: 50}\nnodes:\n  w1: {prompt: \"w\", cache: false}\n"
         "  w2: {needs: [w1], prompt: \"v\", cache: false}\n";
  auto wf = Load(R"(
name: parent
defaults: {model: fake/m, max_tokens: 50}
nodes:
  first: {prompt: "first", cache: false}
  sub: {kind: workflow, workflow: child3.yaml, needs: [first]}
)");
  auto s = MustRun(wf, Svc(&p, true));
  ASSERT_EQ(s.status, "failed");
  broken = false;
  auto r = Resume(s.run_id, wf, Svc(&p, true), RunOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, "succeeded") << r->error;
  int64_t calls = 0;
  double paid = 0;
  auto runs = Store()->ListRuns(100, true);
  ASSERT_TRUE(runs.ok());
  for (auto& run : *runs) {
    auto cs = Store()->ListLlmCalls(run.id);
    ASSERT_TRUE(cs.ok());
    for (auto& c : *cs) {
      paid += c.cost_usd.value_or(0);
      ++calls;
    }
  }
  EXPECT_EQ(calls, 4);  // first, w1, failed w2, w2
  EXPECT_EQ(r->calls, calls);
  EXPECT_NEAR(r->cost_usd, paid, 1e-9);
}

TEST_F(EngineTest, CallsInFlightDelayAReservationInsteadOfFailingARunThatFits) {
  llm::Price price;
  price.input = 0.001;
  price.output = 0.001;
  prices_.Set("fake/m", price);
  FakeProvider p(
      [&](const llm::Request&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        return Ok("x", 20, 20);  // $0.04 each; the worst case reserved is about $0.07
      },
      true);
  auto s = MustRun(Load(R"(
name: par
defaults: {model: fake/m, max_tokens: 50}
budget: {max_usd: 0.16}
concurrency: 3
nodes:
  a: {prompt: "a", cache: false}
  b: {prompt: "b", cache: false}
  c: {prompt: "c", cache: false}
)"),
                   Svc(&p, false));
  EXPECT_EQ(s.status, "succeeded") << s.error;
  EXPECT_NEAR(s.cost_usd, 0.12, 1e-9);
  // A fourth call would not fit even with nothing in flight: that still stops the run.
  auto t = MustRun(Load(R"(
name: par4
defaults: {model: fake/m, max_tokens: 50}
budget: {max_usd: 0.16}
concurrency: 4
nodes:
  a: {prompt: "a", cache: false}
  b: {prompt: "b", cache: false}
  c: {prompt: "c", cache: false}
  d: {prompt: "d", cache: false}
)"),
                   Svc(&p, false));
  EXPECT_EQ(t.status, "failed");
  EXPECT_LE(t.cost_usd, 0.16 + 1e-9);
}

}  // namespace
}  // namespace sw::engine

// ---- replay ----

namespace sw::engine {
namespace {

TEST_F(EngineTest, ReplayPlanTakesExactlyTheDownstreamSetAndLoopRoundsAfterTheFirst) {
  auto wf = Load(R"(
name: plan
inputs: {tone: {type: string, default: plain}}
defaults: {model: fake/m}
nodes:
  a: {prompt: "a"}
  side: {needs: [a], prompt: "side {{inputs.tone}}"}
  draft: {needs: [a], prompt: "draft {{nodes.review.output}}"}
  polish: {needs: [draft], prompt: "polish {{nodes.draft.output}}"}
  review:
    needs: [polish]
    prompt: "review {{nodes.polish.output}}"
    loop: {to: draft, while: "nodes.review.output == 'again'", max_iterations: 3}
  end: {needs: [review, side], prompt: "end"}
)");
  ReplayChanges from_polish;
  from_polish.from = {"polish"};
  auto p = PlanReplay(wf, from_polish, DefinitionsJson(*wf));
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->live, (std::vector<std::string>{"polish", "review", "end"}));
  // draft is above the change inside the loop: its first round is reused, later rounds read
  // the new review and run live.
  EXPECT_EQ(p->reuse.at("draft"), 0);
  EXPECT_GT(p->reuse.at("a"), 1000);
  EXPECT_GT(p->reuse.at("side"), 1000);
  EXPECT_TRUE(p->drift.empty());

  ReplayChanges tone;
  tone.inputs = {"tone"};
  p = PlanReplay(wf, tone, DefinitionsJson(*wf));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->changed, (std::vector<std::string>{"side"}));
  EXPECT_EQ(p->live, (std::vector<std::string>{"side", "end"}));

  ReplayChanges model;
  model.models = {{"a", "fake/bigger"}};
  p = PlanReplay(wf, model, DefinitionsJson(*wf));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->live.size(), wf->nodes.size());
  EXPECT_EQ(p->workflow->Find("a")->model.model, "fake/bigger");
  EXPECT_NE(p->workflow->Find("a")->definition_hash, wf->Find("a")->definition_hash);

  // Drift: a reusable node whose recorded definition differs.
  json defs = DefinitionsJson(*wf);
  defs["a"]["hash"] = "changed";
  defs["polish"]["hash"] = "changed";  // downstream of --from: runs live, so no drift
  p = PlanReplay(wf, from_polish, defs);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->drift, (std::vector<std::string>{"a"}));

  ReplayChanges bad;
  bad.from = {"polsh"};
  auto e = PlanReplay(wf, bad, defs);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("did you mean \"polish\""), std::string::npos) << e.status().message();
  bad = {};
  bad.models = {{"a", "nomodel"}};
  EXPECT_FALSE(PlanReplay(wf, bad, defs).ok());
  bad = {};
  bad.prompt_text = {{"polish", "{{nodes.end.output}}"}};
  e = PlanReplay(wf, bad, defs);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("not upstream of \"polish\""), std::string::npos) << e.status().message();
}

TEST_F(EngineTest, ReusedNodesMakeNoCallsAndCarryTheStoredOutputs) {
  std::atomic<int> round{0};
  FakeProvider p([&](const llm::Request& r) {
    if (r.node_id == "review") return Ok(r.iteration == 0 && round.load() == 0 ? "again" : "done");
    return Ok(r.node_id + "@" + std::to_string(r.iteration) + "#" + std::to_string(round.load()));
  });
  auto wf = Load(R"(
name: reuse
defaults: {model: fake/m}
nodes:
  a: {prompt: "a"}
  draft: {needs: [a], prompt: "draft {{nodes.a.output}} {{nodes.review.output}}"}
  review:
    needs: [draft]
    prompt: "review {{nodes.draft.output}}"
    loop: {to: draft, while: "nodes.review.output == 'again'", max_iterations: 3}
)");
  RunOptions o;
  o.run_id = "src";
  auto src = MustRun(wf, Svc(&p, true), o);
  ASSERT_EQ(src.status, "succeeded") << src.error;
  ASSERT_EQ(p.Calls().size(), 5u);  // a, draft x2, review x2
  round = 1;
  ReplayChanges ch;
  ch.from = {"review"};
  auto plan = PlanReplay(wf, ch, DefinitionsJson(*wf));
  ASSERT_TRUE(plan.ok());
  RunOptions r;
  r.run_id = "again";
  r.use_cache = false;
  r.reuse_from = "src";
  r.reuse = plan->reuse;
  auto s = MustRun(plan->workflow, Svc(&p, true), r);
  ASSERT_EQ(s.status, "succeeded") << s.error;
  std::vector<std::string> live;
  for (size_t i = 5; i < p.Calls().size(); ++i)
    live.push_back(p.Calls()[i].node_id + "@" + std::to_string(p.Calls()[i].iteration));
  // a and draft's first round come from the store; review now says done at once.
  EXPECT_EQ(live, (std::vector<std::string>{"review@0"}));
  EXPECT_EQ(s.outputs["draft"], "draft@0#0");
  auto ev = Store()->ListEventsOfType("again", "reused");
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->size(), 2u);
}

}  // namespace
}  // namespace sw::engine

namespace sw::engine {
namespace {

// A provider that bills more than a call's reservation (its tokenizer counted more than the
// bytes sent) makes every later worst case larger by the ratio it overran.
TEST(BudgetAccountTest, AnOverrunScalesLaterWorstCases) {
  workflow::Budget limits;
  limits.max_usd = 1.0;
  limits.policy = workflow::BudgetPolicy::kStop;
  BudgetAccount a("run", limits, nullptr);
  std::string warning;
  Reservation r{0.1, 10, true};
  ASSERT_EQ(a.Reserve(r, &warning), "");
  a.Settle(r, 0.3, 30, true);  // three times the worst case
  EXPECT_NE(a.Reserve(Reservation{0.3, 10, true}, &warning), "") << "0.3 + 3 x 0.3 > 1";
  Reservation small{0.2, 10, true};
  EXPECT_EQ(a.Reserve(small, &warning), "") << "0.3 + 3 x 0.2 <= 1";
  EXPECT_NE(a.Reserve(Reservation{0.05, 1, true}, &warning), "") << "in flight counts scaled too: 0.3 + 0.6 + 0.15";
  a.Settle(small, 0.2, 10, true);
  EXPECT_DOUBLE_EQ(a.spent_usd(), 0.5);
}

// A price nobody knows refuses a max_usd call, but that is not the budget running out; a
// refusal for good is, and a run's error names it only when the run failed of it.
TEST(BudgetAccountTest, AnUnknownPriceIsNotABudgetStop) {
  workflow::Budget limits;
  limits.max_usd = 1.0;
  limits.policy = workflow::BudgetPolicy::kStop;
  BudgetAccount a("run", limits, nullptr);
  std::string warning;
  std::string why = a.Reserve(Reservation{0, 10, false}, &warning);
  EXPECT_NE(why.find("price is unknown"), std::string::npos) << why;
  EXPECT_FALSE(a.refused());
  EXPECT_FALSE(a.RefusalIn("node \"a\" failed: " + why));
  std::string over = a.Reserve(Reservation{2.0, 10, true}, &warning);
  ASSERT_NE(over, "");
  EXPECT_TRUE(a.refused());
  EXPECT_TRUE(a.RefusalIn("node \"sub\" failed: sub-run failed: " + over));
  EXPECT_FALSE(a.RefusalIn("node \"t\" failed: no such file"));
}

}  // namespace
}  // namespace sw::engine
