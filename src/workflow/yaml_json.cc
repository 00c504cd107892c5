#include "workflow/yaml_json.h"

#include <cerrno>
#include <cstdlib>

#include <yaml-cpp/yaml.h>

namespace sw {
namespace {
nlohmann::json PlainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  const char* b = s.c_str();
  char* end = nullptr;
  errno = 0;
  long long i = std::strtoll(b, &end, 10);
  if (errno == 0 && end && *end == '\0' && end != b) return i;
  errno = 0;
  double d = std::strtod(b, &end);
  if (errno == 0 && end && *end == '\0' && end != b &&
      s.find_first_not_of("0123456789+-.eE") == std::string::npos)
    return d;
  return s;
}
}  // namespace

nlohmann::json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!") return node.Scalar();  // quoted: always a string
      return PlainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& el : node) arr.push_back(YamlToJson(el));
      return arr;
    }
    case YAML::NodeType::Map: {
      nlohmann::json obj = nlohmann::json::object();
      for (const auto& kv : node) obj[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return obj;
    }
  }
  return nullptr;
}

Result<nlohmann::json> ParseYamlText(const std::string& text, const std::string& origin) {
  SW_ASSIGN_OR_RETURN(YAML::Node root, LoadYaml(text, origin));
  try {
    return YamlToJson(root);
  } catch (const YAML::Exception& e) {
    return InvalidInput(origin + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                        ": invalid YAML: " + e.msg);
  }
}

}  // namespace sw
