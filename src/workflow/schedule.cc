// Cron expressions, IANA time zones from TZif files, and `schedule:` entries (see schedule.h).
#include "workflow/schedule.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include "base/fs.h"
#include "base/strings.h"
#include "workflow/load_internal.h"
#include "workflow/workflow.h"
#include "workflow/yaml_json.h"

namespace sw::workflow {
namespace {

constexpr size_t kMaxTzifBytes = 256 << 10;
constexpr int kScanYears = 8;

// ---------------------------------------------------------------- cron

struct FieldDef {
  const char* what;
  int lo, hi;
  const char* const* names;  // names[i] is value lo + i (or 0 + i for dow), null when none
  int names_base;
};

const char* const kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", nullptr};
const char* const kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", nullptr};

const FieldDef kFields[5] = {
    {"minute", 0, 59, nullptr, 0},
    {"hour", 0, 23, nullptr, 0},
    {"day of month", 1, 31, nullptr, 0},
    {"month", 1, 12, kMonths, 1},
    {"day of week", 0, 7, kDays, 0},
};

bool Fail(CronError* err, size_t offset, std::string msg) {
  if (err) *err = CronError{offset, std::move(msg)};
  return false;
}

/// ParseValue reads a number or a name at s[*i]; advances *i.
bool ParseValue(const std::string& s, size_t* i, const FieldDef& f, size_t base, int* out, CronError* err) {
  size_t start = *i;
  if (*i < s.size() && std::isdigit(static_cast<unsigned char>(s[*i]))) {
    int v = 0;
    while (*i < s.size() && std::isdigit(static_cast<unsigned char>(s[*i]))) {
      v = v * 10 + (s[*i] - '0');
      if (v > 1000) return Fail(err, base + start, std::string(f.what) + " value is out of range");
      ++*i;
    }
    if (v < f.lo || v > f.hi)
      return Fail(err, base + start, std::string(f.what) + " " + std::to_string(v) + " is out of range " +
                                         std::to_string(f.lo) + "-" + std::to_string(f.hi));
    *out = v;
    return true;
  }
  while (*i < s.size() && std::isalpha(static_cast<unsigned char>(s[*i]))) ++*i;
  std::string word = s.substr(start, *i - start);
  if (word.empty())
    return Fail(err, base + start,
                std::string("expected a number") + (f.names ? " or a name" : "") + " in the " + f.what + " field" +
                    (start < s.size() ? ", got " + Quote(s.substr(start, 1)) : ""));
  std::string lower = word;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (f.names)
    for (int k = 0; f.names[k]; ++k)
      if (lower == f.names[k]) {
        *out = k + f.names_base;
        return true;
      }
  std::string allowed;
  if (f.names)
    for (int k = 0; f.names[k]; ++k) allowed += (k ? "," : "") + std::string(f.names[k]);
  return Fail(err, base + start,
              "unknown name " + Quote(word) + " in the " + f.what + " field" +
                  (f.names ? " (expected " + allowed + ")" : " (expected a number)"));
}

/// ParseField fills bits (indexed by value) from one field's text; *star says it began with '*'.
bool ParseField(const std::string& text, size_t base, const FieldDef& f, std::vector<bool>* bits, bool* star,
                CronError* err) {
  *star = !text.empty() && text[0] == '*';
  size_t i = 0;
  while (true) {
    size_t item_start = i;
    int lo, hi;
    bool range_given = false;
    if (i < text.size() && text[i] == '*') {
      lo = f.lo;
      hi = f.hi == 7 ? 6 : f.hi;
      ++i;
    } else {
      if (!ParseValue(text, &i, f, base, &lo, err)) return false;
      hi = lo;
      if (i < text.size() && text[i] == '-') {
        ++i;
        if (!ParseValue(text, &i, f, base, &hi, err)) return false;
        range_given = true;
        if (hi < lo)
          return Fail(err, base + item_start,
                      std::string("range ") + Quote(text.substr(item_start, i - item_start)) + " in the " + f.what +
                          " field runs backwards");
      }
    }
    int step = 1;
    if (i < text.size() && text[i] == '/') {
      ++i;
      size_t step_start = i;
      int v = 0;
      if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i])))
        return Fail(err, base + step_start, std::string("expected a step number after '/' in the ") + f.what + " field");
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        v = v * 10 + (text[i] - '0');
        if (v > 1000) break;
        ++i;
      }
      if (v < 1 || v > f.hi - f.lo + 1)
        return Fail(err, base + step_start, std::string("step ") + std::to_string(v) + " in the " + f.what +
                                                " field is out of range 1-" + std::to_string(f.hi - f.lo + 1));
      step = v;
      // "5/15" means 5-max/15 (as Vixie cron).
      if (!range_given && text[item_start] != '*') hi = f.hi == 7 ? 6 : f.hi;
    }
    for (int v = lo; v <= hi; v += step) (*bits)[static_cast<size_t>(v == 7 && f.hi == 7 ? 0 : v)] = true;
    if (i == text.size()) return true;
    if (text[i] != ',')
      return Fail(err, base + i, "unexpected " + Quote(text.substr(i, 1)) + " in the " + f.what + " field");
    ++i;
    if (i == text.size()) return Fail(err, base + i, std::string("empty list item at the end of the ") + f.what + " field");
  }
}

// ---------------------------------------------------------------- civil time

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
unsigned DaysInMonth(int64_t y, unsigned m) {
  static const unsigned d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : d[m - 1];
}
int Weekday(int64_t days) { return static_cast<int>(((days % 7) + 11) % 7); }  // 1970-01-01 was a Thursday (4)

// ---------------------------------------------------------------- POSIX TZ

bool ParsePosixName(const std::string& s, size_t* i) {
  if (*i < s.size() && s[*i] == '<') {
    size_t e = s.find('>', *i);
    if (e == std::string::npos) return false;
    *i = e + 1;
    return true;
  }
  size_t start = *i;
  while (*i < s.size() && std::isalpha(static_cast<unsigned char>(s[*i]))) ++*i;
  return *i - start >= 3;
}

/// ParsePosixTime reads [+-]hh[:mm[:ss]] into seconds.
bool ParsePosixTime(const std::string& s, size_t* i, int64_t* out) {
  int sign = 1;
  if (*i < s.size() && (s[*i] == '+' || s[*i] == '-')) {
    if (s[*i] == '-') sign = -1;
    ++*i;
  }
  int64_t parts[3] = {0, 0, 0};
  for (int p = 0; p < 3; ++p) {
    if (p > 0) {
      if (*i >= s.size() || s[*i] != ':') break;
      ++*i;
    }
    size_t start = *i;
    int64_t v = 0;
    while (*i < s.size() && std::isdigit(static_cast<unsigned char>(s[*i])) && *i - start < 3) v = v * 10 + (s[(*i)++] - '0');
    if (*i == start) return false;
    parts[p] = v;
  }
  if (parts[0] > 167 || parts[1] > 59 || parts[2] > 59) return false;
  *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

bool ParsePosixNumber(const std::string& s, size_t* i, int* out) {
  size_t start = *i;
  int v = 0;
  while (*i < s.size() && std::isdigit(static_cast<unsigned char>(s[*i])) && *i - start < 4) v = v * 10 + (s[(*i)++] - '0');
  *out = v;
  return *i > start;
}

bool ParsePosixRule(const std::string& s, size_t* i, TimeZone::Posix::Rule* r) {
  if (*i < s.size() && s[*i] == 'J') {
    ++*i;
    r->kind = 'J';
    if (!ParsePosixNumber(s, i, &r->a) || r->a < 1 || r->a > 365) return false;
  } else if (*i < s.size() && s[*i] == 'M') {
    ++*i;
    r->kind = 'M';
    if (!ParsePosixNumber(s, i, &r->a) || r->a < 1 || r->a > 12) return false;
    if (*i >= s.size() || s[(*i)++] != '.') return false;
    if (!ParsePosixNumber(s, i, &r->b) || r->b < 1 || r->b > 5) return false;
    if (*i >= s.size() || s[(*i)++] != '.') return false;
    if (!ParsePosixNumber(s, i, &r->c) || r->c > 6) return false;
  } else {
    r->kind = 'D';
    if (!ParsePosixNumber(s, i, &r->a) || r->a > 365) return false;
  }
  r->time = 7200;
  if (*i < s.size() && s[*i] == '/') {
    ++*i;
    if (!ParsePosixTime(s, i, &r->time)) return false;
  }
  return true;
}

std::optional<TimeZone::Posix> ParsePosix(const std::string& s) {
  TimeZone::Posix p;
  size_t i = 0;
  if (!ParsePosixName(s, &i)) return std::nullopt;
  int64_t west = 0;
  if (!ParsePosixTime(s, &i, &west)) return std::nullopt;
  p.std_offset = -west;
  if (i == s.size()) return p;
  if (!ParsePosixName(s, &i)) return std::nullopt;
  p.has_dst = true;
  p.dst_offset = p.std_offset + 3600;
  if (i < s.size() && s[i] != ',') {
    if (!ParsePosixTime(s, &i, &west)) return std::nullopt;
    p.dst_offset = -west;
  }
  if (i == s.size()) {
    // No rules given: POSIX leaves it to the implementation; use the US rules (as glibc does).
    p.start = {'M', 3, 2, 0, 7200};
    p.end = {'M', 11, 1, 0, 7200};
    return p;
  }
  if (s[i++] != ',' || !ParsePosixRule(s, &i, &p.start)) return std::nullopt;
  if (i >= s.size() || s[i++] != ',' || !ParsePosixRule(s, &i, &p.end)) return std::nullopt;
  if (i != s.size()) return std::nullopt;
  return p;
}

/// RuleDay is the day (days since epoch) a rule names in year y.
int64_t RuleDay(const TimeZone::Posix::Rule& r, int64_t y) {
  int64_t jan1 = DaysFromCivil(y, 1, 1);
  switch (r.kind) {
    case 'J': {
      int64_t d = jan1 + r.a - 1;
      if (IsLeap(y) && r.a >= 60) ++d;  // Feb 29 is never counted
      return d;
    }
    case 'D':
      return jan1 + r.a;
    default: {
      int64_t first = DaysFromCivil(y, static_cast<unsigned>(r.a), 1);
      int64_t d = first + ((r.c - Weekday(first)) + 7) % 7 + 7 * (r.b - 1);
      int64_t last = first + DaysInMonth(y, static_cast<unsigned>(r.a)) - 1;
      while (d > last) d -= 7;
      return d;
    }
  }
}

bool ValidZoneName(const std::string& n) {
  if (n.empty() || n.size() > 128 || n[0] == '/' || n[0] == '.') return false;
  if (n.find("..") != std::string::npos || n.find("//") != std::string::npos) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '-' || c == '/')) return false;
  return true;
}

int64_t ReadBE(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int k = 0; k < n; ++k) v = (v << 8) | p[k];
  if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

}  // namespace

// ---------------------------------------------------------------- public: civil time

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

std::string FormatLocal(int64_t t, const TimeZone& tz) {
  int64_t off = tz.OffsetAt(t);
  int64_t local = t + off;
  int64_t days = FloorDiv(local, 86400);
  int64_t secs = local - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[64];
  int64_t a = off < 0 ? -off : off;
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld%c%02lld:%02lld", static_cast<long long>(y), m, d,
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60), off < 0 ? '-' : '+', static_cast<long long>(a / 3600),
                static_cast<long long>(a / 60 % 60));
  return buf;
}

// ---------------------------------------------------------------- public: cron

bool CronSpec::MatchesDay(int month_v, int day, int weekday) const {
  if (!month[static_cast<size_t>(month_v)]) return false;
  bool d = dom[static_cast<size_t>(day)];
  bool w = dow[static_cast<size_t>(weekday)];
  if (dom_star || dow_star) return d && w;
  return d || w;
}

std::optional<CronSpec> ParseCron(const std::string& text, CronError* error) {
  static const std::map<std::string, std::string> kShortcuts = {
      {"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"}, {"@weekly", "0 0 * * 0"},
      {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}};
  if (text.size() > 256) {
    Fail(error, 0, "the cron expression is " + std::to_string(text.size()) + " characters; at most 256");
    return std::nullopt;
  }
  std::string t = text;
  bool shortcut = false;
  size_t lead = t.find_first_not_of(" \t");
  if (lead != std::string::npos && t[lead] == '@') {
    std::string w = Trim(t);
    auto it = kShortcuts.find(w);
    if (it == kShortcuts.end()) {
      std::vector<std::string> names;
      for (const auto& [k, v] : kShortcuts) names.push_back(k);
      std::string near = DidYouMean(w, names);
      Fail(error, lead, "unknown cron shortcut " + Quote(w) + (near.empty() ? "" : " (did you mean " + Quote(near) + "?)") +
                            "; expected one of " + Join(names, ", ") + " or 5 fields");
      return std::nullopt;
    }
    t = it->second;
    shortcut = true;
  }
  std::vector<std::pair<size_t, std::string>> fields;
  for (size_t i = 0; i < t.size();) {
    if (t[i] == ' ' || t[i] == '\t') {
      ++i;
      continue;
    }
    size_t s = i;
    while (i < t.size() && t[i] != ' ' && t[i] != '\t') ++i;
    fields.emplace_back(shortcut ? lead : s, t.substr(s, i - s));
  }
  if (fields.size() != 5) {
    Fail(error, fields.size() > 5 ? fields[5].first : t.size(),
         "a cron expression has 5 fields (minute hour day-of-month month day-of-week), got " +
             std::to_string(fields.size()));
    return std::nullopt;
  }
  CronSpec spec;
  spec.text = Trim(text);
  bool stars[5];
  std::vector<bool> bits[5];
  for (int k = 0; k < 5; ++k) {
    bits[k].assign(static_cast<size_t>(kFields[k].hi + 1), false);
    CronError e;
    if (!ParseField(fields[static_cast<size_t>(k)].second, fields[static_cast<size_t>(k)].first, kFields[k], &bits[k],
                    &stars[k], &e)) {
      if (shortcut) e.offset = lead;
      if (error) *error = e;
      return std::nullopt;
    }
  }
  for (size_t v = 0; v < 60; ++v) spec.minute[v] = bits[0][v];
  for (size_t v = 0; v < 24; ++v) spec.hour[v] = bits[1][v];
  for (size_t v = 1; v < 32; ++v) spec.dom[v] = bits[2][v];
  for (size_t v = 1; v < 13; ++v) spec.month[v] = bits[3][v];
  for (size_t v = 0; v < 7; ++v) spec.dow[v] = bits[4][v];
  spec.dom_star = stars[2];
  spec.dow_star = stars[4];
  spec.hour_star = stars[1];
  return spec;
}

std::optional<int64_t> NextFire(const CronSpec& cron, const TimeZone& tz, int64_t after_utc) {
  // Local wall-clock candidates in order; the first resolution (LocalToUtc) never decreases as
  // local time grows, so the first candidate resolving after after_utc is the answer. Start a
  // few hours early so a repeated (autumn) hour is not missed. With a `*` hour the second run
  // of a repeated time counts too; it lags the local order by the shift (at most 2 h, bar
  // historic oddities), so the scan goes on 3 local hours past the first answer for an earlier
  // one.
  int64_t after_local = after_utc + tz.OffsetAt(after_utc);
  std::optional<int64_t> best;
  int64_t best_local = 0;
  int64_t start_local = after_local - 4 * 3600;
  int64_t day = FloorDiv(start_local, 86400);
  int64_t last_day = day + 366 * kScanYears + 2;
  for (; day <= last_day; ++day) {
    if (best && day * 86400 > best_local + 3 * 3600) break;
    int64_t y;
    unsigned m, d;
    CivilFromDays(day, &y, &m, &d);
    if (!cron.month[m]) {
      // Jump to the first of the next month.
      day = (m == 12 ? DaysFromCivil(y + 1, 1, 1) : DaysFromCivil(y, m + 1, 1)) - 1;
      continue;
    }
    if (!cron.MatchesDay(static_cast<int>(m), static_cast<int>(d), Weekday(day))) continue;
    for (int h = 0; h < 24; ++h) {
      if (!cron.hour[static_cast<size_t>(h)]) continue;
      int64_t hour_local = day * 86400 + h * 3600;
      if (hour_local + 3600 <= start_local) continue;
      for (int mi = 0; mi < 60; ++mi) {
        if (!cron.minute[static_cast<size_t>(mi)]) continue;
        int64_t local = hour_local + mi * 60;
        if (local < start_local) continue;
        // Far enough before after_utc that no offset change (at most 2 h, bar historic
        // oddities) can put it after: not worth resolving.
        if (local + 2 * 3600 < after_local) continue;
        if (best && local > best_local + 3 * 3600) return best;
        int64_t u = tz.LocalToUtc(local);
        if (!cron.hour_star) {
          if (u > after_utc) return best && *best < u ? *best : u;
          continue;
        }
        for (std::optional<int64_t> cand : {std::optional<int64_t>(u), tz.SecondOccurrence(local)}) {
          if (!cand || *cand <= after_utc || (best && *best <= *cand)) continue;
          if (!best) best_local = local;
          best = *cand;
        }
      }
    }
  }
  return best;
}

// ---------------------------------------------------------------- public: time zones

Result<std::shared_ptr<const TimeZone>> TimeZone::FromPosix(const std::string& name, const std::string& tz) {
  auto p = ParsePosix(tz);
  if (!p) return InvalidInput("time zone " + Quote(name) + ": cannot read the POSIX TZ rule " + Quote(tz));
  auto z = std::shared_ptr<TimeZone>(new TimeZone());
  z->name_ = name;
  z->offsets_ = {p->std_offset};
  z->footer_ = *p;
  return std::shared_ptr<const TimeZone>(z);
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Parse(const std::string& name, const std::string& bytes) {
  auto bad = [&](const std::string& why) -> Status {
    return InvalidInput("time zone " + Quote(name) + ": not a valid TZif file (" + why + ")");
  };
  auto z = std::shared_ptr<TimeZone>(new TimeZone());
  z->name_ = name;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  auto header = [&](size_t at, int64_t c[6], char* version) -> bool {
    if (at + 44 > n || std::memcmp(p + at, "TZif", 4) != 0) return false;
    *version = static_cast<char>(p[at + 4]);
    for (int k = 0; k < 6; ++k) c[k] = ReadBE(p + at + 20 + 4 * k, 4);
    for (int k = 0; k < 6; ++k)
      if (c[k] < 0 || c[k] > 100000) return false;
    return true;
  };
  int64_t c[6];  // isutcnt isstdcnt leapcnt timecnt typecnt charcnt
  char version = 0;
  if (!header(0, c, &version)) return bad("no TZif header");
  auto block_size = [&](int64_t cc[6], int tsize) {
    return static_cast<size_t>(cc[3] * tsize + cc[3] + cc[4] * 6 + cc[5] + cc[2] * (tsize + 4) + cc[1] + cc[0]);
  };
  size_t at = 44;
  int tsize = 4;
  if (version >= '2') {
    at += block_size(c, 4);
    if (!header(at, c, &version)) return bad("no second (64-bit) header");
    at += 44;
    tsize = 8;
  }
  if (c[4] < 1) return bad("no local time types");
  if (at + block_size(c, tsize) > n) return bad("truncated");
  const unsigned char* q = p + at;
  for (int64_t k = 0; k < c[3]; ++k) z->transitions_.push_back(ReadBE(q + k * tsize, tsize));
  q += c[3] * tsize;
  for (int64_t k = 0; k < c[3]; ++k) {
    if (q[k] >= c[4]) return bad("a transition names a missing type");
    z->trans_types_.push_back(q[k]);
  }
  q += c[3];
  for (int64_t k = 0; k < c[4]; ++k) z->offsets_.push_back(ReadBE(q + k * 6, 4));
  for (size_t k = 1; k < z->transitions_.size(); ++k)
    if (z->transitions_[k] <= z->transitions_[k - 1]) return bad("transitions out of order");
  at += block_size(c, tsize);
  if (version >= '2' && at < n && p[at] == '\n') {
    size_t e = bytes.find('\n', at + 1);
    if (e == std::string::npos) return bad("unterminated footer");
    std::string footer = bytes.substr(at + 1, e - at - 1);
    if (!footer.empty()) {
      auto posix = ParsePosix(footer);
      if (!posix) return bad("cannot read the POSIX TZ footer " + Quote(footer));
      z->footer_ = *posix;
    }
  }
  return std::shared_ptr<const TimeZone>(z);
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(const std::string& name, const std::string& dir_in) {
  if (name == "UTC" || name == "Etc/UTC" || name == "Z" || name == "Etc/UCT" || name == "UCT") {
    auto z = std::shared_ptr<TimeZone>(new TimeZone());
    z->name_ = name;
    z->offsets_ = {0};
    return std::shared_ptr<const TimeZone>(z);
  }
  if (!ValidZoneName(name))
    return InvalidInput("invalid time zone name " + Quote(name) + " (expected an IANA name such as Europe/Berlin)");
  // right/...: TZif files with leap seconds, which this reader ignores (its times would be ~27 s
  // off); localtime, posixrules, Factory: files in the zoneinfo folder that are not zones.
  if (name.rfind("right/", 0) == 0)
    return InvalidInput("time zone " + Quote(name) + ": the right/ zones count leap seconds, which schedules do not; use " +
                        Quote(name.substr(6)));
  if (name == "localtime" || name == "posixrules" || name == "Factory")
    return InvalidInput("time zone " + Quote(name) + " is not an IANA zone (expected a name such as Europe/Berlin)");
  std::string dir = dir_in;
  if (dir.empty()) {
    const char* env = std::getenv("TZDIR");
    dir = env && *env ? env : "/usr/share/zoneinfo";
  }
  // Zones are read once per process (every schedule of a file shares its zone).
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const TimeZone>> cache;
  std::string path = dir + "/" + name;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(path); it != cache.end()) return it->second;
  }
  std::error_code fec;
  if (!std::filesystem::is_regular_file(path, fec))
    return NotFound("unknown time zone " + Quote(name) + ": no file " + path +
                    " (is tzdata installed? set $TZDIR to another zoneinfo directory)");
  // The read itself is bounded: at most one byte past the limit, whatever the file turns into.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return NotFound("unknown time zone " + Quote(name) + ": cannot read " + path);
    bytes.resize(kMaxTzifBytes + 1);
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    bytes.resize(static_cast<size_t>(in.gcount()));
  }
  if (bytes.size() > kMaxTzifBytes) return InvalidInput("time zone " + Quote(name) + ": " + path + " is larger than 256 KiB");
  auto z = Parse(name, bytes);
  if (!z.ok()) return z.status();
  std::lock_guard<std::mutex> lock(mu);
  cache[path] = *z;
  return *z;
}

int64_t TimeZone::OffsetByPosix(int64_t t) const {
  const Posix& p = *footer_;
  if (!p.has_dst) return p.std_offset;
  int64_t y;
  unsigned m, d;
  CivilFromDays(FloorDiv(t + p.std_offset, 86400), &y, &m, &d);
  // Check this year's and the neighbours' windows (a window may straddle the new year).
  for (int64_t yy = y - 1; yy <= y + 1; ++yy) {
    int64_t start = RuleDay(p.start, yy) * 86400 + p.start.time - p.std_offset;
    int64_t end = RuleDay(p.end, yy) * 86400 + p.end.time - p.dst_offset;
    if (start < end) {
      if (t >= start && t < end) return p.dst_offset;
    } else {
      // Southern hemisphere: DST from start to the end of next year's rule.
      int64_t end_next = RuleDay(p.end, yy + 1) * 86400 + p.end.time - p.dst_offset;
      if (t >= start && t < end_next) return p.dst_offset;
    }
  }
  return p.std_offset;
}

int64_t TimeZone::OffsetAt(int64_t t) const {
  if (transitions_.empty() || t >= transitions_.back()) {
    if (footer_) return OffsetByPosix(t);
    if (transitions_.empty()) return offsets_[0];
    return offsets_[trans_types_.back()];
  }
  if (t < transitions_.front()) return offsets_[0];
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  size_t k = static_cast<size_t>(it - transitions_.begin()) - 1;
  return offsets_[trans_types_[k]];
}

int64_t TimeZone::LocalToUtc(int64_t local, bool* gap) const {
  if (gap) *gap = false;
  // Candidate offsets: those in force a day either side (no zone changes twice in two days).
  std::set<int64_t> offs = {OffsetAt(local - 86400), OffsetAt(local), OffsetAt(local + 86400)};
  std::optional<int64_t> best;
  for (int64_t o : offs) {
    int64_t u = local - o;
    if (OffsetAt(u) == o && (!best || u < *best)) best = u;
  }
  if (best) return *best;
  // A gap: the transition lies between local - max offset and local - min offset.
  if (gap) *gap = true;
  int64_t lo = local - *offs.rbegin(), hi = local - *offs.begin();
  int64_t before = OffsetAt(lo);
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (OffsetAt(mid) == before) lo = mid; else hi = mid;
  }
  return hi;
}

std::optional<int64_t> TimeZone::SecondOccurrence(int64_t local) const {
  std::set<int64_t> offs = {OffsetAt(local - 86400), OffsetAt(local), OffsetAt(local + 86400)};
  std::vector<int64_t> valid;
  for (int64_t o : offs)
    if (OffsetAt(local - o) == o) valid.push_back(local - o);
  if (valid.size() < 2) return std::nullopt;
  return *std::max_element(valid.begin(), valid.end());
}

// ---------------------------------------------------------------- public: schedule:

std::string ScheduleKey(const std::string& abs_file, const Schedule& s) {
  if (!s.id.empty()) return "id:" + s.id;
  return abs_file + "#" + (s.name.empty() ? std::to_string(s.index) : s.name);
}

std::vector<Schedule> ParseSchedules(const YAML::Node& node, const std::string& file, std::vector<Diagnostic>* errors) {
  std::vector<Schedule> out;
  auto error = [&](Pos pos, std::string msg) {
    if (errors) errors->push_back(Diagnostic{file, pos, std::move(msg)});
  };
  if (!node.IsDefined() || node.IsNull()) return out;
  std::vector<YAML::Node> entries;
  if (node.IsMap()) {
    entries.push_back(node);
  } else if (node.IsSequence()) {
    for (const auto& e : node) entries.push_back(e);
    if (entries.size() > 100) {
      error(internal::PosOf(node), "schedule has " + std::to_string(entries.size()) + " entries; at most 100");
      return out;
    }
  } else {
    error(internal::PosOf(node), "expected a list of schedule entries (or one entry as a map) for schedule, got a scalar");
    return out;
  }
  static const std::vector<std::string> kKeys = {"name", "id", "cron", "timezone", "inputs", "catch_up"};
  std::set<std::string> names, ids;
  for (size_t i = 0; i < entries.size(); ++i) {
    const YAML::Node& e = entries[i];
    Pos epos = internal::PosOf(e);
    std::string ctx = "schedule entry " + std::to_string(i + 1);
    if (!e.IsMap()) {
      error(epos, "expected a map {cron: ..., timezone: ..., inputs: ...} for " + ctx);
      continue;
    }
    Schedule s;
    s.index = static_cast<int>(i);
    s.line = epos.line;
    s.col = epos.col;
    bool ok = true;
    YAML::Node cron_node, tz_node;
    bool has_cron = false, has_tz = false;
    for (const auto& kv : e) {
      std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
      Pos kpos = internal::PosOf(kv.first);
      if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
        std::string near = DidYouMean(key, kKeys);
        error(kpos, "unknown key " + Quote(key) + " in " + ctx +
                        (near.empty() ? "" : " (did you mean " + Quote(near) + "?)") + "; expected one of " +
                        Join(kKeys, ", "));
        ok = false;
        continue;
      }
      const YAML::Node& v = kv.second;
      Pos vpos = v.IsNull() ? kpos : internal::PosOf(v);
      if (key == "name") {
        if (!v.IsScalar() || Trim(v.Scalar()).empty()) {
          error(vpos, "expected a non-empty string for name in " + ctx);
          ok = false;
        } else {
          s.name = Trim(v.Scalar());
          // A letter first: a name never looks like an index (the key of an unnamed entry).
          bool good = s.name.size() <= 100 && std::isalpha(static_cast<unsigned char>(s.name[0]));
          for (char c : s.name)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) good = false;
          if (!good) {
            error(vpos, "schedule name " + Quote(s.name) + " must start with a letter and hold only letters, digits, '_', '-' and '.' (at most 100)");
            ok = false;
          } else if (!names.insert(s.name).second) {
            error(vpos, "duplicate schedule name " + Quote(s.name));
            ok = false;
          }
        }
      } else if (key == "id") {
        // Like a fragment of a run id: it names the schedule in the store ("id:<id>").
        std::string id = v.IsScalar() ? Trim(v.Scalar()) : "";
        bool good = !id.empty() && id.size() <= 64 && std::isalnum(static_cast<unsigned char>(id[0]));
        for (char c : id)
          if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) good = false;
        if (!good) {
          error(vpos, "schedule id " + (v.IsScalar() ? Quote(id) : std::string("(a collection)")) +
                          " must be 1-64 letters, digits, '_', '-' and '.', starting with a letter or digit");
          ok = false;
        } else if (!ids.insert(id).second) {
          error(vpos, "duplicate schedule id " + Quote(id));
          ok = false;
        } else {
          s.id = id;
        }
      } else if (key == "cron") {
        cron_node = v;
        has_cron = true;
      } else if (key == "timezone") {
        tz_node = v;
        has_tz = true;
      } else if (key == "inputs") {
        if (v.IsNull()) continue;
        if (!v.IsMap()) {
          error(vpos, "expected a map of input values for inputs in " + ctx);
          ok = false;
        } else {
          s.inputs = YamlToJson(v);
        }
      } else if (key == "catch_up") {
        std::string c = v.IsScalar() ? v.Scalar() : "";
        if (c == "skip") {
          s.catch_up = CatchUp::kSkip;
        } else if (c == "once") {
          s.catch_up = CatchUp::kOnce;
        } else {
          error(vpos, "catch_up must be \"skip\" or \"once\", got " + (v.IsScalar() ? Quote(c) : std::string("a collection")));
          ok = false;
        }
      }
    }
    if (!has_cron) {
      error(epos, "missing required key \"cron\" in " + ctx + " (e.g. cron: \"0 9 * * 1-5\")");
      ok = false;
    } else if (!cron_node.IsScalar()) {
      error(internal::PosOf(cron_node), "expected a string for cron in " + ctx);
      ok = false;
    } else {
      CronError ce;
      auto spec = ParseCron(cron_node.Scalar(), &ce);
      Pos cp = internal::PosOf(cron_node);
      // A quoted scalar's mark is its opening quote.
      if (cron_node.Tag() == "!") cp.col += 1;
      if (!spec) {
        error(Pos{cp.line, cp.col + static_cast<int>(ce.offset)}, "cron " + Quote(cron_node.Scalar()) + ": " + ce.message);
        ok = false;
      } else {
        s.cron = *spec;
        // A day that never comes (Feb 30) is a mistake worth stopping at.
        auto utc = TimeZone::FromPosix("UTC", "UTC0");
        if (utc.ok() && !NextFire(s.cron, **utc, 946684800)) {
          error(cp, "cron " + Quote(cron_node.Scalar()) + " never fires (no such day)");
          ok = false;
        }
      }
    }
    if (has_tz && !tz_node.IsNull()) {
      if (!tz_node.IsScalar()) {
        error(internal::PosOf(tz_node), "expected an IANA time zone name for timezone in " + ctx);
        ok = false;
      } else {
        s.timezone = Trim(tz_node.Scalar());
      }
    }
    auto tz = TimeZone::Load(s.timezone);
    if (!tz.ok()) {
      error(has_tz ? internal::PosOf(tz_node) : epos, tz.status().message());
      ok = false;
    } else {
      s.tz = *tz;
    }
    if (ok) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sw::workflow
