#!/bin/sh
# enrich_docker — [core] enrich_docker: container names and images from the Docker Engine
# API. Debian's docker.io daemon cannot run in this test environment (no nested
# containers), so tests/core/netns/docker_api.py serves the API's answers on a unix socket
# made here. Two Docker containers (cgroup v1 cgroupfs, v2 systemd) get their name and
# image on the records, each asked once; a container the API does not know gets none.
# A dead socket and a socket that never answers (docker_timeout) are counted in
# xtcpd_docker_requests_total{result="unreachable"}, logged once, and never stop the
# polls; a request hanging for a minute does not hold them either, and SIGTERM cuts it
# short. Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_root
need_cmd ip:iproute2 curl:curl
need_python
need_plugin source_netlink marshaller_json sink_file
. "$XTCPD_SRCDIR/tests/core/netns/enrich_lib.sh"
S=$XTCPD_SRCDIR
T=$TMP
R=$T/root
ID1=d0cce12345678901234567890123456789012345678901234567890123456789
ID2=d0cce2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
ID3=d0cce3bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
PORT=$(( 20000 + $$ % 20000 ))

for n in web db gone; do private_netns "xt-dk-$$-$n" || exit 1; listen $n ip netns exec "xt-dk-$$-$n"; done
cgroup web "12:pids:/docker/$ID1\n1:name=systemd:/docker/$ID1\n"
cgroup db "0::/system.slice/docker-$ID2.scope\n"
cgroup gone "0::/system.slice/docker-$ID3.scope\n"
ino() { cat "$T/$1.ino"; }

# api MODE: the stand-in API on $T/docker.sock
api() {
	rm -f "$T/docker.sock.ready" "$T/api.log"
	/usr/bin/python3 "$S/tests/core/netns/docker_api.py" "$T/docker.sock" "$T/api.log" "$1" \
		"$ID1=web-frontend=nginx:1.25" "$ID2=pg-main=postgres:16-bookworm" &
	API=$!
	kill_on_exit $API
	wait_for 300 test -e "$T/docker.sock.ready" || { echo "docker_api.py not ready"; exit 1; }
}
printf '[source netlink]\n' > "$T/xtcpd.conf"
mkdir -p "$T/conf.d"
# run ARGS: exec's the daemon (call it in a subshell: `(run ...)` or `run ... &`)
run() {
	exec "$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" --dest stdout --marshal json \
		-o core.netns_dirs="$T/netns" -o core.netns_proc_scan=false -o core.frequency=200ms \
		-o core.enrich_docker=true -o core.enrich_root="$R" "$@"
}

echo "== the API answers"
api ok
(run -o core.max_loops=15 -o core.prom_listen= -o core.docker_socket="$T/docker.sock" \
	> "$T/ok.json" 2> "$T/ok.err")
expect_eq "exit status" 0 $? || cat "$T/ok.err"
cat > "$T/expect" <<EOT
$(ino web) netns=xt-dk-$$-web container_id=$ID1 container_runtime=docker container_name=web-frontend container_image=nginx:1.25
$(ino db) netns=xt-dk-$$-db container_id=$ID2 container_runtime=docker container_name=pg-main container_image=postgres:16-bookworm
$(ino gone) netns=xt-dk-$$-gone container_id=$ID3 container_runtime=docker container_name=- container_image=-
EOT
expect_ok "names and images on the records" \
	/usr/bin/python3 "$S/tests/core/netns/enrich_check.py" --last "$T/ok.json" "$T/expect"
expect_eq "each container asked once" \
	"/containers/$ID1/json /containers/$ID2/json /containers/$ID3/json" "$(sort "$T/api.log" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "no warning" "" "$(grep -i docker "$T/ok.err")"
stop $API

# dead SOCK NAME: the daemon with the API at SOCK, scraped until 5 cycles after the first
# failed request; then its records and log.
dead() {
	PROM=127.0.0.1:$(free_port)
	run -o core.prom_listen="$PROM" -o core.docker_socket="$1" -o core.docker_timeout=300ms \
		> "$T/$2.json" 2> "$T/$2.err" &
	D=$!
	kill_on_exit $D
	wait_for 300 eval "curl -s http://$PROM/metrics > '$T/$2.prom' && grep -q '^xtcpd_docker_requests_total{result=\"unreachable\"} [1-9]' '$T/$2.prom'"
	expect_ok "$2: counted as unreachable" grep -q '^xtcpd_docker_requests_total{result="unreachable"} [1-9]' "$T/$2.prom"
	c0=$(sed -n 's/^xtcpd_poll_last_cycle \([0-9]*\)$/\1/p' "$T/$2.prom")
	wait_for 300 eval "curl -s http://$PROM/metrics > '$T/$2.prom2' && [ \$(sed -n 's/^xtcpd_poll_last_cycle \([0-9]*\)$/\1/p' '$T/$2.prom2') -ge $((c0 + 5)) ]"
	expect_ok "$2: polls go on" test "$(sed -n 's/^xtcpd_poll_last_cycle \([0-9]*\)$/\1/p' "$T/$2.prom2")" -ge $((c0 + 5))
	stop $D
	expect_eq "$2: clean exit" 0 "$STOP_RC"
	expect_eq "$2: logged once" 1 "$(grep -c "enrich_docker: Docker API on $1 unreachable" "$T/$2.err")"
	cat > "$T/expect.$2" <<EOT
$(ino web) container_id=$ID1 container_runtime=docker container_name=- container_image=-
EOT
	expect_ok "$2: ids, no names" /usr/bin/python3 "$S/tests/core/netns/enrich_check.py" --last "$T/$2.json" "$T/expect.$2"
}
echo "== no API on the socket"
dead "$T/nothing.sock" dead
echo "== an API that never answers"
api slow
dead "$T/docker.sock" slow
expect_ok "slow: it was asked" grep -q "/containers/$ID1/json" "$T/api.log"
# A request that would hang for a minute: the polls go on meanwhile (no timing: five
# cycles complete while it hangs) and SIGTERM cuts it short.
rm -f "$T/api.log"
PROM=127.0.0.1:$(free_port)
run -o core.prom_listen="$PROM" -o core.docker_socket="$T/docker.sock" -o core.docker_timeout=60s \
	> "$T/hung.json" 2> "$T/hung.err" &
D=$!
kill_on_exit $D
wait_for 300 grep -qs "/containers/" "$T/api.log"
curl -s "http://$PROM/metrics" > "$T/hung.prom"
c0=$(sed -n 's/^xtcpd_poll_last_cycle \([0-9]*\)$/\1/p' "$T/hung.prom")
wait_for 300 eval "curl -s http://$PROM/metrics > '$T/hung.prom2' && [ \$(sed -n 's/^xtcpd_poll_last_cycle \([0-9]*\)$/\1/p' '$T/hung.prom2') -ge $((${c0:-0} + 5)) ]"
expect_ok "hung: polls go on while a request hangs" test "$(sed -n 's/^xtcpd_poll_last_cycle \([0-9]*\)$/\1/p' "$T/hung.prom2")" -ge $((${c0:-0} + 5))
expect_eq "hung: nothing counted yet" "" "$(grep '^xtcpd_docker_requests_total.* [1-9]' "$T/hung.prom2")"
# libcurl is loaded only for enrich_docker (linked, it costs every daemon ~3 MiB).
expect_eq "on: libcurl loaded" 1 "$(grep -c 'r-xp.*/libcurl\.so' /proc/$D/maps)"
stop $D
expect_eq "hung: clean exit" 0 "$STOP_RC"

echo "== enrich_docker off: no libcurl in the process"
PROM=127.0.0.1:$(free_port)
run -o core.prom_listen="$PROM" -o core.enrich_docker=false > "$T/off.json" 2> "$T/off.err" &
D=$!
kill_on_exit $D
wait_for 300 eval "curl -s http://$PROM/metrics | grep -q '^xtcpd_poll_last_cycle [1-9]'"
expect_eq "off: libcurl not loaded" 0 "$(grep -c '/libcurl' /proc/$D/maps)"
stop $D
expect_eq "off: clean exit" 0 "$STOP_RC"

echo "== libcurl missing (a private mount namespace hides it): warned, records go on"
LIBCURL=$(ldconfig -p | sed -n 's/^\s*libcurl\.so\.4 (libc6,x86-64) => //p' | head -1)
if [ -z "$LIBCURL" ]; then
	skip_part "libcurl.so.4 not found by ldconfig -p"
else
	(exec unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$LIBCURL" \
		"$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" --dest stdout --marshal json \
		-o core.netns_dirs="$T/netns" -o core.netns_proc_scan=false -o core.frequency=200ms \
		-o core.enrich_docker=true -o core.enrich_root="$R" -o core.max_loops=3 \
		-o core.prom_listen= -o core.docker_socket="$T/docker.sock" > "$T/nocurl.json" 2> "$T/nocurl.err")
	expect_eq "no libcurl: exit status" 0 $? || cat "$T/nocurl.err"
	expect_eq "no libcurl: one warning naming it" 1 \
		"$(grep -c "enrich_docker: cannot load libcurl: .*libcurl.so.4.*(Debian package libcurl4): names and images stay empty" "$T/nocurl.err")"
	expect_eq "no libcurl: nothing else said about Docker" 1 "$(grep -ci docker "$T/nocurl.err")"
	cat > "$T/expect.nocurl" <<EOT
$(ino web) container_id=$ID1 container_runtime=docker container_name=- container_image=-
EOT
	expect_ok "no libcurl: ids, no names" /usr/bin/python3 "$S/tests/core/netns/enrich_check.py" --last "$T/nocurl.json" "$T/expect.nocurl"
fi

# -n refuses a relative socket path with file:line.
printf '[source netlink]\n[marshaller json]\n[sink null]\n' > "$T/n.conf"
printf '[core]\nenrich_docker = true\ndocker_socket = docker.sock\n' > "$T/conf.d/bad.conf"
"$XTCPD" -n -c "$T/n.conf" -C "$T/conf.d" > "$T/n.out" 2>&1
expect_eq "-n: relative docker_socket refused" 2 $?
expect_ok "-n names file:line" grep -q "bad.conf:3: \[core\] docker_socket: 'docker.sock' is not an absolute path" "$T/n.out"
rm -f "$T/conf.d/bad.conf"
finish
