#include "server/spec_api.h"

#include <cmark.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/strings.h"
#include "spec/spec.h"
#include "tools/sandbox.h"

namespace sw::server {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr uintmax_t kMaxFileBytes = 2u << 20;

/// Markdown to HTML by cmark in safe mode: raw HTML and javascript: links are dropped, so the
/// page may insert it.
std::string Html(const std::string& md) {
  std::unique_ptr<char, decltype(&std::free)> out(cmark_markdown_to_html(md.data(), md.size(), CMARK_OPT_SAFE),
                                                    &std::free);
  return out ? std::string(out.get()) : std::string();
}

}  // namespace

Result<fs::path> InsideTree(const std::string& root, const std::string& rel, bool for_write) {
  std::error_code ec;
  fs::path real_root = fs::canonical(root, ec);
  if (ec) return NotFound(Quote(root) + " is not there");
  SW_ASSIGN_OR_RETURN(std::string full, tools::ResolveInWorkspace(root, rel, for_write));
  for (const auto& part : fs::path(full).lexically_relative(real_root)) {
    std::string p = part.string();
    for (char& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (p == ".git" || p == ".specwright") return InvalidInput("path " + Quote(rel) + " is inside " + p + ", which the UI leaves alone");
  }
  return fs::path(full);
}

namespace {

Result<fs::path> InsideProject(const std::string& project, const std::string& rel) {
  std::error_code ec;
  if (!fs::is_directory(project, ec)) return NotFound("the session's project " + Quote(project) + " is not there");
  return InsideTree(project, rel, false);
}

Result<spec::Project> OpenProject(const std::string& project) {
  std::error_code ec;
  if (project.empty() || !fs::is_directory(project, ec))
    return NotFound("the session's project " + Quote(project) + " is not there (moved or deleted)");
  return spec::Open(project);
}

}  // namespace

Result<std::string> SpecView(const std::string& project) {
  SW_ASSIGN_OR_RETURN(spec::Project p, OpenProject(project));
  spec::Graph g(p.corpus, p.config);
  SW_ASSIGN_OR_RETURN(auto docs, spec::ReadSpecDocs(p.config));
  json out{{"project", project}};
  json jd = json::array();
  for (const auto& [path, text] : docs) {
    json items = json::array();
    for (const auto& it : p.corpus.items)
      if (it.at.file == path) items.push_back({{"id", it.id}, {"title", it.title}, {"line", it.at.line}});
    jd.push_back({{"path", path}, {"html", Html(text)}, {"items", items}});
  }
  out["docs"] = jd;
  json all = json::array();
  for (const auto& it : p.corpus.items)
    all.push_back({{"id", it.id}, {"title", it.title}, {"file", it.at.file}, {"line", it.at.line}});
  out["items"] = all;
  auto findings = g.Check();
  out["findings"] = json::parse(spec::ToJson(findings));
  int errors = 0, warnings = 0;
  for (const auto& f : findings) (f.severity == spec::Severity::kError ? errors : warnings)++;
  out["errors"] = errors;
  out["warnings"] = warnings;
  out["matrix"] = json::parse(spec::ToJson(spec::MatrixOf(g)));
  out["results"] = p.corpus.results;
  out["has_results"] = p.corpus.has_results;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::string> SpecTrace(const std::string& project, const std::string& id) {
  SW_ASSIGN_OR_RETURN(spec::Project p, OpenProject(project));
  spec::Graph g(p.corpus, p.config);
  SW_ASSIGN_OR_RETURN(auto r, spec::Trace(g, id));
  json out = json::parse(spec::ToJson(g, r));
  json results = json::object();
  std::vector<std::string> ids = r.down;
  ids.push_back(id);
  for (const auto& x : ids)
    if (auto at = p.corpus.results.find(x); at != p.corpus.results.end()) results[x] = at->second;
  out["results"] = results;
  out["has_results"] = p.corpus.has_results;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::string> SpecImpact(const std::string& project, const std::vector<std::string>& ids) {
  SW_ASSIGN_OR_RETURN(spec::Project p, OpenProject(project));
  spec::Graph g(p.corpus, p.config);
  return json::parse(spec::ToJson(spec::ImpactOf(g, ids))).dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::string> ProjectFile(const std::string& project, const std::string& rel) {
  if (project.empty() || !fs::path(project).is_absolute())
    return NotFound("the session has no project folder on record");
  if (rel.empty() || rel[0] == '/' || rel.find('\\') != std::string::npos || rel.find('\0') != std::string::npos)
    return InvalidInput("path " + Quote(rel) + " must be relative to the project");
  SW_ASSIGN_OR_RETURN(fs::path full, InsideProject(project, rel));
  std::error_code ec;
  if (!fs::is_regular_file(full, ec)) return NotFound("no file " + Quote(rel) + " in the project");
  uintmax_t size = fs::file_size(full, ec);
  if (ec) return NotFound("no file " + Quote(rel) + " in the project");
  if (size > kMaxFileBytes)
    return InvalidInput(Quote(rel) + " is " + std::to_string(size) + " bytes; the UI shows files up to " +
                        std::to_string(kMaxFileBytes));
  SW_ASSIGN_OR_RETURN(std::string text, ReadFile(full.string()));
  if (text.find('\0') != std::string::npos) return InvalidInput(Quote(rel) + " is not a text file");
  return json{{"path", fs::path(rel).lexically_normal().generic_string()}, {"text", text}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace sw::server
