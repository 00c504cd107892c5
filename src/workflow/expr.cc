#include "workflow/expr.h"

#include <cctype>
#include <cmath>

#include <re2/re2.h>

namespace sw::expr {

std::string PathToString(const Path& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i].is_index()) {
      out += "[" + std::to_string(path[i].index) + "]";
    } else {
      if (i) out += ".";
      out += path[i].key;
    }
  }
  return out;
}

Result<Path> ParsePath(std::string_view s) {
  Path p;
  size_t i = 0;
  auto bad = [&](const std::string& why) { return InvalidInput("invalid name \"" + std::string(s) + "\": " + why); };
  if (s.empty()) return bad("empty");
  while (i < s.size()) {
    if (s[i] == '[') {
      size_t e = s.find(']', i);
      if (e == std::string_view::npos || e == i + 1) return bad("unclosed or empty [");
      PathElem el;
      el.index = 0;
      for (size_t k = i + 1; k < e; ++k) {
        if (!std::isdigit(static_cast<unsigned char>(s[k]))) return bad("index must be a number");
        el.index = el.index * 10 + (s[k] - '0');
      }
      p.push_back(el);
      i = e + 1;
      if (i < s.size() && s[i] == '.') ++i;
      continue;
    }
    size_t e = i;
    while (e < s.size() && s[e] != '.' && s[e] != '[') ++e;
    std::string_view part = s.substr(i, e - i);
    if (part.empty()) return bad("empty segment");
    PathElem el;
    bool digits = true;
    for (char c : part) digits &= std::isdigit(static_cast<unsigned char>(c)) != 0;
    if (digits && !p.empty()) {
      el.index = std::stoll(std::string(part));
    } else {
      el.key = std::string(part);
    }
    p.push_back(el);
    i = e;
    if (i < s.size() && s[i] == '.') ++i;
  }
  return p;
}

const json* Walk(const json& root, const Path& path, size_t start) {
  const json* cur = &root;
  for (size_t i = start; i < path.size(); ++i) {
    const PathElem& el = path[i];
    if (el.is_index()) {
      if (cur->is_array()) {
        if (static_cast<size_t>(el.index) >= cur->size()) return nullptr;
        cur = &(*cur)[static_cast<size_t>(el.index)];
        continue;
      }
      if (cur->is_object()) {
        auto it = cur->find(std::to_string(el.index));
        if (it == cur->end()) return nullptr;
        cur = &*it;
        continue;
      }
      return nullptr;
    }
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(el.key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::optional<json> JsonScope::Resolve(const Path& path) const {
  const json* v = Walk(root_, path, 0);
  if (!v) return std::nullopt;
  return *v;
}

bool Truthy(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return false;
    case json::value_t::boolean: return v.get<bool>();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return v.get<double>() != 0;
    case json::value_t::string: return !v.get_ref<const std::string&>().empty();
    case json::value_t::array:
    case json::value_t::object: return !v.empty();
    default: return true;
  }
}

enum class Op { kLit, kPath, kList, kLen, kAdd, kSub, kNot, kAnd, kOr, kEq, kNe, kLt, kLe, kGt, kGe, kIn, kContains, kMatches };

class Node {
 public:
  Op op;
  json lit;
  Path path;
  std::vector<std::unique_ptr<Node>> kids;
  std::unique_ptr<RE2> re;  // precompiled literal pattern for matches
};

namespace {

bool Equal(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

const char* TypeName(const json& v) {
  if (v.is_number()) return "number";
  return v.type_name();
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<std::unique_ptr<Node>> ParseAll(std::vector<Path>* paths) {
    paths_ = paths;
    auto r = Or();
    if (!r.ok()) return r;
    Skip();
    if (pos_ < s_.size()) return Err(std::string("unexpected '") + s_[pos_] + "' after expression");
    return r;
  }
  size_t pos() const { return pos_; }

 private:
  Status Err(const std::string& m) { return InvalidInput(m + " at column " + std::to_string(pos_ + 1)); }
  void Skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool Eat(std::string_view tok) {
    Skip();
    if (s_.substr(pos_, tok.size()) != tok) return false;
    // keywords must not run into an identifier
    if (std::isalpha(static_cast<unsigned char>(tok[0]))) {
      size_t e = pos_ + tok.size();
      if (e < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[e])) || s_[e] == '_')) return false;
    }
    pos_ += tok.size();
    return true;
  }
  std::unique_ptr<Node> Make(Op op, std::unique_ptr<Node> a, std::unique_ptr<Node> b = nullptr) {
    auto n = std::make_unique<Node>();
    n->op = op;
    n->kids.push_back(std::move(a));
    if (b) n->kids.push_back(std::move(b));
    return n;
  }
  Result<std::unique_ptr<Node>> Or() {
    SW_ASSIGN_OR_RETURN(auto l, And());
    while (Eat("||")) {
      SW_ASSIGN_OR_RETURN(auto r, And());
      l = Make(Op::kOr, std::move(l), std::move(r));
    }
    return l;
  }
  Result<std::unique_ptr<Node>> And() {
    SW_ASSIGN_OR_RETURN(auto l, Not());
    while (Eat("&&")) {
      SW_ASSIGN_OR_RETURN(auto r, Not());
      l = Make(Op::kAnd, std::move(l), std::move(r));
    }
    return l;
  }
  Result<std::unique_ptr<Node>> Not() {
    Skip();
    if (pos_ < s_.size() && s_[pos_] == '!' && !(pos_ + 1 < s_.size() && s_[pos_ + 1] == '=')) {
      ++pos_;
      SW_ASSIGN_OR_RETURN(auto k, Not());
      return Make(Op::kNot, std::move(k));
    }
    return Compare();
  }
  Result<std::unique_ptr<Node>> Compare() {
    SW_ASSIGN_OR_RETURN(auto l, Additive());
    static const std::pair<const char*, Op> kOps[] = {{"==", Op::kEq}, {"!=", Op::kNe}, {"<=", Op::kLe},
                                                      {">=", Op::kGe}, {"<", Op::kLt},  {">", Op::kGt},
                                                      {"in", Op::kIn}, {"contains", Op::kContains},
                                                      {"matches", Op::kMatches}};
    for (auto& [tok, op] : kOps) {
      if (!Eat(tok)) continue;
      Skip();
      size_t rpos = pos_;
      SW_ASSIGN_OR_RETURN(auto r, Additive());
      auto n = Make(op, std::move(l), std::move(r));
      if (op == Op::kMatches && n->kids[1]->op == Op::kLit) {
        if (!n->kids[1]->lit.is_string()) {
          pos_ = rpos;
          return Err("matches needs a string pattern");
        }
        n->re = std::make_unique<RE2>(n->kids[1]->lit.get<std::string>(), RE2::Quiet);
        if (!n->re->ok()) {
          pos_ = rpos;
          return Err("invalid regular expression: " + n->re->error());
        }
      }
      return n;
    }
    return l;
  }
  // Additive: `a + b`, `a - b` on numbers. A name may contain '-' (node ids do), so `a-1` is
  // one name: write spaces around a minus.
  Result<std::unique_ptr<Node>> Additive() {
    SW_ASSIGN_OR_RETURN(auto l, Primary());
    for (;;) {
      Skip();
      if (pos_ >= s_.size() || (s_[pos_] != '+' && s_[pos_] != '-')) return l;
      Op op = s_[pos_] == '+' ? Op::kAdd : Op::kSub;
      ++pos_;
      SW_ASSIGN_OR_RETURN(auto r, Primary());
      l = Make(op, std::move(l), std::move(r));
    }
  }
  Result<std::unique_ptr<Node>> Primary() {
    Skip();
    if (pos_ >= s_.size()) return Err("expected a value, found the end of the expression");
    char c = s_[pos_];
    auto n = std::make_unique<Node>();
    if (c == '(') {
      ++pos_;
      SW_ASSIGN_OR_RETURN(auto inner, Or());
      if (!Eat(")")) return Err("expected ')'");
      return inner;
    }
    if (c == '[') {
      ++pos_;
      n->op = Op::kList;
      if (Eat("]")) return n;
      for (;;) {
        SW_ASSIGN_OR_RETURN(auto el, Or());
        n->kids.push_back(std::move(el));
        if (Eat("]")) return n;
        if (!Eat(",")) return Err("expected ',' or ']' in list");
      }
    }
    if (c == '\'' || c == '"') {
      size_t start = pos_++;
      std::string v;
      while (pos_ < s_.size() && s_[pos_] != c) {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) {
          char e = s_[++pos_];
          v += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        } else {
          v += s_[pos_];
        }
        ++pos_;
      }
      if (pos_ >= s_.size()) {
        pos_ = start;
        return Err("unterminated string");
      }
      ++pos_;
      n->op = Op::kLit;
      n->lit = v;
      return n;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || (c == '-' && pos_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_ + 1])))) {
      size_t start = pos_++;
      while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E')) ++pos_;
      std::string num(s_.substr(start, pos_ - start));
      n->op = Op::kLit;
      try {
        if (num.find_first_of(".eE") == std::string::npos) n->lit = std::stoll(num);
        else n->lit = std::stod(num);
      } catch (...) {
        pos_ = start;
        return Err("invalid number \"" + num + "\"");
      }
      return n;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = pos_;
      auto ident = [&]() {
        size_t b = pos_;
        while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_' || s_[pos_] == '-')) ++pos_;
        return std::string(s_.substr(b, pos_ - b));
      };
      std::string first = ident();
      if (first == "true" || first == "false" || first == "null") {
        n->op = Op::kLit;
        n->lit = first == "null" ? json(nullptr) : json(first == "true");
        return n;
      }
      if (first == "len" && pos_ < s_.size() && s_[pos_] == '(') {
        ++pos_;
        SW_ASSIGN_OR_RETURN(auto arg, Or());
        if (!Eat(")")) return Err("expected ')' after the argument of len");
        return Make(Op::kLen, std::move(arg));
      }
      if (first == "in" || first == "contains" || first == "matches") {
        pos_ = start;
        return Err("expected a value before '" + first + "'");
      }
      n->op = Op::kPath;
      n->path.push_back(PathElem{first, -1});
      for (;;) {
        if (pos_ < s_.size() && s_[pos_] == '.') {
          ++pos_;
          if (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
            int64_t v = 0;
            while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) v = v * 10 + (s_[pos_++] - '0');
            n->path.push_back(PathElem{"", v});
            continue;
          }
          std::string k = ident();
          if (k.empty()) return Err("expected a name after '.'");
          n->path.push_back(PathElem{k, -1});
        } else if (pos_ < s_.size() && s_[pos_] == '[') {
          ++pos_;
          int64_t v = 0;
          size_t b = pos_;
          while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) v = v * 10 + (s_[pos_++] - '0');
          if (pos_ == b || pos_ >= s_.size() || s_[pos_] != ']') return Err("expected a number and ']'");
          ++pos_;
          n->path.push_back(PathElem{"", v});
        } else {
          break;
        }
      }
      paths_->push_back(n->path);
      return n;
    }
    return Err(std::string("unexpected character '") + c + "'");
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::vector<Path>* paths_ = nullptr;
};

Result<json> EvalNode(const Node& n, const Scope& scope);

Result<json> Compare(const Node& n, const json& a, const json& b) {
  switch (n.op) {
    case Op::kEq: return json(Equal(a, b));
    case Op::kNe: return json(!Equal(a, b));
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      int c;
      if (a.is_number() && b.is_number()) {
        double x = a.get<double>(), y = b.get<double>();
        c = x < y ? -1 : x > y ? 1 : 0;
      } else if (a.is_string() && b.is_string()) {
        c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
      } else {
        static const char* kNames[] = {"<", "<=", ">", ">="};
        int idx = n.op == Op::kLt ? 0 : n.op == Op::kLe ? 1 : n.op == Op::kGt ? 2 : 3;
        return InvalidInput(std::string("cannot compare ") + TypeName(a) + " with " + TypeName(b) + " using " + kNames[idx]);
      }
      bool r = n.op == Op::kLt ? c < 0 : n.op == Op::kLe ? c <= 0 : n.op == Op::kGt ? c > 0 : c >= 0;
      return json(r);
    }
    case Op::kIn:
    case Op::kContains: {
      const json& needle = n.op == Op::kIn ? a : b;
      const json& hay = n.op == Op::kIn ? b : a;
      if (hay.is_array()) {
        for (const auto& el : hay)
          if (Equal(el, needle)) return json(true);
        return json(false);
      }
      if (hay.is_string()) {
        if (!needle.is_string()) return InvalidInput(std::string("cannot look for a ") + TypeName(needle) + " in a string");
        return json(hay.get_ref<const std::string&>().find(needle.get_ref<const std::string&>()) != std::string::npos);
      }
      if (hay.is_object()) {
        if (!needle.is_string()) return InvalidInput(std::string("object keys are strings, not ") + TypeName(needle));
        return json(hay.contains(needle.get<std::string>()));
      }
      if (hay.is_null()) return json(false);
      return InvalidInput(std::string("'in' needs a list, string or object, got ") + TypeName(hay));
    }
    case Op::kMatches: {
      if (!a.is_string()) return json(false);
      if (n.re) return json(RE2::PartialMatch(a.get<std::string>(), *n.re));
      if (!b.is_string()) return InvalidInput(std::string("matches needs a string pattern, got ") + TypeName(b));
      RE2 re(b.get<std::string>(), RE2::Quiet);
      if (!re.ok()) return InvalidInput("invalid regular expression: " + re.error());
      return json(RE2::PartialMatch(a.get<std::string>(), re));
    }
    default: return Internal("bad comparison");
  }
}

Result<json> EvalNode(const Node& n, const Scope& scope) {
  switch (n.op) {
    case Op::kLit: return n.lit;
    case Op::kPath: {
      auto v = scope.Resolve(n.path);
      return v ? *v : json(nullptr);
    }
    case Op::kList: {
      json arr = json::array();
      for (const auto& k : n.kids) {
        SW_ASSIGN_OR_RETURN(json v, EvalNode(*k, scope));
        arr.push_back(std::move(v));
      }
      return arr;
    }
    case Op::kNot: {
      SW_ASSIGN_OR_RETURN(json v, EvalNode(*n.kids[0], scope));
      return json(!Truthy(v));
    }
    case Op::kLen: {
      // len(x): items of a list, keys of an object, bytes of a string; a missing value is 0.
      SW_ASSIGN_OR_RETURN(json v, EvalNode(*n.kids[0], scope));
      if (v.is_null()) return json(0);
      if (v.is_string()) return json(static_cast<int64_t>(v.get_ref<const std::string&>().size()));
      if (v.is_array() || v.is_object()) return json(static_cast<int64_t>(v.size()));
      return InvalidInput(std::string("len needs a list, object or string, got ") + TypeName(v));
    }
    case Op::kAdd:
    case Op::kSub: {
      SW_ASSIGN_OR_RETURN(json a, EvalNode(*n.kids[0], scope));
      SW_ASSIGN_OR_RETURN(json b, EvalNode(*n.kids[1], scope));
      const char* sign = n.op == Op::kAdd ? "+" : "-";
      if (!a.is_number() || !b.is_number())
        return InvalidInput(std::string("cannot compute ") + TypeName(a) + " " + sign + " " + TypeName(b) +
                            " (+ and - take numbers)");
      if (a.is_number_float() || b.is_number_float()) {
        double x = a.get<double>(), y = b.get<double>();
        return json(n.op == Op::kAdd ? x + y : x - y);
      }
      int64_t x = a.get<int64_t>(), y = b.get<int64_t>();
      return json(n.op == Op::kAdd ? x + y : x - y);
    }
    case Op::kAnd:
    case Op::kOr: {
      SW_ASSIGN_OR_RETURN(json l, EvalNode(*n.kids[0], scope));
      bool lt = Truthy(l);
      if (n.op == Op::kAnd && !lt) return json(false);
      if (n.op == Op::kOr && lt) return json(true);
      SW_ASSIGN_OR_RETURN(json r, EvalNode(*n.kids[1], scope));
      return json(Truthy(r));
    }
    default: {
      SW_ASSIGN_OR_RETURN(json a, EvalNode(*n.kids[0], scope));
      SW_ASSIGN_OR_RETURN(json b, EvalNode(*n.kids[1], scope));
      return Compare(n, a, b);
    }
  }
}

}  // namespace

Expr::~Expr() = default;

Result<std::shared_ptr<const Expr>> Expr::Parse(std::string_view source, size_t* error_offset) {
  std::shared_ptr<Expr> e(new Expr());
  e->source_ = std::string(source);
  Parser p(e->source_);
  auto r = p.ParseAll(&e->paths_);
  if (!r.ok()) {
    if (error_offset) *error_offset = p.pos();
    return r.status();
  }
  e->root_ = std::move(r).value();
  return std::shared_ptr<const Expr>(std::move(e));
}

Result<json> Expr::Eval(const Scope& scope) const { return EvalNode(*root_, scope); }

Result<bool> Expr::EvalBool(const Scope& scope) const {
  SW_ASSIGN_OR_RETURN(json v, Eval(scope));
  return Truthy(v);
}

}  // namespace sw::expr
