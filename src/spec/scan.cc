// The code scan: every file below the root that git would not ignore, read in parallel, every
// cited ID with its line. .gitignore files are honoured at every level (last match wins,
// `!` re-includes, `dir/` matches folders only, a pattern with a slash is anchored).
#include <fcntl.h>
#include <re2/re2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/strings.h"
#include "spec/spec.h"
#include "tools/gitignore.h"
#include "tools/glob.h"

namespace sw::spec {
namespace {

namespace fs = std::filesystem;


using tools::IgnoreRule;
using tools::Ignored;

void ReadIgnore(const fs::path& dir, const std::string& base, std::vector<IgnoreRule>* rules) {
  auto text = ReadFile((dir / ".gitignore").string());
  if (text.ok()) tools::ParseGitignore(*text, base, rules);
}

struct Walked {
  std::vector<std::string> files;  // relative to the root
};

void Walk(const Config& c, Walked* out) {
  std::vector<std::unique_ptr<RE2>> exclude;
  RE2::Options quiet;
  quiet.set_log_errors(false);
  for (const auto& glob : c.exclude)
    exclude.push_back(std::make_unique<RE2>(
        StartsWith(glob, "**/") ? "(?:.*/)?" + tools::GlobToRegex(glob.substr(3)) : tools::GlobToRegex(glob), quiet));
  auto excluded = [&](const std::string& rel) {
    if (rel == c.test_results) return true;  // the recorded results name test cases; they are not code citing them
    for (const auto& re : exclude)
      if (RE2::FullMatch(rel, *re)) return true;
    return false;
  };
  struct Dir {
    fs::path path;
    std::string rel;  // "" or "a/b/"
    std::vector<IgnoreRule> rules;
  };
  std::vector<Dir> stack;
  Dir top{fs::path(c.root), "", {}};
  ReadIgnore(top.path, "", &top.rules);
  stack.push_back(std::move(top));
  std::string specs = fs::path(c.specs_dir).lexically_normal().string();
  while (!stack.empty()) {
    Dir d = std::move(stack.back());
    stack.pop_back();
    std::error_code ec;
    std::vector<std::pair<std::string, bool>> entries;
    for (fs::directory_iterator it(d.path, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end;
         it.increment(ec)) {
      // The types come from readdir (no stat per entry); links are not followed (they may
      // leave the tree).
      if (it->is_symlink(ec) || ec) continue;
      bool dir = it->is_directory(ec);
      if (!dir && !it->is_regular_file(ec)) continue;
      entries.emplace_back(it->path().filename().string(), dir);
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& [name, is_dir] : entries) {
      std::string rel = d.rel + name;
      if (is_dir) {
        if (name == ".git" || rel == specs) continue;
        if (Ignored(d.rules, rel, true) || excluded(rel)) continue;  // an excluded folder is not entered
        Dir sub{d.path / name, rel + "/", d.rules};
        ReadIgnore(sub.path, sub.rel, &sub.rules);
        stack.push_back(std::move(sub));
      } else if (!Ignored(d.rules, rel, false) && !excluded(rel)) {
        out->files.push_back(rel);
      }
    }
  }
}

/// CountNewlines counts '\n' in [p, p + n), eight bytes at a time (exact: a byte is zero
/// after the xor exactly when the high bit of ~((x & 0x7f..) + 0x7f.. | x | 0x7f..) is set).
int CountNewlines(const char* p, size_t n) {
  constexpr uint64_t kLow = 0x7f7f7f7f7f7f7f7fULL, kNl = 0x0a0a0a0a0a0a0a0aULL;
  int count = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    uint64_t x = w ^ kNl;
    uint64_t t = ~(((x & kLow) + kLow) | x | kLow);  // 0x80 in each byte that was '\n'
    count += static_cast<int>(((t >> 7) * 0x0101010101010101ULL) >> 56);  // sum of the bytes' 0/1
  }
  for (; i < n; ++i) count += p[i] == '\n';
  return count;
}

constexpr std::string_view kIgnore = "specwright:ignore";

/// Suppressed says whether the citation of id at off is switched off by a comment: on its line
/// `specwright:ignore` (all IDs) or `specwright:ignore ID, ID` (those), or on the line before
/// `specwright:ignore-next-line` (all, or those it names).
bool Suppressed(const Grammar& g, std::string_view buf, size_t off, std::string_view id) {
  size_t bol = buf.rfind('\n', off);
  bol = bol == std::string_view::npos ? 0 : bol + 1;
  size_t eol = buf.find('\n', off);
  if (eol == std::string_view::npos) eol = buf.size();
  // names: what follows the marker on its line, up to the end of a comment.
  auto covers = [&](std::string_view line, bool next) {
    // memmem: glibc's two-way search, not a memcmp at every 's' of the line.
    auto find = [&](size_t from) -> size_t {
      if (from >= line.size()) return std::string_view::npos;
      const void* hit = ::memmem(line.data() + from, line.size() - from, kIgnore.data(), kIgnore.size());
      return hit ? static_cast<size_t>(static_cast<const char*>(hit) - line.data()) : std::string_view::npos;
    };
    for (size_t at = find(0); at != std::string_view::npos; at = find(at + 1)) {
      std::string_view rest = line.substr(at + kIgnore.size());
      bool is_next = rest.substr(0, 10) == "-next-line";
      // A -next-line directive is read on the line after it, and on its own line only for the
      // IDs it names (they stand in the comment).
      if (is_next && !next) {
        // handled below: only a named match counts
      } else if (is_next != next) {
        continue;
      }
      if (is_next) rest.remove_prefix(10);
      if (!rest.empty() && rest[0] != ' ' && rest[0] != ':' && rest[0] != '\t' && rest[0] != '*' && rest[0] != '-' &&
          rest[0] != '\r')
        continue;  // specwright:ignored, or some other word
      size_t stop = rest.find("*/");
      if (stop != std::string_view::npos) rest = rest.substr(0, stop);
      stop = rest.find("-->");
      if (stop != std::string_view::npos) rest = rest.substr(0, stop);
      // IDs named after it (as the grammar finds them, so "REQ-AC-ZZ9:" or "001-a/FR-001" name
      // theirs): only those; none: every ID.
      bool named = false, match = false;
      g.Find(rest, true, [&](std::string_view found, size_t) {
        named = true;
        match = match || found == id;
      });
      if (is_next && !next) {
        if (match) return true;
        continue;
      }
      if (!named || match) return true;
    }
    return false;
  };
  size_t prev_end = bol == 0 ? 0 : bol - 1;  // the '\n' that ends the line before
  size_t pbol = bol == 0 || prev_end == 0 ? std::string_view::npos : buf.rfind('\n', prev_end - 1);
  pbol = bol == 0 ? 0 : pbol == std::string_view::npos ? 0 : pbol + 1;
  // The usual case first: no marker on this line or the one before (one search of both).
  if (!::memmem(buf.data() + pbol, eol - pbol, kIgnore.data(), kIgnore.size())) return false;
  if (covers(buf.substr(bol, eol - bol), false)) return true;
  return bol > 0 && covers(buf.substr(pbol, prev_end - pbol), true);
}

}  // namespace

Result<std::vector<Citation>> ScanCode(const Config& c, const Grammar& g, int64_t* files_out, int64_t* bytes_out,
                                       int64_t* suppressed_out) {
  Walked w;
  Walk(c, &w);
  std::vector<std::unique_ptr<RE2>> tests;
  for (const auto& glob : c.test_globs) {
    std::string re = tools::GlobToRegex(glob);
    // "**/x" also matches "x" at the top.
    if (StartsWith(glob, "**/")) re = "(?:.*/)?" + tools::GlobToRegex(glob.substr(3));
    tests.push_back(std::make_unique<RE2>(re));
  }
  int n = c.threads > 0 ? c.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  n = std::min<int>(n, std::max<size_t>(1, w.files.size() / 64 + 1));
  std::atomic<size_t> next{0};
  std::atomic<int64_t> bytes{0}, suppressed{0};
  std::vector<std::vector<Citation>> found(static_cast<size_t>(n));
  // Files are opened relative to the root's descriptor: no walk of the root's own path each time.
  int root_fd = ::open(c.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return IoError("cannot open " + c.root + ": " + std::strerror(errno));
  auto work = [&](int t) {
    // One buffer per thread, grown as needed and never cleared (std::string::resize would
    // zero-fill every file's worth of bytes first).
    size_t cap = 1 << 20;
    std::unique_ptr<char[]> mem(new char[cap]);
    for (size_t i; (i = next.fetch_add(1)) < w.files.size();) {
      const std::string& rel = w.files[i];
      int fd = ::openat(root_fd, rel.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0) continue;
      size_t got = 0;
      bool binary = false;
      for (;;) {
        if (got == cap) {
          std::unique_ptr<char[]> bigger(new char[cap * 2]);
          std::memcpy(bigger.get(), mem.get(), got);
          mem = std::move(bigger);
          cap *= 2;
        }
        ssize_t r = ::read(fd, mem.get() + got, cap - got);
        if (r <= 0) break;
        // Binary: a NUL byte in the first 8 KiB (what git and grep go by); stop reading it.
        size_t before = got;
        got += static_cast<size_t>(r);
        if (before < 8192 && std::memchr(mem.get() + before, 0, std::min<size_t>(got, 8192) - before)) {
          binary = true;
          break;
        }
      }
      ::close(fd);
      std::string_view buf(mem.get(), got);
      bytes += static_cast<int64_t>(got);
      if (binary) continue;
      bool is_test = false;
      size_t line_at = 0;
      int line = 1;
      bool classified = false;
      g.Find(buf, true, [&](std::string_view id, size_t off) {
        if (!classified) {
          for (const auto& re : tests) is_test = is_test || RE2::FullMatch(rel, *re);
          classified = true;
        }
        line += CountNewlines(buf.data() + line_at, off - line_at);
        line_at = off;
        if (Suppressed(g, buf, off, id)) {
          ++suppressed;
          return;
        }
        std::string q = g.Scoped() ? QualifierBefore(buf, off) : "";
        found[static_cast<size_t>(t)].push_back(
            Citation{q.empty() ? std::string(id) : q + "/" + std::string(id), Location{rel, line}, is_test});
      });
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < n; ++t) threads.emplace_back(work, t);
  work(0);
  for (auto& th : threads) th.join();
  ::close(root_fd);
  std::vector<Citation> all;
  for (auto& f : found) all.insert(all.end(), std::make_move_iterator(f.begin()), std::make_move_iterator(f.end()));
  // Stable: one file is read by one thread, so citations on one line keep their order in it.
  std::stable_sort(all.begin(), all.end(), [](const Citation& a, const Citation& b) { return a.at < b.at; });
  if (files_out) *files_out = static_cast<int64_t>(w.files.size());
  if (bytes_out) *bytes_out = bytes.load();
  if (suppressed_out) *suppressed_out = suppressed.load();
  return all;
}

/// ReadTestResults reads the recorded test run (Config::test_results) when the file exists.
static Status ReadTestResults(const Config& c, Corpus* corpus) {
  if (c.test_results.empty()) return Status::Ok();
  std::string path = c.root + "/" + c.test_results;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return Status::Ok();
  auto bad = [&](const std::string& why) {
    corpus->results_error = why;
    return Status::Ok();
  };
  if (fs::file_size(path, ec) > (16u << 20))
    return bad("the test results are over 16 MiB; a results file maps test case IDs to passed, failed or not run");
  auto text = ReadFile(path);
  if (!text.ok()) return bad(text.status().message());
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("cases") || !j["cases"].is_object())
    return bad("the test results must be JSON {\"cases\": {\"TC-06-001\": \"passed\", ...}}");
  std::map<std::string, std::string> results;
  for (const auto& [id, v] : j["cases"].items()) {
    std::string st = v.is_string() ? v.get<std::string>() : "";
    if (st != "passed" && st != "failed" && st != "not run")
      return bad("cases." + id + " is " + v.dump() + "; expected \"passed\", \"failed\" or \"not run\"");
    results[id] = st;
  }
  corpus->results = std::move(results);
  corpus->has_results = true;
  return Status::Ok();
}

Result<Corpus> Load(const Config& c, const Grammar& g) {
  Corpus corpus;
  SW_ASSIGN_OR_RETURN(auto docs, ReadSpecDocs(c));
  for (const auto& d : docs) corpus.spec_files.push_back(d.first);
  // The specs are parsed while the code is scanned.
  Result<std::vector<Item>> items = std::vector<Item>{};
  std::thread parse([&] { items = ParseSpecs(g, docs); });
  auto cites = ScanCode(c, g, &corpus.code_files, &corpus.code_bytes, &corpus.suppressed);
  parse.join();
  if (!items.ok()) return items.status();
  if (!cites.ok()) return cites.status();
  corpus.items = std::move(items).value();
  corpus.citations = std::move(cites).value();
  ResolveCitations(g, corpus.items, &corpus.citations);
  SW_RETURN_IF_ERROR(ReadTestResults(c, &corpus));
  return corpus;
}

Result<Project> Open(const std::string& root) {
  Project p;
  SW_ASSIGN_OR_RETURN(p.config, LoadConfig(root));
  SW_ASSIGN_OR_RETURN(p.grammar, Grammar::Make(p.config));
  SW_ASSIGN_OR_RETURN(p.corpus, Load(p.config, p.grammar));
  return p;
}

}  // namespace sw::spec
