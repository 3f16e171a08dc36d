#!/bin/sh
# compat_env.sh — an xtcp2 user swaps the binary: the real daemon with xtcp2's environment
# (each variable, precedence against flags and xtcpd's -o, a full XTCP_CONFIG_JSON, bad
# ones), the effective configuration checked with --print-config (and fed back to -n),
# the issue's refused command line, xtcp2's defaults (topic, deserializers, jitter),
# -healthcheck against a live and a dead daemon, and README's migration table.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
X=$XTCPD
S=$XTCPD_SRCDIR
need_plugin source_netlink marshaller_json marshaller_protobufList sink_file sink_null
OK="configuration OK"

# conf ARGS...: the effective configuration's set keys, "[section] key = value" a line
conf() {
	"$X" -c "$S/xtcpd.conf" -C "$S/conf.d" --print-config "$@" 2> "$TMP/warn" |
		awk '/^\[/ { sec = $0 } /^[a-z]/ { sub(/ ; from .*/, ""); print sec " " $0 }'
}
# key SECTION KEY ARGS...: one key's line of conf
key() { s=$1 k=$2; shift 2; conf "$@" | grep -F "$s $k = " ; }

# The issue's command line, refused before: the envelope caps go to the marshaller in use.
out=$("$X" -c "$S/xtcpd.conf" -C "$S/conf.d" -n -netlinkers 2 -deserializers info,cong \
	-envelopeFlushRows 500 -label l1 2>&1)
expect_eq "xtcp2 flags with the shipped conf.d" "0: $OK" "$?: $out"
expect_eq "flush_rows on the shipped marshaller" "[marshaller json] flush_rows = 500" \
	"$(key '[marshaller json]' flush_rows -envelopeFlushRows 500)"

# Each environment variable reaches its key (env VAR=VALUE is what a container does).
while IFS='|' read -r var sec line; do
	expect_eq "$var" "$sec $line" "$(env "$var" "$X" -c "$S/xtcpd.conf" -C "$S/conf.d" \
		--print-config 2>/dev/null | awk -v s="$sec" '/^\[/ { sec = $0 }
		/^[a-z]/ && sec == s { sub(/ ; from .*/, ""); print sec " " $0 }' |
		grep -F "$sec ${line%% *} ")"
done <<'EOT'
POLL_FREQUENCY=30s|[core]|frequency = 30s
POLL_TIMEOUT=1.5s|[core]|timeout = 1500ms
MAX_LOOPS=7|[core]|max_loops = 7
POLL_JITTER_PCT=0|[core]|poll_jitter_pct = 0
XTCP_HOSTNAME=node-7|[core]|hostname = node-7
LABEL=l1|[core]|label = l1
TAG=t1|[core]|tag = t1
LOCATION=fra1|[core]|location = fra1
PROM_LISTEN=127.0.0.1:9|[core]|prom_listen = 127.0.0.1:9
RECONCILE_FREQUENCY=1m|[core]|reconcile_interval = 1m
DEBUG_LEVEL=111|[core]|log_level = debug
NETLINKERS=2|[source netlink]|netlinkers = 2
DESERIALIZERS=info,bbr|[source netlink]|deserializers = info,bbr
PACKETSIZEMPLY=16|[source netlink]|recv_buffer = 65536
ENVELOPE_FLUSH_ROWS=500|[marshaller json]|flush_rows = 500
ENVELOPE_FLUSH_BYTES=65536|[marshaller json]|flush_bytes = 65536
EOT
# xtcp2's defaults where xtcpd's differ, once xtcp2 configures it; not otherwise
expect_eq "xtcp2's deserializers, jitter and metrics" "[core] frequency = 10s
[core] poll_jitter_pct = 20
[core] xtcp2_metrics = true
[source netlink] deserializers = info,vegas,cong,tos,tc,skmem,shut,dctcp,bbr,classid,cgroup,sockopt" \
	"$(POLL_FREQUENCY=10s conf | grep -E 'frequency|jitter|xtcp2|deserializers')"
expect_eq "xtcpd alone keeps its own defaults" "" "$(conf | grep -E 'jitter|xtcp2|deserializers')"
expect_eq "DEST: the destination with xtcp2's marshaller" "[sink null] marshaller = protobufList" \
	"$(DEST=null conf | grep -E '^\[(marshaller|sink)')"

# Precedence: flags < environment < XTCP_CONFIG_JSON < xtcpd's own -o.
expect_eq "flag" "[core] frequency = 10s" "$(key '[core]' frequency -frequency 10s)"
expect_eq "env over flag" "[core] frequency = 20s" \
	"$(POLL_FREQUENCY=20s key '[core]' frequency -frequency 10s)"
expect_eq "XTCP_CONFIG_JSON over env" "[core] frequency = 30s" \
	"$(POLL_FREQUENCY=20s XTCP_CONFIG_JSON='{"pollFrequency":"30s"}' key '[core]' frequency -frequency 10s)"
expect_eq "-o over everything" "[core] frequency = 7s" \
	"$(POLL_FREQUENCY=20s XTCP_CONFIG_JSON='{"pollFrequency":"30s"}' key '[core]' frequency \
	-o core.frequency=7s -frequency 10s)"

# A full XtcpConfig as xtcp2's soft restart carries it.
J='{"nlTimeoutMilliseconds":"1000","pollFrequency":"10s","pollTimeout":"5s","pollJitterPct":20,
"netlinkers":4,"netlinkersDoneChanSize":100,"nlmsgSeq":666,"packetSizeMply":8,"modulus":"1",
"enabledDeserializers":{"enabled":{"info":true,"cong":true}},"debugLevel":111,
"dest":"null","marshalTo":"protobufList","topic":"xtcp","grpcPort":8889,"label":"l1"}'
out=$(XTCP_CONFIG_JSON=$J "$X" -c "$S/xtcpd.conf" -C "$S/conf.d" -n 2>&1)
expect_eq "full XTCP_CONFIG_JSON" "0: xtcpd: warning: ignoring XTCP_CONFIG_JSON field \"nlTimeoutMilliseconds\": use -o core.timeout=DURATION
xtcpd: warning: ignoring XTCP_CONFIG_JSON field \"netlinkersDoneChanSize\": xtcpd has no equivalent
xtcpd: warning: ignoring XTCP_CONFIG_JSON field \"nlmsgSeq\": xtcpd has no equivalent
xtcpd: warning: ignoring XTCP_CONFIG_JSON field \"modulus\": xtcpd has no equivalent
xtcpd: warning: ignoring xtcp2 option -topic: the destination does not use it
$OK" "$?: $out"
expect_eq "its effective configuration" "[core] frequency = 10s
[core] timeout = 5s
[core] poll_jitter_pct = 20
[core] log_level = debug
[core] label = l1
[core] xtcp2_metrics = true
[source netlink] netlinkers = 4
[source netlink] deserializers = info,cong
[source netlink] recv_buffer = 32768
[sink null] marshaller = protobufList" "$(XTCP_CONFIG_JSON=$J conf | grep -v '^\[core\] log_\(level\|target\) = info')"

# Bad values: a clear error, exit 2.
bad() { # expected-message VAR=VALUE
	out=$(env "$2" "$X" -c "$S/xtcpd.conf" -C "$S/conf.d" -n 2>&1)
	expect_eq "$2" "2: xtcpd: $1" "$?: $out"
}
bad 'environment POLL_FREQUENCY: "soon" is not a duration of whole milliseconds (like 10s, 1m30s, 250ms)' \
	POLL_FREQUENCY=soon
bad 'environment NETLINKERS: "-1" is not a whole number' NETLINKERS=-1
bad 'XTCP_CONFIG_JSON field "netlinkers": "four" is not a whole number' \
	'XTCP_CONFIG_JSON={"netlinkers":"four"}'
bad 'XTCP_CONFIG_JSON: not valid JSON: it ends too early (at byte 16)' \
	'XTCP_CONFIG_JSON={"netlinkers":4,'
bad 'command line: [source netlink] netlinkers: '"'"'65'"'"' is out of range (allowed: 1..64)' \
	'XTCP_CONFIG_JSON={"netlinkers":65}'
bad 'command line: [core] poll_jitter_pct: '"'"'101'"'"' is out of range (allowed: 0..100)' \
	POLL_JITTER_PCT=101

# --print-config is a configuration file -n takes, and prints the same again.
mkdir "$TMP/none"
POLL_FREQUENCY=30s LABEL=' two words' conf > "$TMP/a"
POLL_FREQUENCY=30s LABEL=' two words' "$X" -c "$S/xtcpd.conf" -C "$S/conf.d" --print-config \
	> "$TMP/p.conf" 2>/dev/null
out=$("$X" -c "$TMP/p.conf" -C "$TMP/none" -n 2>&1)
expect_eq "printed configuration checks (-n)" "0: $OK" "$?: $out"
"$X" -c "$TMP/p.conf" -C "$TMP/none" --print-config 2>/dev/null |
	awk '/^\[/ { sec = $0 } /^[a-z]/ { sub(/ ; from .*/, ""); print sec " " $0 }' > "$TMP/b"
expect_eq "printed twice, same keys" "$(cat "$TMP/a")" "$(cat "$TMP/b")"
expect_eq "a value with a leading space is quoted" '[core] label = " two words"' "$(grep label "$TMP/b")"
expect_eq "-conf is --print-config" "$(cat "$TMP/a")" "$(POLL_FREQUENCY=30s LABEL=' two words' \
	"$X" -c "$S/xtcpd.conf" -C "$S/conf.d" -conf 2>/dev/null |
	awk '/^\[/ { sec = $0 } /^[a-z]/ { sub(/ ; from .*/, ""); print sec " " $0 }')"

# -dest kafka without -topic: xtcp2's default topic.
if have_plugin sink_kafka; then
	out=$("$X" -c "$S/xtcpd.conf" -C "$S/conf.d" -n -dest kafka:127.0.0.1:9092 2>&1)
	expect_eq "-dest kafka without -topic" "0: $OK" "$?: $out"
	expect_eq "its topic" "[sink kafka] topic = xtcp" \
		"$(key '[sink kafka]' topic -dest kafka:127.0.0.1:9092)"
else
	skip_part "no sink_kafka.so (configure --enable-kafka=yes): the default topic not checked"
fi

# README's migration table is what the code prints.
expect_eq "README migration table = xtcpd --help-xtcp2" "$("$X" --help-xtcp2)" \
	"$(sed -n '/<!-- xtcp2-migration:begin -->/,/<!-- xtcp2-migration:end -->/p' "$S/README.md" |
	sed '1d;$d')"

# -healthcheck: 1 while the daemon is not ready, 0 once it is, 1 when it is gone; and
# while it runs, /metrics has the series xtcp2's Grafana dashboard (grafana/xtcp.json)
# queries: xtcp_counts{type="error"} and xtcp_histograms{quantile="0.99"}.
if have_plugin source_stall; then
	PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir "$TMP/conf.d" "$TMP/release"
	cat > "$TMP/xtcpd.conf" <<EOC
[core]
frequency = 500ms
prom_listen = 127.0.0.1:$PORT
netns = host
xtcp2_metrics = true
[source stall]
stalls = 600000
release = $TMP/release
[marshaller json]
[sink null]
marshaller = json
EOC
	hc() { "$X" -c "$TMP/xtcpd.conf" -C "$TMP/conf.d" -healthcheck 2>&1; echo "rc=$?"; }
	"$X" -c "$TMP/xtcpd.conf" -C "$TMP/conf.d" > "$TMP/out" 2> "$TMP/err" &
	PID=$!
	on_exit "kill -9 $PID 2>/dev/null"
	wait_for 600 eval '[ "$(hc)" != "xtcpd: healthcheck: http://127.0.0.1:$PORT/readyz: Connection refused
rc=1" ]'
	expect_eq "-healthcheck before the first cycle" "xtcpd: healthcheck: http://127.0.0.1:$PORT/readyz answered 503
rc=1" "$(hc)"
	touch "$TMP/release/1"
	wait_for 600 eval '[ "$(hc)" = rc=0 ]'
	expect_eq "-healthcheck once ready" "rc=0" "$(hc)"
	need_cmd curl:curl
	curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/metrics"
	expect_eq "xtcp_counts{type=\"error\"} (the dashboard's panels 1, 2)" \
'xtcp_counts{function="Poller",variable="poll",type="error"} 0
xtcp_counts{function="netNamespaceInstance",variable="open",type="error"} 0
xtcp_counts{function="Destination",variable="produce",type="error"} 0' \
		"$(grep '^xtcp_counts{.*type="error"' "$TMP/metrics")"
	n=$(sed -n 's/^xtcpd_poll_cycles_total //p' "$TMP/metrics")
	expect_eq "ticker, complete and the summary's count are the cycles ($n)" "$n $n $n" \
		"$(sed -n 's/^xtcp_counts{function="Poller",variable="ticker",type="count"} //p' "$TMP/metrics") $(sed -n 's/^xtcp_counts{function="Poller",variable="complete",type="count"} //p' "$TMP/metrics") $(sed -n 's/^xtcp_histograms_count{.*} //p' "$TMP/metrics")"
	expect_eq "xtcp_histograms{quantile=\"0.99\"} (panel 3)" 1 \
		"$(grep -c '^xtcp_histograms{function="Poller",variable="pollToDoneDuration",type="count",quantile="0.99"} [0-9.e-]*$' "$TMP/metrics")"
	expect_eq "xtcp_gauge: namespaces" 'xtcp_gauge{function="Poller",variable="namespaces",type="gauge"} 1' \
		"$(grep '^xtcp_gauge' "$TMP/metrics")"
	expect_eq "PROM_LISTEN names the endpoint" "rc=0" "$(PROM_LISTEN=127.0.0.1:$PORT "$X" \
		-c "$S/xtcpd.conf" -C "$S/conf.d" -healthcheck 2>&1; echo "rc=$?")"
	stop $PID
	expect_eq "-healthcheck with the daemon gone" "xtcpd: healthcheck: http://127.0.0.1:$PORT/readyz: Connection refused
rc=1" "$(hc)"
else
	skip_part "no source_stall.so (tests/lib/plugins): -healthcheck not checked"
fi
finish
