// What a run acts through besides models: its workspace (a git repository on the run's
// branch, committed after every node that changed files) and its tools (the services' tools
// plus the tools of the MCP servers the workflow declares, connected for this run).
#include <cstdlib>
#include <mutex>
#include <algorithm>
#include <filesystem>
#include <future>

#include "base/subprocess.h"
#include "base/strings.h"
#include "engine/runner.h"
#include "tools/git_repo.h"

namespace sw::engine {

namespace fs = std::filesystem;

namespace {

/// CopyTree copies a folder's files (not its .git) into dst.
Status CopyTree(const fs::path& src, const fs::path& dst) {
  std::error_code ec;
  fs::create_directories(dst, ec);
  if (ec) return IoError("creating " + dst.string() + ": " + ec.message());
  for (auto it = fs::recursive_directory_iterator(src, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    fs::path rel = p.lexically_relative(src);
    // Not the repository, not a store, and never the copy itself (a workspace under src).
    if (!rel.empty() && (*rel.begin() == ".git" || *rel.begin() == ".specwright" || fs::equivalent(p, dst, ec))) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    fs::path to = dst / rel;
    if (it->is_symlink()) {
      fs::copy_symlink(p, to, ec);
    } else if (it->is_directory()) {
      fs::create_directories(to, ec);
    } else if (it->is_regular_file()) {
      fs::copy_file(p, to, fs::copy_options::overwrite_existing, ec);
    }
    if (ec) return IoError("copying " + p.string() + ": " + ec.message());
  }
  if (ec) return IoError("copying " + src.string() + ": " + ec.message());
  return Status::Ok();
}

/// Expand replaces ${NAME} with the environment's value; an unset variable is an error.
Result<std::string> Expand(const std::string& s, const std::string& what) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 2, "${") == 0) {
      size_t end = s.find('}', i + 2);
      if (end == std::string::npos) return InvalidInput(what + ": unterminated ${");
      std::string name = s.substr(i + 2, end - i - 2);
      const char* v = std::getenv(name.c_str());
      if (!v) return InvalidInput(what + " uses ${" + name + "}, which is not set");
      out += v;
      i = end + 1;
    } else {
      out += s[i++];
    }
  }
  return out;
}

/// UsedServers are the MCP servers some node of the workflow calls.
std::set<std::string> UsedServers(const workflow::Workflow& wf) {
  std::set<std::string> used;
  auto add = [&](const std::string& uri) {
    if (uri.starts_with("mcp://")) used.insert(uri.substr(6, uri.find('/', 6) - 6));
  };
  for (const auto& n : wf.nodes) {
    for (const auto& t : n.tools) add(t);
    add(n.tool);
  }
  return used;
}

}  // namespace

/// SeedFromReplayed gives a replay's workspace the files its reused nodes left: the stored
/// run's tree where it started (for a replay, the files it was seeded with), advanced through
/// the checkpoints of reused nodes — its own and its sub-runs', in commit order — up to the
/// first checkpoint of a node that runs live (what came after belongs to the live run).
Status Runner::SeedFromReplayed(RunWorkspace* ws) {
  const std::string& src = options_.reuse_from;
  SW_ASSIGN_OR_RETURN(auto wev, services_.store->ListEventsOfType(src, "workspace"));
  std::string src_dir, seed;
  for (const auto& e : wev) {
    json d = json::parse(e.data, nullptr, false);
    if (!d.is_object()) continue;
    if (d.contains("dir") && d["dir"].is_string()) src_dir = d["dir"].get<std::string>();
    if (d.contains("commit") && d["commit"].is_string()) seed = d["commit"].get<std::string>();
  }
  if (src_dir.empty()) return Status::Ok();  // the stored run had no workspace
  // Checkpoints of the run and of its sub-runs (PARENT.NODE...), which share its workspace;
  // a sub-run's belong to the workflow node that started it. seq orders them store-wide.
  struct Cp {
    int64_t seq;
    std::string node;
    int iteration;
    std::string commit;
    bool succeeded;
  };
  std::vector<Cp> cps;
  auto collect = [&](const std::string& run, const std::string& as_node) -> Status {
    SW_ASSIGN_OR_RETURN(auto ev, services_.store->ListEventsOfType(run, "checkpoint"));
    for (const auto& e : ev) {
      json d = json::parse(e.data, nullptr, false);
      if (!d.is_object() || !d.contains("commit") || !d["commit"].is_string()) continue;
      cps.push_back({e.seq, as_node.empty() ? e.node : as_node, as_node.empty() ? e.iteration : 0,
                     d["commit"].get<std::string>(), d.value("status", "") == "succeeded"});
    }
    return Status::Ok();
  };
  SW_RETURN_IF_ERROR(collect(src, ""));
  SW_ASSIGN_OR_RETURN(auto runs, services_.store->ListSubRuns(src));
  for (const auto& r : runs) {
    if (!StartsWith(r.id, src + ".")) continue;  // sub-run ids are PARENT.NODE[.iN][.mK]
    std::string rest = r.id.substr(src.size() + 1);
    SW_RETURN_IF_ERROR(collect(r.id, rest.substr(0, rest.find('.'))));
  }
  std::sort(cps.begin(), cps.end(), [](const Cp& a, const Cp& b) { return a.seq < b.seq; });
  for (const auto& cp : cps) {
    auto it = options_.reuse.find(cp.node);
    bool reused = it != options_.reuse.end() && cp.iteration <= it->second;
    if (!reused) break;
    // A reused node's failed attempts left changes its later success replaced: skip them.
    if (cp.succeeded) seed = cp.commit;
  }
  auto warn = [&](const std::string& msg) {
    Warn(-1, -1, 0, msg);
    return Status::Ok();
  };
  if (seed.empty()) return Status::Ok();
  auto from = tools::GitRepo::Open(src_dir);
  if (!from.ok())
    return warn("the workspace of run " + src + " (" + src_dir + ") is gone: the replay starts without the files its "
                "reused nodes wrote");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(ws->dir, ec))
    if (entry.path().filename() != ".git") fs::remove_all(entry.path(), ec);
  Status exported = (*from)->ExportTree(seed, ws->dir);
  if (!exported.ok())
    return warn("the files of run " + src + " at " + seed.substr(0, 12) + " could not be restored (" +
                exported.message() + "): the replay starts without them");
  SW_ASSIGN_OR_RETURN(std::string commit,
                      ws->repo->CommitAll("specwright: the files of run " + src + " at " + seed.substr(0, 12) +
                                          " (its reused nodes' work)"));
  Emit("workspace_seeded", -1, -1, 0, [&] { return json{{"from", src}, {"source_commit", seed}, {"commit", commit}}; });
  return Status::Ok();
}

namespace {
/// ProcessLedgerOf is where the run's tools record the process groups they start: inside the
/// repository's own directory, so it is never part of the work tree a checkpoint commits.
std::string ProcessLedgerOf(const tools::GitRepo& repo) { return repo.GitDir() + "specwright-processes"; }
}  // namespace

Result<std::string> Runner::UncommittedStart(const workflow::WorkspaceDecl& decl, const tools::Identity& author,
                                             json* record) {
  SW_ASSIGN_OR_RETURN(auto user, tools::GitRepo::Open(decl.path));
  user->SetAuthor(author);
  SW_ASSIGN_OR_RETURN(json changes, user->Status());
  if (changes.empty()) return std::string();
  std::vector<std::string> shown;
  for (const auto& c : changes) {
    if (shown.size() == kUncommittedShown) break;
    shown.push_back(c.value("path", "") + " (" + c.value("status", "") + ")");
  }
  std::string list = Join(shown, ", ") + (changes.size() > shown.size() ? ", ..." : "");
  *record = json{{"files", changes.size()}, {"included", decl.include_uncommitted}};
  if (!decl.include_uncommitted) {
    Warn(-1, -1, 0, std::to_string(changes.size()) + " uncommitted change(s) in " + decl.path +
                        " are not in the workspace, which starts from HEAD: " + list +
                        ". Commit them, or declare workspace: {repo: DIR, include_uncommitted: true} to take them in");
    return std::string();
  }
  // HEAD plus the work tree as a commit of its own, on no ref: the run's branch starts there,
  // so later diffs show only the run's own changes. The user's index and files stay as they are.
  SW_ASSIGN_OR_RETURN(std::string commit, user->SnapshotWorkTree("specwright: uncommitted changes from " + decl.path +
                                                                "\n\nRun: " + run_id_ + "\nFiles: " + list));
  (*record)["commit"] = commit;
  return commit;
}

Status Runner::SetUpRun(const std::vector<store::Event>* resumed_events) {
  if (services_.tools) run_tools_ = *services_.tools;
  // The workspace.
  std::string dir = options_.workspace_dir;
  bool inherited = !dir.empty();
  if (!inherited && resumed_events) {
    // The run keeps the workspace it started with, wherever the store is opened from now.
    for (const auto& e : *resumed_events)
      if (e.type == "workspace") {
        json d = json::parse(e.data, nullptr, false);
        if (d.is_object()) dir = d.value("dir", "");
      }
  }
  if (dir.empty() && !inherited && wf_->workspace.kind != workflow::WorkspaceKind::kNone) {
    std::string root = options_.workspace_root.empty() ? (fs::temp_directory_path() / "specwright-workspaces").string()
                                                       : options_.workspace_root;
    dir = (fs::path(root) / run_id_).string();
  }
  if (!dir.empty()) {
    auto ws = std::make_unique<RunWorkspace>();
    ws->dir = dir;
    std::string branch = "specwright/" + run_id_;
    // Who the run's commits name: `workspace: {author}` (a sub-run: its parent's), else the
    // repository's configured identity (tools::ResolveIdentities).
    tools::Identity author = inherited ? tools::Identity{options_.workspace_author_name, options_.workspace_author_email}
                                       : tools::Identity{wf_->workspace.author_name, wf_->workspace.author_email};
    if (inherited || resumed_events) {
      if (!fs::is_directory(dir)) return NotFound("the workspace of run " + run_id_ + " is gone: " + dir);
      SW_ASSIGN_OR_RETURN(ws->repo, tools::GitRepo::Open(dir));
      ws->repo->SetAuthor(author);
    }
    if (resumed_events) {
      // What the dead run's tools left running dies first (their guards normally saw to it,
      // but a guard can be killed too), so nothing writes into the files a resume resets or
      // the resumed nodes read.
      auto killed = KillRecordedGroups(ProcessLedgerOf(*ws->repo));
      if (!killed.ok()) return Failed("cannot resume run " + run_id_ + ": " + killed.status().message());
      if (*killed > 0) {
        Warn(-1, -1, 0, "killed " + std::to_string(*killed) + " process(es) the interrupted run's tools left running");
      }
    }
    if (resumed_events && !inherited) {
      // Start again from the last checkpoint of a node that succeeded: the changes of
      // interrupted, failed or cancelled nodes go, since those nodes run again.
      std::string commit;
      for (const auto& e : *resumed_events) {
        if (e.type != "workspace" && e.type != "checkpoint") continue;
        json d = json::parse(e.data, nullptr, false);
        if (!d.is_object() || !d.contains("commit") || !d["commit"].is_string()) continue;
        if (e.type == "checkpoint" && d.value("status", "") != "succeeded") continue;
        commit = d["commit"].get<std::string>();
      }
      if (!commit.empty()) {
        SW_RETURN_IF_ERROR(ws->repo->ResetHard(commit));
        Emit("workspace_reset", -1, -1, 0, [&] { return json{{"commit", commit}}; });
      }
    } else if (!inherited) {
      const auto& decl = wf_->workspace;
      std::error_code ec;
      if (fs::exists(dir)) return InvalidInput("workspace " + dir + " already exists");
      json uncommitted;
      size_t warned = warnings_.size();  // what setting up warns about is told at once, below
      if (decl.kind == workflow::WorkspaceKind::kRepo) {
        SW_ASSIGN_OR_RETURN(std::string start, UncommittedStart(decl, author, &uncommitted));
        SW_ASSIGN_OR_RETURN(ws->repo, tools::GitRepo::AddWorktree(decl.path, dir, "specwright-" + run_id_, branch, start));
        ws->repo->SetAuthor(author);
      } else {
        if (decl.kind == workflow::WorkspaceKind::kCopy) SW_RETURN_IF_ERROR(CopyTree(decl.path, dir));
        fs::create_directories(dir, ec);
        SW_ASSIGN_OR_RETURN(ws->repo, tools::GitRepo::Init(dir, branch));
        ws->repo->SetAuthor(author);
        std::string what = decl.kind == workflow::WorkspaceKind::kCopy ? "a copy of " + decl.path : "empty";
        SW_RETURN_IF_ERROR(ws->repo->CommitAll("specwright: workspace of run " + run_id_ + " (" + what + ")").status());
      }
      if (!options_.reuse_from.empty()) SW_RETURN_IF_ERROR(SeedFromReplayed(ws.get()));
      SW_ASSIGN_OR_RETURN(std::string head, ws->repo->Head());
      tools::CommitIdentities who = ws->repo->Identities();
      auto person = [](const tools::Identity& id) { return id.name + " <" + id.email + ">"; };
      Emit("workspace", -1, -1, 0, [&] {
        json d{{"dir", dir}, {"branch", branch}, {"commit", head}, {"source", decl.path},
               {"kind", decl.kind == workflow::WorkspaceKind::kRepo   ? "repo"
                        : decl.kind == workflow::WorkspaceKind::kCopy ? "copy"
                                                                      : "empty"},
               {"author", person(who.author)}, {"author_from", who.author_from},
               {"committer", person(who.committer)}, {"committer_from", who.committer_from}};
        if (decl.kind == workflow::WorkspaceKind::kRepo) d["worktree"] = "specwright-" + run_id_;
        if (!uncommitted.is_null()) d["uncommitted"] = uncommitted;
        return d;
      });
      // A person sees where the run works and whom its commits name as the run starts, with
      // what setting up warned about (the end-of-run summary repeats the warnings): a live
      // "notice", printed as it is, stored nowhere (the workspace event above holds it all).
      if (options_.listener) {
        std::string where = decl.kind == workflow::WorkspaceKind::kRepo   ? "git worktree of " + decl.path
                            : decl.kind == workflow::WorkspaceKind::kCopy ? dir + " (a copy of " + decl.path + ")"
                                                                          : dir + " (empty)";
        std::string by = "commits by " + person(who.author) + " (from " + who.author_from + ")";
        if (person(who.author) != person(who.committer) || who.author_from != who.committer_from)
          by += ", committed by " + person(who.committer) + " (from " + who.committer_from + ")";
        LiveEvent le;
        le.type = "notice";
        le.message = "workspace: " + where + " on branch " + branch + ", " + by;
        for (size_t i = warned; i < warnings_.size(); ++i) le.message += "\nwarning: " + warnings_[i];
        options_.listener->OnEvent(le, Snapshot());
      }
    }
    ws->process_ledger = ProcessLedgerOf(*ws->repo);
    workspace_ = std::move(ws);
  }
  // The MCP servers some node calls, connected in parallel (each may take a while to start).
  std::set<std::string> used = UsedServers(*wf_);
  std::vector<std::future<Result<std::unique_ptr<tools::McpClient>>>> pending;
  for (const auto& decl : wf_->mcp_servers) {
    if (!used.count(decl.name)) continue;
    tools::McpServerSpec spec;
    spec.name = decl.name;
    spec.command = decl.command;
    spec.args = decl.args;
    spec.url = decl.url;
    spec.timeout = decl.timeout;
    spec.cwd = workspace_ ? workspace_->dir : "";
    for (const auto& [k, v] : decl.env) {
      SW_ASSIGN_OR_RETURN(std::string val, Expand(v, "mcp_servers." + decl.name + ".env." + k));
      spec.env.push_back(k + "=" + val);
    }
    for (const auto& [k, v] : decl.headers) {
      SW_ASSIGN_OR_RETURN(std::string val, Expand(v, "mcp_servers." + decl.name + ".headers." + k));
      spec.headers.emplace_back(k, val);
    }
    pending.push_back(std::async(std::launch::async, [spec] { return tools::McpClient::Connect(spec); }));
  }
  Status first_error;
  for (auto& f : pending) {
    auto c = f.get();
    if (!c.ok()) {
      if (first_error.ok()) first_error = c.status();
      continue;
    }
    Status s = tools::AddMcpTools(c->get(), &run_tools_);
    if (!s.ok() && first_error.ok()) first_error = s;
    mcp_.push_back(std::move(c).value());
  }
  return first_error;
}

void Runner::ShutDownRun() {
  // Tools still running on the pool may use the clients; the pool is drained first.
  pool_.reset();
  mcp_.clear();
}

tools::CallContext Runner::ToolContext(int n, int u) {
  tools::CallContext ctx;
  ctx.run_id = run_id_;
  ctx.node_id = wf_->nodes[n].id;
  ctx.workspace = workspace_ ? workspace_->dir : "";
  ctx.cancel = nodes_[n].units[u].cancel;
  ctx.shell.allow = wf_->shell.allow;
  ctx.shell.timeout = wf_->shell.timeout;
  ctx.shell.max_output = static_cast<size_t>(wf_->shell.max_output);
  ctx.process_ledger = workspace_ ? workspace_->process_ledger : "";
  ctx.iteration = nodes_[n].iteration;
  ctx.item = nodes_[n].is_map ? u : -1;
  ctx.attempt = nodes_[n].units[u].attempt;
  return ctx;
}

void Runner::Checkpoint(int n) {
  const auto& def = wf_->nodes[n];
  if (!workspace_ || (def.kind != workflow::NodeKind::kAgent && def.kind != workflow::NodeKind::kTool)) return;
  const NodeState& s = nodes_[n];
  int attempt = s.units.empty() ? 0 : s.units[0].attempt;
  std::string message = "specwright: run " + run_id_ + " node " + def.id +
                        (s.iteration > 0 ? " iteration " + std::to_string(s.iteration) : "") + " attempt " +
                        std::to_string(attempt) + " (" + StatusName(s.status) + ")";
  // A sub-run commits to its parent's repository through a handle of its own: one index
  // writer at a time.
  static std::mutex commit_mu;
  std::lock_guard<std::mutex> lock(commit_mu);
  auto parent = workspace_->repo->Head();
  auto commit = workspace_->repo->CommitAll(message);
  if (!commit.ok()) {
    Warn(n, -1, attempt, "checkpoint of node \"" + def.id + "\": " + commit.status().message());
    return;
  }
  if (commit->empty()) return;  // the node changed no file
  std::vector<std::string> files;
  if (parent.ok()) {
    auto changed = workspace_->repo->ChangedFiles(*parent, *commit);
    if (changed.ok()) files = *changed;
  }
  Emit("checkpoint", n, -1, attempt, [&] {
    return json{{"commit", *commit}, {"parent", parent.ok() ? *parent : ""}, {"files", files}, {"message", message},
                {"status", StatusName(s.status)}};
  });
}

}  // namespace sw::engine
