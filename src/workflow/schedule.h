// Schedules: `schedule:` of a workflow or an eval suite. A 5-field cron expression read in an
// IANA time zone (the system's TZif files, read here; the process's TZ is never touched), and
// the next time it fires. The scheduler (src/cli/scheduler*.cc) fires them; the store keeps
// every fire (store::FireRecord).
//
// DST, decided: a local time that does not exist (the hour skipped in spring) is moved to the
// instant the gap ends (Europe/Berlin: "30 2 * * *" fires at 03:00 CEST on the last Sunday of
// March); a local time that happens twice (the hour repeated in autumn) fires at its first
// occurrence (the summer-time one) when the hour field is fixed, and at both occurrences when
// the hour field starts with `*` (`0 * * * *`, `*/30 * * * *`, `0 */2 * * *`), as cronie and
// Vixie cron do: a frequent schedule has no hole in the repeated hour.
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace YAML {
class Node;
}

namespace sw::workflow {

struct Diagnostic;  // workflow.h

/// CronSpec is a parsed 5-field cron expression: minute hour day-of-month month day-of-week.
/// Fields take *, numbers, ranges a-b, steps */n and a-b/n, lists a,b,c; months jan..dec and
/// days sun..sat by name (any case); day-of-week 7 is Sunday too. The Vixie rule: when both
/// day-of-month and day-of-week are restricted (neither starts with *), a day matching either
/// matches.
struct CronSpec {
  std::bitset<60> minute;
  std::bitset<24> hour;
  std::bitset<32> dom;    // 1..31
  std::bitset<13> month;  // 1..12
  std::bitset<7> dow;     // 0..6, 0 = Sunday
  bool dom_star = false;
  bool dow_star = false;
  bool hour_star = false;  // the hour field starts with '*': fires at both runs of a repeated hour
  std::string text;
  /// MatchesDay says whether a civil date (month 1..12, day 1..31, weekday 0..6) matches.
  bool MatchesDay(int month, int day, int weekday) const;
};

/// CronError says what is wrong with a cron expression and where (0-based byte offset in it).
struct CronError {
  size_t offset = 0;
  std::string message;
};

/// ParseCron parses text; on failure fills *error (when given) and returns nullopt. Shortcuts
/// @hourly @daily @midnight @weekly @monthly @yearly @annually are accepted.
std::optional<CronSpec> ParseCron(const std::string& text, CronError* error = nullptr);

/// TimeZone is one IANA zone read from a TZif file (version 1, 2, 3 or 4): its transitions, and
/// its POSIX TZ footer for the times after the last one. Immutable once loaded; thread-safe.
class TimeZone {
 public:
  /// Load reads dir/name (dir: $TZDIR when set, else /usr/share/zoneinfo). "UTC" (and "Etc/UTC",
  /// "Z") needs no file. Names are checked (letters, digits, "_+-/", no ".."; not `right/...`,
  /// whose leap seconds this reader ignores, nor `localtime`, `posixrules` or `Factory`, which
  /// are not zones) and the read is bounded (256 KiB); errors name the zone and the file. A zone
  /// is read once per process: a tzdata update takes effect when the scheduler restarts.
  static Result<std::shared_ptr<const TimeZone>> Load(const std::string& name, const std::string& dir = "");
  /// Parse reads TZif bytes (exposed for tests); name is only for messages.
  static Result<std::shared_ptr<const TimeZone>> Parse(const std::string& name, const std::string& bytes);
  /// FromPosix makes a zone of a POSIX TZ string alone ("CET-1CEST,M3.5.0,M10.5.0/3").
  static Result<std::shared_ptr<const TimeZone>> FromPosix(const std::string& name, const std::string& tz);

  const std::string& name() const { return name_; }
  /// OffsetAt is the zone's UTC offset (seconds east of UTC) at the unix time t.
  int64_t OffsetAt(int64_t t) const;
  /// LocalToUtc resolves a local wall-clock time (seconds since 1970-01-01 00:00 local) by the
  /// rule above: the first occurrence when it happens twice, the end of the gap when it does not
  /// exist. *gap (when given) says whether it did not exist.
  int64_t LocalToUtc(int64_t local, bool* gap = nullptr) const;
  /// SecondOccurrence is the later instant of a local time that happens twice (the hour
  /// repeated in autumn), or nullopt when it happens once or never.
  std::optional<int64_t> SecondOccurrence(int64_t local) const;

  struct Posix {
    int64_t std_offset = 0;  // seconds east of UTC
    int64_t dst_offset = 0;
    bool has_dst = false;
    struct Rule {
      char kind = 'M';  // 'J' (1..365, no Feb 29), 'D' (0..365), 'M' (month.week.day)
      int a = 0, b = 0, c = 0;
      int64_t time = 7200;  // seconds after local midnight (may be negative or > 24h)
    } start, end;
  };

 private:
  std::string name_;
  std::vector<int64_t> transitions_;   // unix times, ascending
  std::vector<uint8_t> trans_types_;   // index into offsets_ per transition
  std::vector<int64_t> offsets_;       // per local time type
  std::optional<Posix> footer_;
  int64_t OffsetByPosix(int64_t t) const;
};

enum class CatchUp { kSkip, kOnce };

/// Schedule is one entry of `schedule:`.
struct Schedule {
  std::string name;      // as written, or "" (then the key uses the index)
  std::string id;        // `id:`, or "": when given, the key is "id:<id>" whatever the file's path
  int index = 0;         // position in the list (0-based)
  CronSpec cron;
  std::string timezone = "UTC";
  std::shared_ptr<const TimeZone> tz;  // loaded; never null in a parsed schedule
  nlohmann::json inputs = nlohmann::json::object();
  CatchUp catch_up = CatchUp::kSkip;
  int line = 0, col = 0;  // where the entry starts
  /// Label: the name, or "#<index>".
  std::string Label() const { return name.empty() ? "#" + std::to_string(index) : name; }
};

/// ParseSchedules reads `schedule:` (a list of entries, or one entry as a map): each entry
/// {name?, id?, cron, timezone? (default UTC), inputs? (a map), catch_up? skip|once (default skip)}.
/// Problems go to *errors with file and the node's position (from Mark()); entries with errors
/// are left out. Names and ids must be unique in the file (ids across the store: the user's
/// promise). An id is 1-64 letters, digits, '_', '-' and '.', starting with a letter or digit.
std::vector<Schedule> ParseSchedules(const YAML::Node& node, const std::string& file,
                                     std::vector<Diagnostic>* errors);

/// NextFire is the first fire time strictly after after_utc (unix seconds, whole minutes);
/// nullopt when the expression matches no day within 8 years (e.g. "0 0 31 2 *").
std::optional<int64_t> NextFire(const CronSpec& cron, const TimeZone& tz, int64_t after_utc);
inline std::optional<int64_t> NextFire(const Schedule& s, int64_t after_utc) { return NextFire(s.cron, *s.tz, after_utc); }

/// ScheduleKey is the stable key of a schedule in the store: "id:<id>" when the entry has an
/// id (the same from any checkout path), else the file's absolute path, '#', and the entry's
/// name (or its 0-based index when it has none; names start with a letter):
/// "id:nightly-report", "/srv/flows/report.yaml#daily", "/srv/flows/report.yaml#0".
std::string ScheduleKey(const std::string& abs_file, const Schedule& s);

/// Civil-time helpers (proleptic Gregorian, exposed for tests and the scheduler's output).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d);
/// FormatLocal renders t in tz as "2026-03-29 03:00 CEST+02:00"-like ISO text: "2026-03-29T03:00:00+02:00".
std::string FormatLocal(int64_t t, const TimeZone& tz);

}  // namespace sw::workflow
