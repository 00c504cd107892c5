// eval, evals, eval-report, and `replay --offline` of an eval run (eval_cmd.cc).
#pragma once

#include "cli/commands.h"
#include "cli/common.h"
#include "eval/eval.h"

namespace sw::cli {

/// CmdEval runs a suite: `eval SUITE [--baseline RUN_OR_REPORT] [--output F] [--junit F] ...`.
int CmdEval(Context& ctx);
/// CmdEvals lists the eval runs by suite (newest first).
int CmdEvals(Context& ctx);
/// CmdEvalReport prints or exports a stored report, optionally compared with a baseline.
int CmdEvalReport(Context& ctx);
/// ReplayEval is `replay EVAL_RUN --offline`: the suite again, each case answered from its
/// recordings; checks every case's assertion results equal the source's.
int ReplayEval(Context& ctx, Env& env, const store::RunRecord& source);

}  // namespace sw::cli
