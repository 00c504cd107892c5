// `specwright ui`: the web UI over this store, on 127.0.0.1:8420 unless told otherwise.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>

#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/scheduler.h"
#include "server/api.h"
#include "llm/config.h"

extern char** environ;

namespace sw::cli {
namespace {

std::atomic<bool> g_stop{false};
void OnStop(int) { g_stop = true; }

/// FindUiDir: --ui-dir, $SPECWRIGHT_UI_DIR, then beside the binary (build/ui, or an installed
/// share/specwright/ui), so `specwright ui` works from any directory.
std::string FindUiDir(const Context& ctx, const std::string& exe) {
  namespace fs = std::filesystem;
  if (ctx.args.Has("ui-dir")) return fs::absolute(ctx.args.Get("ui-dir")).lexically_normal().string();
  if (const char* e = std::getenv("SPECWRIGHT_UI_DIR"); e && *e) return fs::absolute(e).lexically_normal().string();
  fs::path bin = fs::path(exe).parent_path();
  for (const fs::path& c : {bin / "ui", bin / ".." / "share" / "specwright" / "ui"})
    if (FileExists((c / "index.html").string())) return c.lexically_normal().string();
  return "";
}

std::string NewToken() {
  std::string bytes(16, '\0');
  FILE* f = std::fopen("/dev/urandom", "rb");
  if (f) {
    size_t got = std::fread(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    if (got == bytes.size()) {
      static const char* kHex = "0123456789abcdef";
      std::string out;
      for (unsigned char c : bytes) out += kHex[c >> 4], out += kHex[c & 15];
      return out;
    }
  }
  return "";
}

}  // namespace

int CmdUi(Context& ctx) {
  if (!ctx.args.positional.empty()) return Usage(ctx, "ui takes no positional arguments");
  server::HttpOptions ho;
  ho.host = ctx.args.Has("host") ? ctx.args.Get("host") : "127.0.0.1";
  if (ctx.args.Has("port")) {
    ho.port = PortArg(ctx.args.Get("port"));
    if (ho.port < 0) return Usage(ctx, "--port needs a port number 0-65535, got \"" + ctx.args.Get("port") + "\"");
  }
  // --script/--config/--prices are for the runs the scheduler starts (as `scheduler` has them).
  bool scheduling = ctx.args.Has("scheduler");
  for (const char* f : {"script", "config", "prices"})
    if (ctx.args.Has(f) && !scheduling) return Usage(ctx, std::string("--") + f + " needs --scheduler (it is for the runs it fires)");
  auto run_flags = ScheduledRunFlags(ctx);
  if (!run_flags.ok()) return Usage(ctx, run_flags.status().message());
  Env env;
  SW_RETURN_IF_ERROR_EXIT(ctx, OpenStore(ctx, &env));
  server::ApiOptions ao;
  if (store::IsStoreUrl(ctx.store_dir)) ao.store = ctx.store_dir;
  ao.store_dir = StoreFilesDir(ctx);
  std::string dir = ctx.args.Has("dir") ? ctx.args.Get("dir") : ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return Usage(ctx, "--dir \"" + dir + "\" is not a directory");
  ao.work_dir = std::filesystem::canonical(dir, ec).string();
  ao.self_exe = SelfExe();
  ao.ui_dir = FindUiDir(ctx, ao.self_exe);
  ao.token = ctx.args.Get("token");
  bool generated = false;
  if (ao.token.empty() && !server::IsLoopback(ho.host)) {
    // Off loopback, anyone who can reach the port could read every prompt: require a token.
    ao.token = NewToken();
    if (ao.token.empty()) return Fail(ctx, Internal("cannot read /dev/urandom for a token"));
    generated = true;
  }
  for (char** e = environ; e && *e; ++e) ao.child_env.emplace_back(*e);
  ao.builtin_tools = RunToolUris();
  {
    // What the Providers page shows: the endpoints this install knows and the specwright.yaml
    // of --dir adds, whether each has its key (never the key), and the price table.
    auto getenv = llm::ProcessEnv();
    llm::LlmConfig cfg = llm::BuiltinConfig(getenv);
    std::string yaml = ao.work_dir + "/specwright.yaml";
    {
      Status loaded = llm::LoadConfigs(FileExists(yaml) ? yaml : "", getenv, &cfg);
      if (!loaded.ok()) std::fprintf(stderr, "note: %s (the Providers page shows the built-in providers)\n", loaded.message().c_str());
    }
    // An endpoint is shown without credentials: no user:password@, no query string, and any
    // text equal to one of the provider's secrets replaced.
    auto shown_url = [](const llm::ProviderConfig& p) {
      std::string u = p.base_url;
      size_t scheme = u.find("://");
      size_t host = scheme == std::string::npos ? 0 : scheme + 3;
      size_t at = u.find('@', host), slash = u.find('/', host);
      if (at != std::string::npos && (slash == std::string::npos || at < slash)) u.erase(host, at + 1 - host);
      if (size_t q = u.find('?'); q != std::string::npos) u.erase(q);
      std::vector<std::string> secrets = p.secrets;
      if (!p.api_key.empty()) secrets.push_back(p.api_key);
      for (const auto& sec : secrets)
        for (size_t at2; !sec.empty() && (at2 = u.find(sec)) != std::string::npos;) u.replace(at2, sec.size(), "[key]");
      return u;
    };
    for (const auto& [name, p] : cfg.providers) {
      std::string key = !p.key_required ? "not needed" : p.api_key.empty() ? "missing" : "set";
      nlohmann::json row{{"name", name}, {"api", p.api}, {"base_url", shown_url(p)}, {"key", key},
               {"key_from", p.key_where.empty() ? p.api_key_env : p.key_where},
               {"rpm", p.rpm}, {"tpm", p.tpm}, {"max_concurrency", p.max_concurrency}, {"stream", p.stream}};
      // Why the provider cannot be used (a key or an endpoint missing), as a run would say.
      if (auto why = cfg.missing_key.find(name); why != cfg.missing_key.end()) row["problem"] = why->second;
      ao.providers.push_back(std::move(row));
    }
    // The shipped price table always; each price file over it, or a note when it cannot be used.
    auto prices = std::make_shared<llm::PriceTable>();
    if (prices->LoadJson(llm::DefaultPricesJson(), "the shipped price table").ok()) {
      for (const auto& f : cfg.price_files) {
        auto text = ReadFile(f);
        llm::PriceTable trial = *prices;
        Status st = text.ok() ? trial.LoadJson(*text, f) : text.status();
        if (st.ok()) *prices = std::move(trial);
        else std::fprintf(stderr, "note: price file %s left out: %s\n", f.c_str(), st.message().c_str());
      }
      ao.prices = prices;
    }
  }
  server::Api api(env.store.get(), ao);
  auto srv = server::HttpServer::Start(ho, [&api](const server::Request& r) { return api.Handle(r); });
  if (!srv.ok()) return Fail(ctx, srv.status());
  std::string host = ho.host.find(':') != std::string::npos ? "[" + ho.host + "]" : ho.host;
  std::string url = "http://" + host + ":" + std::to_string((*srv)->port()) + "/";
  if (!ao.token.empty()) url += "?token=" + ao.token;
  std::printf("specwright ui: serving %s (store %s)\n", url.c_str(), StorePath(ctx).c_str());
  if (generated) std::printf("the token is required on every request (it was generated for --host %s)\n", ho.host.c_str());
  if (ao.ui_dir.empty()) std::printf("note: the front end is not built (run `make`); the API answers under /api/v1\n");
  std::fflush(stdout);
  struct sigaction sa {};
  sa.sa_handler = OnStop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::thread scheduler;
  // Fires start in --dir (ao.work_dir), as the runs the UI starts do.
  if (scheduling) scheduler = StartSchedulerThread(ctx, env.store.get(), ao.work_dir, *run_flags, &g_stop);
  (*srv)->Wait(&g_stop);
  g_stop = true;
  if (scheduler.joinable()) scheduler.join();
  (*srv)->Stop();
  std::printf("specwright ui: stopped\n");
  return kExitOk;
}

}  // namespace sw::cli
