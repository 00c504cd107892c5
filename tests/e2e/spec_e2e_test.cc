// `specwright spec` as a user runs it: on the fixture project with its planted faults, over a
// git history made with the real git binary, and with malformed input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace e2e;

class SpecE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_spec_e2e_XXXXXX";
    out_ = mkdtemp(tmpl);
    dir_ = out_ + "/project";  // the CLI's output files stay outside the project it scans
    fs::create_directories(dir_);
    fs::copy(std::string(SW_SOURCE_DIR) + "/tests/spec/fixture", dir_, fs::copy_options::recursive);
    fs::rename(dir_ + "/fixture.gitignore", dir_ + "/.gitignore");
  }
  void TearDown() override { fs::remove_all(out_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories(fs::path(dir_ + "/" + rel).parent_path());
    std::ofstream(dir_ + "/" + rel) << text;
  }
  Result Spec(std::vector<std::string> args) {
    args.insert(args.begin(), "spec");
    args.insert(args.end(), {"--dir", dir_});
    return RunCli(args, out_);
  }
  int Git(const std::string& cmd) {
    return std::system(("cd " + dir_ + " && git -c user.name=t -c user.email=t@example.com " + cmd + " >/dev/null 2>&1").c_str());
  }
  std::string out_, dir_;
};

TEST_F(SpecE2E, CheckReportsEveryFaultAndFailsOnErrors) {
  auto r = Spec({"check"});
  EXPECT_EQ(r.code, 1) << r.err;
  for (const char* line :
       {"specs/requirements.md:12: error: REQ-01-001 is defined again (first at specs/requirements.md:3) [duplicate-id]",
        "specs/stories.md:7: error: US-02-002 links to REQ-01-009, which no spec defines (did you mean REQ-01-001?) [dangling-link]",
        "src/signup.cc:3: error: API-05-099 is cited, but no spec defines it (did you mean API-05-007?) [unknown-citation]",
        "specs/stories.md:15: warning: US-02-003 does not trace up to any requirement (REQ) [no-upstream]",
        "specs/stories.md:18: warning: link cycle: US-02-004 -> US-02-005 -> US-02-004 [link-cycle]",
        "3 errors, 6 warnings: 13 items in 3 spec files, 5 citations in 5 code files"})
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
  auto j = Spec({"check", "--json"});
  json f = json::parse(j.out);
  EXPECT_EQ(f.size(), 9u);
  EXPECT_EQ(f[0]["file"], "specs/requirements.md");
  // Rules configured as warnings (or off) no longer gate.
  Write("specwright.yaml", "spec:\n  rules: {duplicate-id: warning, dangling-link: off, unknown-citation: warning}\n");
  r = Spec({"check"});
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find("REQ-01-009"), std::string::npos);
}

TEST_F(SpecE2E, TraceImpactAndMatrix) {
  auto r = Spec({"trace", "US-02-001", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json t = json::parse(r.out);
  EXPECT_EQ(t["up"][0]["id"], "REQ-01-001");
  std::vector<std::string> down;
  for (const auto& d : t["down"]) down.push_back(d["id"]);
  EXPECT_EQ(down, (std::vector<std::string>{"API-05-007", "SVC-03-001", "TC-06-009"}));
  EXPECT_EQ(t["code"][0]["file"], "src/signup.cc");
  EXPECT_EQ(t["tests"][0]["line"], 2);
  r = Spec({"trace", "US-02-001"});
  EXPECT_NE(r.out.find("REQ-01-001 User can sign up  (specs/requirements.md:3)"), std::string::npos) << r.out;

  r = Spec({"impact", "SVC-03-001", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json i = json::parse(r.out);
  EXPECT_EQ(i["items"], json({"SVC-03-001", "API-05-007"}));
  EXPECT_EQ(i["code"], json::parse(R"([{"file": "src/signup.cc", "lines": [1]}])"));

  r = Spec({"matrix", "--format", "csv"});
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "requirement,title,US,SVC,API,code,tests");
  r = Spec({"matrix"});
  EXPECT_NE(r.out.find("| **coverage** | 66.7% | 66.7% | 66.7% | 66.7% | 33.3% |"), std::string::npos) << r.out;
}

TEST_F(SpecE2E, ImpactSinceARevisionOfARealGitHistory) {
  ASSERT_EQ(Git("init -q -b main"), 0);
  ASSERT_EQ(Git("add -A"), 0);
  ASSERT_EQ(Git("commit -q -m v1"), 0);
  // v2: a story changes its text, a new story appears, an API item is removed.
  std::ifstream in(dir_ + "/specs/api.md");
  std::string api((std::istreambuf_iterator<char>(in)), {});
  api.erase(api.find("## TC-06-009"));
  Write("specs/api.md", api);
  std::ifstream sin(dir_ + "/specs/stories.md");
  std::string st((std::istreambuf_iterator<char>(sin)), {});
  st.replace(st.find("Traces: REQ-01-001\n"), 19, "Traces: REQ-01-001\nAlso with a phone number.\n");
  st += "\n## US-02-007 Reset password\nTraces: REQ-01-002\n";
  Write("specs/stories.md", st);
  ASSERT_EQ(Git("commit -q -am v2"), 0);
  auto r = Spec({"impact", "--since", "HEAD~1", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json i = json::parse(r.out);
  EXPECT_EQ(i["added"], json({"US-02-007"}));
  EXPECT_EQ(i["removed"], json({"TC-06-009"}));
  EXPECT_EQ(i["modified"], json({"US-02-001"}));
  EXPECT_EQ(i["items"], json({"US-02-007", "US-02-001", "API-05-007", "SVC-03-001"}));
  // The test that cited the removed test case is part of the impact.
  EXPECT_EQ(i["tests"], json::parse(R"([{"file": "tests/signup_test.cc", "lines": [2]}])"));
  // The working tree against the last commit: nothing changed.
  r = Spec({"impact", "--since", "HEAD", "--json"});
  EXPECT_EQ(json::parse(r.out)["items"], json::array());
  r = Spec({"impact", "--since", "no-such-branch"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no-such-branch"), std::string::npos) << r.err;
}

TEST_F(SpecE2E, BadInputIsNamed) {
  auto r = Spec({"chek"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("did you mean \"check\""), std::string::npos) << r.err;
  r = Spec({"trace", "user-signup"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("\"user-signup\" is not an ID"), std::string::npos) << r.err;
  r = Spec({"trace", "REQ-07-007"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("no spec defines REQ-07-007"), std::string::npos) << r.err;
  r = Spec({"matrix", "--format", "xml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("xml"), std::string::npos);
  Write("specwright.yaml", "spec:\n  prefixes: [REQ\n");
  r = Spec({"check"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("specwright.yaml:"), std::string::npos) << r.err;
  Write("specwright.yaml", "spec:\n  specs_dir: ../elsewhere\n");
  r = Spec({"check"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("../elsewhere"), std::string::npos) << r.err;
}

}  // namespace
