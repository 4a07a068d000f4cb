#include "mta/exim/actions.h"

#include "common/text.h"

namespace mailrelay::exim {

std::string PerlRegexLiteral(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}/#").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string ExipickStringLiteral(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"' || c == '$') out += '\\';
    out += c;
  }
  return out;
}

namespace {

void AddSenderActions(const ActionRequest& in, ActionPlan* o) {
  std::string select = "exiqgrep -i -f " + ShellQuote("^<" + PerlRegexLiteral(in.sender) + ">$");
  o->commands.push_back(
      {"count the queued messages of envelope sender " + in.sender,
       "exiqgrep -c -f " + ShellQuote("^<" + PerlRegexLiteral(in.sender) + ">$")});
  o->commands.push_back({"freeze them (delivery stops, the evidence stays; exim -Mt thaws)",
                         select + " | xargs -r exim -Mf"});
  o->commands.push_back({"look at one of them before removing anything",
                         select + " | head -n 1 | xargs -r exim -Mvc"});
  o->commands.push_back({"remove them", select + " | xargs -r exim -Mrm"});
}

void AddIdentityActions(const ActionRequest& in, const std::string& spool_root, ActionPlan* o) {
  std::string exipick = "exipick";
  if (!spool_root.empty()) exipick += " --spool " + ShellQuote(spool_root);
  std::string value = "\"" + ExipickStringLiteral(in.identity) + "\"";
  std::string criteria;
  std::string whose;
  if (in.kind == "auth_user") {
    criteria = ShellQuote("$authenticated_id eq " + value);
    whose = "authenticated as " + in.identity;
  } else if (in.kind == "local_user") {
    criteria = ShellQuote("$sender_ident eq " + value) + " " + ShellQuote("!$sender_host_address");
    whose = "submitted locally by " + in.identity;
  } else {
    criteria = "--or " + ShellQuote("$authenticated_id eq " + value) + " " +
               ShellQuote("$sender_ident eq " + value);
    whose = "owned by " + in.identity + " (auth id or local user)";
  }
  std::string ids = exipick + " -i " + criteria;
  o->commands.push_back({"count the queued messages " + whose, exipick + " -bpc " + criteria});
  o->commands.push_back({"freeze them (delivery stops, the evidence stays; exim -Mt thaws)",
                         ids + " | xargs -r exim -Mf"});
  if (!in.sender.empty() && IsPrintableText(in.sender)) {
    o->commands.push_back(
        {"or freeze by envelope sender " + in.sender + " (also mail others sent as it)",
         "exiqgrep -i -f " + ShellQuote("^<" + PerlRegexLiteral(in.sender) + ">$") +
             " | xargs -r exim -Mf"});
  }
  o->commands.push_back(
      {"look at one of them before removing anything", ids + " | head -n 1 | xargs -r exim -Mvc"});
  o->commands.push_back({"remove them", ids + " | xargs -r exim -Mrm"});
}

}  // namespace

ActionPlan SuggestActions(const ActionRequest& request, const std::string& spool_root) {
  ActionPlan plan;
  if (!IsPrintableText(request.identity)) {
    plan.note = "the identity holds control or non-UTF-8 bytes: no command printed";
    return plan;
  }
  if (request.kind == "queue_sender") {
    AddSenderActions(request, &plan);
  } else {
    AddIdentityActions(request, spool_root, &plan);
  }
  plan.commands.push_back({"remove the frozen bounces (null sender)",
                           "exiqgrep -z -i -f " + ShellQuote("^<>$") + " | xargs -r exim -Mrm"});
  return plan;
}

}  // namespace mailrelay::exim
