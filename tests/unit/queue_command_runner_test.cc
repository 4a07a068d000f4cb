// RunCommand: output, exit status, missing binaries, and the hard timeout (a hanging command,
// and one whose child keeps the pipe open).
#include "common/command_runner.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace mailrelay {
namespace {

using Status = CommandResult::Status;

TEST(QueueCommandRunner, CapturesStdout) {
  CommandOptions o;
  auto r = RunCommand({"/bin/echo", "a b", "c"}, o);
  EXPECT_EQ(Status::kOk, r.status) << r.error;
  EXPECT_EQ(0, r.exit_code);
  EXPECT_EQ("a b c\n", r.output);
}

TEST(QueueCommandRunner, StderrIsDiscardedOrMerged) {
  CommandOptions o;
  const std::vector<std::string> argv = {"/usr/bin/ls", "-d", "/", "/no/such/dir/mailrelay"};
  auto r = RunCommand(argv, o);
  EXPECT_EQ(Status::kExitStatus, r.status);
  EXPECT_EQ("/\n", r.output);  // ls's complaint went to /dev/null
  o.merge_stderr = true;
  r = RunCommand(argv, o);
  EXPECT_EQ(Status::kExitStatus, r.status);
  EXPECT_NE(std::string::npos, r.output.find("/no/such/dir/mailrelay")) << r.output;
  EXPECT_NE(std::string::npos, r.output.find("/\n")) << r.output;
}

TEST(QueueCommandRunner, NoShellIsInvolved) {
  CommandOptions o;
  auto r = RunCommand({"/bin/echo", "$HOME;", "`id`", "|", "*"}, o);
  EXPECT_EQ("$HOME; `id` | *\n", r.output);
}

TEST(QueueCommandRunner, LargeOutputAndItsCap) {
  CommandOptions o;
  auto r = RunCommand({"/usr/bin/head", "-c", "3000000", "/dev/zero"}, o);
  EXPECT_EQ(Status::kOk, r.status) << r.error;
  EXPECT_EQ(3000000u, r.output.size());
  o.max_output = 100000;
  r = RunCommand({"/usr/bin/head", "-c", "3000000", "/dev/zero"}, o);
  EXPECT_EQ(Status::kOutputTooLarge, r.status);
}

TEST(QueueCommandRunner, ExitStatusAndStartFailures) {
  CommandOptions o;
  auto r = RunCommand({"/bin/false"}, o);
  EXPECT_EQ(Status::kExitStatus, r.status);
  EXPECT_EQ(1, r.exit_code);
  r = RunCommand({"/nonexistent/exim", "-bp"}, o);
  EXPECT_EQ(Status::kStartFailed, r.status);
  EXPECT_NE(std::string::npos, r.error.find("No such file")) << r.error;
  r = RunCommand({}, o);
  EXPECT_EQ(Status::kStartFailed, r.status);
  r = RunCommand({"/etc/passwd"}, o);  // not executable
  EXPECT_EQ(Status::kStartFailed, r.status);
}

// No bound on how long anything took (the machine may be loaded, and the deadline is kept to
// the millisecond): the outcomes show that the timeout fired and what it killed.

TEST(QueueCommandRunner, HangingCommandIsKilledAtTheTimeout) {
  // sleep 120 would end by itself, with exit status 0: only the kill at the timeout makes the
  // result a timeout. The process is reaped before RunCommand returns.
  CommandOptions o;
  o.timeout_seconds = 0.3;
  auto r = RunCommand({"/bin/sleep", "120"}, o);
  EXPECT_EQ(Status::kTimeout, r.status) << r.error;
  EXPECT_NE(std::string::npos, r.error.find("timed out")) << r.error;
}

// True when `pid` has exited (gone, or a zombie nobody reaped yet). Waits for it: the signal
// that kills it is delivered asynchronously.
bool ExitsSoon(pid_t pid) {
  for (int i = 0; i < 3000; ++i) {  // a cap for a bug (a live process), not a timing bound
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;  // gone
    auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(QueueCommandRunner, ChildHoldingThePipeIsKilledToo) {
  // The shell prints, starts a background sleep that keeps stdout open, records its pid and
  // exits. The timeout kills the whole process group: the background sleep too. The scenario
  // needs the shell to get that far before the timeout; on a loaded machine it may not, so the
  // timeout doubles until it did (the shell then exited long before it).
  char dir_template[] = "/tmp/mailrelay-runner-test-XXXXXX";
  ASSERT_NE(nullptr, ::mkdtemp(dir_template));
  const std::string pidfile = std::string(dir_template) + "/bg.pid";
  CommandOptions o;
  bool exercised = false;
  for (o.timeout_seconds = 0.3; !exercised && o.timeout_seconds < 200; o.timeout_seconds *= 2) {
    std::remove(pidfile.c_str());
    auto r = RunCommand({"/bin/sh", "-c",
                         "echo partial; /bin/sleep 120 & echo $! >" + pidfile + ".tmp; mv " +
                             pidfile + ".tmp " + pidfile + "; exit 0"},
                        o);
    EXPECT_EQ(Status::kTimeout, r.status) << r.error;
    std::ifstream in(pidfile);
    pid_t pid = 0;
    if (!(in >> pid)) continue;  // killed before it got there: again, with a longer timeout
    exercised = true;
    EXPECT_EQ("partial\n", r.output);
    EXPECT_TRUE(ExitsSoon(pid)) << "the background sleep " << pid << " survived the timeout";
  }
  EXPECT_TRUE(exercised);
  std::filesystem::remove_all(dir_template);
}

TEST(QueueCommandRunner, FindExecutable) {
  EXPECT_EQ("/bin/sh", FindExecutable({"/bin/sh"}));
  EXPECT_EQ("", FindExecutable({"surely-not-a-command-xyz", "/nonexistent"}));
  EXPECT_FALSE(FindExecutable({"surely-not-a-command-xyz", "sleep"}).empty());
}

}  // namespace
}  // namespace mailrelay
