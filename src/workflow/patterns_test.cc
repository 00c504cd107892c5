// Tests for the shipped pattern library (patterns/std) and its use from a workflow:
// `workflow: std/NAME` resolution, errors with positions, `model:`/`models:` on a workflow
// node, the editor's confine, and ScopedPatternsDir.
#include "workflow/patterns.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "workflow/workflow.h"

namespace sw::workflow {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kShipped = {"std/best-of-n", "std/critic",    "std/debate",          "std/judge",
                                           "std/map-reduce", "std/reflexion", "std/plan-and-execute"};

std::string AllErrors(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.errors) out += "  " + d.ToString() + "\n";
  return out;
}

class PatternsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("sw_patterns_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& rel, const std::string& text) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  fs::path dir_;
};

TEST(PatternRef, OnlyStdSlashAPlainNameIsAPattern) {
  EXPECT_TRUE(IsPatternRef("std/critic"));
  EXPECT_TRUE(IsPatternRef("std/best-of-n"));
  EXPECT_FALSE(IsPatternRef("std/"));
  EXPECT_FALSE(IsPatternRef("std/critic.yaml"));  // a file: relative to the workflow
  EXPECT_FALSE(IsPatternRef("std/a/b"));
  EXPECT_FALSE(IsPatternRef("./std/critic"));
  EXPECT_FALSE(IsPatternRef("std/Critic"));
  EXPECT_FALSE(IsPatternRef("sub.yaml"));
}

TEST(PatternLibrary, EveryShippedPatternLoadsAndDocumentsItsInterface) {
  ASSERT_FALSE(PatternsDir().empty());
  std::vector<std::string> names = PatternNames();
  for (const auto& want : kShipped)
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want << " is not shipped";
  for (const auto& ref : names) {
    SCOPED_TRACE(ref);
    auto path = ResolvePattern(ref);
    ASSERT_TRUE(path.ok()) << path.status().message();
    EXPECT_EQ(*path, PatternsDir() + "/" + ref + ".yaml");
    LoadResult r = Load(*path);
    ASSERT_TRUE(r.errors.empty()) << AllErrors(r);
    EXPECT_TRUE(r.warnings.empty()) << r.warnings.front().ToString();
    const Workflow& wf = *r.workflow;
    EXPECT_FALSE(wf.description.empty());
    ASSERT_FALSE(wf.inputs.empty());
    for (const auto& in : wf.inputs) EXPECT_FALSE(in.description.empty()) << "input " << in.name << " is undocumented";
    // One sink: the sub-run's output (nodes.X.json.output of the calling node) is its output.
    int sinks = 0;
    for (const auto& n : wf.nodes) {
      bool needed = false;
      for (const auto& m : wf.nodes)
        needed = needed || std::find(m.needs.begin(), m.needs.end(), n.id) != m.needs.end();
      if (!needed) ++sinks;
    }
    EXPECT_EQ(sinks, 1);
  }
}

TEST_F(PatternsTest, AWorkflowNodeNamesAPatternByName) {
  std::string f = Write("flow.yaml",
                        "name: t\nnodes:\n  d:\n    kind: workflow\n    workflow: std/debate\n"
                        "    with: {question: \"tabs or spaces?\"}\n");
  LoadResult r = Load(f);
  ASSERT_TRUE(r.errors.empty()) << AllErrors(r);
  const Node* d = r.workflow->Find("d");
  ASSERT_NE(d, nullptr);
  ASSERT_NE(d->sub, nullptr);
  EXPECT_EQ(d->workflow_file, PatternsDir() + "/std/debate.yaml");
  EXPECT_EQ(d->sub->file, d->workflow_file);
  EXPECT_EQ(d->sub->name, "std-debate");
}

TEST_F(PatternsTest, AnUnknownPatternIsAnErrorAtItsPositionNamingTheLibrary) {
  std::string f = Write("flow.yaml",
                        "name: t\nnodes:\n  d:\n    kind: workflow\n    workflow: std/debat\n    with: {question: q}\n");
  LoadResult r = Load(f);
  ASSERT_EQ(r.errors.size(), 1u) << AllErrors(r);
  const Diagnostic& e = r.errors[0];
  EXPECT_EQ(e.pos.line, 5);
  EXPECT_EQ(e.pos.col, 15);
  EXPECT_NE(e.message.find("no pattern std/debat"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find(PatternsDir()), std::string::npos) << e.message;
  for (const auto& name : kShipped) EXPECT_NE(e.message.find(name), std::string::npos) << e.message;
}

TEST_F(PatternsTest, APatternsRequiredInputsAndUnknownInputsAreChecked) {
  std::string f = Write("flow.yaml",
                        "name: t\nnodes:\n  c:\n    kind: workflow\n    workflow: std/critic\n"
                        "    with: {tsak: x}\n");
  LoadResult r = Load(f);
  std::string all = AllErrors(r);
  EXPECT_NE(all.find("6:12: sub-workflow \"std/critic\" has no input \"tsak\" (did you mean \"task\"?)"), std::string::npos)
      << all;
  EXPECT_NE(all.find("requires input \"task\""), std::string::npos) << all;
}

TEST_F(PatternsTest, ModelAndModelsPickTheModelsOfTheSubWorkflowsRoles) {
  std::string f = Write("flow.yaml",
                        "name: t\nnodes:\n"
                        "  one:\n    kind: workflow\n    workflow: std/critic\n    with: {task: x}\n"
                        "    model: scripted/all\n    models: {critic: scripted/strict}\n"
                        "  two:\n    kind: workflow\n    workflow: std/critic\n    with: {task: x}\n");
  LoadResult r = Load(f);
  ASSERT_TRUE(r.errors.empty()) << AllErrors(r);
  const Node* one = r.workflow->Find("one");
  const Node* two = r.workflow->Find("two");
  EXPECT_EQ(one->sub->Find("writer")->model.model, "scripted/all");
  EXPECT_EQ(one->sub->Find("critic")->model.model, "scripted/strict");
  // The file loaded once is shared: the other node keeps the pattern's own default.
  EXPECT_EQ(two->sub->Find("writer")->model.model, "openai/gpt-4o-mini");
  EXPECT_EQ(two->sub->Find("critic")->model.model, "openai/gpt-4o-mini");
  // Hashes follow the model, so neither the cache nor a replay mistakes one for the other.
  EXPECT_NE(one->sub->Find("writer")->definition_hash, two->sub->Find("writer")->definition_hash);
  EXPECT_EQ(one->sub->Find("notes")->definition_hash, two->sub->Find("notes")->definition_hash);
  EXPECT_NE(one->sub->source_hash, two->sub->source_hash);
  EXPECT_NE(one->definition_hash, two->definition_hash);
}

TEST_F(PatternsTest, ModelsNamesOnlyModelNodesOfTheSubWorkflow) {
  std::string f = Write("flow.yaml",
                        "name: t\nnodes:\n  c:\n    kind: workflow\n    workflow: std/critic\n    with: {task: x}\n"
                        "    models: {critc: scripted/a, notes: scripted/b, writer: gpt4}\n    model: 7\n");
  LoadResult r = Load(f);
  std::string all = AllErrors(r);
  EXPECT_NE(all.find("7:14: sub-workflow \"std/critic\" has no llm or agent node \"critc\" (did you mean \"critic\"?)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("7:33: sub-workflow \"std/critic\" has no llm or agent node \"notes\""), std::string::npos) << all;
  EXPECT_NE(all.find("7:60: invalid model \"gpt4\""), std::string::npos) << all;  // "gpt4" is not provider/name
  EXPECT_NE(all.find("8:12: invalid model \"7\""), std::string::npos) << all;  // model: 7
  EXPECT_EQ(r.workflow, nullptr);
}

TEST_F(PatternsTest, ModelsOnAnLlmNodeIsNotValid) {
  std::string f = Write("flow.yaml", "name: t\nnodes:\n  a: {prompt: x, model: scripted/m, models: {a: scripted/m}}\n");
  LoadResult r = Load(f);
  std::string all = AllErrors(r);
  EXPECT_NE(all.find("key \"models\" is not valid for a node of kind llm"), std::string::npos) << all;
}

TEST_F(PatternsTest, TheEditorsConfineAllowsTheShippedPatternsAndNothingElseOutside) {
  std::string text =
      "name: t\nnodes:\n  c:\n    kind: workflow\n    workflow: std/critic\n    with: {task: x}\n"
      "  o:\n    kind: workflow\n    workflow: ../outside.yaml\n";
  Write("../outside_" + dir_.filename().string() + ".yaml", "name: o\nnodes:\n  a: {prompt: x, model: scripted/m}\n");
  std::string path = (dir_ / "flow.yaml").string();
  LoadResult r = Load(path, &text, dir_.string());
  ASSERT_EQ(r.errors.size(), 1u) << AllErrors(r);
  EXPECT_EQ(r.errors[0].pos.line, 9);
  EXPECT_NE(r.errors[0].message.find("is outside"), std::string::npos) << r.errors[0].message;
  ASSERT_NE(r.partial, nullptr);
  ASSERT_NE(r.partial->Find("c")->sub, nullptr);  // the pattern was read
  fs::remove(dir_.parent_path() / ("outside_" + dir_.filename().string() + ".yaml"));
}

TEST_F(PatternsTest, TheConfineExceptionIsOnlyForStdReferencesAndWhatThePatternItselfReads) {
  // The library lies outside the confined work dir. A pattern reached by `std/NAME` may read its
  // own prompt file and sub-workflow inside the library; a plain path into the library, a
  // prompt file of the work dir's own workflow pointing there, or a pattern's reference out of
  // the library are all refused — the same file included both ways is refused the plain way.
  Write("lib/std/p.yaml",
        "name: p\ninputs: {a: {type: string, description: d}}\nnodes:\n"
        "  x: {prompt: {file: p.md}, model: scripted/m}\n"
        "  s: {kind: workflow, workflow: helper.yaml, needs: x}\n");
  Write("lib/std/p.md", "say {{inputs.a}}\n");
  Write("lib/std/helper.yaml", "name: h\nnodes:\n  h: {prompt: {file: h.md}, model: scripted/m}\n");
  Write("lib/std/h.md", "help\n");
  Write("lib/std/leaky.yaml",
        "name: l\nnodes:\n  o: {kind: workflow, workflow: ../../secret.yaml}\n");
  Write("secret.yaml", "name: s\nnodes:\n  a: {prompt: x, model: scripted/m}\n");
  fs::create_directories(dir_ / "work");
  ScopedPatternsDir scope((dir_ / "lib").string());
  std::string path = (dir_ / "work/flow.yaml").string();
  std::string lib = (dir_ / "lib/std").string();

  std::string ok = "name: t\nnodes:\n  c: {kind: workflow, workflow: std/p, with: {a: y}}\n";
  LoadResult good = Load(path, &ok, (dir_ / "work").string());
  EXPECT_TRUE(good.errors.empty()) << AllErrors(good);

  std::string plain = "name: t\nnodes:\n  c: {kind: workflow, workflow: std/p, with: {a: y}}\n"
                      "  d: {kind: workflow, workflow: " + lib + "/p.yaml, with: {a: y}}\n"
                      "  e: {kind: workflow, workflow: " + lib + "/helper.yaml}\n"
                      "  f: {prompt: {file: " + lib + "/h.md}, model: scripted/m}\n";
  LoadResult r = Load(path, &plain, (dir_ / "work").string());
  std::vector<int> lines;
  for (const auto& d : r.errors)
    if (d.message.find("is outside") != std::string::npos) lines.push_back(d.pos.line);
  EXPECT_EQ(lines, (std::vector<int>{4, 5, 6})) << AllErrors(r);

  std::string leaky = "name: t\nnodes:\n  c: {kind: workflow, workflow: std/leaky}\n";
  LoadResult l = Load(path, &leaky, (dir_ / "work").string());
  bool refused = false;
  for (const auto& d : l.errors) refused |= d.message.find("\"../../secret.yaml\" is outside") != std::string::npos;
  EXPECT_TRUE(refused) << AllErrors(l);

  // Unconfined (the CLI), every way is fine.
  LoadResult free = Load(path, &plain);
  EXPECT_TRUE(free.errors.empty()) << AllErrors(free);
}

TEST_F(PatternsTest, TheEnvironmentsDirIsPlainWithoutATrailingSlash) {
  // A bundle finds the patterns it carries by the prefix PatternsDir() + "/": "/x/patterns/"
  // would never match "/x/patterns/std/critic.yaml", and the worker would use its own library.
  Write("lib/std/p.yaml", "name: x\nnodes:\n  a: {prompt: x, model: scripted/m}\n");
  const char* old = std::getenv("SPECWRIGHT_PATTERNS_DIR");
  std::string saved = old ? old : "";
  ::setenv("SPECWRIGHT_PATTERNS_DIR", ((dir_ / "lib").string() + "//").c_str(), 1);
  EXPECT_EQ(PatternsDir(), (dir_ / "lib").string());
  auto p = ResolvePattern("std/p");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(*p, (dir_ / "lib/std/p.yaml").string());
  ::setenv("SPECWRIGHT_PATTERNS_DIR", (dir_ / "nothing").string().c_str(), 1);
  auto none = ResolvePattern("std/p");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("SPECWRIGHT_PATTERNS_DIR is " + (dir_ / "nothing").string()), std::string::npos)
      << none.status().message();
  if (old) {
    ::setenv("SPECWRIGHT_PATTERNS_DIR", saved.c_str(), 1);
  } else {
    ::unsetenv("SPECWRIGHT_PATTERNS_DIR");
  }
}

TEST_F(PatternsTest, AScopedPatternsDirAnswersOnThisThreadOnly) {
  Write("lib/std/only-here.yaml", "name: x\ninputs: {a: {type: string, description: d}}\nnodes:\n  a: {prompt: x, model: scripted/m}\n");
  std::string shipped = PatternsDir();
  {
    ScopedPatternsDir scope((dir_ / "lib").string());
    EXPECT_EQ(PatternsDir(), (dir_ / "lib").string());
    auto p = ResolvePattern("std/only-here");
    ASSERT_TRUE(p.ok()) << p.status().message();
    EXPECT_EQ(*p, (dir_ / "lib/std/only-here.yaml").string());
    EXPECT_FALSE(ResolvePattern("std/critic").ok());  // not in this library
    std::string other;
    std::thread([&] { other = PatternsDir(); }).join();
    EXPECT_EQ(other, shipped);
  }
  EXPECT_EQ(PatternsDir(), shipped);
  auto gone = ResolvePattern("std/only-here");
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.status().message().find("std/critic"), std::string::npos) << gone.status().message();
}

}  // namespace
}  // namespace sw::workflow
