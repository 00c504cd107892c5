// Changes to a developed project. `specwright modify "REQUEST"`, an Update (develop again with
// a changed brief: its diff is the request) and `specwright review PHASE` (a person's words
// about one phase) all run RunChange. A modify or an update is classified and routed, show its impact plan (items,
// files, tests, an estimate of tokens and dollars from what develop spent), then run the phases
// from the entry level in update mode over the impacted items only. Spec items outside the
// impact are never rewritten (builtin://spec.merge refuses), and files outside it are
// restored if a developer touched them.
#include <cmath>
#include <filesystem>
#include <set>

#include "base/clock.h"
#include "base/hash.h"
#include "base/text_diff.h"
#include "engine/control.h"
#include "base/ids.h"
#include "base/strings.h"
#include "process/internal.h"

namespace sw::process {
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kLevels{"requirements", "domain", "stories", "architecture", "api", "tests"};

}  // namespace

namespace {

bool Unfinished(const json& m) {
  std::string st = m.value("status", "");
  return st != "done" && st != "abandoned";
}

/// OpenDeveloped checks the project has a finished develop to change and opens its repository.
Status OpenDeveloped(Session& s, const std::string& what) {
  const Options& o = s.options();
  json& st = s.state();
  if (!s.HasState())
    return InvalidInput(o.project + " has no develop to " + what + " (no .specwright/process.json); run `specwright "
                        "develop BRIEF.md --workspace " + o.project + "` first");
  if (st.value("status", "") != "done")
    return InvalidInput("the develop of " + o.project + " has not finished; run `specwright develop` again to finish it "
                        "first");
  SW_RETURN_IF_ERROR(s.OpenRepo());
  if (!st["modifies"].is_array()) st["modifies"] = json::array();
  return Status::Ok();
}

/// CascadeCheck asks once, after the entry phase changed `changed`, which items linked directly
/// below them (in the phases still to run) must change too; the ones it keeps (with why) go
/// into `kept` and m["kept"], and their phases do not run for them. false: the step waits.
Result<bool> CascadeCheck(Session& s, const std::string& prefix, const std::vector<std::string>& run_phases,
                          const std::string& entry, const std::set<std::string>& changed, const std::string& detail,
                          json* m, std::set<std::string>* kept) {
  SW_ASSIGN_OR_RETURN(spec::Project project, s.Spec());
  spec::Graph graph(project.corpus, project.config);
  std::set<std::string> later;  // the prefixes of the phases below the entry
  bool below = false;
  for (const auto& name : run_phases) {
    if (below)
      if (const PhaseDef* p = s.Phase(name)) later.insert(p->prefixes.begin(), p->prefixes.end());
    below |= name == entry;
  }
  std::set<std::string> candidates;
  for (const auto& id : changed)
    for (const auto& child : graph.Children(id))
      if (later.count(project.grammar.PrefixOf(child))) candidates.insert(child);
  if (candidates.empty()) return true;
  s.Say("cascade check: do " + Join({candidates.begin(), candidates.end()}, ", ") + " have to change too?");
  SW_ASSIGN_OR_RETURN(StepOutcome out, s.RunStep(prefix + "cascade", "cascade check", "cascade.yaml",
                                                 {{"change", detail},
                                                  {"changed", ItemsText(project.corpus, changed)},
                                                  {"candidates", ItemsText(project.corpus, candidates)},
                                                  {"context", s.Context()}},
                                                 ""));
  if (out.waiting) return false;
  const json& cj = out.outputs.value("cascade", json::object());
  std::set<std::string> rewrite;
  for (const auto& id : cj.value("rewrite", json::array()))
    if (id.is_string()) rewrite.insert(id.get<std::string>());
  (*m)["kept"] = json::array();
  std::vector<std::string> said;
  for (const auto& k : cj.value("keep", json::array())) {
    std::string id = k.is_object() ? k.value("id", "") : "";
    // Only a candidate can be kept, and one also named to rewrite is rewritten: when in doubt, rewrite.
    if (!candidates.count(id) || rewrite.count(id) || kept->count(id)) continue;
    kept->insert(id);
    (*m)["kept"].push_back({{"id", id}, {"why", k.value("why", "")}});
    said.push_back(id);
  }
  SW_RETURN_IF_ERROR(s.Save());
  s.Say(said.empty() ? "cascade check: every item below the change is rewritten"
                     : "cascade check: kept as they are: " + Join(said, ", ") + " (why: .specwright/process.json, PR.md)");
  return true;
}

/// CancelWaiting cancels a step's run that waits for a person (a change dropped, or a question
/// answered another way) and marks the step cancelled.
Status CancelWaiting(Session& s, json& step) {
  std::string run = step.value("run", "");
  if (!run.empty()) {
    SW_ASSIGN_OR_RETURN(auto rec, s.options().store->GetRun(run));
    if (rec && rec->status == "waiting") SW_RETURN_IF_ERROR(engine::Cancel(s.options().store, *rec, "specwright").status());
  }
  step["status"] = "cancelled";
  return Status::Ok();
}

/// How a person runs an unfinished change again.
std::string HowToContinue(const json& m, const std::string& project) {
  std::string kind = m.value("kind", std::string("modify"));
  std::string ws = " --workspace " + project;
  if (kind == "update") return "`specwright develop " + m.value("brief_source", std::string("BRIEF.md")) + ws + "` again";
  if (kind == "review") return "`specwright review " + m.value("phase", std::string()) + ws + "` again";
  std::string request = m.value("request", std::string());
  std::string quoted;
  for (char ch : request) {
    if (ch == '"' || ch == '\\' || ch == '$' || ch == '`') quoted += '\\';
    quoted += ch;
  }
  return "`specwright modify \"" + quoted + "\"" + ws + "` again";
}

}  // namespace

Result<Outcome> Modify(const Options& o, const std::string& request) {
  Session s(o);
  SW_RETURN_IF_ERROR(s.Load());
  if (!o.abandon && Trim(request).empty()) return InvalidInput("the change request is empty; say what to change, in quotes");
  SW_RETURN_IF_ERROR(OpenDeveloped(s, o.abandon ? "abandon a change of" : "modify"));
  json& mods = s.state()["modifies"];
  if (o.abandon) {
    if (mods.empty() || !Unfinished(mods.back())) return InvalidInput("no unfinished change in " + o.project + " to abandon");
    json& last = mods.back();
    // What of it waits for a person is cancelled: nothing is left pending in Approvals.
    const std::string pfx = "m" + std::to_string(mods.size()) + "-";
    for (auto& [key, step] : s.state()["steps"].items()) {
      if (!key.starts_with(pfx) || step.value("status", "") != "waiting") continue;
      SW_RETURN_IF_ERROR(CancelWaiting(s, step));
    }
    // The change's commits and files go (kept aside if anything is not the process's); its
    // runs stay in the store for the record.
    SW_RETURN_IF_ERROR(s.ResetKeepingAside(last.value("start", ""), "the change was abandoned"));
    last["status"] = "abandoned";
    SW_RETURN_IF_ERROR(s.Save());
    Outcome out;
    out.message = "abandoned the " + last.value("kind", std::string("modify")) + " \"" + last.value("request", "") +
                  "\"; the project is back where it was before it";
    return out;
  }
  Change c;
  c.request = c.detail = request;
  return RunChange(s, c);
}

Result<Outcome> Update(Session& s, const std::string& brief_path, const std::string& brief) {
  SW_RETURN_IF_ERROR(OpenDeveloped(s, "update"));
  Change c;
  c.kind = "update";
  c.brief = brief;
  c.brief_hash = Hash128Hex(brief);
  c.brief_source = brief_path;
  json& st = s.state();
  const std::string rel = st.value("brief", std::string("BRIEF.md"));
  // The brief as developed: in git at the commit that last set it (the develop's first commit,
  // or the last update's), whatever the work tree's BRIEF.md says now — the person may have
  // edited it in place, and even committed it.
  std::string developed;
  std::string rev = st.value("brief_commit", st.value("base", std::string()));
  if (!rev.empty()) {
    SW_ASSIGN_OR_RETURN(auto files, s.repo()->ReadFilesAt(rev, "", rel));
    if (files.count(rel)) developed = files[rel];
  }
  // The project's own BRIEF.md edited in place into this brief is what the update writes.
  if (s.Read(rel) == brief) st["written"][rel] = Hash128Hex(brief);
  std::string diff = UnifiedDiff(developed, brief, "BRIEF.md (developed)", "BRIEF.md (" + brief_path + ")");
  c.request = "the brief changed (" + brief_path + ")";
  c.detail = "The brief of the project changed. What changed, as a diff of BRIEF.md (lines starting with - were "
             "removed, + added):\n\n```diff\n" + diff + "```\n";
  if (diff.find("\n@@") == std::string::npos) c.detail.clear();  // the same lines: only a final newline differs
  return RunChange(s, c);
}

Result<Outcome> ReviewPhase(const Options& o, const std::string& phase, const std::string& words) {
  Session s(o);
  SW_RETURN_IF_ERROR(s.Load());
  if (std::find(kLevels.begin(), kLevels.end(), phase) == kLevels.end()) {
    std::string hint = DidYouMean(phase, kLevels);
    return InvalidInput(Quote(phase) + " is not a phase a review can revisit" +
                        (hint.empty() ? "" : " (did you mean " + Quote(hint) + "?)") + "; they are " + Join(kLevels, ", "));
  }
  SW_RETURN_IF_ERROR(OpenDeveloped(s, "review"));
  const PhaseDef* p = s.Phase(phase);
  if (!p) return Internal("process.yaml has no phase " + phase);
  Change c;
  c.kind = "review";
  c.phase = phase;
  c.request = "review of the " + p->title;
  c.detail = Trim(words);
  return RunChange(s, c);
}

Result<Outcome> RunChange(Session& s, Change c) {
  const Options& o = s.options();
  json& st = s.state();
  json& mods = st["modifies"];
  if (!mods.empty() && Unfinished(mods.back())) {
    const json& last = mods.back();
    std::string kind = last.value("kind", std::string("modify"));
    bool same = kind == c.kind && (c.kind == "update"   ? last.value("brief_hash", "") == c.brief_hash
                                   : c.kind == "review" ? last.value("phase", "") == c.phase
                                                        : last.value("request", "") == c.request);
    if (!same && kind == "update" && c.kind == "update")
      return InvalidInput("the brief changed again while its update is unfinished (that update began from " +
                          last.value("brief_source", std::string("?")) + " as it was then); put the brief back as it "
                          "was and run develop with it to finish that update, or drop it with `specwright modify "
                          "--abandon --workspace " + o.project + "`, then run develop with the new brief");
    if (!same)
      return InvalidInput("another change of " + o.project + " has not finished: the " + kind + " \"" +
                          last.value("request", "") + "\"; run " + HowToContinue(last, o.project) +
                          " to finish it, or drop it with `specwright modify --abandon --workspace " + o.project + "`");
    s.Say("continuing the " + kind + ": " + last.value("request", ""));
  } else {
    // Nothing a person changed by hand goes into the change's commits.
    SW_RETURN_IF_ERROR(s.RefuseForeignChanges("the " + c.kind, /*resuming=*/false, {}));
    SW_ASSIGN_OR_RETURN(std::string head, s.repo()->Head());
    json m{{"kind", c.kind}, {"request", c.request}, {"status", "running"}, {"start", head}};
    if (!c.detail.empty() && c.kind != "modify") m["detail"] = c.detail;
    if (c.kind == "update") {
      m["brief_hash"] = c.brief_hash;
      m["brief_source"] = c.brief_source;
    }
    if (c.kind == "review") m["phase"] = c.phase;
    mods.push_back(m);
    SW_RETURN_IF_ERROR(s.Save());
  }
  json& m = mods.back();
  s.SetInChange(true);
  const std::string n = std::to_string(mods.size());
  const std::string what = c.kind + " " + n;  // "modify 2", "update 3": commit messages, gotchas
  const std::string request = m.value("request", c.request);
  // What the models read: the request itself, the brief's diff, or the reviewer's words (kept,
  // so a review continued without --text still has them).
  std::string detail = m.value("detail", c.kind == "modify" ? request : c.detail);
  // Each change is a session of its own.
  if (!m.contains("session") || !m["session"].is_string()) {
    m["session"] = c.kind + "-" + NewRunId(SystemClock::Default()->WallNow());
    SW_RETURN_IF_ERROR(s.Save());
  }
  s.SetSessionId(m["session"].get<std::string>());
  const std::string prefix = "m" + n + "-";
  const std::string start = m.value("start", "");
  int64_t tokens = 0;
  double usd = 0;
  // The change is in: what it spent, PR.md and CONTEXT.md, one last commit.
  auto finish = [&](const std::string& commit_message) -> Status {
    m["status"] = "done";
    if (c.kind == "update") {  // the project is now developed from the new brief
      st["brief_hash"] = m.value("brief_hash", c.brief_hash);
      st["brief_source"] = m.value("brief_source", c.brief_source);
      if (m.contains("brief_commit")) st["brief_commit"] = m["brief_commit"];
    }
    s.Spent(prefix, &tokens, &usd);
    m["spent"] = {{"tokens", tokens}, {"usd", usd}};
    SW_RETURN_IF_ERROR(WritePr(s));
    SW_RETURN_IF_ERROR(s.WriteContext());
    SW_RETURN_IF_ERROR(s.CommitOwn(commit_message, "the end of the " + c.kind).status());
    return s.Save();
  };
  if (c.kind == "update" && !m.value("brief_written", false)) {
    // The new brief is the change's first commit: abandoning the update takes it back too.
    SW_RETURN_IF_ERROR(s.Write(st.value("brief", std::string("BRIEF.md")), c.brief));
    SW_RETURN_IF_ERROR(s.Save());
    SW_ASSIGN_OR_RETURN(std::string bc, s.CommitOwn(what + ": the brief, from " + c.brief_source, "the " + c.kind));
    if (bc.empty()) {  // the person had committed it already
      SW_ASSIGN_OR_RETURN(bc, s.repo()->Head());
    }
    m["brief_commit"] = bc;
    m["brief_written"] = true;
    SW_RETURN_IF_ERROR(s.Save());
  }
  if (c.kind == "update" && detail.empty()) {
    SW_RETURN_IF_ERROR(finish(what + ": the brief (its lines are the same; only a final newline differs)"));
    Outcome out;
    out.message = "the brief's lines are the same as the developed one's (only a final newline differs): nothing to "
                  "regenerate";
    return out;
  }

  // 1. Classify and route (a review knows its route: the phase the person revisits).
  SW_ASSIGN_OR_RETURN(spec::Project project, s.Spec());
  spec::Config& config = project.config;
  spec::Grammar& grammar = project.grammar;
  spec::Corpus& corpus = project.corpus;
  spec::Graph graph(corpus, config);
  std::string category, entry, reason;
  std::vector<std::string> targets, unknown;
  if (c.kind == "review") {
    const PhaseDef* rp = s.Phase(m.value("phase", c.phase));
    if (!c.detail.empty() && !m.contains("detail")) {
      // Words given now answer the question asked before: it no longer waits.
      json& ask_step = s.Step(prefix + "ask");
      if (ask_step.value("status", "") == "waiting") SW_RETURN_IF_ERROR(CancelWaiting(s, ask_step));
      detail = c.detail;
      m["detail"] = detail;
      SW_RETURN_IF_ERROR(s.Save());
    } else if (!c.detail.empty() && m.value("detail", std::string()) != c.detail) {
      s.Say("warning: this review goes on with the words it began with (\"" + m.value("detail", std::string()) +
            "\"); --text is not used. To start over with new words: `specwright modify --abandon --workspace " +
            o.project + "`, then review again");
    }
    if (detail.empty()) {
      // The person says what to change, one question: their words, or nothing to keep it.
      SW_ASSIGN_OR_RETURN(
          StepOutcome ask,
          s.RunStep(prefix + "ask", "review of the " + rp->title, "ask.yaml",
                    {{"topic", rp->name},
                     {"question", "Review the " + rp->title + " in " + rp->doc + ": what should change? (say it in your own "
                                  "words; nothing keeps it as it is)"},
                     {"suggestion", ""}},
                    ""));
      if (ask.waiting) return Waiting(s, prefix + "ask");
      detail = Trim(ask.outputs.value("ask", json("")).is_string() ? ask.outputs["ask"].get<std::string>() : "");
      if (detail.empty()) {
        SW_RETURN_IF_ERROR(finish(what + ": the " + rp->title + " reviewed and kept as it is"));
        Outcome out;
        out.message = "review of the " + rp->title + ": kept as it is (nothing was asked to change)";
        return out;
      }
      m["detail"] = detail;
      SW_RETURN_IF_ERROR(s.Save());
    }
    category = "review";
    entry = rp->name;
    reason = "a person reviewed the " + rp->title + ": " + detail;
    for (const auto& it : corpus.items)
      if (std::find(rp->prefixes.begin(), rp->prefixes.end(), it.prefix) != rp->prefixes.end()) targets.push_back(it.id);
  } else {
    s.Say("classifying the " + std::string(c.kind == "update" ? "change to the brief" : "change request"));
    // The classifier reads the index of the specs (ID, title, what it traces to), not every word.
    std::string index;
    for (const auto& it : corpus.items) {
      std::vector<std::string> ups;
      for (const auto& l : it.links) ups.push_back(l.id);
      index += it.id + " " + it.title + (ups.empty() ? "" : " <- " + Join(ups, ", ")) + "\n";
    }
    SW_ASSIGN_OR_RETURN(StepOutcome cl, s.RunStep(prefix + "classify", "classify", "classify.yaml",
                                                 {{"request", detail}, {"specs", index}, {"context", s.Context()}}, ""));
    if (cl.waiting) return Waiting(s, prefix + "classify");
    const json& cj = cl.outputs.value("classify", json::object());
    category = cj.value("category", "");
    reason = cj.value("reason", "");
    SW_ASSIGN_OR_RETURN(entry, EntryPhase(category));
    for (const auto& t : cj.value("targets", json::array())) {
      std::string id = t.is_string() ? t.get<std::string>() : "";
      (graph.Find(id) ? targets : unknown).push_back(id);
    }
  }
  if (!unknown.empty()) s.Say("warning: the classifier named IDs no spec defines, left out: " + Join(unknown, ", "));
  m["category"] = category;
  m["entry"] = entry;
  m["reason"] = reason;
  m["targets"] = targets;
  s.Say("route: " + category + " -> " +
        (category == "bug" ? "development only, with a new regression test case" : "enters at " + entry) + ". Why: " +
        reason);

  // 2. The impact plan.
  spec::Impact impact = spec::ImpactOf(graph, targets);
  std::set<std::string> impacted(impact.items.begin(), impact.items.end());
  std::vector<std::string> run_phases;
  if (category == "bug") {
    run_phases = {"tests"};
  } else {
    bool on = false;
    for (const auto& l : kLevels) {
      if (l == entry) on = true;
      if (on) run_phases.push_back(l);
    }
  }
  std::set<std::string> files, test_files;
  for (const auto& [f, lines] : impact.code) files.insert(f);
  for (const auto& [f, lines] : impact.tests) test_files.insert(f);
  std::string plan = "# Change " + n + " (" + c.kind + "): " + request + "\n\nRoute: " + category + " (" + reason +
                     ")\nEntry: " + (category == "bug" ? "development, with a regression test case" : entry) + "\n";
  plan += "Changed items: " + (targets.empty() ? std::string("none (new items only)") : Join(targets, ", ")) + "\n";
  plan += "Impacted items: " + (impact.items.empty() ? std::string("none") : Join(impact.items, ", ")) + "\n";
  plan += "Code files: " + (files.empty() ? std::string("none") : Join({files.begin(), files.end()}, ", ")) + "\n";
  plan += "Test files: " + (test_files.empty() ? std::string("none") : Join({test_files.begin(), test_files.end()}, ", ")) + "\n";
  // Estimate: what develop spent on each phase, scaled by the share of its items (or files)
  // the change touches; review and QA as in develop's first round.
  int64_t est_tokens = 0;
  double est_usd = 0;
  std::string est_lines;
  auto add_estimate = [&](const std::string& what, const std::string& step_prefix, double share) {
    int64_t t = 0;
    double u = 0;
    s.Spent(step_prefix, &t, &u);
    share = std::min(1.0, share);
    est_tokens += static_cast<int64_t>(std::llround(static_cast<double>(t) * share));
    est_usd += u * share;
    est_lines += "  - " + what + ": ~" + std::to_string(std::llround(static_cast<double>(t) * share)) + " tokens, " +
                 FormatUsd(u * share) + "\n";
  };
  for (const auto& name : run_phases) {
    const PhaseDef* p = s.Phase(name);
    int total = 0, hit = 0;
    for (const auto& it : corpus.items)
      if (std::find(p->prefixes.begin(), p->prefixes.end(), it.prefix) != p->prefixes.end()) {
        ++total;
        hit += impacted.count(it.id) ? 1 : 0;
      }
    if (category == "bug") hit = 1;
    if (hit == 0 && name != entry) continue;
    add_estimate("phase " + name, name, total ? (hit + 0.5) / total : 1.0);
  }
  std::set<std::string> all_code;
  for (const auto& ci : corpus.citations) all_code.insert(ci.at.file);
  double file_share = all_code.empty() ? 1.0 : (static_cast<double>(files.size() + test_files.size()) + 0.5) / all_code.size();
  add_estimate("development", "development-", file_share);
  add_estimate("review", "review-1", file_share);
  add_estimate("QA", "qa-1", 1.0);
  plan += "Estimate: ~" + std::to_string(est_tokens) + " tokens, " + FormatUsd(est_usd) +
          " (what develop spent on the same work, scaled to the impacted share; less when fewer items really change, "
          "more when fixes are needed)\n" + est_lines;
  m["plan"] = plan;
  m["estimate"] = {{"tokens", est_tokens}, {"usd", est_usd}};
  SW_RETURN_IF_ERROR(s.Save());
  for (size_t a = 0, b; a < plan.size(); a = b + 1) {
    b = plan.find('\n', a);
    if (b == std::string::npos) b = plan.size();
    if (b > a) s.Say(plan.substr(a, b - a));
  }
  // A review's person accepts at the phase's gate, after seeing the revision.
  if (!o.yes && c.kind != "review") {
    SW_ASSIGN_OR_RETURN(StepOutcome g, s.RunStep(prefix + "plan", "impact plan", "gate.yaml",
                                                {{"message", "Run this " + c.kind + "? " + request + " (" + std::to_string(est_tokens) +
                                                                 " tokens, " + FormatUsd(est_usd) + " estimated)"}},
                                                ""));
    if (g.waiting) return Waiting(s, prefix + "plan");
  }

  // 3. The spec phases from the entry level, in update mode. The impact above is the upper
  // bound; what runs follows the real changes: a phase looks at its items that link directly
  // to an item changed (or added) above it, and an item given back unchanged stops there.
  std::set<std::string> changed;  // items rewritten or added so far
  std::set<std::string> entry_changed;  // ... by the entry phase
  std::set<std::string> kept;           // items below the entry the cascade check kept as they are
  std::set<std::string> touched_docs;
  for (const auto& name : run_phases) {
    const PhaseDef* p = s.Phase(name);
    SW_ASSIGN_OR_RETURN(project, s.Spec());
    spec::Graph now(corpus, config);
    auto in_phase = [&](const std::string& id) {
      return std::find(p->prefixes.begin(), p->prefixes.end(), grammar.PrefixOf(id)) != p->prefixes.end();
    };
    std::set<std::string> mine;
    for (const auto& it : corpus.items) {
      if (!in_phase(it.id)) continue;
      bool target = std::find(targets.begin(), targets.end(), it.id) != targets.end();
      bool below_change = false;
      // A kept item follows only changes made below the entry phase, not the entry's own.
      for (const auto& up : now.Parents(it.id))
        below_change |= changed.count(up) > 0 && !(kept.count(it.id) && entry_changed.count(up));
      if (target || below_change) mine.insert(it.id);
    }
    if (name == entry)  // the entry level may also rewrite its items that derive from a target
      for (const auto& t : targets)
        for (const auto& d : now.Children(t))
          if (in_phase(d)) mine.insert(d);
    bool new_upstream = !changed.empty() && category != "bug";
    bool runs = category == "bug" || name == entry || !mine.empty() ||
                (new_upstream && m.contains("added") && !m["added"].empty());
    if (!runs) {
      PushUnique(&m["skipped"], name);
      SW_RETURN_IF_ERROR(s.Save());
      continue;
    }
    std::string key = prefix + name;
    std::set<std::string> upstream_ids = changed;
    for (const auto& t : targets)
      if (!in_phase(t)) upstream_ids.insert(t);
    json inputs = PhaseInputs(s, *p, ItemsText(corpus, upstream_ids));
    inputs["mode"] = "update";
    inputs["brief"] = "";  // the items already say what the brief asked; the change is what is new
    inputs["write_mode"] = "merge";
    // A review's phase asks the person again about the revision, as the develop's gates do.
    inputs["gate"] = c.kind == "review" && name == entry;
    inputs["current"] = mine.empty() ? std::string("(none of this phase's items is impacted)") : ItemsText(corpus, mine);
    inputs["allowed"] = Join({mine.begin(), mine.end()}, ", ");
    inputs["change"] = category == "bug" ? "Bug: " + detail + "\nAdd one regression test case (a new " + p->IdForms() +
                                               " item) that fails while the bug is there, tracing to " + Join(targets, ", ") +
                                               ". Rewrite nothing else."
                       : category == "review"
                           ? "A person reviewed the " + p->title + ". Their words:\n" + detail +
                                 "\nRevise the items their words concern and give back the others unchanged."
                           : detail + "\n(" + reason + ")";
    s.Say("phase " + name + " (update): " + (mine.empty() ? std::string("new items only") : Join({mine.begin(), mine.end()}, ", ")));
    SW_ASSIGN_OR_RETURN(bool done, RunSpecPhase(s, *p, key, inputs));
    if (!done) return Waiting(s, key);
    const json& w = s.Step(key)["outputs"].value("write", json::object());
    for (const auto& id : w.value("replaced", json::array())) changed.insert(id.get<std::string>());
    for (const auto& id : w.value("added", json::array())) {
      changed.insert(id.get<std::string>());
      PushUnique(&m["added"], id);
    }
    touched_docs.insert(p->doc);
    PushUnique(&m["phases"], name);
    m["changed"] = std::vector<std::string>(changed.begin(), changed.end());
    SW_RETURN_IF_ERROR(s.Save());
    if (name == entry && category != "bug" && !changed.empty()) {
      entry_changed = changed;
      SW_ASSIGN_OR_RETURN(bool asked, CascadeCheck(s, prefix, run_phases, entry, changed, detail, &m, &kept));
      if (!asked) return Waiting(s, prefix + "cascade");
    }
  }
  if (changed.empty() && category != "bug") {
    // The specs already say what was asked: there is nothing to regenerate.
    SW_RETURN_IF_ERROR(finish(what + ": " + request + " (no spec item changed)"));
    Outcome out;
    out.message = "change " + n + ": the " + entry + " phase changed no spec item, so nothing below it runs (" +
                  std::to_string(tokens) + " tokens, " + FormatUsd(usd) + ")";
    return out;
  }
  // A bug changes no spec item but the new regression test; its targets' code is what to fix.
  std::set<std::string> code_ids = changed;
  if (category == "bug") code_ids.insert(targets.begin(), targets.end());
  files.clear();
  test_files.clear();
  SW_ASSIGN_OR_RETURN(project, s.Spec());
  for (const auto& ci : corpus.citations)
    if (code_ids.count(ci.id)) (ci.test ? test_files : files).insert(ci.at.file);
  if (category == "bug") {
    // A bug's code is what its targets reach, however far down the citation is.
    for (const auto& [f, lines] : impact.code) files.insert(f);
    for (const auto& [f, lines] : impact.tests) test_files.insert(f);
  }
  // A new test case has no test yet: it goes beside the existing ones.
  bool new_case = false;
  for (const auto& id : m.value("added", json::array()))
    if (grammar.PrefixOf(id.get<std::string>()) == config.test_case_prefix) new_case = true;
  if (new_case)
    for (const auto& ci : corpus.citations)
      if (ci.test) test_files.insert(ci.at.file);
  for (const auto& f : test_files) files.erase(f);

  // 4. Development: one task over the files citing what changed (code and tests).
  Task t;
  t.id = "TASK-M" + n;
  t.title = (category == "bug" ? "Fix: " : c.kind == "update" ? "Update: " : "Change: ") + request;
  t.implements.assign(changed.begin(), changed.end());
  for (const auto& f : files) t.files.push_back(f);
  for (const auto& f : test_files) t.files.push_back(f);
  if (t.files.empty()) t.files = {"src/", "tests/"};
  t.description = "Update the code and its tests for the changed spec items below, and nothing else. Change only these "
                  "files: " + Join(t.files, ", ") + (category == "bug" ? ". Add the regression test first." : ".");
  t.path = "direct";
  t.path_reason = "an update of existing code over the impacted items";
  s.Say("phase development (update): " + Join(t.files, ", "));
  SW_ASSIGN_OR_RETURN(StepOutcome dev, RunTasks(s, prefix + "development", "development (update)", {t},
                                                ItemsText(corpus, changed),
                                                (c.kind == "review" ? "Review: " : "Change request: ") + detail,
                                                // Tests first here too: the changed test cases' tests, then the code.
                                                "Change the tests of the changed test cases first, so they fail "
                                                "without the change; then change the code until `" + o.qa_command +
                                                    "` passes. Do not weaken or delete any other test."));
  if (dev.waiting) return Waiting(s, prefix + "development");

  // 5. Nothing outside the impact changes: what a developer touched anyway is put back (an
  // existing file restored, a new one removed), after development and again after the review
  // and QA fixes.
  // New files may appear beside the files the change may touch (a new module, a new test
  // for a new test case); existing files elsewhere may not change.
  std::set<std::string> new_dirs;
  for (const auto& f : t.files) new_dirs.insert(f.ends_with("/") ? f : fs::path(f).parent_path().generic_string() + "/");
  if (new_case) new_dirs.insert("tests/");
  auto guard = [&](bool after_qa) -> Result<int> {
    SW_ASSIGN_OR_RETURN(std::string head, s.repo()->Head());
    SW_ASSIGN_OR_RETURN(auto changed_files, s.repo()->ChangedFiles(start, head));
    SW_ASSIGN_OR_RETURN(auto before, s.repo()->ReadFilesAt(start, "", ""));
    auto allowed = [&](const std::string& f) {
      if (c.kind == "update" && f == st.value("brief", std::string("BRIEF.md"))) return true;  // its new brief
      if (touched_docs.count(f) || f == "CONTEXT.md" || f == "PR.md" || f == "test-results.json" ||
          f.ends_with("/preferences.md") ||
          f == "specs/architecture/design-notes.md")
        return true;
      for (const auto& a : t.files)
        if (f == a || (a.ends_with("/") && f.starts_with(a))) return true;
      return false;
    };
    std::vector<std::string> put_back;
    for (const auto& f : changed_files) {
      if (allowed(f)) continue;
      bool beside = std::any_of(new_dirs.begin(), new_dirs.end(), [&](const std::string& d) {
        return d == "/" ? f.find('/') == std::string::npos : f.starts_with(d);
      });
      if (!before.count(f) && beside) continue;
      if (before.count(f)) {
        SW_RETURN_IF_ERROR(s.Write(f, before.at(f)));
      } else {
        std::error_code ec;
        fs::remove(s.Path(f), ec);
      }
      put_back.push_back(f);
    }
    if (put_back.empty()) return 0;
    s.Say("warning: put back files outside the impact that were changed: " + Join(put_back, ", "));
    PushUnique(&st["gotchas"], what + ": files outside the impact were changed (" + Join(put_back, ", ") +
                                   ") and put back");
    for (const auto& f : put_back) PushUnique(&m["restored"], f);
    // Recorded before the commit: a crash between the two still re-tests what is left.
    if (after_qa) m["qa_after_put_back"] = true;
    SW_RETURN_IF_ERROR(s.Save());
    SW_RETURN_IF_ERROR(s.CommitOwn(what + ": put back files outside the impact", "the put-back",
                                   std::set<std::string>(put_back.begin(), put_back.end()))
                           .status());
    return static_cast<int>(put_back.size());
  };
  SW_RETURN_IF_ERROR(guard(/*after_qa=*/false).status());

  // 6. Review and QA over the change, 7. PR.md.
  SW_ASSIGN_OR_RETURN(Outcome rv, ReviewAndQa(s, prefix, start, plan, ItemsText(corpus, changed), t.files));
  if (rv.waiting) return rv;
  if (!m.contains("qa_after_round")) m["qa_after_round"] = st.value(prefix + "qa", json::object()).value("rounds", 0) + 1;
  SW_RETURN_IF_ERROR(guard(/*after_qa=*/true).status());
  if (m.value("qa_after_put_back", false)) {
    // What QA passed is not what is left: test what is.
    std::string text;
    SW_ASSIGN_OR_RETURN(StepOutcome qa, RunQa(s, prefix, prefix + "qa-after-put-back", m["qa_after_round"].get<int>(),
                                              &rv.message, &text));
    if (qa.waiting) return Waiting(s, prefix + "qa-after-put-back");
  }
  SW_RETURN_IF_ERROR(finish(what + ": " + request + "\n\nPR.md updated"));
  if (!st.value(prefix + "qa", json::object()).value("passed", false))
    return Failed("change " + n + " is in, but " + rv.message + "; PR.md lists the failing test cases");
  Outcome out;
  out.message = "change " + n + " done: " + std::to_string(tokens) + " tokens, " + FormatUsd(usd) + " (estimated " +
                std::to_string(est_tokens) + "). " + rv.message;
  return out;
}

}  // namespace sw::process
