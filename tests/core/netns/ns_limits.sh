#!/bin/sh
# ns_limits.sh — any user can make network namespaces (unshare -rn), and each one costs
# the daemon fds and a dump per cycle (issue 23, item 9): with three of root's and five of
# user 65534's, max_namespaces_per_owner = 2 keeps the host's, root's three and two of the
# user's, and max_namespaces = 4 keeps the host's and root's three; what is left out is
# counted and logged, and a namespace name carrying a newline is logged escaped (it does
# not forge a log line of its own).
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
[ "$(id -u)" = 0 ] || cannot_run "needs root"
command -v setpriv >/dev/null && command -v unshare >/dev/null || cannot_run "no setpriv/unshare"
command -v curl >/dev/null || cannot_run "no curl"
have_plugin source_netlink && have_plugin marshaller_json && have_plugin sink_null ||
	cannot_run "netlink/json/null plugins not built"
AS_USER="setpriv --reuid=65534 --regid=65534 --clear-groups"
$AS_USER unshare -rn true 2>/dev/null || cannot_run "unprivileged user namespaces are off here"
PY=/usr/bin/python3
NASTY="u3
xtcpd: error: forged"
mkdir -m 700 "$TMP/netns"
# hold NAME CMD...: a namespace made by CMD (a sleeping process), bind-mounted as NAME
hold() {
	name=$1
	shift
	"$@" sleep 600 &
	p=$!
	kill_on_exit $p
	i=0
	while [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] && [ $i -lt 100 ]; do
		sleep 0.02; i=$((i + 1))
	done
	touch "$TMP/netns/$name"
	mount --bind /proc/$p/ns/net "$TMP/netns/$name" || cannot_run "cannot bind-mount a namespace"
	on_exit "umount '$TMP/netns/$name' 2>/dev/null"
}
for n in a1 a2 a3; do hold $n unshare -n; done
for n in u1 u2 "$NASTY" u4 u5; do hold "$n" $AS_USER unshare -rn; done

PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$TMP/x.conf" <<EOC
[core]
frequency = 1h
prom_listen = 127.0.0.1:$PORT
netns_dirs = $TMP/netns
netns_proc_scan = false
# the advice depends on how many sockets the machine holds, not on this test (0 = never)
tuning_advice_sockets = 0
[source netlink]
[marshaller json]
[sink null]
EOC
mkdir -m 755 "$TMP/conf.d"
# run MAX PER_OWNER: one cycle, then the metrics of it
run() {
	"$XTCPD" -c "$TMP/x.conf" -C "$TMP/conf.d" -o core.max_namespaces=$1 \
		-o core.max_namespaces_per_owner=$2 2> "$TMP/err" &
	pid=$!
	i=0
	until curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/m" &&
		grep -q '^xtcpd_poll_cycles_total 1$' "$TMP/m" || [ $i -ge 200 ]; do
		sleep 0.05; i=$((i + 1))
	done
	kill $pid; wait $pid
}
m() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/m"; }

run 100 2
expect_eq "per owner: namespaces polled (host, root's 3, the user's 2)" 6 "$(m xtcpd_namespaces_known)"
expect_eq "per owner: sock_diag sockets" 6 "$(m 'xtcpd_netlink_namespaces{plugin="source/netlink"}')"
expect_eq "per owner: left out at the last scan" 3 "$(m xtcpd_namespaces_left_out)"
# the start-up scans twice (the manager's first scan, then bring_up's): 2 x 3 refusals
expect_eq "per owner: counted" "6 " \
	"$(m 'xtcpd_namespaces_limited_total{limit="max_namespaces_per_owner"}') $(m 'xtcpd_namespaces_limited_total{limit="max_namespaces"}')"
expect_eq "per owner: logged once, the name escaped" "xtcpd: warning: namespace u3\\x0axtcpd: error: forged (owner uid 65534) left out: [core] max_namespaces_per_owner reached
xtcpd: info: Terminated: stopping" "$(cat "$TMP/err")"

run 4 2
expect_eq "in all: namespaces polled (host, root's 3)" 4 "$(m xtcpd_namespaces_known)"
expect_eq "in all: left out at the last scan" 5 "$(m xtcpd_namespaces_left_out)"
expect_eq "in all: counted" "10" \
	"$(m 'xtcpd_namespaces_limited_total{limit="max_namespaces"}')$(m 'xtcpd_namespaces_limited_total{limit="max_namespaces_per_owner"}')"
finish
