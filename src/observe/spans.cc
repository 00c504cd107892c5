// A run as spans, and its three encodings: OTLP/JSON (GenAI semantic conventions), JSON, CSV.
#include <cmath>
#include <cstdio>
#include <string_view>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/hash.h"
#include "observe/internal.h"

namespace sw::observe {
namespace {

/// SpanId is 16 hex digits of the hash of the run id and a key, so ids are the same in every
/// export of the run; the key is assembled in a reused buffer (20,000 spans per large run).
std::string SpanId(const std::string& run_id, std::string_view kind, std::string_view node = {}, int64_t a = 0,
                   int64_t b = 0, int64_t c = 0) {
  thread_local std::string key;
  key.assign(run_id).append("\n").append(kind);
  if (!node.empty()) key.append("/").append(node);
  char num[64];
  int n = std::snprintf(num, sizeof(num), "/%lld/%lld/%lld", static_cast<long long>(a), static_cast<long long>(b),
                        static_cast<long long>(c));
  key.append(num, static_cast<size_t>(n));
  return Hash128Hex(key).substr(0, 16);
}

std::string NodeSpanId(const std::string& run_id, const std::string& node, int iteration, int item, int attempt) {
  return SpanId(run_id, "node", node, iteration, item, attempt);
}

std::string Status(const std::string& s) {
  if (s == "succeeded" || s == "ok") return "ok";
  if (s == "running" || s == "waiting") return s;
  return "error";
}

/// CallErrorType is a failed model call's class as recorded (llm::ErrorType); for calls recorded
/// before it was (schema version 4), the HTTP status its message starts with, or its status.
std::string CallErrorType(const store::LlmCallRecord& c) {
  if (!c.error_type.empty()) return c.error_type;
  if (c.status == "timeout" || c.status == "cancelled") return c.status;
  if (c.error.size() >= 8 && c.error.rfind("HTTP ", 0) == 0 && std::isdigit(static_cast<unsigned char>(c.error[5])) &&
      std::isdigit(static_cast<unsigned char>(c.error[6])) && std::isdigit(static_cast<unsigned char>(c.error[7])))
    return c.error.substr(5, 3);
  return "_OTHER";
}

/// NodeErrorType classifies a failed node attempt or run from what it recorded: a cancel, a
/// crash, its own timeout, a budget stop, a person's rejection; "" when none of those. The
/// attempt row (node_runs) has no error-kind column and no JSON field to put one in, so the
/// class is read from the engine's own wording (runner.cc "timed out after", budget.cc "call
/// cap" / "budget would be exceeded", launch.cc "rejected by"); recording it would take a
/// migration. When it finds none, the caller takes the class recorded with the attempt's last
/// failed call (llm_calls).
std::string NodeErrorType(const std::string& status, const std::string& error) {
  if (status == "cancelled") return "cancelled";
  if (status == "interrupted") return "interrupted";
  if (error.rfind("timed out after", 0) == 0) return "timeout";
  if (error.find("budget would be exceeded") != std::string::npos || error.find("call cap") != std::string::npos)
    return "budget_exceeded";
  if (error.rfind("rejected by", 0) == 0) return "rejected";
  return "";
}

}  // namespace

Result<SpanSet> CollectSpans(store::Store* st, const std::string& run_id) {
  SpanSet set;
  SW_ASSIGN_OR_RETURN(set.run, RunOrError(st, run_id));
  set.trace_id = Hash128Hex("trace\n" + run_id);
  // (Reading the calls on a second connection at the same time was measured slower: opening
  // and preparing the connection costs more than the overlap saves.)
  auto rows_r = st->ListNodeRuns(run_id);
  auto calls_r = st->ListLlmCalls(run_id);
  if (!rows_r.ok()) return rows_r.status();
  if (!calls_r.ok()) return calls_r.status();
  auto& rows = *rows_r;
  auto& calls = *calls_r;
  SW_ASSIGN_OR_RETURN(auto tool_calls, st->ListEventsOfType(run_id, "tool_call"));
  SW_ASSIGN_OR_RETURN(auto tool_results, st->ListEventsOfType(run_id, "tool_result"));
  std::unordered_set<std::string> agents;
  for (const auto& e : tool_calls) agents.insert(e.node);
  SW_ASSIGN_OR_RETURN(auto turns, st->ListEventsOfType(run_id, "agent_turn"));
  for (const auto& e : turns) agents.insert(e.node);
  const store::RunRecord& run = set.run;
  Span root;
  root.kind = "run";
  root.span_id = SpanId(run_id, "run");
  root.name = "invoke_workflow " + run.workflow_name;
  root.node_kind = "workflow";
  root.start = run.created_at;
  root.end = run.finished_at;
  root.status = Status(run.status);
  root.error = run.error;
  root.tokens_in = run.tokens_in;
  root.tokens_out = run.tokens_out;
  root.cost_usd = run.cost_usd;
  root.cost_known = !run.cost_unknown;

  std::unordered_set<std::string> llm_nodes;
  std::unordered_map<std::string, std::pair<std::string, std::string>> model_of;  // node -> provider, model
  // The node attempt span each call belongs to, and each attempt's last call (its failure, if
  // it failed, is what failed the attempt: the exception is recorded on the call's span).
  std::vector<std::string> call_parent(calls.size());
  std::unordered_map<std::string, const store::LlmCallRecord*> last_call;
  for (size_t i = 0; i < calls.size(); ++i) {
    const auto& c = calls[i];
    if (!c.cost_usd) root.cost_known = false;
    llm_nodes.insert(c.node);
    model_of[c.node] = {c.provider, c.model};
    call_parent[i] = NodeSpanId(run_id, c.node, c.iteration, c.item, c.attempt);
    last_call[call_parent[i]] = &c;
  }

  std::vector<Span>& spans = set.spans;
  spans.reserve(1 + rows.size() + calls.size() + tool_calls.size());
  spans.push_back(Span{});  // the run's own span, filled in last
  for (auto& r : rows) {
    if (r.status == "skipped") continue;
    Span& s = spans.emplace_back();  // built in place; the records' strings are moved, not copied
    s.kind = "node";
    s.span_id = NodeSpanId(run_id, r.node, r.iteration, r.item, r.attempt);
    s.parent_id = root.span_id;
    s.node = r.node;
    s.iteration = r.iteration;
    s.item = r.item;
    s.attempt = r.attempt;
    s.start = r.started_at;
    s.end = r.finished_at;
    s.status = Status(r.status);
    s.error = std::move(r.error);
    s.node_kind = agents.count(r.node) ? "agent" : llm_nodes.count(r.node) || !r.model.empty() ? "llm" : "task";
    if (r.cached) s.node_kind += "+cached";
    auto m = model_of.find(r.node);
    if (m != model_of.end()) s.provider = m->second.first, s.model = m->second.second;
    s.name = (agents.count(r.node) ? "invoke_agent " : "node ") + r.node;
    s.tokens_in = r.tokens_in;
    s.tokens_out = r.tokens_out;
    s.cost_usd = r.cost_usd;
    s.cost_known = !r.cost_unknown;
    if (r.cost_unknown) root.cost_known = false;  // a sub-run's unpriced calls count too
    if (s.status == "error") {
      s.error_type = NodeErrorType(r.status, s.error);
      s.own_error = true;
      auto lc = last_call.find(s.span_id);
      if (s.error_type.empty() && lc != last_call.end() && lc->second->status != "ok") {
        s.error_type = CallErrorType(*lc->second);
        s.own_error = false;
      }
      if (s.error_type.empty()) s.error_type = "_OTHER";
    }
  }
  // Retries: each attempt's span lists the earlier attempts of its node that failed (an
  // attempt is a span of its own; the last one tells why there were others).
  std::unordered_set<std::string> retried_later;  // failed attempts a later attempt took over
  {
    std::map<std::tuple<std::string, int, int>, std::vector<Span*>> attempts;
    for (size_t i = 1; i < spans.size(); ++i)
      if (spans[i].kind == "node") attempts[{spans[i].node, spans[i].iteration, spans[i].item}].push_back(&spans[i]);
    for (auto& [key, list] : attempts) {
      if (list.size() < 2) continue;
      for (Span* s : list)
        for (const Span* f : list)
          if (f->attempt < s->attempt && f->status == "error") {
            s->retried.push_back(Span::Retry{f->attempt, f->span_id, f->error_type, f->error});
            retried_later.insert(f->span_id);
          }
      for (Span* s : list)
        std::sort(s->retried.begin(), s->retried.end(), [](const Span::Retry& a, const Span::Retry& b) { return a.attempt < b.attempt; });
    }
  }
  for (size_t ci = 0; ci < calls.size(); ++ci) {
    auto& c = calls[ci];
    Span& s = spans.emplace_back();
    s.kind = "llm";
    s.span_id = SpanId(run_id, "llm", {}, c.id);
    s.parent_id = std::move(call_parent[ci]);
    s.name = "chat " + c.model;
    s.node = c.node;
    s.iteration = c.iteration;
    s.item = c.item;
    s.attempt = c.attempt;
    s.start = c.started_at;
    s.end = c.started_at + c.latency_ms / 1000.0;
    s.status = c.status == "ok" ? "ok" : c.status;
    if (s.status != "ok") s.error_type = CallErrorType(c), s.own_error = true;
    s.error = std::move(c.error);
    s.response_id = std::move(c.response_id);
    s.finish_reason = std::move(c.finish_reason);
    s.max_tokens = c.max_tokens;
    s.temperature = c.temperature;
    s.ttft_ms = c.ttft_ms;
    s.provider = std::move(c.provider);
    s.model = std::move(c.model);
    s.response_model = std::move(c.response_model);
    s.tokens_in = c.tokens_in;
    s.tokens_out = c.tokens_out;
    s.cached_read = c.tokens_cached_read;
    s.cache_write = c.tokens_cache_write;
    s.reasoning = c.tokens_reasoning;
    s.cost_known = c.cost_usd.has_value();
    s.cost_usd = c.cost_usd.value_or(0);
    s.request_blob = std::move(c.request_blob);
    s.reply_blob = std::move(c.reply_blob.empty() ? c.response_blob : c.reply_blob);
  }
  // Each result parsed once: (node, item, attempt, call id) -> (event, its data).
  std::map<std::tuple<std::string, int, int, std::string>, std::pair<const store::Event*, json>> result_of;
  for (const auto& e : tool_results) {
    json d = json::parse(e.data, nullptr, false);
    if (!d.is_object()) continue;
    std::string call_id = d.value("call_id", "");
    result_of[{e.node, e.item, e.attempt, call_id}] = {&e, std::move(d)};
  }
  for (const auto& e : tool_calls) {
    json d = json::parse(e.data, nullptr, false);
    if (!d.is_object()) continue;
    Span s;
    s.kind = "tool";
    s.node = e.node;
    s.iteration = e.iteration;
    s.item = e.item;
    s.attempt = e.attempt;
    s.tool_call_id = d.value("call_id", "");
    s.tool = d.value("name", "");
    s.span_id = SpanId(run_id, "tool", {}, e.seq);
    s.parent_id = NodeSpanId(run_id, e.node, e.iteration, e.item, e.attempt);
    s.name = "execute_tool " + s.tool;
    s.start = e.ts;
    s.arguments = d.contains("arguments") ? (d["arguments"].is_string() ? d["arguments"].get<std::string>() : d["arguments"].dump()) : "";
    auto it = result_of.find({e.node, e.item, e.attempt, s.tool_call_id});
    if (it != result_of.end()) {
      const json& rd = it->second.second;
      s.end = it->second.first->ts;
      s.status = rd.value("ok", false) ? "ok" : "error";
      s.result_blob = rd.value("blob", "");
      if (!rd.value("ok", false)) s.error = rd.value("preview", ""), s.error_type = "tool_error", s.own_error = true;
    } else {
      s.status = "running";
    }
    spans.push_back(std::move(s));
  }
  if (root.status == "error") {
    // The run failed: as its own stop (a cancel, a budget) or as its first failed node did.
    root.error_type = NodeErrorType(run.status, root.error);
    root.own_error = !root.error_type.empty();
    if (root.error_type.empty()) {
      double first = 0;
      for (size_t i = 1; i < spans.size(); ++i) {
        const Span& s = spans[i];
        if (s.kind == "node" && s.status == "error" && !retried_later.count(s.span_id) && (first == 0 || s.end < first))
          first = s.end, root.error_type = s.error_type;
      }
    }
    if (root.error_type.empty()) root.error_type = "_OTHER", root.own_error = true;
  }
  spans[0] = std::move(root);
  return set;
}

namespace {

/// Attrs writes OTLP KeyValue objects: {"key": k, "value": {"stringValue": v}} and friends,
/// each as one pre-assembled piece (a 10,000-node export writes 200,000 of them).
struct Attrs {
  JsonWriter& w;
  std::string buf;
  void Begin(std::string_view k, std::string_view type) {
    buf.clear();
    buf += "{\"key\":";
    AppendJsonString(&buf, k);
    buf += ",\"value\":{\"";
    buf += type;
    buf += "\":";
  }
  void End() {
    buf += "}}";
    w.Raw(buf);
  }
  void Str(std::string_view k, std::string_view v) {
    Begin(k, "stringValue");
    AppendJsonString(&buf, v);
    End();
  }
  void Int(std::string_view k, int64_t v) {
    Begin(k, "intValue");
    char num[24];
    auto r = std::to_chars(num, num + sizeof(num), v);
    buf += '"';
    buf.append(num, r.ptr);
    buf += '"';
    End();
  }
  void Dbl(std::string_view k, double v) {
    Begin(k, "doubleValue");
    char num[32];
    auto r = std::isfinite(v) ? std::to_chars(num, num + sizeof(num), v) : std::to_chars_result{num, {}};
    if (r.ptr == num) buf += "0";
    else buf.append(num, r.ptr);
    End();
  }
  void StrList(std::string_view k, const std::vector<std::string>& v) {
    Begin(k, "arrayValue");
    buf += "{\"values\":[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) buf += ',';
      buf += "{\"stringValue\":";
      AppendJsonString(&buf, v[i]);
      buf += '}';
    }
    buf += "]}";
    End();
  }
};

std::string Nanos(double unix_seconds) {
  if (unix_seconds <= 0) return "0";
  return std::to_string(static_cast<long long>(std::llround(unix_seconds * 1e6))) + "000";
}

/// ProviderName maps our provider names to the conventions' gen_ai.provider.name values.
std::string ProviderName(const std::string& p) {
  if (p == "gemini") return "gcp.gemini";
  return p;
}

/// MessagesJson is the conventions' message form: [{role, parts: [{type: text, content}]}]
/// (system instructions are a bare list of parts).
std::string MessagesJson(const std::vector<Message>& msgs, bool system) {
  JsonWriter w;
  w.BeginArray();
  for (const auto& m : msgs) {
    if ((m.role == "system") != system) continue;
    if (system) {
      w.BeginObject().Field("type", "text").Field("content", m.text).EndObject();
    } else {
      w.BeginObject().Field("role", m.role == "model" ? "assistant" : m.role).Key("parts").BeginArray();
      w.BeginObject().Field("type", "text").Field("content", m.text).EndObject().EndArray().EndObject();
    }
  }
  w.EndArray();
  return w.Take();
}

}  // namespace

/// The OpenTelemetry semantic conventions this export follows (the GenAI ones as of v1.41,
/// the last release that held them before they moved to semantic-conventions-genai).
constexpr const char* kSchemaUrl = "https://opentelemetry.io/schemas/1.41.0";

/// Event writes one span event (OTLP Span.Event) with its attributes.
template <typename F>
void Event(JsonWriter& w, double ts, std::string_view name, F attrs) {
  w.BeginObject().Field("timeUnixNano", Nanos(ts)).Field("name", name).Key("attributes").BeginArray();
  Attrs a{w, {}};
  attrs(a);
  w.EndArray().EndObject();
}

void WriteOtlpSpan(JsonWriter& w, store::Store* st, const SpanSet& set, const Span& s, bool include_content) {
  Attrs a{w, {}};
  int kind = s.kind == "llm" ? 3 : 1;  // SPAN_KIND_CLIENT for model calls, INTERNAL otherwise
  w.BeginObject().Field("traceId", set.trace_id).Field("spanId", s.span_id);
  if (!s.parent_id.empty()) w.Field("parentSpanId", s.parent_id);
  w.Field("name", s.name).Field("kind", kind);
  double end = s.end > 0 ? s.end : s.start;
  w.Field("startTimeUnixNano", Nanos(s.start)).Field("endTimeUnixNano", Nanos(end));
  w.Key("attributes").BeginArray();
  a.Str("specwright.run.id", set.run.id);
  bool genai = s.kind != "node" || s.node_kind.rfind("agent", 0) == 0;
  // A run is the conversation every model call, agent and tool call of it belongs to.
  if (genai) a.Str("gen_ai.conversation.id", set.run.id);
  if (s.kind == "run") {
    a.Str("gen_ai.operation.name", "invoke_workflow");
    a.Str("gen_ai.workflow.name", set.run.workflow_name);
    a.Int("specwright.usage.input_tokens", s.tokens_in);
    a.Int("specwright.usage.output_tokens", s.tokens_out);
    if (s.cost_known) a.Dbl("specwright.cost_usd", s.cost_usd);
    else a.Str("specwright.cost", "unknown");
  } else {
    a.Str("specwright.node.id", s.node);
    a.Int("specwright.iteration", s.iteration);
    if (s.item >= 0) a.Int("specwright.item", s.item);
    a.Int("specwright.attempt", s.attempt);
  }
  if (s.kind == "node") {
    if (s.node_kind.rfind("agent", 0) == 0) {
      a.Str("gen_ai.operation.name", "invoke_agent");
      a.Str("gen_ai.agent.name", s.node);
    }
    if (!s.provider.empty()) a.Str("gen_ai.provider.name", ProviderName(s.provider));
    if (!s.model.empty()) a.Str("gen_ai.request.model", s.model);
    a.Str("specwright.node.kind", s.node_kind);
    if (!s.retried.empty()) a.Int("specwright.retries", static_cast<int64_t>(s.retried.size()));
    // Totals of the calls below, under our own names: gen_ai.usage.* is only on the chat
    // spans, so a backend that sums usage over spans does not count a call twice.
    a.Int("specwright.usage.input_tokens", s.tokens_in);
    a.Int("specwright.usage.output_tokens", s.tokens_out);
    if (s.cost_known) a.Dbl("specwright.cost_usd", s.cost_usd);
    else a.Str("specwright.cost", "unknown");
  } else if (s.kind == "llm") {
    a.Str("gen_ai.operation.name", "chat");
    a.Str("gen_ai.provider.name", ProviderName(s.provider));
    a.Str("gen_ai.request.model", s.model);
    if (s.max_tokens > 0) a.Int("gen_ai.request.max_tokens", s.max_tokens);
    if (s.temperature) a.Dbl("gen_ai.request.temperature", *s.temperature);
    if (!s.response_model.empty()) a.Str("gen_ai.response.model", s.response_model);
    if (!s.response_id.empty()) a.Str("gen_ai.response.id", s.response_id);
    if (!s.finish_reason.empty()) a.StrList("gen_ai.response.finish_reasons", {s.finish_reason});
    if (s.ttft_ms > 0) a.Dbl("gen_ai.response.time_to_first_chunk", s.ttft_ms / 1000);
    a.Int("gen_ai.usage.input_tokens", s.tokens_in);
    a.Int("gen_ai.usage.output_tokens", s.tokens_out);
    a.Int("gen_ai.usage.cache_read.input_tokens", s.cached_read);
    a.Int("gen_ai.usage.cache_creation.input_tokens", s.cache_write);
    a.Int("gen_ai.usage.reasoning.output_tokens", s.reasoning);
    // No convention names a cost: gen_ai.usage.cost (USD) is what Langfuse, OpenLIT and
    // Laminar read; only here, on the calls, so a backend summing spans counts each once.
    if (s.cost_known) a.Dbl("gen_ai.usage.cost", s.cost_usd), a.Dbl("specwright.cost_usd", s.cost_usd);
    else a.Str("specwright.cost", "unknown");
    if (include_content && st) {
      auto req = st->GetBlob(s.request_blob);
      if (req.ok()) {
        auto msgs = ExtractMessages(*req);
        std::string sys = MessagesJson(msgs, true);
        if (sys != "[]") a.Str("gen_ai.system_instructions", sys);
        a.Str("gen_ai.input.messages", MessagesJson(msgs, false));
      }
      auto rep = s.status == "ok" ? st->GetBlob(s.reply_blob) : Result<std::string>(NotFound(""));
      if (rep.ok()) {
        json j = json::parse(*rep, nullptr, false);
        std::string finish = j.is_object() ? j.value("finish_reason", "") : "";
        JsonWriter out;
        out.BeginArray().BeginObject().Field("role", "assistant").Key("parts").BeginArray();
        out.BeginObject().Field("type", "text").Field("content", ReplyText(*rep)).EndObject().EndArray();
        out.Field("finish_reason", finish.empty() ? "stop" : finish).EndObject().EndArray();
        a.Str("gen_ai.output.messages", out.str());
        // Calls recorded before the finish reason had a place of their own (schema version 5).
        if (s.finish_reason.empty() && !finish.empty()) a.StrList("gen_ai.response.finish_reasons", {finish});
      }
    }
  } else if (s.kind == "tool") {
    a.Str("gen_ai.operation.name", "execute_tool");
    a.Str("gen_ai.tool.name", s.tool);
    a.Str("gen_ai.tool.call.id", s.tool_call_id);
    a.Str("gen_ai.tool.type", "function");
    if (include_content) {
      a.Str("gen_ai.tool.call.arguments", s.arguments);
      if (st && !s.result_blob.empty()) {
        auto res = st->GetBlob(s.result_blob);
        if (res.ok()) a.Str("gen_ai.tool.call.result", *res);
      }
    }
  }
  bool failed = s.status != "ok" && s.status != "running" && s.status != "waiting";
  if (failed) a.Str("error.type", s.error_type.empty() ? "_OTHER" : s.error_type);
  w.EndArray();
  // The exception once, on the span where it happened (a call's failure is on its chat span,
  // not again on the node attempt it failed); the earlier failed attempts of a retried node.
  if ((failed && s.own_error) || !s.retried.empty()) {
    w.Key("events").BeginArray();
    for (const auto& r : s.retried)
      Event(w, s.start, "specwright.retry", [&](Attrs& e) {
        e.Int("specwright.attempt", r.attempt);
        e.Str("error.type", r.error_type.empty() ? "_OTHER" : r.error_type);
        e.Str("exception.message", r.error);
      });
    if (failed && s.own_error)
      Event(w, end, "exception", [&](Attrs& e) {
        e.Str("exception.type", s.error_type.empty() ? "_OTHER" : s.error_type);
        e.Str("exception.message", s.error);
        if (s.kind != "run") e.Int("specwright.attempt", s.attempt);
      });
    w.EndArray();
  }
  if (!s.retried.empty()) {
    // Each earlier attempt linked: the span this one retries.
    w.Key("links").BeginArray();
    for (const auto& r : s.retried) {
      w.BeginObject().Field("traceId", set.trace_id).Field("spanId", r.span_id).Key("attributes").BeginArray();
      a.Str("specwright.link", "retry_of");
      a.Int("specwright.attempt", r.attempt);
      w.EndArray().EndObject();
    }
    w.EndArray();
  }
  if (s.status == "ok") w.Key("status").BeginObject().Field("code", 1).EndObject();
  else if (failed) w.Key("status").BeginObject().Field("code", 2).Field("message", s.error).EndObject();
  w.EndObject();
}

std::string OtlpJson(store::Store* st, const SpanSet& set, bool include_content, const Sink& sink) {
  JsonWriter w;
  if (sink) w.SetSink(sink);
  else w.Reserve(set.spans.size() * 1100);
  Attrs a{w, {}};
  w.BeginObject().Key("resourceSpans").BeginArray().BeginObject();
  w.Key("resource").BeginObject().Key("attributes").BeginArray();
  // The defaults, each replaced by the same key in set.resource (OTEL_SERVICE_NAME,
  // OTEL_RESOURCE_ATTRIBUTES), then the rest of set.resource in its order.
  std::vector<std::pair<std::string, std::string>> res = {{"service.name", "specwright"},
                                                          {"service.version", "0.1.0"},
                                                          {"telemetry.sdk.name", "specwright"},
                                                          {"telemetry.sdk.language", "cpp"},
                                                          {"telemetry.sdk.version", "0.1.0"},
                                                          {"specwright.workflow", set.run.workflow_name}};
  for (const auto& kv : set.resource) {
    auto it = std::find_if(res.begin(), res.end(), [&](const auto& d) { return d.first == kv.first; });
    if (it != res.end()) it->second = kv.second;
    else res.push_back(kv);
  }
  for (const auto& [k, v] : res) a.Str(k, v);
  w.EndArray().EndObject();
  w.Key("scopeSpans").BeginArray().BeginObject();
  w.Key("scope").BeginObject().Field("name", "specwright").Field("version", "0.1.0").EndObject();
  w.Key("spans").BeginArray();
  for (const auto& s : set.spans) WriteOtlpSpan(w, st, set, s, include_content);
  w.EndArray().Field("schemaUrl", kSchemaUrl).EndObject().EndArray();
  w.Field("schemaUrl", kSchemaUrl).EndObject().EndArray().EndObject();
  w.Flush();
  return w.Take();
}

std::string SpansJson(const SpanSet& set, const Sink& sink) {
  JsonWriter w;
  if (sink) w.SetSink(sink);
  else w.Reserve(set.spans.size() * 480);
  w.BeginObject().Field("run", set.run.id).Field("workflow", set.run.workflow_name).Field("trace_id", set.trace_id);
  w.Key("spans").BeginArray();
  for (const auto& s : set.spans) {
    w.BeginObject()
        .Field("kind", s.kind)
        .Field("span_id", s.span_id)
        .Field("parent_id", s.parent_id)
        .Field("name", s.name)
        .Field("node", s.node)
        .Field("iteration", s.iteration)
        .Field("item", s.item)
        .Field("attempt", s.attempt)
        .Field("start", s.start)
        .Field("end", s.end)
        .Field("status", s.status)
        .Field("error", s.error)
        .Field("provider", s.provider)
        .Field("model", s.model)
        .Field("tokens_in", s.tokens_in)
        .Field("tokens_out", s.tokens_out)
        .Field("tokens_cached_read", s.cached_read)
        .Field("tokens_cache_write", s.cache_write)
        .Field("tokens_reasoning", s.reasoning)
        .Key("cost_usd");
    s.cost_known ? w.Double(s.cost_usd) : w.Null();
    if (s.kind == "tool") w.Field("tool", s.tool).Field("tool_call_id", s.tool_call_id);
    if (s.kind == "node") w.Field("node_kind", s.node_kind);
    w.EndObject();
  }
  w.EndArray().EndObject();
  w.Flush();
  return w.Take();
}

std::string SpansCsv(const SpanSet& set, const Sink& sink) {
  auto rows = [&set](size_t from, size_t to) {
    std::string out;
    out.reserve((to - from) * 220);
    auto q = [&out](const std::string& v) {
      if (v.find_first_of(",\"\n\r") == std::string::npos) {
        out += v;
        return;
      }
      out += '"';
      for (char c : v) {
        if (c == '"') out += '"';
        out += c;
      }
      out += '"';
    };
    auto num = [&out](int64_t v) {
      char b[24];
      auto r = std::to_chars(b, b + sizeof(b), v);
      out.append(b, r.ptr);
    };
    char b[96];
    for (size_t i = from; i < to; ++i) {
      const Span& s = set.spans[i];
      double dur = s.end > 0 && s.start > 0 ? (s.end - s.start) * 1000 : 0;
      out += s.kind;
      out += ',';
      out += s.span_id;
      out += ',';
      out += s.parent_id;
      out += ',';
      q(s.name);
      out += ',';
      q(s.node);
      out += ',';
      num(s.iteration);
      out += ',';
      num(s.item);
      out += ',';
      num(s.attempt);
      int n = std::snprintf(b, sizeof(b), ",%.6f,%.6f,%.3f,", s.start, s.end, dur);
      out.append(b, static_cast<size_t>(n));
      out += s.status;
      out += ',';
      q(s.provider);
      out += ',';
      q(s.model);
      for (int64_t v : {s.tokens_in, s.tokens_out, s.cached_read, s.cache_write, s.reasoning}) {
        out += ',';
        num(v);
      }
      out += ',';
      if (s.cost_known) {
        n = std::snprintf(b, sizeof(b), "%.8f", s.cost_usd);
        out.append(b, static_cast<size_t>(n));
      } else {
        out += "unknown";
      }
      out += ',';
      q(s.error);
      out += '\n';
    }
    return out;
  };
  std::string out =
      "kind,span_id,parent_id,name,node,iteration,item,attempt,start,end,duration_ms,status,provider,model,"
      "tokens_in,tokens_out,tokens_cached_read,tokens_cache_write,tokens_reasoning,cost_usd,error\n";
  if (!sink) return out + rows(0, set.spans.size());
  sink(out);
  for (size_t i = 0; i < set.spans.size(); i += 4096) sink(rows(i, std::min(set.spans.size(), i + 4096)));
  return "";
}

}  // namespace sw::observe
