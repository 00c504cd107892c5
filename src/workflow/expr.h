// The condition language for `when`, `loop.while` and `map.over`: a small, safe expression
// language of our own (no calls, no side effects), parsed at load time.
//
//   expr    := or
//   or      := and ('||' and)*
//   and     := not ('&&' not)*
//   not     := '!' not | compare
//   compare := primary (('=='|'!='|'<'|'<='|'>'|'>='|'in'|'contains'|'matches') primary)?
//   primary := literal | path | '(' expr ')' | '[' (expr (',' expr)*)? ']'
//   literal := 'str' | "str" | number | true | false | null
//   path    := ident ('.' ident | '.' digits | '[' digits ']')*
//
// Missing paths evaluate to null. Truthiness: null, false, 0, "", [] and {} are false.
// `a in b`: b is a list (element equality) or a string (substring) or object (key).
// `a contains b` is `b in a`. `a matches 're'` uses RE2 (compiled at parse time when the
// pattern is a literal). Ordering comparisons need two numbers or two strings; anything
// else is an evaluation error that names both types.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace sw::expr {

using json = nlohmann::json;

/// PathElem is one step of a path: an object key, or a list index when index >= 0.
struct PathElem {
  std::string key;
  int64_t index = -1;
  bool is_index() const { return index >= 0; }
};
using Path = std::vector<PathElem>;

/// PathToString renders a path as written: nodes.plan.json.tasks[0].name
std::string PathToString(const Path& path);
/// ParsePath parses "a.b[0].c" / "a.b.0.c" (Mustache-style names); an error for malformed input.
Result<Path> ParsePath(std::string_view dotted);

/// Walk follows path[start..] inside root; nullptr when a step is missing.
const json* Walk(const json& root, const Path& path, size_t start = 0);

/// Scope resolves full paths to values; the engine implements it over run state.
class Scope {
 public:
  virtual ~Scope() = default;
  virtual std::optional<json> Resolve(const Path& path) const = 0;
};

/// JsonScope resolves paths inside one JSON object (for tests and simple callers).
class JsonScope : public Scope {
 public:
  explicit JsonScope(json root) : root_(std::move(root)) {}
  std::optional<json> Resolve(const Path& path) const override;

 private:
  json root_;
};

class Node;  // AST node, defined in expr.cc

/// Expr is a parsed, immutable expression; cheap to share between threads.
class Expr {
 public:
  /// Parse returns the expression or an InvalidInput status; *error_offset (if given) is set to
  /// the 0-based byte offset in source where the problem is.
  static Result<std::shared_ptr<const Expr>> Parse(std::string_view source, size_t* error_offset = nullptr);

  Result<json> Eval(const Scope& scope) const;
  /// EvalBool evaluates and applies truthiness.
  Result<bool> EvalBool(const Scope& scope) const;
  /// Paths lists every path the expression reads (for load-time reference checks).
  const std::vector<Path>& Paths() const { return paths_; }
  const std::string& source() const { return source_; }

  ~Expr();
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

 private:
  Expr() = default;
  std::string source_;
  std::unique_ptr<Node> root_;
  std::vector<Path> paths_;
};

using ExprPtr = std::shared_ptr<const Expr>;

/// Truthy applies the truthiness rule above.
bool Truthy(const json& v);

}  // namespace sw::expr
