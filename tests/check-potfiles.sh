#!/usr/bin/env bash
# Every file with translatable strings is listed in po/POTFILES.in (sorted),
# and every listed file exists.
set -eu
src=$1
cd "$src"

listed=$(grep -v '^#' po/POTFILES.in | sed '/^$/d')
if [ "$listed" != "$(printf '%s\n' "$listed" | LC_ALL=C sort)" ]; then
  echo "po/POTFILES.in is not sorted"; exit 1
fi

status=0
for f in $listed; do
  [ -f "$f" ] || { echo "listed but missing: $f"; status=1; }
done

# Files that hold translatable strings.
candidates=$( {
  grep -rlE '(^|[^A-Za-z0-9_])(N?_|C_|NC_|g_dngettext|ngettext)[[:space:]]*\(' src --include='*.c' || true
  grep -rl 'translatable="yes"' src --include='*.ui' || true
  ls data/*.desktop.in.in data/*.metainfo.xml.in.in data/*.gschema.xml 2>/dev/null || true
} | LC_ALL=C sort -u)

for f in $candidates; do
  if ! printf '%s\n' "$listed" | grep -qxF "$f"; then
    echo "has translatable strings but is not in po/POTFILES.in: $f"; status=1
  fi
done
exit $status
