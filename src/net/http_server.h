// net::HttpServer: a small asynchronous HTTP/1.1 server — one epoll thread, non-blocking
// sockets, a timer heap — for the fake LLM server (thousands of concurrent, slowly streamed
// responses) and the local web UI. It binds 127.0.0.1 unless told otherwise.
//
// Threading: handlers, timers and every ResponseWriter method run on the server's loop
// thread. Other threads reach it only through Post(). A handler may keep its writer and
// answer later (from a timer or a posted function); responses on one connection go out in
// request order.
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
  std::string host = "127.0.0.1";  // IPv4 address or "localhost"; never all interfaces by default
  int port = 0;                    // 0: any free port
  size_t max_body = 64u << 20;     // larger request bodies get 413
  int backlog = 4096;
};

struct IncomingRequest {
  std::string method;
  std::string target;  // path and query as sent
  std::string path;
  std::string query;
  Headers headers;     // names lower-cased
  std::string body;    // de-chunked
  std::string Header(std::string_view lower_name) const { return HeaderValue(headers, lower_name); }
};

class HttpServer;
struct HttpConnection;

/// ResponseWriter answers one request. Loop thread only. Calls after the response ended or
/// the connection closed do nothing. Dropping the last reference to an unfinished writer
/// answers 500 (nothing sent yet) or cuts the connection (partly sent), so a forgetful
/// handler cannot hang a connection.
class ResponseWriter {
 public:
  ~ResponseWriter();
  ResponseWriter(const ResponseWriter&) = delete;
  ResponseWriter& operator=(const ResponseWriter&) = delete;

  /// Begin sends the status line and headers; chunked responses are then written piecewise.
  /// A non-chunked response without Content-Length ends by closing the connection.
  void Begin(int status, const Headers& headers, bool chunked);
  /// Write sends one chunk (chunked) or raw body bytes (the caller set Content-Length).
  void Write(std::string_view data);
  /// End finishes the response; the connection goes on to its next request.
  void End();
  /// Send is Begin with Content-Length, the body, and End.
  void Send(int status, Headers headers, const std::string& body);
  /// Abort closes the connection at once, mid-response (a cut stream).
  void Abort();
  /// closed is true once the peer went away or the connection was closed.
  bool closed() const;
  /// Unsent is how many written bytes the kernel has not taken yet (0 once closed): a writer
  /// that streams without end waits while it is large.
  size_t Unsent() const;
  bool begun() const { return begun_; }
  /// After runs fn on the loop thread in delay_ms, unless the connection has closed by then.
  void After(int delay_ms, std::function<void()> fn);

 private:
  friend class HttpServer;
  ResponseWriter(HttpServer* s, std::weak_ptr<HttpConnection> c, bool keep_alive)
      : server_(s), conn_(std::move(c)), keep_alive_(keep_alive) {}
  std::shared_ptr<HttpConnection> Live() const;

  HttpServer* server_;
  std::weak_ptr<HttpConnection> conn_;
  bool keep_alive_;
  bool begun_ = false;
  bool chunked_ = false;
  bool ended_ = false;
};

class HttpServer {
 public:
  using Handler = std::function<void(const IncomingRequest&, std::shared_ptr<ResponseWriter>)>;
  /// Start binds, listens and starts the loop thread.
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options, Handler handler);
  /// The destructor stops; it must not run on the loop thread.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  /// base_url is where a local client reaches the server, e.g. http://127.0.0.1:8080.
  std::string base_url() const;
  /// Post runs fn on the loop thread; safe from any thread while the server runs.
  void Post(std::function<void()> fn);
  /// Stop closes every connection and joins the loop. Called on the loop thread it only asks
  /// the loop to exit; the owner's destructor then finishes the job.
  void Stop();

 private:
  friend class ResponseWriter;
  using ConnPtr = std::shared_ptr<HttpConnection>;
  struct Timer {
    int64_t at_ms;
    uint64_t seq;                       // keeps equal deadlines in the order they were set
    bool bound;                         // skipped once conn has closed
    std::weak_ptr<HttpConnection> conn;
    std::function<void()> fn;
    bool operator>(const Timer& o) const { return at_ms != o.at_ms ? at_ms > o.at_ms : seq > o.seq; }
  };
  HttpServer(HttpServerOptions o, Handler h) : options_(std::move(o)), handler_(std::move(h)) {}
  Status Listen();
  void Loop();
  void RunPosted();
  void RunDueTimers();
  void AddTimer(int delay_ms, std::weak_ptr<HttpConnection> conn, bool bound, std::function<void()> fn);
  void Accept();
  void PauseAccepting();
  void OnEvent(const ConnPtr& c, uint32_t events);
  void OnReadable(const ConnPtr& c);
  void OnPeerEof(const ConnPtr& c);
  void ParseInput(const ConnPtr& c);
  bool ParseHead(HttpConnection& c);
  bool ParseBody(HttpConnection& c);
  void MaybeContinue(const ConnPtr& c);
  void Reject(HttpConnection& c, int status, std::string why);
  void DispatchNext(const ConnPtr& c);
  void RunHandler(const ConnPtr& c, IncomingRequest& req, bool keep_alive);
  void SendError(const ConnPtr& c, int status, const std::string& why);
  void Finished(const ConnPtr& c, bool keep_alive);
  void Output(HttpConnection& c, std::string_view data);
  void Flush(const ConnPtr& c);
  /// FlushSoon sends c's output at the end of this loop turn, so the frames a handler writes
  /// in one go leave in one send (and one TCP segment) instead of one each.
  void FlushSoon(const ConnPtr& c);
  void FlushPending();
  void Linger(const ConnPtr& c);
  void UpdateInterest(HttpConnection& c);
  void Close(HttpConnection& c);

  HttpServerOptions options_;
  Handler handler_;
  int listen_fd_ = -1, epoll_fd_ = -1, wake_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex post_mu_;
  std::vector<std::function<void()>> posted_;  // guarded by post_mu_
  // Loop thread only:
  std::vector<Timer> timers_;  // min-heap on (at_ms, seq)
  std::vector<ConnPtr> flush_soon_;  // loop thread only
  uint64_t timer_seq_ = 0;
  uint64_t next_conn_id_ = 2;  // 0 and 1 tag the listening socket and the wake eventfd
  std::unordered_map<uint64_t, ConnPtr> conns_;
};

}  // namespace sw::net
