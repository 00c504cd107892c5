// The shipped library of workflow patterns (patterns/std/*.yaml): critic, debate, best-of-n,
// reflexion, plan-and-execute, map-reduce, judge. A `kind: workflow` node names one by
// `workflow: std/NAME`; the eval suites' model-graded rubric runs std/judge.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace sw::workflow {

/// PatternsDir is the folder that holds std/: $SPECWRIGHT_PATTERNS_DIR, else <exe dir>/patterns,
/// <exe dir>/../share/specwright/patterns, else the source tree's patterns/ (a build that was not
/// installed). "" when none has a std/ folder.
std::string PatternsDir();

/// IsPatternRef says whether a `workflow:` value names a shipped pattern: "std/" then a name of
/// [a-z0-9-] (no extension, no further '/').
bool IsPatternRef(const std::string& ref);

/// ResolvePattern gives the absolute path of a pattern's file (std/debate ->
/// <PatternsDir>/std/debate.yaml), or NotFound naming the patterns there are.
Result<std::string> ResolvePattern(const std::string& ref);

/// ScopedPatternsDir makes PatternsDir() answer `dir` on this thread while it lives: a dist
/// worker loading a bundle resolves std/NAME to the copies the bundle carries, so a detached run
/// uses the patterns of the machine that submitted it. Thread-local; nests.
class ScopedPatternsDir {
 public:
  explicit ScopedPatternsDir(std::string dir);
  ~ScopedPatternsDir();
  ScopedPatternsDir(const ScopedPatternsDir&) = delete;
  ScopedPatternsDir& operator=(const ScopedPatternsDir&) = delete;

 private:
  std::string previous_;
  bool had_previous_;
};

/// PatternNames lists the shipped patterns ("std/critic", ...), sorted.
std::vector<std::string> PatternNames();

}  // namespace sw::workflow
