#include "process/session.h"

#include <filesystem>
#include <set>

#include <yaml-cpp/yaml.h>

#include "workflow/yaml_json.h"

#include "base/clock.h"
#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"
#include "engine/control.h"

namespace sw::process {
namespace fs = std::filesystem;

namespace {
constexpr const char* kStateFile = ".specwright/process.json";
}

std::string PhaseDef::IdForms() const {
  std::vector<std::string> f;
  for (const auto& p : prefixes) f.push_back(p + "-" + (number.empty() ? "NN" : number) + "-NNN");
  return Join(f, ", ");
}

Status Session::Load() {
  std::string file = o_.process_dir + "/process.yaml";
  try {
    SW_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlFile(file));
    for (const auto& p : root["phases"]) {
      PhaseDef d;
      d.name = p["name"].as<std::string>();
      d.title = p["title"] ? p["title"].as<std::string>() : d.name;
      d.number = p["number"] ? p["number"].as<std::string>() : "";
      d.doc = p["doc"] ? p["doc"].as<std::string>() : "";
      if (p["prefixes"])
        for (const auto& x : p["prefixes"]) d.prefixes.push_back(x.as<std::string>());
      if (p["guideline"])
        for (const auto& kv : p["guideline"]) d.guideline[kv.first.as<std::string>()] = kv.second.as<std::string>();
      if (p["checklist"]) d.checklist = p["checklist"].as<std::string>();
      d.gate = p["gate"] && p["gate"].as<bool>();
      // The phase's data must be there: a missing file would silently weaken a prompt.
      std::vector<std::string> files;
      for (const auto& [tier, f] : d.guideline) files.push_back(f);
      if (!d.checklist.empty()) files.push_back(d.checklist);
      for (const auto& f : files)
        if (f.find("..") != std::string::npos || !fs::is_regular_file(o_.process_dir + "/" + f))
          return InvalidInput(file + ": phase " + d.name + " names " + Quote(f) + ", which is not a file in " +
                              o_.process_dir);
      phases_.push_back(std::move(d));
    }
    if (root["limits"])
      for (const auto& kv : root["limits"]) limits_[kv.first.as<std::string>()] = kv.second.as<int>();
  } catch (const YAML::Exception& e) {
    return InvalidInput(file + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " +
                        e.msg);
  }
  if (phases_.empty()) return InvalidInput(file + ": no phases");
  std::string state_path = Path(kStateFile);
  if (fs::exists(state_path)) {
    SW_ASSIGN_OR_RETURN(std::string text, ReadFile(state_path));
    state_ = json::parse(text, nullptr, false);
    if (!state_.is_object()) return InvalidInput(state_path + " is not valid JSON; it holds the process's state");
  }
  return Status::Ok();
}

Status Session::Save() {
  MakeDirs(Path(".specwright"));
  return WriteFileAtomic(Path(kStateFile), state_.dump(2) + "\n");
}

const PhaseDef* Session::Phase(const std::string& name) const {
  for (const auto& p : phases_)
    if (p.name == name) return &p;
  return nullptr;
}

int Session::Limit(const std::string& name, int fallback) const {
  return limits_.contains(name) ? limits_[name].get<int>() : fallback;
}

Status Session::OpenRepo() {
  SW_ASSIGN_OR_RETURN(repo_, tools::GitRepo::Open(o_.project));
  return Status::Ok();
}

Status Session::InitRepo() {
  SW_ASSIGN_OR_RETURN(repo_, tools::GitRepo::Init(o_.project, "specwright/develop"));
  return Status::Ok();
}

std::string Session::Path(const std::string& rel) const { return (fs::path(o_.project) / rel).string(); }

std::string Session::Read(const std::string& rel) const {
  auto t = ReadFile(Path(rel));
  return t.ok() ? *t : "";
}

Status Session::Write(const std::string& rel, const std::string& text) {
  std::error_code ec;
  fs::create_directories(fs::path(Path(rel)).parent_path(), ec);
  SW_RETURN_IF_ERROR(WriteFileAtomic(Path(rel), text));
  // Remembered, so a file the process wrote and has not committed yet is not taken for a
  // person's edit (RefuseForeignChanges); an edit after it changes the hash.
  state_["written"][rel] = Hash128Hex(text);
  return Status::Ok();
}

std::string Session::Docs(const std::vector<std::string>& names) const {
  std::string out;
  for (const auto& n : names) {
    const PhaseDef* p = Phase(n);
    if (!p || p->doc.empty()) continue;
    std::string text = Read(p->doc);
    if (text.empty()) continue;
    out += "<!-- " + p->doc + " -->\n" + text + (text.ends_with("\n") ? "" : "\n") + "\n";
  }
  return out;
}

std::string Session::WorkspacePrefsPath() const {
  return o_.prefs_file.empty() ? Path(".specwright/preferences.md") : o_.prefs_file;
}

std::string Session::PreferencesText(const std::string& phase) const {
  // Phase first, then the workspace's: a topic the phase decided hides the workspace's answer.
  Preferences merged = Preferences::Parse(Read(PhasePrefsPath(phase)));
  auto ws = ReadFile(WorkspacePrefsPath());
  Preferences workspace = Preferences::Parse(ws.ok() ? *ws : "");
  for (const auto& topic : workspace.Topics())
    if (!merged.Get(topic)) merged.Set(topic, *workspace.Get(topic), "workspace preferences");
  return merged.empty() ? "" : merged.ToMarkdown("Preferences");
}

Status Session::WriteContext() {
  std::string out = "# CONTEXT\n\nKept by `specwright develop` and given to every agent: the decisions, conventions and "
                    "gotchas of this project.\n\n## Project\n\n";
  out += "- Brief: " + state_.value("brief", std::string("BRIEF.md")) + "\n";
  if (state_.contains("complexity"))
    out += "- Complexity: " + std::to_string(state_["complexity"].value("score", 0)) + "/10, template tier " +
           state_["complexity"].value("tier", std::string()) + "\n";
  out += "- Tests: `" + o_.qa_command + "`\n";
  out += "\n## Conventions\n\n"
         "- Spec items are Markdown headings that start with their ID (REQ-01-001 ... TC-06-009) under specs/; an item "
         "names what it derives from on a `Traces:` line.\n"
         "- Code cites the IDs it implements in a comment (`Implements: REQ-01-001`); tests are named after their test "
         "case (`TC_06_001_...`) and print `PASS TC-06-001` or `FAIL TC-06-001: why`.\n"
         "- Each task changes the files its plan names.\n";
  if (state_.contains("decisions") && !state_["decisions"].empty()) {
    out += "\n## Decisions\n\n";
    for (const auto& d : state_["decisions"]) out += "- " + d.get<std::string>() + "\n";
  }
  if (state_.contains("gotchas") && !state_["gotchas"].empty()) {
    out += "\n## Gotchas\n\n";
    for (const auto& d : state_["gotchas"]) out += "- " + d.get<std::string>() + "\n";
  }
  // The changes made since the develop, so an agent knows the project moved on from the brief.
  if (state_.contains("modifies") && state_["modifies"].is_array() && !state_["modifies"].empty()) {
    out += "\n## Changes since the develop\n\n";
    int n = 0;
    for (const auto& m : state_["modifies"]) {
      ++n;
      if (!m.is_object()) continue;
      out += "- " + m.value("kind", std::string("modify")) + " " + std::to_string(n) + " (" +
             m.value("status", std::string("?")) + "): " + m.value("request", std::string()) + "\n";
    }
  }
  return Write("CONTEXT.md", out);
}

void Session::Spent(const std::string& prefix, int64_t* tokens, double* usd) const {
  *tokens = 0;
  *usd = 0;
  if (!state_.contains("steps")) return;
  for (const auto& [key, st] : state_["steps"].items()) {
    if (!key.starts_with(prefix)) continue;
    *tokens += st.value("tokens", int64_t{0});
    *usd += st.value("cost_usd", 0.0);
  }
}

Status Session::ResetKeepingAside(const std::string& start, const std::string& why) {
  SW_ASSIGN_OR_RETURN(tools::KeptAside kept, repo_->KeepAside("specwright: kept aside before " + why, start));
  if (!kept.files.empty()) {
    std::string list;
    json files = json::array();
    for (size_t i = 0; i < kept.files.size(); ++i) {
      files.push_back({{"path", kept.files[i].first}, {"status", kept.files[i].second}});
      if (i < 12) list += "\n    " + kept.files[i].second + "  " + kept.files[i].first;
    }
    if (kept.files.size() > 12) list += "\n    … and " + std::to_string(kept.files.size() - 12) + " more";
    Say("kept aside " + std::to_string(kept.files.size()) + " changed file(s) since the step began — your edits and "
        "commits, or what the interrupted run had written — before " + why + ":" + list +
        "\n  they are in git at " + kept.ref + "; take one back with `git -C " + o_.project + " checkout " + kept.ref +
        " -- PATH`, or see them all with `git -C " + o_.project + " show --stat " + kept.ref + "`");
    if (!state_["kept"].is_array()) state_["kept"] = json::array();
    state_["kept"].push_back({{"ref", kept.ref}, {"commit", kept.commit}, {"before", why}, {"files", files},
                              {"at", SystemClock::Default()->WallNow()}});
    SW_RETURN_IF_ERROR(Save());
  }
  return repo_->ResetHard(start, /*remove_ignored=*/false);
}

Status Session::RefuseForeignChanges(const std::string& label, bool resuming, const std::set<std::string>& ours) {
  SW_ASSIGN_OR_RETURN(json all, repo_->Status());
  json status = json::array();
  const json written = state_.value("written", json::object());
  for (const auto& f : all) {
    std::string path = f.value("path", std::string());
    if (ours.count(path)) continue;
    auto w = written.find(path);
    if (w != written.end() && f.value("status", std::string()) != "deleted") {
      auto now = ReadFile(Path(path));
      if (now.ok() && Hash128Hex(*now) == w->get<std::string>()) continue;  // the process's own write
    }
    status.push_back(f);
  }
  if (status.empty()) return Status::Ok();
  std::string list;
  for (size_t i = 0; i < status.size() && i < 12; ++i)
    list += "\n    " + status[i].value("status", std::string()) + "  " + status[i].value("path", std::string());
  if (status.size() > 12) list += "\n    … and " + std::to_string(status.size() - 12) + " more";
  std::string git = "git -C " + o_.project;
  // A commit is theirs to keep only where the process goes on from it: not while a step waits
  // (its squash would fold it in) and not inside a change (its guard puts back what is outside
  // the impact since the change began).
  bool stash_only = resuming || in_change_;
  return Status(Code::kFailed,
                o_.project + " has changes no step of the process made, so " + label + " does not " +
                    (resuming ? "go on" : "start") + " (it would write over them or commit them as its own):" + list +
                    (stash_only ? "\n  put them away with `" + git + " stash -u` and run the same command again; take them "
                                  "back with `" + git + " stash pop` when it is done"
                                : "\n  keep them as yours with `" + git + " add -A && " + git +
                                      " commit -m \"...\"` (the process goes on from your commit), or put them away "
                                      "with `" + git + " stash -u`; then run the same command again"));
}

Result<std::string> Session::CommitOwn(const std::string& message, const std::string& label,
                                       const std::set<std::string>& ours) {
  SW_RETURN_IF_ERROR(RefuseForeignChanges(label, /*resuming=*/false, ours));
  return repo_->CommitAll(message);
}

Result<std::string> Session::Squash(const std::string& start, const std::string& message) {
  SW_RETURN_IF_ERROR(repo_->ResetMixed(start));
  return repo_->CommitAll(message);
}

Result<StepOutcome> Session::RunStep(const std::string& key, const std::string& label, const std::string& file,
                                     json inputs, const std::string& message,
                                     const std::function<Status(const std::string&, const json&)>& finish) {
  json& st = Step(key);
  StepOutcome out;
  if (st.value("status", "") == "done") {
    out.outputs = st.value("outputs", json::object());
    out.run_id = st.value("run", "");
    return out;
  }
  SW_ASSIGN_OR_RETURN(auto loaded, workflow::LoadOrError(o_.process_dir + "/" + file));
  SW_ASSIGN_OR_RETURN(auto bound, BindRoles(*loaded, o_.roles));
  if (!bound->shell.allow.empty()) {
    // The project's own build and test programs (process: qa_allow) may run too.
    auto copy = std::make_shared<workflow::Workflow>(*bound);
    for (const auto& a : o_.qa_allow)
      if (std::find(copy->shell.allow.begin(), copy->shell.allow.end(), a) == copy->shell.allow.end())
        copy->shell.allow.push_back(a);
    bound = copy;
  }
  std::map<std::string, json> given;
  for (auto& [k, v] : inputs.items()) given[k] = v;
  SW_ASSIGN_OR_RETURN(json resolved, workflow::ResolveInputs(*bound, given));

  StepRun run;
  run.label = label;
  run.session = session_id_;
  run.wf = bound;
  run.inputs = resolved;
  run.workspace = o_.project;
  std::string last = st.value("run", "");
  std::optional<store::RunRecord> rec;
  if (!last.empty()) {
    SW_ASSIGN_OR_RETURN(rec, o_.store->GetRun(last));
  }
  if (rec && rec->status == "running" && !store::ProcessAlive(*rec)) {
    // Its process died mid-run (a crash, a kill): close it with what it really spent, so this
    // step's spend, PR.md and `specwright runs` count it.
    SW_ASSIGN_OR_RETURN(store::RunRecord closed, engine::CloseAbandoned(o_.store, *rec));
    rec = closed;
    Say("run " + last + " of " + label + " was abandoned when its process ended; closed with what it spent: " +
        FormatUsd(closed.cost_usd) + (closed.cost_unknown ? " + unknown" : "") + ", " +
        std::to_string(closed.tokens_in + closed.tokens_out) + " tokens");
  }
  if (rec && rec->status == "waiting") {
    // While it waited a person may have edited the project: the step's commit must not take
    // their changes as its own.
    SW_RETURN_IF_ERROR(RefuseForeignChanges(label, /*resuming=*/true, {}));
    run.resume_id = last;
    Say("continuing " + label + " (run " + last + " waits for a decision)");
  } else {
    if (rec && store::ProcessAlive(*rec))
      return Failed("step " + label + " is running in another process (run " + last + ", pid " +
                                std::to_string(rec->pid) + ")");
    if (o_.no_cache) run.no_cache = true;
    if (st.value("fresh", false)) {
      run.no_cache = true;
      st.erase("fresh");  // once: if this attempt is only interrupted, the next keeps its cache
      Say("the last attempt at " + label + " failed on what the models answered; running it again without the cache, "
          "so they answer afresh");
    }
    std::string start = st.value("start", "");
    if (!start.empty()) {
      // What an interrupted attempt wrote goes (kept in git, never deleted); the new run redoes
      // it, its model calls from the cache.
      SW_RETURN_IF_ERROR(ResetKeepingAside(start, label + " started again"));
      Say("continuing " + label + " from where it stopped (finished model calls come from the cache)");
    } else {
      // A new step writes over the work tree and commits all of it: changes no step made
      // (a person's edits, new or deleted files) stop it instead of becoming the step's.
      SW_RETURN_IF_ERROR(RefuseForeignChanges(label, /*resuming=*/false, {}));
      SW_ASSIGN_OR_RETURN(start, repo_->Head());
      st["start"] = start;
    }
    run.run_id = store::UnusedRunId(o_.store, SystemClock::Default()->WallNow());
    st["run"] = run.run_id;
    st["runs"].push_back(run.run_id);
    st["status"] = "running";
    st["label"] = label;
    SW_RETURN_IF_ERROR(Save());
  }
  auto summary = o_.run(run);
  if (!summary.ok()) {
    SW_RETURN_IF_ERROR(Save());
    return summary.status().Annotate(label);
  }
  std::string id = summary->run_id;
  // What the step's runs spent, from the store (a resumed run's total included).
  int64_t tokens = 0;
  double usd = 0;
  for (const auto& r : st["runs"]) {
    auto got = o_.store->GetRun(r.get<std::string>());
    if (got.ok() && *got) {
      tokens += (*got)->tokens_in + (*got)->tokens_out;
      usd += (*got)->cost_usd;
    }
  }
  st["tokens"] = tokens;
  st["cost_usd"] = usd;
  if (summary->status == "waiting") {
    st["status"] = "waiting";
    SW_RETURN_IF_ERROR(Save());
    out.waiting = true;
    out.run_id = id;
    return out;
  }
  if (summary->status != "succeeded") {
    st["status"] = summary->status;
    // A verify-fix loop that ran out, or an agent stopped for what it did (its turns are in
    // the cache), is about what the models wrote: the cache would give the same answers
    // again. Anything else (a provider down, a cancel) keeps the cache.
    bool content = false;
    for (const char* why : {"reached max_iterations", "used its max_turns", "loop guard:", "the final answer:"})
      content |= summary->error.find(why) != std::string::npos;
    if (content) st["fresh"] = true;
    SW_RETURN_IF_ERROR(Save());
    return Status(Code::kFailed,
                  label + " " + summary->status + (summary->error.empty() ? "" : ": " + summary->error) + " (run " + id +
                      "; `specwright show " + id + "` has the details). Run the same command again to continue" +
                      (content ? ": the models will answer afresh."
                               : ": finished model calls come from the cache and are not paid twice."));
  }
  out.outputs = summary->outputs;
  out.run_id = id;
  std::string start = st.value("start", "");
  if (finish) {
    Status f = finish(start, out.outputs);
    if (!f.ok()) {
      // What the models answered could not be used: the next attempt asks them afresh.
      st["status"] = "failed";
      st["fresh"] = true;
      SW_RETURN_IF_ERROR(Save());
      return f.Annotate(label + " (run " + id + ")");
    }
  } else {
    // The engine's checkpoints of the step become one commit ("" when nothing changed).
    SW_ASSIGN_OR_RETURN(std::string c, Squash(start, (message.empty() ? "specwright: " + label : message) + "\n\nRun: " + id));
    st["commit"] = c;
  }
  st["status"] = "done";
  st.erase("fresh");
  st["outputs"] = out.outputs;
  SW_RETURN_IF_ERROR(Save());
  return out;
}

std::string ItemsText(const spec::Corpus& c, const std::set<std::string>& ids) {
  std::string out;
  for (const auto& it : c.items) {
    if (!ids.count(it.id)) continue;
    out += std::string(static_cast<size_t>(std::max(1, it.level)), '#') + " " + it.id + " " + it.title + "\n" + it.body;
    if (!out.ends_with("\n")) out += "\n";
    out += "\n";
  }
  return out;
}

}  // namespace sw::process
