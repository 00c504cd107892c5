// The command line as a shell sees it: the real `specwright` binary and real bash, zsh, fish
// and man as subprocesses. Short options, `help COMMAND`, aligned help, -V, errors as typed,
// --json errors (one JSON object on stdout, code = exit code), the completion scripts loaded
// and asked for completions, and the man page (generated at build time) rendered without
// warnings.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../isolated_env.h"  // the binary never sees the developer's HOME, config or git identity

extern char** environ;

namespace {

namespace fs = std::filesystem;

struct Out {
  int code = -1;
  std::string out, err;
};

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class Shell : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_shell_XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = dir_ + "/store";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Exec runs argv[0] (looked up on PATH) with extra environment; stdin is /dev/null.
  Out Exec(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    std::string o = dir_ + "/out" + std::to_string(n_) + ".txt", e = dir_ + "/err" + std::to_string(n_++) + ".txt";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, o.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, e.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> all = args;
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    // HOME: no user's shell or fish configuration. The extra variables replace the inherited
    // ones of the same name (getenv finds the first).
    std::vector<std::string> extra{"HOME=" + dir_};
    extra.insert(extra.end(), env.begin(), env.end());
    std::vector<std::string> envs;
    for (char** p = environ; *p; ++p) {
      std::string var(*p);
      bool replaced = false;
      for (const auto& x : extra) replaced = replaced || var.compare(0, var.find('=') + 1, x, 0, x.find('=') + 1) == 0;
      if (!replaced) envs.push_back(std::move(var));
    }
    for (const auto& x : extra) envs.push_back(x);
    std::vector<char*> envp;
    for (auto& x : envs) envp.push_back(x.data());
    envp.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, all[0].c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    EXPECT_EQ(rc, 0) << all[0];
    Out r;
    int status = 0;
    waitpid(pid, &status, 0);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = Slurp(o);
    r.err = Slurp(e);
    return r;
  }
  Out Sw(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), SW_BINARY);
    return Exec(args, env);
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_, store_;
  int n_ = 0;
};

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool Has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::vector<std::string> CommandNames() {
  return {"init", "validate", "run",    "resume", "runs",   "sessions", "show",   "cancel",  "approve",
          "files", "trace",   "debug",  "cost",   "artifacts", "lineage", "replay", "diff",  "export",
          "gc",   "ui",       "mcp",    "develop", "modify", "review",  "spec",   "help",    "completion"};
}

TEST_F(Shell, ShortOptionsWorkAndWrongOnesAreNamedAsTyped) {
  ASSERT_EQ(Sw({"init", dir_ + "/w"}).code, 0);
  // -i (--input), -y (--yes): a whole run with short options.
  Out run = Sw({"run", dir_ + "/w/flow.yaml", "--script", dir_ + "/w/flow.script.yaml", "-i", "topic=short options", "-y",
                "--store", store_});
  EXPECT_EQ(run.code, 0) << run.out << run.err;
  // -n N (--limit), -a (--all), and -nN in one word.
  Out runs = Sw({"runs", "-n", "1", "-a", "--store", store_});
  EXPECT_EQ(runs.code, 0) << runs.err;
  EXPECT_EQ(Sw({"runs", "-n1", "--store", store_}).code, 0);
  EXPECT_EQ(Sw({"runs", "--limit=1", "--store", store_}).code, 0);
  // gc -n is --dry-run (git clean -n); it deletes nothing.
  Out gc = Sw({"gc", "-n", "--store", store_});
  EXPECT_EQ(gc.code, 0) << gc.err;

  Out x = Sw({"runs", "-x", "--store", store_});
  EXPECT_EQ(x.code, 2);
  EXPECT_TRUE(Has(x.err, "unknown option -x ")) << x.err;
  EXPECT_FALSE(Has(x.err, "--x")) << x.err;
  EXPECT_TRUE(Has(x.err, "-n, -a, -h")) << x.err;  // the short options it has
  Out v = Sw({"runs", "-V"});
  EXPECT_EQ(v.code, 2);
  EXPECT_TRUE(Has(v.err, "unknown option -V")) << v.err;
  Out need = Sw({"runs", "-n"});
  EXPECT_EQ(need.code, 2);
  EXPECT_TRUE(Has(need.err, "option -n needs a value")) << need.err;
  Out one_dash = Sw({"runs", "-limit", "3"});
  EXPECT_EQ(one_dash.code, 2);
  EXPECT_TRUE(Has(one_dash.err, "unknown option -limit (did you mean --limit?)")) << one_dash.err;
  Out typo = Sw({"runs", "--limt=3"});
  EXPECT_EQ(typo.code, 2);
  EXPECT_TRUE(Has(typo.err, "unknown option --limt (did you mean --limit?)")) << typo.err;
  EXPECT_TRUE(Has(typo.err, "usage: specwright runs")) << typo.err;
  Out twice = Sw({"runs", "-n", "1", "--limit", "2"});
  EXPECT_EQ(twice.code, 2);
  EXPECT_TRUE(Has(twice.err, "option --limit given more than once")) << twice.err;
  Out value = Sw({"runs", "--all=yes"});
  EXPECT_EQ(value.code, 2);
  EXPECT_TRUE(Has(value.err, "option --all takes no value")) << value.err;
  Out before = Sw({"--store", store_, "runs"});
  EXPECT_EQ(before.code, 2);
  EXPECT_TRUE(Has(before.err, "options go after it")) << before.err;
}

TEST_F(Shell, HelpCommandVersion) {
  Out help = Sw({"help"});
  EXPECT_EQ(help.code, 0);
  for (const auto& c : CommandNames()) EXPECT_TRUE(Has(help.out, "\n  " + c + " ")) << c << "\n" << help.out;
  EXPECT_FALSE(Has(help.out, "manpage")) << "hidden commands are not listed";
  EXPECT_EQ(Sw({"-h"}).out, help.out);
  EXPECT_EQ(Sw({"--help"}).out, help.out);
  Out none = Sw({});
  EXPECT_EQ(none.code, 2);
  EXPECT_EQ(none.err, help.out);

  Out run = Sw({"help", "run"});
  EXPECT_EQ(run.code, 0);
  EXPECT_TRUE(Has(run.out, "usage: specwright run FILE")) << run.out;
  EXPECT_TRUE(Has(run.out, "  -i, --input k=v")) << run.out;
  EXPECT_TRUE(Has(run.out, "  -y, --yes")) << run.out;
  EXPECT_FALSE(Has(run.out, "commands:")) << "help CMD is not the global help";
  EXPECT_EQ(Sw({"run", "--help"}).out, run.out);
  EXPECT_EQ(Sw({"run", "-h"}).out, run.out);
  EXPECT_EQ(Sw({"-h", "run"}).out, run.out);

  Out bogus = Sw({"help", "rnu"});
  EXPECT_EQ(bogus.code, 2);
  EXPECT_TRUE(Has(bogus.err, "no command \"rnu\" (did you mean \"run\"?)")) << bogus.err;
  Out unknown = Sw({"rnu"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_TRUE(Has(unknown.err, "unknown command \"rnu\" (did you mean \"run\"?)")) << unknown.err;
  Out dash_v = Sw({"-V"});
  EXPECT_EQ(dash_v.code, 0);
  EXPECT_EQ(dash_v.out.rfind("specwright ", 0), 0u) << dash_v.out;
  EXPECT_FALSE(Has(dash_v.err + dash_v.out, "gc"));
  EXPECT_EQ(Sw({"--version"}).out, dash_v.out);
  EXPECT_EQ(Sw({"version"}).out, dash_v.out);
}

// Every description in a command's options starts at the same column, whatever the longest
// flag, and no line is longer than the width (COLUMNS) unless one word is.
TEST_F(Shell, HelpIsAlignedAndWrapped) {
  for (int width : {80, 60}) {
    for (const auto& c : CommandNames()) {
      Out h = Sw({"help", c}, {"COLUMNS=" + std::to_string(width)});
      ASSERT_EQ(h.code, 0) << c;
      auto lines = Lines(h.out);
      size_t at = 0;
      while (at < lines.size() && lines[at] != "options:") ++at;
      ASSERT_LT(at, lines.size()) << c << "\n" << h.out;
      std::set<size_t> columns;
      for (size_t i = at + 1; i < lines.size(); ++i) {
        const std::string& l = lines[i];
        if (l.empty()) break;
        size_t start = 0;
        if (l.rfind("  -", 0) == 0 || l.rfind("      --", 0) == 0) {
          size_t gap = l.find("  ", l.find('-'));
          if (gap == std::string::npos) continue;  // a long flag on its own line
          start = l.find_first_not_of(' ', gap);
        } else {
          start = l.find_first_not_of(' ');
        }
        columns.insert(start);
        bool one_word = l.find(' ', start) == std::string::npos;
        EXPECT_TRUE(l.size() <= static_cast<size_t>(width) || one_word) << c << ": " << l;
      }
      EXPECT_EQ(columns.size(), 1u) << c << " at width " << width << "\n" << h.out;
    }
  }
}

TEST_F(Shell, JsonErrorsAreOneObjectOnStdoutWithTheExitCode) {
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string error, command;
    bool usage;
  };
  std::vector<Case> cases = {
      {{"rnu", "--json"}, 2, "unknown command \"rnu\"", "", false},
      {{"runs", "--limt", "3", "--json"}, 2, "unknown option --limt (did you mean --limit?)", "runs", true},
      {{"runs", "--json", "-n"}, 2, "option -n needs a value", "runs", true},
      {{"runs", "--json", "-x"}, 2, "unknown option -x", "runs", true},
      {{"--json", "runs"}, 2, "options go after it", "runs", true},
      {{"show", "--json", "--store", store_}, 2, "show needs exactly one RUN", "show", true},  // Usage()
      {{"show", "nope", "--json", "--store", store_}, 2, "nope", "show", false},               // Fail()
      {{"runs", "--json", "--status", "sleeping", "--store", store_}, 2, "sleeping", "runs", true},
  };
  for (const auto& c : cases) {
    Out r = Sw(c.args);
    std::string what = nlohmann::json(c.args).dump();
    EXPECT_EQ(r.code, c.code) << what << r.out << r.err;
    EXPECT_EQ(r.err, "") << what;
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << what << ": " << r.out;
    ASSERT_TRUE(j.is_object()) << r.out;
    EXPECT_EQ(j.value("code", -1), r.code) << r.out;
    EXPECT_TRUE(Has(j.value("error", ""), c.error)) << what << ": " << r.out;
    if (c.command.empty()) EXPECT_FALSE(j.contains("command")) << r.out;
    else EXPECT_EQ(j.value("command", ""), c.command) << r.out;
    EXPECT_EQ(j.contains("usage"), c.usage) << r.out;
    if (c.usage) EXPECT_EQ(j["usage"].get<std::string>().rfind("specwright " + c.command, 0), 0u) << r.out;
  }
  // Without --json the same errors stay plain text on stderr.
  Out plain = Sw({"runs", "--limt", "3"});
  EXPECT_EQ(plain.out, "");
  EXPECT_TRUE(Has(plain.err, "specwright runs: unknown option --limt")) << plain.err;
  // After `--`, --json is an argument, not the option.
  Out after = Sw({"show", "--store", store_, "--", "--json"});
  EXPECT_EQ(after.code, 2);
  EXPECT_EQ(after.out, "");
}

TEST_F(Shell, DoubleDashEndsOptions) {
  // `--` makes "-x" an argument: validate then reports the file, not an unknown option.
  Out r = Sw({"validate", "--", "-x.yaml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(Has(r.err, "unknown option")) << r.err;
  EXPECT_TRUE(Has(r.err, "-x.yaml")) << r.err;
}

TEST_F(Shell, CompletionRejectsAnUnknownShell) {
  Out r = Sw({"completion", "tcsh"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(Has(r.err, "bash, zsh and fish")) << r.err;
  EXPECT_EQ(Sw({"completion"}).code, 2);
}

// The bash script, sourced by bash; its function asked as bash's programmable completion
// asks it (COMP_WORDS, COMP_CWORD).
TEST_F(Shell, BashCompletes) {
  Out script = Sw({"completion", "bash"});
  ASSERT_EQ(script.code, 0);
  std::string file = Write("specwright.bash", script.out);
  EXPECT_EQ(Slurp(std::string(SW_BINARY_DIR) + "/completions/specwright.bash"), script.out) << "stale build output";
  Out syntax = Exec({"bash", "-n", file});
  EXPECT_EQ(syntax.code, 0) << syntax.err;
  fs::create_directories(dir_ + "/proj/specs");
  Write("proj/flow.yaml", "");
  std::string ask =
      "source " + file + " || exit 9\n"
      "complete -p specwright || exit 8\n"
      "ask() { COMP_WORDS=(\"$@\"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _specwright;\n"
      "  for w in \"${COMPREPLY[@]}\"; do printf '%s|' \"$w\"; done; echo; }\n"
      "cd " + dir_ + "/proj\n"
      "ask specwright ru\n"
      "ask specwright runs --st\n"
      "ask specwright runs --status ''\n"
      "ask specwright export r1 --format = c\n"
      "ask specwright -\n"
      "ask specwright help ''\n"
      "ask specwright help run ''\n"
      "ask specwright review ''\n"
      "ask specwright run fl\n"
      "ask specwright runs -\n"
      "ask specwright completion ''\n";
  Out r = Exec({"bash", "--norc", "--noprofile", "-c", ask});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 12u) << r.out << r.err;
  EXPECT_TRUE(Has(lines[0], "-F _specwright specwright")) << lines[0];
  EXPECT_EQ(lines[1], "run|runs|");
  EXPECT_EQ(lines[2], "--status|--store|");
  EXPECT_EQ(lines[3], "queued|running|waiting|succeeded|failed|cancelled|abandoned|");
  EXPECT_EQ(lines[4], "csv|");
  EXPECT_EQ(lines[5], "-h|--help|-V|--version|");
  EXPECT_TRUE(Has(lines[6], "|run|") && Has(lines[6], "|runs|") && Has(lines[6], "|completion|")) << lines[6];
  EXPECT_FALSE(Has(lines[6], "manpage")) << lines[6];
  EXPECT_EQ(lines[7], "") << "help takes one command";
  EXPECT_EQ(lines[8], "requirements|domain|stories|architecture|api|tests|");
  EXPECT_EQ(lines[9], "flow.yaml|");
  EXPECT_EQ(lines[10], "-n|--limit|-a|--all|--status|--search|--store|--json|--no-color|-h|--help|");
  EXPECT_EQ(lines[11], "bash|zsh|fish|");
}

// The zsh script: syntax, registered by compdef after compinit, both sourced and from $fpath,
// and real completions in an interactive zsh on a pseudo-terminal (zsh/zpty).
TEST_F(Shell, ZshCompletes) {
  Out script = Sw({"completion", "zsh"});
  ASSERT_EQ(script.code, 0);
  fs::create_directories(dir_ + "/zfunc");
  std::string file = Write("zfunc/_specwright", script.out);
  EXPECT_EQ(Slurp(std::string(SW_BINARY_DIR) + "/completions/_specwright"), script.out) << "stale build output";
  Out syntax = Exec({"zsh", "-n", file});
  EXPECT_EQ(syntax.code, 0) << syntax.err;
  Out sourced = Exec({"zsh", "-f", "-c",
                      "autoload -Uz compinit && compinit -u -D && source " + file + " && print -r -- $_comps[specwright]"});
  EXPECT_EQ(sourced.code, 0) << sourced.err;
  EXPECT_EQ(sourced.out, "_specwright\n") << sourced.err;
  Out fpath = Exec({"zsh", "-f", "-c",
                    "fpath=(" + dir_ + "/zfunc $fpath); autoload -Uz compinit && compinit -u -D && "
                    "print -r -- $_comps[specwright] && autoload +X _specwright && print loaded"});
  EXPECT_EQ(fpath.code, 0) << fpath.err;
  EXPECT_EQ(fpath.out, "_specwright\nloaded\n") << fpath.err;
  std::string drive =
      "zmodload zsh/zpty || exit 7\n"
      "zpty z 'PS1=\"%% \" zsh -f -i'\n"
      "zpty -w z 'autoload -Uz compinit; compinit -u -D; source " + file + "; setopt nobeep'\n"
      // The first tab completes "ru" to "run", the second lists run and runs.
      "zpty -w -n z $'specwright ru\\t\\t'\n"
      "zpty -r z got '*runs*--*list runs*' && print -r -- FOUND-COMMANDS\n"
      "zpty -w -n z $'\\C-u'\n"
      "zpty -w -n z $'specwright runs --st\\t'\n"
      "zpty -r z got '*--status*--store*' && print -r -- FOUND-OPTIONS\n"
      "zpty -d z\n";
  Out r = Exec({"timeout", "60", "zsh", "-f", "-c", drive});
  EXPECT_TRUE(Has(r.out, "FOUND-COMMANDS")) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "FOUND-OPTIONS")) << r.out << r.err;
}

TEST_F(Shell, FishCompletes) {
  Out script = Sw({"completion", "fish"});
  ASSERT_EQ(script.code, 0);
  std::string file = Write("specwright.fish", script.out);
  EXPECT_EQ(Slurp(std::string(SW_BINARY_DIR) + "/completions/specwright.fish"), script.out) << "stale build output";
  Out syntax = Exec({"fish", "--no-config", "-n", file});
  EXPECT_EQ(syntax.code, 0) << syntax.err;
  auto ask = [&](const std::string& line) {
    Out r = Exec({"fish", "--no-config", "-c", "source " + file + "; complete -C '" + line + "'"});
    EXPECT_EQ(r.code, 0) << r.err;
    std::string words;
    for (const auto& l : Lines(r.out)) words += l.substr(0, l.find('\t')) + "|";
    return words;
  };
  EXPECT_EQ(ask("specwright ru"), "run|runs|");
  EXPECT_EQ(ask("specwright runs --st"), "--status|--store|");
  EXPECT_EQ(ask("specwright runs --status "), "abandoned|cancelled|failed|queued|running|succeeded|waiting|");
  EXPECT_EQ(ask("specwright spec -f "), "csv|json|md|");
  EXPECT_EQ(ask("specwright help run "), "");
  EXPECT_TRUE(Has(ask("specwright runs -"), "-n|")) << ask("specwright runs -");
}

// The man page made at build time: current, rendered by man -l without a warning, every
// command in it.
TEST_F(Shell, ManPageRenders) {
  std::string page = std::string(SW_BINARY_DIR) + "/specwright.1";
  ASSERT_TRUE(fs::exists(page)) << page;
  Out now = Sw({"manpage"});
  ASSERT_EQ(now.code, 0);
  EXPECT_EQ(Slurp(page), now.out) << "stale build output";
  Out man = Exec({"man", "--warnings", "-l", page}, {"MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "MAN_KEEP_FORMATTING="});
  EXPECT_EQ(man.code, 0) << man.err;
  EXPECT_EQ(man.err, "");
  for (const auto& section : {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "EXIT STATUS", "ENVIRONMENT",
                              "FILES", "SEE ALSO"})
    EXPECT_TRUE(Has(man.out, std::string("\n") + section + "\n")) << section;
  for (const auto& c : CommandNames()) EXPECT_TRUE(Has(man.out, "\n   " + c + "\n")) << c;
  EXPECT_TRUE(Has(man.out, "-n, --limit N")) << "short options and value names";
  EXPECT_TRUE(Has(man.out, "SPECWRIGHT_STORE"));
  EXPECT_TRUE(Has(man.out, "OPENAI_API_KEY"));
  EXPECT_TRUE(Has(man.out, "OTEL_EXPORTER_OTLP_ENDPOINT"));
  Out groff = Exec({"groff", "-ww", "-man", "-Tutf8", "-z", page});
  EXPECT_EQ(groff.code, 0);
  EXPECT_EQ(groff.err, "") << "groff warnings";
}

}  // namespace
