// The observability commands on runs the tests make with the real binary: a run that failed on
// a 429 after its retries, a skipped branch, replay from a node (which nodes called a model is
// asserted from the scripted provider's call log), offline replay byte for byte, drift
// refusal, diff, lineage with a planted cycle, OTLP export and live streaming, and gc.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "net/http_server.h"
#include "store/store.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace e2e;

// a -> b -> d -> e, a -> c -> e; `skip` is a branch whose condition is false.
const char* kFlow = R"(name: chain
inputs:
  topic: {type: string, default: "tides"}
  tone: {type: string, default: "plain"}
defaults: {model: scripted/demo, max_tokens: 200}
budget: {max_usd: 1.0}
nodes:
  a: {prompt: "Outline {{inputs.topic}}"}
  b: {needs: [a], prompt: "Draft from {{nodes.a.output}}"}
  c: {needs: [a], prompt: "Facts for {{nodes.a.output}} in a {{inputs.tone}} tone"}
  d: {needs: [b], prompt: "Polish {{nodes.b.output}}"}
  e: {needs: [c, d], prompt: "Merge {{nodes.c.output}} and {{nodes.d.output}}"}
  skip: {needs: [a], when: "inputs.topic == 'never'", prompt: "unused"}
)";

const char* kScript = R"(prices:
  scripted/demo: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
  scripted/other: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
nodes:
  a: [{text: "1. moon\n2. water"}]
  b: [{text: "The moon pulls the water."}]
  c:
    - {when: {prompt_contains: "VERSION TWO"}, text: "Facts, second take:\nhigh tide twice a day"}
    - {when: {prompt_contains: "cheerful"}, text: "Cheerful facts!"}
    - {text: "Facts:\nhigh tide twice a day\nlow tide twice a day"}
  d: [{text: "The Moon pulls the oceans."}]
  e: [{text: "Merged note."}]
)";

class ObserveE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_obs_e2e_XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = dir_ + "/store";
    log_ = dir_ + "/calls.log";
    Write("flow.yaml", kFlow);
    Write("script.yaml", kScript);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ + "/" + name) << text; }
  Result Cli(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.end(), {"--store", store_});
    env.push_back("SW_SCRIPTED_CALL_LOG=" + log_);
    return RunCli(args, dir_, env);
  }
  std::string RunFlow(const std::string& id) {
    auto r = Cli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--run-id", id});
    EXPECT_EQ(r.code, 0) << r.err << r.out;
    return id;
  }
  /// CallsSince returns the nodes that called the scripted model since the log had n lines.
  std::multiset<std::string> CallsSince(size_t n) {
    std::multiset<std::string> out;
    std::ifstream f(log_);
    std::string line;
    for (size_t i = 0; std::getline(f, line); ++i)
      if (i >= n) out.insert(line.substr(0, line.find('\t')));
    return out;
  }
  size_t LogLines() {
    std::ifstream f(log_);
    size_t n = 0;
    std::string line;
    while (std::getline(f, line)) ++n;
    return n;
  }
  std::string dir_, store_, log_;
};

json Parse(const std::string& s) {
  json j = json::parse(s, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << s;
  return j;
}

TEST_F(ObserveE2E, FailedRunWithA429ExplainsItselfAndItsSkippedBranch) {
  FakeLlm fake({"--latency-ms", "5"});
  Write("fake.yaml", "default: {fault: \"429\", retry_after: 0.05}\n");
  fake.Stop();
  FakeLlm limited({"--latency-ms", "5", "--script", dir_ + "/fake.yaml"});
  ASSERT_FALSE(limited.url.empty());
  Write("prices.json", R"({"openai-compatible/fake-model": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}})");
  std::string flow = kFlow;
  flow.replace(flow.find("  b: {needs: [a], prompt"), 0,
               "  b: {needs: [a], model: openai-compatible/fake-model, retry: {attempts: 3, backoff: 10ms, max_delay: 1s},"
               " prompt: \"Draft from {{nodes.a.output}}\"}\n  b_old: {needs: [a], when: \"false\", prompt: \"x\"}\n");
  flow.erase(flow.find("  b: {needs: [a], prompt: \"Draft from {{nodes.a.output}}\"}\n"),
             std::string("  b: {needs: [a], prompt: \"Draft from {{nodes.a.output}}\"}\n").size());
  Write("flow429.yaml", flow);
  std::vector<std::string> env = {"OPENAI_COMPATIBLE_BASE_URL=" + limited.url + "/v1", "OPENAI_COMPATIBLE_API_KEY=sk-test-429"};
  auto r = Cli({"run", dir_ + "/flow429.yaml", "--script", dir_ + "/script.yaml", "--prices", dir_ + "/prices.json",
                "--run-id", "r429"},
               env);
  ASSERT_EQ(r.code, 1) << r.err << r.out;

  // debug: the provider's own message, the retries, the prompt, the inputs, who went down.
  r = Cli({"debug", "latest", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json d = Parse(r.out);
  std::map<std::string, json> by;
  for (const auto& n : d["nodes"]) by[n["node"].get<std::string>()] = n;
  ASSERT_TRUE(by.count("b")) << d.dump(2);
  const json& b = by["b"];
  EXPECT_EQ(b["status"], "failed");
  EXPECT_NE(b["error"].get<std::string>().find("429"), std::string::npos) << b["error"];
  EXPECT_NE(b["error"].get<std::string>().find("after 3 attempts"), std::string::npos) << b["error"];
  EXPECT_EQ(b["retries"], 2);
  ASSERT_EQ(b["calls"].size(), 3u);
  for (const auto& c : b["calls"]) {
    EXPECT_EQ(c["status"], "error");
    EXPECT_NE(c["error"].get<std::string>().find("HTTP 429"), std::string::npos) << c;
  }
  ASSERT_FALSE(b["prompt"].empty());
  EXPECT_EQ(b["prompt"].back()["text"], "Draft from 1. moon\n2. water");
  ASSERT_EQ(b["inputs"].size(), 1u);
  EXPECT_EQ(b["inputs"][0]["node"], "a");
  EXPECT_EQ(b["inputs"][0]["output"], "1. moon\n2. water");
  ASSERT_EQ(b["skipped_dependents"].size(), 1u);
  EXPECT_EQ(b["skipped_dependents"][0]["node"], "d");
  EXPECT_EQ(by["d"]["status"], "skipped");
  EXPECT_TRUE(by["d"]["by_failure"].get<bool>());
  EXPECT_EQ(by["e"]["status"], "skipped");
  EXPECT_NE(by["skip"]["reason"].get<std::string>().find("condition is false"), std::string::npos);
  EXPECT_FALSE(by.count("a")) << "succeeded nodes are not in the post-mortem";
  EXPECT_FALSE(by.count("c"));
  // The text form says the same to a person, and never shows the key.
  r = Cli({"debug", "r429"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* want : {"FAILED node \"b\"", "HTTP 429", "Draft from 1. moon", "took down", "d (dependency \"b\" failed)",
                           "SKIPPED node \"skip\"", "condition is false"})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  EXPECT_EQ(r.out.find("sk-test-429"), std::string::npos);
  // --node narrows to one node, any status.
  r = Cli({"debug", "r429", "--node", "a", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Parse(r.out)["nodes"][0]["status"], "succeeded");
  r = Cli({"debug", "r429", "--node", "nope"});
  EXPECT_EQ(r.code, 2) << r.err;

  // trace: one row per node x attempt, the three failed attempts of b visible.
  r = Cli({"trace", "r429", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json t = Parse(r.out);
  int b_rows = 0;
  for (const auto& row : t["rows"])
    if (row["node"] == "b") {
      ++b_rows;
      EXPECT_EQ(row["status"], "failed");
    }
  EXPECT_EQ(b_rows, 3);
  r = Cli({"trace", "r429"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("b a3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("xxxx"), std::string::npos) << r.out;
  r = Cli({"trace", "r429", "--node", "b"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("model calls of b"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("HTTP 429"), std::string::npos) << r.out;

  // cost: by node, model and provider; the failed calls cost nothing but are counted.
  r = Cli({"cost", "r429", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json c = Parse(r.out);
  EXPECT_EQ(c["total"]["calls"], 5);  // a, c, and three attempts of b
  std::set<std::string> providers;
  for (const auto& p : c["by_provider"]) providers.insert(p["key"].get<std::string>());
  EXPECT_EQ(providers, (std::set<std::string>{"openai-compatible", "scripted"}));
  EXPECT_EQ(c["budget"]["max_usd"], 1.0);
  EXPECT_NEAR(c["budget"]["left_usd"].get<double>(), 1.0 - c["total"]["cost_usd"].get<double>(), 1e-12);
  r = Cli({"cost", "--since", "1d", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Parse(r.out)["total"]["calls"], 5);
  r = Cli({"cost", "--since", "yesterday"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("\"yesterday\""), std::string::npos) << r.err;
}

TEST_F(ObserveE2E, UnknownPricesAreShownAsUnknownNotZero) {
  Write("free.yaml", "nodes:\n  a: [{text: \"x\"}]\n");
  Write("f.yaml", "name: f\ndefaults: {model: scripted/unpriced}\nnodes:\n  a: {prompt: \"hi\"}\n");
  auto r = Cli({"run", dir_ + "/f.yaml", "--script", dir_ + "/free.yaml", "--run-id", "unpriced"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Cli({"cost", "unpriced", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json c = Parse(r.out);
  EXPECT_FALSE(c["total"]["cost_known"].get<bool>());
  EXPECT_EQ(c["total"]["unknown_price_calls"], 1);
  r = Cli({"cost", "unpriced"});
  EXPECT_NE(r.out.find("unknown"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("price unknown for 1 calls"), std::string::npos) << r.out;
  // Every other view says unknown too, never $0.00.
  r = Cli({"trace", "unpriced", "--json"});
  EXPECT_FALSE(Parse(r.out)["rows"][0]["cost_known"].get<bool>()) << r.out;
  r = Cli({"trace", "unpriced"});
  EXPECT_NE(r.out.find(" unknown"), std::string::npos) << r.out;
  r = Cli({"show", "unpriced", "--json"});
  EXPECT_FALSE(Parse(r.out)["nodes"][0]["cost_known"].get<bool>()) << r.out;
  EXPECT_FALSE(Parse(r.out)["cost_known"].get<bool>()) << r.out;
  r = Cli({"runs"});
  EXPECT_NE(r.out.find("unknown"), std::string::npos) << r.out;
  r = Cli({"diff", "unpriced", "unpriced", "--json"});
  EXPECT_FALSE(Parse(r.out)["nodes"][0]["a"]["cost_known"].get<bool>()) << r.out;
  r = Cli({"export", "unpriced", "--format", "csv"});
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 4) << r.out;  // header, run, node, call
  size_t unknowns = 0;
  for (size_t at = r.out.find(",unknown,"); at != std::string::npos; at = r.out.find(",unknown,", at + 1)) ++unknowns;
  EXPECT_EQ(unknowns, 3u) << "the run, the node and the call: " << r.out;
}

TEST_F(ObserveE2E, ReplayFromANodeRerunsExactlyItsDownstreamSet) {
  RunFlow("src");
  size_t before = LogLines();
  auto r = Cli({"replay", "src", "--from", "b", "--run-id", "fromb"});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(CallsSince(before), (std::multiset<std::string>{"b", "d", "e"})) << "c sorts after b but is not downstream";
  EXPECT_NE(r.err.find("run live: b, d, e"), std::string::npos) << r.err;
  // The reused nodes carry the source's outputs; the run says where they came from.
  r = Cli({"diff", "src", "fromb", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Parse(r.out)["first_divergence"].is_null()) << "the same script answers the same: " << r.out;

  // A different model for c: c and e run, nothing else.
  before = LogLines();
  r = Cli({"replay", "src", "--model", "c=scripted/other", "--run-id", "modelc"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(CallsSince(before), (std::multiset<std::string>{"c", "e"}));
  r = Cli({"diff", "src", "modelc", "--json"});
  json dm = Parse(r.out);
  for (const auto& n : dm["nodes"]) {
    if (n["node"] != "c") continue;
    EXPECT_EQ(n["a"]["model"], "scripted/demo");
    EXPECT_EQ(n["b"]["model"], "scripted/other");
  }
  EXPECT_EQ(dm["first_divergence"]["node"], "c") << r.out;

  // A changed input: exactly the nodes that read it, and their downstream.
  before = LogLines();
  r = Cli({"replay", "src", "--input", "tone=cheerful", "--run-id", "tone"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(CallsSince(before), (std::multiset<std::string>{"c", "e"}));

  // Bad requests name what is wrong.
  r = Cli({"replay", "src", "--from", "dd"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no node \"dd\" (did you mean \"d\"?)"), std::string::npos) << r.err;
  r = Cli({"replay", "src"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nothing to replay"), std::string::npos) << r.err;
  r = Cli({"replay", "src", "--model", "c"});
  EXPECT_EQ(r.code, 2);
  r = Cli({"replay", "src", "--input", "colour=red"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("colour"), std::string::npos) << r.err;
  Write("bad.md", "Facts for {{nodes.d.output}}");
  r = Cli({"replay", "src", "--prompt", "c=" + dir_ + "/bad.md"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not upstream of \"c\""), std::string::npos) << r.err;
  Write("unclosed.md", "line one\nFacts {{#nodes.a.output}} for");
  r = Cli({"replay", "src", "--prompt", "c=" + dir_ + "/unclosed.md"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(dir_ + "/unclosed.md:2:"), std::string::npos) << r.err;
}

TEST_F(ObserveE2E, AReplayWaitingAtAGateResumesAsTheSameReplay) {
  // a -> gate -> b -> e; the replay runs the gate and what follows live, with a new prompt for
  // b. It waits at the gate; after approve and resume, b must still get the new prompt and
  // a must still be reused.
  Write("gated.yaml", R"(name: gated
defaults: {model: scripted/demo}
nodes:
  a: {prompt: "Outline"}
  gate: {needs: [a], kind: human, message: "ship it?"}
  b: {needs: [gate], prompt: "Draft from {{nodes.a.output}}"}
  e: {needs: [b], prompt: "Merge {{nodes.b.output}}"}
)");
  Write("gated.script.yaml", R"(nodes:
  a: [{text: "outline"}]
  b:
    - {when: {prompt_contains: "NEW"}, text: "new draft"}
    - {text: "old draft"}
  e: [{text: "merged"}]
)");
  auto r = Cli({"run", dir_ + "/gated.yaml", "--script", dir_ + "/gated.script.yaml", "--yes", "--run-id", "g1"});
  ASSERT_EQ(r.code, 0) << r.err;
  Write("b2.md", "NEW draft from {{nodes.a.output}}");
  size_t before = LogLines();
  r = Cli({"replay", "g1", "--from", "gate", "--prompt", "b=" + dir_ + "/b2.md", "--run-id", "g2"});
  ASSERT_EQ(r.code, 3) << "no terminal: the gate waits\n" << r.err << r.out;
  EXPECT_TRUE(CallsSince(before).empty());
  r = Cli({"approve", "g2", "gate"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Cli({"resume", "g2"});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(CallsSince(before), (std::multiset<std::string>{"b", "e"}));
  r = Cli({"diff", "g1", "g2", "--json"});
  json d = Parse(r.out);
  EXPECT_EQ(d["first_divergence"]["node"], "b") << r.out;
  for (const auto& n : d["nodes"])
    if (n["node"] == "a") {
      EXPECT_EQ(n["a"]["output_blob"], n["b"]["output_blob"]);
    }
}

TEST_F(ObserveE2E, ReplayRefusesDriftUpstreamUnlessAllowed) {
  RunFlow("src");
  // Changing d (downstream of --from b) is fine: it runs live anyway.
  std::string flow = kFlow;
  flow.replace(flow.find("Polish"), 6, "Buff");
  Write("flow.yaml", flow);
  size_t before = LogLines();
  auto r = Cli({"replay", "src", "--from", "b", "--run-id", "ok"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(CallsSince(before), (std::multiset<std::string>{"b", "d", "e"}));
  // Changing a (upstream, whose stored result would be reused) is refused, naming it.
  flow.replace(flow.find("Outline"), 7, "Sketch");
  Write("flow.yaml", flow);
  before = LogLines();
  r = Cli({"replay", "src", "--from", "b"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("node a no longer matches"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--allow-drift"), std::string::npos) << r.err;
  EXPECT_EQ(LogLines(), before) << "nothing ran";
  r = Cli({"replay", "src", "--from", "b", "--allow-drift", "--run-id", "drifted"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(CallsSince(before), (std::multiset<std::string>{"b", "d", "e"}));
  // Offline replay of a changed workflow is refused the same way.
  r = Cli({"replay", "src", "--offline"});
  EXPECT_EQ(r.code, 2) << r.err;
}

TEST_F(ObserveE2E, OfflineReplayReproducesEveryOutputByteForByteWithoutTheNetwork) {
  // One node over real HTTP (the fake server), the rest scripted, and a map node.
  std::string flow = std::string(kFlow) +
                     "  http: {needs: [a], model: openai-compatible/fake-model, prompt: \"Expand {{nodes.a.output}}\"}\n"
                     "  each: {needs: [a], map: {over: \"['x', 'y', 'z']\"}, prompt: \"Item {{item}}\"}\n";
  Write("flow.yaml", flow);
  std::string script = std::string(kScript) + "  each:\n    - {when: {item: 1}, text: \"second\"}\n    - {text: \"other\"}\n";
  Write("script.yaml", script);
  Write("prices.json", R"({"openai-compatible/fake-model": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}})");
  json outputs;
  {
    FakeLlm fake({"--latency-ms", "5"});
    ASSERT_FALSE(fake.url.empty());
    std::vector<std::string> env = {"OPENAI_COMPATIBLE_BASE_URL=" + fake.url + "/v1", "OPENAI_COMPATIBLE_API_KEY=sk-off"};
    auto r = Cli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--prices", dir_ + "/prices.json",
                  "--run-id", "live"},
                 env);
    ASSERT_EQ(r.code, 0) << r.err;
  }  // the server is gone
  fs::rename(dir_ + "/script.yaml", dir_ + "/script.moved");  // and so is the script
  size_t before = LogLines();
  auto r = Cli({"replay", "live", "--offline", "--run-id", "off"}, {"OPENAI_COMPATIBLE_BASE_URL=http://127.0.0.1:9/v1"});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("offline replay: 7 of 7 node outputs byte-identical"), std::string::npos) << r.out;
  EXPECT_EQ(LogLines(), before) << "no scripted call was made";
  r = Cli({"diff", "live", "off", "--json"});
  json d = Parse(r.out);
  EXPECT_TRUE(d["first_divergence"].is_null()) << r.out;
  for (const auto& n : d["nodes"]) {
    ASSERT_FALSE(n["a"].is_null());
    EXPECT_EQ(n["a"]["output_blob"], n["b"]["output_blob"]) << n;
  }
  // A request the recording does not have is an error naming the node.
  flow.replace(flow.find("Polish"), 6, "Buff");
  Write("flow.yaml", flow);
  r = Cli({"replay", "live", "--offline", "--allow-drift"});
  EXPECT_EQ(r.code, 1) << r.err << r.out;
  EXPECT_NE(r.out.find("no recorded response for node \"d\""), std::string::npos) << r.out;
  r = Cli({"replay", "live", "--offline", "--from", "b"});
  EXPECT_EQ(r.code, 2);
}

TEST_F(ObserveE2E, OfflineReplayCoversSubWorkflowsLoopsAndTheRunsModelOverride) {
  Write("child.yaml", "name: child\ninputs: {topic: {type: string}}\ndefaults: {model: scripted/demo}\n"
                      "nodes:\n  inner: {prompt: \"Inner on {{inputs.topic}}\"}\n");
  Write("parent.yaml", R"(name: parent
defaults: {model: scripted/demo}
nodes:
  a: {prompt: "Outline"}
  sub: {kind: workflow, needs: [a], workflow: child.yaml, with: {topic: "{{nodes.a.output}}"}}
  review:
    needs: [sub]
    prompt: "Review {{nodes.sub.output}}"
    loop: {to: review, while: "nodes.review.output == 'again'", max_iterations: 3}
)");
  Write("parent.script.yaml", R"(prices:
  scripted/demo: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
  scripted/big: {input_cost_per_token: 0.000002, output_cost_per_token: 0.000004}
nodes:
  a: [{text: "topic A"}]
  inner: [{text: "inner answer"}]
  review:
    - {when: {iteration: 0}, text: "again"}
    - {text: "fine"}
)");
  auto r = Cli({"run", dir_ + "/parent.yaml", "--script", dir_ + "/parent.script.yaml", "--model", "scripted/big",
                "--run-id", "p1"});
  ASSERT_EQ(r.code, 0) << r.err;
  fs::rename(dir_ + "/parent.script.yaml", dir_ + "/parent.script.moved");
  size_t before = LogLines();
  r = Cli({"replay", "p1", "--offline", "--run-id", "p2"});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("node outputs byte-identical"), std::string::npos) << r.out;
  EXPECT_EQ(LogLines(), before);
  r = Cli({"diff", "p1", "p2", "--json"});
  json d = Parse(r.out);
  EXPECT_TRUE(d["first_divergence"].is_null()) << r.out;
  bool review_seen = false;
  for (const auto& n : d["nodes"])
    if (n["node"] == "review") {
      review_seen = true;
      EXPECT_EQ(n["b"]["model"], "scripted/big") << "the run's --model applies to its replay";
    }
  EXPECT_TRUE(review_seen) << r.out;
  // A replay of the replay answers from the recordings its reused nodes point back to.
  fs::rename(dir_ + "/parent.script.moved", dir_ + "/parent.script.yaml");
  r = Cli({"replay", "p1", "--from", "review", "--run-id", "p3"});
  ASSERT_EQ(r.code, 0) << r.err;
  fs::rename(dir_ + "/parent.script.yaml", dir_ + "/parent.script.moved");
  r = Cli({"replay", "p3", "--offline", "--run-id", "p4"});
  EXPECT_EQ(r.code, 0) << r.err << r.out;
}

TEST_F(ObserveE2E, DiffCallsOutTheFirstDivergenceWithAUnifiedDiff) {
  RunFlow("a1");
  Write("v2.md", "VERSION TWO facts for {{nodes.a.output}}");
  auto r = Cli({"replay", "a1", "--prompt", "c=" + dir_ + "/v2.md", "--run-id", "a2"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Cli({"diff", "a1", "a2", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json d = Parse(r.out);
  EXPECT_EQ(d["first_divergence"]["node"], "c") << r.out;
  EXPECT_EQ(d["differing"], 1) << "e's scripted answer is the same text";
  r = Cli({"diff", "a1", "a2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("first divergence: node \"c\" (output)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--- a1/c\n+++ a2/c\n@@ -1,3 +1,2 @@\n-Facts:\n+Facts, second take:\n high tide twice a day\n-low tide twice a day\n"),
            std::string::npos)
      << r.out;
  r = Cli({"diff", "a1"});
  EXPECT_EQ(r.code, 2);
  r = Cli({"diff", "a1", "zzz"});
  EXPECT_EQ(r.code, 2) << r.err;
}

TEST_F(ObserveE2E, LineageShowsTheTreeAndReportsAPlantedCycleOnce) {
  RunFlow("lin");
  auto r = Cli({"lineage", "e", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json l = Parse(r.out);
  EXPECT_EQ(l["run"], "lin");
  std::set<std::string> below;
  ASSERT_EQ(l["tree"].size(), 1u);
  for (const auto& x : l["tree"][0]["derived_from"]) below.insert(x["name"].get<std::string>());
  EXPECT_EQ(below, (std::set<std::string>{"c", "d"}));
  r = Cli({"lineage", "e"});
  EXPECT_NE(r.out.find("`-- a  <- a"), std::string::npos) << r.out;
  // Plant a cycle x -> y -> x (and z derived from x) straight into the store.
  {
    auto st = sw::store::OpenSqlite(store_);
    ASSERT_TRUE(st.ok());
    sw::store::Batch b;
    for (auto [name, from] : std::vector<std::pair<std::string, std::string>>{{"x", "[\"y\"]"}, {"y", "[\"x\", \"a\"]"}, {"z", "[\"x\"]"}}) {
      sw::store::ArtifactRecord a;
      a.run_id = "lin";
      a.name = name;
      a.produced_by = "planted";
      a.blob = "00000000000000000000000000000000";
      a.derived_from = from;
      a.created_at = 1;
      b.artifacts.push_back(a);
    }
    ASSERT_TRUE((*st)->Commit(b).ok());
  }
  r = Cli({"lineage", "z", "--run", "lin", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  l = Parse(r.out);
  ASSERT_EQ(l["cycles"].size(), 1u) << r.out;
  EXPECT_EQ(l["cycles"][0], "x -> y -> x");
  r = Cli({"artifacts", "lin", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Parse(r.out)["cycles"].size(), 1u) << r.out;
  r = Cli({"artifacts", "lin"});
  EXPECT_NE(r.out.find("CYCLE: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("warning: derived_from has a cycle"), std::string::npos) << r.out;
  r = Cli({"lineage", "nope"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("no run has an artifact named \"nope\""), std::string::npos) << r.err;
}

/// The OTLP attribute names the GenAI semantic conventions define, checked by name.
std::map<std::string, json> Attrs(const json& span) {
  std::map<std::string, json> m;
  for (const auto& a : span["attributes"]) m[a["key"].get<std::string>()] = a["value"];
  return m;
}

TEST_F(ObserveE2E, ExportOtlpFollowsTheGenAiConventions) {
  RunFlow("otlp");
  auto r = Cli({"export", "otlp", "--format", "otlp"});
  ASSERT_EQ(r.code, 0) << r.err;
  json o = Parse(r.out);
  const json& spans = o["resourceSpans"][0]["scopeSpans"][0]["spans"];
  std::set<std::string> ids;
  for (const auto& s : spans) ids.insert(s["spanId"].get<std::string>());
  int chats = 0;
  for (const auto& s : spans) {
    EXPECT_EQ(s["traceId"].get<std::string>().size(), 32u);
    EXPECT_EQ(s["spanId"].get<std::string>().size(), 16u);
    if (s.contains("parentSpanId")) {
      EXPECT_TRUE(ids.count(s["parentSpanId"].get<std::string>())) << s;
    }
    auto a = Attrs(s);
    EXPECT_FALSE(a.count("gen_ai.input.messages")) << "no content without --include-content";
    if (a.count("gen_ai.operation.name") && a["gen_ai.operation.name"]["stringValue"] == "chat") {
      ++chats;
      EXPECT_EQ(s["name"], "chat demo");
      EXPECT_EQ(s["kind"], 3);
      EXPECT_EQ(a["gen_ai.provider.name"]["stringValue"], "scripted");
      EXPECT_EQ(a["gen_ai.request.model"]["stringValue"], "demo");
      for (const char* k : {"gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.usage.cache_read.input_tokens",
                            "gen_ai.usage.cache_creation.input_tokens"})
        ASSERT_TRUE(a.count(k) && a[k].contains("intValue")) << k;
      EXPECT_GT(std::stoll(a["gen_ai.usage.input_tokens"]["intValue"].get<std::string>()), 0);
      EXPECT_EQ(s["status"]["code"], 1);
      EXPECT_GT(std::stoll(s["endTimeUnixNano"].get<std::string>()), 1'700'000'000'000'000'000LL);
    }
  }
  EXPECT_EQ(chats, 5) << "one chat span per model call (skip made none)";
  r = Cli({"export", "otlp", "--format", "otlp", "--include-content"});
  ASSERT_EQ(r.code, 0) << r.err;
  bool seen = false;
  json with_content = Parse(r.out);
  for (const auto& s : with_content["resourceSpans"][0]["scopeSpans"][0]["spans"]) {
    auto a = Attrs(s);
    if (!a.count("gen_ai.input.messages")) continue;
    json in = json::parse(a["gen_ai.input.messages"]["stringValue"].get<std::string>());
    json out = json::parse(a["gen_ai.output.messages"]["stringValue"].get<std::string>());
    if (in[0]["parts"][0]["content"] == "Outline tides") {
      seen = true;
      EXPECT_EQ(in[0]["role"], "user");
      EXPECT_EQ(out[0]["parts"][0]["content"], "1. moon\n2. water");
    }
  }
  EXPECT_TRUE(seen);
  r = Cli({"export", "otlp", "--format", "csv"});
  ASSERT_EQ(r.code, 0) << r.err;
  size_t lines = std::count(r.out.begin(), r.out.end(), '\n');
  EXPECT_EQ(lines, 1 + spans.size()) << r.out;
  EXPECT_EQ(r.out.rfind("kind,span_id,parent_id,name,node", 0), 0u);
  r = Cli({"export", "otlp", "--format", "json", "--output", dir_ + "/spans.json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Parse(Slurp(dir_ + "/spans.json"))["spans"].size(), spans.size());
  r = Cli({"export", "otlp", "--format", "xml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("\"xml\""), std::string::npos) << r.err;

  // The workflow span is a workflow (not an agent); every GenAI span names the run as its
  // conversation; a chat span has its request settings, the response's id, model and finish
  // reason (without --include-content), the time to its first chunk and its cost as backends
  // read it.
  for (const auto& s : spans) {
    auto a = Attrs(s);
    if (s["name"] == "invoke_workflow chain") {
      EXPECT_EQ(a["gen_ai.workflow.name"]["stringValue"], "chain");
      EXPECT_FALSE(a.count("gen_ai.agent.name"));
      EXPECT_EQ(a["gen_ai.conversation.id"]["stringValue"], "otlp");
    }
    if (!a.count("gen_ai.operation.name") || a["gen_ai.operation.name"]["stringValue"] != "chat") continue;
    EXPECT_EQ(a["gen_ai.conversation.id"]["stringValue"], "otlp");
    EXPECT_EQ(a["gen_ai.request.max_tokens"]["intValue"], "200");
    ASSERT_TRUE(a.count("gen_ai.response.finish_reasons")) << s;
    EXPECT_EQ(a["gen_ai.response.finish_reasons"]["arrayValue"]["values"][0]["stringValue"], "stop");
    EXPECT_GT(a["gen_ai.usage.cost"]["doubleValue"].get<double>(), 0);
    EXPECT_EQ(a["gen_ai.usage.cost"], a["specwright.cost_usd"]);
    EXPECT_FALSE(a.count("error.type"));
  }

  // A retried node and a failed one: error.type is the failure's class (the HTTP status), the
  // exception is an event on the chat span that failed, the retry is on the attempt after it.
  Write("retry.yaml", R"(name: retries
defaults: {model: scripted/demo, max_tokens: 100, temperature: 0.5, retry: {attempts: 2, backoff: 10ms}}
nodes:
  plan: {prompt: "Plan"}
  draft: {needs: [plan], prompt: "Draft"}
  facts: {needs: [plan], prompt: "Facts"}
)");
  Write("retry.script.yaml", R"(prices:
  scripted/demo: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
nodes:
  plan: [{text: "1. moon", id: chatcmpl-plan, model: demo-2026-01, latency_ms: 40}]
  draft:
    - {error: {message: "slow down", retryable: true, status: 429}}
    - {text: "drafted", id: chatcmpl-draft}
  facts:
    - {error: {message: "overloaded", retryable: true, status: 503}}
)");
  r = Cli({"run", dir_ + "/retry.yaml", "--script", dir_ + "/retry.script.yaml", "--run-id", "retries"});
  ASSERT_EQ(r.code, 1) << r.err << r.out;
  r = Cli({"export", "retries", "--format", "otlp"});
  ASSERT_EQ(r.code, 0) << r.err;
  json rs = Parse(r.out)["resourceSpans"][0]["scopeSpans"][0]["spans"];
  std::map<std::string, json> by;  // "kind node attempt" -> span
  for (const auto& sp : rs) {
    auto a = Attrs(sp);
    std::string node = a.count("specwright.node.id") ? a["specwright.node.id"]["stringValue"].get<std::string>() : "";
    std::string attempt = a.count("specwright.attempt") ? a["specwright.attempt"]["intValue"].get<std::string>() : "";
    std::string kind = sp["name"].get<std::string>().substr(0, sp["name"].get<std::string>().find(' '));
    by[kind + " " + node + " " + attempt] = sp;
  }
  auto a = Attrs(by["chat plan 1"]);
  EXPECT_EQ(a["gen_ai.response.id"]["stringValue"], "chatcmpl-plan");
  EXPECT_EQ(a["gen_ai.response.model"]["stringValue"], "demo-2026-01");
  EXPECT_EQ(a["gen_ai.request.temperature"]["doubleValue"], 0.5);
  EXPECT_EQ(a["gen_ai.request.max_tokens"]["intValue"], "100");
  EXPECT_GE(a["gen_ai.response.time_to_first_chunk"]["doubleValue"].get<double>(), 0.04);
  EXPECT_LT(a["gen_ai.response.time_to_first_chunk"]["doubleValue"].get<double>(), 5.0) << "seconds, not ms";
  // The failed call: its class, its status, its exception (once, here).
  const json& c1 = by["chat draft 1"];
  EXPECT_EQ(Attrs(c1)["error.type"]["stringValue"], "429");
  EXPECT_EQ(c1["status"]["code"], 2);
  EXPECT_NE(c1["status"]["message"].get<std::string>().find("slow down"), std::string::npos);
  ASSERT_EQ(c1["events"].size(), 1u) << c1;
  EXPECT_EQ(c1["events"][0]["name"], "exception");
  auto ev = Attrs(c1["events"][0]);
  EXPECT_EQ(ev["exception.type"]["stringValue"], "429");
  EXPECT_NE(ev["exception.message"]["stringValue"].get<std::string>().find("slow down"), std::string::npos);
  // The node attempt it failed has the class, not the exception a second time.
  const json& n1 = by["node draft 1"];
  EXPECT_EQ(Attrs(n1)["error.type"]["stringValue"], "429");
  EXPECT_FALSE(n1.contains("events")) << n1;
  // The attempt that succeeded tells of the retry: a count, an event, a link to the attempt.
  const json& n2 = by["node draft 2"];
  EXPECT_EQ(n2["status"]["code"], 1);
  EXPECT_FALSE(Attrs(n2).count("error.type"));
  EXPECT_EQ(Attrs(n2)["specwright.retries"]["intValue"], "1");
  ASSERT_EQ(n2["events"].size(), 1u) << n2;
  EXPECT_EQ(n2["events"][0]["name"], "specwright.retry");
  EXPECT_EQ(Attrs(n2["events"][0])["error.type"]["stringValue"], "429");
  EXPECT_EQ(Attrs(n2["events"][0])["specwright.attempt"]["intValue"], "1");
  ASSERT_EQ(n2["links"].size(), 1u);
  EXPECT_EQ(n2["links"][0]["spanId"], n1["spanId"]);
  EXPECT_EQ(Attrs(by["chat draft 2"])["gen_ai.response.id"]["stringValue"], "chatcmpl-draft");
  // The node that failed for good, and the run it failed.
  EXPECT_EQ(Attrs(by["node facts 2"])["error.type"]["stringValue"], "503");
  EXPECT_EQ(by["node facts 2"]["status"]["code"], 2);
  const json& run = by["invoke_workflow  "];
  EXPECT_EQ(Attrs(run)["error.type"]["stringValue"], "503") << run;
  EXPECT_EQ(run["status"]["code"], 2);
}

TEST_F(ObserveE2E, OtlpEndpointStreamsSpansWhileTheRunIsGoing) {
  // A collector on loopback that records each POST and when it came.
  std::mutex mu;
  std::vector<std::pair<double, json>> posts;
  auto server = sw::net::HttpServer::Start(
      sw::net::HttpServerOptions{}, [&](const sw::net::IncomingRequest& req, std::shared_ptr<sw::net::ResponseWriter> w) {
        {
          std::lock_guard<std::mutex> l(mu);
          double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
          posts.emplace_back(now, req.path == "/v1/traces" ? json::parse(req.body, nullptr, false) : json());
        }
        w->Send(200, {{"Content-Type", "application/json"}}, "{}");
      });
  ASSERT_TRUE(server.ok()) << server.status().message();
  std::string script = std::string(kScript);
  script.replace(script.find("  e: [{text: \"Merged note.\"}]"), std::string("  e: [{text: \"Merged note.\"}]").size(),
                 "  e: [{text: \"Merged note.\", latency_ms: 2500}]");
  Write("script.yaml", script);
  auto r = Cli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--run-id", "live", "--otlp-endpoint",
                (*server)->base_url()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("exported"), std::string::npos) << r.err;
  auto st = sw::store::OpenSqlite(store_);
  ASSERT_TRUE(st.ok());
  auto run = (*st)->GetRun("live");
  ASSERT_TRUE(run.ok() && run->has_value());
  std::lock_guard<std::mutex> l(mu);
  ASSERT_GE(posts.size(), 2u) << "spans went out while e was still thinking, and the rest at the end";
  EXPECT_LT(posts.front().first, (*run)->finished_at) << "the first batch came before the run ended";
  std::set<std::string> got;
  for (const auto& [ts, body] : posts) {
    ASSERT_TRUE(body.is_object());
    for (const auto& s : body["resourceSpans"][0]["scopeSpans"][0]["spans"])
      EXPECT_TRUE(got.insert(s["spanId"].get<std::string>()).second) << "each span is sent once";
  }
  auto exp = Cli({"export", "live", "--format", "otlp"});
  EXPECT_EQ(got.size(), Parse(exp.out)["resourceSpans"][0]["scopeSpans"][0]["spans"].size());
}

TEST_F(ObserveE2E, OtelEnvironmentVariablesConfigureTheLiveExport) {
  struct Post {
    std::string path, api_key, type, injected, query;
    json body;
  };
  std::mutex mu;
  std::vector<Post> posts;
  auto server = sw::net::HttpServer::Start(
      sw::net::HttpServerOptions{}, [&](const sw::net::IncomingRequest& req, std::shared_ptr<sw::net::ResponseWriter> w) {
        {
          std::lock_guard<std::mutex> l(mu);
          posts.push_back(Post{req.path, req.Header("x-api-key"), req.Header("content-type"), req.Header("x-injected"),
                               req.query, json::parse(req.body, nullptr, false)});
        }
        w->Send(200, {{"Content-Type", "application/json"}}, "{}");
      });
  ASSERT_TRUE(server.ok()) << server.status().message();
  std::string base = (*server)->base_url();
  auto take = [&] {
    std::lock_guard<std::mutex> l(mu);
    auto out = std::move(posts);
    posts.clear();
    return out;
  };
  auto resource = [](const json& body) {
    std::map<std::string, std::string> out;
    for (const auto& a : body["resourceSpans"][0]["resource"]["attributes"])
      out[a["key"].get<std::string>()] = a["value"]["stringValue"].get<std::string>();
    return out;
  };
  auto run = [&](const std::string& id, std::vector<std::string> env) {
    auto r = Cli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--run-id", id}, std::move(env));
    EXPECT_EQ(r.code, 0) << r.err << r.out;
    return r;
  };

  // OTEL_EXPORTER_OTLP_ENDPOINT is a base: /v1/traces is appended to its path. Headers are
  // percent-decoded and sent; the service name and resource attributes name the resource.
  auto r = run("env1", {"OTEL_EXPORTER_OTLP_ENDPOINT=" + base + "/collector",
                        "OTEL_EXPORTER_OTLP_HEADERS=x-api-key=s3cr%3Dt-value, x-other=1",
                        "OTEL_SERVICE_NAME=tides-service",
                        "OTEL_RESOURCE_ATTRIBUTES=team=ocean,deployment.environment.name=ci%2Fcd,service.name=not-this"});
  EXPECT_NE(r.err.find("exported"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(base + "/collector/v1/traces"), std::string::npos) << r.err;
  auto got = take();
  ASSERT_GE(got.size(), 1u);
  size_t spans = 0;
  for (const auto& p : got) {
    EXPECT_EQ(p.path, "/collector/v1/traces");
    EXPECT_EQ(p.api_key, "s3cr=t-value");
    EXPECT_EQ(p.type, "application/json");
    ASSERT_TRUE(p.body.is_object());
    auto res = resource(p.body);
    EXPECT_EQ(res["service.name"], "tides-service") << "OTEL_SERVICE_NAME wins";
    EXPECT_EQ(res["team"], "ocean");
    EXPECT_EQ(res["deployment.environment.name"], "ci/cd");
    spans += p.body["resourceSpans"][0]["scopeSpans"][0]["spans"].size();
  }
  EXPECT_EQ(spans, Parse(Cli({"export", "env1", "--format", "otlp"}).out)["resourceSpans"][0]["scopeSpans"][0]["spans"].size());
  // The header's value is a secret: not on stderr, not anywhere in the store.
  EXPECT_EQ(r.err.find("s3cr"), std::string::npos) << r.err;
  for (const auto& f : fs::recursive_directory_iterator(store_))
    if (f.is_regular_file()) {
      EXPECT_EQ(Slurp(f.path().string()).find("s3cr"), std::string::npos) << f.path();
    }

  // export --format otlp reads the resource variables too.
  r = Cli({"export", "env1", "--format", "otlp"}, {"OTEL_SERVICE_NAME=exported", "OTEL_RESOURCE_ATTRIBUTES=team=ocean"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(resource(Parse(r.out))["service.name"], "exported");
  EXPECT_EQ(resource(Parse(r.out))["team"], "ocean");

  // A malformed OTEL_RESOURCE_ATTRIBUTES is a warning that names it and its value; the whole
  // value is dropped (the specification's rule) and the export goes on.
  r = run("env2", {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + base + "/exact/path", "OTEL_RESOURCE_ATTRIBUTES=team=ocean,oops"});
  EXPECT_NE(r.err.find("warning: OTEL_RESOURCE_ATTRIBUTES=\"team=ocean,oops\" is malformed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"oops\""), std::string::npos) << r.err;
  got = take();
  ASSERT_GE(got.size(), 1u);
  EXPECT_EQ(got[0].path, "/exact/path") << "the traces endpoint is used as is";
  EXPECT_FALSE(resource(got[0].body).count("team"));
  EXPECT_EQ(resource(got[0].body)["service.name"], "specwright");
  r = Cli({"export", "env2", "--format", "otlp"}, {"OTEL_RESOURCE_ATTRIBUTES=team=%zz"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("OTEL_RESOURCE_ATTRIBUTES=\"team=%zz\" is malformed"), std::string::npos) << r.err;

  // A malformed header list names its key, never its value.
  r = run("env3", {"OTEL_EXPORTER_OTLP_ENDPOINT=" + base, "OTEL_EXPORTER_OTLP_HEADERS=x-api-key=t0ken%zz"});
  EXPECT_NE(r.err.find("OTEL_EXPORTER_OTLP_HEADERS is malformed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("t0ken"), std::string::npos) << r.err;
  got = take();
  ASSERT_GE(got.size(), 1u);
  EXPECT_EQ(got[0].path, "/v1/traces");
  EXPECT_EQ(got[0].api_key, "");

  // Only http/json is spoken: grpc says so and sends nothing; OTEL_SDK_DISABLED sends nothing;
  // --otlp-endpoint, asked for by name, still exports.
  r = run("env4", {"OTEL_EXPORTER_OTLP_ENDPOINT=" + base, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"});
  EXPECT_NE(r.err.find("OTEL_EXPORTER_OTLP_PROTOCOL=\"grpc\""), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("exported"), std::string::npos) << r.err;
  r = run("env5", {"OTEL_EXPORTER_OTLP_ENDPOINT=" + base, "OTEL_SDK_DISABLED=true"});
  EXPECT_EQ(r.err.find("exported"), std::string::npos) << r.err;
  EXPECT_TRUE(take().empty());
  r = run("env6", {"OTEL_SDK_DISABLED=true", "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"});
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << "no endpoint: nothing to warn about\n" << r.err;
  auto flag = Cli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--run-id", "env7", "--otlp-endpoint", base},
                  {"OTEL_SDK_DISABLED=true"});
  EXPECT_EQ(flag.code, 0) << flag.err;
  EXPECT_NE(flag.err.find("exported"), std::string::npos) << flag.err;
  EXPECT_FALSE(take().empty());

  // A URL is printed without its userinfo and query, where credentials go.
  ASSERT_EQ(base.rfind("http://", 0), 0u) << base;
  std::string secret_url = "http://alice:t0psecret@" + base.substr(7) + "/v1/traces?api_key=qs3cret";
  r = run("env8", {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + secret_url});
  EXPECT_NE(r.err.find("exported"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" to " + base + "/v1/traces\n"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("t0psecret"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("qs3cret"), std::string::npos) << r.err;
  got = take();
  ASSERT_GE(got.size(), 1u);
  EXPECT_EQ(got[0].query, "api_key=qs3cret") << "the URL itself is used whole";
  r = run("env9", {"OTEL_EXPORTER_OTLP_ENDPOINT=ftp://alice:t0psecret@example.com/otlp?token=qs3cret"});
  EXPECT_NE(r.err.find("warning: OTEL_EXPORTER_OTLP_ENDPOINT=\"ftp://example.com/otlp\" is not an http"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("t0psecret"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("qs3cret"), std::string::npos) << r.err;

  // A decoded header value with CR/LF (or any control character) would start a header of its
  // own: that header is dropped with a warning naming its key, never its value; the rest go.
  r = run("env10", {"OTEL_EXPORTER_OTLP_ENDPOINT=" + base,
                    "OTEL_EXPORTER_OTLP_HEADERS=x-api-key=k3y-value,x-evil=v4lue%0D%0AX-Injected: yes,x-bell=b%07"});
  EXPECT_NE(r.err.find("OTEL_EXPORTER_OTLP_HEADERS: the value of \"x-evil\" has a control character"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("\"x-bell\" has a control character"), std::string::npos) << r.err;
  for (const char* secret : {"k3y-value", "v4lue", "Injected"}) EXPECT_EQ(r.err.find(secret), std::string::npos) << r.err;
  got = take();
  ASSERT_GE(got.size(), 1u);
  EXPECT_EQ(got[0].api_key, "k3y-value");
  EXPECT_EQ(got[0].injected, "");

  // Settings that only matter to an export say nothing when nothing is exported: no endpoint,
  // or OTEL_SDK_DISABLED over one.
  std::vector<std::string> noisy = {"OTEL_RESOURCE_ATTRIBUTES=team=ocean,oops", "OTEL_EXPORTER_OTLP_TIMEOUT=soon",
                                    "OTEL_EXPORTER_OTLP_HEADERS=x-api-key=%zz", "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"};
  r = run("env11", noisy);
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << "nothing exported: nothing to warn about\n" << r.err;
  noisy.push_back("OTEL_EXPORTER_OTLP_ENDPOINT=" + base);
  noisy.push_back("OTEL_SDK_DISABLED=true");
  r = run("env12", noisy);
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << "the SDK is off: nothing to warn about\n" << r.err;
  EXPECT_TRUE(take().empty());
  // With spans going out (by --otlp-endpoint), the settings that shape them are warned about;
  // the variables' grpc endpoint is not (the flag replaces it).
  noisy.pop_back();
  flag = Cli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--run-id", "env13", "--otlp-endpoint", base},
             noisy);
  EXPECT_EQ(flag.code, 0) << flag.err;
  EXPECT_NE(flag.err.find("warning: OTEL_RESOURCE_ATTRIBUTES="), std::string::npos) << flag.err;
  EXPECT_NE(flag.err.find("warning: OTEL_EXPORTER_OTLP_TIMEOUT="), std::string::npos) << flag.err;
  EXPECT_NE(flag.err.find("warning: OTEL_EXPORTER_OTLP_HEADERS is malformed"), std::string::npos) << flag.err;
  EXPECT_EQ(flag.err.find("grpc"), std::string::npos) << flag.err;
  EXPECT_FALSE(take().empty());
}

TEST_F(ObserveE2E, GcDeletesOldRunsAndTheBlobsOnlyTheyReferenced) {
  // The old run's answer is large (a blob file); the new run's small.
  std::string big(20000, 'q');
  std::string script = std::string(kScript);
  script.replace(script.find("  a: [{text: \"1. moon\\n2. water\"}]"), std::string("  a: [{text: \"1. moon\\n2. water\"}]").size(),
                 "  a:\n    - {when: {prompt_contains: \"oldtopic\"}, text: \"" + big + "\"}\n    - {text: \"1. moon\"}");
  Write("script.yaml", script);
  std::string flow = kFlow;
  flow.replace(flow.find("max_tokens: 200"), 15, "max_tokens: 100000");
  Write("flow.yaml", flow);
  auto r = Cli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--run-id", "old", "--input", "topic=oldtopic"});
  ASSERT_EQ(r.code, 0) << r.err;
  RunFlow("new");
  auto count_files = [&] {
    size_t n = 0;
    for (const auto& f : fs::recursive_directory_iterator(store_ + "/blobs"))
      if (f.is_regular_file()) ++n;
    return n;
  };
  size_t files_before = count_files();
  ASSERT_GT(files_before, 0u);
  {
    auto st = sw::store::OpenSqlite(store_);
    ASSERT_TRUE(st.ok());
    auto old = (*st)->GetRun("old");
    ASSERT_TRUE(old.ok() && old->has_value());
    sw::store::Batch b;
    b.run = **old;
    b.run->created_at -= 40 * 86400;  // forty days ago
    ASSERT_TRUE((*st)->Commit(b).ok());
  }
  r = Cli({"gc", "--older-than", "30d", "--grace", "0s", "--dry-run", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json dry = Parse(r.out);
  EXPECT_EQ(dry["runs_deleted"], json::array({"old"}));
  EXPECT_EQ(count_files(), files_before) << "a dry run deletes nothing";
  r = Cli({"gc", "--older-than", "30d", "--grace", "0s", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json g = Parse(r.out);
  EXPECT_EQ(g["runs_deleted"], json::array({"old"}));
  EXPECT_EQ(g["blobs_deleted"], dry["blobs_deleted"]);
  EXPECT_GE(g["blob_bytes_freed"].get<int64_t>(), 20000);
  EXPECT_TRUE(g["vacuumed"].get<bool>()) << "no run is running: the database is compacted";
  EXPECT_LT(count_files(), files_before);
  // What is left is whole: the new run reads back, replays offline, and the store checks out.
  r = Cli({"runs", "--json"});
  ASSERT_EQ(Parse(r.out).size(), 1u);
  r = Cli({"diff", "new", "new", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Cli({"replay", "new", "--offline", "--run-id", "again"});
  EXPECT_EQ(r.code, 0) << r.err << r.out;
  auto st = sw::store::OpenSqlite(store_);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(*(*st)->IntegrityCheck(), "ok");
  EXPECT_FALSE((*st)->GetRun("old")->has_value());
  auto ev = (*st)->ListEvents("old");
  EXPECT_TRUE(ev.ok() && ev->empty());
  r = Cli({"gc", "--older-than", "soon"});
  EXPECT_EQ(r.code, 2);
}

}  // namespace
