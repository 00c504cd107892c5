#include "dist/git_remote.h"

#include <git2.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "base/strings.h"
#include "tools/git_owned.h"

namespace sw::dist {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

using tools::git::Owned;
using tools::git::OidHex;
using Remote = Owned<git_remote, git_remote_free>;


// ---- remotes: what may be named, and what may be printed ----

struct RemoteParts {
  std::string scheme;          // "" for a local path or scp-like
  bool scp = false;            // [user@]host:path
  size_t userinfo_at = std::string::npos, userinfo_len = 0;  // in the URL
  std::string user, password;  // percent-decoded
};

RemoteParts Parse(const std::string& remote) {
  RemoteParts p;
  size_t sep = remote.find("://");
  if (sep == std::string::npos) {
    size_t colon = remote.find(':'), slash = remote.find('/');
    p.scp = !remote.empty() && remote[0] != '/' && colon != std::string::npos && colon > 0 &&
            (slash == std::string::npos || colon < slash);
    if (p.scp) {
      size_t at = remote.rfind('@', colon);
      if (at != std::string::npos) p.user = remote.substr(0, at);
    }
    return p;
  }
  p.scheme = Lower(remote.substr(0, sep));
  size_t start = sep + 3;
  size_t end = remote.find_first_of("/?#", start);
  if (end == std::string::npos) end = remote.size();
  size_t at = remote.rfind('@', end - 1);
  if (at != std::string::npos && at >= start && end > start) {
    p.userinfo_at = start;
    p.userinfo_len = at - start;
    std::string info = remote.substr(start, at - start);
    size_t colon = info.find(':');
    std::string user = info.substr(0, colon), pass = colon == std::string::npos ? "" : info.substr(colon + 1);
    if (!PercentDecode(user, &p.user)) p.user = user;
    if (colon != std::string::npos && !PercentDecode(pass, &p.password)) p.password = pass;
  }
  return p;
}

bool IsHttp(const RemoteParts& p) { return p.scheme == "http" || p.scheme == "https"; }

/// Secrets are the strings of a remote that must never be printed: its password, and the user
/// of an http(s) URL (where a token is often sent as the user), as written and decoded.
std::vector<std::string> Secrets(const std::string& remote) {
  RemoteParts p = Parse(remote);
  std::vector<std::string> out;
  if (p.userinfo_at == std::string::npos) return out;
  std::string info = remote.substr(p.userinfo_at, p.userinfo_len);
  size_t colon = info.find(':');
  if (colon != std::string::npos) {
    out.push_back(info.substr(colon + 1));
    out.push_back(p.password);
  }
  if (IsHttp(p) && colon == std::string::npos) {
    out.push_back(info);
    out.push_back(p.user);
  }
  std::erase_if(out, [](const std::string& s) { return s.empty(); });
  return out;
}

/// Scrub makes a message from libgit2 fit to print: the remote as written becomes its
/// redacted form, and any secret of it left elsewhere becomes ***.
std::string Scrub(std::string msg, const std::string& remote) {
  auto replace_all = [&](const std::string& from, const std::string& to) {
    if (from.empty() || from == to) return;
    for (size_t pos = 0; (pos = msg.find(from, pos)) != std::string::npos; pos += to.size()) msg.replace(pos, from.size(), to);
  };
  replace_all(remote, RedactRemote(remote));
  for (const auto& s : Secrets(remote)) replace_all(s, "***");
  return msg;
}

std::string LastGitError() {
  const git_error* e = git_error_last();
  std::string m = e && e->message ? e->message : "unknown error";
  git_error_clear();
  return m;
}

Status Err(const std::string& what) { return IoError("git: " + what + ": " + LastGitError()); }

// ---- bounded exchanges with the remote ----

/// Guard is what every callback of one push or fetch sees: its deadline and byte cap, why it
/// was stopped, which credentials it tried, and what the remote refused.
struct Guard {
  Clock::time_point deadline;
  int64_t max_bytes = 0;
  double timeout = 0;
  std::string stop;
  std::string user, password;
  bool tried_agent = false, tried_userpass = false;
  std::vector<std::string> rejected;

  bool Late() {
    if (Clock::now() <= deadline) return false;
    if (stop.empty()) stop = "took longer than the " + HumanDuration(timeout) + " allowed (TransportOptions::timeout_seconds)";
    return true;
  }
  bool TooBig(uint64_t bytes) {
    if (bytes <= static_cast<uint64_t>(max_bytes)) return false;
    if (stop.empty())
      stop = "the transfer passed the cap of " + std::to_string(max_bytes) + " bytes (TransportOptions::max_transfer_bytes)";
    return true;
  }
};

git_remote_callbacks Callbacks(Guard* g) {
  git_remote_callbacks cb = GIT_REMOTE_CALLBACKS_INIT;
  cb.payload = g;
  cb.sideband_progress = [](const char*, int, void* p) -> int { return static_cast<Guard*>(p)->Late() ? -1 : 0; };
  cb.transfer_progress = [](const git_indexer_progress* s, void* p) -> int {
    auto* g = static_cast<Guard*>(p);
    return g->Late() || g->TooBig(s->received_bytes) ? -1 : 0;
  };
  cb.pack_progress = [](int, uint32_t, uint32_t, void* p) -> int { return static_cast<Guard*>(p)->Late() ? -1 : 0; };
  cb.push_transfer_progress = [](unsigned, unsigned, size_t bytes, void* p) -> int {
    auto* g = static_cast<Guard*>(p);
    return g->Late() || g->TooBig(bytes) ? -1 : 0;
  };
  cb.push_update_reference = [](const char* ref, const char* status, void* p) -> int {
    if (status) static_cast<Guard*>(p)->rejected.push_back(std::string(ref) + " (" + status + ")");
    return 0;
  };
  cb.certificate_check = [](git_cert*, int, const char*, void* p) -> int {
    return static_cast<Guard*>(p)->Late() ? -1 : GIT_PASSTHROUGH;  // libgit2 verifies as usual
  };
  // Each kind of credential is offered once: a remote that refuses them fails, never loops.
  cb.credentials = [](git_credential** out, const char*, const char* user_from_url, unsigned int allowed,
                      void* p) -> int {
    auto* g = static_cast<Guard*>(p);
    if (g->Late()) return -1;
    if ((allowed & GIT_CREDENTIAL_SSH_KEY) && !g->tried_agent) {
      g->tried_agent = true;
      return git_credential_ssh_key_from_agent(out, user_from_url && *user_from_url ? user_from_url : "git");
    }
    if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !g->tried_userpass && !g->password.empty()) {
      g->tried_userpass = true;
      return git_credential_userpass_plaintext_new(out, g->user.c_str(), g->password.c_str());
    }
    if (g->stop.empty()) g->stop = "authentication failed (no credentials the remote accepts)";
    return -1;
  };
  return cb;
}

bool IsLocal(const std::string& remote) { return !remote.empty() && (remote[0] == '/' || Parse(remote).scheme == "file"); }

/// Exchange holds one push or fetch: the anonymous remote (nothing is written to any config)
/// and its guard.
struct Exchange {
  std::string url;
  Guard guard;
  Remote remote;

  Status Open(git_repository* repo, const std::string& remote_url, const TransportOptions& o) {
    url = remote_url;
    // A local remote that is not there: say so (libgit2 would call it an unsupported protocol).
    if (IsLocal(url)) {
      std::string path = url[0] == '/' ? url : url.substr(std::string("file://").size());
      std::error_code ec;
      if (!fs::is_directory(path, ec))
        return NotFound("the git remote " + RedactRemote(url) + " does not exist (no repository at " + path + ")");
    }
    guard.timeout = o.timeout_seconds;
    guard.deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.timeout_seconds * 1000));
    guard.max_bytes = o.max_transfer_bytes;
    RemoteParts p = Parse(url);
    guard.user = p.user;
    guard.password = p.password;
#if LIBGIT2_VER_MAJOR > 1 || (LIBGIT2_VER_MAJOR == 1 && LIBGIT2_VER_MINOR >= 7)
    int ms = static_cast<int>(std::min(o.timeout_seconds * 1000, 2e9));
    git_libgit2_opts(GIT_OPT_SET_SERVER_CONNECT_TIMEOUT, ms);
    git_libgit2_opts(GIT_OPT_SET_SERVER_TIMEOUT, ms);
#endif
    // Anonymous (nothing is written to a config) and as named: no url.<base>.insteadOf
    // rewriting (libgit2 1.5 also leaks a regex match per config entry on that lookup).
    git_remote_create_options ro = GIT_REMOTE_CREATE_OPTIONS_INIT;
    ro.repository = repo;
    ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
    if (git_remote_create_with_opts(remote.out(), url.c_str(), &ro) != 0)
      return InvalidInput("git remote " + RedactRemote(url) + ": " + Scrub(LastGitError(), url));
    return Status::Ok();
  }

  /// Fail is the error of a push or fetch that returned rc: why we stopped it, or libgit2's.
  Status Fail(const std::string& what, int rc) {
    std::string why = !guard.stop.empty() ? guard.stop : Scrub(LastGitError(), url);
    git_error_clear();
    Code code = guard.stop.find("longer than") != std::string::npos           ? Code::kTimeout
                : guard.stop.find("cap of") != std::string::npos               ? Code::kFailed
                : rc == GIT_EAUTH || guard.stop.find("authentication") != std::string::npos ? Code::kPermission
                                                                                            : Code::kUnavailable;
    return Status(code, what + " " + RedactRemote(url) + " failed: " + why);
  }
};

/// CheckPackSize measures the pack a push of `tips` would send (what the remote's refs do
/// not reach already), stopping at the cap. Only for local remotes: libgit2's local push
/// reports no byte counts to push_transfer_progress (the network transports do).
Status CheckPackSize(git_repository* repo, Exchange* x, const std::vector<git_oid>& tips, const std::string& what) {
  git_remote_callbacks cb = Callbacks(&x->guard);
  if (git_remote_connect(x->remote.get(), GIT_DIRECTION_PUSH, &cb, nullptr, nullptr) != 0)
    return x->Fail("pushing " + what + " to", -1);
  const git_remote_head** heads = nullptr;
  size_t n = 0;
  Owned<git_revwalk, git_revwalk_free> walk;
  Owned<git_packbuilder, git_packbuilder_free> pb;
  Owned<git_odb, git_odb_free> odb;
  int rc = git_remote_ls(&heads, &n, x->remote.get());
  if (rc == 0) rc = git_repository_odb(odb.out(), repo);
  if (rc == 0) rc = git_revwalk_new(walk.out(), repo);
  for (const auto& t : tips)
    if (rc == 0) rc = git_revwalk_push(walk.get(), &t);
  for (size_t i = 0; rc == 0 && i < n; ++i) {
    // What the remote has and we know: none of it travels.
    if (git_odb_exists(odb.get(), &heads[i]->oid) != 1) continue;
    Owned<git_object, git_object_free> obj;
    if (git_object_lookup(obj.out(), repo, &heads[i]->oid, GIT_OBJECT_COMMIT) == 0) git_revwalk_hide(walk.get(), &heads[i]->oid);
  }
  git_error_clear();
  git_remote_disconnect(x->remote.get());
  if (rc == 0) rc = git_packbuilder_new(pb.out(), repo);
  if (rc == 0) rc = git_packbuilder_insert_walk(pb.get(), walk.get());
  if (rc != 0) return Err("counting what pushing " + what + " would send");
  struct Count {
    Guard* guard;
    uint64_t bytes = 0;
  } count{&x->guard};
  rc = git_packbuilder_foreach(
      pb.get(),
      [](void*, size_t len, void* p) -> int {
        auto* c = static_cast<Count*>(p);
        c->bytes += len;
        return c->guard->Late() || c->guard->TooBig(c->bytes) ? 1 : 0;
      },
      &count);
  if (rc != 0) return x->Fail("pushing " + what + " to", rc);
  return Status::Ok();
}

}  // namespace

Status FetchRef(git_repository* repo, const std::string& remote, const std::string& ref, const std::string& want,
             const TransportOptions& o) {
  Exchange x;
  SW_RETURN_IF_ERROR(x.Open(repo, remote, o).Annotate("fetching " + ref));
  git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
  fo.callbacks = Callbacks(&x.guard);
  fo.prune = GIT_FETCH_NO_PRUNE;
  fo.update_fetchhead = 0;
  fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  fo.proxy_opts.type = GIT_PROXY_AUTO;
  std::string spec = "+" + ref + ":" + ref;
  char* specs[] = {spec.data()};
  git_strarray arr = {specs, 1};
  int rc = git_remote_fetch(x.remote.get(), &arr, &fo, "specwright: fetch");
  if (rc != 0) return x.Fail("fetching " + ref + " from", rc);
  git_oid got;
  if (git_reference_name_to_id(&got, repo, ref.c_str()) != 0) {
    git_error_clear();
    return NotFound("the remote " + RedactRemote(remote) + " has no " + ref);
  }
  if (OidHex(got) != want)
    return Failed("the remote " + RedactRemote(remote) + " has " + ref + " at " + OidHex(got) + ", not " + want);
  return Status::Ok();
}

namespace {
/// LocalPathOf is the folder of a local remote ("/srv/x.git", "file:///srv/x.git").
std::string LocalPathOf(const std::string& remote) {
  return remote[0] == '/' ? remote : remote.substr(std::string("file://").size());
}

/// kStaleLock: a ref lock held longer than this was left by a process that died between
/// taking it and renaming it (a push holds one for microseconds): a SIGKILLed worker.
constexpr auto kStaleLock = std::chrono::seconds(2);

/// ClearStaleLocks removes, in a local remote, the lock files of our own refs
/// (refs/specwright/runs/...) that are older than kStaleLock. Such a ref is written by one
/// run's lease-fenced orchestrator or names the commit it holds, so a second writer would
/// write the same value: removing a dead writer's lock loses nothing. Returns how many.
int ClearStaleLocks(const std::string& remote, const std::vector<std::string>& specs) {
  int removed = 0;
  for (const auto& spec : specs) {
    size_t colon = spec.find(':');
    if (colon == std::string::npos) continue;
    std::string dst = spec.substr(colon + 1);
    if (!StartsWith(dst, "refs/specwright/runs/") || dst.find("..") != std::string::npos) continue;
    fs::path lock = fs::path(LocalPathOf(remote)) / (dst + ".lock");
    std::error_code ec;
    auto t = fs::last_write_time(lock, ec);
    if (ec) continue;
    if (fs::file_time_type::clock::now() - t < kStaleLock) continue;
    if (fs::remove(lock, ec) && !ec) ++removed;
  }
  return removed;
}

Status PushOnce(git_repository* repo, const std::string& remote, const std::vector<std::string>& specs_in,
                const std::string& what, const TransportOptions& o);
}  // namespace

Status PushRefs(git_repository* repo, const std::string& remote, const std::vector<std::string>& specs_in,
            const std::string& what, const TransportOptions& o) {
  if (!IsLocal(remote)) return PushOnce(repo, remote, specs_in, what, o);
  // A local remote: a worker killed mid-push leaves a ref's lock behind, and every later push
  // of that ref would fail. Wait out a lock that is in use; remove one that is stale.
  auto until = Clock::now() + kStaleLock + std::chrono::seconds(2);
  for (;;) {
    ClearStaleLocks(remote, specs_in);
    Status s = PushOnce(repo, remote, specs_in, what, o);
    if (s.ok() || s.message().find("failed to lock") == std::string::npos || Clock::now() > until) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

namespace {
Status PushOnce(git_repository* repo, const std::string& remote, const std::vector<std::string>& specs_in,
                const std::string& what, const TransportOptions& o) {
  Exchange x;
  SW_RETURN_IF_ERROR(x.Open(repo, remote, o).Annotate("pushing " + what));
  if (IsLocal(remote)) {
    std::vector<git_oid> tips;
    for (const auto& spec : specs_in) {
      std::string src = spec.substr(spec[0] == '+' ? 1 : 0, spec.find(':') - (spec[0] == '+' ? 1 : 0));
      git_oid oid;
      if (!src.empty() && git_reference_name_to_id(&oid, repo, src.c_str()) == 0) tips.push_back(oid);
      git_error_clear();
    }
    if (!tips.empty()) SW_RETURN_IF_ERROR(CheckPackSize(repo, &x, tips, what));
  }
  git_push_options po = GIT_PUSH_OPTIONS_INIT;
  po.callbacks = Callbacks(&x.guard);
  po.proxy_opts.type = GIT_PROXY_AUTO;
  std::vector<std::string> specs = specs_in;
  std::vector<char*> ptrs;
  for (auto& s : specs) ptrs.push_back(s.data());
  git_strarray arr = {ptrs.data(), ptrs.size()};
  int rc = git_remote_push(x.remote.get(), &arr, &po);
  if (rc != 0) return x.Fail("pushing " + what + " to", rc);
  if (!x.guard.rejected.empty())
    return Failed("the remote " + RedactRemote(remote) + " refused " + Join(x.guard.rejected, ", "));
  return Status::Ok();
}
}  // namespace

Result<std::vector<std::string>> ListRemoteRefs(git_repository* repo, const std::string& remote,
                                                const std::string& prefix, const TransportOptions& options) {
  Exchange x;
  SW_RETURN_IF_ERROR(x.Open(repo, remote, options).Annotate("listing " + prefix + "*"));
  git_remote_callbacks cb = Callbacks(&x.guard);
  git_proxy_options proxy = GIT_PROXY_OPTIONS_INIT;
  proxy.type = GIT_PROXY_AUTO;
  if (git_remote_connect(x.remote.get(), GIT_DIRECTION_PUSH, &cb, &proxy, nullptr) != 0)
    return x.Fail("listing " + prefix + "* on", -1);
  const git_remote_head** heads = nullptr;
  size_t n = 0;
  std::vector<std::string> out;
  int rc = git_remote_ls(&heads, &n, x.remote.get());
  for (size_t i = 0; rc == 0 && i < n; ++i)
    if (StartsWith(heads[i]->name, prefix)) out.push_back(heads[i]->name);
  if (rc != 0) return x.Fail("listing " + prefix + "* on", rc);
  git_remote_disconnect(x.remote.get());
  return out;
}

Status ValidateRemote(const std::string& remote) {
  auto bad = [&](const std::string& why) { return InvalidInput("invalid git remote " + Quote(RedactRemote(remote)) + ": " + why); };
  if (remote.empty()) return InvalidInput("no git remote given (a path or URL of a shared bare repository)");
  if (remote.size() > 4096) return bad("longer than 4096 characters");
  for (unsigned char c : remote)
    if (c < 0x20 || c == 0x7f) return bad("it contains a control character");
  if (remote[0] == '-') return bad("it may not start with '-'");
  RemoteParts p = Parse(remote);
  if (!p.scheme.empty()) {
    static const std::set<std::string> kSchemes{"file", "ssh", "git", "http", "https"};
    if (!kSchemes.count(p.scheme)) return bad("unsupported scheme " + Quote(p.scheme) + " (file, ssh, git, http, https)");
    if (remote.size() <= p.scheme.size() + 3) return bad("nothing after the scheme");
    return Status::Ok();
  }
  if (remote[0] == '/') return Status::Ok();
  if (p.scp) {
    // [user@]host:path, the host a name or an address: nothing a shell or an option could read.
    size_t colon = remote.find(':');
    size_t at = remote.rfind('@', colon);
    std::string host = remote.substr(at == std::string::npos ? 0 : at + 1, colon - (at == std::string::npos ? 0 : at + 1));
    bool ok = !host.empty() && colon + 1 < remote.size() && remote[colon + 1] != ':';
    for (char c : host) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_');
    if (!ok) return bad("not a [user@]host:path remote (the host: letters, digits, '.', '-', '_')");
    return Status::Ok();
  }
  return bad("a relative path means something else on every machine: give an absolute path or a file:// URL");
}

std::string RedactRemote(const std::string& remote) {
  RemoteParts p = Parse(remote);
  std::string out = remote;
  if (p.userinfo_at != std::string::npos) {
    std::string info = remote.substr(p.userinfo_at, p.userinfo_len);
    size_t colon = info.find(':');
    std::string shown = colon != std::string::npos ? info.substr(0, colon) + ":***" : IsHttp(p) ? "***" : info;
    out = remote.substr(0, p.userinfo_at) + shown + remote.substr(p.userinfo_at + p.userinfo_len);
  }
  if (IsHttp(p)) {
    size_t q = out.find_first_of("?#", p.scheme.size() + 3);
    if (q != std::string::npos) out = out.substr(0, q);
  }
  return out;
}

}  // namespace sw::dist
