#!/usr/bin/python3
# test-nat-lab.py — `encryptedp2p-node chat` peers in homes behind NATs
#
# One scenario per run (the first argument), each in a lab of its own
# (natlab.py: three `serve` DHT nodes and a `serve --relay` on a "public"
# network, two homes behind nft NATs, all in network namespaces):
#
#   cone       port-preserving NATs: the peers add each other, connect
#              directly (presence "path": "direct") and chat both ways
#   symmetric  fully-random NATs: a request and its acceptance, then a
#              connection through the relay ("path": "relay") and chat
#              (both with 30 ± 10 ms on each home's link when ep-impair is
#              there)
#   lossy      20 % loss and 100 ± 50 ms delay on both homes' links
#              (ep-impair): 30 messages each way arrive exactly once and
#              are all delivered
#   cut        one home's link is dead for 30 s while both send; once it is
#              back every message arrives exactly once
#
# TAP on stdout, figures (times to connect) as diagnostics. Root only: any
# other user gets a TAP skip, as does a machine without ip, nft (and for
# "lossy" iptables and ep-impair).
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import signal
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import natlab  # noqa: E402

NODE = os.environ.get("EP_NODE", "encryptedp2p-node")
IMPAIR = os.environ.get("EP_IMPAIR")
CONNECT_TIMEOUT = 60


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what):
        self.n += 1
        if not cond:
            self.failed += 1
        print(("ok" if cond else "not ok") + " %d - %s" % (self.n, what), flush=True)
        return cond

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def must(self, cond, what):
        """A step the rest depends on: stop on failure."""
        if not self.ok(cond, what):
            raise SystemExit(self.finish())

    def finish(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


def relay_diag(t, lab):
    if lab.relay is not None:
        t.diag("relay: %s" % lab.relay)
    else:
        t.diag("no relay in this build (%s)" % lab.relay_error)


def check_path(t, event, want, who):
    path = event.get("path")
    if path is None:
        t.ok(False, "%s's presence event names the path (\"path\" member missing: the "
                    "presence path is not in this build)" % who)
    else:
        t.ok(path == want, "%s's presence path is %s (got %r)" % (who, want, path))


def check_contacts(t, a, b):
    """Each has the other accepted, named and online."""
    for c, other in ((a, b), (b, a)):
        # The name comes in a profile frame right after the session is up.
        deadline = time.monotonic() + 10
        while True:
            contact = [x for x in c.contacts() if x["key"] == other.key]
            good = (len(contact) == 1 and contact[0]["state"] == "accepted"
                    and contact[0]["name"] == other.name and contact[0]["online"])
            if good or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        t.ok(good, "%s has %s accepted, named and online (%s)" % (c.name, other.name, contact))


def chat_both_ways(t, a, b, timeout=30):
    """One message each way; both arrive and are delivered."""
    for src, dst in ((a, b), (b, a)):
        text = "hello %s, this is %s" % (dst.name, src.name)
        queued = src.send_message(dst.key, text)
        t.must(queued["event"] == "status" and queued["status"] == "queued",
               "%s's send is queued" % src.name)
        mid = queued["msg_id"]
        msg = dst.expect(lambda e: e["event"] == "message" and e["msg_id"] == mid, timeout,
                         "message from " + src.name)
        t.ok(msg["from"] == src.key and msg["text"] == text,
             "%s's message reaches %s" % (src.name, dst.name))
        src.expect(lambda e: e["event"] == "status" and e["msg_id"] == mid
                   and e["status"] == "delivered", timeout, "delivered")
        t.ok(True, "%s sees it delivered" % src.name)


def quit_all(t, chats):
    codes = [c.quit() for c in chats]
    t.ok(codes == [0] * len(chats), "the chats quit cleanly (%s)" % codes)


def wait_messages(chats_texts, timeout):
    """Waits until each chat has received every text it should; returns
    {chat: [message events]} (all of them, duplicates included)."""
    deadline = time.monotonic() + timeout
    while True:
        done = True
        got = {}
        for chat, texts in chats_texts:
            msgs = [e for e in chat.log if e["event"] == "message" and e["text"] in texts]
            got[chat] = msgs
            done &= len({m["text"] for m in msgs}) == len(texts)
        if done or time.monotonic() > deadline:
            # A duplicate shows up late, if at all: give it a moment.
            if done:
                time.sleep(1.0)
                for chat, texts in chats_texts:
                    got[chat] = [e for e in chat.log
                                 if e["event"] == "message" and e["text"] in texts]
            return got
        time.sleep(0.2)


def wait_delivered(chat, msg_ids, timeout):
    deadline = time.monotonic() + timeout
    while True:
        delivered = {e["msg_id"] for e in chat.log
                     if e["event"] == "status" and e["status"] == "delivered"}
        missing = set(msg_ids) - delivered
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(0.2)


def exchange(t, a, b, texts_a, texts_b, timeout, label):
    """@a sends @texts_a to @b and @b sends @texts_b to @a; then checks they
    all arrive once, are in both histories once, and are delivered."""
    ids = {a: [], b: []}
    for src, dst, texts in ((a, b, texts_a), (b, a, texts_b)):
        for text in texts:
            src.send(cmd="send", to=dst.key, text=text)
        answers = [src.expect(lambda e: e["event"] in ("status", "error")
                              and e.get("status", "queued") == "queued", 20, "queued")
                   for text in texts]
        t.must(all(e["event"] == "status" for e in answers),
               "%s: all %d sends are queued" % (src.name, len(texts)))
        ids[src] = [e["msg_id"] for e in answers]
    t0 = time.monotonic()
    got = wait_messages([(b, set(texts_a)), (a, set(texts_b))], timeout)
    times = sorted(m["_t"] - t0 for msgs in got.values() for m in msgs)
    if times:
        t.diag("%s: arrivals after the last send: half by %.1f s, 90 %% by %.1f s, last %.1f s"
               % (label, times[len(times) // 2], times[int(len(times) * 0.9)], times[-1]))
    flaps = [e for c in (a, b) for e in c.log
             if e["event"] == "presence" and not e["online"] and e["_t"] >= t0]
    t.diag("%s: sessions lost meanwhile: %d" % (label, len(flaps)))
    for src, dst, texts in ((a, b, texts_a), (b, a, texts_b)):
        msgs = got[dst]
        distinct = {m["text"] for m in msgs}
        t.ok(len(distinct) == len(texts) and len(msgs) == len(texts),
             "%s: %d of %s's messages reach %s, each once (%d events, %d distinct)"
             % (label, len(texts), src.name, dst.name, len(msgs), len(distinct)))
    for src in (a, b):
        missing = wait_delivered(src, ids[src], timeout)
        t.ok(not missing, "%s: %s sees all %d delivered (%d not)"
             % (label, src.name, len(ids[src]), len(missing)))
    for src, dst, texts in ((a, b, texts_a), (b, a, texts_b)):
        incoming = [m["text"] for m in dst.history(src.key) if not m["outgoing"]
                    and m["text"] in texts]
        outgoing = [m for m in src.history(dst.key) if m["outgoing"] and m["text"] in texts]
        t.ok(sorted(incoming) == sorted(texts),
             "%s: %s's history holds each of %s's messages once" % (label, dst.name, src.name))
        t.ok(len(outgoing) == len(texts) and all(m["status"] == "delivered" for m in outgoing),
             "%s: %s's history has its %d delivered" % (label, src.name, len(texts)))


# Scenarios ------------------------------------------------------------------

def home_latency(t, lab):
    """Real links are not instant: 30 ± 10 ms on each home's link when
    ep-impair is there (a relay must not win a race a direct path would
    win a moment later)."""
    missing = natlab.impair_missing(IMPAIR)
    if missing:
        t.diag("links without delay: %s" % missing)
        return
    for n in (1, 2):
        lab.impair(n, loss=0, delay_ms=30, jitter_ms=10)
    t.diag("30 ± 10 ms on each home's link (ep-impair)")


def scenario_cone(t, lab):
    lab.add_home(1, "cone")
    lab.add_home(2, "cone")
    home_latency(t, lab)
    a, b = lab.chat(1, "Alice"), lab.chat(2, "Bob")
    seconds, pa, pb = natlab.befriend(a, b, mutual=True, timeout=CONNECT_TIMEOUT)
    t.ok(True, "behind cone NATs both see each other online")
    t.diag("time to connect (cone NATs): %.2f s, path %s" % (seconds, pa.get("path")))
    check_path(t, pa, "direct", a.name)
    check_path(t, pb, "direct", b.name)
    check_contacts(t, a, b)
    chat_both_ways(t, a, b)
    relayed = [e for c in (a, b) for e in c.log
               if e["event"] == "presence" and e.get("path") == "relay"]
    t.ok(not relayed, "no presence event ever went through the relay")
    quit_all(t, [a, b])


def scenario_symmetric(t, lab):
    t.must(lab.relay is not None, "serve --relay gives a relay for the homes (%s)"
           % (lab.relay or lab.relay_error))
    lab.add_home(1, "symmetric")
    lab.add_home(2, "symmetric")
    home_latency(t, lab)
    a, b = lab.chat(1, "Alice"), lab.chat(2, "Bob")
    seconds, pa, pb = natlab.befriend(a, b, mutual=False, timeout=CONNECT_TIMEOUT)
    t.ok(True, "behind symmetric NATs the request arrives, is accepted, both are online")
    t.diag("time to connect (symmetric NATs): %.2f s, path %s" % (seconds, pa.get("path")))
    check_path(t, pa, "relay", a.name)
    check_path(t, pb, "relay", b.name)
    check_contacts(t, a, b)
    chat_both_ways(t, a, b)
    quit_all(t, [a, b])


def scenario_lossy(t, lab):
    lab.add_home(1, "cone")
    lab.add_home(2, "cone")
    for n in (1, 2):
        lab.impair(n, loss=20, delay_ms=100, jitter_ms=50)
    # The link itself first: 20 % each way loses 36 % of round trips, and
    # the delay is paid twice.
    answered, median = natlab.probe_link(lab, 1, 200)
    t.diag("impaired link: %d of 200 echoes answered, median round trip %.0f ms"
           % (answered, median))
    t.ok(90 <= answered <= 170 and 130 <= median <= 330,
         "ep-impair loses and delays as asked (64 % of echoes expected, round trip ~200 ms)")
    a, b = lab.chat(1, "Alice"), lab.chat(2, "Bob")
    seconds, pa, pb = natlab.befriend(a, b, mutual=True, timeout=2 * CONNECT_TIMEOUT)
    t.ok(True, "through lossy links both see each other online")
    t.diag("time to connect (cone, 20 %% loss, 100 ± 50 ms): %.2f s (path %s)"
           % (seconds, pa.get("path")))
    n = 30
    exchange(t, a, b, ["lossy a%d" % i for i in range(n)], ["lossy b%d" % i for i in range(n)],
             240, "20 % loss")
    for n_home in (1, 2):
        t.diag(lab.unimpair(n_home))
    quit_all(t, [a, b])


def scenario_cut(t, lab):
    lab.add_home(1, "cone")
    lab.add_home(2, "cone")
    a, b = lab.chat(1, "Alice"), lab.chat(2, "Bob")
    seconds, pa, pb = natlab.befriend(a, b, mutual=True, timeout=CONNECT_TIMEOUT)
    t.ok(True, "both online before the cut")
    t.diag("time to connect (cone NATs): %.2f s, path %s" % (seconds, pa.get("path")))
    chat_both_ways(t, a, b)

    lab.cut(2)
    cut_at = time.monotonic()
    n = 10
    texts_a = ["while cut a%d" % i for i in range(n)]
    texts_b = ["while cut b%d" % i for i in range(n)]
    # Sent during the cut: they wait in the outboxes until the link is back.
    ids = {}
    for src, dst, texts in ((a, b, texts_a), (b, a, texts_b)):
        answers = [src.send_message(dst.key, text) for text in texts]
        t.must(all(e["event"] == "status" and e["status"] == "queued" for e in answers),
               "%s queues %d messages during the cut" % (src.name, n))
        ids[src] = [e["msg_id"] for e in answers]
    while time.monotonic() < cut_at + 30:
        time.sleep(0.5)
    leaked = [e for c in (a, b) for e in c.log
              if e["event"] == "message" and e["text"].startswith("while cut")]
    t.ok(not leaked, "nothing crosses the dead link in 30 s (%d did)" % len(leaked))
    lab.restore(2)
    restored = time.monotonic()
    got = wait_messages([(b, set(texts_a)), (a, set(texts_b))], 120)
    times = [m["_t"] - restored for msgs in got.values() for m in msgs]
    drops = [e for c in (a, b) for e in c.log if e["event"] == "presence"
             and not e["online"] and cut_at <= e["_t"] < restored]
    t.diag("the sessions %s during the cut; once the link was back the last message "
           "arrived after %.1f s" % ("dropped" if drops else "stayed up",
                                     max(times) if times else -1))
    for src, dst, texts in ((a, b, texts_a), (b, a, texts_b)):
        msgs = got[dst]
        t.ok(len(msgs) == n and {m["text"] for m in msgs} == set(texts),
             "the %d %s sent during the cut reach %s, each once (%d events)"
             % (n, src.name, dst.name, len(msgs)))
        missing = wait_delivered(src, ids[src], 60)
        t.ok(not missing, "%s sees them delivered (%d not)" % (src.name, len(missing)))
        incoming = [m["text"] for m in dst.history(src.key) if m["text"] in texts]
        t.ok(sorted(incoming) == sorted(texts), "%s's history holds each once" % dst.name)
    quit_all(t, [a, b])


SCENARIOS = {
    "cone": scenario_cone,
    "symmetric": scenario_symmetric,
    "lossy": scenario_lossy,
    "cut": scenario_cut,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print("usage: test-nat-lab.py %s" % "|".join(SCENARIOS), file=sys.stderr)
        return 2
    scenario = sys.argv[1]
    try:
        natlab.check_can_run(need_impair=scenario == "lossy")
    except natlab.LabSkip as e:
        print("1..0 # SKIP %s" % e, flush=True)
        return 0

    # A timeout (meson sends SIGTERM) still takes the lab down.
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(1))
    t = Tap()
    started = time.monotonic()
    try:
        with natlab.Lab(NODE, impair=IMPAIR) as lab:
            t.ok(True, "the lab is up: %d DHT nodes joined, homes behind nft NATs"
                 % len(lab.dht))
            relay_diag(t, lab)
            SCENARIOS[scenario](t, lab)
            codes = lab.stop_public()
            t.ok(all(c == 0 for c in codes.values()),
                 "the DHT nodes and the relay ran to the end and stopped cleanly (%s)"
                 % ", ".join("%s %s" % kv for kv in sorted(codes.items())))
    except AssertionError as e:
        t.ok(False, str(e))
    except natlab.LabError as e:
        t.ok(False, "lab: %s" % e)
    t.diag("%s scenario took %.0f s" % (scenario, time.monotonic() - started))
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
