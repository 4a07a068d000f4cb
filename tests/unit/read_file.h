// ReadFile(path): the whole file as bytes, for tests over fixture and corpus files; a file that
// cannot be opened fails the test (EXPECT) and reads as "".
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace mailrelay {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace mailrelay
