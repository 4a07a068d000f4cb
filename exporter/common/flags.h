// FlagSet: the one declarative flag table of every subcommand (exporter, report, respond). Each
// layer and each MTA module declares its flags with a target variable, a default, a help text
// and the subcommands that take it; parsing, `--help` and the README's flags table (checked by
// tests/lint/readme_flags_check.sh against --help) all come from the same list.
//
// Syntax, node_exporter style: `--name=value` or `--name value`; booleans also `--name` and
// `--no-name`. A flag of another subcommand is refused with a message that says so.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace mailrelay {

// Which subcommands take a flag (a bit set).
enum FlagScope : unsigned {
  kExporterScope = 1u,  // mailrelay_exporter [flags]
  kReportScope = 2u,    // mailrelay_exporter report
  kRespondScope = 4u,   // mailrelay_exporter respond
  kAllScopes = 7u,
};
std::string_view ScopeCommand(FlagScope scope);  // "", "report", "respond"

struct Flag {
  std::string name;          // without the leading "--"
  std::string default_text;  // shown in --help; "" for none
  std::string help;
  unsigned scopes = kExporterScope;
  bool is_bool = false;
  // Stores a value (already split from the name); a non-OK status explains a bad value.
  std::function<Status(const std::string& value)> set;
};

class FlagSet {
 public:
  // Typed declarations. Each target holds the flag's default when declared; `default_text`
  // overrides what --help shows (e.g. "autodetect").
  void String(std::string name, std::string* target, std::string help, unsigned scopes,
              std::string default_text = {});
  // A string that must not be empty.
  void Path(std::string name, std::string* target, std::string help, unsigned scopes,
            std::string default_text = {});
  void Choice(std::string name, std::string* target, std::vector<std::string> choices,
              std::string help, unsigned scopes);
  void Bool(std::string name, bool* target, std::string help, unsigned scopes);
  // A duration (`250ms`, `10s`, `2h`, `1h30m`) within [min, max] seconds.
  void Duration(std::string name, double* seconds, std::string default_text, std::string help,
                unsigned scopes, double min_seconds, double max_seconds);
  // The same, stored in whole milliseconds (at least 1).
  void DurationMs(std::string name, int* milliseconds, std::string default_text, std::string help,
                  unsigned scopes, double min_seconds, double max_seconds);
  // An unsigned integer within [min, max].
  template <typename T>
  void Uint(std::string name, T* target, std::string help, unsigned scopes, std::uint64_t min,
            std::uint64_t max) {
    UintStore(
        std::move(name), static_cast<std::uint64_t>(*target),
        [target](std::uint64_t v) { *target = static_cast<T>(v); }, std::move(help), scopes, min,
        max);
  }
  void Add(Flag flag);
  // A different default for an already declared flag (a subcommand whose default differs,
  // e.g. respond's listen address): stores `value` as if parsed, and --help shows it. The flag
  // does not count as Given().
  Status SetDefault(std::string_view name, const std::string& value);

  // Parses argv[first..argc) for subcommand `scope`. Stops at the first error.
  Status Parse(int argc, const char* const* argv, FlagScope scope, int first = 1);

  // Whether a flag was given on the command line (after Parse).
  bool Given(std::string_view name) const;

  const std::vector<Flag>& flags() const { return flags_; }
  const Flag* Find(std::string_view name) const;

  // "  --name=default\n      help\n" for every flag of `scope`, in declaration order.
  // With `filter`, only the flags it accepts.
  std::string Help(FlagScope scope, const std::function<bool(const Flag&)>& filter = {}) const;
  // A subcommand's flag sections: "Flags:" with those only `scope` takes, then the ones it
  // shares with the exporter ("see PROGRAM --help").
  std::string SubcommandHelp(FlagScope scope, std::string_view program) const;

 private:
  void UintStore(std::string name, std::uint64_t current, std::function<void(std::uint64_t)> store,
                 std::string help, unsigned scopes, std::uint64_t min, std::uint64_t max);

  std::vector<Flag> flags_;
  std::vector<std::string> given_;
};

}  // namespace mailrelay
