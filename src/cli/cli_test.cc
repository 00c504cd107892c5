// The parser against the real command table: what CLI11 is asked to do and what the commands
// get (Args), without starting a process. tests/shell/shell_test.cc runs the binary.
#include <gtest/gtest.h>

#include <set>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/shell.h"
#include "process/process.h"

namespace sw::cli {
namespace {

ParsedLine P(const std::vector<std::string>& argv) { return ParseCommandLine(argv, Commands()); }

TEST(Parse, LongShortEqualsAndCombined) {
  auto p = P({"run", "flow.yaml", "--input", "a=1", "-i", "b=2", "--input=c=3", "-id=4", "-y", "--max-calls=9"});
  ASSERT_EQ(p.error, "");
  ASSERT_NE(p.command, nullptr);
  EXPECT_STREQ(p.command->name, "run");
  EXPECT_EQ(p.args.positional, std::vector<std::string>{"flow.yaml"});
  EXPECT_EQ(p.args.All("input"), (std::vector<std::string>{"a=1", "b=2", "c=3", "d=4"}));
  EXPECT_TRUE(p.args.Has("yes"));
  EXPECT_EQ(p.args.Get("max-calls"), "9");
  EXPECT_FALSE(p.args.Has("json"));
  auto runs = P({"runs", "-an3"});
  ASSERT_EQ(runs.error, "");
  EXPECT_TRUE(runs.args.Has("all"));
  EXPECT_EQ(runs.args.Get("limit"), "3");
}

TEST(Parse, DoubleDashAndDashValues) {
  auto p = P({"approve", "r1", "--text", "-5 is fine", "--", "--reject", "-y"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.args.Get("text"), "-5 is fine");
  EXPECT_FALSE(p.args.Has("reject"));
  EXPECT_EQ(p.args.positional, (std::vector<std::string>{"r1", "--reject", "-y"}));
  auto empty = P({"approve", "r1", "n", "--text=", "--reject"});
  ASSERT_EQ(empty.error, "");
  EXPECT_TRUE(empty.args.Has("text"));
  EXPECT_EQ(empty.args.Get("text", "unset"), "");
  EXPECT_EQ(empty.args.All("text"), std::vector<std::string>{""});
  EXPECT_TRUE(empty.args.Has("reject"));
  auto dash = P({"validate", "-", "-5"});
  ASSERT_EQ(dash.error, "");
  EXPECT_EQ(dash.args.positional, (std::vector<std::string>{"-", "-5"}));
}

TEST(Parse, AnotherCommandsNameIsAnArgument) {
  auto p = P({"help", "run"});
  ASSERT_EQ(p.error, "");
  EXPECT_STREQ(p.command->name, "help");
  EXPECT_EQ(p.args.positional, std::vector<std::string>{"run"});
  auto l = P({"lineage", "runs", "--run", "r1"});
  ASSERT_EQ(l.error, "");
  EXPECT_EQ(l.args.positional, std::vector<std::string>{"runs"});
}

TEST(Parse, ErrorsNameTheOptionAsTyped) {
  EXPECT_EQ(P({"runs", "--limt", "3"}).error, "unknown option --limt (did you mean --limit?)");
  EXPECT_EQ(P({"runs", "--limt=3"}).error, "unknown option --limt (did you mean --limit?)");
  EXPECT_EQ(P({"runs", "-x"}).error, "unknown option -x (the short options here: -n, -a, -h)");
  EXPECT_EQ(P({"runs", "-ax"}).error, "unknown option -x (the short options here: -n, -a, -h)");
  EXPECT_EQ(P({"runs", "-n"}).error, "option -n needs a value");
  EXPECT_EQ(P({"runs", "-an"}).error, "option -n needs a value");
  EXPECT_EQ(P({"runs", "--limit"}).error, "option --limit needs a value");
  EXPECT_EQ(P({"runs", "--json=1"}).error, "option --json takes no value");
  EXPECT_EQ(P({"runs", "-n", "1", "--limit=2"}).error, "option --limit given more than once");
  EXPECT_EQ(P({"runs", "--all", "--all"}).error, "");  // a flag twice is harmless
  auto unknown = P({"rnu", "--json"});
  EXPECT_EQ(unknown.command, nullptr);
  EXPECT_TRUE(unknown.json);
  EXPECT_EQ(unknown.error, "unknown command \"rnu\" (did you mean \"run\"?)");
  EXPECT_EQ(P({"manpag"}).error, "unknown command \"manpag\"") << "hidden commands are not suggested";
  auto before = P({"--json", "runs"});
  EXPECT_TRUE(before.json);
  EXPECT_NE(before.error.find("options go after it"), std::string::npos) << before.error;
}

TEST(Parse, FlagsTakeNoValueEvenAnEmptyOne) {
  auto all = P({"runs", "--all="});
  EXPECT_EQ(all.error, "option --all takes no value");
  EXPECT_TRUE(all.args.positional.empty());
  EXPECT_EQ(P({"runs", "--all=x"}).error, "option --all takes no value");
  EXPECT_EQ(P({"runs", "-a=x"}).error, "option -a takes no value");
  EXPECT_EQ(P({"runs", "-a="}).error, "option -a takes no value");
  auto limit = P({"runs", "--limit=", "--all"});
  EXPECT_EQ(limit.error, "");
  EXPECT_EQ(limit.args.All("limit"), std::vector<std::string>{""});
  EXPECT_TRUE(limit.args.Has("all"));
}

TEST(Parse, AValueOptionDoesNotSwallowAnOption) {
  auto reject = P({"approve", "r1", "n", "--text", "--reject"});
  EXPECT_EQ(reject.error, "option --text needs a value (got the option --reject; write --text=--reject to mean it)");
  EXPECT_STREQ(reject.command->name, "approve");
  auto meant = P({"approve", "r1", "n", "--text=--reject"});
  ASSERT_EQ(meant.error, "");
  EXPECT_EQ(meant.args.Get("text"), "--reject");
  EXPECT_FALSE(meant.args.Has("reject"));
  auto store = P({"runs", "--store", "--json"});
  EXPECT_EQ(store.error, "option --store needs a value (got the option --json; write --store=--json to mean it)");
  EXPECT_EQ(P({"runs", "-n", "-a"}).error, "option -n needs a value (got the option -a; write --limit=-a to mean it)");
  EXPECT_EQ(P({"runs", "-an", "--all"}).error,
            "option -n needs a value (got the option --all; write --limit=--all to mean it)");
  // A word that is no option of this command is a value, whatever it looks like.
  auto other = P({"approve", "r1", "n", "--text", "--limit"});
  ASSERT_EQ(other.error, "");
  EXPECT_EQ(other.args.Get("text"), "--limit");
  auto neg = P({"runs", "--limit", "-3"});
  ASSERT_EQ(neg.error, "");
  EXPECT_EQ(neg.args.Get("limit"), "-3");
}

TEST(Parse, JsonOnlyFromTheFlagNotAValue) {
  auto value = P({"approve", "r1", "n", "--text=--json", "--bogus"});
  EXPECT_FALSE(value.json);
  EXPECT_NE(value.error.find("unknown option --bogus"), std::string::npos) << value.error;
  auto store = P({"runs", "--store=--json", "--bogus"});
  EXPECT_FALSE(store.json);
  auto export_ = P({"export", "r1", "--output", "--json.txt", "--bogus"});
  EXPECT_FALSE(export_.json);
  auto flag = P({"runs", "--bogus", "--json"});
  EXPECT_TRUE(flag.json);
  EXPECT_FALSE(P({"show", "--", "--json"}).json);
}

TEST(Parse, HelpAndVersion) {
  EXPECT_TRUE(P({"-h"}).help);
  EXPECT_EQ(P({"-h"}).command, nullptr);
  EXPECT_TRUE(P({"-V"}).version);
  EXPECT_TRUE(P({"--version"}).version);
  auto h = P({"runs", "-h"});
  EXPECT_TRUE(h.help);
  EXPECT_STREQ(h.command->name, "runs");
  EXPECT_TRUE(P({"-h", "runs"}).help);
}

TEST(Table, ShortOptionsAreUniquePerCommand) {
  for (const auto& c : Commands()) {
    std::set<char> shorts;
    std::set<std::string> longs;
    for (const auto& f : c.flags) {
      EXPECT_TRUE(longs.insert(f.name).second) << c.name << " --" << f.name;
      if (f.short_name) EXPECT_TRUE(shorts.insert(f.short_name).second) << c.name << " -" << f.short_name;
      EXPECT_EQ(f.takes_value, f.value_name != nullptr) << c.name << " --" << f.name << ": a value needs a name";
      if (f.choices) EXPECT_TRUE(f.takes_value) << c.name << " --" << f.name;
    }
  }
}

TEST(Table, UntilChoicesAreTheProcessPhases) {
  // One list, the process's: the phases in the order they end, where --until stops.
  EXPECT_EQ(process::UntilPhases(), (std::vector<std::string>{"complexity", "requirements", "domain", "stories",
                                                              "architecture", "api", "tasks", "tests", "development"}));
  EXPECT_EQ(process::DevelopPhases().size(), process::UntilPhases().size() + 2);
  bool found = false;
  for (const auto& c : Commands()) {
    if (std::string(c.name) != "develop") continue;
    for (const auto& f : c.flags) {
      if (std::string(f.name) != "until") continue;
      found = true;
      ASSERT_NE(f.choices, nullptr);
      EXPECT_STREQ(f.choices, "complexity requirements domain stories architecture api tasks tests development");
    }
  }
  EXPECT_TRUE(found);
}

TEST(ManPage, OtelVariablesSayWhichCommandsUseThem) {
  std::string page = ManPage(Commands(), "0.1.0");
  size_t at = page.find("OTEL_EXPORTER_OTLP_ENDPOINT");
  ASSERT_NE(at, std::string::npos);
  std::string text = page.substr(at, page.find(".TP", at) - at);
  for (const char* cmd : {"run", "resume", "replay"}) EXPECT_NE(text.find(cmd), std::string::npos) << cmd << ": " << text;
  EXPECT_NE(text.find("Not used by develop, modify or review"), std::string::npos) << text;
  at = page.find("OTEL_RESOURCE_ATTRIBUTES");
  ASSERT_NE(at, std::string::npos);
  text = page.substr(at, page.find(".TP", at) - at);
  EXPECT_NE(text.find("export \\-\\-format otlp"), std::string::npos) << text;
}

TEST(Help, AlignedToTheLongestFlag) {
  for (const auto& c : Commands()) {
    std::string h = CommandHelp(c, 80);
    EXPECT_NE(h.find("  -h, --help"), std::string::npos) << c.name;
  }
}

TEST(Completion, UnknownShell) {
  EXPECT_FALSE(CompletionScript("tcsh", Commands()).ok());
  EXPECT_TRUE(CompletionScript("bash", Commands()).ok());
}

TEST(ManPage, EscapesRoff) {
  std::string page = ManPage(Commands(), "0.1.0");
  for (size_t at = 0; (at = page.find('\n', at)) != std::string::npos; ++at) {
    // A text line never starts with a stray control character: every . or ' line is a macro.
    char next = at + 1 < page.size() ? page[at + 1] : '\n';
    if (next == '.' || next == '\'') {
      std::string macro = page.substr(at + 2, 2);
      EXPECT_TRUE(macro == "TH" || macro == "SH" || macro == "SS" || macro == "TP" || macro == "PP" ||
                  macro == "B\n" || macro == "B " || macro == "I " || macro == "I\n" || macro == "RI" ||
                  macro == "RB" || macro == "BR" || macro == "br")
          << page.substr(at + 1, 60);
    }
  }
  EXPECT_EQ(page.find(" -n, --limit"), std::string::npos) << "hyphens are \\-";
  EXPECT_NE(page.find("\\fB\\-n\\fR, \\fB\\-\\-limit\\fR \\fIN\\fR"), std::string::npos);
}

}  // namespace
}  // namespace sw::cli
