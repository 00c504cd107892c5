// Signing, the payload, one delivery with its retries, the Notifier (the engine's
// RunObserver) and reading the recorded attempts back.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <future>
#include <algorithm>
#include <random>

#include "base/clock.h"
#include "base/fs.h"
#include "base/strings.h"
#include "llm/config.h"
#include "notify/notify.h"
#include "workflow/workflow.h"
#include "workflow/yaml_json.h"

#include <yaml-cpp/yaml.h>

namespace sw::notify {
namespace {

std::string Iso(double t) {
  if (t <= 0) return "";
  time_t s = static_cast<time_t>(t);
  tm g{};
  gmtime_r(&s, &g);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &g);
  return buf;
}

double Rand01() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0, 1)(rng);
}

std::string NewDeliveryId() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%016llx%08llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng() & 0xffffffffu));
  return buf;
}

/// The values of the variables s refers to (to scrub them out of messages).
void Referenced(const std::string& s, const GetEnv& env, std::vector<std::string>* out) {
  for (size_t i = s.find("${"); i != std::string::npos; i = s.find("${", i + 2)) {
    size_t end = s.find('}', i);
    if (end == std::string::npos) return;
    if (auto v = env(s.substr(i + 2, end - i - 2)); v && v->size() >= 4) out->push_back(*v);
  }
}

}  // namespace

std::string ShownUrl(const std::string& url) {
  if (url.find("${") == std::string::npos) return RedactUrl(url);
  // A template: the variables stay unexpanded (their values are never shown); userinfo,
  // query and fragment go as in RedactUrl.
  std::string u = url.substr(0, url.find_first_of("?#"));
  size_t c = u.find("://");
  size_t end = std::string::npos;
  if (c != std::string::npos) {
    end = u.find('/', c + 3);
    size_t at = u.rfind('@', end == std::string::npos ? u.size() : end);
    if (at != std::string::npos && at > c) {
      u = u.substr(0, c + 3) + u.substr(at + 1);
      end = u.find('/', c + 3);
    }
  } else if (size_t close = u.find('}'); close != std::string::npos) {
    end = u.find('/', close);  // ${BASE}/path: the path after the variable
  }
  // A literal path is elided (it may be the hook's secret); one with ${NAME} is shown as written.
  if (end != std::string::npos && u.find("${", end) == std::string::npos && u.size() > end + 1)
    u = u.substr(0, end) + "/…";
  return u;
}

namespace {

std::string Scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& sec : secrets) {
    if (sec.empty()) continue;
    // Past each replacement: a secret that is itself "*", "**" or "***" would match its own mark.
    for (size_t p = text.find(sec); p != std::string::npos; p = text.find(sec, p + 3)) text.replace(p, sec.size(), "***");
  }
  return text;
}

struct Sent {
  net::Transport transport = net::Transport::kOk;
  int status = 0;
  std::string message;
  std::string retry_after;
};

Sent SendOnce(const std::shared_ptr<net::HttpClient>& client, net::ClientRequest req, size_t max_response) {
  struct State {
    std::promise<Sent> done;
    int status = 0;
    std::string retry_after;
    size_t bytes = 0;
  };
  auto st = std::make_shared<State>();
  auto fut = st->done.get_future();
  net::ClientHandlers h;
  h.on_head = [st](int status, const net::Headers& headers) {
    st->status = status;
    st->retry_after = net::HeaderValue(headers, "retry-after");
  };
  h.on_body = [st, max_response](std::string_view chunk) {
    st->bytes += chunk.size();
    return st->bytes <= max_response;  // past the cap: stop reading (the status is known)
  };
  h.on_done = [st](net::ClientResult r) {
    Sent s;
    s.transport = r.transport;
    s.status = r.status ? r.status : st->status;
    s.message = r.message;
    s.retry_after = st->retry_after;
    // A response cut by our own cap still answered.
    if (r.transport == net::Transport::kAborted && s.status > 0) s.transport = net::Transport::kOk;
    st->done.set_value(std::move(s));
  };
  client->Send(std::move(req), std::move(h), nullptr);
  return fut.get();
}

/// Webhooks have a client of their own: curl keeps CURLOPT_RESOLVE pins in its multi handle's
/// DNS cache (for good), and a shared pool would let a webhook reuse a connection made without
/// the check (and LLM calls to the same host:port use a webhook's pin).
std::shared_ptr<net::HttpClient> NotifyClient() {
  static auto* client = new std::shared_ptr<net::HttpClient>(std::make_shared<net::HttpClient>());
  return *client;
}

void Record(store::Store* store, const std::string& run_id, const json& data) {
  if (!store) return;
  store::Batch b;
  store::Event e;
  e.run_id = run_id;
  e.ts = SystemClock::Default()->WallNow();
  e.type = "notification";
  e.data = data.dump();
  b.events.push_back(std::move(e));
  Status s = store->Commit(b);
  if (!s.ok()) std::fprintf(stderr, "warning: recording a notification of run %s: %s\n", run_id.c_str(), s.message().c_str());
}

}  // namespace

std::string HmacSha256Hex(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), out, &len);
  static const char* hex = "0123456789abcdef";
  std::string s;
  s.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    s += hex[out[i] >> 4];
    s += hex[out[i] & 15];
  }
  return s;
}

std::string Signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
  std::string msg;
  msg.reserve(timestamp.size() + 1 + body.size());
  msg.append(timestamp).append(".").append(body);
  return "sha256=" + HmacSha256Hex(secret, msg);
}

Result<std::string> Expand(const std::string& s, const GetEnv& env) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 2, "${") == 0) {
      size_t end = s.find('}', i);
      if (end == std::string::npos) return InvalidInput("an unterminated ${ reference");
      std::string name = s.substr(i + 2, end - i - 2);
      auto v = env(name);
      if (!v || v->empty()) return InvalidInput("environment variable " + name + " is not set");
      out += *v;
      i = end + 1;
    } else {
      out += s[i++];
    }
  }
  return out;
}

std::string EventOf(const engine::RunSummary& s) {
  if (s.status == "succeeded") return "succeeded";
  if (s.status == "waiting") return "waiting";
  if (s.status == "failed") return s.budget_stopped ? "budget_stopped" : "failed";
  return "";
}

json Payload(const std::string& event, const std::string& delivery_id, const store::RunRecord& run,
             const engine::RunSummary& s, const Options& o, double now) {
  const std::string& id = s.run_id;
  bool have = run.id == id;
  json r{{"id", id},
         {"workflow", have ? run.workflow_file : ""},
         {"name", have ? run.workflow_name : ""},
         {"status", s.status},
         {"error", s.error},
         {"cost_usd", have ? run.cost_usd : s.cost_usd},
         {"cost_unknown", have ? run.cost_unknown : s.cost_unknown},
         {"tokens", {{"in", have ? run.tokens_in : s.tokens_in}, {"out", have ? run.tokens_out : s.tokens_out}}},
         {"calls", have ? run.calls : s.calls},
         {"started_at", have ? json(Iso(run.created_at)) : json(nullptr)},
         {"finished_at", have && run.finished_at > 0 ? json(Iso(run.finished_at)) : json(nullptr)},
         {"waiting", s.waiting}};
  if (have && !run.label.empty()) r["label"] = run.label;
  if (s.budget_stopped) r["budget_stopped"] = true;
  std::string ui = o.ui_base;
  while (!ui.empty() && ui.back() == '/') ui.pop_back();
  json p{{"event", event},
         {"delivery", delivery_id},
         {"sent_at", Iso(now)},
         {"run", r},
         {"links", {{"show", "specwright show " + id}, {"ui", ui + "/#/runs/" + id}}}};
  // A caller's extra keys (an eval's `eval`) never replace the payload's own.
  if (s.notify_extra.is_object())
    for (auto& [k, v] : s.notify_extra.items())
      if (!p.contains(k)) p[k] = v;
  return p;
}

DeliveryResult Deliver(const workflow::NotifyTarget& t, const std::string& event, const std::string& delivery_id,
                       const std::string& body, const std::string& run_id, store::Store* store, const GetEnv& env,
                       const Options& o, std::shared_ptr<net::HttpClient> client) {
  if (!client) client = NotifyClient();
  DeliveryResult res;
  std::string shown = ShownUrl(t.url);
  std::vector<std::string> secrets;
  Referenced(t.url, env, &secrets);
  for (const auto& [k, v] : t.headers) Referenced(v, env, &secrets);
  if (!t.secret_env.empty())
    if (auto v = env(t.secret_env); v && !v->empty()) secrets.push_back(*v);
  double start = SystemClock::Default()->Now();
  double deadline = start + o.max_total;
  auto record = [&](int attempt, const std::string& outcome, int http, const std::string& error, double began) {
    json d{{"url", shown},         {"event", event},          {"delivery", delivery_id},
           {"attempt", attempt},   {"attempts", t.attempts},  {"outcome", outcome},
           {"http_status", http},  {"error", Scrub(error, secrets)},
           {"duration_ms", std::llround((SystemClock::Default()->Now() - began) * 1000)}};
    if (!t.where.empty()) d["target"] = t.where;
    Record(store, run_id, d);
  };
  auto give_up = [&](int attempt, const std::string& outcome, int http, const std::string& error, double began) {
    record(attempt, outcome, http, error, began);
    res.attempts = attempt;
    res.http_status = http;
    res.error = Scrub(error, secrets);
    return res;
  };
  // Everything that cannot change between attempts is settled first: no retry can fix it.
  auto url = Expand(t.url, env);
  if (!url.ok()) return give_up(1, "failed", 0, "url: " + url.status().message(), start);
  auto parsed = ParseUrl(*url);
  if (!parsed.ok()) return give_up(1, "failed", 0, parsed.status().message(), start);
  // The path and query may be the hook's secret (Slack, Discord, Teams): never in a message.
  if (parsed->path.size() > 1) secrets.push_back(parsed->path);
  if (!parsed->query.empty()) secrets.push_back(parsed->query);
  net::Headers extra;
  for (const auto& [k, v] : t.headers) {
    auto ev = Expand(v, env);
    if (!ev.ok()) return give_up(1, "failed", 0, "header " + k + ": " + ev.status().message(), start);
    // A variable's value with a line break would add headers of its own to the request.
    if (ev->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      return give_up(1, "failed", 0, "header " + k + ": a variable's value has a line break", start);
    extra.emplace_back(k, *ev);
  }
  std::string secret;
  if (!t.secret_env.empty()) {
    auto v = env(t.secret_env);
    if (!v || v->empty())
      return give_up(1, "failed", 0, "secret: environment variable " + t.secret_env + " is not set (nothing sent unsigned)", start);
    secret = *v;
  }
  for (int attempt = 1;; ++attempt) {
    double began = SystemClock::Default()->Now();
    // Resolved and checked each attempt, and pinned for the connection.
    auto addrs = Resolve(parsed->host, parsed->port, t.allow_private);
    std::string error;
    int http = 0;
    std::string retry_after;
    if (!addrs.ok() && addrs.status().code() == Code::kInvalidInput)
      return give_up(attempt, "refused", 0, addrs.status().message(), began);
    if (!addrs.ok()) {
      error = addrs.status().message();
    } else {
      net::ClientRequest req;
      req.method = "POST";
      req.url = *url;
      req.body = body;
      std::string ts = std::to_string(static_cast<long long>(SystemClock::Default()->WallNow()));
      req.headers = {{"Content-Type", "application/json"},
                     {"User-Agent", "specwright-notify/1"},
                     {"X-Specwright-Event", event},
                     {"X-Specwright-Delivery", delivery_id},
                     {"X-Specwright-Timestamp", ts}};
      if (!secret.empty()) req.headers.emplace_back("X-Specwright-Signature", Signature(secret, ts, body));
      for (const auto& h : extra) req.headers.push_back(h);
      // Never through the environment's proxy (it would reach "127.0.0.1" or a private address
      // from its own machine, past the check). An IPv4 literal is pinned to itself too; curl
      // 7.88 cannot take an IPv6 literal in CURLOPT_RESOLVE (the transfer would fail), so those
      // go unpinned (a literal needs no resolving) but still direct.
      req.direct = true;
      if (!parsed->ipv6_literal) {
        std::string pin = parsed->host + ":" + std::to_string(parsed->port) + ":";
        for (size_t i = 0; i < addrs->size(); ++i) {
          const std::string& a = (*addrs)[i];
          pin += (i ? "," : "") + (a.find(':') != std::string::npos ? "[" + a + "]" : a);
        }
        req.resolve.push_back(pin);
      }
      double left = std::max(0.5, deadline - began);
      double per = std::min(t.timeout, left);
      req.timeouts.connect = per;
      req.timeouts.first_byte = per;
      req.timeouts.first_token = per;
      req.timeouts.idle = per;
      req.timeouts.total = per;
      Sent sent = SendOnce(client, std::move(req), o.max_response);
      http = sent.status;
      retry_after = sent.retry_after;
      if (sent.transport != net::Transport::kOk) {
        error = std::string(net::TransportName(sent.transport)) + (sent.message.empty() ? "" : ": " + sent.message);
        http = 0;
      } else if (http >= 200 && http < 300) {
        record(attempt, "delivered", http, "", began);
        res.delivered = true;
        res.attempts = attempt;
        res.http_status = http;
        return res;
      } else if (http == 408 || http == 429 || http >= 500) {
        error = "HTTP " + std::to_string(http);
      } else {
        return give_up(attempt, "failed", http, "HTTP " + std::to_string(http) + " (not retried)", began);
      }
    }
    if (attempt >= t.attempts)
      return give_up(attempt, "failed", http, error + " (gave up after " + std::to_string(attempt) + " attempts)", began);
    double cap = std::min(o.max_delay, o.backoff * std::pow(2.0, attempt - 1));
    double delay = cap * Rand01();
    if (!retry_after.empty())
      if (auto ra = ParseDouble(Trim(retry_after)); ra && *ra >= 0) delay = std::max(delay, std::min(*ra, o.max_delay));
    if (SystemClock::Default()->Now() + delay >= deadline)
      return give_up(attempt, "failed", http, error + " (gave up: the delivery's time limit of " +
                                                  std::to_string(static_cast<int>(o.max_total)) + "s would pass)", began);
    record(attempt, "retrying", http, error, began);
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
  }
}

Result<std::vector<workflow::NotifyTarget>> LoadConfigTargets(const std::string& project_file, const GetEnv& env) {
  std::vector<workflow::NotifyTarget> out;
  std::vector<std::string> files;
  if (std::string user = llm::UserConfigPath(env); !user.empty() && FileExists(user)) files.push_back(user);
  if (!project_file.empty()) files.push_back(project_file);
  for (const auto& f : files) {
    SW_ASSIGN_OR_RETURN(std::string text, ReadFile(f));
    std::vector<workflow::Diagnostic> errors;
    try {
      SW_ASSIGN_OR_RETURN(YAML::Node root, sw::LoadYaml(text, f));
      if (!root.IsMap()) continue;  // the config reader reports a file that is not a mapping
      auto targets = workflow::ParseNotify(root["notify"], f, &errors);
      if (!errors.empty()) {
        std::string msg;
        for (const auto& e : errors) msg += (msg.empty() ? "" : "\n") + e.ToString();
        return InvalidInput(msg);
      }
      out.insert(out.end(), targets.begin(), targets.end());
    } catch (const YAML::Exception& e) {
      return InvalidInput(f + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
  }
  return out;
}

Notifier::Notifier(store::Store* store, std::vector<workflow::NotifyTarget> config_targets, GetEnv env, Options o)
    : store_(store), config_(std::move(config_targets)), env_(std::move(env)), o_(std::move(o)) {}

Notifier::~Notifier() { Drain(); }

void Notifier::Drain() {
  std::vector<Worker> threads;
  {
    std::lock_guard<std::mutex> l(mu_);
    threads.swap(threads_);
  }
  int busy = 0;
  for (const auto& w : threads) busy += w.done->load() ? 0 : 1;
  if (busy > 0 && o_.log)
    std::fprintf(stderr, "waiting for %d webhook deliver%s (at most %.0fs)\n", busy, busy == 1 ? "y" : "ies", o_.max_total);
  for (auto& w : threads)
    if (w.thread.joinable()) w.thread.join();
}

void Notifier::OnRunEnded(const workflow::Workflow& wf, const engine::RunSummary& summary) {
  std::string event = EventOf(summary);
  if (event.empty()) return;
  if (event == "waiting" && !summary.waiting.empty()) {
    // Parked at gates this process already said were waiting (`run --wait` interrupted).
    std::lock_guard<std::mutex> l(mu_);
    bool told = true;
    for (const auto& n : summary.waiting)
      told = told && std::find(waited_.begin(), waited_.end(), std::make_pair(summary.run_id, n)) != waited_.end();
    if (told) return;
  }
  Dispatch(wf, summary, event);
}

void Notifier::OnRunWaiting(const workflow::Workflow& wf, const std::string& run_id, const std::vector<std::string>& nodes) {
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& n : nodes) waited_.emplace_back(run_id, n);
  }
  engine::RunSummary s;
  s.run_id = run_id;
  s.status = "waiting";
  s.waiting = nodes;
  Dispatch(wf, s, "waiting");
}

void Notifier::Dispatch(const workflow::Workflow& wf, const engine::RunSummary& summary, const std::string& event) {
  std::vector<workflow::NotifyTarget> targets;
  for (const std::vector<workflow::NotifyTarget>* list : {&wf.notify, static_cast<const std::vector<workflow::NotifyTarget>*>(&config_)})
    for (const auto& t : *list) {
      if (!t.Wants(event)) continue;
      bool dup = false;
      for (const auto& u : targets) dup |= u.url == t.url && u.secret_env == t.secret_env;
      if (!dup) targets.push_back(t);
    }
  if (targets.empty()) return;
  store::RunRecord run;
  if (store_)
    if (auto r = store_->GetRun(summary.run_id); r.ok() && *r) run = **r;
  for (const auto& t : targets) {
    std::string id = NewDeliveryId();
    std::string body = Payload(event, id, run, summary, o_, SystemClock::Default()->WallNow()).dump();
    ++started_;
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = threads_.begin(); it != threads_.end();) {
      if (it->done->load()) {
        it->thread.join();
        it = threads_.erase(it);
      } else {
        ++it;
      }
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    Worker w;
    w.done = done;
    w.thread = std::thread([this, t, id, body, event, done, run_id = summary.run_id] {
      DeliveryResult r = Deliver(t, event, id, body, run_id, store_, env_, o_);
      if (o_.log) {
        std::string what = r.delivered ? "delivered (HTTP " + std::to_string(r.http_status) + ")" : "not delivered: " + r.error;
        std::fprintf(stderr, "notify %s -> %s: %s, %d attempt%s\n", event.c_str(), ShownUrl(t.url).c_str(), what.c_str(),
                     r.attempts, r.attempts == 1 ? "" : "s");
      }
      done->store(true);
    });
    threads_.push_back(std::move(w));
  }
}

Result<std::vector<Notification>> ListNotifications(store::Store* store, const std::string& run_id) {
  SW_ASSIGN_OR_RETURN(auto events, store->ListEventsOfType(run_id, "notification"));
  std::vector<Notification> out;
  for (const auto& e : events) {
    json d = json::parse(e.data, nullptr, false);
    if (!d.is_object()) continue;
    Notification n;
    n.ts = e.ts;
    n.url = d.value("url", "");
    n.event = d.value("event", "");
    n.delivery = d.value("delivery", "");
    n.outcome = d.value("outcome", "");
    n.error = d.value("error", "");
    n.attempt = d.value("attempt", 0);
    n.attempts = d.value("attempts", 0);
    n.http_status = d.value("http_status", 0);
    n.duration_ms = d.value("duration_ms", 0.0);
    out.push_back(std::move(n));
  }
  return out;
}

json ToJson(const std::vector<Notification>& list) {
  json a = json::array();
  for (const auto& n : list)
    a.push_back({{"ts", n.ts},           {"url", n.url},       {"event", n.event},
                 {"delivery", n.delivery}, {"outcome", n.outcome}, {"error", n.error},
                 {"attempt", n.attempt},   {"attempts", n.attempts}, {"http_status", n.http_status},
                 {"duration_ms", n.duration_ms}});
  return a;
}

}  // namespace sw::notify
