#!/usr/bin/python3
"""check_xtcp2_json.py - protoJson as xtcp2 consumers read it.

--v1 and --full are descriptor sets (protoc --descriptor_set_out) of xtcp2's v1 schema
(v1proto.py, from the TSV: no extension field) and of xtcpd's .proto; each is loaded
into its own pool, so both live in one process. --pbl is the protobufList output of the
same records: the independent reader every JSON row must equal. Checked:
  --envelope  protoJson's default: json_format.Parse with the v1 schema and without
              ignore_unknown_fields; the rows equal protobufList's (extensions dropped);
              every line byte for byte the canonical compact proto3 JSON of what it
              parsed to (MessageToDict, dumped with "," ":" and raw UTF-8: Go protojson's
              layout, see the plugin's README)
  --jsonl     layout = jsonl: the same, one record per line (xtcp2's jsonl)
  --numbers   enums = number: the same with integers for enums, and at least one enum
  --ext       extensions = true: refused by the v1 parser naming an extension key; the
              full schema parses it and its rows equal protobufList's, extensions included
Ends with "N passed, N failed"."""
import argparse
import json
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

ap = argparse.ArgumentParser()
for a in ("v1", "full", "pbl", "envelope", "jsonl", "numbers", "ext"):
    ap.add_argument("--" + a, required=True)
args = ap.parse_args()
EXT_KEYS = ("inetDiagMark", "dumpInterrupted", "tcpInfoLength", "socketClosed")
counts = [0, 0]


def check(what, ok, detail=""):
    counts[not ok] += 1
    if not ok:
        print("FAIL: %s%s" % (what, ": " + detail if detail else ""))


def load(path):
    fds = descriptor_pb2.FileDescriptorSet.FromString(open(path, "rb").read())
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    out = []
    for name in ("Envelope", "XtcpFlatRecord"):
        d = pool.FindMessageTypeByName("xtcp_flat_record.v1." + name)
        if hasattr(message_factory, "GetMessageClass"):
            out.append(message_factory.GetMessageClass(d))
        else:
            out.append(message_factory.MessageFactory(pool).GetPrototype(d))
    return out


V1E, V1R = load(args.v1)
FE, FR = load(args.full)


def pbl_rows(path, env_cls, drop_unknown):
    data, i, rows = open(path, "rb").read(), 0, []
    while i < len(data):
        n = shift = 0
        while True:
            b = data[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        env = env_cls.FromString(data[i:i + n])
        i += n
        if drop_unknown:
            env.DiscardUnknownFields()
        rows.extend(env.row)
    return rows


def lines(path):
    text = open(path, encoding="utf-8").read()
    check(path + ": ends with a newline", text.endswith("\n"))
    return text[:-1].split("\n") if text else []


def canon(msg, ints=False):
    return json.dumps(json_format.MessageToDict(msg, use_integers_for_enums=ints),
                      separators=(",", ":"), ensure_ascii=False)


def same_rows(what, got, want):
    key = lambda r: r.SerializeToString(deterministic=True)  # noqa: E731
    check(what + ": %d rows equal protobufList's %d" % (len(got), len(want)),
          sorted(map(key, got)) == sorted(map(key, want)))


def strict(line, cls, what):
    try:
        return json_format.Parse(line, cls())
    except json_format.ParseError as e:
        check(what + ": json_format.Parse (v1, strict)", False, str(e)[:300])
        return None


def byte_exact(what, ls, msgs, ints=False):
    bad = [(ln, canon(m, ints)) for ln, m in zip(ls, msgs) if ln != canon(m, ints)]
    check(what + ": byte for byte canonical", not bad,
          "\n  got  %s\n  want %s" % (bad[0][0][:400], bad[0][1][:400]) if bad else "")


base = pbl_rows(args.pbl, V1E, True)
check("protobufList: rows decoded", len(base) > 0)

for what, path, ints in (("protoJson", args.envelope, False),
                         ("protoJson enums=number", args.numbers, True)):
    ls = lines(path)
    envs = [strict(ln, V1E, what) for ln in ls]
    if None in envs:
        continue
    check(what + ": not empty", len(ls) > 0)
    byte_exact(what, ls, envs, ints)
    same_rows(what, [r for e in envs for r in e.row], base)
    enums = [r.get("congestionAlgorithmEnum") for ln in ls for r in json.loads(ln)["row"]]
    enums = [e for e in enums if e is not None]
    # By name, but a value the enum does not know as its number (Go protojson does too).
    check(what + ": enums written (%d)" % len(enums), len(enums) > 0 and all(
        isinstance(e, int) if ints else
        e.startswith("CONGESTION_ALGORITHM_") if isinstance(e, str) else e > 7 for e in enums))
    check(what + ": no extension key", not any(k in ln for ln in ls for k in EXT_KEYS))

ls = lines(args.jsonl)
recs = [strict(ln, V1R, "jsonl") for ln in ls]
if None not in recs:
    check("jsonl: one object per line", all(ln.startswith("{") and ln.endswith("}") for ln in ls))
    byte_exact("jsonl", ls, recs)
    same_rows("jsonl", recs, base)

# A line whose rows all have zero extensions (a batch of TIME-WAIT sockets: no tcp_info)
# carries no extension key and is v1; every other line must be refused, naming one.
ls = lines(args.ext)
with_ext = [ln for ln in ls if any('"%s":' % k in ln for k in EXT_KEYS)]
refused = 0
for ln in with_ext:
    try:
        json_format.Parse(ln, V1E())
    except json_format.ParseError as e:
        refused += any('"%s"' % k in str(e) for k in EXT_KEYS)
check("extensions=true: %d of %d lines with extension keys, each refused by the v1 parser "
      "naming one" % (len(with_ext), len(ls)), len(with_ext) > 0 and refused == len(with_ext))
envs = [strict(ln, FE, "extensions=true (xtcpd's .proto)") for ln in ls]
if None not in envs:
    byte_exact("extensions=true", ls, envs)
    same_rows("extensions=true", [r for e in envs for r in e.row], pbl_rows(args.pbl, FE, False))
print("%d passed, %d failed" % tuple(counts))
sys.exit(1 if counts[1] else 0)
