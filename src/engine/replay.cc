#include "engine/replay.h"

#include <climits>

#include "base/hash.h"
#include "base/strings.h"
#include "llm/provider.h"

namespace sw::engine {
namespace {

using json = nlohmann::json;

/// Reads says whether any template or condition of node n reads inputs.<name>.
bool ReadsInput(const workflow::Node& n, const std::string& name) {
  auto in = [&](const std::vector<expr::Path>& paths) {
    for (const auto& p : paths)
      if (p.size() >= 2 && !p[0].is_index() && p[0].key == "inputs" && !p[1].is_index() && p[1].key == name)
        return true;
    return false;
  };
  auto text = [&](const std::optional<workflow::Text>& t) { return t && t->tmpl && in(t->tmpl->References()); };
  auto cond = [&](const std::optional<workflow::Condition>& c) { return c && c->expr && in(c->expr->Paths()); };
  if (text(n.system) || text(n.prompt) || text(n.message) || cond(n.when)) return true;
  if (n.loop && n.loop->cond.expr && in(n.loop->cond.expr->Paths())) return true;
  if (n.map && n.map->over.expr && in(n.map->over.expr->Paths())) return true;
  for (const auto& [ptr, t] : n.arg_templates)
    if (t && in(t->References())) return true;
  for (const auto& [k, t] : n.with)
    if (t.tmpl && in(t.tmpl->References())) return true;
  return false;
}

std::string Rehash(const std::string& old, const std::string& what) {
  Hasher h;
  h.Add(old).Add(what);
  return h.HexDigest();
}

}  // namespace

json DefinitionsJson(const workflow::Workflow& wf) {
  json d = json::object();
  for (const auto& n : wf.nodes) {
    json j{{"hash", n.definition_hash}, {"kind", workflow::NodeKindName(n.kind)}, {"needs", n.needs},
           {"model", n.model.model}};
    // What the graph draws besides the needs: the loop's back edge, the condition, the fan-out.
    if (n.loop) j["loop"] = {{"to", n.loop->to}, {"while", n.loop->cond.expr ? n.loop->cond.expr->source() : ""},
                             {"max_iterations", n.loop->max_iterations}};
    if (n.when && n.when->expr) j["when"] = n.when->expr->source();
    if (n.map && n.map->over.expr) j["map_over"] = n.map->over.expr->source();
    d[n.id] = std::move(j);
  }
  return d;
}

Result<ReplayPlan> PlanReplay(std::shared_ptr<const workflow::Workflow> wf_in, const ReplayChanges& changes,
                              const json& source_defs) {
  auto wf = std::make_shared<workflow::Workflow>(*wf_in);
  const size_t n = wf->nodes.size();
  std::vector<std::string> ids;
  for (const auto& node : wf->nodes) ids.push_back(node.id);
  auto find = [&](const std::string& id, const char* flag) -> Result<int> {
    auto it = wf->index.find(id);
    if (it != wf->index.end()) return it->second;
    std::string hint = DidYouMean(id, ids);
    return InvalidInput(std::string(flag) + ": workflow " + wf->file + " has no node \"" + id + "\"" +
                        (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
  };
  // Edges: deps[i] are the nodes i needs; ancestors for the prompt check.
  std::vector<std::vector<int>> deps(n), dependents(n);
  for (size_t i = 0; i < n; ++i)
    for (const auto& need : wf->nodes[i].needs) {
      auto it = wf->index.find(need);
      if (it == wf->index.end()) continue;
      deps[i].push_back(it->second);
      dependents[static_cast<size_t>(it->second)].push_back(static_cast<int>(i));
    }
  auto closure = [&](int start, const std::vector<std::vector<int>>& edges) {
    std::vector<char> seen(n, 0);
    std::vector<int> todo{start};
    while (!todo.empty()) {
      int j = todo.back();
      todo.pop_back();
      if (seen[static_cast<size_t>(j)]) continue;
      seen[static_cast<size_t>(j)] = 1;
      for (int k : edges[static_cast<size_t>(j)]) todo.push_back(k);
    }
    return seen;
  };

  std::vector<char> seed(n, 0);
  for (const auto& id : changes.from) {
    SW_ASSIGN_OR_RETURN(int i, find(id, "--from"));
    seed[static_cast<size_t>(i)] = 1;
  }
  for (const auto& [id, model] : changes.models) {
    SW_ASSIGN_OR_RETURN(int i, find(id, "--model"));
    auto& node = wf->nodes[static_cast<size_t>(i)];
    if (node.kind != workflow::NodeKind::kLlm && node.kind != workflow::NodeKind::kAgent)
      return InvalidInput("--model " + id + "=" + model + ": node \"" + id + "\" is a " +
                          workflow::NodeKindName(node.kind) + " node and calls no model");
    std::string prov, name;
    SW_RETURN_IF_ERROR(llm::SplitModel(model, &prov, &name).Annotate("--model " + id));
    node.model.model = model;
    node.definition_hash = Rehash(node.definition_hash, "model=" + model);
    seed[static_cast<size_t>(i)] = 1;
  }
  for (const auto& [id, text] : changes.prompt_text) {
    SW_ASSIGN_OR_RETURN(int i, find(id, "--prompt"));
    auto& node = wf->nodes[static_cast<size_t>(i)];
    auto pit = changes.prompts.find(id);
    std::string file = pit == changes.prompts.end() ? "--prompt" : pit->second;
    if (!node.prompt)
      return InvalidInput("--prompt " + id + "=" + file + ": node \"" + id + "\" is a " +
                          workflow::NodeKindName(node.kind) + " node and has no prompt");
    auto problems = workflow::CheckPrompt(*wf, id, file, text);
    if (!problems.empty()) {
      std::string msg;
      for (const auto& d : problems) msg += (msg.empty() ? "" : "\n") + d.ToString();
      return InvalidInput(msg);
    }
    auto t = tmpl::Template::Parse(text);
    if (!t.ok()) return InvalidInput(file + ": " + t.status().message());
    workflow::Text replaced = *node.prompt;
    replaced.tmpl = *t;
    replaced.file = file;
    replaced.pos = workflow::Pos{1, 1};
    node.prompt = replaced;
    node.definition_hash = Rehash(node.definition_hash, "prompt=" + text);
    seed[static_cast<size_t>(i)] = 1;
  }
  for (const auto& name : changes.inputs) {
    bool declared = false;
    for (const auto& d : wf->inputs) declared |= d.name == name;
    if (!declared) return InvalidInput("--input " + name + ": workflow " + wf->file + " declares no input \"" + name + "\"");
    for (size_t i = 0; i < n; ++i)
      if (ReadsInput(wf->nodes[i], name)) seed[i] = 1;
  }

  ReplayPlan plan;
  std::vector<char> live(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (!seed[i]) continue;
    plan.changed.push_back(wf->nodes[i].id);
    auto down = closure(static_cast<int>(i), dependents);
    for (size_t j = 0; j < n; ++j) live[j] |= down[j];
  }
  // A loop whose owner runs live runs its body again from the second round on, so body nodes
  // above the change reuse only their first round.
  std::vector<int> last_iteration(n, INT_MAX);
  for (size_t o = 0; o < n; ++o) {
    const auto& owner = wf->nodes[o];
    if (!owner.loop || !live[o]) continue;
    auto it = wf->index.find(owner.loop->to);
    if (it == wf->index.end()) continue;
    auto below_to = closure(it->second, dependents);
    auto above_owner = closure(static_cast<int>(o), deps);
    for (size_t j = 0; j < n; ++j)
      if (below_to[j] && above_owner[j] && !live[j]) last_iteration[j] = 0;
  }
  for (size_t i = 0; i < n; ++i) {
    const auto& node = wf->nodes[i];
    if (live[i]) {
      plan.live.push_back(node.id);
      continue;
    }
    plan.reuse[node.id] = last_iteration[i];
    if (source_defs.is_object()) {
      // A node added since has nothing stored: it simply runs. A changed one is drift.
      auto it = source_defs.find(node.id);
      if (it != source_defs.end() && (!it->is_object() || it->value("hash", "") != node.definition_hash))
        plan.drift.push_back(node.id);
    }
  }
  plan.workflow = wf;
  return plan;
}

}  // namespace sw::engine
