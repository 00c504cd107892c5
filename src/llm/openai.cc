// OpenAI Chat Completions (also every OpenAI-compatible server) and the OpenAI Responses API.
#include "llm/wire.h"

#include <algorithm>

namespace sw::llm {
namespace {

using wire::Int;
using wire::json;
using wire::Str;

/// Usage from Chat Completions ("prompt_tokens") or Responses ("input_tokens") records;
/// both count cached input inside input and reasoning inside output, as Usage does.
Usage OpenAiUsage(const json& u) {
  Usage out;
  bool responses = u.contains("input_tokens");
  out.input = Int(u, responses ? "input_tokens" : "prompt_tokens");
  out.output = Int(u, responses ? "output_tokens" : "completion_tokens");
  auto in_d = u.find(responses ? "input_tokens_details" : "prompt_tokens_details");
  if (in_d != u.end() && in_d->is_object()) {
    out.cached_read = Int(*in_d, "cached_tokens");
    out.cache_write = Int(*in_d, "cache_write_tokens");
  }
  auto out_d = u.find(responses ? "output_tokens_details" : "completion_tokens_details");
  if (out_d != u.end() && out_d->is_object()) out.reasoning = Int(*out_d, "reasoning_tokens");
  return out;
}

/// The Responses API takes tools flat: {"type": "function", name, description, parameters}.
Result<json> ResponsesTools(const Request& r) {
  json tools = json::array();
  for (const auto& t : r.tools) {
    SW_ASSIGN_OR_RETURN(json schema, wire::Schema(t));
    tools.push_back(json{{"type", "function"}, {"name", t.name}, {"description", t.description}, {"parameters", schema}});
  }
  return tools;
}

/// JSON mode is refused unless the messages ask for JSON; say so when the prompt does not.
constexpr const char* kJsonInstruction = "Respond with a single JSON object.";

/// A stream-borne error: retry unless the request itself was at fault.
void StreamError(Decoder* d, const json& err) {
  d->stream_error = err.is_object() ? Str(err, "message") : err.dump();
  if (d->stream_error.empty()) d->stream_error = err.dump();
  std::string type = err.is_object() ? Str(err, "type") + Str(err, "code") : "";
  d->stream_error_retryable = type.find("invalid") == std::string::npos;
}

// ---- Chat Completions ----

class ChatDecoder : public wire::FramedDecoder {
 public:
  explicit ChatDecoder(bool stream) : FramedDecoder(stream ? Framing::kSse : Framing::kWhole) {}

 protected:
  bool OnSentinel(std::string_view data) override {
    if (data != "[DONE]") return false;
    done_ = true;
    return true;
  }
  // Some compatible servers omit [DONE]; a finish reason plus usage is just as final.
  bool Complete() const override { return done_ || (finished_ && usage_seen); }

  Status OnEvent(std::string_view, const json& c) override {
    if (c.contains("error")) {
      StreamError(this, c["error"]);
      done_ = true;
      return Status::Ok();
    }
    if (auto u = c.find("usage"); u != c.end() && u->is_object()) SetUsage(OpenAiUsage(*u));
    NoteModel(c, "model");
    NoteId(c, "id");
    auto ch = c.find("choices");
    if (ch == c.end() || !ch->is_array()) return Status::Ok();
    for (const auto& choice : *ch) {
      if (Int(choice, "index") != 0) continue;
      if (auto fr = Str(choice, "finish_reason"); !fr.empty()) {
        SetChatFinish(fr);
        finished_ = true;
      }
      auto d = choice.find("delta");
      if (d == choice.end() || !d->is_object()) continue;
      EmitText(Str(*d, "content"));
      refusal_ += Str(*d, "refusal");
      // Reasoning streamed by vLLM, llama.cpp, DeepSeek, OpenRouter: the model is producing.
      if (!Str(*d, "reasoning_content").empty() || !Str(*d, "reasoning").empty() || !Str(*d, "refusal").empty())
        MarkToken();
      if (auto tcs = d->find("tool_calls"); tcs != d->end() && tcs->is_array()) {
        for (const auto& tc : *tcs) {
          // Deltas carry an index; a few compatible servers send none, and then a new id
          // starts a new call.
          int64_t index = Int(tc, "index");
          if (!tc.contains("index")) {
            std::string id = Str(tc, "id");
            if (!id.empty() && id != last_id_) ++unindexed_;
            if (!id.empty()) last_id_ = id;
            index = std::max<int64_t>(0, unindexed_);
          }
          ToolCall& t = Tool(index);
          if (auto id = Str(tc, "id"); !id.empty()) t.id = id;
          if (auto f = tc.find("function"); f != tc.end() && f->is_object()) {
            if (auto n = Str(*f, "name"); !n.empty()) t.name = n;
            t.arguments_json += Str(*f, "arguments");
          }
        }
      }
    }
    return Status::Ok();
  }

  Status OnWhole(const json& body) override {
    if (auto u = body.find("usage"); u != body.end() && u->is_object()) SetUsage(OpenAiUsage(*u));
    NoteModel(body, "model");
    NoteId(body, "id");
    auto ch = body.find("choices");
    if (ch == body.end() || !ch->is_array() || ch->empty()) return Status(Code::kFailed, "response has no choices");
    const json& choice = (*ch)[0];
    SetChatFinish(Str(choice, "finish_reason"));
    if (auto m = choice.find("message"); m != choice.end() && m->is_object()) {
      EmitText(Str(*m, "content"));
      refusal_ = Str(*m, "refusal");
      if (auto tcs = m->find("tool_calls"); tcs != m->end() && tcs->is_array()) {
        int64_t i = 0;
        for (const auto& tc : *tcs) {
          ToolCall& t = Tool(i++);
          t.id = Str(tc, "id");
          if (auto f = tc.find("function"); f != tc.end() && f->is_object()) {
            t.name = Str(*f, "name");
            t.arguments_json = Str(*f, "arguments");
          }
        }
      }
    }
    done_ = true;
    return Status::Ok();
  }

  Status Finish() override {
    SW_RETURN_IF_ERROR(FramedDecoder::Finish());
    // A refusal is an answer, but not the one asked for (llm/finish.h decides what it means).
    response.refusal = refusal_;
    if (!refusal_.empty() && response.text.empty() && response.tool_calls.empty()) response.finish_reason = finish::kRefusal;
    return Status::Ok();
  }

 private:
  // stop | length | tool_calls | content_filter | function_call (deprecated) are documented.
  void SetChatFinish(const std::string& fr) {
    response.finish_raw = fr;
    response.finish_reason = fr == "function_call" ? finish::kToolCalls : fr;
  }
  bool finished_ = false;
  std::string refusal_;
  std::string last_id_;
  int64_t unindexed_ = -1;
};

class OpenAiChat : public wire::Api<ChatDecoder> {
 public:
  Result<net::ClientRequest> Build(const Request& r, const ProviderConfig& c) const override {
    json msgs = json::array();
    if (r.json_output && !wire::MentionsJson(r)) msgs.push_back(json{{"role", "system"}, {"content", kJsonInstruction}});
    for (const auto& m : r.messages) {
      json jm{{"role", m.role}};
      if (m.role == "assistant" && !m.tool_calls.empty()) {
        jm["content"] = m.content.empty() ? json(nullptr) : json(m.content);
        json calls = json::array();
        for (const auto& tc : m.tool_calls)
          calls.push_back(json{{"id", tc.id}, {"type", "function"},
                               {"function", {{"name", tc.name}, {"arguments", tc.arguments_json}}}});
        jm["tool_calls"] = calls;
      } else {
        jm["content"] = m.content;
      }
      if (m.role == "tool") jm["tool_call_id"] = m.tool_call_id;
      msgs.push_back(std::move(jm));
    }
    json body{{"model", r.model}, {"messages", msgs}};
    if (!r.tools.empty()) {
      SW_ASSIGN_OR_RETURN(body["tools"], wire::FunctionTools(r));
    }
    if (r.temperature) body["temperature"] = *r.temperature;
    if (r.max_tokens > 0) body[c.legacy_max_tokens ? "max_tokens" : "max_completion_tokens"] = r.max_tokens;
    if (!r.stop.empty()) body["stop"] = r.stop;
    if (r.json_output) body["response_format"] = json{{"type", "json_object"}};
    if (c.stream) {
      body["stream"] = true;
      body["stream_options"] = json{{"include_usage", true}};
    }
    return wire::Post(c, "/chat/completions", "Authorization", "Bearer " + c.api_key, body);
  }
};

// ---- Responses ----

class ResponsesDecoder : public wire::FramedDecoder {
 public:
  explicit ResponsesDecoder(bool stream) : FramedDecoder(stream ? Framing::kSse : Framing::kWhole) {}

 protected:
  Status OnEvent(std::string_view, const json& e) override {
    std::string type = Str(e, "type");
    // response.created / in_progress / completed carry the response object, model included.
    if (auto r = e.find("response"); r != e.end()) NoteModel(*r, "model"), NoteId(*r, "id");
    if (type == "response.output_text.delta") {
      EmitText(Str(e, "delta"));
    } else if (type == "response.reasoning_summary_text.delta" || type == "response.reasoning_text.delta") {
      MarkToken();
    } else if (type == "response.refusal.delta") {
      MarkToken();
      response.refusal += Str(e, "delta");
    } else if (type == "response.refusal.done") {
      response.refusal = Str(e, "refusal");
    } else if (type == "response.output_item.added" || type == "response.output_item.done") {
      auto item = e.find("item");
      if (item != e.end() && item->is_object() && Str(*item, "type") == "function_call") {
        ToolCall& t = Tool(Int(e, "output_index"));
        t.id = Str(*item, "call_id");
        t.name = Str(*item, "name");
        if (type == "response.output_item.done") t.arguments_json = Str(*item, "arguments");
      }
    } else if (type == "response.function_call_arguments.delta") {
      Tool(Int(e, "output_index")).arguments_json += Str(e, "delta");
    } else if (type == "response.function_call_arguments.done") {
      Tool(Int(e, "output_index")).arguments_json = Str(e, "arguments");
    } else if (type == "response.completed" || type == "response.incomplete" || type == "response.failed") {
      const json& resp = e.contains("response") ? e["response"] : e;
      if (auto u = resp.find("usage"); u != resp.end() && u->is_object()) SetUsage(OpenAiUsage(*u));
      if (type == "response.completed") {
        response.finish_reason = finish::kStop;
        response.finish_raw = "completed";
      } else if (type == "response.incomplete") {
        SetIncomplete(resp);
      } else {
        StreamError(this, resp.contains("error") ? resp["error"] : json("response failed"));
      }
      done_ = true;
    } else if (type == "error") {
      StreamError(this, e.contains("error") ? e["error"] : e);
      done_ = true;
    }
    return Status::Ok();
  }

  Status OnWhole(const json& resp) override {
    if (auto u = resp.find("usage"); u != resp.end() && u->is_object()) SetUsage(OpenAiUsage(*u));
    NoteModel(resp, "model");
    NoteId(resp, "id");
    auto out = resp.find("output");
    if (out != resp.end() && out->is_array()) {
      int64_t i = 0;
      for (const auto& item : *out) {
        std::string t = Str(item, "type");
        if (t == "message") {
          if (auto cs = item.find("content"); cs != item.end() && cs->is_array())
            for (const auto& part : *cs) {
              if (Str(part, "type") == "output_text") EmitText(Str(part, "text"));
              if (Str(part, "type") == "refusal") response.refusal += Str(part, "refusal");
            }
        } else if (t == "function_call") {
          ToolCall& tc = Tool(i);
          tc.id = Str(item, "call_id");
          tc.name = Str(item, "name");
          tc.arguments_json = Str(item, "arguments");
        }
        ++i;
      }
    }
    std::string status = Str(resp, "status");
    if (status == "failed") StreamError(this, resp.contains("error") ? resp["error"] : json("response failed"));
    if (status == "incomplete") SetIncomplete(resp);
    else response.finish_reason = status == "completed" ? finish::kStop : finish::kOther, response.finish_raw = status;
    done_ = true;
    return Status::Ok();
  }

  Status Finish() override {
    SW_RETURN_IF_ERROR(FramedDecoder::Finish());
    if (!response.refusal.empty() && response.text.empty() && response.tool_calls.empty())
      response.finish_reason = finish::kRefusal;
    return Status::Ok();
  }

 private:
  // incomplete_details.reason: max_output_tokens | content_filter.
  void SetIncomplete(const json& resp) {
    auto d = resp.find("incomplete_details");
    std::string why = d != resp.end() && d->is_object() ? Str(*d, "reason") : "";
    response.finish_raw = why.empty() ? "incomplete" : why;
    response.finish_reason = why == "max_output_tokens" ? finish::kLength
                             : why == "content_filter"  ? finish::kContentFilter
                                                        : response.finish_raw;
  }
};

class OpenAiResponses : public wire::Api<ResponsesDecoder> {
 public:
  Result<net::ClientRequest> Build(const Request& r, const ProviderConfig& c) const override {
    json input = json::array();
    for (const auto& m : r.messages) {
      if (m.role == "system") continue;  // sent as instructions
      if (m.role == "tool") {
        input.push_back(json{{"type", "function_call_output"}, {"call_id", m.tool_call_id}, {"output", m.content}});
        continue;
      }
      if (!m.content.empty() || m.tool_calls.empty()) input.push_back(json{{"role", m.role}, {"content", m.content}});
      for (const auto& tc : m.tool_calls)
        input.push_back(json{{"type", "function_call"}, {"call_id", tc.id}, {"name", tc.name},
                             {"arguments", tc.arguments_json}});
    }
    json body{{"model", r.model}, {"input", input}, {"store", false}};
    std::string sys = wire::SystemText(r);
    if (r.json_output && !wire::MentionsJson(r)) sys += std::string(sys.empty() ? "" : "\n\n") + kJsonInstruction;
    if (!sys.empty()) body["instructions"] = sys;
    if (!r.tools.empty()) {
      SW_ASSIGN_OR_RETURN(body["tools"], ResponsesTools(r));
    }
    if (r.temperature) body["temperature"] = *r.temperature;
    if (r.max_tokens > 0) body["max_output_tokens"] = r.max_tokens;
    if (r.json_output) body["text"] = json{{"format", {{"type", "json_object"}}}};
    if (c.stream) body["stream"] = true;
    return wire::Post(c, "/responses", "Authorization", "Bearer " + c.api_key, body);
  }
};

}  // namespace

std::unique_ptr<WireApi> NewOpenAiChat() { return std::make_unique<OpenAiChat>(); }
std::unique_ptr<WireApi> NewOpenAiResponses() { return std::make_unique<OpenAiResponses>(); }

}  // namespace sw::llm
