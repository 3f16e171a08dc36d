#!/usr/bin/python3
"""Check what the tcp, unix, unixgram and stderr sinks delivered in the e2e tests: the
csv header exactly where it belongs (first line of each connection, first frame of each
unix connection, every datagram, once on stderr), every row complete, every record
once. Prints "conns N rows R unique U"; exits 1 with the reason on a structural error.
With --upto N only rows whose recordCounter (the first column) is at most N count: the
records produced before a metrics snapshot.

  check_net.py [--upto N] stream|framed|dgram|stderr COLUMNS FILE...
"""
import csv
import io
import sys

args = sys.argv[1:]
upto = None
if args[0] == "--upto":
    upto, args = int(args[1]), args[2:]
mode, cols, files = args[0], args[1].split(","), args[2:]
header = ",".join(cols) + "\n"
rows = []


def die(msg):
    print("FAIL:", msg)
    sys.exit(1)


def take(text, where):
    for r in csv.reader(io.StringIO(text, newline="")):
        if r == cols:
            die("%s: a header line among the rows" % where)
        if len(r) != len(cols):
            die("%s: a row of %d fields: %r" % (where, len(r), r))
        if upto is None or int(r[0]) <= upto:
            rows.append(int(r[0]))


def frames(data, where):
    i = 0
    while i < len(data):
        n = shift = 0
        while True:
            if i >= len(data):
                die("%s: cut in a length prefix" % where)
            b = data[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if i + n > len(data):
            die("%s: a frame of %d bytes is cut at %d" % (where, n, len(data) - i))
        yield data[i:i + n].decode()
        i += n


for f in files:
    data = open(f, "rb").read()
    if mode == "stderr":
        lines = [x for x in data.decode().splitlines(True) if not x.startswith("xtcpd: ")]
        text = "".join(lines)
        if not text.startswith(header):
            die("%s: does not start with the header" % f)
        take(text[len(header):], f)
        continue
    chunks = list(frames(data, f)) if mode == "framed" else [data.decode()]
    for k, text in enumerate(chunks):
        first = k == 0 or mode == "dgram"
        if first and not text.startswith(header):
            die("%s (part %d): no header at its start" % (f, k))
        take(text[len(header):] if first else text, "%s (part %d)" % (f, k))
print("conns %d rows %d unique %d" % (len(files), len(rows), len(set(rows))))
