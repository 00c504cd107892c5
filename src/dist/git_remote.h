// git_remote: one bounded push or fetch between a local repository and the shared bare
// repository a run's workspace travels through (git_transport.h), and what may be named and
// printed of that remote. libgit2 only; the remote is anonymous (no config is written).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

struct git_repository;

namespace sw::dist {

/// TransportOptions bound every exchange with the remote (one push or one fetch).
struct TransportOptions {
  /// Wall-clock seconds a push or fetch may take. libgit2 1.5 checks it at each progress,
  /// credential and certificate callback (so a transfer that moves data is cut off; a server
  /// that sends nothing at all is cut by the OS's TCP timeouts); from libgit2 1.7 the
  /// connection's own connect/read timeouts are set to it as well (a process-wide setting).
  double timeout_seconds = 600;
  /// Bytes a fetch may receive or a push may send (the pack); past it the transfer stops.
  /// A push to a local remote (path, file://) is measured before it starts: libgit2's local
  /// push reports no byte counts.
  int64_t max_transfer_bytes = int64_t{1} << 30;
};

/// ValidateRemote accepts a remote a worker anywhere can reach: an absolute local path, a
/// file://, ssh://, git://, http:// or https:// URL, or scp-like [user@]host:path. Relative
/// paths, empty strings, control characters and leading '-' are refused.
Status ValidateRemote(const std::string& remote);

/// RedactRemote is the remote fit to print: "https://u:pw@h/r.git" -> "https://u:***@h/r.git",
/// "https://TOKEN@h/r.git" -> "https://***@h/r.git" (a token sent as the user), queries
/// dropped; ssh users (no secret) and paths are kept.
std::string RedactRemote(const std::string& remote);

/// FetchRef brings `ref` (and what it needs) from the remote into the same ref of repo
/// (forced), then checks that it names the commit `want`: NotFound when the remote has no
/// such ref. Errors name the ref and the remote (redacted): kTimeout past the deadline,
/// kFailed past the byte cap, kPermission when authentication failed, kUnavailable otherwise.
Status FetchRef(git_repository* repo, const std::string& remote, const std::string& ref, const std::string& want,
                const TransportOptions& options);

/// PushRefs pushes refspecs ("src:dst", ":dst" deletes) and fails when the remote refuses
/// any of them; `what` names them in errors.
Status PushRefs(git_repository* repo, const std::string& remote, const std::vector<std::string>& refspecs,
                const std::string& what, const TransportOptions& options);

/// ListRemoteRefs lists the remote's refs whose names start with prefix.
Result<std::vector<std::string>> ListRemoteRefs(git_repository* repo, const std::string& remote,
                                                const std::string& prefix, const TransportOptions& options);

}  // namespace sw::dist
