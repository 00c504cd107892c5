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

int64_t EstimateInputTokens(const std::vector<Message>& messages) {
  int64_t n = 8;
  for (const auto& m : messages) {
    n += 8 + static_cast<int64_t>(m.content.size());
    for (const auto& tc : m.tool_calls) n += 8 + static_cast<int64_t>(tc.name.size() + tc.arguments_json.size());
  }
  return n;
}

}  // namespace sw::llm
