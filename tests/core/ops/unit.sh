#!/bin/sh
# unit.sh — the shipped xtcpd.service passes systemd-analyze verify (with a stand-in
# executable at its ExecStart) and grants exactly the capabilities xtcpd(8) documents;
# prints systemd's exposure score for the record.
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
for k in CapabilityBoundingSet AmbientCapabilities; do
	expect_eq "$k" "CAP_SYS_ADMIN CAP_SYS_PTRACE CAP_NET_ADMIN CAP_SETPCAP" \
		"$(sed -n "s/^$k=//p" "$tmp/xtcpd.service")"
done
for k in ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
	Nice=10 CPUSchedulingPolicy=batch Restart=on-failure 'ExecReload=/bin/kill -HUP $MAINPID'; do
	expect_ok "$k" grep -qxF "$k" "$tmp/xtcpd.service"
done
expect_ok "MemoryMax set" grep -q '^MemoryMax=' "$tmp/xtcpd.service"
(cd "$tmp" && systemd-analyze security --offline=yes ./xtcpd.service 2>/dev/null | tail -1)
finish
