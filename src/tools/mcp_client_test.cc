// The MCP client against real servers from npm (tests/mcp, installed by
// scripts/mcp-servers.sh): server-everything over stdio and over Streamable HTTP,
// server-filesystem over stdio, and a small paging server of our own for the edge cases.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "base/fs.h"
#include "base/subprocess.h"
#include "tools/mcp_client.h"

namespace sw::tools {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string McpDir() { return std::string(SW_SOURCE_DIR) + "/tests/mcp"; }
std::string Module(const std::string& rel) { return McpDir() + "/node_modules/" + rel; }

bool Installed() {
  return FileExists(Module("@modelcontextprotocol/server-everything/dist/index.js")) &&
         !FindProgram("node", std::getenv("PATH") ? std::getenv("PATH") : "").empty();
}

#define REQUIRE_SERVERS()                                                                      \
  if (!Installed()) GTEST_FAIL() << "MCP test servers are not installed: run scripts/mcp-servers.sh " \
                                    "(make test does)";

McpServerSpec Everything() {
  McpServerSpec s;
  s.name = "everything";
  s.command = "node";
  s.args = {Module("@modelcontextprotocol/server-everything/dist/index.js"), "stdio"};
  s.timeout = 20;
  return s;
}

std::string Text(const json& result) {
  std::string out;
  for (const auto& c : result["content"])
    if (c.value("type", "") == "text") out += c.value("text", "");
  return out;
}

TEST(McpClient, EverythingOverStdioListsCallsAndReportsToolErrors) {
  REQUIRE_SERVERS();
  setenv("ANTHROPIC_API_KEY", "sk-ant-must-not-leak", 1);
  auto c = McpClient::Connect(Everything());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ((*c)->protocol_version(), kMcpVersions[0]) << "the newest version both sides speak";
  EXPECT_EQ((*c)->server_info().value("name", ""), "mcp-servers/everything");
  auto tools = (*c)->ListTools();
  ASSERT_TRUE(tools.ok()) << tools.status().message();
  std::set<std::string> names;
  for (const auto& t : *tools) names.insert(t.name);
  EXPECT_TRUE(names.count("echo") && names.count("get-sum") && names.count("get-structured-content"));
  for (const auto& t : *tools)
    if (t.name == "echo") EXPECT_EQ(t.input_schema["properties"]["message"]["type"], "string");
  auto echo = (*c)->CallTool("echo", {{"message", "hello"}});
  ASSERT_TRUE(echo.ok()) << echo.status().message();
  EXPECT_FALSE((*echo)["isError"].get<bool>());
  EXPECT_EQ(Text(*echo), "Echo: hello");
  auto sum = (*c)->CallTool("get-sum", {{"a", 2}, {"b", 40}});
  ASSERT_TRUE(sum.ok());
  EXPECT_NE(Text(*sum).find("42"), std::string::npos) << Text(*sum);
  auto structured = (*c)->CallTool("get-structured-content", {{"location", "New York"}});
  ASSERT_TRUE(structured.ok()) << structured.status().message();
  EXPECT_TRUE(structured->contains("structuredContent")) << structured->dump();
  // A failing tool is a result with isError, for the model to read; not a client error.
  auto bad = (*c)->CallTool("echo", json::object());
  ASSERT_TRUE(bad.ok()) << bad.status().message();
  EXPECT_TRUE((*bad)["isError"].get<bool>());
  EXPECT_NE(Text(*bad).find("message"), std::string::npos);
  auto unknown = (*c)->CallTool("no-such-tool", json::object());
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE((*unknown)["isError"].get<bool>());
  // Only the environment the workflow declares reaches the server.
  auto env = (*c)->CallTool("get-env", json::object());
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(Text(*env).find("sk-ant-must-not-leak"), std::string::npos);
  unsetenv("ANTHROPIC_API_KEY");
}

TEST(McpClient, ServerKilledMidCallIsAnErrorNamingItThenItRestarts) {
  REQUIRE_SERVERS();
  auto c = McpClient::Connect(Everything());
  ASSERT_TRUE(c.ok()) << c.status().message();
  pid_t pid = (*c)->server_pid();
  ASSERT_GT(pid, 0);
  auto call = std::async(std::launch::async, [&] {
    return (*c)->CallTool("trigger-long-running-operation", {{"duration", 10}, {"steps", 5}});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ::kill(pid, SIGKILL);
  auto r = call.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("\"everything\""), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("signal 9"), std::string::npos) << r.status().message();
  // The next call starts the server again.
  auto again = (*c)->CallTool("echo", {{"message", "back"}});
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(Text(*again), "Echo: back");
  EXPECT_NE((*c)->server_pid(), pid);
}

TEST(McpClient, TimeoutAndCancelEndTheWaitAndTellTheServer) {
  REQUIRE_SERVERS();
  McpServerSpec s = Everything();
  s.timeout = 0.5;
  auto c = McpClient::Connect(s);
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto t0 = std::chrono::steady_clock::now();
  auto r = (*c)->CallTool("trigger-long-running-operation", {{"duration", 5}, {"steps", 2}});
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kTimeout);
  EXPECT_LT(took, 3);
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto pending = std::async(std::launch::async, [&] {
    return (*c)->CallTool("trigger-long-running-operation", {{"duration", 5}, {"steps", 2}}, cancel);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  cancel->store(true);
  EXPECT_EQ(pending.get().status().code(), Code::kCancelled);
  // The connection is still good afterwards.
  auto ok = (*c)->CallTool("echo", {{"message", "still here"}});
  EXPECT_TRUE(ok.ok()) << ok.status().message();
}

TEST(McpClient, FilesystemServerReadsWritesAndRefusesOutsideItsRoot) {
  REQUIRE_SERVERS();
  char tmpl[] = "/tmp/sw_mcpfs_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string root = fs::canonical(dir).string() + "/root";
  fs::create_directories(root);
  std::ofstream(root + "/hello.txt") << "hello from disk\n";
  std::ofstream(dir + "/outside.txt") << "secret\n";
  McpServerSpec s;
  s.name = "files";
  s.command = "node";
  s.args = {Module("@modelcontextprotocol/server-filesystem/dist/index.js"), root};
  auto c = McpClient::Connect(s);
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto tools = (*c)->ListTools();
  ASSERT_TRUE(tools.ok());
  std::set<std::string> names;
  for (const auto& t : *tools) names.insert(t.name);
  ASSERT_TRUE(names.count("read_text_file")) << "tools: " << tools->size();
  auto read = (*c)->CallTool("read_text_file", {{"path", root + "/hello.txt"}});
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_NE(Text(*read).find("hello from disk"), std::string::npos) << read->dump();
  auto write = (*c)->CallTool("write_file", {{"path", root + "/new.txt"}, {"content", "written over MCP"}});
  ASSERT_TRUE(write.ok());
  EXPECT_FALSE((*write)["isError"].get<bool>()) << write->dump();
  EXPECT_EQ(*ReadFile(root + "/new.txt"), "written over MCP");
  auto outside = (*c)->CallTool("read_text_file", {{"path", dir + "/outside.txt"}});
  ASSERT_TRUE(outside.ok());
  EXPECT_TRUE((*outside)["isError"].get<bool>()) << outside->dump();
  EXPECT_EQ(Text(*outside).find("secret"), std::string::npos);
  c->reset();
  fs::remove_all(dir);
}

McpServerSpec Paged() {
  McpServerSpec s;
  s.name = "paged";
  s.command = "node";
  s.args = {McpDir() + "/paged_server.mjs"};
  s.timeout = 10;
  return s;
}

TEST(McpClient, PaginationServerPingsAndVersionNegotiation) {
  REQUIRE_SERVERS();
  auto c = McpClient::Connect(Paged());
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto tools = (*c)->ListTools();
  ASSERT_TRUE(tools.ok()) << tools.status().message();
  ASSERT_EQ(tools->size(), 5u) << "three pages followed";
  EXPECT_EQ(tools->back().name, "tool_4");
  auto r = (*c)->CallTool("tool_3", {{"n", 21}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Text(*r), "tool_3(21) after ping ok") << "the client answered the server's ping";
  EXPECT_EQ((*r)["structuredContent"]["doubled"], 42);
  // A server that exits in the middle of a call.
  auto gone = (*c)->CallTool("exit_now", json::object());
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.status().message().find("exited with status 3"), std::string::npos) << gone.status().message();
  // A version this client does not speak is refused at connect, by name.
  McpServerSpec old = Paged();
  old.env = {"PAGED_VERSION=2023-01-01"};
  auto refused = McpClient::Connect(old);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("2023-01-01"), std::string::npos) << refused.status().message();
  // An older version it does speak is accepted.
  McpServerSpec older = Paged();
  older.env = {"PAGED_VERSION=2025-03-26"};
  auto accepted = McpClient::Connect(older);
  ASSERT_TRUE(accepted.ok()) << accepted.status().message();
  EXPECT_EQ((*accepted)->protocol_version(), "2025-03-26");
  // A command that does not exist is a clear error, not a hang.
  McpServerSpec missing = Paged();
  missing.command = "no-such-mcp-server-binary";
  auto none = McpClient::Connect(missing);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no-such-mcp-server-binary"), std::string::npos);
}

TEST(McpClient, EverythingOverStreamableHttp) {
  REQUIRE_SERVERS();
  // Our wrapper binds the reference server to 127.0.0.1 on a free port and prints its URL.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    ::close(fds[0]);
    execlp("node", "node", (McpDir() + "/http_everything.mjs").c_str(), "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(fds[1]);
  char buf[256] = {0};
  ssize_t n = read(fds[0], buf, sizeof buf - 1);
  ::close(fds[0]);
  std::string url(buf, n > 0 ? static_cast<size_t>(n) : 0);
  while (!url.empty() && url.back() == '\n') url.pop_back();
  ASSERT_TRUE(url.starts_with("http://127.0.0.1:")) << url;
  {
    McpServerSpec s;
    s.name = "remote";
    s.url = url;
    s.timeout = 10;
    auto c = McpClient::Connect(s);
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ((*c)->protocol_version(), kMcpVersions[0]);
    auto tools = (*c)->ListTools();
    ASSERT_TRUE(tools.ok()) << tools.status().message();
    EXPECT_GT(tools->size(), 5u);
    auto echo = (*c)->CallTool("echo", {{"message", "over http"}});
    ASSERT_TRUE(echo.ok()) << echo.status().message();
    EXPECT_EQ(Text(*echo), "Echo: over http");
    auto bad = (*c)->CallTool("echo", json::object());
    ASSERT_TRUE(bad.ok());
    EXPECT_TRUE((*bad)["isError"].get<bool>());
  }
  // A URL nobody answers is an error naming it.
  McpServerSpec dead;
  dead.name = "dead";
  dead.url = "http://127.0.0.1:1/mcp";
  dead.timeout = 5;
  auto d = McpClient::Connect(dead);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("127.0.0.1:1"), std::string::npos) << d.status().message();
  ::kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
}

}  // namespace
}  // namespace sw::tools
