// Helpers shared by the command implementations.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "cli/commands.h"
#include "engine/control.h"
#include "engine/engine.h"
#include "llm/config.h"
#include "llm/prices.h"
#include "llm/provider.h"
#include "notify/notify.h"
#include "store/store.h"
#include "tools/tool.h"
#include "workflow/workflow.h"

namespace sw::cli {

/// Env is what commands act through: the store, providers, prices and tools.
struct Env {
  std::unique_ptr<store::Store> store;
  llm::Registry providers;
  llm::PriceTable prices;
  tools::Registry tools;
  llm::LlmConfig llm;  // the HTTP providers' endpoints (keys resolved, never printed)
  bool scripted = false;
  /// specwright.yaml's notify: targets (user-level, then the project's), read by SetupProviders.
  std::vector<workflow::NotifyTarget> notify_targets;
  /// No webhooks for this command's runs (`replay --offline`, an eval's offline replay: a
  /// reproduction, not a run anyone waits to hear of). Set before ServicesOf.
  bool no_notify = false;
  /// The runs' webhooks (made by ServicesOf). Last member: destroyed first, so the command
  /// waits for deliveries in flight (each bounded) while the store is still open.
  std::unique_ptr<notify::Notifier> notifier;
};

/// ServicesOf is what a run acts through, from the command's environment.
engine::Services ServicesOf(Env& env);

/// SplitKeyValue splits a `--flag k=v` value; the error names the flag and the value.
Status SplitKeyValue(const std::string& flag, const std::string& kv, std::string* k, std::string* v);

/// Fail prints "specwright CMD: message" and maps the status to an exit code.
int Fail(const Context& ctx, const Status& s);
/// Usage prints the problem and the command's usage line; exit code 2.
int Usage(const Context& ctx, const std::string& problem);
/// OpenStore opens the store, creating it when it does not exist (the commands that record
/// runs: run, resume, replay, develop, ui). ctx.store_dir is a directory (SQLite) or a
/// postgresql:// URL (store::OpenStore).
Status OpenStore(const Context& ctx, Env* env);
/// StorePath is what messages name: the store's folder as an absolute path, or its URL without
/// the password (store::StoreLocationForDisplay).
std::string StorePath(const Context& ctx);
/// StoreExists says whether the store is there: its database file, or for a URL a database
/// that holds the store's schema (asked by connecting; nothing is created).
bool StoreExists(const Context& ctx);
/// StoreFilesDir is the folder on this machine for what a store keeps beside its data (run
/// workspaces, the UI's and MCP server's logs and input files, preferences.md): a directory
/// store's own folder; for a URL store the user's state folder, StoreFilesDirFor.
std::string StoreFilesDir(const Context& ctx);
/// StoreFilesDirFor is StoreFilesDir for a location: a directory as an absolute path; a URL's
/// is $XDG_STATE_HOME/specwright/stores/<host_port_db>-<8 hex of the URL without its
/// password> (~/.local/state when $XDG_STATE_HOME is unset or relative; /tmp when $HOME is
/// unset too), one per database so two stores' files never mix.
std::string StoreFilesDirFor(const std::string& location);
/// OpenExistingStore opens the store for a command that reads it (or annotates what it holds:
/// cancel, approve, gc) and never creates one: without it, a NotFound naming the absolute path
/// looked at and how to point elsewhere (--store, $SPECWRIGHT_STORE).
Status OpenExistingStore(const Context& ctx, Env* env);
/// OpenStoreForRun is OpenExistingStore for a command about run `id`: a malformed id is
/// refused first, and a missing store is "no run "id": no store at PATH (…)".
Status OpenStoreForRun(const Context& ctx, Env* env, const std::string& id);
/// NoStoreHere is for listings, where an absent store is no error: it says "no store at PATH —
/// what (next; how to point elsewhere)" (on stdout; with --json, json_empty on stdout and the
/// words on stderr) and returns true; false when the store exists.
bool NoStoreHere(const Context& ctx, const std::string& what, const std::string& next, const std::string& json_empty);
/// AddRunTools registers the tools every run has (builtin://…, the spec tools); RunToolUris
/// lists them, for the checks that name an unknown one before a run starts.
void AddRunTools(tools::Registry* r);
std::vector<std::string> RunToolUris();
/// SetupEnv opens the store (if not yet), registers builtin tools, the HTTP providers
/// (environment, then the user-level config, then config_file or ./specwright.yaml), the
/// price table (shipped, then the
/// config's and prices_file) and, when script is set, the scripted provider.
Status SetupEnv(const Context& ctx, const std::string& script, const std::string& config_file,
                const std::string& prices_file, Env* env);
/// SetupProviders is SetupEnv without the store: for a command that refuses what it cannot do
/// before it creates one (develop, modify, review).
Status SetupProviders(const std::string& script, const std::string& config_file, const std::string& prices_file,
                      Env* env);
/// Preflight checks, before anything runs, that every model the workflow (and its
/// sub-workflows) names has a usable provider, and warns about models without a price.
Status Preflight(const workflow::Workflow& wf, const Env& env);
/// WithModel (a copy of wf whose model nodes all use a model) lives in the workflow layer.
using workflow::WithModel;

class ProgressDisplay;
/// TerminalHuman asks on the controlling terminal; without one, the run waits.
engine::HumanFn TerminalHuman(ProgressDisplay* display);

/// Execute runs (or, with resume_id, resumes) wf with a progress display, Ctrl-C handling,
/// the terminal as the human gate (unless options.human is set), optional live OTLP export
/// (--otlp-endpoint), and prints the summary; returns the exit code.
int Execute(Context& ctx, Env& env, std::shared_ptr<const workflow::Workflow> wf, engine::RunOptions options,
            const std::string& resume_id);

/// SelfExe is this binary's path (/proc/self/exe), for the processes the servers start.
std::string SelfExe();

/// IntArg reads a flag's whole value as a decimal integer in [min, max]; nullopt when it is
/// empty, not a number, has anything after the digits, or is out of range.
std::optional<long long> IntArg(const std::string& value, long long min, long long max);
/// PortArg reads --port: 0-65535 (0: any free port); -1 when it is not a port number.
int PortArg(const std::string& value);

}  // namespace sw::cli

#define SW_RETURN_IF_ERROR_EXIT(ctx, expr)       \
  do {                                           \
    ::sw::Status _s = (expr);                    \
    if (!_s.ok()) return ::sw::cli::Fail(ctx, _s); \
  } while (0)
