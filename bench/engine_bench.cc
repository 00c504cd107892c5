// Engine overhead with a zero-latency scripted provider: a 3-node chain, a 5-way fan-out
// with a join, and a 10,000-node layered DAG (100 layers x 100 nodes, each node needing
// three nodes of the layer before), each with and without durable SQLite persistence.
// Run with `make bench`; figures are quoted in docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "base/hash.h"
#include "engine/engine.h"
#include "llm/scripted.h"
#include "store/store.h"

namespace {

using namespace sw;

std::string TempDir() {
  char tmpl[] = "/tmp/sw_bench_XXXXXX";
  return mkdtemp(tmpl);
}

std::string ChainYaml() {
  return "name: chain\ndefaults: {model: scripted/m}\nnodes:\n  a: {prompt: a}\n  b: {needs: [a], prompt: b}\n"
         "  c: {needs: [b], prompt: c}\n";
}

std::string FanOutYaml() {
  std::string y = "name: fan\ndefaults: {model: scripted/m}\nconcurrency: {global: 64}\nnodes:\n  src: {prompt: s}\n";
  for (int i = 0; i < 5; ++i) y += "  f" + std::to_string(i) + ": {needs: [src], prompt: f}\n";
  y += "  join: {needs: [f0, f1, f2, f3, f4], prompt: j}\n";
  return y;
}

std::string LayeredYaml(int layers, int width) {
  std::string y = "name: layered\ndefaults: {model: scripted/m}\nconcurrency: {global: 256}\nbudget: {max_calls: 100000}\nnodes:\n";
  for (int l = 0; l < layers; ++l)
    for (int i = 0; i < width; ++i) {
      y += "  n" + std::to_string(l) + "_" + std::to_string(i) + ": {prompt: p";
      if (l > 0) {
        y += ", needs: [";
        bool first = true;
        for (int d = i - 1; d <= i + 1; ++d) {
          if (d < 0 || d >= width) continue;
          y += (first ? "n" : ", n") + std::to_string(l - 1) + "_" + std::to_string(d);
          first = false;
        }
        y += "]";
      }
      y += "}\n";
    }
  return y;
}

struct Fixture {
  std::string dir;
  std::shared_ptr<const workflow::Workflow> wf;
  llm::Registry providers;
  llm::PriceTable prices;
  tools::Registry tools;
  std::unique_ptr<store::Store> store;
  engine::Services services;

  Fixture(const std::string& yaml, bool persist) {
    dir = TempDir();
    std::ofstream(dir + "/wf.yaml") << yaml;
    auto r = workflow::Load(dir + "/wf.yaml");
    if (!r.errors.empty()) {
      fprintf(stderr, "%s\n", r.errors[0].ToString().c_str());
      abort();
    }
    wf = r.workflow;
    auto p = llm::ScriptedFromJson(R"({"nodes": {"*": [{"text": "ok", "usage": {"input": 5, "output": 2}}]}})", "bench",
                                   &prices);
    providers.Add(*p);
    services.providers = &providers;
    services.prices = &prices;
    services.tools = &tools;
    if (persist) {
      store = std::move(store::OpenSqlite(dir + "/store")).value();
      services.store = store.get();
    }
  }
  ~Fixture() { std::filesystem::remove_all(dir); }

  void RunOnce(int64_t i) {
    engine::RunOptions o;
    o.use_cache = false;
    o.run_id = "b" + std::to_string(i);
    o.store_poll_interval = 0;
    o.blocking_threads = 1;
    o.default_max_calls = 1000000;
    auto r = engine::Run(wf, services, std::move(o));
    if (!r.ok() || r->status != "succeeded") {
      fprintf(stderr, "run failed: %s\n", r.ok() ? r->error.c_str() : r.status().message().c_str());
      abort();
    }
  }
};

void Bench(benchmark::State& state, const std::string& yaml, bool persist) {
  Fixture f(yaml, persist);
  int64_t i = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) f.RunOnce(i++);
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  double runs = static_cast<double>(state.iterations());
  state.counters["wall_us_per_run"] = us / runs;
  state.counters["wall_us_per_node"] = us / runs / static_cast<double>(f.wf->nodes.size());
}

void BM_Chain3(benchmark::State& s) { Bench(s, ChainYaml(), s.range(0)); }
void BM_FanOut5Join(benchmark::State& s) { Bench(s, FanOutYaml(), s.range(0)); }
void BM_Layered100x100(benchmark::State& s) { Bench(s, LayeredYaml(100, 100), s.range(0)); }

// The machine's own speed, for comparing with a baseline recorded elsewhere or on a busier
// day (bench/compare.mjs divides every figure by this one): hashing, sorting and allocating,
// the mix the engine does, with no engine code.
void BM_Calibration(benchmark::State& state) {
  std::vector<std::string> words;
  for (int i = 0; i < 20000; ++i) words.push_back("node-" + std::to_string((i * 7919) % 20000) + "-output");
  for (auto _ : state) {
    auto copy = words;
    std::sort(copy.begin(), copy.end());
    std::string joined;
    for (const auto& w : copy) joined += w;
    benchmark::DoNotOptimize(Hash128Hex(joined));
  }
}

BENCHMARK(BM_Calibration)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Chain3)->ArgName("persist")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FanOut5Join)->ArgName("persist")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Layered100x100)->ArgName("persist")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
