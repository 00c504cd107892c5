// The code index on real trees in temp folders, with the real ctags and SQLite: definitions
// in C++, Python, JavaScript and TypeScript, references, full-text search, the incremental
// rule, what is never indexed, and a missing ctags.
#include "codeindex/code_index.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace sw::codeindex {
namespace {

namespace fs = std::filesystem;

class CodeIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_codeindex_XXXXXX";
    base_ = mkdtemp(tmpl);
    dir_ = base_ + "/project";
    fs::create_directories(dir_);
    db_ = dir_ + "/.specwright/code-index.db";
    options_.racy_seconds = 0;  // files written by the test are read once, not again
  }
  void TearDown() override { fs::remove_all(base_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories(fs::path(dir_ + "/" + rel).parent_path());
    std::ofstream(dir_ + "/" + rel, std::ios::binary) << text;
  }
  void WriteSources() {
    Write("src/a.cc",
          "namespace ns {\n"
          "class Foo {\n"
          " public:\n"
          "  int Bar(int x) const;\n"
          "};\n"
          "int Foo::Bar(int x) const {\n"
          "  return x + 1;\n"
          "}\n"
          "}\n"
          "static int helper(int a, int b) { return a + b; }\n");
    Write("src/use.cc",
          "// Helper and helper_two are other names; helper is ours.\n"
          "int user() { return helper(1, 2) + helper_two(); }\n");
    Write("py/b.py",
          "class Greeter:\n"
          "    def greet(self, name):\n"
          "        return \"hi \" + name\n"
          "\n"
          "def top_level(x):\n"
          "    return Greeter().greet(x)\n");
    Write("web/c.ts",
          "export function addNums(a: number, b: number): number { return a + b; }\n"
          "export class Widget { render(): string { return \"x\"; } }\n");
    Write("web/d.js",
          "function jsFunc(a) { return a; }\n"
          "const total = jsFunc(1) + jsFunc(2);\n");
  }
  std::unique_ptr<Index> Open() {
    auto ix = Index::Open(dir_, db_, options_);
    EXPECT_TRUE(ix.ok()) << ix.status().message();
    return ix.ok() ? std::move(ix).value() : nullptr;
  }
  UpdateStats Update(Index& ix) {
    auto st = ix.Update();
    EXPECT_TRUE(st.ok()) << st.status().message();
    if (st.ok() && !warnings_expected_) {
      std::string all;
      for (const auto& w : st->warnings) all += w + "\n";
      EXPECT_TRUE(st->warnings.empty()) << all;
    }
    return st.ok() ? *st : UpdateStats{};
  }
  static std::vector<std::string> Where(const std::vector<Hit>& hits) {
    std::vector<std::string> out;
    for (const auto& h : hits) out.push_back(h.file + ":" + std::to_string(h.line));
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string base_, dir_, db_;
  Options options_;
  bool warnings_expected_ = false;
};

TEST_F(CodeIndexTest, DefinitionsInCppPythonJavaScriptAndTypeScript) {
  WriteSources();
  auto ix = Open();
  ASSERT_TRUE(ix);
  UpdateStats st = Update(*ix);
  EXPECT_EQ(st.files_seen, 5);
  EXPECT_EQ(st.files_indexed, 5);

  auto bar = ix->Definitions("Bar");
  ASSERT_TRUE(bar.ok()) << bar.status().message();
  ASSERT_EQ(bar->size(), 1u);
  EXPECT_EQ((*bar)[0].file, "src/a.cc");
  EXPECT_EQ((*bar)[0].line, 6);
  EXPECT_EQ((*bar)[0].end_line, 8);
  EXPECT_EQ((*bar)[0].kind, "function");
  EXPECT_EQ((*bar)[0].scope, "ns::Foo");
  EXPECT_EQ((*bar)[0].signature, "(int x) const");
  EXPECT_EQ((*bar)[0].language, "C++");

  auto greet = ix->Definitions("greet");
  ASSERT_TRUE(greet.ok());
  ASSERT_EQ(greet->size(), 1u);
  EXPECT_EQ((*greet)[0].file, "py/b.py");
  EXPECT_EQ((*greet)[0].line, 2);
  EXPECT_EQ((*greet)[0].scope, "Greeter");
  EXPECT_EQ((*greet)[0].language, "Python");

  auto add = ix->Definitions("addNums");
  ASSERT_TRUE(add.ok());
  ASSERT_EQ(add->size(), 1u);
  EXPECT_EQ((*add)[0].file, "web/c.ts");
  EXPECT_EQ((*add)[0].kind, "function");
  EXPECT_EQ((*add)[0].language, "TypeScript");

  auto js = ix->Definitions("jsFunc");
  ASSERT_TRUE(js.ok());
  ASSERT_EQ(js->size(), 1u);
  EXPECT_EQ((*js)[0].file, "web/d.js");
  EXPECT_EQ((*js)[0].line, 1);
  EXPECT_EQ((*js)[0].language, "JavaScript");

  // Exact names are case-sensitive; a prefix query finds every name starting with it.
  EXPECT_TRUE(ix->Definitions("bar")->empty());
  auto pre = ix->Definitions("Gree", 50, true);
  ASSERT_TRUE(pre.ok());
  ASSERT_EQ(pre->size(), 1u);
  EXPECT_EQ((*pre)[0].name, "Greeter");
  EXPECT_EQ(ix->Definitions("", 50).status().code(), Code::kInvalidInput);
}

TEST_F(CodeIndexTest, ReferencesAreWholeIdentifiersOutsideTheDefinition) {
  WriteSources();
  auto ix = Open();
  ASSERT_TRUE(ix);
  Update(*ix);
  auto refs = ix->References("helper");
  ASSERT_TRUE(refs.ok()) << refs.status().message();
  // Not a.cc:10 (the definition), not `helper_two` nor `Helper` alone: the comment line names
  // `helper` too, and a textual reference counts it.
  EXPECT_EQ(Where(*refs), (std::vector<std::string>{"src/use.cc:1", "src/use.cc:2"}));
  auto js = ix->References("jsFunc");
  ASSERT_TRUE(js.ok());
  ASSERT_EQ(js->size(), 1u);
  EXPECT_EQ((*js)[0].file, "web/d.js");
  EXPECT_EQ((*js)[0].line, 2);
  EXPECT_EQ((*js)[0].text, "const total = jsFunc(1) + jsFunc(2);");
  EXPECT_EQ(Where(*ix->References("Greeter")), (std::vector<std::string>{"py/b.py:6"}));
  EXPECT_EQ(ix->References("helper", 1)->size(), 1u);
  EXPECT_EQ(ix->References("+-").status().code(), Code::kInvalidInput);
}

TEST_F(CodeIndexTest, SearchPhrasePrefixLiteralAndBadQueries) {
  WriteSources();
  auto ix = Open();
  ASSERT_TRUE(ix);
  Update(*ix);
  auto phrase = ix->Search("\"return x + 1\"");
  ASSERT_TRUE(phrase.ok()) << phrase.status().message();
  ASSERT_EQ(phrase->size(), 1u);
  EXPECT_EQ((*phrase)[0].file, "src/a.cc");
  EXPECT_EQ((*phrase)[0].line, 7);
  EXPECT_EQ((*phrase)[0].text, "return x + 1;");

  auto prefix = ix->Search("addN*");
  ASSERT_TRUE(prefix.ok());
  EXPECT_EQ(Where(*prefix), (std::vector<std::string>{"web/c.ts:1"}));
  // `_` is part of a token: helper* finds helper_two, helper alone does not.
  EXPECT_EQ(Where(*ix->Search("helper_two")), (std::vector<std::string>{"src/use.cc:1", "src/use.cc:2"}));
  EXPECT_EQ(Where(*ix->Search("top* OR jsFunc")).size(), 3u);
  EXPECT_EQ(ix->Search("anything", 0)->size(), 0u);  // limit is at least 1: nothing matches "anything"

  // Literal mode: quotes, stars and dots are text, not syntax.
  auto literal = ix->Search("Foo::Bar(int x)", 50, QueryMode::kLiteral);
  ASSERT_TRUE(literal.ok()) << literal.status().message();
  EXPECT_EQ(Where(*literal), (std::vector<std::string>{"src/a.cc:6"}));
  auto quoted = ix->Search("\"hi \"", 50, QueryMode::kLiteral);
  ASSERT_TRUE(quoted.ok()) << quoted.status().message();
  EXPECT_EQ(Where(*quoted), (std::vector<std::string>{"py/b.py:3"}));
  EXPECT_EQ(LiteralQuery("a \"b\" * c.d"), "\"a\" \"\"\"b\"\"\" \"c.d\"");

  for (std::string bad : {"\"unbalanced", "foo:bar", "a AND", "(a", "x.y", "*", "NEAR(", "a OR OR b"}) {
    auto r = ix->Search(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidInput) << bad << ": " << r.status().message();
    EXPECT_NE(r.status().message().find("literal"), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(ix->Search("  ").status().code(), Code::kInvalidInput);
  EXPECT_EQ(ix->Search("* ..", 50, QueryMode::kLiteral).status().code(), Code::kInvalidInput);
}

// A word on more than 5,000 lines is not ranked (bm25 over them all is the slow part): the
// first lines in file order come back; a rarer word on the same lines is still ranked.
TEST_F(CodeIndexTest, AWordOnMostLinesComesBackInFileOrder) {
  std::string text;
  for (int i = 1; i <= 6000; ++i)
    text += "int v" + std::to_string(i) + " = common_word(" + std::to_string(i) + ")" + (i % 1000 == 0 ? " + rare_word" : "") + ";\n";
  Write("src/big.cc", text);
  auto ix = Open();
  ASSERT_TRUE(ix);
  Update(*ix);
  auto hits = ix->Search("common_word", 5);
  ASSERT_TRUE(hits.ok()) << hits.status().message();
  ASSERT_EQ(hits->size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ((*hits)[static_cast<size_t>(i)].line, i + 1);
  auto rare = ix->Search("rare_word common_word", 10);
  ASSERT_TRUE(rare.ok());
  EXPECT_EQ(rare->size(), 6u);
  auto bad = ix->Search("common_word AND (", 5);
  EXPECT_FALSE(bad.ok());
}

TEST_F(CodeIndexTest, IncrementalReindexesOnlyWhatChanged) {
  WriteSources();
  {
    auto ix = Open();
    ASSERT_TRUE(ix);
    EXPECT_EQ(Update(*ix).files_indexed, 5);
    UpdateStats again = Update(*ix);
    EXPECT_EQ(again.files_seen, 5);
    EXPECT_EQ(again.files_indexed, 0);
    EXPECT_EQ(again.files_removed, 0);
  }
  // Reopened: the stored sizes and times carry over.
  auto ix = Open();
  ASSERT_TRUE(ix);
  EXPECT_EQ(Update(*ix).files_indexed, 0);

  Write("web/d.js", "function renamedFunc(a) { return a; }\n");
  UpdateStats st = Update(*ix);
  EXPECT_EQ(st.files_indexed, 1);
  EXPECT_EQ(st.files_removed, 0);
  EXPECT_TRUE(ix->Definitions("jsFunc")->empty());
  EXPECT_EQ(ix->Definitions("renamedFunc")->size(), 1u);
  EXPECT_TRUE(ix->Search("jsFunc")->empty());
  EXPECT_EQ(ix->Search("renamedFunc")->size(), 1u);

  fs::remove(dir_ + "/py/b.py");
  st = Update(*ix);
  EXPECT_EQ(st.files_seen, 4);
  EXPECT_EQ(st.files_indexed, 0);
  EXPECT_EQ(st.files_removed, 1);
  EXPECT_TRUE(ix->Definitions("Greeter")->empty());
  EXPECT_TRUE(ix->Search("greet")->empty());
  EXPECT_TRUE(ix->References("Greeter")->empty());
  // Other files keep their rows.
  EXPECT_EQ(ix->Definitions("Bar")->size(), 1u);
}

TEST_F(CodeIndexTest, AFileRewrittenWithinTheRacyWindowIsReadAgain) {
  options_.racy_seconds = 60;
  Write("a.py", "def first_name(): pass\n");
  auto ix = Open();
  ASSERT_TRUE(ix);
  Update(*ix);
  struct stat before;
  ASSERT_EQ(::stat((dir_ + "/a.py").c_str(), &before), 0);
  // The same size and the same modification time: only the racy rule sees the change.
  Write("a.py", "def other_name(): pass\n");
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir_ + "/a.py").c_str(), times, 0), 0);
  EXPECT_EQ(Update(*ix).files_indexed, 1);
  EXPECT_EQ(ix->Definitions("other_name")->size(), 1u);
}

TEST_F(CodeIndexTest, IgnoredBinaryLargeAndSkippedFoldersAreNotIndexed) {
  options_.max_file_bytes = 1000;
  Write(".gitignore", "ignored.cc\nbuild/\n");
  Write("ignored.cc", "int ignored_token_a() { return 1; }\n");
  Write("build/gen.cc", "int ignored_token_b() { return 1; }\n");
  Write("sub/.gitignore", "local.py\n");
  Write("sub/local.py", "def ignored_token_c(): pass\n");
  Write("node_modules/x/index.js", "function ignored_token_d() {}\n");
  Write(".git/config.c", "int ignored_token_e;\n");
  Write("wt/.git", "gitdir: ignored_token_h\n");
  Write("blob.bin", std::string("ignored_token_f\0\x01\x02", 18));
  Write("big.c", "int ignored_token_g;\n" + std::string(2000, '\n'));
  Write("kept.cc", "int kept_token() { return 1; }\n");
  auto ix = Open();
  ASSERT_TRUE(ix);
  UpdateStats st = Update(*ix);
  // .gitignore, sub/.gitignore, blob.bin, big.c, kept.cc; the index's own files are not listed.
  EXPECT_EQ(st.files_seen, 5);
  EXPECT_EQ(st.files_skipped, 2);
  for (const char* t : {"a", "b", "c", "d", "e", "f", "g", "h"}) {
    std::string name = std::string("ignored_token_") + t;
    EXPECT_TRUE(ix->Search(name)->empty()) << name;
    EXPECT_TRUE(ix->Definitions(name)->empty()) << name;
  }
  EXPECT_EQ(ix->Definitions("kept_token")->size(), 1u);
}

TEST_F(CodeIndexTest, SecretBearingFilesAreNeverIndexed) {
  const char* secret[] = {".env", ".env.local", "config/.env.production", "certs/server.pem", "tls.key", "store.p12",
                          "store.pfx", "id_rsa", "home/.ssh/id_rsa.pub", "id_dsa", "id_ecdsa", "id_ed25519",
                          ".npmrc", ".netrc", ".pgpass", "release.keystore", "credentials", "aws/credentials.json",
                          ".git-credentials", "secrets.yaml", "deploy/secrets.json", "UPPER.PEM", "prod.env",
                          "config/staging.env", ".envrc", "infra/prod.tfvars", "infra/prod.tfvars.json",
                          "terraform.tfstate", "terraform.tfstate.backup", ".pypirc", "release.jks", ".htpasswd",
                          "vault.kdbx", "secrets.yml", "secrets.toml", "secrets.ini", "secrets.env", "secrets.txt"};
  for (const char* rel : secret) Write(rel, "DB_PASSWORD=secret_token_value\n");
  // Look-alikes that are ordinary files stay indexed.
  Write("src/keys.cc", "int kept_token_1;\n");
  Write("src/env.py", "kept_token_2 = 1\n");
  Write("docs/secrets_guide.md", "kept_token_3\n");
  Write("my.env.example.txt", "kept_token_4\n");
  // Code named secrets is code, not a secret file: searchable.
  Write("src/secrets.py", "kept_token_5 = 1\n");
  Write("src/secrets.go", "var kept_token_6 = 1\n");
  Write("infra/main.tf", "kept_token_7 = 1\n");
  auto ix = Open();
  ASSERT_TRUE(ix);
  UpdateStats st = Update(*ix);
  EXPECT_EQ(st.files_seen, 7);
  EXPECT_TRUE(ix->Search("secret_token_value")->empty());
  EXPECT_TRUE(ix->Search("DB_PASSWORD")->empty());
  for (int i = 1; i <= 7; ++i) EXPECT_EQ(ix->Search("kept_token_" + std::to_string(i))->size(), 1u) << i;
  for (const char* rel : secret) EXPECT_TRUE(SecretFileName(fs::path(rel).filename().string())) << rel;
  for (const char* name : {"keys.cc", "env.py", "secrets_guide.md", "credentials.py", "id_rs", "key.pem.txt", "secrets.py",
                           "secrets.go", "secrets.rs", "main.tf", "envrc.go", "environment.ts", "tfstate.py"})
    EXPECT_FALSE(SecretFileName(name)) << name;
}

TEST_F(CodeIndexTest, SymlinksOutOfTheRootAreNotFollowed) {
  fs::create_directories(base_ + "/outside");
  std::ofstream(base_ + "/outside/secret.cc") << "int outside_secret_token() { return 42; }\n";
  fs::create_symlink(base_ + "/outside/secret.cc", dir_ + "/link.cc");
  fs::create_directory_symlink(base_ + "/outside", dir_ + "/linkdir");
  Write("kept.cc", "int kept_token;\n");
  auto ix = Open();
  ASSERT_TRUE(ix);
  UpdateStats st = Update(*ix);
  EXPECT_EQ(st.files_seen, 1);
  EXPECT_TRUE(ix->Search("outside_secret_token")->empty());
  EXPECT_TRUE(ix->Definitions("outside_secret_token")->empty());
}

TEST_F(CodeIndexTest, ManyBatchesOnSeveralThreadsGiveTheSameIndex) {
  WriteSources();
  options_.batch_files = 1;
  options_.threads = 3;
  auto ix = Open();
  ASSERT_TRUE(ix);
  EXPECT_EQ(Update(*ix).files_indexed, 5);
  for (const char* name : {"Bar", "greet", "addNums", "jsFunc", "helper"})
    EXPECT_EQ(ix->Definitions(name)->size(), 1u) << name;
  EXPECT_EQ(Where(*ix->References("helper")), (std::vector<std::string>{"src/use.cc:1", "src/use.cc:2"}));
}

TEST_F(CodeIndexTest, AFileCtagsFailsOnLosesOnlyItsOwnSymbols) {
  // A ctags that fails on any list naming bad.py: the batch is split down to that file.
  options_.batch_files = 3;
  std::string wrapper = base_ + "/ctags-wrapper";
  std::ofstream(wrapper) << "#!/bin/sh\n"
                            "case \"$*\" in *--version*) exec ctags --version;; esac\n"
                            "for a; do list=$a; done\n"  // -L FILE comes last
                            "if grep -q bad.py \"$list\"; then echo 'ctags: crashed' >&2; exit 3; fi\n"
                            "exec ctags \"$@\"\n";
  fs::permissions(wrapper, fs::perms::owner_all);
  options_.ctags = wrapper;
  warnings_expected_ = true;
  WriteSources();
  Write("py/bad.py", "def bad_one(): pass\n");
  auto ix = Open();
  ASSERT_TRUE(ix);
  UpdateStats st = Update(*ix);
  EXPECT_EQ(st.files_indexed, 6);
  ASSERT_EQ(st.warnings.size(), 1u);
  EXPECT_NE(st.warnings[0].find("py/bad.py: no symbols (ctags: exited with status 3: ctags: crashed)"), std::string::npos) << st.warnings[0];
  EXPECT_TRUE(ix->Definitions("bad_one")->empty());
  EXPECT_EQ(ix->Search("bad_one")->size(), 1u);  // its text is indexed all the same
  for (const char* name : {"Bar", "greet", "addNums", "jsFunc"}) EXPECT_EQ(ix->Definitions(name)->size(), 1u) << name;
  // It is read again at the next update (the failure might pass), and only it.
  EXPECT_EQ(Update(*ix).files_indexed, 1);
}

TEST_F(CodeIndexTest, AMissingCtagsIsAClearError) {
  options_.ctags = base_ + "/no/such/ctags";
  auto ix = Index::Open(dir_, db_, options_);
  ASSERT_FALSE(ix.ok());
  EXPECT_EQ(ix.status().code(), Code::kNotFound);
  EXPECT_NE(ix.status().message().find("apt-get install universal-ctags"), std::string::npos) << ix.status().message();

  options_.ctags = "";
  ::setenv("SPECWRIGHT_CTAGS", "sw-no-such-ctags", 1);
  auto by_env = Index::Open(dir_, db_, options_);
  ::unsetenv("SPECWRIGHT_CTAGS");
  ASSERT_FALSE(by_env.ok());
  EXPECT_NE(by_env.status().message().find("apt-get install universal-ctags"), std::string::npos);

  // A program that is not universal-ctags is refused too.
  options_.ctags = "/bin/true";
  auto wrong = Index::Open(dir_, db_, options_);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("not universal-ctags"), std::string::npos) << wrong.status().message();
}

TEST_F(CodeIndexTest, AnIndexOfAnotherRootStartsOver) {
  WriteSources();
  {
    auto ix = Open();
    ASSERT_TRUE(ix);
    Update(*ix);
  }
  std::string other = base_ + "/other";
  fs::create_directories(other);
  std::ofstream(other + "/o.py") << "def only_here(): pass\n";
  auto ix = Index::Open(other, db_, options_);
  ASSERT_TRUE(ix.ok()) << ix.status().message();
  EXPECT_TRUE((*ix)->Definitions("Bar")->empty());
  UpdateStats st = *(*ix)->Update();
  EXPECT_EQ(st.files_indexed, 1);
  EXPECT_EQ((*ix)->Definitions("only_here")->size(), 1u);
}

}  // namespace
}  // namespace sw::codeindex
