#!/usr/bin/python3
"""httpd_load — the health endpoint under 100 idle and 100 trickling connections.

usage: httpd_load.py PORT

A probe (from 127.0.0.1) asks /healthz and /readyz-free /metrics four times a second;
every probe must be answered in time while:
 A. 100 idle connections come from 127.0.0.2 and 100 trickling ones (a header byte every
    0.5 s) from 127.0.0.3: the per-address limit keeps exactly 16 of each open;
 B. the same from 200 different addresses (127.0.1.x idle, 127.0.2.x trickling): all are
    taken, and each trickling one is cut once the header deadline passed although it
    never stopped sending.
Prints one "name: value" line per fact; the shell test compares them exactly.
"""
import errno
import socket
import sys
import threading
import time
import urllib.request

PORT = int(sys.argv[1])
PER_IP = 16
DEADLINE = 5.0        # HTTPD_HEADER_DEADLINE_S
PHASE = 9.0           # seconds of attack per phase


def connect(src):
    """A connection from address src; None when the server does not take it in 2 s."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", PORT))
    except OSError:
        s.close()
        return None
    s.setblocking(False)
    return s


def is_open(s):
    """True while the server has neither closed nor reset the connection."""
    if s is None:
        return False
    try:
        return s.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


class Probe(threading.Thread):
    def __init__(self, until):
        super().__init__(daemon=True)
        self.until, self.sent, self.ok, self.slow = until, 0, 0, []

    def run(self):
        while time.monotonic() < self.until:
            for path in ("/healthz", "/metrics"):
                t0 = time.monotonic()
                self.sent += 1
                try:
                    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (PORT, path), timeout=2) as r:
                        if r.status == 200 and r.read():
                            self.ok += 1
                except OSError as e:
                    self.slow.append("%s: %s" % (path, e))
                if time.monotonic() - t0 > 2:
                    self.slow.append("%s took %.1f s" % (path, time.monotonic() - t0))
            time.sleep(0.25)


def attack(idle_src, trickle_src):
    """Open the connections; returns (idle, trickling) socket lists."""
    idle = [connect(idle_src(i)) for i in range(100)]
    trickle = []
    for i in range(100):
        s = connect(trickle_src(i))
        try:
            s.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        except (OSError, AttributeError):
            pass
        trickle.append(s)
    return idle, trickle


def phase(name, idle_src, trickle_src):
    start = time.monotonic()
    probe = Probe(start + PHASE)
    probe.start()
    idle, trickle = attack(idle_src, trickle_src)
    time.sleep(1)
    print("%s idle open after 1 s: %d" % (name, sum(map(is_open, idle))))
    print("%s trickling open after 1 s: %d" % (name, sum(map(is_open, trickle))))
    cut_at = [None] * len(trickle)
    while time.monotonic() < start + PHASE:
        for i, s in enumerate(trickle):
            if cut_at[i] is not None:
                continue
            try:
                s.send(b"a")
            except (OSError, AttributeError):
                pass
            if not is_open(s):
                cut_at[i] = time.monotonic() - start
        time.sleep(0.5)
    probe.join()
    print("%s probes answered: %d of %d" % (name, probe.ok, probe.sent))
    for line in probe.slow[:5]:
        print("%s probe problem: %s" % (name, line))
    late = [t for t in cut_at if t is None or t > DEADLINE + 3.5]
    print("%s trickling cut within the deadline: %d" % (name, len(trickle) - len(late)))
    for s in idle + trickle:
        if s is not None:
            s.close()
    time.sleep(1)


phase("A", lambda i: "127.0.0.2", lambda i: "127.0.0.3")
phase("B", lambda i: "127.0.1.%d" % (i + 1), lambda i: "127.0.2.%d" % (i + 1))
