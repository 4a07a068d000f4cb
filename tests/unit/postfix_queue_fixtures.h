// The Postfix queue file fixtures (tests/fixtures/postfix-queue, made by make_fixtures.sh with
// the real Postfix): each case's queue file and what postqueue -j and postcat said of it.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "mta/postfix/postqueue_json_parser.h"

namespace mailrelay::testing {

inline const std::string kPostfixFixtures = MAILRELAY_POSTFIX_QUEUE_FIXTURES;

inline std::string ReadFixture(const std::string& name) {
  std::ifstream in(kPostfixFixtures + "/" + name, std::ios::binary);
  EXPECT_TRUE(in) << "missing fixture " << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct PostfixCase {
  std::string name;
  std::string queue;  // as the case sat in the queue
  std::string id;
  unsigned mode = 0;      // its permission bits there
  std::string bytes;      // <name>.qf
  std::string postcat;    // <name>.postcat: `postcat -e -h -q`
  PostqueueEntry listed;  // <name>.json: its `postqueue -j` line
};

inline std::vector<PostfixCase> PostfixCases() {
  std::vector<PostfixCase> cases;
  std::istringstream index(ReadFixture("index.txt"));
  std::string line;
  while (std::getline(index, line)) {
    PostfixCase c;
    std::istringstream fields(line);
    std::string mode;
    fields >> c.name >> c.queue >> c.id >> mode;
    c.mode = static_cast<unsigned>(std::stoul(mode, nullptr, 8));
    c.bytes = ReadFixture(c.name + ".qf");
    c.postcat = ReadFixture(c.name + ".postcat");
    std::string json = ReadFixture(c.name + ".json");
    Status parsed = ParsePostqueueJsonLine(json.substr(0, json.find('\n')), &c.listed);
    EXPECT_TRUE(parsed.ok()) << c.name << ": " << parsed.message();
    cases.push_back(std::move(c));
  }
  EXPECT_EQ(cases.size(), 11u) << "index.txt";
  return cases;
}

// The value of the first postcat line starting with `prefix`, "" when there is none.
inline std::string PostcatValue(const std::string& postcat, const std::string& prefix) {
  std::istringstream in(postcat);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  }
  return {};
}

inline std::uint64_t PostcatCount(const std::string& postcat, const std::string& prefix) {
  std::istringstream in(postcat);
  std::string line;
  std::uint64_t n = 0;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) ++n;
  }
  return n;
}

}  // namespace mailrelay::testing
