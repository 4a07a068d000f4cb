// ParsePostfixQueueFile over queue files the real Postfix wrote (tests/fixtures/postfix-queue):
// every field equals what Postfix's own readers (postqueue -j, postcat) said of the same file;
// plus hand-built files for what the fixtures lack (pointer records, padding, odd records),
// and truncated and damaged files, which must give an error, never a crash.
#include "mta/postfix/queue_file.h"

#include <gtest/gtest.h>

#include <map>

#include "postfix_queue_fixtures.h"

namespace mailrelay {
namespace {

using testing::PostcatCount;
using testing::PostcatValue;
using testing::PostfixCase;
using testing::PostfixCases;
using testing::ReadFixture;

std::string FakeNames(std::uint32_t uid) {
  static const std::map<std::uint32_t, std::string> names = {
      {0, "root"}, {33, "www-data"}, {65534, "nobody"}};
  auto it = names.find(uid);
  return it == names.end() ? std::string() : it->second;
}

TEST(PostfixQueueFile, FixturesMatchPostqueueAndPostcat) {
  std::vector<PostfixCase> cases = PostfixCases();
  for (const PostfixCase& c : cases) {
    SCOPED_TRACE(c.name);
    StatusOr<PostfixQueueFile> parsed = ParsePostfixQueueFile(c.bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    const PostfixQueueFile& f = *parsed;
    QueueMessage m = ToQueueMessage(f, c.id, c.queue, c.bytes.size(), 1, "");
    // postqueue -j (showq): same sender, size, arrival time and recipients.
    EXPECT_EQ(m.id, c.listed.queue_id);
    EXPECT_EQ(m.queue, c.listed.queue_name);
    EXPECT_EQ(IsPostfixBounceSender(f.sender), IsPostfixBounceSender(c.listed.sender));
    if (!m.bounce) {
      EXPECT_EQ(f.sender, c.listed.sender);
    }
    EXPECT_EQ(m.size_bytes, c.listed.message_size);
    EXPECT_EQ(m.received_time, c.listed.arrival_time);
    EXPECT_EQ(f.recipients, c.listed.recipients.size());
    EXPECT_EQ(m.recipients, c.listed.recipients.size());
    // postcat: the named attributes, delivered recipients, and pickup's Received header.
    EXPECT_EQ(f.sasl_username, PostcatValue(c.postcat, "named_attribute: sasl_username="));
    EXPECT_EQ(f.sasl_method, PostcatValue(c.postcat, "named_attribute: sasl_method="));
    EXPECT_EQ(f.client_address, PostcatValue(c.postcat, "named_attribute: client_address="));
    EXPECT_EQ(f.recipients, PostcatCount(c.postcat, "recipient: "));
    EXPECT_EQ(f.done_recipients, PostcatCount(c.postcat, "done_recipient: "));
    std::string received =
        PostcatValue(c.postcat, "Received: by mx.example.test (Postfix, from userid ");
    EXPECT_EQ(f.has_local_uid, !received.empty());
    if (f.has_local_uid) {
      EXPECT_EQ(std::to_string(f.local_uid) + ")", received);
    }
  }
}

TEST(PostfixQueueFile, FixtureOwners) {
  const std::map<std::string, std::string> owners = {
      {"smtp_auth_plain", "alice@mx.example.test"},
      {"smtp_auth_login", "bob@mx.example.test"},
      {"smtp_auth_large", "carol@mx.example.test"},
      {"smtp_auth_many_rcpt", "alice@mx.example.test"},
      {"smtp_unauth", ""},
      {"bounce", ""},
      {"hold", ""},
      {"pickup_nobody", "nobody"},
      {"pickup_root", "root"},
      {"pickup_www_data_t", "www-data"},
      {"maildrop", "www-data"},  // the maildrop file's owner (uid 33)
  };
  for (const PostfixCase& c : PostfixCases()) {
    SCOPED_TRACE(c.name);
    StatusOr<PostfixQueueFile> parsed = ParsePostfixQueueFile(c.bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    std::int64_t maildrop_uid = c.queue == "maildrop" ? 33 : -1;
    EXPECT_EQ(PostfixQueueOwner(*parsed, maildrop_uid, FakeNames), owners.at(c.name));
    QueueMessage m = ToQueueMessage(*parsed, c.id, c.queue, c.bytes.size(), 1,
                                    PostfixQueueOwner(*parsed, maildrop_uid, FakeNames));
    EXPECT_EQ(m.owner_label, owners.at(c.name));
    EXPECT_EQ(m.bounce, c.name == "bounce");
    EXPECT_EQ(m.sender_label, c.name == "bounce" ? "<>" : c.listed.sender);
  }
}

TEST(PostfixQueueFile, DamagedFixturesAreErrors) {
  const std::map<std::string, std::string> errors = {
      {"corrupt_truncated_envelope.qf", "record runs past the end of the file at offset 97"},
      {"corrupt_no_end.qf", "no end record (truncated file)"},
      {"corrupt_truncated_content.qf", "record runs past the end of the file at offset 19988"},
      {"corrupt_length_bits.qf", "record length of more than 32 bits at offset 0"},
      {"corrupt_recipient_first.qf", "recipient before the sender at offset 242"},
  };
  for (const auto& [file, error] : errors) {
    SCOPED_TRACE(file);
    StatusOr<PostfixQueueFile> parsed = ParsePostfixQueueFile(ReadFixture(file));
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parsed.status().message(), error);
  }
}

// Every strict prefix of a real queue file lacks its end record: always an error.
TEST(PostfixQueueFile, EveryTruncationIsAnError) {
  for (const PostfixCase& c : PostfixCases()) {
    SCOPED_TRACE(c.name);
    std::size_t step = c.bytes.size() > 4096 ? 97 : 1;
    for (std::size_t n = 0; n < c.bytes.size(); n += step) {
      EXPECT_FALSE(ParsePostfixQueueFile(std::string_view(c.bytes).substr(0, n)).ok()) << n;
    }
  }
}

// Damage each byte of the small files in a few ways: any verdict, no crash (ASan/UBSan runs).
TEST(PostfixQueueFile, DamagedBytesNeverCrash) {
  for (const PostfixCase& c : PostfixCases()) {
    if (c.bytes.size() > 4096) continue;
    std::string bytes = c.bytes;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      char saved = bytes[i];
      for (char v : {'\0', '\x7f', '\xff', 'p', 'E', 'S', 'M', 'R'}) {
        bytes[i] = v;
        StatusOr<PostfixQueueFile> parsed = ParsePostfixQueueFile(bytes);
        if (parsed.ok()) {
          EXPECT_LE(parsed->records, bytes.size() / 2 + 1);
        }
      }
      bytes[i] = saved;
    }
  }
}

// A reader that counts what the parser asks for.
class CountingInput final : public PostfixQueueFileInput {
 public:
  explicit CountingInput(std::string_view bytes) : bytes_(bytes) {}
  std::uint64_t size() const override { return bytes_.size(); }
  std::string_view Read(std::uint64_t offset, std::size_t len) override {
    std::string_view got = bytes_.Read(offset, len);
    requested += got.size();
    return got;
  }
  std::uint64_t requested = 0;

 private:
  PostfixQueueFileBytes bytes_;
};

TEST(PostfixQueueFile, ContentIsSkipped) {
  std::string large = ReadFixture("smtp_auth_large.qf");
  ASSERT_GT(large.size(), 40000u);
  CountingInput input(large);
  StatusOr<PostfixQueueFile> parsed = ParsePostfixQueueFile(input);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->recipients, 1u);
  EXPECT_LT(input.requested, 4096u);  // the envelope and the first content line only
}

// --- Hand-built files -----------------------------------------------------------------------

std::string Rec(char type, std::string_view payload) {
  std::string out(1, type);
  std::size_t len = payload.size();
  do {
    auto b = static_cast<unsigned char>(len & 0x7f);
    len >>= 7;
    if (len != 0) b |= 0x80;
    out += static_cast<char>(b);
  } while (len != 0);
  out += payload;
  return out;
}

std::string Number15(std::uint64_t v) {
  std::string s = std::to_string(v);
  return std::string(15 - s.size(), ' ') + s;
}

std::string SizeRecord(std::uint64_t content) {
  return Rec('C', Number15(content) + " " + Number15(0) + " " + Number15(1) + " " + Number15(0) +
                      " " + Number15(content) + " " + Number15(0));
}

// C, the envelope, M, the content, X, the extracted segment, E.
std::string File(const std::string& envelope, const std::string& content,
                 const std::string& extracted = "") {
  return SizeRecord(content.size()) + envelope + Rec('M', "") + content + Rec('X', "") + extracted +
         Rec('E', "");
}

const std::string kContent = Rec('N', "Subject: hi") + Rec('N', "") + Rec('N', "body");

TEST(PostfixQueueFile, RecordTypesThatDoNotCount) {
  std::string envelope = Rec('T', "1700000000 123456") + Rec('A', "create_time=1700000000") +
                         Rec('S', "") + Rec('A', "dsn_orig_rcpt=rfc822;a@x") + Rec('O', "a@x") +
                         Rec('D', "a@x") + Rec('/', "b@x") + Rec('K', "c@x") + Rec('R', "d@x") +
                         Rec('w', "          ") + Rec('p', Number15(0)) + Rec('R', "e@x");
  StatusOr<PostfixQueueFile> f = ParsePostfixQueueFile(File(envelope, kContent));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->recipients, 2u);
  EXPECT_EQ(f->done_recipients, 2u);
  EXPECT_EQ(f->sender, "");
  EXPECT_TRUE(f->has_arrival_time);
  EXPECT_EQ(f->arrival_time, 1700000000);
  EXPECT_TRUE(f->has_size);
  EXPECT_EQ(f->message_size, kContent.size());
  EXPECT_FALSE(f->has_local_uid);
}

TEST(PostfixQueueFile, PointerToAppendedRecords) {
  // ... R r1, p -> heap (after E): R r2, p -> back; M ... X ... E.
  std::string head =
      SizeRecord(kContent.size()) + Rec('T', "1700000000 0") + Rec('S', "s@x") + Rec('R', "r1@x");
  std::string rest = Rec('M', "") + kContent + Rec('X', "") + Rec('R', "r3@x") + Rec('E', "");
  std::size_t pointer_size = Rec('p', Number15(0)).size();
  std::size_t back = head.size() + pointer_size;
  std::size_t heap = back + rest.size();
  std::string file = head + Rec('p', Number15(heap)) + rest + Rec('R', "r2@x") +
                     Rec('A', "sasl_username=heap") + Rec('p', Number15(back));
  StatusOr<PostfixQueueFile> f = ParsePostfixQueueFile(file);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->recipients, 3u);
  EXPECT_EQ(f->sasl_username, "heap");
}

TEST(PostfixQueueFile, BadPointers) {
  std::string head = SizeRecord(kContent.size()) + Rec('S', "s@x");
  std::string tail = Rec('M', "") + kContent + Rec('X', "") + Rec('E', "");
  std::size_t self = head.size();
  auto parse = [&](const std::string& pointer_payload) {
    return ParsePostfixQueueFile(head + Rec('p', pointer_payload) + tail);
  };
  StatusOr<PostfixQueueFile> loop = parse(Number15(self));
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.status().message(), "pointer records loop");
  StatusOr<PostfixQueueFile> past = parse(Number15(100000));
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.status().message(),
            "pointer past the end of the file at offset " + std::to_string(self));
  StatusOr<PostfixQueueFile> bad = parse("12x");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "malformed pointer record at offset " + std::to_string(self));
}

TEST(PostfixQueueFile, ContentWalkedWhenTheSizeRecordIsWrong) {
  std::string envelope = Rec('S', "s@x") + Rec('R', "r@x");
  // A content length that does not land on X: the content records are walked instead.
  std::string file = SizeRecord(3) + envelope + Rec('M', "") + kContent + Rec('X', "") +
                     Rec('R', "r2@x") + Rec('E', "");
  StatusOr<PostfixQueueFile> f = ParsePostfixQueueFile(file);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->recipients, 2u);
  // A malformed size record: no size (the file size stands in, as in showq).
  std::string odd =
      Rec('C', "12 abc") + envelope + Rec('M', "") + kContent + Rec('X', "") + Rec('E', "");
  f = ParsePostfixQueueFile(odd);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_FALSE(f->has_size);
  EXPECT_EQ(ToQueueMessage(*f, "ID", "deferred", odd.size(), 5, "").size_bytes, odd.size());
  EXPECT_EQ(ToQueueMessage(*f, "ID", "deferred", odd.size(), 5, "").received_time, 5);
}

TEST(PostfixQueueFile, LongRecordLengths) {
  std::string big(20000, 'a');  // three length bytes
  std::string file = File(Rec('S', "s@x") + Rec('A', "x=" + big) + Rec('R', "r@x"), kContent);
  StatusOr<PostfixQueueFile> f = ParsePostfixQueueFile(file);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->recipients, 1u);
  PostfixQueueFileBytes input(file);
  StatusOr<PostfixQueueFile> limited = ParsePostfixQueueFile(input, 1000);
  ASSERT_FALSE(limited.ok());
  EXPECT_NE(limited.status().message().find("record too long (20002 bytes)"), std::string::npos);
}

TEST(PostfixQueueFile, SenderRules) {
  auto parse = [](const std::string& envelope) {
    return ParsePostfixQueueFile(File(envelope, kContent));
  };
  EXPECT_EQ(parse(Rec('T', "1700000000 0")).status().message(), "no sender record");
  EXPECT_EQ(parse(Rec('R', "r@x")).status().message(),
            "recipient before the sender at offset " + std::to_string(SizeRecord(0).size()));
  EXPECT_EQ(parse(Rec('S', "a@x") + Rec('S', "b@x")).status().message(),
            "second sender record at offset " + std::to_string(SizeRecord(0).size() + 5));
  EXPECT_FALSE(ParsePostfixQueueFile(SizeRecord(0) + Rec('S', "a@x")).ok());  // no E
  EXPECT_FALSE(ParsePostfixQueueFile("").ok());
}

TEST(PostfixQueueFile, PickupReceivedHeader) {
  auto uid_of = [](const std::string& first_line, const std::string& before = "") {
    std::string content = before + Rec('N', first_line) + Rec('N', "\tid X; date") + kContent;
    StatusOr<PostfixQueueFile> f = ParsePostfixQueueFile(File(Rec('S', "s@x"), content));
    EXPECT_TRUE(f.ok());
    return f.ok() && f->has_local_uid ? static_cast<std::int64_t>(f->local_uid) : -1;
  };
  EXPECT_EQ(uid_of("Received: by mx.example.test (Postfix, from userid 33)"), 33);
  EXPECT_EQ(uid_of("Received: by h (Mail, from userid 0)"), 0);
  EXPECT_EQ(uid_of("Received: by h (Postfix, from userid 4294967295)"), 4294967295);
  EXPECT_EQ(uid_of("Received: by h (Postfix, from userid 4294967296)"), -1);
  EXPECT_EQ(uid_of("Received: by h (Postfix, from userid 33) "), -1);
  EXPECT_EQ(uid_of("Received: by h (Postfix, from userid  33)"), -1);
  EXPECT_EQ(uid_of("Received: by h (Postfix, from userid x)"), -1);
  EXPECT_EQ(uid_of("Received: from h (h [1.2.3.4]) by mx (Postfix, from userid 33)"), -1);
  EXPECT_EQ(uid_of("Received: by mx.example.test (Postfix)"), -1);
  // Padding and a dummy pointer before it are passed over.
  EXPECT_EQ(
      uid_of("Received: by h (Postfix, from userid 7)", Rec('w', "   ") + Rec('p', Number15(0))),
      7);
  // Only the first content line counts: a sender's own header further down does not.
  std::string content =
      Rec('N', "Subject: x") + Rec('N', "Received: by h (Postfix, from userid 0)") + kContent;
  StatusOr<PostfixQueueFile> f = ParsePostfixQueueFile(File(Rec('S', "s@x"), content));
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->has_local_uid);
}

TEST(PostfixQueueFile, OwnerRule) {
  PostfixQueueFile f;
  f.has_local_uid = true;
  f.local_uid = 33;
  EXPECT_EQ(PostfixQueueOwner(f, -1, FakeNames), "www-data");
  EXPECT_EQ(PostfixQueueOwner(f, 0, FakeNames), "www-data");  // the header wins
  f.local_uid = 1234;
  EXPECT_EQ(PostfixQueueOwner(f, -1, FakeNames), "1234");  // no name: the number
  EXPECT_EQ(PostfixQueueOwner(f, -1, nullptr), "1234");
  f.client_address = "192.0.2.1";  // came by SMTP: the header is not pickup's
  EXPECT_EQ(PostfixQueueOwner(f, -1, FakeNames), "");
  f.sasl_username = "alice";
  EXPECT_EQ(PostfixQueueOwner(f, -1, FakeNames), "alice");
  PostfixQueueFile maildrop;
  EXPECT_EQ(PostfixQueueOwner(maildrop, 65534, FakeNames), "nobody");
  EXPECT_EQ(PostfixQueueOwner(maildrop, -1, FakeNames), "");
}

}  // namespace
}  // namespace mailrelay
