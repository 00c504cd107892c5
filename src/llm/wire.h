// Shared pieces of the wire formats (internal to llm/): framing of streamed bodies into JSON
// events, tool-call assembly from deltas, and the request-side helpers every API needs.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "llm/finish.h"
#include "llm/http_provider.h"
#include "net/stream.h"

namespace sw::llm::wire {

using json = nlohmann::json;

/// FramedDecoder handles framing (SSE, NDJSON, or one whole JSON body) and leaves each API
/// to interpret JSON values. Unknown fields and unknown event types are ignored, not fatal.
class FramedDecoder : public Decoder {
 public:
  enum class Framing { kSse, kLines, kWhole };
  explicit FramedDecoder(Framing f);
  Status Feed(std::string_view bytes) override;
  Status Finish() override;
  std::string RawSoFar() const override { return body_; }

 protected:
  /// One streamed event (SSE event type, or "" for NDJSON lines and unnamed SSE events).
  virtual Status OnEvent(std::string_view event, const json& data) = 0;
  /// A non-streamed response body.
  virtual Status OnWhole(const json& body) = 0;
  /// Data that is not JSON but legitimate (OpenAI's "[DONE]"); return true if consumed.
  virtual bool OnSentinel(std::string_view data) { return false; }
  /// Complete is true once the API's terminal event has arrived.
  virtual bool Complete() const { return done_; }

  /// Tool calls are keyed by the API's index and emitted in index order.
  ToolCall& Tool(int64_t index);
  void SetUsage(const Usage& u) {
    response.usage = u;
    usage_seen = true;
  }
  /// NoteModel keeps the answering model's name from obj[key] when it is a non-empty string.
  void NoteModel(const json& obj, const char* key) {
    if (!obj.is_object()) return;
    auto it = obj.find(key);
    if (it != obj.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
      response.model = Utf8Prefix(it->get<std::string>(), 200);
  }
  /// NoteId keeps the provider's id of the completion from obj[key] (first one seen wins).
  void NoteId(const json& obj, const char* key) {
    if (!obj.is_object() || !response.id.empty()) return;
    auto it = obj.find(key);
    if (it != obj.end() && it->is_string()) response.id = Utf8Prefix(it->get<std::string>(), 200);
  }

  bool done_ = false;

 private:
  Status Dispatch(std::string_view event, std::string_view data);
  Framing framing_;
  std::string body_;  // kWhole: the body; others: the raw stream (bounded) for the store
  net::SseParser sse_;
  net::LineParser lines_;
  Status error_;
  std::map<int64_t, ToolCall> tools_;
};

/// Int reads an integer field that may be absent or null (0 then).
int64_t Int(const json& j, const char* key);
/// Str reads a string field that may be absent or null ("" then).
std::string Str(const json& j, const char* key);
/// Bool reads a boolean field; anything else (absent, null, a string) is false.
bool Bool(const json& j, const char* key);
/// CallId names a tool call for APIs that give none (Gemini, Ollama): deterministic, so a
/// replayed run sends the same requests, and distinct across the calls of one answer.
std::string CallId(const std::string& name, const std::string& args, int64_t index);
/// SystemText joins the system messages; JoinedBody is the request body as compact JSON.
std::string SystemText(const Request& r);
/// Url joins a base URL and a path without doubling or dropping the slash.
std::string Url(const std::string& base, std::string_view path);
/// JsonHeaders are the content type, the caller's extra headers, then the API's auth header.
net::Headers JsonHeaders(const ProviderConfig& c, const std::string& auth_name, const std::string& auth_value);
/// Post is a JSON POST to base_url + path with the API's auth header.
net::ClientRequest Post(const ProviderConfig& c, std::string_view path, const std::string& auth_name,
                        const std::string& auth_value, const json& body);
/// Schema is a tool's parameter schema as JSON (an empty object schema when none is given);
/// text that is not a JSON object is an error naming the tool.
Result<json> Schema(const ToolSpec& t);
/// FunctionTools is the tool list as OpenAI Chat Completions and Ollama take it:
/// [{"type": "function", "function": {name, description, parameters}}].
Result<json> FunctionTools(const Request& r);
/// MentionsJson says whether any message contains the word "json" (OpenAI's JSON mode refuses
/// a request whose messages never ask for JSON).
bool MentionsJson(const Request& r);

/// Api binds a wire format's request builder to its decoder type.
template <typename DecoderT>
class Api : public WireApi {
 public:
  std::unique_ptr<Decoder> NewDecoder(const ProviderConfig& c) const override {
    return std::make_unique<DecoderT>(c.stream);
  }
};

}  // namespace sw::llm::wire
