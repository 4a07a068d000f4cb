#include "respond/webhook.h"

#include "common/json.h"

namespace mailrelay::respond {

namespace {

bool IsStatus(const std::string& s) { return s == "firing" || s == "resolved"; }

// A JSON object of strings (labels, annotations); absent is empty when `optional`.
Status StringMap(const JsonValue& parent, std::string_view member, const std::string& where,
                 bool optional, std::map<std::string, std::string>* out) {
  const JsonValue* v = parent.Member(member);
  if (v == nullptr || v->type == JsonValue::Type::kNull) {
    if (optional) return Status::Ok();
    return InvalidArgument(where + " is missing");
  }
  if (!v->is_object()) return InvalidArgument(where + " is not an object");
  for (const JsonMember& m : v->object) {
    if (!m.value.is_string()) return InvalidArgument(where + "." + m.key + " is not a string");
    (*out)[m.key] = m.value.string;
  }
  return Status::Ok();
}

}  // namespace

std::string WebhookAlert::Label(const std::string& name) const {
  auto it = labels.find(name);
  return it == labels.end() ? std::string() : it->second;
}

StatusOr<WebhookPayload> ParseWebhookPayload(std::string_view body) {
  JsonValue doc;
  if (Status s = ParseJson(body, &doc); !s.ok()) return s;
  if (!doc.is_object()) return InvalidArgument("not a JSON object");
  WebhookPayload p;
  if (!JsonGetString(doc, "version", &p.version)) return InvalidArgument("no version");
  if (p.version != "4") {
    return InvalidArgument("version \"" + p.version + "\" is not 4 (Alertmanager webhook)");
  }
  if (!JsonGetString(doc, "status", &p.status) || !IsStatus(p.status)) {
    return InvalidArgument("status is not firing or resolved");
  }
  JsonGetString(doc, "receiver", &p.receiver);
  JsonGetString(doc, "groupKey", &p.group_key);
  if (const JsonValue* t = doc.Member("truncatedAlerts");
      t != nullptr && t->type == JsonValue::Type::kNumber && t->is_integer && t->integer >= 0) {
    p.truncated_alerts = t->integer;
  }
  const JsonValue* alerts = doc.Member("alerts");
  if (alerts == nullptr || !alerts->is_array()) return InvalidArgument("no alerts array");
  if (alerts->array.size() > kMaxWebhookAlerts) {
    return InvalidArgument("more than " + std::to_string(kMaxWebhookAlerts) + " alerts");
  }
  for (std::size_t i = 0; i < alerts->array.size(); ++i) {
    const JsonValue& a = alerts->array[i];
    const std::string where = "alerts[" + std::to_string(i) + "]";
    if (!a.is_object()) return InvalidArgument(where + " is not an object");
    WebhookAlert alert;
    if (!JsonGetString(a, "status", &alert.status) || !IsStatus(alert.status)) {
      return InvalidArgument(where + ".status is not firing or resolved");
    }
    if (Status s = StringMap(a, "labels", where + ".labels", false, &alert.labels); !s.ok()) {
      return s;
    }
    if (Status s = StringMap(a, "annotations", where + ".annotations", true, &alert.annotations);
        !s.ok()) {
      return s;
    }
    JsonGetString(a, "startsAt", &alert.starts_at);
    JsonGetString(a, "fingerprint", &alert.fingerprint);
    p.alerts.push_back(std::move(alert));
  }
  return p;
}

}  // namespace mailrelay::respond
