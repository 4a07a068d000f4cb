#include "common/rootfs.h"

#include <sys/stat.h>

#include <utility>

namespace mailrelay {

RootFs::RootFs(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  if (root_.empty()) root_ = "/";
}

std::string RootFs::Path(std::string_view host_path) const {
  if (is_host_root()) return std::string(host_path);
  return root_ + (host_path.empty() || host_path[0] != '/' ? "/" : "") + std::string(host_path);
}

std::string RootFs::HostPath(std::string_view path) const {
  if (is_host_root() || path.substr(0, root_.size()) != root_) return std::string(path);
  std::string_view rest = path.substr(root_.size());
  if (rest.empty()) return "/";
  if (rest[0] != '/') return std::string(path);  // "/hostile" is not under "/host"
  return std::string(rest);
}

bool RootFs::Exists(std::string_view host_path) const {
  struct stat st {};
  return ::stat(Path(host_path).c_str(), &st) == 0;
}

std::string RootFs::Describe() const { return is_host_root() ? "" : " under " + root_; }

}  // namespace mailrelay
