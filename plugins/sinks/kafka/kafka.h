/* kafka.h — the kafka sink's instance, shared by kafka.c (ops, delivery) and
 * kafka_conf.c (turning our keys into a librdkafka configuration). */
#ifndef XTCPD_SINK_KAFKA_H
#define XTCPD_SINK_KAFKA_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>
#include <xtcpd/plugin.h>

#include "plugins/sinks/common/sink_stats.h"

#define KAFKA_LOG_INTERVAL_MS 10000
#define KAFKA_KEY_MAX 320

/* Key table order (values[] of struct xtcpd_config follow it). */
enum kafka_key {
	K_BROKERS, K_TOPIC, K_KEY, K_COMPRESSION, K_ACKS, K_LINGER_MS, K_QUEUE_MAX_MESSAGES,
	K_QUEUE_MAX_KBYTES, K_ON_FULL, K_BLOCK_TIMEOUT_MS, K_PROPERTY,
};
enum kafka_msgkey { KEY_HOSTNAME, KEY_NETNS, KEY_NONE };

/* Failure reasons (label values of xtcpd_sink_failed_total). */
enum kafka_reason { R_QUEUE_FULL, R_MSG_SIZE, R_TIMED_OUT, R_PURGED, R_UNKNOWN_TOPIC, R_FATAL,
		    R_OTHER, R_N };

struct kafka_sink {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	struct sink_stats st;
	_Atomic uint64_t *failed[R_N];
	_Atomic uint64_t *client_errors, *queue_len, *request_retries;

	rd_kafka_conf_t *conf;          /* until rd_kafka_new takes it */
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	char key[KAFKA_KEY_MAX];        /* the message key of every batch (see README) */
	size_t key_len;
	size_t max_message;
	int on_full_block, block_timeout_ms;
	int blocked_out;                /* a full wait was in vain: do not wait (sink thread) */

	pthread_t poller;
	char poller_name[16];           /* "dr/<instance>": the delivery-report thread */
	int poller_running;
	int evfd;                       /* librdkafka's main queue turned non-empty, or stop */
	rd_kafka_queue_t *mainq;        /* that queue (delivery reports, errors) */
	atomic_int stopping;
	atomic_int cancelled;       /* shutdown deadline passed: a blocked send gives up */
	atomic_uint_fast64_t in_flight; /* produced, delivery report not yet served */
	atomic_int waiters;             /* sends blocked on a full queue */
	pthread_mutex_t lock;
	pthread_cond_t room;            /* a delivery report made room (CLOCK_MONOTONIC) */
	unsigned dr_gen;                /* delivery reports seen by waiters, under lock */
	char rl[R_N], rl_client, rl_log; /* rate-limit keys */
};

/* Set our keys and the property.* pass-through on conf: 0, or -EINVAL with res naming
 * the key and giving librdkafka's own reason. No side effect but on conf. */
int kafka_conf_fill(rd_kafka_conf_t *conf, const struct xtcpd_config *cfg, struct xtcpd_check *res);
/* property.* names that load code or run commands (plugin.library.paths, kinit...):
 * -EPERM with res naming the key and why; no side effect. */
int kafka_conf_denied(const struct xtcpd_config *cfg, struct xtcpd_check *res);
/* Build ks->conf, ks->key and ks->max_message from the configuration; logs librdkafka's
 * own error text and returns -EINVAL on a bad property. */
int kafka_conf_build(struct kafka_sink *ks, const struct xtcpd_config *cfg);

#endif
