#include "llm/json_answer.h"

#include "base/strings.h"

namespace sw::llm {
namespace {

using json = nlohmann::json;

constexpr int kMaxCandidates = 32;

struct Candidate {
  std::string_view text;
  std::string how;
};

/// Fenced blocks: ``` then a label to the end of the line opens, the next ``` closes. The
/// ```json ones come first.
std::vector<Candidate> Fences(std::string_view t) {
  std::vector<Candidate> labelled, other;
  size_t pos = 0;
  while (pos < t.size() && labelled.size() + other.size() < kMaxCandidates) {
    size_t open = t.find("```", pos);
    if (open == std::string_view::npos) break;
    size_t eol = t.find('\n', open);
    if (eol == std::string_view::npos) break;
    std::string label = Trim(std::string(t.substr(open + 3, eol - open - 3)));
    size_t close = t.find("```", eol + 1);
    std::string_view body = t.substr(eol + 1, close == std::string_view::npos ? std::string_view::npos : close - eol - 1);
    std::string how = "inside a ```" + label + " fence";
    for (char& c : label) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    (label == "json" || label == "jsonc" || label == "json5" ? labelled : other).push_back({body, how});
    if (close == std::string_view::npos) break;  // an unclosed fence runs to the end (a cut answer)
    pos = close + 3;
  }
  labelled.insert(labelled.end(), other.begin(), other.end());
  return labelled;
}

/// The end (one past) of the balanced value starting at t[start] ('{' or '['), honouring
/// strings and escapes; npos when it never closes.
size_t BalancedEnd(std::string_view t, size_t start) {
  int depth = 0;
  bool in_string = false, escape = false;
  for (size_t i = start; i < t.size(); ++i) {
    char c = t[i];
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

std::string Lines(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  if (!s.empty() && s.back() != '\n') ++n;
  return std::to_string(n) + (n == 1 ? " line" : " lines");
}

}  // namespace

JsonAnswer FindJson(std::string_view text, const JsonCheck& check) {
  std::string whole = Trim(std::string(text));
  std::vector<Candidate> cands;
  cands.push_back({whole, ""});
  for (auto& f : Fences(whole)) cands.push_back(std::move(f));
  // Balanced values in the prose, outermost first: a '{' inside one already tried is skipped.
  // Each start scans to its end at worst: at most 2 * kMaxCandidates starts keep it linear.
  size_t covered = 0;
  int starts = 0;
  for (size_t i = 0; i < whole.size() && cands.size() < kMaxCandidates && starts < 2 * kMaxCandidates; ++i) {
    if ((whole[i] != '{' && whole[i] != '[') || i < covered) continue;
    ++starts;
    size_t end = BalancedEnd(whole, i);
    // A value that never closes (a cut answer) holds the rest: an object inside it is a
    // fragment, not the answer.
    if (end == std::string_view::npos) break;
    std::string how;
    std::string before = Trim(whole.substr(0, i)), after = Trim(whole.substr(end));
    if (!before.empty()) how = "after " + Lines(before) + " of prose";
    if (!after.empty()) how += std::string(how.empty() ? "" : ", ") + "before " + Lines(after) + " of prose";
    cands.push_back({std::string_view(whole).substr(i, end - i), how});
    covered = end;
  }

  JsonAnswer best;
  std::string first_parse_error;
  for (const auto& c : cands) {
    json v = json::parse(c.text.begin(), c.text.end(), nullptr, false);
    if (v.is_discarded()) {
      if (first_parse_error.empty()) {
        try {
          (void)json::parse(c.text.begin(), c.text.end());
        } catch (const json::parse_error& e) {
          first_parse_error = e.what();
        }
      }
      continue;
    }
    // A bare number or string found inside prose is not an answer.
    if (!c.how.empty() && !v.is_object() && !v.is_array()) continue;
    std::vector<std::string> errors = check ? check(v) : std::vector<std::string>{};
    if (errors.empty()) return JsonAnswer{std::move(v), c.how, ""};
    if (!best.value) {
      if (errors.size() > 5) errors.resize(5);
      best = JsonAnswer{std::move(v), c.how, "the JSON does not match the schema: " + Join(errors, "; ")};
    }
  }
  if (best.value) return best;
  std::string preview = whole.size() > 120 ? Utf8Prefix(whole, 120) + "…" : whole;
  return JsonAnswer{std::nullopt, "",
                    "the answer is not valid JSON (" + first_parse_error + "); it starts with: " + Quote(preview)};
}

DocumentAnswer FindDocument(std::string_view text) {
  std::string whole(text);
  // The lines, with where each starts, to find fences and headings at the start of a line.
  std::vector<std::pair<size_t, std::string_view>> lines;
  for (size_t at = 0; at < whole.size();) {
    size_t nl = whole.find('\n', at);
    size_t end = nl == std::string::npos ? whole.size() : nl;
    lines.emplace_back(at, std::string_view(whole).substr(at, end - at));
    at = end + 1;
  }
  auto blank = [](std::string_view l) { return Trim(std::string(l)).empty(); };
  size_t first = 0;
  while (first < lines.size() && blank(lines[first].second)) ++first;
  if (first == lines.size()) return DocumentAnswer{whole, ""};
  // A document already: it starts with a heading.
  if (lines[first].second.starts_with("#")) return DocumentAnswer{whole, ""};
  // A fence around the document, opened before the first heading: ``` (or more backticks, or
  // ~~~) with a markdown label or none. Inside it, a labelled fence (```sh) opens an example
  // that the next bare marker closes; bare markers pair up as unlabelled examples until the
  // one after which no document follows. Its body must hold a heading, or it was not the
  // document's fence.
  auto is_heading = [](std::string_view l) { return l.starts_with("#"); };
  auto fence_of = [](const std::string& l, std::string* marker, std::string* label) {
    if (!(l.starts_with("```") || l.starts_with("~~~"))) return false;
    size_t n = l.find_first_not_of(l[0]);
    *marker = l.substr(0, n == std::string::npos ? l.size() : n);
    *label = n == std::string::npos ? "" : Trim(l.substr(n));
    return true;
  };
  for (size_t i = first; i < lines.size() && !is_heading(lines[i].second); ++i) {
    std::string marker, label;
    if (!fence_of(Trim(std::string(lines[i].second)), &marker, &label)) continue;
    std::string lower = label;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!lower.empty() && lower != "markdown" && lower != "md") break;  // a code block, not the document's fence
    // Bare markers that close nothing are either the document's end or the two ends of an
    // unlabelled example inside it (a diagram, a command): examples come in pairs, so the
    // document's end is an odd one (the 1st, 3rd, ...), the first after which the answer holds
    // nothing of a document (no heading, no `Traces:` line): what follows the end is prose.
    // The one shape this cannot tell from prose with a command after the document: an
    // unlabelled example as the very last thing of a fenced document (it is left out).
    std::vector<size_t> bare;
    bool in_example = false, heading = false;
    // The last line that is more document: an item heading (`##` or deeper: the title is the
    // only `#`, and `# build` in a shell example is a comment) or a `Traces:` line, outside the
    // labelled examples. A marker after it closes the document.
    size_t last_doc = 0;
    for (size_t j = i + 1; j < lines.size(); ++j) {
      std::string l = Trim(std::string(lines[j].second));
      std::string m2, l2;
      bool fence = fence_of(l, &m2, &l2);
      if (!in_example && is_heading(lines[j].second)) heading = true;
      if (!fence) {
        if (!in_example && (lines[j].second.starts_with("##") || lines[j].second.starts_with("Traces:"))) last_doc = j;
        continue;
      }
      if (in_example) {
        if (l2.empty()) in_example = false;  // the example's closing marker
      } else if (!l2.empty()) {
        in_example = true;  // a labelled example inside the document
      } else if (l == marker) {
        bare.push_back(j);
      }
    }
    size_t close = lines.size();
    for (size_t b = 0; b < bare.size(); b += 2)
      if (last_doc < bare[b]) {
        close = bare[b];
        break;
      }
    // No marker qualifies (prose after the document with headings of its own): the first bare
    // marker closes it, as a document without examples has it.
    if (close == lines.size() && !bare.empty()) close = bare[0];
    if (!heading) break;
    size_t body_start = i + 1 < lines.size() ? lines[i + 1].first : whole.size();
    size_t body_end = close < lines.size() ? lines[close].first : whole.size();
    std::string body = body_start < body_end ? whole.substr(body_start, body_end - body_start) : "";
    std::string before = Trim(whole.substr(0, lines[i].first));
    std::string after = close + 1 < lines.size() ? Trim(whole.substr(lines[close + 1].first)) : "";
    std::string how = "inside a " + marker + label + " fence";
    if (!before.empty()) how += ", after " + Lines(before) + " of prose";
    if (!after.empty()) how += ", before " + Lines(after) + " of prose";
    if (close == lines.size()) how += " that never closes";
    return DocumentAnswer{body, how};
  }
  // Prose before the first heading: a preamble, not part of the document.
  for (size_t i = first; i < lines.size(); ++i) {
    if (!lines[i].second.starts_with("#")) continue;
    std::string before = Trim(whole.substr(0, lines[i].first));
    return DocumentAnswer{whole.substr(lines[i].first), "after " + Lines(before) + " of prose"};
  }
  return DocumentAnswer{whole, ""};
}

}  // namespace sw::llm
