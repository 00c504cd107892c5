// The progress display's lines: what a terminal and a log get, colour rules, and the status
// line's width (the real binary under a pseudo-terminal is tests/e2e/progress_e2e_test.cc).
#include "cli/progress.h"
#include "cli/terminal.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

namespace sw::cli {
namespace {

/// Cells is the columns s takes on a terminal, the wide characters the tests use counted as
/// two; -1 when s is not whole UTF-8 (a sequence cut in half).
int Cells(const std::string& s) {
  int n = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0 || i + len > s.size()) return -1;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return -1;
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    bool wide = (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0x3040 && cp <= 0x30FF) ||
                (cp >= 0xFF01 && cp <= 0xFF60) || (cp >= 0x1F300 && cp <= 0x1F64F) || (cp >= 0x1F900 && cp <= 0x1F9FF);
    n += wide ? 2 : 1;
    i += len;
  }
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

TEST(ProgressTest, MessagesCannotDriveTheTerminal) {
  // A provider's error text or a node's message may hold escape sequences (clear the screen,
  // set the title, a C1 CSI) and other control characters: on a terminal they are shown, not
  // obeyed, and a newline is ⏎ so every line stays one line.
  const std::string evil = "boom\x1b[2J\x1b]0;pwned\x07 \r\nnext\tline\x7f \xc2\x9b" "31m \xff end";
  for (const char* type : {"node_failed", "node_skipped"}) {
    for (bool color : {false, true}) {
      Capture c;
      ProgressDisplay d(c.f, DisplayOptions{true, color, 200});
      engine::LiveEvent e;
      e.node = "n\x1b[1m";
      e.type = type;
      e.message = evil;
      std::string line = d.EventLine(e);
      std::string plain = Strip(line);
      EXPECT_EQ(plain.find('\x1b'), std::string::npos) << type << ": " << line;
      for (char ch : plain)
        EXPECT_FALSE((static_cast<unsigned char>(ch) < 0x20 && ch != '\n') || ch == 0x7f) << type << ": " << line;
      EXPECT_EQ(line.find("\xc2\x9b"), std::string::npos) << "a C1 CSI is not passed on";
      EXPECT_GE(Cells(plain), 0) << "whole UTF-8: " << line;
      // A failure is printed whole with its lines; any other message stays on one line.
      EXPECT_NE(plain.find(std::string(type) == "node_failed" ? "boom␛[2J␛]0;pwned␇ ␍\nnext line␡ "
                                                              : "boom␛[2J␛]0;pwned␇ ␍⏎next line␡ "),
                std::string::npos)
          << plain;
      EXPECT_NE(plain.find("n␛[1m"), std::string::npos) << plain;
      if (!color) {
        EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
      }
    }
  }
  // Bytes that cannot start a UTF-8 character (F5-FF) are each U+FFFD, never passed on: a
  // following 0x9B would be a CSI on an 8-bit terminal.
  for (const std::string bad : {"\xF8\x80\x80", "\xFF\x9B\x9B", "\xF5\x80\x80\x80", "\xC0\xAF"}) {
    ProgressDisplay d(stdout, DisplayOptions{true, false, 200});
    engine::LiveEvent e;
    e.node = "n";
    e.type = "node_skipped";
    e.message = bad;
    std::string line = d.EventLine(e);
    for (char ch : bad)
      if (static_cast<unsigned char>(ch) >= 0x80) EXPECT_EQ(line.find(ch), std::string::npos) << line;
    EXPECT_NE(line.find("\uFFFD"), std::string::npos) << line;
  }
  // A log keeps a failure's lines, but no escape code reaches it either.
  Capture c;
  {
    ProgressDisplay d(c.f, DisplayOptions{false, false, 0});
    engine::LiveEvent e;
    e.node = "n";
    e.type = "node_failed";
    e.message = evil;
    d.OnEvent(e, Busy());
    d.Finish();
  }
  std::string log = c.Text();
  EXPECT_EQ(log.find('\x1b'), std::string::npos) << log;
  EXPECT_EQ(log.find('\x07'), std::string::npos) << log;
  EXPECT_NE(log.find("␍\nnext"), std::string::npos) << log;
}

TEST(ProgressTest, WideCharactersCountTwoColumnsAndAreNeverCutInHalf) {
  const std::vector<std::string> messages = {
      std::string(100, 'x'),
      [] { std::string s; for (int i = 0; i < 60; ++i) s += "漢字"; return s; }(),
      [] { std::string s; for (int i = 0; i < 60; ++i) s += "a🙂"; return s; }(),
      [] { std::string s; for (int i = 0; i < 60; ++i) s += "한ｱé"; return s; }(),
      [] { std::string s; for (int i = 0; i < 40; ++i) s += "タ\x1b[31m🤖"; return s; }(),
  };
  for (int width : {20, 21, 40, 41, 80, 81}) {
    for (const auto& m : messages) {
      Capture c;
      ProgressDisplay d(c.f, DisplayOptions{true, true, width});
      engine::LiveEvent e;
      e.node = "节点";
      e.type = "node_skipped";
      e.message = m;
      std::string line = Strip(d.EventLine(e));
      int cells = Cells(line);
      EXPECT_GE(cells, 0) << "a UTF-8 sequence was cut: " << line;
      EXPECT_LT(cells, width) << line;
      EXPECT_GE(cells, width - 3) << "the room is used: " << line;
      EXPECT_EQ(line.substr(line.size() - 3), "…") << line;
      // The status line too: a develop phase and map nodes may be named in any script.
      engine::Progress p = Busy();
      p.maps.push_back({"地図の節点", 1, 1, 3});
      d.SetPhase("設計🙂", 2, 5);
      std::string status = Strip(d.StatusLine(p, 3));
      EXPECT_GE(Cells(status), 0) << status;
      EXPECT_LT(Cells(status), width) << status;
    }
  }
  // Whole when it fits: 2 columns a character.
  Capture c;
  ProgressDisplay d(c.f, DisplayOptions{true, false, 40});
  engine::LiveEvent e;
  e.node = "n";
  e.type = "node_skipped";
  e.message = "漢字漢字漢字漢字漢字漢字漢";  // 26 columns: the line takes 39, all there is
  EXPECT_EQ(d.EventLine(e), "  skipped n: " + e.message);
  e.message += "字";  // 41 columns: 38 would cut a character in half, so 37, then …
  EXPECT_EQ(d.EventLine(e), "  skipped n: 漢字漢字漢字漢字漢字漢字…");
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

TEST(ProgressTest, ANoticeIsPrintedLineByLineWithItsWarningsInYellow) {
  engine::LiveEvent e;
  e.type = "notice";
  e.message = "workspace: git worktree of /r on branch specwright/x, commits by A <a@b> (from the repository's git config)\n"
              "warning: 2 uncommitted changes in /r are left out\x1b[2J";
  Capture log;
  {
    ProgressDisplay d(log.f, DisplayOptions{false, true, 0});
    d.OnEvent(e, Busy());
  }
  EXPECT_EQ(log.Text(),
            "  workspace: git worktree of /r on branch specwright/x, commits by A <a@b> (from the repository's git config)\n"
            "  warning: 2 uncommitted changes in /r are left out\u241b[2J\n");
  Capture tty;
  {
    ProgressDisplay d(tty.f, DisplayOptions{true, true, 40});
    d.OnEvent(e, Busy());
    d.Finish();
  }
  std::string t = tty.Text();
  EXPECT_NE(t.find("commits by A <a@b> (from the repository's git config)"), std::string::npos)
      << "a notice is whole, not cut to the terminal's 40 columns: " << t;
  EXPECT_NE(t.find("\x1b[33mwarning: 2 uncommitted"), std::string::npos) << t;
  EXPECT_EQ(t.find("\x1b[2J"), std::string::npos) << "no escape from the message reaches the terminal";
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

TEST(ProgressTest, AnExplicitColumnsWinsElseTheTerminalElse80) {
  // One rule for the help and the display (cli/terminal.h): $COLUMNS, what a user sets to
  // force a width, over the terminal's; a memory stream is no terminal: 80 without it.
  const char* cols = std::getenv("COLUMNS");
  std::string saved = cols ? cols : "";
  Capture c;
  setenv("COLUMNS", "57", 1);
  EXPECT_EQ(TerminalColumns(fileno(c.f)), 57);
  ProgressDisplay d(c.f, DisplayOptions{true, false, 0});
  EXPECT_EQ(Cells(d.StatusLine(Busy(), 1)), 56) << "cut to 56 columns (the last stays empty), the … included";
  for (const char* bad : {"", "wide", "-3", "0", "12x"}) {
    setenv("COLUMNS", bad, 1);
    EXPECT_EQ(TerminalColumns(fileno(c.f)), 80) << bad;
  }
  unsetenv("COLUMNS");
  EXPECT_EQ(TerminalColumns(fileno(c.f)), 80);
  if (cols) setenv("COLUMNS", saved.c_str(), 1);
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
