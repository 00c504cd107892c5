// tools::Tool: anything a `tool` node (and later an agent) can call, named by URI.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace sw::tools {

/// ShellLimits is what builtin://shell.run may do: the workflow's `shell:` section.
struct ShellLimits {
  std::vector<std::string> allow;  // program names; empty: shell.run refuses everything
  double timeout = 120;            // seconds per command
  size_t max_output = 64 << 10;    // bytes kept per stream
};

/// CallContext tells a tool where it runs and lets it notice cancellation.
struct CallContext {
  std::string run_id;
  std::string node_id;
  std::string workspace;  // directory the tool may touch ("" = none)
  std::shared_ptr<std::atomic<bool>> cancel;
  ShellLimits shell;
  // Where a tool records the process groups it starts while they run (RunOptions::ledger_dir),
  // so a resume can kill what a dead run left writing into the workspace. "" : not recorded.
  std::string process_ledger;
  // Which call this is (a tool that runs the call elsewhere keys it by them, src/dist): the
  // node's loop round, map item (-1: none) and attempt; for an agent, its turn and the call's
  // index in the turn (-1: a tool node).
  int iteration = 0;
  int item = -1;
  int attempt = 0;
  int turn = 0;
  int call = -1;
};

class Tool {
 public:
  virtual ~Tool() = default;
  virtual std::string uri() const = 0;  // e.g. builtin://echo
  virtual std::string description() const = 0;
  /// schema is the JSON Schema of the arguments, shown to models and checked before a call.
  virtual nlohmann::json schema() const { return {{"type", "object"}}; }
  /// Call runs the tool (on a blocking pool thread); the result becomes the node's output.
  virtual Result<nlohmann::json> Call(const nlohmann::json& args, const CallContext& ctx) = 0;
};

/// SafeCall runs tool->Call and turns an exception a tool let escape (a library that throws
/// on unexpected input) into an error naming the tool: a worker thread must never terminate
/// the process.
Result<nlohmann::json> SafeCall(Tool* tool, const nlohmann::json& args, const CallContext& ctx);

/// Registry maps URIs to tools.
class Registry {
 public:
  void Add(std::shared_ptr<Tool> t) { tools_[t->uri()] = std::move(t); }
  Tool* Get(const std::string& uri) const {
    auto it = tools_.find(uri);
    return it == tools_.end() ? nullptr : it->second.get();
  }
  std::vector<std::string> Uris() const {
    std::vector<std::string> out;
    for (auto& [k, v] : tools_) out.push_back(k);
    return out;
  }

 private:
  std::map<std::string, std::shared_ptr<Tool>> tools_;
};

/// AddBuiltins registers builtin://echo (returns args.text, or the args object),
/// builtin://json (returns args.value parsed as JSON when it is a string), the workspace
/// tools builtin://fs.read|write|edit|list|glob|grep, builtin://shell.run and
/// builtin://git.diff|status|log.
void AddBuiltins(Registry* registry);

/// AddFsTools, AddShellTool and AddGitTools register the workspace tools (AddBuiltins calls them).
void AddFsTools(Registry* registry);
void AddShellTool(Registry* registry);
void AddGitTools(Registry* registry);

}  // namespace sw::tools
