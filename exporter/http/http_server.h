// HttpServer serves the exporter's HTTP endpoints with CivetWeb:
//   <telemetry path>  Prometheus text exposition of every registered Collectable
//   /                 landing page (name, version, link to the metrics)
//   /-/healthy        200 while the process runs
//   /-/ready          200 once the sources are open, else 503 with the reason
//   and the handlers a subcommand registers with AddHandler (respond's POST /webhook)
// With --web.config.file (web_config.h) it serves HTTPS and/or requires basic authentication on
// every endpoint (401 with `WWW-Authenticate: Basic` otherwise), as exporter-toolkit does; both
// are re-read by Reload() (SIGHUP).
//
// CivetWeb runs a fixed pool of worker threads, one connection each (no keep-alive: every
// response closes). A client that sends its request slowly holds a worker for at most
// request_timeout_ms, and garbage or over-long headers (> 16 KiB) are answered 400/413 and
// closed at once, so scrapes keep being served while fewer than num_threads such connections
// are open at the same time (docs/reliability.md).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/collectable.h>

#include "common/status.h"
#include "http/web_config.h"

struct mg_context;
struct mg_connection;

namespace mailrelay {

class TlsContext;

class HttpServer {
 public:
  struct Options {
    std::string listen_address;  // "[host]:port"; port 0 picks a free one
    std::string telemetry_path = "/metrics";
    std::string version;
    std::string revision;
    // The landing page's name and one-line description (HTML-escaped when written).
    std::string title = "mailrelay_exporter";
    std::string description =
        "Prometheus exporter for mail relays: Exim log lines classified into lfd's relay classes.";
    WebConfig web_config;  // TLS, basic authentication, extra headers
    int num_threads = 64;
    int request_timeout_ms = 5000;  // to receive a whole request, and per read/write
  };
  using ReadyCheck = std::function<bool(std::string* why)>;

  // A request to a handler of AddHandler, its body read completely.
  struct Request {
    std::string method;
    std::string path;
    std::string content_type;  // "" when absent
    std::string body;
  };
  struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
  };
  using Handler = std::function<Response(const Request&)>;

  HttpServer(Options options, ReadyCheck ready);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void AddCollectable(std::weak_ptr<prometheus::Collectable> collectable);
  // Before Start(): serves `method` requests of exactly `path` with `handler` (on a worker
  // thread; handlers may run concurrently), behind the same TLS and basic auth as every
  // endpoint. A body longer than `max_body_bytes` is answered 413 without calling the handler.
  void AddHandler(std::string method, std::string path, Handler handler,
                  std::size_t max_body_bytes = 1u << 20);

  // Starts listening. An error when the address cannot be bound or the TLS files cannot be used.
  Status Start();
  // Applies a re-read web config: TLS material and users. Switching between HTTP and HTTPS
  // needs a restart. On error nothing changes.
  Status Reload(const WebConfig& web_config);
  void Stop();
  // Ports actually bound (useful with port 0).
  std::vector<int> ListeningPorts() const;

  // The exposition text of all collectables, families sorted by name.
  std::string RenderMetrics();

 private:
  // Scrapes are rendered on one thread: concurrent scrapes share a rendering that started after
  // they arrived (fresh, and one Collect() for many clients), and the large allocations of a
  // rendering stay in one malloc arena instead of one per worker thread (flat RSS).
  std::shared_ptr<const std::string> RenderShared();
  void RenderLoop();

  struct Security;  // basic auth and extra headers of the current web config
  static int HandleRequest(mg_connection* conn, void* self);
  int Handle(mg_connection* conn);
  std::shared_ptr<const Security> CurrentSecurity() const;
  struct Route {
    std::string method;
    std::string path;
    Handler handler;
    std::size_t max_body_bytes = 0;
  };
  const Route* FindRoute(const std::string& path, const std::string& method,
                         bool* path_known) const;
  int Serve(mg_connection* conn, const Route& route, const std::string& extra_headers);

  Options options_;
  ReadyCheck ready_;
  std::vector<Route> routes_;  // set before Start(), read-only afterwards
  std::mutex collectables_mutex_;
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables_;
  mutable std::mutex security_mutex_;
  std::shared_ptr<const Security> security_;
  std::unique_ptr<TlsContext> tls_;  // set while serving HTTPS
  std::mutex render_mutex_;
  std::condition_variable render_cv_;
  std::uint64_t renders_started_ = 0;
  std::uint64_t renders_done_ = 0;
  bool render_wanted_ = false;
  bool render_stop_ = false;
  std::shared_ptr<const std::string> rendered_;
  std::atomic<std::size_t> last_render_size_{0};  // RenderMetrics() reserves a bit more
  std::thread render_thread_;
  mg_context* ctx_ = nullptr;
};

// "host:port" / ":port" / "[v6]:port" -> CivetWeb listening_ports syntax. Empty on bad input.
std::string ToCivetListeningPorts(const std::string& listen_address);

}  // namespace mailrelay
