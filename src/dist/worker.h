// Worker: claims tasks from the queue and runs them — orchestrations of runs (engine::Run or
// Resume with remote providers and tools and a lease-fenced store), model calls and tool
// calls with the providers and tools configured on this machine — keeping their leases alive
// by heartbeats. SIGTERM: finish the calls in hand, give the runs back (another worker resumes
// them); a second one gives everything back at once. SIGKILL: the leases lapse and other
// workers take the tasks over.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "llm/prices.h"
#include "llm/provider.h"
#include "store/store.h"
#include "engine/engine.h"
#include "tools/tool.h"
#include "workflow/workflow.h"

namespace sw::dist {

struct WorkerOptions {
  std::string url;              // the PostgreSQL store (queue and store)
  int concurrency = 4;          // model and tool calls at once
  int max_runs = 8;             // orchestrations at once (they mostly wait; not counted above)
  std::vector<std::string> labels;
  double lease = 30;            // seconds a claim holds without a heartbeat (beats every lease/3)
  double poll = 2;              // seconds between looks at the queue when no NOTIFY came
  double idle_exit = 0;         // exit after this long with nothing to do (0: never)
  bool listen = true;           // LISTEN for NOTIFYs (false: polling only, for tests)
  bool quiet = false;           // no line per task on stderr
  std::string workspace_root;   // where orchestrated runs make their workspaces
  std::string scratch_root;     // where submitted workflows are unpacked to be loaded
  std::string git_cache_root;   // where tool calls check out run workspaces (git_transport.h)
  int blocking_threads = 16;    // an orchestrated run's pool (each remote tool call waits on one)
};

/// WorkerEnv is what this machine has, built as `specwright run` builds it.
struct WorkerEnv {
  llm::Registry* providers = nullptr;
  llm::PriceTable* prices = nullptr;
  tools::Registry* tools = nullptr;
  store::Store* store = nullptr;  // the PostgreSQL store at options.url
  /// WithModel applies a run's `--model` to its workflow (cli's WithModel).
  std::function<std::shared_ptr<const workflow::Workflow>(const std::shared_ptr<const workflow::Workflow>&,
                                                          const std::string&)>
      with_model;
  /// Told when a run this worker orchestrates ends or waits (the CLI's notify::Notifier).
  engine::RunObserver* observer = nullptr;
};

struct WorkerStats {
  int64_t claimed = 0, finished = 0, lost = 0, released = 0, reruns = 0, failed = 0;
};

/// RunWorker works until *signals > 0 (graceful; > 1: give everything back now) or idle.
Result<WorkerStats> RunWorker(const WorkerOptions& options, const WorkerEnv& env,
                              std::shared_ptr<std::atomic<int>> signals);

}  // namespace sw::dist
