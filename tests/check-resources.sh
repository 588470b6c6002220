#!/usr/bin/env bash
# Every .ui file in the tree is compiled into a GResource (and so loaded by test-ui).
set -eu
src=$1
cd "$src"
status=0
for ui in $(find src -name '*.ui' | LC_ALL=C sort); do
  dir=$(dirname "$ui")
  rel=${ui#"$dir"/}
  # The .gresource.xml of the program the file belongs to.
  found=0
  for xml in $(find src -name '*.gresource.xml'); do
    xdir=$(dirname "$xml")
    case "$ui" in "$xdir"/*) rel=${ui#"$xdir"/};; *) continue;; esac
    grep -qF ">$rel</file>" "$xml" && found=1
  done
  [ $found = 1 ] || { echo "not in any GResource: $ui"; status=1; }
done
exit $status
