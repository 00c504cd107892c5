// Incremental framers for streamed HTTP bodies (model responses, MCP): Server-Sent Events (OpenAI, Anthropic,
// Gemini) and newline-delimited JSON (Ollama). Both accept bytes in arbitrary pieces — a
// network read may end in the middle of a line, or between the \r and \n of one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace sw::net {

/// SseParser follows the WHATWG event-stream rules: lines end in \r\n, \n or \r; "data"
/// lines of one event join with \n; a blank line dispatches; ":" lines are comments; a
/// leading BOM is skipped. Events with no data are not dispatched.
class SseParser {
 public:
  /// on_event(event_type, data); event_type is "" when the event named none. Return false to stop.
  using EventFn = std::function<bool(std::string_view event, std::string_view data)>;
  explicit SseParser(EventFn fn) : fn_(std::move(fn)) {}
  /// Feed returns false once the handler has asked to stop.
  bool Feed(std::string_view bytes);
  /// Bytes consumed so far (for error messages that point into the stream).
  uint64_t offset() const { return offset_; }

 private:
  bool Line(std::string_view line);
  EventFn fn_;
  std::string partial_;  // an unfinished line carried between Feeds
  std::string event_;
  std::string data_;
  bool has_data_ = false;
  bool skip_lf_ = false;  // the previous piece ended in \r; a leading \n belongs to it
  bool started_ = false;
  bool stopped_ = false;
  uint64_t offset_ = 0;
};

/// LineParser splits newline-delimited records (NDJSON); blank lines are skipped and a final
/// unterminated line is delivered by Flush.
class LineParser {
 public:
  using LineFn = std::function<bool(std::string_view line)>;
  explicit LineParser(LineFn fn) : fn_(std::move(fn)) {}
  bool Feed(std::string_view bytes);
  bool Flush();

 private:
  LineFn fn_;
  std::string partial_;
  bool stopped_ = false;
};

}  // namespace sw::net
