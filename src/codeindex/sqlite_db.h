// A thin SQLite wrapper for the code index: one connection, prepared statements, errors as
// Status. Internal to src/codeindex.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sw::codeindex {

/// Stmt is one prepared statement; Step() resets it after its last row or an error, so the
/// same object is reused call after call.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  /// Step: true with a row, false when done; an error carries SQLite's message.
  Result<bool> Step();
  /// Run steps to the end (a statement without rows).
  Status Run();
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  std::string_view Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : std::string_view();
  }
  /// last_code is SQLite's code of the last failed Step (SQLITE_ERROR for a bad FTS5 query).
  int last_code() const { return last_code_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
  int last_code_ = SQLITE_OK;
};

/// Db owns one connection.
class Db {
 public:
  static Result<std::unique_ptr<Db>> Open(const std::string& path);
  ~Db() { sqlite3_close_v2(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  /// Exec runs one or more statements without results.
  Status Exec(const std::string& sql);
  Result<std::unique_ptr<Stmt>> Prepare(std::string_view sql);
  int64_t LastRowId() const { return sqlite3_last_insert_rowid(db_); }
  std::string Error() const { return sqlite3_errmsg(db_); }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace sw::codeindex
