#!/bin/sh
# mkcapture.sh BUILDDIR [OUT] — regenerate the marshaller bench's fixed replay,
# tests/plugins/marshallers/replay.nlraw (a maintainer tool: root, not run by make check).
#
# How the committed fixture was made (xtcpd 0.1.0, kernel 6.18, 2026-11-26 17:25 UTC):
#   sudo sh tests/plugins/marshallers/mkcapture.sh build
# 1. A network namespace xt-mkcap-<pid> is created with only `lo` up.
# 2. tests/plugins/marshallers/mksockets.py builds a deterministic socket mix in it on loopback:
#    24 listeners (IPv4, IPv6-only, dual stack), 240 connections after exchanges of
#    0..256 KiB (cubic and bbr, some with TOS/TCLASS or SO_MARK, some with unread
#    bytes, some half closed) and 80 TIME-WAIT sockets: ~600 sockets.
# 3. The daemon runs once inside that namespace (core.netns = host: it sees only the
#    test namespace) with `[source netlink] deserializers = all` and `--capture DIR`;
#    the capture is DIR/netlink-<nsinode>-<cycle>.nlraw: the raw sock_diag datagrams
#    of one dump, back to back, exactly as the kernel sent them.
# 4. That one file is copied to OUT; the namespace, the sockets and the temp folder are
#    removed on exit.
# The capture holds only what the kernel sends: the bench (bench_replay.c) fills the
# metadata the core adds to every record (hostname, netns, label, ...) itself.
set -u
B=${1:?usage: mkcapture.sh BUILDDIR [OUT]}
B=$(cd "$B" && pwd) || exit 1
S=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${2:-$S/tests/plugins/marshallers/replay.nlraw}
[ "$(id -u)" = 0 ] || { echo "mkcapture.sh: needs root (network namespaces)" >&2; exit 1; }
NS=xt-mkcap-$$
T=$(mktemp -d /tmp/xtcpd-mkcap.XXXXXX)
PYPID=
cleanup() {
	[ -n "$PYPID" ] && kill "$PYPID" 2>/dev/null && wait "$PYPID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up || exit 1
ip netns exec "$NS" /usr/bin/python3 "$S/tests/plugins/marshallers/mksockets.py" 7000 "$T/ready" &
PYPID=$!
i=0
while [ ! -e "$T/ready" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -e "$T/ready" ] || { echo "mkcapture.sh: sockets not ready" >&2; exit 1; }

mkdir "$T/cap" "$T/conf.d"
cat > "$T/xtcpd.conf" <<EOC
[core]
netns = host
prom_listen =
plugin_dir = $B/.libs
[source netlink]
deserializers = all
[marshaller protobufList]
[sink file out]
marshaller = protobufList
path = $T/out.bin
EOC
ip netns exec "$NS" "$B/xtcpd" -c "$T/xtcpd.conf" -C "$T/conf.d" --once --capture "$T/cap" ||
	{ echo "mkcapture.sh: xtcpd failed" >&2; exit 1; }
n=$(ls "$T/cap" | grep -c '\.nlraw$')
[ "$n" = 1 ] || { echo "mkcapture.sh: expected 1 capture file, got $n" >&2; exit 1; }
cp "$T/cap/"*.nlraw "$OUT" || exit 1
echo "$(ls "$T/cap") -> $OUT: $(wc -c < "$OUT") bytes," \
	"$(ip netns exec "$NS" ss -taH state all | wc -l) sockets (ss)"
