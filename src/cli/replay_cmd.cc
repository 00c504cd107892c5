// replay: a new run of a stored run's workflow that takes the stored results of every node
// not downstream of what changed, and runs the rest live; --offline answers every model call
// from the recordings and checks that the outputs come back byte for byte.
#include <signal.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/ids.h"
#include "base/strings.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/eval_cmd.h"
#include "cli/recordings.h"
#include "engine/replay.h"
#include "llm/replay.h"
#include "observe/observe.h"

namespace sw::cli {
namespace {

using json = nlohmann::json;

/// RecordedHuman answers gates the way the stored run's approvals did; nullopt (wait) when
/// the stored run has no decision for the gate.
engine::HumanFn RecordedHuman(std::vector<store::ApprovalRecord> approvals) {
  return [approvals = std::move(approvals)](const engine::HumanRequest& req) -> std::optional<engine::HumanAnswer> {
    for (auto it = approvals.rbegin(); it != approvals.rend(); ++it) {
      if (it->node != req.node || it->iteration != req.iteration || it->item != req.item || it->decision == "pending")
        continue;
      engine::HumanAnswer a;
      a.approved = it->decision != "rejected";
      a.text = it->text;
      a.by = "replay";
      return a;
    }
    return std::nullopt;
  };
}

}  // namespace

int CmdReplay(Context& ctx) {
  if (ctx.args.positional.size() != 1) return Usage(ctx, "replay needs exactly one RUN");
  Env env;
  // Replay records a new run, but only of one the store holds: it never makes a store.
  SW_RETURN_IF_ERROR_EXIT(ctx, OpenStoreForRun(ctx, &env, ctx.args.positional[0]));
  auto id = env.store->ResolveRunId(ctx.args.positional[0]);
  if (!id.ok()) return Fail(ctx, id.status());
  auto rec = env.store->GetRun(*id);
  if (!rec.ok()) return Fail(ctx, rec.status());
  if (!*rec) return Fail(ctx, NotFound("no run " + *id));
  const store::RunRecord source = **rec;
  if (!source.parent_id.empty())
    return Fail(ctx, InvalidInput("run " + *id + " is a sub-run of " + source.parent_id + "; replay the parent"));
  if (store::ProcessAlive(source))
    return Fail(ctx, InvalidInput("run " + *id + " is still running in process " + std::to_string(source.pid) +
                                  "; replay it once it has stopped"));
  bool offline = ctx.args.Has("offline");
  // An eval replays as a suite: each case from its own recordings (eval_cmd.cc).
  if (eval::IsEvalRun(source)) return ReplayEval(ctx, env, source);

  engine::ReplayChanges changes;
  changes.from = ctx.args.All("from");
  for (const auto& kv : ctx.args.All("model")) {
    std::string k, v;
    if (Status s = SplitKeyValue("model", kv, &k, &v); !s.ok() || v.empty())
      return Usage(ctx, "--model takes NODE=provider/model, got \"" + kv + "\"");
    changes.models[k] = v;
  }
  for (const auto& kv : ctx.args.All("prompt")) {
    std::string k, v;
    if (Status s = SplitKeyValue("prompt", kv, &k, &v); !s.ok() || v.empty())
      return Usage(ctx, "--prompt takes NODE=FILE, got \"" + kv + "\"");
    auto text = ReadFile(v);
    if (!text.ok()) return Fail(ctx, text.status().Annotate("--prompt " + k));
    changes.prompts[k] = v;
    changes.prompt_text[k] = *text;
  }
  json inputs = json::parse(source.inputs_json, nullptr, false);
  if (!inputs.is_object()) return Fail(ctx, Internal("run " + *id + ": stored inputs are not a JSON object"));
  std::map<std::string, json> given;
  for (auto& [k, v] : inputs.items()) given[k] = v;
  std::map<std::string, std::string> overrides;
  for (const auto& kv : ctx.args.All("input")) {
    std::string k, v;
    if (Status s = SplitKeyValue("input", kv, &k, &v); !s.ok()) return Usage(ctx, s.message());
    overrides[k] = v;
    given[k] = v;
  }
  bool changed = !changes.from.empty() || !changes.models.empty() || !changes.prompt_text.empty() || !overrides.empty();
  if (offline && changed)
    return Usage(ctx, "--offline replays the run exactly as recorded; it cannot be combined with --from, --model, "
                      "--prompt or --input");
  if (!offline && !changed)
    return Usage(ctx, "nothing to replay: pass --from NODE, --model NODE=P/M, --prompt NODE=FILE, --input K=V, or "
                      "--offline");

  json opts = json::parse(source.options_json, nullptr, false);
  if (!opts.is_object()) opts = json::object();
  auto loaded = workflow::LoadOrError(source.workflow_file);
  if (!loaded.ok()) return Fail(ctx, loaded.status().Annotate("the run's workflow"));
  // The run as it ran: a `run --model` override applies to the replay too.
  std::shared_ptr<const workflow::Workflow> base = *loaded;
  std::string run_model = opts.value("model", "");
  if (!run_model.empty()) base = WithModel(base, run_model);
  auto resolved = workflow::ResolveInputs(*base, given);
  if (!resolved.ok()) return Fail(ctx, resolved.status());
  for (const auto& [k, v] : overrides)
    if (!inputs.contains(k) || inputs[k] != (*resolved)[k]) changes.inputs.insert(k);
  if (!overrides.empty() && changes.inputs.empty())
    std::fprintf(stderr, "note: --input gives the values the run already had\n");

  json defs = observe::Definitions(env.store.get(), *id);
  auto plan = engine::PlanReplay(base, changes, defs);
  if (!plan.ok()) return Fail(ctx, plan.status());
  std::vector<std::string> drift = plan->drift;
  if (defs.is_null() && (*loaded)->source_hash != source.workflow_hash)
    for (const auto& [n, it] : plan->reuse) drift.push_back(n);  // no per-node record: assume all
  if (!drift.empty() && !ctx.args.Has("allow-drift")) {
    std::string where = offline ? "" : " upstream of what you changed";
    return Fail(ctx, InvalidInput("workflow " + source.workflow_file + " changed since run " + *id +
                                  " ran: node" + (drift.size() > 1 ? "s " : " ") + Join(drift, ", ") +
                                  " no longer match" + (drift.size() > 1 ? "" : "es") + " what the run recorded" +
                                  where + ", so " + (offline ? "replaying" : "reusing") +
                                  " their results would mix two versions; pass --allow-drift to do it anyway, "
                                  "or `specwright run` afresh"));
  }

  std::string script = ctx.args.Get("script");
  if (script.empty()) script = opts.value("script", "");
  std::shared_ptr<const workflow::Workflow> wf = plan->workflow;
  std::shared_ptr<llm::Recordings> recordings;
  if (offline) {
    // No network: every provider the run or the workflow names answers from the recordings,
    // and no webhooks (notify:) go out.
    SW_RETURN_IF_ERROR_EXIT(ctx, SetupEnv(ctx, "", "", "", &env));
    env.no_notify = true;
    auto gathered = GatherRecordings(env.store.get(), *id);
    if (!gathered.ok()) return Fail(ctx, gathered.status());
    recordings = gathered->recordings;
    std::set<std::string> providers = gathered->providers;
    for (const auto& m : gathered->models) env.prices.Set(m, llm::Price{});  // replaying costs nothing
    int unmatched = gathered->unmatched, recorded = gathered->recorded;
    if (unmatched > 0 && recorded == 0)
      return Fail(ctx, InvalidInput("run " + *id + " was recorded before offline replay existed (its calls carry no "
                                    "request fingerprints); it cannot be replayed offline"));
    std::function<void(const workflow::Workflow&)> names = [&](const workflow::Workflow& w) {
      for (const auto& n : w.nodes) {
        std::string p, m;
        if (!n.model.model.empty() && llm::SplitModel(n.model.model, &p, &m).ok()) {
          providers.insert(p);
          env.prices.Set(n.model.model, llm::Price{});
        }
        if (n.sub) names(*n.sub);
      }
    };
    names(*wf);
    for (const auto& p : providers) env.providers.Add(std::make_shared<llm::ReplayProvider>(p, recordings, *id));
  } else {
    SW_RETURN_IF_ERROR_EXIT(ctx, SetupEnv(ctx, script, ctx.args.Get("config", opts.value("config", "")),
                                          opts.value("prices", ""), &env));
    SW_RETURN_IF_ERROR_EXIT(ctx, Preflight(*wf, env));
  }

  engine::RunOptions options;
  options.inputs = *resolved;
  options.use_cache = false;  // what runs, runs live
  options.auto_approve = ctx.args.Has("yes");
  options.default_max_calls = opts.value("max_calls", int64_t{500});
  options.run_id = ctx.args.Get("run-id");
  if (options.run_id.empty()) options.run_id = store::UnusedRunId(env.store.get(), SystemClock::Default()->WallNow());
  if (offline) {
    auto approvals = env.store->ListApprovals(*id);
    if (!approvals.ok()) return Fail(ctx, approvals.status());
    options.human = RecordedHuman(*approvals);
  } else {
    options.reuse_from = *id;
    options.reuse = plan->reuse;
  }
  json models = json::object(), prompts = json::object();
  for (const auto& [k, v] : changes.models) models[k] = v;
  for (const auto& [k, v] : changes.prompts) prompts[k] = std::filesystem::absolute(v).string();
  options.record_options = json{{"script", script}, {"no_cache", true}, {"yes", options.auto_approve},
                                {"model", run_model},
                                {"max_calls", options.default_max_calls}, {"config", opts.value("config", "")},
                                {"prices", opts.value("prices", "")},
                                {"replay", {{"of", *id}, {"offline", offline}, {"from", changes.from},
                                            {"models", models}, {"prompts", prompts}, {"inputs", changes.inputs},
                                            {"live", plan->live}}}};
  if (!ctx.json) {
    if (offline)
      std::fprintf(stderr, "replaying run %s offline: %zu recorded model calls answer every request\n", id->c_str(),
                   recordings->size());
    else
      std::fprintf(stderr, "replaying run %s: %zu nodes reuse its results, %zu run live: %s\n", id->c_str(),
                   plan->reuse.size(), plan->live.size(), Join(plan->live, ", ").c_str());
    if (!drift.empty()) std::fprintf(stderr, "warning: --allow-drift: reusing nodes that changed: %s\n", Join(drift, ", ").c_str());
  }
  std::string new_id = options.run_id;
  int rc = Execute(ctx, env, wf, std::move(options), "");
  if (offline && rc == kExitOk) {
    // The promise of offline replay, checked: every node's output is the recorded one.
    auto a = observe::Diff(env.store.get(), *id, new_id);
    if (!a.ok()) return Fail(ctx, a.status());
    int same = 0, total = 0;
    std::vector<std::string> differ;
    for (const auto& n : a->nodes) {
      if (!n.a || n.a->output_blob.empty()) continue;
      ++total;
      if (n.b && n.a->output_blob == n.b->output_blob) ++same;
      else differ.push_back(n.node);
    }
    if (!ctx.json) std::printf("offline replay: %d of %d node outputs byte-identical to run %s\n", same, total, id->c_str());
    if (!differ.empty()) {
      return Fail(ctx, Failed("outputs differ from the recording at: " + Join(differ, ", ") + " (see `specwright diff " +
                                  *id + " " + new_id + "`)"));
    }
  }
  return rc;
}

}  // namespace sw::cli
