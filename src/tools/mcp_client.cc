#include "tools/mcp_client.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>

#include "base/strings.h"
#include "base/subprocess.h"
#include "net/stream.h"
#include "tools/tool.h"

namespace sw::tools {
namespace {

using json = nlohmann::json;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Str and Flag read fields of what a server sent, whatever their type (nlohmann's value()
/// throws on a mismatch, and a server's JSON is not ours to trust).
std::string Str(const json& j, const char* key, const std::string& fallback = "") {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}
bool Flag(const json& j, const char* key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::string Tail(std::string s, size_t n) {
  if (s.size() > n) s = "..." + s.substr(s.size() - n);
  for (auto& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return Trim(s);
}

// ---- stdio: a child process, one JSON message per line ----

class StdioTransport : public McpTransport {
 public:
  static Result<std::unique_ptr<StdioTransport>> Start(const McpServerSpec& spec, McpClient* client) {
    SpawnOptions so;
    so.argv = {spec.command};
    so.argv.insert(so.argv.end(), spec.args.begin(), spec.args.end());
    so.cwd = spec.cwd;
    const char* path = std::getenv("PATH");
    so.path = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
    // Only what the workflow declares, plus what any program needs to start: our keys stay ours.
    so.env = spec.env;
    auto has = [&](const std::string& k) {
      for (const auto& e : so.env)
        if (e.rfind(k + "=", 0) == 0) return true;
      return false;
    };
    if (!has("PATH")) so.env.push_back("PATH=" + so.path);
    if (!has("HOME")) so.env.push_back(std::string("HOME=") + (std::getenv("HOME") ? std::getenv("HOME") : "/tmp"));
    auto child = Child::Start(so);
    if (!child.ok()) return child.status().Annotate("MCP server " + Quote(spec.name));
    auto t = std::unique_ptr<StdioTransport>(new StdioTransport(spec.name, std::move(child).value(), client));
    t->reader_ = std::thread([p = t.get()] { p->ReadLoop(); });
    return t;
  }

  ~StdioTransport() override {
    stop_ = true;
    if (reader_.joinable()) reader_.join();
    child_.reset();  // closes stdin, waits briefly, then kills the group
  }

  pid_t pid() const override { return child_->pid(); }

  Status Send(const json& msg) override {
    std::lock_guard<std::mutex> l(write_mu_);
    Status s = child_->Write(msg.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
    if (!s.ok()) return Status(Code::kUnavailable, "MCP server " + Quote(name_) + ": " + s.message());
    return s;
  }

 private:
  StdioTransport(std::string name, std::unique_ptr<Child> c, McpClient* client)
      : name_(std::move(name)), child_(std::move(c)), client_(client) {}

  void ReadLoop() {
    std::string buf;
    while (!stop_) {
      auto got = child_->ReadSome(0.1);
      if (!got.ok()) {
        std::string err = Tail(child_->StderrTail(), 300);
        client_->OnClosed("MCP server " + Quote(name_) + " " + child_->ExitDescription() +
                          (err.empty() ? "" : "; its last words on stderr: " + err));
        return;
      }
      buf += *got;
      for (size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        if (Trim(line).empty()) continue;
        json msg = json::parse(line, nullptr, false);
        if (msg.is_discarded()) continue;  // not a message (a server that logs to stdout)
        client_->OnMessage(msg);
      }
    }
  }

  std::string name_;
  std::unique_ptr<Child> child_;
  McpClient* client_;
  std::thread reader_;
  std::atomic<bool> stop_{false};
  std::mutex write_mu_;
};

// ---- Streamable HTTP: a POST per message, answered by JSON or an SSE stream ----

class HttpTransport : public McpTransport {
 public:
  HttpTransport(const McpServerSpec& spec, McpClient* client)
      : spec_(spec), client_(client), http_(net::HttpClient::Shared()),
        cancel_(std::make_shared<std::atomic<bool>>(false)) {}

  ~HttpTransport() override {
    std::string session;
    {
      std::lock_guard<std::mutex> l(mu_);
      session = session_;
    }
    // Tell the server the session is over (best effort); then wait for answers in flight,
    // whose handlers point at this transport.
    if (!session.empty()) {
      net::ClientRequest q;
      q.method = "DELETE";
      q.url = spec_.url;
      q.headers = Headers(false);
      q.timeouts.total = 2;
      Post(std::move(q), json());
    }
    // Exchanges still streaming end now (the DELETE has 2 s of its own); their handlers point
    // at this transport, so wait for every one of them to have finished.
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::seconds(2), [&] { return in_flight_ == 0; });
    }
    cancel_->store(true);
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return in_flight_ == 0; });
  }

  void SetProtocolVersion(const std::string& v) override {
    std::lock_guard<std::mutex> l(mu_);
    version_ = v;
  }

  Status Send(const json& msg) override {
    net::ClientRequest q;
    q.url = spec_.url;
    q.headers = Headers(true);
    q.body = msg.dump(-1, ' ', false, json::error_handler_t::replace);
    q.timeouts.total = spec_.timeout + 5;
    q.timeouts.first_byte = spec_.timeout + 5;
    q.timeouts.first_token = 0;
    q.timeouts.idle = spec_.timeout + 5;
    Post(std::move(q), msg.contains("id") && msg.contains("method") ? msg["id"] : json());
    return Status::Ok();
  }

 private:
  net::Headers Headers(bool with_body) {
    std::lock_guard<std::mutex> l(mu_);
    net::Headers h;
    if (with_body) h.emplace_back("Content-Type", "application/json");
    h.emplace_back("Accept", "application/json, text/event-stream");
    if (!session_.empty()) h.emplace_back(mcp::kSessionHeader, session_);
    if (!version_.empty()) h.emplace_back(mcp::kVersionHeader, version_);
    for (const auto& kv : spec_.headers) h.push_back(kv);
    return h;
  }

  /// One exchange. A request (id set) that gets no JSON-RPC answer is failed for its caller.
  void Post(net::ClientRequest q, json id) {
    struct Exchange {
      int status = 0;
      bool sse = false;
      bool answered = false;
      std::string body;
      std::unique_ptr<net::SseParser> parser;
    };
    auto x = std::make_shared<Exchange>();
    {
      std::lock_guard<std::mutex> l(mu_);
      ++in_flight_;
    }
    net::ClientHandlers h;
    h.on_head = [this, x](int status, const net::Headers& headers) {
      x->status = status;
      std::string sid = net::HeaderValue(headers, "mcp-session-id");
      if (!sid.empty()) {
        std::lock_guard<std::mutex> l(mu_);
        session_ = sid;
      }
      x->sse = net::HeaderValue(headers, "content-type").find("text/event-stream") != std::string::npos;
      if (x->sse)
        x->parser = std::make_unique<net::SseParser>([this, x](std::string_view, std::string_view data) {
          json m = json::parse(data, nullptr, false);
          if (!m.is_discarded()) Deliver(m, x.get());
          return true;
        });
    };
    h.on_body = [x](std::string_view b) {
      if (x->parser) x->parser->Feed(b);
      else if (x->body.size() < (16u << 20)) x->body.append(b);
      return true;
    };
    h.on_done = [this, x, id](net::ClientResult r) {
      if (!x->sse && x->status >= 200 && x->status < 300 && !Trim(x->body).empty()) {
        json m = json::parse(x->body, nullptr, false);
        if (!m.is_discarded()) Deliver(m, x.get());
      }
      if (!id.is_null() && !x->answered) {
        std::string why = r.transport != net::Transport::kOk
                              ? std::string(net::TransportName(r.transport)) + (r.message.empty() ? "" : " (" + r.message + ")")
                              : "HTTP " + std::to_string(x->status) + (x->body.empty() ? "" : ": " + Tail(x->body, 300));
        client_->OnMessage(json{{"jsonrpc", "2.0"}, {"id", id},
                                {"error", {{"code", -32000}, {"message", "no answer from " + spec_.url + ": " + why}}}});
      }
      std::lock_guard<std::mutex> l(mu_);
      --in_flight_;
      cv_.notify_all();
    };
    http_->Send(std::move(q), std::move(h), cancel_);
  }

  template <typename X>
  void Deliver(const json& m, X* x) {
    auto one = [&](const json& msg) {
      if (msg.contains("id") && !msg.contains("method")) x->answered = true;
      client_->OnMessage(msg);
    };
    if (m.is_array()) {
      for (const auto& e : m) one(e);
    } else {
      one(m);
    }
  }

  McpServerSpec spec_;
  McpClient* client_;
  std::shared_ptr<net::HttpClient> http_;
  std::shared_ptr<std::atomic<bool>> cancel_;  // set when the transport goes away
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  std::string session_, version_;
};

}  // namespace

const std::vector<std::string> kMcpVersions = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

Result<std::unique_ptr<McpClient>> McpClient::Connect(McpServerSpec spec) {
  if (spec.command.empty() == spec.url.empty())
    return InvalidInput("MCP server " + Quote(spec.name) + ": give either command (stdio) or url (Streamable HTTP)");
  std::unique_ptr<McpClient> c(new McpClient(std::move(spec)));
  SW_RETURN_IF_ERROR(c->Start());
  return c;
}

McpClient::~McpClient() {
  std::lock_guard<std::mutex> sl(start_mu_);
  std::shared_ptr<McpTransport> t;
  {
    std::lock_guard<std::mutex> l(mu_);
    t = std::move(transport_);
  }
  t.reset();  // outside mu_: its reader thread may still be delivering a message
}

Status McpClient::Start() {
  {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = false;
    closed_why_.clear();
  }
  std::shared_ptr<McpTransport> t;
  if (!spec_.url.empty()) {
    t = std::make_shared<HttpTransport>(spec_, this);
  } else {
    SW_ASSIGN_OR_RETURN(auto st, StdioTransport::Start(spec_, this));
    t = std::move(st);
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    transport_ = std::move(t);
  }
  json params{{"protocolVersion", kMcpVersions[0]},
              {"capabilities", json::object()},
              {"clientInfo", {{"name", "specwright"}, {"version", "0.1"}}}};
  // Starting a server (node loading its modules) can take longer than a call may.
  SW_ASSIGN_OR_RETURN(json r, Request("initialize", params, nullptr, std::max(spec_.timeout, spec_.start_timeout)));
  std::string v = Str(r, "protocolVersion", r.contains("protocolVersion") ? r["protocolVersion"].dump() : "");
  if (std::find(kMcpVersions.begin(), kMcpVersions.end(), v) == kMcpVersions.end())
    return Failed("MCP server " + Quote(spec_.name) + " speaks protocol version " + Quote(v) +
                  "; this client speaks " + Join(kMcpVersions, ", "));
  version_ = v;
  server_info_ = r.contains("serverInfo") && r["serverInfo"].is_object() ? r["serverInfo"] : json::object();
  {
    std::lock_guard<std::mutex> l(mu_);
    transport_->SetProtocolVersion(v);
  }
  return Send(json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
}

Status McpClient::Send(const json& msg) {
  std::shared_ptr<McpTransport> t;
  {
    std::lock_guard<std::mutex> l(mu_);
    t = transport_;
  }
  if (!t) return Status(Code::kUnavailable, "MCP server " + Quote(spec_.name) + " is not connected");
  // Outside mu_: a write to a server that is slow to read must not stop its answers (the
  // reader thread needs mu_ to deliver them).
  return t->Send(msg);
}

pid_t McpClient::server_pid() {
  std::lock_guard<std::mutex> l(mu_);
  return transport_ ? transport_->pid() : 0;
}

void McpClient::OnMessage(const json& msg) {
  if (!msg.is_object()) return;
  bool has_id = msg.contains("id") && !msg["id"].is_null();
  if (msg.contains("method")) {
    if (!has_id) return;  // a notification (log message, list changed): nothing to do here
    std::string method = Str(msg, "method");
    json reply{{"jsonrpc", "2.0"}, {"id", msg["id"]}};
    if (method == "ping") {
      reply["result"] = json::object();
    } else {
      reply["error"] = {{"code", mcp::kMethodNotFound}, {"message", "method not supported by this client: " + method}};
    }
    // Safe from the transport's own thread: sending never waits for an answer.
    Send(reply);
    return;
  }
  if (!has_id || !msg["id"].is_number_integer()) return;
  std::lock_guard<std::mutex> l(mu_);
  auto it = pending_.find(msg["id"].get<int64_t>());
  if (it == pending_.end()) return;  // answered after we gave up on it
  it->second->done = true;
  it->second->response = msg;
  cv_.notify_all();
}

void McpClient::OnClosed(const std::string& why) {
  std::lock_guard<std::mutex> l(mu_);
  closed_ = true;
  closed_why_ = why;
  cv_.notify_all();
}

Result<json> McpClient::Request(const std::string& method, json params, std::shared_ptr<std::atomic<bool>> cancel,
                                double timeout) {
  if (timeout < 0) timeout = spec_.timeout;
  auto p = std::make_shared<Pending>();
  int64_t id;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_) return Status(Code::kUnavailable, closed_why_);
    id = next_id_++;
    pending_[id] = p;
  }
  auto forget = [&] {
    std::lock_guard<std::mutex> l(mu_);
    pending_.erase(id);
  };
  Status s = Send(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
  if (!s.ok()) {
    forget();
    return s;
  }
  double deadline = Now() + timeout;
  std::string who = "MCP server " + Quote(spec_.name) + ": " + method;
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    if (p->done) break;
    if (closed_) {
      pending_.erase(id);
      return Status(Code::kUnavailable, who + " failed: " + closed_why_);
    }
    bool cancelled = cancel && cancel->load();
    if (cancelled || Now() >= deadline) {
      pending_.erase(id);
      l.unlock();
      // The server may stop work on it; its late answer, if any, is dropped.
      Send(json{{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"},
                {"params", {{"requestId", id}, {"reason", cancelled ? "cancelled" : "timed out"}}}});
      if (cancelled) return Status(Code::kCancelled, who + " cancelled");
      return Status(Code::kTimeout, who + " timed out after " + HumanDuration(timeout));
    }
    cv_.wait_for(l, std::chrono::milliseconds(50));
  }
  pending_.erase(id);
  json resp = std::move(p->response);
  l.unlock();
  if (resp.contains("error")) {
    const json& e = resp["error"];
    std::string msg = Str(e, "message", e.dump());
    int64_t code = e.is_object() && e.contains("code") && e["code"].is_number_integer() ? e["code"].get<int64_t>() : 0;
    return Failed(who + " failed: " + msg + (code ? " (code " + std::to_string(code) + ")" : ""));
  }
  if (!resp.contains("result")) return Failed(who + ": the answer has neither result nor error");
  return resp["result"];
}

Result<std::vector<McpToolInfo>> McpClient::ListTools() {
  std::vector<McpToolInfo> out;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    json params = json::object();
    if (!cursor.empty()) params["cursor"] = cursor;
    SW_ASSIGN_OR_RETURN(json r, Request("tools/list", params, nullptr));
    if (!r.contains("tools") || !r["tools"].is_array())
      return Failed("MCP server " + Quote(spec_.name) + ": tools/list answered without a tools list");
    for (const auto& t : r["tools"]) {
      if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) continue;
      McpToolInfo info;
      info.name = t["name"];
      info.title = Str(t, "title");
      info.description = Str(t, "description");
      if (t.contains("inputSchema") && t["inputSchema"].is_object()) info.input_schema = t["inputSchema"];
      out.push_back(std::move(info));
    }
    cursor = r.contains("nextCursor") && r["nextCursor"].is_string() ? r["nextCursor"].get<std::string>() : "";
    if (cursor.empty()) return out;
  }
  return Failed("MCP server " + Quote(spec_.name) + ": tools/list kept paging past 1000 pages");
}

Result<json> McpClient::CallTool(const std::string& name, const json& arguments,
                                 std::shared_ptr<std::atomic<bool>> cancel) {
  {
    // A stdio server that died is started again (a bounded number of times) for the next call.
    std::lock_guard<std::mutex> sl(start_mu_);
    bool dead;
    {
      std::lock_guard<std::mutex> l(mu_);
      dead = closed_;
    }
    if (dead && spec_.url.empty() && restarts_ < spec_.max_restarts) {
      ++restarts_;
      std::shared_ptr<McpTransport> old;
      {
        std::lock_guard<std::mutex> l(mu_);
        old = std::move(transport_);
      }
      old.reset();
      SW_RETURN_IF_ERROR(Start().Annotate("restarting MCP server " + Quote(spec_.name)));
    }
  }
  SW_ASSIGN_OR_RETURN(json r, Request("tools/call", json{{"name", name}, {"arguments", arguments}}, cancel));
  if (!r.is_object()) return Failed("MCP server " + Quote(spec_.name) + ": tools/call answered " + r.dump());
  if (!r.contains("content") || !r["content"].is_array()) r["content"] = json::array();
  r["isError"] = Flag(r, "isError");
  return r;
}

namespace {

class McpTool : public Tool {
 public:
  McpTool(McpClient* client, McpToolInfo info) : client_(client), info_(std::move(info)) {}
  std::string uri() const override { return "mcp://" + client_->spec().name + "/" + info_.name; }
  std::string description() const override { return info_.description.empty() ? info_.title : info_.description; }
  json schema() const override { return info_.input_schema; }
  Result<json> Call(const json& args, const CallContext& ctx) override {
    SW_ASSIGN_OR_RETURN(json r, client_->CallTool(info_.name, args.is_null() ? json::object() : args, ctx.cancel));
    std::string text = Text(r);
    if (r["isError"].get<bool>()) return Failed(text.empty() ? r.dump() : text);
    // The structured form is the result (the node's JSON, what a model is shown); the text
    // blocks beside it are, by the spec, its serialisation for clients that cannot read it.
    if (r.contains("structuredContent") && !r["structuredContent"].is_null()) return r["structuredContent"];
    return json(text);
  }

 private:
  static std::string Text(const json& r) {
    std::string out;
    for (const auto& c : r["content"]) {
      if (!c.is_object()) continue;
      std::string type = Str(c, "type");
      if (!out.empty()) out += "\n";
      if (type == "text") out += Str(c, "text");
      else if (type == "resource" && c.contains("resource"))
        out += Str(c["resource"], "text", "[resource " + Str(c["resource"], "uri") + "]");
      else out += "[" + type + " content]";
    }
    return out;
  }
  McpClient* client_;
  McpToolInfo info_;
};

}  // namespace

Status AddMcpTools(McpClient* client, Registry* registry) {
  SW_ASSIGN_OR_RETURN(auto tools, client->ListTools());
  for (auto& t : tools) registry->Add(std::make_shared<McpTool>(client, std::move(t)));
  return Status::Ok();
}

}  // namespace sw::tools
