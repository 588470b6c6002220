# epchat.py — drives `encryptedp2p-node` processes (`chat`, `serve`) over their JSON lines
#
# Shared by the tests that run chat processes and by build-aux/take-screenshots,
# with the TAP helpers those tests print their results with.
# Standard library only.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time


def node():
    """The encryptedp2p-node program the tests run."""
    return os.environ.get("EP_NODE", "encryptedp2p-node")


class Proc:
    """An encryptedp2p-node process that prints one JSON object a line."""

    def __init__(self, args, name, prefix=(), program=None):
        self.name = name
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            list(prefix) + [program or node()] + list(args),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1)
        self.events = queue.Queue()
        self.seen = []
        self.log = []      # every event, in order, never taken
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        self.err_thread = threading.Thread(target=self._read_err, daemon=True)
        self.err_thread.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                self.stderr.append("(not JSON on stdout) " + line)
                continue
            event["_t"] = time.monotonic()   # when it came, for figures
            self.log.append(event)
            self.events.put(event)
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
                self.events.put(None)
                raise AssertionError("%s exited waiting for %s: %s"
                                     % (self.name, what, "".join(self.stderr)[-2000:]))
            if pred(e):
                return e
            self.seen.append(e)

    def drain(self):
        """Every event that came so far, taken."""
        out, self.seen = self.seen, []
        while True:
            try:
                e = self.events.get_nowait()
            except queue.Empty:
                return out
            if e is None:
                self.events.put(None)
                return out
            out.append(e)

    def call(self, answers, timeout=20, **cmd):
        """Sends a command and returns its answer (an event in @answers or an error)."""
        self.send(**cmd)
        return self.expect(lambda e: e["event"] in answers + ("error",), timeout,
                           "answer to %s" % cmd.get("cmd"))

    def quit(self, timeout=20):
        """Closes standard input; the exit code (None when it had to be killed)."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            return None

    def stop(self):
        """SIGTERM; the exit code, once the last lines of stderr are read."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=20)
        self.err_thread.join(timeout=10)
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


class Chat(Proc):
    """`chat` on 127.0.0.1 with no default bootstrap, once it is ready."""

    def __init__(self, profile, name, extra=(), prefix=()):
        self.profile = profile
        super().__init__(["chat", "--profile", profile, "--no-default-bootstrap",
                          "--bind", "127.0.0.1", "--name", name] + list(extra),
                         name, prefix)
        self.ready = self.expect(lambda e: e["event"] == "ready", 20, "ready")

    def history(self, key, limit=5000):
        self.send(cmd="history", **{"with": key, "limit": limit})
        return self.expect(lambda e: e["event"] == "history", 20, "history")["messages"]


tests_run = 0


def ok(cond, what):
    """One TAP result; a failure bails out."""
    global tests_run
    tests_run += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (tests_run, what), flush=True)
    if not cond:
        print("Bail out! %s" % what, flush=True)
        sys.exit(1)


def run_tap(main):
    """Runs main; an AssertionError from an expect() is a TAP bail-out."""
    try:
        main()
    except AssertionError as e:
        print("not ok - %s" % e, flush=True)
        print("Bail out!", flush=True)
        sys.exit(1)
