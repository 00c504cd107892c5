// The agent node: a model in a loop with tools, driven by the dispatcher. A turn is one model
// call (budgeted, retried, cached like any llm call); its tool calls run on the pool in
// parallel (calls on the same file, and around a shell command, in the order given); when
// every result is in, the next turn starts. max_turns, the node's budget and timeout, and the
// loop guard stop it.
#include "engine/agent.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <utility>

#include "base/hash.h"
#include "base/strings.h"
#include "engine/runner.h"
#include "engine/scope.h"
#include "workflow/json_schema.h"

namespace sw::engine {
namespace {

constexpr size_t kPreview = 300;  // characters of a result shown in events; the blob has all

std::string Canonical(const std::string& args) {
  json j = json::parse(args.empty() ? "{}" : args, nullptr, false);
  return j.is_discarded() ? args : j.dump();
}

std::string AsText(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string Preview(const std::string& s) {
  if (s.size() <= kPreview) return s;
  return s.substr(0, kPreview) + "... (" + std::to_string(s.size()) + " bytes)";
}

}  // namespace

Outcome AgentTotals(const AgentState& st) {
  Outcome o;
  o.usage.input = st.tokens_in;
  o.usage.output = st.tokens_out;
  o.cost = st.cost;
  o.cost_unknown = st.cost_unknown;
  o.sub_calls = st.model_calls;  // RecordNodeRun counts these as the row's calls
  return o;
}

std::string ModelToolName(const std::string& uri) {
  std::string rest = uri;
  if (size_t p = rest.find("://"); p != std::string::npos) rest = rest.substr(p + 3);
  std::string out;
  for (char c : rest) {
    if (c == '/') out += "__";
    else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-') out += c;
    else out += '_';
  }
  if (out.empty()) out = "tool";
  if (out.size() > 64) out = out.substr(0, 52) + "_" + Hash128Hex(uri).substr(0, 11);
  return out;
}

int RepeatingCycle(const std::vector<std::string>& sig) {
  for (size_t p = 2; p <= 8 && 2 * p <= sig.size(); ++p)
    if (std::equal(sig.end() - static_cast<std::ptrdiff_t>(p), sig.end(), sig.end() - static_cast<std::ptrdiff_t>(2 * p)))
      return static_cast<int>(p);
  return 0;
}

bool Runner::PrepareAgent(int n, int u, Prepared* p, bool* fresh) {
  NodeState& s = nodes_[n];
  const auto& def = wf_->nodes[n];
  Unit& unit = s.units[u];
  int item = s.is_map ? u : -1;
  *fresh = !unit.agent || !unit.agent->started;
  llm::Request& req = p->request;
  if (!ResolveProvider(n, item, p)) return false;
  if (!unit.agent) {
    RunScope scope(this, n, item);
    std::vector<std::string> missing;
    Status err;
    std::string system = def.system ? RenderOr(*def.system->tmpl, scope, &missing, &err) : "";
    std::string prompt = def.prompt ? RenderOr(*def.prompt->tmpl, scope, &missing, &err) : "";
    if (!err.ok()) {
      NodeFailed(n, "rendering the prompt: " + err.message());
      return false;
    }
    auto st = std::make_shared<AgentState>();
    if (!system.empty()) st->messages.push_back(llm::Message{"system", system, {}, {}});
    st->messages.push_back(llm::Message{"user", prompt, {}, {}});
    for (const auto& uri : def.tools) {
      std::vector<std::string> uris;
      if (uri.ends_with("/*")) {
        std::string prefix = uri.substr(0, uri.size() - 1);
        for (const auto& x : run_tools_.Uris())
          if (x.starts_with(prefix)) uris.push_back(x);
        if (uris.empty()) {
          NodeFailed(n, "no tool matches " + Quote(uri));
          return false;
        }
      } else if (!run_tools_.Get(uri)) {
        std::string hint = DidYouMean(uri, run_tools_.Uris());
        NodeFailed(n, "no tool " + Quote(uri) + " is registered" + (hint.empty() ? "" : " (did you mean " + Quote(hint) + "?)"));
        return false;
      } else {
        uris.push_back(uri);
      }
      for (const auto& x : uris) {
        std::string name = ModelToolName(x);
        while (st->uri_of.count(name) && st->uri_of[name] != x) name += "_";
        if (st->uri_of.count(name)) continue;
        st->uri_of[name] = x;
        tools::Tool* t = run_tools_.Get(x);
        st->specs.push_back(llm::ToolSpec{name, t->description(), t->schema().dump()});
      }
    }
    unit.tool_uris = std::make_shared<const std::map<std::string, std::string>>(st->uri_of);
    unit.agent = std::move(st);
  }
  AgentState& st = *unit.agent;
  req.messages = st.messages;
  req.tools = st.specs;
  req.attempt = unit.attempt;
  req.turn = st.turn + 1;
  if (services_.store) {
    Hasher h;
    h.Add("agent-turn/1").Add(def.definition_hash).Add(ModelOf(n, u)).Add(NeutralRequest(req).dump());
    if (s.iteration > 0) h.Add("iteration").Add(std::to_string(s.iteration));  // as for llm nodes
    p->cache_key = h.HexDigest();
  }
  // A turn this run already finished (before a crash) replays from the run's own journal,
  // cache or no cache: a resume never pays twice.
  if (auto it = turn_journal_.find(p->cache_key + ":" + std::to_string(item));
      !p->cache_key.empty() && it != turn_journal_.end()) {
    p->cached_turn = it->second;
    return true;
  }
  // An identical earlier request (the same conversation so far) answers from the cache:
  // a re-run agent replays its finished turns without paying for them again.
  if (options_.use_cache && def.cache && services_.store) {
    auto hit = services_.store->GetCache(p->cache_key);
    if (hit.ok() && hit->has_value()) {
      auto blob = services_.store->GetBlob((*hit)->output_blob);
      if (blob.ok()) {
        json turn = json::parse(*blob, nullptr, false);
        if (turn.is_object()) {
          p->cached_turn = std::move(turn);
          return true;
        }
      }
    }
  }
  return Reserve(n, u, p);
}

void Runner::AgentFail(int n, int u, const std::string& error) {
  NodeState& s = nodes_[n];
  Unit& unit = s.units[u];
  int item = s.is_map ? u : -1;
  if (unit.cancel) unit.cancel->store(true);  // tools still running for this turn stop
  ReleaseUnit(n, u);
  (void)item;
  UnitFailed(n, u, error, false, -1);  // records the attempt with what it spent
}

json TurnCalls(const std::vector<llm::ToolCall>& tool_calls, const std::map<std::string, std::string>& uri_of) {
  json calls = json::array();
  for (const auto& tc : tool_calls) {
    auto it = uri_of.find(tc.name);
    calls.push_back({{"id", tc.id}, {"name", tc.name}, {"arguments", tc.arguments_json},
                     {"tool", it == uri_of.end() ? "" : it->second}, {"provider_data", tc.provider_data}});
  }
  return calls;
}

void Runner::AgentModelDone(Completion& c) {
  int n = c.node, u = c.unit;
  NodeState& s = nodes_[n];
  const auto& def = wf_->nodes[n];
  Unit& unit = s.units[u];
  AgentState& st = *unit.agent;
  int item = s.is_map ? u : -1;
  Outcome& o = c.outcome;
  if (!o.ok) {
    ReleaseUnit(n, u);
    bool retry = o.retryable && st.call_tries + 1 < def.retry.attempts && !stopping_ && s.status == NodeStatus::kRunning;
    Emit("agent_call_failed", n, item, unit.attempt, [&] {
      return json{{"turn", st.turn + 1}, {"error", o.error}, {"retryable", o.retryable}, {"retry", retry}};
    });
    // Giving up on this model: the conversation goes on with the next one when this one
    // cannot serve, else the agent fails.
    auto give_up = [&](const std::string& msg) {
      if (IsUnavailable(o) && TryFallback(n, u, msg)) st.call_tries = 0;
      else AgentFail(n, u, msg);
    };
    if (retry && o.retry_after > def.retry.max_delay) {
      give_up(o.error + " (the provider asks to wait " + HumanDuration(o.retry_after) + ", longer than retry.max_delay " +
              HumanDuration(def.retry.max_delay) + ")");
      return;
    }
    if (!retry) {
      give_up("turn " + std::to_string(st.turn + 1) + ": " + o.error +
              (st.call_tries > 0 ? " (after " + std::to_string(st.call_tries + 1) + " tries)" : ""));
      return;
    }
    ++st.call_tries;
    double delay = std::max(o.retry_after, Jitter(BackoffCap(def.retry, st.call_tries + 1)));
    unit.retry_at = services_.clock->Now() + delay;
    retry_timers_.emplace(unit.retry_at, std::make_pair(n, u));
    return;
  }
  st.call_tries = 0;
  st.turn += 1;
  if (!o.cached) {
    st.tokens_in += o.usage.input;
    st.tokens_out += o.usage.output;
    st.cost += o.cost.value_or(0);
    if (!o.cached && !o.cost) st.cost_unknown = true;
    st.model_calls += 1;
  }
  std::string text = o.value.is_string() ? o.value.get<std::string>() : o.value.dump();
  json calls = TurnCalls(o.tool_calls, st.uri_of);
  if (!o.truncated.empty()) {
    // A cut turn may hold a half-written tool call: it is never cached, and it fails the
    // agent unless the node accepts cut answers.
    if (def.on_truncated != workflow::TruncatedPolicy::kAccept || !o.tool_calls.empty()) {
      AgentFail(n, u, "turn " + std::to_string(st.turn) + ": " + o.truncated);
      return;
    }
    std::string msg = "node " + Quote(def.id) + ": turn " + std::to_string(st.turn) + ": " + o.truncated +
                      "; the cut answer is used (on_truncated: accept)";
    Warn(n, item, unit.attempt, msg);
  }
  CacheResult(n, o, json{{"text", text}, {"tool_calls", calls}}.dump());
  Emit("agent_turn", n, item, unit.attempt, [&] {
    json d{{"turn", st.turn}, {"text", text}, {"tool_calls", calls}, {"cached", o.cached}};
    if (!o.cache_key.empty()) d["key"] = o.cache_key;  // the run's journal of finished turns
    if (o.cached && !o.request_hash.empty()) d["request_hash"] = o.request_hash;  // for offline replay
    if (!o.cached) d["usage"] = {{"input", o.usage.input}, {"output", o.usage.output}}, d["cost_usd"] = o.cost ? json(*o.cost) : json(nullptr);
    return d;
  });
  if (o.tool_calls.empty()) {
    // The final answer.
    ReleaseUnit(n, u);
    json value = text;
    if (def.output == workflow::OutputKind::kJson) {
      llm::JsonAnswer ans = ParseOutput(n, text);
      if (!ans.ok()) {
        // A repair turn in the same conversation, bounded by the node's attempts and max_turns.
        if (st.repairs + 1 < def.retry.attempts && st.turn < def.max_turns && !stopping_ &&
            s.status == NodeStatus::kRunning) {
          ++st.repairs;
          st.messages.push_back(llm::Message{"assistant", text, {}, ""});
          st.messages.push_back(llm::Message{"user", RepairMessage(ans.error, def.schema), {}, ""});
          Emit("repair_requested", n, item, unit.attempt, [&] { return json{{"turn", st.turn}, {"error", ans.error}}; });
          unit.queued = true;
          launchable_.emplace_back(n, u);
          return;
        }
        AgentFail(n, u, "the final answer: " + ans.error);
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
    Emit("agent_finished", n, item, unit.attempt, [&] { return json{{"turns", st.turn}}; });
    Outcome totals = AgentTotals(st);
    RecordNodeRun(n, item, unit.attempt, "succeeded", &totals, "");
    unit.agent.reset();
    UnitSucceeded(n, u, std::move(value), false);
    return;
  }
  if (st.turn >= def.max_turns) {
    AgentFail(n, u, "the agent used its max_turns (" + std::to_string(def.max_turns) +
                        " model calls) without a final answer; its last turn still asked for " +
                        o.tool_calls.front().name);
    return;
  }
  // The loop guard, part one: the same call with the same arguments, loop_guard times in a
  // row with the same result (running the tests again after a change is not a loop).
  for (const auto& tc : o.tool_calls) {
    std::string args = Canonical(tc.arguments_json);
    int times = st.repeats[tc.name + "\n" + args] + 1;
    if (times >= def.loop_guard) {
      auto it = st.uri_of.find(tc.name);
      AgentFail(n, u, "loop guard: " + (it == st.uri_of.end() ? tc.name : it->second) + " was called " +
                          std::to_string(times) + " times with the same arguments " + Preview(args) +
                          " and the same result each time; the agent is stopped (loop_guard: " +
                          std::to_string(def.loop_guard) + ")");
      return;
    }
  }
  st.messages.push_back(llm::Message{"assistant", text, o.tool_calls, ""});
  st.calls = o.tool_calls;
  size_t count = st.calls.size();
  st.results.assign(count, "");
  st.done.assign(count, false);
  st.pending = static_cast<int>(count);
  if (!pool_) pool_ = std::make_unique<ThreadPool>(std::max(1, options_.blocking_threads));
  ThreadPool* pool = pool_.get();
  // Calls run in parallel, except where the order the model gave them matters: calls naming
  // the same file (their `path` argument) run one after another (models send several edits of
  // one file in one turn; at once, the later edit would overwrite the earlier one), and a
  // shell command waits for every call before it and holds back every call after it (a
  // model writes files, then runs the build, in one turn).
  st.launch.assign(count, nullptr);
  st.after.assign(count, {});
  st.waits.assign(count, 0);
  {
    std::map<std::string, size_t> last;  // the latest call on each file
    std::optional<size_t> barrier;       // the latest shell command
    auto depend = [&](size_t before, size_t i) {
      st.after[before].push_back(static_cast<int>(i));
      ++st.waits[i];
    };
    for (size_t i = 0; i < count; ++i) {
      auto uri = st.uri_of.find(st.calls[i].name);
      if (uri != st.uri_of.end() && uri->second == "builtin://shell.run") {
        for (size_t k = barrier ? *barrier + 1 : 0; k < i; ++k) depend(k, i);
        if (barrier) depend(*barrier, i);
        barrier = i;
        continue;
      }
      if (barrier) depend(*barrier, i);
      json a = json::parse(st.calls[i].arguments_json.empty() ? "{}" : st.calls[i].arguments_json, nullptr, false);
      if (!a.is_object() || !a.contains("path") || !a["path"].is_string()) continue;
      std::string key = std::filesystem::path(a["path"].get<std::string>()).lexically_normal().generic_string();
      if (auto at = last.find(key); at != last.end() && (!barrier || at->second > *barrier)) depend(at->second, i);
      last[key] = i;
    }
  }
  auto inbox = inbox_;
  for (size_t i = 0; i < count; ++i) {
    const llm::ToolCall& tc = st.calls[i];
    auto it = st.uri_of.find(tc.name);
    tools::Tool* tool = it == st.uri_of.end() ? nullptr : run_tools_.Get(it->second);
    json args = json::parse(tc.arguments_json.empty() ? "{}" : tc.arguments_json, nullptr, false);
    Emit("tool_call", n, item, unit.attempt, [&] {
      return json{{"turn", st.turn}, {"call_id", tc.id}, {"name", tc.name},
                  {"tool", tool ? it->second : ""}, {"arguments", args.is_discarded() ? json(tc.arguments_json) : args}};
    });
    // Arguments are checked against the tool's schema before anything runs; a mistake goes
    // back to the model as the result, to correct.
    std::string refused;
    if (!tool) {
      std::vector<std::string> names;
      for (const auto& [k, v] : st.uri_of) names.push_back(k);
      refused = "there is no tool " + Quote(tc.name) + "; the tools are: " + Join(names, ", ");
    } else if (args.is_discarded()) {
      refused = "the arguments are not valid JSON: " + Preview(tc.arguments_json);
    } else {
      std::vector<std::string> errors = jsonschema::Validate(tool->schema(), args, /*lenient=*/true);
      if (errors.size() > 5) errors.resize(5);
      if (!errors.empty()) refused = "invalid arguments: " + Join(errors, "; ");
    }
    Completion done;
    done.node = n;
    done.unit = u;
    done.token = unit.token;
    done.iteration = s.iteration;
    done.item = item;
    done.attempt = unit.attempt;
    done.outcome.agent_call = static_cast<int>(i);
    tools::CallContext ctx = ToolContext(n, u);
    ctx.turn = st.turn;
    ctx.call = static_cast<int>(i);
    st.launch[i] = [pool, inbox, tool, args, refused, ctx = std::move(ctx), done = std::move(done)]() mutable {
      {
        std::lock_guard<std::mutex> l(inbox->mu);
        ++inbox->outstanding;
      }
      if (!refused.empty()) {
        done.outcome.error = refused;
        inbox->Push(std::move(done));
        return;
      }
      pool->Submit([inbox, tool, args, ctx = std::move(ctx), done = std::move(done)]() mutable {
        auto r = tools::SafeCall(tool, args, ctx);
        if (r.ok()) {
          done.outcome.ok = true;
          done.outcome.value = std::move(r).value();
        } else {
          done.outcome.error = r.status().message();
        }
        inbox->Push(std::move(done));
      });
    };
  }
  for (size_t i = 0; i < count; ++i)
    if (st.waits[i] == 0) std::exchange(st.launch[i], nullptr)();
}

void Runner::AgentToolDone(Completion& c) {
  int n = c.node, u = c.unit;
  NodeState& s = nodes_[n];
  Unit& unit = s.units[u];
  if (!unit.agent) return;
  AgentState& st = *unit.agent;
  size_t i = static_cast<size_t>(c.outcome.agent_call);
  if (i >= st.calls.size() || st.done[i]) return;
  const Outcome& o = c.outcome;
  std::string result = o.ok ? AsText(o.value) : "error: " + o.error;
  st.results[i] = result;
  st.done[i] = true;
  --st.pending;
  // The calls that waited for this one start when nothing else holds them back.
  if (i < st.after.size())
    for (int d : st.after[i])
      if (--st.waits[static_cast<size_t>(d)] == 0)
        if (auto launch = std::exchange(st.launch[static_cast<size_t>(d)], nullptr)) launch();
  auto it = st.uri_of.find(st.calls[i].name);
  Emit("tool_result", n, s.is_map ? u : -1, unit.attempt, [&] {
    return json{{"turn", st.turn}, {"call_id", st.calls[i].id}, {"tool", it == st.uri_of.end() ? "" : it->second},
                {"ok", o.ok}, {"bytes", result.size()}, {"blob", PutBlob(result)}, {"preview", Preview(result)}};
  });
  if (st.pending == 0) AgentNextTurn(n, u);
}

void Runner::AgentNextTurn(int n, int u) {
  NodeState& s = nodes_[n];
  Unit& unit = s.units[u];
  AgentState& st = *unit.agent;
  Hasher h;
  std::vector<std::string> names;
  for (size_t i = 0; i < st.calls.size(); ++i) {
    st.messages.push_back(llm::Message{"tool", st.results[i], {}, st.calls[i].id});
    h.Add(st.calls[i].name).Add(Canonical(st.calls[i].arguments_json)).Add(st.results[i]);
    names.push_back(st.calls[i].name);
    std::string key = st.calls[i].name + "\n" + Canonical(st.calls[i].arguments_json);
    std::string result_hash = Hash128Hex(st.results[i]);
    if (st.last_result.count(key) && st.last_result[key] == result_hash) {
      ++st.repeats[key];
    } else {
      st.repeats[key] = 1;
      st.last_result[key] = result_hash;
    }
  }
  st.turn_signatures.push_back(h.HexDigest());
  // The loop guard, part two: a cycle of turns that brings back exactly what it brought before.
  if (int period = RepeatingCycle(st.turn_signatures)) {
    AgentFail(n, u, "loop guard: the last " + std::to_string(period) + " turns repeated the " + std::to_string(period) +
                        " before them with the same results, so nothing new was learnt (last calls: " +
                        Join(names, ", ") + ")");
    return;
  }
  st.calls.clear();
  st.results.clear();
  st.done.clear();
  ReleaseUnit(n, u);
  if (stopping_ || s.status != NodeStatus::kRunning) return;
  unit.queued = true;
  launchable_.emplace_back(n, u);
}

}  // namespace sw::engine
