// --path.rootfs (node_exporter's flag): where the host's root file system is, e.g. /host in a
// container that mounts the host's / there. Every path the exporter looks for on its own (an
// MTA's logs, spool and installed files) is looked up under it; a path given in a flag is used
// as it is. Programs the exporter runs (queue commands) are not: they are found in the
// exporter's own PATH and run there.
#pragma once

#include <string>
#include <string_view>

namespace mailrelay {

class RootFs {
 public:
  explicit RootFs(std::string root = "/");

  const std::string& root() const { return root_; }  // without a trailing '/' (except "/")
  bool is_host_root() const { return root_ == "/"; }

  // A path of the host ("/var/log/maillog") under the root ("/host/var/log/maillog").
  std::string Path(std::string_view host_path) const;
  // The host's own name of a path under the root ("/host/var/spool/exim" -> "/var/spool/exim"),
  // for commands an admin runs on the host; other paths unchanged.
  std::string HostPath(std::string_view path) const;
  // Whether Path(host_path) exists (any file type).
  bool Exists(std::string_view host_path) const;
  // " under /host" for messages; "" for "/".
  std::string Describe() const;

 private:
  std::string root_;
};

}  // namespace mailrelay
