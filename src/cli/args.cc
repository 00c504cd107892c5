#include "cli/args.h"

#include "base/strings.h"

namespace sw::cli {

Result<Args> Parse(const std::vector<std::string>& argv, const std::vector<FlagSpec>& specs) {
  Args out;
  bool flags_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (flags_done || a.size() < 2 || a[0] != '-' || a == "-") {
      out.positional.push_back(a);
      continue;
    }
    if (a == "--") {
      flags_done = true;
      continue;
    }
    std::string name = a.substr(a[1] == '-' ? 2 : 1);
    std::string value;
    bool has_value = false;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const FlagSpec* spec = nullptr;
    for (const auto& s : specs)
      if (name == s.name) spec = &s;
    if (!spec) {
      std::vector<std::string> names;
      for (const auto& s : specs) names.push_back(s.name);
      std::string hint = DidYouMean(name, names);
      return InvalidInput("unknown option --" + name + (hint.empty() ? "" : " (did you mean --" + hint + "?)"));
    }
    if (spec->takes_value) {
      if (!has_value) {
        if (i + 1 >= argv.size()) return InvalidInput("option --" + name + " needs a value");
        value = argv[++i];
      }
    } else if (has_value) {
      return InvalidInput("option --" + name + " takes no value");
    }
    auto& slot = out.flags[name];
    if (!slot.empty() && !spec->repeatable && spec->takes_value)
      return InvalidInput("option --" + name + " given more than once");
    slot.push_back(value);
  }
  return out;
}

}  // namespace sw::cli
