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
  for (size_t i = 1; i < pos.size(); ++i)
    if ((sub == "trace" || sub == "impact") && !grammar->IsId(pos[i]))
      return Usage(ctx, "\"" + pos[i] + "\" is not an ID (such as REQ-01-001" +
                            (grammar->Scoped() ? ", or FEATURE/FR-001)" : ")") + "; the project is read as " + config->format);
  if (sub == "trace" && pos.size() != 2) return Usage(ctx, "spec trace needs exactly one ID");
  if (sub == "impact" && pos.size() < 2 && !ctx.args.Has("since")) return Usage(ctx, "spec impact needs IDs or --since REV");
  if ((sub == "check" || sub == "matrix") && pos.size() != 1) return Usage(ctx, "spec " + sub + " takes no arguments");
  auto corpus = spec::Load(*config, *grammar);
  if (!corpus.ok()) return Fail(ctx, corpus.status());
  spec::Graph graph(*corpus, *config);
  // A bare ID one feature defines is that feature's item; one several define must say which.
  std::vector<std::string> args(pos.begin() + 1, pos.end());
  for (auto& a : args) {
    std::vector<std::string> several;
    std::string full = graph.Resolve(a, &several);
    if (!full.empty()) a = full;
    else if (!several.empty())
      return Usage(ctx, a + " is defined in " + std::to_string(several.size()) + " features: " + Join(several, ", ") +
                            "; name one of them");
  }

  if (sub == "check") {
    auto findings = graph.Check();
    int errors = 0, warnings = 0;
    for (const auto& f : findings) (f.severity == spec::Severity::kError ? errors : warnings)++;
    if (ctx.json) {
      std::cout << spec::ToJson(findings) << "\n";
    } else {
      std::fputs(spec::ToText(findings).c_str(), stdout);
      std::printf("%s\n", spec::Summary(*config, *corpus).c_str());
      std::string suppressed =
          corpus->suppressed ? ", " + std::to_string(corpus->suppressed) + " suppressed by specwright:ignore" : "";
      std::printf("%d error%s, %d warning%s: %zu items in %zu spec files, %zu citations in %lld code files%s\n", errors,
                  errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s", corpus->items.size(),
                  corpus->spec_files.size(), corpus->citations.size(), static_cast<long long>(corpus->code_files),
                  suppressed.c_str());
    }
    return errors > 0 ? kExitFailed : kExitOk;
  }
  if (sub == "trace") {
    auto r = spec::Trace(graph, args[0]);
    if (!r.ok()) return Fail(ctx, r.status());
    std::cout << (ctx.json ? spec::ToJson(graph, *r) + "\n" : spec::ToText(graph, *r));
    return kExitOk;
  }
  if (sub == "impact") {
    std::vector<std::string> ids = args;
    spec::Impact changes;
    if (ctx.args.Has("since")) {
      auto before_docs = spec::ReadSpecDocsAt(*config, ctx.args.Get("since"));
      if (!before_docs.ok()) return Fail(ctx, before_docs.status());
      auto before = spec::ParseSpecs(*grammar, *before_docs);
      if (!before.ok()) return Fail(ctx, before.status());
      spec::SpecChanges(*before, corpus->items, &changes);
      for (const auto* v : {&changes.added, &changes.modified, &changes.removed}) ids.insert(ids.end(), v->begin(), v->end());
    }
    spec::Impact r = spec::ImpactOf(graph, ids);
    std::erase_if(r.unknown, [&](const std::string& id) {  // removed since REV: not defined now, of course
      return std::find(changes.removed.begin(), changes.removed.end(), id) != changes.removed.end();
    });
    r.added = changes.added;
    r.removed = changes.removed;
    r.modified = changes.modified;
    std::cout << (ctx.json ? spec::ToJson(r) + "\n" : spec::ToText(r));
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
