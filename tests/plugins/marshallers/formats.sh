#!/bin/sh
# tests/plugins/marshallers/formats.sh — the marshallers' output decoded by independent
# implementations: protoc --decode (C++), Python protobuf / json_format, python3 -m
# json.tool; every field checked against the oracle by check_formats.py, the json keys
# and render modes against the golden json_fields.tsv (written by hand from the schema).
# protoJson here with extensions = true (xtcpd's .proto); its default, xtcp2's v1 keys only,
# is xtcp2_json.sh's.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
PY=/usr/bin/python3
need_cmd protoc:protobuf-compiler
need_python google.protobuf:python3-protobuf
need_plugin marshaller_json marshaller_protobufList marshaller_protoJson
MTOOL="$XTCPD_BUILDDIR/tests/plugins/marshallers/mtool"
PROTO_DIR="$XTCPD_SRCDIR/proto"
GOLDEN="$XTCPD_SRCDIR/tests/plugins/marshallers/json_fields.tsv"
T=$TMP

expect_ok "protoc --python_out" protoc --proto_path="$PROTO_DIR" --python_out="$T" "$PROTO_DIR/xtcp_flat_record.proto"
for cmd in "expect:expect.json" "keys:keys.txt" "encode protobufList $T/list.bin:" \
	"encode protoJson $T/pj.json extensions=true:" \
	"encode protoJson $T/pjd.json emit_defaults=true extensions=true:" "encode json $T/human.json:"; do
	out=${cmd#*:}
	"$MTOOL" ${cmd%%:*} > "$T/${out:-stdout}"
	expect_eq "mtool ${cmd%%:*}: exit status" 0 $?
done

# The golden file covers the schema: every field of the TSV, then the extensions of the
# .proto, in number order, each once.
expect_eq "golden: the schema's field numbers" \
	"$( (tail -n +2 "$PROTO_DIR/xtcp_flat_record_v1.tsv" | cut -f1; sed -n 's/.* = \(50[0-9][0-9]\);.*/\1/p' "$PROTO_DIR/xtcp_flat_record.proto") | tr '\n' ' ')" \
	"$(grep -v '^#' "$GOLDEN" | cut -f1 | tr '\n' ' ')"
expect_eq "golden: keys are the schema names (+ a time unit)" "" \
	"$(grep -v '^#' "$GOLDEN" | cut -f1,2 | sed 's/_[mu]s$//' | sort >"$T/g"; tail -n +2 "$PROTO_DIR/xtcp_flat_record_v1.tsv" | cut -f1,2 | sort | comm -13 - "$T/g" | grep -v '^50')"
# The code's table (<xtcpd/record_fields.h>, via mtool keys) says what the golden file says.
expect_eq "record_fields.h json keys and modes = golden" "" \
	"$(awk '{ printf "%s\t%s\t%s\n", $2, $1, $3 }' "$T/keys.txt" | diff - "$(grep -v '^#' "$GOLDEN" > "$T/golden"; echo "$T/golden")")"

# Strip the varint length prefix for protoc (it decodes one bare message).
$PY -c '
import sys
d = open(sys.argv[1], "rb").read()
i = 0
while d[i] & 0x80: i += 1
open(sys.argv[2], "wb").write(d[i + 1:])' "$T/list.bin" "$T/env.bin"
protoc --proto_path="$PROTO_DIR" --decode=xtcp_flat_record.v1.Envelope \
	"$PROTO_DIR/xtcp_flat_record.proto" < "$T/env.bin" > "$T/decoded.txt"
expect_eq "protoc --decode: exit status" 0 $?
# protoc prints known fields only: an unknown number would show up as "NNNN: ..."
expect_eq "protoc: no unknown field" "" "$(grep -E '^ *[0-9]+:' "$T/decoded.txt")"
expect_ok "protoc: the congestion enum by name" grep -q '^  congestion_algorithm_enum: CONGESTION_ALGORITHM_' "$T/decoded.txt"

# Every line of both JSON outputs is valid JSON for python3 -m json.tool.
for f in pj pjd human; do
	n=0 bad=0
	while IFS= read -r line; do
		printf '%s\n' "$line" | $PY -m json.tool > /dev/null || bad=$((bad + 1))
		n=$((n + 1))
	done < "$T/$f.json"
	expect_eq "$f.json: $n lines, all valid for json.tool" "0" "$bad"
	expect_ok "$f.json: not empty" [ "$n" -gt 0 ]
done

$PY "$XTCPD_SRCDIR/tests/plugins/marshallers/check_formats.py" --pb2dir "$T" \
	--expect "$T/expect.json" --golden "$GOLDEN" --pbl "$T/list.bin" \
	--text "$T/decoded.txt" --pj "$T/pj.json" --pjd "$T/pjd.json" --json "$T/human.json"
expect_eq "check_formats.py" 0 $?

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
print("schema matches %d v1 fields" % len(want))
PYEOF
expect_eq "the .proto is the v1 schema plus 5000-5099" 0 $?
finish
