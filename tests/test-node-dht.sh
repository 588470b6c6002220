#!/usr/bin/env bash
# encryptedp2p-node serve and dht …, as scripts drive them, on loopback only.
# TAP output.
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

json () { python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print(v if not isinstance(v, list) else " ".join(v))' "$1"; }

# Starts a node; sets $port from its JSON line.
serve () {
  local name=$1; shift
  "$EP_NODE" serve --bind 127.0.0.1 --port 0 --no-default-bootstrap "$@" \
    >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  last_pid=$!
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

serve a --state "$tmp/a.state"
a_pid=$last_pid
a_port=$port
a_id=$(json id <"$tmp/a.out")
check "serve prints its port" test -n "$a_port"
check "serve prints a 40-hex node ID" grep -qE '"id":"[0-9a-f]{40}"' "$tmp/a.out"
serve b --bootstrap "127.0.0.1:$a_port"
serve c --bootstrap "127.0.0.1:$a_port"
check "a node joins through the bootstrap node" wait_joined b
wait_joined c

net=(--bind 127.0.0.1 --bootstrap "127.0.0.1:$a_port" --timeout 10)

"$EP_NODE" dht put --immutable "hello" "${net[@]}" >"$tmp/put" 2>"$tmp/err"; rc=$?
check "dht put --immutable exits 0" test "$rc" -eq 0
target=$(json target <"$tmp/put")
check "the target is SHA-1 of the bencoded value" \
  test "$target" = "$(printf '5:hello' | sha1sum | cut -d' ' -f1)"

"$EP_NODE" dht get "$target" "${net[@]}" >"$tmp/get" 2>"$tmp/err"; rc=$?
check "dht get finds the immutable value" test "$rc" -eq 0 -a "$(json v <"$tmp/get")" = "hello"
check "an immutable get has no seq" test "$(json seq <"$tmp/get")" = "None"

printf '%s\n' 0707070707070707070707070707070707070707070707070707070707070707 >"$tmp/key"
"$EP_NODE" dht put --key-file "$tmp/key" --salt s1 "first" "${net[@]}" >"$tmp/m1" 2>"$tmp/err"; rc=$?
check "a first mutable put gets seq 1" test "$rc" -eq 0 -a "$(json seq <"$tmp/m1")" = 1
"$EP_NODE" dht put --key-file "$tmp/key" --salt s1 "second" "${net[@]}" >"$tmp/m2" 2>"$tmp/err"; rc=$?
check "the next mutable put gets seq 2" test "$rc" -eq 0 -a "$(json seq <"$tmp/m2")" = 2
mtarget=$(json target <"$tmp/m2")
"$EP_NODE" dht get "$mtarget" --salt s1 "${net[@]}" >"$tmp/mget" 2>"$tmp/err"; rc=$?
check "dht get returns the latest mutable value" \
  test "$rc" -eq 0 -a "$(json v <"$tmp/mget")" = "second" -a "$(json seq <"$tmp/mget")" = 2
check "dht get names the public key" grep -qE '"k":"[0-9a-f]{64}"' "$tmp/mget"
"$EP_NODE" dht put --key-file "$tmp/key" --salt s1 --seq 1 "old" "${net[@]}" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "an older seq is refused" test "$rc" -eq 1 -a ! -s "$tmp/out" -a -s "$tmp/err"

ih=0123456789abcdef0123456789abcdef01234567
"$EP_NODE" dht announce "$ih" --peer-port 4242 "${net[@]}" >"$tmp/ann" 2>"$tmp/err"; rc=$?
check "dht announce exits 0 and counts nodes" test "$rc" -eq 0 -a "$(json announced <"$tmp/ann")" -ge 1
"$EP_NODE" dht peers "$ih" "${net[@]}" >"$tmp/peers" 2>"$tmp/err"; rc=$?
check "dht peers finds the announced peer" grep -q '"127.0.0.1:4242"' "$tmp/peers"

"$EP_NODE" dht get nothex "${net[@]}" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "a bad target is a usage error" test "$rc" -eq 2 -a ! -s "$tmp/out" -a -s "$tmp/err"
"$EP_NODE" dht get "$target" --bind 127.0.0.1 >"$tmp/out" 2>"$tmp/err"; rc=$?
check "no bootstrap node is a usage error" test "$rc" -eq 2 -a -s "$tmp/err"
"$EP_NODE" dht get 00000000000000000000000000000000000000ff "${net[@]}" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "a missing item fails with a message" test "$rc" -eq 1 -a ! -s "$tmp/out" -a -s "$tmp/err"

kill -TERM "$a_pid"; wait "$a_pid"; rc=$?
check "serve exits 0 on SIGTERM" test "$rc" -eq 0
check "serve saved its state" test -s "$tmp/a.state"
serve a2 --state "$tmp/a.state"
check "a restart keeps the node ID" test "$(json id <"$tmp/a2.out")" = "$a_id"
check "a restart rejoins from the saved table" wait_joined a2

echo "1..$n"
[ "$failed" -eq 0 ]
