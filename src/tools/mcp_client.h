// McpClient: the client side of the Model Context Protocol (JSON-RPC 2.0) over stdio (a
// child process, newline-delimited messages) or Streamable HTTP (POST per message; the
// answer is one JSON body or an SSE stream). It negotiates the protocol version, lists tools
// (following pagination), calls them with a timeout and a cancel flag, answers the server's
// pings, and turns a server that dies into errors naming it — restarting it on the next call.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <sys/types.h>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "net/http_client.h"
#include "tools/mcp_protocol.h"

namespace sw::tools {

/// McpServerSpec is one entry of a workflow's `mcp_servers:`.
struct McpServerSpec {
  std::string name;
  // stdio
  std::string command;
  std::vector<std::string> args;
  std::vector<std::string> env;  // "NAME=value"; PATH and HOME are added when absent
  std::string cwd;
  // Streamable HTTP
  std::string url;
  net::Headers headers;
  double timeout = 60;        // seconds per request
  double start_timeout = 30;  // seconds for the server to start and answer initialize
  int max_restarts = 3; // a crashed stdio server is started again this many times per client
};

struct McpToolInfo {
  std::string name;
  std::string title;
  std::string description;
  nlohmann::json input_schema = nlohmann::json::object();
};

class McpTransport;

class McpClient {
 public:
  /// Connect starts (or reaches) the server and runs the initialize handshake.
  static Result<std::unique_ptr<McpClient>> Connect(McpServerSpec spec);
  ~McpClient();
  McpClient(const McpClient&) = delete;
  McpClient& operator=(const McpClient&) = delete;

  /// ListTools returns every tool, following nextCursor until the server has no more pages.
  Result<std::vector<McpToolInfo>> ListTools();
  /// CallTool returns the result object: {"content": [...], "structuredContent"?: {...},
  /// "isError": bool}. A tool that failed (isError) is a result, not an error: the caller
  /// decides. Errors are protocol failures, timeouts, cancels and dead servers.
  Result<nlohmann::json> CallTool(const std::string& name, const nlohmann::json& arguments,
                                  std::shared_ptr<std::atomic<bool>> cancel = nullptr);
  const std::string& protocol_version() const { return version_; }
  const nlohmann::json& server_info() const { return server_info_; }
  const McpServerSpec& spec() const { return spec_; }
  /// server_pid is the stdio server's process id (0 for HTTP or when not running).
  pid_t server_pid();

  /// The transport delivers every message from the server here (any thread).
  void OnMessage(const nlohmann::json& msg);
  /// ...and says here when the connection is gone for good.
  void OnClosed(const std::string& why);

 private:
  explicit McpClient(McpServerSpec spec) : spec_(std::move(spec)) {}
  Status Start();
  Result<nlohmann::json> Request(const std::string& method, nlohmann::json params,
                                 std::shared_ptr<std::atomic<bool>> cancel, double timeout = -1);
  Status Send(const nlohmann::json& msg);

  struct Pending {
    bool done = false;
    nlohmann::json response;
  };
  McpServerSpec spec_;
  std::shared_ptr<McpTransport> transport_;  // replaced on restart; copied under mu_ to send
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, std::shared_ptr<Pending>> pending_;
  int64_t next_id_ = 1;
  bool closed_ = false;
  std::string closed_why_;
  int restarts_ = 0;
  std::mutex start_mu_;  // one (re)start at a time
  std::string version_;
  nlohmann::json server_info_;
};

/// AddMcpTools registers every tool of a connected server as mcp://SERVER/TOOL: a call
/// returns the text content (or the structured content when there is no text); a result
/// with isError is a failed call whose message is that text.
Status AddMcpTools(McpClient* client, class Registry* registry);

/// McpTransport moves JSON-RPC messages; incoming ones go to the client's OnMessage.
class McpTransport {
 public:
  virtual ~McpTransport() = default;
  virtual Status Send(const nlohmann::json& msg) = 0;
  /// After initialize: the version to announce (HTTP sends it as a header).
  virtual void SetProtocolVersion(const std::string& v) {}
  virtual pid_t pid() const { return 0; }
};

}  // namespace sw::tools
