#!/usr/bin/python3
"""udp_receiver.py ADDRFAMILY PORTFILE OUT — bind a UDP socket on loopback (4 or 6), write
its port to PORTFILE, then append every datagram to OUT as "<len>\\n<bytes>" until
SIGTERM, which first drains what the socket still holds (datagrams sent before the
signal are all written: no wait needed before stopping it)."""
import signal, socket, sys

fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
s.bind(("::1" if fam == socket.AF_INET6 else "127.0.0.1", 0))
out = open(sys.argv[3], "wb")


def keep(d):
    out.write(b"%d\n" % len(d) + d)
    out.flush()


def term(*a):
    s.setblocking(False)
    try:
        while True:
            keep(s.recv(70000))
    except BlockingIOError:
        pass
    out.close()
    sys.exit(0)


signal.signal(signal.SIGTERM, term)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
import os
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while True:
    keep(s.recv(70000))
