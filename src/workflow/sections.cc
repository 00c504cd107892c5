// The top-level sections agents act through: `workspace:`, `shell:` and `mcp_servers:`.
#include <filesystem>

#include "base/fs.h"
#include "base/ids.h"
#include "workflow/load_internal.h"

namespace sw::workflow::internal {
namespace {

namespace fs = std::filesystem;

std::string Absolute(const FileCtx& ctx, const std::string& rel) {
  fs::path p(rel);
  return (p.is_absolute() ? p : fs::path(ctx.src().dir) / p).lexically_normal().string();
}

/// StringMap reads {name: string} (env, headers).
std::map<std::string, std::string> StringMap(FileCtx& ctx, const Entry& e, const std::string& what) {
  std::map<std::string, std::string> out;
  if (!e.value.IsMap()) {
    ctx.Error(e.value_pos, "expected a map of name -> string for " + what + ", got " + Describe(e.value));
    return out;
  }
  MapReader m(ctx, e.value, what);
  for (const Entry& x : m.entries())
    if (auto s = ctx.String(x.value, x.value_pos, what + "." + x.key)) out[x.key] = *s;
  return out;
}

/// ParseAuthor splits "Name <email>": both parts non-empty, one pair of angle brackets at the
/// end, no newline (what git accepts in a signature).
bool ParseAuthor(const std::string& text, std::string* name, std::string* email) {
  size_t lt = text.find('<');
  if (lt == std::string::npos || text.empty() || text.back() != '>') return false;
  std::string n = text.substr(0, lt);
  while (!n.empty() && n.back() == ' ') n.pop_back();
  while (!n.empty() && n.front() == ' ') n.erase(0, 1);
  std::string e = text.substr(lt + 1, text.size() - lt - 2);
  auto bad = [](const std::string& s) { return s.empty() || s.find_first_of("<>\n\r") != std::string::npos; };
  if (bad(n) || bad(e) || e.find('@') == std::string::npos || e.find(' ') != std::string::npos) return false;
  *name = n;
  *email = e;
  return true;
}

}  // namespace

void ParseWorkspace(FileCtx& ctx, const Entry& e, WorkspaceDecl* out) {
  out->pos = e.value_pos;
  if (e.value.IsScalar()) {
    if (e.value.Scalar() == "empty") {
      out->kind = WorkspaceKind::kEmpty;
    } else {
      ctx.Error(e.value_pos, "workspace must be `empty`, {copy: DIR} or {repo: DIR}, got " + Describe(e.value));
    }
    return;
  }
  if (!e.value.IsMap()) {
    ctx.Error(e.value_pos, "workspace must be `empty`, {copy: DIR} or {repo: DIR}, got " + Describe(e.value));
    return;
  }
  MapReader m(ctx, e.value, "workspace");
  m.CheckKeys({"copy", "repo", "include_uncommitted", "author"});
  const Entry* copy = m.Get("copy");
  const Entry* repo = m.Get("repo");
  if ((copy != nullptr) == (repo != nullptr)) {
    ctx.Error(e.value_pos, "workspace needs exactly one of copy: DIR (a copy of a folder) or repo: DIR (a branch of a git "
                           "repository)");
    return;
  }
  const Entry* x = copy ? copy : repo;
  auto dir = ctx.String(x->value, x->value_pos, x->key);
  if (!dir) return;
  std::string abs = Absolute(ctx, *dir);
  if (ctx.diags().Outside(abs)) {
    ctx.Error(x->value_pos, "workspace " + x->key + ": " + Quote(*dir) + " is outside " + ctx.diags().confine +
                                ", where this check may look");
    return;
  }
  if (!fs::is_directory(abs)) {
    ctx.Error(x->value_pos, "workspace " + x->key + ": " + Quote(*dir) + " is not a directory (resolved to " + abs + ")");
    return;
  }
  if (repo && !fs::exists(fs::path(abs) / ".git")) {
    ctx.Error(x->value_pos, "workspace repo: " + Quote(*dir) + " is not a git repository (no .git in " + abs + ")");
    return;
  }
  if (const Entry* u = m.Get("include_uncommitted")) {
    if (!repo) ctx.Error(u->key_pos, "workspace include_uncommitted applies to repo: DIR, not to a copy");
    else if (auto b = ctx.Bool(u->value, u->value_pos, "workspace include_uncommitted")) out->include_uncommitted = *b;
  }
  if (const Entry* a = m.Get("author")) {
    if (auto who = ctx.String(a->value, a->value_pos, "workspace author")) {
      if (!ParseAuthor(*who, &out->author_name, &out->author_email))
        ctx.Error(a->value_pos, "workspace author must be \"Name <email>\" (a name, then an email in angle brackets), got " +
                                    Quote(*who));
    }
  }
  out->kind = copy ? WorkspaceKind::kCopy : WorkspaceKind::kRepo;
  out->path = abs;
}

void ParseShell(FileCtx& ctx, const Entry& e, ShellDecl* out) {
  if (!e.value.IsMap()) {
    ctx.Error(e.value_pos, "expected a map {allow, timeout, max_output} for shell, got " + Describe(e.value));
    return;
  }
  MapReader m(ctx, e.value, "shell");
  m.CheckKeys({"allow", "timeout", "max_output"});
  if (const Entry* a = m.Get("allow")) {
    std::vector<Pos> positions;
    if (auto l = ctx.StringList(a->value, a->value_pos, "shell.allow", &positions)) {
      for (size_t i = 0; i < l->size(); ++i) {
        const std::string& p = (*l)[i];
        if (p.empty() || p.find('/') != std::string::npos || p.find(' ') != std::string::npos) {
          ctx.Error(positions[i], "shell.allow lists program names (like make or pytest), not paths or commands: " +
                                      Quote(p));
          continue;
        }
        out->allow.push_back(p);
      }
    }
  }
  if (const Entry* t = m.Get("timeout"))
    if (auto d = ctx.Duration(t->value, t->value_pos, "shell.timeout")) out->timeout = *d;
  if (const Entry* x = m.Get("max_output"))
    if (auto n = ctx.Int(x->value, x->value_pos, "shell.max_output", 1024, int64_t{1} << 30)) out->max_output = *n;
}

void ParseMcpServers(FileCtx& ctx, const Entry& e, std::vector<McpServerDecl>* out) {
  if (!e.value.IsMap()) {
    ctx.Error(e.value_pos, "expected a map of server name -> {command, args, env} or {url} for mcp_servers, got " +
                               Describe(e.value));
    return;
  }
  MapReader servers(ctx, e.value, "mcp_servers");
  for (const Entry& s : servers.entries()) {
    McpServerDecl d;
    d.name = s.key;
    d.pos = s.key_pos;
    // The name is the host part of mcp://NAME/TOOL: letters, digits, '_' and '-' only.
    bool name_ok = !s.key.empty() && s.key.find_first_not_of(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == std::string::npos;
    if (!name_ok) {
      ctx.Error(s.key_pos, "MCP server name " + Quote(s.key) + " must be letters, digits, '_' or '-'");
      continue;
    }
    std::string what = "mcp_servers." + s.key;
    if (!s.value.IsMap()) {
      ctx.Error(s.value_pos, "expected {command, args, env} or {url, headers} for " + what + ", got " + Describe(s.value));
      continue;
    }
    MapReader m(ctx, s.value, what);
    m.CheckKeys({"command", "args", "env", "url", "headers", "timeout"});
    if (const Entry* c = m.Get("command"))
      if (auto v = ctx.String(c->value, c->value_pos, what + ".command")) d.command = *v;
    if (const Entry* a = m.Get("args"))
      if (auto v = ctx.StringList(a->value, a->value_pos, what + ".args")) d.args = *v;
    if (const Entry* x = m.Get("env")) d.env = StringMap(ctx, *x, what + ".env");
    if (const Entry* u = m.Get("url")) {
      if (auto v = ctx.String(u->value, u->value_pos, what + ".url")) {
        if (!v->starts_with("http://") && !v->starts_with("https://"))
          ctx.Error(u->value_pos, what + ".url must start with http:// or https://, got " + Quote(*v));
        d.url = *v;
      }
    }
    if (const Entry* h = m.Get("headers")) d.headers = StringMap(ctx, *h, what + ".headers");
    if (const Entry* t = m.Get("timeout"))
      if (auto v = ctx.Duration(t->value, t->value_pos, what + ".timeout")) d.timeout = *v;
    if (d.command.empty() == d.url.empty()) {
      ctx.Error(s.key_pos, what + " needs either command (a stdio server) or url (Streamable HTTP), not both");
      continue;
    }
    if (!d.url.empty() && (!d.args.empty() || !d.env.empty()))
      ctx.Error(s.key_pos, what + ": args and env apply to a command, not to a url");
    out->push_back(std::move(d));
  }
}

}  // namespace sw::workflow::internal
