// Real models rarely answer "JSON only" with JSON only: they wrap it in a ```json fence, put a
// sentence before it or a remark after it. FindJson finds the value a person would see in such
// an answer, and says how it was found, so the engine can use it and record the repair.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sw::llm {

struct JsonAnswer {
  std::optional<nlohmann::json> value;  // the value found, usable or not
  /// How it was found: "" when the whole answer is the value; otherwise a phrase for the
  /// record ("inside a ```json fence", "after 1 line of prose").
  std::string repaired;
  /// Why the answer cannot be used ("" when it can): the parse error, or the check's errors.
  std::string error;
  bool ok() const { return value.has_value() && error.empty(); }
};

/// Check returns what is wrong with a parsed value (a schema's errors); empty when it fits.
using JsonCheck = std::function<std::vector<std::string>(const nlohmann::json&)>;

/// FindJson tries, in order: the whole answer; each fenced block (```json first); each
/// balanced {...} or [...] in the text. The first candidate that parses and passes the check
/// wins; when none passes, the error is that of the best candidate (one that parsed, else the
/// whole answer's parse error). Bounded: at most 32 candidates are parsed and 64 starts scanned.
JsonAnswer FindJson(std::string_view text, const JsonCheck& check = nullptr);

/// DocumentAnswer is a Markdown document found in a model's answer.
struct DocumentAnswer {
  std::string text;
  std::string repaired;  // how it was found, as JsonAnswer::repaired; "" when the answer was the document
};

/// FindDocument finds the Markdown document in an answer the way FindJson finds JSON: an answer
/// that starts with a heading is the document; else the body of a fence opened before the
/// first heading (```markdown, ```md or a bare ```) that holds a heading — inside it a
/// labelled fence (```sh) is an example closed by the next bare marker, and the first bare
/// marker that closes nothing closes the document; else what follows the prose before the
/// first heading. No heading and no fence: the answer as it is. Applied to its own result it
/// changes nothing only when that result starts with a heading, so callers cache the raw answer.
DocumentAnswer FindDocument(std::string_view text);

}  // namespace sw::llm
