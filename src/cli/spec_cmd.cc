// `specwright spec check|trace|impact|matrix`: the traceability graph of a project.
#include <cstdio>
#include <iostream>

#include "base/strings.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "spec/spec.h"

namespace sw::cli {

int CmdSpec(Context& ctx) {
  const auto& pos = ctx.args.positional;
  static const std::vector<std::string> kSubs{"check", "trace", "impact", "matrix"};
  if (pos.empty()) return Usage(ctx, "spec needs one of: " + Join(kSubs, ", "));
  const std::string& sub = pos[0];
  if (std::find(kSubs.begin(), kSubs.end(), sub) == kSubs.end()) {
    std::string hint = DidYouMean(sub, kSubs);
    return Usage(ctx, "unknown spec command \"" + sub + "\"" + (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
  }
  auto config = spec::LoadConfig(ctx.args.Has("dir") ? ctx.args.Get("dir") : ".");
  if (!config.ok()) return Fail(ctx, config.status());
  auto grammar = spec::Grammar::Make(*config);
  if (!grammar.ok()) return Fail(ctx, grammar.status());
  if (sub == "trace" && pos.size() != 2) return Usage(ctx, "spec trace needs exactly one ID");
  if (sub == "impact" && pos.size() < 2 && !ctx.args.Has("since")) return Usage(ctx, "spec impact needs IDs or --since REV");
  if ((sub == "check" || sub == "matrix") && pos.size() != 1) return Usage(ctx, "spec " + sub + " takes no arguments");
  auto corpus = spec::Load(*config, *grammar);
  if (!corpus.ok()) return Fail(ctx, corpus.status());
  spec::Graph graph(*corpus, *config);
  // A bare ID one feature defines is that feature's item; one several define must say which.
  std::vector<std::string> args;
  for (size_t i = 1; i < pos.size(); ++i) {
    auto id = graph.ResolveId(*grammar, pos[i]);
    if (!id.ok()) return Usage(ctx, id.status().message());
    args.push_back(*id);
  }

  if (sub == "check") {
    auto findings = graph.Check();
    int errors = 0;
    for (const auto& f : findings) errors += f.severity == spec::Severity::kError;
    if (ctx.json) std::cout << spec::ToJson(findings) << "\n";
    else std::fputs(spec::CheckText(*config, *corpus, findings).c_str(), stdout);
    return errors > 0 ? kExitFailed : kExitOk;
  }
  if (sub == "trace") {
    auto r = spec::Trace(graph, args[0]);
    if (!r.ok()) return Fail(ctx, r.status());
    std::cout << (ctx.json ? spec::ToJson(graph, *r) + "\n" : spec::ToText(graph, *r));
    return kExitOk;
  }
  if (sub == "impact") {
    auto r = spec::ImpactOfChange(graph, *grammar, args, ctx.args.Has("since") ? ctx.args.Get("since") : "");
    if (!r.ok()) return Fail(ctx, r.status());
    std::cout << (ctx.json ? spec::ToJson(*r) + "\n" : spec::ToText(*r));
    return kExitOk;
  }
  spec::Matrix m = spec::MatrixOf(graph);
  std::string format = ctx.args.Has("format") ? ctx.args.Get("format") : (ctx.json ? "json" : "md");
  if (format == "md" || format == "markdown") std::cout << spec::ToMarkdown(m);
  else if (format == "csv") std::cout << spec::ToCsv(m);
  else if (format == "json") std::cout << spec::ToJson(m) << "\n";
  else return Usage(ctx, "--format must be md, csv or json, got \"" + format + "\"");
  return kExitOk;
}

}  // namespace sw::cli
