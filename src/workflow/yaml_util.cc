// Typed reading of YAML values with positioned diagnostics (see load_internal.h).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>

#include "base/strings.h"
#include "workflow/load_internal.h"
#include "workflow/yaml_json.h"

namespace sw::workflow::internal {
namespace {

std::string PosText(Pos p) { return std::to_string(p.line) + ":" + std::to_string(p.col); }

bool IsPathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

std::optional<int64_t> ParseInt(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

/// LineStart returns the offset of the first character of 0-based line `line`, or npos.
size_t LineStart(std::string_view text, int line) {
  size_t off = 0;
  for (int i = 0; i < line; ++i) {
    off = text.find('\n', off);
    if (off == std::string_view::npos) return off;
    ++off;
  }
  return off;
}

}  // namespace

std::string Describe(const YAML::Node& v) {
  switch (v.Type()) {
    case YAML::NodeType::Scalar:
      // A long scalar is clipped: a message must not carry a whole file that was read as YAML.
      return v.Scalar().size() > 80 ? Quote(v.Scalar().substr(0, 77) + "...") : Quote(v.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

json ToJson(const YAML::Node& v) {
  try {
    return YamlToJson(v);
  } catch (const YAML::Exception&) {
    return nullptr;
  }
}

bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  char f = s[0];
  if (!((f >= 'a' && f <= 'z') || (f >= 'A' && f <= 'Z') || f == '_')) return false;
  for (char c : s)
    if (!IsPathChar(c) || c == '-') return false;
  return true;
}

Pos PosFromOffset(std::string_view text, size_t offset) {
  Pos p{1, 1};
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.col = 1;
    } else {
      ++p.col;
    }
  }
  return p;
}

Pos Site::At(size_t offset) const {
  if (in_file) return PosFromOffset(file_text, offset);
  if (!src || !scalar.IsDefined() || !scalar.IsScalar()) return pos;
  const std::string& text = src->text;
  const std::string& value = scalar.Scalar();
  YAML::Mark m = scalar.Mark();
  if (m.pos < 0 || static_cast<size_t>(m.pos) >= text.size()) return pos;
  size_t start = static_cast<size_t>(m.pos);
  offset = std::min(offset, value.size());
  char first = text[start];
  std::string_view prefix(value.data(), offset);
  if (first == '|' || first == '>') {
    // Block scalar: content starts on the next line at the block's indentation.
    size_t k = static_cast<size_t>(std::count(prefix.begin(), prefix.end(), '\n'));
    if (first == '>' && k > 0) return pos;  // folded lines do not map one to one
    size_t ls = LineStart(text, m.line + 1);
    int indent = -1;
    for (size_t l = ls; l != std::string::npos && l < text.size();) {
      size_t e = text.find('\n', l);
      std::string_view line(text.data() + l, (e == std::string::npos ? text.size() : e) - l);
      size_t nb = line.find_first_not_of(' ');
      if (nb != std::string_view::npos) {
        indent = static_cast<int>(nb);
        break;
      }
      l = e == std::string::npos ? e : e + 1;
    }
    if (indent < 0) return pos;
    size_t last_nl = prefix.rfind('\n');
    size_t col = last_nl == std::string_view::npos ? offset : offset - last_nl - 1;
    return Pos{m.line + 2 + static_cast<int>(k), indent + static_cast<int>(col) + 1};
  }
  size_t body = start + ((first == '"' || first == '\'') ? 1 : 0);
  if (prefix.find('\n') == std::string_view::npos && text.compare(body, offset, prefix) == 0)
    return Pos{pos.line, pos.col + static_cast<int>(body - start + offset)};
  return pos;
}

Pos Site::Find(const std::string& text, const std::string& needle) const {
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    bool left_ok = at == 0 || (!IsPathChar(text[at - 1]) && text[at - 1] != '.');
    size_t end = at + needle.size();
    bool right_ok = end >= text.size() || !IsPathChar(text[end]);
    if (left_ok && right_ok) return At(at);
  }
  return pos;
}

void FileCtx::Error(Pos pos, std::string message) {
  diags_.errors.push_back(Diagnostic{src_.display, pos, std::move(message)});
}

void FileCtx::ErrorIn(const std::string& file, Pos pos, std::string message) {
  diags_.errors.push_back(Diagnostic{file, pos, std::move(message)});
}

void FileCtx::Warn(Pos pos, std::string message) {
  diags_.warnings.push_back(Diagnostic{src_.display, pos, std::move(message)});
}

Pos PosOf(const YAML::Node& n) {
  YAML::Mark m = n.Mark();
  if (m.line < 0) return Pos{};
  return Pos{m.line + 1, m.column + 1};
}

Pos FileCtx::PosOf(const YAML::Node& n) const { return internal::PosOf(n); }

Site FileCtx::SiteOf(const YAML::Node& scalar) const {
  Site s;
  s.file = src_.display;
  s.pos = PosOf(scalar);
  s.src = &src_;
  s.scalar = scalar;
  return s;
}

std::optional<std::string> FileCtx::String(const YAML::Node& v, Pos pos, std::string_view what) {
  if (v.IsScalar()) return v.Scalar();
  Error(pos, "expected a string for " + std::string(what) + ", got " + Describe(v));
  return std::nullopt;
}

std::optional<int64_t> FileCtx::Int(const YAML::Node& v, Pos pos, std::string_view what, int64_t lo, int64_t hi) {
  std::optional<int64_t> n;
  if (v.IsScalar()) n = ParseInt(Trim(v.Scalar()));
  if (!n) {
    Error(pos, "expected an integer for " + std::string(what) + ", got " + Describe(v));
    return std::nullopt;
  }
  if (*n < lo || *n > hi) {
    std::string range = hi >= std::numeric_limits<int>::max()
                            ? "at least " + std::to_string(lo)
                            : "between " + std::to_string(lo) + " and " + std::to_string(hi);
    Error(pos, std::string(what) + " must be " + range + ", got " + std::to_string(*n));
    return std::nullopt;
  }
  return n;
}

std::optional<double> FileCtx::Number(const YAML::Node& v, Pos pos, std::string_view what, double lo, double hi) {
  std::optional<double> n;
  if (v.IsScalar()) n = ParseDouble(Trim(v.Scalar()));
  if (!n) {
    Error(pos, "expected a number for " + std::string(what) + ", got " + Describe(v));
    return std::nullopt;
  }
  if (*n < lo || *n > hi) {
    auto fmt = [](double d) {
      char b[32];
      std::snprintf(b, sizeof(b), "%g", d);
      return std::string(b);
    };
    std::string range = std::isinf(hi) ? "at least " + fmt(lo) : "between " + fmt(lo) + " and " + fmt(hi);
    Error(pos, std::string(what) + " must be " + range + ", got " + v.Scalar());
    return std::nullopt;
  }
  return n;
}

std::optional<bool> FileCtx::Bool(const YAML::Node& v, Pos pos, std::string_view what) {
  if (v.IsScalar()) {
    const std::string& s = v.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  Error(pos, "expected true or false for " + std::string(what) + ", got " + Describe(v));
  return std::nullopt;
}

std::optional<double> FileCtx::Duration(const YAML::Node& v, Pos pos, std::string_view what) {
  std::optional<double> d;
  if (v.IsScalar()) d = ParseDuration(v.Scalar());
  if (!d) {
    Error(pos, "invalid duration " + Describe(v) + " for " + std::string(what) +
                   "; use seconds (30, 1.5) or a number with a unit: \"250ms\", \"30s\", \"5m\", \"1h\"");
    return std::nullopt;
  }
  if (*d < 0) {
    Error(pos, std::string(what) + " must not be negative, got " + Describe(v));
    return std::nullopt;
  }
  return d;
}

std::optional<std::string> FileCtx::Enum(const YAML::Node& v, Pos pos, std::string_view what,
                                         const std::vector<std::string>& allowed) {
  if (v.IsScalar())
    for (const auto& a : allowed)
      if (v.Scalar() == a) return a;
  std::string msg = "invalid " + std::string(what) + " " + Describe(v) + "; expected one of: " + Join(allowed, ", ");
  if (v.IsScalar()) {
    std::string near = DidYouMean(v.Scalar(), allowed);
    if (!near.empty()) msg += " (did you mean " + Quote(near) + "?)";
  }
  Error(pos, msg);
  return std::nullopt;
}

std::optional<std::vector<std::string>> FileCtx::StringList(const YAML::Node& v, Pos pos, std::string_view what,
                                                            std::vector<Pos>* positions) {
  std::vector<std::string> out;
  if (v.IsScalar()) {
    out.push_back(v.Scalar());
    if (positions) positions->push_back(pos);
    return out;
  }
  if (!v.IsSequence()) {
    Error(pos, "expected a list of strings for " + std::string(what) + ", got " + Describe(v));
    return std::nullopt;
  }
  bool ok = true;
  for (const auto& item : v) {
    if (!item.IsScalar()) {
      Error(PosOf(item), "expected a string in " + std::string(what) + ", got " + Describe(item));
      ok = false;
      continue;
    }
    out.push_back(item.Scalar());
    if (positions) positions->push_back(PosOf(item));
  }
  if (!ok) return std::nullopt;
  return out;
}

MapReader::MapReader(FileCtx& ctx, const YAML::Node& map, std::string context)
    : ctx_(ctx), context_(std::move(context)) {
  if (!map.IsMap()) return;
  for (auto it = map.begin(); it != map.end(); ++it) {
    YAML::Node k = it->first;  // a copy: `it->` yields a temporary proxy
    Pos kpos = ctx_.PosOf(k);
    if (!k.IsScalar()) {
      ctx_.Error(kpos, "keys in " + context_ + " must be strings, got " + Describe(k));
      continue;
    }
    if (const Entry* prev = Get(k.Scalar())) {
      ctx_.Error(kpos, "duplicate key " + Quote(k.Scalar()) + " in " + context_ + " (first at " +
                           PosText(prev->key_pos) + ")");
      continue;
    }
    Entry e;
    e.key = k.Scalar();
    e.value = it->second;
    e.key_pos = kpos;
    Pos vpos = ctx_.PosOf(e.value);
    // An empty value's mark points at the next token, often on a later line: use the key.
    e.value_pos = (e.value.IsNull() && vpos.line != kpos.line) || vpos.line == 0 ? kpos : vpos;
    entries_.push_back(std::move(e));
  }
}

const Entry* MapReader::Get(std::string_view key) const {
  for (const auto& e : entries_)
    if (e.key == key) return &e;
  return nullptr;
}

void MapReader::CheckKeys(const std::vector<std::string>& allowed) {
  for (const auto& e : entries_) {
    if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) continue;
    std::string msg = "unknown key " + Quote(e.key) + " in " + context_;
    std::string near = DidYouMean(e.key, allowed);
    if (!near.empty()) msg += " (did you mean " + Quote(near) + "?)";
    ctx_.Error(e.key_pos, msg);
  }
}

std::string CheckModelName(std::string_view model) {
  size_t slash = model.find('/');
  bool ok = slash != std::string_view::npos && slash > 0 && slash + 1 < model.size();
  if (ok)
    for (char c : model.substr(0, slash))
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) ok = false;
  if (ok) return "";
  return "invalid model " + Quote(model) +
         ": expected \"provider/name\" with a lowercase provider, e.g. \"openai/gpt-4o\" or \"scripted/demo\"";
}

namespace {
void ParseRetry(FileCtx& ctx, const Entry& e, const std::string& context, Settings* out) {
  if (e.value.IsScalar()) {  // `retry: 3` is shorthand for `retry: {attempts: 3}`
    if (auto n = ctx.Int(e.value, e.value_pos, "retry attempts", 1, 100)) out->attempts = static_cast<int>(*n);
    return;
  }
  if (!e.value.IsMap()) {
    ctx.Error(e.value_pos, "expected a map {attempts, backoff, max_delay} for retry, got " + Describe(e.value));
    return;
  }
  MapReader m(ctx, e.value, "retry of " + context);
  m.CheckKeys({"attempts", "backoff", "max_delay"});
  if (const Entry* a = m.Get("attempts"))
    if (auto n = ctx.Int(a->value, a->value_pos, "attempts", 1, 100)) out->attempts = static_cast<int>(*n);
  if (const Entry* b = m.Get("backoff"))
    if (auto d = ctx.Duration(b->value, b->value_pos, "backoff")) out->backoff = *d;
  if (const Entry* d = m.Get("max_delay"))
    if (auto v = ctx.Duration(d->value, d->value_pos, "max_delay")) out->max_delay = *v;
}
}  // namespace

void ParseSettings(FileCtx& ctx, const MapReader& m, const std::string& context, bool model_keys, Settings* out) {
  if (const Entry* e = m.Get("retry")) ParseRetry(ctx, *e, context, out);
  if (const Entry* e = m.Get("timeout"))
    if (auto d = ctx.Duration(e->value, e->value_pos, "timeout")) out->timeout = *d;
  if (!model_keys) return;
  if (const Entry* e = m.Get("model")) {
    out->model_key = true;
    if (auto s = ctx.String(e->value, e->value_pos, "model")) {
      std::string err = CheckModelName(*s);
      if (err.empty()) {
        out->model = *s;
      } else {
        ctx.Error(e->value_pos, err);
      }
    }
  }
  if (const Entry* e = m.Get("temperature"))
    if (auto t = ctx.Number(e->value, e->value_pos, "temperature", 0, 2)) out->temperature = *t;
  if (const Entry* e = m.Get("max_tokens"))
    if (auto n = ctx.Int(e->value, e->value_pos, "max_tokens", 1, std::numeric_limits<int64_t>::max()))
      out->max_tokens = *n;
  if (const Entry* e = m.Get("stop"))
    if (auto l = ctx.StringList(e->value, e->value_pos, "stop")) out->stop = *l;
  if (const Entry* e = m.Get("fallbacks")) {
    std::vector<Pos> positions;
    if (auto l = ctx.StringList(e->value, e->value_pos, "fallbacks", &positions)) {
      bool ok = true;
      for (size_t i = 0; i < l->size(); ++i)
        if (std::string err = CheckModelName((*l)[i]); !err.empty()) {
          ctx.Error(positions[i], "fallbacks: " + err);
          ok = false;
        }
      if (ok) out->fallbacks = *l;
    }
  }
}

void ParseBudget(FileCtx& ctx, const Entry& e, const std::string& context, bool allow_policy, Budget* out) {
  if (!e.value.IsMap()) {
    ctx.Error(e.value_pos, "expected a map {max_usd, max_tokens, max_calls} for budget, got " + Describe(e.value));
    return;
  }
  MapReader m(ctx, e.value, "budget of " + context);
  std::vector<std::string> keys = {"max_usd", "max_tokens", "max_calls", "policy"};
  m.CheckKeys(keys);
  if (const Entry* p = m.Get("policy"); p && !allow_policy)
    ctx.Error(p->key_pos, "key \"policy\" is not valid in a node budget; set the policy on the workflow's budget");
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (const Entry* x = m.Get("max_usd"))
    if (auto v = ctx.Number(x->value, x->value_pos, "max_usd", 0, std::numeric_limits<double>::infinity()))
      out->max_usd = *v;
  if (const Entry* x = m.Get("max_tokens"))
    if (auto v = ctx.Int(x->value, x->value_pos, "max_tokens", 0, kMax)) out->max_tokens = *v;
  if (const Entry* x = m.Get("max_calls"))
    if (auto v = ctx.Int(x->value, x->value_pos, "max_calls", 0, kMax)) out->max_calls = *v;
  if (const Entry* x = m.Get("policy"); x && allow_policy)
    if (auto v = ctx.Enum(x->value, x->value_pos, "policy", {"stop", "warn"}))
      out->policy = *v == "warn" ? BudgetPolicy::kWarn : BudgetPolicy::kStop;
}

}  // namespace sw::workflow::internal
