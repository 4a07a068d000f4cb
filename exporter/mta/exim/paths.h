// Where Exim keeps its files on the hosts it runs on (cPanel, DirectAdmin, Debian, Fedora/EL):
// autodetection for the Exim module's flags.
#pragma once

#include <string>

namespace mailrelay::exim {

// The first existing main log of /var/log/exim_mainlog (cPanel), /var/log/exim/mainlog
// (DirectAdmin), /var/log/exim4/mainlog (Debian), /var/log/exim/main.log (Fedora); when none
// exists yet, the cPanel path on a cPanel host, else the Debian one (waited for).
std::string DetectMainlog();
// Whether any of those main logs exists.
bool AnyMainlogExists();
// The reject log beside a main log of a known name ("" for other names).
std::string RejectlogFor(const std::string& mainlog);

// /var/spool/exim/input (cPanel), else /var/spool/exim4/input (Debian, also the answer when
// neither exists).
std::string DetectSpoolDir();
// A --exim.spool-dir value: the input directory itself, or a spool directory that holds one
// (DIR/input is then used).
std::string InputDir(const std::string& spool_dir);
// The spool root of an input directory (its parent), "" when the name is not input/.
std::string SpoolRootOf(const std::string& input_dir);
// exim, then exim4, in $PATH then /usr/sbin and /usr/bin; "" when none is found.
std::string DetectBinary();

}  // namespace mailrelay::exim
