#include "dist/codec.h"

#include <utility>

namespace sw::dist {

namespace {

constexpr std::pair<Code, const char*> kCodes[] = {
    {Code::kOk, "ok"},           {Code::kInvalidInput, "invalid_input"}, {Code::kNotFound, "not_found"},
    {Code::kFailed, "failed"},   {Code::kCancelled, "cancelled"},        {Code::kBudget, "budget"},
    {Code::kTimeout, "timeout"}, {Code::kUnavailable, "unavailable"},    {Code::kInternal, "internal"},
    {Code::kIo, "io"},           {Code::kPermission, "permission"},
};

const char* CodeName(Code c) {
  for (const auto& [k, v] : kCodes)
    if (k == c) return v;
  return "internal";
}

Code CodeOf(const std::string& name) {
  for (const auto& [k, v] : kCodes)
    if (name == v) return k;
  return Code::kInternal;
}

/// Text is a string as JSON: itself when it is valid UTF-8 (what JSON can hold), else
/// {"hex": ...}, so a raw body cut inside a character still round-trips byte for byte.
bool ValidUtf8(const std::string& s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > n) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    if (len == 2 && c < 0xC2) return false;  // overlong
    if (len == 3) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) return false;  // overlong, surrogate
    }
    if (len == 4) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xF0 && c1 < 0x90) || c > 0xF4 || (c == 0xF4 && c1 >= 0x90)) return false;
    }
    i += len;
  }
  return true;
}

json Text(const std::string& s) {
  if (ValidUtf8(s)) return s;
  static const char* kHex = "0123456789abcdef";
  std::string h;
  h.reserve(s.size() * 2);
  for (unsigned char c : s) h += kHex[c >> 4], h += kHex[c & 15];
  return json{{"hex", h}};
}

std::string TextOf(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  const std::string h = j.at("hex").get<std::string>();
  if (h.size() % 2) throw json::other_error::create(501, "odd hex string", &j);
  auto nib = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw json::other_error::create(501, "bad hex digit", &j);
  };
  std::string s;
  s.reserve(h.size() / 2);
  for (size_t i = 0; i < h.size(); i += 2) s += static_cast<char>(nib(h[i]) * 16 + nib(h[i + 1]));
  return s;
}

std::string TextAt(const json& j, const char* key) { return TextOf(j.at(key)); }

json TextList(const std::vector<std::string>& v) {
  json a = json::array();
  for (const auto& s : v) a.push_back(Text(s));
  return a;
}

json UsageToJson(const llm::Usage& u) {
  return json{{"input", u.input},
              {"output", u.output},
              {"cached_read", u.cached_read},
              {"cache_write", u.cache_write},
              {"reasoning", u.reasoning}};
}

llm::Usage UsageFromJson(const json& j) {
  llm::Usage u;
  u.input = j.at("input").get<int64_t>();
  u.output = j.at("output").get<int64_t>();
  u.cached_read = j.at("cached_read").get<int64_t>();
  u.cache_write = j.at("cache_write").get<int64_t>();
  u.reasoning = j.at("reasoning").get<int64_t>();
  return u;
}

json ToolCallsToJson(const std::vector<llm::ToolCall>& calls) {
  json a = json::array();
  for (const auto& tc : calls)
    a.push_back({{"id", Text(tc.id)}, {"name", Text(tc.name)}, {"arguments", Text(tc.arguments_json)}, {"provider_data", Text(tc.provider_data)}});
  return a;
}

std::vector<llm::ToolCall> ToolCallsFromJson(const json& a) {
  std::vector<llm::ToolCall> out;
  for (const auto& tc : a)
    out.push_back(llm::ToolCall{TextAt(tc, "id"), TextAt(tc, "name"),
                                TextAt(tc, "arguments"), TextAt(tc, "provider_data")});
  return out;
}

/// Decode runs a decoder that reads with at()/get(), turning nlohmann's exceptions (a
/// missing key, a wrong type) into an error naming what was being read.
template <typename T, typename F>
Result<T> Decode(const char* what, const json& j, F f) {
  try {
    if (!j.is_object()) return InvalidInput(std::string("malformed ") + what + ": not a JSON object");
    return f(j);
  } catch (const json::exception& e) {
    return InvalidInput(std::string("malformed ") + what + ": " + e.what());
  }
}

}  // namespace

json StatusToJson(const Status& s) { return json{{"code", CodeName(s.code())}, {"message", Text(s.message())}}; }

Status StatusFromJson(const json& j) {
  if (!j.is_object()) return Internal("malformed status in a task result");
  Code c = CodeOf(j.value("code", "internal"));
  if (c == Code::kOk) return Status::Ok();
  try {
    return Status(c, TextAt(j, "message"));
  } catch (const json::exception&) {
    return Status(c, "(unreadable message)");
  }
}

json RequestToJson(const llm::Request& r) {
  json msgs = json::array();
  for (const auto& m : r.messages)
    msgs.push_back({{"role", Text(m.role)}, {"content", Text(m.content)}, {"tool_calls", ToolCallsToJson(m.tool_calls)},
                    {"tool_call_id", Text(m.tool_call_id)}});
  json tools = json::array();
  for (const auto& t : r.tools)
    tools.push_back({{"name", Text(t.name)}, {"description", Text(t.description)}, {"parameters", Text(t.parameters_json)}});
  json j{{"provider", Text(r.provider)}, {"model", Text(r.model)},         {"messages", msgs},       {"tools", tools},
         {"max_tokens", r.max_tokens}, {"stop", TextList(r.stop)},       {"json_output", r.json_output},
         {"run_id", Text(r.run_id)},     {"node_id", Text(r.node_id)},     {"iteration", r.iteration}, {"item", r.item},
         {"attempt", r.attempt},   {"turn", r.turn}};
  j["temperature"] = r.temperature ? json(*r.temperature) : json(nullptr);
  return j;
}

Result<llm::Request> RequestFromJson(const json& j) {
  return Decode<llm::Request>("model request", j, [](const json& j) {
    llm::Request r;
    r.provider = TextAt(j, "provider");
    r.model = TextAt(j, "model");
    for (const auto& m : j.at("messages"))
      r.messages.push_back(llm::Message{TextAt(m, "role"), TextAt(m, "content"),
                                        ToolCallsFromJson(m.at("tool_calls")), TextAt(m, "tool_call_id")});
    for (const auto& t : j.at("tools"))
      r.tools.push_back(llm::ToolSpec{TextAt(t, "name"), TextAt(t, "description"),
                                      TextAt(t, "parameters")});
    if (!j.at("temperature").is_null()) r.temperature = j.at("temperature").get<double>();
    r.max_tokens = j.at("max_tokens").get<int64_t>();
    for (const auto& s : j.at("stop")) r.stop.push_back(TextOf(s));
    r.json_output = j.at("json_output").get<bool>();
    r.run_id = TextAt(j, "run_id");
    r.node_id = TextAt(j, "node_id");
    r.iteration = j.at("iteration").get<int>();
    r.item = j.at("item").get<int>();
    r.attempt = j.at("attempt").get<int>();
    r.turn = j.at("turn").get<int>();
    return r;
  });
}

json ResponseToJson(const llm::Response& r) {
  return json{{"text", Text(r.text)},
              {"tool_calls", ToolCallsToJson(r.tool_calls)},
              {"usage", UsageToJson(r.usage)},
              {"usage_known", r.usage_known},
              {"finish_reason", Text(r.finish_reason)},
              {"finish_raw", Text(r.finish_raw)},
              {"refusal", Text(r.refusal)},
              {"model", Text(r.model)},
              {"id", Text(r.id)},
              {"raw", Text(r.raw)},
              {"ttft_ms", r.ttft_ms}};
}

Result<llm::Response> ResponseFromJson(const json& j) {
  return Decode<llm::Response>("model response", j, [](const json& j) {
    llm::Response r;
    r.text = TextAt(j, "text");
    r.tool_calls = ToolCallsFromJson(j.at("tool_calls"));
    r.usage = UsageFromJson(j.at("usage"));
    r.usage_known = j.at("usage_known").get<bool>();
    r.finish_reason = TextAt(j, "finish_reason");
    r.finish_raw = TextAt(j, "finish_raw");
    r.refusal = TextAt(j, "refusal");
    r.model = TextAt(j, "model");
    r.id = TextAt(j, "id");
    r.raw = TextAt(j, "raw");
    r.ttft_ms = j.at("ttft_ms").get<double>();
    return r;
  });
}

json CallResultToJson(const llm::CallResult& r) {
  json j{{"request_raw", Text(r.request_raw)}, {"response_raw", Text(r.response_raw)}};
  j["response"] = r.response ? ResponseToJson(*r.response) : json(nullptr);
  j["error"] = json{{"status", StatusToJson(r.error.status)},
                    {"retryable", r.error.retryable},
                    {"retry_after", r.error.retry_after},
                    {"partial", UsageToJson(r.error.partial)},
                    {"http_status", r.error.http_status},
                    {"usage_known", r.error.usage_known}};
  return j;
}

Result<llm::CallResult> CallResultFromJson(const json& j) {
  return Decode<llm::CallResult>("model call result", j, [](const json& j) -> Result<llm::CallResult> {
    llm::CallResult r;
    r.request_raw = TextAt(j, "request_raw");
    r.response_raw = TextAt(j, "response_raw");
    if (!j.at("response").is_null()) {
      SW_ASSIGN_OR_RETURN(r.response, ResponseFromJson(j.at("response")));
    }
    const json& e = j.at("error");
    r.error.status = StatusFromJson(e.at("status"));
    r.error.retryable = e.at("retryable").get<bool>();
    r.error.retry_after = e.at("retry_after").get<double>();
    r.error.partial = UsageFromJson(e.at("partial"));
    r.error.http_status = e.at("http_status").get<int>();
    r.error.usage_known = e.at("usage_known").get<bool>();
    return r;
  });
}

json ToolTaskToJson(const ToolTask& t) {
  return json{{"uri", Text(t.uri)},
              {"args", t.args},
              {"run_id", Text(t.run_id)},
              {"node_id", Text(t.node_id)},
              {"iteration", t.iteration},
              {"item", t.item},
              {"attempt", t.attempt},
              {"call", t.call},
              {"shell", {{"allow", t.shell.allow}, {"timeout", t.shell.timeout}, {"max_output", t.shell.max_output}}},
              {"workspace", t.workspace}};
}

Result<ToolTask> ToolTaskFromJson(const json& j) {
  return Decode<ToolTask>("tool call", j, [](const json& j) {
    ToolTask t;
    t.uri = TextAt(j, "uri");
    t.args = j.at("args");
    t.run_id = TextAt(j, "run_id");
    t.node_id = TextAt(j, "node_id");
    t.iteration = j.at("iteration").get<int>();
    t.item = j.at("item").get<int>();
    t.attempt = j.at("attempt").get<int>();
    t.call = j.at("call").get<int>();
    const json& s = j.at("shell");
    t.shell.allow = s.at("allow").get<std::vector<std::string>>();
    t.shell.timeout = s.at("timeout").get<double>();
    t.shell.max_output = s.at("max_output").get<size_t>();
    t.workspace = j.at("workspace");
    return t;
  });
}

json ToolOutcomeToJson(const ToolOutcome& o) {
  json j{{"ok", o.ok}, {"workspace", o.workspace}};
  if (o.ok) j["value"] = o.value;
  else j["error"] = StatusToJson(o.error);
  return j;
}

Result<ToolOutcome> ToolOutcomeFromJson(const json& j) {
  return Decode<ToolOutcome>("tool result", j, [](const json& j) {
    ToolOutcome o;
    o.ok = j.at("ok").get<bool>();
    if (o.ok) o.value = j.at("value");
    else o.error = StatusFromJson(j.at("error"));
    if (!o.ok && o.error.ok()) o.error = Internal("a tool call failed without saying why");
    o.workspace = j.at("workspace");
    return o;
  });
}

}  // namespace sw::dist
