// Anthropic Messages API.
#include "llm/wire.h"

#include <set>

namespace sw::llm {
namespace {

using wire::Int;
using wire::json;
using wire::Str;

/// Anthropic's input_tokens excludes cache reads and writes; Usage::input includes them.
/// Fields absent from a record (message_delta carries only some) keep their earlier value.
void MergeUsage(const json& u, Usage* out) {
  auto get = [&](const char* k, int64_t* dst) {
    if (auto it = u.find(k); it != u.end() && it->is_number()) *dst = it->get<int64_t>();
  };
  int64_t plain = out->input - out->cached_read - out->cache_write;
  get("input_tokens", &plain);
  get("cache_read_input_tokens", &out->cached_read);
  get("cache_creation_input_tokens", &out->cache_write);
  get("output_tokens", &out->output);
  out->input = plain + out->cached_read + out->cache_write;
}

/// stop_reason: end_turn | stop_sequence | max_tokens | tool_use | pause_turn | refusal |
/// model_context_window_exceeded.
void SetFinish(Response* r, const std::string& stop) {
  r->finish_raw = stop;
  if (stop == "end_turn" || stop == "stop_sequence") r->finish_reason = finish::kStop;
  else if (stop == "max_tokens") r->finish_reason = finish::kLength;
  else if (stop == "tool_use") r->finish_reason = finish::kToolCalls;
  else if (stop == "model_context_window_exceeded") r->finish_reason = finish::kContextWindow;
  else r->finish_reason = stop;  // refusal and pause_turn are canonical names already
}

class AnthropicDecoder : public wire::FramedDecoder {
 public:
  explicit AnthropicDecoder(bool stream) : FramedDecoder(stream ? Framing::kSse : Framing::kWhole) {}

 protected:
  Status OnEvent(std::string_view, const json& e) override {
    std::string type = Str(e, "type");
    if (type == "message_start") {
      if (auto m = e.find("message"); m != e.end() && m->is_object()) {
        NoteModel(*m, "model");
        NoteId(*m, "id");
        if (auto u = m->find("usage"); u != m->end() && u->is_object()) Merge(*u);
      }
    } else if (type == "content_block_start") {
      auto b = e.find("content_block");
      if (b == e.end() || !b->is_object()) return Status::Ok();
      std::string bt = Str(*b, "type");
      if (bt == "text") {
        EmitText(Str(*b, "text"));
      } else if (bt == "tool_use") {
        ToolCall& t = Tool(Int(e, "index"));
        t.id = Str(*b, "id");
        t.name = Str(*b, "name");
        client_tools_.insert(Int(e, "index"));
      }
      // server_tool_use (web search, code execution) runs on Anthropic's side: its input
      // deltas are not a call for us to make.
    } else if (type == "content_block_delta") {
      auto d = e.find("delta");
      if (d == e.end() || !d->is_object()) return Status::Ok();
      std::string dt = Str(*d, "type");
      if (dt == "text_delta") EmitText(Str(*d, "text"));
      else if (dt == "input_json_delta" && client_tools_.count(Int(e, "index")))
        Tool(Int(e, "index")).arguments_json += Str(*d, "partial_json");
      else if (dt == "thinking_delta" || dt == "input_json_delta") MarkToken();
    } else if (type == "message_delta") {
      if (auto d = e.find("delta"); d != e.end() && d->is_object())
        if (auto s = Str(*d, "stop_reason"); !s.empty()) SetFinish(&response, s);
      if (auto u = e.find("usage"); u != e.end() && u->is_object()) Merge(*u);
    } else if (type == "message_stop") {
      done_ = true;
    } else if (type == "error") {
      const json& err = e.contains("error") ? e["error"] : e;
      stream_error = Str(err, "message");
      std::string et = Str(err, "type");
      if (stream_error.empty()) stream_error = et;
      stream_error = et + ": " + stream_error;
      stream_error_retryable = et == "overloaded_error" || et == "api_error" || et == "rate_limit_error" ||
                               et == "timeout_error";
      done_ = true;
    }
    return Status::Ok();
  }

  Status OnWhole(const json& m) override {
    if (auto u = m.find("usage"); u != m.end() && u->is_object()) Merge(*u);
    NoteModel(m, "model");
    NoteId(m, "id");
    SetFinish(&response, Str(m, "stop_reason"));
    if (auto cs = m.find("content"); cs != m.end() && cs->is_array()) {
      int64_t i = 0;
      for (const auto& b : *cs) {
        std::string bt = Str(b, "type");
        if (bt == "text") {
          EmitText(Str(b, "text"));
        } else if (bt == "tool_use") {
          ToolCall& t = Tool(i);
          t.id = Str(b, "id");
          t.name = Str(b, "name");
          t.arguments_json = b.contains("input") ? b["input"].dump() : "{}";
        }
        ++i;
      }
    }
    done_ = true;
    return Status::Ok();
  }

 private:
  void Merge(const json& u) {
    Usage x = response.usage;
    MergeUsage(u, &x);
    SetUsage(x);
  }
  std::set<int64_t> client_tools_;  // indices of tool_use blocks (not server_tool_use)
};

class Anthropic : public wire::Api<AnthropicDecoder> {
 public:
  Result<net::ClientRequest> Build(const Request& r, const ProviderConfig& c) const override {
    json msgs = json::array();
    for (const auto& m : r.messages) {
      if (m.role == "system") continue;
      if (m.role == "tool") {
        json block{{"type", "tool_result"}, {"tool_use_id", m.tool_call_id}, {"content", m.content}};
        // Results of one turn's tool calls travel together in a single user message.
        if (!msgs.empty() && msgs.back()["role"] == "user" && msgs.back()["content"].is_array() &&
            !msgs.back()["content"].empty() && msgs.back()["content"].back().value("type", "") == "tool_result") {
          msgs.back()["content"].push_back(block);
        } else {
          msgs.push_back(json{{"role", "user"}, {"content", json::array({block})}});
        }
        continue;
      }
      if (m.role == "assistant" && !m.tool_calls.empty()) {
        json blocks = json::array();
        if (!m.content.empty()) blocks.push_back(json{{"type", "text"}, {"text", m.content}});
        for (const auto& tc : m.tool_calls)
          blocks.push_back(json{{"type", "tool_use"}, {"id", tc.id}, {"name", tc.name},
                                {"input", ToolArguments(tc.arguments_json)}});
        msgs.push_back(json{{"role", "assistant"}, {"content", blocks}});
        continue;
      }
      msgs.push_back(json{{"role", m.role}, {"content", m.content}});
    }
    // max_tokens is required by this API.
    json body{{"model", r.model}, {"messages", msgs}, {"max_tokens", r.max_tokens > 0 ? r.max_tokens : 4096}};
    std::string sys = wire::SystemText(r);
    // The Messages API has no JSON mode; the instruction is the documented way to ask for it.
    if (r.json_output) sys += std::string(sys.empty() ? "" : "\n\n") + "Respond with a single JSON object and nothing else.";
    if (!sys.empty()) body["system"] = sys;
    if (!r.tools.empty()) {
      json tools = json::array();
      for (const auto& t : r.tools) {
        SW_ASSIGN_OR_RETURN(json schema, wire::Schema(t));
        tools.push_back(json{{"name", t.name}, {"description", t.description}, {"input_schema", schema}});
      }
      body["tools"] = tools;
    }
    if (r.temperature) body["temperature"] = *r.temperature;
    if (!r.stop.empty()) body["stop_sequences"] = r.stop;
    if (c.stream) body["stream"] = true;
    net::ClientRequest q = wire::Post(c, "/v1/messages", "x-api-key", c.api_key, body);
    q.headers.emplace_back("anthropic-version", "2023-06-01");
    return q;
  }
};

}  // namespace

std::unique_ptr<WireApi> NewAnthropic() { return std::make_unique<Anthropic>(); }

}  // namespace sw::llm
