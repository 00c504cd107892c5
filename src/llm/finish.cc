#include "llm/finish.h"

#include "base/strings.h"

namespace sw::llm::finish {
namespace {

std::string Said(const Response& r) {
  std::string words = !r.refusal.empty() ? r.refusal : r.text;
  if (words.empty()) return "";
  if (words.size() > 300) words = Utf8Prefix(words, 300) + "…";
  return ": " + Quote(words);
}

std::string Raw(const Response& r) {
  return r.finish_raw.empty() || r.finish_raw == r.finish_reason ? "" : " (" + r.finish_raw + ")";
}

}  // namespace

std::optional<Verdict> FinishProblemOf(const Response& r, int64_t max_tokens) {
  const std::string& f = r.finish_reason;
  if (f == kLength) {
    std::string limit = max_tokens > 0 ? "max_tokens " + std::to_string(max_tokens) : "the provider's default max_tokens";
    std::string had = r.usage.output > 0 ? std::to_string(r.usage.output) + " output tokens" : "an unknown number of tokens";
    return Verdict{Problem::kTruncated,
                   "the answer was cut at " + limit + " (finish reason length" + Raw(r) + ", " + had + ", " +
                       std::to_string(r.text.size()) + " bytes of text); raise max_tokens or set on_truncated",
                   false};
  }
  if (f == kPause) {
    return Verdict{Problem::kTruncated,
                   "the provider paused the turn before the answer was complete (pause_turn); set "
                   "`on_truncated: continue` to let the model go on",
                   false};
  }
  if (f == kRefusal || (!r.refusal.empty() && r.text.empty() && r.tool_calls.empty()))
    return Verdict{Problem::kRefused, "the model refused" + Raw(r) + Said(r), false};
  if (f == kContentFilter)
    return Verdict{Problem::kFiltered, "the provider's content filter stopped the answer" + Raw(r) + Said(r), false};
  if (f == kContextWindow)
    return Verdict{Problem::kContext,
                   "the conversation does not fit the model's context window" + Raw(r) +
                       "; shorten the prompt or use a model with a larger window",
                   false};
  if (f == kMalformedCall)
    return Verdict{Problem::kMalformed, "the model wrote a malformed tool call" + Raw(r), true};
  if (f == kOther)
    return Verdict{Problem::kOther, "the provider ended the answer without finishing it" + Raw(r), true};
  return std::nullopt;
}

}  // namespace sw::llm::finish
