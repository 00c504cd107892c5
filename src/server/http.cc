// The only file that includes Boost.Beast (its headers are heavy; the machines have 2 cores).
#include "server/http.h"

#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <map>
#include <thread>

#include "base/strings.h"

namespace sw::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Impl {
  HttpOptions options;
  Handler handler;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::thread accept_thread;
  std::thread reaper;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  /// Each session's socket and when it last did something; a streaming session is never idle.
  struct Session {
    std::chrono::steady_clock::time_point active;
    bool streaming = false;
  };
  std::map<int, Session> open;  // by socket fd; shut down on Stop, or when idle too long
  int sessions = 0;
  bool stopped = false;

  void AcceptLoop();
  void ReapIdle();
  void Serve(tcp::socket& socket);
  void Touch(int fd, bool streaming) {
    std::lock_guard<std::mutex> l(mu);
    auto it = open.find(fd);
    if (it != open.end()) it->second = Session{std::chrono::steady_clock::now(), streaming};
  }
};

namespace {

class SocketStream final : public Stream {
 public:
  SocketStream(tcp::socket& s, const std::atomic<bool>& stopping) : s_(s), stopping_(stopping) {}
  bool Send(std::string_view bytes) override {
    boost::system::error_code ec;
    asio::write(s_, asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }
  bool Stopping() const override { return stopping_.load(); }

 private:
  tcp::socket& s_;
  const std::atomic<bool>& stopping_;
};

Request ToRequest(const http::request<http::string_body>& req, const std::string& peer, bool* ok) {
  Request r;
  r.method = std::string(req.method_string());
  r.peer = peer;
  std::string_view target = req.target();
  size_t q = target.find('?');
  *ok = PercentDecode(target.substr(0, q), &r.path);
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      size_t amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      size_t eq = pair.find('=');
      std::string k, v;
      *ok = *ok && PercentDecode(pair.substr(0, eq), &k, true);
      if (eq != std::string_view::npos) *ok = *ok && PercentDecode(pair.substr(eq + 1), &v, true);
      if (!k.empty()) r.query[k] = v;
      if (amp == std::string_view::npos) break;
      rest = rest.substr(amp + 1);
    }
  }
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
  }
  r.body = req.body();
  for (std::string_view rest = target.substr(0, q); !rest.empty();) {
    size_t slash = rest.find('/');
    std::string part;
    *ok = *ok && PercentDecode(rest.substr(0, slash), &part);
    if (!part.empty()) r.segments.push_back(std::move(part));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return r;
}

const char* Reason(int status) {
  return http::obsolete_reason(static_cast<http::status>(status)).data();
}

}  // namespace

bool IsLoopback(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  boost::system::error_code ec;
  auto a = asio::ip::make_address(host, ec);
  return !ec && a.is_loopback();
}

void HttpServer::Impl::AcceptLoop() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket(ioc);
    acceptor.accept(socket, ec);
    if (stopping.load()) return;
    if (ec) {
      if (ec == asio::error::bad_descriptor || ec == asio::error::operation_aborted) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // EMFILE and the like: back off
      continue;
    }
    bool full;
    {
      std::lock_guard<std::mutex> l(mu);
      full = sessions >= options.max_connections;
      if (!full) {
        ++sessions;
        open[socket.native_handle()] = Session{std::chrono::steady_clock::now(), false};
      }
    }
    if (full) {
      // Say so, then let the client's request drain before closing (a close with unread data
      // is a reset, and the client would see that instead of the answer).
      static const std::string kBody = "{\"error\":\"too many connections; try again\"}";
      static const std::string kBusy = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                       "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
                                       std::to_string(kBody.size()) + "\r\n\r\n" + kBody;
      asio::write(socket, asio::buffer(kBusy), ec);
      socket.shutdown(tcp::socket::shutdown_send, ec);
      socket.non_blocking(true, ec);
      char drain[4096];
      for (int i = 0; i < 16 && !ec; ++i) {
        socket.read_some(asio::buffer(drain), ec);
        if (ec == asio::error::would_block) {
          ec.clear();
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }
      continue;
    }
    auto owned = std::make_unique<tcp::socket>(std::move(socket));
    std::thread([this, s = std::move(owned)]() mutable {
      int fd = s->native_handle();
      {
        std::unique_ptr<tcp::socket> sock = std::move(s);  // the capture is empty from here on
        Serve(*sock);
        boost::system::error_code ignored;
        sock->shutdown(tcp::socket::shutdown_both, ignored);
        std::lock_guard<std::mutex> l(mu);
        open.erase(fd);
        sock->close(ignored);
        sock.reset();
      }  // the socket is gone before Stop can see the count reach zero
      std::lock_guard<std::mutex> l(mu);
      --sessions;
      cv.notify_all();
    }).detach();
  }
}

// Blocking reads cannot time out in Asio (it polls again on EAGAIN): a kept-alive connection
// that sits idle past idle_timeout is shut down from here instead, so idle sockets cannot hold
// every session slot.
void HttpServer::Impl::ReapIdle() {
  std::unique_lock<std::mutex> l(mu);
  while (!stopped) {
    cv.wait_for(l, std::chrono::seconds(1));
    auto limit = std::chrono::steady_clock::now() - std::chrono::milliseconds(static_cast<int>(options.idle_timeout * 1000));
    for (auto& [fd, s] : open)
      if (!s.streaming && s.active < limit) ::shutdown(fd, SHUT_RDWR);
  }
}

void HttpServer::Impl::Serve(tcp::socket& socket) {
  int fd = socket.native_handle();
  std::string peer;
  {
    boost::system::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (!ec) peer = ep.address().to_string();
  }
  beast::flat_buffer buffer;
  for (;;) {
    boost::system::error_code ec;
    http::request_parser<http::string_body> parser;
    parser.body_limit(options.max_body);
    parser.header_limit(64 << 10);
    http::read(socket, buffer, parser, ec);
    Touch(fd, false);
    if (ec) {
      if (ec == http::error::body_limit) {
        http::response<http::string_body> res{http::status::payload_too_large, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = "{\"error\":\"request body larger than " + std::to_string(options.max_body) + " bytes\"}";
        res.keep_alive(false);
        res.prepare_payload();
        http::write(socket, res, ec);
      } else if (ec != http::error::end_of_stream && !stopping.load() &&
                 ec.category() == http::make_error_code(http::error::bad_target).category()) {
        http::response<http::string_body> res{http::status::bad_request, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = "{\"error\":\"malformed HTTP request: " + ec.message() + "\"}";
        res.keep_alive(false);
        res.prepare_payload();
        http::write(socket, res, ec);
      }
      return;
    }
    const auto& req = parser.get();
    bool ok = true;
    Request r = ToRequest(req, peer, &ok);
    Response resp;
    if (!ok) {
      resp.status = 400;
      resp.body = "{\"error\":\"malformed percent-encoding in the request target\"}";
    } else {
      Touch(fd, true);  // busy, not idle, while the handler works
      resp = handler(r);
      Touch(fd, false);
    }
    if (resp.stream && r.method == "GET") {
      std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                         "X-Content-Type-Options: nosniff\r\nConnection: close\r\n";
      for (const auto& [k, v] : resp.headers) head += k + ": " + v + "\r\n";
      head += "\r\n";
      Touch(fd, true);
      SocketStream stream(socket, stopping);
      if (stream.Send(head)) resp.stream(stream);
      return;
    }
    http::response<http::string_body> res{static_cast<http::status>(resp.status), req.version()};
    res.set(http::field::server, "specwright");
    res.set(http::field::content_type, resp.stream ? "text/event-stream" : resp.content_type);
    res.set("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : resp.headers) res.set(k, v);
    res.keep_alive(req.keep_alive() && !stopping.load());
    res.body() = std::move(resp.body);
    if (r.method == "HEAD") {
      res.content_length(res.body().size());
      res.body().clear();
    } else {
      res.prepare_payload();
    }
    bool keep = res.keep_alive();
    http::write(socket, res, ec);
    Touch(fd, false);
    if (ec || !keep) return;
  }
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpOptions& options, Handler handler) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(options.host == "localhost" ? "127.0.0.1" : options.host, ec);
  if (ec) return InvalidInput("--host \"" + options.host + "\" is not an IP address: " + ec.message());
  if (options.port < 0 || options.port > 65535)
    return InvalidInput("--port " + std::to_string(options.port) + " is not a port number (0-65535)");
  tcp::endpoint ep(addr, static_cast<unsigned short>(options.port));
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status(Code::kUnavailable, "cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " +
                                          ec.message());
  Impl* raw = impl.get();
  impl->accept_thread = std::thread([raw] { raw->AcceptLoop(); });
  impl->reaper = std::thread([raw] { raw->ReapIdle(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const {
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? -1 : ep.port();
}

void HttpServer::Stop() {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->stopping = true;
  impl_->cv.notify_all();
  // Wake the blocking accept: shut the listening socket down, then close it once joined.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  if (impl_->reaper.joinable()) impl_->reaper.join();
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  // Every session ends once its socket is shut down (event streams see Stopping() within a
  // poll); wait for all of them, since their threads use this object.
  std::unique_lock<std::mutex> l(impl_->mu);
  for (auto& [fd, s] : impl_->open) ::shutdown(fd, SHUT_RDWR);
  impl_->cv.wait(l, [&] { return impl_->sessions == 0; });
}

void HttpServer::Wait(const std::atomic<bool>* interrupt) {
  std::unique_lock<std::mutex> l(impl_->mu);
  while (!impl_->stopped && !(interrupt && interrupt->load()))
    impl_->cv.wait_for(l, std::chrono::milliseconds(100));
}

}  // namespace sw::server
