// The spec layer on tests/spec/fixture: a project with a planted fault of every kind, each
// reported at its file:line; trace and impact asserted exactly; --since over a real git history.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/fs.h"
#include "spec/spec.h"
#include "tools/git_repo.h"

namespace sw::spec {
namespace {

namespace fs = std::filesystem;

class SpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_spec_XXXXXX";
    dir_ = mkdtemp(tmpl);
    fs::copy(std::string(SW_SOURCE_DIR) + "/tests/spec/fixture", dir_, fs::copy_options::recursive);
    fs::rename(dir_ + "/fixture.gitignore", dir_ + "/.gitignore");
    // What the scan must not read: ignored folders and files, a binary file, a vendored file.
    Write("build/generated.cc", "// REQ-01-003 in a build folder\n");
    Write("debug.log", "REQ-01-003 in a log\n");
    Write("vendor/skip.cc", "// REQ-01-003 in vendored code\n");
    Write("bin/blob.dat", std::string("REQ-01-003\0binary", 17));
    Write("sub/.gitignore", "local.txt\n");
    Write("sub/local.txt", "REQ-01-003 ignored by a nested .gitignore\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories(fs::path(dir_ + "/" + rel).parent_path());
    std::ofstream(dir_ + "/" + rel, std::ios::binary) << text;
  }
  void Open() {
    auto c = LoadConfig(dir_);
    ASSERT_TRUE(c.ok()) << c.status().message();
    config_ = *c;
    auto g = Grammar::Make(config_);
    ASSERT_TRUE(g.ok()) << g.status().message();
    grammar_ = *g;
    auto corpus = Load(config_, grammar_);
    ASSERT_TRUE(corpus.ok()) << corpus.status().message();
    corpus_ = std::move(corpus).value();
    graph_ = std::make_unique<Graph>(corpus_, config_);
  }
  std::string dir_;
  Config config_;
  Grammar grammar_;
  Corpus corpus_;
  std::unique_ptr<Graph> graph_;
};

TEST_F(SpecTest, EveryPlantedFaultAtItsFileAndLine) {
  Open();
  std::vector<std::string> got;
  for (const auto& f : graph_->Check())
    got.push_back(f.at.ToString() + " " + f.rule + " " + f.id + (f.severity == Severity::kError ? " E" : " W"));
  std::vector<std::string> want{
      "specs/requirements.md:6 req-no-test REQ-01-002 W",
      "specs/requirements.md:9 req-no-code REQ-01-003 W",
      "specs/requirements.md:9 req-no-downstream REQ-01-003 W",
      "specs/requirements.md:9 req-no-test REQ-01-003 W",
      "specs/requirements.md:12 duplicate-id REQ-01-001 E",
      "specs/stories.md:7 dangling-link REQ-01-009 E",
      "specs/stories.md:15 no-upstream US-02-003 W",
      "specs/stories.md:18 link-cycle US-02-004 W",
      "src/signup.cc:3 unknown-citation API-05-099 E",
  };
  EXPECT_EQ(got, want);
  auto findings = graph_->Check();
  for (const auto& f : findings) {
    if (f.rule == "dangling-link") EXPECT_NE(f.message.find("did you mean REQ-01-001"), std::string::npos) << f.message;
    if (f.rule == "unknown-citation") EXPECT_NE(f.message.find("did you mean API-05-007"), std::string::npos);
    if (f.rule == "link-cycle") EXPECT_NE(f.message.find("US-02-004 -> US-02-005 -> US-02-004"), std::string::npos) << f.message;
  }
}

TEST_F(SpecTest, CitationsHonourIgnoresAndSkipBinaries) {
  Open();
  std::vector<std::string> got;
  for (const auto& c : corpus_.citations) got.push_back(c.at.ToString() + " " + c.id + (c.test ? " test" : ""));
  EXPECT_EQ(got, (std::vector<std::string>{"src/signin.py:1 US-02-002", "src/signup.cc:1 API-05-007",
                                           "src/signup.cc:3 API-05-099", "tests/signup_test.cc:2 TC-06-009 test",
                                           "vendor/keep.cc:1 REQ-01-002"}));
}

TEST_F(SpecTest, TraceGoesUpToTheRequirementsAndDownToCodeAndTests) {
  Open();
  auto r = Trace(*graph_, "API-05-007");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->up, (std::vector<std::string>{"SVC-03-001", "US-02-001", "US-02-002", "REQ-01-001", "REQ-01-002",
                                             "REQ-01-009"}));
  EXPECT_TRUE(r->down.empty());
  ASSERT_EQ(r->code.size(), 1u);
  EXPECT_EQ(r->code[0].at.ToString(), "src/signup.cc:1");

  r = Trace(*graph_, "REQ-01-001");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->down, (std::vector<std::string>{"REQ-01-002", "US-02-001", "US-02-002", "US-02-004", "US-02-006",
                                               "API-05-007", "SVC-03-001", "TC-06-009", "US-02-005"}));
  std::vector<std::string> code, tests;
  for (const auto& c : r->code) code.push_back(c.at.ToString());
  for (const auto& c : r->tests) tests.push_back(c.at.ToString());
  EXPECT_EQ(code, std::vector<std::string>{"src/signup.cc:1"});  // not REQ-01-002's code, which mentions it
  EXPECT_EQ(tests, (std::vector<std::string>{"tests/signup_test.cc:2"}));
  auto missing = Trace(*graph_, "REQ-01-004");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("did you mean"), std::string::npos);
}

TEST_F(SpecTest, ImpactIsEverythingDownstream) {
  Open();
  Impact i = ImpactOf(*graph_, {"US-02-001"});
  EXPECT_EQ(i.items, (std::vector<std::string>{"US-02-001", "API-05-007", "SVC-03-001", "TC-06-009"}));
  EXPECT_EQ(i.code, (std::map<std::string, std::vector<int>>{{"src/signup.cc", {1}}}));
  EXPECT_EQ(i.tests, (std::map<std::string, std::vector<int>>{{"tests/signup_test.cc", {2}}}));
  EXPECT_TRUE(i.unknown.empty());
  Impact u = ImpactOf(*graph_, {"US-09-999"});
  EXPECT_EQ(u.unknown, std::vector<std::string>{"US-09-999"});
}

TEST_F(SpecTest, SinceARevisionListsAddedRemovedAndChangedIds) {
  auto repo = tools::GitRepo::Init(dir_, "main");
  ASSERT_TRUE(repo.ok()) << repo.status().message();
  ASSERT_TRUE((*repo)->CommitAll("specs v1").ok());
  auto text = ReadFile(dir_ + "/specs/stories.md");
  ASSERT_TRUE(text.ok());
  std::string s = *text;
  s.replace(s.find("## US-02-001 Sign up with email"), 31, "## US-02-001 Sign up with email or phone");
  s.replace(s.find("## US-02-003 Orphan story\nIt mentions `REQ-01-001` only in inline code.\n\n"), 73, "");
  s += "\n## US-02-007 Reset password\nTraces: REQ-01-002\n";
  Write("specs/stories.md", s);
  Open();
  auto before = ReadSpecDocsAt(config_, "HEAD");
  ASSERT_TRUE(before.ok()) << before.status().message();
  ASSERT_EQ(before->size(), 3u);
  auto old_items = ParseSpecs(grammar_, *before);
  ASSERT_TRUE(old_items.ok());
  Impact changes;
  SpecChanges(*old_items, corpus_.items, &changes);
  EXPECT_EQ(changes.added, std::vector<std::string>{"US-02-007"});
  EXPECT_EQ(changes.removed, std::vector<std::string>{"US-02-003"});
  EXPECT_EQ(changes.modified, std::vector<std::string>{"US-02-001"});
  Impact i = ImpactOf(*graph_, {"US-02-007", "US-02-001", "US-02-003"});
  EXPECT_EQ(i.items, (std::vector<std::string>{"US-02-007", "US-02-001", "API-05-007", "SVC-03-001", "TC-06-009"}));
  EXPECT_TRUE(ReadSpecDocsAt(config_, "no-such-rev").status().message().find("no-such-rev") != std::string::npos);
}

TEST_F(SpecTest, MatrixCountsCoveragePerLevel) {
  Open();
  Matrix m = MatrixOf(*graph_);
  EXPECT_EQ(m.columns, (std::vector<std::string>{"US", "SVC", "API", "code", "tests"}));
  ASSERT_EQ(m.rows.size(), 3u);  // the duplicate REQ-01-001 is one row
  EXPECT_EQ(m.rows[0].id, "REQ-01-001");
  EXPECT_EQ(m.rows[0].cells[2], std::vector<std::string>{"API-05-007"});
  EXPECT_EQ(m.rows[0].cells[4], (std::vector<std::string>{"TC-06-009", "tests/signup_test.cc"}));
  EXPECT_EQ(m.rows[2].id, "REQ-01-003");
  EXPECT_TRUE(m.rows[2].cells[0].empty());
  // US: 001 and 002 of 3; tests: only 001.
  EXPECT_NEAR(m.coverage[0], 200.0 / 3, 1e-9);
  EXPECT_NEAR(m.coverage[4], 100.0 / 3, 1e-9);
  EXPECT_NE(ToMarkdown(m).find("| **coverage** | 66.7% |"), std::string::npos) << ToMarkdown(m);
  EXPECT_NE(ToCsv(m).find("REQ-01-003,Admin sees every account,,,,,"), std::string::npos) << ToCsv(m);
}

// Coverage that means behaviour: with a recorded test run, the matrix says which test cases
// passed and `spec check` flags a requirement whose test cases did not all pass.
TEST_F(SpecTest, ARecordedTestRunSaysWhichRequirementsReallyPassed) {
  Write("test-results.json", R"({"cases": {"TC-06-009": "failed"}})");
  Open();
  Matrix m = MatrixOf(*graph_);
  EXPECT_EQ(m.columns, (std::vector<std::string>{"US", "SVC", "API", "code", "tests", "passing"}));
  EXPECT_EQ(m.rows[0].cells[5], std::vector<std::string>{"TC-06-009 (failed)"});
  EXPECT_EQ(m.coverage[5], 0.0);
  for (const auto& ci : corpus_.citations) EXPECT_NE(ci.at.file, "test-results.json") << "results are not code";
  std::vector<std::string> got;
  for (const auto& f : graph_->Check())
    if (f.rule == "req-test-not-passed") got.push_back(f.at.ToString() + " " + f.message);
  EXPECT_EQ(got, (std::vector<std::string>{"specs/requirements.md:3 REQ-01-001: not every test case of it passed in the "
                                           "recorded test run (test-results.json): TC-06-009 failed"}));
  Write("test-results.json", R"({"cases": {"TC-06-009": "passed"}})");
  Open();
  m = MatrixOf(*graph_);
  EXPECT_EQ(m.rows[0].cells[5], std::vector<std::string>{"TC-06-009"});
  EXPECT_NEAR(m.coverage[5], 100.0 / 3, 1e-9);
  for (const auto& f : graph_->Check()) EXPECT_NE(f.rule, "req-test-not-passed") << f.message;
  // A results file that is not one is a finding naming it and the offending value; everything
  // else still works, and the run it would record is ignored.
  Write("test-results.json", R"({"cases": {"TC-06-009": "green"}})");
  Open();
  std::vector<std::string> bad;
  for (const auto& f : graph_->Check())
    if (f.rule == "test-results") bad.push_back(f.at.ToString() + " " + f.message + (f.severity == Severity::kError ? " E" : ""));
  EXPECT_EQ(bad, (std::vector<std::string>{"test-results.json:1 test-results.json: cases.TC-06-009 is \"green\"; expected "
                                           "\"passed\", \"failed\" or \"not run\" (the recorded test run is ignored) E"}));
  EXPECT_EQ(MatrixOf(*graph_).columns.back(), "tests");
  // The results file stays inside the project.
  Write("specwright.yaml", "spec:\n  test_results: ../elsewhere.json\n");
  auto c = LoadConfig(dir_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("specwright.yaml:2:17: spec.test_results is \"../elsewhere.json\""),
            std::string::npos)
      << c.status().message();
}

TEST_F(SpecTest, TheThreadedScanFindsWhatOneThreadFinds) {
  for (int f = 0; f < 400; ++f) {
    std::string text;
    for (int l = 0; l < 50; ++l)
      text += l == f % 50 ? "// Implements: REQ-01-00" + std::to_string(f % 3 + 1) + " and TC_06_009_x\n" : "int x_1 = f(y_2);\n";
    Write("gen/d" + std::to_string(f % 7) + "/f" + std::to_string(f) + ".cc", text);
  }
  Write("README.md", "REQ-01-003 mentioned in docs is not a citation\n");
  std::vector<std::vector<std::string>> runs;
  for (int threads : {1, 4}) {
    Write("specwright.yaml", "spec:\n  threads: " + std::to_string(threads) + "\n  specs_dir: ./specs/\n");
    Open();
    std::vector<std::string> got;
    for (const auto& c : corpus_.citations) got.push_back(c.at.ToString() + " " + c.id);
    runs.push_back(got);
  }
  EXPECT_EQ(runs[0].size(), 805u);  // 400 files x 2, and the fixture's 5
  EXPECT_EQ(runs[0], runs[1]);
  for (const auto& c : runs[1]) {
    EXPECT_EQ(c.find("README.md"), std::string::npos) << c;
    EXPECT_EQ(c.find("specs/"), std::string::npos) << c;  // "./specs/" is still the specs folder
  }
}

TEST_F(SpecTest, LinesAndOwnershipInsideBodies) {
  Write("specs/more.md",
        "# More\n"                                           // 1
        "\n"                                                 // 2
        "## REQ-02-001 Parent\n"                             // 3
        "Text with a `code span\n"                           // 4
        "over two lines` then REQ-02-077 here.\n"            // 5
        "- a list item\n"                                    // 6
        "  that goes on with REQ-02-078\n"                   // 7
        "\n"                                                 // 8
        "### US-03-001 Nested story\n"                       // 9
        "Traces: REQ-02-001\n"                               // 10
        "\n"                                                 // 11
        "### Acceptance\n"                                   // 12
        "The parent's again: REQ-02-079\n"                   // 13
        "\n"                                                 // 14
        "## US-03-002 A\n"                                   // 15
        "Traces: US-03-003, US-03-004, REQ-02-001\n"         // 16
        "\n"                                                 // 17
        "## US-03-003 B\n"                                   // 18
        "Traces: US-03-002\n"                                // 19
        "\n"                                                 // 20
        "## US-03-004 C\n"                                   // 21
        "Traces: US-03-002\n"                                // 22
        "\n"                                                 // 23
        "## US-03-005 Tricky\n"                              // 24
        "See [the rule](other.md#REQ-02-080) and\n"          // 25
        "XREQ-02-081 is a word, <span title=\"REQ-02-082\">x</span>\n"  // 26
        "REQ\\-02\\-083 escaped, then REQ-02-080\n"           // 27
        "and REQ-02-081 and REQ-02-082.\n");                 // 28
  Open();
  std::map<std::string, std::string> dangling;
  std::vector<std::string> cycles;
  for (const auto& f : graph_->Check()) {
    if (f.rule == "dangling-link" && f.at.file == "specs/more.md") dangling[f.id] = f.at.ToString();
    if (f.rule == "link-cycle" && f.at.file == "specs/more.md") cycles.push_back(f.message);
  }
  EXPECT_EQ(dangling, (std::map<std::string, std::string>{{"REQ-02-077", "specs/more.md:5"},
                                                          {"REQ-02-078", "specs/more.md:7"},
                                                          {"REQ-02-079", "specs/more.md:13"},
                                                          {"REQ-02-080", "specs/more.md:27"},
                                                          {"REQ-02-081", "specs/more.md:28"},
                                                          {"REQ-02-082", "specs/more.md:28"},
                                                          {"REQ-02-083", "specs/more.md:27"}}));
  // The section after the nested story is the parent's, and the story's own link is its own.
  const Item* parent = graph_->Find("REQ-02-001");
  ASSERT_NE(parent, nullptr);
  EXPECT_NE(parent->body.find("REQ-02-079"), std::string::npos);
  EXPECT_EQ(parent->body.find("Nested story"), std::string::npos);
  EXPECT_EQ(graph_->Parents("US-03-001"), std::vector<std::string>{"REQ-02-001"});
  // A and B, A and C link both ways: one cycle is reported, and it is a real one.
  ASSERT_EQ(cycles.size(), 1u);
  EXPECT_EQ(cycles[0], "link cycle: US-03-002 -> US-03-003 -> US-03-002");
}

TEST_F(SpecTest, ARequirementDoesNotInheritTheCoverageOfOneThatMentionsIt) {
  Open();
  // REQ-01-002's body mentions REQ-01-001: sign-in code is not sign-up coverage.
  Matrix m = MatrixOf(*graph_);
  ASSERT_EQ(m.rows[0].id, "REQ-01-001");
  EXPECT_EQ(m.rows[0].cells[0], std::vector<std::string>{"US-02-001"});
  EXPECT_EQ(m.rows[0].cells[3], std::vector<std::string>{"src/signup.cc"});
}

TEST_F(SpecTest, ConfiguredGrammarAndRules) {
  Write("specwright.yaml",
        "spec:\n  prefixes: [REQ, US]\n  id_pattern: \"(?:REQ|US)-[A-Z]{2}-[A-Z0-9]{3}\"\n  rules: {no-upstream: error, "
        "req-no-test: off}\n");
  Write("specs/requirements.md", "## REQ-AC-K3M Accounts\nx\n");
  Write("specs/stories.md", "## US-AC-001 Story\nTraces: REQ-AC-K3M\n\n## US-AC-002 Loose\nnone\n");
  Write("specs/api.md", "");
  Write("src/signup.cc", "// REQ_AC_K3M\n");
  Open();
  std::vector<std::string> got;
  for (const auto& f : graph_->Check()) got.push_back(f.at.ToString() + " " + f.rule + (f.severity == Severity::kError ? " E" : " W"));
  EXPECT_EQ(got, (std::vector<std::string>{"specs/stories.md:4 no-upstream E"}));
  // Mistakes in the section name the file, line and value.
  Write("specwright.yaml", "spec:\n  rules: {no-upstrem: error}\n");
  auto c = LoadConfig(dir_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("specwright.yaml:2:"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("did you mean \"no-upstream\""), std::string::npos) << c.status().message();
  Write("specwright.yaml", "spec:\n  rules: {no-upstream: fatal}\n");
  c = LoadConfig(dir_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("fatal"), std::string::npos);
  Write("specwright.yaml", "spec:\n  id_pattern: \"(REQ\"\n");
  c = LoadConfig(dir_);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(Grammar::Make(*c).ok());
}

}  // namespace
}  // namespace sw::spec
