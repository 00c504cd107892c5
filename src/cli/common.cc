#include "cli/common.h"
#include "spec/spec.h"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>

#include "base/fs.h"
#include "base/hash.h"
#include "base/ids.h"
#include "base/strings.h"
#include "cli/cli.h"
#include "llm/scripted.h"

namespace sw::cli {

int Fail(const Context& ctx, const Status& s) {
  int code = kExitFailed;
  switch (s.code()) {
    case Code::kInvalidInput:
    case Code::kNotFound: code = kExitInvalid; break;
    case Code::kCancelled: code = kExitCancelled; break;
    default: break;
  }
  return PrintError(ctx.json, ctx.command, s.message(), code);
}

int Usage(const Context& ctx, const std::string& problem) {
  return PrintError(ctx.json, ctx.command, problem, kExitInvalid, ctx.usage);
}

namespace {

/// Elsewhere says how to point a command at another store.
constexpr const char* kElsewhere = "--store DIR|URL or $SPECWRIGHT_STORE points to another store";

/// Opened annotates a failed open with the store's name (unless the message names it already:
/// a URL store's errors do, without the password).
Status Opened(const Status& s, const std::string& shown) {
  if (s.ok() || s.message().find(shown) != std::string::npos) return s;
  return s.Annotate("opening the store " + shown);
}

/// Probe is what StoreExists learnt by opening a URL store (a connection: made once, not again
/// by the OpenExistingStore that follows it).
struct Probe {
  std::string location;
  std::optional<Result<std::unique_ptr<store::Store>>> opened;
};
Probe& LastProbe() {
  static Probe p;
  return p;
}

/// OpenWithoutCreating opens an existing store: nothing is made (no folder, file or table).
Result<std::unique_ptr<store::Store>> OpenWithoutCreating(const std::string& location) {
  Probe& p = LastProbe();
  if (p.opened && p.location == location) {
    auto r = std::move(*p.opened);
    p.opened.reset();
    return r;
  }
  store::StoreOptions o;
  o.create = false;
  return store::OpenStore(location, o);
}

/// Sanitized keeps [A-Za-z0-9.-] of s, anything else as '_', at most max characters.
std::string Sanitized(const std::string& s, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) break;
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
  }
  return out;
}

}  // namespace

Status OpenStore(const Context& ctx, Env* env) {
  if (env->store) return Status::Ok();
  auto st = store::OpenStore(ctx.store_dir);
  if (!st.ok()) return Opened(st.status(), StorePath(ctx));
  env->store = std::move(st).value();
  return Status::Ok();
}

std::string StorePath(const Context& ctx) {
  if (store::IsStoreUrl(ctx.store_dir)) return store::StoreLocationForDisplay(ctx.store_dir);
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(ctx.store_dir, ec);
  return ec ? ctx.store_dir : p.lexically_normal().string();
}

bool StoreExists(const Context& ctx) {
  if (!store::IsStoreUrl(ctx.store_dir)) return FileExists(store::SqliteDatabasePath(ctx.store_dir));
  // A database without the schema is no store; one that cannot be reached is not known to be
  // absent: the open that follows reports why (the probe's answer, not a second attempt).
  Probe& p = LastProbe();
  if (!p.opened || p.location != ctx.store_dir) {
    store::StoreOptions o;
    o.create = false;
    p.location = ctx.store_dir;
    p.opened.emplace(store::OpenStore(ctx.store_dir, o));
  }
  return p.opened->ok() || p.opened->status().code() != Code::kNotFound;
}

std::string StoreFilesDirFor(const std::string& location) {
  if (!store::IsStoreUrl(location)) {
    std::error_code ec;
    std::filesystem::path p = std::filesystem::absolute(location, ec);
    return ec ? location : p.lexically_normal().string();
  }
  // XDG: a relative $XDG_STATE_HOME is invalid and ignored.
  const char* xdg = std::getenv("XDG_STATE_HOME");
  std::string base = xdg && xdg[0] == '/' ? xdg : "";
  if (base.empty()) {
    const char* home = std::getenv("HOME");
    base = home && home[0] == '/' ? std::string(home) + "/.local/state" : "/tmp";
  }
  // The folder is named after the server and database (readable) and a hash of the whole
  // URL without its password (distinct per user, options, database).
  std::string shown = store::StoreLocationForDisplay(location);
  std::string rest = shown.substr(shown.find("://") + 3);
  if (size_t q = rest.find('?'); q != std::string::npos) rest.erase(q);
  if (size_t at = rest.rfind('@'); at != std::string::npos) rest.erase(0, at + 1);
  return base + "/specwright/stores/" + Sanitized(rest, 80) + "-" + Hash128Hex(shown).substr(0, 8);
}

std::string StoreFilesDir(const Context& ctx) { return StoreFilesDirFor(ctx.store_dir); }

Status OpenExistingStore(const Context& ctx, Env* env) {
  if (env->store) return Status::Ok();
  // Checked here as well as in the store: the message names the absolute path (or the URL,
  // without its password) looked at.
  bool url = store::IsStoreUrl(ctx.store_dir);
  if (!url && !StoreExists(ctx)) return NotFound("no store at " + StorePath(ctx) + " (" + kElsewhere + ")");
  auto st = OpenWithoutCreating(ctx.store_dir);
  if (!st.ok() && url && st.status().code() == Code::kNotFound)
    return NotFound("no store at " + StorePath(ctx) + " (" + kElsewhere + ")");
  if (!st.ok()) return Opened(st.status(), StorePath(ctx));
  env->store = std::move(st).value();
  return Status::Ok();
}

Status OpenStoreForRun(const Context& ctx, Env* env, const std::string& id) {
  SW_RETURN_IF_ERROR(ValidateRunId(id));
  return OpenExistingStore(ctx, env).Annotate("no run " + Quote(id));
}

bool NoStoreHere(const Context& ctx, const std::string& what, const std::string& next, const std::string& json_empty) {
  if (StoreExists(ctx)) return false;
  std::string words = "no store at " + StorePath(ctx) + " — " + what + " (" + (next.empty() ? "" : next + "; ") + kElsewhere + ")";
  if (ctx.json) {
    std::printf("%s\n", json_empty.c_str());
    std::fprintf(stderr, "%s\n", words.c_str());
  } else {
    std::printf("%s\n", words.c_str());
  }
  return true;
}

engine::Services ServicesOf(Env& env) {
  engine::Services services;
  services.providers = &env.providers;
  services.prices = &env.prices;
  services.tools = &env.tools;
  services.store = env.store.get();
  // A top-level run's end or gate notifies the workflow's and specwright.yaml's webhooks.
  if (env.no_notify) return services;  // observer stays null
  if (!env.notifier && env.store) {
    notify::Options o;
    o.log = true;
    if (auto ui = llm::ProcessEnv()("SPECWRIGHT_UI_URL"); ui && !ui->empty()) o.ui_base = *ui;
    env.notifier = std::make_unique<notify::Notifier>(env.store.get(), env.notify_targets, llm::ProcessEnv(), o);
  }
  services.observer = env.notifier.get();
  return services;
}

Status SplitKeyValue(const std::string& flag, const std::string& kv, std::string* k, std::string* v) {
  size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) return InvalidInput("--" + flag + " takes NAME=VALUE, got \"" + kv + "\"");
  *k = kv.substr(0, eq);
  *v = kv.substr(eq + 1);
  return Status::Ok();
}

void AddRunTools(tools::Registry* r) {
  tools::AddBuiltins(r);
  spec::AddSpecTools(r);
}

std::vector<std::string> RunToolUris() {
  tools::Registry r;
  AddRunTools(&r);
  return r.Uris();
}

Status SetupEnv(const Context& ctx, const std::string& script, const std::string& config_file,
                const std::string& prices_file, Env* env) {
  SW_RETURN_IF_ERROR(OpenStore(ctx, env));
  return SetupProviders(script, config_file, prices_file, env);
}

Status SetupProviders(const std::string& script, const std::string& config_file, const std::string& prices_file,
                      Env* env) {
  AddRunTools(&env->tools);
  auto getenv = llm::ProcessEnv();
  env->llm = llm::BuiltinConfig(getenv);
  std::string cfg = config_file;
  if (cfg.empty() && FileExists("specwright.yaml")) cfg = "specwright.yaml";
  // The user-level file first, the project's over it (llm::LoadConfigs).
  SW_RETURN_IF_ERROR(llm::LoadConfigs(cfg, getenv, &env->llm));
  {
    auto targets = notify::LoadConfigTargets(cfg, getenv);
    if (!targets.ok()) return targets.status();
    env->notify_targets = std::move(*targets);
  }
  SW_RETURN_IF_ERROR(env->prices.LoadJson(llm::DefaultPricesJson(), "the shipped price table"));
  std::vector<std::string> price_files = env->llm.price_files;
  if (!prices_file.empty()) price_files.push_back(prices_file);
  for (const auto& f : price_files) {
    auto text = ReadFile(f);
    if (!text.ok()) return text.status().Annotate("price table");
    SW_RETURN_IF_ERROR(env->prices.LoadJson(*text, f));
  }
  llm::RegisterHttp(env->llm, nullptr, &env->providers);
  if (!script.empty()) {
    auto p = llm::LoadScripted(script, &env->prices);
    if (!p.ok()) return p.status();
    env->providers.Add(*p);
    env->scripted = true;
  }
  return Status::Ok();
}

namespace {

void CheckModels(const workflow::Workflow& wf, const Env& env, std::vector<std::string>* errors,
                 std::set<std::string>* warned) {
  for (const auto& n : wf.nodes) {
    if (n.kind == workflow::NodeKind::kWorkflow && n.sub) CheckModels(*n.sub, env, errors, warned);
    if (n.kind != workflow::NodeKind::kLlm && n.kind != workflow::NodeKind::kAgent) continue;
    // A node can run when one of its models can: the node's own, or a fallback (which the
    // engine moves to when the model before it is unavailable). Unusable fallbacks warn.
    std::vector<std::string> models{n.model.model};
    models.insert(models.end(), n.model.fallbacks.begin(), n.model.fallbacks.end());
    std::string first_error;
    bool usable = false;
    for (size_t k = 0; k < models.size(); ++k) {
      const std::string& full = models[k];
      std::string provider, model;
      std::string what = wf.file + ":" + std::to_string(n.pos.line) + ":" + std::to_string(n.pos.col) + ": node \"" +
                         n.id + "\" (" + (k == 0 ? "model " : "fallback ") + full + ")";
      std::string why;
      if (Status s = llm::SplitModel(full, &provider, &model); !s.ok()) {
        why = what + ": " + s.message();
      } else if (provider == "scripted") {
        if (!env.scripted) why = what + ": scripted models answer from a script; pass --script FILE";
      } else if (Status u = llm::CheckUsable(env.llm, provider, what); !u.ok()) {
        why = u.message();
      }
      if (!why.empty()) {
        if (first_error.empty()) first_error = why;
        if (k > 0 && warned->insert(why).second) std::fprintf(stderr, "warning: %s\n", why.c_str());
        continue;
      }
      usable = true;
      if (provider == "scripted") continue;
      if (auto it = env.llm.providers.find(provider); it != env.llm.providers.end() &&
          it->second.api == "openai-responses" && !n.model.stop.empty() && warned->insert(what + "/stop").second)
        std::fprintf(stderr, "warning: %s: the Responses API has no stop sequences; `stop` is not sent\n", what.c_str());
      if (!env.prices.Lookup(provider, model) && warned->insert(full).second)
        std::fprintf(stderr,
                     "warning: no price known for %s; its calls will be recorded with cost unknown (add it to a "
                     "LiteLLM-format price file: prices: in specwright.yaml, or --prices FILE)\n",
                     full.c_str());
    }
    if (!usable) errors->push_back(first_error);
    else if (!first_error.empty() && first_error.find("(model ") != std::string::npos && warned->insert(first_error).second)
      std::fprintf(stderr, "warning: %s; its fallbacks will answer\n", first_error.c_str());
  }
}

}  // namespace

Status Preflight(const workflow::Workflow& wf, const Env& env) {
  std::vector<std::string> errors;
  std::set<std::string> warned;
  // The tools a run would not have (sub-workflows included); MCP tools are known once their
  // server runs, so only their server's declaration is checked (by the loader).
  for (const auto& d : workflow::CheckTools(wf, env.tools.Uris())) errors.push_back(d.ToString());
  CheckModels(wf, env, &errors, &warned);
  if (errors.empty()) return Status::Ok();
  std::string msg = "cannot start:";
  for (const auto& e : errors) msg += "\n  " + e;
  return InvalidInput(msg);
}

std::string SelfExe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::optional<long long> IntArg(const std::string& value, long long min, long long max) {
  char* end = nullptr;
  long long v = std::strtoll(value.c_str(), &end, 10);  // out of range: clamped, then refused by [min, max]
  if (value.empty() || !end || *end || v < min || v > max) return std::nullopt;
  return v;
}

int PortArg(const std::string& value) { return static_cast<int>(IntArg(value, 0, 65535).value_or(-1)); }

}  // namespace sw::cli
