// The trace graph and what is read from it: check, trace, impact, matrix.
#include <algorithm>
#include <deque>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "spec/spec.h"

namespace sw::spec {
namespace {

using json = nlohmann::json;
const std::vector<std::string> kNone;
const std::vector<Citation> kNoCites;

const char* SeverityName(Severity s) { return s == Severity::kError ? "error" : s == Severity::kWarning ? "warning" : "off"; }

/// Bfs walks edges from start (not included), nearest first, each id once (cycle-safe).
std::vector<std::string> Bfs(const std::map<std::string, std::vector<std::string>>& edges, const std::string& start) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen{start};
  std::deque<std::string> q{start};
  while (!q.empty()) {
    std::string id = q.front();
    q.pop_front();
    auto it = edges.find(id);
    if (it == edges.end()) continue;
    for (const auto& next : it->second)
      if (seen.insert(next).second) {
        out.push_back(next);
        q.push_back(next);
      }
  }
  return out;
}

}  // namespace

Graph::Graph(const Corpus& c, const Config& config) : corpus_(c), config_(config) {
  for (const auto& it : c.items) defs_[it.id].push_back(&it);
  for (const auto& [id, defs] : defs_) {
    auto& up = up_[id];
    for (const auto& l : defs.front()->links)
      if (std::find(up.begin(), up.end(), l.id) == up.end()) up.push_back(l.id);
    for (const auto& target : up) down_[target].push_back(id);
  }
  for (const auto& ci : c.citations) cites_[ci.id].push_back(ci);
  if (config.id_scope == "feature") scopes_ = MakeScopeIndex(c.items);
  // Cycles among links: strongly connected components (Tarjan, iterative), each reported once.
  std::map<std::string, int> index, low;
  std::set<std::string> on;
  std::vector<std::string> st;
  int counter = 0;
  for (const auto& [root, _] : up_) {
    if (index.count(root)) continue;
    std::vector<std::pair<std::string, size_t>> frames{{root, 0}};
    index[root] = low[root] = counter++;
    st.push_back(root);
    on.insert(root);
    while (!frames.empty()) {
      auto& [v, i] = frames.back();
      const auto& next = up_.count(v) ? up_.at(v) : kNone;
      if (i < next.size()) {
        const std::string w = next[i++];
        if (!defs_.count(w)) continue;
        if (!index.count(w)) {
          index[w] = low[w] = counter++;
          st.push_back(w);
          on.insert(w);
          frames.emplace_back(w, 0);
        } else if (on.count(w)) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      if (low[v] == index[v]) {
        std::vector<std::string> comp;
        for (;;) {
          std::string w = st.back();
          st.pop_back();
          on.erase(w);
          comp.push_back(w);
          if (w == v) break;
        }
        if (comp.size() > 1) {
          // Report a real cycle through the component's first node (a component can hold
          // several): the shortest path back to it along links inside the component.
          std::set<std::string> in(comp.begin(), comp.end());
          const std::string start = *in.begin();
          std::map<std::string, std::string> from;
          std::deque<std::string> q{start};
          std::string back;
          while (!q.empty() && back.empty()) {
            std::string x = q.front();
            q.pop_front();
            for (const auto& y : up_.count(x) ? up_.at(x) : kNone) {
              if (!in.count(y)) continue;
              if (y == start) {
                back = x;
                break;
              }
              if (!from.count(y)) from[y] = x, q.push_back(y);
            }
          }
          std::vector<std::string> path;
          for (std::string x = back; !x.empty() && x != start; x = from.count(x) ? from[x] : "") path.push_back(x);
          path.push_back(start);
          std::reverse(path.begin(), path.end());
          cycles_.push_back(path);
        }
      }
      std::string done = v;
      frames.pop_back();
      if (!frames.empty()) low[frames.back().first] = std::min(low[frames.back().first], low[done]);
    }
  }
}

const Item* Graph::Find(const std::string& id) const {
  auto it = defs_.find(id);
  return it == defs_.end() ? nullptr : it->second.front();
}
std::vector<std::string> Graph::Up(const std::string& id) const { return Bfs(up_, id); }
std::vector<std::string> Graph::Down(const std::string& id) const { return Bfs(down_, id); }
const std::vector<Citation>& Graph::CitationsOf(const std::string& id) const {
  auto it = cites_.find(id);
  return it == cites_.end() ? kNoCites : it->second;
}
const std::vector<std::string>& Graph::Parents(const std::string& id) const {
  auto it = up_.find(id);
  return it == up_.end() ? kNone : it->second;
}
const std::vector<std::string>& Graph::Children(const std::string& id) const {
  auto it = down_.find(id);
  return it == down_.end() ? kNone : it->second;
}

std::vector<std::string> Graph::Reach(const std::string& id) const {
  // What derives from a requirement, without passing through another requirement (a
  // requirement that mentions this one has its own code and tests).
  std::vector<std::string> out{id};
  std::unordered_set<std::string> seen{id};
  for (size_t i = 0; i < out.size(); ++i) {
    const Item* it = Find(out[i]);
    if (i > 0 && it && it->prefix == config_.requirement_prefix) continue;
    for (const auto& next : Children(out[i]))
      if (seen.insert(next).second) out.push_back(next);
  }
  std::erase_if(out, [&](const std::string& x) {
    const Item* it = Find(x);
    return x != id && it && it->prefix == config_.requirement_prefix;
  });
  return out;
}

std::vector<Finding> Graph::Check() const {
  std::vector<Finding> out;
  auto sev = [&](const std::string& rule) {
    auto it = config_.rules.find(rule);
    return it == config_.rules.end() ? Severity::kWarning : it->second;
  };
  // msg is built only for a rule that is on (a hint costs a search of the known IDs).
  auto add = [&](const std::string& rule, const Location& at, const std::string& id, const auto& msg) {
    Severity s = sev(rule);
    if (s != Severity::kOff) out.push_back(Finding{rule, s, at, id, msg()});
  };
  // Hints come from the IDs of the same prefix, once per unknown ID.
  std::map<std::string, std::vector<std::string>> known;
  for (const auto& [id, defs] : defs_) known[defs.front()->prefix].push_back(id);
  std::map<std::string, std::string> hints;
  auto hint = [&](const std::string& id) {
    auto [it, fresh] = hints.try_emplace(id);
    if (fresh) {
      // The prefix as items have it: the longest configured prefix the ID starts with.
      std::string prefix;
      for (const auto& p : config_.prefixes)
        if (id.compare(0, p.size(), p) == 0 && p.size() > prefix.size()) prefix = p;
      auto k = known.find(prefix);
      std::string near;
      if (k != known.end() && k->second.size() <= 500) {
        near = DidYouMean(id, k->second);
      } else if (k != known.end()) {
        // Many IDs of this prefix: only a one-character slip (the usual typo), found in O(n).
        for (const auto& cand : k->second) {
          if (cand.size() != id.size()) continue;
          int diff = 0;
          for (size_t i = 0; i < id.size() && diff < 2; ++i) diff += cand[i] != id[i];
          if (diff == 1) {
            near = cand;
            break;
          }
        }
      }
      it->second = near.empty() ? std::string() : " (did you mean " + near + "?)";
    }
    return it->second;
  };
  const std::string& req = config_.requirement_prefix;
  if (!corpus_.results_error.empty())
    add("test-results", Location{config_.test_results, 1}, "",
        [&] { return config_.test_results + ": " + corpus_.results_error + " (the recorded test run is ignored)"; });
  if (corpus_.items.empty())
    add("no-items", Location{corpus_.spec_files.empty() ? config_.specs_dir + "/" : corpus_.spec_files.front(), 0}, "", [&] {
      if (corpus_.spec_files.empty())
        return "no spec document (*.md) under " + config_.specs_dir + "/: nothing to trace (spec.specs_dir names the folder)";
      std::string tried;
      for (const auto& p : Presets())
        if (config_.formats_tried.empty() ? p.name == config_.format
                                          : std::find(config_.formats_tried.begin(), config_.formats_tried.end(), p.name) !=
                                                config_.formats_tried.end())
          tried += "\n  " + p.name + ": " + p.example;
      return std::to_string(corpus_.spec_files.size()) + " spec document" + (corpus_.spec_files.size() == 1 ? "" : "s") +
             " under " + config_.specs_dir + "/ but no item in them; read as" + tried +
             "\n  (set spec.format, or spec.items and spec.id_pattern, in specwright.yaml)";
    });
  for (const auto& [id, defs] : defs_) {
    for (size_t i = 1; i < defs.size(); ++i)
      add("duplicate-id", defs[i]->at, id, [&] { return id + " is defined again (first at " + defs[0]->at.ToString() + ")"; });
    for (const Item* def : defs)
      for (const auto& l : def->links)
        if (!defs_.count(l.id))
          add("dangling-link", l.at, l.id, [&] {
            std::string note = UnclearNote(l.id);
            return note.empty() ? id + " links to " + l.id + ", which no spec defines" + hint(l.id)
                                : id + " links to " + l.id + ", which is not clear: " + note;
          });
    const Item& it = *defs.front();
    if (it.prefix == req) {
      if (Reach(id).size() == 1)
        add("req-no-downstream", it.at, id, [&] { return id + " has no story, design or test deriving from it"; });
      bool code = false, test = false;
      for (const auto& r : Reach(id)) {
        for (const auto& ci : CitationsOf(r)) (ci.test ? test : code) = true;
        const Item* ri = Find(r);
        if (ri && ri->prefix == config_.test_case_prefix) test = true;
      }
      if (!code)
        add("req-no-code", it.at, id, [&] { return id + " is not reached by any code (nothing cites it or what derives from it)"; });
      if (!test) add("req-no-test", it.at, id, [&] { return id + " is not reached by any test case or test"; });
      // Coverage that means behaviour: its test cases passed in the recorded run.
      if (corpus_.has_results) {
        std::vector<std::string> not_passed;
        int cases = 0;
        for (const auto& r : Reach(id)) {
          const Item* ri = Find(r);
          if (!ri || ri->prefix != config_.test_case_prefix) continue;
          ++cases;
          auto res = corpus_.results.find(r);
          std::string st = res == corpus_.results.end() ? "not run" : res->second;
          if (st != "passed") not_passed.push_back(r + " " + st);
        }
        // Tests that cite it but no test case: nothing recorded says they ran (the matrix does
        // not count it as passing either).
        if (cases == 0 && test) not_passed.push_back("no test case of it has a recorded result");
        if (!not_passed.empty())
          add("req-test-not-passed", it.at, id, [&] {
            return id + ": not every test case of it passed in the recorded test run (" + config_.test_results +
                   "): " + Join(not_passed, ", ");
          });
      }
    } else {
      bool has_req = false;
      for (const auto& u : Up(id)) {
        const Item* ui = Find(u);
        has_req = has_req || (ui && ui->prefix == req);
      }
      if (!has_req) add("no-upstream", it.at, id, [&] { return id + " does not trace up to any requirement (" + req + ")"; });
    }
  }
  for (const auto& ci : corpus_.citations)
    if (!defs_.count(ci.id))
      add("unknown-citation", ci.at, ci.id, [&] {
        std::string note = UnclearNote(ci.id);
        return note.empty() ? ci.id + " is cited, but no spec defines it" + hint(ci.id)
                            : ci.id + " is cited, but which item is not clear: " + note;
      });
  for (const auto& cyc : cycles_)
    add("link-cycle", Find(cyc.front())->at, cyc.front(), [&] { return "link cycle: " + Join(cyc, " -> ") + " -> " + cyc.front(); });
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    if (a.at != b.at) return a.at < b.at;
    return a.rule < b.rule;
  });
  return out;
}

std::string ToText(const std::vector<Finding>& f) {
  std::string out;
  for (const auto& x : f)
    out += (x.at.line > 0 ? x.at.ToString() : x.at.file) + ": " + SeverityName(x.severity) + ": " + x.message + " [" + x.rule + "]\n";
  return out;
}

std::string ToJson(const std::vector<Finding>& f) {
  json a = json::array();
  for (const auto& x : f)
    a.push_back({{"rule", x.rule}, {"severity", SeverityName(x.severity)}, {"file", x.at.file}, {"line", x.at.line},
                 {"id", x.id}, {"message", x.message}});
  return a.dump(2, ' ', false, json::error_handler_t::replace);
}

Result<TraceReport> Trace(const Graph& g, const std::string& id) {
  TraceReport r;
  r.id = id;
  r.item = g.Find(id);
  if (!r.item && g.CitationsOf(id).empty() && g.Children(id).empty()) {
    std::vector<std::string> known;
    for (const auto& it : g.corpus().items) known.push_back(it.id);
    std::string near = DidYouMean(id, known);
    return NotFound("no spec defines " + id + (near.empty() ? "" : " (did you mean " + near + "?)"));
  }
  r.up = g.Up(id);
  r.down = g.Down(id);
  // Code and tests of what derives from it, not of another requirement that mentions it.
  for (const auto& x : g.Reach(id))
    for (const auto& ci : g.CitationsOf(x)) (ci.test ? r.tests : r.code).push_back(ci);
  auto by_loc = [](const Citation& a, const Citation& b) { return a.at < b.at; };
  std::sort(r.code.begin(), r.code.end(), by_loc);
  std::sort(r.tests.begin(), r.tests.end(), by_loc);
  return r;
}

namespace {
std::string Describe(const Graph& g, const std::string& id) {
  const Item* it = g.Find(id);
  return it ? id + " " + it->title + "  (" + it->at.ToString() + ")" : id + "  (not defined)";
}
json ItemJson(const Graph& g, const std::string& id) {
  const Item* it = g.Find(id);
  json j{{"id", id}, {"defined", it != nullptr}};
  if (it) j.update({{"title", it->title}, {"prefix", it->prefix}, {"file", it->at.file}, {"line", it->at.line}});
  j["links"] = g.Parents(id);
  return j;
}
json CitesJson(const std::vector<Citation>& v) {
  json a = json::array();
  for (const auto& c : v) a.push_back({{"id", c.id}, {"file", c.at.file}, {"line", c.at.line}});
  return a;
}
}  // namespace

std::string ToText(const Graph& g, const TraceReport& r) {
  std::string out = Describe(g, r.id) + "\n";
  out += "\nup (what it derives from, up to the requirements):\n";
  if (r.up.empty()) out += "  (nothing)\n";
  for (const auto& u : r.up) out += "  " + Describe(g, u) + "\n";
  out += "\ndown (what derives from it):\n";
  if (r.down.empty()) out += "  (nothing)\n";
  for (const auto& d : r.down) out += "  " + Describe(g, d) + "\n";
  out += "\ncode:\n";
  if (r.code.empty()) out += "  (nothing cites it)\n";
  for (const auto& c : r.code) out += "  " + c.at.ToString() + "  " + c.id + "\n";
  out += "\ntests:\n";
  if (r.tests.empty()) out += "  (no test cites it)\n";
  for (const auto& c : r.tests) out += "  " + c.at.ToString() + "  " + c.id + "\n";
  return out;
}

std::string ToJson(const Graph& g, const TraceReport& r) {
  json j = ItemJson(g, r.id);
  j["up"] = json::array();
  for (const auto& u : r.up) j["up"].push_back(ItemJson(g, u));
  j["down"] = json::array();
  for (const auto& d : r.down) j["down"].push_back(ItemJson(g, d));
  j["code"] = CitesJson(r.code);
  j["tests"] = CitesJson(r.tests);
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

Impact ImpactOf(const Graph& g, const std::vector<std::string>& ids) {
  Impact r;
  std::set<std::string> seen;
  for (const auto& id : ids) {
    if (std::find(r.changed.begin(), r.changed.end(), id) == r.changed.end()) r.changed.push_back(id);
    if (!g.Find(id) && g.Children(id).empty() && g.CitationsOf(id).empty()) r.unknown.push_back(id);
  }
  for (const auto& id : r.changed) {
    if (seen.insert(id).second && g.Find(id)) r.items.push_back(id);
    for (const auto& d : g.Down(id))
      if (seen.insert(d).second) r.items.push_back(d);
  }
  for (const auto& id : seen)
    for (const auto& c : g.CitationsOf(id)) (c.test ? r.tests : r.code)[c.at.file].push_back(c.at.line);
  for (auto* m : {&r.code, &r.tests})
    for (auto& [f, lines] : *m) {
      std::sort(lines.begin(), lines.end());
      lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
    }
  return r;
}

Result<Impact> ImpactOfChange(const Graph& g, const Grammar& grammar, std::vector<std::string> ids, const std::string& since) {
  Impact changes;
  if (!since.empty()) {
    // REV: the spec documents at REV against the working tree; A..B: at A against at B.
    std::string from = since, to;
    if (size_t dots = since.find(".."); dots != std::string::npos) {
      from = since.substr(0, dots);
      to = since.substr(dots + 2);
      if (from.empty() || to.empty() || to[0] == '.')
        return InvalidInput("the git range " + Quote(since) +
                            " must be REV (against the working tree) or A..B (both named; not A..., ..B or A...B)");
    }
    SW_ASSIGN_OR_RETURN(auto before_docs, ReadSpecDocsAt(g.config(), from));
    SW_ASSIGN_OR_RETURN(auto before, ParseSpecs(grammar, before_docs));
    if (to.empty()) {
      SpecChanges(before, g.corpus().items, &changes);
    } else {
      SW_ASSIGN_OR_RETURN(auto after_docs, ReadSpecDocsAt(g.config(), to));
      SW_ASSIGN_OR_RETURN(auto after, ParseSpecs(grammar, after_docs));
      SpecChanges(before, after, &changes);
    }
    for (const auto* v : {&changes.added, &changes.modified, &changes.removed}) ids.insert(ids.end(), v->begin(), v->end());
  }
  Impact r = ImpactOf(g, ids);
  std::erase_if(r.unknown, [&](const std::string& id) {  // removed since REV: not defined now, of course
    return std::find(changes.removed.begin(), changes.removed.end(), id) != changes.removed.end();
  });
  r.added = changes.added;
  r.removed = changes.removed;
  r.modified = changes.modified;
  return r;
}

void SpecChanges(const std::vector<Item>& before, const std::vector<Item>& after, Impact* out) {
  std::map<std::string, const Item*> a, b;
  for (const auto& it : before) a.emplace(it.id, &it);
  for (const auto& it : after) b.emplace(it.id, &it);
  for (const auto& [id, it] : b) {
    auto old = a.find(id);
    if (old == a.end()) out->added.push_back(id);
    else if (old->second->title != it->title || old->second->body != it->body) out->modified.push_back(id);
  }
  for (const auto& [id, _] : a)
    if (!b.count(id)) out->removed.push_back(id);
}

std::string ToText(const Impact& r) {
  std::string out;
  if (!r.added.empty() || !r.removed.empty() || !r.modified.empty()) {
    out += "added:    " + (r.added.empty() ? "-" : Join(r.added, ", ")) + "\n";
    out += "removed:  " + (r.removed.empty() ? "-" : Join(r.removed, ", ")) + "\n";
    out += "modified: " + (r.modified.empty() ? "-" : Join(r.modified, ", ")) + "\n\n";
  }
  for (const auto& u : r.unknown) out += "warning: no spec defines " + u + "\n";
  out += "items (" + std::to_string(r.items.size()) + "): " + (r.items.empty() ? "-" : Join(r.items, ", ")) + "\n";
  auto files = [&](const char* what, const std::map<std::string, std::vector<int>>& m) {
    out += std::string(what) + " (" + std::to_string(m.size()) + " files):\n";
    for (const auto& [f, lines] : m) {
      std::vector<std::string> ls;
      for (int l : lines) ls.push_back(std::to_string(l));
      out += "  " + f + ":" + Join(ls, ",") + "\n";
    }
  };
  files("code", r.code);
  files("tests", r.tests);
  return out;
}

std::string ToJson(const Impact& r) {
  json j{{"changed", r.changed}, {"added", r.added}, {"removed", r.removed}, {"modified", r.modified},
         {"items", r.items},     {"unknown", r.unknown}};
  for (auto [key, m] : {std::pair{"code", &r.code}, std::pair{"tests", &r.tests}}) {
    json a = json::array();
    for (const auto& [f, lines] : *m) a.push_back({{"file", f}, {"lines", lines}});
    j[key] = a;
  }
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

Matrix MatrixOf(const Graph& g) {
  Matrix m;
  const Config& c = g.config();
  m.columns = c.matrix_levels;
  m.columns.push_back("code");
  m.columns.push_back("tests");
  // With a recorded test run: which of its test cases passed (a failed or unrun one is named
  // with its result), and a requirement counts only when all of them did.
  const bool passing = g.corpus().has_results;
  if (passing) m.columns.push_back("passing");
  std::vector<int> filled(m.columns.size(), 0);
  for (const auto& it : g.corpus().items) {
    if (it.prefix != c.requirement_prefix || g.Find(it.id) != &it) continue;
    Matrix::Row row{it.id, it.title, std::vector<std::vector<std::string>>(m.columns.size())};
    std::set<std::string> code, tests;
    std::vector<std::string> all = g.Reach(it.id);
    for (const auto& id : all) {
      const Item* d = g.Find(id);
      if (d && id != it.id) {
        for (size_t k = 0; k < c.matrix_levels.size(); ++k)
          if (d->prefix == c.matrix_levels[k]) row.cells[k].push_back(id);
        if (d->prefix == c.test_case_prefix) tests.insert(id);
      }
      for (const auto& ci : g.CitationsOf(id)) (ci.test ? tests : code).insert(ci.at.file);
    }
    const size_t code_col = m.columns.size() - (passing ? 3 : 2);
    row.cells[code_col].assign(code.begin(), code.end());
    row.cells[code_col + 1].assign(tests.begin(), tests.end());
    bool all_passed = false;
    if (passing) {
      std::vector<std::string>& cell = row.cells[code_col + 2];
      int cases = 0, passed = 0;
      for (const auto& id : tests) {
        const Item* d = g.Find(id);
        if (!d || d->prefix != c.test_case_prefix) continue;  // a test file, not a test case
        ++cases;
        auto res = g.corpus().results.find(id);
        std::string st = res == g.corpus().results.end() ? "not run" : res->second;
        if (st == "passed") ++passed;
        cell.push_back(st == "passed" ? id : id + " (" + st + ")");
      }
      all_passed = cases > 0 && passed == cases;
    }
    for (size_t k = 0; k < m.columns.size(); ++k) {
      if (passing && k == code_col + 2) filled[k] += all_passed ? 1 : 0;
      else filled[k] += row.cells[k].empty() ? 0 : 1;
    }
    m.rows.push_back(std::move(row));
  }
  for (int f : filled) m.coverage.push_back(m.rows.empty() ? 0 : 100.0 * f / static_cast<double>(m.rows.size()));
  return m;
}

namespace {
std::string Percent(double p) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", p);
  return b;
}
std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char ch : s) o += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return o + "\"";
}
}  // namespace

std::string ToMarkdown(const Matrix& m) {
  std::string out = "| requirement |";
  for (const auto& c : m.columns) out += " " + c + " |";
  out += "\n|---|";
  for (size_t i = 0; i < m.columns.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& r : m.rows) {
    out += "| " + r.id + " " + r.title + " |";
    for (const auto& cell : r.cells) out += " " + (cell.empty() ? std::string("—") : Join(cell, "<br>")) + " |";
    out += "\n";
  }
  out += "| **coverage** |";
  for (double p : m.coverage) out += " " + Percent(p) + " |";
  return out + "\n";
}

std::string ToCsv(const Matrix& m) {
  std::string out = "requirement,title";
  for (const auto& c : m.columns) out += "," + CsvField(c);
  out += "\n";
  for (const auto& r : m.rows) {
    out += CsvField(r.id) + "," + CsvField(r.title);
    for (const auto& cell : r.cells) out += "," + CsvField(Join(cell, " "));
    out += "\n";
  }
  out += "coverage,";
  for (double p : m.coverage) out += "," + Percent(p);
  return out + "\n";
}

std::string ToJson(const Matrix& m) {
  json j{{"columns", m.columns}};
  j["rows"] = json::array();
  for (const auto& r : m.rows) {
    json row{{"id", r.id}, {"title", r.title}};
    for (size_t k = 0; k < m.columns.size(); ++k) row[m.columns[k]] = r.cells[k];
    j["rows"].push_back(row);
  }
  j["coverage"] = json::object();
  for (size_t k = 0; k < m.columns.size(); ++k) j["coverage"][m.columns[k]] = m.coverage[k];
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

}  // namespace sw::spec
