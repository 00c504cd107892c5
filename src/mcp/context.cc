// The project's conventions served from one place: CONTEXT.md, the developer process's
// preferences (the workspace-wide <store>/preferences.md and each phase's
// specs/PHASE/preferences.md), the rule sets of rules/ (one Markdown file each: a resource and
// a prompt), and the spec documents. Only what these lists hold can be read: a URI is looked
// up, never turned into a path.
#include <algorithm>
#include <filesystem>

#include "base/fs.h"
#include "base/strings.h"
#include "mcp/server.h"
#include "spec/spec.h"
#include "tools/sandbox.h"

namespace sw::mcp {
namespace {

namespace fs = std::filesystem;

/// SafeName: a file name part a URI may carry as it is.
bool SafeName(const std::string& s) {
  if (s.empty() || s.size() > 200 || s[0] == '.') return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

/// Inside: the regular file rel of the project, when it exists and resolves inside it.
std::string Inside(const std::string& project, const std::string& rel) {
  auto abs = tools::ResolveInWorkspace(project, rel, false);
  if (!abs.ok()) return "";
  std::error_code ec;
  return fs::is_regular_file(*abs, ec) ? *abs : "";
}

/// Describe is a document's first heading (or first line), for a listing.
std::string Describe(const std::string& path, const std::string& fallback) {
  auto text = ReadFile(path);
  if (!text.ok()) return fallback;
  size_t at = 0;
  while (at < text->size() && at < 4096) {
    size_t nl = text->find('\n', at);
    std::string line = Trim(text->substr(at, nl == std::string::npos ? std::string::npos : nl - at));
    if (!line.empty()) {
      while (!line.empty() && line[0] == '#') line.erase(0, 1);
      line = Trim(line);
      return line.size() > 200 ? Utf8Prefix(line, 197) + "..." : line;
    }
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  return fallback;
}

}  // namespace

std::vector<Resource> Server::ListResources() const {
  std::vector<Resource> out;
  const std::string& root = options_.project;
  if (std::string p = Inside(root, "CONTEXT.md"); !p.empty())
    out.push_back({"specwright://context", "CONTEXT.md", "Project context",
                   "CONTEXT.md: what this project is, its decisions and gotchas", "text/markdown", p});
  {
    std::string p = options_.store_dir + "/preferences.md";
    std::error_code ec;
    if (fs::is_regular_file(p, ec) && !fs::is_symlink(p, ec))
      out.push_back({"specwright://preferences", "preferences.md", "Workspace preferences",
                     "decisions kept across projects (the developer process's workspace-wide preferences)", "text/markdown", p});
  }
  for (const auto& r : ListPrompts())
    out.push_back({"specwright://rules/" + r.name, r.name + ".md", r.title, r.description, "text/markdown", r.path});
  // Spec documents (and each phase's preferences among them).
  auto config = spec::LoadConfig(root);
  std::string specs = config.ok() ? config->specs_dir : "specs";
  auto dir = tools::ResolveInWorkspace(root, specs, false);
  std::error_code ec;
  if (dir.ok() && fs::is_directory(*dir, ec)) {
    std::vector<Resource> docs;
    for (auto it = fs::recursive_directory_iterator(*dir, fs::directory_options::none, ec);
         !ec && it != fs::recursive_directory_iterator() && docs.size() < 2000; it.increment(ec)) {
      if (it->is_symlink(ec) || !it->is_regular_file(ec) || it->path().extension() != ".md") continue;
      std::string rel = fs::path(it->path()).lexically_relative(*dir).generic_string();
      bool safe = true;
      for (const auto& part : fs::path(rel)) safe = safe && SafeName(part.string());
      if (!safe) continue;
      std::string file = Inside(root, specs + "/" + rel);
      if (file.empty()) continue;
      if (it->path().filename() == "preferences.md" && rel.find('/') != std::string::npos &&
          rel.find('/') == rel.rfind('/')) {
        std::string phase = rel.substr(0, rel.find('/'));
        docs.push_back({"specwright://preferences/" + phase, "preferences.md", "Preferences: " + phase,
                        "the decisions of the " + phase + " phase (" + specs + "/" + rel + ")", "text/markdown", file});
        continue;
      }
      docs.push_back({"specwright://spec/" + rel, fs::path(rel).filename().string(), Describe(file, rel),
                      "spec document " + specs + "/" + rel, "text/markdown", file});
    }
    std::sort(docs.begin(), docs.end(), [](const Resource& a, const Resource& b) { return a.uri < b.uri; });
    out.insert(out.end(), docs.begin(), docs.end());
  }
  return out;
}

std::vector<Prompt> Server::ListPrompts() const {
  std::vector<Prompt> out;
  auto dir = tools::ResolveInWorkspace(options_.project, "rules", false);
  std::error_code ec;
  if (!dir.ok() || !fs::is_directory(*dir, ec)) return out;
  for (auto it = fs::directory_iterator(*dir, ec); !ec && it != fs::directory_iterator() && out.size() < 500; it.increment(ec)) {
    if (it->path().extension() != ".md") continue;
    std::string name = it->path().stem().string();
    if (!SafeName(name)) continue;
    std::string file = Inside(options_.project, "rules/" + name + ".md");
    if (file.empty()) continue;
    std::string title = Describe(file, name);
    out.push_back({name, title, "the " + name + " rule set (rules/" + name + ".md): " + title, file});
  }
  std::sort(out.begin(), out.end(), [](const Prompt& a, const Prompt& b) { return a.name < b.name; });
  return out;
}

}  // namespace sw::mcp
