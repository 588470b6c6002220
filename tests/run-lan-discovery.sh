#!/usr/bin/env bash
# Runs the LAN discovery test (or any command) where multicast can only go
# over interfaces of its own: in a new network namespace (tests/run-in-netns.sh),
# or in the one it is already in if that has nothing but loopback (as in CI).
# There it lets lo carry IPv4 multicast and, when veth is available, adds a
# veth pair with a link-local address for IPv6 multicast. The host's own
# interfaces are never touched: with any other interface present it first
# moves into a fresh namespace, and refuses to go on if that fails.
set -eu

only_loopback () {
  [ "$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -cv '^lo$')" -eq 0 ]
}

if ! only_loopback; then
  if [ "${EP_LAN_IN_NETNS:-}" = 1 ]; then
    echo "run-lan-discovery.sh: still not in a namespace with only lo; refusing" >&2
    exit 1
  fi
  EP_LAN_IN_NETNS=1 exec "$(dirname "$0")/run-in-netns.sh" "$0" "$@"
fi

ip link set lo up
ip link set lo multicast on
ip route replace 239.0.0.0/8 dev lo
export EP_LAN_TEST_IFACE=lo

if ip link add eplan0 type veth peer name eplan1 2>/dev/null; then
  ip link set eplan1 up
  ip link set eplan0 up
  ip -6 addr add fe80::1/64 dev eplan0 nodad
  export EP_LAN_TEST_IFACE6=eplan0
fi

exec "$@"
