#include "dist/bundle.h"

#include <filesystem>
#include <optional>
#include <set>

#include "base/fs.h"
#include "base/strings.h"
#include "workflow/patterns.h"

namespace sw::dist {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

/// A bundle is bounded: a workflow and its prompts are text, not data sets.
constexpr size_t kMaxBundleBytes = 16 << 20;
constexpr size_t kMaxBundleFiles = 1000;

void Collect(const workflow::Workflow& wf, std::set<std::string>* files, std::set<const workflow::Workflow*>* seen) {
  if (!seen->insert(&wf).second) return;
  files->insert(wf.file);
  for (const auto& n : wf.nodes) {
    for (const auto* t : {&n.system, &n.prompt, &n.message})
      if (*t && !(*t)->file.empty()) files->insert((*t)->file);
    for (const auto& [k, t] : n.with)
      if (!t.file.empty()) files->insert(t.file);
    if (n.sub) Collect(*n.sub, files, seen);
  }
}

Status CheckOne(const workflow::Workflow& wf, std::set<const workflow::Workflow*>* seen) {
  if (!seen->insert(&wf).second) return Status::Ok();
  if (wf.workspace.kind == workflow::WorkspaceKind::kCopy || wf.workspace.kind == workflow::WorkspaceKind::kRepo) {
    const char* what = wf.workspace.kind == workflow::WorkspaceKind::kCopy ? "copy" : "repo";
    return InvalidInput(wf.file + ":" + std::to_string(wf.workspace.pos.line) + ":" +
                        std::to_string(wf.workspace.pos.col) + ": a detached run cannot use `workspace: " + what +
                        "`: it names " + wf.workspace.path +
                        " on this machine, which the worker that runs it may not have (run it without --detach, "
                        "or start from an empty workspace)");
  }
  // An MCP server runs on the worker orchestrating the run: a program it has (on its PATH,
  // or an absolute path installed alike) is fine; a script beside the workflow is not there.
  for (const auto& m : wf.mcp_servers) {
    if (m.command.empty()) continue;  // a URL server
    std::string where = wf.file + ":" + std::to_string(m.pos.line) + ":" + std::to_string(m.pos.col) +
                        ": MCP server " + Quote(m.name) + " of a detached run ";
    if (m.command.find('/') != std::string::npos && !fs::path(m.command).is_absolute())
      return InvalidInput(where + "runs " + Quote(m.command) +
                          ", a file of this machine the workers do not have (use a program on their PATH, or run "
                          "without --detach)");
    for (const auto& a : m.args) {
      if (a.empty() || a[0] == '-' || fs::path(a).is_absolute()) continue;
      std::error_code ec;
      if (fs::exists(fs::path(wf.dir) / a, ec))
        return InvalidInput(where + "names " + Quote(a) + " beside the workflow, a file the workers do not have " +
                            "(run it without --detach)");
    }
  }
  for (const auto& n : wf.nodes)
    if (n.sub) SW_RETURN_IF_ERROR(CheckOne(*n.sub, seen));
  return Status::Ok();
}

/// Rebase gives a workflow loaded from the scratch copy its original paths back.
std::shared_ptr<workflow::Workflow> Rebase(const workflow::Workflow& wf, const std::string& scratch,
                                           std::map<const workflow::Workflow*, std::shared_ptr<workflow::Workflow>>* done) {
  if (auto it = done->find(&wf); it != done->end()) return it->second;
  auto copy = std::make_shared<workflow::Workflow>(wf);
  (*done)[&wf] = copy;
  auto strip = [&](std::string& p) {
    if (p.size() > scratch.size() && p.compare(0, scratch.size(), scratch) == 0 && p[scratch.size()] == '/')
      p = p.substr(scratch.size());
  };
  strip(copy->file);
  strip(copy->dir);
  for (auto& n : copy->nodes) {
    strip(n.workflow_file);
    for (auto* t : {&n.system, &n.prompt, &n.message})
      if (*t) strip((*t)->file);
    for (auto& [k, t] : n.with) strip(t.file);
    if (n.sub) n.sub = Rebase(*n.sub, scratch, done);
  }
  return copy;
}

}  // namespace

Status CheckDetachable(const workflow::Workflow& wf) {
  std::set<const workflow::Workflow*> seen;
  return CheckOne(wf, &seen);
}

Result<Bundle> MakeBundle(const workflow::Workflow& wf) {
  std::set<std::string> files;
  std::set<const workflow::Workflow*> seen;
  Collect(wf, &files, &seen);
  if (files.size() > kMaxBundleFiles)
    return InvalidInput("workflow " + wf.file + " references " + std::to_string(files.size()) + " files; a detached run carries at most " +
                        std::to_string(kMaxBundleFiles));
  json out{{"root", wf.file}, {"files", json::object()}};
  // A std/NAME pattern travels with the run: its file is in `files` like any sub-workflow, and
  // `patterns_dir` says where the loader on the worker finds std/ inside the copy.
  std::string patterns = workflow::PatternsDir();
  if (!patterns.empty())
    for (const auto& f : files)
      if (f.size() > patterns.size() && f.compare(0, patterns.size(), patterns) == 0 && f[patterns.size()] == '/') {
        out["patterns_dir"] = patterns;
        break;
      }
  size_t total = 0;
  for (const auto& f : files) {
    if (!fs::path(f).is_absolute()) return Internal("workflow file " + Quote(f) + " is not an absolute path");
    SW_ASSIGN_OR_RETURN(std::string text, ReadFile(f));
    total += text.size();
    if (total > kMaxBundleBytes)
      return InvalidInput("workflow " + wf.file + " and the files it references are over " +
                          std::to_string(kMaxBundleBytes >> 20) + " MiB, more than a detached run carries");
    out["files"][f] = std::move(text);
  }
  return out;
}

Result<std::shared_ptr<const workflow::Workflow>> LoadBundle(const Bundle& bundle, const std::string& scratch_dir) {
  std::string scratch = fs::absolute(scratch_dir).lexically_normal().string();
  while (scratch.size() > 1 && scratch.back() == '/') scratch.pop_back();
  std::string root;
  try {
    root = bundle.at("root").get<std::string>();
    const json& files = bundle.at("files");
    if (!files.is_object() || files.size() > kMaxBundleFiles) return InvalidInput("malformed workflow bundle");
    for (const auto& [path, text] : files.items()) {
      fs::path p = fs::path(path).lexically_normal();
      // Only absolute paths with no way back up: a bundle writes inside scratch and nowhere else.
      if (!p.is_absolute() || path.find("/../") != std::string::npos || path.find("\\") != std::string::npos)
        return InvalidInput("workflow bundle names a file " + Quote(path) + " that is not a plain absolute path");
      for (const auto& part : p)
        if (part == "..") return InvalidInput("workflow bundle names a file " + Quote(path) + " with \"..\"");
      std::string dest = scratch + p.string();
      SW_RETURN_IF_ERROR(MakeDirs(fs::path(dest).parent_path().string()));
      SW_RETURN_IF_ERROR(WriteFileAtomic(dest, text.get<std::string>()));
    }
  } catch (const json::exception& e) {
    return InvalidInput(std::string("malformed workflow bundle: ") + e.what());
  }
  // The submitter's patterns, as the bundle carries them, answer std/NAME (not the worker's own).
  std::optional<workflow::ScopedPatternsDir> patterns;
  if (auto it = bundle.find("patterns_dir"); it != bundle.end()) {
    if (!it->is_string() || !fs::path(it->get<std::string>()).is_absolute() ||
        it->get<std::string>().find("..") != std::string::npos)
      return InvalidInput("malformed workflow bundle: patterns_dir is not a plain absolute path");
    patterns.emplace(scratch + fs::path(it->get<std::string>()).lexically_normal().string());
  }
  SW_ASSIGN_OR_RETURN(auto wf, workflow::LoadOrError(scratch + fs::path(root).lexically_normal().string()));
  std::map<const workflow::Workflow*, std::shared_ptr<workflow::Workflow>> done;
  return std::shared_ptr<const workflow::Workflow>(Rebase(*wf, scratch, &done));
}

}  // namespace sw::dist
