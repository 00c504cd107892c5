// net::HttpServer: a small asynchronous HTTP/1.1 server — one epoll thread, non-blocking
// sockets, a timer heap — for the fake LLM server (thousands of concurrent, slowly streamed
// responses) and the local web UI. It binds 127.0.0.1 unless told otherwise.
//
// Threading: handlers, timers and every ResponseWriter method run on the server's loop
// thread. Other threads reach it only through Post().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "net/http_client.h"

namespace sw::net {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  size_t max_body = 64u << 20;
  int backlog = 4096;
};

struct IncomingRequest {
  std::string method;
  std::string target;  // path and query as sent
  std::string path;
  std::string query;
  Headers headers;     // names lower-cased
  std::string body;
  std::string Header(std::string_view lower_name) const { return HeaderValue(headers, lower_name); }
};

class HttpServer;
struct Connection;

/// ResponseWriter answers one request. Loop thread only.
class ResponseWriter {
 public:
  /// Begin sends the status line and headers; chunked responses are then written piecewise.
  void Begin(int status, const Headers& headers, bool chunked);
  /// Write sends one chunk (chunked) or raw body bytes (the caller set Content-Length).
  void Write(std::string_view data);
  /// End finishes the response; the connection goes on to its next request.
  void End();
  /// Send is Begin with Content-Length, the body, and End.
  void Send(int status, Headers headers, const std::string& body);
  /// Abort closes the connection at once, mid-response (a cut stream).
  void Abort();
  /// closed is true once the peer went away or the response was aborted.
  bool closed() const;
  bool begun() const { return begun_; }
  /// After runs fn on the loop thread in delay_ms, unless the connection has closed by then.
  void After(int delay_ms, std::function<void()> fn);

 private:
  friend class HttpServer;
  ResponseWriter(HttpServer* s, std::weak_ptr<Connection> c, bool keep_alive)
      : server_(s), conn_(std::move(c)), keep_alive_(keep_alive) {}
  HttpServer* server_;
  std::weak_ptr<Connection> conn_;
  bool keep_alive_;
  bool begun_ = false;
  bool chunked_ = false;
  bool ended_ = false;
};

class HttpServer {
 public:
  using Handler = std::function<void(const IncomingRequest&, std::shared_ptr<ResponseWriter>)>;
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options, Handler handler);
  ~HttpServer();
  int port() const { return port_; }
  std::string base_url() const;
  /// Post runs fn on the loop thread; safe from any thread.
  void Post(std::function<void()> fn);
  void Stop();

 private:
  friend class ResponseWriter;
  struct Timer {
    int64_t at_ms;
    uint64_t seq;
    std::weak_ptr<Connection> conn;
    std::function<void()> fn;
    bool operator>(const Timer& o) const { return at_ms != o.at_ms ? at_ms > o.at_ms : seq > o.seq; }
  };
  HttpServer(HttpServerOptions o, Handler h) : options_(std::move(o)), handler_(std::move(h)) {}
  void Loop();
  void Accept();
  void OnReadable(const std::shared_ptr<Connection>& c);
  void Parse(const std::shared_ptr<Connection>& c);
  void DispatchNext(const std::shared_ptr<Connection>& c);
  void Output(Connection& c, std::string_view data);
  void Flush(const std::shared_ptr<Connection>& c);
  void Close(Connection& c);
  void Reject(const std::shared_ptr<Connection>& c, int status, const std::string& why);
  void Finished(const std::shared_ptr<Connection>& c, bool keep_alive);
  void UpdateInterest(Connection& c);

  HttpServerOptions options_;
  Handler handler_;
  int listen_fd_ = -1, epoll_fd_ = -1, wake_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex post_mu_;
  std::vector<std::function<void()>> posted_;
  std::vector<Timer> timers_;  // heap; loop thread only
  uint64_t timer_seq_ = 0;
  std::unordered_map<int, std::shared_ptr<Connection>> conns_;
};

}  // namespace sw::net
