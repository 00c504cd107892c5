// Subprocess: the one place the process starts other programs. Two shapes: Run (wait for it,
// with a timeout and capped output: shell.run; fork under a guard that dies with us) and
// Child (a long-lived process with pipes: an MCP server over stdio; posix_spawn).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace sw {

/// SpawnOptions says what to start and in what surroundings. The environment is exactly
/// `env` ("NAME=value" entries): nothing is inherited unless the caller copies it, so secrets
/// in our environment do not leak into children by default.
struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is a path, or a bare name looked up in `path`
  std::vector<std::string> env;
  std::string cwd;                // "" : ours
  std::string path = "/usr/local/bin:/usr/bin:/bin";  // where bare names are looked up
};

/// ProcessId is getpid() without a system call per use (one costs ~1 µs on a VM); a forked
/// child sees its own.
pid_t ProcessId();

/// FindProgram resolves a bare program name along a PATH-style list ("" when not found).
std::string FindProgram(const std::string& name, const std::string& path);

struct RunOptions {
  double timeout = 60;          // seconds; the whole process group is killed after it
  size_t max_output = 64 << 10; // bytes kept per stream; the rest is counted and dropped
  std::string stdin_data;
  std::shared_ptr<std::atomic<bool>> cancel;  // set: kill the process group
  // A directory where the group is recorded while it runs (one file per group, removed when
  // the call ends): what a run that died mid-call left running can be found and killed there
  // (KillRecordedGroups) before anything touches the files it was writing. "" : not recorded.
  std::string ledger_dir;
};

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  bool timed_out = false;
  bool cancelled = false;
  std::string out, err;
  size_t out_dropped = 0, err_dropped = 0;  // bytes beyond max_output
  double seconds = 0;
};

/// RunProcess starts argv in its own process group, feeds stdin, captures both streams up to
/// the cap and waits; a non-ok Result means it could not be started at all. The group is led
/// by a guard that kills it when we die (PR_SET_PDEATHSIG), SIGKILL included, so nothing it
/// started keeps writing after us. The calling thread must outlive the call (it does: Run
/// waits), because the kernel ties the death signal to the thread that forked.
Result<RunResult> RunProcess(const SpawnOptions& spawn, const RunOptions& options);

/// KillRecordedGroups SIGKILLs every process still in a group recorded in ledger_dir (by a
/// RunProcess whose caller died before the call ended: the guard normally does this, but a
/// guard can be killed too) and waits up to wait_seconds for them to be gone, so the caller can
/// reset the files they were writing. A record names the group's id, its leader's start time
/// and the boot: a process counts only when it is in that group and started no earlier than
/// the leader, on the same boot, so an id reused since is never hit. Returns how many
/// processes it killed; an error when some survive the wait (a process stuck in the kernel).
Result<int> KillRecordedGroups(const std::string& ledger_dir, double wait_seconds = 5);

/// SpawnDetached starts argv in a session of its own, outliving us: stdin is /dev/null and
/// stdout and stderr append to log_path. The caller reaps it with ReapIfExited.
Result<pid_t> SpawnDetached(const SpawnOptions& spawn, const std::string& log_path);
/// ProcessRunning says whether pid is a live process (a zombie that nobody reaped is not).
bool ProcessRunning(int64_t pid);
/// ReapIfExited collects pid's exit status without blocking; true once it has ended.
bool ReapIfExited(pid_t pid);

/// Child is a running process with its stdin and stdout as pipes (stderr goes to a bounded
/// ring kept for error messages). Destroying it closes stdin, waits briefly, then kills.
class Child {
 public:
  static Result<std::unique_ptr<Child>> Start(const SpawnOptions& spawn);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Write sends bytes to the child's stdin (blocking until written or the pipe breaks).
  Status Write(std::string_view data);
  /// ReadSome blocks up to timeout seconds for stdout bytes; "" with ok means timeout, and
  /// kNotFound (with the exit status in the message) means the child closed stdout.
  Result<std::string> ReadSome(double timeout);
  /// Alive polls without blocking.
  bool Alive();
  /// ExitDescription is "exited with status N" / "killed by signal N" once it has ended.
  std::string ExitDescription();
  /// StderrTail is the last bytes the child wrote to stderr.
  std::string StderrTail();
  void Kill();
  pid_t pid() const { return pid_; }

 private:
  Child() = default;
  void DrainStderr();
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  std::string err_tail_;
};

}  // namespace sw
