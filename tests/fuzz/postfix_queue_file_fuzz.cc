// libFuzzer target: one Postfix queue file (mta/postfix/queue_file.h), seeded with the queue
// files the real Postfix wrote (tests/fixtures/postfix-queue). Differential: the parser reading
// through an input whose every answer lives in a fresh allocation, freed at the next call (as
// the scanner's windows are replaced), must reach the same verdict and fields as reading the
// bytes in place; a view kept across calls is a use-after-free that ASan reports.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz_util.h"
#include "mta/postfix/queue_file.h"

namespace {

void Require(bool ok) {
  if (!ok) std::abort();
}

class FreshCopyInput final : public mailrelay::PostfixQueueFileInput {
 public:
  explicit FreshCopyInput(std::string_view bytes) : bytes_(bytes) {}
  std::uint64_t size() const override { return bytes_.size(); }
  std::string_view Read(std::uint64_t offset, std::size_t len) override {
    current_.reset();
    if (offset >= bytes_.size()) return {};
    std::string_view part = bytes_.substr(static_cast<std::size_t>(offset), len);
    current_ = std::make_unique<char[]>(part.size() + 1);
    std::memcpy(current_.get(), part.data(), part.size());
    return {current_.get(), part.size()};
  }

 private:
  std::string_view bytes_;
  std::unique_ptr<char[]> current_;
};

std::string Name(std::uint32_t uid) { return uid % 2 == 0 ? "user" + std::to_string(uid) : ""; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes = mailrelay::fuzz::AsText(data, size);
  auto direct = mailrelay::ParsePostfixQueueFile(bytes);
  FreshCopyInput input(bytes);
  auto copied = mailrelay::ParsePostfixQueueFile(input);
  Require(direct.ok() == copied.ok());
  if (!direct.ok()) {
    Require(direct.status().message() == copied.status().message());
    return 0;
  }
  const mailrelay::PostfixQueueFile& a = *direct;
  const mailrelay::PostfixQueueFile& b = *copied;
  Require(a.has_size == b.has_size && a.message_size == b.message_size &&
          a.has_arrival_time == b.has_arrival_time && a.arrival_time == b.arrival_time &&
          a.sender == b.sender && a.recipients == b.recipients &&
          a.done_recipients == b.done_recipients && a.sasl_username == b.sasl_username &&
          a.sasl_method == b.sasl_method && a.client_address == b.client_address &&
          a.has_local_uid == b.has_local_uid && a.local_uid == b.local_uid &&
          a.records == b.records);
  Require(a.records <= size / 2 + 1);
  std::string owner = mailrelay::PostfixQueueOwner(a, size % 3 == 0 ? 42 : -1, Name);
  mailrelay::QueueMessage m =
      mailrelay::ToQueueMessage(a, "A1B2C3D4E5", "deferred", size, 1, owner);
  Require(m.recipients == a.recipients && m.owner_label.size() <= 128);
  return 0;
}
