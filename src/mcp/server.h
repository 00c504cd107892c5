// mcp: Specwright as a Model Context Protocol server. Coding agents (Claude Code, Cursor, our
// own agents through mcp://) ask it what the project knows: the spec items and their trace to
// code and tests, the runs and sessions of the store, the team's conventions (CONTEXT.md,
// preferences, rules/). The protocol core here is transport-free: a transport (stdio or
// Streamable HTTP, transport.cc) hands it one parsed JSON-RPC message with the session it
// belongs to and sends back what it returns.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace sw::store {
class Store;
}

namespace sw::mcp {

using json = nlohmann::json;

struct Options {
  std::string project;    // absolute path of the project every tool and resource is confined to
  std::string store_dir;  // absolute path of the store (.specwright); read only unless allow_writes
  /// The store when it is not the folder store_dir: a postgresql:// URL (password and all, never
  /// shown: messages name it without). store_dir is then this machine's folder for the
  /// server's files (mcp/logs, mcp/inputs, preferences.md).
  std::string store;
  bool allow_writes = false;  // run_start and gate_approve exist only then
  std::string self_exe;       // this binary: run_start and a resume after gate_approve start it
  std::vector<std::string> child_env;  // environment of the runs it starts ("NAME=value")
  std::vector<std::string> secrets;    // values never to appear in an answer (keys, the HTTP token)
  std::string name = "specwright";
  std::string version = "0.1.0";
  size_t page_size = 50;  // items per page of tools/list, resources/list, prompts/list
  /// A tool answer's text over this many bytes is cut (at a UTF-8 boundary) with a line saying
  /// so and how to narrow the call; a structuredContent whose JSON is over it is replaced by
  /// {"truncated": true, ...its short top-level fields}.
  size_t max_answer_bytes = 256u << 10;
  /// resources/read and prompts/get refuse a file over this size (checked before reading it).
  size_t max_resource_bytes = 8u << 20;
};

/// kTruncatedNote starts the line a cut answer ends with.
inline constexpr const char* kTruncatedNote = "[truncated:";

/// ToolAnswer is what a tool returns: text for the model, the same as JSON for programs.
struct ToolAnswer {
  std::string text;
  json structured;  // null: the answer is the text only (no structuredContent)
};

/// Tool is one MCP tool. Its handler's error Status becomes a result with isError: true and
/// the status's message as its text (a tool failure, not a protocol error).
struct Tool {
  std::string name, title, description;
  json input_schema;  // JSON Schema (type object) with a description on every property
  bool read_only = true;
  std::function<Result<ToolAnswer>(const json& args)> run;
  /// How to ask for less when the answer is over Options::max_answer_bytes (said after the cut).
  std::string narrow_hint = "ask for less: a narrower query or a smaller limit";
};

/// CapText cuts text over max_bytes at a UTF-8 boundary and appends a line saying it was
/// truncated, its full size, and hint (how to narrow the call). Text within the cap is as is.
std::string CapText(std::string text, size_t max_bytes, const std::string& hint);
/// CapStructured returns j when its JSON is at most max_bytes, else {"truncated": true,
/// "bytes": its size, "hint": hint} plus j's top-level numbers, booleans and short strings.
/// A list it drops that has a boolean NAME_truncated beside it makes that flag true.
json CapStructured(json j, size_t max_bytes, const std::string& hint);
/// CapAnswer is a tool's result {content: [text], isError: false, structuredContent} (none
/// when structured is null) whose JSON is within max_bytes: both are budgeted together — the
/// structured result gets what the text leaves but at most half when both are big
/// (CapStructured), the text what remains (CapText, its note included).
json CapAnswer(std::string text, json structured, size_t max_bytes, const std::string& hint);

/// Resource is one readable document; prompts are built from rule sets (see context.cc).
struct Resource {
  std::string uri, name, title, description, mime_type = "text/markdown";
  std::string path;  // absolute file behind it
};
struct Prompt {
  std::string name, title, description;
  std::string path;  // the rule set's file
};

/// Session is one client's state: what initialize negotiated. A stateless request (2026-07-28)
/// never reads or changes it: it is served with a Session of its own, made from its _meta.
struct Session {
  std::string version;       // "" until initialize
  bool initialized = false;  // notifications/initialized seen
  json client_info;
};

class Server {
 public:
  explicit Server(Options options);
  const Options& options() const { return options_; }

  /// Handle takes one parsed message (an object, or a batch array where the session's version
  /// has batches) and returns the answer, or nullopt when there is none (a notification).
  /// A message StatelessVersion names a version for is served statelessly (session untouched):
  /// its result carries resultType, serverInfo in _meta and, where cacheable, ttlMs/cacheScope.
  std::optional<json> Handle(const json& message, Session* session);
  /// HandleText parses text first: a parse error is answered with -32700 and id null.
  std::optional<json> HandleText(std::string_view text, Session* session);

  /// Negotiate is the version initialize answers: the client's when we speak it, else our newest.
  static std::string Negotiate(const std::string& requested);
  static bool Speaks(const std::string& version);
  /// SpeaksStateless: a version served without initialize (tools::kMcpStatelessVersions).
  static bool SpeaksStateless(const std::string& version);
  /// SupportedVersions: every version, the stateless ones first (what server/discover and
  /// UnsupportedProtocolVersionError list).
  static std::vector<std::string> SupportedVersions();
  /// StatelessVersion is the version a message asks to be served statelessly with: the value
  /// of params._meta["io.modelcontextprotocol/protocolVersion"] (a non-string as its JSON)
  /// unless the message is initialize or that value is a handshake version (then the message
  /// belongs to an initialize session; for server/discover, which has no session, any value
  /// counts). nullopt when there is no such key.
  static std::optional<std::string> StatelessVersion(const json& message);
  /// StatelessError is the error a stateless request is refused with before it is dispatched:
  /// a version we do not serve statelessly (-32022, data {supported, requested}) or a missing
  /// io.modelcontextprotocol/clientCapabilities (-32602). nullopt when it may be served.
  static std::optional<json> StatelessError(const json& message);
  /// HasBatches: JSON-RPC batch arrays exist in 2025-03-26 only (added then, removed in 2025-06-18).
  static bool HasBatches(const std::string& version) { return version == "2025-03-26"; }

  void AddTool(Tool t) { tools_.push_back(std::move(t)); }
  const std::vector<Tool>& tools() const { return tools_; }
  const Tool* FindTool(const std::string& name) const;

  /// Redact replaces every secret with [key] (as llm::Redact writes it): the configured ones,
  /// values of the environment's *KEY*/*TOKEN*/*SECRET*/*PASSWORD*/*CREDENTIAL*/*AUTH*
  /// variables, well-known key shapes, PEM private keys line by line (the BEGIN line and the
  /// base64 lines after it; a lone 64-character mixed-case base64 line), and the values of
  /// assignments whose name contains KEY, TOKEN, SECRET, PASSWORD, PASSWD or CREDENTIAL (any
  /// case): `NAME = value`, `NAME: value`, `"name": "value"` (quotes kept; numbers, booleans
  /// and null left: max_tokens: 512 is a count, not a secret).
  std::string Redact(std::string s) const;
  json RedactJson(json j) const;

  /// Resources and prompts as they are now on disk (re-read on every list: files change).
  std::vector<Resource> ListResources() const;
  std::vector<Prompt> ListPrompts() const;

 private:
  json Dispatch(const std::string& method, const json& params, Session* session, bool* no_answer);
  std::optional<json> HandleStateless(const json& message, const std::string& method, const json& id, const json& params);
  json CallTool(const json& params, Session* session);
  json ReadResource(const json& params, const std::string& version);
  json GetPrompt(const json& params);

  Options options_;
  std::vector<Tool> tools_;
  std::vector<std::string> secrets_;  // longest first
};

/// RpcError is a JSON-RPC error a handler throws: the server answers {code, message}.
struct RpcError {
  int code;
  std::string message;
};

/// CheckArguments checks a tool's arguments against its input schema (required properties,
/// types, enums, unknown properties); the message names the argument.
Status CheckArguments(const json& schema, const json& args);

/// NewServer makes the server with every tool this build has (spec, runs and sessions, export;
/// run_start and gate_approve with allow_writes; code context when the code index is built in).
std::unique_ptr<Server> NewServer(Options options);

/// OpenStoreFor opens the server's store; without create, a missing store is NotFound (a
/// read-only server never creates one).
Result<std::unique_ptr<store::Store>> OpenStoreFor(const Options& o, bool create);

// The tool families (each in its own file).
void AddSpecTools(Server* s);
void AddRunTools(Server* s);
void AddWriteTools(Server* s);
void AddCodeTools(Server* s);  // code_symbols, code_search over src/codeindex
/// CodeIndexPath is where the code tools keep the index of project (its canonical path):
/// $XDG_CACHE_HOME/specwright/code-index/<xxh3-128 of the path>.db, $HOME/.cache when
/// XDG_CACHE_HOME is unset (or not absolute); the missing folders (parents too) are created
/// 0700. When that cannot be made (HOME unwritable), a private folder under /tmp:
/// /tmp/specwright-<uid>/code-index (MakePrivateDir). An error when neither variable names
/// an absolute folder: the index is never put in the project.
Result<std::string> CodeIndexPath(const std::string& project);
/// MakePrivateDir creates dir 0700 (its parent must exist) or takes the one there, refusing it
/// when it is a symlink, not a folder, or owned by another user; one of ours open to others
/// is made 0700.
Status MakePrivateDir(const std::string& dir);

// ---- transports (transport.cc) ----

/// RandomToken is 32 hex digits from /dev/urandom ("" when it cannot be read): session ids
/// and generated bearer tokens.
std::string RandomToken();

/// ServeStdio reads newline-delimited JSON-RPC from in_fd and writes answers to out_fd, one
/// per line, until EOF. A line longer than max_line is answered with an error (and skipped)
/// without being held in memory. Returns when the input ends.
Status ServeStdio(Server* server, int in_fd, int out_fd, size_t max_line = 4u << 20);

struct HttpServeOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string token;  // required as `Authorization: Bearer` when set
  size_t max_body = 4u << 20;
  size_t max_sessions = 256;
  /// Called with the bound port once the server listens.
  std::function<void(int port)> on_listening;
};
/// ServeHttp serves the Streamable HTTP transport on /mcp until *stop is set.
Status ServeHttp(Server* server, const HttpServeOptions& options, const std::atomic<bool>* stop);

}  // namespace sw::mcp
