// The Store's semantics, the same on every backend: each test runs against SQLite (a fresh
// directory) and PostgreSQL (a fresh database of the test cluster, tests/pg_test_db.h).
// Backend-specific behaviour is in sqlite_store_test.cc and pg_test.cc.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/hash.h"
#include "store/pg.h"
#include "store/pg_store.h"
#include "store/store.h"
#include "store/store_test_util.h"
#include "tests/isolated_env.h"
#include "tests/pg_test_db.h"

namespace sw::store {
namespace {

/// StoreTest opens a fresh store of the backend its parameter names ("sqlite" or
/// "postgresql") and removes it afterwards.
class StoreTest : public ::testing::TestWithParam<std::string>, public StoreTestHelpers {
 protected:
  using StoreTestHelpers::Run;  // not gtest's Test::Run
  bool pg() const { return GetParam() == "postgresql"; }

  void SetUp() override {
    if (pg()) {
      db_ = std::make_unique<testpg::TempPgDatabase>();
      SW_REQUIRE_PG(*db_);
      location_ = db_->url();
    } else {
      char tmpl[] = "/tmp/sw_store_test.XXXXXX";
      ASSERT_NE(mkdtemp(tmpl), nullptr);
      dir_ = tmpl;
      location_ = dir_;
    }
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Store> Open(const StoreOptions& options = {}) {
    auto s = OpenStore(location_, options);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  /// BehindTheBack runs SQL on the store's database without the store (a trigger, a row
  /// planted to break something): sqlite_sql or pg_sql by backend.
  void BehindTheBack(const std::string& sqlite_sql, const std::string& pg_sql) {
    if (pg()) {
      auto conn = pg::Conn::Open(location_);
      ASSERT_TRUE(conn.ok()) << conn.status().message();
      Status s = (*conn)->ExecScript(pg_sql);
      ASSERT_TRUE(s.ok()) << s.message();
      return;
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(SqliteDatabasePath(dir_).c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sqlite_sql.c_str(), nullptr, nullptr, &err);
    std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }

  std::unique_ptr<testpg::TempPgDatabase> db_;
  std::string dir_;
  std::string location_;  // the directory or the URL
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST_P(StoreTest, RoundTripsEveryRecordType) {
  auto s = Open();
  Batch b;
  RunRecord run = Run("r1", 100);
  run.workflow_file = "/abs/flow.yaml";
  run.workflow_hash = "abc";
  run.status = "succeeded";
  run.finished_at = 200.25;
  run.inputs_json = R"({"x":1})";
  run.options_json = R"({"no_cache":true})";
  run.error = "boom";
  run.pid = 4242;
  run.tokens_in = 10;
  run.tokens_out = 20;
  run.calls = 3;
  run.cost_usd = 0.125;
  run.nodes_total = 7;
  run.nodes_succeeded = 4;
  run.nodes_failed = 1;
  run.nodes_skipped = 2;
  b.run = run;

  Event e = Ev("r1", "node_started");
  e.node = "plan";
  e.iteration = 2;
  e.item = 3;
  e.attempt = 1;
  e.data = R"({"k":"v"})";
  b.events.push_back(e);

  NodeRunRecord n;
  n.run_id = "r1";
  n.node = "plan";
  n.iteration = 1;
  n.item = 4;
  n.attempt = 2;
  n.status = "succeeded";
  n.started_at = 1;
  n.finished_at = 2;
  n.tokens_in = 5;
  n.tokens_out = 6;
  n.cost_usd = 0.5;
  n.calls = 1;
  n.model = "gpt";
  n.error = "";
  n.output_blob = Hash128Hex("out");
  n.cached = true;
  b.node_runs.push_back(n);

  LlmCallRecord c;
  c.run_id = "r1";
  c.node = "plan";
  c.iteration = 1;
  c.item = 4;
  c.attempt = 2;
  c.provider = "openai";
  c.model = "gpt";
  c.tokens_in = 11;
  c.tokens_out = 12;
  c.tokens_cached_read = 13;
  c.tokens_cache_write = 14;
  c.tokens_reasoning = 15;
  c.cost_usd = 0.01;
  c.started_at = 3;
  c.latency_ms = 250;
  c.ttft_ms = 40;
  c.status = "ok";
  c.request_blob = Hash128Hex("req");
  c.response_blob = Hash128Hex("resp");
  b.llm_calls.push_back(c);

  b.artifacts.push_back(ArtifactRecord{"r1", "docs/spec.md", "text/markdown", Hash128Hex("spec"), "plan",
                                       R"(["brief"])", 9});
  b.approvals.push_back(ApprovalRecord{"r1", "gate", 0, -1, "approved", "lgtm", "cli", 10});
  b.cache.push_back(CacheEntry{"key1", Hash128Hex("out"), "plan", "gpt", 5, 6, 0.5, 11});
  b.blobs.emplace_back(Hash128Hex("out"), "out");
  ASSERT_TRUE(s->Commit(b).ok());
  EXPECT_GT(b.events[0].seq, 0);
  EXPECT_GT(b.llm_calls[0].id, 0);

  auto got_run = s->GetRun("r1");
  ASSERT_TRUE(got_run.ok() && got_run->has_value());
  const RunRecord& r = **got_run;
  EXPECT_EQ(r.id, "r1");
  EXPECT_EQ(r.workflow_file, run.workflow_file);
  EXPECT_EQ(r.workflow_name, "wf");
  EXPECT_EQ(r.workflow_hash, "abc");
  EXPECT_EQ(r.status, "succeeded");
  EXPECT_EQ(r.created_at, 100);
  EXPECT_EQ(r.finished_at, 200.25);
  EXPECT_EQ(r.inputs_json, run.inputs_json);
  EXPECT_EQ(r.options_json, run.options_json);
  EXPECT_EQ(r.error, "boom");
  EXPECT_EQ(r.pid, 4242);
  EXPECT_EQ(r.tokens_in, 10);
  EXPECT_EQ(r.tokens_out, 20);
  EXPECT_EQ(r.calls, 3);
  EXPECT_EQ(r.cost_usd, 0.125);
  EXPECT_EQ(r.nodes_total, 7);
  EXPECT_EQ(r.nodes_succeeded, 4);
  EXPECT_EQ(r.nodes_failed, 1);
  EXPECT_EQ(r.nodes_skipped, 2);
  EXPECT_FALSE(r.cancel_requested);
  auto missing = s->GetRun("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  auto events = s->ListEvents("r1");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  const Event& ge = (*events)[0];
  EXPECT_EQ(ge.seq, b.events[0].seq);
  EXPECT_EQ(ge.run_id, "r1");
  EXPECT_EQ(ge.ts, 1.5);
  EXPECT_EQ(ge.type, "node_started");
  EXPECT_EQ(ge.node, "plan");
  EXPECT_EQ(ge.iteration, 2);
  EXPECT_EQ(ge.item, 3);
  EXPECT_EQ(ge.attempt, 1);
  EXPECT_EQ(ge.data, e.data);

  auto nodes = s->ListNodeRuns("r1");
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 1u);
  const NodeRunRecord& gn = (*nodes)[0];
  EXPECT_EQ(gn.node, "plan");
  EXPECT_EQ(gn.iteration, 1);
  EXPECT_EQ(gn.item, 4);
  EXPECT_EQ(gn.attempt, 2);
  EXPECT_EQ(gn.status, "succeeded");
  EXPECT_EQ(gn.started_at, 1);
  EXPECT_EQ(gn.finished_at, 2);
  EXPECT_EQ(gn.tokens_in, 5);
  EXPECT_EQ(gn.tokens_out, 6);
  EXPECT_EQ(gn.cost_usd, 0.5);
  EXPECT_EQ(gn.calls, 1);
  EXPECT_EQ(gn.model, "gpt");
  EXPECT_EQ(gn.output_blob, n.output_blob);
  EXPECT_TRUE(gn.cached);

  auto calls = s->ListLlmCalls("r1");
  ASSERT_TRUE(calls.ok());
  ASSERT_EQ(calls->size(), 1u);
  const LlmCallRecord& gc = (*calls)[0];
  EXPECT_EQ(gc.id, b.llm_calls[0].id);
  EXPECT_EQ(gc.node, "plan");
  EXPECT_EQ(gc.iteration, 1);
  EXPECT_EQ(gc.item, 4);
  EXPECT_EQ(gc.attempt, 2);
  EXPECT_EQ(gc.provider, "openai");
  EXPECT_EQ(gc.model, "gpt");
  EXPECT_EQ(gc.tokens_in, 11);
  EXPECT_EQ(gc.tokens_out, 12);
  EXPECT_EQ(gc.tokens_cached_read, 13);
  EXPECT_EQ(gc.tokens_cache_write, 14);
  EXPECT_EQ(gc.tokens_reasoning, 15);
  ASSERT_TRUE(gc.cost_usd.has_value());
  EXPECT_EQ(*gc.cost_usd, 0.01);
  EXPECT_EQ(gc.started_at, 3);
  EXPECT_EQ(gc.latency_ms, 250);
  EXPECT_EQ(gc.ttft_ms, 40);
  EXPECT_EQ(gc.status, "ok");
  EXPECT_EQ(gc.request_blob, c.request_blob);
  EXPECT_EQ(gc.response_blob, c.response_blob);

  auto arts = s->ListArtifacts("r1");
  ASSERT_TRUE(arts.ok());
  ASSERT_EQ(arts->size(), 1u);
  EXPECT_EQ((*arts)[0].name, "docs/spec.md");
  EXPECT_EQ((*arts)[0].media_type, "text/markdown");
  EXPECT_EQ((*arts)[0].blob, Hash128Hex("spec"));
  EXPECT_EQ((*arts)[0].produced_by, "plan");
  EXPECT_EQ((*arts)[0].derived_from, R"(["brief"])");
  EXPECT_EQ((*arts)[0].created_at, 9);

  auto apps = s->ListApprovals("r1");
  ASSERT_TRUE(apps.ok());
  ASSERT_EQ(apps->size(), 1u);
  EXPECT_EQ((*apps)[0].node, "gate");
  EXPECT_EQ((*apps)[0].item, -1);
  EXPECT_EQ((*apps)[0].decision, "approved");
  EXPECT_EQ((*apps)[0].text, "lgtm");
  EXPECT_EQ((*apps)[0].by, "cli");
  EXPECT_EQ((*apps)[0].ts, 10);

  auto cache = s->GetCache("key1");
  ASSERT_TRUE(cache.ok() && cache->has_value());
  EXPECT_EQ((*cache)->output_blob, Hash128Hex("out"));
  EXPECT_EQ((*cache)->node, "plan");
  EXPECT_EQ((*cache)->model, "gpt");
  EXPECT_EQ((*cache)->tokens_in, 5);
  EXPECT_EQ((*cache)->tokens_out, 6);
  EXPECT_EQ((*cache)->cost_usd, 0.5);
  EXPECT_EQ((*cache)->created_at, 11);
  auto no_cache = s->GetCache("other");
  ASSERT_TRUE(no_cache.ok());
  EXPECT_FALSE(no_cache->has_value());

  auto blob = s->GetBlob(Hash128Hex("out"));
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(*blob, "out");
}

TEST_P(StoreTest, UpsertsOverwriteArtifactsApprovalsAndCache) {
  auto s = Open();
  Batch b;
  b.artifacts.push_back(ArtifactRecord{"r1", "a.txt", "text/plain", Hash128Hex("1"), "n", "[]", 1});
  b.approvals.push_back(ApprovalRecord{"r1", "gate", 0, -1, "pending", "", "terminal", 1});
  b.cache.push_back(CacheEntry{"k", Hash128Hex("1"), "n", "m", 1, 1, 0.1, 1});
  ASSERT_TRUE(s->Commit(b).ok());
  b.artifacts[0].blob = Hash128Hex("2");
  b.approvals[0].decision = "rejected";
  b.cache[0].output_blob = Hash128Hex("2");
  ASSERT_TRUE(s->Commit(b).ok());
  EXPECT_EQ(s->ListArtifacts("r1")->size(), 1u);
  EXPECT_EQ(s->ListArtifacts("r1")->at(0).blob, Hash128Hex("2"));
  EXPECT_EQ(s->ListApprovals("r1")->size(), 1u);
  EXPECT_EQ(s->ListApprovals("r1")->at(0).decision, "rejected");
  EXPECT_EQ((*s->GetCache("k"))->output_blob, Hash128Hex("2"));
}

TEST_P(StoreTest, UnknownCostRoundTripsAsNullopt) {
  auto s = Open();
  Batch b;
  LlmCallRecord c;
  c.run_id = "r1";
  c.status = "ok";
  b.llm_calls.push_back(c);
  c.cost_usd = 0.0;  // a known price of zero stays zero
  b.llm_calls.push_back(c);
  ASSERT_TRUE(s->Commit(b).ok());
  EXPECT_LT(b.llm_calls[0].id, b.llm_calls[1].id);
  auto calls = s->ListLlmCalls("r1");
  ASSERT_TRUE(calls.ok());
  ASSERT_EQ(calls->size(), 2u);
  EXPECT_FALSE((*calls)[0].cost_usd.has_value());
  ASSERT_TRUE((*calls)[1].cost_usd.has_value());
  EXPECT_EQ(*(*calls)[1].cost_usd, 0.0);
}

TEST_P(StoreTest, InvalidBlobHashWritesNothing) {
  auto s = Open();
  Batch ok;
  ok.events.push_back(Ev("r1", "run_started"));
  ASSERT_TRUE(s->Commit(ok).ok());

  Batch bad;
  bad.run = Run("r1", 1);
  bad.events.push_back(Ev("r1", "node_started"));
  bad.blobs.emplace_back(Hash128Hex("fine"), "fine");
  bad.blobs.emplace_back("../../etc/passwd", "x");
  Status st = s->Commit(bad);
  EXPECT_EQ(st.code(), Code::kInvalidInput);
  EXPECT_NE(st.message().find("invalid blob hash"), std::string::npos) << st.message();
  EXPECT_EQ(bad.events[0].seq, 0);
  EXPECT_EQ(s->ListEvents("r1")->size(), 1u);
  EXPECT_FALSE(s->GetRun("r1")->has_value());
  EXPECT_EQ(s->GetBlob(Hash128Hex("fine")).status().code(), Code::kNotFound);
}

TEST_P(StoreTest, FailureInsideTransactionRollsBackWholeBatch) {
  auto s = Open();
  // A trigger added behind the store's back makes the node_runs insert fail mid-batch.
  BehindTheBack("CREATE TRIGGER boom BEFORE INSERT ON node_runs WHEN NEW.node = 'boom' "
                "BEGIN SELECT RAISE(ABORT, 'boom refused'); END",
                "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.node = 'boom' THEN RAISE EXCEPTION 'boom refused'; END IF; RETURN NEW; END $$; "
                "CREATE TRIGGER boom BEFORE INSERT ON node_runs FOR EACH ROW EXECUTE FUNCTION boom()");
  Batch b;
  b.run = Run("r1", 1);
  b.events.push_back(Ev("r1", "node_started"));
  NodeRunRecord n;
  n.run_id = "r1";
  n.node = "boom";
  b.node_runs.push_back(n);
  Status st = s->Commit(b);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("node_runs"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("boom refused"), std::string::npos) << st.message();
  EXPECT_EQ(b.events[0].seq, 0);
  EXPECT_TRUE(s->ListEvents("r1")->empty());
  EXPECT_FALSE(s->GetRun("r1")->has_value());
  // The store is still usable afterwards.
  b.node_runs[0].node = "fine";
  ASSERT_TRUE(s->Commit(b).ok());
  EXPECT_EQ(s->ListEvents("r1")->size(), 1u);
}

TEST_P(StoreTest, GetBlobRefusesNonHashes) {
  auto s = Open();
  const std::vector<std::string> bad_hashes = {"../../etc/passwd", "/etc/passwd", std::string(32, 'z'),
                                               "ABCDEF0123456789ABCDEF0123456789", "", std::string(32, '.')};
  for (const std::string& bad : bad_hashes) {
    auto r = s->GetBlob(bad);
    EXPECT_EQ(r.status().code(), Code::kInvalidInput) << bad;
    EXPECT_NE(r.status().message().find("invalid blob hash"), std::string::npos);
  }
  EXPECT_EQ(s->GetBlob(Hash128Hex("absent")).status().code(), Code::kNotFound);
}

TEST_P(StoreTest, EventSeqIncreasesAndFiltersByRun) {
  auto s = Open();
  Batch b;
  for (int i = 0; i < 5; ++i) b.events.push_back(Ev(i % 2 ? "r2" : "r1", "tick"));
  ASSERT_TRUE(s->Commit(b).ok());
  for (size_t i = 1; i < b.events.size(); ++i) EXPECT_GT(b.events[i].seq, b.events[i - 1].seq);
  Batch b2;
  b2.events.push_back(Ev("r1", "tock"));
  ASSERT_TRUE(s->Commit(b2).ok());
  EXPECT_GT(b2.events[0].seq, b.events[4].seq);

  auto all = s->ListEvents("r1");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  for (size_t i = 1; i < all->size(); ++i) EXPECT_GT((*all)[i].seq, (*all)[i - 1].seq);
  auto after = s->ListEvents("r1", b.events[2].seq);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].seq, b.events[4].seq);
  EXPECT_EQ((*after)[1].type, "tock");
}

TEST_P(StoreTest, NodeRunsUpsertByKey) {
  auto s = Open();
  NodeRunRecord n;
  n.run_id = "r1";
  n.node = "a";
  n.status = "running";
  Batch b;
  b.node_runs.push_back(n);
  ASSERT_TRUE(s->Commit(b).ok());
  b.node_runs[0].status = "succeeded";
  b.node_runs[0].tokens_out = 9;
  NodeRunRecord retry = n;
  retry.attempt = 2;  // a different attempt is a different row
  b.node_runs.push_back(retry);
  NodeRunRecord item = n;
  item.item = 0;
  b.node_runs.push_back(item);
  ASSERT_TRUE(s->Commit(b).ok());
  auto rows = s->ListNodeRuns("r1");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].status, "succeeded");
  EXPECT_EQ((*rows)[0].tokens_out, 9);
  EXPECT_EQ((*rows)[0].attempt, 1);
  EXPECT_EQ((*rows)[1].attempt, 2);
  EXPECT_EQ((*rows)[2].item, 0);
}

TEST_P(StoreTest, ListRunsNewestFirstAndHidesChildren) {
  auto s = Open();
  CommitRun(*s, Run("a", 1));
  CommitRun(*s, Run("c", 3));
  CommitRun(*s, Run("b", 3));
  CommitRun(*s, Run("c.child", 4, "c"));
  auto top = s->ListRuns(10);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 3u);
  EXPECT_EQ((*top)[0].id, "c");
  EXPECT_EQ((*top)[1].id, "b");
  EXPECT_EQ((*top)[2].id, "a");
  auto all = s->ListRuns(10, true);
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].id, "c.child");
  EXPECT_EQ(s->ListRuns(2)->size(), 2u);
  EXPECT_EQ(s->ListRuns(0)->size(), 3u);  // no limit
}

TEST_P(StoreTest, ResolveRunId) {
  auto s = Open();
  EXPECT_EQ(s->ResolveRunId("latest").status().code(), Code::kNotFound);
  CommitRun(*s, Run("20260101-000000-aaaa", 10));
  CommitRun(*s, Run("20260101-000000-aaab", 20));
  CommitRun(*s, Run("20260102-000000-bbbb", 30));
  CommitRun(*s, Run("20260103-000000-cccc", 40, "20260102-000000-bbbb"));  // child: not "latest"
  EXPECT_EQ(*s->ResolveRunId("latest"), "20260102-000000-bbbb");
  EXPECT_EQ(*s->ResolveRunId("20260101-000000-aaaa"), "20260101-000000-aaaa");
  EXPECT_EQ(*s->ResolveRunId("20260102"), "20260102-000000-bbbb");
  EXPECT_EQ(*s->ResolveRunId("20260103"), "20260103-000000-cccc");

  auto amb = s->ResolveRunId("20260101");
  EXPECT_EQ(amb.status().code(), Code::kInvalidInput);
  EXPECT_NE(amb.status().message().find("20260101-000000-aaaa"), std::string::npos);
  EXPECT_NE(amb.status().message().find("20260101-000000-aaab"), std::string::npos);

  auto none = s->ResolveRunId("1999");
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  EXPECT_EQ(none.status().message(), "no run matches '1999'");

  EXPECT_EQ(s->ResolveRunId("../x").status().code(), Code::kInvalidInput);
  EXPECT_EQ(s->ResolveRunId("").status().code(), Code::kInvalidInput);
  EXPECT_EQ(s->ResolveRunId("%").status().code(), Code::kInvalidInput);
}

TEST_P(StoreTest, AmbiguousPrefixListsAtMostFiveCandidates) {
  auto s = Open();
  for (int i = 0; i < 8; ++i) CommitRun(*s, Run("run-" + std::to_string(i), i));
  auto amb = s->ResolveRunId("run-");
  ASSERT_EQ(amb.status().code(), Code::kInvalidInput);
  EXPECT_NE(amb.status().message().find("run-4"), std::string::npos);
  EXPECT_EQ(amb.status().message().find("run-5"), std::string::npos);
  EXPECT_NE(amb.status().message().find("..."), std::string::npos);
}

TEST_P(StoreTest, CancelFlag) {
  auto s = Open();
  EXPECT_EQ(s->RequestCancel("ghost").code(), Code::kNotFound);
  EXPECT_EQ(s->CancelRequested("ghost").status().code(), Code::kNotFound);
  RunRecord r = Run("r1", 1);
  CommitRun(*s, r);
  EXPECT_FALSE(*s->CancelRequested("r1"));
  ASSERT_TRUE(s->RequestCancel("r1").ok());
  EXPECT_TRUE(*s->CancelRequested("r1"));
  // The engine's stale copy (cancel_requested=false) must not erase the request.
  r.tokens_in = 5;
  CommitRun(*s, r);
  EXPECT_TRUE(*s->CancelRequested("r1"));
  r.status = "cancelled";
  CommitRun(*s, r);
  EXPECT_TRUE((*s->GetRun("r1"))->cancel_requested);
  // A resume (back to running) decides the flag itself.
  r.status = "running";
  r.cancel_requested = false;
  CommitRun(*s, r);
  EXPECT_FALSE(*s->CancelRequested("r1"));
}

TEST_P(StoreTest, SecondHandleSeesCommittedData) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  CommitRun(*a, Run("r1", 1));
  Batch e;
  e.events.push_back(Ev("r1", "run_started"));
  ASSERT_TRUE(a->Commit(e).ok());
  EXPECT_TRUE(b->GetRun("r1")->has_value());
  EXPECT_EQ(b->ListEvents("r1")->size(), 1u);
  ASSERT_TRUE(b->RequestCancel("r1").ok());
  EXPECT_TRUE(*a->CancelRequested("r1"));
}

TEST_P(StoreTest, ReopenKeepsDataAndSchemaVersion) {
  {
    auto s = Open();
    CommitRun(*s, Run("r1", 1));
  }
  auto s = Open();
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->GetRun("r1")->has_value());
  if (pg()) {
    auto conn = pg::Conn::Open(location_);
    ASSERT_TRUE(conn.ok());
    auto versions = (*conn)->Exec("SELECT version FROM schema_migrations ORDER BY version");
    ASSERT_TRUE(versions.ok()) << versions.status().message();
    ASSERT_EQ(versions->size(), kPgSchemaVersion);
    for (int i = 0; i < versions->size(); ++i) EXPECT_EQ(versions->Int(i, 0), i + 1);
    return;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/specwright.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 7);
  sqlite3_finalize(st);
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_P(StoreTest, OneClaimOfARunWinsAndADecisionIsNotOverwritten) {
  auto s = Open();
  ASSERT_TRUE(s);
  Batch b;
  RunRecord r;
  r.id = "r1";
  r.status = "waiting";
  r.pid = 100;
  b.run = r;
  b.approvals.push_back(ApprovalRecord{"r1", "gate", 0, -1, "pending", "ok?", "", 1});
  ASSERT_TRUE(s->Commit(b).ok());
  EXPECT_TRUE(*s->ClaimRun("r1", "waiting", 100, 200));
  EXPECT_FALSE(*s->ClaimRun("r1", "waiting", 100, 300));  // it saw the same, but came second
  EXPECT_EQ((*s->GetRun("r1"))->pid, 200);
  EXPECT_EQ((*s->GetRun("r1"))->status, "running");
  b.clear();
  b.approvals.push_back(ApprovalRecord{"r1", "gate", 0, -1, "approved", "yes", "ui", 2});
  ASSERT_TRUE(s->Commit(b).ok());
  b.clear();
  b.approvals.push_back(ApprovalRecord{"r1", "gate", 0, -1, "rejected", "no", "cli", 3});  // too late
  b.approvals.push_back(ApprovalRecord{"r1", "gate", 0, -1, "pending", "ok?", "", 4});     // a late pending row
  ASSERT_TRUE(s->Commit(b).ok());
  auto a = s->ListApprovals("r1");
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].decision, "approved");
  EXPECT_EQ((*a)[0].by, "ui");
}

TEST_P(StoreTest, LiveTextIsUpsertedListedAndDeleted) {
  auto s = Open();
  ASSERT_TRUE(s);
  Batch b;
  b.live.push_back(LiveText{"r1", "a", 0, -1, 1, "Hel", 1.0, false});
  b.live.push_back(LiveText{"r1", "b", 0, 2, 1, "Wor", 1.0, false});
  b.live.push_back(LiveText{"r2", "a", 0, -1, 1, "other run", 1.0, false});
  ASSERT_TRUE(s->Commit(b).ok());
  b.clear();
  b.live.push_back(LiveText{"r1", "a", 0, -1, 1, "Hello", 2.0, false});  // the same call streamed on
  ASSERT_TRUE(s->Commit(b).ok());
  auto live = s->ListLive("r1");
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 2u);
  EXPECT_EQ((*live)[0].text, "Hello");
  EXPECT_EQ((*live)[1].item, 2);
  b.clear();
  b.live.push_back(LiveText{"r1", "a", 0, -1, 1, "", 0, true});  // the call ended
  ASSERT_TRUE(s->Commit(b).ok());
  EXPECT_EQ(s->ListLive("r1")->size(), 1u);
  b.clear();
  b.live.push_back(LiveText{"r1", "", 0, -1, 1, "", 0, true});  // the run ended: all of it goes
  ASSERT_TRUE(s->Commit(b).ok());
  EXPECT_TRUE(s->ListLive("r1")->empty());
  EXPECT_EQ(s->ListLive("r2")->size(), 1u);
}

TEST_P(StoreTest, GcDeletesOldRunsWithTheirRowsAndOnlyUnreferencedBlobs) {
  auto s = Open();
  std::string big_old(10000, 'o'), big_new(10000, 'n'), shared = "shared text", orphan(9000, 'x');
  std::string small_orphan = "inline and unreferenced", cached = "kept by the cache", reply = "kept by a reply";
  auto h = [](const std::string& d) { return Hash128Hex(d); };
  Batch b;
  RunRecord old = Run("old", 1);
  old.status = "succeeded";
  RunRecord child = Run("old-child", 2);
  child.parent_id = "old";
  child.status = "succeeded";
  RunRecord stuck = Run("stuck", 3);  // old but still marked running: kept
  RunRecord young = Run("young", 5000);
  young.status = "succeeded";
  young.calls = 1;  // its one model call below (the store's consistency check holds it to that)
  for (const auto& r : {old, child, stuck, young}) {
    Batch rb;
    rb.run = r;
    ASSERT_TRUE(s->Commit(rb).ok());
  }
  b.blobs = {{h(big_old), big_old}, {h(big_new), big_new}, {h(shared), shared}, {h(orphan), orphan},
             {h(small_orphan), small_orphan}, {h(cached), cached}, {h(reply), reply}};
  CacheEntry ce;
  ce.key = "k";
  ce.output_blob = h(cached);
  ce.created_at = 5000;  // young: kept, and so is its blob
  b.cache.push_back(ce);
  Event e;
  e.run_id = "old";
  e.type = "node_succeeded";
  e.node = "a";
  e.data = "{\"blob\":\"" + h(big_old) + "\"}";
  b.events.push_back(e);
  e.run_id = "young";
  e.data = "{\"blob\":\"" + h(big_new) + "\"}";
  b.events.push_back(e);
  ArtifactRecord a;
  a.run_id = "old";
  a.name = "a";
  a.blob = h(shared);
  b.artifacts.push_back(a);
  a.run_id = "young";
  b.artifacts.push_back(a);  // the shared blob is still referenced by the young run
  LlmCallRecord c;
  c.run_id = "old-child";
  c.node = "x";
  c.status = "ok";
  b.llm_calls.push_back(c);
  c.run_id = "young";
  c.reply_blob = h(reply);
  b.llm_calls.push_back(c);
  ASSERT_TRUE(s->Commit(b).ok());

  GcOptions o;
  o.before = 1000;
  o.blob_grace_seconds = 0;
  o.dry_run = true;
  auto dry = s->CollectGarbage(o);
  ASSERT_TRUE(dry.ok()) << dry.status().message();
  EXPECT_EQ(dry->runs_deleted, (std::vector<std::string>{"old", "old-child"}));
  EXPECT_EQ(dry->runs_kept_running, (std::vector<std::string>{"stuck"}));
  EXPECT_EQ(dry->blobs_deleted, 3);  // big_old (once referenced), the orphan file, the inline orphan
  EXPECT_TRUE(s->GetRun("old")->has_value()) << "a dry run changes nothing";
  EXPECT_TRUE(s->GetBlob(h(big_old)).ok());

  o.dry_run = false;
  auto rep = s->CollectGarbage(o);
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_EQ(rep->runs_deleted, dry->runs_deleted);
  EXPECT_EQ(rep->blobs_deleted, 3);
  EXPECT_EQ(rep->blob_bytes_freed, static_cast<int64_t>(big_old.size() + orphan.size() + small_orphan.size()));
  // PostgreSQL keeps every blob in the database; SQLite those over inline_blob_max in files.
  EXPECT_EQ(rep->blob_file_bytes_freed, pg() ? 0 : static_cast<int64_t>(big_old.size() + orphan.size()));
  EXPECT_EQ(s->GetBlob(h(small_orphan)).status().code(), Code::kNotFound);
  EXPECT_EQ(*s->GetBlob(h(cached)), cached);
  EXPECT_EQ(*s->GetBlob(h(reply)), reply);
  EXPECT_FALSE(rep->vacuumed) << "a run is still marked running";
  EXPECT_FALSE(s->GetRun("old")->has_value());
  EXPECT_FALSE(s->GetRun("old-child")->has_value());
  EXPECT_TRUE(s->GetRun("stuck")->has_value());
  EXPECT_TRUE(s->ListEvents("old")->empty());
  EXPECT_TRUE(s->ListLlmCalls("old-child")->empty());
  EXPECT_EQ(s->GetBlob(h(big_old)).status().code(), Code::kNotFound);
  EXPECT_EQ(s->GetBlob(h(orphan)).status().code(), Code::kNotFound);
  EXPECT_EQ(*s->GetBlob(h(big_new)), big_new);
  EXPECT_EQ(*s->GetBlob(h(shared)), shared);
  EXPECT_EQ(*s->IntegrityCheck(), "ok");
  // Young unreferenced files survive the grace period (a writer may not have committed yet).
  Batch late;
  late.blobs = {{h(orphan), orphan}};
  ASSERT_TRUE(s->Commit(late).ok());
  o.blob_grace_seconds = 3600;
  rep = s->CollectGarbage(o);
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->blobs_deleted, 0);
  EXPECT_TRUE(s->GetBlob(h(orphan)).ok());
}

// A run's options and inputs name blobs too (a detached run's workflow_blob, which a worker
// reads at every claim, even hours later), and an event's top-level "blob" may follow a
// nested one: gc keeps them all.
TEST_P(StoreTest, GcKeepsBlobsNamedByARunsOptionsAndInputsAndByEvents) {
  auto s = Open();
  ASSERT_TRUE(s);
  auto h = [](const std::string& d) { return Hash128Hex(d); };
  std::string bundle = "the workflow bundle", input = "an input file", output = "a tool's output";
  RunRecord r = Run("queued", 5000);
  r.status = "queued";
  r.options_json = "{\"detached\":true,\"workflow_blob\":\"" + h(bundle) + "\"}";
  r.inputs_json = "{\"doc\":{\"content_blob\":\"" + h(input) + "\"}}";
  Batch b;
  b.run = r;
  b.blobs = {{h(bundle), bundle}, {h(input), input}, {h(output), output}};
  Event e = Ev("queued", "tool_result");
  e.data = "{\"args\":{\"blob\":\"" + h("not stored") + "\"},\"blob\":\"" + h(output) + "\"}";
  b.events.push_back(e);
  ASSERT_TRUE(s->Commit(b).ok());
  GcOptions o;
  o.before = 1000;
  o.blob_grace_seconds = 0;
  auto rep = s->CollectGarbage(o);
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_EQ(rep->blobs_deleted, 0);
  for (const std::string& kept : {bundle, input, output}) {
    auto got = s->GetBlob(h(kept));
    EXPECT_TRUE(got.ok() && *got == kept) << kept << ": " << got.status().message();
  }
}

// A queued run waits for a worker (it may have waited long, on a busy cluster): gc keeps it,
// like a running one, and says so.
TEST_P(StoreTest, GcKeepsOldQueuedRunsLikeRunningOnes) {
  auto s = Open();
  ASSERT_TRUE(s);
  RunRecord queued = Run("queued", 1), running = Run("running", 2), done = Run("done", 3), waiting = Run("waiting", 4);
  queued.status = "queued";
  running.status = "running";
  done.status = "succeeded";
  waiting.status = "waiting";
  for (const auto& r : {queued, running, done, waiting}) CommitRun(*s, r);
  GcOptions o;
  o.before = 1000;
  for (bool dry : {true, false}) {
    o.dry_run = dry;
    auto rep = s->CollectGarbage(o);
    ASSERT_TRUE(rep.ok()) << rep.status().message();
    EXPECT_EQ(rep->runs_deleted, (std::vector<std::string>{"done", "waiting"})) << "dry run: " << dry;
    EXPECT_EQ(rep->runs_kept_running, (std::vector<std::string>{"queued", "running"})) << "dry run: " << dry;
  }
  EXPECT_TRUE(s->GetRun("queued")->has_value());
  EXPECT_TRUE(s->GetRun("running")->has_value());
  EXPECT_FALSE(s->GetRun("done")->has_value());
}

TEST_P(StoreTest, ListSubRunsFollowsParentsDownEveryLevel) {
  auto s = Open();
  for (const auto& r : {Run("r", 1), Run("r.a", 2, "r"), Run("r.a.b", 3, "r.a"), Run("rx", 4), Run("rx.c", 5, "rx")}) {
    Batch b;
    b.run = r;
    ASSERT_TRUE(s->Commit(b).ok());
  }
  auto subs = s->ListSubRuns("r");
  ASSERT_TRUE(subs.ok()) << subs.status().message();
  std::vector<std::string> ids;
  for (const auto& r : *subs) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"r.a", "r.a.b"}));
  EXPECT_TRUE(s->ListSubRuns("r.a.b")->empty());
}

TEST_P(StoreTest, RefusesNewerSchema) {
  { ASSERT_TRUE(Open()); }
  BehindTheBack("PRAGMA user_version = 99",
                "INSERT INTO schema_migrations (version, applied_at, description) VALUES (99, 0, 'from the future')");
  auto s = OpenStore(location_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("schema version 99"), std::string::npos) << s.status().message();
}

TEST_P(StoreTest, IntegrityCheckIsOk) {
  auto s = Open();
  CommitRun(*s, Run("r1", 1));
  auto r = s->IntegrityCheck();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "ok");
}

// Not a benchmark gate, just a tripwire: a scheduling-step commit must stay in microseconds.
TEST_P(StoreTest, CommitIsFast) {
  auto s = Open();
  CommitRun(*s, Run("r1", 1));
  constexpr int kCommits = 2000;
  Batch b;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCommits; ++i) {
    b.clear();
    for (int k = 0; k < 3; ++k) {
      Event e = Ev("r1", "node_succeeded");
      e.node = "n" + std::to_string(i);
      b.events.push_back(std::move(e));
    }
    for (int k = 0; k < 2; ++k) {
      NodeRunRecord n;
      n.run_id = "r1";
      n.node = "n" + std::to_string(i);
      n.attempt = k + 1;
      n.status = "succeeded";
      b.node_runs.push_back(std::move(n));
    }
    ASSERT_TRUE(s->Commit(b).ok());
  }
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / kCommits;
  std::printf("[ info ] %s: commit of 3 events + 2 node_runs: %.1f us\n", GetParam().c_str(), us);
  EXPECT_LT(us, pg() ? 5000.0 : 2000.0);
}

// A read-only command opens with create = false: a missing store is NotFound and nothing is
// made (no directory, no database, no blobs/); an existing one opens, and its first large
// blob makes blobs/ then.

// A worker's commits carry a fence: they land only while the run is still its own. The run
// upsert never writes owner or lease_until (only the work queue does).
TEST_P(StoreTest, FenceRefusesAStaleOwnerAndWritesNothing) {
  auto s = Open();
  ASSERT_TRUE(s);
  CommitRun(*s, Run("r1", 1));
  auto fresh = s->GetRun("r1");
  ASSERT_TRUE(fresh.ok() && fresh->has_value());
  EXPECT_EQ((*fresh)->owner, "");
  EXPECT_EQ((*fresh)->lease_until, 0);
  BehindTheBack("UPDATE runs SET owner = 'host:1:w1', lease_until = 4000000000 WHERE id = 'r1'",
                "UPDATE runs SET owner = 'host:1:w1', lease_until = 4000000000 WHERE id = 'r1'");
  Batch ok;
  ok.fence = Fence{"r1", "host:1:w1"};
  RunRecord r = Run("r1", 1);
  r.tokens_in = 7;
  ok.run = r;
  ok.events.push_back(Ev("r1", "node_started"));
  Status st = s->Commit(ok);
  ASSERT_TRUE(st.ok()) << st.message();
  auto after = s->GetRun("r1");
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ((*after)->tokens_in, 7);
  EXPECT_EQ((*after)->owner, "host:1:w1") << "the run upsert must not clear the owner";
  EXPECT_EQ((*after)->lease_until, 4000000000.0);

  // Another worker took the run over: the old owner's whole batch is refused.
  BehindTheBack("UPDATE runs SET owner = 'host:2:w2' WHERE id = 'r1'", "UPDATE runs SET owner = 'host:2:w2' WHERE id = 'r1'");
  Batch stale;
  stale.fence = Fence{"r1", "host:1:w1"};
  r.tokens_in = 99;
  stale.run = r;
  stale.events.push_back(Ev("r1", "node_succeeded"));
  NodeRunRecord n;
  n.run_id = "r1";
  n.node = "a";
  stale.node_runs.push_back(n);
  stale.blobs.emplace_back(Hash128Hex("never"), "never");
  const std::string big(20000, 'n');  // SQLite writes such a blob as a file: not this one
  stale.blobs.emplace_back(Hash128Hex(big), big);
  st = s->Commit(stale);
  EXPECT_EQ(st.code(), Code::kFailed) << st.message();
  EXPECT_NE(st.message().find("lease lost: run r1 is now orchestrated by host:2:w2"), std::string::npos) << st.message();
  EXPECT_EQ(stale.events[0].seq, 0);
  EXPECT_EQ(s->ListEvents("r1")->size(), 1u);
  EXPECT_TRUE(s->ListNodeRuns("r1")->empty());
  EXPECT_EQ((*s->GetRun("r1"))->tokens_in, 7);
  EXPECT_EQ(s->GetBlob(Hash128Hex("never")).status().code(), Code::kNotFound);
  EXPECT_EQ(s->GetBlob(Hash128Hex(big)).status().code(), Code::kNotFound);

  // A fence on a run nobody owns, or that does not exist, is refused too.
  BehindTheBack("UPDATE runs SET owner = '' WHERE id = 'r1'", "UPDATE runs SET owner = '' WHERE id = 'r1'");
  st = s->Commit(stale);
  EXPECT_NE(st.message().find("is now orchestrated by nobody"), std::string::npos) << st.message();
  Batch ghost;
  ghost.fence = Fence{"ghost", "host:1:w1"};
  ghost.events.push_back(Ev("ghost", "x"));
  st = s->Commit(ghost);
  EXPECT_EQ(st.code(), Code::kFailed);
  EXPECT_NE(st.message().find("not in the store"), std::string::npos) << st.message();
  EXPECT_TRUE(s->ListEvents("ghost")->empty());
}

// Text comes back byte for byte: any Unicode, quotes, backslashes, control characters
// (NUL aside: PostgreSQL's text cannot hold it).
TEST_P(StoreTest, UnicodeTextRoundTrips) {
  auto s = Open();
  ASSERT_TRUE(s);
  const std::string text = "héllo wörld ✓ 日本語 😀 e\xcc\x81 \"quoted\" 'single' back\\slash \t\n\r \x01\x7f %_ ${x} \u00e9";
  const std::string weird = "\xe2\x80\xae right-to-left \xef\xbb\xbf bom \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb";
  RunRecord r = Run("r1", 1);
  r.workflow_name = text;
  r.error = weird;
  r.inputs_json = R"({"brief":"Ünïcödé ✓ \"x\""})";
  r.label = text;
  Batch b;
  b.run = r;
  Event e = Ev("r1", "node_succeeded");
  e.node = "nöde-✓";
  e.data = R"({"text":"😀 \u0000 escaped NUL stays JSON text"})";
  b.events.push_back(e);
  ArtifactRecord a{"r1", "docs/spéc ✓.md", "text/markdown", Hash128Hex("x"), "nöde-✓", "[]", 1};
  b.artifacts.push_back(a);
  b.approvals.push_back(ApprovalRecord{"r1", "gäte", 0, -1, "approved", weird, "ü", 1});
  ASSERT_TRUE(s->Commit(b).ok());
  auto got = s->GetRun("r1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->workflow_name, text);
  EXPECT_EQ((*got)->error, weird);
  EXPECT_EQ((*got)->inputs_json, r.inputs_json);
  EXPECT_EQ((*got)->label, text);
  auto ev = s->ListNodeEvents("r1", "nöde-✓");
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_EQ((*ev)[0].data, e.data);
  auto arts = s->ListArtifactsNamed("docs/spéc ✓.md");
  ASSERT_TRUE(arts.ok());
  ASSERT_EQ(arts->size(), 1u);
  EXPECT_EQ((*arts)[0].produced_by, "nöde-✓");
  auto apps = s->ListApprovals("r1");
  ASSERT_EQ(apps->size(), 1u);
  EXPECT_EQ((*apps)[0].text, weird);
  EXPECT_EQ((*apps)[0].node, "gäte");
}

// Rows sort bytewise, as SQLite's BINARY collation does, whatever the database's locale.
TEST_P(StoreTest, OrderingIsBytewise) {
  auto s = Open();
  ASSERT_TRUE(s);
  Batch b;
  for (const char* node : {"b", "B", "a", "_x", "Z", "é"}) {
    NodeRunRecord n;
    n.run_id = "r1";
    n.node = node;
    b.node_runs.push_back(n);
    b.live.push_back(LiveText{"r1", node, 0, -1, 1, "t", 1, false});
  }
  ASSERT_TRUE(s->Commit(b).ok());
  std::vector<std::string> nodes, live;
  auto node_rows = s->ListNodeRuns("r1");
  auto live_rows = s->ListLive("r1");
  ASSERT_TRUE(node_rows.ok() && live_rows.ok());
  for (const auto& n : *node_rows) nodes.push_back(n.node);
  for (const auto& l : *live_rows) live.push_back(l.node);
  std::vector<std::string> want = {"B", "Z", "_x", "a", "b", "é"};
  EXPECT_EQ(nodes, want);
  EXPECT_EQ(live, want);
}

FireRecord Fire(const std::string& schedule, double at, const std::string& run_id) {
  FireRecord f;
  f.schedule = schedule;
  f.fire_at = at;
  f.run_id = run_id;
  f.claimed_at = 1000.5;
  f.claimed_by = "host:42";
  return f;
}

TEST_P(StoreTest, AWindowIsClaimedOnceAndListedNewestFirst) {
  auto s = Open();
  ASSERT_TRUE(s);
  auto a = s->ClaimFire(Fire("/w/f.yaml#daily", 600, "r-600"));
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_TRUE(*a);
  auto again = s->ClaimFire(Fire("/w/f.yaml#daily", 600, "r-600-other"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_TRUE(*s->ClaimFire(Fire("/w/f.yaml#daily", 660, "r-660")));
  EXPECT_TRUE(*s->ClaimFire(Fire("/w/f.yaml#0", 600, "r0-600")));  // another schedule, same window
  auto skipped = Fire("/w/f.yaml#daily", 540, "r-540");
  skipped.status = "skipped";
  skipped.note = "missed 3 windows";
  EXPECT_TRUE(*s->ClaimFire(skipped));
  auto fires = s->ListFires("/w/f.yaml#daily", 0);
  ASSERT_TRUE(fires.ok()) << fires.status().message();
  ASSERT_EQ(fires->size(), 3u);
  EXPECT_EQ((*fires)[0].fire_at, 660);
  EXPECT_EQ((*fires)[1].fire_at, 600);
  EXPECT_EQ((*fires)[1].run_id, "r-600");  // the first claim's row, untouched by the second
  EXPECT_EQ((*fires)[1].claimed_by, "host:42");
  EXPECT_EQ((*fires)[1].claimed_at, 1000.5);
  EXPECT_EQ((*fires)[2].status, "skipped");
  EXPECT_EQ((*fires)[2].note, "missed 3 windows");
  auto one = s->ListFires("/w/f.yaml#daily", 1);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].run_id, "r-660");
  EXPECT_TRUE(s->ListFires("/w/other.yaml#daily", 5)->empty());
}

TEST_P(StoreTest, AClaimedFireStartsOnceAndFinishes) {
  auto s = Open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(*s->ClaimFire(Fire("k", 60, "r1")));
  ASSERT_TRUE(*s->ClaimFire(Fire("k", 120, "r2")));
  auto claimed = s->ListClaimedFires();
  ASSERT_TRUE(claimed.ok()) << claimed.status().message();
  ASSERT_EQ(claimed->size(), 2u);
  EXPECT_EQ((*claimed)[0].run_id, "r1");
  auto started = s->StartFire("r1", 777, 2000);
  ASSERT_TRUE(started.ok()) << started.status().message();
  ASSERT_TRUE(started->has_value());
  EXPECT_EQ((*started)->status, "started");
  EXPECT_EQ((*started)->pid, 777);
  EXPECT_EQ((*started)->started_at, 2000);
  EXPECT_EQ((*started)->schedule, "k");
  auto twice = s->StartFire("r1", 778, 2001);
  ASSERT_TRUE(twice.ok());
  EXPECT_FALSE(twice->has_value());
  EXPECT_FALSE(s->StartFire("nope", 1, 1)->has_value());
  claimed = s->ListClaimedFires();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].run_id, "r2");
  ASSERT_TRUE(s->FinishFire("r2", "failed", "cannot read the workflow").ok());
  EXPECT_TRUE(s->ListClaimedFires()->empty());
  auto r2 = s->ListFires("k", 1);
  EXPECT_EQ((*r2)[0].status, "failed");
  EXPECT_EQ((*r2)[0].error, "cannot read the workflow");
  EXPECT_FALSE(s->StartFire("r2", 1, 1)->has_value());  // a failed fire is not started later
  EXPECT_EQ(s->FinishFire("nope", "failed", "").code(), Code::kNotFound);
}

TEST_P(StoreTest, ConcurrentClaimsAndStartsOfOneWindowHaveOneWinner) {
  // Eight handles (as eight schedulers would) race for the same windows, 20 rounds.
  std::vector<std::unique_ptr<Store>> handles;
  for (int i = 0; i < 8; ++i) {
    handles.push_back(Open());
    ASSERT_TRUE(handles.back());
  }
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> claims{0}, starts{0}, errors{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
      threads.emplace_back([&, i] {
        auto c = handles[static_cast<size_t>(i)]->ClaimFire(Fire("race", 60.0 * round, "run-" + std::to_string(round)));
        if (!c.ok()) ++errors;
        else if (*c) ++claims;
        auto st = handles[static_cast<size_t>(i)]->StartFire("run-" + std::to_string(round), i, 1);
        if (!st.ok()) ++errors;
        else if (st->has_value()) ++starts;
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(claims.load(), 1) << "round " << round;
    EXPECT_EQ(starts.load(), 1) << "round " << round;
  }
  EXPECT_EQ(handles[0]->ListFires("race", 0)->size(), 20u);
}

}  // namespace
}  // namespace sw::store
