// pg: a thin libpq connection (the one place that talks to PostgreSQL), used by the PostgreSQL
// store and the work queue. Not thread-safe: one Conn per thread, or a mutex around it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"

struct pg_conn;    // libpq's PGconn
struct pg_result;  // libpq's PGresult

namespace sw::store::pg {

/// IsPostgresUrl: "postgresql://..." or "postgres://..." (libpq's URI forms).
bool IsPostgresUrl(const std::string& location);
/// RedactUrl drops the password (and any password= query parameter) from a connection URL, for
/// messages and logs: "postgresql://u:secret@h/db" -> "postgresql://u@h/db".
std::string RedactUrl(const std::string& url);

/// Param is one statement parameter ($1, $2, ...), sent as text unless binary (bytea).
struct Param {
  std::string value;
  bool null = false;
  bool binary = false;
};
Param Text(std::string v);
Param Int(int64_t v);
Param Real(double v);
Param Bool(bool v);
Param Bytes(std::string v);  // bytea, sent binary
Param Null();

/// Rows is a result set; every value as text (bytea columns are returned decoded by Bytes()).
class Rows {
 public:
  int size() const { return static_cast<int>(values_.size()); }
  bool empty() const { return values_.empty(); }
  const std::string& Str(int row, int col) const;
  bool IsNull(int row, int col) const;
  int64_t Int(int row, int col) const;   // 0 when NULL
  double Real(int row, int col) const;   // 0 when NULL
  bool Bool(int row, int col) const;     // "t"
  /// Bytes decodes a bytea column read as text ("\x..." hex form).
  std::string Bytes(int row, int col) const;
  int64_t affected = 0;  // rows an INSERT/UPDATE/DELETE touched

  std::vector<std::vector<std::string>> values_;
  std::vector<std::vector<bool>> nulls_;
};

/// Notification is one NOTIFY received on a channel this connection LISTENs to.
struct Notification {
  std::string channel;
  std::string payload;
};

/// kLostBeforeSending starts the message of a kUnavailable from Exec or Pipeline when the
/// connection was found lost before the statement was sent: retrying on a new connection
/// cannot apply anything twice.
inline constexpr const char* kLostBeforeSending = "connection to PostgreSQL lost before anything was sent";

/// Statement is one entry of Conn::Pipeline.
struct Statement {
  std::string sql;
  std::vector<Param> params;
};

class Conn {
 public:
  /// Open connects (connect_timeout seconds), sets application_name=specwright, and checks
  /// the server answers. Errors name the redacted URL and libpq's message.
  static Result<std::unique_ptr<Conn>> Open(const std::string& url, double connect_timeout = 10);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  /// Exec runs one statement with parameters ($1...). A failure is a Status whose message
  /// carries the server's message and SQLSTATE; kUnavailable when the connection is lost
  /// (Reset() then reconnects) and also for a serialization failure or deadlock
  /// (SQLSTATE 40001/40P01: retry the transaction; the message says which), kInternal otherwise.
  Result<Rows> Exec(const std::string& sql, const std::vector<Param>& params = {});
  /// Pipeline sends every statement at once and then reads their results: one round trip for
  /// the lot (a store commit is BEGIN, its writes and COMMIT). The first failure is returned,
  /// naming the statement's index; the server skips every statement after it, and a
  /// transaction the failure left aborted is rolled back.
  Result<std::vector<Rows>> Pipeline(const std::vector<Statement>& statements);
  /// ExecScript runs several statements without parameters (DDL, migrations).
  Status ExecScript(const std::string& sql);
  Status Begin();  // BEGIN
  Status Commit();
  Status Rollback();  // never fails loudly: a lost connection has rolled back already
  /// Listen subscribes this connection to channel (an identifier: [a-z_]+).
  Status Listen(const std::string& channel);
  /// Wait blocks up to timeout seconds for notifications (returning at once with any already
  /// received); empty on timeout. kUnavailable when the connection is lost.
  Result<std::vector<Notification>> Wait(double timeout);
  /// Reset reconnects after a lost connection (LISTENs must be issued again).
  Status Reset();
  bool ok() const;
  const std::string& url() const { return url_; }  // as given (may hold a password: never print)
  pg_conn* raw() { return conn_; }

 private:
  Conn() = default;
  /// CheckIdle notices a connection the server closed while it sat idle.
  Status CheckIdle();
  /// Error turns a failed result (or, null, the connection's state) into a Status.
  Status Error(const pg_result* res) const;
  /// Prepared names the server-side statement for sql, preparing it on first use (a bounded
  /// cache: past it, statements are sent unnamed); "" when it is not cached.
  Result<std::string> Prepared(const std::string& sql);
  /// Scrub removes the URL's password from a message (libpq may echo the connection string).
  std::string Scrub(std::string message) const;

  pg_conn* conn_ = nullptr;
  std::string url_;
  std::vector<std::string> secrets_;  // the password as written and decoded
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
};

}  // namespace sw::store::pg
