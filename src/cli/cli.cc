#include "cli/cli.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <memory>
#include <string>
#include <exception>
#include <vector>

#include "base/strings.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/eval_cmd.h"
#include "cli/shell.h"
#include "process/process.h"

namespace sw::cli {

const char* const kVersion = "0.1.0";

namespace {

int CmdHelp(Context& ctx);
int CmdVersion(Context& ctx);
int CmdCompletion(Context& ctx);
int CmdManpage(Context& ctx);

const FlagSpec kHelp = {"help", false, false, "show help for this command", 'h'};
const std::vector<FlagSpec> kCommon = {
    {"store", true, false, "the store: a directory (default .specwright) or a postgresql:// URL (or $SPECWRIGHT_STORE)", 0,
     "DIR|URL"},
    {"json", false, false, "machine-readable output; errors too, as {\"error\", \"code\"} on stdout"},
    {"no-color", false, false, "no colour in the output (also: $NO_COLOR)"},
    kHelp,
};

std::vector<FlagSpec> With(std::vector<FlagSpec> extra) {
  extra.insert(extra.end(), kCommon.begin(), kCommon.end());
  return extra;
}

}  // namespace

const std::vector<CommandSpec>& Commands() {
  // `develop --until`'s choices: the phases the process can stop after, as it lists them.
  static const std::string kUntilChoices = Join(process::UntilPhases(), " ");
  static const std::vector<CommandSpec> kTable = {
      {"init", "write a starter workflow (flow.yaml) and its offline script", CmdInit, With({}), "init [DIR]", "@dir"},
      {"validate", "check workflow files and report every problem with file:line:col", CmdValidate, With({}),
       "validate FILE...", "@file"},
      {"patterns", "list the shipped patterns (workflow: std/NAME), or show one's inputs, outputs and roles", CmdPatterns,
       With({}), "patterns [NAME]", "critic debate best-of-n reflexion plan-and-execute map-reduce judge"},
      {"run", "run a workflow (--detach: record it for `specwright worker` processes and return)", CmdRun,
       With({{"input", true, true, "set an input: k=v (repeatable)", 'i', "k=v"},
             {"detach", false, false, "queue the run for workers (a postgresql:// store), print its id and return at once"},
             {"labels", true, false, "with --detach: only workers with all these labels take its work (a,b)", 0, "LABELS"},
             {"workspace-remote", true, false, "with --detach: a shared bare git repository the workspace travels through, so tool calls run on any worker (or $SPECWRIGHT_WORKSPACE_REMOTE)", 0, "REPO"},
             {"input-file", true, true, "set an input from a file: k=path (repeatable)", 0, "k=PATH"},
             {"script", true, false, "answer `scripted/...` models from this script file", 0, "FILE"},
             {"no-cache", false, false, "do not reuse cached node results for this run"},
             {"yes", false, false, "approve every human gate automatically", 'y'},
{"wait", false, false, "at a human gate, wait for `specwright approve` or the web UI instead of stopping"},
             {"max-calls", true, false, "cap on model calls for this run (default 500)", 0, "N"},
             {"run-id", true, false, "use this id for the new run", 0, "ID"},
             {"model", true, false, "use this provider/model for every model node (e.g. openai/gpt-4o-mini)", 0, "PROVIDER/MODEL"},
             {"config", true, false, "provider config (default ./specwright.yaml, or $SPECWRIGHT_CONFIG)", 0, "FILE"},
             {"prices", true, false, "a LiteLLM-format price file merged over the shipped table", 0, "FILE"},
             {"otlp-endpoint", true, false, "stream spans live to this OTLP/HTTP collector (e.g. http://127.0.0.1:4318)", 0, "URL"},
             {"include-content", false, false, "with --otlp-endpoint: put prompts and responses on the spans"}}),
       "run FILE [--input k=v] [--input-file k=path] [--script FILE] [--model P/M] [--no-cache] [--yes]", "@file"},
      {"submit", "queue a workflow run for `specwright worker` processes (a postgresql:// store); prints the run id",
       CmdRun,
       With({{"input", true, true, "set an input: k=v (repeatable)", 'i', "k=v"},
             {"input-file", true, true, "set an input from a file: k=path (repeatable)", 0, "k=PATH"},
             {"labels", true, false, "only workers with all these labels take its work (a,b)", 0, "LABELS"},
             {"workspace-remote", true, false, "a shared bare git repository the workspace travels through, so tool calls run on any worker (or $SPECWRIGHT_WORKSPACE_REMOTE)", 0, "REPO"},
             {"script", true, false, "check `scripted/...` models against this script (the workers answer from theirs)", 0, "FILE"},
             {"no-cache", false, false, "do not reuse cached node results for this run"},
             {"yes", false, false, "approve every human gate automatically", 'y'},
             {"max-calls", true, false, "cap on model calls for this run (default 500)", 0, "N"},
             {"run-id", true, false, "use this id for the new run", 0, "ID"},
             {"model", true, false, "use this provider/model for every model node", 0, "PROVIDER/MODEL"},
             {"config", true, false, "provider config to check the models against (default ./specwright.yaml)", 0, "FILE"},
             {"prices", true, false, "a LiteLLM-format price file merged over the shipped table", 0, "FILE"}}),
       "submit FILE --store postgresql://... [--input k=v] [--labels a,b]   (= run FILE --detach)", "@file"},
      {"worker", "claim and run the work of detached runs from a postgresql:// store: orchestrations, model and tool calls",
       CmdWorker,
       With({{"concurrency", true, false, "model and tool calls at once (default 4)", 'c', "N"},
             {"max-runs", true, false, "runs orchestrated at once (default 8; they mostly wait)", 0, "N"},
             {"labels", true, false, "what this worker offers: it takes tasks whose labels it all has (a,b)", 0, "LABELS"},
             {"lease", true, false, "seconds a claim holds without a heartbeat (default 30; heartbeats every third)", 0, "SECONDS"},
             {"poll", true, false, "seconds between looks at the queue when no NOTIFY came (default 2)", 0, "SECONDS"},
             {"idle-exit", true, false, "exit after this many seconds with nothing to do (default: never)", 0, "SECONDS"},
             {"no-listen", false, false, "do not LISTEN for NOTIFYs: find work by polling only"},
             {"quiet", false, false, "no line per claimed, finished or lost task on stderr", 'q'},
             {"scheduler", false, false, "also fire the `schedule:` of the workflows and eval suites below --schedule-dir (as `specwright scheduler --dir`; runs start there, with this worker's --script/--config/--prices)"},
             {"schedule-dir", true, false, "with --scheduler: look for schedules in the .yaml files below DIR (default: the current directory; depth 4)", 0, "DIR"},
             {"script", true, false, "answer `scripted/...` models from this script file", 0, "FILE"},
             {"config", true, false, "provider config (default ./specwright.yaml, or $SPECWRIGHT_CONFIG)", 0, "FILE"},
             {"prices", true, false, "a LiteLLM-format price file merged over the shipped table", 0, "FILE"}}),
       "worker --store postgresql://... [--concurrency N] [--labels a,b] [--lease S] [--poll S] [--idle-exit S] [--scheduler [--schedule-dir DIR]]"},
      {"scheduler", "fire the `schedule:` of workflows and eval suites: each due window once, even across restarts",
       CmdScheduler,
       With({{"dir", true, false, "look for schedules in the .yaml files below DIR (default: the current directory; depth 4); runs start in DIR", 0, "DIR"},
             {"once", false, false, "one pass: fire what is due now, then exit"},
             {"poll", true, false, "seconds between passes (default 15)", 0, "SECONDS"},
             {"script", true, false, "answer `scripted/...` models of every started run from this script file", 0, "FILE"},
             {"config", true, false, "provider config for every started run", 0, "FILE"},
             {"prices", true, false, "a LiteLLM-format price file for every started run", 0, "FILE"}}),
       "scheduler [FILE...] [--dir D] [--once] [--poll S]", "@file"},
      {"schedules", "list the schedules of workflows and eval suites with their next and last fire", CmdSchedules,
       With({{"dir", true, false, "look in the .yaml files below DIR (default: the current directory; depth 4)", 0, "DIR"}}),
       "schedules [FILE...] [--dir D] [--json]", "@file"},
      {"schedule-fire", "start the run of a claimed schedule fire (the scheduler runs this)", CmdScheduleFire,
       With({{"file", true, false, "the file the scheduler found the schedule in (needed for an `id:` key)", 0, "FILE"},
             {"script", true, false, "passed to the run", 0, "FILE"},
             {"config", true, false, "passed to the run", 0, "FILE"},
             {"prices", true, false, "passed to the run", 0, "FILE"}}),
       "schedule-fire RUN [--file FILE]", "", true},
      {"resume", "continue a stopped, crashed or waiting run; finished nodes are never re-run", CmdResume,
       With({{"script", true, false, "script file (default: the one the run started with)", 0, "FILE"},
             {"yes", false, false, "approve every human gate automatically", 'y'},
{"wait", false, false, "at a human gate, wait for `specwright approve` or the web UI instead of stopping"},
             {"allow-changed", false, false, "resume even though the workflow file changed"},
             {"config", true, false, "provider config (default: the one the run started with)", 0, "FILE"},
             {"otlp-endpoint", true, false, "stream spans live to this OTLP/HTTP collector", 0, "URL"},
             {"include-content", false, false, "with --otlp-endpoint: put prompts and responses on the spans"}}),
       "resume RUN"},
      {"runs", "list runs: status, duration, nodes, tokens, cost", CmdRuns,
       With({{"limit", true, false, "how many runs (default 20)", 'n', "N"},
             {"all", false, false, "include sub-runs", 'a'},
             {"status", true, false, "only runs with this status (queued, running, waiting, succeeded, failed, cancelled, abandoned)", 0,
              "STATUS", "queued running waiting succeeded failed cancelled abandoned"},
             {"search", true, false, "only runs whose id, workflow or file contains this text", 0, "TEXT"}}),
       "runs [--limit N] [--status S] [--search TEXT]"},
      {"sessions", "list develop and modify sessions (or one in full): their steps, gate rounds and spend", CmdSessions,
       With({{"limit", true, false, "how many sessions (default 20)", 'n', "N"}}), "sessions [SESSION] [--limit N] [--json]"},
      {"show", "show a run's nodes: status, attempts, duration, tokens, cost, error", CmdShow, With({}), "show RUN"},
      {"cancel", "cancel a running run (in-flight work stops, nothing half-written)", CmdCancel, With({}),
       "cancel RUN"},
      {"approve", "answer a human gate of a waiting run, then `resume` it", CmdApprove,
       With({{"reject", false, false, "reject instead of approve"},
             {"text", true, false, "a comment, or the answer of an input gate", 0, "TEXT"}}),
       "approve RUN NODE [--reject] [--text T]"},
      {"files", "show what each node changed in the run's workspace, as diffs of its checkpoint commits", CmdFiles,
       With({}), "files RUN [NODE]"},
      {"trace", "a run's timeline: one bar per node attempt on a shared time axis, with status, tokens, cost",
       CmdTrace, With({{"node", true, false, "expand this node into its model calls and tool calls", 0, "NODE"}}),
       "trace RUN [--node NODE]"},
      {"debug", "post-mortem of failed and skipped nodes: errors, retries, prompt, inputs, last output", CmdDebug,
       With({{"node", true, false, "only this node (any status)", 0, "NODE"}}), "debug [RUN|latest] [--node NODE]"},
      {"cost", "spend by node, model and provider, tokens by kind, the budget; or across runs with --since", CmdCost,
       With({{"since", true, false, "across runs started since: 7d, 12h, 2w or a date 2026-11-01", 0, "WHEN"}}),
       "cost RUN | cost --since 7d"},
      {"artifacts", "a run's artifacts as a derivation tree: who produced each and from what", CmdArtifacts,
       With({}), "artifacts RUN"},
      {"lineage", "where an artifact came from, down to the inputs; cycles are reported, not followed", CmdLineage,
       With({{"run", true, false, "the run (default: the newest run with that artifact)", 0, "RUN"}}), "lineage ARTIFACT [--run RUN]"},
      {"eval", "run an eval suite: a workflow over a dataset of cases, checked by assertions; --baseline gates on regressions",
       CmdEval,
       With({{"baseline", true, false, "compare with this report file or eval run; exit 1 on a regression beyond the tolerance", 0, "RUN|FILE"},
             {"tolerance", true, true, "override the suite's tolerance: pass_rate=0.05,cost=0.25,latency=0.5,cases=0", 0, "k=v,..."},
             {"output", true, false, "write the report JSON here", 'o', "FILE"},
             {"junit", true, false, "write the report as JUnit XML here", 0, "FILE"},
             {"concurrency", true, false, "cases at once (default: the suite's, else 4)", 'c', "N"},
             {"case", true, true, "run only this case (repeatable)", 0, "ID"},
             {"script", true, false, "answer `scripted/...` models from this script file", 0, "FILE"},
             {"config", true, false, "provider config (default ./specwright.yaml, or $SPECWRIGHT_CONFIG)", 0, "FILE"},
             {"prices", true, false, "a LiteLLM-format price file merged over the shipped table", 0, "FILE"},
             {"run-id", true, false, "use this id for the eval run", 0, "ID"},
             {"max-calls", true, false, "cap on model calls per case run (default 500)", 0, "N"},
             {"cache", false, false, "reuse cached node results (off by default: an eval measures the model, not the cache)"},
             {"no-cache", false, false, "do not reuse cached node results (the default)"}}),
       "eval SUITE.yaml [--baseline RUN|FILE] [--tolerance k=v] [--output F] [--junit F] [--case ID]... [--script F]",
       "@file"},
      {"evals", "list eval runs by suite, newest first: pass rate, cost, latency", CmdEvals,
       With({{"limit", true, false, "look at this many newest runs (default 1000)", 'n', "N"}}), "evals [SUITE]"},
      {"eval-report", "print or export an eval's report (text, json, junit), optionally compared with a baseline",
       CmdEvalReport,
       With({{"format", true, false, "text (default), json or junit", 'f', "FORMAT", "text json junit"},
             {"baseline", true, false, "compare with this report file or eval run (exit 1 on a regression)", 0, "RUN|FILE"},
             {"tolerance", true, true, "the comparison's tolerance: pass_rate=0.05,cost=0.25,latency=0.5,cases=0", 0, "k=v,..."},
             {"output", true, false, "write to this file instead of stdout", 'o', "FILE"}}),
       "eval-report RUN|FILE [--format text|json|junit] [--baseline RUN|FILE]", "@file"},
      {"replay", "re-run a stored run, reusing every node not downstream of what you change", CmdReplay,
       With({{"from", true, true, "run this node and everything downstream live (repeatable)", 0, "NODE"},
             {"model", true, true, "NODE=provider/model: a different model for a node (repeatable)", 0, "NODE=P/M"},
             {"prompt", true, true, "NODE=FILE: a different prompt template for a node (repeatable)", 0, "NODE=PATH"},
             {"input", true, true, "k=v: a different input; nodes that read it run live (repeatable)", 'i', "k=v"},
             {"offline", false, false, "answer every model call from the recordings, no network; checks outputs match"},
{"wait", false, false, "at a human gate, wait for `specwright approve` or the web UI instead of stopping"},
             {"allow-drift", false, false, "reuse results even though the workflow changed upstream"},
             {"yes", false, false, "approve every human gate automatically", 'y'},
             {"script", true, false, "script file for scripted models (default: the run's)", 0, "FILE"},
             {"config", true, false, "provider config (default: the run's)", 0, "FILE"},
             {"run-id", true, false, "use this id for the new run", 0, "ID"},
             {"otlp-endpoint", true, false, "stream spans live to this OTLP/HTTP collector", 0, "URL"},
             {"include-content", false, false, "with --otlp-endpoint: put prompts and responses on the spans"}}),
       "replay RUN [--from NODE] [--model NODE=P/M] [--prompt NODE=FILE] [--input k=v] [--offline] [--allow-drift]"},
      {"diff", "compare two runs node by node: status, duration, tokens, cost, model, output diff", CmdDiff,
       With({{"diffs", true, false, "show the text diff of at most N differing outputs (default 50, 0: all)", 0, "N"}}),
       "diff RUN_A RUN_B [--diffs N]"},
      {"export", "a run's spans as JSON, CSV or OTLP/JSON (OpenTelemetry GenAI conventions); a run or session as Markdown", CmdExport,
       With({{"format", true, false, "json (default), csv, otlp, or markdown (a run or a develop session: prompts, answers, tool calls, decisions, cost)",
              'f', "FORMAT", "json csv otlp markdown"},
             {"include-content", false, false, "otlp: put prompts, responses and tool results on the spans"},
             {"output", true, false, "write to this file instead of stdout", 'o', "FILE"}}),
       "export RUN [--format json|csv|otlp] [--include-content] [--output FILE] | export RUN|SESSION --format markdown"},
      {"gc", "delete old runs and every blob nothing references; reports the bytes freed", CmdGc,
       With({{"older-than", true, false, "delete runs started before this: 30d (default), 12h, or a date", 0, "AGE"},
             {"dry-run", false, false, "say what would go, delete nothing", 'n'},
             {"grace", true, false, "keep unreferenced blob files younger than this (default 1h)", 0, "AGE"},
             {"delete-branches", false, false, "delete the specwright/RUN branches of deleted runs without asking"},
             {"keep-branches", false, false, "keep the specwright/RUN branches of deleted runs without asking"}}),
       "gc [--older-than 30d] [--dry-run] [--delete-branches|--keep-branches]"},
      {"ui", "the web UI: runs, live graphs, node inspector, timeline, cost, approvals, replay, diff", CmdUi,
       With({{"host", true, false, "address to listen on (default 127.0.0.1; any other needs a token)", 0, "HOST"},
             {"port", true, false, "port (default 8420; 0: any free port)", 'p', "PORT"},
             {"token", true, false, "require this token on every request (generated when --host is not loopback)", 0, "TOKEN"},
             {"dir", true, false, "where workflows are listed and read (default: the current directory)", 0, "DIR"},
             {"ui-dir", true, false, "the built front end (default: ui/ beside the binary)", 0, "DIR"},
             {"scheduler", false, false, "also fire the `schedule:` of the workflows and eval suites below --dir (as `specwright scheduler --dir DIR`; runs start in DIR)"},
             {"script", true, false, "with --scheduler: answer `scripted/...` models of every fired run from this script file", 0, "FILE"},
             {"config", true, false, "with --scheduler: provider config for every fired run (default: DIR/specwright.yaml)", 0, "FILE"},
             {"prices", true, false, "with --scheduler: a LiteLLM-format price file for every fired run", 0, "FILE"}}),
       "ui [--host H] [--port P] [--token T] [--dir DIR] [--scheduler [--script F] [--config F] [--prices F]]"},
      {"mcp", "serve the project to coding agents over MCP: specs and their trace, runs, sessions, rules (stdio or --http)", CmdMcp,
       With({{"dir", true, false, "the project (default: the current directory); every path stays inside it", 0, "DIR"},
             {"http", false, false, "serve Streamable HTTP on /mcp instead of stdio"},
             {"host", true, false, "with --http: address to listen on (default 127.0.0.1; any other needs a token)", 0, "HOST"},
             {"port", true, false, "with --http: port (default 8421; 0: any free port)", 'p', "PORT"},
             {"token", true, false, "with --http: require `Authorization: Bearer TOKEN` (prefer $SPECWRIGHT_MCP_TOKEN: argv is visible in ps; generated when --host is not loopback)", 0, "TOKEN"},
             {"allow-writes", false, false, "add the tools that change things: run_start, gate_approve"}}),
       "mcp [--dir PROJECT] [--store DIR] [--http [--host H] [--port P] [--token T]] [--allow-writes]"},
      {"develop", "the LLM developer: brief -> specs with IDs -> tasks -> code -> tests, verified, reviewed, QA'd", CmdDevelop,
       With({{"workspace", true, false, "the project folder to build (default: named after the brief's title)", 'w', "DIR"},
             {"no-cache", false, false, "make every model call afresh, none from the cache"},
             {"yes", false, false, "approve the gates and take the suggested answers to open questions", 'y'},
             {"wait", false, false, "at a gate, wait for `specwright approve` or the web UI instead of stopping"},
             {"until", true, false, "stop after this phase (complexity, requirements, ..., api, tasks, tests: their code, development)", 0,
              "PHASE", kUntilChoices.c_str()},
             {"script", true, false, "answer `scripted/...` models from this recording", 0, "FILE"},
             {"config", true, false, "specwright.yaml with providers and roles (default: ./specwright.yaml)", 0, "FILE"},
             {"prices", true, false, "an extra price table", 0, "FILE"},
             {"process-dir", true, false, "the process's workflows and prompts (default: the shipped ones)", 0, "DIR"}}),
       "develop BRIEF.md [--workspace DIR] [--yes] [--no-cache]", "@file"},
      {"modify", "change a developed project: route the request, show the impact plan, regenerate only what it touches",
       CmdModify,
       With({{"workspace", true, false, "the developed project (default: the current directory)", 'w', "DIR"},
             {"yes", false, false, "approve the impact plan", 'y'},
             {"abandon", false, false, "drop an unfinished change: the project goes back to where it was before it"},
             {"no-cache", false, false, "make every model call afresh (the classification included), none from the cache"},
             {"wait", false, false, "at a gate, wait for `specwright approve` or the web UI instead of stopping"},
             {"script", true, false, "answer `scripted/...` models from this recording", 0, "FILE"},
             {"config", true, false, "specwright.yaml with providers and roles (default: ./specwright.yaml)", 0, "FILE"},
             {"prices", true, false, "an extra price table", 0, "FILE"},
             {"process-dir", true, false, "the process's workflows and prompts (default: the shipped ones)", 0, "DIR"}}),
       "modify \"CHANGE REQUEST\" [--workspace DIR] [--yes] [--no-cache] | modify --abandon"},
      {"review", "revisit one phase's decisions with a person: their words go to the architect, the revision is gated, "
                 "what changed cascades below",
       CmdReview,
       With({{"workspace", true, false, "the developed project (default: the current directory)", 'w', "DIR"},
             {"text", true, false, "what to change, in your words (without it you are asked)", 0, "TEXT"},
             {"yes", false, false, "approve the revision at the gate", 'y'},
             {"no-cache", false, false, "make every model call afresh, none from the cache"},
             {"wait", false, false, "at a gate, wait for `specwright approve` or the web UI instead of stopping"},
             {"script", true, false, "answer `scripted/...` models from this recording", 0, "FILE"},
             {"config", true, false, "specwright.yaml with providers and roles (default: ./specwright.yaml)", 0, "FILE"},
             {"prices", true, false, "an extra price table", 0, "FILE"},
             {"process-dir", true, false, "the process's workflows and prompts (default: the shipped ones)", 0, "DIR"}}),
       "review PHASE [--text WHAT TO CHANGE] [--workspace DIR] [--yes]   (PHASE: requirements, domain, stories, "
       "architecture, api, tests)",
       "requirements domain stories architecture api tests"},
      {"spec", "traceability: check the IDs from requirement to code and test; trace, impact, matrix", CmdSpec,
       With({{"dir", true, false, "the project (default: the current directory)", 0, "DIR"},
             {"since", true, false, "impact: the IDs changed in the spec documents since this git revision", 0, "REV"},
             {"format", true, false, "matrix: md (default), csv or json", 'f', "FORMAT", "md csv json"}}),
       "spec check | spec trace ID | spec impact ID... | spec impact --since REV | spec matrix [--format md|csv|json]",
       "check trace impact matrix"},
      {"store", "copy runs between stores (a directory or a postgresql:// URL, either way) with a verification count; check a store",
       CmdStore,
       With({{"run", true, true, "store copy: only this run (id, prefix or latest) and its sub-runs (repeatable; default: every run)", 0,
              "ID"}}),
       "store copy FROM TO [--run ID]... | store check [STORE]   (FROM, TO, STORE: a directory or a postgresql:// URL; "
       "a password is better in ~/.pgpass or $PGPASSWORD than in argv)",
       "copy check"},
      {"help", "show the help of a command, or the list of commands", CmdHelp, {kHelp}, "help [COMMAND]", "@command"},
      {"completion", "print a shell completion script: bash, zsh or fish", CmdCompletion,
       {{"output", true, false, "write to this file instead of stdout", 'o', "FILE"}, kHelp}, "completion bash|zsh|fish",
       "bash zsh fish"},
      {"version", "print the version", CmdVersion, {kHelp}, "version", "", true},
      {"manpage", "print the man page (roff)", CmdManpage,
       {{"output", true, false, "write to this file instead of stdout", 'o', "FILE"}, kHelp}, "manpage [--output FILE]", "",
       true},
  };
  return kTable;
}

namespace {

const CommandSpec* Find(const std::string& name) {
  for (const auto& c : Commands())
    if (name == c.name) return &c;
  return nullptr;
}

std::vector<std::string> VisibleNames() {
  std::vector<std::string> names;
  for (const auto& c : Commands())
    if (!c.hidden) names.push_back(c.name);
  return names;
}

// WriteOut writes text to --output FILE, or stdout.
int WriteOut(Context& ctx, const std::string& text) {
  std::string file = ctx.args.Get("output");
  if (file.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
  }
  FILE* f = std::fopen(file.c_str(), "w");
  if (!f) return Fail(ctx, IoError("cannot write " + file + ": " + std::strerror(errno)));
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = std::fclose(f) == 0 && ok;
  return ok ? kExitOk : Fail(ctx, IoError("cannot write " + file));
}

int CmdHelp(Context& ctx) {
  if (ctx.args.positional.empty()) {
    std::fputs(GlobalHelp(Commands(), TerminalWidth()).c_str(), stdout);
    return kExitOk;
  }
  if (ctx.args.positional.size() > 1) return Usage(ctx, "help takes one command");
  const std::string& name = ctx.args.positional[0];
  const CommandSpec* c = Find(name);
  if (!c) {
    std::string hint = DidYouMean(name, VisibleNames());
    return Usage(ctx, "no command \"" + name + "\"" + (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)") +
                          "; `specwright help` lists them");
  }
  std::fputs(CommandHelp(*c, TerminalWidth()).c_str(), stdout);
  return kExitOk;
}

int CmdVersion(Context&) {
  std::printf("specwright %s\n", kVersion);
  return kExitOk;
}

int CmdCompletion(Context& ctx) {
  if (ctx.args.positional.size() != 1) return Usage(ctx, "name one shell: bash, zsh or fish");
  auto script = CompletionScript(ctx.args.positional[0], Commands());
  if (!script.ok()) return Usage(ctx, script.status().message());
  return WriteOut(ctx, *script);
}

int CmdManpage(Context& ctx) {
  if (!ctx.args.positional.empty()) return Usage(ctx, "manpage takes no arguments");
  return WriteOut(ctx, ManPage(Commands(), kVersion));
}

}  // namespace

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(GlobalHelp(Commands(), TerminalWidth()).c_str(), stderr);
    return kExitInvalid;
  }
  ParsedLine line = ParseCommandLine(args, Commands());
  const CommandSpec* cmd = line.command;
  if (!line.error.empty()) {
    if (!cmd) {
      if (line.json) return PrintError(true, "", line.error, kExitInvalid);
      std::fprintf(stderr, "specwright: %s\nrun `specwright help` for the list.\n", line.error.c_str());
      return kExitInvalid;
    }
    return PrintError(line.json, cmd->name, line.error, kExitInvalid, cmd->usage);
  }
  if (line.version) {
    std::printf("specwright %s\n", kVersion);
    return kExitOk;
  }
  if (line.help) {
    std::fputs((cmd ? CommandHelp(*cmd, TerminalWidth()) : GlobalHelp(Commands(), TerminalWidth())).c_str(), stdout);
    return kExitOk;
  }
  if (!cmd) {  // only `--` and nothing else
    std::fputs(GlobalHelp(Commands(), TerminalWidth()).c_str(), stderr);
    return kExitInvalid;
  }
  Context ctx;
  ctx.args = std::move(line.args);
  ctx.command = cmd->name;
  ctx.usage = cmd->usage;
  ctx.json = ctx.args.Has("json");
  {
    const char* nc = std::getenv("NO_COLOR");
    ctx.no_color = ctx.args.Has("no-color") || (nc && *nc);
  }
  ctx.store_dir = ctx.args.Get("store");
  if (ctx.store_dir.empty()) {
    const char* env = std::getenv("SPECWRIGHT_STORE");
    ctx.store_dir = env && *env ? env : ".specwright";
  }
  // Commands turn expected failures into statuses; anything thrown (a library's exception on
  // data it did not expect, e.g. a hand-edited store) still ends with a message and exit 1.
  try {
    return cmd->fn(ctx);
  } catch (const std::exception& e) {
    return PrintError(ctx.json, cmd->name, std::string("unexpected error: ") + e.what(), kExitFailed);
  }
}

}  // namespace sw::cli
