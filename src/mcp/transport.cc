// The transports: stdio (newline-delimited JSON-RPC on stdin/stdout, bounded lines) and
// Streamable HTTP on /mcp over the web UI's HTTP server (server/http.h): JSON answers, 202 for
// notifications, 405 for GET (no server-initiated stream), Origin and Host validated, a bearer
// token off loopback. Two eras on one endpoint: initialize opens a session (Mcp-Session-Id,
// the MCP-Protocol-Version header checked against it); a 2026-07-28 request (its version in
// params._meta) is served without one, its MCP-Protocol-Version, Mcp-Method and Mcp-Name
// headers checked against the body (HeaderMismatch, -32020).
#include <errno.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>

#include "base/strings.h"
#include "mcp/server.h"
#include "server/http.h"
#include "tools/mcp_protocol.h"

namespace sw::mcp {
namespace {

namespace proto = tools::mcp;

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json RpcErrorBody(int code, const std::string& message) {
  return json{{"jsonrpc", proto::kJsonRpcVersion}, {"id", nullptr}, {"error", {{"code", code}, {"message", message}}}};
}

server::Response JsonResponse(int status, const json& body) {
  server::Response r;
  r.status = status;
  r.body = Dump(body);
  return r;
}

/// SafeEqual compares secrets in time independent of where they first differ.
bool SafeEqual(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

std::string Header(const server::Request& r, const char* lower) {
  auto it = r.headers.find(lower);
  return it == r.headers.end() ? "" : it->second;
}

/// DecodeHeaderValue undoes the `=?base64?...?=` sentinel a client wraps a header value in
/// when it is not plain ASCII; false when the sentinel holds no valid base64.
bool DecodeHeaderValue(const std::string& v, std::string* out) {
  const std::string open = "=?base64?", close = "?=";
  if (v.size() < open.size() + close.size() || v.compare(0, open.size(), open) != 0 ||
      v.compare(v.size() - close.size(), close.size(), close) != 0) {
    *out = v;
    return true;
  }
  std::string b64 = v.substr(open.size(), v.size() - open.size() - close.size());
  out->clear();
  unsigned int acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : b64) {
    int d;
    if (c >= 'A' && c <= 'Z') d = c - 'A';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 26;
    else if (c >= '0' && c <= '9') d = c - '0' + 52;
    else if (c == '+') d = 62;
    else if (c == '/') d = 63;
    else if (c == '=') {
      ++pad;
      continue;
    } else return false;
    if (pad) return false;  // data after padding
    acc = (acc << 6) | static_cast<unsigned int>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return (b64.size() % 4) == 0 && pad <= 2;
}

/// HostName strips the port (and IPv6 brackets) from a Host header or an origin's authority.
std::string HostName(const std::string& host) {
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    return close == std::string::npos ? host : host.substr(1, close - 1);
  }
  size_t colon = host.rfind(':');
  return colon == std::string::npos ? host : host.substr(0, colon);
}

class HttpEndpoint {
 public:
  HttpEndpoint(Server* s, HttpServeOptions o) : server_(s), options_(std::move(o)) {}

  server::Response Handle(const server::Request& req) {
    if (req.path != "/mcp") return JsonResponse(404, RpcErrorBody(proto::kInvalidRequest, "not found: the MCP endpoint is /mcp"));
    // DNS rebinding: a page on another site must not reach this server through the browser.
    if (std::string origin = Header(req, "origin"); !origin.empty()) {
      size_t scheme = origin.find("://");
      std::string name = scheme == std::string::npos ? "" : HostName(origin.substr(scheme + 3));
      bool ok = !name.empty() && (server::IsLoopback(name) || (!options_.token.empty() && name == HostName(options_.host)));
      if (!ok) return JsonResponse(403, RpcErrorBody(proto::kInvalidRequest, "Origin " + Quote(origin) + " is not allowed"));
    }
    if (options_.token.empty()) {
      std::string host = Header(req, "host");
      if (!server::IsLoopback(HostName(host)))
        return JsonResponse(403, RpcErrorBody(proto::kInvalidRequest, "Host " + Quote(host) + " is not a loopback name"));
    } else {
      std::string auth = Header(req, "authorization");
      std::string given = StartsWith(auth, "Bearer ") ? auth.substr(7) : "";
      if (!SafeEqual(given, options_.token)) {
        server::Response r = JsonResponse(401, RpcErrorBody(proto::kInvalidRequest, "this server needs its token: send `Authorization: Bearer TOKEN`"));
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return r;
      }
    }
    if (req.method == "GET") {
      // No server-initiated messages: the server never streams on its own.
      server::Response r = JsonResponse(405, RpcErrorBody(proto::kInvalidRequest, "this server does not stream: POST JSON-RPC messages to /mcp"));
      r.headers.emplace_back("Allow", "POST, DELETE");
      return r;
    }
    if (req.method == "DELETE") {
      std::string sid = Header(req, "mcp-session-id");
      if (sid.empty()) return JsonResponse(400, RpcErrorBody(proto::kInvalidRequest, "Bad Request: DELETE needs the Mcp-Session-Id header"));
      std::lock_guard<std::mutex> l(mu_);
      if (!sessions_.erase(sid)) return JsonResponse(404, RpcErrorBody(proto::kInvalidRequest, "no session " + Quote(sid) + " (ended, or never begun)"));
      server::Response r;
      r.body = "";
      return r;
    }
    if (req.method != "POST") {
      server::Response r = JsonResponse(405, RpcErrorBody(proto::kInvalidRequest, "method " + req.method + " is not allowed on /mcp"));
      r.headers.emplace_back("Allow", "POST, DELETE");
      return r;
    }
    std::string ctype = Lower(Header(req, "content-type"));
    if (!ctype.empty() && ctype.find("application/json") == std::string::npos)
      return JsonResponse(415, RpcErrorBody(proto::kInvalidRequest, "Content-Type must be application/json, got " + Quote(ctype)));
    std::string accept = Lower(Header(req, "accept"));
    if (!accept.empty() && accept.find("application/json") == std::string::npos && accept.find("*/*") == std::string::npos &&
        accept.find("application/*") == std::string::npos)
      return JsonResponse(406, RpcErrorBody(proto::kInvalidRequest, "this server answers application/json; Accept was " + Quote(accept)));
    json msg = json::parse(req.body, nullptr, false);
    if (msg.is_discarded()) {
      Session scratch;
      auto r = server_->HandleText(req.body, &scratch);  // the parse error, as the core words it
      return JsonResponse(400, r ? *r : RpcErrorBody(proto::kParseError, "parse error"));
    }
    bool initialize = msg.is_object() && msg.value("method", json()) == "initialize";
    if (!initialize && msg.is_object()) {
      // The stateless revision: a version in params._meta, or (its body wrong) no session and a
      // stateless version in the header.
      auto version = Server::StatelessVersion(msg);
      bool sessionless = Header(req, "mcp-session-id").empty();
      if (version || (sessionless && Server::SpeaksStateless(Header(req, "mcp-protocol-version")))) return Stateless(req, msg, version);
    }
    if (initialize) {
      Session s;
      auto reply = server_->Handle(msg, &s);
      server::Response r = JsonResponse(200, reply ? *reply : json());
      if (reply && reply->contains("result")) {
        std::string sid = RandomToken();
        if (sid.empty()) return JsonResponse(500, RpcErrorBody(proto::kInternalError, "cannot read /dev/urandom for a session id"));
        std::lock_guard<std::mutex> l(mu_);
        while (!sessions_.empty() && sessions_.size() >= options_.max_sessions) Evict();
        sessions_[sid] = {s, Now()};
        r.headers.emplace_back(proto::kSessionHeader, sid);
      }
      return r;
    }
    std::string sid = Header(req, "mcp-session-id");
    if (sid.empty()) return JsonResponse(400, RpcErrorBody(proto::kInvalidRequest, "Bad Request: the Mcp-Session-Id header is required after initialize (or, "
                                                                                    "without a session, name protocol version 2026-07-28 in the body's "
                                                                                    "params._meta and the MCP-Protocol-Version header)"));
    Session session;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = sessions_.find(sid);
      if (it == sessions_.end()) return JsonResponse(404, RpcErrorBody(proto::kInvalidRequest, "no session " + Quote(sid) + " (ended, or never begun): initialize again"));
      it->second.last_used = Now();
      session = it->second.session;
    }
    if (std::string v = Header(req, "mcp-protocol-version"); !v.empty() && v != session.version)
      return JsonResponse(400, RpcErrorBody(proto::kInvalidRequest, "Bad Request: MCP-Protocol-Version " + Quote(v) +
                                                                  (Server::Speaks(v) ? " is not the version this session negotiated (" + session.version + ")"
                                                                   : Server::SpeaksStateless(v)
                                                                       ? " is a version without sessions: name it in the body's params._meta too"
                                                                       : " is not supported (" + Join(Server::SupportedVersions(), ", ") + ")")));
    auto reply = server_->Handle(msg, &session);
    if (session.initialized) {
      std::lock_guard<std::mutex> l(mu_);
      if (auto it = sessions_.find(sid); it != sessions_.end()) it->second.session.initialized = true;
    }
    if (!reply) {
      server::Response r;
      r.status = 202;
      r.body = "";
      return r;
    }
    return JsonResponse(200, *reply);
  }

 private:
  /// Stateless serves one 2026-07-28 message: no session is read, minted or echoed (an
  /// Mcp-Session-Id header is ignored). The request's headers must mirror its body; the
  /// status says what the error is: 400 for a malformed request (header mismatch, missing
  /// _meta, unsupported version), 404 for a method we do not have, 200 for every answer else.
  server::Response Stateless(const server::Request& req, const json& msg, const std::optional<std::string>& version) {
    json id = msg.contains("id") && (msg["id"].is_string() || msg["id"].is_number_integer()) ? msg["id"] : json();
    bool notification = !msg.contains("id");
    auto refuse = [&](int status, int code, const std::string& message, const json& data = nullptr) {
      json e{{"code", code}, {"message", message}};
      if (!data.is_null()) e["data"] = data;
      return JsonResponse(status, json{{"jsonrpc", proto::kJsonRpcVersion}, {"id", id}, {"error", e}});
    };
    if (notification) {
      // This revision defines no client notifications over HTTP (nor their headers): accepted, ignored.
      Session scratch;
      (void)server_->Handle(msg, &scratch);
      server::Response r;
      r.status = 202;
      r.body = "";
      return r;
    }
    std::string method = msg.value("method", json()).is_string() ? msg["method"].get<std::string>() : "";
    if (!version)
      return refuse(400, proto::kInvalidParams,
                    std::string("params._meta[\"") + proto::kMetaProtocolVersion + "\"] is required: the MCP-Protocol-Version header is " +
                        Header(req, "mcp-protocol-version") + ", a version without initialize, and every request names it in its _meta too");
    auto mismatch = [&](const std::string& message) { return refuse(400, proto::kHeaderMismatch, "Header mismatch: " + message); };
    std::string hv = Header(req, "mcp-protocol-version");
    if (hv.empty()) return mismatch("the MCP-Protocol-Version header is required (the body's _meta says " + *version + ")");
    if (hv != *version) return mismatch("MCP-Protocol-Version header value " + Quote(hv) + " does not match body value " + Quote(*version));
    auto hm = req.headers.find("mcp-method");
    if (hm == req.headers.end() || hm->second.empty()) return mismatch("the Mcp-Method header is required (the body's method is " + Quote(method) + ")");
    if (hm->second != method) return mismatch("Mcp-Method header value " + Quote(hm->second) + " does not match body value " + Quote(method));
    const char* name_field = method == "tools/call" || method == "prompts/get" ? "name" : method == "resources/read" ? "uri" : nullptr;
    if (name_field && msg.contains("params") && msg["params"].is_object() && msg["params"].contains(name_field) &&
        msg["params"][name_field].is_string()) {
      std::string body_name = msg["params"][name_field].get<std::string>();
      auto hn = req.headers.find("mcp-name");
      if (hn == req.headers.end() || hn->second.empty())
        return mismatch("the Mcp-Name header is required for " + method + " (the body's params." + name_field + " is " + Quote(body_name) + ")");
      std::string decoded;
      if (!DecodeHeaderValue(hn->second, &decoded)) return mismatch("Mcp-Name header value " + Quote(hn->second) + " is not valid =?base64?...?=");
      if (decoded != body_name) return mismatch("Mcp-Name header value " + Quote(decoded) + " does not match body value " + Quote(body_name));
    }
    if (auto e = Server::StatelessError(msg)) return JsonResponse(400, *e);
    Session scratch;
    auto reply = server_->Handle(msg, &scratch);
    if (!reply) return refuse(500, proto::kInternalError, "no answer to a request");
    int status = 200;
    if (reply->contains("error") && (*reply)["error"].value("code", 0) == proto::kMethodNotFound) status = 404;
    return JsonResponse(status, *reply);
  }

  static double Now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  void Evict() {  // mu_ held: the session idle longest goes
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
      if (it->second.last_used < oldest->second.last_used) oldest = it;
    if (oldest != sessions_.end()) sessions_.erase(oldest);
  }

  struct Entry {
    Session session;
    double last_used = 0;
  };
  Server* server_;
  HttpServeOptions options_;
  std::mutex mu_;
  std::map<std::string, Entry> sessions_;
};

}  // namespace

std::string RandomToken() {
  std::string bytes(16, '\0');
  FILE* f = std::fopen("/dev/urandom", "rb");
  if (!f) return "";
  size_t got = std::fread(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  if (got != bytes.size()) return "";
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) out += kHex[c >> 4], out += kHex[c & 15];
  return out;
}

Status ServeStdio(Server* server, int in_fd, int out_fd, size_t max_line) {
  Session session;
  std::string line;
  bool discarding = false;  // inside a line past max_line: dropped up to its newline
  char buf[64 << 10];
  auto answer = [&](const std::optional<json>& reply) {
    if (!reply) return true;
    return WriteAll(out_fd, Dump(*reply) + "\n");
  };
  auto finish_line = [&]() {
    if (discarding) {
      discarding = false;
      line.clear();
      return answer(RpcErrorBody(proto::kInvalidRequest, "message longer than " + std::to_string(max_line) + " bytes: not read"));
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    bool ok = true;
    if (!Trim(line).empty()) ok = answer(server->HandleText(line, &session));
    line.clear();
    return ok;
  };
  for (;;) {
    ssize_t n = ::read(in_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError(std::string("reading stdin: ") + std::strerror(errno));
    if (n == 0) break;
    std::string_view chunk(buf, static_cast<size_t>(n));
    while (!chunk.empty()) {
      size_t nl = chunk.find('\n');
      std::string_view part = chunk.substr(0, nl);
      if (!discarding) {
        if (line.size() + part.size() > max_line) {
          discarding = true;
          line.clear();
          line.shrink_to_fit();
        } else {
          line.append(part);
        }
      }
      if (nl == std::string_view::npos) break;
      if (!finish_line()) return Status::Ok();  // the client closed stdout's other end
      chunk.remove_prefix(nl + 1);
    }
  }
  if (!discarding && !Trim(line).empty()) finish_line();  // a last message without its newline
  return Status::Ok();
}

Status ServeHttp(Server* server, const HttpServeOptions& options, const std::atomic<bool>* stop) {
  auto endpoint = std::make_shared<HttpEndpoint>(server, options);
  server::HttpOptions ho;
  ho.host = options.host;
  ho.port = options.port;
  ho.max_body = options.max_body;
  SW_ASSIGN_OR_RETURN(auto srv, server::HttpServer::Start(ho, [endpoint](const server::Request& r) { return endpoint->Handle(r); }));
  if (options.on_listening) options.on_listening(srv->port());
  srv->Wait(stop);
  srv->Stop();
  return Status::Ok();
}

}  // namespace sw::mcp
