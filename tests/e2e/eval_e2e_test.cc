// End-to-end: eval suites through the real binary — examples/launch-eval offline with the
// scripted provider, a worse script caught by --baseline, the offline replay of an eval, a
// suite budget that stops across cases, JUnit XML read back by Python's parser, and errors.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "http_util.h"
#include "store/store.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace e2e;

const std::string kExample = std::string(SW_SOURCE_DIR) + "/examples/launch-eval";

class EvalE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_eval_e2e_XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = dir_ + "/store";
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ + "/" + name) << text; }
  Result Eval(const std::string& script, std::vector<std::string> extra = {}, const std::string& suite = "") {
    std::vector<std::string> args = {"eval", suite.empty() ? kExample + "/suite.yaml" : suite, "--script",
                                     script[0] == '/' ? script : kExample + "/" + script, "--store", store_};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCli(args, dir_);
  }
  json ReadJson(const std::string& path) {
    std::ifstream f(path);
    return json::parse(f);
  }
  std::string dir_, store_;
};

TEST_F(EvalE2E, LaunchSuitePassesOfflineAndRecordsTheEvalAsOneRun) {
  auto r = Eval("script.yaml", {"--output", dir_ + "/base.json", "--junit", dir_ + "/base.xml", "--run-id", "eval-base"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("cases: 5, passed 5, failed 0, errors 0; pass rate 100.0%"), std::string::npos) << r.out;
  json rep = ReadJson(dir_ + "/base.json");
  EXPECT_EQ(rep["format"], "specwright-eval-report/1");
  EXPECT_EQ(rep["run"], "eval-base");
  EXPECT_EQ(rep["suite"]["name"], "launch-eval");
  EXPECT_EQ(rep["summary"]["cases"], 5);
  EXPECT_EQ(rep["summary"]["passed"], 5);
  EXPECT_EQ(rep["summary"]["pass_rate"], 1.0);
  EXPECT_GT(rep["summary"]["cost_usd"].get<double>(), 0);
  // Seven suite assertions on every case, one more on finance-ops.
  EXPECT_EQ(rep["summary"]["assertions"], 5 * 7 + 1);
  ASSERT_EQ(rep["assertions"].size(), 8u);
  for (const auto& a : rep["assertions"]) EXPECT_EQ(a["pass_rate"], 1.0) << a;
  // The rubric's verdict is a recorded judge run below the case's run.
  const json& c0 = rep["cases"][0];
  std::string judge_run;
  for (const auto& a : c0["assertions"])
    if (a["type"] == "rubric") judge_run = a.value("judge_run", "");
  ASSERT_FALSE(judge_run.empty()) << c0;

  auto st = sw::store::OpenSqlite(store_);
  ASSERT_TRUE(st.ok());
  auto top = (*st)->ListRuns(100);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 1u) << "the eval is one top-level run, not one per case";
  EXPECT_EQ((*top)[0].id, "eval-base");
  EXPECT_EQ((*top)[0].label, "eval");
  EXPECT_EQ((*top)[0].status, "succeeded");
  auto subs = (*st)->ListSubRuns("eval-base");
  ASSERT_TRUE(subs.ok());
  int cases = 0, judges = 0;
  for (const auto& s : *subs) {
    if (s.parent_id == "eval-base") ++cases;
    if (s.label.rfind("judge ", 0) == 0) ++judges;
  }
  EXPECT_EQ(cases, 5);
  EXPECT_EQ(judges, 5);
  auto jr = (*st)->GetRun(judge_run);
  ASSERT_TRUE(jr.ok() && *jr);
  EXPECT_EQ((**jr).parent_id, c0["run"].get<std::string>());
  auto calls = (*st)->ListLlmCalls(judge_run);
  ASSERT_TRUE(calls.ok());
  ASSERT_EQ(calls->size(), 1u);
  EXPECT_EQ((*calls)[0].model, "judge");
  // The report is the eval run's artifact, the same JSON eval-report prints.
  auto shown = RunCli({"eval-report", "eval-base", "--format", "json", "--store", store_}, dir_);
  ASSERT_EQ(shown.code, 0) << shown.err;
  EXPECT_EQ(json::parse(shown.out), rep);

  // JUnit XML, read by an independent parser.
  std::string py = "import xml.etree.ElementTree as ET,sys\n"
                   "r=ET.parse(sys.argv[1]).getroot()\n"
                   "s=r.find('testsuite')\n"
                   "print(s.get('name'), s.get('tests'), s.get('failures'), len(s.findall('testcase')),"
                   " sum(len(t.findall('failure')) for t in s.findall('testcase')),"
                   " s.find('testcase').find('properties').find(\"property[@name='cost_usd']\") is not None)\n";
  Write("junit.py", py);
  FILE* p = popen(("python3 " + dir_ + "/junit.py " + dir_ + "/base.xml").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[256] = {0};
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  ASSERT_EQ(pclose(p), 0);
  EXPECT_EQ(std::string(buf, n), "launch-eval 5 0 5 0 True\n");
}

TEST_F(EvalE2E, AWorseModelIsARegressionAgainstTheBaselineFileOrRun) {
  auto base = Eval("script.yaml", {"--output", dir_ + "/base.json", "--run-id", "eval-base"});
  ASSERT_EQ(base.code, 0) << base.out << base.err;
  // The same model again: no regression (latency is not what this test measures).
  auto same = Eval("script.yaml", {"--baseline", dir_ + "/base.json", "--tolerance", "latency=1000"});
  EXPECT_EQ(same.code, 0) << same.out << same.err;
  EXPECT_NE(same.out.find(": ok\n"), std::string::npos) << same.out;

  auto worse = Eval("script-worse.yaml", {"--baseline", dir_ + "/base.json", "--tolerance", "latency=1000", "--junit",
                                          dir_ + "/worse.xml", "--output", dir_ + "/worse.json", "--run-id", "eval-worse"});
  EXPECT_EQ(worse.code, 1) << worse.out << worse.err;
  EXPECT_NE(worse.out.find("regression: pass rate fell from 100.0% to 60.0%"), std::string::npos) << worse.out;
  EXPECT_NE(worse.out.find("regression: case finance-ops: passed -> failed: names-product (contains)"), std::string::npos)
      << worse.out;
  EXPECT_NE(worse.out.find("regression: case support-desk: passed -> failed"), std::string::npos) << worse.out;
  EXPECT_EQ(worse.out.find("case cli-brief: passed ->"), std::string::npos) << worse.out;
  json w = ReadJson(dir_ + "/worse.json");
  EXPECT_EQ(w["summary"]["failed"], 2);
  for (const auto& c : w["cases"])
    if (c["id"] == "finance-ops")
      for (const auto& a : c["assertions"])
        if (a["id"] == "names-product") {
          EXPECT_EQ(a["passed"], false);
          EXPECT_NE(a["actual"].get<std::string>().find("A new tool for finance"), std::string::npos) << a;
        }

  // The baseline named by its run id in the store, and the comparison as JSON.
  auto by_run = Eval("script-worse.yaml", {"--baseline", "eval-base", "--tolerance", "latency=1000"});
  EXPECT_EQ(by_run.code, 1) << by_run.out << by_run.err;
  auto cmp = RunCli({"eval-report", "eval-worse", "--baseline", "eval-base", "--format", "json", "--tolerance",
                     "latency=1000", "--store", store_}, dir_);
  EXPECT_EQ(cmp.code, 1) << cmp.err;
  json c = json::parse(cmp.out);
  EXPECT_EQ(c["verdict"], "regression");
  EXPECT_EQ(c["a"], "eval-base");
  EXPECT_EQ(c["b"], "eval-worse");
  EXPECT_DOUBLE_EQ(c["pass_rate"]["delta"].get<double>(), -0.4);
  std::map<std::string, std::string> change;
  for (const auto& x : c["cases"]) change[x["id"]] = x["change"];
  EXPECT_EQ(change["finance-ops"], "regressed");
  EXPECT_EQ(change["support-desk"], "regressed");
  EXPECT_EQ(change["cli-brief"], "same");
  // Compared the other way round, the two cases are fixed and nothing regressed.
  auto back = RunCli({"eval-report", "eval-base", "--baseline", "eval-worse", "--tolerance", "latency=1000,cost=10",
                      "--store", store_}, dir_);
  EXPECT_EQ(back.code, 0) << back.out << back.err;
  EXPECT_NE(back.out.find("fixed: case finance-ops"), std::string::npos) << back.out;

  // Without a baseline, a failed case is exit 1.
  auto alone = Eval("script-worse.yaml");
  EXPECT_EQ(alone.code, 1) << alone.out;
  EXPECT_NE(alone.out.find("FAIL  support-desk"), std::string::npos) << alone.out;

  // The history: newest first, with pass rates.
  auto h = RunCli({"evals", "--json", "--store", store_}, dir_);
  ASSERT_EQ(h.code, 0) << h.err;
  json hist = json::parse(h.out);
  ASSERT_EQ(hist["suites"].size(), 1u);
  EXPECT_EQ(hist["suites"][0]["name"], "launch-eval");
  const json& runs = hist["suites"][0]["runs"];
  ASSERT_EQ(runs.size(), 5u);
  EXPECT_EQ(runs[4]["run"], "eval-base");
  EXPECT_EQ(runs[4]["pass_rate"], 1.0);
  EXPECT_DOUBLE_EQ(runs[0]["pass_rate"].get<double>(), 0.6);
}

TEST_F(EvalE2E, OfflineReplayOfAnEvalReproducesEveryVerdict) {
  // The eval runs with a copy of the worse script; the copy is then replaced by the good one, so
  // a replay that asked the script instead of the recordings would pass every case.
  Write("model.yaml", Slurp(kExample + "/script-worse.yaml"));
  auto worse = Eval(dir_ + "/model.yaml", {"--run-id", "eval-w"});
  ASSERT_EQ(worse.code, 1) << worse.out << worse.err;
  Write("model.yaml", Slurp(kExample + "/script.yaml"));
  // Every answer (the judges' too) comes from each case's recordings.
  auto r = RunCli({"replay", "eval-w", "--offline", "--store", store_, "--run-id", "eval-w-replay"}, dir_);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("offline replay: 5 of 5 cases identical to eval eval-w"), std::string::npos) << r.out;
  auto a = RunCli({"eval-report", "eval-w", "--format", "json", "--store", store_}, dir_);
  auto b = RunCli({"eval-report", "eval-w-replay", "--format", "json", "--store", store_}, dir_);
  json ja = json::parse(a.out), jb = json::parse(b.out);
  EXPECT_EQ(ja["summary"]["passed"], 3);
  EXPECT_EQ(jb["summary"]["passed"], 3);
  EXPECT_DOUBLE_EQ(ja["summary"]["cost_usd"].get<double>(), jb["summary"]["cost_usd"].get<double>());
  for (size_t i = 0; i < ja["cases"].size(); ++i)
    for (size_t k = 0; k < ja["cases"][i]["assertions"].size(); ++k) {
      EXPECT_EQ(ja["cases"][i]["assertions"][k]["status"], jb["cases"][i]["assertions"][k]["status"]);
      EXPECT_EQ(ja["cases"][i]["assertions"][k]["actual"], jb["cases"][i]["assertions"][k]["actual"]);
    }
  // A replay of an eval is offline only, and an eval does not resume.
  auto live = RunCli({"replay", "eval-w", "--from", "draft", "--store", store_}, dir_);
  EXPECT_EQ(live.code, 2) << live.out << live.err;
  auto resume = RunCli({"resume", "eval-w", "--store", store_}, dir_);
  EXPECT_EQ(resume.code, 2) << resume.out << resume.err;
  EXPECT_NE(resume.err.find("run eval-w is an eval: it does not resume"), std::string::npos) << resume.err;
}

TEST_F(EvalE2E, TheSuiteBudgetStopsCasesAcrossTheSuite) {
  // A case costs about half a cent and reserves up to a cent per call before it: a budget of three
  // cents runs a few cases and stops the rest, never spending past it.
  std::string suite = "name: tight\nworkflow: " + std::string(SW_SOURCE_DIR) +
                      "/examples/launch/flow.yaml\ndataset: " + kExample +
                      "/cases.jsonl\nconcurrency: 1\nbudget: {max_usd: 0.03}\nassert:\n"
                      "  - {node: draft, contains: Specwright}\n";
  Write("tight.yaml", suite);
  auto r = Eval("script.yaml", {"--output", dir_ + "/tight.json"}, dir_ + "/tight.yaml");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  json rep = ReadJson(dir_ + "/tight.json");
  EXPECT_LE(rep["summary"]["cost_usd"].get<double>(), 0.03);
  int passed = rep["summary"]["passed"], errored = rep["summary"]["errored"];
  EXPECT_GE(passed, 1);
  EXPECT_GE(errored, 1);
  EXPECT_EQ(passed + errored, 5);
  bool said = false;
  for (const auto& c : rep["cases"])
    said = said || c["error"].get<std::string>().find("budget") != std::string::npos;
  EXPECT_TRUE(said) << rep["cases"];
}

TEST_F(EvalE2E, BadSuitesAndDatasetsAreRefusedWithTheirPosition) {
  std::string wf = std::string(SW_SOURCE_DIR) + "/examples/launch/flow.yaml";
  Write("typo.yaml", "name: t\nworkflow: " + wf + "\ncases:\n  - {inputs: {idea: x}}\nasert:\n  - {node: draft, contains: x}\n");
  auto r = Eval("script.yaml", {}, dir_ + "/typo.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("typo.yaml:5:1: unknown key \"asert\" in the eval suite (did you mean \"assert\"?)"), std::string::npos)
      << r.err;
  Write("bad.jsonl", "{\"id\": \"a\", \"inputs\": {\"idea\": \"x\"}}\n{\"id\": \"b\", \"inputs\": {\n");
  Write("bad.yaml", "workflow: " + wf + "\ndataset: bad.jsonl\nassert:\n  - {node: draft, contains: x}\n");
  r = Eval("script.yaml", {}, dir_ + "/bad.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("bad.jsonl:2:"), std::string::npos) << r.err;
  Write("node.yaml", "workflow: " + wf + "\ncases: [{inputs: {idea: x}}]\nassert:\n  - {node: drafts, contains: x}\n");
  r = Eval("script.yaml", {}, dir_ + "/node.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("node.yaml:4:5: assertion A1: \"drafts\" is not a node of"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(did you mean \"draft\"?)"), std::string::npos) << r.err;
  auto missing = Eval("script.yaml", {"--baseline", "no-such-run"});
  EXPECT_EQ(missing.code, 2) << missing.err;
  EXPECT_NE(missing.err.find("--baseline \"no-such-run\" is neither a report file nor a run"), std::string::npos)
      << missing.err;
}

TEST_F(EvalE2E, TheApiServesTheHistoryTheReportAndTheComparisonAsTheCliDoes) {
  ASSERT_EQ(Eval("script.yaml", {"--run-id", "eval-a"}).code, 0);
  ASSERT_EQ(Eval("script-worse.yaml", {"--run-id", "eval-b"}).code, 1);
  fs::create_directories(dir_ + "/front");
  std::ofstream(dir_ + "/front/index.html") << "<!doctype html><title>front</title>";
  Proc ui = Spawn({"ui", "--port", "0", "--dir", dir_, "--store", store_, "--ui-dir", dir_ + "/front"}, dir_);
  int port = 0;
  for (int i = 0; i < 400 && port == 0; ++i) {
    std::string out = Slurp(ui.out_path);
    size_t at = out.find("http://127.0.0.1:");
    if (at != std::string::npos && out.find('/', at + 17) != std::string::npos) port = std::stoi(out.substr(at + 17));
    else std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_GT(port, 0) << Slurp(ui.err_path);
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--store", store_});
    auto r = RunCli(args, dir_);
    EXPECT_LE(r.code, 1) << r.err;
    return json::parse(r.out);
  };
  HttpReply h = Http(port, "GET", "/api/v1/evals");
  EXPECT_EQ(h.status, 200) << h.body;
  EXPECT_EQ(json::parse(h.body), cli({"evals", "--json"}));
  HttpReply one = Http(port, "GET", "/api/v1/evals/eval-b");
  EXPECT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(json::parse(one.body), cli({"eval-report", "eval-b", "--format", "json"}));
  HttpReply cmp = Http(port, "GET", "/api/v1/evals/compare?a=eval-a&b=eval-b");
  EXPECT_EQ(cmp.status, 200) << cmp.body;
  EXPECT_EQ(json::parse(cmp.body), cli({"eval-report", "eval-b", "--baseline", "eval-a", "--format", "json"}));
  EXPECT_EQ(json::parse(cmp.body)["verdict"], "regression");
  EXPECT_EQ(Http(port, "GET", "/api/v1/evals/compare?a=eval-a").status, 400);
  EXPECT_EQ(Http(port, "GET", "/api/v1/evals/nope").status, 404);
  // A run that is not an eval has no report.
  auto subs = sw::store::OpenSqlite(store_);
  ASSERT_TRUE(subs.ok());
  auto cases = (*subs)->ListSubRuns("eval-a");
  ASSERT_TRUE(cases.ok() && !cases->empty());
  EXPECT_EQ(Http(port, "GET", "/api/v1/evals/" + (*cases)[0].id).status, 400);
  // The suite its runs recorded is listed as an eval suite, and read as one: not a broken workflow.
  std::string suite = fs::weakly_canonical(kExample + "/suite.yaml").string();
  json list = json::parse(Http(port, "GET", "/api/v1/workflows").body);
  bool suite_listed = false;
  for (const auto& w : list)
    if (w["abs"] == suite) {
      suite_listed = true;
      EXPECT_EQ(w["kind"], "eval") << w;
    } else {
      EXPECT_EQ(w["kind"], "workflow") << w;
    }
  EXPECT_TRUE(suite_listed) << list.dump(2);
  HttpReply doc = Http(port, "GET", "/api/v1/workflow?path=" + suite);
  EXPECT_EQ(doc.status, 200) << doc.body;
  json d = json::parse(doc.body);
  EXPECT_EQ(d["kind"], "eval");
  EXPECT_EQ(d["ok"], true) << d["errors"];
  EXPECT_EQ(d["cases"], 5);
  EXPECT_TRUE(d["errors"].empty());
  kill(ui.pid, SIGTERM);
  EXPECT_EQ(Wait(ui), 0);
}

TEST_F(EvalE2E, AChangedSuiteIsNotReplayedUnlessAllowed) {
  // The suite and its dataset (as CSV) copied here, over the example's workflow.
  std::string csv = "id,idea,audience,vars.must_mention\n"
                    "cli-brief,a CLI that turns a product brief into a traceable code base,engineers,traceable\n"
                    "research-notes,\"a notebook that keeps research notes linked to sources\",researchers,requirement\n";
  Write("cases.csv", csv);
  Write("suite.yaml", "name: copy\nworkflow: " + std::string(SW_SOURCE_DIR) +
                          "/examples/launch/flow.yaml\ndataset: cases.csv\nassert:\n"
                          "  - {node: draft, icontains: \"{{case.vars.must_mention}}\"}\n"
                          "  - {node: draft, rubric: \"says durable\", threshold: 0.5}\n");
  auto r = Eval("script.yaml", {"--run-id", "e1"}, dir_ + "/suite.yaml");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("cases: 2, passed 2"), std::string::npos) << r.out;
  Write("cases.csv", csv + "\n");  // the same cases, other bytes
  auto refused = RunCli({"replay", "e1", "--offline", "--store", store_}, dir_);
  EXPECT_EQ(refused.code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("changed since eval e1 ran; pass --allow-drift"), std::string::npos) << refused.err;
  auto allowed = RunCli({"replay", "e1", "--offline", "--allow-drift", "--store", store_}, dir_);
  EXPECT_EQ(allowed.code, 0) << allowed.out << allowed.err;
  EXPECT_NE(allowed.out.find("offline replay: 2 of 2 cases identical to eval e1"), std::string::npos) << allowed.out;
}


// A small suite of its own: a one-node workflow, a judge whose answers are not JSON (its run
// fails after its retries), a nested long input.
class EvalE2EFixes : public EvalE2E {
 protected:
  void SetUp() override {
    EvalE2E::SetUp();
    Write("flow.yaml", "name: tiny\ninputs:\n  doc: object\nnodes:\n  a:\n    model: scripted/writer\n"
                       "    prompt: \"write about {{inputs.doc.title}}\"\n");
    Write("script.yaml", "prices:\n  scripted/writer: {input_cost_per_token: 0.001, output_cost_per_token: 0.001}\n"
                         "  scripted/judge: {input_cost_per_token: 0.001, output_cost_per_token: 0.001}\n"
                         "nodes:\n  a:\n    - {text: \"Hello durable world\", usage: {input: 10, output: 10}}\n"
                         "  verdict:\n    - {text: \"not a verdict\", usage: {input: 100, output: 100}}\n");
  }
};

TEST_F(EvalE2EFixes, AFailedJudgeRunIsPaidForAndPassedChecksKeepNoOutput) {
  std::string long_text(5000, 'x');
  Write("suite.yaml", "name: fixes\nworkflow: flow.yaml\ncases:\n  - id: one\n    inputs: {doc: {title: t, body: \"" +
                          long_text + "\", parts: [\"" + long_text + "\"]}}\nassert:\n"
                          "  - {id: has-hello, node: a, contains: Hello}\n  - {id: no-bye, node: a, contains: Bye}\n"
                          "  - {id: graded, node: a, rubric: \"says durable\"}\n");
  auto r = Eval(dir_ + "/script.yaml", {"--output", dir_ + "/r.json"}, dir_ + "/suite.yaml");
  ASSERT_EQ(r.code, 1) << r.out << r.err;
  json rep = ReadJson(dir_ + "/r.json");
  ASSERT_EQ(rep["cases"].size(), 1u);
  const json& c = rep["cases"][0];
  std::map<std::string, json> by_id;
  for (const auto& a : c["assertions"]) by_id[a["id"]] = a;
  EXPECT_EQ(by_id["has-hello"]["status"], "passed");
  EXPECT_FALSE(by_id["has-hello"].contains("actual")) << by_id["has-hello"];
  EXPECT_EQ(by_id["no-bye"]["status"], "failed");
  EXPECT_EQ(by_id["no-bye"]["actual"], "Hello durable world");
  EXPECT_EQ(by_id["graded"]["status"], "error") << by_id["graded"];
  // The workflow's one call cost $0.02; the judge's failed run (its calls were made) is the case's
  // spend too.
  EXPECT_GT(c["calls"].get<int64_t>(), 1) << c;
  EXPECT_GT(c["cost_usd"].get<double>(), 0.02 + 1e-9) << c;
  EXPECT_GT(c["tokens_in"].get<int64_t>(), 10) << c;
  EXPECT_DOUBLE_EQ(rep["summary"]["cost_usd"].get<double>(), c["cost_usd"].get<double>());
  // Nested long strings of the inputs are cut in the report too.
  std::string body = c["inputs"]["doc"]["body"], part = c["inputs"]["doc"]["parts"][0];
  EXPECT_LT(body.size(), 2200u);
  EXPECT_NE(body.find("[cut: "), std::string::npos);
  EXPECT_LT(part.size(), 2200u);
  EXPECT_EQ(c["inputs"]["doc"]["title"], "t");
}

TEST_F(EvalE2EFixes, AChangedWorkflowIsNotReplayedUnlessAllowedAndReplayTakesNoBaseline) {
  Write("suite.yaml", "name: fixes\nworkflow: flow.yaml\ncases:\n  - id: one\n    inputs: {doc: {title: t}}\nassert:\n"
                      "  - {node: a, contains: Hello}\n");
  auto r = Eval(dir_ + "/script.yaml", {"--run-id", "e1"}, dir_ + "/suite.yaml");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  Write("flow.yaml", Slurp(dir_ + "/flow.yaml") + "description: changed\n");
  auto refused = RunCli({"replay", "e1", "--offline", "--store", store_}, dir_);
  EXPECT_EQ(refused.code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("workflow " + dir_ + "/flow.yaml changed since eval e1 ran; pass --allow-drift"),
            std::string::npos)
      << refused.err;
  auto allowed = RunCli({"replay", "e1", "--offline", "--allow-drift", "--store", store_}, dir_);
  EXPECT_EQ(allowed.code, 0) << allowed.out << allowed.err;
  // The replay answers "identical?"; a comparison with a baseline is eval-report's.
  auto base = RunCli({"replay", "e1", "--offline", "--allow-drift", "--baseline", "e1", "--store", store_}, dir_);
  EXPECT_EQ(base.code, 2) << base.out << base.err;
  EXPECT_NE(base.err.find("--baseline"), std::string::npos) << base.err;
}

TEST_F(EvalE2E, ToleranceCasesBoundsTheCasesThatMayRegress) {
  ASSERT_EQ(Eval("script.yaml", {"--run-id", "eval-base"}).code, 0);
  ASSERT_EQ(Eval("script-worse.yaml", {"--run-id", "eval-worse"}).code, 1);
  // Two cases regressed: a pass-rate tolerance that absorbs the drop does not absorb them.
  std::vector<std::string> args = {"eval-report", "eval-worse", "--baseline", "eval-base", "--format", "json",
                                   "--tolerance", "pass_rate=1,latency=1000,cost=10", "--store", store_};
  auto two = RunCli(args, dir_);
  EXPECT_EQ(two.code, 1) << two.out << two.err;
  json c = json::parse(two.out);
  EXPECT_EQ(c["tolerance"]["cases"], 0);
  EXPECT_EQ(c["regressions"][0], "2 cases regressed (tolerance 0)");
  args.insert(args.end(), {"--tolerance", "cases=2"});
  auto ok = RunCli(args, dir_);
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_EQ(json::parse(ok.out)["tolerance"]["cases"], 2);
}

// An offline replay is marked as one (its report, its run options, the history, `evals`), and
// it is no baseline for latency: recordings answer at once, a live run would look 50x slower.
TEST_F(EvalE2E, AnOfflineReplayIsMarkedAndIsNoLatencyBaseline) {
  std::string slow = Slurp(kExample + "/script.yaml");
  size_t at = slow.find("latency_ms: 20");
  ASSERT_NE(at, std::string::npos);
  slow.replace(at, 14, "latency_ms: 60");
  Write("slow.yaml", slow);
  ASSERT_EQ(Eval(dir_ + "/slow.yaml", {"--run-id", "eval-live"}).code, 0);
  auto rep = RunCli({"replay", "eval-live", "--offline", "--store", store_, "--run-id", "eval-rep"}, dir_);
  ASSERT_EQ(rep.code, 0) << rep.out << rep.err;
  auto j = RunCli({"eval-report", "eval-rep", "--format", "json", "--store", store_}, dir_);
  json report = json::parse(j.out);
  EXPECT_EQ(report["replay"], (json{{"of", "eval-live"}, {"offline", true}})) << report.dump(2).substr(0, 400);
  EXPECT_FALSE(json::parse(RunCli({"eval-report", "eval-live", "--format", "json", "--store", store_}, dir_).out)
                   .contains("replay"));
  auto hist = json::parse(RunCli({"evals", "--json", "--store", store_}, dir_).out);
  ASSERT_EQ(hist["suites"].size(), 1u);
  std::map<std::string, json> replay_of;
  for (const auto& r : hist["suites"][0]["runs"]) replay_of[r["run"]] = r["replay_of"];
  EXPECT_EQ(replay_of["eval-rep"], "eval-live");
  EXPECT_TRUE(replay_of["eval-live"].is_null());
  auto text = RunCli({"evals", "--store", store_}, dir_);
  EXPECT_NE(text.out.find("replay of eval-live"), std::string::npos) << text.out;
  // The replay as the baseline of a live run of the same script: no latency regression, a note.
  auto live = Eval(dir_ + "/slow.yaml", {"--baseline", "eval-rep", "--json"});
  EXPECT_EQ(live.code, 0) << live.out.substr(0, 2000) << live.err;
  json cmp = json::parse(live.out)["compare"];
  EXPECT_EQ(cmp["verdict"], "ok") << cmp["regressions"];
  EXPECT_GT(cmp["latency_p50_ms"]["b"].get<double>(), 100.0) << "the live run is slow enough to be flagged";
  bool noted = false;
  for (const auto& n : cmp["notes"]) noted = noted || n.get<std::string>().find("offline replay of eval eval-live") != std::string::npos;
  EXPECT_TRUE(noted) << cmp["notes"];
  // As the new run in eval-report --baseline too.
  auto back = RunCli({"eval-report", "eval-rep", "--baseline", "eval-live", "--format", "json", "--store", store_}, dir_);
  EXPECT_EQ(back.code, 0) << back.out << back.err;
}

// The identity check of an eval's replay compares what `replay --offline` of a run compares —
// every node's output byte for byte — and the case's cost and tokens, not only the verdicts.
TEST_F(EvalE2E, AnEvalReplayComparesOutputsAndCostNotOnlyVerdicts) {
  Write("value.txt", "one\n");
  Write("flow.yaml", "name: two\nworkspace: empty\nshell: {allow: [cat]}\nnodes:\n  a:\n    model: scripted/writer\n    prompt: \"write\"\n"
                     "  b:\n    kind: tool\n    needs: [a]\n    tool: builtin://shell.run\n    args: {argv: [cat, " +
                         dir_ + "/value.txt]}\n");
  Write("script.yaml", "prices:\n  scripted/writer: {input_cost_per_token: 0.001, output_cost_per_token: 0.001}\n"
                       "nodes:\n  a:\n    - {text: \"Hello durable world\", usage: {input: 10, output: 10}}\n");
  Write("suite.yaml", "name: two\nworkflow: flow.yaml\ncases: [{id: c1}, {id: c2}]\nassert:\n  - {node: a, contains: durable}\n");
  auto r = Eval(dir_ + "/script.yaml", {"--run-id", "e1"}, dir_ + "/suite.yaml");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto same = RunCli({"replay", "e1", "--offline", "--store", store_}, dir_);
  EXPECT_EQ(same.code, 0) << same.out << same.err;
  EXPECT_NE(same.out.find("offline replay: 2 of 2 cases identical to eval e1"), std::string::npos) << same.out;
  // The tool's output changes; every assertion still passes.
  Write("value.txt", "two\n");
  auto out = RunCli({"replay", "e1", "--offline", "--store", store_}, dir_);
  EXPECT_EQ(out.code, 1) << out.out << out.err;
  EXPECT_NE(out.err.find("differs: case c1: output of b (see `specwright diff "), std::string::npos) << out.err;
  Write("value.txt", "one\n");
  // Other prices: the same verdicts, another cost.
  Write("dear.yaml", "prices:\n  scripted/writer: {input_cost_per_token: 0.002, output_cost_per_token: 0.002}\nnodes: {}\n");
  auto cost = RunCli({"replay", "e1", "--offline", "--script", dir_ + "/dear.yaml", "--store", store_}, dir_);
  EXPECT_EQ(cost.code, 1) << cost.out << cost.err;
  EXPECT_NE(cost.err.find("differs: case c1: cost $0.02"), std::string::npos) << cost.err;
}

// `validate` knows an eval suite by its shape and checks it as `eval` would before running.
TEST_F(EvalE2E, ValidateChecksAnEvalSuiteAsASuite) {
  auto ok = RunCli({"validate", kExample + "/suite.yaml"}, dir_);
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("suite.yaml: ok (eval suite, 5 cases)"), std::string::npos) << ok.out;
  std::string wf = std::string(SW_SOURCE_DIR) + "/examples/launch/flow.yaml";
  Write("typo.yaml", "name: t\nworkflow: " + wf + "\ncases:\n  - {inputs: {idea: x}}\nasert:\n  - {node: draft, contains: x}\n");
  Write("node.yaml", "workflow: " + wf + "\ncases: [{inputs: {idea: x}}]\nassert:\n  - {node: drafts, contains: x}\n");
  auto bad = RunCli({"validate", dir_ + "/typo.yaml", dir_ + "/node.yaml"}, dir_);
  EXPECT_EQ(bad.code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("typo.yaml:5:1: error: unknown key \"asert\" in the eval suite (did you mean \"assert\"?)"),
            std::string::npos)
      << bad.err;
  EXPECT_NE(bad.err.find("node.yaml:4:5: error: assertion A1: \"drafts\" is not a node of"), std::string::npos) << bad.err;
  EXPECT_EQ(bad.err.find("nodes"), std::string::npos) << "not read as a workflow: " << bad.err;
  auto j = RunCli({"validate", "--json", dir_ + "/node.yaml"}, dir_);
  json v = json::parse(j.out);
  EXPECT_EQ(v[0]["kind"], "eval");
  EXPECT_EQ(v[0]["ok"], false);
  EXPECT_EQ(v[0]["errors"][0]["line"], 4);
  EXPECT_EQ(v[0]["errors"][0]["column"], 5);
}

}  // namespace
