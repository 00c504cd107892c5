// Every adapter over real HTTP (libcurl multi loop) against the fake LLM server on loopback:
// plain, streamed, tool-call round trips, usage, every injected fault, and a 200-call run
// through the engine with 20% faults that must stay inside its budget.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "fakellm/fake_llm.h"
#include "llm/config.h"
#include "llm/http_provider.h"
#include "store/store.h"

namespace sw {
namespace {

using json = nlohmann::json;
using fakellm::FakeLlmServer;
using fakellm::FakeReply;

const char* kKey = "sk-test-9f8e7d6c5b4a";

struct Call {
  llm::CallResult result;
  std::string deltas;
  double seconds = 0;
};

Call CallOnce(llm::Provider& p, llm::Request r) {
  std::promise<llm::CallResult> done;
  auto fut = done.get_future();
  Call c;
  auto t0 = std::chrono::steady_clock::now();
  std::mutex mu;
  p.Start(r, std::make_shared<std::atomic<bool>>(false),
          [&](std::string_view s) {
            std::lock_guard<std::mutex> l(mu);
            c.deltas += s;
          },
          [&](llm::CallResult res) { done.set_value(std::move(res)); });
  c.result = fut.get();
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return c;
}

llm::Request Hello() {
  llm::Request r;
  r.model = "test-model";
  r.messages = {{"system", "be brief", {}, {}}, {"user", "say hello", {}, {}}};
  r.max_tokens = 50;
  return r;
}

class Adapter : public ::testing::TestWithParam<std::tuple<std::string, bool>> {
 protected:
  void SetUp() override {
    auto s = FakeLlmServer::Start({});
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(s).value();
    api_ = std::get<0>(GetParam());
    stream_ = std::get<1>(GetParam());
    provider_ = Make();
  }

  std::shared_ptr<llm::HttpProvider> Make(net::HttpTimeouts t = {}) {
    llm::ProviderConfig c;
    c.name = "p";
    c.api = api_;
    c.base_url = server_->base_url() + (api_ == "openai" || api_ == "openai-responses" ? "/v1" : "");
    c.api_key = kKey;
    c.stream = stream_;
    c.timeouts = t;
    return std::make_shared<llm::HttpProvider>(c);
  }

  bool HasReasoning() const { return api_ != "anthropic" && api_ != "ollama"; }

  std::unique_ptr<FakeLlmServer> server_;
  std::string api_;
  bool stream_ = true;
  std::shared_ptr<llm::HttpProvider> provider_;
};

TEST_P(Adapter, PlainCallWithUsageByKind) {
  FakeReply r;
  r.text = "Hello from the fake server, in several chunks.";
  r.usage.input = 1000;
  r.usage.output = 300;
  if (api_ != "ollama") r.usage.cached_read = 400;
  if (api_ == "anthropic") r.usage.cache_write = 100;
  if (HasReasoning()) r.usage.reasoning = 120;
  server_->Enqueue(r);
  Call c = CallOnce(*provider_, Hello());
  ASSERT_TRUE(c.result.ok()) << c.result.error.status.message();
  const auto& resp = *c.result.response;
  EXPECT_EQ(resp.text, r.text);
  if (stream_) EXPECT_EQ(c.deltas, r.text);
  EXPECT_EQ(resp.finish_reason, "stop");
  EXPECT_EQ(resp.usage.input, 1000);
  EXPECT_EQ(resp.usage.output, 300);
  EXPECT_EQ(resp.usage.cached_read, r.usage.cached_read);
  EXPECT_EQ(resp.usage.cache_write, r.usage.cache_write);
  EXPECT_EQ(resp.usage.reasoning, r.usage.reasoning);
  EXPECT_GT(resp.ttft_ms, 0);
  EXPECT_FALSE(resp.raw.empty());
  // What the server received: the API's own request shape, the key only in its header.
  auto seen = server_->Requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].api, api_);
  EXPECT_EQ(seen[0].body.dump().find(kKey), std::string::npos);
  EXPECT_EQ(seen[0].path.find(kKey), std::string::npos);
  std::string auth = api_ == "anthropic" ? "x-api-key" : api_ == "gemini" ? "x-goog-api-key" : "authorization";
  EXPECT_NE(net::HeaderValue(seen[0].headers, auth).find(kKey), std::string::npos);
}

TEST_P(Adapter, ToolCallRoundTrip) {
  FakeReply first;
  first.text = "";
  first.tool_calls = {{"call_7", "get_weather", R"({"city":"Paris","days":2})"}};
  server_->Enqueue(first);
  llm::Request r = Hello();
  r.tools = {{"get_weather", "weather by city", R"({"type":"object","properties":{"city":{"type":"string"}}})"}};
  Call c1 = CallOnce(*provider_, r);
  ASSERT_TRUE(c1.result.ok()) << c1.result.error.status.message();
  ASSERT_EQ(c1.result.response->tool_calls.size(), 1u);
  auto tc = c1.result.response->tool_calls[0];
  EXPECT_EQ(tc.name, "get_weather");
  EXPECT_EQ(json::parse(tc.arguments_json), json({{"city", "Paris"}, {"days", 2}}));
  EXPECT_EQ(c1.result.response->finish_reason, "tool_calls");

  // The result goes back in the API's own format, and the model answers.
  r.messages.push_back({"assistant", "", {tc}, {}});
  r.messages.push_back({"tool", R"({"temp_c":21})", {}, tc.id});
  FakeReply second;
  second.text = "It is 21 C in Paris.";
  server_->Enqueue(second);
  Call c2 = CallOnce(*provider_, r);
  ASSERT_TRUE(c2.result.ok()) << c2.result.error.status.message();
  EXPECT_EQ(c2.result.response->text, "It is 21 C in Paris.");

  auto seen = server_->Requests();
  ASSERT_EQ(seen.size(), 2u);
  const json& b0 = seen[0].body;
  const json& b = seen[1].body;
  if (api_ == "openai") {
    EXPECT_EQ(b0["tools"][0]["function"]["name"], "get_weather");
    EXPECT_EQ(b["messages"][2]["tool_calls"][0]["id"], tc.id);
    EXPECT_EQ(b["messages"][3]["role"], "tool");
    EXPECT_EQ(b["messages"][3]["tool_call_id"], tc.id);
  } else if (api_ == "openai-responses") {
    EXPECT_EQ(b0["tools"][0]["name"], "get_weather");
    EXPECT_EQ(b["instructions"], "be brief");
    EXPECT_EQ(b["input"][1]["type"], "function_call");
    EXPECT_EQ(b["input"][2]["type"], "function_call_output");
    EXPECT_EQ(b["input"][2]["call_id"], tc.id);
  } else if (api_ == "anthropic") {
    EXPECT_EQ(b0["tools"][0]["input_schema"]["type"], "object");
    EXPECT_EQ(b["system"], "be brief");
    EXPECT_EQ(b["messages"][1]["content"][0]["type"], "tool_use");
    EXPECT_EQ(b["messages"][2]["content"][0]["type"], "tool_result");
    EXPECT_EQ(b["messages"][2]["content"][0]["tool_use_id"], tc.id);
  } else if (api_ == "gemini") {
    EXPECT_EQ(b0["tools"][0]["functionDeclarations"][0]["name"], "get_weather");
    EXPECT_EQ(b["contents"][1]["role"], "model");
    EXPECT_EQ(b["contents"][1]["parts"][0]["functionCall"]["name"], "get_weather");
    EXPECT_EQ(b["contents"][2]["parts"][0]["functionResponse"]["name"], "get_weather");
    EXPECT_EQ(b["contents"][2]["parts"][0]["functionResponse"]["response"]["temp_c"], 21);
  } else {
    EXPECT_EQ(b0["tools"][0]["function"]["name"], "get_weather");
    EXPECT_EQ(b["messages"][2]["tool_calls"][0]["function"]["arguments"]["city"], "Paris");
    EXPECT_EQ(b["messages"][3]["role"], "tool");
  }
}

struct FaultCase {
  const char* fault;
  bool retryable;
  const char* message_part;
};

TEST_P(Adapter, EveryInjectedFault) {
  const FaultCase cases[] = {
      {"429", true, "HTTP 429"}, {"500", true, "HTTP 500"},   {"529", true, "HTTP 529"},
      {"html", true, "Bad Gateway"}, {"400", false, "HTTP 400"}, {"401", false, "Incorrect API key"},
      {"cut", true, "cut"},
  };
  for (const auto& fc : cases) {
    SCOPED_TRACE(fc.fault);
    FakeReply r;
    r.fault = fc.fault;
    r.retry_after = 3;
    server_->Enqueue(r);
    // A fresh provider each time: a 429 pauses the provider that received it for retry_after.
    Call c = CallOnce(*Make(), Hello());
    ASSERT_FALSE(c.result.ok());
    EXPECT_EQ(c.result.error.retryable, fc.retryable) << c.result.error.status.message();
    EXPECT_NE(c.result.error.status.message().find(fc.message_part), std::string::npos)
        << c.result.error.status.message();
    // The 401 body echoes the key, as real providers do in part; it must not reach us.
    EXPECT_EQ(c.result.error.status.message().find(kKey), std::string::npos) << c.result.error.status.message();
    if (std::string(fc.fault) == "429" || std::string(fc.fault) == "529") {
      EXPECT_DOUBLE_EQ(c.result.error.retry_after, 3);
    }
  }
  // Retry-After as an HTTP date.
  FakeReply dated;
  dated.fault = "429";
  dated.retry_after = 5;
  dated.retry_after_http_date = true;
  server_->Enqueue(dated);
  Call d = CallOnce(*Make(), Hello());
  EXPECT_GT(d.result.error.retry_after, 3);
  EXPECT_LE(d.result.error.retry_after, 6.5);
  if (!stream_) return;
  for (const char* f : {"malformed", "stream_error"}) {
    SCOPED_TRACE(f);
    FakeReply r;
    r.fault = f;
    r.text = "a longer reply so that the stream has several chunks before the fault";
    server_->Enqueue(r);
    Call c = CallOnce(*Make(), Hello());
    ASSERT_FALSE(c.result.ok());
    EXPECT_TRUE(c.result.error.retryable) << c.result.error.status.message();
  }
}

TEST_P(Adapter, A429PausesTheProviderForRetryAfter) {
  FakeReply r;
  r.fault = "429";
  r.retry_after = 1;
  server_->Enqueue(r);
  EXPECT_FALSE(CallOnce(*provider_, Hello()).result.ok());
  Call next = CallOnce(*provider_, Hello());  // held back until the provider's reset
  EXPECT_TRUE(next.result.ok());
  EXPECT_GT(next.seconds, 0.8);
}

TEST_P(Adapter, ConflictIsRetriedQuotaAndCutErrorBodiesAreNot) {
  FakeReply conflict;
  conflict.fault = "409";
  server_->Enqueue(conflict);
  Call c = CallOnce(*Make(), Hello());
  ASSERT_FALSE(c.result.ok());
  EXPECT_TRUE(c.result.error.retryable);
  EXPECT_NE(c.result.error.status.message().find("HTTP 409"), std::string::npos);
  // 429 insufficient_quota is a billing problem: waiting will not help.
  FakeReply quota;
  quota.fault = "quota";
  server_->Enqueue(quota);
  c = CallOnce(*Make(), Hello());
  ASSERT_FALSE(c.result.ok());
  EXPECT_FALSE(c.result.error.retryable) << c.result.error.status.message();
  EXPECT_NE(c.result.error.status.message().find("exceeded your current quota"), std::string::npos)
      << c.result.error.status.message();
  // The stored body of a failed call is what the provider said, with the key replaced.
  FakeReply denied;
  denied.fault = "401";
  server_->Enqueue(denied);
  c = CallOnce(*Make(), Hello());
  EXPECT_NE(c.result.response_raw.find("Incorrect API key"), std::string::npos) << c.result.response_raw;
  EXPECT_EQ(c.result.response_raw.find(kKey), std::string::npos) << c.result.response_raw;
  EXPECT_NE(c.result.request_raw.find("say hello"), std::string::npos) << "the wire body is kept for the store";
  EXPECT_EQ(c.result.request_raw.find(kKey), std::string::npos);
}

TEST_P(Adapter, RateLimitHeadersOnASuccessPauseTheProvider) {
  FakeReply spent;
  spent.ratelimit_reset = 2;  // Anthropic's reset is a whole-second RFC 3339 time: 1-2 s from now
  server_->Enqueue(spent);
  Call first = CallOnce(*provider_, Hello());
  ASSERT_TRUE(first.result.ok()) << first.result.error.status.message();
  Call next = CallOnce(*provider_, Hello());  // "remaining: 0": held until the reset
  EXPECT_TRUE(next.result.ok());
  EXPECT_GT(next.seconds, 0.8);
  EXPECT_LT(next.seconds, 3.5);
}

TEST_P(Adapter, FirstTokenTimeoutCountsTokensNotPreambleBytes) {
  if (!stream_) GTEST_SKIP() << "a plain body has no first token before its last byte";
  net::HttpTimeouts t;
  t.first_byte = 0;  // off: the preamble arrives at once anyway
  t.first_token = 0.3;
  FakeReply stall;
  stall.fault = "stall";
  stall.slow_ms = 3000;
  server_->Enqueue(stall);
  Call c = CallOnce(*Make(t), Hello());
  ASSERT_FALSE(c.result.ok());
  EXPECT_TRUE(c.result.error.retryable);
  EXPECT_EQ(c.result.error.status.code(), Code::kTimeout);
  EXPECT_NE(c.result.error.status.message().find("first-token"), std::string::npos) << c.result.error.status.message();
  EXPECT_LT(c.seconds, 2.5);
  // A stream whose tokens flow is not cut by the first-token limit.
  server_->Enqueue(FakeReply{});
  EXPECT_TRUE(CallOnce(*Make(t), Hello()).result.ok());
}

TEST_P(Adapter, IdleAndTotalTimeouts) {
  if (!stream_) GTEST_SKIP() << "streams only";
  {
    net::HttpTimeouts t;
    t.first_byte = 0;
    t.first_token = 0;
    t.total = 0.4;
    FakeReply stall;
    stall.fault = "stall";
    stall.slow_ms = 3000;
    server_->Enqueue(stall);
    Call c = CallOnce(*Make(t), Hello());
    ASSERT_FALSE(c.result.ok());
    EXPECT_TRUE(c.result.error.retryable);
    EXPECT_NE(c.result.error.status.message().find("total timeout"), std::string::npos) << c.result.error.status.message();
    EXPECT_LT(c.seconds, 2.5);
  }
  if (api_ == "gemini" || api_ == "ollama") return;  // no preamble: no gap between bytes to time
  net::HttpTimeouts t;
  t.first_byte = 0;
  t.first_token = 0;
  t.idle = 0.3;
  FakeReply stall;
  stall.fault = "stall";
  stall.slow_ms = 3000;
  server_->Enqueue(stall);
  Call c = CallOnce(*Make(t), Hello());
  ASSERT_FALSE(c.result.ok());
  EXPECT_NE(c.result.error.status.message().find("idle timeout"), std::string::npos) << c.result.error.status.message();
  EXPECT_LT(c.seconds, 2.5);
}

TEST_P(Adapter, TimeToFirstByteTimeout) {
  net::HttpTimeouts t;
  t.first_byte = 0.3;
  auto p = Make(t);
  FakeReply slow;
  slow.fault = "slow";
  slow.slow_ms = 3000;
  server_->Enqueue(slow);
  Call c = CallOnce(*p, Hello());
  ASSERT_FALSE(c.result.ok());
  EXPECT_TRUE(c.result.error.retryable);
  EXPECT_NE(c.result.error.status.message().find("first-byte"), std::string::npos) << c.result.error.status.message();
  EXPECT_LT(c.seconds, 2.5);
}

TEST_P(Adapter, CutStreamKeepsReportedPartialUsage) {
  if (!stream_ || (api_ != "anthropic" && api_ != "gemini"))
    GTEST_SKIP() << "only Anthropic (message_start) and Gemini (every chunk) report usage before a stream ends";
  FakeReply r;
  r.fault = "cut";
  r.usage.input = 777;
  r.text = "a reply long enough to be cut after message_start has been delivered";
  server_->Enqueue(r);
  Call c = CallOnce(*provider_, Hello());
  ASSERT_FALSE(c.result.ok());
  EXPECT_TRUE(c.result.error.retryable);
  EXPECT_EQ(c.result.error.partial.input, 777);
}

INSTANTIATE_TEST_SUITE_P(AllApis, Adapter,
                         ::testing::Combine(::testing::Values("openai", "openai-responses", "anthropic", "gemini", "ollama"),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           std::string n = std::get<0>(info.param) + (std::get<1>(info.param) ? "_stream" : "_plain");
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

TEST(RateLimits, ConcurrencyCapAndRequestsPerMinute) {
  fakellm::FakeOptions o;
  o.latency_ms = 100;
  auto server = FakeLlmServer::Start(o);
  ASSERT_TRUE(server.ok());
  llm::ProviderConfig c;
  c.name = "p";
  c.api = "openai";
  c.base_url = (*server)->base_url() + "/v1";
  c.max_concurrency = 2;
  auto p = std::make_shared<llm::HttpProvider>(c);
  // Six 100 ms calls two at a time take three rounds.
  std::vector<std::future<Call>> calls;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) calls.push_back(std::async(std::launch::async, [&] { return CallOnce(*p, Hello()); }));
  for (auto& f : calls) EXPECT_TRUE(f.get().result.ok());
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GE(took, 0.29);
  EXPECT_EQ((*server)->MaxInFlight(), 2) << "the server saw exactly the cap at once";

  c.max_concurrency = 0;
  c.rpm = 2;
  auto limited = std::make_shared<llm::HttpProvider>(c);
  std::atomic<int> finished{0};
  for (int i = 0; i < 3; ++i)
    limited->Start(Hello(), std::make_shared<std::atomic<bool>>(false), nullptr, [&](llm::CallResult) { ++finished; });
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(finished.load(), 2);  // the third waits for the minute to roll over
  // A cancelled waiting call leaves the queue without being sent.
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  std::promise<llm::CallResult> pr;
  limited->Start(Hello(), cancel, nullptr, [&](llm::CallResult r) { pr.set_value(std::move(r)); });
  cancel->store(true);
  auto r = pr.get_future().get();
  EXPECT_EQ(r.error.status.code(), Code::kCancelled);
  EXPECT_EQ((*server)->Requests().size(), 8u);
}

TEST(RateLimits, TokensPerMinuteAdmitsByEstimateThenCorrectsToActualUsage) {
  fakellm::FakeOptions o;
  o.latency_ms = 100;
  auto server = FakeLlmServer::Start(o);
  ASSERT_TRUE(server.ok());
  FakeReply r;
  r.usage.input = 5;
  r.usage.output = 5;
  (*server)->SetDefault(r);
  llm::ProviderConfig c;
  c.name = "p";
  c.api = "openai";
  c.base_url = (*server)->base_url() + "/v1";
  c.tpm = 100;  // each call is estimated at ~55 tokens (prompt bytes / 4 + max_tokens 50)
  auto p = std::make_shared<llm::HttpProvider>(c);
  auto t0 = std::chrono::steady_clock::now();
  auto a = std::async(std::launch::async, [&] { return CallOnce(*p, Hello()); });
  auto b = std::async(std::launch::async, [&] { return CallOnce(*p, Hello()); });
  EXPECT_TRUE(a.get().result.ok());
  EXPECT_TRUE(b.get().result.ok());
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Two estimates do not fit in 100; once the first reports 10 real tokens, the second does.
  EXPECT_GE(took, 0.19);
  EXPECT_LT(took, 5);
}

// ---- Budget safety through the engine, over real HTTP, with 20% faults ----

std::string WriteFlow(const std::string& dir, const std::string& text) {
  std::filesystem::create_directories(dir);
  std::string path = dir + "/flow.yaml";
  std::ofstream(path) << text;
  return path;
}

struct EngineFixture {
  std::unique_ptr<FakeLlmServer> server;
  llm::Registry providers;
  llm::PriceTable prices;
  tools::Registry tools;
  std::unique_ptr<store::Store> st;
  std::string dir;

  explicit EngineFixture(double fault_rate, std::string api = "openai",
                         std::vector<std::string> kinds = {"429", "500", "529", "cut", "malformed"}) {
    fakellm::FakeOptions o;
    o.fault_rate = fault_rate;
    o.fault_kinds = std::move(kinds);
    o.latency_ms = 5;
    server = std::move(FakeLlmServer::Start(o)).value();
    FakeReply def;
    def.text = "an answer";
    def.retry_after = 0;
    // Within what the engine reserves (prompt bytes + overhead, max_tokens): a real provider
    // cannot count more input tokens than that bound.
    def.usage.input = 10;
    def.usage.output = 200;
    server->SetDefault(def);
    llm::ProviderConfig c;
    c.name = "fake";
    c.api = api;
    c.base_url = server->base_url() + (api == "openai" ? "/v1" : "");
    providers.Add(std::make_shared<llm::HttpProvider>(c));
    // $0.000505 per clean call: 10 * 5e-7 + 200 * 2.5e-6.
    prices.Set("fake/m", llm::Price{5e-7, 2.5e-6});
    tools::AddBuiltins(&tools);
    dir = ::testing::TempDir() + "/budget_" + std::to_string(::getpid()) + "_" + api + "_" + std::to_string(fault_rate);
    std::filesystem::remove_all(dir);
    st = std::move(store::OpenSqlite(dir + "/store")).value();
  }

  Result<engine::RunSummary> Run(const std::string& budget) {
    std::string flow = R"(name: budget
inputs:
  list: {type: string}
nodes:
  items:
    kind: tool
    tool: builtin://json
    args: {value: "{{inputs.list}}"}
  ask:
    needs: [items]
    model: fake/m
    max_tokens: 200
    prompt: "item {{item}}"
    map: {over: "nodes.items.json", as: item}
    retry: {attempts: 4, backoff: 10ms, max_delay: 50ms}
    cache: false
)" + budget;
    auto wf = workflow::LoadOrError(WriteFlow(dir, flow));
    if (!wf.ok()) return wf.status();
    engine::Services s;
    s.providers = &providers;
    s.prices = &prices;
    s.tools = &tools;
    s.store = st.get();
    engine::RunOptions opt;
    json list = json::array();
    for (int i = 0; i < 200; ++i) list.push_back(i);
    opt.inputs = json{{"list", list.dump()}};
    opt.default_max_calls = 2000;
    return engine::Run(*wf, s, opt);
  }
};

TEST(BudgetSafety, TwoHundredCallsWithTwentyPercentFaultsStayInBudget) {
  EngineFixture f(0.2);
  auto run = f.Run("budget: {max_usd: 0.5, policy: stop}\n");
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->status, "succeeded") << run->error;
  auto calls = f.st->ListLlmCalls(run->run_id);
  ASSERT_TRUE(calls.ok());
  auto faults = f.server->FaultCounts();
  int64_t faulted = 0;
  for (auto& [k, n] : faults)
    if (!k.empty()) faulted += n;
  EXPECT_GT(faulted, 15) << "the fault injector should have hit ~20% of calls";
  // Every HTTP request is one recorded call; retries stay within 4 attempts per item.
  EXPECT_EQ(static_cast<int64_t>(calls->size()), faults[""] + faulted);
  std::map<int, int> attempts_per_item;
  double sum = 0;
  int ok = 0;
  for (const auto& c : *calls) {
    attempts_per_item[c.item] = std::max(attempts_per_item[c.item], c.attempt);
    // Refused requests (429, 5xx) cost nothing; a stream cut after it began has unknown cost.
    if (c.status == "ok") ASSERT_TRUE(c.cost_usd.has_value());
    sum += c.cost_usd.value_or(0);
    ok += c.status == "ok";
  }
  EXPECT_EQ(ok, 200);
  EXPECT_EQ(attempts_per_item.size(), 200u);
  for (auto& [item, a] : attempts_per_item) EXPECT_LE(a, 4) << "item " << item;
  EXPECT_NEAR(sum, run->cost_usd, 1e-9);
  EXPECT_NEAR(run->cost_usd, 200 * 0.000505, 1e-9) << "the known part: refused attempts cost nothing";
  EXPECT_EQ(run->cost_unknown, faults["cut"] + faults["malformed"] > 0) << "cut streams are unknown spend";
  EXPECT_LE(run->cost_usd, 0.5);
}

TEST(BudgetSafety, CutAnthropicStreamsAreUnknownSpendChargedAtTheirWorstCase) {
  EngineFixture f(0.2, "anthropic", {"cut"});
  auto run = f.Run("budget: {max_usd: 0.5, policy: stop}\n");
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->status, "succeeded") << run->error;
  auto calls = f.st->ListLlmCalls(run->run_id);
  ASSERT_TRUE(calls.ok());
  int cut = 0;
  double sum = 0;
  for (const auto& c : *calls) {
    if (c.status == "ok") {
      ASSERT_TRUE(c.cost_usd.has_value());
      sum += *c.cost_usd;
      continue;
    }
    ++cut;
    // message_start said 10 input tokens and 1 output token before the connection broke: a
    // lower bound (the provider bills what it generated), so the cost is unknown, not $0.
    EXPECT_EQ(c.tokens_in, 10);
    EXPECT_EQ(c.tokens_out, 1);
    EXPECT_FALSE(c.cost_usd.has_value());
  }
  EXPECT_GT(cut, 15);
  EXPECT_EQ(static_cast<int>(calls->size()), 200 + cut);
  EXPECT_NEAR(sum, run->cost_usd, 1e-9);
  EXPECT_NEAR(run->cost_usd, 200 * 0.000505, 1e-9) << "the known part";
  EXPECT_TRUE(run->cost_unknown) << "the cut calls' spend is unknown, and said so";
  EXPECT_LE(run->cost_usd, 0.5);
}

TEST(BudgetSafety, ABudgetTooSmallStopsSpendingBeforeItIsPassed) {
  EngineFixture f(0.2);
  auto run = f.Run("budget: {max_usd: 0.05, policy: stop}\n");
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_NE(run->status, "succeeded");
  auto calls = f.st->ListLlmCalls(run->run_id);
  ASSERT_TRUE(calls.ok());
  double sum = 0;
  for (const auto& c : *calls) sum += c.cost_usd.value_or(0);
  EXPECT_NEAR(sum, run->cost_usd, 1e-9);
  EXPECT_LE(run->cost_usd, 0.05);
  EXPECT_LT(calls->size(), 200u);
}

}  // namespace
}  // namespace sw
