// ID scopes: with id_scope feature each folder below specs/ numbers its own IDs (spec-kit's
// specs/001-a/FR-001 and specs/002-b/FR-001). Items are FEATURE/ID; a reference is resolved to
// its own feature's item first, then to the one feature that defines the ID; an ID several
// features define, referenced from elsewhere, stays as written with a note that says how to
// qualify it.
#include <algorithm>

#include "base/strings.h"
#include "spec/spec.h"

namespace sw::spec {

/// ScopeIndex is what the resolution needs to know of the items: every ID, the features, and
/// which full IDs a bare ID names.
struct ScopeIndex {
  std::set<std::string> full, scopes;
  std::map<std::string, std::vector<std::string>> by_bare;  // ID -> FEATURE/ID (and ID)
};

namespace {

std::string Bare(const std::string& id) {
  size_t slash = id.rfind('/');
  return slash == std::string::npos ? id : id.substr(slash + 1);
}

ScopeIndex IndexOf(const std::vector<Item>& items) {
  ScopeIndex s;
  for (const auto& it : items) {
    if (!s.full.insert(it.id).second) continue;
    s.by_bare[Bare(it.id)].push_back(it.id);
    if (!it.scope.empty()) s.scopes.insert(it.scope);
  }
  return s;
}

/// ResolveRef is the item a reference means ("" when it cannot say; *note then says why, when
/// there is something to say).
std::string ResolveRef(const ScopeIndex& s, const std::string& raw, const std::string& own, std::string* note) {
  if (s.full.count(raw)) return raw;
  size_t slash = raw.rfind('/');
  if (slash != std::string::npos) {
    // FEATURE/ID: the feature by its folder name or its number ("001" for "001-photo-albums").
    std::string q = raw.substr(0, slash), id = raw.substr(slash + 1);
    std::vector<std::string> hits;
    for (const auto& sc : s.scopes)
      if ((sc == q || StartsWith(sc, q + "-")) && s.full.count(sc + "/" + id)) hits.push_back(sc + "/" + id);
    if (hits.size() == 1) return hits[0];
    if (hits.size() > 1) *note = "several features match " + q + ": " + Join(hits, ", ");
    return "";
  }
  if (!own.empty() && s.full.count(own + "/" + raw)) return own + "/" + raw;
  auto it = s.by_bare.find(raw);
  if (it == s.by_bare.end()) return "";
  if (it->second.size() == 1) return it->second[0];
  std::vector<std::string> where;
  for (const auto& full : it->second) where.push_back(full.substr(0, full.size() - raw.size() - 1));
  *note = raw + " is defined in " + std::to_string(it->second.size()) + " features (" + Join(where, ", ") + "); write " +
          it->second[0] + " to say which";
  return "";
}

}  // namespace

void ResolveLinks(const Grammar& g, std::vector<Item>* items) {
  if (!g.Scoped()) return;
  ScopeIndex s = IndexOf(*items);
  for (auto& it : *items) {
    for (auto& l : it.links) {
      std::string note;
      std::string r = ResolveRef(s, l.id, it.scope, &note);
      if (!r.empty()) l.id = r;
    }
    std::erase_if(it.links, [&](const Link& l) { return l.id == it.id; });
    // One link per target, the first mention kept.
    std::set<std::string> seen;
    std::erase_if(it.links, [&](const Link& l) { return !seen.insert(l.id).second; });
  }
}

void ResolveCitations(const Grammar& g, const std::vector<Item>& items, std::vector<Citation>* cites) {
  if (!g.Scoped()) return;
  ScopeIndex s = IndexOf(items);
  for (auto& c : *cites) {
    std::string note;
    std::string r = ResolveRef(s, c.id, "", &note);
    if (!r.empty()) c.id = r;
  }
}

std::shared_ptr<const ScopeIndex> MakeScopeIndex(const std::vector<Item>& items) {
  return std::make_shared<const ScopeIndex>(IndexOf(items));
}

std::string Graph::UnclearNote(const std::string& raw) const {
  if (!scopes_) return "";
  std::string note;
  return ResolveRef(*scopes_, raw, "", &note).empty() ? note : "";
}

std::string Graph::Resolve(const std::string& id, std::vector<std::string>* candidates) const {
  if (defs_.count(id)) return id;
  if (!scopes_) return "";  // one ID space: an ID is defined as written or not at all
  std::string note;
  std::string r = ResolveRef(*scopes_, id, "", &note);
  if (r.empty() && candidates) {
    auto it = scopes_->by_bare.find(Bare(id));
    if (it != scopes_->by_bare.end() && it->second.size() > 1) *candidates = it->second;
  }
  return r;
}

Result<std::string> Graph::ResolveId(const Grammar& grammar, const std::string& id) const {
  if (!grammar.IsId(id))
    return InvalidInput(Quote(id) + " is not an ID (such as REQ-01-001" + std::string(grammar.Scoped() ? ", or FEATURE/FR-001" : "") +
                        "); the project is read as " + config_.format);
  std::vector<std::string> several;
  std::string full = Resolve(id, &several);
  if (!full.empty()) return full;
  if (!several.empty())
    return InvalidInput(id + " is defined in " + std::to_string(several.size()) + " features: " + Join(several, ", ") +
                        "; name one of them");
  return id;
}

std::string CheckText(const Config& c, const Corpus& corpus, const std::vector<Finding>& findings) {
  int errors = 0, warnings = 0;
  for (const auto& f : findings) (f.severity == Severity::kError ? errors : warnings)++;
  std::string out = ToText(findings) + Summary(c, corpus) + "\n";
  out += std::to_string(errors) + " error" + (errors == 1 ? "" : "s") + ", " + std::to_string(warnings) + " warning" +
         (warnings == 1 ? "" : "s") + ": " + std::to_string(corpus.items.size()) + " items in " +
         std::to_string(corpus.spec_files.size()) + " spec files, " + std::to_string(corpus.citations.size()) +
         " citations in " + std::to_string(corpus.code_files) + " code files";
  if (corpus.suppressed) out += ", " + std::to_string(corpus.suppressed) + " suppressed by specwright:ignore";
  return out + "\n";
}

std::string QualifierBefore(std::string_view text, size_t off) {
  if (off == 0 || text[off - 1] != '/') return "";
  size_t b = off - 1;
  while (b > 0 && (std::isalnum(static_cast<unsigned char>(text[b - 1])) || text[b - 1] == '-' || text[b - 1] == '_' ||
                   text[b - 1] == '.'))
    --b;
  return std::string(text.substr(b, off - 1 - b));
}

std::string Summary(const Config& c, const Corpus& corpus) {
  std::set<std::string> features;
  for (const auto& it : corpus.items)
    if (!it.scope.empty()) features.insert(it.scope);
  std::string out = "read as " + c.format + (c.format_detected ? " (detected)" : "") + ": ";
  if (c.id_scope == "feature") out += std::to_string(features.size()) + (features.size() == 1 ? " feature, " : " features, ");
  out += std::to_string(corpus.items.size()) + (corpus.items.size() == 1 ? " item" : " items");
  return out;
}

}  // namespace sw::spec
