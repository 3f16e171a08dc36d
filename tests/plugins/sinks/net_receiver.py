#!/usr/bin/python3
"""The far end for the e2e tests of the tcp, unix and unixgram sinks: stores what
arrives until SIGTERM, one file per connection (stream kinds) or per datagram, named
OUTDIR/<kind>-<pid>-<n> so a receiver restarted after an outage adds files in order.

  net_receiver.py tcp READYFILE OUTDIR [PORT]   listen on 127.0.0.1:PORT (0: any);
                                                the port goes into READYFILE
  net_receiver.py unix PATH OUTDIR              listen on PATH; READY = PATH.ready
  net_receiver.py unixgram PATH OUTDIR          bind PATH; READY = PATH.ready
  net_receiver.py stall READYFILE OUTDIR        tcp that accepts and never reads
"""
import os
import selectors
import signal
import socket
import sys

kind, where, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
done = False


def stop(*_):
    global done
    done = True


signal.signal(signal.SIGTERM, stop)
sel = selectors.DefaultSelector()
count = 0
held = []


def out_file():
    global count
    f = open(os.path.join(outdir, "%s-%d-%06d" % (kind, os.getpid(), count)), "wb")
    count += 1
    return f


if kind in ("tcp", "stall"):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", int(sys.argv[4]) if len(sys.argv) > 4 else 0))
    ready, ready_text = where, str(ls.getsockname()[1])
elif kind == "unix":
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(where):
        os.unlink(where)
    ls.bind(where)
    ready, ready_text = where + ".ready", "ok"
else:
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if os.path.exists(where):
        os.unlink(where)
    ls.bind(where)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    ready, ready_text = where + ".ready", "ok"
if kind != "unixgram":
    ls.listen(16)
ls.setblocking(False)
sel.register(ls, selectors.EVENT_READ, None)
with open(ready + ".tmp", "w") as f:
    f.write(ready_text)
os.rename(ready + ".tmp", ready)

while not done:
    for key, _ in sel.select(timeout=0.2):
        if key.fileobj is ls and kind == "unixgram":
            while True:
                try:
                    d = ls.recv(1 << 20)
                except BlockingIOError:
                    break
                with out_file() as f:
                    f.write(d)
        elif key.fileobj is ls and kind == "stall":
            held.append(ls.accept()[0])    # kept open, never read
        elif key.fileobj is ls:
            c, _ = ls.accept()
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ, out_file())
        else:
            try:
                d = key.fileobj.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                continue
            except ConnectionError:
                d = b""
            if d:
                key.data.write(d)
            else:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                key.data.close()
# Stopped: keep what already arrived (everything the sink wrote before we stop reading).
for key in list(sel.get_map().values()):
    if key.data:
        while True:
            try:
                d = key.fileobj.recv(1 << 20)
            except (BlockingIOError, ConnectionError):
                break
            if not d:
                break
            key.data.write(d)
        key.data.close()
    elif kind == "unixgram":
        while True:
            try:
                d = ls.recv(1 << 20)
            except BlockingIOError:
                break
            with out_file() as f:
                f.write(d)
    key.fileobj.close()
