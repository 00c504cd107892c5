#include "cli/gc_workspaces.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "base/fs.h"
#include "base/ids.h"
#include "base/strings.h"
#include "tools/git_repo.h"

namespace sw::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

/// WorktreeLine is what a person reads about a work tree record gc leaves alone ("" when
/// there is nothing to say).
std::string WorktreeLine(const GcWorkspace& w, const tools::WorktreeRecord& rec, bool dry_run) {
  std::string left = dry_run ? ": would be left alone" : ": left alone";
  std::string what = "work tree " + w.worktree + " of " + w.repo;
  if (rec.state == "present") return what + " is still at " + w.dir + " (outside the store)" + left;
  if (rec.state == "locked") return what + " is locked (git worktree unlock)" + left;
  if (rec.state == "other")
    return what + " is recorded at " + rec.path + ", not at the run's " + w.dir + " (another work tree of that name)" +
           left;
  return "";
}

bool Ask(const std::string& question) {
  std::fprintf(stderr, "%s [y/N] ", question.c_str());
  std::fflush(stderr);
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  answer = Lower(Trim(answer));
  return answer == "y" || answer == "yes";
}

}  // namespace

Result<std::vector<GcWorkspace>> WorkspacesOf(store::Store* store, const std::vector<std::string>& runs) {
  std::vector<GcWorkspace> out;
  for (const auto& r : runs) {
    GcWorkspace w;
    w.run = r;
    SW_ASSIGN_OR_RETURN(auto events, store->ListEventsOfType(r, "workspace"));
    for (const auto& e : events) {
      json d = json::parse(e.data, nullptr, false);
      if (!d.is_object()) continue;
      w.kind = d.value("kind", "");
      w.dir = d.value("dir", "");
      w.branch = d.value("branch", "");
      if (w.kind == "repo") {
        w.repo = d.value("source", "");
        w.worktree = d.value("worktree", "specwright-" + r);
        if (d.contains("uncommitted") && d["uncommitted"].is_object() && d["uncommitted"].contains("commit") &&
            d["uncommitted"]["commit"].is_string())
          w.snapshot = d["uncommitted"]["commit"].get<std::string>();
      }
    }
    out.push_back(std::move(w));
  }
  return out;
}

GcWorkspace WorkspaceInFolder(const std::string& root, const std::string& run) {
  GcWorkspace w;
  w.run = run;
  if (!ValidateRunId(run).ok()) return w;
  fs::path p = fs::path(root) / run;
  std::error_code ec;
  // Only a linked work tree has a .git file; a folder of its own (copy, empty) has nothing
  // outside it to clean.
  if (!fs::is_directory(p, ec) || fs::is_symlink(p, ec) || !fs::is_regular_file(p / ".git", ec)) return w;
  auto linked = tools::GitRepo::LinkedWorktreeOf(p.string());
  if (!linked.ok()) return w;
  w.kind = "repo";
  w.dir = p.string();
  w.repo = linked->repo;
  w.worktree = linked->name;
  w.branch = linked->branch;
  return w;
}

json GcJson(const store::GcOptions& o, const store::GcReport& rep, const GcGitReport& git) {
  return json{{"dry_run", o.dry_run},
              {"before", o.before},
              {"runs_deleted", rep.runs_deleted},
              {"runs_kept_running", rep.runs_kept_running},
              {"rows_deleted", rep.rows_deleted},
              {"blobs_deleted", rep.blobs_deleted},
              {"blob_bytes_freed", rep.blob_bytes_freed},
              {"workspaces_deleted", git.workspaces_deleted},
              {"workspace_bytes_freed", git.workspace_bytes_freed},
              {"worktrees", git.worktrees},
              {"branches", git.branches},
              {"db_bytes_before", rep.db_bytes_before},
              {"db_bytes_after", rep.db_bytes_after},
              {"vacuumed", rep.vacuumed}};
}

GcGitReport CleanWorkspaces(const std::vector<GcWorkspace>& workspaces, const GcGitOptions& o) {
  GcGitReport rep;
  auto say = [&](const std::string& line) {
    if (o.print) std::printf("%s\n", line.c_str());
  };
  for (const auto& w : workspaces) {
    // The folder: only <store>/workspaces/RUN, whatever the record says.
    bool folder_going = false;  // the work tree's own folder is the one removed here
    if (ValidateRunId(w.run).ok()) {  // an id read back from the database never becomes a path unchecked
      fs::path p = fs::path(o.root) / w.run;
      std::error_code ec;
      if (fs::is_directory(p, ec) && !fs::is_symlink(p, ec)) {
        folder_going = !w.dir.empty() && SamePath(p.string(), w.dir);
        int64_t bytes = 0;
        for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec))
          if (it->is_regular_file(ec) && !it->is_symlink(ec)) bytes += static_cast<int64_t>(it->file_size(ec));
        ec.clear();
        if (!o.dry_run) fs::remove_all(p, ec);
        if (ec) {  // not gone: neither counted nor freed, and its record is not pruned below
          say("run " + w.run + ": removing " + p.string() + ": " + ec.message());
          folder_going = false;
        } else {
          rep.workspace_bytes_freed += bytes;
          ++rep.workspaces_deleted;
        }
      }
    }
    if (w.kind != "repo" || w.repo.empty()) continue;
    json wt{{"run", w.run}, {"repo", w.repo}, {"dir", w.dir}, {"worktree", w.worktree}};
    std::error_code ec;
    if (!fs::is_directory(w.repo, ec)) {
      wt["action"] = "repository_gone";
      say("run " + w.run + ": its repository " + w.repo + " is gone (or moved); nothing to prune there");
      rep.worktrees.push_back(wt);
      continue;
    }
    // A dry run asks the same question the real pass does (through git's own record, wherever
    // the repository keeps it), as if the folder about to be removed were gone already.
    auto rec = o.dry_run ? tools::GitRepo::InspectWorktree(w.repo, w.worktree, w.dir, folder_going)
                         : tools::GitRepo::PruneWorktree(w.repo, w.worktree, w.dir);
    if (!rec.ok()) {
      wt["action"] = "error";
      wt["error"] = rec.status().message();
      say("run " + w.run + ": " + rec.status().message());
    } else {
      wt["action"] = rec->state == "prunable" ? "would_prune" : rec->state;
      if (rec->state == "other") wt["recorded_dir"] = rec->path;
      if (rec->state == "pruned") say("pruned work tree " + w.worktree + " of " + w.repo);
      else if (rec->state == "prunable") say("would prune work tree " + w.worktree + " of " + w.repo);
      else if (std::string line = WorktreeLine(w, *rec, o.dry_run); !line.empty()) say(line);
    }
    rep.worktrees.push_back(wt);

    // The branch: only the run's own specwright/RUN, never one checked out anywhere.
    json br{{"run", w.run}, {"repo", w.repo}, {"branch", w.branch}};
    std::string command = "git -C " + ShellQuote(w.repo, true) + " branch -D " + ShellQuote(w.branch, true);
    if (w.branch != "specwright/" + w.run) {
      br["action"] = "not_the_runs";
      rep.branches.push_back(br);
      continue;
    }
    auto info = tools::GitRepo::InspectBranch(w.repo, w.branch, w.snapshot, w.worktree);
    if (!info.ok()) {
      br["action"] = "error";
      br["error"] = info.status().message();
      say("run " + w.run + ": " + info.status().message());
      rep.branches.push_back(br);
      continue;
    }
    if (!info->exists) {
      br["action"] = "gone";
      rep.branches.push_back(br);
      continue;
    }
    br["unique_commits"] = info->unique_commits;
    br["snapshot_unique"] = info->snapshot_unique;
    if (!w.snapshot.empty()) br["snapshot"] = w.snapshot;
    br["command"] = command;
    // A dry run prunes nothing, so the branch may still be checked out by the run's own work
    // tree: it stays checked out when another work tree has it, or when the run's own record
    // is one the real pass would leave (present, locked, another folder's).
    bool own_stays = rec.ok() && rec->state != "prunable" && rec->state != "pruned" && rec->state != "none";
    if (o.dry_run ? info->checked_out && (info->checked_out_elsewhere || own_stays) : info->checked_out) {
      br["action"] = "checked_out";
      say("branch " + w.branch + " of " + w.repo + " is checked out in a work tree: " +
          (o.dry_run ? "would keep" : "kept"));
      rep.branches.push_back(br);
      continue;
    }
    // The snapshot of the user's uncommitted changes (include_uncommitted) is no work of the
    // run's, but it may be the only copy of those changes left.
    const int n = info->unique_commits;
    const bool snap = info->snapshot_unique;
    std::string snapshot_words = "the snapshot of uncommitted changes in " + w.repo + " taken when the run started";
    std::string loses = n > 0 ? w.branch + " of " + w.repo + " has " + std::to_string(n) +
                                    " commit(s) no other branch has (the run's work" +
                                    (snap ? ", on top of " + snapshot_words : std::string()) +
                                    "): deleting it loses them"
                        : snap ? w.branch + " of " + w.repo + " holds only " + snapshot_words +
                                     " (no commit of the run): deleting it loses that copy"
                               : "";
    std::string holds = n > 0  ? " (" + std::to_string(n) + " commit(s) on no other branch" +
                                    (snap ? ", on top of the snapshot of uncommitted changes" : "") + ")"
                        : snap ? " (holds only the snapshot of uncommitted changes)"
                               : "";
    bool del = o.mode == BranchMode::kDelete;
    if (o.dry_run) {
      br["action"] = del ? "would_delete" : o.mode == BranchMode::kKeep || !o.interactive ? "would_keep" : "would_ask";
      say(std::string(del ? "would delete" : o.mode == BranchMode::kKeep || !o.interactive ? "would keep" : "would ask about") +
          " branch " + w.branch + " of " + w.repo + holds);
      rep.branches.push_back(br);
      continue;
    }
    if (o.mode == BranchMode::kAsk && o.interactive) {
      if (!loses.empty()) std::fprintf(stderr, "%s\n", loses.c_str());
      del = Ask("delete branch " + w.branch + " of " + w.repo + "?");
    } else if (del && !loses.empty()) {
      say(loses);
    }
    if (del) {
      Status s = tools::GitRepo::DeleteBranch(w.repo, w.branch);
      br["action"] = s.ok() ? "deleted" : "error";
      if (!s.ok()) br["error"] = s.message();
      say(s.ok() ? "deleted branch " + w.branch + " of " + w.repo : "run " + w.run + ": " + s.message());
    } else {
      br["action"] = "kept";
      say("kept branch " + w.branch + holds + "; to delete it: " + command);
    }
    rep.branches.push_back(br);
  }
  return rep;
}

}  // namespace sw::cli
