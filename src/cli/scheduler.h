// The scheduler: finds `schedule:` in workflow files and eval suites, and fires due windows by
// claiming them in the store (store::FireRecord) and starting the run as a process of its own.
// `specwright scheduler` runs it in the foreground; `ui --scheduler` and `worker --scheduler`
// on a thread. See docs/architecture.md, "Schedules".
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <thread>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/store.h"
#include "workflow/schedule.h"
#include "workflow/workflow.h"

namespace sw::cli {

/// SchedulerNow is the time schedules are read at (unix seconds): the system clock, or, for
/// tests and demos, $SPECWRIGHT_SCHEDULER_CLOCK = "SIM_START:SPEED[:REAL_START]": the clock
/// reads SIM_START at the real time REAL_START (default: when the process first asked) and
/// runs SPEED times as fast. Giving REAL_START makes restarted processes share one clock.
/// Only the scheduler and `schedules` read it.
Result<double> SchedulerNow();

/// SchedulerClockWarning is a warning line when $SPECWRIGHT_SCHEDULER_CLOCK is set (the test
/// clock announces itself at every scheduler start and in `schedules`), else "".
std::string SchedulerClockWarning();

/// kFutureFireSlack: a schedule's newest fire further than this (seconds) ahead of now is
/// reported (each tick, and in `schedules`): it was claimed while the clock was wrong, and
/// silences the schedule until real time passes it.
constexpr double kFutureFireSlack = 300;
/// FutureFireWarning is that report: the schedule, its newest fire as `when` shows it, and how
/// far ahead of now it is.
std::string FutureFireWarning(const std::string& key, const std::string& when, double ahead_seconds);

/// HasTopLevelKey says whether text has a line starting with `key` and then `:` (spaces or tabs
/// between): the cheap test that picks the files worth parsing for `schedule:`.
bool HasTopLevelKey(std::string_view text, std::string_view key);

/// FoundSchedule is one schedule entry of one file.
struct FoundSchedule {
  std::string file;  // absolute
  std::string kind;  // "workflow" or "eval"
  workflow::Schedule schedule;
  std::string key;   // workflow::ScheduleKey
};

/// FindSchedules reads `schedule:` from files (each must be a workflow or an eval suite with a
/// schedule) or, when files is empty, from every .yaml/.yml below dir (depth 4; hidden folders
/// and node_modules skipped; files without `schedule:` ignored). Problems go to *errors
/// (file:line:col); a file with problems contributes nothing.
std::vector<FoundSchedule> FindSchedules(const std::vector<std::string>& files, const std::string& dir,
                                         std::vector<workflow::Diagnostic>* errors);

/// SharedStoreWarnings: one warning per schedule without `id:` when the store is PostgreSQL
/// (a path key fires again from a checkout at another path sharing the store).
std::vector<std::string> SharedStoreWarnings(const std::vector<FoundSchedule>& found, const std::string& store_location);

/// FireRunId is the id of the run of a schedule's window: its UTC time and a hash of the key,
/// "20261207-0900-s1a2b3c4d5e" (sortable like other ids; one per window, so a fire claimed but
/// never started is started under the same id by whoever starts it).
std::string FireRunId(const std::string& key, int64_t fire_at);

struct SchedulerOptions {
  std::vector<std::string> files;
  std::string dir = ".";
  double poll = 15;  // real seconds between ticks
  /// The store as the children get it ($SPECWRIGHT_STORE: never on a command line, a URL may
  /// carry a password), the folder for their logs, and flags passed to every run
  /// (--script F, --config F, --prices F).
  std::string store_location;
  std::string log_dir;
  std::vector<std::string> run_flags;
  /// The working directory of every fire (absolute): the folder scanned (`scheduler --dir D`,
  /// `ui --dir D`, `worker --schedule-dir D`; with files named, the scheduler's own), so a run
  /// reads that folder's specwright.yaml unless --config is given. "": the scheduler's.
  std::string work_dir;
  std::string self_exe;
  std::vector<std::string> child_env;  // NAME=value; SPECWRIGHT_STORE is set on top
  /// Where lines go ("fired ...", "skipped ...", errors); default stderr.
  std::function<void(const std::string&)> log;
};

/// Scheduler fires due windows. One tick: rescan the files, start fires left claimed but never
/// started (a scheduler killed between claim and start), then for each schedule claim and start
/// what came due since its last fire, by its catch-up policy.
class Scheduler {
 public:
  Scheduler(store::Store* st, SchedulerOptions options);
  /// Tick does one pass at time now (SchedulerNow()); the errors of a file are logged once.
  Status Tick(double now);
  /// Run ticks until *stop (every options.poll real seconds).
  void Run(const std::atomic<bool>* stop);
  /// How many runs this scheduler started, and how many file problems the last scan found.
  int started() const { return started_; }
  size_t file_errors() const { return last_errors_.size(); }

 private:
  struct State {
    bool known = false;  // last read from the store
    double last = 0;     // the newest window dealt with (fired, skipped or seen as current)
    std::string file;    // where the schedule was last found (passed to schedule-fire)
  };
  void Log(const std::string& line);
  /// Spawn starts `specwright schedule-fire RUN --file FILE` in a session of its own.
  Status Spawn(const std::string& run_id, const std::string& file);
  Status Due(const FoundSchedule& f, State& st, double now);
  void RecoverClaimed(double real_now, bool all);

  store::Store* st_;
  SchedulerOptions o_;
  std::map<std::string, State> state_;
  std::set<std::string> last_errors_;
  std::map<std::string, int> respawns_;  // run id -> times started again after a lost start
  std::vector<int64_t> children_;
  bool recovered_ = false;
  int started_ = 0;
  void MaybeCrash(const char* moment);
  std::string crash_at_;
  int crash_n_ = 0;
};

struct Context;

/// ScheduledRunFlags are the command's --script, --config and --prices as absolute paths, each
/// checked to be a file: what `scheduler`, `ui --scheduler` and `worker --scheduler` pass to
/// every run they start (through `schedule-fire`).
Result<std::vector<std::string>> ScheduledRunFlags(const Context& ctx);

/// StartSchedulerThread runs the scheduler loop on a thread beside a server (`ui --scheduler`,
/// `worker --scheduler`): schedules below dir, the command's store, run_flags for every run
/// (ScheduledRunFlags), each run started in dir; it stops when *stop is set (join the thread
/// then). Lines go to stderr.
std::thread StartSchedulerThread(const Context& ctx, store::Store* st, const std::string& dir,
                                 std::vector<std::string> run_flags, const std::atomic<bool>* stop);

}  // namespace sw::cli
