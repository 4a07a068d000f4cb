// Minimal structured logger: one logfmt line per call on stderr.
//
//   MR_LOG(kInfo, "opened log", {{"path", path}, {"offset", std::to_string(off)}});
//
// Thread-safe. The level is process-wide and set once from --log.level.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace mailrelay {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug", "info", "warn", "error". Returns false on anything else.
bool ParseLogLevel(std::string_view text, LogLevel* out);
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

using LogField = std::pair<std::string_view, std::string_view>;
void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

// Quotes a value for logfmt when it contains spaces, quotes, '=' or control bytes.
std::string LogfmtValue(std::string_view value);

}  // namespace mailrelay
