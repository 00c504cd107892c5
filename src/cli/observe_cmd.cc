// trace, debug, cost, artifacts, lineage, diff, export and gc: the commands that explain a
// run. Each asks observe:: for a JSON report, prints it with --json, renders it otherwise.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/ids.h"
#include "base/strings.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/gc_workspaces.h"
#include "engine/control.h"
#include "observe/observe.h"
#include "observe/otlp_exporter.h"

namespace sw::cli {
namespace {

using json = nlohmann::json;

Result<std::string> ResolveRun(const Context& ctx, Env* env, const std::string& id) {
  // Reports read the store: they never create one.
  SW_RETURN_IF_ERROR(OpenStoreForRun(ctx, env, id));
  return env->store->ResolveRunId(id);
}

int Emit(const json& j) {
  // Blobs (tool output, model text) may hold invalid UTF-8: replace it rather than throw.
  std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  return kExitOk;
}

int Emit(const std::string& encoded) {
  std::fwrite(encoded.data(), 1, encoded.size(), stdout);
  std::fputc('\n', stdout);
  return kExitOk;
}

std::string Usd(const observe::Bucket& b) {
  if (b.unknown > 0 && b.usd == 0) return "unknown";
  return FormatUsd(b.usd) + (b.unknown > 0 ? " + unknown" : "");
}

std::string Tokens(int64_t n) {
  char b[32];
  if (n >= 10'000'000) std::snprintf(b, sizeof(b), "%.1fM", n / 1e6);
  else if (n >= 100'000) std::snprintf(b, sizeof(b), "%.0fk", n / 1e3);
  else std::snprintf(b, sizeof(b), "%lld", static_cast<long long>(n));
  return b;
}

std::string Label(const store::NodeRunRecord& r) {
  std::string l = r.node;
  if (r.iteration > 0) l += "#" + std::to_string(r.iteration + 1);
  if (r.item >= 0) l += "[" + std::to_string(r.item) + "]";
  if (r.attempt > 1) l += " a" + std::to_string(r.attempt);
  return l;
}

/// Bar draws [start, end] on a width-cell axis over [t0, t1].
std::string Bar(double t0, double t1, double s, double e, char fill, int width) {
  std::string bar(static_cast<size_t>(width), ' ');
  if (t1 <= t0 || s <= 0) return bar;
  if (e <= 0) e = t1;
  double span = t1 - t0;
  int a = static_cast<int>(std::floor((s - t0) / span * width));
  int b = static_cast<int>(std::ceil((e - t0) / span * width));
  a = std::clamp(a, 0, width - 1);
  b = std::clamp(b, a + 1, width);
  for (int i = a; i < b; ++i) bar[static_cast<size_t>(i)] = fill;
  return bar;
}

char Fill(const std::string& status, bool cached) {
  if (cached) return ':';
  if (status == "succeeded") return '=';
  if (status == "failed") return 'x';
  if (status == "running") return '>';
  if (status == "waiting") return '?';
  if (status == "cancelled" || status == "interrupted") return '/';
  return '.';
}

}  // namespace

int CmdTrace(Context& ctx) {
  if (ctx.args.positional.size() != 1) return Usage(ctx, "trace needs exactly one RUN");
  Env env;
  auto id = ResolveRun(ctx, &env, ctx.args.positional[0]);
  if (!id.ok()) return Fail(ctx, id.status());
  std::string node = ctx.args.Get("node");
  auto t = observe::Trace(env.store.get(), *id, node);
  if (!t.ok()) return Fail(ctx, t.status());
  if (ctx.json) return Emit(observe::ToJson(*t));
  const observe::TraceReport& j = *t;
  double t0 = j.start, t1 = j.end;
  const int width = 48;
  std::string total = HumanDuration(std::max(0.0, t1 - t0));
  std::string out;
  out.reserve(j.rows.size() * 120 + 1024);
  char line[512];
  std::snprintf(line, sizeof(line), "run %s  %s  %s  %s\n", j.run.id.c_str(), j.run.workflow_name.c_str(),
                j.run.status.c_str(), total.c_str());
  out += line;
  std::string axis = "0s" + std::string(static_cast<size_t>(std::max(1, width - 2 - static_cast<int>(total.size()))), ' ') + total;
  std::snprintf(line, sizeof(line), "%-28s |%s|\n", "", axis.c_str());
  out += line;
  for (const auto& r : j.rows) {
    std::string bar = Bar(t0, t1, r.started_at, r.finished_at, Fill(r.status, r.cached), width);
    std::string label = Label(r);
    if (label.size() > 28) label = label.substr(0, 25) + "...";
    double dur = r.finished_at - r.started_at;
    std::snprintf(line, sizeof(line), "%-28s |%s| %-9s %7s %8s %9s %s\n", label.c_str(), bar.c_str(), r.status.c_str(),
                  r.status == "skipped" ? "-" : HumanDuration(std::max(0.0, dur)).c_str(),
                  Tokens(r.tokens_in + r.tokens_out).c_str(),
                  (r.cost_unknown ? (r.cost_usd > 0 ? FormatUsd(r.cost_usd) + "+?" : std::string("unknown")) : FormatUsd(r.cost_usd)).c_str(),
                  r.cached ? "cached" : "");
    out += line;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (!node.empty()) {
    std::printf("\nmodel calls of %s:\n", node.c_str());
    for (const auto& c : j.calls) {
      std::string cost = c.cost_usd ? FormatUsd(*c.cost_usd) : "unknown";
      // The model that answered, when the provider named another ("gpt-4o" answered by a snapshot).
      std::string model = c.model;
      if (!c.response_model.empty() && c.response_model != c.model) model += " (answered by " + c.response_model + ")";
      std::printf("  #%-5lld attempt %d%s  %s/%s  %-7s %8.0f ms (first token %.0f ms)  in %s out %s  %s%s%s\n",
                  static_cast<long long>(c.id), c.attempt, c.item >= 0 ? (" item " + std::to_string(c.item)).c_str() : "",
                  c.provider.c_str(), model.c_str(), c.status.c_str(), c.latency_ms, c.ttft_ms, Tokens(c.tokens_in).c_str(),
                  Tokens(c.tokens_out).c_str(), cost.c_str(), c.error.empty() ? "" : "  ", c.error.c_str());
    }
    if (j.calls.empty()) std::printf("  (none)\n");
    // How the answers were taken: repair turns, continuations, repaired JSON, fallbacks.
    auto events = env.store->ListNodeEvents(*id, node);
    if (events.ok()) {
      std::string notes;
      for (const auto& e : *events) {
        json d = json::parse(e.data, nullptr, false);
        if (!d.is_object()) continue;
        std::string what;
        if (e.type == "repair_requested") what = "repair turn: " + d.value("error", "");
        else if (e.type == "output_repaired") what = "JSON taken from the answer: " + d.value("how", "");
        else if (e.type == "answer_continued") what = "cut answer continued (" + d.value("reason", "") + ")";
        else if (e.type == "model_fallback")
          what = "fell back from " + d.value("from", "") + " to " + d.value("to", "") + ": " + d.value("error", "");
        else continue;
        if (what.size() > 200) what = Utf8Prefix(what, 197) + "...";
        notes += "  attempt " + std::to_string(e.attempt) + (e.item >= 0 ? " item " + std::to_string(e.item) : "") +
                 "  " + what + "\n";
      }
      if (!notes.empty()) std::printf("\nanswers of %s:\n%s", node.c_str(), notes.c_str());
    }
    if (!j.tool_calls.empty()) {
      std::printf("\ntool calls of %s:\n", node.c_str());
      for (const auto& tc : j.tool_calls) {
        double dur = tc.finished_at > 0 ? (tc.finished_at - tc.started_at) * 1000 : -1;
        std::string args = tc.arguments;
        if (args.size() > 80) args = args.substr(0, 77) + "...";
        std::string preview = tc.preview;
        for (char& ch : preview)
          if (ch == '\n') ch = ' ';
        if (preview.size() > 60) preview = preview.substr(0, 57) + "...";
        std::printf("  turn %-3d %-18s %s  %s  %s -> %s\n", tc.turn, tc.name.c_str(),
                    dur < 0 ? "running" : (std::to_string(static_cast<long long>(dur)) + " ms").c_str(),
                    dur < 0 ? "" : (tc.ok ? "ok" : "error"), args.c_str(), preview.c_str());
      }
    }
  }
  std::printf("\nlegend: = succeeded  x failed  : cached/reused  > running  ? waiting  / cancelled\n");
  return kExitOk;
}

int CmdDebug(Context& ctx) {
  if (ctx.args.positional.size() > 1) return Usage(ctx, "debug takes one RUN (default latest)");
  Env env;
  auto id = ResolveRun(ctx, &env, ctx.args.positional.empty() ? "latest" : ctx.args.positional[0]);
  if (!id.ok()) return Fail(ctx, id.status());
  auto d = observe::Debug(env.store.get(), *id, ctx.args.Get("node"));
  if (!d.ok()) return Fail(ctx, d.status());
  if (ctx.json) return Emit(*d);
  std::string text = observe::DebugText(*d);
  std::fwrite(text.data(), 1, text.size(), stdout);
  if ((*d)["nodes"].empty()) return kExitOk;
  std::printf("\nnext: specwright trace %s --node NODE   (its calls on the time axis)\n      specwright resume %s   (re-runs only what did not finish)\n",
              id->c_str(), id->c_str());
  return kExitOk;
}

namespace {
void PrintBuckets(const char* title, const std::vector<observe::Bucket>& arr, size_t limit) {
  if (arr.empty()) return;
  std::printf("\n%-32s %7s %10s %10s %10s %10s %10s %14s\n", title, "CALLS", "INPUT", "CACHED", "OUTPUT", "REASONING",
              "CACHE-WR", "COST");
  for (size_t i = 0; i < arr.size(); ++i) {
    if (i == limit) {
      std::printf("  ... %zu more (--json for all)\n", arr.size() - limit);
      break;
    }
    const auto& b = arr[i];
    std::string key = b.key.size() > 32 ? b.key.substr(0, 29) + "..." : b.key;
    std::printf("%-32s %7lld %10s %10s %10s %10s %10s %14s\n", key.c_str(), static_cast<long long>(b.calls),
                Tokens(b.input).c_str(), Tokens(b.cached_read).c_str(), Tokens(b.output).c_str(), Tokens(b.reasoning).c_str(),
                Tokens(b.cache_write).c_str(), Usd(b).c_str());
  }
}
}  // namespace

int CmdCost(Context& ctx) {
  Env env;
  if (ctx.args.Has("since")) {
    if (!ctx.args.positional.empty()) return Usage(ctx, "cost takes a RUN or --since, not both");
    auto since = observe::ParseSince(ctx.args.Get("since"), static_cast<double>(std::time(nullptr)));
    if (!since.ok()) return Usage(ctx, since.status().message());
    if (NoStoreHere(ctx, "nothing spent yet", "", observe::ToJson(observe::CostSinceReport{}))) return kExitOk;
    SW_RETURN_IF_ERROR_EXIT(ctx, OpenExistingStore(ctx, &env));
    auto c = observe::CostSince(env.store.get(), *since);
    if (!c.ok()) return Fail(ctx, c.status());
    if (ctx.json) return Emit(observe::ToJson(*c));
    std::printf("since %s: %zu runs, %lld model calls, %s\n", ctx.args.Get("since").c_str(), c->runs.size(),
                static_cast<long long>(c->total.calls), Usd(c->total).c_str());
    PrintBuckets("DAY", c->by_day, 60);
    PrintBuckets("WORKFLOW", c->by_workflow, 20);
    PrintBuckets("MODEL", c->by_model, 20);
    PrintBuckets("PROVIDER", c->by_provider, 20);
    return kExitOk;
  }
  if (ctx.args.positional.size() != 1) return Usage(ctx, "cost needs a RUN, or --since 7d");
  auto id = ResolveRun(ctx, &env, ctx.args.positional[0]);
  if (!id.ok()) return Fail(ctx, id.status());
  auto c = observe::RunCost(env.store.get(), *id);
  if (!c.ok()) return Fail(ctx, c.status());
  if (ctx.json) return Emit(observe::ToJson(*c));
  const auto& t = c->total;
  std::printf("run %s: %lld model calls, %s%s\n", id->c_str(), static_cast<long long>(t.calls), Usd(t).c_str(),
              c->sub_runs ? (" (with " + std::to_string(c->sub_runs) + " sub-runs)").c_str() : "");
  std::printf("tokens: input %s (cached %s, cache writes %s), output %s (reasoning %s)\n", Tokens(t.input).c_str(),
              Tokens(t.cached_read).c_str(), Tokens(t.cache_write).c_str(), Tokens(t.output).c_str(),
              Tokens(t.reasoning).c_str());
  if (t.unknown > 0)
    std::printf("price unknown for %lld calls: their cost is not in the total (add prices with --prices)\n",
                static_cast<long long>(t.unknown));
  if (c->max_usd)
    std::printf("budget: %s of %s used, %s left\n", Usd(t).c_str(), FormatUsd(*c->max_usd).c_str(),
                FormatUsd(std::max(0.0, *c->max_usd - t.usd)).c_str());
  if (c->max_tokens)
    std::printf("budget: %s of %s tokens, %s left\n", Tokens(t.input + t.output).c_str(), Tokens(*c->max_tokens).c_str(),
                Tokens(std::max<int64_t>(0, *c->max_tokens - t.input - t.output)).c_str());
  if (c->max_calls)
    std::printf("calls: %lld of at most %lld\n", static_cast<long long>(t.calls), static_cast<long long>(*c->max_calls));
  if (!c->max_usd && !c->max_tokens) std::printf("budget: none set\n");
  PrintBuckets("NODE", c->by_node, 40);
  PrintBuckets("MODEL", c->by_model, 20);
  PrintBuckets("PROVIDER", c->by_provider, 20);
  return kExitOk;
}

namespace {
/// PrintTree draws the pre-order lines with branches: "`--" when no later sibling follows.
void PrintTree(const std::vector<observe::TreeLine>& lines) {
  // has_next: a later sibling follows (the next line at this depth before any shallower one).
  std::vector<long> open;  // per depth: index of the last line seen at that depth
  std::vector<bool> has_next(lines.size(), false);
  for (size_t i = 0; i < lines.size(); ++i) {
    size_t d = static_cast<size_t>(lines[i].depth);
    if (open.size() <= d) open.resize(d + 1, -1);
    if (open[d] >= 0) has_next[static_cast<size_t>(open[d])] = true;
    open[d] = static_cast<long>(i);
    for (size_t k = d + 1; k < open.size(); ++k) open[k] = -1;
  }
  std::string out;
  std::vector<bool> continues;  // per depth: draw "|" for the ancestors that have a next sibling
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& l = lines[i];
    size_t d = static_cast<size_t>(l.depth);
    continues.resize(d + 1);
    continues[d] = has_next[i];
    std::string prefix;
    for (size_t k = 1; k < d; ++k) prefix += continues[k] ? "|   " : "    ";
    if (d > 0) prefix += has_next[i] ? "|-- " : "`-- ";
    out += prefix + l.name;
    if (l.missing) out += "  (not in the store)";
    else if (!l.cycle.empty()) out += "  CYCLE: " + l.cycle;
    else {
      out += "  <- " + l.produced_by + "  " + l.media_type;
      if (l.seen) out += "  (shown above)";
    }
    out += "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}
}  // namespace

int CmdArtifacts(Context& ctx) {
  if (ctx.args.positional.size() != 1) return Usage(ctx, "artifacts needs exactly one RUN");
  Env env;
  auto id = ResolveRun(ctx, &env, ctx.args.positional[0]);
  if (!id.ok()) return Fail(ctx, id.status());
  auto a = observe::Artifacts(env.store.get(), *id);
  if (!a.ok()) return Fail(ctx, a.status());
  if (ctx.json) return Emit(observe::ToJson(*a));
  std::printf("run %s: %zu artifacts (each is derived from the ones below it)\n\n", id->c_str(), a->artifacts.size());
  PrintTree(a->tree);
  for (const auto& c : a->cycles) std::printf("\nwarning: derived_from has a cycle: %s\n", c.c_str());
  std::printf("\nnext: specwright lineage NAME --run %s\n", id->c_str());
  return kExitOk;
}

int CmdLineage(Context& ctx) {
  if (ctx.args.positional.size() != 1) return Usage(ctx, "lineage needs exactly one ARTIFACT");
  Env env;
  if (Status s = OpenExistingStore(ctx, &env); !s.ok())
    return Fail(ctx, s.Annotate("no artifact " + Quote(ctx.args.positional[0])));
  std::string run;
  if (ctx.args.Has("run")) {
    auto id = env.store->ResolveRunId(ctx.args.Get("run"));
    if (!id.ok()) return Fail(ctx, id.status());
    run = *id;
  }
  auto l = observe::Lineage(env.store.get(), ctx.args.positional[0], run);
  if (!l.ok()) return Fail(ctx, l.status());
  if (ctx.json) return Emit(observe::ToJson(*l));
  std::printf("lineage of %s in run %s\n\n", ctx.args.positional[0].c_str(), l->run_id.c_str());
  PrintTree(l->tree);
  for (const auto& c : l->cycles) std::printf("\nwarning: derived_from has a cycle: %s\n", c.c_str());
  return kExitOk;
}

int CmdDiff(Context& ctx) {
  if (ctx.args.positional.size() != 2) return Usage(ctx, "diff needs two runs: RUN_A RUN_B");
  Env env;
  auto a = ResolveRun(ctx, &env, ctx.args.positional[0]);
  if (!a.ok()) return Fail(ctx, a.status());
  auto b = env.store->ResolveRunId(ctx.args.positional[1]);
  if (!b.ok()) return Fail(ctx, b.status());
  int max_diffs = 50;
  if (ctx.args.Has("diffs")) {
    char* end = nullptr;
    long v = std::strtol(ctx.args.Get("diffs").c_str(), &end, 10);
    if (!end || *end || v < 0) return Usage(ctx, "--diffs needs a number (0 for all), got \"" + ctx.args.Get("diffs") + "\"");
    max_diffs = static_cast<int>(v);
  }
  auto d = observe::Diff(env.store.get(), *a, *b, max_diffs);
  if (!d.ok()) return Fail(ctx, d.status());
  if (ctx.json) return Emit(observe::ToJson(*d));
  for (const auto* r : {&d->a, &d->b})
    std::printf("%s %s  %-10s %s tokens  %s  %s\n", r == &d->a ? "A" : "B", r->id.c_str(), r->status.c_str(),
                Tokens(r->tokens_in + r->tokens_out).c_str(), FormatUsd(r->cost_usd).c_str(),
                HumanDuration(r->finished_at > r->created_at ? r->finished_at - r->created_at : 0).c_str());
  if (d->first_divergence < 0) {
    std::printf("\nthe runs agree on every node (status, model and output)\n");
  } else {
    const auto& f = d->nodes[static_cast<size_t>(d->first_divergence)];
    std::printf("\nfirst divergence: node \"%s\" (%s); %d nodes differ\n", f.node.c_str(), Join(f.differs, ", ").c_str(),
                d->differing);
  }
  std::printf("\n%-24s %-21s %-17s %-17s %-19s %s\n", "NODE", "STATUS A/B", "DURATION A/B", "TOKENS A/B", "COST A/B",
              "MODEL A/B");
  std::string out;
  char line[512];
  auto pair = [](const std::optional<observe::DiffSide>& x, const std::optional<observe::DiffSide>& y, auto get) {
    return (x ? get(*x) : std::string("-")) + "/" + (y ? get(*y) : std::string("-"));
  };
  for (const auto& n : d->nodes) {
    std::string ma = n.a ? n.a->model : "-", mb = n.b ? n.b->model : "-";
    std::snprintf(line, sizeof(line), "%s%-23s %-21s %-17s %-17s %-19s %s\n", n.differs.empty() ? " " : "*",
                  n.node.substr(0, 23).c_str(), pair(n.a, n.b, [](const auto& s) { return s.status; }).c_str(),
                  pair(n.a, n.b, [](const auto& s) { return HumanDuration(s.duration_s); }).c_str(),
                  pair(n.a, n.b, [](const auto& s) { return Tokens(s.tokens); }).c_str(),
                  pair(n.a, n.b, [](const auto& s) { return s.cost_known ? FormatUsd(s.cost_usd) : std::string("unknown"); }).c_str(),
                  (ma == mb ? ma : ma + " / " + mb).c_str());
    out += line;
  }
  for (const auto& n : d->nodes)
    if (!n.diff.empty()) out += "\n" + n.diff;
  if (d->diffs_omitted > 0)
    out += "\n(" + std::to_string(d->diffs_omitted) + " more outputs differ; --diffs 0 shows every diff)\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

int CmdExport(Context& ctx) {
  if (ctx.args.positional.size() != 1) return Usage(ctx, "export needs exactly one RUN");
  std::string format = ctx.args.Get("format", "json");
  if (format != "json" && format != "csv" && format != "otlp" && format != "markdown" && format != "md")
    return Usage(ctx, "--format must be json, csv, otlp or markdown, got \"" + format + "\"");
  Env env;
  if (format == "markdown" || format == "md") {
    // A run, or a develop/modify session (its id is not a run's), as one Markdown document.
    if (Status s = OpenExistingStore(ctx, &env); !s.ok())
      return Fail(ctx, s.Annotate("no run or session " + Quote(ctx.args.positional[0])));
    const std::string& want = ctx.args.positional[0];
    auto runs = env.store->ListRuns(-1, false);
    if (!runs.ok()) return Fail(ctx, runs.status());
    for (auto& r : *runs) engine::ShownAsAbandoned(env.store.get(), &r);
    bool session = std::any_of(runs->begin(), runs->end(), [&](const store::RunRecord& r) { return r.session == want; });
    Result<std::string> md = std::string();
    if (session) {
      md = observe::SessionMarkdown(env.store.get(), *runs, want);
    } else {
      auto id = env.store->ResolveRunId(want);
      if (!id.ok()) return Fail(ctx, id.status().Annotate("not a session, and not a run"));
      md = observe::RunMarkdown(env.store.get(), *id);
    }
    if (!md.ok()) return Fail(ctx, md.status());
    std::string file = ctx.args.Get("output");
    if (file.empty()) return Emit(*md);
    SW_RETURN_IF_ERROR_EXIT(ctx, WriteFileAtomic(file, *md));
    std::fprintf(stderr, "wrote %s\n", file.c_str());
    return kExitOk;
  }
  auto id = ResolveRun(ctx, &env, ctx.args.positional[0]);
  if (!id.ok()) return Fail(ctx, id.status());
  auto set = observe::CollectSpans(env.store.get(), *id);
  if (!set.ok()) return Fail(ctx, set.status());
  if (format == "otlp") {
    // The resource as the OpenTelemetry variables name it (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES).
    observe::OtlpEnvironment oenv = observe::ReadOtlpEnvironment();
    for (const auto& w : oenv.warnings)
      if (w.rfind("OTEL_RESOURCE_ATTRIBUTES", 0) == 0) std::fprintf(stderr, "warning: %s\n", w.c_str());
    set->resource = std::move(oenv.resource);
  }
  std::string file = ctx.args.Get("output");
  // To stdout the export streams (a large run's OTLP is tens of megabytes); to a file it is
  // written whole and atomically.
  observe::Sink sink;
  if (file.empty()) sink = [](std::string_view part) { std::fwrite(part.data(), 1, part.size(), stdout); };
  std::string out;
  if (format == "csv") out = observe::SpansCsv(*set, sink);
  else if (format == "otlp") out = observe::OtlpJson(env.store.get(), *set, ctx.args.Has("include-content"), sink) + "\n";
  else out = observe::SpansJson(*set, sink) + "\n";
  if (file.empty()) {
    std::fwrite(out.data(), 1, out.size(), stdout);
    return kExitOk;
  }
  SW_RETURN_IF_ERROR_EXIT(ctx, WriteFileAtomic(file, out));
  std::fprintf(stderr, "wrote %zu spans to %s\n", set->spans.size(), file.c_str());
  return kExitOk;
}

int CmdGc(Context& ctx) {
  if (!ctx.args.positional.empty()) return Usage(ctx, "gc takes no arguments");
  std::string older = ctx.args.Get("older-than", "30d");
  // To the microsecond, as runs are stamped: "0s" takes a run that finished a moment ago.
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto before = observe::ParseSince(older, now);
  if (!before.ok())
    return Usage(ctx, "--older-than " + Quote(older) + " is not an age (0s, 30m, 12h, 30d, 2w) or a date (2026-11-01)");
  if (ctx.args.Has("delete-branches") && ctx.args.Has("keep-branches"))
    return Usage(ctx, "--delete-branches and --keep-branches contradict each other");
  store::GcOptions o;
  o.before = *before;
  o.dry_run = ctx.args.Has("dry-run");
  o.now = now;
  if (ctx.args.Has("grace")) {
    auto g = ParseDuration(ctx.args.Get("grace"));
    if (!g) return Usage(ctx, "--grace needs a duration such as 1h or 0s");
    o.blob_grace_seconds = *g;
  }
  Env env;
  // No store: the same report as any gc's, with nothing in it.
  if (NoStoreHere(ctx, "nothing to collect", "", GcJson(o, store::GcReport{}, GcGitReport{}).dump(2))) return kExitOk;
  SW_RETURN_IF_ERROR_EXIT(ctx, OpenExistingStore(ctx, &env));
  // The runs gc takes lose their events, the only record of their workspaces: read those
  // first (a dry pass names the runs exactly as the real one will).
  store::GcOptions probe = o;
  probe.dry_run = true;
  auto will = env.store->CollectGarbage(probe);
  if (!will.ok()) return Fail(ctx, will.status());
  auto workspaces = WorkspacesOf(env.store.get(), will->runs_deleted);
  if (!workspaces.ok()) return Fail(ctx, workspaces.status());
  auto rep = o.dry_run ? will : env.store->CollectGarbage(o);
  if (!rep.ok()) return Fail(ctx, rep.status());
  // Workspaces of deleted runs go too (folders only inside the store's own workspaces
  // folder), with the work tree records and, if wanted, the branches of `repo:` ones.
  GcGitOptions go;
  go.root = StoreFilesDir(ctx) + "/workspaces";
  std::vector<GcWorkspace> gone;
  for (auto& w : *workspaces)
    if (std::find(rep->runs_deleted.begin(), rep->runs_deleted.end(), w.run) != rep->runs_deleted.end())
      gone.push_back(std::move(w));
  // A run without a record — the real pass took it though the probe did not name it (it
  // finished in between), or its workspace event is missing — still loses its folder, and a
  // work tree there tells its repository.
  for (const auto& id : rep->runs_deleted) {
    auto it = std::find_if(gone.begin(), gone.end(), [&](const GcWorkspace& w) { return w.run == id; });
    if (it == gone.end()) gone.push_back(WorkspaceInFolder(go.root, id));
    else if (it->kind.empty()) *it = WorkspaceInFolder(go.root, id);
  }
  go.dry_run = o.dry_run;
  go.mode = ctx.args.Has("delete-branches") ? BranchMode::kDelete
            : ctx.args.Has("keep-branches") ? BranchMode::kKeep
                                            : BranchMode::kAsk;
  go.interactive = !ctx.json && ::isatty(STDIN_FILENO) && ::isatty(STDERR_FILENO);
  go.print = !ctx.json;
  GcGitReport git = CleanWorkspaces(gone, go);
  int ws = git.workspaces_deleted;
  int64_t ws_bytes = git.workspace_bytes_freed;
  if (ctx.json) return Emit(GcJson(o, *rep, git));
  const char* verb = o.dry_run ? "would delete" : "deleted";
  std::printf("%s %zu runs older than %s (%lld rows), %lld unreferenced blobs (%lld bytes), %d workspaces (%lld bytes)\n",
              verb, rep->runs_deleted.size(), older.c_str(), static_cast<long long>(rep->rows_deleted),
              static_cast<long long>(rep->blobs_deleted), static_cast<long long>(rep->blob_bytes_freed), ws,
              static_cast<long long>(ws_bytes));
  if (!o.dry_run)
    std::printf("database: %lld -> %lld bytes; freed %lld bytes in all\n", static_cast<long long>(rep->db_bytes_before),
                static_cast<long long>(rep->db_bytes_after),
                static_cast<long long>(rep->blob_file_bytes_freed + ws_bytes + std::max<int64_t>(0, rep->db_bytes_before - rep->db_bytes_after)));
  if (!rep->runs_kept_running.empty())
    std::printf("kept %zu old runs still marked running or queued (%s); `specwright cancel` them to let gc take them\n",
                rep->runs_kept_running.size(), Join(rep->runs_kept_running, ", ").c_str());
  return kExitOk;
}

}  // namespace sw::cli
