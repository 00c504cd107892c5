// builtin://shell.run — one program (never a shell unless the workflow allows one) in the
// workspace, from the workflow's allowlist, with a timeout, capped output and a clean
// environment: no variable of ours (API keys included) reaches it.
#include <algorithm>

#include "base/strings.h"
#include "base/subprocess.h"
#include "tools/sandbox.h"
#include "tools/tool.h"

namespace sw::tools {
namespace {

using json = nlohmann::json;

constexpr const char* kPath = "/usr/local/bin:/usr/bin:/bin";

/// SplitCommand splits a command line into words: whitespace separates, single and double
/// quotes group, backslash escapes. No expansion of any kind: "$HOME" stays "$HOME".
Result<std::vector<std::string>> SplitCommand(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < s.size()) {
        cur += s[++i];
      } else {
        cur += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < s.size()) {
      cur += s[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (quote) return InvalidInput("unterminated quote in command " + Quote(s));
  if (in_word) out.push_back(std::move(cur));
  return out;
}

std::string Shown(const std::string& text, size_t dropped) {
  if (!dropped) return text;
  return text + "\n[... " + std::to_string(dropped) + " more bytes not captured]";
}

class ShellRun : public Tool {
 public:
  std::string uri() const override { return "builtin://shell.run"; }
  std::string description() const override {
    return "Run one program in the workspace; the result is the command, its exit code, then its stdout and stderr. "
           "Give the command as a "
           "string (split like a shell would, but with no pipes, redirections or variables) or as argv. Only the "
           "programs the workflow allows can run.";
  }
  json schema() const override {
    return json{{"type", "object"},
                {"properties",
                 {{"command", {{"type", "string"}, {"description", "e.g. \"make test\""}}},
                  {"argv", {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 1}}},
                  {"cwd", {{"type", "string"}, {"description", "directory relative to the workspace"}}}}},
                {"additionalProperties", false}};
  }
  Result<json> Call(const json& args, const CallContext& ctx) override {
    std::vector<std::string> argv;
    if (args.contains("argv")) {
      for (const auto& a : args["argv"]) {
        if (!a.is_string()) return InvalidInput("argv must be a list of strings");
        argv.push_back(a.get<std::string>());
      }
    } else if (args.contains("command") && args["command"].is_string()) {
      SW_ASSIGN_OR_RETURN(argv, SplitCommand(args["command"].get<std::string>()));
    }
    if (argv.empty()) return InvalidInput("give the program to run as command (a string) or argv (a list)");
    const std::string& prog = argv[0];
    if (prog.find('/') != std::string::npos)
      return InvalidInput("program " + Quote(prog) + " must be a bare name from the allowlist, not a path");
    const auto& allow = ctx.shell.allow;
    if (std::find(allow.begin(), allow.end(), prog) == allow.end())
      return InvalidInput("program " + Quote(prog) + " is not allowed; the workflow allows: " +
                          (allow.empty() ? std::string("nothing (set shell.allow)") : Join(allow, ", ")));
    std::string cwd_rel = args.value("cwd", std::string("."));
    SW_ASSIGN_OR_RETURN(std::string cwd, ResolveInWorkspace(ctx.workspace, cwd_rel, false));
    SpawnOptions spawn;
    spawn.argv = argv;
    spawn.cwd = cwd;
    spawn.path = kPath;
    // A clean environment: the model's programs see none of our variables (keys, tokens).
    spawn.env = {std::string("PATH=") + kPath, "HOME=" + ctx.workspace, "LANG=C.UTF-8", "LC_ALL=C.UTF-8",
                 "TERM=dumb", "TMPDIR=/tmp"};
    RunOptions ro;
    ro.timeout = ctx.shell.timeout;
    ro.max_output = ctx.shell.max_output;
    ro.cancel = ctx.cancel;
    ro.ledger_dir = ctx.process_ledger;
    SW_ASSIGN_OR_RETURN(RunResult r, RunProcess(spawn, ro));
    if (r.cancelled) return Status(Code::kCancelled, "shell.run cancelled: " + Join(argv, " "));
    // Plain text, the way a person reads a terminal: the command, how it ended, then each stream.
    std::string status = r.timed_out ? "killed after the " + HumanDuration(ctx.shell.timeout) + " timeout"
                         : r.signal  ? "killed by signal " + std::to_string(r.signal)
                                     : "exit code " + std::to_string(r.exit_code);
    // No timing in the text: the same run must give the same result, or a re-run's agent
    // turns could not replay from the cache.
    std::string out = "$ " + Join(argv, " ") + "\n" + status + "\n";
    if (!r.out.empty() || r.out_dropped) out += "--- stdout\n" + Shown(r.out, r.out_dropped) + (r.out.ends_with('\n') ? "" : "\n");
    if (!r.err.empty() || r.err_dropped) out += "--- stderr\n" + Shown(r.err, r.err_dropped) + (r.err.ends_with('\n') ? "" : "\n");
    return json(out);
  }
};

}  // namespace

void AddShellTool(Registry* registry) { registry->Add(std::make_shared<ShellRun>()); }

}  // namespace sw::tools
