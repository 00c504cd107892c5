// The server's answers held to the OFFICIAL MCP schemas, not to our own idea of them: every
// response of a scripted conversation is validated (valijson, through workflow/json_schema)
// against the schema.json of the version the conversation speaks — 2025-11-25's for an
// initialize session, 2026-07-28's for stateless requests — as a whole JSON-RPC response and
// its result against the method's result definition. The client requests among the
// specification's own examples (tests/mcp/schema/2026-07-28/examples) are fed to the server as
// they are (only a tool or prompt we do not have is swapped for one of ours) and their answers
// validated the same way. See tests/mcp/schema/README.md for where the files come from.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "mcp/server.h"
#include "tools/mcp_protocol.h"
#include "workflow/json_schema.h"

namespace sw::mcp {
namespace {

namespace fs = std::filesystem;
namespace proto = tools::mcp;

const std::string kSchemaDir = std::string(SW_SOURCE_DIR) + "/tests/mcp/schema";
constexpr const char* kLegacy = "2025-11-25";
constexpr const char* kStateless = "2026-07-28";

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

const json& Schema(const std::string& version) {
  static std::map<std::string, json> cache;
  auto it = cache.find(version);
  if (it == cache.end()) it = cache.emplace(version, ReadJson(kSchemaDir + "/" + version + "/schema.json")).first;
  return it->second;
}

/// Violations of instance against the definition def of the version's official schema.
std::vector<std::string> Violations(const std::string& version, const std::string& def, const json& instance) {
  const json& doc = Schema(version);
  if (!doc.contains("$defs") || !doc["$defs"].contains(def)) return {"the " + version + " schema has no definition " + def};
  json schema{{"$defs", doc["$defs"]}, {"$ref", "#/$defs/" + def}};
  return jsonschema::Validate(schema, instance);
}

std::string Lines(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += "  " + l + "\n";
  return s;
}

#define EXPECT_VALID(version, def, instance)                                                             \
  do {                                                                                                   \
    auto errs_ = Violations(version, def, instance);                                                     \
    EXPECT_TRUE(errs_.empty()) << version << " " << def << " rejects\n" << (instance).dump(1) << "\n" << Lines(errs_); \
  } while (0)

/// The result definition of each method's answer.
const std::map<std::string, std::string>& ResultDef() {
  static const std::map<std::string, std::string> m = {
      {"initialize", "InitializeResult"},          {"ping", "EmptyResult"},
      {"server/discover", "DiscoverResult"},       {"tools/list", "ListToolsResult"},
      {"tools/call", "CallToolResult"},            {"resources/list", "ListResourcesResult"},
      {"resources/templates/list", "ListResourceTemplatesResult"},
      {"resources/read", "ReadResourceResult"},    {"prompts/list", "ListPromptsResult"},
      {"prompts/get", "GetPromptResult"}};
  return m;
}

/// The error definition of a JSON-RPC error code, where the schema names one.
std::string ErrorDef(const std::string& version, int code) {
  std::map<int, std::string> m = {{proto::kParseError, "ParseError"},
                                  {proto::kInvalidRequest, "InvalidRequestError"},
                                  {proto::kMethodNotFound, "MethodNotFoundError"},
                                  {proto::kInvalidParams, "InvalidParamsError"},
                                  {proto::kInternalError, "InternalError"}};
  auto it = m.find(code);
  if (it == m.end() || !Schema(version)["$defs"].contains(it->second)) return "";
  return it->second;
}

class McpSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_mcp_schema_XXXXXX";
    dir_ = mkdtemp(tmpl);
    setenv("XDG_CACHE_HOME", (dir_ + "-cache").c_str(), 1);  // where the code tools keep their index
    Write("specs/requirements.md", "# Requirements\n\n## REQ-01-001 User can sign up\n\nA visitor signs up with an email and a password.\n");
    Write("specs/stories.md", "# Stories\n\n## US-03-001 Sign-up form\n\nThe form of REQ-01-001: email, password, submit.\n");
    Write("src/signup.c", "// US-03-001: the sign-up handler\nint signup(void) { return 0; }\n");
    Write("tests/test_signup.c", "// US-03-001\nint test_signup(void) { return 0; }\n");
    Write("rules/testing.md", "# Testing rules\n\nWrite the test first.\n");
    Write("CONTEXT.md", "# Context\n\nA sign-up service.\n");
    Options o;
    o.project = dir_;
    o.store_dir = dir_ + "/.specwright";
    o.page_size = 4;  // so lists are paged and nextCursor is exercised
    server_ = NewServer(o);
  }
  void TearDown() override {
    fs::remove_all(dir_);
    fs::remove_all(dir_ + "-cache");
  }
  void Write(const std::string& rel, const std::string& text) {
    fs::path p = fs::path(dir_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }

  static json Meta(const std::string& version = kStateless) {
    return json{{proto::kMetaProtocolVersion, version},
                {proto::kMetaClientInfo, {{"name", "schema-test"}, {"version", "1.0.0"}}},
                {proto::kMetaClientCapabilities, json::object()}};
  }

  /// Send sends a request and checks its answer against the version's schema: the whole
  /// response, then its result (or error) against the method's definition. Returns the answer.
  json Send(const std::string& version, Session* s, const json& request) {
    auto r = server_->Handle(request, s);
    EXPECT_TRUE(r.has_value()) << request;
    if (!r) return json();
    CheckAnswer(version, request.value("method", ""), *r);
    ++answers_;
    return *r;
  }
  void CheckAnswer(const std::string& version, const std::string& method, const json& answer) {
    if (answer.contains("error")) {
      EXPECT_VALID(version, "JSONRPCErrorResponse", answer);
      int code = answer["error"].value("code", 0);
      if (code == proto::kUnsupportedProtocolVersion)
        EXPECT_VALID(version, "UnsupportedProtocolVersionError", answer);
      else if (std::string def = ErrorDef(version, code); !def.empty())
        EXPECT_VALID(version, def, answer["error"]);
      return;
    }
    EXPECT_VALID(version, "JSONRPCResultResponse", answer);
    auto it = ResultDef().find(method);
    ASSERT_NE(it, ResultDef().end()) << "no result definition for " << method;
    EXPECT_VALID(version, it->second, answer["result"]);
    if (version == kStateless && Schema(version)["$defs"].contains(it->second + "Response"))
      EXPECT_VALID(version, it->second + "Response", answer);
  }
  json Request(const std::string& method, json params, int id) {
    return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  }

  /// Conversation runs the same requests in either era: `meta` is null for an initialize
  /// session, else the _meta every request carries.
  void Conversation(const std::string& version, Session* s, const json& meta) {
    int id = 10;
    auto p = [&](json params) {
      if (!meta.is_null()) params["_meta"] = meta;
      return params;
    };
    // Every page of every list.
    for (const char* list : {"tools/list", "resources/list", "prompts/list", "resources/templates/list"}) {
      json params = json::object();
      for (int pages = 0; pages < 20; ++pages) {
        json r = Send(version, s, Request(list, p(params), ++id));
        ASSERT_TRUE(r.contains("result")) << r;
        if (!r["result"].contains("nextCursor")) break;
        params = {{"cursor", r["result"]["nextCursor"]}};
      }
    }
    // Every tool, with arguments it accepts or refuses.
    std::vector<std::pair<std::string, json>> calls = {
        {"spec_trace", {{"id", "REQ-01-001"}}},   {"spec_trace", json::object()},  // missing argument: isError
        {"spec_item", {{"id", "US-03-001"}}},     {"spec_item", {{"id", "REQ-09-009"}}},
        {"spec_search", {{"query", "sign-up"}}},  {"spec_check", json::object()},
        {"spec_impact", {{"ids", {"REQ-01-001"}}}}, {"spec_matrix", json::object()},
        {"runs_list", json::object()},            {"run_status", {{"run", "latest"}}},
        {"sessions_list", json::object()},        {"code_symbols", {{"name", "signup"}}},
        {"code_search", {{"query", "sign-up handler"}, {"literal", true}}}};
    for (const auto& [name, args] : calls) {
      if (!server_->FindTool(name)) continue;
      json r = Send(version, s, Request("tools/call", p({{"name", name}, {"arguments", args}}), ++id));
      EXPECT_TRUE(r.contains("result")) << name << ": " << r;
    }
    EXPECT_EQ(Send(version, s, Request("tools/call", p({{"name", "no_such_tool"}, {"arguments", json::object()}}), ++id))["error"]["code"],
              proto::kInvalidParams);
    json read = Send(version, s, Request("resources/read", p({{"uri", "specwright://rules/testing"}}), ++id));
    EXPECT_EQ(read["result"]["contents"][0]["text"], "# Testing rules\n\nWrite the test first.\n") << read;
    json missing = Send(version, s, Request("resources/read", p({{"uri", "specwright://rules/nope"}}), ++id));
    EXPECT_EQ(missing["error"]["code"], version == kStateless ? proto::kInvalidParams : proto::kResourceNotFound) << missing;
    json prompt = Send(version, s, Request("prompts/get", p({{"name", "testing"}, {"arguments", {{"task", "add a test"}}}}), ++id));
    EXPECT_EQ(prompt["result"]["messages"][0]["role"], "user") << prompt;
    EXPECT_EQ(Send(version, s, Request("prompts/get", p({{"name", "nope"}}), ++id))["error"]["code"], proto::kInvalidParams);
    EXPECT_EQ(Send(version, s, Request("no/such/method", p(json::object()), ++id))["error"]["code"], proto::kMethodNotFound);
  }

  std::string dir_;
  std::unique_ptr<Server> server_;
  int answers_ = 0;
};

// The validator is not a rubber stamp: the specification's own example responses pass, and
// answers that break the schema fail.
TEST_F(McpSchemaTest, TheOfficialSchemasAcceptTheirExamplesAndCatchViolations) {
  for (const char* def : {"DiscoverResultResponse", "CallToolResultResponse", "ListToolsResultResponse", "ReadResourceResultResponse",
                          "UnsupportedProtocolVersionError", "HeaderMismatchError", "DiscoverResult", "CallToolResult"}) {
    int seen = 0;
    for (const auto& e : fs::directory_iterator(kSchemaDir + "/2026-07-28/examples/" + def)) {
      EXPECT_VALID(kStateless, def, ReadJson(e.path().string()));
      ++seen;
    }
    EXPECT_GT(seen, 0) << def;
  }
  json result{{"content", json::array({{{"type", "text"}, {"text", "hi"}}})}, {"isError", false}};
  EXPECT_FALSE(Violations(kStateless, "CallToolResult", result).empty()) << "2026-07-28 requires resultType";
  EXPECT_TRUE(Violations(kLegacy, "CallToolResult", result).empty());
  result["content"][0]["type"] = "txt";
  EXPECT_FALSE(Violations(kLegacy, "CallToolResult", result).empty()) << "an unknown content type";
  json list{{"resultType", "complete"}, {"tools", json::array()}};
  EXPECT_FALSE(Violations(kStateless, "ListToolsResult", list).empty()) << "ttlMs and cacheScope are required";
  list["ttlMs"] = 0;
  list["cacheScope"] = "public";
  EXPECT_TRUE(Violations(kStateless, "ListToolsResult", list).empty());
  list["cacheScope"] = "shared";
  EXPECT_FALSE(Violations(kStateless, "ListToolsResult", list).empty()) << "cacheScope is public or private";
  list["cacheScope"] = "private";
  list["tools"] = json::array({{{"name", "t"}, {"inputSchema", {{"type", "array"}}}}});
  EXPECT_FALSE(Violations(kStateless, "ListToolsResult", list).empty()) << "an inputSchema is an object schema";
  EXPECT_FALSE(Violations(kLegacy, "InitializeResult", json{{"capabilities", json::object()}}).empty());
}

TEST_F(McpSchemaTest, AnInitializeConversationMatchesTheSchemaOfItsVersion) {
  Session s;
  json init = Send(kLegacy, &s,
                   Request("initialize", {{"protocolVersion", kLegacy}, {"capabilities", json::object()},
                                          {"clientInfo", {{"name", "schema-test"}, {"version", "1.0.0"}}}}, 1));
  ASSERT_EQ(init["result"]["protocolVersion"], kLegacy) << init;
  EXPECT_FALSE(server_->Handle(json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, &s));
  Send(kLegacy, &s, Request("ping", json::object(), 2));
  Conversation(kLegacy, &s, nullptr);
  EXPECT_GT(answers_, 25);
  // Asked with a stateless version inside an initialize session is still the stateless protocol
  // (a dual-era server serves both on one connection) and leaves the session as it was.
  json listed = Send(kStateless, &s, Request("tools/list", {{"_meta", Meta()}}, 99));
  EXPECT_EQ(listed["result"]["resultType"], "complete");
  EXPECT_EQ(s.version, kLegacy);
}

TEST_F(McpSchemaTest, AStatelessConversationMatchesTheSchemaOf20260728) {
  Session none;  // never initialized, and it stays so
  json d = Send(kStateless, &none, Request("server/discover", {{"_meta", Meta()}}, 1));
  ASSERT_TRUE(d.contains("result")) << d;
  EXPECT_EQ(d["result"]["supportedVersions"], json(Server::SupportedVersions()));
  EXPECT_EQ(d["result"]["supportedVersions"][0], kStateless);
  EXPECT_EQ(d["result"]["_meta"][proto::kMetaServerInfo]["name"], "specwright");
  Conversation(kStateless, &none, Meta());
  EXPECT_TRUE(none.version.empty()) << "a stateless request opened a session";

  // What 2026-07-28 removed or we do not offer: method not found.
  for (const char* m : {"ping", "subscriptions/listen", "logging/setLevel"}) {
    json params{{"_meta", Meta()}};
    if (std::string(m) == "subscriptions/listen") params["notifications"] = {{"toolsListChanged", true}};
    EXPECT_EQ(Send(kStateless, &none, Request(m, params, 50))["error"]["code"], proto::kMethodNotFound) << m;
  }
  // An unknown version: UnsupportedProtocolVersionError with what we speak.
  json old = Send(kStateless, &none, Request("tools/list", {{"_meta", Meta("1900-01-01")}}, 51));
  EXPECT_EQ(old["error"]["code"], proto::kUnsupportedProtocolVersion);
  EXPECT_EQ(old["error"]["data"]["requested"], "1900-01-01");
  EXPECT_EQ(old["error"]["data"]["supported"], json(Server::SupportedVersions()));
  // A handshake version sent to server/discover: it names the handshake, not a stateless error loop.
  json legacy = Send(kStateless, &none, Request("server/discover", {{"_meta", Meta(kLegacy)}}, 52));
  EXPECT_EQ(legacy["error"]["code"], proto::kUnsupportedProtocolVersion);
  EXPECT_NE(legacy["error"]["message"].get<std::string>().find("initialize"), std::string::npos) << legacy;
  // Required _meta missing: invalid params.
  json meta = Meta();
  meta.erase(proto::kMetaClientCapabilities);
  EXPECT_EQ(Send(kStateless, &none, Request("tools/list", {{"_meta", meta}}, 53))["error"]["code"], proto::kInvalidParams);
  EXPECT_EQ(Send(kStateless, &none, Request("server/discover", json::object(), 54))["error"]["code"], proto::kInvalidParams);
  // initialize is not a 2026-07-28 method but keeps working for the versions that have it.
  Session s;
  json init = Send(kLegacy, &s, Request("initialize", {{"protocolVersion", kLegacy}, {"capabilities", json::object()}}, 55));
  EXPECT_EQ(init["result"]["protocolVersion"], kLegacy);
  EXPECT_FALSE(init["result"].contains("resultType"));
}

// The specification's example client requests, as published.
TEST_F(McpSchemaTest, TheSpecificationsExampleRequestsAreAnsweredInShape) {
  std::vector<std::string> kinds;
  for (const auto& ref : Schema(kStateless)["$defs"]["ClientRequest"]["anyOf"]) {
    std::string r = ref["$ref"];
    kinds.push_back(r.substr(r.rfind('/') + 1));
  }
  ASSERT_GE(kinds.size(), 9u);
  std::set<std::string> answered;
  int id = 0;
  for (const auto& kind : kinds) {
    fs::path folder = kSchemaDir + "/2026-07-28/examples/" + kind;
    if (!fs::exists(folder)) continue;
    for (const auto& e : fs::directory_iterator(folder)) {
      json req = ReadJson(e.path().string());
      EXPECT_VALID(kStateless, kind, req);
      std::string method = req["method"];
      Session none;
      if (method == "tools/call" && !server_->FindTool(req["params"]["name"])) {
        // Named a tool we do not have: as sent, invalid params naming it; then with one of ours.
        json r = Send(kStateless, &none, req);
        EXPECT_EQ(r["error"]["code"], proto::kInvalidParams) << r;
        req["params"]["name"] = "spec_trace";
        req["params"]["arguments"] = {{"id", "REQ-01-001"}};
      } else if (method == "prompts/get") {
        json r = Send(kStateless, &none, req);
        EXPECT_EQ(r["error"]["code"], proto::kInvalidParams) << r;
        req["params"]["name"] = "testing";
        req["params"]["arguments"] = {{"task", req["params"]["arguments"].begin().value()}};
      } else if (method == "resources/read") {
        json r = Send(kStateless, &none, req);
        EXPECT_EQ(r["error"]["code"], proto::kInvalidParams) << "resource not found is invalid params in 2026-07-28: " << r;
        req["params"]["uri"] = "specwright://context";
      }
      req["id"] = req["id"].is_string() ? json(req["id"].get<std::string>() + "-" + std::to_string(++id)) : json(++id);
      json r = Send(kStateless, &none, req);
      EXPECT_EQ(r["id"], req["id"]);
      if (method == "completion/complete" || method == "subscriptions/listen") {
        EXPECT_EQ(r["error"]["code"], proto::kMethodNotFound) << "we offer neither completions nor subscriptions: " << r;
      } else {
        EXPECT_TRUE(r.contains("result")) << e.path() << ": " << r;
        EXPECT_EQ(r["result"]["resultType"], "complete");
      }
      answered.insert(method);
      EXPECT_TRUE(none.version.empty());
    }
  }
  for (const char* m : {"server/discover", "tools/list", "tools/call", "resources/list", "resources/templates/list", "resources/read",
                        "prompts/list", "prompts/get"})
    EXPECT_TRUE(answered.count(m)) << "no official example of " << m << " was fed";
  // The client notification example: accepted, no answer.
  for (const auto& e : fs::directory_iterator(kSchemaDir + "/2026-07-28/examples/CancelledNotification")) {
    json n = ReadJson(e.path().string());
    EXPECT_VALID(kStateless, "CancelledNotification", n);
    Session none;
    EXPECT_FALSE(server_->Handle(n, &none));
  }
}

}  // namespace
}  // namespace sw::mcp
