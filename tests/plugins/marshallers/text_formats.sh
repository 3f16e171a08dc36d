#!/bin/sh
# tests/plugins/marshallers/text_formats.sh — csv, tsv and protoText checked by independent code:
# Python's csv module and a re-implementation of Go's encoding/csv (check_text.py)
# against the oracle, and a protoc round trip for protoText: protoc --encode of the text
# gives protobufList's bytes, and protoc --decode of those gives the text back, byte
# for byte. Both on the mtool test set and on the tricky set (quotes, escapes, odd
# addresses and timestamps).
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_plugin marshaller_csv marshaller_tsv marshaller_protoText marshaller_protobufList
need_cmd protoc:protobuf-compiler
need_python google.protobuf:python3-protobuf
PY=/usr/bin/python3
MTOOL="$XTCPD_BUILDDIR/tests/plugins/marshallers/mtool"
PROTO_DIR="$XTCPD_SRCDIR/proto"
[ -x "$MTOOL" ] || cannot_run "no $MTOOL (make check builds it)"
TCOLS=hostname,netns,label,inetDiagMsgFamily,inetDiagMsgSocketSource,inetDiagMsgSocketDestination,inetDiagMsgState,tcpInfoState,timestampNs,congestionAlgorithmEnum,congestionAlgorithmString

expect_ok "python module of the schema" \
	protoc --proto_path="$PROTO_DIR" --python_out="$TMP" "$PROTO_DIR/xtcp_flat_record.proto"
# mtool RUN...: one encoding by mtool, which must succeed (its message shows otherwise)
mtool() { expect_ok "mtool $*" "$MTOOL" "$@"; }
"$MTOOL" expect > "$TMP/expect.json" || fail "mtool expect"
"$MTOOL" tricky-inputs > "$TMP/tricky.json" || fail "mtool tricky-inputs"
mtool encode csv "$TMP/all.csv"
mtool encode tsv "$TMP/all.tsv"
mtool encode csv "$TMP/pick.csv" \
	"columns=inetDiagMark, hostname,tcpInfoRtt,hostname ,dumpInterrupted,tcpInfoLength,inetDiagMsgSocketDestination,timestampNs"
mtool encode tsv "$TMP/nohdr.tsv" header=false
mtool tricky csv "$TMP/tricky.csv" columns=$TCOLS
mtool tricky tsv "$TMP/tricky.tsv" columns=$TCOLS
for set in encode:all tricky:tricky; do
	cmd=${set%%:*} name=${set#*:}
	mtool $cmd protoText "$TMP/$name.txt"
	mtool $cmd protobufList "$TMP/$name.pbl"
	# protobufList without its varint length prefix: the bare Envelope
	$PY -c '
import sys
d = open(sys.argv[1], "rb").read()
i = 0
while d[i] & 0x80: i += 1
open(sys.argv[2], "wb").write(d[i + 1:])' "$TMP/$name.pbl" "$TMP/$name.env"
	protoc --proto_path="$PROTO_DIR" --encode=xtcp_flat_record.v1.Envelope \
		"$PROTO_DIR/xtcp_flat_record.proto" < "$TMP/$name.txt" > "$TMP/$name.enc"
	expect_ok "$name.txt: protoc --encode gives protobufList's Envelope" \
		cmp "$TMP/$name.enc" "$TMP/$name.env"
	protoc --proto_path="$PROTO_DIR" --decode=xtcp_flat_record.v1.Envelope \
		"$PROTO_DIR/xtcp_flat_record.proto" < "$TMP/$name.enc" > "$TMP/$name.dec"
	expect_eq "$name.txt: protoc --decode prints it back, byte for byte" "" \
		"$(diff "$TMP/$name.dec" "$TMP/$name.txt" | head)"
	echo "$name.txt: protoc round trip, $(grep -c '^row {' "$TMP/$name.txt") rows, $(wc -c < "$TMP/$name.env") bytes"
done
expect_ok "csv, tsv and protoText against the oracle (check_text.py)" \
	$PY "$XTCPD_SRCDIR/tests/plugins/marshallers/check_text.py" --pb2dir "$TMP" \
	--expect "$TMP/expect.json" --tricky-inputs "$TMP/tricky.json" --dir "$TMP"
finish
