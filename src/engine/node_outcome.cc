// What happens to a node when one of its units ends: success (map items gathered, the output
// recorded and cached, a loop's next round), failure (retry with backoff, or fail and skip the
// dependents), skips, and resetting a loop's body for its next round.
#include <algorithm>
#include <cmath>

#include "base/strings.h"
#include "engine/agent.h"
#include "engine/runner.h"
#include "engine/scope.h"

namespace sw::engine {

namespace {
bool IsFinal(NodeStatus s) {
  return s == NodeStatus::kSucceeded || s == NodeStatus::kFailed || s == NodeStatus::kSkipped;
}
}  // namespace

void Runner::UnitSucceeded(int n, int u, json value, bool cached) {
  NodeState& s = nodes_[n];
  Unit& unit = s.units[u];
  unit.done = true;
  unit.value = std::move(value);
  ++s.units_done;
  if (cached) s.cached = true;
  if (s.is_map) {
    Emit("item_succeeded", n, u, unit.attempt, [&] {
      return json{{"blob", PutBlob(unit.value.dump())}, {"cached", cached}};
    });
  }
  if (s.units_done < static_cast<int>(s.units.size())) return;
  if (s.is_map) {
    json arr = json::array();
    for (auto& un : s.units) arr.push_back(un.value);
    s.output = std::move(arr);
  } else {
    s.output = std::move(unit.value);
  }
  NodeSucceeded(n);
}

void Runner::UnitFailed(int n, int u, const std::string& error, bool retryable, double retry_after) {
  NodeState& s = nodes_[n];
  const auto& def = wf_->nodes[n];
  Unit& unit = s.units[u];
  int item = s.is_map ? u : -1;
  int tries = unit.attempt - unit.attempt_base;
  if (def.kind == workflow::NodeKind::kAgent) {
    // An agent's model calls retry inside the run; the run itself (its tool calls changed
    // the workspace) is not started over.
    if (unit.agent) {
      Outcome totals = AgentTotals(*unit.agent);
      RecordNodeRun(n, item, unit.attempt, "failed", &totals, error);
    }
    unit.agent.reset();
    retryable = false;
  }
  Emit("attempt_failed", n, item, unit.attempt, [&] { return json{{"error", error}, {"retryable", retryable}}; });
  if (retryable && tries < def.retry.attempts && !stopping_ && s.status == NodeStatus::kRunning) {
    double delay = Jitter(BackoffCap(def.retry, tries + 1));
    if (retry_after > def.retry.max_delay) {
      // A provider asking for a longer wait than the policy allows (a daily quota, a bogus
      // header) fails now instead of parking the run for hours.
      std::string msg = error + " (the provider asks to wait " + HumanDuration(retry_after) +
                        ", longer than retry.max_delay " + HumanDuration(def.retry.max_delay) + ")";
      if (unit.unavailable && TryFallback(n, u, msg)) return;
      if (s.is_map) msg = "item " + std::to_string(u) + ": " + msg;
      NodeFailed(n, msg);
      return;
    }
    if (retry_after > delay) delay = retry_after;
    unit.retry_at = services_.clock->Now() + delay;
    retry_timers_.emplace(unit.retry_at, std::make_pair(n, u));
    Emit("retry_scheduled", n, item, unit.attempt, [&] { return json{{"delay", delay}, {"error", error}}; });
    return;
  }
  std::string msg = error;
  if (tries > 1) msg += " (after " + std::to_string(tries) + " attempts)";
  if (unit.unavailable && TryFallback(n, u, msg)) return;
  if (s.is_map) msg = "item " + std::to_string(u) + ": " + msg;
  NodeFailed(n, msg);
}

void Runner::NodeSucceeded(int n) {
  NodeState& s = nodes_[n];
  const auto& def = wf_->nodes[n];
  // A loop owner decides first: an error or an exhausted `on_exhausted: fail` loop fails it.
  bool loop_again = false;
  std::string exhausted;
  if (def.loop && !replaying_) {
    RunScope scope(this, n, -1);
    auto r = def.loop->cond.expr->EvalBool(scope);
    if (!r.ok()) {
      NodeFailed(n, "loop.while: " + r.status().message());
      return;
    }
    if (*r) {
      if (s.loops + 1 < def.loop->max_iterations) {
        loop_again = true;
      } else {
        exhausted = "loop reached max_iterations " + std::to_string(def.loop->max_iterations) +
                    " while its condition still holds (" + def.loop->cond.expr->source() + ")";
        if (def.loop->fail_on_exhausted) {
          NodeFailed(n, exhausted);
          return;
        }
      }
    }
  }
  s.status = NodeStatus::kSucceeded;
  s.finished_at = services_.clock->WallNow();
  if (!replaying_) Checkpoint(n);
  std::string text = s.output.is_string() ? s.output.get<std::string>() : s.output.dump(2);
  s.output_blob = PutBlob(s.output.is_string() ? text : s.output.dump());
  bool is_json = !s.output.is_string();
  Emit("node_succeeded", n, -1, s.units.empty() ? 0 : s.units[0].attempt, [&] {
    return json{{"blob", s.output_blob}, {"json", is_json}, {"cached", s.cached}};
  });
  if (services_.store && !replaying_) {
    store::ArtifactRecord a;
    a.run_id = run_id_;
    a.name = def.artifact.empty() ? def.id : def.artifact;
    if (s.iteration > 0) a.name += "@" + std::to_string(s.iteration);
    a.media_type = is_json ? "application/json" : "text/markdown";
    a.blob = s.output_blob;
    a.produced_by = def.id;
    json from = json::array();
    // Named as stored: a loop body's later rounds are "name@iteration".
    for (int d : s.deps)
      if (nodes_[d].status == NodeStatus::kSucceeded)
        from.push_back((wf_->nodes[d].artifact.empty() ? wf_->nodes[d].id : wf_->nodes[d].artifact) +
                       (nodes_[d].iteration > 0 ? "@" + std::to_string(nodes_[d].iteration) : ""));
    a.derived_from = from.dump();
    a.created_at = s.finished_at;
    batch_.artifacts.push_back(std::move(a));
  }
  if (loop_again) {
    int to = wf_->index.at(def.loop->to);
    Emit("loop_next", n, -1, 0, [&] { return json{{"to", def.loop->to}, {"iteration", s.loops + 1}}; });
    ResetBody(n, to);
    return;
  }
  if (!exhausted.empty()) {
    std::string msg = "node \"" + def.id + "\": " + exhausted;
    Warn(n, -1, 0, msg);
  }
  Finalize(n);
}

void Runner::NodeFailed(int n, const std::string& error) {
  NodeState& s = nodes_[n];
  if (IsFinal(s.status)) return;
  for (size_t u = 0; u < s.units.size(); ++u) {
    Unit& unit = s.units[u];
    if (unit.running) {
      if (unit.cancel) unit.cancel->store(true);
      ReleaseUnit(n, static_cast<int>(u));
    }
    // An agent stopped from outside (budget, a failed sibling item, the run stopping): its
    // attempt row says so, with what it spent.
    if (unit.agent && unit.agent->started) {
      Outcome totals = AgentTotals(*unit.agent);
      RecordNodeRun(n, s.is_map ? static_cast<int>(u) : -1, unit.attempt, "failed", &totals, error);
      unit.agent.reset();
    }
  }
  s.status = NodeStatus::kFailed;
  s.error = error;
  s.finished_at = services_.clock->WallNow();
  Emit("node_failed", n, -1, 0, [&] { return json{{"error", error}}; });
  if (!replaying_) Checkpoint(n);  // what a failed node changed is kept, and shown by `files`
  Finalize(n);
}

void Runner::NodeSkipped(int n, const std::string& reason, bool by_failure) {
  NodeState& s = nodes_[n];
  s.status = NodeStatus::kSkipped;
  s.error = reason;
  s.failed_by_dep = by_failure;
  s.finished_at = services_.clock->WallNow();
  Emit("node_skipped", n, -1, 0, [&] { return json{{"reason", reason}, {"by_failure", by_failure}}; });
  RecordSkip(n, reason);
  Finalize(n);
}

void Runner::RecordSkip(int n, const std::string& reason) {
  if (!services_.store || replaying_) return;
  store::NodeRunRecord r;
  r.run_id = run_id_;
  r.node = wf_->nodes[n].id;
  r.iteration = nodes_[n].iteration;
  r.attempt = 0;
  r.status = "skipped";
  r.started_at = r.finished_at = services_.clock->WallNow();
  r.error = reason;
  batch_.node_runs.push_back(std::move(r));
}

void Runner::Finalize(int n) {
  NodeState& s = nodes_[n];
  s.propagated = true;
  for (int d : s.dependents)
    if (--nodes_[d].pending_deps == 0 && nodes_[d].status == NodeStatus::kPending) ready_.push_back(d);
}

std::vector<int> Runner::LoopBody(int owner, int to) const {
  // Body: descendants of `to` that are ancestors of `owner` (inclusive).
  std::vector<char> anc(nodes_.size(), 0), desc(nodes_.size(), 0);
  std::vector<int> stack{owner};
  anc[owner] = 1;
  while (!stack.empty()) {
    int x = stack.back();
    stack.pop_back();
    for (int d : nodes_[x].deps)
      if (!anc[d]) anc[d] = 1, stack.push_back(d);
  }
  stack = {to};
  desc[to] = 1;
  while (!stack.empty()) {
    int x = stack.back();
    stack.pop_back();
    for (int d : nodes_[x].dependents)
      if (!desc[d]) desc[d] = 1, stack.push_back(d);
  }
  std::vector<int> body;
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (anc[i] && desc[i]) body.push_back(static_cast<int>(i));
  return body;
}

void Runner::ResetBody(int owner, int to) {
  nodes_[owner].loops += 1;
  std::vector<int> body = LoopBody(owner, to);
  std::vector<char> in_body(nodes_.size(), 0);
  for (int b : body) in_body[b] = 1;
  for (int b : body) {
    NodeState& s = nodes_[b];
    // A loop nested in the body starts counting afresh each time the outer loop comes round.
    if (b != owner) s.loops = 0;
    if (s.propagated) {
      for (int d : s.dependents) ++nodes_[d].pending_deps;
    }
    s.succeeded_before = s.succeeded_before || s.status == NodeStatus::kSucceeded;
    s.finished_before = s.finished_before || s.status == NodeStatus::kSucceeded || s.status == NodeStatus::kFailed ||
                        s.status == NodeStatus::kSkipped;
    s.awaiting_person = false;
    s.status = NodeStatus::kPending;
    s.propagated = false;
    s.iteration += 1;
    s.failed_by_dep = false;
    s.error.clear();
    s.units.clear();
    s.cached = false;
  }
  for (int b : body) {
    NodeState& s = nodes_[b];
    s.pending_deps = 0;
    for (int d : s.deps)
      if (!nodes_[d].propagated) ++s.pending_deps;
    if (s.pending_deps == 0 && !replaying_) ready_.push_back(b);
  }
}

}  // namespace sw::engine
