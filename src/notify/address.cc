// URL parsing and redaction, the SSRF guard (which addresses a webhook may reach) and the
// resolution whose checked result is pinned for the connection.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "base/strings.h"
#include "notify/notify.h"

namespace sw::notify {
namespace {

bool InV4(uint32_t a, uint32_t net, int bits) {
  uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (a & mask) == (net & mask);
}

uint32_t V4(int a, int b, int c, int d) {
  return (uint32_t(a) << 24) | (uint32_t(b) << 16) | (uint32_t(c) << 8) | uint32_t(d);
}

std::string V4Problem(uint32_t a, bool allow_private) {
  // Always refused unless allowed: the cloud metadata services and link-local.
  if (a == V4(169, 254, 169, 254) || a == V4(100, 100, 100, 200) || a == V4(192, 0, 0, 192))
    return allow_private ? "" : "a cloud metadata address";
  if (InV4(a, V4(169, 254, 0, 0), 16)) return allow_private ? "" : "a link-local address (169.254.0.0/16)";
  if (InV4(a, V4(0, 0, 0, 0), 8)) return "an unspecified address (0.0.0.0/8)";
  if (InV4(a, V4(224, 0, 0, 0), 4)) return "a multicast address";
  if (InV4(a, V4(240, 0, 0, 0), 4)) return "a reserved or broadcast address";
  if (InV4(a, V4(127, 0, 0, 0), 8)) return "";  // loopback: a receiver on this machine
  if (!allow_private) {
    if (InV4(a, V4(10, 0, 0, 0), 8) || InV4(a, V4(172, 16, 0, 0), 12) || InV4(a, V4(192, 168, 0, 0), 16))
      return "a private address (allow_private: true permits it)";
    if (InV4(a, V4(100, 64, 0, 0), 10)) return "a shared (carrier-grade NAT) address (allow_private: true permits it)";
  }
  return "";
}

}  // namespace

Result<Url> ParseUrl(const std::string& url) { return workflow::ParseNotifyUrl(url); }

std::string RedactUrl(const std::string& url) {
  auto u = ParseUrl(url);
  if (!u.ok()) {
    size_t c = url.find("://");
    return c == std::string::npos ? "(not a URL)" : url.substr(0, c) + "://(unparsable)";
  }
  std::string host = u->ipv6_literal ? "[" + u->host + "]" : u->host;
  bool default_port = (u->scheme == "https" && u->port == 443) || (u->scheme == "http" && u->port == 80);
  // The path is elided: Slack, Discord and Teams hooks carry their secret in it.
  return u->scheme + "://" + host + (default_port ? "" : ":" + std::to_string(u->port)) + (u->path == "/" ? "/" : "/…");
}

std::string AddressProblem(const std::string& ip, bool allow_private) {
  in_addr v4{};
  if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) return V4Problem(ntohl(v4.s_addr), allow_private);
  in6_addr v6{};
  if (inet_pton(AF_INET6, ip.c_str(), &v6) != 1) return "not an IP address";
  const uint8_t* b = v6.s6_addr;
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, mapped, 12) == 0)
    return V4Problem(V4(b[12], b[13], b[14], b[15]), allow_private);
  // NAT64 (64:ff9b::/96): a translator on this network connects to the embedded IPv4 address.
  static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, nat64, 12) == 0) return V4Problem(V4(b[12], b[13], b[14], b[15]), allow_private);
  static const uint8_t zero[16] = {0};
  if (std::memcmp(b, zero, 16) == 0) return "an unspecified address (::)";
  static const uint8_t loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (std::memcmp(b, loop, 16) == 0) return "";
  // fd00:ec2::254 (AWS's IPv6 metadata endpoint).
  static const uint8_t aws[16] = {0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
  if (std::memcmp(b, aws, 16) == 0) return allow_private ? "" : "a cloud metadata address";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return allow_private ? "" : "a link-local address (fe80::/10)";
  if (b[0] == 0xff) return "a multicast address";
  if ((b[0] & 0xfe) == 0xfc && !allow_private) return "a private address (fc00::/7; allow_private: true permits it)";
  return "";
}

std::string HostProblem(const std::string& host, bool allow_private) {
  if (allow_private) return "";
  std::string h = Lower(host);
  while (!h.empty() && h.back() == '.') h.pop_back();
  for (const char* m : {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"})
    if (h == m) return "a cloud metadata host name";
  return "";
}

Result<std::vector<std::string>> Resolve(const std::string& host, int port, bool allow_private) {
  if (std::string p = HostProblem(host, allow_private); !p.empty())
    return InvalidInput("refused: " + host + " is " + p);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) return Status(Code::kUnavailable, "cannot resolve " + host + ": " + gai_strerror(rc));
  std::vector<std::string> out;
  std::string problem;
  for (addrinfo* a = res; a; a = a->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {0};
    if (a->ai_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, buf, sizeof(buf));
    else if (a->ai_family == AF_INET6)
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, buf, sizeof(buf));
    else
      continue;
    std::string ip = buf;
    if (std::string p = AddressProblem(ip, allow_private); !p.empty() && problem.empty())
      problem = "refused: " + host + (ip == host ? " is " : " resolves to " + ip + ", ") + p;
    if (std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(ip);
  }
  freeaddrinfo(res);
  if (!problem.empty()) return InvalidInput(problem);
  if (out.empty()) return Status(Code::kUnavailable, "cannot resolve " + host + ": no addresses");
  return out;
}

}  // namespace sw::notify
