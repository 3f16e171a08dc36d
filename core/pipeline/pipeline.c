/* pipeline — creates the configured instances, wires sources -> marshallers -> sinks, and
 * runs their lifecycle: start, one poll cycle at a time, namespaces, reopen, a bounded
 * stop. The data path itself is batch.c (lanes and batches) and sink.c (queues, sink
 * threads, outcomes). */
#include "config.h"
#include "pipeline/pipeline.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/clock.h"
#include "ops/log.h"
#include "pipeline/batch.h"
#include "pipeline/host.h"
#include "pipeline/internal.h"
#include "pipeline/sink.h"

#define C XTCPD_METRIC_COUNTER
#define M(f) offsetof(struct marsh, f)
static const struct host_metric_def marsh_metrics[] = {
	{ M(m_records), C, "marshal_records_total", NULL, "Records appended to batches" },
	{ M(m_batches), C, "marshal_batches_total", NULL, "Batches flushed to sinks" },
	{ M(m_bytes), C, "marshal_bytes_total", NULL, "Bytes of flushed batches" },
	HOST_METRIC_DROPPED(M(m_drop_nobuf), "marshal", "no_buffer"),
	HOST_METRIC_DROPPED(M(m_drop_toolarge), "marshal", "too_large"),
	HOST_METRIC_DROPPED(M(m_drop_error), "marshal", "error"),
	HOST_METRIC_DROPPED(M(m_drop_nosink), "marshal", "no_sink"),
};
#undef M
#undef C

static int create_instance(struct xtcpd_ctx *ctx, const struct xtcpd_ops_common *ops)
{
	int rc = ops->create(&host_table, ctx, &ctx->sec->cfg, &ctx->inst);

	if (rc) {
		host_log(ctx, XTCPD_LOG_ERR, "create failed: %s", log_errstr(rc));
		return rc < 0 ? rc : -EINVAL;
	}
	ctx->created = 1;
	return 0;
}

static int start_instance(struct xtcpd_ctx *ctx, const struct xtcpd_ops_common *ops)
{
	int rc = ops->start ? ops->start(ctx->inst) : 0;

	if (rc) {
		host_log(ctx, XTCPD_LOG_ERR, "start failed: %s", log_errstr(rc));
		return rc < 0 ? rc : -EINVAL;
	}
	ctx->started = 1;
	return 0;
}

static void destroy_instance(struct xtcpd_ctx *ctx, const struct xtcpd_ops_common *ops)
{
	if (ctx->started && ops->stop)
		ops->stop(ctx->inst);
	ctx->started = 0;
	if (ctx->created || ctx->inst)
		ops->destroy(ctx->inst);
	ctx->inst = NULL;
	ctx->created = 0;
}

static int add_marsh(struct pipeline *p, struct conf_section *s, const struct plugin *pl)
{
	struct marsh *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	p->marsh[p->n_marsh++] = m;
	host_ctx_init(&m->ctx, p, CONF_MARSHALLER, s, pl);
	m->ops = pl->desc->ops;
	m->flush_rows = (uint32_t)s->kind_values[MK_FLUSH_ROWS].num;
	m->flush_bytes = (size_t)s->kind_values[MK_FLUSH_BYTES].num;
	host_metrics_register(&m->ctx, m, marsh_metrics, sizeof(marsh_metrics) / sizeof(marsh_metrics[0]));
	return create_instance(&m->ctx, &m->ops->common);
}

static int add_sink(struct pipeline *p, struct conf_section *s, const struct plugin *pl)
{
	struct sinkinst *k;
	int rc = sink_create(p, s, pl, &k);

	if (k)
		p->sinks[p->n_sinks++] = k;
	return rc;
}

static int add_source(struct pipeline *p, struct conf_section *s, const struct plugin *pl)
{
	struct srcinst *src = calloc(1, sizeof(*src));
	int rc;

	if (!src)
		return -ENOMEM;
	p->src[p->n_src++] = src;
	host_ctx_init(&src->ctx, p, CONF_SOURCE, s, pl);
	src->ops = pl->desc->ops;
	src->m_records = host_metric(&src->ctx, XTCPD_METRIC_COUNTER, "records_emitted_total", NULL,
				     "Records emitted by the source");
	if ((rc = create_instance(&src->ctx, &src->ops->common)))
		return rc;
	src->lanes = src->ops->lanes(src->ctx.inst);
	if (!src->lanes)
		src->lanes = 1;
	return 0;
}

/* Batch buffers: capacity from flush_bytes and the smallest sink limit. */
static int size_pools(struct pipeline *p)
{
	unsigned lanes = 0;

	for (size_t i = 0; i < p->n_src; i++)
		lanes += p->src[i]->lanes;
	for (size_t i = 0; i < p->n_marsh; i++) {
		struct marsh *m = p->marsh[i];
		int64_t nbuf = m->ctx.sec->kind_values[MK_BUFFERS].num;
		int64_t held = 0;
		char name[64];
		int rc;

		m->buf_cap = m->flush_bytes;
		for (size_t j = 0; j < m->n_sinks; j++) {
			size_t lim = m->sinks[j]->ops->max_message(m->sinks[j]->ctx.inst);
			if (lim && lim < m->buf_cap)
				m->buf_cap = lim;
			held += m->sinks[j]->quota;
		}
		/* Every buffer is a lane's current batch or held by a sink within its quota,
		 * so this many can never run dry while the sinks keep to their quotas. */
		if (!nbuf)
			nbuf = (int64_t)lanes * 2 + held + 2;
		snprintf(name, sizeof(name), "batch/%s", m->ctx.sec->instance);
		rc = pool_create(name, sizeof(struct bufhdr) + m->buf_cap, (unsigned)nbuf, &m->bufs);
		if (rc) {
			host_log(&m->ctx, XTCPD_LOG_ERR, "cannot allocate %lld batch buffers of %zu bytes",
				 (long long)nbuf, m->buf_cap);
			return rc;
		}
		if (!m->n_sinks)
			host_log(&m->ctx, XTCPD_LOG_WARN, "no sink uses this marshaller; its batches are dropped");
	}
	for (size_t i = 0; i < p->n_src; i++) {
		p->src[i]->cur = calloc((size_t)p->src[i]->lanes * p->n_marsh + 1, sizeof(struct xtcpd_buf *));
		if (!p->src[i]->cur)
			return -ENOMEM;
	}
	return 0;
}

int pipeline_create(struct conf *c, struct plugin_set *ps, const struct pipeline_opts *o,
		    struct pipeline **out)
{
	static const enum conf_kind order[] = { CONF_MARSHALLER, CONF_SINK, CONF_SOURCE };
	struct pipeline *p = calloc(1, sizeof(*p));
	int rc = 0;

	*out = p;
	if (!p)
		return -ENOMEM;
	p->conf = c;
	p->daemon_version = o->daemon_version;
	p->capture_dir = o->capture_dir;
	p->pool_wait_ms = (int)c->core[CK_POOL_WAIT].num;
	p->src = calloc(c->n_sec, sizeof(*p->src));
	p->marsh = calloc(c->n_sec, sizeof(*p->marsh));
	p->sinks = calloc(c->n_sec, sizeof(*p->sinks));
	if (!p->src || !p->marsh || !p->sinks)
		return -ENOMEM;
	/* marshallers first: sinks attach to them */
	for (size_t pass = 0; pass < 3 && !rc; pass++) {
		for (size_t i = 0; i < c->n_sec && !rc; i++) {
			struct conf_section *s = c->sec[i];
			const struct plugin *pl;
			char err[600];

			if (s->kind != order[pass])
				continue;
			rc = plugin_load(ps, (unsigned)s->kind, s->plugin, &pl, err, sizeof(err));
			if (rc) {
				log_err("%s", err);
				break;
			}
			rc = s->kind == CONF_MARSHALLER ? add_marsh(p, s, pl) :
			     s->kind == CONF_SINK ? add_sink(p, s, pl) : add_source(p, s, pl);
		}
	}
	return rc ? rc : size_pools(p);
}

unsigned pipeline_threads(const struct pipeline *p)
{
	unsigned n = 1 + (unsigned)p->n_sinks;

	for (size_t i = 0; i < p->n_src; i++)
		n += p->src[i]->lanes;
	return n;
}

int pipeline_start(struct pipeline *p)
{
	int rc;

	for (size_t i = 0; i < p->n_sinks; i++)
		if ((rc = sink_start(p->sinks[i])))
			return rc;
	for (size_t i = 0; i < p->n_marsh; i++)
		if ((rc = start_instance(&p->marsh[i]->ctx, &p->marsh[i]->ops->common)))
			return rc;
	for (size_t i = 0; i < p->n_src; i++)
		if ((rc = start_instance(&p->src[i]->ctx, &p->src[i]->ops->common)))
			return rc;
	return 0;
}

int pipeline_cycle(struct pipeline *p, uint64_t seq, struct xtcpd_netns *const *ns, size_t n_ns,
		   int64_t timeout_ms)
{
	struct xtcpd_cycle cyc = { .seq = seq, .ns = ns, .n_ns = n_ns };
	int first_rc = 0;

	cyc.start_ns = clock_now_ns(CLOCK_REALTIME);
	cyc.deadline_ns = clock_mono_ns() + timeout_ms * 1000000LL;
	atomic_store(&p->cycle_start_ns, cyc.start_ns);
	for (size_t i = 0; i < p->n_src; i++) {
		struct srcinst *src = p->src[i];
		int rc = src->ops->poll(src->ctx.inst, &cyc);

		if (rc && !first_rc)
			first_rc = rc;
		batch_flush_lanes(p, src);
	}
	return first_rc;
}

int pipeline_ns_add(struct pipeline *p, struct xtcpd_netns *ns)
{
	int rc = 0;

	for (size_t i = 0; i < p->n_src; i++)
		if (p->src[i]->ops->ns_add) {
			int r = p->src[i]->ops->ns_add(p->src[i]->ctx.inst, ns);
			if (r && !rc)
				rc = r;
		}
	return rc;
}

void pipeline_ns_del(struct pipeline *p, struct xtcpd_netns *ns)
{
	for (size_t i = 0; i < p->n_src; i++)
		if (p->src[i]->ops->ns_del)
			p->src[i]->ops->ns_del(p->src[i]->ctx.inst, ns);
}

void pipeline_reopen(struct pipeline *p)
{
	for (size_t i = 0; i < p->n_sinks; i++) {
		struct sinkinst *k = p->sinks[i];
		if (k->ops->reopen && k->ctx.created) {
			int rc = k->ops->reopen(k->ctx.inst);
			if (rc)
				host_log(&k->ctx, XTCPD_LOG_ERR, "reopen failed: %s", log_errstr(rc));
		}
	}
}

int pipeline_stop(struct pipeline *p, int timeout_ms)
{
	struct timespec dl;
	int undelivered = 0;

	if (!p)
		return 0;
	for (size_t i = 0; i < p->n_src; i++) {
		struct srcinst *src = p->src[i];
		if (src->ctx.started && src->ops->common.stop)
			src->ops->common.stop(src->ctx.inst);
		src->ctx.started = 0;
		if (src->cur)
			batch_flush_lanes(p, src);
	}
	dl = clock_deadline(CLOCK_REALTIME, timeout_ms);
	for (size_t i = 0; i < p->n_sinks; i++)
		sink_close(p->sinks[i]);
	for (size_t i = 0; i < p->n_sinks; i++)
		undelivered += sink_finish(p->sinks[i], &dl);
	return undelivered;
}

void pipeline_destroy(struct pipeline *p)
{
	if (!p)
		return;
	pipeline_stop(p, 1000); /* no-op when already stopped */
	for (size_t i = 0; i < p->n_src; i++) {
		batch_drop_lanes(p, p->src[i]);
		destroy_instance(&p->src[i]->ctx, &p->src[i]->ops->common);
		free(p->src[i]->cur);
		free(p->src[i]);
	}
	for (size_t i = 0; i < p->n_sinks; i++)
		if (p->sinks[i]->stuck) {
			/* A thread is still inside send() and may touch its sink, the buffers and
			 * their marshaller when it returns: leave all of that allocated. */
			log_warn("a sink thread is stuck: its pipeline's memory is not freed");
			free(p->src);
			free(p);
			return;
		}
	for (size_t i = 0; i < p->n_sinks; i++)
		sink_destroy(p->sinks[i]);
	for (size_t i = 0; i < p->n_marsh; i++) {
		destroy_instance(&p->marsh[i]->ctx, &p->marsh[i]->ops->common);
		pool_destroy(p->marsh[i]->bufs);
		free(p->marsh[i]->sinks);
		free(p->marsh[i]);
	}
	free(p->src);
	free(p->sinks);
	free(p->marsh);
	free(p);
}
