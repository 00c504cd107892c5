// Ollama's native /api/chat (newline-delimited JSON when streaming).
#include "llm/wire.h"

namespace sw::llm {
namespace {

using wire::Int;
using wire::json;
using wire::Str;

class OllamaDecoder : public wire::FramedDecoder {
 public:
  explicit OllamaDecoder(bool stream) : FramedDecoder(stream ? Framing::kLines : Framing::kWhole) {}

 protected:
  Status OnEvent(std::string_view, const json& c) override { return Chunk(c); }
  Status OnWhole(const json& c) override { return Chunk(c); }

 private:
  Status Chunk(const json& c) {
    NoteModel(c, "model");
    if (auto e = c.find("error"); e != c.end()) {
      stream_error = e->is_string() ? e->get<std::string>() : e->dump();
      stream_error_retryable = true;  // mid-stream failures are the runner's (OOM, crash)
      done_ = true;
      return Status::Ok();
    }
    if (auto m = c.find("message"); m != c.end() && m->is_object()) {
      EmitText(Str(*m, "content"));
      if (!Str(*m, "thinking").empty()) MarkToken();
      if (auto tcs = m->find("tool_calls"); tcs != m->end() && tcs->is_array()) {
        for (const auto& tc : *tcs) {
          int64_t i = next_tool_++;
          ToolCall& t = Tool(i);
          if (auto f = tc.find("function"); f != tc.end() && f->is_object()) {
            t.name = Str(*f, "name");
            auto a = f->find("arguments");
            t.arguments_json = a == f->end() ? "{}" : (a->is_string() ? a->get<std::string>() : a->dump());
          }
          t.id = Str(tc, "id");
          if (t.id.empty()) t.id = wire::CallId(t.name, t.arguments_json, i);
        }
      }
    }
    if (wire::Bool(c, "done")) {
      // Counts that are absent (a proxy that drops them) are unknown, not zero.
      if (c.contains("prompt_eval_count") || c.contains("eval_count")) {
        Usage u;
        u.input = Int(c, "prompt_eval_count");
        u.output = Int(c, "eval_count");
        SetUsage(u);
      }
      // done_reason: stop | length | load | unload.
      response.finish_raw = Str(c, "done_reason");
      response.finish_reason = response.finish_raw.empty() ? finish::kStop : response.finish_raw;
      done_ = true;
    }
    return Status::Ok();
  }
  int64_t next_tool_ = 0;
};

class Ollama : public wire::Api<OllamaDecoder> {
 public:
  Result<net::ClientRequest> Build(const Request& r, const ProviderConfig& c) const override {
    json msgs = json::array();
    std::map<std::string, std::string> call_names;
    for (const auto& m : r.messages) {
      json jm{{"role", m.role}, {"content", m.content}};
      if (!m.tool_calls.empty()) {
        json calls = json::array();
        for (const auto& tc : m.tool_calls) {
          call_names[tc.id] = tc.name;
          calls.push_back(json{{"function", {{"name", tc.name}, {"arguments", ToolArguments(tc.arguments_json)}}}});
        }
        jm["tool_calls"] = calls;
      }
      if (m.role == "tool" && call_names.count(m.tool_call_id)) jm["tool_name"] = call_names[m.tool_call_id];
      msgs.push_back(std::move(jm));
    }
    json body{{"model", r.model}, {"messages", msgs}, {"stream", c.stream}};
    if (!r.tools.empty()) {
      SW_ASSIGN_OR_RETURN(body["tools"], wire::FunctionTools(r));
    }
    if (r.json_output) body["format"] = "json";
    json opts = json::object();
    if (r.temperature) opts["temperature"] = *r.temperature;
    if (r.max_tokens > 0) opts["num_predict"] = r.max_tokens;
    if (!r.stop.empty()) opts["stop"] = r.stop;
    if (!opts.empty()) body["options"] = opts;
    // A local Ollama takes no key; one behind a proxy may want a bearer token.
    return wire::Post(c, "/api/chat", "Authorization", "Bearer " + c.api_key, body);
  }
};

}  // namespace

std::unique_ptr<WireApi> NewOllama() { return std::make_unique<Ollama>(); }

}  // namespace sw::llm
