#include "http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

namespace mailrelay {
namespace {

// A plain HTTP/1.0 GET over loopback: returns the whole response (status line, headers, body).
std::string Get(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "connect failed";
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  if (write(fd, req.data(), req.size()) < 0) {
    close(fd);
    return "write failed";
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(fd);
  return out;
}

TEST(HttpServer, EndpointsAndReadiness) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter()
      .Name("mailrelay_test_total")
      .Help("h")
      .Register(*registry)
      .Add({{"b", "2"}})
      .Increment(3);
  std::atomic<bool> ready{false};
  HttpServer::Options o;
  o.listen_address = "127.0.0.1:0";
  o.version = "1.2.3";
  o.revision = "abc";
  HttpServer server(o, [&](std::string* why) {
    *why = "exim_mainlog: /var/log/exim4/mainlog: No such file or directory";
    return ready.load();
  });
  server.AddCollectable(registry);
  std::string err;
  ASSERT_TRUE(server.Start(&err)) << err;
  auto ports = server.ListeningPorts();
  ASSERT_FALSE(ports.empty());
  int port = ports[0];

  std::string metrics = Get(port, "/metrics");
  EXPECT_NE(std::string::npos, metrics.find("HTTP/1.1 200"));
  EXPECT_NE(std::string::npos, metrics.find("text/plain; version=0.0.4"));
  EXPECT_NE(std::string::npos, metrics.find("mailrelay_test_total{b=\"2\"} 3"));

  std::string landing = Get(port, "/");
  EXPECT_NE(std::string::npos, landing.find("<a href=\"/metrics\">"));
  EXPECT_NE(std::string::npos, landing.find("1.2.3"));

  EXPECT_NE(std::string::npos, Get(port, "/-/healthy").find("200 OK"));
  std::string not_ready = Get(port, "/-/ready");
  EXPECT_NE(std::string::npos, not_ready.find("503"));
  EXPECT_NE(std::string::npos, not_ready.find("No such file"));
  ready = true;
  EXPECT_NE(std::string::npos, Get(port, "/-/ready").find("200 OK"));
  EXPECT_NE(std::string::npos, Get(port, "/nope").find("404"));
}

TEST(HttpServer, BadListenAddressFailsClearly) {
  HttpServer::Options o;
  o.listen_address = "no-port";
  HttpServer server(o, nullptr);
  std::string err;
  EXPECT_FALSE(server.Start(&err));
  EXPECT_NE(std::string::npos, err.find("invalid --web.listen-address"));
}

TEST(HttpServer, ListeningPortsSyntax) {
  EXPECT_EQ("9225", ToCivetListeningPorts(":9225"));
  EXPECT_EQ("127.0.0.1:9225", ToCivetListeningPorts("127.0.0.1:9225"));
  EXPECT_EQ("[::1]:9225", ToCivetListeningPorts("[::1]:9225"));
  EXPECT_EQ("", ToCivetListeningPorts("localhost"));
  EXPECT_EQ("", ToCivetListeningPorts("1.2.3.4:x"));
}

}  // namespace
}  // namespace mailrelay
