// runs, show, cancel and approve: commands that read or annotate the store.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"

namespace sw::cli {
namespace {

using json = nlohmann::json;

std::string When(double unix_seconds) {
  return unix_seconds <= 0 ? "-" : LocalTime(unix_seconds, "%Y-%m-%d %H:%M:%S");
}

std::string Duration(double start, double end) {
  if (start <= 0) return "-";
  if (end <= 0) return "-";
  return HumanDuration(std::max(0.0, end - start));
}

json RunJson(const store::RunRecord& r) {
  return json{{"id", r.id},
              {"parent", r.parent_id},
              {"workflow", r.workflow_name},
              {"file", r.workflow_file},
              {"status", r.status},
              {"created_at", r.created_at},
              {"finished_at", r.finished_at},
              {"error", r.error},
              {"nodes_total", r.nodes_total},
              {"nodes_succeeded", r.nodes_succeeded},
              {"nodes_failed", r.nodes_failed},
              {"nodes_skipped", r.nodes_skipped},
              {"tokens_in", r.tokens_in},
              {"tokens_out", r.tokens_out},
              {"calls", r.calls},
              {"cost_usd", r.cost_usd},
              {"cost_known", !r.cost_unknown}};
}

Result<store::RunRecord> LoadRun(const Context& ctx, Env* env, const std::string& id_or_prefix) {
  SW_RETURN_IF_ERROR(OpenStore(ctx, env));
  SW_ASSIGN_OR_RETURN(std::string id, env->store->ResolveRunId(id_or_prefix));
  SW_ASSIGN_OR_RETURN(auto rec, env->store->GetRun(id));
  if (!rec) return NotFound("no run " + id);
  return *rec;
}

}  // namespace

int CmdRuns(Context& ctx) {
  Env env;
  SW_RETURN_IF_ERROR_EXIT(ctx, OpenStore(ctx, &env));
  int limit = 20;
  if (ctx.args.Has("limit")) {
    char* end = nullptr;
    long v = std::strtol(ctx.args.Get("limit").c_str(), &end, 10);
    if (!end || *end || v < 1) return Usage(ctx, "--limit needs a positive integer, got \"" + ctx.args.Get("limit") + "\"");
    limit = static_cast<int>(v);
  }
  auto runs = env.store->ListRuns(limit, ctx.args.Has("all"));
  if (!runs.ok()) return Fail(ctx, runs.status());
  if (ctx.json) {
    json arr = json::array();
    for (const auto& r : *runs) arr.push_back(RunJson(r));
    std::cout << arr.dump(2) << "\n";
    return kExitOk;
  }
  if (runs->empty()) {
    std::printf("no runs yet in %s (start one with `specwright run FILE`)\n", ctx.store_dir.c_str());
    return kExitOk;
  }
  std::printf("%-24s %-10s %-16s %-19s %9s %9s %9s %10s\n", "RUN", "STATUS", "WORKFLOW", "STARTED", "DURATION",
              "NODES", "TOKENS", "COST");
  for (const auto& r : *runs) {
    std::string nodes = std::to_string(r.nodes_succeeded) + "/" + std::to_string(r.nodes_total);
    std::printf("%-24s %-10s %-16s %-19s %9s %9s %9lld %10s\n", r.id.c_str(), r.status.c_str(),
                r.workflow_name.substr(0, 16).c_str(), When(r.created_at).c_str(),
                Duration(r.created_at, r.finished_at).c_str(), nodes.c_str(),
                static_cast<long long>(r.tokens_in + r.tokens_out),
                (r.cost_unknown ? (r.cost_usd > 0 ? FormatUsd(r.cost_usd) + "+?" : std::string("unknown"))
                                : FormatUsd(r.cost_usd)).c_str());
  }
  return kExitOk;
}

int CmdShow(Context& ctx) {
  if (ctx.args.positional.size() != 1) return Usage(ctx, "show needs exactly one RUN");
  Env env;
  auto run = LoadRun(ctx, &env, ctx.args.positional[0]);
  if (!run.ok()) return Fail(ctx, run.status());
  auto rows = env.store->ListNodeRuns(run->id);
  if (!rows.ok()) return Fail(ctx, rows.status());
  // One line per node x iteration; attempts and map items fold into it.
  struct Line {
    std::string node;
    int iteration = 0;
    std::string status;
    int attempts = 0;
    int items = 0;
    double start = 0, end = 0;
    int64_t tokens = 0, calls = 0;
    double cost = 0;
    bool cost_unknown = false;
    bool cached = false;
    std::string error;
    double last_ts = -1;
  };
  std::vector<Line> lines;
  std::map<std::pair<std::string, int>, size_t> at;
  for (const auto& r : *rows) {
    auto key = std::make_pair(r.node, r.iteration);
    auto it = at.find(key);
    if (it == at.end()) {
      it = at.emplace(key, lines.size()).first;
      Line fresh;
      fresh.node = r.node;
      fresh.iteration = r.iteration;
      lines.push_back(fresh);
    }
    Line& l = lines[it->second];
    if (r.item >= 0) l.items = std::max(l.items, r.item + 1);
    l.attempts = std::max(l.attempts, r.attempt);
    if (r.started_at > 0 && (l.start == 0 || r.started_at < l.start)) l.start = r.started_at;
    l.end = std::max(l.end, r.finished_at);
    l.tokens += r.tokens_in + r.tokens_out;
    l.calls += r.calls;
    l.cost += r.cost_usd;
    l.cost_unknown |= r.cost_unknown;
    l.cached |= r.cached;
    double ts = std::max(r.started_at, r.finished_at);
    if (r.item < 0 && ts >= l.last_ts) {
      l.status = r.status;
      l.error = r.error;
      l.last_ts = ts;
    } else if (r.item >= 0) {
      if (l.status.empty() || r.status == "failed" || r.status == "running") l.status = r.status;
      if (!r.error.empty() && r.status == "failed") l.error = "item " + std::to_string(r.item) + ": " + r.error;
    }
  }
  if (ctx.json) {
    json j = RunJson(*run);
    j["nodes"] = json::array();
    for (const auto& l : lines)
      j["nodes"].push_back(json{{"node", l.node},   {"iteration", l.iteration}, {"status", l.status},
                                {"attempts", l.attempts}, {"items", l.items},   {"started_at", l.start},
                                {"finished_at", l.end}, {"tokens", l.tokens},   {"calls", l.calls},
                                {"cost_usd", l.cost},   {"cost_known", !l.cost_unknown},
                                {"cached", l.cached},   {"error", l.error}});
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("run       %s (%s)\nworkflow  %s  %s\nstatus    %s\nstarted   %s   duration %s\n", run->id.c_str(),
              run->parent_id.empty() ? "top-level" : ("sub-run of " + run->parent_id).c_str(),
              run->workflow_name.c_str(), run->workflow_file.c_str(), run->status.c_str(), When(run->created_at).c_str(),
              Duration(run->created_at, run->finished_at).c_str());
  std::printf("spend     %lld model calls, %lld tokens in, %lld out, %s\n", static_cast<long long>(run->calls),
              static_cast<long long>(run->tokens_in), static_cast<long long>(run->tokens_out),
              (FormatUsd(run->cost_usd) + (run->cost_unknown ? " + unknown (a model without a price)" : "")).c_str());
  if (!run->error.empty()) std::printf("error     %s\n", run->error.c_str());
  std::printf("\n%-22s %-10s %8s %9s %8s %6s %10s  %s\n", "NODE", "STATUS", "ATTEMPTS", "DURATION", "TOKENS", "CALLS",
              "COST", "ERROR / NOTE");
  for (const auto& l : lines) {
    std::string label = l.node + (l.iteration > 0 ? "#" + std::to_string(l.iteration + 1) : "");
    if (l.items > 0) label += " [" + std::to_string(l.items) + "]";
    std::string note = l.error;
    if (l.cached && note.empty()) note = "cache hit";
    if (note.size() > 100) note = note.substr(0, 97) + "...";
    std::printf("%-22s %-10s %8d %9s %8lld %6lld %10s  %s\n", label.c_str(), l.status.c_str(), l.attempts,
                Duration(l.start, l.end).c_str(), static_cast<long long>(l.tokens), static_cast<long long>(l.calls),
                (l.cost_unknown ? (l.cost > 0 ? FormatUsd(l.cost) + "+?" : std::string("unknown")) : FormatUsd(l.cost)).c_str(),
                note.c_str());
  }
  PrintAgentSteps(env.store.get(), run->id);
  return kExitOk;
}

int CmdCancel(Context& ctx) {
  if (ctx.args.positional.size() != 1) return Usage(ctx, "cancel needs exactly one RUN");
  Env env;
  auto run = LoadRun(ctx, &env, ctx.args.positional[0]);
  if (!run.ok()) return Fail(ctx, run.status());
  if (run->status != "running" && run->status != "waiting") {
    std::printf("run %s is %s; nothing to cancel\n", run->id.c_str(), run->status.c_str());
    return kExitOk;
  }
  bool alive = run->status == "running" && run->pid > 0 && ::kill(static_cast<pid_t>(run->pid), 0) == 0;
  if (alive) {
    SW_RETURN_IF_ERROR_EXIT(ctx, env.store->RequestCancel(run->id));
    std::printf("asked run %s (process %lld) to cancel; it stops within a second\n", run->id.c_str(),
                static_cast<long long>(run->pid));
    return kExitOk;
  }
  // Nobody is running it (waiting, or its process died): mark it cancelled here.
  store::Batch b;
  store::RunRecord r = *run;
  r.status = "cancelled";
  r.error = "cancelled by `specwright cancel`";
  r.cancel_requested = true;
  b.run = r;
  SW_RETURN_IF_ERROR_EXIT(ctx, env.store->Commit(b));
  std::printf("run %s cancelled\n", run->id.c_str());
  return kExitOk;
}

int CmdApprove(Context& ctx) {
  if (ctx.args.positional.size() != 2) return Usage(ctx, "approve needs RUN and NODE");
  Env env;
  auto run = LoadRun(ctx, &env, ctx.args.positional[0]);
  if (!run.ok()) return Fail(ctx, run.status());
  const std::string& node = ctx.args.positional[1];
  auto approvals = env.store->ListApprovals(run->id);
  if (!approvals.ok()) return Fail(ctx, approvals.status());
  const store::ApprovalRecord* pending = nullptr;
  std::vector<std::string> waiting;
  for (const auto& a : *approvals) {
    if (a.decision != "pending") continue;
    waiting.push_back(a.node);
    if (a.node == node) pending = &a;
  }
  if (!pending) {
    std::string hint = DidYouMean(node, waiting);
    return Fail(ctx, InvalidInput("node \"" + node + "\" of run " + run->id + " is not waiting for a decision" +
                                  (waiting.empty() ? "" : " (waiting: " + Join(waiting, ", ") + ")") +
                                  (hint.empty() ? "" : "; did you mean \"" + hint + "\"?")));
  }
  store::ApprovalRecord a = *pending;
  a.decision = ctx.args.Has("reject") ? "rejected" : "approved";
  a.text = ctx.args.Get("text");
  a.by = "cli";
  a.ts = static_cast<double>(std::time(nullptr));
  store::Batch b;
  b.approvals.push_back(a);
  SW_RETURN_IF_ERROR_EXIT(ctx, env.store->Commit(b));
  std::printf("%s \"%s\" of run %s\nnext: specwright resume %s\n", a.decision.c_str(), node.c_str(), run->id.c_str(),
              run->id.c_str());
  return kExitOk;
}

}  // namespace sw::cli
