// `specwright mcp` end to end: an agent node of our own engine uses the tools of a
// `specwright mcp` server (stdio) through mcp://, the scripted model calling spec_trace and
// answering from its real result; then the same binary serves that run back over MCP (runs,
// status, cost, debug, Markdown export) and `export --format markdown` writes the run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poll.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace e2e;

void Put(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

/// Serve runs `specwright ARGS` with stdin from the given JSON-RPC lines and returns the
/// answers by id.
std::map<int, json> Serve(const std::vector<std::string>& args, const std::vector<json>& messages, const std::string& dir) {
  std::string in_path = dir + "/mcp-in.jsonl", out_path = dir + "/mcp-out.jsonl", err_path = dir + "/mcp-err.txt";
  {
    std::ofstream in(in_path);
    for (const auto& m : messages) in << m.dump() << "\n";
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> all = {SW_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, SW_BINARY, &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the server ends cleanly at EOF: " << Slurp(err_path);
  std::map<int, json> out;
  std::ifstream f(out_path);
  for (std::string line; std::getline(f, line);) {
    json j = json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "stdout carries protocol messages only: " << line;
    if (!j.is_discarded() && j.contains("id") && j["id"].is_number_integer()) out[j["id"].get<int>()] = j;
  }
  return out;
}

json Request(int id, const std::string& method, json params) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

json CallTool(int id, const std::string& name, json args) {
  return Request(id, "tools/call", {{"name", name}, {"arguments", std::move(args)}});
}

/// Conversation is a `specwright mcp` process spoken to line by line over pipes.
class Conversation {
 public:
  explicit Conversation(const std::vector<std::string>& args) {
    int in[2], out[2];
    EXPECT_EQ(pipe(in), 0);
    EXPECT_EQ(pipe(out), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      std::vector<std::string> all = {SW_BINARY};
      all.insert(all.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(SW_BINARY, argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~Conversation() { Close(); }
  /// Ask sends one request and returns its answer (or null after 60 s).
  json Ask(const json& msg) {
    std::string line = msg.dump() + "\n";
    EXPECT_EQ(write(to_, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    if (!msg.contains("id")) return nullptr;
    for (;;) {
      size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        json j = json::parse(buf_.substr(0, nl), nullptr, false);
        buf_.erase(0, nl + 1);
        return j;
      }
      pollfd p{from_, POLLIN, 0};
      if (poll(&p, 1, 60000) <= 0) return nullptr;
      char b[65536];
      ssize_t n = read(from_, b, sizeof b);
      if (n <= 0) return nullptr;
      buf_.append(b, static_cast<size_t>(n));
    }
  }
  /// Close ends stdin; the server exits at EOF with this status.
  int Close() {
    if (pid_ <= 0) return status_;
    close(to_);
    close(from_);
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1, status_ = -1;
  std::string buf_;
};

class McpE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_mcp_e2e_XXXXXX";
    dir_ = mkdtemp(tmpl);
    project_ = dir_ + "/project";
    store_ = dir_ + "/store";
    // The servers these tests start keep their code index in a cache of the test's own.
    cache_ = dir_ + "/cache";
    setenv("XDG_CACHE_HOME", cache_.c_str(), 1);
    Put(project_ + "/specs/requirements.md", "# Requirements\n\n## REQ-01-001 User can sign up\n\nWith an email and a password.\n");
    Put(project_ + "/src/signup.c", "// REQ-01-001: the sign-up handler\nint signup(void) { return 0; }\n");
    Put(project_ + "/tests/test_signup.c", "// REQ-01-001\nint test_signup(void) { return 0; }\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_, project_, store_, cache_;
};

TEST_F(McpE2E, AnAgentOfOurEngineUsesSpecwrightAsAnMcpServer) {
  Put(dir_ + "/flow.yaml", std::string("name: ask-specwright\n") +
                               "mcp_servers:\n  specwright: {command: \"" + SW_BINARY + "\", args: [mcp, --dir, \"" + project_ +
                               "\"], timeout: 30s}\n"
                               "defaults: {model: scripted/dev, max_tokens: 512}\n"
                               "nodes:\n  ask:\n    kind: agent\n"
                               "    prompt: \"Where is REQ-01-001 implemented and tested?\"\n"
                               "    tools: [mcp://specwright/spec_trace, mcp://specwright/spec_item]\n"
                               "    max_turns: 4\n");
  Put(dir_ + "/script.yaml",
      "nodes:\n  ask:\n"
      "    - when: {turn: 1}\n"
      "      text: \"Asking Specwright.\"\n"
      "      tool_calls: [{name: specwright__spec_trace, arguments: {id: REQ-01-001}}]\n"
      "      usage: {input: 200, output: 20}\n"
      "    - when: {turn: 2, prompt_contains: \"tests/test_signup.c\"}\n"
      "      text: \"REQ-01-001 is implemented in src/signup.c:1 and tested in tests/test_signup.c:1.\"\n"
      "      usage: {input: 400, output: 30}\n"
      "    - when: {turn: 2}\n"
      "      text: \"The trace did not say.\"\n"
      "      usage: {input: 400, output: 10}\n");
  auto run = RunCli({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--store", store_}, dir_);
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  auto show = RunCli({"show", "latest", "--store", store_}, dir_);
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_NE(show.out.find("-> specwright__spec_trace {\"id\":\"REQ-01-001\"}"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("<- mcp://specwright/spec_trace ok"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("implemented in src/signup.c:1 and tested in tests/test_signup.c:1"), std::string::npos)
      << "the model answered from the real tool result:\n" << show.out;
  EXPECT_FALSE(fs::exists(project_ + "/.specwright")) << "the read-only server created no store in the project";

  // The same binary serves that run back over MCP.
  std::vector<json> msgs = {
      Request(1, "initialize", {{"protocolVersion", "2025-06-18"}, {"capabilities", json::object()}}),
      json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}},
      CallTool(2, "runs_list", json::object()),
      CallTool(3, "run_status", {{"run", "latest"}}),
      CallTool(4, "run_cost", {{"run", "latest"}}),
      CallTool(5, "run_debug", {{"run", "latest"}}),
      CallTool(6, "export_markdown", {{"run", "latest"}}),
      CallTool(7, "sessions_list", json::object()),
  };
  auto answers = Serve({"mcp", "--dir", project_, "--store", store_}, msgs, dir_);
  ASSERT_EQ(answers.size(), 7u);
  for (int id = 2; id <= 7; ++id) EXPECT_EQ(answers[id]["result"]["isError"], false) << answers[id];
  json runs = answers[2]["result"]["structuredContent"]["runs"];
  ASSERT_EQ(runs.size(), 1u) << runs;
  EXPECT_EQ(runs[0]["status"], "succeeded");
  EXPECT_NE(answers[3]["result"]["content"][0]["text"].get<std::string>().find("ask  succeeded"), std::string::npos) << answers[3];
  EXPECT_EQ(answers[4]["result"]["structuredContent"]["total"]["calls"], 2) << answers[4];
  EXPECT_NE(answers[5]["result"]["content"][0]["text"].get<std::string>().find("no node failed"), std::string::npos) << answers[5];
  std::string md = answers[6]["result"]["content"][0]["text"];
  for (const char* want : {"# Run ", "Node `ask`", "**Model call 1**", "Where is REQ-01-001 implemented and tested?",
                           "`mcp://specwright/spec_trace`", "src/signup.c:1", "# Cost"})
    EXPECT_NE(md.find(want), std::string::npos) << "missing " << want << " in\n" << md;

  // The CLI writes the same document.
  auto exported = RunCli({"export", "latest", "--format", "markdown", "--store", store_}, dir_);
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_EQ(exported.out, md + "\n");
  auto wrong = RunCli({"export", "no-such-thing", "--format", "markdown", "--store", store_}, dir_);
  EXPECT_NE(wrong.code, 0);
  EXPECT_NE(wrong.err.find("not a session, and not a run"), std::string::npos) << wrong.err;
}

TEST_F(McpE2E, WithAllowWritesAnAgentStartsARunAndAnswersItsGate) {
  Put(project_ + "/flow.yaml",
      "name: gate\ndefaults: {model: scripted/m}\nnodes:\n  a: {prompt: x}\n  g: {kind: human, needs: [a], message: \"ship?\"}\n"
      "  b: {needs: [g], prompt: y}\n");
  Put(project_ + "/script.yaml", "nodes:\n  \"*\": [{text: fine}]\n");
  Conversation c({"mcp", "--dir", project_, "--store", store_, "--allow-writes"});
  ASSERT_EQ(c.Ask(Request(1, "initialize", {{"protocolVersion", "2025-11-25"}}))["result"]["protocolVersion"], "2025-11-25");
  c.Ask(json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
  json started = c.Ask(CallTool(2, "run_start", {{"workflow", "flow.yaml"}, {"script", "script.yaml"}}));
  ASSERT_EQ(started["result"]["isError"], false) << started;
  std::string run = started["result"]["structuredContent"]["run_id"];
  auto status_of = [&](int id) {
    json r = c.Ask(CallTool(id, "run_status", {{"run", run}}));
    return r["result"]["structuredContent"].value("status", "");
  };
  int id = 10;
  // With --wait the run's process stays with it at the gate: the run is running, the gate waiting.
  auto gate_of = [&](int id) {
    json r = c.Ask(CallTool(id, "run_status", {{"run", run}}));
    for (const auto& n : r["result"]["structuredContent"].value("nodes", json::array()))
      if (n.value("node", "") == "g") return n.value("status", "");
    return std::string();
  };
  std::string status;
  for (int i = 0; i < 300 && (status = gate_of(++id)) != "waiting"; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(status, "waiting");
  json early = c.Ask(CallTool(++id, "gate_approve", {{"run", run}, {"node", "b"}}));
  EXPECT_EQ(early["result"]["isError"], true) << "b is not a waiting gate: " << early;
  json answered = c.Ask(CallTool(++id, "gate_approve", {{"run", run}, {"node", "g"}, {"comment", "ship it"}}));
  ASSERT_EQ(answered["result"]["isError"], false) << answered;
  EXPECT_EQ(answered["result"]["structuredContent"]["decision"], "approved");
  EXPECT_EQ(answered["result"]["structuredContent"]["continued"], "running process") << answered;
  for (int i = 0; i < 300 && (status = status_of(++id)) != "succeeded"; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(status, "succeeded");
  json md = c.Ask(CallTool(++id, "export_markdown", {{"run", run}}));
  std::string text = md["result"]["content"][0]["text"];
  EXPECT_NE(text.find("`g`: approved by mcp: ship it"), std::string::npos) << text;
  EXPECT_EQ(c.Close(), 0);
}

TEST_F(McpE2E, CodeToolsKeepTheirIndexInTheCacheAndServeNoSecrets) {
  Put(project_ + "/.env", "DB_PASSWORD=e2e-env-secret-123\n");
  Put(project_ + "/src/db.py", "password = \"hunter2hunter2\"\ndef connect(): pass\n");
  std::vector<json> msgs = {
      Request(1, "initialize", {{"protocolVersion", "2025-11-25"}, {"capabilities", json::object()}}),
      json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}},
      CallTool(2, "code_search", {{"query", "DB_PASSWORD OR password"}}),
      CallTool(3, "code_symbols", {{"name", "connect"}}),
  };
  auto answers = Serve({"mcp", "--dir", project_}, msgs, dir_);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_NE(answers[1]["result"]["instructions"].get<std::string>().find("code_search"), std::string::npos);
  ASSERT_EQ(answers[2]["result"]["isError"], false) << answers[2];
  std::string all = answers[2].dump();
  EXPECT_EQ(all.find("e2e-env-secret-123"), std::string::npos) << all;
  EXPECT_EQ(all.find("hunter2hunter2"), std::string::npos) << all;
  EXPECT_EQ(all.find(".env"), std::string::npos) << ".env is not indexed: " << all;
  EXPECT_NE(all.find("src/db.py"), std::string::npos) << all;
  EXPECT_EQ(answers[3]["result"]["isError"], false) << answers[3];
  EXPECT_FALSE(fs::exists(project_ + "/.specwright")) << "a read-only server wrote into the project";
  size_t dbs = 0;
  for (const auto& e : fs::directory_iterator(cache_ + "/specwright/code-index")) dbs += e.path().extension() == ".db";
  EXPECT_EQ(dbs, 1u);
}

TEST_F(McpE2E, AGeneratedTokenGoesToStderr) {
  // An address that cannot be bound: the token is generated and said before the bind fails.
  auto r = RunCli({"mcp", "--dir", project_, "--http", "--host", "not-an-address", "--port", "0"}, dir_);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("Authorization: Bearer "), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("Bearer"), std::string::npos) << "stdout: " << r.out;
  // A token from the environment is used as it is: nothing generated, nothing printed.
  r = RunCli({"mcp", "--dir", project_, "--http", "--host", "not-an-address", "--port", "0"}, dir_,
             {"SPECWRIGHT_MCP_TOKEN=from-the-env-123"});
  EXPECT_NE(r.code, 0);
  EXPECT_EQ((r.out + r.err).find("Bearer"), std::string::npos) << r.out << r.err;
  EXPECT_EQ((r.out + r.err).find("from-the-env-123"), std::string::npos) << r.out << r.err;
}

}  // namespace
