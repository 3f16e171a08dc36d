#!/bin/sh
# privileges.sh — what each thread of a running daemon holds (issue 23, item 1-2).
# As root: the main thread and the source's readers keep CAP_SYS_ADMIN, CAP_SYS_PTRACE and
# CAP_NET_ADMIN and nothing else (bounding set included); the HTTP thread holds nothing
# from its birth and runs as nobody (it could otherwise write root's files); the sinks'
# threads hold nothing; every thread has no_new_privs. As the unit runs it (user 65534
# with the capabilities ambient, prom_listen below 1024): the port is bound, then
# CAP_NET_BIND_SERVICE is gone from every thread.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
[ "$(id -u)" = 0 ] || cannot_run "needs root"
command -v setpriv >/dev/null || cannot_run "no setpriv (util-linux)"
command -v curl >/dev/null || cannot_run "no curl"
have_plugin source_synth && have_plugin marshaller_json && have_plugin sink_null &&
	have_plugin sink_file || cannot_run "synth/json/null/file plugins not built"
PY=/usr/bin/python3
RT=0000000000281000       # CAP_SYS_ADMIN (21), CAP_SYS_PTRACE (19), CAP_NET_ADMIN (12)
NONE=0000000000000000

# conf PORT: two synth lanes, a null sink and a file sink, one cycle an hour
conf() {
	cat > "$TMP/xtcpd.conf" <<EOC
[core]
frequency = 1h
prom_listen = 127.0.0.1:$1
netns = host
[source synth]
records = 10
lanes = 2
[marshaller json]
[sink null]
marshaller = json
[sink file out]
marshaller = json
path = $TMP/out/records.json
EOC
}
mkdir -p "$TMP/conf.d" "$TMP/out"
# run_daemon PORT CMD...: start it, wait until /readyz answers; sets PID
run_daemon() {
	port=$1
	shift
	"$@" "$XTCPD" -c "$TMP/xtcpd.conf" -C "$TMP/conf.d" 2> "$TMP/err" &
	PID=$!
	kill_on_exit $PID
	i=0
	until [ "$(curl -s "http://127.0.0.1:$port/readyz" 2>/dev/null)" = ready ] || [ $i -ge 200 ]; do
		sleep 0.05; i=$((i + 1))
	done
	expect_eq "readyz on port $port" ready "$(curl -s "http://127.0.0.1:$port/readyz")"
}
stop_daemon() { kill "$PID"; wait "$PID"; }

# 1. as root
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
conf "$PORT"
run_daemon "$PORT"
expect_eq "root: threads" "http uid=65534 eff=$NONE prm=$NONE bnd=$NONE nnp=1
sink/null uid=0 eff=$NONE prm=$NONE bnd=$RT nnp=1
sink/out uid=0 eff=$NONE prm=$NONE bnd=$RT nnp=1
synth/0 uid=0 eff=$RT prm=$RT bnd=$RT nnp=1
synth/1 uid=0 eff=$RT prm=$RT bnd=$RT nnp=1
xtcpd uid=0 eff=$RT prm=$RT bnd=$RT nnp=1" "$(task_caps $PID)"
# the sink's file: 0640 whatever the umask we were started with
expect_eq "root: sink file mode" "640 root" "$(stat -c '%a %U' "$TMP/out/records.json")"
stop_daemon
expect_eq "root: no warning" "xtcpd: info: Terminated: stopping" "$(cat "$TMP/err")"

# 2. as the unit runs it: user 65534, the unit's bounding set and ambient capabilities,
# a port below 1024 (a free one of 600-999, where nothing of ours listens)
LOW=$($PY -c '
import random, socket
for p in random.sample(range(600, 1000), 400):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()')
[ -n "$LOW" ] || cannot_run "no free port below 1000"
conf "$LOW"
rm -f "$TMP/out/records.json"
chown 65534 "$TMP/out"
CAPS=+sys_admin,+sys_ptrace,+net_admin,+net_bind_service
run_daemon "$LOW" setpriv --reuid=65534 --regid=65534 --clear-groups \
	--bounding-set=-all,$CAPS --inh-caps=-all,$CAPS --ambient-caps=-all,$CAPS
UNITBND=0000000000281400  # the unit's bounding set: no CAP_SETPCAP to shrink it further
expect_eq "unit: threads" "http uid=65534 eff=$NONE prm=$NONE bnd=$UNITBND nnp=1
sink/null uid=65534 eff=$NONE prm=$NONE bnd=$UNITBND nnp=1
sink/out uid=65534 eff=$NONE prm=$NONE bnd=$UNITBND nnp=1
synth/0 uid=65534 eff=$RT prm=$RT bnd=$UNITBND nnp=1
synth/1 uid=65534 eff=$RT prm=$RT bnd=$UNITBND nnp=1
xtcpd uid=65534 eff=$RT prm=$RT bnd=$UNITBND nnp=1" "$(task_caps $PID)"
expect_eq "unit: sink file" "640 nobody" "$(stat -c '%a %U' "$TMP/out/records.json")"
stop_daemon
expect_eq "unit: no warning" "xtcpd: info: Terminated: stopping" "$(cat "$TMP/err")"
finish
