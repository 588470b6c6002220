#!/usr/bin/env bash
# Data files, validated with the tools distributions and Flathub use. TAP.
set -u
src=$1
build=$2
app_id=$3

n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check () {
  local what=$1; shift
  local out
  if out=$("$@" 2>&1); then ok "$what"; else not_ok "$what"; printf '%s\n' "$out" | sed 's/^/# /'; fi
}

check "desktop-file-validate" desktop-file-validate "$build/data/$app_id.desktop"
check "appstreamcli validate --no-net" appstreamcli validate --no-net --pedantic --explain \
  "$build/data/$app_id.metainfo.xml"

schemas=$(mktemp -d)
cp "$src"/data/*.gschema.xml "$schemas/"
check "glib-compile-schemas --strict" glib-compile-schemas --strict --dry-run "$schemas"
rm -rf "$schemas"

# Flatpak manifest: parses without warnings; every module source has a checksum.
manifest="$src/flatpak/io.github.encryptedp2p.EncryptedP2P.json"
if command -v flatpak-builder >/dev/null; then
  err=$(flatpak-builder --show-manifest "$manifest" 2>&1 >/dev/null); rc=$?
  check "flatpak manifest parses" test "$rc" -eq 0
  check "flatpak manifest gives no warnings" test -z "$err"
  [ -z "$err" ] || printf '%s\n' "$err" | sed 's/^/# /'
else
  not_ok "flatpak-builder is installed"
fi
check "every flatpak source has a checksum" /usr/bin/python3 "$src/tests/check-flatpak-sources.py" "$manifest"

# Translations: every file with translatable strings is in POTFILES.in, sorted.
check "POTFILES.in lists every translatable file" "$src/tests/check-potfiles.sh" "$src"
check "every .ui file is in the GResource" "$src/tests/check-resources.sh" "$src"
check "de.po is valid" msgfmt --check -o /dev/null "$src/po/de.po"
check "every translation covers every current string" "$src/tests/check-translations.sh" "$src"

echo "1..$n"
exit $((failed > 0))
