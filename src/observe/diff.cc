// diff: two runs node by node, and a line diff of their outputs.
#include <algorithm>
#include <map>

#include <set>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "observe/internal.h"

namespace sw::observe {
namespace {

/// NodeSummary folds a node's attempt rows: the final status and totals. Strings point into
/// the rows (10,000-node runs: no copies per row).
struct NodeSummary {
  std::string_view status, model;
  double start = 0, end = 0;
  int64_t tokens = 0, calls = 0;
  double cost = 0;
  int attempts = 0;
  bool cost_unknown = false;
  std::pair<int, double> last{-1, -1};
  // map items of the last round: (iteration, item) -> (last attempt, its status)
  std::map<std::pair<int, int>, std::pair<int, std::string_view>> items;
};

std::unordered_map<std::string_view, NodeSummary> Summaries(const std::vector<store::NodeRunRecord>& rows,
                                                            std::vector<std::string_view>* order) {
  std::unordered_map<std::string_view, NodeSummary> m;
  m.reserve(rows.size());
  for (const auto& r : rows) {
    auto [it, fresh] = m.try_emplace(r.node);
    if (fresh) order->push_back(r.node);
    NodeSummary& s = it->second;
    if (r.started_at > 0 && (s.start == 0 || r.started_at < s.start)) s.start = r.started_at;
    s.end = std::max(s.end, r.finished_at);
    s.tokens += r.tokens_in + r.tokens_out;
    s.calls += r.calls;
    s.cost += r.cost_usd;
    s.attempts = std::max(s.attempts, r.attempt);
    s.cost_unknown |= r.cost_unknown;
    if (!r.model.empty()) s.model = r.model;
    std::pair<int, double> key{r.iteration, std::max(r.started_at, r.finished_at)};
    if (r.item < 0 && key >= s.last) {
      s.last = key;
      s.status = r.status;
    } else if (r.item >= 0) {
      auto& last = s.items[{r.iteration, r.item}];
      if (r.attempt >= last.first) last = {r.attempt, r.status};
    }
  }
  // A map node is what its items ended as: failed if one's last attempt failed (a retry
  // that succeeded is a success), running while one runs, else succeeded.
  for (auto& [node, s] : m) {
    if (s.items.empty()) continue;
    std::string_view st = "succeeded";
    int round = s.items.rbegin()->first.first;  // a loop's last round decides
    for (const auto& [key, last] : s.items) {
      if (key.first != round) continue;
      if (last.second == "failed") st = "failed";
      else if (st != "failed" && last.second != "succeeded") st = last.second;
    }
    s.status = st;
  }
  return m;
}

}  // namespace

Result<DiffReport> Diff(store::Store* st, const std::string& run_a, const std::string& run_b, int max_diffs) {
  DiffReport rep;
  SW_ASSIGN_OR_RETURN(rep.a, RunOrError(st, run_a));
  SW_ASSIGN_OR_RETURN(rep.b, RunOrError(st, run_b));
  struct Side {
    std::vector<store::NodeRunRecord> rows;  // the summaries' strings point into these
    std::vector<std::string_view> order;
    std::unordered_map<std::string_view, NodeSummary> summary;
    std::vector<std::pair<std::string, std::string>> outputs;
    std::unordered_map<std::string_view, std::string_view> output_of;
  };
  auto read = [](store::Store* s, const std::string& id) -> Result<std::unique_ptr<Side>> {
    auto side = std::make_unique<Side>();
    SW_ASSIGN_OR_RETURN(side->rows, s->ListNodeRuns(id));
    side->summary = Summaries(side->rows, &side->order);
    SW_ASSIGN_OR_RETURN(side->outputs, FinalOutputs(s, id));
    side->output_of.reserve(side->outputs.size());
    for (const auto& [n, blob] : side->outputs) side->output_of.emplace(n, blob);
    return side;
  };
  // (Reading B on a second connection at the same time was measured: no gain on 2 cores.)
  auto ra = read(st, run_a);
  if (!ra.ok()) return ra.status();
  auto rb = read(st, run_b);
  if (!rb.ok()) return rb.status();
  Side& A = **ra;
  Side& B = **rb;
  std::vector<std::string_view> order = A.order;
  for (const auto& n : B.order)
    if (!A.summary.count(n)) order.push_back(n);
  auto side = [](const NodeSummary& s, std::string_view blob) {
    DiffSide d;
    d.status = std::string(s.status);
    d.model = std::string(s.model);
    d.output_blob = std::string(blob);
    d.duration_s = s.end > s.start && s.start > 0 ? s.end - s.start : 0.0;
    d.cost_usd = s.cost;
    d.cost_known = !s.cost_unknown;
    d.tokens = s.tokens;
    d.calls = s.calls;
    d.attempts = s.attempts;
    return d;
  };
  rep.nodes.reserve(order.size());
  int made = 0;
  for (const auto& n : order) {
    DiffNode dn;
    dn.node = std::string(n);
    auto ia = A.summary.find(n), ib = B.summary.find(n);
    auto ba = A.output_of.find(n), bb = B.output_of.find(n);
    std::string_view xa = ba == A.output_of.end() ? std::string_view() : ba->second;
    std::string_view xb = bb == B.output_of.end() ? std::string_view() : bb->second;
    if (ia != A.summary.end()) dn.a = side(ia->second, xa);
    if (ib != B.summary.end()) dn.b = side(ib->second, xb);
    if (!dn.a || !dn.b) dn.differs.push_back(dn.a ? "only in " + run_a : "only in " + run_b);
    if (dn.a && dn.b && dn.a->status != dn.b->status) dn.differs.push_back("status");
    if (dn.a && dn.b && dn.a->model != dn.b->model) dn.differs.push_back("model");
    if (xa != xb) dn.differs.push_back("output");
    if (xa != xb && !xa.empty() && !xb.empty() && max_diffs > 0 && made >= max_diffs) {
      ++rep.diffs_omitted;
    } else if (xa != xb && !xa.empty() && !xb.empty()) {
      ++made;
      auto ta = st->GetBlob(std::string(xa)), tb = st->GetBlob(std::string(xb));
      if (ta.ok() && tb.ok())
        dn.diff = UnifiedDiff(Clip(*ta, 256 << 10), Clip(*tb, 256 << 10), run_a + "/" + dn.node, run_b + "/" + dn.node);
    }
    if (!dn.differs.empty()) {
      ++rep.differing;
      if (rep.first_divergence < 0) rep.first_divergence = static_cast<int>(rep.nodes.size());
    }
    rep.nodes.push_back(std::move(dn));
  }
  return rep;
}

std::string ToJson(const DiffReport& r) {
  JsonWriter w;
  auto header = [&](const char* key, const store::RunRecord& x) {
    w.Key(key).BeginObject().Field("id", x.id).Field("workflow", x.workflow_name).Field("status", x.status);
    w.Field("tokens", x.tokens_in + x.tokens_out).Field("cost_usd", x.cost_usd).Field("calls", x.calls);
    w.Field("duration_s", x.finished_at > x.created_at ? x.finished_at - x.created_at : 0.0).EndObject();
  };
  auto side = [&](const char* key, const std::optional<DiffSide>& s) {
    w.Key(key);
    if (!s) {
      w.Null();
      return;
    }
    w.BeginObject().Field("status", s->status).Field("duration_s", s->duration_s).Field("tokens", s->tokens);
    w.Field("calls", s->calls).Field("cost_usd", s->cost_usd).Field("cost_known", s->cost_known).Field("model", s->model).Field("attempts", s->attempts);
    w.Field("output_blob", s->output_blob).EndObject();
  };
  w.BeginObject();
  header("a", r.a);
  header("b", r.b);
  w.Key("nodes").BeginArray();
  for (const auto& n : r.nodes) {
    w.BeginObject().Field("node", n.node);
    side("a", n.a);
    side("b", n.b);
    w.Field("same", n.differs.empty()).Key("differs").BeginArray();
    for (const auto& d : n.differs) w.String(d);
    w.EndArray();
    if (!n.diff.empty()) w.Field("diff", n.diff);
    w.EndObject();
  }
  w.EndArray().Field("differing", r.differing).Field("diffs_omitted", r.diffs_omitted).Key("first_divergence");
  if (r.first_divergence < 0) {
    w.Null();
  } else {
    const auto& f = r.nodes[static_cast<size_t>(r.first_divergence)];
    w.BeginObject().Field("node", f.node).Key("differs").BeginArray();
    for (const auto& d : f.differs) w.String(d);
    w.EndArray().EndObject();
  }
  w.EndObject();
  return w.Take();
}

}  // namespace sw::observe
