// The commands a mail admin runs against the top offender's queued mail, with every argument
// quoted for sh. Only documented options of the MTAs' own tools are used:
//   Exim    exipick (exim4-base): criteria on spool variables, `$authenticated_id` (the -auth_id
//           of SMTP AUTH mail) and `$sender_ident` (the login of a local submission), -i ids,
//           -bpc count, --or, --spool DIR; exiqgrep: -f regex on the "<sender>" field
//           (case-insensitive), -z frozen only, -i ids; exim -Mf freeze, -Mrm remove.
//           exiqgrep has no option for the authenticated id, hence exipick for that.
//   Postfix postqueue -j piped through jq (the queue has no SASL user: select by envelope
//           sender), postsuper -h - hold (Postfix's freeze), -H - release, -d - delete.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "report/report_data.h"

namespace mailrelay::report {

// 'text' for sh: single quotes, a single quote written as '\''.
std::string ShellQuote(std::string_view text);

// A Perl regular expression matching `text` literally (exiqgrep -f).
std::string PerlRegexLiteral(std::string_view text);

// The inside of the double-quoted value of an exipick `eq "..."` criterion holding `text`:
// \ " $ escaped. exipick evaluates it as a Perl string after backslashing every '@' itself, so
// '@' is left alone (a "\@" of ours would become a literal backslash).
std::string ExipickStringLiteral(std::string_view text);

struct ActionInput {
  std::string mta;         // "exim" or "postfix"
  std::string identity;    // raw bytes as logged
  std::string kind;        // "auth_user", "local_user" or "queue_owner"
  std::string sender;      // raw; "" when unknown
  std::string spool_root;  // Exim spool directory for exipick --spool; "" to leave it out
};

// Fills offender->commands (or offender->note when no safe command can be written, e.g. an
// identity with control bytes or quotes that exipick cannot take).
void AddActions(const ActionInput& input, Offender* offender);

}  // namespace mailrelay::report
