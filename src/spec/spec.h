// spec: traceability a machine can check. Spec documents (Markdown under specs/) define items:
// headings that start with an ID (`## REQ-01-001 User can sign up`) and, in the formats that
// write them so, list items (`- **FR-001**: System MUST …`, `- [ ] T012 [US1] …`,
// `[US-AC-K3M] As a …`) and table rows; an ID mentioned in an item's body links it to that
// (upstream) item; code and tests cite IDs in comments or test names. The trace graph joins
// them, and check / trace / impact / matrix read it. A format is a preset of the grammar and
// the item forms (Presets()); with nothing configured it is detected from the spec tree.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"

namespace sw::tools {
class Registry;
}

namespace sw::spec {

/// Severity of a rule's findings: error fails `spec check` (exit 1), warning is reported, off
/// is not checked.
enum class Severity { kOff, kWarning, kError };

/// HeadingId turns a heading that names no ID into an item: a heading whose text matches
/// `pattern` (RE2, anchored at the start) is the item `id`, with \1.. replaced by the groups
/// (spec-kit: "User Story 1 - Sign up (Priority: P1)" is US1, which its tasks cite as [US1]).
struct HeadingId {
  std::string pattern, id;
};

/// Config is the `spec:` section of specwright.yaml; every field has a default.
struct Config {
  std::string root = ".";        // the project (paths below are relative to it)
  std::string specs_dir = "specs";
  /// The format the spec tree is read as: "specwright", "spec-kit" or "area" (a preset of the
  /// fields below, Presets()). LoadConfig detects it from the tree when specwright.yaml sets
  /// neither it nor a grammar key (format_detected is then true).
  std::string format = "specwright";
  bool format_detected = false;
  /// When detection found no item in any format: the formats tried, for the `no-items` error.
  std::vector<std::string> formats_tried;
  /// Where items are: "heading" (a heading that starts with an ID), "list" (a list item that
  /// starts with an ID and a title: plain, bold-led `**ID**:`, bracketed `[ID]`, or a checkbox
  /// `[ ] ID`), "table" (a table row whose first cell is an ID).
  std::vector<std::string> items{"heading"};
  /// "project": one ID space; "feature": each folder directly below specs_dir numbers its own
  /// IDs (spec-kit's specs/001-a/FR-001 and specs/002-b/FR-001 are two items, written
  /// 001-a/FR-001 when the feature is not clear from where the reference is).
  std::string id_scope = "project";
  std::vector<HeadingId> heading_ids;
  std::vector<std::string> prefixes{"REQ", "BR", "ENT", "US", "SVC", "API", "ERR", "TC", "DEC"};
  /// id_pattern is an RE2 regular expression for one whole ID, dashes as separators; "" = the
  /// default PREFIX-NN-NNN over `prefixes`. In code, '_' is accepted wherever it has '-'.
  std::string id_pattern;
  /// code_id_pattern is the pattern for IDs cited in code when it differs ("" = id_pattern):
  /// spec-kit's task and story IDs (T012, US1) are too short to be found in code safely.
  std::string code_id_pattern;
  std::string requirement_prefix = "REQ";
  std::string test_case_prefix = "TC";
  /// A code file is a test when its path matches one of these globs.
  std::vector<std::string> test_globs{"**/test/**", "**/tests/**", "**/*_test.*", "**/*.test.*", "**/test_*",
                                      "**/*_spec.*", "**/*.spec.*", "**/*Test.*"};
  /// Files the code scan leaves out (globs, relative to the root): Markdown outside the specs
  /// (a README or PR.md that lists IDs is not code citing them) and the config itself.
  std::vector<std::string> exclude{"**/*.md", "**/*.markdown", "specwright.yaml"};
  /// Matrix columns after the requirement: prefixes, then code and tests.
  std::vector<std::string> matrix_levels{"US", "SVC", "API"};
  std::map<std::string, Severity> rules;  // rule name -> severity (defaults in DefaultRules)
  /// The last recorded test run, relative to the root: {"cases": {"TC-06-001": "passed" |
  /// "failed" | "not run", ...}} (written by the developer process's QA). When it exists the
  /// matrix has a `passing` column and `req-test-not-passed` checks it.
  std::string test_results = "test-results.json";
  int threads = 0;                        // code scan threads; 0 = hardware concurrency
};

/// Preset is one spec format: its name, what it looks like (for messages) and how it sets the
/// Config fields that define a format.
struct Preset {
  std::string name, example;
  std::function<void(Config*)> apply;
  /// pattern_for is the preset's id_pattern for other prefixes (spec.prefixes without
  /// spec.id_pattern); null where its IDs have no one shape (spec-kit): both must be given.
  std::function<std::string(const std::vector<std::string>&)> pattern_for;
};
const std::vector<Preset>& Presets();

/// DefaultRules: duplicate-id, dangling-link, unknown-citation are errors; the coverage rules
/// (req-no-downstream, no-upstream, req-no-code, req-no-test, req-test-not-passed) and
/// link-cycle are warnings; test-results (the recorded test run cannot be read) and no-items
/// (spec documents, or none, but no item found in them) are errors.
std::map<std::string, Severity> DefaultRules();

/// LoadConfig reads the `spec:` section of root/specwright.yaml (absent: defaults); errors
/// name the file, line and the offending value.
Result<Config> LoadConfig(const std::string& root);

/// Grammar recognises IDs: in spec text (dashes) and in code (dashes or underscores).
class Grammar {
 public:
  static Result<Grammar> Make(const Config& c);
  /// Find calls fn(id, offset) for every ID in text, code spelling allowed when code is set
  /// (ids normalised to dashes); an ID touching a letter or digit is not one.
  void Find(std::string_view text, bool code, const std::function<void(std::string_view id, size_t offset)>& fn) const;
  std::string PrefixOf(const std::string& id) const;
  /// IsId: s is one ID, or (with id_scope feature) FEATURE/ID.
  bool IsId(const std::string& s) const;
  /// How items are written (Config::items, heading_ids, id_scope).
  bool HeadingItems() const;
  bool ListItems() const;
  bool TableItems() const;
  bool Scoped() const;
  /// HeadingId is the ID a heading_ids rule gives a heading's text ("" when none matches);
  /// *rest is the text after what the rule matched.
  std::string HeadingId(const std::string& text, std::string* rest) const;
  /// ScopeOf is the feature a spec document belongs to: its folder directly below specs_dir
  /// (with id_scope feature; "" otherwise, or for a document directly in specs_dir).
  std::string ScopeOf(const std::string& file) const;
  struct Impl;
  std::shared_ptr<const Impl> impl;
};

/// Location is a file (relative to the root) and a 1-based line.
struct Location {
  std::string file;
  int line = 0;
  std::string ToString() const { return file + ":" + std::to_string(line); }
  auto operator<=>(const Location&) const = default;
};

/// Link is an ID an item's body mentions (its upstream), and where.
struct Link {
  std::string id;
  Location at;
};

/// Item is one spec item: a heading that starts with an ID, its body up to the next heading of
/// the same or a higher level; or a list item or table row that starts with one. With id_scope
/// feature, id is FEATURE/ID and scope the feature's folder.
struct Item {
  std::string id, prefix, title, scope;
  Location at;
  int level = 0;
  std::string body;  // the Markdown source of the body (what --since compares)
  std::vector<Link> links;
};

/// Citation is an ID cited in code or a test.
struct Citation {
  std::string id;
  Location at;
  bool test = false;
};

/// Corpus is everything the graph is built from.
struct Corpus {
  std::vector<Item> items;       // in file order
  std::vector<Citation> citations;
  std::vector<std::string> spec_files;
  int64_t code_files = 0, code_bytes = 0;
  /// Citations a `specwright:ignore` comment left out.
  int64_t suppressed = 0;
  /// The recorded test run (Config::test_results), when there is one: test case -> passed,
  /// failed or not run.
  bool has_results = false;
  std::map<std::string, std::string> results;
  /// Why the results file could not be used ("" when it could, or there is none): a finding
  /// of rule test-results, not a failure, so every other check and tool still works.
  std::string results_error;
};

/// ParseSpecs parses Markdown documents ({path relative to root, text}) with cmark. IDs in
/// code spans and code blocks are not links unless the item has a line `Links-in-code: yes`.
Result<std::vector<Item>> ParseSpecs(const Grammar& g, const std::vector<std::pair<std::string, std::string>>& docs);

/// ResolveLinks (ParseSpecs calls it) qualifies each link with its feature (id_scope feature):
/// its own feature's item first, then the one feature defining the ID; one several features
/// define stays as written.
void ResolveLinks(const Grammar& g, std::vector<Item>* items);
/// ScopeIndex is the items' IDs by feature (scope.cc); MakeScopeIndex builds it once for a
/// graph with id_scope feature.
struct ScopeIndex;
std::shared_ptr<const ScopeIndex> MakeScopeIndex(const std::vector<Item>& items);

/// QualifierBefore is the FEATURE of a FEATURE/ID reference: the word before a '/' that
/// directly precedes the ID at off in text ("" when there is none).
std::string QualifierBefore(std::string_view text, size_t off);

/// ReadSpecDocs reads every *.md below root/specs_dir, sorted by path.
Result<std::vector<std::pair<std::string, std::string>>> ReadSpecDocs(const Config& c);

/// ScanCode walks root in parallel (honouring .gitignore files, skipping .git, the specs
/// folder and binary files) and reports every cited ID with file:line. A line holding
/// `specwright:ignore` cites nothing (`specwright:ignore ID, ID` only those IDs), nor does the
/// line after one holding `specwright:ignore-next-line`; *suppressed counts what they left out.
Result<std::vector<Citation>> ScanCode(const Config& c, const Grammar& g, int64_t* files = nullptr,
                                       int64_t* bytes = nullptr, int64_t* suppressed = nullptr);

/// ResolveCitations qualifies the citations' IDs with their feature (id_scope feature): an ID
/// one feature defines is that feature's; one several define is left as written.
void ResolveCitations(const Grammar& g, const std::vector<Item>& items, std::vector<Citation>* cites);

/// Summary is the line that says how the tree was read: "read as spec-kit (detected): 3
/// features, 41 items".
std::string Summary(const Config& c, const Corpus& corpus);

/// Load is ReadSpecDocs + ParseSpecs + ScanCode.
Result<Corpus> Load(const Config& c, const Grammar& g);

/// Project is a project's traceability as it is now: its `spec:` config, the grammar it
/// defines, and the corpus (spec items and code citations).
struct Project {
  Config config;
  Grammar grammar;
  Corpus corpus;
};
/// Open is LoadConfig(root) + Grammar::Make + Load.
Result<Project> Open(const std::string& root);

/// Finding is one problem `spec check` reports.
struct Finding {
  std::string rule;
  Severity severity = Severity::kWarning;
  Location at;
  std::string id;
  std::string message;
};

/// Graph is the trace graph: items by ID, links both ways, citations by ID.
class Graph {
 public:
  explicit Graph(const Corpus& c, const Config& config);
  std::vector<Finding> Check() const;  // sorted by file, line
  const Item* Find(const std::string& id) const;
  /// Resolve is the item id a user means: id itself, or with id_scope feature the one feature's
  /// item a bare ID names (FR-001 when only one feature defines it); "" when none or several
  /// (*candidates then lists the several).
  std::string Resolve(const std::string& id, std::vector<std::string>* candidates = nullptr) const;
  /// ResolveId is an ID a person typed, checked against the grammar and resolved as above
  /// (kept as typed when nothing defines it: trace and impact say so); an ID several features
  /// define is an error that names them.
  Result<std::string> ResolveId(const Grammar& grammar, const std::string& id) const;
  /// UnclearNote says why a reference left as written is not clear ("FR-001 is defined in 2
  /// features (…); write 001-a/FR-001 to say which"), or "" when nothing defines it at all.
  std::string UnclearNote(const std::string& raw) const;
  /// Up is every item id reachable by following links (what id derives from), nearest first.
  std::vector<std::string> Up(const std::string& id) const;
  /// Down is every item that derives from id, directly or not, nearest first.
  std::vector<std::string> Down(const std::string& id) const;
  /// Reach is a requirement and what derives from it, not through other requirements (what
  /// counts for its coverage).
  std::vector<std::string> Reach(const std::string& id) const;
  const std::vector<Citation>& CitationsOf(const std::string& id) const;
  const std::vector<std::string>& Parents(const std::string& id) const;   // ids its body links to
  const std::vector<std::string>& Children(const std::string& id) const;  // items linking to it
  const std::vector<std::vector<std::string>>& Cycles() const { return cycles_; }
  const Corpus& corpus() const { return corpus_; }
  const Config& config() const { return config_; }

 private:
  const Corpus& corpus_;
  const Config& config_;
  std::map<std::string, std::vector<const Item*>> defs_;
  std::map<std::string, std::vector<std::string>> up_, down_;
  std::map<std::string, std::vector<Citation>> cites_;
  std::vector<std::vector<std::string>> cycles_;
  std::shared_ptr<const ScopeIndex> scopes_;  // with id_scope feature only
};

/// TraceReport: the chain of one ID up to the requirements and down to code and tests.
struct TraceReport {
  std::string id;
  const Item* item = nullptr;
  std::vector<std::string> up, down;
  std::vector<Citation> code, tests;  // citing the id or anything below it
};
Result<TraceReport> Trace(const Graph& g, const std::string& id);
std::string ToText(const Graph& g, const TraceReport& r);
std::string ToJson(const Graph& g, const TraceReport& r);

/// Impact is everything downstream of changed IDs: the modification router's input.
struct Impact {
  std::vector<std::string> changed;                 // the IDs asked about (with --since: every changed one)
  std::vector<std::string> added, removed, modified;  // --since only
  std::vector<std::string> items;                               // changed and below, in order
  std::map<std::string, std::vector<int>> code;                 // file -> lines citing them
  std::map<std::string, std::vector<int>> tests;
  std::vector<std::string> unknown;  // asked-for IDs that no spec defines
};
Impact ImpactOf(const Graph& g, const std::vector<std::string>& ids);
/// SpecChanges compares the items of two spec trees: added, removed and changed IDs.
void SpecChanges(const std::vector<Item>& before, const std::vector<Item>& after, Impact* out);
/// ReadSpecDocsAt reads the spec documents as they were at git revision rev of root's repo.
Result<std::vector<std::pair<std::string, std::string>>> ReadSpecDocsAt(const Config& c, const std::string& rev);
std::string ToText(const Impact& r);
std::string ToJson(const Impact& r);
/// ImpactOfChange is ImpactOf(ids) and, with since, of every ID added, modified or removed in
/// the spec documents: since a git revision (against the working tree) or between A..B (a
/// removed one is not "unknown"); the impact is taken in the current graph.
Result<Impact> ImpactOfChange(const Graph& g, const Grammar& grammar, std::vector<std::string> ids, const std::string& since);

/// Matrix: one row per requirement; columns the matrix levels, code and tests (and `passing`
/// with a recorded test run); coverage is the share of requirements with at least one entry
/// per column — for `passing`, the share whose test cases all passed.
struct Matrix {
  std::vector<std::string> columns;  // e.g. US, SVC, API, code, tests
  struct Row {
    std::string id, title;
    std::vector<std::vector<std::string>> cells;
  };
  std::vector<Row> rows;
  std::vector<double> coverage;  // percent, per column
};
Matrix MatrixOf(const Graph& g);
std::string ToMarkdown(const Matrix& m);
std::string ToCsv(const Matrix& m);
std::string ToJson(const Matrix& m);

std::string ToText(const std::vector<Finding>& f);
/// CheckText is `spec check`'s report: the findings, how the tree was read, and the counts
/// ("2 errors, 1 warning: 41 items in 9 spec files, 30 citations in 12 code files").
std::string CheckText(const Config& c, const Corpus& corpus, const std::vector<Finding>& findings);
std::string ToJson(const std::vector<Finding>& f);

/// MergeItems puts the items of `incoming` (Markdown with item headings) into `doc`: an item
/// whose ID the document has replaces that item's section (heading to the end of its body) and
/// nothing else (an item given back unchanged is not reported as replaced); a new ID is appended. Rewriting an existing item not in `allowed`, or adding
/// one that `known` says another document defines, is an error naming it, so an update can
/// only touch what it was given. Text outside the incoming items is ignored.
Result<std::string> MergeItems(const Grammar& g, const std::string& doc, const std::string& incoming,
                               const std::set<std::string>& allowed, const std::set<std::string>& known,
                               std::vector<std::string>* replaced = nullptr, std::vector<std::string>* added = nullptr);

/// AddSpecTools registers the traceability tools, for any workflow: builtin://spec.check
/// (the `spec check` findings of the workspace, optionally limited to some rules and ID
/// prefixes) and builtin://spec.merge (write items into a spec document: the whole text, or
/// MergeItems limited to `allowed` IDs).
void AddSpecTools(tools::Registry* registry);

}  // namespace sw::spec
