// Spec documents: Markdown parsed by cmark (a real CommonMark parser), so an ID inside a code
// span or a code block is not mistaken for a link.
#include <cmark.h>

#include <algorithm>
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
    g.Find(text, false, [&](std::string_view id, size_t) {
      int l = locate(id);
      if (eligible) out->push_back(Link{std::string(id), Location{file, l}});
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

Result<std::vector<Item>> ParseSpecs(const Grammar& g, const std::vector<std::pair<std::string, std::string>>& docs) {
  std::vector<Item> items;
  for (const auto& [file, text] : docs) {
    Doc doc(text);
    std::vector<std::string> lines = Split(text, '\n');
    std::vector<cmark_node*> blocks;
    for (cmark_node* b = cmark_node_first_child(doc.root); b; b = cmark_node_next(b)) blocks.push_back(b);
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
      std::string id;
      g.Find(t, false, [&](std::string_view found, size_t off) {
        if (off == 0 && id.empty()) id = std::string(found);
      });
      if (id.empty()) continue;
      std::string title = Trim(t.substr(id.size()));
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
          it.body += lines[static_cast<size_t>(l - 1)];
          it.body += '\n';
        }
      while (!it.body.empty() && (it.body.back() == '\n' || it.body.back() == ' ')) it.body.pop_back();
      bool in_code = OptsIntoCode(it.body);
      // IDs in the heading after its own are links too ("## US-01-002 Sign-in (REQ-01-001)").
      Links(g, blocks[head.block], file, in_code, lines, &it.links);
      for (size_t i : own) Links(g, blocks[i], file, in_code, lines, &it.links);
      // A mention of its own ID is not a link.
      std::erase_if(it.links, [&](const Link& l) { return l.id == it.id; });
      items.push_back(std::move(it));
    }
  }
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
