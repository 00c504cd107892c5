// YAML -> JSON conversion shared by the loader and every YAML-reading adapter.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace YAML {
class Node;
}

namespace sw {

/// YamlToJson converts a yaml-cpp node: plain scalars become null (~, null, empty), booleans,
/// integers or floats where they parse as such, else strings; quoted scalars are always strings.
nlohmann::json YamlToJson(const YAML::Node& node);

/// ParseYamlText parses YAML text into JSON; the error names origin:line:col.
Result<nlohmann::json> ParseYamlText(const std::string& text, const std::string& origin);

}  // namespace sw
