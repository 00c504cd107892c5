// mcp_protocol: the Model Context Protocol constants both of our sides use — the client
// (tools/mcp_client.cc) and the server (src/mcp/): protocol versions, JSON-RPC error codes and
// the Streamable HTTP header names.
#pragma once

#include <string>
#include <vector>

namespace sw::tools {

/// The handshake (initialize) protocol versions both sides speak, newest first; the client
/// proposes the first, the server answers a client's version when it is one of these, else the
/// first.
extern const std::vector<std::string> kMcpVersions;

/// The stateless protocol versions (no initialize: every request carries its version in
/// params._meta), newest first. Only the server (src/mcp/) speaks them; our client still opens
/// with initialize. The server's supported versions are these, then kMcpVersions.
inline const std::vector<std::string> kMcpStatelessVersions = {"2026-07-28"};

namespace mcp {

inline constexpr const char* kJsonRpcVersion = "2.0";
// JSON-RPC 2.0 error codes, and MCP's own.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kResourceNotFound = -32002;  // resources/read of an unknown URI (2024-11-05 .. 2025-11-25; invalid params since)
// The codes 2026-07-28 defines (the range -32020..-32099 is the specification's).
inline constexpr int kHeaderMismatch = -32020;                   // HTTP headers missing or not matching the body
inline constexpr int kMissingRequiredClientCapability = -32021;  // the request needs a capability the client lacks
inline constexpr int kUnsupportedProtocolVersion = -32022;       // data: {supported, requested}
// The reserved _meta keys of the stateless versions: on requests, and on results.
inline constexpr const char* kMetaProtocolVersion = "io.modelcontextprotocol/protocolVersion";
inline constexpr const char* kMetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities";
inline constexpr const char* kMetaClientInfo = "io.modelcontextprotocol/clientInfo";
inline constexpr const char* kMetaServerInfo = "io.modelcontextprotocol/serverInfo";
// Streamable HTTP headers (HTTP header names are case-insensitive).
inline constexpr const char* kSessionHeader = "Mcp-Session-Id";
inline constexpr const char* kVersionHeader = "MCP-Protocol-Version";
// Required on every stateless (2026-07-28) POST: the body's method, and its params.name or
// params.uri for tools/call, resources/read and prompts/get.
inline constexpr const char* kMethodHeader = "Mcp-Method";
inline constexpr const char* kNameHeader = "Mcp-Name";
/// The version a Streamable HTTP server assumes when a request carries no version header.
inline constexpr const char* kHttpDefaultVersion = "2025-03-26";

}  // namespace mcp
}  // namespace sw::tools
