// Prompt templates: Mustache, rendered against the same Scope as expressions.
//
// Supported: {{name}}, {{{name}}} and {{&name}} (all unescaped: prompts are not HTML),
// {{#name}}...{{/name}} sections (list: repeat per element; truthy non-list: once, pushed as
// context; falsy: skip), {{^name}}...{{/name}} inverted sections, {{! comments }}, and {{.}}
// for the current element. Names are dotted paths (nodes.plan.json.tasks.0.title or
// nodes.plan.json.tasks[0].title). Inside a section a name is looked up first in the section's
// element (and its enclosing elements), then in the scope. Values render as: string as is,
// number/bool as JSON, null or missing as "", object/array as 2-space indented JSON.
// Set delimiters and partials are not supported (a parse error says so).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "workflow/expr.h"

namespace sw::tmpl {

struct Piece;  // defined in template.cc

class Template {
 public:
  /// Parse; *error_offset (if given) receives the 0-based byte offset of the problem
  /// (unclosed tag, mismatched section end, unsupported tag).
  static Result<std::shared_ptr<const Template>> Parse(std::string_view source, size_t* error_offset = nullptr);

  /// Render resolves names against scope; names that resolve to nothing are appended to
  /// *missing (if given) once each, and render as "".
  Result<std::string> Render(const expr::Scope& scope, std::vector<std::string>* missing = nullptr) const;

  /// References lists the paths used outside any section, plus section names themselves, plus
  /// names inside sections whose first segment is "nodes" or "inputs" (absolute by convention).
  const std::vector<expr::Path>& References() const { return refs_; }
  const std::string& source() const { return source_; }

  ~Template();
  Template(const Template&) = delete;
  Template& operator=(const Template&) = delete;

 private:
  Template();
  std::string source_;
  std::vector<std::unique_ptr<Piece>> pieces_;
  std::vector<expr::Path> refs_;
};

using TemplatePtr = std::shared_ptr<const Template>;

/// ValueToText renders a JSON value as a template would.
std::string ValueToText(const expr::json& v);

}  // namespace sw::tmpl
