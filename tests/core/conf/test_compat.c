/* test_compat — every xtcp2 spelling maps to exactly the xtcpd arguments it stands for. */
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

#define MAXW 8
static char warned[MAXW][256];
static int n_warned;

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
	assert_int_equal(compat_rewrite(argc, argv, &out_argc, &out, err, sizeof(err),
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
	assert_int_equal(compat_rewrite(argc, argv, &out_argc, &out, err, sizeof(err), NULL),
			 -EINVAL);
	assert_string_equal(err, want_err);
	assert_null(out);
	assert_int_equal(out_argc, 0);
}

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })

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
	{ "ioUringRecvBatch", "256", "core.io_uring_recv_batch=256" },
	{ "ioUringCqeBatch", "512", "core.io_uring_cqe_batch=512" },
	{ "envelopeFlushRows", "5000", "marshaller.protobufList.flush_rows=5000" },
	{ "envelopeFlushBytes", "1048576", "marshaller.protobufList.flush_bytes=1048576" },
};

/* Each valued key in all four Go spellings: -x v, -x=v, --x v, --x=v. */
static void test_keys_all_spellings(void **state)
{
	char a[128], b[128];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(a, sizeof(a), "-%s", keys[i].opt);
		check(L(a, keys[i].val), L("-o", keys[i].native));
		snprintf(a, sizeof(a), "--%s", keys[i].opt);
		check(L(a, keys[i].val), L("-o", keys[i].native));
		snprintf(b, sizeof(b), "-%s=%s", keys[i].opt, keys[i].val);
		check(L(b), L("-o", keys[i].native));
		snprintf(b, sizeof(b), "--%s=%s", keys[i].opt, keys[i].val);
		check(L(b), L("-o", keys[i].native));
	}
}

static void test_dest_marshal(void **state)
{
	check(L("-dest", "kafka:broker:9092", "-marshal", "protobufList"),
	      L("--dest", "kafka:broker:9092", "--marshal", "protobufList"));
	check(L("--dest=udp:127.0.0.1:13000", "-marshal=protoJson"),
	      L("--dest", "udp:127.0.0.1:13000", "--marshal", "protoJson"));
	check(L("-dest", "file:/var/tmp/x.json", "--marshal", "json"),
	      L("--dest", "file:/var/tmp/x.json", "--marshal", "json"));
	check(L("-dest", "stdout", "-marshal", "jsonl"), L("--dest", "stdout", "--marshal", "json"));
	check(L("-dest=null"), L("--dest", "null"));
	/* -dest after -marshal works too */
	check(L("-marshal", "json", "-n", "-dest", "stdout"),
	      L("--marshal", "json", "-n", "--dest", "stdout"));
	/* xtcpd's own spellings come out unchanged */
	check(L("--dest", "null", "--marshal", "protoJson"),
	      L("--dest", "null", "--marshal", "protoJson"));
}

/* -topic and -produceTimeout go where the destination takes them (conf's --dest table). */
static void test_dest_params(void **state)
{
	check(L("-dest", "nats:127.0.0.1:4222", "-topic", "xtcp"),
	      L("--dest", "nats:127.0.0.1:4222", "-o", "sink.nats.subject=xtcp"));
	check(L("-topic=t1", "--dest=valkey:cache:6379"),
	      L("-o", "sink.valkey.channel=t1", "--dest", "valkey:cache:6379"));
	check(L("-dest", "kafka:b:9092", "--topic", "xtcp"),
	      L("--dest", "kafka:b:9092", "-o", "sink.kafka.topic=xtcp"));
	check(L("-dest", "http://127.0.0.1:8123/?query=INSERT", "-produceTimeout", "2s"),
	      L("--dest", "http://127.0.0.1:8123/?query=INSERT", "-o", "sink.http.timeout=2s"));
	check(L("-produceTimeout=1m30s", "-dest", "https://ingest.example/x"),
	      L("-o", "sink.http.timeout=1m30s", "--dest", "https://ingest.example/x"));
	assert_int_equal(n_warned, 0);
	/* 0 is xtcp2's "use the default" */
	check(L("-dest", "http://h/", "-produceTimeout", "0s"), L("--dest", "http://h/"));
	check(L("-dest", "http://h/", "-produceTimeout", "0"), L("--dest", "http://h/"));
	assert_int_equal(n_warned, 0);
	/* a destination that has no such key: dropped with a warning, the rest stays */
	check(L("-topic", "x", "-dest", "udp:127.0.0.1:9", "-n"), L("--dest", "udp:127.0.0.1:9", "-n"));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "ignoring xtcp2 option -topic: the destination does not use it");
	check(L("-dest", "kafka:b:9092", "-produceTimeout", "5s", "-topic", "t"),
	      L("--dest", "kafka:b:9092", "-o", "sink.kafka.topic=t"));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "ignoring xtcp2 option -produceTimeout: the destination "
			    "does not use it");
	check(L("-produceTimeout", "5s", "-n"), L("-n"));
	assert_string_equal(warned[0], "ignoring xtcp2 option -produceTimeout: it applies to "
			    "-dest http:// or https:// only");
	/* dropped slots and a dropped -marshal together keep the order of the rest */
	check(L("-produceTimeout", "5s", "-marshal", "json", "-topic", "t", "-label", "l"),
	      L("-o", "sink.kafka.topic=t", "-o", "core.label=l"));
	assert_int_equal(n_warned, 2);
}

/* xtcp2's -marshal without -dest kept its default destination: xtcpd keeps the
 * configured pipeline, and the flush options still name that marshaller. */
static void test_marshal_without_dest(void **state)
{
	check(L("-marshal", "json", "-envelopeFlushRows", "50", "-n"),
	      L("-o", "marshaller.json.flush_rows=50", "-n"));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "ignoring xtcp2 option -marshal without -dest: the "
			    "configured marshallers and sinks are used");
	check(L("-n", "-marshal=jsonl"), L("-n"));
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
		"-o", "marshaller.csv.columns=hostname,tcpInfoRtt"));
	assert_int_equal(n_warned, 0);
	check(L("-columns=netns", "-dest=unix:/run/x.sock", "-marshal=tsv"),
	      L("--dest", "unix:/run/x.sock", "--marshal", "tsv", "-o", "marshaller.tsv.columns=netns"));
	check(L("-dest", "unixgram:/run/y.sock", "-marshal", "protoText", "-columns", "netns"),
	      L("--dest", "unixgram:/run/y.sock", "--marshal", "protoText"));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "ignoring xtcp2 option -columns: it picks the columns of "
			    "-dest with -marshal csv or tsv");
	check(L("-dest", "stderr", "-columns", "netns"), L("--dest", "stderr"));
	assert_int_equal(n_warned, 1);
	check(L("-marshal", "csv", "-columns", "netns", "-n"), L("-n"));
	assert_int_equal(n_warned, 2);
}

/* The envelope flush options follow -marshal wherever it appears. */
static void test_flush_follows_marshal(void **state)
{
	check(L("-envelopeFlushRows", "100", "-marshal", "protoJson", "-envelopeFlushBytes=65536",
		"-dest", "null"),
	      L("-o", "marshaller.protoJson.flush_rows=100", "--marshal", "protoJson",
		"-o", "marshaller.protoJson.flush_bytes=65536", "--dest", "null"));
	/* 0 = "use the daemon default" in xtcp2: nothing to set */
	check(L("-envelopeFlushRows", "0", "-envelopeFlushBytes=0", "-n"), L("-n"));
}

static void test_durations(void **state)
{
	/* xtcpd's own grammar passes through; the rest of Go's is converted */
	check(L("-frequency", "1m30s"), L("-o", "core.frequency=1m30s"));
	check(L("-frequency=1.5s"), L("-o", "core.frequency=1500ms"));
	check(L("-timeout", "1h0m0s"), L("-o", "core.timeout=1h0m0s"));
	check(L("-timeout", "30s1m"), L("-o", "core.timeout=90000ms"));
	check(L("-timeout", "250ms"), L("-o", "core.timeout=250ms"));
	check(L("-timeout", "2000000us"), L("-o", "core.timeout=2000ms"));
	check(L("-frequency", "2m"), L("-o", "core.frequency=2m"));
	check(L("-frequency", "0"), L("-o", "core.frequency=0"));
	check_fail(L("-frequency", "10 s"), "xtcp2 option -frequency: \"10 s\" is not a duration "
		   "of whole milliseconds (like 10s, 1m30s, 250ms)");
	check_fail(L("--timeout=1500us"), "xtcp2 option --timeout: \"1500us\" is not a duration "
		   "of whole milliseconds (like 10s, 1m30s, 250ms)");
	check_fail(L("-timeout", "-5s"), "xtcp2 option -timeout: \"-5s\" is not a duration "
		   "of whole milliseconds (like 10s, 1m30s, 250ms)");
}

static void test_bool_io_uring(void **state)
{
	check(L("-ioUring"), L("-o", "core.io_uring=true"));
	check(L("--ioUring"), L("-o", "core.io_uring=true"));
	check(L("-ioUring=false"), L("-o", "core.io_uring=false"));
	check(L("-ioUring=T"), L("-o", "core.io_uring=true"));
	check(L("--ioUring=0"), L("-o", "core.io_uring=false"));
	/* a Go bool flag never takes the next argument */
	check(L("-ioUring", "-netlinkers", "2"),
	      L("-o", "core.io_uring=true", "-o", "source.netlink.netlinkers=2"));
	check_fail(L("-ioUring=maybe"), "xtcp2 option -ioUring: \"maybe\" is not true or false");
}

static void test_debug(void **state)
{
	check(L("-d"), L("-o", "core.log_level=debug"));
	check(L("-d", "111"), L("-o", "core.log_level=debug"));
	check(L("-d=0"), L("-o", "core.log_level=info"));
	check(L("--d", "0", "-n"), L("-o", "core.log_level=info", "-n"));
	check(L("-d", "-frequency", "5s"),
	      L("-o", "core.log_level=debug", "-o", "core.frequency=5s"));
	check_fail(L("-d=high"), "xtcp2 option -d: \"high\" is not a debug level");
}

static void test_version(void **state)
{
	check(L("-v"), L("--version"));
	check(L("-v=false", "-n"), L("-n"));
}

static void test_ignored_with_warning(void **state)
{
	check(L("-goMaxProcs", "4", "-frequency", "10s"), L("-o", "core.frequency=10s"));
	assert_int_equal(n_warned, 1);
	assert_string_equal(warned[0], "ignoring xtcp2 option -goMaxProcs: use -o core.cpus=LIST "
			    "to confine xtcpd's threads, -o core.max_threads=N to cap them");

	check(L("--maxThreads=2000", "-enrichAsn", "-pollJitterPct", "20", "-nltimeout", "1000"),
	      NONE);
	assert_int_equal(n_warned, 4);
	assert_string_equal(warned[0], "ignoring xtcp2 option -maxThreads: use -o core.max_threads=N");
	assert_string_equal(warned[1], "ignoring xtcp2 option -enrichAsn: xtcpd has no equivalent");
	assert_string_equal(warned[2], "ignoring xtcp2 option -pollJitterPct: xtcpd has no equivalent");
	assert_string_equal(warned[3], "ignoring xtcp2 option -nltimeout: use -o core.timeout=DURATION");

	/* a secret's value is consumed and never echoed in the warning */
	check(L("-listenerRawToken", "s3cr3t"), NONE);
	assert_int_equal(n_warned, 1);
	assert_null(strstr(warned[0], "s3cr3t"));
	assert_string_equal(warned[0], "ignoring xtcp2 option -listenerRawToken: xtcpd has no equivalent");

	check(L("-capturePath", "/tmp/c", "-writeFiles=2"), NONE);
	assert_string_equal(warned[0], "ignoring xtcp2 option -capturePath: use --capture DIR");
	assert_string_equal(warned[1], "ignoring xtcp2 option -writeFiles: use --capture DIR");
}

/* Native options, their values and everything after "--" are left alone. */
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
	      L("-o", "core.frequency=1s", "--", "-frequency", "2s"));
	/* unknown spellings are for xtcpd's own parser to refuse */
	check(L("-frequencyy", "1s", "-Frequency=2s", "-", "x"),
	      L("-frequencyy", "1s", "-Frequency=2s", "-", "x"));
}

/* A value that looks like a flag is still the value, as in Go. */
static void test_value_starting_with_dash(void **state)
{
	check(L("-label", "-x", "-tag=-y"), L("-o", "core.label=-x", "-o", "core.tag=-y"));
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
		"source.netlink.netlinkers=4", "--dest", "kafka:redpanda:9092", "-o",
		"sink.kafka.topic=xtcp", "--marshal", "protobufList", "-o", "core.prom_listen=:9088",
		"-o", "marshaller.protobufList.flush_rows=10000"));
	assert_int_equal(n_warned, 1);
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
		cmocka_unit_test(test_flush_follows_marshal),
		cmocka_unit_test(test_marshal_without_dest),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_bool_io_uring),
		cmocka_unit_test(test_debug),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_ignored_with_warning),
		cmocka_unit_test(test_native_untouched),
		cmocka_unit_test(test_value_starting_with_dash),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_xtcp2_unit_line),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
