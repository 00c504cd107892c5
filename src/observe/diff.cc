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

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) {
      out.push_back(s.substr(start));
      break;
    }
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

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

std::string UnifiedDiff(const std::string& a, const std::string& b, const std::string& label_a,
                        const std::string& label_b, int context) {
  if (a == b) return "";
  std::vector<std::string> x = Lines(a), y = Lines(b);
  size_t pre = 0;
  while (pre < x.size() && pre < y.size() && x[pre] == y[pre]) ++pre;
  size_t suf = 0;
  while (suf < x.size() - pre && suf < y.size() - pre && x[x.size() - 1 - suf] == y[y.size() - 1 - suf]) ++suf;
  // ops over the whole texts: ' ' keep, '-' from a, '+' from b (with their line indices).
  struct Op {
    char kind;
    size_t ia, ib;
  };
  std::vector<Op> ops;
  for (size_t i = 0; i < pre; ++i) ops.push_back({' ', i, i});
  size_t n = x.size() - pre - suf, m = y.size() - pre - suf;
  if (n * m <= 4'000'000) {
    // LCS table over the middle, then walk it forwards.
    std::vector<uint32_t> t((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return t[i * (m + 1) + j]; };
    for (size_t i = n; i-- > 0;)
      for (size_t j = m; j-- > 0;)
        at(i, j) = x[pre + i] == y[pre + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && x[pre + i] == y[pre + j]) {
        ops.push_back({' ', pre + i, pre + j});
        ++i, ++j;
      } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
        ops.push_back({'-', pre + i, pre + j});  // removals before additions, as diff -u does
        ++i;
      } else {
        ops.push_back({'+', pre + i, pre + j});
        ++j;
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) ops.push_back({'-', pre + i, pre});
    for (size_t j = 0; j < m; ++j) ops.push_back({'+', pre + n, pre + j});
  }
  for (size_t i = 0; i < suf; ++i) ops.push_back({' ', x.size() - suf + i, y.size() - suf + i});

  std::string out = "--- " + label_a + "\n+++ " + label_b + "\n";
  size_t k = 0;
  while (k < ops.size()) {
    while (k < ops.size() && ops[k].kind == ' ') ++k;
    if (k == ops.size()) break;
    size_t begin = k >= static_cast<size_t>(context) ? k - context : 0;
    // Extend the hunk while the next change is within 2*context unchanged lines.
    size_t end = k;
    for (;;) {
      while (end < ops.size() && ops[end].kind != ' ') ++end;
      size_t gap = end;
      while (gap < ops.size() && ops[gap].kind == ' ') ++gap;
      if (gap < ops.size() && gap - end <= static_cast<size_t>(2 * context)) {
        end = gap;
        continue;
      }
      end = std::min(ops.size(), end + context);
      break;
    }
    size_t a0 = 0, b0 = 0, na = 0, nb = 0;
    bool first_a = true, first_b = true;
    std::string body;
    for (size_t q = begin; q < end; ++q) {
      const Op& o = ops[q];
      if (o.kind != '+') {
        if (first_a) a0 = o.ia, first_a = false;
        ++na;
      }
      if (o.kind != '-') {
        if (first_b) b0 = o.ib, first_b = false;
        ++nb;
      }
      body += o.kind;
      body += o.kind == '+' ? y[o.ib] : x[o.ia];
      body += "\n";
    }
    if (first_a) a0 = begin < ops.size() ? ops[begin].ia : 0;
    if (first_b) b0 = begin < ops.size() ? ops[begin].ib : 0;
    out += "@@ -" + std::to_string(na ? a0 + 1 : a0) + "," + std::to_string(na) + " +" +
           std::to_string(nb ? b0 + 1 : b0) + "," + std::to_string(nb) + " @@\n" + body;
    k = end;
  }
  return out;
}

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
