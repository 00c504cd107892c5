// Resume: rebuild run state by replaying the stored events through the same transitions
// the live run made, then decide which nodes still have to run.
#include "base/strings.h"
#include "engine/runner.h"

namespace sw::engine {

/// WorstCaseOf is what a budget keeps charged for a call of unknown cost restored from the
/// store: its reservation's worst case, rebuilt from the request as sent (a byte a token) and
/// the node's max_tokens, at the model's price; 0 when the model has no price.
double Runner::WorstCaseOf(const store::LlmCallRecord& c, int n) {
  auto price = PriceOf(c.provider, c.model);
  if (!price) return 0;
  int64_t in = 0;
  if (auto blob = services_.store->GetBlob(c.request_blob); blob.ok()) in = static_cast<int64_t>(blob->size());
  int64_t out = n >= 0 ? wf_->nodes[static_cast<size_t>(n)].model.max_tokens.value_or(0) : 0;
  if (out <= 0) out = price->max_output_tokens > 0 ? price->max_output_tokens : 4096;
  return llm::WorstCaseCost(in, out, *price);
}

Status Runner::Restore(const std::vector<store::Event>& events) {
  try {
    options_.inputs = json::parse(run_.inputs_json);
  } catch (const json::parse_error& e) {
    return Internal("run " + run_id_ + ": stored inputs are not JSON: " + e.what());
  }
  replaying_ = true;
  auto load = [&](const std::string& hash, bool is_json, json* out) -> Status {
    SW_ASSIGN_OR_RETURN(std::string blob, services_.store->GetBlob(hash));
    if (!is_json) {
      *out = std::move(blob);
      return Status::Ok();
    }
    try {
      *out = json::parse(blob);
    } catch (const json::parse_error& e) {
      return Internal("blob " + hash + " is not JSON: " + e.what());
    }
    return Status::Ok();
  };
  std::vector<char> stop_skipped(nodes_.size(), 0);
  for (const auto& e : events) {
    if (e.node.empty()) continue;
    auto it = wf_->index.find(e.node);
    if (it == wf_->index.end())
      return InvalidInput("run " + run_id_ + " has node \"" + e.node + "\" that the workflow no longer has");
    int n = it->second;
    NodeState& s = nodes_[n];
    json data;
    try {
      data = json::parse(e.data);
    } catch (const json::parse_error&) {
      data = json::object();
    }
    const std::string& t = e.type;
    if (t == "node_started") {
      s.iteration = e.iteration;
      s.status = NodeStatus::kRunning;
      s.is_map = data.contains("items");
      s.items.clear();
      if (s.is_map)
        for (auto& v : data["items"]) s.items.push_back(v);
    } else if (t == "attempt_started" || t == "cache_hit" || t == "budget_refused") {
      int& a = restored_[{n, e.iteration}].attempts[e.item];
      a = std::max(a, e.attempt);
    } else if (t == "agent_turn") {
      // A finished turn: a resumed agent that asks the same again gets it free (agent.cc).
      if (std::string key = data.value("key", ""); !key.empty())
        turn_journal_[key + ":" + std::to_string(e.item)] =
            json{{"text", data.value("text", "")}, {"tool_calls", data.value("tool_calls", json::array())}};
    } else if (t == "item_succeeded") {
      json v;
      SW_RETURN_IF_ERROR(load(data.value("blob", ""), true, &v));
      restored_[{n, e.iteration}].items[e.item] = std::move(v);
    } else if (t == "node_succeeded") {
      SW_RETURN_IF_ERROR(load(data.value("blob", ""), data.value("json", false), &s.output));
      s.output_blob = data.value("blob", "");
      s.iteration = e.iteration;
      s.status = NodeStatus::kSucceeded;
      s.error.clear();
    } else if (t == "node_failed") {
      s.status = NodeStatus::kFailed;
      s.error = data.value("error", "");
    } else if (t == "node_skipped") {
      s.status = NodeStatus::kSkipped;
      s.error = data.value("reason", "");
      s.failed_by_dep = data.value("by_failure", false);
      stop_skipped[n] = StartsWith(s.error, "run stopped");
    } else if (t == "node_waiting") {
      s.status = NodeStatus::kWaiting;
    } else if (t == "loop_next") {
      auto to = wf_->index.find(data.value("to", ""));
      if (to == wf_->index.end()) return InvalidInput("run " + run_id_ + ": loop_next names an unknown node");
      ResetBody(n, to->second);
    }
  }
  // What was paid stays paid: restore the spend so budgets and caps continue from it.
  SW_ASSIGN_OR_RETURN(auto calls, services_.store->ListLlmCalls(run_id_));
  double unknown_charge = 0;  // what budgets keep charged for calls of unknown cost
  for (const auto& c : calls) {
    tokens_in_ += c.tokens_in;
    tokens_out_ += c.tokens_out;
    calls_ += 1;
    cost_ += c.cost_usd.value_or(0);
    if (!c.cost_usd) cost_unknown_ = true;
    auto it = wf_->index.find(c.node);
    double charge = c.cost_usd ? *c.cost_usd : WorstCaseOf(c, it == wf_->index.end() ? -1 : it->second);
    if (!c.cost_usd) unknown_charge += charge;
    if (it == wf_->index.end()) continue;
    NodeState& s = nodes_[it->second];
    s.tokens_in += c.tokens_in;
    s.tokens_out += c.tokens_out;
    s.calls += 1;
    s.cost += c.cost_usd.value_or(0);
    if (s.budget) s.budget->AddSpent(charge, c.tokens_in + c.tokens_out, 1);
  }
  // Sub-runs record their calls under their own ids; what they paid before the crash is this
  // run's spend too (a resumed child reports only what it spends from now on).
  SW_ASSIGN_OR_RETURN(auto below, DescendantSpend(services_.store, run_id_));
  for (const auto& [node, sp] : below) {
    tokens_in_ += sp.tokens_in;
    tokens_out_ += sp.tokens_out;
    calls_ += sp.calls;
    cost_ += sp.usd;
    cost_unknown_ |= sp.usd_unknown;
    auto it = wf_->index.find(node);
    if (it == wf_->index.end()) continue;
    NodeState& s = nodes_[it->second];
    s.tokens_in += sp.tokens_in;
    s.tokens_out += sp.tokens_out;
    s.calls += sp.calls;
    s.cost += sp.usd;
  }
  budget_->AddSpent(cost_ + unknown_charge + options_.unrecorded_usd, tokens_in_ + tokens_out_, calls_);
  if (options_.unrecorded_usd > 0)
    Warn(-1, -1, 0,
         "the budget counts " + FormatUsd(options_.unrecorded_usd) +
             " for model calls that were in flight, or answered and not yet recorded, when the run's previous "
             "orchestrator stopped (their worst case: a call adopted later is counted again)");
  // Succeeded nodes are final and never run again. Failed, cancelled, interrupted and
  // stop-skipped nodes run again, and so does anything downstream of them.
  for (size_t i = 0; i < nodes_.size(); ++i) {
    NodeState& s = nodes_[i];
    bool deps_final = true;
    for (int d : s.deps) deps_final &= nodes_[d].propagated;
    bool final = s.status == NodeStatus::kSucceeded ||
                 (s.status == NodeStatus::kSkipped && !s.failed_by_dep && !stop_skipped[i] && deps_final);
    if (final) {
      s.propagated = true;
    } else {
      s.status = NodeStatus::kPending;
      s.propagated = false;
      s.failed_by_dep = false;
      s.units.clear();
      if (s.status != NodeStatus::kSucceeded) s.error.clear();
    }
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    NodeState& s = nodes_[i];
    s.pending_deps = 0;
    for (int d : s.deps)
      if (!nodes_[d].propagated) ++s.pending_deps;
    if (!s.propagated && s.pending_deps == 0) ready_.push_back(static_cast<int>(i));
  }
  replaying_ = false;
  return Status::Ok();
}

Result<std::map<std::string, Spend>> DescendantSpend(store::Store* st, const std::string& run_id) {
  std::map<std::string, Spend> out;
  if (!st) return out;
  SW_ASSIGN_OR_RETURN(auto runs, st->ListSubRuns(run_id));
  std::string prefix = run_id + ".";
  for (const auto& r : runs) {
    if (!StartsWith(r.id, prefix)) continue;  // sub-run ids are PARENT.NODE[.iN][.mK]
    std::string rest = r.id.substr(prefix.size());
    std::string node = rest.substr(0, rest.find('.'));
    SW_ASSIGN_OR_RETURN(auto calls, st->ListLlmCalls(r.id));
    Spend& sp = out[node];
    for (const auto& c : calls) {
      sp.tokens_in += c.tokens_in;
      sp.tokens_out += c.tokens_out;
      sp.calls += 1;
      sp.usd += c.cost_usd.value_or(0);
      sp.usd_unknown |= !c.cost_usd;
    }
  }
  return out;
}

}  // namespace sw::engine
