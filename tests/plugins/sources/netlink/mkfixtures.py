#!/usr/bin/python3
"""mkfixtures.py DIR - write synthetic capture files (the --capture format: netlink
datagrams back to back) for the replay test: kernel 4.15's 192-byte tcp_info, an
oversize tcp_info, an unknown attribute, an unknown message type, a message whose
attribute lies about its length, and one cut short."""
import os, struct, sys

SOCK_DIAG_BY_FAMILY, TCPDIAG_GETSOCK, NLMSG_DONE = 20, 18, 3
INFO, CONG, SKMEM, SHUTDOWN = 2, 4, 7, 8

def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack('=HH', n, t) + payload + b'\0' * ((4 - n % 4) % 4)

def diag(sport, dport, inode, cookie, family=2, state=1):
    src = bytes([127, 0, 0, 1]) + bytes(12)
    dst = bytes([127, 0, 0, 2]) + bytes(12)
    return struct.pack('=BBBB', family, state, 0, 0) + struct.pack('>HH', sport, dport) + src + dst + \
        struct.pack('=III', 0, cookie & 0xffffffff, cookie >> 32) + struct.pack('=IIIII', 0, 0, 0, 0, inode)

def msg(body, mtype=SOCK_DIAG_BY_FAMILY, flags=2, seq=1, pid=0):
    return struct.pack('=IHHII', 16 + len(body), mtype, flags, seq, pid) + body

def tcpi(n):
    return bytes((i + 1) & 0xff for i in range(n))

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
done = msg(struct.pack('=i', 0), NLMSG_DONE)
# 1: a 4.15 kernel: 192-byte tcp_info, cong cubic
m1 = msg(diag(22, 40000, 1001, 0x100000001) + attr(INFO, tcpi(192)) + attr(CONG, b'cubic\0'))
# 2: a future kernel: 300-byte tcp_info, an attribute type we do not know, legacy type
m2 = msg(diag(22, 40001, 1002, 2) + attr(INFO, tcpi(300)) + attr(60, b'new!') + attr(SHUTDOWN, b'\x03'),
         TCPDIAG_GETSOCK)
# 3: a message type that is not an answer to us
m3 = msg(b'\0' * 8, 99)
# 4: an attribute longer than the message
bad = bytearray(msg(diag(22, 40003, 1004, 4) + attr(SKMEM, bytes(36))))
struct.pack_into('=H', bad, 16 + 72, 200)
open(os.path.join(d, 'a-synthetic.nlraw'), 'wb').write(m1 + m2 + m3 + bytes(bad) + done)
# 5: a file cut in the middle of a message: the whole messages before it still count
m5 = msg(diag(22, 40005, 1005, 5))
open(os.path.join(d, 'b-cut.nlraw'), 'wb').write(m5 + m1[:50])
# 6: a length near 4 GiB (libmnl's int compare would accept it and never advance)
huge = bytearray(msg(diag(22, 40006, 1006, 6)))
struct.pack_into('=I', huge, 0, 0xfffffffc)
open(os.path.join(d, 'c-huge.nlraw'), 'wb').write(m5.replace(struct.pack('>H', 40005), struct.pack('>H', 40007)) + bytes(huge))
