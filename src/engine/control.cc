#include "engine/control.h"

#include <nlohmann/json.hpp>


#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>
#include <vector>

#include "base/strings.h"

namespace sw::engine {

Result<store::ApprovalRecord> Decide(store::Store* st, const std::string& run_id, const Decision& d) {
  SW_ASSIGN_OR_RETURN(auto approvals, st->ListApprovals(run_id));
  const store::ApprovalRecord* pending = nullptr;
  std::vector<std::string> waiting;
  for (const auto& a : approvals) {
    if (a.decision != "pending") continue;
    waiting.push_back(a.node);
    if (a.node != d.node) continue;
    if (d.iteration && a.iteration != *d.iteration) continue;
    if (d.item && a.item != *d.item) continue;
    pending = &a;
  }
  if (!pending) {
    std::string hint = DidYouMean(d.node, waiting);
    return InvalidInput("node \"" + d.node + "\" of run " + run_id + " is not waiting for a decision" +
                        (waiting.empty() ? "" : " (waiting: " + Join(waiting, ", ") + ")") +
                        (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
  }
  store::ApprovalRecord a = *pending;
  a.decision = d.approve ? "approved" : "rejected";
  a.text = d.text;
  a.by = d.by;
  a.ts = static_cast<double>(std::time(nullptr));
  store::Batch b;
  b.approvals.push_back(a);
  SW_RETURN_IF_ERROR(st->Commit(b));
  // The store changes only a pending row: another answer that came first stands.
  SW_ASSIGN_OR_RETURN(auto now, st->ListApprovals(run_id));
  for (const auto& x : now)
    if (x.node == a.node && x.iteration == a.iteration && x.item == a.item &&
        (x.decision != a.decision || x.by != a.by || x.ts != a.ts || x.text != a.text))
      return InvalidInput("node \"" + a.node + "\" of run " + run_id + " was just " + x.decision + " by " + x.by);
  return a;
}

Result<std::string> Cancel(store::Store* st, const store::RunRecord& run, const std::string& by) {
  if (run.status != "running" && run.status != "waiting")
    return "run " + run.id + " is " + run.status + "; nothing to cancel";
  if (store::ProcessAlive(run)) {
    SW_RETURN_IF_ERROR(st->RequestCancel(run.id));
    return "asked run " + run.id + " (process " + std::to_string(run.pid) + ") to cancel; it stops within a second";
  }
  // Nobody is running it (waiting, or its process died): mark it cancelled here, with what
  // it really spent.
  store::Batch b;
  store::RunRecord r = run;
  if (run.status == "running") SW_RETURN_IF_ERROR(Recount(st, &r));
  r.status = "cancelled";
  r.error = "cancelled by " + by;
  r.cancel_requested = true;
  b.run = r;
  SW_RETURN_IF_ERROR(st->Commit(b));
  return "run " + run.id + " cancelled";
}

void ShownAsAbandoned(store::Store* st, store::RunRecord* run) {
  if (run->status != "running" || store::ProcessAlive(*run)) return;
  if (Recount(st, run).ok()) run->status = "abandoned";
}

Status Recount(store::Store* st, store::RunRecord* run) {
  std::vector<std::string> ids{run->id};
  SW_ASSIGN_OR_RETURN(auto subs, st->ListSubRuns(run->id));
  for (const auto& s : subs) ids.push_back(s.id);
  int64_t in = 0, out = 0, calls = 0;
  double usd = 0;
  bool unknown = false;
  for (const auto& id : ids) {
    SW_ASSIGN_OR_RETURN(auto list, st->ListLlmCalls(id));
    for (const auto& c : list) {
      in += c.tokens_in;
      out += c.tokens_out;
      ++calls;
      if (c.cost_usd) usd += *c.cost_usd;
      else unknown = true;
    }
    SW_ASSIGN_OR_RETURN(auto nodes, st->ListNodeRuns(id));
    // A model call in flight when the process died was never reported (a tool's costs nothing).
    for (const auto& n : nodes) unknown |= n.status == "running" && !n.model.empty();
  }
  // Never less than it had recorded itself (a total flushed before the calls' rows, say).
  run->tokens_in = std::max(run->tokens_in, in);
  run->tokens_out = std::max(run->tokens_out, out);
  run->calls = std::max(run->calls, calls);
  run->cost_usd = std::max(run->cost_usd, usd);
  run->cost_unknown = run->cost_unknown || unknown;
  return Status::Ok();
}

Result<store::RunRecord> CloseAbandoned(store::Store* st, const store::RunRecord& run) {
  if (run.status != "running" || store::ProcessAlive(run)) return run;
  store::RunRecord r = run;
  SW_RETURN_IF_ERROR(Recount(st, &r));
  r.status = "failed";
  r.error = "abandoned: its process (pid " + std::to_string(run.pid) + ") ended while it ran" +
            (run.error.empty() ? "" : " (" + run.error + ")");
  if (r.finished_at <= 0) {
    // When it was last heard of: its newest event.
    SW_ASSIGN_OR_RETURN(auto events, st->ListEvents(run.id));
    r.finished_at = events.empty() ? run.created_at : events.back().ts;
  }
  store::Batch b;
  b.run = r;
  SW_RETURN_IF_ERROR(st->Commit(b));
  SW_ASSIGN_OR_RETURN(auto subs, st->ListSubRuns(run.id));
  for (const auto& s : subs)
    if (s.status == "running") SW_RETURN_IF_ERROR(CloseAbandoned(st, s).status());
  return r;
}

HumanFn AwaitDecisions(store::Store* st, std::shared_ptr<std::atomic<bool>> stop, double poll_seconds) {
  return [st, stop, poll_seconds](const HumanRequest& req) -> std::optional<HumanAnswer> {
    store::ApprovalRecord pending;
    pending.run_id = req.run_id;
    pending.node = req.node;
    pending.iteration = req.iteration;
    pending.item = req.item;
    pending.decision = "pending";
    pending.text = req.message;
    pending.ts = static_cast<double>(std::time(nullptr));
    store::Batch b;
    b.approvals.push_back(pending);
    if (!st->Commit(b).ok()) return std::nullopt;
    auto pause = std::chrono::milliseconds(static_cast<int>(poll_seconds * 1000));
    for (;;) {
      if (stop && stop->load()) return std::nullopt;
      auto cancelled = st->CancelRequested(req.run_id);
      if (cancelled.ok() && *cancelled) return std::nullopt;
      auto approvals = st->ListApprovals(req.run_id);
      if (approvals.ok()) {
        for (const auto& a : *approvals) {
          if (a.node != req.node || a.iteration != req.iteration || a.item != req.item || a.decision == "pending") continue;
          return HumanAnswer{a.decision != "rejected", a.text, a.by.empty() ? "cli" : a.by};
        }
      }
      std::this_thread::sleep_for(pause);
    }
  };
}

std::string ProcessStepOf(const store::RunRecord& run) {
  nlohmann::json o = nlohmann::json::parse(run.options_json, nullptr, false);
  if (!o.is_object() || !o.contains("process") || !o["process"].is_string()) return "";
  std::string project = o.contains("project") && o["project"].is_string() ? o["project"].get<std::string>() : "DIR";
  // The session says which command the step belongs to (develop-…, modify-…, update-…, review-…).
  std::string kind = run.session.substr(0, run.session.find('-'));
  std::string ws = " --workspace " + project;
  std::string command = kind == "modify"   ? "the same `specwright modify \"…\"" + ws + "`"
                        : kind == "update" ? "`specwright develop BRIEF.md" + ws + "` with the changed brief"
                        : kind == "review" ? "the same `specwright review PHASE" + ws + "`"
                                           : "`specwright develop BRIEF.md" + ws + "`";
  return "run " + command + " again: run " + run.id + " is its \"" + o["process"].get<std::string>() + "\" step";
}

}  // namespace sw::engine
