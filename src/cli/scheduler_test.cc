// Tests for finding schedules below a folder and for the ids of fired windows (scheduler.h);
// the loop itself is tested end to end in tests/e2e/scheduler_e2e_test.cc.
#include "cli/scheduler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

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
