// `specwright patterns [NAME]`: the shipped library of sub-workflows (patterns/std). Without a
// name, one line per pattern; with one, its documented interface: the comment block that opens
// its file (use, what a parent reads, calls), its inputs and its roles (the model nodes
// `models:` may name).
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/strings.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "workflow/patterns.h"

namespace sw::cli {
namespace {

using json = nlohmann::json;

/// Header is the comment block at the top of a pattern file, without the "# " marks.
std::string Header(const std::string& text) {
  std::string out;
  for (const auto& line : Split(text, '\n')) {
    if (line.empty() || line[0] != '#') break;
    std::string body = line.substr(1);
    if (!body.empty() && body[0] == ' ') body.erase(0, 1);
    out += body + "\n";
  }
  return out;
}

json Describe(const std::string& ref, const std::string& file, const workflow::Workflow& wf) {
  json inputs = json::array();
  for (const auto& in : wf.inputs) {
    json i{{"name", in.name}, {"type", in.type}, {"required", in.required}, {"description", in.description}};
    if (in.default_value) i["default"] = *in.default_value;
    inputs.push_back(std::move(i));
  }
  json roles = json::array();
  for (const auto& n : wf.nodes)
    if (n.kind == workflow::NodeKind::kLlm || n.kind == workflow::NodeKind::kAgent)
      roles.push_back(json{{"node", n.id}, {"model", n.model.model}, {"description", n.description}});
  return json{{"name", ref}, {"file", file}, {"description", wf.description}, {"inputs", inputs}, {"roles", roles}};
}

struct Loaded {
  std::string ref, file, text;
  std::shared_ptr<const workflow::Workflow> wf;
};

Result<Loaded> LoadPattern(const std::string& name) {
  std::string ref = name.rfind("std/", 0) == 0 ? name : "std/" + name;
  SW_ASSIGN_OR_RETURN(std::string file, workflow::ResolvePattern(ref));
  SW_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  SW_ASSIGN_OR_RETURN(auto wf, workflow::LoadOrError(file));
  return Loaded{ref, file, std::move(text), std::move(wf)};
}

}  // namespace

int CmdPatterns(Context& ctx) {
  if (ctx.args.positional.size() > 1) return Usage(ctx, "patterns takes at most one NAME");
  if (ctx.args.positional.size() == 1) {
    auto p = LoadPattern(ctx.args.positional[0]);
    if (!p.ok()) return Fail(ctx, p.status());
    json d = Describe(p->ref, p->file, *p->wf);
    if (ctx.json) {
      d["documentation"] = Header(p->text);
      std::cout << d.dump(2) << "\n";
      return kExitOk;
    }
    std::printf("%s\nfile: %s\n\ninputs:\n", Header(p->text).c_str(), p->file.c_str());
    for (const auto& in : d["inputs"]) {
      std::string def = in.contains("default") ? "default " + in["default"].dump() : std::string("required");
      std::printf("  %-12s %-8s %s\n  %12s %s\n", in["name"].get<std::string>().c_str(),
                  in["type"].get<std::string>().c_str(), def.c_str(), "", in["description"].get<std::string>().c_str());
    }
    std::printf("roles (models: keys):\n");
    for (const auto& r : d["roles"])
      std::printf("  %-12s %s (default %s)\n", r["node"].get<std::string>().c_str(),
                  r["description"].get<std::string>().c_str(), r["model"].get<std::string>().c_str());
    return kExitOk;
  }
  std::vector<std::string> names = workflow::PatternNames();
  if (names.empty())
    return Fail(ctx, NotFound("cannot find the shipped patterns/ folder (looked beside the binary, in "
                              "share/specwright/patterns and the source tree); set SPECWRIGHT_PATTERNS_DIR"));
  json out = json::array();
  for (const auto& ref : names) {
    auto p = LoadPattern(ref);
    if (!p.ok()) return Fail(ctx, p.status());
    out.push_back(Describe(p->ref, p->file, *p->wf));
  }
  if (ctx.json) {
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  for (const auto& d : out)
    std::printf("%-22s %s\n", d["name"].get<std::string>().c_str(), d["description"].get<std::string>().c_str());
  std::printf("\nuse one as a node: {kind: workflow, workflow: std/NAME, with: {...}}; "
              "details: specwright patterns NAME (docs/patterns.md)\n");
  return kExitOk;
}

}  // namespace sw::cli
