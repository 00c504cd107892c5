#include "codeindex/walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <re2/re2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "base/strings.h"
#include "codeindex/code_index.h"
#include "tools/gitignore.h"
#include "tools/glob.h"

namespace sw::codeindex {
namespace {

/// ReadSmall reads a small file at dir_fd/name (a .gitignore), not following a link.
std::string ReadSmall(int dir_fd, const char* name) {
  int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return "";
  std::string out;
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    char buf[16384];
    ssize_t n;
    while (out.size() < (1u << 20) && (n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

using tools::IgnoreRule;
using tools::Ignored;

/// OpenBeneath opens rel below root_fd without following a symlink anywhere on the way
/// (openat2); before Linux 5.6 (no openat2: ENOSYS) only the last component is checked.
int OpenBeneath(int root_fd, const std::string& rel, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof(how)));
  if (fd < 0 && errno == ENOSYS) fd = ::openat(root_fd, rel.c_str(), flags | O_CLOEXEC | O_NOFOLLOW);
  return fd;
}

/// A folder waiting to be listed: its path ("" or "a/b/") and the rules that apply in it.
struct Folder {
  std::string rel;
  std::vector<IgnoreRule> rules;
  int depth = 0;
};

/// Walker lists folders from a shared queue on several threads: the walk is one stat per file,
/// time spent in the kernel, which several cores share out.
struct Walker {
  Walker(int fd, const std::set<std::string>& dirs, const std::set<std::string>& files)
      : root_fd(fd), skip_dirs(dirs), skip_files(files) {}
  int root_fd;
  const std::set<std::string>& skip_dirs;
  const std::set<std::string>& skip_files;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Folder> queue;
  int busy = 0;  // folders being listed
  std::vector<WalkedFile> all;

  /// List reads one folder: its files into *files, its subfolders into *subs.
  void List(Folder& f, std::vector<WalkedFile>* files, std::vector<Folder>* subs) {
    int dir_fd = f.rel.empty() ? ::openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                               : OpenBeneath(root_fd, f.rel, O_RDONLY | O_DIRECTORY);
    if (dir_fd < 0) return;
    tools::ParseGitignore(ReadSmall(dir_fd, ".gitignore"), f.rel, &f.rules);
    DIR* d = ::fdopendir(dir_fd);
    if (!d) {
      ::close(dir_fd);
      return;
    }
    while (dirent* e = ::readdir(d)) {
      const char* name = e->d_name;
      if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
      unsigned char type = e->d_type;
      struct stat st;
      bool have_stat = false;
      if (type == DT_UNKNOWN) {
        if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        have_stat = true;
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
      }
      if (type != DT_DIR && type != DT_REG) continue;  // links (and devices, sockets) are never listed
      // A file of a skipped folder's name is skipped too: a worktree's `.git` is a file.
      if (skip_dirs.count(name)) continue;
      std::string path = f.rel + name;
      if (type == DT_DIR) {
        if (f.depth < 64 && !Ignored(f.rules, path, true)) subs->push_back(Folder{path + "/", f.rules, f.depth + 1});
        continue;
      }
      if (SecretFileName(name) || skip_files.count(path) || Ignored(f.rules, path, false)) continue;
      if (!have_stat && ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (!S_ISREG(st.st_mode)) continue;
      files->push_back(WalkedFile{std::move(path), static_cast<int64_t>(st.st_size),
                                  static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec});
    }
    ::closedir(d);  // closes dir_fd
  }

  void Work() {
    std::vector<WalkedFile> mine;
    for (;;) {
      Folder f;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return !queue.empty() || busy == 0; });
        if (queue.empty()) break;  // and nobody is listing a folder: the walk is over
        f = std::move(queue.back());
        queue.pop_back();
        ++busy;
      }
      std::vector<Folder> subs;
      List(f, &mine, &subs);
      std::lock_guard<std::mutex> lock(mu);
      for (auto& s : subs) queue.push_back(std::move(s));
      --busy;
      cv.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu);
    all.insert(all.end(), std::make_move_iterator(mine.begin()), std::make_move_iterator(mine.end()));
    cv.notify_all();
  }
};

}  // namespace

// The default exclusion list (code_index.h): never listed, so never read nor indexed.
const char* const kSecretFilePatterns[] = {
    ".env",    ".env.*",    "*.pem",      "*.key",       "*.p12",       "*.pfx",       "id_rsa*",
    "id_dsa*", "id_ecdsa*", "id_ed25519*", ".npmrc",     ".netrc",      ".pgpass",     "*.keystore",
    "credentials", "credentials.json", ".git-credentials", "*.env", ".envrc", "*.tfvars", "*.tfvars.json",
    "terraform.tfstate", "terraform.tfstate.backup", ".pypirc", "*.jks", ".htpasswd", "*.kdbx", "secrets.yaml",
    "secrets.yml", "secrets.json", "secrets.toml", "secrets.ini", "secrets.env", "secrets.txt", nullptr};

bool SecretFileName(std::string_view name) {
  std::string n(name);
  for (const char* const* p = kSecretFilePatterns; *p; ++p)
    if (::fnmatch(*p, n.c_str(), FNM_CASEFOLD) == 0) return true;
  return false;
}

Status WalkTree(int root_fd, const std::set<std::string>& skip_dirs, const std::set<std::string>& skip_files,
                int threads, std::vector<WalkedFile>* out) {
  struct stat st;
  if (::fstat(root_fd, &st) != 0 || !S_ISDIR(st.st_mode)) return IoError("the root is not a readable folder");
  Walker w(root_fd, skip_dirs, skip_files);
  w.queue.push_back(Folder{});
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back([&w] { w.Work(); });
  w.Work();
  for (auto& t : pool) t.join();
  std::sort(w.all.begin(), w.all.end(), [](const WalkedFile& a, const WalkedFile& b) { return a.rel < b.rel; });
  *out = std::move(w.all);
  return Status::Ok();
}

Result<std::string> ReadBeneath(int root_fd, const std::string& rel, size_t max_bytes) {
  int fd = OpenBeneath(root_fd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return IoError(rel + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return IoError(rel + ": not a regular file");
  }
  std::string out;
  size_t want = std::min<size_t>(static_cast<size_t>(st.st_size), max_bytes) + 1;
  out.resize(want);
  size_t got = 0;
  while (got < want) {
    ssize_t n = ::read(fd, out.data() + got, want - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
    if (got == want && want <= max_bytes) {  // it grew since the stat: read on, up to the limit
      want = std::min(want * 2, max_bytes + 1);
      out.resize(want);
    }
  }
  ::close(fd);
  out.resize(got);
  return out;
}

}  // namespace sw::codeindex
