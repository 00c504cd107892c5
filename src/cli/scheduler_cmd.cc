// `specwright scheduler`, `specwright schedules` and the hidden `schedule-fire` (scheduler.h).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/strings.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/scheduler.h"

extern char** environ;

namespace sw::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::atomic<bool> g_stop{false};
void OnStop(int) { g_stop = true; }

std::string Local(int64_t t, const workflow::Schedule& s) { return workflow::FormatLocal(t, *s.tz); }

void PrintErrors(const std::vector<workflow::Diagnostic>& errors) {
  for (const auto& d : errors) std::fprintf(stderr, "%s\n", d.ToString().c_str());
}

}  // namespace

Result<std::vector<std::string>> ScheduledRunFlags(const Context& ctx) {
  std::vector<std::string> out;
  for (const char* f : {"script", "config", "prices"}) {
    if (!ctx.args.Has(f)) continue;
    std::string v = ctx.args.Get(f);
    std::error_code ec;
    if (!fs::is_regular_file(v, ec)) return InvalidInput("--" + std::string(f) + " " + Quote(v) + ": no such file");
    out.push_back("--" + std::string(f));
    out.push_back(fs::absolute(v).lexically_normal().string());
  }
  return out;
}

int CmdScheduler(Context& ctx) {
  SchedulerOptions o;
  o.files = ctx.args.positional;
  o.dir = ctx.args.Has("dir") ? ctx.args.Get("dir") : ".";
  if (!o.files.empty() && ctx.args.Has("dir")) return Usage(ctx, "give workflow files or --dir, not both");
  if (ctx.args.Has("poll")) {
    std::string v = ctx.args.Get("poll");
    char* end = nullptr;
    o.poll = std::strtod(v.c_str(), &end);
    if (v.empty() || *end || !std::isfinite(o.poll) || o.poll < 0.05 || o.poll > 3600)
      return Usage(ctx, "--poll needs seconds between 0.05 and 3600, got " + Quote(v));
  }
  auto flags = ScheduledRunFlags(ctx);
  if (!flags.ok()) return Usage(ctx, flags.status().message());
  o.run_flags = *flags;
  // Fires start in the folder scanned (--dir; with files named, here), as `ui` and `worker`
  // start theirs: a run reads that folder's specwright.yaml unless --config names one.
  std::error_code ec;
  o.work_dir = fs::absolute(o.dir, ec).lexically_normal().string();
  auto now = SchedulerNow();
  if (!now.ok()) return Fail(ctx, now.status());
  if (std::string w = SchedulerClockWarning(); !w.empty()) std::fprintf(stderr, "%s\n", w.c_str());
  std::vector<workflow::Diagnostic> errors;
  auto found = FindSchedules(o.files, o.dir, &errors);
  if (!o.files.empty() && !errors.empty()) {
    PrintErrors(errors);
    return Fail(ctx, InvalidInput(std::to_string(errors.size()) + " problem(s) in the schedules; nothing was fired"));
  }
  Env env;
  SW_RETURN_IF_ERROR_EXIT(ctx, OpenStore(ctx, &env));
  o.store_location = store::IsStoreUrl(ctx.store_dir) ? ctx.store_dir : StorePath(ctx);
  o.log_dir = StoreFilesDir(ctx) + "/scheduler";
  o.self_exe = SelfExe();
  for (char** e = environ; e && *e; ++e) o.child_env.emplace_back(*e);
  for (const auto& w : SharedStoreWarnings(found, o.store_location)) std::fprintf(stderr, "%s\n", w.c_str());
  std::printf("specwright scheduler: %zu schedule(s) in %s (store %s; run logs in %s)\n", found.size(),
              o.files.empty() ? ("files below " + o.dir).c_str() : (std::to_string(o.files.size()) + " file(s)").c_str(),
              StorePath(ctx).c_str(), o.log_dir.c_str());
  for (const auto& f : found) {
    auto next = workflow::NextFire(f.schedule, static_cast<int64_t>(*now));
    std::printf("  %s  %s  %s  next %s\n", f.key.c_str(), f.schedule.cron.text.c_str(), f.schedule.timezone.c_str(),
                next ? Local(*next, f.schedule).c_str() : "never");
  }
  std::fflush(stdout);
  Scheduler sch(env.store.get(), o);
  if (ctx.args.Has("once")) {
    Status s = sch.Tick(*now);
    std::printf("specwright scheduler: started %d run(s)\n", sch.started());
    if (!s.ok()) return Fail(ctx, s);
    return sch.file_errors() > 0 ? kExitFailed : kExitOk;
  }
  struct sigaction sa {};
  sa.sa_handler = OnStop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sch.Run(&g_stop);
  std::printf("specwright scheduler: stopped (started %d run(s))\n", sch.started());
  return kExitOk;
}

std::thread StartSchedulerThread(const Context& ctx, store::Store* st, const std::string& dir,
                                 std::vector<std::string> run_flags, const std::atomic<bool>* stop) {
  SchedulerOptions o;
  o.dir = dir;
  std::error_code ec;
  o.work_dir = fs::absolute(dir, ec).lexically_normal().string();  // where fires start (as `scheduler --dir`)
  o.store_location = store::IsStoreUrl(ctx.store_dir) ? ctx.store_dir : StorePath(ctx);
  o.log_dir = StoreFilesDir(ctx) + "/scheduler";
  o.self_exe = SelfExe();
  o.run_flags = std::move(run_flags);
  for (char** e = environ; e && *e; ++e) o.child_env.emplace_back(*e);
  std::vector<workflow::Diagnostic> errors;
  auto found = FindSchedules({}, dir, &errors);
  if (std::string w = SchedulerClockWarning(); !w.empty()) std::fprintf(stderr, "scheduler: %s\n", w.c_str());
  for (const auto& w : SharedStoreWarnings(found, o.store_location)) std::fprintf(stderr, "scheduler: %s\n", w.c_str());
  std::fprintf(stderr, "scheduler: %zu schedule(s) in the files below %s (run logs in %s)\n", found.size(), dir.c_str(),
               o.log_dir.c_str());
  return std::thread([st, o, stop] {
    Scheduler sch(st, o);
    sch.Run(stop);
  });
}

int CmdSchedules(Context& ctx) {
  std::vector<std::string> files = ctx.args.positional;
  std::string dir = ctx.args.Has("dir") ? ctx.args.Get("dir") : ".";
  if (!files.empty() && ctx.args.Has("dir")) return Usage(ctx, "give workflow files or --dir, not both");
  auto now = SchedulerNow();
  if (!now.ok()) return Fail(ctx, now.status());
  std::vector<std::string> warnings;
  if (std::string w = SchedulerClockWarning(); !w.empty()) warnings.push_back(w);
  std::vector<workflow::Diagnostic> errors;
  auto found = FindSchedules(files, dir, &errors);
  Env env;
  bool have_store = StoreExists(ctx) && OpenExistingStore(ctx, &env).ok();
  for (auto& w : SharedStoreWarnings(found, ctx.store_dir)) warnings.push_back(w);
  json list = json::array();
  for (const auto& f : found) {
    const auto& s = f.schedule;
    json row{{"file", f.file},
             {"kind", f.kind},
             {"name", s.name},
             {"id", s.id},
             {"index", s.index},
             {"key", f.key},
             {"cron", s.cron.text},
             {"timezone", s.timezone},
             {"catch_up", s.catch_up == workflow::CatchUp::kOnce ? "once" : "skip"},
             {"inputs", s.inputs}};
    auto next = workflow::NextFire(s, static_cast<int64_t>(*now));
    row["next"] = next ? json{{"at", *next}, {"local", Local(*next, s)}} : json(nullptr);
    row["last"] = nullptr;
    if (have_store) {
      auto fires = env.store->ListFires(f.key, 1);
      if (fires.ok() && !fires->empty()) {
        const auto& l = (*fires)[0];
        json last{{"at", l.fire_at},     {"local", Local(static_cast<int64_t>(l.fire_at), s)},
                  {"status", l.status},  {"run", l.run_id},
                  {"note", l.note},      {"error", l.error},
                  {"run_status", nullptr}};
        if (!l.run_id.empty())
          if (auto run = env.store->GetRun(l.run_id); run.ok() && run->has_value()) last["run_status"] = (*run)->status;
        row["last"] = last;
        if (l.fire_at > *now + kFutureFireSlack)
          warnings.push_back(FutureFireWarning(f.key, last["local"].get<std::string>(), l.fire_at - *now));
      }
    }
    list.push_back(row);
  }
  if (ctx.json) {
    json errs = json::array();
    for (const auto& e : errors) errs.push_back(e.ToString());
    std::printf("%s\n", json{{"now", *now}, {"schedules", list}, {"errors", errs}, {"warnings", warnings}}.dump(2).c_str());
  } else {
    PrintErrors(errors);
    for (const auto& w : warnings) std::fprintf(stderr, "%s\n", w.c_str());
    if (list.empty()) std::printf("no schedules%s\n", files.empty() ? (" in the workflow files below " + dir).c_str() : "");
    for (const auto& r : list) {
      std::string name = r["name"].get<std::string>().empty() ? "#" + std::to_string(r["index"].get<int>()) : r["name"].get<std::string>();
      std::printf("%s %s  [%s]  cron \"%s\" %s, catch_up %s\n", r["file"].get<std::string>().c_str(), name.c_str(),
                  r["kind"].get<std::string>().c_str(), r["cron"].get<std::string>().c_str(),
                  r["timezone"].get<std::string>().c_str(), r["catch_up"].get<std::string>().c_str());
      std::printf("    next: %s\n", r["next"].is_null() ? "never" : r["next"]["local"].get<std::string>().c_str());
      if (r["last"].is_null()) {
        std::printf("    last: never fired%s\n", have_store ? "" : " (no store here)");
      } else {
        const auto& l = r["last"];
        std::string run = l["run"].get<std::string>();
        std::printf("    last: %s  %s%s%s%s\n", l["local"].get<std::string>().c_str(), l["status"].get<std::string>().c_str(),
                    run.empty() ? "" : ("  run " + run).c_str(),
                    l["run_status"].is_null() ? "" : (" (" + l["run_status"].get<std::string>() + ")").c_str(),
                    l["error"].get<std::string>().empty() ? "" : ("  " + l["error"].get<std::string>()).c_str());
      }
    }
  }
  return errors.empty() ? kExitOk : (files.empty() ? kExitFailed : kExitInvalid);
}

int CmdScheduleFire(Context& ctx) {
  if (ctx.args.positional.size() != 1) return Usage(ctx, "schedule-fire takes one run id");
  const std::string run_id = ctx.args.positional[0];
  auto flags = ScheduledRunFlags(ctx);
  if (!flags.ok()) return Usage(ctx, flags.status().message());
  Env env;
  SW_RETURN_IF_ERROR_EXIT(ctx, OpenStoreForRun(ctx, &env, run_id));
  auto got = env.store->StartFire(run_id, ::getpid(), SystemClock::Default()->WallNow());
  if (!got.ok()) return Fail(ctx, got.status());
  if (!got->has_value()) {
    std::printf("schedule-fire: the fire of run %s is not waiting to be started (started already, or never claimed)\n",
                run_id.c_str());
    return kExitOk;
  }
  store::FireRecord fire = **got;
  auto fail = [&](const std::string& why) {
    (void)env.store->FinishFire(run_id, "failed", why);
    return Fail(ctx, Failed("cannot start " + run_id + ": " + why));
  };
  // The file: --file (the scheduler says where it found the schedule), else the path in the key
  // (an `id:` key names no file).
  bool by_id = fire.schedule.rfind("id:", 0) == 0;
  size_t hash = fire.schedule.rfind('#');
  std::string file = ctx.args.Get("file");
  if (file.empty() && by_id) return fail("the schedule " + Quote(fire.schedule) + " names no file: start it with --file FILE");
  if (file.empty() && hash == std::string::npos) return fail("malformed schedule key " + Quote(fire.schedule));
  if (file.empty()) file = fire.schedule.substr(0, hash);
  std::vector<workflow::Diagnostic> errors;
  auto found = FindSchedules({file}, "", &errors);
  const FoundSchedule* me = nullptr;
  for (const auto& f : found)
    if (f.key == fire.schedule) me = &f;
  if (!me) {
    std::string entry = by_id ? fire.schedule : fire.schedule.substr(hash == std::string::npos ? 0 : hash + 1);
    std::string why = "the schedule " + Quote(entry) + " is no longer in " + file;
    if (!errors.empty()) why += " (" + errors[0].ToString() + ")";
    return fail(why);
  }
  std::vector<std::string> args = {SelfExe()};
  if (me->kind == "eval") {
    args.insert(args.end(), {"eval", me->file, "--run-id", run_id});
  } else {
    args.insert(args.end(), {"run", me->file, "--run-id", run_id});
    for (const auto& [k, v] : me->schedule.inputs.items()) {
      args.push_back("--input");
      args.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
    }
  }
  args.insert(args.end(), flags->begin(), flags->end());
  std::printf("schedule-fire: %s for %s: %s\n", fire.schedule.c_str(),
              workflow::FormatLocal(static_cast<int64_t>(fire.fire_at), *me->schedule.tz).c_str(), Join(args, " ").c_str());
  std::fflush(stdout);
  std::fflush(stderr);
  // The run is a child of this process (the pid in the fire row), which waits for it: a run that
  // ends before its record exists (a preflight error, an input the workflow refuses, a kill) is
  // recorded as a failed fire rather than left "started" with no run. No store handle leaks in.
  env.store.reset();
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t child = ::fork();
  if (child == 0) {
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  std::string why;
  int code = kExitFailed;
  if (child < 0) {
    why = std::string("fork: ") + std::strerror(errno);
  } else {
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    why = WIFEXITED(status) && code == 127 ? "exec " + args[0] + " failed"
                                           : "the run ended before it was recorded (exit " + std::to_string(code) +
                                                 "; see the scheduler's log of " + run_id + ")";
  }
  if (!OpenStore(ctx, &env).ok()) return child < 0 ? Fail(ctx, Failed(why)) : code;
  if (child > 0)
    if (auto run = env.store->GetRun(run_id); !run.ok() || run->has_value()) return code;
  (void)env.store->FinishFire(run_id, "failed", why);
  std::fprintf(stderr, "schedule-fire: %s: %s\n", run_id.c_str(), why.c_str());
  return child < 0 ? kExitFailed : (code == 0 ? kExitFailed : code);
}

}  // namespace sw::cli
