#include "net/http_server.h"

#include "base/strings.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>

namespace sw::net {
namespace {

constexpr uint64_t kListenId = 0;
constexpr uint64_t kWakeId = 1;
constexpr size_t kMaxHead = 64 * 1024;      // request line + headers
constexpr size_t kMaxChunkLine = 1024;      // a chunk-size line with its extensions
constexpr size_t kMaxPipelined = 64;        // parsed requests waiting; beyond it we stop reading
constexpr int kLingerMs = 2000;             // how long a closing connection drains input
constexpr int kAcceptRetryMs = 100;         // pause after running out of file descriptors

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

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// HasToken reports whether a comma-separated header value (lower-cased) lists token.
bool HasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (Trim(list.substr(0, comma)) == token) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

bool IsTokenChar(char ch) {
  return std::isalnum(static_cast<unsigned char>(ch)) || std::strchr("!#$%&'*+-.^_`|~", ch) != nullptr;
}

bool IsToken(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar); }

/// ParseRequestLine fills method, target, path and query; http10 tells the version.
Status ParseRequestLine(std::string_view line, IncomingRequest* req, bool* http10) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return InvalidInput("malformed request line");
  std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return InvalidInput("malformed method");
  if (target.empty() || std::any_of(target.begin(), target.end(), [](char ch) { return ch <= ' ' || ch == 127; }))
    return InvalidInput("malformed target");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return InvalidInput("unsupported HTTP version");
  *http10 = version == "HTTP/1.0";
  req->method = std::string(method);
  req->target = std::string(target);
  size_t q = target.find('?');
  req->path = std::string(target.substr(0, q));
  req->query = q == std::string_view::npos ? "" : std::string(target.substr(q + 1));
  return Status::Ok();
}

/// ParseHeaderLines reads "Name: value" lines; names are lower-cased.
Status ParseHeaderLines(std::string_view lines, Headers* out) {
  while (!lines.empty()) {
    size_t eol = lines.find("\r\n");
    std::string_view h = lines.substr(0, eol);
    lines.remove_prefix(eol == std::string_view::npos ? lines.size() : eol + 2);
    size_t colon = h.find(':');
    // A name with surrounding space or an obsolete folded line is a smuggling risk: refuse it.
    if (colon == std::string_view::npos || !IsToken(h.substr(0, colon))) return InvalidInput("malformed header line");
    out->emplace_back(Lower(h.substr(0, colon)), std::string(Trim(h.substr(colon + 1))));
  }
  return Status::Ok();
}

/// ChunkedDecoder decodes a chunked request body incrementally, so a large body that
/// trickles in is scanned once.
class ChunkedDecoder {
 public:
  enum class Step { kNeedMore, kDone, kBad, kTooLarge };

  /// Consume decodes from data into body; *used says how many bytes of data it took.
  Step Consume(std::string_view data, size_t max_body, std::string* body, size_t* used) {
    *used = 0;
    for (;;) {
      std::string_view rest = data.substr(*used);
      if (state_ == State::kData) {
        size_t n = std::min(remaining_, rest.size());
        body->append(rest.substr(0, n));
        *used += n;
        remaining_ -= n;
        if (remaining_ > 0) return Step::kNeedMore;
        state_ = State::kDataEnd;
        continue;
      }
      if (state_ == State::kDataEnd) {
        if (rest.size() < 2) return Step::kNeedMore;
        if (rest.substr(0, 2) != "\r\n") return Step::kBad;
        *used += 2;
        state_ = State::kSize;
        continue;
      }
      size_t eol = rest.find("\r\n");
      size_t limit = state_ == State::kSize ? kMaxChunkLine : kMaxHead;
      if (eol == std::string_view::npos) return rest.size() > limit ? Step::kBad : Step::kNeedMore;
      std::string_view line = rest.substr(0, eol);
      *used += eol + 2;
      if (state_ == State::kTrailer) {
        if (line.empty()) return Step::kDone;  // trailers are read and dropped
        trailer_bytes_ += line.size();
        if (trailer_bytes_ > kMaxHead) return Step::kBad;
        continue;
      }
      std::optional<size_t> size = ParseSize(line);
      if (!size) return Step::kBad;
      if (body->size() + *size > max_body) return Step::kTooLarge;
      remaining_ = *size;
      state_ = *size == 0 ? State::kTrailer : State::kData;
    }
  }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer };

  static std::optional<size_t> ParseSize(std::string_view line) {
    line = Trim(line.substr(0, line.find(';')));  // chunk extensions are ignored
    if (line.empty() || line.size() > 15) return std::nullopt;
    size_t n = 0;
    for (char ch : line) {
      int d = std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0'
              : std::isxdigit(static_cast<unsigned char>(ch))
                  ? std::tolower(static_cast<unsigned char>(ch)) - 'a' + 10
                  : -1;
      if (d < 0) return std::nullopt;
      n = n * 16 + static_cast<size_t>(d);
    }
    return n;
  }

  State state_ = State::kSize;
  size_t remaining_ = 0;
  size_t trailer_bytes_ = 0;
};

}  // namespace

/// PartialRequest is a request whose head has been parsed and whose body is still arriving.
struct PartialRequest {
  IncomingRequest req;
  bool keep_alive = true;
  bool expect_continue = false;
  bool continue_sent = false;
  std::optional<ChunkedDecoder> chunked;  // set for Transfer-Encoding: chunked
  size_t content_left = 0;               // Content-Length bytes still to come otherwise
};

/// Parsed is a complete request waiting its turn, or an error to answer in its place.
struct Parsed {
  IncomingRequest req;
  bool keep_alive = true;
  int reject_status = 0;
  std::string reject_why;
};

struct HttpConnection {
  uint64_t id = 0;
  int fd = -1;
  std::string in;      // received bytes; [in_pos, size) not yet parsed
  size_t in_pos = 0;
  std::string out;     // bytes to send; [out_pos, size) not yet accepted by the kernel
  size_t out_pos = 0;
  uint32_t interest = 0;  // epoll events currently registered
  std::optional<PartialRequest> partial;
  std::deque<Parsed> ready;
  bool responding = false;         // a handler's response is in progress
  bool dispatching = false;        // DispatchNext is on the stack (stops recursion)
  bool no_more_requests = false;   // a closing request or an error was parsed; input is dropped
  bool close_after_flush = false;
  bool lingering = false;          // write side shut; draining input until EOF or timeout
  bool peer_eof = false;
  bool closed = false;
  bool flush_soon = false;         // queued in HttpServer::flush_soon_
};

// ---- ResponseWriter ----

std::shared_ptr<HttpConnection> ResponseWriter::Live() const {
  auto c = conn_.lock();
  return c && !c->closed ? c : nullptr;
}

ResponseWriter::~ResponseWriter() {
  if (ended_ || !Live()) return;
  if (begun_) {
    Abort();
  } else {
    Send(500, {{"Content-Type", "text/plain"}}, "handler dropped the response\n");
  }
}

bool ResponseWriter::closed() const { return !Live(); }

void ResponseWriter::Begin(int status, const Headers& headers, bool chunked) {
  auto c = Live();
  if (!c || begun_ || ended_) return;
  begun_ = true;
  chunked_ = chunked;
  bool has_length = false, has_connection = false;
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) + "\r\n";
  for (const auto& [k, v] : headers) {
    std::string name = Lower(k);
    has_length |= name == "content-length";
    if (name == "connection") {
      has_connection = true;
      if (HasToken(Lower(v), "close")) keep_alive_ = false;
    }
    head += k + ": " + v + "\r\n";
  }
  bool bodyless = status < 200 || status == 204 || status == 304;
  // Without a length or chunking, only closing the connection tells the client the body ended.
  if (!chunked && !has_length && !bodyless) keep_alive_ = false;
  if (chunked) head += "Transfer-Encoding: chunked\r\n";
  if (!keep_alive_ && !has_connection) head += "Connection: close\r\n";
  head += "\r\n";
  server_->Output(*c, head);
  server_->FlushSoon(c);
}

size_t ResponseWriter::Unsent() const {
  auto c = Live();
  return c && !c->closed ? c->out.size() - c->out_pos : 0;
}

void ResponseWriter::Write(std::string_view data) {
  auto c = Live();
  // An empty chunk would read as the terminating one.
  if (!c || !begun_ || ended_ || data.empty()) return;
  if (chunked_) {
    char size[24];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    server_->Output(*c, size);
    server_->Output(*c, data);
    server_->Output(*c, "\r\n");
  } else {
    server_->Output(*c, data);
  }
  server_->FlushSoon(c);
}

void ResponseWriter::End() {
  auto c = Live();
  if (!c || !begun_ || ended_) return;
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
  ended_ = true;
  if (auto c = Live()) {
    server_->Flush(c);  // what was written before the cut goes out, as far as the socket takes it now
    if (!c->closed) server_->Close(*c);
  }
}

void ResponseWriter::After(int delay_ms, std::function<void()> fn) {
  // Checked first: once the connection is gone the server itself may be gone too.
  if (!Live()) return;
  server_->AddTimer(delay_ms, conn_, true, std::move(fn));
}

// ---- HttpServer: lifecycle ----

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options, Handler handler) {
  std::unique_ptr<HttpServer> s(new HttpServer(std::move(options), std::move(handler)));
  SW_RETURN_IF_ERROR(s->Listen());
  s->epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  s->wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s->epoll_fd_ < 0 || s->wake_fd_ < 0) return IoError(std::string("epoll/eventfd: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenId;
  ::epoll_ctl(s->epoll_fd_, EPOLL_CTL_ADD, s->listen_fd_, &ev);
  ev.data.u64 = kWakeId;
  ::epoll_ctl(s->epoll_fd_, EPOLL_CTL_ADD, s->wake_fd_, &ev);
  HttpServer* raw = s.get();
  s->thread_ = std::thread([raw] { raw->Loop(); });
  return s;
}

Status HttpServer::Listen() {
  addrinfo hints{}, *found = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  std::string where = options_.host + ":" + std::to_string(options_.port);
  if (::getaddrinfo(options_.host.c_str(), std::to_string(options_.port).c_str(), &hints, &found) != 0 || !found)
    return InvalidInput("listen address " + where + " is not an IPv4 address or host name");
  sockaddr_in addr;
  std::memcpy(&addr, found->ai_addr, sizeof addr);
  ::freeaddrinfo(found);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return IoError(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return IoError("bind " + where + ": " + std::strerror(errno));
  if (::listen(listen_fd_, options_.backlog) != 0) return IoError(std::string("listen: ") + std::strerror(errno));
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  return Status::Ok();
}

HttpServer::~HttpServer() { Stop(); }

std::string HttpServer::base_url() const {
  std::string host = options_.host == "0.0.0.0" ? "127.0.0.1" : options_.host;
  return "http://" + host + ":" + std::to_string(port_);
}

void HttpServer::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> l(post_mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void HttpServer::Stop() {
  stop_ = true;
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id()) return;  // the owner joins later
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    thread_.join();
  }
  // The loop has exited: what follows runs on the only thread that touches this state.
  for (auto& [id, c] : conns_) {
    c->closed = true;
    ::close(c->fd);
  }
  conns_.clear();
  timers_.clear();
  {
    std::lock_guard<std::mutex> l(post_mu_);
    posted_.clear();
  }
  for (int* fd : {&listen_fd_, &epoll_fd_, &wake_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

// ---- HttpServer: the loop ----

void HttpServer::Loop() {
  std::vector<epoll_event> events(512);
  while (!stop_) {
    int timeout = timers_.empty() ? -1 : static_cast<int>(std::max<int64_t>(0, timers_.front().at_ms - NowMs()));
    int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout);
    for (int i = 0; i < n && !stop_; ++i) {
      uint64_t id = events[i].data.u64;
      if (id == kListenId) {
        Accept();
      } else if (id == kWakeId) {
        RunPosted();
      } else if (auto it = conns_.find(id); it != conns_.end()) {
        OnEvent(ConnPtr(it->second), events[i].events);  // a copy: Close erases the map entry
      }
    }
    if (!stop_) RunDueTimers();
    FlushPending();
  }
}

void HttpServer::FlushSoon(const ConnPtr& c) {
  if (c->flush_soon) return;
  c->flush_soon = true;
  flush_soon_.push_back(c);
}

void HttpServer::FlushPending() {
  std::vector<ConnPtr> due;
  due.swap(flush_soon_);
  for (auto& c : due) {
    c->flush_soon = false;
    if (!c->closed) Flush(c);
  }
}

void HttpServer::RunPosted() {
  uint64_t v;
  [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof v);
  std::vector<std::function<void()>> fns;
  {
    std::lock_guard<std::mutex> l(post_mu_);
    fns.swap(posted_);
  }
  for (auto& f : fns) {
    try {
      f();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "http server: posted function threw: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "http server: posted function threw\n");
    }
  }
}

void HttpServer::AddTimer(int delay_ms, std::weak_ptr<HttpConnection> conn, bool bound, std::function<void()> fn) {
  timers_.push_back(Timer{NowMs() + std::max(0, delay_ms), timer_seq_++, bound, std::move(conn), std::move(fn)});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
}

void HttpServer::RunDueTimers() {
  int64_t now = NowMs();
  while (!timers_.empty() && timers_.front().at_ms <= now && !stop_) {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<>());
    Timer t = std::move(timers_.back());
    timers_.pop_back();
    ConnPtr c = t.conn.lock();
    if (t.bound && (!c || c->closed)) continue;
    try {
      t.fn();
    } catch (...) {
      // The response it was writing cannot be trusted any more; the server carries on.
      if (c) Close(*c);
    }
  }
}

void HttpServer::Accept() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) PauseAccepting();
      return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_shared<HttpConnection>();
    c->id = next_conn_id_++;
    c->fd = fd;
    c->interest = EPOLLIN;
    conns_[c->id] = c;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = c->id;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
}

void HttpServer::PauseAccepting() {
  // Level-triggered, the pending connection would wake us forever while no descriptor is free.
  epoll_event ev{};
  ev.data.u64 = kListenId;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
  AddTimer(kAcceptRetryMs, {}, false, [this] {
    epoll_event on{};
    on.events = EPOLLIN;
    on.data.u64 = kListenId;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &on);
  });
}

void HttpServer::OnEvent(const ConnPtr& c, uint32_t events) {
  if (events & (EPOLLERR | EPOLLHUP)) return Close(*c);
  if (events & EPOLLOUT) Flush(c);
  if (!c->closed && (events & EPOLLIN)) OnReadable(c);
}

// ---- HttpServer: reading and parsing ----

namespace {
/// Reading says whether to take more input; a full queue of waiting requests pushes back.
bool Reading(const HttpConnection& c) { return !c.peer_eof && c.ready.size() < kMaxPipelined; }
}  // namespace

void HttpServer::OnReadable(const ConnPtr& c) {
  char buf[16384];
  while (Reading(*c)) {
    ssize_t n = ::recv(c->fd, buf, sizeof buf, 0);
    if (n > 0) {
      if (c->no_more_requests || c->lingering) continue;  // nothing after a final request is served
      c->in.append(buf, static_cast<size_t>(n));
      ParseInput(c);  // now, so that body bytes move out of `in` as they arrive
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) return Close(*c);
    OnPeerEof(c);
    break;
  }
  if (!c->closed) DispatchNext(c);
}

void HttpServer::OnPeerEof(const ConnPtr& c) {
  c->peer_eof = true;
  c->partial.reset();  // its body can never complete
  // A half-closed client still gets the answers it asked for; otherwise nothing is owed.
  if (c->lingering || (!c->responding && c->ready.empty())) return Close(*c);
  UpdateInterest(*c);
}

void HttpServer::ParseInput(const ConnPtr& c) {
  while (!c->no_more_requests && c->ready.size() < kMaxPipelined) {
    if (!c->partial && !ParseHead(*c)) break;
    if (!ParseBody(*c)) {
      MaybeContinue(c);
      break;
    }
    Parsed p{std::move(c->partial->req), c->partial->keep_alive, 0, {}};
    c->partial.reset();
    c->no_more_requests = !p.keep_alive;
    c->ready.push_back(std::move(p));
  }
  // Compact once per call, not per request, so a burst of pipelined requests stays linear.
  if (c->in_pos == c->in.size()) {
    c->in.clear();
    c->in_pos = 0;
  } else if (c->in_pos > kMaxHead) {
    c->in.erase(0, c->in_pos);
    c->in_pos = 0;
  }
}

bool HttpServer::ParseHead(HttpConnection& c) {
  // Stray CRLFs between requests are allowed (RFC 9112 section 2.2).
  while (c.in.compare(c.in_pos, 2, "\r\n") == 0) c.in_pos += 2;
  std::string_view rest = std::string_view(c.in).substr(c.in_pos);
  size_t end = rest.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (rest.size() > kMaxHead) Reject(c, 400, "request head too large");
    return false;
  }
  std::string_view head = rest.substr(0, end);
  size_t eol = std::min(head.find("\r\n"), head.size());
  PartialRequest p;
  bool http10 = false;
  Status s = ParseRequestLine(head.substr(0, eol), &p.req, &http10);
  if (s.ok()) s = ParseHeaderLines(head.substr(std::min(eol + 2, head.size())), &p.req.headers);
  if (!s.ok()) {
    Reject(c, 400, s.message());
    return false;
  }
  c.in_pos += end + 4;
  std::string connection = Lower(p.req.Header("connection"));
  p.keep_alive = http10 ? HasToken(connection, "keep-alive") : !HasToken(connection, "close");
  p.expect_continue = !http10 && Lower(p.req.Header("expect")) == "100-continue";
  std::string te = Lower(p.req.Header("transfer-encoding"));
  std::string cl = p.req.Header("content-length");
  if (!te.empty()) {
    // Only chunked framing is understood; anything else leaves the body length unknown.
    if (te != "chunked") {
      Reject(c, 400, "unsupported Transfer-Encoding");
      return false;
    }
    p.chunked.emplace();
  } else if (!cl.empty()) {
    if (cl.size() > 18 || cl.find_first_not_of("0123456789") != std::string::npos) {
      Reject(c, 400, "bad Content-Length");
      return false;
    }
    p.content_left = std::stoull(cl);
    if (p.content_left > options_.max_body) {
      Reject(c, 413, "request body too large");
      return false;
    }
  }
  c.partial = std::move(p);
  return true;
}

bool HttpServer::ParseBody(HttpConnection& c) {
  PartialRequest& p = *c.partial;
  std::string_view rest = std::string_view(c.in).substr(c.in_pos);
  if (!p.chunked) {
    size_t n = std::min(p.content_left, rest.size());
    p.req.body.append(rest.substr(0, n));
    c.in_pos += n;
    p.content_left -= n;
    return p.content_left == 0;
  }
  size_t used = 0;
  ChunkedDecoder::Step step = p.chunked->Consume(rest, options_.max_body, &p.req.body, &used);
  c.in_pos += used;
  if (step == ChunkedDecoder::Step::kBad) Reject(c, 400, "malformed chunked body");
  if (step == ChunkedDecoder::Step::kTooLarge) Reject(c, 413, "request body too large");
  return step == ChunkedDecoder::Step::kDone;
}

void HttpServer::MaybeContinue(const ConnPtr& c) {
  // Only the request at the head of the line may get it, or it would land inside the
  // response still being written for an earlier one.
  if (!c->partial || !c->partial->expect_continue || c->partial->continue_sent) return;
  if (c->responding || !c->ready.empty()) return;
  c->partial->continue_sent = true;
  Output(*c, "HTTP/1.1 100 Continue\r\n\r\n");
  Flush(c);
}

void HttpServer::Reject(HttpConnection& c, int status, std::string why) {
  // Queued behind earlier requests, so their responses are not interleaved with this one.
  c.ready.push_back(Parsed{{}, false, status, std::move(why)});
  c.partial.reset();
  c.no_more_requests = true;
  c.in.clear();
  c.in_pos = 0;
}

// ---- HttpServer: responding ----

void HttpServer::DispatchNext(const ConnPtr& c) {
  if (c->dispatching) return;  // a handler answered synchronously; the loop below goes on
  c->dispatching = true;
  while (!c->closed && !c->responding && !c->close_after_flush) {
    ParseInput(c);  // reading may have paused while the queue was full
    if (c->ready.empty()) break;
    Parsed p = std::move(c->ready.front());
    c->ready.pop_front();
    if (p.reject_status != 0) {
      SendError(c, p.reject_status, p.reject_why);
      break;
    }
    c->responding = true;
    RunHandler(c, p.req, p.keep_alive);
  }
  c->dispatching = false;
  if (!c->closed) UpdateInterest(*c);
}

void HttpServer::RunHandler(const ConnPtr& c, IncomingRequest& req, bool keep_alive) {
  std::shared_ptr<ResponseWriter> w(new ResponseWriter(this, c, keep_alive));
  std::string error;
  try {
    handler_(req, w);
    return;
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception";
  }
  if (!w->begun()) {
    w->Send(500, {{"Content-Type", "text/plain"}}, "handler error: " + error + "\n");
  } else if (!w->ended_) {
    w->Abort();  // half a response cannot be finished honestly
  }
}

void HttpServer::SendError(const ConnPtr& c, int status, const std::string& why) {
  std::string body = why + "\n";
  Output(*c, "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
                 "\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
                 "\r\n\r\n" + body);
  c->close_after_flush = true;
  Flush(c);
}

void HttpServer::Finished(const ConnPtr& c, bool keep_alive) {
  c->responding = false;
  if (!keep_alive || (c->peer_eof && c->ready.empty())) {
    c->close_after_flush = true;
    c->no_more_requests = true;
    c->ready.clear();
  }
  Flush(c);
  if (!c->closed && !c->close_after_flush) DispatchNext(c);
}

void HttpServer::Output(HttpConnection& c, std::string_view data) { c.out.append(data); }

void HttpServer::Flush(const ConnPtr& c) {
  while (!c->closed && c->out_pos < c->out.size()) {
    ssize_t n = ::send(c->fd, c->out.data() + c->out_pos, c->out.size() - c->out_pos, MSG_NOSIGNAL);
    if (n > 0) {
      c->out_pos += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      return Close(*c);  // the peer went away
    }
  }
  if (c->closed) return;
  // Sent bytes are dropped lazily so a large backlog is not shifted on every partial send.
  if (c->out_pos == c->out.size()) {
    c->out.clear();
    c->out_pos = 0;
    if (c->close_after_flush && !c->lingering) return Linger(c);
  } else if (c->out_pos > (1u << 20) && c->out_pos * 2 > c->out.size()) {
    c->out.erase(0, c->out_pos);
    c->out_pos = 0;
  }
  UpdateInterest(*c);
}

void HttpServer::Linger(const ConnPtr& c) {
  // Closing with unread input makes the kernel send RST, which can destroy the response the
  // client has not read yet (a 413 racing its upload). Shut the write side and drain first.
  if (c->peer_eof) return Close(*c);
  c->lingering = true;
  ::shutdown(c->fd, SHUT_WR);
  AddTimer(kLingerMs, c, true, [this, w = std::weak_ptr<HttpConnection>(c)] {
    if (auto conn = w.lock()) Close(*conn);
  });
  UpdateInterest(*c);
}

void HttpServer::UpdateInterest(HttpConnection& c) {
  // Bytes waiting for FlushPending at the end of this turn need no EPOLLOUT yet.
  bool unsent = c.out_pos < c.out.size() && !c.flush_soon;
  uint32_t want = (Reading(c) ? uint32_t{EPOLLIN} : 0u) | (unsent ? uint32_t{EPOLLOUT} : 0u);
  if (want == c.interest) return;
  c.interest = want;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = c.id;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void HttpServer::Close(HttpConnection& c) {
  if (c.closed) return;
  c.closed = true;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  c.fd = -1;
  c.ready.clear();
  c.partial.reset();
  // Writers and timers hold weak references; the object dies with the last local copy.
  conns_.erase(c.id);
}

}  // namespace sw::net
