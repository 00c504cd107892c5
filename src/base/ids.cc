#include "base/ids.h"

#include "base/strings.h"

#include <cstdio>
#include <ctime>
#include <random>

namespace sw {
namespace {
bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}
}  // namespace

std::string NewRunId(double wall_seconds) {
  std::time_t t = static_cast<std::time_t>(wall_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static thread_local std::mt19937 rng(std::random_device{}());
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d%02d%02d-%02d%02d%02d-%06x", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(rng() & 0xffffff));
  return buf;
}

Status ValidateRunId(std::string_view id) {
  if (id.empty() || id.size() > 128 || id == "." || id == "..")
    return InvalidInput("invalid run id " + Quote(id));
  for (char c : id)
    if (!IsNameChar(c)) return InvalidInput("invalid run id " + Quote(id) + ": only letters, digits, '.', '_' and '-'");
  // A run id names its git ref (refs/specwright/...), so git's ref-name rules apply too, and
  // a leading '-' would read as an option.
  auto bad = [&](const char* why) { return InvalidInput("invalid run id " + Quote(id) + ": " + why); };
  if (id.front() == '.') return bad("it may not start with '.'");
  if (id.front() == '-') return bad("it may not start with '-'");
  if (id.back() == '.') return bad("it may not end with '.'");
  if (id.find("..") != std::string_view::npos) return bad("it may not contain \"..\"");
  if (id.size() >= 5 && id.substr(id.size() - 5) == ".lock") return bad("it may not end with \".lock\"");
  return Status::Ok();
}

Status ValidateArtifactName(std::string_view name) {
  auto bad = [&](const std::string& why) { return InvalidInput("invalid artifact name " + Quote(name) + ": " + why); };
  if (name.empty()) return bad("empty");
  if (name.size() > 255) return bad("longer than 255 characters");
  if (name.front() == '/') return bad("absolute paths are not allowed");
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view seg = name.substr(start, end - start);
    if (seg.empty()) return bad("empty path segment");
    if (seg == "." || seg == "..") return bad("'.' and '..' segments are not allowed");
    for (char c : seg)
      if (!IsNameChar(c)) return bad("only letters, digits, '.', '_', '-' and '/' are allowed");
    start = end + 1;
  }
  return Status::Ok();
}

Status ValidateNodeId(std::string_view id) {
  auto bad = [&] {
    return InvalidInput("invalid node id " + Quote(id) +
                        ": use a letter or '_' followed by letters, digits, '_' or '-' (max 64)");
  };
  if (id.empty() || id.size() > 64) return bad();
  char f = id[0];
  if (!((f >= 'a' && f <= 'z') || (f >= 'A' && f <= 'Z') || f == '_')) return bad();
  for (char c : id)
    if (!(IsNameChar(c) && c != '.')) return bad();
  return Status::Ok();
}

}  // namespace sw
