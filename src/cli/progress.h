// Progress display: in a terminal, a status line redrawn in place under permanent lines for
// finished nodes (like ninja); otherwise one plain line per node event.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "engine/engine.h"

namespace sw::cli {

class ProgressDisplay : public engine::Listener {
 public:
  ProgressDisplay(FILE* out, bool tty) : out_(out), tty_(tty) {}
  void OnEvent(const engine::LiveEvent& e, const engine::Progress& p) override;
  /// Finish clears the status line.
  void Finish();
  /// Pause clears the status line so a prompt can be printed (human gates).
  void Pause();

 private:
  std::string StatusLine(const engine::Progress& p) const;
  FILE* out_;
  bool tty_;
  bool line_shown_ = false;
  double last_draw_ = -1;
  std::mutex mu_;
};

}  // namespace sw::cli
