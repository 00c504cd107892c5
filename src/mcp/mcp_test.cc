// The MCP server's protocol core over a small spec project in a temporary folder: version
// negotiation, JSON-RPC errors, argument checks by version, confinement, redaction, the
// spec tools, rule sets as resources and prompts, batches, pagination and the stdio framing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "mcp/server.h"
#include "store/store.h"
#include "tools/mcp_protocol.h"

namespace sw::mcp {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

class McpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_mcp_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    // The code index is a cache outside the project: here a folder of the test's own.
    cache_ = dir_ + "-cache";
    setenv("XDG_CACHE_HOME", cache_.c_str(), 1);
    setenv("SW_MCP_TEST_API_KEY", "hush-hush-value-4242", 1);
    Write(dir_ + "/specs/requirements.md",
          "# Requirements\n\n## REQ-01-001 User can sign up\n\nA visitor signs up with an email and a password.\n"
          "The staging key is hush-hush-value-4242 and sk-abcdefghijklmnopqrstuvwxyz0123.\n");
    Write(dir_ + "/specs/stories.md", "# Stories\n\n## US-03-001 Sign-up form\n\nThe form of REQ-01-001: email, password, submit.\n");
    Write(dir_ + "/src/signup.c", "// US-03-001: the sign-up handler\nint signup(void) { return 0; }\n");
    Write(dir_ + "/tests/test_signup.c", "// US-03-001\nint test_signup(void) { return 0; }\n");
    Write(dir_ + "/rules/testing.md", "# Testing rules\n\nWrite the test first.\n");
    Write(dir_ + "/CONTEXT.md", "# Context\n\nA sign-up service.\n");
    Options o;
    o.project = dir_;
    o.store_dir = dir_ + "/.specwright";
    o.secrets = {"configured-secret-777"};
    server_ = NewServer(o);
  }
  void TearDown() override {
    fs::remove_all(dir_);
    fs::remove_all(cache_);
  }
  std::string Text(const json& r) { return r["result"]["content"][0].value("text", ""); }

  json Call(const std::string& method, json params, Session* s, int id = 1) {
    json msg{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
    auto r = server_->Handle(msg, s);
    EXPECT_TRUE(r.has_value());
    return r ? *r : json();
  }
  Session Init(const std::string& version = tools::kMcpVersions.front()) {
    Session s;
    json r = Call("initialize", {{"protocolVersion", version}, {"capabilities", json::object()}, {"clientInfo", {{"name", "t"}, {"version", "1"}}}}, &s);
    EXPECT_TRUE(r.contains("result")) << r;
    server_->Handle(json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, &s);
    return s;
  }
  json Tool(Session* s, const std::string& name, json args) {
    return Call("tools/call", {{"name", name}, {"arguments", std::move(args)}}, s);
  }

  std::string dir_, cache_;
  std::unique_ptr<Server> server_;
};

TEST_F(McpTest, InitializeAnswersASupportedVersionAndOurNewestOtherwise) {
  Session older;
  json r = Call("initialize", {{"protocolVersion", "2025-06-18"}, {"capabilities", json::object()}}, &older);
  EXPECT_EQ(r["result"]["protocolVersion"], "2025-06-18");
  EXPECT_EQ(r["result"]["serverInfo"]["name"], "specwright");
  for (const char* tool : {"code_symbols", "code_search", "spec_trace", "export_markdown"})
    EXPECT_NE(r["result"]["instructions"].get<std::string>().find(tool), std::string::npos) << tool;
  for (const char* cap : {"tools", "resources", "prompts"}) EXPECT_EQ(r["result"]["capabilities"][cap]["listChanged"], false) << cap;
  Session unknown;
  r = Call("initialize", {{"protocolVersion", "1999-01-01"}}, &unknown);
  EXPECT_EQ(r["result"]["protocolVersion"], tools::kMcpVersions.front());
  EXPECT_EQ(unknown.version, tools::kMcpVersions.front());
  Session bad;
  r = Call("initialize", {{"protocolVersion", 7}}, &bad);
  EXPECT_EQ(r["error"]["code"], tools::mcp::kInvalidParams);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("protocolVersion"), std::string::npos) << r;
  EXPECT_TRUE(bad.version.empty());
}

TEST_F(McpTest, JsonRpcErrorsCarryTheRightCodes) {
  Session none;
  auto parse = server_->HandleText("{\"jsonrpc\": \"2.0\", \"id\": 1, ", &none);
  ASSERT_TRUE(parse);
  EXPECT_EQ((*parse)["error"]["code"], tools::mcp::kParseError);
  EXPECT_TRUE((*parse)["id"].is_null());
  json early = Call("tools/list", json::object(), &none);
  EXPECT_EQ(early["error"]["code"], tools::mcp::kInvalidRequest) << "before initialize";
  EXPECT_EQ(Call("ping", json::object(), &none)["result"], json::object()) << "ping is always answered";
  Session s = Init();
  EXPECT_EQ(Call("no/such", json::object(), &s)["error"]["code"], tools::mcp::kMethodNotFound);
  auto no_version = server_->Handle(json{{"id", 3}, {"method", "ping"}}, &s);
  EXPECT_EQ((*no_version)["error"]["code"], tools::mcp::kInvalidRequest);
  auto bad_id = server_->Handle(json{{"jsonrpc", "2.0"}, {"id", json::array()}, {"method", "ping"}}, &s);
  EXPECT_EQ((*bad_id)["error"]["code"], tools::mcp::kInvalidRequest);
  json unknown_tool = Tool(&s, "spec_tracer", {{"id", "REQ-01-001"}});
  EXPECT_EQ(unknown_tool["error"]["code"], tools::mcp::kInvalidParams);
  EXPECT_NE(unknown_tool["error"]["message"].get<std::string>().find("spec_trace"), std::string::npos) << "did you mean";
  json args_not_object = Call("tools/call", {{"name", "spec_trace"}, {"arguments", "REQ-01-001"}}, &s);
  EXPECT_EQ(args_not_object["error"]["code"], tools::mcp::kInvalidParams);
  EXPECT_NE(args_not_object["error"]["message"].get<std::string>().find("params.arguments"), std::string::npos);
  EXPECT_FALSE(server_->Handle(json{{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 1}}}}, &s));
}

TEST_F(McpTest, BadArgumentsNameTheArgumentAsTheNegotiatedVersionWants) {
  Session old = Init("2025-06-18");
  json r = Tool(&old, "spec_trace", json::object());
  EXPECT_EQ(r["error"]["code"], tools::mcp::kInvalidParams) << "up to 2025-06-18 a protocol error";
  EXPECT_NE(r["error"]["message"].get<std::string>().find("\"id\" is required"), std::string::npos) << r;
  Session now = Init("2025-11-25");
  r = Tool(&now, "spec_trace", json::object());
  EXPECT_EQ(r["result"]["isError"], true) << "since 2025-11-25 a tool execution error the model can correct";
  EXPECT_NE(r["result"]["content"][0]["text"].get<std::string>().find("\"id\" is required"), std::string::npos) << r;
  r = Tool(&now, "spec_search", {{"query", "sign"}, {"limit", "ten"}});
  EXPECT_NE(r["result"]["content"][0]["text"].get<std::string>().find("\"limit\" must be an integer"), std::string::npos) << r;
  r = Tool(&now, "spec_trace", {{"id", "REQ-01-001"}, {"depth", 2}});
  EXPECT_NE(r["result"]["content"][0]["text"].get<std::string>().find("unknown argument \"depth\""), std::string::npos) << r;
  r = Tool(&now, "spec_trace", {{"id", "not an id"}});
  EXPECT_EQ(r["result"]["isError"], true);
  EXPECT_NE(r["result"]["content"][0]["text"].get<std::string>().find("is not an ID"), std::string::npos) << r;
}

TEST_F(McpTest, SpecToolsAnswerTextAndStructuredContent) {
  Session s = Init();
  json r = Tool(&s, "spec_trace", {{"id", "REQ-01-001"}});
  ASSERT_EQ(r["result"]["isError"], false) << r;
  std::string text = r["result"]["content"][0]["text"];
  EXPECT_NE(text.find("US-03-001"), std::string::npos) << text;
  EXPECT_NE(text.find("src/signup.c"), std::string::npos) << text;
  EXPECT_NE(text.find("tests/test_signup.c"), std::string::npos) << text;
  EXPECT_TRUE(r["result"]["structuredContent"].is_object());
  EXPECT_NE(r["result"]["structuredContent"].dump().find("src/signup.c"), std::string::npos);

  r = Tool(&s, "spec_item", {{"id", "US-03-001"}});
  EXPECT_EQ(r["result"]["structuredContent"]["file"], "specs/stories.md");
  EXPECT_EQ(r["result"]["structuredContent"]["parents"], json::array({"REQ-01-001"}));
  r = Tool(&s, "spec_item", {{"id", "REQ-09-009"}});
  EXPECT_EQ(r["result"]["isError"], true);

  r = Tool(&s, "spec_search", {{"query", "sign-up form"}});
  ASSERT_FALSE(r["result"]["structuredContent"]["items"].empty()) << r;
  EXPECT_EQ(r["result"]["structuredContent"]["items"][0]["id"], "US-03-001");

  r = Tool(&s, "spec_check", json::object());
  EXPECT_EQ(r["result"]["isError"], false) << r;
  EXPECT_EQ(r["result"]["structuredContent"]["items"], 2);
  r = Tool(&s, "spec_impact", {{"ids", {"REQ-01-001"}}});
  EXPECT_NE(r["result"]["structuredContent"].dump().find("src/signup.c"), std::string::npos) << r;
  r = Tool(&s, "spec_impact", {{"since", "--output=/tmp/x"}});
  EXPECT_EQ(r["result"]["isError"], true);
  r = Tool(&s, "spec_matrix", json::object());
  EXPECT_NE(r["result"]["content"][0]["text"].get<std::string>().find("REQ-01-001"), std::string::npos);

  Session old = Init("2025-03-26");
  r = Tool(&old, "spec_trace", {{"id", "REQ-01-001"}});
  EXPECT_FALSE(r["result"].contains("structuredContent")) << "structured content came with 2025-06-18";
}

// A spec-kit tree (tests/spec_formats/spec-kit: two features that both number FR-001): the
// tools read it as `spec check` does, and a bare ID resolves to the one feature that has it.
TEST_F(McpTest, SpecToolsReadSpecKitFeatures) {
  fs::remove_all(dir_ + "/specs");
  fs::remove_all(dir_ + "/src");
  fs::remove_all(dir_ + "/tests");
  fs::copy(std::string(SW_SOURCE_DIR) + "/tests/spec_formats/spec-kit", dir_, fs::copy_options::recursive);
  Session s = Init();
  json r = Tool(&s, "spec_check", json::object());
  EXPECT_EQ(r["result"]["structuredContent"]["errors"], 0) << r;
  EXPECT_EQ(r["result"]["structuredContent"]["read_as"], "read as spec-kit (detected): 2 features, 27 items") << r;
  r = Tool(&s, "spec_trace", {{"id", "FR-004"}});
  ASSERT_EQ(r["result"]["isError"], false) << r;
  EXPECT_EQ(r["result"]["structuredContent"]["id"], "001-photo-albums/FR-004");
  r = Tool(&s, "spec_trace", {{"id", "001/FR-001"}});
  EXPECT_NE(r["result"]["structuredContent"].dump().find("tests/test_albums.py"), std::string::npos) << r;
  r = Tool(&s, "spec_item", {{"id", "FR-001"}});
  EXPECT_EQ(r["result"]["isError"], true);
  EXPECT_NE(r["result"]["content"][0]["text"].get<std::string>().find("001-photo-albums/FR-001, 002-album-sharing/FR-001"),
            std::string::npos)
      << r;
  r = Tool(&s, "spec_impact", {{"ids", {"002-album-sharing/FR-001"}}});
  EXPECT_NE(r["result"]["structuredContent"].dump().find("src/sharing.py"), std::string::npos) << r;
}

TEST_F(McpTest, SecretsNeverLeaveTheServer) {
  Session s = Init();
  json r = Tool(&s, "spec_item", {{"id", "REQ-01-001"}});
  std::string all = r.dump();
  EXPECT_EQ(all.find("hush-hush-value-4242"), std::string::npos) << "a value of an environment *KEY* variable";
  EXPECT_EQ(all.find("sk-abcdefghijklmnopqrstuvwxyz0123"), std::string::npos) << "the shape of an API key";
  EXPECT_NE(all.find("[key]"), std::string::npos);
  EXPECT_EQ(server_->Redact("token configured-secret-777 here"), "token [key] here");
  json read = Call("resources/read", {{"uri", "specwright://spec/requirements.md"}}, &s);
  EXPECT_EQ(read.dump().find("hush-hush-value-4242"), std::string::npos);
}

TEST_F(McpTest, NothingOutsideTheProjectIsReachable) {
  Session s = Init();
  json r = Call("resources/read", {{"uri", "specwright://spec/../../../etc/passwd"}}, &s);
  EXPECT_EQ(r["error"]["code"], tools::mcp::kInvalidParams);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("outside the project"), std::string::npos) << r;
  r = Call("resources/read", {{"uri", "file:///etc/passwd"}}, &s);
  EXPECT_EQ(r["error"]["code"], tools::mcp::kResourceNotFound);
  fs::create_symlink("/etc", dir_ + "/specs/etc");
  fs::create_symlink("/etc/hostname", dir_ + "/rules/host.md");
  for (const auto& res : server_->ListResources()) EXPECT_EQ(res.uri.find("etc"), std::string::npos) << res.uri;
  for (const auto& p : server_->ListPrompts()) EXPECT_NE(p.name, "host");

  Options o = server_->options();
  o.allow_writes = true;
  auto writer = NewServer(o);
  server_ = std::move(writer);
  Session w = Init();
  std::ofstream(fs::path(dir_).parent_path() / (fs::path(dir_).filename().string() + "-outside.yaml")) << "name: x\n";
  r = Tool(&w, "run_start", {{"workflow", "../" + fs::path(dir_).filename().string() + "-outside.yaml"}});
  EXPECT_EQ(r["result"]["isError"], true) << r;
  EXPECT_NE(r["result"]["content"][0]["text"].get<std::string>().find("leads outside the project"), std::string::npos) << r;
  r = Tool(&w, "run_start", {{"workflow", "/etc/passwd"}});
  EXPECT_EQ(r["result"]["isError"], true) << r;
  fs::remove(fs::path(dir_).parent_path() / (fs::path(dir_).filename().string() + "-outside.yaml"));
}

TEST_F(McpTest, WriteToolsExistOnlyWhenAllowedAndAReadOnlyServerCreatesNoStore) {
  Session s = Init();
  json list = Call("tools/list", json::object(), &s)["result"]["tools"];
  std::vector<std::string> names;
  for (const auto& t : list) {
    names.push_back(t["name"]);
    EXPECT_EQ(t["inputSchema"]["type"], "object") << t;
    for (auto& [k, p] : t["inputSchema"]["properties"].items()) EXPECT_TRUE(p.contains("description")) << t["name"] << "." << k;
  }
  for (const char* want : {"spec_check", "spec_trace", "spec_impact", "spec_matrix", "spec_item", "spec_search", "runs_list",
                           "run_status", "run_debug", "run_cost", "sessions_list", "export_markdown"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  EXPECT_EQ(std::find(names.begin(), names.end(), "run_start"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "gate_approve"), names.end());
  EXPECT_EQ(Tool(&s, "gate_approve", {{"run", "x"}, {"node", "y"}})["error"]["code"], tools::mcp::kInvalidParams);
  json r = Tool(&s, "runs_list", json::object());
  EXPECT_EQ(r["result"]["isError"], true);
  EXPECT_NE(r["result"]["content"][0]["text"].get<std::string>().find("no Specwright store"), std::string::npos) << r;
  r = Tool(&s, "code_search", {{"query", "signup"}});
  EXPECT_EQ(r["result"]["isError"], false) << r;
  r = Tool(&s, "code_symbols", {{"name", "signup"}});
  EXPECT_EQ(r["result"]["isError"], false) << r;
  EXPECT_FALSE(fs::exists(dir_ + "/.specwright")) << "a read-only server created the store";
  std::vector<std::string> made;
  for (const auto& e : fs::recursive_directory_iterator(dir_)) made.push_back(e.path().string());
  for (const auto& p : made) EXPECT_EQ(p.find("code-index"), std::string::npos) << p;
}

TEST_F(McpTest, RuleSetsAreResourcesAndPrompts) {
  Session s = Init();
  json res = Call("resources/list", json::object(), &s)["result"]["resources"];
  std::map<std::string, json> by_uri;
  for (const auto& r : res) by_uri[r["uri"]] = r;
  ASSERT_TRUE(by_uri.count("specwright://rules/testing")) << res;
  EXPECT_EQ(by_uri["specwright://rules/testing"]["mimeType"], "text/markdown");
  EXPECT_TRUE(by_uri.count("specwright://context"));
  EXPECT_TRUE(by_uri.count("specwright://spec/stories.md"));
  json read = Call("resources/read", {{"uri", "specwright://rules/testing"}}, &s);
  EXPECT_EQ(read["result"]["contents"][0]["text"], "# Testing rules\n\nWrite the test first.\n");
  json prompts = Call("prompts/list", json::object(), &s)["result"]["prompts"];
  ASSERT_EQ(prompts.size(), 1u);
  EXPECT_EQ(prompts[0]["name"], "testing");
  json got = Call("prompts/get", {{"name", "testing"}, {"arguments", {{"task", "add a login test"}}}}, &s);
  ASSERT_TRUE(got.contains("result")) << got;
  EXPECT_EQ(got["result"]["messages"][0]["role"], "user");
  std::string text = got["result"]["messages"][0]["content"]["text"];
  EXPECT_NE(text.find("Write the test first."), std::string::npos);
  EXPECT_NE(text.find("## Task\n\nadd a login test"), std::string::npos) << text;
  EXPECT_EQ(Call("prompts/get", {{"name", "nope"}}, &s)["error"]["code"], tools::mcp::kInvalidParams);
  json bad_arg = Call("prompts/get", {{"name", "testing"}, {"arguments", {{"tsk", "x"}}}}, &s);
  EXPECT_NE(bad_arg["error"]["message"].get<std::string>().find("\"tsk\""), std::string::npos) << bad_arg;
  EXPECT_EQ(Call("resources/templates/list", json::object(), &s)["result"]["resourceTemplates"], json::array());
}

TEST_F(McpTest, BatchesOnlyWhereTheVersionHasThem) {
  json batch = json::array({{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}},
                            {{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}},
                            {{"jsonrpc", "2.0"}, {"id", 2}, {"method", "ping"}}});
  Session old = Init("2025-03-26");
  auto r = server_->Handle(batch, &old);
  ASSERT_TRUE(r && r->is_array()) << (r ? r->dump() : "none");
  EXPECT_EQ(r->size(), 2u);
  Session now = Init();
  r = server_->Handle(batch, &now);
  ASSERT_TRUE(r && r->is_object());
  EXPECT_EQ((*r)["error"]["code"], tools::mcp::kInvalidRequest);
  EXPECT_NE((*r)["error"]["message"].get<std::string>().find("batches"), std::string::npos);
}

TEST_F(McpTest, ListsArePagedWithCursors) {
  Options o = server_->options();
  o.page_size = 5;
  server_ = NewServer(o);
  Session s = Init();
  std::set<std::string> names;
  json params = json::object();
  int pages = 0;
  for (;; ++pages) {
    json r = Call("tools/list", params, &s)["result"];
    for (const auto& t : r["tools"]) names.insert(t["name"]);
    if (!r.contains("nextCursor")) break;
    params = {{"cursor", r["nextCursor"]}};
  }
  EXPECT_EQ(names.size(), server_->tools().size());
  EXPECT_GE(pages, 2);
  EXPECT_EQ(Call("tools/list", {{"cursor", "zzz"}}, &s)["error"]["code"], tools::mcp::kInvalidParams);
}

TEST_F(McpTest, StdioIsNewlineDelimitedAndBoundedPerLine) {
  int in[2], out[2];
  ASSERT_EQ(pipe(in), 0);
  ASSERT_EQ(pipe(out), 0);
  std::string input = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\"}}\r\n\n" +
                      std::string(5000, 'x') + "\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\nnot json\n";
  ASSERT_EQ(write(in[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
  close(in[1]);
  ASSERT_TRUE(ServeStdio(server_.get(), in[0], out[1], 1000).ok());
  close(out[1]);
  close(in[0]);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  close(out[0]);
  std::vector<json> lines;
  for (size_t at = 0, nl; (nl = got.find('\n', at)) != std::string::npos; at = nl + 1) lines.push_back(json::parse(got.substr(at, nl - at)));
  ASSERT_EQ(lines.size(), 4u) << got;
  EXPECT_EQ(lines[0]["result"]["protocolVersion"], "2025-06-18");
  EXPECT_EQ(lines[1]["error"]["code"], tools::mcp::kInvalidRequest);
  EXPECT_NE(lines[1]["error"]["message"].get<std::string>().find("longer than 1000 bytes"), std::string::npos);
  EXPECT_EQ(lines[2]["id"], 2);
  EXPECT_EQ(lines[3]["error"]["code"], tools::mcp::kParseError);
}

TEST_F(McpTest, CodeToolsFindDefinitionsUsesAndLines) {
  Write(dir_ + "/src/main.c", "int signup(void);\nint main(void) { return signup(); }\n");
  Session s = Init();
  json r = Tool(&s, "code_symbols", {{"name", "signup"}});
  ASSERT_EQ(r["result"]["isError"], false) << r;
  const json& sc = r["result"]["structuredContent"];
  bool defined = false;
  for (const auto& d : sc["definitions"]) defined |= d["file"] == "src/signup.c" && d["line"] == 2;
  EXPECT_TRUE(defined) << sc;
  bool used = false;
  for (const auto& h : sc["references"]) used |= h["file"] == "src/main.c" && h["line"] == 2;
  EXPECT_TRUE(used) << sc;
  r = Tool(&s, "code_search", {{"query", "sign-up handler"}, {"literal", true}});
  ASSERT_EQ(r["result"]["isError"], false) << r;
  EXPECT_NE(r["result"]["content"][0]["text"].get<std::string>().find("src/signup.c:1"), std::string::npos) << r;
  // An edit is seen by the next query (the index is updated first).
  Write(dir_ + "/src/extra.c", "int signup_twice(void) { return 2; }\n");
  r = Tool(&s, "code_symbols", {{"name", "signup_twice"}});
  EXPECT_EQ(r["result"]["structuredContent"]["definitions"].size(), 1u) << r;
  EXPECT_FALSE(fs::exists(dir_ + "/.specwright")) << "the code index is not in the project";
  auto db = CodeIndexPath(dir_);  // the server hashes the project path it was given (the CLI gives it canonical)
  ASSERT_TRUE(db.ok()) << db.status().message();
  EXPECT_EQ(fs::path(*db).parent_path(), fs::path(cache_) / "specwright" / "code-index");
  EXPECT_TRUE(fs::exists(*db)) << *db;
  for (const fs::path& d : {fs::path(cache_) / "specwright", fs::path(cache_) / "specwright" / "code-index"})
    EXPECT_EQ(fs::status(d).permissions() & fs::perms::all, fs::perms::owner_all) << d;
}

TEST_F(McpTest, CodeToolsWithoutACacheFolderSaySo) {
  std::string home = getenv("HOME") ? getenv("HOME") : "";
  unsetenv("XDG_CACHE_HOME");
  unsetenv("HOME");
  Session s = Init();
  json r = Tool(&s, "code_search", {{"query", "signup"}});
  if (!home.empty()) setenv("HOME", home.c_str(), 1);
  EXPECT_EQ(r["result"]["isError"], true) << r;
  EXPECT_NE(Text(r).find("XDG_CACHE_HOME"), std::string::npos) << r;
  EXPECT_FALSE(fs::exists(dir_ + "/.specwright"));
}

TEST_F(McpTest, SecretsInTheCodeAreNeitherIndexedNorServed) {
  Write(dir_ + "/.env", "DB_PASSWORD=envfile-secret-9876\nAPI_TOKEN=envfile-token-5432\n");
  Write(dir_ + "/.env.local", "OTHER=envfile-secret-9876\n");
  Write(dir_ + "/certs/server.pem", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n");
  Write(dir_ + "/src/config.py",
        "password = \"hunter2hunter2\"\n"
        "settings = {\"api_key\": \"abcd-ef12-3456\", \"retries\": 3}\n"
        "db_secret: plain-yaml-secret\n"
        "max_tokens: 512\n"
        "KEY_PEM = '''\n"
        "-----BEGIN RSA PRIVATE KEY-----\n"
        "MIIEowIBAAKCAQEAwJ7k3xq9ZpQmV0s8Yb2R4cT6uNf1aD5eLh7Wg9KjXo3rS2tU\n"
        "c4Vn8Bm1Qz0Ly6Hp5Ae9Fw2Gx7Ij3Kd4Ms6No8Pq1Rt0Su5Vw2Xy9Za3Bc7De1Fg\n"
        "-----END RSA PRIVATE KEY-----\n"
        "'''\n");
  Session s = Init();
  json r = Tool(&s, "code_search", {{"query", "envfile"}, {"literal", true}});
  EXPECT_EQ(r.dump().find("envfile-secret-9876"), std::string::npos) << r;
  r = Tool(&s, "code_search", {{"query", "DB_PASSWORD OR API_TOKEN OR MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"}});
  EXPECT_EQ(r["result"]["structuredContent"]["hits"].size(), 0u) << ".env and *.pem are not indexed: " << r;
  r = Tool(&s, "code_search", {{"query", "hunter2hunter2"}});
  ASSERT_EQ(r["result"]["structuredContent"]["hits"].size(), 1u) << r;
  EXPECT_EQ(r["result"]["content"].dump().find("hunter2hunter2"), std::string::npos) << r;
  EXPECT_EQ(r["result"]["structuredContent"]["hits"].dump().find("hunter2hunter2"), std::string::npos) << "(the query itself is echoed) " << r;
  EXPECT_NE(Text(r).find("password = \"[key]\""), std::string::npos) << r;
  // The key's lines, found one by one: the BEGIN line and the base64 lines after it.
  r = Tool(&s, "code_search", {{"query", "BEGIN OR MIIEowIBAAKCAQEAwJ7k3xq9ZpQmV0s8Yb2R4cT6uNf1aD5eLh7Wg9KjXo3rS2tU OR c4Vn8Bm1Qz0Ly6Hp5Ae9Fw2Gx7Ij3Kd4Ms6No8Pq1Rt0Su5Vw2Xy9Za3Bc7De1Fg"}});
  EXPECT_EQ(r["result"]["structuredContent"]["hits"].size(), 3u) << r;
  for (const char* leak : {"MIIEowIBAAKCAQEA", "c4Vn8Bm1Qz0Ly6Hp", "BEGIN RSA PRIVATE KEY"}) EXPECT_EQ(r.dump().find(leak), std::string::npos) << leak << r;

  // The server's filter, on every answer.
  EXPECT_EQ(server_->Redact("DB_PASSWORD=s3cr3t-value\nAPI_TOKEN = 'tok-123'\n"), "DB_PASSWORD=[key]\nAPI_TOKEN = '[key]'\n");
  EXPECT_EQ(server_->Redact("{\"client_secret\": \"abc\", \"name\": \"x\"}"), "{\"client_secret\": \"[key]\", \"name\": \"x\"}");
  EXPECT_EQ(server_->Redact("db_passwd: hunter2\nMyCredentials: x1"), "db_passwd: [key]\nMyCredentials: [key]");
  EXPECT_EQ(server_->Redact("max_tokens: 512, \"tokens_in\": 200, use_key: true, keyed = null"),
            "max_tokens: 512, \"tokens_in\": 200, use_key: true, keyed = null")
      << "counts and flags are not secrets";
  EXPECT_EQ(server_->Redact("if (key == other) return token;"), "if (key == other) return token;");
  EXPECT_EQ(server_->Redact("a\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIByT2kL9pQ7rXw3Zs8Vb1Nd4\nAbCdEf0123456789abcdef/+==\n"
                            "-----END EC PRIVATE KEY-----\nafter"),
            "a\n[key]\n[key]\n[key]\n[key]\nafter");
  EXPECT_EQ(server_->Redact("sha256 " + std::string(64, 'a') + " stays"), "sha256 " + std::string(64, 'a') + " stays");
}

TEST_F(McpTest, RedactionLeavesOrdinaryTextAlone) {
  // Names that merely contain key or token, prose, and code reading a value: unchanged.
  for (const char* same : {
           "The API key: must be rotated every 90 days.",
           "Sort by key: name, then date",
           "primary key: id (uuid)",
           "tokens: 1234, cost: 0.02",
           "\"monkey\": \"banana\"",
           "{\"keyboard\": \"dvorak\", \"hotkey\": \"ctrl-k\"}",
           "keyName = someValue;",
           "keyboard: us-intl",
           "hotkey=ctrl-shift-k",
           "tokens = tokenize(text)",
           "token = request.headers.get(\"Authorization\")",
           "const token = getToken();",
           "password = settings.password",
           "DB_PASSWORD=${DB_PASSWORD}",
           "url = \"https://example.com/cb?token=abc123&x=1\"",
           "See `token = value` in the docs.",
           "if (password == \"\") return;",
           "max_tokens: 512, \"tokens_in\": 200, use_key: true, keyed = null",
       })
    EXPECT_EQ(server_->Redact(same), same);
  // Secret-named assignments: quoted literals (quotes kept) anywhere, bare values on
  // config-like lines only.
  EXPECT_EQ(server_->Redact("DB_PASSWORD=hunter2hunter2"), "DB_PASSWORD=[key]");
  EXPECT_EQ(server_->Redact("api_key: \"sk-live-0123456789\""), "api_key: \"[key]\"");
  EXPECT_EQ(server_->Redact("{\"client_secret\": \"abc123xyz\", \"name\": \"x\"}"), "{\"client_secret\": \"[key]\", \"name\": \"x\"}");
  EXPECT_EQ(server_->Redact("password = \"hunter2hunter2\""), "password = \"[key]\"");
  EXPECT_EQ(server_->Redact("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCY"), "AWS_SECRET_ACCESS_KEY=[key]");
  EXPECT_EQ(server_->Redact("github_token = \"ghp-not-the-shape-1234\""), "github_token = \"[key]\"");
  EXPECT_EQ(server_->Redact("export apiKey=abc123def"), "export apiKey=[key]");
  EXPECT_EQ(server_->Redact("  - private_key: abcdef0123,"), "  - private_key: [key],");
  EXPECT_EQ(server_->Redact("connect(host=\"db\", password='pa55word!')"), "connect(host=\"db\", password='[key]')");
  EXPECT_EQ(server_->Redact("  src/app.ini:3  db_pwd=s3cr3t;rest"), "  src/app.ini:3  db_pwd=[key];rest")
      << "a code_search line; a bare value stops at ;";
  EXPECT_EQ(server_->Redact("SIGNING_KEY=abc\"x"), "SIGNING_KEY=[key]\"x") << "stops at a quote";
  EXPECT_EQ(server_->Redact("prose first\nDB_PASSWORD=hunter2hunter2\nafter"), "prose first\nDB_PASSWORD=[key]\nafter");
}

TEST_F(McpTest, TextAndStructuredShareTheAnswerCap) {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "line " + std::to_string(i) + " \"quoted\"\tand tabbed\n";
  json structured{{"count", 400}, {"items", json::array()}, {"items_truncated", false}};
  for (int i = 0; i < 400; ++i) structured["items"].push_back("item " + std::to_string(i));
  const size_t cap = 6000;
  json out = CapAnswer(text, structured, cap, "narrow");
  EXPECT_LE(out.dump().size(), cap) << "the whole result: " << out.dump().size();
  EXPECT_EQ(out["structuredContent"]["truncated"], true) << out["structuredContent"];
  EXPECT_EQ(out["structuredContent"]["count"], 400);
  EXPECT_EQ(out["structuredContent"]["items_count"], 400);
  EXPECT_EQ(out["structuredContent"]["items_truncated"], true) << "a dropped list is a cut list";
  std::string t = out["content"][0]["text"];
  EXPECT_EQ(t.substr(0, 7), "line 0 ");
  EXPECT_NE(t.find(kTruncatedNote), std::string::npos) << t;
  // Big text alone: all the budget is the text's.
  out = CapAnswer(text, json(), cap, "narrow");
  EXPECT_LE(out.dump().size(), cap);
  EXPECT_FALSE(out.contains("structuredContent"));
  EXPECT_GT(out["content"][0]["text"].get<std::string>().size(), cap * 3 / 4);
  // Small structured, big text: the structured result stays whole.
  json small{{"count", 1}, {"items", {"a"}}};
  out = CapAnswer(text, small, cap, "narrow");
  EXPECT_LE(out.dump().size(), cap);
  EXPECT_EQ(out["structuredContent"], small);
  // Within the cap: as is.
  out = CapAnswer("short", small, cap, "narrow");
  EXPECT_EQ(out["content"][0]["text"], "short");
  EXPECT_EQ(out["structuredContent"], small);
  EXPECT_EQ(out["isError"], false);
  EXPECT_EQ(CapStructured(json{{"items", {"a", "b"}}, {"items_truncated", false}}, 1000, "n")["items_truncated"], false);

  // spec_check: the summary comes before the findings, so a cut keeps it; a capped structured
  // result says its findings were cut.
  Write(dir_ + "/specs/extra.md", "# Extra\n\n## US-03-002 A\n\nSee REQ-09-001.\n\n## US-03-003 B\n\nSee REQ-09-002.\n\n"
                                  "## US-03-004 C\n\nSee REQ-09-003.\n");
  Session s = Init();
  json r = Tool(&s, "spec_check", json::object());
  std::string full = Text(r);
  size_t summary = full.find("items in"), finding = full.find("REQ-09-001");
  ASSERT_NE(summary, std::string::npos) << full;
  ASSERT_NE(finding, std::string::npos) << full;
  EXPECT_LT(summary, finding) << full;
  EXPECT_EQ(r["result"]["structuredContent"]["findings_truncated"], false);
  Options o = server_->options();
  o.max_answer_bytes = 700;
  server_ = NewServer(o);
  s = Init();
  r = Tool(&s, "spec_check", json::object());
  EXPECT_LE(r["result"].dump().size(), 700u) << r;
  EXPECT_NE(Text(r).find("items in"), std::string::npos) << "the counts survive the cut: " << Text(r);
  EXPECT_EQ(r["result"]["structuredContent"]["truncated"], true) << r;
  EXPECT_EQ(r["result"]["structuredContent"]["findings_truncated"], true) << r;
  EXPECT_GE(r["result"]["structuredContent"]["total_findings"].get<int>(), 3) << r;
}

TEST_F(McpTest, CodeIndexFolderWhenHomeIsMissingOrUnwritable) {
  std::string home = getenv("HOME") ? getenv("HOME") : "";
  unsetenv("XDG_CACHE_HOME");
  // HOME exists without a .cache: the folders below it are created, 0700.
  std::string home_dir = cache_ + "/home";
  fs::create_directories(home_dir);
  setenv("HOME", home_dir.c_str(), 1);
  auto db = CodeIndexPath(dir_);
  ASSERT_TRUE(db.ok()) << db.status().message();
  EXPECT_EQ(fs::path(*db).parent_path(), fs::path(home_dir) / ".cache" / "specwright" / "code-index");
  for (const fs::path& d : {fs::path(home_dir) / ".cache" / "specwright", fs::path(home_dir) / ".cache" / "specwright" / "code-index"})
    EXPECT_EQ(fs::status(d).permissions() & fs::perms::all, fs::perms::owner_all) << d;
  // HOME names a folder that does not exist (a service user's /nonexistent): it is not made;
  // the index goes to the private folder under /tmp.
  std::string missing = cache_ + "/no/such/home";
  setenv("HOME", missing.c_str(), 1);
  db = CodeIndexPath(dir_);
  ASSERT_TRUE(db.ok()) << db.status().message();
  EXPECT_EQ(fs::path(*db).parent_path(), fs::path("/tmp/specwright-" + std::to_string(::geteuid())) / "code-index");
  EXPECT_FALSE(fs::exists(missing));
  // HOME under a file (the base cannot be made, even by root): a private folder under /tmp.
  Write(cache_ + "/a-file", "x");
  std::string blocked = cache_ + "/a-file/home";
  setenv("HOME", blocked.c_str(), 1);
  db = CodeIndexPath(dir_);
  std::string tmp = "/tmp/specwright-" + std::to_string(::geteuid());
  ASSERT_TRUE(db.ok()) << db.status().message();
  EXPECT_EQ(fs::path(*db).parent_path(), fs::path(tmp) / "code-index");
  for (const fs::path& d : {fs::path(tmp), fs::path(tmp) / "code-index"}) {
    EXPECT_FALSE(fs::is_symlink(d));
    EXPECT_EQ(fs::status(d).permissions() & fs::perms::all, fs::perms::owner_all) << d;
  }
  if (!home.empty()) setenv("HOME", home.c_str(), 1);
  setenv("XDG_CACHE_HOME", cache_.c_str(), 1);
  // The fallback's checks: a symlink, a file or someone else's folder is refused.
  fs::create_directories(cache_ + "/real");
  fs::create_directory_symlink(cache_ + "/real", cache_ + "/link");
  Status st = MakePrivateDir(cache_ + "/link");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("symlink"), std::string::npos) << st.message();
  EXPECT_FALSE(MakePrivateDir(cache_ + "/a-file").ok());
  EXPECT_TRUE(MakePrivateDir(cache_ + "/mine").ok());
  EXPECT_EQ(fs::status(cache_ + "/mine").permissions() & fs::perms::all, fs::perms::owner_all);
  if (::geteuid() == 0) {
    fs::create_directories(cache_ + "/theirs");
    ASSERT_EQ(::chown((cache_ + "/theirs").c_str(), 12345, 12345), 0);
    st = MakePrivateDir(cache_ + "/theirs");
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("owned by uid 12345"), std::string::npos) << st.message();
  }
}

TEST_F(McpTest, AnswersAreCappedWithAHintToNarrow) {
  EXPECT_EQ(CapText("short", 10, "h"), "short");
  std::string cut = CapText("ab\xc3\xa9\xc3\xa9\xc3\xa9", 5, "use limit");  // é is 2 bytes: cut before the 2nd
  EXPECT_EQ(cut.substr(0, 5), "ab\xc3\xa9\n") << cut;
  EXPECT_NE(cut.find(std::string(kTruncatedNote) + " the answer is 8 bytes"), std::string::npos) << cut;
  EXPECT_NE(cut.find("use limit"), std::string::npos) << cut;
  json big{{"count", 5}, {"name", "x"}, {"items", json::array({std::string(100, 'y'), std::string(100, 'z')})}};
  json capped = CapStructured(big, 100, "narrow");
  EXPECT_EQ(capped["truncated"], true) << capped;
  EXPECT_EQ(capped["count"], 5);
  EXPECT_EQ(capped["items_count"], 2);
  EXPECT_FALSE(capped.contains("items"));
  EXPECT_EQ(CapStructured(big, 1000, "narrow"), big);

  std::string many;
  for (int i = 0; i < 400; ++i) many += "int manyhits_" + std::to_string(i) + " = manyword;\n";
  Write(dir_ + "/src/many.c", many);
  Options o = server_->options();
  o.max_answer_bytes = 4000;
  o.max_resource_bytes = 100;
  server_ = NewServer(o);
  Session s = Init();
  json r = Tool(&s, "code_search", {{"query", "manyword"}, {"limit", 400}});
  ASSERT_EQ(r["result"]["isError"], false) << r;
  std::string text = Text(r);
  EXPECT_LE(text.size(), 4300u);
  EXPECT_NE(text.find(kTruncatedNote), std::string::npos) << text;
  EXPECT_NE(text.find("a smaller limit"), std::string::npos) << "code_search's own hint: " << text;
  EXPECT_EQ(r["result"]["structuredContent"]["truncated"], true) << r["result"]["structuredContent"];
  EXPECT_EQ(r["result"]["structuredContent"]["query"], "manyword");
  EXPECT_EQ(r["result"]["structuredContent"]["hits_count"], 400);
  EXPECT_LE(r["result"]["structuredContent"].dump().size(), 4000u);

  // spec_check's findings stop at its limit; the counts are of all of them.
  Write(dir_ + "/specs/extra.md", "# Extra\n\n## US-03-002 A\n\nSee REQ-09-001.\n\n## US-03-003 B\n\nSee REQ-09-002.\n\n"
                                  "## US-03-004 C\n\nSee REQ-09-003.\n");
  r = Tool(&s, "spec_check", {{"limit", 1}});
  ASSERT_EQ(r["result"]["isError"], false) << r;
  EXPECT_EQ(r["result"]["structuredContent"]["findings"].size(), 1u) << r;
  EXPECT_GE(r["result"]["structuredContent"]["total_findings"].get<int>(), 3) << r;
  EXPECT_EQ(r["result"]["structuredContent"]["findings_truncated"], true);
  EXPECT_NE(Text(r).find("more findings not shown (limit 1"), std::string::npos) << Text(r);
  EXPECT_NE(Text(r).find("items in"), std::string::npos) << "the counts stay: " << Text(r);
  r = Tool(&s, "spec_check", json::object());
  EXPECT_GE(r["result"]["structuredContent"]["findings"].size(), 3u) << "default limit 200";

  // A resource over its limit is refused (from its size, before it is read).
  Write(dir_ + "/CONTEXT.md", "# Context\n\n" + std::string(500, 'c') + "\n");
  json read = Call("resources/read", {{"uri", "specwright://context"}}, &s);
  ASSERT_TRUE(read.contains("error")) << read;
  EXPECT_NE(read["error"]["message"].get<std::string>().find("over the limit of 100 bytes"), std::string::npos) << read;
  Write(dir_ + "/rules/testing.md", "# Testing rules\n\n" + std::string(500, 't') + "\n");
  json prompt = Call("prompts/get", {{"name", "testing"}}, &s);
  EXPECT_TRUE(prompt.contains("error")) << prompt;
}

TEST_F(McpTest, ImpactSinceAGitRevision) {
  std::string git = "cd " + dir_ + " && git -c user.name=t -c user.email=t@t ";
  ASSERT_EQ(std::system((git + "init -q . && " + git + "add -A && " + git + "commit -qm base").c_str()), 0);
  Write(dir_ + "/specs/stories.md", "# Stories\n\n## US-03-001 Sign-up form\n\nThe form of REQ-01-001: email, password, captcha.\n");
  Session s = Init();
  json r = Tool(&s, "spec_impact", {{"since", "HEAD"}});
  ASSERT_EQ(r["result"]["isError"], false) << r;
  EXPECT_EQ(r["result"]["structuredContent"]["modified"], json::array({"US-03-001"})) << r;
  EXPECT_NE(r["result"]["structuredContent"].dump().find("src/signup.c"), std::string::npos) << r;
  r = Tool(&s, "spec_impact", {{"since", "no-such-rev"}});
  EXPECT_EQ(r["result"]["isError"], true) << r;
}

TEST_F(McpTest, SessionsAndTheirMarkdown) {
  {
    auto st = store::OpenSqlite(dir_ + "/.specwright");
    ASSERT_TRUE(st.ok()) << st.status().message();
    store::Batch b;
    store::RunRecord r;
    r.id = "20261206-100000-aabbcc";
    r.workflow_name = "phase";
    r.workflow_file = dir_ + "/phase.yaml";
    r.status = "succeeded";
    r.created_at = 1.8e9;
    r.finished_at = 1.8e9 + 5;
    r.session = "develop-1";
    r.label = "requirements";
    r.options_json = json{{"project", dir_}, {"process", "requirements"}}.dump();
    b.run = r;
    store::ApprovalRecord a;
    a.run_id = r.id;
    a.node = "approve";
    a.decision = "approved";
    a.text = "looks good";
    a.by = "person";
    a.ts = 1.8e9 + 3;
    b.approvals.push_back(a);
    ASSERT_TRUE((*st)->Commit(b).ok());
  }
  json gate = json::array({{{"by", "person"}, {"decision", "approved"}, {"text", "looks good"}}});
  Write(dir_ + "/.specwright/process.json",
        json{{"session", "develop-1"}, {"status", "done"},
             {"steps", {{"requirements", {{"label", "Requirements"}, {"status", "done"}, {"runs", {"20261206-100000-aabbcc"}}, {"gate", gate}}}}}}
            .dump());
  Session s = Init();
  json l = Tool(&s, "sessions_list", json::object());
  ASSERT_EQ(l["result"]["isError"], false) << l;
  EXPECT_EQ(l["result"]["structuredContent"]["sessions"][0]["session"], "develop-1") << l;
  json md = Tool(&s, "export_markdown", {{"session", "develop-1"}});
  ASSERT_EQ(md["result"]["isError"], false) << md;
  std::string text = md["result"]["content"][0]["text"];
  for (const char* want : {"# Session develop-1", "- requirements (Requirements): done",
                           "  - gate: decision: approved, by: person, text: looks good", "## Run 20261206-100000-aabbcc: requirements",
                           "`approve`: approved by person: looks good"})
    EXPECT_NE(text.find(want), std::string::npos) << "missing " << want << " in\n" << text;
  // The Markdown is sent once, as text, and no structured content: a client that prefers it
  // (ours does) would give its agent that instead of the document.
  EXPECT_FALSE(md["result"].contains("structuredContent")) << md["result"];
  json both = Tool(&s, "export_markdown", {{"session", "develop-1"}, {"run", "latest"}});
  EXPECT_EQ(both["result"]["isError"], true);
}

}  // namespace
}  // namespace sw::mcp
