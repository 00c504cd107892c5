// The `specwright` command line: a static table of subcommands, each with one line of help.
#pragma once

namespace sw::cli {

/// Exit codes shared by every command.
enum ExitCode { kExitOk = 0, kExitFailed = 1, kExitInvalid = 2, kExitWaiting = 3, kExitCancelled = 130 };

int Main(int argc, char** argv);

}  // namespace sw::cli
