#include "codeindex/code_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "base/fs.h"
#include "base/strings.h"
#include "codeindex/ctags.h"
#include "codeindex/sqlite_db.h"
#include "codeindex/walk.h"

namespace sw::codeindex {
namespace {

namespace fs = std::filesystem;

constexpr int kSchemaVersion = 1;
// A line's row id is (file id << kLineBits) | line: a file's rows are one id range, deleted
// with a range scan (FTS5 has no index on other columns), and a hit names its file and line
// without a join. 21 bits hold every line of a file of up to 2 MiB.
constexpr int kLineBits = 21;
constexpr int64_t kMaxLine = (int64_t{1} << kLineBits) - 1;
constexpr int kMaxLimit = 1000;
constexpr size_t kMaxQuery = 2000;
constexpr size_t kMaxWarnings = 100;

// files.state
enum State : int64_t { kText = 0, kBinary = 1, kLarge = 2, kUnreadable = 3 };

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
  id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL, state INTEGER NOT NULL, language TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS symbols (
  file_id INTEGER NOT NULL, line INTEGER NOT NULL, end_line INTEGER NOT NULL, name TEXT NOT NULL,
  kind TEXT NOT NULL, scope TEXT NOT NULL, signature TEXT NOT NULL, language TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS symbols_by_name ON symbols (name, file_id, line);
CREATE INDEX IF NOT EXISTS symbols_by_file ON symbols (file_id, line);
CREATE VIRTUAL TABLE IF NOT EXISTS lines USING fts5(text, tokenize = "unicode61 tokenchars '_'");
)sql";

bool TokenChar(unsigned char c) { return std::isalnum(c) || c == '_' || c >= 0x80; }
bool IdentChar(unsigned char c) { return TokenChar(c) || c == '$'; }

/// HitText is a line as a hit shows it: no surrounding blanks, at most 300 bytes.
std::string HitText(std::string_view line) { return Utf8Prefix(Trim(line), 300); }

/// NamedAt says whether text holds name at a position not inside a longer identifier.
bool NamedAt(std::string_view text, std::string_view name) {
  for (size_t at = text.find(name); at != std::string_view::npos; at = text.find(name, at + 1)) {
    bool left = at == 0 || !IdentChar(static_cast<unsigned char>(text[at - 1])) ||
                !IdentChar(static_cast<unsigned char>(name.front()));
    size_t end = at + name.size();
    bool right = end == text.size() || !IdentChar(static_cast<unsigned char>(text[end])) ||
                 !IdentChar(static_cast<unsigned char>(name.back()));
    if (left && right) return true;
  }
  return false;
}

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

struct Known {
  int64_t id, size, mtime_ns;
  bool seen = false;
};

struct Change {
  const WalkedFile* file;
  int64_t id;  // 0: new
};

/// A file read and parsed outside the transaction, waiting to be written.
struct Prepared {
  State state = kText;
  std::string content;
  std::vector<Symbol> symbols;
  bool retry = false;  // read again at the next update (ctags could not be run on it)
};

struct Batch {
  size_t begin = 0, end = 0;  // into the change list
  std::vector<Prepared> files;
  std::vector<std::string> warnings;
};

}  // namespace

struct Index::Impl {
  std::string root;
  int root_fd = -1;
  Options options;
  std::string ctags;
  std::unique_ptr<Db> db;
  std::unique_ptr<Stmt> probe, search_unranked;
  std::unique_ptr<Stmt> all_files, del_lines, del_symbols, del_file, ins_file, upd_file, ins_line, ins_symbol,
      def_exact, def_prefix, is_def_line, refs, search, path_of;
  std::set<std::string> skip_files;

  ~Impl() {
    if (root_fd >= 0) ::close(root_fd);
  }

  int Threads() const {
    return options.threads > 0 ? options.threads
                               : static_cast<int>(std::min(4u, std::max(1u, std::thread::hardware_concurrency())));
  }

  Status Prepare() {
    struct {
      std::unique_ptr<Stmt>* stmt;
      const char* sql;
    } all[] = {
        {&all_files, "SELECT id, path, size, mtime_ns FROM files"},
        {&del_lines, "DELETE FROM lines WHERE rowid >= ?1 AND rowid < ?2"},
        {&del_symbols, "DELETE FROM symbols WHERE file_id = ?1"},
        {&del_file, "DELETE FROM files WHERE id = ?1"},
        {&ins_file, "INSERT INTO files (path, size, mtime_ns, state, language) VALUES (?1, ?2, ?3, ?4, ?5)"},
        {&upd_file, "UPDATE files SET size = ?2, mtime_ns = ?3, state = ?4, language = ?5 WHERE id = ?1"},
        {&ins_line, "INSERT INTO lines (rowid, text) VALUES (?1, ?2)"},
        {&ins_symbol,
         "INSERT INTO symbols (file_id, line, end_line, name, kind, scope, signature, language) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
        {&def_exact,
         "SELECT s.name, s.kind, f.path, s.scope, s.signature, s.language, s.line, s.end_line FROM symbols s "
         "JOIN files f ON f.id = s.file_id WHERE s.name = ?1 ORDER BY s.name, s.file_id, s.line LIMIT ?2"},
        {&def_prefix,
         "SELECT s.name, s.kind, f.path, s.scope, s.signature, s.language, s.line, s.end_line FROM symbols s "
         "JOIN files f ON f.id = s.file_id WHERE s.name >= ?1 AND s.name < ?2 ORDER BY s.name, s.file_id, s.line "
         "LIMIT ?3"},
        {&is_def_line, "SELECT 1 FROM symbols WHERE file_id = ?1 AND line = ?2 AND name = ?3 LIMIT 1"},
        {&refs, "SELECT rowid, text FROM lines WHERE lines MATCH ?1 ORDER BY rowid"},
        {&search, "SELECT rowid, text FROM lines WHERE lines MATCH ?1 ORDER BY rank LIMIT ?2"},
        // Is the query selective? The 5,000th match, found without ranking (doclist order).
        {&probe, "SELECT rowid FROM lines WHERE lines MATCH ?1 LIMIT 1 OFFSET 4999"},
        {&search_unranked, "SELECT rowid, text FROM lines WHERE lines MATCH ?1 LIMIT ?2"},
        {&path_of, "SELECT path FROM files WHERE id = ?1"},
    };
    for (auto& s : all) {
      SW_ASSIGN_OR_RETURN(*s.stmt, db->Prepare(s.sql));
    }
    return Status::Ok();
  }

  Result<std::string> PathOf(int64_t id, std::unordered_map<int64_t, std::string>* cache) {
    auto it = cache->find(id);
    if (it != cache->end()) return it->second;
    path_of->Bind(1, id);
    SW_ASSIGN_OR_RETURN(bool row, path_of->Step());
    std::string path = row ? std::string(path_of->Text(0)) : "";
    path_of->Reset();
    (*cache)[id] = path;
    return path;
  }

  Status DeleteRows(int64_t id) {
    SW_RETURN_IF_ERROR(del_lines->Bind(1, id << kLineBits).Bind(2, (id + 1) << kLineBits).Run());
    return del_symbols->Bind(1, id).Run();
  }

  /// Read fills a batch: each file read beneath the root and classified, then ctags over the
  /// text files. Runs on a worker thread: touches no database.
  void Read(const std::vector<Change>& changes, Batch* b) {
    b->files.resize(b->end - b->begin);
    std::vector<std::string> text_files;
    std::vector<size_t> text_at;
    for (size_t i = b->begin; i < b->end; ++i) {
      Prepared& p = b->files[i - b->begin];
      const std::string& rel = changes[i].file->rel;
      if (static_cast<size_t>(changes[i].file->size) > options.max_file_bytes) {
        p.state = kLarge;
        continue;
      }
      auto content = ReadBeneath(root_fd, rel, options.max_file_bytes);
      if (!content.ok()) {
        p.state = kUnreadable;
        b->warnings.push_back(content.status().message());
        continue;
      }
      if (content->size() > options.max_file_bytes) {
        p.state = kLarge;
        continue;
      }
      // Binary: a NUL byte in the first 8 KiB (what git and grep go by).
      if (std::memchr(content->data(), 0, std::min<size_t>(content->size(), 8192))) {
        p.state = kBinary;
        continue;
      }
      p.content = std::move(content).value();
      // ctags reads a list of names one per line.
      if (rel.find('\n') == std::string::npos && rel.find('\r') == std::string::npos) {
        text_files.push_back(rel);
        text_at.push_back(i - b->begin);
      }
    }
    if (text_files.empty()) return;
    CtagsRun run{ctags, root, options.ctags_timeout};
    std::vector<bool> retry;
    auto symbols = RunCtags(run, text_files, &b->warnings, &retry);
    for (size_t k = 0; k < text_files.size(); ++k) {
      b->files[text_at[k]].symbols = std::move(symbols[k]);
      b->files[text_at[k]].retry = retry[k];
    }
  }

  /// Write stores one prepared file (inside the transaction).
  Status Write(const Change& c, Prepared& p, int64_t walk_ns) {
    const WalkedFile& f = *c.file;
    // A file changed in the last racy_seconds is stored with mtime -1: re-read next time too.
    int64_t mtime = f.mtime_ns > walk_ns - static_cast<int64_t>(options.racy_seconds * 1e9) ? -1 : f.mtime_ns;
    if (p.state == kUnreadable || p.retry) mtime = -1;
    std::string language = p.symbols.empty() ? "" : p.symbols.front().language;
    int64_t id = c.id;
    if (id) {
      SW_RETURN_IF_ERROR(DeleteRows(id));
      SW_RETURN_IF_ERROR(upd_file->Bind(1, id).Bind(2, f.size).Bind(3, mtime).Bind(4, p.state).Bind(5, language).Run());
    } else {
      SW_RETURN_IF_ERROR(ins_file->Bind(1, f.rel).Bind(2, f.size).Bind(3, mtime).Bind(4, p.state).Bind(5, language).Run());
      id = db->LastRowId();
    }
    if (p.state != kText) return Status::Ok();
    std::string_view text = p.content;
    int64_t line = 0;
    for (size_t at = 0; at < text.size() && line < kMaxLine;) {
      size_t nl = text.find('\n', at);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view l = text.substr(at, nl - at);
      at = nl + 1;
      ++line;
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      if (l.find_first_not_of(" \t\f\v") == std::string_view::npos) continue;
      SW_RETURN_IF_ERROR(ins_line->Bind(1, (id << kLineBits) | line).Bind(2, l).Run());
    }
    for (const Symbol& s : p.symbols) {
      SW_RETURN_IF_ERROR(ins_symbol->Bind(1, id)
                             .Bind(2, s.line)
                             .Bind(3, s.end_line)
                             .Bind(4, s.name)
                             .Bind(5, s.kind)
                             .Bind(6, s.scope)
                             .Bind(7, s.signature)
                             .Bind(8, s.language)
                             .Run());
    }
    return Status::Ok();
  }

  Status Apply(const std::vector<Change>& changes, const std::vector<int64_t>& removed, int64_t walk_ns,
               UpdateStats* stats) {
    for (int64_t id : removed) {
      SW_RETURN_IF_ERROR(DeleteRows(id));
      SW_RETURN_IF_ERROR(del_file->Bind(1, id).Run());
    }
    // Batches by count and bytes, in walk order.
    std::vector<Batch> batches;
    for (size_t i = 0; i < changes.size();) {
      Batch b;
      b.begin = i;
      size_t bytes = 0;
      while (i < changes.size() && i - b.begin < options.batch_files &&
             (i == b.begin || bytes + static_cast<size_t>(changes[i].file->size) <= options.batch_bytes))
        bytes += static_cast<size_t>(changes[i++].file->size);
      b.end = i;
      batches.push_back(std::move(b));
    }
    int threads = static_cast<int>(std::min<size_t>(static_cast<size_t>(Threads()), batches.size()));
    // Workers read and run ctags ahead of the writer (this thread), at most 2 batches each.
    std::mutex mu;
    std::condition_variable cv;
    std::vector<bool> ready(batches.size(), false);
    size_t next = 0, written = 0;
    bool stop = false;
    auto work = [&] {
      for (;;) {
        size_t i;
        {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return stop || next < written + 2 * static_cast<size_t>(threads); });
          if (stop || next >= batches.size()) return;
          i = next++;
        }
        Read(changes, &batches[i]);
        std::lock_guard<std::mutex> lock(mu);
        ready[i] = true;
        cv.notify_all();
      }
    };
    std::vector<std::thread> pool;
    if (threads > 1)
      for (int t = 0; t < threads; ++t) pool.emplace_back(work);
    Status status;
    for (size_t i = 0; i < batches.size() && status.ok(); ++i) {
      Batch& b = batches[i];
      if (threads > 1) {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return ready[i]; });
      } else {
        Read(changes, &b);
      }
      for (size_t k = b.begin; k < b.end && status.ok(); ++k) {
        Prepared& p = b.files[k - b.begin];
        if (p.state == kBinary || p.state == kLarge || p.state == kUnreadable) ++stats->files_skipped;
        status = Write(changes[k], p, walk_ns);
      }
      for (auto& w : b.warnings)
        if (stats->warnings.size() < kMaxWarnings) stats->warnings.push_back(std::move(w));
      b.files.clear();
      b.files.shrink_to_fit();
      std::lock_guard<std::mutex> lock(mu);
      written = i + 1;
      cv.notify_all();
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
      cv.notify_all();
    }
    for (auto& t : pool) t.join();
    return status;
  }
};

Index::Index(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Index::~Index() = default;
const std::string& Index::root() const { return impl_->root; }

Result<std::unique_ptr<Index>> Index::Open(const std::string& root, const std::string& db_path, const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  std::error_code ec;
  fs::path canon = fs::canonical(root, ec);
  if (ec || !fs::is_directory(canon, ec)) return InvalidInput("the code index's root " + root + " is not a folder");
  impl->root = canon.string();
  impl->root_fd = ::open(impl->root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (impl->root_fd < 0) return IoError("cannot open " + impl->root + ": " + std::strerror(errno));

  std::string program = options.ctags;
  if (program.empty()) {
    const char* env = std::getenv("SPECWRIGHT_CTAGS");
    program = env && *env ? env : "ctags";
  }
  SW_ASSIGN_OR_RETURN(impl->ctags, ResolveCtags(program));

  fs::path db_abs = fs::absolute(db_path).lexically_normal();
  if (db_abs.has_parent_path()) SW_RETURN_IF_ERROR(MakeDirs(db_abs.parent_path().string()));
  // The index's own files are never indexed, wherever they are.
  fs::path parent = fs::canonical(db_abs.parent_path(), ec);
  if (!ec) {
    std::string rel = (parent / db_abs.filename()).lexically_relative(canon).string();
    if (!rel.empty() && !StartsWith(rel, ".."))
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) impl->skip_files.insert(rel + suffix);
  }
  SW_ASSIGN_OR_RETURN(impl->db, Db::Open(db_abs.string()));
  Db& db = *impl->db;
  SW_RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; "
                             "PRAGMA journal_size_limit = 67108864;"));
  SW_ASSIGN_OR_RETURN(auto version, db.Prepare("PRAGMA user_version"));
  SW_ASSIGN_OR_RETURN(bool row, version->Step());
  int64_t have = row ? version->Int(0) : 0;
  version->Reset();
  if (have != 0 && have != kSchemaVersion) {
    // An index is a cache: another version's is dropped and built again.
    SW_RETURN_IF_ERROR(db.Exec("DROP TABLE IF EXISTS lines; DROP TABLE IF EXISTS symbols; DROP TABLE IF EXISTS files; "
                               "DROP TABLE IF EXISTS meta;"));
  }
  Status made = db.Exec(kSchema);
  if (!made.ok()) {
    if (made.message().find("no such module: fts5") != std::string::npos)
      return Status(Code::kUnavailable, std::string("the code index needs SQLite's FTS5, and this SQLite (") +
                                            sqlite3_libversion() + ") was built without it; use Debian's libsqlite3");
    return made.Annotate("creating the code index " + db_abs.string());
  }
  SW_RETURN_IF_ERROR(db.Exec("PRAGMA user_version = " + std::to_string(kSchemaVersion)));
  // An index of another root (a copied project) would name files that are not ours.
  SW_ASSIGN_OR_RETURN(auto get_root, db.Prepare("SELECT value FROM meta WHERE key = 'root'"));
  SW_ASSIGN_OR_RETURN(row, get_root->Step());
  std::string stored = row ? std::string(get_root->Text(0)) : "";
  get_root->Reset();
  if (stored != impl->root) {
    SW_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE; DELETE FROM lines; DELETE FROM symbols; DELETE FROM files;"));
    SW_ASSIGN_OR_RETURN(auto set_root, db.Prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('root', ?1)"));
    Status s = set_root->Bind(1, impl->root).Run();
    SW_RETURN_IF_ERROR(db.Exec(s.ok() ? "COMMIT" : "ROLLBACK"));
    SW_RETURN_IF_ERROR(s);
  }
  SW_RETURN_IF_ERROR(impl->Prepare());
  return std::unique_ptr<Index>(new Index(std::move(impl)));
}

Result<UpdateStats> Index::Update() {
  auto t0 = std::chrono::steady_clock::now();
  Impl& m = *impl_;
  UpdateStats stats;
  int64_t walk_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<WalkedFile> walked;
  static const std::set<std::string> kSkipDirs = {".git", ".specwright", "node_modules"};
  SW_RETURN_IF_ERROR(WalkTree(m.root_fd, kSkipDirs, m.skip_files, m.Threads(), &walked));
  stats.files_seen = static_cast<int64_t>(walked.size());

  // Reading what is stored before taking the write lock is safe only because one Index is used
  // from one thread: another process's Update in between would make our writes stale, so the
  // transaction starts first.
  SW_RETURN_IF_ERROR(m.db->Exec("BEGIN IMMEDIATE"));
  auto fail = [&](const Status& s) {
    (void)m.db->Exec("ROLLBACK");
    return s;
  };
  std::unordered_map<std::string, Known> known;
  for (;;) {
    auto row = m.all_files->Step();
    if (!row.ok()) return fail(row.status());
    if (!*row) break;
    known.emplace(std::string(m.all_files->Text(1)), Known{m.all_files->Int(0), m.all_files->Int(2), m.all_files->Int(3)});
  }
  std::vector<Change> changes;
  for (const WalkedFile& f : walked) {
    auto it = known.find(f.rel);
    if (it == known.end()) {
      changes.push_back(Change{&f, 0});
      continue;
    }
    it->second.seen = true;
    if (it->second.size != f.size || it->second.mtime_ns != f.mtime_ns) changes.push_back(Change{&f, it->second.id});
  }
  std::vector<int64_t> removed;
  for (const auto& [path, k] : known)
    if (!k.seen) removed.push_back(k.id);
  stats.files_indexed = static_cast<int64_t>(changes.size());
  stats.files_removed = static_cast<int64_t>(removed.size());
  if (!changes.empty() || !removed.empty()) {
    Status s = m.Apply(changes, removed, walk_ns, &stats);
    if (!s.ok()) return fail(s.Annotate("updating the code index"));
  }
  Status s = m.db->Exec("COMMIT");
  if (!s.ok()) return fail(s);
  // A big update leaves a WAL as big as what it wrote: fold it into the file and cut it back
  // (to journal_size_limit) now rather than keep it on disk. Best effort: a reader may hold it.
  if (stats.files_indexed + stats.files_removed > 1000) (void)m.db->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  stats.ms = MsSince(t0);
  return stats;
}

Result<std::vector<Symbol>> Index::Definitions(const std::string& name, int limit, bool prefix) {
  if (name.empty()) return InvalidInput("no symbol name given");
  limit = std::clamp(limit, 1, kMaxLimit);
  Impl& m = *impl_;
  Stmt& q = prefix ? *m.def_prefix : *m.def_exact;
  q.Bind(1, name);
  // Names are UTF-8, which has no 0xff byte: every name starting with `name` sorts below this.
  if (prefix) q.Bind(2, name + "\xff").Bind(3, limit);
  else q.Bind(2, limit);
  std::vector<Symbol> out;
  for (;;) {
    SW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    Symbol s;
    s.name = q.Text(0);
    s.kind = q.Text(1);
    s.file = q.Text(2);
    s.scope = q.Text(3);
    s.signature = q.Text(4);
    s.language = q.Text(5);
    s.line = static_cast<int>(q.Int(6));
    s.end_line = static_cast<int>(q.Int(7));
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<Hit>> Index::References(const std::string& name, int limit) {
  limit = std::clamp(limit, 1, kMaxLimit);
  if (name.size() > kMaxQuery) return InvalidInput("the symbol name is over 2000 bytes");
  // The name's tokens as one phrase (a name like `operator+` or `a::b` has several); the
  // lines found are then checked for the exact name.
  std::string phrase;
  for (size_t i = 0; i < name.size();) {
    if (!TokenChar(static_cast<unsigned char>(name[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < name.size() && TokenChar(static_cast<unsigned char>(name[j]))) ++j;
    phrase += (phrase.empty() ? "" : " ") + name.substr(i, j - i);
    i = j;
  }
  if (phrase.empty()) return InvalidInput("the symbol name " + Quote(name) + " has no letter, digit or _ to look for");
  Impl& m = *impl_;
  Stmt& q = *m.refs;
  q.Bind(1, "\"" + phrase + "\"");
  std::unordered_map<int64_t, std::string> paths;
  std::vector<Hit> out;
  Status status;
  while (static_cast<int>(out.size()) < limit) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    std::string_view text = q.Text(1);
    if (!NamedAt(text, name)) continue;
    int64_t rowid = q.Int(0), id = rowid >> kLineBits, line = rowid & kMaxLine;
    m.is_def_line->Bind(1, id).Bind(2, line).Bind(3, name);
    auto def = m.is_def_line->Step();
    if (!def.ok()) {
      status = def.status();
      break;
    }
    m.is_def_line->Reset();
    if (*def) continue;
    std::string t = HitText(text);
    auto path = m.PathOf(id, &paths);
    if (!path.ok()) {
      status = path.status();
      break;
    }
    out.push_back(Hit{*path, static_cast<int>(line), std::move(t)});
  }
  q.Reset();
  if (!status.ok()) return status;
  return out;
}

Result<std::vector<Hit>> Index::Search(const std::string& query, int limit, QueryMode mode) {
  limit = std::clamp(limit, 1, kMaxLimit);
  if (query.size() > kMaxQuery) return InvalidInput("the search query is over 2000 bytes");
  std::string fts = mode == QueryMode::kLiteral ? LiteralQuery(query) : query;
  if (Trim(fts).empty()) return InvalidInput("the search query " + Quote(query) + " has nothing to look for");
  Impl& m = *impl_;
  // bm25 scores every matching line before the first is returned: for a word on most lines
  // (980,000 of 1 M) that is 0.7 s. Past 5,000 matches ranking says little, so the lines come
  // in file order instead.
  Stmt& p = *m.probe;
  p.Bind(1, fts);
  auto many = p.Step();
  p.Reset();
  bool ranked = !many.ok() || !*many;  // an invalid query fails below, with its message
  Stmt& q = ranked ? *m.search : *m.search_unranked;
  q.Bind(1, fts).Bind(2, limit);
  std::vector<std::pair<int64_t, std::string>> rows;
  for (;;) {
    auto row = q.Step();
    if (!row.ok()) {
      // SQLITE_ERROR from a MATCH is the query's fault: "fts5: syntax error near ...",
      // "no such column: x" (a `x:` column filter), an unbalanced quote or parenthesis.
      if (q.last_code() == SQLITE_ERROR) {
        std::string why = row.status().message();
        if (StartsWith(why, "sqlite: ")) why.erase(0, 8);
        return InvalidInput("the search query " + Quote(query) + " is not valid FTS5 syntax (" + why +
                            "): use words, \"a phrase\", prefix*, AND, OR, NOT, NEAR(a b), or search it as literal text");
      }
      return row.status();
    }
    if (!*row) break;
    rows.emplace_back(q.Int(0), HitText(q.Text(1)));
  }
  std::unordered_map<int64_t, std::string> paths;
  std::vector<Hit> out;
  for (auto& [rowid, text] : rows) {
    SW_ASSIGN_OR_RETURN(std::string path, m.PathOf(rowid >> kLineBits, &paths));
    out.push_back(Hit{std::move(path), static_cast<int>(rowid & kMaxLine), std::move(text)});
  }
  return out;
}

std::string LiteralQuery(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    bool any = false;
    for (; j < text.size() && !std::isspace(static_cast<unsigned char>(text[j])); ++j)
      if (TokenChar(static_cast<unsigned char>(text[j]))) any = true;
    if (any) {
      out += out.empty() ? "\"" : " \"";
      for (size_t k = i; k < j; ++k) out += text[k] == '"' ? std::string("\"\"") : std::string(1, text[k]);
      out += '"';
    }
    i = j;
  }
  return out;
}

}  // namespace sw::codeindex
