#!/usr/bin/python3
"""sockets.py PORTBASE READYFILE - run inside a test namespace: make TCP sockets of every
kind the comparison test wants (v4/v6 listeners, idle and data-moving connections, a
socket in TIME-WAIT), touch READYFILE, then sleep until killed."""
import socket, sys, threading, time

base = int(sys.argv[1])
keep = []

def listener(fam, addr, port):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6 and addr == '::1':
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    s.listen(16)
    keep.append(s)
    return s

def connect(fam, addr, port, lst, cport):
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.bind((addr, cport))
    c.connect((addr, port))
    a, _ = lst.accept()
    keep.extend([c, a])
    return c, a

l4 = listener(socket.AF_INET, '127.0.0.1', base)
l6 = listener(socket.AF_INET6, '::1', base + 1)
ld = listener(socket.AF_INET6, '::', base + 2)          # dual stack
# idle connections: client ports base+10.. are "idle" for the comparison
connect(socket.AF_INET, '127.0.0.1', base, l4, base + 10)
connect(socket.AF_INET6, '::1', base + 1, l6, base + 11)
# one exchange, then idle
c, a = connect(socket.AF_INET, '127.0.0.1', base, l4, base + 12)
c.sendall(b'x' * 1000); a.recv(1000); a.sendall(b'y' * 500); c.recv(500)
# data moving continuously: client ports base+20..
def pump(c, a):
    def rx():
        while True:
            if not a.recv(65536):
                return
    threading.Thread(target=rx, daemon=True).start()
    while True:
        c.sendall(b'z' * 16384)
        time.sleep(0.001)
for fam, addr, lst, p in ((socket.AF_INET, '127.0.0.1', l4, base + 20), (socket.AF_INET6, '::1', l6, base + 21)):
    c, a = connect(fam, addr, lst.getsockname()[1], lst, p)
    threading.Thread(target=pump, args=(c, a), daemon=True).start()
# TIME-WAIT: the client closes first, the server answers the FIN.
c, a = connect(socket.AF_INET, '127.0.0.1', base, l4, base + 30)
c.close(); a.close()
keep.remove(c); keep.remove(a)
time.sleep(0.5)
open(sys.argv[2], 'w').close()
while True:
    time.sleep(60)
