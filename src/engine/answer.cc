// What an llm node makes of a model's answer: a cut answer follows the node's on_truncated
// (fail, accept, or ask the model to continue and join the parts); a JSON answer is found
// where real models put it (a fence, prose around it) and, when it still cannot be used,
// repaired by a turn that shows the model its answer and the exact error. Both go on in the
// next attempt of the same unit, with the model's answer and the message appended to the
// prompt (Unit::followup); every step is an event and an attempt of its own.
#include "base/strings.h"
#include "engine/runner.h"
#include "workflow/json_schema.h"

namespace sw::engine {
namespace {

/// How many times one answer may be continued after being cut.
constexpr int kMaxContinuations = 4;
/// How much of a schema a repair message quotes.
constexpr size_t kMaxSchemaQuoted = 4096;

constexpr const char* kContinueMessage =
    "Your answer was cut off at the output limit. Continue exactly where it stopped, from the next character "
    "on, without repeating anything and without any preamble or closing remark.";

}  // namespace

std::string RepairMessage(const std::string& error, const std::optional<json>& schema) {
  std::string m = "Your answer could not be used: " + error +
                  "\nReply again with the complete, corrected answer: only the JSON value, with no code fence "
                  "and no text before or after it.";
  if (schema) {
    std::string s = schema->dump();
    if (s.size() > kMaxSchemaQuoted) s = Utf8Prefix(s, kMaxSchemaQuoted) + "…";
    m += "\nIt must match this JSON Schema: " + s;
  }
  return m;
}

llm::JsonAnswer Runner::ParseOutput(int n, const std::string& text) {
  const auto& def = wf_->nodes[n];
  llm::JsonCheck check;
  if (def.schema) {
    check = [&def](const json& v) { return jsonschema::Validate(*def.schema, v); };
  }
  return llm::FindJson(text, check);
}

void Runner::FollowUp(int n, int u, const std::string& answer, const std::string& message, const char* event,
                      const json& data) {
  NodeState& s = nodes_[n];
  Unit& unit = s.units[u];
  unit.followup = {llm::Message{"assistant", answer, {}, {}}, llm::Message{"user", message, {}, {}}};
  Emit(event, n, s.is_map ? u : -1, unit.attempt, [&] { return data; });
  if (stopping_ || s.status != NodeStatus::kRunning) return;
  unit.queued = true;
  launchable_.emplace_back(n, u);
}

void Runner::LlmAnswered(Completion& c) {
  int n = c.node, u = c.unit;
  NodeState& s = nodes_[n];
  const auto& def = wf_->nodes[n];
  Unit& unit = s.units[u];
  int item = s.is_map ? u : -1;
  Outcome& o = c.outcome;
  json value = std::move(o.value);
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();

  if (!o.truncated.empty()) {
    if (def.on_truncated == workflow::TruncatedPolicy::kContinue && unit.continuations < kMaxContinuations) {
      unit.joined += text;
      ++unit.continuations;
      ++unit.attempt_base;  // a continuation is a new call, not a retry
      RecordNodeRun(n, item, unit.attempt, "failed", &o, o.truncated + "; continued in the next attempt");
      FollowUp(n, u, unit.joined, kContinueMessage, "answer_continued",
               json{{"continuation", unit.continuations}, {"reason", o.truncated}, {"bytes_so_far", unit.joined.size()}});
      return;
    }
    if (def.on_truncated != workflow::TruncatedPolicy::kAccept) {
      std::string msg = o.truncated;
      if (unit.continuations > 0) msg += " (still cut after " + std::to_string(unit.continuations) + " continuations)";
      RecordNodeRun(n, item, unit.attempt, "failed", &o, msg);
      unit.followup.clear(), unit.joined.clear(), unit.continuations = 0;
      UnitFailed(n, u, msg, false, -1);
      return;
    }
    std::string msg = "node " + Quote(def.id) + ": " + o.truncated + "; the cut answer is used (on_truncated: accept)";
    Warn(n, item, unit.attempt, msg);
  }
  if (!unit.joined.empty()) {
    text = unit.joined + text;
    value = text;
    Emit("answer_joined", n, item, unit.attempt,
         [&] { return json{{"parts", unit.continuations + 1}, {"bytes", text.size()}}; });
  }
  unit.joined.clear();
  unit.continuations = 0;

  if (def.output == workflow::OutputKind::kJson) {
    llm::JsonAnswer ans = ParseOutput(n, text);
    if (!ans.ok()) {
      RecordNodeRun(n, item, unit.attempt, "failed", &o, ans.error);
      int tries = unit.attempt - unit.attempt_base;
      if (tries < def.retry.attempts && !stopping_) {
        // Not the same prompt again: the model sees what it answered and what is wrong.
        FollowUp(n, u, text, RepairMessage(ans.error, def.schema), "repair_requested",
                 json{{"error", ans.error}, {"next_attempt", unit.attempt + 1}});
        return;
      }
      unit.followup.clear();
      UnitFailed(n, u, ans.error, false, -1);
      return;
    }
    if (!ans.repaired.empty())
      Emit("output_repaired", n, item, unit.attempt, [&] { return json{{"how", ans.repaired}}; });
    value = std::move(*ans.value);
  } else if (def.output == workflow::OutputKind::kDocument) {
    llm::DocumentAnswer doc = llm::FindDocument(text);
    if (!doc.repaired.empty())
      Emit("output_repaired", n, item, unit.attempt, [&] { return json{{"how", doc.repaired}}; });
    value = std::move(doc.text);
  }
  unit.followup.clear();
  RecordNodeRun(n, item, unit.attempt, "succeeded", &o, "");
  // A document is cached as it came and unwrapped on a hit: FindDocument is not idempotent.
  CacheResult(n, o,
              def.output == workflow::OutputKind::kDocument ? text
              : value.is_string()                          ? value.get<std::string>()
                                                           : value.dump());
  UnitSucceeded(n, u, std::move(value), o.cached);
}

}  // namespace sw::engine
