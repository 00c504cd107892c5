// HttpServer on loopback, driven by plain POSIX sockets so the bytes on the wire are what is
// checked: framing, keep-alive, pipelining, streaming with timers, errors, scale, shutdown.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <future>
#include <thread>

#include "net/http_server.h"

namespace sw::net {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// Reply is one response as the client saw it; complete is false when the peer closed early.
struct Reply {
  int status = 0;
  Headers headers;  // names lower-cased
  std::string body;
  std::vector<std::string> chunks;
  bool complete = false;
  std::string Header(std::string_view name) const { return HeaderValue(headers, name); }
};

/// Client is a blocking loopback connection with a read buffer, so responses that arrive
/// back to back (pipelining) are split correctly.
class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
    timeval tv{10, 0};  // a hung server fails the test instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int fd() const { return fd_; }

  void Send(std::string_view s) {
    ASSERT_EQ(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size())) << std::strerror(errno);
  }

  /// Read returns one response, reading as much as it needs.
  Reply Read() {
    Reply r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill()) return r;
    std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    r.status = std::atoi(head.c_str() + 9);
    for (size_t pos = head.find("\r\n"); pos != std::string::npos;) {
      size_t next = head.find("\r\n", pos + 2);
      std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      size_t value = line.find_first_not_of(' ', colon + 1);
      r.headers.emplace_back(name, value == std::string::npos ? "" : line.substr(value));
      pos = next;
    }
    if (r.Header("transfer-encoding") == "chunked") {
      r.complete = ReadChunks(&r);
    } else if (!r.Header("content-length").empty()) {
      size_t n = std::stoul(r.Header("content-length"));
      r.complete = Take(n, &r.body);
    } else if (r.status >= 200) {
      while (Fill()) {
      }
      r.body.swap(buf_);
      r.complete = true;  // the body ends where the connection does
    } else {
      r.complete = true;  // 1xx: head only
    }
    return r;
  }

  /// AtEof waits for the peer to close; it is false if more data arrives instead.
  bool AtEof() { return buf_.empty() && !Fill(); }

 private:
  bool Fill() {
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  bool Take(size_t n, std::string* out) {
    while (buf_.size() < n)
      if (!Fill()) return false;
    out->append(buf_, 0, n);
    buf_.erase(0, n);
    return true;
  }

  bool ReadChunks(Reply* r) {
    for (;;) {
      size_t eol;
      while ((eol = buf_.find("\r\n")) == std::string::npos)
        if (!Fill()) return false;
      size_t n = std::stoul(buf_.substr(0, eol), nullptr, 16);
      buf_.erase(0, eol + 2);
      std::string chunk;
      if (!Take(n + 2, &chunk)) return false;  // data and its CRLF
      if (n == 0) return true;
      chunk.resize(n);
      r->chunks.push_back(chunk);
      r->body += chunk;
    }
  }

  int fd_ = -1;
  std::string buf_;
};

std::unique_ptr<HttpServer> StartOrDie(HttpServer::Handler h, HttpServerOptions o = {}) {
  auto s = HttpServer::Start(std::move(o), std::move(h));
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? std::move(s).value() : nullptr;
}

/// Echo answers "METHOD path?query|x-test header|body".
void Echo(const IncomingRequest& r, std::shared_ptr<ResponseWriter> w) {
  w->Send(200, {{"Content-Type", "text/plain"}}, r.method + " " + r.path + "?" + r.query + "|" + r.Header("x-test") + "|" + r.body);
}

TEST(HttpServerTest, SimpleRequestWithContentLength) {
  auto s = StartOrDie(Echo);
  EXPECT_EQ(s->base_url(), "http://127.0.0.1:" + std::to_string(s->port()));
  Client c(s->port());
  c.Send("POST /v1/chat?stream=1 HTTP/1.1\r\nHost: x\r\nX-TEST:  Mixed Case \r\nContent-Length: 5\r\n\r\nhello");
  Reply r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.body, "POST /v1/chat?stream=1|Mixed Case|hello");
  EXPECT_EQ(r.Header("content-length"), std::to_string(r.body.size()));
  EXPECT_EQ(r.Header("connection"), "") << "HTTP/1.1 keeps the connection by default";
}

TEST(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  auto s = StartOrDie(Echo);
  Client c(s->port());
  c.Send("GET /one HTTP/1.1\r\n\r\n");
  EXPECT_EQ(c.Read().body, "GET /one?||");
  c.Send("GET /two HTTP/1.1\r\nConnection: close\r\n\r\n");
  Reply r = c.Read();
  EXPECT_EQ(r.body, "GET /two?||");
  EXPECT_EQ(r.Header("connection"), "close");
  EXPECT_TRUE(c.AtEof()) << "Connection: close is honoured";
}

TEST(HttpServerTest, PipelinedRequestsAnswerInOrderEvenWhenTheFirstIsSlow) {
  auto s = StartOrDie([](const IncomingRequest& r, std::shared_ptr<ResponseWriter> w) {
    if (r.path == "/slow") return w->After(100, [w] { w->Send(200, {}, "slow"); });
    w->Send(200, {}, r.path);
  });
  Client c(s->port());
  c.Send("GET /slow HTTP/1.1\r\n\r\nGET /a HTTP/1.1\r\n\r\n\r\nGET /slow HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
  for (const char* want : {"slow", "/a", "slow", "/b"}) EXPECT_EQ(c.Read().body, want);
}

TEST(HttpServerTest, ChunkedStreamWithDelays) {
  auto s = StartOrDie([](const IncomingRequest& r, std::shared_ptr<ResponseWriter> w) {
    if (r.path != "/stream") return w->Send(200, {}, "after");
    w->Begin(200, {{"Content-Type", "text/event-stream"}}, true);
    for (int i = 0; i < 5; ++i) w->After(40 * (i + 1), [w, i] { w->Write("data: " + std::to_string(i) + "\n\n"); });
    w->After(240, [w] { w->End(); });
  });
  Client c(s->port());
  auto t0 = Clock::now();
  c.Send("GET /stream HTTP/1.1\r\n\r\n");
  Reply r = c.Read();
  EXPECT_GE(SecondsSince(t0), 0.235);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.Header("content-type"), "text/event-stream");
  ASSERT_EQ(r.chunks.size(), 5u);
  EXPECT_EQ(r.chunks[4], "data: 4\n\n");
  c.Send("GET /next HTTP/1.1\r\n\r\n");
  EXPECT_EQ(c.Read().body, "after") << "the connection is reused after the last chunk";
}

TEST(HttpServerTest, AbortCutsTheStreamBeforeTheLastChunk) {
  auto s = StartOrDie([](const IncomingRequest&, std::shared_ptr<ResponseWriter> w) {
    w->Begin(200, {}, true);
    w->Write("partial");
    w->After(30, [w] {
      w->Abort();
      EXPECT_TRUE(w->closed());
      w->Write("ignored");
    });
  });
  Client c(s->port());
  c.Send("GET / HTTP/1.1\r\n\r\n");
  Reply r = c.Read();
  EXPECT_FALSE(r.complete) << "EOF came before the terminating chunk";
  EXPECT_EQ(r.body, "partial");
}

TEST(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  auto s = StartOrDie(Echo);
  Client c(s->port());
  c.Send("POST /up HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  Reply interim = c.Read();
  EXPECT_EQ(interim.status, 100);
  c.Send("data");
  Reply r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /up?||data");
}

TEST(HttpServerTest, ExpectContinueWaitsForTheResponseAhead) {
  auto s = StartOrDie([](const IncomingRequest& r, std::shared_ptr<ResponseWriter> w) {
    if (r.path != "/stream") return Echo(r, w);
    w->Begin(200, {}, true);
    w->Write("a");
    w->After(50, [w] { w->End(); });
  });
  Client c(s->port());
  c.Send("GET /stream HTTP/1.1\r\n\r\nPOST /up HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  Reply first = c.Read();
  EXPECT_TRUE(first.complete);
  EXPECT_EQ(first.body, "a") << "a 100 Continue must not land inside the stream";
  EXPECT_EQ(c.Read().status, 100);
  c.Send("ok");
  EXPECT_EQ(c.Read().body, "POST /up?||ok");
}

TEST(HttpServerTest, ChunkedRequestBodyArrivingInPieces) {
  auto s = StartOrDie(Echo);
  Client c(s->port());
  std::string req =
      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n"
      "A;name=value\r\n0123456789\r\n"
      "0\r\nX-Trailer: t\r\n\r\n"
      "GET /after HTTP/1.1\r\n\r\n";
  for (size_t i = 0; i < req.size(); i += 7) {
    c.Send(std::string_view(req).substr(i, 7));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(c.Read().body, "POST /c?||abc0123456789");
  EXPECT_EQ(c.Read().body, "GET /after?||");
}

TEST(HttpServerTest, MalformedRequestsGet400AndTheConnectionCloses) {
  auto s = StartOrDie(Echo);
  for (const char* bad : {"NONSENSE\r\n\r\n", "GET /a b HTTP/1.1\r\n\r\n", "GET / HTTP/2.0\r\n\r\n",
                          "GET / HTTP/1.1\r\nno colon\r\n\r\n", "GET / HTTP/1.1\r\n folded: x\r\n\r\n",
                          "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                          "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
                          "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    Client c(s->port());
    c.Send(bad);
    Reply r = c.Read();
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.Header("connection"), "close");
    EXPECT_TRUE(c.AtEof()) << bad;
  }
  Client c(s->port());
  c.Send(std::string(70 * 1024, 'x'));
  EXPECT_EQ(c.Read().status, 400) << "endless request head";
}

TEST(HttpServerTest, OversizedBodiesGet413) {
  HttpServerOptions o;
  o.max_body = 10;
  auto s = StartOrDie(Echo, o);
  {
    Client c(s->port());
    c.Send("POST / HTTP/1.1\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
    EXPECT_EQ(c.Read().status, 413) << "refused before the body is sent";
    EXPECT_TRUE(c.AtEof());
  }
  {
    Client c(s->port());
    c.Send("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n0\r\n\r\n");
    EXPECT_EQ(c.Read().status, 413);
  }
  Client c(s->port());
  c.Send("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789");
  EXPECT_EQ(c.Read().status, 200) << "max_body itself is allowed";
}

TEST(HttpServerTest, AnErrorAfterAStreamWaitsItsTurn) {
  auto s = StartOrDie([](const IncomingRequest&, std::shared_ptr<ResponseWriter> w) {
    w->Begin(200, {}, true);
    w->After(20, [w] { w->Write("one"); });
    w->After(60, [w] { w->End(); });
  });
  Client c(s->port());
  c.Send("GET / HTTP/1.1\r\n\r\nGARBAGE\r\n\r\n");
  Reply r = c.Read();
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.body, "one");
  EXPECT_EQ(c.Read().status, 400);
  EXPECT_TRUE(c.AtEof());
}

TEST(HttpServerTest, MegabytesReachASlowReader) {
  constexpr size_t kPiece = 64 * 1024, kPieces = 256;  // 16 MiB, far beyond socket buffers
  auto s = StartOrDie([](const IncomingRequest&, std::shared_ptr<ResponseWriter> w) {
    w->Begin(200, {}, true);
    for (size_t i = 0; i < kPieces; ++i) w->Write(std::string(kPiece, static_cast<char>('a' + i % 26)));
    w->End();
  });
  Client c(s->port());
  c.Send("GET / HTTP/1.1\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Reply r = c.Read();
  ASSERT_TRUE(r.complete);
  ASSERT_EQ(r.body.size(), kPiece * kPieces);
  for (size_t i = 0; i < kPieces; ++i) ASSERT_EQ(r.body[i * kPiece + kPiece - 1], 'a' + static_cast<char>(i % 26));
}

TEST(HttpServerTest, HandlerFailuresNeverKillTheServer) {
  auto s = StartOrDie([](const IncomingRequest& r, std::shared_ptr<ResponseWriter> w) {
    if (r.path == "/throw") throw std::runtime_error("boom");
    if (r.path == "/throw-mid") {
      w->Begin(200, {}, true);
      w->Write("half");
      throw std::runtime_error("boom");
    }
    if (r.path == "/timer-throws") {
      w->Begin(200, {}, true);
      return w->After(1, [w] {
        w->Write("half");
        throw 42;
      });
    }
    if (r.path == "/dropped") return;  // the writer dies unanswered
    Echo(r, w);
  });
  {
    Client c(s->port());
    c.Send("GET /throw HTTP/1.1\r\n\r\nGET /dropped HTTP/1.1\r\n\r\nGET /ok HTTP/1.1\r\n\r\n");
    Reply r = c.Read();
    EXPECT_EQ(r.status, 500);
    EXPECT_NE(r.body.find("boom"), std::string::npos);
    EXPECT_EQ(c.Read().status, 500);
    EXPECT_EQ(c.Read().body, "GET /ok?||") << "the connection survives";
  }
  for (const char* path : {"/throw-mid", "/timer-throws"}) {
    Client c(s->port());
    c.Send("GET " + std::string(path) + " HTTP/1.1\r\n\r\n");
    EXPECT_FALSE(c.Read().complete) << path << ": a half-written response is cut";
  }
  Client c(s->port());
  c.Send("GET /still-up HTTP/1.1\r\n\r\n");
  EXPECT_EQ(c.Read().status, 200);
}

TEST(HttpServerTest, HalfClosedClientStillGetsItsAnswer) {
  auto s = StartOrDie([](const IncomingRequest& r, std::shared_ptr<ResponseWriter> w) {
    w->After(30, [w] { w->Send(200, {}, "late"); });
  });
  Client c(s->port());
  c.Send("GET / HTTP/1.1\r\n\r\n");
  ::shutdown(c.fd(), SHUT_WR);
  EXPECT_EQ(c.Read().body, "late");
  EXPECT_TRUE(c.AtEof());
}

TEST(HttpServerTest, PostRunsOnTheLoopThreadAndCanAnswerLater) {
  std::promise<std::shared_ptr<ResponseWriter>> parked;
  auto s = StartOrDie([&parked](const IncomingRequest&, std::shared_ptr<ResponseWriter> w) { parked.set_value(w); });
  Client c(s->port());
  c.Send("GET / HTTP/1.1\r\n\r\n");
  auto w = parked.get_future().get();
  s->Post([w] { w->Send(200, {}, "from another thread"); });
  w.reset();  // the posted function holds the last reference
  EXPECT_EQ(c.Read().body, "from another thread");
}

TEST(HttpServerTest, AThousandConcurrentDelayedResponses) {
  constexpr int kConns = 1000;
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  // Both ends of every connection live in this process.
  if (lim.rlim_cur < 2 * kConns + 100) {
    lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 2 * kConns + 100);
    ::setrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < 2 * kConns + 100) GTEST_SKIP() << "too few file descriptors allowed";
  }
  auto s = StartOrDie([](const IncomingRequest& r, std::shared_ptr<ResponseWriter> w) {
    w->After(100, [w, p = r.path] { w->Send(200, {}, p); });
  });
  auto t0 = Clock::now();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kConns; ++i) {
    clients.push_back(std::make_unique<Client>(s->port()));
    clients.back()->Send("GET /" + std::to_string(i) + " HTTP/1.1\r\n\r\n");
  }
  int ok = 0;
  for (int i = 0; i < kConns; ++i) ok += clients[i]->Read().body == "/" + std::to_string(i);
  double took = SecondsSince(t0);
  EXPECT_EQ(ok, kConns);
  EXPECT_LT(took, 20.0);
  std::printf("%d delayed responses in %.3f s\n", kConns, took);
}

TEST(HttpServerTest, StopWithOpenConnectionsIsClean) {
  auto s = StartOrDie([](const IncomingRequest& r, std::shared_ptr<ResponseWriter> w) {
    if (r.path == "/stream") {
      w->Begin(200, {}, true);
      w->Write("x");
    }
    w->After(60000, [w] { w->End(); });
  });
  Client idle(s->port()), waiting(s->port()), streaming(s->port());
  waiting.Send("GET /wait HTTP/1.1\r\n\r\n");
  streaming.Send("GET /stream HTTP/1.1\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto t0 = Clock::now();
  s->Stop();
  EXPECT_LT(SecondsSince(t0), 5.0);
  EXPECT_TRUE(idle.AtEof());
  EXPECT_FALSE(waiting.Read().complete);
  EXPECT_FALSE(streaming.Read().complete);
  s->Stop();  // twice is harmless; the destructor stops a third time
}

TEST(HttpServerTest, StartReportsBadAddresses) {
  HttpServerOptions o;
  o.host = "not an address";
  auto bad = HttpServer::Start(o, Echo);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidInput);
  auto first = StartOrDie(Echo);
  o.host = "127.0.0.1";
  o.port = first->port();
  auto taken = HttpServer::Start(o, Echo);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.status().code(), Code::kIo);
}

}  // namespace
}  // namespace sw::net
