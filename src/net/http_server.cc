#include "net/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <deque>

namespace sw::net {

struct Connection {
  int fd = -1;
  std::string in;
  std::string out;
  std::deque<std::pair<IncomingRequest, bool>> ready;  // parsed requests and their keep-alive
  bool responding = false;
  bool closed = false;
  bool close_after_flush = false;
  bool want_write = false;
  bool sent_continue = false;
};

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const char* Reason(int s) {
  switch (s) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 529: return "Overloaded";
    default: return "Status";
  }
}

std::string Lower(std::string_view s) {
  std::string o(s);
  for (auto& ch : o) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return o;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// ParseChunked decodes a chunked body starting at data; returns bytes consumed, 0 if
/// incomplete, -1 if malformed.
long ParseChunked(std::string_view data, std::string* body, size_t max_body) {
  size_t pos = 0;
  for (;;) {
    size_t eol = data.find("\r\n", pos);
    if (eol == std::string_view::npos) return 0;
    std::string_view line = data.substr(pos, eol - pos);
    if (auto semi = line.find(';'); semi != std::string_view::npos) line = line.substr(0, semi);
    line = Trim(line);
    if (line.empty() || line.size() > 15) return -1;
    size_t n = 0;
    for (char ch : line) {
      if (!std::isxdigit(static_cast<unsigned char>(ch))) return -1;
      n = n * 16 + (std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0' : (std::tolower(ch) - 'a' + 10));
    }
    pos = eol + 2;
    if (n == 0) {
      // Trailers end with an empty line.
      size_t end = data.find("\r\n", pos);
      while (end != std::string_view::npos && end != pos) {
        pos = end + 2;
        end = data.find("\r\n", pos);
      }
      if (end == std::string_view::npos) return 0;
      return static_cast<long>(end + 2);
    }
    if (body->size() + n > max_body) return -2;
    if (data.size() < pos + n + 2) return 0;
    body->append(data.substr(pos, n));
    if (data.substr(pos + n, 2) != "\r\n") return -1;
    pos += n + 2;
  }
}

}  // namespace

// ---- ResponseWriter ----

bool ResponseWriter::closed() const {
  auto c = conn_.lock();
  return !c || c->closed;
}

void ResponseWriter::Begin(int status, const Headers& headers, bool chunked) {
  auto c = conn_.lock();
  if (!c || c->closed || begun_) return;
  begun_ = true;
  chunked_ = chunked;
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) + "\r\n";
  for (const auto& [k, v] : headers) head += k + ": " + v + "\r\n";
  if (chunked) head += "Transfer-Encoding: chunked\r\n";
  if (!keep_alive_) head += "Connection: close\r\n";
  head += "\r\n";
  server_->Output(*c, head);
  server_->Flush(c);
}

void ResponseWriter::Write(std::string_view data) {
  auto c = conn_.lock();
  if (!c || c->closed || !begun_ || ended_ || data.empty()) return;
  if (chunked_) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    server_->Output(*c, size);
    server_->Output(*c, data);
    server_->Output(*c, "\r\n");
  } else {
    server_->Output(*c, data);
  }
  server_->Flush(c);
}

void ResponseWriter::End() {
  auto c = conn_.lock();
  if (!c || c->closed || !begun_ || ended_) return;
  ended_ = true;
  if (chunked_) server_->Output(*c, "0\r\n\r\n");
  server_->Finished(c, keep_alive_);
}

void ResponseWriter::Send(int status, Headers headers, const std::string& body) {
  headers.emplace_back("Content-Length", std::to_string(body.size()));
  Begin(status, headers, false);
  Write(body);
  End();
}

void ResponseWriter::Abort() {
  auto c = conn_.lock();
  if (!c || c->closed) return;
  ended_ = true;
  server_->Close(*c);
}

void ResponseWriter::After(int delay_ms, std::function<void()> fn) {
  server_->timers_.push_back(HttpServer::Timer{NowMs() + std::max(0, delay_ms), server_->timer_seq_++, conn_, std::move(fn)});
  std::push_heap(server_->timers_.begin(), server_->timers_.end(), std::greater<>());
}

// ---- HttpServer ----

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options, Handler handler) {
  std::unique_ptr<HttpServer> s(new HttpServer(std::move(options), std::move(handler)));
  s->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->listen_fd_ < 0) return IoError(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(s->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(s->options_.port));
  if (::inet_pton(AF_INET, s->options_.host.c_str(), &addr.sin_addr) != 1)
    return InvalidInput("listen address \"" + s->options_.host + "\" is not an IPv4 address");
  if (::bind(s->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return IoError("bind " + s->options_.host + ":" + std::to_string(s->options_.port) + ": " + std::strerror(errno));
  if (::listen(s->listen_fd_, s->options_.backlog) != 0) return IoError(std::string("listen: ") + std::strerror(errno));
  socklen_t len = sizeof addr;
  ::getsockname(s->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  s->port_ = ntohs(addr.sin_port);
  s->epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  s->wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = s->listen_fd_;
  ::epoll_ctl(s->epoll_fd_, EPOLL_CTL_ADD, s->listen_fd_, &ev);
  ev.data.fd = s->wake_fd_;
  ::epoll_ctl(s->epoll_fd_, EPOLL_CTL_ADD, s->wake_fd_, &ev);
  HttpServer* raw = s.get();
  s->thread_ = std::thread([raw] { raw->Loop(); });
  return s;
}

HttpServer::~HttpServer() { Stop(); }

std::string HttpServer::base_url() const { return "http://" + options_.host + ":" + std::to_string(port_); }

void HttpServer::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> l(post_mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void HttpServer::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  thread_.join();
  for (auto& [fd, c] : conns_) {
    c->closed = true;
    ::close(fd);
  }
  conns_.clear();
  timers_.clear();
  for (int fd : {listen_fd_, epoll_fd_, wake_fd_})
    if (fd >= 0) ::close(fd);
  listen_fd_ = epoll_fd_ = wake_fd_ = -1;
}

void HttpServer::Loop() {
  std::vector<epoll_event> events(256);
  while (!stop_) {
    int timeout = -1;
    if (!timers_.empty()) timeout = static_cast<int>(std::max<int64_t>(0, timers_.front().at_ms - NowMs()));
    int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout);
    for (int i = 0; i < n && !stop_; ++i) {
      int fd = events[i].data.fd;
      if (fd == listen_fd_) {
        Accept();
        continue;
      }
      if (fd == wake_fd_) {
        uint64_t v;
        [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof v);
        std::vector<std::function<void()>> fns;
        {
          std::lock_guard<std::mutex> l(post_mu_);
          fns.swap(posted_);
        }
        for (auto& f : fns) f();
        continue;
      }
      auto it = conns_.find(fd);
      if (it == conns_.end()) continue;
      std::shared_ptr<Connection> c = it->second;
      if (events[i].events & (EPOLLERR | EPOLLHUP)) {
        Close(*c);
        continue;
      }
      if (events[i].events & EPOLLOUT) Flush(c);
      if (!c->closed && (events[i].events & EPOLLIN)) OnReadable(c);
    }
    int64_t now = NowMs();
    while (!timers_.empty() && timers_.front().at_ms <= now && !stop_) {
      std::pop_heap(timers_.begin(), timers_.end(), std::greater<>());
      Timer t = std::move(timers_.back());
      timers_.pop_back();
      auto c = t.conn.lock();
      if (c && !c->closed) t.fn();
    }
  }
}

void HttpServer::Accept() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: accepted everything pending (or EMFILE: try next wake)
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_shared<Connection>();
    c->fd = fd;
    conns_[fd] = c;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
}

void HttpServer::OnReadable(const std::shared_ptr<Connection>& c) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(c->fd, buf, sizeof buf, 0);
    if (n > 0) {
      c->in.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      Close(*c);
      return;
    }
    if (errno == EINTR) continue;
    break;
  }
  Parse(c);
  DispatchNext(c);
}

void HttpServer::Parse(const std::shared_ptr<Connection>& c) {
  while (!c->closed && !c->close_after_flush) {
    size_t head_end = c->in.find("\r\n\r\n");
    if (head_end == std::string::npos) {
      if (c->in.size() > 64 * 1024) Reject(c, 400, "request headers too large");
      return;
    }
    std::string_view head(c->in.data(), head_end);
    IncomingRequest req;
    size_t eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1 || !line.substr(sp2 + 1).starts_with("HTTP/1.")) {
      Reject(c, 400, "malformed request line");
      return;
    }
    req.method = std::string(line.substr(0, sp1));
    req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    bool http10 = line.substr(sp2 + 1) == "HTTP/1.0";
    size_t q = req.target.find('?');
    req.path = req.target.substr(0, q);
    req.query = q == std::string::npos ? "" : req.target.substr(q + 1);
    size_t pos = eol == std::string_view::npos ? head.size() : eol + 2;
    while (pos < head.size()) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string_view::npos) e = head.size();
      std::string_view h = head.substr(pos, e - pos);
      size_t colon = h.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        Reject(c, 400, "malformed header line");
        return;
      }
      req.headers.emplace_back(Lower(Trim(h.substr(0, colon))), std::string(Trim(h.substr(colon + 1))));
      pos = e + 2;
    }
    std::string conn = Lower(req.Header("connection"));
    bool keep_alive = http10 ? conn == "keep-alive" : conn != "close";
    size_t body_start = head_end + 4;
    std::string te = Lower(req.Header("transfer-encoding"));
    size_t consumed = 0;
    if (te.find("chunked") != std::string::npos) {
      long n = ParseChunked(std::string_view(c->in).substr(body_start), &req.body, options_.max_body);
      if (n == -2) return Reject(c, 413, "request body too large");
      if (n < 0) return Reject(c, 400, "malformed chunked body");
      if (n == 0) {
        if (!c->sent_continue && Lower(req.Header("expect")) == "100-continue") {
          c->sent_continue = true;
          Output(*c, "HTTP/1.1 100 Continue\r\n\r\n");
          Flush(c);
        }
        return;
      }
      consumed = body_start + static_cast<size_t>(n);
    } else {
      std::string cl = req.Header("content-length");
      size_t len = 0;
      if (!cl.empty()) {
        if (cl.find_first_not_of("0123456789") != std::string::npos || cl.size() > 18)
          return Reject(c, 400, "bad Content-Length");
        len = std::stoull(cl);
      }
      if (len > options_.max_body) return Reject(c, 413, "request body too large");
      if (c->in.size() < body_start + len) {
        if (!c->sent_continue && Lower(req.Header("expect")) == "100-continue") {
          c->sent_continue = true;
          Output(*c, "HTTP/1.1 100 Continue\r\n\r\n");
          Flush(c);
        }
        return;
      }
      req.body = c->in.substr(body_start, len);
      consumed = body_start + len;
    }
    c->in.erase(0, consumed);
    c->sent_continue = false;
    c->ready.emplace_back(std::move(req), keep_alive);
    if (!keep_alive) return;  // nothing after a closing request is served
  }
}

void HttpServer::DispatchNext(const std::shared_ptr<Connection>& c) {
  while (!c->closed && !c->responding && !c->ready.empty()) {
    auto [req, keep_alive] = std::move(c->ready.front());
    c->ready.pop_front();
    c->responding = true;
    std::shared_ptr<ResponseWriter> w(new ResponseWriter(this, c, keep_alive));
    try {
      handler_(req, w);
    } catch (const std::exception& e) {
      if (!w->begun()) w->Send(500, {{"Content-Type", "text/plain"}}, std::string("handler error: ") + e.what());
    } catch (...) {
      if (!w->begun()) w->Send(500, {{"Content-Type", "text/plain"}}, "handler error");
    }
    // A handler that answered synchronously has already moved on (Finished re-enters here).
    return;
  }
}

void HttpServer::Finished(const std::shared_ptr<Connection>& c, bool keep_alive) {
  c->responding = false;
  if (!keep_alive) {
    c->close_after_flush = true;
    c->ready.clear();
  }
  Flush(c);
  if (c->closed) return;
  Parse(c);
  DispatchNext(c);
}

void HttpServer::Output(Connection& c, std::string_view data) { c.out.append(data); }

void HttpServer::Flush(const std::shared_ptr<Connection>& c) {
  while (!c->closed && !c->out.empty()) {
    ssize_t n = ::send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c->out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    Close(*c);
    return;
  }
  if (c->closed) return;
  if (c->out.empty() && c->close_after_flush) {
    Close(*c);
    return;
  }
  UpdateInterest(*c);
}

void HttpServer::UpdateInterest(Connection& c) {
  bool want = !c.out.empty();
  if (want == c.want_write) return;
  c.want_write = want;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
  ev.data.fd = c.fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void HttpServer::Reject(const std::shared_ptr<Connection>& c, int status, const std::string& why) {
  std::string body = why + "\n";
  Output(*c, "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
                 "\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
                 "\r\n\r\n" + body);
  c->close_after_flush = true;
  c->ready.clear();
  c->in.clear();
  if (!c->responding) Flush(c);
}

void HttpServer::Close(Connection& c) {
  if (c.closed) return;
  c.closed = true;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  // Keep the object alive while writers still hold it; drop the map's reference.
  int fd = c.fd;
  c.fd = -1;
  conns_.erase(fd);
}

}  // namespace sw::net
