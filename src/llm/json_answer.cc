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

}  // namespace sw::llm
