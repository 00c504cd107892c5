// builtin://git.diff, git.status, git.log — read-only views of the workspace repository.
#include "tools/git_repo.h"
#include "tools/tool.h"

namespace sw::tools {
namespace {

using json = nlohmann::json;

Result<std::unique_ptr<GitRepo>> OpenWorkspace(const CallContext& ctx) {
  if (ctx.workspace.empty()) return InvalidInput("this run has no workspace (add `workspace:` to the workflow)");
  return GitRepo::Open(ctx.workspace);
}

class GitDiff : public Tool {
 public:
  std::string uri() const override { return "builtin://git.diff"; }
  std::string description() const override {
    return "Show the uncommitted changes of the workspace as a unified diff (against the last checkpoint).";
  }
  json schema() const override { return {{"type", "object"}, {"properties", json::object()}}; }
  Result<json> Call(const json&, const CallContext& ctx) override {
    SW_ASSIGN_OR_RETURN(auto repo, OpenWorkspace(ctx));
    SW_ASSIGN_OR_RETURN(std::string head, repo->Head());
    SW_ASSIGN_OR_RETURN(std::string diff, repo->Diff(head, ""));
    return diff.empty() ? json("(no changes)") : json(diff);
  }
};

class GitStatus : public Tool {
 public:
  std::string uri() const override { return "builtin://git.status"; }
  std::string description() const override { return "List the files of the workspace changed since the last checkpoint."; }
  json schema() const override { return {{"type", "object"}, {"properties", json::object()}}; }
  Result<json> Call(const json&, const CallContext& ctx) override {
    SW_ASSIGN_OR_RETURN(auto repo, OpenWorkspace(ctx));
    return repo->Status();
  }
};

class GitLog : public Tool {
 public:
  std::string uri() const override { return "builtin://git.log"; }
  std::string description() const override { return "List the newest commits of the workspace (checkpoints of earlier nodes)."; }
  json schema() const override {
    return {{"type", "object"}, {"properties", {{"max", {{"type", "integer"}, {"minimum", 1}, {"maximum", 200}}}}}};
  }
  Result<json> Call(const json& args, const CallContext& ctx) override {
    SW_ASSIGN_OR_RETURN(auto repo, OpenWorkspace(ctx));
    SW_ASSIGN_OR_RETURN(auto log, repo->Log(static_cast<int>(args.value("max", int64_t{20}))));
    json out = json::array();
    for (const auto& c : log) out.push_back({{"commit", c.id.substr(0, 12)}, {"summary", c.summary}, {"time", c.time}});
    return out;
  }
};

}  // namespace

void AddGitTools(Registry* registry) {
  registry->Add(std::make_shared<GitDiff>());
  registry->Add(std::make_shared<GitStatus>());
  registry->Add(std::make_shared<GitLog>());
}

}  // namespace sw::tools
