// YAML -> JSON conversion shared by the loader and every YAML-reading adapter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <yaml-cpp/node/node.h>

#include "base/status.h"

namespace sw {

/// YamlToJson converts a yaml-cpp node: plain scalars become null (~, null, empty), booleans,
/// integers or floats where they parse as such, else strings; quoted scalars are always strings.
nlohmann::json YamlToJson(const YAML::Node& node);

/// ParseYamlText parses YAML text into JSON (bounded as LoadYaml); the error names origin:line:col.
Result<nlohmann::json> ParseYamlText(const std::string& text, const std::string& origin);

// Aliases make YAML a compression format: 443 bytes of nested anchors expand to gigabytes
// ("billion laughs"). Every YAML this program reads is checked before anything expands it
// (yaml_limits.cc); yaml-cpp itself bounds nesting depth.
inline constexpr uint64_t kMaxYamlAliasNodes = 100000;  // nodes that aliases bring in, in all
inline constexpr int kMaxYamlAliasDepth = 8;            // aliases within what aliases bring in
inline constexpr uint64_t kMaxYamlAliasBytes = 64 << 20;  // scalar text that aliases repeat

struct YamlLimitError {
  int line = 0, col = 0;  // 1-based, of the alias that went past the limit
  std::string message;
};

/// CheckYamlLimits counts what the aliases of text expand to, without expanding them; nullopt
/// when within the limits (or when the text is not valid YAML: loading it says so).
std::optional<YamlLimitError> CheckYamlLimits(const std::string& text);

/// LoadYaml is YAML::Load after CheckYamlLimits; errors name origin:line:col.
Result<YAML::Node> LoadYaml(const std::string& text, const std::string& origin);

/// LoadYamlFile reads path (at most kMaxYamlFileBytes) and loads it as LoadYaml does.
inline constexpr size_t kMaxYamlFileBytes = 16 << 20;
Result<YAML::Node> LoadYamlFile(const std::string& path);

}  // namespace sw
