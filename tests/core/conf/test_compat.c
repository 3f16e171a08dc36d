/* test_compat — every xtcp2 spelling (flags, environment, XTCP_CONFIG_JSON) maps to exactly
 * the xtcpd arguments it stands for, with xtcp2's precedence and xtcpd's -o last. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/conf/compat.h"

#define MAXW 16
static char warned[MAXW][512];
static int n_warned;

/* The environment the rewrite sees: NAME=VALUE strings, NULL-terminated. */
static const char *const *fake_env;

static const char *env_of(const char *name)
{
	size_t n = strlen(name);

	for (const char *const *e = fake_env; e && *e; e++)
		if (!strncmp(*e, name, n) && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static void collect_warn(const char *line)
{
	assert_true(n_warned < MAXW);
	snprintf(warned[n_warned++], sizeof(warned[0]), "%s", line);
}

/* Rewrites `in` (NULL-terminated, without argv[0]) and compares with `want`. */
static void check(const char *const *in, const char *const *want)
{
	char *argv[64], **out, err[256] = "";
	int argc = 0, out_argc, n_want = 0;

	argv[argc++] = "xtcpd";
	for (; *in; in++)
		argv[argc++] = (char *)*in;
	argv[argc] = NULL;
	n_warned = 0;
	assert_int_equal(compat_rewrite(argc, argv, env_of, &out_argc, &out, err, sizeof(err),
					collect_warn), 0);
	assert_string_equal(err, "");
	while (want[n_want])
		n_want++;
	assert_string_equal(out[0], "xtcpd");
	for (int i = 0; i < n_want && i + 1 < out_argc; i++)
		assert_string_equal(out[i + 1], want[i]);
	assert_int_equal(out_argc, n_want + 1);
	assert_null(out[out_argc]);
	compat_free(out_argc, out);
}

static void check_fail(const char *const *in, const char *want_err)
{
	char *argv[64], **out = (char **)1, err[256] = "";
	int argc = 0, out_argc = -1;

	argv[argc++] = "xtcpd";
	for (; *in; in++)
		argv[argc++] = (char *)*in;
	argv[argc] = NULL;
	assert_int_equal(compat_rewrite(argc, argv, env_of, &out_argc, &out, err, sizeof(err),
					NULL), -EINVAL);
	assert_string_equal(err, want_err);
	assert_null(out);
	assert_int_equal(out_argc, 0);
}

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })
/* What any xtcp2 setting adds where the configuration does not say: xtcp2's poll jitter,
 * its metric families and its default deserializers. */
#define XDESER "info,vegas,cong,tos,tc,skmem,shut,dctcp,bbr,classid,cgroup,sockopt"
#define XJIT "-o", "core.poll_jitter_pct?=20", "-o", "core.xtcp2_metrics?=true"
#define DESER XJIT, "-o", "source.netlink.deserializers?=" XDESER
/* The same with -ioUring: the netlink keys go to the io_uring source, which replaces the
 * configured ones. */
#define UDESER XJIT, "-o", "source.io_uring.deserializers?=" XDESER, "--source", "io_uring"

/* One table row: an xtcp2 option, a value, and the native argument it becomes. */
struct row { const char *opt, *val, *native; };

static const struct row keys[] = {
	{ "frequency", "10s", "core.frequency=10s" },
	{ "timeout", "5s", "core.timeout=5s" },
	{ "maxLoops", "3", "core.max_loops=3" },
	{ "netlinkers", "8", "source.netlink.netlinkers=8" },
	{ "deserializers", "info,cong,meminfo", "source.netlink.deserializers=info,cong,meminfo" },
	{ "topic", "xtcp-prod", "sink.kafka.topic=xtcp-prod" },
	{ "promListen", ":9088", "core.prom_listen=:9088" },
	{ "label", "canary", "core.label=canary" },
	{ "tag", "a=b", "core.tag=a=b" },
	{ "location", "fra1", "core.location=fra1" },
	{ "hostname", "web-1", "core.hostname=web-1" },
	{ "envelopeFlushRows", "5000", "marshaller.*.flush_rows=5000" },
	{ "envelopeFlushBytes", "1048576", "marshaller.*.flush_bytes=1048576" },
	{ "pollJitterPct", "10", "core.poll_jitter_pct=10" },
	{ "reconcileFrequency", "6h", "core.reconcile_interval=6h" },
	{ "maxThreads", "500", "core.max_threads=500" },
	{ "kafkaCompression", "lz4", "sink.kafka.compression=lz4" },
	{ "dockerSocket", "/var/run/docker.sock", "core.docker_socket=/var/run/docker.sock" },
	{ "uplinkCount", "1", "core.uplink_count=1" },
	{ "uplinkInterfaces", "eth0,eth1", "core.uplink_interfaces=eth0,eth1" },
};

static void check_key(const char *const *in, const struct row *r)
{
	if (!strcmp(r->opt, "deserializers"))
		check(in, L(XJIT, "-o", r->native));
	else
		check(in, L("-o", r->native, DESER));
	assert_int_equal(n_warned, 0);
}

/* Each valued key in all four Go spellings: -x v, -x=v, --x v, --x=v. */
static void test_keys_all_spellings(void **state)
{
	char a[128], b[128];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(a, sizeof(a), "-%s", keys[i].opt);
		check_key(L(a, keys[i].val), &keys[i]);
		snprintf(a, sizeof(a), "--%s", keys[i].opt);
		check_key(L(a, keys[i].val), &keys[i]);
		snprintf(b, sizeof(b), "-%s=%s", keys[i].opt, keys[i].val);
		check_key(L(b), &keys[i]);
		snprintf(b, sizeof(b), "--%s=%s", keys[i].opt, keys[i].val);
		check_key(L(b), &keys[i]);
	}
}

static void test_dest_marshal(void **state)
{
	check(L("-dest", "kafka:broker:9092", "-marshal", "protobufList"),
	      L("--dest", "kafka:broker:9092", "--marshal", "protobufList",
		"-o", "sink.kafka.topic=xtcp", DESER));
	/* xtcpd's own --dest with xtcp2's -marshal */
	check(L("--dest=udp:127.0.0.1:13000", "-marshal=protoJson"),
	      L("--marshal", "protoJson", DESER, "--dest=udp:127.0.0.1:13000"));
	/* xtcp2's -dest with xtcpd's own --marshal: no default marshaller added */
	check(L("-dest", "file:/var/tmp/x.json", "--marshal", "json"),
	      L("--dest", "file:/var/tmp/x.json", DESER, "--marshal", "json"));
	check(L("-dest", "stdout", "-marshal", "jsonl"),
	      L("--dest", "stdout", "--marshal", "jsonl", DESER));
	/* xtcp2's default marshaller goes with its -dest */
	check(L("-dest=null"), L("--dest", "null", "--marshal", "protobufList", DESER));
	/* -dest after -marshal works too; xtcpd's own options come last */
	check(L("-marshal", "json", "-n", "-dest", "stdout"),
	      L("--dest", "stdout", "--marshal", "json", DESER, "-n"));
	/* xtcpd's own spellings come out unchanged, and add nothing */
	check(L("--dest", "null", "--marshal", "protoJson"),
	      L("--dest", "null", "--marshal", "protoJson"));
	assert_int_equal(n_warned, 0);
}

/* -topic and -produceTimeout go where the destination takes them (conf's --dest table);
 * xtcp2's default topic is xtcp. */
static void test_dest_params(void **state)
{
	check(L("-dest", "nats:127.0.0.1:4222", "-topic", "xtcp"),
	      L("--dest", "nats:127.0.0.1:4222", "--marshal", "protobufList",
		"-o", "sink.nats.subject=xtcp", DESER));
	check(L("-topic=t1", "--dest=valkey:cache:6379"),
	      L("-o", "sink.valkey.channel=t1", DESER, "--dest=valkey:cache:6379"));
	check(L("-dest", "kafka:b:9092", "--topic", "xtcp-prod"),
	      L("--dest", "kafka:b:9092", "--marshal", "protobufList",
		"-o", "sink.kafka.topic=xtcp-prod", DESER));
	check(L("-dest", "kafka:b:9092"),
	      L("--dest", "kafka:b:9092", "--marshal", "protobufList", "-o", "sink.kafka.topic=xtcp",
		DESER));
	check(L("-dest", "http://127.0.0.1:8123/?query=INSERT", "-produceTimeout", "2s"),
	      L("--dest", "http://127.0.0.1:8123/?query=INSERT", "--marshal", "protobufList",
		"-o", "sink.http.timeout=2s", DESER));
	check(L("-produceTimeout=1.5s", "-dest", "https://ingest.example/x"),
	      L("--dest", "https://ingest.example/x", "--marshal", "protobufList",
		"-o", "sink.http.timeout=1500ms", DESER));
	check(L("-produceTimeout=1m30s", "-dest", "https://ingest.example/x"),
	      L("--dest", "https://ingest.example/x", "--marshal", "protobufList",
		"-o", "sink.http.timeout=1m30s", DESER));
	assert_int_equal(n_warned, 0);
	/* 0 is xtcp2's "use the default" */
	check(L("-dest", "http://h/", "-produceTimeout", "0s"),
	      L("--dest", "http://h/", "--marshal", "protobufList", DESER));
	check(L("-dest", "http://h/", "-produceTimeout", "0"),
	      L("--dest", "http://h/", "--marshal", "protobufList", DESER));
	assert_int_equal(n_warned, 0);
	/* a destination that has no such key: dropped with a warning, the rest stays */
	check(L("-topic", "x", "-dest", "udp:127.0.0.1:9", "-n"),
	      L("--dest", "udp:127.0.0.1:9", "--marshal", "protobufList", DESER, "-n"));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "ignoring xtcp2 option -topic: the destination does not use it");
	check(L("-dest", "kafka:b:9092", "-produceTimeout", "5s", "-topic", "t"),
	      L("--dest", "kafka:b:9092", "--marshal", "protobufList", "-o", "sink.kafka.topic=t",
		DESER));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "ignoring xtcp2 option -produceTimeout: the destination "
			    "does not use it");
	check(L("-produceTimeout", "5s", "-n"), L(DESER, "-n"));
	assert_string_equal(warned[0], "ignoring xtcp2 option -produceTimeout: it applies to "
			    "-dest http:// or https:// only");
	check(L("-produceTimeout", "5s", "-marshal", "json", "-topic", "t", "-label", "l"),
	      L("-o", "core.label=l", "-o", "sink.kafka.topic=t", DESER));
	assert_int_equal(n_warned, 2);
}

/* xtcp2's -marshal without -dest kept its default destination: xtcpd keeps the
 * configured pipeline. */
static void test_marshal_without_dest(void **state)
{
	check(L("-marshal", "json", "-envelopeFlushRows", "50", "-n"),
	      L("-o", "marshaller.*.flush_rows=50", DESER, "-n"));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "ignoring xtcp2 option -marshal without -dest: the "
			    "configured marshallers and sinks are used");
	check(L("-n", "-marshal=jsonl"), L(DESER, "-n"));
	assert_int_equal(n_warned, 1);
	/* xtcpd's own --marshal is left for the daemon to refuse without --dest */
	check(L("--marshal", "json"), L("--marshal", "json"));
	assert_int_equal(n_warned, 0);
}

/* xtcp2's new destinations and formats pass through; -columns follows -marshal csv/tsv
 * and is ignored, with a warning, for any other format (as xtcp2 ignores it). */
static void test_text_formats_columns(void **state)
{
	check(L("-dest", "tcp:127.0.0.1:9000", "-marshal", "csv", "-columns", "hostname,tcpInfoRtt"),
	      L("--dest", "tcp:127.0.0.1:9000", "--marshal", "csv",
		"-o", "marshaller.csv.columns=hostname,tcpInfoRtt", DESER));
	assert_int_equal(n_warned, 0);
	check(L("-columns=netns", "-dest=unix:/run/x.sock", "-marshal=tsv"),
	      L("--dest", "unix:/run/x.sock", "--marshal", "tsv", "-o", "marshaller.tsv.columns=netns",
		DESER));
	check(L("-dest", "unixgram:/run/y.sock", "-marshal", "protoText", "-columns", "netns"),
	      L("--dest", "unixgram:/run/y.sock", "--marshal", "protoText", DESER));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "ignoring xtcp2 option -columns: it picks the columns of "
			    "-dest with -marshal csv or tsv");
	check(L("-dest", "stderr", "-columns", "netns"),
	      L("--dest", "stderr", "--marshal", "protobufList", DESER));
	assert_int_equal(n_warned, 1);
	check(L("-marshal", "csv", "-columns", "netns", "-n"), L(DESER, "-n"));
	assert_int_equal(n_warned, 2);
}

/* xtcp2's envelope caps apply to whatever marshaller is in use: every one. */
static void test_flush_every_marshaller(void **state)
{
	check(L("-envelopeFlushRows", "100", "-marshal", "protoJson", "-envelopeFlushBytes=65536",
		"-dest", "null"),
	      L("-o", "marshaller.*.flush_rows=100", "-o", "marshaller.*.flush_bytes=65536",
		"--dest", "null", "--marshal", "protoJson", DESER));
	/* 0 = "use the daemon default" in xtcp2: nothing to set */
	check(L("-envelopeFlushRows", "0", "-envelopeFlushBytes=0", "-n"), L(DESER, "-n"));
}

static void test_durations(void **state)
{
	/* xtcpd's own grammar passes through; the rest of Go's is converted */
	check(L("-frequency", "1m30s"), L("-o", "core.frequency=1m30s", DESER));
	check(L("-frequency=1.5s"), L("-o", "core.frequency=1500ms", DESER));
	check(L("-timeout", "1h0m0s"), L("-o", "core.timeout=1h0m0s", DESER));
	check(L("-timeout", "30s1m"), L("-o", "core.timeout=90000ms", DESER));
	check(L("-timeout", "250ms"), L("-o", "core.timeout=250ms", DESER));
	check(L("-timeout", "2000000us"), L("-o", "core.timeout=2000ms", DESER));
	check(L("-frequency", "2m"), L("-o", "core.frequency=2m", DESER));
	check(L("-frequency", "0"), L("-o", "core.frequency=0", DESER));
	check_fail(L("-frequency", "10 s"), "xtcp2 option -frequency: \"10 s\" is not a duration "
		   "of whole milliseconds (like 10s, 1m30s, 250ms)");
	check_fail(L("--timeout=1500us"), "xtcp2 option --timeout: \"1500us\" is not a duration "
		   "of whole milliseconds (like 10s, 1m30s, 250ms)");
	check_fail(L("-timeout", "-5s"), "xtcp2 option -timeout: \"-5s\" is not a duration "
		   "of whole milliseconds (like 10s, 1m30s, 250ms)");
}

/* -ioUring: the io_uring source instead of the configured ones; the netlink keys xtcp2's
 * flags set are its; the batch sizes are its keys (-ioUring only, else warned). */
static void test_bool_io_uring(void **state)
{
	(void)state;
	check(L("-ioUring"), L(UDESER));
	check(L("--ioUring"), L(UDESER));
	check(L("-ioUring=false"), L(DESER));
	check(L("-ioUring=T"), L(UDESER));
	check(L("--ioUring=0"), L(DESER));
	/* a Go bool flag never takes the next argument */
	check(L("-ioUring", "-netlinkers", "2"), L("-o", "source.io_uring.netlinkers=2", UDESER));
	check(L("-deserializers", "info", "-ioUring", "-ioUringRecvBatch", "256", "-ioUringCqeBatch=512"),
	      L(XJIT, "-o", "source.io_uring.deserializers=info", "--source", "io_uring",
		"-o", "source.io_uring.recv_batch=256", "-o", "source.io_uring.cqe_batch=512"));
	check(L("-ioUringRecvBatch=8", "--ioUringCqeBatch", "16", "-ioUring", "-n"),
	      L(UDESER, "-o", "source.io_uring.recv_batch=8", "-o", "source.io_uring.cqe_batch=16", "-n"));
	assert_int_equal(n_warned, 0);
	/* without -ioUring, xtcp2 ignores the batch sizes: so do we, saying so */
	check(L("-ioUringRecvBatch", "256", "-n"), L(DESER, "-n"));
	assert_int_equal(n_warned, 1);
	check_fail(L("-ioUring=maybe"), "xtcp2 option -ioUring: \"maybe\" is not true or false");
}

static void test_debug(void **state)
{
	/* -d alone is xtcpd's own spelling too: it adds none of xtcp2's defaults */
	check(L("-d"), L("-o", "core.log_level=debug"));
	check(L("-d", "111"), L("-o", "core.log_level=debug"));
	check(L("-d=0"), L("-o", "core.log_level=info"));
	check(L("--d", "0", "-n"), L("-o", "core.log_level=info", "-n"));
	check(L("-d", "-frequency", "5s"),
	      L("-o", "core.log_level=debug", "-o", "core.frequency=5s", DESER));
	check_fail(L("-d=high"), "xtcp2 option -d: \"high\" is not a debug level");
}

/* Flags that are a mode of the binary: -v, -conf (print the configuration), -healthcheck. */
static void test_modes(void **state)
{
	check(L("-v"), L("--version"));
	check(L("-v=false", "-n"), L("-n"));
	check(L("-conf"), L("--print-config"));
	check(L("-conf=false"), NONE);
	check(L("-healthcheck", "-promListen", "127.0.0.1:9"),
	      L("-o", "core.prom_listen=127.0.0.1:9", DESER, "--healthcheck"));
	check(L("--healthcheck"), L("--healthcheck"));
	assert_int_equal(n_warned, 0);
}

/* Flags with an xtcpd equivalent that is not a plain key. */
static void test_mapped_equivalents(void **state)
{
	check(L("-capturePath", "/tmp/c", "-writeFiles=2"), L(DESER, "--capture", "/tmp/c"));
	check(L("-writeFiles", "1"), L(DESER, "--capture", "./"));
	assert_int_equal(n_warned, 0);
	check(L("-capturePath", "/tmp/c", "-writeFiles", "0"), L(DESER));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "ignoring xtcp2 option -capturePath: -writeFiles is 0");
	/* the receive buffer: packetSize (0 = the page) x packetSizeMply (8) */
	check(L("-packetSize", "0", "-packetSizeMply", "16"),
	      L(DESER, "-o", "source.netlink.recv_buffer=65536"));
	check(L("-packetSize", "8192"), L(DESER, "-o", "source.netlink.recv_buffer=65536"));
	check_fail(L("-packetSize", "99999999999"), "xtcp2 option -packetSize: \"99999999999\" is too large");
	/* -maxThreads caps Go's threads (default 2000): capped at xtcpd's maximum */
	check(L("--maxThreads=2000"), L("-o", "core.max_threads=1024", DESER));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "xtcp2 option --maxThreads: 2000 threads capped at xtcpd's "
			    "maximum, core.max_threads=1024");
	check(L("-maxThreads", "0"), L(DESER));
	check(L("-reconcileFrequency", "0s"), L(DESER));
	check(L("-kafkaCompression="), L("-o", "sink.kafka.compression=zstd", DESER));
	check(L("-kafkaCompression", "auto", "-dest", "udp:h:1"),
	      L("--dest", "udp:h:1", "--marshal", "protobufList", DESER));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "ignoring xtcp2 option -kafkaCompression: the destination "
			    "is not kafka");
	/* xtcp2's deserializer words: default is every attribute but meminfo */
	check(L("-deserializers", "default"), L(XJIT, "-o", "source.netlink.deserializers=" XDESER));
	check(L("-deserializers", "all"), L(XJIT, "-o", "source.netlink.deserializers=all"));
}

static void check_env_fail(const char *const *env, const char *want);

/* The enrichment switches (Go bools: -x or -x=bool) and xtcp2's "0 = default" count. */
static void test_enrichment(void **state)
{
	check(L("-resolveContainerId", "-enrichContainer=true", "-enrichNic"),
	      L("-o", "core.enrich_container=true", "-o", "core.enrich_docker=true",
		"-o", "core.enrich_nic=true", DESER));
	check(L("-enrichNic=false", "-uplinkCount", "0"), L("-o", "core.enrich_nic=false", DESER));
	assert_int_equal(n_warned, 0);
	check(L("-enrichLldp", "-lldpdSocket", "/run/l.sock"),
	      L("-o", "core.enrich_lldp=true", "-o", "core.lldpd_socket=/run/l.sock", DESER));
	assert_int_equal(n_warned, 0);
	/* liblldpctl's API is the same for every lldpd: the hint has nothing to say */
	check(L("-enrichLldp=false", "-lldpdVersionHint", "1.0"), L("-o", "core.enrich_lldp=false", DESER));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "ignoring xtcp2 option -lldpdVersionHint: xtcpd asks lldpd "
			    "through liblldpctl, whose API is the same for every lldpd version");
	fake_env = L("CONTAINER_ID_RESOLVE=true", "ENRICH_CONTAINER=1", "DOCKER_SOCKET=/d.sock",
		     "ENRICH_NIC=true", "UPLINK_COUNT=2", "UPLINK_INTERFACES=bond0",
		     "ENRICH_LLDP=true", "LLDPD_SOCKET=/l.sock");
	check(NONE, L("-o", "core.enrich_container=true", "-o", "core.enrich_docker=true",
		      "-o", "core.docker_socket=/d.sock", "-o", "core.enrich_lldp=true",
		      "-o", "core.lldpd_socket=/l.sock", "-o", "core.enrich_nic=true",
		      "-o", "core.uplink_count=2", "-o", "core.uplink_interfaces=bond0", DESER));
	/* XTCP_CONFIG_JSON: uplink_interfaces is a repeated string */
	fake_env = L("XTCP_CONFIG_JSON={\"resolveContainerId\":true,\"enrichNicEnable\":true,"
		     "\"uplinkInterfaces\":[\"eth0\",\"eth1\"],\"dockerSocketPath\":\"/run/d.sock\","
		     "\"enrichLldpEnable\":true,\"lldpdSocketPath\":\"/run/l.sock\"}");
	check(NONE, L("-o", "core.enrich_container=true", "-o", "core.enrich_nic=true",
		      "-o", "core.uplink_interfaces=eth0,eth1", "-o", "core.docker_socket=/run/d.sock",
		      "-o", "core.enrich_lldp=true", "-o", "core.lldpd_socket=/run/l.sock", DESER));
	assert_int_equal(n_warned, 0);
	fake_env = NULL;
	check_env_fail(L("XTCP_CONFIG_JSON={\"uplinkInterfaces\":[\"eth0\",1]}"),
		       "XTCP_CONFIG_JSON field \"uplinkInterfaces\": [ \"eth0\", 1 ] is not a list of "
		       "interface names");
}

static void test_ignored_with_warning(void **state)
{
	check(L("-goMaxProcs", "4", "-frequency", "10s"), L("-o", "core.frequency=10s", DESER));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "ignoring xtcp2 option -goMaxProcs: use -o core.cpus=LIST "
			    "to confine xtcpd's threads, -o core.max_threads=N to cap them");

	/* settings xtcpd drops bring none of xtcp2's defaults */
	check(L("-enrichAsn", "-nltimeout", "1000"), NONE);
	assert_int_equal(n_warned, 2);
	assert_string_equal(warned[0], "ignoring xtcp2 option -enrichAsn: xtcpd has no equivalent");
	assert_string_equal(warned[1], "ignoring xtcp2 option -nltimeout: use -o core.timeout=DURATION");

	/* a secret's value is consumed and never echoed in the warning */
	check(L("-listenerRawToken", "s3cr3t"), NONE);
	assert_int_equal(n_warned, 1);
	assert_null(strstr(warned[0], "s3cr3t"));
	assert_string_equal(warned[0], "ignoring xtcp2 option -listenerRawToken: xtcpd has no equivalent");
}

/* Native options, their values and everything after "--" are left alone, after xtcp2's. */
static void test_native_untouched(void **state)
{
	check(L("-c", "/etc/xtcpd/xtcpd.conf", "-C", "/etc/xtcpd/conf.d", "-o", "core.nice=5",
		"-n", "--once", "--help-plugin", "json", "--capture", "/tmp/cap", "--version"),
	      L("-c", "/etc/xtcpd/xtcpd.conf", "-C", "/etc/xtcpd/conf.d", "-o", "core.nice=5",
		"-n", "--once", "--help-plugin", "json", "--capture", "/tmp/cap", "--version"));
	/* the value of a native option is not read as an xtcp2 flag */
	check(L("-o", "-frequency", "-c", "-d"), L("-o", "-frequency", "-c", "-d"));
	check(L("--set", "-timeout", "--config", "-d", "--confdir", "-tag"),
	      L("--set", "-timeout", "--config", "-d", "--confdir", "-tag"));
	check(L("-frequency", "1s", "--", "-frequency", "2s"),
	      L("-o", "core.frequency=1s", DESER, "--", "-frequency", "2s"));
	/* xtcpd's -o comes after xtcp2's flag: the last word */
	check(L("-o", "core.frequency=3s", "-frequency", "1s"),
	      L("-o", "core.frequency=1s", DESER, "-o", "core.frequency=3s"));
	/* unknown spellings are for xtcpd's own parser to refuse */
	check(L("-frequencyy", "1s", "-Frequency=2s", "-", "x"),
	      L("-frequencyy", "1s", "-Frequency=2s", "-", "x"));
}

/* A value that looks like a flag is still the value, as in Go. */
static void test_value_starting_with_dash(void **state)
{
	check(L("-label", "-x", "-tag=-y"), L("-o", "core.label=-x", "-o", "core.tag=-y", DESER));
}

static void test_errors(void **state)
{
	check_fail(L("-frequency"), "xtcp2 option -frequency needs a value");
	check_fail(L("-n", "--topic"), "xtcp2 option --topic needs a value");
	check_fail(L("-produceTimeout", "soon"), "xtcp2 option -produceTimeout: \"soon\" is not "
		   "a duration of whole milliseconds (like 10s, 1m30s, 250ms)");
	check_fail(L("-goMaxProcs"), "xtcp2 option -goMaxProcs needs a value");
	check_fail(L("-netlinkers", "four"), "xtcp2 option -netlinkers: \"four\" is not a whole number");
	check_fail(L("-maxLoops="), "xtcp2 option -maxLoops: \"\" is not a whole number");
	check_fail(L("-envelopeFlushRows", "1e4"),
		   "xtcp2 option -envelopeFlushRows: \"1e4\" is not a whole number");
}

/* A full xtcp2 unit file's ExecStart. */
static void test_xtcp2_unit_line(void **state)
{
	check(L("-frequency", "10s", "-timeout", "5s", "-netlinkers", "4", "-dest",
		"kafka:redpanda:9092", "-topic", "xtcp", "-marshal", "protobufList",
		"-promListen", ":9088", "-goMaxProcs", "4", "-envelopeFlushRows", "10000"),
	      L("-o", "core.frequency=10s", "-o", "core.timeout=5s", "-o",
		"source.netlink.netlinkers=4", "-o", "core.prom_listen=:9088",
		"-o", "marshaller.*.flush_rows=10000", "--dest", "kafka:redpanda:9092",
		"--marshal", "protobufList", "-o", "sink.kafka.topic=xtcp", DESER));
	assert_int_equal(n_warned, 1);
}

/* One environment variable: the arguments it becomes. */
struct env_row { const char *env; const char *const *want; };

/* Each of xtcp2's environment variables with an xtcpd equivalent. */
static void test_env_each(void **state)
{
	const struct env_row rows[] = {
		{ "POLL_FREQUENCY=30s", L("-o", "core.frequency=30s", DESER) },
		{ "POLL_TIMEOUT=1.5s", L("-o", "core.timeout=1500ms", DESER) },
		{ "MAX_LOOPS=5", L("-o", "core.max_loops=5", DESER) },
		{ "POLL_JITTER_PCT=0", L("-o", "core.poll_jitter_pct=0", DESER) },
		{ "NETLINKERS=2", L("-o", "source.netlink.netlinkers=2", DESER) },
		{ "XTCP_HOSTNAME=node-7", L("-o", "core.hostname=node-7", DESER) },
		{ "LABEL=l1", L("-o", "core.label=l1", DESER) },
		{ "TAG=t1", L("-o", "core.tag=t1", DESER) },
		{ "LOCATION=fra1", L("-o", "core.location=fra1", DESER) },
		{ "PROM_LISTEN=:9089", L("-o", "core.prom_listen=:9089", DESER) },
		{ "RECONCILE_FREQUENCY=1m", L("-o", "core.reconcile_interval=1m", DESER) },
		{ "ENVELOPE_FLUSH_ROWS=500", L("-o", "marshaller.*.flush_rows=500", DESER) },
		{ "ENVELOPE_FLUSH_BYTES=65536", L("-o", "marshaller.*.flush_bytes=65536", DESER) },
		{ "DESERIALIZERS=info,bbr", L(XJIT, "-o", "source.netlink.deserializers=info,bbr") },
		{ "TOPIC=t", L("-o", "sink.kafka.topic=t", DESER) },
		{ "KAFKA_COMPRESSION=gzip", L("-o", "sink.kafka.compression=gzip", DESER) },
		{ "DEST=null", L("--dest", "null", "--marshal", "protobufList", DESER) },
		{ "DEBUG_LEVEL=0", L("-o", "core.log_level=info") },
		{ "PACKETSIZEMPLY=4", L(DESER, "-o", "source.netlink.recv_buffer=16384") },
		{ "WRITEFILES=1", L(DESER, "--capture", "./") },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fake_env = L(rows[i].env);
		check(NONE, rows[i].want);
		assert_int_equal(n_warned, 0);
	}
	fake_env = L("DEST=kafka:k:9092", "MARSHAL=protoJson", "TOPIC=x2");
	check(NONE, L("--dest", "kafka:k:9092", "--marshal", "protoJson", "-o", "sink.kafka.topic=x2",
		      DESER));
	fake_env = NULL;
}

static void test_env_ignored(void **state)
{
	fake_env = L("GRPC_LISTEN_NETWORK=tcp", "NETLINKERS_DONE_CHAN_SIZE=100", "S3_SECRET_KEY=hunter2",
		     "HOSTNAME=container-id", "GOMAXPROCS=4");
	check(NONE, NONE);
	assert_int_equal(n_warned, 4);
	assert_string_equal(warned[3], "ignoring environment GOMAXPROCS (xtcp2 -goMaxProcs): use "
			    "-o core.cpus=LIST to confine xtcpd's threads, -o core.max_threads=N to cap them");
	assert_string_equal(warned[0], "ignoring environment NETLINKERS_DONE_CHAN_SIZE: xtcpd has "
			    "no equivalent");
	assert_string_equal(warned[1], "ignoring environment S3_SECRET_KEY (xtcp2 -s3SecretKey): "
			    "xtcpd has no equivalent");
	assert_string_equal(warned[2], "ignoring environment GRPC_LISTEN_NETWORK (xtcp2 "
			    "-grpcListenNetwork): xtcpd has no equivalent");
	fake_env = NULL;
}

static void check_env_fail(const char *const *env, const char *want)
{
	fake_env = env;
	check_fail(NONE, want);
	fake_env = NULL;
}

static void test_env_errors(void **state)
{
	check_env_fail(L("POLL_FREQUENCY=abc"), "environment POLL_FREQUENCY: \"abc\" is not a "
		       "duration of whole milliseconds (like 10s, 1m30s, 250ms)");
	check_env_fail(L("NETLINKERS=-1"), "environment NETLINKERS: \"-1\" is not a whole number");
	check_env_fail(L("DEBUG_LEVEL=loud"), "environment DEBUG_LEVEL: \"loud\" is not a debug level");
	check_env_fail(L("ENVELOPE_FLUSH_ROWS="), "environment ENVELOPE_FLUSH_ROWS: \"\" is not a "
		       "whole number");
}

/* xtcp2's precedence: flags < environment < XTCP_CONFIG_JSON; xtcpd's own -o after all. */
static void test_precedence(void **state)
{
	fake_env = L("POLL_FREQUENCY=20s", "XTCP_CONFIG_JSON={\"pollFrequency\":\"30s\"}");
	check(L("-frequency", "10s", "-o", "core.frequency=7s"),
	      L("-o", "core.frequency=10s", "-o", "core.frequency=20s", "-o", "core.frequency=30s",
		DESER, "-o", "core.frequency=7s"));
	fake_env = L("DEST=null", "XTCP_CONFIG_JSON={\"dest\":\"stdout\"}");
	check(L("-dest", "udp:h:1"), L("--dest", "stdout", "--marshal", "protobufList", DESER));
	fake_env = L("DEST=null");
	check(L("-dest", "udp:h:1", "--dest", "stderr"),
	      L("--dest", "null", "--marshal", "protobufList", DESER, "--dest", "stderr"));
	fake_env = NULL;
}

#ifdef HAVE_JSONC
/* A whole XtcpConfig as xtcp2's soft restart writes it (protojson, lowerCamelCase). */
static void test_json_full(void **state)
{
	fake_env = L("XTCP_CONFIG_JSON={\"nlTimeoutMilliseconds\":\"1000\",\"pollFrequency\":\"10s\","
		     "\"pollTimeout\":\"5s\",\"pollJitterPct\":20,\"netlinkers\":4,"
		     "\"netlinkersDoneChanSize\":100,\"nlmsgSeq\":666,\"packetSizeMply\":8,"
		     "\"modulus\":\"1\",\"enabledDeserializers\":{\"enabled\":{\"info\":true,"
		     "\"cong\":true,\"meminfo\":false}},\"capturePath\":\"./\",\"destWriteFiles\":10,"
		     "\"debugLevel\":111,\"dest\":\"kafka:redpanda-0:9092\",\"marshalTo\":\"protobufList\","
		     "\"topic\":\"xtcp\",\"kafkaProduceTimeout\":\"0s\",\"grpcPort\":8889,"
		     "\"reconcileFrequency\":\"21600s\",\"label\":\"l1\",\"daemonVersion\":\"x\"}");
	check(NONE, L("-o", "core.frequency=10s", "-o", "core.timeout=5s",
		      "-o", "core.poll_jitter_pct=20", "-o", "source.netlink.netlinkers=4",
		      "-o", "core.log_level=debug", "-o", "sink.grpc.port?=8889",
		      "-o", "core.reconcile_interval=21600s",
		      "-o", "core.label=l1", "--dest", "kafka:redpanda-0:9092",
		      "--marshal", "protobufList", "-o", "sink.kafka.topic=xtcp", XJIT,
		      "-o", "source.netlink.deserializers=info,cong",
		      "-o", "source.netlink.recv_buffer=32768"));
	assert_int_equal(n_warned, 7);
	assert_string_equal(warned[0], "ignoring XTCP_CONFIG_JSON field \"nlTimeoutMilliseconds\": "
			    "use -o core.timeout=DURATION");
	assert_string_equal(warned[1], "ignoring XTCP_CONFIG_JSON field \"netlinkersDoneChanSize\": "
			    "xtcpd has no equivalent");
	assert_string_equal(warned[5], "ignoring XTCP_CONFIG_JSON field \"daemonVersion\": xtcpd "
			    "has no equivalent");
	assert_string_equal(warned[6], "ignoring xtcp2 option -capturePath: -writeFiles is 0");
	fake_env = NULL;
}

static void test_json_forms(void **state)
{
	/* proto field names work as well as protojson's */
	fake_env = L("XTCP_CONFIG_JSON={\"poll_frequency\":\"1.5s\",\"max_loops\":3}");
	check(NONE, L("-o", "core.frequency=1500ms", "-o", "core.max_loops=3", DESER));
	/* null is the default; an empty variable is no configuration */
	fake_env = L("XTCP_CONFIG_JSON={\"label\":null}");
	check(NONE, NONE);
	fake_env = L("XTCP_CONFIG_JSON=");
	check(NONE, NONE);
	fake_env = L("XTCP_CONFIG_JSON={\"prometheusListener\":{\"address\":\":9999\",\"network\":1}}");
	check(NONE, L("-o", "core.prom_listen=:9999", DESER));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "ignoring XTCP_CONFIG_JSON field \"prometheusListener\".network: "
			    "xtcpd has no equivalent");
	fake_env = L("XTCP_CONFIG_JSON={\"foo\":1,\"ioUring\":true}");
	check(NONE, L(UDESER));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "ignoring XTCP_CONFIG_JSON field \"foo\": not a field of "
			    "xtcp2's XtcpConfig");
	fake_env = NULL;
}

static void test_json_errors(void **state)
{
	check_env_fail(L("XTCP_CONFIG_JSON={\"pollFrequency\":10}"), "XTCP_CONFIG_JSON field "
		       "\"pollFrequency\": 10 is not a duration string (like \"10s\")");
	check_env_fail(L("XTCP_CONFIG_JSON={\"netlinkers\":-1}"), "XTCP_CONFIG_JSON field "
		       "\"netlinkers\": -1 is not a whole number");
	check_env_fail(L("XTCP_CONFIG_JSON={\"netlinkers\":\"x\"}"), "XTCP_CONFIG_JSON field "
		       "\"netlinkers\": \"x\" is not a whole number");
	check_env_fail(L("XTCP_CONFIG_JSON={\"ioUring\":\"yes\"}"), "XTCP_CONFIG_JSON field "
		       "\"ioUring\": \"yes\" is not true or false");
	check_env_fail(L("XTCP_CONFIG_JSON={\"label\":7}"), "XTCP_CONFIG_JSON field \"label\": 7 "
		       "is not a string");
	check_env_fail(L("XTCP_CONFIG_JSON={\"enabledDeserializers\":{\"enabled\":{\"bbr\":1}}}"),
		       "XTCP_CONFIG_JSON field \"enabledDeserializers\": \"bbr\": 1 is not true or false");
	check_env_fail(L("XTCP_CONFIG_JSON=[1]"), "XTCP_CONFIG_JSON: expected a JSON object "
		       "(xtcp2's XtcpConfig in protojson)");
	check_env_fail(L("XTCP_CONFIG_JSON={\"a\":"), "XTCP_CONFIG_JSON: not valid JSON: it ends "
		       "too early (at byte 5)");
	check_env_fail(L("XTCP_CONFIG_JSON={} x"), "XTCP_CONFIG_JSON: not valid JSON: text after "
		       "the value (at byte 3)");
}
#endif

/* The migration table names every flag of the table exactly once, in Markdown. */
static void test_migration_table(void **state)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	compat_print_migration(f);
	fclose(f);
	assert_non_null(strstr(buf, "| xtcp2 flag | environment | XTCP_CONFIG_JSON field | xtcpd |\n"));
	assert_non_null(strstr(buf, "| `-frequency` | `POLL_FREQUENCY` | `pollFrequency` | "
			       "`core.frequency` |\n"));
	assert_non_null(strstr(buf, "| `-hostname` | `XTCP_HOSTNAME` | `hostname` | `core.hostname` |\n"));
	assert_non_null(strstr(buf, "| `-grpcPort` | `GRPC_PORT` | `grpcPort` | `sink.grpc.port` "
			       "when that sink is configured (off by default) |\n"));
	assert_non_null(strstr(buf, "| | `NETLINKERS_DONE_CHAN_SIZE` | `netlinkersDoneChanSize`, "
			       "`daemonVersion`, `listenerAuth`, `grpcListener` | warned: no equivalent |\n"));
	assert_null(strstr(strstr(buf, "`-frequency`") + 1, "`-frequency`"));
	free(buf);
}

static void test_free_null(void **state)
{
	compat_free(0, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_all_spellings),
		cmocka_unit_test(test_dest_marshal),
		cmocka_unit_test(test_text_formats_columns),
		cmocka_unit_test(test_dest_params),
		cmocka_unit_test(test_flush_every_marshaller),
		cmocka_unit_test(test_marshal_without_dest),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_bool_io_uring),
		cmocka_unit_test(test_debug),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_mapped_equivalents),
		cmocka_unit_test(test_enrichment),
		cmocka_unit_test(test_ignored_with_warning),
		cmocka_unit_test(test_native_untouched),
		cmocka_unit_test(test_value_starting_with_dash),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_xtcp2_unit_line),
		cmocka_unit_test(test_env_each),
		cmocka_unit_test(test_env_ignored),
		cmocka_unit_test(test_env_errors),
		cmocka_unit_test(test_precedence),
#ifdef HAVE_JSONC
		cmocka_unit_test(test_json_full),
		cmocka_unit_test(test_json_forms),
		cmocka_unit_test(test_json_errors),
#endif
		cmocka_unit_test(test_migration_table),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
