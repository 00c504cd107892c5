// The code index: symbols and full-text search over a project's source tree, for coding agents
// (the MCP server's code tools). One SQLite file holds it; Update() re-reads only the files
// whose size or modification time changed since the last one.
//
// - Definitions come from universal-ctags (a subprocess, `ctags --output-format=json`), run on
//   the files that changed, in batches, time- and size-limited.
// - References are NOT from ctags (it reports definitions only for most languages): they are
//   the lines whose identifier tokens include the name, found through the full-text index and
//   matched case-sensitively as a whole identifier, less the name's own definition lines. So a
//   reference is textual: a comment or a string naming it counts, and two unrelated symbols of
//   the same name are not told apart.
// - Full-text search is SQLite FTS5, one row per non-blank line (a hit is file:line and the
//   line), ranked by bm25. Identifiers are whole tokens (`_` is a token character).
//
// Every stored path is relative to the root; nothing outside the root is read: symlinks are
// neither followed nor indexed. Not thread-safe: use one Index from one thread at a time
// (several processes may share one file: SQLite's locking; an Update holds the write lock).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sw::codeindex {

struct Symbol {
  std::string name, kind, file, scope, signature, language;
  int line = 0, end_line = 0;  // end_line 0: ctags did not say
};

struct Hit {
  std::string file;
  int line = 0;
  std::string text;  // the line without its surrounding blanks, cut to at most 300 bytes
};

struct UpdateStats {
  int64_t files_seen = 0;     // files the walk listed (after .gitignore and the skipped folders)
  int64_t files_indexed = 0;  // re-read: new or changed (size or mtime) files
  int64_t files_removed = 0;  // gone since the last update: their rows deleted
  int64_t files_skipped = 0;  // of the re-read ones: binary or over max_file_bytes (no rows)
  double ms = 0;
  std::vector<std::string> warnings;  // files whose symbols ctags could not give, unreadable files
};

/// Options are plain data with defaults; tests and benches change them.
struct Options {
  /// The ctags program: a path or a bare name looked up in $PATH. "" : $SPECWRIGHT_CTAGS, else
  /// "ctags". Open fails with an install hint when it is missing or not universal-ctags.
  std::string ctags;
  double ctags_timeout = 30;            // seconds per ctags call (a call that fails is split)
  size_t max_file_bytes = 1u << 20;     // bigger files are listed but not indexed
  size_t batch_bytes = 4u << 20;        // input bytes per ctags call
  size_t batch_files = 512;             // files per ctags call
  int threads = 0;                      // the walk, reads and ctags calls in parallel; 0: the cores, at most 4
  /// A file modified less than this long before the walk is re-read on the next Update too:
  /// a write in the same clock tick as our read (same size) would otherwise go unseen.
  double racy_seconds = 2;
};

/// QueryMode says how Search reads its query.
enum class QueryMode {
  kFts,      // FTS5 syntax: words (AND), "a phrase", prefix*, OR, NOT, NEAR(a b, 5), ( )
  kLiteral,  // the text as typed: every blank-separated word must occur (each as a phrase)
};

/// Index is one opened code index of one root.
class Index {
 public:
  /// Open creates or opens the index file at db_path (its folder is created) for the tree at
  /// root. An index built for another root, or by another schema version, is emptied.
  static Result<std::unique_ptr<Index>> Open(const std::string& root, const std::string& db_path,
                                             const Options& options = Options());
  ~Index();
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  /// Update walks the tree and brings the index up to date in one transaction.
  Result<UpdateStats> Update();
  /// Definitions of exactly `name` (case-sensitive), or of every name starting with it.
  Result<std::vector<Symbol>> Definitions(const std::string& name, int limit = 50, bool prefix = false);
  /// References: lines naming `name` as a whole identifier, definition lines left out, in
  /// index order (by file as first indexed, then line).
  Result<std::vector<Hit>> References(const std::string& name, int limit = 100);
  /// Search ranks lines by bm25 (a query matching over 5,000 lines gives them in file order:
  /// ranking them all costs more than it tells). A malformed kFts query is an InvalidInput error.
  Result<std::vector<Hit>> Search(const std::string& query, int limit = 50, QueryMode mode = QueryMode::kFts);

  const std::string& root() const;

 private:
  struct Impl;
  explicit Index(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// kSecretFilePatterns are the files the index never lists, reads or indexes, whatever
/// .gitignore says: secret-bearing files a code search must not serve (`DB_PASSWORD=...` of a
/// `.env`, a private key). Shell globs over the file's own name (not its folder), matched
/// case-insensitively at any depth: .env, .env.*, *.env, .envrc, *.pem, *.key,
/// *.p12, *.pfx, *.jks, *.keystore, *.kdbx, id_rsa*, id_dsa*, id_ecdsa*, id_ed25519*, .npmrc,
/// .netrc, .pgpass, .pypirc, .htpasswd, credentials, credentials.json, .git-credentials,
/// *.tfvars, *.tfvars.json, terraform.tfstate, terraform.tfstate.backup, and secrets.yaml,
/// .yml, .json, .toml, .ini, .env, .txt (data files: src/secrets.py is code, and searchable). A file indexed before it matched (an index
/// of an older version) is dropped at the next Update, as a removed file is.
extern const char* const kSecretFilePatterns[];
/// SecretFileName says whether a file of this name (no folder) is one of kSecretFilePatterns.
bool SecretFileName(std::string_view name);

/// LiteralQuery turns text into an FTS5 query matching it as typed: each blank-separated word
/// becomes a quoted phrase. "" when the text has nothing to match (no letter, digit or `_`).
std::string LiteralQuery(const std::string& text);

}  // namespace sw::codeindex
