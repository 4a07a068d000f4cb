// Process signals of the live mode: SIGTERM and SIGINT stop, SIGHUP reloads. The handlers only
// set a flag and write a byte to a pipe (async-signal-safe); Wait() blocks on that pipe in the
// main thread, so no signal is lost between checking the flags and sleeping.
#pragma once

namespace mailrelay {

class SignalWaiter {
 public:
  enum class Event { kStop, kReload };

  SignalWaiter();  // installs the handlers (one instance per process) and ignores SIGPIPE
  ~SignalWaiter();
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

  // Blocks until SIGTERM/SIGINT (kStop, also after an earlier one) or SIGHUP (kReload).
  Event Wait();
};

}  // namespace mailrelay
