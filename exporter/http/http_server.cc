#include "http/http_server.h"

#include <civetweb.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <utility>

#include <prometheus/metric_family.h>

#include "common/logging.h"
#include "http/basic_auth.h"
#include "http/text_exposition.h"
#include "http/tls_context.h"

namespace mailrelay {

struct HttpServer::Security {
  explicit Security(const WebConfig& config) : auth(config.users) {
    for (const auto& [name, value] : config.headers) headers += name + ": " + value + "\r\n";
  }
  BasicAuth auth;
  std::string headers;  // extra response header lines, each ending in CRLF
};

namespace {

const char* StatusText(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 503:
      return "Service Unavailable";
    default:
      return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

void Send(mg_connection* conn, int status, const char* status_text, const char* content_type,
          const std::string& body, const std::string& extra_headers) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\n%sConnection: close\r\n\r\n",
            status, status_text, content_type, body.size(), extra_headers.c_str());
  mg_write(conn, body.data(), body.size());
}

std::mutex g_civetweb_message_mutex;
std::string g_civetweb_message;  // the last one, for the error of a failed mg_start()

// CivetWeb's own messages (bind errors, failed TLS handshakes, bad requests): debug level, so
// that a scan of the port does not flood the log.
int OnCivetwebLog(const mg_connection* /*conn*/, const char* message) {
  if (LogEnabled(LogLevel::kDebug)) Log(LogLevel::kDebug, "civetweb", {{"msg", message}});
  std::lock_guard<std::mutex> lock(g_civetweb_message_mutex);
  g_civetweb_message = message;
  return 1;
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
    : options_(std::move(options)),
      ready_(std::move(ready)),
      security_(std::make_shared<const Security>(options_.web_config)) {}

std::shared_ptr<const HttpServer::Security> HttpServer::CurrentSecurity() const {
  std::lock_guard<std::mutex> lock(security_mutex_);
  return security_;
}

Status HttpServer::Reload(const WebConfig& web_config) {
  if (web_config.tls.has_value() != (tls_ != nullptr)) {
    return InvalidArgument("switching between HTTP and HTTPS (tls_server_config) needs a restart");
  }
  if (tls_) {
    if (Status updated = tls_->Update(*web_config.tls); !updated.ok()) return updated;
  }
  auto security = std::make_shared<const Security>(web_config);
  std::lock_guard<std::mutex> lock(security_mutex_);
  security_ = std::move(security);
  return Status::Ok();
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::AddCollectable(std::weak_ptr<prometheus::Collectable> collectable) {
  std::lock_guard<std::mutex> lock(collectables_mutex_);
  collectables_.push_back(std::move(collectable));
}

void HttpServer::AddHandler(std::string method, std::string path, Handler handler,
                            std::size_t max_body_bytes) {
  routes_.push_back({std::move(method), std::move(path), std::move(handler), max_body_bytes});
}

const HttpServer::Route* HttpServer::FindRoute(const std::string& path, const std::string& method,
                                               bool* path_known) const {
  *path_known = false;
  for (const Route& r : routes_) {
    if (r.path != path) continue;
    *path_known = true;
    if (r.method == method) return &r;
  }
  return nullptr;
}

int HttpServer::Serve(mg_connection* conn, const Route& route, const std::string& extra) {
  const mg_request_info* req = mg_get_request_info(conn);
  Request request;
  request.method = route.method;
  request.path = route.path;
  if (const char* type = mg_get_header(conn, "Content-Type"); type != nullptr) {
    request.content_type = type;
  }
  // content_length is -1 when the request has none (chunked or no body): read to the end then.
  if (req->content_length > static_cast<long long>(route.max_body_bytes)) {
    Send(conn, 413, StatusText(413), "text/plain; charset=utf-8", "request body too large\n",
         extra);
    return 413;
  }
  char buf[16384];
  for (;;) {
    int n = mg_read(conn, buf, sizeof buf);
    if (n <= 0) break;
    if (request.body.size() + static_cast<std::size_t>(n) > route.max_body_bytes) {
      Send(conn, 413, StatusText(413), "text/plain; charset=utf-8", "request body too large\n",
           extra);
      return 413;
    }
    request.body.append(buf, static_cast<std::size_t>(n));
  }
  Response response = route.handler(request);
  Send(conn, response.status, StatusText(response.status), response.content_type.c_str(),
       response.body, extra);
  return response.status;
}

Status HttpServer::Start() {
  std::string ports = ToCivetListeningPorts(options_.listen_address);
  if (ports.empty()) {
    return InvalidArgument("invalid --web.listen-address '" + options_.listen_address +
                           "' (want [host]:port, e.g. :9225 or 127.0.0.1:9225)");
  }
  mg_callbacks callbacks{};
  callbacks.log_message = &OnCivetwebLog;
  {
    std::lock_guard<std::mutex> lock(g_civetweb_message_mutex);
    g_civetweb_message.clear();
  }
  if (options_.web_config.tls) {
    tls_ = std::make_unique<TlsContext>();
    Status ready = PrepareCivetwebOpenssl();
    if (ready.ok()) ready = tls_->Update(*options_.web_config.tls);
    if (!ready.ok()) {
      tls_.reset();
      return ready;
    }
    callbacks.init_ssl = &TlsContext::InitSsl;
    ports += "s";  // CivetWeb: a TLS port
  }
  std::string threads = std::to_string(options_.num_threads);
  std::string timeout = std::to_string(options_.request_timeout_ms);
  // No keep-alive (each response closes), a bounded time for each request; lingering close
  // (draining what the client still sends after the response) at most 1 s.
  const char* opts[] = {"listening_ports",
                        ports.c_str(),
                        "num_threads",
                        threads.c_str(),
                        "request_timeout_ms",
                        timeout.c_str(),
                        "linger_timeout_ms",
                        "1000",
                        "enable_keep_alive",
                        "no",
                        "max_request_size",
                        "16384",
                        nullptr};
  ctx_ = mg_start(&callbacks, tls_.get(), opts);
  if (ctx_ == nullptr) {
    std::string error =
        "cannot listen on " + options_.listen_address + " (address in use or not local?)";
    std::lock_guard<std::mutex> lock(g_civetweb_message_mutex);
    if (!g_civetweb_message.empty()) error += ": civetweb: " + g_civetweb_message;
    tls_.reset();
    return Unavailable(std::move(error));
  }
  render_stop_ = false;
  render_thread_ = std::thread([this] { RenderLoop(); });
  mg_set_request_handler(ctx_, "/", &HttpServer::HandleRequest, this);
  return Status::Ok();
}

void HttpServer::Stop() {
  if (ctx_ != nullptr) {
    mg_stop(ctx_);  // waits for the workers, so no scrape waits for a rendering any more
    ctx_ = nullptr;
  }
  if (render_thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(render_mutex_);
      render_stop_ = true;
    }
    render_cv_.notify_all();
    render_thread_.join();
  }
}

std::shared_ptr<const std::string> HttpServer::RenderShared() {
  std::unique_lock<std::mutex> lock(render_mutex_);
  const std::uint64_t target = renders_started_ + 1;  // the next rendering starts after now
  render_wanted_ = true;
  render_cv_.notify_all();
  render_cv_.wait(lock, [&] { return renders_done_ >= target || render_stop_; });
  return rendered_ != nullptr ? rendered_ : std::make_shared<const std::string>();
}

void HttpServer::RenderLoop() {
  std::unique_lock<std::mutex> lock(render_mutex_);
  while (true) {
    render_cv_.wait(lock, [&] { return render_wanted_ || render_stop_; });
    if (render_stop_) break;
    render_wanted_ = false;
    const std::uint64_t generation = ++renders_started_;
    lock.unlock();
    auto text = std::make_shared<const std::string>(RenderMetrics());
    lock.lock();
    rendered_ = std::move(text);
    renders_done_ = generation;
    render_cv_.notify_all();
  }
  render_cv_.notify_all();
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
      auto c = weak.lock();
      if (!c) continue;
      // Nothing on the scrape path may end the process: a collectable that throws is left out
      // of this page and logged (the queue collector counts its own failures).
      try {
        auto f = c->Collect();
        std::move(f.begin(), f.end(), std::back_inserter(families));
      } catch (const std::exception& e) {
        Log(LogLevel::kError, "collecting metrics failed; left out of this scrape",
            {{"error", e.what()}});
      }
    }
  }
  SortForExposition(&families);
  std::string out;
  const std::size_t last = last_render_size_.load(std::memory_order_relaxed);
  out.reserve(last + last / 8);
  AppendTextExposition(families, &out);
  last_render_size_.store(out.size(), std::memory_order_relaxed);
  return out;
}

int HttpServer::HandleRequest(mg_connection* conn, void* self) {
  return static_cast<HttpServer*>(self)->Handle(conn);
}

int HttpServer::Handle(mg_connection* conn) {
  const mg_request_info* req = mg_get_request_info(conn);
  auto security = CurrentSecurity();
  const std::string& extra = security->headers;
  if (security->auth.enabled()) {
    const char* authorization = mg_get_header(conn, "Authorization");
    if (!security->auth.Check(authorization != nullptr ? authorization : "")) {
      Send(conn, 401, "Unauthorized", "text/plain; charset=utf-8", "Unauthorized\n",
           extra + "WWW-Authenticate: Basic\r\n");
      return 401;
    }
  }
  std::string uri = req->local_uri != nullptr ? req->local_uri : "/";
  std::string method = req->request_method != nullptr ? req->request_method : "GET";
  bool route_path = false;
  if (const Route* route = FindRoute(uri, method, &route_path); route != nullptr) {
    return Serve(conn, *route, extra);
  }
  if (route_path || (method != "GET" && method != "HEAD")) {
    Send(conn, 405, "Method Not Allowed", "text/plain; charset=utf-8", "method not allowed\n",
         extra);
    return 405;
  }
  if (uri == options_.telemetry_path) {
    std::shared_ptr<const std::string> body = RenderShared();
    Send(conn, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", *body, extra);
    return 200;
  }
  if (uri == "/-/healthy") {
    Send(conn, 200, "OK", "text/plain; charset=utf-8", "Healthy\n", extra);
    return 200;
  }
  if (uri == "/-/ready") {
    std::string why;
    if (!ready_ || ready_(&why)) {
      Send(conn, 200, "OK", "text/plain; charset=utf-8", "Ready\n", extra);
      return 200;
    }
    Send(conn, 503, "Service Unavailable", "text/plain; charset=utf-8", "Not ready: " + why + "\n",
         extra);
    return 503;
  }
  if (uri == "/") {
    std::string path = HtmlEscape(options_.telemetry_path);
    std::string title = HtmlEscape(options_.title);
    std::string body =
        "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>" + title +
        "</title></head>\n<body>\n<h1>" + title + "</h1>\n<p>" + HtmlEscape(options_.description) +
        "</p>\n<p>Version " + HtmlEscape(options_.version) + " (revision " +
        HtmlEscape(options_.revision) + ")</p>\n<ul>\n<li><a href=\"" + path +
        "\">Metrics</a></li>\n"
        "<li><a href=\"/-/healthy\">Health</a></li>\n<li><a href=\"/-/ready\">Readiness</a>"
        "</li>\n</ul>\n</body>\n</html>\n";
    Send(conn, 200, "OK", "text/html; charset=utf-8", body, extra);
    return 200;
  }
  Send(conn, 404, "Not Found", "text/plain; charset=utf-8", "404 page not found\n", extra);
  return 404;
}

}  // namespace mailrelay
