// The scripted provider: answers from a script keyed by node id, offline and deterministic.
// It is the default for `make demo` and the engine's tests and benchmarks.
//
// Script (YAML, or JSONL with one {"node": ID, ...entry} per line):
//   latency_ms: 0                      # default simulated latency
//   prices: {scripted/demo: {input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5}}
//   nodes:
//     plan:                            # node id ("*" is the fallback for any node)
//       - text: "..."                  # or json: {...} (sent as JSON text)
//         usage: {input: 120, output: 40, cached_read: 0, reasoning: 0}
//         latency_ms: 50
//       - error: {message: "overloaded", retryable: true, retry_after: 2, status: 429}  # status: the HTTP status
//       - {text: "...", id: chatcmpl-1, model: demo-2026-01}   # the response's id and answering model
//       - when: {iteration: 1, item: 0, attempt: 2, turn: 3, prompt_contains: "x", prompt_hash: HEX}
//         text: "..."
//       - tool_calls: [{name: fs_read, arguments: {path: a.c}}]   # an agent turn (text optional)
// Choice: the first entry whose `when` matches all its fields; otherwise the entries with no
// `when`, indexed by attempt - 1 — by turn - 1 for an agent's calls — (the last repeats), so a retry sees the next entry and a
// resumed run sees the same answers as the original. Without usage, tokens are counted as
// bytes/4 of the prompt and of the answer. Output is cut at the request's max_tokens with
// finish_reason "length", as a real API would.
#pragma once

#include <memory>
#include <string>

#include "llm/prices.h"
#include "llm/provider.h"

namespace sw::llm {

struct ScriptedOptions {
  /// When set, every call appends "node<TAB>iteration<TAB>item<TAB>attempt" to this file
  /// (tests count calls across processes with it). Also read from SW_SCRIPTED_CALL_LOG.
  std::string call_log;
};

/// LoadScripted reads a script file and returns the provider (named "scripted"); prices in
/// the script are merged into *prices when given.
Result<std::shared_ptr<Provider>> LoadScripted(const std::string& path, PriceTable* prices,
                                               const ScriptedOptions& options = {});
/// ScriptedFromJson builds the provider from an already-parsed script object.
Result<std::shared_ptr<Provider>> ScriptedFromJson(const std::string& script_json, const std::string& origin,
                                                   PriceTable* prices, const ScriptedOptions& options = {});

}  // namespace sw::llm
