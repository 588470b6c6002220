#!/usr/bin/env bash
# `encryptedp2p-node id` as scripts use it. TAP output.
set -u

n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check () { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }

tmp=$(mktemp -d)
trap 'chmod -R u+rwx "$tmp"; rm -rf "$tmp"' EXIT
node () { "$EP_NODE" "$@"; }
json_field () { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2"; }

# First use creates the identity.
node id --profile "$tmp/a" >"$tmp/out1" 2>"$tmp/err"; rc=$?
check "id exits 0 on a new profile" test "$rc" -eq 0
check "id prints one line of JSON with id and key" \
  grep -qE '^\{"id":"[a-z2-7]{61}","key":"[0-9a-f]{64}"\}$' "$tmp/out1"
check "id says nothing on stderr" test ! -s "$tmp/err"
check "the key file is private (0600)" test "$(stat -c %a "$tmp/a/identity.key")" = 600
check "the profile folder is private (0700)" test "$(stat -c %a "$tmp/a")" = 700

# Second use loads the same identity.
node id --profile "$tmp/a" >"$tmp/out2" 2>&1; rc=$?
check "id exits 0 on an existing profile" test "$rc" -eq 0
check "id prints the same identity again" cmp -s "$tmp/out1" "$tmp/out2"

# The contact ID starts with the key: 0x.. bits of the key, base32.
id=$(json_field id "$tmp/out1")
key=$(json_field key "$tmp/out1")
key_b32=$(printf '%s' "$key" | xxd -r -p | base32 -w0 | tr 'A-Z' 'a-z' | cut -c1-51)
check "the contact ID begins with the base32 of the key" test "${id:0:51}" = "$key_b32"

# A key file others can read is refused, with the fix.
chmod 644 "$tmp/a/identity.key"
node id --profile "$tmp/a" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "a 0644 key file is refused with exit 1" test "$rc" -eq 1
check "the refusal names the file and chmod 600" \
  grep -q "$tmp/a/identity.key.*chmod 600" "$tmp/err"
check "nothing on stdout when refused" test ! -s "$tmp/out"
chmod 600 "$tmp/a/identity.key"

# A passphrase from an environment variable protects a new identity.
EP_TEST_PW='correct horse' node id --profile "$tmp/b" --passphrase-env EP_TEST_PW >"$tmp/b1" 2>"$tmp/err"; rc=$?
check "id with --passphrase-env creates an identity" test "$rc" -eq 0 -a -s "$tmp/b1"
check "the passphrase is not in the key file" test -z "$(grep -a 'correct horse' "$tmp/b/identity.key")"
check "the secrets are sealed" grep -q '^\[Passphrase\]' "$tmp/b/identity.key"
node id --profile "$tmp/b" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "without the passphrase it fails" test "$rc" -eq 1 -a ! -s "$tmp/out"
check "and says that a passphrase is needed" grep -q "protected by a passphrase" "$tmp/err"
printf 'wrong horse\n' | node id --profile "$tmp/b" --passphrase-stdin >"$tmp/out" 2>"$tmp/err"; rc=$?
check "a wrong passphrase on stdin fails" test "$rc" -eq 1 -a ! -s "$tmp/out"
check "and says so" grep -q "Wrong passphrase" "$tmp/err"
printf 'correct horse\n' | node id --profile "$tmp/b" --passphrase-stdin >"$tmp/b2" 2>"$tmp/err"; rc=$?
check "the right passphrase on stdin opens it" test "$rc" -eq 0
check "to the same identity" cmp -s "$tmp/b1" "$tmp/b2"
printf 'correct horse' | node id --profile "$tmp/b" --passphrase-stdin >"$tmp/b3" 2>&1; rc=$?
check "a passphrase without a final newline works too" test "$rc" -eq 0
check "and opens the same identity" cmp -s "$tmp/b1" "$tmp/b3"

# Usage errors.
node id --profile "$tmp/c" --passphrase-env EP_TEST_UNSET_VARIABLE >"$tmp/out" 2>"$tmp/err"; rc=$?
check "an unset --passphrase-env variable is a usage error" test "$rc" -eq 2
check "naming the variable" grep -q EP_TEST_UNSET_VARIABLE "$tmp/err"
check "and no identity was created" test ! -e "$tmp/c/identity.key"
node id --passphrase-stdin --passphrase-env X --profile "$tmp/c" </dev/null >"$tmp/out" 2>"$tmp/err"; rc=$?
check "both passphrase options at once is a usage error" test "$rc" -eq 2
node id --profile "$tmp/c" extra >"$tmp/out" 2>"$tmp/err"; rc=$?
check "an extra argument is a usage error" test "$rc" -eq 2
printf 'x' >"$tmp/file"
node id --profile "$tmp/file" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "a profile that is a file fails with a reason" test "$rc" -eq 1 -a -s "$tmp/err"
node id --help >"$tmp/out" 2>&1; rc=$?
check "id --help lists the passphrase options" \
  test "$rc" -eq 0 -a -n "$(grep -- --passphrase-env "$tmp/out")"

echo "1..$n"
exit $((failed > 0))
