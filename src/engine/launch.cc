// Starting units of work: budget reservation, rendering, cache lookups and the per-kind
// launchers. Everything here runs on the dispatcher thread except the lambdas handed to
// providers, the pool and helper threads, which only build an Outcome and post it.
#include <algorithm>

#include "base/hash.h"
#include "base/strings.h"
#include "engine/agent.h"
#include "engine/runner.h"
#include "llm/finish.h"
#include "llm/replay.h"
#include "engine/scope.h"
#include "workflow/json_schema.h"

namespace sw::engine {

namespace {
constexpr double kBudgetWaitSeconds = 0.05;
}  // namespace

bool Runner::HasCapacity(int n) const {
  const NodeState& s = nodes_[n];
  if (running_units_ >= wf_->concurrency.global) return false;
  if (!s.provider.empty()) {
    auto cap = wf_->concurrency.per_provider.find(s.provider);
    if (cap != wf_->concurrency.per_provider.end()) {
      auto it = provider_running_.find(s.provider);
      if (it != provider_running_.end() && it->second >= cap->second) return false;
    }
  }
  const auto& def = wf_->nodes[n];
  if (def.map && def.map->max_parallel > 0 && s.units_running >= def.map->max_parallel) return false;
  return true;
}

void Runner::LaunchReady() {
  size_t count = launchable_.size();
  for (size_t i = 0; i < count && !launchable_.empty(); ++i) {
    if (running_units_ >= wf_->concurrency.global) break;
    auto [n, u] = launchable_.front();
    launchable_.pop_front();
    NodeState& s = nodes_[n];
    if (s.status != NodeStatus::kRunning || u >= static_cast<int>(s.units.size())) continue;
    Unit& unit = s.units[u];
    if (unit.done || unit.running) continue;
    if (!HasCapacity(n)) {
      launchable_.emplace_back(n, u);
      continue;
    }
    unit.queued = false;
    Prepared p;
    if (Prepare(n, u, &p)) to_launch_.push_back(std::move(p));
  }
}


bool Runner::Prepare(int n, int u, Prepared* p) {
  NodeState& s = nodes_[n];
  const auto& def = wf_->nodes[n];
  Unit& unit = s.units[u];
  int item = s.is_map ? u : -1;
  p->node = n;
  p->unit = u;
  RunScope scope(this, n, item);
  std::vector<std::string> missing;
  Status err;

  if (def.kind == workflow::NodeKind::kLlm) {
    std::string system = def.system ? RenderOr(*def.system->tmpl, scope, &missing, &err) : "";
    std::string prompt = def.prompt ? RenderOr(*def.prompt->tmpl, scope, &missing, &err) : "";
    if (!err.ok()) {
      NodeFailed(n, "rendering the prompt: " + err.message());
      return false;
    }
    llm::Request& req = p->request;
    if (!ResolveProvider(n, item, p)) return false;
    if (!system.empty()) req.messages.push_back(llm::Message{"system", system, {}, {}});
    req.messages.push_back(llm::Message{"user", prompt, {}, {}});
    // A repair turn or a continuation: the model's answer and what to do about it.
    for (const auto& m : unit.followup) req.messages.push_back(m);
    if (services_.store) {  // the cache lives in the store
      Hasher h;
      h.Add(def.definition_hash).Add(ModelOf(n, u)).Add(system).Add(prompt);
      if (item >= 0) h.Add(s.items[static_cast<size_t>(item)].dump());
      // A loop's later rounds never take an earlier round's answer: asking again is the point
      // of the loop. A re-run or a resume still finds each round's own answer.
      if (s.iteration > 0) h.Add("iteration").Add(std::to_string(s.iteration));
      p->cache_key = h.HexDigest();
    }
    // Names of nodes that have not produced output (skipped branches, a loop owner before its
    // first round) are empty by design; a missing field of a finished node is worth a warning.
    std::vector<std::string> suspicious;
    for (const auto& m : missing) {
      auto path = expr::ParsePath(m);
      if (path.ok() && path->size() >= 2 && path->at(0).key == "nodes") {
        auto it = wf_->index.find(path->at(1).key);
        if (it != wf_->index.end() && nodes_[it->second].status != NodeStatus::kSucceeded) continue;
      }
      suspicious.push_back(m);
    }
    missing = std::move(suspicious);
    if (!missing.empty() && unit.attempt == unit.attempt_base && unit.followup.empty()) {
      std::string msg = "node \"" + def.id + "\": template names resolved to nothing: " + Join(missing, ", ");
      Warn(n, item, 0, msg);
    }
    // A cached result from an identical earlier call costs nothing and starts no call.
    if (options_.use_cache && def.cache && services_.store && unit.followup.empty()) {
      auto hit = services_.store->GetCache(p->cache_key);
      if (hit.ok() && hit->has_value()) {
        auto blob = services_.store->GetBlob((*hit)->output_blob);
        if (blob.ok()) {
          json value = *blob;
          if (def.output == workflow::OutputKind::kJson) {
            auto parsed = ParseOutput(n, *blob);
            if (parsed.value) value = std::move(*parsed.value);
          } else if (def.output == workflow::OutputKind::kDocument) {
            value = llm::FindDocument(*blob).text;  // an answer cached as it came (after a cancel)
          }
          unit.attempt += 1;
          unit.started = services_.clock->WallNow();
          // The fingerprint lets an offline replay answer this request from the stored output.
          Emit("cache_hit", n, item, unit.attempt, [&] {
            return json{{"key", p->cache_key}, {"request_hash", llm::RequestFingerprint(p->request)}};
          });
          Outcome o;
          o.is_llm = true;
          o.cached = true;
          RecordNodeRun(n, item, unit.attempt, "succeeded", &o, "");
          UnitSucceeded(n, u, std::move(value), true);
          return false;
        }
      }
    }
    if (!Reserve(n, u, p)) return false;
  } else if (def.kind == workflow::NodeKind::kTool) {
    if (!run_tools_.Get(def.tool)) {
      std::string hint = DidYouMean(def.tool, run_tools_.Uris());
      NodeFailed(n, "no tool \"" + def.tool + "\" is registered" + (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
      return false;
    }
    json args = def.args;
    for (const auto& [ptr, t] : def.arg_templates) {
      std::string v = RenderOr(*t, scope, &missing, &err);
      if (!err.ok()) break;
      args[json::json_pointer(ptr)] = v;
    }
    if (!err.ok()) {
      NodeFailed(n, "rendering args: " + err.message());
      return false;
    }
    // The same check an agent's calls get: the tool's schema, before anything runs.
    // Lenient: a tool's schema valijson cannot use is left to the tool to enforce.
    std::vector<std::string> bad = jsonschema::Validate(run_tools_.Get(def.tool)->schema(), args, /*lenient=*/true);
    if (!bad.empty()) {
      if (bad.size() > 5) bad.resize(5);
      NodeFailed(n, "args of " + def.tool + " do not match its schema: " + Join(bad, "; "));
      return false;
    }
    p->args = std::move(args);
  } else if (def.kind == workflow::NodeKind::kHuman) {
    std::string msg = def.message ? RenderOr(*def.message->tmpl, scope, &missing, &err) : "Approve \"" + def.id + "\"?";
    p->args = json{{"message", msg}};
  } else if (def.kind == workflow::NodeKind::kWorkflow) {
    json with = json::object();
    for (const auto& [k, t] : def.with) with[k] = RenderOr(*t.tmpl, scope, &missing, &err);
    if (!err.ok()) {
      NodeFailed(n, "rendering with: " + err.message());
      return false;
    }
    p->args = std::move(with);
  } else if (def.kind == workflow::NodeKind::kAgent) {
    bool fresh = false;
    if (!PrepareAgent(n, u, p, &fresh)) return false;
    if (!fresh) {
      // The next model call of an agent run already under way: same attempt, same deadline.
      MarkRunning(n, u, p);
      return true;
    }
  } else {
    NodeFailed(n, std::string("node kind ") + workflow::NodeKindName(def.kind) + " is not supported yet");
    return false;
  }

  unit.attempt += 1;
  if (unit.agent) unit.agent->started = true;
  // Which attempt this call is: scripted and replayed answers play attempt by attempt.
  p->request.attempt = unit.attempt;
  unit.started = services_.clock->WallNow();
  unit.deadline = def.timeout > 0 ? services_.clock->Now() + def.timeout : kNever;
  unit.cancel = std::make_shared<std::atomic<bool>>(false);
  MarkRunning(n, u, p);
  Emit("attempt_started", n, item, unit.attempt, [&] {
    json d = json::object();
    if (!p->cache_key.empty()) d["cache_key"] = p->cache_key;
    if (p->reserved) d["reserved_usd"] = p->reservation.usd, d["reserved_tokens"] = p->reservation.tokens;
    return d;
  });
  RecordNodeRun(n, item, unit.attempt, "running", nullptr, "");
  return true;
}

void Runner::MarkRunning(int n, int u, Prepared* p) {
  NodeState& s = nodes_[n];
  Unit& unit = s.units[u];
  unit.token = next_token_++;
  unit.running = true;
  ++running_units_;
  ++s.units_running;
  if (!s.provider.empty()) ++provider_running_[s.provider];
  running_set_.insert({n, u});
  p->token = unit.token;
  p->attempt = unit.attempt;
}

bool Runner::ResolveProvider(int n, int item, Prepared* p) {
  const auto& def = wf_->nodes[n];
  llm::Request& req = p->request;
  req.temperature = def.model.temperature;
  req.stop = def.model.stop;
  req.json_output = def.output == workflow::OutputKind::kJson;
  req.run_id = run_id_;
  req.node_id = def.id;
  req.iteration = nodes_[n].iteration;
  req.item = item;
  int u = item >= 0 ? item : 0;
  for (;;) {
    Status ms = llm::SplitModel(ModelOf(n, u), &req.provider, &req.model);
    if (!ms.ok()) {
      NodeFailed(n, ms.message());
      return false;
    }
    if (services_.providers && services_.providers->Get(req.provider)) break;
    std::string hint = services_.providers ? DidYouMean(req.provider, services_.providers->Names()) : "";
    std::string why = "no provider \"" + req.provider + "\" is configured" +
                      (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)");
    // The unit is being prepared now: the next model is resolved in this same launch.
    if (!NextModel(n, u, why)) {
      NodeFailed(n, why);
      return false;
    }
  }
  p->provider_name = req.provider;
  return true;
}

void Runner::CacheResult(int n, const Outcome& o, const std::string& output) {
  const auto& def = wf_->nodes[n];
  if (o.cached || !services_.store || !def.cache || o.cache_key.empty()) return;
  store::CacheEntry ce;
  ce.key = o.cache_key;
  ce.output_blob = PutBlob(output);
  ce.node = def.id;
  ce.model = def.model.model;
  ce.tokens_in = o.usage.input;
  ce.tokens_out = o.usage.output;
  ce.cost_usd = o.cost.value_or(0);
  ce.created_at = services_.clock->WallNow();
  batch_.cache.push_back(std::move(ce));
}

std::optional<llm::Price> Runner::PriceOf(const std::string& provider, const std::string& model) {
  if (!services_.prices) return std::nullopt;
  std::string key = provider + "/" + model;
  auto it = prices_seen_.find(key);
  if (it == prices_seen_.end()) it = prices_seen_.emplace(key, services_.prices->Lookup(provider, model)).first;
  return it->second;
}

/// Reserve sets the call's max_tokens and reserves its worst case against the run's and the
/// node's budgets; false when the unit must wait (a retry timer is set) or the node failed.
bool Runner::Reserve(int n, int u, Prepared* p) {
  NodeState& s = nodes_[n];
  const auto& def = wf_->nodes[n];
  Unit& unit = s.units[u];
  int item = s.is_map ? u : -1;
  llm::Request& req = p->request;
  // Reserve the worst case before the call may start.
  auto price = PriceOf(req.provider, req.model);
  int64_t max_out = def.model.max_tokens.value_or(0);
  if (max_out <= 0) max_out = price && price->max_output_tokens > 0 ? price->max_output_tokens : 4096;
  req.max_tokens = max_out;
  int64_t in_tokens = llm::EstimateInputTokens(req);
  Reservation r;
  r.tokens = in_tokens + max_out;
  r.usd_known = price.has_value();
  r.usd = price ? llm::WorstCaseCost(in_tokens, max_out, *price) : 0;
  std::string warning;
  bool wait = false;
  std::string why = budget_->Reserve(r, &warning, &wait);
  bool run_level = !why.empty();
  if (run_level && wait) {
    // Only calls in flight stand in the way; they may come in under their worst case.
    // Look again shortly instead of failing a run that may well fit.
    unit.retry_at = services_.clock->Now() + kBudgetWaitSeconds;
    retry_timers_.emplace(unit.retry_at, std::make_pair(n, u));
    return false;
  }
  if (why.empty() && s.budget) {
    why = s.budget->Reserve(r, &warning);
    if (!why.empty()) budget_->Settle(r, 0, 0, true);
  }
  if (!warning.empty()) {
    warnings_.push_back(warning);
    Emit("budget_warning", n, item, 0, [&] { return json{{"message", warning}}; });
  }
  if (!why.empty()) {
    // A refused call is an attempt of its own, except inside an agent run already under way.
    if (!(unit.agent && unit.agent->started)) unit.attempt += 1;
    Emit("budget_refused", n, item, unit.attempt, [&] { return json{{"reason", why}}; });
    NodeFailed(n, why);
    if (run_level) StopRun("failed", why, false);
    return false;
  }
  p->reservation = r;
  p->reserved = true;
  return true;
}

json NeutralRequest(const llm::Request& r) {
  json msgs = json::array();
  for (const auto& m : r.messages) {
    json jm{{"role", m.role}, {"content", m.content}};
    if (!m.tool_calls.empty()) {
      json calls = json::array();
      for (const auto& tc : m.tool_calls) calls.push_back({{"id", tc.id}, {"name", tc.name}, {"arguments", tc.arguments_json}});
      jm["tool_calls"] = calls;
    }
    if (!m.tool_call_id.empty()) jm["tool_call_id"] = m.tool_call_id;
    msgs.push_back(std::move(jm));
  }
  json rq{{"model", r.provider + "/" + r.model}, {"messages", msgs}, {"max_tokens", r.max_tokens}};
  if (!r.tools.empty()) {
    json tools = json::array();
    for (const auto& t : r.tools) tools.push_back({{"name", t.name}, {"description", t.description}, {"parameters", t.parameters_json}});
    rq["tools"] = tools;
  }
  if (r.temperature) rq["temperature"] = *r.temperature;
  if (!r.stop.empty()) rq["stop"] = r.stop;
  if (r.json_output) rq["json"] = true;
  return rq;
}

namespace {
Completion MakeCompletion(const Prepared& p, int iteration, bool is_map) {
  Completion c;
  c.node = p.node;
  c.unit = p.unit;
  c.token = p.token;
  c.iteration = iteration;
  c.item = is_map ? p.unit : -1;
  c.attempt = p.attempt;
  c.reservation = p.reservation;
  c.reserved = p.reserved;
  return c;
}
}  // namespace

void Runner::Post(Prepared& p, Outcome o) {
  Completion c = MakeCompletion(p, nodes_[p.node].iteration, nodes_[p.node].is_map);
  c.outcome = std::move(o);
  {
    std::lock_guard<std::mutex> l(inbox_->mu);
    ++inbox_->outstanding;
  }
  inbox_->Push(std::move(c));
}

void Runner::Launch(Prepared& p) {
  switch (wf_->nodes[p.node].kind) {
    case workflow::NodeKind::kLlm: LaunchLlm(p); break;
    case workflow::NodeKind::kAgent:
      if (p.cached_turn) {
        // An identical earlier call answered this turn: no call, no cost.
        Outcome o;
        o.is_llm = true;
        o.cached = true;
        o.ok = true;
        o.value = p.cached_turn->value("text", "");
        for (const auto& tc : p.cached_turn->value("tool_calls", json::array()))
          o.tool_calls.push_back(llm::ToolCall{tc.value("id", ""), tc.value("name", ""), tc.value("arguments", ""),
                                               tc.value("provider_data", "")});
        o.cache_key = p.cache_key;
        o.request_hash = llm::RequestFingerprint(p.request);
        Post(p, std::move(o));
      } else {
        LaunchLlm(p);
      }
      break;
    case workflow::NodeKind::kTool: LaunchTool(p); break;
    case workflow::NodeKind::kHuman: LaunchHuman(p); break;
    case workflow::NodeKind::kWorkflow: LaunchWorkflow(p); break;
    default: break;
  }
}

void Runner::LaunchLlm(Prepared& p) {
  llm::Provider* provider = services_.providers->Get(p.provider_name);
  Completion c = MakeCompletion(p, nodes_[p.node].iteration, nodes_[p.node].is_map);
  auto price = PriceOf(p.request.provider, p.request.model);
  std::string request_json, request_hash;
  if (services_.store) {
    request_json = NeutralRequest(p.request).dump();
    request_hash = llm::RequestFingerprint(p.request);
  }
  Clock* clock = services_.clock;
  double t0 = clock->Now();
  double wall0 = clock->WallNow();
  auto inbox = inbox_;
  {
    std::lock_guard<std::mutex> l(inbox->mu);
    ++inbox->outstanding;
  }
  std::string cache_key = p.cache_key;
  std::string prov = p.provider_name, model = p.request.model;
  bool followup = !nodes_[p.node].units[static_cast<size_t>(p.unit)].followup.empty();
  // Streamed text goes to the live buffer, so the web UI can show a response as it arrives.
  llm::DeltaFn on_delta;
  if (services_.store) {
    LiveBuffer::Key key{wf_->nodes[p.node].id, c.iteration, c.item, c.attempt};
    on_delta = [live = live_, inbox, clock, key](std::string_view d) {
      bool wake = false;
      {
        std::lock_guard<std::mutex> l(live->mu);
        auto& e = live->calls[key];
        e.Append(d);
        e.dirty = live->dirty = true;
        double now = clock->Now();
        if (now - live->last_wake >= kLiveInterval) wake = true, live->last_wake = now;
      }
      if (wake) inbox->cv.notify_one();
    };
  }
  provider->Start(p.request, nodes_[p.node].units[p.unit].cancel, std::move(on_delta),
                  [inbox, c = std::move(c), price, clock, t0, wall0, record = services_.store != nullptr,
                   request_json = std::move(request_json),
                   request_hash = std::move(request_hash),
                   cache_key = std::move(cache_key), prov, model,
                   max_tokens = p.request.max_tokens, temperature = p.request.temperature,
                   followup](llm::CallResult r) mutable {
                    Outcome& o = c.outcome;
                    o.is_llm = true;
                    o.max_tokens = max_tokens;
                    o.temperature = temperature;
                    o.followup = followup;
                    o.provider = prov;
                    o.model = model;
                    o.started_at = wall0;
                    o.latency_ms = (clock->Now() - t0) * 1000;
                    o.request_json = std::move(request_json);
                    o.request_hash = std::move(request_hash);
                    o.cache_key = std::move(cache_key);
                    // The wire request and body as exchanged (secrets already replaced);
                    // the provider-neutral form when the provider has no wire format.
                    if (!r.request_raw.empty()) o.request_json = std::move(r.request_raw);
                    if (r.ok()) {
                      o.ok = true;
                      // One meaning per finish reason (llm/finish.h): a refusal, a filter or
                      // an overflowing context fails the call; a cut answer is the node's call.
                      if (auto v = llm::finish::FinishProblemOf(*r.response, max_tokens)) {
                        if (v->problem == llm::finish::Problem::kTruncated) {
                          o.truncated = v->message;
                        } else {
                          o.ok = false;
                          o.error = v->message;
                          o.retryable = v->retryable;
                          o.error_kind = "error";
                          o.error_type = r.response->finish_reason.empty() ? "_OTHER" : r.response->finish_reason;
                        }
                      }
                      o.usage = r.response->usage;
                      o.ttft_ms = r.response->ttft_ms;
                      o.answered_model = r.response->model;
                      o.response_id = r.response->id;
                      o.finish_reason = r.response->finish_reason;
                      // What offline replay answers with: only worth building when it is kept.
                      if (record) o.reply_json = llm::ReplyJson(*r.response);
                      o.response_raw = std::move(r.response->raw);
                      o.value = std::move(r.response->text);
                      o.tool_calls = std::move(r.response->tool_calls);
                    } else {
                      o.ok = false;
                      o.error = r.error.status.message();
                      o.retryable = r.error.retryable;
                      o.retry_after = r.error.retry_after;
                      o.usage = r.error.partial;
                      o.http_status = r.error.http_status;
                      o.response_raw = std::move(r.response_raw);
                      Code code = r.error.status.code();
                      o.error_kind = code == Code::kTimeout ? "timeout" : code == Code::kCancelled ? "cancelled" : "error";
                      o.error_type = llm::ErrorType(r.error);
                    }
                    // No usage reported: the cost is unknown (never $0.00), and the budget
                    // keeps the call's worst case (runner.cc, Settle).
                    if (r.ok() ? !r.response->usage_known : !r.error.usage_known) o.usage_unknown = true;
                    if (price && !o.usage_unknown) o.cost = llm::CostOf(o.usage, *price);
                    inbox->Push(std::move(c));
                  });
}

void Runner::LaunchTool(Prepared& p) {
  const auto& def = wf_->nodes[p.node];
  tools::Tool* tool = run_tools_.Get(def.tool);
  Completion c = MakeCompletion(p, nodes_[p.node].iteration, nodes_[p.node].is_map);
  tools::CallContext ctx = ToolContext(p.node, p.unit);
  auto inbox = inbox_;
  {
    std::lock_guard<std::mutex> l(inbox->mu);
    ++inbox->outstanding;
  }
  // Started on first use: most runs call no tools, and a thread per run is costly.
  if (!pool_) pool_ = std::make_unique<ThreadPool>(std::max(1, options_.blocking_threads));
  pool_->Submit([inbox, tool, ctx, args = std::move(p.args), c = std::move(c)]() mutable {
    auto r = tools::SafeCall(tool, args, ctx);
    if (r.ok()) {
      c.outcome.ok = true;
      c.outcome.value = std::move(r).value();
    } else {
      c.outcome.error = r.status().message();
      c.outcome.retryable = r.status().code() == Code::kUnavailable || r.status().code() == Code::kTimeout;
    }
    inbox->Push(std::move(c));
  });
}

namespace {
/// HumanOutcome is a person's answer as the node's outcome. A rejection fails an approve node,
/// unless the node owns a loop (`dialogue`): then it is the node's answer like any other,
/// {approved: false, text}, and the loop's `while` decides whether the work goes round again
/// with the person's words (a gate dialogue).
Outcome HumanOutcome(bool approve_mode, bool approved, const std::string& text, const std::string& by,
                     bool dialogue) {
  Outcome o;
  o.approval_by = by;
  if (approve_mode && !approved && dialogue) {
    o.ok = true;
    o.value = json{{"approved", false}, {"text", text}};
    return o;
  }
  if (approve_mode && !approved) {
    o.error = "rejected by " + by + (text.empty() ? "" : ": " + text);
    o.value = json{{"approved", false}, {"text", text}};
    return o;
  }
  o.ok = true;
  o.value = approve_mode ? json{{"approved", true}, {"text", text}} : json(text);
  return o;
}
}  // namespace

void Runner::LaunchHuman(Prepared& p) {
  const auto& def = wf_->nodes[p.node];
  const NodeState& s = nodes_[p.node];
  bool approve_mode = def.human_mode == workflow::HumanMode::kApprove;
  bool dialogue = def.loop.has_value();
  int item = s.is_map ? p.unit : -1;
  std::string message = p.args.value("message", "");
  if (options_.auto_approve) {
    Post(p, HumanOutcome(approve_mode, true, "", "auto", dialogue));
    return;
  }
  if (services_.store) {
    auto approvals = services_.store->ListApprovals(run_id_);
    if (approvals.ok()) {
      for (const auto& a : *approvals) {
        if (a.node == def.id && a.iteration == s.iteration && a.item == item && a.decision != "pending") {
          Post(p, HumanOutcome(approve_mode, a.decision != "rejected", a.text, a.by.empty() ? "cli" : a.by, dialogue));
          return;
        }
      }
    }
  }
  if (!options_.human) {
    Outcome o;
    o.waiting = true;
    o.error = message;
    Post(p, std::move(o));
    return;
  }
  Completion c = MakeCompletion(p, s.iteration, s.is_map);
  auto inbox = inbox_;
  {
    std::lock_guard<std::mutex> l(inbox->mu);
    ++inbox->outstanding;
  }
  // The question waits here for a person: say so, as a stopped run's gate does (the run
  // itself stays "running": its process is the one that takes the decision).
  bool first_wait = true;  // no other gate of this run waits on a person now
  for (const auto& n : nodes_) first_wait = first_wait && !n.awaiting_person;
  nodes_[p.node].awaiting_person = true;
  Emit("node_waiting", p.node, item, c.attempt, [&] { return json{{"message", message}, {"in_process", true}}; });
  RecordNodeRun(p.node, item, c.attempt, "waiting", nullptr, "");
  // A person elsewhere (approve, the UI) is needed: the observer (webhooks) says so now, not
  // when the run ends. The node's "waiting" record goes out with the next commit.
  if (services_.observer && options_.human_outside && options_.parent_run_id.empty() && first_wait)
    services_.observer->OnRunWaiting(*wf_, run_id_, {def.id});
  HumanRequest req{run_id_, def.id, approve_mode, message, nodes_[p.node].iteration,
                   nodes_[p.node].is_map ? p.unit : -1};
  threads_.emplace_back([inbox, fn = options_.human, req, approve_mode, dialogue, c = std::move(c)]() mutable {
    auto answer = fn(req);
    if (!answer) {
      c.outcome.waiting = true;
      c.outcome.error = req.message;
    } else {
      c.outcome = HumanOutcome(approve_mode, answer->approved, answer->text, answer->by, dialogue);
    }
    inbox->Push(std::move(c));
  });
}

// Runs on the sub-run's own thread: it reads only immutable run data (workflow, options,
// services, ids), never the dispatcher's node state.
Result<RunSummary> RunChild(Runner* parent, Prepared& p, const std::string& child_id,
                            std::shared_ptr<std::atomic<bool>> cancel) {
  const auto& def = parent->wf_->nodes[p.node];
  std::map<std::string, json> given;
  for (auto& [k, v] : p.args.items()) given[k] = v;
  SW_ASSIGN_OR_RETURN(json inputs, workflow::ResolveInputs(*def.sub, given));
  RunOptions co;
  co.inputs = std::move(inputs);
  co.use_cache = parent->options_.use_cache;
  co.session = parent->options_.session;  // a sub-run belongs to its parent's session
  co.auto_approve = parent->options_.auto_approve;
  co.human = parent->options_.human;
  co.default_max_calls = parent->options_.default_max_calls;
  // The unit's own flag: set by the parent on Ctrl-C, `specwright cancel` and run failure alike.
  co.cancel = std::move(cancel);
  co.run_id = child_id;
  co.parent_run_id = parent->run_id_;
  co.parent_budget = parent->budget_;
  co.store_poll_interval = parent->options_.store_poll_interval;
  co.blocking_threads = 2;
  // The sub-run works in its parent's workspace (set up before the parent's loop, never
  // changed after, so this thread may read it).
  co.workspace_root = parent->options_.workspace_root;
  if (parent->workspace_) {
    co.workspace_dir = parent->workspace_->dir;
    co.workspace_author_name = parent->workspace_->repo->author().name;
    co.workspace_author_email = parent->workspace_->repo->author().email;
  }
  if (parent->services_.store) {
    SW_ASSIGN_OR_RETURN(auto existing, parent->services_.store->GetRun(child_id));
    if (existing) {
      // The parent's resume already counted what this child's subtree paid before; report
      // only the spend of this resumption.
      Spend before;
      SW_ASSIGN_OR_RETURN(auto own, parent->services_.store->ListLlmCalls(child_id));
      for (const auto& c : own) before.Add(Spend{c.cost_usd.value_or(0), !c.cost_usd, c.tokens_in, c.tokens_out, 1});
      SW_ASSIGN_OR_RETURN(auto below, DescendantSpend(parent->services_.store, child_id));
      for (const auto& [n, sp] : below) before.Add(sp);
      SW_ASSIGN_OR_RETURN(RunSummary r, Resume(child_id, def.sub, parent->services_, std::move(co)));
      r.cost_usd -= before.usd;
      r.calls -= before.calls;
      r.tokens_in -= before.tokens_in;
      r.tokens_out -= before.tokens_out;
      return r;
    }
  }
  return Run(def.sub, parent->services_, std::move(co));
}

void Runner::LaunchWorkflow(Prepared& p) {
  Completion c = MakeCompletion(p, nodes_[p.node].iteration, nodes_[p.node].is_map);
  auto inbox = inbox_;
  {
    std::lock_guard<std::mutex> l(inbox->mu);
    ++inbox->outstanding;
  }
  const NodeState& s = nodes_[p.node];
  std::string child_id = run_id_ + "." + wf_->nodes[p.node].id;
  if (s.iteration > 0) child_id += ".i" + std::to_string(s.iteration);
  if (s.is_map) child_id += ".m" + std::to_string(p.unit);
  // The child run's dispatcher blocks for the whole sub-run, so it gets its own thread.
  auto cancel = s.units[p.unit].cancel;
  auto prepared = std::make_shared<Prepared>(std::move(p));
  threads_.emplace_back([this, inbox, prepared, child_id, cancel, c = std::move(c)]() mutable {
    auto r = RunChild(this, *prepared, child_id, cancel);
    Outcome& o = c.outcome;
    if (!r.ok()) {
      o.error = "sub-workflow: " + r.status().message();
    } else {
      o.sub_tokens_in = r->tokens_in;
      o.sub_tokens_out = r->tokens_out;
      o.sub_calls = r->calls;
      o.sub_cost = r->cost_usd;
      o.cost_unknown = r->cost_unknown;
      if (r->status == "succeeded") {
        o.ok = true;
        // No run id in the value: the output is content, so a re-run (cache) or replay of the
        // nodes reading it sees the same bytes; the sub-run is found by its parent_id.
        o.value = json{{"output", r->last_output}, {"nodes", r->outputs}};
      } else if (r->status == "waiting") {
        o.waiting = true;
        o.error = "sub-run " + r->run_id + " waits for approval of " + Join(r->waiting, ", ");
      } else {
        o.error = "sub-run " + r->run_id + " " + r->status + ": " + r->error;
      }
    }
    inbox->Push(std::move(c));
  });
}


}  // namespace sw::engine
