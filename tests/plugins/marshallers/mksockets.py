#!/usr/bin/python3
"""mksockets.py PORTBASE READYFILE - run inside a namespace made by mkcapture.sh: build a
busy-server-like socket mix for the marshaller bench's captured dump, touch READYFILE,
then sleep until killed. Deterministic (seeded); only loopback addresses.

  - 24 listeners: IPv4, IPv6-only and dual-stack, cubic and bbr, a few with TOS/mark
  - 240 connections (480 sockets), IPv4 and IPv6 (some v4-mapped on the dual-stack
    listener), each after a request/response exchange of 0..256 KiB; a third keep
    unread bytes in a receive queue, some are half closed (FIN-WAIT-2 / CLOSE-WAIT)
  - 80 connections closed client first: 80 TIME-WAIT sockets
"""
import random, socket, sys, time

base = int(sys.argv[1])
rnd = random.Random(4)
keep = []
TCP_CONGESTION = getattr(socket, 'TCP_CONGESTION', 13)
SO_MARK = getattr(socket, 'SO_MARK', 36)


def tune(s, i, v6):
    s.setsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, b'bbr' if i % 3 == 0 else b'cubic')
    if i % 5 == 0:
        if v6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, 0x28)
        else:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 0x10)
    if i % 7 == 0:
        s.setsockopt(socket.SOL_SOCKET, SO_MARK, 0x100 + i)


listeners = []
for i in range(24):
    kind = i % 3        # 0: IPv4, 1: IPv6 only, 2: dual stack
    fam = socket.AF_INET if kind == 0 else socket.AF_INET6
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if kind == 1:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    tune(s, i, kind != 0)
    s.bind(('127.0.0.1' if kind == 0 else '::1' if kind == 1 else '::', base + i))
    s.listen(128)
    keep.append(s)
    listeners.append((kind, s))


def connect(i):
    kind, lst = listeners[i % len(listeners)]
    port = lst.getsockname()[1]
    if kind == 0:
        fam, addr = socket.AF_INET, '127.0.0.1'
    elif kind == 1:
        fam, addr = socket.AF_INET6, '::1'
    else:   # the dual-stack listener gets both families
        fam, addr = (socket.AF_INET, '127.0.0.1') if i % 2 else (socket.AF_INET6, '::1')
    c = socket.socket(fam, socket.SOCK_STREAM)
    tune(c, i, fam == socket.AF_INET6)
    c.connect((addr, port))
    a, _ = lst.accept()
    return c, a


def exchange(c, a, up, down):
    # request up bytes, answer down bytes; each side reads everything it was sent
    for src, dst, n in ((c, a, up), (a, c, down)):
        left = n
        while left:
            k = min(left, 65536)
            src.sendall(b'q' * k)
            got = 0
            while got < k:
                got += len(dst.recv(k - got))
            left -= k


for i in range(240):
    c, a = connect(i)
    exchange(c, a, rnd.choice((0, 64, 300, 1500, 9000, 65536)),
             rnd.choice((0, 512, 4096, 32768, 131072, 262144)))
    if i % 3 == 1:
        a.sendall(b'r' * rnd.randint(1, 40000))    # left unread: rqueue > 0
    if i % 17 == 5:
        c.shutdown(socket.SHUT_WR)                 # c FIN-WAIT-2, a CLOSE-WAIT
    keep.extend((c, a))

for i in range(80):
    c, a = connect(1000 + i)
    exchange(c, a, 200, 2000)
    c.close()           # the client closes first: it ends in TIME-WAIT
    a.recv(1)
    a.close()

time.sleep(0.5)         # TIME-WAIT reached, timers settled
open(sys.argv[2], 'w').close()
while True:
    time.sleep(60)
