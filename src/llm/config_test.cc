// The user-level config ($XDG_CONFIG_HOME/specwright/specwright.yaml) under the project's:
// where it is looked for, how the two merge, and what only a project may say.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "llm/config.h"

namespace sw::llm {
namespace {

namespace fs = std::filesystem;

GetEnv Vars(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class UserConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir() + "/sw_user_cfg_" + std::to_string(::getpid())).lexically_normal().string();
    fs::remove_all(dir_);
    fs::create_directories(dir_ + "/xdg/specwright");
    fs::create_directories(dir_ + "/project");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) { std::ofstream(dir_ + "/" + rel) << text; }
  std::string User() { return dir_ + "/xdg/specwright/specwright.yaml"; }
  std::string dir_;
};

TEST_F(UserConfig, IsFoundUnderXdgConfigHomeElseUnderHome) {
  EXPECT_EQ(UserConfigPath(Vars({{"XDG_CONFIG_HOME", "/x/cfg"}, {"HOME", "/home/u"}})),
            "/x/cfg/specwright/specwright.yaml");
  EXPECT_EQ(UserConfigPath(Vars({{"HOME", "/home/u"}})), "/home/u/.config/specwright/specwright.yaml");
  EXPECT_EQ(UserConfigPath(Vars({{"XDG_CONFIG_HOME", ""}, {"HOME", "/home/u"}})),
            "/home/u/.config/specwright/specwright.yaml");
  EXPECT_EQ(UserConfigPath(Vars({{"XDG_CONFIG_HOME", "relative"}, {"HOME", "/home/u"}})),
            "/home/u/.config/specwright/specwright.yaml")
      << "a relative XDG_CONFIG_HOME is ignored, as the spec says";
  EXPECT_EQ(UserConfigPath(Vars({})), "");
}

TEST_F(UserConfig, TheProjectWinsFieldByFieldAndTheUsersProvidersStay) {
  Write("xdg/specwright/specwright.yaml",
        "providers:\n"
        "  lab: {api: openai, base_url: http://lab.local/v1, api_key: \"${LAB_KEY}\", rpm: 60,\n"
        "        headers: {X-Team: mine, X-Only-User: u}}\n"
        "  mine: {api: ollama, base_url: http://gpu.local:11434}\n"
        "prices: my-prices.json\n"
        "roles: {architect: lab/big}\n");
  Write("project/specwright.yaml",
        "providers:\n"
        "  lab: {rpm: 10, headers: {x-team: project}}\n"
        "prices: prices.json\n");
  auto env = Vars({{"XDG_CONFIG_HOME", dir_ + "/xdg"}, {"LAB_KEY", "sk-lab-123456"}});
  LlmConfig cfg = BuiltinConfig(env);
  std::string used;
  Status s = LoadConfigs(dir_ + "/project/specwright.yaml", env, &cfg, &used);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(used, User());
  const ProviderConfig& lab = cfg.providers.at("lab");
  EXPECT_EQ(lab.rpm, 10) << "the project's field";
  EXPECT_EQ(lab.base_url, "http://lab.local/v1") << "the user's field the project does not set";
  EXPECT_EQ(lab.api_key, "sk-lab-123456") << "keys from the environment, as in the project file";
  ASSERT_EQ(lab.headers.size(), 2u);
  EXPECT_EQ(lab.headers[0].first, "X-Only-User");
  EXPECT_EQ(lab.headers[1].second, "project") << "a header both set is the project's, sent once";
  EXPECT_TRUE(cfg.providers.count("mine")) << "a provider only the user defines";
  EXPECT_TRUE(CheckUsable(cfg, "lab", "node a").ok());
  // Price files: the user's (beside the user's file), then the project's, which wins.
  ASSERT_EQ(cfg.price_files.size(), 2u);
  EXPECT_EQ(cfg.price_files[0], dir_ + "/xdg/specwright/my-prices.json");
  EXPECT_EQ(cfg.price_files[1], dir_ + "/project/prices.json");
  // No project file: the user's alone.
  cfg = BuiltinConfig(env);
  ASSERT_TRUE(LoadConfigs("", env, &cfg).ok());
  EXPECT_EQ(cfg.providers.at("lab").rpm, 60);
  // No user file: nothing changes.
  auto bare = Vars({{"XDG_CONFIG_HOME", dir_ + "/nowhere"}});
  cfg = BuiltinConfig(bare);
  used.clear();
  ASSERT_TRUE(LoadConfigs("", bare, &cfg, &used).ok());
  EXPECT_EQ(used, "");
  EXPECT_FALSE(cfg.providers.count("lab"));
}

TEST_F(UserConfig, ErrorsNameTheUserFileAndItRefusesWhatBelongsToAProject) {
  auto env = Vars({{"XDG_CONFIG_HOME", dir_ + "/xdg"}});
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"providers:\n  lab: {api: openai, base_url: ftp://x}\n", ":2:"},
      {"providers:\n  openai: {rpn: 5}\n", "did you mean \"rpm\""},
      {"providers: {a: [\n", ":"},
      {"roles: {architect: openai/gpt-5}\nspec: {format: plain}\n", ":2:1: spec: describes one project"},
      {"process: {qa_command: make test}\n", ":1:1: process: describes one project"},
      {"workers: {workspace_remot: /srv/ws.git}\n", "did you mean \"workspace_remote\""},
      {"workers: {workspace_remote: [a]}\n", ":1:29: workspace_remote must be the path or URL"},
      {"workers: /srv/ws.git\n", ":1:10: workers must be a mapping"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    Write("xdg/specwright/specwright.yaml", c.text);
    LlmConfig cfg = BuiltinConfig(env);
    Status s = LoadConfigs("", env, &cfg);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find(User() + ":"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
  }
  // The same keys are fine in a project's file.
  Write("project/specwright.yaml", "process: {qa_command: make test}\n");
  Write("xdg/specwright/specwright.yaml", "");
  LlmConfig cfg = BuiltinConfig(env);
  EXPECT_TRUE(LoadConfigs(dir_ + "/project/specwright.yaml", env, &cfg).ok());
}

// workers: {workspace_remote} — the user's file names the shared repository, a project's wins.
TEST_F(UserConfig, TheWorkspaceRemoteComesFromTheConfigAndTheProjectWins) {
  auto env = Vars({{"XDG_CONFIG_HOME", dir_ + "/xdg"}});
  Write("xdg/specwright/specwright.yaml", "workers: {workspace_remote: /srv/user.git}\n");
  LlmConfig cfg = BuiltinConfig(env);
  ASSERT_TRUE(LoadConfigs("", env, &cfg).ok());
  EXPECT_EQ(cfg.workspace_remote, "/srv/user.git");
  Write("project/specwright.yaml", "workers:\n  workspace_remote: ssh://git@host/project.git\n");
  cfg = BuiltinConfig(env);
  ASSERT_TRUE(LoadConfigs(dir_ + "/project/specwright.yaml", env, &cfg).ok());
  EXPECT_EQ(cfg.workspace_remote, "ssh://git@host/project.git");
  // Where it was named, for the errors `run --detach` gives about it.
  EXPECT_EQ(cfg.workspace_remote_at, dir_ + "/project/specwright.yaml:2:21");
}

}  // namespace
}  // namespace sw::llm
