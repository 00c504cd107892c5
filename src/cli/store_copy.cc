#include "cli/store_copy.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "base/hash.h"
#include "base/strings.h"
#include "dist/submit.h"

namespace sw::cli {
namespace {

using json = nlohmann::json;

/// Tree is a top-level run and its sub-runs as one store holds them: what one copy moves.
struct Tree {
  std::vector<store::RunRecord> runs;  // the top-level run first, then its sub-runs in start order
  std::vector<store::Event> events;    // of every run, in the store's order (seq)
  std::vector<store::NodeRunRecord> node_runs;
  std::vector<store::LlmCallRecord> llm_calls;  // in the store's order (id)
  std::vector<store::ArtifactRecord> artifacts;
  std::vector<store::ApprovalRecord> approvals;
};

Result<Tree> ReadTree(store::Store* st, const store::RunRecord& top) {
  Tree t;
  t.runs.push_back(top);
  SW_ASSIGN_OR_RETURN(auto subs, st->ListSubRuns(top.id));
  for (auto& s : subs) t.runs.push_back(std::move(s));
  for (const auto& r : t.runs) {
    SW_ASSIGN_OR_RETURN(auto events, st->ListEvents(r.id));
    SW_ASSIGN_OR_RETURN(auto node_runs, st->ListNodeRuns(r.id));
    SW_ASSIGN_OR_RETURN(auto calls, st->ListLlmCalls(r.id));
    SW_ASSIGN_OR_RETURN(auto artifacts, st->ListArtifacts(r.id));
    SW_ASSIGN_OR_RETURN(auto approvals, st->ListApprovals(r.id));
    std::move(events.begin(), events.end(), std::back_inserter(t.events));
    std::move(node_runs.begin(), node_runs.end(), std::back_inserter(t.node_runs));
    std::move(calls.begin(), calls.end(), std::back_inserter(t.llm_calls));
    std::move(artifacts.begin(), artifacts.end(), std::back_inserter(t.artifacts));
    std::move(approvals.begin(), approvals.end(), std::back_inserter(t.approvals));
  }
  // One order across the runs of the tree: checkpoints of a run and its sub-runs are read in
  // commit order (engine/workspace.cc), so the copy keeps FROM's.
  std::stable_sort(t.events.begin(), t.events.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  std::stable_sort(t.llm_calls.begin(), t.llm_calls.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return t;
}

/// JsonText is a JSON-valued column as a value (a store may keep it as text or as parsed JSON:
/// the same document either way), or as the string when it is not JSON.
json JsonText(const std::string& s) {
  json j = json::parse(s, nullptr, false);
  return j.is_discarded() ? json(s) : j;
}

json Opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

// The rows as JSON, ids and sequence numbers left out (the target numbers them anew), and the
// lease columns (only the work queue writes them).
json RunJson(const store::RunRecord& r) {
  return {{"id", r.id}, {"parent_id", r.parent_id}, {"workflow_file", r.workflow_file},
          {"workflow_name", r.workflow_name}, {"workflow_hash", r.workflow_hash}, {"status", r.status},
          {"created_at", r.created_at}, {"finished_at", r.finished_at}, {"inputs_json", JsonText(r.inputs_json)},
          {"options_json", JsonText(r.options_json)}, {"error", r.error}, {"pid", r.pid}, {"tokens_in", r.tokens_in},
          {"tokens_out", r.tokens_out}, {"calls", r.calls}, {"cost_usd", r.cost_usd}, {"nodes_total", r.nodes_total},
          {"nodes_succeeded", r.nodes_succeeded}, {"nodes_failed", r.nodes_failed},
          {"nodes_skipped", r.nodes_skipped}, {"cancel_requested", r.cancel_requested},
          {"cost_unknown", r.cost_unknown}, {"session", r.session}, {"label", r.label}};
}
json EventJson(const store::Event& e) {
  return {{"run_id", e.run_id}, {"ts", e.ts},         {"type", e.type},       {"node", e.node},
          {"iteration", e.iteration}, {"item", e.item}, {"attempt", e.attempt}, {"data", JsonText(e.data)}};
}
json NodeRunJson(const store::NodeRunRecord& n) {
  return {{"run_id", n.run_id}, {"node", n.node}, {"iteration", n.iteration}, {"item", n.item},
          {"attempt", n.attempt}, {"status", n.status}, {"started_at", n.started_at},
          {"finished_at", n.finished_at}, {"tokens_in", n.tokens_in}, {"tokens_out", n.tokens_out},
          {"cost_usd", n.cost_usd}, {"calls", n.calls}, {"model", n.model}, {"error", n.error},
          {"output_blob", n.output_blob}, {"cached", n.cached}, {"cost_unknown", n.cost_unknown}};
}
json LlmCallJson(const store::LlmCallRecord& c) {
  return {{"run_id", c.run_id}, {"node", c.node}, {"iteration", c.iteration}, {"item", c.item},
          {"attempt", c.attempt}, {"provider", c.provider}, {"model", c.model}, {"tokens_in", c.tokens_in},
          {"tokens_out", c.tokens_out}, {"tokens_cached_read", c.tokens_cached_read},
          {"tokens_cache_write", c.tokens_cache_write}, {"tokens_reasoning", c.tokens_reasoning},
          {"cost_usd", Opt(c.cost_usd)}, {"started_at", c.started_at}, {"latency_ms", c.latency_ms},
          {"ttft_ms", c.ttft_ms}, {"status", c.status}, {"error", c.error}, {"request_blob", c.request_blob},
          {"response_blob", c.response_blob}, {"request_hash", c.request_hash}, {"reply_blob", c.reply_blob},
          {"response_model", c.response_model}, {"response_id", c.response_id},
          {"finish_reason", c.finish_reason}, {"error_type", c.error_type}, {"max_tokens", c.max_tokens},
          {"temperature", Opt(c.temperature)}};
}
json ArtifactJson(const store::ArtifactRecord& a) {
  return {{"run_id", a.run_id}, {"name", a.name}, {"media_type", a.media_type}, {"blob", a.blob},
          {"produced_by", a.produced_by}, {"derived_from", JsonText(a.derived_from)}, {"created_at", a.created_at}};
}
json ApprovalJson(const store::ApprovalRecord& a) {
  return {{"run_id", a.run_id}, {"node", a.node}, {"iteration", a.iteration}, {"item", a.item},
          {"decision", a.decision}, {"text", a.text}, {"by", a.by}, {"ts", a.ts}};
}

/// SameNumber: equal, or within what a round trip through a decimal text can change.
bool SameNumber(double a, double b) {
  if (a == b) return true;
  return std::fabs(a - b) <= 1e-13 * std::max(std::fabs(a), std::fabs(b));
}

/// Difference is where a and b first differ ("" when they are the same), path naming it.
std::string Difference(const json& a, const json& b, const std::string& path) {
  if (a.is_number() && b.is_number()) {
    if (a.is_number_float() || b.is_number_float()) {
      if (SameNumber(a.get<double>(), b.get<double>())) return "";
    } else if (a == b) {
      return "";
    }
    return path + ": " + a.dump() + " in FROM, " + b.dump() + " in TO";
  }
  if (a.type() != b.type()) return path + ": " + Utf8Prefix(a.dump(), 80) + " in FROM, " + Utf8Prefix(b.dump(), 80) + " in TO";
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!b.contains(it.key())) return path + "." + it.key() + ": missing in TO";
      if (std::string d = Difference(it.value(), b[it.key()], path + "." + it.key()); !d.empty()) return d;
    }
    for (auto it = b.begin(); it != b.end(); ++it)
      if (!a.contains(it.key())) return path + "." + it.key() + ": only in TO";
    return "";
  }
  if (a.is_array()) {
    if (a.size() != b.size())
      return path + ": " + std::to_string(a.size()) + " entries in FROM, " + std::to_string(b.size()) + " in TO";
    for (size_t i = 0; i < a.size(); ++i)
      if (std::string d = Difference(a[i], b[i], path + "[" + std::to_string(i) + "]"); !d.empty()) return d;
    return "";
  }
  if (a == b) return "";
  return path + ": " + Utf8Prefix(a.dump(), 80) + " in FROM, " + Utf8Prefix(b.dump(), 80) + " in TO";
}

/// Rows is one table of a tree as JSON rows with a label each, in a canonical order.
struct Rows {
  std::string table;
  std::vector<std::pair<std::string, json>> rows;  // label, row
};

std::vector<Rows> Canonical(const Tree& t) {
  std::vector<Rows> out(6);
  out[0].table = "runs";
  for (const auto& r : t.runs) out[0].rows.emplace_back("run " + r.id, RunJson(r));
  std::sort(out[0].rows.begin(), out[0].rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  out[1].table = "events";
  for (size_t i = 0; i < t.events.size(); ++i) {
    const auto& e = t.events[i];
    out[1].rows.emplace_back("event " + std::to_string(i + 1) + " (" + e.type + (e.node.empty() ? "" : " " + e.node) +
                                 " of run " + e.run_id + ")",
                             EventJson(e));
  }
  auto key = [](const std::string& run, const std::string& node, int iteration, int item) {
    return run + " " + node + "#" + std::to_string(iteration) + (item >= 0 ? "[" + std::to_string(item) + "]" : "");
  };
  out[2].table = "node_runs";
  for (const auto& n : t.node_runs)
    out[2].rows.emplace_back("node_run " + key(n.run_id, n.node, n.iteration, n.item) + " attempt " + std::to_string(n.attempt),
                             NodeRunJson(n));
  std::sort(out[2].rows.begin(), out[2].rows.end(), [](const auto& a, const auto& b) {
    const json &x = a.second, &y = b.second;
    return std::tie(x["run_id"].get_ref<const std::string&>(), x["node"].get_ref<const std::string&>(),
                    x["iteration"].get_ref<const int64_t&>(), x["item"].get_ref<const int64_t&>(),
                    x["attempt"].get_ref<const int64_t&>()) <
           std::tie(y["run_id"].get_ref<const std::string&>(), y["node"].get_ref<const std::string&>(),
                    y["iteration"].get_ref<const int64_t&>(), y["item"].get_ref<const int64_t&>(),
                    y["attempt"].get_ref<const int64_t&>());
  });
  out[3].table = "llm_calls";
  for (size_t i = 0; i < t.llm_calls.size(); ++i) {
    const auto& c = t.llm_calls[i];
    out[3].rows.emplace_back("llm_call " + std::to_string(i + 1) + " (" + key(c.run_id, c.node, c.iteration, c.item) + ")",
                             LlmCallJson(c));
  }
  out[4].table = "artifacts";
  for (const auto& a : t.artifacts) out[4].rows.emplace_back("artifact " + a.run_id + " " + a.name, ArtifactJson(a));
  std::sort(out[4].rows.begin(), out[4].rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  out[5].table = "approvals";
  for (const auto& a : t.approvals)
    out[5].rows.emplace_back("approval " + key(a.run_id, a.node, a.iteration, a.item), ApprovalJson(a));
  std::sort(out[5].rows.begin(), out[5].rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

/// TreeDifference is the first difference between a tree in FROM and in TO ("" : the same).
std::string TreeDifference(const Tree& from, const Tree& to) {
  auto a = Canonical(from), b = Canonical(to);
  for (size_t t = 0; t < a.size(); ++t) {
    const auto &x = a[t].rows, &y = b[t].rows;
    for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
      if (x[i].first != y[i].first) return x[i].first + " in FROM, " + y[i].first + " in TO";
      if (std::string d = Difference(x[i].second, y[i].second, ""); !d.empty())
        return x[i].first + ": " + (d[0] == '.' ? d.substr(1) : d);
    }
    if (x.size() != y.size())
      return a[t].table + ": " + std::to_string(x.size()) + " rows in FROM, " + std::to_string(y.size()) + " in TO";
  }
  return "";
}

/// BlobRefs adds the blob hashes j names: values of "blob" and "*_blob" keys at any depth.
void BlobRefs(const json& j, std::set<std::string>* out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      bool blob_key = k == "blob" || (k.size() > 5 && k.compare(k.size() - 5, 5, "_blob") == 0);
      if (blob_key && it.value().is_string() && IsHexDigest(it.value().get_ref<const std::string&>()))
        out->insert(it.value().get<std::string>());
      else if (it.value().is_structured())
        BlobRefs(it.value(), out);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) BlobRefs(v, out);
  }
}

/// Referenced is every blob the tree's rows and events name.
std::set<std::string> Referenced(const Tree& t) {
  std::set<std::string> out;
  auto add = [&](const std::string& h) {
    if (!h.empty()) out.insert(h);
  };
  for (const auto& r : t.runs) {
    BlobRefs(JsonText(r.options_json), &out);
    BlobRefs(JsonText(r.inputs_json), &out);
  }
  for (const auto& e : t.events) BlobRefs(JsonText(e.data), &out);
  for (const auto& n : t.node_runs) add(n.output_blob);
  for (const auto& c : t.llm_calls) {
    add(c.request_blob);
    add(c.response_blob);
    add(c.reply_blob);
  }
  for (const auto& a : t.artifacts) add(a.blob);
  return out;
}

/// CacheKeys is every cache entry the tree's events name: the key an attempt looked up
/// (attempt_started), hit (cache_hit) or an agent turn stored (agent_turn).
std::set<std::string> CacheKeys(const Tree& t) {
  std::set<std::string> out;
  for (const auto& e : t.events) {
    const char* field = e.type == "attempt_started" ? "cache_key"
                        : e.type == "cache_hit" || e.type == "agent_turn" ? "key"
                                                                           : nullptr;
    if (!field) continue;
    json d = JsonText(e.data);
    if (d.is_object() && d.contains(field) && d[field].is_string() && IsHexDigest(d[field].get_ref<const std::string&>()))
      out.insert(d[field].get<std::string>());
  }
  return out;
}

/// Count adds a tree's rows to the verification's counts.
void Count(const Tree& t, std::map<std::string, int64_t>* c) {
  (*c)["runs"] += static_cast<int64_t>(t.runs.size());
  (*c)["events"] += static_cast<int64_t>(t.events.size());
  (*c)["node_runs"] += static_cast<int64_t>(t.node_runs.size());
  (*c)["llm_calls"] += static_cast<int64_t>(t.llm_calls.size());
  (*c)["artifacts"] += static_cast<int64_t>(t.artifacts.size());
  (*c)["approvals"] += static_cast<int64_t>(t.approvals.size());
}

constexpr const char* kTables[] = {"runs",      "events", "node_runs", "llm_calls",     "artifacts",
                                   "approvals", "blobs",  "cache",     "schedule_fires"};

/// TopOf follows parent_id from run to its top-level run.
Result<store::RunRecord> TopOf(store::Store* st, store::RunRecord run) {
  for (int depth = 0; !run.parent_id.empty(); ++depth) {
    if (depth > 1000) return Failed("run " + run.id + ": its parents form a cycle");
    SW_ASSIGN_OR_RETURN(auto parent, st->GetRun(run.parent_id));
    if (!parent) return NotFound("run " + run.id + ": its parent " + run.parent_id + " is not in the store");
    run = std::move(*parent);
  }
  return run;
}

/// Which lists the top-level runs to copy, oldest first unless named.
Result<std::vector<std::string>> Which(store::Store* from, const CopyOptions& o) {
  std::vector<std::string> tops;
  if (o.runs.empty()) {
    SW_ASSIGN_OR_RETURN(auto runs, from->ListRuns(-1, false));
    for (auto it = runs.rbegin(); it != runs.rend(); ++it) tops.push_back(it->id);
    return tops;
  }
  for (const auto& name : o.runs) {
    auto id = from->ResolveRunId(name);
    if (!id.ok()) return Status(id.status().code(), "--run " + Quote(name) + ": " + id.status().message());
    SW_ASSIGN_OR_RETURN(auto run, from->GetRun(*id));
    if (!run) return NotFound("--run " + Quote(name) + ": no run " + *id + " in FROM");
    SW_ASSIGN_OR_RETURN(auto top, TopOf(from, std::move(*run)));
    if (top.id != *id && o.say) o.say("run " + *id + " is a sub-run of " + top.id + ": copying " + top.id + " whole");
    if (std::find(tops.begin(), tops.end(), top.id) == tops.end()) tops.push_back(top.id);
  }
  return tops;
}

/// Copier moves one tree at a time and keeps the verification's counts.
class Copier {
 public:
  Copier(store::Store* from, store::Store* to, const CopyOptions& o, CopyReport* rep)
      : from_(from), to_(to), o_(o), rep_(rep) {}

  Status Copy(const std::string& id) {
    SW_ASSIGN_OR_RETURN(auto top, from_->GetRun(id));
    if (!top) return Status::Ok();  // gone since it was listed (gc): nothing to copy
    SW_ASSIGN_OR_RETURN(Tree src, ReadTree(from_, *top));
    for (const auto& r : src.runs) {
      if (store::ProcessAlive(r))
        return Refuse(id, "run " + r.id + " is still running (pid " + std::to_string(r.pid) +
                              "); copy it when it has ended");
      // A detached run the workers have not finished: its queue rows stay behind in FROM,
      // so a copy would be a run that never moves on (a lapsed lease is taken over, not ended).
      if (r.status == "queued" || (r.status == "running" && dist::IsDetached(r)))
        return Refuse(id, "run " + r.id + " is " + r.status + " for workers; copy it when it has ended");
    }
    // What TO holds of it: the same (nothing to write), something else (refused), or nothing.
    SW_ASSIGN_OR_RETURN(auto there, to_->GetRun(id));
    bool write = true;
    if (there) {
      SW_ASSIGN_OR_RETURN(Tree dst, ReadTree(to_, *there));
      if (std::string d = TreeDifference(src, dst); !d.empty())
        return Refuse(id, "TO holds a run " + id + " with other content (" + d + ")");
      write = false;
    } else {
      // Sub-runs without their run are what an interrupted copy leaves (they are written
      // first, the run with every row last): taken over when the record is the one FROM
      // has and holds no rows; anything else is another run of that id, never overwritten.
      for (size_t i = 1; i < src.runs.size(); ++i) {
        SW_ASSIGN_OR_RETURN(auto sub, to_->GetRun(src.runs[i].id));
        if (!sub) continue;
        SW_ASSIGN_OR_RETURN(auto ev, to_->ListEvents(src.runs[i].id));
        SW_ASSIGN_OR_RETURN(auto nr, to_->ListNodeRuns(src.runs[i].id));
        SW_ASSIGN_OR_RETURN(auto calls, to_->ListLlmCalls(src.runs[i].id));
        if (!ev.empty() || !nr.empty() || !calls.empty())
          return Refuse(id, "TO holds its sub-run " + src.runs[i].id + " with rows of its own, without the run");
        if (std::string d = Difference(RunJson(src.runs[i]), RunJson(*sub), ""); !d.empty())
          return Refuse(id, "TO holds a run " + src.runs[i].id + " with other content (" + d.substr(d[0] == '.') + ")");
      }
    }
    // Cache entries the run's events name, as FROM has them (each with its output's blob).
    std::set<std::string> blobs = Referenced(src);
    std::vector<store::CacheEntry> entries;
    for (const auto& k : CacheKeys(src)) {
      SW_ASSIGN_OR_RETURN(auto e, from_->GetCache(k));
      if (!e) continue;  // never stored, or collected since
      if (!e->output_blob.empty()) blobs.insert(e->output_blob);
      entries.push_back(std::move(*e));
    }
    // Blobs and cache entries first (content-addressed, harmless alone), in bounded batches.
    int64_t blobs_from = 0, blobs_to = 0;
    std::vector<std::string> written;
    store::Batch batch;
    size_t bytes = 0;
    for (const auto& h : blobs) {
      auto have = to_->GetBlob(h);  // checks the content against the hash
      if (have.ok()) {
        ++blobs_from, ++blobs_to;  // one hash, one content: FROM's is this
        continue;
      }
      if (have.status().code() != Code::kNotFound) return have.status().Annotate("TO: blob " + h);
      auto data = from_->GetBlob(h);
      if (!data.ok() && data.status().code() == Code::kNotFound)
        return Refuse(id, "FROM lacks blob " + h + ", which the run references (`specwright store check` FROM)");
      if (!data.ok()) return data.status().Annotate("FROM: blob " + h);
      ++blobs_from;
      bytes += data->size();
      written.push_back(h);
      batch.blobs.emplace_back(h, std::move(*data));
      if (bytes >= o_.blob_batch_bytes) {
        SW_RETURN_IF_ERROR(to_->Commit(batch).Annotate("TO: writing blobs"));
        batch.clear();
        bytes = 0;
      }
    }
    for (auto& e : entries) {
      SW_ASSIGN_OR_RETURN(auto have, to_->GetCache(e.key));
      if (!have) batch.cache.push_back(e);  // TO's own entry of a key stays as it is
    }
    if (!batch.empty()) SW_RETURN_IF_ERROR(to_->Commit(batch).Annotate("TO: writing blobs and cache entries"));
    batch.clear();
    if (write) {
      for (size_t i = 1; i < src.runs.size(); ++i) {
        store::Batch b;
        b.run = src.runs[i];
        SW_RETURN_IF_ERROR(to_->Commit(b).Annotate("TO: writing run " + src.runs[i].id));
      }
      // The run and every row of it and its sub-runs in one transaction, in FROM's order.
      batch.run = src.runs[0];
      batch.events = src.events;
      batch.node_runs = src.node_runs;
      batch.llm_calls = src.llm_calls;
      batch.artifacts = src.artifacts;
      batch.approvals = src.approvals;
      for (auto& e : batch.events) e.seq = 0;
      for (auto& c : batch.llm_calls) c.id = 0;
      SW_RETURN_IF_ERROR(to_->Commit(batch).Annotate("TO: writing run " + id));
      batch.clear();
    }
    // Read back what TO has now: the rows, the blobs just written, the cache entries.
    for (const auto& h : written) {
      auto b = to_->GetBlob(h);
      if (b.ok()) ++blobs_to;
      else if (b.status().code() != Code::kNotFound) return b.status().Annotate("TO: blob " + h);
    }
    int64_t cache_to = 0;
    for (const auto& e : entries) {
      SW_ASSIGN_OR_RETURN(auto have, to_->GetCache(e.key));
      if (have) ++cache_to;
    }
    Count(src, &from_n_);
    from_n_["blobs"] += blobs_from;
    to_n_["blobs"] += blobs_to;
    from_n_["cache"] += static_cast<int64_t>(entries.size());
    to_n_["cache"] += cache_to;
    SW_ASSIGN_OR_RETURN(auto back, to_->GetRun(id));
    if (!back) {
      rep_->mismatched.emplace_back(id, "the run is not in TO after its copy");
      Say("MISMATCH " + id + ": the run is not in TO after its copy");
      return Status::Ok();
    }
    SW_ASSIGN_OR_RETURN(Tree dst, ReadTree(to_, *back));
    Count(dst, &to_n_);
    if (std::string d = TreeDifference(src, dst); !d.empty()) {
      rep_->mismatched.emplace_back(id, d);
      Say("MISMATCH " + id + ": TO reads back otherwise: " + d);
      return Status::Ok();
    }
    (write ? rep_->copied : rep_->unchanged).push_back(id);
    Say(std::string(write ? "copied " : "unchanged ") + id + Summary(src, blobs_from, entries.size()));
    return Status::Ok();
  }

  /// Fires copies the schedule_fires rows (every one; with runs, those of these runs): a row
  /// goes in where TO has none of its window (ClaimFire: insert if absent), so a scheduler on
  /// TO knows each window was dealt with and fires none of them again; TO's own row of a
  /// window is kept. Counted like the other tables: FROM's rows, and those TO has afterwards.
  Status Fires(const std::set<std::string>* runs) {
    auto all = from_->ListFires("", 0);
    if (!all.ok()) return all.status().Annotate("FROM: schedule fires");
    std::vector<store::FireRecord> fires;
    for (auto& f : *all)
      if (!runs || (!f.run_id.empty() && runs->count(f.run_id))) fires.push_back(std::move(f));
    auto key = [](const store::FireRecord& f) { return std::make_pair(f.schedule, f.fire_at); };
    int64_t copied = 0, kept = 0;
    for (auto it = fires.rbegin(); it != fires.rend(); ++it) {  // oldest first
      auto won = to_->ClaimFire(*it);
      if (!won.ok()) return won.status().Annotate("TO: the fire of " + it->schedule);
      ++(*won ? copied : kept);
    }
    std::vector<store::FireRecord> there;
    if (!fires.empty()) {
      auto got = to_->ListFires("", 0);
      if (!got.ok()) return got.status().Annotate("TO: schedule fires");
      there = std::move(*got);
    }
    std::map<std::pair<std::string, double>, const store::FireRecord*> in_to;
    for (const auto& f : there) in_to[key(f)] = &f;
    int64_t found = 0, differ = 0;
    for (const auto& f : fires) {
      auto t = in_to.find(key(f));
      if (t == in_to.end()) continue;
      ++found;
      const auto& g = *t->second;
      if (g.run_id != f.run_id || g.status != f.status || g.error != f.error || g.note != f.note) ++differ;
    }
    from_n_["schedule_fires"] += static_cast<int64_t>(fires.size());
    to_n_["schedule_fires"] += found;
    if (!fires.empty())
      Say("schedule fires: " + std::to_string(copied) + " copied, " + std::to_string(kept) + " already there" +
          (differ ? " (" + std::to_string(differ) + " of them otherwise in TO: TO's kept)" : ""));
    return Status::Ok();
  }

  void Finish() {
    for (const char* t : kTables) rep_->counts.push_back({t, from_n_[t], to_n_[t]});
  }

 private:
  static std::string Summary(const Tree& t, int64_t blobs, size_t cache) {
    std::string s = " (";
    if (t.runs.size() > 1) s += std::to_string(t.runs.size() - 1) + " sub-runs, ";
    return s + std::to_string(t.events.size()) + " events, " + std::to_string(t.llm_calls.size()) + " model calls, " +
           std::to_string(blobs) + " blobs, " + std::to_string(cache) + " cache entries)";
  }

  Status Refuse(const std::string& id, const std::string& why) {
    rep_->refused.emplace_back(id, why);
    Say("refused " + id + ": " + why);
    return Status::Ok();
  }

  void Say(const std::string& line) {
    if (o_.say) o_.say(line);
  }

  store::Store* from_;
  store::Store* to_;
  const CopyOptions& o_;
  CopyReport* rep_;
  std::map<std::string, int64_t> from_n_, to_n_;  // the verification's counts by table
};

}  // namespace

bool CopyReport::ok() const {
  if (!refused.empty() || !mismatched.empty()) return false;
  for (const auto& c : counts)
    if (c.from != c.to) return false;
  return true;
}

Result<CopyReport> CopyRuns(store::Store* from, store::Store* to, const CopyOptions& options) {
  CopyReport rep;
  SW_ASSIGN_OR_RETURN(auto tops, Which(from, options));
  Copier c(from, to, options, &rep);
  for (const auto& id : tops) SW_RETURN_IF_ERROR(c.Copy(id).Annotate("run " + id));
  // The fires: all of them, or with --run those of the runs copied (and of their windows only).
  std::set<std::string> runs;
  runs.insert(rep.copied.begin(), rep.copied.end());
  runs.insert(rep.unchanged.begin(), rep.unchanged.end());
  SW_RETURN_IF_ERROR(c.Fires(options.runs.empty() ? nullptr : &runs));
  c.Finish();
  return rep;
}

}  // namespace sw::cli
