/* pipeline/batch — the data path: emit() appends a record to the lane's current batch of
 * every marshaller, a full batch is finished and pushed to each sink of that marshaller
 * (sink.c), and the last sink to release it returns it to the pool. Nothing here
 * allocates. */
#include "config.h"
#include "pipeline/batch.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ops/clock.h"
#include "ops/log.h"
#include "netns/ident.h"
#include "netns/netns.h"
#include "pipeline/sink.h"

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

void batch_put(struct xtcpd_buf *b)
{
	struct bufhdr *h = b->priv;

	pool_put(h->m->bufs, h);
}

/* Hand a batch to every sink of its marshaller; each holds one reference. */
static void flush(struct marsh *m, struct xtcpd_buf *b)
{
	struct bufhdr *h = b->priv;

	metrics_add(m->m_records, b->rows); /* per batch, not per record: one atomic less */
	if (!b->rows || m->ops->finish(m->ctx.inst, b)) {
		metrics_add(m->m_drop_error, b->rows);
		batch_put(b);
		return;
	}
	metrics_add(m->m_batches, 1);
	metrics_add(m->m_bytes, b->len - b->off);
	if (!m->n_sinks) {
		metrics_add(m->m_drop_nosink, b->rows);
		batch_put(b);
		return;
	}
	atomic_store(&h->refs, (int)m->n_sinks);
	h->flushed_ns = clock_mono_ns();
	for (size_t i = 0; i < m->n_sinks; i++)
		sink_push(m->sinks[i], b);
}

static void append(struct pipeline *p, struct marsh *m, struct xtcpd_buf **slot,
		   const struct xtcpd_record *rec)
{
	struct xtcpd_buf *b = *slot;
	int rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (!b && !(b = *slot = buf_new(p, m))) {
			metrics_add(m->m_drop_nobuf, 1);
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
	metrics_add(rc == -ENOSPC ? m->m_drop_toolarge : m->m_drop_error, 1);
}

/* The collector's part of the record: record.h says which fields the core owns. */
static void stamp(struct pipeline *p, unsigned lane, struct xtcpd_record *rec)
{
	const struct conf *c = p->conf;

	rec->schema_version = XTCPD_SCHEMA_VERSION;
	rec->daemon_version = p->daemon_version;
	rec->timestamp_ns = atomic_load_explicit(&p->cycle_start_ns, memory_order_relaxed);
	rec->hostname = c->hostname;
	rec->label = c->core[CK_LABEL].str;
	rec->tag = c->core[CK_TAG].str;
	rec->location = c->core[CK_LOCATION].str;
	rec->record_counter = atomic_fetch_add_explicit(&p->record_counter, 1, memory_order_relaxed) + 1;
	rec->netlinker_id = lane;
	rec->uplink[0] = p->uplink[0];
	rec->uplink[1] = p->uplink[1];
}

static int emit(struct srcinst *src, unsigned lane, struct xtcpd_record *rec)
{
	struct pipeline *p;

	if (lane >= src->lanes)
		return -EINVAL;
	if (src->lane_lock) {
		/* A continuous source: the main thread may be flushing this lane or swapping
		 * its pipeline (ctx.pl, cur): both hold the lane's lock. The record's time is
		 * its own, not a cycle's. */
		pthread_mutex_lock(&src->lane_lock[lane]);
		p = src->ctx.pl;
		stamp(p, lane, rec);
		rec->timestamp_ns = clock_now_ns(CLOCK_REALTIME);
		src->emitted[lane].n++;
		for (size_t i = 0; i < p->n_marsh; i++)
			append(p, p->marsh[i], &src->cur[(size_t)lane * p->n_marsh + i], rec);
		pthread_mutex_unlock(&src->lane_lock[lane]);
		return 0;
	}
	p = src->ctx.pl;
	stamp(p, lane, rec);
	/* The lane's own counter (no atomic, no shared cache line per record), published
	 * at the end of the source's cycle. */
	src->emitted[lane].n++;
	for (size_t i = 0; i < p->n_marsh; i++)
		append(p, p->marsh[i], &src->cur[(size_t)lane * p->n_marsh + i], rec);
	return 0;
}

/* A source built before ABI 1.6: its record ends before pod_namespace, and what lies past
 * it is not the source's, yet every marshaller reads the whole record. It is copied into
 * a whole one with the 1.6 fields empty (only such sources pay for the copy). */
static int emit_short(struct srcinst *src, unsigned lane, const struct xtcpd_record *rec)
{
	struct xtcpd_record whole;

	memcpy(&whole, rec, offsetof(struct xtcpd_record, pod_namespace));
	whole.pod_namespace = NULL;
	whole.pod_name = NULL;
	return emit(src, lane, &whole);
}

int batch_emit(struct xtcpd_ctx *ctx, unsigned lane, struct xtcpd_record *rec)
{
	struct srcinst *src = (struct srcinst *)ctx; /* ctx is the first member */

	return src->rec_pod ? emit(src, lane, rec) : emit_short(src, lane, rec);
}

int batch_emit_ns(struct xtcpd_ctx *ctx, unsigned lane, const struct xtcpd_netns *ns,
		  struct xtcpd_record *rec)
{
	struct srcinst *src = (struct srcinst *)ctx;

	if (ns) {
		/* Resolved by the namespace manager at its scan (NULL when enrichment is off):
		 * here only pointers are copied. */
		const struct netns_ident *id = netns_ident_of(ns);

		rec->netns = id && id->netns ? id->netns : ns->name;
		rec->netns_inode = ns->inode;
		rec->nsid = ns->nsid;
		rec->container_id = id ? id->id : NULL;
		rec->container_runtime = id ? id->runtime : NULL;
		rec->container_name = id ? id->name : NULL;
		rec->container_image = id ? id->image : NULL;
		if (!src->rec_pod)  /* the source's record ends before the 1.6 fields */
			return emit_short(src, lane, rec);
		rec->pod_namespace = id ? id->pod_ns : NULL;
		rec->pod_name = id ? id->pod_name : NULL;
	}
	return src->rec_pod ? emit(src, lane, rec) : emit_short(src, lane, rec);
}

/* Lane l's lock, when the source is continuous and the caller does not hold them all. */
static void lane_lock(struct srcinst *src, unsigned l)
{
	if (src->lane_lock && !src->lanes_held)
		pthread_mutex_lock(&src->lane_lock[l]);
}

static void lane_unlock(struct srcinst *src, unsigned l)
{
	if (src->lane_lock && !src->lanes_held)
		pthread_mutex_unlock(&src->lane_lock[l]);
}

/* Empty batches stay for the next cycle, so an idle cycle costs no pool traffic. */
void batch_flush_lanes(struct pipeline *p, struct srcinst *src)
{
	for (unsigned l = 0; l < src->lanes; l++) {
		lane_lock(src, l);
		if (src->emitted) {
			metrics_add(src->m_records, src->emitted[l].n);
			src->emitted[l].n = 0;
		}
		for (size_t i = (size_t)l * p->n_marsh; src->cur && i < (size_t)(l + 1) * p->n_marsh; i++) {
			struct xtcpd_buf *b = src->cur[i];

			if (b && b->rows) {
				flush(p->marsh[i % p->n_marsh], b);
				src->cur[i] = NULL;
			}
		}
		lane_unlock(src, l);
	}
}

void batch_drop_lanes(struct pipeline *p, struct srcinst *src)
{
	for (unsigned l = 0; src->cur && l < src->lanes; l++) {
		lane_lock(src, l);
		for (size_t i = (size_t)l * p->n_marsh; i < (size_t)(l + 1) * p->n_marsh; i++)
			if (src->cur[i]) {
				metrics_add(p->marsh[i % p->n_marsh]->m_records, src->cur[i]->rows);
				batch_put(src->cur[i]);
				src->cur[i] = NULL;
			}
		lane_unlock(src, l);
	}
}

void batch_lanes_hold(struct srcinst *src, int hold)
{
	for (unsigned l = 0; src->lane_lock && l < src->lanes; l++) {
		if (hold)
			pthread_mutex_lock(&src->lane_lock[l]);
		else
			pthread_mutex_unlock(&src->lane_lock[l]);
	}
	src->lanes_held = src->lane_lock && hold;
}

int64_t batch_tick(struct pipeline *p, struct srcinst *src, int64_t now_ns)
{
	if (!src->lane_lock)
		return INT64_MAX;
	if (now_ns >= src->next_flush_ns) {
		batch_flush_lanes(p, src);
		src->next_flush_ns = now_ns + src->flush_ns;
	}
	return src->next_flush_ns;
}
