// `specwright scheduler` and `specwright schedules` as a user runs them, on SQLite and on
// PostgreSQL: no window fires twice across SIGKILLs (right after a claim, right after a start,
// and at arbitrary moments) and restarts, nor between two schedulers at once; a fire claimed
// but never started is started exactly once; catch_up skip vs once after downtime; bad
// schedules are refused with file:line:col. Time runs on the scheduler's test clock
// ($SPECWRIGHT_SCHEDULER_CLOCK), never real minutes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "../pg_test_db.h"
#include "cli_runner.h"
#include "store/store.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace e2e;

constexpr double kT0 = 1774742400;  // 2026-03-29 00:00:00 UTC

/// Signal sends sig to one process the test started, never to a pid <= 0 (a spawn that failed,
/// e.g. on "text file busy" while the binary is relinked, leaves -1: kill(-1) would hit us all).
void Signal(pid_t pid, int sig) {
  ASSERT_GT(pid, 0) << "the process was not started";
  kill(pid, sig);
}

class SchedulerE2E : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_sched_e2e.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    if (GetParam() == "postgresql") {
      db_ = std::make_unique<testpg::TempPgDatabase>();
      SW_REQUIRE_PG(*db_);
      store_ = db_->url();
    } else {
      store_ = dir_ + "/store";
    }
  }
  void TearDown() override {
    // Runs are processes of their own: let none outlive the test's files.
    for (int i = 0; i < 100 && !Quiet(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    fs::remove_all(dir_);
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }

  std::vector<std::string> Env(const std::string& clock, const std::string& crash = "") {
    std::vector<std::string> env = {"SPECWRIGHT_SCHEDULER_CLOCK=" + clock, "SPECWRIGHT_STORE=" + store_};
    if (!crash.empty()) env.push_back("SPECWRIGHT_SCHEDULER_CRASH=" + crash);
    return env;
  }

  std::unique_ptr<sw::store::Store> Open() {
    auto s = sw::store::OpenStore(store_);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  std::vector<sw::store::FireRecord> Fires(const std::string& key) {
    auto st = Open();
    if (!st) return {};
    auto f = st->ListFires(key, 0);
    EXPECT_TRUE(f.ok());
    return f.ok() ? *f : std::vector<sw::store::FireRecord>{};
  }

  /// Quiet: nothing claimed and not started, every started fire's run recorded and ended (a
  /// fire is started a moment before its run is recorded: in that moment neither a claimed fire
  /// nor a running run shows), and no run still running.
  bool Quiet() {
    auto st = sw::store::OpenStore(store_);
    if (!st.ok()) return true;
    auto claimed = (*st)->ListClaimedFires();
    if (!claimed.ok() || !claimed->empty()) return false;
    auto fires = (*st)->ListFires("", 0);
    if (!fires.ok()) return false;
    for (const auto& f : *fires) {
      if (f.status != "started") continue;
      auto run = (*st)->GetRun(f.run_id);
      if (!run.ok() || !run->has_value() || (**run).status == "running") return false;
    }
    auto runs = (*st)->ListRuns(1000, true);
    if (!runs.ok()) return false;
    for (const auto& r : *runs)
      if (r.status == "running") return false;
    return true;
  }

  void WaitQuiet() {
    bool quiet = false;
    for (int i = 0; i < 600 && !(quiet = Quiet()); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(quiet) << "runs still running or fires still claimed after 60 s";
  }

  /// Winners counts the lines a started fire's process writes when it wins the fire and hands
  /// over to the run: exactly one per run, however many processes tried.
  int Winners(const std::string& run_id) {
    std::string log = Slurp(LogDir() + "/" + run_id + ".log");
    int n = 0;
    for (size_t at = 0; (at = log.find("schedule-fire: /", at)) != std::string::npos; ++at) ++n;
    return n;
  }
  std::string LogDir() {
    if (GetParam() == "sqlite") return store_ + "/scheduler";
    // A URL store keeps its files in the user's state folder: find it by the log's name.
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir_ + "/home", ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_directory() && it->path().filename() == "scheduler") return it->path().string();
    return dir_ + "/none";
  }

  std::string dir_, store_;
  std::unique_ptr<testpg::TempPgDatabase> db_;
};

INSTANTIATE_TEST_SUITE_P(Backends, SchedulerE2E, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

const char* kFlow = R"(name: ticker
inputs:
  topic: {type: string}
schedule:
  - name: minutely
    cron: "* * * * *"
    inputs: {topic: weather}
  - name: even
    cron: "*/2 * * * *"
    timezone: Europe/Berlin
    inputs: {topic: "even minutes"}
nodes:
  say:
    kind: tool
    tool: builtin://echo
    args: {text: "tick {{inputs.topic}}"}
)";

TEST_P(SchedulerE2E, NoWindowFiresTwiceAcrossSigkillsRestartsAndRivals) {
  std::string flow = Write("flow.yaml", kFlow);
  std::string canon = fs::canonical(flow).string();
  // One clock for every process: 60 simulated seconds per real second from now.
  char clock[64];
  std::snprintf(clock, sizeof clock, "%.0f:60:%.3f", kT0 + 30,
                std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  std::vector<std::string> base = {"scheduler", flow, "--poll", "0.1"};
  std::vector<std::string> env = {"HOME=" + dir_ + "/home", "XDG_STATE_HOME="};
  auto with = [&](std::vector<std::string> e) {
    e.insert(e.end(), env.begin(), env.end());
    return e;
  };
  // 1. SIGKILLed right after its second claim: that fire is claimed and was never started.
  Proc a = Spawn(base, dir_, with(Env(clock, "after-claim:2")));
  EXPECT_EQ(Wait(a), 128 + SIGKILL) << Slurp(a.err_path);
  auto st = Open();
  ASSERT_TRUE(st);
  // Its first fire's process takes that fire over by itself; the second was never started.
  auto claimed = st->ListClaimedFires();
  for (int i = 0; i < 100 && claimed.ok() && claimed->size() > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    claimed = st->ListClaimedFires();
  }
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u) << Slurp(a.err_path);
  std::string orphan = (*claimed)[0].run_id;
  // 2. A restart takes it up, and is SIGKILLed right after starting it (and its first fire).
  Proc b = Spawn(base, dir_, with(Env(clock, "after-spawn:1")));
  EXPECT_EQ(Wait(b), 128 + SIGKILL) << Slurp(b.err_path);
  EXPECT_NE(Slurp(b.err_path).find("starting " + orphan), std::string::npos) << Slurp(b.err_path);
  // 3. Another orphan, then four processes start it at once (as racing restarts would, with a
  // restarted scheduler among them): exactly one gets it.
  Proc a2 = Spawn(base, dir_, with(Env(clock, "after-claim:1")));
  EXPECT_EQ(Wait(a2), 128 + SIGKILL) << Slurp(a2.err_path);
  claimed = st->ListClaimedFires();
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  std::string orphan2 = (*claimed)[0].run_id;
  std::vector<Proc> racers;
  for (int k = 0; k < 4; ++k) racers.push_back(Spawn({"schedule-fire", orphan2}, dir_, with(Env(clock))));
  Proc b2 = Spawn(base, dir_, with(Env(clock, "after-spawn:1")));
  int racer_wins = 0;
  for (auto& p : racers) {
    EXPECT_EQ(Wait(p), 0) << Slurp(p.err_path);
    std::string out = Slurp(p.out_path);
    if (out.find("schedule-fire: /") != std::string::npos) ++racer_wins;
    else EXPECT_NE(out.find("not waiting to be started"), std::string::npos) << out;
  }
  Wait(b2);
  // 4. Restarts SIGKILLed at arbitrary moments, and two schedulers at once.
  for (int k = 0; k < 4; ++k) {
    Proc c = Spawn(base, dir_, with(Env(clock)));
    std::this_thread::sleep_for(std::chrono::milliseconds(700 + 300 * k));
    Signal(c.pid, SIGKILL);
    Wait(c);
  }
  Proc d = Spawn(base, dir_, with(Env(clock)));
  Proc e = Spawn(base, dir_, with(Env(clock)));
  std::this_thread::sleep_for(std::chrono::seconds(3));
  Signal(d.pid, SIGTERM);
  Signal(e.pid, SIGKILL);
  EXPECT_EQ(Wait(d), 0) << Slurp(d.err_path);
  Wait(e);
  WaitQuiet();

  // Every window from the first fire to the last is there once, started once, run once.
  st = Open();
  size_t fired = 0;
  for (const std::string name : {"minutely", "even"}) {
    auto fires = Fires(canon + "#" + name);
    ASSERT_GE(fires.size(), 4u) << name;
    std::set<std::string> ids;
    size_t skipped = 0;
    for (const auto& f : fires) {
      SCOPED_TRACE(name + " " + f.run_id);
      if (f.status == "skipped") {
        // Only a restart slower than the grace (60 simulated seconds: one real second here,
        // possible on a loaded machine) misses a window; it is then recorded, never run.
        EXPECT_NE(f.note.find("missed window(s)"), std::string::npos) << f.note;
        EXPECT_EQ(f.run_id, "");
        ++skipped;
        continue;
      }
      EXPECT_EQ(f.status, "started") << f.error << f.note;
      EXPECT_TRUE(ids.insert(f.run_id).second);
      if (f.run_id != orphan2) EXPECT_EQ(Winners(f.run_id), 1) << Slurp(LogDir() + "/" + f.run_id + ".log");
      auto run = st->GetRun(f.run_id);
      ASSERT_TRUE(run.ok() && run->has_value());
      EXPECT_EQ((*run)->status, "succeeded");
      auto started = st->ListEventsOfType(f.run_id, "run_started");
      ASSERT_TRUE(started.ok());
      EXPECT_EQ(started->size(), 1u);
      auto inputs = json::parse((*run)->inputs_json);
      EXPECT_EQ(inputs["topic"], name == "minutely" ? "weather" : "even minutes");
    }
    // No window was lost between the kills either: consecutive fires are one period apart
    // (the downtimes were shorter than the catch-up grace).
    double period = name == "minutely" ? 60 : 120;
    if (skipped == 0)
      for (size_t i = 1; i < fires.size(); ++i) EXPECT_EQ(fires[i - 1].fire_at - fires[i].fire_at, period) << name;
    else
      std::fprintf(stderr, "note: %zu window(s) of %s skipped by a slow restart\n", skipped, name.c_str());
    fired += fires.size() - skipped;
  }
  // The orphans of steps 1 and 3 ran, once each.
  EXPECT_EQ(Winners(orphan), 1);
  EXPECT_EQ(Winners(orphan2) + racer_wins, 1);  // in the scheduler's log, or a racer's output
  auto all = st->ListRuns(1000, true);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), fired);  // one run per started fire, no more
}

TEST_P(SchedulerE2E, CatchUpSkipRecordsTheMissedWindowsAndOnceRunsTheLatest) {
  std::string flow = Write("hourly.yaml", R"(name: hourly
schedule:
  - {name: skipper, cron: "0 * * * *", catch_up: skip}
  - {name: oncer, cron: "0 * * * *", catch_up: once}
nodes:
  say: {kind: tool, tool: builtin://echo, args: {text: hi}}
)");
  std::string canon = fs::canonical(flow).string();
  std::vector<std::string> home = {"HOME=" + dir_ + "/home", "XDG_STATE_HOME="};
  auto once_at = [&](double t) {
    char clock[64];
    std::snprintf(clock, sizeof clock, "%.0f:1", t);
    auto env = Env(clock);
    env.insert(env.end(), home.begin(), home.end());
    auto r = RunCli({"scheduler", flow, "--once"}, dir_, env);
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    WaitQuiet();
    return r;
  };
  once_at(kT0 + 11 * 3600 + 1800);  // first sight, nothing due: nothing recorded
  EXPECT_TRUE(Fires(canon + "#skipper").empty());
  once_at(kT0 + 13 * 3600 + 20);  // 13:00, 20 s late: on time
  // Down from 13:00 to 16:30: 14:00, 15:00 and 16:00 were missed.
  auto r = once_at(kT0 + 16 * 3600 + 1800);
  EXPECT_NE(r.err.find("skipped hourly.yaml#skipper: 3 missed window(s) 2026-03-29T14:00Z to 2026-03-29T16:00Z"),
            std::string::npos)
      << r.err;
  once_at(kT0 + 17 * 3600 + 5);  // back on time

  auto skipper = Fires(canon + "#skipper");
  ASSERT_EQ(skipper.size(), 3u);
  EXPECT_EQ(skipper[0].fire_at, kT0 + 17 * 3600);
  EXPECT_EQ(skipper[0].status, "started");
  EXPECT_EQ(skipper[1].fire_at, kT0 + 16 * 3600);
  EXPECT_EQ(skipper[1].status, "skipped");
  EXPECT_EQ(skipper[1].run_id, "");
  EXPECT_NE(skipper[1].note.find("3 missed window(s)"), std::string::npos) << skipper[1].note;
  EXPECT_EQ(skipper[2].fire_at, kT0 + 13 * 3600);
  EXPECT_EQ(skipper[2].status, "started");

  auto oncer = Fires(canon + "#oncer");
  ASSERT_EQ(oncer.size(), 3u);
  EXPECT_EQ(oncer[0].fire_at, kT0 + 17 * 3600);
  EXPECT_EQ(oncer[1].fire_at, kT0 + 16 * 3600);  // one run for the three missed windows
  EXPECT_EQ(oncer[1].status, "started");
  EXPECT_NE(oncer[1].note.find("one run for 3 missed window(s) from 2026-03-29T14:00Z"), std::string::npos) << oncer[1].note;
  EXPECT_EQ(oncer[2].fire_at, kT0 + 13 * 3600);
  auto st = Open();
  for (const auto& f : oncer) {
    auto run = st->GetRun(f.run_id);
    ASSERT_TRUE(run.ok() && run->has_value()) << f.run_id;
    EXPECT_EQ((*run)->status, "succeeded");
  }
  auto runs = st->ListRuns(100, true);
  EXPECT_EQ(runs->size(), 5u);  // skipper 2, oncer 3

  // `schedules` shows both with their next and last fires.
  char clock[64];
  std::snprintf(clock, sizeof clock, "%.0f:1", kT0 + 17 * 3600 + 60);
  auto env = Env(clock);
  env.insert(env.end(), home.begin(), home.end());
  auto list = RunCli({"schedules", flow, "--json"}, dir_, env);
  ASSERT_EQ(list.code, 0) << list.err;
  json j = json::parse(list.out);
  ASSERT_EQ(j["schedules"].size(), 2u);
  EXPECT_EQ(j["schedules"][0]["name"], "skipper");
  EXPECT_EQ(j["schedules"][0]["next"]["at"], kT0 + 18 * 3600);
  EXPECT_EQ(j["schedules"][0]["last"]["at"], kT0 + 17 * 3600);
  EXPECT_EQ(j["schedules"][0]["last"]["status"], "started");
  EXPECT_EQ(j["schedules"][0]["last"]["run_status"], "succeeded");
  EXPECT_EQ(j["schedules"][1]["catch_up"], "once");
  auto text = RunCli({"schedules", flow}, dir_, env);
  EXPECT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("next: 2026-03-29T18:00:00+00:00"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("last: 2026-03-29T17:00:00+00:00  started  run 20260329-1700-s"), std::string::npos) << text.out;
}

TEST_P(SchedulerE2E, AnEvalSuiteOnAScheduleRunsAsAnEvalRun) {
  std::string src = SW_SOURCE_DIR;
  std::string suite = Write("suite.yaml", "name: nightly-eval\nworkflow: " + src + "/examples/launch/flow.yaml\n" +
                                              "dataset: " + src + "/examples/launch-eval/cases.jsonl\n" +
                                              "schedule: {name: nightly, cron: \"30 2 * * *\", timezone: Europe/Berlin}\n" +
                                              "assert:\n  - {node: draft, contains: Specwright}\n");
  // 2026-03-29 02:30 does not exist in Berlin: the window moves to 03:00 CEST (01:00 UTC).
  char clock[64];
  std::snprintf(clock, sizeof clock, "%.0f:1", kT0 + 3600 + 20);
  auto env = Env(clock);
  env.push_back("HOME=" + dir_ + "/home");
  auto r = RunCli({"scheduler", suite, "--once", "--script", src + "/examples/launch-eval/script.yaml"}, dir_, env);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("fired suite.yaml#nightly for 2026-03-29T01:00Z"), std::string::npos) << r.err;
  WaitQuiet();
  auto fires = Fires(fs::canonical(suite).string() + "#nightly");
  ASSERT_EQ(fires.size(), 1u);
  EXPECT_EQ(fires[0].status, "started");
  auto st = Open();
  auto run = st->GetRun(fires[0].run_id);
  ASSERT_TRUE(run.ok() && run->has_value()) << Slurp(LogDir() + "/" + fires[0].run_id + ".log");
  EXPECT_EQ((*run)->workflow_name, "nightly-eval");
  EXPECT_EQ(json::parse((*run)->options_json).value("kind", ""), "eval");
  EXPECT_NE((*run)->status, "running");
  auto cases = st->ListSubRuns(fires[0].run_id);
  ASSERT_TRUE(cases.ok());
  EXPECT_GE(cases->size(), 5u);  // the suite's five cases (and their judges, if any)
}

// The UI server and a worker fire schedules on a thread, with their --script/--config/--prices
// passed to each run (a scripted model: offline), and each run started in the folder scanned
// (--dir, --schedule-dir): it reads that folder's specwright.yaml (here: the price of the
// scripted model), not the one where the server was started (here one that does not parse).
TEST_P(SchedulerE2E, UiAndWorkerFireSchedulesOnAThread) {
  Write("flow.yaml", kFlow);
  Write("brief.yaml", R"(name: brief
schedule:
  - {name: minutely, cron: "* * * * *"}
nodes:
  brief: {kind: llm, model: scripted/brief, prompt: "Write a brief."}
)");
  std::string script = Write("script.yaml", "latency_ms: 0\nnodes:\n  brief:\n    - {text: all quiet, usage: {input: 20, output: 30}}\n");
  Write("prices.json", R"({"scripted/brief": {"input_cost_per_token": 0.001, "output_cost_per_token": 0.002}})");
  Write("specwright.yaml", "prices: prices.json\n");
  fs::create_directories(dir_ + "/elsewhere");
  Write("elsewhere/specwright.yaml", "providers: [1, 2\n");
  std::string canon = fs::canonical(dir_ + "/flow.yaml").string();
  std::string brief = fs::canonical(dir_ + "/brief.yaml").string() + "#minutely";
  char clock[64];
  std::snprintf(clock, sizeof clock, "%.0f:60", kT0 + 30);
  auto env = Env(clock);
  env.push_back("HOME=" + dir_ + "/home");
  // The UI server on any free port with --scheduler (SQLite or PostgreSQL), started elsewhere,
  // or a worker (a PostgreSQL store only) started in / (a worker reads the specwright.yaml of
  // its own cwd: that one must parse).
  Proc p;
  if (GetParam() == "sqlite") {
    p = Spawn({"ui", "--port", "0", "--dir", dir_, "--scheduler", "--script", "../script.yaml"}, dir_, env,
              dir_ + "/elsewhere");
  } else {
    // The worker looks for schedules below --schedule-dir (started elsewhere: not its cwd).
    p = Spawn({"worker", "--scheduler", "--schedule-dir", dir_, "--poll", "0.2", "--script", script}, dir_, env, "/");
  }
  auto started = [&](const std::string& key) {
    for (const auto& f : Fires(key))
      if (f.status == "started") return true;
    return false;
  };
  for (int i = 0; i < 300 && !(started(canon + "#minutely") && started(brief)); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Signal(p.pid, SIGTERM);
  EXPECT_EQ(Wait(p), 0) << Slurp(p.err_path);
  ASSERT_TRUE(started(canon + "#minutely")) << Slurp(p.err_path);
  ASSERT_TRUE(started(brief)) << Slurp(p.err_path);
  // The test clock announces itself; on PostgreSQL, so do the entries without an id.
  std::string err = Slurp(p.err_path);
  EXPECT_NE(err.find("scheduler: warning: $SPECWRIGHT_SCHEDULER_CLOCK is set"), std::string::npos) << err;
  if (GetParam() == "postgresql")
    EXPECT_NE(err.find("scheduler: warning: schedule " + canon + "#minutely has no id"), std::string::npos) << err;
  WaitQuiet();
  auto st = Open();
  for (const std::string& key : {canon + "#minutely", brief}) {
    SCOPED_TRACE(key);
    auto fires = Fires(key);
    int succeeded = 0;
    for (const auto& f : fires) {
      if (f.status == "skipped") continue;  // windows between two passes (15 s apart, 15 minutes here)
      EXPECT_EQ(f.status, "started") << f.error << Slurp(LogDir() + "/" + f.run_id + ".log");
      auto run = st->GetRun(f.run_id);
      ASSERT_TRUE(run.ok() && run->has_value()) << f.run_id << " " << Slurp(LogDir() + "/" + f.run_id + ".log");
      EXPECT_EQ((*run)->status, "succeeded") << (*run)->error;
      if ((*run)->status != "succeeded") continue;
      ++succeeded;
      // The scripted call, priced by the scanned folder's specwright.yaml: 20 x 0.001 + 30 x 0.002.
      if (key == brief) {
        EXPECT_NEAR((*run)->cost_usd, 0.08, 1e-9) << f.run_id;
      }
    }
    EXPECT_GE(succeeded, 1) << "no fire of " << key << " ran to success";
  }
}

// schedule-fire waits for the run it starts: a run that ends before it is recorded (here a
// provider config that does not parse) leaves a failed fire with the reason, shown by
// `schedules`. The entry has an id: its key is "id:nightly", and schedule-fire finds its file
// by --file. A fire in the future (a clock that was ahead) is reported by `schedules`.
TEST_P(SchedulerE2E, ARunThatEndsBeforeItIsRecordedIsAFailedFire) {
  std::string flow = Write("flow.yaml", R"(name: nightly
schedule:
  - {id: nightly, cron: "0 2 * * *"}
  - {name: later, cron: "0 3 * * *"}
nodes:
  say: {kind: tool, tool: builtin://echo, args: {text: hi}}
)");
  std::string bad = Write("bad-config.yaml", "providers: [1, 2\n");
  char clock[64];
  std::snprintf(clock, sizeof clock, "%.0f:1", kT0 + 2 * 3600 + 10);
  auto env = Env(clock);
  env.push_back("HOME=" + dir_ + "/home");
  env.push_back("XDG_STATE_HOME=");
  auto r = RunCli({"scheduler", flow, "--once", "--config", bad}, dir_, env);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("warning: $SPECWRIGHT_SCHEDULER_CLOCK is set: schedules run on a test clock (now 2026-03-29T02:00Z"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("fired id:nightly for 2026-03-29T02:00Z"), std::string::npos) << r.err;
  WaitQuiet();
  std::vector<sw::store::FireRecord> fires;
  for (int i = 0; i < 100; ++i) {
    fires = Fires("id:nightly");
    if (!fires.empty() && fires[0].status == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(fires.size(), 1u);
  EXPECT_EQ(fires[0].status, "failed") << Slurp(LogDir() + "/" + fires[0].run_id + ".log");
  EXPECT_NE(fires[0].error.find("the run ended before it was recorded (exit 2"), std::string::npos) << fires[0].error;
  auto st = Open();
  auto run = st->GetRun(fires[0].run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_FALSE(run->has_value());
  // A fire of `later` claimed while the clock was a day ahead.
  std::string later = fs::canonical(flow).string() + "#later";
  sw::store::FireRecord ahead;
  ahead.schedule = later;
  ahead.fire_at = kT0 + 86400 + 3 * 3600;
  ahead.status = "skipped";
  ahead.claimed_at = kT0;
  ahead.claimed_by = "test";
  ASSERT_TRUE(st->ClaimFire(ahead).ok());
  auto list = RunCli({"schedules", flow}, dir_, env);
  EXPECT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.out.find("failed  run " + fires[0].run_id + "  the run ended before it was recorded"), std::string::npos)
      << list.out;
  EXPECT_NE(list.err.find("warning: $SPECWRIGHT_SCHEDULER_CLOCK is set"), std::string::npos) << list.err;
  EXPECT_NE(list.err.find("WARNING: the newest fire of " + later + " is at 2026-03-30T03:00:00+00:00"), std::string::npos)
      << list.err;
  auto j = RunCli({"schedules", flow, "--json"}, dir_, env);
  ASSERT_EQ(j.code, 0) << j.err;
  json doc = json::parse(j.out);
  EXPECT_EQ(doc["schedules"][0]["key"], "id:nightly");
  EXPECT_EQ(doc["schedules"][0]["id"], "nightly");
  EXPECT_EQ(doc["schedules"][0]["last"]["status"], "failed");
  EXPECT_GE(doc["warnings"].size(), 2u);
  if (GetParam() == "postgresql") EXPECT_NE(list.err.find("schedule " + later + " has no id"), std::string::npos) << list.err;
  else EXPECT_EQ(list.err.find("has no id"), std::string::npos) << list.err;
}

TEST(SchedulerCli, BadSchedulesAreRefusedWithPositionsAndNothingFires) {
  char tmpl[] = "/tmp/sw_sched_bad.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::ofstream(dir + "/bad.yaml") << "name: bad\nschedule:\n  - cron: \"0 9 * * mon-fry\"\n  - cron: '@daily'\n"
                                      "    timezone: Europe/Nowhere\nnodes:\n  a: {kind: tool, tool: builtin://echo, args: {text: x}}\n";
  auto r = RunCli({"scheduler", dir + "/bad.yaml", "--once", "--store", dir + "/store"}, dir);
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("bad.yaml:3:24: cron \"0 9 * * mon-fry\": unknown name \"fry\" in the day of week field"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("bad.yaml:5:15: unknown time zone \"Europe/Nowhere\""), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/store"));  // refused before the store was opened
  auto v = RunCli({"validate", dir + "/bad.yaml"}, dir);
  EXPECT_NE(v.code, 0);
  EXPECT_NE((v.out + v.err).find("bad.yaml:3:24"), std::string::npos) << v.out << v.err;
  auto clock = RunCli({"schedules", dir + "/bad.yaml"}, dir, {"SPECWRIGHT_SCHEDULER_CLOCK=yesterday"});
  EXPECT_EQ(clock.code, 2);
  EXPECT_NE(clock.err.find("$SPECWRIGHT_SCHEDULER_CLOCK must be SIM_START:SPEED[:REAL_START]"), std::string::npos)
      << clock.err;
  std::ofstream(dir + "/plain.yaml") << "name: plain\nnodes:\n  a: {kind: tool, tool: builtin://echo, args: {text: x}}\n";
  auto none = RunCli({"scheduler", dir + "/plain.yaml", "--once", "--store", dir + "/store"}, dir);
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("plain.yaml:1:1: no `schedule:` in this file"), std::string::npos) << none.err;
  fs::remove_all(dir);
}

}  // namespace
