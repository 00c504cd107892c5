// Spec documents: Markdown parsed by cmark (a real CommonMark parser), so an ID inside a code
// span or a code block is not mistaken for a link.
#include <cmark.h>

#include <algorithm>
#include <set>
#include <filesystem>

#include "base/fs.h"
#include "base/strings.h"
#include "spec/spec.h"
#include "tools/sandbox.h"

namespace sw::spec {
namespace {

struct Doc {
  cmark_node* root;
  explicit Doc(const std::string& text) : root(cmark_parse_document(text.data(), text.size(), CMARK_OPT_DEFAULT)) {}
  ~Doc() { cmark_node_free(root); }
};

std::string Literal(cmark_node* n) {
  const char* s = cmark_node_get_literal(n);
  return s ? s : "";
}

/// InlineText is the plain text of a heading (its text, code and the text of its links).
std::string InlineText(cmark_node* n) {
  std::string out;
  for (cmark_node* c = cmark_node_first_child(n); c; c = cmark_node_next(c)) {
    cmark_node_type t = cmark_node_get_type(c);
    if (t == CMARK_NODE_TEXT || t == CMARK_NODE_CODE) out += Literal(c);
    else if (t == CMARK_NODE_SOFTBREAK || t == CMARK_NODE_LINEBREAK) out += ' ';
    else out += InlineText(c);
  }
  return out;
}

/// Links collects the IDs a block mentions, with their lines: text always, code only when
/// the item opted in. cmark gives positions per block only, so each ID is found again in the
/// block's source lines, in order from where the previous one was (code spans, link targets
/// and HTML that are not links move the cursor too): a code span or link title over two lines
/// cannot shift a line. Text not verbatim in the source (an escape) takes the line its block's
/// breaks give.
void Links(const Grammar& g, cmark_node* block, const std::string& file, bool in_code,
           const std::vector<std::string>& lines, std::vector<Link>* out) {
  int first = cmark_node_get_start_line(block), last = cmark_node_get_end_line(block);
  if (last < first) last = first;
  size_t cur_line = static_cast<size_t>(std::max(first, 1)), cur_col = 0;
  int soft_line = std::max(first, 1);  // the block's line counted by its breaks: a lower bound
  auto word = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  // locate finds id verbatim at or after the cursor, as a whole ID (not inside a longer
  // word), and moves the cursor past it; text that is not verbatim in the source (an escape,
  // an entity) leaves the cursor where it is and takes its line.
  auto locate = [&](std::string_view id) -> int {
    for (size_t l = cur_line; l <= static_cast<size_t>(last) && l <= lines.size(); ++l) {
      const std::string& src = lines[l - 1];
      for (size_t at = src.find(id, l == cur_line ? cur_col : 0); at != std::string::npos; at = src.find(id, at + 1)) {
        if ((at > 0 && word(src[at - 1])) || (at + id.size() < src.size() && word(src[at + id.size()]))) continue;
        cur_line = l;
        cur_col = at + id.size();
        return static_cast<int>(l);
      }
    }
    return std::max(static_cast<int>(cur_line), soft_line);
  };
  auto skip = [&](const char* s) {  // IDs the source holds but that are not links: pass them
    if (!s) return;
    std::string text = s;
    g.Find(text, false, [&](std::string_view id, size_t) { locate(id); });
  };
  cmark_iter* it = cmark_iter_new(block);
  for (cmark_event_type ev; (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE;) {
    cmark_node* n = cmark_iter_get_node(it);
    cmark_node_type t = cmark_node_get_type(n);
    if (ev == CMARK_EVENT_EXIT) {
      // A link's destination and title come after its text in the source.
      if (t == CMARK_NODE_LINK || t == CMARK_NODE_IMAGE) {
        skip(cmark_node_get_url(n));
        skip(cmark_node_get_title(n));
      }
      continue;
    }
    if (t == CMARK_NODE_SOFTBREAK || t == CMARK_NODE_LINEBREAK) {
      ++soft_line;
      continue;
    }
    if (n != block && cmark_node_get_start_line(n) > soft_line &&
        (t == CMARK_NODE_PARAGRAPH || t == CMARK_NODE_ITEM || t == CMARK_NODE_CODE_BLOCK || t == CMARK_NODE_HEADING))
      soft_line = cmark_node_get_start_line(n);
    if (t == CMARK_NODE_HTML_INLINE || t == CMARK_NODE_HTML_BLOCK) {
      skip(cmark_node_get_literal(n));
      continue;
    }
    bool code = t == CMARK_NODE_CODE || t == CMARK_NODE_CODE_BLOCK;
    if (t != CMARK_NODE_TEXT && !code) continue;
    std::string text = Literal(n);
    bool eligible = !code || in_code;
    g.Find(text, false, [&](std::string_view id, size_t off) {
      int l = locate(id);
      if (!eligible) return;
      std::string q = g.Scoped() ? QualifierBefore(text, off) : "";
      out->push_back(Link{q.empty() ? std::string(id) : q + "/" + std::string(id), Location{file, l}});
    });
  }
  cmark_iter_free(it);
}

bool OptsIntoCode(const std::string& body) {
  for (const auto& line : Split(body, '\n')) {
    std::string l = Lower(Trim(line));
    if (l == "links-in-code: yes" || l == "links-in-code: true") return true;
  }
  return false;
}

}  // namespace

namespace {

/// SubItem is an item that is a list item or a table row: where it is, its own lines.
struct SubItem {
  std::string id, title;
  int first = 0, last = 0;  // its lines
  cmark_node* node = nullptr;  // the list item, or the paragraph holding the row
  bool table = false;
};

/// TitleAfter is the title that follows an ID at the start of a list item or a row: separators
/// (`:`, `-`, `]`), then any leading `[P]`/`[US1]` markers, dropped; "" when nothing follows.
std::string TitleAfter(std::string_view rest) {
  auto trim = [&] {
    while (!rest.empty() && (rest[0] == ' ' || rest[0] == ':' || rest[0] == '-' || rest[0] == ']' || rest[0] == '*' ||
                             rest[0] == '\t' || rest[0] == '.'))
      rest.remove_prefix(1);
  };
  trim();
  std::string_view keep = rest;  // markers only: the title is the text with them
  while (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) break;
    rest.remove_prefix(close + 1);
    trim();
  }
  if (rest.empty()) rest = keep;
  std::string t = Trim(std::string(rest));
  bool word = false;
  for (char c : t) word = word || std::isalnum(static_cast<unsigned char>(c));
  if (!word) return "";
  if (t.size() > 200) {
    size_t cut = t.rfind(' ', 200);
    t = t.substr(0, cut == std::string::npos || cut < 100 ? 200 : cut) + " …";
  }
  return t;
}

/// HasWords: text has a letter outside the IDs in it.
bool HasWords(const Grammar& g, const std::string& text) {
  std::string probe = text;
  g.Find(probe, false, [&](std::string_view found, size_t off) {
    for (size_t i = off; i < off + found.size(); ++i) probe[i] = ' ';
  });
  for (char c : probe)
    if (std::isalpha(static_cast<unsigned char>(c))) return true;
  return false;
}

/// LeadingId is the ID a list item's or a row's text starts with, after a checkbox (`[ ]`,
/// `[x]`), a bracket or bold markers; *title is what follows it. "" when the text does not
/// start with an ID, or names only IDs (a list of references, not a definition).
std::string LeadingId(const Grammar& g, std::string_view text, std::string* title, bool need_separator) {
  auto skip_space = [&] {
    while (!text.empty() && (text[0] == ' ' || text[0] == '\t')) text.remove_prefix(1);
  };
  skip_space();
  if (text.size() >= 3 && text[0] == '[' && text[2] == ']' && (text[1] == ' ' || text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(3);
    skip_space();
  }
  while (!text.empty() && (text[0] == '[' || text[0] == '*' || text[0] == '`')) text.remove_prefix(1);
  std::string id;
  size_t len = 0;
  g.Find(text, false, [&](std::string_view found, size_t off) {
    if (off == 0 && id.empty()) id = std::string(found), len = found.size();
  });
  if (id.empty()) return "";
  std::string_view rest = text.substr(len);
  while (!rest.empty() && (rest[0] == '`' || rest[0] == '*')) rest.remove_prefix(1);
  if (need_separator) {  // "FR-001: …", "FR-001 - …"; not "T012 before T013" (a mention)
    std::string_view r = rest;
    while (!r.empty() && r[0] == ' ') r.remove_prefix(1);
    bool sep = !r.empty() && r[0] == ':';
    for (std::string_view dash : {"- ", "\u2013 ", "\u2014 "}) sep = sep || r.substr(0, dash.size()) == dash;
    if (!sep) return "";
  }
  *title = TitleAfter(rest);
  // "REQ-01-001, REQ-01-002": IDs only are references.
  if (!HasWords(g, *title)) return "";
  return id;
}

/// TableCells splits a `| a | b |` row into trimmed cells (an escaped `\|` stays in its cell).
std::vector<std::string> TableCells(std::string_view row) {
  std::vector<std::string> cells;
  std::string cur;
  size_t i = 0;
  while (i < row.size() && row[i] == ' ') ++i;
  if (i < row.size() && row[i] == '|') ++i;
  for (; i < row.size(); ++i) {
    if (row[i] == '\\' && i + 1 < row.size() && row[i + 1] == '|') {
      cur += '|';
      ++i;
    } else if (row[i] == '|') {
      cells.push_back(Trim(cur));
      cur.clear();
    } else {
      cur += row[i];
    }
  }
  if (!Trim(cur).empty()) cells.push_back(Trim(cur));
  return cells;
}

/// SubItems finds the list items and table rows of a document that define items.
std::vector<SubItem> SubItems(const Grammar& g, cmark_node* root, const std::vector<std::string>& lines) {
  std::vector<SubItem> out;
  if (!g.ListItems() && !g.TableItems()) return out;
  cmark_iter* it = cmark_iter_new(root);
  for (cmark_event_type ev; (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE;) {
    if (ev != CMARK_EVENT_ENTER) continue;
    cmark_node* n = cmark_iter_get_node(it);
    cmark_node_type t = cmark_node_get_type(n);
    if (t == CMARK_NODE_ITEM && g.ListItems()) {
      cmark_node* para = cmark_node_first_child(n);
      if (!para || cmark_node_get_type(para) != CMARK_NODE_PARAGRAPH) continue;
      // The first line of its text: what follows the ID on it is the title.
      std::string text;
      for (cmark_node* c = cmark_node_first_child(para); c; c = cmark_node_next(c)) {
        cmark_node_type ct = cmark_node_get_type(c);
        if (ct == CMARK_NODE_SOFTBREAK || ct == CMARK_NODE_LINEBREAK) break;
        text += ct == CMARK_NODE_TEXT || ct == CMARK_NODE_CODE ? Literal(c) : InlineText(c);
      }
      int first = cmark_node_get_start_line(n), last = std::max(first, cmark_node_get_end_line(n));
      // Marked as the item's label in the source (bold, a bracket, code, a checkbox), or else
      // followed by a separator.
      std::string_view src = first - 1 < static_cast<int>(lines.size()) ? std::string_view(lines[static_cast<size_t>(first - 1)]) : "";
      size_t i = src.find_first_not_of(" \t>");
      if (i != std::string_view::npos && (src[i] == '-' || src[i] == '*' || src[i] == '+')) ++i;
      else
        while (i != std::string_view::npos && i < src.size() && (std::isdigit(static_cast<unsigned char>(src[i])) || src[i] == '.' || src[i] == ')')) ++i;
      src = i == std::string_view::npos || i > src.size() ? "" : src.substr(i);
      while (!src.empty() && src[0] == ' ') src.remove_prefix(1);
      bool marked = !src.empty() && (src[0] == '[' || src[0] == '*' || src[0] == '_' || src[0] == '`');
      std::string title;
      std::string id = LeadingId(g, text, &title, !marked);
      if (id.empty()) continue;
      // cmark counts the blank lines before the next item as this one's: they are not its text.
      while (last > first && last - 1 < static_cast<int>(lines.size()) && Trim(lines[static_cast<size_t>(last - 1)]).empty()) --last;
      out.push_back(SubItem{id, title, first, last, n});
    } else if (t == CMARK_NODE_PARAGRAPH && g.TableItems()) {
      int first = cmark_node_get_start_line(n), last = std::max(first, cmark_node_get_end_line(n));
      for (int l = first; l <= last && l - 1 < static_cast<int>(lines.size()); ++l) {
        std::string_view row = lines[static_cast<size_t>(l - 1)];
        size_t i = row.find_first_not_of(' ');
        if (i == std::string_view::npos || row[i] != '|') continue;
        auto cells = TableCells(row);
        if (cells.empty()) continue;
        // An item's row has its ID alone in the first cell and words in another (its title);
        // a row of IDs only (a traceability table) or "ID title | …" (a saved matrix) only
        // mentions them.
        std::string_view c0 = cells[0];
        while (!c0.empty() && (c0[0] == '*' || c0[0] == '[' || c0[0] == '`')) c0.remove_prefix(1);
        while (!c0.empty() && (c0.back() == '*' || c0.back() == ']' || c0.back() == '`')) c0.remove_suffix(1);
        std::string id, title;
        if (g.IsId(std::string(c0)) && std::string(c0).find('/') == std::string::npos) {
          id = std::string(c0);
          for (size_t c = 1; c < cells.size() && title.empty(); ++c)
            if (HasWords(g, cells[c])) title = TitleAfter(cells[c]);
        } else {
          id = LeadingId(g, cells[0], &title, true);  // "| SC-002: 95% succeed | … |"
        }
        if (id.empty() || title.empty()) continue;
        out.push_back(SubItem{id, title, l, l, n, true});
      }
    }
  }
  cmark_iter_free(it);
  return out;
}

}  // namespace

Result<std::vector<Item>> ParseSpecs(const Grammar& g, const std::vector<std::pair<std::string, std::string>>& docs) {
  std::vector<Item> items;
  for (const auto& [file, text] : docs) {
    Doc doc(text);
    std::vector<std::string> lines = Split(text, '\n');
    std::vector<cmark_node*> blocks;
    for (cmark_node* b = cmark_node_first_child(doc.root); b; b = cmark_node_next(b)) blocks.push_back(b);
    const size_t doc_first = items.size();
    // Which top-level headings start an item, and at what level.
    struct Head {
      size_t block;
      int level;
      std::string id, title;
    };
    std::vector<Head> heads;
    std::vector<int> head_level(blocks.size(), 0);
    for (size_t i = 0; i < blocks.size(); ++i) {
      if (cmark_node_get_type(blocks[i]) != CMARK_NODE_HEADING) continue;
      head_level[i] = cmark_node_get_heading_level(blocks[i]);
      std::string t = Trim(InlineText(blocks[i]));
      std::string id, title;
      if (g.HeadingItems()) {
        g.Find(t, false, [&](std::string_view found, size_t off) {
          if (off == 0 && id.empty()) id = std::string(found);
        });
        if (!id.empty()) title = Trim(t.substr(id.size()));
      }
      if (id.empty()) id = g.HeadingId(t, &title);
      if (id.empty()) continue;
      title = Trim(title);
      while (!title.empty() && (title[0] == ':' || title[0] == '-' || title[0] == ' ')) title.erase(0, 1);
      heads.push_back(Head{i, head_level[i], id, title});
    }
    // Each item's range: to the next heading of the same or a higher level.
    std::vector<size_t> end(heads.size(), blocks.size());
    for (size_t h = 0; h < heads.size(); ++h)
      for (size_t i = heads[h].block + 1; i < blocks.size(); ++i)
        if (head_level[i] > 0 && head_level[i] <= heads[h].level) {
          end[h] = i;
          break;
        }
    auto block_last_line = [&](size_t i) {
      return i + 1 < blocks.size() ? cmark_node_get_start_line(blocks[i + 1]) - 1 : static_cast<int>(lines.size());
    };
    // List items and table rows that are items: their lines belong to them, not to the
    // section around them.
    std::vector<SubItem> subs = SubItems(g, doc.root, lines);
    std::vector<char> sub_line(lines.size() + 2, 0);
    for (const auto& si : subs)
      for (int l = si.first; l <= si.last && l <= static_cast<int>(lines.size()); ++l) sub_line[static_cast<size_t>(l)] = 1;
    auto own_line = [&](int l) { return l < 0 || l >= static_cast<int>(sub_line.size()) || !sub_line[static_cast<size_t>(l)]; };
    struct Range {
      int first, last;
      size_t item;  // index in items
    };
    std::vector<Range> ranges;  // heading items' whole sections, for containment
    for (size_t h = 0; h < heads.size(); ++h) {
      const Head& head = heads[h];
      // Its own blocks: its range without the ranges of the items nested in it.
      std::vector<size_t> own;
      for (size_t i = head.block + 1; i < end[h];) {
        size_t nested = h + 1;
        while (nested < heads.size() && heads[nested].block < i) ++nested;
        if (nested < heads.size() && heads[nested].block == i) {
          i = end[nested];
          continue;
        }
        own.push_back(i++);
      }
      Item it;
      it.id = head.id;
      it.prefix = g.PrefixOf(head.id);
      it.title = head.title;
      it.level = head.level;
      it.at = Location{file, cmark_node_get_start_line(blocks[head.block])};
      for (size_t i : own)
        for (int l = cmark_node_get_start_line(blocks[i]); l <= block_last_line(i) && l - 1 < static_cast<int>(lines.size()); ++l) {
          if (!own_line(l)) continue;
          it.body += lines[static_cast<size_t>(l - 1)];
          it.body += '\n';
        }
      while (!it.body.empty() && (it.body.back() == '\n' || it.body.back() == ' ')) it.body.pop_back();
      bool in_code = OptsIntoCode(it.body);
      // IDs in the heading after its own are links too ("## US-01-002 Sign-in (REQ-01-001)").
      Links(g, blocks[head.block], file, in_code, lines, &it.links);
      for (size_t i : own) Links(g, blocks[i], file, in_code, lines, &it.links);
      // A mention of its own ID is not a link; nor is an ID on a line of an item inside it.
      std::erase_if(it.links, [&](const Link& l) { return l.id == it.id || !own_line(l.at.line); });
      int last = end[h] < blocks.size() ? cmark_node_get_start_line(blocks[end[h]]) - 1 : static_cast<int>(lines.size());
      ranges.push_back(Range{it.at.line, last, items.size()});
      items.push_back(std::move(it));
    }
    // subs are in document order (a pre-order walk): the items nested in one follow it, and
    // the open ones around it are a stack, so neither costs a pass over every other item.
    std::vector<size_t> open;
    for (size_t k = 0; k < subs.size(); ++k) {
      const SubItem& si = subs[k];
      Item it;
      it.id = si.id;
      it.prefix = g.PrefixOf(si.id);
      it.title = si.title;
      it.level = si.table ? 8 : 7;  // below every heading (a row: see the end of ParseSpecs)
      it.at = Location{file, si.first};
      // Its lines, without those of the items nested in it (a task's sub-tasks).
      std::vector<char> nested(static_cast<size_t>(si.last - si.first + 1), 0);
      for (size_t o = k + 1; o < subs.size() && subs[o].first <= si.last; ++o)
        if (subs[o].last <= si.last && !(subs[o].first == si.first && subs[o].last == si.last))
          for (int l = subs[o].first; l <= subs[o].last; ++l) nested[static_cast<size_t>(l - si.first)] = 1;
      auto nested_line = [&](int l) { return l >= si.first && l <= si.last && nested[static_cast<size_t>(l - si.first)]; };
      for (int l = si.first; l <= si.last && l - 1 < static_cast<int>(lines.size()); ++l)
        if (!nested_line(l)) it.body += lines[static_cast<size_t>(l - 1)] + "\n";
      while (!it.body.empty() && (it.body.back() == '\n' || it.body.back() == ' ')) it.body.pop_back();
      Links(g, si.node, file, OptsIntoCode(it.body), lines, &it.links);
      std::erase_if(it.links, [&](const Link& l) {
        return l.id == it.id || l.at.line < si.first || l.at.line > si.last || nested_line(l.at.line);
      });
      // Inside another item (a list item around it, else a heading's section): it derives from it.
      while (!open.empty() && subs[open.back()].last < si.first) open.pop_back();
      std::string parent_id;
      int parent_line = 0;
      for (auto o = open.rbegin(); o != open.rend() && parent_id.empty(); ++o)
        if (subs[*o].first < si.first && si.last <= subs[*o].last) parent_id = subs[*o].id, parent_line = subs[*o].first;
      open.push_back(k);
      if (parent_id.empty())
        for (const auto& r : ranges)
          if (r.first < si.first && si.first <= r.last && r.first > parent_line)
            parent_id = items[r.item].id, parent_line = r.first;
      if (!parent_id.empty() && parent_id != it.id &&
          std::none_of(it.links.begin(), it.links.end(), [&](const Link& l) { return l.id == parent_id; }))
        it.links.insert(it.links.begin(), Link{parent_id, Location{file, si.first}});
      items.push_back(std::move(it));
    }
    // File order; a feature's items are FEATURE/ID.
    std::stable_sort(items.begin() + static_cast<std::ptrdiff_t>(doc_first), items.end(),
                     [](const Item& a, const Item& b) { return a.at.line < b.at.line; });
    std::string scope = g.ScopeOf(file);
    if (!scope.empty())
      for (size_t i = doc_first; i < items.size(); ++i) {
        items[i].scope = scope;
        items[i].id = scope + "/" + items[i].id;
      }
  }
  // A table row that names an ID a heading or a list item defines is a status table
  // ("| FR-001 | Covered | T001 |"), not a second definition.
  std::set<std::string> defined;
  for (const auto& it : items)
    if (it.level < 8) defined.insert(it.id);
  std::erase_if(items, [&](const Item& it) { return it.level == 8 && defined.count(it.id); });
  ResolveLinks(g, &items);
  return items;
}

Result<std::vector<std::pair<std::string, std::string>>> ReadSpecDocs(const Config& c) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, std::string>> docs;
  fs::path dir = fs::path(c.root) / c.specs_dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return docs;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().extension() != ".md") continue;
    // A document is read only if it resolves inside the project (the tools' workspace rule):
    // a link to a file elsewhere is not the project's spec, and the web UI must not serve it.
    if (!tools::ResolveInWorkspace(c.root, it->path().lexically_relative(c.root).string(), false).ok()) continue;
    SW_ASSIGN_OR_RETURN(std::string text, ReadFile(it->path().string()));
    docs.emplace_back(it->path().lexically_relative(c.root).string(), std::move(text));
  }
  std::sort(docs.begin(), docs.end());
  return docs;
}

}  // namespace sw::spec
