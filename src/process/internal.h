// Helpers shared by develop.cc, modify.cc and review_qa.cc.
#pragma once

#include <string>
#include <vector>

#include "process/session.h"

namespace sw::process {

/// The spec phases with documents that come before `name`, in order.
std::vector<std::string> PhasesBefore(const Session& s, const std::string& name);
/// The inputs phase.yaml takes for phase p in create mode.
json PhaseInputs(Session& s, const PhaseDef& p, const std::string& upstream);
std::string CommitMessage(const PhaseDef& p);
/// RunSpecPhase runs phase.yaml for p as step key; false when it waits on a decision.
Result<bool> RunSpecPhase(Session& s, const PhaseDef& p, const std::string& key, json inputs);
/// RunTasks runs one development wave (development.yaml) and commits each task on its own.
Result<StepOutcome> RunTasks(Session& s, const std::string& key, const std::string& label, const std::vector<Task>& tasks,
                             const std::string& specs, const std::string& feedback);
Result<std::vector<std::string>> TestCaseIds(Session& s);
Result<Outcome> Waiting(Session& s, const std::string& key);
/// ReviewAndQa: review rounds over the diff since base (consensus, arbitration, fixes), then
/// QA rounds (the project's tests for real, fixes with the real output). Steps are keyed
/// with prefix; the results go to the state for PR.md.
/// specs is what reviewers and fixers read: every document for develop, the changed items for a
/// modify.
Result<Outcome> ReviewAndQa(Session& s, const std::string& prefix, const std::string& base, const std::string& plan,
                            const std::string& specs);

}  // namespace sw::process
