// libFuzzer target: respond's input from the network and from admins. An Alertmanager webhook
// body (respond/webhook.h) and, for a parsed one, the policy's decision on every alert
// (respond/policy.h); the same bytes as a hold list (respond/hold_list.h), whose rewrite must
// give the text back line for line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_util.h"
#include "respond/hold_list.h"
#include "respond/policy.h"
#include "respond/webhook.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = mailrelay::fuzz::AsText(data, size);
  namespace respond = mailrelay::respond;
  mailrelay::StatusOr<respond::WebhookPayload> payload = respond::ParseWebhookPayload(text);
  if (payload.ok()) {
    respond::PolicyOptions policy;
    policy.alerts = {"MailRelayAuthrelayHigh", "MailRelayLocalrelayHigh"};
    policy.never = {"root", "mailnull"};
    for (const respond::WebhookAlert& alert : payload->alerts) {
      respond::Decision d = respond::Evaluate(policy, alert);
      std::string why;
      // A hold is only ever decided for a plausible account.
      if (d.kind == respond::Decision::Kind::kHold &&
          !respond::IsPlausibleAccount(d.account, &why)) {
        std::abort();
      }
      (void)respond::ParseUtc(alert.starts_at);
    }
  }
  respond::HoldListText list = respond::HoldListText::Parse(text);
  std::string expected(text);
  if (!expected.empty() && expected.back() != '\n') expected += '\n';
  if (list.Serialize() != expected) std::abort();
  for (const respond::HoldEntry& e : list.Entries()) {
    (void)list.Find(e.account);
    (void)list.ReleasedAt(e.account);
  }
  return 0;
}
