#!/bin/sh
# tests/plugins/marshallers/formats.sh — the marshallers' output decoded by independent
# implementations: protoc --decode (C++), Python protobuf / json_format, python3 -m
# json.tool; every field checked against the oracle by check_formats.py.
set -eu
PY=/usr/bin/python3
command -v protoc >/dev/null || { echo "protoc missing"; exit 77; }
$PY -c 'import google.protobuf' 2>/dev/null || { echo "python3-protobuf missing"; exit 77; }
MTOOL="$XTCPD_BUILDDIR/tests/plugins/marshallers/mtool"
PROTO_DIR="$XTCPD_SRCDIR/proto"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

protoc --proto_path="$PROTO_DIR" --python_out="$T" "$PROTO_DIR/xtcp_flat_record.proto"
"$MTOOL" expect > "$T/expect.json"
"$MTOOL" keys > "$T/keys.txt"
"$MTOOL" encode protobufList "$T/list.bin"
"$MTOOL" encode protoJson "$T/pj.json"
"$MTOOL" encode protoJson "$T/pjd.json" emit_defaults
"$MTOOL" encode json "$T/human.json"

# Strip the varint length prefix for protoc (it decodes one bare message).
$PY -c '
import sys
d = open(sys.argv[1], "rb").read()
i = 0
while d[i] & 0x80: i += 1
open(sys.argv[2], "wb").write(d[i + 1:])' "$T/list.bin" "$T/env.bin"
protoc --proto_path="$PROTO_DIR" --decode=xtcp_flat_record.v1.Envelope \
	"$PROTO_DIR/xtcp_flat_record.proto" < "$T/env.bin" > "$T/decoded.txt"
# protoc prints known fields only: an unknown number would show up as "NNNN: ..."
if grep -Eq '^ *[0-9]+:' "$T/decoded.txt"; then
	echo "protoc found unknown fields"; exit 1
fi
grep -q '^  congestion_algorithm_enum: CONGESTION_ALGORITHM_' "$T/decoded.txt"

# Every line of both JSON outputs is valid JSON for python3 -m json.tool.
for f in "$T/pj.json" "$T/pjd.json" "$T/human.json"; do
	while IFS= read -r line; do
		printf '%s\n' "$line" | $PY -m json.tool > /dev/null
	done < "$f"
done

$PY "$XTCPD_SRCDIR/tests/plugins/marshallers/check_formats.py" --pb2dir "$T" \
	--expect "$T/expect.json" --keys "$T/keys.txt" --pbl "$T/list.bin" \
	--text "$T/decoded.txt" --pj "$T/pj.json" --pjd "$T/pjd.json" --json "$T/human.json"

# The .proto carries exactly xtcp2's v1 schema (numbers, names, types) plus only the
# documented extension block 5000-5099.
$PY - "$T" "$PROTO_DIR/xtcp_flat_record_v1.tsv" <<'PYEOF'
import sys
sys.path.insert(0, sys.argv[1])
import xtcp_flat_record_pb2 as pb
from google.protobuf.descriptor import FieldDescriptor as FD
names = {FD.TYPE_UINT32: "uint32", FD.TYPE_UINT64: "uint64", FD.TYPE_INT64: "int64",
         FD.TYPE_STRING: "string", FD.TYPE_BYTES: "bytes", FD.TYPE_BOOL: "bool"}
want = {}
for line in open(sys.argv[2]).read().splitlines()[1:]:
    num, name, typ = line.split("\t")[:3]
    want[int(num)] = (name, typ)
got = {}
for f in pb.XtcpFlatRecord.DESCRIPTOR.fields:
    typ = f.enum_type.name if f.type == FD.TYPE_ENUM else names[f.type]
    got[f.number] = (f.name, typ)
bad = [n for n in want if got.get(n) != want[n]]
extra = [n for n in got if n not in want and not 5000 <= n < 5100]
assert not bad and not extra, (bad, extra)
e = pb.XtcpFlatRecord.CongestionAlgorithm
assert [(v.name, v.number) for v in e.DESCRIPTOR.values] == [
    ("CONGESTION_ALGORITHM_" + n, i) for i, n in enumerate(
        ["UNSPECIFIED", "CUBIC", "DCTCP", "VEGAS", "PRAGUE", "BBR1", "BBR2", "BBR3"])]
env = pb.Envelope.DESCRIPTOR.fields
assert [(f.name, f.number, f.label) for f in env] == [("row", 10, FD.LABEL_REPEATED)]
print("ok: schema matches %d v1 fields" % len(want))
PYEOF
