// Status and Result<T>: errors are values across module boundaries (leveldb style).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace sw {

/// Code says what kind of failure; the CLI maps kinds to exit codes.
enum class Code {
  kOk = 0,
  kInvalidInput,   // bad user input: workflow, flag, path (exit 2)
  kNotFound,
  kFailed,         // a run or node failed (exit 1)
  kCancelled,      // exit 130
  kBudget,         // a budget or call cap stopped work
  kTimeout,
  kUnavailable,    // transient: retry may help
  kInternal,
  kIo,
  kPermission,     // refused: outside what the caller may touch
};

/// Status carries a code and a human message; ok() is the common case and is cheap.
class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  /// Prefixes context, e.g. Annotate("loading flow.yaml").
  Status Annotate(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidInput(std::string m) { return Status(Code::kInvalidInput, std::move(m)); }
inline Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
inline Status Failed(std::string m) { return Status(Code::kFailed, std::move(m)); }
inline Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }
inline Status IoError(std::string m) { return Status(Code::kIo, std::move(m)); }

/// Result<T> holds either a value or a non-ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace sw

#define SW_RETURN_IF_ERROR(expr)          \
  do {                                    \
    ::sw::Status _sw_s = (expr);          \
    if (!_sw_s.ok()) return _sw_s;        \
  } while (0)

#define SW_CONCAT_INNER(a, b) a##b
#define SW_CONCAT(a, b) SW_CONCAT_INNER(a, b)
#define SW_ASSIGN_OR_RETURN(lhs, expr) SW_ASSIGN_OR_RETURN_IMPL(SW_CONCAT(_sw_r, __LINE__), lhs, expr)
#define SW_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
