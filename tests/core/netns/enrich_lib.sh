# enrich_lib — shared by the enrichment tests (sourced after tests/lib/lib.sh): listeners
# in namespaces made by the test, and the cgroup files of their processes laid out in a
# throwaway root ($R, given to the daemon as core.enrich_root). Needs T, R and PORT.

# listen NAME CMD...: a listener on $PORT run by CMD (its pid in $T/NAME.pid, the inode of
# its network namespace in $T/NAME.ino)
listen() {
	_n=$1
	shift
	"$@" /usr/bin/python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen()
open(sys.argv[2], "w").close()
time.sleep(600)' "$PORT" "$T/$_n.ready" &
	echo $! > "$T/$_n.pid"
	kill_on_exit $!
	wait_for 300 test -e "$T/$_n.ready" || { echo "listener $_n not ready"; exit 1; }
	stat -L -c %i "/proc/$!/ns/net" > "$T/$_n.ino"
}
# cgroup NAME TEXT: what <root>/proc/<pid of NAME>/cgroup says
cgroup() {
	mkdir -p "$R/proc/$(cat "$T/$1.pid")"
	printf "$2" > "$R/proc/$(cat "$T/$1.pid")/cgroup"
}
