#include "cli/gc_workspaces.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "base/ids.h"
#include "base/strings.h"
#include "tools/git_repo.h"

namespace sw::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

/// ShellWord quotes a path for a command line the user may paste.
std::string ShellWord(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./+:@") ==
                        std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
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
      }
    }
    out.push_back(std::move(w));
  }
  return out;
}

GcGitReport CleanWorkspaces(const std::vector<GcWorkspace>& workspaces, const GcGitOptions& o) {
  GcGitReport rep;
  auto say = [&](const std::string& line) {
    if (o.print) std::printf("%s\n", line.c_str());
  };
  for (const auto& w : workspaces) {
    // The folder: only <store>/workspaces/RUN, whatever the record says.
    if (ValidateRunId(w.run).ok()) {  // an id read back from the database never becomes a path unchecked
      fs::path p = fs::path(o.root) / w.run;
      std::error_code ec;
      if (fs::is_directory(p, ec) && !fs::is_symlink(p, ec)) {
        for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec))
          if (it->is_regular_file(ec) && !it->is_symlink(ec))
            rep.workspace_bytes_freed += static_cast<int64_t>(it->file_size(ec));
        if (!o.dry_run) fs::remove_all(p, ec);
        ++rep.workspaces_deleted;
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
    if (o.dry_run) {
      bool recorded = fs::exists(fs::path(w.repo) / ".git" / "worktrees" / w.worktree, ec);
      wt["action"] = recorded ? "would_prune" : "none";
      if (recorded) say("would prune work tree " + w.worktree + " of " + w.repo);
    } else {
      auto pruned = tools::GitRepo::PruneWorktree(w.repo, w.worktree, w.dir);
      if (!pruned.ok()) {
        wt["action"] = "error";
        wt["error"] = pruned.status().message();
        say("run " + w.run + ": " + pruned.status().message());
      } else {
        wt["action"] = *pruned;
        if (*pruned == "pruned") say("pruned work tree " + w.worktree + " of " + w.repo);
        else if (*pruned == "present")
          say("work tree " + w.worktree + " of " + w.repo + " is still at " + w.dir + " (outside the store): left alone");
        else if (*pruned == "locked")
          say("work tree " + w.worktree + " of " + w.repo + " is locked (git worktree unlock): left alone");
      }
    }
    rep.worktrees.push_back(wt);

    // The branch: only the run's own specwright/RUN, never one checked out anywhere.
    json br{{"run", w.run}, {"repo", w.repo}, {"branch", w.branch}};
    std::string command = "git -C " + ShellWord(w.repo) + " branch -D " + ShellWord(w.branch);
    if (w.branch != "specwright/" + w.run) {
      br["action"] = "not_the_runs";
      rep.branches.push_back(br);
      continue;
    }
    auto info = tools::GitRepo::InspectBranch(w.repo, w.branch);
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
    br["command"] = command;
    // A dry run prunes nothing, so the branch still looks checked out by the run's own work
    // tree: only a real gc can tell.
    if (info->checked_out && !o.dry_run) {
      br["action"] = "checked_out";
      say("branch " + w.branch + " of " + w.repo + " is checked out in a work tree: kept");
      rep.branches.push_back(br);
      continue;
    }
    std::string loses = info->unique_commits > 0
                            ? w.branch + " of " + w.repo + " has " + std::to_string(info->unique_commits) +
                                  " commit(s) no other branch has (the run's work): deleting it loses them"
                            : "";
    bool del = o.mode == BranchMode::kDelete;
    if (o.dry_run) {
      br["action"] = del ? "would_delete" : o.mode == BranchMode::kKeep || !o.interactive ? "would_keep" : "would_ask";
      say(std::string(del ? "would delete" : "would keep") + " branch " + w.branch + " of " + w.repo +
          (info->unique_commits > 0 ? " (" + std::to_string(info->unique_commits) + " commit(s) on no other branch)" : ""));
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
      say("kept branch " + w.branch + (info->unique_commits > 0 ? " (" + std::to_string(info->unique_commits) +
                                                                       " commit(s) on no other branch)"
                                                                 : "") +
          "; to delete it: " + command);
    }
    rep.branches.push_back(br);
  }
  return rep;
}

}  // namespace sw::cli
