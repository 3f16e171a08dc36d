#!/usr/bin/python3
"""Check the marshallers' output of the mtool test set with independent decoders.

Every input must decode to exactly the oracle rows (mtool expect, keyed by field
number): protobufList parsed by Python protobuf, the same bytes decoded by protoc
(C++) as text, protoJson (with and without emit_defaults) parsed by
google.protobuf.json_format, and the human json parsed by Python's json module, its
keys and render modes from the golden json_fields.tsv (written from the schema, not the
code's table). Ends with "N passed, N failed" (one check per decoder and json row).
"""
import argparse
import base64
import ipaddress
import json
import sys

ap = argparse.ArgumentParser()
for a in ("pb2dir", "expect", "pbl", "text", "pj", "pjd", "json", "golden"):
    ap.add_argument("--" + a, required=True)
args = ap.parse_args()
sys.path.insert(0, args.pb2dir)
import xtcp_flat_record_pb2 as pb  # noqa: E402
from google.protobuf import json_format, text_format  # noqa: E402
from google.protobuf.descriptor import FieldDescriptor as FD  # noqa: E402

expect = json.load(open(args.expect))
fails = 0
checks = [0, 0]  # passed, failed


def fail(msg):
    global fails
    fails += 1
    print("FAIL:", msg)


def check(ok_before):
    """One check done: passed when no failure was added since ok_before."""
    checks[fails != ok_before] += 1


def default_of(f):
    if f.type == FD.TYPE_STRING:
        return ""
    if f.type == FD.TYPE_BYTES:
        return b""
    if f.type == FD.TYPE_BOOL:
        return False
    return 0


def check_env(env, what):
    if len(env.row) != len(expect):
        fail("%s: %d rows, want %d" % (what, len(env.row), len(expect)))
        return
    for i, (row, exp) in enumerate(zip(env.row, expect)):
        seen = set()
        for f in row.DESCRIPTOR.fields:
            want = exp.get(str(f.number))
            seen.add(str(f.number))
            if want is None:
                want = default_of(f)
            elif f.type == FD.TYPE_BYTES:
                want = base64.b64decode(want)
            got = getattr(row, f.name)
            if got != want:
                fail("%s row %d field %d %s: %r != %r" % (what, i, f.number, f.name, got, want))
        for k in exp:
            if k not in seen:
                fail("%s: field %s expected but not in the schema" % (what, k))


def read_pbl(path):
    data = open(path, "rb").read()
    n, shift, i = 0, 0, 0
    while True:
        b = data[i]
        n |= (b & 0x7F) << shift
        shift += 7
        i += 1
        if not b & 0x80:
            break
    if n != len(data) - i:
        fail("protobufList prefix %d != %d bytes" % (n, len(data) - i))
    return pb.Envelope.FromString(data[i:])


envs = {}
envs["protobufList/python"] = read_pbl(args.pbl)
envs["protobufList/protoc"] = text_format.Parse(open(args.text).read(), pb.Envelope())
for name, path in (("protoJson", args.pj), ("protoJson/emit_defaults", args.pjd)):
    lines = open(path).read().split("\n")
    if len(lines) != 2 or lines[1] != "":
        fail("%s: want exactly one line" % name)
    envs[name] = json_format.Parse(lines[0], pb.Envelope())
for what, env in envs.items():
    f0 = fails
    check_env(env, what)
    if env != envs["protobufList/python"]:
        fail("%s differs from the protobufList decode" % what)
    check(f0)
# emit_defaults writes every field of every row.
d = json.loads(open(args.pjd).read())
f0 = fails
for row in d["row"]:
    if len(row) != len(pb.XtcpFlatRecord.DESCRIPTOR.fields):
        fail("emit_defaults row has %d keys" % len(row))
check(f0)

# ---- the human json ------------------------------------------------------------------
STATES = ["UNKNOWN", "ESTABLISHED", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
          "TIME-WAIT", "UNCONNECTED", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING"]
TIMERS = ["off", "on", "keepalive", "timewait", "persist"]
CASTATES = ["open", "disorder", "cwr", "recovery", "loss"]
CONGS = ["UNSPECIFIED", "CUBIC", "DCTCP", "VEGAS", "PRAGUE", "BBR1", "BBR2", "BBR3"]
keys = {}
for line in open(args.golden):
    if line.startswith("#"):
        continue
    num, k, mode = line.split()
    keys[k] = (num, mode)
lines = open(args.json).read().split("\n")
f0 = fails
if lines[-1] != "" or len(lines) - 1 != len(expect):
    fail("json: want %d lines" % len(expect))
check(f0)
for i, (line, exp) in enumerate(zip(lines, expect)):
    f0 = fails
    obj = json.loads(line)
    fam = exp.get("1001", 0)
    want = {}
    for k, (num, mode) in keys.items():
        if num not in exp:
            continue
        v = exp[num]
        if mode == "FAMILY":
            v = {2: "AF_INET", 10: "AF_INET6"}.get(v, "unknown")
        elif mode == "STATE":
            v = STATES[v]
        elif mode == "TIMER":
            v = TIMERS[v]
        elif mode == "CASTATE":
            v = CASTATES[v]
        elif mode == "CONG":
            v = CONGS[v]
        elif mode == "ADDR":
            b = base64.b64decode(v)
            v = str(ipaddress.IPv4Address(b[:4]) if fam == 2 else ipaddress.IPv6Address(b))
        want[k] = v
    # Header fields are always present, zero or not (the FEW rows).
    for k, (num, mode) in keys.items():
        if k not in want and 1001 <= int(num) <= 1017 and mode == "N":
            want[k] = 0
        if k not in want and mode == "TIMER":
            want[k] = "off"
        if k not in want and num in ("1", "31", "32", "60", "61", "62"):
            want[k] = 0
    if obj != want:
        for k in sorted(set(obj) | set(want)):
            if obj.get(k) != want.get(k):
                fail("json row %d key %s: %r != %r" % (i, k, obj.get(k), want.get(k)))
    if list(obj) != [k for k in keys if k in obj]:
        fail("json row %d: keys not in schema order" % i)
    check(f0)

print("%d rows through %d decoders and the json marshaller" % (len(expect), len(envs)))
print("%d passed, %d failed" % tuple(checks))
sys.exit(1 if fails else 0)
