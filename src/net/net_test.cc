// HttpServer driven by raw sockets (so the bytes on the wire are what is checked) and
// HttpClient driven against HttpServer: timeouts, cancellation, cut connections, scale.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>

#include "net/http_client.h"
#include "net/http_server.h"

namespace sw::net {
namespace {

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

void SendAll(int fd, const std::string& s) { ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), (ssize_t)s.size()); }

/// ReadUntil reads until the text contains needle or the peer closes.
std::string ReadUntil(int fd, const std::string& needle) {
  std::string got;
  char buf[4096];
  while (got.find(needle) == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, n);
  }
  return got;
}

std::string ReadAll(int fd) { return ReadUntil(fd, "\x01never\x02"); }

std::unique_ptr<HttpServer> Echo() {
  auto s = HttpServer::Start({}, [](const IncomingRequest& r, std::shared_ptr<ResponseWriter> w) {
    if (r.path == "/stream") {
      w->Begin(200, {{"Content-Type", "text/event-stream"}}, true);
      for (int i = 0; i < 3; ++i) w->After(50 * (i + 1), [w, i] { w->Write("data: " + std::to_string(i) + "\n\n"); });
      w->After(200, [w] { w->End(); });
    } else if (r.path == "/gap") {
      w->Begin(200, {}, true);
      w->Write("first");
      w->After(600, [w] {
        w->Write("second");
        w->End();
      });
    } else if (r.path == "/cut") {
      w->Begin(200, {}, true);
      w->Write("partial");
      w->After(20, [w] { w->Abort(); });
    } else if (r.path == "/slow") {
      w->After(2000, [w] { w->Send(200, {}, "late"); });
    } else if (r.path == "/throw") {
      throw std::runtime_error("boom");
    } else {
      w->Send(200, {{"Content-Type", "text/plain"}}, r.method + " " + r.target + " " + r.body);
    }
  });
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(s).value();
}

TEST(HttpServer, KeepAliveAndPipelinedRequestsAnswerInOrder) {
  auto s = Echo();
  EXPECT_EQ(s->base_url().rfind("http://127.0.0.1:", 0), 0u);
  int fd = Connect(s->port());
  SendAll(fd, "POST /a?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string got = ReadUntil(fd, "GET /b ");
  EXPECT_NE(got.find("POST /a?x=1 abc"), std::string::npos) << got;
  EXPECT_LT(got.find("POST /a?x=1 abc"), got.find("GET /b "));
  SendAll(fd, "GET /c HTTP/1.1\r\nConnection: close\r\n\r\n");
  got = ReadAll(fd);  // the server closes after a Connection: close request
  EXPECT_NE(got.find("GET /c "), std::string::npos);
  EXPECT_NE(got.find("Connection: close"), std::string::npos);
  ::close(fd);
}

TEST(HttpServer, ChunkedStreamWithDelaysAndAbort) {
  auto s = Echo();
  int fd = Connect(s->port());
  auto t0 = std::chrono::steady_clock::now();
  SendAll(fd, "GET /stream HTTP/1.1\r\n\r\n");
  std::string got = ReadUntil(fd, "0\r\n\r\n");
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(got.find("9\r\ndata: 2\n\n\r\n"), std::string::npos) << got;
  EXPECT_GE(took, 0.19);
  ::close(fd);
  fd = Connect(s->port());
  SendAll(fd, "GET /cut HTTP/1.1\r\n\r\n");
  got = ReadAll(fd);
  EXPECT_NE(got.find("partial"), std::string::npos);
  EXPECT_EQ(got.find("0\r\n\r\n"), std::string::npos) << "an aborted stream has no terminating chunk";
  ::close(fd);
}

TEST(HttpServer, ContinueChunkedBodiesAndBadInput) {
  auto s = HttpServer::Start({.max_body = 100}, [](const IncomingRequest& r, std::shared_ptr<ResponseWriter> w) {
    w->Send(200, {}, "[" + r.body + "]");
  });
  ASSERT_TRUE(s.ok());
  int port = (*s)->port();
  int fd = Connect(port);
  SendAll(fd, "POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_NE(ReadUntil(fd, "100 Continue\r\n\r\n").find("100 Continue"), std::string::npos);
  SendAll(fd, "hello");
  EXPECT_NE(ReadUntil(fd, "[hello]").find("[hello]"), std::string::npos);
  SendAll(fd, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n");
  EXPECT_NE(ReadUntil(fd, "[abcde]").find("[abcde]"), std::string::npos);
  ::close(fd);
  for (const auto& [req, status] : std::vector<std::pair<std::string, std::string>>{
           {"NONSENSE\r\n\r\n", "400"},
           {"GET / HTTP/1.1\r\nno colon here\r\n\r\n", "400"},
           {"POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n", "413"},
           {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "400"},
           {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "400"}}) {
    fd = Connect(port);
    SendAll(fd, req);
    std::string got = ReadAll(fd);
    EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 " + status) << req << " -> " << got;
    ::close(fd);
  }
}

TEST(HttpServer, HandlerExceptionBecomes500) {
  auto s = Echo();
  int fd = Connect(s->port());
  SendAll(fd, "GET /throw HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n");
  std::string got = ReadUntil(fd, "GET /after");
  EXPECT_NE(got.find("500 Internal Server Error"), std::string::npos);
  EXPECT_NE(got.find("GET /after"), std::string::npos) << "the connection survives";
  ::close(fd);
}

ClientResult Fetch(HttpClient& c, const std::string& url, HttpTimeouts t, std::string* body,
                   std::shared_ptr<std::atomic<bool>> cancel = nullptr) {
  std::promise<ClientResult> p;
  ClientRequest r;
  r.method = "GET";
  r.url = url;
  r.timeouts = t;
  ClientHandlers h;
  h.on_body = [body](std::string_view b) {
    body->append(b);
    return true;
  };
  h.on_done = [&p](ClientResult res) { p.set_value(std::move(res)); };
  c.Send(r, h, std::move(cancel));
  return p.get_future().get();
}

TEST(HttpClient, OkCutTimeoutsCancelAndRefused) {
  auto s = Echo();
  HttpClient c;
  std::string body;
  auto r = Fetch(c, s->base_url() + "/x", {}, &body);
  EXPECT_EQ(r.transport, Transport::kOk);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body, "GET /x ");
  EXPECT_EQ(HeaderValue(r.headers, "content-type"), "text/plain");

  body.clear();
  r = Fetch(c, s->base_url() + "/cut", {}, &body);
  EXPECT_EQ(r.transport, Transport::kCut) << r.message;
  EXPECT_EQ(body, "partial");

  HttpTimeouts quick;
  quick.first_byte = 0.2;
  body.clear();
  auto t0 = std::chrono::steady_clock::now();
  r = Fetch(c, s->base_url() + "/slow", quick, &body);
  EXPECT_EQ(r.transport, Transport::kTimeoutFirstByte);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.5);

  HttpTimeouts idle;
  idle.idle = 0.15;  // the stream pauses 600 ms after its first chunk
  body.clear();
  r = Fetch(c, s->base_url() + "/gap", idle, &body);
  EXPECT_EQ(r.transport, Transport::kTimeoutIdle);
  EXPECT_EQ(body, "first");

  auto cancel = std::make_shared<std::atomic<bool>>(false);
  std::thread canceller([cancel] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel->store(true);
  });
  r = Fetch(c, s->base_url() + "/slow", {}, &body, cancel);
  canceller.join();
  EXPECT_EQ(r.transport, Transport::kCancelled);

  int port = s->port();
  s->Stop();
  r = Fetch(c, "http://127.0.0.1:" + std::to_string(port) + "/", {}, &body);
  EXPECT_EQ(r.transport, Transport::kConnect) << r.message;
}

// `direct` ignores the environment's proxy (http_proxy points at a port nobody listens on).
TEST(HttpClient, DirectIgnoresTheEnvironmentsProxy) {
  auto s = Echo();
  HttpClient c;
  const char* keep[] = {"no_proxy", "NO_PROXY", "http_proxy"};
  std::string saved[3];
  bool had[3];
  for (int i = 0; i < 3; ++i) {
    const char* v = getenv(keep[i]);
    had[i] = v != nullptr;
    saved[i] = v ? v : "";
    unsetenv(keep[i]);
  }
  setenv("http_proxy", "http://127.0.0.1:9", 1);
  auto send = [&](bool direct) {
    std::promise<ClientResult> p;
    ClientRequest r;
    r.method = "GET";
    r.url = s->base_url() + "/d";
    r.direct = direct;
    r.timeouts.connect = 5;
    r.timeouts.total = 5;
    ClientHandlers h;
    h.on_done = [&p](ClientResult res) { p.set_value(std::move(res)); };
    c.Send(r, h, nullptr);
    return p.get_future().get();
  };
  ClientResult direct = send(true);
  ClientResult proxied = send(false);
  unsetenv("http_proxy");
  for (int i = 0; i < 3; ++i)
    if (had[i]) setenv(keep[i], saved[i].c_str(), 1);
  EXPECT_EQ(direct.transport, Transport::kOk) << direct.message;
  EXPECT_EQ(direct.status, 200);
  EXPECT_NE(proxied.status, 200) << "without direct the (dead) proxy is used";
}

TEST(HttpClient, AThousandConcurrentDelayedResponses) {
  auto s = HttpServer::Start({}, [](const IncomingRequest& r, std::shared_ptr<ResponseWriter> w) {
    w->After(100, [w, t = r.target] { w->Send(200, {}, t); });
  });
  ASSERT_TRUE(s.ok());
  HttpClient c;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, ok = 0;
  for (int i = 0; i < 1000; ++i) {
    ClientRequest r;
    r.method = "GET";
    r.url = (*s)->base_url() + "/" + std::to_string(i);
    auto body = std::make_shared<std::string>();
    ClientHandlers h;
    h.on_body = [body](std::string_view b) {
      body->append(b);
      return true;
    };
    h.on_done = [&, body, i](ClientResult res) {
      std::lock_guard<std::mutex> l(mu);
      ++done;
      ok += res.status == 200 && *body == "/" + std::to_string(i);
      cv.notify_one();
    };
    c.Send(r, h, nullptr);
  }
  std::unique_lock<std::mutex> l(mu);
  ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(20), [&] { return done == 1000; }));
  EXPECT_EQ(ok, 1000);
}

}  // namespace
}  // namespace sw::net
