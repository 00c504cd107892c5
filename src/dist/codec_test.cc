#include "dist/codec.h"

#include <gtest/gtest.h>

namespace sw::dist {
namespace {

void ExpectSameCalls(const std::vector<llm::ToolCall>& a, const std::vector<llm::ToolCall>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].arguments_json, b[i].arguments_json);
    EXPECT_EQ(a[i].provider_data, b[i].provider_data);
  }
}

void ExpectSameUsage(const llm::Usage& a, const llm::Usage& b) {
  EXPECT_EQ(a.input, b.input);
  EXPECT_EQ(a.output, b.output);
  EXPECT_EQ(a.cached_read, b.cached_read);
  EXPECT_EQ(a.cache_write, b.cache_write);
  EXPECT_EQ(a.reasoning, b.reasoning);
}

/// Through text, as a task row holds it.
json Wire(const json& j) { return json::parse(j.dump()); }

llm::Request FullRequest() {
  llm::Request r;
  r.provider = "openai";
  r.model = "gpt-4o/mini";
  r.messages.push_back({"system", "be brief", {}, ""});
  r.messages.push_back({"user", "hello \xC3\xA9 \"quoted\"\n", {}, ""});
  r.messages.push_back({"assistant", "", {{"c1", "fs_read", "{\"path\":\"a\"}", "sig=="}, {"c2", "shell", "{}", ""}}, ""});
  r.messages.push_back({"tool", "file text", {}, "c1"});
  r.tools.push_back({"fs_read", "read a file", "{\"type\":\"object\"}"});
  r.temperature = 0.30000000000000004;
  r.max_tokens = 4096;
  r.stop = {"END", "\n\n"};
  r.json_output = true;
  r.run_id = "20260101-abc";
  r.node_id = "draft";
  r.iteration = 2;
  r.item = 7;
  r.attempt = 3;
  r.turn = 5;
  return r;
}

TEST(CodecTest, RequestRoundTripsEveryField) {
  llm::Request a = FullRequest();
  auto b = RequestFromJson(Wire(RequestToJson(a)));
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->provider, a.provider);
  EXPECT_EQ(b->model, a.model);
  ASSERT_EQ(b->messages.size(), a.messages.size());
  for (size_t i = 0; i < a.messages.size(); ++i) {
    EXPECT_EQ(b->messages[i].role, a.messages[i].role);
    EXPECT_EQ(b->messages[i].content, a.messages[i].content);
    EXPECT_EQ(b->messages[i].tool_call_id, a.messages[i].tool_call_id);
    ExpectSameCalls(b->messages[i].tool_calls, a.messages[i].tool_calls);
  }
  ASSERT_EQ(b->tools.size(), 1u);
  EXPECT_EQ(b->tools[0].name, "fs_read");
  EXPECT_EQ(b->tools[0].description, "read a file");
  EXPECT_EQ(b->tools[0].parameters_json, "{\"type\":\"object\"}");
  ASSERT_TRUE(b->temperature.has_value());
  EXPECT_EQ(*b->temperature, *a.temperature);  // bit for bit
  EXPECT_EQ(b->max_tokens, 4096);
  EXPECT_EQ(b->stop, a.stop);
  EXPECT_TRUE(b->json_output);
  EXPECT_EQ(b->run_id, a.run_id);
  EXPECT_EQ(b->node_id, a.node_id);
  EXPECT_EQ(b->iteration, 2);
  EXPECT_EQ(b->item, 7);
  EXPECT_EQ(b->attempt, 3);
  EXPECT_EQ(b->turn, 5);
  // The same JSON again: nothing was lost or defaulted.
  EXPECT_EQ(RequestToJson(*b).dump(), RequestToJson(a).dump());
}

TEST(CodecTest, RequestWithoutTemperatureStaysUnset) {
  llm::Request a;
  a.provider = "scripted";
  a.model = "m";
  auto b = RequestFromJson(Wire(RequestToJson(a)));
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->temperature.has_value());
  EXPECT_EQ(b->item, -1);
  EXPECT_FALSE(b->json_output);
}

TEST(CodecTest, ResponseRoundTripsEveryField) {
  llm::CallResult a;
  llm::Response r;
  r.text = "answer";
  r.tool_calls = {{"call_1", "fs_edit", "{\"path\":\"x\",\"old\":\"a\"}", "thought-signature-bytes"}};
  r.usage = {1200, 340, 1000, 50, 120};
  r.usage_known = true;
  r.finish_reason = "tool_calls";
  r.finish_raw = "TOOL_USE";
  r.refusal = "";
  r.model = "gpt-4o-2024-08-06";
  r.id = "chatcmpl-123";
  r.raw = "{\"raw\":true}";
  r.ttft_ms = 123.456789012345;
  a.response = r;
  a.request_raw = "POST body";
  a.response_raw = "";
  auto b = CallResultFromJson(Wire(CallResultToJson(a)));
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_TRUE(b->ok());
  const auto& x = *b->response;
  EXPECT_EQ(x.text, r.text);
  ExpectSameCalls(x.tool_calls, r.tool_calls);
  ExpectSameUsage(x.usage, r.usage);
  EXPECT_TRUE(x.usage_known);
  EXPECT_EQ(x.finish_reason, "tool_calls");
  EXPECT_EQ(x.finish_raw, "TOOL_USE");
  EXPECT_EQ(x.model, r.model);
  EXPECT_EQ(x.id, r.id);
  EXPECT_EQ(x.raw, r.raw);
  EXPECT_EQ(x.ttft_ms, r.ttft_ms);
  EXPECT_EQ(b->request_raw, "POST body");
  EXPECT_EQ(CallResultToJson(*b).dump(), CallResultToJson(a).dump());
}

TEST(CodecTest, UnknownUsageAndRefusalRoundTrip) {
  llm::CallResult a;
  llm::Response r;
  r.text = "";
  r.usage_known = false;
  r.finish_reason = "refusal";
  r.refusal = "I can't help with that.";
  a.response = r;
  auto b = CallResultFromJson(Wire(CallResultToJson(a)));
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->response->usage_known);
  EXPECT_EQ(b->response->refusal, r.refusal);
  EXPECT_EQ(b->response->finish_reason, "refusal");
}

TEST(CodecTest, ErrorRoundTripsWithPartialUsage) {
  llm::CallResult a;
  a.error.status = Status(Code::kUnavailable, "stream cut after 3 chunks");
  a.error.retryable = true;
  a.error.retry_after = 2.5;
  a.error.partial = {900, 12, 800, 0, 4};
  a.error.http_status = 529;
  a.error.usage_known = false;
  a.request_raw = "{\"model\":\"claude\"}";
  a.response_raw = "{\"type\":\"error\"}";
  auto b = CallResultFromJson(Wire(CallResultToJson(a)));
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->ok());
  EXPECT_EQ(b->error.status.code(), Code::kUnavailable);
  EXPECT_EQ(b->error.status.message(), "stream cut after 3 chunks");
  EXPECT_TRUE(b->error.retryable);
  EXPECT_EQ(b->error.retry_after, 2.5);
  ExpectSameUsage(b->error.partial, a.error.partial);
  EXPECT_EQ(b->error.http_status, 529);
  EXPECT_FALSE(b->error.usage_known);
  EXPECT_EQ(b->request_raw, a.request_raw);
  EXPECT_EQ(b->response_raw, a.response_raw);
  // Every code keeps its kind: the engine retries by it.
  for (Code c : {Code::kTimeout, Code::kCancelled, Code::kInvalidInput, Code::kNotFound, Code::kBudget,
                 Code::kPermission, Code::kIo, Code::kFailed, Code::kInternal}) {
    llm::CallResult e;
    e.error.status = Status(c, "x");
    auto d = CallResultFromJson(Wire(CallResultToJson(e)));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->error.status.code(), c);
  }
}

TEST(CodecTest, BytesThatAreNotUtf8RoundTrip) {
  llm::CallResult a;
  llm::Response r;
  r.text = std::string("cut inside \xE2\x82", 13);  // half of a euro sign
  r.raw = std::string("\0\xff\xfe binary", 10);
  a.response = r;
  a.request_raw = "\xC0\xAF";  // overlong
  std::string text = CallResultToJson(a).dump();  // must not throw
  auto b = CallResultFromJson(json::parse(text));
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->response->text, r.text);
  EXPECT_EQ(b->response->raw, r.raw);
  EXPECT_EQ(b->request_raw, a.request_raw);
}

TEST(CodecTest, MalformedJsonIsAnErrorNotACrash) {
  EXPECT_FALSE(CallResultFromJson(json::parse("{\"response\": 3}")).ok());
  EXPECT_FALSE(CallResultFromJson(json::parse("[]")).ok());
  EXPECT_FALSE(RequestFromJson(json::parse("{\"provider\": \"x\"}")).ok());
  auto bad = ToolTaskFromJson(json::parse("{\"uri\": 5}"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("malformed tool call"), std::string::npos);
}

TEST(CodecTest, ToolTaskAndOutcomeRoundTrip) {
  ToolTask t;
  t.uri = "builtin://shell.run";
  t.args = json{{"command", "make test"}, {"n", 3}};
  t.run_id = "r1";
  t.node_id = "build";
  t.iteration = 1;
  t.item = 4;
  t.attempt = 2;
  t.call = 3;
  t.shell.allow = {"make", "git"};
  t.shell.timeout = 90.5;
  t.shell.max_output = 12345;
  t.workspace = json{{"repo", "file:///tmp/x.git"}, {"commit", "abc"}};
  auto b = ToolTaskFromJson(Wire(ToolTaskToJson(t)));
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->uri, t.uri);
  EXPECT_EQ(b->args, t.args);
  EXPECT_EQ(b->run_id, "r1");
  EXPECT_EQ(b->node_id, "build");
  EXPECT_EQ(b->iteration, 1);
  EXPECT_EQ(b->item, 4);
  EXPECT_EQ(b->attempt, 2);
  EXPECT_EQ(b->call, 3);
  EXPECT_EQ(b->shell.allow, t.shell.allow);
  EXPECT_EQ(b->shell.timeout, 90.5);
  EXPECT_EQ(b->shell.max_output, 12345u);
  EXPECT_EQ(b->workspace, t.workspace);

  ToolOutcome ok;
  ok.ok = true;
  ok.value = json{{"exit_code", 0}, {"stdout", "ok\n"}};
  ok.workspace = json{{"commit", "def"}};
  auto o = ToolOutcomeFromJson(Wire(ToolOutcomeToJson(ok)));
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->ok);
  EXPECT_EQ(o->value, ok.value);
  EXPECT_EQ(o->workspace, ok.workspace);

  ToolOutcome err;
  err.error = Status(Code::kTimeout, "command timed out after 90s");
  auto e = ToolOutcomeFromJson(Wire(ToolOutcomeToJson(err)));
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->ok);
  EXPECT_EQ(e->error.code(), Code::kTimeout);
  EXPECT_EQ(e->error.message(), "command timed out after 90s");
  // A string value stays a string (a tool node's text output).
  ToolOutcome s;
  s.ok = true;
  s.value = "plain text";
  auto sv = ToolOutcomeFromJson(Wire(ToolOutcomeToJson(s)));
  ASSERT_TRUE(sv.ok());
  EXPECT_TRUE(sv->value.is_string());
}

}  // namespace
}  // namespace sw::dist
