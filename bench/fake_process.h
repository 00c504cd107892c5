// FakeProcess runs specwright-fakellm as a process of its own (so a benchmark's memory
// figures are the client's alone), reads the base URL it prints first, and stops it at the end.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

struct FakeProcess {
  pid_t pid = -1;
  std::string url;  // empty when it did not start
  explicit FakeProcess(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid = fork();
    if (pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      std::vector<char*> argv{const_cast<char*>(SW_FAKELLM)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(SW_FAKELLM, argv.data());
      _exit(127);
    }
    close(fds[1]);
    char buf[256];
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    if (n > 0) {
      url.assign(buf, static_cast<size_t>(n));
      while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) url.pop_back();
    }
  }
  ~FakeProcess() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
  FakeProcess(const FakeProcess&) = delete;
  FakeProcess& operator=(const FakeProcess&) = delete;
};
