// The SQLite store's own behaviour: its files (the database, large blobs as files), its
// migrations from older versions, its PRAGMAs. What every store does is in store_test.cc.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/hash.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace sw::store {
namespace {

/// SqliteStoreTest gives every test a fresh directory under /tmp and removes it afterwards.
class SqliteStoreTest : public ::testing::Test, public StoreTestHelpers {
 protected:
  using StoreTestHelpers::Run;  // not gtest's Test::Run
  void SetUp() override {
    char tmpl[] = "/tmp/sw_store_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Store> Open(const StoreOptions& options = {}) {
    auto s = OpenSqlite(dir_, options);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  std::string dir_;
};

TEST_F(SqliteStoreTest, LargeBlobsAreFilesAndInlineBlobsAreRows) {
  StoreOptions opt;
  opt.inline_blob_max = 16;
  auto s = Open(opt);
  std::string small = "tiny", large(1000, 'x'), empty;
  std::string hs = Hash128Hex(small), hl = Hash128Hex(large), he = Hash128Hex(empty);
  Batch b;
  b.blobs = {{hs, small}, {hl, large}, {he, empty}};
  ASSERT_TRUE(s->Commit(b).ok());
  EXPECT_FALSE(FileExists(dir_ + "/blobs/" + hs.substr(0, 2) + "/" + hs));
  EXPECT_TRUE(FileExists(dir_ + "/blobs/" + hl.substr(0, 2) + "/" + hl));
  EXPECT_EQ(*s->GetBlob(hs), small);
  EXPECT_EQ(*s->GetBlob(hl), large);
  auto e = s->GetBlob(he);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(*e, "");
  // Committing the same blobs again is a no-op, not an error.
  ASSERT_TRUE(s->Commit(b).ok());
  EXPECT_EQ(*s->GetBlob(hl), large);
}

TEST_F(SqliteStoreTest, MigratesAVersionOneStoreKeepingItsRows) {
  // A store as version 1 left it: its tables, a call row without the replay columns.
  ASSERT_TRUE(std::filesystem::create_directories(dir_ + "/v1"));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/v1/specwright.db").c_str(), &db), SQLITE_OK);
  {
    auto fresh = OpenSqlite(dir_ + "/tmpl");
    ASSERT_TRUE(fresh.ok());
  }
  // Take version 1's schema text from a fresh store's first migration by rebuilding it.
  sqlite3* tmpl = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/tmpl/specwright.db").c_str(), &tmpl), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(tmpl, "SELECT sql FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'", -1, &q, nullptr), SQLITE_OK);
  while (sqlite3_step(q) == SQLITE_ROW) {
    std::string sql = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
    if (sql.find("CREATE TABLE live") == 0) continue;  // version 3's
    if (sql.find("CREATE TABLE schedule_fires") == 0) continue;  // version 7's
    // Version 1 had no replay columns (2) and no response_model (4).
    for (const char* col : {", request_hash TEXT NOT NULL DEFAULT ''", ", reply_blob TEXT NOT NULL DEFAULT ''",
                            ", cost_unknown INTEGER NOT NULL DEFAULT 0", ", response_model TEXT NOT NULL DEFAULT ''",
                            ", session TEXT NOT NULL DEFAULT ''", ", label TEXT NOT NULL DEFAULT ''",
                            ", detail TEXT NOT NULL DEFAULT ''", ", owner TEXT NOT NULL DEFAULT ''",
                            ", lease_until REAL NOT NULL DEFAULT 0"}) {
      size_t at = sql.find(col);
      if (at != std::string::npos) sql.erase(at, std::string(col).size());
    }
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sql;
  }
  sqlite3_finalize(q);
  sqlite3_close(tmpl);
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO llm_calls (run_id, node, iteration, item, attempt, provider, model, tokens_in, "
                         "tokens_out, tokens_cached_read, tokens_cache_write, tokens_reasoning, cost_usd, started_at, "
                         "latency_ms, ttft_ms, status, error, request_blob, response_blob) VALUES ('old', 'a', 0, -1, 1, "
                         "'p', 'm', 5, 6, 0, 0, 0, 0.5, 1, 2, 3, 'ok', '', '', ''); PRAGMA user_version = 1;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = OpenSqlite(dir_ + "/v1");
  ASSERT_TRUE(s.ok()) << s.status().message();
  auto calls = (*s)->ListLlmCalls("old");
  ASSERT_TRUE(calls.ok()) << calls.status().message();
  ASSERT_EQ(calls->size(), 1u);
  EXPECT_EQ((*calls)[0].tokens_out, 6);
  EXPECT_EQ((*calls)[0].request_hash, "");
  EXPECT_EQ((*calls)[0].response_model, "");
  EXPECT_EQ((*calls)[0].response_id, "");
  EXPECT_EQ(*(*s)->IntegrityCheck(), "ok");
}

TEST_F(SqliteStoreTest, GarbageDatabaseFileIsAClearError) {
  std::string path = dir_ + "/specwright.db";
  ASSERT_TRUE(WriteFileAtomic(path, std::string(8192, '\x5a') + "not a database").ok());
  auto s = OpenSqlite(dir_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(path), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("not a database"), std::string::npos) << s.status().message();
}

TEST_F(SqliteStoreTest, CreatesMissingDirectories) {
  std::string nested = dir_ + "/a/b";
  auto s = OpenSqlite(nested);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(FileExists(nested + "/specwright.db"));
  EXPECT_TRUE(FileExists(nested + "/blobs"));
}

// Not a benchmark gate, just a tripwire: a scheduling-step commit must stay in microseconds.

// A read-only command opens with create = false: a missing store is NotFound and nothing is
// made (no directory, no database, no blobs/); an existing one opens, and its first large
// blob makes blobs/ then.
TEST_F(SqliteStoreTest, OpenWithoutCreateMakesNothing) {
  std::string missing = dir_ + "/project/.specwright";
  StoreOptions o;
  o.create = false;
  auto none = OpenSqlite(missing, o);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  EXPECT_NE(none.status().message().find("no store at " + missing), std::string::npos) << none.status().message();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/project"));
  // An empty directory is no store either, and stays empty.
  std::filesystem::create_directories(missing);
  EXPECT_FALSE(OpenSqlite(missing, o).ok());
  EXPECT_TRUE(std::filesystem::is_empty(missing));

  { auto made = OpenSqlite(missing); ASSERT_TRUE(made.ok()); CommitRun(**made, Run("r1", 1)); }
  std::filesystem::remove_all(missing + "/blobs");
  auto s = OpenSqlite(missing, o);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_FALSE(std::filesystem::exists(missing + "/blobs"));
  auto r = (*s)->GetRun("r1");
  ASSERT_TRUE(r.ok() && r->has_value());
  Batch b;
  std::string big(10000, 'x');
  b.blobs.emplace_back(Hash128Hex(big), big);
  ASSERT_TRUE((*s)->Commit(b).ok());
  auto back = (*s)->GetBlob(Hash128Hex(big));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, big);
}

}  // namespace
}  // namespace sw::store
