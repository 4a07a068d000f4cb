// Status and StatusOr<T>: the one error convention at the project's boundaries (flags, config
// files, log and spool reads, commands, the report). A failure is a value carrying a code and a
// one-line message meant for a person ("cannot open /var/log/exim_mainlog: Permission denied");
// nothing below main throws across a boundary. The shape follows absl::Status / StatusOr
// (std::expected is C++23 and clang-tidy 14 cannot parse libstdc++'s).
//
//   StatusOr<Config> c = ParseFlags(...);
//   if (!c.ok()) { Log(kError, c.status().message()); return 2; }
//   Use(*c);
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mailrelay {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // bad flag, bad config file, malformed input
  kNotFound,          // a file or command that does not exist
  kPermissionDenied,  // EACCES / EPERM
  kUnavailable,       // a transient failure: I/O error, command failed; retry later
  kDeadlineExceeded,  // a command or wait ran out of time
  kInternal,          // a bug or an unexpected exception caught at a boundary
};
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: <message>", "OK" when ok.
  std::string ToString() const;

  // The same status with "<prefix>: " in front of the message (OK stays OK).
  Status WithContext(std::string_view prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}
inline Status NotFound(std::string message) {
  return Status(StatusCode::kNotFound, std::move(message));
}
inline Status Unavailable(std::string message) {
  return Status(StatusCode::kUnavailable, std::move(message));
}
inline Status InternalError(std::string message) {
  return Status(StatusCode::kInternal, std::move(message));
}
inline Status DeadlineExceeded(std::string message) {
  return Status(StatusCode::kDeadlineExceeded, std::move(message));
}
// From an errno value: ENOENT -> kNotFound, EACCES/EPERM -> kPermissionDenied, else
// kUnavailable; the message is "<what>: <strerror(err)>".
Status ErrnoStatus(int err, std::string_view what);

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  // Implicit from a value and from a (non-OK) Status, so `return value;` and `return status;`
  // both work. An OK Status without a value is a bug; it becomes kInternal.
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  StatusOr(Status status)                          // NOLINT(google-explicit-constructor)
      : status_(status.ok() ? InternalError("StatusOr built from an OK status")
                            : std::move(status)) {}

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const& { return *value_; }
  T& operator*() & { return *value_; }
  T&& operator*() && { return std::move(*value_); }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }

 private:
  Status status_;  // OK when value_ holds a value
  std::optional<T> value_;
};

}  // namespace mailrelay
