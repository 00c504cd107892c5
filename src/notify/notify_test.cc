#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "base/fs.h"
#include "net/http_server.h"
#include "notify/notify.h"
#include "store/store.h"
#include "workflow/workflow.h"

namespace sw::notify {
namespace {

// RFC 4231, test cases 1, 2, 3 and 6 (HMAC-SHA-256).
TEST(Hmac, Rfc4231Vectors) {
  EXPECT_EQ(HmacSha256Hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacSha256Hex(std::string(20, '\xaa'), std::string(50, '\xdd')),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  EXPECT_EQ(HmacSha256Hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(Signature("Jefe", "wha", "t do ya want for nothing?"),
            "sha256=" + HmacSha256Hex("Jefe", "wha.t do ya want for nothing?"));
}

TEST(Url, ParseAndRedact) {
  auto u = ParseUrl("https://user:pw@Hooks.example.com:8443/a/b?token=x#frag");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->host, "Hooks.example.com");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->path, "/a/b");
  EXPECT_EQ(u->query, "token=x");
  EXPECT_EQ(RedactUrl("https://user:pw@hooks.example.com:8443/a/b?token=x#frag"), "https://hooks.example.com:8443/…");
  EXPECT_EQ(RedactUrl("https://hooks.slack.com/services/T0/B0/XXXXsecret"), "https://hooks.slack.com/…");
  EXPECT_EQ(ShownUrl("https://discord.com/api/webhooks/123/tok-secret?wait=true"), "https://discord.com/…");
  EXPECT_EQ(ShownUrl("https://u:p@${HOST}/literal-secret"), "https://${HOST}/…");
  EXPECT_EQ(ShownUrl("${BASE}/literal-secret"), "${BASE}/…");
  EXPECT_EQ(ShownUrl("${BASE}/hooks/${TOKEN}"), "${BASE}/hooks/${TOKEN}");
  EXPECT_EQ(RedactUrl("http://[::1]:9000"), "http://[::1]:9000/");
  EXPECT_EQ(ShownUrl("https://hooks.example.com/services/${SLACK_PATH}?k=${KEY}"), "https://hooks.example.com/services/${SLACK_PATH}");
  EXPECT_EQ(ShownUrl("${HOOK_URL}"), "${HOOK_URL}");
  EXPECT_FALSE(ParseUrl("ftp://example.com/").ok());
  EXPECT_FALSE(ParseUrl("http://:80/").ok());
  EXPECT_FALSE(ParseUrl("http://example.com:99999/").ok());
}

TEST(Ssrf, Addresses) {
  for (const char* bad : {"169.254.169.254", "169.254.1.2", "fe80::1", "fd00:ec2::254", "100.100.100.200",
                          "::ffff:169.254.169.254", "0.0.0.0", "::", "224.0.0.1", "255.255.255.255"})
    EXPECT_NE(AddressProblem(bad, false), "") << bad;
  for (const char* priv : {"10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "fd12::1"}) {
    EXPECT_NE(AddressProblem(priv, false), "") << priv;
    EXPECT_EQ(AddressProblem(priv, true), "") << priv;
  }
  EXPECT_EQ(AddressProblem("169.254.169.254", true), "");
  EXPECT_EQ(AddressProblem("fe80::1", true), "");
  for (const char* ok : {"127.0.0.1", "::1", "8.8.8.8", "2606:4700::1111", "172.32.0.1"})
    EXPECT_EQ(AddressProblem(ok, false), "") << ok;
  EXPECT_NE(HostProblem("metadata.google.internal.", false), "");
  EXPECT_EQ(HostProblem("metadata.google.internal", true), "");
  auto r = Resolve("169.254.169.254", 80, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidInput);
  EXPECT_EQ(r.status().message(), "refused: 169.254.169.254 is a cloud metadata address");
  auto ll = Resolve("169.254.10.1", 80, false);
  ASSERT_FALSE(ll.ok());
  EXPECT_NE(ll.status().message().find("link-local"), std::string::npos) << ll.status().message();
  auto l = Resolve("localhost", 80, false);
  ASSERT_TRUE(l.ok()) << l.status().message();
}

std::vector<workflow::NotifyTarget> Parse(const std::string& yaml, std::vector<workflow::Diagnostic>* errors) {
  return workflow::ParseNotify(YAML::Load(yaml)["notify"], "flow.yaml", errors);
}

TEST(Spec, ParsesAndReportsPositions) {
  std::vector<workflow::Diagnostic> errors;
  auto t = Parse(
      "notify:\n"
      "  - url: https://hooks.example.com/x\n"
      "    on: [failed, waiting]\n"
      "    secret: ${HOOK_SECRET}\n"
      "    headers: {X-Team: ops, Authorization: \"Bearer ${TOKEN}\"}\n"
      "    timeout: 5s\n"
      "    attempts: 3\n"
      "  - http://127.0.0.1:9/y\n",
      &errors);
  ASSERT_TRUE(errors.empty()) << errors[0].ToString();
  ASSERT_EQ(t.size(), 2u);
  // A template is checked as far as it is written: its host and port when only the path varies.
  std::vector<workflow::Diagnostic> tmpl_errors;
  Parse("notify:\n  - https://hooks.example.com:8443/x/${P}?k=${K}\n  - ${WHOLE_URL}\n  - https://${HOST}:${PORT}/x\n", &tmpl_errors);
  EXPECT_TRUE(tmpl_errors.empty()) << tmpl_errors[0].ToString();
  EXPECT_EQ(t[0].on, (std::vector<std::string>{"failed", "waiting"}));
  EXPECT_EQ(t[0].secret_env, "HOOK_SECRET");
  EXPECT_EQ(t[0].headers.size(), 2u);
  EXPECT_EQ(t[0].timeout, 5);
  EXPECT_EQ(t[0].attempts, 3);
  EXPECT_TRUE(t[1].Wants("budget_stopped"));
  EXPECT_EQ(t[1].attempts, 5);

  struct Case {
    std::string yaml, want;
    int line, col;
  };
  std::vector<Case> cases = {
      {"notify:\n  - url: ftp://x/\n", "must be http:// or https://", 2, 10},
      {"notify:\n  - url: https://x/\n    on: [faild]\n", "did you mean \"failed\"", 3, 10},
      {"notify:\n  - url: https://x/\n    secret: hunter2\n", "secret must name an environment variable", 3, 13},
      {"notify:\n  - url: https://x/\n    atempts: 3\n", "did you mean \"attempts\"", 3, 5},
      {"notify:\n  - url: https://x/\n    headers: {X-Specwright-Event: x}\n", "set by specwright", 3, 15},
      {"notify:\n  - url: https://x/\n    attempts: 0\n", "from 1 to 10", 3, 15},
      {"notify:\n  - url: https://x/\n    timeout: 2m\n", "at most 60s", 3, 14},
      {"notify:\n  - on: [failed]\n", "missing required key \"url\"", 2, 5},
      {"notify:\n  - url: http://example.com:99999/x\n", "notify url: bad port", 2, 10},
      {"notify:\n  - url: \"http://exa mple.com/x\"\n", "notify url: the URL's host has a character", 2, 10},
      {"notify:\n  - https://:8080/${PATH}\n", "notify url: the URL has no host", 2, 5},
      {"notify:\n  - url: http://[::1/x\n", "notify url: unterminated [", 2, 10},
      {"notify:\n  - url: https://x/\n    headers: {Authorization: \"Bearer hunter2\"}\n", "carries a credential", 3, 30},
  };
  for (const auto& c : cases) {
    std::vector<workflow::Diagnostic> errs;
    auto got = Parse(c.yaml, &errs);
    ASSERT_FALSE(errs.empty()) << c.yaml;
    EXPECT_TRUE(got.empty());
    EXPECT_NE(errs[0].message.find(c.want), std::string::npos) << errs[0].ToString();
    EXPECT_EQ(errs[0].pos.line, c.line) << errs[0].ToString();
    EXPECT_EQ(errs[0].pos.col, c.col) << errs[0].ToString();
    EXPECT_EQ(errs[0].message.find("hunter2"), std::string::npos);
  }
}

/// Receiver is a real HTTP server on 127.0.0.1 answering with a scripted list of statuses.
struct Receiver {
  std::mutex mu;
  std::vector<net::IncomingRequest> got;
  std::vector<int> statuses;
  std::unique_ptr<net::HttpServer> server;
  Receiver(std::vector<int> s) : statuses(std::move(s)) {
    auto r = net::HttpServer::Start({}, [this](const net::IncomingRequest& req, std::shared_ptr<net::ResponseWriter> w) {
      int status;
      {
        std::lock_guard<std::mutex> l(mu);
        got.push_back(req);
        status = got.size() <= statuses.size() ? statuses[got.size() - 1] : 200;
      }
      w->Send(status, {{"Content-Type", "text/plain"}}, "ok");
    });
    EXPECT_TRUE(r.ok());
    server = std::move(*r);
  }
  size_t count() {
    std::lock_guard<std::mutex> l(mu);
    return got.size();
  }
};

struct Fixture : ::testing::Test {
  std::string dir;
  std::unique_ptr<store::Store> store;
  std::map<std::string, std::string> vars;
  GetEnv env = [this](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  Options fast;
  void SetUp() override {
    char tmpl[] = "/tmp/sw-notify-XXXXXX";
    dir = mkdtemp(tmpl);
    auto s = store::OpenStore(dir);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store = std::move(*s);
    store::Batch b;
    store::RunRecord r;
    r.id = "run-1";
    r.status = "failed";
    b.run = r;
    ASSERT_TRUE(store->Commit(b).ok());
    fast.backoff = 0.05;
    fast.max_delay = 0.2;
  }
  void TearDown() override {
    store.reset();
    std::filesystem::remove_all(dir);
  }
  workflow::NotifyTarget Target(const std::string& url) {
    workflow::NotifyTarget t;
    t.url = url;
    t.on = workflow::NotifyEvents();
    t.timeout = 5;
    return t;
  }
};

TEST_F(Fixture, RetriesOn503ThenDelivers) {
  Receiver rx({503, 503, 200});
  vars["HOOK_SECRET"] = "s3cret-signing-key";
  auto t = Target(rx.server->base_url() + "/hook");
  t.secret_env = "HOOK_SECRET";
  std::string body = R"({"event":"failed"})";
  auto r = Deliver(t, "failed", "d-1", body, "run-1", store.get(), env, fast);
  EXPECT_TRUE(r.delivered) << r.error;
  EXPECT_EQ(r.attempts, 3);
  ASSERT_EQ(rx.count(), 3u);
  // Every attempt carries the headers and a signature over its own timestamp.
  for (const auto& req : rx.got) {
    EXPECT_EQ(req.body, body);
    EXPECT_EQ(req.Header("x-specwright-event"), "failed");
    EXPECT_EQ(req.Header("x-specwright-delivery"), "d-1");
    EXPECT_EQ(req.Header("content-type"), "application/json");
    std::string ts = req.Header("x-specwright-timestamp");
    ASSERT_FALSE(ts.empty());
    EXPECT_EQ(req.Header("x-specwright-signature"), "sha256=" + HmacSha256Hex("s3cret-signing-key", ts + "." + body));
  }
  auto list = ListNotifications(store.get(), "run-1");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].outcome, "retrying");
  EXPECT_EQ((*list)[0].http_status, 503);
  EXPECT_EQ((*list)[1].outcome, "retrying");
  EXPECT_EQ((*list)[2].outcome, "delivered");
  EXPECT_EQ((*list)[2].attempt, 3);
  EXPECT_EQ((*list)[2].url, rx.server->base_url() + "/…");
}

TEST_F(Fixture, ClientErrorIsNotRetried) {
  Receiver rx({400, 200});
  auto r = Deliver(Target(rx.server->base_url() + "/hook"), "succeeded", "d-2", "{}", "run-1", store.get(), env, fast);
  EXPECT_FALSE(r.delivered);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(rx.count(), 1u);
  auto list = ListNotifications(store.get(), "run-1");
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].outcome, "failed");
  EXPECT_NE((*list)[0].error.find("not retried"), std::string::npos);
}

TEST_F(Fixture, GivesUpAfterAttempts) {
  Receiver rx({500, 502, 429});
  auto t = Target(rx.server->base_url() + "/hook");
  t.attempts = 3;
  auto r = Deliver(t, "failed", "d-3", "{}", "run-1", store.get(), env, fast);
  EXPECT_FALSE(r.delivered);
  EXPECT_EQ(rx.count(), 3u);
  auto list = ListNotifications(store.get(), "run-1");
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ(list->back().outcome, "failed");
  EXPECT_NE(list->back().error.find("gave up after 3 attempts"), std::string::npos) << list->back().error;
}

TEST_F(Fixture, ConnectErrorsAreRetried) {
  // A port nobody listens on: bind one, note it, close it.
  int port;
  {
    Receiver rx({});
    port = rx.server->port();
  }
  auto t = Target("http://127.0.0.1:" + std::to_string(port) + "/");
  t.attempts = 2;
  auto r = Deliver(t, "failed", "d-4", "{}", "run-1", store.get(), env, fast);
  EXPECT_FALSE(r.delivered);
  EXPECT_EQ(r.attempts, 2);
  auto list = ListNotifications(store.get(), "run-1");
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].outcome, "retrying");
}

TEST_F(Fixture, LinkLocalAndMetadataRefusedWithoutConnecting) {
  for (const std::string url : {"http://169.254.169.254/latest/meta-data/", "http://[fe80::1]:8080/x",
                                "http://metadata.google.internal/computeMetadata/v1/", "http://10.0.0.7/x"}) {
    auto r = Deliver(Target(url), "failed", "d-5", "{}", "run-1", store.get(), env, fast);
    EXPECT_FALSE(r.delivered);
    EXPECT_EQ(r.attempts, 1) << url;
    EXPECT_EQ(r.http_status, 0);
    EXPECT_NE(r.error.find("refused"), std::string::npos) << r.error;
  }
  auto list = ListNotifications(store.get(), "run-1");
  ASSERT_EQ(list->size(), 4u);
  for (const auto& n : *list) EXPECT_EQ(n.outcome, "refused");
}

// Other spellings of a refused address: decimal, octal and hex IPv4 (getaddrinfo reads them
// as inet_aton does, and so does curl), IPv4-mapped and NAT64 IPv6.
TEST_F(Fixture, OtherSpellingsOfRefusedAddressesAreRefused) {
  for (const std::string url : {"http://2852039166/x", "http://0251.0376.0251.0376/x", "http://0xa9fea9fe/x",
                                "http://169.254.43518/x", "http://[::ffff:169.254.169.254]/x",
                                "http://[::ffff:a9fe:a9fe]/x", "http://[64:ff9b::a9fe:a9fe]/x", "http://[64:ff9b::10.0.0.1]/x"}) {
    auto r = Deliver(Target(url), "failed", "d-9", "{}", "run-1", store.get(), env, fast);
    EXPECT_FALSE(r.delivered) << url;
    EXPECT_EQ(r.attempts, 1) << url;
    EXPECT_NE(r.error.find("refused"), std::string::npos) << url << ": " << r.error;
  }
}

// A host curl would spell otherwise than getaddrinfo (percent-encoded, international, an IPv6
// zone) would miss the pin and be resolved again by curl unchecked: refused before anything.
TEST(Url, HostsCurlWouldRespellAreRefused) {
  for (const char* url : {"http://169%2e254%2e169%2e254/", "http://ex\xc3\xa4mple.com/", "http://[fe80::1%25eth0]/",
                          "http://a b/"})
    EXPECT_FALSE(ParseUrl(url).ok()) << url;
  EXPECT_TRUE(ParseUrl("http://xn--exmple-cua.com/").ok());
  EXPECT_TRUE(ParseUrl("http://my_host.local:8080/").ok());
}

// The environment's proxy is not used: it would reach the address from its own machine.
TEST_F(Fixture, EnvironmentProxyIsNotUsed) {
  Receiver rx({200});
  std::string saved_no = getenv("no_proxy") ? getenv("no_proxy") : "", saved_NO = getenv("NO_PROXY") ? getenv("NO_PROXY") : "";
  unsetenv("no_proxy");
  unsetenv("NO_PROXY");
  setenv("http_proxy", "http://127.0.0.1:9", 1);  // nothing listens on the discard port
  auto r = Deliver(Target(rx.server->base_url() + "/p"), "failed", "d-8", "{}", "run-1", store.get(), env, fast);
  unsetenv("http_proxy");
  if (!saved_no.empty()) setenv("no_proxy", saved_no.c_str(), 1);
  if (!saved_NO.empty()) setenv("NO_PROXY", saved_NO.c_str(), 1);
  EXPECT_TRUE(r.delivered) << r.error;
  EXPECT_EQ(rx.count(), 1u);
}

TEST_F(Fixture, HeaderVariableWithALineBreakSendsNothing) {
  Receiver rx({200});
  vars["TAG"] = "a\r\nX-Injected: 1";
  auto t = Target(rx.server->base_url() + "/p");
  t.headers.emplace_back("X-Tag", "${TAG}");
  auto r = Deliver(t, "failed", "d-7", "{}", "run-1", store.get(), env, fast);
  EXPECT_FALSE(r.delivered);
  EXPECT_EQ(rx.count(), 0u);
  EXPECT_NE(r.error.find("line break"), std::string::npos) << r.error;
}

TEST_F(Fixture, PinnedAddressIsUsedForTheHostName) {
  Receiver rx({200});
  // A name no resolver knows reaches the receiver only through the pin.
  net::ClientRequest req;
  req.url = "http://pinned.specwright.invalid:" + std::to_string(rx.server->port()) + "/p";
  req.body = "x";
  req.resolve.push_back("pinned.specwright.invalid:" + std::to_string(rx.server->port()) + ":127.0.0.1");
  std::promise<int> done;
  net::ClientHandlers h;
  h.on_done = [&](net::ClientResult r) { done.set_value(r.status); };
  net::HttpClient::Shared()->Send(req, h, nullptr);
  EXPECT_EQ(done.get_future().get(), 200);
  ASSERT_EQ(rx.count(), 1u);
  EXPECT_EQ(rx.got[0].Header("host"), "pinned.specwright.invalid:" + std::to_string(rx.server->port()));
}

TEST_F(Fixture, SecretsNeverStored) {
  Receiver rx({503, 200});
  vars["HOOK_SECRET"] = "topsecret-hmac-key-123";
  vars["HOOK_TOKEN"] = "token-in-the-path-456";
  vars["AUTH"] = "bearer-value-789";
  auto t = Target(rx.server->base_url() + "/hooks/${HOOK_TOKEN}?sig=${HOOK_TOKEN}");
  t.secret_env = "HOOK_SECRET";
  t.headers = {{"Authorization", "Bearer ${AUTH}"}};
  auto r = Deliver(t, "waiting", "d-6", "{}", "run-1", store.get(), env, fast);
  ASSERT_TRUE(r.delivered) << r.error;
  EXPECT_EQ(rx.got.back().path, "/hooks/token-in-the-path-456");
  EXPECT_EQ(rx.got.back().Header("authorization"), "Bearer bearer-value-789");
  auto list = ListNotifications(store.get(), "run-1");
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].url, rx.server->base_url() + "/hooks/${HOOK_TOKEN}");
  store.reset();  // every byte on disk
  std::string all;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    auto text = ReadFile(e.path().string());
    if (text.ok()) all += *text;
  }
  ASSERT_FALSE(all.empty());
  for (const auto& [k, v] : vars) EXPECT_EQ(all.find(v), std::string::npos) << k << " found in the store";
}

// A literal path (a Slack/Discord/Teams hook's secret) is sent but never stored or shown.
TEST_F(Fixture, LiteralPathNeverReachesTheStore) {
  Receiver rx({503, 404});
  auto t = Target(rx.server->base_url() + "/services/T0/B0/literal-hook-secret-31337?q=query-secret-99");
  auto r = Deliver(t, "failed", "d-9", "{}", "run-1", store.get(), env, fast);
  EXPECT_FALSE(r.delivered);
  ASSERT_EQ(rx.count(), 2u);
  EXPECT_EQ(rx.got.back().path, "/services/T0/B0/literal-hook-secret-31337");
  auto list = ListNotifications(store.get(), "run-1");
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].url, rx.server->base_url() + "/…");
  store.reset();
  std::string all;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file())
      if (auto text = ReadFile(e.path().string()); text.ok()) all += *text;
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.find("literal-hook-secret-31337"), std::string::npos);
  EXPECT_EQ(all.find("query-secret-99"), std::string::npos);
}

TEST_F(Fixture, MissingSecretVariableSendsNothing) {
  Receiver rx({200});
  auto t = Target(rx.server->base_url() + "/hook");
  t.secret_env = "NOT_SET_ANYWHERE";
  auto r = Deliver(t, "failed", "d-7", "{}", "run-1", store.get(), env, fast);
  EXPECT_FALSE(r.delivered);
  EXPECT_EQ(rx.count(), 0u);
  EXPECT_NE(r.error.find("NOT_SET_ANYWHERE is not set"), std::string::npos) << r.error;
}

TEST(Payload, Shape) {
  store::RunRecord run;
  run.id = "r1";
  run.workflow_file = "/w/flow.yaml";
  run.workflow_name = "launch";
  run.created_at = 1700000000;
  run.cost_usd = 0.25;
  run.calls = 3;
  engine::RunSummary s;
  s.run_id = "r1";
  s.status = "waiting";
  s.waiting = {"review"};
  Options o;
  json p = Payload("waiting", "d1", run, s, o, 1700000100);
  EXPECT_EQ(p["event"], "waiting");
  EXPECT_EQ(p["run"]["name"], "launch");
  EXPECT_EQ(p["run"]["waiting"][0], "review");
  EXPECT_EQ(p["run"]["started_at"], "2023-11-14T22:13:20Z");
  EXPECT_TRUE(p["run"]["finished_at"].is_null());
  EXPECT_EQ(p["links"]["show"], "specwright show r1");
  EXPECT_EQ(p["links"]["ui"], "http://127.0.0.1:8420/#/runs/r1");
  EXPECT_FALSE(p.contains("eval"));
  // A caller's extra keys (an eval's pass rate and verdict) join the payload; its own keys stay.
  s.notify_extra = json{{"eval", {{"pass_rate", 0.5}, {"verdict", "ok"}}}, {"event", "forged"}};
  json q = Payload("waiting", "d1", run, s, o, 1700000100);
  EXPECT_EQ(q["eval"]["pass_rate"], 0.5);
  EXPECT_EQ(q["eval"]["verdict"], "ok");
  EXPECT_EQ(q["event"], "waiting");
  s.status = "failed";
  s.budget_stopped = true;
  EXPECT_EQ(EventOf(s), "budget_stopped");
  s.budget_stopped = false;
  EXPECT_EQ(EventOf(s), "failed");
  s.status = "cancelled";
  EXPECT_EQ(EventOf(s), "");
}

}  // namespace
}  // namespace sw::notify

// The engine's hook: a top-level run tells its observer once, sub-runs never; a run stopped by
// its budget says so.
#include "llm/scripted.h"

namespace sw::notify {
namespace {

struct Recorder : engine::RunObserver {
  std::vector<std::pair<std::string, engine::RunSummary>> seen;
  void OnRunEnded(const workflow::Workflow& wf, const engine::RunSummary& s) override { seen.emplace_back(wf.name, s); }
  std::vector<std::vector<std::string>> waits;
  void OnRunWaiting(const workflow::Workflow& wf, const std::string& run_id, const std::vector<std::string>& nodes) override {
    std::vector<std::string> w = {wf.name, run_id};
    w.insert(w.end(), nodes.begin(), nodes.end());
    waits.push_back(w);
  }
};

class Hook : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw-notify-hook-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto p = llm::ScriptedFromJson(R"({"nodes": {"*": [{"text": "fine"}]}})", "test", &prices_);
    ASSERT_TRUE(p.ok()) << p.status().message();
    providers_.Add(*p);
    services_.providers = &providers_;
    services_.prices = &prices_;
    services_.tools = &tools_;
    services_.observer = &rec_;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::shared_ptr<const workflow::Workflow> Load(const std::string& name, const std::string& yaml) {
    std::ofstream(dir_ + "/" + name) << yaml;
    auto r = workflow::LoadOrError(dir_ + "/" + name);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : nullptr;
  }
  std::string dir_;
  llm::Registry providers_;
  llm::PriceTable prices_;
  tools::Registry tools_;
  engine::Services services_;
  Recorder rec_;
};

TEST_F(Hook, TopLevelRunsOnlyAndBudgetStopped) {
  Load("child.yaml", "name: child\ndefaults: {model: scripted/m}\nnodes:\n  c: {prompt: hi}\n");
  auto parent = Load("parent.yaml", "name: parent\ndefaults: {model: scripted/m}\n"
                                    "notify: http://127.0.0.1:9/x\n"
                                    "nodes:\n  sub: {kind: workflow, workflow: child.yaml}\n");
  ASSERT_TRUE(parent);
  EXPECT_EQ(parent->notify.size(), 1u);
  engine::RunOptions o;
  o.use_cache = false;
  auto r = engine::Run(parent, services_, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(rec_.seen.size(), 1u);  // the sub-run told nobody
  EXPECT_EQ(rec_.seen[0].first, "parent");
  EXPECT_EQ(rec_.seen[0].second.status, "succeeded");
  EXPECT_EQ(EventOf(rec_.seen[0].second), "succeeded");

  // The parent's budget stops the sub-run's second call: the top-level run is budget_stopped.
  Load("child2.yaml", "name: child2\ndefaults: {model: scripted/m}\nnodes:\n  c: {prompt: hi}\n  d: {prompt: again, needs: [c]}\n");
  auto capped = Load("capped.yaml", "name: capped\ndefaults: {model: scripted/m}\nbudget: {max_calls: 1}\n"
                                    "nodes:\n  sub: {kind: workflow, workflow: child2.yaml}\n");
  rec_.seen.clear();
  auto b = engine::Run(capped, services_, o);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(rec_.seen.size(), 1u);
  EXPECT_EQ(rec_.seen[0].second.status, "failed");
  EXPECT_TRUE(rec_.seen[0].second.budget_stopped);
  EXPECT_EQ(EventOf(rec_.seen[0].second), "budget_stopped");

  // A failure that is not the budget's is plain failed.
  auto broken = Load("broken.yaml", "name: broken\nnodes:\n  t: {kind: tool, tool: \"builtin://fs.read\", args: {path: nope.txt}}\n");
  tools::AddBuiltins(&tools_);
  rec_.seen.clear();
  auto f = engine::Run(broken, services_, o);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(rec_.seen.size(), 1u);
  EXPECT_EQ(rec_.seen[0].second.status, "failed");
  EXPECT_EQ(EventOf(rec_.seen[0].second), "failed");
}

// A budget refusal on one branch (inside a sub-run) and an unrelated failure that is the
// run's: failed, not budget_stopped.
TEST_F(Hook, UnrelatedFailureIsNotBudgetStopped) {
  Load("child2.yaml", "name: child2\ndefaults: {model: scripted/m}\nnodes:\n  c: {prompt: hi}\n  d: {prompt: again, needs: [c]}\n");
  auto both = Load("both.yaml", "name: both\ndefaults: {model: scripted/m}\nbudget: {max_calls: 1}\n"
                                "nodes:\n  t: {kind: tool, tool: \"builtin://fs.read\", args: {path: nope.txt}}\n"
                                "  sub: {kind: workflow, workflow: child2.yaml}\n");
  ASSERT_TRUE(both);
  tools::AddBuiltins(&tools_);
  engine::RunOptions o;
  o.use_cache = false;
  auto r = engine::Run(both, services_, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(rec_.seen.size(), 1u);
  const auto& s = rec_.seen[0].second;
  EXPECT_EQ(s.status, "failed");
  EXPECT_NE(s.error.find("node \"t\""), std::string::npos) << s.error;
  EXPECT_EQ(s.failed, 2) << "the sub-run failed too (of the budget)";
  EXPECT_FALSE(s.budget_stopped) << s.error;
  EXPECT_EQ(EventOf(s), "failed");
}

// A gate waiting on a person elsewhere (run --wait) tells OnRunWaiting once, while the run
// goes on; a terminal prompt and sub-runs' gates do not.
TEST_F(Hook, GateWaitingOnAPersonElsewhereIsTold) {
  auto gated = Load("gated.yaml", "name: gated\ndefaults: {model: scripted/m}\nnodes:\n  a: {prompt: hi}\n"
                                  "  ok: {kind: human, needs: [a], message: \"ship it\"}\n  ok2: {kind: human, needs: [ok]}\n");
  ASSERT_TRUE(gated);
  engine::RunOptions o;
  o.use_cache = false;
  o.run_id = "gate-1";
  o.human = [](const engine::HumanRequest&) -> std::optional<engine::HumanAnswer> {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return engine::HumanAnswer{true, "", "ui"};
  };
  o.human_outside = true;
  auto r = engine::Run(gated, services_, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, "succeeded");
  ASSERT_EQ(rec_.waits.size(), 2u);  // each gate's wait, once
  EXPECT_EQ(rec_.waits[0], (std::vector<std::string>{"gated", "gate-1", "ok"}));
  EXPECT_EQ(rec_.waits[1], (std::vector<std::string>{"gated", "gate-1", "ok2"}));
  ASSERT_EQ(rec_.seen.size(), 1u);
  EXPECT_EQ(rec_.seen[0].second.status, "succeeded");

  rec_.waits.clear();
  o.human_outside = false;  // a terminal prompt: the person is right there
  o.run_id = "gate-2";
  ASSERT_TRUE(engine::Run(gated, services_, o).ok());
  EXPECT_TRUE(rec_.waits.empty());
}

}  // namespace
}  // namespace sw::notify
