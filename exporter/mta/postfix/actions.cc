#include "mta/postfix/actions.h"

#include <algorithm>

#include "common/text.h"
#include "mta/postfix/log_parser.h"  // IsPostfixQueueId

namespace mailrelay::postfix {

namespace {

ActionPlan SenderActions(const ActionRequest& in) {
  ActionPlan o;
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

}  // namespace

ActionPlan OwnerActions(const OwnerQueue& queue) {
  ActionPlan out;
  std::vector<std::string> ids;
  std::size_t rejected = 0;
  for (const std::string& id : queue.queue_ids) {
    if (IsPostfixQueueId(id)) {
      ids.push_back(id);
    } else {
      ++rejected;
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (rejected > 0) {
    out.note = std::to_string(rejected) + " name(s) that are not Postfix queue ids left out. ";
  }
  if (ids.empty()) {
    out.note += "no queued message of " + queue.owner + " to act on";
    return out;
  }
  std::string config;
  if (!queue.config_directory.empty()) config = " -c " + ShellQuote(queue.config_directory);
  // Queue ids are [A-Za-z0-9_]: safe for sh as they are.
  std::string list = "printf '%s\\n'";
  for (const std::string& id : ids) list += " " + id;
  std::string whose = std::to_string(ids.size()) + " queued message" +
                      (ids.size() == 1 ? "" : "s") + " of " + queue.owner;
  out.commands.push_back({"the queue ids of the " + whose, list});
  out.commands.push_back(
      {"look at one of them before changing anything", "postcat" + config + " -q " + ids[0]});
  out.commands.push_back({"hold them (delivery stops, nothing is lost; the next command releases)",
                          list + " | postsuper" + config + " -h -"});
  out.commands.push_back({"release them from hold", list + " | postsuper" + config + " -H -"});
  out.commands.push_back({"delete them", list + " | postsuper" + config + " -d -"});
  out.note +=
      "queue ids as read at the scan; with short queue ids (enable_long_queue_ids = no, the "
      "default) Postfix may give a delivered message's id to a new message";
  return out;
}

ActionPlan SuggestActions(const ActionRequest& request, const std::string& config_directory) {
  if (!IsPrintableText(request.identity)) {
    ActionPlan plan;
    plan.note = "the identity holds control or non-UTF-8 bytes: no command printed";
    return plan;
  }
  if (!request.queue_ids.empty()) {
    return OwnerActions({request.identity, request.queue_ids, config_directory});
  }
  return SenderActions(request);
}

}  // namespace mailrelay::postfix
