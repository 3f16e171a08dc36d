#!/bin/sh
# unit.sh — the shipped xtcpd.service passes systemd-analyze verify (with a stand-in
# executable at its ExecStart) and grants exactly the capabilities xtcpd(8) documents;
# prints systemd's exposure score for the record.
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
for k in CapabilityBoundingSet AmbientCapabilities; do
	v=$(sed -n "s/^$k=//p" "$tmp/xtcpd.service")
	[ "$v" = "CAP_SYS_ADMIN CAP_SYS_PTRACE CAP_NET_ADMIN CAP_SETPCAP" ] ||
		{ echo "FAIL: $k=$v"; exit 1; }
done
for k in ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
	Nice=10 CPUSchedulingPolicy=batch Restart=on-failure 'ExecReload=/bin/kill -HUP $MAINPID'; do
	grep -qxF "$k" "$tmp/xtcpd.service" || { echo "FAIL: no $k"; exit 1; }
done
grep -q '^MemoryMax=' "$tmp/xtcpd.service" || { echo "FAIL: no MemoryMax"; exit 1; }
echo "ok: hardening, capabilities, limits"
(cd "$tmp" && systemd-analyze security --offline=yes ./xtcpd.service 2>/dev/null | tail -1) || true
