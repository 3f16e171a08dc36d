#!/usr/bin/python3
"""Check the csv, tsv and protoText marshallers with independent code.

csv/tsv: Python's csv module parses the files; every cell must equal the oracle value
(mtool expect, by field number) rendered the way xtcp2 humanizes it, written here from
xtcp2's rules (column names from the protobuf descriptor's JSON names, addresses with
ipaddress, states from a table, RFC 3339 nanoseconds with datetime). The raw bytes
must also equal what Go's encoding/csv writes (its quoting rule, re-implemented below).
protoText: parsed by Python's text_format, it must equal the protobufList Envelope.
"""
import argparse
import base64
import csv
import datetime
import io
import ipaddress
import json
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--pb2dir", required=True)
ap.add_argument("--expect", required=True)
ap.add_argument("--tricky-inputs", required=True)
ap.add_argument("--dir", required=True, help="folder with the mtool outputs")
args = ap.parse_args()
sys.path.insert(0, args.pb2dir)
import xtcp_flat_record_pb2 as pb  # noqa: E402
from google.protobuf import text_format  # noqa: E402
from google.protobuf.descriptor import FieldDescriptor as FD  # noqa: E402

fails = 0


def fail(msg):
    global fails
    fails += 1
    print("FAIL:", msg)


FIELDS = {f.json_name: f for f in pb.XtcpFlatRecord.DESCRIPTOR.fields}
V1 = [f.json_name for f in pb.XtcpFlatRecord.DESCRIPTOR.fields if f.number < 5000]
STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
          6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
          11: "CLOSING", 12: "NEW_SYN_RECV"}
CONG = pb.XtcpFlatRecord.CongestionAlgorithm


def state(n):
    return STATES.get(n, str(n))


def cong(n):
    if n == 0:
        return ""
    try:
        return CONG.Name(n)[len("CONGESTION_ALGORITHM_"):]
    except ValueError:
        return str(n)


def ip(family, b):
    if family == 2:
        return str(ipaddress.IPv4Address(b[:4]))
    a = ipaddress.IPv6Address(b)
    if a.ipv4_mapped is not None:      # Go's net.IP prints these as IPv4
        return str(a.ipv4_mapped)
    return str(a)


def rfc3339nano(ns):
    if ns <= 0:
        return ""
    sec, frac = divmod(ns, 10**9)
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=sec)
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        s += ("." + "%09d" % frac).rstrip("0")
    return s + "Z"


def clean(b, limit=1024):
    """What every marshaller writes for a string: cut to `limit` bytes on a character
    start, then each byte that is not part of valid UTF-8 replaced by '?'."""
    if len(b) > limit:
        n = limit
        while n > 0 and (b[n] & 0xC0) == 0x80:
            n -= 1
        b = b[:n]
    out, i = [], 0
    while i < len(b):
        c = b[i]
        k = 1 if c < 0x80 else 2 if 0xC2 <= c <= 0xDF else 3 if 0xE0 <= c <= 0xEF \
            else 4 if 0xF0 <= c <= 0xF4 else 0
        try:
            out.append(b[i:i + k].decode("utf-8") if k else None)
        except UnicodeDecodeError:
            out.append(None)
        if out[-1] is None:
            out[-1] = "?"
            k = 1
        i += k
    return "".join(out)


def go_csv_line(cells, delim):
    """Go's encoding/csv Writer.Write with UseCRLF = false."""
    out = []
    for c in cells:
        quote = c != "" and (c == "\\." or any(ch in c for ch in (delim, '"', "\r", "\n"))
                             or c[0].isspace() and c[0] not in "\x1c\x1d\x1e\x1f")
        out.append('"' + c.replace('"', '""') + '"' if quote else c)
    return delim.join(out) + "\n"


def human(name, row):
    """Oracle row (field number -> value) rendered as xtcp2 renders column `name`."""
    f = FIELDS[name]
    v = row.get(str(f.number))
    if f.number in (1007, 1008):
        return ip(row.get("1001", 0), base64.b64decode(v) if v else bytes(16))
    if f.number in (1002, 1201):
        return state(v or 0)
    if f.number == 1301:
        return cong(v or 0)
    if f.number == 10:
        return rfc3339nano(v or 0)
    if f.type == FD.TYPE_BOOL:
        return "true" if v else "false"
    if f.type == FD.TYPE_STRING:
        return v or ""
    return str(v or 0)


def read(name):
    with open("%s/%s" % (args.dir, name), "rb") as fh:
        return fh.read()


def check_table(fname, delim, cols, header, rows):
    before = fails
    raw = read(fname).decode("utf-8")
    got = list(csv.reader(io.StringIO(raw, newline=""), delimiter=delim))
    want = ([cols] if header else []) + rows
    if got != want:
        fail("%s: parsed cells differ" % fname)
        for i, (g, w) in enumerate(zip(got, want)):
            for j, (a, b) in enumerate(zip(g, w)):
                if a != b:
                    print("  line %d column %s: %r != %r" % (i, cols[j], a, b))
        if len(got) != len(want):
            print("  %d lines, want %d" % (len(got), len(want)))
    wraw = "".join(go_csv_line(r, delim) for r in want)
    if raw != wraw:
        fail("%s: bytes differ from Go's encoding/csv" % fname)
    if fails == before:
        print("ok: %s: %d rows x %d columns" % (fname, len(rows), len(cols)))


expect = json.load(open(args.expect))
for fname, delim in (("all.csv", ","), ("all.tsv", "\t")):
    check_table(fname, delim, V1, True, [[human(c, r) for c in V1] for r in expect])
pick = ["inetDiagMark", "hostname", "tcpInfoRtt", "hostname", "dumpInterrupted",
        "tcpInfoLength", "inetDiagMsgSocketDestination", "timestampNs"]
check_table("pick.csv", ",", pick, True, [[human(c, r) for c in pick] for r in expect])
check_table("nohdr.tsv", "\t", V1, False, [[human(c, r) for c in V1] for r in expect])

TCOLS = ["hostname", "netns", "label", "inetDiagMsgFamily", "inetDiagMsgSocketSource",
         "inetDiagMsgSocketDestination", "inetDiagMsgState", "tcpInfoState", "timestampNs",
         "congestionAlgorithmEnum", "congestionAlgorithmString"]


def tricky_row(t):
    def s(k):
        return clean(bytes.fromhex(t[k])) if t[k] is not None else ""
    return [s("hostname"), s("netns"), s("label"), str(t["family"]),
            ip(t["family"], bytes.fromhex(t["src"])), ip(t["family"], bytes.fromhex(t["dst"])),
            state(t["state"]), state(t["tcpi_state"] if t["info"] else 0),
            rfc3339nano(t["timestamp_ns"]), cong(t["cong_enum"] if t["info"] else 0),
            t["cong_name"]]


tricky = json.load(open(args.tricky_inputs))
for fname, delim in (("tricky.csv", ","), ("tricky.tsv", "\t")):
    check_table(fname, delim, TCOLS, True, [tricky_row(t) for t in tricky])

# protoText: the same Envelope as protobufList (both test sets).
for text, binary in (("all.txt", "all.pbl"), ("tricky.txt", "tricky.pbl")):
    d = read(binary)
    i = 0
    while d[i] & 0x80:
        i += 1
    want = pb.Envelope.FromString(d[i + 1:])
    got = text_format.Parse(read(text).decode("utf-8"), pb.Envelope())
    if got != want:
        fail("%s: not the Envelope of %s" % (text, binary))
    else:
        print("ok: %s: %d rows, equal to %s" % (text, len(got.row), binary))

sys.exit(1 if fails else 0)
