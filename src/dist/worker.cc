#include "dist/worker.h"

#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <future>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "base/clock.h"
#include "base/strings.h"
#include "dist/bundle.h"
#include "dist/codec.h"
#include "dist/fenced_store.h"
#include "dist/git_transport.h"
#include "dist/queue.h"
#include "dist/remote.h"
#include "engine/engine.h"
#include "engine/thread_pool.h"

namespace sw::dist {

namespace {

double SteadyNow() { return SystemClock::Default()->Now(); }


/// kMaxResultBytes bounds what one task's result holds (the store's blob cap).
constexpr size_t kMaxResultBytes = size_t{64} << 20;

/// Active is a task this worker holds.
struct Active {
  Task task;
  uint64_t seq = 0;  // claim order: a heartbeat judges only tasks claimed before it began
  std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
  std::atomic<bool> lost{false};
  std::atomic<bool> release{false};  // give it back unfinished (shutting down)
  std::atomic<bool> finished{false};
  std::atomic<bool> settled{false};  // Complete or Release went through: no longer ours to judge
  std::shared_ptr<std::atomic<bool>> detaching = std::make_shared<std::atomic<bool>>(false);  // orchestrations
  double started = 0;
  std::thread thread;
};

class WorkerLoop {
 public:
  WorkerLoop(const WorkerOptions& o, const WorkerEnv& env, std::shared_ptr<std::atomic<int>> signals)
      : o_(o), env_(env), signals_(std::move(signals)), id_(NewWorkerId()) {}

  Result<WorkerStats> Run();

 private:
  void Log(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  std::string Describe(const Task& t) const;
  void Start(Task t);
  void Execute(Active* a);
  void ExecuteLlm(Active* a);
  void ExecuteTool(Active* a);
  void Orchestrate(Active* a);
  /// PrepareWorkspace restores a run's workspace from its remote when this machine lacks it,
  /// and pushes every good checkpoint there from now on (a run with a workspace remote).
  Status PrepareWorkspace(const std::string& run_id, const std::string& remote, FencedStore* fenced);
  /// Finish completes a call or orchestration task with result, unless it was lost or is
  /// being given back.
  void Finish(Active* a, const std::string& result, bool failed);
  void Heartbeats();
  void Reap(bool all);
  int Count(bool orchestrations);

  WorkerOptions o_;
  WorkerEnv env_;
  std::shared_ptr<std::atomic<int>> signals_;
  std::string id_;
  std::unique_ptr<Queue> queue_;   // claims, heartbeats, completions
  std::unique_ptr<Queue> calls_;   // what orchestrated runs ask of the queue (remote.h)
  std::unique_ptr<Waiter> waiter_;
  std::unique_ptr<engine::ThreadPool> starter_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::list<std::unique_ptr<Active>> active_;
  uint64_t next_seq_ = 1;
  std::atomic<bool> stop_beats_{false};
  /// Orchestrations given back after a transient failure, by run (mu_): at most kMaxGiveBacks
  /// in a row, then the run fails, saying why.
  static constexpr int kMaxGiveBacks = 3;
  std::map<std::string, int> gave_back_;
  /// Counted from the task threads.
  struct {
    std::atomic<int64_t> claimed{0}, finished{0}, lost{0}, released{0}, reruns{0}, failed{0};
  } stats_;
};

void WorkerLoop::Log(const char* fmt, ...) {
  if (o_.quiet) return;
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "worker %s: %s\n", id_.c_str(), buf);
}

std::string WorkerLoop::Describe(const Task& t) const {
  std::string s = "task " + std::to_string(t.id) + " (" + t.kind + " of run " + t.run_id;
  if (!t.node.empty()) s += ", node " + t.node + ", attempt " + std::to_string(t.attempt);
  s += ")";
  return s;
}

int WorkerLoop::Count(bool orchestrations) {
  int n = 0;
  for (const auto& a : active_)
    if (!a->finished && (a->task.kind == "orchestrate") == orchestrations) ++n;
  return n;
}

void WorkerLoop::Start(Task t) {
  auto a = std::make_unique<Active>();
  a->task = std::move(t);
  a->started = SteadyNow();
  Active* p = a.get();
  ++stats_.claimed;
  bool rerun = p->task.claims > 1;
  if (rerun) ++stats_.reruns;
  Log("claimed %s%s", Describe(p->task).c_str(),
      rerun ? (", claim " + std::to_string(p->task.claims) + ": a re-run after a lost lease").c_str() : "");
  {
    std::lock_guard<std::mutex> l(mu_);
    a->seq = next_seq_++;
    active_.push_back(std::move(a));
  }
  p->thread = std::thread([this, p] { Execute(p); });
}

void WorkerLoop::Execute(Active* a) {
  if (a->task.kind != "orchestrate" && a->task.cancel_requested) {
    // A call cancelled while a worker that since lost its lease held it (a lapsed lease is
    // claimable; a cancelled one must not be made again, nor paid for): it answers
    // "cancelled" at once. An orchestration does run: its engine records the cancel.
    Status cancelled(Code::kCancelled, "cancelled");
    std::string result;
    if (a->task.kind == "llm") {
      llm::CallResult r;
      r.error.status = cancelled;
      r.error.usage_known = false;  // the earlier claim may have been billed
      result = TaskText(CallResultToJson(r));
    } else {
      ToolOutcome out;
      out.error = cancelled;
      result = TaskText(ToolOutcomeToJson(out));
    }
    Finish(a, result, true);
  } else if (a->task.kind == "llm") ExecuteLlm(a);
  else if (a->task.kind == "tool") ExecuteTool(a);
  else Orchestrate(a);
  a->finished = true;
  cv_.notify_all();
}

void WorkerLoop::Finish(Active* a, const std::string& result, bool failed) {
  double secs = SteadyNow() - a->started;
  if (a->lost) {
    ++stats_.lost;
    Log("lost %s after %.2f s: its lease lapsed and another worker took it; the result is dropped",
        Describe(a->task).c_str(), secs);
    return;
  }
  if (a->release) {
    auto r = queue_->Release(a->task.id, id_);
    if (r.ok()) a->settled = true;
    ++stats_.released;
    Log("gave back %s (%s)", Describe(a->task).c_str(),
        r.ok() ? (*r ? "ready for another worker" : "it was no longer ours") : r.status().message().c_str());
    return;
  }
  // A result is bounded like a blob: past the cap the call fails here, saying so, rather than
  // every worker that takes the task over failing to record it again.
  std::string capped;
  if (result.size() > kMaxResultBytes) {
    Status big = Failed(Describe(a->task) + " came back with " + std::to_string(result.size() >> 20) +
                        " MiB, more than the " + std::to_string(kMaxResultBytes >> 20) + " MiB a task's result may hold");
    failed = true;
    if (a->task.kind == "llm") {
      llm::CallResult r;
      r.error.status = big;
      capped = TaskText(CallResultToJson(r));
    } else if (a->task.kind == "tool") {
      ToolOutcome out;
      out.error = big;
      capped = TaskText(ToolOutcomeToJson(out));
    } else {
      capped = TaskText(json{{"status", "failed"}, {"error", big.message()}});
    }
  }
  const std::string& stored = capped.empty() ? result : capped;
  // A Complete that cannot reach the database is tried again as long as the task is ours:
  // the heartbeats keep its lease while this waits (the result may have been paid for; run
  // again elsewhere, it would be paid twice), until another worker takes it over or a bound.
  double give_up = SteadyNow() + std::max(60.0, 4 * o_.lease);
  for (int attempt = 0;; ++attempt) {
    auto r = queue_->Complete(a->task.id, id_, stored);
    if (r.ok() && !*r && attempt > 0) {
      // An earlier try may have committed without its answer arriving.
      auto t = queue_->Get(a->task.id);
      if (t.ok() && *t && (*t)->status == "done" && (*t)->owner == id_) r = true;
    }
    if (r.ok()) {
      a->settled = true;
      if (!*r) {
        ++stats_.lost;
        Log("lost %s after %.2f s: it is no longer ours; the result is dropped", Describe(a->task).c_str(), secs);
      } else {
        ++stats_.finished;
        if (failed) ++stats_.failed;
        Log("finished %s in %.2f s%s", Describe(a->task).c_str(), secs, failed ? " (failed)" : "");
      }
      return;
    }
    if (a->lost || SteadyNow() >= give_up) {
      ++stats_.lost;
      Log("could not record %s: %s; its lease will lapse and another worker will run it", Describe(a->task).c_str(),
          r.status().message().c_str());
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200 << std::min(attempt, 3)));
  }
}

void WorkerLoop::ExecuteLlm(Active* a) {
  llm::CallResult result;
  json j = json::parse(a->task.payload, nullptr, false);
  auto req = RequestFromJson(j);
  llm::Provider* p = req.ok() ? env_.providers->Get(req->provider) : nullptr;
  if (!req.ok()) {
    result.error.status = req.status();
  } else if (!p) {
    result.error.status = Failed("worker " + id_ + " has no provider " + Quote(req->provider) +
                                 " configured (give the workers the same providers, or labels)");
  } else {
    auto promise = std::make_shared<std::promise<llm::CallResult>>();
    auto future = promise->get_future();
    p->Start(*req, a->cancel, nullptr, [promise](llm::CallResult r) { promise->set_value(std::move(r)); });
    result = future.get();
  }
  Finish(a, TaskText(CallResultToJson(result)), !result.ok());
}

void WorkerLoop::ExecuteTool(Active* a) {
  ToolOutcome out;
  json j = json::parse(a->task.payload, nullptr, false);
  auto tt = ToolTaskFromJson(j);
  tools::Tool* tool = tt.ok() ? env_.tools->Get(tt->uri) : nullptr;
  if (!tt.ok()) {
    out.error = tt.status();
  } else if (!tool) {
    out.error = Failed("worker " + id_ + " has no tool " + Quote(tt->uri));
  } else {
    tools::CallContext ctx;
    ctx.run_id = tt->run_id;
    ctx.node_id = tt->node_id;
    ctx.cancel = a->cancel;
    ctx.shell = tt->shell;
    ctx.iteration = tt->iteration;
    ctx.item = tt->item;
    ctx.attempt = tt->attempt;
    ctx.call = tt->call;
    // The run's workspace, as the orchestrator published it for this call (git_transport.h).
    std::string remote = tt->workspace.is_object() ? tt->workspace.value("remote", "") : "";
    std::string base = tt->workspace.is_object() ? tt->workspace.value("base", "") : "";
    std::unique_ptr<TaskTree> tree;
    Status ws_status;
    if (!base.empty()) {
      ws_status = ValidateRemote(remote);
      if (ws_status.ok()) {
        auto t = Checkout(o_.git_cache_root, remote, tt->run_id, base);
        if (t.ok()) tree = std::move(t).value();
        else ws_status = t.status();
      }
      if (tree) ctx.workspace = tree->dir();
    }
    if (!ws_status.ok()) {
      out.error = ws_status.Annotate("checking out the run's workspace");
    } else {
      auto r = tools::SafeCall(tool, tt->args, ctx);
      if (r.ok()) {
        out.ok = true;
        out.value = std::move(r).value();
      } else {
        out.error = r.status();
      }
      if (tree && !a->lost) {
        // What the call changed goes back to the remote (a failed call's changes too: in one
        // process they would stay in the workspace as well).
        auto d = Deliver(tree->dir(), remote, tt->run_id, std::to_string(a->task.id), base);
        if (!d.ok()) {
          out.ok = false;
          out.error = d.status().Annotate("delivering what the tool changed");
        } else if (!d->empty()) {
          out.workspace = json{{"commit", *d}};
        }
      }
    }
  }
  Finish(a, TaskText(ToolOutcomeToJson(out)), !out.ok);
}

void WorkerLoop::Orchestrate(Active* a) {
  const Task& t = a->task;
  auto fail = [&](const Status& s) {
    // The database or the network failed for a moment (a reset connection, a timeout): that is
    // no reason to fail the run for good. Give the orchestration back; a worker resumes it.
    // Not for ever, and not at once: a failure that lasts (a remote that lacks the run's
    // commit reads as kUnavailable too) would otherwise be claimed and met again in a loop.
    if (s.code() == Code::kUnavailable || s.code() == Code::kTimeout) {
      int n;
      {
        std::lock_guard<std::mutex> l(mu_);
        n = ++gave_back_[t.run_id];
      }
      if (n <= kMaxGiveBacks) {
        Log("run %s: %s; giving it back for another try (%d of %d)", t.run_id.c_str(), s.message().c_str(), n,
            kMaxGiveBacks);
        for (double until = SteadyNow() + n; SteadyNow() < until && !a->cancel->load();)
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        a->release = true;
        Finish(a, "", false);
        return;
      }
      Log("run %s: %s, %d times on this worker: failing it", t.run_id.c_str(), s.message().c_str(), n);
      std::lock_guard<std::mutex> l(mu_);
      gave_back_.erase(t.run_id);
    }
    // The run cannot start: say so on the run (fenced: only while it is still ours). A waiting
    // run too (approved, it is resumed): left waiting, its decided gate would re-queue it at
    // every sweep, to fail again.
    auto rec = env_.store->GetRun(t.run_id);
    if (rec.ok() && *rec &&
        ((*rec)->status == "queued" || (*rec)->status == "running" || (*rec)->status == "waiting" ||
         (*rec)->status == "failed")) {
      FencedStore fenced(env_.store, t.run_id, id_, a->detaching);
      store::Batch b;
      store::RunRecord r = **rec;
      r.status = "failed";
      r.error = s.message();
      r.finished_at = static_cast<double>(std::time(nullptr));
      b.run = r;
      (void)fenced.Commit(b);
    }
    Log("run %s cannot run: %s", t.run_id.c_str(), s.message().c_str());
    Finish(a, TaskText(json{{"status", "failed"}, {"error", s.message()}}), true);
  };
  auto rec = env_.store->GetRun(t.run_id);
  if (!rec.ok()) return fail(rec.status());
  if (!*rec) return fail(NotFound("no run " + t.run_id + " in the store"));
  store::RunRecord run = **rec;
  json payload = json::parse(t.payload, nullptr, false);
  bool resume = payload.is_object() && payload.value("resume", false);
  // A run that ended is continued only when a person asked (approve, resume); a task taken
  // over after its orchestrator ended the run has nothing left to do.
  if (run.status == "succeeded" || run.status == "cancelled" ||
      ((run.status == "failed" || run.status == "waiting") && !resume))
    return Finish(a, TaskText(json{{"status", run.status}, {"note", "the run had ended already"}}), false);
  if (t.cancel_requested || (run.status == "queued" && run.cancel_requested)) {
    a->cancel->store(true);
  }
  json opts = json::parse(run.options_json, nullptr, false);
  if (!opts.is_object()) return fail(InvalidInput("run " + run.id + " has unreadable options"));
  std::string blob = opts.value("workflow_blob", "");
  if (blob.empty()) return fail(InvalidInput("run " + run.id + " was not submitted for workers (no workflow_blob)"));
  auto text = env_.store->GetBlob(blob);
  if (!text.ok()) return fail(text.status().Annotate("the run's workflow"));
  json bundle = json::parse(*text, nullptr, false);
  if (bundle.is_discarded()) return fail(InvalidInput("the run's workflow bundle is not JSON"));
  std::string scratch = o_.scratch_root + "/" + std::to_string(t.id) + "-" + std::to_string(::getpid());
  auto loaded = LoadBundle(bundle, scratch);
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);
  if (!loaded.ok()) return fail(loaded.status().Annotate("loading the run's workflow"));
  std::shared_ptr<const workflow::Workflow> wf = *loaded;
  if (std::string model = opts.value("model", ""); !model.empty() && env_.with_model) wf = env_.with_model(wf, model);
  if (wf->source_hash != run.workflow_hash)
    return fail(InvalidInput("the run's workflow does not hash as when it was submitted"));
  json inputs = json::parse(run.inputs_json, nullptr, false);
  if (!inputs.is_object()) inputs = json::object();

  auto remote = std::make_shared<RemoteRun>();
  remote->queue = calls_.get();
  remote->waiter = waiter_.get();
  remote->prices = env_.prices;
  remote->labels = opts.value("labels", "");
  remote->detaching = a->detaching;
  // A cancelled call's worker notices at its next heartbeat (lease/3) and reports what the call
  // used; past this the engine is told "cancelled" without it (it waits 10 s at most).
  remote->cancel_grace = std::min(8.0, o_.lease / 3 + 2);
  remote->starter = starter_.get();
  remote->workspace_remote = opts.value("workspace_remote", "");
  auto fenced_owner = std::make_shared<FencedStore>(env_.store, t.run_id, id_, a->detaching);
  FencedStore& fenced = *fenced_owner;
  remote->store = fenced_owner.get();
  remote->store_owner = fenced_owner;
  if (!remote->workspace_remote.empty()) {
    Status ws = PrepareWorkspace(run.id, remote->workspace_remote, &fenced);
    if (!ws.ok()) return fail(ws);
  }
  llm::Registry providers;
  tools::Registry tools;
  AddRemoteProviders(*env_.providers, remote, &providers);
  AddRemoteTools(*env_.tools, remote, &tools);
  engine::Services services;
  services.providers = &providers;
  services.prices = env_.prices;
  services.tools = &tools;
  services.store = &fenced;
  // The run's end is told (webhooks) only once this worker knows it recorded it: the engine
  // tells its observer inside Run/Resume, before the fence and the lease are looked at.
  struct HeldBack final : engine::RunObserver {
    engine::RunObserver* inner = nullptr;
    FencedStore* fenced = nullptr;
    std::shared_ptr<std::atomic<bool>> detaching;
    const workflow::Workflow* wf = nullptr;
    std::optional<engine::RunSummary> ended;  // the last end (a gate decided meanwhile resumes it)
    void OnRunEnded(const workflow::Workflow& w, const engine::RunSummary& s) override {
      wf = &w;
      ended = s;
    }
    void OnRunWaiting(const workflow::Workflow& w, const std::string& id, const std::vector<std::string>& n) override {
      if (inner && !fenced->refused() && !detaching->load()) inner->OnRunWaiting(w, id, n);
    }
  };
  HeldBack held;
  held.inner = env_.observer;
  held.fenced = &fenced;
  held.detaching = a->detaching;
  services.observer = env_.observer ? &held : nullptr;

  engine::RunOptions ro;
  ro.inputs = inputs;
  ro.use_cache = !opts.value("no_cache", false);
  ro.auto_approve = opts.value("yes", false);
  ro.default_max_calls = opts.value("max_calls", int64_t{500});
  ro.record_options = opts;
  ro.cancel = a->cancel;
  ro.run_id = run.id;
  ro.workspace_root = o_.workspace_root;
  ro.blocking_threads = o_.blocking_threads;
  // A run that never started has no run_started (the first event of its first commit): only
  // that type is read, not the whole trace of a run taken over.
  auto started = env_.store->ListEventsOfType(run.id, "run_started");
  if (!started.ok()) return fail(started.status());
  bool fresh = started->empty();
  if (!fresh) {
    // A takeover: calls the previous orchestrator had in flight may still be paid; the budget
    // counts them (at their worst case) so `policy: stop` holds across the handover.
    auto extra = remote->queue->UnrecordedSpend(run.id);
    if (!extra.ok()) return fail(extra.status());
    ro.unrecorded_usd = *extra;
  }
  Log("%s run %s (%s)", fresh ? "starting" : "resuming", run.id.c_str(), wf->name.c_str());
  Result<engine::RunSummary> r = fresh ? engine::Run(wf, services, ro) : engine::Resume(run.id, wf, services, ro);
  // A gate decided while the run went on (approve re-queues only a run nobody orchestrates):
  // go on at once instead of leaving the decision unread.
  for (int round = 0; round < 10 && r.ok() && r->status == "waiting" && !a->cancel->load(); ++round) {
    auto approvals = env_.store->ListApprovals(run.id);
    bool decided = false;
    if (approvals.ok())
      for (const auto& ap : *approvals)
        for (const auto& w : r->waiting) decided |= ap.node == w && ap.decision != "pending";
    if (!decided) break;
    Log("run %s: a gate was decided meanwhile; resuming", run.id.c_str());
    auto extra = remote->queue->UnrecordedSpend(run.id);
    ro.unrecorded_usd = extra.ok() ? *extra : ro.unrecorded_usd;
    r = engine::Resume(run.id, wf, services, ro);
  }
  Log("run %s: %s (%lld calls enqueued, %lld adopted, %lld awaited)", run.id.c_str(),
      r.ok() ? r->status.c_str() : r.status().message().c_str(), static_cast<long long>(remote->enqueued.load()),
      static_cast<long long>(remote->adopted.load()), static_cast<long long>(remote->awaited.load()));
  // Given back while the engine ran: if every write went through, the run's record is
  // complete and the task is done; else the next worker resumes it.
  if (a->release && !fenced.refused()) a->release = false;
  if (a->detaching->load() && !a->release && fenced.refused()) a->lost = true;
  if (a->lost || a->release) return Finish(a, "", false);  // not ours to tell: nothing notified
  if (!r.ok()) return fail(r.status());
  // Every write of the run went through and the run is still this worker's (a give-back
  // that came after the last write was taken back above): its end is recorded, so it may be
  // told. A lease lost or a run given back tells nobody here (the next orchestrator tells
  // the end it records).
  if (held.inner && held.ended && !fenced.refused())
    held.inner->OnRunEnded(*held.wf, *held.ended);
  {
    std::lock_guard<std::mutex> l(mu_);
    gave_back_.erase(t.run_id);
  }
  json out{{"status", r->status}, {"error", r->error}, {"calls", r->calls}, {"cost_usd", r->cost_usd},
           {"waiting", r->waiting}};
  Finish(a, TaskText(out), r->status == "failed");
}

Status WorkerLoop::PrepareWorkspace(const std::string& run_id, const std::string& remote, FencedStore* fenced) {
  // Where the run's workspace is (its `workspace` event), and its last good commit.
  // Only those two types are read, merged back into their order (not the whole trace).
  SW_ASSIGN_OR_RETURN(auto events, env_.store->ListEventsOfType(run_id, "workspace"));
  SW_ASSIGN_OR_RETURN(auto checkpoints, env_.store->ListEventsOfType(run_id, "checkpoint"));
  events.insert(events.end(), checkpoints.begin(), checkpoints.end());
  std::sort(events.begin(), events.end(), [](const store::Event& a, const store::Event& b) { return a.seq < b.seq; });
  std::string dir, commit;
  for (const auto& e : events) {
    json d = json::parse(e.data, nullptr, false);
    if (!d.is_object()) continue;
    if (e.type == "workspace") dir = d.value("dir", "");
    if (e.type == "checkpoint" && d.value("status", "") != "succeeded") continue;
    if (d.contains("commit") && d["commit"].is_string()) commit = d["commit"].get<std::string>();
  }
  // A run orchestrated on another machine before: its workspace comes from the remote.
  if (!dir.empty() && !commit.empty() && !std::filesystem::exists(dir)) {
    Log("run %s: restoring its workspace %s at %s from the remote", run_id.c_str(), dir.c_str(), commit.c_str());
    SW_RETURN_IF_ERROR(RestoreWorkspace(dir, remote, run_id, commit).Annotate("restoring the run's workspace"));
  }
  // Each good checkpoint goes to the remote, so the next orchestrator (anywhere) can restore it.
  auto known = std::make_shared<std::string>(dir);
  fenced->after_commit = [this, run_id, remote, known](const store::Batch& b) {
    bool push = false;
    for (const auto& e : b.events) {
      if (e.type != "workspace" && e.type != "checkpoint") continue;
      json d = json::parse(e.data, nullptr, false);
      if (!d.is_object()) continue;
      if (e.type == "workspace") *known = d.value("dir", "");
      push |= e.type == "workspace" || d.value("status", "") == "succeeded";
    }
    if (!push || known->empty()) return;
    auto r = PushCheckpoint(*known, remote, run_id);
    if (!r.ok()) Log("run %s: could not push its checkpoint: %s", run_id.c_str(), r.status().message().c_str());
  };
  return Status::Ok();
}

void WorkerLoop::Heartbeats() {
  double every = std::max(0.05, o_.lease / 3);
  double next = SteadyNow() + every;
  while (!stop_beats_) {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::milliseconds(50));
    }
    if (SteadyNow() < next) continue;
    next = SteadyNow() + every;
    uint64_t before;
    // Only the tasks in hand: one this worker dropped (a Complete or Release that never
    // reached the database, a Claim whose answer was lost) must lapse, not be kept forever.
    std::vector<int64_t> in_hand;
    {
      std::lock_guard<std::mutex> l(mu_);
      before = next_seq_;
      for (const auto& a : active_)
        if (!a->finished && !a->lost && !a->settled) in_hand.push_back(a->task.id);
    }
    auto beat = queue_->Heartbeat(id_, o_.lease, in_hand);
    if (!beat.ok()) {
      Log("heartbeat failed: %s", beat.status().message().c_str());
      continue;
    }
    std::set<int64_t> held(beat->held.begin(), beat->held.end());
    std::set<int64_t> cancel(beat->cancel.begin(), beat->cancel.end());
    std::lock_guard<std::mutex> l(mu_);
    for (auto& a : active_) {
      if (a->finished || a->lost || a->settled || a->seq >= before) continue;
      if (!held.count(a->task.id) && !a->lost && !a->release) {
        // Another worker took it (our lease lapsed): stop, write nothing.
        a->lost = true;
        a->detaching->store(true);
        a->cancel->store(true);
        Log("lease of %s lost: stopping it", Describe(a->task).c_str());
      } else if (cancel.count(a->task.id) && !a->cancel->load()) {
        // A call: stop it. An orchestration: `specwright cancel` of its run (the engine
        // stops the run and its calls in flight).
        a->cancel->store(true);
        Log("cancel asked for %s", Describe(a->task).c_str());
      }
    }
  }
}

void WorkerLoop::Reap(bool all) {
  std::list<std::unique_ptr<Active>> done;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = active_.begin(); it != active_.end();) {
      if ((*it)->finished || all) {
        done.push_back(std::move(*it));
        it = active_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& a : done)
    if (a->thread.joinable()) a->thread.join();
}

Result<WorkerStats> WorkerLoop::Run() {
  SW_ASSIGN_OR_RETURN(queue_, Queue::Open(o_.url));
  SW_ASSIGN_OR_RETURN(calls_, Queue::Open(o_.url));
  SW_ASSIGN_OR_RETURN(waiter_, Waiter::Start(o_.listen ? o_.url : "", calls_.get(), o_.poll));
  starter_ = std::make_unique<engine::ThreadPool>(4);
  std::unique_ptr<Notifier> notifier;
  if (o_.listen) {
    SW_ASSIGN_OR_RETURN(notifier, Notifier::Open(o_.url, {"specwright_tasks"}));
  }
  SW_RETURN_IF_ERROR(queue_->RegisterWorker(id_, Join(o_.labels, ","), o_.concurrency));
  Log("ready: %d calls and %d runs at once, labels [%s], lease %.1f s, poll %.1f s%s", o_.concurrency, o_.max_runs,
      Join(o_.labels, ",").c_str(), o_.lease, o_.poll, o_.listen ? "" : ", no LISTEN");
  std::thread beats([this] { Heartbeats(); });

  double last_busy = SteadyNow();
  double last_look = 0, last_sweep = 0;
  bool look = true, draining = false, hurried = false;
  for (;;) {
    Reap(false);
    int sig = signals_ ? signals_->load() : 0;
    if (sig >= 1 && !draining) {
      draining = true;
      Log("stopping: finishing the calls in hand, giving the runs back");
      std::lock_guard<std::mutex> l(mu_);
      for (auto& a : active_)
        if (a->task.kind == "orchestrate" && !a->finished) {
          a->release = true;
          a->detaching->store(true);
          a->cancel->store(true);
        }
    }
    if (sig >= 2 && !hurried) {
      hurried = true;
      Log("stopping now: giving every task back");
      std::lock_guard<std::mutex> l(mu_);
      for (auto& a : active_)
        if (!a->finished) {
          a->release = true;
          a->detaching->store(true);
          a->cancel->store(true);
        }
    }
    int calls, runs;
    {
      std::lock_guard<std::mutex> l(mu_);
      calls = Count(false);
      runs = Count(true);
    }
    if (draining && calls + runs == 0) break;
    if (calls + runs > 0) last_busy = SteadyNow();
    if (o_.idle_exit > 0 && calls + runs == 0 && SteadyNow() - last_busy >= o_.idle_exit) {
      Log("idle for %.1f s: exiting", o_.idle_exit);
      break;
    }
    if (!draining && SteadyNow() - last_look >= o_.poll) look = true;
    // Gates decided outside the CLI (the web UI, the MCP server) re-queue their runs here.
    if (!draining && SteadyNow() - last_sweep >= std::max(1.0, 3 * o_.poll)) {
      last_sweep = SteadyNow();
      auto due = queue_->RequeueDecided();
      if (due.ok()) {
        for (const auto& id : *due) Log("re-queued run %s: a gate of it was decided", id.c_str());
        if (!due->empty()) look = true;
      }
    }
    ClaimFilter f;
    f.labels = o_.labels;
    f.calls = calls < o_.concurrency;
    f.orchestrate = runs < o_.max_runs;
    if (!draining && look && (f.calls || f.orchestrate)) {
      last_look = SteadyNow();
      auto t = queue_->Claim(id_, f, o_.lease);
      if (!t.ok()) {
        Log("claim failed: %s", t.status().message().c_str());
        look = false;
      } else if (*t) {
        Start(std::move(**t));
        last_busy = SteadyNow();
        continue;  // there may be more
      } else {
        look = false;
      }
    }
    // Wait for a NOTIFY (new task), a finished task (a free slot) or the next poll.
    bool slot_full = !f.calls && !f.orchestrate;
    double wait = std::min(0.2, o_.poll);
    if (notifier && !slot_full && !draining) {
      auto notes = notifier->Wait(wait);
      if (!notes.empty()) look = true;
    } else {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::milliseconds(static_cast<int>(wait * 1000)));
    }
    // A slot that came free is worth a look at once.
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& a : active_)
      if (a->finished) look = !draining;
  }
  stop_beats_ = true;
  cv_.notify_all();
  beats.join();
  Reap(true);
  (void)queue_->WorkerStopped(id_);
  Log("stopped: %lld claimed (%lld re-runs), %lld finished, %lld lost, %lld given back",
      static_cast<long long>(stats_.claimed.load()), static_cast<long long>(stats_.reruns.load()),
      static_cast<long long>(stats_.finished.load()), static_cast<long long>(stats_.lost.load()),
      static_cast<long long>(stats_.released.load()));
  WorkerStats out;
  out.claimed = stats_.claimed;
  out.finished = stats_.finished;
  out.lost = stats_.lost;
  out.released = stats_.released;
  out.reruns = stats_.reruns;
  out.failed = stats_.failed;
  return out;
}

}  // namespace

Result<WorkerStats> RunWorker(const WorkerOptions& options, const WorkerEnv& env, std::shared_ptr<std::atomic<int>> signals) {
  if (options.concurrency < 1) return InvalidInput("--concurrency must be at least 1");
  if (options.max_runs < 0) return InvalidInput("--max-runs must be 0 or more");
  if (!(options.lease >= 0.5)) return InvalidInput("--lease must be at least 0.5 seconds");
  if (!(options.poll > 0)) return InvalidInput("--poll must be more than 0 seconds");
  if (!env.providers || !env.tools || !env.store) return InvalidInput("a worker needs providers, tools and a store");
  WorkerLoop w(options, env, std::move(signals));
  return w.Run();
}

}  // namespace sw::dist
