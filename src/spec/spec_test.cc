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
  // The same through ImpactOfChange, and as a range between two commits.
  auto since = ImpactOfChange(*graph_, grammar_, {}, "HEAD");
  ASSERT_TRUE(since.ok()) << since.status().message();
  EXPECT_EQ(since->added, std::vector<std::string>{"US-02-007"});
  EXPECT_EQ(since->removed, std::vector<std::string>{"US-02-003"});
  EXPECT_TRUE(since->unknown.empty());  // a removed ID is not "unknown"
  ASSERT_TRUE((*repo)->CommitAll("specs v2").ok());
  Write("specs/stories.md", s + "\n## US-02-008 Not committed\nTraces: REQ-01-002\n");
  Open();
  auto range = ImpactOfChange(*graph_, grammar_, {}, "HEAD~1..HEAD");
  ASSERT_TRUE(range.ok()) << range.status().message();
  EXPECT_EQ(range->added, std::vector<std::string>{"US-02-007"});  // not US-02-008: the working tree is not in the range
  EXPECT_EQ(range->modified, std::vector<std::string>{"US-02-001"});
  for (const char* bad : {"..HEAD", "HEAD~1...HEAD", "HEAD~1.."}) {
    auto r = ImpactOfChange(*graph_, grammar_, {}, bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("A..B"), std::string::npos) << r.status().message();
  }
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


// Spec trees in the formats people write, copied from tests/spec_formats/, read with nothing
// configured: the format is detected and every item, link and citation found.
class FormatTest : public ::testing::Test {
 protected:
  void Use(const std::string& name) {
    char tmpl[] = "/tmp/sw_specfmt_XXXXXX";
    dir_ = mkdtemp(tmpl);
    fs::copy(std::string(SW_SOURCE_DIR) + "/tests/spec_formats/" + name, dir_, fs::copy_options::recursive);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories(fs::path(dir_ + "/" + rel).parent_path());
    std::ofstream(dir_ + "/" + rel, std::ios::binary) << text;
  }
  void Open() {
    auto p = spec::Open(dir_);
    ASSERT_TRUE(p.ok()) << p.status().message();
    project_ = std::make_unique<Project>(std::move(p).value());
    graph_ = std::make_unique<Graph>(project_->corpus, project_->config);
  }
  std::vector<std::string> Findings(bool errors_only = false) {
    std::vector<std::string> out;
    for (const auto& f : graph_->Check())
      if (!errors_only || f.severity == Severity::kError) out.push_back(f.at.ToString() + " " + f.rule + ": " + f.message);
    return out;
  }
  const Item& ItemOf(const std::string& id) {
    const Item* it = graph_->Find(id);
    EXPECT_NE(it, nullptr) << id;
    static Item none;
    return it ? *it : none;
  }
  std::string dir_;
  std::unique_ptr<Project> project_;
  std::unique_ptr<Graph> graph_;
};

TEST_F(FormatTest, SpecKitWithTwoFeaturesEachNumberingItsOwnIds) {
  Use("spec-kit");
  Open();
  EXPECT_EQ(project_->config.format, "spec-kit");
  EXPECT_TRUE(project_->config.format_detected);
  EXPECT_EQ(Findings(true), std::vector<std::string>{});
  // Bold-led requirements, a story heading, checkbox tasks, checklist items, a table row;
  // nothing from plan.md's prose and lists.
  std::vector<std::string> ids;
  for (const auto& it : project_->corpus.items) ids.push_back(it.id);
  EXPECT_EQ(ids, (std::vector<std::string>{
                     "001-photo-albums/CHK001", "001-photo-albums/CHK002", "001-photo-albums/US1", "001-photo-albums/US2",
                     "001-photo-albums/FR-001", "001-photo-albums/FR-002", "001-photo-albums/FR-003",
                     "001-photo-albums/FR-004", "001-photo-albums/FR-005", "001-photo-albums/SC-001",
                     "001-photo-albums/SC-002", "001-photo-albums/T001", "001-photo-albums/T002", "001-photo-albums/T010",
                     "001-photo-albums/T012", "001-photo-albums/T013", "001-photo-albums/T014", "001-photo-albums/T020",
                     "002-album-sharing/US1", "002-album-sharing/FR-001", "002-album-sharing/FR-002",
                     "002-album-sharing/FR-003", "002-album-sharing/SC-001", "002-album-sharing/SC-002",
                     "002-album-sharing/T010", "002-album-sharing/T011", "002-album-sharing/T012"}));
  const Item& fr1 = ItemOf("001-photo-albums/FR-001");
  EXPECT_EQ(fr1.title, "System MUST allow users to create an album with a name and at least one photo.");
  EXPECT_EQ(fr1.at.ToString(), "specs/001-photo-albums/spec.md:51");
  EXPECT_EQ(fr1.prefix, "FR");
  EXPECT_EQ(ItemOf("001-photo-albums/US1").title, "Create an album (Priority: P1)");
  const Item& t12 = ItemOf("001-photo-albums/T012");
  EXPECT_EQ(t12.title, "Create Album model in src/albums.py (FR-001, FR-003)");
  // A task links to its story and requirements in its own feature.
  EXPECT_EQ(graph_->Parents("001-photo-albums/T012"),
            (std::vector<std::string>{"001-photo-albums/US1", "001-photo-albums/FR-001", "001-photo-albums/FR-003"}));
  EXPECT_EQ(graph_->Parents("002-album-sharing/T012"),
            (std::vector<std::string>{"002-album-sharing/US1", "002-album-sharing/FR-001", "002-album-sharing/FR-002"}));
  // Across features: written FEATURE/ID or NNN/ID.
  EXPECT_EQ(graph_->Parents("002-album-sharing/US1"), std::vector<std::string>{"001-photo-albums/FR-001"});
  EXPECT_EQ(graph_->Parents("002-album-sharing/FR-002"), std::vector<std::string>{"001-photo-albums/FR-002"});
  EXPECT_EQ(ItemOf("002-album-sharing/SC-001").title, "A shared link opens quickly");
  EXPECT_EQ(graph_->Parents("001-photo-albums/CHK001"), std::vector<std::string>{"001-photo-albums/FR-005"});
  // Code cites FEATURE/ID; the ignored line cites nothing.
  auto code = graph_->CitationsOf("001-photo-albums/FR-001");
  ASSERT_GE(code.size(), 2u);
  EXPECT_EQ(code[0].at.ToString(), "src/albums.py:1");
  EXPECT_EQ(project_->corpus.suppressed, 1);
  auto trace = Trace(*graph_, "001-photo-albums/FR-001");
  ASSERT_TRUE(trace.ok());
  EXPECT_EQ(trace->tests.size(), 1u);
  EXPECT_EQ(trace->tests[0].at.ToString(), "tests/test_albums.py:1");
  EXPECT_EQ(Summary(project_->config, project_->corpus), "read as spec-kit (detected): 2 features, 27 items");
  // A bare ID: the one feature's that defines it, or unclear with several.
  EXPECT_EQ(graph_->Resolve("FR-004"), "001-photo-albums/FR-004");
  EXPECT_EQ(graph_->Resolve("001/FR-004"), "001-photo-albums/FR-004");
  std::vector<std::string> several;
  EXPECT_EQ(graph_->Resolve("FR-001", &several), "");
  EXPECT_EQ(several, (std::vector<std::string>{"001-photo-albums/FR-001", "002-album-sharing/FR-001"}));
  // The same ID twice in one feature is still a duplicate; a bare citation of an ID two
  // features define says how to qualify it.
  Write("specs/002-album-sharing/spec.md",
        "# Feature Specification: Album Sharing\n\n## Requirements\n\n- **FR-001**: One.\n- **FR-001**: Again.\n");
  Write("src/extra.py", "# Implements FR-001\n");
  Open();
  EXPECT_EQ(Findings(true),
            (std::vector<std::string>{
                "specs/002-album-sharing/spec.md:6 duplicate-id: 002-album-sharing/FR-001 is defined again (first at "
                "specs/002-album-sharing/spec.md:5)",
                "src/extra.py:1 unknown-citation: FR-001 is cited, but which item is not clear: FR-001 is defined in 2 "
                "features (001-photo-albums, 002-album-sharing); write 001-photo-albums/FR-001 to say which",
                "src/sharing.py:1 unknown-citation: 002-album-sharing/FR-003 is cited, but no spec defines it"}));
}

TEST_F(FormatTest, AreaIdsInHeadingsListsAndTables) {
  Use("area");
  Open();
  EXPECT_EQ(project_->config.format, "area");
  EXPECT_EQ(Findings(true), std::vector<std::string>{});
  std::vector<std::string> ids;
  for (const auto& it : project_->corpus.items) ids.push_back(it.id + "@" + std::to_string(it.at.line));
  EXPECT_EQ(ids, (std::vector<std::string>{"REQ-AC-K3M@5", "REQ-AC-7QX@9", "REQ-BL-2F9@17", "REQ-BL-W4D@18",
                                           "US-AC-K3M@5", "US-AC-P8T@6", "AC-AC-P81@7", "AC-AC-P82@8", "US-BL-2F9@12",
                                           "US-BL-W4D@13"}));
  EXPECT_EQ(ItemOf("US-AC-K3M").title, "As a visitor, I want to sign up with my email, so that I can keep my work. (REQ-AC-K3M)");
  EXPECT_EQ(ItemOf("REQ-BL-2F9").title, "Monthly invoice as PDF");
  EXPECT_EQ(graph_->Parents("US-AC-K3M"), std::vector<std::string>{"REQ-AC-K3M"});
  // A list item inside another derives from it; the outer one does not link to it.
  EXPECT_EQ(graph_->Parents("AC-AC-P81"), std::vector<std::string>{"US-AC-P8T"});
  EXPECT_EQ(graph_->Parents("US-AC-P8T"), std::vector<std::string>{"REQ-AC-7QX"});
  EXPECT_EQ(ItemOf("US-AC-P8T").body,
            "- [US-AC-P8T] As a user, I want to reset my password, so that a lost password does not lock me out. Traces: REQ-AC-7QX");
  EXPECT_EQ(graph_->CitationsOf("US-AC-K3M").size(), 1u);
  EXPECT_EQ(project_->corpus.suppressed, 2);  // REQ-ID-123, and its name in the comment
  // The trace reaches the code through the story.
  auto t = Trace(*graph_, "REQ-AC-K3M");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->code.size(), 1u);
  EXPECT_EQ(t->code[0].at.ToString(), "src/accounts.ts:1");
}

TEST_F(FormatTest, SpecsWithNoItemAreAnErrorThatNamesTheFormatsTried) {
  Use("area");
  fs::remove_all(dir_ + "/specs");
  Write("specs/notes.md", "# Notes\n\nWe will write the requirements here.\n\n- sign-up\n- billing\n");
  Open();
  EXPECT_TRUE(project_->config.format_detected);
  auto f = graph_->Check();
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].rule, "no-items");
  EXPECT_EQ(f[0].severity, Severity::kError);
  EXPECT_EQ(f[0].at.file, "specs/notes.md");
  for (const char* name : {"specwright:", "spec-kit:", "area:", "spec.format"})
    EXPECT_NE(f[0].message.find(name), std::string::npos) << name << " in " << f[0].message;
  EXPECT_EQ(ToText({f[0]}).rfind("specs/notes.md: error: 1 spec document under specs/ but no item in them", 0), 0u)
      << ToText({f[0]});
  // Said explicitly, the format is the only one tried.
  Write("specwright.yaml", "spec:\n  format: spec-kit\n");
  Open();
  f = graph_->Check();
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].rule, "no-items");
  EXPECT_NE(f[0].message.find("spec-kit:"), std::string::npos);
  EXPECT_EQ(f[0].message.find("area:"), std::string::npos);
  // No spec documents at all.
  fs::remove_all(dir_ + "/specs");
  fs::remove(dir_ + "/specwright.yaml");
  Open();
  f = graph_->Check();
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].rule, "no-items");
  EXPECT_NE(f[0].message.find("no spec document (*.md) under specs/"), std::string::npos) << f[0].message;
}

TEST_F(FormatTest, SuppressionComments) {
  Use("area");
  Write("src/more.cc",
        "// REQ-ZZ-001 specwright:ignore\n"                      // 1: all on the line
        "/* specwright:ignore REQ-ZZ-002 */ int x; // REQ-ZZ-003\n"  // 2: only the one named
        "// specwright:ignore-next-line\n"                       // 3
        "f(\"REQ-ZZ-004\");\n"                                   // 4: the line after
        "g(\"REQ-ZZ-005\");\n"                                   // 5: not the one after that
        "// specwright:ignored REQ-ZZ-006\n"                     // 6: another word
        "TEST(X, REQ_ZZ_007_works) {} // specwright:ignore REQ_ZZ_007\n"  // 7: test spelling
        "// REQ-ZZ-008 here specwright:ignore REQ-ZZ-008: not ours\n"      // 8: punctuation after the name
        "// REQ-ZZ-009, REQ-ZZ-010 specwright:ignore REQ-ZZ-010.\n"      // 9: only the one named
        "// specwright:ignore-next-line REQ-ZZ-011\n"                     // 10: its own name is not cited
        "h(\"REQ-ZZ-011\", \"REQ-ZZ-012\");\n");                           // 11: only the one named
  Open();
  std::vector<std::string> unknown;
  for (const auto& f : graph_->Check())
    if (f.rule == "unknown-citation") unknown.push_back(f.at.ToString() + " " + f.id);
  EXPECT_EQ(unknown, (std::vector<std::string>{"src/more.cc:2 REQ-ZZ-003", "src/more.cc:5 REQ-ZZ-005",
                                               "src/more.cc:6 REQ-ZZ-006", "src/more.cc:9 REQ-ZZ-009",
                                               "src/more.cc:11 REQ-ZZ-012"}));
  EXPECT_EQ(project_->corpus.suppressed, 13);  // lines 1, 2, 4, 7 (x2), 8 (x2), 9 (x2), 10, 11; accounts.ts's two
}

TEST_F(FormatTest, ConfigSaysTheFormatAndOverridesItsPreset) {
  Use("spec-kit");
  Write("specwright.yaml", "spec:\n  format: spec-kit\n  matrix_levels: [T, SC]\n  rules: {no-upstream: warning}\n");
  Open();
  EXPECT_EQ(project_->config.format, "spec-kit");
  EXPECT_FALSE(project_->config.format_detected);
  EXPECT_EQ(project_->config.matrix_levels, (std::vector<std::string>{"T", "SC"}));
  EXPECT_EQ(project_->config.rules.at("no-upstream"), Severity::kWarning);
  // A grammar key alone means our own format, as before, with that key.
  Write("specwright.yaml", "spec:\n  prefixes: [FR]\n  requirement_prefix: FR\n");
  Open();
  EXPECT_EQ(project_->config.format, "specwright");
  EXPECT_FALSE(project_->config.format_detected);
  EXPECT_TRUE(project_->corpus.items.empty());
  // Mistakes name the file, line and value.
  for (auto [yaml, want] : std::vector<std::pair<std::string, std::string>>{
           {"spec:\n  format: speckit\n", "specwright.yaml:2:11: spec.format is \"speckit\" (did you mean \"spec-kit\"?)"},
           {"spec:\n  items: [heading, bullet]\n", "specwright.yaml:2:10: spec.items lists \"bullet\""},
           {"spec:\n  id_scope: folder\n", "specwright.yaml:2:13: spec.id_scope is \"folder\"; expected project or feature"},
           {"spec:\n  heading_ids: [{pattern: x}]\n", "specwright.yaml:2:17: each of spec.heading_ids needs pattern"},
       }) {
    Write("specwright.yaml", yaml);
    auto c = LoadConfig(dir_);
    ASSERT_FALSE(c.ok()) << yaml;
    EXPECT_NE(c.status().message().find(want), std::string::npos) << c.status().message();
  }
  Write("specwright.yaml", "spec:\n  heading_ids: [{pattern: \"(Story\", id: x}]\n");
  auto c = LoadConfig(dir_);
  ASSERT_TRUE(c.ok());
  auto g = Grammar::Make(*c);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("spec.heading_ids pattern \"(Story\""), std::string::npos);
}

TEST_F(FormatTest, TablesOfReferencesAndASavedMatrixDefineNothing) {
  Use("area");
  Write("specs/traceability.md",
        "# Traceability\n\n| requirement | story |\n|---|---|\n| REQ-AC-K3M | US-AC-K3M |\n| REQ-AC-7QX | US-AC-P8T, AC-AC-P81 |\n\n"
        "| requirement | US | code |\n|---|---|---|\n| REQ-AC-K3M Sign-up with email | US-AC-K3M | src/accounts.ts |\n");
  Open();
  EXPECT_EQ(Findings(true), std::vector<std::string>{});
  EXPECT_EQ(project_->corpus.items.size(), 10u);
  // A status table names items defined elsewhere; a row "ID: title" in one cell is an item.
  Write("specs/status.md",
        "# Status\n\n| ID | state | task |\n|---|---|---|\n| REQ-AC-K3M | Covered | US-AC-K3M |\n"
        "| REQ-BL-ZZ1: Refunds | planned | - |\n");
  Open();
  EXPECT_EQ(Findings(true), std::vector<std::string>{});
  EXPECT_EQ(project_->corpus.items.size(), 11u);
  EXPECT_EQ(ItemOf("REQ-BL-ZZ1").title, "Refunds");
  EXPECT_EQ(ItemOf("REQ-AC-K3M").at.ToString(), "specs/requirements.md:5");
}

TEST_F(FormatTest, OtherPrefixesUnderAPresetAreMatchedOrRefused) {
  Use("area");
  Write("specs/features.md", "# Features\n\n## FEAT-AC-P8T Profiles\nTraces: REQ-AC-K3M\n");
  Write("specwright.yaml", "spec:\n  format: area\n  prefixes: [REQ, US, AC, FEAT]\n");
  Open();
  EXPECT_NE(graph_->Find("FEAT-AC-P8T"), nullptr);
  EXPECT_EQ(graph_->Parents("FEAT-AC-P8T"), std::vector<std::string>{"REQ-AC-K3M"});
  Write("specwright.yaml", "spec:\n  prefixes: [FR, US]\n");
  auto nreq = LoadConfig(dir_);
  ASSERT_FALSE(nreq.ok());
  EXPECT_NE(nreq.status().message().find("specwright.yaml:2:13: spec.requirement_prefix is \"REQ\", which is not one of spec.prefixes (FR, US)"),
            std::string::npos)
      << nreq.status().message();
  Write("specwright.yaml", "spec:\n  prefixes: [FR, US]\n  requirement_prefix: FR\n");
  EXPECT_TRUE(LoadConfig(dir_).ok());
  Write("specwright.yaml", "spec:\n  format: spec-kit\n  prefixes: [FR, FEAT]\n");
  auto c = LoadConfig(dir_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("specwright.yaml:3:13: spec.prefixes under format spec-kit needs spec.id_pattern too"),
            std::string::npos)
      << c.status().message();
}

TEST_F(FormatTest, OurOwnFormatStillReadsListsAsLinks) {
  Use("area");
  fs::remove_all(dir_ + "/specs");
  fs::remove_all(dir_ + "/src");
  Write("specs/requirements.md", "## REQ-01-001 Sign-up\nA visitor signs up.\n");
  Write("specs/stories.md", "## US-01-001 Sign up\n\nDerives from:\n\n- REQ-01-001 (sign-up)\n- [REQ-01-001] again\n");
  Open();
  EXPECT_EQ(project_->config.format, "specwright");
  EXPECT_EQ(project_->corpus.items.size(), 2u);
  EXPECT_EQ(graph_->Parents("US-01-001"), std::vector<std::string>{"REQ-01-001"});
}

}  // namespace
}  // namespace sw::spec
