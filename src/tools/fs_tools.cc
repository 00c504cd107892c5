// builtin://fs.* — file tools confined to the run's workspace (every path goes through
// ResolveInWorkspace). Results are small JSON values or text a model can read directly.
#include <re2/re2.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "base/fs.h"
#include "base/strings.h"
#include "tools/glob.h"
#include "tools/sandbox.h"
#include "tools/tool.h"

namespace sw::tools {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr size_t kMaxRead = 256 << 10;     // bytes of a file returned at once
constexpr size_t kMaxWalk = 20000;         // entries a listing, glob or grep visits
constexpr size_t kDefaultMatches = 200;

Result<std::string> StringArg(const json& args, const char* key, bool required = true) {
  if (!args.is_object() || !args.contains(key)) {
    if (required) return InvalidInput(std::string("missing argument \"") + key + "\"");
    return std::string();
  }
  if (!args[key].is_string()) return InvalidInput(std::string("argument \"") + key + "\" must be a string");
  return args[key].get<std::string>();
}

bool LooksBinary(std::string_view s) { return s.substr(0, 8000).find('\0') != std::string_view::npos; }

json Schema(json properties, std::vector<std::string> required) {
  return json{{"type", "object"}, {"properties", std::move(properties)}, {"required", required},
              {"additionalProperties", false}};
}

/// Walk visits files and directories under dir depth first in name order, skipping .git and
/// never following a directory symlink; fn returns false to stop.
template <typename Fn>
Status WalkFrom(const std::string& root, const fs::path& dir, bool recursive, Fn& fn, size_t* visited, bool* stop) {
  std::error_code ec;
  std::vector<fs::directory_entry> entries;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    entries.push_back(*it);
  if (ec) return IoError("listing " + RelativeToWorkspace(root, dir.string()) + ": " + ec.message());
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.path() < b.path(); });
  for (const auto& e : entries) {
    if (*stop) return Status::Ok();
    if (e.path().filename() == ".git" || e.path().filename() == ".specwright") continue;  // not the workspace's files
    if (++*visited > kMaxWalk)
      return Status(Code::kFailed, "more than " + std::to_string(kMaxWalk) + " entries; narrow the path");
    bool is_dir = e.is_directory(ec) && !e.is_symlink(ec);
    if (!fn(e, is_dir)) {
      *stop = true;
      return Status::Ok();
    }
    if (is_dir && recursive) SW_RETURN_IF_ERROR(WalkFrom(root, e.path(), recursive, fn, visited, stop));
  }
  return Status::Ok();
}

template <typename Fn>
Status Walk(const std::string& root, const fs::path& dir, bool recursive, Fn fn) {
  size_t visited = 0;
  bool stop = false;
  return WalkFrom(root, dir, recursive, fn, &visited, &stop);
}

/// Quiet RE2 options: a model's bad pattern is an error value, not a line on our stderr.
RE2::Options Quiet() {
  RE2::Options o;
  o.set_log_errors(false);
  return o;
}


class FsRead : public Tool {
 public:
  std::string uri() const override { return "builtin://fs.read"; }
  std::string description() const override {
    return "Read a text file of the workspace. Optional offset and limit are line numbers (1-based) and a line count.";
  }
  json schema() const override {
    return Schema({{"path", {{"type", "string"}, {"description", "file path relative to the workspace"}}},
                   {"offset", {{"type", "integer"}, {"minimum", 1}}},
                   {"limit", {{"type", "integer"}, {"minimum", 1}}}},
                  {"path"});
  }
  Result<json> Call(const json& args, const CallContext& ctx) override {
    SW_ASSIGN_OR_RETURN(std::string rel, StringArg(args, "path"));
    SW_ASSIGN_OR_RETURN(std::string path, ResolveInWorkspace(ctx.workspace, rel, false));
    if (fs::is_directory(path)) return InvalidInput(Quote(rel) + " is a directory; use fs.list");
    SW_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    if (LooksBinary(text)) return InvalidInput(Quote(rel) + " is a binary file (" + std::to_string(text.size()) + " bytes)");
    int64_t offset = args.value("offset", int64_t{1}), limit = args.value("limit", int64_t{0});
    if (offset > 1 || limit > 0) {
      std::string out;
      int64_t line = 1;
      size_t pos = 0;
      while (pos <= text.size() && (limit <= 0 || line < offset + limit)) {
        size_t nl = text.find('\n', pos);
        size_t end = nl == std::string::npos ? text.size() : nl + 1;
        if (line >= offset) out.append(text, pos, end - pos);
        if (nl == std::string::npos) break;
        pos = end;
        ++line;
      }
      text = std::move(out);
    }
    if (text.size() > kMaxRead) {
      size_t total = text.size();
      text.resize(kMaxRead);
      text += "\n[... " + std::to_string(total - kMaxRead) + " more bytes; read on with offset/limit]";
    }
    return json(std::move(text));
  }
};

class FsWrite : public Tool {
 public:
  std::string uri() const override { return "builtin://fs.write"; }
  std::string description() const override {
    return "Create or overwrite a file of the workspace with the given content (directories are created).";
  }
  json schema() const override {
    return Schema({{"path", {{"type", "string"}}}, {"content", {{"type", "string"}}}}, {"path", "content"});
  }
  Result<json> Call(const json& args, const CallContext& ctx) override {
    SW_ASSIGN_OR_RETURN(std::string rel, StringArg(args, "path"));
    SW_ASSIGN_OR_RETURN(std::string content, StringArg(args, "content"));
    SW_ASSIGN_OR_RETURN(std::string path, ResolveInWorkspace(ctx.workspace, rel, true));
    if (fs::is_directory(path)) return InvalidInput(Quote(rel) + " is a directory");
    bool existed = fs::exists(path);
    SW_RETURN_IF_ERROR(MakeDirs(fs::path(path).parent_path().string()));
    SW_RETURN_IF_ERROR(WriteFileAtomic(path, content));
    return json{{"path", RelativeToWorkspace(ctx.workspace, path)}, {"bytes", content.size()}, {"created", !existed}};
  }
};

class FsEdit : public Tool {
 public:
  std::string uri() const override { return "builtin://fs.edit"; }
  std::string description() const override {
    return "Replace an exact piece of text in a file. old_text must occur exactly once (include surrounding lines to "
           "make it unique) unless replace_all is true.";
  }
  json schema() const override {
    return Schema({{"path", {{"type", "string"}}},
                   {"old_text", {{"type", "string"}, {"minLength", 1}}},
                   {"new_text", {{"type", "string"}}},
                   {"replace_all", {{"type", "boolean"}}}},
                  {"path", "old_text", "new_text"});
  }
  Result<json> Call(const json& args, const CallContext& ctx) override {
    SW_ASSIGN_OR_RETURN(std::string rel, StringArg(args, "path"));
    SW_ASSIGN_OR_RETURN(std::string old_text, StringArg(args, "old_text"));
    SW_ASSIGN_OR_RETURN(std::string new_text, StringArg(args, "new_text"));
    bool all = args.value("replace_all", false);
    if (old_text.empty()) return InvalidInput("old_text must not be empty");
    SW_ASSIGN_OR_RETURN(std::string path, ResolveInWorkspace(ctx.workspace, rel, false));
    SW_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    std::vector<size_t> at;
    for (size_t p = text.find(old_text); p != std::string::npos; p = text.find(old_text, p + old_text.size()))
      at.push_back(p);
    if (at.empty()) return InvalidInput("old_text was not found in " + Quote(rel) + " (it must match exactly, whitespace included)");
    if (at.size() > 1 && !all)
      return InvalidInput("old_text occurs " + std::to_string(at.size()) + " times in " + Quote(rel) +
                          "; include more surrounding text to make it unique, or set replace_all");
    for (auto it = at.rbegin(); it != at.rend(); ++it) text.replace(*it, old_text.size(), new_text);
    SW_RETURN_IF_ERROR(WriteFileAtomic(path, text));
    return json{{"path", RelativeToWorkspace(ctx.workspace, path)}, {"replacements", at.size()}};
  }
};

class FsList : public Tool {
 public:
  std::string uri() const override { return "builtin://fs.list"; }
  std::string description() const override {
    return "List a directory of the workspace (default: its root); recursive lists the whole subtree.";
  }
  json schema() const override {
    return Schema({{"path", {{"type", "string"}}}, {"recursive", {{"type", "boolean"}}}}, {});
  }
  Result<json> Call(const json& args, const CallContext& ctx) override {
    SW_ASSIGN_OR_RETURN(std::string rel, StringArg(args, "path", false));
    SW_ASSIGN_OR_RETURN(std::string dir, ResolveInWorkspace(ctx.workspace, rel, false));
    if (!fs::is_directory(dir)) return InvalidInput(Quote(rel) + " is not a directory");
    json out = json::array();
    std::error_code ec;
    SW_RETURN_IF_ERROR(Walk(ctx.workspace, dir, args.value("recursive", false), [&](const fs::directory_entry& e, bool is_dir) {
      bool link = e.is_symlink(ec);
      json item{{"path", RelativeToWorkspace(ctx.workspace, e.path().string())},
                {"type", link ? "symlink" : is_dir ? "dir" : "file"}};
      // A link's target may be outside: say nothing about it, not even its size.
      if (!link && !is_dir && e.is_regular_file(ec)) item["size"] = e.file_size(ec);
      out.push_back(std::move(item));
      return true;
    }));
    return out;
  }
};

class FsGlob : public Tool {
 public:
  std::string uri() const override { return "builtin://fs.glob"; }
  std::string description() const override {
    return "Find files of the workspace whose path matches a glob (e.g. \"src/**/*.c\"; ** spans directories).";
  }
  json schema() const override { return Schema({{"pattern", {{"type", "string"}, {"minLength", 1}}}}, {"pattern"}); }
  Result<json> Call(const json& args, const CallContext& ctx) override {
    SW_ASSIGN_OR_RETURN(std::string pattern, StringArg(args, "pattern"));
    bool climbs = false;
    for (const auto& part : Split(pattern, '/')) climbs |= part == "..";
    if (pattern.starts_with("/") || climbs)
      return InvalidInput("glob " + Quote(pattern) + " leads outside the workspace (no leading / or ..)");
    RE2 re(GlobToRegex(pattern), Quiet());
    if (!re.ok()) return InvalidInput("invalid glob " + Quote(pattern) + ": " + re.error());
    SW_ASSIGN_OR_RETURN(std::string root, ResolveInWorkspace(ctx.workspace, ".", false));
    json out = json::array();
    SW_RETURN_IF_ERROR(Walk(ctx.workspace, root, true, [&](const fs::directory_entry& e, bool is_dir) {
      std::string rel = RelativeToWorkspace(ctx.workspace, e.path().string());
      if (!is_dir && RE2::FullMatch(rel, re)) out.push_back(rel);
      return out.size() < kMaxWalk;
    }));
    return out;
  }
};

class FsGrep : public Tool {
 public:
  std::string uri() const override { return "builtin://fs.grep"; }
  std::string description() const override {
    return "Search text files of the workspace for a regular expression (RE2 syntax); optional path (a directory "
           "or file) and glob narrow the search. Returns path, line number and line.";
  }
  json schema() const override {
    return Schema({{"pattern", {{"type", "string"}, {"minLength", 1}}},
                   {"path", {{"type", "string"}}},
                   {"glob", {{"type", "string"}}},
                   {"max_results", {{"type", "integer"}, {"minimum", 1}, {"maximum", 5000}}}},
                  {"pattern"});
  }
  Result<json> Call(const json& args, const CallContext& ctx) override {
    SW_ASSIGN_OR_RETURN(std::string pattern, StringArg(args, "pattern"));
    SW_ASSIGN_OR_RETURN(std::string rel, StringArg(args, "path", false));
    SW_ASSIGN_OR_RETURN(std::string glob, StringArg(args, "glob", false));
    size_t max = static_cast<size_t>(args.value("max_results", static_cast<int64_t>(kDefaultMatches)));
    RE2 re(pattern, Quiet());
    if (!re.ok()) return InvalidInput("invalid regular expression " + Quote(pattern) + ": " + re.error());
    std::unique_ptr<RE2> glob_re;
    if (!glob.empty()) {
      glob_re = std::make_unique<RE2>(GlobToRegex(glob), Quiet());
      if (!glob_re->ok()) return InvalidInput("invalid glob " + Quote(glob) + ": " + glob_re->error());
    }
    SW_ASSIGN_OR_RETURN(std::string start, ResolveInWorkspace(ctx.workspace, rel, false));
    json out = json::array();
    bool more = false;
    auto scan = [&](const std::string& file) {
      auto text = ReadFile(file);
      if (!text.ok() || LooksBinary(*text)) return;
      std::string shown = RelativeToWorkspace(ctx.workspace, file);
      int64_t line = 0;
      for (std::string_view rest = *text; !rest.empty();) {
        size_t nl = rest.find('\n');
        std::string_view l = rest.substr(0, nl);
        ++line;
        if (RE2::PartialMatch(l, re)) {
          if (out.size() >= max) {
            more = true;
            return;
          }
          out.push_back(json{{"path", shown}, {"line", line}, {"text", std::string(l.substr(0, 400))}});
        }
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
      }
    };
    if (!fs::is_directory(start)) {
      scan(start);
    } else {
      SW_RETURN_IF_ERROR(Walk(ctx.workspace, start, true, [&](const fs::directory_entry& e, bool is_dir) {
        std::error_code ec;
        if (is_dir || !e.is_regular_file(ec)) return true;
        std::string rel = RelativeToWorkspace(ctx.workspace, e.path().string());
        if (glob_re && !RE2::FullMatch(rel, *glob_re) && !RE2::FullMatch(e.path().filename().string(), *glob_re))
          return true;
        // A file symlink is read only when its target is inside the workspace too.
        auto resolved = ResolveInWorkspace(ctx.workspace, rel, false);
        if (!resolved.ok()) return true;
        scan(*resolved);
        return !more;
      }));
    }
    return json{{"matches", out}, {"truncated", more}};
  }
};

}  // namespace

void AddFsTools(Registry* registry) {
  registry->Add(std::make_shared<FsRead>());
  registry->Add(std::make_shared<FsWrite>());
  registry->Add(std::make_shared<FsEdit>());
  registry->Add(std::make_shared<FsList>());
  registry->Add(std::make_shared<FsGlob>());
  registry->Add(std::make_shared<FsGrep>());
}

}  // namespace sw::tools
