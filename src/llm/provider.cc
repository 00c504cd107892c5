#include "llm/provider.h"

namespace sw::llm {

Status SplitModel(const std::string& full, std::string* provider, std::string* model) {
  size_t slash = full.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= full.size())
    return InvalidInput("model \"" + full + "\" must be written provider/model (e.g. openai/gpt-4o)");
  *provider = full.substr(0, slash);
  *model = full.substr(slash + 1);
  return Status::Ok();
}

int64_t EstimateInputTokens(const Request& r) {
  int64_t n = 8;
  for (const auto& m : r.messages) {
    n += 8 + static_cast<int64_t>(m.content.size() + m.tool_call_id.size());
    for (const auto& tc : m.tool_calls)
      n += 8 + static_cast<int64_t>(tc.id.size() + tc.name.size() + tc.arguments_json.size() + tc.provider_data.size());
  }
  // Tool definitions are prompt tokens too: every API bills their names, descriptions and
  // schemas as input.
  for (const auto& t : r.tools)
    n += 16 + static_cast<int64_t>(t.name.size() + t.description.size() + t.parameters_json.size());
  // Providers add a system prompt of their own for tool use (Anthropic documents 300-350
  // tokens for it) that is billed as input but never sent by us.
  if (!r.tools.empty()) n += 512;
  for (const auto& s : r.stop) n += static_cast<int64_t>(s.size());
  if (r.json_output) n += 64;  // the JSON instruction an adapter may add
  return n;
}

std::string ErrorType(const CallError& e) {
  if (e.http_status > 0) return std::to_string(e.http_status);
  switch (e.status.code()) {
    case Code::kTimeout: return "timeout";
    case Code::kCancelled: return "cancelled";
    case Code::kBudget: return "budget_exceeded";
    case Code::kUnavailable: return "unavailable";
    case Code::kInvalidInput: return "invalid_request";
    case Code::kPermission: return "permission_denied";
    case Code::kNotFound: return "not_found";
    default: return "_OTHER";
  }
}

}  // namespace sw::llm
