// The subcommands behind the table in cli.cc; each returns an exit code.
#pragma once

#include "store/store.h"

#include <string>

#include "cli/args.h"

namespace sw::cli {

struct Context {
  Args args;
  std::string command;
  std::string usage;
  /// --store or $SPECWRIGHT_STORE (default .specwright): a directory (SQLite) or a
  /// postgresql:// URL, which may carry a password — messages name StorePath(ctx), never this.
  std::string store_dir;
  bool json = false;
  /// no_color: --no-color was given or $NO_COLOR is set and not empty (https://no-color.org).
  bool no_color = false;
};

int CmdInit(Context& ctx);
int CmdValidate(Context& ctx);
int CmdRun(Context& ctx);
int CmdResume(Context& ctx);
/// CmdWorker claims and runs the tasks of detached runs (worker_cmd.cc).
int CmdWorker(Context& ctx);
/// CmdScheduler fires the `schedule:` of workflows and eval suites; CmdSchedules lists them;
/// CmdScheduleFire (hidden) starts one claimed fire (scheduler_cmd.cc).
int CmdScheduler(Context& ctx);
int CmdSchedules(Context& ctx);
int CmdScheduleFire(Context& ctx);
int CmdRuns(Context& ctx);
/// CmdPatterns lists the shipped patterns (patterns/std) or shows one's interface (patterns_cmd.cc).
int CmdPatterns(Context& ctx);
int CmdSessions(Context& ctx);
int CmdShow(Context& ctx);
int CmdCancel(Context& ctx);
int CmdApprove(Context& ctx);
int CmdFiles(Context& ctx);
int CmdTrace(Context& ctx);
int CmdDebug(Context& ctx);
int CmdCost(Context& ctx);
int CmdArtifacts(Context& ctx);
int CmdLineage(Context& ctx);
int CmdReplay(Context& ctx);
int CmdDiff(Context& ctx);
int CmdExport(Context& ctx);
int CmdGc(Context& ctx);
int CmdUi(Context& ctx);
/// CmdMcp serves the project to coding agents over the Model Context Protocol (mcp_cmd.cc).
int CmdMcp(Context& ctx);
int CmdSpec(Context& ctx);
/// CmdStore: `store copy FROM TO` and `store check [STORE]` (store_cmd.cc).
int CmdStore(Context& ctx);
int CmdDevelop(Context& ctx);
int CmdModify(Context& ctx);
int CmdReview(Context& ctx);
/// PrintAgentSteps prints every agent turn, tool call and result of a run (show).
void PrintAgentSteps(store::Store* st, const std::string& run_id);

}  // namespace sw::cli
