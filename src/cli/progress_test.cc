// The progress display's lines: what a terminal and a log get, colour rules, and the status
// line's width (the real binary under a pseudo-terminal is tests/e2e/progress_e2e_test.cc).
#include "cli/progress.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <regex>
#include <string>

namespace sw::cli {
namespace {

int Cells(const std::string& s) {
  int n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Strip(const std::string& s) { return std::regex_replace(s, std::regex("\x1b\\[[0-9;]*[A-Za-z]"), ""); }

engine::Progress Busy() {
  engine::Progress p;
  p.total = 8;
  p.done = 3;
  p.running = 2;
  p.tokens = 12345;
  p.cost_usd = 0.0123;
  p.maps.push_back({"summarize", 37, 4, 100});
  return p;
}

/// Capture is a FILE* writing to memory.
struct Capture {
  char* buf = nullptr;
  size_t size = 0;
  FILE* f = open_memstream(&buf, &size);
  ~Capture() {
    if (f) std::fclose(f);
    std::free(buf);
  }
  std::string Text() {
    std::fflush(f);
    return std::string(buf, size);
  }
};

TEST(ProgressTest, StatusLineShowsCountsRunningAMapBarSpendAndElapsed) {
  Capture c;
  ProgressDisplay d(c.f, DisplayOptions{true, false, 100});
  std::string line = d.StatusLine(Busy(), 65.2);
  EXPECT_EQ(line, "[3/8] 2 running  map summarize ▕███████░░░░░░░░░░░░░▏ 37/100  12.3k tok  $0.01  1m05s");
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
}

TEST(ProgressTest, StatusLineIsNeverWiderThanTheTerminal) {
  for (int width : {20, 40, 60, 80, 200}) {
    for (bool color : {false, true}) {
      Capture c;
      ProgressDisplay d(c.f, DisplayOptions{true, color, width});
      engine::Progress p = Busy();
      p.failed = 1;
      p.skipped = 2;
      p.waiting = 1;
      p.maps.push_back({"a_node_with_a_rather_long_name_indeed", 1, 1, 3});
      p.loops.push_back({"review", 2, 5});
      d.SetPhase("architecture", 5, 11);
      std::string line = d.StatusLine(p, 3);
      EXPECT_LT(Cells(Strip(line)), width) << width << ": " << line;
      EXPECT_EQ(line.find('\x1b') != std::string::npos, color) << line;
      if (width >= 200) {
        EXPECT_EQ(Strip(line).find("…"), std::string::npos) << line;
        EXPECT_NE(Strip(line).find("architecture ▕"), std::string::npos) << line;
        EXPECT_NE(Strip(line).find(" 5/11 $"), std::string::npos) << line;
        EXPECT_NE(Strip(line).find("loop review 2/5"), std::string::npos) << line;
      } else {
        EXPECT_NE(Strip(line).find("…"), std::string::npos) << line;
      }
    }
  }
}

TEST(ProgressTest, EventLinesAreColouredByWhatHappened) {
  Capture c;
  ProgressDisplay d(c.f, DisplayOptions{true, true, 80});
  engine::LiveEvent e;
  e.node = "plan";
  e.type = "node_succeeded";
  EXPECT_EQ(d.EventLine(e), "  \x1b[32mok\x1b[0m      plan");
  e.type = "node_failed";
  e.message = std::string(200, 'x');  // a failure's message is whole (the terminal wraps it)
  EXPECT_NE(d.EventLine(e).find("\x1b[1;31mFAILED"), std::string::npos);
  EXPECT_NE(d.EventLine(e).find(e.message), std::string::npos);
  e.type = "retry_scheduled";
  EXPECT_NE(d.EventLine(e).find("\x1b[33mretry"), std::string::npos);
  e.type = "node_waiting";
  EXPECT_NE(d.EventLine(e).find("\x1b[33mwaiting"), std::string::npos);
  e.type = "cache_hit";
  EXPECT_NE(d.EventLine(e).find("\x1b[2mcached"), std::string::npos);
  e.type = "node_skipped";
  e.message = "condition is false\nsecond line " + std::string(100, 'y');
  std::string skipped = d.EventLine(e);
  EXPECT_NE(skipped.find("\x1b[2mskipped"), std::string::npos);
  EXPECT_EQ(skipped.find('\n'), std::string::npos);
  EXPECT_LT(Cells(Strip(skipped)), 80);
  e.type = "attempt_started";
  EXPECT_EQ(d.EventLine(e), "");
}

TEST(ProgressTest, ALogGetsPlainLinesOnly) {
  Capture c;
  {
    ProgressDisplay d(c.f, DisplayOptions{false, true, 0});  // colour is never for a log
    engine::LiveEvent e;
    e.node = "each";
    e.item = 3;
    e.iteration = 1;
    e.type = "node_started";
    d.OnEvent(e, Busy());
    e.type = "node_succeeded";
    d.OnEvent(e, Busy());
    d.Finish();
  }
  EXPECT_EQ(c.Text(), "  ok      each#2[3]\n");
}

TEST(ProgressTest, ATerminalRedrawsTheStatusLineInPlaceAndFinishClearsIt) {
  Capture c;
  {
    ProgressDisplay d(c.f, DisplayOptions{true, false, 60});
    engine::LiveEvent e;
    e.node = "a";
    e.type = "node_started";
    engine::Progress p;
    p.total = 2;
    p.running = 1;
    d.OnEvent(e, p);
    e.type = "node_succeeded";
    p.running = 0;
    p.done = 1;
    d.OnEvent(e, p);
    d.Finish();
  }
  std::string t = c.Text();
  EXPECT_EQ(t.rfind("\r\x1b[K[0/2] 1 running", 0), 0u) << t;
  EXPECT_NE(t.find("\r\x1b[K  ok      a\n\r\x1b[K[1/2] 0 running"), std::string::npos) << t;
  EXPECT_EQ(t.substr(t.size() - 4), "\r\x1b[K") << t;
}

TEST(ProgressTest, ColourOnlyOnATerminalWithoutNoColorOrTermDumb) {
  const char* term = std::getenv("TERM");
  std::string saved = term ? term : "";
  setenv("TERM", "xterm", 1);
  EXPECT_TRUE(UseColor(true, false));
  EXPECT_FALSE(UseColor(true, true));
  EXPECT_FALSE(UseColor(false, false));
  setenv("TERM", "dumb", 1);
  EXPECT_FALSE(UseColor(true, false));
  if (term) setenv("TERM", saved.c_str(), 1);
  else unsetenv("TERM");
}

}  // namespace
}  // namespace sw::cli
