#include "http/http_server.h"

#include <civetweb.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <utility>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include "common/logging.h"

namespace mailrelay {

namespace {

void Send(mg_connection* conn, int status, const char* status_text, const char* content_type,
          const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            status, status_text, content_type, body.size());
  mg_write(conn, body.data(), body.size());
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string ToCivetListeningPorts(const std::string& addr) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos) return "";
  std::string host = addr.substr(0, colon);
  std::string port = addr.substr(colon + 1);
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos) return "";
  if (host.empty() || host == "0.0.0.0") return port;
  if (host.front() == '[') return host + ":" + port;  // IPv6 literal, CivetWeb accepts [::1]:p
  return host + ":" + port;
}

HttpServer::HttpServer(Options options, ReadyCheck ready)
    : options_(std::move(options)), ready_(std::move(ready)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::AddCollectable(std::weak_ptr<prometheus::Collectable> collectable) {
  std::lock_guard<std::mutex> lock(collectables_mutex_);
  collectables_.push_back(std::move(collectable));
}

bool HttpServer::Start(std::string* error) {
  std::string ports = ToCivetListeningPorts(options_.listen_address);
  if (ports.empty()) {
    *error = "invalid --web.listen-address '" + options_.listen_address +
             "' (want [host]:port, e.g. :9225 or 127.0.0.1:9225)";
    return false;
  }
  std::string threads = std::to_string(options_.num_threads);
  const char* opts[] = {"listening_ports",    ports.c_str(), "num_threads", threads.c_str(),
                        "request_timeout_ms", "10000",       nullptr};
  mg_callbacks callbacks{};
  ctx_ = mg_start(&callbacks, nullptr, opts);
  if (ctx_ == nullptr) {
    *error = "cannot listen on " + options_.listen_address + " (address in use or not local?)";
    return false;
  }
  mg_set_request_handler(ctx_, "/", &HttpServer::HandleRequest, this);
  return true;
}

void HttpServer::Stop() {
  if (ctx_ != nullptr) {
    mg_stop(ctx_);
    ctx_ = nullptr;
  }
}

std::vector<int> HttpServer::ListeningPorts() const {
  std::vector<int> out;
  if (ctx_ == nullptr) return out;
  mg_server_port ports[8];
  int n = mg_get_server_ports(ctx_, 8, ports);
  for (int i = 0; i < n; ++i) out.push_back(ports[i].port);
  return out;
}

std::string HttpServer::RenderMetrics() {
  std::vector<prometheus::MetricFamily> families;
  {
    std::lock_guard<std::mutex> lock(collectables_mutex_);
    for (auto& weak : collectables_) {
      if (auto c = weak.lock()) {
        auto f = c->Collect();
        std::move(f.begin(), f.end(), std::back_inserter(families));
      }
    }
  }
  // prometheus-cpp keeps series in hash order; sort so the output is stable for people and diffs.
  std::stable_sort(families.begin(), families.end(),
                   [](const auto& a, const auto& b) { return a.name < b.name; });
  for (auto& family : families) {
    for (auto& metric : family.metric) {
      std::sort(metric.label.begin(), metric.label.end(),
                [](const auto& a, const auto& b) { return a.name < b.name; });
    }
    std::stable_sort(family.metric.begin(), family.metric.end(),
                     [](const prometheus::ClientMetric& a, const prometheus::ClientMetric& b) {
                       return std::lexicographical_compare(
                           a.label.begin(), a.label.end(), b.label.begin(), b.label.end(),
                           [](const auto& x, const auto& y) {
                             return x.name != y.name ? x.name < y.name : x.value < y.value;
                           });
                     });
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

int HttpServer::HandleRequest(mg_connection* conn, void* self) {
  return static_cast<HttpServer*>(self)->Handle(conn);
}

int HttpServer::Handle(mg_connection* conn) {
  const mg_request_info* req = mg_get_request_info(conn);
  std::string uri = req->local_uri != nullptr ? req->local_uri : "/";
  std::string method = req->request_method != nullptr ? req->request_method : "GET";
  if (method != "GET" && method != "HEAD") {
    Send(conn, 405, "Method Not Allowed", "text/plain; charset=utf-8", "method not allowed\n");
    return 405;
  }
  if (uri == options_.telemetry_path) {
    std::string body = RenderMetrics();
    Send(conn, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body);
    return 200;
  }
  if (uri == "/-/healthy") {
    Send(conn, 200, "OK", "text/plain; charset=utf-8", "Healthy\n");
    return 200;
  }
  if (uri == "/-/ready") {
    std::string why;
    if (!ready_ || ready_(&why)) {
      Send(conn, 200, "OK", "text/plain; charset=utf-8", "Ready\n");
      return 200;
    }
    Send(conn, 503, "Service Unavailable", "text/plain; charset=utf-8", "Not ready: " + why + "\n");
    return 503;
  }
  if (uri == "/") {
    std::string path = HtmlEscape(options_.telemetry_path);
    std::string body =
        "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>mailrelay_exporter</title>"
        "</head>\n<body>\n<h1>mailrelay_exporter</h1>\n<p>Prometheus exporter for mail relays: "
        "Exim log lines classified into lfd's relay classes.</p>\n<p>Version " +
        HtmlEscape(options_.version) + " (revision " + HtmlEscape(options_.revision) +
        ")</p>\n<ul>\n<li><a href=\"" + path +
        "\">Metrics</a></li>\n"
        "<li><a href=\"/-/healthy\">Health</a></li>\n<li><a href=\"/-/ready\">Readiness</a>"
        "</li>\n</ul>\n</body>\n</html>\n";
    Send(conn, 200, "OK", "text/html; charset=utf-8", body);
    return 200;
  }
  Send(conn, 404, "Not Found", "text/plain; charset=utf-8", "404 page not found\n");
  return 404;
}

}  // namespace mailrelay
