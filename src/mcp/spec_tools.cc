// The traceability tools: spec_check, spec_trace, spec_impact, spec_matrix, spec_item and
// spec_search — `specwright spec` for an agent, over spec::Open of the project as it is now.
#include <algorithm>
#include <cctype>
#include <map>

#include "base/strings.h"
#include "mcp/server.h"
#include "spec/spec.h"

namespace sw::mcp {
namespace {

json Parsed(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json(text) : j;
}

json Schema(json props, std::vector<std::string> required = {}) {
  json s{{"type", "object"}, {"properties", std::move(props)}, {"additionalProperties", false}};
  if (!required.empty()) s["required"] = required;
  return s;
}

json StrList(const json& args, const char* key) { return args.contains(key) && args[key].is_array() ? args[key] : json::array(); }

/// Opened is a project's traceability with its graph (the graph holds references into it).
struct Opened {
  spec::Project project;
  std::unique_ptr<spec::Graph> graph;
};

Result<std::unique_ptr<Opened>> OpenSpec(const std::string& root) {
  SW_ASSIGN_OR_RETURN(spec::Project p, spec::Open(root));
  auto o = std::make_unique<Opened>();
  o->project = std::move(p);
  o->graph = std::make_unique<spec::Graph>(o->project.corpus, o->project.config);
  return o;
}

/// IdArg is the item an argument names: FR-004 is 001-a/FR-004 when only that feature has it.
Result<std::string> IdArg(const Opened& o, const std::string& id, const char* arg) {
  auto r = o.graph->ResolveId(o.project.grammar, id);
  if (!r.ok()) return InvalidInput("argument " + Quote(arg) + ": " + r.status().message());
  return r;
}

json LinksJson(const spec::Item& it) {
  json links = json::array();
  for (const auto& l : it.links) links.push_back({{"id", l.id}, {"file", l.at.file}, {"line", l.at.line}});
  return links;
}

}  // namespace

void AddSpecTools(Server* s) {
  const std::string root = s->options().project;

  s->AddTool({"spec_check", "Check traceability",
              "Check the project's traceability from requirement to code and test, as `specwright spec check`: duplicate or "
              "dangling IDs, unknown citations, requirements without downstream items, code or tests, failed test cases. "
              "Returns every finding with its rule, severity, file:line and message.",
              Schema({{"rules", {{"type", "array"}, {"items", {{"type", "string"}}}, {"description", "only findings of these rules (e.g. dangling-link, req-no-test); default all"}}},
                      {"severity", {{"type", "string"}, {"enum", {"error", "warning"}}, {"description", "only findings of this severity; default both"}}},
                      {"limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 10000}, {"description", "at most this many findings (default 200); the counts are of all of them"}}}}),
              true, [root](const json& args) -> Result<ToolAnswer> {
                SW_ASSIGN_OR_RETURN(auto o, OpenSpec(root));
                auto findings = o->graph->Check();
                json rules = StrList(args, "rules");
                std::string sev = args.value("severity", "");
                std::erase_if(findings, [&](const spec::Finding& f) {
                  if (!rules.empty() && std::find(rules.begin(), rules.end(), f.rule) == rules.end()) return true;
                  if (sev == "error" && f.severity != spec::Severity::kError) return true;
                  if (sev == "warning" && f.severity != spec::Severity::kWarning) return true;
                  return false;
                });
                int errors = 0, warnings = 0;
                for (const auto& f : findings) (f.severity == spec::Severity::kError ? errors : warnings)++;
                const auto& c = o->project.corpus;
                ToolAnswer a;
                // The report's summary (how the tree was read, the counts) is of every finding and
                // comes first, so an answer cut at the cap keeps it; the list of findings after it
                // stops at the limit.
                size_t limit = static_cast<size_t>(args.value("limit", 200));
                size_t total = findings.size();
                std::string report = spec::CheckText(o->project.config, c, findings);
                std::string all = spec::ToText(findings);
                std::string summary = StartsWith(report, all) ? report.substr(all.size()) : "";
                std::vector<spec::Finding> shown = findings;
                if (shown.size() > limit) shown.resize(limit);
                a.text = summary + spec::ToText(shown);
                if (total > shown.size())
                  a.text += "... " + std::to_string(total - limit) + " more findings not shown (limit " + std::to_string(limit) +
                            "; raise limit, or filter by rules or severity)\n";
                if (summary.empty()) a.text = report;
                a.structured = {{"errors", errors}, {"warnings", warnings}, {"findings", Parsed(spec::ToJson(shown))},
                                {"total_findings", total}, {"findings_truncated", total > shown.size()},
                                {"items", c.items.size()}, {"spec_files", c.spec_files.size()},
                                {"citations", c.citations.size()}, {"code_files", c.code_files},
                                {"format", o->project.config.format}, {"read_as", spec::Summary(o->project.config, c)}};
                return a;
              },
              "ask for less: a smaller limit, or filter by rules or severity"});

  s->AddTool({"spec_trace", "Trace an ID",
              "Where is this ID implemented and tested? Follows one spec ID (e.g. REQ-01-001, US-03-005, API-05-007) up to "
              "the requirements it derives from and down to the items that derive from it, the code citing it (file:line) "
              "and the tests citing it.",
              Schema({{"id", {{"type", "string"}, {"description", "the spec ID, e.g. REQ-01-001"}}}}, {"id"}), true,
              [root](const json& args) -> Result<ToolAnswer> {
                SW_ASSIGN_OR_RETURN(auto o, OpenSpec(root));
                SW_ASSIGN_OR_RETURN(std::string id, IdArg(*o, args["id"].get<std::string>(), "id"));
                SW_ASSIGN_OR_RETURN(spec::TraceReport r, spec::Trace(*o->graph, id));
                ToolAnswer a;
                a.text = spec::ToText(*o->graph, r);
                a.structured = Parsed(spec::ToJson(*o->graph, r));
                if (!a.structured.is_object()) a.structured = {{"trace", a.structured}};
                return a;
              },
              "trace a more specific ID (an item further down)"});

  s->AddTool({"spec_impact", "Impact of a change",
              "What a change touches: everything downstream of the given IDs (spec items, code lines, tests), or of every "
              "ID whose spec text changed since a git revision (or in a range A..B). Give ids, since, or both.",
              Schema({{"ids", {{"type", "array"}, {"items", {{"type", "string"}}}, {"description", "changed spec IDs"}}},
                      {"since", {{"type", "string"}, {"description", "a git revision (commit, branch, tag, HEAD~3): the IDs changed in the spec documents since then; or a range A..B: changed between A and B"}}}}),
              true, [root](const json& args) -> Result<ToolAnswer> {
                json ids_arg = StrList(args, "ids");
                std::string since = args.value("since", "");
                if (ids_arg.empty() && since.empty()) return InvalidInput("give argument \"ids\" (spec IDs) or \"since\" (a git revision)");
                if (!since.empty() && (since[0] == '-' || since.size() > 200 ||
                                       std::any_of(since.begin(), since.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)) || c == '\0'; })))
                  return InvalidInput("argument \"since\": " + Quote(since) + " is not a git revision");
                SW_ASSIGN_OR_RETURN(auto o, OpenSpec(root));
                std::vector<std::string> ids;
                for (const auto& i : ids_arg) {
                  SW_ASSIGN_OR_RETURN(std::string id, IdArg(*o, i.get<std::string>(), "ids"));
                  ids.push_back(id);
                }
                SW_ASSIGN_OR_RETURN(spec::Impact r, spec::ImpactOfChange(*o->graph, o->project.grammar, ids, since));
                ToolAnswer a;
                a.text = spec::ToText(r);
                a.structured = Parsed(spec::ToJson(r));
                if (!a.structured.is_object()) a.structured = {{"impact", a.structured}};
                return a;
              },
              "ask about fewer IDs, or a shorter git range"});

  s->AddTool({"spec_matrix", "Traceability matrix",
              "The traceability matrix: one row per requirement, with its stories, services, APIs, code and tests, and the "
              "coverage of each column.",
              Schema({{"format", {{"type", "string"}, {"enum", {"md", "csv"}}, {"description", "the text form: md (default) or csv"}}}}),
              true, [root](const json& args) -> Result<ToolAnswer> {
                SW_ASSIGN_OR_RETURN(auto o, OpenSpec(root));
                spec::Matrix m = spec::MatrixOf(*o->graph);
                ToolAnswer a;
                a.text = args.value("format", "md") == "csv" ? spec::ToCsv(m) : spec::ToMarkdown(m);
                a.structured = Parsed(spec::ToJson(m));
                if (!a.structured.is_object()) a.structured = {{"matrix", a.structured}};
                return a;
              },
              "the matrix is too large for one answer: use spec_trace per requirement, or `specwright spec matrix` on the command line"});

  s->AddTool({"spec_item", "Read a spec item",
              "The text of one spec item: its ID, title, file:line, Markdown body, the IDs it links to (upstream) and the "
              "items linking to it (downstream).",
              Schema({{"id", {{"type", "string"}, {"description", "the spec ID, e.g. US-03-005"}}}}, {"id"}), true,
              [root](const json& args) -> Result<ToolAnswer> {
                SW_ASSIGN_OR_RETURN(auto o, OpenSpec(root));
                SW_ASSIGN_OR_RETURN(std::string id, IdArg(*o, args["id"].get<std::string>(), "id"));
                const spec::Item* it = o->graph->Find(id);
                if (!it) return NotFound("no spec document defines " + id + " (spec_search finds items by words)");
                ToolAnswer a;
                a.structured = {{"id", it->id}, {"title", it->title}, {"prefix", it->prefix}, {"file", it->at.file},
                                {"line", it->at.line}, {"body", it->body}, {"links", LinksJson(*it)},
                                {"parents", o->graph->Parents(id)}, {"children", o->graph->Children(id)}};
                a.text = it->id + " " + it->title + "\n" + it->at.ToString() + "\n\n" + it->body;
                if (!a.text.empty() && a.text.back() != '\n') a.text += "\n";
                if (!o->graph->Parents(id).empty()) a.text += "\nlinks to: " + Join(o->graph->Parents(id), ", ") + "\n";
                if (!o->graph->Children(id).empty()) a.text += "linked from: " + Join(o->graph->Children(id), ", ") + "\n";
                return a;
              },
              "read the spec document instead (resources/read specwright://spec/...)"});

  s->AddTool({"spec_search", "Search spec items",
              "Find spec items by words: matches the query's words against each item's ID, title and body (ID and title "
              "matches rank first) and returns the best items with a snippet.",
              Schema({{"query", {{"type", "string"}, {"description", "words to look for, e.g. \"password reset\""}}},
                      {"prefix", {{"type", "string"}, {"description", "only items of this kind, e.g. REQ or API"}}},
                      {"limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}, {"description", "how many items (default 10)"}}}},
                     {"query"}),
              true, [root](const json& args) -> Result<ToolAnswer> {
                std::string query = Lower(Trim(args["query"].get<std::string>()));
                if (query.empty()) return InvalidInput("argument \"query\" is empty");
                std::vector<std::string> words;
                std::string w;
                for (char c : query + " ") {
                  if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || (c & 0x80)) w += c;
                  else if (!w.empty()) words.push_back(std::exchange(w, ""));
                }
                if (words.empty()) return InvalidInput("argument \"query\" has no words");
                SW_ASSIGN_OR_RETURN(auto o, OpenSpec(root));
                std::string prefix = args.value("prefix", "");
                int limit = args.value("limit", 10);
                struct Hit {
                  const spec::Item* item;
                  double score;
                };
                std::vector<Hit> hits;
                for (const auto& it : o->project.corpus.items) {
                  if (!prefix.empty() && it.prefix != prefix) continue;
                  std::string id = Lower(it.id), title = Lower(it.title), body = Lower(it.body);
                  double score = 0;
                  int matched = 0;
                  for (const auto& word : words) {
                    double ws = 0;
                    if (id == word) ws += 100;
                    else if (id.find(word) != std::string::npos) ws += 20;
                    if (title.find(word) != std::string::npos) ws += 10;
                    int n = 0;
                    for (size_t at = body.find(word); at != std::string::npos && n < 5; at = body.find(word, at + word.size())) ++n;
                    ws += n;
                    if (ws > 0) ++matched;
                    score += ws;
                  }
                  if (score <= 0) continue;
                  score *= static_cast<double>(matched) / static_cast<double>(words.size());  // every word counts
                  hits.push_back({&it, score});
                }
                std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.score > b.score; });
                if (static_cast<int>(hits.size()) > limit) hits.resize(static_cast<size_t>(limit));
                ToolAnswer a;
                json list = json::array();
                for (const auto& h : hits) {
                  std::string body = h.item->body;
                  std::string lower = Lower(body);
                  size_t at = std::string::npos;
                  for (const auto& word : words) at = std::min(at, lower.find(word));
                  size_t from = at == std::string::npos || at < 60 ? 0 : at - 60;
                  std::string snippet = Utf8Prefix(body.substr(from), 200);
                  for (char& c : snippet)
                    if (c == '\n') c = ' ';
                  if (from > 0) snippet = "..." + snippet;
                  list.push_back({{"id", h.item->id}, {"title", h.item->title}, {"file", h.item->at.file},
                                  {"line", h.item->at.line}, {"score", h.score}, {"snippet", snippet}});
                  a.text += h.item->id + " " + h.item->title + " (" + h.item->at.ToString() + ")\n    " + snippet + "\n";
                }
                if (hits.empty()) a.text = "no spec item matches " + Quote(query) + "\n";
                a.structured = {{"query", query}, {"items", list}};
                return a;
              },
              "ask for less: a smaller limit or a prefix"});
}

}  // namespace sw::mcp
