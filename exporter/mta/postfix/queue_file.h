// Pure parser of one Postfix queue file (what `postcat -q ID` prints), written from Postfix's
// own documentation of the format (src/global/record.c, rec_type.h, showq(8), pickup(8)):
//
//   record   = type (1 byte) + length + payload; the length is written 7 bits per byte, low
//              bits first, the high bit of a byte meaning "another length byte follows"
//              (Postfix refuses more than 32 bits, i.e. at most 5 length bytes).
//   segments = envelope (C size, T arrival time, A name=value attributes, S sender, R
//              recipients, O/o/n per-recipient data, ...), then M and the content (N/L header
//              and body lines), then X and the extracted segment (R recipients taken from
//              headers, A attributes), then E. Postfix edits committed files in place: a
//              delivered recipient's R becomes D (REC_TYPE_DONE), a recipient cancelled by a
//              milter becomes / (REC_TYPE_DRCP), a record may become K (killed); appended
//              records live after E and are reached through p (pointer) records; w records
//              are padding. A file in the maildrop queue (postdrop's, before pickup(8) copies
//              it) has the same records without C.
//
// What is read follows showq(8), the reader behind `postqueue -j`: the message size is the
// first number of the C record (else the file size), the arrival time the first number of the
// first T record (else the file's mtime), the sender the S record, the recipients the R
// records (only undelivered recipients are still R), and the content is skipped by the C
// record's content length (it starts right after M and ends at X). Beyond showq, the named
// attributes sasl_username / sasl_method / client_address, and the submitting uid of a local
// submission: pickup(8) writes no envelope record for it, only the first content line, its
// own `Received: by HOST (MAIL_NAME, from userid UID)` header, which no sender can put above
// it (a sender's own Received headers come after it).
//
// The parser reads through an input interface (so a reader can fetch only the envelope, the
// first content line and the extracted segment of a large file); it does no I/O itself and
// never throws. Truncated or corrupt input (a record running past the end, no E record, no or
// two S records, a recipient before the sender, a pointer outside the file or a pointer loop)
// is an InvalidArgument status with a short reason and no file content.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "queue/queue_message.h"

namespace mailrelay {

// Random access to the bytes of one queue file.
class PostfixQueueFileInput {
 public:
  virtual ~PostfixQueueFileInput() = default;
  virtual std::uint64_t size() const = 0;
  // The bytes at [offset, offset + len): fewer only at the end of the file or when reading
  // failed (the parser then reports a truncated record). Valid until the next call.
  virtual std::string_view Read(std::uint64_t offset, std::size_t len) = 0;
};

// The whole file in memory.
class PostfixQueueFileBytes final : public PostfixQueueFileInput {
 public:
  explicit PostfixQueueFileBytes(std::string_view bytes) : bytes_(bytes) {}
  std::uint64_t size() const override { return bytes_.size(); }
  std::string_view Read(std::uint64_t offset, std::size_t len) override;

 private:
  std::string_view bytes_;
};

struct PostfixQueueFile {
  bool has_size = false;  // a well-formed C record (maildrop files have none)
  std::uint64_t message_size = 0;
  std::uint64_t content_size = 0;
  bool has_arrival_time = false;      // a T record starting with a non-zero number
  std::int64_t arrival_time = 0;      // Unix seconds
  std::string sender;                 // raw; empty = the null sender (a bounce)
  std::uint64_t recipients = 0;       // R records: not yet delivered
  std::uint64_t done_recipients = 0;  // D and / records: delivered or cancelled
  // Named attributes (A records, "name=value"; the first of each name counts).
  std::string sasl_username;
  std::string sasl_method;
  std::string client_address;  // client_address, else log_client_address; "" = not SMTP
  // The uid in pickup's `Received: ... from userid N)` first content line.
  bool has_local_uid = false;
  std::uint32_t local_uid = 0;
  std::uint64_t records = 0;  // records visited (pointer records included)
};

// Reads the file. At most max_record_bytes per record (Postfix's own records are far smaller).
StatusOr<PostfixQueueFile> ParsePostfixQueueFile(PostfixQueueFileInput& input,
                                                 std::size_t max_record_bytes = 16u << 20);
StatusOr<PostfixQueueFile> ParsePostfixQueueFile(std::string_view bytes);

// The login name of a uid; "" when it has none (the shape of PostfixCorrelator::UidResolver;
// SystemUidName in correlator.h is the default).
using PostfixUidResolver = std::function<std::string(std::uint32_t uid)>;

// Who submitted the message, for QueueMessage::owner_label (before sanitising): the SASL login
// (sasl_username) of authenticated SMTP; else, for a local submission, the login name of the
// submitting uid (pickup's Received header of a message without client_address; for a file
// still in the maildrop, the file's owner, `maildrop_owner_uid` >= 0), or the uid as a number
// when it has no name (as the log reader counts pickup's `uid=N`); else "" (unauthenticated
// SMTP, bounces, mail Postfix forwarded or generated itself).
std::string PostfixQueueOwner(const PostfixQueueFile& file, std::int64_t maildrop_owner_uid,
                              const PostfixUidResolver& resolve);

// The queue message as the queue metrics see it (owner as PostfixQueueOwner gives it): size
// and arrival time fall back on the file's size and mtime as showq's do.
QueueMessage ToQueueMessage(const PostfixQueueFile& file, std::string_view id,
                            std::string_view queue, std::uint64_t file_size,
                            std::int64_t file_mtime, std::string_view owner);

}  // namespace mailrelay
