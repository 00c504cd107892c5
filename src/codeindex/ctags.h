// universal-ctags as a subprocess: definitions of the files the code index re-reads.
// Internal to src/codeindex.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "codeindex/code_index.h"

namespace sw::codeindex {

/// ResolveCtags finds the program (a path, or a bare name looked up in $PATH) and checks it is
/// universal-ctags with JSON output; the error says how to install it.
Result<std::string> ResolveCtags(const std::string& program);

struct CtagsRun {
  std::string program;  // from ResolveCtags
  std::string root;     // the working folder; paths are relative to it
  double timeout = 30;  // seconds per call
};

/// RunCtags returns the definitions in files (paths relative to the root), grouped by the
/// file's position in `files`. A call that fails (a timeout, a crash, more output than the
/// cap, no process at all) is retried on each half of its files, down to one file, whose
/// symbols are then left out and named in *warnings; (*retry)[i] is set for such a file
/// unless ctags timed out on it (a failure to start, under memory pressure say, may pass; a
/// file that takes ctags longer than the timeout is not worth trying at every update).
std::vector<std::vector<Symbol>> RunCtags(const CtagsRun& run, const std::vector<std::string>& files,
                                          std::vector<std::string>* warnings, std::vector<bool>* retry);

}  // namespace sw::codeindex
