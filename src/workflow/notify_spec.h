// NotifyTarget: one webhook of a workflow's (or specwright.yaml's) `notify:` list. Parsed here
// so the workflow loader and the config reader (src/notify) share one reading; delivered by
// src/notify. Secrets never live here: `secret: ${NAME}` keeps the variable's name, and
// `${NAME}` in the URL or a header value is expanded only when a delivery is made.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace YAML {
class Node;
}

namespace sw::workflow {

struct Diagnostic;

/// The events a target may ask for, in the order they are documented.
const std::vector<std::string>& NotifyEvents();

struct NotifyTarget {
  std::string url;                 // as written; may hold ${NAME} (expanded at send time)
  std::vector<std::string> on;     // subset of NotifyEvents(); default all
  std::string secret_env;          // NAME of `secret: ${NAME}`; "" = unsigned
  std::vector<std::pair<std::string, std::string>> headers;  // values may hold ${NAME}
  bool allow_private = false;      // private ranges, link-local and metadata addresses
  double timeout = 10;             // seconds per attempt
  int attempts = 5;                // tries in all (1 = no retry)
  std::string where;               // file:line:col of the entry, for messages

  bool Wants(const std::string& event) const;
};

/// NotifyUrl is an http(s) URL taken apart (host without brackets; port filled from the scheme).
struct NotifyUrl {
  std::string scheme, userinfo, host, path, query;
  int port = 0;
  bool ipv6_literal = false;
};
/// ParseNotifyUrl takes a webhook URL apart: http/https only, a host of the characters curl
/// takes as they are (letters, digits, '-', '.', '_'; an IPv6 literal in brackets), a port
/// 1..65535. Messages never repeat the URL. Used at load time (a literal URL, or the scheme and
/// host of a template whose ${NAME} parts are only in the path or query) and at send time.
Result<NotifyUrl> ParseNotifyUrl(const std::string& url);

/// ParseNotify reads a `notify:` value (a list of targets, or one target as a map, or one URL
/// string). Problems are appended to *errors with the file and the node's position.
std::vector<NotifyTarget> ParseNotify(const YAML::Node& node, const std::string& file,
                                      std::vector<Diagnostic>* errors);

}  // namespace sw::workflow
