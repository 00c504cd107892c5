#include "llm/wire.h"

#include <cctype>

#include "base/hash.h"

namespace sw::llm::wire {
namespace {
constexpr size_t kMaxRawKept = 4 << 20;  // the stored copy of a response body is bounded
}

FramedDecoder::FramedDecoder(Framing f)
    : framing_(f),
      sse_([this](std::string_view ev, std::string_view data) {
        error_ = Dispatch(ev, data);
        return error_.ok();
      }),
      lines_([this](std::string_view line) {
        error_ = Dispatch("", line);
        return error_.ok();
      }) {}

Status FramedDecoder::Dispatch(std::string_view event, std::string_view data) {
  if (OnSentinel(data)) return Status::Ok();
  auto j = json::parse(data, nullptr, false);
  if (j.is_discarded()) {
    std::string shown(data.substr(0, 120));
    return Status(Code::kUnavailable, "malformed stream chunk (not JSON) after " + std::to_string(body_.size()) +
                                          " bytes: " + shown);
  }
  // Handlers read untrusted JSON: a value of the wrong type must fail this call, never
  // throw through libcurl's callback.
  try {
    return OnEvent(event, j);
  } catch (const json::exception& e) {
    return Status(Code::kUnavailable, std::string("malformed stream chunk: ") + e.what());
  }
}

Status FramedDecoder::Feed(std::string_view bytes) {
  if (body_.size() < kMaxRawKept) body_.append(bytes.substr(0, kMaxRawKept - body_.size()));
  if (framing_ == Framing::kWhole) {
    if (body_.size() >= kMaxRawKept) return Status(Code::kFailed, "response body larger than 4 MiB");
    return Status::Ok();
  }
  if (framing_ == Framing::kSse) sse_.Feed(bytes);
  else lines_.Feed(bytes);
  return error_;
}

Status FramedDecoder::Finish() {
  if (framing_ == Framing::kWhole) {
    auto j = json::parse(body_, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return Status(Code::kUnavailable, "malformed response body (not a JSON object): " + body_.substr(0, 120));
    Status s;
    try {
      s = OnWhole(j);
    } catch (const json::exception& e) {
      s = Status(Code::kUnavailable, std::string("malformed response body: ") + e.what());
    }
    SW_RETURN_IF_ERROR(s);
  } else {
    if (framing_ == Framing::kLines) lines_.Flush();
    if (!error_.ok()) return error_;
    // An SSE event still open at EOF was never dispatched: it was cut.
  }
  response.raw = std::move(body_);
  body_.clear();
  for (auto& [i, tc] : tools_) response.tool_calls.push_back(std::move(tc));
  tools_.clear();
  if (!response.tool_calls.empty() && (response.finish_reason.empty() || response.finish_reason == finish::kStop))
    response.finish_reason = finish::kToolCalls;
  if (!Complete()) return Status(Code::kUnavailable, "stream ended before its final event (cut mid-way)");
  return Status::Ok();
}

ToolCall& FramedDecoder::Tool(int64_t index) {
  MarkToken();
  return tools_[index];
}

int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

bool Bool(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::string CallId(const std::string& name, const std::string& args, int64_t index) {
  return "call_" + Hasher().Add(name).Add(args).HexDigest().substr(0, 12) + "_" + std::to_string(index);
}

std::string SystemText(const Request& r) {
  std::string s;
  for (const auto& m : r.messages) {
    if (m.role != "system") continue;
    if (!s.empty()) s += "\n\n";
    s += m.content;
  }
  return s;
}

std::string Url(const std::string& base, std::string_view path) {
  std::string b = base;
  while (!b.empty() && b.back() == '/') b.pop_back();
  if (!path.empty() && path.front() != '/') b.push_back('/');
  b.append(path);
  return b;
}

net::Headers JsonHeaders(const ProviderConfig& c, const std::string& auth_name, const std::string& auth_value) {
  net::Headers h{{"Content-Type", "application/json"}};
  for (const auto& kv : c.headers) h.push_back(kv);
  if (!c.api_key.empty() && !auth_name.empty()) h.emplace_back(auth_name, auth_value);
  return h;
}

net::ClientRequest Post(const ProviderConfig& c, std::string_view path, const std::string& auth_name,
                        const std::string& auth_value, const json& body) {
  net::ClientRequest q;
  q.url = Url(c.base_url, path);
  q.headers = JsonHeaders(c, auth_name, auth_value);
  q.body = body.dump();
  return q;
}

Result<json> Schema(const ToolSpec& t) {
  if (t.parameters_json.empty()) return json{{"type", "object"}, {"properties", json::object()}};
  json j = json::parse(t.parameters_json, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return InvalidInput("tool \"" + t.name + "\": its parameter schema is not a JSON object");
  return j;
}

Result<json> FunctionTools(const Request& r) {
  json tools = json::array();
  for (const auto& t : r.tools) {
    SW_ASSIGN_OR_RETURN(json schema, Schema(t));
    tools.push_back(json{{"type", "function"},
                         {"function", {{"name", t.name}, {"description", t.description}, {"parameters", schema}}}});
  }
  return tools;
}

bool MentionsJson(const Request& r) {
  for (const auto& m : r.messages) {
    std::string lower = m.content;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower.find("json") != std::string::npos) return true;
  }
  return false;
}

}  // namespace sw::llm::wire
