// The tests that run the real `specwright` binary (and git) never see the developer's own
// configuration: for the whole test process, HOME is an empty folder of its own,
// XDG_CONFIG_HOME an empty folder in it (no ~/.config/specwright/specwright.yaml, no
// ~/.config/git/config), git reads no system or global file (GIT_CONFIG_NOSYSTEM,
// GIT_CONFIG_GLOBAL: git's own; HOME: libgit2's, which reads $HOME/.gitconfig), and no
// identity, configuration, provider key or collector comes from the environment. The binary
// inherits all of it.
// A test that wants something else (a config of its own, an identity) sets it itself, with
// setenv for the test's life: it wins over these, and what it puts back is these.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <vector>

#include <filesystem>
#include <string>

extern char** environ;  // NOLINT: POSIX

namespace testenv {

class IsolatedEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_test_home_XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    ASSERT_NE(made, nullptr);
    home_ = made;
    std::filesystem::create_directories(home_ + "/.config");
    ::setenv("HOME", home_.c_str(), 1);
    ::setenv("XDG_CONFIG_HOME", (home_ + "/.config").c_str(), 1);
    ::setenv("XDG_CACHE_HOME", (home_ + "/.cache").c_str(), 1);  // the code index's cache
    ::setenv("XDG_DATA_HOME", (home_ + "/.local/share").c_str(), 1);
    // Git's own (a test run from a git hook inherits GIT_INDEX_FILE and friends: the tests'
    // `git add` would write to the outer repository), ours, OpenTelemetry's (a developer's
    // collector would get every test run's spans) and the colour switch.
    std::vector<std::string> drop;
    for (char** e = environ; *e; ++e) {
      std::string name(*e, std::strcspn(*e, "="));
      auto ends = [&](const char* tail) {
        size_t n = std::strlen(tail);
        return name.size() >= n && name.compare(name.size() - n, n, tail) == 0;
      };
      // A provider's key or address (OPENAI_API_KEY, ANTHROPIC_BASE_URL, OLLAMA_HOST, …): no
      // test reaches a real provider because the developer happens to have a key.
      bool provider = ends("_API_KEY") || ends("_BASE_URL") || name == "OLLAMA_HOST";
      // The test cluster's URL (make test) and the opt-out from it stay (tests/pg_test_db.h).
      bool test_pg = name == "SPECWRIGHT_TEST_PG_URL" || name == "SPECWRIGHT_TEST_NO_PG";
      if (provider || name.rfind("GIT_", 0) == 0 || (name.rfind("SPECWRIGHT_", 0) == 0 && !test_pg) ||
          name.rfind("OTEL_", 0) == 0 ||
          name == "EMAIL" || name == "NO_COLOR" || name == "COLUMNS")
        drop.push_back(name);
    }
    for (const auto& v : drop) ::unsetenv(v.c_str());
    ::setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    ::setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
  }
  void TearDown() override {
    std::error_code ec;
    if (!home_.empty()) std::filesystem::remove_all(home_, ec);
  }

 private:
  std::string home_;
};

/// Registered once per test binary, before any test runs (gtest_main's RUN_ALL_TESTS sets it up).
inline ::testing::Environment* const kIsolated = ::testing::AddGlobalTestEnvironment(new IsolatedEnvironment);

}  // namespace testenv
