// git_owned: the small libgit2 helpers every file that calls libgit2 needs (tools/git_repo.cc,
// dist/git_transport.cc, dist/git_remote.cc): an owner that frees a libgit2 object, and an
// object id as hex.
#pragma once

#include <git2.h>

#include <string>

namespace sw::tools::git {

/// Owned frees the libgit2 object it holds (libgit2's out-parameter style: pass out()).
template <typename T, void (*Free)(T*)>
struct Owned {
  T* p = nullptr;
  Owned() = default;
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() {
    if (p) Free(p);
  }
  T** out() { return &p; }
  T* get() const { return p; }
};

inline std::string OidHex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

}  // namespace sw::tools::git
