// api: the web UI's REST API under /api/v1, its live event stream and the front end's files.
// Every answer is built by the functions the CLI uses (observe, engine/control, store); runs
// the UI starts (resume after an approval, replay) are the CLI itself, started detached.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/http.h"
#include "llm/prices.h"
#include "store/store.h"

namespace sw::server {

struct ApiOptions {
  /// The store as the runs the UI starts take it (their SPECWRIGHT_STORE): a directory or a
  /// postgresql:// URL, password and all (never shown: /health names it without the password); "":
  /// store_dir.
  std::string store;
  /// absolute; the folder of the UI's own files (ui/logs, ui/prompts, ui/inputs): a directory
  /// store's own, a URL store's state folder on this machine (cli::StoreFilesDir).
  std::string store_dir;
  std::string work_dir;   // absolute; workflows are listed and read only below it (or as recorded by runs)
  std::string ui_dir;     // the built front end (index.html and assets/); "" when not built
  std::string token;      // required on every request when set
  std::string self_exe;   // this binary: `resume` after an approval, `replay`
  std::vector<std::string> child_env;  // environment of started runs ("NAME=value")
  double stream_poll = 0.25;           // seconds between store reads of an event stream
  /// The tool URIs runs have (builtins and spec tools): the editor's checks name unknown ones.
  std::vector<std::string> builtin_tools;
  /// The configured providers as the Providers page shows them (no secret in it: whether a
  /// key is set and where it comes from), and the price table, for GET /providers.
  nlohmann::json providers = nlohmann::json::array();
  std::shared_ptr<const llm::PriceTable> prices;
};

/// StartSpecwright runs `self_exe ARGS` detached (its own session, outliving us) in cwd with
/// env and SPECWRIGHT_STORE set to store (a directory or a URL: in the environment, never in
/// argv, which `ps` shows), its output in files_dir/LOGS/log_name.log: how the web UI and the
/// MCP server start runs, resumes and replays as processes of their own.
Result<pid_t> StartSpecwright(const std::string& self_exe, const std::vector<std::string>& args,
                              std::vector<std::string> env, const std::string& store, const std::string& files_dir,
                              const std::string& cwd, const std::string& logs, const std::string& log_name);

class Api {
 public:
  Api(store::Store* st, ApiOptions options) : st_(st), options_(std::move(options)) {}
  Response Handle(const Request& req);

 private:
  Response Route(const Request& req);
  Response Approve(const std::string& run_id, const Request& req);
  /// Resume continues a failed, cancelled, abandoned or waiting run (`specwright resume RUN
  /// --wait`, started detached), unless a process runs it or it is a develop's step.
  Response Resume(const std::string& run_id);
  /// ContinueRun is what follows a decision or a Resume: nothing when a process runs the run,
  /// the develop command's hint for a process step, else one detached resume of the top run
  /// (with waiting_only, only when that run waits at a gate).
  Response ContinueRun(const store::RunRecord& run, nlohmann::json out, bool waiting_only);
  Response Replay(const std::string& run_id, const Request& req);
  Response Workflow(const std::string& path, const std::string* text);
  /// SaveWorkflow writes the editor's text to a .yaml file under work_dir (never elsewhere,
  /// never over a change made on disk since the editor read the file: see its version).
  Response SaveWorkflow(const Request& req);
  /// RunWorkflow starts `specwright run FILE --wait` with the form's inputs as its own process.
  Response RunWorkflow(const Request& req);
  /// EditablePath resolves a path the editor names (relative to work_dir, or absolute inside
  /// it) by InsideTree; for_write: it may not exist yet.
  Result<std::string> EditablePath(const std::string& path, bool for_write);
  Response Events(const std::string& run_id, const Request& req);
  /// StartCli runs `specwright ARGS` detached in work_dir with the store's environment.
  Result<pid_t> StartCli(const std::string& run_id, const std::vector<std::string>& args, const std::string& log_name);
  Result<pid_t> StartCliLocked(const std::string& run_id, const std::vector<std::string>& args, const std::string& log_name);
  /// ReapChildren collects the started processes that ended, keeping their exit status for
  /// ExitOf (whichever request reaps a child, the one waiting on it still learns how it ended).
  void ReapChildren();
  std::optional<int> ExitOf(pid_t pid);
  /// AllowedWorkflow resolves path and says whether the UI may read it (under work_dir, or
  /// the workflow file of a recorded run).
  Result<std::string> AllowedWorkflow(const std::string& path);

  store::Store* st_;
  ApiOptions options_;
  std::mutex children_mu_;
  /// Runs started by the server (run id -> process), reaped as they end; one resume per run.
  std::vector<std::pair<std::string, pid_t>> children_;
  std::map<pid_t, int> exited_;  // pid -> wait status of started processes that ended
  /// One save at a time: the version check and the write are one step, so two tabs naming
  /// the same version cannot both win.
  std::mutex save_mu_;
  /// StartedOrError waits until run_id is recorded as running by pid (or, with fresh, exists
  /// at all) or pid exits, which is then an error carrying the CLI's own message.
  Result<bool> StartedOrError(const std::string& run_id, pid_t pid, const std::string& log_name, bool fresh);
};

/// StaticFile answers a GET for the front end: the file under ui_dir, or index.html for
/// any path without an extension (client-side routes); never a path outside ui_dir.
Response StaticFile(const std::string& ui_dir, const std::string& path);

}  // namespace sw::server
