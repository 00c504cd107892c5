#include "cli/cli.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <exception>
#include <vector>

#include "base/strings.h"
#include "cli/args.h"
#include "cli/commands.h"

namespace sw::cli {
namespace {

struct CommandEntry {
  const char* name;
  const char* help;
  int (*fn)(Context&);
  std::vector<FlagSpec> flags;
  const char* usage;
};

const std::vector<FlagSpec> kCommon = {
    {"store", true, false, "store directory (default .specwright, or $SPECWRIGHT_STORE)"},
    {"json", false, false, "machine-readable output"},
    {"no-color", false, false, "no colour in the output (also: $NO_COLOR)"},
    {"help", false, false, "show help for this command"},
};

std::vector<FlagSpec> With(std::vector<FlagSpec> extra) {
  extra.insert(extra.end(), kCommon.begin(), kCommon.end());
  return extra;
}

const std::vector<CommandEntry>& Table() {
  static const std::vector<CommandEntry> kTable = {
      {"init", "write a starter workflow (flow.yaml) and its offline script", CmdInit, With({}), "init [DIR]"},
      {"validate", "check workflow files and report every problem with file:line:col", CmdValidate, With({}),
       "validate FILE..."},
      {"run", "run a workflow", CmdRun,
       With({{"input", true, true, "set an input: k=v (repeatable)"},
             {"input-file", true, true, "set an input from a file: k=path (repeatable)"},
             {"script", true, false, "answer `scripted/...` models from this script file"},
             {"no-cache", false, false, "do not reuse cached node results for this run"},
             {"yes", false, false, "approve every human gate automatically"},
{"wait", false, false, "at a human gate, wait for `specwright approve` or the web UI instead of stopping"},
             {"max-calls", true, false, "cap on model calls for this run (default 500)"},
             {"run-id", true, false, "use this id for the new run"},
             {"model", true, false, "use this provider/model for every model node (e.g. openai/gpt-4o-mini)"},
             {"config", true, false, "provider config (default ./specwright.yaml, or $SPECWRIGHT_CONFIG)"},
             {"prices", true, false, "a LiteLLM-format price file merged over the shipped table"},
             {"otlp-endpoint", true, false, "stream spans live to this OTLP/HTTP collector (e.g. http://127.0.0.1:4318)"},
             {"include-content", false, false, "with --otlp-endpoint: put prompts and responses on the spans"}}),
       "run FILE [--input k=v] [--input-file k=path] [--script FILE] [--model P/M] [--no-cache] [--yes]"},
      {"resume", "continue a stopped, crashed or waiting run; finished nodes are never re-run", CmdResume,
       With({{"script", true, false, "script file (default: the one the run started with)"},
             {"yes", false, false, "approve every human gate automatically"},
{"wait", false, false, "at a human gate, wait for `specwright approve` or the web UI instead of stopping"},
             {"allow-changed", false, false, "resume even though the workflow file changed"},
             {"config", true, false, "provider config (default: the one the run started with)"},
             {"otlp-endpoint", true, false, "stream spans live to this OTLP/HTTP collector"},
             {"include-content", false, false, "with --otlp-endpoint: put prompts and responses on the spans"}}),
       "resume RUN"},
      {"runs", "list runs: status, duration, nodes, tokens, cost", CmdRuns,
       With({{"limit", true, false, "how many runs (default 20)"}, {"all", false, false, "include sub-runs"},
             {"status", true, false, "only runs with this status (running, waiting, succeeded, failed, cancelled)"},
             {"search", true, false, "only runs whose id, workflow or file contains this text"}}),
       "runs [--limit N] [--status S] [--search TEXT]"},
      {"sessions", "list develop and modify sessions (or one in full): their steps, gate rounds and spend", CmdSessions,
       With({{"limit", true, false, "how many sessions (default 20)"}}), "sessions [SESSION] [--limit N] [--json]"},
      {"show", "show a run's nodes: status, attempts, duration, tokens, cost, error", CmdShow, With({}), "show RUN"},
      {"cancel", "cancel a running run (in-flight work stops, nothing half-written)", CmdCancel, With({}),
       "cancel RUN"},
      {"approve", "answer a human gate of a waiting run, then `resume` it", CmdApprove,
       With({{"reject", false, false, "reject instead of approve"},
             {"text", true, false, "a comment, or the answer of an input gate"}}),
       "approve RUN NODE [--reject] [--text T]"},
      {"files", "show what each node changed in the run's workspace, as diffs of its checkpoint commits", CmdFiles,
       With({}), "files RUN [NODE]"},
      {"trace", "a run's timeline: one bar per node attempt on a shared time axis, with status, tokens, cost",
       CmdTrace, With({{"node", true, false, "expand this node into its model calls and tool calls"}}),
       "trace RUN [--node NODE]"},
      {"debug", "post-mortem of failed and skipped nodes: errors, retries, prompt, inputs, last output", CmdDebug,
       With({{"node", true, false, "only this node (any status)"}}), "debug [RUN|latest] [--node NODE]"},
      {"cost", "spend by node, model and provider, tokens by kind, the budget; or across runs with --since", CmdCost,
       With({{"since", true, false, "across runs started since: 7d, 12h, 2w or a date 2026-11-01"}}),
       "cost RUN | cost --since 7d"},
      {"artifacts", "a run's artifacts as a derivation tree: who produced each and from what", CmdArtifacts,
       With({}), "artifacts RUN"},
      {"lineage", "where an artifact came from, down to the inputs; cycles are reported, not followed", CmdLineage,
       With({{"run", true, false, "the run (default: the newest run with that artifact)"}}), "lineage ARTIFACT [--run RUN]"},
      {"replay", "re-run a stored run, reusing every node not downstream of what you change", CmdReplay,
       With({{"from", true, true, "run this node and everything downstream live (repeatable)"},
             {"model", true, true, "NODE=provider/model: a different model for a node (repeatable)"},
             {"prompt", true, true, "NODE=FILE: a different prompt template for a node (repeatable)"},
             {"input", true, true, "k=v: a different input; nodes that read it run live (repeatable)"},
             {"offline", false, false, "answer every model call from the recordings, no network; checks outputs match"},
{"wait", false, false, "at a human gate, wait for `specwright approve` or the web UI instead of stopping"},
             {"allow-drift", false, false, "reuse results even though the workflow changed upstream"},
             {"yes", false, false, "approve every human gate automatically"},
             {"script", true, false, "script file for scripted models (default: the run's)"},
             {"config", true, false, "provider config (default: the run's)"},
             {"run-id", true, false, "use this id for the new run"},
             {"otlp-endpoint", true, false, "stream spans live to this OTLP/HTTP collector"},
             {"include-content", false, false, "with --otlp-endpoint: put prompts and responses on the spans"}}),
       "replay RUN [--from NODE] [--model NODE=P/M] [--prompt NODE=FILE] [--input k=v] [--offline] [--allow-drift]"},
      {"diff", "compare two runs node by node: status, duration, tokens, cost, model, output diff", CmdDiff,
       With({{"diffs", true, false, "show the text diff of at most N differing outputs (default 50, 0: all)"}}),
       "diff RUN_A RUN_B [--diffs N]"},
      {"export", "a run's spans as JSON, CSV or OTLP/JSON (OpenTelemetry GenAI conventions); a run or session as Markdown", CmdExport,
       With({{"format", true, false, "json (default), csv, otlp, or markdown (a run or a develop session: prompts, answers, tool calls, decisions, cost)"},
             {"include-content", false, false, "otlp: put prompts, responses and tool results on the spans"},
             {"output", true, false, "write to this file instead of stdout"}}),
       "export RUN [--format json|csv|otlp] [--include-content] [--output FILE] | export RUN|SESSION --format markdown"},
      {"gc", "delete old runs and every blob nothing references; reports the bytes freed", CmdGc,
       With({{"older-than", true, false, "delete runs started before this: 30d (default), 12h, or a date"},
             {"dry-run", false, false, "say what would go, delete nothing"},
             {"grace", true, false, "keep unreferenced blob files younger than this (default 1h)"}}),
       "gc [--older-than 30d] [--dry-run]"},
      {"ui", "the web UI: runs, live graphs, node inspector, timeline, cost, approvals, replay, diff", CmdUi,
       With({{"host", true, false, "address to listen on (default 127.0.0.1; any other needs a token)"},
             {"port", true, false, "port (default 8420; 0: any free port)"},
             {"token", true, false, "require this token on every request (generated when --host is not loopback)"},
             {"dir", true, false, "where workflows are listed and read (default: the current directory)"},
             {"ui-dir", true, false, "the built front end (default: ui/ beside the binary)"}}),
       "ui [--host H] [--port P] [--token T] [--dir DIR]"},
      {"mcp", "serve the project to coding agents over MCP: specs and their trace, runs, sessions, rules (stdio or --http)", CmdMcp,
       With({{"dir", true, false, "the project (default: the current directory); every path stays inside it"},
             {"http", false, false, "serve Streamable HTTP on /mcp instead of stdio"},
             {"host", true, false, "with --http: address to listen on (default 127.0.0.1; any other needs a token)"},
             {"port", true, false, "with --http: port (default 8421; 0: any free port)"},
             {"token", true, false, "with --http: require `Authorization: Bearer TOKEN` (prefer $SPECWRIGHT_MCP_TOKEN: argv is visible in ps; generated when --host is not loopback)"},
             {"allow-writes", false, false, "add the tools that change things: run_start, gate_approve"}}),
       "mcp [--dir PROJECT] [--store DIR] [--http [--host H] [--port P] [--token T]] [--allow-writes]"},
      {"develop", "the LLM developer: brief -> specs with IDs -> tasks -> code -> tests, verified, reviewed, QA'd", CmdDevelop,
       With({{"workspace", true, false, "the project folder to build (default: named after the brief's title)"},
             {"no-cache", false, false, "make every model call afresh, none from the cache"},
             {"yes", false, false, "approve the gates and take the suggested answers to open questions"},
             {"wait", false, false, "at a gate, wait for `specwright approve` or the web UI instead of stopping"},
             {"until", true, false, "stop after this phase (complexity, requirements, ..., api, tasks, tests: their code, development)"},
             {"script", true, false, "answer `scripted/...` models from this recording"},
             {"config", true, false, "specwright.yaml with providers and roles (default: ./specwright.yaml)"},
             {"prices", true, false, "an extra price table"},
             {"process-dir", true, false, "the process's workflows and prompts (default: the shipped ones)"}}),
       "develop BRIEF.md [--workspace DIR] [--yes] [--no-cache]"},
      {"modify", "change a developed project: route the request, show the impact plan, regenerate only what it touches",
       CmdModify,
       With({{"workspace", true, false, "the developed project (default: the current directory)"},
             {"yes", false, false, "approve the impact plan"},
             {"abandon", false, false, "drop an unfinished change: the project goes back to where it was before it"},
             {"no-cache", false, false, "make every model call afresh (the classification included), none from the cache"},
             {"wait", false, false, "at a gate, wait for `specwright approve` or the web UI instead of stopping"},
             {"script", true, false, "answer `scripted/...` models from this recording"},
             {"config", true, false, "specwright.yaml with providers and roles (default: ./specwright.yaml)"},
             {"prices", true, false, "an extra price table"},
             {"process-dir", true, false, "the process's workflows and prompts (default: the shipped ones)"}}),
       "modify \"CHANGE REQUEST\" [--workspace DIR] [--yes] [--no-cache] | modify --abandon"},
      {"review", "revisit one phase's decisions with a person: their words go to the architect, the revision is gated, "
                 "what changed cascades below",
       CmdReview,
       With({{"workspace", true, false, "the developed project (default: the current directory)"},
             {"text", true, false, "what to change, in your words (without it you are asked)"},
             {"yes", false, false, "approve the revision at the gate"},
             {"no-cache", false, false, "make every model call afresh, none from the cache"},
             {"wait", false, false, "at a gate, wait for `specwright approve` or the web UI instead of stopping"},
             {"script", true, false, "answer `scripted/...` models from this recording"},
             {"config", true, false, "specwright.yaml with providers and roles (default: ./specwright.yaml)"},
             {"prices", true, false, "an extra price table"},
             {"process-dir", true, false, "the process's workflows and prompts (default: the shipped ones)"}}),
       "review PHASE [--text WHAT TO CHANGE] [--workspace DIR] [--yes]   (PHASE: requirements, domain, stories, "
       "architecture, api, tests)"},
      {"spec", "traceability: check the IDs from requirement to code and test; trace, impact, matrix", CmdSpec,
       With({{"dir", true, false, "the project (default: the current directory)"},
             {"since", true, false, "impact: the IDs changed in the spec documents since this git revision"},
             {"format", true, false, "matrix: md (default), csv or json"}}),
       "spec check | spec trace ID | spec impact ID... | spec impact --since REV | spec matrix [--format md|csv|json]"},
  };
  return kTable;
}

void PrintHelp(FILE* out) {
  std::fprintf(out, "specwright: run LLM agent workflows as durable, traceable DAGs\n\nusage: specwright COMMAND [options]\n\ncommands:\n");
  for (const auto& c : Table()) std::fprintf(out, "  %-10s %s\n", c.name, c.help);
  std::fprintf(out,
               "\nexit codes: 0 ok, 1 run failed, 2 invalid input, 3 waiting for approval, 130 cancelled\n"
               "`specwright COMMAND --help` describes a command's options.\n");
}

void PrintCommandHelp(const CommandEntry& c) {
  std::printf("usage: specwright %s\n\n%s\n\noptions:\n", c.usage, c.help);
  for (const auto& f : c.flags)
    std::printf("  --%-14s %s\n", (std::string(f.name) + (f.takes_value ? " V" : "")).c_str(), f.help);
}

}  // namespace

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    PrintHelp(args.empty() ? stderr : stdout);
    return args.empty() ? kExitInvalid : kExitOk;
  }
  if (args[0] == "version" || args[0] == "--version") {
    std::printf("specwright 0.1.0\n");
    return kExitOk;
  }
  const CommandEntry* cmd = nullptr;
  for (const auto& c : Table())
    if (args[0] == c.name) cmd = &c;
  if (!cmd) {
    std::vector<std::string> names;
    for (const auto& c : Table()) names.push_back(c.name);
    std::string hint = DidYouMean(args[0], names);
    std::fprintf(stderr, "specwright: unknown command \"%s\"%s\nrun `specwright help` for the list.\n", args[0].c_str(),
                 hint.empty() ? "" : (" (did you mean \"" + hint + "\"?)").c_str());
    return kExitInvalid;
  }
  auto parsed = Parse(std::vector<std::string>(args.begin() + 1, args.end()), cmd->flags);
  if (!parsed.ok()) {
    std::fprintf(stderr, "specwright %s: %s\nusage: specwright %s\n", cmd->name, parsed.status().message().c_str(),
                 cmd->usage);
    return kExitInvalid;
  }
  if (parsed->Has("help")) {
    PrintCommandHelp(*cmd);
    return kExitOk;
  }
  Context ctx;
  ctx.args = std::move(parsed).value();
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
    std::fprintf(stderr, "specwright %s: unexpected error: %s\n", cmd->name, e.what());
    return kExitFailed;
  }
}

}  // namespace sw::cli
