// The command line's vocabulary: each command declares its flags (FlagSpec) in one table
// (CommandSpec, cli.cc), and ParseCommandLine turns argv into the command and its Args with
// CLI11, so an unknown flag is an error with a "did you mean" suggestion instead of being
// silently ignored. The same table makes the help, the shell completions and the man page.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace sw::cli {

struct Context;

struct FlagSpec {
  const char* name;  // without leading dashes
  bool takes_value;
  bool repeatable;
  const char* help;
  char short_name = 0;             // -x, where the ecosystem has one (0: none)
  const char* value_name = nullptr;  // what the value is: N, FILE, DIR, k=v... (help, completion)
  const char* choices = nullptr;     // the fixed values, space-separated (completion, man page)
};

struct CommandSpec {
  const char* name;
  const char* help;
  int (*fn)(Context&);
  std::vector<FlagSpec> flags;
  const char* usage;
  /// What the positional arguments complete to: "@file", "@dir", "@command", "@shell", or
  /// fixed words (space-separated); "" for nothing.
  const char* complete = "";
  bool hidden = false;  // not listed, completed or suggested (`version`, `manpage`)
};

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> flags;
  bool Has(const std::string& f) const { return flags.count(f) > 0; }
  std::string Get(const std::string& f, const std::string& def = "") const {
    auto it = flags.find(f);
    return it == flags.end() || it->second.empty() ? def : it->second.back();
  }
  const std::vector<std::string>& All(const std::string& f) const {
    static const std::vector<std::string> kEmpty;
    auto it = flags.find(f);
    return it == flags.end() ? kEmpty : it->second;
  }
};

/// ParsedLine is argv understood against the command table.
struct ParsedLine {
  const CommandSpec* command = nullptr;  // null: no command (`specwright`, `-h`, `-V`, or an error)
  Args args;
  bool help = false;     // -h/--help: before a command, the global help; after it, the command's
  bool version = false;  // -V/--version
  bool json = false;     // --json is given as an option (not as a value, not after `--`): errors are printed as JSON
  std::string error;     // a usage error (exit 2); command is set when it belongs to one
};

/// ParseCommandLine parses argv (without the program name): [-h|-V] COMMAND [options] [args]
/// [-- args]. Options take `--name value`, `--name=value`, `-x value`, `-xvalue`; short flags
/// combine (`-ay`); `--` ends the options.
ParsedLine ParseCommandLine(const std::vector<std::string>& argv, const std::vector<CommandSpec>& table);

/// PrintError reports an error that ends the command and returns code. Plain: "specwright CMD:
/// message" (and "usage: specwright USAGE") on stderr. With json: one line of JSON on stdout,
/// {"error": message, "code": code, "command": CMD, "usage": "specwright USAGE"} (command and
/// usage when known), so `--json` output is always a JSON document whatever happens.
int PrintError(bool json, const std::string& command, const std::string& message, int code,
               const std::string& usage = "");

}  // namespace sw::cli
