# epchat.py — drives `encryptedp2p-node chat` processes over their JSON lines
#
# Shared by the tests that run chat processes and by build-aux/take-screenshots.
# Standard library only.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import json
import os
import queue
import signal
import subprocess
import threading
import time

class Chat:
    def __init__(self, profile, name, extra=(), prefix=()):
        self.profile = profile
        self.name = name
        self.proc = subprocess.Popen(
            list(prefix) + [os.environ.get("EP_NODE", "encryptedp2p-node"), "chat", "--profile", profile, "--no-default-bootstrap",
             "--bind", "127.0.0.1", "--name", name] + list(extra),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1)
        self.events = queue.Queue()
        self.seen = []
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        self.ready = self.expect(lambda e: e["event"] == "ready", 20, "ready")

    def _read(self):
        for line in self.proc.stdout:
            self.events.put(json.loads(line))
        self.events.put(None)

    def _read_err(self):
        for line in self.proc.stderr:
            self.stderr.append(line)

    def send(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def expect(self, pred, timeout, what):
        """The first event (seen or new) matching pred; it is taken."""
        for i, e in enumerate(self.seen):
            if pred(e):
                return self.seen.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("%s: no %s within %ss; stderr: %s"
                                     % (self.name, what, timeout, "".join(self.stderr)[-2000:]))
            try:
                e = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if e is None:
                raise AssertionError("%s exited waiting for %s: %s"
                                     % (self.name, what, "".join(self.stderr)[-2000:]))
            if pred(e):
                return e
            self.seen.append(e)

    def history(self, key, limit=5000):
        self.send(cmd="history", **{"with": key, "limit": limit})
        return self.expect(lambda e: e["event"] == "history", 20, "history")["messages"]

    def quit(self):
        self.proc.stdin.close()
        return self.proc.wait(timeout=20)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
