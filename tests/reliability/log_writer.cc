// log_writer: test helper for tests/reliability/. Appends numbered Exim `<=` lines to a log at a
// given rate, splitting lines across write() calls, and rotates the log while writing, mixing
// rename+create, copytruncate and delete+recreate. Like Exim, it reopens the path when the file it
// writes to was renamed or deleted by someone else (checked before every write).
// --format=postfix writes Postfix syslog lines instead, three per message (smtpd client= with
// SASL, qmgr from= ... (queue active), qmgr removed) under the message's own queue id: line n
// is part (n - 1) % 3 of message (n - 1) / 3, so --lines and --first - 1 must be multiples of 3.
//
//   log_writer --path=P --lines=N [--first=1] [--rate=LINES_PER_S] [--rotations=R]
//              [--modes=rename,copytruncate,delete] [--pace-pidfile=F] [--pace=full|none]
//              [--seed=S] [--format=exim|postfix]
//
// Pacing (--pace-pidfile names the file holding the exporter's pid): the reader under test must
// have opened the current file before it is renamed or deleted (else a file rotated twice before
// the reader saw it would never be read, whatever the reader does), and for copytruncate
// (--pace=full) the writer pauses around the copy: it waits until the reader has read the whole
// file, copies, truncates, and waits until the reader noticed the truncation. It looks at the
// reader's file descriptors in /proc/PID/fd and their offsets in /proc/PID/fdinfo. With
// --pace=none copytruncate does not wait, and the writer reports how many complete lines the
// reader had not read when the file was truncated (the copytruncate window, lost to a tailer).
//
// Prints a summary as key=value lines on stdout.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string path;
  std::uint64_t lines = 100000;
  std::uint64_t first = 1;
  double rate = 0;  // lines per second, 0 = as fast as possible
  std::uint64_t rotations = 0;
  std::vector<std::string> modes = {"rename"};
  std::string pace_pidfile;
  bool pace_full = true;
  std::uint32_t seed = 1;
  bool postfix = false;
};

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "log_writer: %s\n", msg.c_str());
  std::exit(1);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto pos = s.find(sep, start);
    if (pos == std::string::npos) pos = s.size();
    if (pos > start) out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
  return out;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string::npos) Die("bad argument " + a);
    std::string k = a.substr(2, eq - 2);
    std::string v = a.substr(eq + 1);
    if (k == "path") {
      o.path = v;
    } else if (k == "lines") {
      o.lines = std::stoull(v);
    } else if (k == "first") {
      o.first = std::stoull(v);
    } else if (k == "rate") {
      o.rate = std::stod(v);
    } else if (k == "rotations") {
      o.rotations = std::stoull(v);
    } else if (k == "modes") {
      o.modes = Split(v, ',');
    } else if (k == "pace-pidfile") {
      o.pace_pidfile = v;
    } else if (k == "pace") {
      o.pace_full = v == "full";
    } else if (k == "seed") {
      o.seed = static_cast<std::uint32_t>(std::stoul(v));
    } else if (k == "format") {
      if (v != "exim" && v != "postfix") Die("unknown format " + v);
      o.postfix = v == "postfix";
    } else {
      Die("unknown flag --" + k);
    }
  }
  if (o.path.empty()) Die("--path is required");
  for (const auto& m : o.modes) {
    if (m != "rename" && m != "copytruncate" && m != "delete") Die("unknown mode " + m);
  }
  if (o.modes.empty()) Die("--modes is empty");
  if (o.postfix && (o.lines % 3 != 0 || (o.first - 1) % 3 != 0)) {
    Die("--format=postfix needs --lines and --first - 1 to be multiples of 3");
  }
  return o;
}

const char kB62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// An Exim 4 message id (16 chars) that encodes n.
std::string MessageId(std::uint64_t n) {
  std::string id = "000000-000000-00";
  for (int i = 5; i >= 0; --i) {
    id[static_cast<std::size_t>(i)] = kB62[n % 62];
    n /= 62;
  }
  return id;
}

// Line n of the Postfix stream: part (n - 1) % 3 of message (n - 1) / 3.
std::string PostfixLine(std::uint64_t n) {
  std::uint64_t k = (n - 1) / 3;
  char qid[24];
  std::snprintf(qid, sizeof qid, "%010llX", static_cast<unsigned long long>(k + 0x1000000));
  std::uint64_t user = k % 97;
  std::string prefix = std::string("Mar  1 12:00:00 mx postfix/");
  switch ((n - 1) % 3) {
    case 0:
      return prefix + "smtpd[123]: " + qid + ": client=unknown[192.0.2." +
             std::to_string(1 + k % 200) + "], sasl_method=PLAIN, sasl_username=user" +
             std::to_string(user) + "@example.com\n";
    case 1:
      return prefix + "qmgr[124]: " + qid + ": from=<user" + std::to_string(user) +
             "@example.com>, size=" + std::to_string(1000 + k % 5000) +
             ", nrcpt=1 (queue active)\n";
    default:
      return prefix + "qmgr[124]: " + qid + ": removed\n";
  }
}

std::string Line(std::uint64_t n) {
  std::uint64_t user = n % 97;
  return "2024-03-01 12:00:00 " + MessageId(n) + " <= user" + std::to_string(user) +
         "@example.com H=(client.example.net) [192.0.2." + std::to_string(1 + n % 200) +
         "]:40000 P=esmtpsa A=dovecot_plain:user" + std::to_string(user) +
         "@example.com S=" + std::to_string(1000 + n % 5000) + " id=n" + std::to_string(n) +
         "@writer.example\n";
}

struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
};

class Writer {
 public:
  explicit Writer(Options o) : o_(std::move(o)), rng_(o_.seed) { Reopen(); }

  void Run() {
    std::uint64_t per_rotation = o_.rotations == 0 ? 0 : o_.lines / (o_.rotations + 1);
    std::uint64_t next_rotation = per_rotation;
    std::uniform_int_distribution<std::size_t> batch_dist(1, 200);
    auto start = Clock::now();
    auto pace_base = start;
    std::uint64_t n = 0;
    std::size_t mode_index = 0;
    while (n < o_.lines) {
      std::size_t batch = std::min<std::uint64_t>(batch_dist(rng_), o_.lines - n);
      std::string text;
      for (std::size_t i = 0; i < batch; ++i) {
        text += o_.postfix ? PostfixLine(o_.first + n + i) : Line(o_.first + n + i);
      }
      // Rotate inside this batch if due, at a random cut (possibly mid-line).
      bool rotate_here =
          per_rotation != 0 && rotations_ < o_.rotations && n + batch >= next_rotation;
      std::size_t rotate_at =
          rotate_here ? std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(rng_)
                      : text.size();
      // Split into pieces at random cuts so that lines straddle write() calls.
      std::vector<std::size_t> cuts = {0, text.size()};
      for (int c = 0; c < 3; ++c) {
        cuts.push_back(std::uniform_int_distribution<std::size_t>(0, text.size())(rng_));
      }
      if (rotate_here) cuts.push_back(rotate_at);
      std::sort(cuts.begin(), cuts.end());
      cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
      for (std::size_t c = 0; c + 1 < cuts.size(); ++c) {
        if (rotate_here && cuts[c] == rotate_at) {
          std::string mode = o_.modes[mode_index++ % o_.modes.size()];
          if (o_.modes.size() > 1 && mode_index % o_.modes.size() == 0) {
            std::shuffle(o_.modes.begin(), o_.modes.end(), rng_);
          }
          Rotate(mode);
          next_rotation += per_rotation;
        }
        Write(text.data() + cuts[c], cuts[c + 1] - cuts[c]);
      }
      n += batch;
      if (o_.rate > 0) {
        auto due = std::chrono::time_point_cast<Clock::duration>(
            pace_base + std::chrono::duration<double>(static_cast<double>(n) / o_.rate));
        auto now = Clock::now();
        if (now > due + std::chrono::milliseconds(100)) {
          pace_base += now - due;  // was stopped or paced: do not burst to catch up
        } else {
          std::this_thread::sleep_until(due);
        }
      }
    }
    ::fsync(fd_);
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf(
        "lines=%llu\nbytes=%llu\nrotations=%llu\nrename=%llu\ncopytruncate=%llu\ndelete=%llu\n"
        "seconds=%.3f\nlines_per_second=%.0f\npace_wait_max_ms=%.1f\n"
        "copytruncate_unread_lines=%llu\nreopens=%llu\n",
        static_cast<unsigned long long>(n), static_cast<unsigned long long>(bytes_),
        static_cast<unsigned long long>(rotations_), static_cast<unsigned long long>(by_mode_[0]),
        static_cast<unsigned long long>(by_mode_[1]), static_cast<unsigned long long>(by_mode_[2]),
        secs, static_cast<double>(n) / secs, pace_wait_max_ms_,
        static_cast<unsigned long long>(unread_lines_), static_cast<unsigned long long>(reopens_));
  }

 private:
  void Reopen() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::open(o_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) Die("open " + o_.path + ": " + std::strerror(errno));
    struct stat st {};
    ::fstat(fd_, &st);
    cur_ = {st.st_dev, st.st_ino};
  }

  void Write(const char* p, std::size_t n) {
    // Exim-like: reopen when the path no longer names our file (renamed/deleted by others).
    struct stat st {};
    if (late_write_) {
      late_write_ = false;  // this write goes to the old file; the next one reopens
    } else if (::stat(o_.path.c_str(), &st) != 0 || st.st_ino != cur_.ino ||
               st.st_dev != cur_.dev) {
      Reopen();
      ++reopens_;
    }
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) Die(std::string("write: ") + std::strerror(errno));
      p += w;
      n -= static_cast<std::size_t>(w);
      bytes_ += static_cast<std::uint64_t>(w);
    }
  }

  pid_t ReaderPid() {
    std::ifstream in(o_.pace_pidfile);
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid);
  }

  // Offset of the reader's descriptor on the file `id`, or -1 if it has none.
  long long ReaderOffset(pid_t pid, FileId id) {
    std::string fds = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = ::opendir(fds.c_str());
    if (d == nullptr) return -1;
    long long pos = -1;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      struct stat st {};
      if (::stat((fds + "/" + e->d_name).c_str(), &st) != 0) continue;
      if (st.st_ino != id.ino || st.st_dev != id.dev) continue;
      std::ifstream info("/proc/" + std::to_string(pid) + "/fdinfo/" + e->d_name);
      std::string key;
      long long value = 0;
      if (info >> key >> value && key == "pos:") pos = std::max(pos, value);
    }
    ::closedir(d);
    return pos;
  }

  bool PathIsCurrent() {
    struct stat st {};
    return ::stat(o_.path.c_str(), &st) == 0 && st.st_ino == cur_.ino && st.st_dev == cur_.dev;
  }

  // Waits until cond(reader offset on the current file) holds; false when someone else rotated
  // the file meanwhile. Gives up after 20 s.
  template <typename Cond>
  bool WaitReader(Cond cond, const char* what) {
    if (o_.pace_pidfile.empty()) return true;
    auto start = Clock::now();
    while (true) {
      pid_t pid = ReaderPid();
      if (pid > 0 && cond(ReaderOffset(pid, cur_))) break;
      if (!PathIsCurrent()) return false;
      if (Clock::now() - start > std::chrono::seconds(20)) Die(std::string("reader never ") + what);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    pace_wait_max_ms_ = std::max(pace_wait_max_ms_, ms);
    return true;
  }

  long long FileSize() {
    struct stat st {};
    ::fstat(fd_, &st);
    return static_cast<long long>(st.st_size);
  }

  void CopyTo(const std::string& to) {
    int in = ::open(o_.path.c_str(), O_RDONLY | O_CLOEXEC);
    int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (in < 0 || out < 0) Die("copytruncate: cannot open");
    char buf[1 << 16];
    while (true) {
      ssize_t n = ::read(in, buf, sizeof buf);
      if (n <= 0) break;
      if (::write(out, buf, static_cast<std::size_t>(n)) != n) Die("copytruncate: short write");
    }
    ::close(in);
    ::close(out);
  }

  // Returns with fd_ still on the old file when the next write is a late one (late_write_).
  void Rotate(const std::string& mode) {
    late_write_ = false;
    ++rotations_;
    std::string old = o_.path + ".1";
    if (mode == "copytruncate") {
      ++by_mode_[1];
      if (o_.pace_full) {
        long long size = FileSize();
        WaitReader([size](long long pos) { return pos >= size; }, "caught up before copytruncate");
      }
      CopyTo(old);
      if (!o_.pace_full && !o_.pace_pidfile.empty()) {
        // Measure the window: complete lines the reader has not read when the file is truncated
        // exist only in the copy and are lost to a tail -F reader.
        long long pos = std::max(0LL, ReaderOffset(ReaderPid(), cur_));
        std::ifstream in(o_.path, std::ios::binary);
        in.seekg(pos);
        std::string rest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        unread_lines_ += static_cast<std::uint64_t>(std::count(rest.begin(), rest.end(), '\n'));
      }
      if (::ftruncate(fd_, 0) != 0) Die("ftruncate");
      if (o_.pace_full) {
        WaitReader([](long long pos) { return pos == 0; }, "noticed the truncation");
      }
      return;
    }
    // rename and delete: the reader must hold the current file before it goes away. If someone
    // else rotated it meanwhile (the restart test does), just follow the new file.
    if (!PathIsCurrent() ||
        !WaitReader([](long long pos) { return pos >= 0; }, "opened the current file")) {
      --rotations_;
      Reopen();
      ++reopens_;
      return;
    }
    std::uniform_int_distribution<int> coin(0, 1);
    bool late_write = coin(rng_) == 1;
    if (mode == "rename") {
      ++by_mode_[0];
      if (::rename(o_.path.c_str(), old.c_str()) != 0) Die("rename");
    } else {
      ++by_mode_[2];
      if (::unlink(o_.path.c_str()) != 0) Die("unlink");
    }
    // Half of the time the next write still goes to the old file, as when the writer has not
    // noticed the rotation yet; the reader drains the old file first.
    late_write_ = late_write;
    if (!late_write) Reopen();
  }

  Options o_;
  std::mt19937 rng_;
  int fd_ = -1;
  FileId cur_;
  std::uint64_t bytes_ = 0;
  std::uint64_t rotations_ = 0;
  std::uint64_t by_mode_[3] = {0, 0, 0};
  std::uint64_t unread_lines_ = 0;
  std::uint64_t reopens_ = 0;
  bool late_write_ = false;
  double pace_wait_max_ms_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Writer w(ParseArgs(argc, argv));
  w.Run();
  return 0;
}
