// The shipped patterns (patterns/std) run for real: each example in examples/patterns/<name>
// runs offline with its recorded script through the real binary, and the test reads the store
// it wrote — the parent's result, the one sub-run per pattern node (its workflow file is the
// shipped pattern), each role's calls under the model the parent chose, and the pattern's
// documented outputs. Plus the failure paths a user meets: an unknown pattern, a critic that
// never approves, a selector that picks a candidate that does not exist.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "store/store.h"

namespace {

namespace fs = std::filesystem;
using e2e::Result;
using e2e::RunCli;
using json = nlohmann::json;

const std::string kSource = SW_SOURCE_DIR;

class PatternsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_patterns_e2e_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void Write(const std::string& name, const std::string& text) {
    fs::create_directories(fs::path(dir_ + "/" + name).parent_path());
    std::ofstream(dir_ + "/" + name) << text;
  }
  /// RunExample runs examples/patterns/NAME offline with its script (or `script`), as run id id.
  Result RunExample(const std::string& name, const std::string& id, std::vector<std::string> extra = {},
                    const std::string& script = "") {
    std::string ex = kSource + "/examples/patterns/" + name;
    std::vector<std::string> args = {"run",     ex + "/flow.yaml", "--script", script.empty() ? ex + "/script.yaml" : script,
                                     "--store", dir_ + "/store",   "--run-id", id};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCli(args, dir_);
  }
  sw::store::Store* Store() {
    if (!store_) {
      auto st = sw::store::OpenStore(dir_ + "/store");
      EXPECT_TRUE(st.ok()) << st.status().message();
      if (st.ok()) store_ = std::move(st).value();
    }
    return store_.get();
  }
  /// Artifacts of a run, name -> text.
  std::map<std::string, std::string> Artifacts(const std::string& run) {
    std::map<std::string, std::string> out;
    auto list = Store()->ListArtifacts(run);
    EXPECT_TRUE(list.ok());
    if (!list.ok()) return out;
    for (const auto& a : *list) {
      auto blob = Store()->GetBlob(a.blob);
      EXPECT_TRUE(blob.ok());
      if (blob.ok()) out[a.name] = *blob;
    }
    return out;
  }
  /// TheSubRun checks the run succeeded with one sub-run, id.node, running the shipped pattern.
  std::string TheSubRun(const std::string& id, const std::string& node, const std::string& pattern) {
    auto run = Store()->GetRun(id);
    EXPECT_TRUE(run.ok() && *run);
    if (!run.ok() || !*run) return "";
    EXPECT_EQ((*run)->status, "succeeded") << (*run)->error;
    auto subs = Store()->ListSubRuns(id);
    EXPECT_TRUE(subs.ok());
    if (!subs.ok()) return "";
    EXPECT_EQ(subs->size(), 1u);
    if (subs->size() != 1) return "";
    const auto& s = subs->front();
    EXPECT_EQ(s.id, id + "." + node);
    EXPECT_EQ(s.parent_id, id);
    EXPECT_EQ(s.status, "succeeded");
    EXPECT_EQ(fs::weakly_canonical(s.workflow_file), fs::weakly_canonical(kSource + "/patterns/" + pattern + ".yaml"));
    return s.id;
  }
  /// Calls counts a run's model calls per node, and checks each node's calls used one model.
  std::map<std::string, int> Calls(const std::string& run, std::map<std::string, std::string>* models = nullptr) {
    std::map<std::string, int> n;
    auto calls = Store()->ListLlmCalls(run);
    EXPECT_TRUE(calls.ok());
    if (!calls.ok()) return n;
    for (const auto& c : *calls) {
      ++n[c.node];
      if (models) {
        std::string m = c.provider + "/" + c.model;
        auto [it, fresh] = models->emplace(c.node, m);
        EXPECT_EQ(it->second, m) << c.node;
      }
    }
    return n;
  }
  std::string dir_;
  std::unique_ptr<sw::store::Store> store_;
};

TEST_F(PatternsE2E, CriticRevisesUntilTheCriticApproves) {
  Result r = RunExample("critic", "crit");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::string sub = TheSubRun("crit", "note", "std/critic");
  std::map<std::string, std::string> models;
  EXPECT_EQ(Calls(sub, &models), (std::map<std::string, int>{{"writer", 2}, {"critic", 2}}));
  EXPECT_EQ(models["writer"], "scripted/writer");
  EXPECT_EQ(models["critic"], "scripted/critic");
  auto a = Artifacts("crit");
  EXPECT_EQ(a["post"],
            "Crashed runs now pick up where they stopped. You never pay twice for a call that already finished. "
            "(approved: true, last round: 1)");
  // The second draft was written from the first and the critic's feedback.
  auto writes = Store()->ListLlmCallsOf(sub, "writer");
  ASSERT_TRUE(writes.ok());
  ASSERT_EQ(writes->size(), 2u);
  auto req = Store()->GetBlob(writes->back().request_blob);
  ASSERT_TRUE(req.ok());
  EXPECT_NE(req->find("resumption semantics are idempotent"), std::string::npos);
  EXPECT_NE(req->find("Jargon (idempotent, journal)"), std::string::npos);
}

TEST_F(PatternsE2E, ACriticThatNeverApprovesStopsAfterThreeRoundsWithTheLastDraft) {
  Write("never.yaml",
        "nodes:\n  writer: [{when: {iteration: 0}, text: d0}, {when: {iteration: 1}, text: d1}, {text: d2}]\n"
        "  critic: [{json: {approved: false, feedback: worse}}]\n");
  Result r = RunExample("critic", "never", {}, dir_ + "/never.yaml");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::string sub = TheSubRun("never", "note", "std/critic");
  // Said, not silent: the sub-run records that its loop ran out.
  auto warnings = Store()->ListEventsOfType(sub, "warning");
  ASSERT_TRUE(warnings.ok());
  ASSERT_EQ(warnings->size(), 1u);
  EXPECT_NE(warnings->front().data.find("loop reached max_iterations 3"), std::string::npos) << warnings->front().data;
  EXPECT_EQ(Calls(sub), (std::map<std::string, int>{{"writer", 3}, {"critic", 3}}));
  EXPECT_EQ(Artifacts("never")["post"], "d2 (approved: false, last round: 2)");
}

TEST_F(PatternsE2E, DebateRunsTheRoundsAskedThenTheJudgeDecides) {
  for (int rounds : {1, 2, 3}) {
    SCOPED_TRACE(rounds);
    std::string id = "deb" + std::to_string(rounds);
    Result r = RunExample("debate", id, {"--input", "rounds=" + std::to_string(rounds), "--no-cache"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    std::string sub = TheSubRun(id, "debate", "std/debate");
    std::map<std::string, std::string> models;
    EXPECT_EQ(Calls(sub, &models), (std::map<std::string, int>{{"a", rounds}, {"b", rounds}, {"judge", 1}}));
    EXPECT_EQ(models["a"], "scripted/architect");  // model: for every role
    EXPECT_EQ(models["judge"], "scripted/judge");  // models: overrides it for one
    auto a = Artifacts(id);
    EXPECT_EQ(a["decision.md"], "Decision (a): SQLite by default; PostgreSQL when workers are used.");
    auto sa = Artifacts(sub);
    json ex = json::parse(sa["exchange@" + std::to_string(rounds - 1)].empty() ? sa["exchange"]
                                                                                : sa["exchange@" + std::to_string(rounds - 1)]);
    std::string transcript = ex["transcript"];
    size_t turns = 0;
    for (size_t at = 0; (at = transcript.find("A (SQLite by default", at)) != std::string::npos; ++at) ++turns;
    EXPECT_EQ(turns, static_cast<size_t>(rounds)) << transcript;
    // The judge read the whole transcript.
    auto judge = Store()->ListLlmCallsOf(sub, "judge");
    ASSERT_TRUE(judge.ok());
    ASSERT_EQ(judge->size(), 1u);
    auto req = Store()->GetBlob(judge->front().request_blob);
    ASSERT_TRUE(req.ok());
    EXPECT_NE(req->find("SQLite locks the whole file on write"), std::string::npos);
    // From the second round on, A answers B's last argument.
    auto as = Store()->ListLlmCallsOf(sub, "a");
    ASSERT_TRUE(as.ok());
    ASSERT_EQ(as->size(), static_cast<size_t>(rounds));
    auto first = Store()->GetBlob(as->front().request_blob);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->find("SQLite locks the whole file on write"), std::string::npos);
    if (rounds > 1) {
      auto second = Store()->GetBlob((*as)[1].request_blob);
      ASSERT_TRUE(second.ok());
      EXPECT_NE(second->find("SQLite locks the whole file on write"), std::string::npos) << *second;
    }
  }
}

TEST_F(PatternsE2E, DebateClampsRoundsOutsideOneToThreeAsDocumented) {
  // Documented both ends: rounds below 1 run one round, above 3 run three.
  for (auto [asked, run] : std::vector<std::pair<int, int>>{{0, 1}, {-2, 1}, {5, 3}}) {
    SCOPED_TRACE(asked);
    std::string id = "debc" + std::to_string(asked + 10);
    Result r = RunExample("debate", id, {"--input", "rounds=" + std::to_string(asked), "--no-cache"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    std::string sub = TheSubRun(id, "debate", "std/debate");
    EXPECT_EQ(Calls(sub), (std::map<std::string, int>{{"a", run}, {"b", run}, {"judge", 1}}));
  }
}

TEST_F(PatternsE2E, AnEmptyListFailsBestOfNAndMapReduceBeforeAnyCall) {
  Write("bon.yaml",
        "name: t\nnodes:\n  tagline:\n    kind: workflow\n    workflow: std/best-of-n\n"
        "    model: scripted/writer\n    with: {task: t, approaches: '[]'}\n");
  Write("any.yaml", "nodes:\n  \"*\": [{text: same}]\n");
  Result r = RunCli({"run", dir_ + "/bon.yaml", "--script", dir_ + "/any.yaml", "--store", dir_ + "/store", "--run-id",
                     "bon0"},
                    dir_);
  EXPECT_NE(r.code, 0) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("std/best-of-n: approaches is empty"), std::string::npos) << r.out << r.err;
  EXPECT_TRUE(Calls("bon0.tagline").empty());
  EXPECT_TRUE(Calls("bon0").empty());
  Result m = RunExample("map-reduce", "mr0", {"--input", "feedback=[]"}, dir_ + "/any.yaml");
  EXPECT_NE(m.code, 0) << m.out << m.err;
  EXPECT_NE((m.out + m.err).find("std/map-reduce: items is empty"), std::string::npos) << m.out << m.err;
  EXPECT_TRUE(Calls("mr0.themes").empty());
  auto sub = Store()->GetRun("mr0.themes");
  ASSERT_TRUE(sub.ok() && *sub);
  EXPECT_EQ((*sub)->status, "failed");
}

TEST_F(PatternsE2E, BestOfNWritesOneCandidatePerApproachAndKeepsTheSelectedOne) {
  Result r = RunExample("best-of-n", "bon");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::string sub = TheSubRun("bon", "tagline", "std/best-of-n");
  std::map<std::string, std::string> models;
  EXPECT_EQ(Calls(sub, &models), (std::map<std::string, int>{{"generate", 3}, {"select", 1}}));
  EXPECT_EQ(models["generate"], "scripted/writer");
  EXPECT_EQ(models["select"], "scripted/editor");
  EXPECT_EQ(Artifacts("bon")["use"], "Tagline: Crash it. Resume it. Pay once. (candidate 1)");
  // Each candidate's prompt named its own approach, so the three requests differ.
  auto gen = Store()->ListLlmCallsOf(sub, "generate");
  ASSERT_TRUE(gen.ok());
  std::set<std::string> hashes;
  for (const auto& c : *gen) hashes.insert(c.request_hash);
  EXPECT_EQ(hashes.size(), 3u);
  // The selector saw every candidate under the number it answers with.
  auto sel = Store()->ListLlmCallsOf(sub, "select");
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->size(), 1u);
  auto sreq = Store()->GetBlob(sel->front().request_blob);
  ASSERT_TRUE(sreq.ok());
  for (const char* c : {"--- candidate 0 ---\\nWorkflows that finish what they start.",
                        "--- candidate 1 ---\\nCrash it. Resume it. Pay once.",
                        "--- candidate 2 ---\\nDurable DAG execution with per-call cost accounting."})
    EXPECT_NE(sreq->find(c), std::string::npos) << c << "\n" << *sreq;
}

TEST_F(PatternsE2E, ASelectorThatPicksNoCandidateFailsTheRunNamingTheIndex) {
  Write("bad.yaml",
        "nodes:\n  generate: [{text: only}]\n  select: [{json: {best: 7, reason: \"out of range\"}}]\n");
  Result r = RunExample("best-of-n", "bad", {}, dir_ + "/bad.yaml");
  EXPECT_NE(r.code, 0) << r.out << r.err;
  auto run = Store()->GetRun("bad");
  ASSERT_TRUE(run.ok() && *run);
  EXPECT_EQ((*run)->status, "failed");
  auto sub = Store()->GetRun("bad.tagline");
  ASSERT_TRUE(sub.ok() && *sub);
  EXPECT_EQ((*sub)->status, "failed");
  EXPECT_NE((r.out + r.err).find("index 7 is out of range of a list of 3"), std::string::npos) << r.out << r.err;
}

TEST_F(PatternsE2E, ReflexionKeepsALessonPerFailedAttempt) {
  Result r = RunExample("reflexion", "refl");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::string sub = TheSubRun("refl", "solve", "std/reflexion");
  EXPECT_EQ(Calls(sub), (std::map<std::string, int>{{"attempt", 2}, {"evaluate", 2}, {"reflect", 1}}));
  EXPECT_EQ(Artifacts("refl")["report"],
            "find docs -name '*.md' -exec wc -l {} + | sort -rn\npassed: true\nlessons:\n"
            "- I used bash-only globbing and a text sort. Next time: find for recursion, sort -n for numbers.");
  // The second attempt read the lesson.
  auto attempts = Store()->ListLlmCallsOf(sub, "attempt");
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 2u);
  auto req = Store()->GetBlob(attempts->back().request_blob);
  ASSERT_TRUE(req.ok());
  EXPECT_NE(req->find("sort -n for numbers"), std::string::npos);
}

TEST_F(PatternsE2E, ReflexionWritesNoLessonAfterTheLastAttempt) {
  // Three failed attempts: 3 + 3 + 2 calls — the third failure's lesson would be read by nothing.
  Write("fail.yaml",
        "nodes:\n  attempt: [{text: wrong}]\n  evaluate: [{json: {success: false, feedback: still wrong}}]\n"
        "  reflect:\n    - {when: {iteration: 0}, text: lesson one}\n    - {when: {iteration: 1}, text: lesson two}\n"
        "    - {text: lesson three}\n");
  Result r = RunExample("reflexion", "refl3", {}, dir_ + "/fail.yaml");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(Calls("refl3.solve"), (std::map<std::string, int>{{"attempt", 3}, {"evaluate", 3}, {"reflect", 2}}));
  EXPECT_EQ(Artifacts("refl3")["report"], "wrong\npassed: false\nlessons:\n- lesson one\n- lesson two");
}

TEST_F(PatternsE2E, PlanAndExecuteRunsEveryStepThenSynthesizes) {
  Result r = RunExample("plan-and-execute", "pe");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::string sub = TheSubRun("pe", "checklist", "std/plan-and-execute");
  std::map<std::string, std::string> models;
  EXPECT_EQ(Calls(sub, &models), (std::map<std::string, int>{{"plan", 1}, {"execute", 3}, {"synthesize", 1}}));
  EXPECT_EQ(models["plan"], "scripted/planner");
  EXPECT_EQ(models["execute"], "scripted/worker");
  std::string saved = Artifacts("pe")["checklist.md"];
  EXPECT_EQ(saved.rfind("Launch checklist for Specwright 1.0\n1. Docs", 0), 0u) << saved;
  // The steps ran in plan order, one per round, each seeing the plan and the results before it.
  auto exec = Store()->ListLlmCallsOf(sub, "execute");
  ASSERT_TRUE(exec.ok());
  ASSERT_EQ(exec->size(), 3u);
  std::vector<std::string> reqs;
  for (const auto& c : *exec) {
    auto b = Store()->GetBlob(c.request_blob);
    ASSERT_TRUE(b.ok());
    reqs.push_back(*b);
  }
  // In round order: round N's request carries the N results before it ("## title" each).
  auto done = [](const std::string& q) {
    size_t n = 0;
    for (size_t at = 0; (at = q.find("## ", at)) != std::string::npos; ++at) ++n;
    return n;
  };
  std::sort(reqs.begin(), reqs.end(), [&](const std::string& x, const std::string& y) { return done(x) < done(y); });
  EXPECT_EQ(done(reqs[0]) + done(reqs[1]) + done(reqs[2]), 3u);
  for (const auto& q : reqs) EXPECT_NE(q.find("- announcement"), std::string::npos) << q;  // the plan
  EXPECT_NE(reqs[0].find("Now do the step \\\"docs\\\""), std::string::npos) << reqs[0];
  EXPECT_EQ(reqs[0].find("Docs: install"), std::string::npos) << reqs[0];
  EXPECT_NE(reqs[1].find("Now do the step \\\"packaging\\\""), std::string::npos) << reqs[1];
  EXPECT_NE(reqs[1].find("## docs\\nDocs: install, quick start"), std::string::npos) << reqs[1];  // step 1's result
  EXPECT_EQ(reqs[1].find("Packaging: .deb"), std::string::npos) << reqs[1];
  EXPECT_NE(reqs[2].find("Now do the step \\\"announcement\\\""), std::string::npos) << reqs[2];
  EXPECT_NE(reqs[2].find("Docs: install"), std::string::npos) << reqs[2];
  EXPECT_NE(reqs[2].find("## packaging\\nPackaging: .deb"), std::string::npos) << reqs[2];
  auto synth = Store()->ListLlmCallsOf(sub, "synthesize");
  ASSERT_TRUE(synth.ok());
  ASSERT_EQ(synth->size(), 1u);
  auto req = Store()->GetBlob(synth->front().request_blob);
  ASSERT_TRUE(req.ok());
  // The synthesizer saw each step's title with its result.
  for (const char* step : {"## docs\\nDocs: install", "## packaging\\nPackaging: .deb", "## announcement\\nAnnouncement: the blog"})
    EXPECT_NE(req->find(step), std::string::npos) << step << "\n" << *req;
}

TEST_F(PatternsE2E, MapReduceMapsEveryItemThenReduces) {
  Result r = RunExample("map-reduce", "mr");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::string sub = TheSubRun("mr", "themes", "std/map-reduce");
  EXPECT_EQ(Calls(sub), (std::map<std::string, int>{{"map", 3}, {"reduce", 1}}));
  EXPECT_EQ(Artifacts("mr")["themes.md"],
            "Problems: discoverability of budgets; readability of costs. Praise: crash resume.");
  // The reducer is told what the results answer: the instruction.
  auto red = Store()->ListLlmCallsOf(sub, "reduce");
  ASSERT_TRUE(red.ok());
  ASSERT_EQ(red->size(), 1u);
  auto rreq = Store()->GetBlob(red->front().request_blob);
  ASSERT_TRUE(rreq.ok());
  EXPECT_NE(rreq->find("Summarise this user feedback in at most 8 words"), std::string::npos) << *rreq;
  // --model replaces every model, the pattern's included; a list input of four items maps four.
  Write("any.yaml", "nodes:\n  \"*\": [{text: same}]\n");
  Result r2 = RunExample("map-reduce", "mr4", {"--model", "scripted/any", "--input", "feedback=[\"a\", \"b\", \"c\", \"d\"]"},
                         dir_ + "/any.yaml");
  ASSERT_EQ(r2.code, 0) << r2.out << r2.err;
  std::map<std::string, std::string> models;
  EXPECT_EQ(Calls("mr4.themes", &models), (std::map<std::string, int>{{"map", 4}, {"reduce", 1}}));
  EXPECT_EQ(models["reduce"], "scripted/any");
}

TEST_F(PatternsE2E, AnUnknownPatternIsRefusedWithItsPositionAndTheLibrary) {
  Write("flow.yaml", "name: t\nnodes:\n  d:\n    kind: workflow\n    workflow: std/debait\n    with: {question: q}\n");
  Result r = RunCli({"validate", dir_ + "/flow.yaml"}, dir_);
  EXPECT_NE(r.code, 0);
  std::string all = r.out + r.err;
  EXPECT_NE(all.find("flow.yaml:5:15: error: no pattern std/debait in "), std::string::npos) << all;
  EXPECT_NE(all.find("std/debate"), std::string::npos) << all;
  Result run = RunCli({"run", dir_ + "/flow.yaml", "--store", dir_ + "/store"}, dir_);
  EXPECT_NE(run.code, 0);
  EXPECT_NE((run.out + run.err).find("5:15: no pattern std/debait"), std::string::npos) << run.out << run.err;
}

TEST_F(PatternsE2E, ThePatternsCommandListsTheLibraryAndShowsOnesInterface) {
  Result list = RunCli({"patterns"}, dir_);
  ASSERT_EQ(list.code, 0) << list.err;
  for (const char* name : {"std/critic", "std/debate", "std/best-of-n", "std/reflexion", "std/plan-and-execute",
                           "std/map-reduce", "std/judge"})
    EXPECT_NE(list.out.find(name), std::string::npos) << name << "\n" << list.out;
  Result one = RunCli({"patterns", "debate"}, dir_);
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_NE(one.out.find("Calls: 2 per round + 1"), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("rounds       integer  default 2"), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("judge        reads the transcript"), std::string::npos) << one.out;
  Result js = RunCli({"patterns", "std/best-of-n", "--json"}, dir_);
  ASSERT_EQ(js.code, 0) << js.err;
  json d = json::parse(js.out);
  EXPECT_EQ(d["name"], "std/best-of-n");
  std::vector<std::string> roles;
  for (const auto& r : d["roles"]) roles.push_back(r["node"]);
  EXPECT_EQ(roles, (std::vector<std::string>{"generate", "select"}));
  EXPECT_EQ(d["inputs"][1]["name"], "approaches");
  EXPECT_EQ(d["inputs"][1]["type"], "list");
  Result bad = RunCli({"patterns", "debait"}, dir_);
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("no pattern std/debait"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("std/debate"), std::string::npos) << bad.err;
}

}  // namespace
