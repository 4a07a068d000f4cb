// HttpServer serves the exporter's HTTP endpoints with CivetWeb:
//   <telemetry path>  Prometheus text exposition of every registered Collectable
//   /                 landing page (name, version, link to the metrics)
//   /-/healthy        200 while the process runs
//   /-/ready          200 once the sources are open, else 503 with the reason
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>

struct mg_context;
struct mg_connection;

namespace mailrelay {

class HttpServer {
 public:
  struct Options {
    std::string listen_address;  // "[host]:port"; port 0 picks a free one
    std::string telemetry_path = "/metrics";
    std::string version;
    std::string revision;
    int num_threads = 4;
  };
  using ReadyCheck = std::function<bool(std::string* why)>;

  HttpServer(Options options, ReadyCheck ready);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void AddCollectable(std::weak_ptr<prometheus::Collectable> collectable);

  // Starts listening. Returns false with *error set when the address cannot be bound.
  bool Start(std::string* error);
  void Stop();
  // Ports actually bound (useful with port 0).
  std::vector<int> ListeningPorts() const;

  // The exposition text of all collectables, families sorted by name.
  std::string RenderMetrics();

 private:
  static int HandleRequest(mg_connection* conn, void* self);
  int Handle(mg_connection* conn);

  Options options_;
  ReadyCheck ready_;
  std::mutex collectables_mutex_;
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables_;
  mg_context* ctx_ = nullptr;
};

// "host:port" / ":port" / "[v6]:port" -> CivetWeb listening_ports syntax. Empty on bad input.
std::string ToCivetListeningPorts(const std::string& listen_address);

}  // namespace mailrelay
