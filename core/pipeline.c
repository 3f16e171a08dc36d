/* pipeline — creates the configured instances and moves batches between them. The data
 * path (emit -> append -> flush -> queue -> send -> release) allocates nothing: buffers
 * come from a fixed pool per marshaller, queues are fixed rings, counters are atomics. */
#include "config.h"
#include "pipeline_int.h"
#include "pipeline.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "threads.h"

#define M_COUNTER XTCPD_METRIC_COUNTER

static int create_instance(struct xtcpd_ctx *ctx, const struct xtcpd_ops_common *ops)
{
	int rc = ops->create(&pipeline_host, ctx, &ctx->sec->cfg, &ctx->inst);

	if (rc) {
		ctx_log(ctx, XTCPD_LOG_ERR, "create failed: %s", strerror(-rc < 0 ? rc : -rc));
		return rc < 0 ? rc : -EINVAL;
	}
	ctx->created = 1;
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
	ctx_init(&m->ctx, p, CONF_MARSHALLER, s, pl);
	m->ops = pl->desc->ops;
	m->flush_rows = (uint32_t)s->kind_values[MK_FLUSH_ROWS].num;
	m->flush_bytes = (size_t)s->kind_values[MK_FLUSH_BYTES].num;
	m->m_records = ctx_metric(&m->ctx, M_COUNTER, "marshal_records_total", NULL, "Records appended to batches");
	m->m_batches = ctx_metric(&m->ctx, M_COUNTER, "marshal_batches_total", NULL, "Batches flushed to sinks");
	m->m_bytes = ctx_metric(&m->ctx, M_COUNTER, "marshal_bytes_total", NULL, "Bytes of flushed batches");
	m->m_drop_nobuf = ctx_metric(&m->ctx, M_COUNTER, "records_dropped_total", "stage=\"marshal\",reason=\"no_buffer\"", "Records dropped, by stage and reason");
	m->m_drop_toolarge = ctx_metric(&m->ctx, M_COUNTER, "records_dropped_total", "stage=\"marshal\",reason=\"too_large\"", "Records dropped, by stage and reason");
	m->m_drop_error = ctx_metric(&m->ctx, M_COUNTER, "records_dropped_total", "stage=\"marshal\",reason=\"error\"", "Records dropped, by stage and reason");
	m->m_drop_nosink = ctx_metric(&m->ctx, M_COUNTER, "records_dropped_total", "stage=\"marshal\",reason=\"no_sink\"", "Records dropped, by stage and reason");
	return create_instance(&m->ctx, &m->ops->common);
}

static int add_sink(struct pipeline *p, struct conf_section *s, const struct plugin *pl)
{
	struct sinkinst *k = calloc(1, sizeof(*k));
	struct sinkinst **ns;
	struct marsh *m = NULL;
	int rc;

	if (!k)
		return -ENOMEM;
	p->sinks[p->n_sinks++] = k;
	ctx_init(&k->ctx, p, CONF_SINK, s, pl);
	k->ops = pl->desc->ops;
	k->drop_when_full = s->kind_values[SK_QUEUE_FULL].num == 1;
	k->block_ms = (int)s->kind_values[SK_QUEUE_BLOCK_TIMEOUT].num;
	for (size_t i = 0; i < p->n_marsh; i++)
		if (!strcmp(p->marsh[i]->ctx.sec->instance, s->kind_values[SK_MARSHALLER].str))
			m = p->marsh[i];
	if (!m)
		return -EINVAL; /* conf_validate guarantees it exists */
	k->m = m;
	ns = realloc(m->sinks, (m->n_sinks + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	m->sinks = ns;
	m->sinks[m->n_sinks++] = k;
	k->quota = (int)(s->kind_values[SK_QUEUE_DEPTH].num + s->kind_values[SK_MAX_IN_FLIGHT].num);
	pthread_mutex_init(&k->held_lock, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&k->held_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	rc = queue_create((unsigned)s->kind_values[SK_QUEUE_DEPTH].num, &k->q);
	if (rc)
		return rc;
	k->m_batches_queued = ctx_metric(&k->ctx, M_COUNTER, "sink_batches_queued_total", NULL, "Batches handed to the sink's queue");
	k->m_drop_inflight_batches = ctx_metric(&k->ctx, M_COUNTER, "sink_batches_dropped_total", "reason=\"in_flight_full\"", "Batches dropped before the sink, by reason");
	k->m_drop_inflight_records = ctx_metric(&k->ctx, M_COUNTER, "records_dropped_total", "stage=\"sink_queue\",reason=\"in_flight_full\"", "Records dropped, by stage and reason");
	k->m_records_queued = ctx_metric(&k->ctx, M_COUNTER, "sink_records_queued_total", NULL, "Records in batches handed to the sink's queue");
	k->m_abandoned_records = ctx_metric(&k->ctx, M_COUNTER, "records_dropped_total", "stage=\"sink\",reason=\"shutdown\"", "Records dropped, by stage and reason");
	k->m_abandoned_batches = ctx_metric(&k->ctx, M_COUNTER, "sink_batches_dropped_total", "reason=\"shutdown\"", "Batches dropped before the sink, by reason");
	k->m_drop_batches = ctx_metric(&k->ctx, M_COUNTER, "sink_batches_dropped_total", "reason=\"queue_full\"", "Batches dropped before the sink, by reason");
	k->m_drop_records = ctx_metric(&k->ctx, M_COUNTER, "records_dropped_total", "stage=\"sink_queue\",reason=\"queue_full\"", "Records dropped, by stage and reason");
	k->m_delivered_batches = ctx_metric(&k->ctx, M_COUNTER, "sink_batches_done_total", "result=\"delivered\"", "Batches the sink finished with, by result");
	k->m_failed_batches = ctx_metric(&k->ctx, M_COUNTER, "sink_batches_done_total", "result=\"failed\"", "Batches the sink finished with, by result");
	k->m_delivered_records = ctx_metric(&k->ctx, M_COUNTER, "sink_records_done_total", "result=\"delivered\"", "Records the sink finished with, by result");
	k->m_failed_records = ctx_metric(&k->ctx, M_COUNTER, "sink_records_done_total", "result=\"failed\"", "Records the sink finished with, by result");
	k->m_queue_depth = ctx_metric(&k->ctx, XTCPD_METRIC_GAUGE, "sink_queue_depth", NULL, "Batches waiting in the sink's queue");
	{
		static const double b[] = { 0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30 };
		k->latency = metrics_histogram("xtcpd_sink_latency_seconds", k->ctx.labels,
					       "From a batch's flush to its sink releasing it (queue wait + send)",
					       b, sizeof(b) / sizeof(b[0]));
	}
	return create_instance(&k->ctx, &k->ops->common);
}

static int add_source(struct pipeline *p, struct conf_section *s, const struct plugin *pl)
{
	struct srcinst *src = calloc(1, sizeof(*src));
	int rc;

	if (!src)
		return -ENOMEM;
	p->src[p->n_src++] = src;
	ctx_init(&src->ctx, p, CONF_SOURCE, s, pl);
	src->ops = pl->desc->ops;
	src->m_records = ctx_metric(&src->ctx, M_COUNTER, "records_emitted_total", NULL, "Records emitted by the source");
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
			ctx_log(&m->ctx, XTCPD_LOG_ERR, "cannot allocate %lld batch buffers of %zu bytes",
				(long long)nbuf, m->buf_cap);
			return rc;
		}
		if (!m->n_sinks)
			ctx_log(&m->ctx, XTCPD_LOG_WARN, "no sink uses this marshaller; its batches are dropped");
	}
	for (size_t i = 0; i < p->n_src; i++) {
		p->src[i]->cur = calloc((size_t)p->src[i]->lanes * p->n_marsh + 1, sizeof(struct xtcpd_buf *));
		p->src[i]->emitted = aligned_alloc(64, p->src[i]->lanes * sizeof(struct lane_count));
		if (!p->src[i]->cur || !p->src[i]->emitted)
			return -ENOMEM;
		memset(p->src[i]->emitted, 0, p->src[i]->lanes * sizeof(struct lane_count));
	}
	return 0;
}

int pipeline_create(struct conf *c, struct plugin_set *ps, const struct pipeline_opts *o,
		    struct pipeline **out)
{
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
	for (int pass = 0; pass < 3 && !rc; pass++) {
		enum conf_kind want = pass == 0 ? CONF_MARSHALLER : pass == 1 ? CONF_SINK : CONF_SOURCE;
		for (size_t i = 0; i < c->n_sec && !rc; i++) {
			struct conf_section *s = c->sec[i];
			const struct plugin *pl;
			char err[600];

			if (s->kind != want)
				continue;
			rc = plugin_load(ps, (unsigned)s->kind, s->plugin, &pl, err, sizeof(err));
			if (rc) {
				log_err("%s", err);
				break;
			}
			rc = want == CONF_MARSHALLER ? add_marsh(p, s, pl) :
			     want == CONF_SINK ? add_sink(p, s, pl) : add_source(p, s, pl);
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

static void *sink_thread(void *arg)
{
	struct sinkinst *k = arg;
	struct xtcpd_buf *b;
	char name[THREADS_NAME_MAX + 1];

	snprintf(name, sizeof(name), "sink/%s", k->ctx.sec->instance);
	threads_name_self(name);
	while ((b = queue_pop(k->q))) {
		metric_set(k->m_queue_depth, queue_depth(k->q));
		if (atomic_load(&k->expired)) { /* shutdown deadline passed: count, don't send */
			metric_add(k->m_abandoned_batches, 1);
			metric_add(k->m_abandoned_records, b->rows);
			pipeline_buf_release(&k->ctx, b, 0);
			continue;
		}
		k->inflight = b;
		k->ops->send(k->ctx.inst, b);
		k->inflight = NULL;
	}
	return NULL;
}

static int start_instance(struct xtcpd_ctx *ctx, const struct xtcpd_ops_common *ops)
{
	int rc = ops->start ? ops->start(ctx->inst) : 0;

	if (rc) {
		ctx_log(ctx, XTCPD_LOG_ERR, "start failed: %s", strerror(rc < 0 ? -rc : rc));
		return rc < 0 ? rc : -EINVAL;
	}
	ctx->started = 1;
	return 0;
}

int pipeline_start(struct pipeline *p)
{
	int rc;

	for (size_t i = 0; i < p->n_sinks; i++) {
		struct sinkinst *k = p->sinks[i];
		if ((rc = start_instance(&k->ctx, &k->ops->common)))
			return rc;
		if ((rc = pthread_create(&k->thread, NULL, sink_thread, k))) {
			ctx_log(&k->ctx, XTCPD_LOG_ERR, "cannot start its thread: %s", strerror(rc));
			return -rc;
		}
		k->thread_ok = 1;
	}
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
	cyc.deadline_ns = clock_now_ns(CLOCK_MONOTONIC) + timeout_ms * 1000000LL;
	atomic_store(&p->cycle_start_ns, cyc.start_ns);
	for (size_t i = 0; i < p->n_src; i++) {
		struct srcinst *src = p->src[i];
		int rc = src->ops->poll(src->ctx.inst, &cyc);

		if (rc && !first_rc)
			first_rc = rc;
		pipeline_flush_source(p, src);
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
				ctx_log(&k->ctx, XTCPD_LOG_ERR, "reopen failed: %s", strerror(-rc));
		}
	}
}

/* Join a sink's thread by the shared deadline. Past it, what is still queued is dropped
 * (counted) and a send still running is cancelled when the sink can; a thread still
 * stuck a second later (a write that never returns) is left running and its sink never
 * destroyed. */
static int join_sink(struct sinkinst *k, const struct timespec *deadline)
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
	ctx_log(&k->ctx, XTCPD_LOG_ERR, "did not finish in time: the batch being sent and %u queued "
		"batches are abandoned (counted as reason=\"shutdown\")", left);
	if (k->inflight)
		metric_add(k->m_abandoned_records, k->inflight->rows);
	for (unsigned i = 0; i < left; i++) {
		struct xtcpd_buf *b = queue_pop(k->q);
		if (b)
			metric_add(k->m_abandoned_records, b->rows);
	}
	metric_add(k->m_abandoned_batches, 1 + left);
	return 1 + (int)left;
joined:
	k->thread_ok = 0;
	if (atomic_load(&k->expired))
		ctx_log(&k->ctx, XTCPD_LOG_WARN, "shutdown deadline passed: queued batches dropped "
			"(counted as reason=\"shutdown\")");
	return 0;
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
			pipeline_flush_source(p, src);
	}
	dl = clock_deadline(CLOCK_REALTIME, timeout_ms);
	for (size_t i = 0; i < p->n_sinks; i++)
		if (p->sinks[i]->q)
			queue_close(p->sinks[i]->q);
	for (size_t i = 0; i < p->n_sinks; i++) {
		struct sinkinst *k = p->sinks[i];
		if (k->stuck)
			continue;
		if (k->thread_ok) {
			int abandoned = join_sink(k, &dl);
			if (abandoned) {
				undelivered += abandoned;
				continue;
			}
		}
		if (k->ctx.created && !k->stuck) {
			int64_t ms = ((int64_t)dl.tv_sec * 1000000000LL + dl.tv_nsec -
				      clock_now_ns(CLOCK_REALTIME)) / 1000000;
			int left = k->ops->flush(k->ctx.inst, ms > 0 ? (int)ms : 0);

			if (left > 0) {
				ctx_log(&k->ctx, XTCPD_LOG_WARN, "%d batches not delivered at shutdown", left);
				undelivered += left;
			}
		}
	}
	return undelivered;
}

void pipeline_destroy(struct pipeline *p)
{
	if (!p)
		return;
	pipeline_stop(p, 1000); /* no-op when already stopped */
	for (size_t i = 0; i < p->n_src; i++) {
		pipeline_drop_partial(p, p->src[i]);
		destroy_instance(&p->src[i]->ctx, &p->src[i]->ops->common);
		free(p->src[i]->cur);
		free(p->src[i]->emitted);
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
	for (size_t i = 0; i < p->n_sinks; i++) {
		destroy_instance(&p->sinks[i]->ctx, &p->sinks[i]->ops->common);
		queue_destroy(p->sinks[i]->q);
		pthread_mutex_destroy(&p->sinks[i]->held_lock);
		pthread_cond_destroy(&p->sinks[i]->held_cond);
		free(p->sinks[i]);
	}
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
