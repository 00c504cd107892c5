// builtin://spec.check and builtin://spec.merge: traceability as tools a workflow can call
// (the developer process's verifiers and writers use them; so can any user workflow).
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/strings.h"
#include "spec/spec.h"
#include "tools/sandbox.h"
#include "tools/tool.h"

namespace sw::spec {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

/// StringList accepts a JSON list of strings or one string of comma/space separated names
/// (what a template renders).
std::vector<std::string> StringList(const json& v) {
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const auto& x : v)
      if (x.is_string() && !x.get<std::string>().empty()) out.push_back(x.get<std::string>());
  } else if (v.is_string()) {
    std::string cur;
    for (char c : v.get<std::string>() + ",") {
      if (c == ',' || c == ' ' || c == '\n' || c == '\t') {
        if (!cur.empty()) out.push_back(cur);
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
  }
  return out;
}

Result<Project> OpenWorkspace(const std::string& root) {
  if (root.empty()) return InvalidInput("the spec tools need a workspace (the workflow has none)");
  return Open(root);
}

class SpecCheck : public tools::Tool {
 public:
  std::string uri() const override { return "builtin://spec.check"; }
  std::string description() const override {
    return "Check the workspace's traceability (like `specwright spec check`): duplicate IDs, links to undefined "
           "items, code citing unknown IDs, coverage and cycles. Optionally only some rules, or only findings about "
           "IDs with some prefixes. The result says ok when no error-level finding is left.";
  }
  json schema() const override {
    return json{{"type", "object"},
                {"properties",
                 {{"rules", {{"description", "rule names to report (default: all)"}}},
                  {"prefixes", {{"description", "report only findings about IDs with these prefixes"}}}}},
                {"additionalProperties", false}};
  }
  Result<json> Call(const json& args, const tools::CallContext& ctx) override {
    SW_ASSIGN_OR_RETURN(Project p, OpenWorkspace(ctx.workspace));
    Graph g(p.corpus, p.config);
    std::vector<std::string> rules = StringList(args.value("rules", json()));
    std::vector<std::string> prefixes = StringList(args.value("prefixes", json()));
    std::vector<Finding> kept;
    for (const auto& f : g.Check()) {
      if (!rules.empty() && std::find(rules.begin(), rules.end(), f.rule) == rules.end()) continue;
      if (!prefixes.empty()) {
        std::string pre = p.grammar.PrefixOf(f.id);
        if (std::find(prefixes.begin(), prefixes.end(), pre) == prefixes.end()) continue;
      }
      kept.push_back(f);
    }
    int errors = 0;
    json list = json::array();
    for (const auto& f : kept) {
      if (f.severity == Severity::kError) ++errors;
      list.push_back(f.at.ToString() + ": " + (f.severity == Severity::kError ? "error" : "warning") + " [" + f.rule +
                     "] " + f.message);
    }
    return json{{"ok", errors == 0}, {"errors", errors}, {"findings", list}, {"items", p.corpus.items.size()}};
  }
};

class SpecMerge : public tools::Tool {
 public:
  std::string uri() const override { return "builtin://spec.merge"; }
  std::string description() const override {
    return "Write spec items into a Markdown document of the workspace. mode \"replace\" writes the text as the "
           "whole document; mode \"merge\" replaces only the items the text gives (by ID) and appends new ones, "
           "refusing to rewrite an existing item that is not in `allowed` (then the result has ok: false and the error).";
  }
  json schema() const override {
    return json{{"type", "object"},
                {"properties",
                 {{"path", {{"type", "string"}}},
                  {"text", {{"type", "string"}}},
                  {"mode", {{"type", "string"}, {"enum", {"replace", "merge"}}}},
                  {"allowed", {{"description", "IDs an update may rewrite (a list, or names separated by commas)"}}}}},
                {"required", {"path", "text"}},
                {"additionalProperties", false}};
  }
  Result<json> Call(const json& args, const tools::CallContext& ctx) override {
    std::string rel = args.value("path", "");
    std::string text = args.value("text", "");
    std::string mode = args.value("mode", "replace");
    if (mode.empty()) mode = "replace";
    if (mode != "replace" && mode != "merge")
      return InvalidInput("spec.merge mode must be \"replace\" or \"merge\", got " + Quote(mode));
    SW_ASSIGN_OR_RETURN(std::string path, tools::ResolveInWorkspace(ctx.workspace, rel, true));
    SW_ASSIGN_OR_RETURN(Project p, OpenWorkspace(ctx.workspace));
    std::string before;
    if (fs::exists(path)) {
      SW_ASSIGN_OR_RETURN(before, ReadFile(path));
    }
    std::vector<std::string> replaced, added;
    std::string after;
    if (mode == "replace" || before.empty()) {
      after = text;
      if (!after.empty() && !after.ends_with("\n")) after += "\n";
    } else {
      std::vector<std::string> allow = StringList(args.value("allowed", json()));
      std::set<std::string> known;
      std::string doc_rel = tools::RelativeToWorkspace(ctx.workspace, path);
      for (const auto& it : p.corpus.items)
        if (it.at.file != doc_rel) known.insert(it.id);
      auto merged = MergeItems(p.grammar, before, text, {allow.begin(), allow.end()}, known, &replaced, &added);
      // A refused merge is an answer for the writer to fix, not a failure of the tool.
      if (!merged.ok()) return json{{"ok", false}, {"path", rel}, {"error", merged.status().message()}};
      after = std::move(merged).value();
    }
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    SW_RETURN_IF_ERROR(WriteFileAtomic(path, after));
    return json{{"ok", true}, {"path", rel}, {"mode", mode}, {"bytes", after.size()}, {"replaced", replaced}, {"added", added},
                {"changed", before != after}};
  }
};

}  // namespace

void AddSpecTools(tools::Registry* registry) {
  registry->Add(std::make_shared<SpecCheck>());
  registry->Add(std::make_shared<SpecMerge>());
}

}  // namespace sw::spec
