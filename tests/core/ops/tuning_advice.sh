#!/bin/sh
# tuning_advice.sh — the advice about namespaces sharing the host-wide TCP hash table.
# Two namespaces of this test: one created while net.ipv4.tcp_child_ehash_entries was set
# (its own table), one without (shares the host's); the threshold lowered to 1 socket by
# tuning_advice_sockets. The daemon must log exactly one line at start ("1 of 2", with the
# first cycles' cost per namespace), nothing more while nothing changes, exactly one more
# when a reconcile finds a third namespace sharing the table ("2 of 3"); and nothing with
# the threshold above the host's sockets or with the advice off.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_root
need_plugin source_netlink marshaller_json sink_null
CHILD=/proc/sys/net/ipv4/tcp_child_ehash_entries
[ -w $CHILD ] || skip "no $CHILD (Linux < 6.1): per-namespace TCP hash tables cannot be made here"

# The host-wide sysctl is set only around this test's own `ip netns add`, then restored.
OWN=xtcpd-adv-own-$$ SHARED=xtcpd-adv-sh-$$ LATE=xtcpd-adv-late-$$
old=$(cat $CHILD)
echo 1024 > $CHILD
private_netns $OWN; rc=$?
echo "$old" > $CHILD
[ $rc = 0 ] || { echo "cannot create $OWN"; exit 1; }
[ "$old" = 0 ] || { echo "$CHILD is $old on this host: namespaces made here would not share"; exit 1; }
private_netns $SHARED || { echo "cannot create $SHARED"; exit 1; }
expect_eq "$OWN has its own table (1024 buckets)" 1024 "$(ip netns exec $OWN cat /proc/sys/net/ipv4/tcp_ehash_entries)"
expect_eq "$SHARED shares the host's (negative)" yes \
	"$([ "$(ip netns exec $SHARED cat /proc/sys/net/ipv4/tcp_ehash_entries)" -lt 0 ] && echo yes)"

PROM=127.0.0.1:$(free_port)
conf() {
	cat > "$TMP/x.conf" <<EOF
[core]
frequency = 1s
prom_listen = $PROM
netns_dirs = $TMP/netns
netns_proc_scan = false
reconcile_interval = 200ms
tuning_advice_sockets = $1
tuning_advice_interval = 1s
[source netlink]
[marshaller json]
[sink null]
EOF
}
advice() { grep -c 'tuning: .* namespaces share the host-wide TCP hash table' "$TMP/xtcpd.log"; }

conf 1
daemon_start "$TMP/x.conf"
wait_metric xtcpd_poll_cycles_total 3 || { cat "$TMP/xtcpd.log"; exit 1; }
expect_eq "one advice line after 3 cycles" 1 "$(advice)"
line=$(grep 'tuning:' "$TMP/xtcpd.log" | head -1)
echo "$line"
expect_eq "counts: 1 of the 2 namespaces shares the table" yes \
	"$(echo "$line" | grep -q 'tuning: 1 of 2 namespaces share' && echo yes)"
# The cost: the cycle's namespaces (the host's + 2), its time and that time per namespace.
expect_eq "per-namespace time = cycle time / 3" yes "$(echo "$line" |
	sed -n 's/.*last cycle: 3 namespaces in \([0-9.]*\) ms, \([0-9.]*\) ms per namespace.*/\1 \2/p' |
	awk '{ d = $1 / 3 - $2; if (NF == 2 && d < 0.04 && d > -0.04) print "yes" }')"
expect_eq "the namespaces were read by a thread that has ended" 0 \
	"$(cat /proc/$DPID/task/*/comm | grep -c '^ns-advice$')"
expect_eq "the sysctl is named" yes \
	"$(echo "$line" | grep -q "sysctl net.ipv4.tcp_child_ehash_entries=N" && echo yes)"
# A third namespace sharing the table: the reconcile's next cycle says it once more.
private_netns $LATE || { echo "cannot create $LATE"; exit 1; }
c=$(metric "$TMP/m.wait" xtcpd_poll_cycles_total)
wait_metric xtcpd_namespaces_opened_total 4 || { cat "$TMP/xtcpd.log"; exit 1; }
wait_metric xtcpd_poll_cycles_total $((c + 4)) || { cat "$TMP/xtcpd.log"; exit 1; }
expect_eq "one more line after the change, and only one" 2 "$(advice)"
expect_eq "it counts the new one: 2 of 3" yes \
	"$(grep 'tuning:' "$TMP/xtcpd.log" | sed -n 2p | grep -q 'tuning: 2 of 3 namespaces share' && echo yes)"
daemon_stop
expect_eq "exit status" 0 "$DRC"

# The threshold above the host's sockets, then the advice off: no line.
for t in 1000000000000 0; do
	conf $t
	daemon_start "$TMP/x.conf"
	wait_metric xtcpd_poll_cycles_total 2 || { cat "$TMP/xtcpd.log"; exit 1; }
	expect_eq "no advice with tuning_advice_sockets = $t" 0 "$(advice)"
	daemon_stop
done
finish
