// The workspace tools against a real temporary directory: every escape route out of the
// sandbox is refused; fs edits, shell.run limits and git checkpoints behave as documented.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <git2.h>

#include "base/fs.h"
#include "tools/git_repo.h"
#include "tools/sandbox.h"
#include "tools/tool.h"

namespace sw::tools {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class ToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_tools_XXXXXX";
    base_ = mkdtemp(tmpl);
    ws_ = base_ + "/ws";
    fs::create_directories(ws_ + "/src");
    std::ofstream(ws_ + "/src/a.txt") << "alpha\nbeta\ngamma\nbeta\n";
    std::ofstream(base_ + "/secret.txt") << "outside";
    AddBuiltins(&reg_);
    ctx_.workspace = ws_;
    ctx_.shell.allow = {"echo", "sh", "env", "sleep", "cat"};
    ctx_.shell.timeout = 5;
  }
  void TearDown() override { fs::remove_all(base_); }
  Result<json> Call(const std::string& uri, const json& args) {
    Tool* t = reg_.Get(uri);
    EXPECT_NE(t, nullptr) << uri;
    if (!t) return NotFound(uri);
    return t->Call(args, ctx_);
  }
  std::string base_, ws_;
  Registry reg_;
  CallContext ctx_;
};

TEST_F(ToolsTest, EveryEscapeRouteIsRefused) {
  fs::create_symlink(base_ + "/secret.txt", ws_ + "/link_out");      // a file link leading out
  fs::create_directory_symlink(base_, ws_ + "/dir_out");             // a directory link leading out
  fs::create_symlink(base_ + "/not-yet", ws_ + "/dangling");         // a dangling link leading out
  fs::create_symlink("src/a.txt", ws_ + "/link_in");                 // a link that stays inside
  struct Case {
    const char* tool;
    json args;
  } cases[] = {
      {"builtin://fs.read", {{"path", "../secret.txt"}}},
      {"builtin://fs.read", {{"path", "src/../../secret.txt"}}},
      {"builtin://fs.read", {{"path", base_ + "/secret.txt"}}},
      {"builtin://fs.read", {{"path", "/etc/passwd"}}},
      {"builtin://fs.read", {{"path", "link_out"}}},
      {"builtin://fs.read", {{"path", "dir_out/secret.txt"}}},
      {"builtin://fs.write", {{"path", "dir_out/new.txt"}, {"content", "x"}}},
      {"builtin://fs.write", {{"path", "dangling"}, {"content", "x"}}},
      {"builtin://fs.write", {{"path", "../new.txt"}, {"content", "x"}}},
      {"builtin://fs.write", {{"path", ".git/config"}, {"content", "x"}}},
      {"builtin://fs.edit", {{"path", "link_out"}, {"old_text", "outside"}, {"new_text", "pwned"}}},
      {"builtin://fs.list", {{"path", "dir_out"}}},
      {"builtin://fs.list", {{"path", ".."}}},
      {"builtin://fs.grep", {{"pattern", "outside"}, {"path", "dir_out"}}},
      {"builtin://fs.grep", {{"pattern", "outside"}, {"path", "link_out"}}},
      {"builtin://fs.glob", {{"pattern", "../*"}}},
      {"builtin://fs.glob", {{"pattern", "/etc/*"}}},
      {"builtin://shell.run", {{"command", "cat secret.txt"}, {"cwd", ".."}}},
      {"builtin://shell.run", {{"command", "echo hi"}, {"cwd", "dir_out"}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.tool) + " " + c.args.dump());
    auto r = Call(c.tool, c.args);
    ASSERT_FALSE(r.ok()) << r->dump();
    EXPECT_TRUE(r.status().message().find("outside") != std::string::npos ||
                r.status().message().find("absolute") != std::string::npos ||
                r.status().message().find(".git") != std::string::npos ||
                r.status().message().find("symlink") != std::string::npos)
        << r.status().message();
  }
  EXPECT_EQ(*ReadFile(base_ + "/secret.txt"), "outside") << "nothing outside was changed";
  // Walking the whole tree never reads or sizes a link's target outside.
  auto grep_all = Call("builtin://fs.grep", {{"pattern", "outside"}});
  ASSERT_TRUE(grep_all.ok()) << grep_all.status().message();
  EXPECT_TRUE((*grep_all)["matches"].empty()) << grep_all->dump();
  auto list_all = Call("builtin://fs.list", {{"recursive", true}});
  ASSERT_TRUE(list_all.ok());
  for (const auto& e : *list_all)
    if (e["path"] == "link_out") EXPECT_FALSE(e.contains("size")) << e.dump();
  EXPECT_EQ(list_all->dump().find("secret"), std::string::npos) << "dir_out is not followed: " << list_all->dump();
  EXPECT_FALSE(fs::exists(base_ + "/new.txt"));
  EXPECT_FALSE(fs::exists(base_ + "/not-yet"));
  // A link that stays inside is fine.
  auto in = Call("builtin://fs.read", {{"path", "link_in"}});
  ASSERT_TRUE(in.ok()) << in.status().message();
  EXPECT_EQ(*in, "alpha\nbeta\ngamma\nbeta\n");
}

TEST_F(ToolsTest, PickReturnsTheElementAtARunTimeIndexAndNamesWhatIsWrong) {
  // As templates render them: the list as JSON text, the index as its digits.
  auto r = Call("builtin://pick", {{"list", "[\n  \"a\",\n  {\"b\": 1}\n]"}, {"index", "1"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, json({{"b", 1}}));
  r = Call("builtin://pick", {{"list", json::array({"x", "y"})}, {"index", 0}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "x");
  struct Bad {
    json args;
    std::string message;
  };
  for (const auto& b : std::vector<Bad>{
           {{{"list", "[1, 2, 3]"}, {"index", "3"}}, "index 3 is out of range of a list of 3"},
           {{{"list", "[1]"}, {"index", "-1"}}, "args.index \"-1\" is not a whole number"},
           {{{"list", "[1]"}, {"index", ""}}, "is not a whole number"},
           {{{"list", "[1]"}, {"index", 1.5}}, "is not a whole number"},
           {{{"list", "not json"}, {"index", "0"}}, "args.list is not JSON text"},
           {{{"list", "{\"a\": 1}"}, {"index", "0"}}, "args.list is not a list"},
           {{{"list", "[1]"}}, "needs args.list and args.index"},
           // args.empty is the error for an empty list (the patterns' guard against no items) ...
           {{{"list", "[]"}, {"index", "0"}, {"empty", "approaches is empty"}}, "approaches is empty"},
           // ... and without it an empty list is out of range like any.
           {{{"list", "[]"}, {"index", "0"}}, "index 0 is out of range of a list of 0"}}) {
    auto e = Call("builtin://pick", b.args);
    ASSERT_FALSE(e.ok()) << b.args.dump();
    EXPECT_NE(e.status().message().find(b.message), std::string::npos) << e.status().message();
  }
  // args.empty changes nothing for a list that has items.
  r = Call("builtin://pick", {{"list", "[7]"}, {"index", "0"}, {"empty", "no items"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, 7);
}

TEST_F(ToolsTest, FileToolsReadWriteEditListGlobGrep) {
  auto w = Call("builtin://fs.write", {{"path", "deep/er/b.c"}, {"content", "int main() { return 1; }\n"}});
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ((*w)["created"], true);
  EXPECT_EQ(*ReadFile(ws_ + "/deep/er/b.c"), "int main() { return 1; }\n");
  // Replacing a file keeps its mode.
  std::ofstream(ws_ + "/run.sh") << "echo one\n";
  fs::permissions(ws_ + "/run.sh", fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  ASSERT_TRUE(Call("builtin://fs.edit", {{"path", "run.sh"}, {"old_text", "one"}, {"new_text", "two"}}).ok());
  EXPECT_TRUE((fs::status(ws_ + "/run.sh").permissions() & fs::perms::owner_exec) != fs::perms::none);
  fs::remove(ws_ + "/run.sh");
  auto part = Call("builtin://fs.read", {{"path", "src/a.txt"}, {"offset", 2}, {"limit", 2}});
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(*part, "beta\ngamma\n");
  // Exact replace with a uniqueness check.
  auto twice = Call("builtin://fs.edit", {{"path", "src/a.txt"}, {"old_text", "beta"}, {"new_text", "BETA"}});
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("occurs 2 times"), std::string::npos) << twice.status().message();
  auto missing = Call("builtin://fs.edit", {{"path", "src/a.txt"}, {"old_text", "delta"}, {"new_text", "x"}});
  EXPECT_NE(missing.status().message().find("not found"), std::string::npos);
  auto once = Call("builtin://fs.edit", {{"path", "src/a.txt"}, {"old_text", "alpha\nbeta"}, {"new_text", "ALPHA\nbeta"}});
  ASSERT_TRUE(once.ok()) << once.status().message();
  auto all = Call("builtin://fs.edit", {{"path", "src/a.txt"}, {"old_text", "beta"}, {"new_text", "b"}, {"replace_all", true}});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)["replacements"], 2);
  EXPECT_EQ(*ReadFile(ws_ + "/src/a.txt"), "ALPHA\nb\ngamma\nb\n");
  auto list = Call("builtin://fs.list", {{"recursive", true}});
  ASSERT_TRUE(list.ok());
  std::vector<std::string> paths;
  for (const auto& e : *list) paths.push_back(e["path"]);
  EXPECT_EQ(paths, (std::vector<std::string>{"deep", "deep/er", "deep/er/b.c", "src", "src/a.txt"}));
  auto glob = Call("builtin://fs.glob", {{"pattern", "**/*.c"}});
  ASSERT_TRUE(glob.ok());
  EXPECT_EQ(*glob, json::array({"deep/er/b.c"}));
  auto grep = Call("builtin://fs.grep", {{"pattern", "g[a-z]+a$"}});
  ASSERT_TRUE(grep.ok()) << grep.status().message();
  ASSERT_EQ((*grep)["matches"].size(), 1u);
  EXPECT_EQ((*grep)["matches"][0], json({{"path", "src/a.txt"}, {"line", 3}, {"text", "gamma"}}));
  EXPECT_FALSE(Call("builtin://fs.grep", {{"pattern", "("}}).ok());
  std::ofstream(ws_ + "/bin.dat") << std::string("a\0b", 3);
  EXPECT_NE(Call("builtin://fs.read", {{"path", "bin.dat"}}).status().message().find("binary"), std::string::npos);
}

TEST_F(ToolsTest, ShellRunAllowlistCleanEnvironmentTimeoutAndCap) {
  setenv("OPENAI_API_KEY", "sk-must-not-leak", 1);
  auto env = Call("builtin://shell.run", {{"command", "env"}});
  ASSERT_TRUE(env.ok()) << env.status().message();
  std::string shown = env->get<std::string>();
  EXPECT_TRUE(shown.starts_with("$ env\nexit code 0\n")) << shown;
  EXPECT_EQ(shown.find("sk-must-not-leak"), std::string::npos);
  EXPECT_NE(shown.find("HOME=" + ws_), std::string::npos);
  unsetenv("OPENAI_API_KEY");
  auto denied = Call("builtin://shell.run", {{"command", "rm -rf src"}});
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.status().message().find("not allowed"), std::string::npos);
  EXPECT_TRUE(fs::exists(ws_ + "/src/a.txt"));
  EXPECT_FALSE(Call("builtin://shell.run", {{"argv", {"/bin/echo", "x"}}}).ok()) << "a path sidesteps the allowlist";
  auto fail = Call("builtin://shell.run", {{"argv", {"sh", "-c", "echo oops >&2; exit 3"}}});
  ASSERT_TRUE(fail.ok());
  EXPECT_NE(fail->get<std::string>().find("exit code 3"), std::string::npos) << *fail;
  EXPECT_NE(fail->get<std::string>().find("--- stderr\noops\n"), std::string::npos) << *fail;
  auto quoted = Call("builtin://shell.run", {{"command", "echo 'a  b' \"$HOME\""}});
  ASSERT_TRUE(quoted.ok());
  EXPECT_NE(quoted->get<std::string>().find("--- stdout\na  b $HOME\n"), std::string::npos) << "no expansion: " << *quoted;
  ctx_.shell.timeout = 0.3;
  auto slow = Call("builtin://shell.run", {{"argv", {"sh", "-c", "sleep 30 & sleep 30"}}});
  ASSERT_TRUE(slow.ok());
  EXPECT_NE(slow->get<std::string>().find("killed after the 300ms timeout"), std::string::npos) << *slow;
  // A descendant that escapes the process group cannot hold the call past the timeout.
  auto escaped = Call("builtin://shell.run", {{"argv", {"sh", "-c", "setsid sleep 5 & echo started; sleep 30"}}});
  ASSERT_TRUE(escaped.ok());
  EXPECT_NE(escaped->get<std::string>().find("killed after"), std::string::npos) << *escaped;
  ctx_.shell.timeout = 5;
  ctx_.shell.max_output = 100;
  auto big = Call("builtin://shell.run", {{"argv", {"sh", "-c", "i=0; while [ $i -lt 100 ]; do echo 0123456789; i=$((i+1)); done"}}});
  ASSERT_TRUE(big.ok());
  EXPECT_NE(big->get<std::string>().find("[... 1000 more bytes not captured]"), std::string::npos) << *big;
}

TEST_F(ToolsTest, GitCheckpointsDiffStatusLogAndReset) {
  auto repo = GitRepo::Init(ws_, "specwright/run1");
  ASSERT_TRUE(repo.ok()) << repo.status().message();
  std::ofstream(ws_ + "/.gitignore") << "build/\n";
  fs::create_directories(ws_ + "/build");
  std::ofstream(ws_ + "/build/out.o") << "binary";
  auto c1 = (*repo)->CommitAll("specwright: workspace");
  ASSERT_TRUE(c1.ok()) << c1.status().message();
  ASSERT_FALSE(c1->empty());
  auto again = (*repo)->CommitAll("nothing");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty()) << "no change, no commit";
  std::ofstream(ws_ + "/src/a.txt") << "alpha\nBETA\n";
  fs::remove(ws_ + "/.gitignore");
  std::ofstream(ws_ + "/.gitignore") << "build/\n";
  std::ofstream(ws_ + "/new.txt") << "fresh\n";
  auto st = Call("builtin://git.status", json::object());
  ASSERT_TRUE(st.ok()) << st.status().message();
  EXPECT_NE(st->dump().find("new.txt"), std::string::npos);
  EXPECT_EQ(st->dump().find("out.o"), std::string::npos) << "ignored files are not changes";
  auto d = Call("builtin://git.diff", json::object());
  ASSERT_TRUE(d.ok());
  EXPECT_NE(d->get<std::string>().find("+BETA"), std::string::npos) << *d;
  auto c2 = (*repo)->CommitAll("specwright: run run1 node fix attempt 1");
  ASSERT_TRUE(c2.ok());
  auto files = (*repo)->ChangedFiles(*c1, *c2);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(*files, (std::vector<std::string>{"new.txt", "src/a.txt"}));
  auto patch = (*repo)->Diff(*c1, *c2);
  ASSERT_TRUE(patch.ok());
  EXPECT_NE(patch->find("-beta"), std::string::npos);
  EXPECT_NE(patch->find("+fresh"), std::string::npos);
  auto log = Call("builtin://git.log", json::object());
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0]["summary"], "specwright: run run1 node fix attempt 1");
  // Reset drops what came after the checkpoint: edits, new files, build outputs.
  std::ofstream(ws_ + "/src/a.txt") << "half-done edit\n";
  std::ofstream(ws_ + "/stray.txt") << "x";
  ASSERT_TRUE((*repo)->ResetHard(*c2).ok());
  EXPECT_EQ(*ReadFile(ws_ + "/src/a.txt"), "alpha\nBETA\n");
  EXPECT_FALSE(fs::exists(ws_ + "/stray.txt"));
  EXPECT_FALSE(fs::exists(ws_ + "/build/out.o"));
  EXPECT_TRUE(fs::exists(ws_ + "/.gitignore"));
}

TEST_F(ToolsTest, WorktreeOfAnExistingRepositoryLeavesItsCheckoutAlone) {
  std::string user = base_ + "/user-repo";
  fs::create_directories(user);
  std::ofstream(user + "/README") << "mine\n";
  auto r = GitRepo::Init(user, "main");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE((*r)->CommitAll("initial").ok());
  auto wt = GitRepo::AddWorktree(user, base_ + "/wt", "specwright-run2", "specwright/run2");
  ASSERT_TRUE(wt.ok()) << wt.status().message();
  EXPECT_EQ(*ReadFile(base_ + "/wt/README"), "mine\n");
  std::ofstream(base_ + "/wt/README") << "changed by the run\n";
  ASSERT_FALSE((*wt)->CommitAll("specwright: run run2 node n attempt 1")->empty());
  EXPECT_EQ(*ReadFile(user + "/README"), "mine\n") << "the user's checkout is untouched";
  auto log = (*r)->Log(5);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->size(), 1u) << "the user's branch has no run commits";
}

TEST_F(ToolsTest, ExportTreeWritesACommitsFilesAndRefusesATreeThatWouldEscape) {
  auto repo = GitRepo::Init(ws_, "main");
  ASSERT_TRUE(repo.ok()) << repo.status().message();
  std::ofstream(ws_ + "/run.sh") << "#!/bin/sh\necho hi\n";
  fs::permissions(ws_ + "/run.sh", fs::perms::owner_all);
  fs::create_symlink("src/a.txt", ws_ + "/link");
  auto good = (*repo)->CommitAll("files");
  ASSERT_TRUE(good.ok() && !good->empty());
  std::string out = base_ + "/out";
  fs::create_directories(out);
  ASSERT_TRUE((*repo)->ExportTree(*good, out).ok());
  EXPECT_EQ(ReadFile(out + "/src/a.txt").value(), "alpha\nbeta\ngamma\nbeta\n");
  EXPECT_TRUE((fs::status(out + "/run.sh").permissions() & fs::perms::owner_exec) != fs::perms::none);
  EXPECT_EQ(fs::read_symlink(out + "/link"), "src/a.txt");
  EXPECT_FALSE(fs::exists(out + "/.git"));

  // A hand-made tree naming "a" twice: a link to the outside, then a directory holding a
  // file. Written naively, the file would land outside through the link.
  git_repository* raw = nullptr;
  ASSERT_EQ(git_repository_open(&raw, ws_.c_str()), 0);
  git_oid link_blob, file_blob, inner_tree, top_tree, commit;
  std::string target = base_;
  ASSERT_EQ(git_blob_create_from_buffer(&link_blob, raw, target.data(), target.size()), 0);
  ASSERT_EQ(git_blob_create_from_buffer(&file_blob, raw, "pwned", 5), 0);
  git_odb* odb = nullptr;
  ASSERT_EQ(git_repository_odb(&odb, raw), 0);
  auto entry = [](const char* mode, const char* name, const git_oid& id) {
    std::string e = std::string(mode) + " " + name;
    e.push_back('\0');
    e.append(reinterpret_cast<const char*>(id.id), GIT_OID_RAWSZ);
    return e;
  };
  std::string inner = entry("100644", "secret.txt", file_blob);
  ASSERT_EQ(git_odb_write(&inner_tree, odb, inner.data(), inner.size(), GIT_OBJECT_TREE), 0);
  std::string top = entry("120000", "a", link_blob) + entry("40000", "a", inner_tree);
  ASSERT_EQ(git_odb_write(&top_tree, odb, top.data(), top.size(), GIT_OBJECT_TREE), 0);
  git_tree* tree = nullptr;
  ASSERT_EQ(git_tree_lookup(&tree, raw, &top_tree), 0);
  git_signature* sig = nullptr;
  ASSERT_EQ(git_signature_now(&sig, "t", "t@example.com"), 0);
  ASSERT_EQ(git_commit_create(&commit, raw, nullptr, sig, sig, nullptr, "evil", tree, 0, nullptr), 0);
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof(hex), &commit);
  git_signature_free(sig);
  git_tree_free(tree);
  git_odb_free(odb);
  git_repository_free(raw);
  std::string evil_out = base_ + "/evil";
  fs::create_directories(evil_out);
  Status s = (*repo)->ExportTree(hex, evil_out);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(ReadFile(base_ + "/secret.txt").value(), "outside") << "nothing was written through the link";
}

}  // namespace
}  // namespace sw::tools
