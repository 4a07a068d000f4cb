#include "common/flags.h"

#include <algorithm>
#include <sstream>

#include "common/text.h"

namespace mailrelay {

namespace {

Status BadValue(const std::string& value, const std::string& name, std::string_view why = {}) {
  std::string message = "invalid value '" + value + "' for flag --" + name;
  if (!why.empty()) {
    message += " (";
    message += why;
    message += ")";
  }
  return InvalidArgument(std::move(message));
}

bool ParseBoolText(const std::string& v, bool* out) {
  if (v == "true" || v == "1" || v == "yes") {
    *out = true;
  } else if (v == "false" || v == "0" || v == "no") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

std::string FormatSeconds(double s) {
  std::ostringstream out;
  out << s;
  return out.str();
}

}  // namespace

std::string_view ScopeCommand(FlagScope scope) {
  switch (scope) {
    case kReportScope:
      return "report";
    case kRespondScope:
      return "respond";
    default:
      return "";
  }
}

void FlagSet::Add(Flag flag) { flags_.push_back(std::move(flag)); }

void FlagSet::String(std::string name, std::string* target, std::string help, unsigned scopes,
                     std::string default_text) {
  if (default_text.empty()) default_text = *target;
  Add({std::move(name), std::move(default_text), std::move(help), scopes, false,
       [target](const std::string& v) {
         *target = v;
         return Status::Ok();
       }});
}

void FlagSet::Path(std::string name, std::string* target, std::string help, unsigned scopes,
                   std::string default_text) {
  if (default_text.empty()) default_text = *target;
  std::string flag_name = name;
  Add({std::move(name), std::move(default_text), std::move(help), scopes, false,
       [target, flag_name](const std::string& v) {
         if (v.empty()) return BadValue(v, flag_name, "empty");
         *target = v;
         return Status::Ok();
       }});
}

void FlagSet::Choice(std::string name, std::string* target, std::vector<std::string> choices,
                     std::string help, unsigned scopes) {
  std::string flag_name = name;
  std::string default_text = *target;
  Add({std::move(name), std::move(default_text), std::move(help), scopes, false,
       [target, flag_name, choices = std::move(choices)](const std::string& v) {
         if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
           std::string allowed;
           for (const auto& c : choices) allowed += (allowed.empty() ? "" : ", ") + c;
           return BadValue(v, flag_name, "one of: " + allowed);
         }
         *target = v;
         return Status::Ok();
       }});
}

void FlagSet::Bool(std::string name, bool* target, std::string help, unsigned scopes) {
  std::string flag_name = name;
  Add({std::move(name), *target ? "true" : "false", std::move(help), scopes, true,
       [target, flag_name](const std::string& v) {
         return ParseBoolText(v, target) ? Status::Ok() : BadValue(v, flag_name);
       }});
}

void FlagSet::Duration(std::string name, double* seconds, std::string default_text,
                       std::string help, unsigned scopes, double min_seconds, double max_seconds) {
  std::string flag_name = name;
  Add({std::move(name), std::move(default_text), std::move(help), scopes, false,
       [=](const std::string& v) {
         double s = 0;
         if (!ParseDurationSeconds(v, &s)) return BadValue(v, flag_name, "not a duration");
         if (s < min_seconds || s > max_seconds) {
           return BadValue(v, flag_name,
                           "between " + FormatSeconds(min_seconds) + "s and " +
                               FormatSeconds(max_seconds) + "s");
         }
         *seconds = s;
         return Status::Ok();
       }});
}

void FlagSet::DurationMs(std::string name, int* milliseconds, std::string default_text,
                         std::string help, unsigned scopes, double min_seconds,
                         double max_seconds) {
  std::string flag_name = name;
  Add({std::move(name), std::move(default_text), std::move(help), scopes, false,
       [=](const std::string& v) {
         double s = 0;
         if (!ParseDurationSeconds(v, &s)) return BadValue(v, flag_name, "not a duration");
         if (s < min_seconds || s > max_seconds || s <= 0) {
           return BadValue(v, flag_name,
                           "above " + FormatSeconds(min_seconds) + "s, at most " +
                               FormatSeconds(max_seconds) + "s");
         }
         *milliseconds = std::max(1, static_cast<int>(s * 1000));
         return Status::Ok();
       }});
}

void FlagSet::UintStore(std::string name, std::uint64_t current,
                        std::function<void(std::uint64_t)> store, std::string help, unsigned scopes,
                        std::uint64_t min, std::uint64_t max) {
  std::string flag_name = name;
  Add({std::move(name), std::to_string(current), std::move(help), scopes, false,
       [=](const std::string& v) {
         std::uint64_t n = 0;
         if (!ParseUint64(v, &n)) return BadValue(v, flag_name, "not a whole number");
         if (n < min || n > max) {
           return BadValue(v, flag_name,
                           "from " + std::to_string(min) + " to " + std::to_string(max));
         }
         store(n);
         return Status::Ok();
       }});
}

const Flag* FlagSet::Find(std::string_view name) const {
  for (const auto& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Status FlagSet::SetDefault(std::string_view name, const std::string& value) {
  for (auto& f : flags_) {
    if (f.name != name) continue;
    if (Status s = f.set(value); !s.ok()) return s;
    f.default_text = value;
    return Status::Ok();
  }
  return InternalError("no flag --" + std::string(name));
}

bool FlagSet::Given(std::string_view name) const {
  return std::find(given_.begin(), given_.end(), name) != given_.end();
}

Status FlagSet::Parse(int argc, const char* const* argv, FlagScope scope, int first) {
  std::string command(ScopeCommand(scope));
  std::string see = command.empty() ? "see --help" : "see " + command + " --help";
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h") arg = "--help";
    if (arg.rfind("--", 0) != 0) {
      return InvalidArgument("unexpected argument '" + arg + "' (flags start with --; " + see +
                             ")");
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const Flag* flag = Find(name);
    bool negated = false;
    if (flag == nullptr && name.rfind("no-", 0) == 0) {
      const Flag* base = Find(name.substr(3));
      if (base != nullptr && base->is_bool) {
        flag = base;
        negated = true;
      }
    }
    if (flag == nullptr) return InvalidArgument("unknown flag --" + name + " (" + see + ")");
    if ((flag->scopes & scope) == 0) {
      std::string owner = "another command's";
      if ((flag->scopes & kExporterScope) != 0) owner = "an exporter";
      return InvalidArgument("--" + flag->name + " is " + owner + " flag that " +
                             (command.empty() ? std::string("the exporter") : command) +
                             " does not take (" + see + ")");
    }
    if (flag->is_bool) {
      if (negated) {
        if (has_value) return InvalidArgument("--" + name + " takes no value");
        value = "false";
      } else if (!has_value) {
        value = "true";
      }
    } else if (!has_value) {
      if (i + 1 >= argc) return InvalidArgument("flag --" + name + " needs a value");
      value = argv[++i];
    }
    if (Status s = flag->set(value); !s.ok()) return s;
    given_.push_back(flag->name);
  }
  return Status::Ok();
}

std::string FlagSet::SubcommandHelp(FlagScope scope, std::string_view program) const {
  unsigned only = static_cast<unsigned>(scope);
  std::string out = "Flags:\n";
  out += Help(scope, [only](const Flag& f) { return f.scopes == only; });
  out += "\nFlags shared with the exporter (same meaning; see ";
  out += program;
  out += " --help):\n";
  out += Help(scope, [only](const Flag& f) { return f.scopes != only; });
  return out;
}

std::string FlagSet::Help(FlagScope scope, const std::function<bool(const Flag&)>& filter) const {
  std::string out;
  for (const auto& f : flags_) {
    if ((f.scopes & scope) == 0 || (filter && !filter(f))) continue;
    std::string left = "  --" + f.name;
    if (!f.default_text.empty() && !(f.is_bool && f.default_text == "false") && f.name != "help" &&
        f.name != "version") {
      left += "=" + f.default_text;
    }
    out += left + "\n      " + f.help + "\n";
  }
  return out;
}

}  // namespace mailrelay
