#!/usr/bin/python3
# nat.py — how long two peers behind NATs take to connect, and what an idle
# node costs
#
# In the NAT lab of tests/natlab.py (network namespaces; root only):
#   - time to connect behind two cone NATs (a direct connection: both add
#     each other, both call) and behind two symmetric NATs (through the
#     relay: a request, its acceptance), the median of --runs fresh labs;
#   - idle packets per minute of a node with 10 contacts, from bench-idle
#     (bench/idle.c) when the build has it.
#
#   meson compile -C build bench-nat      (or bench/nat.py --node PATH …)
#
# SPDX-License-Identifier: GPL-3.0-or-later

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import natlab  # noqa: E402

TIMEOUT = 60


def one_run(node, mode, impair, link):
    """One fresh lab: (seconds from the first add, seconds from the start of
    both chats, path) or raises AssertionError / natlab.LabError."""
    with natlab.Lab(node, impair=impair) as lab:
        if mode == "symmetric" and lab.relay is None:
            raise natlab.LabError("no relay: %s" % lab.relay_error)
        lab.add_home(1, mode)
        lab.add_home(2, mode)
        if link is not None:
            for n in (1, 2):
                lab.impair(n, *link)
        started = time.monotonic()
        a, b = lab.chat(1, "Alice"), lab.chat(2, "Bob")
        seconds, pa, pb = natlab.befriend(a, b, mutual=mode == "cone", timeout=TIMEOUT)
        total = time.monotonic() - started
        paths = {pa.get("path", "?"), pb.get("path", "?")}
        return seconds, total, "/".join(sorted(paths))


def bench_connect(node, mode, runs, impair, link):
    label = {"cone": "cone NATs (direct expected)",
             "symmetric": "symmetric NATs (relay expected)"}[mode]
    if link is not None:
        label += ", %g %% loss and %d ± %d ms on each home's link" % link
    from_add, from_start, paths, failures = [], [], set(), []
    for i in range(runs):
        try:
            seconds, total, path = one_run(node, mode, impair, link)
        except (AssertionError, natlab.LabError) as e:
            failures.append(str(e).splitlines()[0][:200])
            if "no relay" in failures[-1]:
                break
            continue
        from_add.append(seconds)
        from_start.append(total)
        paths.add(path)
    if from_add:
        print("time to connect, %s: median %.2f s after the add, %.2f s after both started "
              "(%d of %d runs; min %.2f s, max %.2f s; path %s)"
              % (label, statistics.median(from_add), statistics.median(from_start),
                 len(from_add), runs, min(from_add), max(from_add), ", ".join(sorted(paths))))
    else:
        print("time to connect, %s: no run connected" % label)
    for f in sorted(set(failures)):
        print("  %d run(s) failed: %s" % (failures.count(f), f))
    sys.stdout.flush()


def bench_idle(build_dir, idle):
    path = idle or (os.path.join(build_dir, "bench", "bench-idle") if build_dir else None)
    if path is None or not os.access(path, os.X_OK):
        print("idle packets per minute (10 contacts): bench-idle is missing (%s; "
              "build it with `ninja -C BUILD bench/bench-idle`)"
              % (path or "no build directory given"))
        return
    try:
        proc = subprocess.run([path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=600)
    except subprocess.TimeoutExpired:
        print("idle packets per minute (10 contacts): bench-idle did not finish in 10 minutes")
        return
    lines = [l for l in proc.stdout.splitlines() if l.startswith("idle packets per minute")]
    if proc.returncode != 0 or not lines:
        print("idle packets per minute (10 contacts): bench-idle failed (%d): %s"
              % (proc.returncode, (proc.stderr or proc.stdout).strip()[-300:]))
        return
    for line in lines:
        print(line)


def main():
    parser = argparse.ArgumentParser(description="NAT traversal figures in the NAT lab")
    parser.add_argument("--runs", type=int, default=5, help="labs per figure (default 5)")
    parser.add_argument("--node", default=os.environ.get("EP_NODE"),
                        help="the encryptedp2p-node program")
    parser.add_argument("--build-dir", help="the build directory (for bench/bench-idle)")
    parser.add_argument("--idle", help="the bench-idle program (default: BUILD/bench/bench-idle)")
    parser.add_argument("--impair", default=os.environ.get("EP_IMPAIR"),
                        help="the ep-impair program (for --loss, --delay-ms)")
    parser.add_argument("--loss", type=float, default=0,
                        help="drop this percentage on each home's link (both ways)")
    parser.add_argument("--delay-ms", type=int, default=0,
                        help="delay each packet on each home's link this long")
    parser.add_argument("--jitter-ms", type=int, default=0, help="… plus or minus up to this")
    parser.add_argument("--only", choices=["cone", "symmetric", "idle"], action="append",
                        help="run only this part (repeatable)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if not args.node:
        parser.error("--node (or EP_NODE) is needed")
    parts = args.only or ["cone", "symmetric", "idle"]
    # Interrupted, it still takes its lab down.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    if not args.impair and args.build_dir:
        built = os.path.join(args.build_dir, "tests", "ep-impair")
        args.impair = built if os.access(built, os.X_OK) else None
    link = None
    if args.loss or args.delay_ms or args.jitter_ms:
        link = (args.loss, args.delay_ms, args.jitter_ms)
        if not args.impair:
            parser.error("--loss, --delay-ms and --jitter-ms need --impair (ep-impair)")

    if "cone" in parts or "symmetric" in parts:
        try:
            natlab.check_can_run(need_impair=link is not None, impair=args.impair)
        except natlab.LabSkip as e:
            print("NAT lab not available: %s" % e)
            parts = [p for p in parts if p == "idle"]
    for mode in ("cone", "symmetric"):
        if mode in parts:
            bench_connect(args.node, mode, args.runs, args.impair, link)
    if "idle" in parts:
        bench_idle(args.build_dir, args.idle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
