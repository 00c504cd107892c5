// The protocol core: JSON-RPC 2.0 framing, the two eras of the protocol — the initialize
// handshake (2024-11-05 .. 2025-11-25, a version negotiated per session) and the stateless
// revision (2026-07-28: every request names its version in params._meta, server/discover,
// resultType and cache hints on results) — and the methods of the tools, resources and prompts
// capabilities, the same in both.
#include "mcp/server.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <filesystem>

#include <re2/re2.h>

#include "base/fs.h"
#include "base/strings.h"
#include "llm/http_provider.h"
#include "tools/mcp_protocol.h"

extern char** environ;

namespace sw::mcp {
namespace {

namespace proto = tools::mcp;

json ErrorReply(const json& id, int code, const std::string& message, const json& data = nullptr) {
  json e{{"code", code}, {"message", message}};
  if (!data.is_null()) e["data"] = data;
  return json{{"jsonrpc", proto::kJsonRpcVersion}, {"id", id}, {"error", std::move(e)}};
}

json Reply(const json& id, json result) {
  return json{{"jsonrpc", proto::kJsonRpcVersion}, {"id", id}, {"result", std::move(result)}};
}

bool AtLeast(const std::string& version, const char* since) { return version >= since; }

/// The instructions initialize and server/discover give.
const char* kInstructions =
    "Specwright knows this project's spec items (IDs such as REQ-01-001) and how they trace to code and tests "
    "(spec_trace, spec_item, spec_search, spec_impact, spec_check, spec_matrix), its recorded workflow runs and "
    "develop sessions (runs_list, run_status, run_debug, run_cost, sessions_list, export_markdown), its source code "
    "(code_symbols: where a name is defined and used; code_search: full-text search over the source lines), and its "
    "conventions as resources and prompts (CONTEXT.md, preferences, rules/). Answers over 256 KiB are cut: narrow the "
    "query or lower the limit.";

/// The capabilities: nothing is pushed (no list-changed notifications, no resource subscriptions).
json Capabilities() {
  return json{{"tools", {{"listChanged", false}}},
              {"resources", {{"listChanged", false}, {"subscribe", false}}},
              {"prompts", {{"listChanged", false}}}};
}

/// The cache hints a stateless result of a cacheable method carries. The tool list and what
/// discover says are fixed for the life of the process; resources and prompts are files read
/// again on every request, so they are stale at once, and private: the project's own text.
bool CacheHints(const std::string& method, int64_t* ttl_ms, const char** scope) {
  if (method == "server/discover" || method == "tools/list" || method == "resources/templates/list") {
    *ttl_ms = 300000;
    *scope = "public";
    return true;
  }
  if (method == "resources/list" || method == "resources/read" || method == "prompts/list") {
    *ttl_ms = 0;
    *scope = "private";
    return true;
  }
  return false;
}

/// StringParam reads params[key] as a string, or throws invalid params naming it.
std::string StringParam(const json& params, const char* key, bool required) {
  if (!params.contains(key) || params[key].is_null()) {
    if (required) throw RpcError{proto::kInvalidParams, std::string("params.") + key + " is required"};
    return "";
  }
  if (!params[key].is_string())
    throw RpcError{proto::kInvalidParams, std::string("params.") + key + " must be a string, got " + params[key].dump()};
  return params[key].get<std::string>();
}

/// Page returns one page of items after cursor (the offset as text) and the next cursor.
template <typename T>
std::vector<T> Page(const std::vector<T>& all, const json& params, size_t page_size, std::string* next) {
  size_t from = 0;
  std::string cursor = StringParam(params, "cursor", false);
  if (!cursor.empty()) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(cursor.c_str(), &end, 10);
    if (!end || *end || v > all.size())
      throw RpcError{proto::kInvalidParams, "params.cursor " + Quote(cursor) + " is not a cursor this server gave"};
    from = static_cast<size_t>(v);
  }
  size_t to = std::min(all.size(), from + std::max<size_t>(1, page_size));
  if (to < all.size()) *next = std::to_string(to);
  return std::vector<T>(all.begin() + static_cast<std::ptrdiff_t>(from), all.begin() + static_cast<std::ptrdiff_t>(to));
}

bool SecretName(std::string name) {
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const char* w : {"KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH"})
    if (name.find(w) != std::string::npos) return true;
  return false;
}

const std::vector<std::unique_ptr<RE2>>& SecretShapes() {
  static const auto* shapes = [] {
    auto* v = new std::vector<std::unique_ptr<RE2>>;
    for (const char* p : {R"(sk-[A-Za-z0-9_\-]{20,})", R"(gh[pousr]_[A-Za-z0-9]{30,})", R"(github_pat_[A-Za-z0-9_]{30,})",
                          R"(AKIA[0-9A-Z]{16})", R"(xox[abprs]-[A-Za-z0-9\-]{10,})", R"(AIza[0-9A-Za-z_\-]{35})",
                          R"((?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----)"})
      v->push_back(std::make_unique<RE2>(p));
    return v;
  }();
  return *shapes;
}

/// NameSegments splits an assignment's name into lower-case words: at _ - . and at camelCase
/// boundaries (apiKey, APIKey and api_key are all {api, key}).
std::vector<std::string> NameSegments(std::string_view name) {
  std::vector<std::string> segs;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) segs.push_back(std::move(cur));
    cur.clear();
  };
  auto up = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto low = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '_' || c == '-' || c == '.') {
      flush();
      continue;
    }
    if (up(c) && !cur.empty() && i > 0 &&
        (low(name[i - 1]) || (up(name[i - 1]) && i + 1 < name.size() && name[i + 1] >= 'a' && name[i + 1] <= 'z')))
      flush();
    cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  flush();
  return segs;
}

/// SecretAssignmentName says whether an assignment's name ends in a secret word, as a whole
/// segment: secret, password, passwd, pwd, passphrase, credential(s), token; key only after
/// api, secret, private, access, auth, signing, encryption or master (api_key, AWS_SECRET_ACCESS_KEY),
/// or run together (apikey). keyboard, monkey, hotkey, keyName, tokens, max_tokens are not.
bool SecretAssignmentName(std::string_view name) {
  auto segs = NameSegments(name);
  if (segs.empty()) return false;
  const std::string& last = segs.back();
  for (const char* w : {"secret", "password", "passwd", "pwd", "passphrase", "credential", "credentials", "token", "apikey",
                        "secretkey", "privatekey", "accesskey"})
    if (last == w) return true;
  if (last != "key" || segs.size() < 2) return false;
  const std::string& prev = segs[segs.size() - 2];
  for (const char* w : {"api", "secret", "private", "access", "auth", "signing", "encryption", "master"})
    if (prev == w) return true;
  return false;
}

/// Harmless is a value left as it is: a number (max_tokens: 512), a boolean or null, nothing,
/// and, for a bare value, a reference to a variable ($DB_PASSWORD, ${X}, settings.password) —
/// counts, flags and names, not secrets.
bool Harmless(std::string_view v, bool bare) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'')) v = v.substr(1, v.size() - 2);
  if (v.empty()) return true;
  static const RE2 kNumber(R"([-+]?[0-9][0-9._]*(?:[eE][-+]?[0-9]+)?)");
  static const RE2 kReference(R"(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)+)");
  if (RE2::FullMatch(v, kNumber) || (bare && RE2::FullMatch(v, kReference))) return true;
  std::string l = Lower(std::string(v));
  return l == "true" || l == "false" || l == "null" || l == "none" || l == "nil" || l == "[key]";
}

/// RedactLine redacts the secret-named assignments of one line. Two shapes only:
///  - a quoted string literal, anywhere on the line (password = "x", "client_secret": "x",
///    connect(api_key='x')): the text between the quotes becomes [key], the quotes stay;
///  - a bare value on a config-like line (.env, YAML, INI: the line is NAME=value or
///    NAME: value and nothing else, optionally after export, "- " or a code_search file:line
///    prefix; the value has no spaces, parentheses or brackets): the value up to a quote,
///    backtick, &, comma, semicolon or space becomes [key].
/// Prose (The API key: must be rotated) and code (token = request.headers.get(...)) are left.
std::string RedactLine(const std::string& line) {
  static const RE2 kQuoted(R"(([A-Za-z_][A-Za-z0-9_.\-]*)["']?[ \t]*(?::=|=|:)[ \t]*("[^"\n]*"|'[^'\n]*'))");
  static const RE2 kConfig(
      R"(^([ \t]*(?:[^\s:]+:[0-9]+:?[ \t]+)?(?:export[ \t]+|-[ \t]+)?["']?([A-Za-z_][A-Za-z0-9_.\-]*)["']?[ \t]*(?::=|=|:)[ \t]*))"
      R"(([^\s"'`&,;()\[\]{}<>]+)(?:[^\s()\[\]{}]*[^\s()\[\]{};])?[ \t\r]*$)");
  std::string out;
  re2::StringPiece in(line.data(), line.size());
  re2::StringPiece m[3];
  size_t at = 0;
  while (at < line.size() && kQuoted.Match(in, at, line.size(), RE2::UNANCHORED, m, 3)) {
    size_t value_at = static_cast<size_t>(m[2].data() - line.data());
    std::string_view v(m[2].data(), m[2].size());
    out.append(line, at, value_at - at);
    if (!SecretAssignmentName(std::string_view(m[1].data(), m[1].size())) || Harmless(v, false)) out.append(v);
    else out += std::string(1, v.front()) + "[key]" + v.front();
    at = value_at + v.size();
  }
  if (at < line.size()) out.append(line, at, std::string::npos);
  re2::StringPiece head, name, value;
  if (RE2::PartialMatch(out, kConfig, &head, &name, &value) && SecretAssignmentName(std::string_view(name.data(), name.size())) &&
      !Harmless(std::string_view(value.data(), value.size()), true)) {
    size_t value_at = static_cast<size_t>(value.data() - out.data());
    out.replace(value_at, value.size(), "[key]");
  }
  return out;
}

/// RedactAssignments redacts every line of s (RedactLine).
std::string RedactAssignments(const std::string& s) {
  if (s.find('=') == std::string::npos && s.find(':') == std::string::npos) return s;
  std::string out;
  out.reserve(s.size());
  for (size_t at = 0; at <= s.size();) {
    size_t nl = s.find('\n', at);
    size_t end = nl == std::string::npos ? s.size() : nl;
    out += RedactLine(s.substr(at, end - at));
    if (nl == std::string::npos) break;
    out += '\n';
    at = nl + 1;
  }
  return out;
}

/// MixedBase64 says whether a run has upper and lower case letters and digits (a key's
/// base64, not a hex digest or a word).
bool MixedBase64(std::string_view r) {
  bool upper = false, lower = false, digit = false;
  for (char c : r) {
    upper |= c >= 'A' && c <= 'Z';
    lower |= c >= 'a' && c <= 'z';
    digit |= c >= '0' && c <= '9';
  }
  return upper && lower && digit;
}

/// RedactPemLines works line by line (a code search answers one line per hit): a BEGIN ...
/// PRIVATE KEY line is replaced from its marker on, and so are the base64 runs of the lines
/// after it up to the END line (or the first line that is not part of a key). A 64-character
/// base64 run of mixed case and digits (a PEM body line met alone) is replaced anywhere.
std::string RedactPemLines(const std::string& s) {
  static const RE2 kBegin(R"((-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----))");
  static const RE2 kEnd(R"((-----END [A-Z0-9 ]*PRIVATE KEY-----))");
  static const RE2 kBody(R"([A-Za-z0-9+/]{16,}={0,2})");
  static const RE2 kRun(R"(([A-Za-z0-9+/]+))");
  if (s.find("-----") == std::string::npos && s.size() < 64) return s;
  std::string out;
  out.reserve(s.size());
  bool in_key = false;
  for (size_t at = 0; at < s.size();) {
    size_t nl = s.find('\n', at);
    std::string line = s.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    at = nl == std::string::npos ? s.size() : nl + 1;
    re2::StringPiece m;
    if (RE2::PartialMatch(line, kBegin, &m)) {
      size_t from = static_cast<size_t>(m.data() - line.data());
      std::string head = line.substr(0, from);
      if (in_key) RE2::GlobalReplace(&head, kBody, "[key]");
      in_key = !RE2::PartialMatch(line.substr(from), kEnd);
      line = head + "[key]";
    } else if (in_key) {
      if (RE2::PartialMatch(line, kEnd, &m)) {
        line = line.substr(0, static_cast<size_t>(m.data() - line.data()));
        RE2::GlobalReplace(&line, kBody, "[key]");
        line += "[key]";
        in_key = false;
      } else if (RE2::PartialMatch(line, kBody)) {
        RE2::GlobalReplace(&line, kBody, "[key]");
      } else if (line.find_first_not_of(" \t\r\"',;\\n+") != std::string::npos && line.find(':') == std::string::npos) {
        in_key = false;  // not a key's line any more (blank lines and Proc-Type: headers keep it)
      }
    }
    if (line.size() >= 64) {
      // A lone body line: a base64 run of exactly 64 characters (PEM's line length).
      std::string done;
      re2::StringPiece rest(line.data(), line.size());
      re2::StringPiece run;
      size_t from = 0;
      while (RE2::FindAndConsume(&rest, kRun, &run)) {
        size_t b = static_cast<size_t>(run.data() - line.data());
        done.append(line, from, b - from);
        std::string_view r(run.data(), run.size());
        done.append(r.size() == 64 && MixedBase64(r) ? std::string_view("[key]") : r);
        from = b + r.size();
      }
      done.append(line, from, std::string::npos);
      line = std::move(done);
    }
    out += line;
    if (nl != std::string::npos) out += '\n';
  }
  return out;
}

/// ReadLimited reads a resource's or rule set's file, refusing it from its size before reading
/// (a file that grows meanwhile is refused after).
std::string ReadLimited(const std::string& path, const std::string& what, size_t max_bytes) {
  std::error_code ec;
  uintmax_t size = std::filesystem::file_size(path, ec);
  auto too_big = [&](uintmax_t n) {
    return RpcError{proto::kInternalError, what + " is " + std::to_string(n) + " bytes, over the limit of " +
                                               std::to_string(max_bytes) + " bytes a read may return"};
  };
  if (ec) throw RpcError{proto::kInternalError, "reading " + what + ": " + ec.message()};
  if (size > max_bytes) throw too_big(size);
  auto text = ReadFile(path);
  if (!text.ok()) throw RpcError{proto::kInternalError, "reading " + what + ": " + text.status().message()};
  if (text->size() > max_bytes) throw too_big(text->size());
  return std::move(text).value();
}

}  // namespace

Server::Server(Options options) : options_(std::move(options)) {
  secrets_ = options_.secrets;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq == std::string::npos || !SecretName(kv.substr(0, eq))) continue;
    secrets_.push_back(kv.substr(eq + 1));
  }
  // Short values ("1", "true", a port) would redact half of every answer: only real secrets.
  std::erase_if(secrets_, [](const std::string& s) { return s.size() < 8; });
  std::sort(secrets_.begin(), secrets_.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  secrets_.erase(std::unique(secrets_.begin(), secrets_.end()), secrets_.end());
}

std::string Server::Negotiate(const std::string& requested) {
  return Speaks(requested) ? requested : tools::kMcpVersions.front();
}

bool Server::Speaks(const std::string& version) {
  return std::find(tools::kMcpVersions.begin(), tools::kMcpVersions.end(), version) != tools::kMcpVersions.end();
}

bool Server::SpeaksStateless(const std::string& version) {
  const auto& v = tools::kMcpStatelessVersions;
  return std::find(v.begin(), v.end(), version) != v.end();
}

std::vector<std::string> Server::SupportedVersions() {
  std::vector<std::string> all = tools::kMcpStatelessVersions;
  all.insert(all.end(), tools::kMcpVersions.begin(), tools::kMcpVersions.end());
  return all;
}

std::optional<std::string> Server::StatelessVersion(const json& msg) {
  if (!msg.is_object() || !msg.contains("method") || !msg["method"].is_string()) return std::nullopt;
  std::string method = msg["method"].get<std::string>();
  if (method == "initialize") return std::nullopt;
  if (!msg.contains("params") || !msg["params"].is_object()) return std::nullopt;
  const json& params = msg["params"];
  if (!params.contains("_meta") || !params["_meta"].is_object() || !params["_meta"].contains(proto::kMetaProtocolVersion))
    return std::nullopt;
  const json& v = params["_meta"][proto::kMetaProtocolVersion];
  std::string version = v.is_string() ? v.get<std::string>() : v.dump();
  if (method != "server/discover" && Speaks(version)) return std::nullopt;  // a handshake version: its session serves it
  return version;
}

std::optional<json> Server::StatelessError(const json& msg) {
  auto version = StatelessVersion(msg);
  if (!version) return std::nullopt;
  json id = msg.contains("id") && (msg["id"].is_string() || msg["id"].is_number_integer()) ? msg["id"] : json();
  if (!SpeaksStateless(*version)) {
    std::string why = Speaks(*version) ? "protocol version " + *version + " is served after initialize, not per request"
                                       : "unsupported protocol version " + Quote(*version);
    return ErrorReply(id, proto::kUnsupportedProtocolVersion,
                      why + ": this server speaks " + Join(SupportedVersions(), ", ") + " (" + Join(tools::kMcpStatelessVersions, ", ") +
                          " per request; the others through initialize)",
                      json{{"supported", SupportedVersions()}, {"requested", *version}});
  }
  const json& meta = msg["params"]["_meta"];
  if (!meta.contains(proto::kMetaClientCapabilities) || !meta[proto::kMetaClientCapabilities].is_object())
    return ErrorReply(id, proto::kInvalidParams,
                      std::string("params._meta[\"") + proto::kMetaClientCapabilities + "\"] is required (an object; {} when the client has none)");
  if (meta.contains(proto::kMetaClientInfo) && !meta[proto::kMetaClientInfo].is_object())
    return ErrorReply(id, proto::kInvalidParams, std::string("params._meta[\"") + proto::kMetaClientInfo + "\"] must be an object");
  return std::nullopt;
}

const Tool* Server::FindTool(const std::string& name) const {
  for (const auto& t : tools_)
    if (t.name == name) return &t;
  return nullptr;
}

std::string Server::Redact(std::string s) const {
  s = llm::Redact(std::move(s), secrets_);
  s = RedactPemLines(s);  // before the shapes: a whole key block keeps its lines, each [key]
  for (const auto& re : SecretShapes()) RE2::GlobalReplace(&s, *re, "[key]");
  return RedactAssignments(s);
}

json Server::RedactJson(json j) const {
  if (j.is_string()) return Redact(j.get<std::string>());
  if (j.is_array() || j.is_object())
    for (auto& v : j) v = RedactJson(std::move(v));
  return j;
}

std::optional<json> Server::HandleText(std::string_view text, Session* session) {
  json msg = json::parse(text, nullptr, false);
  if (msg.is_discarded()) {
    std::string why;
    try {
      (void)json::parse(text);
    } catch (const json::parse_error& e) {
      why = e.what();
    }
    return ErrorReply(nullptr, proto::kParseError, "parse error: the message is not JSON" + (why.empty() ? "" : " (" + why + ")"));
  }
  return Handle(msg, session);
}

std::optional<json> Server::Handle(const json& msg, Session* session) {
  if (msg.is_array()) {
    if (!HasBatches(session->version))
      return ErrorReply(nullptr, proto::kInvalidRequest,
                        "JSON-RPC batches are not part of MCP " + (session->version.empty() ? std::string("before initialize") : "version " + session->version) +
                            " (only 2025-03-26 had them): send one message at a time");
    if (msg.empty()) return ErrorReply(nullptr, proto::kInvalidRequest, "an empty batch");
    json out = json::array();
    for (const auto& m : msg) {
      if (m.is_array()) {
        out.push_back(ErrorReply(nullptr, proto::kInvalidRequest, "a batch inside a batch"));
        continue;
      }
      if (m.is_object() && m.value("method", json()) == "initialize") {
        out.push_back(ErrorReply(m.value("id", json()), proto::kInvalidRequest, "initialize must not be part of a batch"));
        continue;
      }
      if (auto r = Handle(m, session)) out.push_back(std::move(*r));
    }
    if (out.empty()) return std::nullopt;
    return out;
  }
  if (!msg.is_object()) return ErrorReply(nullptr, proto::kInvalidRequest, "a JSON-RPC message must be an object, got " + std::string(msg.type_name()));
  json id = msg.contains("id") ? msg["id"] : json();
  if (!msg.contains("jsonrpc") || msg["jsonrpc"] != proto::kJsonRpcVersion)
    return ErrorReply(id.is_string() || id.is_number_integer() ? id : json(), proto::kInvalidRequest, "\"jsonrpc\" must be \"2.0\"");
  if (!msg.contains("method")) {
    if (msg.contains("result") || msg.contains("error")) return std::nullopt;  // a response: we never ask, so nothing waits on it
    return ErrorReply(id.is_string() || id.is_number_integer() ? id : json(), proto::kInvalidRequest, "a request needs a \"method\"");
  }
  if (!msg["method"].is_string()) return ErrorReply(id.is_string() || id.is_number_integer() ? id : json(), proto::kInvalidRequest, "\"method\" must be a string");
  std::string method = msg["method"].get<std::string>();
  bool notification = !msg.contains("id");
  if (!notification && !id.is_string() && !id.is_number_integer())
    return ErrorReply(nullptr, proto::kInvalidRequest, "\"id\" must be a string or an integer, got " + id.dump());
  json params = msg.contains("params") ? msg["params"] : json::object();
  if (StatelessVersion(msg)) {
    if (notification) return std::nullopt;  // notifications/cancelled: answers are not streamed, nothing to stop
    return HandleStateless(msg, method, id, params);
  }
  if (notification) {
    if (method == "notifications/initialized" && !session->version.empty()) session->initialized = true;
    return std::nullopt;  // notifications/cancelled and the rest: nothing to do (answers are not streamed)
  }
  if (!params.is_object()) return ErrorReply(id, proto::kInvalidParams, "params must be an object, got " + params.dump());
  if (method == "server/discover")
    return ErrorReply(id, proto::kInvalidParams,
                      std::string("server/discover needs params._meta[\"") + proto::kMetaProtocolVersion + "\"] (one of " +
                          Join(tools::kMcpStatelessVersions, ", ") + ") and params._meta[\"" + proto::kMetaClientCapabilities + "\"]");
  if (session->version.empty() && method != "initialize" && method != "ping")
    return ErrorReply(id, proto::kInvalidRequest,
                      "the session is not initialized: send initialize first, or name the protocol version in params._meta[\"" +
                          std::string(proto::kMetaProtocolVersion) + "\"] (" + Join(tools::kMcpStatelessVersions, ", ") + ", stateless) (method " +
                          Quote(method) + ")");
  try {
    bool none = false;
    json result = Dispatch(method, params, session, &none);
    return Reply(id, std::move(result));
  } catch (const RpcError& e) {
    return ErrorReply(id, e.code, Redact(e.message));
  } catch (const std::exception& e) {
    return ErrorReply(id, proto::kInternalError, Redact(std::string("internal error: ") + e.what()));
  }
}

std::optional<json> Server::HandleStateless(const json& msg, const std::string& method, const json& id, const json& params) {
  if (auto e = StatelessError(msg)) return e;
  Session one;  // this request's alone: nothing carries over to the next
  one.version = params["_meta"][proto::kMetaProtocolVersion].get<std::string>();
  one.client_info = params["_meta"].value(proto::kMetaClientInfo, json::object());
  one.initialized = true;
  json result;
  try {
    if (method == "server/discover") {
      result = json{{"supportedVersions", SupportedVersions()}, {"capabilities", Capabilities()}, {"instructions", kInstructions}};
    } else if (method == "ping" || method == "initialize" || method == "logging/setLevel") {
      throw RpcError{proto::kMethodNotFound, "method not found: " + method + " is not part of protocol version " + one.version};
    } else if (method == "subscriptions/listen") {
      throw RpcError{proto::kMethodNotFound,
                     "method not found: subscriptions/listen — this server offers no subscriptions (its lists and resources "
                     "announce no changes: listChanged and subscribe are false); read them again when their ttlMs runs out"};
    } else {
      bool none = false;
      result = Dispatch(method, params, &one, &none);
    }
  } catch (const RpcError& e) {
    return ErrorReply(id, e.code, Redact(e.message));
  } catch (const std::exception& e) {
    return ErrorReply(id, proto::kInternalError, Redact(std::string("internal error: ") + e.what()));
  }
  result["resultType"] = "complete";
  json info{{"name", options_.name}, {"version", options_.version}, {"title", "Specwright"}};
  if (!result.contains("_meta") || !result["_meta"].is_object()) result["_meta"] = json::object();
  result["_meta"][proto::kMetaServerInfo] = info;
  int64_t ttl = 0;
  const char* scope = nullptr;
  if (CacheHints(method, &ttl, &scope)) {
    result["ttlMs"] = ttl;
    result["cacheScope"] = scope;
  }
  return Reply(id, std::move(result));
}

json Server::Dispatch(const std::string& method, const json& params, Session* session, bool* no_answer) {
  const std::string& v = session->version;
  if (method == "initialize") {
    if (!session->version.empty()) throw RpcError{proto::kInvalidRequest, "already initialized (version " + v + ")"};
    std::string asked = StringParam(params, "protocolVersion", true);
    if (params.contains("capabilities") && !params["capabilities"].is_object())
      throw RpcError{proto::kInvalidParams, "params.capabilities must be an object"};
    session->version = Negotiate(asked);
    session->client_info = params.value("clientInfo", json::object());
    json info{{"name", options_.name}, {"version", options_.version}};
    if (AtLeast(session->version, "2025-06-18")) info["title"] = "Specwright";
    json out{{"protocolVersion", session->version}, {"capabilities", Capabilities()}, {"serverInfo", info}};
    if (AtLeast(session->version, "2025-03-26")) out["instructions"] = kInstructions;
    return out;
  }
  if (method == "ping") return json::object();
  if (method == "tools/list") {
    std::string next;
    json list = json::array();
    for (const auto& t : Page(tools_, params, options_.page_size, &next)) {
      json j{{"name", t.name}, {"description", t.description}, {"inputSchema", t.input_schema}};
      if (AtLeast(v, "2025-06-18")) j["title"] = t.title;
      if (AtLeast(v, "2025-03-26"))
        j["annotations"] = {{"title", t.title}, {"readOnlyHint", t.read_only}, {"destructiveHint", false},
                            {"idempotentHint", t.read_only}, {"openWorldHint", false}};
      list.push_back(std::move(j));
    }
    json out{{"tools", list}};
    if (!next.empty()) out["nextCursor"] = next;
    return out;
  }
  if (method == "tools/call") return CallTool(params, session);
  if (method == "resources/list") {
    std::string next;
    json list = json::array();
    for (const auto& r : Page(ListResources(), params, options_.page_size, &next)) {
      json j{{"uri", r.uri}, {"name", r.name}, {"description", r.description}, {"mimeType", r.mime_type}};
      if (AtLeast(v, "2025-06-18")) j["title"] = r.title;
      list.push_back(std::move(j));
    }
    json out{{"resources", list}};
    if (!next.empty()) out["nextCursor"] = next;
    return out;
  }
  if (method == "resources/templates/list") {
    StringParam(params, "cursor", false);
    return json{{"resourceTemplates", json::array()}};
  }
  if (method == "resources/read") return ReadResource(params, v);
  if (method == "prompts/list") {
    std::string next;
    json list = json::array();
    for (const auto& p : Page(ListPrompts(), params, options_.page_size, &next)) {
      json j{{"name", p.name},
             {"description", p.description},
             {"arguments", json::array({{{"name", "task"},
                                         {"description", "what you are about to do; appended after the rules"},
                                         {"required", false}}})}};
      if (AtLeast(v, "2025-06-18")) j["title"] = p.title;
      list.push_back(std::move(j));
    }
    json out{{"prompts", list}};
    if (!next.empty()) out["nextCursor"] = next;
    return out;
  }
  if (method == "prompts/get") return GetPrompt(params);
  throw RpcError{proto::kMethodNotFound, "method not found: " + method};
}

json Server::CallTool(const json& params, Session* session) {
  std::string name = StringParam(params, "name", true);
  const Tool* t = FindTool(name);
  if (!t) {
    std::vector<std::string> names;
    for (const auto& x : tools_) names.push_back(x.name);
    std::string hint = DidYouMean(name, names);
    throw RpcError{proto::kInvalidParams, "unknown tool: " + Quote(name) + (hint.empty() ? "" : " (did you mean " + Quote(hint) + "?)")};
  }
  json args = params.contains("arguments") && !params["arguments"].is_null() ? params["arguments"] : json::object();
  if (!args.is_object()) throw RpcError{proto::kInvalidParams, "params.arguments must be an object, got " + args.dump()};
  auto failed = [&](const std::string& why) {
    return json{{"content", json::array({{{"type", "text"}, {"text", Redact(why)}}})}, {"isError", true}};
  };
  if (Status s = CheckArguments(t->input_schema, args); !s.ok()) {
    // Up to 2025-06-18 bad arguments are a protocol error; since 2025-11-25 a tool execution
    // error, so the model sees it and can correct the call.
    if (!AtLeast(session->version, "2025-11-25")) throw RpcError{proto::kInvalidParams, name + ": " + s.message()};
    return failed(name + ": " + s.message());
  }
  Result<ToolAnswer> r = InvalidInput("not run");
  try {
    r = t->run(args);
  } catch (const std::exception& e) {
    r = Internal(std::string("unexpected error: ") + e.what());
  }
  if (!r.ok()) return failed(r.status().message());
  // Every answer is capped (after redaction, which may change its size): an agent's context
  // is not the place for megabytes, and a client may not take them.
  return CapAnswer(Redact(r->text),
                   AtLeast(session->version, "2025-06-18") && !r->structured.is_null() ? RedactJson(r->structured) : json(),
                   options_.max_answer_bytes, t->narrow_hint);
}

json Server::ReadResource(const json& params, const std::string& version) {
  std::string uri = StringParam(params, "uri", true);
  if (uri.find("..") != std::string::npos || uri.find('\\') != std::string::npos)
    throw RpcError{proto::kInvalidParams, "params.uri " + Quote(uri) + " leads outside the project"};
  for (const auto& r : ListResources()) {
    if (r.uri != uri) continue;
    auto text = ReadLimited(r.path, uri, options_.max_resource_bytes);
    return json{{"contents", json::array({{{"uri", uri}, {"mimeType", r.mime_type}, {"text", Redact(std::move(text))}}})}};
  }
  // -32002 up to 2025-11-25; 2026-07-28 made it invalid params (and forbids -32002).
  throw RpcError{SpeaksStateless(version) ? proto::kInvalidParams : proto::kResourceNotFound, "resource not found: " + uri};
}

json Server::GetPrompt(const json& params) {
  std::string name = StringParam(params, "name", true);
  json args = params.contains("arguments") && !params["arguments"].is_null() ? params["arguments"] : json::object();
  if (!args.is_object()) throw RpcError{proto::kInvalidParams, "params.arguments must be an object"};
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (it.key() != "task") throw RpcError{proto::kInvalidParams, "prompt " + Quote(name) + " has no argument " + Quote(it.key()) + " (it takes: task)"};
    if (!it.value().is_string()) throw RpcError{proto::kInvalidParams, "argument \"task\" must be a string"};
  }
  for (const auto& p : ListPrompts()) {
    if (p.name != name) continue;
    auto text = ReadLimited(p.path, "rule set " + name, options_.max_resource_bytes);
    std::string body = std::move(text);
    std::string task = args.value("task", "");
    if (!task.empty()) body += std::string(body.empty() || body.back() == '\n' ? "" : "\n") + "\n## Task\n\n" + task + "\n";
    return json{{"description", p.description},
                {"messages", json::array({{{"role", "user"}, {"content", {{"type", "text"}, {"text", Redact(body)}}}}})}};
  }
  std::vector<std::string> names;
  for (const auto& p : ListPrompts()) names.push_back(p.name);
  throw RpcError{proto::kInvalidParams, "unknown prompt: " + Quote(name) + (names.empty() ? " (there is no rules/ folder)" : " (prompts: " + Join(names, ", ") + ")")};
}

std::string CapText(std::string text, size_t max_bytes, const std::string& hint) {
  if (text.size() <= max_bytes) return text;
  size_t full = text.size();
  text = Utf8Prefix(text, max_bytes);
  size_t nl = text.rfind('\n');
  if (nl != std::string::npos && nl + 1 >= text.size() / 2) text.resize(nl + 1);  // end on a whole line
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text + kTruncatedNote + " the answer is " + std::to_string(full) + " bytes; only the first " +
         std::to_string(text.size()) + " are shown — " + hint + "]\n";
}

json CapAnswer(std::string text, json structured, size_t max_bytes, const std::string& hint) {
  auto dumped_size = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace).size(); };
  auto build = [&](std::string t, const json& s) {
    json out{{"content", json::array({{{"type", "text"}, {"text", std::move(t)}}})}, {"isError", false}};
    if (!s.is_null()) out["structuredContent"] = s;
    return out;
  };
  json out = build(text, structured);
  if (dumped_size(out) <= max_bytes) return out;
  // Over: the two share the budget. The structured result gets what the text leaves, but at
  // most half when the text is big too; the text then gets what remains.
  if (!structured.is_null()) {
    size_t s_budget = text.size() >= max_bytes / 2 ? max_bytes / 2 : max_bytes - text.size();
    structured = CapStructured(std::move(structured), s_budget, hint);
  }
  size_t s_size = structured.is_null() ? 0 : dumped_size(structured);
  size_t budget = std::min(text.size(), max_bytes > s_size ? max_bytes - s_size : 0);
  // The envelope, the escaping of the text and the note appended to a cut text also count:
  // cut further by what is still over (a few rounds at most).
  for (int round = 0; round < 8; ++round) {
    out = build(CapText(text, budget, hint), structured);
    size_t n = dumped_size(out);
    if (n <= max_bytes || budget == 0) break;
    size_t over = n - max_bytes;
    budget = budget > over ? budget - over : 0;
  }
  return out;
}

json CapStructured(json j, size_t max_bytes, const std::string& hint) {
  std::string dumped = j.dump(-1, ' ', false, json::error_handler_t::replace);
  if (dumped.size() <= max_bytes) return j;
  json out{{"truncated", true}, {"bytes", dumped.size()}, {"hint", hint}};
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it) {
      const json& v = it.value();
      if (out.contains(it.key())) continue;
      if (v.is_number() || v.is_boolean() || (v.is_string() && v.get_ref<const std::string&>().size() <= 200))
        out[it.key()] = v;
      else if (v.is_array())
        out[it.key() + "_count"] = v.size();
    }
  // A list dropped here is a list cut: its NAME_truncated flag (spec_check's
  // findings_truncated) says so.
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.value().is_array() && out.contains(it.key() + "_truncated") && out[it.key() + "_truncated"].is_boolean())
        out[it.key() + "_truncated"] = true;
  return out;
}

Status CheckArguments(const json& schema, const json& args) {
  const json props = schema.value("properties", json::object());
  for (const auto& req : schema.value("required", json::array()))
    if (req.is_string() && (!args.contains(req.get<std::string>()) || args[req.get<std::string>()].is_null()))
      return InvalidInput("argument " + Quote(req.get<std::string>()) + " is required");
  for (auto it = args.begin(); it != args.end(); ++it) {
    const std::string& k = it.key();
    if (!props.contains(k)) {
      std::vector<std::string> names;
      for (auto p = props.begin(); p != props.end(); ++p) names.push_back(p.key());
      std::string hint = DidYouMean(k, names);
      return InvalidInput("unknown argument " + Quote(k) + (hint.empty() ? "" : " (did you mean " + Quote(hint) + "?)") +
                          (names.empty() ? "" : "; arguments: " + Join(names, ", ")));
    }
    const json& p = props[k];
    const json& v = it.value();
    if (v.is_null()) continue;
    std::string type = p.value("type", "");
    bool ok = type.empty() || (type == "string" && v.is_string()) || (type == "integer" && v.is_number_integer()) ||
              (type == "number" && v.is_number()) || (type == "boolean" && v.is_boolean()) ||
              (type == "array" && v.is_array()) || (type == "object" && v.is_object());
    if (!ok) return InvalidInput("argument " + Quote(k) + " must be " + (type == "integer" || type == "array" || type == "object" ? "an " : "a ") + type + ", got " + v.dump());
    if (type == "array" && p.contains("items") && p["items"].value("type", "") == "string")
      for (const auto& e : v)
        if (!e.is_string()) return InvalidInput("argument " + Quote(k) + " must be a list of strings, got " + v.dump());
    if (type == "integer") {
      if (p.contains("minimum") && v.get<int64_t>() < p["minimum"].get<int64_t>())
        return InvalidInput("argument " + Quote(k) + " must be at least " + p["minimum"].dump() + ", got " + v.dump());
      if (p.contains("maximum") && v.get<int64_t>() > p["maximum"].get<int64_t>())
        return InvalidInput("argument " + Quote(k) + " must be at most " + p["maximum"].dump() + ", got " + v.dump());
    }
    if (p.contains("enum") && std::find(p["enum"].begin(), p["enum"].end(), v) == p["enum"].end())
      return InvalidInput("argument " + Quote(k) + " must be one of " + p["enum"].dump() + ", got " + v.dump());
    if (type == "object" && p.contains("additionalProperties") && p["additionalProperties"].is_object() &&
        p["additionalProperties"].value("type", "") == "string")
      for (auto e = v.begin(); e != v.end(); ++e)
        if (!e.value().is_string()) return InvalidInput("argument " + Quote(k) + "." + e.key() + " must be a string, got " + e.value().dump());
  }
  return Status::Ok();
}

std::unique_ptr<Server> NewServer(Options options) {
  auto s = std::make_unique<Server>(std::move(options));
  AddSpecTools(s.get());
  AddRunTools(s.get());
  if (s->options().allow_writes) AddWriteTools(s.get());
  AddCodeTools(s.get());
  return s;
}

}  // namespace sw::mcp
