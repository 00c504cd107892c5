// The tools that change something, registered only with `specwright mcp --allow-writes`:
// run_start (a workflow file of the project as its own `specwright run ... --wait` process,
// as the web UI starts one) and gate_approve (answer a waiting human gate, as `specwright
// approve` does, then continue the run the way the web UI does).
#include <sys/types.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <thread>

#include "base/fs.h"
#include "base/strings.h"
#include "base/subprocess.h"
#include "engine/control.h"
#include "mcp/server.h"
#include "server/api.h"
#include "store/store.h"
#include "tools/sandbox.h"

namespace sw::mcp {
namespace {

namespace fs = std::filesystem;

json Schema(json props, std::vector<std::string> required = {}) {
  json s{{"type", "object"}, {"properties", std::move(props)}, {"additionalProperties", false}};
  if (!required.empty()) s["required"] = required;
  return s;
}

/// Children are the processes this server started; each call reaps the ones that ended.
struct Children {
  std::mutex mu;
  std::vector<pid_t> pids;
  void Reap() {
    std::lock_guard<std::mutex> l(mu);
    std::erase_if(pids, [](pid_t p) { return ReapIfExited(p); });
  }
  void Add(pid_t p) {
    std::lock_guard<std::mutex> l(mu);
    pids.push_back(p);
  }
};

Children& Started() {
  static Children c;
  return c;
}

/// ProjectFile resolves a path the caller names (relative to the project) inside it.
Result<std::string> ProjectFile(const Options& o, const std::string& arg, const std::string& path) {
  auto abs = tools::ResolveInWorkspace(o.project, path, false);
  if (!abs.ok()) {
    std::string why = abs.status().message();
    for (size_t at; (at = why.find("the workspace")) != std::string::npos;) why.replace(at, 13, "the project");
    return InvalidInput("argument " + Quote(arg) + ": " + why);
  }
  std::error_code ec;
  if (!fs::is_regular_file(*abs, ec)) return NotFound("argument " + Quote(arg) + ": no file " + Quote(path) + " in the project");
  return *abs;
}

Result<pid_t> StartCli(const Options& o, const std::vector<std::string>& args, const std::string& log_name) {
  const std::string& store = o.store.empty() ? o.store_dir : o.store;
  SW_ASSIGN_OR_RETURN(pid_t pid, server::StartSpecwright(o.self_exe, args, o.child_env, store, o.store_dir, o.project,
                                                         "mcp/logs", log_name));
  Started().Add(pid);
  return pid;
}

/// Recorded waits until run_id is in the store (fresh) or running again in pid, or the
/// process ended — then an error with the end of its log (the CLI's own words).
Status Recorded(const Options& o, store::Store* st, const std::string& run_id, pid_t pid, const std::string& log_name,
                bool fresh) {
  for (int i = 0; i < 300; ++i) {
    auto run = st->GetRun(run_id);
    if (run.ok() && *run && (fresh || (*run)->pid == pid)) return Status::Ok();
    if (ReapIfExited(pid)) {
      auto run2 = st->GetRun(run_id);
      if (run2.ok() && *run2 && fresh) return Status::Ok();
      auto log = ReadFile(o.store_dir + "/mcp/logs/" + log_name + ".log");
      std::string tail = log.ok() ? Trim(*log) : "";
      if (tail.size() > 2000) tail = "..." + tail.substr(tail.size() - 2000);
      return Failed("`specwright " + std::string(fresh ? "run" : "resume") + "` ended at once: " + (tail.empty() ? "(no output)" : tail));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Ok();  // still starting after 15 s: it is on its way
}

}  // namespace

void AddWriteTools(Server* s) {
  const Options o = s->options();

  s->AddTool({"run_start", "Start a workflow run",
              "Start a workflow file of this project as a run of its own (`specwright run FILE --wait`: a human gate "
              "waits for gate_approve). Returns the run id at once; follow it with run_status.",
              Schema({{"workflow", {{"type", "string"}, {"description", "the workflow file, relative to the project (e.g. flows/review.yaml)"}}},
                      {"inputs", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}, {"description", "the workflow's inputs, name -> value"}}},
                      {"script", {{"type", "string"}, {"description", "a script file for scripted/... models, relative to the project"}}},
                      {"model", {{"type", "string"}, {"description", "use this provider/model for every model node"}}},
                      {"no_cache", {{"type", "boolean"}, {"description", "make every model call afresh"}}}},
                     {"workflow"}),
              false, [o](const json& args) -> Result<ToolAnswer> {
                Started().Reap();
                SW_ASSIGN_OR_RETURN(std::string wf, ProjectFile(o, "workflow", args["workflow"].get<std::string>()));
                std::string ext = fs::path(wf).extension().string();
                if (ext != ".yaml" && ext != ".yml") return InvalidInput("argument \"workflow\": " + Quote(args["workflow"].get<std::string>()) + " is not a .yaml workflow file");
                SW_ASSIGN_OR_RETURN(auto st, OpenStoreFor(o, true));
                std::string id = store::UnusedRunId(st.get(), static_cast<double>(std::time(nullptr)));
                std::vector<std::string> cli{"run", wf, "--run-id", id, "--wait"};
                if (args.contains("script")) {
                  SW_ASSIGN_OR_RETURN(std::string script, ProjectFile(o, "script", args["script"].get<std::string>()));
                  cli.insert(cli.end(), {"--script", script});
                }
                if (args.contains("model")) cli.insert(cli.end(), {"--model", args["model"].get<std::string>()});
                if (args.value("no_cache", false)) cli.push_back("--no-cache");
                // Input values go in files only this user reads (not argv, which `ps` shows).
                std::string dir = o.store_dir + "/mcp/inputs/" + id;
                std::error_code ec;
                int i = 0;
                if (args.contains("inputs")) {
                  for (auto it = args["inputs"].begin(); it != args["inputs"].end(); ++it, ++i) {
                    const std::string& key = it.key();
                    if (key.empty() || key.find('=') != std::string::npos || key.find('\0') != std::string::npos)
                      return InvalidInput("argument \"inputs\": " + Quote(key) + " is not an input name");
                    if (i == 0) {
                      SW_RETURN_IF_ERROR(MakeDirs(dir));
                      fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
                    }
                    std::string file = dir + "/" + std::to_string(i);
                    SW_RETURN_IF_ERROR(WriteFileAtomic(file, it.value().get<std::string>()));
                    cli.insert(cli.end(), {"--input-file", key + "=" + file});
                  }
                }
                auto pid = StartCli(o, cli, id);
                if (!pid.ok()) {
                  fs::remove_all(dir, ec);
                  return pid.status();
                }
                Status rec = Recorded(o, st.get(), id, *pid, id, true);
                fs::remove_all(dir, ec);
                SW_RETURN_IF_ERROR(rec);
                ToolAnswer a;
                a.structured = {{"run_id", id}, {"pid", *pid}, {"log", o.store_dir + "/mcp/logs/" + id + ".log"}};
                a.text = "started run " + id + " (pid " + std::to_string(*pid) + ") of " + args["workflow"].get<std::string>() +
                         "; run_status with run " + id + " follows it\n";
                return a;
              }});

  s->AddTool({"gate_approve", "Answer a human gate",
              "Approve or reject a human gate a run waits at, with a comment (`specwright approve`); the run then "
              "continues: its waiting process picks the decision up, or it is resumed.",
              Schema({{"run", {{"type", "string"}, {"description", "the waiting run's id (or a unique prefix)"}}},
                      {"node", {{"type", "string"}, {"description", "the gate node's id"}}},
                      {"approve", {{"type", "boolean"}, {"description", "true approves (default), false rejects"}}},
                      {"comment", {{"type", "string"}, {"description", "a comment, or the answer of an input gate"}}}},
                     {"run", "node"}),
              false, [o](const json& args) -> Result<ToolAnswer> {
                Started().Reap();
                SW_ASSIGN_OR_RETURN(auto st, OpenStoreFor(o, false));
                SW_ASSIGN_OR_RETURN(std::string id, st->ResolveRunId(args["run"].get<std::string>()));
                SW_ASSIGN_OR_RETURN(auto rec, st->GetRun(id));
                if (!rec) return NotFound("no run " + id);
                engine::Decision d;
                d.node = args["node"].get<std::string>();
                d.approve = args.value("approve", true);
                d.text = args.value("comment", "");
                d.by = "mcp";
                SW_ASSIGN_OR_RETURN(auto answer, engine::Decide(st.get(), id, d));
                ToolAnswer a;
                a.structured = {{"run", id}, {"node", d.node}, {"decision", answer.decision}};
                a.text = answer.decision + " \"" + d.node + "\" of run " + id + "; ";
                store::RunRecord root = *rec;
                for (int depth = 0; !root.parent_id.empty() && depth < 64; ++depth) {
                  auto parent = st->GetRun(root.parent_id);
                  if (!parent.ok() || !*parent) break;
                  root = **parent;
                }
                if (store::ProcessAlive(*rec) || store::ProcessAlive(root)) {
                  a.structured["continued"] = "running process";
                  a.text += "its running process picks the decision up\n";
                } else if (std::string step = engine::ProcessStepOf(root); !step.empty()) {
                  a.structured["continued"] = step;
                  a.text += "next: " + step + "\n";
                } else if (root.status != "waiting") {
                  a.structured["continued"] = "not running (" + root.status + ")";
                  a.text += "the run is " + root.status + "; `specwright resume " + root.id + "` continues it\n";
                } else {
                  std::string log = root.id + "-resume-" + std::to_string(std::time(nullptr));
                  SW_ASSIGN_OR_RETURN(pid_t pid, StartCli(o, {"resume", root.id, "--wait"}, log));
                  SW_RETURN_IF_ERROR(Recorded(o, st.get(), root.id, pid, log, false));
                  a.structured["continued"] = "resumed";
                  a.structured["pid"] = pid;
                  a.text += "resumed run " + root.id + " (pid " + std::to_string(pid) + ")\n";
                }
                return a;
              }});
}

}  // namespace sw::mcp
