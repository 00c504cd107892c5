// Unit tests of src/eval: datasets (well- and malformed, with line numbers), the suite loader,
// every assertion type, the summary, the comparison, JUnit XML and the tolerance flag.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "eval/eval.h"
#include "store/store.h"

namespace sw::eval {
namespace {

namespace fs = std::filesystem;

std::string Msg(const Status& s) { return s.message(); }

TEST(Dataset, CsvHasQuotesNewlinesVarsAndIds) {
  auto r = ParseDataset("id,idea,vars.expected\n"
                        "a,\"plain, with comma\",x\n"
                        "b,\"two\nlines and \"\"quotes\"\"\",y\n"
                        "\n"
                        ",no id,z\n",
                        "csv", "c.csv");
  ASSERT_TRUE(r.ok()) << Msg(r.status());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].id, "a");
  EXPECT_EQ((*r)[0].inputs["idea"], "plain, with comma");
  EXPECT_EQ((*r)[0].vars["expected"], "x");
  EXPECT_EQ((*r)[1].inputs["idea"], "two\nlines and \"quotes\"");
  EXPECT_EQ((*r)[1].line, 3);
  EXPECT_EQ((*r)[2].id, "case-3");
  EXPECT_EQ((*r)[2].line, 6) << "the line numbers count the newline inside the quoted field";
  EXPECT_FALSE((*r)[0].inputs.contains("id"));
}

TEST(Dataset, MalformedCsvNamesTheLine) {
  auto r = ParseDataset("id,idea\na,one\nb,two,three\n", "csv", "c.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Msg(r.status()), "c.csv:3: 3 fields, but the header has 2");
  r = ParseDataset("id,idea\na,\"never closed\n", "csv", "c.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Msg(r.status()), "c.csv:2: a quoted field is never closed");
  r = ParseDataset("id,id\n", "csv", "c.csv");
  EXPECT_EQ(Msg(r.status()), "c.csv:1: column \"id\" appears twice");
  r = ParseDataset("id,idea\na,x\na,y\n", "csv", "c.csv");
  EXPECT_EQ(Msg(r.status()), "c.csv:3: case id \"a\" appears twice");
  r = ParseDataset("id,idea\na,x\"y\n", "csv", "c.csv");
  EXPECT_NE(Msg(r.status()).find("c.csv:2: a quote inside an unquoted field"), std::string::npos);
}

TEST(Dataset, JsonlRowsAndErrorsWithLineAndByte) {
  auto r = ParseDataset("{\"id\": \"a\", \"inputs\": {\"x\": 1}, \"vars\": {\"v\": 2}}\n\n{\"x\": 3}\n", "jsonl", "d.jsonl");
  ASSERT_TRUE(r.ok()) << Msg(r.status());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].inputs["x"], 1);
  EXPECT_EQ((*r)[0].vars["v"], 2);
  EXPECT_EQ((*r)[1].id, "case-2");
  EXPECT_EQ((*r)[1].inputs["x"], 3) << "a row without inputs: is its inputs";
  EXPECT_EQ((*r)[1].line, 3);
  r = ParseDataset("{\"id\": \"a\"}\n{\"id\": \"b\", oops}\n", "jsonl", "d.jsonl");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Msg(r.status()).rfind("d.jsonl:2:", 0), 0u) << Msg(r.status());
  r = ParseDataset("[1, 2]\n", "jsonl", "d.jsonl");
  EXPECT_EQ(Msg(r.status()).rfind("d.jsonl:1: a case is an object", 0), 0u) << Msg(r.status());
  r = ParseDataset("{\"inputs\": {\"x\": 1}, \"extra\": 2}\n", "jsonl", "d.jsonl");
  EXPECT_NE(Msg(r.status()).find("d.jsonl:1: unknown key \"extra\" in case \"case-1\""), std::string::npos) << Msg(r.status());
  r = ParseDataset("{\"id\": \"a\", \"assert\": [{\"node\": \"n\", \"contans\": \"x\"}]}\n", "jsonl", "d.jsonl");
  EXPECT_NE(Msg(r.status()).find("(did you mean \"contains\"?)"), std::string::npos) << Msg(r.status());
}

TEST(Dataset, YamlListOrMapAndLimits) {
  auto r = ParseDataset("cases:\n  - {id: a, inputs: {x: 1}}\n  - {id: b, inputs: {x: 2}}\n", "yaml", "d.yaml");
  ASSERT_TRUE(r.ok()) << Msg(r.status());
  EXPECT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].line, 3);
  r = ParseDataset("- {id: a}\n- {id: b}\n", "yaml", "d.yaml");
  ASSERT_TRUE(r.ok());
  r = ParseDataset("rows: []\n", "yaml", "d.yaml");
  EXPECT_NE(Msg(r.status()).find("d.yaml:1:1: unknown key \"rows\" in the dataset"), std::string::npos) << Msg(r.status());
  r = ParseDataset("x", "toml", "d.toml");
  EXPECT_FALSE(r.ok());
  std::string many;
  for (size_t i = 0; i <= kMaxCases; ++i) many += "{}\n";
  r = ParseDataset(many, "jsonl", "big.jsonl");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Msg(r.status()).find("big.jsonl:100001: more than 100000 cases"), std::string::npos) << Msg(r.status());
  r = ParseDataset(std::string(kMaxDatasetBytes + 1, ' '), "jsonl", "huge.jsonl");
  EXPECT_NE(Msg(r.status()).find("the limit is 67108864 (64 MiB)"), std::string::npos);
}

TEST(Assertion, ParseRefusesWhatItCannotCheck) {
  auto a = ParseAssertion(nlohmann::json{{"node", "n"}, {"contains", "x"}, {"equals", "y"}}, "A1", "s.yaml:3:5");
  EXPECT_NE(Msg(a.status()).find("s.yaml:3:5: an assertion has exactly one check; this one has 2"), std::string::npos);
  a = ParseAssertion(nlohmann::json{{"contains", "x"}}, "A1", "w");
  EXPECT_EQ(Msg(a.status()), "w: contains needs node: (the node whose output it checks)");
  a = ParseAssertion(nlohmann::json{{"node", "n"}, {"regex", "a(b"}}, "A1", "w");
  EXPECT_NE(Msg(a.status()).find("is not valid RE2"), std::string::npos);
  a = ParseAssertion(nlohmann::json{{"node", "n"}, {"json_schema", {{"typ", "object"}}}}, "A1", "w");
  EXPECT_FALSE(a.ok());
  a = ParseAssertion(nlohmann::json{{"expr", "nodes.a.output =="}}, "A1", "w");
  EXPECT_NE(Msg(a.status()).find("w: expr:"), std::string::npos);
  a = ParseAssertion(nlohmann::json{{"cost_usd", {{"mxa", 1}}}}, "A1", "w");
  EXPECT_NE(Msg(a.status()).find("unknown key \"mxa\" in cost_usd (did you mean \"max\"?)"), std::string::npos) << Msg(a.status());
  a = ParseAssertion(nlohmann::json{{"node", "n"}, {"rubric", "r"}, {"threshold", 2}}, "A1", "w");
  EXPECT_NE(Msg(a.status()).find("threshold must be a number in 0..1"), std::string::npos);
  a = ParseAssertion(nlohmann::json{{"node", "n"}, {"contains", "x"}, {"threshold", 0.5}}, "A1", "w");
  EXPECT_EQ(Msg(a.status()), "w: threshold belongs to a rubric assertion");
  a = ParseAssertion(nlohmann::json{{"node", "n"}, {"contains", "{{#x}}"}}, "A1", "w");
  EXPECT_NE(Msg(a.status()).find("template error"), std::string::npos);
  a = ParseAssertion(nlohmann::json{{"id", "mine"}, {"tokens", {{"max", 10}}}, {"description", "d"}}, "A1", "w");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->id, "mine");
  EXPECT_EQ(a->kind, AssertKind::kTokens);
  EXPECT_EQ(a->max, 10);
}

class Check : public ::testing::Test {
 protected:
  void SetUp() override {
    c.id = "c1";
    c.inputs = {{"topic", "durability"}};
    c.vars = {{"expected", "Hello World"}, {"word", "world"}};
    run.run_id = "r1";
    run.run_status = "succeeded";
    run.inputs = c.inputs;
    run.outputs = {{"draft", "Hello World"}, {"plan", {{"tasks", {1, 2}}}}, {"text_json", "{\"ok\": true}"}};
    run.cost_usd = 0.02;
    run.tokens_in = 100;
    run.tokens_out = 50;
    run.latency_ms = 1200;
    run.nodes["draft"] = CaseRun::NodeStats{0.01, 80, 300};
  }
  nlohmann::json Run(const nlohmann::json& spec, const JudgeFn& judge = nullptr) {
    auto a = ParseAssertion(spec, "A1", "t");
    EXPECT_TRUE(a.ok()) << Msg(a.status());
    return CheckAssertion(*a, c, run, judge, "scripted/judge");
  }
  bool Passed(const nlohmann::json& spec) { return Run(spec)["passed"].get<bool>(); }
  Case c;
  CaseRun run;
};

TEST_F(Check, TextChecksWithTemplates) {
  EXPECT_TRUE(Passed({{"node", "draft"}, {"equals", "{{case.vars.expected}}"}}));
  EXPECT_TRUE(Passed({{"node", "draft"}, {"equals", "  Hello World\n"}}));
  EXPECT_FALSE(Passed({{"node", "draft"}, {"equals", "Hello"}}));
  EXPECT_TRUE(Passed({{"node", "draft"}, {"contains", "World"}}));
  EXPECT_FALSE(Passed({{"node", "draft"}, {"contains", "{{case.vars.word}}"}}));
  EXPECT_TRUE(Passed({{"node", "draft"}, {"icontains", "{{case.vars.word}}"}}));
  EXPECT_TRUE(Passed({{"node", "draft"}, {"not_contains", "Goodbye"}}));
  EXPECT_FALSE(Passed({{"node", "draft"}, {"not_contains", "Hello"}}));
  EXPECT_TRUE(Passed({{"node", "draft"}, {"regex", "^Hello \\w+$"}}));
  EXPECT_FALSE(Passed({{"node", "draft"}, {"regex", "^World"}}));
  auto j = Run({{"node", "draft"}, {"contains", "Bye"}});
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["actual"], "Hello World");
  EXPECT_EQ(j["expected"], "Bye");
  EXPECT_EQ(j["message"], "the output does not contain \"Bye\"");
  auto missing = Run({{"node", "review"}, {"contains", "x"}});
  EXPECT_EQ(missing["passed"], false);
  EXPECT_NE(missing["message"].get<std::string>().find("has no output"), std::string::npos);
}

TEST_F(Check, JsonSchemaOnValuesAndText) {
  nlohmann::json schema = {{"type", "object"}, {"required", {"tasks"}},
                           {"properties", {{"tasks", {{"type", "array"}, {"minItems", 2}}}}}};
  EXPECT_TRUE(Passed({{"node", "plan"}, {"json_schema", schema}}));
  schema["properties"]["tasks"]["minItems"] = 3;
  auto j = Run({{"node", "plan"}, {"json_schema", schema}});
  EXPECT_EQ(j["passed"], false);
  EXPECT_NE(j["message"].get<std::string>().find("tasks"), std::string::npos) << j;
  EXPECT_TRUE(Passed({{"node", "text_json"}, {"json_schema", {{"type", "object"}, {"required", {"ok"}}}}}));
  auto notjson = Run({{"node", "draft"}, {"json_schema", {{"type", "object"}}}});
  EXPECT_EQ(notjson["message"], "the output is not JSON");
}

TEST_F(Check, ExpressionsSeeNodesInputsCaseAndRun) {
  EXPECT_TRUE(Passed({{"expr", "nodes.text_json.json.ok == true"}}));
  EXPECT_TRUE(Passed({{"expr", "nodes.draft.output contains 'World' && case.id == 'c1'"}}));
  EXPECT_TRUE(Passed({{"expr", "inputs.topic == 'durability' && run.tokens == 150"}}));
  EXPECT_FALSE(Passed({{"expr", "nodes.plan.json.tasks[1] > 5"}}));
  auto err = Run({{"expr", "nodes.draft.output > 3"}});
  EXPECT_EQ(err["status"], "error") << err;
}

TEST_F(Check, LimitsOnTheCaseAndOnANode) {
  EXPECT_TRUE(Passed({{"cost_usd", {{"max", 0.02}}}}));
  EXPECT_FALSE(Passed({{"cost_usd", {{"max", 0.019}}}}));
  EXPECT_TRUE(Passed({{"tokens", {{"max", 150}}}}));
  EXPECT_FALSE(Passed({{"tokens", {{"max", 149}}}}));
  EXPECT_TRUE(Passed({{"latency_ms", {{"max", 5000}}}}));
  EXPECT_FALSE(Passed({{"latency_ms", {{"max", 1000}}}}));
  EXPECT_TRUE(Passed({{"node", "draft"}, {"tokens", {{"max", 80}}}}));
  EXPECT_FALSE(Passed({{"node", "draft"}, {"latency_ms", {{"max", 299}}}}));
  EXPECT_FALSE(Passed({{"node", "draft"}, {"cost_usd", {{"max", 0.005}}}}));
  run.cost_unknown = true;
  EXPECT_EQ(Run({{"cost_usd", {{"max", 1}}}})["status"], "error");
  // A node whose cost is unknown: a limit on its cost or tokens is not a pass.
  run.nodes["draft"].cost_unknown = true;
  EXPECT_EQ(Run({{"node", "draft"}, {"cost_usd", {{"max", 1}}}})["status"], "error");
  EXPECT_EQ(Run({{"node", "draft"}, {"tokens", {{"max", 1000}}}})["status"], "error");
  EXPECT_TRUE(Passed({{"node", "draft"}, {"latency_ms", {{"max", 5000}}}}));
}

TEST_F(Check, RubricAsksTheJudgeAndAppliesTheThreshold) {
  std::string seen_model, seen_output;
  JudgeFn judge = [&](const Assertion& a, const std::string& model, const std::string& output,
                      const nlohmann::json& case_json) -> Result<nlohmann::json> {
    seen_model = model;
    seen_output = output;
    EXPECT_EQ(case_json["id"], "c1");
    double score = a.value.get<std::string>() == "good" ? 0.8 : 0.5;
    return nlohmann::json{{"pass", true}, {"score", score}, {"reason", "why"}, {"run", "j1"}};
  };
  auto j = Run({{"node", "draft"}, {"rubric", "good"}, {"threshold", 0.7}}, judge);
  EXPECT_EQ(j["passed"], true) << j;
  EXPECT_EQ(j["score"], 0.8);
  EXPECT_EQ(j["judge_run"], "j1");
  EXPECT_EQ(seen_model, "scripted/judge");
  EXPECT_EQ(seen_output, "Hello World");
  j = Run({{"node", "draft"}, {"rubric", "meh"}, {"threshold", 0.7}, {"judge", {{"model", "p/m"}}}}, judge);
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(seen_model, "p/m");
  JudgeFn broken = [](const Assertion&, const std::string&, const std::string&, const nlohmann::json&) -> Result<nlohmann::json> {
    return nlohmann::json{{"verdict", "yes"}};
  };
  EXPECT_EQ(Run({{"node", "draft"}, {"rubric", "x"}}, broken)["status"], "error");
}

TEST_F(Check, AFailedRunMakesEveryAssertionAnError) {
  run.run_status = "failed";
  run.error = "budget exceeded";
  auto j = Run({{"node", "draft"}, {"contains", "Hello"}});
  EXPECT_EQ(j["status"], "error");
  EXPECT_EQ(j["message"], "the case's run failed: budget exceeded");
}

TEST(Cut, MarksWhatItCut) {
  EXPECT_EQ(Cut("short"), "short");
  std::string s(3000, 'x');
  std::string c = Cut(s);
  EXPECT_EQ(c, std::string(2048, 'x') + "… [cut: 952 bytes more]");
  EXPECT_EQ(Cut("é", 1), "… [cut: 2 bytes more]") << "never half a character";
}

nlohmann::json Report(const std::string& run, std::vector<std::pair<std::string, std::string>> cases, double cost,
                      double latency) {
  nlohmann::json r{{"format", kReportFormat}, {"run", run}, {"suite", {{"name", "s"}}}, {"cases", nlohmann::json::array()}};
  for (auto& [id, st] : cases)
    r["cases"].push_back({{"id", id}, {"run", "r-" + id}, {"status", st}, {"cost_usd", cost / cases.size()},
                          {"latency_ms", latency}, {"tokens_in", 1}, {"tokens_out", 2}, {"calls", 1}, {"error", ""},
                          {"assertions", {{{"id", "A1"}, {"type", "contains"}, {"status", st == "passed" ? "passed" : st},
                                           {"passed", st == "passed"}, {"message", "m-" + id}}}}});
  Summarise(&r);
  return r;
}

TEST(Report, SummaryCountsCasesAndAssertions) {
  auto r = Report("a", {{"x", "passed"}, {"y", "failed"}, {"z", "error"}, {"w", "passed"}}, 0.4, 100);
  EXPECT_EQ(r["summary"]["cases"], 4);
  EXPECT_EQ(r["summary"]["passed"], 2);
  EXPECT_EQ(r["summary"]["failed"], 1);
  EXPECT_EQ(r["summary"]["errored"], 1);
  EXPECT_EQ(r["summary"]["pass_rate"], 0.5);
  EXPECT_DOUBLE_EQ(r["summary"]["cost_usd"].get<double>(), 0.4);
  EXPECT_EQ(r["summary"]["tokens_out"], 8);
  EXPECT_EQ(r["summary"]["latency_ms"]["p50"], 100);
  ASSERT_EQ(r["assertions"].size(), 1u);
  EXPECT_EQ(r["assertions"][0]["passed"], 2);
  EXPECT_EQ(r["assertions"][0]["errored"], 1);
  EXPECT_TRUE(CheckReport(r, "r").ok());
  EXPECT_FALSE(CheckReport(nlohmann::json{{"format", "x"}}, "r").ok());
}

TEST(Report, CompareFindsRegressionsBeyondTheTolerance) {
  auto a = Report("a", {{"x", "passed"}, {"y", "passed"}, {"z", "failed"}, {"old", "passed"}}, 1.0, 1000);
  auto b = Report("b", {{"x", "passed"}, {"y", "failed"}, {"z", "passed"}, {"new", "passed"}}, 1.0, 1000);
  auto c = Compare(a, b, Tolerance{});
  EXPECT_EQ(c["verdict"], "regression") << "same pass rate, but a case that passed now fails";
  EXPECT_EQ(c["tolerance"]["cases"], 0);
  std::map<std::string, std::string> change;
  for (const auto& x : c["cases"]) change[x["id"]] = x["change"];
  EXPECT_EQ(change["x"], "same");
  EXPECT_EQ(change["y"], "regressed");
  EXPECT_EQ(change["z"], "fixed");
  EXPECT_EQ(change["old"], "removed");
  EXPECT_EQ(change["new"], "new");
  ASSERT_EQ(c["regressions"].size(), 2u) << c.dump(2);
  EXPECT_EQ(c["regressions"][0], "1 case regressed (tolerance 0)");
  EXPECT_EQ(c["regressions"][1], "case y: passed -> failed: A1 (contains): m-y");
  // tolerance.cases lets that many cases regress: the case is listed, the verdict is ok.
  c = Compare(a, b, Tolerance{0, 0.25, 0.5, 1});
  EXPECT_EQ(c["verdict"], "ok") << c.dump(2);
  EXPECT_EQ(c["tolerance"]["cases"], 1);
  ASSERT_EQ(c["regressions"].size(), 1u);
  EXPECT_EQ(c["regressions"][0], "case y: passed -> failed: A1 (contains): m-y");

  auto worse = Report("w", {{"x", "passed"}, {"y", "failed"}, {"z", "failed"}, {"old", "passed"}}, 1.0, 1000);
  c = Compare(a, worse, Tolerance{});
  EXPECT_EQ(c["verdict"], "regression");
  EXPECT_DOUBLE_EQ(c["pass_rate"]["delta"].get<double>(), -0.25);
  EXPECT_EQ(c["regressions"][0], "pass rate fell from 75.0% to 50.0% (tolerance 0.0%)");
  EXPECT_EQ(Compare(a, worse, Tolerance{0.25, 0.25, 0.5})["verdict"], "regression") << "y regressed";
  EXPECT_EQ(Compare(a, worse, Tolerance{0.25, 0.25, 0.5, 1})["verdict"], "ok");

  auto costly = Report("c", {{"x", "passed"}, {"y", "passed"}, {"z", "failed"}, {"old", "passed"}}, 1.3, 1000);
  EXPECT_EQ(Compare(a, costly, Tolerance{})["verdict"], "regression");
  EXPECT_EQ(Compare(a, costly, Tolerance{0, 0.5, 0.5})["verdict"], "ok");
  auto slow = Report("s", {{"x", "passed"}, {"y", "passed"}, {"z", "failed"}, {"old", "passed"}}, 1.0, 1600);
  EXPECT_EQ(Compare(a, slow, Tolerance{})["verdict"], "regression");
  EXPECT_EQ(Compare(a, slow, Tolerance{})["latency_p50_ms"]["ratio"], 1.6);
  // A fast suite's jitter is not a regression: 10 ms -> 40 ms is 4x but only 30 ms more.
  auto fa = Report("fa", {{"x", "passed"}}, 1.0, 10), fb = Report("fb", {{"x", "passed"}}, 1.0, 40);
  EXPECT_EQ(Compare(fa, fb, Tolerance{})["verdict"], "ok");
}

TEST(Report, CompareJudgesAddedOrRemovedCasesOverTheCasesInBoth) {
  // Dropping the failing cases must not hide a case that regressed.
  auto a = Report("a", {{"x", "passed"}, {"y", "passed"}, {"f1", "failed"}, {"f2", "failed"}}, 1.0, 1000);
  auto b = Report("b", {{"x", "passed"}, {"y", "failed"}}, 0.5, 1000);
  auto c = Compare(a, b, Tolerance{});
  EXPECT_EQ(c["verdict"], "regression") << c.dump(2);
  EXPECT_EQ(c["common"]["cases"], 2);
  EXPECT_EQ(c["regressions"][0], "pass rate over the 2 cases in both fell from 100.0% to 50.0% (tolerance 0.0%)");
  // New cases at the same cost per case are not a cost regression.
  auto more = Report("m", {{"x", "passed"}, {"y", "passed"}, {"f1", "failed"}, {"f2", "failed"}, {"n1", "passed"},
                           {"n2", "passed"}, {"n3", "passed"}, {"n4", "passed"}},
                     2.0, 1000);
  EXPECT_EQ(Compare(a, more, Tolerance{})["verdict"], "ok") << Compare(a, more, Tolerance{}).dump(2);
  // A baseline of another suite, or with no case in common, is refused.
  auto other = a;
  other["suite"]["name"] = "other";
  EXPECT_EQ(Compare(other, a, Tolerance{})["verdict"], "regression");
  auto disjoint = Report("d", {{"p", "passed"}, {"q", "passed"}}, 1.0, 1000);
  EXPECT_EQ(Compare(a, disjoint, Tolerance{})["verdict"], "regression");
  // An unpriced baseline: the cost is not compared, and the comparison says so.
  auto free = Report("z", {{"x", "passed"}, {"y", "passed"}, {"f1", "failed"}, {"f2", "failed"}}, 0.0, 1000);
  auto cz = Compare(free, a, Tolerance{});
  EXPECT_EQ(cz["verdict"], "ok");
  ASSERT_EQ(cz["notes"].size(), 1u);
}

TEST(Dataset, BytesThatAreNotUtf8AreRefusedWithTheirLine) {
  auto r = ParseDataset("id,text\nok,hello\nlatin,caf\xe9\n", "csv", "d.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("d.csv:3: byte 26 is not UTF-8"), std::string::npos) << r.status().message();
  EXPECT_TRUE(ParseDataset("id,text\nok,caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n", "csv", "d.csv").ok());
}

TEST(Report, JUnitEscapesAndListsFailures) {
  auto r = Report("a<b", {{"x&y", "passed"}, {"q\"z", "failed"}}, 0.1, 10);
  r["cases"][1]["assertions"][0]["actual"] = "<out>";
  std::string x = JUnitXml(r);
  EXPECT_NE(x.find("<testsuite name=\"s\" tests=\"2\" failures=\"1\" errors=\"0\""), std::string::npos) << x;
  EXPECT_NE(x.find("<testcase name=\"x&amp;y\""), std::string::npos);
  EXPECT_NE(x.find("<testcase name=\"q&quot;z\""), std::string::npos);
  EXPECT_NE(x.find("<failure message=\"A1 (contains): m-q&quot;z\" type=\"contains\">failed A1 (contains): "
                   "m-q&quot;z\n  actual: &lt;out&gt;\n</failure>"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("<property name=\"run\" value=\"a&lt;b\"/>"), std::string::npos);
  EXPECT_NE(x.find("<property name=\"cost_usd\""), std::string::npos);
}

// Surefire's schema allows one <failure> or <error> per testcase and GitLab keeps only the first:
// a case's failed assertions are one element (the first's message, every one in the body), and
// an errored case is one <error> (the run's error) listing its assertions too.
TEST(Report, JUnitHasOneFailureOrErrorPerTestcase) {
  auto r = Report("a", {{"f", "failed"}, {"e", "error"}, {"p", "passed"}}, 0.1, 10);
  auto& fa = r["cases"][0]["assertions"];
  fa[0]["expected"] = "yes";
  fa.push_back({{"id", "A2"}, {"type", "regex"}, {"node", "draft"}, {"status", "failed"}, {"passed", false},
                {"message", "no match"}, {"actual", "draft text"}});
  r["cases"][1]["error"] = "node draft failed: boom";
  r["cases"][1]["assertions"].push_back({{"id", "A2"}, {"type", "regex"}, {"status", "error"}, {"passed", false},
                                         {"message", "node draft failed: boom"}});
  std::string x = JUnitXml(r);
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = x.find(what); at != std::string::npos; at = x.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("<failure "), 1u) << x;
  EXPECT_EQ(count("<error "), 1u) << x;
  EXPECT_NE(x.find("<failure message=\"A1 (contains): m-f\" type=\"contains\">failed A1 (contains): m-f\n"
                   "  expected: yes\nfailed A2 (regex on draft): no match\n  actual: draft text\n</failure>"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("<error message=\"node draft failed: boom\" type=\"run\">error A1 (contains): m-e\n"
                   "error A2 (regex): node draft failed: boom\n</error>"),
            std::string::npos)
      << x;
}

TEST(Tolerance, ParsesAndRefuses) {
  Tolerance t;
  ASSERT_TRUE(ParseTolerance("pass_rate=0.05, cost=1", &t).ok());
  EXPECT_EQ(t.pass_rate, 0.05);
  EXPECT_EQ(t.cost, 1);
  EXPECT_EQ(t.latency, 0.5);
  EXPECT_NE(Msg(ParseTolerance("passrate=1", &t)).find("(did you mean \"pass_rate\"?)"), std::string::npos);
  EXPECT_FALSE(ParseTolerance("cost=-1", &t).ok());
  EXPECT_FALSE(ParseTolerance("cost", &t).ok());
  EXPECT_FALSE(ParseTolerance("cost=1x", &t).ok());
  ASSERT_TRUE(ParseTolerance("cases=3", &t).ok());
  EXPECT_EQ(t.cases, 3);
  EXPECT_FALSE(ParseTolerance("cases=1.5", &t).ok());
  EXPECT_FALSE(ParseTolerance("cases=-1", &t).ok());
  EXPECT_EQ(ToleranceJson(t)["cases"], 3);
  EXPECT_EQ(ToleranceOf(nlohmann::json{{"tolerance", ToleranceJson(t)}}).cases, 3);
}

class SuiteFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_eval_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    Write("flow.yaml", "name: f\nnodes:\n  a: {prompt: hi, model: scripted/x}\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ + "/" + name) << text; }
  std::string dir_;
};

TEST_F(SuiteFile, LoadsInlineCasesAndDatasets) {
  Write("s.yaml", "name: s\nworkflow: flow.yaml\nconcurrency: 2\nbudget: {max_usd: 1}\ntolerance: {cost: 0.1}\n"
                  "judge: {model: p/j}\nassert:\n  - {node: a, contains: x}\n  - {id: mine, expr: 'true'}\n"
                  "cases:\n  - {id: one, inputs: {}, assert: [{node: a, equals: y}]}\n  - {}\n");
  auto s = LoadSuite(dir_ + "/s.yaml");
  ASSERT_TRUE(s.ok()) << Msg(s.status());
  EXPECT_EQ(s->name, "s");
  EXPECT_EQ(s->workflow_file, dir_ + "/flow.yaml");
  EXPECT_EQ(s->concurrency, 2);
  EXPECT_EQ(*s->budget.max_usd, 1);
  EXPECT_TRUE(s->has_tolerance);
  EXPECT_EQ(s->tolerance.cost, 0.1);
  EXPECT_EQ(s->tolerance.latency, 0.5);
  EXPECT_EQ(s->judge_model, "p/j");
  ASSERT_EQ(s->asserts.size(), 2u);
  EXPECT_EQ(s->asserts[0].id, "A1");
  EXPECT_EQ(s->asserts[0].line, 8);
  EXPECT_EQ(s->asserts[1].id, "mine");
  ASSERT_EQ(s->cases.size(), 2u);
  EXPECT_EQ(s->cases[0].asserts[0].id, "one.A1");
  EXPECT_EQ(s->cases[1].id, "case-2");
  Write("d.csv", "id,topic\nx,1\n");
  Write("t.yaml", "workflow: flow.yaml\ndataset: d.csv\n");
  s = LoadSuite(dir_ + "/t.yaml");
  ASSERT_TRUE(s.ok()) << Msg(s.status());
  EXPECT_EQ(s->name, "t");
  EXPECT_EQ(s->cases[0].inputs["topic"], "1");
  EXPECT_EQ(s->dataset_file, dir_ + "/d.csv");
  Write("c.yaml", "workflow: flow.yaml\ntolerance: {cases: 2}\ncases: [{}]\n");
  s = LoadSuite(dir_ + "/c.yaml");
  ASSERT_TRUE(s.ok()) << Msg(s.status());
  EXPECT_EQ(s->tolerance.cases, 2);
  Write("c2.yaml", "workflow: flow.yaml\ntolerance: {cases: 1.5}\ncases: [{}]\n");
  EXPECT_NE(Msg(LoadSuite(dir_ + "/c2.yaml").status()).find("c2.yaml:2:20: tolerance.cases must be a whole number"),
            std::string::npos)
      << Msg(LoadSuite(dir_ + "/c2.yaml").status());
}

// `notify:` is read as a workflow's is (workflow::ParseNotify), its problems with their position.
TEST_F(SuiteFile, NotifyIsReadAsAWorkflowsIs) {
  Write("n.yaml", "workflow: flow.yaml\ncases: [{}]\nnotify:\n  - url: https://hooks.example/e\n    secret: ${E_SECRET}\n"
                  "    on: [failed, budget_stopped]\n");
  auto s = LoadSuite(dir_ + "/n.yaml");
  ASSERT_TRUE(s.ok()) << Msg(s.status());
  ASSERT_EQ(s->notify.size(), 1u);
  EXPECT_EQ(s->notify[0].url, "https://hooks.example/e");
  EXPECT_EQ(s->notify[0].secret_env, "E_SECRET");
  EXPECT_TRUE(s->notify[0].Wants("failed"));
  EXPECT_FALSE(s->notify[0].Wants("succeeded"));
  Write("b.yaml", "workflow: flow.yaml\ncases: [{}]\nnotify:\n  - url: ftp://x.example/\n    on: [finished]\n");
  std::string m = Msg(LoadSuite(dir_ + "/b.yaml").status());
  EXPECT_NE(m.find("b.yaml:4:10: notify url must be http:// or https://"), std::string::npos) << m;
  EXPECT_NE(m.find("b.yaml:5:"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown notify event \"finished\""), std::string::npos) << m;
}

TEST(Report, NotifyExtraCarriesThePassRateAndTheVerdict) {
  auto r = Report("a", {{"x", "passed"}, {"y", "failed"}}, 0.1, 10);
  json e = NotifyExtra(r, nullptr)["eval"];
  EXPECT_EQ(e["pass_rate"], 0.5);
  EXPECT_EQ(e["cases"], 2);
  EXPECT_EQ(e["failed"], 1);
  EXPECT_EQ(e["suite"], "s");
  EXPECT_FALSE(e.contains("verdict"));
  auto base = Report("b", {{"x", "passed"}, {"y", "passed"}}, 0.1, 10);
  EXPECT_EQ(NotifyExtra(r, Compare(base, r, Tolerance{}))["eval"]["verdict"], "regression");
}

TEST_F(SuiteFile, DuplicateAssertionIdsAreRefusedWithTheirPosition) {
  Write("s.yaml", "workflow: flow.yaml\nassert:\n  - {id: x, node: a, contains: p}\n  - {id: x, node: a, contains: q}\n"
                  "cases: [{}]\n");
  std::string m = Msg(LoadSuite(dir_ + "/s.yaml").status());
  EXPECT_NE(m.find("s.yaml:4:5: assertion id \"x\" appears twice (first at "), std::string::npos) << m;
  // A default id (A2) taken by a written one.
  Write("d.yaml", "workflow: flow.yaml\nassert:\n  - {id: A2, node: a, contains: p}\n  - {node: a, contains: q}\n"
                  "cases: [{}]\n");
  m = Msg(LoadSuite(dir_ + "/d.yaml").status());
  EXPECT_NE(m.find("d.yaml:4:5: assertion id \"A2\" appears twice"), std::string::npos) << m;
  // A case's own clashing with the suite's, inline and in a dataset; and twice in one case.
  Write("c.yaml", "workflow: flow.yaml\nassert:\n  - {id: x, node: a, contains: p}\ncases:\n"
                  "  - {id: one, assert: [{id: x, node: a, equals: y}]}\n");
  m = Msg(LoadSuite(dir_ + "/c.yaml").status());
  EXPECT_NE(m.find("c.yaml:5:24: assertion id \"x\" of case \"one\" is the id of a suite assertion"), std::string::npos) << m;
  Write("d.jsonl", "{\"id\": \"one\"}\n{\"id\": \"two\", \"assert\": [{\"id\": \"y\", \"expr\": \"true\"}, "
                   "{\"id\": \"y\", \"expr\": \"false\"}]}\n");
  Write("j.yaml", "workflow: flow.yaml\ndataset: d.jsonl\n");
  m = Msg(LoadSuite(dir_ + "/j.yaml").status());
  EXPECT_NE(m.find("d.jsonl:2:1: assertion id \"y\" appears twice in case \"two\""), std::string::npos) << m;
  Write("ok.yaml", "workflow: flow.yaml\nassert:\n  - {id: x, node: a, contains: p}\ncases:\n"
                   "  - {id: one, assert: [{id: y, node: a, equals: y}]}\n  - {id: two, assert: [{id: y, expr: 'true'}]}\n");
  EXPECT_TRUE(LoadSuite(dir_ + "/ok.yaml").ok()) << Msg(LoadSuite(dir_ + "/ok.yaml").status());
}

TEST(History, NewerOrdinaryRunsDoNotHideTheEvals) {
  char tmpl[] = "/tmp/sw_eval_hist_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto st = store::OpenSqlite(dir);
  ASSERT_TRUE(st.ok()) << Msg(st.status());
  auto add = [&](const std::string& id, double at, bool is_eval) {
    store::RunRecord r;
    r.id = id;
    r.workflow_file = is_eval ? "/s/suite.yaml" : "/w/flow.yaml";
    r.workflow_name = is_eval ? "suite" : "flow";
    r.status = "succeeded";
    r.created_at = at;
    r.label = is_eval ? "eval" : "";
    r.options_json = is_eval ? "{\"kind\":\"eval\"}" : "{}";
    store::Batch b;
    b.run = r;
    ASSERT_TRUE((*st)->Commit(b).ok());
  };
  add("eval-old", 100, true);
  add("eval-new", 200, true);
  for (int i = 0; i < 20; ++i) add("run-" + std::to_string(i), 1000 + i, false);
  auto h = History(st->get(), "", 5);
  ASSERT_TRUE(h.ok()) << Msg(h.status());
  ASSERT_EQ((*h)["suites"].size(), 1u) << h->dump(2);
  ASSERT_EQ((*h)["suites"][0]["runs"].size(), 2u);
  EXPECT_EQ((*h)["suites"][0]["runs"][0]["run"], "eval-new");
  // limit bounds the eval runs listed (the newest first).
  h = History(st->get(), "", 1);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ((*h)["suites"][0]["runs"].size(), 1u);
  EXPECT_EQ((*h)["suites"][0]["runs"][0]["run"], "eval-new");
  fs::remove_all(dir);
}

TEST_F(SuiteFile, EveryProblemWithItsPosition) {
  Write("s.yaml", "name: s\nworkflow: nope.yaml\nconcurency: 2\ndataset: d.txt\nassert:\n  - {node: a, contans: x}\n"
                  "budget: {max_dollars: 1}\n");
  auto s = LoadSuite(dir_ + "/s.yaml");
  ASSERT_FALSE(s.ok());
  std::string m = Msg(s.status());
  EXPECT_NE(m.find("s.yaml:3:1: unknown key \"concurency\" in the eval suite (did you mean \"concurrency\"?)"), std::string::npos) << m;
  EXPECT_NE(m.find("s.yaml:2:11: workflow \"nope.yaml\": no such file"), std::string::npos) << m;
  EXPECT_NE(m.find("s.yaml:4:10: dataset \"d.txt\": unknown format"), std::string::npos) << m;
  EXPECT_NE(m.find("s.yaml:6:15: unknown key \"contans\" in an assertion (did you mean \"contains\"?)"), std::string::npos) << m;
  EXPECT_NE(m.find("s.yaml:7:10: unknown key \"max_dollars\" in budget"), std::string::npos) << m;
  Write("u.yaml", "workflow: flow.yaml\ncases: [{id: a}, {id: a}]\ndataset: x.csv\n");
  m = Msg(LoadSuite(dir_ + "/u.yaml").status());
  EXPECT_NE(m.find("give dataset: or cases:, not both"), std::string::npos) << m;
  Write("v.yaml", "workflow: flow.yaml\ncases: [{id: a}, {id: a}]\n");
  m = Msg(LoadSuite(dir_ + "/v.yaml").status());
  EXPECT_NE(m.find("v.yaml:2:18: case id \"a\" appears twice"), std::string::npos) << m;
  Write("x.yaml", "workflow: flow.yaml\ncases: [{}]\nschedule:\n  - {name: nightly, cron: '0 2 * * *', inputs: {a: 1}}\n"
                  "  - {cron: '61 * * * *'}\n");
  m = Msg(LoadSuite(dir_ + "/x.yaml").status());
  EXPECT_NE(m.find("x.yaml:4:5: schedule \"nightly\" of an eval suite takes no inputs"), std::string::npos) << m;
  EXPECT_NE(m.find("x.yaml:5:"), std::string::npos) << m;
  Write("y.yaml", "workflow: flow.yaml\ncases: [{}]\nschedule: {cron: '0 2 * * 1-5', timezone: UTC}\n");
  auto ok = LoadSuite(dir_ + "/y.yaml");
  ASSERT_TRUE(ok.ok()) << Msg(ok.status());
  EXPECT_EQ(ok->schedule["cron"], "0 2 * * 1-5");
  Write("w.yaml", "workflow: flow.yaml\ndataset: bad.jsonl\n");
  Write("bad.jsonl", "{}\n{\n");
  m = Msg(LoadSuite(dir_ + "/w.yaml").status());
  EXPECT_NE(m.find("bad.jsonl:2:"), std::string::npos) << m;
}

// An offline replay answers from recordings at once: as a baseline (or as the new run) its
// latencies would make every live run look many times slower, so latency is not judged.
TEST(Report, AnOfflineReplayIsNoLatencyBaseline) {
  auto live = Report("live", {{"x", "passed"}, {"y", "passed"}}, 1.0, 150);
  auto replay = Report("rep", {{"x", "passed"}, {"y", "passed"}}, 1.0, 3);
  EXPECT_EQ(Compare(replay, live, Tolerance{})["verdict"], "regression") << "without the mark, 50x slower";
  replay["replay"] = json{{"of", "live0"}, {"offline", true}};
  EXPECT_EQ(ReplayOf(replay), "live0");
  EXPECT_EQ(ReplayOf(live), "");
  auto c = Compare(replay, live, Tolerance{});
  EXPECT_EQ(c["verdict"], "ok") << c.dump(2);
  ASSERT_FALSE(c["notes"].empty());
  EXPECT_NE(c["notes"].back().get<std::string>().find("the baseline is an offline replay of eval live0"), std::string::npos)
      << c["notes"];
  c = Compare(live, replay, Tolerance{});
  EXPECT_EQ(c["verdict"], "ok");
  EXPECT_NE(c["notes"].back().get<std::string>().find("the new run is an offline replay"), std::string::npos) << c["notes"];
  // What else regressed still does.
  auto worse = Report("w", {{"x", "passed"}, {"y", "failed"}}, 1.0, 150);
  EXPECT_EQ(Compare(replay, worse, Tolerance{})["verdict"], "regression");
}

TEST(SuiteShape, ASuiteIsToldFromAWorkflow) {
  auto y = [](const char* t) { return YAML::Load(t); };
  EXPECT_TRUE(LooksLikeSuite(y("workflow: flow.yaml\ncases: []\n")));
  EXPECT_TRUE(LooksLikeSuite(y("name: x\nworkflow: flow.yaml\ndataset: c.jsonl\n")));
  EXPECT_FALSE(LooksLikeSuite(y("name: x\nnodes: {a: {model: m}}\n")));
  EXPECT_FALSE(LooksLikeSuite(y("workflow: {a: 1}\ncases: []\n")));
  EXPECT_FALSE(LooksLikeSuite(y("workflow: flow.yaml\n")));
  EXPECT_FALSE(LooksLikeSuite(y("- a\n- b\n")));
}

}  // namespace
}  // namespace sw::eval
