#include "llm/http_provider.h"

#include "base/clock.h"
#include "base/strings.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

namespace sw::llm {
namespace {

using json = nlohmann::json;

double SteadyNow() { return SystemClock::Default()->Now(); }
double UnixNow() { return SystemClock::Default()->WallNow(); }

constexpr size_t kMaxErrorBody = 64 * 1024;
constexpr double kMaxPause = 300;  // a provider-requested pause of new calls is capped here

/// ParseRfc3339 reads "2024-05-01T12:00:30Z" (fractional seconds and offsets allowed) as
/// unix seconds, or -1.
double ParseRfc3339(const std::string& s) {
  std::tm tm{};
  int y, mo, d, h, mi;
  double sec;
  char tail[16] = {0};
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%lf%15s", &y, &mo, &d, &h, &mi, &sec, tail) < 6) return -1;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  double t = static_cast<double>(timegm(&tm)) + sec;
  std::string z = tail;
  if (!z.empty() && (z[0] == '+' || z[0] == '-')) {
    int oh = 0, om = 0;
    std::sscanf(z.c_str() + 1, "%d:%d", &oh, &om);
    double off = oh * 3600 + om * 60;
    t += z[0] == '+' ? -off : off;
  }
  return t;
}

}  // namespace

void Decoder::MarkToken() {
  if (first_token_at != 0) return;
  first_token_at = SteadyNow();
  if (token_seen) token_seen->store(true);
}

void Decoder::EmitText(std::string_view s) {
  if (s.empty()) return;
  MarkToken();
  response.text.append(s);
  if (on_delta) on_delta(s);
}

std::string WireApi::ErrorMessage(std::string_view body) const {
  // OpenAI, Anthropic and Gemini put it at error.message; Ollama at error.
  auto j = json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    auto e = j.find("error");
    if (e != j.end()) {
      if (e->is_string()) return e->get<std::string>();
      if (e->is_object() && e->contains("message") && (*e)["message"].is_string())
        return (*e)["message"].get<std::string>();
    }
    if (j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  }
  // Not JSON (a proxy's HTML page, a plain-text 502): the first line, bounded.
  std::string text(body.substr(0, 300));
  for (auto& c : text)
    if (c == '\n' || c == '\r' || static_cast<unsigned char>(c) < 0x20) c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text.empty() ? "(empty body)" : text;
}

std::unique_ptr<WireApi> WireApiFor(const std::string& api) {
  if (api == "openai") return NewOpenAiChat();
  if (api == "openai-responses") return NewOpenAiResponses();
  if (api == "anthropic") return NewAnthropic();
  if (api == "gemini") return NewGemini();
  if (api == "ollama") return NewOllama();
  return nullptr;
}

bool RetryableStatus(int status) {
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

double RetryAfter(const net::Headers& h, double now_unix) {
  if (auto ms = net::HeaderValue(h, "retry-after-ms"); !ms.empty()) {
    char* end = nullptr;
    double v = std::strtod(ms.c_str(), &end);
    if (end && *end == '\0' && std::isfinite(v) && v >= 0) return v / 1000;
  }
  if (auto ra = net::HeaderValue(h, "retry-after"); !ra.empty()) {
    char* end = nullptr;
    double v = std::strtod(ra.c_str(), &end);
    if (end && *end == '\0' && std::isfinite(v) && v >= 0) return v;
    time_t when = curl_getdate(ra.c_str(), nullptr);  // an HTTP date
    if (when > 0) return std::max(0.0, static_cast<double>(when) - now_unix);
  }
  // No explicit hint: wait for the reset of whichever limit is exhausted.
  double wait = -1;
  auto consider = [&](const char* remaining, const char* reset, bool rfc3339) {
    std::string rem = net::HeaderValue(h, remaining), rst = net::HeaderValue(h, reset);
    if (rem != "0" || rst.empty()) return;
    double at = rfc3339 ? ParseRfc3339(rst) : 0;
    std::optional<double> d = rfc3339 ? std::optional<double>(at - now_unix) : ParseDuration(rst);
    if (!d || (rfc3339 && at < 0) || !std::isfinite(*d)) return;  // unreadable: no hint
    double v = *d;
    wait = std::max(wait, std::max(0.0, v));
  };
  consider("x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", false);
  consider("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens", false);
  consider("anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset", true);
  consider("anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset", true);
  consider("anthropic-ratelimit-input-tokens-remaining", "anthropic-ratelimit-input-tokens-reset", true);
  consider("anthropic-ratelimit-output-tokens-remaining", "anthropic-ratelimit-output-tokens-reset", true);
  return wait;
}

std::string Redact(std::string s, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.size() < 4) continue;  // too short to be a key; replacing would mangle text
    for (size_t p = s.find(secret); p != std::string::npos; p = s.find(secret, p + 5)) s.replace(p, secret.size(), "[key]");
  }
  return s;
}

json ToolArguments(const std::string& args) {
  if (args.empty()) return json::object();
  auto j = json::parse(args, nullptr, false);
  return j.is_discarded() ? json(args) : j;
}

double TpmWait(const std::deque<TokenAdmission>& window, double now, int64_t tokens, double tpm) {
  if (window.empty()) return 0;
  int64_t used = 0;
  for (const auto& e : window) used += e.tokens;
  if (used + tokens <= tpm) return 0;
  // Wait until enough of the window has aged out; if even an empty window is too small,
  // wait until it is empty.
  int64_t excess = used + tokens - static_cast<int64_t>(tpm);
  double until = window.back().at + 60;
  for (const auto& e : window) {
    excess -= e.tokens;
    if (excess <= 0) {
      until = e.at + 60;
      break;
    }
  }
  return std::max(0.0, until - now);
}

HttpProvider::HttpProvider(ProviderConfig config, std::shared_ptr<net::HttpClient> client)
    : config_(std::move(config)), api_(WireApiFor(config_.api)), client_(std::move(client)) {
  // Longest first, so a secret that is part of another never breaks the longer one's match.
  if (!config_.api_key.empty()) config_.secrets.push_back(config_.api_key);
  auto& s = config_.secrets;
  std::sort(s.begin(), s.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  s.erase(std::unique(s.begin(), s.end()), s.end());
}

HttpProvider::~HttpProvider() {
  // Calls still waiting for admission never started; done must still run exactly once.
  std::deque<Pending> left;
  {
    std::lock_guard<std::mutex> l(mu_);
    left.swap(queue_);
  }
  for (auto& p : left) {
    CallResult r;
    r.error.status = Status(Code::kCancelled, config_.name + ": provider shut down before the call started");
    p.done(std::move(r));
  }
}

net::HttpClient& HttpProvider::Client() {
  // The shared client (and its thread) starts only when a call is actually made.
  std::call_once(client_once_, [this] {
    if (!client_) client_ = net::HttpClient::Shared();
  });
  return *client_;
}

void HttpProvider::Start(const Request& request, CancelFlag cancel, DeltaFn on_delta, DoneFn done) {
  if (!api_) {
    CallResult r;
    r.error.status = InvalidInput("provider \"" + config_.name + "\": unknown api \"" + config_.api + "\"");
    done(std::move(r));
    return;
  }
  auto built = api_->Build(request, config_);
  if (!built.ok()) {
    CallResult r;
    r.error.status = Status(built.status().code(), config_.name + ": " + built.status().message());
    done(std::move(r));
    return;
  }
  Pending p;
  p.http = std::move(built).value();
  p.http.timeouts = config_.timeouts;
  // Rough tokens for the per-minute limiter: ~4 bytes a token plus the output allowance.
  int64_t in_bytes = 0;
  for (const auto& m : request.messages) in_bytes += static_cast<int64_t>(m.content.size());
  p.est_tokens = in_bytes / 4 + (request.max_tokens > 0 ? request.max_tokens : 1024);
  p.cap = CapFor(request.max_tokens);
  p.cancel = std::move(cancel);
  p.on_delta = std::move(on_delta);
  p.done = std::move(done);
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back(std::move(p));
  }
  Pump();
}

double HttpProvider::WaitNeeded(double now, int64_t tokens) {
  while (!request_times_.empty() && request_times_.front() <= now - 60) request_times_.pop_front();
  while (!token_window_.empty() && token_window_.front().at <= now - 60) token_window_.pop_front();
  double wait = std::max(0.0, paused_until_ - now);
  if (config_.rpm >= 1 && !request_times_.empty() && request_times_.size() >= static_cast<size_t>(config_.rpm))
    wait = std::max(wait, request_times_.front() + 60 - now);
  if (config_.tpm > 0) wait = std::max(wait, TpmWait(token_window_, now, tokens, config_.tpm));
  return wait;
}

void HttpProvider::Pump() {
  std::vector<Pending> launch, cancelled;
  double retry_in = -1;
  {
    std::lock_guard<std::mutex> l(mu_);
    double now = SteadyNow();
    // Calls cancelled while they waited leave the queue without starting.
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->cancel && it->cancel->load()) {
        cancelled.push_back(std::move(*it));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    while (!queue_.empty()) {
      if (config_.max_concurrency > 0 && running_ >= config_.max_concurrency) break;
      double wait = WaitNeeded(now, queue_.front().est_tokens);
      if (wait > 0) {
        retry_in = wait;
        break;
      }
      ++running_;
      // The windows are kept only for the limits that are set: a thousand calls in flight
      // must not each scan a thousand entries when they finish.
      if (config_.rpm >= 1) request_times_.push_back(now);
      if (config_.tpm > 0) {
        queue_.front().window_id = next_window_id_++;
        token_window_.push_back(TokenAdmission{queue_.front().window_id, now, queue_.front().est_tokens});
      }
      launch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    // Waiting calls are re-examined at least every 100 ms so a cancel is noticed.
    if (!queue_.empty() && !pump_scheduled_) {
      pump_scheduled_ = true;
      retry_in = retry_in < 0 ? 0.1 : std::min(retry_in, 0.1);
    } else {
      retry_in = -1;
    }
  }
  for (auto& p : cancelled) {
    CallResult r;
    r.error.status = Status(Code::kCancelled, "cancelled before the call started");
    p.done(std::move(r));
  }
  for (auto& p : launch) Launch(std::move(p));
  if (retry_in >= 0) {
    std::weak_ptr<HttpProvider> weak = weak_from_this();
    Client().After(retry_in, [weak] {
      if (auto self = weak.lock()) {
        {
          std::lock_guard<std::mutex> l(self->mu_);
          self->pump_scheduled_ = false;
        }
        self->Pump();
      }
    });
  }
}

void HttpProvider::OnFinished(uint64_t window_id, int64_t actual_tokens, double pause) {
  {
    std::lock_guard<std::mutex> l(mu_);
    --running_;
    if (pause > 0) paused_until_ = std::max(paused_until_, SteadyNow() + std::min(pause, kMaxPause));
    // The estimate made at admission becomes what the provider actually counted.
    for (auto& e : token_window_)
      if (window_id != 0 && e.id == window_id) {
        if (actual_tokens > 0) e.tokens = actual_tokens;
        break;
      }
  }
  Pump();
}

namespace {

/// Exchange is what the handlers of one HTTP call gather for its classification in on_done.
struct Exchange {
  int status = 0;
  std::string error_body;
  Status decode_error;
  std::string capped;  // why the response was cut at its cap ("" when it was not)
};

std::string CapMessage(const ResponseCap& cap, const char* what, int64_t limit) {
  return "the response passed its cap of " + std::to_string(limit) + " " + what + " for " +
         (cap.max_tokens > 0 ? "max_tokens " + std::to_string(cap.max_tokens) : std::string("the default max_tokens")) +
         " and was cut (a stream without end?)";
}

bool QuotaExhausted(const std::string& body) {
  // OpenAI answers an unpaid account with 429 insufficient_quota: waiting will not help.
  return body.find("insufficient_quota") != std::string::npos;
}

}  // namespace

ResponseCap CapFor(int64_t max_tokens) {
  int64_t t = max_tokens > 0 ? max_tokens : 32768;
  ResponseCap c;
  c.max_tokens = max_tokens;
  c.text_bytes = std::clamp<int64_t>(t * 64, 64 << 10, int64_t{16} << 20);
  c.wire_bytes = std::clamp<int64_t>(t * 2048, 1 << 20, int64_t{64} << 20);
  return c;
}

void HttpProvider::Launch(Pending p) {
  struct Call {
    std::unique_ptr<Decoder> dec;
    Exchange x;
    ResponseCap cap;
    int64_t wire_bytes = 0;
    double t0 = 0;
    uint64_t window_id = 0;
    std::string request_body;  // redacted, for the store
    DoneFn done;
  };
  auto call = std::make_shared<Call>();
  call->dec = api_->NewDecoder(config_);
  call->dec->on_delta = std::move(p.on_delta);
  if (config_.stream) {
    // A plain body has its "first token" only at its end; there the first byte counts.
    call->dec->token_seen = std::make_shared<std::atomic<bool>>(false);
    p.http.token_seen = call->dec->token_seen;
  }
  call->t0 = SteadyNow();
  call->cap = p.cap;
  call->window_id = p.window_id;
  call->request_body = Redact(p.http.body, config_.secrets);
  call->done = std::move(p.done);
  std::weak_ptr<HttpProvider> weak = weak_from_this();

  net::ClientHandlers h;
  h.on_head = [call](int status, const net::Headers&) { call->x.status = status; };
  h.on_body = [call](std::string_view b) {
    if (call->x.status < 200 || call->x.status >= 300) {
      if (call->x.error_body.size() < kMaxErrorBody)
        call->x.error_body.append(b.substr(0, kMaxErrorBody - call->x.error_body.size()));
      return true;
    }
    // Bounded: a response past its caps (a stream that never ends) is cut here.
    call->wire_bytes += static_cast<int64_t>(b.size());
    if (call->wire_bytes > call->cap.wire_bytes) {
      call->x.capped = CapMessage(call->cap, "bytes on the wire", call->cap.wire_bytes);
      return false;
    }
    Status s = call->dec->Feed(b);
    if (!s.ok()) {
      call->x.decode_error = s;
      return false;
    }
    if (static_cast<int64_t>(call->dec->response.text.size()) > call->cap.text_bytes) {
      call->x.capped = CapMessage(call->cap, "bytes of text", call->cap.text_bytes);
      return false;
    }
    return true;
  };
  h.on_done = [call, weak, secrets = config_.secrets, who = config_.name, api = api_](net::ClientResult cr) {
    Decoder& dec = *call->dec;
    CallResult r;
    r.request_raw = std::move(call->request_body);
    int status = cr.status ? cr.status : call->x.status;
    bool http_error = status != 0 && (status < 200 || status >= 300);
    auto fail = [&](Code code, const std::string& msg, bool retryable) {
      r.error.status = Status(code, Redact(who + ": " + msg, secrets));
      r.error.retryable = retryable;
      r.error.partial = dec.response.usage;
      // A request that reached the provider is billed for what it generated, and a cut,
      // failed, timed-out or cancelled answer never brings its final usage: what it reported
      // is a lower bound and its cost unknown. Known (nothing billed) only when the provider
      // refused the request or it never left.
      r.error.usage_known = http_error || cr.transport == net::Transport::kConnect ||
                            cr.transport == net::Transport::kTimeoutConnect;
      std::string so_far = dec.RawSoFar();
      r.response_raw = Redact(!so_far.empty() ? so_far : !dec.response.raw.empty() ? dec.response.raw : call->x.error_body,
                              secrets);
    };
    if (cr.transport == net::Transport::kCancelled) {
      fail(Code::kCancelled, "cancelled", false);
    } else if (http_error) {
      // The status decides, even when the error body itself was cut or timed out.
      std::string msg = "HTTP " + std::to_string(status) + ": " + api->ErrorMessage(call->x.error_body);
      if (cr.transport != net::Transport::kOk) msg += " (" + std::string(net::TransportName(cr.transport)) + ")";
      bool retry = RetryableStatus(status) && !(status == 429 && QuotaExhausted(call->x.error_body));
      fail(retry ? Code::kUnavailable : Code::kFailed, msg, retry);
      r.error.http_status = status;
      r.error.retry_after = RetryAfter(cr.headers, UnixNow());
    } else if (cr.transport == net::Transport::kAborted && !call->x.capped.empty()) {
      fail(Code::kUnavailable, call->x.capped, true);
    } else if (cr.transport == net::Transport::kAborted && !call->x.decode_error.ok()) {
      const Status& de = call->x.decode_error;
      fail(de.code() == Code::kUnavailable ? Code::kUnavailable : Code::kFailed, "malformed response: " + de.message(),
           de.code() == Code::kUnavailable);
    } else if (cr.transport == net::Transport::kOk) {
      Status s = dec.Finish();
      if (!s.ok()) {
        fail(s.code() == Code::kUnavailable ? Code::kUnavailable : Code::kFailed, s.message(),
             s.code() == Code::kUnavailable);
      } else if (!dec.stream_error.empty()) {
        fail(dec.stream_error_retryable ? Code::kUnavailable : Code::kFailed, dec.stream_error,
             dec.stream_error_retryable);
      } else {
        Response resp = std::move(dec.response);
        resp.usage_known = dec.usage_seen;
        resp.raw = Redact(std::move(resp.raw), secrets);
        resp.ttft_ms = dec.first_token_at > 0 ? (dec.first_token_at - call->t0) * 1000 : 0;
        r.response = std::move(resp);
      }
    } else {
      std::string msg = net::TransportName(cr.transport);
      if (!cr.message.empty() && cr.message != msg) msg += " (" + cr.message + ")";
      bool timeout = cr.transport == net::Transport::kTimeoutConnect ||
                     cr.transport == net::Transport::kTimeoutFirstByte ||
                     cr.transport == net::Transport::kTimeoutFirstToken ||
                     cr.transport == net::Transport::kTimeoutIdle || cr.transport == net::Transport::kTimeoutTotal;
      fail(timeout ? Code::kTimeout : Code::kUnavailable, msg, true);
    }
    // Rate-limit headers on any response may say the quota is spent: hold new calls back.
    double pause = cr.transport == net::Transport::kOk ? RetryAfter(cr.headers, UnixNow()) : -1;
    if ((status == 429 || status == 529) && r.error.retryable) pause = std::max(pause, r.error.retry_after);
    int64_t actual = r.ok() ? r.response->usage.input + r.response->usage.output
                            : r.error.partial.input + r.error.partial.output;
    if (auto self = weak.lock()) self->OnFinished(call->window_id, actual, pause);
    call->done(std::move(r));
  };
  Client().Send(std::move(p.http), std::move(h), p.cancel);
}

}  // namespace sw::llm
