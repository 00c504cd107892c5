#include "llm/config.h"

#include <yaml-cpp/yaml.h>

#include "workflow/yaml_json.h"

#include <cstdlib>
#include <filesystem>

#include "base/fs.h"
#include "base/strings.h"

namespace sw::llm {
namespace {

struct Builtin {
  const char* name;
  const char* api;
  const char* base_env;      // overrides the base URL
  const char* default_base;  // "" : the base URL is required
  const char* key_env;       // "" : no key
  const char* alt_key_env;
  bool key_required;
  bool legacy_max_tokens;
};

constexpr Builtin kBuiltins[] = {
    {"openai", "openai", "OPENAI_BASE_URL", "https://api.openai.com/v1", "OPENAI_API_KEY", "", true, false},
    {"openai-responses", "openai-responses", "OPENAI_BASE_URL", "https://api.openai.com/v1", "OPENAI_API_KEY", "",
     true, false},
    {"anthropic", "anthropic", "ANTHROPIC_BASE_URL", "https://api.anthropic.com", "ANTHROPIC_API_KEY", "", true, false},
    {"gemini", "gemini", "GEMINI_BASE_URL", "https://generativelanguage.googleapis.com", "GEMINI_API_KEY",
     "GOOGLE_API_KEY", true, false},
    {"ollama", "ollama", "", "", "", "", false, false},
    {"openai-compatible", "openai", "OPENAI_COMPATIBLE_BASE_URL", "", "OPENAI_COMPATIBLE_API_KEY", "", false, true},
};

const std::vector<std::string> kProviderKeys = {"api",  "base_url", "api_key",  "headers", "stream", "legacy_max_tokens",
                                                "max_concurrency", "rpm", "tpm", "timeouts"};
const std::vector<std::string> kTimeoutKeys = {"connect", "first_token", "idle", "total"};
const std::vector<std::string> kApis = {"openai", "openai-responses", "anthropic", "gemini", "ollama"};

std::string At(const std::string& path, const YAML::Node& n) {
  const auto& m = n.Mark();
  if (m.is_null()) return path;
  return path + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

/// Expand replaces ${NAME} with the variable's value; an unset variable is reported through
/// *missing (the value is still usable for keys that are optional).
Result<std::string> Expand(const std::string& s, const GetEnv& env, std::string* missing, const std::string& where,
                           std::vector<std::string>* expanded = nullptr) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 2, "${") == 0) {
      size_t end = s.find('}', i + 2);
      // The value may hold a secret: say where, never what.
      if (end == std::string::npos) return InvalidInput(where + ": unterminated ${ (no closing })");
      std::string name = s.substr(i + 2, end - i - 2);
      if (name.empty()) return InvalidInput(where + ": empty ${} reference");
      auto v = env(name);
      if (!v || v->empty()) {
        if (missing) *missing = name;
      } else {
        out += *v;
        if (expanded) expanded->push_back(*v);
      }
      i = end + 1;
    } else {
      out += s[i++];
    }
  }
  return out;
}

Status CheckKeys(const YAML::Node& map, const std::vector<std::string>& allowed, const std::string& path,
                 const std::string& what) {
  for (const auto& kv : map) {
    std::string k = kv.first.as<std::string>();
    if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
    std::string hint = DidYouMean(k, allowed);
    return InvalidInput(At(path, kv.first) + ": unknown key \"" + k + "\" in " + what +
                        (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
  }
  return Status::Ok();
}

Result<double> Number(const YAML::Node& v, const std::string& path, const std::string& what, bool duration) {
  std::optional<double> d;
  if (v.IsScalar()) d = duration ? ParseDuration(v.Scalar()) : ParseDouble(Trim(v.Scalar()));
  if (!d || *d < 0)
    return InvalidInput(At(path, v) + ": " + what + " must be " +
                        (duration ? "a duration like 30s or 2m" : "a number >= 0"));
  return *d;
}

Result<bool> Bool(const YAML::Node& v, const std::string& path, const std::string& what) {
  if (v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "false")) return v.Scalar() == "true";
  return InvalidInput(At(path, v) + ": " + what + " must be true or false");
}

/// FindMissing says, per provider, what stops it from being used: a required key that is not
/// set, or no base URL. Computed from the final settings, so a later base_url never hides a
/// missing key.
void FindMissing(LlmConfig* cfg) {
  cfg->missing_key.clear();
  for (auto& [name, p] : cfg->providers) {
    if (p.key_required && p.api_key.empty()) {
      std::string var = p.api_key_env.empty() ? "providers." + name + ".api_key" : p.api_key_env;
      cfg->missing_key[name] = p.key_where.empty()
                                   ? "set " + var + " in the environment (or providers." + name +
                                         ".api_key in specwright.yaml)"
                                   : "set " + var + " (" + p.key_where + " refers to it)";
    } else if (p.base_url.empty()) {
      cfg->missing_key[name] = p.base_url_env.empty()
                                   ? "set providers." + name + ".base_url in specwright.yaml"
                                   : "set " + p.base_url_env + " to the server's base URL (e.g. "
                                     "http://127.0.0.1:8000/v1), or providers." + name + ".base_url in specwright.yaml";
    }
  }
}

}  // namespace

GetEnv ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::string NormalizeOllamaHost(const std::string& host) {
  std::string h = Trim(host);
  if (h.empty()) return "http://127.0.0.1:11434";
  // Ollama's own rule: a bare host gets port 11434; an explicit scheme its usual port.
  std::string default_port = "11434";
  if (h.starts_with("http://")) default_port = "80";
  else if (h.starts_with("https://")) default_port = "443";
  if (h.find("://") == std::string::npos) h = "http://" + h;
  size_t authority = h.find("://") + 3;
  size_t slash = h.find('/', authority);
  std::string hostport = h.substr(authority, slash == std::string::npos ? std::string::npos : slash - authority);
  // 0.0.0.0 is where a server listens, not an address to call.
  if (hostport.starts_with("0.0.0.0")) {
    h.replace(authority, 7, "127.0.0.1");
    hostport.replace(0, 7, "127.0.0.1");
  }
  if (hostport.find(':') == std::string::npos && hostport.find(']') == std::string::npos)
    h.insert(authority + hostport.size(), ":" + default_port);
  while (!h.empty() && h.back() == '/') h.pop_back();
  return h;
}

LlmConfig BuiltinConfig(const GetEnv& env) {
  LlmConfig cfg;
  for (const auto& b : kBuiltins) {
    ProviderConfig p;
    p.name = b.name;
    p.api = b.api;
    p.base_url = b.default_base;
    if (*b.base_env)
      if (auto v = env(b.base_env); v && !v->empty()) p.base_url = *v;
    if (p.name == "ollama") p.base_url = NormalizeOllamaHost(env("OLLAMA_HOST").value_or(""));
    p.key_required = b.key_required;
    p.legacy_max_tokens = b.legacy_max_tokens;
    if (*b.key_env) {
      p.api_key_env = b.key_env;
      if (auto v = env(b.key_env); v && !v->empty()) p.api_key = *v;
      else if (*b.alt_key_env)
        if (auto a = env(b.alt_key_env); a && !a->empty()) p.api_key = *a;
    }
    p.base_url_env = b.base_env;
    cfg.providers[p.name] = std::move(p);
  }
  FindMissing(&cfg);
  return cfg;
}

namespace {
Status LoadConfigTree(const std::string& path, const YAML::Node& root, const GetEnv& env, LlmConfig* cfg,
                      bool user_level);

Status LoadOne(const std::string& path, const GetEnv& env, LlmConfig* cfg, bool user_level) {
  SW_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  // yaml-cpp throws on bad syntax and on conversions (a mapping used as a key): both become
  // errors at the file, line and column.
  try {
    LlmConfig next = *cfg;
    SW_ASSIGN_OR_RETURN(YAML::Node root, LoadYaml(text, path));
    SW_RETURN_IF_ERROR(LoadConfigTree(path, root, env, &next, user_level));
    FindMissing(&next);
    *cfg = std::move(next);
    return Status::Ok();
  } catch (const YAML::Exception& e) {
    return InvalidInput(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                        ": " + e.msg);
  }
}
}  // namespace

Status LoadConfigFile(const std::string& path, const GetEnv& env, LlmConfig* cfg) {
  return LoadOne(path, env, cfg, /*user_level=*/false);
}

std::string UserConfigPath(const GetEnv& env) {
  // XDG: a relative $XDG_CONFIG_HOME is invalid and ignored.
  std::string base = env("XDG_CONFIG_HOME").value_or("");
  if (base.empty() || base[0] != '/') {
    std::string home = env("HOME").value_or("");
    if (home.empty()) return "";
    base = home + "/.config";
  }
  return base + "/specwright/specwright.yaml";
}

Status LoadConfigs(const std::string& project_file, const GetEnv& env, LlmConfig* cfg, std::string* user_file) {
  std::string user = UserConfigPath(env);
  if (!user.empty() && FileExists(user)) {
    SW_RETURN_IF_ERROR(LoadOne(user, env, cfg, /*user_level=*/true));
    if (user_file) *user_file = user;
  }
  if (!project_file.empty()) SW_RETURN_IF_ERROR(LoadOne(project_file, env, cfg, /*user_level=*/false));
  return Status::Ok();
}

namespace {
Status LoadConfigTree(const std::string& path, const YAML::Node& root, const GetEnv& env, LlmConfig* cfg,
                      bool user_level) {
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap()) return InvalidInput(At(path, root) + ": expected a mapping with providers: and prices:");
  // spec: (traceability), roles: and process: (the developer process) and notify: (webhooks,
  // src/notify) are read by their own layers.
  SW_RETURN_IF_ERROR(
      CheckKeys(root, {"providers", "prices", "spec", "roles", "process", "workers", "notify"}, path, "specwright.yaml"));
  if (user_level)
    for (const char* key : {"spec", "process"})
      for (const auto& kv : root)
        if (kv.first.as<std::string>() == key)
          return InvalidInput(At(path, kv.first) + ": " + key + ": describes one project; put it in that project's "
                              "specwright.yaml, not in the user-level config (which holds providers, prices and roles)");
  std::string dir = std::filesystem::absolute(path).parent_path().string();
  if (auto prices = root["prices"]) {
    if (!prices.IsScalar()) return InvalidInput(At(path, prices) + ": prices must be a file path");
    std::filesystem::path pf(prices.Scalar());
    if (pf.is_relative()) pf = std::filesystem::path(dir) / pf;
    cfg->price_files.push_back(pf.lexically_normal().string());
  }
  if (auto workers = root["workers"]) {
    if (!workers.IsMap()) return InvalidInput(At(path, workers) + ": workers must be a mapping (workspace_remote: URL)");
    SW_RETURN_IF_ERROR(CheckKeys(workers, {"workspace_remote"}, path, "workers"));
    if (auto r = workers["workspace_remote"]) {
      if (!r.IsScalar() || r.Scalar().empty())
        return InvalidInput(At(path, r) + ": workspace_remote must be the path or URL of a shared bare git repository");
      cfg->workspace_remote = r.Scalar();
      cfg->workspace_remote_at = At(path, r);
    }
  }
  auto providers = root["providers"];
  if (!providers) return Status::Ok();
  if (!providers.IsMap()) return InvalidInput(At(path, providers) + ": providers must be a mapping of names");
  for (const auto& kv : providers) {
    std::string name = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    std::string where = At(path, kv.first);
    if (name.empty() || name.find('/') != std::string::npos)
      return InvalidInput(where + ": provider name \"" + name + "\" must be non-empty and contain no '/'");
    if (!v.IsMap()) return InvalidInput(At(path, v) + ": provider \"" + name + "\" must be a mapping");
    SW_RETURN_IF_ERROR(CheckKeys(v, kProviderKeys, path, "provider \"" + name + "\""));
    bool existed = cfg->providers.count(name) > 0;
    ProviderConfig& p = cfg->providers[name];
    p.name = name;
    if (auto api = v["api"]) {
      std::string a = api.IsScalar() ? api.Scalar() : "";
      if (a == "openai-compatible") {
        a = "openai";
        p.legacy_max_tokens = true;
      }
      if (std::find(kApis.begin(), kApis.end(), a) == kApis.end()) {
        std::string hint = DidYouMean(a, kApis);
        return InvalidInput(At(path, api) + ": unknown api \"" + a + "\"; one of openai, openai-compatible, "
                            "openai-responses, anthropic, gemini, ollama" +
                            (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
      }
      p.api = a;
    } else if (!existed) {
      return InvalidInput(where + ": provider \"" + name + "\" is not built in; say which api it speaks (api: openai, "
                          "openai-compatible, openai-responses, anthropic, gemini or ollama)");
    }
    if (auto b = v["base_url"]) {
      std::string missing;
      SW_ASSIGN_OR_RETURN(std::string url, Expand(b.Scalar(), env, &missing, At(path, b)));
      if (!missing.empty()) return InvalidInput(At(path, b) + ": base_url uses ${" + missing + "}, which is not set");
      if (!url.starts_with("http://") && !url.starts_with("https://"))
        return InvalidInput(At(path, b) + ": base_url must start with http:// or https://, got \"" + url + "\"");
      p.base_url = url;
    }
    if (auto k = v["api_key"]) {
      std::string missing;
      SW_ASSIGN_OR_RETURN(std::string key, Expand(k.IsScalar() ? k.Scalar() : "", env, &missing, At(path, k)));
      p.api_key = key;
      p.key_required = true;
      p.api_key_env = missing;
      p.key_where = At(path, k);
    }
    if (auto h = v["headers"]) {
      if (!h.IsMap()) return InvalidInput(At(path, h) + ": headers must be a mapping");
      for (const auto& hv : h) {
        std::string missing;
        std::vector<std::string> from_env;
        if (!hv.second.IsScalar()) return InvalidInput(At(path, hv.second) + ": a header value must be a string");
        SW_ASSIGN_OR_RETURN(std::string val, Expand(hv.second.Scalar(), env, &missing, At(path, hv.second), &from_env));
        if (!missing.empty()) return InvalidInput(At(path, hv.second) + ": header uses ${" + missing + "}, which is not set");
        // What a credential header takes from the environment is a secret (a bearer token).
        std::string hname = Lower(hv.first.Scalar());
        bool credential = hname == "authorization" || hname.find("key") != std::string::npos ||
                          hname.find("token") != std::string::npos || hname.find("secret") != std::string::npos;
        if (credential) p.secrets.insert(p.secrets.end(), from_env.begin(), from_env.end());
        // A header set before (the user-level file) is replaced, not sent twice.
        std::erase_if(p.headers, [&](const auto& h) { return Lower(h.first) == hname; });
        p.headers.emplace_back(hv.first.Scalar(), val);
      }
    }
    if (auto s = v["stream"]) {
      SW_ASSIGN_OR_RETURN(p.stream, Bool(s, path, "stream"));
    }
    if (auto s = v["legacy_max_tokens"]) {
      SW_ASSIGN_OR_RETURN(p.legacy_max_tokens, Bool(s, path, "legacy_max_tokens"));
    }
    if (auto s = v["max_concurrency"]) {
      SW_ASSIGN_OR_RETURN(double n, Number(s, path, "max_concurrency", false));
      p.max_concurrency = static_cast<int>(n);
    }
    if (auto s = v["rpm"]) {
      SW_ASSIGN_OR_RETURN(p.rpm, Number(s, path, "rpm", false));
      if (p.rpm > 0 && p.rpm < 1) return InvalidInput(At(path, s) + ": rpm must be 0 (unlimited) or at least 1");
    }
    if (auto s = v["tpm"]) {
      SW_ASSIGN_OR_RETURN(p.tpm, Number(s, path, "tpm", false));
    }
    if (auto t = v["timeouts"]) {
      if (!t.IsMap()) return InvalidInput(At(path, t) + ": timeouts must be a mapping");
      SW_RETURN_IF_ERROR(CheckKeys(t, kTimeoutKeys, path, "timeouts"));
      if (auto x = t["connect"]) {
        SW_ASSIGN_OR_RETURN(p.timeouts.connect, Number(x, path, "timeouts.connect", true));
      }
      if (auto x = t["first_token"]) {
        SW_ASSIGN_OR_RETURN(p.timeouts.first_token, Number(x, path, "timeouts.first_token", true));
        // No token can come before the first byte: the byte limit follows (0 turns both off).
        p.timeouts.first_byte = p.timeouts.first_token;
      }
      if (auto x = t["idle"]) {
        SW_ASSIGN_OR_RETURN(p.timeouts.idle, Number(x, path, "timeouts.idle", true));
      }
      if (auto x = t["total"]) {
        SW_ASSIGN_OR_RETURN(p.timeouts.total, Number(x, path, "timeouts.total", true));
      }
    }
  }
  return Status::Ok();
}
}  // namespace

Status CheckUsable(const LlmConfig& cfg, const std::string& provider, const std::string& what) {
  if (!cfg.providers.count(provider)) {
    std::vector<std::string> names;
    for (const auto& [n, p] : cfg.providers) names.push_back(n);
    names.push_back("scripted");
    std::string hint = DidYouMean(provider, names);
    return InvalidInput(what + ": no provider \"" + provider + "\"" +
                        (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)") +
                        "; built in: openai, openai-responses, anthropic, gemini, ollama, openai-compatible");
  }
  if (auto it = cfg.missing_key.find(provider); it != cfg.missing_key.end())
    return InvalidInput(what + ": provider \"" + provider + "\" is not set up: " + it->second);
  return Status::Ok();
}

void RegisterHttp(const LlmConfig& cfg, std::shared_ptr<net::HttpClient> client, Registry* out) {
  for (const auto& [name, p] : cfg.providers) {
    if (cfg.missing_key.count(name)) continue;
    out->Add(std::make_shared<HttpProvider>(p, client));
  }
}

}  // namespace sw::llm
