#include "base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <mutex>
#include <set>
#include <thread>

#include "base/strings.h"

namespace sw {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

constexpr size_t kStderrTail = 8 << 10;

struct Pipes {
  int fds[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
  ~Pipes() {
    for (auto& p : fds)
      for (int& fd : p)
        if (fd >= 0) ::close(fd);
  }
  bool Open() {
    for (auto& p : fds)
      if (::pipe2(p, O_CLOEXEC) != 0) return false;
    return true;
  }
  int Take(int i, int end) {
    int fd = fds[i][end];
    fds[i][end] = -1;
    return fd;
  }
};

/// SpawnWith starts o.argv with the given stdio actions: in a new process group (so a timeout
/// kills what it started too: make -> cc -> ...), or with new_session in a session of its own
/// (a Ctrl-C in our terminal does not reach it); default signal handling whatever we block.
/// It consumes fa.
Result<pid_t> SpawnWith(const SpawnOptions& o, posix_spawn_file_actions_t* fa, bool new_session) {
  std::string prog = o.argv.empty() ? "" : o.argv[0];
  if (!prog.empty() && prog.find('/') == std::string::npos) prog = FindProgram(prog, o.path);
  if (o.argv.empty() || o.argv[0].empty() || prog.empty()) {
    posix_spawn_file_actions_destroy(fa);
    if (o.argv.empty() || o.argv[0].empty()) return InvalidInput("no program to run");
    return NotFound("program " + Quote(o.argv[0]) + " not found in " + o.path);
  }
  // Nothing else of ours (sockets of model calls, the store) reaches the child.
  posix_spawn_file_actions_addclosefrom_np(fa, 3);
  if (!o.cwd.empty()) posix_spawn_file_actions_addchdir_np(fa, o.cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (new_session) {
    flags |= POSIX_SPAWN_SETSID;
  } else {
    posix_spawnattr_setpgroup(&attr, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attr, flags);
  std::vector<char*> argv, envp;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : o.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, prog.c_str(), fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Failed("cannot start " + Quote(o.argv[0]) + ": " + std::strerror(rc));
  return pid;
}

/// Spawn starts the child in a new process group with the three pipe ends as stdio.
Result<pid_t> Spawn(const SpawnOptions& o, Pipes& p) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p.fds[0][0], 0);
  posix_spawn_file_actions_adddup2(&fa, p.fds[1][1], 1);
  posix_spawn_file_actions_adddup2(&fa, p.fds[2][1], 2);
  return SpawnWith(o, &fa, false);
}

/// KillGroup is the guard's SIGTERM handler: every process of its group dies, the guard too.
void KillGroup(int) { ::kill(0, SIGKILL); }

/// SpawnGuarded starts o.argv under a guard: a fork of ours that leads a new process group,
/// asks the kernel for SIGTERM when we die (PR_SET_PDEATHSIG), then forks and execs the
/// program in its group and waits for it, exiting as it exited. If we die — SIGKILL
/// included — the guard's handler kills the whole group: make, cc and whatever they started
/// stop writing into a workspace a resume is about to reset. Between fork and exec only
/// async-signal-safe calls are made (we are multithreaded). The returned pid is the guard's,
/// which is also the group's id, so a timeout's kill(-pid) still reaches everything.
Result<pid_t> SpawnGuarded(const SpawnOptions& o, Pipes& p) {
  std::string prog = o.argv.empty() ? "" : o.argv[0];
  if (!prog.empty() && prog.find('/') == std::string::npos) prog = FindProgram(prog, o.path);
  if (o.argv.empty() || o.argv[0].empty()) return InvalidInput("no program to run");
  if (prog.empty()) return NotFound("program " + Quote(o.argv[0]) + " not found in " + o.path);
  if (::access(prog.c_str(), X_OK) != 0) return Failed("cannot start " + Quote(o.argv[0]) + ": " + std::strerror(errno));
  std::vector<char*> argv, envp;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : o.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const char* cwd = o.cwd.empty() ? nullptr : o.cwd.c_str();
  pid_t parent = ::getpid();
  int in = p.fds[0][0], out = p.fds[1][1], err = p.fds[2][1];
  pid_t guard = ::fork();
  if (guard < 0) return Failed(std::string("fork: ") + std::strerror(errno));
  if (guard == 0) {
    ::setpgid(0, 0);
    struct sigaction sa {};
    sa.sa_handler = KillGroup;
    ::sigaction(SIGTERM, &sa, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) KillGroup(0);  // we died before the request took
    if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(127);
    ::closefrom(3);  // nothing else of ours (sockets of model calls, the store) stays open
    pid_t worker = ::fork();
    if (worker < 0) ::_exit(127);
    if (worker == 0) {
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
      ::prctl(PR_SET_PDEATHSIG, 0);
      // Only write(2) to say why: the message reaches the call's stderr.
      static const char kNoDir[] = "specwright: cannot enter the working directory\n";
      static const char kNoExec[] = "specwright: cannot execute the program\n";
      if (cwd && ::chdir(cwd) != 0) {
        (void)!::write(2, kNoDir, sizeof kNoDir - 1);
        ::_exit(127);
      }
      ::execve(prog.c_str(), argv.data(), envp.data());
      (void)!::write(2, kNoExec, sizeof kNoExec - 1);
      ::_exit(127);
    }
    int st = 0;
    while (::waitpid(worker, &st, 0) < 0) {
      if (errno != EINTR) ::_exit(127);
    }
    if (WIFEXITED(st)) ::_exit(WEXITSTATUS(st));
    // Killed by a signal: die of the same one, so our parent sees what the program saw.
    int sig = WTERMSIG(st);
    ::prctl(PR_SET_PDEATHSIG, 0);
    ::prctl(PR_SET_DUMPABLE, 0);  // no core file of our copy of the engine for a SIGSEGV there
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(sig, &dfl, nullptr);
    ::kill(::getpid(), sig);
    ::_exit(128 + sig);
  }
  // The group exists before we signal it (a timeout within microseconds).
  ::setpgid(guard, guard);
  return guard;
}

void Append(std::string* s, size_t* dropped, const char* data, size_t n, size_t cap) {
  size_t room = s->size() < cap ? cap - s->size() : 0;
  size_t take = std::min(room, n);
  s->append(data, take);
  *dropped += n - take;
}

}  // namespace

std::string FindProgram(const std::string& name, const std::string& path) {
  for (const auto& dir : Split(path, ':')) {
    if (dir.empty()) continue;
    std::string p = dir + "/" + name;
    struct stat st;
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

namespace {

std::string BootId() {
  std::ifstream f("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(f, id);
  return id;
}

/// ProcStat reads a process's group and start time (clock ticks since boot) from
/// /proc/PID/stat; false when it is gone or a zombie (dead, only not yet reaped).
bool ProcStat(pid_t pid, pid_t* pgrp, unsigned long long* start) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return false;
  size_t close = line.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  // Fields after the name: 3 state, 4 ppid, 5 pgrp, ..., 22 starttime.
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 3 && (field == "Z" || field == "X")) return false;
    if (i == 5) *pgrp = static_cast<pid_t>(std::strtol(field.c_str(), nullptr, 10));
    if (i == 22) {
      *start = std::strtoull(field.c_str(), nullptr, 10);
      return true;
    }
  }
  return false;
}

/// Ledger records a running group in RunOptions::ledger_dir and removes the record when done.
class Ledger {
 public:
  Ledger(const std::string& dir, pid_t group) {
    if (dir.empty()) return;
    pid_t pgrp = 0;
    unsigned long long start = 0;
    if (!ProcStat(group, &pgrp, &start)) return;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    path_ = dir + "/" + std::to_string(group);
    std::ofstream(path_) << BootId() << " " << start << "\n";
  }
  ~Ledger() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove(path_, ec);
  }

 private:
  std::string path_;
};

}  // namespace

Result<int> KillRecordedGroups(const std::string& ledger_dir, double wait_seconds) {
  std::error_code ec;
  if (ledger_dir.empty() || !std::filesystem::is_directory(ledger_dir, ec)) return 0;
  std::string boot = BootId();
  struct Group {
    pid_t id;
    unsigned long long start;
    std::string record;
  };
  std::vector<Group> groups;
  for (const auto& e : std::filesystem::directory_iterator(ledger_dir, ec)) {
    std::string name = e.path().filename().string();
    char* end = nullptr;
    long id = std::strtol(name.c_str(), &end, 10);
    std::ifstream f(e.path());
    std::string b;
    unsigned long long start = 0;
    if (id > 1 && *end == '\0' && (f >> b >> start) && b == boot) groups.push_back({static_cast<pid_t>(id), start, e.path().string()});
    else std::filesystem::remove(e.path(), ec);  // another boot's, or not a record
  }
  // A group whose leader's pid now belongs to a process started at another time was gone
  // entirely (Linux does not reuse a pid while a group of that id exists): the id is someone
  // else's now.
  std::erase_if(groups, [&](const Group& g) {
    pid_t pgrp = 0;
    unsigned long long start = 0;
    bool reused = ProcStat(g.id, &pgrp, &start) && start != g.start;
    if (reused) std::filesystem::remove(g.record, ec);
    return reused;
  });
  if (groups.empty()) return 0;
  // The members: every process of ours in a recorded group that started no earlier than its
  // leader.
  uid_t me = ::getuid();
  auto members = [&] {
    std::vector<pid_t> found;
    std::error_code ec2;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec2)) {
      std::string name = e.path().filename().string();
      if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
      pid_t pid = static_cast<pid_t>(std::strtol(name.c_str(), nullptr, 10));
      pid_t pgrp = 0;
      unsigned long long start = 0;
      struct stat st {};
      if (!ProcStat(pid, &pgrp, &start) || ::stat(e.path().c_str(), &st) != 0 || st.st_uid != me) continue;
      for (const auto& g : groups)
        if (pgrp == g.id && start >= g.start) found.push_back(pid);
    }
    return found;
  };
  std::set<pid_t> killed;
  double deadline = Now() + wait_seconds;
  for (;;) {
    auto left = members();
    if (left.empty()) break;
    for (pid_t pid : left)
      if (::kill(pid, SIGKILL) == 0) killed.insert(pid);
    if (Now() > deadline)
      return Failed(std::to_string(left.size()) + " process(es) of a recorded group survived SIGKILL for " +
                    std::to_string(static_cast<int>(wait_seconds)) + " s (first pid " + std::to_string(left[0]) + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const auto& g : groups) std::filesystem::remove(g.record, ec);
  return static_cast<int>(killed.size());
}

namespace {
std::atomic<pid_t> cached_pid{0};
void ForgetPid() { cached_pid.store(0, std::memory_order_relaxed); }
}  // namespace

pid_t ProcessId() {
  pid_t p = cached_pid.load(std::memory_order_relaxed);
  if (p != 0) return p;
  static const bool registered = [] { return ::pthread_atfork(nullptr, nullptr, ForgetPid) == 0; }();
  (void)registered;
  p = ::getpid();
  cached_pid.store(p, std::memory_order_relaxed);
  return p;
}

Result<RunResult> RunProcess(const SpawnOptions& spawn, const RunOptions& options) {
  Pipes p;
  if (!p.Open()) return Failed(std::string("pipe: ") + std::strerror(errno));
  SW_ASSIGN_OR_RETURN(pid_t pid, SpawnGuarded(spawn, p));
  Ledger ledger(options.ledger_dir, pid);
  ::close(p.Take(0, 0));
  ::close(p.Take(1, 1));
  ::close(p.Take(2, 1));
  int in = p.Take(0, 1), out = p.Take(1, 0), err = p.Take(2, 0);
  for (int fd : {in, out, err}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  RunResult r;
  double t0 = Now();
  size_t in_pos = 0;
  if (options.stdin_data.empty()) {
    ::close(in);
    in = -1;
  }
  char buf[16384];
  bool killed = false;
  double killed_at = 0;
  while (out >= 0 || err >= 0) {
    double elapsed = Now() - t0;
    bool cancel = options.cancel && options.cancel->load();
    if (!killed && ((options.timeout > 0 && elapsed > options.timeout) || cancel)) {
      ::kill(-pid, SIGKILL);
      killed = true;
      killed_at = Now();
      r.timed_out = !cancel;
      r.cancelled = cancel;
    }
    // A descendant that left the process group (setsid) may hold the pipes open forever;
    // a second after the kill, stop listening to it.
    if (killed && Now() - killed_at > 1.0) {
      if (out >= 0) ::close(out);
      if (err >= 0) ::close(err);
      out = err = -1;
      break;
    }
    pollfd fds[3];
    int n = 0;
    int io[3] = {-1, -1, -1};
    if (out >= 0) fds[n] = {out, POLLIN, 0}, io[n++] = 1;
    if (err >= 0) fds[n] = {err, POLLIN, 0}, io[n++] = 2;
    if (in >= 0) fds[n] = {in, POLLOUT, 0}, io[n++] = 0;
    int rc = ::poll(fds, n, 50);
    if (rc < 0 && errno != EINTR) break;
    for (int i = 0; i < n && rc > 0; ++i) {
      if (!fds[i].revents) continue;
      if (io[i] == 0) {
        ssize_t w = ::write(in, options.stdin_data.data() + in_pos, options.stdin_data.size() - in_pos);
        if (w > 0) in_pos += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) in_pos = options.stdin_data.size();
        if (in_pos >= options.stdin_data.size()) {
          ::close(in);
          in = -1;
        }
        continue;
      }
      int& fd = io[i] == 1 ? out : err;
      ssize_t got = ::read(fd, buf, sizeof buf);
      if (got > 0) {
        if (io[i] == 1) Append(&r.out, &r.out_dropped, buf, static_cast<size_t>(got), options.max_output);
        else Append(&r.err, &r.err_dropped, buf, static_cast<size_t>(got), options.max_output);
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        ::close(fd);
        fd = -1;
      }
    }
  }
  if (in >= 0) ::close(in);
  int status = 0;
  // Output closed: the child is ending; a grandchild holding the pipes was killed with the group.
  for (;;) {
    // Seen exited but not yet reaped: its pid, the group's id, stays ours until waitpid, so the
    // group's leftovers (a background job that let go of the pipes) are killed without any
    // risk of hitting a group that reused the id.
    siginfo_t info{};
    int wr = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (wr == 0 && info.si_pid == pid) {
      ::kill(-pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    if (wr < 0 && errno != EINTR) break;
    double elapsed = Now() - t0;
    if (!killed && ((options.timeout > 0 && elapsed > options.timeout) || (options.cancel && options.cancel->load()))) {
      ::kill(-pid, SIGKILL);
      killed = true;
      r.timed_out = !(options.cancel && options.cancel->load());
      r.cancelled = !r.timed_out;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (killed) ::kill(-pid, SIGKILL);  // whatever is left of the group
  r.seconds = Now() - t0;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

Result<pid_t> SpawnDetached(const SpawnOptions& o, const std::string& log_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  return SpawnWith(o, &fa, true);
}

bool ProcessRunning(int64_t pid) {
  if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) != 0) return false;
  // "PID (comm) S ...": the state follows the last ')' (comm may hold spaces and parens).
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return true;
  char buf[512];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* close = std::strrchr(buf, ')');
  return !(close && close[1] == ' ' && (close[2] == 'Z' || close[2] == 'X'));
}

bool ReapIfExited(pid_t pid) {
  int status = 0;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  return r == pid || (r < 0 && errno == ECHILD);
}

Result<std::unique_ptr<Child>> Child::Start(const SpawnOptions& spawn) {
  // A write to a child that just died must be an error (EPIPE), not a signal that kills us.
  static std::once_flag once;
  std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
  Pipes p;
  if (!p.Open()) return Failed(std::string("pipe: ") + std::strerror(errno));
  SW_ASSIGN_OR_RETURN(pid_t pid, Spawn(spawn, p));
  std::unique_ptr<Child> c(new Child());
  c->pid_ = pid;
  ::close(p.Take(0, 0));
  ::close(p.Take(1, 1));
  ::close(p.Take(2, 1));
  c->in_ = p.Take(0, 1);
  c->out_ = p.Take(1, 0);
  c->err_ = p.Take(2, 0);
  ::fcntl(c->err_, F_SETFL, ::fcntl(c->err_, F_GETFL) | O_NONBLOCK);
  ::fcntl(c->out_, F_SETFL, ::fcntl(c->out_, F_GETFL) | O_NONBLOCK);
  return c;
}

Child::~Child() {
  if (in_ >= 0) ::close(in_);
  in_ = -1;
  // A well-behaved server exits when its stdin closes; give it a moment, then kill.
  for (int i = 0; i < 20 && Alive(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  Kill();
  if (out_ >= 0) ::close(out_);
  if (err_ >= 0) ::close(err_);
}

Status Child::Write(std::string_view data) {
  if (in_ < 0) return Status(Code::kUnavailable, "stdin is closed");
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::write(in_, data.data() + off, data.size() - off);
    if (w > 0) {
      off += static_cast<size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else {
      return Status(Code::kUnavailable, std::string("writing to the process: ") + std::strerror(errno));
    }
  }
  return Status::Ok();
}

void Child::DrainStderr() {
  if (err_ < 0) return;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(err_, buf, sizeof buf);
    if (n > 0) {
      err_tail_.append(buf, static_cast<size_t>(n));
      if (err_tail_.size() > kStderrTail) err_tail_.erase(0, err_tail_.size() - kStderrTail);
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      ::close(err_);
      err_ = -1;
    }
    return;
  }
}

Result<std::string> Child::ReadSome(double timeout) {
  double deadline = Now() + timeout;
  char buf[65536];
  for (;;) {
    if (out_ < 0) return NotFound("the process closed its output (" + ExitDescription() + ")");
    pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    int n = err_ >= 0 ? 2 : 1;
    int wait_ms = static_cast<int>(std::max(0.0, deadline - Now()) * 1000);
    int rc = ::poll(fds, n, std::min(wait_ms, 100));
    if (rc < 0 && errno != EINTR) return Failed(std::string("poll: ") + std::strerror(errno));
    if (n == 2 && fds[1].revents) DrainStderr();
    if (fds[0].revents) {
      ssize_t got = ::read(out_, buf, sizeof buf);
      if (got > 0) return std::string(buf, static_cast<size_t>(got));
      if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        ::close(out_);
        out_ = -1;
        DrainStderr();
        continue;
      }
    }
    if (Now() >= deadline) return std::string();
  }
}

bool Child::Alive() {
  if (reaped_) return false;
  pid_t w = ::waitpid(pid_, &status_, WNOHANG);
  if (w == pid_) reaped_ = true;
  return !reaped_;
}

std::string Child::ExitDescription() {
  for (int i = 0; i < 50 && Alive(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (!reaped_) return "still running";
  if (WIFEXITED(status_)) return "exited with status " + std::to_string(WEXITSTATUS(status_));
  if (WIFSIGNALED(status_)) return "killed by signal " + std::to_string(WTERMSIG(status_));
  return "ended";
}

std::string Child::StderrTail() {
  DrainStderr();
  return err_tail_;
}

void Child::Kill() {
  if (!Alive()) return;
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, &status_, 0);
  reaped_ = true;
}

}  // namespace sw
