/* pipeline — creates the configured instances (or adopts the running pipeline's unchanged
 * ones, see reload.c), wires sources -> marshallers -> sinks, and runs their lifecycle:
 * start, one poll cycle at a time, namespaces, reopen, a bounded stop. The data path
 * itself is batch.c (lanes and batches) and sink.c (queues, sink threads, outcomes). */
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
#include "pipeline/reload.h"
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

/* Create with cfg. A source's XTCPD_ERR_UNAVAILABLE is passed up unlogged: the plugin
 * said why, and add_source decides what comes next. */
static int create_with(struct xtcpd_ctx *ctx, const struct xtcpd_ops_common *ops,
		       const struct xtcpd_config *cfg)
{
	int rc = ops->create(&host_table, ctx, cfg, &ctx->inst);

	if (rc == XTCPD_ERR_UNAVAILABLE && ctx->kind == CONF_SOURCE)
		return rc;
	if (rc) {
		host_log(ctx, XTCPD_LOG_ERR, "create failed: %s", log_errstr(rc));
		return rc < 0 ? rc : -EINVAL;
	}
	ctx->created = 1;
	return 0;
}

static int create_instance(struct xtcpd_ctx *ctx, const struct xtcpd_ops_common *ops)
{
	return create_with(ctx, ops, &ctx->sec->cfg);
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

/* Owned: made by p (or handed over to it); else adopted from the running pipeline and
 * only changed through its next_* fields until the swap. */
#define OWNED(p, obj) ((obj)->ctx.pl == (p))

static int add_sink(struct pipeline *p, struct pipeline *old, struct conf_section *s,
		    const struct plugin *pl)
{
	struct sinkinst *k = reload_adopt_sink(old, p, s, pl);
	int rc = 0;

	if (!k)
		rc = sink_create(p, s, pl, &k);
	if (k)
		p->sinks[p->n_sinks++] = k;
	return rc;
}

/* The source's mechanism is unavailable on this host: the section's fallback source, if
 * it names one, takes its place (logged once, gauge xtcpd_source_fallback = 1). */
static int source_fallback(struct srcinst *src, struct plugin_set *ps)
{
	struct conf_section *s = src->ctx.sec;
	const char *name = s->kind_values[SRK_FALLBACK].str;
	const struct plugin *pl;
	_Atomic uint64_t *g;
	char err[600];
	int rc;

	destroy_instance(&src->ctx, &src->ops->common);
	if (!name || !*name) {
		host_log(&src->ctx, XTCPD_LOG_ERR, "unavailable on this host, and the section names no "
			 "fallback (add 'fallback = netlink' to [source %s] to collect through sock_diag instead)",
			 s->instance);
		return XTCPD_ERR_UNAVAILABLE;
	}
	if ((rc = plugin_load(ps, XTCPD_KIND_SOURCE, name, &pl, err, sizeof(err)))) {
		log_err("%s", err);
		return rc;
	}
	host_log(&src->ctx, XTCPD_LOG_WARN, "unavailable on this host: the fallback source '%s' "
		 "collects for this section instead", name);
	src->ctx.plugin = pl;
	src->ops = pl->desc->ops;
	g = host_metric(&src->ctx, XTCPD_METRIC_GAUGE, "source_fallback", NULL,
			"1: the source's mechanism is unavailable here and its fallback collects");
	if (g)
		atomic_store(g, 1);
	rc = create_with(&src->ctx, &src->ops->common, &s->fb_cfg);
	if (rc == XTCPD_ERR_UNAVAILABLE)
		host_log(&src->ctx, XTCPD_LOG_ERR, "the fallback source '%s' is unavailable too", name);
	return rc;
}

/* ABI 1.5: a source that emits at any time gets a lock per lane and a time bound. */
static int source_continuous(struct srcinst *src)
{
	const struct xtcpd_source_ops *o = src->ops;

	if (o->common.struct_size < offsetof(struct xtcpd_source_ops, flags) + sizeof(o->flags) ||
	    !(o->flags & XTCPD_SOURCE_CONTINUOUS))
		return 0;
	src->lane_lock = calloc(src->lanes, sizeof(*src->lane_lock));
	if (!src->lane_lock)
		return -ENOMEM;
	for (unsigned l = 0; l < src->lanes; l++)
		pthread_mutex_init(&src->lane_lock[l], NULL);
	src->flush_ns = src->ctx.sec->kind_values[SRK_FLUSH_INTERVAL].num * 1000000LL;
	src->next_flush_ns = clock_mono_ns() + src->flush_ns;
	return 0;
}

static void source_free(struct srcinst *src)
{
	for (unsigned l = 0; src->lane_lock && l < src->lanes; l++)
		pthread_mutex_destroy(&src->lane_lock[l]);
	free(src->lane_lock);
	free(src->cur);
	free(src->emitted);
	free(src);
}

static int add_source(struct pipeline *p, struct pipeline *old, struct conf_section *s,
		      const struct plugin *pl, struct plugin_set *ps)
{
	struct srcinst *src = reload_adopt_src(old, p, s, pl);
	int rc;

	if (src) {
		p->src[p->n_src++] = src;
		return 0;
	}
	if (!(src = calloc(1, sizeof(*src))))
		return -ENOMEM;
	p->src[p->n_src++] = src;
	host_ctx_init(&src->ctx, p, CONF_SOURCE, s, pl);
	src->ops = pl->desc->ops;
	/* Built beside a running pipeline, it gets the known namespaces at the swap
	 * (reload_swap); the first pipeline gets them from the namespace manager, so it must
	 * not be given them again at the first reload (each would be opened twice, the first
	 * socket lost). */
	src->fresh = old != NULL;
	src->m_records = host_metric(&src->ctx, XTCPD_METRIC_COUNTER, "records_emitted_total", NULL,
				     "Records emitted by the source");
	rc = create_instance(&src->ctx, &src->ops->common);
	if (rc == XTCPD_ERR_UNAVAILABLE)
		rc = source_fallback(src, ps);
	if (rc)
		return rc;
	src->rec_pod = src->ctx.plugin->desc->abi_minor >= 6; /* see record.h: ABI 1.6 */
	src->lanes = src->ops->lanes(src->ctx.inst);
	if (!src->lanes)
		src->lanes = 1;
	return source_continuous(src);
}

static int new_marsh(struct pipeline *p, struct conf_section *s, const struct plugin *pl,
		     size_t buf_cap, unsigned nbuf, struct marsh **out)
{
	struct marsh *m = calloc(1, sizeof(*m));
	char name[64];
	int rc;

	*out = m;
	if (!m)
		return -ENOMEM;
	host_ctx_init(&m->ctx, p, CONF_MARSHALLER, s, pl);
	m->ops = pl->desc->ops;
	m->flush_rows = (uint32_t)s->kind_values[MK_FLUSH_ROWS].num;
	m->flush_bytes = (size_t)s->kind_values[MK_FLUSH_BYTES].num;
	m->buf_cap = buf_cap;
	host_metrics_register(&m->ctx, m, marsh_metrics, sizeof(marsh_metrics) / sizeof(marsh_metrics[0]));
	if ((rc = create_instance(&m->ctx, &m->ops->common)))
		return rc;
	snprintf(name, sizeof(name), "batch/%s", s->instance);
	if ((rc = pool_create(name, sizeof(struct bufhdr) + buf_cap, nbuf, &m->bufs)))
		host_log(&m->ctx, XTCPD_LOG_ERR, "cannot allocate %u batch buffers of %zu bytes", nbuf, buf_cap);
	return rc;
}

/* The marshaller of section s with the sinks that use it. Its buffers are sized from
 * flush_bytes and the smallest sink limit; there are enough of them that every lane can
 * hold two and every sink its quota, so the pool cannot run dry while sinks keep to their
 * quotas. */
static int add_marsh(struct pipeline *p, struct pipeline *old, struct conf_section *s,
		     const struct plugin *pl, unsigned lanes)
{
	struct sinkinst **ks = calloc(p->n_sinks + 1, sizeof(*ks));
	size_t n = 0, buf_cap = (size_t)s->kind_values[MK_FLUSH_BYTES].num;
	int64_t nbuf = s->kind_values[MK_BUFFERS].num, held = 0;
	struct marsh *m;
	int rc = 0;

	if (!ks)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_sinks; i++) {
		struct sinkinst *k = p->sinks[i];
		size_t lim;

		if (strcmp(k->ctx.sec->kind_values[SK_MARSHALLER].str, s->instance))
			continue;
		ks[n++] = k;
		lim = k->ops->max_message(k->ctx.inst);
		if (lim && lim < buf_cap)
			buf_cap = lim;
		held += k->quota;
	}
	if (!nbuf)
		nbuf = (int64_t)lanes * 2 + held + 2;
	m = reload_adopt_marsh(old, p, s, pl, buf_cap, (unsigned)nbuf);
	if (!m)
		rc = new_marsh(p, s, pl, buf_cap, (unsigned)nbuf, &m);
	if (m)
		p->marsh[p->n_marsh++] = m;
	if (!m || rc) {
		free(ks);
		return rc ? rc : -ENOMEM;
	}
	if (OWNED(p, m)) {
		m->sinks = ks;
		m->n_sinks = n;
		if (!n)
			host_log(&m->ctx, XTCPD_LOG_WARN, "no sink uses this marshaller; its batches are dropped");
	} else {
		m->next_sinks = ks;
		m->next_n_sinks = n;
	}
	for (size_t i = 0; i < n; i++) {
		if (OWNED(p, ks[i]))
			ks[i]->m = m;
		else
			ks[i]->next_m = m;
	}
	return 0;
}

/* Each lane's current batch per marshaller, in this pipeline's marshaller order. */
static int wire_lanes(struct pipeline *p)
{
	for (size_t i = 0; i < p->n_src; i++) {
		struct srcinst *src = p->src[i];
		struct xtcpd_buf **cur = calloc((size_t)src->lanes * p->n_marsh + 1, sizeof(*cur));

		if (!cur)
			return -ENOMEM;
		if (!OWNED(p, src)) {
			src->next_cur = cur;
			continue;
		}
		src->cur = cur;
		src->emitted = aligned_alloc(64, src->lanes * sizeof(struct lane_count));
		if (!src->emitted)
			return -ENOMEM;
		memset(src->emitted, 0, src->lanes * sizeof(struct lane_count));
	}
	return 0;
}

int pipeline_create(struct conf *c, struct plugin_set *ps, const struct pipeline_opts *o,
		    struct pipeline *old, struct pipeline **out)
{
	/* sinks and sources first: a marshaller's buffers are sized from both */
	static const enum conf_kind order[] = { CONF_SINK, CONF_SOURCE, CONF_MARSHALLER };
	struct pipeline *p = calloc(1, sizeof(*p));
	unsigned lanes = 0;
	int rc = 0;

	*out = p;
	if (!p)
		return -ENOMEM;
	p->conf = c;
	p->daemon_version = o->daemon_version;
	p->uplink[0] = o->uplink[0];
	p->uplink[1] = o->uplink[1];
	p->capture_dir = o->capture_dir;
	p->pool_wait_ms = (int)c->core[CK_POOL_WAIT].num;
	p->src = calloc(c->n_sec, sizeof(*p->src));
	p->marsh = calloc(c->n_sec, sizeof(*p->marsh));
	p->sinks = calloc(c->n_sec, sizeof(*p->sinks));
	if (!p->src || !p->marsh || !p->sinks)
		return -ENOMEM;
	for (size_t pass = 0; pass < 3 && !rc; pass++) {
		if (order[pass] == CONF_MARSHALLER)
			for (size_t i = 0; i < p->n_src; i++)
				lanes += p->src[i]->lanes;
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
			rc = s->kind == CONF_MARSHALLER ? add_marsh(p, old, s, pl, lanes) :
			     s->kind == CONF_SINK ? add_sink(p, old, s, pl) : add_source(p, old, s, pl, ps);
		}
	}
	return rc ? rc : wire_lanes(p);
}

unsigned pipeline_threads(const struct pipeline *p)
{
	unsigned n = 1 + (unsigned)p->n_sinks;

	for (size_t i = 0; i < p->n_src; i++)
		n += p->src[i]->lanes;
	return n;
}

/* Starts what p made; adopted instances are running already. */
int pipeline_start(struct pipeline *p)
{
	int rc;

	for (size_t i = 0; i < p->n_sinks; i++)
		if (OWNED(p, p->sinks[i]) && !p->sinks[i]->ctx.started && (rc = sink_start(p->sinks[i])))
			return rc;
	for (size_t i = 0; i < p->n_marsh; i++)
		if (OWNED(p, p->marsh[i]) && !p->marsh[i]->ctx.started &&
		    (rc = start_instance(&p->marsh[i]->ctx, &p->marsh[i]->ops->common)))
			return rc;
	for (size_t i = 0; i < p->n_src; i++)
		if (OWNED(p, p->src[i]) && !p->src[i]->ctx.started &&
		    (rc = start_instance(&p->src[i]->ctx, &p->src[i]->ops->common)))
			return rc;
	return 0;
}

int pipeline_cycle(struct pipeline *p, uint64_t seq, struct xtcpd_netns *const *ns, size_t n_ns,
		   int64_t timeout_ms)
{
	struct xtcpd_cycle cyc = { .seq = seq, .ns = ns, .n_ns = n_ns };
	int first_rc = 0;

	if (p->grave)
		reload_reap(p, 0);
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

int64_t pipeline_tick(struct pipeline *p, int64_t now_ns)
{
	int64_t next = INT64_MAX;

	for (size_t i = 0; p && i < p->n_src; i++) {
		int64_t t = batch_tick(p, p->src[i], now_ns);

		if (t < next)
			next = t;
	}
	return next;
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
	for (size_t i = 0; i < p->n_sinks; i++)
		sink_reopen(p->sinks[i]);
}

int pipeline_stop(struct pipeline *p, int timeout_ms)
{
	struct timespec dl;
	int undelivered = 0;

	if (!p)
		return 0;
	for (size_t i = 0; i < p->n_src; i++) {
		struct srcinst *src = p->src[i];

		if (!OWNED(p, src))
			continue;
		if (src->ctx.started && src->ops->common.stop)
			src->ops->common.stop(src->ctx.inst);
		src->ctx.started = 0;
		if (src->cur)
			batch_flush_lanes(p, src);
	}
	dl = clock_deadline(CLOCK_REALTIME, timeout_ms);
	for (size_t i = 0; i < p->n_sinks; i++)
		if (OWNED(p, p->sinks[i]))
			sink_close(p->sinks[i]);
	for (size_t i = 0; i < p->n_sinks; i++)
		if (OWNED(p, p->sinks[i]))
			undelivered += sink_finish(p->sinks[i], &dl);
	return undelivered;
}

/* An adopted instance of an abandoned build goes back to the running pipeline as it was. */
static void unadopt(struct xtcpd_ctx *ctx)
{
	ctx->next_pl = NULL;
	ctx->next_plugin = NULL;
}

void pipeline_destroy(struct pipeline *p)
{
	if (!p)
		return;
	pipeline_stop(p, 1000); /* no-op when already stopped */
	for (size_t i = 0; i < p->n_src; i++) {
		struct srcinst *src = p->src[i];

		if (!OWNED(p, src)) {
			free(src->next_cur);
			src->next_cur = NULL;
			unadopt(&src->ctx);
			continue;
		}
		batch_drop_lanes(p, src);
		destroy_instance(&src->ctx, &src->ops->common);
		source_free(src);
	}
	for (size_t i = 0; i < p->n_sinks; i++)
		if (OWNED(p, p->sinks[i]) && p->sinks[i]->stuck) {
			/* A thread is still inside send() and may touch its sink, the buffers and
			 * their marshaller when it returns: leave all of that allocated. */
			log_warn("a sink thread is stuck: its pipeline's memory is not freed");
			free(p->src);
			free(p);
			return;
		}
	for (size_t i = 0; i < p->n_sinks; i++) {
		if (OWNED(p, p->sinks[i])) {
			sink_destroy(p->sinks[i]);
		} else {
			p->sinks[i]->next_m = NULL;
			unadopt(&p->sinks[i]->ctx);
		}
	}
	for (size_t i = 0; i < p->n_marsh; i++) {
		struct marsh *m = p->marsh[i];

		if (!OWNED(p, m)) {
			free(m->next_sinks);
			m->next_sinks = NULL;
			m->next_n_sinks = 0;
			unadopt(&m->ctx);
			continue;
		}
		destroy_instance(&m->ctx, &m->ops->common);
		pool_destroy(m->bufs);
		free(m->sinks);
		free(m);
	}
	reload_reap(p, 1);
	free(p->src);
	free(p->sinks);
	free(p->marsh);
	free(p);
}

int pipeline_outputs_open(void)
{
	return sink_open_count();
}

void pipeline_on_no_output(void (*fn)(void))
{
	sink_on_all_closed(fn);
}
