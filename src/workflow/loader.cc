// Load: YAML file -> validated Workflow. This file reads the top level (name, inputs,
// defaults, budget, concurrency), merges defaults into nodes, hashes, and drives sub-workflow
// loading; node_parser.cc reads nodes and validate.cc checks the graph.
#include <algorithm>
#include <filesystem>
#include <limits>

#include "base/fs.h"
#include "base/hash.h"
#include "base/ids.h"
#include "base/strings.h"
#include "workflow/load_internal.h"
#include "workflow/patterns.h"
#include "workflow/yaml_json.h"

namespace sw::workflow {
namespace internal {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kInputTypes = {"string", "number", "integer", "boolean", "list", "object"};

void ParseInputs(FileCtx& ctx, const Entry& e, Workflow* wf) {
  if (e.value.IsNull()) return;
  if (!e.value.IsMap()) {
    ctx.Error(e.value_pos, "expected a map of input name -> declaration for inputs, got " + Describe(e.value));
    return;
  }
  MapReader m(ctx, e.value, "inputs");
  for (const Entry& in : m.entries()) {
    InputDecl d;
    d.name = in.key;
    d.pos = in.key_pos;
    if (!ValidateNodeId(in.key).ok())
      ctx.Error(in.key_pos, "invalid input name " + Quote(in.key) +
                                ": use a letter or '_' followed by letters, digits, '_' or '-' (max 64)");
    std::optional<bool> required;
    if (in.value.IsScalar()) {  // `topic: string`
      if (auto t = ctx.Enum(in.value, in.value_pos, "input type", kInputTypes)) d.type = *t;
    } else if (in.value.IsMap()) {
      MapReader dm(ctx, in.value, "input " + Quote(in.key));
      dm.CheckKeys({"type", "default", "description", "required"});
      if (const Entry* t = dm.Get("type"))
        if (auto v = ctx.Enum(t->value, t->value_pos, "input type", kInputTypes)) d.type = *v;
      if (const Entry* x = dm.Get("description"))
        if (auto v = ctx.String(x->value, x->value_pos, "description")) d.description = *v;
      if (const Entry* x = dm.Get("required")) required = ctx.Bool(x->value, x->value_pos, "required");
      if (const Entry* x = dm.Get("default")) {
        json v = ToJson(x->value);
        if (!MatchesType(d.type, v)) {
          ctx.Error(x->value_pos,
                    "default of input " + Quote(in.key) + " must be of type " + d.type + ", got " + Describe(x->value));
        } else {
          if (d.type == "integer" && v.is_number_float()) v = static_cast<int64_t>(v.get<double>());
          d.default_value = std::move(v);
        }
      }
    } else {
      ctx.Error(in.value_pos, "expected a type or a map {type, default, description, required} for input " +
                                  Quote(in.key) + ", got " + Describe(in.value));
    }
    d.required = required.value_or(!d.default_value.has_value());
    wf->inputs.push_back(std::move(d));
  }
}

void ParseConcurrency(FileCtx& ctx, const Entry& e, Concurrency* c) {
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  if (e.value.IsScalar()) {  // `concurrency: 8`
    if (auto n = ctx.Int(e.value, e.value_pos, "concurrency", 1, kMax)) c->global = static_cast<int>(*n);
    return;
  }
  if (!e.value.IsMap()) {
    ctx.Error(e.value_pos,
              "expected a number or a map {global, per_provider} for concurrency, got " + Describe(e.value));
    return;
  }
  MapReader m(ctx, e.value, "concurrency");
  m.CheckKeys({"global", "per_provider"});
  if (const Entry* g = m.Get("global"))
    if (auto n = ctx.Int(g->value, g->value_pos, "global", 1, kMax)) c->global = static_cast<int>(*n);
  const Entry* pp = m.Get("per_provider");
  if (!pp) return;
  if (!pp->value.IsMap()) {
    ctx.Error(pp->value_pos, "expected a map of provider -> limit for per_provider, got " + Describe(pp->value));
    return;
  }
  MapReader pm(ctx, pp->value, "per_provider");
  for (const Entry& p : pm.entries()) {
    bool ok = !p.key.empty();
    for (char ch : p.key)
      if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) ok = false;
    if (!ok) ctx.Error(p.key_pos, "invalid provider name " + Quote(p.key) + ": use [a-z0-9_-]");
    if (auto n = ctx.Int(p.value, p.value_pos, "per_provider." + p.key, 1, kMax))
      c->per_provider[p.key] = static_cast<int>(*n);
  }
}

/// Merge applies workflow defaults under a node's own settings, field by field. Model settings
/// apply to llm (and agent) nodes; retry and timeout to nodes that call something (llm, tool,
/// agent) — a human approval or a whole sub-run should not inherit a per-call timeout.
void Merge(FileCtx& ctx, const Settings& d, Node* n, const NodeInfo& info) {
  const Settings& s = info.set;
  bool calls = n->kind == NodeKind::kLlm || n->kind == NodeKind::kTool || n->kind == NodeKind::kAgent;
  bool llm = n->kind == NodeKind::kLlm || n->kind == NodeKind::kAgent;
  auto pick = [&](const auto& own, const auto& def) {
    return own ? own : (calls ? def : std::remove_cvref_t<decltype(own)>{});
  };
  // Model calls fail transiently (429, 5xx, cut streams) often enough that a model node
  // retries twice unless told otherwise; a tool may not be safe to repeat, so it does not.
  n->retry.attempts = pick(s.attempts, d.attempts).value_or(llm ? kDefaultModelAttempts : 1);
  n->retry.backoff = pick(s.backoff, d.backoff).value_or(RetryPolicy{}.backoff);
  n->retry.max_delay = pick(s.max_delay, d.max_delay).value_or(RetryPolicy{}.max_delay);
  n->timeout = pick(s.timeout, d.timeout).value_or(0);
  if (!llm) return;
  n->model.model = s.model.value_or(d.model.value_or(""));
  n->model.temperature = s.temperature ? s.temperature : d.temperature;
  n->model.max_tokens = s.max_tokens ? s.max_tokens : d.max_tokens;
  n->model.stop = s.stop ? *s.stop : d.stop.value_or(std::vector<std::string>{});
  n->model.fallbacks = s.fallbacks ? *s.fallbacks : d.fallbacks.value_or(std::vector<std::string>{});
  if (n->model.model.empty() && info.kind_ok && !s.model_key && !d.model_key)
    ctx.Error(n->pos, "node " + Quote(n->id) + " has no model; set `model: provider/name` on the node or in defaults");
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void HashNodes(Workflow* wf, const std::vector<NodeInfo>& infos) {
  for (size_t i = 0; i < wf->nodes.size(); ++i) {
    Node& n = wf->nodes[i];
    const NodeInfo& info = infos[i];
    json settings = {{"model", n.model.model},
                     {"temperature", n.model.temperature ? json(*n.model.temperature) : json(nullptr)},
                     {"max_tokens", n.model.max_tokens ? json(*n.model.max_tokens) : json(nullptr)},
                     {"stop", n.model.stop},
                     {"fallbacks", n.model.fallbacks},
                     {"retry", {n.retry.attempts, n.retry.backoff, n.retry.max_delay}},
                     {"timeout", n.timeout}};
    Hasher h;
    h.Add("specwright-node/1");
    h.Add(n.id);  // the id names the default artifact
    h.Add(Dump(ToJson(info.yaml)));
    h.Add(Dump(settings));
    for (const auto& t : info.file_texts) h.Add(t);
    if (n.sub) h.Add(n.sub->source_hash);
    n.definition_hash = h.HexDigest();
  }
}

void HashSource(const Source& src, Workflow* wf, const std::vector<NodeInfo>& infos) {
  Hasher h;
  h.Add("specwright-source/1");
  h.Add(src.text);
  for (size_t i = 0; i < wf->nodes.size(); ++i) {
    for (const auto& t : infos[i].file_texts) h.Add(t);
    if (wf->nodes[i].sub) h.Add(wf->nodes[i].sub->source_hash);
  }
  wf->source_hash = h.HexDigest();
}

}  // namespace

std::shared_ptr<Workflow> Loader::Parse(const Source& src, const YAML::Node& root) {
  auto wf = std::make_shared<Workflow>();
  wf->file = src.abs;
  wf->dir = src.dir;
  FileCtx ctx(src, diags_);
  size_t errors_before = ctx.error_count();
  MapReader top(ctx, root, "the workflow");
  top.CheckKeys(TopKeys());
  Pos root_pos = ctx.PosOf(root);
  if (const Entry* e = top.Get("name")) {
    if (auto s = ctx.String(e->value, e->value_pos, "name")) {
      wf->name = Trim(*s);
      if (wf->name.empty()) ctx.Error(e->value_pos, "name must not be empty");
    }
  } else {
    ctx.Error(root_pos, "missing required key \"name\" in the workflow");
  }
  if (const Entry* e = top.Get("description"))
    if (auto s = ctx.String(e->value, e->value_pos, "description")) wf->description = *s;
  if (const Entry* e = top.Get("inputs")) ParseInputs(ctx, *e, wf.get());
  Settings defaults;
  if (const Entry* e = top.Get("defaults"); e && !e->value.IsNull()) {
    if (!e->value.IsMap()) {
      ctx.Error(e->value_pos, "expected a map for defaults, got " + Describe(e->value));
    } else {
      MapReader m(ctx, e->value, "defaults");
      m.CheckKeys({"model", "fallbacks", "temperature", "max_tokens", "stop", "retry", "timeout"});
      ParseSettings(ctx, m, "defaults", /*model_keys=*/true, &defaults);
    }
  }
  wf->default_model.model = defaults.model.value_or("");
  wf->default_model.temperature = defaults.temperature;
  wf->default_model.max_tokens = defaults.max_tokens;
  wf->default_model.stop = defaults.stop.value_or(std::vector<std::string>{});
  wf->default_model.fallbacks = defaults.fallbacks.value_or(std::vector<std::string>{});
  wf->default_retry.attempts = defaults.attempts.value_or(1);
  wf->default_retry.backoff = defaults.backoff.value_or(RetryPolicy{}.backoff);
  wf->default_retry.max_delay = defaults.max_delay.value_or(RetryPolicy{}.max_delay);
  wf->default_timeout = defaults.timeout.value_or(0);
  if (const Entry* e = top.Get("budget")) ParseBudget(ctx, *e, "the workflow", /*allow_policy=*/true, &wf->budget);
  if (const Entry* e = top.Get("concurrency")) ParseConcurrency(ctx, *e, &wf->concurrency);
  if (const Entry* e = top.Get("workspace")) ParseWorkspace(ctx, *e, &wf->workspace);
  if (const Entry* e = top.Get("shell")) ParseShell(ctx, *e, &wf->shell);
  if (const Entry* e = top.Get("mcp_servers")) ParseMcpServers(ctx, *e, &wf->mcp_servers);
  if (const Entry* e = top.Get("notify")) wf->notify = ParseNotify(e->value, src.display, &diags_.errors);
  if (const Entry* e = top.Get("schedule")) {
    wf->schedules = ParseSchedules(e->value, src.display, &diags_.errors);
    // A schedule's inputs are the workflow's: an undeclared one is a mistake (checked here,
    // where the declarations are known; their values are checked when the run starts).
    for (const auto& s : wf->schedules) {
      // A scheduled run has no one to ask: every required input needs a value here.
      for (const auto& d : wf->inputs)
        if (d.required && !d.default_value && !s.inputs.contains(d.name))
          ctx.Error(Pos{s.line, s.col}, "schedule " + Quote(s.Label()) + " gives no value for the required input " +
                                            Quote(d.name) + " (add it under inputs:)");
      for (const auto& [k, v] : s.inputs.items()) {
        bool declared = std::any_of(wf->inputs.begin(), wf->inputs.end(), [&](const InputDecl& d) { return d.name == k; });
        if (!declared) {
          std::vector<std::string> names;
          for (const auto& d : wf->inputs) names.push_back(d.name);
          std::string near = DidYouMean(k, names);
          ctx.Error(Pos{s.line, s.col}, "schedule " + Quote(s.Label()) + " sets input " + Quote(k) +
                                            ", which the workflow does not declare" +
                                            (near.empty() ? "" : " (did you mean " + Quote(near) + "?)"));
        }
      }
    }
  }

  std::vector<NodeInfo> infos;
  if (const Entry* e = top.Get("nodes")) {
    ParseNodes(ctx, *this, *e, *wf, &wf->nodes, &infos);
  } else {
    ctx.Error(root_pos, "missing required key \"nodes\" in the workflow");
  }
  for (size_t i = 0; i < wf->nodes.size(); ++i) Merge(ctx, defaults, &wf->nodes[i], infos[i]);
  // Agent tools that name an MCP server name one this workflow declares.
  std::vector<std::string> servers;
  for (const auto& s : wf->mcp_servers) servers.push_back(s.name);
  for (const auto& info : infos)
    for (const auto& [server, pos] : info.mcp_refs)
      if (std::find(servers.begin(), servers.end(), server) == servers.end()) {
        std::string near = DidYouMean(server, servers);
        ctx.Error(pos, "MCP server " + Quote(server) + " is not declared in mcp_servers" +
                           (near.empty() ? "" : " (did you mean " + Quote(near) + "?)"));
      }
  ValidateGraph(ctx, wf.get(), &infos);
  if (ctx.error_count() == errors_before) {
    HashNodes(wf.get(), infos);
    HashSource(src, wf.get(), infos);
  }
  return wf;
}

std::shared_ptr<Workflow> Loader::LoadFile(const std::string& abs, const std::string& display) {
  if (auto it = done_.find(abs); it != done_.end()) return it->second.wf;
  size_t errors_before = diags_.errors.size();
  auto fail = [&](Pos pos, std::string msg) -> std::shared_ptr<Workflow> {
    diags_.errors.push_back(Diagnostic{display, pos, std::move(msg)});
    done_[abs] = Done{nullptr, false};
    return nullptr;
  };
  auto over = overrides_.find(abs);
  Result<std::string> text = over != overrides_.end() ? Result<std::string>(over->second) : ReadFile(abs);
  if (!text.ok()) return fail(Pos{}, "cannot read workflow: " + text.status().message());
  if (text->size() > kMaxYamlFileBytes)
    return fail(Pos{}, "the workflow is " + std::to_string(text->size()) + " bytes; a workflow may hold at most " +
                           std::to_string(kMaxYamlFileBytes >> 20) + " MiB");
  Source src;
  src.display = display;
  src.display_dir = fs::path(display).parent_path().string();
  src.abs = abs;
  src.dir = fs::path(abs).parent_path().string();
  src.text = std::move(text).value();
  std::shared_ptr<Workflow> wf;
  stack_.push_back(abs);
  try {
    if (auto limit = CheckYamlLimits(src.text)) {
      stack_.pop_back();
      return fail(Pos{limit->line, limit->col}, limit->message);
    }
    YAML::Node root = YAML::Load(src.text);
    if (root.IsNull() || !root.IsDefined()) {
      stack_.pop_back();
      return fail(Pos{1, 1}, "empty workflow file; expected a map with \"name\" and \"nodes\"");
    }
    if (!root.IsMap()) {
      stack_.pop_back();
      FileCtx ctx(src, diags_);
      return fail(ctx.PosOf(root), "a workflow must be a map with \"name\" and \"nodes\", got " + Describe(root));
    }
    wf = Parse(src, root);
  } catch (const YAML::ParserException& e) {
    stack_.pop_back();
    return fail(Pos{e.mark.line + 1, e.mark.column + 1}, "invalid YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    stack_.pop_back();
    return fail(Pos{e.mark.line + 1, e.mark.column + 1}, "cannot read YAML: " + e.msg);
  } catch (const json::exception& e) {
    stack_.pop_back();
    return fail(Pos{}, std::string("internal JSON error while loading: ") + e.what());
  }
  stack_.pop_back();
  done_[abs] = Done{wf, diags_.errors.size() == errors_before};
  return wf;
}

std::shared_ptr<Workflow> Loader::LoadSub(FileCtx& ctx, const std::string& rel, Pos pos, bool* ok, bool pattern_ref) {
  *ok = false;
  fs::path p(rel);
  std::string abs = (p.is_absolute() ? p : fs::path(ctx.src().dir) / p).lexically_normal().string();
  std::string display = p.is_absolute() ? rel : (fs::path(ctx.src().display_dir) / p).lexically_normal().string();
  auto on_stack = std::find(stack_.begin(), stack_.end(), abs);
  if (on_stack != stack_.end()) {
    fs::path base = fs::path(*on_stack).parent_path();
    std::vector<std::string> chain;
    for (auto it = on_stack; it != stack_.end(); ++it) chain.push_back(fs::path(*it).lexically_relative(base).string());
    chain.push_back(fs::path(abs).lexically_relative(base).string());
    ctx.Error(pos, "workflow include cycle: " + Join(chain, " -> "));
    return nullptr;
  }
  // Checked before the load-once cache: a pattern file admitted through `std/NAME` must not let
  // a plain path to the same file through.
  if (diags_.OutsideFor(abs, ctx.src().abs, pattern_ref)) {
    ctx.Error(pos, "workflow file " + Quote(rel) + " is outside " + diags_.confine + ", where this check may read");
    return nullptr;
  }
  if (auto it = done_.find(abs); it != done_.end()) {
    *ok = it->second.ok;
    return it->second.wf;
  }
  if (!FileExists(abs)) {
    ctx.Error(pos, "workflow file " + Quote(rel) + " not found (resolved to " + abs + ")");
    return nullptr;
  }
  auto wf = LoadFile(abs, display);
  *ok = done_[abs].ok;
  return wf;
}

}  // namespace internal

const std::vector<std::string>& TopKeys() {
  static const std::vector<std::string> keys = {"name",      "description", "inputs", "defaults",    "budget",
                                                "concurrency", "workspace", "shell",  "mcp_servers", "notify", "nodes",
                                                "schedule"};
  return keys;
}

bool internal::Diags::Outside(const std::string& abs) const {
  if (confine.empty()) return false;
  std::error_code ec;
  auto real = std::filesystem::weakly_canonical(abs, ec);
  auto under = [&](const std::string& dir) {
    auto rel = (ec ? std::filesystem::path(abs) : real).lexically_relative(dir);
    return !(rel.empty() || *rel.begin() == ".." || rel.is_absolute());
  };
  return !under(confine);
}

bool internal::Diags::OutsideFor(const std::string& abs, const std::string& from, bool pattern_ref) {
  if (!Outside(abs)) return false;
  // The shipped patterns are part of the program, readable wherever it is confined — but only
  // as patterns: through `std/NAME`, or from a pattern file admitted that way.
  if (!pattern_ref && !pattern_files.count(from)) return true;
  std::string patterns = PatternsDir();
  if (patterns.empty()) return true;
  std::error_code ec, pec;
  auto real = std::filesystem::weakly_canonical(abs, ec);
  auto pdir = std::filesystem::weakly_canonical(patterns, pec);
  auto rel = (ec ? std::filesystem::path(abs) : real).lexically_relative(pec ? std::filesystem::path(patterns) : pdir);
  if (rel.empty() || *rel.begin() == ".." || rel.is_absolute()) return true;
  pattern_files.insert(abs);
  return false;
}

LoadResult Load(const std::string& path) { return Load(path, nullptr); }

LoadResult Load(const std::string& path, const std::string* text, const std::string& confine) {
  namespace fs = std::filesystem;
  internal::Diags diags;
  if (!confine.empty()) {
    // Fail closed: a confine that cannot be resolved still confines, to its plain absolute form.
    std::error_code ec;
    fs::path c = fs::weakly_canonical(confine, ec);
    diags.confine = ec || c.empty() ? fs::absolute(confine).lexically_normal().string() : c.string();
  }
  internal::Loader loader(diags);
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) abs = path;
  if (text) loader.Override(abs.lexically_normal().string(), *text);
  auto wf = loader.LoadFile(abs.lexically_normal().string(), path);

  // Group diagnostics by file (in order of first appearance), then by position; drop repeats.
  LoadResult r;
  auto tidy = [](std::vector<Diagnostic> v) {
    std::vector<std::string> files;
    for (const auto& d : v)
      if (std::find(files.begin(), files.end(), d.file) == files.end()) files.push_back(d.file);
    auto rank = [&](const Diagnostic& d) { return std::find(files.begin(), files.end(), d.file) - files.begin(); };
    std::stable_sort(v.begin(), v.end(), [&](const Diagnostic& a, const Diagnostic& b) {
      if (rank(a) != rank(b)) return rank(a) < rank(b);
      if (a.pos.line != b.pos.line) return a.pos.line < b.pos.line;
      return a.pos.col < b.pos.col;
    });
    std::vector<Diagnostic> out;
    for (auto& d : v) {
      bool dup = false;
      for (const auto& o : out) dup = dup || o.ToString() == d.ToString();
      if (!dup) out.push_back(std::move(d));
    }
    return out;
  };
  r.errors = tidy(std::move(diags.errors));
  r.warnings = tidy(std::move(diags.warnings));
  if (r.errors.empty() && wf) r.workflow = wf;
  r.partial = wf;
  return r;
}

Result<std::shared_ptr<const Workflow>> LoadOrError(const std::string& path) {
  LoadResult r = Load(path);
  if (!r.errors.empty()) {
    std::vector<std::string> lines;
    for (const auto& d : r.errors) lines.push_back(d.ToString());
    return InvalidInput(Join(lines, "\n"));
  }
  if (!r.workflow) return Internal("loading " + path + " produced no workflow and no error");
  return r.workflow;
}

}  // namespace sw::workflow
