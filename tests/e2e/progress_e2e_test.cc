// End-to-end: the progress display of the real `specwright run` under a real pseudo-terminal
// (forkpty, 60 columns): colour on a terminal and none with NO_COLOR or --no-color, elapsed
// from the run's start, nodes in flight counted as running, counts that never go backwards
// in a loop, a bar for a map's items, no line wider than the terminal; and no escape byte at
// all when stderr is not a terminal.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace {

namespace fs = std::filesystem;

constexpr int kCols = 60;

struct PtyRun {
  int code = -1;
  std::string term;  // everything written to the terminal (stderr; stdout goes to a file)
  std::string out;
};

/// RunOnPty runs the binary with stdin and stderr on a pseudo-terminal of kCols columns (its
/// stdout to a file) and reads what the terminal shows until the process ends.
PtyRun RunOnPty(const std::vector<std::string>& args, const std::string& dir, const std::vector<std::string>& env) {
  PtyRun r;
  struct winsize ws {};
  ws.ws_row = 24;
  ws.ws_col = kCols;
  int master = -1;
  std::string out_path = dir + "/pty_out.txt";
  // Everything the child needs is made before fork: only async-signal-safe calls after it.
  std::vector<std::string> vars = {"TERM=xterm-256color"};
  vars.insert(vars.end(), env.begin(), env.end());
  e2e::ExecArgs x = e2e::MakeExecArgs(SW_BINARY, args, vars, [](const std::string& v) {
    return v.rfind("NO_COLOR=", 0) == 0 || v.rfind("COLUMNS=", 0) == 0;
  });
  pid_t pid = forkpty(&master, nullptr, nullptr, &ws);
  if (pid == 0) {
    int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) dup2(fd, 1);
    if (::chdir(dir.c_str()) != 0) _exit(126);
    execve(SW_BINARY, x.argv.data(), x.envp.data());
    _exit(127);
  }
  EXPECT_GT(pid, 0);
  if (pid <= 0) return r;
  char buf[4096];
  for (;;) {
    struct pollfd p {master, POLLIN, 0};
    int n = poll(&p, 1, 30000);
    if (n <= 0) break;  // 30 s without output: give up (the test fails on what it got)
    ssize_t got = read(master, buf, sizeof buf);
    if (got <= 0) break;  // EIO: the child's side closed
    r.term.append(buf, static_cast<size_t>(got));
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = e2e::Slurp(out_path);
  return r;
}

/// StripEscapes drops CSI sequences (colours, erase line).
std::string StripEscapes(const std::string& s) {
  static const std::regex kCsi("\x1b\\[[0-9;?]*[A-Za-z]");
  return std::regex_replace(s, kCsi, "");
}

/// Cells counts the columns of a line: one per UTF-8 character.
int Cells(const std::string& s) {
  int n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

/// Pieces splits terminal output at \r and \n: each piece is one drawing of a line.
std::vector<std::string> Pieces(const std::string& term) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : term) {
    if (c == '\r' || c == '\n') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

/// Status is a parsed status line: "[done/total] N running ... elapsed".
struct Status {
  int done = 0, total = 0, running = 0;
  double elapsed = -1;
  std::string text;
};

std::vector<Status> StatusLines(const std::string& term) {
  static const std::regex kHead(R"(^\[(\d+)/(\d+)\] (\d+) running)");
  static const std::regex kElapsed(R"((?:(\d+)m)?(\d+)s$)");
  std::vector<Status> out;
  for (const auto& piece : Pieces(StripEscapes(term))) {
    std::smatch m;
    if (!std::regex_search(piece, m, kHead)) continue;
    Status s;
    s.done = std::stoi(m[1]);
    s.total = std::stoi(m[2]);
    s.running = std::stoi(m[3]);
    s.text = piece;
    if (std::regex_search(piece, m, kElapsed)) s.elapsed = (m[1].matched ? 60 * std::stoi(m[1]) : 0) + std::stoi(m[2]);
    out.push_back(s);
  }
  return out;
}

class ProgressE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_progress_XXXXXX";
    dir_ = mkdtemp(tmpl);
    // A slow node beside a map of 8 items (2 at a time) and a loop that goes round 3 times.
    std::ofstream(dir_ + "/flow.yaml") << R"(name: tty
defaults: {model: scripted/m}
nodes:
  list: {output: json, prompt: "l"}
  slow: {prompt: "s"}
  each: {needs: [list], map: {over: nodes.list.json, as: x, max_parallel: 2}, prompt: "{{x}}"}
  dev: {needs: [each], prompt: "d"}
  review: {needs: [dev], output: json, prompt: "r", loop: {to: dev, while: "!nodes.review.json.approved", max_iterations: 5}}
)";
    std::ofstream(dir_ + "/script.yaml") << R"(latency_ms: 80
prices: {scripted/m: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}}
nodes:
  list: [{text: "[1, 2, 3, 4, 5, 6, 7, 8]"}]
  slow: [{text: slow, latency_ms: 1500}]
  review:
    - {when: {iteration: 2}, json: {approved: true}}
    - {json: {approved: false}}
  "*": [{text: done}]
)";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> Args(const std::string& store) {
    return {"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--store", dir_ + "/" + store};
  }
  std::string dir_;
};

TEST_F(ProgressE2E, OnATerminalTheStatusLineIsColouredTrueAndFitsTheWidth) {
  PtyRun r = RunOnPty(Args("s1"), dir_, {});
  ASSERT_EQ(r.code, 0) << r.term << r.out;
  EXPECT_NE(r.out.find("succeeded"), std::string::npos) << r.out;
  // Colour: "ok" in green, the counts in bold.
  EXPECT_NE(r.term.find("\x1b[32mok"), std::string::npos) << r.term;
  EXPECT_NE(r.term.find("\x1b[1m["), std::string::npos) << r.term;
  auto lines = StatusLines(r.term);
  ASSERT_GT(lines.size(), 5u) << StripEscapes(r.term);
  // Elapsed is from the run's start (it once showed the machine's uptime).
  ASSERT_GE(lines.front().elapsed, 0) << lines.front().text;
  EXPECT_LT(lines.front().elapsed, 10) << lines.front().text;
  int most_running = 0;
  bool bar = false, loop = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& s = lines[i];
    EXPECT_EQ(s.total, 5) << s.text;
    most_running = std::max(most_running, s.running);
    if (i > 0) {
      EXPECT_GE(s.done, lines[i - 1].done) << "went backwards: " << lines[i - 1].text << " -> " << s.text;
    }
    // A map in flight: its bar and item counts.
    bar |= std::regex_search(s.text, std::regex("map each ▕[█░]+▏ [0-8]/8"));
    loop |= s.text.find("loop review 2/5") != std::string::npos;
  }
  // slow runs for 1.5 s beside the others: a line shows it and another node in flight.
  EXPECT_GE(most_running, 2);
  EXPECT_TRUE(bar) << StripEscapes(r.term);
  EXPECT_TRUE(loop) << StripEscapes(r.term);
  // No line is wider than the terminal.
  for (const auto& piece : Pieces(StripEscapes(r.term))) EXPECT_LE(Cells(piece), kCols) << piece;
}

TEST_F(ProgressE2E, NoColourWithNoColorOrTheFlagOnlyLineControl) {
  for (int k = 0; k < 2; ++k) {
    PtyRun r = k == 0 ? RunOnPty(Args("s2"), dir_, {"NO_COLOR=1"})
                      : [&] {
                          auto a = Args("s3");
                          a.push_back("--no-color");
                          return RunOnPty(a, dir_, {});
                        }();
    ASSERT_EQ(r.code, 0) << r.term << r.out;
    ASSERT_FALSE(StatusLines(r.term).empty()) << r.term;
    // The only escape left is the line control that redraws the status line.
    std::string rest = r.term;
    for (size_t at; (at = rest.find("\x1b[K")) != std::string::npos;) rest.erase(at, 3);
    EXPECT_EQ(rest.find('\x1b'), std::string::npos) << (k == 0 ? "NO_COLOR=1: " : "--no-color: ") << rest;
  }
}

TEST_F(ProgressE2E, NotATerminalPlainLinesWithoutEscapes) {
  e2e::Result r = e2e::RunCli(Args("s4"), dir_);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.err.find("  ok      review#3"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
}

}  // namespace
