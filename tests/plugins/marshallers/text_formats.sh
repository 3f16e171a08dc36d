#!/bin/sh
# tests/plugins/marshallers/text_formats.sh — csv, tsv and protoText checked by independent code:
# Python's csv module and a re-implementation of Go's encoding/csv (check_text.py)
# against the oracle, and a protoc round trip for protoText: protoc --encode of the text
# gives protobufList's bytes, and protoc --decode of those gives the text back, byte
# for byte. Both on the mtool test set and on the tricky set (quotes, escapes, odd
# addresses and timestamps).
set -eu
PY=/usr/bin/python3
skip() { echo "SKIP: $*"; [ "${CI:-}" = true ] && exit 1; exit 77; }
command -v protoc >/dev/null || skip "protoc missing (protobuf-compiler)"
$PY -c 'import google.protobuf' 2>/dev/null || skip "python3-protobuf missing"
MTOOL="$XTCPD_BUILDDIR/tests/plugins/marshallers/mtool"
PROTO_DIR="$XTCPD_SRCDIR/proto"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
TCOLS=hostname,netns,label,inetDiagMsgFamily,inetDiagMsgSocketSource,inetDiagMsgSocketDestination,inetDiagMsgState,tcpInfoState,timestampNs,congestionAlgorithmEnum,congestionAlgorithmString

protoc --proto_path="$PROTO_DIR" --python_out="$T" "$PROTO_DIR/xtcp_flat_record.proto"
"$MTOOL" expect > "$T/expect.json"
"$MTOOL" tricky-inputs > "$T/tricky.json"
"$MTOOL" encode csv "$T/all.csv"
"$MTOOL" encode tsv "$T/all.tsv"
"$MTOOL" encode csv "$T/pick.csv" \
	"columns=inetDiagMark, hostname,tcpInfoRtt,hostname ,dumpInterrupted,tcpInfoLength,inetDiagMsgSocketDestination,timestampNs"
"$MTOOL" encode tsv "$T/nohdr.tsv" header=false
"$MTOOL" tricky csv "$T/tricky.csv" columns=$TCOLS
"$MTOOL" tricky tsv "$T/tricky.tsv" columns=$TCOLS
for set in encode:all tricky:tricky; do
	cmd=${set%%:*} name=${set#*:}
	"$MTOOL" $cmd protoText "$T/$name.txt"
	"$MTOOL" $cmd protobufList "$T/$name.pbl"
	# protobufList without its varint length prefix: the bare Envelope
	$PY -c '
import sys
d = open(sys.argv[1], "rb").read()
i = 0
while d[i] & 0x80: i += 1
open(sys.argv[2], "wb").write(d[i + 1:])' "$T/$name.pbl" "$T/$name.env"
	protoc --proto_path="$PROTO_DIR" --encode=xtcp_flat_record.v1.Envelope \
		"$PROTO_DIR/xtcp_flat_record.proto" < "$T/$name.txt" > "$T/$name.enc"
	cmp "$T/$name.enc" "$T/$name.env" || { echo "FAIL: protoc --encode of $name.txt is not protobufList's Envelope"; exit 1; }
	protoc --proto_path="$PROTO_DIR" --decode=xtcp_flat_record.v1.Envelope \
		"$PROTO_DIR/xtcp_flat_record.proto" < "$T/$name.enc" > "$T/$name.dec"
	cmp "$T/$name.dec" "$T/$name.txt" || { echo "FAIL: protoc --decode does not print $name.txt back"; diff "$T/$name.dec" "$T/$name.txt" | head; exit 1; }
	echo "ok: $name.txt: protoc round trip, $(grep -c '^row {' "$T/$name.txt") rows, $(wc -c < "$T/$name.env") bytes"
done
$PY "$XTCPD_SRCDIR/tests/plugins/marshallers/check_text.py" --pb2dir "$T" --expect "$T/expect.json" \
	--tricky-inputs "$T/tricky.json" --dir "$T"
