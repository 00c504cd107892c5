#include "cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/strings.h"

namespace sw::cli {
namespace {

constexpr const char* kGreen = "\033[32m";
constexpr const char* kRed = "\033[1;31m";
constexpr const char* kYellow = "\033[33m";
constexpr const char* kCyan = "\033[36m";
constexpr const char* kDim = "\033[2m";
constexpr const char* kBold = "\033[1m";
constexpr const char* kReset = "\033[0m";

double SteadyNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Cells counts the columns text takes: one per UTF-8 character (the display's own text is
/// ASCII and box-drawing characters, one column each).
int Cells(std::string_view text) {
  int n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

/// CutCells is the first cells columns of text.
std::string CutCells(std::string_view text, int cells) {
  size_t i = 0;
  int n = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && n++ == cells) break;
  }
  return std::string(text.substr(0, i));
}

/// Seg is a run of text in one style (nullptr: plain).
struct Seg {
  std::string text;
  const char* style = nullptr;
};

/// Render joins segs, cut to at most width columns (the cut ends in "…"), coloured or not.
std::string Render(const std::vector<Seg>& segs, bool color, int width) {
  int total = 0;
  for (const auto& s : segs) total += Cells(s.text);
  int room = total > width ? std::max(0, width - 1) : width;
  std::string out;
  for (const auto& s : segs) {
    if (room <= 0) break;
    std::string t = Cells(s.text) > room ? CutCells(s.text, room) : s.text;
    room -= Cells(t);
    if (t.empty()) continue;
    if (color && s.style) out += std::string(s.style) + t + kReset;
    else out += t;
  }
  if (total > width && width > 0) out += "…";
  return out;
}

/// Bar is `▕████░░░░▏` with cells cells inside, done of total filled.
std::vector<Seg> Bar(int done, int total, int cells) {
  int fill = total > 0 ? static_cast<int>(static_cast<int64_t>(done) * cells / total) : 0;
  fill = std::clamp(fill, 0, cells);
  std::string full, empty;
  for (int i = 0; i < fill; ++i) full += "█";
  for (int i = fill; i < cells; ++i) empty += "░";
  return {{"▕", kDim}, {full, kGreen}, {empty, kDim}, {"▏", kDim}};
}

std::string Tokens(int64_t n) {
  char b[32];
  if (n >= 1'000'000) std::snprintf(b, sizeof(b), "%.1fM tok", static_cast<double>(n) / 1e6);
  else if (n >= 10'000) std::snprintf(b, sizeof(b), "%.1fk tok", static_cast<double>(n) / 1e3);
  else std::snprintf(b, sizeof(b), "%lld tok", static_cast<long long>(n));
  return b;
}

/// Clock shows elapsed seconds as "7s", "4m05s" or "1h02m": it changes once a second.
std::string Clock(double seconds) {
  long s = static_cast<long>(std::max(0.0, seconds));
  char b[32];
  if (s < 60) std::snprintf(b, sizeof(b), "%lds", s);
  else if (s < 3600) std::snprintf(b, sizeof(b), "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(b, sizeof(b), "%ldh%02ldm", s / 3600, (s / 60) % 60);
  return b;
}

}  // namespace

bool UseColor(bool tty, bool no_color) {
  if (!tty || no_color) return false;
  const char* term = std::getenv("TERM");
  return !(term && std::strcmp(term, "dumb") == 0);
}

ProgressDisplay::ProgressDisplay(FILE* out, bool tty, bool no_color)
    : ProgressDisplay(out, DisplayOptions{tty, UseColor(tty, no_color), 0}) {}

ProgressDisplay::ProgressDisplay(FILE* out, DisplayOptions options) : out_(out), o_(options) {
  if (!o_.tty) o_.color = false;  // escape codes only ever go to a terminal
  if (o_.tty) ticker_ = std::thread([this] { Tick(); });
}

ProgressDisplay::~ProgressDisplay() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

int ProgressDisplay::Columns() const {
  if (o_.width > 0) return o_.width;
  struct winsize ws {};
  if (::ioctl(::fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS")) {
    int v = std::atoi(c);
    if (v > 0) return v;
  }
  return 80;
}

std::string ProgressDisplay::StatusLine(const engine::Progress& p, double elapsed) const {
  // The last column stays empty: some terminals wrap as soon as it is written.
  int width = std::max(10, Columns() - 1);
  std::vector<Seg> segs;
  int bars = 0;
  if (!phase_.empty()) {
    segs.push_back({phase_, kBold});
    if (phase_n_ > 0) {
      segs.push_back({" "});
      segs.push_back({"\x01"});  // the phase bar, sized below
      ++bars;
      segs.push_back({" " + std::to_string(phase_k_) + "/" + std::to_string(phase_n_)});
    }
    segs.push_back({" " + FormatUsd(spent_before_ + p.cost_usd), kDim});
    segs.push_back({" │ ", kDim});
  }
  segs.push_back({"[" + std::to_string(p.done) + "/" + std::to_string(p.total) + "]", kBold});
  segs.push_back({" " + std::to_string(p.running) + " running", p.running > 0 ? kCyan : nullptr});
  if (p.failed > 0) segs.push_back({" " + std::to_string(p.failed) + " failed", kRed});
  if (p.skipped > 0) segs.push_back({" " + std::to_string(p.skipped) + " skipped", kDim});
  if (p.waiting > 0) segs.push_back({" " + std::to_string(p.waiting) + " waiting", kYellow});
  for (const auto& l : p.loops)
    segs.push_back({"  loop " + l.node + " " + std::to_string(l.round) + "/" + std::to_string(l.max), kYellow});
  for (const auto& m : p.maps) {
    segs.push_back({"  map " + m.node + " "});
    segs.push_back({"\x02"});  // a map bar, sized below
    ++bars;
    segs.push_back({" " + std::to_string(m.done) + "/" + std::to_string(m.total)});
  }
  segs.push_back({"  " + Tokens(p.tokens) + "  " + FormatUsd(p.cost_usd) + "  " + Clock(elapsed), kDim});
  // Bars take what room is left, from 4 to 20 cells each (plus their two ends).
  int fixed = 0;
  for (const auto& s : segs)
    if (s.text != "\x01" && s.text != "\x02") fixed += Cells(s.text);
  int cells = bars ? std::clamp((width - fixed) / bars - 2, 4, 20) : 0;
  std::vector<Seg> out;
  size_t map = 0;
  for (auto& s : segs) {
    if (s.text == "\x01") {
      auto b = Bar(phase_k_, phase_n_, cells);
      out.insert(out.end(), b.begin(), b.end());
    } else if (s.text == "\x02") {
      const auto& m = p.maps[map++];
      auto b = Bar(m.done, m.total, cells);
      out.insert(out.end(), b.begin(), b.end());
    } else {
      out.push_back(std::move(s));
    }
  }
  return Render(out, o_.color, width);
}

std::string ProgressDisplay::EventLine(const engine::LiveEvent& e) const {
  std::string label = e.node;
  if (e.iteration > 0) label += "#" + std::to_string(e.iteration + 1);
  if (e.item >= 0) label += "[" + std::to_string(e.item) + "]";
  std::vector<Seg> segs;
  bool whole = false;  // a failure's message is printed whole (the terminal wraps it)
  if (e.type == "node_succeeded") {
    segs = {{"  "}, {"ok", kGreen}, {"      " + label}};
  } else if (e.type == "node_failed") {
    segs = {{"  "}, {"FAILED", kRed}, {"  " + label + ": " + e.message}};
    whole = true;
  } else if (e.type == "node_skipped") {
    segs = {{"  "}, {"skipped", kDim}, {" " + label + ": " + e.message, kDim}};
  } else if (e.type == "retry_scheduled") {
    segs = {{"  "}, {"retry", kYellow}, {"   " + label + " (attempt " + std::to_string(e.attempt) + " failed)"}};
  } else if (e.type == "node_waiting") {
    segs = {{"  "}, {"waiting", kYellow}, {" " + label + ": needs approval"}};
  } else if (e.type == "loop_next") {
    segs = {{"  "}, {"loop", kYellow}, {"    " + label + " sends work back"}};
  } else if (e.type == "cache_hit") {
    segs = {{"  "}, {"cached", kDim}, {"  " + label, kDim}};
  } else if (e.type == "run_stopping") {
    segs = {{"  "}, {"stopping the run", kYellow}};
  } else {
    return "";
  }
  if (!o_.tty) {  // a log: plain and whole
    std::string plain;
    for (const auto& s : segs) plain += s.text;
    return plain;
  }
  if (!whole)  // one line on the screen
    for (auto& s : segs) std::replace_if(s.text.begin(), s.text.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  return Render(segs, o_.color, whole ? 1 << 30 : std::max(10, Columns() - 1));
}

void ProgressDisplay::SetPhase(const std::string& name, int k, int n) {
  std::lock_guard<std::mutex> l(mu_);
  phase_ = name;
  phase_k_ = k;
  phase_n_ = n;
}

void ProgressDisplay::SetSpentBefore(double usd) {
  std::lock_guard<std::mutex> l(mu_);
  spent_before_ = usd;
}

void ProgressDisplay::Draw() {
  double elapsed = last_.elapsed + std::max(0.0, SteadyNow() - last_at_);
  std::string line = StatusLine(last_, elapsed);
  dirty_ = false;
  last_draw_ = SteadyNow();
  if (line == shown_) return;
  std::fprintf(out_, "\r\033[K%s", line.c_str());
  std::fflush(out_);
  shown_ = line;
}

void ProgressDisplay::OnEvent(const engine::LiveEvent& e, const engine::Progress& p) {
  std::lock_guard<std::mutex> l(mu_);
  std::string line = EventLine(e);
  if (!o_.tty) {
    if (!line.empty()) {
      std::fprintf(out_, "%s\n", line.c_str());
      std::fflush(out_);
    }
    return;
  }
  if (!line.empty()) {
    std::fprintf(out_, "\r\033[K%s\n", line.c_str());
    shown_.clear();
  }
  last_ = p;
  last_at_ = SteadyNow();
  active_ = true;
  dirty_ = true;
  // Every change is drawn, at most 20 times a second (a map of thousands of items does not
  // write thousands of lines); the ticker draws the last state that was held back.
  if (!line.empty() || last_at_ - last_draw_ >= 0.05) Draw();
  else std::fflush(out_);
}

void ProgressDisplay::Tick() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    cv_.wait_for(l, std::chrono::milliseconds(100));
    if (stop_) break;
    // Elapsed changes once a second: redraw then, and whenever a change was held back.
    if (active_ && (dirty_ || SteadyNow() - last_draw_ >= 0.5)) Draw();
  }
}

void ProgressDisplay::Pause() {
  std::lock_guard<std::mutex> l(mu_);
  if (o_.tty && !shown_.empty()) std::fprintf(out_, "\r\033[K");
  shown_.clear();
  active_ = false;
  dirty_ = false;
  std::fflush(out_);
}

void ProgressDisplay::Finish() { Pause(); }

}  // namespace sw::cli
