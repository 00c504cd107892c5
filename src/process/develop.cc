// specwright develop: brief -> complexity -> requirements -> domain -> stories -> architecture
// -> API -> tasks -> development waves -> test cases and their code -> review -> QA -> PR.md.
#include <algorithm>
#include <filesystem>
#include <set>

#include "base/fs.h"
#include "base/hash.h"
#include "base/clock.h"
#include "base/ids.h"
#include "base/strings.h"
#include "process/internal.h"

namespace sw::process {
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kSpecPhases{"requirements", "domain", "stories", "architecture", "api"};

std::string Guideline(const Session& s, const PhaseDef& p, const std::string& tier) {
  auto it = p.guideline.find(tier);
  if (it == p.guideline.end()) it = p.guideline.find("all");
  if (it == p.guideline.end()) return "";
  auto t = ReadFile(s.options().process_dir + "/" + it->second);
  return t.ok() ? *t : std::string();
}

std::string Checklist(const Session& s, const PhaseDef& p) {
  if (p.checklist.empty()) return "";
  auto t = ReadFile(s.options().process_dir + "/" + p.checklist);
  return t.ok() ? *t : std::string();
}

}  // namespace

std::vector<std::string> PhasesBefore(const Session& s, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& p : s.phases()) {
    if (p.name == name) break;
    if (!p.doc.empty() && p.name != "tasks") out.push_back(p.name);
  }
  return out;
}

json PhaseInputs(Session& s, const PhaseDef& p, const std::string& upstream) {
  const json& st = s.state();
  std::string tier = st.contains("complexity") ? st["complexity"].value("tier", "standard") : "standard";
  return json{{"phase", p.name},
              {"title", p.title},
              {"tier", tier},
              {"ids", p.IdForms()},
              {"prefixes", Join(p.prefixes, ", ")},
              {"guideline", Guideline(s, p, tier)},
              {"checklist", Checklist(s, p)},
              {"brief", s.Read(st.value("brief", "BRIEF.md"))},
              {"upstream", upstream},
              {"context", s.Context()},
              {"preferences", s.PreferencesText(p.name)},
              {"path", p.doc},
              {"gate", p.gate}};
}

std::string CommitMessage(const PhaseDef& p) {
  return "specs(" + p.name + "): " + p.title + (p.prefixes.empty() ? "" : " (" + Join(p.prefixes, ", ") + ")");
}

Status CommitTasks(Session& s, const std::string& start, const std::vector<Task>& tasks, const std::string& run,
                   json* record) {
  SW_RETURN_IF_ERROR(s.repo()->ResetMixed(start));
  json commits = json::array();
  std::set<std::string> declared;
  for (const auto& t : tasks) {
    declared.insert(t.files.begin(), t.files.end());
    std::string msg = t.id + ": " + t.title + "\n\nImplements: " + Join(t.implements, ", ") + "\nPath to code: " + t.path +
                      " (" + t.path_reason + ")\nRun: " + run;
    // A single task owns everything its run changed; tasks of a parallel wave own their files.
    auto c = tasks.size() == 1 ? s.repo()->CommitAll(msg) : s.repo()->CommitPaths(msg, t.files);
    if (!c.ok()) return c.status();
    commits.push_back({{"task", t.id}, {"commit", *c}});
  }
  SW_ASSIGN_OR_RETURN(std::string before, s.repo()->Head());
  SW_ASSIGN_OR_RETURN(std::string rest, s.repo()->CommitAll("development: files no task of the wave declared\n\nRun: " + run));
  if (!rest.empty()) {
    SW_ASSIGN_OR_RETURN(auto files, s.repo()->ChangedFiles(before, rest));
    PushUnique(&s.state()["gotchas"], "a parallel wave changed files no task declared: " + Join(files, ", "));
    commits.push_back({{"task", "undeclared"}, {"commit", rest}, {"files", files}});
  }
  *record = commits;
  return Status::Ok();
}

std::vector<std::string> DeclaredFiles(const std::vector<Task>& tasks) {
  std::set<std::string> all{"tests/"};
  for (const auto& t : tasks) all.insert(t.files.begin(), t.files.end());
  return {all.begin(), all.end()};
}

Result<StepOutcome> DesignNotes(Session& s, const std::string& key, const std::vector<Task>& tasks,
                                const std::string& specs) {
  json design = json::array();
  std::vector<std::string> design_ids;
  for (const auto& t : tasks) {
    if (t.path == "design") {
      design.push_back(t.ToJson());
      design_ids.push_back(t.id);
    }
  }
  if (design.empty()) return StepOutcome{};
  // Each note gets the next free DEC-04 ID here, so two notes never claim the same one.
  SW_ASSIGN_OR_RETURN(spec::Project project, s.Spec());
  // Numbered once and kept: a re-run of an interrupted step sees the same IDs (and prompts).
  json& ids = s.Step(key)["dec_ids"];
  if (!ids.is_array() || ids.size() != design.size()) {
    int next = 1;
    for (const auto& it : project.corpus.items)
      if (it.id.starts_with("DEC-04-")) next = std::max(next, std::atoi(it.id.c_str() + 7) + 1);
    ids = json::array();
    for (size_t i = 0; i < design.size(); ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "DEC-04-%03d", next++);
      ids.push_back(id);
    }
    SW_RETURN_IF_ERROR(s.Save());
  }
  for (size_t i = 0; i < design.size(); ++i) design[i]["dec_id"] = ids[i];
  std::string design_specs = s.Step(key).value("specs", std::string());
  if (design_specs.empty()) {
    design_specs = specs + s.Read("specs/architecture/design-notes.md");
    s.Step(key)["specs"] = design_specs;
  }
  s.Say("design notes first for " + Join(design_ids, ", "));
  std::string commit_msg = "specs(architecture): design notes for " + Join(design_ids, ", ");
  return s.RunStep(key, "design notes (" + Join(design_ids, ", ") + ")", "design.yaml",
                   {{"tasks", design}, {"specs", design_specs}, {"context", s.Context()}}, "",
                   [&](const std::string& start, const json& outputs) -> Status {
                     const json notes = outputs.value("notes", json::object());
                     if (!notes.value("ok", false))
                       return Failed("the design notes could not be written: " + Str(notes, "error"));
                     return s.Squash(start, commit_msg).status();
                   });
}

Result<StepOutcome> RunTasks(Session& s, const std::string& key, const std::string& label, const std::vector<Task>& tasks,
                             const std::string& specs, const std::string& feedback, const std::string& goal,
                             bool designed) {
  json list = json::array();
  bool any_design = false;
  for (const auto& t : tasks) {
    list.push_back(t.ToJson());
    any_design |= t.path == "design";
  }
  // The design path: a design note per task that needs one, before any code (unless the
  // caller ran them already, as develop does before the tests' code).
  if (!designed) {
    SW_ASSIGN_OR_RETURN(StepOutcome d, DesignNotes(s, key + "-design", tasks, specs));
    if (d.waiting) return d;
  }
  json inputs{{"tasks", list},
              {"design", any_design ? s.Read("specs/architecture/design-notes.md") : std::string()},
              {"specs", specs},
              {"context", s.Context()},
              {"preferences", s.PreferencesText("development")},
              {"feedback", feedback},
              {"goal", goal}};
  return s.RunStep(key, label, "development.yaml", inputs, "", [&](const std::string& start, const json& outputs) {
    json commits;
    std::string run = s.Step(key).value("run", "");
    // The machine check of the code: every ID it cites is defined by a spec.
    const json check = outputs.value("check", json::object());
    if (check.is_object() && !check.value("ok", true)) {
      std::vector<std::string> f;
      for (const auto& x : check.value("findings", json::array()))
        if (x.is_string()) f.push_back(x.get<std::string>());
      return Failed("the code cites IDs no spec defines: " + Join(f, "; "));
    }
    SW_RETURN_IF_ERROR(CommitTasks(s, start, tasks, run, &commits));
    s.Step(key)["commits"] = commits;
    return Status::Ok();
  });
}

namespace {

/// GateAnswers lists every decided answer at a step's gate (the `approve` node), in order,
/// over all the step's runs (and `also`, the run that just finished, if the step does not list
/// it yet): an interrupted step starts a new run whose rounds count on from the last.
std::vector<std::pair<std::string, store::ApprovalRecord>> GateAnswers(Session& s, const std::string& key,
                                                                       const std::string& also = "") {
  std::vector<std::string> step_runs;
  for (const auto& r : s.Step(key).value("runs", json::array()))
    if (r.is_string()) step_runs.push_back(r.get<std::string>());
  if (!also.empty() && std::find(step_runs.begin(), step_runs.end(), also) == step_runs.end()) step_runs.push_back(also);
  std::vector<std::pair<std::string, store::ApprovalRecord>> out;
  for (const auto& r : step_runs) {
    auto approvals = s.options().store->ListApprovals(r);
    if (!approvals.ok()) continue;
    for (const auto& a : *approvals)
      if (a.node == "approve" && a.decision != "pending") out.emplace_back(r, a);
  }
  return out;
}

}  // namespace

std::string EarlierGateWords(Session& s, const std::string& key) {
  if (s.Step(key).value("status", "") == "done") return "";
  // The last answer at the gate; words only when it was not a plain approval.
  auto answers = GateAnswers(s, key);
  if (answers.empty()) return "";
  const auto& a = answers.back().second;
  if (a.decision == "approved" && Trim(a.text).empty()) return "";
  return std::string(a.decision == "approved" ? "They approved it with a comment" : "They did not approve it") +
         ". Their words:\n" + a.text;
}

Result<bool> RunSpecPhase(Session& s, const PhaseDef& p, const std::string& key, json inputs) {
  // A step interrupted in the middle of a gate round starts a new run: the person's words go
  // with it, not lost with the old run's loop.
  if (std::string said = EarlierGateWords(s, key); !said.empty()) inputs["earlier_gate"] = said;
  SW_ASSIGN_OR_RETURN(StepOutcome out, s.RunStep(key, p.name, "phase.yaml", inputs, CommitMessage(p)));
  if (out.waiting) return false;
  SW_RETURN_IF_ERROR(RecordVerifyRounds(s, key, out.run_id));
  return true;
}

Status RecordVerifyRounds(Session& s, const std::string& key, const std::string& run_id) {
  // The verifier's rounds, for the PR.
  auto runs = s.options().store->ListNodeRunsOf(run_id, "verify");
  int rounds = 0;
  if (runs.ok())
    for (const auto& r : *runs)
      if (r.status == "succeeded") rounds = std::max(rounds, r.iteration + 1);
  json& st = s.Step(key);
  st["verify_rounds"] = std::max(rounds, st.value("verify_rounds", 0));
  // The gate dialogue: every answer at the step's gate, in order (who, what, when).
  json gate = json::array();
  for (const auto& [r, a] : GateAnswers(s, key, run_id))
    gate.push_back({{"round", static_cast<int>(gate.size()) + 1}, {"decision", a.decision}, {"by", a.by},
                    {"text", a.text}, {"at", a.ts}, {"run", r}});
  if (!gate.empty()) st["gate"] = gate;
  return s.Save();
}

Result<std::vector<std::string>> TestCaseIds(Session& s) {
  SW_ASSIGN_OR_RETURN(spec::Project project, s.Spec());
  std::vector<std::string> ids;
  for (const auto& it : project.corpus.items)
    if (it.prefix == project.config.test_case_prefix) ids.push_back(it.id);
  return ids;
}

Result<Outcome> Waiting(Session& s, const std::string& key) {
  std::string run = s.Step(key).value("run", "");
  Outcome o;
  o.waiting = true;
  // Name the node that waits, and how to answer it: a question takes words, a gate a decision.
  std::string node = "NODE";
  auto approvals = s.options().store->ListApprovals(run);
  if (approvals.ok())
    for (const auto& a : *approvals)
      if (a.decision == "pending") node = a.node;
  std::string how;
  if (node == "ask")
    how = "`specwright approve " + run + " ask --text \"YOUR ANSWER\"`";
  else if (key.ends_with("-plan"))  // a change's impact plan: run it, or drop the change
    how = "`specwright approve " + run + " approve` to run the change (to drop it instead: `specwright modify "
          "--abandon --workspace " + s.options().project + "`)";
  else
    how = "`specwright approve " + run + " " + node + "` (or with --reject --text \"WHY\", or --text \"A COMMENT\" to "
          "have it revised)";
  o.message = "waiting for a decision in run " + run + ": answer it with " + how +
              " or in the web UI's Approvals page, then run the same command again; or pass --yes";
  return o;
}

/// Questions asks the open questions of one phase, one at a time, before the phase runs: the
/// assessment names each question's phase (none: requirements). Each answer goes to that
/// phase's preferences (specs/PHASE/preferences.md), and a person's answer to the workspace's
/// too; the phase's preferences are then committed.
Result<Outcome> Questions(Session& s, const std::string& phase, bool* waiting) {
  *waiting = false;
  json& st = s.state();
  static const std::set<std::string> kAsking{"requirements", "domain", "stories", "architecture", "api", "tasks"};
  const json questions = s.Step("complexity")["outputs"]["assess"].value("questions", json::array());
  const std::string prefs_path = s.PhasePrefsPath(phase);
  Preferences mine = Preferences::Parse(s.Read(prefs_path));
  auto wtext = ReadFile(s.WorkspacePrefsPath());
  Preferences workspace = Preferences::Parse(wtext.ok() ? *wtext : "");
  int i = 0;
  for (const auto& q : questions) {
    std::string topic = Str(q, "topic"), question = Str(q, "question"), suggestion = Str(q, "suggestion");
    std::string key = "question-" + std::to_string(++i);  // numbered over all phases: stable across runs
    std::string of = Str(q, "phase");
    if (!kAsking.count(of)) of = "requirements";
    if (topic.empty() || of != phase) continue;
    if (s.Step(key).value("status", "") == "done") continue;
    std::string answer, source;
    // Resolution order: this phase's preferences, the workspace's, then a person.
    if (auto a = mine.Get(topic)) {
      answer = *a;
      source = prefs_path;
    } else if (auto w = workspace.Get(topic)) {
      answer = *w;
      source = "workspace preferences";
    } else if (s.options().yes) {
      answer = suggestion;
      source = "suggested answer, taken with --yes";
    } else {
      s.Say("question (" + topic + ", for the " + phase + "): " + question);
      SW_ASSIGN_OR_RETURN(StepOutcome out, s.RunStep(key, "question " + topic, "ask.yaml",
                                                    {{"topic", topic}, {"question", question}, {"suggestion", suggestion}},
                                                    ""));
      if (out.waiting) {
        *waiting = true;
        return Waiting(s, key);
      }
      answer = out.outputs.value("ask", json("")).is_string() ? out.outputs["ask"].get<std::string>() : "";
      if (Trim(answer).empty()) answer = suggestion;
      source = "answered by a person";
    }
    mine.Set(topic, answer, source);
    // Only a person's answer is a decision for other projects; a suggestion taken with --yes
    // stays this project's.
    if (source == "answered by a person")
      workspace.Set(topic, answer, "answered for " + fs::path(s.options().project).filename().string());
    PushUnique(&st["decisions"], topic + ": " + answer + " (" + source + (phase == "requirements" ? "" : "; " + phase) + ")");
    s.Step(key)["status"] = "done";
    SW_RETURN_IF_ERROR(s.Write(prefs_path, mine.ToMarkdown("Preferences: " + phase)));
    if (source == "answered by a person") {
      MakeDirs(fs::path(s.WorkspacePrefsPath()).parent_path().string());
      SW_RETURN_IF_ERROR(WriteFileAtomic(s.WorkspacePrefsPath(), workspace.ToMarkdown("Workspace preferences")));
    }
    SW_RETURN_IF_ERROR(s.Save());
  }
  // The phase's decisions are committed before it runs (the requirements' step keeps its
  // first name, "decisions").
  std::string done_key = phase == "requirements" ? "decisions" : "decisions-" + phase;
  if (s.Step(done_key).value("status", "") != "done") {
    SW_RETURN_IF_ERROR(s.WriteContext());
    SW_RETURN_IF_ERROR(s.CommitOwn("specs(" + phase + "): decisions and preferences", "the " + phase + " phase").status());
    s.Step(done_key)["status"] = "done";
    SW_RETURN_IF_ERROR(s.Save());
  }
  return Outcome{};
}

const std::vector<std::string>& DevelopPhases() {
  static const std::vector<std::string> kPhases{"complexity", "requirements", "domain", "stories", "architecture", "api",
                                                "tasks",      "tests",        "development", "review", "QA"};
  return kPhases;
}

const std::vector<std::string>& UntilPhases() {
  static const std::vector<std::string> kUntil = [] {
    const auto& all = DevelopPhases();
    return std::vector<std::string>(all.begin(), std::find(all.begin(), all.end(), "development") + 1);
  }();
  return kUntil;
}

Result<Outcome> Develop(const Options& o, const std::string& brief_path) {
  if (!o.until.empty() && std::find(UntilPhases().begin(), UntilPhases().end(), o.until) == UntilPhases().end()) {
    std::string hint = DidYouMean(o.until, UntilPhases());
    return InvalidInput("--until " + Quote(o.until) + " is not a phase" +
                        (hint.empty() ? "" : " (did you mean " + Quote(hint) + "?)") + "; the phases are " +
                        Join(UntilPhases(), ", "));
  }
  Session s(o);
  SW_RETURN_IF_ERROR(s.Load());
  auto brief = ReadFile(brief_path);
  if (!brief.ok()) return brief.status().Annotate("the brief");
  if (Trim(*brief).empty()) return InvalidInput("the brief " + brief_path + " is empty");
  constexpr size_t kMaxBrief = 256 << 10;  // every prompt carries it
  if (brief->size() > kMaxBrief)
    return InvalidInput("the brief " + brief_path + " is " + std::to_string(brief->size() >> 10) + " KiB; a brief is at "
                        "most 256 KiB (put the details in the phases' documents, or split the product)");
  std::string brief_hash = Hash128Hex(*brief);
  json& st = s.state();
  if (s.HasState()) {
    if (st.value("brief_hash", "") != brief_hash) {
      // Update mode: the brief changed since the develop; its diff is routed like a modify.
      if (st.value("status", "") == "done") return Update(s, brief_path, *brief);
      return InvalidInput(o.project + " is being developed from another brief (" +
                          st.value("brief_source", std::string("?")) + ") and that develop has not finished; finish "
                          "it with that brief, then run develop with this one to update the project to it (or develop "
                          "into a new --workspace)");
    }
    if (st.value("status", "") == "done") {
      Outcome out;
      out.message = o.project + " is already developed (PR.md has the summary). To change it: `specwright modify "
                    "\"CHANGE REQUEST\" --workspace " + o.project + "`, edit the brief and run develop with it again (an "
                    "Update), or revisit a phase with `specwright review PHASE --workspace " + o.project + "`";
      return out;
    }
    SW_RETURN_IF_ERROR(s.OpenRepo());
    s.Say("continuing the develop of " + o.project);
  } else {
    // A new project goes into a new folder: never over someone's files or repository (the
    // store's own .specwright/ may already be there when the project is the current folder).
    if (fs::exists(o.project)) {
      for (const auto& e : fs::directory_iterator(o.project)) {
        std::string name = e.path().filename().string();
        if (name == ".specwright" && fs::is_directory(e.path()) && !fs::exists(e.path() / "process.json")) continue;
        return InvalidInput(o.project + " exists and is not empty (it has " + Quote(name) +
                            "); develop into a new folder (--workspace DIR)");
      }
    }
    MakeDirs(o.project);
    SW_RETURN_IF_ERROR(s.InitRepo());
    SW_RETURN_IF_ERROR(s.Write("BRIEF.md", *brief));
    SW_RETURN_IF_ERROR(s.Write(".gitignore", ".specwright/\nbuild/\n*.o\nnode_modules/\n__pycache__/\n"));
    st = json{{"version", 1},
              {"brief", "BRIEF.md"},
              {"brief_source", brief_path},
              {"brief_hash", brief_hash},
              {"status", "developing"},
              {"decisions", json::array()},
              {"gotchas", json::array()},
              {"steps", json::object()}};
    SW_RETURN_IF_ERROR(s.WriteContext());
    SW_ASSIGN_OR_RETURN(std::string c, s.repo()->CommitAll("specwright: the brief\n\nFrom " + brief_path));
    st["base"] = c;
    SW_RETURN_IF_ERROR(s.Save());
    s.Say("developing " + brief_path + " into " + o.project + " (git branch specwright/develop)");
  }
  // The session this develop is: one id for all its runs, kept with the project's state.
  if (!st.contains("session") || !st["session"].is_string()) {
    st["session"] = "develop-" + NewRunId(SystemClock::Default()->WallNow());
    SW_RETURN_IF_ERROR(s.Save());
  }
  s.SetSessionId(st["session"].get<std::string>());
  auto stop_after = [&](const std::string& phase) { return !o.until.empty() && o.until == phase; };
  auto stopped = [&](const std::string& phase) {
    Outcome out;
    out.stopped = true;
    out.message = "stopped after " + phase + " (--until); run the same command without --until to continue";
    return out;
  };

  // 1. Complexity.
  s.Say("phase complexity: assessing the brief");
  SW_ASSIGN_OR_RETURN(StepOutcome cx,
                      s.RunStep("complexity", "complexity", "complexity.yaml",
                                {{"brief", *brief}, {"preferences", s.PreferencesText("requirements")}}, "",
                                [&](const std::string& start, const json& outputs) -> Status {
                                  SW_ASSIGN_OR_RETURN(Complexity c, ScoreComplexity(outputs.value("assess", json())));
                                  st["complexity"] = {{"score", c.score}, {"tier", c.tier}};
                                  SW_RETURN_IF_ERROR(s.Write("specs/complexity.md", c.ToMarkdown()));
                                  SW_RETURN_IF_ERROR(s.WriteContext());
                                  return s.Squash(start, "specs: complexity " + std::to_string(c.score) + "/10, tier " +
                                                             c.tier).status();
                                }));
  if (cx.waiting) return Waiting(s, "complexity");
  s.Say("complexity " + std::to_string(st["complexity"].value("score", 0)) + "/10: template tier " +
        st["complexity"].value("tier", std::string()));
  if (stop_after("complexity")) return stopped("complexity");

  // 2. The spec phases, each after its open questions (one at a time).
  bool waiting = false;
  for (const auto& name : kSpecPhases) {
    const PhaseDef* p = s.Phase(name);
    if (!p) return Internal("process.yaml has no phase " + name);
    SW_ASSIGN_OR_RETURN(Outcome q, Questions(s, name, &waiting));
    if (waiting) return q;
    json inputs = PhaseInputs(s, *p, s.Docs(PhasesBefore(s, name)));
    s.Say("phase " + p->name + ": " + p->title);
    SW_ASSIGN_OR_RETURN(bool done, RunSpecPhase(s, *p, name, inputs));
    if (!done) return Waiting(s, name);
    if (stop_after(name)) return stopped(name);
  }

  // 3. Test cases, before any plan or code: from the requirements' acceptance examples and
  // the API, each a behaviour a user sees.
  const PhaseDef* tc = s.Phase("tests");
  json tin = PhaseInputs(s, *tc, s.Docs(kSpecPhases));
  s.Say("phase tests: test cases, before the code");
  SW_ASSIGN_OR_RETURN(bool tdone, RunSpecPhase(s, *tc, "tests", tin));
  if (!tdone) return Waiting(s, "tests");
  std::vector<std::string> spec_and_tests = kSpecPhases;
  spec_and_tests.push_back("tests");

  // 4. The task plan: it knows the test cases its tasks must make pass.
  SW_ASSIGN_OR_RETURN(Outcome tq, Questions(s, "tasks", &waiting));
  if (waiting) return tq;
  const PhaseDef* tp = s.Phase("tasks");
  std::string all_specs = s.Docs(spec_and_tests);
  s.Say("phase tasks: planning the development");
  SW_ASSIGN_OR_RETURN(
      StepOutcome plan,
      s.RunStep("tasks", "tasks", "tasks.yaml",
                {{"brief", *brief},
                 {"guideline", Guideline(s, *tp, "all")},
                 {"upstream", all_specs},
                 {"context", s.Context()},
                 {"preferences", s.PreferencesText("tasks")},
                 {"path", tp->doc},
                 {"gate", tp->gate},
                 {"earlier_gate", EarlierGateWords(s, "tasks")}},
                "", [&](const std::string& start, const json& outputs) -> Status {
                  SW_ASSIGN_OR_RETURN(auto tasks, ParseTasks(outputs.value("plan", json())));
                  for (auto& t : tasks) ChoosePath(&t);  // the process decides the path, not the model
                  auto waves = PlanWaves(tasks);
                  json tj = json::array();
                  for (const auto& t : tasks) tj.push_back(t.ToJson());
                  st["tasks"] = tj;
                  st["waves"] = waves;
                  SW_RETURN_IF_ERROR(s.Write(tp->doc, TasksMarkdown(tasks, waves)));
                  return s.Squash(start, "specs(tasks): the task plan (" + std::to_string(tasks.size()) + " tasks in " +
                                             std::to_string(waves.size()) + " waves)")
                      .status();
                }));
  if (plan.waiting) return Waiting(s, "tasks");
  SW_RETURN_IF_ERROR(RecordVerifyRounds(s, "tasks", plan.run_id));
  if (stop_after("tasks")) return stopped("tasks");
  SW_ASSIGN_OR_RETURN(std::string dev_base, s.repo()->Head());
  if (!st.contains("dev_base")) st["dev_base"] = dev_base;

  // 5. The design notes of every design-path task, then the tests' code: the tests are
  // written against the interfaces the notes fix, so the code written later meets them. A
  // project begun before this order has its notes per wave (development-N-design): it goes on
  // that way.
  std::vector<Task> tasks;
  for (const auto& t : st["tasks"]) {
    SW_ASSIGN_OR_RETURN(auto one, ParseTasks(json{{"tasks", json::array({t})}}));
    tasks.push_back(one[0]);
  }
  const bool designed = !st["steps"].contains("development-1-design");
  if (designed) {
    SW_ASSIGN_OR_RETURN(StepOutcome notes, DesignNotes(s, "design", tasks, s.Docs(spec_and_tests)));
    if (notes.waiting) return Waiting(s, "design");
  }
  SW_ASSIGN_OR_RETURN(auto tc_ids, TestCaseIds(s));
  Task tt;
  tt.id = "TASK-T1";
  tt.title = "Implement the test cases";
  tt.description = "Write a test for every test case in " + tc->doc + ", named after it (TC_06_NNN_...), printing "
                   "PASS/FAIL lines with the test case's ID, and make `" + o.qa_command + "` build and run them. The "
                   "code does not exist yet: write the tests from the test cases, the API and the design notes' "
                   "interfaces, so they fail until the development tasks are done. Where a test case describes what a user sees, test it through the "
                   "product's public interface (its command line or HTTP API), not only its internal functions.";
  tt.implements = tc_ids;
  tt.files = {"tests/"};
  tt.components = {"tests"};
  tt.path = "direct";
  tt.path_reason = "the test cases describe each test fully";
  s.Say("phase tests: writing the tests of " + std::to_string(tc_ids.size()) + " test cases, before the code");
  SW_ASSIGN_OR_RETURN(StepOutcome tcode, RunTasks(s, "tests-code", "test code", {tt},
                                                     s.Docs({"api"}) + s.Read("specs/architecture/design-notes.md") +
                                                         s.Read(tc->doc),
                                                     "", ""));
  if (tcode.waiting) return Waiting(s, "tests-code");
  // Red before green: the tests run once before any code exists. A test case that already
  // passes checks nothing the tasks will build; it is named (a gotcha for the developers and
  // the reviewers), not failed.
  SW_ASSIGN_OR_RETURN(StepOutcome red, s.RunStep("tests-red", "tests before the code", "qa.yaml",
                                                 {{"command", o.qa_command}, {"triage", false}}, ""));
  if (red.waiting) return Waiting(s, "tests-red");
  if (!st.contains("tests_first")) {
    std::string out = red.outputs.value("test", json("")).is_string() ? red.outputs["test"].get<std::string>() : "";
    TestReport before = ParseTestRun(out, tc_ids);
    std::vector<std::string> green;
    for (const auto& [id, result] : before.per_case)
      if (result == "passed") green.push_back(id);
    st["tests_first"] = {{"cases", json(before.per_case)}, {"passed_before_code", green}};
    if (green.empty()) {
      s.Say("tests before the code: none passes yet (" + std::to_string(tc_ids.size()) + " test cases), as it should be");
    } else {
      s.Say("warning: these test cases pass before any code exists, so their tests check nothing the tasks build: " +
            Join(green, ", "));
      PushUnique(&st["gotchas"], "tests first: " + Join(green, ", ") + " passed before any code existed; their tests "
                                 "must check the product's behaviour");
    }
    SW_RETURN_IF_ERROR(s.Save());
  }
  if (stop_after("tests")) return stopped("tests");

  // 6. Development, wave by wave: each task is done when the tests of what it implements pass.
  const std::string goal = "The tests in tests/ were written first, from the test cases (" + tc->doc + "): this task is "
                           "done when `" + o.qa_command + "` passes the test cases of what it implements (tests of "
                           "work other tasks do in parallel may still fail). Do not weaken or delete a test; if one "
                           "is wrong, say which and why in your final answer.";
  auto waves = st["waves"].get<std::vector<std::vector<int>>>();
  for (size_t w = 0; w < waves.size(); ++w) {
    std::vector<Task> wave;
    std::vector<std::string> ids;
    for (int i : waves[w]) {
      wave.push_back(tasks[static_cast<size_t>(i)]);
      ids.push_back(tasks[static_cast<size_t>(i)].id);
    }
    std::string label = "development wave " + std::to_string(w + 1) + " (" + Join(ids, ", ") + ")";
    s.Say("phase " + label);
    SW_ASSIGN_OR_RETURN(StepOutcome out, RunTasks(s, "development-" + std::to_string(w + 1), label, wave,
                                                  s.Docs(spec_and_tests), "", goal, designed));
    if (out.waiting) return Waiting(s, "development-" + std::to_string(w + 1));
  }
  if (stop_after("development")) return stopped("development");

  // 7. Review, 8. QA, 9. PR.md.
  SW_ASSIGN_OR_RETURN(Outcome rv, ReviewAndQa(s, "", st.value("dev_base", dev_base), s.Read(tp->doc),
                                             s.Docs({"requirements", "domain", "stories", "architecture", "api", "tests"}),
                                             DeclaredFiles(tasks)));
  if (rv.waiting || rv.stopped) return rv;
  SW_RETURN_IF_ERROR(WritePr(s));
  SW_RETURN_IF_ERROR(s.WriteContext());
  SW_RETURN_IF_ERROR(s.CommitOwn("PR.md: summary, traceability matrix, verification, review and QA", "PR.md").status());
  st["status"] = "done";
  SW_RETURN_IF_ERROR(s.Save());
  if (!st.value("qa", json::object()).value("passed", false))
    return Failed(rv.message + "; PR.md lists the failing test cases. Fix them with `specwright modify \"...\"`");
  Outcome out;
  out.message = rv.message;
  return out;
}

}  // namespace sw::process
