// The commands a mail admin runs against one account's queued Exim mail, every argument quoted
// for sh. Only documented options of Exim's own tools are used: exipick (exim4-base) with
// criteria on spool variables, `$authenticated_id` (the -auth_id of SMTP AUTH mail) and
// `$sender_ident` (the login of a local submission), -i ids, -bpc count, --or, --spool DIR;
// exiqgrep -f regex on the "<sender>" field (case-insensitive), -z frozen only, -i ids;
// exim -Mf freeze, -Mt thaw, -Mvc show, -Mrm remove. exiqgrep has no option for the
// authenticated id, hence exipick for that.
#pragma once

#include <string>
#include <string_view>

#include "mta/mta_module.h"

namespace mailrelay::exim {

// A Perl regular expression matching `text` literally (exiqgrep -f).
std::string PerlRegexLiteral(std::string_view text);

// The inside of the double-quoted value of an exipick `eq "..."` criterion holding `text`:
// \ " $ escaped. exipick evaluates it as a Perl string after backslashing every '@' itself, so
// '@' is left alone (a "\@" of ours would become a literal backslash).
std::string ExipickStringLiteral(std::string_view text);

// `spool_root`: the spool directory for exipick --spool, "" to leave it out.
ActionPlan SuggestActions(const ActionRequest& request, const std::string& spool_root);

}  // namespace mailrelay::exim
