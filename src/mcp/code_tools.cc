// The code-context tools over the code index (src/codeindex): code_symbols (where a name is
// defined and where it is used) and code_search (full text over the project's source lines).
// The index lives in <project>/.specwright/code-index.db and is brought up to date (only the
// files that changed) before every query.
#include <memory>
#include <mutex>

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

/// Shared is one opened index for the server's life; an Index is used by one thread at a time.
struct Shared {
  std::mutex mu;
  std::string root, db;
  std::unique_ptr<codeindex::Index> index;
  Result<codeindex::UpdateStats> Fresh() {  // mu held
    if (!index) {
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
  shared->db = s->options().project + "/.specwright/code-index.db";

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
              }});

  s->AddTool({"code_search", "Search the code",
              "Full-text search over the project's source lines, ranked (bm25): words must all occur; \"a phrase\", "
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
              }});
}

}  // namespace sw::mcp
