#include "workflow/notify_spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

#include "base/strings.h"
#include "workflow/load_internal.h"
#include "workflow/workflow.h"

namespace sw::workflow {
namespace {

constexpr size_t kMaxTargets = 20;
constexpr size_t kMaxUrl = 2048;
constexpr size_t kMaxHeaders = 20;
constexpr size_t kMaxHeaderValue = 4096;

struct Reader {
  const std::string& file;
  std::vector<Diagnostic>* errors;
  Pos PosOf(const YAML::Node& n) const { return internal::PosOf(n); }
  void Error(const YAML::Node& n, std::string msg) { errors->push_back(Diagnostic{file, PosOf(n), std::move(msg)}); }
  std::string Where(const YAML::Node& n) const {
    Pos p = PosOf(n);
    return file + ":" + std::to_string(p.line) + ":" + std::to_string(p.col);
  }
};

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

/// The ${NAME} references in s are well formed ("" when they are, else the problem).
std::string CheckRefs(std::string_view s) {
  for (size_t i = s.find("${"); i != std::string_view::npos; i = s.find("${", i + 2)) {
    size_t end = s.find('}', i);
    if (end == std::string_view::npos) return "an unterminated ${ reference";
    if (!internal::IsIdentifier(s.substr(i + 2, end - i - 2)))
      return "${" + std::string(s.substr(i + 2, end - i - 2)) + "} is not an environment variable name";
  }
  return "";
}

NotifyTarget ParseOne(Reader& r, const YAML::Node& n) {
  NotifyTarget t;
  t.on = NotifyEvents();
  t.where = r.Where(n);
  if (n.IsScalar()) {
    t.url = n.Scalar();
  } else if (!n.IsMap()) {
    r.Error(n, "a notify entry must be a map with url: (or a URL), got " + std::string(n.IsSequence() ? "a list" : "nothing"));
    return t;
  }
  static const std::vector<std::string> keys = {"url", "on", "secret", "headers", "allow_private", "timeout", "attempts"};
  if (n.IsMap()) {
    for (const auto& kv : n) {
      std::string k = kv.first.Scalar();
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
        std::string near = DidYouMean(k, keys);
        r.Error(kv.first, "unknown key " + Quote(k) + " in notify" + (near.empty() ? "" : " (did you mean " + Quote(near) + "?)"));
      }
    }
    if (auto u = n["url"]) {
      if (!u.IsScalar() || u.Scalar().empty()) r.Error(u, "notify url must be an http:// or https:// URL");
      else t.url = u.Scalar();
    } else {
      r.Error(n, "missing required key \"url\" in notify");
      return t;
    }
  }
  YAML::Node url_node = n.IsMap() ? n["url"] : n;
  if (!t.url.empty()) {
    std::string lower = Lower(t.url);
    if (t.url.size() > kMaxUrl) {
      r.Error(url_node, "notify url is longer than " + std::to_string(kMaxUrl) + " characters");
    } else if (std::string bad = CheckRefs(t.url); !bad.empty()) {
      r.Error(url_node, "notify url: " + bad);
    } else if (!lower.starts_with("${") && !lower.starts_with("http://") && !lower.starts_with("https://")) {
      r.Error(url_node, "notify url must be http:// or https://, got " + Quote(t.url.substr(0, t.url.find(':') == std::string::npos ? 20 : t.url.find(':') + 3)));
    } else if ((lower.starts_with("http://") && lower.size() == 7) || (lower.starts_with("https://") && lower.size() == 8)) {
      r.Error(url_node, "notify url has no host");
    } else if (size_t c = t.url.find("://"); c != std::string::npos &&
                                              t.url.substr(0, t.url.find_first_of("/?#", c + 3)).find("${") == std::string::npos) {
      // Taken apart now (a bad host or port is a load error, shown by validate): a literal URL
      // fully, a template whose ${NAME} parts are only in its path or query as far as that.
      std::string probe = t.url;
      for (size_t i = probe.find("${"); i != std::string::npos; i = probe.find("${", i))
        probe.replace(i, probe.find('}', i) - i + 1, "x");
      if (auto u = ParseNotifyUrl(probe); !u.ok()) r.Error(url_node, "notify url: " + u.status().message());
    }
  }
  if (!n.IsMap()) return t;
  if (auto on = n["on"]) {
    std::vector<YAML::Node> items;
    if (on.IsScalar()) items.push_back(on);
    else if (on.IsSequence()) for (const auto& e : on) items.push_back(e);
    else r.Error(on, "notify on must be a list of events: " + Join(NotifyEvents(), ", "));
    if (on.IsSequence() && on.size() == 0) r.Error(on, "notify on is empty: name at least one of " + Join(NotifyEvents(), ", "));
    t.on.clear();
    for (const auto& e : items) {
      std::string ev = e.IsScalar() ? e.Scalar() : "";
      if (std::find(NotifyEvents().begin(), NotifyEvents().end(), ev) == NotifyEvents().end()) {
        std::string near = DidYouMean(ev, NotifyEvents());
        r.Error(e, "unknown notify event " + Quote(ev) + "; one of " + Join(NotifyEvents(), ", ") +
                       (near.empty() ? "" : " (did you mean " + Quote(near) + "?)"));
      } else if (std::find(t.on.begin(), t.on.end(), ev) == t.on.end()) {
        t.on.push_back(ev);
      }
    }
  }
  if (auto s = n["secret"]) {
    std::string v = s.IsScalar() ? s.Scalar() : "";
    if (v.size() > 3 && v.starts_with("${") && v.ends_with("}") && internal::IsIdentifier(v.substr(2, v.size() - 3))) {
      t.secret_env = v.substr(2, v.size() - 3);
    } else {
      // Never echo the value: it may be the secret itself.
      r.Error(s, "notify secret must name an environment variable, as secret: ${NAME} (a secret written into the "
                 "file would be stored with the workflow)");
    }
  }
  if (auto h = n["headers"]) {
    if (!h.IsMap()) {
      r.Error(h, "notify headers must be a map of header names to values");
    } else {
      for (const auto& kv : h) {
        std::string name = kv.first.Scalar();
        std::string lname = Lower(name);
        if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) {
          r.Error(kv.first, "notify header name " + Quote(name) + " is not a valid HTTP header name");
          continue;
        }
        if (lname == "content-type" || lname == "content-length" || lname == "host" || lname.starts_with("x-specwright-")) {
          r.Error(kv.first, "notify header " + Quote(name) + " is set by specwright and cannot be given");
          continue;
        }
        if (!kv.second.IsScalar()) {
          r.Error(kv.second, "notify header " + Quote(name) + " must have a string value");
          continue;
        }
        const std::string& v = kv.second.Scalar();
        if (v.find_first_of("\r\n") != std::string::npos || v.size() > kMaxHeaderValue) {
          r.Error(kv.second, "notify header " + Quote(name) + " has a line break or is longer than " +
                                 std::to_string(kMaxHeaderValue) + " bytes");
          continue;
        }
        if (std::string bad = CheckRefs(v); !bad.empty()) {
          r.Error(kv.second, "notify header " + Quote(name) + ": " + bad);
          continue;
        }
        // A credential written into the file would travel with it (stored in a detached run's
        // bundle, shown by validate): it must come from the environment.
        bool credential = false;
        for (const char* w : {"auth", "token", "key", "secret", "signature", "cookie", "password"})
          credential |= lname.find(w) != std::string::npos;
        if (credential && v.find("${") == std::string::npos) {
          r.Error(kv.second, "notify header " + Quote(name) + " carries a credential: take its value from the "
                             "environment, as \"Bearer ${NAME}\" (a value written into the file would be stored with it)");
          continue;
        }
        t.headers.emplace_back(name, v);
      }
      if (t.headers.size() > kMaxHeaders) r.Error(h, "notify has more than " + std::to_string(kMaxHeaders) + " headers");
    }
  }
  if (auto a = n["allow_private"]) {
    if (a.IsScalar() && (a.Scalar() == "true" || a.Scalar() == "false")) t.allow_private = a.Scalar() == "true";
    else r.Error(a, "notify allow_private must be true or false");
  }
  if (auto to = n["timeout"]) {
    std::optional<double> d = to.IsScalar() ? ParseDuration(to.Scalar()) : std::nullopt;
    if (!d || *d <= 0 || *d > 60) r.Error(to, "notify timeout must be a duration above 0 and at most 60s, like 10s");
    else t.timeout = *d;
  }
  if (auto at = n["attempts"]) {
    std::optional<double> d = at.IsScalar() ? ParseDouble(Trim(at.Scalar())) : std::nullopt;
    if (!d || *d != static_cast<int>(*d) || *d < 1 || *d > 10) r.Error(at, "notify attempts must be a whole number from 1 to 10");
    else t.attempts = static_cast<int>(*d);
  }
  return t;
}

}  // namespace

Result<NotifyUrl> ParseNotifyUrl(const std::string& url) {
  NotifyUrl u;
  size_t colon = url.find("://");
  if (colon == std::string::npos) return InvalidInput("not a URL (no scheme://)");
  u.scheme = Lower(url.substr(0, colon));
  if (u.scheme != "http" && u.scheme != "https") return InvalidInput("only http and https URLs may be notified, not " + u.scheme);
  std::string rest = url.substr(colon + 3);
  size_t end = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, end);
  std::string tail = end == std::string::npos ? "" : rest.substr(end);
  if (size_t at = authority.rfind('@'); at != std::string::npos) {
    u.userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return InvalidInput("unterminated [ in the URL's host");
    u.host = authority.substr(1, close - 1);
    u.ipv6_literal = true;
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return InvalidInput("unexpected text after the URL's host");
      port = after.substr(1);
    }
  } else {
    size_t c = authority.rfind(':');
    u.host = authority.substr(0, c);
    if (c != std::string::npos) port = authority.substr(c + 1);
  }
  if (u.host.empty()) return InvalidInput("the URL has no host");
  // Only the characters curl takes as they are: a host curl would spell differently (a
  // percent-encoded or international name it decodes or converts to xn--, an IPv6 zone) would
  // miss the pinned address and be resolved again by curl, unchecked.
  for (char ch : u.host) {
    auto c = static_cast<unsigned char>(ch);
    bool ok = std::isalnum(c) || ch == '-' || ch == '.' || (u.ipv6_literal ? ch == ':' : ch == '_');
    if (!ok)
      return InvalidInput(c >= 0x80 ? "the URL's host is not ASCII: write an international name in its xn-- form"
                                    : "the URL's host has a character a host cannot have");
  }
  u.port = u.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    auto p = ParseDouble(port);
    if (!p || *p != static_cast<int>(*p) || *p < 1 || *p > 65535) return InvalidInput("bad port in the URL");
    u.port = static_cast<int>(*p);
  }
  size_t hash = tail.find('#');
  if (hash != std::string::npos) tail = tail.substr(0, hash);
  size_t q = tail.find('?');
  u.path = tail.substr(0, q);
  if (q != std::string::npos) u.query = tail.substr(q + 1);
  if (u.path.empty()) u.path = "/";
  return u;
}

const std::vector<std::string>& NotifyEvents() {
  static const std::vector<std::string> events = {"succeeded", "failed", "waiting", "budget_stopped"};
  return events;
}

bool NotifyTarget::Wants(const std::string& event) const {
  return std::find(on.begin(), on.end(), event) != on.end();
}

std::vector<NotifyTarget> ParseNotify(const YAML::Node& node, const std::string& file, std::vector<Diagnostic>* errors) {
  Reader r{file, errors};
  std::vector<NotifyTarget> out;
  if (!node || node.IsNull()) return out;
  size_t before = errors->size();
  if (node.IsSequence()) {
    if (node.size() > kMaxTargets) {
      r.Error(node, "notify has more than " + std::to_string(kMaxTargets) + " targets");
      return out;
    }
    for (const auto& e : node) out.push_back(ParseOne(r, e));
  } else {
    out.push_back(ParseOne(r, node));
  }
  if (errors->size() != before) out.clear();
  return out;
}

}  // namespace sw::workflow
