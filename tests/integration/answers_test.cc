// Answers as real models give them, through the engine over real HTTP (the fake server speaks
// each API's wire format): JSON in fences and prose, a repair turn that shows the model its
// answer and the error, every provider's truncation and refusal with one meaning, and
// on_truncated's three policies.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "fakellm/fake_llm.h"
#include "llm/config.h"
#include "llm/http_provider.h"
#include "store/store.h"
#include "tools/tool.h"
#include "workflow/workflow.h"

namespace sw {
namespace {

using json = nlohmann::json;
using fakellm::FakeLlmServer;
using fakellm::FakeReply;

const std::vector<std::string> kApis = {"openai", "openai-responses", "anthropic", "gemini", "ollama"};

struct Fixture {
  std::unique_ptr<FakeLlmServer> server;
  llm::Registry providers;
  llm::PriceTable prices;
  tools::Registry tools;
  std::unique_ptr<store::Store> st;
  std::string dir;
  std::string model = "fake/m";  // the node's model

  explicit Fixture(const std::string& api, bool stream = true, fakellm::FakeOptions options = {}) {
    server = std::move(FakeLlmServer::Start(options)).value();
    llm::ProviderConfig c;
    c.name = "fake";
    c.api = api;
    c.stream = stream;
    c.base_url = server->base_url() + (api == "openai" || api == "openai-responses" ? "/v1" : "");
    providers.Add(std::make_shared<llm::HttpProvider>(c));
    prices.Set("fake/m", llm::Price{1e-6, 2e-6});
    tools::AddBuiltins(&tools);
    static int seq = 0;
    dir = ::testing::TempDir() + "/answers_" + std::to_string(::getpid()) + "_" + std::to_string(++seq);
    std::filesystem::remove_all(dir);
    st = std::move(store::OpenSqlite(dir + "/store")).value();
  }

  Result<engine::RunSummary> Run(const std::string& node_extra, int max_tokens = 64, int attempts = 3) {
    std::filesystem::create_directories(dir);
    std::string path = dir + "/flow.yaml";
    std::ofstream(path) << "name: answers\nnodes:\n  ask:\n    model: " << model << "\n    max_tokens: " << max_tokens
                        << "\n    retry: {attempts: " << attempts << ", backoff: 10ms, max_delay: 50ms}\n"
                           "    prompt: \"Give the totals as JSON.\"\n" + node_extra;
    auto wf = workflow::LoadOrError(path);
    if (!wf.ok()) return wf.status();
    engine::Services s;
    s.providers = &providers;
    s.prices = &prices;
    s.tools = &tools;
    s.store = st.get();
    engine::RunOptions opt;
    opt.workspace_root = dir + "/workspaces";
    return engine::Run(*wf, s, opt);
  }

  std::vector<std::string> EventTypes(const std::string& run) {
    std::vector<std::string> out;
    for (const auto& e : *st->ListEvents(run)) out.push_back(e.type);
    return out;
  }
  json EventData(const std::string& run, const std::string& type) {
    auto evs = *st->ListEventsOfType(run, type);
    return evs.empty() ? json() : json::parse(evs.back().data);
  }
};

FakeReply Text(const std::string& text, const std::string& finish = "") {
  FakeReply r;
  r.text = text;
  r.finish = finish;
  r.usage.input = 20;
  r.usage.output = 16;
  return r;
}

/// The messages of a received request, as (role, text) in the API's own shape.
std::string LastUserText(const json& body) {
  std::string out;
  auto scan = [&](const json& arr) {
    for (const auto& m : arr) {
      if (m.contains("content") && m["content"].is_string()) out = m["content"].get<std::string>();
      else if (m.contains("content") && m["content"].is_array() && !m["content"].empty()) {
        const json& p = m["content"].back();
        if (p.contains("text")) out = p["text"].get<std::string>();
      } else if (m.contains("parts") && !m["parts"].empty() && m["parts"].back().contains("text")) {
        out = m["parts"].back()["text"].get<std::string>();
      }
    }
  };
  for (const char* k : {"messages", "input", "contents"})
    if (body.contains(k) && body[k].is_array()) scan(body[k]);
  return out;
}

class Answers : public ::testing::TestWithParam<std::string> {};

TEST_P(Answers, JsonInAFenceAfterProseIsFoundAndRecordedAsRepaired) {
  Fixture f(GetParam());
  f.server->Enqueue(Text("Sure! Here are the totals you asked for:\n\n```json\n{\"total\": 42, \"items\": [1, 2]}\n```\n"
                         "Let me know if you need anything else."));
  auto run = f.Run("    output: json\n    schema: {type: object, required: [total], properties: {total: {type: integer}}}\n");
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_EQ(run->status, "succeeded") << run->error;
  EXPECT_EQ(run->outputs["ask"]["total"], 42);
  EXPECT_EQ(f.server->Requests().size(), 1u) << "found, not retried";
  EXPECT_EQ(f.EventData(run->run_id, "output_repaired").value("how", ""), "inside a ```json fence");
}

// Every API names the model that answered; the call records it beside the one requested, and
// the trace's OTLP span carries it as gen_ai.response.model.
TEST_P(Answers, TheModelThatAnsweredIsRecordedBesideTheOneRequested) {
  Fixture f(GetParam());
  FakeReply r = Text("hello");
  r.answer_model = "m-2026-01-15";
  f.server->Enqueue(r);
  auto run = f.Run("");
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_EQ(run->status, "succeeded") << run->error;
  auto calls = f.st->ListLlmCalls(run->run_id);
  ASSERT_TRUE(calls.ok());
  ASSERT_EQ(calls->size(), 1u);
  EXPECT_EQ((*calls)[0].model, "m");
  EXPECT_EQ((*calls)[0].response_model, "m-2026-01-15");
  // And the completion's own id (OTLP's gen_ai.response.id), which Ollama's API does not give.
  const std::map<std::string, std::string> ids = {{"openai", "chatcmpl-fake"}, {"openai-responses", "resp_fake"},
                                                  {"anthropic", "msg_fake"}, {"gemini", "fake-response"}, {"ollama", ""}};
  EXPECT_EQ((*calls)[0].response_id, ids.at(GetParam()));
  EXPECT_EQ((*calls)[0].finish_reason, "stop");
  EXPECT_EQ((*calls)[0].max_tokens, 64);
}

TEST_P(Answers, ProseAroundBareJsonIsFound) {
  Fixture f(GetParam());
  f.server->Enqueue(Text("The answer is {\"total\": 7} as computed."));
  auto run = f.Run("    output: json\n");
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_EQ(run->status, "succeeded") << run->error;
  EXPECT_EQ(run->outputs["ask"]["total"], 7);
  EXPECT_EQ(f.EventData(run->run_id, "output_repaired").value("how", ""),
            "after 1 line of prose, before 1 line of prose");
}

TEST_P(Answers, AnUnusableAnswerGetsARepairTurnNotTheSamePromptAgain) {
  Fixture f(GetParam());
  f.server->Enqueue(Text("I think the total is forty-two."));
  f.server->Enqueue(Text("{\"total\": \"many\"}"));
  f.server->Enqueue(Text("{\"total\": 42}"));
  auto run = f.Run("    output: json\n    schema: {type: object, required: [total], properties: {total: {type: integer}}}\n");
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_EQ(run->status, "succeeded") << run->error;
  EXPECT_EQ(run->outputs["ask"]["total"], 42);
  auto seen = f.server->Requests();
  ASSERT_EQ(seen.size(), 3u);
  // The second request continues the conversation: the model's own answer, then the error.
  std::string body2 = seen[1].body.dump();
  EXPECT_NE(body2.find("I think the total is forty-two."), std::string::npos) << body2;
  std::string repair = LastUserText(seen[1].body);
  EXPECT_NE(repair.find("not valid JSON"), std::string::npos) << repair;
  std::string repair2 = LastUserText(seen[2].body);
  EXPECT_NE(repair2.find("does not match the schema"), std::string::npos) << repair2;
  EXPECT_NE(repair2.find("total"), std::string::npos) << repair2;
  EXPECT_EQ(seen[2].body.dump().find("forty-two"), std::string::npos) << "only the latest answer is shown";
  EXPECT_EQ((*f.st->ListEventsOfType(run->run_id, "repair_requested")).size(), 2u);
  // Every attempt is recorded with what it cost.
  EXPECT_EQ((*f.st->ListLlmCalls(run->run_id)).size(), 3u);
}

TEST_P(Answers, RepairIsBoundedByTheNodesAttempts) {
  Fixture f(GetParam());
  FakeReply prose = Text("No JSON here, sorry.");
  f.server->SetDefault(prose);
  auto run = f.Run("    output: json\n");
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->status, "failed");
  EXPECT_NE(run->error.find("not valid JSON"), std::string::npos) << run->error;
  EXPECT_NE(run->error.find("after 3 attempts"), std::string::npos) << run->error;
  EXPECT_EQ(f.server->Requests().size(), 3u);
}

TEST_P(Answers, ATruncatedAnswerFailsByDefaultWithTheLimitItHit) {
  Fixture f(GetParam());
  f.server->Enqueue(Text("The first half of a long docu", "length"));
  auto run = f.Run("");
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->status, "failed");
  EXPECT_NE(run->error.find("cut at max_tokens 64"), std::string::npos) << run->error;
  EXPECT_NE(run->error.find("16 output tokens"), std::string::npos) << run->error;
  EXPECT_EQ(f.server->Requests().size(), 1u) << "the same request would be cut again: not retried";
  // It was paid for, and recorded.
  EXPECT_GT(run->cost_usd, 0);
}

TEST_P(Answers, OnTruncatedContinueJoinsTheParts) {
  Fixture f(GetParam());
  f.server->Enqueue(Text("{\"total\": 4", "length"));
  f.server->Enqueue(Text("2, \"note\": \"jo", "length"));
  f.server->Enqueue(Text("ined\"}"));
  auto run = f.Run("    output: json\n    on_truncated: continue\n");
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_EQ(run->status, "succeeded") << run->error;
  EXPECT_EQ(run->outputs["ask"], (json{{"total", 42}, {"note", "joined"}}));
  auto seen = f.server->Requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_NE(LastUserText(seen[1].body).find("Continue exactly where it stopped"), std::string::npos);
  EXPECT_NE(seen[2].body.dump().find("{\\\"total\\\": 42, \\\"note\\\": \\\"jo"), std::string::npos)
      << "the model sees everything so far";
  EXPECT_EQ(f.EventData(run->run_id, "answer_joined").value("parts", 0), 3);
}

TEST_P(Answers, OnTruncatedAcceptKeepsTheCutAnswerWithAWarning) {
  Fixture f(GetParam());
  f.server->Enqueue(Text("A summary that stops mid-sen", "length"));
  auto run = f.Run("    on_truncated: accept\n");
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_EQ(run->status, "succeeded") << run->error;
  EXPECT_EQ(run->outputs["ask"], "A summary that stops mid-sen");
  ASSERT_EQ(run->warnings.size(), 1u);
  EXPECT_NE(run->warnings[0].find("on_truncated: accept"), std::string::npos) << run->warnings[0];
}

TEST_P(Answers, ContentFilteringFailsTheNodeWithoutRetrying) {
  const std::string api = GetParam();
  if (api == "anthropic" || api == "ollama") GTEST_SKIP() << api << " has no content-filter stop reason";
  Fixture f(api);
  f.server->Enqueue(Text("", "content_filter"));
  auto run = f.Run("");
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->status, "failed");
  EXPECT_NE(run->error.find("content filter"), std::string::npos) << run->error;
  EXPECT_EQ(f.server->Requests().size(), 1u);
}

TEST_P(Answers, ARefusalFailsTheNodeWithTheModelsWords) {
  const std::string api = GetParam();
  if (api == "gemini" || api == "ollama") GTEST_SKIP() << api << " has no refusal stop reason";
  Fixture f(api);
  f.server->Enqueue(Text("I can't help with that request.", "refusal"));
  auto run = f.Run("");
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->status, "failed");
  EXPECT_NE(run->error.find("the model refused"), std::string::npos) << run->error;
  EXPECT_NE(run->error.find("I can't help with that request."), std::string::npos) << run->error;
  EXPECT_EQ(f.server->Requests().size(), 1u) << "a refusal is not retried";
}

INSTANTIATE_TEST_SUITE_P(AllApis, Answers, ::testing::ValuesIn(kApis), [](const auto& info) {
  std::string n = info.param;
  for (auto& ch : n)
    if (ch == '-') ch = '_';
  return n;
});

TEST(AnswersAnthropic, PauseTurnAndContextWindowHaveTheirOwnMeaning) {
  {
    Fixture f("anthropic");
    f.server->Enqueue(Text("Searching", "pause_turn"));
    auto run = f.Run("");
    ASSERT_TRUE(run.ok());
    EXPECT_EQ(run->status, "failed");
    EXPECT_NE(run->error.find("paused the turn"), std::string::npos) << run->error;
  }
  {
    Fixture f("anthropic");
    f.server->Enqueue(Text("Part", "context_window"));
    auto run = f.Run("");
    ASSERT_TRUE(run.ok());
    EXPECT_EQ(run->status, "failed");
    EXPECT_NE(run->error.find("context window"), std::string::npos) << run->error;
    EXPECT_EQ(f.server->Requests().size(), 1u);
  }
}

TEST(AnswersGemini, AMalformedFunctionCallIsRetried) {
  Fixture f("gemini");
  f.server->Enqueue(Text("", "malformed_tool_call"));
  f.server->Enqueue(Text("fine"));
  auto run = f.Run("");
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->status, "succeeded") << run->error;
  EXPECT_EQ(run->outputs["ask"], "fine");
  EXPECT_EQ(f.server->Requests().size(), 2u);
}

TEST_P(Answers, AnAnswerWithoutUsageHasUnknownCostAndKeepsItsWorstCaseCharged) {
  Fixture f(GetParam());
  FakeReply r = Text("an answer");
  r.omit_usage = true;
  f.server->SetDefault(r);
  // Each call reserves its worst case: (prompt bytes + overhead) at $1/M in, 64 at $2/M out.
  // Unknown usage keeps that charged, so max_usd admits only as many calls as worst cases fit.
  auto run = f.Run("    map: {over: \"[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\", as: x, max_parallel: 1}\n"
                   "    budget: {max_usd: 0.0004}\n");
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_TRUE(run->cost_unknown);
  auto calls = *f.st->ListLlmCalls(run->run_id);
  ASSERT_FALSE(calls.empty());
  for (const auto& c : calls) EXPECT_FALSE(c.cost_usd.has_value()) << "unknown, never $0.00";
  EXPECT_EQ(run->status, "failed") << "the node budget stops calls whose spend cannot be known";
  EXPECT_NE(run->error.find("budget would be exceeded"), std::string::npos) << run->error;
  EXPECT_LT(calls.size(), 10u);
  EXPECT_EQ(f.server->Requests().size(), calls.size());
}

// The server bills what it was sent: the tool definitions too. A reservation that counted only
// the messages let four parallel agents spend $0.0056 against max_usd 0.005; counting
// everything sent, the recorded spend stays within the budget.
TEST(Budget, ToolSchemasAreReservedSoPolicyStopHoldsOverHttp) {
  Fixture f("openai");
  FakeReply r = Text("done");
  r.usage.input = 1200;  // larger than the messages alone (~100 bytes), within what was sent
  r.usage.output = 64;
  f.server->SetDefault(r);
  auto run = f.Run("    kind: agent\n    cache: false\n    tools: [builtin://fs.read, builtin://fs.write, "
                   "builtin://fs.edit, builtin://fs.list, builtin://fs.glob, builtin://fs.grep]\n"
                   "    map: {over: \"[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\", as: x, max_parallel: 4}\n"
                   "budget: {max_usd: 0.005, policy: stop}\n");
  ASSERT_TRUE(run.ok()) << run.status().message();
  auto seen = f.server->Requests();
  ASSERT_FALSE(seen.empty());
  EXPECT_GT(seen[0].body["tools"].dump().size(), 1200u) << "the schemas are at least what the server bills";
  double spent = 0;
  for (const auto& c : *f.st->ListLlmCalls(run->run_id)) spent += c.cost_usd.value_or(1);
  EXPECT_GT(spent, 0.002);
  EXPECT_LE(spent, 0.005 + 1e-12) << "policy stop: recorded spend never passes max_usd";
  EXPECT_LE(run->cost_usd, 0.005 + 1e-12);
  EXPECT_EQ(run->status, "failed") << "the budget stopped the map";
}

// A stream that never ends: each call is cut at its cap (64 KiB of text for max_tokens 64),
// retried, and the node fails saying so; nothing grows without bound.
TEST_P(Answers, AStreamWithoutEndIsCutAtItsCap) {
  Fixture f(GetParam());
  FakeReply r = Text("");
  r.fault = "endless";
  r.endless_bytes = 1 << 20;
  f.server->SetDefault(r);
  auto t0 = std::chrono::steady_clock::now();
  auto run = f.Run("");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->status, "failed");
  EXPECT_NE(run->error.find("passed its cap"), std::string::npos) << run->error;
  EXPECT_NE(run->error.find("after 3 attempts"), std::string::npos) << run->error;
  EXPECT_LT(secs, 20) << "each cut comes at the first oversized delta";
  auto calls = *f.st->ListLlmCalls(run->run_id);
  ASSERT_EQ(calls.size(), 3u);
  for (const auto& c : calls) EXPECT_FALSE(c.cost_usd.has_value()) << "a cut stream without usage: unknown";
  EXPECT_TRUE(run->cost_unknown);
}

// Small deltas that keep coming: the node's timeout ends the call within a second of it.
TEST(Timeout, ANodeTimeoutHoldsAgainstAStreamWithoutEnd) {
  Fixture f("openai");
  FakeReply r = Text("");
  r.fault = "endless";
  r.endless_bytes = 512;
  f.server->SetDefault(r);
  auto t0 = std::chrono::steady_clock::now();
  auto run = f.Run("    timeout: 1s\n", 100000, 1);  // caps of 6.4 MB: the timeout comes first
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->status, "failed");
  EXPECT_NE(run->error.find("timed out"), std::string::npos) << run->error;
  EXPECT_LT(secs, 2.0) << "within a second of the node's timeout";
  EXPECT_GT(f.server->Requests().size(), 0u);
}

// ---- fallback models ----

fakellm::FakeOptions Down(std::map<std::string, std::string> faults) {
  fakellm::FakeOptions o;
  o.model_faults = std::move(faults);
  return o;
}

TEST(Fallbacks, AModelThatIsDownHandsOverAfterItsRetries) {
  Fixture f("openai", true, Down({{"down", "503"}}));
  f.model = "fake/down";
  f.prices.Set("fake/down", llm::Price{1e-3, 1e-3});  // dearer: the answer is priced as fake/m
  f.server->SetDefault(Text("from the fallback"));
  auto run = f.Run("    fallbacks: [fake/m]\n", 64, 2);
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_EQ(run->status, "succeeded") << run->error;
  EXPECT_EQ(run->outputs["ask"], "from the fallback");
  auto seen = f.server->Requests();
  ASSERT_EQ(seen.size(), 3u) << "two tries of the model that is down, then the fallback";
  EXPECT_EQ(seen[0].body["model"], "down");
  EXPECT_EQ(seen[1].body["model"], "down");
  EXPECT_EQ(seen[2].body["model"], "m");
  auto ev = f.EventData(run->run_id, "model_fallback");
  EXPECT_EQ(ev.value("from", ""), "fake/down");
  EXPECT_EQ(ev.value("to", ""), "fake/m");
  EXPECT_NE(ev.value("error", "").find("503"), std::string::npos) << ev.dump();
  auto calls = *f.st->ListLlmCalls(run->run_id);
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[2].model, "m") << "the call is recorded under the model that answered";
  ASSERT_TRUE(calls[2].cost_usd.has_value());
  EXPECT_NEAR(*calls[2].cost_usd, 20 * 1e-6 + 16 * 2e-6, 1e-12) << "and priced as it";
  ASSERT_EQ(run->warnings.size(), 1u);
  EXPECT_NE(run->warnings[0].find("fake/down is unavailable"), std::string::npos) << run->warnings[0];
}

TEST(Fallbacks, NotFoundAndUnconfiguredModelsHandOverAtOnce) {
  {
    Fixture f("anthropic", true, Down({{"gone", "404"}}));
    f.model = "fake/gone";
    f.server->SetDefault(Text("fine"));
    auto run = f.Run("    fallbacks: [fake/m]\n");
    ASSERT_TRUE(run.ok());
    ASSERT_EQ(run->status, "succeeded") << run->error;
    EXPECT_EQ(f.server->Requests().size(), 2u) << "a 404 is not retried: the next model is asked";
  }
  {
    Fixture f("openai");
    f.model = "nowhere/x";
    f.server->SetDefault(Text("fine"));
    auto run = f.Run("    fallbacks: [nowhere/y, fake/m]\n");
    ASSERT_TRUE(run.ok());
    ASSERT_EQ(run->status, "succeeded") << run->error;
    EXPECT_EQ(f.server->Requests().size(), 1u);
    EXPECT_EQ((*f.st->ListEventsOfType(run->run_id, "model_fallback")).size(), 2u);
  }
}

TEST(Fallbacks, ABadRequestIsNoReasonToFallBack) {
  Fixture f("openai", true, Down({{"m", "400"}}));
  auto run = f.Run("    fallbacks: [fake/other]\n");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, "failed");
  EXPECT_EQ(f.server->Requests().size(), 1u);
  EXPECT_TRUE((*f.st->ListEventsOfType(run->run_id, "model_fallback")).empty());
}

TEST(Fallbacks, AnAgentGoesOnWithTheNextModel) {
  Fixture f("openai", true, Down({{"down", "500"}}));
  f.model = "fake/down";
  f.server->SetDefault(Text("done"));
  auto run = f.Run("    kind: agent\n    tools: [builtin://fs.read]\n    fallbacks: [fake/m]\n", 64, 1);
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_EQ(run->status, "succeeded") << run->error;
  auto seen = f.server->Requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].body["model"], "m");
}

TEST(AnswersLoad, OnTruncatedIsCheckedAtLoad) {
  Fixture f("openai");
  auto run = f.Run("    on_truncated: later\n");
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("on_truncated"), std::string::npos) << run.status().message();
  EXPECT_NE(run.status().message().find("flow.yaml:"), std::string::npos) << run.status().message();
}

}  // namespace
}  // namespace sw
