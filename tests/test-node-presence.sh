#!/usr/bin/env bash
# encryptedp2p-node presence publish|resolve against a few `serve` nodes on
# 127.0.0.1 only. TAP output.
set -u

n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check () { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }

tmp=$(mktemp -d)
pids=()
cleanup () {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

json () { python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print(v if not isinstance(v, list) else " ".join(map(str, v)))' "$1"; }

serve () {
  local name=$1; shift
  "$EP_NODE" serve --bind 127.0.0.1 --port 0 --no-default-bootstrap "$@" \
    >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do
    [ -s "$tmp/$name.out" ] && break
    sleep 0.05
  done
  port=$(json port <"$tmp/$name.out")
}

wait_joined () {
  for _ in $(seq 100); do
    grep -q "joined the DHT" "$tmp/$1.err" && return 0
    sleep 0.05
  done
  return 1
}

serve a
a_port=$port
for name in b c d e; do serve "$name" --bootstrap "127.0.0.1:$a_port"; done
for name in b c d e; do wait_joined "$name"; done

net=(--bind 127.0.0.1 --bootstrap "127.0.0.1:$a_port" --timeout 10)
alice=(--profile "$tmp/alice")
bob=(--profile "$tmp/bob")

"$EP_NODE" id "${alice[@]}" >"$tmp/id" 2>"$tmp/err"
alice_id=$(json id <"$tmp/id")
alice_key=$(json key <"$tmp/id")

"$EP_NODE" presence publish "${alice[@]}" --endpoint 127.0.0.1:40001 --endpoint '[::1]:40001' \
  "${net[@]}" >"$tmp/p1" 2>"$tmp/err"; rc=$?
check "presence publish exits 0" test "$rc" -eq 0
check "the record names the key" test "$(json key <"$tmp/p1")" = "$alice_key"
check "the record carries the endpoints" test "$(json endpoints <"$tmp/p1")" = "127.0.0.1:40001 [::1]:40001"
check "some node stored it" test "$(json stored <"$tmp/p1")" -ge 1
seq1=$(json seq <"$tmp/p1")
check "the seq file is private and holds the seq" \
  test "$(stat -c %a "$tmp/alice/presence-seq")" = 600 -a "$(cat "$tmp/alice/presence-seq")" = "$seq1"

"$EP_NODE" presence resolve "$alice_id" "${bob[@]}" "${net[@]}" >"$tmp/r1" 2>"$tmp/err"; rc=$?
check "presence resolve by contact ID exits 0" test "$rc" -eq 0
check "it prints the key" test "$(json key <"$tmp/r1")" = "$alice_key"
check "it prints the seq" test "$(json seq <"$tmp/r1")" = "$seq1"
check "it prints the endpoints" test "$(json endpoints <"$tmp/r1")" = "127.0.0.1:40001 [::1]:40001"
check "it prints a future expiry" test "$(json expires <"$tmp/r1")" -gt "$(date +%s)"
check "it prints exactly key, seq, endpoints, expires" \
  python3 -c 'import json,sys; sys.exit(sorted(json.load(open(sys.argv[1]))) != ["endpoints","expires","key","seq"])' "$tmp/r1"

# Alice comes back elsewhere.
"$EP_NODE" presence publish "${alice[@]}" --port 0 --bind 127.0.0.1 --bootstrap "127.0.0.1:$a_port" \
  --timeout 10 >"$tmp/p2" 2>"$tmp/err"; rc=$?
seq2=$(json seq <"$tmp/p2")
check "a republish without --endpoint uses the address we listen on" \
  python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["endpoints"]; sys.exit(not (len(e) == 1 and e[0].startswith("127.0.0.1:")))' "$tmp/p2"
check "the seq grows" test "$rc" -eq 0 -a "$seq2" -gt "$seq1"
"$EP_NODE" presence resolve "$alice_key" "${bob[@]}" "${net[@]}" >"$tmp/r2" 2>"$tmp/err"; rc=$?
check "resolve by hex key finds the newest record" \
  test "$rc" -eq 0 -a "$(json seq <"$tmp/r2")" = "$seq2" -a "$(json endpoints <"$tmp/r2")" = "$(json endpoints <"$tmp/p2")"
check "the resolver keeps the last seq it accepted" grep -q "$alice_key=$seq2" "$tmp/bob/presence-seen"

"$EP_NODE" id "${bob[@]}" >"$tmp/bob-id" 2>"$tmp/err"
"$EP_NODE" presence resolve "$(json key <"$tmp/bob-id")" "${alice[@]}" "${net[@]}" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "a contact without a record: exit 1 and the reason" \
  test "$rc" -eq 1 -a ! -s "$tmp/out" -a -n "$(grep 'No presence record' "$tmp/err")"

bad=$(printf '%s' "$alice_id" | sed 's/.$/a/;t'; )
[ "$bad" = "$alice_id" ] && bad=$(printf '%s' "$alice_id" | sed 's/.$/b/')
"$EP_NODE" presence resolve "$bad" "${bob[@]}" "${net[@]}" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "a mistyped contact ID is a usage error" test "$rc" -eq 2 -a ! -s "$tmp/out" -a -s "$tmp/err"
"$EP_NODE" presence resolve "$alice_id" "${bob[@]}" --bind 127.0.0.1 >"$tmp/out" 2>"$tmp/err"; rc=$?
check "no bootstrap node is a usage error" test "$rc" -eq 2 -a -s "$tmp/err"
"$EP_NODE" presence frobnicate >"$tmp/out" 2>"$tmp/err"; rc=$?
check "an unknown presence command is a usage error" test "$rc" -eq 2

echo "1..$n"
[ "$failed" -eq 0 ]
