// runs, show and the web UI's views (run graph, node inspector, approvals, workflow): the
// same reports for the CLI's --json and the HTTP API.
#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <unordered_map>

#include <filesystem>

#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"
#include "observe/internal.h"
#include "workflow/workflow.h"

namespace sw::observe {
namespace {

std::string BlobText(store::Store* st, const std::string& hash, size_t max) {
  if (hash.empty()) return "";
  auto b = st->GetBlob(hash);
  return b.ok() ? Clip(*b, max) : "";
}

void WriteLine(JsonWriter& w, const ShowLine& l) {
  w.BeginObject()
      .Field("node", l.node)
      .Field("iteration", l.iteration)
      .Field("status", l.status)
      .Field("attempts", l.attempts)
      .Field("items", l.items)
      .Field("started_at", l.start)
      .Field("finished_at", l.end)
      .Field("tokens", l.tokens)
      .Field("calls", l.calls)
      .Field("cost_usd", l.cost)
      .Field("cost_known", !l.cost_unknown)
      .Field("cached", l.cached)
      .Field("error", l.error)
      .EndObject();
}

/// Fold turns node rows into one line per node x iteration (attempts and items folded).
std::vector<ShowLine> Fold(const std::vector<store::NodeRunRecord>& rows) {
  std::vector<ShowLine> lines;
  std::map<std::pair<std::string, int>, size_t> at;
  for (const auto& r : rows) {
    auto key = std::make_pair(r.node, r.iteration);
    auto it = at.find(key);
    if (it == at.end()) {
      it = at.emplace(key, lines.size()).first;
      ShowLine fresh;
      fresh.node = r.node;
      fresh.iteration = r.iteration;
      lines.push_back(fresh);
    }
    ShowLine& l = lines[it->second];
    if (r.item >= 0) l.items = std::max(l.items, r.item + 1);
    l.attempts = std::max(l.attempts, r.attempt);
    if (r.started_at > 0 && (l.start == 0 || r.started_at < l.start)) l.start = r.started_at;
    l.end = std::max(l.end, r.finished_at);
    l.tokens += r.tokens_in + r.tokens_out;
    l.calls += r.calls;
    l.cost += r.cost_usd;
    l.cost_unknown |= r.cost_unknown;
    l.cached |= r.cached;
    double ts = std::max(r.started_at, r.finished_at);
    if (r.item < 0 && ts >= l.last_ts) {
      l.status = r.status;
      l.error = r.error;
      l.last_ts = ts;
    } else if (r.item >= 0) {
      if (l.status.empty() || r.status == "failed" || r.status == "running") l.status = r.status;
      if (!r.error.empty() && r.status == "failed") l.error = "item " + std::to_string(r.item) + ": " + r.error;
    }
  }
  return lines;
}

}  // namespace

std::string RunsJson(const std::vector<store::RunRecord>& runs) {
  JsonWriter w;
  w.Reserve(runs.size() * 420);
  w.BeginArray();
  for (const auto& r : runs) WriteRun(w, r);
  w.EndArray();
  return w.Take();
}

std::vector<store::RunRecord> FilterRuns(std::vector<store::RunRecord> runs, const std::string& status,
                                         const std::string& query) {
  if (status.empty() && query.empty()) return runs;
  std::string q = Lower(query);
  std::erase_if(runs, [&](const store::RunRecord& r) {
    if (!status.empty() && r.status != status) return true;
    if (q.empty()) return false;
    // The id, the workflow, and what a develop or a change ran it for (its label, its session).
    for (const std::string* f : {&r.id, &r.workflow_name, &r.workflow_file, &r.label, &r.session})
      if (Lower(*f).find(q) != std::string::npos) return false;
    return true;
  });
  return runs;
}

std::string RunJson(const store::RunRecord& run) {
  JsonWriter w;
  WriteRun(w, run);
  return w.Take();
}

Result<ShowReport> Show(store::Store* st, const std::string& run_id) {
  ShowReport r;
  SW_ASSIGN_OR_RETURN(r.run, RunOrError(st, run_id));
  SW_ASSIGN_OR_RETURN(auto rows, st->ListNodeRuns(run_id));
  r.lines = Fold(rows);
  SW_ASSIGN_OR_RETURN(auto started, st->ListEventsOfType(run_id, "run_started"));
  if (!started.empty()) {
    json d = json::parse(started.front().data, nullptr, false);
    if (d.is_object() && d.contains("inputs") && d["inputs"].is_object()) r.inputs = d["inputs"].dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return r;
}

std::string ToJson(const ShowReport& r) {
  // The run's fields, then its nodes, in one object (what `show --json` always printed).
  JsonWriter run;
  WriteRun(run, r.run);
  std::string out = run.Take();
  out.pop_back();  // the closing brace
  JsonWriter w;
  w.BeginArray();
  for (const auto& l : r.lines) WriteLine(w, l);
  w.EndArray();
  return out + ",\"inputs\":" + r.inputs + ",\"nodes\":" + w.Take() + "}";
}

Result<std::string> GraphJson(store::Store* st, const std::string& run_id) {
  SW_ASSIGN_OR_RETURN(auto run, RunOrError(st, run_id));
  SW_ASSIGN_OR_RETURN(auto rows, st->ListNodeRuns(run_id));
  std::vector<ShowLine> lines = Fold(rows);
  // The latest iteration of each node is its state; spend adds up over iterations.
  struct State {
    const ShowLine* last = nullptr;
    int64_t tokens = 0, calls = 0;
    double cost = 0;
    bool cost_unknown = false;
    double start = 0;
  };
  std::unordered_map<std::string, State> state;
  std::vector<std::string> order;  // nodes in first-start order (runs without definitions)
  for (const auto& l : lines) {
    auto [it, fresh] = state.try_emplace(l.node);
    if (fresh) order.push_back(l.node);
    State& s = it->second;
    if (!s.last || l.iteration >= s.last->iteration) s.last = &l;
    s.tokens += l.tokens;
    s.calls += l.calls;
    s.cost += l.cost;
    s.cost_unknown |= l.cost_unknown;
    if (l.start > 0 && (s.start == 0 || l.start < s.start)) s.start = l.start;
  }
  json defs = Definitions(st, run_id);
  JsonWriter w;
  w.Reserve(state.size() * 300 + 1024);
  w.BeginObject().Key("run");
  WriteRun(w, run);
  w.Key("nodes").BeginArray();
  auto write = [&](const std::string& id, const json* def) {
    auto it = state.find(id);
    const State* s = it == state.end() ? nullptr : &it->second;
    w.BeginObject().Field("id", id);
    w.Field("kind", def ? def->value("kind", "") : std::string());
    w.Key("needs").BeginArray();
    if (def && def->contains("needs") && (*def)["needs"].is_array())
      for (const auto& n : (*def)["needs"])
        if (n.is_string()) w.String(n.get<std::string>());
    w.EndArray();
    w.Field("model", def ? def->value("model", "") : std::string());
    // The loop's back edge, the node's condition and its fan-out, as written.
    if (def && def->contains("loop") && (*def)["loop"].is_object()) {
      const json& lp = (*def)["loop"];
      w.Key("loop").BeginObject().Field("to", lp.value("to", "")).Field("while", lp.value("while", ""));
      w.Field("max_iterations", lp.value("max_iterations", 0)).EndObject();
    }
    if (def && def->contains("when") && (*def)["when"].is_string()) w.Field("when", (*def)["when"].get<std::string>());
    if (def && def->contains("map_over") && (*def)["map_over"].is_string()) w.Field("map_over", (*def)["map_over"].get<std::string>());
    const ShowLine* l = s ? s->last : nullptr;
    w.Field("status", l ? l->status : std::string("pending"))
        .Field("iteration", l ? l->iteration : 0)
        .Field("attempts", l ? l->attempts : 0)
        .Field("items", l ? l->items : 0)
        .Field("tokens", s ? s->tokens : int64_t{0})
        .Field("calls", s ? s->calls : int64_t{0})
        .Field("cost_usd", s ? s->cost : 0.0)
        .Field("cost_known", !(s && s->cost_unknown))
        .Field("cached", l ? l->cached : false)
        .Field("started_at", s ? s->start : 0.0)
        .Field("finished_at", l ? l->end : 0.0)
        .Field("error", l ? l->error : std::string())
        .EndObject();
  };
  if (defs.is_object()) {
    for (auto it = defs.begin(); it != defs.end(); ++it) write(it.key(), &it.value());
  } else {
    for (const auto& id : order) write(id, nullptr);
  }
  w.EndArray().EndObject();
  return w.Take();
}

Result<std::string> NodeJson(store::Store* st, const std::string& run_id, const std::string& node) {
  SW_ASSIGN_OR_RETURN(auto run, RunOrError(st, run_id));
  std::vector<std::string> only{node};
  json defs = Definitions(st, run_id, &only);
  bool defined = defs.is_object() && defs.contains(node);
  auto trace = Trace(st, run_id, node);
  if (!trace.ok() && !defined) {
    if (trace.status().code() != Code::kNotFound) return trace.status();
    return NotFound("run " + run_id + " has no node \"" + node + "\"");
  }
  TraceReport empty;
  const TraceReport& t = trace.ok() ? *trace : empty;
  std::string status = "pending";
  if (!t.rows.empty()) {
    auto lines = Fold(t.rows);
    const ShowLine* last = &lines.front();
    for (const auto& l : lines)
      if (l.iteration >= last->iteration) last = &l;
    status = last->status;
  }
  JsonWriter w;
  w.BeginObject().Field("run_id", run_id).Field("node", node);
  w.Field("kind", defined ? defs[node].value("kind", "") : std::string());
  w.Field("model", defined ? defs[node].value("model", "") : std::string());
  w.Field("run_status", run.status).Field("status", status);
  w.Key("needs").BeginArray();
  if (defined && defs[node].contains("needs") && defs[node]["needs"].is_array())
    for (const auto& n : defs[node]["needs"])
      if (n.is_string()) w.String(n.get<std::string>());
  w.EndArray();
  w.Key("attempts").BeginArray();
  for (const auto& x : t.rows)
    WriteNodeRun(w, x);
  w.EndArray();
  w.Key("calls").BeginArray();
  for (const auto& c : t.calls) {
    WriteCallHead(w, c);
    w.Key("tokens")
        .BeginObject()
        .Field("input", c.tokens_in)
        .Field("cached_read", c.tokens_cached_read)
        .Field("cache_write", c.tokens_cache_write)
        .Field("output", c.tokens_out)
        .Field("reasoning", c.tokens_reasoning)
        .EndObject();
    w.Key("cost_usd");
    if (c.cost_usd) w.Double(*c.cost_usd);
    else w.Null();
    w.Key("prompt").BeginArray();
    if (!c.request_blob.empty())
      if (auto req = st->GetBlob(c.request_blob); req.ok())
        for (const auto& m : ExtractMessages(*req))
          w.BeginObject().Field("role", m.role).Field("content", Clip(m.text, 64 << 10)).EndObject();
    w.EndArray();
    std::string response = c.reply_blob.empty() ? BlobText(st, c.response_blob, 64 << 10)
                                                : Clip(ReplyText(BlobText(st, c.reply_blob, 8 << 20)), 64 << 10);
    w.Field("response", response).EndObject();
  }
  w.EndArray();
  w.Key("tool_calls").BeginArray();
  for (const auto& x : t.tool_calls) {
    w.BeginObject()
        .Field("turn", x.turn)
        .Field("item", x.item)
        .Field("attempt", x.attempt)
        .Field("call_id", x.call_id)
        .Field("name", x.name)
        .Field("tool", x.tool)
        .Field("arguments", x.arguments)
        .Field("started_at", x.started_at)
        .Field("finished_at", x.finished_at)
        .Field("ok", x.ok)
        .Field("bytes", x.bytes)
        .Field("preview", x.preview)
        .Field("result", x.result_blob.empty() ? x.preview : BlobText(st, x.result_blob, 64 << 10))
        .EndObject();
  }
  w.EndArray();
  w.Field("output", BlobText(st, t.output_blob, 256 << 10));  // its latest success, read by Trace
  // Each iteration's output, cache hits included (they made no model call): a loop's rounds,
  // such as the documents of a gate dialogue. The last 50 iterations (item is -1: a map node's
  // iteration output is the list of its items').
  // (The node_succeeded events carry each iteration's output blob; a cache hit's node_runs row
  // does not.)
  w.Key("outputs").BeginArray();
  {
    SW_ASSIGN_OR_RETURN(auto events, st->ListNodeEvents(run_id, node));
    std::vector<const store::Event*> done;
    for (const auto& e : events)
      if (e.type == "node_succeeded" && !BlobOf(e.data).empty()) done.push_back(&e);
    for (size_t i = done.size() > 50 ? done.size() - 50 : 0; i < done.size(); ++i)
      w.BeginObject()
          .Field("iteration", done[i]->iteration)
          .Field("item", done[i]->item)
          .Field("attempt", done[i]->attempt)
          .Field("at", done[i]->ts)
          .Field("output", BlobText(st, BlobOf(done[i]->data), 64 << 10))
          .EndObject();
  }
  w.EndArray();
  w.Key("live").BeginArray();
  SW_ASSIGN_OR_RETURN(auto live, st->ListLive(run_id));
  for (const auto& l : live)
    if (l.node == node)
      w.BeginObject()
          .Field("iteration", l.iteration)
          .Field("item", l.item)
          .Field("attempt", l.attempt)
          .Field("text", l.text)
          .Field("updated_at", l.updated_at)
          .EndObject();
  w.EndArray().EndObject();
  return w.Take();
}

Result<std::string> PendingApprovalsJson(store::Store* st, int max_runs) {
  SW_ASSIGN_OR_RETURN(auto runs, st->ListRuns(max_runs, true));
  std::unordered_map<std::string, const store::RunRecord*> by_id;
  for (const auto& r : runs) by_id[r.id] = &r;
  JsonWriter w;
  w.BeginArray();
  for (const auto& r : runs) {
    if (r.status != "waiting" && r.status != "running") continue;
    SW_ASSIGN_OR_RETURN(auto approvals, st->ListApprovals(r.id));
    json defs;
    bool defs_read = false;
    for (const auto& a : approvals) {
      if (a.decision != "pending") continue;
      // A parent's `kind: workflow` node waits while its sub-run's gate does: list the gate only.
      if (!defs_read) defs = Definitions(st, r.id), defs_read = true;
      if (defs.is_object() && defs.contains(a.node) && defs[a.node].value("kind", "") != "human") continue;
      // The top-level run is what a resume continues (a sub-run resumes with its parent).
      const store::RunRecord* root = &r;
      for (int depth = 0; !root->parent_id.empty() && by_id.count(root->parent_id) && depth < 64; ++depth)
        root = by_id[root->parent_id];
      bool alive = store::ProcessAlive(r);
      w.BeginObject()
          .Field("run_id", r.id)
          .Field("root_run", root->id)
          .Field("workflow", r.workflow_name)
          .Field("run_status", r.status)
          .Field("alive", alive)
          .Field("node", a.node)
          .Field("iteration", a.iteration)
          .Field("item", a.item)
          .Field("message", a.text)
          .Field("since", a.ts)
          .EndObject();
    }
  }
  w.EndArray();
  return w.Take();
}

std::string WorkflowJson(const std::string& path, const std::string* text, const std::string& confine,
                         const std::vector<std::string>& builtin_tools) {
  std::string body;
  if (text) {
    body = *text;
  } else if (auto t = ReadFile(path); t.ok()) {
    body = std::move(t).value();
  }
  workflow::LoadResult r = workflow::Load(path, text, confine);
  if (auto wf = r.workflow ? r.workflow : r.partial; wf && !builtin_tools.empty())
    for (auto& d : workflow::CheckTools(*wf, builtin_tools)) r.errors.push_back(std::move(d));
  JsonWriter w;
  w.BeginObject().Field("path", path).Field("text", body).Field("ok", r.errors.empty());
  // The file's version: a save names the one it edited, so it never overwrites a change made
  // on disk meanwhile (observe.h).
  if (!text) w.Field("version", Hash128Hex(body));
  auto diags = [&](const char* key, const std::vector<workflow::Diagnostic>& v) {
    w.Key(key).BeginArray();
    for (const auto& d : v)
      w.BeginObject()
          .Field("file", d.file)
          .Field("line", d.pos.line)
          .Field("column", d.pos.col)
          .Field("message", d.message)
          .Field("text", d.ToString())
          .EndObject();
    w.EndArray();
  };
  diags("errors", r.errors);
  diags("warnings", r.warnings);
  w.Field("name", r.partial ? r.partial->name : std::string());
  w.Key("nodes").BeginArray();
  if (r.partial)
    for (const auto& n : r.partial->nodes) {
      w.BeginObject().Field("id", n.id).Field("kind", workflow::NodeKindName(n.kind));
      w.Key("needs").BeginArray();
      for (const auto& need : n.needs) w.String(need);
      w.EndArray();
      w.Field("model", n.model.model).Field("line", n.pos.line);
      // What the graph draws besides the needs, as for a run (engine::DefinitionsJson).
      if (n.loop)
        w.Key("loop").BeginObject().Field("to", n.loop->to).Field("while", n.loop->cond.expr ? n.loop->cond.expr->source() : "").EndObject();
      if (n.when && n.when->expr) w.Field("when", n.when->expr->source());
      if (n.map && n.map->over.expr) w.Field("map_over", n.map->over.expr->source());
      w.EndObject();
    }
  w.EndArray();
  // The declared inputs: the editor's Run form asks for them.
  w.Key("inputs").BeginArray();
  if (r.partial)
    for (const auto& in : r.partial->inputs) {
      w.BeginObject().Field("name", in.name).Field("type", in.type).Field("required", in.required);
      w.Field("description", in.description).Field("line", in.pos.line);
      if (in.default_value) w.Key("default").Raw(in.default_value->dump(-1, ' ', false, json::error_handler_t::replace));
      w.EndObject();
    }
  w.EndArray().EndObject();
  return w.Take();
}

}  // namespace sw::observe

namespace sw::observe {
namespace {

bool LooksLikeWorkflow(const std::filesystem::path& p) {
  auto ext = p.extension().string();
  if (ext != ".yaml" && ext != ".yml") return false;
  auto text = ReadFile(p.string());
  if (!text.ok()) return false;
  std::string_view t(*text);
  t = t.substr(0, 64 << 10);
  auto top = [&](std::string_view key) { return StartsWith(t, key) || t.find("\n" + std::string(key)) != std::string_view::npos; };
  return top("nodes:") && top("name:");
}

}  // namespace

Result<std::string> WorkflowsJson(store::Store* st, const std::string& dir) {
  namespace fs = std::filesystem;
  struct Entry {
    std::string name;
    int64_t runs = 0;
    double last_run = 0;
  };
  std::map<std::string, Entry> found;
  std::error_code ec;
  fs::path root = fs::weakly_canonical(dir, ec);
  int visited = 0;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator() && visited < 20000; it.increment(ec), ++visited) {
    const fs::path& p = it->path();
    std::string name = p.filename().string();
    if (it->is_directory(ec)) {
      if (it.depth() >= 4 || name.starts_with(".") || name == "node_modules" || name.starts_with("build") ||
          name == "dist")
        it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && LooksLikeWorkflow(p)) found[p.string()];
  }
  SW_ASSIGN_OR_RETURN(auto runs, st->ListRuns(1000, false));
  for (const auto& r : runs) {
    if (r.workflow_file.empty()) continue;
    Entry& e = found[r.workflow_file];
    ++e.runs;
    e.last_run = std::max(e.last_run, r.created_at);
    if (e.name.empty()) e.name = r.workflow_name;
  }
  JsonWriter w;
  w.BeginArray();
  for (const auto& [path, e] : found) {
    fs::path p(path);
    auto rel = p.lexically_relative(root);
    bool under = !rel.empty() && *rel.begin() != "..";
    w.BeginObject()
        .Field("path", under ? rel.string() : path)
        .Field("abs", path)
        .Field("name", e.name)
        .Field("runs", e.runs)
        .Field("last_run", e.last_run)
        .Field("exists", FileExists(path))
        .EndObject();
  }
  w.EndArray();
  return w.Take();
}

}  // namespace sw::observe
