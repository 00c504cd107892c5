// The real binary on a PostgreSQL store (--store postgresql://…, a fresh database per test on
// the test cluster): runs recorded there read the same — runs, show, trace, cost, export, the
// web UI's API, the MCP server's run tools — as the same workflows run on SQLite; the UI's
// approval resumes a run through the URL; `store copy` goes SQLite -> PostgreSQL -> SQLite with
// equal counts and identical reports, skips what is already there, refuses a run that differs;
// bad URLs, refused connections and wrong passwords fail clearly without the password; and a
// read-only command on an empty database creates nothing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "../pg_test_db.h"
#include "cli_runner.h"
#include "http_util.h"
#include "store/pg.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace e2e;

json Parse(const std::string& s) {
  json j = json::parse(s, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << s;
  return j;
}

/// Volatile says whether a key holds what two runs of one workflow never share: times,
/// durations, process ids, sequence numbers and ids the store assigns, paths of workspaces.
bool Volatile(const std::string& k) {
  static const std::regex kTimeish(
      "(.*_at|at|ts|since|time|.*_time|start|end|.*_ms|.*_s|.*seconds|duration.*|elapsed.*|latency.*|ttft.*|pid|seq|id|"
      ".*TimeUnixNano|spanId|parentSpanId|traceId|span_id|parent_id|trace_id|offset.*|workspace|dir|log|commit|parent|"
      "commits|started|finished|when|date)");
  return std::regex_match(k, kTimeish);
}

/// NormText masks what differs between two runs of one workflow (Volatile keys; dates, times,
/// durations and the stores' names in text) so the rest can be compared exactly.
std::string NormText(std::string s, const std::vector<std::string>& stores) {
  for (const auto& st : stores)
    for (size_t at; !st.empty() && (at = s.find(st)) != std::string::npos;) s.replace(at, st.size(), "STORE");
  static const std::regex kDate("\\d{4}-\\d{2}-\\d{2}([ T]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?Z?)?");
  static const std::regex kClock("\\b\\d{1,2}:\\d{2}(:\\d{2})?\\b");
  static const std::regex kDuration("\\b\\d+(\\.\\d+)?(ms|s|m|h|µs)\\b");
  static const std::regex kBars("[█▏▎▍▌▋▊▉▕░·─ ]{3,}");
  static const std::regex kRunTime("\\b\\d{8}-\\d{6}-[0-9a-f]{6}\\b");  // generated run ids
  static const std::regex kCommit("commit [0-9a-f]{7,40}\\b");  // a commit's time is in its hash
  s = std::regex_replace(s, kDate, "DATE");
  s = std::regex_replace(s, kClock, "CLOCK");
  s = std::regex_replace(s, kDuration, "DUR");
  s = std::regex_replace(s, kBars, " ");
  s = std::regex_replace(s, kRunTime, "RUNID");
  s = std::regex_replace(s, kCommit, "commit C");
  return s;
}

/// NormCsv blanks the columns of times (start, end, duration_ms) of a CSV export.
std::string NormCsv(const std::string& csv, const std::vector<std::string>& stores) {
  std::stringstream in(csv);
  std::string line, out;
  std::vector<bool> blank;
  for (bool header = true; std::getline(in, line); header = false) {
    std::vector<std::string> cells;
    std::stringstream ls(line);
    for (std::string c; std::getline(ls, c, ',');) cells.push_back(c);
    if (header)
      for (const auto& c : cells) blank.push_back(c == "start" || c == "end" || c == "duration_ms");
    for (size_t i = 0; i < cells.size(); ++i) out += (i < blank.size() && blank[i] ? "T" : cells[i]) + ",";
    out += "\n";
  }
  return NormText(out, stores);
}

/// SortedLines is text's lines in order: what a report says, whatever order two runs' parallel
/// tool calls finished in.
std::string SortedLines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

json Norm(const json& j, const std::vector<std::string>& stores) {
  if (j.is_object()) {
    json out = json::object();
    for (auto it = j.begin(); it != j.end(); ++it) out[it.key()] = Volatile(it.key()) ? json("V") : Norm(it.value(), stores);
    return out;
  }
  // Lists and lines in a canonical order: an agent's parallel tool calls finish in any order
  // (the order a store gives back is checked exactly by the copy test, on one run).
  if (j.is_array()) {
    std::vector<json> items;
    for (const auto& v : j) items.push_back(Norm(v, stores));
    std::sort(items.begin(), items.end(), [](const json& a, const json& b) { return a.dump() < b.dump(); });
    return json(items);
  }
  if (j.is_string()) {
    std::string t = NormText(j.get<std::string>(), stores);
    return t.find('\n') == std::string::npos ? t : SortedLines(t);
  }
  return j;
}

/// Tables counts the tables of the public schema of the database at url (none: nothing made).
int64_t Tables(const std::string& url) {
  auto c = sw::store::pg::Conn::Open(url);
  EXPECT_TRUE(c.ok()) << c.status().message();
  if (!c.ok()) return -1;
  auto r = (*c)->Exec("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'");
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r->Int(0, 0) : -1;
}

/// ServeMcp runs `specwright mcp ARGS` over stdin lines and returns the answers by id.
std::map<int, json> ServeMcp(const std::vector<std::string>& args, const std::vector<json>& messages, const std::string& dir,
                             std::string* err = nullptr) {
  std::string in_path = dir + "/mcp-in.jsonl", out_path = dir + "/mcp-out.jsonl", err_path = dir + "/mcp-err.txt";
  {
    std::ofstream in(in_path);
    for (const auto& m : messages) in << m.dump() << "\n";
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ExecArgs x = MakeExecArgs(SW_BINARY, args, {});
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, SW_BINARY, &fa, nullptr, x.argv.data(), x.envp.data()), 0);
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Slurp(err_path);
  if (err) *err = Slurp(err_path);
  std::map<int, json> out;
  std::ifstream f(out_path);
  for (std::string line; std::getline(f, line);) {
    json j = json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.contains("id") && j["id"].is_number_integer()) out[j["id"].get<int>()] = j;
  }
  return out;
}

json McpCall(int id, const std::string& name, json args) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", "tools/call"}, {"params", {{"name", name}, {"arguments", std::move(args)}}}};
}

std::vector<json> McpSession(std::vector<json> calls) {
  std::vector<json> m = {
      json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"},
           {"params", {{"protocolVersion", "2025-06-18"}, {"capabilities", json::object()}}}},
      json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}};
  m.insert(m.end(), calls.begin(), calls.end());
  return m;
}

/// Ui is a `specwright ui --port 0` process for the test's life.
class Ui {
 public:
  Ui(const std::string& dir, const std::string& store) {
    fs::create_directories(dir + "/front");
    std::ofstream(dir + "/front/index.html") << "<!doctype html><title>front</title>";
    proc_ = Spawn({"ui", "--port", "0", "--dir", dir, "--store", store, "--ui-dir", dir + "/front"}, dir);
    for (int i = 0; i < 400 && port == 0; ++i) {
      std::string out = Slurp(proc_.out_path);
      size_t at = out.find("http://127.0.0.1:");
      if (at != std::string::npos && out.find('/', at + 17) != std::string::npos) port = std::stoi(out.substr(at + 17));
      else std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    EXPECT_GT(port, 0) << Slurp(proc_.out_path) << Slurp(proc_.err_path);
  }
  ~Ui() {
    if (proc_.pid <= 0) return;
    kill(proc_.pid, SIGTERM);
    EXPECT_EQ(Wait(proc_), 0) << Slurp(proc_.err_path);
  }
  std::string out() const { return Slurp(proc_.out_path) + Slurp(proc_.err_path); }
  json Get(const std::string& target) {
    HttpReply r = Http(port, "GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return Parse(r.body);
  }
  int port = 0;

 private:
  Proc proc_;
};

// A '?' in it: libpq reads it as part of the password (not a query), and so must the redaction.
const char* kPassword = "pw-never?shown-4711";

const char* kChild = "name: child\ninputs: {topic: {type: string}}\ndefaults: {model: scripted/demo}\n"
                     "nodes:\n  inner: {prompt: \"Inner on {{inputs.topic}}\"}\n";
const char* kParent = R"(name: parent
defaults: {model: scripted/demo}
nodes:
  a: {prompt: "Outline"}
  sub: {kind: workflow, needs: [a], workflow: child.yaml, with: {topic: "{{nodes.a.output}}"}}
  b: {needs: [sub], prompt: "Polish {{nodes.sub.output}}", artifact: polished.md}
)";
const char* kParentScript = R"(prices:
  scripted/demo: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
nodes:
  a: [{text: "an outline"}]
  inner: [{text: "the inner part"}]
  b: [{text: "polished"}]
)";

class PgStoreE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_pg_e2e_XXXXXX";
    dir_ = mkdtemp(tmpl);
    sqlite_ = dir_ + "/store";
    fs::copy(std::string(SW_SOURCE_DIR) + "/examples/launch", dir_ + "/launch", fs::copy_options::recursive);
    fs::copy(std::string(SW_SOURCE_DIR) + "/examples/agent-fix", dir_ + "/agent", fs::copy_options::recursive);
    // No waiting in the scripted answers: the tests compare records, not timings.
    std::string script = Slurp(dir_ + "/launch/script.yaml");
    script = std::regex_replace(script, std::regex("latency_ms: \\d+"), "latency_ms: 0");
    std::ofstream(dir_ + "/launch/script.yaml") << script;
    std::ofstream(dir_ + "/child.yaml") << kChild;
    std::ofstream(dir_ + "/parent.yaml") << kParent;
    std::ofstream(dir_ + "/parent-script.yaml") << kParentScript;
    db_ = std::make_unique<testpg::TempPgDatabase>();
    SW_REQUIRE_PG(*db_);
    // The commands reach the database as a role of this test's own, which owns it, with
    // kPassword (the test cluster lets nobody in without the right one): no output may ever
    // show it. (Not the cluster's superuser: its URL would be on every command line.)
    role_ = db_->name() + "_e2e";
    {
      auto c = sw::store::pg::Conn::Open(db_->admin_url());
      ASSERT_TRUE(c.ok()) << c.status().message();
      sw::Status made = (*c)->ExecScript("CREATE ROLE " + role_ + " LOGIN PASSWORD '" + kPassword + "'; ALTER DATABASE " +
                                     db_->name() + " OWNER TO " + role_);
      ASSERT_TRUE(made.ok()) << made.message();
    }
    std::string url = db_->url();
    size_t at = url.find('@');
    ASSERT_NE(at, std::string::npos) << Redacted(url);
    pg_ = url.substr(0, url.find("://") + 3) + role_ + ":" + kPassword + url.substr(at);
  }
  void TearDown() override {
    std::string admin = db_ ? db_->admin_url() : "";
    db_.reset();
    if (!role_.empty()) {
      auto c = sw::store::pg::Conn::Open(admin);
      if (c.ok()) (void)(*c)->Exec("DROP ROLE IF EXISTS " + role_);
    }
    fs::remove_all(dir_);
  }
  Result Cli(std::vector<std::string> args, const std::string& store, std::vector<std::string> env = {}) {
    args.insert(args.end(), {"--store", store});
    return Sw(args, env);
  }
  /// Sw runs the binary; whatever it says never holds the URL's password.
  Result Sw(const std::vector<std::string>& args, std::vector<std::string> env = {}) {
    Result r = RunCli(args, dir_, env);
    EXPECT_EQ((r.out + r.err).find(kPassword), std::string::npos) << args[0] << ": " << r.out << r.err;
    return r;
  }
  /// RunAll runs the three workflows in store: the launch demo (map, loop, a gate answered by
  /// --yes, a tool), the agent (workspace, checkpoint, tool calls) and a parent with a sub-run.
  void RunAll(const std::string& store) {
    auto r = Cli({"run", dir_ + "/launch/flow.yaml", "--script", dir_ + "/launch/script.yaml", "--yes", "--run-id", "launch"}, store);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    r = Cli({"run", dir_ + "/agent/flow.yaml", "--script", dir_ + "/agent/script.yaml", "--run-id", "agent"}, store);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    r = Cli({"run", dir_ + "/parent.yaml", "--script", dir_ + "/parent-script.yaml", "--run-id", "parent"}, store);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
  }
  std::string Redacted(const std::string& url) { return sw::store::pg::RedactUrl(url); }

  std::string dir_, sqlite_, pg_, role_;
  std::unique_ptr<testpg::TempPgDatabase> db_;
};

/// The read commands, each as --json (compared as JSON) or text.
const std::vector<std::vector<std::string>> kReads = {
    {"runs", "--json"},
    {"runs", "--all", "--json"},
    {"show", "launch", "--json"},
    {"show", "agent", "--json"},
    {"show", "parent", "--json"},
    {"show", "launch"},
    {"show", "agent"},
    {"show", "parent"},
    {"trace", "launch", "--json"},
    {"trace", "agent", "--node", "fix", "--json"},
    {"trace", "parent", "--json"},
    {"cost", "launch", "--json"},
    {"cost", "parent", "--json"},
    {"cost", "parent"},
    {"cost", "--since", "2000-01-01", "--json"},  // a fixed date: "7d" moves with the clock
    {"artifacts", "launch", "--json"},
    {"lineage", "launch/announcement.md", "--run", "launch", "--json"},
    {"files", "agent", "--json"},
    {"files", "agent"},
    {"debug", "launch", "--json"},
    {"diff", "launch", "parent", "--json"},
    {"export", "launch"},
    {"export", "parent", "--format", "csv"},
    {"export", "agent", "--format", "otlp"},
    {"export", "launch", "--format", "markdown"},
    {"export", "agent", "--format", "markdown"},
};

TEST_F(PgStoreE2E, RunsOnPostgresReadTheSameAsOnSqlite) {
  RunAll(sqlite_);
  RunAll(pg_);
  std::vector<std::string> stores = {sqlite_, Redacted(pg_), pg_};
  // The agent's workspace lives in this machine's state folder (HOME is the test's own).
  auto files = Cli({"files", "agent", "--json"}, pg_);
  ASSERT_EQ(files.code, 0) << files.err;
  std::string ws = Parse(files.out)["workspace"];
  EXPECT_EQ(ws.rfind(std::string(std::getenv("HOME")) + "/.local/state/specwright/stores/", 0), 0u) << ws;
  EXPECT_TRUE(fs::exists(ws + "/calc.c")) << ws;
  stores.push_back(fs::path(ws).parent_path().parent_path().string());

  for (const auto& args : kReads) {
    auto a = Cli(args, sqlite_), b = Cli(args, pg_);
    std::string what = args[0] + " " + (args.size() > 1 ? args[1] : "") + (args.size() > 2 ? " " + args[2] : "");
    ASSERT_EQ(a.code, 0) << what << ": " << a.err;
    EXPECT_EQ(b.code, 0) << what << ": " << b.err;
    EXPECT_FALSE(b.out.empty()) << what;
    bool as_json = std::find(args.begin(), args.end(), "--json") != args.end() ||
                   std::find(args.begin(), args.end(), "otlp") != args.end() || args == std::vector<std::string>{"export", "launch"};
    bool csv = std::find(args.begin(), args.end(), "csv") != args.end();
    if (as_json) {
      EXPECT_EQ(Norm(Parse(a.out), stores).dump(1), Norm(Parse(b.out), stores).dump(1)) << what;
    } else if (csv) {
      EXPECT_EQ(NormCsv(a.out, stores), NormCsv(b.out, stores)) << what;
    } else {
      EXPECT_EQ(SortedLines(NormText(a.out, stores)), SortedLines(NormText(b.out, stores))) << what;
    }
    EXPECT_EQ((b.out + b.err).find(kPassword), std::string::npos) << what;
  }

  // The web UI over each store answers the same.
  {
    Ui us(dir_, sqlite_), up(dir_, pg_);
    ASSERT_GT(up.port, 0);
    EXPECT_NE(up.out().find("(store " + Redacted(pg_) + ")"), std::string::npos) << up.out();
    EXPECT_EQ(up.Get("/api/v1/health")["store"], Redacted(pg_));
    EXPECT_EQ(up.out().find(kPassword), std::string::npos) << up.out();
    for (const char* target : {"/api/v1/runs", "/api/v1/runs?all=1", "/api/v1/runs/launch", "/api/v1/runs/launch/graph",
                               "/api/v1/runs/launch/nodes/draft", "/api/v1/runs/launch/nodes/feature_copy",
                               "/api/v1/runs/agent/nodes/fix", "/api/v1/runs/launch/trace", "/api/v1/runs/parent/cost",
                               "/api/v1/runs/launch/artifacts", "/api/v1/approvals", "/api/v1/cost?since=7d",
                               "/api/v1/diff?a=launch&b=parent", "/api/v1/lineage/launch%2Fannouncement.md?run=launch"}) {
      json a = us.Get(target), b = up.Get(target);
      EXPECT_EQ(Norm(a, stores).dump(1), Norm(b, stores).dump(1)) << target;
    }
    // The event stream of a finished run: every event, then its end.
    auto done = [](const std::string& s) { return s.find("event: end") != std::string::npos; };
    std::string sa = ReadStream(us.port, "/api/v1/runs/launch/events", done, 20);
    std::string sb = ReadStream(up.port, "/api/v1/runs/launch/events", done, 20);
    EXPECT_NE(sb.find("event: end"), std::string::npos) << sb;
    auto count = [](const std::string& s, const std::string& w) {
      size_t n = 0;
      for (size_t at = 0; (at = s.find(w, at)) != std::string::npos; at += w.size()) ++n;
      return n;
    };
    EXPECT_GT(count(sb, "\"type\":\""), 30u) << sb.substr(0, 2000);
    EXPECT_EQ(count(sa, "\"type\":\""), count(sb, "\"type\":\""));
    // A blob by its hash, from the PostgreSQL store's blobs table.
    json arts = up.Get("/api/v1/runs/launch/artifacts");
    std::string blob;
    for (const auto& a : arts["artifacts"])
      if (a["name"] == "launch/announcement.md") blob = a["blob"];
    HttpReply got = Http(up.port, "GET", "/api/v1/blobs/" + blob);
    EXPECT_EQ(got.status, 200);
    EXPECT_NE(got.body.find("PUBLISHED"), std::string::npos) << got.body;
  }

  // The MCP server's run tools answer the same.
  std::vector<json> calls = {McpCall(2, "runs_list", json::object()), McpCall(3, "run_status", {{"run", "launch"}}),
                             McpCall(4, "run_cost", {{"run", "parent"}}), McpCall(5, "run_debug", {{"run", "launch"}}),
                             McpCall(6, "export_markdown", {{"run", "agent"}})};
  std::string err;
  auto a = ServeMcp({"mcp", "--dir", dir_, "--store", sqlite_}, McpSession(calls), dir_);
  auto b = ServeMcp({"mcp", "--dir", dir_, "--store", pg_}, McpSession(calls), dir_, &err);
  EXPECT_NE(err.find("(store " + Redacted(pg_) + ", read only)"), std::string::npos) << err;
  EXPECT_EQ(err.find(kPassword), std::string::npos) << err;
  for (int id = 2; id <= 6; ++id) {
    ASSERT_TRUE(b.count(id)) << id;
    EXPECT_EQ(b[id]["result"]["isError"], false) << b[id];
    EXPECT_EQ(Norm(a[id], stores).dump(1), Norm(b[id], stores).dump(1)) << id;
  }
}

TEST_F(PgStoreE2E, TheUiApprovesAndResumesARunOnPostgres) {
  auto r = Cli({"run", dir_ + "/launch/flow.yaml", "--script", dir_ + "/launch/script.yaml", "--run-id", "gated"}, pg_);
  ASSERT_EQ(r.code, 3) << r.out << r.err;  // waiting at the gate
  Ui ui(dir_, pg_);
  ASSERT_GT(ui.port, 0);
  ASSERT_EQ(ui.Get("/api/v1/approvals").size(), 1u);
  HttpReply ok = Http(ui.port, "POST", "/api/v1/runs/gated/approve", R"({"node": "sign_off", "decision": "approved"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  std::string status;
  for (int i = 0; i < 400 && status != "succeeded"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = ui.Get("/api/v1/runs/gated").value("status", "");
  }
  EXPECT_EQ(status, "succeeded");
  auto show = Cli({"show", "gated"}, pg_);
  EXPECT_EQ(show.code, 0) << show.err;
  EXPECT_NE(show.out.find("publish                succeeded"), std::string::npos) << show.out;
  // The resume the UI started (SPECWRIGHT_STORE=the URL, in its environment) logged to this
  // machine's state folder for that database.
  std::string stores = std::string(std::getenv("HOME")) + "/.local/state/specwright/stores";
  std::vector<std::string> logs;
  for (const auto& e : fs::recursive_directory_iterator(stores))
    if (e.path().parent_path().filename() == "logs" && e.path().string().find(db_->name()) != std::string::npos)
      logs.push_back(e.path().string());
  ASSERT_EQ(logs.size(), 1u) << stores;
  EXPECT_NE(logs[0].find("/ui/logs/"), std::string::npos) << logs[0];
  EXPECT_EQ(Slurp(logs[0]).find(kPassword), std::string::npos);
}

TEST_F(PgStoreE2E, TheMcpServerStartsARunOnPostgres) {
  fs::create_directories(dir_ + "/project");
  fs::copy(dir_ + "/parent.yaml", dir_ + "/project/parent.yaml");
  fs::copy(dir_ + "/child.yaml", dir_ + "/project/child.yaml");
  fs::copy(dir_ + "/parent-script.yaml", dir_ + "/project/script.yaml");
  std::string err;
  auto a = ServeMcp({"mcp", "--dir", dir_ + "/project", "--store", pg_, "--allow-writes"},
                    McpSession({McpCall(2, "run_start", {{"workflow", "parent.yaml"}, {"script", "script.yaml"}})}), dir_, &err);
  ASSERT_EQ(a[2]["result"]["isError"], false) << a[2] << err;
  EXPECT_EQ(a[2].dump().find(kPassword), std::string::npos) << a[2];
  std::string run = a[2]["result"]["structuredContent"]["run_id"];
  std::string status;
  for (int i = 0; i < 400 && status != "succeeded"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto r = Cli({"show", run, "--json"}, pg_);
    if (r.code == 0) status = Parse(r.out).value("status", "");
  }
  EXPECT_EQ(status, "succeeded");
  EXPECT_FALSE(fs::exists(dir_ + "/project/.specwright")) << "the run went to the URL's store, not the project's folder";
}

TEST_F(PgStoreE2E, CopySqliteToPostgresAndBackKeepsEveryRow) {
  RunAll(sqlite_);
  auto c1 = Sw({"store", "copy", sqlite_, pg_, "--json"});
  ASSERT_EQ(c1.code, 0) << c1.out << c1.err;
  json j1 = Parse(c1.out);
  EXPECT_EQ(j1["copied"], json({"launch", "agent", "parent"}));
  EXPECT_EQ(j1["ok"], true);
  for (auto& [table, c] : j1["counts"].items()) {
    EXPECT_EQ(c["from"], c["to"]) << table;
    if (table != "approvals" && table != "cache" && table != "schedule_fires") {
      EXPECT_GT(c["from"].get<int>(), 0) << table;
    }
  }
  EXPECT_EQ(j1["counts"]["runs"]["from"], 4);  // the parent's sub-run came with it
  EXPECT_EQ((c1.out + c1.err).find(kPassword), std::string::npos);
  EXPECT_NE(c1.err.find("to " + Redacted(pg_) + " (postgresql)"), std::string::npos) << c1.err;

  std::string back = dir_ + "/back";
  auto c2 = Sw({"store", "copy", pg_, back});
  ASSERT_EQ(c2.code, 0) << c2.out << c2.err;
  EXPECT_NE(c2.out.find("verified"), std::string::npos) << c2.out;
  EXPECT_NE(c2.out.find("3 runs copied"), std::string::npos) << c2.out;
  // Identical reports in all three stores (the same rows, the same order).
  for (const auto& args : kReads) {
    auto a = Cli(args, sqlite_), b = Cli(args, pg_), c = Cli(args, back);
    std::string what = args[0] + " " + args[1];
    EXPECT_EQ(a.code, 0) << what << a.err;
    // The agent's workspace is where the run recorded it (the first store's folder) in all three.
    EXPECT_EQ(a.out, b.out) << what;
    EXPECT_EQ(a.out, c.out) << what;
  }
  for (const auto& store : {sqlite_, pg_, back}) {
    auto check = Sw({"store", "check", store});
    EXPECT_EQ(check.code, 0) << store << check.out << check.err;
    EXPECT_NE(check.out.find(": ok"), std::string::npos) << check.out;
  }

  // Again: nothing to write, still verified.
  auto again = Sw({"store", "copy", sqlite_, pg_});
  EXPECT_EQ(again.code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("0 runs copied, 3 already there unchanged, 0 refused"), std::string::npos) << again.out;
  auto runs = Cli({"runs", "--all", "--json"}, pg_);
  EXPECT_EQ(Parse(runs.out).size(), 4u) << runs.out;

  // One run by name (a sub-run stands for its run), into a store of its own.
  std::string one = dir_ + "/one";
  auto sel = Sw({"store", "copy", sqlite_, one, "--run", "parent", "--json"});
  ASSERT_EQ(sel.code, 0) << sel.out << sel.err;
  EXPECT_EQ(Parse(sel.out)["copied"], json({"parent"}));
  EXPECT_EQ(Parse(Cli({"runs", "--json"}, one).out).size(), 1u);

  // A store holding another run of the same id: refused by name, nothing overwritten.
  std::string other = dir_ + "/other";
  auto r = Cli({"run", dir_ + "/parent.yaml", "--script", dir_ + "/parent-script.yaml", "--run-id", "launch"}, other);
  ASSERT_EQ(r.code, 0) << r.err;
  std::string before = Cli({"show", "launch"}, other).out;
  auto refused = Sw({"store", "copy", sqlite_, other});
  EXPECT_EQ(refused.code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.out.find("refused launch: TO holds a run launch with other content"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("2 runs copied, 0 already there unchanged, 1 refused"), std::string::npos) << refused.out;
  EXPECT_EQ(Cli({"show", "launch"}, other).out, before);
}

TEST_F(PgStoreE2E, BadUrlsRefusedConnectionsAndWrongPasswordsNeverShowThePassword) {
  // A role that must give its password (as every role of the test cluster must).
  std::string role = "r_" + std::to_string(std::random_device{}() % 1000000000u);
  {
    auto c = sw::store::pg::Conn::Open(db_->admin_url());
    ASSERT_TRUE(c.ok()) << c.status().message();
    ASSERT_TRUE((*c)->Exec("CREATE ROLE " + role + " LOGIN PASSWORD 'rightpass'").ok());
  }
  std::string host = pg_.substr(pg_.find('@') + 1);  // 127.0.0.1:PORT/db...
  std::string wrong = "postgresql://" + role + ":hunter2secret@" + host;
  std::string refused = "postgresql://someone:hunter2secret@127.0.0.1:1/nothing";
  std::string bad = "postgresql://someone:hunter2secret@127.0.0.1:notaport/nothing";
  for (const auto& url : {wrong, refused, bad}) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"runs"}, {"show", "x"}, {"run", dir_ + "/parent.yaml", "--script", dir_ + "/parent-script.yaml"},
          {"store", "check"}, {"runs", "--json"}}) {
      auto r = Cli(args, url);
      std::string what = url + " " + args[0];
      EXPECT_TRUE(r.code == 1 || r.code == 2) << what << ": " << r.code << r.out << r.err;
      EXPECT_EQ((r.out + r.err).find("hunter2secret"), std::string::npos) << what << r.out << r.err;
      EXPECT_NE((r.out + r.err).find(Redacted(url)), std::string::npos) << what << ": " << r.out << r.err;
      EXPECT_EQ((r.out + r.err).find("no store at"), std::string::npos) << "a failure is not an empty store: " << r.out << r.err;
    }
    // Through the environment too, and in store copy either side.
    auto e = RunCli({"runs"}, dir_, {"SPECWRIGHT_STORE=" + url});
    EXPECT_NE(e.code, 0);
    EXPECT_EQ((e.out + e.err).find("hunter2secret"), std::string::npos) << e.err;
    auto cp = Sw({"store", "copy", url, dir_ + "/to"});
    EXPECT_NE(cp.code, 0);
    EXPECT_EQ((cp.out + cp.err).find("hunter2secret"), std::string::npos) << cp.err;
    EXPECT_NE(cp.err.find("FROM: "), std::string::npos) << cp.err;
  }
  auto r = Cli({"runs"}, refused);
  EXPECT_EQ(r.code, 1) << r.err;
  r = Cli({"runs"}, wrong);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(Tables(pg_), 0) << "nothing was created by the failed attempts";
  auto c = sw::store::pg::Conn::Open(db_->admin_url());
  ASSERT_TRUE(c.ok());
  (void)(*c)->Exec("DROP ROLE " + role);
}

TEST_F(PgStoreE2E, ReadOnlyCommandsOnAnEmptyDatabaseCreateNothing) {
  std::string shown = Redacted(pg_);
  auto runs = Cli({"runs"}, pg_);
  EXPECT_EQ(runs.code, 0) << runs.err;
  EXPECT_NE(runs.out.find("no store at " + shown + " — no runs yet"), std::string::npos) << runs.out;
  auto runs_json = Cli({"runs", "--json"}, pg_);
  EXPECT_EQ(runs_json.code, 0);
  EXPECT_EQ(Parse(runs_json.out), json::array());
  auto show = Cli({"show", "x"}, pg_);
  EXPECT_EQ(show.code, 2) << show.err;
  EXPECT_NE(show.err.find("no store at " + shown), std::string::npos) << show.err;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"sessions"}, {"cost", "--since", "7d"}, {"gc"}, {"gc", "--json"}, {"trace", "x"}, {"debug"},
        {"cancel", "x"}, {"approve", "x", "n"}, {"resume", "x"}, {"replay", "x"}, {"export", "x"}}) {
    auto r = Cli(args, pg_);
    EXPECT_TRUE(r.code == 0 || r.code == 2) << args[0] << r.out << r.err;
  }
  auto check = Sw({"store", "check", pg_});
  EXPECT_EQ(check.code, 2) << check.err;
  EXPECT_NE(check.err.find("no store at " + shown), std::string::npos) << check.err;
  auto copy = Sw({"store", "copy", pg_, dir_ + "/to"});
  EXPECT_EQ(copy.code, 2) << copy.err;
  EXPECT_FALSE(fs::exists(dir_ + "/to")) << "a copy from nothing makes no TO";
  auto mcp = ServeMcp({"mcp", "--dir", dir_, "--store", pg_}, McpSession({McpCall(2, "runs_list", json::object())}), dir_);
  EXPECT_EQ(mcp[2]["result"]["isError"], true) << mcp[2];
  EXPECT_NE(mcp[2].dump().find("no Specwright store at " + shown), std::string::npos) << mcp[2];
  EXPECT_EQ(Tables(pg_), 0) << "a read-only command made tables";

  // The first command that records a run makes the schema; gc then takes the run.
  auto r = Cli({"run", dir_ + "/parent.yaml", "--script", dir_ + "/parent-script.yaml", "--run-id", "p1"}, pg_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GT(Tables(pg_), 0);
  auto gc = Cli({"gc", "--older-than", "0s", "--json"}, pg_);
  ASSERT_EQ(gc.code, 0) << gc.err;
  json g = Parse(gc.out);
  EXPECT_EQ(g["runs_deleted"].size(), 2u) << g;  // p1 and its sub-run
  EXPECT_EQ(Parse(Cli({"runs", "--json"}, pg_).out), json::array());
  auto ok = Sw({"store", "check", pg_});
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
}

}  // namespace
