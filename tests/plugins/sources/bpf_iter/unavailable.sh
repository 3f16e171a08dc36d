#!/bin/sh
# unavailable — each way BPF can be missing, made real or injected, through the daemon:
# no kernel BTF (vmlinux_btf names a missing file), a kernel without the TCP iterator
# (vmlinux_btf names a BTF without bpf_iter_tcp: our own BPF object's), no capability
# (capsh drops CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON), a seccomp refusal with the
# capabilities held (nobpf). Each: the cause and the remedy named, exit 2; with
# `fallback = netlink` the netlink source collects instead (exit 0, records). And
# CAP_SYS_ADMIN alone (what the daemon keeps) is enough to load. Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
have_plugin source_bpf_iter || { echo "FAIL: source_bpf_iter not built"; exit 1; }
have_plugin source_netlink || { echo "FAIL: source_netlink not built"; exit 1; }
command -v capsh >/dev/null || { echo "FAIL: capsh missing (Debian package libcap2-bin)"; exit 1; }
OBJ="$XTCPD_BUILDDIR/plugins/sources/bpf_iter/bpf_iter.bpf.o"
REMEDY="or set 'fallback = netlink' in this section to collect through sock_diag"

# run NAME EXTRA_KEYS WRAPPER... : the daemon once, host namespace, json to $TMP/out
run() {
	name=$1 keys=$2
	shift 2
	printf '[source bpf_iter]\ndeserializers = all\n%b\n' "$keys" > "$TMP/x.conf"
	"$@" "$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" --once --dest stdout --marshal json \
		-o core.netns=host -o core.prom_listen= > "$TMP/out" 2> "$TMP/err"
	echo $? > "$TMP/rc"
}

# check NAME CAUSE REMEDY WRAPPER...
check() {
	name=$1 cause=$2 remedy=$3
	shift 3
	run "$name" "" "$@"
	expect_eq "$name: exit 2" 2 "$(cat "$TMP/rc")"
	expect_eq "$name: cause and remedy" \
		"xtcpd: error: source/bpf_iter: BPF TCP iterator unavailable: $cause; remedy: $remedy, $REMEDY" \
		"$(grep 'BPF TCP iterator unavailable' "$TMP/err")"
	run "$name" "fallback = netlink" "$@"
	expect_eq "$name + fallback: exit 0" 0 "$(cat "$TMP/rc")"
	expect_eq "$name + fallback: logged" 1 \
		"$(grep -c "source/bpf_iter: unavailable on this host: the fallback source 'netlink' collects for this section instead" "$TMP/err")"
	expect_eq "$name + fallback: records from sock_diag" 1 "$([ -s "$TMP/out" ] && echo 1)"
}



check_btf() {
	name=$1 path=$2 cause=$3 remedy=$4
	printf '[source bpf_iter]\nvmlinux_btf = %s\n' "$path" > "$TMP/x.conf"
	"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" --once --dest stdout --marshal json \
		-o core.netns=host -o core.prom_listen= > "$TMP/out" 2> "$TMP/err"
	expect_eq "$name: exit 2" 2 "$?"
	expect_eq "$name: cause and remedy" \
		"xtcpd: error: source/bpf_iter: BPF TCP iterator unavailable: $cause; remedy: $remedy, $REMEDY" \
		"$(grep 'BPF TCP iterator unavailable' "$TMP/err")"
	printf '[source bpf_iter]\nvmlinux_btf = %s\nfallback = netlink\n' "$path" > "$TMP/x.conf"
	"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" --once --dest stdout --marshal json \
		-o core.netns=host -o core.prom_listen= > "$TMP/out" 2> "$TMP/err"
	expect_eq "$name + fallback: exit 0" 0 "$?"
	expect_eq "$name + fallback: records from sock_diag" 1 "$([ -s "$TMP/out" ] && echo 1)"
}

check_btf "no BTF" "$TMP/no-such-btf" \
	"no kernel BTF: $TMP/no-such-btf: No such file or directory (the kernel was built without CONFIG_DEBUG_INFO_BTF)" \
	"run a kernel with CONFIG_DEBUG_INFO_BTF=y (Debian's have it)"
check_btf "old kernel" "$OBJ" \
	"kernel too old: its BTF has no TCP BPF iterator (bpf_iter_tcp, Linux >= 5.9)" "run Linux >= 5.15"
check "no capability" \
	"no CAP_SYS_ADMIN (nor CAP_BPF with CAP_PERFMON) to load BPF programs" \
	"start xtcpd as root, or grant CAP_SYS_ADMIN (systemd: AmbientCapabilities= and CapabilityBoundingSet=)" \
	capsh --drop=cap_sys_admin,cap_bpf,cap_perfmon -- -c 'exec "$@"' sh
check "seccomp" \
	"loading the BPF program refused (Operation not permitted) although the capabilities are held: a seccomp filter or an LSM (lockdown, SELinux, AppArmor, BPF LSM) blocks bpf()" \
	"allow the bpf() system call for xtcpd (systemd: SystemCallFilter=, the container runtime's seccomp profile, the LSM policy)" \
	"$XTCPD_BUILDDIR/tests/plugins/sources/bpf_iter/nobpf"

# CAP_SYS_ADMIN without CAP_BPF and CAP_PERFMON: loads (the daemon keeps exactly that).
run "CAP_SYS_ADMIN only" "" capsh --drop=cap_bpf,cap_perfmon -- -c 'exec "$@"' sh
expect_eq "CAP_SYS_ADMIN only: exit 0" 0 "$(cat "$TMP/rc")"
expect_eq "CAP_SYS_ADMIN only: records from the iterator" 1 "$([ -s "$TMP/out" ] && ! grep -q unavailable "$TMP/err" && echo 1)"
finish
