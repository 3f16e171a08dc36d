#!/bin/sh
# pgo-train — the training run of `make pgo` / --enable-pgo: the instrumented daemon runs
# the real data path (netlink source parsing the replay fixture, a captured sock_diag
# dump of 584 sockets with every attribute -> each shipped marshaller -> null sink) for
# a few cycles per marshaller, and leaves its profile in $XTCPD_BUILDDIR/pgo-data. No
# root needed: the source replays files instead of asking the kernel.
set -eu
B=${XTCPD_BUILDDIR:?}
S=${XTCPD_SRCDIR:?}
COPIES=${PGO_COPIES:-40}   # fixture copies per cycle: 23,360 records
CYCLES=${PGO_CYCLES:-20}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir "$T/replay" "$T/conf.d" "$T/netns"
for i in $(seq -w "$COPIES"); do
	cp "$S/tests/plugins/marshallers/replay.nlraw" "$T/replay/r$i.nlraw"
done
printf '[source netlink]\nreplay_dir = %s\n' "$T/replay" > "$T/xtcpd.conf"
for m in protobufList protoJson json csv tsv protoText; do
	XTCPD_PLUGIN_DIR="$B/.libs" "$B/xtcpd" -c "$T/xtcpd.conf" -C "$T/conf.d" --dest null \
		--marshal "$m" -o core.frequency=100ms -o core.max_loops="$CYCLES" \
		-o core.prom_listen= -o core.netns_dirs="$T/netns" -o core.netns_proc_scan=false \
		-o core.log_level=error
	echo "pgo-train: $m: $CYCLES cycles of $((COPIES * 584)) records"
done
