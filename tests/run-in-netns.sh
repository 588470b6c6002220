#!/usr/bin/env bash
# Runs a command in a new network namespace with only a loopback interface,
# so that nothing it does can reach any other host.
set -eu
if [ "$(id -u)" -eq 0 ]; then
  exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
else
  exec unshare --map-root-user --net -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
fi
