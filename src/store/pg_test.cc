// pg::Conn against the real test cluster (tests/pg_test_db.h): statements, pipelines, errors
// that never show a password, notifications.
#include "store/pg.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "base/hash.h"
#include "store/pg_store.h"
#include "store/store.h"

#include "tests/isolated_env.h"
#include "tests/pg_test_db.h"

namespace sw::store::pg {
namespace {

TEST(PgUrl, RedactDropsEveryPassword) {
  EXPECT_EQ(RedactUrl("postgresql://u:secret@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(RedactUrl("postgres://u:s%40cr3t@h:5432/db?sslmode=disable&password=two"),
            "postgres://u@h:5432/db?sslmode=disable");
  EXPECT_EQ(RedactUrl("postgresql://u:p@ss/w@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(RedactUrl("postgresql://h/db?Password=x"), "postgresql://h/db");
  EXPECT_EQ(RedactUrl("postgresql://u@h/db"), "postgresql://u@h/db");
  // libpq takes everything up to the '@' as the credentials: a '?' in a password is no query.
  EXPECT_EQ(RedactUrl("postgresql://u:ab?cd@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(RedactUrl("postgresql://u:ab?cd@h/db?password=x&sslmode=disable"), "postgresql://u@h/db?sslmode=disable");
  EXPECT_EQ(RedactUrl("postgresql://h:5432/db?options=a@b&password=x"), "postgresql://h:5432/db?options=a@b");
  EXPECT_EQ(RedactUrl("host=h user=u password='a b\\' c' dbname=d"), "host=h user=u dbname=d");
  EXPECT_TRUE(IsPostgresUrl("postgresql://x"));
  EXPECT_TRUE(IsPostgresUrl("postgres://x"));
  EXPECT_FALSE(IsPostgresUrl("/var/lib/specwright"));
  EXPECT_FALSE(IsPostgresUrl("postgresqlx://"));
}

TEST(PgParam, TextIsMadeValidUtf8) {
  EXPECT_EQ(Text("héllo ✓ 😀").value, "héllo ✓ 😀");
  EXPECT_EQ(Text(std::string("a\0b", 3)).value, "a\xef\xbf\xbd" "b");
  EXPECT_EQ(Text("bad \xff byte").value, "bad \xef\xbf\xbd byte");
  EXPECT_EQ(Text("cut \xe2\x9c").value, "cut \xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(Real(0.1).value, "0.1");
  EXPECT_EQ(Real(1e300).value, "1e+300");
}

class PgConnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SW_REQUIRE_PG(db_);
    auto c = Conn::Open(db_.url());
    ASSERT_TRUE(c.ok()) << c.status().message();
    conn_ = std::move(c).value();
  }
  testpg::TempPgDatabase db_;
  std::unique_ptr<Conn> conn_;
};

TEST_F(PgConnTest, ExecReadsTypedValues) {
  ASSERT_TRUE(conn_->ExecScript("CREATE TABLE t (a TEXT, b BIGINT, c DOUBLE PRECISION, d BOOLEAN, e BYTEA)").ok());
  std::string bytes("\0\x01\xff" "abc", 6);
  auto ins = conn_->Exec("INSERT INTO t VALUES ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10)",
                         {Text("ünïcode ✓"), Int(-9007199254740993LL), Real(0.1 + 0.2), Bool(true), Bytes(bytes),
                          Null(), Null(), Null(), Null(), Null()});
  ASSERT_TRUE(ins.ok()) << ins.status().message();
  EXPECT_EQ(ins->affected, 2);
  auto rows = conn_->Exec("SELECT a, b, c, d, e FROM t ORDER BY a NULLS LAST");
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 2);
  EXPECT_EQ(rows->Str(0, 0), "ünïcode ✓");
  EXPECT_EQ(rows->Int(0, 1), -9007199254740993LL);
  EXPECT_EQ(rows->Real(0, 2), 0.1 + 0.2);
  EXPECT_TRUE(rows->Bool(0, 3));
  EXPECT_EQ(rows->Bytes(0, 4), bytes);
  EXPECT_TRUE(rows->IsNull(1, 0));
  EXPECT_EQ(rows->Int(1, 1), 0);
  // The same statement again runs from the connection's prepared statement.
  auto again = conn_->Exec("SELECT a, b, c, d, e FROM t ORDER BY a NULLS LAST");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 2);
}

TEST_F(PgConnTest, ErrorsCarrySqlstateAndTheConnectionStaysUsable) {
  auto bad = conn_->Exec("SELECT * FROM no_such_table");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInternal);
  EXPECT_NE(bad.status().message().find("no_such_table"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("42P01"), std::string::npos) << bad.status().message();
  auto nul = conn_->Exec("SELECT $1", {Param{std::string("a\0b", 3)}});
  EXPECT_EQ(nul.status().code(), Code::kInvalidInput);
  EXPECT_TRUE(conn_->Exec("SELECT 1").ok());
  ASSERT_TRUE(conn_->ExecScript("SET statement_timeout = 50").ok());
  auto slow = conn_->Exec("SELECT pg_sleep(5)");
  EXPECT_EQ(slow.status().code(), Code::kTimeout) << slow.status().message();
}

TEST_F(PgConnTest, PipelineRunsAllOrStopsAtTheFirstFailure) {
  ASSERT_TRUE(conn_->ExecScript("CREATE TABLE t (id BIGSERIAL PRIMARY KEY, v TEXT NOT NULL UNIQUE)").ok());
  std::vector<Statement> ok = {{"BEGIN", {}}};
  for (int i = 0; i < 2000; ++i) ok.push_back({"INSERT INTO t (v) VALUES ($1) RETURNING id", {Text("v" + std::to_string(i))}});
  ok.push_back({"COMMIT", {}});
  auto r = conn_->Pipeline(ok);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), ok.size());
  for (int i = 1; i <= 2000; ++i) EXPECT_EQ((*r)[i].Int(0, 0), i);
  std::vector<Statement> bad = {{"BEGIN", {}},
                                {"INSERT INTO t (v) VALUES ($1)", {Text("new")}},
                                {"INSERT INTO t (v) VALUES ($1)", {Text("v1")}},  // a duplicate
                                {"INSERT INTO t (v) VALUES ($1)", {Text("newer")}},
                                {"COMMIT", {}}};
  auto f = conn_->Pipeline(bad);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("statement 3 of 5"), std::string::npos) << f.status().message();
  EXPECT_NE(f.status().message().find("23505"), std::string::npos) << f.status().message();
  auto count = conn_->Exec("SELECT count(*) FROM t");
  ASSERT_TRUE(count.ok()) << count.status().message();
  EXPECT_EQ(count->Int(0, 0), 2000);
  // A big value through the pipeline (the send must not stall on the results).
  std::string big(8 << 20, 'x');
  auto b = conn_->Pipeline({{"SELECT length($1)", {Text(big)}}, {"SELECT 2", {}}});
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ((*b)[0].Int(0, 0), static_cast<int64_t>(big.size()));
}

TEST_F(PgConnTest, NotificationsWakeAWaiter) {
  ASSERT_TRUE(conn_->Listen("sw_test").ok());
  EXPECT_EQ(conn_->Listen("Bad-Name").code(), Code::kInvalidInput);
  auto none = conn_->Wait(0.05);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  std::thread sender([&] {
    auto other = Conn::Open(db_.url());
    ASSERT_TRUE(other.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE((*other)->Exec("SELECT pg_notify('sw_test', $1)", {Text("hello")}).ok());
  });
  auto got = conn_->Wait(10);
  sender.join();
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].channel, "sw_test");
  EXPECT_EQ((*got)[0].payload, "hello");
}

TEST_F(PgConnTest, ResetReconnectsAfterTheServerDroppedTheConnection) {
  auto pid = conn_->Exec("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok());
  auto admin = Conn::Open(db_.admin_url());
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE((*admin)->Exec("SELECT pg_terminate_backend($1::int)", {Int(pid->Int(0, 0))}).ok());
  auto lost = conn_->Exec("SELECT 1");
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), Code::kUnavailable) << lost.status().message();
  ASSERT_TRUE(conn_->Reset().ok());
  auto back = conn_->Exec("SELECT 1");
  ASSERT_TRUE(back.ok()) << back.status().message();
}

TEST_F(PgConnTest, ConnectionErrorsNameTheUrlButNeverThePassword) {
  // A role that needs a password, and a wrong one.
  ASSERT_TRUE(conn_->ExecScript("CREATE ROLE " + db_.name() + "_u LOGIN PASSWORD 'right-horse'").ok());
  std::string url = db_.url();
  std::string base = url.substr(0, url.find("://") + 3), rest = url.substr(url.find('@') + 1);
  std::string wrong = base + db_.name() + "_u:S3cretPassw0rd@" + rest;
  auto c = Conn::Open(wrong, 5);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kPermission) << c.status().message();
  EXPECT_EQ(c.status().message().find("S3cretPassw0rd"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("password authentication failed"), std::string::npos) << c.status().message();
  std::string right = base + db_.name() + "_u:right-horse@" + rest;
  {
    auto good = Conn::Open(right, 5);
    EXPECT_TRUE(good.ok()) << good.status().message();
  }
  (void)conn_->ExecScript("DROP ROLE " + db_.name() + "_u");

  // Nobody listens on port 1.
  auto refused = Conn::Open("postgresql://u:Hunter2Hunter2@127.0.0.1:1/db", 2);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kUnavailable) << refused.status().message();
  EXPECT_EQ(refused.status().message().find("Hunter2Hunter2"), std::string::npos) << refused.status().message();
  EXPECT_NE(refused.status().message().find("postgresql://u@127.0.0.1:1/db"), std::string::npos)
      << refused.status().message();

  auto malformed = Conn::Open("postgresql://u:Hunter2Hunter2@127.0.0.1:1/db?nonsense=1", 2);
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.status().code(), Code::kInvalidInput) << malformed.status().message();
  EXPECT_EQ(malformed.status().message().find("Hunter2Hunter2"), std::string::npos) << malformed.status().message();
}

// The test cluster (scripts/pg-cluster.sh) lets nobody in without the password, not even its
// superuser from this machine: a superuser runs programs as the cluster's owner (COPY ... TO
// PROGRAM), so trusting loopback would hand the developer's account to every local user.
TEST_F(PgConnTest, TheTestClusterLetsNobodyInWithoutThePassword) {
  std::string admin = db_.admin_url();
  size_t scheme = admin.find("://") + 3, at = admin.find('@', scheme), colon = admin.find(':', scheme);
  ASSERT_NE(at, std::string::npos) << RedactUrl(admin);
  ASSERT_LT(colon, at) << "the test cluster's URL holds no password: " << admin;
  std::string user = admin.substr(scheme, colon - scheme), rest = admin.substr(at + 1);
  std::string base = admin.substr(0, scheme);
  for (const std::string& url : {base + user + "@" + rest, base + user + ":not-the-password@" + rest}) {
    auto c = Conn::Open(url, 5);
    ASSERT_FALSE(c.ok()) << url << " got in";
    EXPECT_EQ(c.status().code(), Code::kPermission) << c.status().message();
  }
  auto right = Conn::Open(admin, 5);
  EXPECT_TRUE(right.ok()) << right.status().message();
}

// ---- The PostgreSQL store: what only it does (what every store does is in store_test.cc).

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SW_REQUIRE_PG(db_);
  }
  std::unique_ptr<Store> Open(const StoreOptions& options = {}) {
    auto s = OpenStore(db_.url(), options);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  /// Sql runs a statement behind the store's back.
  Rows Sql(const std::string& sql) {
    auto conn = Conn::Open(db_.url());
    EXPECT_TRUE(conn.ok()) << conn.status().message();
    if (!conn.ok()) return Rows();
    auto rows = (*conn)->Exec(sql);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().message();
    return rows.ok() ? std::move(rows).value() : Rows();
  }
  static RunRecord Run(const std::string& id, const std::string& status = "succeeded", const std::string& parent = "") {
    RunRecord r;
    r.id = id;
    r.parent_id = parent;
    r.status = status;
    r.created_at = 1;
    return r;
  }
  testpg::TempPgDatabase db_;
};

TEST_F(PgStoreTest, ConcurrentOpensOfAFreshDatabaseApplyEachMigrationOnce) {
  constexpr int kOpeners = 8;
  std::vector<std::thread> threads;
  std::vector<Status> results(kOpeners);
  std::atomic<bool> go{false};
  for (int i = 0; i < kOpeners; ++i)
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      auto s = OpenPostgres(db_.url());
      results[i] = s.ok() ? Status::Ok() : s.status();
    });
  go = true;
  for (auto& t : threads) t.join();
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.message();
  Rows v = Sql("SELECT version, description FROM schema_migrations ORDER BY version");
  ASSERT_EQ(v.size(), kPgSchemaVersion);
  for (int i = 0; i < v.size(); ++i) EXPECT_EQ(v.Int(i, 0), i + 1);
  EXPECT_EQ(Sql("SELECT count(*) FROM pg_tables WHERE tablename IN ('runs', 'events', 'tasks', 'workers', 'blobs')").Int(0, 0), 5);
  auto s = Open();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->Backend(), "postgresql");
  EXPECT_EQ(s->Location(), RedactUrl(db_.url()));  // the test cluster's URL holds a password
}

TEST_F(PgStoreTest, OpenWithoutCreateFindsNoStoreAndCreatesNothing) {
  StoreOptions o;
  o.create = false;
  auto none = OpenStore(db_.url(), o);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  EXPECT_NE(none.status().message().find("no specwright store in " + RedactUrl(db_.url())), std::string::npos)
      << none.status().message();
  EXPECT_EQ(Sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Int(0, 0), 0);
  { ASSERT_TRUE(Open()); }
  auto some = OpenStore(db_.url(), o);
  EXPECT_TRUE(some.ok()) << some.status().message();
}

TEST_F(PgStoreTest, OpenErrorsNameTheUrlButNeverThePassword) {
  std::string role = db_.name() + "_r";
  Sql("CREATE ROLE " + role + " LOGIN PASSWORD 'the-right-one'");
  std::string url = db_.url();
  std::string scheme = url.substr(0, url.find("://") + 3), rest = url.substr(url.find('@') + 1);
  auto bad = OpenStore(scheme + role + ":Wr0ngPassw0rd@" + rest);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("Wr0ngPassw0rd"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find(scheme + role + "@" + rest), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("password authentication failed"), std::string::npos) << bad.status().message();
  auto refused = OpenStore("postgresql://me:Wr0ngPassw0rd@127.0.0.1:1/x?connect_timeout=2");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
  EXPECT_EQ(refused.status().message().find("Wr0ngPassw0rd"), std::string::npos) << refused.status().message();
  auto malformed = OpenStore("postgresql://me:Wr0ngPassw0rd@127.0.0.1:notaport/x");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.status().message().find("Wr0ngPassw0rd"), std::string::npos) << malformed.status().message();
  auto in_query = OpenStore("postgresql://127.0.0.1:1/x?password=Wr0ngPassw0rd&bogus=1");
  ASSERT_FALSE(in_query.ok());
  EXPECT_EQ(in_query.status().message().find("Wr0ngPassw0rd"), std::string::npos) << in_query.status().message();
  EXPECT_EQ(StoreLocationForDisplay("postgres://u:Wr0ngPassw0rd@h/db"), "postgres://u@h/db");
  EXPECT_EQ(StoreLocationForDisplay("/some/dir"), "/some/dir");
  EXPECT_TRUE(IsStoreUrl("postgresql://h/db"));
  EXPECT_FALSE(IsStoreUrl("/some/dir"));
  Sql("DROP ROLE " + role);
}

TEST_F(PgStoreTest, BigBlobsRoundTripAndOversizedOnesAreRefused) {
  auto s = Open();
  ASSERT_TRUE(s);
  std::string big(24 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  Batch b;
  b.blobs.emplace_back(Hash128Hex(big), big);
  Status st = s->Commit(b);
  ASSERT_TRUE(st.ok()) << st.message();
  auto back = s->GetBlob(Hash128Hex(big));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(*back == big);
  ASSERT_TRUE(s->Commit(b).ok()) << "writing a blob again is not an error";
  Batch over;
  std::string huge(kPgMaxBlobBytes + 1, 'x');
  over.blobs.emplace_back(Hash128Hex(huge), std::move(huge));
  over.events.push_back(Event{0, "r1", 1, "x", "", 0, -1, 0, "{}"});
  st = s->Commit(over);
  EXPECT_EQ(st.code(), Code::kInvalidInput);
  EXPECT_NE(st.message().find("over the PostgreSQL store's limit"), std::string::npos) << st.message();
  EXPECT_TRUE(s->ListEvents("r1")->empty());
}

TEST_F(PgStoreTest, TextPostgresCannotHoldIsReplacedNotRefused) {
  auto s = Open();
  ASSERT_TRUE(s);
  RunRecord r = Run("r1");
  r.error = std::string("tool said \xff\xfe and \0 then", 23);
  Batch b;
  b.run = r;
  ASSERT_TRUE(s->Commit(b).ok());
  EXPECT_EQ((*s->GetRun("r1"))->error, "tool said \xef\xbf\xbd\xef\xbf\xbd and \xef\xbf\xbd then");
}

TEST_F(PgStoreTest, IntegrityCheckFindsPlantedInconsistencies) {
  auto s = Open();
  ASSERT_TRUE(s);
  // A consistent store: a finished run whose totals are its calls and its sub-run's.
  Batch b;
  RunRecord top = Run("top");
  top.calls = 3;
  top.cost_usd = 0.3;
  RunRecord child = Run("top.child", "succeeded", "top");
  child.calls = 1;
  child.cost_usd = 0.1;
  std::string out = "output";
  for (const auto& [run, cost] : std::vector<std::pair<std::string, double>>{{"top", 0.1}, {"top", 0.1}, {"top.child", 0.1}}) {
    LlmCallRecord c;
    c.run_id = run;
    c.node = "n";
    c.status = "ok";
    c.cost_usd = cost;
    c.request_blob = Hash128Hex(out);
    b.llm_calls.push_back(c);
  }
  NodeRunRecord n;
  n.run_id = "top";
  n.node = "n";
  n.status = "succeeded";
  n.output_blob = Hash128Hex(out);
  b.node_runs.push_back(n);
  b.blobs.emplace_back(Hash128Hex(out), out);
  b.events.push_back(Event{0, "top", 1, "node_succeeded", "n", 0, -1, 1, "{}"});
  for (const RunRecord& r : {top, child}) {
    Batch rb;
    rb.run = r;
    ASSERT_TRUE(s->Commit(rb).ok());
  }
  ASSERT_TRUE(s->Commit(b).ok());
  auto ok = s->IntegrityCheck();
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(*ok, "ok");

  // Each planted fault is found.
  Sql("INSERT INTO events (run_id, ts, type, node, iteration, item, attempt, data) VALUES ('gone', 1, 'x', '', 0, -1, 0, '{}')");
  Sql("UPDATE node_runs SET output_blob = '" + Hash128Hex("missing") + "'");
  Sql("UPDATE runs SET calls = 4 WHERE id = 'top'");
  Sql("INSERT INTO tasks (run_id, kind, status, owner, created_at) VALUES ('top', 'llm', 'claimed', '', 1)");
  Sql("INSERT INTO tasks (run_id, kind, key, attempt, status, created_at) VALUES ('top', 'llm', 'k', 1, 'done', 1), "
      "('top', 'llm', 'k', 1, 'done', 2)");
  auto bad = s->IntegrityCheck();
  ASSERT_TRUE(bad.ok()) << bad.status().message();
  EXPECT_NE(*bad, "ok");
  for (const std::string& want :
       {std::string("events: rows of run gone, which is not in runs"),
        "node_runs: run top references blob " + Hash128Hex("missing") + ", which is not in blobs",
        std::string("runs: run top records 4 calls"), std::string("is claimed by nobody"),
        std::string("2 done llm tasks of run top key k attempt 1")})
    EXPECT_NE(bad->find(want), std::string::npos) << want << "\nin:\n" << *bad;
}

// Writers on their own connections (as separate processes would be) append to one run at
// once; a reader paging by after_seq meanwhile sees every event, each writer's in order.
TEST_F(PgStoreTest, ConcurrentCommitsKeepEachRunsEventsInCommitOrder) {
  constexpr int kWriters = 4, kBatches = 100;
  { ASSERT_TRUE(Open()); }
  std::atomic<int> writers_done{0};
  std::vector<std::thread> threads;
  std::vector<Status> failures(kWriters);
  for (int w = 0; w < kWriters; ++w)
    threads.emplace_back([&, w] {
      auto s = OpenStore(db_.url());
      if (!s.ok()) {
        failures[w] = s.status();
        ++writers_done;
        return;
      }
      for (int i = 0; i < kBatches; ++i) {
        Batch b;
        for (int k = 0; k < 2; ++k)
          b.events.push_back(Event{0, "shared", 1, "tick", "w" + std::to_string(w), i, -1, k, "{}"});
        Status st = (*s)->Commit(b);
        if (!st.ok()) {
          failures[w] = st;
          break;
        }
      }
      ++writers_done;
    });
  auto reader = Open();
  ASSERT_TRUE(reader);
  std::vector<Event> seen;
  int64_t after = 0;
  for (;;) {
    bool last = writers_done == kWriters;
    auto page = reader->ListEvents("shared", after);
    ASSERT_TRUE(page.ok()) << page.status().message();
    for (auto& e : *page) {
      after = e.seq;
      seen.push_back(std::move(e));
    }
    if (last) break;
  }
  for (auto& t : threads) t.join();
  for (const Status& st : failures) EXPECT_TRUE(st.ok()) << st.message();
  auto all = reader->ListEvents("shared");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), static_cast<size_t>(kWriters * kBatches * 2));
  EXPECT_EQ(seen.size(), all->size()) << "a reader paging by after_seq skipped events";
  std::map<std::string, std::pair<int, int>> last;  // writer -> (batch, index) seen last
  for (size_t i = 0; i < all->size(); ++i) {
    const Event& e = (*all)[i];
    if (i) {
      EXPECT_GT(e.seq, (*all)[i - 1].seq);
    }
    auto it = last.find(e.node);
    if (it != last.end()) {
      EXPECT_LT(it->second, std::make_pair(e.iteration, e.attempt)) << e.node;
    }
    last[e.node] = {e.iteration, e.attempt};
  }
}

TEST_F(PgStoreTest, ReadersShareABoundedPoolOfConnections) {
  StoreOptions o;
  o.max_connections = 3;
  auto s = Open(o);
  ASSERT_TRUE(s);
  Batch b;
  b.run = Run("r1");
  ASSERT_TRUE(s->Commit(b).ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i)
        if (!s->GetRun("r1").ok() || !s->ListRuns(10).ok()) ++failures;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  int64_t conns = Sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                      "application_name = 'specwright' AND pid <> pg_backend_pid()")
                      .Int(0, 0);
  EXPECT_GE(conns, 1);
  EXPECT_LE(conns, 3);
}

TEST_F(PgStoreTest, SurvivesItsConnectionsBeingDropped) {
  auto s = Open();
  ASSERT_TRUE(s);
  Batch b;
  b.run = Run("r1");
  ASSERT_TRUE(s->Commit(b).ok());
  // The server goes away under the store's idle connections (a restart, a failover).
  Sql("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = current_database() AND "
      "pid <> pg_backend_pid()");
  auto r = s->GetRun("r1");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->has_value());
  Sql("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = current_database() AND "
      "pid <> pg_backend_pid()");
  Batch e;
  e.events.push_back(Event{0, "r1", 1, "x", "", 0, -1, 0, "{}"});
  Status st = s->Commit(e);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(s->ListEvents("r1")->size(), 1u);
}

TEST_F(PgStoreTest, CommitsWithEventsNotifyWatchers) {
  auto s = Open();
  ASSERT_TRUE(s);
  auto listener = Conn::Open(db_.url());
  ASSERT_TRUE(listener.ok());
  ASSERT_TRUE((*listener)->Listen("specwright_events").ok());
  Batch b;
  b.events.push_back(Event{0, "r1", 1, "x", "", 0, -1, 0, "{}"});
  ASSERT_TRUE(s->Commit(b).ok());
  auto got = (*listener)->Wait(10);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].payload, "r1");
}

// A gc that sweeps many blobs (each deletion slowed down here, as on a big store) while a
// worker commits: the commits go on. gc holds the lock commits share only one short batch at
// a time; before, it held it for the whole sweep, and a long one failed every worker's commit
// at statement_timeout.
TEST_F(PgStoreTest, CommitsGoOnWhileGcSweepsManyBlobs) {
  constexpr int kBlobs = 3000;
  auto s = Open();
  ASSERT_TRUE(s);
  Sql("INSERT INTO blobs (hash, size, data, created_at) SELECT md5(i::text), 1, '\\x00'::bytea, 0 "
      "FROM generate_series(1, " + std::to_string(kBlobs) + ") i");
  Sql("CREATE FUNCTION slow_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.0005); "
      "RETURN OLD; END $$");
  Sql("CREATE TRIGGER slow_delete BEFORE DELETE ON blobs FOR EACH ROW EXECUTE FUNCTION slow_delete()");
  RunRecord live = Run("live", "running");
  live.created_at = 5000;
  {
    Batch b;
    b.run = live;
    ASSERT_TRUE(s->Commit(b).ok());
  }
  std::atomic<bool> gc_done{false};
  std::atomic<int> during{0};
  std::vector<Status> failures;
  double slowest = 0;
  std::thread worker([&] {
    auto w = OpenStore(db_.url());
    if (!w.ok()) {
      failures.push_back(w.status());
      return;
    }
    for (int i = 0; !gc_done; ++i) {
      Batch b;
      std::string text = "output " + std::to_string(i);
      b.blobs.emplace_back(Hash128Hex(text), text);
      b.events.push_back(Event{0, "live", 1, "tick", "n", i, -1, 0, "{\"blob\":\"" + Hash128Hex(text) + "\"}"});
      auto t0 = std::chrono::steady_clock::now();
      Status st = (*w)->Commit(b);
      double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!st.ok()) failures.push_back(st);
      if (!gc_done) {
        slowest = std::max(slowest, took);
        ++during;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  GcOptions o;
  o.before = 1000;
  o.blob_grace_seconds = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto rep = s->CollectGarbage(o);
  double gc_took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  gc_done = true;
  worker.join();
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_EQ(rep->blobs_deleted, kBlobs);
  for (const Status& st : failures) EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_GT(gc_took, 2.5) << "the slowed sweep should take over 3 s";
  EXPECT_LT(slowest, 1.5) << "a commit waited " << slowest << " s of gc's " << gc_took << " s";
  EXPECT_GE(during.load(), 3) << "commits during gc's " << gc_took << " s";
  EXPECT_EQ(Sql("SELECT count(*) FROM blobs").Int(0, 0), Sql("SELECT count(*) FROM events").Int(0, 0))
      << "every committed blob is kept, and only those";
  EXPECT_EQ(*s->IntegrityCheck(), "ok");
}

// The queue goes with the runs gc deletes: their tasks (else a worker would claim them
// forever), finished tasks of finished runs, tasks of runs no longer in the store, and
// workers that stopped before the cutoff. What a live run may still need stays.
TEST_F(PgStoreTest, GcClearsTheQueueOfWhatItDeletes) {
  auto s = Open();
  ASSERT_TRUE(s);
  RunRecord young_running = Run("young-running", "running"), young_done = Run("young-done", "succeeded");
  young_running.created_at = young_done.created_at = 5000;
  for (const RunRecord& r : {Run("old-done", "succeeded"), Run("old-done.sub", "succeeded", "old-done"),
                             Run("old-waiting", "waiting"), Run("old-queued", "queued"), young_running, young_done}) {
    Batch b;
    b.run = r;
    ASSERT_TRUE(s->Commit(b).ok());
  }
  // (run, kind, status, created_at, finished_at): the key names what should become of it.
  Sql("INSERT INTO tasks (run_id, kind, key, status, created_at, finished_at) VALUES "
      "('old-done', 'llm', 'gone: a deleted run''s done task', 'done', 10, 20), "
      "('old-done.sub', 'llm', 'gone: a deleted sub-run''s ready task', 'ready', 10, 0), "
      "('old-waiting', 'orchestrate', 'gone: a deleted run''s claimed task', 'claimed', 10, 0), "
      "('old-queued', 'orchestrate', 'kept: a queued run''s', 'ready', 10, 0), "
      "('young-running', 'llm', 'kept: a running run may adopt it', 'done', 10, 20), "
      "('young-running', 'llm', 'kept: young', 'done', 5000, 5001), "
      "('young-done', 'llm', 'gone: done long ago', 'done', 10, 20), "
      "('young-done', 'tool', 'gone: cancelled long ago', 'cancelled', 10, 20), "
      "('young-done', 'tool', 'kept: done lately', 'done', 5000, 5001), "
      "('ghost', 'llm', 'gone: its run is not in the store', 'ready', 10, 0), "
      "('ghost2', 'llm', 'kept: young (its run may be about to be written)', 'ready', 5000, 0)");
  Sql("INSERT INTO workers (id, host, pid, started_at, heartbeat_at, stopped_at) VALUES "
      "('gone: stopped long ago', 'h', 1, 1, 2, 3), ('kept: running', 'h', 2, 1, 2, 0), "
      "('kept: stopped lately', 'h', 3, 1, 2, 5000)");
  GcOptions o;
  o.before = 1000;
  auto dry = s->CollectGarbage([&] { GcOptions d = o; d.dry_run = true; return d; }());
  ASSERT_TRUE(dry.ok()) << dry.status().message();
  EXPECT_EQ(Sql("SELECT count(*) FROM tasks").Int(0, 0), 11) << "a dry run deletes nothing";
  auto rep = s->CollectGarbage(o);
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_EQ(rep->runs_deleted, (std::vector<std::string>{"old-done", "old-done.sub", "old-waiting"}));
  EXPECT_EQ(rep->runs_kept_running, (std::vector<std::string>{"old-queued"}));
  EXPECT_EQ(rep->rows_deleted, dry->rows_deleted);
  for (const char* table : {"tasks", "workers"}) {
    Rows left = Sql(std::string("SELECT ") + (std::string(table) == "tasks" ? "key" : "id") + " FROM " + table +
                    " ORDER BY 1");
    ASSERT_GT(left.size(), 0) << table;
    for (int i = 0; i < left.size(); ++i) EXPECT_EQ(left.Str(i, 0).rfind("kept: ", 0), 0u) << table << ": " << left.Str(i, 0);
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM tasks").Int(0, 0), 5);
  EXPECT_EQ(Sql("SELECT count(*) FROM workers").Int(0, 0), 2);
  EXPECT_EQ(*s->IntegrityCheck(), "ok");
}

// A run resumed while gc looks at it stays: gc locks the old runs it will delete, so a resume
// that claimed one first (here: an uncommitted claim holding the row) makes gc skip it.
TEST_F(PgStoreTest, GcNeverDeletesARunThatWasResumedMeanwhile) {
  auto s = Open();
  ASSERT_TRUE(s);
  for (const RunRecord& r : {Run("old-failed", "failed"), Run("old-done", "succeeded")}) {
    Batch b;
    b.run = r;
    ASSERT_TRUE(s->Commit(b).ok());
  }
  auto resumer = Conn::Open(db_.url());
  ASSERT_TRUE(resumer.ok()) << resumer.status().message();
  ASSERT_TRUE((*resumer)->Begin().ok());
  ASSERT_TRUE((*resumer)->Exec("UPDATE runs SET status = 'running' WHERE id = 'old-failed'").ok());
  GcOptions o;
  o.before = 1000;
  Result<GcReport> rep = Internal("not run");
  std::thread gc([&] { rep = s->CollectGarbage(o); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // gc is waiting for the row
  ASSERT_TRUE((*resumer)->Commit().ok());
  gc.join();
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_EQ(rep->runs_deleted, std::vector<std::string>{"old-done"});
  auto kept = s->GetRun("old-failed");
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->status, "running");
}

}  // namespace
}  // namespace sw::store::pg
