// The `specwright` command line: a static table of subcommands (name, help, flags, usage),
// from which the parser, the help, the shell completions and the man page are all made.
#pragma once

#include <vector>

#include "cli/args.h"

namespace sw::cli {

/// Exit codes shared by every command.
enum ExitCode { kExitOk = 0, kExitFailed = 1, kExitInvalid = 2, kExitWaiting = 3, kExitCancelled = 130 };

extern const char* const kVersion;

/// Commands is the command table (hidden entries included).
const std::vector<CommandSpec>& Commands();

int Main(int argc, char** argv);

}  // namespace sw::cli
