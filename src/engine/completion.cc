// HandleCompletion: what the dispatcher does with a finished unit of work (a model call, a
// tool call, a person's answer, a sub-run): the live text ends, the budget settles at what the
// call cost (its worst case when the provider reported no usage), the call is recorded, and
// the unit's result goes on to the agent loop or to node_outcome.cc.
#include <algorithm>
#include <cmath>

#include "base/strings.h"
#include "engine/agent.h"
#include "engine/runner.h"

namespace sw::engine {

void Runner::HandleCompletion(Completion c) {
  NodeState& s = nodes_[c.node];
  const auto& def = wf_->nodes[c.node];
  Outcome& o = c.outcome;
  if (o.is_llm && services_.store) {
    // The call ended: its streamed text is now the recorded response.
    LiveBuffer::Key key{def.id, c.iteration, c.item, c.attempt};
    std::lock_guard<std::mutex> l(live_->mu);
    auto it = live_->calls.find(key);
    bool stored = it != live_->calls.end() && it->second.stored;
    if (it != live_->calls.end()) live_->calls.erase(it);
    // Most calls end before their text is first written (every kLiveInterval): no row to delete.
    if (stored) {
      store::LiveText done;
      done.run_id = run_id_;
      done.node = def.id;
      done.iteration = c.iteration;
      done.item = c.item;
      done.attempt = c.attempt;
      done.done = true;
      batch_.live.push_back(done);
    }
  }
  if (o.is_llm && !o.cached) {
    bool known = o.cost.has_value();
    double usd = o.cost.value_or(0);
    int64_t toks = o.usage.input + o.usage.output;
    if (c.reserved) {
      // A call whose usage was not reported stays charged at its worst case: a budget never
      // counts unknown spend as free.
      double settle_usd = o.usage_unknown ? c.reservation.usd : usd;
      int64_t settle_toks = o.usage_unknown ? c.reservation.tokens : toks;
      bool settle_known = o.usage_unknown ? c.reservation.usd_known : known;
      budget_->Settle(c.reservation, settle_usd, settle_toks, settle_known);
      if (s.budget) s.budget->Settle(c.reservation, settle_usd, settle_toks, settle_known);
    }
    tokens_in_ += o.usage.input;
    tokens_out_ += o.usage.output;
    calls_ += 1;
    cost_ += usd;
    if (!known) cost_unknown_ = true;
    s.tokens_in += o.usage.input;
    s.tokens_out += o.usage.output;
    s.calls += 1;
    s.cost += usd;
    if (!known) s.cost_unknown = true;
    if (services_.store) {
      store::LlmCallRecord r;
      r.run_id = run_id_;
      r.node = def.id;
      r.iteration = c.iteration;
      r.item = c.item;
      r.attempt = c.attempt;
      r.provider = o.provider;
      r.model = o.model;
      r.tokens_in = o.usage.input;
      r.tokens_out = o.usage.output;
      r.tokens_cached_read = o.usage.cached_read;
      r.tokens_cache_write = o.usage.cache_write;
      r.tokens_reasoning = o.usage.reasoning;
      r.cost_usd = o.cost;
      r.started_at = o.started_at;
      r.latency_ms = o.latency_ms;
      r.ttft_ms = o.ttft_ms;
      r.status = o.ok ? "ok" : o.error_kind.empty() ? "error" : o.error_kind;
      r.error = o.error;
      r.request_blob = PutBlob(o.request_json);
      r.response_blob = PutBlob(o.response_raw.empty() ? o.error : o.response_raw);
      r.request_hash = o.request_hash;
      if (!o.reply_json.empty()) r.reply_blob = PutBlob(o.reply_json);
      r.response_model = o.answered_model;
      r.response_id = o.response_id;
      r.finish_reason = o.finish_reason;
      if (!o.ok) r.error_type = o.error_type.empty() ? "_OTHER" : o.error_type;
      r.max_tokens = o.max_tokens;
      r.temperature = o.temperature;
      batch_.llm_calls.push_back(std::move(r));
    }
  } else if (c.reserved) {
    budget_->Settle(c.reservation, 0, 0, true);
    if (s.budget) s.budget->Settle(c.reservation, 0, 0, true);
  }
  tokens_in_ += o.sub_tokens_in;
  tokens_out_ += o.sub_tokens_out;
  cost_ += o.sub_cost;
  calls_ += o.sub_calls;
  s.tokens_in += o.sub_tokens_in;
  s.tokens_out += o.sub_tokens_out;
  s.cost += o.sub_cost;
  s.calls += o.sub_calls;

  if (c.unit >= static_cast<int>(s.units.size())) return;  // the node was reset by a loop
  Unit& unit = s.units[c.unit];
  if (!unit.running || unit.token != c.token) {
    // Timed out or cancelled: the spend is recorded above. An answer that did arrive is kept
    // in the cache, so the node run again (resume, or the same step again) does not pay twice.
    if (o.is_llm && o.ok && !o.cached && o.agent_call < 0 && o.truncated.empty() && !o.followup) {
      if (def.kind == workflow::NodeKind::kAgent && unit.tool_uris) {
        std::string text = o.value.is_string() ? o.value.get<std::string>() : o.value.dump();
        CacheResult(c.node, o, json{{"text", text}, {"tool_calls", TurnCalls(o.tool_calls, *unit.tool_uris)}}.dump());
      } else if (def.kind == workflow::NodeKind::kLlm && def.output != workflow::OutputKind::kJson && o.value.is_string()) {
        CacheResult(c.node, o, o.value.get<std::string>());
      }
    }
    return;
  }
  if (def.kind == workflow::NodeKind::kAgent && unit.agent) {
    if (o.agent_call >= 0) AgentToolDone(c);
    else AgentModelDone(c);
    return;
  }
  ReleaseUnit(c.node, c.unit);
  unit.unavailable = false;  // set again below when this failure says so
  int item = s.is_map ? c.unit : -1;
  s.awaiting_person = false;
  if (!o.approval_by.empty() && services_.store) {
    store::ApprovalRecord a;
    a.run_id = run_id_;
    a.node = def.id;
    a.iteration = s.iteration;
    a.item = item;
    // A gate dialogue's rejection is the node's answer (ok), still a rejection in the record.
    bool rejected = !o.ok || (o.value.is_object() && !o.value.value("approved", true));
    a.decision = rejected ? "rejected" : def.human_mode == workflow::HumanMode::kInput ? "input" : "approved";
    a.text = o.value.is_string() ? o.value.get<std::string>() : o.value.value("text", "");
    a.by = o.approval_by;
    a.ts = services_.clock->WallNow();
    batch_.approvals.push_back(a);
  }
  if (o.waiting) {
    s.status = NodeStatus::kWaiting;
    Emit("node_waiting", c.node, item, unit.attempt, [&] { return json{{"message", o.error}}; });
    RecordNodeRun(c.node, item, unit.attempt, "waiting", nullptr, "");
    if (services_.store) {
      store::ApprovalRecord a;
      a.run_id = run_id_;
      a.node = def.id;
      a.iteration = s.iteration;
      a.item = item;
      a.decision = "pending";
      a.text = o.error;
      a.ts = services_.clock->WallNow();
      batch_.approvals.push_back(a);
    }
    return;
  }
  if (!o.ok) {
    RecordNodeRun(c.node, item, unit.attempt, "failed", &o, o.error);
    unit.unavailable = IsUnavailable(o);
    UnitFailed(c.node, c.unit, o.error, o.retryable, o.retry_after);
    return;
  }
  if (o.is_llm) {
    LlmAnswered(c);
    return;
  }
  RecordNodeRun(c.node, item, unit.attempt, "succeeded", &o, "");
  UnitSucceeded(c.node, c.unit, std::move(o.value), o.cached);
}

}  // namespace sw::engine
