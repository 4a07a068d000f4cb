// IsOk(status): a gtest assertion that prints the status' message when it is not OK.
//   ASSERT_TRUE(IsOk(store.Save()));
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "common/status.h"

namespace mailrelay {

inline ::testing::AssertionResult IsOk(const Status& status) {
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << status.ToString();
}

template <typename T>
::testing::AssertionResult IsOk(const StatusOr<T>& value) {
  return IsOk(value.status());
}

// For tests that look into the message: *message = status.message(); returns status.ok().
inline bool StatusOk(const Status& status, std::string* message) {
  *message = status.message();
  return status.ok();
}

}  // namespace mailrelay
