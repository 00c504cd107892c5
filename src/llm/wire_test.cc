// The decoders against the exact bytes each API documents, fed whole, byte by byte and in
// odd-sized pieces (a network read can end anywhere, including between \r and \n).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "llm/config.h"
#include "llm/finish.h"
#include "llm/http_provider.h"
#include "net/stream.h"

namespace sw::llm {
namespace {

using json = nlohmann::json;

struct Decoded {
  Status finish;
  Status feed;
  Response r;
  bool usage_seen = false;
  std::string stream_error;
  bool retryable = false;
  std::string deltas;
};

Decoded Decode(const std::string& api, const std::string& bytes, size_t piece, bool stream = true) {
  ProviderConfig c;
  c.api = api;
  c.stream = stream;
  auto d = WireApiFor(api)->NewDecoder(c);
  Decoded out;
  d->on_delta = [&](std::string_view s) { out.deltas += s; };
  for (size_t i = 0; i < bytes.size() && out.feed.ok(); i += piece)
    out.feed = d->Feed(std::string_view(bytes).substr(i, piece));
  if (out.feed.ok()) out.finish = d->Finish();
  out.r = d->response;
  out.usage_seen = d->usage_seen;
  out.stream_error = d->stream_error;
  out.retryable = d->stream_error_retryable;
  return out;
}

/// Every split of the same bytes must decode to the same thing.
template <typename Check>
void ForEachSplit(const std::string& api, const std::string& bytes, Check check, bool stream = true) {
  for (size_t piece : {bytes.size(), size_t{1}, size_t{7}, size_t{64}}) {
    SCOPED_TRACE("piece size " + std::to_string(piece));
    check(Decode(api, bytes, piece, stream));
  }
}

TEST(SseParserTest, FollowsTheEventStreamRules) {
  std::vector<std::pair<std::string, std::string>> got;
  net::SseParser p([&](std::string_view ev, std::string_view data) {
    got.emplace_back(std::string(ev), std::string(data));
    return true;
  });
  std::string s = "\xEF\xBB\xBF: comment\r\nevent: a\r\ndata: one\r\ndata:two\r\n\r\ndata: x\rdata: y\r\rid: 3\nretry: 5\n\n"
                  "event: empty\n\ndata: last\n";
  for (char c : s) p.Feed(std::string_view(&c, 1));
  ASSERT_EQ(got.size(), 2u);  // "event: empty" has no data; "last" is never terminated
  EXPECT_EQ(got[0], (std::pair<std::string, std::string>{"a", "one\ntwo"}));
  EXPECT_EQ(got[1], (std::pair<std::string, std::string>{"", "x\ny"}));
}

TEST(LineParserTest, SplitsRecordsAndFlushesTheLast) {
  std::vector<std::string> got;
  net::LineParser p([&](std::string_view l) {
    got.emplace_back(l);
    return true;
  });
  p.Feed("{\"a\":1}\r\n\n  \n{\"b\"");
  p.Feed(":2}\n{\"c\":3}");
  p.Flush();
  EXPECT_EQ(got, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}));
}

// From the Chat Completions streaming reference, with stream_options.include_usage.
const char* kOpenAiStream =
    R"(data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini", "system_fingerprint": "fp_44709d6fcb", "choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini", "system_fingerprint": "fp_44709d6fcb", "choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini", "system_fingerprint": "fp_44709d6fcb", "choices":[{"index":0,"delta":{"content":" there"},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini", "system_fingerprint": "fp_44709d6fcb", "choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}

data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[],"usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":192,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}

data: [DONE]

)";

TEST(OpenAiChat, StreamTextAndUsage) {
  ForEachSplit("openai", kOpenAiStream, [](const Decoded& d) {
    EXPECT_EQ(d.r.model, "gpt-4o-mini");  // the model that answered, as the API names it
    ASSERT_TRUE(d.feed.ok()) << d.feed.message();
    ASSERT_TRUE(d.finish.ok()) << d.finish.message();
    EXPECT_EQ(d.r.text, "Hello there");
    EXPECT_EQ(d.deltas, "Hello there");
    EXPECT_EQ(d.r.finish_reason, "stop");
    EXPECT_EQ(d.r.usage.input, 2006);
    EXPECT_EQ(d.r.usage.cached_read, 1920);
    EXPECT_EQ(d.r.usage.output, 300);
    EXPECT_EQ(d.r.usage.reasoning, 192);
  });
}

TEST(OpenAiChat, StreamToolCalls) {
  std::string s =
      R"(data: {"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}

data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"loc"}}]},"finish_reason":null}]}

data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ation\":\"Paris\"}"}}]},"finish_reason":null}]}

data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_def","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}]}

data: {"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":null}

data: {"id":"c","choices":[],"usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99}}

data: [DONE]

)";
  ForEachSplit("openai", s, [](const Decoded& d) {
    ASSERT_TRUE(d.finish.ok()) << d.finish.message();
    ASSERT_EQ(d.r.tool_calls.size(), 2u);
    EXPECT_EQ(d.r.tool_calls[0].id, "call_abc");
    EXPECT_EQ(d.r.tool_calls[0].name, "get_weather");
    EXPECT_EQ(json::parse(d.r.tool_calls[0].arguments_json), json({{"location", "Paris"}}));
    EXPECT_EQ(d.r.tool_calls[1].name, "get_time");
    EXPECT_EQ(d.r.finish_reason, "tool_calls");
    EXPECT_EQ(d.r.usage.input, 82);
    EXPECT_EQ(d.r.usage.output, 17);
  });
}

TEST(OpenAiChat, NonStreamedBodyWithUnknownFields) {
  std::string s = R"({"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion","created":1741570283,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"The image shows a wooden boardwalk.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1117,"completion_tokens":46,"total_tokens":1163,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_fc9f1d7035","a_future_field":{"x":[1,2]}})";
  ForEachSplit("openai", s, [](const Decoded& d) {
    ASSERT_TRUE(d.finish.ok()) << d.finish.message();
    EXPECT_EQ(d.r.text, "The image shows a wooden boardwalk.");
    EXPECT_EQ(d.r.usage.input, 1117);
    EXPECT_EQ(d.r.usage.output, 46);
  }, false);
}

TEST(OpenAiChat, CutStreamAndMalformedChunk) {
  std::string full = kOpenAiStream;
  std::string cut = full.substr(0, full.find("data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\", \"system_fingerprint\": \"fp_44709d6fcb\", \"choices\":[{\"index\":0,\"delta\":{},"));
  auto d = Decode("openai", cut, 5);
  EXPECT_FALSE(d.finish.ok());
  EXPECT_NE(d.finish.message().find("cut"), std::string::npos) << d.finish.message();
  EXPECT_EQ(d.r.text, "Hello there");  // what arrived is still there
  auto m = Decode("openai", "data: {\"choices\": [\n\n", 3);
  EXPECT_FALSE(m.feed.ok());
  EXPECT_NE(m.feed.message().find("not JSON"), std::string::npos) << m.feed.message();
}

// From the Messages streaming reference: text, a tool_use block, cumulative usage, ping.
const char* kAnthropicStream = R"(event: message_start
data: {"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5","stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"output_tokens":2},"content":[],"stop_reason":null}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", let's check."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\":"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"San Francisco, CA\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

event: message_stop
data: {"type":"message_stop"}

)";

TEST(Anthropic, StreamTextToolUseAndCacheUsage) {
  ForEachSplit("anthropic", kAnthropicStream, [](const Decoded& d) {
    EXPECT_EQ(d.r.model, "claude-sonnet-4-5");  // from message_start
    ASSERT_TRUE(d.finish.ok()) << d.finish.message();
    EXPECT_EQ(d.r.text, "Okay, let's check.");
    ASSERT_EQ(d.r.tool_calls.size(), 1u);
    EXPECT_EQ(d.r.tool_calls[0].id, "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
    EXPECT_EQ(json::parse(d.r.tool_calls[0].arguments_json), json({{"location", "San Francisco, CA"}}));
    EXPECT_EQ(d.r.finish_reason, "tool_calls");
    // input_tokens excludes the cache; Usage::input includes it.
    EXPECT_EQ(d.r.usage.input, 472 + 100 + 2000);
    EXPECT_EQ(d.r.usage.cached_read, 2000);
    EXPECT_EQ(d.r.usage.cache_write, 100);
    EXPECT_EQ(d.r.usage.output, 89);
  });
}

TEST(Anthropic, OverloadedErrorEventIsRetryableAndKeepsPartialUsage) {
  std::string full = kAnthropicStream;
  std::string s = full.substr(0, full.find("event: content_block_stop")) +
                  "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n";
  auto d = Decode("anthropic", s, 11);
  ASSERT_TRUE(d.finish.ok()) << d.finish.message();
  EXPECT_NE(d.stream_error.find("Overloaded"), std::string::npos);
  EXPECT_TRUE(d.retryable);
  EXPECT_EQ(d.r.usage.input, 2572);  // reported by message_start before the failure
}

TEST(Anthropic, NonStreamedMessage) {
  std::string s = R"({"content":[{"text":"Hi! My name is Claude.","type":"text"}],"id":"msg_013Zva2CMHLNnXjNJJKqJ2EF","model":"claude-sonnet-4-5","role":"assistant","stop_reason":"end_turn","stop_sequence":null,"type":"message","usage":{"input_tokens":2095,"output_tokens":503,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}})";
  auto d = Decode("anthropic", s, s.size(), false);
  ASSERT_TRUE(d.finish.ok());
  EXPECT_EQ(d.r.text, "Hi! My name is Claude.");
  EXPECT_EQ(d.r.finish_reason, "stop");
  EXPECT_EQ(d.r.usage.input, 2095);
  EXPECT_EQ(d.r.usage.output, 503);
}

// streamGenerateContent?alt=sse: \r\n\r\n separated, cumulative usageMetadata, thinking.
const char* kGeminiStream =
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The\"}],\"role\": \"model\"},\"index\": 0}],"
    "\"usageMetadata\": {\"promptTokenCount\": 9,\"totalTokenCount\": 9,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 9}]},"
    "\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"abc\"}\r\n\r\n"
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" answer\"},{\"functionCall\": {\"name\": \"lookup\",\"args\": {\"q\": \"x\"}}}],\"role\": \"model\"},"
    "\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"candidatesTokenCount\": 12,"
    "\"totalTokenCount\": 121,\"cachedContentTokenCount\": 4,\"thoughtsTokenCount\": 100},\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n";

TEST(Gemini, StreamTextFunctionCallAndThinkingTokens) {
  ForEachSplit("gemini", kGeminiStream, [](const Decoded& d) {
    EXPECT_EQ(d.r.model, "gemini-2.5-flash");  // the model that answered, as the API names it
    ASSERT_TRUE(d.finish.ok()) << d.finish.message();
    EXPECT_EQ(d.r.text, "The answer");
    ASSERT_EQ(d.r.tool_calls.size(), 1u);
    EXPECT_EQ(d.r.tool_calls[0].name, "lookup");
    EXPECT_EQ(json::parse(d.r.tool_calls[0].arguments_json), json({{"q", "x"}}));
    EXPECT_EQ(d.r.usage.input, 9);
    EXPECT_EQ(d.r.usage.cached_read, 4);
    EXPECT_EQ(d.r.usage.reasoning, 100);
    EXPECT_EQ(d.r.usage.output, 112);  // candidates + thoughts
  });
  std::string s = kGeminiStream;
  auto cut = Decode("gemini", s.substr(0, s.find("data:", 10)), 9);
  EXPECT_FALSE(cut.finish.ok());  // no finishReason: the stream was cut
}

// /api/chat NDJSON from the Ollama API reference.
const char* kOllamaStream =
    R"({"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The"},"done":false}
{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":" sky","images":null},"done":false}
{"model":"llama3.2","created_at":"2023-12-12T14:13:43.416799Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_current_weather","arguments":{"format":"celsius","location":"Paris, FR"}}}]},"done":false}
{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}
)";

TEST(Ollama, StreamTextToolCallsAndCounts) {
  ForEachSplit("ollama", kOllamaStream, [](const Decoded& d) {
    EXPECT_EQ(d.r.model, "llama3.2");  // the model that answered, as the API names it
    ASSERT_TRUE(d.finish.ok()) << d.finish.message();
    EXPECT_EQ(d.r.text, "The sky");
    ASSERT_EQ(d.r.tool_calls.size(), 1u);
    EXPECT_EQ(d.r.tool_calls[0].name, "get_current_weather");
    EXPECT_EQ(json::parse(d.r.tool_calls[0].arguments_json)["location"], "Paris, FR");
    EXPECT_EQ(d.r.usage.input, 26);
    EXPECT_EQ(d.r.usage.output, 282);
  });
}

// Responses API typed events.
TEST(OpenAiResponses, StreamTypedEvents) {
  std::string s = R"(event: response.created
data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_67c9","object":"response","status":"in_progress","output":[],"usage":null}}

event: response.output_text.delta
data: {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_67c9","output_index":0,"content_index":0,"delta":"Hi"}

event: response.output_item.added
data: {"type":"response.output_item.added","sequence_number":6,"output_index":1,"item":{"type":"function_call","id":"fc_12345xyz","call_id":"call_12345xyz","name":"get_weather","arguments":""}}

event: response.function_call_arguments.delta
data: {"type":"response.function_call_arguments.delta","sequence_number":7,"item_id":"fc_12345xyz","output_index":1,"delta":"{\"location\": \"Paris"}

event: response.function_call_arguments.done
data: {"type":"response.function_call_arguments.done","sequence_number":8,"item_id":"fc_12345xyz","output_index":1,"arguments":"{\"location\": \"Paris, France\"}"}

event: response.completed
data: {"type":"response.completed","sequence_number":9,"response":{"id":"resp_67c9","object":"response","status":"completed","output":[],"usage":{"input_tokens":328,"input_tokens_details":{"cached_tokens":128},"output_tokens":52,"output_tokens_details":{"reasoning_tokens":32},"total_tokens":380}}}

)";
  ForEachSplit("openai-responses", s, [](const Decoded& d) {
    ASSERT_TRUE(d.finish.ok()) << d.finish.message();
    EXPECT_EQ(d.r.text, "Hi");
    ASSERT_EQ(d.r.tool_calls.size(), 1u);
    EXPECT_EQ(d.r.tool_calls[0].id, "call_12345xyz");
    EXPECT_EQ(json::parse(d.r.tool_calls[0].arguments_json)["location"], "Paris, France");
    EXPECT_EQ(d.r.usage.input, 328);
    EXPECT_EQ(d.r.usage.cached_read, 128);
    EXPECT_EQ(d.r.usage.output, 52);
    EXPECT_EQ(d.r.usage.reasoning, 32);
  });
}

TEST(RetryAfter, SecondsDatesAndRateLimitHeaders) {
  double now = 1'700'000'000;
  EXPECT_DOUBLE_EQ(RetryAfter({{"retry-after", "7"}}, now), 7);
  EXPECT_DOUBLE_EQ(RetryAfter({{"retry-after-ms", "1500"}, {"retry-after", "7"}}, now), 1.5);
  // 1700000000 is Tue, 14 Nov 2023 22:13:20 GMT.
  EXPECT_DOUBLE_EQ(RetryAfter({{"retry-after", "Tue, 14 Nov 2023 22:13:50 GMT"}}, now), 30);
  EXPECT_DOUBLE_EQ(RetryAfter({{"x-ratelimit-remaining-requests", "0"}, {"x-ratelimit-reset-requests", "6m0s"},
                               {"x-ratelimit-remaining-tokens", "100"}, {"x-ratelimit-reset-tokens", "20ms"}},
                              now),
                   360);
  EXPECT_DOUBLE_EQ(RetryAfter({{"anthropic-ratelimit-requests-remaining", "0"},
                               {"anthropic-ratelimit-requests-reset", "2023-11-14T22:14:00Z"}},
                              now),
                   40);
  EXPECT_LT(RetryAfter({{"x-ratelimit-remaining-requests", "5"}, {"x-ratelimit-reset-requests", "1s"}}, now), 0);
  EXPECT_TRUE(RetryableStatus(429) && RetryableStatus(529) && RetryableStatus(500) && RetryableStatus(408));
  EXPECT_FALSE(RetryableStatus(400) || RetryableStatus(401) || RetryableStatus(404));
}

TEST(ErrorMessage, JsonAndNonJsonBodies) {
  auto api = NewAnthropic();
  EXPECT_EQ(api->ErrorMessage(R"({"type":"error","error":{"type":"not_found_error","message":"model: x"}})"), "model: x");
  EXPECT_EQ(NewOllama()->ErrorMessage(R"({"error":"model 'x' not found"})"), "model 'x' not found");
  EXPECT_EQ(api->ErrorMessage("<html>\n<body>502 Bad Gateway</body></html>"), "<html> <body>502 Bad Gateway</body></html>");
}

TEST(Redact, RemovesEveryCopyOfTheKey) {
  EXPECT_EQ(Redact("auth sk-abc123 and sk-abc123!", {"sk-abc123"}), "auth [key] and [key]!");
  EXPECT_EQ(Redact("key sk-abc123, token tok-9999", {"sk-abc123", "tok-9999"}), "key [key], token [key]");
}

TEST(Requests, EachApiPutsTheKeyInItsHeaderAndNeverTheUrl) {
  Request r;
  r.model = "m";
  r.messages = {{"system", "be brief", {}, {}}, {"user", "hi", {}, {}},
                {"assistant", "", {{"call_1", "f", "{\"a\":1}"}}, {}}, {"tool", "42", {}, "call_1"}};
  r.tools = {{"f", "a function", R"({"type":"object","properties":{"a":{"type":"integer"}}})"}};
  r.max_tokens = 100;
  r.json_output = true;
  for (std::string api : {"openai", "openai-responses", "anthropic", "gemini", "ollama"}) {
    SCOPED_TRACE(api);
    ProviderConfig c;
    c.api = api;
    c.base_url = "http://127.0.0.1:1/v1";
    c.api_key = "sk-secret-value";
    auto built = WireApiFor(api)->Build(r, c);
    ASSERT_TRUE(built.ok()) << built.status().message();
    net::ClientRequest q = *built;
    EXPECT_EQ(q.url.find("sk-secret"), std::string::npos);
    EXPECT_EQ(q.body.find("sk-secret"), std::string::npos);
    bool in_header = false;
    for (auto& [k, v] : q.headers) in_header |= v.find("sk-secret-value") != std::string::npos;
    EXPECT_TRUE(in_header);
    json b = json::parse(q.body);
    EXPECT_EQ(b.dump().find("call_1") != std::string::npos || api == "gemini" || api == "ollama", true);
  }
}

TEST(Decoders, ValuesOfTheWrongTypeFailTheCallAndNeverThrow) {
  // Each line is valid JSON a real server should never send; the call fails (or the value is
  // ignored), the process lives.
  for (const char* bad : {"[1]\n", "{\"done\": 1}\n", "{\"message\": [1,2], \"done\": \"yes\"}\n", "7\n", "null\n"}) {
    SCOPED_TRACE(bad);
    auto d = Decode("ollama", bad, 3);
    EXPECT_FALSE(d.feed.ok() && d.finish.ok()) << "no terminal event: the stream is incomplete";
  }
  for (const char* bad : {"data: {\"candidates\": [{\"content\": {\"parts\": [\"x\", {\"thought\": \"yes\"}]}}]}\r\n\r\n",
                          "data: {\"candidates\": \"none\"}\r\n\r\n",
                          "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": 5}]}, \"finishReason\": 3}]}\r\n\r\n"}) {
    SCOPED_TRACE(bad);
    auto d = Decode("gemini", bad, 5);
    EXPECT_FALSE(d.feed.ok() && d.finish.ok());
  }
  for (const char* api : {"openai", "anthropic", "openai-responses"}) {
    SCOPED_TRACE(api);
    auto d = Decode(api, "data: {\"choices\": [{\"index\": \"0\", \"delta\": [], \"finish_reason\": {}}], \"type\": 4, "
                         "\"usage\": [], \"delta\": null, \"index\": {}}\n\n", 4);
    EXPECT_FALSE(d.feed.ok() && d.finish.ok());
  }
}

TEST(OpenAiChat, RefusalIsARefusalNotAnEmptyAnswer) {
  std::string s =
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"refusal\":\"\"}}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"refusal\":\"I can't help with that.\"}}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
      "data: [DONE]\n\n";
  auto d = Decode("openai", s, 11);
  ASSERT_TRUE(d.finish.ok()) << d.finish.message();
  EXPECT_EQ(d.r.finish_reason, "refusal");
  EXPECT_EQ(d.r.refusal, "I can't help with that.");
  auto v = finish::FinishProblemOf(d.r, 100);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->problem, finish::Problem::kRefused);
  EXPECT_NE(v->message.find("I can't help with that."), std::string::npos) << v->message;
  EXPECT_FALSE(v->retryable);
}

// Each API's documented stop reasons, in its own wire shape (not streamed and streamed), all
// come out as one canonical reason with one meaning.
TEST(FinishReasons, OneMeaningAcrossProviders) {
  struct Case {
    const char* api;
    bool stream;
    std::string bytes;
    const char* canonical;
    std::optional<finish::Problem> problem;
  };
  auto chat = [](const std::string& fr, const std::string& content) {
    return "{\"id\":\"c\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
           "\"content\":" + content + ",\"refusal\":null},\"finish_reason\":\"" + fr + "\"}],"
           "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":16,\"total_tokens\":21}}";
  };
  auto anthropic = [](const std::string& stop) {
    return "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude\",\"content\":"
           "[{\"type\":\"text\",\"text\":\"Half an ans\"}],\"stop_reason\":\"" + stop + "\",\"stop_sequence\":null,"
           "\"usage\":{\"input_tokens\":5,\"output_tokens\":16}}";
  };
  auto anthropic_stream = [](const std::string& stop) {
    return "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\","
           "\"role\":\"assistant\",\"content\":[],\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n"
           "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
           "{\"type\":\"text\",\"text\":\"\"}}\n\n"
           "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
           "{\"type\":\"text_delta\",\"text\":\"Half\"}}\n\n"
           "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
           "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"" + stop +
           "\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":16}}\n\n"
           "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  };
  auto gemini = [](const std::string& fr) {
    return "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Half\"}],\"role\": \"model\"},"
           "\"finishReason\": \"" + fr + "\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 5,"
           "\"candidatesTokenCount\": 16,\"totalTokenCount\": 21}}\r\n\r\n";
  };
  auto responses = [](const std::string& status, const std::string& reason, const std::string& content) {
    return "{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"" + status + "\",\"incomplete_details\":" +
           (reason.empty() ? std::string("null") : "{\"reason\":\"" + reason + "\"}") +
           ",\"output\":[{\"type\":\"message\",\"id\":\"msg_1\",\"status\":\"completed\",\"role\":\"assistant\","
           "\"content\":[" + content + "]}],\"usage\":{\"input_tokens\":5,\"output_tokens\":16,\"total_tokens\":21}}";
  };
  const std::string text_part = "{\"type\":\"output_text\",\"text\":\"Half\",\"annotations\":[]}";
  std::vector<Case> cases = {
      {"openai", false, chat("stop", "\"Done.\""), "stop", std::nullopt},
      {"openai", false, chat("length", "\"Half an ans\""), "length", finish::Problem::kTruncated},
      {"openai", false, chat("content_filter", "null"), "content_filter", finish::Problem::kFiltered},
      {"openai-responses", false, responses("completed", "", text_part), "stop", std::nullopt},
      {"openai-responses", false, responses("incomplete", "max_output_tokens", text_part), "length",
       finish::Problem::kTruncated},
      {"openai-responses", false, responses("incomplete", "content_filter", text_part), "content_filter",
       finish::Problem::kFiltered},
      {"openai-responses", false,
       responses("completed", "", "{\"type\":\"refusal\",\"refusal\":\"I can't help with that.\"}"), "refusal",
       finish::Problem::kRefused},
      {"anthropic", false, anthropic("end_turn"), "stop", std::nullopt},
      {"anthropic", false, anthropic("max_tokens"), "length", finish::Problem::kTruncated},
      {"anthropic", false, anthropic("refusal"), "refusal", finish::Problem::kRefused},
      {"anthropic", false, anthropic("pause_turn"), "pause_turn", finish::Problem::kTruncated},
      {"anthropic", false, anthropic("model_context_window_exceeded"), "context_window", finish::Problem::kContext},
      {"anthropic", true, anthropic_stream("max_tokens"), "length", finish::Problem::kTruncated},
      {"anthropic", true, anthropic_stream("refusal"), "refusal", finish::Problem::kRefused},
      {"gemini", true, gemini("STOP"), "stop", std::nullopt},
      {"gemini", true, gemini("MAX_TOKENS"), "length", finish::Problem::kTruncated},
      {"gemini", true, gemini("SAFETY"), "content_filter", finish::Problem::kFiltered},
      {"gemini", true, gemini("MALFORMED_FUNCTION_CALL"), "malformed_tool_call", finish::Problem::kMalformed},
      {"gemini", true, gemini("OTHER"), "other", finish::Problem::kOther},
      {"gemini", true, gemini("LANGUAGE"), "other", finish::Problem::kOther},
      {"gemini", true,
       "data: {\"promptFeedback\": {\"blockReason\": \"PROHIBITED_CONTENT\"},\"usageMetadata\": "
       "{\"promptTokenCount\": 5,\"totalTokenCount\": 5}}\r\n\r\n",
       "content_filter", finish::Problem::kFiltered},
      {"ollama", true,
       "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"Half\"},\"done\":false}\n"
       "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done_reason\":\"length\","
       "\"done\":true,\"prompt_eval_count\":5,\"eval_count\":16}\n",
       "length", finish::Problem::kTruncated},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.api) + " " + c.bytes.substr(0, 200));
    ForEachSplit(
        c.api, c.bytes,
        [&](const Decoded& d) {
          ASSERT_TRUE(d.feed.ok() && d.finish.ok()) << d.feed.message() << d.finish.message();
          EXPECT_TRUE(d.stream_error.empty()) << d.stream_error;
          EXPECT_EQ(d.r.finish_reason, c.canonical);
          auto v = finish::FinishProblemOf(d.r, 16);
          ASSERT_EQ(v.has_value(), c.problem.has_value()) << (v ? v->message : "");
          if (!v) return;
          EXPECT_EQ(v->problem, *c.problem);
          EXPECT_EQ(v->retryable, *c.problem == finish::Problem::kMalformed || *c.problem == finish::Problem::kOther)
              << v->message;
          if (*c.problem == finish::Problem::kTruncated && d.r.finish_reason == "length")
            EXPECT_NE(v->message.find("max_tokens 16 (finish reason length"), std::string::npos) << v->message;
          if (*c.problem == finish::Problem::kRefused)
            EXPECT_NE(v->message.find(d.r.refusal.empty() ? "Half" : "I can't help"), std::string::npos) << v->message;
        },
        c.stream);
  }
}

// Server-side tools (web search, code execution) run at Anthropic: their blocks are no call for
// the client, and their input deltas must not create a nameless one.
TEST(Anthropic, ServerToolUseIsNoClientToolCall) {
  std::string s =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\","
      "\"role\":\"assistant\",\"content\":[],\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
      "{\"type\":\"server_tool_use\",\"id\":\"srvtoolu_1\",\"name\":\"web_search\",\"input\":{}}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
      "{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"query\\\": \\\"weather\\\"}\"}}\n\n"
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
      "{\"type\":\"web_search_tool_result\",\"tool_use_id\":\"srvtoolu_1\",\"content\":[]}}\n\n"
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":"
      "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":"
      "{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \\\"Paris\\\"}\"}}\n\n"
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":2}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},"
      "\"usage\":{\"output_tokens\":30}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  ForEachSplit("anthropic", s, [](const Decoded& d) {
    ASSERT_TRUE(d.finish.ok()) << d.finish.message();
    ASSERT_EQ(d.r.tool_calls.size(), 1u);
    EXPECT_EQ(d.r.tool_calls[0].name, "get_weather");
    EXPECT_EQ(d.r.tool_calls[0].arguments_json, "{\"city\": \"Paris\"}");
    EXPECT_EQ(d.r.finish_reason, "tool_calls");
  });
}

TEST(OpenAiChat, ToolCallDeltasWithoutIndexSplitOnNewIds) {
  std::string s =
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\"\"}}]}}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\":1}\"}}]}}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"b\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]}}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n";
  auto d = Decode("openai", s, 13);
  ASSERT_TRUE(d.finish.ok()) << d.finish.message();
  ASSERT_EQ(d.r.tool_calls.size(), 2u);
  EXPECT_EQ(d.r.tool_calls[0].name, "f");
  EXPECT_EQ(d.r.tool_calls[0].arguments_json, "{\"x\":1}");
  EXPECT_EQ(d.r.tool_calls[1].name, "g");
}

TEST(Gemini, BlockedOutputIsAnErrorAndSignaturesGoBack) {
  auto blocked = Decode("gemini",
                        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"\"}]}, \"finishReason\": \"SAFETY\"}]}\r\n\r\n", 64);
  ASSERT_TRUE(blocked.finish.ok());
  EXPECT_EQ(blocked.r.finish_reason, "content_filter");
  auto v = finish::FinishProblemOf(blocked.r, 0);
  ASSERT_TRUE(v.has_value());
  EXPECT_NE(v->message.find("SAFETY"), std::string::npos) << v->message;
  EXPECT_FALSE(v->retryable);
  // Gemini 3: a functionCall part's thoughtSignature must be sent back with the call.
  auto d = Decode("gemini",
                  "data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"f\", \"args\": {}}, "
                  "\"thoughtSignature\": \"c2lnbmF0dXJl\"}, {\"functionCall\": {\"name\": \"f\", \"args\": {\"a\": 1}}}]}, "
                  "\"finishReason\": \"STOP\"}]}\r\n\r\n", 64);
  ASSERT_TRUE(d.finish.ok()) << d.finish.message();
  ASSERT_EQ(d.r.tool_calls.size(), 2u);
  EXPECT_EQ(d.r.tool_calls[0].provider_data, "c2lnbmF0dXJl");
  EXPECT_NE(d.r.tool_calls[0].id, d.r.tool_calls[1].id);
  EXPECT_EQ(d.r.tool_calls[0].id, Decode("gemini", "data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": "
                                                   "{\"name\": \"f\", \"args\": {}}}]}, \"finishReason\": \"STOP\"}]}\r\n\r\n", 64)
                                        .r.tool_calls[0].id)
      << "ids are deterministic, so a replayed run sends the same requests";
  Request r;
  r.model = "gemini-3-pro-preview";
  r.messages = {{"user", "go", {}, {}}, {"assistant", "", {d.r.tool_calls[0]}, {}}, {"tool", "{}", {}, d.r.tool_calls[0].id}};
  ProviderConfig c;
  c.api = "gemini";
  c.base_url = "http://127.0.0.1:1";
  auto q = NewGemini()->Build(r, c);
  ASSERT_TRUE(q.ok());
  json b = json::parse(q->body);
  EXPECT_EQ(b["contents"][1]["parts"][0]["thoughtSignature"], "c2lnbmF0dXJl");
  EXPECT_EQ(b["contents"][2]["parts"][0]["functionResponse"]["name"], "f");
}

TEST(Requests, InvalidToolSchemaIsAnErrorAndJsonModeIsAskedFor) {
  Request r;
  r.model = "m";
  r.messages = {{"user", "list three colours", {}, {}}};
  r.tools = {{"f", "broken", "{not json"}};
  ProviderConfig c;
  c.base_url = "http://127.0.0.1:1";
  for (std::string api : {"openai", "openai-responses", "anthropic", "gemini", "ollama"}) {
    auto q = WireApiFor(api)->Build(r, c);
    EXPECT_FALSE(q.ok()) << api;
    if (!q.ok()) EXPECT_NE(q.status().message().find("tool \"f\""), std::string::npos) << q.status().message();
  }
  r.tools.clear();
  r.json_output = true;
  auto chat = NewOpenAiChat()->Build(r, c);
  ASSERT_TRUE(chat.ok());
  EXPECT_NE(chat->body.find("JSON object"), std::string::npos) << "OpenAI refuses JSON mode unless the messages ask for JSON";
  r.messages[0].content = "list three colours as JSON";
  chat = NewOpenAiChat()->Build(r, c);
  EXPECT_EQ(chat->body.find("single JSON object"), std::string::npos) << "already asked";
}

TEST(RateLimits, TokensPerMinuteWindow) {
  std::deque<TokenAdmission> w{{1, 0, 40}, {2, 10, 30}};
  EXPECT_EQ(TpmWait({}, 5, 500, 100), 0) << "an empty window admits anything, even a call larger than the limit";
  EXPECT_EQ(TpmWait(w, 20, 30, 100), 0);
  EXPECT_DOUBLE_EQ(TpmWait(w, 20, 50, 100), 40) << "wait until the first admission ages out";
  EXPECT_DOUBLE_EQ(TpmWait(w, 20, 90, 100), 50) << "both must age out";
  EXPECT_DOUBLE_EQ(TpmWait(w, 20, 500, 100), 50) << "larger than the limit: wait for an empty window";
}

TEST(RetryAfter, NonFiniteAndNegativeHintsAreIgnored) {
  EXPECT_LT(RetryAfter({{"retry-after", "inf"}}, 0), 0);
  EXPECT_LT(RetryAfter({{"retry-after", "nan"}}, 0), 0);
  EXPECT_LT(RetryAfter({{"retry-after-ms", "-5"}}, 0), 0);
  EXPECT_LT(RetryAfter({{"x-ratelimit-remaining-requests", "0"}, {"x-ratelimit-reset-requests", "inf"}}, 0), 0);
}

GetEnv MapEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string TempConfig(const std::string& text) {
  std::string path = ::testing::TempDir() + "/sw_cfg_" + std::to_string(::getpid()) + ".yaml";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(text.c_str(), f);
  std::fclose(f);
  return path;
}

TEST(Config, ABaseUrlNeverHidesAMissingKey) {
  auto env = MapEnv({});
  auto cfg = BuiltinConfig(env);
  std::string path = TempConfig("providers:\n  anthropic: {base_url: https://proxy.example.com}\n");
  ASSERT_TRUE(LoadConfigFile(path, env, &cfg).ok());
  Status s = CheckUsable(cfg, "anthropic", "node a");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ANTHROPIC_API_KEY"), std::string::npos) << s.message();
  // ...and a key from ${ENV} makes it usable.
  auto env2 = MapEnv({{"PROXY_KEY", "sk-proxy-123456"}});
  cfg = BuiltinConfig(env2);
  path = TempConfig("providers:\n  anthropic: {base_url: https://proxy.example.com, api_key: \"${PROXY_KEY}\"}\n");
  ASSERT_TRUE(LoadConfigFile(path, env2, &cfg).ok());
  EXPECT_TRUE(CheckUsable(cfg, "anthropic", "node a").ok());
  path = TempConfig("providers:\n  anthropic: {api_key: \"${NOT_SET}\"}\n");
  cfg = BuiltinConfig(env);
  ASSERT_TRUE(LoadConfigFile(path, env, &cfg).ok());
  s = CheckUsable(cfg, "anthropic", "node a");
  EXPECT_NE(s.message().find("set NOT_SET"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(":2:"), std::string::npos) << "names where the config refers to it: " << s.message();
}

TEST(Config, BadFilesAreErrorsAtTheirPositionAndNeverEchoSecrets) {
  auto env = MapEnv({{"TOKEN", "tok-abcdef123456"}});
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"providers:\n  openai: {api_key: \"sk-live-abcdef${\"}\n", ":2:"},
      {"providers:\n  ? [a, b]\n  : {api: openai}\n", "specwright.yaml"},
      {"providers:\n  x: {api: openai, base_url: http://h, rpm: 0.5}\n", "rpm must be 0 (unlimited) or at least 1"},
      {"providers:\n  x: {api: openai, base_url: http://h, headers: {A: [1]}}\n", "a header value must be a string"},
      {"providers: [1]\n", "providers must be a mapping"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto cfg = BuiltinConfig(env);
    std::string path = TempConfig(c.text);
    Status s = LoadConfigFile(path, env, &cfg);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.message().find("sk-live-abcdef"), std::string::npos) << s.message();
    if (std::string(c.expect) != "specwright.yaml") EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  }
  // A header value taken from the environment is a secret like the key.
  auto cfg = BuiltinConfig(env);
  std::string path = TempConfig("providers:\n  x: {api: openai, base_url: http://h, headers: {Authorization: \"Bearer ${TOKEN}\"}}\n");
  ASSERT_TRUE(LoadConfigFile(path, env, &cfg).ok());
  HttpProvider p(cfg.providers["x"]);
  EXPECT_EQ(Redact("got Bearer tok-abcdef123456", p.config().secrets), "got Bearer [key]");
  // A slow local model: first_token moves the first-byte limit with it.
  cfg = BuiltinConfig(env);
  path = TempConfig("providers:\n  ollama: {timeouts: {first_token: 600s}}\n");
  ASSERT_TRUE(LoadConfigFile(path, env, &cfg).ok());
  EXPECT_EQ(cfg.providers["ollama"].timeouts.first_token, 600);
  EXPECT_EQ(cfg.providers["ollama"].timeouts.first_byte, 600);
}

TEST(Config, MissingKeyNamesTheVariable) {
  std::map<std::string, std::string> vars{{"OPENAI_API_KEY", "sk-x"}};
  GetEnv env = [&](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  auto cfg = BuiltinConfig(env);
  EXPECT_TRUE(CheckUsable(cfg, "openai", "node a").ok());
  Status s = CheckUsable(cfg, "anthropic", "node a");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ANTHROPIC_API_KEY"), std::string::npos) << s.message();
  EXPECT_TRUE(CheckUsable(cfg, "ollama", "node a").ok());
  s = CheckUsable(cfg, "antropic", "node a");
  EXPECT_NE(s.message().find("did you mean \"anthropic\""), std::string::npos) << s.message();
  EXPECT_EQ(cfg.providers["ollama"].base_url, "http://127.0.0.1:11434");
  EXPECT_EQ(NormalizeOllamaHost("0.0.0.0"), "http://127.0.0.1:11434");
  EXPECT_EQ(NormalizeOllamaHost("gpu-box:8080"), "http://gpu-box:8080");
  EXPECT_EQ(NormalizeOllamaHost("https://ollama.example.com/"), "https://ollama.example.com:443");
  EXPECT_EQ(NormalizeOllamaHost("http://box"), "http://box:80");
  EXPECT_EQ(NormalizeOllamaHost("box"), "http://box:11434");
}

TEST(Prices, ShippedTableDatedSnapshotsAndWildcards) {
  PriceTable t;
  ASSERT_TRUE(t.LoadJson(DefaultPricesJson(), "shipped").ok());
  auto p = t.Lookup("anthropic", "claude-sonnet-4-5-20250929");
  ASSERT_TRUE(p.has_value());
  EXPECT_DOUBLE_EQ(p->input, 3e-6);
  EXPECT_TRUE(t.Lookup("openai-responses", "gpt-5").has_value());
  EXPECT_TRUE(t.Lookup("gemini", "gemini-2.5-pro").has_value());
  EXPECT_TRUE(t.Lookup("ollama", "llama3.2").has_value());
  EXPECT_FALSE(t.Lookup("openai", "no-such-model").has_value());
  EXPECT_FALSE(t.Lookup("openai-compatible", "qwen").has_value());
  Usage u{1000, 500, 400, 100, 200};
  // 500 plain input, 400 cache reads, 100 cache writes, 300 plain output, 200 reasoning.
  EXPECT_NEAR(CostOf(u, *p), 500 * 3e-6 + 400 * 3e-7 + 100 * 3.75e-6 + 500 * 1.5e-5, 1e-12);
}

}  // namespace
}  // namespace sw::llm
