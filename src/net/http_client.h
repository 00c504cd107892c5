// net::HttpClient: every outgoing HTTP call in the process runs on one libcurl multi loop
// (one thread, many transfers), so a thousand concurrent streamed model calls cost a thousand
// sockets, not a thousand threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace sw::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// Timeouts, in seconds (<=0: none). first_byte runs from the start of the call to the first
/// body byte; first_token from the start to the moment the caller sets token_seen (a stream
/// that sends keep-alive pings or an empty role chunk first has bytes long before a token);
/// idle is the longest gap between body bytes once they flow.
struct HttpTimeouts {
  double connect = 10;
  double first_byte = 120;
  double first_token = 120;
  double idle = 60;
  double total = 900;
};

struct ClientRequest {
  std::string method = "POST";
  std::string url;
  Headers headers;
  std::string body;
  HttpTimeouts timeouts;
  /// Set by the caller's body handler when the first real token arrives; null: the first
  /// body byte counts (timeouts.first_token then acts like first_byte).
  std::shared_ptr<std::atomic<bool>> token_seen;
  /// Pinned addresses, curl's CURLOPT_RESOLVE entries "HOST:PORT:ADDR[,ADDR...]": the transfer
  /// connects only there, whatever DNS says by then (a webhook's resolved and checked address
  /// cannot be moved by DNS rebinding). Redirects are never followed.
  std::vector<std::string> resolve;
  /// Never through a proxy (CURLOPT_NOPROXY "*"), whatever http_proxy/https_proxy say: a
  /// proxy would connect from its own machine, past any check of the address. Implied by a
  /// non-empty resolve; webhooks set it on every delivery (an IPv6 literal goes unpinned).
  bool direct = false;
};

enum class Transport {
  kOk,               // a complete HTTP response arrived (any status)
  kConnect,          // could not connect / resolve / TLS
  kTimeoutConnect,
  kTimeoutFirstByte,
  kTimeoutFirstToken,
  kTimeoutIdle,
  kTimeoutTotal,
  kCut,              // the connection broke in the middle of the response
  kCancelled,
  kAborted,          // the body handler asked to stop
};

const char* TransportName(Transport t);

struct ClientResult {
  Transport transport = Transport::kOk;
  int status = 0;      // HTTP status, 0 when none arrived
  Headers headers;     // response headers, names lower-cased
  std::string message; // transport error text (never contains request headers)
};

/// Handlers run on the client's loop thread and must not block.
struct ClientHandlers {
  /// The status line and headers, once, before the first body byte.
  std::function<void(int status, const Headers& headers)> on_head;
  /// Body bytes as they arrive; return false to abort the transfer (Transport::kAborted).
  std::function<bool(std::string_view)> on_body;
  /// Exactly once, last.
  std::function<void(ClientResult)> on_done;
};

/// HeaderValue finds a lower-cased header name ("" when absent).
std::string HeaderValue(const Headers& h, std::string_view lower_name);

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();  // finishes every transfer still running with kCancelled
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Shared process-wide client (started on first use).
  static std::shared_ptr<HttpClient> Shared();

  /// Send starts a transfer; safe from any thread. Setting *cancel (may be null) ends it
  /// with kCancelled within ~50 ms.
  void Send(ClientRequest req, ClientHandlers handlers, std::shared_ptr<std::atomic<bool>> cancel);
  /// After runs fn on the loop thread after delay seconds (timers for rate limiters).
  void After(double delay, std::function<void()> fn);
  /// Number of transfers in flight (for tests and benchmarks).
  int active() const { return active_.load(); }

 private:
  struct Transfer;
  struct Timer {
    double at;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Timer& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  void Loop();
  void Wake();
  void StartTransfer(std::unique_ptr<Transfer> t);
  void Finish(Transfer* t, ClientResult r);
  void Collect();  // finished transfers from curl
  void Sweep(double now);
  static int OnSocket(void* easy, int fd, int what, void* self, void* socketp);
  static int OnTimer(void* multi, long timeout_ms, void* self);
  void* multi_ = nullptr;
  // curl tells us which sockets to watch and when to call it back (multi_socket_action), so
  // a turn of the loop touches only the sockets that are ready, not all thousand.
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  double curl_due_ = -1;  // steady seconds when curl wants CURL_SOCKET_TIMEOUT; <0 none
  std::thread thread_;
  std::mutex mu_;
  bool stop_ = false;
  std::deque<std::unique_ptr<Transfer>> incoming_;
  std::vector<Timer> timers_;  // heap, guarded by mu_
  uint64_t timer_seq_ = 0;
  std::vector<std::unique_ptr<Transfer>> running_;  // loop thread only
  std::atomic<int> active_{0};
};

}  // namespace sw::net
