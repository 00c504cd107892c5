#include "net/http_client.h"

#include "base/clock.h"
#include "base/strings.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <cmath>

namespace sw::net {
namespace {

double SteadyNow() { return SystemClock::Default()->Now(); }

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

constexpr double kSweepInterval = 0.05;  // cancel and stall checks; bounds their latency

}  // namespace

const char* TransportName(Transport t) {
  switch (t) {
    case Transport::kOk: return "ok";
    case Transport::kConnect: return "connection failed";
    case Transport::kTimeoutConnect: return "connect timeout";
    case Transport::kTimeoutFirstByte: return "time-to-first-byte timeout";
    case Transport::kTimeoutFirstToken: return "time-to-first-token timeout";
    case Transport::kTimeoutIdle: return "idle timeout between stream chunks";
    case Transport::kTimeoutTotal: return "total timeout";
    case Transport::kCut: return "connection cut mid-response";
    case Transport::kCancelled: return "cancelled";
    case Transport::kAborted: return "aborted";
  }
  return "?";
}

std::string HeaderValue(const Headers& h, std::string_view lower_name) {
  for (const auto& [k, v] : h)
    if (k == lower_name) return v;
  return "";
}

struct HttpClient::Transfer {
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  curl_slist* resolve_list = nullptr;
  ClientRequest req;
  ClientHandlers handlers;
  std::shared_ptr<std::atomic<bool>> cancel;
  Headers response_headers;
  bool got_head = false;
  bool aborted = false;
  double started = 0;
  double last_byte = 0;  // 0 until the first body byte
  size_t index = 0;      // position in running_
  char error[CURL_ERROR_SIZE] = {0};

  ~Transfer() {
    if (easy) curl_easy_cleanup(easy);
    if (header_list) curl_slist_free_all(header_list);
    if (resolve_list) curl_slist_free_all(resolve_list);
  }

  static size_t OnHeader(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    std::string_view line(data, size * n);
    // A new status line (after 100 Continue or a redirect) starts a fresh header set.
    if (line.starts_with("HTTP/")) {
      t->response_headers.clear();
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
      t->response_headers.emplace_back(Lower(TrimView(line.substr(0, colon))),
                                       std::string(TrimView(line.substr(colon + 1))));
    }
    return size * n;
  }

  static size_t OnBody(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    t->last_byte = SteadyNow();
    if (!t->got_head) {
      t->got_head = true;
      if (t->handlers.on_head) t->handlers.on_head(t->Status(), t->response_headers);
    }
    if (t->handlers.on_body && !t->handlers.on_body(std::string_view(data, size * n))) {
      t->aborted = true;
      return 0;  // makes curl fail the transfer with CURLE_WRITE_ERROR
    }
    return size * n;
  }

  int Status() const {
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    return static_cast<int>(code);
  }
};

HttpClient::HttpClient() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  multi_ = curl_multi_init();
  // Reuse connections generously: a thousand concurrent calls to one host keep their sockets.
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 2048L);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  // Without these no transfer could ever run; there is no way on from here.
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    std::fprintf(stderr, "specwright: http client: cannot create its event loop: %s\n", std::strerror(errno));
    std::abort();
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &HttpClient::OnSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &HttpClient::OnTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  thread_ = std::thread([this] { Loop(); });
}

HttpClient::~HttpClient() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  Wake();
  thread_.join();
  curl_multi_cleanup(multi_);
  ::close(epoll_fd_);
  ::close(wake_fd_);
}

void HttpClient::Wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

int HttpClient::OnSocket(void*, int fd, int what, void* self, void* socketp) {
  auto* c = static_cast<HttpClient*>(self);
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(c->epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);  // curl forgets the socket itself
    return 0;
  }
  epoll_event ev{};
  ev.data.fd = fd;
  if (what & CURL_POLL_IN) ev.events |= EPOLLIN;
  if (what & CURL_POLL_OUT) ev.events |= EPOLLOUT;
  // socketp says whether we registered it before; fall back if the kernel disagrees (a
  // descriptor number reused after a close we did not see).
  int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(c->epoll_fd_, op, fd, &ev) != 0) {
    int other = op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(c->epoll_fd_, other, fd, &ev) != 0)
      std::fprintf(stderr, "specwright: http client: cannot watch socket %d: %s\n", fd, std::strerror(errno));
  }
  if (!socketp) curl_multi_assign(c->multi_, fd, c);  // non-null marks it registered
  return 0;
}

int HttpClient::OnTimer(void*, long timeout_ms, void* self) {
  auto* c = static_cast<HttpClient*>(self);
  c->curl_due_ = timeout_ms < 0 ? -1 : SteadyNow() + timeout_ms / 1000.0;
  return 0;
}

std::shared_ptr<HttpClient> HttpClient::Shared() {
  // Deliberately never destroyed: transfers may still be finishing while static destructors
  // run at exit, and their handlers reach into objects that are already gone.
  static auto* client = new std::shared_ptr<HttpClient>(std::make_shared<HttpClient>());
  return *client;
}

void HttpClient::Send(ClientRequest req, ClientHandlers handlers, std::shared_ptr<std::atomic<bool>> cancel) {
  auto t = std::make_unique<Transfer>();
  t->req = std::move(req);
  t->handlers = std::move(handlers);
  t->cancel = std::move(cancel);
  ++active_;
  {
    std::lock_guard<std::mutex> l(mu_);
    incoming_.push_back(std::move(t));
  }
  Wake();
}

void HttpClient::After(double delay, std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> l(mu_);
    timers_.push_back(Timer{SteadyNow() + std::max(0.0, delay), timer_seq_++, std::move(fn)});
    std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
  }
  Wake();
}

void HttpClient::StartTransfer(std::unique_ptr<Transfer> t) {
  CURL* e = curl_easy_init();
  t->easy = e;
  const auto& rq = t->req;
  curl_easy_setopt(e, CURLOPT_URL, rq.url.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  if (rq.method == "POST") {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(rq.body.size()));
  } else if (rq.method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq.method.c_str());
  }
  for (const auto& [k, v] : rq.headers) t->header_list = curl_slist_append(t->header_list, (k + ": " + v).c_str());
  // Without this curl waits up to a second for "100 Continue" on large bodies.
  t->header_list = curl_slist_append(t->header_list, "Expect:");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);
  if (!rq.resolve.empty()) {
    for (const auto& r : rq.resolve) t->resolve_list = curl_slist_append(t->resolve_list, r.c_str());
    curl_easy_setopt(e, CURLOPT_RESOLVE, t->resolve_list);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  }
  // No proxy for a pinned or direct transfer: a proxy would connect wherever it likes.
  if (rq.direct || !rq.resolve.empty()) curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
  if (rq.timeouts.connect > 0)
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(rq.timeouts.connect * 1000));
  if (rq.timeouts.total > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(rq.timeouts.total * 1000));
  t->started = SteadyNow();
  t->index = running_.size();
  running_.push_back(std::move(t));
  curl_multi_add_handle(multi_, e);
}

void HttpClient::Finish(Transfer* t, ClientResult r) {
  curl_multi_remove_handle(multi_, t->easy);
  r.headers = std::move(t->response_headers);
  size_t i = t->index;
  std::unique_ptr<Transfer> owned = std::move(running_[i]);
  if (i + 1 != running_.size()) {
    running_[i] = std::move(running_.back());
    running_[i]->index = i;
  }
  running_.pop_back();
  --active_;
  if (owned->handlers.on_done) owned->handlers.on_done(std::move(r));
}

void HttpClient::Sweep(double now) {
  // Walk backwards: Finish swaps the last transfer into the finished one's slot.
  for (size_t i = running_.size(); i-- > 0;) {
    if (i >= running_.size()) continue;
    Transfer* t = running_[i].get();
    const auto& to = t->req.timeouts;
    ClientResult r;
    if (t->cancel && t->cancel->load()) {
      r.transport = Transport::kCancelled;
    } else if (t->last_byte == 0 && to.first_byte > 0 && now - t->started > to.first_byte) {
      r.transport = Transport::kTimeoutFirstByte;
    } else if (to.first_token > 0 && now - t->started > to.first_token &&
               (t->req.token_seen ? !t->req.token_seen->load() : t->last_byte == 0)) {
      r.transport = Transport::kTimeoutFirstToken;
    } else if (t->last_byte > 0 && to.idle > 0 && now - t->last_byte > to.idle) {
      r.transport = Transport::kTimeoutIdle;
    } else {
      continue;
    }
    r.status = t->Status();  // headers may have come without a body byte (a stalled 429)
    r.message = TransportName(r.transport);
    Finish(t, std::move(r));
  }
}

void HttpClient::Collect() {
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
    if (m->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
    CURLcode code = m->data.result;
    ClientResult r;
    r.status = t->Status();
    if (code == CURLE_OK) {
      r.transport = Transport::kOk;
    } else if (t->aborted) {
      r.transport = Transport::kAborted;
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
      double connect_time = 0;
      curl_easy_getinfo(t->easy, CURLINFO_CONNECT_TIME, &connect_time);
      r.transport = connect_time > 0 ? Transport::kTimeoutTotal : Transport::kTimeoutConnect;
    } else if (code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_CONNECT ||
               code == CURLE_COULDNT_RESOLVE_PROXY || code == CURLE_SSL_CONNECT_ERROR ||
               code == CURLE_PEER_FAILED_VERIFICATION || (!t->got_head && code == CURLE_SEND_ERROR)) {
      r.transport = Transport::kConnect;
    } else {
      r.transport = Transport::kCut;
    }
    if (code != CURLE_OK) r.message = t->error[0] ? t->error : curl_easy_strerror(code);
    Finish(t, std::move(r));
  }
}

void HttpClient::Loop() {
  double last_sweep = 0;
  std::vector<epoll_event> events(256);
  int still = 0;
  for (;;) {
    std::deque<std::unique_ptr<Transfer>> incoming;
    std::vector<std::function<void()>> due;
    double now = SteadyNow();
    double next_timer = -1;
    bool stop;
    {
      std::lock_guard<std::mutex> l(mu_);
      stop = stop_;
      incoming.swap(incoming_);
      while (!timers_.empty() && timers_.front().at <= now) {
        std::pop_heap(timers_.begin(), timers_.end(), std::greater<>());
        due.push_back(std::move(timers_.back().fn));
        timers_.pop_back();
      }
      if (!timers_.empty()) next_timer = timers_.front().at;
    }
    if (stop) {
      for (auto& t : incoming) StartTransfer(std::move(t));
      while (!running_.empty()) {
        ClientResult r;
        r.transport = Transport::kCancelled;
        r.message = "client shut down";
        Finish(running_.back().get(), std::move(r));
      }
      return;
    }
    for (auto& t : incoming) StartTransfer(std::move(t));
    for (auto& fn : due) fn();

    // Sleep until a socket is ready, curl's own timer, one of ours, or the next sweep.
    now = SteadyNow();
    double wake_at = last_sweep + kSweepInterval;
    if (curl_due_ >= 0) wake_at = std::min(wake_at, curl_due_);
    if (next_timer >= 0) wake_at = std::min(wake_at, next_timer);
    int wait_ms = std::clamp(static_cast<int>(std::ceil((wake_at - now) * 1000)), 0,
                             static_cast<int>(kSweepInterval * 1000));
    // Idle (nothing to sweep): sleep until a timer or a wakeup, not 20 times a second.
    if (running_.empty() && curl_due_ < 0)
      wait_ms = next_timer < 0 ? -1 : std::max(0, static_cast<int>(std::ceil((next_timer - now) * 1000)));
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!incoming_.empty() || stop_) wait_ms = 0;
    }
    int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), wait_ms);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t v;
        [[maybe_unused]] ssize_t r = ::read(wake_fd_, &v, sizeof v);
        continue;
      }
      int flags = 0;
      if (events[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
      if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
      if (events[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
      curl_multi_socket_action(multi_, fd, flags, &still);
    }
    if (curl_due_ >= 0 && SteadyNow() >= curl_due_) {
      curl_due_ = -1;
      curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &still);
    }
    Collect();
    now = SteadyNow();
    if (now - last_sweep >= kSweepInterval) {
      Sweep(now);
      last_sweep = now;
    }
  }
}

}  // namespace sw::net
