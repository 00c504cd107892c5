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

/// PickTool returns one element of a list chosen at run time (a selector's answer): the one
/// thing a template cannot do, as it has no computed index. Pure, like echo and json.
/// args.empty, when given, is the error for an empty list (a pattern's guard: "no items").
class PickTool : public Tool {
 public:
  std::string uri() const override { return "builtin://pick"; }
  std::string description() const override {
    return "Returns args.list[args.index]; list may be JSON text, index a number or its text.";
  }
  Result<nlohmann::json> Call(const nlohmann::json& args, const CallContext&) override {
    using nlohmann::json;
    if (!args.is_object() || !args.contains("list") || !args.contains("index"))
      return InvalidInput("builtin://pick needs args.list and args.index");
    json list = args["list"];
    if (list.is_string()) {
      list = json::parse(list.get<std::string>(), nullptr, false);
      if (list.is_discarded()) return InvalidInput("builtin://pick: args.list is not JSON text");
    }
    if (!list.is_array()) return InvalidInput("builtin://pick: args.list is not a list, got " + list.dump().substr(0, 80));
    if (list.empty() && args.contains("empty") && args["empty"].is_string() &&
        !args["empty"].get_ref<const std::string&>().empty())
      return InvalidInput(args["empty"].get<std::string>());
    json index = args["index"];
    if (index.is_string()) {
      const std::string& t = index.get_ref<const std::string&>();
      bool digits = !t.empty() && t.size() <= 9 && t.find_first_not_of("0123456789") == std::string::npos;
      if (!digits) return InvalidInput("builtin://pick: args.index " + index.dump() + " is not a whole number");
      index = std::stoll(t);
    }
    if (!index.is_number_integer() || index.get<int64_t>() < 0)
      return InvalidInput("builtin://pick: args.index " + index.dump() + " is not a whole number");
    auto i = index.get<int64_t>();
    if (i >= static_cast<int64_t>(list.size()))
      return InvalidInput("builtin://pick: index " + std::to_string(i) + " is out of range of a list of " +
                          std::to_string(list.size()));
    return list[static_cast<size_t>(i)];
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
  registry->Add(std::make_shared<PickTool>());
  AddFsTools(registry);
  AddShellTool(registry);
  AddGitTools(registry);
}

}  // namespace sw::tools
