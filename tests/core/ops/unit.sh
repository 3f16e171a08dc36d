#!/bin/sh
# unit.sh — the shipped xtcpd.service passes systemd-analyze verify (with a stand-in
# executable at its ExecStart), runs as the user xtcpd and grants exactly the capabilities
# the daemon keeps (core/ops/caps.h's table) plus CAP_NET_BIND_SERVICE for a low
# prom_listen port, and xtcpd(8) names the same; prints systemd's exposure score.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
S=$XTCPD_SRCDIR
need_cmd systemd-analyze:systemd
tmp=$TMP
mkdir -p "$tmp/sbin" "$tmp/etc/xtcpd/conf.d"
printf '#!/bin/sh\nexit 0\n' > "$tmp/sbin/xtcpd"
chmod +x "$tmp/sbin/xtcpd"
sed -e "s|@sbindir@|$tmp/sbin|g" -e "s|@sysconfdir@|$tmp/etc|g" \
	"$S/dist/xtcpd.service.in" > "$tmp/xtcpd.service"
out=$(cd "$tmp" && systemd-analyze verify --man=no ./xtcpd.service 2>&1)
expect_eq "systemd-analyze verify: exit status and words" "0: " "$?: $out"
# the kept set, from the one table in caps.h
keep=$(sed -n 's/^[[:space:]]*X(\(CAP_[A-Z_]*\),.*/\1/p' "$S/core/ops/caps.h" | tr '\n' ' ')
expect_eq "caps.h keeps" "CAP_SYS_ADMIN CAP_SYS_PTRACE CAP_NET_ADMIN " "$keep"
for k in CapabilityBoundingSet AmbientCapabilities; do
	expect_eq "$k" "${keep}CAP_NET_BIND_SERVICE" "$(sed -n "s/^$k=//p" "$tmp/xtcpd.service")"
done
for c in $keep; do
	expect_ok "xtcpd(8) names $c" grep -q "^\.B $c\$" "$S/man/xtcpd.8.in"
done
for k in User=xtcpd Group=xtcpd ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
	Nice=10 CPUSchedulingPolicy=batch Restart=on-failure 'ExecReload=/bin/kill -HUP $MAINPID'; do
	expect_ok "$k" grep -qxF "$k" "$tmp/xtcpd.service"
done
expect_ok "MemoryMax set" grep -q '^MemoryMax=' "$tmp/xtcpd.service"
(cd "$tmp" && systemd-analyze security --offline=yes ./xtcpd.service 2>/dev/null | tail -1)
finish
