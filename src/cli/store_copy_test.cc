// CopyRuns between two real SQLite stores: every row and blob of a run and its sub-runs
// arrives in FROM's order, a second copy writes nothing, an interrupted copy is finished, a
// differing run is refused and left as it was, and blobs go in batches.
#include <gtest/gtest.h>

#include <filesystem>
#include <tuple>

#include "base/hash.h"
#include "cli/common.h"
#include "cli/store_copy.h"
#include "store/store.h"

namespace sw::cli {
namespace {

class StoreCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_store_copy.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    from_ = Open("from");
    to_ = Open("to");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<store::Store> Open(const std::string& name) {
    auto s = store::OpenSqlite(dir_ + "/" + name);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return std::move(s).value();
  }

  /// Fill commits run `id` (created at t) with a sub-run, interleaved events, two model calls,
  /// an artifact, an approval, a cache entry and blobs (one large) into st.
  static void Fill(store::Store* st, const std::string& id, double t, const std::string& answer = "answer") {
    std::string big(100000, 'x');
    std::string out = answer, req = "request of " + id, def = "{\"defs\": 1}";
    std::string key = Hash128Hex("key of " + id);
    store::Batch b;
    b.run = store::RunRecord{};
    b.run->id = id;
    b.run->created_at = t;
    b.run->status = "succeeded";
    b.run->workflow_name = "wf";
    b.run->inputs_json = R"({"topic": "tides"})";
    b.run->cost_usd = 0.25;
    b.blobs = {{Hash128Hex(out), out}, {Hash128Hex(req), req}, {Hash128Hex(big), big}, {Hash128Hex(def), def}};
    auto ev = [&](const std::string& run, const std::string& type, const std::string& node, const std::string& data) {
      store::Event e;
      e.run_id = run;
      e.type = type;
      e.node = node;
      e.ts = t + static_cast<double>(b.events.size()) / 10;
      e.data = data;
      b.events.push_back(e);
    };
    ev(id, "run_started", "", "{}");
    ev(id, "definitions", "", "{\"blob\":\"" + Hash128Hex(def) + "\"}");
    ev(id, "attempt_started", "a", "{\"cache_key\":\"" + key + "\"}");
    ev(id + ".sub", "run_started", "", "{}");
    ev(id + ".sub", "tool_result", "inner", "{\"blob\":\"" + Hash128Hex(big) + "\"}");
    ev(id, "node_succeeded", "a", "{\"blob\":\"" + Hash128Hex(out) + "\"}");
    store::NodeRunRecord n;
    n.run_id = id;
    n.node = "a";
    n.status = "succeeded";
    n.output_blob = Hash128Hex(out);
    n.started_at = t;
    b.node_runs.push_back(n);
    for (int i = 0; i < 2; ++i) {
      store::LlmCallRecord c;
      c.run_id = i == 0 ? id : id + ".sub";
      c.node = i == 0 ? "a" : "inner";
      c.request_blob = Hash128Hex(req);
      c.cost_usd = 0.125;
      c.started_at = t + i;
      c.finish_reason = "stop";
      b.llm_calls.push_back(c);
    }
    store::ArtifactRecord a;
    a.run_id = id;
    a.name = "out.md";
    a.blob = Hash128Hex(out);
    b.artifacts.push_back(a);
    store::ApprovalRecord ap;
    ap.run_id = id;
    ap.node = "gate";
    ap.decision = "approved";
    b.approvals.push_back(ap);
    store::CacheEntry ce;
    ce.key = key;
    ce.output_blob = Hash128Hex(out);
    ce.node = "a";
    b.cache.push_back(ce);
    store::Batch sub;
    sub.run = store::RunRecord{};
    sub.run->id = id + ".sub";
    sub.run->parent_id = id;
    sub.run->created_at = t + 0.5;
    sub.run->status = "succeeded";
    ASSERT_TRUE(st->Commit(sub).ok());
    ASSERT_TRUE(st->Commit(b).ok());
  }

  static int64_t Count(const CopyReport& r, const std::string& table, bool from) {
    for (const auto& c : r.counts)
      if (c.table == table) return from ? c.from : c.to;
    return -1;
  }

  std::string dir_;
  std::unique_ptr<store::Store> from_, to_;
};

TEST_F(StoreCopyTest, CopiesEveryRowInOrderAndASecondCopyWritesNothing) {
  Fill(from_.get(), "r1", 100);
  Fill(from_.get(), "r2", 200, "another answer");
  CopyOptions o;
  o.blob_batch_bytes = 1;  // a batch per blob
  auto rep = CopyRuns(from_.get(), to_.get(), o);
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_TRUE(rep->ok());
  EXPECT_EQ(rep->copied, (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(Count(*rep, "runs", true), 4);
  EXPECT_EQ(Count(*rep, "events", true), 12);
  EXPECT_EQ(Count(*rep, "llm_calls", true), 4);
  EXPECT_EQ(Count(*rep, "cache", true), 2);
  EXPECT_EQ(Count(*rep, "blobs", true), 8);
  for (const auto& c : rep->counts) EXPECT_EQ(c.from, c.to) << c.table;
  // Events of a run and its sub-run keep their interleaving (commit order).
  auto a = from_->ListEvents("r1.sub"), b = to_->ListEvents("r1.sub");
  auto top = to_->ListEvents("r1");
  ASSERT_TRUE(b.ok() && top.ok());
  ASSERT_EQ(b->size(), 2u);
  EXPECT_LT((*top)[2].seq, (*b)[0].seq);
  EXPECT_LT((*b)[1].seq, (*top)[3].seq);
  auto calls = to_->ListLlmCalls("r1");
  ASSERT_TRUE(calls.ok());
  ASSERT_EQ(calls->size(), 1u);
  EXPECT_EQ((*calls)[0].finish_reason, "stop");
  EXPECT_EQ(*(*calls)[0].cost_usd, 0.125);
  auto big = to_->GetBlob(Hash128Hex(std::string(100000, 'x')));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->size(), 100000u);

  auto again = CopyRuns(from_.get(), to_.get(), {});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->ok());
  EXPECT_TRUE(again->copied.empty());
  EXPECT_EQ(again->unchanged, (std::vector<std::string>{"r1", "r2"}));
  auto events = to_->ListEvents("r1");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 4u) << "nothing appended twice";
}

TEST_F(StoreCopyTest, ASubRunNamesItsRunAndAnInterruptedCopyIsFinished) {
  Fill(from_.get(), "r1", 100);
  Fill(from_.get(), "r2", 200);
  // What an interrupted copy leaves: the sub-run's record, without the run.
  store::Batch sub;
  sub.run = *from_->GetRun("r1.sub").value();
  ASSERT_TRUE(to_->Commit(sub).ok());
  CopyOptions o;
  o.runs = {"r1.sub"};
  auto rep = CopyRuns(from_.get(), to_.get(), o);
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_TRUE(rep->ok()) << (rep->refused.empty() ? "" : rep->refused[0].second);
  EXPECT_EQ(rep->copied, (std::vector<std::string>{"r1"}));
  auto r2 = to_->GetRun("r2");
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->has_value());
  o.runs = {"nope"};
  EXPECT_FALSE(CopyRuns(from_.get(), to_.get(), o).ok());
}

TEST_F(StoreCopyTest, ALoneRunOfASubRunsIdWithOtherContentIsNotTakenOver) {
  Fill(from_.get(), "r1", 100);
  store::Batch other;
  other.run = *from_->GetRun("r1.sub").value();
  other.run->parent_id = "someone-else";
  other.run->workflow_name = "theirs";
  ASSERT_TRUE(to_->Commit(other).ok());
  auto rep = CopyRuns(from_.get(), to_.get(), {});
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_FALSE(rep->ok());
  ASSERT_EQ(rep->refused.size(), 1u);
  EXPECT_NE(rep->refused[0].second.find("other content"), std::string::npos) << rep->refused[0].second;
  auto kept = to_->GetRun("r1.sub");
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->workflow_name, "theirs");
  EXPECT_EQ((*kept)->parent_id, "someone-else");
}

TEST_F(StoreCopyTest, ARunThatDiffersIsRefusedAndLeftAsItWas) {
  Fill(from_.get(), "r1", 100);
  Fill(from_.get(), "r2", 200);
  Fill(to_.get(), "r1", 100, "a different answer");
  auto rep = CopyRuns(from_.get(), to_.get(), {});
  ASSERT_TRUE(rep.ok());
  EXPECT_FALSE(rep->ok());
  ASSERT_EQ(rep->refused.size(), 1u);
  EXPECT_EQ(rep->refused[0].first, "r1");
  EXPECT_NE(rep->refused[0].second.find("other content"), std::string::npos) << rep->refused[0].second;
  EXPECT_EQ(rep->copied, (std::vector<std::string>{"r2"}));
  auto n = to_->ListNodeRuns("r1");
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(n->size(), 1u);
  EXPECT_EQ((*n)[0].output_blob, Hash128Hex("a different answer"));
}

TEST_F(StoreCopyTest, AQueuedOrDetachedRunningRunIsRefused) {
  Fill(from_.get(), "r1", 100);
  Fill(from_.get(), "r2", 200);
  for (const auto& [id, status, options] : {std::tuple<std::string, std::string, std::string>{"r1", "queued", "{}"},
                                           {"r2", "running", R"({"detached": true})"}}) {
    store::Batch b;
    b.run = *from_->GetRun(id).value();
    b.run->status = status;
    b.run->options_json = options;
    b.run->pid = 0;
    ASSERT_TRUE(from_->Commit(b).ok());
  }
  auto rep = CopyRuns(from_.get(), to_.get(), {});
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_FALSE(rep->ok());
  ASSERT_EQ(rep->refused.size(), 2u);
  EXPECT_NE(rep->refused[0].second.find("queued for workers"), std::string::npos) << rep->refused[0].second;
  EXPECT_NE(rep->refused[1].second.find("running for workers"), std::string::npos) << rep->refused[1].second;
  EXPECT_FALSE(to_->GetRun("r1").value().has_value());
  EXPECT_FALSE(to_->GetRun("r2").value().has_value());
}

// The schedule fires go too (a skipped window has no run): a scheduler on TO then fires none of
// FROM's windows again. TO's own row of a window is kept; a second copy adds nothing; with
// --run only the fires of the runs named go.
TEST_F(StoreCopyTest, ScheduleFiresAreCopiedOnceAndTosOwnAreKept) {
  Fill(from_.get(), "r1", 100);
  Fill(from_.get(), "r2", 200);
  auto fire = [](const std::string& schedule, double at, const std::string& run, const std::string& status) {
    store::FireRecord f;
    f.schedule = schedule;
    f.fire_at = at;
    f.run_id = run;
    f.status = status;
    f.note = status == "skipped" ? "3 missed window(s)" : "";
    f.claimed_at = at + 1;
    f.claimed_by = "host:1";
    f.started_at = run.empty() ? 0 : at + 2;
    f.pid = run.empty() ? 0 : 42;
    return f;
  };
  for (const auto& f : {fire("id:daily", 86400, "r1", "started"), fire("id:daily", 2 * 86400, "", "skipped"),
                        fire("/p/flow.yaml#0", 120, "r2", "started")})
    ASSERT_TRUE(from_->ClaimFire(f).value());
  // With --run r1: its fire only.
  CopyOptions one;
  one.runs = {"r1"};
  auto rep1 = CopyRuns(from_.get(), to_.get(), one);
  ASSERT_TRUE(rep1.ok()) << rep1.status().message();
  EXPECT_TRUE(rep1->ok());
  EXPECT_EQ(Count(*rep1, "schedule_fires", true), 1);
  EXPECT_EQ(Count(*rep1, "schedule_fires", false), 1);
  EXPECT_EQ(to_->ListFires("", 0).value().size(), 1u);
  // TO has a row of its own for r2's window: kept as it is.
  ASSERT_TRUE(to_->ClaimFire(fire("/p/flow.yaml#0", 120, "", "failed")).value());
  auto rep = CopyRuns(from_.get(), to_.get(), {});
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_TRUE(rep->ok());
  EXPECT_EQ(Count(*rep, "schedule_fires", true), 3);
  EXPECT_EQ(Count(*rep, "schedule_fires", false), 3);
  auto daily = to_->ListFires("id:daily", 0);
  ASSERT_TRUE(daily.ok());
  ASSERT_EQ(daily->size(), 2u);
  EXPECT_EQ((*daily)[0].fire_at, 2 * 86400);  // the newest: what a scheduler on TO reads as last
  EXPECT_EQ((*daily)[0].status, "skipped");
  EXPECT_EQ((*daily)[0].note, "3 missed window(s)");
  EXPECT_EQ((*daily)[1].run_id, "r1");
  EXPECT_EQ((*daily)[1].status, "started");
  EXPECT_EQ((*daily)[1].pid, 42);
  EXPECT_EQ((*daily)[1].claimed_by, "host:1");
  auto kept = to_->ListFires("/p/flow.yaml#0", 0);
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].status, "failed");
  // A scheduler on TO cannot claim a copied window again.
  EXPECT_FALSE(to_->ClaimFire(fire("id:daily", 86400, "r1", "claimed")).value());
  auto again = CopyRuns(from_.get(), to_.get(), {});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->ok());
  EXPECT_EQ(Count(*again, "schedule_fires", false), 3);
  EXPECT_EQ(to_->ListFires("", 0).value().size(), 3u);
}

// A URL store's local folder stays one level under $XDG_STATE_HOME/specwright/stores whatever
// the URL holds, never names its password, and differs per database.
TEST(StoreFilesDir, AUrlsFolderStaysInTheStateFolderWithoutThePassword) {
  const char* old = std::getenv("XDG_STATE_HOME");
  std::string saved = old ? old : "";
  setenv("XDG_STATE_HOME", "/state", 1);
  const std::string base = "/state/specwright/stores/";
  for (const std::string& url : std::vector<std::string>{
           "postgresql://u:s3cr3t@h:5432/db", "postgresql://u:s3cr3t@../../..", "postgresql://u:s3cr3t@h/../../etc",
        "postgresql://u:s3cr3t@h/%2e%2e%2f..", "postgresql://u:ab?s3cr3t@h/db", "postgresql://..", "postgresql://",
        "postgres://u@h/db?password=s3cr3t&host=/tmp/../..", "postgresql://u:s3cr3t@h/" + std::string(500, '.')}) {
    std::string d = StoreFilesDirFor(url);
    ASSERT_EQ(d.rfind(base, 0), 0u) << url << " -> " << d;
    std::string leaf = d.substr(base.size());
    EXPECT_EQ(leaf.find('/'), std::string::npos) << url << " -> " << d;
    EXPECT_NE(leaf, "..") << url;
    EXPECT_NE(leaf, ".") << url;
    EXPECT_LE(leaf.size(), 90u) << d;
    EXPECT_EQ(d.find("s3cr3t"), std::string::npos) << url << " -> " << d;
    EXPECT_EQ(std::filesystem::path(d).lexically_normal().string(), d) << url;
  }
  EXPECT_NE(StoreFilesDirFor("postgresql://u@h/a"), StoreFilesDirFor("postgresql://u@h/b"));
  EXPECT_EQ(StoreFilesDirFor("postgresql://u:one@h/a"), StoreFilesDirFor("postgresql://u:two@h/a"));
  setenv("XDG_STATE_HOME", "relative/state", 1);  // invalid per XDG: ignored
  EXPECT_EQ(StoreFilesDirFor("postgresql://u@h/a").rfind("relative", 0), std::string::npos);
  if (old) setenv("XDG_STATE_HOME", saved.c_str(), 1);
  else unsetenv("XDG_STATE_HOME");
}

}  // namespace
}  // namespace sw::cli
