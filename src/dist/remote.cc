#include "dist/remote.h"

#include <chrono>
#include <future>

#include "base/clock.h"
#include "base/hash.h"
#include "dist/git_transport.h"
#include "llm/replay.h"

namespace sw::dist {

namespace {

double SteadyNow() { return SystemClock::Default()->Now(); }


llm::CallResult CallFailed(Status s, bool retryable, bool usage_known) {
  llm::CallResult r;
  r.error.status = std::move(s);
  r.error.retryable = retryable;
  r.error.usage_known = usage_known;
  return r;
}

bool InFlight(const Task& t) { return (t.status == "ready" || t.status == "claimed") && !t.cancel_requested; }

bool Consumed(RemoteRun& run, int64_t id) {
  std::lock_guard<std::mutex> l(run.mu);
  return run.consumed.count(id) > 0;
}

/// MarkConsumed notes that task id answered (or was given up by) this orchestrator; in the
/// queue too when its result went to the engine. A wait given up while the run is handed
/// over leaves the task for the next orchestrator to adopt.
void MarkConsumed(RemoteRun& run, int64_t id, bool delivered) {
  {
    std::lock_guard<std::mutex> l(run.mu);
    run.consumed.insert(id);
  }
  if (delivered) (void)run.queue->MarkConsumed(id);
}

/// CallOfTask is a finished llm task's CallResult: its result, or why there is none.
llm::CallResult CallOfTask(const std::optional<Task>& t) {
  if (!t) return CallFailed(Status(Code::kCancelled, "cancelled"), false, false);
  if (t->status == "cancelled")
    // Never claimed: the call never left. Claimed: it may have been billed for what it made.
    return CallFailed(Status(Code::kCancelled, "cancelled"), false, t->claims == 0);
  json j = json::parse(t->result, nullptr, false);
  if (j.is_discarded()) return CallFailed(Internal("task " + std::to_string(t->id) + " holds no readable result"), false, false);
  auto r = CallResultFromJson(j);
  if (!r.ok()) return CallFailed(r.status().Annotate("task " + std::to_string(t->id)), false, false);
  return std::move(r).value();
}

/// ValueOfToolTask is a finished tool task's value or error; what the call changed in the
/// workspace (delivered to the run's remote) is merged into workspace first.
Result<json> ValueOfToolTask(const std::optional<Task>& t, const std::string& workspace, const std::string& remote) {
  if (!t) return Status(Code::kCancelled, "cancelled");
  if (t->status == "cancelled") return Status(Code::kCancelled, "cancelled");
  json j = json::parse(t->result, nullptr, false);
  if (j.is_discarded()) return Internal("task " + std::to_string(t->id) + " holds no readable result");
  auto o = ToolOutcomeFromJson(j);
  if (!o.ok()) return o.status();
  std::string commit = o->workspace.is_object() ? o->workspace.value("commit", "") : "";
  if (!commit.empty()) {
    if (workspace.empty() || remote.empty())
      return Failed("task " + std::to_string(t->id) + " changed a workspace this run cannot take back");
    auto a = Absorb(workspace, remote, t->run_id, std::to_string(t->id), commit);
    if (!a.ok()) return a.status().Annotate("bringing back what the tool changed (task " + std::to_string(t->id) + ")");
  }
  if (!o->ok) return o->error;
  return std::move(o->value);
}

}  // namespace

// ---- Waiter ----

Result<std::unique_ptr<Waiter>> Waiter::Start(const std::string& url, Queue* queue, double poll_interval) {
  std::unique_ptr<Waiter> w(new Waiter(queue, poll_interval));
  if (!url.empty()) {
    auto n = Notifier::Open(url, {"specwright_done"});
    if (!n.ok()) return n.status().Annotate("listening for finished tasks");
    w->notifier_ = std::move(n).value();
  }
  w->thread_ = std::thread([p = w.get()] { p->Loop(); });
  return w;
}

Waiter::~Waiter() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  // Whoever still waits learns the wait is over.
  std::map<int64_t, Entry> left;
  {
    std::lock_guard<std::mutex> l(mu_);
    left.swap(pending_);
  }
  for (auto& [id, e] : left) e.fn(std::nullopt);
}

size_t Waiter::pending() const {
  std::lock_guard<std::mutex> l(mu_);
  return pending_.size();
}

void Waiter::Await(int64_t id, Wait w, Fn fn) {
  {
    std::lock_guard<std::mutex> l(mu_);
    pending_[id] = Entry{std::move(w), std::move(fn)};
  }
  // It may have finished before we got here: its NOTIFY is gone, so look once now.
  auto t = queue_->Get(id);
  if (t.ok() && *t && ((*t)->status == "done" || (*t)->status == "cancelled")) Fire(id, std::move(*t));
}

void Waiter::Fire(int64_t id, std::optional<Task> t) {
  Fn fn;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return;  // fired already
    fn = std::move(it->second.fn);
    pending_.erase(it);
  }
  fn(std::move(t));
}

void Waiter::Loop() {
  double last_poll = SteadyNow();
  while (!stop_) {
    std::vector<store::pg::Notification> notes;
    if (notifier_) notes = notifier_->Wait(0.1);
    else std::this_thread::sleep_for(std::chrono::milliseconds(100));
    double now = SteadyNow();
    bool poll_all = now - last_poll >= poll_;
    std::vector<int64_t> check, give_up, cancel;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (const auto& n : notes) {
        size_t colon = n.payload.rfind(':');
        if (colon == std::string::npos) continue;
        int64_t id = std::strtoll(n.payload.c_str() + colon + 1, nullptr, 10);
        if (pending_.count(id)) check.push_back(id);
      }
      for (auto& [id, e] : pending_) {
        if (poll_all) check.push_back(id);
        if (e.w.cancel && e.w.cancel->load() && !e.cancel_sent) {
          e.cancel_sent = true;
          e.give_up = now + e.w.cancel_grace;
          if (e.w.detaching && e.w.detaching->load()) give_up.push_back(id);
          else cancel.push_back(id);
        } else if (e.cancel_sent && now >= e.give_up) {
          give_up.push_back(id);
        }
      }
    }
    for (int64_t id : give_up) Fire(id, std::nullopt);
    for (int64_t id : cancel) {
      auto r = queue_->RequestCancel(id);
      if (r.ok() && *r) check.push_back(id);  // it had not started: cancelled now
    }
    if (poll_all) last_poll = now;
    if (check.empty()) continue;
    auto done = queue_->Finished(check);
    if (!done.ok()) continue;  // the next poll tries again
    for (auto& t : *done) Fire(t.id, std::move(t));
  }
}

// ---- keys ----

std::string TaskKeyOfRequest(const llm::Request& r) { return llm::RequestFingerprint(r); }

std::string TaskKeyOfTool(const std::string& uri, const json& args, const tools::CallContext& ctx) {
  Hasher h;
  h.Add("tool-v1").Add(uri).Add(ctx.node_id).Add(std::to_string(ctx.iteration)).Add(std::to_string(ctx.item));
  h.Add(std::to_string(ctx.turn)).Add(std::to_string(ctx.call)).Add(TaskText(args));
  return h.HexDigest();
}

// ---- RemoteProvider ----

void RemoteProvider::Start(const llm::Request& request, llm::CancelFlag cancel, llm::DeltaFn on_delta, llm::DoneFn done) {
  if (!run_->starter) return StartNow(run_, request, std::move(cancel), std::move(on_delta), std::move(done));
  // The dispatcher calls Start: the queries go to a pool thread, never block it. The task
  // holds the run, never this provider (it may be gone by then).
  run_->starter->Submit([request, cancel = std::move(cancel), on_delta = std::move(on_delta), done = std::move(done),
                         keep = run_]() mutable {
    StartNow(keep, request, std::move(cancel), std::move(on_delta), std::move(done));
  });
}

void RemoteProvider::StartNow(const std::shared_ptr<RemoteRun>& keep, const llm::Request& request,
                              llm::CancelFlag cancel, llm::DeltaFn on_delta, llm::DoneFn done) {
  RemoteRun& run = *keep;
  auto deliver = [on_delta](const llm::DoneFn& done, llm::CallResult r) {
    if (r.ok() && on_delta && !r.response->text.empty()) on_delta(r.response->text);
    done(std::move(r));
  };
  // Cancelled (or given up by the engine) before it left: no task, nothing paid.
  if (cancel && cancel->load()) return deliver(done, CallFailed(Status(Code::kCancelled, "cancelled"), false, true));
  // The task's answer goes to the engine once: whatever comes of it (a result, a cancel, a
  // wait given up), this orchestrator never takes that task again.
  auto finish_for = [keep, deliver, done](int64_t id) {
    return [keep, deliver, done, id](std::optional<Task> t) {
      MarkConsumed(*keep, id, t && t->status == "done");
      deliver(done, CallOfTask(t));
    };
  };
  Waiter::Wait w{cancel, run.detaching, run.cancel_grace};
  std::string key = TaskKeyOfRequest(request);
  auto tasks = run.queue->FindByKey(request.run_id, "llm", key);
  if (!tasks.ok()) return deliver(done, CallFailed(tasks.status().Annotate("the work queue"), true, true));
  // Adopt: a finished call the run has not recorded, or one still in flight.
  std::optional<std::vector<store::LlmCallRecord>> recorded;
  for (auto it = tasks->rbegin(); it != tasks->rend(); ++it) {
    const Task& t = *it;
    // A task someone cancelled (a timeout, `specwright cancel`) answers nobody again.
    if (Consumed(run, t.id) || t.cancel_requested) continue;
    if (InFlight(t)) {
      ++run.awaited;
      return run.waiter->Await(t.id, w, finish_for(t.id));
    }
    if (t.status != "done") continue;
    if (!recorded) {
      auto calls = run.store->ListLlmCallsOf(request.run_id, request.node_id);
      if (!calls.ok()) return deliver(done, CallFailed(calls.status().Annotate("the store"), true, true));
      recorded = std::move(calls).value();
    }
    bool seen = false;
    for (const auto& c : *recorded)
      seen |= c.iteration == request.iteration && c.item == request.item && c.request_hash == key && c.attempt >= t.attempt;
    if (seen) continue;
    ++run.adopted;
    return finish_for(t.id)(t);
  }
  NewTask nt;
  nt.run_id = request.run_id;
  nt.kind = "llm";
  nt.node = request.node_id;
  nt.key = key;
  nt.attempt = request.attempt;
  nt.labels = run.labels;
  nt.payload = TaskText(RequestToJson(request));
  if (run.prices)
    if (auto price = run.prices->Lookup(request.provider, request.model))
      nt.reserved_usd = llm::WorstCaseCost(llm::EstimateInputTokens(request), request.max_tokens, *price);
  auto id = run.queue->Enqueue(nt);
  if (!id.ok()) return deliver(done, CallFailed(id.status().Annotate("the work queue"), true, true));
  ++run.enqueued;
  run.waiter->Await(*id, w, finish_for(*id));
}

// ---- RemoteTool ----

bool ToolNeedsWorkspace(const std::string& uri) {
  return uri != "builtin://echo" && uri != "builtin://json" && uri != "builtin://pick";
}

Result<json> RemoteTool::Call(const json& args, const tools::CallContext& ctx) {
  RemoteRun& run = *run_;
  std::string u = uri();
  bool travels = ToolNeedsWorkspace(u) && !ctx.workspace.empty();
  if (travels && run.workspace_remote.empty()) return tools::SafeCall(local_, args, ctx);  // the workspace is here
  std::string ws = travels ? ctx.workspace : "";
  std::string key = TaskKeyOfTool(u, args, ctx);
  auto promise = std::make_shared<std::promise<std::optional<Task>>>();
  auto future = promise->get_future();
  auto finish = [promise](std::optional<Task> t) { promise->set_value(std::move(t)); };
  Waiter::Wait w{ctx.cancel, run.detaching, run.cancel_grace};
  SW_ASSIGN_OR_RETURN(auto tasks, run.queue->FindByKey(ctx.run_id, "tool", key));
  std::optional<int64_t> wait_for;
  for (auto it = tasks.rbegin(); it != tasks.rend() && !wait_for; ++it) {
    const Task& t = *it;
    if (Consumed(run, t.id) || t.cancel_requested) continue;
    if (InFlight(t)) {
      ++run.awaited;
      wait_for = t.id;
    } else if (t.status == "done" && !t.consumed) {
      ++run.adopted;
      // As below: an engine letting the run go leaves it for the next orchestrator.
      MarkConsumed(run, t.id, !run.detaching->load());
      return ValueOfToolTask(t, ws, run.workspace_remote);
    }
  }
  if (!wait_for) {
    json workspace = json::object();
    if (travels) {
      // The work tree as it is now, where the worker starts.
      SW_ASSIGN_OR_RETURN(std::string base, Publish(ctx.workspace, run.workspace_remote, ctx.run_id));
      workspace = json{{"remote", run.workspace_remote}, {"base", base}};
    }
    ToolTask tt;
    tt.uri = u;
    tt.args = args;
    tt.run_id = ctx.run_id;
    tt.node_id = ctx.node_id;
    tt.iteration = ctx.iteration;
    tt.item = ctx.item;
    tt.attempt = ctx.attempt;
    tt.call = ctx.call;
    tt.shell = ctx.shell;
    tt.workspace = std::move(workspace);
    NewTask nt;
    nt.run_id = ctx.run_id;
    nt.kind = "tool";
    nt.node = ctx.node_id;
    nt.key = key;
    nt.attempt = ctx.attempt;
    nt.labels = run.labels;
    nt.payload = TaskText(ToolTaskToJson(tt));
    SW_ASSIGN_OR_RETURN(int64_t id, run.queue->Enqueue(nt));
    ++run.enqueued;
    wait_for = id;
  }
  run.waiter->Await(*wait_for, w, finish);
  std::optional<Task> t = future.get();
  // Handed to an engine that is letting the run go, the result is not used: the next
  // orchestrator may adopt it.
  MarkConsumed(run, *wait_for, t && t->status == "done" && !run.detaching->load());
  return ValueOfToolTask(t, ws, run.workspace_remote);
}

void AddRemoteProviders(const llm::Registry& local, std::shared_ptr<RemoteRun> run, llm::Registry* out) {
  for (const auto& name : local.Names()) out->Add(std::make_shared<RemoteProvider>(name, run));
}

void AddRemoteTools(const tools::Registry& local, std::shared_ptr<RemoteRun> run, tools::Registry* out) {
  for (const auto& uri : local.Uris()) out->Add(std::make_shared<RemoteTool>(local.Get(uri), run));
}

}  // namespace sw::dist
