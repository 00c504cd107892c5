// Tests for cron expressions, the TZif reader (checked against glibc's `date` in a child
// process, never by setting TZ here), DST handling and `schedule:` entries.
#include "workflow/schedule.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/fs.h"
#include "base/subprocess.h"
#include "workflow/workflow.h"

namespace sw::workflow {
namespace {

namespace fs = std::filesystem;

int64_t Utc(int y, int mo, int d, int h, int mi) { return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60; }

std::shared_ptr<const TimeZone> Zone(const std::string& name) {
  auto z = TimeZone::Load(name);
  EXPECT_TRUE(z.ok()) << z.status().message();
  return z.ok() ? *z : nullptr;
}

CronSpec Cron(const std::string& text) {
  CronError e;
  auto c = ParseCron(text, &e);
  EXPECT_TRUE(c.has_value()) << text << ": " << e.message;
  return c.value_or(CronSpec{});
}

TEST(Cron, Fields) {
  CronSpec c = Cron("*/15 9-17 * * mon-fri");
  EXPECT_TRUE(c.minute[0] && c.minute[15] && c.minute[30] && c.minute[45]);
  EXPECT_FALSE(c.minute[1]);
  EXPECT_TRUE(c.hour[9] && c.hour[17]);
  EXPECT_FALSE(c.hour[8] || c.hour[18]);
  EXPECT_TRUE(c.dow[1] && c.dow[5]);
  EXPECT_FALSE(c.dow[0] || c.dow[6]);
  CronSpec d = Cron("0,30 0 1,15 JAN,jul 7");
  EXPECT_TRUE(d.dow[0]);  // 7 is Sunday
  EXPECT_EQ(d.dow.count(), 1u);
  EXPECT_TRUE(d.month[1] && d.month[7]);
  EXPECT_EQ(d.month.count(), 2u);
  CronSpec e = Cron("5/20 * * * *");  // 5, 25, 45
  EXPECT_EQ(e.minute.count(), 3u);
  EXPECT_TRUE(e.minute[5] && e.minute[25] && e.minute[45]);
  CronSpec f = Cron("10-50/20 * * * 5-7");
  EXPECT_EQ(f.minute.count(), 3u);
  EXPECT_TRUE(f.dow[5] && f.dow[6] && f.dow[0]);
  CronSpec g = Cron("@daily");
  EXPECT_TRUE(g.minute[0] && g.hour[0]);
  EXPECT_EQ(g.minute.count(), 1u);
}

TEST(Cron, MalformedWithOffsets) {
  struct Case {
    std::string text;
    size_t offset;
    std::string contains;
  } cases[] = {
      {"* * * *", 7, "5 fields"},
      {"* * * * * *", 10, "5 fields"},
      {"60 * * * *", 0, "minute 60 is out of range 0-59"},
      {"0 24 * * *", 2, "hour 24"},
      {"0 0 0 * *", 4, "day of month 0"},
      {"0 0 * 13 *", 6, "month 13"},
      {"0 0 * * 8", 8, "day of week 8"},
      {"0 0 * foo *", 6, "unknown name \"foo\" in the month field"},
      {"0 0 * * mon-xyz", 12, "unknown name \"xyz\""},
      {"0 0 * * */0", 10, "step 0"},
      {"30-10 * * * *", 0, "runs backwards"},
      {"1,,2 * * * *", 2, "expected a number"},
      {"1, * * * *", 2, "empty list item"},
      {"0 9 * * 1;2", 9, "unexpected \";\""},
      {"@fortnightly", 0, "unknown cron shortcut"},
      {"*/ * * * *", 2, "expected a step number"},
  };
  for (const auto& c : cases) {
    CronError e;
    EXPECT_FALSE(ParseCron(c.text, &e).has_value()) << c.text;
    EXPECT_EQ(e.offset, c.offset) << c.text << ": " << e.message;
    EXPECT_NE(e.message.find(c.contains), std::string::npos) << c.text << ": " << e.message;
  }
}

TEST(Cron, VixieRuleDomOrDow) {
  auto utc = Zone("UTC");
  // "on the 13th, or on Fridays": 2026-03-01 is a Sunday; the first Friday is the 6th.
  CronSpec either = Cron("0 0 13 * fri");
  EXPECT_EQ(NextFire(either, *utc, Utc(2026, 3, 1, 0, 0)), Utc(2026, 3, 6, 0, 0));
  EXPECT_EQ(NextFire(either, *utc, Utc(2026, 3, 6, 0, 0)), Utc(2026, 3, 13, 0, 0));
  // With day-of-month as *, only Fridays.
  CronSpec fridays = Cron("0 0 * * fri");
  EXPECT_EQ(NextFire(fridays, *utc, Utc(2026, 3, 6, 0, 0)), Utc(2026, 3, 13, 0, 0));
  EXPECT_EQ(NextFire(fridays, *utc, Utc(2026, 3, 13, 0, 0)), Utc(2026, 3, 20, 0, 0));
  // A day-of-week field starting with '*' ("*/7": Sundays) counts as unrestricted (Vixie's
  // DOW_STAR), so the two are ANDed: the 1st of a month that is a Sunday (2026-11-01).
  CronSpec step = Cron("0 0 1 * */7");
  EXPECT_EQ(NextFire(step, *utc, Utc(2026, 3, 6, 0, 0)), Utc(2026, 11, 1, 0, 0));
}

TEST(Cron, NextFireBasics) {
  auto utc = Zone("UTC");
  CronSpec c = Cron("0 9 * * 1-5");
  // Friday 2026-03-06 09:00 -> Monday 2026-03-09 09:00.
  EXPECT_EQ(NextFire(c, *utc, Utc(2026, 3, 6, 9, 0)), Utc(2026, 3, 9, 9, 0));
  EXPECT_EQ(NextFire(c, *utc, Utc(2026, 3, 6, 8, 59)), Utc(2026, 3, 6, 9, 0));
  // Strictly after: a second past the minute is past it.
  EXPECT_EQ(NextFire(Cron("* * * * *"), *utc, Utc(2026, 3, 6, 9, 0)), Utc(2026, 3, 6, 9, 1));
  EXPECT_EQ(NextFire(Cron("* * * * *"), *utc, Utc(2026, 3, 6, 9, 0) - 1), Utc(2026, 3, 6, 9, 0));
  // Leap days: Feb 29 only in leap years (2028).
  EXPECT_EQ(NextFire(Cron("0 0 29 2 *"), *utc, Utc(2026, 3, 1, 0, 0)), Utc(2028, 2, 29, 0, 0));
  EXPECT_FALSE(NextFire(Cron("0 0 31 2 *"), *utc, Utc(2026, 3, 1, 0, 0)).has_value());
  EXPECT_EQ(NextFire(Cron("@yearly"), *utc, Utc(2026, 12, 31, 23, 59)), Utc(2027, 1, 1, 0, 0));
}

TEST(TimeZoneTest, BerlinOffsets) {
  auto berlin = Zone("Europe/Berlin");
  ASSERT_TRUE(berlin);
  EXPECT_EQ(berlin->OffsetAt(Utc(2026, 1, 15, 12, 0)), 3600);
  EXPECT_EQ(berlin->OffsetAt(Utc(2026, 7, 15, 12, 0)), 7200);
  // The 2026 changes: 2026-03-29 01:00 UTC and 2026-10-25 01:00 UTC.
  EXPECT_EQ(berlin->OffsetAt(Utc(2026, 3, 29, 1, 0) - 1), 3600);
  EXPECT_EQ(berlin->OffsetAt(Utc(2026, 3, 29, 1, 0)), 7200);
  EXPECT_EQ(berlin->OffsetAt(Utc(2026, 10, 25, 1, 0) - 1), 7200);
  EXPECT_EQ(berlin->OffsetAt(Utc(2026, 10, 25, 1, 0)), 3600);
  // Long after the file's last transition: the POSIX footer (M3.5.0, M10.5.0/3).
  EXPECT_EQ(berlin->OffsetAt(Utc(2090, 7, 1, 0, 0)), 7200);
  EXPECT_EQ(berlin->OffsetAt(Utc(2090, 12, 1, 0, 0)), 3600);
}

/// The oracle: glibc's own reading of the same zones, in a child process (`date`).
TEST(TimeZoneTest, AgreesWithGlibcAcrossCenturies) {
  std::string date = FindProgram("date", "/usr/bin:/bin");
  ASSERT_FALSE(date.empty());
  std::vector<int64_t> times;
  for (int64_t t = Utc(1975, 1, 1, 0, 0); t < Utc(2100, 1, 1, 0, 0); t += 86400 * 11 + 3607) times.push_back(t);
  // Both sides of each 2026 and 2071 change in Berlin, New York and Sydney.
  for (int64_t t : {Utc(2026, 3, 29, 1, 0), Utc(2026, 10, 25, 1, 0), Utc(2026, 3, 8, 7, 0), Utc(2026, 11, 1, 6, 0),
                    Utc(2026, 4, 4, 16, 0), Utc(2026, 10, 3, 16, 0), Utc(2071, 3, 29, 1, 0)})
    for (int64_t d : {-1, 0, 1}) times.push_back(t + d);
  fs::path tmp = fs::temp_directory_path() / ("sw_tz_" + std::to_string(::getpid()));
  {
    std::ofstream f(tmp);
    for (int64_t t : times) f << "@" << t << "\n";
  }
  for (std::string name : {"Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe",
                           "Asia/Kathmandu", "America/Santiago", "Africa/Casablanca", "Pacific/Chatham"}) {
    auto z = Zone(name);
    ASSERT_TRUE(z) << name;
    SpawnOptions sp;
    sp.argv = {date, "-f", tmp.string(), "+%z"};
    sp.env = {"TZ=" + name, "LC_ALL=C"};
    RunOptions ro;
    ro.max_output = 1 << 20;
    auto r = RunProcess(sp, ro);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->exit_code, 0) << r->err;
    std::istringstream in(r->out);
    std::string line;
    size_t k = 0, mismatches = 0;
    while (std::getline(in, line) && k < times.size()) {
      int sign = line[0] == '-' ? -1 : 1;
      int64_t want = sign * (std::stoll(line.substr(1, 2)) * 3600 + std::stoll(line.substr(3, 2)) * 60);
      if (z->OffsetAt(times[k]) != want && ++mismatches < 5)
        ADD_FAILURE() << name << " at " << times[k] << ": " << z->OffsetAt(times[k]) << " != glibc " << want;
      ++k;
    }
    EXPECT_EQ(k, times.size()) << name;
    EXPECT_EQ(mismatches, 0u) << name;
  }
  fs::remove(tmp);
}

TEST(TimeZoneTest, BadNamesAndFiles) {
  auto a = TimeZone::Load("Europe/Atlantis");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("unknown time zone \"Europe/Atlantis\""), std::string::npos) << a.status().message();
  auto b = TimeZone::Load("../../etc/passwd");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("invalid time zone name"), std::string::npos);
  EXPECT_FALSE(TimeZone::Load("Europe").ok());  // a directory
  auto c = TimeZone::Parse("x", "TZif2 but too short");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("not a valid TZif file"), std::string::npos);
  // A truncated real file.
  auto bytes = ReadFile("/usr/share/zoneinfo/Europe/Berlin");
  ASSERT_TRUE(bytes.ok());
  EXPECT_FALSE(TimeZone::Parse("Europe/Berlin", bytes->substr(0, bytes->size() / 2)).ok());
  EXPECT_FALSE(TimeZone::FromPosix("x", "CET-1CEST,M3.5.0").ok());
  EXPECT_FALSE(TimeZone::FromPosix("x", "CET-1CEST,M13.5.0,M10.5.0").ok());
}

TEST(TimeZoneTest, RefusesLeapSecondZonesAndNonZones) {
  // right/ zones count leap seconds (ignored here: times would be ~27 s off); the others are
  // files of the zoneinfo folder that are not zones.
  auto r = TimeZone::Load("right/Europe/Berlin");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("leap seconds"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("\"Europe/Berlin\""), std::string::npos) << r.status().message();
  for (std::string n : {"localtime", "posixrules", "Factory"}) {
    auto z = TimeZone::Load(n);
    ASSERT_FALSE(z.ok()) << n;
    EXPECT_NE(z.status().message().find("not an IANA zone"), std::string::npos) << z.status().message();
  }
}

TEST(TimeZoneTest, TheReadIsBounded) {
  char tmpl[] = "/tmp/sw_tzdir.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  {
    std::ofstream big(dir + "/Big");
    big << std::string((256 << 10) + 10, 'x');
  }
  auto z = TimeZone::Load("Big", dir);
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.status().message().find("larger than 256 KiB"), std::string::npos) << z.status().message();
  std::filesystem::remove_all(dir);
}

TEST(TimeZoneTest, PosixOnlyZone) {
  auto z = TimeZone::FromPosix("x", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");  // Lord Howe-like, southern
  ASSERT_TRUE(z.ok());
  EXPECT_EQ((*z)->OffsetAt(Utc(2031, 1, 1, 0, 0)), 11 * 3600);
  EXPECT_EQ((*z)->OffsetAt(Utc(2031, 7, 1, 0, 0)), 10 * 3600 + 1800);
}

// The DST decision: a local time that does not exist moves to the end of the gap; one that
// happens twice fires once, at its first occurrence, unless the hour field starts with `*`.
TEST(Dst, BerlinSpringGapMovesToGapEnd) {
  auto berlin = Zone("Europe/Berlin");
  CronSpec c = Cron("30 2 * * *");
  // 2026-03-28 02:30 CET = 01:30 UTC.
  EXPECT_EQ(NextFire(c, *berlin, Utc(2026, 3, 27, 12, 0)), Utc(2026, 3, 28, 1, 30));
  // 2026-03-29 02:30 does not exist: fires at 03:00 CEST = 01:00 UTC.
  EXPECT_EQ(NextFire(c, *berlin, Utc(2026, 3, 28, 12, 0)), Utc(2026, 3, 29, 1, 0));
  // Then 2026-03-30 02:30 CEST = 00:30 UTC.
  EXPECT_EQ(NextFire(c, *berlin, Utc(2026, 3, 29, 1, 0)), Utc(2026, 3, 30, 0, 30));
  // Every 15 minutes in the 2 o'clock hour: the four missing times are one fire at 03:00 CEST,
  // and the 03:00 entry of "0 3" lands on the same instant (one fire, not two).
  CronSpec q = Cron("*/15 2,3 * * *");
  int64_t t = Utc(2026, 3, 28, 23, 0);
  std::vector<int64_t> fires;
  for (int k = 0; k < 6; ++k) {
    t = *NextFire(q, *berlin, t);
    fires.push_back(t);
  }
  std::vector<int64_t> want = {Utc(2026, 3, 29, 1, 0), Utc(2026, 3, 29, 1, 15), Utc(2026, 3, 29, 1, 30),
                               Utc(2026, 3, 29, 1, 45), Utc(2026, 3, 30, 0, 0), Utc(2026, 3, 30, 0, 15)};
  EXPECT_EQ(fires, want);
  bool gap = false;
  EXPECT_EQ(berlin->LocalToUtc(Utc(2026, 3, 29, 2, 30), &gap), Utc(2026, 3, 29, 1, 0));
  EXPECT_TRUE(gap);
}

TEST(Dst, BerlinAutumnRepeatedHourFiresOnceForAFixedHour) {
  auto berlin = Zone("Europe/Berlin");
  CronSpec c = Cron("30 2 * * *");
  // 2026-10-25 02:30 happens at 00:30 UTC (CEST) and 01:30 UTC (CET): only the first fires.
  EXPECT_EQ(NextFire(c, *berlin, Utc(2026, 10, 24, 12, 0)), Utc(2026, 10, 25, 0, 30));
  EXPECT_EQ(NextFire(c, *berlin, Utc(2026, 10, 25, 0, 30)), Utc(2026, 10, 26, 1, 30));
  // A list of fixed hours is fixed too.
  EXPECT_EQ(NextFire(Cron("0 1,2,3 * * *"), *berlin, Utc(2026, 10, 25, 0, 0)), Utc(2026, 10, 25, 2, 0));
  bool gap = true;
  EXPECT_EQ(berlin->LocalToUtc(Utc(2026, 10, 25, 2, 30), &gap), Utc(2026, 10, 25, 0, 30));
  EXPECT_FALSE(gap);
  EXPECT_EQ(berlin->SecondOccurrence(Utc(2026, 10, 25, 2, 30)), Utc(2026, 10, 25, 1, 30));
  EXPECT_EQ(berlin->SecondOccurrence(Utc(2026, 10, 25, 3, 30)), std::nullopt);
  EXPECT_EQ(berlin->SecondOccurrence(Utc(2026, 3, 29, 2, 30)), std::nullopt);
  EXPECT_EQ(FormatLocal(Utc(2026, 10, 25, 0, 30), *berlin), "2026-10-25T02:30:00+02:00");
  EXPECT_EQ(FormatLocal(Utc(2026, 10, 25, 1, 30), *berlin), "2026-10-25T02:30:00+01:00");
}

// As cronie and Vixie cron: with a `*` hour, the repeated hour's times fire at both
// occurrences, so a frequent schedule keeps its rhythm across the autumn change.
std::vector<int64_t> Fires(const CronSpec& c, const TimeZone& tz, int64_t from, int n) {
  std::vector<int64_t> out;
  for (int k = 0; k < n; ++k) {
    auto t = NextFire(c, tz, from);
    if (!t) break;
    out.push_back(from = *t);
  }
  return out;
}

TEST(Dst, BerlinAutumnEveryHourFiresAtBothOccurrences) {
  auto berlin = Zone("Europe/Berlin");
  // Hourly: 01:00 CEST, 02:00 CEST, 02:00 CET, 03:00 CET = 23:00, 00:00, 01:00, 02:00 UTC.
  EXPECT_EQ(Fires(Cron("0 * * * *"), *berlin, Utc(2026, 10, 24, 22, 30), 5),
            (std::vector<int64_t>{Utc(2026, 10, 24, 23, 0), Utc(2026, 10, 25, 0, 0), Utc(2026, 10, 25, 1, 0),
                                  Utc(2026, 10, 25, 2, 0), Utc(2026, 10, 25, 3, 0)}));
  EXPECT_EQ(Fires(Cron("@hourly"), *berlin, Utc(2026, 10, 25, 0, 0), 1), (std::vector<int64_t>{Utc(2026, 10, 25, 1, 0)}));
  // Every 30 minutes: no hole, every fire 30 minutes after the one before, 01:00 to 04:00 UTC.
  auto half = Fires(Cron("*/30 * * * *"), *berlin, Utc(2026, 10, 24, 23, 45), 9);
  ASSERT_EQ(half.size(), 9u);
  EXPECT_EQ(half.front(), Utc(2026, 10, 25, 0, 0));
  for (size_t k = 1; k < half.size(); ++k) EXPECT_EQ(half[k] - half[k - 1], 1800) << k;
  // Asked from inside the repeated hour (either occurrence), the next is the next real one.
  EXPECT_EQ(NextFire(Cron("*/30 * * * *"), *berlin, Utc(2026, 10, 25, 0, 45)), Utc(2026, 10, 25, 1, 0));
  EXPECT_EQ(NextFire(Cron("*/30 * * * *"), *berlin, Utc(2026, 10, 25, 1, 15)), Utc(2026, 10, 25, 1, 30));
  // The spring gap stays as it was: the missing 02:xx fire once at 03:00 CEST.
  EXPECT_EQ(Fires(Cron("*/30 * * * *"), *berlin, Utc(2026, 3, 29, 0, 15), 4),
            (std::vector<int64_t>{Utc(2026, 3, 29, 0, 30), Utc(2026, 3, 29, 1, 0), Utc(2026, 3, 29, 1, 30),
                                  Utc(2026, 3, 29, 2, 0)}));
  EXPECT_EQ(Fires(Cron("0 * * * *"), *berlin, Utc(2026, 3, 28, 23, 30), 3),
            (std::vector<int64_t>{Utc(2026, 3, 29, 0, 0), Utc(2026, 3, 29, 1, 0), Utc(2026, 3, 29, 2, 0)}));
}

TEST(Dst, NineOnWeekdaysInBerlin) {
  auto berlin = Zone("Europe/Berlin");
  CronSpec c = Cron("0 9 * * 1-5");
  // Friday 2026-03-27 09:00 CET (08:00 UTC) -> Monday 2026-03-30 09:00 CEST (07:00 UTC).
  EXPECT_EQ(NextFire(c, *berlin, Utc(2026, 3, 27, 8, 0)), Utc(2026, 3, 30, 7, 0));
}

std::vector<Schedule> Parse(const std::string& yaml, std::vector<Diagnostic>* errors) {
  YAML::Node root = YAML::Load(yaml);
  return ParseSchedules(root["schedule"], "flow.yaml", errors);
}

std::string Errors(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) out += d.ToString() + "\n";
  return out;
}

TEST(ParseSchedulesTest, ListAndMap) {
  std::vector<Diagnostic> errors;
  auto s = Parse(
      "schedule:\n"
      "  - name: daily\n"
      "    cron: \"0 9 * * 1-5\"\n"
      "    timezone: Europe/Berlin\n"
      "    inputs: {topic: weather, n: 3}\n"
      "    catch_up: once\n"
      "  - cron: \"@hourly\"\n",
      &errors);
  EXPECT_TRUE(errors.empty()) << Errors(errors);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].name, "daily");
  EXPECT_EQ(s[0].timezone, "Europe/Berlin");
  EXPECT_EQ(s[0].inputs["topic"], "weather");
  EXPECT_EQ(s[0].inputs["n"], 3);
  EXPECT_EQ(s[0].catch_up, CatchUp::kOnce);
  EXPECT_EQ(s[1].timezone, "UTC");
  EXPECT_EQ(s[1].catch_up, CatchUp::kSkip);
  EXPECT_EQ(s[1].Label(), "#1");
  EXPECT_EQ(ScheduleKey("/srv/f.yaml", s[0]), "/srv/f.yaml#daily");
  EXPECT_EQ(ScheduleKey("/srv/f.yaml", s[1]), "/srv/f.yaml#1");
  EXPECT_EQ(s[0].id, "");
  auto one = Parse("schedule: {cron: '*/5 * * * *'}\n", &errors);
  EXPECT_TRUE(errors.empty()) << Errors(errors);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].cron.minute.count(), 12u);
}

TEST(ParseSchedulesTest, AnIdMakesTheKeyIndependentOfThePath) {
  std::vector<Diagnostic> errors;
  auto s = Parse("schedule:\n  - {name: daily, id: report.daily-1, cron: '@daily'}\n  - {id: 2nd_one, cron: '@hourly'}\n",
                 &errors);
  EXPECT_TRUE(errors.empty()) << Errors(errors);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].id, "report.daily-1");
  EXPECT_EQ(ScheduleKey("/srv/a/f.yaml", s[0]), "id:report.daily-1");
  EXPECT_EQ(ScheduleKey("/home/b/f.yaml", s[0]), "id:report.daily-1");
  EXPECT_EQ(ScheduleKey("/srv/a/f.yaml", s[1]), "id:2nd_one");
  errors.clear();
  auto bad = Parse("schedule:\n  - {id: 'a b', cron: '@daily'}\n  - {id: -x, cron: '@daily'}\n  - {id: ok, cron: '@daily'}\n"
                   "  - {id: ok, cron: '@hourly'}\n  - {id: [1], cron: '@daily'}\n",
                   &errors);
  EXPECT_EQ(bad.size(), 1u);
  std::string all = Errors(errors);
  EXPECT_EQ(errors.size(), 4u) << all;
  EXPECT_NE(all.find("flow.yaml:2:10: schedule id \"a b\" must be 1-64 letters"), std::string::npos) << all;
  EXPECT_NE(all.find("duplicate schedule id \"ok\""), std::string::npos) << all;
}

TEST(ParseSchedulesTest, ErrorsWithPositions) {
  std::vector<Diagnostic> errors;
  auto s = Parse(
      "schedule:\n"
      "  - cron: \"0 25 * * *\"\n"          // line 2: hour at col 12 (quote at 11)
      "  - cron: 0 9 * * 1\n"
      "    timezone: Mars/Olympus\n"        // line 4
      "  - cron: '@daily'\n"
      "    catch_up: always\n"              // line 6
      "  - crn: '@daily'\n"                 // line 7
      "  - {name: a, cron: '@daily'}\n"
      "  - {name: a, cron: '@daily'}\n"     // line 9: duplicate
      "  - cron: 0 0 31 2 *\n"              // line 10: never
      "  - 42\n",                           // line 11
      &errors);
  EXPECT_EQ(s.size(), 1u) << Errors(errors);
  std::string all = Errors(errors);
  EXPECT_NE(all.find("flow.yaml:2:14: cron \"0 25 * * *\": hour 25 is out of range 0-23"), std::string::npos) << all;
  EXPECT_NE(all.find("flow.yaml:4:15: unknown time zone \"Mars/Olympus\""), std::string::npos) << all;
  EXPECT_NE(all.find("flow.yaml:6:15: catch_up must be \"skip\" or \"once\", got \"always\""), std::string::npos) << all;
  EXPECT_NE(all.find("flow.yaml:7:5: unknown key \"crn\" in schedule entry 4 (did you mean \"cron\"?)"), std::string::npos)
      << all;
  EXPECT_NE(all.find("flow.yaml:7:5: missing required key \"cron\""), std::string::npos) << all;
  EXPECT_NE(all.find("flow.yaml:9:12: duplicate schedule name \"a\""), std::string::npos) << all;
  EXPECT_NE(all.find("flow.yaml:10:11: cron \"0 0 31 2 *\" never fires"), std::string::npos) << all;
  EXPECT_NE(all.find("flow.yaml:11:5: expected a map"), std::string::npos) << all;
}

TEST(ParseSchedulesTest, WorkflowLoaderReadsSchedule) {
  fs::path dir = fs::temp_directory_path() / ("sw_sched_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string good = (dir / "good.yaml").string();
  std::ofstream(good) << "name: g\ninputs:\n  topic: {type: string}\n"
                         "schedule:\n  - {name: nightly, cron: '0 2 * * *', timezone: Europe/Berlin, inputs: {topic: x}}\n"
                         "nodes:\n  a: {kind: tool, tool: builtin://echo, args: {text: hi}}\n";
  auto r = Load(good);
  std::string all;
  for (const auto& d : r.errors) all += d.ToString() + "\n";
  ASSERT_TRUE(r.workflow) << all;
  ASSERT_EQ(r.workflow->schedules.size(), 1u);
  EXPECT_EQ(r.workflow->schedules[0].name, "nightly");
  std::string bad = (dir / "bad.yaml").string();
  std::ofstream(bad) << "name: g\ninputs:\n  topic: {type: string}\n"
                        "schedule:\n  - {cron: '0 2 * * *', inputs: {topik: x}}\n  - {cron: '0 2 * * * *'}\n"
                        "nodes:\n  a: {kind: tool, tool: builtin://echo, args: {text: hi}}\n";
  auto b = Load(bad);
  all.clear();
  for (const auto& d : b.errors) all += d.ToString() + "\n";
  EXPECT_FALSE(b.workflow);
  EXPECT_NE(all.find("bad.yaml:5:5: schedule \"#0\" sets input \"topik\", which the workflow does not declare (did you "
                     "mean \"topic\"?)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("bad.yaml:5:5: schedule \"#0\" gives no value for the required input \"topic\""), std::string::npos)
      << all;
  EXPECT_NE(all.find("bad.yaml:6:23: cron \"0 2 * * * *\": a cron expression has 5 fields"), std::string::npos) << all;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sw::workflow
