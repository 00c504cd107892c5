#include "llm/http_provider.h"

#include "base/strings.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

namespace sw::llm {
namespace {

using json = nlohmann::json;

double SteadyNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

constexpr size_t kMaxErrorBody = 64 * 1024;

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
  if (first_token_at == 0) first_token_at = SteadyNow();
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
    if (end && *end == '\0' && v >= 0) return v / 1000;
  }
  if (auto ra = net::HeaderValue(h, "retry-after"); !ra.empty()) {
    char* end = nullptr;
    double v = std::strtod(ra.c_str(), &end);
    if (end && *end == '\0' && v >= 0) return v;
    time_t when = curl_getdate(ra.c_str(), nullptr);  // an HTTP date
    if (when > 0) return std::max(0.0, static_cast<double>(when) - now_unix);
  }
  // No explicit hint: wait for the reset of whichever limit is exhausted.
  double wait = -1;
  auto consider = [&](const char* remaining, const char* reset, bool rfc3339) {
    std::string rem = net::HeaderValue(h, remaining), rst = net::HeaderValue(h, reset);
    if (rem != "0" || rst.empty()) return;
    double v = rfc3339 ? ParseRfc3339(rst) - now_unix : ParseDuration(rst).value_or(-1);
    if (rfc3339 && ParseRfc3339(rst) < 0) return;
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

std::string Redact(std::string s, const std::string& secret) {
  if (secret.size() < 4) return s;  // too short to be a key; replacing would mangle text
  for (size_t p = s.find(secret); p != std::string::npos; p = s.find(secret, p + 5)) s.replace(p, secret.size(), "[key]");
  return s;
}

json ToolArguments(const std::string& args) {
  if (args.empty()) return json::object();
  auto j = json::parse(args, nullptr, false);
  return j.is_discarded() ? json(args) : j;
}

HttpProvider::HttpProvider(ProviderConfig config, std::shared_ptr<net::HttpClient> client)
    : config_(std::move(config)), api_(WireApiFor(config_.api)), client_(std::move(client)) {}

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
  Pending p;
  p.http = api_->Build(request, config_);
  p.http.timeouts = config_.timeouts;
  // Rough tokens for the per-minute limiter: ~4 bytes a token plus the output allowance.
  int64_t in_bytes = 0;
  for (const auto& m : request.messages) in_bytes += static_cast<int64_t>(m.content.size());
  p.est_tokens = in_bytes / 4 + (request.max_tokens > 0 ? request.max_tokens : 1024);
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
  while (!token_times_.empty() && token_times_.front().first <= now - 60) token_times_.pop_front();
  double wait = std::max(0.0, paused_until_ - now);
  if (config_.rpm > 0 && request_times_.size() >= static_cast<size_t>(config_.rpm))
    wait = std::max(wait, request_times_.front() + 60 - now);
  if (config_.tpm > 0 && !token_times_.empty()) {
    int64_t used = 0;
    for (auto& [t, n] : token_times_) used += n;
    // A single call larger than the whole budget still runs, alone in its minute.
    if (used + tokens > config_.tpm) {
      int64_t excess = used + tokens - static_cast<int64_t>(config_.tpm);
      for (auto& [t, n] : token_times_) {
        excess -= n;
        if (excess <= 0) {
          wait = std::max(wait, t + 60 - now);
          break;
        }
      }
    }
  }
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
      request_times_.push_back(now);
      token_times_.emplace_back(now, queue_.front().est_tokens);
      queue_.front().admitted_at = now;
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

void HttpProvider::OnFinished(double reserved_at, int64_t est_tokens, int64_t actual_tokens) {
  {
    std::lock_guard<std::mutex> l(mu_);
    --running_;
    // The estimate made at start becomes what the provider actually counted.
    for (auto& [t, n] : token_times_)
      if (t == reserved_at && n == est_tokens) {
        n = actual_tokens > 0 ? actual_tokens : est_tokens;
        break;
      }
  }
  Pump();
}

void HttpProvider::Launch(Pending p) {
  struct Call {
    std::unique_ptr<Decoder> dec;
    int status = 0;
    std::string error_body;
    Status decode_error;
    double t0 = 0;
    double reserved_at = 0;
    int64_t est_tokens = 0;
    DoneFn done;
  };
  auto call = std::make_shared<Call>();
  call->dec = api_->NewDecoder(config_);
  call->dec->on_delta = std::move(p.on_delta);
  call->t0 = SteadyNow();
  call->est_tokens = p.est_tokens;
  call->reserved_at = p.admitted_at;
  call->done = std::move(p.done);
  std::weak_ptr<HttpProvider> weak = weak_from_this();
  std::string key = config_.api_key;
  std::string who = config_.name;

  net::ClientHandlers h;
  h.on_head = [call](int status, const net::Headers&) { call->status = status; };
  h.on_body = [call](std::string_view b) {
    if (call->status < 200 || call->status >= 300) {
      if (call->error_body.size() < kMaxErrorBody)
        call->error_body.append(b.substr(0, kMaxErrorBody - call->error_body.size()));
      return true;
    }
    Status s = call->dec->Feed(b);
    if (!s.ok()) {
      call->decode_error = s;
      return false;
    }
    return true;
  };
  h.on_done = [call, weak, key, who, api = api_](net::ClientResult cr) {
    Decoder& dec = *call->dec;
    CallResult r;
    auto fail = [&](Code code, const std::string& msg, bool retryable) {
      r.error.status = Status(code, Redact(who + ": " + msg, key));
      r.error.retryable = retryable;
      r.error.partial = dec.response.usage;
    };
    int status = cr.status ? cr.status : call->status;
    if (cr.transport == net::Transport::kCancelled) {
      fail(Code::kCancelled, "cancelled", false);
    } else if (cr.transport == net::Transport::kAborted && !call->decode_error.ok()) {
      fail(Code::kUnavailable, "malformed response: " + call->decode_error.message(), true);
    } else if (cr.transport == net::Transport::kOk && status >= 200 && status < 300) {
      Status s = dec.Finish();
      if (!s.ok()) {
        fail(Code::kUnavailable, s.message(), true);
      } else if (!dec.stream_error.empty()) {
        fail(dec.stream_error_retryable ? Code::kUnavailable : Code::kFailed, dec.stream_error,
             dec.stream_error_retryable);
      } else {
        Response resp = std::move(dec.response);
        resp.raw = Redact(std::move(resp.raw), key);
        resp.ttft_ms = dec.first_token_at > 0 ? (dec.first_token_at - call->t0) * 1000 : 0;
        r.response = std::move(resp);
      }
    } else if (cr.transport == net::Transport::kOk) {
      std::string msg = "HTTP " + std::to_string(status) + ": " +
                        api->ErrorMessage(call->error_body);
      bool retry = RetryableStatus(status);
      fail(status == 429 ? Code::kUnavailable : (retry ? Code::kUnavailable : Code::kFailed), msg, retry);
      r.error.retry_after = RetryAfter(cr.headers, UnixNow());
    } else {
      std::string msg = net::TransportName(cr.transport);
      if (!cr.message.empty() && cr.message != msg) msg += " (" + cr.message + ")";
      bool timeout = cr.transport == net::Transport::kTimeoutConnect ||
                     cr.transport == net::Transport::kTimeoutFirstByte ||
                     cr.transport == net::Transport::kTimeoutIdle || cr.transport == net::Transport::kTimeoutTotal;
      fail(timeout ? Code::kTimeout : Code::kUnavailable, msg, true);
    }
    // Rate-limit headers on any response may say the quota is spent: hold new calls back.
    double pause = (cr.transport == net::Transport::kOk) ? RetryAfter(cr.headers, UnixNow()) : -1;
    if (status == 429 || status == 529) pause = std::max(pause, r.error.retry_after);
    int64_t actual = r.ok() ? r.response->usage.input + r.response->usage.output
                            : r.error.partial.input + r.error.partial.output;
    if (auto self = weak.lock()) {
      if (pause > 0) {
        std::lock_guard<std::mutex> l(self->mu_);
        self->paused_until_ = std::max(self->paused_until_, SteadyNow() + std::min(pause, 300.0));
      }
      self->OnFinished(call->reserved_at, call->est_tokens, actual);
    }
    call->done(std::move(r));
  };
  Client().Send(std::move(p.http), std::move(h), p.cancel);
}

}  // namespace sw::llm
