#include "dist/bundle.h"

#include "workflow/patterns.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace sw::dist {
namespace {

namespace fs = std::filesystem;

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_bundle_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    fs::create_directories(fs::path(dir_ + "/" + name).parent_path());
    std::ofstream(dir_ + "/" + name) << text;
  }
  std::string dir_;
};

TEST_F(BundleTest, AWorkflowAndItsFilesLoadElsewhereAsSubmitted) {
  Write("prompts/a.md", "hello {{inputs.x}}\n");
  Write("w/sub/sub.yaml", "name: s\ndefaults: {model: scripted/m}\nnodes:\n  b: {prompt: {file: b.md}}\n");
  Write("w/sub/b.md", "sub prompt\n");
  Write("w/flow.yaml",
        "name: t\ninputs: {x: {type: string, default: y}}\ndefaults: {model: scripted/m}\nnodes:\n"
        "  a: {prompt: {file: ../prompts/a.md}}\n  s: {kind: workflow, needs: [a], workflow: sub/sub.yaml}\n");
  auto wf = workflow::LoadOrError(dir_ + "/w/flow.yaml");
  ASSERT_TRUE(wf.ok()) << wf.status().message();
  auto bundle = MakeBundle(**wf);
  ASSERT_TRUE(bundle.ok()) << bundle.status().message();
  EXPECT_EQ((*bundle)["files"].size(), 4u);  // flow, its prompt (outside its folder), sub, sub's prompt
  fs::remove_all(dir_ + "/w");
  fs::remove_all(dir_ + "/prompts");
  auto loaded = LoadBundle(*bundle, dir_ + "/scratch");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ((*loaded)->source_hash, (*wf)->source_hash);
  EXPECT_EQ((*loaded)->file, dir_ + "/w/flow.yaml");
  EXPECT_EQ((*loaded)->dir, dir_ + "/w");
  const auto* s = (*loaded)->Find("s");
  ASSERT_NE(s, nullptr);
  ASSERT_NE(s->sub, nullptr);
  EXPECT_EQ(s->sub->file, dir_ + "/w/sub/sub.yaml");
  EXPECT_EQ(s->workflow_file, dir_ + "/w/sub/sub.yaml");
  EXPECT_EQ((*loaded)->Find("a")->prompt->file, dir_ + "/prompts/a.md");
}

TEST_F(BundleTest, AStdPatternTravelsInTheBundleAndResolvesToItsCopy) {
  Write("w/flow.yaml",
        "name: t\nnodes:\n  c: {kind: workflow, workflow: std/critic, model: scripted/m, with: {task: x}}\n");
  auto wf = workflow::LoadOrError(dir_ + "/w/flow.yaml");
  ASSERT_TRUE(wf.ok()) << wf.status().message();
  auto bundle = MakeBundle(**wf);
  ASSERT_TRUE(bundle.ok()) << bundle.status().message();
  std::string pattern = workflow::PatternsDir() + "/std/critic.yaml";
  ASSERT_TRUE((*bundle)["files"].contains(pattern)) << (*bundle)["files"].dump();
  EXPECT_EQ((*bundle)["patterns_dir"], workflow::PatternsDir());
  // The worker uses the submitter's copy, not its own library: change the copy and see it.
  std::string text = (*bundle)["files"][pattern].get<std::string>();
  std::string from = "\ndescription: ";
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(), "\ndescription: AS SUBMITTED. ");
  (*bundle)["files"][pattern] = text;
  auto loaded = LoadBundle(*bundle, dir_ + "/scratch");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const auto* c = (*loaded)->Find("c");
  ASSERT_NE(c, nullptr);
  ASSERT_NE(c->sub, nullptr);
  EXPECT_EQ(c->sub->description.rfind("AS SUBMITTED. ", 0), 0u) << c->sub->description;
  EXPECT_EQ(c->sub->file, pattern);  // shown with its path on the submitting machine
  EXPECT_EQ(c->sub->Find("writer")->model.model, "scripted/m");
  EXPECT_EQ(workflow::PatternsDir(), (*bundle)["patterns_dir"].get<std::string>());  // the scope ended
  // Without the pattern's file in the bundle, std/critic is not found in the copy.
  (*bundle)["files"].erase(pattern);
  auto missing = LoadBundle(*bundle, dir_ + "/scratch2");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no pattern std/critic"), std::string::npos) << missing.status().message();
  (*bundle)["patterns_dir"] = "relative/dir";
  EXPECT_FALSE(LoadBundle(*bundle, dir_ + "/scratch3").ok());
}

TEST_F(BundleTest, ABundleWritesOnlyInsideItsScratchFolder) {
  for (const char* bad : {"relative/x.yaml", "/a/../../etc/x.yaml", "/a/b/../../../x"}) {
    nlohmann::json b{{"root", "/a/flow.yaml"}, {"files", {{bad, "x"}}}};
    auto r = LoadBundle(b, dir_ + "/scratch");
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_FALSE(fs::exists(dir_ + "/etc"));
  EXPECT_FALSE(LoadBundle(nlohmann::json{{"root", 3}}, dir_ + "/s").ok());
}

TEST_F(BundleTest, WhatAWorkerElsewhereCannotRunIsRefusedWithItsPosition) {
  Write("copy.yaml", "name: c\nworkspace: {copy: .}\nnodes:\n  a: {kind: tool, tool: builtin://echo}\n");
  auto c = workflow::LoadOrError(dir_ + "/copy.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  Status s = CheckDetachable(**c);
  EXPECT_EQ(s.code(), Code::kInvalidInput);
  EXPECT_NE(s.message().find("copy.yaml:2:"), std::string::npos) << s.message();
  Write("server.py", "print()\n");
  Write("mcp.yaml", "name: m\nmcp_servers:\n  local: {command: python3, args: [server.py]}\nnodes:\n"
                    "  a: {kind: tool, tool: builtin://echo}\n");
  auto m = workflow::LoadOrError(dir_ + "/mcp.yaml");
  ASSERT_TRUE(m.ok()) << m.status().message();
  s = CheckDetachable(**m);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("\"server.py\" beside the workflow"), std::string::npos) << s.message();
  Write("ok.yaml", "name: k\nmcp_servers:\n  remote: {command: npx, args: [-y, some-server]}\nworkspace: empty\nnodes:\n"
                   "  a: {kind: tool, tool: builtin://echo}\n");
  auto k = workflow::LoadOrError(dir_ + "/ok.yaml");
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_TRUE(CheckDetachable(**k).ok());
}

}  // namespace
}  // namespace sw::dist
