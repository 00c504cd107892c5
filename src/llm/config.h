// Provider configuration: built-in endpoints for every supported API, read from the
// environment, optionally overridden and extended by specwright.yaml:
//
//   providers:
//     openai: {api_key: ${OPENAI_API_KEY}, rpm: 500}
//     vllm:   {api: openai, base_url: http://127.0.0.1:8000/v1, legacy_max_tokens: true}
//   prices: my-prices.json        # LiteLLM format, merged over the shipped table
//
// Secrets are resolved here and live only in ProviderConfig::api_key.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "llm/http_provider.h"
#include "llm/prices.h"

namespace sw::llm {

/// GetEnv is the environment seam (tests pass a map).
using GetEnv = std::function<std::optional<std::string>(const std::string&)>;
GetEnv ProcessEnv();

struct LlmConfig {
  std::map<std::string, ProviderConfig> providers;
  /// A provider whose key is missing, by name: the message that says how to supply it.
  std::map<std::string, std::string> missing_key;
  std::vector<std::string> price_files;  // absolute paths, in override order
  /// `workers: {workspace_remote: URL}`: the shared bare repository detached runs' workspaces
  /// travel through (read by `run --detach`; the flag and $SPECWRIGHT_WORKSPACE_REMOTE win).
  std::string workspace_remote;
  std::string workspace_remote_at;  // where it was named (file:line:col), for its errors
};

/// BuiltinConfig is the endpoints every install knows: openai, openai-responses, anthropic,
/// gemini, ollama and openai-compatible (which needs OPENAI_COMPATIBLE_BASE_URL).
LlmConfig BuiltinConfig(const GetEnv& env);

/// LoadConfigFile merges a specwright.yaml over cfg. Errors name path:line:col.
Status LoadConfigFile(const std::string& path, const GetEnv& env, LlmConfig* cfg);

/// UserConfigPath is the user-level config: $XDG_CONFIG_HOME/specwright/specwright.yaml, or
/// $HOME/.config/specwright/specwright.yaml ("" when neither variable is set). It need not exist.
std::string UserConfigPath(const GetEnv& env);

/// LoadConfigs merges, over cfg, the user-level config (when it exists) and then the
/// project's file (project_file; "" = none), so the project wins field by field: a provider
/// both define takes each setting from the project where it gives one, else from the user's
/// file. The user's file may hold providers, prices and roles; spec: and process: describe a
/// project and are refused there. *user_file is set to the user file when it was read.
Status LoadConfigs(const std::string& project_file, const GetEnv& env, LlmConfig* cfg, std::string* user_file = nullptr);

/// CheckUsable reports, before any call, why provider cannot be used: unknown name (with a
/// suggestion) or missing key (naming the variable). what names the user of the provider.
Status CheckUsable(const LlmConfig& cfg, const std::string& provider, const std::string& what);

/// Register adds an HttpProvider for every configured provider that has what it needs.
void RegisterHttp(const LlmConfig& cfg, std::shared_ptr<net::HttpClient> client, Registry* out);

/// DefaultPrices is the shipped price table (LiteLLM fields), for current models.
const char* DefaultPricesJson();

/// NormalizeOllamaHost turns OLLAMA_HOST ("0.0.0.0", "host:port", "http://host") into a URL.
std::string NormalizeOllamaHost(const std::string& host);

}  // namespace sw::llm
