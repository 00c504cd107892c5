#include "cli/recordings.h"

#include <map>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "observe/observe.h"

namespace sw::cli {

using json = nlohmann::json;

Result<GatheredRecordings> GatherRecordings(store::Store* st, const std::string& run_id) {
  GatheredRecordings g;
  auto& recordings = *g.recordings;
  std::vector<std::string> sources;
  for (std::string at = run_id; !at.empty() && sources.size() < 32;) {
    auto rr = st->GetRun(at);
    if (!rr.ok() || !*rr) break;
    sources.push_back(at);
    SW_ASSIGN_OR_RETURN(auto subs, st->ListSubRuns(at));
    for (const auto& sub : subs) sources.push_back(sub.id);
    json o = json::parse((*rr)->options_json, nullptr, false);
    at = o.is_object() && o.contains("replay") && o["replay"].is_object() ? o["replay"].value("of", "") : "";
  }
  for (const auto& src : sources) {
    SW_ASSIGN_OR_RETURN(auto calls, st->ListLlmCalls(src));
    for (const auto& c : calls) {
      g.providers.insert(c.provider);
      g.models.insert(c.provider + "/" + c.model);
      if (c.request_hash.empty()) {
        ++g.unmatched;
        continue;
      }
      llm::Recording r;
      r.ok = c.status == "ok" && !c.reply_blob.empty();
      r.error = c.error;
      if (r.ok) {
        auto blob = st->GetBlob(c.reply_blob);
        if (!blob.ok()) return blob.status().Annotate("recorded reply of node " + c.node);
        auto resp = llm::ParseReply(*blob);
        if (!resp.ok()) return resp.status().Annotate("recorded reply of node " + c.node);
        r.response = std::move(resp).value();
      }
      recordings[c.request_hash].push_back(std::move(r));
      ++g.recorded;
    }
    // Answers the run took from the cache (no call was made) are recordings too: the
    // cache_hit and cached agent_turn events carry the request's fingerprint.
    std::map<std::tuple<std::string, int, int>, std::string> outputs;
    for (const char* type : {"node_succeeded", "item_succeeded"}) {
      SW_ASSIGN_OR_RETURN(auto ev, st->ListEventsOfType(src, type));
      for (const auto& e : ev)
        outputs[{e.node, e.iteration, std::string(type) == "item_succeeded" ? e.item : -1}] = observe::BlobOf(e.data);
    }
    SW_ASSIGN_OR_RETURN(auto hits, st->ListEventsOfType(src, "cache_hit"));
    for (const auto& e : hits) {
      json d = json::parse(e.data, nullptr, false);
      std::string fp = d.is_object() && d.contains("request_hash") && d["request_hash"].is_string()
                           ? d["request_hash"].get<std::string>() : "";
      auto out = outputs.find({e.node, e.iteration, e.item});
      if (fp.empty() || out == outputs.end()) continue;
      auto blob = st->GetBlob(out->second);
      if (!blob.ok()) continue;
      llm::Recording r;
      r.ok = true;
      r.response.text = *blob;
      if (e.item >= 0) {  // a map item's blob is its JSON value
        json v = json::parse(*blob, nullptr, false);
        if (v.is_string()) r.response.text = v.get<std::string>();
      }
      recordings[fp].push_back(std::move(r));
      ++g.recorded;
    }
    SW_ASSIGN_OR_RETURN(auto turns, st->ListEventsOfType(src, "agent_turn"));
    for (const auto& e : turns) {
      json d = json::parse(e.data, nullptr, false);
      if (!d.is_object() || !d.value("cached", false) || !d.contains("request_hash") || !d["request_hash"].is_string())
        continue;
      llm::Recording r;
      r.ok = true;
      r.response.text = d.contains("text") && d["text"].is_string() ? d["text"].get<std::string>() : "";
      if (d.contains("tool_calls") && d["tool_calls"].is_array())
        for (const auto& tc : d["tool_calls"]) {
          if (!tc.is_object()) continue;
          auto str = [&](const char* k) { return tc.contains(k) && tc[k].is_string() ? tc[k].get<std::string>() : ""; };
          r.response.tool_calls.push_back(llm::ToolCall{str("id"), str("name"), str("arguments"), str("provider_data")});
        }
      recordings[d["request_hash"].get<std::string>()].push_back(std::move(r));
      ++g.recorded;
    }
  }
  return g;
}

}  // namespace sw::cli
