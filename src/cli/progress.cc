#include "cli/progress.h"

#include "base/strings.h"

namespace sw::cli {

std::string ProgressDisplay::StatusLine(const engine::Progress& p) const {
  int done = p.succeeded + p.failed + p.skipped;
  char buf[256];
  std::snprintf(buf, sizeof(buf), "[%d/%d] running %d  failed %d  skipped %d%s  %lld tok  %s  %s", done, p.total,
                p.running, p.failed, p.skipped, p.waiting ? "  waiting" : "", static_cast<long long>(p.tokens),
                FormatUsd(p.cost_usd).c_str(), HumanDuration(p.elapsed).c_str());
  return buf;
}

void ProgressDisplay::OnEvent(const engine::LiveEvent& e, const engine::Progress& p) {
  std::lock_guard<std::mutex> l(mu_);
  std::string line;
  std::string label = e.node;
  if (e.iteration > 0) label += "#" + std::to_string(e.iteration + 1);
  if (e.item >= 0) label += "[" + std::to_string(e.item) + "]";
  if (e.type == "node_succeeded") {
    line = "  ok      " + label;
  } else if (e.type == "node_failed") {
    line = "  FAILED  " + label + ": " + e.message;
  } else if (e.type == "node_skipped") {
    line = "  skipped " + label + ": " + e.message;
  } else if (e.type == "retry_scheduled") {
    line = "  retry   " + label + " (attempt " + std::to_string(e.attempt) + " failed)";
  } else if (e.type == "node_waiting") {
    line = "  waiting " + label + ": needs approval";
  } else if (e.type == "loop_next") {
    line = "  loop    " + label + " sends work back";
  } else if (e.type == "cache_hit") {
    line = "  cached  " + label;
  } else if (e.type == "run_stopping") {
    line = "  stopping the run";
  }
  if (tty_) {
    if (!line.empty()) {
      std::fprintf(out_, "\r\033[K%s\n", line.c_str());
      line_shown_ = false;
    }
    if (!line.empty() || p.elapsed - last_draw_ > 0.1) {
      std::fprintf(out_, "\r\033[K%s", StatusLine(p).c_str());
      line_shown_ = true;
      last_draw_ = p.elapsed;
    }
    std::fflush(out_);
  } else if (!line.empty()) {
    std::fprintf(out_, "%s\n", line.c_str());
    std::fflush(out_);
  }
}

void ProgressDisplay::Pause() {
  std::lock_guard<std::mutex> l(mu_);
  if (tty_ && line_shown_) std::fprintf(out_, "\r\033[K");
  line_shown_ = false;
  std::fflush(out_);
}

void ProgressDisplay::Finish() { Pause(); }

}  // namespace sw::cli
