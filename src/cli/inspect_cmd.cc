// runs, show, cancel and approve: commands that read or annotate the store.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "notify/notify.h"
#include "cli/worker_cmd.h"
#include "dist/submit.h"
#include "engine/control.h"
#include "observe/observe.h"

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

Result<store::RunRecord> LoadRun(const Context& ctx, Env* env, const std::string& id_or_prefix) {
  // These commands read (or annotate) what the store holds: they never create one.
  SW_RETURN_IF_ERROR(OpenStoreForRun(ctx, env, id_or_prefix));
  SW_ASSIGN_OR_RETURN(std::string id, env->store->ResolveRunId(id_or_prefix));
  SW_ASSIGN_OR_RETURN(auto rec, env->store->GetRun(id));
  if (!rec) return NotFound("no run " + id);
  return *rec;
}

/// kRunStatuses are the statuses `runs --status` filters on ("abandoned": its process died).
const std::vector<std::string> kRunStatuses{"queued", "running", "waiting", "succeeded", "failed", "cancelled", "abandoned"};

/// LimitOf reads --limit (a positive integer; 0 when it is not one), or def when it is absent.
int LimitOf(const Context& ctx, int def) {
  if (!ctx.args.Has("limit")) return def;
  return static_cast<int>(IntArg(ctx.args.Get("limit"), 1, 1000000).value_or(0));
}

}  // namespace

int CmdRuns(Context& ctx) {
  int limit = LimitOf(ctx, 20);
  if (limit < 1) return Usage(ctx, "--limit needs a positive integer, got \"" + ctx.args.Get("limit") + "\"");
  const std::string status = ctx.args.Get("status"), search = ctx.args.Get("search");
  if (!status.empty() && std::find(kRunStatuses.begin(), kRunStatuses.end(), status) == kRunStatuses.end()) {
    std::string hint = DidYouMean(status, kRunStatuses);
    return Usage(ctx, "--status " + Quote(status) + " is not a run status" +
                          (hint.empty() ? "" : " (did you mean " + Quote(hint) + "?)") + "; the statuses are " +
                          Join(kRunStatuses, ", "));
  }
  if (NoStoreHere(ctx, "no runs yet", "start one with `specwright run FILE`", "[]")) return kExitOk;
  Env env;
  SW_RETURN_IF_ERROR_EXIT(ctx, OpenExistingStore(ctx, &env));
  // A filter looks at every run, and the limit applies to what it keeps.
  bool filtered = !status.empty() || !search.empty();
  auto runs = env.store->ListRuns(filtered ? -1 : limit, ctx.args.Has("all"));
  if (!runs.ok()) return Fail(ctx, runs.status());
  size_t stored = runs->size();
  for (auto& r : *runs) engine::ShownAsAbandoned(env.store.get(), &r);
  *runs = observe::FilterRuns(std::move(*runs), status, search);
  if (runs->size() > static_cast<size_t>(limit)) runs->resize(static_cast<size_t>(limit));
  if (ctx.json) {
    std::cout << json::parse(observe::RunsJson(*runs)).dump(2) << "\n";
    return kExitOk;
  }
  if (runs->empty() && stored > 0) {
    std::string what;
    if (!status.empty()) what += "--status " + status;
    if (!search.empty()) what += (what.empty() ? "" : " and ") + Quote(search);
    std::printf("no runs match %s (%zu run%s in %s)\n", what.c_str(), stored, stored == 1 ? "" : "s",
                StorePath(ctx).c_str());
    return kExitOk;
  }
  if (runs->empty()) {
    std::printf("no runs yet in %s (start one with `specwright run FILE`)\n", StorePath(ctx).c_str());
    return kExitOk;
  }
  std::printf("%-24s %-10s %-24s %-19s %9s %9s %9s %10s\n", "RUN", "STATUS", "WORKFLOW / STEP", "STARTED", "DURATION",
              "NODES", "TOKENS", "COST");
  for (const auto& r : *runs) {
    std::string nodes = std::to_string(r.nodes_succeeded) + "/" + std::to_string(r.nodes_total);
    // A develop's or modify's run says which step it was (its workflow is a generic phase).
    std::string what = r.label.empty() ? r.workflow_name : r.label;
    if (what.size() > 24) what = Utf8Prefix(what, 21) + "...";
    std::printf("%-24s %-10s %-24s %-19s %9s %9s %9lld %10s\n", r.id.c_str(), r.status.c_str(),
                what.c_str(), When(r.created_at).c_str(),
                Duration(r.created_at, r.finished_at).c_str(), nodes.c_str(),
                static_cast<long long>(r.tokens_in + r.tokens_out),
                (r.cost_unknown ? (r.cost_usd > 0 ? FormatUsd(r.cost_usd) + "+?" : std::string("unknown"))
                                : FormatUsd(r.cost_usd)).c_str());
  }
  return kExitOk;
}

int CmdSessions(Context& ctx) {
  int limit = LimitOf(ctx, 20);
  if (limit < 1) return Usage(ctx, "--limit needs a positive integer, got \"" + ctx.args.Get("limit") + "\"");
  if (ctx.args.positional.size() > 1) return Usage(ctx, "sessions takes at most one SESSION");
  if (ctx.args.positional.empty() &&
      NoStoreHere(ctx, "no develop or modify sessions yet", "start one with `specwright develop BRIEF.md`", "[]"))
    return kExitOk;
  Env env;
  if (Status s = OpenExistingStore(ctx, &env); !s.ok())
    return Fail(ctx, ctx.args.positional.empty() ? s : s.Annotate("no session " + Quote(ctx.args.positional[0])));
  auto runs = env.store->ListRuns(-1, false);
  if (!runs.ok()) return Fail(ctx, runs.status());
  for (auto& r : *runs) engine::ShownAsAbandoned(env.store.get(), &r);
  if (ctx.args.positional.size() == 1) {  // one session in full
    auto one = observe::SessionJson(env.store.get(), *runs, ctx.args.positional[0]);
    if (!one.ok()) return Fail(ctx, one.status());
    if (ctx.json) {
      std::cout << one->dump(2, ' ', false, json::error_handler_t::replace) << "\n";
      return kExitOk;
    }
    const json& s = *one;
    std::printf("%s  %s  %s\n", s.value("session", "").c_str(), s.value("status", "").c_str(), s.value("project", "").c_str());
    if (s.contains("change"))
      std::printf("change: %s\nroute: %s (entry %s)\n", s["change"].value("request", "").c_str(),
                  s["change"].value("category", "").c_str(), s["change"].value("entry", "").c_str());
    for (const auto& st : s.value("step_list", json::array())) {
      // Gate rounds with a person, as the list counts them (not --yes).
      size_t people = 0;
      for (const auto& g : st.value("gate", json::array())) people += g.value("by", "") != "auto";
      std::printf("  %-22s %-10s %8lld tokens %10s  verify rounds %d, gate rounds %zu\n", st.value("key", "").c_str(),
                  st.value("status", "").c_str(), static_cast<long long>(st.value("tokens", int64_t{0})),
                  FormatUsd(st.value("cost_usd", 0.0)).c_str(), st.value("verify_rounds", 0), people);
    }
    if (s.contains("note")) std::printf("note: %s\n", s["note"].get<std::string>().c_str());
    return kExitOk;
  }
  json list = observe::SessionsJson(env.store.get(), *runs, limit);
  if (ctx.json) {
    std::cout << list.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  if (list.empty()) {
    std::printf("no develop or modify sessions in %s (start one with `specwright develop BRIEF.md`)\n", StorePath(ctx).c_str());
    return kExitOk;
  }
  for (const auto& r : list) {
    std::vector<std::string> steps = r.value("steps", std::vector<std::string>{});
    std::printf("%s  %s  %s\n  started %s, %lld runs, %lld gate rounds, %lld tokens, %s\n  steps: %s\n\n",
                r.value("session", "").c_str(), r.value("status", "").c_str(), r.value("project", "").c_str(),
                When(r.value("started_at", 0.0)).c_str(), static_cast<long long>(r.value("runs", int64_t{0})),
                static_cast<long long>(r.value("gate_rounds", int64_t{0})), static_cast<long long>(r.value("tokens", int64_t{0})),
                (FormatUsd(r.value("cost_usd", 0.0)) + (r.value("cost_known", true) ? "" : " + unknown")).c_str(),
                Join(steps, ", ").c_str());
  }
  return kExitOk;
}

int CmdShow(Context& ctx) {
  if (ctx.args.positional.size() != 1) return Usage(ctx, "show needs exactly one RUN");
  Env env;
  auto run = LoadRun(ctx, &env, ctx.args.positional[0]);
  if (!run.ok()) return Fail(ctx, run.status());
  auto show = observe::Show(env.store.get(), run->id);
  if (!show.ok()) return Fail(ctx, show.status());
  if (run->status == "running" && !store::ProcessAlive(*run) && engine::Recount(env.store.get(), &*run).ok())
    run->status = "abandoned (its process, pid " + std::to_string(run->pid) + ", ended while it ran; `specwright resume " +
                  run->id + "` continues it, or, for a develop's step, `specwright develop` again)";
  const auto& lines = show->lines;
  auto notes = notify::ListNotifications(env.store.get(), run->id);
  if (!notes.ok()) return Fail(ctx, notes.status());
  if (ctx.json) {
    json j = json::parse(observe::ToJson(*show));
    if (j.is_object()) j["notifications"] = notify::ToJson(*notes);
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
  if (!notes->empty()) {
    // Every delivery attempt of the run's webhooks (notify:), oldest first.
    std::printf("\nNotifications\n%-15s %-8s %-10s %6s %8s  %s\n", "EVENT", "ATTEMPT", "OUTCOME", "HTTP", "TIME", "URL / ERROR");
    for (const auto& n : *notes) {
      std::string attempt = std::to_string(n.attempt) + "/" + std::to_string(n.attempts);
      std::string http = n.http_status ? std::to_string(n.http_status) : "-";
      std::string ms = std::to_string(static_cast<long long>(n.duration_ms)) + "ms";
      std::printf("%-15s %-8s %-10s %6s %8s  %s%s\n", n.event.c_str(), attempt.c_str(), n.outcome.c_str(), http.c_str(),
                  ms.c_str(), n.url.c_str(), n.error.empty() ? "" : ("  " + n.error).c_str());
    }
  }
  return kExitOk;
}

int CmdCancel(Context& ctx) {
  if (ctx.args.positional.size() != 1) return Usage(ctx, "cancel needs exactly one RUN");
  Env env;
  auto run = LoadRun(ctx, &env, ctx.args.positional[0]);
  if (!run.ok()) return Fail(ctx, run.status());
  // A detached run is cancelled through the queue: its orchestrator and its calls stop.
  auto said = dist::IsDetached(*run) ? CancelDetachedRun(ctx, env, *run)
                                     : engine::Cancel(env.store.get(), *run, "`specwright cancel`");
  if (!said.ok()) return Fail(ctx, said.status());
  std::printf("%s\n", said->c_str());
  return kExitOk;
}

int CmdApprove(Context& ctx) {
  if (ctx.args.positional.size() != 2) return Usage(ctx, "approve needs RUN and NODE");
  Env env;
  auto run = LoadRun(ctx, &env, ctx.args.positional[0]);
  if (!run.ok()) return Fail(ctx, run.status());
  engine::Decision d;
  d.node = ctx.args.positional[1];
  d.approve = !ctx.args.Has("reject");
  d.text = ctx.args.Get("text");
  auto a = engine::Decide(env.store.get(), run->id, d);
  if (!a.ok()) return Fail(ctx, a.status());
  // A gate of a sub-run belongs to its top-level run: that one is what the workers continue.
  store::RunRecord root = *run;
  for (int depth = 0; !root.parent_id.empty() && depth < 64; ++depth) {
    auto parent = env.store->GetRun(root.parent_id);
    if (!parent.ok() || !*parent) break;
    root = **parent;
  }
  if (dist::IsDetached(root)) {
    // The workers carry a detached run on: the decision re-queues it (worker_cmd.cc).
    auto r = RequeueDetached(ctx, env, root, "approve " + d.node);
    if (!r.ok()) return Fail(ctx, r.status());
    std::printf("%s \"%s\" of run %s; %s\n", a->decision.c_str(), d.node.c_str(), run->id.c_str(), r->c_str());
    return kExitOk;
  }
  if (store::ProcessAlive(*run)) {
    std::printf("%s \"%s\" of run %s; its running process picks the decision up\n", a->decision.c_str(),
                d.node.c_str(), run->id.c_str());
  } else if (std::string step = engine::ProcessStepOf(*run); !step.empty()) {
    std::printf("%s \"%s\" of run %s\nnext: %s\n", a->decision.c_str(), d.node.c_str(), run->id.c_str(), step.c_str());
  } else {
    std::printf("%s \"%s\" of run %s\nnext: specwright resume %s\n", a->decision.c_str(), d.node.c_str(),
                run->id.c_str(), run->id.c_str());
  }
  return kExitOk;
}

}  // namespace sw::cli
