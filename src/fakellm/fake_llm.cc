#include "fakellm/fake_llm.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <sstream>

#include "base/fs.h"
#include "workflow/yaml_json.h"

namespace sw::fakellm {
namespace {

using json = nlohmann::json;

/// What to send: a status, headers, and the body as frames (one frame per stream event;
/// a non-streamed body is one frame). cut_after >= 0 closes the connection after that
/// many frames instead of finishing.
struct Plan {
  int status = 200;
  net::Headers headers;
  std::vector<std::string> frames;
  bool chunked = false;
  int cut_after = -1;
  int stall_after = -1;  // >= 0: wait stall_ms after this many frames
  bool endless = false;  // the last frame repeats for as long as the client reads
  int stall_ms = 0;
};

struct Ctx {
  std::string api;
  std::string model;
  bool stream = false;
  bool include_usage = false;  // OpenAI chat: stream_options.include_usage
  FakeReply reply;
  int64_t in = 0, out = 0;     // resolved usage
  std::vector<std::string> pieces;
};

std::string Sse(const json& j) { return "data: " + j.dump() + "\n\n"; }
std::string SseEvent(const std::string& ev, const json& j) { return "event: " + ev + "\ndata: " + j.dump() + "\n\n"; }

std::vector<std::string> Split(const std::string& text, int n) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  n = std::max(1, n);
  size_t step = std::max<size_t>(1, (text.size() + n - 1) / n);
  for (size_t i = 0; i < text.size(); i += step) out.push_back(text.substr(i, step));
  return out;
}

/// Chat Completions' finish_reason (a refusal ends with "stop" and a refusal field).
std::string Finish(const Ctx& c) {
  const std::string& f = c.reply.finish;
  if (f == "length" || f == "content_filter") return f;
  return c.reply.tool_calls.empty() ? "stop" : "tool_calls";
}
bool Refuses(const Ctx& c) { return c.reply.finish == "refusal"; }

/// StripUsage removes every usage record from one frame (an SSE event, an NDJSON line or a
/// whole body) in any API's shape: what a server that reports no usage sends.
std::string StripUsage(const std::string& frame) {
  size_t a = frame.find('{'), b = frame.rfind('}');
  if (a == std::string::npos || b == std::string::npos || b < a) return frame;
  json j = json::parse(frame.substr(a, b - a + 1), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return frame;
  for (const char* k : {"usage", "usageMetadata", "prompt_eval_count", "eval_count"}) j.erase(k);
  for (const char* inner : {"message", "response"})
    if (j.contains(inner) && j[inner].is_object()) j[inner].erase("usage");
  return frame.substr(0, a) + j.dump() + frame.substr(b + 1);
}

/// EndlessPump writes its frame, then schedules a copy of itself: a stream without end that
/// stops when the client goes away.
template <typename Writer>
struct EndlessPump {
  Writer w;
  std::shared_ptr<const std::string> frame;
  int gap_ms;
  std::shared_ptr<void> guard;
  void operator()() const {
    if (w->closed()) return;
    if (w->Unsent() < (4u << 20)) w->Write(*frame);
    w->After(gap_ms, *this);
  }
};
template <typename Writer>
EndlessPump(Writer, std::shared_ptr<const std::string>, int, std::shared_ptr<void>) -> EndlessPump<Writer>;

// ---- OpenAI Chat Completions ----

json ChatUsage(const Ctx& c) {
  return json{{"prompt_tokens", c.in},
              {"completion_tokens", c.out},
              {"total_tokens", c.in + c.out},
              {"prompt_tokens_details", {{"cached_tokens", c.reply.usage.cached_read}, {"audio_tokens", 0}}},
              {"completion_tokens_details",
               {{"reasoning_tokens", c.reply.usage.reasoning}, {"audio_tokens", 0},
                {"accepted_prediction_tokens", 0}, {"rejected_prediction_tokens", 0}}}};
}

Plan OpenAiChat(const Ctx& c) {
  Plan p;
  json base{{"id", "chatcmpl-fake"}, {"object", "chat.completion.chunk"}, {"created", 1700000000},
            {"model", c.model}, {"system_fingerprint", "fp_fake"}};
  auto chunk = [&](json delta, json finish) {
    json j = base;
    j["choices"] = json::array({json{{"index", 0}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", finish}}});
    return Sse(j);
  };
  if (!c.stream) {
    json msg{{"role", "assistant"}, {"content", c.reply.text.empty() || Refuses(c) ? json(nullptr) : json(c.reply.text)},
             {"refusal", Refuses(c) ? json(c.reply.text) : json(nullptr)}};
    if (!c.reply.tool_calls.empty()) {
      json calls = json::array();
      for (const auto& t : c.reply.tool_calls)
        calls.push_back(json{{"id", t.id}, {"type", "function"}, {"function", {{"name", t.name}, {"arguments", t.arguments_json}}}});
      msg["tool_calls"] = calls;
    }
    json body{{"id", "chatcmpl-fake"}, {"object", "chat.completion"}, {"created", 1700000000}, {"model", c.model},
              {"choices", json::array({json{{"index", 0}, {"message", msg}, {"logprobs", nullptr}, {"finish_reason", Finish(c)}}})},
              {"usage", ChatUsage(c)}, {"system_fingerprint", "fp_fake"}};
    if (c.reply.omit_usage) body.erase("usage");
    p.frames.push_back(body.dump());
    return p;
  }
  p.frames.push_back(chunk(json{{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, nullptr));
  for (const auto& piece : c.pieces) p.frames.push_back(chunk(json{{Refuses(c) ? "refusal" : "content", piece}}, nullptr));
  for (size_t i = 0; i < c.reply.tool_calls.size(); ++i) {
    const auto& t = c.reply.tool_calls[i];
    p.frames.push_back(chunk(json{{"tool_calls", json::array({json{{"index", i}, {"id", t.id}, {"type", "function"},
                                                                  {"function", {{"name", t.name}, {"arguments", ""}}}}})}},
                             nullptr));
    for (const auto& part : Split(t.arguments_json, 2))
      p.frames.push_back(chunk(json{{"tool_calls", json::array({json{{"index", i}, {"function", {{"arguments", part}}}}})}}, nullptr));
  }
  p.frames.push_back(chunk(json::object(), Finish(c)));
  if (c.include_usage && !c.reply.omit_usage) {
    json u = base;
    u["choices"] = json::array();
    u["usage"] = ChatUsage(c);
    p.frames.push_back(Sse(u));
  }
  p.frames.push_back("data: [DONE]\n\n");
  return p;
}

// ---- OpenAI Responses ----

json ResponsesUsage(const Ctx& c) {
  return json{{"input_tokens", c.in},
              {"input_tokens_details", {{"cached_tokens", c.reply.usage.cached_read}}},
              {"output_tokens", c.out},
              {"output_tokens_details", {{"reasoning_tokens", c.reply.usage.reasoning}}},
              {"total_tokens", c.in + c.out}};
}

json ResponsesPart(const Ctx& c) {
  if (Refuses(c)) return json{{"type", "refusal"}, {"refusal", c.reply.text}};
  return json{{"type", "output_text"}, {"text", c.reply.text}, {"annotations", json::array()}};
}

/// status and incomplete_details of a finished response.
void ResponsesStatus(const Ctx& c, json* resp) {
  const std::string& f = c.reply.finish;
  if (f == "length" || f == "content_filter") {
    (*resp)["status"] = "incomplete";
    (*resp)["incomplete_details"] = {{"reason", f == "length" ? "max_output_tokens" : "content_filter"}};
  } else {
    (*resp)["status"] = "completed";
    (*resp)["incomplete_details"] = nullptr;
  }
}

json ResponsesOutput(const Ctx& c) {
  json out = json::array();
  if (!c.reply.text.empty())
    out.push_back(json{{"id", "msg_fake"}, {"type", "message"}, {"status", "completed"}, {"role", "assistant"},
                       {"content", json::array({ResponsesPart(c)})}});
  for (size_t i = 0; i < c.reply.tool_calls.size(); ++i) {
    const auto& t = c.reply.tool_calls[i];
    out.push_back(json{{"id", "fc_" + std::to_string(i)}, {"type", "function_call"}, {"status", "completed"},
                       {"call_id", t.id}, {"name", t.name}, {"arguments", t.arguments_json}});
  }
  return out;
}

Plan OpenAiResponses(const Ctx& c) {
  Plan p;
  json resp{{"id", "resp_fake"}, {"object", "response"}, {"created_at", 1700000000}, {"model", c.model}};
  if (!c.stream) {
    ResponsesStatus(c, &resp);
    resp["output"] = ResponsesOutput(c);
    resp["usage"] = ResponsesUsage(c);
    p.frames.push_back(resp.dump());
    return p;
  }
  int seq = 0;
  auto ev = [&](const std::string& type, json j) {
    j["type"] = type;
    j["sequence_number"] = seq++;
    return SseEvent(type, j);
  };
  json started = resp;
  started["status"] = "in_progress";
  started["output"] = json::array();
  started["usage"] = nullptr;
  p.frames.push_back(ev("response.created", {{"response", started}}));
  p.frames.push_back(ev("response.in_progress", {{"response", started}}));
  int index = 0;
  if (!c.reply.text.empty()) {
    p.frames.push_back(ev("response.output_item.added",
                          {{"output_index", index},
                           {"item", {{"id", "msg_fake"}, {"type", "message"}, {"status", "in_progress"}, {"role", "assistant"}, {"content", json::array()}}}}));
    json empty_part = Refuses(c) ? json{{"type", "refusal"}, {"refusal", ""}}
                                 : json{{"type", "output_text"}, {"text", ""}, {"annotations", json::array()}};
    p.frames.push_back(ev("response.content_part.added",
                          {{"item_id", "msg_fake"}, {"output_index", index}, {"content_index", 0}, {"part", empty_part}}));
    std::string kind = Refuses(c) ? "response.refusal" : "response.output_text";
    for (const auto& piece : c.pieces)
      p.frames.push_back(ev(kind + ".delta",
                            {{"item_id", "msg_fake"}, {"output_index", index}, {"content_index", 0}, {"delta", piece}}));
    p.frames.push_back(ev(kind + ".done", {{"item_id", "msg_fake"}, {"output_index", index}, {"content_index", 0},
                                          {Refuses(c) ? "refusal" : "text", c.reply.text}}));
    p.frames.push_back(ev("response.output_item.done", {{"output_index", index}, {"item", ResponsesOutput(c)[0]}}));
    ++index;
  }
  for (size_t i = 0; i < c.reply.tool_calls.size(); ++i, ++index) {
    const auto& t = c.reply.tool_calls[i];
    std::string id = "fc_" + std::to_string(i);
    p.frames.push_back(ev("response.output_item.added",
                          {{"output_index", index},
                           {"item", {{"id", id}, {"type", "function_call"}, {"status", "in_progress"}, {"call_id", t.id},
                                     {"name", t.name}, {"arguments", ""}}}}));
    for (const auto& part : Split(t.arguments_json, 2))
      p.frames.push_back(ev("response.function_call_arguments.delta", {{"item_id", id}, {"output_index", index}, {"delta", part}}));
    p.frames.push_back(ev("response.function_call_arguments.done",
                          {{"item_id", id}, {"output_index", index}, {"arguments", t.arguments_json}}));
  }
  json done = resp;
  ResponsesStatus(c, &done);
  done["output"] = ResponsesOutput(c);
  done["usage"] = ResponsesUsage(c);
  p.frames.push_back(ev(done["status"] == "incomplete" ? "response.incomplete" : "response.completed", {{"response", done}}));
  return p;
}

// ---- Anthropic Messages ----

Plan Anthropic(const Ctx& c) {
  Plan p;
  const auto& u = c.reply.usage;
  // Anthropic's input_tokens excludes cache reads and writes.
  int64_t plain_in = std::max<int64_t>(0, c.in - u.cached_read - u.cache_write);
  const std::string& f = c.reply.finish;
  std::string stop = f == "length"           ? "max_tokens"
                     : f == "refusal"        ? "refusal"
                     : f == "pause_turn"     ? "pause_turn"
                     : f == "context_window" ? "model_context_window_exceeded"
                     : c.reply.tool_calls.empty() ? "end_turn"
                                                  : "tool_use";
  if (!c.stream) {
    json content = json::array();
    if (!c.reply.text.empty()) content.push_back(json{{"type", "text"}, {"text", c.reply.text}});
    for (const auto& t : c.reply.tool_calls)
      content.push_back(json{{"type", "tool_use"}, {"id", t.id}, {"name", t.name}, {"input", json::parse(t.arguments_json)}});
    json body{{"id", "msg_fake"}, {"type", "message"}, {"role", "assistant"}, {"model", c.model}, {"content", content},
              {"stop_reason", stop}, {"stop_sequence", nullptr},
              {"usage", {{"input_tokens", plain_in}, {"cache_creation_input_tokens", u.cache_write},
                         {"cache_read_input_tokens", u.cached_read}, {"output_tokens", c.out}}}};
    p.frames.push_back(body.dump());
    return p;
  }
  p.frames.push_back(SseEvent("message_start",
      {{"type", "message_start"},
       {"message", {{"id", "msg_fake"}, {"type", "message"}, {"role", "assistant"}, {"content", json::array()},
                    {"model", c.model}, {"stop_reason", nullptr}, {"stop_sequence", nullptr},
                    {"usage", {{"input_tokens", plain_in}, {"cache_creation_input_tokens", u.cache_write},
                               {"cache_read_input_tokens", u.cached_read}, {"output_tokens", 1}}}}}}));
  int index = 0;
  if (!c.reply.text.empty()) {
    p.frames.push_back(SseEvent("content_block_start", {{"type", "content_block_start"}, {"index", index},
                                                        {"content_block", {{"type", "text"}, {"text", ""}}}}));
    p.frames.push_back("event: ping\ndata: {\"type\": \"ping\"}\n\n");
    for (const auto& piece : c.pieces)
      p.frames.push_back(SseEvent("content_block_delta", {{"type", "content_block_delta"}, {"index", index},
                                                          {"delta", {{"type", "text_delta"}, {"text", piece}}}}));
    p.frames.push_back(SseEvent("content_block_stop", {{"type", "content_block_stop"}, {"index", index}}));
    ++index;
  }
  for (const auto& t : c.reply.tool_calls) {
    p.frames.push_back(SseEvent("content_block_start", {{"type", "content_block_start"}, {"index", index},
                                                        {"content_block", {{"type", "tool_use"}, {"id", t.id}, {"name", t.name}, {"input", json::object()}}}}));
    for (const auto& part : Split(t.arguments_json, 2))
      p.frames.push_back(SseEvent("content_block_delta", {{"type", "content_block_delta"}, {"index", index},
                                                          {"delta", {{"type", "input_json_delta"}, {"partial_json", part}}}}));
    p.frames.push_back(SseEvent("content_block_stop", {{"type", "content_block_stop"}, {"index", index}}));
    ++index;
  }
  p.frames.push_back(SseEvent("message_delta", {{"type", "message_delta"},
                                                {"delta", {{"stop_reason", stop}, {"stop_sequence", nullptr}}},
                                                {"usage", {{"output_tokens", c.out}}}}));
  p.frames.push_back(SseEvent("message_stop", {{"type", "message_stop"}}));
  return p;
}

// ---- Gemini ----

json GeminiUsage(const Ctx& c, bool final) {
  json u{{"promptTokenCount", c.in}, {"totalTokenCount", c.in + (final ? c.out : 0)}};
  if (final) {
    u["candidatesTokenCount"] = c.out - c.reply.usage.reasoning;
    if (c.reply.usage.reasoning) u["thoughtsTokenCount"] = c.reply.usage.reasoning;
  }
  if (c.reply.usage.cached_read) u["cachedContentTokenCount"] = c.reply.usage.cached_read;
  u["promptTokensDetails"] = json::array({json{{"modality", "TEXT"}, {"tokenCount", c.in}}});
  return u;
}

Plan Gemini(const Ctx& c) {
  Plan p;
  auto chunk = [&](json parts, bool final) {
    json cand{{"content", {{"parts", parts}, {"role", "model"}}}, {"index", 0}};
    if (final) {
      const std::string& f = c.reply.finish;
      cand["finishReason"] = f == "length"                ? "MAX_TOKENS"
                             : f == "content_filter"      ? "SAFETY"
                             : f == "malformed_tool_call" ? "MALFORMED_FUNCTION_CALL"
                                                          : "STOP";
    }
    return json{{"candidates", json::array({cand})}, {"usageMetadata", GeminiUsage(c, final)},
                {"modelVersion", c.model}, {"responseId", "fake-response"}};
  };
  json calls = json::array();
  for (const auto& t : c.reply.tool_calls)
    calls.push_back(json{{"functionCall", {{"name", t.name}, {"args", json::parse(t.arguments_json)}}}});
  if (!c.stream) {
    json parts = json::array();
    if (!c.reply.text.empty()) parts.push_back(json{{"text", c.reply.text}});
    for (const auto& x : calls) parts.push_back(x);
    p.frames.push_back(chunk(parts, true).dump());
    return p;
  }
  // Gemini separates its SSE events with \r\n\r\n.
  auto frame = [](const json& j) { return "data: " + j.dump() + "\r\n\r\n"; };
  for (size_t i = 0; i < c.pieces.size(); ++i) {
    bool last = i + 1 == c.pieces.size() && calls.empty();
    p.frames.push_back(frame(chunk(json::array({json{{"text", c.pieces[i]}}}), last)));
  }
  if (!calls.empty() || c.pieces.empty()) p.frames.push_back(frame(chunk(calls, true)));
  return p;
}

// ---- Ollama ----

Plan Ollama(const Ctx& c) {
  Plan p;
  auto line = [&](json message, bool done) {
    json j{{"model", c.model}, {"created_at", "2026-11-22T10:00:00.000000Z"}, {"message", message}, {"done", done}};
    if (done) {
      j["done_reason"] = c.reply.finish == "length" ? "length" : "stop";
      j["total_duration"] = 4883583458LL;
      j["load_duration"] = 1334875;
      j["prompt_eval_count"] = c.in;
      j["prompt_eval_duration"] = 342546000;
      j["eval_count"] = c.out;
      j["eval_duration"] = 4535599000LL;
    }
    return j.dump() + "\n";
  };
  json calls = json::array();
  for (const auto& t : c.reply.tool_calls)
    calls.push_back(json{{"function", {{"name", t.name}, {"arguments", json::parse(t.arguments_json)}}}});
  if (!c.stream) {
    json m{{"role", "assistant"}, {"content", c.reply.text}};
    if (!calls.empty()) m["tool_calls"] = calls;
    std::string l = line(m, true);
    l.pop_back();
    p.frames.push_back(l);
    return p;
  }
  for (const auto& piece : c.pieces) p.frames.push_back(line(json{{"role", "assistant"}, {"content", piece}}, false));
  if (!calls.empty()) p.frames.push_back(line(json{{"role", "assistant"}, {"content", ""}, {"tool_calls", calls}}, false));
  p.frames.push_back(line(json{{"role", "assistant"}, {"content", ""}}, true));
  return p;
}

/// The error body each API sends for a status.
std::string ErrorBody(const std::string& api, int status) {
  std::string msg = status == 429   ? "Rate limit reached for requests"
                    : status == 529 ? "Overloaded"
                    : status < 500  ? "Invalid request: " + std::to_string(status)
                                    : "The server had an error";
  if (api == "anthropic") {
    std::string type = status == 429   ? "rate_limit_error"
                       : status == 529 ? "overloaded_error"
                       : status < 500  ? "invalid_request_error"
                                       : "api_error";
    return json{{"type", "error"}, {"error", {{"type", type}, {"message", msg}}}}.dump();
  }
  if (api == "gemini") {
    std::string st = status == 429 ? "RESOURCE_EXHAUSTED" : status >= 503 ? "UNAVAILABLE" : "INTERNAL";
    return json{{"error", {{"code", status}, {"message", msg}, {"status", st}}}}.dump();
  }
  if (api == "ollama") return json{{"error", msg}}.dump();
  std::string type = status == 429 ? "requests" : status < 500 ? "invalid_request_error" : "server_error";
  return json{{"error", {{"message", msg}, {"type", type}, {"param", nullptr},
                         {"code", status == 429 ? json("rate_limit_exceeded") : json(nullptr)}}}}.dump();
}

/// The in-stream error event each API sends.
std::string StreamErrorFrame(const std::string& api) {
  if (api == "anthropic")
    return "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n";
  if (api == "openai-responses")
    return SseEvent("error", {{"type", "error"}, {"code", "server_error"}, {"message", "The server had an error"}, {"param", nullptr}});
  if (api == "ollama") return "{\"error\":\"an error was encountered while running the model\"}\n";
  if (api == "gemini")
    return "data: " + json{{"error", {{"code", 503}, {"message", "The model is overloaded."}, {"status", "UNAVAILABLE"}}}}.dump() + "\r\n\r\n";
  return Sse({{"error", {{"message", "The server had an error while processing your request"}, {"type", "server_error"}}}});
}

/// TimeIn formats the moment seconds_from_now (rounded up to a whole second) with strftime.
std::string TimeIn(double seconds_from_now, const char* format) {
  time_t t = time(nullptr) + static_cast<time_t>(seconds_from_now + 0.999);
  char buf[64];
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string HttpDate(double seconds_from_now) { return TimeIn(seconds_from_now, "%a, %d %b %Y %H:%M:%S GMT"); }
std::string Rfc3339In(double seconds_from_now) { return TimeIn(seconds_from_now, "%Y-%m-%dT%H:%M:%SZ"); }

int64_t Words(const std::string& s) {
  int64_t n = 0;
  bool in = false;
  for (char ch : s) {
    bool sp = ch == ' ' || ch == '\n' || ch == '\t';
    if (!sp && !in) ++n;
    in = !sp;
  }
  return n;
}

FakeReply ReplyFromJson(const json& j) {
  FakeReply r;
  if (j.contains("text")) r.text = j["text"].get<std::string>();
  if (j.contains("fault")) r.fault = j["fault"].is_string() ? j["fault"].get<std::string>() : j["fault"].dump();
  r.retry_after = j.value("retry_after", 1.0);
  r.retry_after_http_date = j.value("retry_after_http_date", false);
  r.slow_ms = j.value("slow_ms", 2000);
  r.ratelimit_reset = j.value("ratelimit_reset", 0.0);
  r.finish = j.value("finish", "");
  r.answer_model = j.value("answer_model", "");
  r.omit_usage = j.value("omit_usage", false);
  r.endless_bytes = j.value("endless_bytes", int64_t{1} << 20);
  if (j.contains("usage")) {
    const json& u = j["usage"];
    r.usage.input = u.value("input", int64_t{-1});
    r.usage.output = u.value("output", int64_t{-1});
    r.usage.cached_read = u.value("cached_read", int64_t{0});
    r.usage.cache_write = u.value("cache_write", int64_t{0});
    r.usage.reasoning = u.value("reasoning", int64_t{0});
  }
  if (j.contains("tool_calls")) {
    int i = 0;
    for (const auto& t : j["tool_calls"]) {
      FakeToolCall tc;
      tc.id = t.value("id", "call_" + std::to_string(++i));
      tc.name = t.value("name", "");
      tc.arguments_json = t.contains("arguments") ? t["arguments"].dump() : "{}";
      r.tool_calls.push_back(tc);
    }
  }
  return r;
}

}  // namespace

FakeLlmServer::FakeLlmServer(FakeOptions o) : options_(std::move(o)), rng_(options_.seed) {}

FakeLlmServer::~FakeLlmServer() {
  if (server_) server_->Stop();
}

Result<std::unique_ptr<FakeLlmServer>> FakeLlmServer::Start(FakeOptions options, const std::string& host, int port) {
  std::unique_ptr<FakeLlmServer> s(new FakeLlmServer(std::move(options)));
  net::HttpServerOptions so;
  so.host = host;
  so.port = port;
  FakeLlmServer* self = s.get();
  auto srv = net::HttpServer::Start(so, [self](const net::IncomingRequest& r, std::shared_ptr<net::ResponseWriter> w) {
    self->Handle(r, std::move(w));
  });
  if (!srv.ok()) return srv.status();
  s->server_ = std::move(srv).value();
  return s;
}

void FakeLlmServer::Enqueue(FakeReply reply) {
  std::lock_guard<std::mutex> l(mu_);
  queue_.push_back(std::move(reply));
}

void FakeLlmServer::SetDefault(FakeReply reply) {
  std::lock_guard<std::mutex> l(mu_);
  default_ = std::move(reply);
}

std::vector<SeenRequest> FakeLlmServer::Requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return {seen_.begin(), seen_.end()};
}

std::map<std::string, int64_t> FakeLlmServer::FaultCounts() const {
  std::lock_guard<std::mutex> l(mu_);
  return counts_;
}

int FakeLlmServer::MaxInFlight() const {
  std::lock_guard<std::mutex> l(mu_);
  return max_in_flight_;
}

FakeReply FakeLlmServer::Next(const std::string& model) {
  std::lock_guard<std::mutex> l(mu_);
  if (auto it = options_.model_faults.find(model); it != options_.model_faults.end()) {
    FakeReply r = default_;
    r.fault = it->second;
    return r;
  }
  if (!queue_.empty()) {
    FakeReply r = std::move(queue_.front());
    queue_.pop_front();
    return r;
  }
  FakeReply r = default_;
  if (options_.fault_rate > 0 && !options_.fault_kinds.empty()) {
    std::uniform_real_distribution<double> coin(0, 1);
    if (coin(rng_) < options_.fault_rate) {
      std::uniform_int_distribution<size_t> pick(0, options_.fault_kinds.size() - 1);
      r.fault = options_.fault_kinds[pick(rng_)];
    }
  }
  return r;
}

Status FakeLlmServer::LoadScript(const std::string& path) {
  SW_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  SW_ASSIGN_OR_RETURN(json j, ParseYamlText(text, path));
  try {
    if (j.contains("options")) {
      std::lock_guard<std::mutex> l(mu_);  // the loop thread may already be answering
      const json& o = j["options"];
      options_.latency_ms = o.value("latency_ms", options_.latency_ms);
      options_.chunks = o.value("chunks", options_.chunks);
      options_.chunk_gap_ms = o.value("chunk_gap_ms", options_.chunk_gap_ms);
      options_.fault_rate = o.value("fault_rate", options_.fault_rate);
      if (o.contains("fault_kinds")) {
        options_.fault_kinds.clear();
        for (const auto& k : o["fault_kinds"]) options_.fault_kinds.push_back(k.is_string() ? k.get<std::string>() : k.dump());
      }
      if (o.contains("model_faults"))
        for (auto& [m, f] : o["model_faults"].items()) options_.model_faults[m] = f.is_string() ? f.get<std::string>() : f.dump();
      if (o.contains("seed")) rng_.seed(o["seed"].get<uint64_t>());
    }
    if (j.contains("default")) SetDefault(ReplyFromJson(j["default"]));
    if (j.contains("replies"))
      for (const auto& r : j["replies"]) Enqueue(ReplyFromJson(r));
  } catch (const json::exception& e) {
    return InvalidInput(path + ": " + e.what());
  }
  return Status::Ok();
}

void FakeLlmServer::Handle(const net::IncomingRequest& req, std::shared_ptr<net::ResponseWriter> w) {
  Ctx c;
  const std::string& path = req.path;
  if (path.ends_with("/chat/completions")) c.api = "openai";
  else if (path.ends_with("/responses")) c.api = "openai-responses";
  else if (path.ends_with("/v1/messages")) c.api = "anthropic";
  else if (path.find(":generateContent") != std::string::npos || path.find(":streamGenerateContent") != std::string::npos) c.api = "gemini";
  else if (path == "/api/chat") c.api = "ollama";
  if (c.api.empty() || req.method != "POST") {
    w->Send(404, {{"Content-Type", "application/json"}}, R"({"error":{"message":"no such route"}})");
    return;
  }
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    w->Send(400, {{"Content-Type", "application/json"}}, ErrorBody(c.api, 400));
    return;
  }
  if (c.api == "gemini") {
    c.stream = path.find(":streamGenerateContent") != std::string::npos;
    size_t m = path.find("/models/");
    c.model = m == std::string::npos ? "" : path.substr(m + 8, path.find(':', m) - m - 8);
  } else {
    c.model = body.value("model", "");
    c.stream = body.value("stream", c.api == "ollama");  // Ollama streams unless told not to
    if (body.contains("stream_options") && body["stream_options"].is_object())
      c.include_usage = body["stream_options"].value("include_usage", false);
  }
  c.reply = Next(c.model);
  if (!c.reply.answer_model.empty()) c.model = c.reply.answer_model;  // the name it answers with
  int latency_ms, chunks, gap;
  {
    std::lock_guard<std::mutex> l(mu_);
    latency_ms = options_.latency_ms;
    chunks = options_.chunks;
    gap = options_.chunk_gap_ms;
    max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
  }
  c.in = c.reply.usage.input >= 0 ? c.reply.usage.input : static_cast<int64_t>(req.body.size() / 4 + 1);
  c.out = c.reply.usage.output >= 0 ? c.reply.usage.output : Words(c.reply.text) + 1;
  bool endless = c.reply.fault == "endless" && c.stream;
  if (endless) {
    // One delta of endless_bytes, built by the API's own plan: its frames up to and including
    // the first that carries the delta are sent, then that frame again and again.
    c.reply.text = std::string(static_cast<size_t>(std::max<int64_t>(1, c.reply.endless_bytes)), 'x');
    chunks = 1;
  }
  c.pieces = Split(c.reply.text, chunks);
  {
    std::lock_guard<std::mutex> l(mu_);
    net::Headers hs;
    for (const auto& [k, v] : req.headers) hs.emplace_back(k, v);
    seen_.push_back(SeenRequest{c.api, req.target, std::move(hs), body, c.reply.fault});
    while (seen_.size() > options_.keep_requests) seen_.pop_front();
    ++counts_[c.reply.fault];
  }

  const std::string& fault = c.reply.fault;
  int delay = latency_ms + (fault == "slow" ? c.reply.slow_ms : 0);
  Plan p;
  bool numeric = !fault.empty() && fault.find_first_not_of("0123456789") == std::string::npos;
  if (numeric) {
    p.status = std::stoi(fault);
    p.headers = {{"Content-Type", "application/json"}};
    if (p.status == 429 || p.status == 529)
      p.headers.emplace_back("Retry-After", c.reply.retry_after_http_date
                                                ? HttpDate(c.reply.retry_after)
                                                : std::to_string(static_cast<int64_t>(c.reply.retry_after)));
    p.frames = {ErrorBody(c.api, p.status)};
    if (p.status == 401) {
      // Real providers quote (part of) a rejected key back; the client must not pass it on.
      std::string cred = req.Header("authorization");
      if (cred.empty()) cred = req.Header("x-api-key");
      if (cred.empty()) cred = req.Header("x-goog-api-key");
      p.frames = {json{{"error", {{"message", "Incorrect API key provided: " + cred}, {"type", "invalid_request_error"}}}}.dump()};
    }
  } else if (fault == "quota") {
    p.status = 429;
    p.headers = {{"Content-Type", "application/json"}};
    p.frames = {json{{"error", {{"message", "You exceeded your current quota, please check your plan and billing details."},
                                {"type", "insufficient_quota"}, {"param", nullptr}, {"code", "insufficient_quota"}}}}.dump()};
  } else if (fault == "html") {
    p.status = 502;
    p.headers = {{"Content-Type", "text/html"}};
    p.frames = {"<html><head><title>502 Bad Gateway</title></head><body>bad gateway</body></html>"};
  } else {
    if (c.api == "openai") p = OpenAiChat(c);
    else if (c.api == "openai-responses") p = OpenAiResponses(c);
    else if (c.api == "anthropic") p = Anthropic(c);
    else if (c.api == "gemini") p = Gemini(c);
    else p = Ollama(c);
    p.headers = {{"Content-Type", !c.stream ? "application/json"
                                            : c.api == "ollama" ? "application/x-ndjson" : "text/event-stream"}};
    p.chunked = c.stream;
    if (c.reply.ratelimit_reset > 0) {
      std::string secs = std::to_string(static_cast<int64_t>(c.reply.ratelimit_reset));
      if (c.api == "anthropic") {
        p.headers.emplace_back("anthropic-ratelimit-requests-remaining", "0");
        p.headers.emplace_back("anthropic-ratelimit-requests-reset", Rfc3339In(c.reply.ratelimit_reset));
      } else {
        p.headers.emplace_back("x-ratelimit-remaining-requests", "0");
        p.headers.emplace_back("x-ratelimit-reset-requests", secs + "s");
      }
    }
    if (c.stream && fault == "stall") {
      // What each API sends before its first token; Gemini and Ollama send nothing.
      p.stall_after = c.api == "openai" ? 1 : c.api == "openai-responses" ? 2 : c.api == "anthropic" ? 1 : 0;
      p.stall_ms = c.reply.slow_ms;
    }
    if (c.reply.omit_usage)
      for (auto& f : p.frames) f = StripUsage(f);
    if (endless) {
      std::string marker(std::min<size_t>(64, c.reply.text.size()), 'x');
      for (size_t i = 0; i < p.frames.size(); ++i)
        if (p.frames[i].find(marker) != std::string::npos) {
          p.frames.resize(i + 1);
          p.endless = true;
          break;
        }
    }
    if (c.stream && !endless) {
      size_t mid = std::max<size_t>(1, p.frames.size() / 2);
      if (fault == "cut") p.cut_after = static_cast<int>(mid);
      if (fault == "malformed")
        p.frames.insert(p.frames.begin() + mid, c.api == "ollama" ? "{\"message\": {\"content\": \"x\"\n" : "data: {\"choices\": [{\"delta\": \n\n");
      if (fault == "stream_error") {
        p.frames.resize(mid);
        p.frames.push_back(StreamErrorFrame(c.api));
      }
    } else if (fault == "cut") {
      // A non-streamed body cut in half: the declared length never arrives.
      p.cut_after = 1;
      p.chunked = true;
      std::string whole = p.frames[0];
      p.frames = {whole.substr(0, whole.size() / 2), whole.substr(whole.size() / 2)};
    }
  }

  // The answer is in flight while any of its steps is scheduled: the guard's deleter runs
  // when the last one is done or dropped (the client left, the server stopped).
  std::shared_ptr<void> guard(nullptr, [this](void*) {
    std::lock_guard<std::mutex> l(mu_);
    --in_flight_;
  });
  w->After(delay, [w, p = std::move(p), gap, guard]() mutable {
    if (!p.chunked) {
      w->Send(p.status, p.headers, p.frames.empty() ? "" : p.frames[0]);
      return;
    }
    w->Begin(p.status, p.headers, true);
    if (p.endless) {
      // The preamble, then the delta frame for as long as the client reads (never faster
      // than it reads: the writer waits while 4 MiB are unsent).
      for (size_t i = 0; i + 1 < p.frames.size(); ++i) w->Write(p.frames[i]);
      EndlessPump{w, std::make_shared<const std::string>(p.frames.back()), std::max(1, gap), guard}();
      return;
    }
    auto frames = std::make_shared<std::vector<std::string>>(std::move(p.frames));
    int cut = p.cut_after;
    // Frame i goes out at i * gap ms (plus the stall once past stall_after); a cut closes
    // the socket instead of the next frame.
    size_t n = frames->size();
    for (size_t i = 0; i <= n; ++i) {
      bool last = i == n || (cut >= 0 && static_cast<int>(i) == cut);
      auto step = [w, frames, i, n, cut, guard] {
        if (w->closed()) return;
        if (cut >= 0 && static_cast<int>(i) == cut) {
          w->Abort();
        } else if (i == n) {
          w->End();
        } else {
          w->Write((*frames)[i]);
        }
      };
      int at = static_cast<int>(i) * gap + (p.stall_after >= 0 && static_cast<int>(i) >= p.stall_after ? p.stall_ms : 0);
      if (at <= 0) {
        step();
      } else {
        w->After(at, step);
      }
      if (last) break;
    }
  });
}

}  // namespace sw::fakellm
