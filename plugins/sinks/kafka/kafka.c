/* sink kafka — produces each batch as one Kafka message through librdkafka, without
 * copying it: the pooled buffer is the payload and goes back to its pool from the
 * delivery report. A poll thread serves delivery reports as they come (it sleeps on an
 * eventfd librdkafka signals, never on a timer). Brokers that are
 * down only make librdkafka's queue grow up to its bounds; a full queue blocks the sink
 * thread for at most block_timeout_ms (or not at all), then the batch is dropped and
 * counted. Collection never waits on Kafka. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <xtcpd/plugin.h>

#include "plugins/sinks/kafka/kafka.h"
#include "plugins/sinks/common/sink_stats.h"

#define KAFKA_PURGE_WAIT_MS 10000

static const struct xtcpd_key kafka_keys[] = {
	[K_BROKERS] = { "brokers", XTCPD_KEY_STRING, NULL, 0, 4096, NULL, XTCPD_KEY_REQUIRED,
			"bootstrap brokers, host:port[,host:port...]" },
	[K_TOPIC] = { "topic", XTCPD_KEY_STRING, NULL, 0, 249, NULL, XTCPD_KEY_REQUIRED,
		      "topic to produce to" },
	[K_KEY] = { "key", XTCPD_KEY_ENUM, "hostname", 0, 0, "hostname|netns|none", 0,
		    "message key: this host's name, host name + network namespace, or none" },
	[K_COMPRESSION] = { "compression", XTCPD_KEY_ENUM, "none", 0, 0,
			    "none|gzip|snappy|lz4|zstd", 0, "compression codec" },
	[K_ACKS] = { "acks", XTCPD_KEY_ENUM, "all", 0, 0, "all|-1|0|1", 0,
		     "acknowledgements to wait for (all enables idempotence)" },
	[K_LINGER_MS] = { "linger_ms", XTCPD_KEY_INT, "5", 0, 900000, NULL, 0,
			  "wait this long to fill a produce request" },
	[K_QUEUE_MAX_MESSAGES] = { "queue_max_messages", XTCPD_KEY_INT, "100000", 1, 10000000,
				   NULL, 0, "messages (batches) librdkafka may hold" },
	[K_QUEUE_MAX_KBYTES] = { "queue_max_kbytes", XTCPD_KEY_INT, "1048576", 1, 2147483647,
				 NULL, 0, "KiB librdkafka may hold" },
	[K_ON_FULL] = { "on_full", XTCPD_KEY_ENUM, "block", 0, 0, "block|drop", 0,
			"librdkafka queue full: wait up to block_timeout_ms, or drop at once" },
	[K_BLOCK_TIMEOUT_MS] = { "block_timeout_ms", XTCPD_KEY_INT, "1000", 0, 60000, NULL, 0,
				 "longest wait for room with on_full = block" },
	[K_PROPERTY] = { "property.", XTCPD_KEY_STRING, NULL, 0, 0, NULL, XTCPD_KEY_PREFIX,
			 "property.NAME = VALUE: any librdkafka property, validated by it" },
	XTCPD_KEYS_END,
};

static const char *const kafka_reasons[R_N] = {
	[R_QUEUE_FULL] = "queue_full",
	[R_MSG_SIZE] = "msg_size_too_large",
	[R_TIMED_OUT] = "msg_timed_out",
	[R_PURGED] = "purged",
	[R_UNKNOWN_TOPIC] = "unknown_topic",
	[R_FATAL] = "fatal",
	[R_OTHER] = "other",
};

static unsigned kafka_reason_of(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR__QUEUE_FULL:
		return R_QUEUE_FULL;
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
		return R_MSG_SIZE;
	case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
		return R_TIMED_OUT;
	case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
	case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
		return R_PURGED;
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
		return R_UNKNOWN_TOPIC;
	case RD_KAFKA_RESP_ERR__FATAL:
		return R_FATAL;
	default:
		return R_OTHER;
	}
}

static void kafka_fail(struct kafka_sink *ks, rd_kafka_resp_err_t err, const char *what)
{
	unsigned r = kafka_reason_of(err);

	sink_stats_fail(&ks->st, r);
	ks->host->log_ratelimited(ks->ctx, &ks->rl[r], KAFKA_LOG_INTERVAL_MS, XTCPD_LOG_WARN,
				  "%s: %s", what, rd_kafka_err2str(err));
}

/* Delivery report (from the poll thread, or from rd_kafka_flush/poll elsewhere): the
 * batch is done either way, after librdkafka's own retries. */
static void kafka_dr(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	struct kafka_sink *ks = opaque;
	struct xtcpd_buf *buf = msg->_private;

	(void)rk;
	if (msg->err)
		kafka_fail(ks, msg->err, "delivery failed");
	sink_stats_done(&ks->st, ks->host, ks->ctx, buf, !msg->err);
	atomic_fetch_sub(&ks->in_flight, 1);
	if (atomic_load_explicit(&ks->waiters, memory_order_acquire)) {
		pthread_mutex_lock(&ks->lock);
		ks->dr_gen++;
		pthread_cond_broadcast(&ks->room);
		pthread_mutex_unlock(&ks->lock);
	}
}

/* Client-level errors (broker down, all brokers down...): not about one batch. */
static void kafka_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_sink *ks = opaque;
	char fatal[512];

	sink_count(ks->client_errors, 1);
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		ks->host->log(ks->ctx, XTCPD_LOG_ERR, "fatal: %s", fatal);
		return;
	}
	ks->host->log_ratelimited(ks->ctx, &ks->rl_client, KAFKA_LOG_INTERVAL_MS, XTCPD_LOG_WARN,
				  "%s: %s", rd_kafka_err2name(err), reason);
}

/* librdkafka's statistics (JSON, every statistics.interval.ms): the protocol-level
 * request retries of all brokers, which our own counters cannot see. */
static int kafka_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
	static const char field[] = "\"txretries\":";
	struct kafka_sink *ks = opaque;
	uint64_t sum = 0;

	(void)rk;
	(void)len;
	for (const char *p = strstr(json, field); p; p = strstr(p, field)) {
		p += sizeof(field) - 1;
		sum += strtoull(p, NULL, 10);
	}
	atomic_store_explicit(ks->request_retries, sum, memory_order_relaxed);
	return 0;       /* librdkafka frees json */
}

static void kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	struct kafka_sink *ks = rd_kafka_opaque(rk);

	/* FAIL lines repeat what kafka_error() already reports. */
	if (level <= 4 && strcmp(fac, "FAIL") != 0)
		ks->host->log_ratelimited(ks->ctx, &ks->rl_log, KAFKA_LOG_INTERVAL_MS,
					  level <= 3 ? XTCPD_LOG_ERR : XTCPD_LOG_WARN,
					  "librdkafka %s: %s", fac, buf);
}

static void *kafka_poller(void *arg)
{
	struct kafka_sink *ks = arg;

	pthread_setname_np(pthread_self(), ks->poller_name); /* per-thread CPU in /metrics */
	while (!atomic_load(&ks->stopping)) {
		struct pollfd p = { .fd = ks->evfd, .events = POLLIN };
		uint64_t v;

		/* Clear the eventfd first, then empty the main queue: librdkafka writes to
		 * the fd when the queue turns non-empty, so nothing enqueued after the last
		 * rd_kafka_poll() goes unnoticed. */
		if (read(ks->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			break;
		while (rd_kafka_poll(ks->rk, 0) > 0)
			;
		atomic_store_explicit(ks->queue_len, (uint64_t)rd_kafka_outq_len(ks->rk),
				      memory_order_relaxed);
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
	}
	return NULL;
}

static void kafka_deadline(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static rd_kafka_resp_err_t kafka_produce(struct kafka_sink *ks, struct xtcpd_buf *buf)
{
	/* msgflags 0: neither RD_KAFKA_MSG_F_COPY nor _FREE — librdkafka points at our
	 * buffer until the delivery report, which gives it back. */
	if (rd_kafka_produce(ks->rkt, RD_KAFKA_PARTITION_UA, 0, buf->data + buf->off,
			     buf->len - buf->off, ks->key, ks->key_len, buf) == 0)
		return RD_KAFKA_RESP_ERR_NO_ERROR;
	return rd_kafka_last_error();
}

/* Queue full with on_full = block: retry each time a delivery report made room, until
 * block_timeout_ms. dr_gen tells whether a report landed since our last attempt, so a
 * report between the attempt and the wait is not missed. */
static rd_kafka_resp_err_t kafka_produce_blocking(struct kafka_sink *ks, struct xtcpd_buf *buf)
{
	rd_kafka_resp_err_t err;
	struct timespec until;
	int timed_out = 0;

	kafka_deadline(&until, ks->block_timeout_ms);
	atomic_fetch_add(&ks->waiters, 1);
	pthread_mutex_lock(&ks->lock);
	for (;;) {
		unsigned gen = ks->dr_gen;

		pthread_mutex_unlock(&ks->lock);
		sink_count(ks->st.retried, 1);
		err = kafka_produce(ks, buf);
		pthread_mutex_lock(&ks->lock);
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		while (ks->dr_gen == gen && !timed_out && !atomic_load(&ks->cancelled))
			timed_out = pthread_cond_timedwait(&ks->room, &ks->lock, &until) == ETIMEDOUT;
		if (ks->dr_gen == gen)
			break;      /* timed out (or cancelled) with no room made */
	}
	pthread_mutex_unlock(&ks->lock);
	atomic_fetch_sub(&ks->waiters, 1);
	return err;
}

static int kafka_send(void *inst, struct xtcpd_buf *buf)
{
	struct kafka_sink *ks = inst;
	rd_kafka_resp_err_t err;

	atomic_fetch_add(&ks->in_flight, 1);
	err = kafka_produce(ks, buf);
	/* After one full wait in vain, drop at once until a produce succeeds again: a long
	 * outage must not cost block_timeout_ms per queued batch (nor at shutdown). */
	if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && ks->on_full_block &&
	    ks->block_timeout_ms > 0 && !ks->blocked_out)
		err = kafka_produce_blocking(ks, buf);
	ks->blocked_out = err == RD_KAFKA_RESP_ERR__QUEUE_FULL && ks->on_full_block;
	if (err) {
		atomic_fetch_sub(&ks->in_flight, 1);
		kafka_fail(ks, err, "batch dropped");
		sink_stats_done(&ks->st, ks->host, ks->ctx, buf, 0);
	}
	/* Also here: with the brokers down no delivery report wakes the poll thread. */
	atomic_store_explicit(ks->queue_len, (uint64_t)rd_kafka_outq_len(ks->rk), memory_order_relaxed);
	return 0;
}

static int kafka_flush(void *inst, int timeout_ms)
{
	struct kafka_sink *ks = inst;
	uint64_t left;

	rd_kafka_flush(ks->rk, timeout_ms);
	left = atomic_load(&ks->in_flight);
	if (left)
		ks->host->log(ks->ctx, XTCPD_LOG_WARN,
			      "%llu batches not delivered after %d ms",
			      (unsigned long long)left, timeout_ms);
	return (int)(left > INT32_MAX ? INT32_MAX : left);
}

static size_t kafka_max_message(void *inst)
{
	struct kafka_sink *ks = inst;

	return ks->max_message;
}

static int kafka_start(void *inst)
{
	struct kafka_sink *ks = inst;
	int err;

	ks->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ks->evfd < 0) {
		err = errno;
		ks->host->log(ks->ctx, XTCPD_LOG_ERR, "eventfd: %s", strerror(err));
		return -err;
	}
	ks->mainq = rd_kafka_queue_get_main(ks->rk);
	rd_kafka_queue_io_event_enable(ks->mainq, ks->evfd, "\1\0\0\0\0\0\0\0", sizeof(uint64_t));
	err = pthread_create(&ks->poller, NULL, kafka_poller, ks);
	if (err) {
		ks->host->log(ks->ctx, XTCPD_LOG_ERR, "cannot start the poll thread: %s",
			      strerror(err));
		return -err;
	}
	ks->poller_running = 1;
	return 0;
}

/* Shutdown deadline passed while send() waits for room: give up now. */
static void kafka_cancel(void *inst)
{
	struct kafka_sink *ks = inst;

	atomic_store(&ks->cancelled, 1);
	pthread_mutex_lock(&ks->lock);
	pthread_cond_broadcast(&ks->room);
	pthread_mutex_unlock(&ks->lock);
}

static void kafka_stop(void *inst)
{
	struct kafka_sink *ks = inst;

	if (!ks || !ks->poller_running)
		return;
	atomic_store(&ks->stopping, 1);
	if (write(ks->evfd, &(uint64_t){ 1 }, sizeof(uint64_t)) < 0)
		ks->host->log(ks->ctx, XTCPD_LOG_ERR, "cannot wake the poll thread: %s", strerror(errno));
	pthread_join(ks->poller, NULL);
	ks->poller_running = 0;
}

/* Every buffer must be back with the host before we return: purge what librdkafka
 * still holds and serve the resulting delivery reports. */
static void kafka_destroy(void *inst)
{
	struct kafka_sink *ks = inst;
	struct timespec until, now;

	if (!ks)
		return;
	kafka_stop(ks);
	if (ks->rk) {
		if (atomic_load(&ks->in_flight))
			rd_kafka_purge(ks->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		kafka_deadline(&until, KAFKA_PURGE_WAIT_MS);
		while (atomic_load(&ks->in_flight)) {
			rd_kafka_poll(ks->rk, 50);
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec > until.tv_sec) {
				ks->host->log(ks->ctx, XTCPD_LOG_ERR,
					      "%llu batches still held by librdkafka",
					      (unsigned long long)atomic_load(&ks->in_flight));
				break;
			}
		}
		if (ks->mainq) {
			rd_kafka_queue_io_event_enable(ks->mainq, -1, NULL, 0);
			rd_kafka_queue_destroy(ks->mainq);
		}
		if (ks->rkt)
			rd_kafka_topic_destroy(ks->rkt);
		rd_kafka_destroy(ks->rk);
	} else if (ks->conf) {
		rd_kafka_conf_destroy(ks->conf);
	}
	if (ks->evfd >= 0)
		close(ks->evfd);
	pthread_cond_destroy(&ks->room);
	pthread_mutex_destroy(&ks->lock);
	free(ks);
}

/* Everything create() could refuse, without side effects: every property is set on a
 * throwaway librdkafka configuration (its own validation and messages), nothing connects. */
/* -EINVAL (-EPERM for a property that would run code) with res filled, or 0. */
static int kafka_check_keys(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	static const char topic_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789._-";
	rd_kafka_conf_t *conf;
	const char *t;
	int err;

	if (cfg->n_values < K_PROPERTY + 1)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin needs %d",
					cfg->n_values, K_PROPERTY + 1);
	t = cfg->values[K_TOPIC].str;
	if (!t || !*t || strspn(t, topic_chars) != strlen(t) || !strcmp(t, ".") || !strcmp(t, ".."))
		return XTCPD_CHECK_FAIL(res, "topic", "'%s' is not a Kafka topic name (letters, digits, "
					"'.', '_' and '-')", t ? t : "");
	if ((err = kafka_conf_denied(cfg, res)))
		return err;
	conf = rd_kafka_conf_new();
	if (!conf)
		return XTCPD_CHECK_FAIL(res, NULL, "out of memory");
	err = kafka_conf_fill(conf, cfg, res);
	rd_kafka_conf_destroy(conf);
	return err;
}

/* The check op: a refusal is -EINVAL whatever its kind. */
static int kafka_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	int err = kafka_check_keys(cfg, res);

	return err == -EPERM ? -EINVAL : err;
}

static int kafka_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
			const struct xtcpd_config *cfg, void **inst)
{
	pthread_condattr_t cattr;
	struct kafka_sink *ks;
	char errstr[512];
	struct xtcpd_check res = { .struct_size = sizeof(res), .msg = errstr, .msg_size = sizeof(errstr) };
	int err;

	*inst = NULL;
	if ((err = kafka_check_keys(cfg, &res))) {
		host->log(ctx, XTCPD_LOG_ERR, "%s%s%s", res.key ? res.key : "", res.key ? ": " : "", errstr);
		return err;
	}
	ks = calloc(1, sizeof(*ks));
	if (!ks)
		return -ENOMEM;
	ks->host = host;
	ks->ctx = ctx;
	ks->evfd = -1;
	snprintf(ks->poller_name, sizeof(ks->poller_name), "dr/%s", cfg->instance);
	pthread_mutex_init(&ks->lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);   /* kafka_deadline() */
	pthread_cond_init(&ks->room, &cattr);
	pthread_condattr_destroy(&cattr);
	*inst = ks;
	err = sink_stats_init(&ks->st, host, ctx, kafka_reasons, R_N, ks->failed);
	ks->client_errors = host->metric(ctx, XTCPD_METRIC_COUNTER, "sink_kafka_errors_total",
					 NULL, "librdkafka client errors (brokers down...)");
	ks->queue_len = host->metric(ctx, XTCPD_METRIC_GAUGE, "sink_kafka_queue_messages",
				     NULL, "messages held by librdkafka");
	ks->request_retries = host->metric(ctx, XTCPD_METRIC_COUNTER,
					   "sink_kafka_request_retries_total", NULL,
					   "produce requests librdkafka retried (from its statistics)");
	if (err || !ks->client_errors || !ks->queue_len || !ks->request_retries) {
		host->log(ctx, XTCPD_LOG_ERR, "cannot register metrics");
		return -ENOMEM;
	}
	err = kafka_conf_build(ks, cfg);
	if (err)
		return err;
	rd_kafka_conf_set_dr_msg_cb(ks->conf, kafka_dr);
	rd_kafka_conf_set_error_cb(ks->conf, kafka_error);
	rd_kafka_conf_set_log_cb(ks->conf, kafka_log);
	rd_kafka_conf_set_stats_cb(ks->conf, kafka_stats);
	rd_kafka_conf_set_opaque(ks->conf, ks);
	ks->rk = rd_kafka_new(RD_KAFKA_PRODUCER, ks->conf, errstr, sizeof(errstr));
	if (!ks->rk) {
		host->log(ctx, XTCPD_LOG_ERR, "%s", errstr);
		return -EINVAL;
	}
	ks->conf = NULL;        /* rd_kafka_new took it */
	ks->rkt = rd_kafka_topic_new(ks->rk, cfg->values[K_TOPIC].str, NULL);
	if (!ks->rkt) {
		err = rd_kafka_last_error();
		host->log(ctx, XTCPD_LOG_ERR, "topic %s: %s", cfg->values[K_TOPIC].str,
			  rd_kafka_err2str(err));
		return -EINVAL;
	}
	return 0;
}

static const struct xtcpd_sink_ops kafka_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_sink_ops),
		.create = kafka_create,
		.start = kafka_start,
		.stop = kafka_stop,
		.destroy = kafka_destroy,
	},
	.max_message = kafka_max_message,
	.send = kafka_send,
	.flush = kafka_flush,
	.cancel = kafka_cancel,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SINK, "kafka", PACKAGE_VERSION,
		     "produce each batch as one Kafka message (librdkafka, zero-copy)",
		     kafka_keys, &kafka_ops, kafka_check);
