// Remote calls: llm::Provider and tools::Tool implementations that turn every model call and
// tool call of a run into a task on the queue, which any worker may claim, and hand the
// result back to the engine as if the call had been made here. The engine is unchanged: a
// worker orchestrating a run gives it these in its Services.
//
// Nothing is paid twice. Before enqueueing a call, its key (where it comes from and what it
// asks) is looked up: a finished task the run has not recorded yet (a model call: no llm_calls
// row for it; a tool call: not handed to an engine yet) is the answer; one still in flight
// (left by an orchestrator that died) is waited for. Only then is a new task added.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "dist/codec.h"
#include "dist/queue.h"
#include "engine/thread_pool.h"
#include "llm/prices.h"
#include "llm/provider.h"
#include "store/store.h"
#include "tools/tool.h"

namespace sw::dist {

/// Waiter wakes the callers whose tasks finished: one per process, on a connection that
/// LISTENs to specwright_done, polling every poll_interval as well (a missed NOTIFY only
/// delays). A caller's cancel flag asks the task to stop; a task that never started is
/// cancelled at once, a running one gets cancel_grace seconds to come back with its result.
class Waiter {
 public:
  static Result<std::unique_ptr<Waiter>> Start(const std::string& url, Queue* queue, double poll_interval);
  ~Waiter();
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  struct Wait {
    std::shared_ptr<std::atomic<bool>> cancel;  // may be null
    /// Set when this process is giving the run up (lease lost, shutting down): a cancel then
    /// only stops waiting; the task goes on for whoever orchestrates the run next.
    std::shared_ptr<std::atomic<bool>> detaching;
    double cancel_grace = 10;
  };
  /// Fn gets the finished task (done or cancelled), or nullopt when the wait was given up
  /// (cancelled here; detaching). Runs once, on the waiter's thread or the caller's.
  using Fn = std::function<void(std::optional<Task>)>;
  void Await(int64_t id, Wait w, Fn fn);
  size_t pending() const;

 private:
  Waiter(Queue* queue, double poll) : queue_(queue), poll_(poll) {}
  struct Entry {
    Wait w;
    Fn fn;
    bool cancel_sent = false;
    double give_up = 0;  // steady seconds; 0: none
  };
  void Loop();
  void Fire(int64_t id, std::optional<Task> t);
  Queue* queue_;
  double poll_;
  std::unique_ptr<Notifier> notifier_;
  mutable std::mutex mu_;
  std::map<int64_t, Entry> pending_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// RemoteRun is what the remote providers and tools of one orchestrated run share.
struct RemoteRun {
  Queue* queue = nullptr;
  Waiter* waiter = nullptr;
  store::Store* store = nullptr;        // the run's store: adoption reads llm_calls from it
  /// Keeps store alive as long as a call of the run may still look at it (a Start queued on
  /// the starter pool can outlive the engine's run).
  std::shared_ptr<store::Store> store_owner;
  const llm::PriceTable* prices = nullptr;  // reserved_usd of a model call's task
  std::string labels;                   // labels every task of the run needs
  std::shared_ptr<std::atomic<bool>> detaching = std::make_shared<std::atomic<bool>>(false);
  double cancel_grace = 10;
  /// The shared bare repository the run's workspace travels through (git_transport.h); "":
  /// none, and a tool that needs the workspace runs here, on the orchestrator.
  std::string workspace_remote;
  engine::ThreadPool* starter = nullptr;  // where Start does its queries (never the dispatcher)
  std::mutex mu;
  std::set<int64_t> consumed;  // tasks whose result this process handed to the engine
  /// Counters for the worker's log and tests.
  std::atomic<int64_t> enqueued{0}, adopted{0}, awaited{0};
};

/// TaskKeyOfRequest is a model call's idempotency key: llm::RequestFingerprint (node,
/// iteration, item, turn, model, messages, tools, settings).
std::string TaskKeyOfRequest(const llm::Request& r);
/// TaskKeyOfTool is a tool call's: its URI, node, iteration, item, agent turn and call index,
/// and its arguments (canonical JSON).
std::string TaskKeyOfTool(const std::string& uri, const json& args, const tools::CallContext& ctx);

/// RemoteProvider stands in for provider `name`: each call is an `llm` task.
class RemoteProvider final : public llm::Provider {
 public:
  RemoteProvider(std::string name, std::shared_ptr<RemoteRun> run) : name_(std::move(name)), run_(std::move(run)) {}
  std::string name() const override { return name_; }
  void Start(const llm::Request& request, llm::CancelFlag cancel, llm::DeltaFn on_delta, llm::DoneFn done) override;

 private:
  /// StartNow uses nothing of the provider but run: on the starter pool it may run after the
  /// engine gave the call up and the provider (the run's registry) is gone.
  static void StartNow(const std::shared_ptr<RemoteRun>& run, const llm::Request& request, llm::CancelFlag cancel,
                       llm::DeltaFn on_delta, llm::DoneFn done);
  std::string name_;
  std::shared_ptr<RemoteRun> run_;
};

/// ToolNeedsWorkspace: every tool but the pure ones (builtin://echo, json, pick) reads or
/// writes the run's workspace.
bool ToolNeedsWorkspace(const std::string& uri);

/// RemoteTool stands in for `local`: each call is a `tool` task. A call that needs the
/// workspace publishes it first (git_transport's Publish: the work tree as it is, pushed to
/// the run's remote), the worker checks that out, runs the tool and delivers what changed,
/// and the result's changes are merged back into the workspace (Absorb) before the engine
/// sees the result. Without a remote such a call runs here (on `local`).
class RemoteTool final : public tools::Tool {
 public:
  RemoteTool(tools::Tool* local, std::shared_ptr<RemoteRun> run)
      : local_(std::move(local)), run_(std::move(run)) {}
  std::string uri() const override { return local_->uri(); }
  std::string description() const override { return local_->description(); }
  nlohmann::json schema() const override { return local_->schema(); }
  Result<nlohmann::json> Call(const nlohmann::json& args, const tools::CallContext& ctx) override;

 private:
  tools::Tool* local_;  // in the worker's own registry, which outlives every run
  std::shared_ptr<RemoteRun> run_;
};

/// RemoteRegistries wraps every provider and tool of the local registries.
void AddRemoteProviders(const llm::Registry& local, std::shared_ptr<RemoteRun> run, llm::Registry* out);
void AddRemoteTools(const tools::Registry& local, std::shared_ptr<RemoteRun> run, tools::Registry* out);

}  // namespace sw::dist
