// init, validate, run and resume: the commands that load workflows and drive the engine.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/strings.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "engine/control.h"
#include "cli/progress.h"
#include "cli/worker_cmd.h"
#include "dist/submit.h"
#include "engine/engine.h"
#include "engine/replay.h"
#include "eval/eval.h"
#include "llm/scripted.h"
#include "observe/otlp_exporter.h"
#include "base/ids.h"
#include "workflow/workflow.h"

namespace sw::cli {
namespace {

using json = nlohmann::json;

std::shared_ptr<std::atomic<bool>> g_cancel;
std::atomic<int> g_sigints{0};

void OnSigint(int) {
  if (g_cancel) g_cancel->store(true);
  if (++g_sigints >= 3) _exit(kExitCancelled);  // a third Ctrl-C means "now"
}

}  // namespace

/// TerminalHuman asks on the controlling terminal; without one, the run waits.
engine::HumanFn TerminalHuman(ProgressDisplay* display) {
  return [display](const engine::HumanRequest& req) -> std::optional<engine::HumanAnswer> {
    FILE* tty = std::fopen("/dev/tty", "r+");
    if (!tty) return std::nullopt;
    display->Pause();
    std::fprintf(tty, "\n[%s] %s\n%s ", req.node.c_str(), req.message.c_str(),
                 req.approve_mode ? "approve? [y = approve, n = reject, or type what should change (at a process gate "
                                    "it goes back to the architect and the gate asks again)]"
                                  : "answer:");
    std::fflush(tty);
    char buf[4096];
    if (!std::fgets(buf, sizeof(buf), tty)) {
      std::fclose(tty);
      return std::nullopt;
    }
    std::fclose(tty);
    std::string line = Trim(buf);
    engine::HumanAnswer a;
    a.by = "terminal";
    if (!req.approve_mode) {
      a.text = line;
      return a;
    }
    if (line == "n" || line == "no" || line == "N") {
      a.approved = false;
      // A rejection with its reason: the reason is what a gate dialogue sends back.
      tty = std::fopen("/dev/tty", "r+");
      if (tty) {
        std::fprintf(tty, "why (optional)? ");
        std::fflush(tty);
        if (std::fgets(buf, sizeof(buf), tty)) a.text = Trim(buf);
        std::fclose(tty);
      }
    } else if (!(line.empty() || line == "y" || line == "yes" || line == "Y")) {
      a.text = line;
    }
    return a;
  };
}


int Execute(Context& ctx, Env& env, std::shared_ptr<const workflow::Workflow> wf, engine::RunOptions options,
            const std::string& resume_id) {
  bool tty = ::isatty(STDERR_FILENO);
  ProgressDisplay display(stderr, tty, ctx.no_color);
  options.listener = &display;
  g_cancel = std::make_shared<std::atomic<bool>>(false);
  options.cancel = g_cancel;
  struct sigaction sa {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  if (!options.auto_approve && !options.human && ctx.args.Has("wait")) {
    options.human = engine::AwaitDecisions(env.store.get(), g_cancel);
    options.human_outside = true;  // a gate's wait notifies `waiting` (the run goes on)
  }
  if (!options.auto_approve && !options.human && ::isatty(STDIN_FILENO)) options.human = TerminalHuman(&display);
  if (options.run_id.empty() && resume_id.empty())
    options.run_id = store::UnusedRunId(env.store.get(), SystemClock::Default()->WallNow());
  // Live OTLP export: --otlp-endpoint, or the OpenTelemetry variables (OTEL_EXPORTER_OTLP_*
  // endpoint, headers, protocol, timeout; OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES).
  std::unique_ptr<observe::LiveExporter> exporter;
  std::string otlp_url;
  {
    observe::OtlpEnvironment oenv = observe::ReadOtlpEnvironment();
    bool by_flag = ctx.args.Has("otlp-endpoint");
    if (by_flag) otlp_url = observe::TracesUrl(ctx.args.Get("otlp-endpoint"));
    else if (!oenv.disabled) otlp_url = oenv.endpoint;
    // Only what applies to this command: why the variables' endpoint exports nothing (unless
    // --otlp-endpoint replaces it), and the export's own settings only when spans go out.
    if (!by_flag)
      for (const auto& w : oenv.endpoint_warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (!otlp_url.empty())
      for (const auto& w : oenv.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (!otlp_url.empty()) {
      observe::ExporterOptions eo;
      eo.url = otlp_url;
      eo.include_content = ctx.args.Has("include-content");
      eo.headers = std::move(oenv.headers);
      eo.resource = std::move(oenv.resource);
      eo.timeout = oenv.timeout;
      exporter = std::make_unique<observe::LiveExporter>(env.store.get(), resume_id.empty() ? options.run_id : resume_id, eo);
      exporter->Start();
    }
  }

  // Workspaces live beside the store (a URL store's in this machine's state folder), as
  // absolute paths (the run records its own).
  options.workspace_root = StoreFilesDir(ctx) + "/workspaces";
  engine::Services services = ServicesOf(env);
  auto r = resume_id.empty() ? engine::Run(wf, services, std::move(options))
                             : engine::Resume(resume_id, wf, services, std::move(options));
  display.Finish();
  // Both back to the default: a signal now ends the command, also while it waits for
  // webhook deliveries at its end (Env::notifier).
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (exporter) {
    std::string err = exporter->Stop();
    if (!err.empty()) std::fprintf(stderr, "warning: %s\n", err.c_str());
    else std::fprintf(stderr, "exported %lld spans to %s\n", static_cast<long long>(exporter->spans_sent()),
                      observe::RedactUrl(otlp_url).c_str());
  }
  if (!r.ok()) return Fail(ctx, r.status());
  const auto& s = *r;
  if (ctx.json) {
    json j{{"run", s.run_id},       {"status", s.status},         {"error", s.error},
           {"tokens_in", s.tokens_in}, {"tokens_out", s.tokens_out}, {"calls", s.calls},
           {"cost_usd", s.cost_usd}, {"cost_unknown", s.cost_unknown}, {"succeeded", s.succeeded},
           {"failed", s.failed},     {"skipped", s.skipped},       {"waiting", s.waiting},
           {"warnings", s.warnings}};
    std::cout << j.dump(2) << "\n";
  } else {
    for (const auto& w : s.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    std::string cost = FormatUsd(s.cost_usd) + (s.cost_unknown ? " + unknown" : "");
    std::printf("run %s %s: %d succeeded, %d failed, %d skipped; %lld model calls, %lld tokens, %s\n",
                s.run_id.c_str(), s.status.c_str(), s.succeeded, s.failed, s.skipped,
                static_cast<long long>(s.calls), static_cast<long long>(s.tokens_in + s.tokens_out), cost.c_str());
    if (!s.error.empty()) std::printf("error: %s\n", s.error.c_str());
    for (const auto& w : s.waiting)
      std::printf("waiting: node \"%s\" needs a decision: specwright approve %s %s [--reject], then specwright resume %s\n",
                  w.c_str(), s.run_id.c_str(), w.c_str(), s.run_id.c_str());
    std::printf("next: specwright show %s   (nodes, attempts, tokens, cost)\n", s.run_id.c_str());
    if (s.status == "failed" || s.status == "cancelled")
      std::printf("      specwright resume %s   (re-runs only what did not finish)\n", s.run_id.c_str());
  }
  if (s.status == "succeeded") return kExitOk;
  if (s.status == "cancelled") return kExitCancelled;
  if (s.status == "waiting") return kExitWaiting;
  return kExitFailed;
}

namespace {

}  // namespace

int CmdInit(Context& ctx) {
  std::string dir = ctx.args.positional.empty() ? "." : ctx.args.positional[0];
  std::string flow = dir + "/flow.yaml", script = dir + "/flow.script.yaml";
  for (const auto& p : {flow, script})
    if (FileExists(p)) return Fail(ctx, InvalidInput(p + " already exists; not overwriting it"));
  SW_RETURN_IF_ERROR_EXIT(ctx, MakeDirs(dir));
  const char* kFlow = R"(# A starter workflow: two parallel drafts, a review, and a bounded revision loop.
# Run it offline:  specwright run flow.yaml --script flow.script.yaml
# Reference: docs/workflow-format.md
name: starter
description: Draft two angles on a topic, merge them, review until approved.
inputs:
  topic: {type: string, default: "why durable workflows matter"}
defaults:
  model: scripted/demo
  max_tokens: 512
  retry: {attempts: 3, backoff: 1s, max_delay: 20s}
  timeout: 60s
budget: {max_usd: 0.50, policy: stop}
nodes:
  pros:
    prompt: "List the strongest arguments for: {{inputs.topic}}"
  cons:
    prompt: "List the strongest objections to: {{inputs.topic}}"
  merge:
    needs: [pros, cons]
    prompt: |
      Write a short balanced note.
      For: {{nodes.pros.output}}
      Against: {{nodes.cons.output}}
      {{#nodes.review.json.comments}}Reviewer asked: {{nodes.review.json.comments}}{{/nodes.review.json.comments}}
  review:
    needs: [merge]
    output: json
    schema: {type: object, required: [approved], properties: {approved: {type: boolean}, comments: {type: string}}}
    prompt: "Review this note and answer JSON {approved, comments}: {{nodes.merge.output}}"
    loop: {to: merge, while: "nodes.review.json.approved == false", max_iterations: 3}
)";
  const char* kScript = R"(# Answers for the scripted provider, keyed by node id.
prices:
  scripted/demo: {input_cost_per_token: 0.000003, output_cost_per_token: 0.000015}
nodes:
  pros: [{text: "It survives crashes; it never pays twice."}]
  cons: [{text: "It adds a store to operate."}]
  merge: [{text: "Durable workflows cost a little storage and save a lot of money."}]
  review:
    - {when: {iteration: 0}, json: {approved: false, comments: "Mention resume."}}
    - {json: {approved: true, comments: ""}}
)";
  SW_RETURN_IF_ERROR_EXIT(ctx, WriteFileAtomic(flow, kFlow));
  SW_RETURN_IF_ERROR_EXIT(ctx, WriteFileAtomic(script, kScript));
  std::printf("wrote %s and %s\nnext: specwright run %s --script %s\n", flow.c_str(), script.c_str(), flow.c_str(),
              script.c_str());
  return kExitOk;
}

int CmdValidate(Context& ctx) {
  if (ctx.args.positional.empty()) return Usage(ctx, "validate needs at least one FILE");
  json out = json::array();
  int bad = 0;
  std::vector<std::string> tool_uris = RunToolUris();
  for (const auto& path : ctx.args.positional) {
    // An eval suite (a string `workflow:` with `cases:` or `dataset:`, no `nodes:`) is checked
    // as `specwright eval` checks it before anything runs: the suite, its dataset, its
    // workflow and every assertion's node.
    if (eval::LooksLikeSuiteFile(path)) {
      auto suite = eval::CheckSuite(path);
      json item{{"file", path}, {"kind", "eval"}, {"ok", suite.ok()}, {"errors", json::array()}, {"warnings", json::array()}};
      if (suite.ok()) {
        item["cases"] = suite->cases.size();
        if (!ctx.json) std::printf("%s: ok (eval suite, %zu cases)\n", path.c_str(), suite->cases.size());
      } else {
        ++bad;
        for (const auto& line : Split(suite.status().message(), '\n')) {
          if (line.empty()) continue;
          // "file:line:col: message" (or a message without a position).
          json e{{"file", ""}, {"line", 0}, {"column", 0}, {"message", line}};
          size_t c1 = line.find(':'), c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1),
                 c3 = c2 == std::string::npos ? c2 : line.find(':', c2 + 1);
          auto digits = [&](size_t a, size_t b) {
            return b > a && b - a <= 9 && line.substr(a, b - a).find_first_not_of("0123456789") == std::string::npos;
          };
          if (c3 != std::string::npos && digits(c1 + 1, c2) && digits(c2 + 1, c3)) {
            e["file"] = line.substr(0, c1);
            e["line"] = std::stoi(line.substr(c1 + 1, c2 - c1 - 1));
            e["column"] = std::stoi(line.substr(c2 + 1, c3 - c2 - 1));
            e["message"] = Trim(line.substr(c3 + 1));
          }
          item["errors"].push_back(e);
          std::string at = e["file"].get<std::string>().empty()
                               ? path
                               : e["file"].get<std::string>() + ":" + std::to_string(e["line"].get<int>()) + ":" +
                                     std::to_string(e["column"].get<int>());
          if (!ctx.json) std::fprintf(stderr, "%s: error: %s\n", at.c_str(), e["message"].get<std::string>().c_str());
        }
      }
      out.push_back(item);
      continue;
    }
    auto r = workflow::Load(path);
    // What a run would refuse, validate refuses: a tool that does not exist.
    if (auto w = r.workflow ? r.workflow : r.partial)
      for (auto& d : workflow::CheckTools(*w, tool_uris)) r.errors.push_back(std::move(d));
    json item{{"file", path}, {"ok", r.errors.empty()}, {"errors", json::array()}, {"warnings", json::array()}};
    for (const auto& d : r.errors) {
      item["errors"].push_back(json{{"file", d.file}, {"line", d.pos.line}, {"column", d.pos.col}, {"message", d.message}});
      if (!ctx.json) std::fprintf(stderr, "%s: error: %s\n", (d.file + ":" + std::to_string(d.pos.line) + ":" + std::to_string(d.pos.col)).c_str(), d.message.c_str());
    }
    for (const auto& d : r.warnings) {
      item["warnings"].push_back(json{{"file", d.file}, {"line", d.pos.line}, {"column", d.pos.col}, {"message", d.message}});
      if (!ctx.json) std::fprintf(stderr, "%s: warning: %s\n", (d.file + ":" + std::to_string(d.pos.line) + ":" + std::to_string(d.pos.col)).c_str(), d.message.c_str());
    }
    if (!r.errors.empty()) {
      ++bad;
    } else if (!ctx.json) {
      std::printf("%s: ok (%zu nodes)\n", path.c_str(), r.workflow->nodes.size());
    }
    out.push_back(item);
  }
  if (ctx.json) std::cout << out.dump(2) << "\n";
  if (bad && !ctx.json) std::fprintf(stderr, "%d of %zu files have errors\n", bad, ctx.args.positional.size());
  return bad ? kExitInvalid : kExitOk;
}

int CmdRun(Context& ctx) {
  if (ctx.args.positional.size() != 1) return Usage(ctx, ctx.command + " needs exactly one workflow FILE");
  // `submit` and `run --detach` record the run for the workers (worker_cmd.cc).
  bool detach = WantsDetach(ctx);
  if (detach)
    if (Status d = CheckDetach(ctx); !d.ok()) return Fail(ctx, d);
  auto loaded = workflow::LoadOrError(ctx.args.positional[0]);
  if (!loaded.ok()) return Fail(ctx, loaded.status());
  auto wf = *loaded;
  std::map<std::string, json> given;
  for (const auto& kv : ctx.args.All("input")) {
    std::string k, v;
    if (Status s = SplitKeyValue("input", kv, &k, &v); !s.ok()) return Usage(ctx, s.message());
    given[k] = v;
  }
  for (const auto& kv : ctx.args.All("input-file")) {
    std::string k, path;
    if (Status s = SplitKeyValue("input-file", kv, &k, &path); !s.ok()) return Usage(ctx, s.message());
    auto text = ReadFile(path);
    if (!text.ok()) return Fail(ctx, text.status().Annotate("--input-file " + k));
    given[k] = *text;
  }
  auto inputs = workflow::ResolveInputs(*wf, given);
  if (!inputs.ok()) return Fail(ctx, inputs.status());
  std::string script = ctx.args.Get("script");
  if (script.empty())
    if (const char* env = std::getenv("SPECWRIGHT_SCRIPT")) script = env;
  if (!script.empty()) script = std::filesystem::absolute(script).string();
  std::string config = ctx.args.Get("config"), prices = ctx.args.Get("prices"), model = ctx.args.Get("model");
  if (const char* env = std::getenv("SPECWRIGHT_CONFIG"); config.empty() && env) config = env;
  for (auto* f : {&config, &prices})
    if (!f->empty()) *f = std::filesystem::absolute(*f).string();
  if (!model.empty()) {
    std::string prov, name;
    if (Status ms = llm::SplitModel(model, &prov, &name); !ms.ok()) return Usage(ctx, "--model: " + ms.message());
    wf = WithModel(wf, model);
  }
  Env env;
  Status s = SetupEnv(ctx, script, config, prices, &env);
  if (!s.ok()) return Fail(ctx, s);
  s = Preflight(*wf, env);
  // A detached run's models are the workers' to answer: what this machine lacks is a warning.
  if (!s.ok() && !detach) return Fail(ctx, s);
  if (!s.ok()) std::fprintf(stderr, "warning: %s\n(the workers run it with their own providers and tools)\n", s.message().c_str());
  engine::RunOptions options;
  options.inputs = *inputs;
  options.use_cache = !ctx.args.Has("no-cache");
  options.auto_approve = ctx.args.Has("yes");
  options.run_id = ctx.args.Get("run-id");
  if (ctx.args.Has("max-calls")) {
    auto v = IntArg(ctx.args.Get("max-calls"), 1, std::numeric_limits<long long>::max());
    if (!v) return Usage(ctx, "--max-calls needs a positive integer");
    options.default_max_calls = *v;
  }
  options.record_options = json{{"script", script}, {"no_cache", !options.use_cache}, {"yes", options.auto_approve},
                                {"max_calls", options.default_max_calls}, {"config", config}, {"prices", prices},
                                {"model", model}};
  if (detach) return SubmitDetached(ctx, env, *wf, options);
  return Execute(ctx, env, wf, std::move(options), "");
}

int CmdResume(Context& ctx) {
  if (ctx.args.positional.size() != 1) return Usage(ctx, "resume needs exactly one RUN");
  Env env;
  // Only a run the store holds can be resumed: no store is made for it.
  Status s = OpenStoreForRun(ctx, &env, ctx.args.positional[0]);
  if (!s.ok()) return Fail(ctx, s);
  auto id = env.store->ResolveRunId(ctx.args.positional[0]);
  if (!id.ok()) return Fail(ctx, id.status());
  auto rec = env.store->GetRun(*id);
  if (!rec.ok()) return Fail(ctx, rec.status());
  if (!*rec) return Fail(ctx, NotFound("no run " + *id));
  const auto& run = **rec;
  if (!run.parent_id.empty())
    return Fail(ctx, InvalidInput("run " + *id + " is a sub-run of " + run.parent_id + "; resume the parent"));
  if (run.status == "succeeded") {
    std::printf("run %s already succeeded; nothing to resume\n", id->c_str());
    return kExitOk;
  }
  if (std::string step = engine::ProcessStepOf(run); !step.empty())
    return Fail(ctx, InvalidInput("cannot resume run " + *id + " on its own; " + step));
  if (eval::IsEvalRun(run))
    return Fail(ctx, InvalidInput("run " + *id + " is an eval: it does not resume; run the suite again (`specwright eval " +
                                  run.workflow_file + "`) or reproduce it (`specwright replay " + *id + " --offline`)"));
  // A detached run goes back to the workers, which resume it (worker_cmd.cc).
  if (dist::IsDetached(run)) {
    auto r = RequeueDetached(ctx, env, run, "resume");
    if (!r.ok()) return Fail(ctx, r.status());
    std::printf("%s\n", r->c_str());
    return kExitOk;
  }
  if (run.pid != ::getpid() && store::ProcessAlive(run))
    return Fail(ctx, InvalidInput("run " + *id + " is still running in process " + std::to_string(run.pid) +
                                  " (use `specwright cancel " + *id + "` first)"));
  auto loaded = workflow::LoadOrError(run.workflow_file);
  if (!loaded.ok()) return Fail(ctx, loaded.status().Annotate("the run's workflow"));
  if ((*loaded)->source_hash != run.workflow_hash && !ctx.args.Has("allow-changed"))
    return Fail(ctx, InvalidInput("workflow " + run.workflow_file +
                                  " changed since run " + *id + " started; resuming would mix two versions "
                                  "(pass --allow-changed to resume anyway)"));
  json opts = json::parse(run.options_json, nullptr, false);
  if (opts.is_discarded()) opts = json::object();
  std::string script = ctx.args.Get("script", opts.value("script", ""));
  std::shared_ptr<const workflow::Workflow> wf = *loaded;
  if (std::string model = opts.value("model", ""); !model.empty()) wf = WithModel(wf, model);
  // A replay resumes as the replay it was: the same changes, the same stored results reused.
  engine::RunOptions options;
  if (opts.contains("replay") && opts["replay"].is_object()) {
    const json& rp = opts["replay"];
    if (rp.value("offline", false))
      return Fail(ctx, InvalidInput("run " + *id + " is an offline replay of " + rp.value("of", "") +
                                    "; it cannot be resumed: replay it again (`specwright replay " + rp.value("of", "") +
                                    " --offline`)"));
    engine::ReplayChanges ch;
    // Bound to names: items() of a temporary would iterate a destroyed object.
    const json from = rp.value("from", json::array()), models = rp.value("models", json::object()),
               prompts = rp.value("prompts", json::object()), inputs = rp.value("inputs", json::array());
    for (const auto& f : from) ch.from.push_back(f.get<std::string>());
    for (const auto& [k, v] : models.items()) ch.models[k] = v.get<std::string>();
    for (const auto& [k, v] : prompts.items()) {
      auto text = ReadFile(v.get<std::string>());
      if (!text.ok()) return Fail(ctx, text.status().Annotate("the replayed prompt of node " + k));
      ch.prompts[k] = v.get<std::string>();
      ch.prompt_text[k] = *text;
    }
    for (const auto& k : inputs) ch.inputs.insert(k.get<std::string>());
    auto plan = engine::PlanReplay(wf, ch, nullptr);
    if (!plan.ok()) return Fail(ctx, plan.status());
    wf = plan->workflow;
    options.reuse_from = rp.value("of", "");
    options.reuse = plan->reuse;
  }
  s = SetupEnv(ctx, script, ctx.args.Get("config", opts.value("config", "")), opts.value("prices", ""), &env);
  if (!s.ok()) return Fail(ctx, s);
  s = Preflight(*wf, env);
  if (!s.ok()) return Fail(ctx, s);
  options.use_cache = !opts.value("no_cache", false);
  options.auto_approve = ctx.args.Has("yes") || opts.value("yes", false);
  options.default_max_calls = opts.value("max_calls", int64_t{500});
  options.record_options = opts;
  // Claim the run: of two resumes started at once (two approvals, or a terminal and the web
  // UI), one goes on and the other stops here, before it pays for anything.
  auto claimed = env.store->ClaimRun(run.id, run.status, run.pid, ::getpid());
  if (!claimed.ok()) return Fail(ctx, claimed.status());
  if (!*claimed) return Fail(ctx, InvalidInput("run " + *id + " is being resumed by another process"));
  return Execute(ctx, env, wf, std::move(options), *id);
}

}  // namespace sw::cli
