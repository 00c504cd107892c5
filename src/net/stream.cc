#include "net/stream.h"

#include <cstring>

namespace sw::net {

bool SseParser::Feed(std::string_view bytes) {
  if (stopped_) return false;
  if (!started_) {
    // A UTF-8 byte order mark may open the stream (possibly split across pieces; rare enough
    // that we only strip it when it arrives whole).
    if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
    if (!bytes.empty()) started_ = true;
  }
  offset_ += bytes.size();
  if (skip_lf_ && !bytes.empty()) {
    if (bytes.front() == '\n') bytes.remove_prefix(1);
    skip_lf_ = false;
  }
  while (!bytes.empty()) {
    // Find the next line end (\n or \r) without scanning twice.
    const char* p = bytes.data();
    const char* end = p + bytes.size();
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', bytes.size()));
    const char* cr = static_cast<const char*>(std::memchr(p, '\r', (nl ? nl : end) - p));
    const char* eol = cr ? cr : nl;
    if (!eol) {
      partial_.append(bytes);
      return true;
    }
    std::string_view piece(p, eol - p);
    size_t consumed = eol - p + 1;
    if (eol == cr) {
      if (cr + 1 < end) {
        if (cr[1] == '\n') ++consumed;
      } else {
        skip_lf_ = true;  // the \n, if any, arrives with the next piece
      }
    }
    bool ok;
    if (partial_.empty()) {
      ok = Line(piece);
    } else {
      partial_.append(piece);
      std::string line = std::move(partial_);
      partial_.clear();
      ok = Line(line);
    }
    if (!ok) {
      stopped_ = true;
      return false;
    }
    bytes.remove_prefix(consumed);
  }
  return true;
}

bool SseParser::Line(std::string_view line) {
  if (line.empty()) {
    bool ok = true;
    if (has_data_) ok = fn_(event_, data_);
    event_.clear();
    data_.clear();
    has_data_ = false;
    return ok;
  }
  if (line.front() == ':') return true;  // comment / keep-alive
  std::string_view field = line, value;
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  }
  // "id" and "retry" steer browser reconnection; a model stream is never resumed, so ignore.
  return true;
}

bool LineParser::Feed(std::string_view bytes) {
  if (stopped_) return false;
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(bytes);
      return true;
    }
    std::string_view piece = bytes.substr(0, nl);
    bytes.remove_prefix(nl + 1);
    std::string joined;
    if (!partial_.empty()) {
      joined = std::move(partial_);
      partial_.clear();
      joined.append(piece);
      piece = joined;
    }
    if (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
    if (piece.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (!fn_(piece)) {
      stopped_ = true;
      return false;
    }
  }
  return true;
}

bool LineParser::Flush() {
  if (stopped_ || partial_.empty()) return !stopped_;
  std::string line = std::move(partial_);
  partial_.clear();
  if (line.find_first_not_of(" \t\r") == std::string::npos) return true;
  if (!fn_(line)) stopped_ = true;
  return !stopped_;
}

}  // namespace sw::net
