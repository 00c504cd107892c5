// Helpers shared by develop.cc, modify.cc and review_qa.cc.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "process/session.h"

namespace sw::process {

/// Str is j[key] when it is a string, else "": model output is read without trusting its types.
inline std::string Str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}
/// PushUnique appends v to the list unless it is there (a step that runs again adds nothing).
inline void PushUnique(json* list, const json& v) {
  if (!list->is_array()) *list = json::array();
  if (std::find(list->begin(), list->end(), v) == list->end()) list->push_back(v);
}

/// The spec phases with documents that come before `name`, in order.
std::vector<std::string> PhasesBefore(const Session& s, const std::string& name);
/// The inputs phase.yaml takes for phase p in create mode.
json PhaseInputs(Session& s, const PhaseDef& p, const std::string& upstream);
std::string CommitMessage(const PhaseDef& p);
/// EarlierGateWords: what the person last said at step key's gate in an earlier run, when it
/// was not a plain approval ("" otherwise, and once the step is done).
std::string EarlierGateWords(Session& s, const std::string& key);
/// RunSpecPhase runs phase.yaml for p as step key; false when it waits on a decision.
Result<bool> RunSpecPhase(Session& s, const PhaseDef& p, const std::string& key, json inputs);
/// DesignNotes runs design.yaml as step `key` for the design-path tasks among `tasks` (a DEC
/// note each, merged into specs/architecture/design-notes.md); nothing when there are none.
Result<StepOutcome> DesignNotes(Session& s, const std::string& key, const std::vector<Task>& tasks,
                                const std::string& specs);
/// RunTasks runs one development wave (development.yaml) and commits each task on its own;
/// the wave's design notes first unless `designed` (the caller ran them).
Result<StepOutcome> RunTasks(Session& s, const std::string& key, const std::string& label, const std::vector<Task>& tasks,
                             const std::string& specs, const std::string& feedback, const std::string& goal = "",
                             bool designed = false);
Result<std::vector<std::string>> TestCaseIds(Session& s);

/// Change is one change to a developed project (an entry of the state's "modifies").
struct Change {
  std::string kind = "modify";  // modify | update | review
  std::string request;          // its title: the person's request, "the brief changed (…)", "review of the …"
  std::string detail;           // what the models read: the request, the brief's diff, a reviewer's words
  std::string brief, brief_hash, brief_source;  // update: the new brief
  std::string phase;                            // review: the phase revisited
};
/// RunChange runs (or continues) a change: classify and route it (a review enters at its
/// phase), the impact plan and its approval, the phases from the entry in update mode over
/// the impacted items, development, review and QA, PR.md and CONTEXT.md.
Result<Outcome> RunChange(Session& s, Change c);
/// Update: develop again with a changed brief. The diff against the brief developed is routed
/// like a modify; the new brief is the change's first commit.
Result<Outcome> Update(Session& s, const std::string& brief_path, const std::string& brief);
/// RecordVerifyRounds notes how many rounds the step's verifier took (for PR.md).
Status RecordVerifyRounds(Session& s, const std::string& key, const std::string& run_id);
Result<Outcome> Waiting(Session& s, const std::string& key);
/// RunQa runs QA once as step key (round n): the project's tests, the per-case report into the
/// state (prefix + "qa"), the summary line in *message and the real output in *output.
Result<StepOutcome> RunQa(Session& s, const std::string& prefix, const std::string& key, int round,
                          std::string* message, std::string* output);
/// ReviewAndQa: review rounds over the diff since base (consensus, arbitration, fixes), then
/// QA rounds (the project's tests for real, fixes with the real output). Steps are keyed
/// with prefix; the results go to the state for PR.md. plan is the text reviewers check the
/// change against (the task plan, or a modify's impact plan).
/// specs is what reviewers and fixers read: every document for develop, the changed items for a
/// modify.
/// fix_files are the files review and QA fixes may change.
Result<Outcome> ReviewAndQa(Session& s, const std::string& prefix, const std::string& base, const std::string& plan,
                            const std::string& specs, const std::vector<std::string>& fix_files);

}  // namespace sw::process
