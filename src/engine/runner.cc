#include "engine/agent.h"
#include "engine/runner.h"
#include "engine/replay.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "base/hash.h"
#include "base/ids.h"
#include "base/strings.h"
#include "base/subprocess.h"
#include "engine/scope.h"

namespace sw::engine {

const char* StatusName(NodeStatus s) {
  switch (s) {
    case NodeStatus::kPending: return "pending";
    case NodeStatus::kRunning: return "running";
    case NodeStatus::kWaiting: return "waiting";
    case NodeStatus::kSucceeded: return "succeeded";
    case NodeStatus::kFailed: return "failed";
    case NodeStatus::kSkipped: return "skipped";
  }
  return "?";
}

double BackoffCap(const workflow::RetryPolicy& p, int next_attempt) {
  double cap = p.backoff * std::pow(2.0, std::max(0, next_attempt - 2));
  return std::min(cap, p.max_delay);
}

double Jitter(double cap) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  if (cap <= 0) return 0;
  return std::uniform_real_distribution<double>(0, cap)(rng);
}

Runner::Runner(std::shared_ptr<const workflow::Workflow> wf, const Services& services, RunOptions options)
    : wf_(std::move(wf)), services_(services), options_(std::move(options)), inbox_(std::make_shared<Inbox>()) {
  nodes_.resize(wf_->nodes.size());
  for (size_t i = 0; i < wf_->nodes.size(); ++i) {
    const auto& def = wf_->nodes[i];
    for (const auto& need : def.needs) {
      int d = wf_->index.at(need);
      nodes_[i].deps.push_back(d);
      nodes_[static_cast<size_t>(d)].dependents.push_back(static_cast<int>(i));
    }
  }
  workflow::Budget b = wf_->budget;
  if (!b.max_calls) b.max_calls = options_.default_max_calls;
  budget_ = std::make_shared<BudgetAccount>("run budget", b, options_.parent_budget);
  for (size_t i = 0; i < wf_->nodes.size(); ++i) {
    const auto& nb = wf_->nodes[i].budget;
    if (nb.max_usd || nb.max_tokens || nb.max_calls)
      nodes_[i].budget = std::make_shared<BudgetAccount>("node \"" + wf_->nodes[i].id + "\" budget", nb, nullptr);
  }
}

Runner::~Runner() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

Result<RunSummary> Runner::Start() {
  // Before the first event: its progress's elapsed is measured from here (not from the
  // monotonic clock's origin, which is the machine's uptime).
  started_at_ = services_.clock->Now();
  run_id_ = options_.run_id.empty() ? NewRunId(services_.clock->WallNow()) : options_.run_id;
  SW_RETURN_IF_ERROR(ValidateRunId(run_id_));
  if (services_.store) {
    SW_ASSIGN_OR_RETURN(auto existing, services_.store->GetRun(run_id_));
    if (existing) return InvalidInput("run " + run_id_ + " already exists");
  }
  run_.id = run_id_;
  run_.parent_id = options_.parent_run_id;
  run_.workflow_file = wf_->file;
  run_.workflow_name = wf_->name;
  run_.workflow_hash = wf_->source_hash;
  run_.status = "running";
  run_.created_at = services_.clock->WallNow();
  run_.inputs_json = options_.inputs.dump();
  run_.options_json = options_.record_options.dump();
  run_.session = options_.session;
  run_.label = options_.label;
  run_.pid = ProcessId();
  run_.nodes_total = static_cast<int64_t>(nodes_.size());
  if (services_.store) batch_.run = run_;  // a copy only worth making to write it
  Emit("run_started", -1, -1, 0, [&] {
    json d{{"workflow", wf_->file}, {"name", wf_->name}, {"hash", wf_->source_hash}, {"inputs", options_.inputs}};
    if (!options_.reuse_from.empty()) d["replay_of"] = options_.reuse_from;
    json b = json::object();
    if (wf_->budget.max_usd) b["max_usd"] = *wf_->budget.max_usd;
    if (wf_->budget.max_tokens) b["max_tokens"] = *wf_->budget.max_tokens;
    if (wf_->budget.max_calls) b["max_calls"] = *wf_->budget.max_calls;
    b["max_calls_default"] = options_.default_max_calls;
    d["budget"] = b;
    return d;
  });
  // What each node was, so a later replay can tell which nodes changed since.
  Emit("definitions", -1, -1, 0, [&] { return json{{"blob", PutBlob(DefinitionsJson(*wf_).dump())}}; });
  if (!options_.reuse_from.empty()) {
    Status rs = LoadReuse();
    if (!rs.ok()) return rs;
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    nodes_[i].pending_deps = static_cast<int>(nodes_[i].deps.size());
    if (nodes_[i].pending_deps == 0) ready_.push_back(static_cast<int>(i));
  }
  Status setup = SetUpRun(nullptr);
  if (!setup.ok()) StopRun("failed", setup.message(), false);
  return Loop();
}

Result<RunSummary> Runner::Resume(const std::string& run_id) {
  if (!services_.store) return InvalidInput("resume needs a store");
  started_at_ = services_.clock->Now();
  run_id_ = run_id;
  SW_ASSIGN_OR_RETURN(auto rec, services_.store->GetRun(run_id));
  if (!rec) return NotFound("no run " + run_id);
  run_ = *rec;
  SW_ASSIGN_OR_RETURN(auto events, services_.store->ListEvents(run_id));
  SW_RETURN_IF_ERROR(Restore(events));
  if (!options_.reuse_from.empty()) SW_RETURN_IF_ERROR(LoadReuse());  // a replay goes on reusing
  run_.status = "running";
  run_.finished_at = 0;
  run_.error.clear();
  run_.pid = ProcessId();
  run_.cancel_requested = false;
  if (services_.store) batch_.run = run_;  // a copy only worth making to write it
  Emit("run_resumed", -1, -1, 0, [&] { return json{{"pid", ProcessId()}}; });
  Status setup = SetUpRun(&events);
  if (!setup.ok()) StopRun("failed", setup.message(), false);
  return Loop();
}

void Runner::Warn(int n, int item, int attempt, const std::string& msg) {
  warnings_.push_back(msg);
  Emit("warning", n, item, attempt, [&] { return json{{"message", msg}}; });
}

void Runner::Emit(const char* type, int n, int item, int attempt, const std::function<json()>& data) {
  if (replaying_) return;
  if (services_.store) {
    store::Event e;
    e.run_id = run_id_;
    e.ts = services_.clock->WallNow();
    e.type = type;
    if (n >= 0) {
      e.node = wf_->nodes[static_cast<size_t>(n)].id;
      e.iteration = nodes_[static_cast<size_t>(n)].iteration;
    }
    e.item = item;
    e.attempt = attempt;
    // Model text cut at a byte count may end inside a UTF-8 character: replace, never throw.
    e.data = data().dump(-1, ' ', false, json::error_handler_t::replace);
    batch_.events.push_back(std::move(e));
  }
  if (options_.listener) {
    LiveEvent le;
    le.type = type;
    if (n >= 0) {
      le.node = wf_->nodes[static_cast<size_t>(n)].id;
      le.iteration = nodes_[static_cast<size_t>(n)].iteration;
    }
    le.item = item;
    le.attempt = attempt;
    if (n >= 0) le.message = nodes_[static_cast<size_t>(n)].error;
    options_.listener->OnEvent(le, Snapshot());
  }
}

std::string Runner::PutBlob(const std::string& data) {
  // Without a store nothing can ever read a blob back: no hash to compute.
  if (!services_.store) return "";
  std::string h = Hash128Hex(data);
  if (services_.store && !replaying_) batch_.blobs.emplace_back(h, data);
  return h;
}

void Runner::RecordNodeRun(int n, int item, int attempt, const char* status, const Outcome* o,
                           const std::string& error) {
  if (!services_.store || replaying_) return;
  const NodeState& s = nodes_[static_cast<size_t>(n)];
  store::NodeRunRecord r;
  r.run_id = run_id_;
  r.node = wf_->nodes[static_cast<size_t>(n)].id;
  r.iteration = s.iteration;
  r.item = item;
  r.attempt = attempt;
  r.status = status;
  const Unit& u = s.units[static_cast<size_t>(std::max(0, item))];
  r.started_at = u.started;
  if (std::string_view(status) != "running") r.finished_at = services_.clock->WallNow();
  r.error = error;
  r.model = wf_->nodes[static_cast<size_t>(n)].model.model;
  if (o) {
    r.tokens_in = o->usage.input + o->sub_tokens_in;
    r.tokens_out = o->usage.output + o->sub_tokens_out;
    r.cost_usd = o->cost.value_or(0) + o->sub_cost;
    r.calls = (o->is_llm && !o->cached ? 1 : 0) + o->sub_calls;
    r.cached = o->cached;
    r.cost_unknown = (o->is_llm && !o->cached && !o->cost) || o->cost_unknown;
  }
  batch_.node_runs.push_back(std::move(r));
}

Progress Runner::Snapshot() const {
  Progress p;
  p.run_id = run_id_;
  p.total = static_cast<int>(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const NodeState& s = nodes_[i];
    const auto& def = wf_->nodes[i];
    // A node a loop runs again that succeeded in an earlier round stays counted, so the count
    // of succeeded nodes never goes backwards while a loop goes round.
    bool again = s.status == NodeStatus::kPending || s.status == NodeStatus::kRunning || s.status == NodeStatus::kWaiting;
    if (again && s.succeeded_before) ++p.succeeded;
    if (!again || s.finished_before) ++p.done;
    if (def.loop && s.loops > 0 && again) p.loops.push_back({def.id, s.loops + 1, def.loop->max_iterations});
    if (s.status == NodeStatus::kRunning && s.is_map && !s.units.empty())
      p.maps.push_back({def.id, s.units_done, s.units_running, static_cast<int>(s.units.size())});
    if (s.awaiting_person && s.status == NodeStatus::kRunning) {
      ++p.waiting;
      continue;
    }
    switch (s.status) {
      case NodeStatus::kRunning: ++p.running; break;
      case NodeStatus::kWaiting: ++p.waiting; break;
      case NodeStatus::kSucceeded: ++p.succeeded; break;
      case NodeStatus::kFailed: ++p.failed; break;
      case NodeStatus::kSkipped: ++p.skipped; break;
      default: break;
    }
  }
  p.tokens = tokens_in_ + tokens_out_;
  p.calls = calls_;
  p.cost_usd = cost_;
  p.elapsed = services_.clock->Now() - started_at_;
  return p;
}

Result<RunSummary> Runner::Loop() {
  std::deque<Completion> got;
  for (;;) {
    {
      std::lock_guard<std::mutex> l(inbox_->mu);
      got.swap(inbox_->items);
    }
    for (auto& c : got) HandleCompletion(std::move(c));
    got.clear();
    if (options_.cancel && options_.cancel->load() && !stopping_)
      StopRun("cancelled", "cancelled by the user", true);
    PollStore();
    while (!ready_.empty()) {
      int n = ready_.front();
      ready_.pop_front();
      Decide(n);
    }
    CheckTimers();
    LaunchReady();
    FlushLive(false);
    Status s = Flush();
    if (!s.ok()) {
      fatal_ = s;
      StopRun("failed", "store write failed: " + s.message(), true);
      batch_.clear();
    }
    for (auto& p : to_launch_) Launch(p);
    to_launch_.clear();

    std::unique_lock<std::mutex> l(inbox_->mu);
    if (!inbox_->items.empty()) continue;
    bool active = running_units_ > 0 || !ready_.empty() || !launchable_.empty() || !retry_timers_.empty();
    if (!active) break;
    double deadline = kNever;
    if (!retry_timers_.empty()) deadline = retry_timers_.begin()->first;
    for (auto [n, u] : running_set_) deadline = std::min(deadline, nodes_[n].units[u].deadline);
    if (services_.store && options_.store_poll_interval > 0)
      deadline = std::min(deadline, last_poll_ + options_.store_poll_interval);
    if (options_.cancel) deadline = std::min(deadline, services_.clock->Now() + 0.1);
    if (services_.store) {
      std::lock_guard<std::mutex> ll(live_->mu);
      if (live_->dirty) deadline = std::min(deadline, last_live_write_ + kLiveInterval);
    }
    if (!launchable_.empty() && running_units_ == 0 && retry_timers_.empty() && ready_.empty()) {
      // Nothing can make room: every launchable unit was refused (should not happen).
      break;
    }
    services_.clock->WaitUntil(inbox_->cv, l, deadline);
  }

  ShutDownRun();
  // After a stop, nothing may stay "running" or "pending" in the record.
  if (stopping_) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].status == NodeStatus::kRunning && nodes_[i].units_running == 0)
        NodeFailed(static_cast<int>(i), "run stopped: " + stop_reason_);
      else if (nodes_[i].status == NodeStatus::kPending)
        NodeSkipped(static_cast<int>(i), "run stopped: " + stop_reason_, false);
    }
  }
  std::string status;
  std::string error;
  int waiting = 0, failed = 0;
  for (const auto& s : nodes_) {
    if (s.status == NodeStatus::kWaiting) ++waiting;
    if (s.status == NodeStatus::kFailed) ++failed;
  }
  if (stopping_) {
    status = stop_status_;
    error = stop_reason_;
  } else if (failed > 0) {
    status = "failed";
    for (size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i].status == NodeStatus::kFailed) {
        error = "node \"" + wf_->nodes[i].id + "\" failed: " + nodes_[i].error;
        break;
      }
  } else if (waiting > 0) {
    status = "waiting";
  } else {
    status = "succeeded";
  }
  // Let abandoned calls (timed out or cancelled) report, so their spend is recorded.
  double give_up = services_.clock->Now() + 10;
  for (;;) {
    std::unique_lock<std::mutex> l(inbox_->mu);
    if (inbox_->items.empty() && (inbox_->outstanding == 0 || services_.clock->Now() >= give_up)) break;
    if (inbox_->items.empty()) {
      services_.clock->WaitUntil(inbox_->cv, l, std::min(give_up, services_.clock->Now() + 0.05));
      continue;
    }
    got.swap(inbox_->items);
    l.unlock();
    for (auto& c : got) HandleCompletion(std::move(c));
    got.clear();
  }
  run_.status = status;
  run_.error = error;
  run_.finished_at = status == "waiting" ? 0 : services_.clock->WallNow();
  Emit("run_finished", -1, -1, 0, [&] { return json{{"status", status}, {"error", error}}; });
  if (services_.store) {
    store::LiveText all;
    all.run_id = run_id_;
    all.done = true;
    batch_.live.push_back(all);
  }
  RunSummary summary = Summarize();
  if (services_.store) batch_.run = run_;  // a copy only worth making to write it
  Status fs = Flush();
  if (!fs.ok() && fatal_.ok()) fatal_ = fs;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  if (!fatal_.ok()) return fatal_;
  return summary;
}

void Runner::FlushLive(bool force) {
  if (!services_.store) return;
  double now = services_.clock->Now();
  if (!force && now - last_live_write_ < kLiveInterval) return;
  std::lock_guard<std::mutex> l(live_->mu);
  if (!live_->dirty) return;
  live_->dirty = false;
  last_live_write_ = now;
  for (auto& [key, e] : live_->calls) {
    if (!e.dirty) continue;
    e.dirty = false;
    e.stored = true;
    store::LiveText t;
    t.run_id = run_id_;
    t.node = key.node;
    t.iteration = key.iteration;
    t.item = key.item;
    t.attempt = key.attempt;
    t.text = e.Shown();
    t.updated_at = services_.clock->WallNow();
    batch_.live.push_back(std::move(t));
  }
}

Status Runner::Flush() {
  if (!services_.store) {
    batch_.clear();
    return Status::Ok();
  }
  double now = services_.clock->Now();
  if (!batch_.run && (batch_.events.size() > 0) && now - last_run_write_ > 0.5) {
    batch_.run = run_;
  }
  if (batch_.run) {
    batch_.run->tokens_in = tokens_in_;
    batch_.run->tokens_out = tokens_out_;
    batch_.run->calls = calls_;
    batch_.run->cost_usd = cost_;
    batch_.run->cost_unknown = cost_unknown_;
    Progress p = Snapshot();
    batch_.run->nodes_succeeded = p.succeeded;
    batch_.run->nodes_failed = p.failed;
    batch_.run->nodes_skipped = p.skipped;
    last_run_write_ = now;
  }
  if (batch_.empty()) return Status::Ok();
  Status s = services_.store->Commit(batch_);
  batch_.clear();
  return s;
}

void Runner::PollStore() {
  if (!services_.store || stopping_ || options_.store_poll_interval <= 0) return;
  double now = services_.clock->Now();
  if (now - last_poll_ < options_.store_poll_interval) return;
  last_poll_ = now;
  auto r = services_.store->CancelRequested(run_id_);
  if (r.ok() && *r) StopRun("cancelled", "cancelled by `specwright cancel`", true);
}

void Runner::StopRun(const std::string& status, const std::string& reason, bool cancel_inflight) {
  if (stopping_) return;
  stopping_ = true;
  stop_status_ = status;
  stop_reason_ = reason;
  Emit("run_stopping", -1, -1, 0, [&] { return json{{"status", status}, {"reason", reason}}; });
  launchable_.clear();
  retry_timers_.clear();
  if (!cancel_inflight) return;
  auto running = running_set_;
  for (auto [n, u] : running) {
    Unit& unit = nodes_[n].units[u];
    if (unit.cancel) unit.cancel->store(true);
    ReleaseUnit(n, u);
    Emit("attempt_cancelled", n, nodes_[n].is_map ? u : -1, unit.attempt, [] { return json::object(); });
    RecordNodeRun(n, nodes_[n].is_map ? u : -1, unit.attempt, "cancelled", nullptr, reason);
    if (nodes_[n].status == NodeStatus::kRunning) NodeFailed(n, "cancelled: " + reason);
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].status == NodeStatus::kRunning && nodes_[i].units_running == 0) {
      NodeFailed(static_cast<int>(i), "cancelled: " + reason);
    } else if (nodes_[i].status == NodeStatus::kWaiting && status == "cancelled") {
      NodeFailed(static_cast<int>(i), "cancelled: " + reason);
    }
  }
}

void Runner::ReleaseUnit(int n, int u) {
  NodeState& s = nodes_[n];
  Unit& unit = s.units[u];
  if (!unit.running) return;
  unit.running = false;
  unit.token = 0;
  --running_units_;
  --s.units_running;
  if (!s.provider.empty()) --provider_running_[s.provider];
  running_set_.erase({n, u});
}

void Runner::CheckTimers() {
  double now = services_.clock->Now();
  while (!retry_timers_.empty() && retry_timers_.begin()->first <= now) {
    auto [n, u] = retry_timers_.begin()->second;
    retry_timers_.erase(retry_timers_.begin());
    Unit& unit = nodes_[n].units[u];
    unit.retry_at = -1;
    if (nodes_[n].status == NodeStatus::kRunning && !unit.done && !unit.running) {
      unit.queued = true;
      launchable_.emplace_back(n, u);
    }
  }
  std::vector<std::pair<int, int>> expired;
  for (auto [n, u] : running_set_)
    if (nodes_[n].units[u].deadline <= now) expired.emplace_back(n, u);
  for (auto [n, u] : expired) {
    Unit& unit = nodes_[n].units[u];
    if (unit.cancel) unit.cancel->store(true);
    ReleaseUnit(n, u);
    // A model that does not answer in the node's time is unavailable to it.
    unit.unavailable = wf_->nodes[n].kind == workflow::NodeKind::kLlm;
    UnitFailed(n, u, "timed out after " + HumanDuration(wf_->nodes[n].timeout), true, -1);
  }
}

void Runner::Decide(int n) {
  NodeState& s = nodes_[n];
  const auto& def = wf_->nodes[n];
  if (s.status != NodeStatus::kPending) return;
  if (stopping_) {
    NodeSkipped(n, "run stopped: " + stop_reason_, false);
    return;
  }
  bool all_skipped = !s.deps.empty();
  for (int d : s.deps) {
    const NodeState& ds = nodes_[d];
    if (ds.status == NodeStatus::kFailed || (ds.status == NodeStatus::kSkipped && ds.failed_by_dep)) {
      NodeSkipped(n, "dependency \"" + wf_->nodes[d].id + "\" " + (ds.status == NodeStatus::kFailed ? "failed" : "was skipped because of a failure"), true);
      return;
    }
    if (ds.status != NodeStatus::kSkipped) all_skipped = false;
  }
  if (all_skipped) {
    NodeSkipped(n, "all its dependencies were skipped", false);
    return;
  }
  if (def.when) {
    RunScope scope(this, n, -1);
    auto r = def.when->expr->EvalBool(scope);
    if (!r.ok()) {
      NodeFailed(n, "when: " + r.status().message());
      return;
    }
    if (!*r) {
      NodeSkipped(n, "condition is false: " + def.when->expr->source(), false);
      return;
    }
  }
  if (TryReuse(n)) return;
  StartNode(n);
}

Status Runner::LoadReuse() {
  if (!services_.store) return InvalidInput("replay needs a store");
  SW_ASSIGN_OR_RETURN(auto done, services_.store->ListEventsOfType(options_.reuse_from, "node_succeeded"));
  for (const auto& e : done) {
    json d = json::parse(e.data, nullptr, false);
    if (!d.is_object() || !d.contains("blob") || !d["blob"].is_string()) continue;
    bool is_json = d.contains("json") && d["json"].is_boolean() && d["json"].get<bool>();
    reusable_[{e.node, e.iteration}] = {d["blob"].get<std::string>(), is_json};
  }
  return Status::Ok();
}

bool Runner::TryReuse(int n) {
  if (reusable_.empty()) return false;
  NodeState& s = nodes_[n];
  const auto& def = wf_->nodes[n];
  auto allowed = options_.reuse.find(def.id);
  if (allowed == options_.reuse.end() || s.iteration > allowed->second) return false;
  auto it = reusable_.find({def.id, s.iteration});
  if (it == reusable_.end()) return false;
  auto blob = services_.store->GetBlob(it->second.first);
  if (!blob.ok()) return false;
  json value = std::move(blob).value();
  if (it->second.second) {
    value = json::parse(value.get<std::string>(), nullptr, false);
    if (value.is_discarded()) return false;
  }
  s.status = NodeStatus::kRunning;
  s.started_at = services_.clock->WallNow();
  s.error.clear();
  s.is_map = false;
  s.items.clear();
  s.units.clear();
  s.output = std::move(value);
  s.cached = true;
  Emit("node_started", n, -1, 0, [] { return json::object(); });
  Emit("reused", n, -1, 0, [&] { return json{{"from", options_.reuse_from}, {"blob", it->second.first}}; });
  if (services_.store) {
    store::NodeRunRecord r;
    r.run_id = run_id_;
    r.node = def.id;
    r.iteration = s.iteration;
    r.attempt = 1;
    r.status = "succeeded";
    r.started_at = r.finished_at = s.started_at;
    r.model = def.model.model;
    r.cached = true;
    batch_.node_runs.push_back(std::move(r));
  }
  NodeSucceeded(n);
  return true;
}

void Runner::StartNode(int n) {
  NodeState& s = nodes_[n];
  const auto& def = wf_->nodes[n];
  s.status = NodeStatus::kRunning;
  s.started_at = services_.clock->WallNow();
  s.error.clear();
  s.units_done = 0;
  s.units_running = 0;
  s.provider.clear();
  if (def.kind == workflow::NodeKind::kLlm || def.kind == workflow::NodeKind::kAgent) {
    std::string prov, model;
    if (llm::SplitModel(def.model.model, &prov, &model).ok()) s.provider = prov;
  }
  if (def.map) {
    RunScope scope(this, n, -1);
    auto r = def.map->over.expr->Eval(scope);
    if (!r.ok()) {
      NodeFailed(n, "map.over: " + r.status().message());
      return;
    }
    if (!r->is_array()) {
      NodeFailed(n, "map.over must evaluate to a list, got " + std::string(r->type_name()) + " (" +
                        def.map->over.expr->source() + ")");
      return;
    }
    s.is_map = true;
    s.items.assign(r->begin(), r->end());
  } else {
    s.is_map = false;
    s.items.clear();
  }
  size_t units = s.is_map ? s.items.size() : 1;
  s.units.assign(units, Unit{});
  Emit("node_started", n, -1, 0, [&] {
    json d = json::object();
    if (s.is_map) d["items"] = s.items;
    return d;
  });
  // A resumed run keeps map items that already finished and numbers attempts after the old ones.
  auto rit = restored_.find({n, s.iteration});
  for (size_t u = 0; u < units; ++u) {
    Unit& unit = s.units[u];
    if (rit != restored_.end()) {
      auto a = rit->second.attempts.find(s.is_map ? static_cast<int>(u) : -1);
      if (a != rit->second.attempts.end()) unit.attempt = unit.attempt_base = a->second;
      auto v = rit->second.items.find(static_cast<int>(u));
      if (s.is_map && v != rit->second.items.end()) {
        unit.done = true;
        unit.value = v->second;
        ++s.units_done;
        continue;
      }
    }
    unit.queued = true;
    launchable_.emplace_back(n, static_cast<int>(u));
  }
  if (s.is_map && s.units_done == static_cast<int>(units)) {
    json arr = json::array();
    for (auto& unit : s.units) arr.push_back(unit.value);
    s.output = std::move(arr);
    NodeSucceeded(n);
  }
}

RunSummary Runner::Summarize() {
  RunSummary r;
  r.run_id = run_id_;
  r.status = run_.status;
  r.error = run_.error;
  r.tokens_in = tokens_in_;
  r.tokens_out = tokens_out_;
  r.calls = calls_;
  r.cost_usd = cost_;
  r.cost_unknown = cost_unknown_;
  // Only when the run's failure is the budget's: its error (the stopped run's reason, or the
  // first failed node's error, which carries a sub-run's) is one of the account's refusals.
  r.budget_stopped = run_.status == "failed" && budget_->RefusalIn(run_.error);
  r.warnings = warnings_;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const auto& s = nodes_[i];
    const auto& id = wf_->nodes[i].id;
    switch (s.status) {
      case NodeStatus::kSucceeded:
        ++r.succeeded;
        r.outputs[id] = s.output;
        if (s.dependents.empty())
          r.last_output = s.output.is_string() ? s.output.get<std::string>() : s.output.dump(2);
        break;
      case NodeStatus::kFailed: ++r.failed; break;
      case NodeStatus::kSkipped: ++r.skipped; break;
      case NodeStatus::kWaiting: r.waiting.push_back(id); break;
      default: break;
    }
  }
  return r;
}

namespace {
// A top-level run that ended or waits tells the observer (notifications), once its runner
// (and every thread it started) is gone.
void Observe(const Services& services, const workflow::Workflow& wf, bool top_level, const Result<RunSummary>& r) {
  if (services.observer && top_level && r.ok()) services.observer->OnRunEnded(wf, *r);
}
}  // namespace

Result<RunSummary> Run(std::shared_ptr<const workflow::Workflow> wf, const Services& services, RunOptions options) {
  bool top_level = options.parent_run_id.empty();
  auto keep = wf;
  Result<RunSummary> res = [&] {
    Runner r(std::move(wf), services, std::move(options));
    return r.Start();
  }();
  Observe(services, *keep, top_level, res);
  return res;
}

Result<RunSummary> Resume(const std::string& run_id, std::shared_ptr<const workflow::Workflow> wf,
                          const Services& services, RunOptions options) {
  bool top_level = options.parent_run_id.empty();
  auto keep = wf;
  Result<RunSummary> res = [&] {
    Runner r(std::move(wf), services, std::move(options));
    return r.Resume(run_id);
  }();
  Observe(services, *keep, top_level, res);
  return res;
}

}  // namespace sw::engine
