// RunScope resolves `inputs.*`, `nodes.ID.{output,json,status,error,iteration}` and a map's
// item name against live run state, for conditions and templates.
#pragma once

#include "workflow/expr.h"
#include "workflow/template.h"

namespace sw::engine {

class Runner;

class RunScope : public expr::Scope {
 public:
  /// node: the node being evaluated (its map item name resolves when item >= 0).
  RunScope(const Runner* runner, int node, int item) : runner_(runner), node_(node), item_(item) {}
  std::optional<expr::json> Resolve(const expr::Path& path) const override;

 private:
  const Runner* runner_;
  int node_;
  int item_;
};

/// RenderOr renders t, or returns "" and sets *err when rendering fails; names that resolved
/// to nothing are added to *missing.
std::string RenderOr(const tmpl::Template& t, const expr::Scope& scope, std::vector<std::string>* missing, Status* err);

}  // namespace sw::engine
