// Google Gemini generateContent / streamGenerateContent (SSE with alt=sse).
#include "llm/wire.h"

namespace sw::llm {
namespace {

using wire::Int;
using wire::json;
using wire::Str;

/// promptTokenCount includes cached content; candidatesTokenCount excludes thinking, which
/// Usage counts inside output.
Usage GeminiUsage(const json& u) {
  Usage out;
  out.input = Int(u, "promptTokenCount") + Int(u, "toolUsePromptTokenCount");
  out.cached_read = Int(u, "cachedContentTokenCount");
  out.reasoning = Int(u, "thoughtsTokenCount");
  out.output = Int(u, "candidatesTokenCount") + out.reasoning;
  return out;
}

/// finishReason: STOP | MAX_TOKENS | SAFETY | RECITATION | LANGUAGE | OTHER | BLOCKLIST |
/// PROHIBITED_CONTENT | SPII | MALFORMED_FUNCTION_CALL | IMAGE_* | UNEXPECTED_TOOL_CALL | ...
std::string FinishReason(const std::string& r) {
  if (r == "STOP") return finish::kStop;
  if (r == "MAX_TOKENS") return finish::kLength;
  if (r == "SAFETY" || r == "RECITATION" || r == "BLOCKLIST" || r == "PROHIBITED_CONTENT" || r == "SPII" ||
      r == "IMAGE_SAFETY" || r == "IMAGE_PROHIBITED_CONTENT" || r == "IMAGE_RECITATION")
    return finish::kContentFilter;
  if (r == "MALFORMED_FUNCTION_CALL" || r == "UNEXPECTED_TOOL_CALL") return finish::kMalformedCall;
  // OTHER, LANGUAGE, TOO_MANY_TOOL_CALLS, MISSING_THOUGHT_SIGNATURE, NO_IMAGE, IMAGE_OTHER,
  // FINISH_REASON_UNSPECIFIED and whatever comes next: not a finished answer.
  return r.empty() ? r : finish::kOther;
}

class GeminiDecoder : public wire::FramedDecoder {
 public:
  explicit GeminiDecoder(bool stream) : FramedDecoder(stream ? Framing::kSse : Framing::kWhole) {}

 protected:
  // Gemini has no terminal event: the chunk carrying finishReason is the last.
  Status OnEvent(std::string_view, const json& chunk) override { return Chunk(chunk); }
  Status OnWhole(const json& body) override {
    SW_RETURN_IF_ERROR(Chunk(body));
    done_ = true;
    return Status::Ok();
  }

 private:
  Status Chunk(const json& c) {
    NoteModel(c, "modelVersion");
    NoteId(c, "responseId");
    if (auto e = c.find("error"); e != c.end()) {
      stream_error = e->is_object() ? Str(*e, "message") : e->dump();
      std::string st = e->is_object() ? Str(*e, "status") : "";
      stream_error_retryable = st == "UNAVAILABLE" || st == "RESOURCE_EXHAUSTED" || st == "INTERNAL" ||
                               st == "DEADLINE_EXCEEDED";
      done_ = true;
      return Status::Ok();
    }
    if (auto u = c.find("usageMetadata"); u != c.end() && u->is_object()) SetUsage(GeminiUsage(*u));
    if (auto pf = c.find("promptFeedback"); pf != c.end() && pf->is_object()) {
      if (auto br = Str(*pf, "blockReason"); !br.empty()) {
        // The prompt itself was blocked: no candidate follows.
        response.finish_reason = finish::kContentFilter;
        response.finish_raw = "prompt blocked: " + br;
        done_ = true;
      }
    }
    auto cands = c.find("candidates");
    if (cands == c.end() || !cands->is_array() || cands->empty()) return Status::Ok();
    const json& cand = (*cands)[0];
    if (auto content = cand.find("content"); content != cand.end() && content->is_object()) {
      if (auto parts = content->find("parts"); parts != content->end() && parts->is_array()) {
        for (const auto& p : *parts) {
          if (!p.is_object()) continue;
          if (wire::Bool(p, "thought")) {
            MarkToken();
            continue;
          }
          if (p.contains("text")) EmitText(Str(p, "text"));
          if (auto fc = p.find("functionCall"); fc != p.end() && fc->is_object()) {
            int64_t i = next_tool_++;
            ToolCall& t = Tool(i);
            t.name = Str(*fc, "name");
            t.arguments_json = fc->contains("args") ? (*fc)["args"].dump() : "{}";
            t.id = Str(*fc, "id");
            if (t.id.empty()) t.id = wire::CallId(t.name, t.arguments_json, i);
            // Gemini 3 rejects a follow-up request whose function calls lack their signature.
            t.provider_data = Str(p, "thoughtSignature");
          }
        }
      }
    }
    if (auto fr = Str(cand, "finishReason"); !fr.empty()) {
      response.finish_reason = FinishReason(fr);
      response.finish_raw = fr;
      done_ = true;
    }
    return Status::Ok();
  }
  int64_t next_tool_ = 0;
};

class Gemini : public wire::Api<GeminiDecoder> {
 public:
  Result<net::ClientRequest> Build(const Request& r, const ProviderConfig& c) const override {
    json contents = json::array();
    std::map<std::string, std::string> call_names;  // tool_call_id -> function name
    for (const auto& m : r.messages) {
      if (m.role == "system") continue;
      if (m.role == "tool") {
        // functionResponse.response must be an object: JSON objects go as they are.
        json result = json::parse(m.content, nullptr, false);
        if (result.is_discarded() || !result.is_object()) result = json{{"result", m.content}};
        json part{{"functionResponse", {{"name", call_names[m.tool_call_id]}, {"response", result}}}};
        if (!contents.empty() && contents.back()["role"] == "user" &&
            contents.back()["parts"].back().contains("functionResponse")) {
          contents.back()["parts"].push_back(part);
        } else {
          contents.push_back(json{{"role", "user"}, {"parts", json::array({part})}});
        }
        continue;
      }
      json parts = json::array();
      if (!m.content.empty() || m.tool_calls.empty()) parts.push_back(json{{"text", m.content}});
      for (const auto& tc : m.tool_calls) {
        call_names[tc.id] = tc.name;
        json part{{"functionCall", {{"name", tc.name}, {"args", ToolArguments(tc.arguments_json)}}}};
        if (!tc.provider_data.empty()) part["thoughtSignature"] = tc.provider_data;
        parts.push_back(std::move(part));
      }
      contents.push_back(json{{"role", m.role == "assistant" ? "model" : "user"}, {"parts", parts}});
    }
    json body{{"contents", contents}};
    if (auto sys = wire::SystemText(r); !sys.empty())
      body["systemInstruction"] = json{{"parts", json::array({json{{"text", sys}}})}};
    if (!r.tools.empty()) {
      json decls = json::array();
      for (const auto& t : r.tools) {
        json d{{"name", t.name}, {"description", t.description}};
        if (!t.parameters_json.empty()) {
          SW_ASSIGN_OR_RETURN(d["parameters"], wire::Schema(t));
        }
        decls.push_back(d);
      }
      body["tools"] = json::array({json{{"functionDeclarations", decls}}});
    }
    json gen = json::object();
    if (r.temperature) gen["temperature"] = *r.temperature;
    if (r.max_tokens > 0) gen["maxOutputTokens"] = r.max_tokens;
    if (!r.stop.empty()) gen["stopSequences"] = r.stop;
    if (r.json_output) gen["responseMimeType"] = "application/json";
    if (!gen.empty()) body["generationConfig"] = gen;
    // The key goes in a header, never in the URL, so it cannot leak through error texts.
    return wire::Post(c, "/v1beta/models/" + r.model + (c.stream ? ":streamGenerateContent?alt=sse" : ":generateContent"),
                      "x-goog-api-key", c.api_key, body);
  }
};

}  // namespace

std::unique_ptr<WireApi> NewGemini() { return std::make_unique<Gemini>(); }

}  // namespace sw::llm
