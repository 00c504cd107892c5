// codec: the JSON a task carries between an orchestrator and a worker — a model request and
// its CallResult, a tool call and its result — so that a call made on another machine comes
// back exactly as if it had been made here (every field round-trips).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "llm/provider.h"
#include "tools/tool.h"

namespace sw::dist {

using json = nlohmann::json;

/// TaskText is JSON text for a task row's payload or result: nothing here holds invalid UTF-8
/// (the codec encodes raw bytes), but a bad byte must never throw on a worker thread.
inline std::string TaskText(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

/// A Status as JSON {code, message} and back (codes by name: "unavailable", "timeout", ...).
json StatusToJson(const Status& s);
Status StatusFromJson(const json& j);

json RequestToJson(const llm::Request& r);
Result<llm::Request> RequestFromJson(const json& j);

json ResponseToJson(const llm::Response& r);
Result<llm::Response> ResponseFromJson(const json& j);

/// CallResultToJson keeps the whole result: the response (text, tool calls with provider data,
/// usage, usage_known, finish reason and raw word, refusal, model, id, raw body, ttft) or the
/// error (status, retryable, retry_after, partial usage, http status, usage_known), and the raw
/// request and response bodies.
json CallResultToJson(const llm::CallResult& r);
Result<llm::CallResult> CallResultFromJson(const json& j);

/// ToolTask is one tool call to run elsewhere: the tool's URI, its arguments and what of the
/// CallContext matters off this machine (the workspace itself travels through git: `workspace`
/// names the published commit, not a directory).
struct ToolTask {
  std::string uri;
  json args = json::object();
  std::string run_id;
  std::string node_id;
  int iteration = 0;
  int item = -1;
  int attempt = 0;
  int call = -1;  // an agent's call index within its turn (-1: a tool node)
  tools::ShellLimits shell;
  /// The workspace as published for this call ("" : the call needs none): a git reference the
  /// worker checks out (git_transport), and whether the call's changes must come back.
  json workspace = json::object();
};

json ToolTaskToJson(const ToolTask& t);
Result<ToolTask> ToolTaskFromJson(const json& j);

/// ToolOutcome is what a tool call returned: a value or an error (and what happened to the
/// workspace: the delivered commit, when the call changed it).
struct ToolOutcome {
  bool ok = false;
  json value;
  Status error;
  json workspace = json::object();
};

json ToolOutcomeToJson(const ToolOutcome& o);
Result<ToolOutcome> ToolOutcomeFromJson(const json& j);

}  // namespace sw::dist
