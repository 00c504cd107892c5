#include <cstdio>
#include <ctime>
#include <map>
#include <string_view>
#include <unordered_map>
#include <set>

#include "base/hash.h"
#include "observe/internal.h"

namespace sw::observe {
namespace {

std::string PartsText(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (!content.is_array()) return out;
  for (const auto& p : content) {
    std::string t;
    if (p.is_string()) t = p.get<std::string>();
    else if (p.is_object() && p.contains("text") && p["text"].is_string()) t = p["text"].get<std::string>();
    else if (p.is_object() && p.contains("content") && p["content"].is_string()) t = p["content"].get<std::string>();
    else if (p.is_object() && p.contains("functionCall")) t = "[tool call] " + p["functionCall"].dump();
    else if (p.is_object() && p.contains("functionResponse")) t = "[tool result] " + p["functionResponse"].dump();
    else if (p.is_object() && p.value("type", "") == "tool_use") t = "[tool call] " + p.value("name", "") + " " + p.value("input", json::object()).dump();
    else if (p.is_object() && p.value("type", "") == "tool_result") t = "[tool result] " + PartsText(p.value("content", json()));
    if (t.empty()) continue;
    if (!out.empty()) out += "\n";
    out += t;
  }
  return out;
}

}  // namespace

std::vector<Message> ExtractMessages(const std::string& body) {
  std::vector<Message> out;
  json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return out;
  auto system = [&](const json& v) {
    std::string t = v.is_object() && v.contains("parts") ? PartsText(v["parts"]) : PartsText(v);
    if (!t.empty()) out.push_back({"system", t});
  };
  if (j.contains("system")) system(j["system"]);                       // Anthropic
  if (j.contains("systemInstruction")) system(j["systemInstruction"]);  // Gemini
  if (j.contains("instructions")) system(j["instructions"]);            // OpenAI Responses
  auto turns = [&](const json& arr) {
    if (!arr.is_array()) return;
    for (const auto& m : arr) {
      if (!m.is_object()) continue;
      std::string role = m.value("role", m.value("type", ""));
      std::string t = m.contains("parts") ? PartsText(m["parts"]) : PartsText(m.value("content", json()));
      if (m.contains("tool_calls") && m["tool_calls"].is_array())
        for (const auto& tc : m["tool_calls"]) t += (t.empty() ? "" : "\n") + std::string("[tool call] ") + tc.dump();
      if (m.contains("output") && m["output"].is_string()) t = m["output"].get<std::string>();  // Responses tool output
      out.push_back({role, t});
    }
  };
  if (j.contains("messages")) turns(j["messages"]);  // OpenAI chat, Anthropic, Ollama, neutral
  if (j.contains("contents")) turns(j["contents"]);  // Gemini
  if (j.contains("input")) {                           // OpenAI Responses
    if (j["input"].is_string()) out.push_back({"user", j["input"].get<std::string>()});
    else turns(j["input"]);
  }
  return out;
}

std::string ReplyText(const std::string& reply_json) {
  json j = json::parse(reply_json, nullptr, false);
  if (!j.is_object()) return "";
  std::string t = j.value("text", "");
  for (const auto& tc : j.value("tool_calls", json::array()))
    t += (t.empty() ? "" : "\n") + std::string("[tool call] ") + tc.value("name", "") + " " + tc.value("arguments", "");
  return t;
}

std::string Clip(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "\n... (" + std::to_string(s.size() - cut) + " more bytes)";
}

Result<store::RunRecord> RunOrError(store::Store* st, const std::string& run_id) {
  SW_ASSIGN_OR_RETURN(auto rec, st->GetRun(run_id));
  if (!rec) return NotFound("no run " + run_id);
  return *rec;
}

std::string BlobOf(const std::string& data) {
  static const std::string kKey = "\"blob\":\"";
  size_t at = data.find(kKey);
  if (at == std::string::npos || at + kKey.size() + 32 > data.size()) return "";
  std::string h = data.substr(at + kKey.size(), 32);
  return IsHexDigest(h) && data[at + kKey.size() + 32] == '"' ? h : "";
}

Result<std::vector<std::pair<std::string, std::string>>> FinalOutputs(store::Store* st, const std::string& run_id) {
  SW_ASSIGN_OR_RETURN(auto events, st->ListEventsOfType(run_id, "node_succeeded"));
  std::unordered_map<std::string_view, std::pair<size_t, int>> at;  // node -> (index, iteration)
  at.reserve(events.size());
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(events.size());
  for (const auto& e : events) {
    auto it = at.find(e.node);  // the views point into events, which outlive the map
    if (it == at.end()) {
      at.emplace(e.node, std::make_pair(out.size(), e.iteration));
      out.emplace_back(e.node, BlobOf(e.data));
    } else if (e.iteration >= it->second.second) {
      it->second.second = e.iteration;
      out[it->second.first].second = BlobOf(e.data);
    }
  }
  return out;
}

void WriteRun(JsonWriter& w, const store::RunRecord& r) {
  w.BeginObject()
      .Field("id", r.id)
      .Field("parent", r.parent_id)
      .Field("workflow", r.workflow_name)
      .Field("file", r.workflow_file)
      .Field("status", r.status)
      .Field("session", r.session)
      .Field("label", r.label)
      .Field("error", r.error)
      .Field("created_at", r.created_at)
      .Field("finished_at", r.finished_at)
      .Field("tokens_in", r.tokens_in)
      .Field("tokens_out", r.tokens_out)
      .Field("calls", r.calls)
      .Field("cost_usd", r.cost_usd)
      .Field("cost_known", !r.cost_unknown)
      .Field("nodes_total", r.nodes_total)
      .Field("nodes_succeeded", r.nodes_succeeded)
      .Field("nodes_failed", r.nodes_failed)
      .Field("nodes_skipped", r.nodes_skipped)
      .EndObject();
}

void WriteNodeRun(JsonWriter& w, const store::NodeRunRecord& x) {
  w.BeginObject()
      .Field("node", x.node)
      .Field("iteration", x.iteration)
      .Field("item", x.item)
      .Field("attempt", x.attempt)
      .Field("status", x.status)
      .Field("started_at", x.started_at)
      .Field("finished_at", x.finished_at)
      .Field("tokens", x.tokens_in + x.tokens_out)
      .Field("tokens_in", x.tokens_in)
      .Field("tokens_out", x.tokens_out)
      .Field("calls", x.calls)
      .Field("cost_usd", x.cost_usd)
      .Field("cost_known", !x.cost_unknown)
      .Field("cached", x.cached)
      .Field("model", x.model)
      .Field("error", x.error)
      .EndObject();
}

void WriteCallHead(JsonWriter& w, const store::LlmCallRecord& c) {
  w.BeginObject()
        .Field("id", c.id)
        .Field("iteration", c.iteration)
        .Field("item", c.item)
        .Field("attempt", c.attempt)
        .Field("provider", c.provider)
        .Field("model", c.model)
        .Field("response_model", c.response_model)
        .Field("status", c.status)
        .Field("error", c.error)
        .Field("started_at", c.started_at)
        .Field("latency_ms", c.latency_ms)
        .Field("ttft_ms", c.ttft_ms);
}

void Bucket::Add(const store::LlmCallRecord& c) {
  ++calls;
  input += c.tokens_in;
  output += c.tokens_out;
  cached_read += c.tokens_cached_read;
  cache_write += c.tokens_cache_write;
  reasoning += c.tokens_reasoning;
  if (c.cost_usd) usd += *c.cost_usd;
  else ++unknown;
}

void WriteBucket(JsonWriter& w, const Bucket& b) {
  w.BeginObject().Field("key", b.key).Field("calls", b.calls);
  w.Key("tokens")
      .BeginObject()
      .Field("input", b.input)
      .Field("cached_read", b.cached_read)
      .Field("cache_write", b.cache_write)
      .Field("output", b.output)
      .Field("reasoning", b.reasoning)
      .EndObject();
  w.Field("cost_usd", b.usd).Field("unknown_price_calls", b.unknown).Field("cost_known", b.unknown == 0).EndObject();
}

json Definitions(store::Store* st, const std::string& run_id, const std::vector<std::string>* only) {
  auto ev = st->ListEventsOfType(run_id, "definitions");
  if (!ev.ok() || ev->empty()) return nullptr;
  auto blob = st->GetBlob(BlobOf(ev->back().data));
  if (!blob.ok()) return nullptr;
  json defs;
  if (only) {
    std::set<std::string> keep(only->begin(), only->end());
    defs = json::parse(
        *blob,
        [&](int depth, json::parse_event_t event, json& parsed) {
          return !(depth == 1 && event == json::parse_event_t::key && !keep.count(parsed.get<std::string>()));
        },
        false);
  } else {
    defs = json::parse(*blob, nullptr, false);
  }
  return defs.is_object() ? defs : json(nullptr);
}

Result<double> ParseSince(const std::string& text, double now) {
  if (text.empty()) return InvalidInput("--since needs a value such as 7d, 12h or 2026-11-01");
  char unit = text.back();
  std::string num = text.substr(0, text.size() - 1);
  double mult = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : unit == 'w' ? 7 * 86400 : 0;
  if (mult > 0 && !num.empty() && num.size() <= 9 && num.find_first_not_of("0123456789") == std::string::npos)
    return now - std::stod(num) * mult;
  int y = 0, mo = 0, d = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_isdst = -1;
    return static_cast<double>(std::mktime(&tm));
  }
  return InvalidInput("\"" + text + "\" is not a duration (7d, 12h, 30m, 2w, 0s) or a date (2026-11-01)");
}

}  // namespace sw::observe
