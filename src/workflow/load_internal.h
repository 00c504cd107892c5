// Pieces shared by the loader's .cc files (loader.cc, yaml_util.cc, node_parser.cc,
// validate.cc); not part of the public API. yaml-cpp throws, so every function here is called
// inside the try/catch of LoadFile (loader.cc), which turns a stray exception into a diagnostic.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "workflow/workflow.h"

namespace sw::workflow::internal {

/// Source is one YAML file being loaded; the text is kept to locate quoted and block scalars.
struct Source {
  std::string display;      // path as shown in diagnostics (as the user spelled it)
  std::string display_dir;  // its directory, for display paths of included files
  std::string abs;          // absolute, normalised
  std::string dir;          // absolute directory
  std::string text;
};

/// Diags collects the errors and warnings of one top-level Load (sub-files included).
struct Diags {
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
  /// confine, when set, is the folder every referenced file (sub-workflow, prompt file) must
  /// resolve into: text from a web page must not make the loader read the rest of the disk.
  std::string confine;
  /// Outside says whether abs (absolute, normalised) is out of the confine.
  bool Outside(const std::string& abs) const;
  /// OutsideFor is Outside for a file referenced by the file `from`, with one exception: a
  /// file under PatternsDir() is admitted when it is the target of a `std/NAME` reference
  /// (pattern_ref), or is referenced by a file admitted that way (a pattern's own prompt
  /// files and sub-workflows inside the library). An admitted workflow is remembered in
  /// pattern_files. A plain path into the patterns folder stays outside.
  bool OutsideFor(const std::string& abs, const std::string& from, bool pattern_ref);
  std::set<std::string> pattern_files;
};

/// PosFromOffset maps a byte offset in text to a 1-based line and column.
Pos PosFromOffset(std::string_view text, size_t offset);

/// Site is where a template or expression text lives, so offsets in it map to positions.
struct Site {
  std::string file;             // display path for diagnostics
  Pos pos;                      // where the text starts (the scalar, or 1:1 of a prompt file)
  const Source* src = nullptr;  // inline: the YAML source holding the scalar
  YAML::Node scalar;            // inline: the scalar node
  std::string file_text;        // file: the whole prompt file
  bool in_file = false;

  /// At maps a byte offset in the text to a position (best effort for folded scalars).
  Pos At(size_t offset) const;
  /// Find returns the position of the first occurrence of `needle` as a whole path prefix.
  Pos Find(const std::string& text, const std::string& needle) const;
};

/// Entry is one key of a YAML map with its value and positions.
struct Entry {
  std::string key;
  YAML::Node value;
  Pos key_pos;
  Pos value_pos;  // the key's position when the value is empty
};

/// FileCtx reports problems found in one file and reads typed values out of YAML.
class FileCtx {
 public:
  FileCtx(const Source& src, Diags& diags) : src_(src), diags_(diags) {}

  const Source& src() const { return src_; }
  Diags& diags() { return diags_; }
  void Error(Pos pos, std::string message);
  void Warn(Pos pos, std::string message);
  /// ErrorIn reports a problem in another file (a prompt file) found while loading this one.
  void ErrorIn(const std::string& file, Pos pos, std::string message);
  size_t error_count() const { return diags_.errors.size(); }

  Pos PosOf(const YAML::Node& n) const;
  Site SiteOf(const YAML::Node& scalar) const;

  // Typed readers: each reports a diagnostic naming `what` and returns nullopt on a problem.
  std::optional<std::string> String(const YAML::Node& v, Pos pos, std::string_view what);
  std::optional<int64_t> Int(const YAML::Node& v, Pos pos, std::string_view what, int64_t lo, int64_t hi);
  std::optional<double> Number(const YAML::Node& v, Pos pos, std::string_view what, double lo, double hi);
  std::optional<bool> Bool(const YAML::Node& v, Pos pos, std::string_view what);
  /// Duration: a number of seconds, or "250ms" "30s" "5m" "1h" "1.5s" "1m30s".
  std::optional<double> Duration(const YAML::Node& v, Pos pos, std::string_view what);
  /// Enum: one of `allowed`, else an error listing them.
  std::optional<std::string> Enum(const YAML::Node& v, Pos pos, std::string_view what,
                                  const std::vector<std::string>& allowed);
  /// StringList accepts a list of strings or a single string.
  std::optional<std::vector<std::string>> StringList(const YAML::Node& v, Pos pos, std::string_view what,
                                                     std::vector<Pos>* positions = nullptr);

 private:
  const Source& src_;
  Diags& diags_;
};

/// Describe renders a value for an error message: "three" (quoted), null, a map, a list.
std::string Describe(const YAML::Node& v);
using ::sw::Quote;
/// ToJson is YamlToJson that never throws: a value it cannot convert (a map with a non-string
/// key, which MapReader reports) becomes null.
json ToJson(const YAML::Node& v);
/// IsIdentifier: a letter or '_' then letters, digits or '_'.
bool IsIdentifier(std::string_view s);
/// PosOf is a node's position, 1-based (Pos{} for a node without one).
Pos PosOf(const YAML::Node& n);

/// MapReader reads a YAML map's entries once, reporting duplicate and non-string keys.
class MapReader {
 public:
  /// context names the map in messages: `node "plan"`, `defaults`, `the workflow`.
  MapReader(FileCtx& ctx, const YAML::Node& map, std::string context);
  const Entry* Get(std::string_view key) const;
  const std::vector<Entry>& entries() const { return entries_; }
  /// CheckKeys reports every key not in allowed: `unknown key "x" in <context> (did you mean ...)`.
  void CheckKeys(const std::vector<std::string>& allowed);

 private:
  FileCtx& ctx_;
  std::string context_;
  std::vector<Entry> entries_;  // first occurrence of each key, in file order
};

/// TemplateUse is one parsed template of a node, kept for reference checks.
struct TemplateUse {
  std::string what;  // "prompt", "args/text", "with.brief", ...
  tmpl::TemplatePtr tmpl;
  Site site;
};

/// ExprUse is one parsed expression of a node (when, loop.while, map.over).
struct ExprUse {
  std::string what;  // "when", "loop.while", "map.over"
  expr::ExprPtr expr;
  Site site;
};

/// Settings are the model/retry/timeout fields as written (in defaults or on a node), before
/// merging: every field optional so a node overrides defaults field by field.
struct Settings {
  std::optional<std::string> model;
  std::optional<double> temperature;
  std::optional<int64_t> max_tokens;
  std::optional<std::vector<std::string>> stop;
  std::optional<std::vector<std::string>> fallbacks;
  std::optional<int> attempts;
  std::optional<double> backoff;
  std::optional<double> max_delay;
  std::optional<double> timeout;
  bool model_key = false;  // `model:` was written (even if invalid: no "has no model" error then)
};

/// NodeInfo is what the loader learns about a node beyond workflow::Node: positions for later
/// checks, the explicit settings (before defaults are merged) and the texts to hash.
struct NodeInfo {
  YAML::Node yaml;             // the node's map, for the definition hash
  std::vector<Pos> needs_pos;  // parallel to Node::needs
  bool kind_ok = true;
  Pos loop_to_pos;
  std::vector<TemplateUse> templates;
  std::vector<ExprUse> exprs;
  std::vector<std::string> file_texts;  // prompt/system/message file contents, in order
  Settings set;
  std::vector<std::pair<std::string, Pos>> mcp_refs;  // agent tools naming an MCP server
};

class Loader;

/// CheckModelName checks "provider/name"; returns an error message when malformed, else "".
std::string CheckModelName(std::string_view model);

/// ParseSettings reads retry and timeout from m, and the model keys (model, temperature,
/// max_tokens, stop) when model_keys is set; context names the map in messages.
void ParseSettings(FileCtx& ctx, const MapReader& m, const std::string& context, bool model_keys, Settings* out);

/// ParseBudget reads a budget map; `policy` is only allowed when allow_policy (the workflow's).
void ParseBudget(FileCtx& ctx, const Entry& e, const std::string& context, bool allow_policy, Budget* out);

/// MatchesType says whether v is a valid value of an input type (string, number, integer,
/// boolean, list, object).
bool MatchesType(const std::string& type, const json& v);

/// ParseNodes reads the `nodes:` map into nodes and infos (file order); loader loads subs.
void ParseNodes(FileCtx& ctx, Loader& loader, const Entry& nodes_entry, const Workflow& wf, std::vector<Node>* nodes,
                std::vector<NodeInfo>* infos);

/// ValidateGraph checks needs, cycles, loops, maps and the references of every expression and
/// template, then sorts nodes (and infos alongside) topologically and fills wf->index.
void ValidateGraph(FileCtx& ctx, Workflow* wf, std::vector<NodeInfo>* infos);

/// The sections agents act through (sections.cc).
void ParseWorkspace(FileCtx& ctx, const Entry& e, WorkspaceDecl* out);
void ParseShell(FileCtx& ctx, const Entry& e, ShellDecl* out);
void ParseMcpServers(FileCtx& ctx, const Entry& e, std::vector<McpServerDecl>* out);

/// Loader loads one top-level file and, recursively, its sub-workflows.
class Loader {
 public:
  explicit Loader(Diags& diags) : diags_(diags) {}
  /// Override makes LoadFile read text for abs instead of the file (unsaved editor text).
  void Override(const std::string& abs, std::string text) { overrides_[abs] = std::move(text); }
  /// LoadFile returns the (possibly partial) workflow, or null when the file is unusable.
  std::shared_ptr<Workflow> LoadFile(const std::string& abs, const std::string& display);
  /// LoadSub resolves rel against the including file and loads it, reporting include cycles
  /// at pos; *ok is false when the sub-workflow has errors of its own.
  std::shared_ptr<Workflow> LoadSub(FileCtx& ctx, const std::string& rel, Pos pos, bool* ok, bool pattern_ref = false);

 private:
  std::shared_ptr<Workflow> Parse(const Source& src, const YAML::Node& root);
  Diags& diags_;
  std::vector<std::string> stack_;  // absolute paths being loaded, outermost first
  struct Done {
    std::shared_ptr<Workflow> wf;
    bool ok = false;
  };
  std::map<std::string, Done> done_;  // absolute path -> result (each file is loaded once)
  std::map<std::string, std::string> overrides_;
};

}  // namespace sw::workflow::internal
