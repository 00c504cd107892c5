// ParseNodes: the `nodes:` map -> workflow::Node plus NodeInfo (positions, parsed templates and
// expressions for validate.cc). Every problem is reported; parsing goes on after each.
#include <algorithm>
#include <filesystem>
#include <limits>

#include "base/fs.h"
#include "base/hash.h"
#include "base/ids.h"
#include "base/strings.h"
#include "workflow/json_schema.h"
#include "workflow/load_internal.h"
#include "workflow/patterns.h"

namespace sw::workflow::internal {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kKinds = {"llm", "tool", "human", "workflow", "agent"};
const std::vector<std::string> kCommonKeys = {"kind",  "description", "needs", "when", "retry",  "timeout", "budget",
                                              "cache", "artifact",    "loop",  "map",  "output", "schema"};
const std::vector<std::string> kLlmKeys = {"model",  "fallbacks", "temperature", "max_tokens",
                                           "stop",   "system",    "prompt",      "on_truncated"};
const std::vector<std::string> kToolKeys = {"tool", "args"};
const std::vector<std::string> kHumanKeys = {"mode", "message"};
const std::vector<std::string> kWorkflowKeys = {"workflow", "with", "model", "models"};
const std::vector<std::string> kAgentKeys = {"model",     "fallbacks", "temperature", "max_tokens",
                                             "stop",      "system",    "prompt",      "tools",
                                             "max_turns", "loop_guard", "on_truncated"};

const std::vector<std::string>& KindKeys(NodeKind k) {
  switch (k) {
    case NodeKind::kTool:
      return kToolKeys;
    case NodeKind::kHuman:
      return kHumanKeys;
    case NodeKind::kWorkflow:
      return kWorkflowKeys;
    case NodeKind::kAgent:
      return kAgentKeys;
    default:
      return kLlmKeys;
  }
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string PointerEscape(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

bool IsToolUri(std::string_view s) {
  size_t sep = s.find("://");
  if (sep == std::string_view::npos || sep == 0 || sep + 3 >= s.size()) return false;
  if (!(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s.substr(0, sep))
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '-')) return false;
  return true;
}


/// WithoutColumn drops a trailing " at column N" / " at offset N" from a parser message: the
/// diagnostic already points at the spot in the file.
std::string WithoutColumn(const std::string& m) {
  for (const char* tail : {" at column ", " at offset "}) {
    size_t at = m.rfind(tail);
    if (at == std::string::npos) continue;
    size_t digits = at + std::string_view(tail).size();
    if (digits < m.size() && m.find_first_not_of("0123456789", digits) == std::string::npos) return m.substr(0, at);
  }
  return m;
}

/// NodeParser reads one node; `where` is `node "id"` for messages.
class NodeParser {
 public:
  NodeParser(FileCtx& ctx, Loader& loader, Node* node, NodeInfo* info)
      : ctx_(ctx), loader_(loader), n_(*node), info_(*info), where_("node " + Quote(node->id)) {}

  void Parse(const Entry& e);

 private:
  void CheckKeys(const MapReader& m);
  std::optional<Text> ParseText(const Entry& e);
  void AddTemplate(const std::string& what, const std::string& source, const Site& site, tmpl::TemplatePtr* out);
  std::optional<Condition> ParseExpr(const Entry& e, const std::string& what);
  void ParseSchema(const Entry& e);
  void ParseLoop(const Entry& e);
  void ParseMap(const Entry& e);
  void ParseArgs(const YAML::Node& v, Pos pos, const std::string& ptr);
  void ParseWorkflow(const MapReader& m);
  std::shared_ptr<Workflow> WithModels(const MapReader& m, const std::string& rel, std::shared_ptr<Workflow> sub);
  void ParseAgent(const MapReader& m);

  FileCtx& ctx_;
  Loader& loader_;
  Node& n_;
  NodeInfo& info_;
  std::string where_;
};

void NodeParser::CheckKeys(const MapReader& m) {
  const auto& own = KindKeys(n_.kind);
  std::vector<std::string> valid = kCommonKeys;
  valid.insert(valid.end(), own.begin(), own.end());
  bool no_call = n_.kind == NodeKind::kHuman || n_.kind == NodeKind::kWorkflow;
  for (const Entry& e : m.entries()) {
    // A person's answer or a whole sub-run is not a call to retry or time out: a second
    // attempt would ask twice or run a second copy of the sub-run beside the first.
    if (no_call && (e.key == "retry" || e.key == "timeout")) {
      if (info_.kind_ok)
        ctx_.Error(e.key_pos, "key " + Quote(e.key) + " does not apply to a node of kind " + NodeKindName(n_.kind) +
                                  " (set it on the nodes inside the sub-workflow, or on the calls after a gate)");
      continue;
    }
    if (Contains(valid, e.key)) continue;
    bool other_kind = Contains(kLlmKeys, e.key) || Contains(kToolKeys, e.key) || Contains(kHumanKeys, e.key) ||
                      Contains(kWorkflowKeys, e.key) || Contains(kAgentKeys, e.key);
    if (other_kind) {
      if (info_.kind_ok)
        ctx_.Error(e.key_pos, "key " + Quote(e.key) + " is not valid for a node of kind " + NodeKindName(n_.kind));
      continue;
    }
    std::string msg = "unknown key " + Quote(e.key) + " in " + where_;
    std::string near = DidYouMean(e.key, valid);
    if (near.empty()) {
      std::vector<std::string> all = valid;
      for (const auto* v : {&kLlmKeys, &kToolKeys, &kHumanKeys, &kWorkflowKeys, &kAgentKeys})
        all.insert(all.end(), v->begin(), v->end());
      near = DidYouMean(e.key, all);
    }
    if (!near.empty()) msg += " (did you mean " + Quote(near) + "?)";
    ctx_.Error(e.key_pos, msg);
  }
}

void NodeParser::AddTemplate(const std::string& what, const std::string& source, const Site& site,
                             tmpl::TemplatePtr* out) {
  size_t off = 0;
  auto t = tmpl::Template::Parse(source, &off);
  if (!t.ok()) {
    ctx_.ErrorIn(site.file, site.At(off),
                 "invalid template in " + what + " of " + where_ + ": " + WithoutColumn(t.status().message()));
    return;
  }
  info_.templates.push_back(TemplateUse{what, *t, site});
  if (out) *out = *t;
}

std::optional<Text> NodeParser::ParseText(const Entry& e) {
  Site site;
  std::string source;
  std::string file = ctx_.src().abs;
  if (e.value.IsScalar()) {
    site = ctx_.SiteOf(e.value);
    source = e.value.Scalar();
  } else if (e.value.IsMap()) {
    MapReader m(ctx_, e.value, e.key + " of " + where_);
    m.CheckKeys({"file"});
    const Entry* f = m.Get("file");
    if (!f) {
      ctx_.Error(e.value_pos, "expected {file: path} for " + e.key + " of " + where_);
      return std::nullopt;
    }
    auto rel = ctx_.String(f->value, f->value_pos, "file");
    if (!rel) return std::nullopt;
    fs::path p(*rel);
    file = (p.is_absolute() ? p : fs::path(ctx_.src().dir) / p).lexically_normal().string();
    if (ctx_.diags().OutsideFor(file, ctx_.src().abs, /*pattern_ref=*/false)) {
      ctx_.Error(f->value_pos, "prompt file " + Quote(*rel) + " is outside " + ctx_.diags().confine +
                                   ", where this check may read");
      return std::nullopt;
    }
    if (!FileExists(file)) {
      ctx_.Error(f->value_pos, "prompt file " + Quote(*rel) + " not found (resolved to " + file + ")");
      return std::nullopt;
    }
    Result<std::string> text = ReadFile(file);
    if (!text.ok()) {
      ctx_.Error(f->value_pos, "cannot read prompt file " + Quote(*rel) + ": " + text.status().message());
      return std::nullopt;
    }
    source = *text;
    info_.file_texts.push_back(source);
    site.in_file = true;
    site.file = p.is_absolute() ? *rel : (fs::path(ctx_.src().display_dir) / p).lexically_normal().string();
    site.file_text = source;
    site.pos = Pos{1, 1};
  } else {
    ctx_.Error(e.value_pos, "expected a string or {file: path} for " + e.key + ", got " + Describe(e.value));
    return std::nullopt;
  }
  tmpl::TemplatePtr t;
  AddTemplate(e.key, source, site, &t);
  if (!t) return std::nullopt;
  return Text{t, file, site.pos};
}

std::optional<Condition> NodeParser::ParseExpr(const Entry& e, const std::string& what) {
  if (!e.value.IsScalar()) {
    ctx_.Error(e.value_pos, "expected an expression string for " + what + ", got " + Describe(e.value));
    return std::nullopt;
  }
  Site site = ctx_.SiteOf(e.value);
  size_t off = 0;
  auto x = expr::Expr::Parse(e.value.Scalar(), &off);
  if (!x.ok()) {
    ctx_.Error(site.At(off),
               "invalid expression in " + what + " of " + where_ + ": " + WithoutColumn(x.status().message()));
    return std::nullopt;
  }
  info_.exprs.push_back(ExprUse{what, *x, site});
  return Condition{*x, site.pos};
}

/// SchemaPos finds the YAML position of the JSON pointer named in a CheckSchema message.
Pos SchemaPos(FileCtx& ctx, const YAML::Node& schema, const std::string& message, Pos fallback) {
  size_t at = std::string::npos;
  for (size_t i = 0; i < message.size(); ++i)
    if (message[i] == '/' && (i == 0 || message[i - 1] == ' ' || message[i - 1] == '"' || message[i - 1] == '\'')) {
      at = i;
      break;
    }
  if (at == std::string::npos) return fallback;
  size_t end = message.find_first_of(" \"':,)", at);
  std::string ptr = message.substr(at, end == std::string::npos ? std::string::npos : end - at);
  YAML::Node cur = schema;
  Pos pos = fallback;
  for (std::string tok : Split(ptr.substr(1), '/')) {
    for (size_t p; (p = tok.find("~1")) != std::string::npos;) tok.replace(p, 2, "/");
    for (size_t p; (p = tok.find("~0")) != std::string::npos;) tok.replace(p, 2, "~");
    YAML::Node next;
    if (cur.IsMap()) {
      for (auto it = cur.begin(); it != cur.end(); ++it)
        if (it->first.IsScalar() && it->first.Scalar() == tok) {
          pos = ctx.PosOf(it->first);
          next = it->second;
          break;
        }
    } else if (cur.IsSequence()) {
      size_t idx = 0;
      bool num = !tok.empty() && tok.find_first_not_of("0123456789") == std::string::npos;
      if (num) idx = std::stoul(tok);
      if (num && idx < cur.size()) {
        next = cur[idx];
        pos = ctx.PosOf(next);
      }
    }
    if (!next.IsDefined() || next.IsNull()) break;
    cur = next;
  }
  return pos;
}

/// CheckDuplicates walks a free-form YAML value (schema, args) reporting duplicate keys.
void CheckDuplicates(FileCtx& ctx, const YAML::Node& v, const std::string& context) {
  if (v.IsMap()) {
    MapReader m(ctx, v, context);
    for (const Entry& e : m.entries()) CheckDuplicates(ctx, e.value, context);
  } else if (v.IsSequence()) {
    for (const auto& item : v) CheckDuplicates(ctx, item, context);
  }
}

void NodeParser::ParseSchema(const Entry& e) {
  CheckDuplicates(ctx_, e.value, "schema of " + where_);
  json schema = ToJson(e.value);
  if (!schema.is_object() && !schema.is_boolean()) {
    ctx_.Error(e.value_pos, "expected a JSON Schema map for schema, got " + Describe(e.value));
    return;
  }
  Status s = jsonschema::CheckSchema(schema);
  if (!s.ok()) {
    ctx_.Error(SchemaPos(ctx_, e.value, s.message(), e.value_pos), "invalid schema of " + where_ + ": " + s.message());
    return;
  }
  n_.schema = std::move(schema);
}

void NodeParser::ParseLoop(const Entry& e) {
  if (!e.value.IsMap()) {
    ctx_.Error(e.value_pos,
               "expected a map {to, while, max_iterations, on_exhausted} for loop, got " + Describe(e.value));
    return;
  }
  MapReader m(ctx_, e.value, "loop of " + where_);
  m.CheckKeys({"to", "while", "max_iterations", "on_exhausted"});
  Loop loop;
  loop.pos = e.key_pos;
  bool ok = true;
  if (const Entry* to = m.Get("to")) {
    auto s = ctx_.String(to->value, to->value_pos, "loop.to");
    if (s) loop.to = *s;
    ok = ok && s.has_value();
    info_.loop_to_pos = to->value_pos;
  } else {
    ctx_.Error(e.key_pos, "loop of " + where_ + " needs \"to\" (the node to go back to)");
    ok = false;
  }
  if (const Entry* w = m.Get("while")) {
    if (auto c = ParseExpr(*w, "loop.while")) loop.cond = *c;
  } else {
    ctx_.Error(e.key_pos, "loop of " + where_ + " needs \"while\" (the condition to go round again)");
  }
  if (const Entry* x = m.Get("max_iterations"))
    if (auto v = ctx_.Int(x->value, x->value_pos, "max_iterations", 1, 10000))
      loop.max_iterations = static_cast<int>(*v);
  if (const Entry* x = m.Get("on_exhausted"))
    if (auto v = ctx_.Enum(x->value, x->value_pos, "on_exhausted", {"continue", "fail"}))
      loop.fail_on_exhausted = *v == "fail";
  if (ok) n_.loop = std::move(loop);
}

void NodeParser::ParseMap(const Entry& e) {
  if (!e.value.IsMap()) {
    ctx_.Error(e.value_pos, "expected a map {over, as, max_parallel} for map, got " + Describe(e.value));
    return;
  }
  MapReader m(ctx_, e.value, "map of " + where_);
  m.CheckKeys({"over", "as", "max_parallel"});
  Map map;
  map.pos = e.key_pos;
  if (const Entry* a = m.Get("as")) {
    if (auto s = ctx_.String(a->value, a->value_pos, "map.as")) {
      if (!IsIdentifier(*s)) {
        ctx_.Error(a->value_pos, "invalid map.as " + Quote(*s) + ": use an identifier (letters, digits, '_')");
      } else if (*s == "inputs" || *s == "nodes") {
        ctx_.Error(a->value_pos, "map.as cannot be " + Quote(*s) + ", which names the workflow's " + *s);
      } else {
        map.as = *s;
      }
    }
  }
  if (const Entry* x = m.Get("max_parallel"))
    if (auto v = ctx_.Int(x->value, x->value_pos, "max_parallel", 0, std::numeric_limits<int>::max()))
      map.max_parallel = static_cast<int>(*v);
  if (const Entry* o = m.Get("over")) {
    if (auto c = ParseExpr(*o, "map.over")) map.over = *c;
  } else {
    ctx_.Error(e.key_pos, "map of " + where_ + " needs \"over\" (an expression giving the list)");
  }
  n_.map = std::move(map);
}

void NodeParser::ParseArgs(const YAML::Node& v, Pos pos, const std::string& ptr) {
  if (v.IsMap()) {
    MapReader m(ctx_, v, "args of " + where_);
    for (const Entry& e : m.entries()) ParseArgs(e.value, e.value_pos, ptr + "/" + PointerEscape(e.key));
  } else if (v.IsSequence()) {
    size_t i = 0;
    for (const auto& item : v) ParseArgs(item, ctx_.PosOf(item), ptr + "/" + std::to_string(i++));
  } else if (v.IsScalar() && ToJson(v).is_string()) {
    tmpl::TemplatePtr t;
    AddTemplate("args" + ptr, v.Scalar(), ctx_.SiteOf(v), &t);
    if (t) n_.arg_templates[ptr] = t;
  }
}

void NodeParser::ParseWorkflow(const MapReader& m) {
  const Entry* w = m.Get("workflow");
  if (!w) {
    if (info_.kind_ok) ctx_.Error(n_.pos, where_ + " of kind workflow needs \"workflow\" (the sub-workflow file)");
    return;
  }
  auto rel = ctx_.String(w->value, w->value_pos, "workflow");
  std::shared_ptr<Workflow> sub;
  bool sub_ok = false;
  if (rel) {
    // `std/NAME` is a shipped pattern (patterns/std/NAME.yaml), not a file beside this one.
    std::string file = *rel;
    bool resolved = true;
    bool pattern_ref = IsPatternRef(*rel);
    if (pattern_ref) {
      auto r = ResolvePattern(*rel);
      if (r.ok()) {
        file = *r;
      } else {
        ctx_.Error(w->value_pos, r.status().message());
        resolved = false;
      }
    }
    if (resolved) {
      sub = loader_.LoadSub(ctx_, file, w->value_pos, &sub_ok, pattern_ref);
      fs::path p(file);
      n_.workflow_file = (p.is_absolute() ? p : fs::path(ctx_.src().dir) / p).lexically_normal().string();
      if (sub && !sub_ok) ctx_.Error(w->value_pos, "sub-workflow " + Quote(*rel) + " has errors (reported above)");
      if (sub && sub_ok) sub = WithModels(m, *rel, sub);
      n_.sub = sub;
    }
  }
  const Entry* with = m.Get("with");
  std::vector<std::string> given;
  if (with && !with->value.IsNull()) {
    if (!with->value.IsMap()) {
      ctx_.Error(with->value_pos, "expected a map of input -> template for with, got " + Describe(with->value));
    } else {
      MapReader wm(ctx_, with->value, "with of " + where_);
      std::vector<std::string> names;
      if (sub)
        for (const auto& d : sub->inputs) names.push_back(d.name);
      for (const Entry& e : wm.entries()) {
        given.push_back(e.key);
        if (sub && !Contains(names, e.key)) {
          std::string msg = "sub-workflow " + Quote(*rel) + " has no input " + Quote(e.key);
          std::string near = DidYouMean(e.key, names);
          if (!near.empty()) {
            msg += " (did you mean " + Quote(near) + "?)";
          } else if (!names.empty()) {
            msg += "; its inputs are: " + Join(names, ", ");
          }
          ctx_.Error(e.key_pos, msg);
        }
        if (!e.value.IsScalar()) {
          ctx_.Error(e.value_pos, "expected a string template for with." + e.key + ", got " + Describe(e.value));
          continue;
        }
        Site site = ctx_.SiteOf(e.value);
        tmpl::TemplatePtr t;
        AddTemplate("with." + e.key, e.value.Scalar(), site, &t);
        if (t) n_.with[e.key] = Text{t, ctx_.src().abs, site.pos};
      }
    }
  }
  if (!sub) return;
  for (const auto& d : sub->inputs)
    if (d.required && !d.default_value && !Contains(given, d.name))
      ctx_.Error(with ? with->key_pos : w->key_pos,
                 "sub-workflow " + Quote(*rel) + " requires input " + Quote(d.name) + "; pass it in `with:`");
}

namespace {

bool IsModelNode(const Node& n) { return n.kind == NodeKind::kLlm || n.kind == NodeKind::kAgent; }

std::string Rehash(const std::string& hash, const std::string& what) {
  Hasher h;
  h.Add("specwright-model-override/1").Add(hash).Add(what);
  return h.HexDigest();
}

/// SetModel gives every model node of wf (and of its sub-workflows) the model `all`, and the
/// nodes named in `roles` (wf's own node ids) theirs; hashes follow, so caches and replays see
/// the change. Returns a copy: the loaded file is shared by every node that includes it.
std::shared_ptr<Workflow> SetModel(const Workflow& wf, const std::optional<std::string>& all,
                                   const std::map<std::string, std::string>& roles) {
  auto copy = std::make_shared<Workflow>(wf);
  std::string changes;
  for (auto& n : copy->nodes) {
    std::optional<std::string> m = all;
    if (auto it = roles.find(n.id); it != roles.end()) m = it->second;
    if (!m) continue;
    if (IsModelNode(n)) {
      n.model.model = *m;
      n.definition_hash = Rehash(n.definition_hash, "model=" + *m);
      changes += n.id + "=" + *m + ";";
    } else if (n.kind == NodeKind::kWorkflow && n.sub && all) {
      n.sub = SetModel(*n.sub, all, {});
      n.definition_hash = Rehash(n.definition_hash, "model=" + *all);
      changes += n.id + "=" + *all + ";";
    }
  }
  copy->source_hash = Rehash(copy->source_hash, changes);
  return copy;
}

}  // namespace

/// WithModels applies `model:` (every model node of the sub-workflow, nested ones included)
/// and `models: {ROLE: model}` (the sub-workflow's own llm/agent nodes by id) to a loaded
/// sub-workflow. A model cannot be a template (it is known when the workflow loads, so the
/// preflight checks its provider), so this is how a parent picks the models of a pattern.
std::shared_ptr<Workflow> NodeParser::WithModels(const MapReader& m, const std::string& rel,
                                                 std::shared_ptr<Workflow> sub) {
  std::optional<std::string> all;
  std::map<std::string, std::string> roles;
  bool bad = false;
  if (const Entry* e = m.Get("model")) {
    if (auto s = ctx_.String(e->value, e->value_pos, "model")) {
      if (std::string err = CheckModelName(*s); !err.empty()) {
        ctx_.Error(e->value_pos, err);
        bad = true;
      } else {
        all = *s;
      }
    } else {
      bad = true;
    }
  }
  if (const Entry* e = m.Get("models")) {
    std::vector<std::string> names;
    for (const auto& n : sub->nodes)
      if (IsModelNode(n)) names.push_back(n.id);
    if (!e->value.IsMap()) {
      ctx_.Error(e->value_pos, "expected a map of node id -> model (provider/name) for models, got " + Describe(e->value));
      bad = true;
    } else {
      MapReader mm(ctx_, e->value, "models of " + where_);
      for (const Entry& r : mm.entries()) {
        if (!Contains(names, r.key)) {
          std::string msg = "sub-workflow " + Quote(rel) + " has no llm or agent node " + Quote(r.key);
          std::string near = DidYouMean(r.key, names);
          msg += near.empty() ? "; its model nodes are: " + Join(names, ", ") : " (did you mean " + Quote(near) + "?)";
          ctx_.Error(r.key_pos, msg);
          bad = true;
          continue;
        }
        auto s = ctx_.String(r.value, r.value_pos, "models." + r.key);
        if (!s) {
          bad = true;
          continue;
        }
        if (std::string err = CheckModelName(*s); !err.empty()) {
          ctx_.Error(r.value_pos, err);
          bad = true;
          continue;
        }
        roles[r.key] = *s;
      }
    }
  }
  if (bad || (!all && roles.empty())) return sub;
  return SetModel(*sub, all, roles);
}

void NodeParser::ParseAgent(const MapReader& m) {
  if (const Entry* t = m.Get("tools")) {
    std::vector<Pos> positions;
    if (auto l = ctx_.StringList(t->value, t->value_pos, "tools", &positions)) {
      for (size_t i = 0; i < l->size(); ++i) {
        const std::string& uri = (*l)[i];
        if (!IsToolUri(uri)) {
          ctx_.Error(positions[i], "invalid tool " + Quote(uri) + " in tools of " + where_ +
                                       ": expected a URI like builtin://fs.read or mcp://server/tool");
          continue;
        }
        if (uri.starts_with("mcp://")) {
          std::string rest = uri.substr(6);
          size_t slash = rest.find('/');
          std::string server = rest.substr(0, slash);
          if (slash == std::string::npos || slash + 1 >= rest.size()) {
            ctx_.Error(positions[i], "MCP tool " + Quote(uri) + " needs a tool name: mcp://" + server +
                                         "/TOOL, or mcp://" + server + "/* for all of them");
            continue;
          }
          info_.mcp_refs.emplace_back(server, positions[i]);
        }
        if (Contains(n_.tools, uri)) {
          ctx_.Error(positions[i], "duplicate tool " + Quote(uri) + " in " + where_);
          continue;
        }
        n_.tools.push_back(uri);
        n_.tools_pos.push_back(positions[i]);
      }
    }
  }
  if (const Entry* x = m.Get("max_turns"))
    if (auto v = ctx_.Int(x->value, x->value_pos, "max_turns", 1, 1000)) n_.max_turns = static_cast<int>(*v);
  if (const Entry* x = m.Get("loop_guard"))
    if (auto v = ctx_.Int(x->value, x->value_pos, "loop_guard", 2, 100)) n_.loop_guard = static_cast<int>(*v);
}

void NodeParser::Parse(const Entry& e) {
  if (!e.value.IsMap()) {
    ctx_.Error(e.value_pos, "expected a map for " + where_ + ", got " + Describe(e.value));
    info_.kind_ok = false;
    return;
  }
  MapReader m(ctx_, e.value, where_);
  if (const Entry* k = m.Get("kind")) {
    auto kind = ctx_.Enum(k->value, k->value_pos, "kind", kKinds);
    info_.kind_ok = kind.has_value();
    if (kind) n_.kind = static_cast<NodeKind>(std::find(kKinds.begin(), kKinds.end(), *kind) - kKinds.begin());
  }
  CheckKeys(m);
  bool llm = n_.kind == NodeKind::kLlm || n_.kind == NodeKind::kAgent;
  ParseSettings(ctx_, m, where_, llm, &info_.set);
  if (const Entry* x = m.Get("description"))
    if (auto s = ctx_.String(x->value, x->value_pos, "description")) n_.description = *s;
  if (const Entry* x = m.Get("needs")) {
    std::vector<Pos> positions;
    if (auto l = ctx_.StringList(x->value, x->value_pos, "needs", &positions)) {
      for (size_t i = 0; i < l->size(); ++i) {
        if (Contains(n_.needs, (*l)[i])) {
          ctx_.Error(positions[i], "duplicate " + Quote((*l)[i]) + " in needs of " + where_);
          continue;
        }
        n_.needs.push_back((*l)[i]);
        info_.needs_pos.push_back(positions[i]);
      }
    }
  }
  if (const Entry* x = m.Get("when")) n_.when = ParseExpr(*x, "when");
  if (const Entry* x = m.Get("budget")) ParseBudget(ctx_, *x, where_, /*allow_policy=*/false, &n_.budget);
  n_.cache = n_.kind == NodeKind::kLlm || n_.kind == NodeKind::kAgent;  // model calls are cached by default
  if (const Entry* x = m.Get("cache"))
    if (auto b = ctx_.Bool(x->value, x->value_pos, "cache")) n_.cache = *b;
  if (const Entry* x = m.Get("artifact")) {
    if (auto s = ctx_.String(x->value, x->value_pos, "artifact")) {
      Status st = ValidateArtifactName(*s);
      if (st.ok()) {
        n_.artifact = *s;
      } else {
        ctx_.Error(x->value_pos, st.message());
      }
    }
  }
  if (const Entry* x = m.Get("output"))
    if (auto v = ctx_.Enum(x->value, x->value_pos, "output", {"text", "json", "document"}))
    {
      n_.output = *v == "json" ? OutputKind::kJson : *v == "document" ? OutputKind::kDocument : OutputKind::kText;
      // Only a model's answer is unwrapped; on a tool or a person it would silently do nothing.
      if (n_.output == OutputKind::kDocument && n_.kind != NodeKind::kLlm && n_.kind != NodeKind::kAgent)
        ctx_.Error(x->value_pos, "output: document of " + where_ + " needs a model's answer (an llm or agent node)");
    }
  if (const Entry* x = m.Get("on_truncated")) {
    // An agent's cut turn has no clean way to go on (a half-written tool call): fail or accept.
    std::vector<std::string> allowed = n_.kind == NodeKind::kAgent ? std::vector<std::string>{"fail", "accept"}
                                                                    : std::vector<std::string>{"fail", "accept", "continue"};
    if (auto v = ctx_.Enum(x->value, x->value_pos, "on_truncated", allowed))
      n_.on_truncated = *v == "accept" ? TruncatedPolicy::kAccept
                        : *v == "continue" ? TruncatedPolicy::kContinue
                                           : TruncatedPolicy::kFail;
  }
  if (const Entry* x = m.Get("schema")) {
    if (n_.output != OutputKind::kJson) {
      ctx_.Error(x->key_pos, "schema of " + where_ + " needs `output: json`");
    } else {
      ParseSchema(*x);
    }
  }
  if (const Entry* x = m.Get("loop")) ParseLoop(*x);
  if (const Entry* x = m.Get("map")) {
    if (m.Get("loop")) ctx_.Error(x->key_pos, where_ + " cannot have both loop and map; loop over a node that maps");
    ParseMap(*x);
  }

  switch (n_.kind) {
    case NodeKind::kLlm:
    case NodeKind::kAgent:
      if (const Entry* x = m.Get("system")) n_.system = ParseText(*x);
      if (const Entry* x = m.Get("prompt")) {
        n_.prompt = ParseText(*x);
      } else if (info_.kind_ok) {
        ctx_.Error(n_.pos, where_ + " of kind " + NodeKindName(n_.kind) + " needs \"prompt\"");
      }
      if (n_.kind == NodeKind::kAgent) ParseAgent(m);
      break;
    case NodeKind::kTool:
      if (const Entry* x = m.Get("tool")) {
        if (auto s = ctx_.String(x->value, x->value_pos, "tool")) {
          if (!IsToolUri(*s)) {
            ctx_.Error(x->value_pos,
                       "invalid tool " + Quote(*s) + ": expected a URI scheme://path, e.g. \"builtin://echo\"");
          } else {
            n_.tool = *s;
            n_.tool_pos = x->value_pos;
            if (s->starts_with("mcp://")) {
              std::string rest = s->substr(6);
              info_.mcp_refs.emplace_back(rest.substr(0, rest.find('/')), x->value_pos);
            }
          }
        }
      } else {
        ctx_.Error(n_.pos, where_ + " of kind tool needs \"tool\" (e.g. tool: builtin://echo)");
      }
      if (const Entry* x = m.Get("args")) {
        n_.args = ToJson(x->value);
        ParseArgs(x->value, x->value_pos, "");
      }
      break;
    case NodeKind::kHuman:
      if (const Entry* x = m.Get("mode"))
        if (auto v = ctx_.Enum(x->value, x->value_pos, "mode", {"approve", "input"}))
          n_.human_mode = *v == "input" ? HumanMode::kInput : HumanMode::kApprove;
      if (const Entry* x = m.Get("message")) n_.message = ParseText(*x);
      break;
    case NodeKind::kWorkflow:
      ParseWorkflow(m);
      break;
  }
}

}  // namespace

void ParseNodes(FileCtx& ctx, Loader& loader, const Entry& nodes_entry, const Workflow& wf, std::vector<Node>* nodes,
                std::vector<NodeInfo>* infos) {
  const YAML::Node& v = nodes_entry.value;
  if (!v.IsMap()) {
    ctx.Error(nodes_entry.value_pos, "expected a map of node id -> node for nodes, got " + Describe(v));
    return;
  }
  if (v.size() == 0) {
    ctx.Error(nodes_entry.value_pos, "nodes must not be empty");
    return;
  }
  MapReader m(ctx, v, "nodes");
  for (const Entry& e : m.entries()) {
    Status id_ok = ValidateNodeId(e.key);
    if (!id_ok.ok()) ctx.Error(e.key_pos, id_ok.message());
    Node node;
    node.id = e.key;
    node.pos = e.key_pos;
    NodeInfo info;
    info.yaml = e.value;
    NodeParser(ctx, loader, &node, &info).Parse(e);
    nodes->push_back(std::move(node));
    infos->push_back(std::move(info));
  }
}

}  // namespace sw::workflow::internal

namespace sw::workflow {

std::vector<std::string> NodeKeys(NodeKind k) {
  std::vector<std::string> out = internal::kCommonKeys;
  const auto& own = internal::KindKeys(k);
  out.insert(out.end(), own.begin(), own.end());
  return out;
}

}  // namespace sw::workflow
