// The price table shipped with Specwright, in LiteLLM's field format (USD per token).
// Checked against the providers' public price pages in November 2026; users override or
// extend it with `prices:` in specwright.yaml or --prices FILE. Long-context surcharges
// (Gemini above 200k prompt tokens) are not modelled: such calls are under-priced.
#include "llm/config.h"

namespace sw::llm {

const char* DefaultPricesJson() {
  return R"json({
  "gpt-5":         {"input_cost_per_token": 1.25e-6, "output_cost_per_token": 1.0e-5, "cache_read_input_token_cost": 1.25e-7, "max_output_tokens": 128000, "max_input_tokens": 272000},
  "gpt-5-mini":    {"input_cost_per_token": 2.5e-7,  "output_cost_per_token": 2.0e-6, "cache_read_input_token_cost": 2.5e-8,  "max_output_tokens": 128000, "max_input_tokens": 272000},
  "gpt-5-nano":    {"input_cost_per_token": 5.0e-8,  "output_cost_per_token": 4.0e-7, "cache_read_input_token_cost": 5.0e-9,  "max_output_tokens": 128000, "max_input_tokens": 272000},
  "gpt-4.1":       {"input_cost_per_token": 2.0e-6,  "output_cost_per_token": 8.0e-6, "cache_read_input_token_cost": 5.0e-7,  "max_output_tokens": 32768, "max_input_tokens": 1047576},
  "gpt-4.1-mini":  {"input_cost_per_token": 4.0e-7,  "output_cost_per_token": 1.6e-6, "cache_read_input_token_cost": 1.0e-7,  "max_output_tokens": 32768, "max_input_tokens": 1047576},
  "gpt-4.1-nano":  {"input_cost_per_token": 1.0e-7,  "output_cost_per_token": 4.0e-7, "cache_read_input_token_cost": 2.5e-8,  "max_output_tokens": 32768, "max_input_tokens": 1047576},
  "gpt-4o":        {"input_cost_per_token": 2.5e-6,  "output_cost_per_token": 1.0e-5, "cache_read_input_token_cost": 1.25e-6, "max_output_tokens": 16384, "max_input_tokens": 128000},
  "gpt-4o-mini":   {"input_cost_per_token": 1.5e-7,  "output_cost_per_token": 6.0e-7, "cache_read_input_token_cost": 7.5e-8,  "max_output_tokens": 16384, "max_input_tokens": 128000},
  "o3":            {"input_cost_per_token": 2.0e-6,  "output_cost_per_token": 8.0e-6, "cache_read_input_token_cost": 5.0e-7,  "max_output_tokens": 100000, "max_input_tokens": 200000},
  "o4-mini":       {"input_cost_per_token": 1.1e-6,  "output_cost_per_token": 4.4e-6, "cache_read_input_token_cost": 2.75e-7, "max_output_tokens": 100000, "max_input_tokens": 200000},

  "claude-opus-4-5":   {"input_cost_per_token": 5.0e-6,  "output_cost_per_token": 2.5e-5, "cache_read_input_token_cost": 5.0e-7, "cache_creation_input_token_cost": 6.25e-6, "max_output_tokens": 64000, "max_input_tokens": 200000},
  "claude-opus-4-1":   {"input_cost_per_token": 1.5e-5,  "output_cost_per_token": 7.5e-5, "cache_read_input_token_cost": 1.5e-6, "cache_creation_input_token_cost": 1.875e-5, "max_output_tokens": 32000, "max_input_tokens": 200000},
  "claude-sonnet-4-5": {"input_cost_per_token": 3.0e-6,  "output_cost_per_token": 1.5e-5, "cache_read_input_token_cost": 3.0e-7, "cache_creation_input_token_cost": 3.75e-6, "max_output_tokens": 64000, "max_input_tokens": 200000},
  "claude-sonnet-4":   {"input_cost_per_token": 3.0e-6,  "output_cost_per_token": 1.5e-5, "cache_read_input_token_cost": 3.0e-7, "cache_creation_input_token_cost": 3.75e-6, "max_output_tokens": 64000, "max_input_tokens": 200000},
  "claude-haiku-4-5":  {"input_cost_per_token": 1.0e-6,  "output_cost_per_token": 5.0e-6, "cache_read_input_token_cost": 1.0e-7, "cache_creation_input_token_cost": 1.25e-6, "max_output_tokens": 64000, "max_input_tokens": 200000},
  "claude-3-5-haiku":  {"input_cost_per_token": 8.0e-7,  "output_cost_per_token": 4.0e-6, "cache_read_input_token_cost": 8.0e-8, "cache_creation_input_token_cost": 1.0e-6, "max_output_tokens": 8192, "max_input_tokens": 200000},

  "gemini/gemini-3-pro-preview":   {"input_cost_per_token": 2.0e-6,  "output_cost_per_token": 1.2e-5, "cache_read_input_token_cost": 2.0e-7,  "max_output_tokens": 65536, "max_input_tokens": 1048576},
  "gemini/gemini-2.5-pro":         {"input_cost_per_token": 1.25e-6, "output_cost_per_token": 1.0e-5, "cache_read_input_token_cost": 1.25e-7, "max_output_tokens": 65535, "max_input_tokens": 1048576},
  "gemini/gemini-2.5-flash":       {"input_cost_per_token": 3.0e-7,  "output_cost_per_token": 2.5e-6, "cache_read_input_token_cost": 3.0e-8,  "max_output_tokens": 65535, "max_input_tokens": 1048576},
  "gemini/gemini-2.5-flash-lite":  {"input_cost_per_token": 1.0e-7,  "output_cost_per_token": 4.0e-7, "cache_read_input_token_cost": 1.0e-8,  "max_output_tokens": 65535, "max_input_tokens": 1048576},
  "gemini/gemini-2.0-flash":       {"input_cost_per_token": 1.0e-7,  "output_cost_per_token": 4.0e-7, "cache_read_input_token_cost": 2.5e-8,  "max_output_tokens": 8192, "max_input_tokens": 1048576},

  "ollama/*": {"input_cost_per_token": 0, "output_cost_per_token": 0}
})json";
}

}  // namespace sw::llm
