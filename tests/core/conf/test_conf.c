/* test_conf — value parsing by declared type, -o and --dest handling, section merging. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/conf/conf.h"

static const struct xtcpd_key kd = { "d", XTCPD_KEY_DURATION, "10s", 1, 86400000, NULL, 0, "" };
static const struct xtcpd_key ks = { "s", XTCPD_KEY_SIZE, "1KiB", 1024, 1 << 30, NULL, 0, "" };
static const struct xtcpd_key ki = { "i", XTCPD_KEY_INT, "4", 1, 64, NULL, 0, "" };
static const struct xtcpd_key kb = { "b", XTCPD_KEY_BOOL, "true", 0, 0, NULL, 0, "" };
static const struct xtcpd_key ke = { "e", XTCPD_KEY_ENUM, "b", 0, 0, "a|b|c", 0, "" };
static const struct xtcpd_key kl = { "l", XTCPD_KEY_LIST, "x", 0, 0, "info|cong|all", 0, "" };

static int64_t parse_ok(const struct xtcpd_key *k, const char *s)
{
	struct xtcpd_value v = { 0 };
	char err[256] = "";

	assert_int_equal(conf_parse_value(k, s, &v, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	return v.num;
}

static const char *parse_err(const struct xtcpd_key *k, const char *s)
{
	static char err[256];
	struct xtcpd_value v = { 0 };

	assert_true(conf_parse_value(k, s, &v, err, sizeof(err)) < 0);
	return err;
}

#define NOT_A_DURATION "' is not a duration (use e.g. 250ms, 10s, 1m30s, 2h; a bare number " \
	"is seconds; allowed: 1ms..86400000ms)"

/* One strict grammar: digits + units largest first, or bare seconds. */
static void test_durations(void **state)
{
	static const char *const refused[] = { "1e3", "0x10", "5 s", "5S", "0.1", "1.5s", "-1s",
		"+5s", " 5s", "5s ", "30s1m", "1m1m", "s", "ms", "10sec", "1mm", "", "fast" };
	char want[160];
	int64_t ms;

	assert_int_equal(parse_ok(&kd, "250ms"), 250);
	assert_int_equal(parse_ok(&kd, "10s"), 10000);
	assert_int_equal(parse_ok(&kd, "10"), 10000);
	assert_int_equal(parse_ok(&kd, "2m"), 120000);
	assert_int_equal(parse_ok(&kd, "1m30s"), 90000);
	assert_int_equal(parse_ok(&kd, "2h"), 7200000);
	assert_int_equal(parse_ok(&kd, "1h2m3s4ms"), 3723004);
	assert_int_equal(parse_ok(&kd, "1d"), 86400000);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(want, sizeof(want), "'%s%s", refused[i], NOT_A_DURATION);
		assert_string_equal(parse_err(&kd, refused[i]), want);
	}
	assert_string_equal(parse_err(&kd, "2d"), "'2d' is out of range (allowed: 1ms..86400000ms)");
	assert_string_equal(parse_err(&kd, "99999999999999999999s"),
			    "'99999999999999999999s' is out of range (allowed: 1ms..86400000ms)");
	assert_int_equal(conf_parse_duration("9223372036854775807ms", &ms), 0);
	assert_int_equal(ms, INT64_MAX);
	assert_int_equal(conf_parse_duration("9223372036854775807s", &ms), -ERANGE);
	assert_int_equal(conf_parse_duration("0", &ms), 0);
	assert_int_equal(ms, 0);
}

static void test_sizes(void **state)
{
	assert_int_equal(parse_ok(&ks, "768KiB"), 786432);
	assert_int_equal(parse_ok(&ks, "64k"), 65536);
	assert_int_equal(parse_ok(&ks, "1M"), 1048576);
	assert_int_equal(parse_ok(&ks, "4096"), 4096);
	assert_string_equal(parse_err(&ks, "12 parsecs"),
			    "'12 parsecs' is not a size (use e.g. 65536, 64KiB, 1MiB; allowed: 1024..1073741824 bytes)");
	assert_string_equal(parse_err(&ks, "0x1000"),
			    "'0x1000' is not a size (use e.g. 65536, 64KiB, 1MiB; allowed: 1024..1073741824 bytes)");
	assert_string_equal(parse_err(&ks, "1.5MiB"),
			    "'1.5MiB' is not a size (use e.g. 65536, 64KiB, 1MiB; allowed: 1024..1073741824 bytes)");
	assert_string_equal(parse_err(&ks, "64 KiB"),
			    "'64 KiB' is not a size (use e.g. 65536, 64KiB, 1MiB; allowed: 1024..1073741824 bytes)");
	assert_string_equal(parse_err(&ks, "10"), "'10' is out of range (allowed: 1024..1073741824 bytes)");
	assert_string_equal(parse_err(&ks, "9999999999999G"),
			    "'9999999999999G' is out of range (allowed: 1024..1073741824 bytes)");
}

static void test_scalars(void **state)
{
	assert_int_equal(parse_ok(&ki, "64"), 64);
	assert_string_equal(parse_err(&ki, "65"), "'65' is out of range (allowed: 1..64)");
	assert_string_equal(parse_err(&ki, "4x"), "'4x' is not an integer (allowed: 1..64)");
	assert_int_equal(parse_ok(&kb, "off"), 0);
	assert_int_equal(parse_ok(&kb, "YES"), 1);
	assert_string_equal(parse_err(&kb, "maybe"), "'maybe' is not a boolean (use true or false)");
	assert_int_equal(parse_ok(&ke, "c"), 2);
	assert_string_equal(parse_err(&ke, "d"), "'d' is not allowed (allowed: a|b|c)");
	/* A list is kept as written (the plugin splits it), once every word is checked. */
	{
		struct xtcpd_value v = { 0 };
		char err[256] = "";

		assert_int_equal(conf_parse_value(&kl, "info, cong,all", &v, err, sizeof(err)), 0);
		assert_string_equal(err, "");
		assert_string_equal(v.str, "info, cong,all");
		assert_int_equal(v.num, 0);
	}
	assert_string_equal(parse_err(&kl, "info,bogus"),
			    "'bogus' is not allowed in the list (allowed: info|cong|all)");
	assert_string_equal(parse_err(&kl, "cong, infox"),
			    "'infox' is not allowed in the list (allowed: info|cong|all)");
	assert_string_equal(parse_err(&kl, "inf"), "'inf' is not allowed in the list (allowed: info|cong|all)");
}

static char *write_conf(const char *text)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/xtcpd-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_sections_merge_and_override(void **state)
{
	struct conf c = { 0 };
	char *p = write_conf("[core]\nfrequency = 5s\n[sink file out]\npath = /a\n"
			     "[sink file out]\npath = /b\n[source synth]\n");
	struct conf_section *s;

	assert_int_equal(conf_load(&c, p, NULL), 0);
	assert_int_equal(c.n_sec, 3);
	s = conf_find(&c, CONF_SINK, "out");
	assert_non_null(s);
	assert_string_equal(s->plugin, "file");
	assert_int_equal(s->n_entries, 1);
	assert_string_equal(s->entries[0].value, "/b");
	assert_int_equal(s->entries[0].line, 6);
	assert_int_equal(conf_override(&c, "sink.out.path=/c"), 0);
	assert_string_equal(s->entries[0].value, "/c");
	assert_int_equal(s->entries[0].line, 0);
	assert_int_equal(conf_override(&c, "core.frequency=1s"), 0);
	assert_string_equal(conf_find(&c, CONF_CORE, NULL)->entries[0].value, "1s");
	assert_int_equal(conf_override(&c, "sink.nope.path=x"), -EINVAL);
	assert_string_equal(c.err, "command line: -o 'sink.nope.path=x': there is no [sink ... nope] section to set 'path' in");
	assert_int_equal(conf_override(&c, "filter.x.y=1"), -EINVAL);
	assert_string_equal(c.err, "command line: -o 'filter.x.y=1': 'filter' is not a section kind (allowed: core|source|marshaller|sink)");
	assert_int_equal(conf_override(&c, "frequency=1s"), -EINVAL);
	assert_string_equal(c.err, "command line: -o 'frequency=1s': expected core.KEY=VALUE or KIND.INSTANCE.KEY=VALUE");
	conf_free(&c);
	unlink(p);
}

/* "*": every section of the kind; "?=": only where the key is not set yet, and no
 * section is no error (xtcp2's defaults, compat.c). */
static void test_override_every_and_soft(void **state)
{
	struct conf c = { 0 };
	char *p = write_conf("[core]\nfrequency = 5s\n[marshaller json]\nflush_rows = 7\n"
			     "[marshaller csv]\n[marshaller json j2]\n[sink null]\n");
	const struct conf_section *j, *csv, *j2;

	assert_int_equal(conf_load(&c, p, NULL), 0);
	j = conf_find(&c, CONF_MARSHALLER, "json");
	csv = conf_find(&c, CONF_MARSHALLER, "csv");
	j2 = conf_find(&c, CONF_MARSHALLER, "j2");
	assert_int_equal(conf_override(&c, "marshaller.*.flush_bytes=64KiB"), 0);
	assert_int_equal(j->n_entries, 2);
	assert_string_equal(j->entries[1].key, "flush_bytes");
	assert_string_equal(j->entries[1].value, "64KiB");
	assert_int_equal(csv->n_entries, 1);
	assert_string_equal(csv->entries[0].value, "64KiB");
	assert_string_equal(j2->entries[0].value, "64KiB");
	assert_int_equal(conf_find(&c, CONF_SINK, "null")->n_entries, 0);
	/* soft: json keeps its file's 7, the others get 500 */
	assert_int_equal(conf_override(&c, "marshaller.*.flush_rows?=500"), 0);
	assert_string_equal(j->entries[0].value, "7");
	assert_int_equal(j->entries[0].line, 4);
	assert_string_equal(csv->entries[1].key, "flush_rows");
	assert_string_equal(csv->entries[1].value, "500");
	assert_int_equal(conf_override(&c, "core.frequency?=1s"), 0);
	assert_string_equal(conf_find(&c, CONF_CORE, NULL)->entries[0].value, "5s");
	assert_int_equal(conf_override(&c, "core.label?=l1"), 0);
	assert_string_equal(conf_find(&c, CONF_CORE, NULL)->entries[1].key, "label");
	assert_string_equal(conf_find(&c, CONF_CORE, NULL)->entries[1].value, "l1");
	/* soft into no such section: nothing, no error; hard: the usual refusal */
	assert_int_equal(conf_override(&c, "source.netlink.deserializers?=info"), 0);
	assert_null(conf_find(&c, CONF_SOURCE, "netlink"));
	assert_int_equal(conf_override(&c, "source.*.deserializers=info"), -EINVAL);
	assert_string_equal(c.err, "command line: -o 'source.*.deserializers=info': there is no "
			    "[source ... *] section to set 'deserializers' in");
	assert_int_equal(conf_override(&c, "marshaller.*.?=1"), -EINVAL);
	assert_string_equal(c.err, "command line: -o 'marshaller.*.?=1': empty key");
	conf_free(&c);
	unlink(p);
}

static void test_dest(void **state)
{
	struct conf c = { 0 };
	char *p = write_conf("[source synth]\n[marshaller json]\n[sink file stdout]\npath = -\n");
	struct conf_section *s;

	assert_int_equal(conf_load(&c, p, NULL), 0);
	assert_int_equal(conf_set_dest(&c, "kafka:127.0.0.1:9092", "protobufList"), 0);
	assert_null(conf_find(&c, CONF_SINK, "stdout"));
	assert_null(conf_find(&c, CONF_MARSHALLER, "json"));
	assert_non_null(conf_find(&c, CONF_MARSHALLER, "protobufList"));
	s = conf_find(&c, CONF_SINK, "kafka");
	assert_non_null(s);
	assert_int_equal(s->n_entries, 2);
	assert_string_equal(s->entries[0].key, "marshaller");
	assert_string_equal(s->entries[0].value, "protobufList");
	assert_string_equal(s->entries[1].key, "brokers");
	assert_string_equal(s->entries[1].value, "127.0.0.1:9092");
	/* http(s): the whole URI is the url, as xtcp2 uses it */
	assert_int_equal(conf_set_dest(&c, "https://ch.example:8443/?query=INSERT", "json"), 0);
	s = conf_find(&c, CONF_SINK, "http");
	assert_non_null(s);
	assert_null(conf_find(&c, CONF_SINK, "kafka"));
	assert_string_equal(s->entries[1].key, "url");
	assert_string_equal(s->entries[1].value, "https://ch.example:8443/?query=INSERT");
	/* nats: what follows "nats:" is the URL, bare or nats:// */
	assert_int_equal(conf_set_dest(&c, "nats:nats://n1:4222", "protobufList"), 0);
	s = conf_find(&c, CONF_SINK, "nats");
	assert_string_equal(s->entries[1].key, "url");
	assert_string_equal(s->entries[1].value, "nats://n1:4222");
	assert_int_equal(conf_set_dest(&c, "valkey:cache:6379", "protobufList"), 0);
	s = conf_find(&c, CONF_SINK, "valkey");
	assert_string_equal(s->entries[1].key, "address");
	assert_string_equal(s->entries[1].value, "cache:6379");
	assert_int_equal(conf_set_dest(&c, "http", "json"), -EINVAL);
	assert_string_equal(c.err, "command line: --dest 'http' needs an address or path after 'http:'");
	assert_int_equal(conf_set_dest(&c, "amqp:1.2.3.4:5", "json"), -EINVAL);
	assert_string_equal(c.err, "command line: --dest 'amqp:1.2.3.4:5' is not allowed (use "
			    "kafka:HOST:PORT, udp:HOST:PORT, tcp:HOST:PORT, unix:PATH, unixgram:PATH, "
			    "file:PATH, stdout, stderr, null, http://HOST[:PORT]/PATH, "
			    "https://HOST[:PORT]/PATH, nats:HOST:PORT or valkey:HOST:PORT)");
	assert_int_equal(conf_set_dest(&c, "nsq:127.0.0.1:4150", "json"), -EINVAL);
	assert_string_equal(c.err, "command line: --dest 'nsq:127.0.0.1:4150': xtcpd has no nsq sink: there is no maintained C client library for NSQ");
	assert_int_equal(conf_set_dest(&c, "s3parquet:bucket", "protobufList"), -EINVAL);
	assert_string_equal(c.err, "command line: --dest 's3parquet:bucket': xtcpd has no s3parquet sink: no C library that writes Parquet is packaged in Debian");
	assert_int_equal(conf_set_dest(&c, "stderr:x", "csv"), -EINVAL);
	assert_int_equal(conf_set_dest(&c, "udp:", "json"), -EINVAL);
	assert_string_equal(c.err, "command line: --dest 'udp:' needs an address or path after 'udp:'");
	assert_int_equal(conf_set_dest(&c, "stdout", "xml"), -EINVAL);
	assert_string_equal(c.err, "command line: --marshal 'xml' is not allowed (allowed: protobufList|protoJson|jsonl|protoText|json|csv|tsv)");
	/* xtcp2's new spellings: one row each */
	assert_int_equal(conf_set_dest(&c, "tcp:127.0.0.1:9000", "csv"), 0);
	s = conf_find(&c, CONF_SINK, "tcp");
	assert_non_null(s);
	assert_string_equal(s->entries[1].key, "address");
	assert_string_equal(s->entries[1].value, "127.0.0.1:9000");
	assert_non_null(conf_find(&c, CONF_MARSHALLER, "csv"));
	assert_int_equal(conf_set_dest(&c, "unix:/run/x.sock", "protobufList"), 0);
	s = conf_find(&c, CONF_SINK, "unix");
	assert_string_equal(s->entries[1].key, "path");
	assert_string_equal(s->entries[1].value, "/run/x.sock");
	assert_int_equal(conf_set_dest(&c, "unixgram:/run/y.sock", "tsv"), 0);
	s = conf_find(&c, CONF_SINK, "unixgram");
	assert_string_equal(s->entries[1].value, "/run/y.sock");
	assert_non_null(conf_find(&c, CONF_MARSHALLER, "tsv"));
	assert_int_equal(conf_set_dest(&c, "stderr", "protoText"), 0);
	s = conf_find(&c, CONF_SINK, "stderr");
	assert_int_equal(s->n_entries, 1);
	assert_non_null(conf_find(&c, CONF_MARSHALLER, "protoText"));
	conf_free(&c);
	unlink(p);
}

/* Where xtcp2's -topic and -produceTimeout go for each destination. */
static void test_dest_param(void **state)
{
	char t[160];

	assert_int_equal(conf_dest_param("kafka:b:9092", CONF_DEST_TOPIC, t, sizeof(t)), 0);
	assert_string_equal(t, "sink.kafka.topic");
	assert_int_equal(conf_dest_param("nats:n:4222", CONF_DEST_TOPIC, t, sizeof(t)), 0);
	assert_string_equal(t, "sink.nats.subject");
	assert_int_equal(conf_dest_param("valkey:v:6379", CONF_DEST_TOPIC, t, sizeof(t)), 0);
	assert_string_equal(t, "sink.valkey.channel");
	assert_int_equal(conf_dest_param("https://h/x", CONF_DEST_TIMEOUT, t, sizeof(t)), 0);
	assert_string_equal(t, "sink.http.timeout");
	assert_int_equal(conf_dest_param("http://h/x", CONF_DEST_TOPIC, t, sizeof(t)), -ENOENT);
	assert_int_equal(conf_dest_param("udp:h:1", CONF_DEST_TIMEOUT, t, sizeof(t)), -ENOENT);
	assert_int_equal(conf_dest_param("nosuch:x", CONF_DEST_TOPIC, t, sizeof(t)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_sections_merge_and_override),
		cmocka_unit_test(test_override_every_and_soft),
		cmocka_unit_test(test_dest),
		cmocka_unit_test(test_dest_param),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
