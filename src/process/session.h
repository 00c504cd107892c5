// Session: one develop or modify in a project folder — the process definition (process.yaml),
// the state file (.specwright/process.json), the project's git repository, and RunStep, which
// runs one shipped workflow as an engine run so that an interrupted step continues.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "process/process.h"
#include "spec/spec.h"
#include "tools/git_repo.h"

namespace sw::process {

/// PhaseDef is one entry of process.yaml's `phases:`.
struct PhaseDef {
  std::string name, title, number, doc;
  std::vector<std::string> prefixes;
  std::map<std::string, std::string> guideline;  // tier (or "all") -> file in process/
  std::string checklist;                         // file in process/: what the verifier checks, point by point
  bool gate = false;
  /// The ID forms it defines: "REQ-01-NNN, BR-01-NNN".
  std::string IdForms() const;
};

/// StepOutcome: a step finished (its node outputs), or waits for a person.
struct StepOutcome {
  bool waiting = false;
  json outputs = json::object();
  std::string run_id;
};

class Session {
 public:
  explicit Session(const Options& o) : o_(o) {}
  Status Load();  // process.yaml and, when present, the state file
  Status Save();

  const Options& options() const { return o_; }
  /// The session the steps run now belong to: the develop's, or one modify's. Recorded on
  /// every step's run, so `specwright runs` and `sessions` can group them.
  void SetSessionId(std::string id) { session_id_ = std::move(id); }
  const std::string& session_id() const { return session_id_; }
  json& state() { return state_; }
  /// Step is the state of step key (an object, created empty).
  json& Step(const std::string& key) {
    json& j = state_["steps"][key];
    if (!j.is_object()) j = json::object();
    return j;
  }
  bool HasState() const { return !state_.empty(); }
  const std::vector<PhaseDef>& phases() const { return phases_; }
  const PhaseDef* Phase(const std::string& name) const;
  int Limit(const std::string& name, int fallback) const;
  tools::GitRepo* repo() { return repo_.get(); }
  Status OpenRepo();
  Status InitRepo();

  /// RunStep runs process/<file> as step `key` (done steps are skipped and give their stored
  /// outputs). An unfinished step starts again from the commit it started at, as a new run:
  /// the model calls that finished come from the engine's cache, so nothing is paid twice. A
  /// step waiting for a person is resumed instead. `finish` runs after success and before the
  /// step is marked done (it commits); the default squashes the step's changes into one commit
  /// with `message` ("" = no commit).
  Result<StepOutcome> RunStep(const std::string& key, const std::string& label, const std::string& file, json inputs,
                              const std::string& message,
                              const std::function<Status(const std::string& start, const json& outputs)>& finish = {});
  /// Squash commits everything changed since `start` as one commit.
  Result<std::string> Squash(const std::string& start, const std::string& message);
  /// ResetKeepingAside makes the project `start` again, as a step run again must, but never
  /// deletes what no finished step committed (a person's edits, new and deleted files, or what
  /// an interrupted run half-wrote): those are first kept in git under refs/specwright/kept/…
  /// (GitRepo::KeepAside), listed to the person with how to take them back, and recorded in
  /// the state's "kept". `why` says which step is starting again.
  Status ResetKeepingAside(const std::string& start, const std::string& why);
  /// RefuseForeignChanges fails, listing them, when the work tree has changes no commit holds
  /// and the process did not write (Write records a hash of what it wrote; `ours` names more):
  /// a person's edits, which a step starting (or resuming) must neither overwrite nor take
  /// into its commit. The advice is to commit them or stash them; only to stash them when the
  /// step resumes (its squash would fold a new commit into its own) or inside a change (its
  /// guard would put back a commit outside the impact).
  Status RefuseForeignChanges(const std::string& label, bool resuming, const std::set<std::string>& ours);
  /// CommitOwn commits the work tree after RefuseForeignChanges: for the process's commits
  /// between steps (preferences, CONTEXT.md, PR.md, files put back).
  Result<std::string> CommitOwn(const std::string& message, const std::string& label,
                                const std::set<std::string>& ours = {});
  /// Inside a change (modify, update, review): see RefuseForeignChanges.
  void SetInChange(bool on) { in_change_ = on; }

  // Files of the project.
  std::string Path(const std::string& rel) const;
  std::string Read(const std::string& rel) const;  // "" when missing
  Status Write(const std::string& rel, const std::string& text);

  /// Spec text: the documents of these phases, each under its path.
  std::string Docs(const std::vector<std::string>& phase_names) const;
  /// The traceability of the project as it is now.
  Result<spec::Project> Spec() const { return spec::Open(o_.project); }

  /// Preferences of a phase merged with the workspace-wide ones, as text for prompts.
  std::string PreferencesText(const std::string& phase) const;
  std::string PhasePrefsPath(const std::string& phase) const { return "specs/" + phase + "/preferences.md"; }
  std::string WorkspacePrefsPath() const;
  /// CONTEXT.md: decisions, conventions and gotchas, rebuilt from the state.
  Status WriteContext();
  std::string Context() const { return Read("CONTEXT.md"); }

  void Say(const std::string& line) const {
    if (o_.say) o_.say(line);
  }
  /// Tokens and dollars every recorded run of the steps whose key starts with prefix spent.
  void Spent(const std::string& prefix, int64_t* tokens, double* usd) const;

 private:
  const Options& o_;
  std::vector<PhaseDef> phases_;
  json limits_ = json::object();
  json state_;
  std::string session_id_;
  bool in_change_ = false;
  std::unique_ptr<tools::GitRepo> repo_;
};

/// ItemsText is the Markdown of the given items (heading and body), in corpus order.
std::string ItemsText(const spec::Corpus& c, const std::set<std::string>& ids);
/// WritePr writes PR.md from the state and the trace graph.
Status WritePr(Session& s);

}  // namespace sw::process
