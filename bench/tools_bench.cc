// Tool-call overhead: a builtin fs.read called directly and as an agent's turn through the
// engine (zero-latency model, no store), and an MCP tools/call round trip over stdio against
// the real server-everything from npm (scripts/mcp-servers.sh installs it). Quoted in
// docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "engine/engine.h"
#include "tools/mcp_client.h"
#include "tools/tool.h"

namespace {

using namespace sw;
using json = nlohmann::json;
namespace fs = std::filesystem;

std::string TempWorkspace() {
  char tmpl[] = "/tmp/sw_tools_bench_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/file.txt") << std::string(1024, 'x') << "\n";
  return dir;
}

void BM_FsReadDirect(benchmark::State& state) {
  std::string ws = TempWorkspace();
  tools::Registry reg;
  tools::AddBuiltins(&reg);
  tools::Tool* read = reg.Get("builtin://fs.read");
  tools::CallContext ctx;
  ctx.workspace = ws;
  json args{{"path", "file.txt"}};
  for (auto _ : state) {
    auto r = read->Call(args, ctx);
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
    benchmark::DoNotOptimize(r);
  }
  fs::remove_all(ws);
}
BENCHMARK(BM_FsReadDirect)->UseRealTime()->Unit(benchmark::kMicrosecond);

/// ReadLoop is a model that asks for fs.read on every turn until `turns`, then answers.
class ReadLoop : public llm::Provider {
 public:
  explicit ReadLoop(int turns) : turns_(turns) {}
  std::string name() const override { return "loop"; }
  void Start(const llm::Request& r, llm::CancelFlag, llm::DeltaFn, llm::DoneFn done) override {
    llm::CallResult res;
    res.response = llm::Response{};
    res.response->usage = {10, 5, 0, 0, 0};
    if (r.turn < turns_)
      res.response->tool_calls.push_back(
          llm::ToolCall{"c" + std::to_string(r.turn), "fs_read", "{\"path\":\"file.txt\",\"offset\":" + std::to_string(r.turn) + "}", ""});
    else
      res.response->text = "done";
    done(std::move(res));
  }

 private:
  int turns_;
};

void BM_FsReadAgentTurn(benchmark::State& state) {
  const int turns = 100;
  std::string ws = TempWorkspace();
  std::string flow = ws + "/flow.yaml";
  std::ofstream(flow) << "name: loop\nworkspace: empty\nnodes:\n  a: {kind: agent, model: loop/m, prompt: go, tools: [builtin://fs.read], "
                         "max_turns: 200, loop_guard: 100}\n";
  auto wf = workflow::LoadOrError(flow);
  if (!wf.ok()) {
    state.SkipWithError(wf.status().message().c_str());
    return;
  }
  llm::Registry providers;
  providers.Add(std::make_shared<ReadLoop>(turns));
  tools::Registry reg;
  tools::AddBuiltins(&reg);
  engine::Services s;
  s.providers = &providers;
  s.tools = &reg;
  auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    engine::RunOptions o;
    o.workspace_root = ws + "/runs";  // a fresh workspace per run (one git init and commit each)
    auto r = engine::Run(*wf, s, o);
    if (!r.ok() || r->status != "succeeded")
      state.SkipWithError(r.ok() ? r->error.c_str() : r.status().message().c_str());
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  state.counters["us_per_turn"] = secs / static_cast<double>(state.iterations() * turns) * 1e6;
  fs::remove_all(ws);
}
BENCHMARK(BM_FsReadAgentTurn)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_McpStdioRoundTrip(benchmark::State& state) {
  tools::McpServerSpec spec;
  spec.name = "everything";
  spec.command = "node";
  spec.args = {std::string(SW_SOURCE_DIR) + "/tests/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js",
               "stdio"};
  auto c = tools::McpClient::Connect(spec);
  if (!c.ok()) {
    state.SkipWithError(c.status().message().c_str());
    return;
  }
  json args{{"message", "ping"}};
  for (auto _ : state) {
    auto r = (*c)->CallTool("echo", args);
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
  }
}
BENCHMARK(BM_McpStdioRoundTrip)->UseRealTime()->MinTime(2.0)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
