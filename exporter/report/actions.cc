#include "report/actions.h"

#include <algorithm>

#include "common/text.h"

namespace mailrelay::report {

std::string ShellQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

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

// Bytes a command line can carry unchanged: printable, valid UTF-8, no control bytes.
bool Printable(std::string_view s) { return !s.empty() && SanitizeLabelValue(s, s.size()) == s; }

void AddEximSenderActions(const ActionInput& in, Offender* o) {
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

void AddEximActions(const ActionInput& in, Offender* o) {
  if (in.kind == "queue_sender") {
    AddEximSenderActions(in, o);
  } else {
    std::string exipick = "exipick";
    if (!in.spool_root.empty()) exipick += " --spool " + ShellQuote(in.spool_root);
    std::string value = "\"" + ExipickStringLiteral(in.identity) + "\"";
    std::string criteria;
    std::string whose;
    if (in.kind == "auth_user") {
      criteria = ShellQuote("$authenticated_id eq " + value);
      whose = "authenticated as " + in.identity;
    } else if (in.kind == "local_user") {
      criteria =
          ShellQuote("$sender_ident eq " + value) + " " + ShellQuote("!$sender_host_address");
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
    if (!in.sender.empty() && Printable(in.sender)) {
      o->commands.push_back(
          {"or freeze by envelope sender " + in.sender + " (also mail others sent as it)",
           "exiqgrep -i -f " + ShellQuote("^<" + PerlRegexLiteral(in.sender) + ">$") +
               " | xargs -r exim -Mf"});
    }
    o->commands.push_back({"look at one of them before removing anything",
                           ids + " | head -n 1 | xargs -r exim -Mvc"});
    o->commands.push_back({"remove them", ids + " | xargs -r exim -Mrm"});
  }
  o->commands.push_back({"remove the frozen bounces (null sender)",
                         "exiqgrep -z -i -f " + ShellQuote("^<>$") + " | xargs -r exim -Mrm"});
}

void AddPostfixActions(const ActionInput& in, Offender* o) {
  if (in.sender.empty() || !Printable(in.sender)) {
    o->note =
        "no envelope sender known for " + in.identity + ": postqueue -j selects by sender only";
    return;
  }
  std::string ids = "postqueue -j | jq -r --arg s " + ShellQuote(in.sender) + " " +
                    ShellQuote("select(.sender == $s) | .queue_id");
  o->commands.push_back({"list the queued messages of envelope sender " + in.sender +
                             " (postqueue -j has no SASL user)",
                         ids});
  o->commands.push_back(
      {"hold them (Postfix's freeze; postsuper -H - releases)", ids + " | postsuper -h -"});
  o->commands.push_back(
      {"look at one of them before deleting anything", ids + " | head -n 1 | xargs -r postcat -q"});
  o->commands.push_back({"delete them", ids + " | postsuper -d -"});
  o->commands.push_back(
      {"delete the bounces (null sender)",
       "postqueue -j | jq -r " +
           ShellQuote("select(.sender == \"\" or .sender == \"MAILER-DAEMON\") | .queue_id") +
           " | postsuper -d -"});
}

}  // namespace

void AddActions(const ActionInput& input, Offender* offender) {
  offender->commands.clear();
  if (!Printable(input.identity)) {
    offender->note = "the identity holds control or non-UTF-8 bytes: no command printed";
    return;
  }
  if (input.mta == "postfix") {
    AddPostfixActions(input, offender);
  } else {
    AddEximActions(input, offender);
  }
}

}  // namespace mailrelay::report
