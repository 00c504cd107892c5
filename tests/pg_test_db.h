// Tests against a real PostgreSQL: the cluster `make test` starts (scripts/pg-cluster.sh) is
// named by SPECWRIGHT_TEST_PG_URL; each test gets a database of its own (t_<random>), made
// through that URL and dropped when the test ends, so tests run in parallel unseen by each other.
// Without the variable a PostgreSQL test FAILS (saying how to get a cluster), unless the
// developer opted out with SPECWRIGHT_TEST_NO_PG=1: then it is skipped.
//
//   TEST(Queue, Claims) {
//     testpg::TempPgDatabase db;
//     SW_REQUIRE_PG(db);  // also in a fixture's SetUp
//     auto store = sw::store::OpenStore(db.url());
//     ...
//   }
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <random>
#include <string>

#include "store/pg.h"

namespace testpg {

/// NoPg says the developer chose to skip the PostgreSQL tests (SPECWRIGHT_TEST_NO_PG=1).
inline bool NoPg() {
  const char* v = ::getenv("SPECWRIGHT_TEST_NO_PG");
  return v && *v && std::string(v) != "0";
}

/// TestPgUrl is the admin URL of the test cluster; "" (and a test failure, unless NoPg) when
/// it is not set.
inline std::string TestPgUrl() {
  const char* v = ::getenv("SPECWRIGHT_TEST_PG_URL");
  if (v && *v) return v;
  if (!NoPg())
    ADD_FAILURE() << "SPECWRIGHT_TEST_PG_URL is not set: run the tests with `make test` (it starts a PostgreSQL "
                     "cluster), or start one with `bash scripts/pg-cluster.sh start /tmp/pgdev` and export "
                     "SPECWRIGHT_TEST_PG_URL=$(cat /tmp/pgdev/url); SPECWRIGHT_TEST_NO_PG=1 skips these tests";
  return "";
}

/// UrlWithDatabase is url with its database name replaced by db (the query string kept).
inline std::string UrlWithDatabase(const std::string& url, const std::string& db) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t query = url.find('?', start);
  std::string head = url.substr(0, query), tail = query == std::string::npos ? "" : url.substr(query);
  size_t at = head.rfind('@');
  size_t slash = head.find('/', at == std::string::npos || at < start ? start : at);
  if (slash != std::string::npos) head.erase(slash);
  return head + "/" + db + tail;
}

/// TempPgDatabase creates a fresh database and drops it (WITH (FORCE)) when it goes.
class TempPgDatabase {
 public:
  TempPgDatabase() {
    admin_ = TestPgUrl();
    if (admin_.empty()) {
      why_ = NoPg() ? "SPECWRIGHT_TEST_NO_PG is set: PostgreSQL tests skipped" : "no PostgreSQL test cluster";
      return;
    }
    std::random_device rd;
    std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
    char buf[24];
    std::snprintf(buf, sizeof(buf), "t_%016llx", static_cast<unsigned long long>(rng()));
    name_ = buf;
    auto conn = sw::store::pg::Conn::Open(admin_);
    if (!conn.ok()) {
      ADD_FAILURE() << "connecting to the test cluster: " << conn.status().message();
      why_ = "the test cluster is unreachable";
      return;
    }
    auto made = (*conn)->Exec("CREATE DATABASE " + name_);
    if (!made.ok()) {
      ADD_FAILURE() << "CREATE DATABASE " << name_ << ": " << made.status().message();
      why_ = "could not create a database";
      return;
    }
    url_ = UrlWithDatabase(admin_, name_);
  }
  ~TempPgDatabase() {
    if (url_.empty()) return;
    auto conn = sw::store::pg::Conn::Open(admin_);
    if (conn.ok()) (void)(*conn)->Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  TempPgDatabase(const TempPgDatabase&) = delete;
  TempPgDatabase& operator=(const TempPgDatabase&) = delete;

  /// url connects to the fresh database; "" when there is none (see why()).
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  /// admin_url is the cluster's superuser URL (to make roles, or look behind a store's back).
  const std::string& admin_url() const { return admin_; }
  const std::string& why() const { return why_; }

 private:
  std::string admin_, name_, url_, why_;
};

}  // namespace testpg

/// SW_REQUIRE_PG(db) ends the test (or the fixture's SetUp, so the body never runs) when db
/// has no database: skipped under SPECWRIGHT_TEST_NO_PG, failed otherwise.
#define SW_REQUIRE_PG(db)                                        \
  do {                                                           \
    if ((db).url().empty()) {                                    \
      if (::testpg::NoPg()) GTEST_SKIP() << (db).why();          \
      GTEST_FAIL() << (db).why();                                \
    }                                                            \
  } while (0)
