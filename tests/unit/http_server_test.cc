#include "http/http_server.h"
#include "status_matchers.h"

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
std::string Request(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "connect failed";
  }
  const std::string& req = request;
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

std::string Get(int port, const std::string& path, const std::string& headers = "") {
  return Request(port, "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n" + headers + "\r\n");
}

std::string Post(int port, const std::string& path, const std::string& body,
                 const std::string& headers = "") {
  return Request(port, "POST " + path + " HTTP/1.0\r\nHost: localhost\r\n" +
                           "Content-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n" + headers + "\r\n" + body);
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
  ASSERT_TRUE(StatusOk(server.Start(), &err)) << err;
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

// htpasswd -nbBC 4 bob hunter2; python3 crypt (libxcrypt) for "hunter2" with a fixed salt.
constexpr char kHunter2Hash[] = "$2y$04$.ZTL/85LYcEBRq4e5ivFq.eaVqgEEmXaywJJMlqCBCOVBTA/4eij6";
constexpr char kHunter2Hash2b[] = "$2b$04$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVm";
constexpr char kBobHunter2[] = "Authorization: Basic Ym9iOmh1bnRlcjI=\r\n";  // bob:hunter2
constexpr char kBobWrong[] = "Authorization: Basic Ym9iOmh1bnRlcjM=\r\n";    // bob:hunter3
constexpr char kAmyHunter2[] = "Authorization: Basic YW15Omh1bnRlcjI=\r\n";  // amy:hunter2

TEST(HttpServer, BasicAuthProtectsEveryEndpoint) {
  HttpServer::Options o;
  o.listen_address = "127.0.0.1:0";
  o.web_config.users["bob"] = kHunter2Hash;
  o.web_config.headers.emplace_back("X-Frame-Options", "deny");
  HttpServer server(o, [](std::string*) { return true; });
  std::string err;
  ASSERT_TRUE(StatusOk(server.Start(), &err)) << err;
  int port = server.ListeningPorts().at(0);
  for (const char* path : {"/metrics", "/", "/-/healthy", "/-/ready", "/nope"}) {
    std::string none = Get(port, path);
    EXPECT_NE(std::string::npos, none.find("HTTP/1.1 401 Unauthorized")) << path << none;
    EXPECT_NE(std::string::npos, none.find("WWW-Authenticate: Basic\r\n")) << path;
    EXPECT_NE(std::string::npos, none.find("X-Frame-Options: deny\r\n")) << path;
    EXPECT_NE(std::string::npos, Get(port, path, kBobWrong).find(" 401 ")) << path;
    EXPECT_NE(std::string::npos, Get(port, path, kAmyHunter2).find(" 401 ")) << path;
    EXPECT_NE(std::string::npos,
              Get(port, path, "Authorization: Bearer Ym9iOmh1bnRlcjI=\r\n").find(" 401 "))
        << path;
  }
  std::string ok = Get(port, "/metrics", kBobHunter2);
  EXPECT_NE(std::string::npos, ok.find("HTTP/1.1 200 OK")) << ok;
  EXPECT_EQ(std::string::npos, ok.find("WWW-Authenticate"));
  EXPECT_NE(std::string::npos, Get(port, "/-/healthy", kBobHunter2).find("200 OK"));
  EXPECT_NE(std::string::npos, Get(port, "/nope", kBobHunter2).find("404"));

  // Reload (SIGHUP): bob's password changes to the other hash of the same password, amy added,
  // then users removed altogether.
  WebConfig next;
  next.users["amy"] = kHunter2Hash2b;
  ASSERT_TRUE(StatusOk(server.Reload(next), &err)) << err;
  EXPECT_NE(std::string::npos, Get(port, "/metrics", kBobHunter2).find(" 401 "));
  EXPECT_NE(std::string::npos, Get(port, "/metrics", kAmyHunter2).find(" 200 "));
  EXPECT_EQ(std::string::npos, Get(port, "/metrics", kAmyHunter2).find("X-Frame-Options"));
  ASSERT_TRUE(StatusOk(server.Reload(WebConfig{}), &err)) << err;
  EXPECT_NE(std::string::npos, Get(port, "/metrics").find(" 200 "));
  // Turning TLS on needs a restart: refused, nothing changes.
  WebConfig tls;
  tls.tls = TlsServerConfig{};
  tls.users["bob"] = kHunter2Hash;
  EXPECT_FALSE(StatusOk(server.Reload(tls), &err));
  EXPECT_NE(std::string::npos, err.find("needs a restart")) << err;
  EXPECT_NE(std::string::npos, Get(port, "/metrics").find(" 200 "));
}

// A registered handler (respond's POST /webhook): gets the body, answers with its own status;
// other methods on its path are 405, an over-long body 413, and basic auth applies to it too.
TEST(HttpServer, HandlersGetTheBodyBehindTheSameAuth) {
  HttpServer::Options o;
  o.listen_address = "127.0.0.1:0";
  o.title = "mailrelay_exporter respond";
  o.description = "Alertmanager <webhook> receiver";
  o.web_config.users["bob"] = kHunter2Hash;
  HttpServer server(o, nullptr);
  std::atomic<int> calls{0};
  server.AddHandler(
      "POST", "/webhook",
      [&](const HttpServer::Request& r) {
        ++calls;
        HttpServer::Response out;
        out.status = r.body == "bad" ? 400 : 200;
        out.content_type = "application/json";
        out.body = "{\"got\":" + std::to_string(r.body.size()) + ",\"type\":\"" + r.content_type +
                   "\",\"method\":\"" + r.method + "\"}";
        return out;
      },
      /*max_body_bytes=*/1000);
  std::string err;
  ASSERT_TRUE(StatusOk(server.Start(), &err)) << err;
  int port = server.ListeningPorts().at(0);

  EXPECT_NE(std::string::npos, Post(port, "/webhook", "{}").find(" 401 "));
  std::string ok = Post(port, "/webhook", std::string(1000, 'x'), kBobHunter2);
  EXPECT_NE(std::string::npos, ok.find("HTTP/1.1 200 OK")) << ok;
  EXPECT_NE(std::string::npos, ok.find("Content-Type: application/json")) << ok;
  EXPECT_NE(std::string::npos,
            ok.find("{\"got\":1000,\"type\":\"application/json\",\"method\":\"POST\"}"))
      << ok;
  EXPECT_NE(std::string::npos, Post(port, "/webhook", "bad", kBobHunter2).find(" 400 Bad Request"));
  std::string large = Post(port, "/webhook", std::string(1001, 'x'), kBobHunter2);
  EXPECT_NE(std::string::npos, large.find(" 413 Payload Too Large")) << large;
  EXPECT_NE(std::string::npos, Get(port, "/webhook", kBobHunter2).find(" 405 "));
  EXPECT_NE(std::string::npos, Post(port, "/metrics", "{}", kBobHunter2).find(" 405 "));
  EXPECT_EQ(2, calls.load());  // the 401, 413 and 405 requests never reached the handler
  std::string landing = Get(port, "/", kBobHunter2);
  EXPECT_NE(std::string::npos, landing.find("<h1>mailrelay_exporter respond</h1>")) << landing;
  EXPECT_NE(std::string::npos, landing.find("Alertmanager &lt;webhook&gt; receiver")) << landing;
}

TEST(HttpServer, BadTlsFilesFailAtStart) {
  HttpServer::Options o;
  o.listen_address = "127.0.0.1:0";
  o.web_config.tls = TlsServerConfig{};
  o.web_config.tls->cert_file = "/nonexistent/server.crt";
  o.web_config.tls->key_file = "/nonexistent/server.key";
  HttpServer server(o, nullptr);
  std::string err;
  EXPECT_FALSE(StatusOk(server.Start(), &err));
  EXPECT_NE(std::string::npos, err.find("cert_file /nonexistent/server.crt")) << err;
}

TEST(HttpServer, BadListenAddressFailsClearly) {
  HttpServer::Options o;
  o.listen_address = "no-port";
  HttpServer server(o, nullptr);
  std::string err;
  EXPECT_FALSE(StatusOk(server.Start(), &err));
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
