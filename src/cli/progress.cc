#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/strings.h"
#include "cli/terminal.h"

namespace sw::cli {
namespace {

constexpr const char* kGreen = "\033[32m";
constexpr const char* kRed = "\033[1;31m";
constexpr const char* kYellow = "\033[33m";
constexpr const char* kCyan = "\033[36m";
constexpr const char* kDim = "\033[2m";
constexpr const char* kBold = "\033[1m";
constexpr const char* kReset = "\033[0m";

double SteadyNow() { return SystemClock::Default()->Now(); }

/// Utf8 decodes the character at text[i]: its code point and byte length (an invalid or cut
/// sequence is one byte, code point -1).
std::pair<int32_t, size_t> Utf8(std::string_view text, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return {c, 1};
  size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (len == 0 || i + len > text.size()) return {-1, 1};
  int32_t cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return {-1, 1};
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr int32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {-1, 1};  // overlong, surrogate
  return {cp, len};
}

/// Width is the columns a character takes. wcwidth is no use here: the binary never calls
/// setlocale, so it runs in the "C" locale, where wcwidth knows no character past ASCII. Wide:
/// the East Asian wide and fullwidth blocks and the common emoji; none: combining marks,
/// zero-width spaces and joiners, variation selectors.
int Width(int32_t cp) {
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0xFE00 && cp <= 0xFE0F)) return 0;
  static constexpr int32_t kWide[][2] = {
      {0x1100, 0x115F},   {0x2E80, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE30, 0xFE4F},
      {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F}, {0x1F900, 0x1F9FF}, {0x20000, 0x3FFFD}};
  for (const auto& r : kWide)
    if (cp >= r[0] && cp <= r[1]) return 2;
  return 1;
}

/// Cells counts the columns text takes (an invalid byte: one, as the terminal's replacement).
int Cells(std::string_view text) {
  int n = 0;
  for (size_t i = 0; i < text.size();) {
    auto [cp, len] = Utf8(text, i);
    n += cp < 0 ? 1 : Width(cp);
    i += len;
  }
  return n;
}

/// CutCells is the longest start of text that fits in cells columns: never the half of a
/// UTF-8 sequence, nor a wide character that would take one column too many.
std::string CutCells(std::string_view text, int cells) {
  size_t i = 0;
  int n = 0;
  while (i < text.size()) {
    auto [cp, len] = Utf8(text, i);
    int w = cp < 0 ? 1 : Width(cp);
    if (n + w > cells) break;
    n += w;
    i += len;
  }
  return std::string(text.substr(0, i));
}

/// Printable is text that cannot drive the terminal: ESC and every other control character
/// (C0, DEL, C1) is shown as its Unicode control picture (␛, ␡) or U+FFFD, a newline as ⏎
/// (or kept, for a log's whole message), a tab as a space; a broken UTF-8 byte as U+FFFD.
std::string Printable(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    auto [cp, len] = Utf8(text, i);
    if (cp == '\n') out += keep_newlines ? "\n" : "⏎";
    else if (cp == '\t') out += ' ';
    else if (cp >= 0 && cp < 0x20) out += "\xE2\x90" + std::string(1, static_cast<char>(0x80 + cp));  // U+2400 + cp
    else if (cp == 0x7F) out += "␡";
    else if (cp < 0 || (cp >= 0x80 && cp <= 0x9F)) out += "\uFFFD";
    else out.append(text.substr(i, len));
    i += len;
  }
  return out;
}

/// Seg is a run of text in one style (nullptr: plain).
struct Seg {
  std::string text;
  const char* style = nullptr;
};

/// Render joins segs, made printable and cut to at most width columns (the cut ends in "…"),
/// coloured or not; keep_newlines (a failure's message, printed whole) keeps its lines.
std::string Render(std::vector<Seg> segs, bool color, int width, bool keep_newlines = false) {
  int total = 0;
  for (auto& s : segs) {
    s.text = Printable(s.text, keep_newlines);  // messages and names come from outside
    total += Cells(s.text);
  }
  int room = total > width ? std::max(0, width - 1) : width;
  std::string out;
  for (const auto& s : segs) {
    if (room <= 0) break;
    bool cut = Cells(s.text) > room;
    std::string t = cut ? CutCells(s.text, room) : s.text;
    room -= Cells(t);
    if (!t.empty()) out += color && s.style ? std::string(s.style) + t + kReset : t;
    // After a cut nothing follows but the "…": a wide character that did not fit may leave a
    // column, which a later segment's text must not take out of order.
    if (cut) break;
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

int ProgressDisplay::Columns() const { return o_.width > 0 ? o_.width : TerminalColumns(::fileno(out_)); }

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
  } else if (e.type == "notice") {
    // What the run says before its nodes start (the workspace, its commit identity, warnings
    // about it): one line per line of the message, each whole, warnings in yellow.
    std::string out;
    size_t at = 0;
    while (at <= e.message.size()) {
      size_t nl = e.message.find('\n', at);
      std::string text = e.message.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
      at = nl == std::string::npos ? e.message.size() + 1 : nl + 1;
      if (text.empty()) continue;
      std::string line = o_.tty ? Render({{"  "}, {text, text.rfind("warning:", 0) == 0 ? kYellow : nullptr}}, o_.color, 1 << 30)
                                : Printable("  " + text, true);
      out += (out.empty() ? "" : "\n") + line;
    }
    return out;
  } else {
    return "";
  }
  if (!o_.tty) {  // a log: plain and whole (its newlines kept), and still no escape codes
    std::string plain;
    for (const auto& s : segs) plain += s.text;
    return Printable(plain, true);
  }
  // On the screen every line is one line (a newline is ⏎), except a failure's message, which
  // is printed whole with its lines (a compiler's or a tool's output stays readable).
  return Render(std::move(segs), o_.color, whole ? 1 << 30 : std::max(10, Columns() - 1), whole);
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
