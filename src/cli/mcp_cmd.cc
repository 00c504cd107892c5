// `specwright mcp`: Specwright as an MCP server for coding agents, on stdio (default) or
// Streamable HTTP (--http, 127.0.0.1 unless told otherwise; any other address needs a token).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "base/fs.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "llm/config.h"
#include "mcp/server.h"
#include "server/http.h"

extern char** environ;

namespace sw::cli {
namespace {

std::atomic<bool> g_mcp_stop{false};
void OnMcpStop(int) { g_mcp_stop = true; }

}  // namespace

int CmdMcp(Context& ctx) {
  namespace fs = std::filesystem;
  if (!ctx.args.positional.empty()) return Usage(ctx, "mcp takes no positional arguments");
  std::string dir = ctx.args.Has("dir") ? ctx.args.Get("dir") : ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Usage(ctx, "--dir \"" + dir + "\" is not a directory");
  mcp::Options o;
  o.project = fs::canonical(dir, ec).string();
  // The store: --store or $SPECWRIGHT_STORE as every command takes it, else the project's own
  // .specwright (the current directory's when --dir is not given, as for every command).
  const char* env_store = std::getenv("SPECWRIGHT_STORE");
  std::string store = ctx.args.Has("store") || (env_store && *env_store) ? ctx.store_dir : o.project + "/.specwright";
  if (store::IsStoreUrl(store)) o.store = store;
  o.store_dir = StoreFilesDirFor(store);
  // What messages name: the folder, or the URL without its password.
  const std::string shown = o.store.empty() ? o.store_dir : store::StoreLocationForDisplay(store);
  o.allow_writes = ctx.args.Has("allow-writes");
  o.self_exe = SelfExe();
  // The runs it starts get our environment, less the HTTP token: they have no use for it.
  for (char** e = environ; e && *e; ++e)
    if (std::strncmp(*e, "SPECWRIGHT_MCP_TOKEN=", 21) != 0) o.child_env.emplace_back(*e);
  {
    // Every provider key this install knows is a secret no answer may carry.
    auto getenv = llm::ProcessEnv();
    llm::LlmConfig cfg = llm::BuiltinConfig(getenv);
    std::string yaml = o.project + "/specwright.yaml";
    (void)llm::LoadConfigs(FileExists(yaml) ? yaml : "", getenv, &cfg);
    for (const auto& [name, p] : cfg.providers) {
      if (!p.api_key.empty()) o.secrets.push_back(p.api_key);
      o.secrets.insert(o.secrets.end(), p.secrets.begin(), p.secrets.end());
    }
  }
  bool http = ctx.args.Has("http");
  if (!http && (ctx.args.Has("host") || ctx.args.Has("port") || ctx.args.Has("token")))
    return Usage(ctx, "--host, --port and --token are for --http");
  mcp::HttpServeOptions ho;
  if (http) {
    ho.host = ctx.args.Has("host") ? ctx.args.Get("host") : "127.0.0.1";
    ho.port = 8421;
    if (ctx.args.Has("port")) {
      ho.port = PortArg(ctx.args.Get("port"));
      if (ho.port < 0) return Usage(ctx, "--port needs a port number 0-65535, got \"" + ctx.args.Get("port") + "\"");
    }
    // The token: $SPECWRIGHT_MCP_TOKEN (preferred: argv is visible to every user in ps), or
    // --token (which wins when both are given).
    const char* env_token = std::getenv("SPECWRIGHT_MCP_TOKEN");
    ho.token = ctx.args.Has("token") ? ctx.args.Get("token") : env_token ? env_token : "";
    if (ho.token.empty() && !server::IsLoopback(ho.host)) {
      // Off loopback anyone who reaches the port could read the project: require a token.
      ho.token = mcp::RandomToken();
      if (ho.token.empty()) return Fail(ctx, Internal("cannot read /dev/urandom for a token"));
      // To stderr: stdout may be a log file others read; the person who started us sees stderr.
      std::fprintf(stderr, "specwright mcp: the token (generated for --host %s) is required as `Authorization: Bearer %s`\n",
                   ho.host.c_str(), ho.token.c_str());
    }
    if (!ho.token.empty()) o.secrets.push_back(ho.token);
  }
  auto server = mcp::NewServer(o);
  ::signal(SIGPIPE, SIG_IGN);
  if (!http) {
    // stdout carries protocol messages only: every word for a person goes to stderr.
    std::fprintf(stderr, "specwright mcp: serving %s on stdio (store %s%s)\n", o.project.c_str(), shown.c_str(),
                 o.allow_writes ? ", writes allowed" : ", read only");
    Status s = mcp::ServeStdio(server.get(), 0, 1);
    if (!s.ok()) return Fail(ctx, s);
    return kExitOk;
  }
  struct sigaction sa {};
  sa.sa_handler = OnMcpStop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  ho.on_listening = [&](int port) {
    std::string host = ho.host.find(':') != std::string::npos ? "[" + ho.host + "]" : ho.host;
    std::printf("specwright mcp: serving %s on http://%s:%d/mcp (store %s%s)\n", o.project.c_str(), host.c_str(), port,
                shown.c_str(), o.allow_writes ? ", writes allowed" : ", read only");
    std::fflush(stdout);
  };
  Status s = mcp::ServeHttp(server.get(), ho, &g_mcp_stop);
  if (!s.ok()) return Fail(ctx, s);
  std::printf("specwright mcp: stopped\n");
  return kExitOk;
}

}  // namespace sw::cli
