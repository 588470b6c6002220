# natlab.py — a "public" network and homes behind NATs, in network namespaces
#
# The lab the NAT tests (test-nat-lab.py) and bench/nat.py build on:
#
#   public namespace  bridge br0, 10.77.0.1/24; the DHT nodes (`serve`) on
#                     10.77.0.11…, the relay (`serve --relay`) on 10.77.0.20
#   home N            a router namespace (WAN veth on br0 as 10.77.0.(100+N),
#                     LAN veth 192.168.N.1/24) doing nft masquerade — "cone":
#                     plain masquerade (Linux keeps the source port), or
#                     "symmetric": masquerade fully-random (a new random port
#                     per destination) — and dropping unsolicited inbound like
#                     a home router; and a host namespace (192.168.N.2, default
#                     route through the router) where the chat peers run.
#                     The homes' DHT nodes cannot query each other (see
#                     add_home), as two given peers on the real DHT hardly do.
#
# Every name carries the creating PID; everything the lab made is removed by
# close() (the lab is a context manager), and only the processes it started
# are killed, by PID. Every wait is bounded.
#
# Standard library only; needs root, ip(8) and nft(8); loss and delay also
# need iptables(8) and the ep-impair helper (NFQUEUE).
#
# SPDX-License-Identifier: GPL-3.0-or-later

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from epchat import Proc  # noqa: E402

PUBLIC_NET = "10.77.0"
DHT_PORT = 6881
RELAY_ADDRESS = PUBLIC_NET + ".20"
RELAY_PORT = 6900


class LabSkip(Exception):
    """The lab cannot run here (not root, a tool or kernel feature missing)."""


class LabError(Exception):
    pass


def _run(args, timeout=10, input=None, check=True):
    proc = subprocess.run(args, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise LabError("%s failed (%d): %s" % (" ".join(args), proc.returncode,
                                                proc.stderr.strip()))
    return proc


def impair_missing(impair=None):
    """Why loss and delay cannot be had here (@impair: the ep-impair program,
    by default $EP_IMPAIR), or None when they can."""
    impair = impair or os.environ.get("EP_IMPAIR")
    if not impair or not os.access(impair, os.X_OK):
        return "ep-impair was not built (libnetfilter_queue missing)"
    if shutil.which("iptables") is None:
        return "iptables is not installed (ep-impair takes packets through NFQUEUE)"
    return None


def check_can_run(need_impair=False, impair=None):
    """Raises LabSkip with the reason when the lab cannot run here (@impair:
    the ep-impair program, by default $EP_IMPAIR)."""
    if os.geteuid() != 0:
        raise LabSkip("the NAT lab needs root (it creates network namespaces)")
    for tool in ["ip", "nft"]:
        if shutil.which(tool) is None:
            raise LabSkip("%s is not installed" % tool)
    if need_impair and impair_missing(impair):
        raise LabSkip(impair_missing(impair))
    probe = "epl%d-probe" % os.getpid()
    try:
        proc = _run(["ip", "netns", "add", probe], check=False)
        if proc.returncode != 0:
            raise LabSkip("cannot create a network namespace: %s" % proc.stderr.strip())
        proc = _run(["ip", "netns", "exec", probe, "nft", "-f", "-"], check=False,
                    input="table ip t {\n chain c {\n"
                          "  type nat hook postrouting priority srcnat;\n"
                          "  masquerade fully-random\n }\n}\n")
        if proc.returncode != 0:
            raise LabSkip("nft masquerade does not work here: %s" % proc.stderr.strip())
    finally:
        _run(["ip", "netns", "del", probe], check=False)


class Process:
    """A process the lab started in a namespace, with its output in files."""

    def __init__(self, lab, netns, args, name):
        self.name = name
        self.out_path = os.path.join(lab.dir, name + ".out")
        self.err_path = os.path.join(lab.dir, name + ".err")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        # `ip netns exec` execs the program: the PID is the program's own.
        self.proc = subprocess.Popen(["ip", "netns", "exec", netns] + args,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.err, text=True)
        lab.processes.append(self)

    @property
    def pid(self):
        return self.proc.pid

    def first_line(self, timeout):
        """The first line of standard output, or None if it exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.out_path) as f:
                line = f.readline()
            if line.endswith("\n"):
                return line
            if self.proc.poll() is not None:
                return None
            time.sleep(0.05)
        return None

    def wait_stderr(self, text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.err_path) as f:
                if text in f.read():
                    return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def stderr_tail(self, n=2000):
        try:
            with open(self.err_path) as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def stop(self, timeout=5):
        """SIGTERM, then SIGKILL after @timeout; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.out.close()
        self.err.close()
        return self.proc.returncode


class Chat(Proc):
    """`encryptedp2p-node chat` in a home, driven by JSON lines."""

    def __init__(self, lab, home, name, relay=True, extra=()):
        self.lab = lab
        self.profile = os.path.join(lab.dir, "profile-" + name)
        args = ["chat", "--profile", self.profile, "--no-default-bootstrap",
                "--no-lan", "--name", name]
        for address in lab.dht_addresses:
            args += ["--bootstrap", address]
        if relay and lab.relay is not None:
            args += ["--relay", lab.relay]
        args += list(extra)
        super().__init__(args, name, prefix=["ip", "netns", "exec", lab.host_ns(home)],
                         program=lab.node)
        lab.chats.append(self)
        self.ready = self.expect(lambda e: e["event"] == "ready", 20, "ready")
        self.key = self.ready["key"]
        self.id = self.ready["id"]

    def send_message(self, to, text):
        """Sends @text to key @to; returns the answer ("status" queued, or "error")."""
        self.send(cmd="send", to=to, text=text)
        return self.expect(lambda e: e["event"] == "error"
                           or (e["event"] == "status" and e["status"] == "queued"
                               and e["to"] == to), 20, "answer to send")

    def history(self, key, limit=5000):
        return self.call(("history",), **{"cmd": "history", "with": key,
                                          "limit": limit})["messages"]

    def contacts(self):
        return self.call(("contacts",), cmd="contacts")["contacts"]


class Lab:
    """The namespaces, the DHT nodes and the relay; homes are added by add_home()."""

    def __init__(self, node, n_dht=3, relay=True, impair=None):
        self.node = node
        self.impair_exe = impair
        self.prefix = "epl%d" % os.getpid()
        self.dir = tempfile.mkdtemp(prefix="ep-natlab-")
        self.namespaces = []
        self.processes = []
        self.chats = []
        self.homes = {}
        self.dht = []
        self.dht_addresses = []
        self.relay = None
        self.relay_process = None
        self.relay_error = None
        self.impairers = {}
        try:
            self._make_public()
            for i in range(n_dht):
                self._start_dht(i)
            for p in self.dht[1:]:
                if not p.wait_stderr("joined the DHT", 20):
                    raise LabError("DHT node %s did not join: %s" % (p.name, p.stderr_tail()))
            if relay:
                self._start_relay()
        except BaseException:
            self.close()
            raise

    # Namespaces ---------------------------------------------------------

    def _netns(self, suffix):
        name = "%s-%s" % (self.prefix, suffix)
        _run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        _run(["ip", "-n", name, "link", "set", "lo", "up"])
        return name

    @property
    def public_ns(self):
        return "%s-pub" % self.prefix

    def router_ns(self, home):
        return "%s-r%d" % (self.prefix, home)

    def host_ns(self, home):
        return "%s-h%d" % (self.prefix, home)

    def _make_public(self):
        ns = self._netns("pub")
        _run(["ip", "-n", ns, "link", "add", "br0", "type", "bridge"])
        _run(["ip", "-n", ns, "addr", "add", PUBLIC_NET + ".1/24", "dev", "br0"])
        _run(["ip", "-n", ns, "link", "set", "br0", "up"])

    def _public_address(self, address):
        _run(["ip", "-n", self.public_ns, "addr", "add", address + "/24", "dev", "br0"])

    def _start_dht(self, i):
        address = "%s.%d" % (PUBLIC_NET, 11 + i)
        self._public_address(address)
        args = [self.node, "serve", "--bind", address, "--port", str(DHT_PORT),
                "--no-default-bootstrap"]
        for other in self.dht_addresses:
            args += ["--bootstrap", other]
        p = Process(self, self.public_ns, args, "dht%d" % i)
        if p.first_line(10) is None:
            raise LabError("DHT node %d did not start: %s" % (i, p.stderr_tail()))
        self.dht.append(p)
        self.dht_addresses.append("%s:%d" % (address, DHT_PORT))

    def _start_relay(self):
        """`serve --relay`; without relay support in this build self.relay stays None."""
        self._public_address(RELAY_ADDRESS)
        args = [self.node, "serve", "--relay", "--bind", RELAY_ADDRESS, "--port", str(RELAY_PORT),
                "--no-default-bootstrap"]
        for address in self.dht_addresses:
            args += ["--bootstrap", address]
        p = Process(self, self.public_ns, args, "relay")
        line = p.first_line(10)
        if line is None:
            self.relay_error = "serve --relay did not start: %s" % p.stderr_tail(500).strip()
            p.stop()
            return
        try:
            member = json.loads(line).get("relay")
        except ValueError:
            member = None
        if not isinstance(member, str) or "@" not in member:
            self.relay_error = "serve --relay printed no \"relay\" member: %s" % line.strip()
            return
        key, port = member.rsplit("@", 1)
        self.relay = "%s@%s:%s" % (key, RELAY_ADDRESS, port)
        self.relay_process = p

    # Homes --------------------------------------------------------------

    def add_home(self, n, mode="cone"):
        """Home @n (1…99) behind a NAT: @mode "cone" or "symmetric"."""
        if mode not in ("cone", "symmetric"):
            raise ValueError(mode)
        router = self._netns("r%d" % n)
        host = self._netns("h%d" % n)
        wan, lan = "%s.%d" % (PUBLIC_NET, 100 + n), "192.168.%d" % n
        # Created right in the namespaces: nothing appears in the caller's.
        _run(["ip", "link", "add", "wan", "netns", router, "type", "veth",
              "peer", "name", "home%d" % n, "netns", self.public_ns])
        _run(["ip", "-n", self.public_ns, "link", "set", "home%d" % n, "master", "br0", "up"])
        _run(["ip", "link", "add", "lan", "netns", router, "type", "veth",
              "peer", "name", "eth0", "netns", host])
        _run(["ip", "-n", router, "addr", "add", wan + "/24", "dev", "wan"])
        _run(["ip", "-n", router, "addr", "add", lan + ".1/24", "dev", "lan"])
        _run(["ip", "-n", router, "link", "set", "wan", "up"])
        _run(["ip", "-n", router, "link", "set", "lan", "up"])
        _run(["ip", "-n", host, "addr", "add", lan + ".2/24", "dev", "eth0"])
        _run(["ip", "-n", host, "link", "set", "eth0", "up"])
        _run(["ip", "-n", host, "route", "add", "default", "via", lan + ".1"])
        _run(["ip", "netns", "exec", router, "sh", "-c",
              "echo 1 > /proc/sys/net/ipv4/ip_forward"])
        masquerade = "masquerade" + (" fully-random" if mode == "symmetric" else "")
        # A home router: out through NAT; in only what answers our own traffic.
        # Unsolicited packets die in the input hook, so that they never leave a
        # conntrack entry that would make the NAT pick another port later.
        # The homes' DHT nodes never query each other (KRPC starts with "d",
        # session packets never do): on the real DHT two given peers hardly
        # ever meet, and here every such query would open both NATs for the
        # other peer, a hole the real network would not give.
        ruleset = """
table ip home {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" %s
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "lan" oifname "wan" ip daddr %s.100-%s.199 meta l4proto udp @th,64,8 0x64 drop
    iifname "lan" oifname "wan" accept
  }
  chain input {
    type filter hook input priority filter; policy drop;
    iifname "lo" accept
    ct state established,related accept
    iifname "lan" accept
  }
}
""" % (masquerade, PUBLIC_NET, PUBLIC_NET)
        _run(["ip", "netns", "exec", router, "nft", "-f", "-"], input=ruleset)
        self.homes[n] = {"mode": mode, "wan": wan, "lan": lan + ".2"}
        return n

    def cut(self, n):
        """Home @n's link goes dead: everything through its router is dropped."""
        _run(["ip", "netns", "exec", self.router_ns(n), "nft", "-f", "-"], input="""
table ip cut {
  chain forward { type filter hook forward priority -50; policy drop; }
  chain input { type filter hook input priority -50; policy drop; }
}
""")

    def restore(self, n):
        _run(["ip", "netns", "exec", self.router_ns(n), "nft", "delete", "table", "ip", "cut"])

    def impair(self, n, loss, delay_ms, jitter_ms, seed=None):
        """Loss and delay on home @n's link, both directions (ep-impair on NFQUEUE)."""
        if self.impair_exe is None:
            raise LabSkip("ep-impair was not built")
        router = self.router_ns(n)
        args = [self.impair_exe, "--queue", str(n), "--loss", str(loss),
                "--delay-ms", str(delay_ms), "--jitter-ms", str(jitter_ms)]
        if seed is not None:
            args += ["--seed", str(seed)]
        p = Process(self, router, args, "impair%d" % n)
        if p.first_line(10) != "ready\n":
            raise LabError("ep-impair did not start: %s" % p.stderr_tail())
        _run(["ip", "netns", "exec", router, "iptables", "-I", "FORWARD", "-j", "NFQUEUE",
              "--queue-num", str(n)])
        self.impairers[n] = p

    def unimpair(self, n):
        """Removes the impairment of home @n; returns ep-impair's summary line."""
        p = self.impairers.pop(n)
        _run(["ip", "netns", "exec", self.router_ns(n), "iptables", "-D", "FORWARD", "-j",
              "NFQUEUE", "--queue-num", str(n)], check=False)
        p.stop()
        return p.stderr_tail(500).strip()

    def stop_public(self):
        """Stops the DHT nodes and the relay; returns {name: exit code}
        (None: it had died before)."""
        codes = {}
        for p in self.dht + ([self.relay_process] if self.relay_process else []):
            alive = p.proc.poll() is None
            code = p.stop()
            codes[p.name] = code if alive else None
        return codes

    def chat(self, home, name, relay=True, extra=()):
        return Chat(self, home, name, relay=relay, extra=extra)

    def run_in(self, netns, args, timeout=30, input=None):
        return _run(["ip", "netns", "exec", netns] + list(args), timeout=timeout, input=input,
                    check=False)

    # Teardown -----------------------------------------------------------

    def close(self):
        for c in self.chats:
            if c.proc.poll() is None:
                c.proc.send_signal(signal.SIGTERM)
        for c in self.chats:
            try:
                c.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                c.proc.kill()
                c.proc.wait(timeout=5)
        self.chats = []
        for n in list(self.impairers):
            self.unimpair(n)
        for p in self.processes:
            try:
                p.stop()
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.processes = []
        for ns in reversed(self.namespaces):
            _run(["ip", "netns", "del", ns], check=False)
        self.namespaces = []
        if os.environ.get("EP_LAB_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# Figures of the link itself ----------------------------------------------

_ECHO = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(float(sys.argv[3]))
print("ready", flush=True)
try:
    while True:
        d, a = s.recvfrom(64)
        s.sendto(d, a)
except socket.timeout:
    pass
"""

_PROBE = r"""
import socket, statistics, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.01)
n = int(sys.argv[3]); sent = {}; rtt = []
for i in range(n):
    sent[i] = time.monotonic()
    s.sendto(b"%d" % i, (sys.argv[1], int(sys.argv[2])))
    end = time.monotonic() + 0.01
    while time.monotonic() < end:
        try:
            d, a = s.recvfrom(64)
            rtt.append(time.monotonic() - sent[int(d)])
        except socket.timeout:
            pass
end = time.monotonic() + 1.0
s.settimeout(0.05)
while time.monotonic() < end:
    try:
        d, a = s.recvfrom(64)
        rtt.append(time.monotonic() - sent[int(d)])
    except socket.timeout:
        pass
print(len(rtt), statistics.median(rtt) * 1000 if rtt else 0)
"""


def probe_link(lab, home, n=200):
    """Sends @n UDP echoes from home @home to the public net: (answered, median RTT ms)."""
    echo = Process(lab, lab.public_ns, [sys.executable, "-c", _ECHO, PUBLIC_NET + ".1", "7777", "3"],
                   "echo%d" % home)
    try:
        if echo.first_line(10) != "ready\n":
            raise LabError("the echo server did not start: %s" % echo.stderr_tail())
        proc = lab.run_in(lab.host_ns(home), [sys.executable, "-c", _PROBE, PUBLIC_NET + ".1", "7777",
                                              str(n)], timeout=30)
        answered, median = proc.stdout.split()
        return int(answered), float(median)
    finally:
        echo.stop()


# Two peers becoming contacts ----------------------------------------------

def _online(key):
    return lambda e: e["event"] == "presence" and e["key"] == key and e["online"]


def befriend(a, b, mutual, timeout=60):
    """@a asks @b; with @mutual @b asks @a too (both then call each other,
    which is what opens two port-restricted NATs), else @b accepts the
    request when it arrives. Returns (seconds until both see each other
    online, a's presence event, b's presence event); raises AssertionError
    when a step fails or takes longer than @timeout."""
    t0 = time.monotonic()
    added = a.call(("contact-added",), cmd="add", id=b.id, text="hello from " + a.name)
    if added["event"] != "contact-added" or added["state"] != "outgoing-pending":
        raise AssertionError("%s could not add %s: %s" % (a.name, b.name, added))
    if mutual:
        added = b.call(("contact-added",), cmd="add", id=a.id, text="hello from " + b.name)
        if added["event"] != "contact-added":
            raise AssertionError("%s could not add %s: %s" % (b.name, a.name, added))
    else:
        b.expect(lambda e: e["event"] == "contact-request" and e["key"] == a.key, timeout,
                 "contact request from " + a.name)
        accepted = b.call(("contact-added",), cmd="accept", key=a.key)
        if accepted["event"] != "contact-added" or accepted["state"] != "accepted":
            raise AssertionError("%s could not accept %s: %s" % (b.name, a.name, accepted))
    left = max(1.0, timeout - (time.monotonic() - t0))
    pa = a.expect(_online(b.key), left, "presence of " + b.name)
    left = max(1.0, timeout - (time.monotonic() - t0))
    pb = b.expect(_online(a.key), left, "presence of " + a.name)
    return time.monotonic() - t0, pa, pb
