// The user-level config through the real binary: a provider defined only in
// $XDG_CONFIG_HOME/specwright/specwright.yaml serves a run over real HTTP, with the project's
// specwright.yaml merged over it; an error in the user's file names that file.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "cli_runner.h"

namespace {

namespace fs = std::filesystem;
using namespace e2e;

class UserConfigE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_ucfg_e2e_XXXXXX";
    dir_ = mkdtemp(tmpl);
    fs::create_directories(dir_ + "/xdg/specwright");
    fs::create_directories(dir_ + "/project");
    for (const char* v : {"XDG_CONFIG_HOME", "LAB_KEY", "SPECWRIGHT_CONFIG"}) {
      const char* old = getenv(v);
      saved_.emplace_back(v, old ? std::optional<std::string>(old) : std::nullopt);
    }
    setenv("XDG_CONFIG_HOME", (dir_ + "/xdg").c_str(), 1);
    setenv("LAB_KEY", "sk-lab-0123456789", 1);
    unsetenv("SPECWRIGHT_CONFIG");
    // The project's ./specwright.yaml is found in the working directory, which the runs inherit.
    old_cwd_ = fs::current_path();
    fs::current_path(dir_ + "/project");
    std::ofstream(dir_ + "/project/flow.yaml") << "name: one\nnodes:\n  ask:\n    model: lab/fake-model\n"
                                                  "    prompt: \"say hello\"\n";
  }
  void TearDown() override {
    fs::current_path(old_cwd_);
    for (const auto& [k, v] : saved_) {
      if (v) setenv(k.c_str(), v->c_str(), 1);
      else unsetenv(k.c_str());
    }
    fs::remove_all(dir_);
  }
  std::string dir_;
  fs::path old_cwd_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST_F(UserConfigE2E, AProviderFromTheUserFileServesARunUnderTheProjectsFile) {
  FakeLlm fake({"--latency-ms", "5"});
  ASSERT_FALSE(fake.url.empty());
  std::ofstream(dir_ + "/xdg/specwright/specwright.yaml")
      << "providers:\n  lab: {api: openai-compatible, base_url: " << fake.url
      << "/v1, api_key: \"${LAB_KEY}\", rpm: 1000}\nprices: prices.json\n";
  std::ofstream(dir_ + "/xdg/specwright/prices.json")
      << R"({"lab/fake-model": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}})";
  // The project's file, merged over the user's: it sets one field of the same provider.
  std::ofstream(dir_ + "/project/specwright.yaml") << "providers:\n  lab: {rpm: 500}\n";
  auto r = RunCli({"run", "flow.yaml", "--store", dir_ + "/store"}, dir_ + "/project");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("no price known"), std::string::npos) << "the user's price file applies: " << r.err;
  EXPECT_EQ(r.err.find("sk-lab-0123456789"), std::string::npos);

  // Without the user's file the project's names a provider nobody defined; without either,
  // the model's provider is unknown.
  fs::remove(dir_ + "/xdg/specwright/specwright.yaml");
  r = RunCli({"run", "flow.yaml", "--store", dir_ + "/store"}, dir_ + "/project");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("specwright.yaml:2:3: provider \"lab\" is not built in"), std::string::npos) << r.err;
  fs::remove(dir_ + "/project/specwright.yaml");
  r = RunCli({"run", "flow.yaml", "--store", dir_ + "/store"}, dir_ + "/project");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("no provider \"lab\""), std::string::npos) << r.err;
}

TEST_F(UserConfigE2E, ErrorsNameTheUserFileLineAndColumn) {
  std::string user = dir_ + "/xdg/specwright/specwright.yaml";
  std::ofstream(user) << "providers:\n  lab: {api: openai, base_url: http://x/v1, rmp: 5}\n";
  auto r = RunCli({"run", "flow.yaml", "--store", dir_ + "/store"}, dir_ + "/project");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(user + ":2:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean \"rpm\""), std::string::npos) << r.err;
  std::ofstream(user) << "spec: {format: plain}\n";
  r = RunCli({"run", "flow.yaml", "--store", dir_ + "/store"}, dir_ + "/project");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(user + ":1:1: spec: describes one project"), std::string::npos) << r.err;
}

}  // namespace
