// llm::Provider: the seam between the engine and every model API. Shaped for streaming,
// tool calls and detailed usage now, so the HTTP adapters slot in without changing callers.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sw::llm {

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments_json;
  /// Opaque data the provider needs back with this call in the next request (Gemini's
  /// thoughtSignature); "" when none.
  std::string provider_data;
};

struct Message {
  std::string role;  // system | user | assistant | tool
  std::string content;
  std::vector<ToolCall> tool_calls;  // assistant turns that call tools
  std::string tool_call_id;          // tool turns: which call this answers
};

struct ToolSpec {
  std::string name;
  std::string description;
  std::string parameters_json;  // JSON Schema of the arguments
};

/// Request is one model call. provider/model are split from "provider/model".
struct Request {
  std::string provider;
  std::string model;
  std::vector<Message> messages;
  std::vector<ToolSpec> tools;
  std::optional<double> temperature;
  int64_t max_tokens = 0;  // 0: provider default
  std::vector<std::string> stop;
  bool json_output = false;
  // Where the call comes from; scripted and replay providers key their answers on it.
  std::string run_id;
  std::string node_id;
  int iteration = 0;
  int item = -1;
  int attempt = 1;
  int turn = 0;  // agent nodes: which model call of the agent run this is (1-based); 0 otherwise
};

/// Usage maps every provider's token accounting to one record.
struct Usage {
  int64_t input = 0;        // prompt tokens, including cached ones
  int64_t output = 0;       // completion tokens, including reasoning ones
  int64_t cached_read = 0;  // of input: served from the provider's prompt cache
  int64_t cache_write = 0;  // of input: written to the prompt cache
  int64_t reasoning = 0;    // of output: hidden reasoning tokens
};

struct Response {
  std::string text;
  std::vector<ToolCall> tool_calls;
  Usage usage;
  /// False when the provider reported no usage (a stream without its usage chunk, as many
  /// OpenAI-compatible servers send): the call's tokens and cost are unknown, not zero.
  bool usage_known = true;
  /// Canonical across providers (llm/finish.h): stop | tool_calls | length | refusal |
  /// content_filter | pause_turn | context_window | malformed_tool_call, or the API's own word
  /// when it is none of those; finish_raw is the API's own word ("max_tokens", "MAX_TOKENS").
  std::string finish_reason;
  std::string finish_raw;
  /// The model's own words when it declined (OpenAI's refusal field, a refusal content part).
  std::string refusal;
  /// The model that answered, as the provider named it ("gpt-4o-2024-08-06" for a request of
  /// "gpt-4o", Gemini's modelVersion); "" when the response did not say.
  std::string model;
  /// The provider's own id of this completion ("chatcmpl-...", "msg_...", Gemini's
  /// responseId); "" when the response did not carry one.
  std::string id;
  std::string raw;  // the provider's response body (secrets stripped), for the store
  double ttft_ms = 0;
};

/// CallError: a failed call. retryable marks transient failures (429, 5xx, network);
/// retry_after (seconds, <0 unknown) is the provider's own hint; partial usage is what the
/// provider reported before failing, so spend is never under-counted.
struct CallError {
  Status status;
  bool retryable = false;
  double retry_after = -1;
  Usage partial;
  /// The HTTP status of a refused request (401, 404, 429, 503...); 0 when none came back.
  int http_status = 0;
  /// False when the request reached the provider and no complete answer came back (a timeout,
  /// a cut or failed stream, a cancel): it bills what it generated, partial is a lower bound
  /// and the cost is unknown. True when it refused the request (non-2xx) or it never left.
  bool usage_known = true;
};

/// CallResult is a Response or a CallError.
struct CallResult {
  std::optional<Response> response;
  CallError error;
  /// The request exactly as sent on the wire and, for a failed call, whatever body came back;
  /// secrets replaced. Empty for providers without a wire format (scripted).
  std::string request_raw;
  std::string response_raw;
  bool ok() const { return response.has_value(); }
};

/// ErrorType is a failed call's class, low-cardinality, as OpenTelemetry's error.type wants it:
/// the HTTP status as a string when the provider refused ("429", "503"), else timeout |
/// cancelled | budget_exceeded | unavailable (no answer: connection, stream cut) |
/// invalid_request | permission_denied | not_found, and "_OTHER" for anything else.
std::string ErrorType(const CallError& e);

using CancelFlag = std::shared_ptr<std::atomic<bool>>;
using DoneFn = std::function<void(CallResult)>;
/// DeltaFn receives streamed text as it arrives (may be empty).
using DeltaFn = std::function<void(std::string_view)>;

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string name() const = 0;
  /// Start begins a call; done runs exactly once, on any thread, possibly before Start
  /// returns. Setting *cancel asks the provider to abandon the call (done still runs).
  virtual void Start(const Request& request, CancelFlag cancel, DeltaFn on_delta, DoneFn done) = 0;
};

/// Registry maps provider names ("openai", "scripted") to providers.
class Registry {
 public:
  void Add(std::shared_ptr<Provider> p) { providers_[p->name()] = std::move(p); }
  Provider* Get(const std::string& name) const {
    auto it = providers_.find(name);
    return it == providers_.end() ? nullptr : it->second.get();
  }
  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (auto& [k, v] : providers_) out.push_back(k);
    return out;
  }

 private:
  std::map<std::string, std::shared_ptr<Provider>> providers_;
};

/// SplitModel splits "provider/model" (the model part may contain further slashes).
Status SplitModel(const std::string& full, std::string* provider, std::string* model);

/// EstimateInputTokens is a pessimistic upper bound on prompt tokens: one token per byte of
/// everything sent (messages, tool calls, tool definitions and their schemas, stop
/// sequences) plus a per-item overhead (no tokenizer produces more tokens than bytes).
int64_t EstimateInputTokens(const Request& r);

}  // namespace sw::llm
