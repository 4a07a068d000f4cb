# shellcheck shell=bash
# The suite's port allocator for shell tests (tests/lib/ports.py: below the ephemeral range,
# reserved with a lock under /tmp until this test script exits, checked free).
#   mr_free_port          print one reserved port
#   mr_free_ports N       print N reserved ports, one a line
# Call them in command substitutions as usual: the reservation belongs to the script ($$), not
# to the subshell.
MR_PORTS_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ports.py"

mr_free_port() {
  python3 "$MR_PORTS_PY" alloc --owner "$$"
}

mr_free_ports() {
  python3 "$MR_PORTS_PY" alloc --owner "$$" --count "$1"
}
