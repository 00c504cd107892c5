// http: the web UI's HTTP/1.1 server on Boost.Beast. Beast stays inside http.cc; the API sees
// plain Request and Response structs, and a Stream for Server-Sent Events.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sw::server {

struct Request {
  std::string method;  // GET, POST, ...
  std::string path;    // decoded, without the query
  std::vector<std::string> segments;  // the path split on '/' first, then each part decoded (a name may hold "%2F")
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string peer;  // remote address
};

/// Stream writes one Server-Sent Events response; Send is false once the client has gone.
class Stream {
 public:
  virtual ~Stream() = default;
  virtual bool Send(std::string_view bytes) = 0;
  /// Stopping is true when the server shuts down (a stream must then end promptly).
  virtual bool Stopping() const = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// stream set: the answer is text/event-stream, produced by stream until it returns.
  std::function<void(Stream&)> stream;
};

using Handler = std::function<Response(const Request&)>;

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8420;           // 0: any free port (see HttpServer::port)
  size_t max_body = 4 << 20;  // bytes; larger requests get 413
  int max_connections = 256;
  double idle_timeout = 60;  // seconds a kept-alive connection may sit without a request
};

/// HttpServer accepts connections on one thread and serves each on a thread of its own
/// (a browser keeps a few; event streams hold theirs for a run's whole life).
class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> Start(const HttpOptions& options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  /// Stop closes the listener and every connection, and waits for their threads.
  void Stop();
  /// Wait blocks until Stop (or until *interrupt becomes true, polled every 100 ms).
  void Wait(const std::atomic<bool>* interrupt);

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// IsLoopback says whether host names the loopback interface (127.0.0.0/8, ::1, localhost).
bool IsLoopback(const std::string& host);


}  // namespace sw::server
