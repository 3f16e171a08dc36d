/* kconsume — see kconsume.h. Assigns all partitions (no consumer group rebalance) at
 * the beginning and stops when each has reported its end. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/plugins/sinks/kafka/kconsume.h"

static long kc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int kc_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	int n = -1;

	if (rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (md->topic_cnt == 1 && !md->topics[0].err)
			n = md->topics[0].partition_cnt;
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_topic_destroy(rkt);
	return n;
}

long kc_consume(const char *bootstrap, const char *topic, kc_fn fn, void *arg, int timeout_ms)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *parts;
	char errstr[512], group[64];
	long count = 0, until = kc_now_ms() + timeout_ms;
	int n, eof = 0, *at_end;
	rd_kafka_t *rk;

	snprintf(group, sizeof(group), "xtcpd-test-%d", (int)getpid());
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr))) {
		fprintf(stderr, "kconsume: %s\n", errstr);
		return -1;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "kconsume: %s\n", errstr);
		return -1;
	}
	n = kc_partitions(rk, topic, timeout_ms);
	if (n <= 0) {
		fprintf(stderr, "kconsume: no metadata for topic %s\n", topic);
		rd_kafka_destroy(rk);
		return -1;
	}
	at_end = calloc(n, sizeof(*at_end));
	parts = rd_kafka_topic_partition_list_new(n);
	for (int p = 0; p < n; p++)
		rd_kafka_topic_partition_list_add(parts, topic, p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	while (eof < n) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

		if (kc_now_ms() > until) {
			fprintf(stderr, "kconsume: timeout, %d of %d partitions read\n", eof, n);
			count = -1;
			if (m)
				rd_kafka_message_destroy(m);
			break;
		}
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (m->partition >= 0 && m->partition < n && !at_end[m->partition]++)
				eof++;
		} else if (m->err) {
			fprintf(stderr, "kconsume: %s\n", rd_kafka_message_errstr(m));
		} else {
			fn(arg, m);
			count++;
		}
		rd_kafka_message_destroy(m);
	}
	free(at_end);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return count;
}
