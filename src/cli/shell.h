// What the command table (cli.cc) makes besides the parser: the help text, the shell
// completion scripts and the man page, so none of them can disagree with the commands.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "cli/args.h"

namespace sw::cli {

/// TerminalWidth is $COLUMNS when set (a number), else the terminal's width when stdout is
/// one, else 80; never below 40.
int TerminalWidth();

/// GlobalHelp lists the commands; CommandHelp shows one command's usage and options, with every
/// description starting at one column and wrapped to width.
std::string GlobalHelp(const std::vector<CommandSpec>& table, int width);
std::string CommandHelp(const CommandSpec& c, int width);

/// CompletionScript is the completion script for shell ("bash", "zsh" or "fish").
Result<std::string> CompletionScript(const std::string& shell, const std::vector<CommandSpec>& table);

/// ManPage is specwright(1) in roff (man(7) macros).
std::string ManPage(const std::vector<CommandSpec>& table, const std::string& version);

}  // namespace sw::cli
