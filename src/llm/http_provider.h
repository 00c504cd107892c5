// HttpProvider: one Provider for every HTTP model API. What differs between APIs — the request
// body, the URL, the headers, how the (streamed) response decodes — sits behind WireApi; what
// is the same — the libcurl loop, timeouts, error classification, Retry-After and rate-limit
// headers, concurrency caps, requests/tokens-per-minute limits, secret redaction — is here once.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "llm/provider.h"
#include "net/http_client.h"

namespace sw::llm {

/// ProviderConfig is one configured endpoint. api is one of: openai, openai-responses,
/// anthropic, gemini, ollama (openai-compatible servers use api "openai").
struct ProviderConfig {
  std::string name;
  std::string api;
  std::string base_url;
  std::string api_key;      // resolved secret; never stored, logged or put in messages
  std::string api_key_env;  // where the key comes from, for error messages
  std::string key_where;    // "specwright.yaml:3:14" when the config file names the key
  std::string base_url_env; // the variable that sets base_url, for error messages
  bool key_required = true;
  net::Headers headers;     // extra headers (e.g. OpenRouter's HTTP-Referer)
  /// Every secret this endpoint sends (the key, header values expanded from ${ENV}); each is
  /// replaced by "[key]" in anything stored, logged or shown.
  std::vector<std::string> secrets;
  bool stream = true;
  bool legacy_max_tokens = false;  // OpenAI-compatible servers take max_tokens, OpenAI max_completion_tokens
  int max_concurrency = 0;  // 0: no cap here (the workflow may still cap)
  double rpm = 0;           // requests per minute, 0: unlimited
  double tpm = 0;           // tokens per minute (estimated up front, corrected after), 0: unlimited
  net::HttpTimeouts timeouts;
};

/// Decoder turns response body bytes into a Response as they arrive.
class Decoder {
 public:
  virtual ~Decoder() = default;
  /// Feed takes body bytes of a 2xx response. A malformed chunk is an error.
  virtual Status Feed(std::string_view bytes) = 0;
  /// Finish is called at the end of the body; a stream that never reached its terminal
  /// event is an error.
  virtual Status Finish() = 0;
  /// RawSoFar is the body received so far (bounded), for the record of a failed call.
  virtual std::string RawSoFar() const { return ""; }

  Response response;
  bool usage_seen = false;
  /// An error the provider reported inside a 2xx stream (Anthropic "error" events,
  /// OpenAI "error" chunks). retryable follows the error's type.
  std::string stream_error;
  bool stream_error_retryable = false;
  DeltaFn on_delta;
  double first_token_at = 0;  // steady seconds of the first text or tool-call delta
  std::shared_ptr<std::atomic<bool>> token_seen;  // set with first_token_at (the client's first-token timeout)

 protected:
  void EmitText(std::string_view s);
  void MarkToken();
};

/// ResponseCap bounds one response: the text a model may send for its max_tokens, and the
/// bytes on the wire, framing and tool-call arguments included. Past either the call is cut
/// and fails retryably: a stream that never ends costs a bounded amount of memory and store.
struct ResponseCap {
  int64_t text_bytes = 0;
  int64_t wire_bytes = 0;
  int64_t max_tokens = 0;
};
/// CapFor derives the caps from max_tokens (0: the provider's default, taken as 32768): 64
/// bytes of text and 2 KiB on the wire per token, at least 64 KiB and 1 MiB, at most 16 MiB
/// and 64 MiB (today's largest outputs, 128k tokens, are about 1 MB of text).
ResponseCap CapFor(int64_t max_tokens);

/// WireApi is one API's wire format.
class WireApi {
 public:
  virtual ~WireApi() = default;
  /// Build makes the HTTP request; a request the API cannot express (an invalid tool schema)
  /// is an error, never a malformed body.
  virtual Result<net::ClientRequest> Build(const Request& r, const ProviderConfig& c) const = 0;
  virtual std::unique_ptr<Decoder> NewDecoder(const ProviderConfig& c) const = 0;
  /// ErrorMessage extracts the provider's own message from an error body (JSON or not).
  virtual std::string ErrorMessage(std::string_view body) const;
};

std::unique_ptr<WireApi> NewOpenAiChat();
std::unique_ptr<WireApi> NewOpenAiResponses();
std::unique_ptr<WireApi> NewAnthropic();
std::unique_ptr<WireApi> NewGemini();
std::unique_ptr<WireApi> NewOllama();
/// WireApiFor returns the API named by ProviderConfig::api, or null.
std::unique_ptr<WireApi> WireApiFor(const std::string& api);

/// RetryAfter reads how long the provider asks us to wait, in seconds (<0: no hint):
/// retry-after-ms, Retry-After (seconds or an HTTP date), then the reset headers of an
/// exhausted OpenAI (x-ratelimit-reset-*) or Anthropic (anthropic-ratelimit-*-reset) limit.
double RetryAfter(const net::Headers& h, double now_unix);

/// Retryable HTTP statuses: 408, 409, 429, and every 5xx (529 is Anthropic's "overloaded").
bool RetryableStatus(int status);

/// Redact replaces every occurrence of each secret in s.
std::string Redact(std::string s, const std::vector<std::string>& secrets);

/// ToolArguments parses a tool call's argument JSON; an empty string is an empty object.
nlohmann::json ToolArguments(const std::string& args);

/// TokenAdmission is one admitted call in a tokens-per-minute window: estimated at
/// admission, corrected to what the provider counted when it finishes.
struct TokenAdmission {
  uint64_t id;
  double at;  // steady seconds
  int64_t tokens;
};

/// TpmWait is how long (seconds, 0 = now) a call estimated at `tokens` must wait to fit a
/// tokens-per-minute limit, given the admissions of the last minute in time order. A call
/// larger than the whole limit waits for an empty window and then runs alone.
double TpmWait(const std::deque<TokenAdmission>& window, double now, int64_t tokens, double tpm);

class HttpProvider : public Provider, public std::enable_shared_from_this<HttpProvider> {
 public:
  HttpProvider(ProviderConfig config, std::shared_ptr<net::HttpClient> client = nullptr);
  ~HttpProvider() override;
  std::string name() const override { return config_.name; }
  void Start(const Request& request, CancelFlag cancel, DeltaFn on_delta, DoneFn done) override;
  const ProviderConfig& config() const { return config_; }

 private:
  struct Pending {
    net::ClientRequest http;
    int64_t est_tokens = 0;
    ResponseCap cap;
    uint64_t window_id = 0;  // its entry in token_window_
    CancelFlag cancel;
    DeltaFn on_delta;
    DoneFn done;
  };
  net::HttpClient& Client();
  void Pump();
  void Launch(Pending p);
  void OnFinished(uint64_t window_id, int64_t actual_tokens, double pause);
  double WaitNeeded(double now, int64_t tokens);  // seconds until limits admit a call; mu_ held

  ProviderConfig config_;
  std::shared_ptr<WireApi> api_;  // shared with calls in flight
  std::shared_ptr<net::HttpClient> client_;  // null: the shared client, on first use
  std::once_flag client_once_;
  std::mutex mu_;
  std::deque<Pending> queue_;
  int running_ = 0;
  std::deque<double> request_times_;                    // starts within the last minute
  std::deque<TokenAdmission> token_window_;               // admissions within the last minute
  uint64_t next_window_id_ = 1;
  double paused_until_ = 0;  // a provider's rate-limit headers said "wait"
  bool pump_scheduled_ = false;
};

}  // namespace sw::llm
