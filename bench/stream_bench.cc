// A stream that never ends, through the real binary over real HTTP: `specwright run` against
// `specwright-fakellm` (separate processes, so the memory figure is specwright's alone) whose
// every answer is a stream of text deltas without end. Reports the time until the run fails,
// specwright's peak RSS and the store's size. Targets (issue 17): peak RSS <= 100 MB, time to
// fail <= the node's timeout + 1 s.
//
// Also the repair turn's overhead: a JSON node whose first answer is prose, repaired by a
// second call, against the same node answered right the first time, both in memory with the
// scripted provider (the engine's own cost; the model's latency is the same either way).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "fake_process.h"
#include "llm/prices.h"
#include "llm/scripted.h"
#include "store/store.h"
#include "tools/tool.h"
#include "workflow/workflow.h"

namespace fs = std::filesystem;
namespace {

uint64_t DirBytes(const std::string& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file(ec)) n += e.file_size(ec);
  return n;
}

/// One endless-stream run: deltas of delta_bytes every gap_ms, a node with max_tokens and a
/// timeout of timeout_s, one attempt.
void EndlessStream(benchmark::State& state, int delta_bytes, int gap_ms, int max_tokens, int timeout_s) {
  std::string dir = fs::temp_directory_path() / ("sw_stream_bench_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir + "/fake.yaml") << "options: {chunk_gap_ms: " << gap_ms << "}\n"
                                    << "default: {fault: endless, endless_bytes: " << delta_bytes << "}\n";
  auto fake = std::make_unique<FakeProcess>(std::vector<std::string>{"--script", dir + "/fake.yaml"});
  if (fake->url.empty()) {
    state.SkipWithError("fake server did not start");
    return;
  }
  std::ofstream(dir + "/specwright.yaml") << "providers:\n  fake:\n    api: openai-compatible\n    base_url: "
                                          << fake->url << "/v1\n    api_key: none\n";
  std::ofstream(dir + "/flow.yaml") << "name: endless\nnodes:\n  ask:\n    model: fake/m\n    max_tokens: " << max_tokens
                                    << "\n    timeout: " << timeout_s << "s\n    retry: 1\n    prompt: go on\n";
  double secs = 0, rss_mb = 0, store_mb = 0;
  int code = -1;
  for (auto _ : state) {
    fs::remove_all(dir + "/store");
    auto t0 = std::chrono::steady_clock::now();
    pid_t pid = fork();
    if (pid == 0) {
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      dup2(devnull, 2);
      execl(SW_BINARY, SW_BINARY, "run", (dir + "/flow.yaml").c_str(), "--store", (dir + "/store").c_str(), "--config",
            (dir + "/specwright.yaml").c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    struct rusage ru {};
    wait4(pid, &status, 0, &ru);
    secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rss_mb = ru.ru_maxrss / 1024.0;
    store_mb = DirBytes(dir + "/store") / (1024.0 * 1024.0);
    code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  fake.reset();
  fs::remove_all(dir);
  if (code != 1) state.SkipWithError(("the run should fail (exit 1), it exited " + std::to_string(code)).c_str());
  state.counters["seconds_to_fail"] = secs;
  state.counters["timeout_s"] = timeout_s;
  state.counters["peak_rss_mb"] = rss_mb;
  state.counters["store_mb"] = store_mb;
}

// 1 MB deltas as fast as they are read: cut at the first delta past the text cap.
void BM_EndlessStream_1MBDeltas(benchmark::State& state) { EndlessStream(state, 1 << 20, 1, 4096, 10); }
// The largest cap (max_tokens 1,000,000: the 16 MiB ceiling of text) against 1 MB deltas.
void BM_EndlessStream_1MBDeltas_LargestCap(benchmark::State& state) { EndlessStream(state, 1 << 20, 1, 1000000, 10); }
// 1 KB deltas every millisecond with a generous cap: the node's 10 s timeout ends it.
void BM_EndlessStream_SmallDeltas_Timeout(benchmark::State& state) { EndlessStream(state, 1024, 1, 200000, 10); }

BENCHMARK(BM_EndlessStream_1MBDeltas)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_EndlessStream_1MBDeltas_LargestCap)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_EndlessStream_SmallDeltas_Timeout)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

// ---- the repair turn ----

std::shared_ptr<const sw::workflow::Workflow> JsonFlow(const std::string& dir) {
  fs::create_directories(dir);
  std::ofstream(dir + "/flow.yaml") << "name: repair\nnodes:\n  ask:\n    model: scripted/m\n    output: json\n"
                                       "    schema: {type: object, required: [total]}\n    prompt: totals\n";
  return *sw::workflow::LoadOrError(dir + "/flow.yaml");
}

void Repair(benchmark::State& state, bool first_is_prose) {
  std::string dir = fs::temp_directory_path() / ("sw_repair_bench_" + std::to_string(getpid()));
  fs::remove_all(dir);
  auto wf = JsonFlow(dir);
  std::string script = dir + "/script.yaml";
  if (first_is_prose)
    std::ofstream(script) << "nodes:\n  ask:\n    - {when: {attempt: 1}, text: \"I think the total is 42.\"}\n"
                             "    - {json: {total: 42}}\n";
  else
    std::ofstream(script) << "nodes:\n  ask:\n    - {json: {total: 42}}\n";
  sw::llm::PriceTable prices;
  auto p = sw::llm::LoadScripted(script, &prices);
  if (!p.ok()) {
    state.SkipWithError(p.status().message().c_str());
    return;
  }
  sw::llm::Registry providers;
  providers.Add(*p);
  sw::tools::Registry tools;
  sw::engine::Services s;
  s.providers = &providers;
  s.prices = &prices;
  s.tools = &tools;
  int calls = 0;
  for (auto _ : state) {
    auto r = sw::engine::Run(wf, s, sw::engine::RunOptions{});
    if (!r.ok() || r->status != "succeeded") {
      state.SkipWithError(r.ok() ? r->error.c_str() : r.status().message().c_str());
      break;
    }
    calls = static_cast<int>(r->calls);
  }
  state.counters["model_calls"] = calls;
  fs::remove_all(dir);
}

void BM_JsonNode_AnsweredRight(benchmark::State& state) { Repair(state, false); }
void BM_JsonNode_RepairedOnce(benchmark::State& state) { Repair(state, true); }
BENCHMARK(BM_JsonNode_AnsweredRight)->Unit(benchmark::kMicrosecond)->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK(BM_JsonNode_RepairedOnce)->Unit(benchmark::kMicrosecond)->Repetitions(3)->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
