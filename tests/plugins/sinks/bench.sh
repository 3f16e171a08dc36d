#!/bin/sh
# bench — records per second and CPU per record through the whole daemon (synthetic
# source -> protobufList -> sink) into the null sink, the mock Kafka cluster, and a
# nats-server and a redis-server started here (when those sinks and servers exist).
# Prints numbers; asserts nothing about time. Run by `make bench` (bench-sinks).
# A cycle of RECORDS (default 3000000) takes longer than the 100 ms period, so cycles
# run back to back and records/s is the pipeline's, not the schedule's. LOOPS cycles
# (default 5). CPU is the daemon's (user + sys), not the mock brokers'.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/srv_lib.sh"
RECORDS=${RECORDS:-3000000}
LOOPS=${LOOPS:-5}

# measure NAME SINK-SECTION: run LOOPS cycles back to back; print the figures.
measure() {
	cat > "$TMP/b.conf" <<EOC
[core]
frequency = 100ms
max_loops = $LOOPS
prom_listen =
netns = host
shutdown_timeout = 120s
[source synth]
records = $RECORDS
lanes = 2
[marshaller protobufList]
$2
EOC
	$PY - "$XTCPD" "$TMP/b.conf" "$TMP/none" "$1" $((RECORDS * LOOPS)) "$TMP/b.log" <<'PYEOF'
import resource, subprocess, sys, time
xtcpd, conf, none, name, n, log = sys.argv[1:7]
n = int(n)
t = time.monotonic()
rc = subprocess.call([xtcpd, "-c", conf, "-C", none], stderr=open(log, "w"))
wall = time.monotonic() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = ru.ru_utime + ru.ru_stime
print("bench-sinks %-12s %9d records  %6.2f s  %10.0f records/s  %7.0f ns CPU/record  "
      "(user %.2f s, sys %.2f s, max RSS %d MiB)%s" % (
          name, n, wall, n / wall, cpu * 1e9 / n, ru.ru_utime, ru.ru_stime,
          ru.ru_maxrss // 1024, "" if rc == 0 else "  EXIT %d" % rc))
PYEOF
	# Undelivered batches at exit would show here (the mock brokers keep only ~5 MB per
	# partition, so the topic cannot be consumed back to count them).
	grep -E "warn|error" "$TMP/b.log" | head -3
}

measure null "[sink null]"
if have_plugin sink_kafka && [ -x "$MOCK" ]; then
	mc_start
	measure kafka-mock "[sink kafka]
brokers = $BS
topic = xtcpd
key = none
linger_ms = 20"
	measure kafka-lz4 "[sink kafka]
brokers = $BS
topic = xtcpd
key = none
linger_ms = 20
compression = lz4"
fi
if have_plugin sink_nats && command -v nats-server > /dev/null; then
	nats_start
	measure nats "[sink nats]
url = 127.0.0.1:$NATS_PORT
subject = xtcpd"
fi
if have_plugin sink_valkey && command -v redis-server > /dev/null; then
	redis_start
	measure valkey "[sink valkey]
address = 127.0.0.1:$REDIS_PORT
channel = xtcpd"
fi
