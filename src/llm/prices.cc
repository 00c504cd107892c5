#include "llm/prices.h"

#include <algorithm>
#include <vector>

#include <re2/re2.h>

#include <nlohmann/json.hpp>

namespace sw::llm {

Status PriceTable::LoadJson(const std::string& text, const std::string& origin) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return InvalidInput(origin + ": invalid JSON: " + e.what());
  }
  if (!j.is_object()) return InvalidInput(origin + ": expected a JSON object of models");
  for (auto& [name, v] : j.items()) {
    if (name == "sample_spec") continue;  // LiteLLM's documentation entry
    if (!v.is_object()) return InvalidInput(origin + ": model \"" + name + "\": expected an object");
    // LiteLLM also lists models priced per image, second or character; without a per-token
    // price their cost is unknown here, never $0.
    if (!v.contains("input_cost_per_token") && !v.contains("output_cost_per_token")) continue;
    Price p;
    auto num = [&](const char* field, double* out) -> Status {
      auto it = v.find(field);
      if (it == v.end() || it->is_null()) return Status::Ok();
      if (!it->is_number())
        return InvalidInput(origin + ": model \"" + name + "\": " + field + " must be a number");
      *out = it->get<double>();
      if (*out < 0) return InvalidInput(origin + ": model \"" + name + "\": " + field + " must be >= 0");
      return Status::Ok();
    };
    SW_RETURN_IF_ERROR(num("input_cost_per_token", &p.input));
    SW_RETURN_IF_ERROR(num("output_cost_per_token", &p.output));
    SW_RETURN_IF_ERROR(num("cache_read_input_token_cost", &p.cache_read));
    SW_RETURN_IF_ERROR(num("cache_creation_input_token_cost", &p.cache_write));
    SW_RETURN_IF_ERROR(num("output_cost_per_reasoning_token", &p.reasoning));
    double mo = 0, mi = 0;
    SW_RETURN_IF_ERROR(num("max_output_tokens", &mo));
    SW_RETURN_IF_ERROR(num("max_input_tokens", &mi));
    p.max_output_tokens = static_cast<int64_t>(mo);
    p.max_input_tokens = static_cast<int64_t>(mi);
    prices_[name] = p;
  }
  return Status::Ok();
}

std::optional<Price> PriceTable::Lookup(const std::string& provider, const std::string& model) const {
  // Dated snapshots ("claude-sonnet-4-5-20250929", "gpt-4o-2024-08-06") cost what their
  // family does unless the table names them.
  std::vector<std::string> names{model};
  static const RE2 kDated("^(.*?)-(?:\\d{8}|\\d{4}-\\d{2}-\\d{2})$");
  std::string family;
  if (RE2::FullMatch(model, kDated, &family)) names.push_back(family);
  for (const auto& m : names) {
    for (const auto& key : {provider + "/" + m, m}) {
      auto it = prices_.find(key);
      if (it != prices_.end()) return it->second;
    }
  }
  // "ollama/*": every model of a provider (local servers charge nothing).
  auto it = prices_.find(provider + "/*");
  if (it != prices_.end()) return it->second;
  return std::nullopt;
}

double CostOf(const Usage& u, const Price& p) {
  double cr = p.cache_read >= 0 ? p.cache_read : p.input;
  double cw = p.cache_write >= 0 ? p.cache_write : p.input;
  double rs = p.reasoning >= 0 ? p.reasoning : p.output;
  int64_t plain_in = std::max<int64_t>(0, u.input - u.cached_read - u.cache_write);
  int64_t plain_out = std::max<int64_t>(0, u.output - u.reasoning);
  return plain_in * p.input + u.cached_read * cr + u.cache_write * cw + plain_out * p.output + u.reasoning * rs;
}

double WorstCaseCost(int64_t input_tokens, int64_t max_output_tokens, const Price& p) {
  double in_rate = std::max({p.input, p.cache_read, p.cache_write});
  double out_rate = std::max(p.output, p.reasoning);
  return input_tokens * in_rate + max_output_tokens * out_rate;
}

}  // namespace sw::llm
