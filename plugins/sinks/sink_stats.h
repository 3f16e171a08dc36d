/* sink_stats.h — the counters every sink keeps, shared (header only) by the sink plugins.
 *
 * Accounting contract, the same for every sink: each batch the core hands to send() is
 * counted in `sent`, and ends exactly once as either delivered (released ok=1) or dropped
 * (released ok=0). So once nothing is in flight: sent == delivered + dropped. `failed`
 * counts error events by a bounded set of reasons (a failed write attempt, a refused
 * datagram, a negative delivery report); `retried` counts re-attempts of a batch. */
#ifndef XTCPD_SINK_STATS_H
#define XTCPD_SINK_STATS_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xtcpd/plugin.h>

struct sink_stats {
	_Atomic uint64_t *sent;
	_Atomic uint64_t *delivered, *delivered_rows, *delivered_bytes;
	_Atomic uint64_t *retried;
	_Atomic uint64_t *dropped, *dropped_rows;
	_Atomic uint64_t **failed;      /* one slot per reason, parallel to `reasons` */
	const char *const *reasons;
	unsigned n_reasons;
};

static inline void sink_count(_Atomic uint64_t *slot, uint64_t n)
{
	atomic_fetch_add_explicit(slot, n, memory_order_relaxed);
}

/* Register the counters. `failed` must have room for n_reasons slots. */
static inline int sink_stats_init(struct sink_stats *st, const struct xtcpd_host *host,
				  struct xtcpd_ctx *ctx, const char *const *reasons,
				  unsigned n_reasons, _Atomic uint64_t **failed)
{
	char labels[64];

	st->sent = host->metric(ctx, XTCPD_METRIC_COUNTER, "sink_sent_total", NULL,
				"Batches handed to the sink");
	st->delivered = host->metric(ctx, XTCPD_METRIC_COUNTER, "sink_delivered_total", NULL,
				     "Batches delivered (written, sent or acknowledged)");
	st->delivered_rows = host->metric(ctx, XTCPD_METRIC_COUNTER,
					  "sink_delivered_rows_total", NULL,
					  "Records in delivered batches");
	st->delivered_bytes = host->metric(ctx, XTCPD_METRIC_COUNTER,
					   "sink_delivered_bytes_total", NULL,
					   "Bytes in delivered batches");
	st->retried = host->metric(ctx, XTCPD_METRIC_COUNTER, "sink_retried_total", NULL,
				   "Re-attempts to deliver a batch");
	st->dropped = host->metric(ctx, XTCPD_METRIC_COUNTER, "sink_dropped_total", NULL,
				   "Batches given up by the sink");
	st->dropped_rows = host->metric(ctx, XTCPD_METRIC_COUNTER, "sink_dropped_rows_total",
					NULL, "Records in batches given up by the sink");
	if (!st->sent || !st->delivered || !st->delivered_rows || !st->delivered_bytes ||
	    !st->retried || !st->dropped || !st->dropped_rows)
		return -ENOMEM;
	st->failed = failed;
	st->reasons = reasons;
	st->n_reasons = n_reasons;
	for (unsigned i = 0; i < n_reasons; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", reasons[i]);
		failed[i] = host->metric(ctx, XTCPD_METRIC_COUNTER, "sink_failed_total", labels,
					 "Delivery errors by reason");
		if (!failed[i])
			return -ENOMEM;
	}
	return 0;
}

/* A batch is done: count it and give it back to the host (exactly once). */
static inline void sink_stats_done(const struct sink_stats *st, const struct xtcpd_host *host,
				   struct xtcpd_ctx *ctx, struct xtcpd_buf *buf, int ok)
{
	if (ok) {
		sink_count(st->delivered, 1);
		sink_count(st->delivered_rows, buf->rows);
		sink_count(st->delivered_bytes, buf->len - buf->off);
	} else {
		sink_count(st->dropped, 1);
		sink_count(st->dropped_rows, buf->rows);
	}
	host->buf_release(ctx, buf, ok);
}

static inline void sink_stats_fail(const struct sink_stats *st, unsigned reason)
{
	if (reason < st->n_reasons)
		sink_count(st->failed[reason], 1);
}

#endif /* XTCPD_SINK_STATS_H */
