// ValidateGraph: needs, cycles (named in full), loops, and what every condition and template
// reads; then the topological order. Works on nodes in file order, sorts at the end.
#include <algorithm>
#include <deque>
#include <filesystem>
#include <functional>
#include <set>

#include "base/strings.h"
#include "workflow/load_internal.h"

namespace sw::workflow::internal {
namespace {

const std::vector<std::string> kNodeFields = {"output", "json", "status", "error", "iteration"};

/// Graph is the needs relation by index, with transitive ancestors and loop bodies.
struct Graph {
  size_t n = 0;
  std::map<std::string, int> id;
  std::vector<std::vector<int>> deps;        // i needs deps[i] (known, not self)
  std::vector<std::vector<int>> dependents;  // j is needed by dependents[j], ascending
  std::vector<std::vector<char>> anc;        // anc[i][j]: j is an ancestor of i
  std::vector<std::vector<char>> body;       // body[owner][i]: i is in the loop of owner
  int Find(const std::string& s) const {
    auto it = id.find(s);
    return it == id.end() ? -1 : it->second;
  }
};

std::vector<std::string> Ids(const Workflow& wf) {
  std::vector<std::string> out;
  for (const auto& n : wf.nodes) out.push_back(n.id);
  return out;
}

std::string Suggest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string near = DidYouMean(word, candidates);
  return near.empty() ? "" : " (did you mean " + Quote(near) + "?)";
}

void CheckNeeds(FileCtx& ctx, const Workflow& wf, const std::vector<NodeInfo>& infos, Graph* g) {
  std::vector<std::string> ids = Ids(wf);
  for (size_t i = 0; i < g->n; ++i) {
    const Node& node = wf.nodes[i];
    for (size_t k = 0; k < node.needs.size(); ++k) {
      const std::string& dep = node.needs[k];
      Pos pos = k < infos[i].needs_pos.size() ? infos[i].needs_pos[k] : node.pos;
      int j = g->Find(dep);
      if (j < 0) {
        ctx.Error(pos, "node " + Quote(node.id) + " needs " + Quote(dep) + ", which is not a node" + Suggest(dep, ids));
      } else if (static_cast<size_t>(j) == i) {
        ctx.Error(pos, "node " + Quote(node.id) + " needs itself");
      } else {
        g->deps[i].push_back(j);
        g->dependents[static_cast<size_t>(j)].push_back(static_cast<int>(i));
      }
    }
  }
}

/// Sccs returns the strongly connected components of the needs graph (Tarjan).
std::vector<std::vector<int>> Sccs(const Graph& g) {
  std::vector<int> index(g.n, -1), low(g.n, 0);
  std::vector<char> on(g.n, 0);
  std::vector<int> stack;
  std::vector<std::vector<int>> out;
  int counter = 0;
  std::function<void(int)> visit = [&](int v) {
    index[v] = low[v] = counter++;
    stack.push_back(v);
    on[v] = 1;
    for (int w : g.deps[v]) {
      if (index[w] < 0) {
        visit(w);
        low[v] = std::min(low[v], low[w]);
      } else if (on[w]) {
        low[v] = std::min(low[v], index[w]);
      }
    }
    if (low[v] == index[v]) {
      std::vector<int> comp;
      int w;
      do {
        w = stack.back();
        stack.pop_back();
        on[w] = 0;
        comp.push_back(w);
      } while (w != v);
      out.push_back(std::move(comp));
    }
  };
  for (size_t v = 0; v < g.n; ++v)
    if (index[v] < 0) visit(static_cast<int>(v));
  return out;
}

/// ReportCycles names one whole cycle per strongly connected component, in data-flow order
/// (a -> b means b needs a), starting from the component's first node in the file.
void ReportCycles(FileCtx& ctx, const Workflow& wf, const Graph& g) {
  std::vector<std::vector<int>> comps = Sccs(g);
  std::sort(comps.begin(), comps.end(), [](const auto& a, const auto& b) {
    return *std::min_element(a.begin(), a.end()) < *std::min_element(b.begin(), b.end());
  });
  for (const auto& comp : comps) {
    if (comp.size() < 2) continue;
    std::set<int> in(comp.begin(), comp.end());
    int start = *in.begin();
    // Breadth-first from start along data flow finds a shortest way back to it.
    std::vector<int> parent(g.n, -2);
    std::deque<int> queue = {start};
    parent[static_cast<size_t>(start)] = -1;
    int last = -1;
    while (!queue.empty() && last < 0) {
      int u = queue.front();
      queue.pop_front();
      for (int w : g.dependents[static_cast<size_t>(u)]) {
        if (!in.count(w)) continue;
        if (w == start) {
          last = u;
          break;
        }
        if (parent[static_cast<size_t>(w)] == -2) {
          parent[static_cast<size_t>(w)] = u;
          queue.push_back(w);
        }
      }
    }
    if (last < 0) continue;  // cannot happen in a component of size >= 2
    std::vector<std::string> path;
    for (int v = last; v >= 0; v = parent[static_cast<size_t>(v)]) path.push_back(wf.nodes[static_cast<size_t>(v)].id);
    std::reverse(path.begin(), path.end());
    path.push_back(wf.nodes[static_cast<size_t>(start)].id);
    ctx.Error(wf.nodes[static_cast<size_t>(start)].pos, "dependency cycle: " + Join(path, " -> "));
  }
}

void ComputeAncestors(Graph* g) {
  g->anc.assign(g->n, std::vector<char>(g->n, 0));
  for (size_t i = 0; i < g->n; ++i) {
    std::vector<int> todo(g->deps[i].begin(), g->deps[i].end());
    while (!todo.empty()) {
      int j = todo.back();
      todo.pop_back();
      if (g->anc[i][static_cast<size_t>(j)]) continue;
      g->anc[i][static_cast<size_t>(j)] = 1;
      for (int k : g->deps[static_cast<size_t>(j)]) todo.push_back(k);
    }
  }
}

void CheckLoops(FileCtx& ctx, const Workflow& wf, const std::vector<NodeInfo>& infos, Graph* g) {
  std::vector<std::string> ids = Ids(wf);
  g->body.assign(g->n, {});
  std::vector<size_t> owners;
  for (size_t x = 0; x < g->n; ++x) {
    const Node& owner = wf.nodes[x];
    if (!owner.loop) continue;
    int t = g->Find(owner.loop->to);
    Pos pos = infos[x].loop_to_pos.line ? infos[x].loop_to_pos : owner.loop->pos;
    if (t < 0) {
      ctx.Error(pos, "loop.to " + Quote(owner.loop->to) + " of node " + Quote(owner.id) + " is not a node" +
                         Suggest(owner.loop->to, ids));
      continue;
    }
    if (static_cast<size_t>(t) != x && !g->anc[x][static_cast<size_t>(t)]) {
      ctx.Error(pos, "loop of " + Quote(owner.id) + " goes back to " + Quote(owner.loop->to) +
                         ", which is not upstream of " + Quote(owner.id) +
                         "; loop.to must be the node itself or one of its ancestors");
      continue;
    }
    auto& body = g->body[x];
    body.assign(g->n, 0);
    for (size_t i = 0; i < g->n; ++i) {
      bool below_to = i == static_cast<size_t>(t) || g->anc[i][static_cast<size_t>(t)];
      bool above_owner = i == x || g->anc[x][i];
      body[i] = below_to && above_owner;
    }
    owners.push_back(x);
    // A node outside the body reading a body node must wait for the whole loop to finish.
    for (size_t d = 0; d < g->n; ++d) {
      if (body[d] || g->anc[d][x]) continue;
      const Node& dn = wf.nodes[d];
      for (size_t k = 0; k < dn.needs.size(); ++k) {
        int b = g->Find(dn.needs[k]);
        if (b < 0 || static_cast<size_t>(b) == x || !body[static_cast<size_t>(b)]) continue;
        Pos npos = k < infos[d].needs_pos.size() ? infos[d].needs_pos[k] : dn.pos;
        ctx.Error(npos, "node " + Quote(dn.id) + " needs " + Quote(dn.needs[k]) + " inside the loop of " +
                            Quote(owner.id) + " but does not depend on " + Quote(owner.id) +
                            "; it would read an unfinished iteration");
      }
    }
  }
  for (size_t a = 0; a < owners.size(); ++a) {
    for (size_t b = a + 1; b < owners.size(); ++b) {
      const auto& ba = g->body[owners[a]];
      const auto& bb = g->body[owners[b]];
      bool common = false, a_in_b = true, b_in_a = true;
      for (size_t i = 0; i < g->n; ++i) {
        common = common || (ba[i] && bb[i]);
        if (ba[i] && !bb[i]) a_in_b = false;
        if (bb[i] && !ba[i]) b_in_a = false;
      }
      if (common && !a_in_b && !b_in_a) {
        const Node& nb = wf.nodes[owners[b]];
        ctx.Error(nb.loop->pos, "the loops of " + Quote(wf.nodes[owners[a]].id) + " and " + Quote(nb.id) +
                                    " overlap partially; one loop's body must contain the other's, or they must "
                                    "not share nodes");
      }
    }
  }
}

/// RefCheck validates the paths one condition or template reads.
struct RefCheck {
  FileCtx& ctx;
  const Workflow& wf;
  const Graph& g;
  size_t node;
  bool is_condition;
  bool allow_self;   // loop.while may read its own node
  bool allow_item;   // a map node reads its item
  bool allow_loops;  // templates may read the owner of a loop they are inside

  void Check(const std::vector<expr::Path>& paths, const std::string& text, const Site& site) {
    const char* what = is_condition ? "condition" : "template";
    const Node& self = wf.nodes[node];
    std::set<std::string> seen;
    for (const auto& path : paths) {
      if (path.empty() || path[0].is_index() || path[0].key.empty() || path[0].key == ".") continue;
      const std::string& root = path[0].key;
      std::string head = path.size() > 1 && !path[1].is_index() ? root + "." + path[1].key : root;
      if (!seen.insert(head + (path.size() > 2 ? "." + path[2].key : "")).second) continue;
      Pos pos = site.Find(text, head);
      if (root == "inputs") {
        if (path.size() < 2 || path[1].is_index()) continue;
        const std::string& name = path[1].key;
        std::vector<std::string> names;
        for (const auto& d : wf.inputs) names.push_back(d.name);
        if (std::find(names.begin(), names.end(), name) == names.end())
          ctx.ErrorIn(site.file, pos,
                      std::string(what) + " reads inputs." + name + " but no input " + Quote(name) + " is declared" +
                          Suggest(name, names));
      } else if (root == "nodes") {
        if (path.size() < 2 || path[1].is_index()) continue;
        const std::string& x = path[1].key;
        int j = g.Find(x);
        if (j < 0) {
          ctx.ErrorIn(
              site.file, pos,
              std::string(what) + " reads nodes." + x + " but there is no node " + Quote(x) + Suggest(x, Ids(wf)));
          continue;
        }
        size_t ju = static_cast<size_t>(j);
        bool ok =
            g.anc[node][ju] || (allow_self && ju == node) || (allow_loops && !g.body[ju].empty() && g.body[ju][node]);
        if (!ok)
          ctx.ErrorIn(site.file, pos,
                      std::string(what) + " reads nodes." + x + " but " + Quote(x) + " is not upstream of " +
                          Quote(self.id) + " (add it to needs)");
        // A map node's output is the JSON list of its items; a sub-run's is {output, nodes}.
        if (path.size() > 2 && path[2].key == "json" && wf.nodes[ju].output != OutputKind::kJson &&
            !wf.nodes[ju].map && wf.nodes[ju].kind != NodeKind::kWorkflow)
          ctx.diags().warnings.push_back(
              Diagnostic{site.file, pos,
                         std::string(what) + " reads nodes." + x + ".json but " + Quote(x) +
                             " has output: text, so it will be null; set `output: json` on " + Quote(x) +
                             " or read nodes." + x + ".output"});
        if (path.size() > 2 && !path[2].is_index() &&
            std::find(kNodeFields.begin(), kNodeFields.end(), path[2].key) == kNodeFields.end())
          ctx.ErrorIn(site.file, pos,
                      std::string(what) + " reads nodes." + x + "." + path[2].key + " but a node has only " +
                          Join(kNodeFields, ", ") + Suggest(path[2].key, kNodeFields));
      } else if (allow_item && self.map && (root == self.map->as || root == self.map->as + "_index")) {
        continue;
      } else {
        std::string can = std::string(what) + "s can read inputs.NAME, nodes.ID";
        if (allow_item && self.map) can += ", or " + self.map->as + " (the map item)";
        ctx.ErrorIn(site.file, pos, "unknown name " + Quote(root) + " in " + what + "; " + can);
      }
    }
  }
};

void CheckReferences(FileCtx& ctx, const Workflow& wf, const std::vector<NodeInfo>& infos, const Graph& g) {
  for (size_t i = 0; i < g.n; ++i) {
    bool is_map = wf.nodes[i].map.has_value();
    for (const auto& use : infos[i].exprs) {
      RefCheck rc{ctx, wf, g, i, true, use.what == "loop.while", is_map && use.what == "when", false};
      rc.Check(use.expr->Paths(), use.expr->source(), use.site);
    }
    for (const auto& use : infos[i].templates) {
      RefCheck rc{ctx, wf, g, i, false, false, is_map, true};
      rc.Check(use.tmpl->References(), use.tmpl->source(), use.site);
    }
  }
}

/// TopoOrder is Kahn's algorithm with ties broken by file order; nodes left in cycles follow.
std::vector<size_t> TopoOrder(const Graph& g) {
  std::vector<size_t> indeg(g.n, 0), order;
  for (size_t i = 0; i < g.n; ++i) indeg[i] = g.deps[i].size();
  std::set<size_t> ready;
  for (size_t i = 0; i < g.n; ++i)
    if (indeg[i] == 0) ready.insert(i);
  std::vector<char> placed(g.n, 0);
  while (!ready.empty()) {
    size_t u = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(u);
    placed[u] = 1;
    for (int w : g.dependents[u])
      if (--indeg[static_cast<size_t>(w)] == 0) ready.insert(static_cast<size_t>(w));
  }
  for (size_t i = 0; i < g.n; ++i)
    if (!placed[i]) order.push_back(i);
  return order;
}

}  // namespace

void ValidateGraph(FileCtx& ctx, Workflow* wf, std::vector<NodeInfo>* infos) {
  Graph g;
  g.n = wf->nodes.size();
  for (size_t i = 0; i < g.n; ++i) g.id.emplace(wf->nodes[i].id, static_cast<int>(i));
  g.deps.assign(g.n, {});
  g.dependents.assign(g.n, {});
  CheckNeeds(ctx, *wf, *infos, &g);
  ReportCycles(ctx, *wf, g);
  ComputeAncestors(&g);
  CheckLoops(ctx, *wf, *infos, &g);
  CheckReferences(ctx, *wf, *infos, g);

  std::vector<size_t> order = TopoOrder(g);
  std::vector<Node> nodes;
  std::vector<NodeInfo> sorted;
  for (size_t i : order) {
    nodes.push_back(std::move(wf->nodes[i]));
    sorted.push_back(std::move((*infos)[i]));
  }
  wf->nodes = std::move(nodes);
  *infos = std::move(sorted);
  wf->index.clear();
  for (size_t i = 0; i < wf->nodes.size(); ++i) wf->index[wf->nodes[i].id] = static_cast<int>(i);
}

}  // namespace sw::workflow::internal

namespace sw::workflow {

std::vector<Diagnostic> CheckPrompt(const Workflow& wf, const std::string& node_id, const std::string& file,
                                    const std::string& text) {
  using namespace internal;
  Source src;
  src.display = file;
  src.text = text;
  Diags diags;
  FileCtx ctx(src, diags);
  size_t off = 0;
  auto t = tmpl::Template::Parse(text, &off);
  if (!t.ok()) {
    ctx.Error(PosFromOffset(text, off), t.status().message());
    return diags.errors;
  }
  auto it = wf.index.find(node_id);
  if (it == wf.index.end()) {
    ctx.Error(Pos{1, 1}, "no node " + Quote(node_id));
    return diags.errors;
  }
  // The graph the loader checked the workflow with (it is valid, so nothing is reported).
  Graph g;
  g.n = wf.nodes.size();
  for (size_t i = 0; i < g.n; ++i) g.id.emplace(wf.nodes[i].id, static_cast<int>(i));
  g.deps.assign(g.n, {});
  g.dependents.assign(g.n, {});
  for (size_t i = 0; i < g.n; ++i)
    for (const auto& need : wf.nodes[i].needs) {
      int j = g.Find(need);
      if (j < 0 || static_cast<size_t>(j) == i) continue;
      g.deps[i].push_back(j);
      g.dependents[static_cast<size_t>(j)].push_back(static_cast<int>(i));
    }
  ComputeAncestors(&g);
  std::vector<NodeInfo> infos(g.n);
  Diags ignored;
  FileCtx quiet(src, ignored);
  CheckLoops(quiet, wf, infos, &g);
  size_t i = static_cast<size_t>(it->second);
  Site site;
  site.file = file;
  site.pos = Pos{1, 1};
  site.in_file = true;
  site.file_text = text;
  RefCheck rc{ctx, wf, g, i, false, false, wf.nodes[i].map.has_value(), true};
  rc.Check((*t)->References(), (*t)->source(), site);
  return diags.errors;
}

std::vector<Diagnostic> CheckTools(const Workflow& wf, const std::vector<std::string>& known) {
  std::vector<Diagnostic> out;
  std::set<const Workflow*> seen;
  std::set<std::string> schemes{"mcp"};
  for (const auto& k : known) schemes.insert(k.substr(0, k.find("://")));
  std::function<void(const Workflow&)> walk = [&](const Workflow& w) {
    if (!seen.insert(&w).second) return;
    std::error_code ec;
    std::string file = std::filesystem::proximate(w.file, ec).string();
    if (ec || file.empty()) file = w.file;
    auto check = [&](const std::string& uri, Pos pos) {
      if (uri.empty() || uri.starts_with("mcp://") || std::find(known.begin(), known.end(), uri) != known.end()) return;
      if (uri.ends_with("*")) {  // an agent's "scheme://prefix*": every tool it names
        std::string prefix = uri.substr(0, uri.size() - 1);
        if (std::any_of(known.begin(), known.end(), [&](const std::string& k) { return k.starts_with(prefix); })) return;
      }
      std::string scheme = uri.substr(0, uri.find("://"));
      std::string msg;
      if (schemes.count(scheme)) {
        std::vector<std::string> same;  // the names of that scheme, for the hint and the list
        for (const auto& k : known)
          if (k.starts_with(scheme + "://")) same.push_back(k.substr(scheme.size() + 3));
        std::string near = DidYouMean(uri.substr(scheme.size() + 3), same);
        msg = "no " + scheme + " tool " + Quote(uri) +
              (near.empty() ? "" : " (did you mean " + Quote(scheme + "://" + near) + "?)") + "; the " + scheme +
              " tools are " + Join(same, ", ");
      } else {
        std::vector<std::string> all(schemes.begin(), schemes.end());
        std::string near = DidYouMean(scheme, all);
        for (auto& a : all) a += "://";
        msg = "unsupported tool scheme " + Quote(scheme + "://") + " in " + Quote(uri) +
              (near.empty() ? "" : " (did you mean " + Quote(near + "://") + "?)") + "; the schemes are " +
              Join(all, ", ");
      }
      out.push_back(Diagnostic{file, pos, msg});
    };
    for (const auto& n : w.nodes) {
      if (n.kind == NodeKind::kTool) check(n.tool, n.tool_pos);
      for (size_t i = 0; i < n.tools.size(); ++i) check(n.tools[i], i < n.tools_pos.size() ? n.tools_pos[i] : n.pos);
      if (n.sub) walk(*n.sub);
    }
  };
  walk(wf);
  return out;
}

}  // namespace sw::workflow
