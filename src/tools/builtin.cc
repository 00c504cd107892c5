#include "tools/tool.h"

namespace sw::tools {
namespace {

class EchoTool : public Tool {
 public:
  std::string uri() const override { return "builtin://echo"; }
  std::string description() const override { return "Returns args.text, or all its arguments as JSON."; }
  Result<nlohmann::json> Call(const nlohmann::json& args, const CallContext&) override {
    if (args.is_object() && args.contains("text")) return args["text"];
    return args;
  }
};

class JsonTool : public Tool {
 public:
  std::string uri() const override { return "builtin://json"; }
  std::string description() const override { return "Parses args.value as JSON text and returns it."; }
  Result<nlohmann::json> Call(const nlohmann::json& args, const CallContext&) override {
    if (!args.is_object() || !args.contains("value")) return InvalidInput("builtin://json needs args.value");
    const auto& v = args["value"];
    if (!v.is_string()) return v;
    try {
      return nlohmann::json::parse(v.get<std::string>());
    } catch (const nlohmann::json::parse_error& e) {
      return InvalidInput(std::string("builtin://json: args.value is not JSON: ") + e.what());
    }
  }
};

}  // namespace

Result<nlohmann::json> SafeCall(Tool* tool, const nlohmann::json& args, const CallContext& ctx) {
  try {
    return tool->Call(args, ctx);
  } catch (const std::exception& e) {
    return Failed(tool->uri() + ": " + e.what());
  }
}

void AddBuiltins(Registry* registry) {
  registry->Add(std::make_shared<EchoTool>());
  registry->Add(std::make_shared<JsonTool>());
  AddFsTools(registry);
  AddShellTool(registry);
  AddGitTools(registry);
}

}  // namespace sw::tools
