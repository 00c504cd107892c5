#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "llm/json_answer.h"
#include "llm/prices.h"
#include "llm/replay.h"
#include "llm/scripted.h"

namespace sw::llm {
namespace {

CallResult Call(Provider& p, const std::string& node, int iteration = 0, int item = -1, int attempt = 1,
                const std::string& prompt = "hello world", int64_t max_tokens = 0) {
  Request r;
  r.node_id = node;
  r.iteration = iteration;
  r.item = item;
  r.attempt = attempt;
  r.max_tokens = max_tokens;
  r.messages.push_back(Message{"user", prompt, {}, {}});
  CallResult out;
  p.Start(r, std::make_shared<std::atomic<bool>>(false), nullptr, [&](CallResult c) { out = std::move(c); });
  return out;
}

TEST(Scripted, PicksEntriesByConstraintThenByAttempt) {
  PriceTable prices;
  auto p = ScriptedFromJson(R"({
    "prices": {"scripted/m": {"input_cost_per_token": 0.001, "output_cost_per_token": 0.002}},
    "nodes": {
      "review": [{"when": {"iteration": 1}, "json": {"approved": true}}, {"text": "no"}],
      "flaky": [{"error": {"message": "overloaded", "retryable": true, "retry_after": 2}}, {"text": "ok", "usage": {"input": 7, "output": 3, "cached_read": 2}}],
      "*": [{"text": "fallback"}]
    }})", "test", &prices);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(Call(**p, "review", 0).response->text, "no");
  EXPECT_EQ(Call(**p, "review", 1).response->text, "{\"approved\":true}");
  auto e = Call(**p, "flaky", 0, -1, 1);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(e.error.retryable);
  EXPECT_DOUBLE_EQ(e.error.retry_after, 2);
  auto ok = Call(**p, "flaky", 0, -1, 2);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.response->usage.input, 7);
  EXPECT_EQ(ok.response->usage.cached_read, 2);
  EXPECT_EQ(Call(**p, "other").response->text, "fallback");
  auto price = prices.Lookup("scripted", "m");
  ASSERT_TRUE(price.has_value());
  EXPECT_NEAR(CostOf(ok.response->usage, *price), 5 * 0.001 + 2 * 0.001 + 3 * 0.002, 1e-12);
}

TEST(Scripted, CountsTokensAndCutsAtMaxTokens) {
  auto p = ScriptedFromJson(R"({"nodes": {"a": [{"text": "0123456789012345678901234567890123456789"}]}})", "t", nullptr);
  ASSERT_TRUE(p.ok());
  auto r = Call(**p, "a", 0, -1, 1, "12345678", 4);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.response->usage.input, 2);
  EXPECT_EQ(r.response->usage.output, 4);
  EXPECT_EQ(r.response->finish_reason, "length");
  EXPECT_EQ(r.response->text.size(), 16u);
}

TEST(Scripted, NoAnswerIsAClearError) {
  auto p = ScriptedFromJson(R"({"nodes": {"a": [{"text": "x"}]}})", "t", nullptr);
  auto r = Call(**p, "b");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.status.message().find("no answer for node \"b\""), std::string::npos);
  EXPECT_FALSE(r.error.retryable);
}

TEST(Scripted, MalformedScriptsNameTheProblem) {
  auto bad = ScriptedFromJson(R"({"nodes": {"a": [{"txt": "x"}]}})", "s.yaml", nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("s.yaml: nodes.a[0]: unknown key \"txt\" (did you mean \"text\"?)"),
            std::string::npos)
      << bad.status().message();
  bad = ScriptedFromJson(R"({"nodez": {}})", "s.yaml", nullptr);
  EXPECT_FALSE(bad.ok());
  char tmpl[] = "/tmp/sw_llm_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/s.yaml") << "nodes:\n  a: [{text: x}\n";
  auto y = LoadScripted(dir + "/s.yaml", nullptr);
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find(dir + "/s.yaml:"), std::string::npos) << y.status().message();
  std::ofstream(dir + "/s.jsonl") << "{\"node\": \"a\", \"text\": \"from jsonl\"}\n\nnot json\n";
  auto j = LoadScripted(dir + "/s.jsonl", nullptr);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("s.jsonl:3"), std::string::npos) << j.status().message();
  std::ofstream(dir + "/ok.jsonl") << "{\"node\": \"a\", \"text\": \"from jsonl\"}\n";
  auto ok = LoadScripted(dir + "/ok.jsonl", nullptr);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(Call(**ok, "a").response->text, "from jsonl");
  // A mistake inside an entry names the entry's line and column, and never quotes a huge
  // value whole.
  std::ofstream(dir + "/entry.yaml") << "nodes:\n  a:\n    - {text: fine}\n    - {text: [1, 2]}\n";
  auto e = LoadScripted(dir + "/entry.yaml", nullptr);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("entry.yaml:4:7: nodes.a[1]: text must be a string"), std::string::npos)
      << e.status().message();
  std::ofstream(dir + "/line.jsonl") << "{\"node\": \"a\", \"text\": \"x\"}\n{\"node\": \"a\", \"txet\": \"y\"}\n";
  auto l = LoadScripted(dir + "/line.jsonl", nullptr);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("line.jsonl:2: nodes.a[1]: unknown key \"txet\""), std::string::npos)
      << l.status().message();
  std::ofstream(dir + "/huge.yaml") << "nodes:\n  a:\n    - {" << std::string(100000, 'k') << ": 1}\n";
  auto h = LoadScripted(dir + "/huge.yaml", nullptr);
  ASSERT_FALSE(h.ok());
  EXPECT_LT(h.status().message().size(), 400u) << "a 100 KB key is not echoed whole";
  std::filesystem::remove_all(dir);
}

TEST(Prices, LiteLlmFormatAndWorstCase) {
  PriceTable t;
  ASSERT_TRUE(t.LoadJson(R"({"openai/gpt-x": {"input_cost_per_token": 1e-6, "output_cost_per_token": 4e-6,
      "cache_read_input_token_cost": 5e-7, "output_cost_per_reasoning_token": 8e-6, "max_output_tokens": 1000}})",
                         "p.json")
                  .ok());
  auto p = t.Lookup("openai", "gpt-x");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->max_output_tokens, 1000);
  Usage u;
  u.input = 100;
  u.cached_read = 40;
  u.output = 50;
  u.reasoning = 10;
  EXPECT_NEAR(CostOf(u, *p), 60e-6 + 40 * 5e-7 + 40 * 4e-6 + 10 * 8e-6, 1e-12);
  EXPECT_NEAR(WorstCaseCost(100, 50, *p), 100e-6 + 50 * 8e-6, 1e-12);
  EXPECT_FALSE(t.Lookup("openai", "unknown").has_value());
  EXPECT_FALSE(t.LoadJson(R"({"m": {"input_cost_per_token": "cheap"}})", "p.json").ok());
  EXPECT_FALSE(t.LoadJson("{", "p.json").ok());
  // Priced per image or second (no per-token price): unknown here, never a known $0.
  ASSERT_TRUE(t.LoadJson(R"({"dall-e-3": {"output_cost_per_image": 0.04, "max_output_tokens": 10}})", "p.json").ok());
  EXPECT_FALSE(t.Lookup("openai", "dall-e-3").has_value());
}

TEST(Provider, SplitModelAndPessimisticEstimate) {
  std::string p, m;
  EXPECT_TRUE(SplitModel("openai/gpt-4o", &p, &m).ok());
  EXPECT_EQ(p, "openai");
  EXPECT_TRUE(SplitModel("openrouter/meta/llama", &p, &m).ok());
  EXPECT_EQ(m, "meta/llama");
  EXPECT_FALSE(SplitModel("gpt-4o", &p, &m).ok());
  Request big;
  big.messages = {Message{"user", std::string(1000, 'x'), {}, {}}};
  EXPECT_GE(EstimateInputTokens(big), 1000);
  // Tool schemas are sent, and billed, as prompt tokens.
  Request with_tools = big;
  with_tools.tools = {ToolSpec{"search", "Search the web", std::string(5000, ' ')}};
  EXPECT_GE(EstimateInputTokens(with_tools), EstimateInputTokens(big) + 5000);
}

TEST(Replay, FingerprintIgnoresRunAttemptAndMaxTokensButNotContentOrPlace) {
  Request a;
  a.provider = "openai";
  a.model = "gpt";
  a.node_id = "n";
  a.messages = {{"user", "hi", {}, {}}};
  Request b = a;
  b.run_id = "other";
  b.attempt = 3;
  b.max_tokens = 999;
  EXPECT_EQ(RequestFingerprint(a), RequestFingerprint(b));
  for (auto change : std::vector<std::function<void(Request&)>>{
           [](Request& r) { r.messages[0].content = "ho"; }, [](Request& r) { r.iteration = 1; },
           [](Request& r) { r.item = 0; },                    [](Request& r) { r.turn = 2; },
           [](Request& r) { r.model = "gpt2"; },              [](Request& r) { r.temperature = 0.5; },
           [](Request& r) { r.json_output = true; },          [](Request& r) { r.tools.push_back({"t", "d", "{}"}); }}) {
    Request c = a;
    change(c);
    EXPECT_NE(RequestFingerprint(a), RequestFingerprint(c));
  }
}

TEST(Replay, AnswersInRecordedOrderRepeatsTheLastAndNamesTheNodeWhenUnknown) {
  Request req;
  req.provider = "p";
  req.model = "m";
  req.node_id = "writer";
  req.messages = {{"user", "go", {}, {}}};
  auto recs = std::make_shared<Recordings>();
  Response first, second;
  first.text = "bad json";
  second.text = "{\"ok\":true}";
  second.tool_calls = {{"c1", "fs_read", "{}", ""}};
  (*recs)[RequestFingerprint(req)] = {Recording{false, {}, "HTTP 429"}, Recording{true, first, ""}, Recording{true, second, ""}};
  Request failing = req;
  failing.node_id = "flaky";
  (*recs)[RequestFingerprint(failing)] = {Recording{false, {}, "HTTP 500: down"}};
  ReplayProvider p("p", recs, "run-1");
  auto call = [&](const Request& r) {
    CallResult out;
    p.Start(r, nullptr, nullptr, [&](CallResult res) { out = std::move(res); });
    return out;
  };
  auto r1 = call(req);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1.response->text, "bad json");  // failures are skipped: the answers come in order
  auto r2 = call(req);
  EXPECT_EQ(r2.response->text, "{\"ok\":true}");
  ASSERT_EQ(r2.response->tool_calls.size(), 1u);
  EXPECT_EQ(call(req).response->text, "{\"ok\":true}");  // the last repeats
  auto f = call(failing);
  ASSERT_FALSE(f.ok());
  EXPECT_FALSE(f.error.retryable);
  EXPECT_NE(f.error.status.message().find("HTTP 500: down"), std::string::npos);
  Request unknown = req;
  unknown.messages[0].content = "changed";
  unknown.iteration = 2;
  auto u = call(unknown);
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error.status.message().find("no recorded response for node \"writer\" (iteration 2)"), std::string::npos)
      << u.error.status.message();
  // The neutral reply round-trips.
  second.usage = {5, 6, 1, 2, 3};
  second.finish_reason = "stop";
  auto back = ParseReply(ReplyJson(second));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->text, second.text);
  EXPECT_EQ(back->usage.reasoning, 3);
  EXPECT_EQ(back->tool_calls[0].name, "fs_read");
  EXPECT_FALSE(ParseReply("{").ok());
}

}  // namespace
}  // namespace sw::llm

namespace sw::llm {
namespace {

TEST(FindJson, FindsTheValueWhereRealModelsPutIt) {
  struct Case {
    std::string text;
    nlohmann::json want;
    std::string how;
  };
  std::vector<Case> cases = {
      {"{\"a\": 1}", {{"a", 1}}, ""},
      {"  [1, 2]\n", {1, 2}, ""},
      {"```json\n{\"a\": 1}\n```", {{"a", 1}}, "inside a ```json fence"},
      {"```JSON\n{\"a\": 1}\n```", {{"a", 1}}, "inside a ```JSON fence"},
      {"Here you go:\n```\n{\"a\": 1}\n```\nAnything else?", {{"a", 1}}, "inside a ``` fence"},
      {"Some code:\n```python\nprint({1: 2})\n```\nand the answer:\n```json\n{\"a\": 2}\n```", {{"a", 2}},
       "inside a ```json fence"},
      {"The result is {\"a\": \"} { [\"} as computed.", {{"a", "} { ["}}, "after 1 line of prose, before 1 line of prose"},
      {"I checked [the docs] and:\n{\"ok\": true}", {{"ok", true}}, "after 1 line of prose"},
      {"{\"a\": 1}\n\nNote: the value is approximate.", {{"a", 1}}, "before 1 line of prose"},
      // A cut answer whose fence never closes still yields its value when that is complete.
      {"```json\n{\"a\": 1}\n", {{"a", 1}}, "inside a ```json fence"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto a = FindJson(c.text);
    ASSERT_TRUE(a.ok()) << a.error;
    EXPECT_EQ(*a.value, c.want);
    EXPECT_EQ(a.repaired, c.how);
  }
}

// Documents as real models give them: in a ```markdown fence after a chatty line, with the
// API's own code fences inside; or after a preamble with no fence; or as they are.
TEST(FindDocument, UnwrapsTheDocumentWhereRealModelsPutIt) {
  const std::string doc = "# API\n\n## API-05-001 Split\n\n```sh\ntipsplit 10 2\n```\n\nTraces: REQ-01-001\n";
  EXPECT_EQ(FindDocument(doc).text, doc);
  EXPECT_EQ(FindDocument(doc).repaired, "");
  auto fenced = FindDocument("Sure! Here is the API document.\n\n```markdown\n" + doc + "```\n\nLet me know if you want "
                             "changes.\n");
  EXPECT_EQ(fenced.text, doc);
  EXPECT_EQ(fenced.repaired, "inside a ```markdown fence, after 1 line of prose, before 1 line of prose");
  auto md = FindDocument("````md\n" + doc + "````\n");
  EXPECT_EQ(md.text, doc);
  auto preamble = FindDocument("Here are the requirements, following the guideline:\n\n" + doc);
  EXPECT_EQ(preamble.text, doc);
  EXPECT_EQ(preamble.repaired, "after 1 line of prose");
  auto cut = FindDocument("```markdown\n# Requirements\n\n## REQ-01-001 Split");
  EXPECT_EQ(cut.text, "# Requirements\n\n## REQ-01-001 Split");
  EXPECT_NE(cut.repaired.find("never closes"), std::string::npos);
  // A preamble, then the document with its own examples in bare and labelled fences: the
  // examples are not taken for the document's fence.
  const std::string api = "# API\n\n## API-05-001 Split\n\n```\ntipsplit 10 2\n```\n\n## API-05-002 Body\n\n```json\n"
                          "{\"a\": 1}\n```\n";
  auto pre = FindDocument("Here is the API document:\n\n" + api);
  EXPECT_EQ(pre.text, api);
  EXPECT_EQ(pre.repaired, "after 1 line of prose");
  // In a fence, with labelled examples inside and a fenced command in the prose after it.
  auto nested = FindDocument("```markdown\n# R\n\n## REQ-01-001 X\n\n```sh\nmake\n```\n```\nYou can run:\n```\nmake\n```\n");
  EXPECT_EQ(nested.text, "# R\n\n## REQ-01-001 X\n\n```sh\nmake\n```\n");
  EXPECT_EQ(nested.repaired, "inside a ```markdown fence, before 4 lines of prose");
  // Unlabelled examples inside a fenced document (a diagram at the top, a command at the end of
  // an item) pair up; the document ends at the marker after which no document follows.
  const std::string arch = "# Architecture\n\n```\ncli --HTTP--> service\n```\n\n## SVC-04-001 Service\n\nRun:\n```\n"
                           "make run\n```\n\nTraces: US-03-001\n";
  auto diagram = FindDocument("Here it is.\n\n```markdown\n" + arch + "```\n\nAnything else?\n");
  EXPECT_EQ(diagram.text, arch);
  EXPECT_EQ(diagram.repaired, "inside a ```markdown fence, after 1 line of prose, before 1 line of prose");
  // Prose after a fenced document may hold headings and commented shell examples of its own.
  const std::string doc2 = "# R\n\n## REQ-01-001 X\n\nText.\n";
  for (const std::string& tail : {std::string("\n## Notes\nI assumed X.\n"),
                                  std::string("To try it:\n```bash\n# install\npip install .\n```\n"),
                                  std::string("Run it:\n```\n# build\nmake\n```\n")}) {
    auto after_doc = FindDocument("Here:\n```markdown\n" + doc2 + "```\n" + tail);
    EXPECT_EQ(after_doc.text, doc2) << tail;
    EXPECT_EQ(after_doc.repaired.find("never closes"), std::string::npos) << tail;
  }
  // A code block that is not Markdown is not taken for the document.
  std::string code = "Run it:\n```sh\nmake\n```\n";
  EXPECT_EQ(FindDocument(code).text, code);
  EXPECT_EQ(FindDocument("").text, "");
}

TEST(FindJson, SaysWhyAnAnswerCannotBeUsed) {
  auto none = FindJson("I think the answer is 42.");
  EXPECT_FALSE(none.ok());
  EXPECT_FALSE(none.value.has_value()) << "a bare number in prose is not an answer";
  EXPECT_NE(none.error.find("not valid JSON"), std::string::npos) << none.error;
  EXPECT_NE(none.error.find("I think the answer"), std::string::npos) << none.error;

  auto cut = FindJson("{\"a\": [1, 2");
  EXPECT_FALSE(cut.ok());
  // A value that never closes is not mined for a fragment inside it.
  auto open = FindJson("{\"result\": {\"score\": 7}, \"notes\": \"ok\"");
  EXPECT_FALSE(open.ok()) << open.value->dump();
  EXPECT_NE(cut.error.find("not valid JSON"), std::string::npos) << cut.error;

  // With a check, the first candidate that passes wins; else the first one's errors.
  JsonCheck needs_b = [](const nlohmann::json& v) {
    return v.contains("b") ? std::vector<std::string>{} : std::vector<std::string>{"b is required"};
  };
  auto second = FindJson("Draft: {\"a\": 1}\nFinal: {\"b\": 2}", needs_b);
  ASSERT_TRUE(second.ok()) << second.error;
  EXPECT_EQ(*second.value, (nlohmann::json{{"b", 2}}));
  auto neither = FindJson("{\"a\": 1}", needs_b);
  EXPECT_FALSE(neither.ok());
  ASSERT_TRUE(neither.value.has_value());
  EXPECT_NE(neither.error.find("does not match the schema: b is required"), std::string::npos) << neither.error;

  // Bounded: a long answer full of brackets costs at most 32 parses.
  std::string many;
  for (int i = 0; i < 10000; ++i) many += "[x] ";
  EXPECT_FALSE(FindJson(many).ok());
}

}  // namespace
}  // namespace sw::llm
