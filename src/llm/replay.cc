#include "llm/replay.h"

#include <nlohmann/json.hpp>

#include "base/hash.h"

namespace sw::llm {

using json = nlohmann::json;

std::string RequestFingerprint(const Request& r) {
  Hasher h;
  h.Add("replay-v1").Add(r.node_id).Add(std::to_string(r.iteration)).Add(std::to_string(r.item));
  h.Add(std::to_string(r.turn)).Add(r.provider).Add(r.model);
  for (const auto& m : r.messages) {
    h.Add(m.role).Add(m.content).Add(m.tool_call_id).Add(std::to_string(m.tool_calls.size()));
    for (const auto& tc : m.tool_calls) h.Add(tc.id).Add(tc.name).Add(tc.arguments_json).Add(tc.provider_data);
  }
  h.Add(std::to_string(r.tools.size()));
  for (const auto& t : r.tools) h.Add(t.name).Add(t.description).Add(t.parameters_json);
  h.Add(r.temperature ? std::to_string(*r.temperature) : "-");
  h.Add(std::to_string(r.stop.size()));
  for (const auto& s : r.stop) h.Add(s);
  h.Add(r.json_output ? "json" : "text");
  return h.HexDigest();
}

std::string ReplyJson(const Response& r) {
  json calls = json::array();
  for (const auto& tc : r.tool_calls)
    calls.push_back({{"id", tc.id}, {"name", tc.name}, {"arguments", tc.arguments_json}, {"provider_data", tc.provider_data}});
  json u{{"input", r.usage.input},
         {"output", r.usage.output},
         {"cached_read", r.usage.cached_read},
         {"cache_write", r.usage.cache_write},
         {"reasoning", r.usage.reasoning}};
  json j{{"text", r.text}, {"tool_calls", calls}, {"usage", u}, {"finish_reason", r.finish_reason}};
  if (!r.finish_raw.empty() && r.finish_raw != r.finish_reason) j["finish_raw"] = r.finish_raw;
  if (!r.refusal.empty()) j["refusal"] = r.refusal;
  if (!r.usage_known) j["usage_known"] = false;
  if (!r.model.empty()) j["model"] = r.model;
  return j.dump();
}

Result<Response> ParseReply(const std::string& reply_json) {
  try {
    json j = json::parse(reply_json);
    Response r;
    r.text = j.at("text").get<std::string>();
    for (const auto& tc : j.value("tool_calls", json::array()))
      r.tool_calls.push_back(ToolCall{tc.value("id", ""), tc.value("name", ""), tc.value("arguments", ""),
                                      tc.value("provider_data", "")});
    json u = j.value("usage", json::object());
    r.usage.input = u.value("input", int64_t{0});
    r.usage.output = u.value("output", int64_t{0});
    r.usage.cached_read = u.value("cached_read", int64_t{0});
    r.usage.cache_write = u.value("cache_write", int64_t{0});
    r.usage.reasoning = u.value("reasoning", int64_t{0});
    r.finish_reason = j.value("finish_reason", "");
    r.finish_raw = j.value("finish_raw", "");
    r.refusal = j.value("refusal", "");
    r.usage_known = j.value("usage_known", true);
    r.model = j.value("model", "");
    r.raw = reply_json;
    return r;
  } catch (const json::exception& e) {
    return InvalidInput(std::string("recorded reply is not valid: ") + e.what());
  }
}

void ReplayProvider::Start(const Request& request, CancelFlag, DeltaFn on_delta, DoneFn done) {
  std::string fp = RequestFingerprint(request);
  std::string where = "node \"" + request.node_id + "\" (iteration " + std::to_string(request.iteration) +
                      (request.item >= 0 ? ", item " + std::to_string(request.item) : "") +
                      (request.turn > 0 ? ", turn " + std::to_string(request.turn) : "") + ")";
  CallResult r;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = recordings_->find(fp);
    if (it == recordings_->end() || it->second.empty()) {
      r.error.status = NotFound("offline replay: run " + source_run_ + " has no recorded response for " + where +
                                ": the request differs from every recorded one (changed prompt, input or model?)");
    } else {
      std::vector<const Recording*> answers;
      for (const auto& rec : it->second)
        if (rec.ok) answers.push_back(&rec);
      if (answers.empty()) {
        r.error.status = Failed("offline replay of " + where + ": the recorded call failed: " + it->second.back().error);
      } else {
        size_t& i = next_[fp];
        r.response = answers[std::min(i, answers.size() - 1)]->response;
        ++i;
      }
    }
  }
  r.error.retryable = false;
  if (r.response && on_delta) on_delta(r.response->text);
  done(std::move(r));
}

}  // namespace sw::llm
