#!/usr/bin/python3
"""decode_pbl.py — decode protobufList messages (varint length + Envelope) with Python's
protobuf, independently of xtcpd, and summarise them for the sink end-to-end tests.

  decode_pbl.py PB2DIR (--dir DIR | --stream FILE | --datagrams FILE) [--hashes OUT]
                [--netns NAME] [--max BYTES] [--upto N]

--dir: every *.bin file is one message (a Kafka payload); --stream: one file of
concatenated messages (the file sink); --datagrams: "<len>\\n<bytes>" records written by
udp_receiver.py. Each message must be exactly one complete delimited Envelope.
Prints "messages M rows R dups D cycles C" (dups: rows seen twice, same timestamp +
namespace inode + socket cookie + family/ports), then with --netns the rows of that
namespace per cycle; --hashes writes the sorted sha256 of every message; --max fails
when a message is longer than BYTES. --upto N: the summary covers only the records
numbered (record_counter) up to N — those a metrics snapshot with N records emitted
covers — and a second line "later messages M rows R cycles C" the others; a message
with records on both sides fails (a batch never spans cycles)."""
import argparse, glob, hashlib, os, sys

ap = argparse.ArgumentParser()
ap.add_argument("pb2dir")
ap.add_argument("--dir")
ap.add_argument("--stream")
ap.add_argument("--datagrams")
ap.add_argument("--hashes")
ap.add_argument("--netns")
ap.add_argument("--max", type=int)
ap.add_argument("--upto", type=int)
a = ap.parse_args()
sys.path.insert(0, a.pb2dir)
import xtcp_flat_record_pb2 as pb  # noqa: E402


def varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if not c & 0x80:
            return v, i


def split_stream(b):
    out, i = [], 0
    while i < len(b):
        n, j = varint(b, i)
        if j + n > len(b):
            sys.exit("truncated message at offset %d" % i)
        out.append(b[i:j + n])
        i = j + n
    return out


msgs = []
if a.dir:
    for f in sorted(glob.glob(os.path.join(a.dir, "*.bin"))):
        msgs.append(open(f, "rb").read())
elif a.stream:
    msgs = split_stream(open(a.stream, "rb").read())
elif a.datagrams:
    b = open(a.datagrams, "rb").read()
    i = 0
    while i < len(b):
        nl = b.index(b"\n", i)
        n = int(b[i:nl])
        msgs.append(b[nl + 1:nl + 1 + n])
        i = nl + 1 + n

rows = dups = 0
seen = set()
cycles = {}
later = {"messages": 0, "rows": 0, "cycles": set()}
for m in msgs:
    if a.max and len(m) > a.max:
        sys.exit("message of %d bytes > %d" % (len(m), a.max))
    n, j = varint(m, 0)
    if j + n != len(m):
        sys.exit("message is not exactly one delimited Envelope (%d + %d != %d)" % (j, n, len(m)))
    env = pb.Envelope()
    env.ParseFromString(m[j:])
    side = {a.upto is None or r.record_counter <= a.upto for r in env.row}
    if len(side) > 1:
        sys.exit("a message holds records on both sides of record %d" % a.upto)
    is_later = side == {False}
    later["messages"] += is_later
    for r in env.row:
        k = (r.timestamp_ns, r.netns_inode, r.inet_diag_msg_socket_cookie,
             r.inet_diag_msg_family, r.inet_diag_msg_socket_source_port,
             r.inet_diag_msg_socket_destination_port, r.record_counter)
        if k in seen:
            dups += 1
        seen.add(k)
        c = cycles.setdefault(r.timestamp_ns, {})
        c[r.netns] = c.get(r.netns, 0) + 1
        if is_later:
            later["rows"] += 1
            later["cycles"].add(r.timestamp_ns)
        else:
            rows += 1
covered = len(msgs) - later["messages"]
print("messages %d rows %d dups %d cycles %d" % (covered, rows, dups, len(cycles) - len(later["cycles"])))
if a.upto is not None:
    print("later messages %d rows %d cycles %d" % (later["messages"], later["rows"], len(later["cycles"])))
if a.netns:
    print(" ".join(str(cycles[t].get(a.netns, 0)) for t in sorted(cycles)))
if a.hashes:
    with open(a.hashes, "w") as f:
        for h in sorted(hashlib.sha256(m).hexdigest() for m in msgs):
            f.write(h + "\n")
