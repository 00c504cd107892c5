// Prices per token in LiteLLM's JSON field format, so users can drop in LiteLLM's own table.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/status.h"
#include "llm/provider.h"

namespace sw::llm {

struct Price {
  double input = 0;        // input_cost_per_token
  double output = 0;       // output_cost_per_token
  double cache_read = -1;  // cache_read_input_token_cost (<0: same as input)
  double cache_write = -1; // cache_creation_input_token_cost (<0: same as input)
  double reasoning = -1;   // output_cost_per_reasoning_token (<0: same as output)
  int64_t max_output_tokens = 0;
  int64_t max_input_tokens = 0;
};

/// PriceTable looks models up by "provider/model", then by bare "model".
class PriceTable {
 public:
  /// LoadJson merges a LiteLLM-format object {"model": {"input_cost_per_token": ...}}; entries
  /// override earlier ones. Errors name the model and field.
  Status LoadJson(const std::string& text, const std::string& origin);
  void Set(const std::string& model, const Price& p) { prices_[model] = p; }
  std::optional<Price> Lookup(const std::string& provider, const std::string& model) const;

 private:
  std::map<std::string, Price> prices_;
};

/// Cost in USD of a usage record at a price.
double CostOf(const Usage& u, const Price& p);

/// WorstCaseCost is the most a call with these token bounds can cost (budget reservations).
double WorstCaseCost(int64_t input_tokens, int64_t max_output_tokens, const Price& p);

}  // namespace sw::llm
