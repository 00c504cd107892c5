// The code-context tools over the code index (src/codeindex): code_symbols (where a name is
// defined and where it is used) and code_search (full text over the project's source lines).
// The index is a cache outside the project — $XDG_CACHE_HOME/specwright/code-index/<xxh3 of
// the project's canonical path>.db ($HOME/.cache when XDG_CACHE_HOME is not set; missing
// folders created 0700; /tmp/specwright-<uid>/code-index when that cannot be made) — so a
// read-only server writes nothing into the project; it is brought up to date (only the files
// that changed) before every query.
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

#include "base/hash.h"
#include "base/strings.h"
#include "codeindex/code_index.h"
#include "mcp/server.h"

namespace sw::mcp {
namespace {

json Schema(json props, std::vector<std::string> required = {}) {
  json s{{"type", "object"}, {"properties", std::move(props)}, {"additionalProperties", false}};
  if (!required.empty()) s["required"] = required;
  return s;
}

/// MakeDirs0700 creates dir and its missing parents, each readable by its owner only (the
/// folders that exist are left as they are).
Status MakeDirs0700(const std::string& dir) {
  for (size_t at = 1; at <= dir.size(); ++at) {
    if (at < dir.size() && dir[at] != '/') continue;
    std::string part = dir.substr(0, at);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return IoError("cannot create " + part + ": " + std::strerror(errno));
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return IoError("cannot create " + dir + ": not a folder");
  return Status::Ok();
}

}  // namespace

Status MakePrivateDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return IoError("cannot create " + dir + ": " + std::strerror(errno));
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) return IoError("cannot create " + dir + ": " + std::strerror(errno));
  if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode))
    return Status(Code::kUnavailable, "refusing the cache folder " + dir + ": it is a symlink or not a folder (someone else's?); "
                                      "remove it, or set XDG_CACHE_HOME to a folder of yours");
  if (st.st_uid != ::geteuid())
    return Status(Code::kUnavailable, "refusing the cache folder " + dir + ": it is owned by uid " + std::to_string(st.st_uid) +
                                          ", not by this user; remove it, or set XDG_CACHE_HOME to a folder of yours");
  if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0)
    return IoError("cannot make " + dir + " private: " + std::strerror(errno));
  return Status::Ok();
}

Result<std::string> CodeIndexPath(const std::string& project) {
  std::string cache;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  std::error_code ec;
  if (xdg && *xdg == '/') cache = xdg;  // the XDG spec: a relative value is ignored
  // A HOME that does not exist (a service user's /nonexistent) is not made: the /tmp fallback.
  else if (home && *home == '/') cache = std::string(home) + "/.cache";
  else
    return Status(Code::kUnavailable,
                  "the code index is kept in a cache folder, and neither $XDG_CACHE_HOME nor $HOME names one: set "
                  "XDG_CACHE_HOME (an absolute path) in the server's environment");
  while (cache.size() > 1 && cache.back() == '/') cache.pop_back();
  std::string dir = cache + "/specwright/code-index";
  // A HOME that does not exist (a service user's /nonexistent) is not made: the fallback.
  bool home_missing = !(xdg && *xdg == '/') && !std::filesystem::is_directory(home, ec);
  Status made = home_missing ? Status(Code::kUnavailable, "$HOME (" + std::string(home) + ") does not exist")
                             : MakeDirs0700(dir);
  if (!made.ok()) {
    // The user's cache folder cannot be made (HOME unwritable): a private folder of this
    // user's under /tmp, refused if it is anyone else's or a symlink.
    std::string tmp = "/tmp/specwright-" + std::to_string(::geteuid());
    Status fallback = MakePrivateDir(tmp);
    if (fallback.ok()) fallback = MakePrivateDir(tmp + "/code-index");
    if (!fallback.ok())
      return Status(Code::kUnavailable, "the code index is kept in a cache folder: " + made.message() + "; and the fallback: " +
                                            fallback.message() + " (set XDG_CACHE_HOME, an absolute path, in the server's environment)");
    dir = tmp + "/code-index";
  }
  return dir + "/" + Hash128Hex(project) + ".db";
}

namespace {

/// Shared is one opened index for the server's life; an Index is used by one thread at a time.
struct Shared {
  std::mutex mu;
  std::string root;
  std::unique_ptr<codeindex::Index> index;
  Result<codeindex::UpdateStats> Fresh() {  // mu held
    if (!index) {
      SW_ASSIGN_OR_RETURN(std::string db, CodeIndexPath(root));
      SW_ASSIGN_OR_RETURN(index, codeindex::Index::Open(root, db));
    }
    return index->Update();
  }
};

json HitsJson(const std::vector<codeindex::Hit>& hits) {
  json out = json::array();
  for (const auto& h : hits) out.push_back({{"file", h.file}, {"line", h.line}, {"text", h.text}});
  return out;
}

}  // namespace

void AddCodeTools(Server* s) {
  auto shared = std::make_shared<Shared>();
  shared->root = s->options().project;

  s->AddTool({"code_symbols", "Definitions and uses of a name",
              "Where a function, class, type or variable is defined (file:line, kind, signature, scope; from "
              "universal-ctags) and the lines that use it (whole-identifier matches, textual: comments count).",
              Schema({{"name", {{"type", "string"}, {"description", "the identifier, case-sensitive, e.g. ParseConfig"}}},
                      {"prefix", {{"type", "boolean"}, {"description", "definitions of every name starting with it (default false)"}}},
                      {"limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 500}, {"description", "at most this many definitions and references each (default 50)"}}}},
                     {"name"}),
              true, [shared](const json& args) -> Result<ToolAnswer> {
                std::string name = args["name"].get<std::string>();
                if (Trim(name).empty()) return InvalidInput("argument \"name\" is empty");
                int limit = args.value("limit", 50);
                std::lock_guard<std::mutex> l(shared->mu);
                SW_ASSIGN_OR_RETURN(auto stats, shared->Fresh());
                SW_ASSIGN_OR_RETURN(auto defs, shared->index->Definitions(name, limit, args.value("prefix", false)));
                SW_ASSIGN_OR_RETURN(auto refs, shared->index->References(name, limit));
                ToolAnswer a;
                json dj = json::array();
                a.text = "definitions of " + name + ":\n";
                for (const auto& d : defs) {
                  dj.push_back({{"name", d.name}, {"kind", d.kind}, {"file", d.file}, {"line", d.line}, {"end_line", d.end_line},
                                {"scope", d.scope}, {"signature", d.signature}, {"language", d.language}});
                  a.text += "  " + d.file + ":" + std::to_string(d.line) + "  " + d.kind + " " + d.name + d.signature +
                            (d.scope.empty() ? "" : "  (in " + d.scope + ")") + "\n";
                }
                if (defs.empty()) a.text += "  (none found)\n";
                a.text += "references:\n";
                for (const auto& h : refs) a.text += "  " + h.file + ":" + std::to_string(h.line) + "  " + h.text + "\n";
                if (refs.empty()) a.text += "  (none found)\n";
                a.structured = {{"name", name}, {"definitions", dj}, {"references", HitsJson(refs)},
                                {"index", {{"files", stats.files_seen}, {"reindexed", stats.files_indexed}}}};
                return a;
              },
              "ask for less: a smaller limit, or prefix false"});

  s->AddTool({"code_search", "Search the code",
              "Full-text search over the project's source lines, ranked (bm25; a query matching over 5,000 lines comes back in "
              "file order, unranked: use more specific words): words must all occur; \"a phrase\", "
              "prefix*, OR, NOT work unless literal is set. Returns file:line and the line.",
              Schema({{"query", {{"type", "string"}, {"description", "what to look for, e.g. password reset or \"open(\""}}},
                      {"literal", {{"type", "boolean"}, {"description", "take the query as typed, no search syntax (default false)"}}},
                      {"limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 500}, {"description", "at most this many lines (default 30)"}}}},
                     {"query"}),
              true, [shared](const json& args) -> Result<ToolAnswer> {
                std::string query = args["query"].get<std::string>();
                if (Trim(query).empty()) return InvalidInput("argument \"query\" is empty");
                int limit = args.value("limit", 30);
                auto mode = args.value("literal", false) ? codeindex::QueryMode::kLiteral : codeindex::QueryMode::kFts;
                std::lock_guard<std::mutex> l(shared->mu);
                SW_ASSIGN_OR_RETURN(auto stats, shared->Fresh());
                auto hits = shared->index->Search(query, limit, mode);
                if (!hits.ok()) return hits.status().Annotate("argument \"query\"");
                ToolAnswer a;
                for (const auto& h : *hits) a.text += h.file + ":" + std::to_string(h.line) + "  " + h.text + "\n";
                if (hits->empty()) a.text = "no line matches " + Quote(query) + "\n";
                a.structured = {{"query", query}, {"hits", HitsJson(*hits)},
                                {"index", {{"files", stats.files_seen}, {"reindexed", stats.files_indexed}}}};
                return a;
              },
              "ask for less: a smaller limit, or more specific words (all must occur) or a \"phrase\""});
}

}  // namespace sw::mcp
