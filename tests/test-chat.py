#!/usr/bin/python3
# test-chat.py — `encryptedp2p-node chat` processes talking to each other
#
# Two chat processes with no bootstrap find each other by LAN discovery
# (run through run-lan-discovery.sh, in a namespace of their own), add,
# accept and chat with presence and statuses; then one is killed with
# SIGKILL while sending 1000 messages, restarted, and every message must
# arrive exactly once, in the order the sender's history has them.
#
# TAP on stdout. Standard library only.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from epchat import Chat, ok, run_tap  # noqa: E402

TOTAL = 1000

def main():
    print("1..22", flush=True)
    root = tempfile.mkdtemp(prefix="ep-chat-")
    procs = []
    try:
        a = Chat(os.path.join(root, "a"), "Alice")
        procs.append(a)
        b = Chat(os.path.join(root, "b"), "Bob")
        procs.append(b)
        akey, bkey = a.ready["key"], b.ready["key"]
        ok(len(akey) == 64 and a.ready["port"] > 0 and len(a.ready["id"]) == 61,
           "ready carries id, key and port")

        a.send(cmd="id")
        ok(a.expect(lambda e: e["event"] == "ready", 5, "id answer")["key"] == akey,
           "id is answered")

        a.send(cmd="add", id=b.ready["id"], text="it is Alice")
        added = a.expect(lambda e: e["event"] in ("contact-added", "error"), 10, "add answer")
        ok(added["event"] == "contact-added" and added["key"] == bkey
           and added["state"] == "outgoing-pending", "add is answered, pending")

        req = b.expect(lambda e: e["event"] == "contact-request", 20, "contact-request")
        ok(req["key"] == akey and req["text"] == "it is Alice" and req["name"] == "Alice",
           "the request arrives by LAN discovery with key, name and text")

        b.send(cmd="accept", key=akey)
        acc = b.expect(lambda e: e["event"] in ("contact-added", "error"), 10, "accept answer")
        ok(acc["event"] == "contact-added" and acc["key"] == akey and acc["state"] == "accepted",
           "accept is answered")
        acc = a.expect(lambda e: e["event"] == "contact-added" and e["state"] == "accepted",
                       20, "acceptance")
        a.expect(lambda e: e["event"] == "presence" and e["key"] == bkey and e["online"], 20,
                 "presence of B")
        b.expect(lambda e: e["event"] == "presence" and e["key"] == akey and e["online"], 20,
                 "presence of A")
        ok(True, "both accepted and see each other online")

        a.send(cmd="send", to=bkey, text="hello Bob")
        queued = a.expect(lambda e: e["event"] in ("status", "error"), 10, "send answer")
        ok(queued["event"] == "status" and queued["status"] == "queued", "send is answered: queued")
        mid = queued["msg_id"]
        msg = b.expect(lambda e: e["event"] == "message", 20, "message")
        ok(msg["from"] == akey and msg["text"] == "hello Bob" and msg["msg_id"] == mid
           and msg["ts"] > 0, "the message arrives")
        a.expect(lambda e: e["event"] == "status" and e["msg_id"] == mid
                 and e["status"] == "sent", 20, "sent")
        a.expect(lambda e: e["event"] == "status" and e["msg_id"] == mid
                 and e["status"] == "delivered", 20, "delivered")
        ok(True, "statuses: queued, sent, delivered")

        b.send(cmd="send", to=akey, text="hi Alice")
        back = a.expect(lambda e: e["event"] == "message", 20, "reply")
        ok(back["from"] == bkey and back["text"] == "hi Alice", "the reply arrives")

        # Typing: answered, shown to the other side, ended by a stop.
        a.send(cmd="typing", to=bkey, typing=True)
        ans = a.expect(lambda e: e["event"] in ("typing-sent", "error"), 10, "typing answer")
        ok(ans["event"] == "typing-sent" and ans["to"] == bkey and ans["typing"] is True,
           "typing is answered")
        on = b.expect(lambda e: e["event"] == "typing", 10, "typing on")
        a.send(cmd="typing", to=bkey, typing=False)
        a.expect(lambda e: e["event"] == "typing-sent" and e["typing"] is False, 10,
                 "typing answer")
        off = b.expect(lambda e: e["event"] == "typing", 10, "typing off")
        ok(on["key"] == akey and on["typing"] is True and off["key"] == akey
           and off["typing"] is False, "B sees A start and stop typing")
        a.send(cmd="typing", to=bkey, typing="yes")
        bad = a.expect(lambda e: e["event"] in ("typing-sent", "error"), 10, "typing error")
        ok(bad["event"] == "error", "a typing that is not a boolean is an error")

        a.send(cmd="contacts")
        contacts = a.expect(lambda e: e["event"] == "contacts", 10, "contacts")["contacts"]
        ok(len(contacts) == 1 and contacts[0]["key"] == bkey and contacts[0]["online"]
           and contacts[0]["state"] == "accepted" and contacts[0]["name"] == "Bob",
           "contacts lists B, online, accepted, named")

        # SIGKILL in the middle of sending 1000.
        for i in range(TOTAL):
            a.send(cmd="send", to=bkey, text="bulk %d" % i)
        queued = 0
        while queued < TOTAL // 3:
            a.expect(lambda e: e["event"] == "status" and e["status"] == "queued", 30,
                     "queued")
            queued += 1
        a.kill()
        procs.remove(a)

        a = Chat(os.path.join(root, "a"), "Alice")
        procs.append(a)
        stored = [m["text"] for m in a.history(bkey) if m["outgoing"]
                  and m["text"].startswith("bulk ")]
        ok(len(stored) >= queued and len(stored) == len(set(stored)),
           "after SIGKILL the outbox kept every queued message (%d of %d answered, %d stored)"
           % (queued, TOTAL, len(stored)))
        for i in range(TOTAL):
            if "bulk %d" % i not in stored:
                a.send(cmd="send", to=bkey, text="bulk %d" % i)

        deadline = time.monotonic() + 90
        while True:
            got = [m["text"] for m in b.history(akey) if not m["outgoing"]
                   and m["text"].startswith("bulk ")]
            if len(got) >= TOTAL or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        ok(len(got) == TOTAL and len(set(got)) == TOTAL,
           "all %d delivered exactly once (%d received, %d distinct)"
           % (TOTAL, len(got), len(set(got))))
        sent_order = [m["text"] for m in a.history(bkey) if m["outgoing"]
                      and m["text"].startswith("bulk ")]
        ok(got == sent_order, "in the sender's order")

        deadline = time.monotonic() + 30
        while True:
            statuses = [m["status"] for m in a.history(bkey) if m["outgoing"]]
            if all(s == "delivered" for s in statuses) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        ok(all(s == "delivered" for s in statuses), "the sender sees every one delivered")

        # B offline while A sends 100; B starts later.
        ok(b.quit() == 0, "B quits cleanly on end of input")
        procs.remove(b)
        for i in range(100):
            a.send(cmd="send", to=bkey, text="later %d" % i)
        for i in range(100):
            a.expect(lambda e: e["event"] == "status" and e["status"] == "queued", 30, "queued")
        b = Chat(os.path.join(root, "b"), "Bob")
        procs.append(b)
        later = [b.expect(lambda e: e["event"] == "message", 60, "later message")["text"]
                 for i in range(100)]
        ok(later == ["later %d" % i for i in range(100)],
           "B, started later, gets all 100 once and in order")
        time.sleep(0.5)
        got = [m["text"] for m in b.history(akey) if m["text"].startswith("later ")]
        ok(got == ["later %d" % i for i in range(100)], "and its history has each once")

        codes = [a.quit(), b.quit()]
        procs.clear()
        ok(codes == [0, 0], "closing standard input quits cleanly")
    finally:
        for p in procs:
            p.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    run_tap(main)
