// Offline replay: a provider that answers every request from the calls a previous run
// recorded, with no network, so the run's outputs come back byte for byte.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "llm/provider.h"

namespace sw::llm {

/// RequestFingerprint names a request for replay: where it comes from (node, iteration, map
/// item, agent turn) and everything that shapes the answer (model, messages, tools, settings);
/// not the run id, the attempt or max_tokens (a limit the price table sets).
std::string RequestFingerprint(const Request& r);

/// ReplyJson is the provider-neutral record of an answer {text, tool_calls, usage,
/// finish_reason}; ParseReply reads it back.
std::string ReplyJson(const Response& r);
Result<Response> ParseReply(const std::string& reply_json);

/// Recording is one recorded call of a fingerprint: an answer, or (when the run never got
/// one) the error it ended with.
struct Recording {
  bool ok = false;
  Response response;
  std::string error;
};

/// Recordings maps a fingerprint to its calls in the order they were made.
using Recordings = std::map<std::string, std::vector<Recording>>;

/// ReplayProvider stands in for the provider `name`. A fingerprint's answers are served in
/// order (a node that retried after a malformed answer gets the same two answers), the last
/// one repeating; a fingerprint with only failures replays the failure, not retryable; an
/// unknown fingerprint is an error naming the node, the iteration, the item and the turn.
class ReplayProvider final : public Provider {
 public:
  ReplayProvider(std::string name, std::shared_ptr<Recordings> recordings, std::string source_run)
      : name_(std::move(name)), recordings_(std::move(recordings)), source_run_(std::move(source_run)) {}
  std::string name() const override { return name_; }
  void Start(const Request& request, CancelFlag cancel, DeltaFn on_delta, DoneFn done) override;

 private:
  std::string name_;
  std::shared_ptr<Recordings> recordings_;
  std::string source_run_;
  std::mutex mu_;
  std::map<std::string, size_t> next_;  // fingerprint -> index of the next answer
};

}  // namespace sw::llm
