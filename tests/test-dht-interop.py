#!/usr/bin/python3
"""Interop with an independent Mainline DHT implementation: webtorrent's
bittorrent-dht (npm). Our nodes and theirs form one network on loopback; items
put by one side are got by the other (immutable; mutable with salt and rising
seq), and announce/peers work both ways. TAP output.

Runs inside its own network namespace (see run-in-netns.sh): nothing can leave
the machine, and every address used is 127.0.0.1.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

NODE = os.environ["EP_NODE"]
HERE = os.path.dirname(os.path.abspath(__file__))
INTEROP = os.path.join(HERE, "interop")
DEADLINE = time.monotonic() + 150
SEED = "9f" * 32  # test-only Ed25519 seed, shared with the JS side

count = 0
failed = 0
procs = []


def tap(ok, what, detail=None):
    global count, failed
    count += 1
    if not ok:
        failed += 1
    print(f"{'ok' if ok else 'not ok'} {count} - {what}", flush=True)
    if detail and not ok:
        for line in str(detail).splitlines():
            print(f"# {line}", flush=True)


def left():
    return max(5.0, DEADLINE - time.monotonic())


def bail(why):
    print(f"Bail out! {why}", flush=True)
    cleanup()
    sys.exit(1)


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class JsSwarm:
    def __init__(self, count, bootstrap):
        cmd = ["node", os.path.join(INTEROP, "dht-peers.mjs"), "--count", str(count)]
        for b in bootstrap:
            cmd += ["--bootstrap", b]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, cwd=INTEROP)
        procs.append(self.proc)
        self.next_id = 0
        ready = self._read()
        if not ready.get("ready"):
            bail(f"bittorrent-dht swarm did not start: {ready}")
        self.addresses = ready["addresses"]

    def _read(self):
        import select
        while True:
            r, _, _ = select.select([self.proc.stdout], [], [], left())
            if not r:
                bail("bittorrent-dht swarm timed out")
            line = self.proc.stdout.readline()
            if not line:
                bail("bittorrent-dht swarm exited")
            msg = json.loads(line)
            if "event" in msg:
                continue
            return msg

    def call(self, **cmd):
        self.next_id += 1
        cmd["id"] = self.next_id
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        while True:
            msg = self._read()
            if msg.get("id") == self.next_id:
                return msg


def ours(*args, bootstrap):
    cmd = [NODE, *args, "--bind", "127.0.0.1", "--port", "0", "--no-default-bootstrap"]
    for b in bootstrap:
        cmd += ["--bootstrap", b]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=min(60, left()))
    except subprocess.TimeoutExpired:
        return None, "timed out: " + " ".join(cmd)
    if p.returncode != 0:
        return None, f"exit {p.returncode}: {p.stderr.strip()}"
    try:
        return json.loads(p.stdout), p.stderr
    except json.JSONDecodeError:
        return None, f"not JSON: {p.stdout!r}"


def serve(port, bootstrap, state_dir):
    cmd = [NODE, "serve", "--bind", "127.0.0.1", "--port", str(port), "--no-default-bootstrap",
           "--state", os.path.join(state_dir, f"serve-{port}.state")]
    for b in bootstrap:
        cmd += ["--bootstrap", b]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)
    return p


def main():
    if shutil.which("node") is None or not os.path.isdir(os.path.join(INTEROP, "node_modules")):
        bail("node and tests/interop/node_modules are needed (build-aux/ep-dev test installs them)")
    state = tempfile.mkdtemp(prefix="ep-interop-")
    try:
        # Our first node is the bootstrap for everyone.
        serve(21000, [], state)
        time.sleep(0.3)
        first = "127.0.0.1:21000"
        js = JsSwarm(6, [first])
        # More of ours, joining through both sides.
        for i in range(1, 4):
            serve(21000 + i, [first, js.addresses[i % len(js.addresses)]], state)
        time.sleep(1.0)
        mixed = [first, js.addresses[0], js.addresses[3]]

        # Immutable: ours → theirs.
        res, err = ours("dht", "put", "--immutable", "from encryptedp2p", bootstrap=mixed)
        tap(res is not None and len(res.get("target", "")) == 40, "we put an immutable item", err)
        if res:
            got = js.call(op="get", target=res["target"], node=5)
            tap(got.get("v") == "from encryptedp2p", "bittorrent-dht gets our immutable item", got)

        # Immutable: theirs → ours.
        put = js.call(op="put-immutable", v="from bittorrent-dht", node=1)
        tap("target" in put, "bittorrent-dht puts an immutable item", put)
        if "target" in put:
            res, err = ours("dht", "get", put["target"], bootstrap=mixed)
            tap(res is not None and res.get("v") == "from bittorrent-dht"
                and "seq" not in res, "we get their immutable item", err or res)

        # Mutable with salt and a rising seq, alternating sides.
        keyfile = os.path.join(state, "key")
        with open(keyfile, "w") as f:
            f.write(SEED + "\n")
        os.chmod(keyfile, 0o600)

        put = js.call(op="put-mutable", seed=SEED, salt="ep1", seq=1, v="one", node=2)
        tap("target" in put, "bittorrent-dht puts a mutable item (salt, seq 1)", put)
        target = put.get("target")
        if target:
            res, err = ours("dht", "get", target, "--salt", "ep1", bootstrap=mixed)
            tap(res is not None and res.get("v") == "one" and res.get("seq") == 1
                and res.get("k") == put["k"], "we get their mutable item at seq 1", err or res)

            res, err = ours("dht", "put", "--key-file", keyfile, "--salt", "ep1", "--seq", "2",
                            "two", bootstrap=mixed)
            tap(res is not None and res.get("target") == target and res.get("seq") == 2,
                "we put the same key and salt at seq 2", err or res)
            got = js.call(op="get", target=target, salt="ep1", node=4)
            tap(got.get("v") == "two" and got.get("seq") == 2,
                "bittorrent-dht gets our update at seq 2", got)

            put = js.call(op="put-mutable", seed=SEED, salt="ep1", seq=3, v="three", node=0)
            tap("target" in put, "bittorrent-dht updates to seq 3", put)
            res, err = ours("dht", "get", target, "--salt", "ep1", bootstrap=mixed)
            tap(res is not None and res.get("v") == "three" and res.get("seq") == 3,
                "we get their update at seq 3", err or res)

        # announce / peers both ways.
        ih1 = "1d" * 20
        res, err = ours("dht", "announce", ih1, "--peer-port", "5555", bootstrap=mixed)
        tap(res is not None, "we announce an infohash", err)
        got = js.call(op="peers", infohash=ih1, node=5)
        tap("127.0.0.1:5555" in got.get("peers", []), "bittorrent-dht finds our announced peer", got)

        ih2 = "2e" * 20
        ann = js.call(op="announce", infohash=ih2, port=6666, node=3)
        tap(ann.get("announced") is True, "bittorrent-dht announces an infohash", ann)
        res, err = ours("dht", "peers", ih2, bootstrap=mixed)
        tap(res is not None and "127.0.0.1:6666" in res.get("peers", []),
            "we find their announced peer", err or res)
    finally:
        cleanup()
        shutil.rmtree(state, ignore_errors=True)

    print(f"1..{count}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
