// The terminal's width, one rule for every caller (the help text, the progress display).
#pragma once

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

namespace sw::cli {

/// TerminalColumns is the width to draw for on fd: $COLUMNS when set to a positive number
/// (what a user sets to force a width, and what tests use), else the terminal's own width when
/// fd is one (TIOCGWINSZ), else 80.
inline int TerminalColumns(int fd) {
  if (const char* c = std::getenv("COLUMNS"); c && *c) {
    char* end = nullptr;
    long n = std::strtol(c, &end, 10);
    if (end && !*end && n > 0) return static_cast<int>(n < 10000 ? n : 10000);
  }
  winsize ws{};
  if (::isatty(fd) && ::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace sw::cli
