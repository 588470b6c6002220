#!/usr/bin/python3
# test-relay-chat.py — `serve --relay` and two `chat --relay` processes
#
# On 127.0.0.1 only, with no LAN discovery and no DHT: the chats know
# nothing of each other's endpoints, only the relay they both use, so the
# contact request, the acceptance and the messages all go through the
# relay. Checks the "relay" member of serve's first line, presence events
# with "path": "relay", delivery both ways, the relay's counts on stderr,
# and that a malformed --relay is a usage error.
#
# TAP on stdout. Standard library only.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from epchat import Chat, Proc, node, ok, run_tap  # noqa: E402

NET = ["--no-default-bootstrap", "--bind", "127.0.0.1"]


def chat(root, name, relay):
    return Chat(os.path.join(root, name), name, extra=["--no-lan", "--relay", relay])


def send_delivered(sender, to, text):
    """Sends text to `to`; returns the message it gets, once the sender saw it delivered."""
    sender.send(cmd="send", to=to.ready["key"], text=text)
    mid = sender.expect(lambda e: e["event"] == "status" and e["status"] == "queued", 10,
                        "queued")["msg_id"]
    msg = to.expect(lambda e: e["event"] == "message", 30, "message")
    sender.expect(lambda e: e["event"] == "status" and e["msg_id"] == mid
                  and e["status"] == "delivered", 30, "delivered")
    return msg


def main():
    print("1..10", flush=True)
    root = tempfile.mkdtemp(prefix="ep-relay-chat-")
    procs = []
    try:
        bad = subprocess.run([node(), "chat", "--profile", os.path.join(root, "bad"), "--relay",
                              "nothex@127.0.0.1:1"] + NET, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=20)
        ok(bad.returncode == 2 and "KEYHEX@HOST:PORT" in bad.stderr,
           "a malformed --relay is a usage error")

        ident = os.path.join(root, "relay.key")
        serve = Proc(["serve", "--relay", "--relay-identity", ident, "--port", "0"] + NET,
                     "serve")
        procs.append(serve)
        first = serve.expect(lambda e: "relay" in e, 20, "first line")
        key, port = first["relay"].split("@")
        ok(re.fullmatch(r"[0-9a-f]{64}", key) and int(port) == first["port"]
           and "id" in first, "serve --relay prints id, port and relay KEYHEX@PORT")
        ok(os.stat(ident).st_mode & 0o777 == 0o600, "the relay identity file is 0600")
        relay = "%s@127.0.0.1:%s" % (key, port)

        a = chat(root, "Alice", relay)
        procs.append(a)
        b = chat(root, "Bob", relay)
        procs.append(b)
        akey, bkey = a.ready["key"], b.ready["key"]

        a.send(cmd="add", id=b.ready["id"], text="via the relay")
        a.expect(lambda e: e["event"] == "contact-added", 10, "add answer")
        req = b.expect(lambda e: e["event"] == "contact-request", 30, "contact-request")
        ok(req["key"] == akey and req["text"] == "via the relay",
           "the request arrives through the relay")

        b.send(cmd="accept", key=akey)
        a.expect(lambda e: e["event"] == "contact-added" and e["state"] == "accepted", 30,
                 "acceptance")
        pa = a.expect(lambda e: e["event"] == "presence" and e["key"] == bkey and e["online"],
                      30, "presence of B")
        pb = b.expect(lambda e: e["event"] == "presence" and e["key"] == akey and e["online"],
                      30, "presence of A")
        ok(pa.get("path") == "relay" and pb.get("path") == "relay",
           "presence says online, path relay, on both sides")

        msg = send_delivered(a, b, "hello through the relay")
        ok(msg["text"] == "hello through the relay" and msg["from"] == akey,
           "A to B: arrives, delivered")

        back = send_delivered(b, a, "and back")
        ok(back["text"] == "and back" and back["from"] == bkey, "B to A: arrives, delivered")

        ok([a.quit(), b.quit()] == [0, 0], "the chats quit cleanly")
        procs.remove(a)
        procs.remove(b)
        code = serve.stop()
        procs.remove(serve)
        counts = [l for l in serve.stderr if "relay:" in l]
        m = re.search(r"forwarded (\d+) packets", counts[-1]) if counts else None
        ok(code == 0 and m is not None and int(m.group(1)) >= 8,
           "serve quits cleanly and counted the forwarded packets (%s)"
           % (counts[-1].strip() if counts else "no counts"))

        again = Proc(["serve", "--relay", "--relay-identity", ident, "--port", "0"] + NET,
                     "serve again")
        procs.append(again)
        second = again.expect(lambda e: "relay" in e, 20, "first line")
        ok(second["relay"].split("@")[0] == key and again.stop() == 0,
           "the relay keeps its key across runs with --relay-identity")
        procs.remove(again)
    finally:
        for p in procs:
            p.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    run_tap(main)
