// trace, debug and cost: reports over one run's rows and events.
#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <tuple>

#include "base/strings.h"
#include "observe/internal.h"

namespace sw::observe {
namespace {

json EventData(const store::Event& e) {
  json d = json::parse(e.data, nullptr, false);
  return d.is_object() ? d : json::object();
}

std::vector<Bucket> Sorted(std::map<std::string, Bucket>& m) {
  std::vector<Bucket> v;
  v.reserve(m.size());
  for (auto& [k, b] : m) {
    b.key = k;
    v.push_back(std::move(b));
  }
  std::stable_sort(v.begin(), v.end(), [](const Bucket& a, const Bucket& b) { return a.usd > b.usd; });
  return v;
}

void WriteBuckets(JsonWriter& w, const char* key, const std::vector<Bucket>& v) {
  w.Key(key).BeginArray();
  for (const auto& b : v) WriteBucket(w, b);
  w.EndArray();
}

std::string Day(double unix_seconds) { return LocalTime(unix_seconds, "%Y-%m-%d"); }

}  // namespace

Result<TraceReport> Trace(store::Store* st, const std::string& run_id, const std::string& node) {
  TraceReport r;
  SW_ASSIGN_OR_RETURN(r.run, RunOrError(st, run_id));
  r.node = node;
  if (node.empty()) {
    SW_ASSIGN_OR_RETURN(r.rows, st->ListNodeRuns(run_id));
  } else {
    SW_ASSIGN_OR_RETURN(r.rows, st->ListNodeRunsOf(run_id, node));
    if (r.rows.empty()) return NotFound("run " + run_id + " has no node \"" + node + "\" that ran");
  }
  r.start = r.run.created_at;
  r.end = r.run.finished_at;
  for (const auto& row : r.rows) r.end = std::max(r.end, row.finished_at);
  if (r.end <= 0) r.end = static_cast<double>(std::time(nullptr));
  if (node.empty()) return r;
  SW_ASSIGN_OR_RETURN(r.calls, st->ListLlmCallsOf(run_id, node));
  SW_ASSIGN_OR_RETURN(auto events, st->ListNodeEvents(run_id, node));
  std::map<std::tuple<int, int, std::string>, size_t> open;
  for (const auto& e : events) {
    if (e.type == "node_succeeded") {
      r.output_blob = BlobOf(e.data);
    } else if (e.type == "tool_call") {
      json d = EventData(e);
      ToolCallRow t;
      t.turn = d.value("turn", 0);
      t.item = e.item;
      t.attempt = e.attempt;
      t.call_id = d.value("call_id", "");
      t.name = d.value("name", "");
      t.tool = d.value("tool", "");
      t.arguments = d.contains("arguments") ? d["arguments"].dump() : "null";
      t.started_at = e.ts;
      open[{e.item, e.attempt, t.call_id}] = r.tool_calls.size();
      r.tool_calls.push_back(std::move(t));
    } else if (e.type == "tool_result") {
      json d = EventData(e);
      auto it = open.find({e.item, e.attempt, d.value("call_id", "")});
      if (it == open.end()) continue;
      ToolCallRow& t = r.tool_calls[it->second];
      t.finished_at = e.ts;
      t.ok = d.value("ok", false);
      t.bytes = d.value("bytes", int64_t{0});
      t.preview = d.value("preview", "");
      t.result_blob = d.value("blob", "");
    }
  }
  return r;
}

std::string ToJson(const TraceReport& r) {
  JsonWriter w;
  w.BeginObject().Key("run");
  WriteRun(w, r.run);
  w.Field("start", r.start).Field("end", r.end).Key("rows").BeginArray();
  for (const auto& x : r.rows)
    WriteNodeRun(w, x);
  w.EndArray();
  if (!r.node.empty()) {
    w.Key("calls").BeginArray();
    for (const auto& c : r.calls) {
      WriteCallHead(w, c);
      w.Field("tokens_in", c.tokens_in)
          .Field("tokens_out", c.tokens_out)
          .Field("tokens_cached_read", c.tokens_cached_read)
          .Field("tokens_cache_write", c.tokens_cache_write)
          .Field("tokens_reasoning", c.tokens_reasoning)
          .Key("cost_usd");
      c.cost_usd ? w.Double(*c.cost_usd) : w.Null();
      w.Field("request_blob", c.request_blob).Field("reply_blob", c.reply_blob).Field("response_blob", c.response_blob).EndObject();
    }
    w.EndArray().Key("tool_calls").BeginArray();
    for (const auto& t : r.tool_calls) {
      w.BeginObject()
          .Field("turn", t.turn)
          .Field("item", t.item)
          .Field("attempt", t.attempt)
          .Field("call_id", t.call_id)
          .Field("name", t.name)
          .Field("tool", t.tool)
          .Key("arguments")
          .Raw(t.arguments)
          .Field("started_at", t.started_at);
      if (t.finished_at > 0)
        w.Field("finished_at", t.finished_at).Field("ok", t.ok).Field("bytes", t.bytes).Field("preview", t.preview).Field("result_blob", t.result_blob);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return w.Take();
}

Result<json> Debug(store::Store* st, const std::string& run_id, const std::string& only) {
  SW_ASSIGN_OR_RETURN(auto run, RunOrError(st, run_id));
  SW_ASSIGN_OR_RETURN(auto failed_ev, st->ListEventsOfType(run_id, "node_failed"));
  SW_ASSIGN_OR_RETURN(auto skipped_ev, st->ListEventsOfType(run_id, "node_skipped"));
  // Who took whom down: a skip's reason names the dependency that failed or was skipped.
  std::map<std::string, std::vector<json>> skipped_by;
  for (const auto& e : skipped_ev) {
    json d = EventData(e);
    std::string reason = d.value("reason", "");
    size_t q1 = reason.find('"'), q2 = q1 == std::string::npos ? q1 : reason.find('"', q1 + 1);
    if (q1 != std::string::npos && q2 != std::string::npos && reason.rfind("dependency", 0) == 0)
      skipped_by[reason.substr(q1 + 1, q2 - q1 - 1)].push_back({{"node", e.node}, {"reason", reason}});
  }
  auto blob_text = [&](const std::string& hash, size_t max) -> std::string {
    if (hash.empty()) return "";
    auto b = st->GetBlob(hash);
    return b.ok() ? Clip(*b, max) : "";
  };
  // The last word on a node from its own events (a resumed run may have succeeded later).
  struct Final {
    std::string type;
    json data;
  };
  auto final_of = [&](const std::vector<store::Event>& events) {
    Final f;
    for (const auto& e : events)
      if (e.type == "node_succeeded" || e.type == "node_failed" || e.type == "node_skipped") f = {e.type, EventData(e)};
    return f;
  };
  json defs = nullptr;
  bool defs_loaded = false;

  std::vector<std::string> detailed;  // nodes that get the whole post-mortem
  if (!only.empty()) {
    detailed.push_back(only);
  } else {
    std::set<std::string> seen;
    for (const auto& e : failed_ev)
      if (seen.insert(e.node).second) detailed.push_back(e.node);
  }
  json nodes = json::array();
  std::set<std::string> listed;
  for (const auto& n : detailed) {
    SW_ASSIGN_OR_RETURN(auto events, st->ListNodeEvents(run_id, n));
    SW_ASSIGN_OR_RETURN(auto rows, st->ListNodeRunsOf(run_id, n));
    if (!only.empty() && events.empty() && rows.empty())
      return NotFound("run " + run_id + " has no node \"" + n + "\" that started or was skipped");
    Final f = final_of(events);
    if (only.empty() && f.type != "node_failed") continue;  // failed, then resumed to success
    listed.insert(n);
    json j{{"node", n}};
    j["status"] = f.type == "node_failed" ? "failed" : f.type == "node_skipped" ? "skipped"
                  : f.type == "node_succeeded"                                  ? "succeeded"
                                                                                : "not finished";
    if (f.type == "node_failed") j["error"] = f.data.value("error", "");
    if (f.type == "node_skipped") j["reason"] = f.data.value("reason", ""), j["by_failure"] = f.data.value("by_failure", false);
    if (!defs_loaded) defs = Definitions(st, run_id, &detailed), defs_loaded = true;
    if (defs.is_object() && defs.contains(n)) {
      j["kind"] = defs[n].value("kind", "");
      j["model"] = defs[n].value("model", "");
    }
    json attempts = json::array();
    for (const auto& r : rows)
      if (r.status != "skipped")
        attempts.push_back({{"iteration", r.iteration}, {"item", r.item}, {"attempt", r.attempt}, {"status", r.status},
                            {"error", r.error}, {"started_at", r.started_at}, {"finished_at", r.finished_at}});
    j["attempts"] = attempts;
    SW_ASSIGN_OR_RETURN(auto calls, st->ListLlmCallsOf(run_id, n));
    json cj = json::array();
    for (const auto& c : calls)
      cj.push_back({{"attempt", c.attempt}, {"item", c.item}, {"iteration", c.iteration}, {"status", c.status},
                    {"error", c.error}, {"provider", c.provider}, {"model", c.model}, {"latency_ms", c.latency_ms}});
    j["calls"] = cj;
    json rj = json::array();
    for (const auto& e : events) {
      if (e.type == "retry_scheduled") {
        json rd = EventData(e);
        rj.push_back({{"after_attempt", e.attempt}, {"delay_s", rd.value("delay", 0.0)}, {"error", rd.value("error", "")}});
      } else if (e.type == "budget_refused") {
        j["budget_refused"] = EventData(e).value("reason", "");
      }
    }
    j["retries"] = rj.size();
    j["retry_schedule"] = rj;
    if (!calls.empty()) {
      const auto& last = calls.back();
      auto req = st->GetBlob(last.request_blob);
      json prompt = json::array();
      if (req.ok())
        for (const auto& m : ExtractMessages(*req)) prompt.push_back({{"role", m.role}, {"text", Clip(m.text, 8000)}});
      j["prompt"] = prompt;
      j["last_output"] = last.reply_blob.empty() ? blob_text(last.response_blob, 4000)
                                                 : Clip(ReplyText(blob_text(last.reply_blob, 1 << 20)), 4000);
    }
    json inputs = json::array();
    if (defs.is_object() && defs.contains(n))
      for (const auto& need : defs[n].contains("needs") && defs[n]["needs"].is_array() ? defs[n]["needs"] : json::array()) {
        if (!need.is_string()) continue;
        std::string id = need.get<std::string>();
        SW_ASSIGN_OR_RETURN(auto up, st->ListNodeEvents(run_id, id));
        Final uf = final_of(up);
        std::string blob;
        for (const auto& e : up)
          if (e.type == "node_succeeded") blob = BlobOf(e.data);
        inputs.push_back({{"node", id},
                          {"status", uf.type == "node_succeeded" ? "succeeded" : uf.type == "node_failed" ? "failed"
                                                                : uf.type == "node_skipped"  ? "skipped"
                                                                                             : "not finished"},
                          {"output", blob_text(blob, 2000)}});
      }
    j["inputs"] = inputs;
    j["skipped_dependents"] = skipped_by.count(n) ? json(skipped_by[n]) : json::array();
    nodes.push_back(std::move(j));
  }
  // Skipped nodes never ran: what they need said is why (the last skip of each).
  if (only.empty()) {
    std::map<std::string, const store::Event*> last_skip;
    std::vector<std::string> order;
    for (const auto& e : skipped_ev) {
      if (!last_skip.count(e.node)) order.push_back(e.node);
      last_skip[e.node] = &e;
    }
    for (const auto& n : order) {
      if (listed.count(n)) continue;
      json d = EventData(*last_skip[n]);
      nodes.push_back({{"node", n}, {"status", "skipped"}, {"reason", d.value("reason", "")},
                       {"by_failure", d.value("by_failure", false)}});
    }
  }
  json runj = json::parse([&] {
    JsonWriter w;
    WriteRun(w, run);
    return w.Take();
  }());
  return json{{"run", runj}, {"nodes", nodes}};
}

Result<CostReport> RunCost(store::Store* st, const std::string& run_id) {
  CostReport rep;
  SW_ASSIGN_OR_RETURN(rep.run, RunOrError(st, run_id));
  SW_ASSIGN_OR_RETURN(auto subs, st->ListSubRuns(rep.run.id));
  rep.sub_runs = static_cast<int64_t>(subs.size());
  std::vector<store::RunRecord> all{rep.run};
  all.insert(all.end(), subs.begin(), subs.end());
  std::map<std::string, Bucket> by_node, by_model, by_provider;
  for (const auto& r : all) {
    SW_ASSIGN_OR_RETURN(auto calls, st->ListLlmCalls(r.id));
    std::string prefix = r.id == rep.run.id ? "" : r.workflow_name + "/";
    for (const auto& c : calls) {
      rep.total.Add(c);
      by_node[prefix + c.node].Add(c);
      by_model[c.provider + "/" + c.model].Add(c);
      by_provider[c.provider].Add(c);
    }
  }
  rep.by_node = Sorted(by_node);
  rep.by_model = Sorted(by_model);
  rep.by_provider = Sorted(by_provider);
  rep.total.key = "total";
  SW_ASSIGN_OR_RETURN(auto started, st->ListEventsOfType(run_id, "run_started"));
  if (!started.empty()) {
    json b = EventData(started.front()).value("budget", json::object());
    if (b.contains("max_usd") && b["max_usd"].is_number()) rep.max_usd = b["max_usd"].get<double>();
    if (b.contains("max_tokens") && b["max_tokens"].is_number()) rep.max_tokens = b["max_tokens"].get<int64_t>();
    int64_t calls = b.contains("max_calls") ? b.value("max_calls", int64_t{0}) : b.value("max_calls_default", int64_t{0});
    if (calls > 0) rep.max_calls = calls;
  }
  return rep;
}

std::string ToJson(const CostReport& r) {
  JsonWriter w;
  w.BeginObject().Key("run");
  WriteRun(w, r.run);
  w.Field("sub_runs", r.sub_runs).Key("total");
  WriteBucket(w, r.total);
  WriteBuckets(w, "by_node", r.by_node);
  WriteBuckets(w, "by_model", r.by_model);
  WriteBuckets(w, "by_provider", r.by_provider);
  w.Key("budget").BeginObject();
  if (r.max_usd) {
    w.Field("max_usd", *r.max_usd).Field("left_usd", std::max(0.0, *r.max_usd - r.total.usd));
    w.Field("used_fraction", *r.max_usd > 0 ? r.total.usd / *r.max_usd : 0.0);
  }
  if (r.max_tokens)
    w.Field("max_tokens", *r.max_tokens).Field("left_tokens", std::max<int64_t>(0, *r.max_tokens - r.total.input - r.total.output));
  if (r.max_calls) w.Field("max_calls", *r.max_calls).Field("left_calls", std::max<int64_t>(0, *r.max_calls - r.total.calls));
  w.EndObject().EndObject();
  return w.Take();
}

Result<CostSinceReport> CostSince(store::Store* st, double since) {
  CostSinceReport rep;
  rep.since = since;
  SW_ASSIGN_OR_RETURN(auto runs, st->ListRunsSince(since));
  SW_ASSIGN_OR_RETURN(auto calls, st->ListLlmCallsSince(since));
  std::map<std::string, const store::RunRecord*> run_of;
  for (const auto& r : runs) run_of[r.id] = &r;
  // Sub-run spend counts towards the top-level run it belongs to.
  auto top = [&](std::string id) {
    for (int guard = 0; guard < 64; ++guard) {
      auto it = run_of.find(id);
      if (it == run_of.end() || it->second->parent_id.empty()) return id;
      id = it->second->parent_id;
    }
    return id;
  };
  // A call in the window may belong to a run started before it: look those runs up too.
  std::vector<store::RunRecord> earlier;
  std::set<std::string> looked;
  for (const auto& c : calls)
    if (!run_of.count(c.run_id) && looked.insert(c.run_id).second) {
      auto r = st->GetRun(c.run_id);
      if (r.ok() && *r) {
        earlier.push_back(**r);
        run_of[c.run_id] = nullptr;  // placeholder until the vector stops growing
      }
    }
  for (const auto& r : earlier) run_of[r.id] = &r;
  for (auto it = run_of.begin(); it != run_of.end();) it = it->second ? std::next(it) : run_of.erase(it);
  std::map<std::string, Bucket> by_model, by_provider, by_workflow, by_day, by_run, by_session;
  for (const auto& c : calls) {
    rep.total.Add(c);
    by_model[c.provider + "/" + c.model].Add(c);
    by_provider[c.provider].Add(c);
    by_day[Day(c.started_at)].Add(c);
    std::string t = top(c.run_id);
    by_run[t].Add(c);
    auto it = run_of.find(t);
    by_workflow[it == run_of.end() ? "(deleted run)" : it->second->workflow_name].Add(c);
    if (it != run_of.end() && !it->second->session.empty()) by_session[it->second->session].Add(c);
  }
  rep.total.key = "total";
  for (auto& [d, b] : by_day) {
    b.key = d;
    rep.by_day.push_back(b);
  }
  for (const auto& r : runs) {
    if (!r.parent_id.empty()) continue;
    RunSpend s{r, by_run.count(r.id) ? by_run[r.id] : Bucket{}};
    s.spend.key = r.id;
    rep.runs.push_back(std::move(s));
  }
  rep.by_model = Sorted(by_model);
  rep.by_provider = Sorted(by_provider);
  rep.by_workflow = Sorted(by_workflow);
  rep.by_session = Sorted(by_session);
  return rep;
}

std::string ToJson(const CostSinceReport& r) {
  JsonWriter w;
  w.BeginObject().Field("since", r.since).Key("total");
  WriteBucket(w, r.total);
  w.Key("runs").BeginArray();
  for (const auto& s : r.runs) {
    w.BeginObject().Field("id", s.run.id).Field("workflow", s.run.workflow_name).Field("status", s.run.status);
    w.Field("created_at", s.run.created_at).Key("spend");
    WriteBucket(w, s.spend);
    w.EndObject();
  }
  w.EndArray();
  WriteBuckets(w, "by_model", r.by_model);
  WriteBuckets(w, "by_provider", r.by_provider);
  WriteBuckets(w, "by_workflow", r.by_workflow);
  WriteBuckets(w, "by_session", r.by_session);
  WriteBuckets(w, "by_day", r.by_day);
  w.EndObject();
  return w.Take();
}

}  // namespace sw::observe
