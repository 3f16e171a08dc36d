/* batch — the data path: emit() appends a record to the lane's current batch of every
 * marshaller, a full batch is finished and queued to each sink of that marshaller, and
 * the last sink to release it returns it to the pool. Nothing here allocates. */
#include "config.h"
#include "pipeline_int.h"
#include "pipeline.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

static struct xtcpd_buf *buf_new(struct pipeline *p, struct marsh *m)
{
	/* Once the pool ran dry, wait no more until a buffer comes back: a sink that
	 * holds every buffer (Kafka during an outage) then costs the cycle one pool_wait,
	 * not one per record. */
	int wait = atomic_load_explicit(&m->starved, memory_order_relaxed) ? 0 : p->pool_wait_ms;
	struct bufhdr *h = pool_get(m->bufs, wait);

	atomic_store_explicit(&m->starved, !h, memory_order_relaxed);
	if (!h)
		return NULL;
	h->m = m;
	h->buf = (struct xtcpd_buf){ .data = (uint8_t *)(h + 1), .cap = m->buf_cap, .priv = h };
	if (m->ops->begin(m->ctx.inst, &h->buf)) {
		pool_put(m->bufs, h);
		return NULL;
	}
	return &h->buf;
}

static void buf_free(struct xtcpd_buf *b)
{
	struct bufhdr *h = b->priv;

	pool_put(h->m->bufs, h);
}

/* Reserve one of the sink's queue_depth + max_in_flight places; with queue_full =
 * block, wait up to queue_block_timeout for the sink to release one. */
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
	if (!ok)
		atomic_store(&k->stalled, 1);
	return ok;
}

/* Hand a batch to every sink of its marshaller; each holds one reference. */
static void flush(struct marsh *m, struct xtcpd_buf *b)
{
	struct bufhdr *h = b->priv;

	metric_add(m->m_records, b->rows); /* per batch, not per record: one atomic less */
	if (!b->rows || m->ops->finish(m->ctx.inst, b)) {
		if (b->rows)
			metric_add(m->m_drop_error, b->rows);
		buf_free(b);
		return;
	}
	metric_add(m->m_batches, 1);
	metric_add(m->m_bytes, b->len - b->off);
	if (!m->n_sinks) {
		metric_add(m->m_drop_nosink, b->rows);
		buf_free(b);
		return;
	}
	atomic_store(&h->refs, (int)m->n_sinks);
	h->flushed_ns = mono_ns();
	for (size_t i = 0; i < m->n_sinks; i++) {
		struct sinkinst *k = m->sinks[i];
		uint32_t rows = b->rows;
		int rc;

		if (!take_quota(k)) {
			/* It sits on queue_depth + max_in_flight batches already (a dead broker
			 * holding its deliveries): its batch is dropped, the others go on. */
			atomic_fetch_sub(&k->held, 1);
			metric_add(k->m_drop_inflight_batches, 1);
			metric_add(k->m_drop_inflight_records, rows);
			log_ratelimited(&k->held, 10000, XTCPD_LOG_WARN, k->ctx.prefix,
					"%d batches not yet released (max_in_flight reached): batch of %u records dropped",
					k->quota, rows);
			if (atomic_fetch_sub(&h->refs, 1) == 1)
				buf_free(b);
			continue;
		}
		rc = queue_push(k->q, b, k->drop_when_full || atomic_load(&k->stalled) ? 0 : k->block_ms);
		if (rc) {
			if (rc == -EAGAIN)
				atomic_store(&k->stalled, 1);
			atomic_fetch_sub(&k->held, 1);
			metric_add(k->m_drop_batches, 1);
			metric_add(k->m_drop_records, rows);
			log_ratelimited(k, 10000, XTCPD_LOG_WARN, k->ctx.prefix,
					"queue full: batch of %u records dropped", rows);
			if (atomic_fetch_sub(&h->refs, 1) == 1)
				buf_free(b);
		} else {
			metric_add(k->m_batches_queued, 1);
			metric_add(k->m_records_queued, rows);
			metric_set(k->m_queue_depth, queue_depth(k->q));
		}
	}
}

void pipeline_buf_release(struct xtcpd_ctx *ctx, struct xtcpd_buf *b, int ok)
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
	metric_add(ok ? k->m_delivered_batches : k->m_failed_batches, 1);
	metric_add(ok ? k->m_delivered_records : k->m_failed_records, b->rows);
	metrics_observe(k->latency, (double)(mono_ns() - h->flushed_ns) / 1e9);
	if (atomic_fetch_sub(&h->refs, 1) == 1)
		buf_free(b);
}

static void append(struct pipeline *p, struct marsh *m, struct xtcpd_buf **slot,
		   const struct xtcpd_record *rec)
{
	struct xtcpd_buf *b = *slot;
	int rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (!b && !(b = *slot = buf_new(p, m))) {
			metric_add(m->m_drop_nobuf, 1);
			log_ratelimited(m, 10000, XTCPD_LOG_WARN, m->ctx.prefix,
					"no free batch buffer: record dropped (raise buffers or pool_wait)");
			return;
		}
		rc = m->ops->append(m->ctx.inst, b, rec);
		if (rc == 0) {
			b->rows++;
			if (rec->flags & XTCPD_REC_DUMP_INTR)
				b->flags |= XTCPD_BUF_DUMP_INTR;
			if (b->rows >= m->flush_rows || b->len >= m->flush_bytes) {
				flush(m, b);
				*slot = NULL;
			}
			return;
		}
		if (rc != -ENOSPC || !b->rows)
			break;
		flush(m, b); /* full: send it and retry in a fresh buffer */
		b = *slot = NULL;
	}
	metric_add(rc == -ENOSPC ? m->m_drop_toolarge : m->m_drop_error, 1);
}

int pipeline_emit(struct xtcpd_ctx *ctx, unsigned lane, struct xtcpd_record *rec)
{
	struct srcinst *src = (struct srcinst *)ctx;
	struct pipeline *p = ctx->pl;
	const struct conf *c = p->conf;

	if (lane >= src->lanes)
		return -EINVAL;
	rec->schema_version = XTCPD_SCHEMA_VERSION;
	rec->daemon_version = p->daemon_version;
	rec->timestamp_ns = atomic_load_explicit(&p->cycle_start_ns, memory_order_relaxed);
	rec->hostname = c->hostname;
	rec->label = c->core[CK_LABEL].str;
	rec->tag = c->core[CK_TAG].str;
	rec->location = c->core[CK_LOCATION].str;
	rec->record_counter = atomic_fetch_add_explicit(&p->record_counter, 1, memory_order_relaxed) + 1;
	rec->netlinker_id = lane;
	/* The lane's own counter (no atomic, no shared cache line per record), published
	 * at the end of the source's cycle. */
	src->emitted[lane].n++;
	for (size_t i = 0; i < p->n_marsh; i++)
		append(p, p->marsh[i], &src->cur[(size_t)lane * p->n_marsh + i], rec);
	return 0;
}

/* End of a source's cycle: flush every lane's partial batch (empty ones stay for the
 * next cycle, so an idle cycle costs no pool traffic). */
void pipeline_flush_source(struct pipeline *p, struct srcinst *src)
{
	for (unsigned l = 0; src->emitted && l < src->lanes; l++) {
		metric_add(src->m_records, src->emitted[l].n);
		src->emitted[l].n = 0;
	}
	for (size_t i = 0; i < (size_t)src->lanes * p->n_marsh; i++) {
		struct xtcpd_buf *b = src->cur[i];

		if (b && b->rows) {
			flush(p->marsh[i % p->n_marsh], b);
			src->cur[i] = NULL;
		}
	}
}

void pipeline_drop_partial(struct pipeline *p, struct srcinst *src)
{
	for (size_t i = 0; src->cur && i < (size_t)src->lanes * p->n_marsh; i++)
		if (src->cur[i]) {
			metric_add(p->marsh[i % p->n_marsh]->m_records, src->cur[i]->rows);
			buf_free(src->cur[i]);
			src->cur[i] = NULL;
		}
}
