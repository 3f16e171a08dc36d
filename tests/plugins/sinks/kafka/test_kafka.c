/* test_kafka — the kafka sink through its ops table against the mock cluster (a real
 * Kafka protocol broker process): every batch consumed back byte-exact exactly once (our
 * consumer and kcat), every codec, property pass-through errors in librdkafka's words,
 * brokers down at start and for 10 s mid-run, a small queue (delivered + dropped ==
 * sent, exactly), blocking with a bound, shutdown with undelivered batches, and the
 * properties that would load code or run a command refused (issue 23): a library named by
 * plugin.library.paths never loaded, a command pasted into the Kerberos principal never
 * run; and the largest batch the sink promises (max_message) at its boundary, whatever
 * the key. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lib/skip.h"
#include "tests/plugins/sinks/kafka/kconsume.h"
#include "tests/lib/testhost.h"

/* As root, main() moves the test into a UTS namespace of its own with a host name of
 * the longest size: the "hostname" and "netns" keys are then longer than librdkafka's
 * per-message slack, so a max_message that forgot the key fails the boundary test. */
#define LONG_HOSTNAME "xtcpd-test-host-a-name-long-enough-to-matter-in-a-kafka-key-64ch"
static int long_hostname;

static struct th_plugin kafka_plugin;
static pid_t mc_pid;
static FILE *mc_in, *mc_out;
static char bootstrap[256], kv_brokers[300], hostname[256], netns_key[400];

#define WAIT_MS 60000

/* ---- the mock cluster process ------------------------------------------------------ */

static int mc_start(void)
{
	const char *dir = getenv("XTCPD_BUILDDIR");
	char prog[4096];
	int in[2], out[2];

	snprintf(prog, sizeof(prog), "%s/tests/plugins/sinks/kafka/mockcluster", dir ? dir : ".");
	if (pipe(in) || pipe(out))
		return -1;
	mc_pid = fork();
	if (mc_pid < 0)
		return -1;
	if (mc_pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(prog, prog, "-b", "3", "-t", "xtcpd", "-p", "3", (char *)NULL);
		perror(prog);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	mc_in = fdopen(in[1], "w");
	mc_out = fdopen(out[0], "r");
	if (!fgets(bootstrap, sizeof(bootstrap), mc_out))
		return -1;
	bootstrap[strcspn(bootstrap, "\n")] = '\0';
	snprintf(kv_brokers, sizeof(kv_brokers), "brokers=%s", bootstrap);
	return 0;
}

static void mc_cmd(const char *fmt, ...)
{
	char reply[256];
	va_list ap;

	va_start(ap, fmt);
	vfprintf(mc_in, fmt, ap);
	va_end(ap);
	fputc('\n', mc_in);
	fflush(mc_in);
	assert_non_null(fgets(reply, sizeof(reply), mc_out));
	assert_string_equal(reply, "ok\n");
}

/* ---- batches and what comes back ----------------------------------------------------- */

/* Batch i of a topic: "batch <i> " then printable filler, no newline (kcat -f '%s\n'). */
static size_t batch_make(char *p, unsigned i, size_t len)
{
	size_t n = (size_t)snprintf(p, len, "batch %08u ", i);

	for (; n < len; n++)
		p[n] = (char)('A' + (i * 7 + n / 13) % 26);
	return len;
}

static size_t batch_len(unsigned i)
{
	return 20 + (size_t)i * 131 % 6000;
}

static void send_batches(struct th_inst *in, unsigned first, unsigned count)
{
	static char data[70000];

	for (unsigned i = first; i < first + count; i++) {
		size_t n = batch_make(data, i, batch_len(i));

		assert_int_equal(in->ops->send(in->sink, th_buf(data, n, i % 50 + 1)), 0);
	}
}

struct seen {
	unsigned count[4096];
	unsigned bad, total;
	const char *key;
};

static void seen_msg(void *arg, const rd_kafka_message_t *m)
{
	static char want[70000];
	struct seen *s = arg;
	unsigned i;

	s->total++;
	if (m->len < 15 || sscanf(m->payload, "batch %08u ", &i) != 1 || i >= 4096) {
		s->bad++;
		return;
	}
	batch_make(want, i, batch_len(i));
	if (m->len != batch_len(i) || memcmp(m->payload, want, m->len))
		s->bad++;
	else if (s->key && (m->key_len != strlen(s->key) || memcmp(m->key, s->key, m->key_len)))
		s->bad++;
	else
		s->count[i]++;
}

/* Consume the topic: exactly batches [0, n) must be there, each once, intact. */
static void expect_topic(const char *topic, unsigned n, const char *key)
{
	struct seen *s = calloc(1, sizeof(*s));

	s->key = key;
	assert_int_equal(kc_consume(bootstrap, topic, seen_msg, s, WAIT_MS), n);
	assert_int_equal(s->bad, 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(s->count[i], 1);
	free(s);
}

static void expect_released(struct th_inst *in, uint64_t ok, uint64_t failed)
{
	struct th_released r;

	assert_int_equal(th_wait_released(in->ctx, ok + failed, WAIT_MS), ok + failed);
	th_released_get(in->ctx, &r);
	assert_int_equal(r.ok, ok);
	assert_int_equal(r.failed, failed);
	assert_int_equal(r.twice, 0);
	assert_int_equal(th_outcome(in->ctx, TH_OK), ok);
	assert_int_equal(th_outcome(in->ctx, TH_FAILED), failed);
	assert_int_equal(th_outcome(in->ctx, TH_SENT), ok + failed);
}

static uint64_t reason(struct th_inst *in, const char *why)
{
	char labels[64];

	snprintf(labels, sizeof(labels), "reason=\"%s\"", why);
	return th_metric(in->ctx, "sink_failed_total", labels);
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_deliver_exactly_once(void **state)
{
	const char *kv[] = { kv_brokers, "topic=basic", "compression=lz4", NULL };
	struct th_released r;
	struct th_inst in;
	char cmd[512], *out, *line;
	size_t len;
	unsigned lines = 0;
	uint64_t rows = 0, bytes = 0;

	(void)state;
	mc_cmd("topic basic 3");
	assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), 0);
	send_batches(&in, 0, 400);
	expect_released(&in, 400, 0);
	assert_int_equal(in.ops->flush(in.sink, 1000), 0);
	for (unsigned i = 0; i < 400; i++) {
		rows += i % 50 + 1;
		bytes += batch_len(i);
	}
	th_released_get(in.ctx, &r);
	assert_int_equal(r.rows_ok, rows);
	assert_int_equal(th_outcome(in.ctx, TH_ROWS_OK), rows);
	assert_int_equal(th_outcome(in.ctx, TH_BYTES_OK), bytes);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 0);
	th_inst_destroy(&in);
	expect_topic("basic", 400, hostname);

	/* The same through kcat: one line per batch, key then payload. */
	snprintf(cmd, sizeof(cmd), "kcat -C -b %s -t basic -o beginning -e -q -f '%%k %%s\\n'",
		 bootstrap);
	out = th_run(cmd, &len);
	for (line = out; line < out + len; lines++) {
		char *nl = memchr(line, '\n', out + len - line);
		char want[7000];
		unsigned i;

		assert_non_null(nl);
		assert_int_equal(strncmp(line, hostname, strlen(hostname)), 0);
		line += strlen(hostname) + 1;
		assert_int_equal(sscanf(line, "batch %08u ", &i), 1);
		assert_int_equal((size_t)(nl - line), batch_len(i));
		batch_make(want, i, batch_len(i));
		assert_memory_equal(line, want, batch_len(i));
		line = nl + 1;
	}
	assert_int_equal(lines, 400);
	free(out);
}

static void test_codecs(void **state)
{
	static const char *const codecs[] = { "none", "gzip", "snappy", "lz4", "zstd" };

	(void)state;
	for (size_t c = 0; c < 5; c++) {
		char kv_topic[64], kv_codec[64], topic[32];
		const char *kv[] = { kv_brokers, kv_topic, kv_codec, "key=none", NULL };
		struct th_inst in;

		snprintf(topic, sizeof(topic), "codec-%s", codecs[c]);
		snprintf(kv_topic, sizeof(kv_topic), "topic=%s", topic);
		snprintf(kv_codec, sizeof(kv_codec), "compression=%s", codecs[c]);
		mc_cmd("topic %s 2", topic);
		assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), 0);
		send_batches(&in, 0, 30);
		expect_released(&in, 30, 0);
		th_inst_destroy(&in);
		expect_topic(topic, 30, NULL);
	}
}

/* check (ABI 1.3): librdkafka validates every property on a throwaway configuration,
 * naming the key; nothing is created. */
static void test_check(void **state)
{
	const char *kv[] = { kv_brokers, "topic=checked", NULL, NULL };
	char out[600];

	(void)state;
	assert_int_equal(th_check(kafka_plugin.desc, kv, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	kv[2] = "property.nosuch.prop=1";
	assert_int_equal(th_check(kafka_plugin.desc, kv, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "property.nosuch.prop: No such configuration property: \"nosuch.prop\"");
	kv[2] = "property.linger.ms=soon";
	assert_int_equal(th_check(kafka_plugin.desc, kv, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "property.linger.ms: Invalid value for configuration property "
				 "\"queue.buffering.max.ms\"");
	kv[1] = "topic=tcp/info";
	kv[2] = NULL;
	assert_int_equal(th_check(kafka_plugin.desc, kv, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "topic: 'tcp/info' is not a Kafka topic name (letters, digits, "
				 "'.', '_' and '-')");
}

static void test_properties(void **state)
{
	const char *kv[] = { kv_brokers, "topic=props", NULL, "key=none", NULL };
	struct th_inst in;
	char last[1024];

	(void)state;
	kv[2] = "property.linger.ms=soon";
	assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), -EINVAL);
	th_last_log(in.ctx, last, sizeof(last));
	/* librdkafka names the property linger.ms is an alias of. */
	assert_string_equal(last, "property.linger.ms: Invalid value for configuration property "
				  "\"queue.buffering.max.ms\"");
	th_inst_destroy(&in);

	kv[2] = "property.no.such.thing=1";
	assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), -EINVAL);
	th_last_log(in.ctx, last, sizeof(last));
	assert_string_equal(last, "property.no.such.thing: No such configuration property: "
				  "\"no.such.thing\"");
	th_inst_destroy(&in);

	/* A valid one takes effect: message.max.bytes bounds produce (and max_message: see
	 * test_max_message_boundary). */
	mc_cmd("topic props 1");
	kv[2] = "property.message.max.bytes=2000";
	assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), 0);
	assert_in_range(in.ops->max_message(in.sink), 20, 2000);
	send_batches(&in, 0, 1);                 /* 20 bytes: fits */
	send_batches(&in, 20, 1);                /* 2640 bytes: too large */
	expect_released(&in, 1, 1);
	assert_int_equal(reason(&in, "msg_size_too_large"), 1);
	assert_int_equal(th_outcome(in.ctx, TH_ROWS_FAILED), 21);
	th_inst_destroy(&in);
	expect_topic("props", 1, NULL);
}

static void test_down_at_start(void **state)
{
	const char *kv[] = { kv_brokers, "topic=late", "key=netns", NULL };
	struct th_released r;
	struct th_inst in;

	(void)state;
	mc_cmd("topic late 3");
	mc_cmd("down all");
	assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), 0);
	send_batches(&in, 0, 50);
	/* Nothing can be delivered while every broker is down, and nothing is lost. */
	assert_int_equal(th_wait_released(in.ctx, 1, 2000), 0);
	assert_int_equal(in.ops->flush(in.sink, 100), 50);
	mc_cmd("up all");
	expect_released(&in, 50, 0);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.failed, 0);
	th_inst_destroy(&in);
	expect_topic("late", 50, netns_key);
}

static void test_outage_mid_run(void **state)
{
	const char *kv[] = { kv_brokers, "topic=outage", "compression=zstd", NULL };
	struct th_inst in;

	(void)state;
	mc_cmd("topic outage 3");
	assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), 0);
	send_batches(&in, 0, 100);
	expect_released(&in, 100, 0);
	mc_cmd("down all");
	send_batches(&in, 100, 100);
	sleep(10);              /* a 10 s outage; the sends above did not block */
	assert_int_equal(th_wait_released(in.ctx, 101, 0), 100);
	mc_cmd("up all");
	send_batches(&in, 200, 100);
	expect_released(&in, 300, 0);
	assert_int_equal(in.ops->flush(in.sink, 1000), 0);
	/* librdkafka's statistics feed a counter of its own retries (registered, and a
	 * number: how many depends on when the brokers went away). */
	assert_true(th_metric(in.ctx, "sink_kafka_request_retries_total", NULL) != UINT64_MAX);
	th_inst_destroy(&in);
	expect_topic("outage", 300, hostname);
}

static void test_small_queue_drop(void **state)
{
	const char *kv[] = { kv_brokers, "topic=small", "queue_max_messages=10", "on_full=drop",
			     NULL };
	struct th_released r;
	struct th_logs logs;
	struct th_inst in;

	(void)state;
	mc_cmd("topic small 3");
	mc_cmd("down all");
	assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), 0);
	send_batches(&in, 0, 50);
	/* 10 fit in librdkafka's queue; 40 are dropped at once, counted with their rows. */
	assert_int_equal(th_wait_released(in.ctx, 40, 0), 40);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.failed, 40);
	assert_int_equal(reason(&in, "queue_full"), 40);
	assert_int_equal(th_outcome(in.ctx, TH_ROWS_FAILED), r.rows_failed);
	th_logs_get(in.ctx, &logs);
	assert_true(logs.suppressed >= 39);
	mc_cmd("up all");
	expect_released(&in, 10, 40);
	th_inst_destroy(&in);
	expect_topic("small", 10, hostname);
}

static void test_small_queue_block(void **state)
{
	const char *kv[] = { kv_brokers, "topic=block", "queue_max_messages=5", "on_full=block",
			     "block_timeout_ms=200", NULL };
	struct th_inst in;

	(void)state;
	mc_cmd("topic block 3");
	mc_cmd("down all");
	assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), 0);
	/* 5 queue; the 6th waits its 200 ms for room (one re-attempt, as no delivery
	 * report came), then is dropped; the 7th and 8th are dropped without waiting. */
	send_batches(&in, 0, 8);
	assert_int_equal(th_wait_released(in.ctx, 3, 0), 3);
	assert_int_equal(reason(&in, "queue_full"), 3);
	assert_int_equal(th_metric(in.ctx, "sink_retried_total", NULL), 1);
	mc_cmd("up all");
	expect_released(&in, 5, 3);
	th_inst_destroy(&in);

	/* Brokers up, a small queue and a generous bound: senders wait for room and
	 * nothing is dropped. */
	kv[1] = "topic=block2";
	kv[4] = "block_timeout_ms=30000";
	mc_cmd("topic block2 3");
	assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), 0);
	send_batches(&in, 0, 300);
	expect_released(&in, 300, 0);
	th_inst_destroy(&in);
	expect_topic("block2", 300, hostname);
}

static void *cancel_later(void *arg)
{
	struct th_inst *in = arg;

	usleep(300 * 1000);
	in->ops->cancel(in->sink);
	return NULL;
}

/* The shutdown deadline (cancel) ends a send blocked for room at once. */
static void test_cancel_blocked_send(void **state)
{
	const char *kv[] = { kv_brokers, "topic=cancel", "queue_max_messages=1",
			     "block_timeout_ms=60000", NULL };
	struct th_released r;
	struct th_inst in;
	pthread_t th;

	(void)state;
	mc_cmd("topic cancel 1");
	mc_cmd("down all");
	assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), 0);
	send_batches(&in, 0, 1);
	pthread_create(&th, NULL, cancel_later, &in);
	send_batches(&in, 1, 1);        /* would wait 60 s for room */
	pthread_join(th, NULL);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.failed, 1);
	assert_int_equal(reason(&in, "queue_full"), 1);
	assert_int_equal(in.ops->flush(in.sink, 100), 1);
	th_inst_destroy(&in);
	mc_cmd("up all");
}

static void test_shutdown_undelivered(void **state)
{
	const char *kv[] = { kv_brokers, "topic=flush", NULL };
	struct th_released r;
	struct th_inst in;

	(void)state;
	mc_cmd("topic flush 3");
	mc_cmd("down all");
	assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), 0);
	send_batches(&in, 0, 7);
	/* flush waits its bound and reports what is still undelivered ... */
	assert_int_equal(in.ops->flush(in.sink, 300), 7);
	/* ... and destroy gives every buffer back, failed, before it returns. */
	th_inst_destroy_sink(&in);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.failed, 7);
	assert_int_equal(r.ok + r.twice, 0);
	assert_int_equal(reason(&in, "purged"), 7);
	assert_int_equal(th_outcome(in.ctx, TH_FAILED), 7);
	th_inst_destroy(&in);
	mc_cmd("up all");
}

static void test_no_broker_at_all(void **state)
{
	const char *kv[] = { "brokers=127.0.0.1:1", "topic=nowhere", NULL };
	struct th_released r;
	struct th_inst in;

	(void)state;
	assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), 0);
	send_batches(&in, 0, 3);
	assert_int_equal(in.ops->flush(in.sink, 200), 3);
	th_inst_destroy_sink(&in);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.failed, 3);
	assert_int_equal(r.ok + r.twice, 0);
	th_inst_destroy(&in);
}

static void test_code_properties_refused(void **state)
{
	/* key, value (below the plugin folder when it starts with '/'), why refused */
	static const char *const refused[][3] = {
		{ "property.plugin.library.paths", "/test_evil.so", "loads shared libraries into the daemon" },
		{ "property.Plugin.Library.Paths", "/test_evil.so", "loads shared libraries into the daemon" },
		{ "property.sasl.kerberos.kinit.cmd", "touch x", "runs a shell command" },
		{ "property.sasl.kerberos.min.time.before.relogin", "60000",
		  "anything but 0 runs sasl.kerberos.kinit.cmd, a shell command into which the "
		  "principal and keytab are pasted (keep the ticket cache fresh outside xtcpd)" },
		{ "property.ssl.engine.location", "/test_evil.so", "loads an OpenSSL engine library" },
		{ "property.ssl.providers", "/test_evil", "loads OpenSSL provider modules" },
	};
	const char *libs = getenv("XTCPD_PLUGIN_DIR");
	char dir[] = "/tmp/xt-test-kafka-XXXXXX", mark[64], prop[600], last[1024], want[600];
	const char *kv[] = { kv_brokers, "topic=denied", prop, NULL, NULL, NULL, NULL };
	struct th_inst in;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(mark, sizeof(mark), "%s/mark", dir);
	setenv("XTCPD_TEST_MARK", mark, 1);  /* test_evil.so's constructor leaves it */
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(prop, sizeof(prop), "%s=%s%s", refused[i][0],
			 refused[i][1][0] == '/' ? (libs ? libs : ".libs") : "", refused[i][1]);
		assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), -EPERM);
		th_last_log(in.ctx, last, sizeof(last));
		snprintf(want, sizeof(want), "%s: refused: %s", refused[i][0], refused[i][2]);
		assert_string_equal(last, want);
		th_inst_destroy(&in);
		assert_int_equal(access(mark, F_OK), -1);
	}
	/* The default kinit command pastes the principal into a shell line: with GSSAPI
	 * and a principal carrying a command, nothing may run (creation would run it). */
	snprintf(prop, sizeof(prop), "property.sasl.kerberos.principal=x$(touch %s)", mark);
	kv[3] = "property.security.protocol=sasl_plaintext";
	kv[4] = "property.sasl.mechanisms=GSSAPI";
	kv[5] = "property.sasl.kerberos.keytab=/nonexistent";
	assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), 0);
	usleep(500 * 1000);
	th_inst_destroy(&in);
	assert_int_equal(access(mark, F_OK), -1);
	/* 0, the one harmless value of a refused property, is taken */
	kv[3] = "property.sasl.kerberos.min.time.before.relogin=0";
	kv[4] = NULL;
	assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), 0);
	th_inst_destroy(&in);
	unsetenv("XTCPD_TEST_MARK");
	rmdir(dir);
}

/* What the boundary test reads back: one message of the expected length, payload and key. */
struct one_msg {
	const char *payload, *key;
	size_t len;
	unsigned total, good;
};

static void one_msg_seen(void *arg, const rd_kafka_message_t *m)
{
	struct one_msg *o = arg;

	o->total++;
	if (m->len == o->len && !memcmp(m->payload, o->payload, o->len) &&
	    m->key_len == strlen(o->key) && (!m->key_len || !memcmp(m->key, o->key, m->key_len)))
		o->good++;
}

/* One configuration at the boundary: a batch of exactly max_message bytes is delivered
 * and consumed back intact; one of max_message + 64 bytes is refused by librdkafka
 * (msg_size_too_large), so the promise is kept and wastes less than 64 bytes. */
static void boundary(const char *key_mode, const char *key, const char *max_bytes, unsigned n)
{
	char kv_topic[64], kv_key[64], kv_max[64], topic[48];
	const char *kv[] = { kv_brokers, kv_topic, kv_key, kv_max, NULL };
	struct one_msg o = { .key = key };
	struct th_inst in;
	char *data;
	size_t m;

	snprintf(topic, sizeof(topic), "boundary-%u", n);
	snprintf(kv_topic, sizeof(kv_topic), "topic=%s", topic);
	snprintf(kv_key, sizeof(kv_key), "key=%s", key_mode);
	snprintf(kv_max, sizeof(kv_max), "property.message.max.bytes=%s", max_bytes);
	mc_cmd("topic %s 1", topic);
	assert_int_equal(th_inst_create(&in, &kafka_plugin, kv), 0);
	m = in.ops->max_message(in.sink);
	print_message("key=%s (%zu bytes) message.max.bytes=%s: max_message %zu\n", key_mode,
		      strlen(key), max_bytes, m);
	data = malloc(m + 64);
	assert_non_null(data);
	batch_make(data, n, m + 64);
	assert_int_equal(in.ops->send(in.sink, th_buf(data, m, 1)), 0);
	assert_int_equal(in.ops->send(in.sink, th_buf(data, m + 64, 2)), 0);
	expect_released(&in, 1, 1);
	assert_int_equal(reason(&in, "msg_size_too_large"), 1);
	assert_int_equal(th_outcome(in.ctx, TH_ROWS_OK), 1);
	assert_int_equal(th_outcome(in.ctx, TH_BYTES_OK), m);
	th_inst_destroy(&in);
	o.payload = data;
	o.len = m;
	assert_int_equal(kc_consume(bootstrap, topic, one_msg_seen, &o, WAIT_MS), 1);
	assert_int_equal(o.good, 1);
	free(data);
}

static void test_max_message_boundary(void **state)
{
	char host_ns[400];

	(void)state;
	if (!long_hostname)
		XT_SKIP("needs root: a %zu-character host name in a UTS namespace of its own",
			strlen(LONG_HOSTNAME));
	assert_string_equal(hostname, LONG_HOSTNAME);
	snprintf(host_ns, sizeof(host_ns), "%s", netns_key);
	boundary("none", "", "2000", 1);
	boundary("hostname", hostname, "2000", 2);
	boundary("netns", host_ns, "2000", 3);
	boundary("netns", host_ns, "1000000", 4);       /* librdkafka's default */
}

static int setup(void **state)
{
	char ns[64] = "";

	(void)state;
	if (gethostname(hostname, sizeof(hostname)) < 0 ||
	    readlink("/proc/self/ns/net", ns, sizeof(ns) - 1) <= 0)
		return -1;
	snprintf(netns_key, sizeof(netns_key), "%s/%s", hostname, ns);
	if (th_load(XTCPD_KIND_SINK, "kafka", &kafka_plugin) || mc_start())
		return -1;
	return 0;
}

static int teardown(void **state)
{
	int status;

	(void)state;
	if (mc_in) {
		fprintf(mc_in, "quit\n");
		fclose(mc_in);
	}
	if (mc_pid > 0 && waitpid(mc_pid, &status, 0) != mc_pid)
		return -1;
	if (mc_out)
		fclose(mc_out);
	th_unload(&kafka_plugin);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deliver_exactly_once),
		cmocka_unit_test(test_codecs),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_code_properties_refused),
		cmocka_unit_test(test_down_at_start),
		cmocka_unit_test(test_small_queue_drop),
		cmocka_unit_test(test_small_queue_block),
		cmocka_unit_test(test_cancel_blocked_send),
		cmocka_unit_test(test_shutdown_undelivered),
		cmocka_unit_test(test_no_broker_at_all),
		cmocka_unit_test(test_outage_mid_run),
		cmocka_unit_test(test_max_message_boundary),
	};

	signal(SIGPIPE, SIG_IGN);
	/* Before any thread: every thread after this one shares the namespace. */
	if (geteuid() == 0 && unshare(CLONE_NEWUTS) == 0 &&
	    sethostname(LONG_HOSTNAME, strlen(LONG_HOSTNAME)) == 0)
		long_hostname = 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
