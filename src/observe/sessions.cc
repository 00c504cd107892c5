// Sessions: the runs of one `develop`, `modify`, update or `review` (RunRecord::session), folded
// into what a person asks of them — the steps in order with their status, rounds, gates and
// spend, the change's route and impact plan, and QA. The runs come from the store; what the
// process decided (routes, kept items, verify rounds) from the project's state file,
// .specwright/process.json, which is read, never written.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include "base/fs.h"
#include "base/strings.h"
#include "observe/observe.h"

namespace sw::observe {
namespace {

namespace fs = std::filesystem;

constexpr uintmax_t kMaxStateBytes = 32u << 20;  // a state file past this is not read

std::string KindOf(const std::string& session) { return session.substr(0, session.find('-')); }

std::string ProjectOf(const store::RunRecord& r) {
  json o = json::parse(r.options_json, nullptr, false);
  return o.is_object() && o.contains("project") && o["project"].is_string() ? o["project"].get<std::string>() : "";
}

std::string StepOf(const store::RunRecord& r) {
  json o = json::parse(r.options_json, nullptr, false);
  return o.is_object() && o.contains("process") && o["process"].is_string() ? o["process"].get<std::string>() : "";
}

int64_t GateRounds(store::Store* st, const std::string& run_id) {
  int64_t n = 0;
  auto approvals = st->ListApprovals(run_id);
  if (approvals.ok())
    for (const auto& a : *approvals) n += a.node == "approve" && a.decision != "pending" && a.by != "auto";
  return n;
}

/// The project's state file, or null (missing, too large, not JSON: the session is still
/// shown from its runs, with a note).
json ReadState(const std::string& project, std::string* note) {
  if (project.empty()) return nullptr;
  std::string path = (fs::path(project) / ".specwright" / "process.json").string();
  std::error_code ec;
  uintmax_t size = fs::file_size(path, ec);
  if (ec) {
    *note = "the project's state file " + path + " is not there (moved or deleted); the steps are shown from the store";
    return nullptr;
  }
  if (size > kMaxStateBytes) {
    *note = path + " is " + std::to_string(size) + " bytes, over the " + std::to_string(kMaxStateBytes) + " read here";
    return nullptr;
  }
  auto text = ReadFile(path);
  json st = text.ok() ? json::parse(*text, nullptr, false) : json();
  if (!st.is_object()) {
    *note = path + " is not a JSON object";
    return nullptr;
  }
  return st;
}

}  // namespace

json SessionsJson(store::Store* st, const std::vector<store::RunRecord>& runs, int limit) {
  std::map<std::string, json> by_id;
  std::vector<std::string> order;  // newest session first (runs come newest first)
  for (const auto& r : runs) {
    if (r.session.empty()) continue;
    auto [it, fresh] = by_id.try_emplace(r.session);
    json& row = it->second;
    if (fresh) {
      order.push_back(r.session);
      // The newest run's status; a run whose process died while it ran is abandoned.
      std::string status = r.status == "running" && !store::ProcessAlive(r) ? "abandoned" : r.status;
      row = {{"session", r.session}, {"kind", KindOf(r.session)}, {"project", ProjectOf(r)},
             {"status", status},
             {"last_run_at", r.created_at}, {"runs", 0}, {"steps", json::array()}, {"gate_rounds", 0},
             {"tokens", 0}, {"cost_usd", 0.0}, {"cost_known", true}};
    }
    row["started_at"] = r.created_at;
    // When its last run ended (0 while one runs or waits): the session's duration ends there.
    if (!row.contains("finished_at")) row["finished_at"] = r.finished_at;
    if (r.finished_at <= 0) row["finished_at"] = 0.0;
    else if (row["finished_at"].get<double>() > 0) row["finished_at"] = std::max(row["finished_at"].get<double>(), r.finished_at);
    row["runs"] = row["runs"].get<int64_t>() + 1;
    row["tokens"] = row["tokens"].get<int64_t>() + r.tokens_in + r.tokens_out;
    row["cost_usd"] = row["cost_usd"].get<double>() + r.cost_usd;
    if (r.cost_unknown) row["cost_known"] = false;
    json& steps = row["steps"];
    if (!r.label.empty() && std::find(steps.begin(), steps.end(), r.label) == steps.end())
      steps.insert(steps.begin(), r.label);  // oldest first
    row["gate_rounds"] = row["gate_rounds"].get<int64_t>() + GateRounds(st, r.id);
  }
  json out = json::array();
  for (const auto& id : order) {
    if (limit > 0 && static_cast<int>(out.size()) >= limit) break;
    out.push_back(std::move(by_id[id]));
  }
  return out;
}

Result<std::string> SessionProject(const std::vector<store::RunRecord>& runs, const std::string& id) {
  for (const auto& r : runs)
    if (r.session == id) return ProjectOf(r);
  return NotFound("no session " + Quote(id) + " in the store (`specwright sessions` lists them)");
}

Result<json> SessionJson(store::Store* st, const std::vector<store::RunRecord>& runs, const std::string& id) {
  std::vector<const store::RunRecord*> mine;  // oldest first
  for (auto it = runs.rbegin(); it != runs.rend(); ++it)
    if (it->session == id) mine.push_back(&*it);
  if (mine.empty()) return NotFound("no session " + Quote(id) + " in the store (`specwright sessions` lists them)");
  std::vector<store::RunRecord> own;  // newest first, as SessionsJson wants them
  for (auto it = mine.rbegin(); it != mine.rend(); ++it) own.push_back(**it);
  json out = SessionsJson(st, own, 0).at(0);
  json run_rows = json::array();
  std::map<std::string, const store::RunRecord*> run_of;
  for (const auto* r : mine) {
    run_of[r->id] = r;
    run_rows.push_back({{"id", r->id}, {"label", r->label}, {"step", StepOf(*r)}, {"workflow", r->workflow_name},
                        {"status", r->status}, {"created_at", r->created_at}, {"finished_at", r->finished_at},
                        {"tokens", r->tokens_in + r->tokens_out}, {"cost_usd", r->cost_usd},
                        {"cost_known", !r->cost_unknown}, {"gate_rounds", GateRounds(st, r->id)}, {"error", r->error}});
  }
  out["run_list"] = run_rows;

  // What the process recorded: the develop's steps, or one change's (its steps carry "mN-").
  std::string note;
  json state = ReadState(out.value("project", ""), &note);
  std::string prefix;
  json change;
  if (state.is_object()) {
    const json mods = state.value("modifies", json::array());
    for (size_t i = 0; i < mods.size(); ++i)
      if (mods[i].is_object() && mods[i].value("session", "") == id) {
        prefix = "m" + std::to_string(i + 1) + "-";
        change = mods[i];
      }
    if (prefix.empty() && state.value("session", "") != id) {
      note = "the project's state file belongs to another develop (" + state.value("session", std::string("?")) +
             "); the steps are shown from the store";
      state = nullptr;
    }
  }
  json steps = json::array();
  if (state.is_object()) {
    const json recorded = state.value("steps", json::object());  // bound: items() of a temporary dangles
    for (const auto& [key, step] : recorded.items()) {
      bool is_change_step = key.size() > 1 && key[0] == 'm' && std::isdigit(static_cast<unsigned char>(key[1])) &&
                            key.find('-') != std::string::npos;
      if (prefix.empty() ? is_change_step : !key.starts_with(prefix)) continue;
      json s{{"key", prefix.empty() ? key : key.substr(prefix.size())},
             {"label", step.value("label", "")},
             {"status", step.value("status", "")},
             {"tokens", step.value("tokens", int64_t{0})},
             {"cost_usd", step.value("cost_usd", 0.0)},
             {"verify_rounds", step.value("verify_rounds", 0)},
             {"gate", step.value("gate", json::array())},
             {"runs", step.value("runs", json::array())}};
      double started = 0, finished = 0;
      bool open = false;  // a run of the step has not finished
      for (const auto& r : s["runs"]) {
        auto at = run_of.find(r.is_string() ? r.get<std::string>() : "");
        if (at == run_of.end()) continue;
        if (started == 0 || at->second->created_at < started) started = at->second->created_at;
        finished = std::max(finished, at->second->finished_at);
        open |= at->second->finished_at <= 0;
      }
      if (open) finished = 0;
      if (s["runs"].empty() || started == 0) continue;  // a step with no run of this session
      s["started_at"] = started;
      s["finished_at"] = finished;
      steps.push_back(std::move(s));
    }
    std::stable_sort(steps.begin(), steps.end(),
              [](const json& a, const json& b) { return a["started_at"].get<double>() < b["started_at"].get<double>(); });
    // Between two steps the newest run has finished while the develop or change has not: what
    // the process recorded says whether it is done.
    std::string recorded_status = prefix.empty() ? state.value("status", "") : change.value("status", "");
    out["finished"] = recorded_status == "done" || recorded_status == "abandoned";
    if (!out["finished"].get<bool>() && out.value("status", "") == "succeeded") out["status"] = "unfinished";
    if (prefix.empty()) {
      out["complexity"] = state.value("complexity", json());
      out["qa"] = state.value("qa", json());
      json tasks = json::array();
      for (const auto& t : state.value("tasks", json::array()))
        if (t.is_object())
          tasks.push_back({{"id", t.value("id", "")}, {"title", t.value("title", "")}, {"path", t.value("path", "")},
                           {"path_reason", t.value("path_reason", "")}, {"files", t.value("files", json::array())}});
      out["tasks"] = tasks;
      out["tests_first"] = state.value("tests_first", json());
    } else {
      json c = json::object();
      for (const char* k : {"kind", "request", "category", "entry", "reason", "targets", "plan", "kept", "changed",
                            "phases", "skipped", "status", "estimate", "spent"})
        if (change.contains(k)) c[k] = change[k];
      out["change"] = c;
      out["qa"] = state.value(prefix + "qa", json());
    }
  }
  out["step_list"] = steps;
  if (!note.empty()) out["note"] = note;
  return out;
}

}  // namespace sw::observe
