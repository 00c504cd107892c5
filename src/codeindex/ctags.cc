#include "codeindex/ctags.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "base/subprocess.h"

namespace sw::codeindex {
namespace {

constexpr const char* kInstall = "install it: apt-get install universal-ctags";
constexpr size_t kMaxOutput = 64u << 20;  // JSON bytes per call; a bigger answer is split

std::string PathList() {
  const char* p = std::getenv("PATH");
  return p && *p ? p : "/usr/local/bin:/usr/bin:/bin";
}

/// ListFile is a temporary file of names, one a line, removed with it.
struct ListFile {
  std::string path;
  ~ListFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

/// One call over files[begin, end); false when it failed as a whole. ctags is started with
/// posix_spawn (base's Child), not RunProcess's fork: a fork copies our page tables, twice
/// (guard and program), and with the index's cache in memory that was most of an update of one
/// file (24-33 ms against 7). The list goes in a file (-L FILE): Child keeps stdin open.
bool RunOnce(const CtagsRun& run, const std::vector<std::string>& files, size_t begin, size_t end,
             std::vector<std::vector<Symbol>>* out, std::string* why, bool* timed_out) {
  // "./" before every name: -L also takes options, and a file may be called "--something".
  std::string list;
  std::unordered_map<std::string_view, size_t> index;
  for (size_t i = begin; i < end; ++i) {
    list += "./" + files[i] + "\n";
    index.emplace(files[i], i);
  }
  const char* tmp = std::getenv("TMPDIR");
  ListFile lf;
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/sw-ctags-list-XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) {
    *why = "cannot write its list of files in " + tmpl + ": " + std::strerror(errno);
    return false;
  }
  lf.path = tmpl;
  bool written = ::write(fd, list.data(), list.size()) == static_cast<ssize_t>(list.size());
  ::close(fd);
  if (!written) {
    *why = "cannot write its list of files in " + tmpl;
    return false;
  }
  SpawnOptions spawn;
  // --options=NONE first: a project's own .ctags.d (in the folder we run in) is not read, so
  // an indexed tree cannot configure the parser we run over it.
  spawn.argv = {run.program, "--options=NONE", "--output-format=json", "--fields=+n+K+S+z+l+e",
                "--sort=no", "--quiet", "-f", "-", "-L", lf.path};
  spawn.env = {"LC_ALL=C"};
  spawn.cwd = run.root;
  auto child = Child::Start(spawn);
  if (!child.ok()) {
    *why = child.status().message();
    return false;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(run.timeout);
  std::string text;
  for (;;) {
    double left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      (*child)->Kill();
      *timed_out = true;
      *why = "timed out after " + HumanDuration(run.timeout);
      return false;
    }
    auto chunk = (*child)->ReadSome(left);
    if (!chunk.ok()) {
      if (chunk.status().code() == Code::kNotFound) break;  // it closed its output
      (*child)->Kill();
      *why = chunk.status().message();
      return false;
    }
    text += *chunk;
    if (text.size() > kMaxOutput) {
      (*child)->Kill();
      *why = "more than 64 MiB of output";
      return false;
    }
  }
  std::string ended = (*child)->ExitDescription();
  if (ended != "exited with status 0") {
    *why = ended + ": " + Utf8Prefix(Trim((*child)->StderrTail()), 300);
    return false;
  }
  for (size_t at = 0; at < text.size();) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + at, nl - at);
    at = nl + 1;
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("_type", "") != "tag") continue;
    std::string path = j.value("path", "");
    if (StartsWith(path, "./")) path.erase(0, 2);
    auto it = index.find(path);
    if (it == index.end()) continue;
    Symbol s;
    s.name = j.value("name", "");
    s.kind = j.value("kind", "");
    s.scope = j.value("scope", "");
    s.signature = j.value("signature", "");
    s.language = j.value("language", "");
    s.line = j.value("line", 0);
    s.end_line = j.value("end", 0);
    s.file = std::move(path);
    if (s.name.empty() || s.line <= 0) continue;
    (*out)[it->second].push_back(std::move(s));
  }
  return true;
}

void RunSplit(const CtagsRun& run, const std::vector<std::string>& files, size_t begin, size_t end,
              std::vector<std::vector<Symbol>>* out, std::vector<std::string>* warnings, std::vector<bool>* retry) {
  if (begin >= end) return;
  std::string why;
  bool timed_out = false;
  if (RunOnce(run, files, begin, end, out, &why, &timed_out)) return;
  for (size_t i = begin; i < end; ++i) (*out)[i].clear();
  if (end - begin == 1) {
    warnings->push_back(files[begin] + ": no symbols (ctags: " + why + ")");
    (*retry)[begin] = !timed_out;
    return;
  }
  size_t mid = begin + (end - begin) / 2;
  RunSplit(run, files, begin, mid, out, warnings, retry);
  RunSplit(run, files, mid, end, out, warnings, retry);
}

}  // namespace

Result<std::string> ResolveCtags(const std::string& program) {
  std::string path = program;
  if (path.find('/') == std::string::npos) {
    path = FindProgram(program, PathList());
    if (path.empty())
      return NotFound("the code index needs universal-ctags, and " + Quote(program) + " is not on PATH; " + kInstall);
  }
  if (::access(path.c_str(), X_OK) != 0)
    return NotFound("the code index needs universal-ctags, and " + path + " is not an executable file; " + kInstall);
  SpawnOptions spawn;
  spawn.argv = {path, "--version"};
  spawn.env = {"LC_ALL=C"};
  RunOptions opts;
  opts.timeout = 10;
  auto r = RunProcess(spawn, opts);
  if (!r.ok()) return Status(r.status().code(), "cannot run " + path + ": " + r.status().message() + "; " + kInstall);
  if (r->out.find("Universal Ctags") == std::string::npos || r->out.find("+json") == std::string::npos)
    return Status(Code::kUnavailable, path + " is not universal-ctags built with JSON output (its --version: " +
                                          Quote(Utf8Prefix(Trim(r->out), 120)) + "); " + kInstall);
  return path;
}

std::vector<std::vector<Symbol>> RunCtags(const CtagsRun& run, const std::vector<std::string>& files,
                                          std::vector<std::string>* warnings, std::vector<bool>* retry) {
  std::vector<std::vector<Symbol>> out(files.size());
  retry->assign(files.size(), false);
  RunSplit(run, files, 0, files.size(), &out, warnings, retry);
  return out;
}

}  // namespace sw::codeindex
