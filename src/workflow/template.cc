#include "workflow/template.h"

namespace sw::tmpl {

struct Piece {
  enum Kind { kText, kVar, kSection, kInverted } kind = kText;
  std::string text;  // text, or the name as written
  expr::Path path;
  std::vector<std::unique_ptr<Piece>> kids;
};

Template::Template() = default;
Template::~Template() = default;

std::string ValueToText(const expr::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_object() || v.is_array()) return v.dump(2);
  return v.dump();
}

namespace {

bool IsBlank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

struct Frame {
  std::vector<std::unique_ptr<Piece>>* out;
  std::string name;
  size_t offset;
};

std::optional<expr::json> Lookup(const std::vector<const expr::json*>& stack, const expr::Path& path,
                                 const std::string& name, const expr::Scope& scope) {
  if (name == ".") {
    if (stack.empty()) return std::nullopt;
    return *stack.back();
  }
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    const expr::json& ctx = **it;
    if (ctx.is_object() && !path[0].is_index() && ctx.contains(path[0].key)) {
      const expr::json* v = expr::Walk(ctx, path, 0);
      if (!v) return std::nullopt;
      return *v;
    }
  }
  return scope.Resolve(path);
}

Status RenderPieces(const std::vector<std::unique_ptr<Piece>>& pieces, const expr::Scope& scope,
                    std::vector<const expr::json*>& stack, std::string& out, std::vector<std::string>* missing) {
  for (const auto& p : pieces) {
    if (p->kind == Piece::kText) {
      out += p->text;
      continue;
    }
    auto v = Lookup(stack, p->path, p->text, scope);
    if (!v && missing && p->kind == Piece::kVar) {
      bool seen = false;
      for (auto& m : *missing) seen |= m == p->text;
      if (!seen) missing->push_back(p->text);
    }
    if (p->kind == Piece::kVar) {
      if (v) out += ValueToText(*v);
      continue;
    }
    bool truthy = v && expr::Truthy(*v);
    if (p->kind == Piece::kInverted) {
      if (!truthy) SW_RETURN_IF_ERROR(RenderPieces(p->kids, scope, stack, out, missing));
      continue;
    }
    if (!truthy) continue;
    if (v->is_array()) {
      for (const auto& el : *v) {
        stack.push_back(&el);
        Status s = RenderPieces(p->kids, scope, stack, out, missing);
        stack.pop_back();
        SW_RETURN_IF_ERROR(s);
      }
    } else {
      stack.push_back(&*v);
      Status s = RenderPieces(p->kids, scope, stack, out, missing);
      stack.pop_back();
      SW_RETURN_IF_ERROR(s);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<const Template>> Template::Parse(std::string_view src, size_t* error_offset) {
  std::shared_ptr<Template> t(new Template());
  t->source_ = std::string(src);
  const std::string& s = t->source_;
  std::vector<Frame> frames{{&t->pieces_, "", 0}};
  int depth = 0;
  auto fail = [&](size_t off, const std::string& msg) -> Status {
    if (error_offset) *error_offset = off;
    return InvalidInput(msg);
  };
  size_t pos = 0;
  std::string text;
  auto flush = [&] {
    if (text.empty()) return;
    auto p = std::make_unique<Piece>();
    p->text = std::move(text);
    text.clear();
    frames.back().out->push_back(std::move(p));
  };
  while (pos < s.size()) {
    size_t open = s.find("{{", pos);
    if (open == std::string::npos) {
      text += s.substr(pos);
      break;
    }
    bool triple = s.compare(open, 3, "{{{") == 0;
    size_t close = s.find(triple ? "}}}" : "}}", open + (triple ? 3 : 2));
    if (close == std::string::npos) return fail(open, "unclosed tag: '{{' without '}}'");
    std::string inner = s.substr(open + (triple ? 3 : 2), close - open - (triple ? 3 : 2));
    size_t end = close + (triple ? 3 : 2);
    char sigil = inner.empty() ? 0 : inner[0];
    bool standalone_kind = sigil == '#' || sigil == '^' || sigil == '/' || sigil == '!';
    // Standalone rule: a line holding only a section or comment tag disappears entirely.
    size_t line_start = s.rfind('\n', open == 0 ? std::string::npos : open - 1);
    line_start = line_start == std::string::npos ? 0 : line_start + 1;
    size_t line_end = s.find('\n', end);
    size_t line_end_cut = line_end == std::string::npos ? s.size() : line_end + 1;
    bool standalone = standalone_kind && !triple && IsBlank(std::string_view(s).substr(line_start, open - line_start)) &&
                      IsBlank(std::string_view(s).substr(end, (line_end == std::string::npos ? s.size() : line_end) - end)) &&
                      line_start >= pos;
    if (standalone) {
      text += s.substr(pos, line_start - pos);
    } else {
      text += s.substr(pos, open - pos);
    }
    pos = standalone ? line_end_cut : end;
    std::string name = inner;
    if (!triple && (sigil == '#' || sigil == '^' || sigil == '/' || sigil == '!' || sigil == '&' || sigil == '>' || sigil == '='))
      name = inner.substr(1);
    size_t b = name.find_first_not_of(" \t\n");
    size_t e = name.find_last_not_of(" \t\n");
    name = b == std::string::npos ? "" : name.substr(b, e - b + 1);
    if (!triple && sigil == '!') continue;
    if (!triple && sigil == '>') return fail(open, "partials ({{> name}}) are not supported");
    if (!triple && sigil == '=') return fail(open, "changing delimiters ({{= =}}) is not supported");
    if (name.empty()) return fail(open, "empty tag {{}}");
    expr::Path path;
    if (name != ".") {
      auto pr = expr::ParsePath(name);
      if (!pr.ok()) return fail(open, pr.status().message());
      path = *pr;
    }
    if (!triple && sigil == '/') {
      if (depth == 0) return fail(open, "section end {{/" + name + "}} without a matching start");
      if (frames.back().name != name)
        return fail(open, "section {{#" + frames.back().name + "}} closed by {{/" + name + "}}");
      flush();
      frames.pop_back();
      --depth;
      continue;
    }
    flush();
    auto p = std::make_unique<Piece>();
    p->text = name;
    p->path = path;
    bool top_level = depth == 0;
    if (name != "." && (top_level || (!path.empty() && !path[0].is_index() &&
                                      (path[0].key == "nodes" || path[0].key == "inputs"))))
      t->refs_.push_back(path);
    if (!triple && (sigil == '#' || sigil == '^')) {
      p->kind = sigil == '#' ? Piece::kSection : Piece::kInverted;
      auto* kids = &p->kids;
      frames.back().out->push_back(std::move(p));
      frames.push_back(Frame{kids, name, open});
      ++depth;
      continue;
    }
    p->kind = Piece::kVar;
    frames.back().out->push_back(std::move(p));
  }
  flush();
  if (depth > 0) return fail(frames.back().offset, "section {{#" + frames.back().name + "}} is never closed");
  return std::shared_ptr<const Template>(std::move(t));
}

Result<std::string> Template::Render(const expr::Scope& scope, std::vector<std::string>* missing) const {
  std::string out;
  std::vector<const expr::json*> stack;
  SW_RETURN_IF_ERROR(RenderPieces(pieces_, scope, stack, out, missing));
  return out;
}

}  // namespace sw::tmpl
