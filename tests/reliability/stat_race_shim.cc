// stat_race_shim: an LD_PRELOAD library for tests/reliability/rotation_drain.sh. It stages the
// race a tailer must survive at a rotation: lines written to the old file after the tailer's
// last read of it and before it notices that the path names a new file. It wraps stat(2): the
// first time stat() of RACE_PATH succeeds on a file other than inode RACE_OLD_INODE (the log
// was rotated), it first appends RACE_LINE and a newline to RACE_OLD_PATH (where the old file
// now is), then returns the real result. A tailer that checks the path with stat() after
// reading the old file to its end must read the old file once more before it switches, or lose
// that line. Without the three variables it changes nothing.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using StatFn = int (*)(const char*, struct stat*);

std::atomic<bool> fired{false};

void MaybeFire(const char* path, const struct stat* st) {
  const char* race_path = std::getenv("RACE_PATH");
  const char* old_inode = std::getenv("RACE_OLD_INODE");
  const char* old_path = std::getenv("RACE_OLD_PATH");
  const char* line = std::getenv("RACE_LINE");
  if (race_path == nullptr || old_inode == nullptr || old_path == nullptr || line == nullptr ||
      std::strcmp(path, race_path) != 0 ||
      st->st_ino == static_cast<ino_t>(std::strtoull(old_inode, nullptr, 10))) {
    return;
  }
  if (fired.exchange(true)) return;
  int fd = ::open(old_path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return;
  std::string text = std::string(line) + "\n";
  ssize_t w = ::write(fd, text.data(), text.size());
  (void)w;
  ::close(fd);
}

}  // namespace

extern "C" int stat(const char* path, struct stat* st) {
  static const auto real = reinterpret_cast<StatFn>(::dlsym(RTLD_NEXT, "stat"));
  int r = real(path, st);
  if (r == 0) MaybeFire(path, st);
  return r;
}
