// ResolveInputs: user-given values checked and converted against a workflow's input declarations.
#include <charconv>
#include <cmath>

#include "base/strings.h"
#include "workflow/load_internal.h"

namespace sw::workflow {
namespace internal {

bool MatchesType(const std::string& type, const json& v) {
  if (type == "string") return v.is_string();
  if (type == "number") return v.is_number();
  if (type == "integer")
    return v.is_number_integer() || (v.is_number_float() && std::nearbyint(v.get<double>()) == v.get<double>());
  if (type == "boolean") return v.is_boolean();
  if (type == "list") return v.is_array();
  if (type == "object") return v.is_object();
  return false;
}

}  // namespace internal

namespace {

/// Convert turns a string given for a non-string input into the declared type, when it parses.
json Convert(const std::string& type, const json& v) {
  if (!v.is_string() || type == "string") return v;
  const std::string s = Trim(v.get<std::string>());
  if (type == "integer") {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (!s.empty() && ec == std::errc() && p == s.data() + s.size()) return n;
    return v;
  }
  if (type == "number" || type == "boolean" || type == "list" || type == "object") {
    json parsed = json::parse(s, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return v;
    return parsed;
  }
  return v;
}

}  // namespace

Result<json> ResolveInputs(const Workflow& wf, const std::map<std::string, json>& given) {
  std::vector<std::string> problems;
  std::vector<std::string> names;
  for (const auto& d : wf.inputs) names.push_back(d.name);
  for (const auto& [name, value] : given) {
    bool known = false;
    for (const auto& d : wf.inputs) known = known || d.name == name;
    if (known) continue;
    std::string msg = "unknown input \"" + name + "\"";
    std::string near = DidYouMean(name, names);
    if (!near.empty()) {
      msg += " (did you mean \"" + near + "\"?)";
    } else if (names.empty()) {
      msg += "; workflow \"" + wf.name + "\" declares no inputs";
    } else {
      msg += "; declared inputs: " + Join(names, ", ");
    }
    problems.push_back(msg);
  }
  json out = json::object();
  std::vector<std::string> missing;
  for (const auto& d : wf.inputs) {
    auto it = given.find(d.name);
    if (it == given.end()) {
      if (d.default_value) {
        out[d.name] = *d.default_value;
      } else if (d.required) {
        missing.push_back("\"" + d.name + "\"");
      } else {
        out[d.name] = nullptr;
      }
      continue;
    }
    json v = Convert(d.type, it->second);
    if (!internal::MatchesType(d.type, v)) {
      problems.push_back("input \"" + d.name + "\" must be of type " + d.type + ", got " +
                         it->second.dump(-1, ' ', false, json::error_handler_t::replace));
      continue;
    }
    if (d.type == "integer" && v.is_number_float()) v = static_cast<int64_t>(v.get<double>());
    out[d.name] = std::move(v);
  }
  if (!missing.empty())
    problems.push_back(std::string("missing required input") + (missing.size() > 1 ? "s " : " ") + Join(missing, ", ") +
                       " of workflow \"" + wf.name + "\"");
  if (!problems.empty()) return InvalidInput(Join(problems, "\n"));
  return out;
}

}  // namespace sw::workflow
