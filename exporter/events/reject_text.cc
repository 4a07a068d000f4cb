#include "events/reject_text.h"

#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

#include "common/text.h"

namespace mailrelay {

namespace {

// `lower` is ASCII-lower-case: plain searches, no case folding per comparison.
bool ContainsWordLower(std::string_view lower, std::string_view word) {
  for (std::size_t i = lower.find(word); i != std::string_view::npos; i = lower.find(word, i + 1)) {
    if (i == 0 || !(lower[i - 1] >= 'a' && lower[i - 1] <= 'z')) return true;
  }
  return false;
}

bool AnyLower(std::string_view lower, std::initializer_list<std::string_view> needles) {
  for (auto n : needles) {
    if (lower.find(n) != std::string_view::npos) return true;
  }
  return false;
}

// ClassifyRejectText on ASCII-lower-case text; the needles are lower-case.
RejectReason ClassifyLowerRejectText(std::string_view t) {
  if (AnyLower(t, {"relay not permitted", "relaying denied", "relay access denied",
                   "relay not allowed", "not permitted to relay", "relaying not", "relay denied",
                   "unable to relay", "we do not relay"})) {
    return RejectReason::kRelayDenied;
  }
  if (ContainsWordLower(t, "rbl") ||
      AnyLower(t, {"black list", "blacklist", "blocklist", "block list", "dnsbl", "blocked using",
                   "spamhaus", "spamcop", "is listed", "listed at", "listed in", "barracuda",
                   "denylist", "deny list"})) {
    return RejectReason::kRbl;
  }
  if (AnyLower(t, {"sender verify", "sender verification", "sender address rejected",
                   "unrouteable mail domain", "sender domain", "could not verify sender",
                   "verify failed for sender", "sender rejected"})) {
    return RejectReason::kSenderVerify;
  }
  if (AnyLower(t, {"unrouteable address", "unknown user", "user unknown", "no such user",
                   "unknown local part", "recipient address rejected", "mailbox unavailable",
                   "does not exist", "address not found", "invalid recipient", "no mailbox",
                   "no such recipient", "unknown recipient", "undeliverable address"})) {
    return RejectReason::kUnrouteable;
  }
  if (AnyLower(t, {"syntax", "protocol error", "synchronization error", "invalid argument",
                   "malformed", "bad command", "restricted characters", "non-fqdn", "invalid helo",
                   "improper use"})) {
    return RejectReason::kSyntax;
  }
  if (AnyLower(t, {"ratelimit", "rate limit", "rate-limit", "too many", "max emails per hour",
                   "exceeded the max", "rate that is", "too fast", "sending rate", "try later"})) {
    return RejectReason::kRatelimit;
  }
  if (AnyLower(t, {"spam", "virus", "malware", "phish", "content rejected", "message content",
                   "unacceptable content", "blocked content", "x-spam"})) {
    return RejectReason::kSpam;
  }
  return RejectReason::kOther;
}

// The needles of ClassifyLowerRejectText by category, in its order of precedence.
struct RejectCategory {
  RejectReason reason;
  std::initializer_list<std::string_view> needles;
};
const RejectCategory kRejectCategories[] = {
    {RejectReason::kRelayDenied,
     {"relay not permitted", "relaying denied", "relay access denied", "relay not allowed",
      "not permitted to relay", "relaying not", "relay denied", "unable to relay",
      "we do not relay"}},
    {RejectReason::kRbl,
     {"black list", "blacklist", "blocklist", "block list", "dnsbl", "blocked using", "spamhaus",
      "spamcop", "is listed", "listed at", "listed in", "barracuda", "denylist", "deny list"}},
    {RejectReason::kSenderVerify,
     {"sender verify", "sender verification", "sender address rejected", "unrouteable mail domain",
      "sender domain", "could not verify sender", "verify failed for sender", "sender rejected"}},
    {RejectReason::kUnrouteable,
     {"unrouteable address", "unknown user", "user unknown", "no such user", "unknown local part",
      "recipient address rejected", "mailbox unavailable", "does not exist", "address not found",
      "invalid recipient", "no mailbox", "no such recipient", "unknown recipient",
      "undeliverable address"}},
    {RejectReason::kSyntax,
     {"syntax", "protocol error", "synchronization error", "invalid argument", "malformed",
      "bad command", "restricted characters", "non-fqdn", "invalid helo", "improper use"}},
    {RejectReason::kRatelimit,
     {"ratelimit", "rate limit", "rate-limit", "too many", "max emails per hour",
      "exceeded the max", "rate that is", "too fast", "sending rate", "try later"}},
    {RejectReason::kSpam,
     {"spam", "virus", "malware", "phish", "content rejected", "message content",
      "unacceptable content", "blocked content", "x-spam"}},
};
constexpr int kRblCategory = 1;  // index of kRbl above; also holds the word "rbl"

// Aho-Corasick automaton over all needles at once: one pass over the text, case-insensitive
// (both cases of a letter map to the same input class). Gives exactly the category that
// ClassifyLowerRejectText would: the first (in precedence) with any needle anywhere.
class RejectMatcher {
 public:
  RejectMatcher() {
    for (int c = 0; c < 256; ++c) class_[c] = 0;
    for (int c = 'a'; c <= 'z'; ++c) {
      class_[c] = static_cast<std::uint8_t>(c - 'a' + 1);
      class_[c - 'a' + 'A'] = static_cast<std::uint8_t>(c - 'a' + 1);
    }
    class_[static_cast<unsigned char>(' ')] = 27;
    class_[static_cast<unsigned char>('-')] = 28;
    AddState();
    for (int cat = 0; cat < static_cast<int>(std::size(kRejectCategories)); ++cat) {
      for (std::string_view n : kRejectCategories[cat].needles) {
        out_[Insert(n)] |= static_cast<std::uint8_t>(1u << cat);
      }
    }
    rbl_word_[Insert("rbl")] = 1;
    // Breadth-first: failure links, then complete transitions and inherited outputs.
    std::vector<std::uint16_t> fail(next_.size() / kClasses, 0);
    std::vector<std::uint16_t> queue;
    for (std::size_t k = 0; k < kClasses; ++k) {
      if (std::uint16_t t = next_[k]; t != 0) queue.push_back(t);
    }
    for (std::size_t qi = 0; qi < queue.size(); ++qi) {
      std::uint16_t st = queue[qi];
      out_[st] |= out_[fail[st]];
      if (rbl_word_[fail[st]] != 0 && rbl_word_[st] == 0) rbl_word_[st] = rbl_word_[fail[st]];
      for (std::size_t k = 0; k < kClasses; ++k) {
        std::uint16_t& t = next_[st * kClasses + k];
        std::uint16_t via_fail = next_[fail[st] * kClasses + k];
        if (t != 0) {
          fail[t] = via_fail;
          queue.push_back(t);
        } else {
          t = via_fail;
        }
      }
    }
  }

  RejectReason Classify(std::string_view text) const {
    unsigned found = 0;
    std::size_t st = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      st = next_[st * kClasses + class_[static_cast<unsigned char>(text[i])]];
      found |= out_[st];
      // "rbl" counts as a word only: not preceded by a letter.
      if (rbl_word_[st] != 0 && (i < 3 || !IsLetter(text[i - 3]))) found |= 1u << kRblCategory;
      if ((found & 1u) != 0) break;  // the first category: nothing can beat it
    }
    if (found == 0) return RejectReason::kOther;
    return kRejectCategories[__builtin_ctz(found)].reason;
  }

 private:
  static constexpr std::size_t kClasses = 29;  // other, a-z, space, '-'
  static bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

  std::uint16_t AddState() {
    next_.resize(next_.size() + kClasses, 0);
    out_.push_back(0);
    rbl_word_.push_back(0);
    return static_cast<std::uint16_t>(out_.size() - 1);
  }
  std::size_t Insert(std::string_view needle) {
    std::size_t st = 0;
    for (char ch : needle) {
      std::size_t k = class_[static_cast<unsigned char>(ch)];
      if (next_[st * kClasses + k] == 0) {
        std::uint16_t t = AddState();
        next_[st * kClasses + k] = t;
      }
      st = next_[st * kClasses + k];
    }
    return st;
  }

  std::uint8_t class_[256];
  std::vector<std::uint16_t> next_;     // state * kClasses + class -> state
  std::vector<std::uint8_t> out_;       // categories whose needle ends in this state
  std::vector<std::uint8_t> rbl_word_;  // "rbl" ends in this state
};

}  // namespace

RejectReason ClassifyRejectText(std::string_view t) {
  static const RejectMatcher matcher;
  return matcher.Classify(t);
}

RejectReason ClassifyRejectTextReference(std::string_view t) {
  std::string lower;
  return ClassifyLowerRejectText(AsciiLowerTo(t, &lower));
}

}  // namespace mailrelay
