/* pipeline/sink — each sink has a bounded queue and one thread that hands batches to the
 * plugin's send(); a sink holds at most queue_depth + max_in_flight batches (its quota),
 * so a dead broker cannot drain the buffer pool other sinks share. Every batch ends in
 * exactly one outcome counter here: queued then delivered or failed, or dropped with a
 * reason. */
#include "config.h"
#include "pipeline/sink.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/caps.h"
#include "ops/clock.h"
#include "ops/log.h"
#include "ops/threads.h"
#include "pipeline/batch.h"
#include "pipeline/host.h"

#define C XTCPD_METRIC_COUNTER
#define S(f) offsetof(struct sinkinst, f)
#define BATCH_DROPPED(f, reason) { S(f), C, "sink_batches_dropped_total", "reason=\"" reason "\"", \
				   "Batches dropped before the sink, by reason" }
#define DONE(f, what, result) { S(f), C, "sink_" what "_done_total", "result=\"" result "\"", \
				"The sink's " what " by outcome (released by the sink)" }
static const struct host_metric_def sink_metrics[] = {
	{ S(m_batches_queued), C, "sink_batches_queued_total", NULL, "Batches handed to the sink's queue" },
	{ S(m_records_queued), C, "sink_records_queued_total", NULL, "Records in those batches" },
	BATCH_DROPPED(m_drop_inflight_batches, "in_flight_full"),
	HOST_METRIC_DROPPED(S(m_drop_inflight_records), "sink_queue", "in_flight_full"),
	BATCH_DROPPED(m_drop_batches, "queue_full"),
	HOST_METRIC_DROPPED(S(m_drop_records), "sink_queue", "queue_full"),
	BATCH_DROPPED(m_abandoned_batches, "shutdown"),
	HOST_METRIC_DROPPED(S(m_abandoned_records), "sink", "shutdown"),
	BATCH_DROPPED(m_closed_batches, "closed"),
	HOST_METRIC_DROPPED(S(m_closed_records), "sink_queue", "closed"),
	{ S(m_closed), XTCPD_METRIC_GAUGE, "sink_closed", NULL,
	  "1 once the sink's output is gone for good (a closed pipe): it gets no batch any more" },
	DONE(m_delivered_batches, "batches", "delivered"),
	DONE(m_failed_batches, "batches", "failed"),
	DONE(m_delivered_records, "records", "delivered"),
	DONE(m_failed_records, "records", "failed"),
	{ S(m_delivered_bytes), C, "sink_bytes_delivered_total", NULL, "Bytes of the batches delivered" },
	{ S(m_queue_depth), XTCPD_METRIC_GAUGE, "sink_queue_depth", NULL, "Batches waiting in the queue" },
	{ S(m_block_timeouts), C, "sink_block_timeouts_total", NULL,
	  "Waits for room (queue_full = block) that ran out at queue_block_timeout" },
};
#undef DONE
#undef BATCH_DROPPED
#undef S
#undef C

static const double latency_bounds[] = { 0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30 };

/* A sink's create, start and reopen run on a thread born without capabilities
 * (caps_run_confined): the threads they start (the sink's own, librdkafka's) and the
 * files they open get nothing of what the main thread keeps for namespaces. */
static int sink_do_create(void *arg)
{
	struct sinkinst *k = arg;

	return k->ops->common.create(&host_table, &k->ctx, &k->ctx.sec->cfg, &k->ctx.inst);
}

static void *sink_thread(void *arg);

static int sink_do_start(void *arg)
{
	struct sinkinst *k = arg;
	int rc = k->ops->common.start ? k->ops->common.start(k->ctx.inst) : 0;

	if (rc) {
		host_log(&k->ctx, XTCPD_LOG_ERR, "start failed: %s", log_errstr(rc));
		return rc < 0 ? rc : -EINVAL;
	}
	k->ctx.started = 1;
	if ((rc = pthread_create(&k->thread, NULL, sink_thread, k))) {
		host_log(&k->ctx, XTCPD_LOG_ERR, "cannot start its thread: %s", strerror(rc));
		return -rc;
	}
	k->thread_ok = 1;
	return 0;
}

static int sink_do_reopen(void *arg)
{
	struct sinkinst *k = arg;

	return k->ops->reopen(k->ctx.inst);
}

/* Sinks whose output is still there, of every pipeline (a reload overlaps two). */
static atomic_int sinks_open;
static void (*all_closed_fn)(void);

int sink_open_count(void)
{
	return atomic_load(&sinks_open);
}

void sink_on_all_closed(void (*fn)(void))
{
	all_closed_fn = fn;
}

/* Its output is gone for good: no batch goes to it any more (sink_push drops them as
 * reason="closed"); when it was the last, the daemon is told (a filter whose reader
 * left stops, as `xtcpd | head` expects). */
static void sink_closed(struct sinkinst *k)
{
	if (atomic_exchange(&k->closed, 1))
		return;
	metrics_set(k->m_closed, 1);
	host_log(&k->ctx, XTCPD_LOG_WARN, "output closed for good: no more batches go to this sink "
		 "(dropped as reason=\"closed\")");
	if (atomic_fetch_sub(&sinks_open, 1) == 1 && all_closed_fn)
		all_closed_fn();
}

static void drop_closed(struct sinkinst *k, struct xtcpd_buf *b)
{
	metrics_add(k->m_closed_batches, 1);
	metrics_add(k->m_closed_records, b->rows);
}

int sink_create(struct pipeline *p, struct conf_section *s, const struct plugin *pl,
		struct sinkinst **out)
{
	struct sinkinst *k = calloc(1, sizeof(*k));
	pthread_condattr_t ca;
	int rc;

	*out = k;
	if (!k)
		return -ENOMEM;
	host_ctx_init(&k->ctx, p, CONF_SINK, s, pl);
	k->ops = pl->desc->ops;
	k->drop_when_full = s->kind_values[SK_QUEUE_FULL].num == 1;
	k->block_ms = (int)s->kind_values[SK_QUEUE_BLOCK_TIMEOUT].num;
	k->quota = (int)(s->kind_values[SK_QUEUE_DEPTH].num + s->kind_values[SK_MAX_IN_FLIGHT].num);
	pthread_mutex_init(&k->held_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->held_cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = queue_create((unsigned)s->kind_values[SK_QUEUE_DEPTH].num, &k->q)))
		return rc;
	host_metrics_register(&k->ctx, k, sink_metrics, sizeof(sink_metrics) / sizeof(sink_metrics[0]));
	k->latency = metrics_histogram("xtcpd_sink_latency_seconds", k->ctx.labels,
				       "From a batch's flush to its sink releasing it (queue wait + send)",
				       latency_bounds, sizeof(latency_bounds) / sizeof(latency_bounds[0]));
	rc = caps_run_confined(0, sink_do_create, k, NULL);
	if (rc) {
		host_log(&k->ctx, XTCPD_LOG_ERR, "create failed: %s", log_errstr(rc));
		return rc < 0 ? rc : -EINVAL;
	}
	k->ctx.created = 1;
	atomic_fetch_add(&sinks_open, 1);
	metrics_set(k->m_closed, 0);
	return 0;
}

/* Reserve one of the sink's places; with queue_full = block, wait up to
 * queue_block_timeout for the sink to release one (once per stall). */
static int take_quota(struct sinkinst *k)
{
	struct timespec dl;
	int ok;

	if (atomic_fetch_add(&k->held, 1) < k->quota)
		return 1;
	atomic_fetch_sub(&k->held, 1);
	if (k->drop_when_full || k->block_ms <= 0 || atomic_load(&k->stalled))
		return 0;
	dl = clock_deadline(CLOCK_MONOTONIC, k->block_ms);
	pthread_mutex_lock(&k->held_lock);
	atomic_fetch_add(&k->held_waiters, 1);
	for (;;) {
		if (atomic_fetch_add(&k->held, 1) < k->quota) {
			ok = 1;
			break;
		}
		atomic_fetch_sub(&k->held, 1);
		if (pthread_cond_timedwait(&k->held_cond, &k->held_lock, &dl) == ETIMEDOUT) {
			ok = atomic_fetch_add(&k->held, 1) < k->quota;
			if (!ok)
				atomic_fetch_sub(&k->held, 1);
			break;
		}
	}
	atomic_fetch_sub(&k->held_waiters, 1);
	pthread_mutex_unlock(&k->held_lock);
	if (!ok) {
		atomic_store(&k->stalled, 1);
		metrics_add(k->m_block_timeouts, 1);
	}
	return ok;
}

static void unref(struct xtcpd_buf *b)
{
	struct bufhdr *h = b->priv;

	if (atomic_fetch_sub(&h->refs, 1) == 1)
		batch_put(b);
}

void sink_push(struct sinkinst *k, struct xtcpd_buf *b)
{
	uint32_t rows = b->rows;
	int wait_ms, rc;

	if (atomic_load_explicit(&k->closed, memory_order_relaxed)) {
		drop_closed(k, b);
		unref(b);
		return;
	}
	if (!take_quota(k)) {
		/* It sits on queue_depth + max_in_flight batches already (a dead broker
		 * holding its deliveries): its batch is dropped, the other sinks go on. */
		metrics_add(k->m_drop_inflight_batches, 1);
		metrics_add(k->m_drop_inflight_records, rows);
		log_ratelimited(&k->held, 10000, XTCPD_LOG_WARN, k->ctx.prefix,
				"%d batches not yet released (max_in_flight reached): batch of %u records dropped",
				k->quota, rows);
		unref(b);
		return;
	}
	wait_ms = k->drop_when_full || atomic_load(&k->stalled) ? 0 : k->block_ms;
	rc = queue_push(k->q, b, wait_ms);
	if (rc) {
		if (rc == -EAGAIN)
			atomic_store(&k->stalled, 1);
		if (rc == -EAGAIN && wait_ms > 0)
			metrics_add(k->m_block_timeouts, 1);
		atomic_fetch_sub(&k->held, 1);
		metrics_add(k->m_drop_batches, 1);
		metrics_add(k->m_drop_records, rows);
		log_ratelimited(k, 10000, XTCPD_LOG_WARN, k->ctx.prefix,
				"queue full: batch of %u records dropped", rows);
		unref(b);
		return;
	}
	metrics_add(k->m_batches_queued, 1);
	metrics_add(k->m_records_queued, rows);
	metrics_set(k->m_queue_depth, queue_depth(k->q));
}

void sink_release(struct xtcpd_ctx *ctx, struct xtcpd_buf *b, int ok)
{
	struct sinkinst *k = (struct sinkinst *)ctx; /* ctx is the first member */
	struct bufhdr *h = b->priv;

	atomic_fetch_sub(&k->held, 1);
	atomic_store(&k->stalled, 0);
	if (atomic_load(&k->held_waiters)) {
		pthread_mutex_lock(&k->held_lock);
		pthread_cond_broadcast(&k->held_cond);
		pthread_mutex_unlock(&k->held_lock);
	}
	if (ok) {
		metrics_add(k->m_delivered_batches, 1);
		metrics_add(k->m_delivered_records, b->rows);
		metrics_add(k->m_delivered_bytes, b->len - b->off);
	} else {
		metrics_add(k->m_failed_batches, 1);
		metrics_add(k->m_failed_records, b->rows);
	}
	metrics_observe(k->latency, (double)(clock_mono_ns() - h->flushed_ns) / 1e9);
	unref(b);
}

static void *sink_thread(void *arg)
{
	struct sinkinst *k = arg;
	struct xtcpd_buf *b;
	char name[THREADS_NAME_MAX + 1];
	int rc;

	snprintf(name, sizeof(name), "sink/%s", k->ctx.sec->instance);
	threads_name_self(name);
	while ((b = queue_pop(k->q))) {
		metrics_set(k->m_queue_depth, queue_depth(k->q));
		if (atomic_load(&k->expired)) { /* shutdown deadline passed: count, don't send */
			metrics_add(k->m_abandoned_batches, 1);
			metrics_add(k->m_abandoned_records, b->rows);
			sink_release(&k->ctx, b, 0);
			continue;
		}
		if (atomic_load(&k->closed)) { /* queued before its output went away: failed */
			sink_release(&k->ctx, b, 0);
			continue;
		}
		k->inflight = b;
		rc = k->ops->send(k->ctx.inst, b);
		k->inflight = NULL;
		if (rc == -EPIPE)
			sink_closed(k);
	}
	return NULL;
}

int sink_start(struct sinkinst *k)
{
	int rc = caps_run_confined(0, sink_do_start, k, NULL);

	if (rc == -EAGAIN || rc == -ENOMEM)  /* no confined thread, so nothing started */
		host_log(&k->ctx, XTCPD_LOG_ERR, "cannot start: %s", log_errstr(rc));
	return rc;
}

void sink_reopen(struct sinkinst *k)
{
	int rc;

	if (!k->ops->reopen || !k->ctx.created)
		return;
	rc = caps_run_confined(0, sink_do_reopen, k, NULL);
	if (rc)
		host_log(&k->ctx, XTCPD_LOG_ERR, "reopen failed: %s", log_errstr(rc));
}

void sink_close(struct sinkinst *k)
{
	if (k->q)
		queue_close(k->q);
}

/* Past the deadline, what is still queued is dropped (counted) and a send still running
 * is cancelled when the sink can; a thread still stuck a second later (a write that
 * never returns) is left running and its sink never destroyed. */
static int join(struct sinkinst *k, const struct timespec *deadline)
{
	struct timespec grace;
	unsigned left;

	if (!pthread_timedjoin_np(k->thread, NULL, deadline))
		goto joined;
	atomic_store(&k->expired, 1);
	if (k->ops->common.struct_size >= offsetof(struct xtcpd_sink_ops, cancel) + sizeof(void *) &&
	    k->ops->cancel)
		k->ops->cancel(k->ctx.inst);
	grace = clock_deadline(CLOCK_REALTIME, 1000);
	if (!pthread_timedjoin_np(k->thread, NULL, &grace))
		goto joined;
	k->stuck = 1;
	left = queue_depth(k->q);
	host_log(&k->ctx, XTCPD_LOG_ERR, "did not finish in time: the batch being sent and %u queued "
		 "batches are abandoned (counted as reason=\"shutdown\")", left);
	if (k->inflight)
		metrics_add(k->m_abandoned_records, k->inflight->rows);
	for (unsigned i = 0; i < left; i++) {
		struct xtcpd_buf *b = queue_pop(k->q);
		if (b)
			metrics_add(k->m_abandoned_records, b->rows);
	}
	metrics_add(k->m_abandoned_batches, 1 + left);
	return 1 + (int)left;
joined:
	k->thread_ok = 0;
	if (atomic_load(&k->expired))
		host_log(&k->ctx, XTCPD_LOG_WARN, "shutdown deadline passed: queued batches dropped "
			 "(counted as reason=\"shutdown\")");
	return 0;
}

int sink_finish(struct sinkinst *k, const struct timespec *deadline)
{
	int64_t ms;
	int left;

	if (k->stuck)
		return 0;
	if (k->thread_ok && (left = join(k, deadline)))
		return left;
	if (!k->ctx.created)
		return 0;
	ms = ((int64_t)deadline->tv_sec * 1000000000LL + deadline->tv_nsec -
	      clock_now_ns(CLOCK_REALTIME)) / 1000000;
	left = k->ops->flush(k->ctx.inst, ms > 0 ? (int)ms : 0);
	if (left > 0)
		host_log(&k->ctx, XTCPD_LOG_WARN, "%d batches not delivered at shutdown", left);
	return left > 0 ? left : 0;
}

void sink_destroy(struct sinkinst *k)
{
	if (!k || k->stuck)
		return;
	if (k->ctx.created && !atomic_load(&k->closed))
		atomic_fetch_sub(&sinks_open, 1);
	if (k->ctx.started && k->ops->common.stop)
		k->ops->common.stop(k->ctx.inst);
	if (k->ctx.created || k->ctx.inst)
		k->ops->common.destroy(k->ctx.inst);
	queue_destroy(k->q);
	pthread_mutex_destroy(&k->held_lock);
	pthread_cond_destroy(&k->held_cond);
	free(k);
}
