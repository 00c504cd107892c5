// Fallback models: `fallbacks: [provider/model, ...]` on a node or in defaults. When a model
// is unavailable — its provider is not configured, its calls fail on the connection, with 5xx
// or 429 after their retries, time out, or are refused as unauthorised or not found — the unit
// moves to the next model and starts again at once with retries of its own. Each call is
// recorded under the model that answered it, and priced and budgeted as that model; the
// `model_fallback` event says which model was asked and why it was left.
#include "base/strings.h"
#include "engine/runner.h"

namespace sw::engine {

const std::string& Runner::ModelOf(int n, int u) const {
  const auto& def = wf_->nodes[n];
  int k = nodes_[n].units.empty() ? 0 : nodes_[n].units[static_cast<size_t>(u)].model_choice;
  return k == 0 ? def.model.model : def.model.fallbacks[static_cast<size_t>(k - 1)];
}

bool IsUnavailable(const Outcome& o) {
  if (!o.is_llm || o.ok) return false;
  if (o.error_kind == "timeout") return true;
  // Unauthorised, forbidden, not found, out of credits (402), out of quota (a 429 that says
  // so is not retried, but it is the most common reason to go elsewhere).
  if (o.http_status == 401 || o.http_status == 402 || o.http_status == 403 || o.http_status == 404 ||
      o.http_status == 429)
    return true;
  return o.retryable;  // the connection, 5xx, 429, a cut or capped stream
}

bool Runner::TryFallback(int n, int u, const std::string& error) {
  if (!NextModel(n, u, error)) return false;
  nodes_[n].units[static_cast<size_t>(u)].queued = true;
  launchable_.emplace_back(n, u);
  return true;
}

bool Runner::NextModel(int n, int u, const std::string& error) {
  NodeState& s = nodes_[n];
  const auto& def = wf_->nodes[n];
  Unit& unit = s.units[static_cast<size_t>(u)];
  if (unit.model_choice >= static_cast<int>(def.model.fallbacks.size()) || stopping_ ||
      s.status != NodeStatus::kRunning)
    return false;
  std::string from = ModelOf(n, u);
  ++unit.model_choice;
  std::string to = ModelOf(n, u);
  unit.attempt_base = unit.attempt;  // the next model gets retries of its own
  unit.unavailable = false;
  int item = s.is_map ? u : -1;
  // One warning per node and pair of models (a map's items all meet the same outage); every
  // unit's event is kept.
  if (fallback_warned_.insert(def.id + "\n" + from + "\n" + to).second)
    warnings_.push_back("node " + Quote(def.id) + ": " + from + " is unavailable (" + error + "); trying " + to);
  Emit("model_fallback", n, item, unit.attempt, [&] { return json{{"from", from}, {"to", to}, {"error", error}}; });
  return true;
}

}  // namespace sw::engine
