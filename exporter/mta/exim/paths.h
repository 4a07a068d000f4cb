// Where Exim keeps its files on the hosts it runs on (cPanel, DirectAdmin, Debian, Fedora/EL):
// autodetection for the Exim module's flags. Every host path is looked up under --path.rootfs
// (`root`) and returned with it; the exim binary is searched in the exporter's own PATH.
#pragma once

#include <string>

#include "common/rootfs.h"

namespace mailrelay::exim {

// The main logs autodetection tries, in order: "/var/log/exim_mainlog, ...".
std::string MainlogCandidates();

// The first existing main log of /var/log/exim_mainlog (cPanel), /var/log/exim/mainlog
// (DirectAdmin), /var/log/exim4/mainlog (Debian), /var/log/exim/main.log (Fedora/EL), under
// `root`; when none exists yet (*found = false), the cPanel path on a cPanel host, else the
// Debian one (waited for).
std::string DetectMainlog(const RootFs& root, bool* found = nullptr);
// Whether any of those main logs exists.
bool AnyMainlogExists(const RootFs& root);
// Whether Exim's programs (or cPanel, which runs Exim) are installed; what is looked at.
bool EximInstalled(const RootFs& root);
std::string InstalledCandidates();
// The reject log beside a main log of a known name ("" for other names).
std::string RejectlogFor(const std::string& mainlog);

// /var/spool/exim/input (cPanel, DirectAdmin, EL), else /var/spool/exim4/input (Debian, also
// the answer when neither exists), under `root`.
std::string DetectSpoolDir(const RootFs& root);
// A --exim.spool-dir value: the input directory itself, or a spool directory that holds one
// (DIR/input is then used).
std::string InputDir(const std::string& spool_dir);
// The spool root of an input directory (its parent), "" when the name is not input/.
std::string SpoolRootOf(const std::string& input_dir);
// exim, then exim4, in $PATH then /usr/sbin and /usr/bin; "" when none is found. Not under
// --path.rootfs: the exporter runs it, in its own environment.
std::string DetectBinary();

}  // namespace mailrelay::exim
