#!/bin/sh
# enrich_container — [core] enrich_container on real namespaces made here, each with a
# process (a listener) whose cgroup and pod are laid out in a throwaway root
# (core.enrich_root, a key for tests): Docker on cgroup v1, CRI-O in a pod (cgroupfs),
# containerd in a Kubernetes pod (systemd driver, v2) in a namespace without a bind-mount
# name (named "<pod ns>/<pod>"), podman (v2), Docker behind a private cgroup namespace
# ("0::/", found in /sys/fs/cgroup), and a plain process (no container). Every record of
# each namespace must carry exactly its identity; with the key off, none. Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
need_cmd ip:iproute2 unshare:util-linux
need_python
need_plugin source_netlink marshaller_json sink_file
. "$XTCPD_SRCDIR/tests/core/netns/enrich_lib.sh"
S=$XTCPD_SRCDIR
T=$TMP
R=$T/root
ID1=d0cce12345678901234567890123456789012345678901234567890123456789
ID2=c210c21234567890123456789012345678901234567890123456789012345678
ID3=c0de0d1234567890123456789012345678901234567890123456789012345678
ID4=90d3a01234567890123456789012345678901234567890123456789012345678
ID5=5c0e5c1234567890123456789012345678901234567890123456789012345678
UID2=aaaaaaaa-1111-2222-3333-444444444444
UID3=bbbbbbbb-5555-6666-7777-888888888888
PORT=$(( 20000 + $$ % 20000 ))

for n in dock crio cgns plain; do private_netns "xt-en-$$-$n" || exit 1; done
listen dock ip netns exec "xt-en-$$-dock"
listen crio ip netns exec "xt-en-$$-crio"
listen cgns ip netns exec "xt-en-$$-cgns"
listen plain ip netns exec "xt-en-$$-plain"
listen k8s unshare -n
listen podm unshare -n

cgroup dock "12:pids:/docker/$ID1\n11:memory:/docker/$ID1\n1:name=systemd:/docker/$ID1\n0::/\n"
cgroup crio "10:cpu,cpuacct:/kubepods/besteffort/pod$UID2/crio-$ID2\n1:name=systemd:/kubepods/besteffort/pod$UID2/crio-$ID2\n"
mkdir -p "$R/var/log/pods/team-a_web-0_$UID2/web"
cgroup k8s "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$(echo $UID3 | tr - _).slice/cri-containerd-$ID3.scope\n"
mkdir -p "$R/var/log/pods/kube-system_coredns-5d78c9869d-x2x7q_$UID3/coredns"
cgroup podm "0::/machine.slice/libpod-$ID4.scope\n"
cgroup cgns "0::/\n"
mkdir -p "$R/sys/fs/cgroup/system.slice/docker-$ID5.scope"
printf '1\n%s\n' "$(cat "$T/cgns.pid")" > "$R/sys/fs/cgroup/system.slice/docker-$ID5.scope/cgroup.procs"
cgroup plain "0::/user.slice/user-0.slice/session-1.scope\n"

printf '[source netlink]\n' > "$T/xtcpd.conf"
mkdir -p "$T/conf.d"
run() {
	"$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" --once --dest stdout --marshal json \
		-o core.netns_dirs="$T/netns" -o core.prom_listen= -o core.max_namespaces_per_owner=0 "$@"
}
run -o core.enrich_container=true -o core.enrich_root="$R" > "$T/on.json" 2> "$T/on.err"
expect_eq "exit status (enrich_container = true)" 0 $? || cat "$T/on.err"

ino() { cat "$T/$1.ino"; }
cat > "$T/expect" <<EOT
$(ino dock) netns=xt-en-$$-dock container_id=$ID1 container_runtime=docker pod_namespace=- pod_name=- container_name=- container_image=-
$(ino crio) netns=xt-en-$$-crio container_id=$ID2 container_runtime=cri-o pod_namespace=team-a pod_name=web-0
$(ino k8s) netns=kube-system/coredns-5d78c9869d-x2x7q container_id=$ID3 container_runtime=containerd pod_namespace=kube-system pod_name=coredns-5d78c9869d-x2x7q
$(ino podm) netns=pid:$(cat "$T/podm.pid") container_id=$ID4 container_runtime=podman pod_namespace=- pod_name=-
$(ino cgns) netns=xt-en-$$-cgns container_id=$ID5 container_runtime=docker pod_namespace=- pod_name=-
$(ino plain) netns=xt-en-$$-plain container_id=- container_runtime=- pod_namespace=- pod_name=-
EOT
expect_ok "records carry each namespace's container and pod" \
	/usr/bin/python3 "$S/tests/core/netns/enrich_check.py" "$T/on.json" "$T/expect"

# Off (the default): the same namespaces, no identity at all, names unchanged.
run -o core.enrich_root="$R" > "$T/off.json" 2> "$T/off.err"
expect_eq "exit status (enrich_container = false)" 0 $? || cat "$T/off.err"
cat > "$T/expect.off" <<EOT
$(ino dock) netns=xt-en-$$-dock container_id=- container_runtime=- pod_namespace=- pod_name=-
$(ino k8s) netns=pid:$(cat "$T/k8s.pid") container_id=- container_runtime=- pod_namespace=- pod_name=-
EOT
expect_ok "off: no identity" /usr/bin/python3 "$S/tests/core/netns/enrich_check.py" "$T/off.json" "$T/expect.off"

# Bad values are refused by -n with file and line.
printf '[source netlink]\n[marshaller json]\n[sink null]\n' > "$T/n.conf"
printf '[core]\nenrich_root = relative/path\n' > "$T/conf.d/bad.conf"
"$XTCPD" -n -c "$T/n.conf" -C "$T/conf.d" > "$T/n.out" 2>&1
expect_eq "-n: relative enrich_root refused" 2 $?
expect_ok "-n names file:line and key" grep -q "bad.conf:2: \[core\] enrich_root: 'relative/path' is not an absolute path" "$T/n.out"
printf '[core]\nenrich_container = maybe\n' > "$T/conf.d/bad.conf"
"$XTCPD" -n -c "$T/n.conf" -C "$T/conf.d" > "$T/n.out" 2>&1
expect_eq "-n: enrich_container = maybe refused" 2 $?
expect_ok "-n names file:line" grep -q "bad.conf:2" "$T/n.out"
rm -f "$T/conf.d/bad.conf"
finish
