// The code index's view of a source tree: the files git would not ignore, with their size and
// modification time, and reads that never leave the root. Internal to src/codeindex.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"

namespace sw::codeindex {

struct WalkedFile {
  std::string rel;  // relative to the root, '/'-separated
  int64_t size = 0;
  int64_t mtime_ns = 0;
};

/// WalkTree lists the regular files below root_fd, sorted by path, on `threads` threads. .gitignore files are honoured at every level with the spec scan's rules
/// (last match wins, `!` re-includes, `dir/` matches folders only, a pattern with a slash is
/// anchored); folders (and files) named in skip_dirs are skipped at any depth; files in skip_files
/// (relative paths) are left out, and so are secret-bearing files (SecretFileName,
/// code_index.h: .env, *.pem, id_rsa, ...) whatever .gitignore says; symlinks are neither followed nor listed. Unreadable folders
/// are skipped. Folders below the root are opened with openat2(RESOLVE_BENEATH |
/// RESOLVE_NO_SYMLINKS), so a folder swapped for a link during the walk is not entered.
Status WalkTree(int root_fd, const std::set<std::string>& skip_dirs, const std::set<std::string>& skip_files,
                int threads, std::vector<WalkedFile>* out);

/// ReadBeneath reads rel below root_fd without following a symlink anywhere on the way
/// (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS; O_NOFOLLOW on kernels before 5.6, where the
/// walk not entering linked folders is the guard). Only a regular file is read, at most
/// max_bytes + 1 bytes (so the caller sees it grew past the limit).
Result<std::string> ReadBeneath(int root_fd, const std::string& rel, size_t max_bytes);

}  // namespace sw::codeindex
