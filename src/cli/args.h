// Args: a small command-line parser. Each command declares its flags, so an unknown flag is
// an error with a "did you mean" suggestion instead of being silently ignored.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace sw::cli {

struct FlagSpec {
  const char* name;  // without leading dashes
  bool takes_value;
  bool repeatable;
  const char* help;
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

/// Parse parses argv (after the command name) against specs; "--" ends flags.
Result<Args> Parse(const std::vector<std::string>& argv, const std::vector<FlagSpec>& specs);

}  // namespace sw::cli
