// notify: webhooks when a top-level run ends or waits. The workflow's `notify:` and
// specwright.yaml's (the user-level file's, then the project's) name http(s) targets; each
// delivery is a signed JSON POST, retried with backoff, to an address resolved, checked
// (SSRF guard) and pinned here, and every attempt is recorded as a `notification` event on
// the run. Secrets come from the environment at send time and are never stored.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "engine/engine.h"
#include "net/http_client.h"
#include "store/store.h"
#include "workflow/notify_spec.h"

namespace sw::notify {

using json = nlohmann::json;
using GetEnv = std::function<std::optional<std::string>(const std::string&)>;

/// HmacSha256Hex is HMAC-SHA256(key, message) in lower-case hex (OpenSSL libcrypto).
std::string HmacSha256Hex(std::string_view key, std::string_view message);
/// Signature is the X-Specwright-Signature value: "sha256=" + hex HMAC(secret, timestamp + "." + body).
std::string Signature(std::string_view secret, std::string_view timestamp, std::string_view body);

/// Url is an http(s) URL taken apart (workflow::ParseNotifyUrl, shared with the loader).
using Url = workflow::NotifyUrl;
Result<Url> ParseUrl(const std::string& url);
/// RedactUrl is what is shown and stored for a literal URL: scheme://host[:port]/… — the path
/// elided (Slack, Discord and Teams hooks carry their secret in it; "/" stays "/"), and never
/// userinfo, query or fragment. A URL that does not parse shows only its scheme.
std::string RedactUrl(const std::string& url);
/// ShownUrl is what is shown and stored for a target's URL as written: a literal URL is
/// RedactUrl; a template keeps its ${NAME} references unexpanded, and its path only when the
/// path holds a ${NAME} (the secret part then comes from the environment), else "/…".
std::string ShownUrl(const std::string& url);

/// AddressProblem says why a numeric address may not be a webhook's target ("" when it may):
/// link-local and cloud metadata addresses always, unspecified/multicast/broadcast always,
/// private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) unless allow_private.
/// Loopback is allowed (a receiver on this machine). IPv4-mapped IPv6 is judged as IPv4.
std::string AddressProblem(const std::string& ip, bool allow_private);
/// HostProblem refuses metadata host names (metadata.google.internal, ...) unless allow_private.
std::string HostProblem(const std::string& host, bool allow_private);
/// Resolve resolves host (a literal address is used as is) and checks every address; any
/// refused address refuses the target. Err kind kInvalidInput: refused (no connection made);
/// other errors: resolution failed (worth retrying).
Result<std::vector<std::string>> Resolve(const std::string& host, int port, bool allow_private);

/// Expand replaces ${NAME} with the variable's value; a variable unset or empty is an error
/// naming it (never its value).
Result<std::string> Expand(const std::string& s, const GetEnv& env);

/// What one run's end is called for notify: succeeded, failed, waiting, budget_stopped; ""
/// for a status nobody is told about (cancelled).
std::string EventOf(const engine::RunSummary& s);

struct Options {
  double backoff = 1.0;           // first retry waits up to this (full jitter), doubling
  double max_delay = 30.0;        // cap of a backoff and of a Retry-After
  double max_total = 120.0;       // a delivery's whole time, attempts and waits together
  size_t max_response = 64 * 1024;  // response body read at most (the rest is dropped)
  std::string ui_base = "http://127.0.0.1:8420";  // links.ui ($SPECWRIGHT_UI_URL)
  bool log = false;               // one line per finished delivery on stderr
};

/// Payload is the JSON body for run `run` (its record) ending with `event`.
json Payload(const std::string& event, const std::string& delivery_id, const store::RunRecord& run,
             const engine::RunSummary& s, const Options& o, double now);

struct DeliveryResult {
  bool delivered = false;
  int attempts = 0;
  int http_status = 0;
  std::string error;
};

/// Deliver POSTs body to target t, retrying as documented, and records every attempt as a
/// `notification` event of run_id in store (when not null). Blocks (bounded by max_total).
DeliveryResult Deliver(const workflow::NotifyTarget& t, const std::string& event, const std::string& delivery_id,
                       const std::string& body, const std::string& run_id, store::Store* store, const GetEnv& env,
                       const Options& o, std::shared_ptr<net::HttpClient> client = nullptr);

/// LoadConfigTargets reads `notify:` from the user-level specwright.yaml and then the
/// project's (project_file; "" = none): the targets of both apply.
Result<std::vector<workflow::NotifyTarget>> LoadConfigTargets(const std::string& project_file, const GetEnv& env);

/// Notifier is the engine's RunObserver: a top-level run's end starts one delivery per
/// target that wants its event, each on its own thread; Drain (and the destructor) waits for
/// them, bounded by Options::max_total.
class Notifier : public engine::RunObserver {
 public:
  Notifier(store::Store* store, std::vector<workflow::NotifyTarget> config_targets, GetEnv env, Options o = {});
  ~Notifier() override;
  void OnRunEnded(const workflow::Workflow& wf, const engine::RunSummary& summary) override;
  /// A gate waits on a person elsewhere while the run goes on (`run --wait`): `waiting` now.
  /// The run parking at those same gates later (the command interrupted) is not told again.
  void OnRunWaiting(const workflow::Workflow& wf, const std::string& run_id, const std::vector<std::string>& nodes) override;
  /// Drain waits for every delivery started so far.
  void Drain();
  int started() const { return started_.load(); }

 private:
  store::Store* store_;
  std::vector<workflow::NotifyTarget> config_;
  GetEnv env_;
  Options o_;
  std::mutex mu_;
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Worker> threads_;  // a long-lived worker reaps finished ones as it goes
  std::vector<std::pair<std::string, std::string>> waited_;  // (run, node) told `waiting` in process
  void Dispatch(const workflow::Workflow& wf, const engine::RunSummary& summary, const std::string& event);
  std::atomic<int> started_{0};
};

/// Notification is one recorded attempt (a `notification` event), for show and the UI.
struct Notification {
  double ts = 0;
  std::string url, event, delivery, outcome, error;
  int attempt = 0, attempts = 0, http_status = 0;
  double duration_ms = 0;
};
Result<std::vector<Notification>> ListNotifications(store::Store* store, const std::string& run_id);
json ToJson(const std::vector<Notification>& list);

}  // namespace sw::notify
