#include "app/signals.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace mailrelay {

namespace {

int g_pipe[2] = {-1, -1};
volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_reload = 0;

void OnSignal(int sig) {
  int saved = errno;
  if (sig == SIGHUP) {
    g_reload = 1;
  } else {
    g_stop = 1;
  }
  char byte = 0;
  if (::write(g_pipe[1], &byte, 1) < 0) {
    // Pipe full: a wake-up is already pending.
  }
  errno = saved;
}

}  // namespace

SignalWaiter::SignalWaiter() {
  if (::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) g_pipe[0] = g_pipe[1] = -1;
  struct sigaction sa {};
  sa.sa_handler = &OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

SignalWaiter::~SignalWaiter() {
  std::signal(SIGHUP, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  for (int& fd : g_pipe) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

SignalWaiter::Event SignalWaiter::Wait() {
  while (true) {
    if (g_stop != 0) return Event::kStop;
    if (g_reload != 0) {
      g_reload = 0;
      return Event::kReload;
    }
    pollfd p{g_pipe[0], POLLIN, 0};
    // The timeout only matters if the pipe could not be created.
    if (::poll(&p, 1, g_pipe[0] >= 0 ? -1 : 200) > 0) {
      char buf[64];
      while (::read(g_pipe[0], buf, sizeof buf) > 0) {
      }
    }
  }
}

}  // namespace mailrelay
