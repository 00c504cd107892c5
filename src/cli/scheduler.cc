// The scheduler loop (scheduler.h): finding schedules, claiming due windows, starting runs.
#include "cli/scheduler.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "base/clock.h"
#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"
#include "base/subprocess.h"
#include "workflow/yaml_json.h"

#include <yaml-cpp/yaml.h>

namespace sw::cli {
namespace fs = std::filesystem;
using workflow::Diagnostic;
using workflow::Pos;

namespace {

constexpr int kMaxDepth = 4;
constexpr size_t kMaxFiles = 5000;
constexpr int kMaxWindowsCounted = 100000;

double RealNow() { return SystemClock::Default()->WallNow(); }

struct Clock {
  bool simulated = false;
  double sim_start = 0, speed = 1, real_start = 0;
};

Result<Clock> ReadClock() {
  static std::mutex mu;
  static std::optional<Result<Clock>> cached;
  std::lock_guard<std::mutex> lock(mu);
  if (cached) return *cached;
  Clock c;
  const char* env = std::getenv("SPECWRIGHT_SCHEDULER_CLOCK");
  if (env && *env) {
    std::string v = env;
    auto parts = Split(v, ':');
    auto num = [](const std::string& s, double* out) {
      char* end = nullptr;
      *out = std::strtod(s.c_str(), &end);
      return !s.empty() && end && *end == '\0' && std::isfinite(*out);
    };
    bool ok = (parts.size() == 2 || parts.size() == 3) && num(parts[0], &c.sim_start) && num(parts[1], &c.speed) &&
              c.speed > 0 && c.speed <= 1e6 && c.sim_start >= 0;
    if (ok && parts.size() == 3) ok = num(parts[2], &c.real_start) && c.real_start > 0;
    if (!ok) {
      cached = Result<Clock>(InvalidInput("$SPECWRIGHT_SCHEDULER_CLOCK must be SIM_START:SPEED[:REAL_START] (unix "
                                          "seconds, a factor > 0, unix seconds), got " + Quote(v)));
      return *cached;
    }
    if (parts.size() == 2) c.real_start = RealNow();
    c.simulated = true;
  }
  cached = Result<Clock>(c);
  return *cached;
}

double ClockSpeed() {
  auto c = ReadClock();
  return c.ok() && c->simulated ? c->speed : 1;
}

bool Hidden(const fs::path& p) {
  std::string n = p.filename().string();
  return (!n.empty() && n[0] == '.' && n != "." && n != "..") || n == "node_modules";
}

std::string Utc(int64_t t) {
  auto utc = workflow::TimeZone::Load("UTC");
  std::string s = workflow::FormatLocal(t, **utc);
  return s.substr(0, 16) + "Z";  // 2026-12-07T09:00Z
}

std::string HostPid() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

/// ReadSchedulesOf adds the schedules of one file; explicit: the file was named (a file
/// without `schedule:` is then an error).
void ReadSchedulesOf(const std::string& path, const std::string& display, bool explicit_file,
                     std::vector<FoundSchedule>* out, std::vector<Diagnostic>* errors) {
  auto err = [&](Pos pos, std::string msg) { errors->push_back(Diagnostic{display, pos, std::move(msg)}); };
  std::error_code ec;
  std::string abs = fs::weakly_canonical(fs::absolute(path, ec), ec).string();
  if (!fs::is_regular_file(abs, ec)) {
    err(Pos{}, "no such file");
    return;
  }
  auto size = fs::file_size(abs, ec);
  if (!ec && size > kMaxYamlFileBytes) {
    if (explicit_file) err(Pos{}, "the file is " + std::to_string(size) + " bytes; at most 16 MiB");
    return;
  }
  auto text = ReadFile(abs);
  if (!text.ok()) {
    err(Pos{}, text.status().message());
    return;
  }
  // Below --dir, only files with a top-level `schedule:` are read as YAML at all.
  if (!explicit_file && !HasTopLevelKey(*text, "schedule")) return;
  auto root = LoadYaml(*text, display);
  if (!root.ok()) {
    // LoadYaml's message names display:line:col already.
    errors->push_back(Diagnostic{"", Pos{}, root.status().message()});
    return;
  }
  const YAML::Node& r = *root;
  try {
    if (!r.IsMap() || !r["schedule"]) {
      if (explicit_file) err(Pos{1, 1}, "no `schedule:` in this file (nothing to schedule)");
      return;
    }
    size_t before = errors->size();
    if (r["nodes"]) {
      auto loaded = workflow::Load(abs);
      if (!loaded.workflow) {
        for (const auto& d : loaded.errors) errors->push_back(d);
        if (errors->size() == before) err(Pos{}, "the workflow cannot be loaded");
        return;
      }
      for (const auto& s : loaded.workflow->schedules)
        out->push_back(FoundSchedule{abs, "workflow", s, workflow::ScheduleKey(abs, s)});
      return;
    }
    if (r["workflow"] && (r["cases"] || r["dataset"])) {
      auto list = workflow::ParseSchedules(r["schedule"], display, errors);
      for (const auto& s : list)
        if (!s.inputs.empty())
          err(Pos{s.line, s.col}, "schedule " + Quote(s.Label()) + " of an eval suite takes no inputs (its cases are its inputs)");
      if (errors->size() != before) return;
      for (const auto& s : list) out->push_back(FoundSchedule{abs, "eval", s, workflow::ScheduleKey(abs, s)});
      return;
    }
    err(Pos{1, 1}, "`schedule:` is in a file that is neither a workflow (nodes:) nor an eval suite (workflow: with cases: or dataset:)");
  } catch (const YAML::Exception& e) {
    err(Pos{e.mark.line + 1, e.mark.column + 1}, std::string("cannot read YAML: ") + e.msg);
  }
}

}  // namespace

bool HasTopLevelKey(std::string_view text, std::string_view key) {
  for (size_t at = 0; (at = text.find(key, at)) != std::string_view::npos; at += key.size()) {
    if (at > 0 && text[at - 1] != '\n') continue;
    size_t i = at + key.size();
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i < text.size() && text[i] == ':') return true;
  }
  return false;
}

std::string SchedulerClockWarning() {
  auto c = ReadClock();
  if (!c.ok() || !c->simulated) return "";
  auto now = SchedulerNow();
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "warning: $SPECWRIGHT_SCHEDULER_CLOCK is set: schedules run on a test clock (now %s, %g x real "
                "time), not the system clock",
                now.ok() ? Utc(static_cast<int64_t>(*now)).c_str() : "?", c->speed);
  return buf;
}

std::string FutureFireWarning(const std::string& key, const std::string& when, double ahead_seconds) {
  return "WARNING: the newest fire of " + key + " is at " + when + ", " +
         std::to_string(static_cast<int64_t>(ahead_seconds / 60)) +
         " minute(s) in the future (the clock was ahead when it was claimed, or is behind now): this schedule "
         "fires nothing until then";
}

std::vector<std::string> SharedStoreWarnings(const std::vector<FoundSchedule>& found, const std::string& store_location) {
  std::vector<std::string> out;
  if (!store::IsStoreUrl(store_location)) return out;
  for (const auto& f : found)
    if (f.schedule.id.empty())
      out.push_back("warning: schedule " + f.key + " has no id: on a PostgreSQL store its key is the file's path, so "
                    "schedulers with checkouts at other paths would fire it again; give it `id:` (unique in the "
                    "store), or keep one checkout path per store");
  return out;
}

Result<double> SchedulerNow() {
  SW_ASSIGN_OR_RETURN(Clock c, ReadClock());
  double real = RealNow();
  if (!c.simulated) return real;
  return c.sim_start + (real - c.real_start) * c.speed;
}

std::vector<FoundSchedule> FindSchedules(const std::vector<std::string>& files, const std::string& dir,
                                         std::vector<Diagnostic>* errors) {
  std::vector<FoundSchedule> out;
  if (!files.empty()) {
    for (const auto& f : files) ReadSchedulesOf(f, f, true, &out, errors);
    return out;
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    errors->push_back(Diagnostic{dir, Pos{}, "not a directory"});
    return out;
  }
  std::vector<std::string> found;
  auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    if (Hidden(p)) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(ec)) {
      if (it.depth() + 1 >= kMaxDepth) it.disable_recursion_pending();
      continue;
    }
    std::string ext = p.extension().string();
    if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file(ec)) found.push_back(p.string());
    if (found.size() >= kMaxFiles) break;
  }
  std::sort(found.begin(), found.end());
  for (const auto& f : found) {
    std::string display = fs::path(f).lexically_normal().string();
    if (display.rfind("./", 0) == 0) display = display.substr(2);
    ReadSchedulesOf(f, display, false, &out, errors);
  }
  // An id is one schedule: a second entry with it (another file) is an error and fires nothing.
  std::map<std::string, std::string> seen;  // key -> file
  std::vector<FoundSchedule> unique;
  for (auto& f : out) {
    auto [it, fresh] = seen.emplace(f.key, f.file);
    if (fresh) {
      unique.push_back(std::move(f));
      continue;
    }
    errors->push_back(Diagnostic{f.file, Pos{f.schedule.line, f.schedule.col},
                                 "schedule id " + Quote(f.schedule.id) + " is also used in " + it->second +
                                     " (an id names one schedule in the store)"});
  }
  return unique;
}

std::string FireRunId(const std::string& key, int64_t fire_at) {
  int64_t days = fire_at >= 0 ? fire_at / 86400 : (fire_at - 86399) / 86400;
  int64_t secs = fire_at - days * 86400;
  int64_t y;
  unsigned m, d;
  workflow::CivilFromDays(days, &y, &m, &d);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld%02u%02u-%02lld%02lld-s", static_cast<long long>(y), m, d,
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60));
  return buf + Hash128Hex(key).substr(0, 10);
}

Scheduler::Scheduler(store::Store* st, SchedulerOptions options) : st_(st), o_(std::move(options)) {
  // A test aid (tests/e2e/scheduler_e2e_test.cc): $SPECWRIGHT_SCHEDULER_CRASH =
  // "after-claim:N" or "after-spawn:N" SIGKILLs this process right after its Nth claim or
  // start, the two moments a crash must not make a window fire twice (or never).
  if (const char* c = std::getenv("SPECWRIGHT_SCHEDULER_CRASH"); c && *c) {
    std::string v = c;
    size_t colon = v.find(':');
    if (colon != std::string::npos) {
      crash_at_ = v.substr(0, colon);
      crash_n_ = std::atoi(v.c_str() + colon + 1);
    }
  }
}

void Scheduler::MaybeCrash(const char* moment) {
  if (crash_at_ == moment && --crash_n_ == 0) {
    Log(std::string("crashing ") + moment + " ($SPECWRIGHT_SCHEDULER_CRASH)");
    ::kill(::getpid(), SIGKILL);
  }
}

void Scheduler::Log(const std::string& line) {
  if (o_.log) {
    o_.log(line);
  } else {
    std::fprintf(stderr, "scheduler: %s\n", line.c_str());
    std::fflush(stderr);
  }
}

Status Scheduler::Spawn(const std::string& run_id, const std::string& file) {
  SpawnOptions sp;
  sp.argv = {o_.self_exe, "schedule-fire", run_id, "--file", file};
  sp.argv.insert(sp.argv.end(), o_.run_flags.begin(), o_.run_flags.end());
  for (const auto& e : o_.child_env)
    if (e.rfind("SPECWRIGHT_STORE=", 0) != 0) sp.env.push_back(e);
  sp.env.push_back("SPECWRIGHT_STORE=" + o_.store_location);
  if (const char* path = std::getenv("PATH"); path && *path) sp.path = path;
  sp.cwd = o_.work_dir;  // the folder scanned: its specwright.yaml is the run's
  SW_RETURN_IF_ERROR(MakeDirs(o_.log_dir));
  auto pid = SpawnDetached(sp, o_.log_dir + "/" + run_id + ".log");
  if (!pid.ok()) return pid.status();
  children_.push_back(*pid);
  ++started_;
  MaybeCrash("after-spawn");
  return Status::Ok();
}

void Scheduler::RecoverClaimed(double real_now, bool all) {
  auto claimed = st_->ListClaimedFires();
  if (!claimed.ok()) {
    Log("cannot read claimed fires: " + claimed.status().message());
    return;
  }
  for (const auto& f : *claimed) {
    auto known = state_.find(f.schedule);
    if (known == state_.end()) continue;  // another scheduler's file: it starts its own
    // At start every claimed fire is taken up; later only one left claimed for a minute (its
    // starter died before it took the fire over). Starting one twice is harmless: StartFire
    // lets exactly one process have it.
    if (!all && f.claimed_at > real_now - 60) continue;
    int& n = respawns_[f.run_id];
    if (n >= 3) continue;
    ++n;
    Log("starting " + f.run_id + " (" + f.schedule + " at " + Utc(static_cast<int64_t>(f.fire_at)) +
        "): claimed by " + f.claimed_by + " but not started");
    if (Status s = Spawn(f.run_id, known->second.file); !s.ok()) Log("cannot start " + f.run_id + ": " + s.message());
  }
}

Status Scheduler::Due(const FoundSchedule& f, State& s, double now) {
  double grace = std::max(60.0, 3 * o_.poll * ClockSpeed());
  if (!s.known) {
    SW_ASSIGN_OR_RETURN(auto last, st_->ListFires(f.key, 1));
    s.known = true;
    if (!last.empty()) {
      s.last = last[0].fire_at;
    } else {
      // A schedule never fired before starts now: only the latest window within the grace
      // fires (so `scheduler --once` from a system timer fires the window that just came due);
      // older windows are not "missed".
      s.last = now;
      for (auto t = workflow::NextFire(f.schedule, static_cast<int64_t>(now - grace));
           t && static_cast<double>(*t) <= now; t = workflow::NextFire(f.schedule, *t))
        s.last = static_cast<double>(*t) - 1;
    }
  }
  // A fire claimed while the clock was ahead (a forward glitch) silences the schedule until
  // real time passes it: say so every tick, loudly.
  if (s.last > now + kFutureFireSlack)
    Log(FutureFireWarning(f.key, Utc(static_cast<int64_t>(s.last)), s.last - now));
  int64_t after = static_cast<int64_t>(std::floor(s.last));
  int count = 0;
  int64_t first = 0, prev = 0, latest = 0;
  while (true) {
    auto t = workflow::NextFire(f.schedule, after);
    if (!t || static_cast<double>(*t) > now) break;
    if (++count == 1) first = *t;
    prev = latest;
    latest = *t;
    after = *t;
    if (count >= kMaxWindowsCounted) {
      // A long outage of a frequent schedule: jump to the last day before now for the latest.
      int64_t from = std::max<int64_t>(after, static_cast<int64_t>(now) - 86400);
      for (auto u = workflow::NextFire(f.schedule, from); u && static_cast<double>(*u) <= now;
           u = workflow::NextFire(f.schedule, *u)) {
        prev = latest;
        latest = *u;
      }
      break;
    }
  }
  if (count == 0) return Status::Ok();
  std::string counted = count >= kMaxWindowsCounted ? "more than " + std::to_string(kMaxWindowsCounted) : std::to_string(count);
  bool on_time = now - static_cast<double>(latest) <= grace;
  int missed = on_time ? count - 1 : count;
  bool once = f.schedule.catch_up == workflow::CatchUp::kOnce;
  double real_now = RealNow();
  auto record = [&](int64_t at, const std::string& status, const std::string& note) -> Result<bool> {
    store::FireRecord r;
    r.schedule = f.key;
    r.fire_at = static_cast<double>(at);
    r.run_id = status == "claimed" ? FireRunId(f.key, at) : "";
    r.status = status;
    r.note = note;
    r.claimed_at = real_now;
    r.claimed_by = HostPid();
    return st_->ClaimFire(r);
  };
  std::string label = f.key.substr(f.key.rfind('/') + 1);
  int64_t fire = latest;
  std::string note;
  if (on_time && missed > 0 && !once) {
    std::string span = missed == 1 ? Utc(prev) : Utc(first) + " to " + Utc(prev);
    SW_ASSIGN_OR_RETURN(bool won, record(prev, "skipped", std::to_string(missed) + " missed window(s) " + span +
                                                              " skipped (catch_up: skip)"));
    if (won) Log("skipped " + label + ": " + std::to_string(missed) + " missed window(s) " + span + " (catch_up: skip)");
  } else if (on_time && missed > 0) {
    note = "also covers " + std::to_string(missed) + " missed window(s) from " + Utc(first) + " (catch_up: once)";
  } else if (!on_time && !once) {
    std::string span = count == 1 ? Utc(latest) : Utc(first) + " to " + Utc(latest);
    SW_ASSIGN_OR_RETURN(bool won, record(latest, "skipped", counted + " missed window(s) " + span + " skipped (catch_up: skip)"));
    if (won) Log("skipped " + label + ": " + counted + " missed window(s) " + span + " (catch_up: skip)");
    fire = 0;
  } else if (!on_time) {
    note = "catch-up: one run for " + counted + " missed window(s) from " + Utc(first) + " (catch_up: once)";
  }
  if (fire == 0) {
    s.last = static_cast<double>(latest);
    return Status::Ok();
  }
  // A claim that fails (the store unreachable) leaves last alone: the next tick tries again.
  SW_ASSIGN_OR_RETURN(bool won, record(fire, "claimed", note));
  s.last = static_cast<double>(latest);
  if (!won) return Status::Ok();  // another scheduler has this window
  std::string run_id = FireRunId(f.key, fire);
  MaybeCrash("after-claim");
  Log("fired " + label + " for " + Utc(fire) + ": run " + run_id + (note.empty() ? "" : " (" + note + ")"));
  if (Status sp = Spawn(run_id, f.file); !sp.ok()) {
    Log("cannot start " + run_id + ": " + sp.message());
    (void)st_->FinishFire(run_id, "failed", "cannot start the process: " + sp.message());
  }
  return Status::Ok();
}

Status Scheduler::Tick(double now) {
  for (auto it = children_.begin(); it != children_.end();)
    it = ReapIfExited(static_cast<pid_t>(*it)) ? children_.erase(it) : it + 1;
  std::vector<Diagnostic> errors;
  auto found = FindSchedules(o_.files, o_.dir, &errors);
  std::set<std::string> now_errors;
  for (const auto& e : errors) now_errors.insert(e.ToString());
  for (const auto& e : now_errors)
    if (!last_errors_.count(e)) Log(e + " (its schedules are not fired until this is fixed)");
  last_errors_ = std::move(now_errors);
  std::set<std::string> keys;
  for (const auto& f : found) {
    keys.insert(f.key);
    state_[f.key].file = f.file;
  }
  for (auto it = state_.begin(); it != state_.end();) it = keys.count(it->first) ? std::next(it) : state_.erase(it);
  RecoverClaimed(RealNow(), !recovered_);
  recovered_ = true;
  Status first_error;
  for (const auto& f : found) {
    Status s = Due(f, state_[f.key], now);
    if (!s.ok()) {
      Log(f.key + ": " + s.message());
      if (first_error.ok()) first_error = s;
    }
  }
  return first_error;
}

void Scheduler::Run(const std::atomic<bool>* stop) {
  while (!stop->load()) {
    auto now = SchedulerNow();
    if (!now.ok()) {
      Log(now.status().message());
      return;
    }
    (void)Tick(*now);
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(o_.poll);
    while (!stop->load() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace sw::cli
