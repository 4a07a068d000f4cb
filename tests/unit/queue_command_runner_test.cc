// RunCommand: output, exit status, missing binaries, and the hard timeout (a hanging command,
// and one whose child keeps the pipe open).
#include "common/command_runner.h"

#include <gtest/gtest.h>

#include <chrono>

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

TEST(QueueCommandRunner, HangingCommandIsKilledAtTheTimeout) {
  CommandOptions o;
  o.timeout_seconds = 0.3;
  auto start = std::chrono::steady_clock::now();
  auto r = RunCommand({"/bin/sleep", "30"}, o);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(Status::kTimeout, r.status);
  EXPECT_GE(took, 0.3);
  EXPECT_LT(took, 3.0);
}

TEST(QueueCommandRunner, ChildHoldingThePipeIsKilledToo) {
  // The shell prints, exits at once, and leaves a background sleep holding stdout.
  CommandOptions o;
  o.timeout_seconds = 0.3;
  auto start = std::chrono::steady_clock::now();
  auto r = RunCommand({"/bin/sh", "-c", "echo partial; /bin/sleep 30 & exit 0"}, o);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(Status::kTimeout, r.status);
  EXPECT_EQ("partial\n", r.output);
  EXPECT_LT(took, 3.0);
}

TEST(QueueCommandRunner, FindExecutable) {
  EXPECT_EQ("/bin/sh", FindExecutable({"/bin/sh"}));
  EXPECT_EQ("", FindExecutable({"surely-not-a-command-xyz", "/nonexistent"}));
  EXPECT_FALSE(FindExecutable({"surely-not-a-command-xyz", "sleep"}).empty());
}

}  // namespace
}  // namespace mailrelay
