#!/bin/sh
# Runs bench-gui under Xvfb with a private D-Bus and the GUI tests' environment.
# Usage: bench/gui.sh [BUILD_DIR=build] [RUNS=5]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
ninja -C "$build" bench/bench-gui data/gschemas.compiled >/dev/null
export GSETTINGS_SCHEMA_DIR="$build/data" GSETTINGS_BACKEND=memory GTK_A11Y=none \
  ADW_DISABLE_PORTAL=1 GSK_RENDERER="${GSK_RENDERER:-cairo}" LC_ALL=C.UTF-8
exec xvfb-run -a -s '-screen 0 1280x800x24 -nolisten tcp' \
  dbus-run-session --config-file="$src/tests/session.conf" -- \
  "$build/bench/bench-gui" "${2:-5}"
