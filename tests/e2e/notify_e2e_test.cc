// Notifications through the real binary: `notify:` in a workflow and in specwright.yaml
// delivered to a real HTTP receiver on 127.0.0.1 (python3's http.server) that checks the
// X-Specwright-Signature with python's own hmac (not ours), answers with a scripted list of
// statuses, and logs every request; succeeded, failed, waiting and budget_stopped; retries
// on 503, none on 400; link-local refused; the deliveries in `show` and none of the secrets
// anywhere in the store.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "../pg_test_db.h"
#include "cli_runner.h"
#include "http_util.h"
#include "store/store.h"

namespace {

namespace fs = std::filesystem;
using namespace e2e;
using json = nlohmann::json;

const char* kReceiver = R"PY(
import http.server, hmac, hashlib, json, os, sys
statuses = [int(x) for x in sys.argv[2].split(",") if x]
secret = sys.argv[3].encode()
log = sys.argv[1] + "/got.jsonl"
count = [0]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ts = self.headers.get("X-Specwright-Timestamp", "")
        sig = self.headers.get("X-Specwright-Signature", "")
        want = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        st = statuses[count[0]] if count[0] < len(statuses) else 200
        count[0] += 1
        rec = {"path": self.path, "event": self.headers.get("X-Specwright-Event"),
               "delivery": self.headers.get("X-Specwright-Delivery"), "signed": sig != "",
               "sig_ok": hmac.compare_digest(sig, want), "answered": st,
               "auth": self.headers.get("Authorization", ""), "body": json.loads(body)}
        with open(log, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(st)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + "/port.tmp", "w") as f:
    f.write(str(s.server_address[1]))
os.rename(sys.argv[1] + "/port.tmp", sys.argv[1] + "/port")
s.serve_forever()
)PY";

/// Receiver runs the python receiver in its own folder for the test's life.
class Receiver {
 public:
  Receiver(const std::string& dir, const std::string& statuses, const std::string& secret) : dir_(dir) {
    fs::create_directories(dir);
    std::ofstream(dir + "/recv.py") << kReceiver;
    pid_ = fork();
    if (pid_ == 0) {
      execlp("python3", "python3", (dir + "/recv.py").c_str(), dir.c_str(), statuses.c_str(), secret.c_str(), nullptr);
      _exit(127);
    }
    // Until it has bound its port (it writes the file once listening); bounded.
    for (int i = 0; i < 1000 && !fs::exists(dir + "/port"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    port = std::stoi(Slurp(dir + "/port"));
  }
  ~Receiver() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
  std::vector<json> Got() const {
    std::vector<json> out;
    std::ifstream f(dir_ + "/got.jsonl");
    for (std::string line; std::getline(f, line);)
      if (!line.empty()) out.push_back(json::parse(line));
    return out;
  }
  int port = 0;

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

class NotifyE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_notify_e2e_XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = dir_ + "/store";
    Write("script.yaml", "nodes:\n  \"*\": [{text: fine}]\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ + "/" + name) << text; }
  Result Run(const std::string& flow, std::vector<std::string> extra = {}, std::vector<std::string> env = {}) {
    std::vector<std::string> args = {"run", dir_ + "/" + flow, "--script", dir_ + "/script.yaml", "--store", store_, "--no-cache"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCli(args, dir_, env);
  }
  json Show(const std::string& run) {
    Result r = RunCli({"show", run, "--store", store_, "--json"}, dir_);
    EXPECT_EQ(r.code, 0) << r.err;
    return json::parse(r.out);
  }
  /// Every byte the store keeps (database, WAL, blobs).
  std::string StoreBytes() {
    std::string all;
    for (const auto& e : fs::recursive_directory_iterator(store_))
      if (e.is_regular_file()) all += Slurp(e.path().string());
    return all;
  }
  std::string dir_, store_;
};

TEST_F(NotifyE2E, SignedRetriedDeliveryShownAndNoSecretStored) {
  Receiver rx(dir_ + "/rx", "503,503,200", "whsec-0123456789abcdef");
  Write("flow.yaml", "name: notified\ndefaults: {model: scripted/m}\nnotify:\n"
                     "  - url: " + rx.Url("/hook/${HOOK_PATH}?token=${HOOK_PATH}") + "\n"
                     "    secret: ${HOOK_SECRET}\n"
                     "    headers: {Authorization: \"Bearer ${HOOK_AUTH}\"}\n"
                     "  - url: " + rx.Url("/only-failures") + "\n    on: [failed]\n"
                     "nodes:\n  a: {prompt: hi}\n");
  Result r = Run("flow.yaml", {"--run-id", "n1"},
                 {"HOOK_SECRET=whsec-0123456789abcdef", "HOOK_PATH=path-secret-42", "HOOK_AUTH=auth-secret-77"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("delivered (HTTP 200), 3 attempts"), std::string::npos) << r.err;
  auto got = rx.Got();
  ASSERT_EQ(got.size(), 3u);  // the on: [failed] target heard nothing
  for (const auto& g : got) {
    EXPECT_EQ(g["path"], "/hook/path-secret-42?token=path-secret-42");
    EXPECT_EQ(g["event"], "succeeded");
    EXPECT_TRUE(g["signed"].get<bool>());
    EXPECT_TRUE(g["sig_ok"].get<bool>()) << g.dump();
    EXPECT_EQ(g["auth"], "Bearer auth-secret-77");
    EXPECT_EQ(g["delivery"], got[0]["delivery"]);  // one delivery, retried
    EXPECT_EQ(g["body"]["run"]["id"], "n1");
    EXPECT_EQ(g["body"]["run"]["status"], "succeeded");
    EXPECT_EQ(g["body"]["run"]["name"], "notified");
    EXPECT_EQ(g["body"]["links"]["show"], "specwright show n1");
  }
  json show = Show("n1");
  auto notes = show["notifications"];
  ASSERT_EQ(notes.size(), 3u) << show.dump();
  EXPECT_EQ(notes[0]["outcome"], "retrying");
  EXPECT_EQ(notes[0]["http_status"], 503);
  EXPECT_EQ(notes[1]["outcome"], "retrying");
  EXPECT_EQ(notes[2]["outcome"], "delivered");
  EXPECT_EQ(notes[2]["url"], rx.Url("/hook/${HOOK_PATH}"));
  Result text = RunCli({"show", "n1", "--store", store_}, dir_);
  EXPECT_NE(text.out.find("Notifications"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("delivered"), std::string::npos);
  std::string bytes = StoreBytes();
  for (const char* secret : {"whsec-0123456789abcdef", "path-secret-42", "auth-secret-77"})
    EXPECT_EQ(bytes.find(secret), std::string::npos) << secret << " is in the store";
}

TEST_F(NotifyE2E, WaitingThenSucceededAfterApproval) {
  Receiver rx(dir_ + "/rx", "", "k");
  Write("gate.yaml", "name: gated\ndefaults: {model: scripted/m}\n"
                     "notify: {url: \"" + rx.Url("/g") + "\", on: [waiting, succeeded]}\n"
                     "nodes:\n  a: {prompt: hi}\n  ok: {kind: human, needs: [a], message: \"ship it?\"}\n");
  Result r = Run("gate.yaml", {"--run-id", "g1"});
  EXPECT_EQ(r.code, 3) << r.err;  // waiting
  auto got = rx.Got();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["event"], "waiting");
  EXPECT_FALSE(got[0]["signed"].get<bool>());
  EXPECT_EQ(got[0]["body"]["run"]["waiting"], json::array({"ok"}));
  EXPECT_TRUE(got[0]["body"]["run"]["finished_at"].is_null());
  ASSERT_EQ(RunCli({"approve", "g1", "ok", "--store", store_}, dir_).code, 0);
  Result res = RunCli({"resume", "g1", "--script", dir_ + "/script.yaml", "--store", store_}, dir_);
  EXPECT_EQ(res.code, 0) << res.err;
  got = rx.Got();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1]["event"], "succeeded");
  EXPECT_EQ(Show("g1")["notifications"].size(), 2u);
}

TEST_F(NotifyE2E, BudgetStoppedAndFailedFromSpecwrightYaml) {
  Receiver rx(dir_ + "/rx", "", "cfg-secret");
  // The project's specwright.yaml (here given with --config) notifies every run.
  Write("specwright.yaml", "notify:\n  - url: " + rx.Url("/cfg") + "\n    secret: ${CFG_SECRET}\n");
  Write("spendy.yaml", "name: spendy\ndefaults: {model: scripted/m}\nbudget: {max_calls: 1}\n"
                       "nodes:\n  a: {prompt: hi}\n  b: {prompt: again, needs: [a]}\n");
  Write("broken.yaml", "name: broken\nnodes:\n  t: {kind: tool, tool: \"builtin://fs.read\", args: {path: no-such-file.txt}}\n");
  Result r = Run("spendy.yaml", {"--run-id", "b1", "--config", dir_ + "/specwright.yaml"}, {"CFG_SECRET=cfg-secret"});
  EXPECT_EQ(r.code, 1) << r.err;
  auto got = rx.Got();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["event"], "budget_stopped");
  EXPECT_EQ(got[0]["path"], "/cfg");
  EXPECT_TRUE(got[0]["sig_ok"].get<bool>());
  EXPECT_TRUE(got[0]["body"]["run"]["budget_stopped"].get<bool>());
  EXPECT_NE(got[0]["body"]["run"]["error"].get<std::string>().find("max_calls 1"), std::string::npos);
  Result f = Run("broken.yaml", {"--run-id", "f1", "--config", dir_ + "/specwright.yaml"}, {"CFG_SECRET=cfg-secret"});
  EXPECT_EQ(f.code, 1) << f.err;
  got = rx.Got();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1]["event"], "failed");
  EXPECT_EQ(got[1]["body"]["run"]["id"], "f1");
}

TEST_F(NotifyE2E, ClientErrorNotRetriedAndLinkLocalRefused) {
  Receiver rx(dir_ + "/rx", "400,200", "k");
  Write("flow.yaml", "name: refused\ndefaults: {model: scripted/m}\nnotify:\n"
                     "  - " + rx.Url("/bad") + "\n"
                     "  - http://169.254.169.254/latest/meta-data/\n"
                     "nodes:\n  a: {prompt: hi}\n");
  Result r = Run("flow.yaml", {"--run-id", "c1"});
  EXPECT_EQ(r.code, 0) << r.err;  // a notification never changes the run's outcome
  EXPECT_EQ(rx.Got().size(), 1u);
  auto notes = Show("c1")["notifications"];
  ASSERT_EQ(notes.size(), 2u) << notes.dump();
  std::map<std::string, json> by_url;
  for (const auto& n : notes) by_url[n["url"]] = n;
  json bad = by_url[rx.Url("/…")];  // a literal path is never shown (it may be the secret)
  EXPECT_EQ(bad["outcome"], "failed");
  EXPECT_EQ(bad["http_status"], 400);
  EXPECT_EQ(bad["attempt"], 1);
  json meta = by_url["http://169.254.169.254/…"];
  EXPECT_EQ(meta["outcome"], "refused");
  EXPECT_EQ(meta["attempt"], 1);
  EXPECT_NE(meta["error"].get<std::string>().find("metadata"), std::string::npos) << meta.dump();
}

TEST_F(NotifyE2E, UiApiListsTheDeliveries) {
  Receiver rx(dir_ + "/rx", "503,200", "k");
  Write("flow.yaml", "name: api\ndefaults: {model: scripted/m}\nnotify: \"" + rx.Url("/u?key=secret-in-query") +
                         "\"\nnodes:\n  a: {prompt: hi}\n");
  ASSERT_EQ(Run("flow.yaml", {"--run-id", "u1"}).code, 0);
  fs::create_directories(dir_ + "/front");
  std::ofstream(dir_ + "/front/index.html") << "<!doctype html><title>front</title>";
  Proc ui = Spawn({"ui", "--port", "0", "--dir", dir_, "--store", store_, "--ui-dir", dir_ + "/front"}, dir_);
  int port = 0;
  for (int i = 0; i < 400 && port == 0; ++i) {  // until it prints its address; bounded
    std::string out = Slurp(ui.out_path);
    size_t at = out.find("http://127.0.0.1:");
    if (at != std::string::npos && out.find('/', at + 17) != std::string::npos) port = std::stoi(out.substr(at + 17));
    else std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_GT(port, 0) << Slurp(ui.err_path);
  HttpReply r = Http(port, "GET", "/api/v1/runs/u1/notifications");
  kill(ui.pid, SIGTERM);
  Wait(ui);
  ASSERT_EQ(r.status, 200) << r.body;
  json list = json::parse(r.body);
  ASSERT_EQ(list.size(), 2u) << r.body;
  EXPECT_EQ(list[0]["outcome"], "retrying");
  EXPECT_EQ(list[1]["outcome"], "delivered");
  EXPECT_EQ(list[1]["url"], rx.Url("/…"));  // no path, no query: they may carry a key
  EXPECT_EQ(r.body.find("secret-in-query"), std::string::npos);
}

TEST_F(NotifyE2E, BadNotifyIsAnErrorWithPosition) {
  Write("flow.yaml", "name: bad\ndefaults: {model: scripted/m}\nnotify:\n  - url: ftp://example.com/x\n"
                     "    secret: plain-text-secret\nnodes:\n  a: {prompt: hi}\n");
  Result r = Run("flow.yaml");
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("flow.yaml:4:10: notify url must be http:// or https://"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("flow.yaml:5:13: notify secret must name an environment variable"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("plain-text-secret"), std::string::npos);
  // A literal URL is taken apart at load time: a bad port is an error with its position.
  Write("port.yaml", "name: port\ndefaults: {model: scripted/m}\nnotify:\n  - url: http://example.com:99999/x\n"
                     "nodes:\n  a: {prompt: hi}\n");
  Result v = RunCli({"validate", dir_ + "/port.yaml"}, dir_);
  EXPECT_NE(v.code, 0) << v.out << v.err;
  EXPECT_NE((v.out + v.err).find("port.yaml:4:10: error: notify url: bad port"), std::string::npos) << v.out << v.err;
  Write("ok.yaml", "name: ok\ndefaults: {model: scripted/m}\nnodes:\n  a: {prompt: hi}\n");
  Write("specwright.yaml", "notify:\n  - url: https://x.example/\n    on: [finished]\n");
  Result c = Run("ok.yaml", {"--config", dir_ + "/specwright.yaml"});
  EXPECT_NE(c.code, 0);
  EXPECT_NE(c.err.find("specwright.yaml:3:10: unknown notify event \"finished\""), std::string::npos) << c.err;
}

// `run --wait` blocks at the gate in its own process: `waiting` goes out when the gate starts
// waiting (not when the run ends), approve from another process lets it finish: `succeeded`.
TEST_F(NotifyE2E, RunWaitNotifiesWaitingThenSucceeded) {
  Receiver rx(dir_ + "/rx", "", "k");
  Write("gate.yaml", "name: gated\ndefaults: {model: scripted/m}\n"
                     "notify: {url: \"" + rx.Url("/g") + "\", on: [waiting, succeeded]}\n"
                     "nodes:\n  a: {prompt: hi}\n  ok: {kind: human, needs: [a], message: \"ship it\"}\n");
  Proc run = Spawn({"run", dir_ + "/gate.yaml", "--script", dir_ + "/script.yaml", "--store", store_, "--no-cache",
                    "--run-id", "w1", "--wait"}, dir_);
  for (int i = 0; i < 400 && rx.Got().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  auto got = rx.Got();
  ASSERT_EQ(got.size(), 1u) << Slurp(run.err_path);
  EXPECT_EQ(got[0]["event"], "waiting");
  EXPECT_EQ(got[0]["body"]["run"]["waiting"], json::array({"ok"}));
  EXPECT_TRUE(got[0]["body"]["run"]["finished_at"].is_null());
  Result ap = RunCli({"approve", "w1", "ok", "--store", store_}, dir_);
  EXPECT_EQ(ap.code, 0) << ap.err;
  EXPECT_EQ(Wait(run), 0) << Slurp(run.err_path);
  got = rx.Got();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1]["event"], "succeeded");
}

// A reproduction is not a run anyone waits to hear of: `replay --offline` sends nothing.
TEST_F(NotifyE2E, OfflineReplaySendsNoWebhooks) {
  Receiver rx(dir_ + "/rx", "", "k");
  Write("flow.yaml", "name: replayed\ndefaults: {model: scripted/m}\nnotify: \"" + rx.Url("/r") +
                         "\"\nnodes:\n  a: {prompt: hi}\n");
  ASSERT_EQ(Run("flow.yaml", {"--run-id", "r1"}).code, 0);
  ASSERT_EQ(rx.Got().size(), 1u);
  Result rep = RunCli({"replay", "r1", "--offline", "--store", store_, "--run-id", "r2"}, dir_);
  EXPECT_EQ(rep.code, 0) << rep.err;
  EXPECT_EQ(rx.Got().size(), 1u) << rep.err;
  EXPECT_TRUE(Show("r2")["notifications"].empty());
}

// SIGTERM ends the command's wait for deliveries in flight at once (as Ctrl-C does).
TEST_F(NotifyE2E, SigtermEndsTheWaitForDeliveries) {
  Receiver rx(dir_ + "/rx", "503,503,503,503,503,503,503,503,503,503", "k");
  Write("flow.yaml", "name: slow\ndefaults: {model: scripted/m}\nnotify: {url: \"" + rx.Url("/s") +
                         "\", attempts: 10}\nnodes:\n  a: {prompt: hi}\n");
  Proc run = Spawn({"run", dir_ + "/flow.yaml", "--script", dir_ + "/script.yaml", "--store", store_, "--no-cache"}, dir_);
  bool waiting = false;
  for (int i = 0; i < 400 && !waiting; ++i) {
    waiting = Slurp(run.err_path).find("waiting for 1 webhook delivery") != std::string::npos;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_TRUE(waiting) << Slurp(run.err_path);
  auto t0 = std::chrono::steady_clock::now();
  kill(run.pid, SIGTERM);
  int code = Wait(run);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(code, 128 + SIGTERM);
  EXPECT_LT(took, 5.0) << Slurp(run.err_path);
}

// A detached run carried out by `specwright worker` (the PostgreSQL store): the worker that
// orchestrates it delivers its notifications and records them in the shared store.
TEST_F(NotifyE2E, AWorkerNotifiesTheRunsItFinishes) {
  testpg::TempPgDatabase db;
  SW_REQUIRE_PG(db);
  Receiver rx(dir_ + "/rx", "", "worker-secret");
  Write("flow.yaml", "name: detached\ndefaults: {model: scripted/m}\nnotify:\n  - url: " + rx.Url("/w") +
                         "\n    secret: ${W_SECRET}\nnodes:\n  a: {prompt: hi}\n");
  Result sub = RunCli({"submit", dir_ + "/flow.yaml", "--store", db.url(), "--run-id", "w1", "--script",
                       dir_ + "/script.yaml"}, dir_);
  ASSERT_EQ(sub.code, 0) << sub.err;
  Result w = RunCli({"worker", "--store", db.url(), "--script", dir_ + "/script.yaml", "--idle-exit", "2",
                     "--poll", "0.2", "--no-listen"}, dir_, {"W_SECRET=worker-secret"});
  EXPECT_EQ(w.code, 0) << w.err;
  auto got = rx.Got();
  ASSERT_EQ(got.size(), 1u) << w.err;
  EXPECT_EQ(got[0]["event"], "succeeded");
  EXPECT_TRUE(got[0]["sig_ok"].get<bool>());
  EXPECT_EQ(got[0]["body"]["run"]["id"], "w1");
  auto st = sw::store::OpenStore(db.url());
  ASSERT_TRUE(st.ok()) << st.status().message();
  auto ev = (*st)->ListEventsOfType("w1", "notification");
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_NE((*ev)[0].data.find("\"delivered\""), std::string::npos) << (*ev)[0].data;
}

// An eval is a top-level run: its end notifies the suite's `notify:` and specwright.yaml's
// targets once (its cases never do), with the pass rate and, with --baseline, the verdict; a
// suite budget that keeps cases from starting is budget_stopped; an offline replay tells nothing.
TEST_F(NotifyE2E, AnEvalNotifiesItsEndWithThePassRateAndTheVerdict) {
  Receiver rx(dir_ + "/rx", "", "eval-secret");
  Write("flow.yaml", "name: evaluated\ndefaults: {model: scripted/m}\nnodes:\n  a: {prompt: hi}\n");
  Write("suite.yaml", "name: gate\nworkflow: flow.yaml\nnotify:\n  - url: " + rx.Url("/suite") +
                          "\n    secret: ${E_SECRET}\ncases:\n  - {id: one, inputs: {}}\n  - {id: two, inputs: {}}\n"
                          "assert:\n  - {node: a, contains: nope}\n");
  auto eval = [&](const std::string& suite, std::vector<std::string> extra) {
    std::vector<std::string> args = {"eval", dir_ + "/" + suite, "--script", dir_ + "/script.yaml", "--store", store_};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCli(args, dir_, {"E_SECRET=eval-secret"});
  };
  Result r = eval("suite.yaml", {"--run-id", "e1"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  auto got = rx.Got();
  ASSERT_EQ(got.size(), 1u) << r.err;  // the eval, none of its cases
  EXPECT_EQ(got[0]["path"], "/suite");
  EXPECT_EQ(got[0]["event"], "failed");
  EXPECT_TRUE(got[0]["signed"].get<bool>());
  EXPECT_TRUE(got[0]["sig_ok"].get<bool>()) << got[0].dump();
  json body = got[0]["body"];
  EXPECT_EQ(body["run"]["id"], "e1");
  EXPECT_EQ(body["run"]["status"], "failed");
  EXPECT_EQ(body["run"]["name"], "gate");
  EXPECT_EQ(body["run"]["label"], "eval");
  EXPECT_NE(body["run"]["error"].get<std::string>().find("2 of 2 cases did not pass"), std::string::npos) << body;
  EXPECT_EQ(body["eval"]["pass_rate"], 0.0);
  EXPECT_EQ(body["eval"]["cases"], 2);
  EXPECT_EQ(body["eval"]["failed"], 2);
  EXPECT_FALSE(body["eval"].contains("verdict"));
  EXPECT_EQ(Show("e1")["notifications"].size(), 1u);

  // Against a baseline (the same failures: ok), and specwright.yaml's target too.
  Write("specwright.yaml", "notify:\n  - url: " + rx.Url("/cfg") + "\n    secret: ${E_SECRET}\n");
  r = eval("suite.yaml", {"--run-id", "e2", "--baseline", "e1", "--config", dir_ + "/specwright.yaml"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  got = rx.Got();
  ASSERT_EQ(got.size(), 3u) << r.err;
  std::set<std::string> paths;
  for (size_t i = 1; i < 3; ++i) {
    paths.insert(got[i]["path"].get<std::string>());
    EXPECT_EQ(got[i]["event"], "failed");
    EXPECT_TRUE(got[i]["sig_ok"].get<bool>());
    EXPECT_EQ(got[i]["body"]["run"]["id"], "e2");
    EXPECT_EQ(got[i]["body"]["eval"]["verdict"], "ok") << got[i].dump();
  }
  EXPECT_EQ(paths, (std::set<std::string>{"/suite", "/cfg"}));

  // The suite budget spent after one case: the other never starts.
  Write("tight.yaml", "name: tight\nworkflow: flow.yaml\nconcurrency: 1\nbudget: {max_calls: 1}\n"
                      "notify: {url: \"" + rx.Url("/tight") + "\", on: [budget_stopped]}\n"
                      "cases:\n  - {id: one, inputs: {}}\n  - {id: two, inputs: {}}\n");
  r = eval("tight.yaml", {"--run-id", "e3"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  got = rx.Got();
  ASSERT_EQ(got.size(), 4u) << r.err;
  EXPECT_EQ(got[3]["path"], "/tight");
  EXPECT_EQ(got[3]["event"], "budget_stopped");
  EXPECT_TRUE(got[3]["body"]["run"]["budget_stopped"].get<bool>());
  EXPECT_EQ(got[3]["body"]["eval"]["errored"], 1);

  // A reproduction is not news.
  Result rep = RunCli({"replay", "e1", "--offline", "--store", store_, "--run-id", "e4"}, dir_, {"E_SECRET=eval-secret"});
  EXPECT_EQ(rep.code, 0) << rep.out << rep.err;
  EXPECT_EQ(rx.Got().size(), 4u) << rep.err;
}

}  // namespace
