// Helpers for end-to-end tests: run the real `specwright` binary as a subprocess with its
// output in files, and read them back.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "../isolated_env.h"  // the binary never sees the developer's HOME, config or git identity

extern char** environ;

namespace e2e {

struct Proc {
  pid_t pid = -1;
  std::string out_path, err_path;
};

/// ExecArgs is a program's argv and envp, owned, ready for posix_spawn or execve (made before
/// a fork: the child then calls nothing that allocates).
struct ExecArgs {
  std::vector<std::string> args, vars;
  std::vector<char*> argv, envp;
};

/// MakeExecArgs is bin with args, in the inherited environment less the variables drop says,
/// with env's variables replacing inherited ones of the same name (getenv finds the first).
inline ExecArgs MakeExecArgs(const std::string& bin, const std::vector<std::string>& args,
                             const std::vector<std::string>& env,
                             const std::function<bool(const std::string&)>& drop = nullptr) {
  ExecArgs x;
  x.args = {bin};
  x.args.insert(x.args.end(), args.begin(), args.end());
  for (char** e = environ; *e; ++e) {
    std::string var(*e);
    bool replaced = drop && drop(var);
    for (const auto& v : env) replaced = replaced || var.compare(0, var.find('=') + 1, v, 0, v.find('=') + 1) == 0;
    if (!replaced) x.vars.push_back(std::move(var));
  }
  x.vars.insert(x.vars.end(), env.begin(), env.end());
  for (auto& a : x.args) x.argv.push_back(a.data());
  x.argv.push_back(nullptr);
  for (auto& v : x.vars) x.envp.push_back(v.data());
  x.envp.push_back(nullptr);
  return x;
}

/// Spawn starts the binary with args; stdout/stderr go to files in dir; extra env is appended;
/// cwd, when given, is its working directory (else the test's).
inline Proc Spawn(const std::vector<std::string>& args, const std::string& dir, const std::vector<std::string>& env = {},
                  const std::string& cwd = "") {
  static int n = 0;
  Proc p;
  p.out_path = dir + "/out" + std::to_string(n) + ".txt";
  p.err_path = dir + "/err" + std::to_string(n++) + ".txt";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, p.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, p.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  ExecArgs x = MakeExecArgs(SW_BINARY, args, env);
  int rc = posix_spawn(&p.pid, SW_BINARY, &fa, nullptr, x.argv.data(), x.envp.data());
  posix_spawn_file_actions_destroy(&fa);
  EXPECT_EQ(rc, 0);
  return p;
}

inline int Wait(const Proc& p) {
  int status = 0;
  waitpid(p.pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

inline std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct Result {
  int code;
  std::string out, err;
};

inline Result RunCli(const std::vector<std::string>& args, const std::string& dir, const std::vector<std::string>& env = {}) {
  Proc p = Spawn(args, dir, env);
  int code = Wait(p);
  return Result{code, Slurp(p.out_path), Slurp(p.err_path)};
}

/// FakeLlm runs specwright-fakellm (a real HTTP server on 127.0.0.1) for the test's life;
/// url is its base URL, read from the first line it prints.
class FakeLlm {
 public:
  explicit FakeLlm(const std::vector<std::string>& args = {}) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      std::vector<std::string> all = {SW_FAKELLM};
      all.insert(all.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(SW_FAKELLM, argv.data());
      _exit(127);
    }
    close(fds[1]);
    char buf[256];
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    url = std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
    while (!url.empty() && url.back() == '\n') url.pop_back();
  }
  ~FakeLlm() { Stop(); }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  FakeLlm(const FakeLlm&) = delete;
  FakeLlm& operator=(const FakeLlm&) = delete;
  std::string url;

 private:
  pid_t pid_ = -1;
};

}  // namespace e2e
