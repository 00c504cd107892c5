// Progress display: in a terminal, a status line redrawn in place under permanent lines for
// finished nodes (like ninja), in colour unless told not to; otherwise one plain line per node
// event and no escape codes at all.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "engine/engine.h"

namespace sw::cli {

/// DisplayOptions say how the display draws; the defaults are a plain log.
struct DisplayOptions {
  bool tty = false;    // redraw a status line in place (else: one plain line per event)
  bool color = false;  // ANSI colours (only ever on a tty)
  int width = 0;       // columns; 0: TerminalColumns (an explicit $COLUMNS, else TIOCGWINSZ, else 80)
};

/// UseColor says whether a terminal display colours: not with --no-color or $NO_COLOR
/// (no_color), nor on TERM=dumb; never when it is not a terminal.
bool UseColor(bool tty, bool no_color);

class ProgressDisplay : public engine::Listener {
 public:
  /// A display for out: a terminal when tty, coloured unless no_color or TERM=dumb.
  ProgressDisplay(FILE* out, bool tty, bool no_color);
  ProgressDisplay(FILE* out, DisplayOptions options);
  ~ProgressDisplay() override;
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  void OnEvent(const engine::LiveEvent& e, const engine::Progress& p) override;
  /// Finish clears the status line.
  void Finish();
  /// Pause clears the status line so a prompt can be printed (human gates).
  void Pause();
  /// SetPhase puts a develop's phase ahead of its current run's counts: its name and a bar of
  /// phase k of n (n = 0: no bar, as for a modify), with the session's spend.
  void SetPhase(const std::string& name, int k, int n);
  /// SetSpentBefore is what the session spent before the current run (its spend adds to it).
  void SetSpentBefore(double usd);

  /// StatusLine is the line redrawn in place: never wider than the terminal.
  std::string StatusLine(const engine::Progress& p, double elapsed) const;
  /// EventLine is an event's permanent line ("" when it has none).
  std::string EventLine(const engine::LiveEvent& e) const;

 private:
  int Columns() const;
  /// Draw redraws the status line from the last progress (mu_ held).
  void Draw();
  void Tick();

  FILE* out_;
  DisplayOptions o_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread ticker_;  // terminal only: keeps elapsed and throttled counts current
  bool stop_ = false;
  bool active_ = false;    // a run's events are being shown (not paused, not finished)
  bool dirty_ = false;     // the last progress is not on screen yet
  engine::Progress last_;  // the last event's progress, and when it came (steady seconds)
  double last_at_ = 0;
  double last_draw_ = -1;
  std::string shown_;  // the status line on screen ("" when none)
  std::string phase_;
  int phase_k_ = 0, phase_n_ = 0;
  double spent_before_ = 0;
};

}  // namespace sw::cli
