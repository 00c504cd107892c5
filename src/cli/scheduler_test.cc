// Tests for finding schedules below a folder and for the ids of fired windows (scheduler.h);
// the loop itself is tested end to end in tests/e2e/scheduler_e2e_test.cc.
#include "cli/scheduler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "store/store.h"

namespace sw::cli {
namespace {

namespace fs = std::filesystem;

const char* kWorkflow = "name: w\nschedule: {name: daily, cron: '@daily'}\nnodes:\n  a: {kind: tool, tool: builtin://echo, args: {text: x}}\n";

class SchedulerFind : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sw_sched_find_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  fs::path dir_;
};

TEST_F(SchedulerFind, WalksFourLevelsSkippingHiddenAndNodeModules) {
  Write("flow.yaml", kWorkflow);
  Write("a/b/c/deep.yml", kWorkflow);               // depth 4: found
  Write("a/b/c/d/too-deep.yaml", kWorkflow);        // depth 5: not
  Write(".hidden/flow.yaml", kWorkflow);
  Write("node_modules/pkg/flow.yaml", kWorkflow);
  Write("plain.yaml", "name: p\nnodes:\n  a: {kind: tool, tool: builtin://echo, args: {text: x}}\n");
  Write("notes.yaml", "just: [some, data]\n");      // not a workflow, no schedule: ignored
  Write("suite.yaml", "name: s\nworkflow: flow.yaml\ncases: [{inputs: {}}]\nschedule:\n  - cron: '0 3 * * *'\n");
  std::vector<workflow::Diagnostic> errors;
  auto found = FindSchedules({}, dir_.string(), &errors);
  EXPECT_TRUE(errors.empty()) << errors[0].ToString();
  std::vector<std::string> keys;
  for (const auto& f : found) keys.push_back(f.key.substr(dir_.string().size() + 1) + " " + f.kind);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"a/b/c/deep.yml#daily workflow", "flow.yaml#daily workflow",
                                            "suite.yaml#0 eval"}));
}

TEST_F(SchedulerFind, ProblemsArePositionedAndLeaveTheOtherFilesAlone) {
  Write("good.yaml", kWorkflow);
  Write("broken.yaml", "name: b\nschedule: [cron: '* * * * *'\nnodes: {}\n");
  Write("neither.yaml", "name: n\nschedule: {cron: '@daily'}\n");
  Write("suite.yaml", "name: s\nworkflow: good.yaml\ndataset: cases.jsonl\nschedule: {cron: '@daily', inputs: {a: 1}}\n");
  Write("badwf.yaml", "name: w\nschedule: {cron: '@daily', inputs: {nope: 1}}\nnodes:\n  a: {kind: tool, tool: builtin://echo, args: {text: x}}\n");
  std::vector<workflow::Diagnostic> errors;
  auto found = FindSchedules({}, dir_.string(), &errors);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].schedule.name, "daily");
  std::string all;
  for (const auto& e : errors) all += e.ToString() + "\n";
  EXPECT_EQ(errors.size(), 4u) << all;
  EXPECT_TRUE(std::regex_search(all, std::regex("broken\\.yaml:\\d+:\\d+"))) << all;
  EXPECT_NE(all.find("neither.yaml:1:1: `schedule:` is in a file that is neither a workflow"), std::string::npos) << all;
  EXPECT_NE(all.find("suite.yaml:4:11: schedule \"#0\" of an eval suite takes no inputs"), std::string::npos) << all;
  EXPECT_NE(all.find("badwf.yaml:2:11: schedule \"#0\" sets input \"nope\", which the workflow does not declare"),
            std::string::npos)
      << all;
  // Named explicitly, a file without a schedule is a mistake.
  errors.clear();
  Write("plain.yaml", "name: p\nnodes:\n  a: {kind: tool, tool: builtin://echo, args: {text: x}}\n");
  EXPECT_TRUE(FindSchedules({(dir_ / "plain.yaml").string()}, "", &errors).empty());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].ToString().find("plain.yaml:1:1: no `schedule:` in this file"), std::string::npos);
}

TEST_F(SchedulerFind, AnIdIsOneScheduleAcrossFiles) {
  Write("a.yaml", "name: a\nschedule: {id: report, cron: '@daily'}\nnodes:\n  a: {kind: tool, tool: builtin://echo, args: {text: x}}\n");
  Write("b.yaml", "name: b\nschedule: {id: report, cron: '@hourly'}\nnodes:\n  a: {kind: tool, tool: builtin://echo, args: {text: x}}\n");
  std::vector<workflow::Diagnostic> errors;
  auto found = FindSchedules({}, dir_.string(), &errors);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].key, "id:report");
  EXPECT_EQ(found[0].file, fs::weakly_canonical(dir_ / "a.yaml").string());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].ToString().find("schedule id \"report\" is also used in"), std::string::npos) << errors[0].ToString();
  // Without ids on a PostgreSQL store, each entry is warned about; with one, or on SQLite, not.
  Write("b.yaml", "name: b\nschedule: {cron: '@hourly'}\nnodes:\n  a: {kind: tool, tool: builtin://echo, args: {text: x}}\n");
  errors.clear();
  found = FindSchedules({}, dir_.string(), &errors);
  ASSERT_EQ(found.size(), 2u);
  auto w = SharedStoreWarnings(found, "postgresql://u@h/db");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("b.yaml#0 has no id"), std::string::npos) << w[0];
  EXPECT_TRUE(SharedStoreWarnings(found, "/tmp/store").empty());
}

TEST(HasTopLevelKeyTest, OnlyALineStartingWithTheKeyAndAColon) {
  EXPECT_TRUE(HasTopLevelKey("schedule: {cron: x}\n", "schedule"));
  EXPECT_TRUE(HasTopLevelKey("name: a\nschedule :\n  - x\n", "schedule"));
  EXPECT_TRUE(HasTopLevelKey("name: a\r\nschedule:\r\n", "schedule"));
  EXPECT_TRUE(HasTopLevelKey("a: schedule\nschedule\t:", "schedule"));
  EXPECT_FALSE(HasTopLevelKey("  schedule: x\n", "schedule"));
  EXPECT_FALSE(HasTopLevelKey("schedules: x\n", "schedule"));
  EXPECT_FALSE(HasTopLevelKey("my_schedule: x\nschedule", "schedule"));
  EXPECT_FALSE(HasTopLevelKey("", "schedule"));
}

TEST(SchedulerTick, AFireInTheFutureIsReportedEveryTick) {
  fs::path dir = fs::temp_directory_path() / ("sw_sched_future_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "flow.yaml") << kWorkflow;
  auto st = store::OpenStore((dir / "store").string());
  ASSERT_TRUE(st.ok()) << st.status().message();
  double now = 1774742400 + 3600;  // 2026-03-29 01:00 UTC
  std::vector<workflow::Diagnostic> errors;
  auto found = FindSchedules({(dir / "flow.yaml").string()}, "", &errors);
  ASSERT_EQ(found.size(), 1u);
  // Claimed while the clock was two days ahead.
  store::FireRecord r;
  r.schedule = found[0].key;
  r.fire_at = 1774742400 + 2 * 86400;
  r.status = "skipped";
  r.claimed_at = now;
  r.claimed_by = "test";
  ASSERT_TRUE((*st)->ClaimFire(r).ok());
  SchedulerOptions o;
  o.files = {(dir / "flow.yaml").string()};
  o.log_dir = (dir / "logs").string();
  std::vector<std::string> lines;
  o.log = [&](const std::string& l) { lines.push_back(l); };
  Scheduler sch(st->get(), o);
  ASSERT_TRUE(sch.Tick(now).ok());
  ASSERT_TRUE(sch.Tick(now + 15).ok());
  int warned = 0;
  for (const auto& l : lines)
    if (l.find("WARNING: the newest fire of " + found[0].key + " is at 2026-03-31T00:00Z") != std::string::npos) ++warned;
  EXPECT_EQ(warned, 2) << ::testing::PrintToString(lines);
  EXPECT_EQ(sch.started(), 0);
  fs::remove_all(dir);
}

TEST(FireRunIdTest, OneSortableIdPerWindowAndSchedule) {
  std::string a = FireRunId("/w/f.yaml#daily", 1774742400);  // 2026-03-29 00:00 UTC
  EXPECT_TRUE(std::regex_match(a, std::regex("20260329-0000-s[0-9a-f]{10}"))) << a;
  EXPECT_EQ(a, FireRunId("/w/f.yaml#daily", 1774742400));
  EXPECT_NE(a, FireRunId("/w/f.yaml#nightly", 1774742400));
  EXPECT_EQ(FireRunId("/w/f.yaml#daily", 1774742400 + 9 * 3600 + 30 * 60).substr(0, 14), "20260329-0930-");
  EXPECT_LT(a, FireRunId("/w/f.yaml#daily", 1774742400 + 60));
}

}  // namespace
}  // namespace sw::cli
