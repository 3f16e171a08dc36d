#!/bin/sh
# unit.sh — the shipped xtcpd.service passes systemd-analyze verify (with a stand-in
# executable at its ExecStart), runs as the user xtcpd and grants exactly the capabilities
# the daemon keeps (core/ops/caps.h's table) plus CAP_NET_BIND_SERVICE for a low
# prom_listen port, and xtcpd(8) names the same; prints systemd's exposure score.
set -eu
S=${XTCPD_SRCDIR:-.}
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/sbin" "$tmp/etc/xtcpd/conf.d"
printf '#!/bin/sh\nexit 0\n' > "$tmp/sbin/xtcpd"
chmod +x "$tmp/sbin/xtcpd"
sed -e "s|@sbindir@|$tmp/sbin|g" -e "s|@sysconfdir@|$tmp/etc|g" \
	"$S/dist/xtcpd.service.in" > "$tmp/xtcpd.service"
out=$(cd "$tmp" && systemd-analyze verify --man=no ./xtcpd.service 2>&1) || {
	echo "FAIL: systemd-analyze verify"; echo "$out"; exit 1; }
[ -z "$out" ] || { echo "FAIL: systemd-analyze verify says:"; echo "$out"; exit 1; }
echo "ok: systemd-analyze verify"
# the kept set, from the one table in caps.h
keep=$(sed -n 's/^[[:space:]]*X(\(CAP_[A-Z_]*\),.*/\1/p' "$S/core/ops/caps.h" | tr '\n' ' ')
[ "$keep" = "CAP_SYS_ADMIN CAP_SYS_PTRACE CAP_NET_ADMIN " ] || { echo "FAIL: caps.h keeps: $keep"; exit 1; }
for k in CapabilityBoundingSet AmbientCapabilities; do
	v=$(sed -n "s/^$k=//p" "$tmp/xtcpd.service")
	[ "$v" = "${keep}CAP_NET_BIND_SERVICE" ] || { echo "FAIL: $k=$v"; exit 1; }
done
for c in $keep; do
	grep -q "^\.B $c\$" "$S/man/xtcpd.8.in" || { echo "FAIL: xtcpd(8) does not name $c"; exit 1; }
done
for k in User=xtcpd Group=xtcpd ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
	Nice=10 CPUSchedulingPolicy=batch Restart=on-failure 'ExecReload=/bin/kill -HUP $MAINPID'; do
	grep -qxF "$k" "$tmp/xtcpd.service" || { echo "FAIL: no $k"; exit 1; }
done
grep -q '^MemoryMax=' "$tmp/xtcpd.service" || { echo "FAIL: no MemoryMax"; exit 1; }
echo "ok: user, hardening, capabilities, limits"
(cd "$tmp" && systemd-analyze security --offline=yes ./xtcpd.service 2>/dev/null | tail -1) || true
