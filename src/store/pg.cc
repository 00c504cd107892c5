#include "store/pg.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "base/strings.h"

namespace sw::store::pg {
namespace {

constexpr size_t kMaxPrepared = 256;  // statements cached per connection
constexpr int kIoTimeoutMs = 120000;  // a pipeline's send waits at most this for the socket

std::string Chomp(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool IsKey(std::string_view key, std::string_view want) { return Lower(key) == want; }

/// RedactQuery drops password= and sslpassword= from a URL's query string.
std::string RedactQuery(const std::string& query) {
  std::vector<std::string> kept;
  for (const std::string& part : Split(query, '&')) {
    std::string key = part.substr(0, part.find('='));
    std::string decoded;
    if (!PercentDecode(key, &decoded)) decoded = key;
    if (IsKey(decoded, "password") || IsKey(decoded, "sslpassword")) continue;
    kept.push_back(part);
  }
  return Join(kept, "&");
}

/// RedactConninfo drops password=... from a "key=value ..." connection string.
std::string RedactConninfo(const std::string& s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t key_start = i;
    while (i < s.size() && s[i] != '=' && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::string key = s.substr(key_start, i - key_start);
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i < s.size() && s[i] == '=') ++i;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i < s.size() && s[i] == '\'') {
      for (++i; i < s.size() && s[i] != '\''; ++i)
        if (s[i] == '\\') ++i;
      if (i < s.size()) ++i;
    } else {
      while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    }
    if (i == start) break;
    if (IsKey(key, "password") || IsKey(key, "sslpassword")) continue;
    out += s.substr(start, i - start);
  }
  return Trim(out);
}

/// UrlQueryStart is where a postgresql:// URL's query begins (npos: none) as libpq reads it:
/// the credentials end at the first '@' before any '/', so a '?' in a password starts no query.
size_t UrlQueryStart(const std::string& url, size_t scheme_end) {
  size_t stop = url.find_first_of("@/", scheme_end);
  return url.find('?', stop != std::string::npos && url[stop] == '@' ? stop : scheme_end);
}

/// Secrets lists the password as written in the URL and as libpq decodes it, to scrub from
/// anything libpq says.
std::vector<std::string> Secrets(const std::string& url) {
  std::vector<std::string> out;
  char* err = nullptr;
  if (PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err)) {
    for (PQconninfoOption* o = opts; o->keyword; ++o)
      if (o->val && *o->val && (std::strcmp(o->keyword, "password") == 0 || std::strcmp(o->keyword, "sslpassword") == 0))
        out.emplace_back(o->val);
    PQconninfoFree(opts);
  }
  if (err) PQfreemem(err);
  if (IsPostgresUrl(url)) {
    size_t scheme_end = url.find("://") + 3;
    size_t q = UrlQueryStart(url, scheme_end);
    std::string head = url.substr(0, q);
    size_t at = head.rfind('@');
    if (at != std::string::npos && at >= scheme_end) {
      size_t colon = head.find(':', scheme_end);
      if (colon != std::string::npos && colon < at && at > colon + 1) out.push_back(head.substr(colon + 1, at - colon - 1));
    }
    if (q != std::string::npos)
      for (const std::string& part : Split(url.substr(q + 1), '&')) {
        size_t eq = part.find('=');
        if (eq == std::string::npos) continue;
        std::string key;
        if (!PercentDecode(part.substr(0, eq), &key)) key = part.substr(0, eq);
        if ((IsKey(key, "password") || IsKey(key, "sslpassword")) && eq + 1 < part.size()) out.push_back(part.substr(eq + 1));
      }
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

/// ValidUtf8 says whether s is well-formed UTF-8 without NUL (what PostgreSQL text accepts).
bool ValidUtf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x01 && c < 0x80) {
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

/// SanitizeUtf8 replaces each NUL and each byte that does not start a well-formed sequence
/// with U+FFFD: PostgreSQL's text holds neither (SQLite's does; a tool's stray byte in an
/// error message must not fail a whole commit).
std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    size_t len = 1;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (c != 0 && i + len <= s.size() && ValidUtf8(s.substr(i, len))) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Rows ReadRows(PGresult* res) {
  Rows rows;
  int n = PQntuples(res), cols = PQnfields(res);
  rows.values_.resize(n);
  rows.nulls_.resize(n);
  for (int r = 0; r < n; ++r) {
    rows.values_[r].reserve(cols);
    rows.nulls_[r].reserve(cols);
    for (int c = 0; c < cols; ++c) {
      bool null = PQgetisnull(res, r, c);
      rows.nulls_[r].push_back(null);
      rows.values_[r].emplace_back(null ? std::string() : std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
    }
  }
  const char* affected = PQcmdTuples(res);
  rows.affected = affected && *affected ? std::strtoll(affected, nullptr, 10) : 0;
  return rows;
}

/// Cacheable says whether a statement is worth preparing (not transaction control, SET, ...).
bool Cacheable(const std::string& sql) {
  size_t i = 0;
  while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
  std::string word;
  while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i])) && word.size() < 8) word += sql[i++];
  word = Lower(word);
  return word == "select" || word == "insert" || word == "update" || word == "delete" || word == "with";
}

}  // namespace

bool IsPostgresUrl(const std::string& location) {
  return StartsWith(location, "postgresql://") || StartsWith(location, "postgres://");
}

std::string RedactUrl(const std::string& url) {
  if (!IsPostgresUrl(url)) return RedactConninfo(url);
  size_t scheme_end = url.find("://") + 3;
  size_t q = UrlQueryStart(url, scheme_end);
  std::string head = url.substr(0, q);
  size_t at = head.rfind('@');
  if (at != std::string::npos && at >= scheme_end) {
    size_t colon = head.find(':', scheme_end);
    if (colon != std::string::npos && colon < at) head.erase(colon, at - colon);
  }
  if (q == std::string::npos) return head;
  std::string query = RedactQuery(url.substr(q + 1));
  return query.empty() ? head : head + "?" + query;
}

Param Text(std::string v) {
  Param p;
  p.value = ValidUtf8(v) ? std::move(v) : SanitizeUtf8(v);
  return p;
}

Param Int(int64_t v) {
  Param p;
  p.value = std::to_string(v);
  return p;
}

Param Real(double v) {
  Param p;
  if (std::isnan(v)) {
    p.value = "NaN";
  } else if (std::isinf(v)) {
    p.value = v > 0 ? "Infinity" : "-Infinity";
  } else {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest text that reads back exactly
    p.value.assign(buf, r.ptr);
  }
  return p;
}

Param Bool(bool v) {
  Param p;
  p.value = v ? "t" : "f";
  return p;
}

Param Bytes(std::string v) {
  Param p;
  p.value = std::move(v);
  p.binary = true;
  return p;
}

Param Null() {
  Param p;
  p.null = true;
  return p;
}

const std::string& Rows::Str(int row, int col) const {
  static const std::string kEmpty;
  if (row < 0 || row >= size() || col < 0 || col >= static_cast<int>(values_[row].size())) return kEmpty;
  return values_[row][col];
}

bool Rows::IsNull(int row, int col) const {
  if (row < 0 || row >= size() || col < 0 || col >= static_cast<int>(nulls_[row].size())) return true;
  return nulls_[row][col];
}

int64_t Rows::Int(int row, int col) const { return IsNull(row, col) ? 0 : std::strtoll(Str(row, col).c_str(), nullptr, 10); }

double Rows::Real(int row, int col) const { return IsNull(row, col) ? 0 : std::strtod(Str(row, col).c_str(), nullptr); }

bool Rows::Bool(int row, int col) const { return Str(row, col) == "t"; }

std::string Rows::Bytes(int row, int col) const {
  const std::string& s = Str(row, col);
  if (s.size() >= 2 && s[0] == '\\' && s[1] == 'x') {
    std::string out;
    out.resize((s.size() - 2) / 2);
    for (size_t i = 0; i < out.size(); ++i) {
      int hi = HexValue(s[2 + 2 * i]), lo = HexValue(s[3 + 2 * i]);
      out[i] = static_cast<char>((hi << 4) | lo);
    }
    return out;
  }
  size_t n = 0;  // the old escape format
  unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(s.c_str()), &n);
  if (!raw) return std::string();
  std::string out(reinterpret_cast<char*>(raw), n);
  PQfreemem(raw);
  return out;
}

Result<std::unique_ptr<Conn>> Conn::Open(const std::string& url, double connect_timeout) {
  std::unique_ptr<Conn> c(new Conn());
  c->url_ = url;
  c->secrets_ = Secrets(url);
  const std::string shown = RedactUrl(url);
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (!opts) {
    std::string m = err ? err : "out of memory";
    if (err) PQfreemem(err);
    return InvalidInput("invalid PostgreSQL URL " + shown + ": " + c->Scrub(Chomp(m)));
  }
  PQconninfoFree(opts);
  // libpq's connect_timeout is whole seconds, at least 2; keepalives and tcp_user_timeout
  // notice a peer that vanished (a lost network) instead of waiting forever.
  std::string timeout = std::to_string(std::max(2, static_cast<int>(std::ceil(connect_timeout))));
  const char* keys[] = {"dbname",     "connect_timeout",     "application_name", "client_encoding",
                        "keepalives", "keepalives_idle",     "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout", nullptr};
  const char* vals[] = {url.c_str(), timeout.c_str(), "specwright", "UTF8", "1", "30", "10", "3", "60000", nullptr};
  c->conn_ = PQconnectdbParams(keys, vals, 1);
  if (!c->conn_) return Status(Code::kUnavailable, "connecting to " + shown + ": out of memory");
  // Notices (a WARNING, the server's goodbye) are not ours to print on stderr.
  PQsetNoticeProcessor(c->conn_, [](void*, const char*) {}, nullptr);
  if (PQstatus(c->conn_) != CONNECTION_OK) {
    std::string m = c->Scrub(Chomp(PQerrorMessage(c->conn_)));
    Code code = Code::kUnavailable;
    if (m.find("authentication failed") != std::string::npos || m.find("no pg_hba.conf entry") != std::string::npos ||
        m.find("password") != std::string::npos ||
        (m.find("role \"") != std::string::npos && m.find("does not exist") != std::string::npos))
      code = Code::kPermission;
    else if (m.find("database \"") != std::string::npos && m.find("does not exist") != std::string::npos)
      code = Code::kNotFound;  // no database: no store (a missing role is no empty store)
    return Status(code, "connecting to " + shown + ": " + m);
  }
  return c;
}

Conn::~Conn() {
  if (conn_) PQfinish(conn_);
}

bool Conn::ok() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

std::string Conn::Scrub(std::string message) const {
  for (const std::string& s : secrets_) {
    if (s.empty()) continue;
    for (size_t at = message.find(s); at != std::string::npos; at = message.find(s, at + 3)) message.replace(at, s.size(), "***");
  }
  return message;
}

Status Conn::Error(const pg_result* cres) const {
  PGresult* res = const_cast<PGresult*>(cres);
  if (!conn_) return Status(Code::kUnavailable, "not connected to PostgreSQL");
  if (!res || PQstatus(conn_) != CONNECTION_OK) {
    std::string m = Chomp(PQerrorMessage(conn_));
    if (res && PQresultErrorMessage(res) && *PQresultErrorMessage(res)) m = Chomp(PQresultErrorMessage(res));
    return Status(Code::kUnavailable, "connection to PostgreSQL lost: " + Scrub(m.empty() ? "no answer" : m));
  }
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  const char* detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
  std::string code = state ? state : "";
  std::string m = primary ? primary : Chomp(PQresultErrorMessage(res));
  if (detail && *detail) m += " (" + std::string(detail) + ")";
  m = Scrub(m) + " [SQLSTATE " + (code.empty() ? "?" : code) + "]";
  if (code == "40001") return Status(Code::kUnavailable, "serialization failure, retry the transaction: " + m);
  if (code == "40P01") return Status(Code::kUnavailable, "deadlock detected, retry the transaction: " + m);
  if (code == "57014") return Status(Code::kTimeout, "statement cancelled (statement_timeout?): " + m);
  if (code.rfind("08", 0) == 0 || code == "57P01" || code == "57P02" || code == "57P03" || code == "53300")
    return Status(Code::kUnavailable, m);
  return Status(Code::kInternal, m);
}

Result<std::string> Conn::Prepared(const std::string& sql) {
  if (!Cacheable(sql)) return std::string();
  auto it = prepared_.find(sql);
  if (it != prepared_.end()) return it->second;
  if (prepared_.size() >= kMaxPrepared) return std::string();
  std::string name = "sw" + std::to_string(prepared_.size() + 1);
  PGresult* res = PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr);
  bool good = res && PQresultStatus(res) == PGRES_COMMAND_OK;
  Status s = good ? Status::Ok() : Error(res);
  PQclear(res);
  if (!good) return s;
  prepared_.emplace(sql, name);
  return name;
}

namespace {

struct ParamArrays {
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
};

Result<ParamArrays> Arrays(const std::vector<Param>& params) {
  ParamArrays a;
  a.values.resize(params.size());
  a.lengths.resize(params.size());
  a.formats.resize(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const Param& p = params[i];
    if (!p.null && !p.binary && std::strlen(p.value.c_str()) != p.value.size())
      return InvalidInput("statement parameter $" + std::to_string(i + 1) + " holds a NUL byte (PostgreSQL text cannot)");
    if (p.value.size() > static_cast<size_t>(INT32_MAX))
      return InvalidInput("statement parameter $" + std::to_string(i + 1) + " is larger than 2 GiB");
    a.values[i] = p.null ? nullptr : p.value.c_str();
    a.lengths[i] = static_cast<int>(p.value.size());
    a.formats[i] = p.binary ? 1 : 0;
  }
  return a;
}

}  // namespace

Result<Rows> Conn::Exec(const std::string& sql, const std::vector<Param>& params) {
  if (!conn_) return Status(Code::kUnavailable, std::string(kLostBeforeSending) + ": not connected");
  SW_RETURN_IF_ERROR(CheckIdle());
  SW_ASSIGN_OR_RETURN(ParamArrays a, Arrays(params));
  SW_ASSIGN_OR_RETURN(std::string name, Prepared(sql));
  int n = static_cast<int>(params.size());
  PGresult* res = name.empty() ? PQexecParams(conn_, sql.c_str(), n, nullptr, a.values.data(), a.lengths.data(),
                                              a.formats.data(), 0)
                               : PQexecPrepared(conn_, name.c_str(), n, a.values.data(), a.lengths.data(),
                                                a.formats.data(), 0);
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    Status s = Error(res);
    PQclear(res);
    return s;
  }
  Rows rows = ReadRows(res);
  PQclear(res);
  return rows;
}

Status Conn::CheckIdle() {
  // An idle connection has nothing to read unless the server said goodbye (a FATAL, then the
  // end of the stream): read it, so a dead connection shows before anything is sent on it.
  for (int i = 0; i < 4 && PQstatus(conn_) == CONNECTION_OK; ++i) {
    pollfd p{PQsocket(conn_), POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) break;
    if (!PQconsumeInput(conn_)) break;
  }
  if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
  return Status(Code::kUnavailable, std::string(kLostBeforeSending) + ": " + Scrub(Chomp(PQerrorMessage(conn_))));
}

Result<std::vector<Rows>> Conn::Pipeline(const std::vector<Statement>& statements) {
  if (!conn_) return Status(Code::kUnavailable, std::string(kLostBeforeSending) + ": not connected");
  SW_RETURN_IF_ERROR(CheckIdle());
  std::vector<ParamArrays> arrays;
  std::vector<std::string> names;
  arrays.reserve(statements.size());
  names.reserve(statements.size());
  for (const Statement& st : statements) {
    SW_ASSIGN_OR_RETURN(ParamArrays a, Arrays(st.params));
    arrays.push_back(std::move(a));
    SW_ASSIGN_OR_RETURN(std::string name, Prepared(st.sql));
    names.push_back(std::move(name));
  }
  if (PQenterPipelineMode(conn_) != 1) return Error(nullptr);
  // Sending in non-blocking mode, reading whatever arrives meanwhile: a server blocked on
  // writing results we do not read would otherwise never read the rest of what we send.
  auto flush = [&]() -> Status {
    for (;;) {
      int r = PQflush(conn_);
      if (r == 0) return Status::Ok();
      if (r < 0) return Error(nullptr);
      pollfd p{PQsocket(conn_), POLLIN | POLLOUT, 0};
      int n = ::poll(&p, 1, kIoTimeoutMs);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return Status(Code::kUnavailable, "PostgreSQL did not read what was sent for 120 s");
      if (n < 0) return Status(Code::kUnavailable, std::string("poll: ") + std::strerror(errno));
      if ((p.revents & POLLIN) && !PQconsumeInput(conn_)) return Error(nullptr);
    }
  };
  Status sent = Status::Ok();
  PQsetnonblocking(conn_, 1);
  for (size_t i = 0; i < statements.size() && sent.ok(); ++i) {
    const ParamArrays& a = arrays[i];
    int n = static_cast<int>(statements[i].params.size());
    int ok = names[i].empty() ? PQsendQueryParams(conn_, statements[i].sql.c_str(), n, nullptr, a.values.data(),
                                                  a.lengths.data(), a.formats.data(), 0)
                              : PQsendQueryPrepared(conn_, names[i].c_str(), n, a.values.data(), a.lengths.data(),
                                                    a.formats.data(), 0);
    sent = ok ? flush() : Error(nullptr);
  }
  bool synced = false;
  if (sent.ok()) {
    synced = PQpipelineSync(conn_) == 1;
    sent = synced ? flush() : Error(nullptr);
  }
  PQsetnonblocking(conn_, 0);
  if (!sent.ok()) {
    // Half a pipeline on the wire: the connection cannot be trusted; Reset makes a new one.
    PQfinish(conn_);
    conn_ = nullptr;  // ok() is false until Reset
    prepared_.clear();
    return sent.code() == Code::kUnavailable ? sent : Status(Code::kUnavailable, sent.message());
  }
  std::vector<Rows> out(statements.size());
  Status first = Status::Ok();
  bool lost = false;
  for (size_t i = 0; i < statements.size() && !lost; ++i) {
    PGresult* res = PQgetResult(conn_);
    if (!res) {
      lost = true;
      first = Error(nullptr);
      break;
    }
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
      out[i] = ReadRows(res);
    } else if (st != PGRES_PIPELINE_ABORTED && first.ok()) {
      first = Error(res).Annotate("statement " + std::to_string(i + 1) + " of " + std::to_string(statements.size()));
      if (PQstatus(conn_) != CONNECTION_OK) lost = true;
    }
    PQclear(res);
    while (!lost && (res = PQgetResult(conn_)) != nullptr) PQclear(res);  // the end of statement i
  }
  if (!lost) {
    // The sync's own result, then out of pipeline mode.
    for (;;) {
      PGresult* res = PQgetResult(conn_);
      if (!res) {
        if (PQstatus(conn_) != CONNECTION_OK) lost = true;
        if (lost || PQpipelineStatus(conn_) == PQ_PIPELINE_OFF) break;
        continue;
      }
      ExecStatusType st = PQresultStatus(res);
      PQclear(res);
      if (st == PGRES_PIPELINE_SYNC) break;
    }
    if (!lost) PQexitPipelineMode(conn_);
  }
  if (lost && first.ok()) first = Error(nullptr);
  if (!first.ok()) {
    // A transaction the failure left aborted can only be rolled back.
    if (!lost && PQtransactionStatus(conn_) == PQTRANS_INERROR) (void)ExecScript("ROLLBACK");
    return first;
  }
  return out;
}

Status Conn::ExecScript(const std::string& sql) {
  if (!conn_) return Status(Code::kUnavailable, "not connected to PostgreSQL");
  PGresult* res = PQexec(conn_, sql.c_str());
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  Status s = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY ? Status::Ok() : Error(res);
  PQclear(res);
  return s;
}

Status Conn::Begin() { return ExecScript("BEGIN"); }
Status Conn::Commit() { return ExecScript("COMMIT"); }

Status Conn::Rollback() {
  if (ok()) (void)ExecScript("ROLLBACK");
  return Status::Ok();
}

Status Conn::Listen(const std::string& channel) {
  if (channel.empty() || channel.size() > 63 ||
      !std::all_of(channel.begin(), channel.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; }))
    return InvalidInput("invalid channel name " + Quote(channel) + ": want [a-z_]+");
  return ExecScript("LISTEN " + channel);
}

Result<std::vector<Notification>> Conn::Wait(double timeout) {
  if (!conn_) return Status(Code::kUnavailable, "not connected to PostgreSQL");
  std::vector<Notification> out;
  auto collect = [&]() {
    while (PGnotify* n = PQnotifies(conn_)) {
      out.push_back(Notification{n->relname ? n->relname : "", n->extra ? n->extra : ""});
      PQfreemem(n);
    }
  };
  if (!PQconsumeInput(conn_)) return Error(nullptr);
  collect();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(std::max(0.0, timeout));
  while (out.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{PQsocket(conn_), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status(Code::kUnavailable, std::string("poll: ") + std::strerror(errno));
    if (n == 0) break;
    if (!PQconsumeInput(conn_)) return Error(nullptr);
    collect();
  }
  return out;
}

Status Conn::Reset() {
  prepared_.clear();
  if (conn_) {
    PQreset(conn_);
  } else {
    auto fresh = Open(url_);
    if (!fresh.ok()) return fresh.status();
    std::swap(conn_, (*fresh)->conn_);
  }
  if (PQstatus(conn_) != CONNECTION_OK)
    return Status(Code::kUnavailable,
                  "reconnecting to " + RedactUrl(url_) + ": " + Scrub(Chomp(PQerrorMessage(conn_))));
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  return Status::Ok();
}

}  // namespace sw::store::pg
