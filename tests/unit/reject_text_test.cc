// ClassifyRejectText (one-pass automaton) must agree with ClassifyRejectTextReference (the
// substring rules applied one by one) on every input: the corpus' reject lines and random texts
// built from the needles, their fragments, letters, case changes and bytes of every value.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "events/reject_text.h"

namespace mailrelay {
namespace {

TEST(RejectText, KnownTexts) {
  EXPECT_EQ(RejectReason::kRelayDenied, ClassifyRejectText("relay not permitted"));
  EXPECT_EQ(RejectReason::kRelayDenied, ClassifyRejectText("Relay Access DENIED; spamhaus"));
  EXPECT_EQ(RejectReason::kRbl, ClassifyRejectText("listed at zen, user unknown"));
  EXPECT_EQ(RejectReason::kRbl, ClassifyRejectText("\"JunkMail rejected - is in an RBL\""));
  EXPECT_EQ(RejectReason::kRbl, ClassifyRejectText("rbl"));
  EXPECT_EQ(RejectReason::kOther, ClassifyRejectText("surbl"));  // not the word rbl
  EXPECT_EQ(RejectReason::kRbl, ClassifyRejectText("x.rbl.example"));
  EXPECT_EQ(RejectReason::kUnrouteable, ClassifyRejectText("No Such User Here"));
  EXPECT_EQ(RejectReason::kSyntax, ClassifyRejectText("syntactically invalid argument(s)"));
  EXPECT_EQ(RejectReason::kRatelimit, ClassifyRejectText("Host is ratelimited"));
  EXPECT_EQ(RejectReason::kSpam, ClassifyRejectText("classified as SPAM"));
  EXPECT_EQ(RejectReason::kOther, ClassifyRejectText(""));
  EXPECT_EQ(RejectReason::kOther, ClassifyRejectText("SMTP AUTH is required"));
}

TEST(RejectText, AgreesWithTheReferenceOnTheCorpus) {
  std::size_t checked = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(MAILRELAY_CORPUS_DIR)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("reject") == std::string::npos) continue;
      ASSERT_EQ(ClassifyRejectTextReference(line), ClassifyRejectText(line)) << line;
      auto colon = line.rfind(": ");
      if (colon != std::string::npos) {
        std::string tail = line.substr(colon + 2);
        ASSERT_EQ(ClassifyRejectTextReference(tail), ClassifyRejectText(tail)) << tail;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 100u);
}

TEST(RejectText, AgreesWithTheReferenceOnRandomTexts) {
  const std::vector<std::string> parts = {"relay not permitted",
                                          "relaying",
                                          "relay",
                                          "denied",
                                          "black list",
                                          "blacklist",
                                          "rbl",
                                          "surbl",
                                          "-rbl",
                                          "RBL",
                                          "dnsbl",
                                          "listed",
                                          "is listed",
                                          "listed in",
                                          "sender",
                                          "verify",
                                          "sender verify",
                                          "unrouteable",
                                          "address",
                                          "unknown user",
                                          "user unknown",
                                          "no such user",
                                          "syntax",
                                          "protocol error",
                                          "malformed",
                                          "non-fqdn",
                                          "rate",
                                          "rate limit",
                                          "ratelimit",
                                          "rate-limit",
                                          "too many",
                                          "spam",
                                          "x-spam",
                                          "virus",
                                          "phish",
                                          "content",
                                          "message content",
                                          "deny list",
                                          "denylist",
                                          "barracuda",
                                          "try later",
                                          "sending rate",
                                          "invalid helo",
                                          "no",
                                          "such",
                                          "recipient",
                                          "mailbox",
                                          "does not exist",
                                          "max emails per hour",
                                          "exceeded the max"};
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  auto next = [&]() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int n = 0; n < 200000; ++n) {
    std::string t;
    int pieces = static_cast<int>(next() % 5);
    for (int i = 0; i < pieces; ++i) {
      switch (next() % 4) {
        case 0: {  // a needle or fragment, possibly cut and with case changes
          std::string p = parts[next() % parts.size()];
          if (next() % 3 == 0) p = p.substr(next() % p.size());
          if (next() % 3 == 0 && !p.empty()) p.resize(1 + next() % p.size());
          for (char& c : p) {
            if (next() % 4 == 0 && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
          }
          t += p;
          break;
        }
        case 1:
          t += static_cast<char>('a' + next() % 26);
          break;
        case 2:
          t += " -.;:"[next() % 5];
          break;
        default:
          t += static_cast<char>(next() % 256);
          break;
      }
    }
    ASSERT_EQ(ClassifyRejectTextReference(t), ClassifyRejectText(t)) << t;
  }
}

}  // namespace
}  // namespace mailrelay
