// worker and submit (`run --detach`): the commands of the distributed mode (src/dist). A
// detached run is recorded in a PostgreSQL store with its workflow; `specwright worker`
// processes, on any machine, claim its orchestration, model calls and tool calls.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/scheduler.h"
#include "cli/worker_cmd.h"
#include "dist/git_remote.h"
#include "dist/queue.h"
#include "dist/submit.h"
#include "dist/worker.h"

namespace sw::cli {

namespace {

using json = nlohmann::json;

std::shared_ptr<std::atomic<int>> g_worker_signals;

void OnWorkerSignal(int) {
  if (g_worker_signals) g_worker_signals->fetch_add(1);
}

/// Seconds reads a flag of seconds (> 0, or >= 0 when zero is allowed); -1 when it is not one.
double Seconds(const std::string& v, bool zero_ok) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || !end || *end || !(d == d) || d < 0 || (!zero_ok && d == 0) || d > 86400 * 7) return -1;
  return d;
}

int Count(const std::string& v, int max) { return static_cast<int>(IntArg(v, 1, max).value_or(-1)); }

Status NeedUrlStore(const Context& ctx, const std::string& what) {
  if (store::IsStoreUrl(ctx.store_dir)) return Status::Ok();
  return InvalidInput(what + " needs a PostgreSQL store: --store postgresql://USER@HOST:PORT/DB (or $SPECWRIGHT_STORE); " +
                      StorePath(ctx) + " is a directory");
}

}  // namespace

bool WantsDetach(const Context& ctx) { return ctx.command == "submit" || ctx.args.Has("detach"); }

Status CheckDetach(const Context& ctx) {
  SW_RETURN_IF_ERROR(NeedUrlStore(ctx, ctx.command == "submit" ? "submit" : "--detach"));
  for (const char* f : {"wait", "otlp-endpoint", "include-content"})
    if (ctx.args.Has(f)) return InvalidInput(std::string("--") + f + " does not apply to a detached run: a worker runs it");
  return Status::Ok();
}

int SubmitDetached(Context& ctx, Env& env, const workflow::Workflow& wf, const engine::RunOptions& options) {
  auto q = dist::Queue::Open(ctx.store_dir);
  if (!q.ok()) return Fail(ctx, q.status().Annotate("the work queue"));
  dist::SubmitOptions so;
  so.inputs = options.inputs;
  so.record_options = options.record_options;
  so.run_id = options.run_id;
  so.labels = ctx.args.Get("labels");
  so.workspace_remote = ctx.args.Get("workspace-remote");
  std::string from;  // where a remote not given by the flag was named, for its errors
  if (so.workspace_remote.empty())
    if (const char* e = std::getenv("SPECWRIGHT_WORKSPACE_REMOTE")) so.workspace_remote = e, from = "$SPECWRIGHT_WORKSPACE_REMOTE";
  if (so.workspace_remote.empty()) {  // workers: in specwright.yaml
    so.workspace_remote = env.llm.workspace_remote;
    from = env.llm.workspace_remote_at + ": workers.workspace_remote";
  }
  if (!so.workspace_remote.empty() && !from.empty()) {
    // Submit's own checks would name the flag: say where the remote really came from.
    const std::string& r = so.workspace_remote;
    Status v = dist::ValidateRemote(r);
    if (v.ok() && dist::RedactRemote(r) != r)
      v = InvalidInput(dist::RedactRemote(r) +
                       ": a remote with a password or token would be stored with the run; give it without "
                       "(each worker authenticates with its ssh agent or git credential helper)");
    if (!v.ok()) return Fail(ctx, InvalidInput(from + ": " + v.message()));
  }
  auto id = dist::Submit(env.store.get(), q->get(), wf, so);
  if (!id.ok()) return Fail(ctx, id.status());
  if (ctx.json) {
    std::cout << json{{"run", *id}, {"status", "queued"}}.dump() << "\n";
  } else {
    std::printf("%s\n", id->c_str());
    std::fprintf(stderr, "run %s queued for the workers (specwright worker --store URL); follow it: specwright show %s\n",
                 id->c_str(), id->c_str());
  }
  return kExitOk;
}

Result<std::string> RequeueDetached(Context& ctx, Env& env, const store::RunRecord& run, const std::string& why) {
  SW_ASSIGN_OR_RETURN(auto q, dist::Queue::Open(ctx.store_dir));
  return dist::Requeue(env.store.get(), q.get(), run, why);
}

Result<std::string> CancelDetachedRun(Context& ctx, Env& env, const store::RunRecord& run) {
  SW_ASSIGN_OR_RETURN(auto q, dist::Queue::Open(ctx.store_dir));
  return dist::CancelDetached(env.store.get(), q.get(), run, "cli");
}

int CmdWorker(Context& ctx) {
  if (!ctx.args.positional.empty()) return Usage(ctx, "worker takes no arguments");
  if (Status s = NeedUrlStore(ctx, "worker"); !s.ok()) return Fail(ctx, s);
  dist::WorkerOptions o;
  o.url = ctx.store_dir;
  if (ctx.args.Has("concurrency") && (o.concurrency = Count(ctx.args.Get("concurrency"), 1024)) < 0)
    return Usage(ctx, "--concurrency needs a number from 1 to 1024");
  if (ctx.args.Has("max-runs") && (o.max_runs = Count(ctx.args.Get("max-runs"), 1024)) < 0)
    return Usage(ctx, "--max-runs needs a number from 1 to 1024");
  if (ctx.args.Has("lease") && ((o.lease = Seconds(ctx.args.Get("lease"), false)) < 0.5))
    return Usage(ctx, "--lease needs seconds, at least 0.5 (e.g. 30)");
  if (ctx.args.Has("poll") && (o.poll = Seconds(ctx.args.Get("poll"), false)) < 0)
    return Usage(ctx, "--poll needs seconds, more than 0 (e.g. 2)");
  if (ctx.args.Has("idle-exit") && (o.idle_exit = Seconds(ctx.args.Get("idle-exit"), true)) < 0)
    return Usage(ctx, "--idle-exit needs seconds (0: never)");
  auto labels = dist::ParseLabels(ctx.args.Get("labels"));
  if (!labels.ok()) return Usage(ctx, "--labels: " + labels.status().message());
  o.labels = *labels;
  o.quiet = ctx.args.Has("quiet");
  o.listen = !ctx.args.Has("no-listen");
  std::string schedule_dir = ctx.args.Has("schedule-dir") ? ctx.args.Get("schedule-dir") : ".";
  if (ctx.args.Has("schedule-dir") && !ctx.args.Has("scheduler")) return Usage(ctx, "--schedule-dir needs --scheduler");
  if (std::error_code ec; ctx.args.Has("schedule-dir") && !std::filesystem::is_directory(schedule_dir, ec))
    return Usage(ctx, "--schedule-dir " + Quote(schedule_dir) + ": not a directory");
  auto run_flags = ScheduledRunFlags(ctx);  // for the runs --scheduler fires, as `scheduler` has them
  if (!run_flags.ok()) return Usage(ctx, run_flags.status().message());
  o.workspace_root = StoreFilesDir(ctx) + "/workspaces";
  o.scratch_root = StoreFilesDir(ctx) + "/worker-scratch";
  o.git_cache_root = StoreFilesDir(ctx) + "/worker-workspaces";
  std::string script = ctx.args.Get("script");
  if (script.empty())
    if (const char* e = std::getenv("SPECWRIGHT_SCRIPT")) script = e;
  std::string config = ctx.args.Get("config");
  if (const char* e = std::getenv("SPECWRIGHT_CONFIG"); config.empty() && e) config = e;
  Env env;
  // The providers, prices and tools as `run` has them on this machine.
  if (Status s = SetupEnv(ctx, script, config, ctx.args.Get("prices"), &env); !s.ok()) return Fail(ctx, s);
  dist::WorkerEnv we;
  we.providers = &env.providers;
  we.prices = &env.prices;
  we.tools = &env.tools;
  we.store = env.store.get();
  we.observer = ServicesOf(env).observer;  // webhooks (notify:) of the runs it finishes
  we.with_model = [](const std::shared_ptr<const workflow::Workflow>& wf, const std::string& model) {
    return WithModel(wf, model);
  };
  g_worker_signals = std::make_shared<std::atomic<int>>(0);
  struct sigaction sa {};
  sa.sa_handler = OnWorkerSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  // --scheduler: the schedules below --schedule-dir (default: the current directory) fire from
  // here too, each run a process of its own (as `specwright scheduler --dir` starts them).
  std::atomic<bool> scheduler_stop{false};
  std::thread scheduler;
  // Each fire starts in --schedule-dir (its specwright.yaml is the run's unless --config).
  if (ctx.args.Has("scheduler"))
    scheduler = StartSchedulerThread(ctx, env.store.get(), schedule_dir, *run_flags, &scheduler_stop);
  auto r = dist::RunWorker(o, we, g_worker_signals);
  scheduler_stop = true;
  if (scheduler.joinable()) scheduler.join();
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  if (!r.ok()) return Fail(ctx, r.status());
  if (ctx.json)
    std::cout << json{{"claimed", r->claimed}, {"finished", r->finished}, {"lost", r->lost}, {"released", r->released},
                      {"reruns", r->reruns}, {"failed", r->failed}}
                     .dump()
              << "\n";
  return kExitOk;
}

}  // namespace sw::cli
