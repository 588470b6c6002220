#!/usr/bin/env bash
# The programs as a user or a script runs them. TAP output.
set -u

n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check () { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# encryptedp2p-node
"$EP_NODE" --help >"$tmp/help" 2>&1; rc=$?
check "node --help exits 0" test "$rc" -eq 0
check "node --help describes the program" grep -q "Headless EncryptedP2P" "$tmp/help"
"$EP_NODE" --version >"$tmp/version" 2>&1; rc=$?
check "node --version exits 0" test "$rc" -eq 0
check "node --version prints the version" grep -qE '^encryptedp2p-node [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/version"
"$EP_NODE" no-such-command >"$tmp/out" 2>"$tmp/err"; rc=$?
check "node rejects an unknown command with exit 2" test "$rc" -eq 2
check "node names the unknown command on stderr" grep -q "no-such-command" "$tmp/err"
check "node prints nothing on stdout for an unknown command" test ! -s "$tmp/out"
"$EP_NODE" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "node without a command exits 2 with usage" test "$rc" -eq 2 -a -s "$tmp/err"
"$EP_NODE" --bogus-option >"$tmp/out" 2>"$tmp/err"; rc=$?
check "node rejects an unknown option" test "$rc" -eq 2 -a -s "$tmp/err"

# encryptedp2p
"$EP_GUI" --version >"$tmp/gversion" 2>&1; rc=$?
check "app --version exits 0" test "$rc" -eq 0
check "app --version prints the version" grep -qE '^encryptedp2p [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/gversion"
"$EP_GUI" --help >"$tmp/ghelp" 2>&1; rc=$?
check "app --help exits 0 and lists --profile" grep -q -- "--profile" "$tmp/ghelp"
printf x >"$tmp/not-a-dir"
"$EP_GUI" --profile "$tmp/not-a-dir" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "app refuses a profile that is a file, with a reason" \
  test "$rc" -ne 0 -a -n "$(grep 'not a folder' "$tmp/err")"

echo "1..$n"
exit $((failed > 0))
