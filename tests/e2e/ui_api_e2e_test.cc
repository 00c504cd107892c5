// The web UI's API against a real `specwright ui` process over a store filled by real runs
// of the real binary: every report equals the CLI's --json, approvals continue a waiting run
// (by resume) and a live one (its own process picks the decision up), replay starts a run,
// the event stream carries events, live streamed text and the end, and bad requests, forged
// Host names, missing tokens and paths outside the work dir are refused.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cli_runner.h"
#include "http_util.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace e2e;

const char* kFlow = R"(name: ui-flow
inputs:
  topic: {type: string, default: "tides"}
defaults: {model: scripted/demo}
nodes:
  plan: {prompt: "Plan an essay on {{inputs.topic}}", artifact: plan.md}
  facts: {needs: [plan], prompt: "Facts for {{nodes.plan.output}}"}
  write: {needs: [plan, facts], prompt: "Write from {{nodes.plan.output}} and {{nodes.facts.output}}", artifact: out/essay.md}
  gate:
    kind: human
    needs: [write]
    message: "Publish this essay?"
  publish: {needs: [gate], prompt: "Announce {{nodes.write.output}}"}
)";

const char* kScript = R"(prices:
  scripted/demo: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
nodes:
  plan: [{text: "1. moon\n2. water"}]
  facts: [{text: "high tide twice a day"}]
  write: [{text: "The moon pulls the water, twice a day."}]
  publish: [{text: "Published."}]
)";

json Parse(const std::string& s) {
  json j = json::parse(s, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << s;
  return j;
}

class UiApiE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_ui_e2e_XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = dir_ + "/store";
    Write("flow.yaml", kFlow);
    Write("script.yaml", kScript);
  }
  void TearDown() override {
    StopUi();
    fs::remove_all(dir_);
  }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ + "/" + name) << text; }
  Result Cli(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.end(), {"--store", store_});
    return RunCli(args, dir_, env);
  }
  /// StartUi starts `specwright ui --port 0` and reads its port from the line it prints.
  void StartUi(std::vector<std::string> extra = {}) {
    // A front end of our own, so the static file rules are tested whether or not ui/ is built.
    fs::create_directories(dir_ + "/front/assets");
    std::ofstream(dir_ + "/front/index.html") << "<!doctype html><title>front</title>";
    std::ofstream(dir_ + "/front/assets/app.js") << "console.log(1)";
    std::vector<std::string> args{"ui", "--port", "0", "--dir", dir_, "--store", store_, "--ui-dir", dir_ + "/front"};
    args.insert(args.end(), extra.begin(), extra.end());
    ui_ = Spawn(args, dir_);
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::string out = Slurp(ui_.out_path);
      size_t at = out.find("http://127.0.0.1:");
      if (at != std::string::npos && out.find('/', at + 17) != std::string::npos)
        port_ = std::stoi(out.substr(at + 17));
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_GT(port_, 0) << Slurp(ui_.out_path) << Slurp(ui_.err_path);
  }
  void StopUi() {
    if (ui_.pid <= 0) return;
    kill(ui_.pid, SIGTERM);
    EXPECT_EQ(Wait(ui_), 0) << Slurp(ui_.err_path);
    ui_.pid = -1;
  }
  HttpReply Get(const std::string& target) { return Http(port_, "GET", target); }
  json GetJson(const std::string& target) {
    HttpReply r = Get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return Parse(r.body);
  }
  std::string RunFlow(const std::string& id, std::vector<std::string> extra = {"--yes"}) {
    std::vector<std::string> args{"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--run-id", id};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Cli(args);
    EXPECT_TRUE(r.code == 0 || r.code == 3) << r.err << r.out;
    return id;
  }
  /// WaitStatus polls the API until the run has status (or 20 s pass).
  std::string WaitStatus(const std::string& id, const std::string& status) {
    std::string now;
    for (int i = 0; i < 400; ++i) {
      now = Parse(Get("/api/v1/runs/" + id).body).value("status", "");
      if (now == status) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return now;
  }
  std::string dir_, store_;
  Proc ui_;
  int port_ = 0;
};

TEST_F(UiApiE2E, ReportsAreTheCliReports) {
  RunFlow("r1");
  RunFlow("r2", {"--yes", "--no-cache", "--input", "topic=moons"});
  StartUi();

  json runs = GetJson("/api/v1/runs");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0]["id"], "r2");  // newest first
  // Search is case-insensitive over the id, the workflow and its file: r1, and r2 only if its
  // file's temporary path happens to hold "r1" (mkdtemp's six random characters).
  json found = GetJson("/api/v1/runs?q=R1");
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found.back()["id"], "r1");
  EXPECT_EQ(found.size(), sw::Lower(dir_).find("r1") == std::string::npos ? 1u : 2u) << found;
  EXPECT_EQ(GetJson("/api/v1/runs?status=failed").size(), 0u);

  // Each report is byte-for-byte the same document as the CLI's --json.
  for (auto [path, args] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"/api/v1/runs/r1", {"show", "r1", "--json"}},
           {"/api/v1/runs?q=R2&status=succeeded", {"runs", "--search", "R2", "--status", "succeeded", "--json"}},
           {"/api/v1/runs/r1/trace", {"trace", "r1", "--json"}},
           {"/api/v1/runs/r1/cost", {"cost", "r1", "--json"}},
           {"/api/v1/runs/r1/artifacts", {"artifacts", "r1", "--json"}},
           {"/api/v1/cost?since=7d", {"cost", "--since", "7d", "--json"}},
           {"/api/v1/diff?a=r1&b=r2", {"diff", "r1", "r2", "--json"}},
           {"/api/v1/lineage/out%2Fessay.md?run=r1", {"lineage", "out/essay.md", "--run", "r1", "--json"}}}) {
    auto cli = Cli(args);
    ASSERT_EQ(cli.code, 0) << cli.err;
    json api = GetJson(path);
    json want = Parse(cli.out);
    if (path.find("cost?since") != std::string::npos) {
      api.erase("since");  // "7d" is read at two slightly different moments
      want.erase("since");
    }
    EXPECT_EQ(api, want) << path;
  }

  // The graph: the recorded shape with each node's state; edges are needs.
  json g = GetJson("/api/v1/runs/r1/graph");
  std::map<std::string, json> nodes;
  for (const auto& n : g["nodes"]) nodes[n["id"]] = n;
  ASSERT_EQ(nodes.size(), 5u) << g.dump(2);
  EXPECT_EQ(nodes["write"]["needs"], json({"plan", "facts"}));
  EXPECT_EQ(nodes["write"]["kind"], "llm");
  EXPECT_EQ(nodes["gate"]["kind"], "human");
  EXPECT_EQ(nodes["write"]["status"], "succeeded");
  EXPECT_EQ(nodes["write"]["model"], "scripted/demo");
  EXPECT_GT(nodes["write"]["tokens"].get<int>(), 0);

  // The node inspector: the rendered prompt and the response.
  json n = GetJson("/api/v1/runs/r1/nodes/write");
  ASSERT_EQ(n["calls"].size(), 1u) << n.dump(2);
  const json& call = n["calls"][0];
  EXPECT_EQ(call["response"], "The moon pulls the water, twice a day.");
  std::string prompt = call["prompt"].back()["content"];
  EXPECT_EQ(prompt, "Write from 1. moon\n2. water and high tide twice a day");
  EXPECT_GT(call["tokens"]["input"].get<int>(), 0);
  EXPECT_TRUE(call["cost_usd"].is_number());
  EXPECT_EQ(n["output"], "The moon pulls the water, twice a day.");
  EXPECT_EQ(n["attempts"].size(), 1u);
  EXPECT_EQ(n["needs"], json({"plan", "facts"}));

  // An artifact's content through its blob.
  json arts = GetJson("/api/v1/runs/r1/artifacts");
  std::string blob;
  for (const auto& a : arts["artifacts"])
    if (a["name"] == "out/essay.md") blob = a["blob"];
  ASSERT_FALSE(blob.empty());
  HttpReply b = Get("/api/v1/blobs/" + blob);
  EXPECT_EQ(b.status, 200);
  EXPECT_EQ(b.body, "The moon pulls the water, twice a day.");
  EXPECT_EQ(b.headers["content-type"], "text/plain; charset=utf-8");

  // Unknown things are 404s that say what was asked for; a prefix of a run id resolves.
  EXPECT_EQ(Get("/api/v1/runs/nope").status, 404);
  HttpReply unknown = Get("/api/v1/runs/r1/nodes/wirte");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("wirte"), std::string::npos);
  EXPECT_EQ(Get("/api/v1/runs/latest").status, 200);
  EXPECT_EQ(Get("/api/v1/blobs/../../specwright.db").status, 404);
  EXPECT_EQ(Get("/api/v1/blobs/not-a-hash").status, 400);
  EXPECT_EQ(Get("/api/v1/runs?limit=abc").status, 400);
  EXPECT_EQ(Get("/api/v1/cost?since=yesterday").status, 400);
  EXPECT_EQ(Get("/api/v1/nothing").status, 404);
}

TEST_F(UiApiE2E, ApprovingAWaitingRunResumesIt) {
  RunFlow("w1", {});  // no --yes, no terminal: the run stops at the gate
  StartUi();
  json list = GetJson("/api/v1/approvals");
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0]["run_id"], "w1");
  EXPECT_EQ(list[0]["node"], "gate");
  EXPECT_EQ(list[0]["message"], "Publish this essay?");
  EXPECT_EQ(list[0]["alive"], false);

  // A bad decision and a node that is not waiting are refused, and change nothing.
  HttpReply bad = Http(port_, "POST", "/api/v1/runs/w1/approve", R"({"node": "gate", "decision": "maybe"})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  HttpReply typed = Http(port_, "POST", "/api/v1/runs/w1/approve", R"({"node": "gate", "decision": 5})");
  EXPECT_EQ(typed.status, 400) << typed.body;
  EXPECT_NE(typed.body.find("decision"), std::string::npos) << typed.body;
  HttpReply wrong = Http(port_, "POST", "/api/v1/runs/w1/approve", R"({"node": "gat"})");
  EXPECT_EQ(wrong.status, 409) << wrong.body;
  EXPECT_NE(wrong.body.find("did you mean \\\"gate\\\""), std::string::npos) << wrong.body;
  EXPECT_EQ(GetJson("/api/v1/approvals").size(), 1u);

  HttpReply ok = Http(port_, "POST", "/api/v1/runs/w1/approve",
                      R"({"node": "gate", "decision": "approved", "text": "ship it"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  json a = Parse(ok.body);
  EXPECT_EQ(a["continued"], "resumed");
  EXPECT_EQ(a["resumed_run"], "w1");
  EXPECT_EQ(WaitStatus("w1", "succeeded"), "succeeded") << Slurp(ui_.err_path);
  json g = GetJson("/api/v1/runs/w1/graph");
  for (const auto& n : g["nodes"]) EXPECT_EQ(n["status"], "succeeded") << n.dump();
  EXPECT_EQ(GetJson("/api/v1/approvals").size(), 0u);
  // The decision is recorded as the UI's, with its note.
  json gate = GetJson("/api/v1/runs/w1/nodes/gate");
  EXPECT_EQ(gate["output"].get<std::string>().find("ship it") != std::string::npos, true) << gate.dump();
  // A finished run has nothing to resume; an unknown one is not found.
  HttpReply done = Http(port_, "POST", "/api/v1/runs/w1/resume", "{}");
  EXPECT_EQ(done.status, 409) << done.body;
  EXPECT_NE(done.body.find("nothing to resume"), std::string::npos) << done.body;
  EXPECT_EQ(Http(port_, "POST", "/api/v1/runs/nope/resume", "{}").status, 404);
}

TEST_F(UiApiE2E, ALiveRunWaitingAtAGateTakesTheDecisionItself) {
  StartUi();
  Proc run = Spawn({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--run-id", "live", "--wait",
                    "--store", store_},
                   dir_);
  json list;
  for (int i = 0; i < 200; ++i) {
    list = GetJson("/api/v1/approvals");
    if (!list.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["alive"], true);
  EXPECT_EQ(list[0]["run_status"], "running");
  // The gate waits for a person in the running process: the graph says waiting, not running.
  json waiting;
  for (int i = 0; i < 100; ++i) {
    waiting = GetJson("/api/v1/runs/live/graph");
    bool seen = false;
    for (const auto& n : waiting["nodes"]) seen |= n["id"] == "gate" && n["status"] == "waiting";
    if (seen) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string gate_status;
  for (const auto& n : waiting["nodes"])
    if (n["id"] == "gate") gate_status = n["status"];
  EXPECT_EQ(gate_status, "waiting") << waiting.dump();
  HttpReply ok = Http(port_, "POST", "/api/v1/runs/live/approve", R"({"node": "gate", "decision": "rejected", "text": "not yet"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Parse(ok.body)["continued"], "running process");
  EXPECT_EQ(Wait(run), 1) << Slurp(run.err_path);  // a rejected gate fails the run
  json g = GetJson("/api/v1/runs/live/graph");
  std::map<std::string, std::string> st;
  for (const auto& n : g["nodes"]) st[n["id"]] = n["status"];
  EXPECT_EQ(st["gate"], "failed");
  EXPECT_EQ(st["publish"], "skipped");
  EXPECT_NE(GetJson("/api/v1/runs/live")["error"].get<std::string>().find("not yet"), std::string::npos);
}

TEST_F(UiApiE2E, ReplayStartsARunAndBadFlagsComeBackAsErrors) {
  RunFlow("src");
  StartUi();
  HttpReply bad = Http(port_, "POST", "/api/v1/runs/src/replay", R"({"from": ["wirte"]})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("did you mean \\\"write\\\""), std::string::npos) << bad.body;
  HttpReply bad_prompt =
      Http(port_, "POST", "/api/v1/runs/src/replay", R"({"prompts": {"write": "Again {{nodes.nothing.output}}"}})");
  EXPECT_EQ(bad_prompt.status, 400) << bad_prompt.body;
  EXPECT_NE(bad_prompt.body.find("nothing"), std::string::npos) << bad_prompt.body;

  HttpReply ok = Http(port_, "POST", "/api/v1/runs/src/replay",
                      R"({"from": ["write"], "prompts": {"publish": "Announce loudly: {{nodes.write.output}}"}})");
  ASSERT_EQ(ok.status, 202) << ok.body;
  std::string id = Parse(ok.body)["run_id"];
  // The replay waits at the gate (it runs with --wait); approve it from the API too.
  for (int i = 0; i < 200 && GetJson("/api/v1/approvals").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  HttpReply a = Http(port_, "POST", "/api/v1/runs/" + id + "/approve", R"({"node": "gate"})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(WaitStatus(id, "succeeded"), "succeeded") << Slurp(store_ + "/ui/logs/" + id + ".log");
  json n = GetJson("/api/v1/runs/" + id + "/nodes/plan");
  EXPECT_EQ(n["calls"].size(), 0u);  // reused, not called again
  json p = GetJson("/api/v1/runs/" + id + "/nodes/publish");
  ASSERT_EQ(p["calls"].size(), 1u);
  EXPECT_NE(p["calls"][0]["prompt"].back()["content"].get<std::string>().find("Announce loudly"), std::string::npos);
}

TEST_F(UiApiE2E, EventStreamCarriesEventsLiveTextAndTheEnd) {
  FakeLlm fake({"--chunks", "12", "--chunk-gap-ms", "150"});
  ASSERT_FALSE(fake.url.empty());
  Write("slow.yaml", R"(name: slow
nodes:
  talk: {model: openai-compatible/fake-model, prompt: "Say something long"}
)");
  StartUi();
  Proc run = Spawn({"run", dir_ + "/slow.yaml", "--run-id", "slow", "--store", store_}, dir_,
                   {"OPENAI_COMPATIBLE_BASE_URL=" + fake.url + "/v1", "OPENAI_COMPATIBLE_API_KEY=sk-test"});
  for (int i = 0; i < 200 && Get("/api/v1/runs/slow").status != 200; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  std::string raw = ReadStream(
      port_, "/api/v1/runs/slow/events", [](const std::string& s) { return s.find("event: end") != std::string::npos; }, 30);
  EXPECT_EQ(Wait(run), 0) << Slurp(run.err_path);
  EXPECT_NE(raw.find("text/event-stream"), std::string::npos);
  EXPECT_NE(raw.find("\"type\":\"run_started\""), std::string::npos);
  EXPECT_NE(raw.find("\"type\":\"node_succeeded\""), std::string::npos);
  EXPECT_NE(raw.find("event: run\n"), std::string::npos);
  ASSERT_NE(raw.find("event: end"), std::string::npos) << raw;
  // At least one live update arrived mid-stream with part of the answer, not all of it.
  json final_node = GetJson("/api/v1/runs/slow/nodes/talk");
  std::string answer = final_node["calls"][0]["response"];
  ASSERT_FALSE(answer.empty());
  bool partial = false;
  for (size_t at = raw.find("event: live\ndata: "); at != std::string::npos; at = raw.find("event: live\ndata: ", at + 1)) {
    size_t start = at + 18, nl = raw.find('\n', start);
    json l = Parse(raw.substr(start, nl - start));
    std::string t = l["text"];
    EXPECT_EQ(answer.compare(0, t.size(), t), 0) << t;  // a prefix of the final answer
    partial |= !t.empty() && t.size() < answer.size();
  }
  EXPECT_TRUE(partial) << raw;
  EXPECT_TRUE(final_node["live"].empty());  // gone once the call ended

  // A reconnect after the last event gets only the end.
  size_t last_id = raw.rfind("id: ");
  std::string seq = raw.substr(last_id + 4, raw.find('\n', last_id) - last_id - 4);
  std::string again = ReadStream(
      port_, "/api/v1/runs/slow/events?after=" + seq, [](const std::string& s) { return s.find("event: end") != std::string::npos; }, 10);
  EXPECT_EQ(again.find("event: event"), std::string::npos) << again;
  EXPECT_NE(again.find("event: end"), std::string::npos);
}

TEST_F(UiApiE2E, RefusesForgedHostsBadBodiesAndPathsOutside) {
  RunFlow("r1");
  Write("broken.yaml", "name: broken\ndefaults: {model: scripted/demo}\nnodes:\n  a: {prompt: \"x\", needs: [b]}\n");
  StartUi();
  // DNS rebinding: a page served as evil.example that resolves to 127.0.0.1 is refused.
  HttpReply forged = Http(port_, "GET", "/api/v1/runs", "", {"Host: evil.example:8420"});
  EXPECT_EQ(forged.status, 403);
  EXPECT_EQ(Http(port_, "GET", "/api/v1/runs", "", {"Host: localhost:" + std::to_string(port_)}).status, 200);
  // POST needs JSON (a cross-site form cannot send it without a preflight).
  HttpReply form = Http(port_, "POST", "/api/v1/runs/r1/cancel", "a=b", {"Content-Type: application/x-www-form-urlencoded"});
  EXPECT_EQ(form.status, 415);
  HttpReply notjson = Http(port_, "POST", "/api/v1/runs/r1/approve", "{\"node\": ");
  EXPECT_EQ(notjson.status, 400);
  EXPECT_NE(notjson.body.find("not JSON"), std::string::npos) << notjson.body;
  HttpReply huge = Http(port_, "POST", "/api/v1/workflow/validate", std::string(5 << 20, 'x'));
  EXPECT_EQ(huge.status, 413);
  // Static files: the front end, its client-side routes, and nothing outside its folder.
  EXPECT_EQ(Get("/").body, "<!doctype html><title>front</title>");
  EXPECT_EQ(Get("/runs/r1").body, "<!doctype html><title>front</title>");
  EXPECT_EQ(Get("/assets/app.js").headers["content-type"], "text/javascript; charset=utf-8");
  for (const char* p : {"/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "//etc/passwd", "/%2Fetc/passwd",
                        "/assets/..%2F..%2Fstore/specwright.db", "/%2e%2e/flow.yaml"}) {
    HttpReply r = Get(p);
    EXPECT_EQ(r.status, 404) << p;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << p;
    EXPECT_EQ(r.body.find("nodes:"), std::string::npos) << p;
  }
  EXPECT_EQ(Http(port_, "DELETE", "/").headers["allow"], "GET, HEAD");
  // HEAD of an event stream answers at once, without a stream.
  HttpReply head = Http(port_, "HEAD", "/api/v1/runs/r1/events");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  // Workflows: only under --dir (or a run's own file); errors at their line and column.
  EXPECT_EQ(Get("/api/v1/workflow?path=/etc/passwd.yaml").status, 403);
  EXPECT_EQ(Get("/api/v1/workflow?path=../x.yaml").status, 403);
  EXPECT_EQ(Get("/api/v1/workflow?path=flow.txt").status, 400);
  json w = GetJson("/api/v1/workflow?path=broken.yaml");
  EXPECT_EQ(w["ok"], false);
  ASSERT_EQ(w["errors"].size(), 1u) << w.dump(2);
  EXPECT_EQ(w["errors"][0]["line"], 4);
  EXPECT_NE(w["errors"][0]["message"].get<std::string>().find("\"b\""), std::string::npos);
  json fixed = Parse(Http(port_, "POST", "/api/v1/workflow/validate",
                          json{{"path", "broken.yaml"}, {"text", "name: broken\ndefaults: {model: scripted/demo}\nnodes:\n  a: {prompt: \"x\"}\n  b: {needs: [zzz], prompt: \"y\"}\n"}}.dump())
                         .body);
  EXPECT_EQ(fixed["ok"], false);
  ASSERT_FALSE(fixed["errors"].empty());
  EXPECT_EQ(fixed["errors"][0]["line"], 5) << fixed.dump(2);
  // Posted text cannot make the loader read (and echo) files outside the work dir.
  json escape = Parse(Http(port_, "POST", "/api/v1/workflow/validate",
                           json{{"path", "broken.yaml"},
                                {"text", "name: x\ndefaults: {model: scripted/demo}\nnodes:\n  a: {kind: workflow, workflow: /etc/os-release}\n"
                                         "  b: {system: {file: ../../../etc/passwd}, prompt: \"hi\"}\n"}}
                               .dump())
                          .body);
  EXPECT_EQ(escape["ok"], false);
  std::string all = escape["errors"].dump();
  EXPECT_NE(all.find("outside"), std::string::npos) << all;
  EXPECT_EQ(all.find("PRETTY_NAME"), std::string::npos) << all;
  EXPECT_EQ(all.find("root:"), std::string::npos) << all;
  json good = GetJson("/api/v1/workflow?path=flow.yaml");
  EXPECT_EQ(good["ok"], true);
  EXPECT_EQ(good["nodes"].size(), 5u);
  json list = GetJson("/api/v1/workflows");
  bool listed = false;
  for (const auto& e : list) listed |= e["path"] == "flow.yaml" && e["runs"] == 1;
  EXPECT_TRUE(listed) << list.dump(2);
  // The broken file on disk is unchanged by validating other text for it.
  EXPECT_EQ(Slurp(dir_ + "/broken.yaml"), "name: broken\ndefaults: {model: scripted/demo}\nnodes:\n  a: {prompt: \"x\", needs: [b]}\n");
}

TEST_F(UiApiE2E, TheEditorSavesOnlyUnderItsFolderAndNeverOverAChangeItDidNotRead) {
  fs::create_directories(dir_ + "/outside");
  fs::create_directories(dir_ + "/work/sub");
  fs::create_directories(dir_ + "/work/.git");
  std::ofstream(dir_ + "/work/sub/a.yaml") << "name: a\ndefaults: {model: scripted/demo}\nnodes:\n  x: {prompt: hi}\n";
  std::ofstream(dir_ + "/outside/o.yaml") << "name: o\n";
  fs::create_symlink(dir_ + "/outside", dir_ + "/work/link");
  // The UI's folder is work/, not the test's folder.
  std::vector<std::string> args{"ui", "--port", "0", "--dir", dir_ + "/work", "--store", store_, "--ui-dir", dir_ + "/front"};
  fs::create_directories(dir_ + "/front");
  std::ofstream(dir_ + "/front/index.html") << "<!doctype html>";
  ui_ = Spawn(args, dir_);
  for (int i = 0; i < 200 && port_ == 0; ++i) {
    std::string out = Slurp(ui_.out_path);
    size_t at = out.find("http://127.0.0.1:");
    if (at != std::string::npos && out.find('/', at + 17) != std::string::npos) port_ = std::stoi(out.substr(at + 17));
    else std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_GT(port_, 0);

  json a = GetJson("/api/v1/workflow?path=sub/a.yaml");
  std::string version = a["version"];
  ASSERT_EQ(version.size(), 32u);
  auto save = [&](const std::string& path, const std::string& text, const std::string& v) {
    return Http(port_, "POST", "/api/v1/workflow/save", json{{"path", path}, {"text", text}, {"version", v}}.dump());
  };
  const std::string edited = "name: a\ndefaults: {model: scripted/demo}\nnodes:\n  x: {prompt: hi}\n  y: {needs: [x], prompt: again}\n";
  HttpReply ok = save("sub/a.yaml", edited, version);
  ASSERT_EQ(ok.status, 200) << ok.body;
  json saved = Parse(ok.body);
  EXPECT_EQ(saved["ok"], true);
  EXPECT_EQ(saved["nodes"].size(), 2u);
  EXPECT_NE(saved["version"], version);
  EXPECT_EQ(Slurp(dir_ + "/work/sub/a.yaml"), edited);

  // A second save naming the old version (another tab) is refused; the file keeps the first.
  HttpReply stale = save("sub/a.yaml", "name: lost\n", version);
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_NE(stale.body.find("changed on disk"), std::string::npos) << stale.body;
  // So is a change made on disk by someone else since the editor read the file.
  std::ofstream(dir_ + "/work/sub/a.yaml") << edited << "# by hand\n";
  HttpReply by_hand = save("sub/a.yaml", edited, saved["version"]);
  EXPECT_EQ(by_hand.status, 409) << by_hand.body;
  EXPECT_EQ(Slurp(dir_ + "/work/sub/a.yaml"), edited + "# by hand\n");
  // An existing file is never replaced without a version; a new one is created without.
  EXPECT_EQ(save("sub/a.yaml", "name: z\n", "").status, 409);
  HttpReply fresh = save("sub/new.yaml", "name: new\ndefaults: {model: scripted/demo}\nnodes:\n  n: {prompt: hi}\n", "");
  EXPECT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_TRUE(fs::exists(dir_ + "/work/sub/new.yaml"));
  EXPECT_EQ(save("nofolder/new.yaml", "name: n\n", "").status, 400);
  // A file deleted since it was read: 410, and a save without a version creates it again.
  json n = GetJson("/api/v1/workflow?path=sub/new.yaml");
  fs::remove(dir_ + "/work/sub/new.yaml");
  HttpReply gone = save("sub/new.yaml", "name: again\n", n["version"]);
  EXPECT_EQ(gone.status, 410) << gone.body;
  EXPECT_FALSE(fs::exists(dir_ + "/work/sub/new.yaml"));
  EXPECT_EQ(save("sub/new.yaml", "name: again\n", "").status, 200);
  EXPECT_EQ(Slurp(dir_ + "/work/sub/new.yaml"), "name: again\n");

  // Nothing outside the folder, through .., an absolute path, a link, or into .git; only YAML.
  fs::create_directories(dir_ + "/work/sub/.git");
  for (const std::string& bad : {std::string("../outside/o.yaml"), dir_ + "/outside/o.yaml", std::string("link/o.yaml"),
                                 std::string(".git/config.yaml"), std::string("sub/../../outside/o.yaml"),
                                 std::string("sub/.git/x.yaml"), std::string("sub/.GIT/x.yaml"), std::string(".specwright/x.yaml")}) {
    HttpReply r = save(bad, "name: pwned\n", "");
    EXPECT_EQ(r.status, 403) << bad << ": " << r.body;
  }
  EXPECT_EQ(Slurp(dir_ + "/outside/o.yaml"), "name: o\n");
  EXPECT_FALSE(fs::exists(dir_ + "/work/.git/config.yaml"));
  HttpReply txt = save("sub/notes.txt", "x", "");
  EXPECT_EQ(txt.status, 400) << txt.body;
  EXPECT_FALSE(fs::exists(dir_ + "/work/sub/notes.txt"));
  // Bounded: a text past the request limit (4 MiB) is refused before anything is written.
  HttpReply big = save("sub/big.yaml", std::string((4 << 20) + 1, '#'), "");
  EXPECT_EQ(big.status, 413) << big.body;
  EXPECT_FALSE(fs::exists(dir_ + "/work/sub/big.yaml"));
  HttpReply no_text = Http(port_, "POST", "/api/v1/workflow/save", R"({"path": "sub/a.yaml", "text": 3})");
  EXPECT_EQ(no_text.status, 400) << no_text.body;
}

TEST_F(UiApiE2E, TheEditorRunsAWorkflowWithItsFormsInputsAsItsOwnProcess) {
  StartUi();
  json w = GetJson("/api/v1/workflow?path=flow.yaml");
  ASSERT_EQ(w["inputs"].size(), 1u) << w.dump(2);
  EXPECT_EQ(w["inputs"][0]["name"], "topic");
  EXPECT_EQ(w["inputs"][0]["type"], "string");
  EXPECT_EQ(w["inputs"][0]["default"], "tides");
  EXPECT_EQ(w["inputs"][0]["required"], false);
  EXPECT_EQ(w["script"], "script.yaml");  // the offline script beside it, for the form

  // Mistakes come back as the CLI's own words: an unknown input, a script outside the folder.
  HttpReply typo = Http(port_, "POST", "/api/v1/workflow/run",
                        json{{"path", "flow.yaml"}, {"inputs", {{"topik", "x"}}}, {"script", "script.yaml"}}.dump());
  EXPECT_EQ(typo.status, 400) << typo.body;
  EXPECT_NE(typo.body.find("topic"), std::string::npos) << typo.body;
  HttpReply odd = Http(port_, "POST", "/api/v1/workflow/run", json{{"path", "flow.yaml"}, {"inputs", {{"a=b", "c"}}}}.dump());
  EXPECT_EQ(odd.status, 400) << odd.body;
  HttpReply far = Http(port_, "POST", "/api/v1/workflow/run", json{{"path", "flow.yaml"}, {"script", "/etc/hosts.yaml"}}.dump());
  EXPECT_EQ(far.status, 403) << far.body;
  EXPECT_EQ(Http(port_, "POST", "/api/v1/workflow/run", json{{"path", "missing.yaml"}}.dump()).status, 404);

  HttpReply ok = Http(port_, "POST", "/api/v1/workflow/run",
                      json{{"path", "flow.yaml"}, {"inputs", {{"topic", "--yes kites"}}}, {"script", "script.yaml"}}.dump());
  ASSERT_EQ(ok.status, 202) << ok.body;
  EXPECT_FALSE(fs::exists(store_ + "/ui/inputs/" + Parse(ok.body)["run_id"].get<std::string>()));
  std::string id = Parse(ok.body)["run_id"];
  // It runs with --wait: its process waits at the gate for the UI, and finishes once approved.
  bool asked = false;
  for (int i = 0; i < 400 && !asked; ++i) {
    for (const auto& g : GetJson("/api/v1/approvals")) asked |= g["run_id"] == id;
    if (!asked) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(asked) << Slurp(store_ + "/ui/logs/" + id + ".log");
  json run = GetJson("/api/v1/runs/" + id);
  EXPECT_EQ(run["inputs"]["topic"], "--yes kites") << run.dump(2);
  HttpReply a = Http(port_, "POST", "/api/v1/runs/" + id + "/approve", R"({"node": "gate"})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(WaitStatus(id, "succeeded"), "succeeded") << Slurp(store_ + "/ui/logs/" + id + ".log");
  json plan = GetJson("/api/v1/runs/" + id + "/nodes/plan");
  ASSERT_FALSE(plan["calls"].empty());
  EXPECT_NE(plan["calls"][0]["prompt"].dump().find("Plan an essay on --yes kites"), std::string::npos);
}

TEST_F(UiApiE2E, ATokenIsCheckedOnEveryRequest) {
  StartUi({"--token", "s3cret-token"});
  EXPECT_EQ(Get("/api/v1/runs").status, 401);
  EXPECT_EQ(Get("/api/v1/runs?token=wrong").status, 401);
  EXPECT_EQ(Http(port_, "POST", "/api/v1/runs/x/cancel", "{}").status, 401);
  // The front end's files load without it (a page cannot add it to its script tags); they hold no data.
  EXPECT_EQ(Get("/").status, 200);
  EXPECT_EQ(Get("/assets/app.js").status, 200);
  EXPECT_EQ(Get("/api/v1/runs?token=s3cret-token").status, 200);
  EXPECT_EQ(Http(port_, "GET", "/api/v1/runs", "", {"Authorization: Bearer s3cret-token"}).status, 200);
  // The token never reaches the store or the log of the server.
  StopUi();
  for (const auto& e : fs::recursive_directory_iterator(store_))
    if (e.is_regular_file()) {
      EXPECT_EQ(Slurp(e.path()).find("s3cret-token"), std::string::npos) << e.path();
    }
}

TEST_F(UiApiE2E, TwoApprovalsAtOnceStartOneResume) {
  Write("two.yaml", R"(name: two-gates
defaults: {model: scripted/demo}
nodes:
  plan: {prompt: "Plan an essay on tides"}
  g1: {kind: human, needs: [plan], message: "First?"}
  g2: {kind: human, needs: [plan], message: "Second?"}
  done: {needs: [g1, g2], prompt: "Done"}
)");
  Write("two-script.yaml", "nodes:\n  \"*\": [{text: \"ok\"}]\n");
  auto r = Cli({"run", dir_ + "/two.yaml", "--script", dir_ + "/two-script.yaml", "--run-id", "T"});
  ASSERT_EQ(r.code, 3) << r.err << r.out;
  StartUi();
  ASSERT_EQ(GetJson("/api/v1/approvals").size(), 2u);
  HttpReply a, b;
  std::thread t1([&] { a = Http(port_, "POST", "/api/v1/runs/T/approve", R"({"node": "g1"})"); });
  std::thread t2([&] { b = Http(port_, "POST", "/api/v1/runs/T/approve", R"({"node": "g2"})"); });
  t1.join();
  t2.join();
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(b.status, 200) << b.body;
  std::multiset<std::string> how{Parse(a.body)["continued"], Parse(b.body)["continued"]};
  EXPECT_EQ(how.count("resumed"), 1u) << a.body << b.body;
  EXPECT_EQ(WaitStatus("T", "succeeded"), "succeeded");
}

TEST_F(UiApiE2E, TwoResumesOfOneRunAtOnceRunItOnce) {
  // Slow answers, so that the two resumes overlap.
  Write("slow-script.yaml", std::string("latency_ms: 400\n") + kScript);
  auto r = Cli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/slow-script.yaml", "--run-id", "dup"});
  ASSERT_EQ(r.code, 3) << r.err;
  auto a = Cli({"approve", "dup", "gate"});
  ASSERT_EQ(a.code, 0) << a.err;
  Proc p1 = Spawn({"resume", "dup", "--store", store_}, dir_);
  Proc p2 = Spawn({"resume", "dup", "--store", store_}, dir_);
  int c1 = Wait(p1), c2 = Wait(p2);
  std::multiset<int> codes{c1, c2};
  EXPECT_EQ(codes, (std::multiset<int>{0, 2})) << Slurp(p1.err_path) << Slurp(p2.err_path);
  std::string loser = Slurp(c1 == 2 ? p1.err_path : p2.err_path);
  EXPECT_TRUE(loser.find("being resumed by another process") != std::string::npos ||
              loser.find("still running in process") != std::string::npos)
      << loser;
  // publish ran once: one model call after the gate.
  auto cost = Cli({"cost", "dup", "--json"});
  int publish_calls = -1;
  json spend = Parse(cost.out);  // bound: a range-for over a member of a temporary reads freed memory
  for (const auto& n : spend["by_node"])
    if (n["key"] == "publish") publish_calls = n["calls"].get<int>();
  EXPECT_EQ(publish_calls, 1) << cost.out;
  EXPECT_EQ(Parse(Cli({"show", "dup", "--json"}).out)["status"], "succeeded");
}

TEST_F(UiApiE2E, AReplaysErrorComesBackWhileOtherRequestsGoOn) {
  RunFlow("src");
  StartUi();
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop) Get("/api/v1/health");  // each request reaps finished children
  });
  HttpReply bad = Http(port_, "POST", "/api/v1/runs/src/replay", R"({"from": ["nope"]})");
  stop = true;
  busy.join();
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("nope"), std::string::npos) << bad.body;
}

TEST_F(UiApiE2E, ABadPortIsRefusedByName) {
  // (Which hosts need a token is IsLoopback's, unit-tested in server_test: tests bind loopback only.)
  auto r = Cli({"ui", "--port", "70000"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("70000"), std::string::npos);
  r = Cli({"ui", "--host", "not-an-address", "--port", "0"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("not-an-address"), std::string::npos) << r.err;
}

TEST_F(UiApiE2E, AGateInASubRunIsListedOnceAndResumesItsParent) {
  Write("child.yaml", R"(name: child
defaults: {model: scripted/demo}
nodes:
  draft: {prompt: "Draft"}
  check: {kind: human, needs: [draft], message: "Child gate?"}
)");
  Write("parent.yaml", R"(name: parent
defaults: {model: scripted/demo}
nodes:
  plan: {prompt: "Plan an essay on tides"}
  sub: {kind: workflow, needs: [plan], workflow: child.yaml}
  after: {needs: [sub], prompt: "After"}
)");
  Write("sub-script.yaml", "nodes:\n  \"*\": [{text: \"ok\"}]\n");
  auto r = Cli({"run", dir_ + "/parent.yaml", "--script", dir_ + "/sub-script.yaml", "--run-id", "P"});
  ASSERT_EQ(r.code, 3) << r.err << r.out;
  StartUi();
  json list = GetJson("/api/v1/approvals");
  ASSERT_EQ(list.size(), 1u) << list.dump(2);  // the parent's waiting `sub` node is not a gate of its own
  EXPECT_EQ(list[0]["node"], "check");
  std::string sub = list[0]["run_id"];
  EXPECT_NE(sub, "P");
  EXPECT_EQ(list[0]["root_run"], "P");
  HttpReply ok = Http(port_, "POST", "/api/v1/runs/" + sub + "/approve", R"({"node": "check"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Parse(ok.body)["resumed_run"], "P");
  EXPECT_EQ(WaitStatus("P", "succeeded"), "succeeded") << Slurp(ui_.err_path);
}

}  // namespace

namespace {

TEST_F(UiApiE2E, ApprovingAStepOfDevelopInTheUiLetsDevelopContinue) {
  const std::string ex = std::string(SW_SOURCE_DIR) + "/examples/develop/tipsplit";
  const std::vector<std::string> rec{"--script", ex + "/recording.yaml", "--config", ex + "/specwright.yaml"};
  std::vector<std::string> dev{"develop", ex + "/BRIEF.md", "--workspace", dir_ + "/tipsplit"};
  dev.insert(dev.end(), rec.begin(), rec.end());
  auto d = Cli(dev);
  ASSERT_EQ(d.code, 3) << d.out << d.err;  // the open question waits
  StartUi();
  json list = GetJson("/api/v1/approvals");
  ASSERT_EQ(list.size(), 1u) << list.dump();
  std::string run = list[0]["run_id"];
  EXPECT_EQ(list[0]["node"], "ask");
  HttpReply ok = Http(port_, "POST", "/api/v1/runs/" + run + "/approve",
                      R"({"node": "ask", "decision": "approved", "text": "Round each share up to the cent"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  // No `specwright resume` is started for a process step: develop itself continues it.
  EXPECT_NE(Parse(ok.body).value("continued", "").find("specwright develop"), std::string::npos) << ok.body;
  auto again = Cli(dev);
  EXPECT_EQ(again.code, 3) << again.out << again.err;  // past the question, now at the requirements gate
  EXPECT_NE(again.err.find("phase requirements"), std::string::npos) << again.err;
  // The develop is one session: its steps so far, read from the project's state file.
  json sessions = GetJson("/api/v1/sessions");
  ASSERT_EQ(sessions.size(), 1u) << sessions.dump();
  EXPECT_EQ(sessions[0]["kind"], "develop");
  std::string id = sessions[0]["session"];
  json one = GetJson("/api/v1/sessions/" + id);
  EXPECT_EQ(one["project"], dir_ + "/tipsplit");
  ASSERT_EQ(one["step_list"].size(), 3u) << one.dump();
  EXPECT_EQ(one["step_list"][0]["key"], "complexity");
  EXPECT_EQ(one["step_list"][1]["key"], "question-1");  // the open question the UI answered
  EXPECT_EQ(one["step_list"][2]["key"], "requirements");
  EXPECT_EQ(one["step_list"][2]["status"], "waiting") << one.dump();
  EXPECT_EQ(one["run_list"].size(), sessions[0]["runs"].get<size_t>());
  EXPECT_EQ(one["complexity"]["tier"], "minimal");
  EXPECT_EQ(one["finished"], false);  // the process says the develop is not done
  HttpReply none = Http(port_, "GET", "/api/v1/sessions/no-such-session", "");
  EXPECT_EQ(none.status, 404) << none.body;
  EXPECT_EQ(Parse(none.body).value("error", ""), "no session \"no-such-session\" in the store (`specwright sessions` lists them)") << none.body;
  // The project's specs and files, and nothing outside it.
  json spec = GetJson("/api/v1/sessions/" + id + "/spec");
  EXPECT_EQ(spec["project"], dir_ + "/tipsplit");
  EXPECT_FALSE(spec["docs"].empty());
  EXPECT_NE(spec["docs"].dump().find("<h1>"), std::string::npos);
  std::ofstream(dir_ + "/outside.txt") << "secret\n";
  std::filesystem::create_symlink(dir_ + "/outside.txt", dir_ + "/tipsplit/link.txt");
  for (const char* bad : {"../outside.txt", "link.txt", ".git/config", "/etc/passwd", "specs/../../outside.txt"}) {
    HttpReply r = Http(port_, "GET", "/api/v1/sessions/" + id + "/file?path=" + bad, "");
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << bad;
  }
  std::filesystem::remove(dir_ + "/tipsplit/link.txt");
  // A link to .git inside the project is judged by where it leads; a spec document linked in
  // from elsewhere is not the project's.
  std::filesystem::create_directory_symlink(dir_ + "/tipsplit/.git", dir_ + "/tipsplit/notes");
  EXPECT_EQ(Http(port_, "GET", "/api/v1/sessions/" + id + "/file?path=notes/config", "").status, 400);
  std::filesystem::remove(dir_ + "/tipsplit/notes");
  std::ofstream(dir_ + "/elsewhere.md") << "# Elsewhere\n\n## REQ-09-001 Leaked title\n\nPrivate.\n";
  std::filesystem::create_symlink(dir_ + "/elsewhere.md", dir_ + "/tipsplit/specs/leak.md");
  HttpReply leak = Http(port_, "GET", "/api/v1/sessions/" + id + "/spec", "");
  EXPECT_EQ(leak.status, 200);
  EXPECT_EQ(leak.body.find("Leaked title"), std::string::npos) << leak.body.substr(0, 300);
  std::filesystem::remove(dir_ + "/tipsplit/specs/leak.md");
  json brief = GetJson("/api/v1/sessions/" + id + "/file?path=BRIEF.md");
  EXPECT_NE(brief["text"].get<std::string>().find("tipsplit"), std::string::npos);
  EXPECT_EQ(Http(port_, "GET", "/api/v1/sessions/" + id + "/file?path=nope.txt", "").status, 404);
  EXPECT_EQ(Http(port_, "GET", "/api/v1/sessions/" + id + "/spec/impact", "").status, 400);
  // A project moved away leaves the session readable from the store, with a note.
  std::filesystem::rename(dir_ + "/tipsplit", dir_ + "/moved");
  json moved = GetJson("/api/v1/sessions/" + id);
  EXPECT_TRUE(moved["step_list"].empty());
  EXPECT_NE(moved.value("note", "").find("is not there"), std::string::npos) << moved.dump();
  HttpReply gone = Http(port_, "GET", "/api/v1/sessions/" + id + "/spec", "");
  EXPECT_EQ(gone.status, 404) << gone.body;
  EXPECT_NE(gone.body.find("is not there"), std::string::npos) << gone.body;
}

}  // namespace
