#include "mta/postfix/actions.h"

#include "common/text.h"

namespace mailrelay::postfix {

ActionPlan SuggestActions(const ActionRequest& in) {
  ActionPlan o;
  if (!IsPrintableText(in.identity)) {
    o.note = "the identity holds control or non-UTF-8 bytes: no command printed";
    return o;
  }
  if (in.sender.empty() || !IsPrintableText(in.sender)) {
    o.note =
        "no envelope sender known for " + in.identity + ": postqueue -j selects by sender only";
    return o;
  }
  std::string ids = "postqueue -j | jq -r --arg s " + ShellQuote(in.sender) + " " +
                    ShellQuote("select(.sender == $s) | .queue_id");
  o.commands.push_back({"list the queued messages of envelope sender " + in.sender +
                            " (postqueue -j has no SASL user)",
                        ids});
  o.commands.push_back(
      {"hold them (Postfix's freeze; postsuper -H - releases)", ids + " | postsuper -h -"});
  o.commands.push_back(
      {"look at one of them before deleting anything", ids + " | head -n 1 | xargs -r postcat -q"});
  o.commands.push_back({"delete them", ids + " | postsuper -d -"});
  o.commands.push_back(
      {"delete the bounces (null sender)",
       "postqueue -j | jq -r " +
           ShellQuote("select(.sender == \"\" or .sender == \"MAILER-DAEMON\") | .queue_id") +
           " | postsuper -d -"});
  return o;
}

}  // namespace mailrelay::postfix
