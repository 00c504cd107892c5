// A blocking HTTP/1.1 client over a raw socket for the web UI's tests: any method, any header
// (a forged Host, a wrong content type), and event streams read as they arrive.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace e2e {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

inline int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline std::string RequestText(int port, const std::string& method, const std::string& target, const std::string& body,
                               const std::vector<std::string>& headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\n";
  bool host = false, type = false;
  for (const auto& h : headers) {
    host |= h.rfind("Host:", 0) == 0;
    type |= h.rfind("Content-Type:", 0) == 0;
    req += h + "\r\n";
  }
  if (!host) req += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  if (!body.empty() && !type) req += "Content-Type: application/json\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  return req;
}

inline HttpReply ParseReply(const std::string& raw) {
  HttpReply r;
  size_t end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || end == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  size_t at = raw.find("\r\n") + 2;
  while (at < end) {
    size_t nl = raw.find("\r\n", at);
    std::string line = raw.substr(at, nl - at);
    size_t colon = line.find(':');
    std::string k = line.substr(0, colon);
    for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string v = colon == std::string::npos ? "" : line.substr(colon + 1);
    while (!v.empty() && v[0] == ' ') v.erase(0, 1);
    r.headers[k] = v;
    at = nl + 2;
  }
  r.body = raw.substr(end + 4);
  return r;
}

/// Http sends one request and reads the whole answer (the server closes: Connection: close).
inline HttpReply Http(int port, const std::string& method, const std::string& target, const std::string& body = "",
                      const std::vector<std::string>& headers = {}) {
  int fd = Connect(port);
  if (fd < 0) return {};
  std::string req = RequestText(port, method, target, body, headers);
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string raw;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return ParseReply(raw);
}

/// ReadStream opens an event stream and calls on_data with everything received so far until
/// it returns true (done), the server closes, or timeout_s passes; returns all bytes read.
inline std::string ReadStream(int port, const std::string& target, const std::function<bool(const std::string&)>& done,
                              double timeout_s) {
  int fd = Connect(port);
  if (fd < 0) return "";
  std::string req = RequestText(port, "GET", target, "", {"Accept: text/event-stream"});
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string raw;
  char buf[65536];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int>(timeout_s * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
    if (done(raw)) break;
  }
  ::close(fd);
  return raw;
}

}  // namespace e2e
