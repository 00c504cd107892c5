#include "engine/scope.h"

#include "engine/runner.h"

namespace sw::engine {

std::optional<expr::json> RunScope::Resolve(const expr::Path& path) const {
  if (path.empty() || path[0].is_index()) return std::nullopt;
  const std::string& root = path[0].key;
  const auto& wf = *runner_->wf_;
  if (root == "inputs") {
    const json* v = expr::Walk(runner_->options_.inputs, path, 1);
    if (!v) return std::nullopt;
    return *v;
  }
  if (root == "nodes") {
    if (path.size() < 2 || path[1].is_index()) return std::nullopt;
    auto it = wf.index.find(path[1].key);
    if (it == wf.index.end()) return std::nullopt;
    const NodeState& s = runner_->nodes_[static_cast<size_t>(it->second)];
    if (path.size() == 2) {
      if (s.output.is_null()) return std::nullopt;
      return s.output;
    }
    const std::string& field = path[2].key;
    if (field == "status") return std::string(StatusName(s.status));
    if (field == "error") return s.error;
    if (field == "iteration") return s.iteration;
    if (field == "output") {
      if (s.output.is_null()) return std::nullopt;
      if (path.size() > 3) return std::nullopt;
      if (s.output.is_string()) return s.output;
      return s.output.dump(2);
    }
    if (field == "json") {
      if (s.output.is_null()) return std::nullopt;
      const json* v = expr::Walk(s.output, path, 3);
      if (!v) return std::nullopt;
      return *v;
    }
    return std::nullopt;
  }
  if (node_ >= 0 && item_ >= 0) {
    const auto& def = wf.nodes[static_cast<size_t>(node_)];
    const NodeState& s = runner_->nodes_[static_cast<size_t>(node_)];
    if (def.map && root == def.map->as && item_ < static_cast<int>(s.items.size())) {
      const json* v = expr::Walk(s.items[static_cast<size_t>(item_)], path, 1);
      if (!v) return std::nullopt;
      return *v;
    }
    if (def.map && root == def.map->as + "_index") return item_;
  }
  return std::nullopt;
}

std::string RenderOr(const tmpl::Template& t, const expr::Scope& scope, std::vector<std::string>* missing, Status* err) {
  auto r = t.Render(scope, missing);
  if (!r.ok()) {
    *err = r.status();
    return "";
  }
  return std::move(r).value();
}

}  // namespace sw::engine
