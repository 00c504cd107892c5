// Every read command over a stored run of 10,000 nodes (100 layers of 100, each node reading
// two of the layer above; the last layer's first ten fail), plus a second run of the same
// workflow to diff against. Each report is timed in process (the function the CLI and the web
// UI call) and as the whole command (`specwright CMD ... > /dev/null`, process start included).
// Target: every one under 100 ms. Quoted in docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "engine/engine.h"
#include "observe/observe.h"
#include "store/store.h"

extern char** environ;

namespace {

using namespace sw;
using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr int kLayers = 100, kWidth = 100;

/// Echo answers at once with a little text and usage; nodes named f<digits> fail.
class Echo : public llm::Provider {
 public:
  explicit Echo(std::string variant) : variant_(std::move(variant)) {}
  std::string name() const override { return "bench"; }
  void Start(const llm::Request& r, llm::CancelFlag, llm::DeltaFn, llm::DoneFn done) override {
    llm::CallResult res;
    if (r.node_id[0] == 'f') {
      res.error.status = Failed("HTTP 429: rate limited (bench)");
    } else {
      res.response = llm::Response{};
      res.response->text = "answer of " + r.node_id + variant_ + "\nsecond line\n";
      res.response->usage = {120, 30, 20, 0, 0};
      res.response->finish_reason = "stop";
    }
    done(std::move(res));
  }

 private:
  std::string variant_;
};

struct Fixture {
  std::string dir, store_dir, run_a = "bench-a", run_b = "bench-b", last_artifact;
  std::unique_ptr<store::Store> store;
  bool ok = false;
  std::string error;
};

Fixture& Get() {
  static Fixture f = [] {
    Fixture fx;
    char tmpl[] = "/tmp/sw_observe_bench_XXXXXX";
    fx.dir = mkdtemp(tmpl);
    fx.store_dir = fx.dir + "/store";
    std::ofstream y(fx.dir + "/big.yaml");
    y << "name: big\ndefaults: {model: bench/m, max_tokens: 64, retry: {attempts: 1}}\nconcurrency: {global: 64}\nnodes:\n";
    for (int l = 0; l < kLayers; ++l)
      for (int w = 0; w < kWidth; ++w) {
        bool fail = l == kLayers - 1 && w < 10;
        std::string id = std::string(fail ? "f" : "n") + std::to_string(l) + "_" + std::to_string(w);
        y << "  " << id << ": {";
        if (l > 0) {
          std::string p1 = "n" + std::to_string(l - 1) + "_" + std::to_string(w);
          std::string p2 = "n" + std::to_string(l - 1) + "_" + std::to_string((w + 1) % kWidth);
          y << "needs: [" << p1 << ", " << p2 << "], prompt: \"join {{nodes." << p1 << ".output}} {{nodes." << p2 << ".output}}\"}\n";
        } else {
          y << "prompt: \"start " << w << "\"}\n";
        }
      }
    y.close();
    fx.last_artifact = "n" + std::to_string(kLayers - 1) + "_50";
    auto wf = workflow::LoadOrError(fx.dir + "/big.yaml");
    if (!wf.ok()) {
      fx.error = wf.status().message();
      return fx;
    }
    auto st = store::OpenSqlite(fx.store_dir);
    if (!st.ok()) {
      fx.error = st.status().message();
      return fx;
    }
    fx.store = std::move(st).value();
    llm::PriceTable prices;
    prices.Set("bench/m", llm::Price{1e-6, 2e-6});
    tools::Registry tools;
    for (const auto& [id, variant] : {std::pair<std::string, std::string>{fx.run_a, ""}, {fx.run_b, " (b)"}}) {
      llm::Registry providers;
      providers.Add(std::make_shared<Echo>(variant));
      engine::Services s;
      s.providers = &providers;
      s.prices = &prices;
      s.tools = &tools;
      s.store = fx.store.get();
      engine::RunOptions o;
      o.run_id = id;
      o.use_cache = false;
      o.default_max_calls = 100000;
      o.commit_interval = 0.05;
      auto t0 = std::chrono::steady_clock::now();
      auto r = engine::Run(*wf, s, o);
      if (!r.ok()) {
        fx.error = r.status().message();
        return fx;
      }
      std::fprintf(stderr, "stored run %s: %s, %d succeeded, %d failed, %d skipped in %.1f s\n", id.c_str(),
                   r->status.c_str(), r->succeeded, r->failed, r->skipped,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    fx.ok = true;
    static std::string cleanup = fx.dir;
    std::atexit([] { fs::remove_all(cleanup); });
    return fx;
  }();
  return f;
}

std::string Encode(const json& j) { return j.dump(); }
std::string Encode(const std::string& s) { return s; }
template <typename T>
std::string Encode(const T& report) {
  return observe::ToJson(report);
}

/// InProcess times building a report and encoding it as the JSON the API serves.
template <typename Fn>
void InProcess(benchmark::State& state, Fn fn) {
  Fixture& f = Get();
  if (!f.ok) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  size_t bytes = 0;
  for (auto _ : state) {
    auto r = fn(f);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      return;
    }
    bytes = Encode(*r).size();
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["json_kb"] = static_cast<double>(bytes) / 1024;
}

/// The store reads the reports are made of.
template <typename Fn>
void StoreRead(benchmark::State& state, Fn fn) {
  Fixture& f = Get();
  if (!f.ok) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  size_t n = 0;
  for (auto _ : state) {
    auto r = fn(f);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      return;
    }
    n = r->size();
  }
  state.counters["rows"] = static_cast<double>(n);
}
void BM_StoreNodeRuns(benchmark::State& s) { StoreRead(s, [](Fixture& f) { return f.store->ListNodeRuns(f.run_a); }); }
void BM_StoreLlmCalls(benchmark::State& s) { StoreRead(s, [](Fixture& f) { return f.store->ListLlmCalls(f.run_a); }); }
void BM_StoreEventsOfType(benchmark::State& s) {
  StoreRead(s, [](Fixture& f) { return f.store->ListEventsOfType(f.run_a, "node_succeeded"); });
}
void BM_StoreAllEvents(benchmark::State& s) { StoreRead(s, [](Fixture& f) { return f.store->ListEvents(f.run_a); }); }
void BM_StoreArtifacts(benchmark::State& s) { StoreRead(s, [](Fixture& f) { return f.store->ListArtifacts(f.run_a); }); }
BENCHMARK(BM_StoreNodeRuns)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StoreLlmCalls)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StoreEventsOfType)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StoreAllEvents)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StoreArtifacts)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Trace(benchmark::State& s) { InProcess(s, [](Fixture& f) { return observe::Trace(f.store.get(), f.run_a); }); }
void BM_TraceNode(benchmark::State& s) {
  InProcess(s, [](Fixture& f) { return observe::Trace(f.store.get(), f.run_a, f.last_artifact); });
}
void BM_Debug(benchmark::State& s) { InProcess(s, [](Fixture& f) { return observe::Debug(f.store.get(), f.run_a); }); }
void BM_Cost(benchmark::State& s) { InProcess(s, [](Fixture& f) { return observe::RunCost(f.store.get(), f.run_a); }); }
void BM_CostSince(benchmark::State& s) { InProcess(s, [](Fixture& f) { return observe::CostSince(f.store.get(), 0); }); }
void BM_Artifacts(benchmark::State& s) { InProcess(s, [](Fixture& f) { return observe::Artifacts(f.store.get(), f.run_a); }); }
void BM_Lineage(benchmark::State& s) {
  InProcess(s, [](Fixture& f) { return observe::Lineage(f.store.get(), f.last_artifact, f.run_a); });
}
void BM_Diff(benchmark::State& s) { InProcess(s, [](Fixture& f) { return observe::Diff(f.store.get(), f.run_a, f.run_b); }); }
void BM_ExportOtlp(benchmark::State& s) {
  InProcess(s, [](Fixture& f) -> Result<std::string> {
    SW_ASSIGN_OR_RETURN(auto set, observe::CollectSpans(f.store.get(), f.run_a));
    return observe::OtlpJson(f.store.get(), set, false);
  });
}
void BM_CollectSpans(benchmark::State& s) {
  InProcess(s, [](Fixture& f) -> Result<std::string> {
    SW_ASSIGN_OR_RETURN(auto set, observe::CollectSpans(f.store.get(), f.run_a));
    return std::to_string(set.spans.size());
  });
}
BENCHMARK(BM_CollectSpans)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Trace)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_TraceNode)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Debug)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Cost)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CostSince)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Artifacts)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Lineage)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Diff)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ExportOtlp)->Unit(benchmark::kMillisecond)->UseRealTime();

/// Command runs the real binary with its output to /dev/null: what a user waits for.
void Command(benchmark::State& state, std::vector<std::string> args) {
  Fixture& f = Get();
  if (!f.ok) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  for (auto& a : args) {
    if (a == "A") a = f.run_a;
    else if (a == "B") a = f.run_b;
    else if (a == "LAST") a = f.last_artifact;
  }
  args.insert(args.begin(), SW_BINARY);
  args.insert(args.end(), {"--store", f.store_dir});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto _ : state) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    if (posix_spawn(&pid, SW_BINARY, &fa, nullptr, argv.data(), environ) != 0) {
      state.SkipWithError("spawn failed");
      return;
    }
    posix_spawn_file_actions_destroy(&fa);
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      state.SkipWithError(("exit " + std::to_string(WEXITSTATUS(st)) + ": " + args[1]).c_str());
      return;
    }
  }
}

#define SW_COMMAND(name, ...)                                            \
  void name(benchmark::State& s) { Command(s, {__VA_ARGS__}); }          \
  BENCHMARK(name)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0)

SW_COMMAND(BM_CmdVersion, "version");  // the floor: process start of the binary
SW_COMMAND(BM_CmdRuns, "runs");
SW_COMMAND(BM_CmdShow, "show", "A");
SW_COMMAND(BM_CmdTrace, "trace", "A");
SW_COMMAND(BM_CmdTraceJson, "trace", "A", "--json");
SW_COMMAND(BM_CmdTraceNode, "trace", "A", "--node", "LAST");
SW_COMMAND(BM_CmdDebug, "debug", "A");
SW_COMMAND(BM_CmdCost, "cost", "A");
SW_COMMAND(BM_CmdCostSince, "cost", "--since", "7d");
SW_COMMAND(BM_CmdArtifacts, "artifacts", "A");
SW_COMMAND(BM_CmdLineage, "lineage", "LAST", "--run", "A");
SW_COMMAND(BM_CmdDiff, "diff", "A", "B");
SW_COMMAND(BM_CmdExportJson, "export", "A");
SW_COMMAND(BM_CmdExportCsv, "export", "A", "--format", "csv");
SW_COMMAND(BM_CmdExportOtlp, "export", "A", "--format", "otlp");

}  // namespace

BENCHMARK_MAIN();
