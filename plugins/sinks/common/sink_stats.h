/* sink_stats.h — the counters a sink keeps itself, shared (header only) by the sink
 * plugins.
 *
 * One owner per fact: the host counts every batch's outcome (delivered or failed:
 * batches, records, bytes) from host->buf_release(). A sink counts only what the host
 * cannot see: `failed` = error events by a bounded set of reasons (a failed write
 * attempt, a refused datagram, a negative delivery report), `retried` = re-attempts of a
 * batch. */
#ifndef XTCPD_SINK_STATS_H
#define XTCPD_SINK_STATS_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xtcpd/plugin.h>

struct sink_stats {
	_Atomic uint64_t *retried;
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

	st->retried = host->metric(ctx, XTCPD_METRIC_COUNTER, "sink_retried_total", NULL,
				   "Re-attempts to deliver a batch");
	if (!st->retried)
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

/* A batch is done: give it back to the host (exactly once), which counts its outcome. */
static inline void sink_stats_done(const struct sink_stats *st, const struct xtcpd_host *host,
				   struct xtcpd_ctx *ctx, struct xtcpd_buf *buf, int ok)
{
	(void)st;
	host->buf_release(ctx, buf, ok);
}

static inline void sink_stats_fail(const struct sink_stats *st, unsigned reason)
{
	if (reason < st->n_reasons)
		sink_count(st->failed[reason], 1);
}

#endif /* XTCPD_SINK_STATS_H */
