// MergeItems: replace spec items of a Markdown document by ID, leaving every other byte alone.
#include <algorithm>
#include <set>

#include "base/strings.h"
#include "spec/spec.h"

namespace sw::spec {
namespace {

/// Section is one item's bytes in a document: its heading line up to the next heading of the
/// same or a higher level, or the next item heading (the same bounds ParseSpecs gives a body).
struct Section {
  std::string id;
  size_t begin = 0, end = 0;
};

/// HeadingLevel is the ATX level of a line ("## x" -> 2), 0 when it is not a heading.
int HeadingLevel(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  size_t hashes = 0;
  while (i + hashes < line.size() && line[i + hashes] == '#') ++hashes;
  if (hashes == 0 || hashes > 6) return 0;
  size_t after = i + hashes;
  if (after < line.size() && line[after] != ' ' && line[after] != '\t') return 0;
  return static_cast<int>(hashes);
}

std::vector<Section> Sections(const Grammar& g, std::string_view doc) {
  std::vector<Section> out;
  std::vector<int> levels;  // level of each open section
  bool fence = false;
  std::string fence_mark;
  size_t pos = 0;
  while (pos < doc.size()) {
    size_t nl = doc.find('\n', pos);
    size_t next = nl == std::string_view::npos ? doc.size() : nl + 1;
    std::string_view line = doc.substr(pos, next - pos);
    std::string_view trimmed = line.substr(0, line.find_last_not_of(" \t\r\n") + 1);
    size_t lead = trimmed.find_first_not_of(' ');
    std::string_view body = lead == std::string_view::npos ? std::string_view() : trimmed.substr(lead);
    if (body.starts_with("```") || body.starts_with("~~~")) {
      if (!fence) {
        fence = true;
        fence_mark = std::string(body.substr(0, 3));
      } else if (body.starts_with(fence_mark)) {
        fence = false;
      }
    } else if (!fence) {
      int level = HeadingLevel(line);
      if (level > 0) {
        std::string_view text = body.substr(static_cast<size_t>(level));
        text.remove_prefix(std::min(text.size(), text.find_first_not_of(" \t")));
        std::string id;
        g.Find(text, false, [&](std::string_view found, size_t offset) {
          if (offset == 0 && id.empty()) id = std::string(found);
        });
        // A heading of the same or a higher level closes the open item; any item heading does.
        if (!out.empty() && out.back().end == 0 && (level <= levels.back() || !id.empty())) out.back().end = pos;
        if (!id.empty()) {
          out.push_back({id, pos, 0});
          levels.push_back(level);
        }
      }
    }
    pos = next;
  }
  if (!out.empty() && out.back().end == 0) out.back().end = doc.size();
  return out;
}

std::string WithNewline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s + "\n";
}

}  // namespace

Result<std::string> MergeItems(const Grammar& g, const std::string& doc, const std::string& incoming,
                               const std::set<std::string>& allowed, const std::set<std::string>& known,
                               std::vector<std::string>* replaced, std::vector<std::string>* added) {
  std::vector<Section> have = Sections(g, doc);
  std::vector<Section> give = Sections(g, incoming);
  if (give.empty()) return InvalidInput("the text has no spec items (headings that start with an ID)");
  std::set<std::string> seen;
  for (const auto& s : give) {
    if (!seen.insert(s.id).second) return InvalidInput("the text gives item " + s.id + " twice");
    bool exists = std::any_of(have.begin(), have.end(), [&](const Section& h) { return h.id == s.id; });
    bool existing_elsewhere = known.count(s.id) && !exists;
    if (existing_elsewhere) return InvalidInput("item " + s.id + " is defined in another document; it cannot be added here");
    if (exists && !allowed.count(s.id)) {
      // An item given back exactly as it is changes nothing: not a trespass.
      const Section& h = *std::find_if(have.begin(), have.end(), [&](const Section& x) { return x.id == s.id; });
      if (WithNewline(incoming.substr(s.begin, s.end - s.begin)) == WithNewline(doc.substr(h.begin, h.end - h.begin)))
        continue;
      std::vector<std::string> names(allowed.begin(), allowed.end());
      return InvalidInput("item " + s.id + " is outside the change; only these items may be rewritten: " +
                          (names.empty() ? std::string("none") : Join(names, ", ")) + " (new IDs may be added)");
    }
  }
  // Replace from the end so earlier offsets stay valid; new items go after the last item.
  std::string out = doc;
  std::vector<std::pair<size_t, std::string>> appends;
  std::vector<Section> order = have;
  std::sort(order.begin(), order.end(), [](const Section& a, const Section& b) { return a.begin > b.begin; });
  for (const auto& h : order) {
    auto it = std::find_if(give.begin(), give.end(), [&](const Section& s) { return s.id == h.id; });
    if (it == give.end()) continue;
    std::string old = doc.substr(h.begin, h.end - h.begin);
    std::string now = WithNewline(incoming.substr(it->begin, it->end - it->begin));
    // Keep the blank lines that separated the old section from what follows.
    size_t keep = old.size();
    while (keep > 0 && (old[keep - 1] == '\n' || old[keep - 1] == ' ' || old[keep - 1] == '\r')) --keep;
    std::string tail = old.substr(keep);
    if (tail.empty() || tail[0] != '\n') tail = "\n" + tail;
    now.pop_back();
    if (now == old.substr(0, keep)) continue;  // given back unchanged: not a change
    out.replace(h.begin, h.end - h.begin, now + tail);
    if (replaced) replaced->push_back(h.id);
  }
  if (replaced) std::reverse(replaced->begin(), replaced->end());
  for (const auto& s : give) {
    bool exists = std::any_of(have.begin(), have.end(), [&](const Section& h) { return h.id == s.id; });
    if (exists) continue;
    if (!out.empty() && !out.ends_with("\n")) out += "\n";
    if (!out.empty() && !out.ends_with("\n\n")) out += "\n";
    out += WithNewline(incoming.substr(s.begin, s.end - s.begin));
    if (added) added->push_back(s.id);
  }
  return out;
}

}  // namespace sw::spec
