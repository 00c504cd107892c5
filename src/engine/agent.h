// AgentState: one run of an agent node — a model in a loop with tools. It lives in its Unit
// and is touched only by the dispatcher, like all run state: each model answer and each tool
// result comes back through the inbox, and every turn, call and result is an event.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "llm/provider.h"

namespace sw::engine {

struct AgentState {
  bool started = false;                 // the unit's attempt has begun
  std::vector<llm::Message> messages;   // the conversation so far
  std::vector<llm::ToolSpec> specs;     // tools as the model sees them
  std::map<std::string, std::string> uri_of;  // model-facing tool name -> tool URI
  int turn = 0;        // model answers received so far
  int call_tries = 0;  // failed tries of the model call now pending
  int repairs = 0;     // turns that asked the model to correct an unusable final answer
  // "name\nargs" -> how many times in a row that call returned the same result (and which)
  std::map<std::string, int> repeats;
  std::map<std::string, std::string> last_result;
  std::vector<std::string> turn_signatures;  // per finished turn: hash of calls and results
  // The tool calls of the current turn and their results as they come in.
  std::vector<llm::ToolCall> calls;
  std::vector<std::string> results;
  std::vector<bool> done;
  int pending = 0;
  // The order of a turn's calls where it matters: launch[i] starts call i (empty once
  // started), after[i] the calls that wait for it, waits[i] how many calls call i waits for.
  std::vector<std::function<void()>> launch;
  std::vector<std::vector<int>> after;
  std::vector<int> waits;
  // What this agent run has spent, for its node_runs row.
  int64_t tokens_in = 0, tokens_out = 0, model_calls = 0;
  double cost = 0;
  bool cost_unknown = false;  // some turn's model has no price
};

/// ModelToolName turns a tool URI into a name every API accepts (^[A-Za-z0-9_-]{1,64}$):
/// builtin://fs.read -> fs_read, mcp://everything/echo -> everything__echo.
std::string ModelToolName(const std::string& uri);

/// RepeatingCycle returns the period p (2..8) when the last p turns repeat the p turns before
/// them exactly (same calls, same results: nothing new was learnt), else 0.
int RepeatingCycle(const std::vector<std::string>& signatures);

}  // namespace sw::engine
