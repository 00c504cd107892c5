// One meaning per finish reason across every provider. Each wire decoder maps its API's own
// stop reason to one of the canonical names below (keeping the API's word in
// Response::finish_raw), and FinishProblemOf says what the engine must make of it: an answer
// that ended normally, or one that is cut, refused, filtered or malformed.
#pragma once

#include <optional>
#include <string>

#include "llm/provider.h"

namespace sw::llm::finish {

// The canonical finish reasons.
inline constexpr const char* kStop = "stop";                         // the answer is complete
inline constexpr const char* kToolCalls = "tool_calls";              // the model asks for tools
inline constexpr const char* kLength = "length";                     // cut at max_tokens
inline constexpr const char* kRefusal = "refusal";                   // the model declined
inline constexpr const char* kContentFilter = "content_filter";      // the provider's filter stopped it
inline constexpr const char* kPause = "pause_turn";                  // a server-side turn paused (Anthropic)
inline constexpr const char* kContextWindow = "context_window";      // the conversation no longer fits
inline constexpr const char* kMalformedCall = "malformed_tool_call"; // the model wrote a broken tool call
inline constexpr const char* kOther = "other";                       // ended for a reason not listed above

/// What a finish reason means for the node that asked.
enum class Problem {
  kTruncated,   // length, pause_turn: the answer is incomplete; on_truncated decides
  kRefused,     // refusal: not retried (the same prompt is refused again)
  kFiltered,    // content_filter: not retried
  kContext,     // context_window: not retried
  kMalformed,   // malformed_tool_call: retried
  kOther,       // other (Gemini OTHER, LANGUAGE, …; a Responses answer cancelled): retried
};

struct Verdict {
  Problem problem;
  std::string message;  // says what happened, with the provider's own words where it gave some
  bool retryable = false;
};

/// FinishProblemOf is nullopt for an answer that ended normally (stop, tool_calls, or a reason
/// no provider documents as a problem); otherwise what went wrong. max_tokens is what the
/// request allowed (0: the provider's default), quoted in the truncation message.
std::optional<Verdict> FinishProblemOf(const Response& r, int64_t max_tokens);

}  // namespace sw::llm::finish
