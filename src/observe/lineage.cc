// artifacts and lineage: derivation trees over artifacts.derived_from, which bad data or a
// bug can make cyclic; a cycle is reported once and never followed.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "observe/internal.h"

namespace sw::observe {
namespace {

/// Sources parses derived_from (a JSON list of names) without a JSON document per artifact.
std::vector<std::string> Sources(const std::string& derived_from) {
  std::vector<std::string> out;
  if (derived_from.size() <= 2) return out;
  json d = json::parse(derived_from, nullptr, false);
  if (d.is_array())
    for (const auto& v : d)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

class Forest {
 public:
  explicit Forest(const std::vector<store::ArtifactRecord>& arts) {
    for (size_t i = 0; i < arts.size(); ++i) {
      by_name_[arts[i].name] = &arts[i];
      sources_.push_back(Sources(arts[i].derived_from));
      index_[&arts[i]] = i;
    }
  }

  const std::vector<std::string>& SourcesOf(const store::ArtifactRecord& a) const { return sources_[index_.at(&a)]; }

  /// Resolve finds what a derived_from entry names: the artifact itself, or (older runs) the
  /// last iteration of a loop node's artifact ("merge" -> "merge@2").
  const store::ArtifactRecord* Resolve(const std::string& name) const {
    auto it = by_name_.find(name);
    if (it != by_name_.end()) return it->second;
    const store::ArtifactRecord* best = nullptr;
    int best_k = -1;
    for (auto lo = by_name_.lower_bound(name + "@"); lo != by_name_.end() && lo->first.rfind(name + "@", 0) == 0; ++lo) {
      int k = std::atoi(lo->first.c_str() + name.size() + 1);
      if (k > best_k) best_k = k, best = lo->second;
    }
    return best;
  }

  /// Expand appends the tree below a in pre-order; a subtree already shown is one "seen" line.
  void Expand(const store::ArtifactRecord& root, std::vector<TreeLine>* out, std::vector<std::string>* cycles) {
    struct Frame {
      const store::ArtifactRecord* a;
      size_t next = 0;
    };
    std::vector<Frame> stack;
    std::vector<std::string> path;
    auto emit = [&](const store::ArtifactRecord& a, int depth) -> bool {
      TreeLine l{depth, a.name, a.produced_by, a.media_type, a.blob, a.created_at};
      if (shown_.count(a.name)) {
        l.seen = true;
        out->push_back(std::move(l));
        return false;
      }
      shown_.insert(a.name);
      out->push_back(std::move(l));
      return true;
    };
    if (!emit(root, 0)) return;
    stack.push_back({&root});
    path.push_back(root.name);
    // Iterative, so a chain of 100,000 derivations cannot exhaust the stack.
    while (!stack.empty()) {
      Frame& f = stack.back();
      const auto& srcs = SourcesOf(*f.a);
      if (f.next == srcs.size()) {
        stack.pop_back();
        path.pop_back();
        continue;
      }
      const std::string& src = srcs[f.next++];
      int depth = static_cast<int>(stack.size());
      const store::ArtifactRecord* s = Resolve(src);
      if (!s) {
        TreeLine l;
        l.depth = depth;
        l.name = src;
        l.missing = true;
        out->push_back(std::move(l));
        continue;
      }
      auto on = std::find(path.begin(), path.end(), s->name);
      if (on != path.end()) {
        std::string cyc;
        for (auto it = on; it != path.end(); ++it) cyc += *it + " -> ";
        cyc += s->name;
        std::vector<std::string> members(on, path.end());
        std::rotate(members.begin(), std::min_element(members.begin(), members.end()), members.end());
        std::string key;
        for (const auto& m : members) key += m + "\n";
        if (reported_.insert(key).second) cycles->push_back(cyc);
        TreeLine l{depth, s->name, s->produced_by, s->media_type, s->blob, s->created_at};
        l.cycle = cyc;
        out->push_back(std::move(l));
        continue;
      }
      if (emit(*s, depth)) {
        stack.push_back({s});
        path.push_back(s->name);
      }
    }
  }

  std::unordered_set<std::string> shown_;

 private:
  std::map<std::string, const store::ArtifactRecord*> by_name_;
  std::vector<std::vector<std::string>> sources_;
  std::unordered_map<const store::ArtifactRecord*, size_t> index_;
  std::set<std::string> reported_;
};

}  // namespace

Result<ArtifactsReport> Artifacts(store::Store* st, const std::string& run_id) {
  ArtifactsReport rep;
  SW_ASSIGN_OR_RETURN(auto run, RunOrError(st, run_id));
  rep.run_id = run.id;
  SW_ASSIGN_OR_RETURN(rep.artifacts, st->ListArtifacts(run_id));
  const auto& arts = rep.artifacts;
  Forest f(arts);
  std::unordered_set<std::string> used;
  for (const auto& a : arts)
    for (const auto& s : f.SourcesOf(a))
      if (const auto* r = f.Resolve(s)) used.insert(r->name);
  // Newest first: the run's results lead; anything only inside a cycle comes after.
  for (auto it = arts.rbegin(); it != arts.rend(); ++it)
    if (!used.count(it->name)) f.Expand(*it, &rep.tree, &rep.cycles);
  for (auto it = arts.rbegin(); it != arts.rend(); ++it)
    if (!f.shown_.count(it->name)) f.Expand(*it, &rep.tree, &rep.cycles);
  return rep;
}

Result<ArtifactsReport> Lineage(store::Store* st, const std::string& artifact, const std::string& run_id) {
  ArtifactsReport rep;
  rep.run_id = run_id;
  if (rep.run_id.empty()) {
    SW_ASSIGN_OR_RETURN(auto named, st->ListArtifactsNamed(artifact));
    if (named.empty()) return NotFound("no run has an artifact named \"" + artifact + "\"");
    rep.run_id = named.front().run_id;
  }
  SW_ASSIGN_OR_RETURN(rep.artifacts, st->ListArtifacts(rep.run_id));
  Forest f(rep.artifacts);
  const store::ArtifactRecord* a = nullptr;
  for (const auto& x : rep.artifacts)
    if (x.name == artifact) a = &x;
  if (!a) {
    std::string names;
    for (size_t i = 0; i < rep.artifacts.size() && i < 8; ++i) names += (i ? ", " : "") + rep.artifacts[i].name;
    if (rep.artifacts.size() > 8) names += ", ...";
    return NotFound("run " + rep.run_id + " has no artifact \"" + artifact + "\"" +
                    (names.empty() ? "" : " (it has: " + names + ")"));
  }
  f.Expand(*a, &rep.tree, &rep.cycles);
  return rep;
}

std::string ToJson(const ArtifactsReport& r) {
  JsonWriter w;
  w.BeginObject().Field("run", r.run_id).Key("artifacts").BeginArray();
  for (const auto& a : r.artifacts) {
    w.BeginObject().Field("name", a.name).Field("produced_by", a.produced_by).Field("media_type", a.media_type);
    w.Field("blob", a.blob).Field("created_at", a.created_at).Key("derived_from");
    w.Raw(!a.derived_from.empty() && a.derived_from[0] == '[' && json::accept(a.derived_from) ? a.derived_from : "[]");
    w.EndObject();
  }
  w.EndArray();
  // The flat pre-order lines become nested objects: {..., derived_from: [children]}.
  w.Key("tree").BeginArray();
  int open = -1;  // depth of the innermost open node object
  for (const auto& l : r.tree) {
    while (open >= l.depth) {
      w.EndArray().EndObject();
      --open;
    }
    w.BeginObject().Field("name", l.name);
    if (l.missing) {
      w.Field("missing", true);
    } else {
      w.Field("produced_by", l.produced_by).Field("media_type", l.media_type).Field("blob", l.blob).Field("created_at", l.created_at);
      if (l.seen) w.Field("seen", true);
      if (!l.cycle.empty()) w.Field("cycle", l.cycle);
    }
    w.Key("derived_from").BeginArray();
    open = l.depth;
  }
  while (open >= 0) {
    w.EndArray().EndObject();
    --open;
  }
  w.EndArray().Key("cycles").BeginArray();
  for (const auto& c : r.cycles) w.String(c);
  w.EndArray().EndObject();
  return w.Take();
}

}  // namespace sw::observe
