/* testhost — see testhost.h. Test-only code: allocation and aborts are fine here. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/conf.h"
#include "netns/netns.h"
#include "pipeline/pool.h"
#include "tests/lib/testhost.h"

#define TH_MAX_METRICS 128
#define TH_MAX_RL 32
#define TH_HEADROOM 16

struct th_metric {
	char name[96], labels[128];
	_Atomic uint64_t v;
};

struct th_rl {
	const void *key;
	struct timespec last;
};

struct xtcpd_ctx {
	char prefix[96];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct th_metric metrics[TH_MAX_METRICS];
	unsigned n_metrics;
	struct th_rl rl[TH_MAX_RL];
	unsigned n_rl;
	struct th_released rel;
	struct th_logs logs;
	char last_log[1024];
	th_emit_fn emit_cb;
	void *emit_arg;
	_Atomic uint64_t emitted;
	const char *capture;
};

struct th_bufmeta {
	unsigned released;
};

/* ---- logs and metrics -------------------------------------------------------------- */

static void th_vlog(struct xtcpd_ctx *ctx, int level, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "[%d] %s: %s\n", level, ctx ? ctx->prefix : "-", line);
	if (!ctx)
		return;
	pthread_mutex_lock(&ctx->lock);
	memcpy(ctx->last_log, line, sizeof(line));
	pthread_mutex_unlock(&ctx->lock);
}

static void th_log(struct xtcpd_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	if (ctx) {
		pthread_mutex_lock(&ctx->lock);
		ctx->logs.lines++;
		pthread_mutex_unlock(&ctx->lock);
	}
	va_start(ap, fmt);
	th_vlog(ctx, level, fmt, ap);
	va_end(ap);
}

static void th_log_ratelimited(struct xtcpd_ctx *ctx, const void *key, int interval_ms, int level,
			       const char *fmt, ...)
{
	struct timespec now;
	struct th_rl *rl = NULL;
	int print = 0;
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&ctx->lock);
	for (unsigned i = 0; i < ctx->n_rl; i++)
		if (ctx->rl[i].key == key)
			rl = &ctx->rl[i];
	if (!rl && ctx->n_rl < TH_MAX_RL) {
		rl = &ctx->rl[ctx->n_rl++];
		rl->key = key;
		print = 1;
	} else if (rl) {
		int64_t ms = (now.tv_sec - rl->last.tv_sec) * 1000 +
			     (now.tv_nsec - rl->last.tv_nsec) / 1000000;
		print = ms >= interval_ms;
	}
	if (print) {
		rl->last = now;
		ctx->logs.lines++;
	} else {
		ctx->logs.suppressed++;
	}
	pthread_mutex_unlock(&ctx->lock);
	if (print) {
		va_start(ap, fmt);
		th_vlog(ctx, level, fmt, ap);
		va_end(ap);
	}
}

static _Atomic uint64_t *th_metric_reg(struct xtcpd_ctx *ctx, enum xtcpd_metric_type type,
				       const char *name, const char *labels, const char *help)
{
	_Atomic uint64_t *slot = NULL;

	pthread_mutex_lock(&ctx->lock);
	for (unsigned i = 0; i < ctx->n_metrics && !slot; i++)
		if (!strcmp(ctx->metrics[i].name, name) &&
		    !strcmp(ctx->metrics[i].labels, labels ? labels : ""))
			slot = &ctx->metrics[i].v;
	if (!slot && ctx->n_metrics < TH_MAX_METRICS) {
		struct th_metric *m = &ctx->metrics[ctx->n_metrics++];

		snprintf(m->name, sizeof(m->name), "%s", name);
		snprintf(m->labels, sizeof(m->labels), "%s", labels ? labels : "");
		slot = &m->v;
	}
	pthread_mutex_unlock(&ctx->lock);
	if (!slot)
		fprintf(stderr, "testhost: %s: metric table full at %s\n", ctx->prefix, name);
	return slot;
}

uint64_t th_metric(struct xtcpd_ctx *ctx, const char *name, const char *labels)
{
	uint64_t v = UINT64_MAX;

	pthread_mutex_lock(&ctx->lock);
	for (unsigned i = 0; i < ctx->n_metrics; i++)
		if (!strcmp(ctx->metrics[i].name, name) &&
		    !strcmp(ctx->metrics[i].labels, labels ? labels : ""))
			v = atomic_load(&ctx->metrics[i].v);
	pthread_mutex_unlock(&ctx->lock);
	return v;
}

uint64_t th_metric_sum(struct xtcpd_ctx *ctx, const char *name)
{
	uint64_t v = 0;

	pthread_mutex_lock(&ctx->lock);
	for (unsigned i = 0; i < ctx->n_metrics; i++)
		if (!strcmp(ctx->metrics[i].name, name))
			v += atomic_load(&ctx->metrics[i].v);
	pthread_mutex_unlock(&ctx->lock);
	return v;
}

void th_metrics_reset(struct xtcpd_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	for (unsigned i = 0; i < ctx->n_metrics; i++)
		atomic_store(&ctx->metrics[i].v, 0);
	pthread_mutex_unlock(&ctx->lock);
}

void th_metrics_print(struct xtcpd_ctx *ctx, FILE *f)
{
	pthread_mutex_lock(&ctx->lock);
	for (unsigned i = 0; i < ctx->n_metrics; i++)
		fprintf(f, "metric %s{%s} %llu\n", ctx->metrics[i].name, ctx->metrics[i].labels,
			(unsigned long long)atomic_load(&ctx->metrics[i].v));
	pthread_mutex_unlock(&ctx->lock);
}

void th_logs_get(struct xtcpd_ctx *ctx, struct th_logs *l)
{
	pthread_mutex_lock(&ctx->lock);
	*l = ctx->logs;
	pthread_mutex_unlock(&ctx->lock);
}

void th_last_log(struct xtcpd_ctx *ctx, char *out, size_t n)
{
	pthread_mutex_lock(&ctx->lock);
	snprintf(out, n, "%s", ctx->last_log);
	pthread_mutex_unlock(&ctx->lock);
}

/* ---- pools, emit, namespaces ------------------------------------------------------- */

static struct xtcpd_pool *th_pool_create(struct xtcpd_ctx *ctx, const char *name,
					 size_t obj_size, unsigned capacity)
{
	char full[200];
	struct pool *p;

	snprintf(full, sizeof(full), "%s/%s", ctx ? ctx->prefix : "-", name);
	return pool_create(full, obj_size, capacity, &p) ? NULL : (struct xtcpd_pool *)p;
}

static void *th_pool_get(struct xtcpd_pool *p, int wait_ms)
{
	return pool_get((struct pool *)p, wait_ms);
}

static void th_pool_put(struct xtcpd_pool *p, void *obj)
{
	pool_put((struct pool *)p, obj);
}

static void th_pool_destroy(struct xtcpd_pool *p)
{
	pool_destroy((struct pool *)p);
}

static int th_emit(struct xtcpd_ctx *ctx, unsigned lane, struct xtcpd_record *rec)
{
	rec->netlinker_id = lane;
	atomic_fetch_add(&ctx->emitted, 1);
	return ctx->emit_cb ? ctx->emit_cb(ctx->emit_arg, lane, rec) : 0;
}

static int th_emit_ns(struct xtcpd_ctx *ctx, unsigned lane, const struct xtcpd_netns *ns,
		      struct xtcpd_record *rec)
{
	if (ns) {
		rec->netns = ns->name;
		rec->netns_inode = ns->inode;
		rec->nsid = ns->nsid;
	}
	return th_emit(ctx, lane, rec);
}

void th_ctx_on_emit(struct xtcpd_ctx *ctx, th_emit_fn cb, void *arg)
{
	ctx->emit_cb = cb;
	ctx->emit_arg = arg;
}

uint64_t th_emitted(struct xtcpd_ctx *ctx)
{
	return atomic_load(&ctx->emitted);
}

static int th_ns_socket(struct xtcpd_ctx *ctx, const struct xtcpd_netns *ns, int domain,
			int type, int protocol)
{
	return netns_socket(ns, domain, type, protocol);
}

static int th_ns_run(struct xtcpd_ctx *ctx, const struct xtcpd_netns *ns, int (*fn)(void *arg),
		     void *arg)
{
	(void)ctx;
	return netns_run(ns, fn, arg);
}

static const char *th_capture_dir(struct xtcpd_ctx *ctx)
{
	return ctx ? ctx->capture : NULL;
}

void th_ctx_set_capture(struct xtcpd_ctx *ctx, const char *dir)
{
	ctx->capture = dir;
}

/* ---- buffers ----------------------------------------------------------------------- */

static void th_buf_release(struct xtcpd_ctx *ctx, struct xtcpd_buf *buf, int ok)
{
	struct th_bufmeta *meta = buf->priv;

	pthread_mutex_lock(&ctx->lock);
	if (meta->released++) {
		ctx->rel.twice++;
		fprintf(stderr, "testhost: buffer %p released twice\n", (void *)buf);
		pthread_mutex_unlock(&ctx->lock);
		return;
	}
	if (ok) {
		ctx->rel.ok++;
		ctx->rel.rows_ok += buf->rows;
		ctx->rel.bytes_ok += buf->len - buf->off;
	} else {
		ctx->rel.failed++;
		ctx->rel.rows_failed += buf->rows;
	}
	pthread_cond_broadcast(&ctx->cond);
	pthread_mutex_unlock(&ctx->lock);
	/* Poison before freeing, so a sink that still reads it shows up in the bytes. */
	memset(buf->data, 0xa5, buf->cap);
	free(buf->data);
	free(meta);
	free(buf);
}

struct xtcpd_buf *th_buf(const void *data, size_t len, uint32_t rows)
{
	struct xtcpd_buf *buf = calloc(1, sizeof(*buf));

	if (!buf)
		abort();
	buf->cap = len + TH_HEADROOM;
	buf->data = malloc(buf->cap);
	buf->priv = calloc(1, sizeof(struct th_bufmeta));
	if (!buf->data || !buf->priv)
		abort();
	memset(buf->data, 0x5a, TH_HEADROOM);
	memcpy(buf->data + TH_HEADROOM, data, len);
	buf->off = TH_HEADROOM;
	buf->len = TH_HEADROOM + len;
	buf->rows = rows;
	return buf;
}

void th_released_get(struct xtcpd_ctx *ctx, struct th_released *r)
{
	pthread_mutex_lock(&ctx->lock);
	*r = ctx->rel;
	pthread_mutex_unlock(&ctx->lock);
}

uint64_t th_outcome(struct xtcpd_ctx *ctx, enum th_outcome which)
{
	struct th_released r;

	th_released_get(ctx, &r);
	switch (which) {
	case TH_OK: return r.ok;
	case TH_FAILED: return r.failed;
	case TH_ROWS_OK: return r.rows_ok;
	case TH_ROWS_FAILED: return r.rows_failed;
	case TH_BYTES_OK: return r.bytes_ok;
	case TH_SENT: return r.ok + r.failed;
	}
	return UINT64_MAX;
}

uint64_t th_wait_released(struct xtcpd_ctx *ctx, uint64_t n, int timeout_ms)
{
	struct timespec until;
	uint64_t total;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&ctx->lock);
	while (ctx->rel.ok + ctx->rel.failed < n &&
	       pthread_cond_timedwait(&ctx->cond, &ctx->lock, &until) != ETIMEDOUT)
		;
	total = ctx->rel.ok + ctx->rel.failed;
	pthread_mutex_unlock(&ctx->lock);
	return total;
}

/* ABI 1.7: the enrichment generation; tests move it with th_enrich_retire(). */
static _Atomic uint64_t th_enrich_gen = 1;

static uint64_t th_enrich_generation(struct xtcpd_ctx *ctx)
{
	(void)ctx;
	return atomic_load_explicit(&th_enrich_gen, memory_order_acquire);
}

void th_enrich_retire(void)
{
	atomic_fetch_add_explicit(&th_enrich_gen, 1, memory_order_acq_rel);
}

const struct xtcpd_host th_host = {
	.struct_size = sizeof(struct xtcpd_host),
	.abi_major = XTCPD_ABI_MAJOR,
	.abi_minor = XTCPD_ABI_MINOR,
	.log = th_log,
	.log_ratelimited = th_log_ratelimited,
	.metric = th_metric_reg,
	.pool_create = th_pool_create,
	.pool_get = th_pool_get,
	.pool_put = th_pool_put,
	.pool_destroy = th_pool_destroy,
	.emit = th_emit,
	.buf_release = th_buf_release,
	.ns_socket = th_ns_socket,
	.capture_dir = th_capture_dir,
	.emit_ns = th_emit_ns,
	.ns_run = th_ns_run,
	.enrich_generation = th_enrich_generation,
};

struct xtcpd_ctx *th_ctx_new(const char *prefix)
{
	struct xtcpd_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		abort();
	snprintf(ctx->prefix, sizeof(ctx->prefix), "%s", prefix);
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_cond_init(&ctx->cond, NULL);
	return ctx;
}

void th_ctx_free(struct xtcpd_ctx *ctx)
{
	if (!ctx)
		return;
	pthread_mutex_destroy(&ctx->lock);
	pthread_cond_destroy(&ctx->cond);
	free(ctx);
}

/* ---- plugins, configuration, instances --------------------------------------------- */

int th_load(unsigned kind, const char *name, struct th_plugin *p)
{
	static const char *const kinds[] = { "", "source", "marshaller", "sink" };
	const char *dir = getenv("XTCPD_PLUGIN_DIR");
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s_%s.so", dir ? dir : ".libs",
		 kind <= XTCPD_KIND_SINK ? kinds[kind] : "?", name);
	p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl) {
		fprintf(stderr, "testhost: %s\n", dlerror());
		return -1;
	}
	p->desc = dlsym(p->dl, XTCPD_PLUGIN_SYMBOL);
	if (!p->desc || p->desc->kind != kind || strcmp(p->desc->name, name)) {
		fprintf(stderr, "testhost: %s: not the %s plugin %s\n", path, kinds[kind], name);
		return -1;
	}
	return 0;
}

void th_unload(struct th_plugin *p)
{
	if (p->dl)
		dlclose(p->dl);
	p->dl = NULL;
}

/* The configuration handed out is the first member, so free finds its conf. */
struct th_config {
	struct xtcpd_config cfg;
	struct conf conf;
};

struct xtcpd_config *th_config(const struct xtcpd_plugin *desc, const char *instance,
			       const char *const *kv)
{
	static const struct xtcpd_key none[] = { XTCPD_KEYS_END };
	struct th_config *tc = calloc(1, sizeof(*tc));
	struct conf_section *s;

	if (!tc)
		abort();
	if (conf_section_from_kv(&tc->conf, (enum conf_kind)desc->kind, desc->name, instance,
				 desc->keys ? desc->keys : none, kv, &s)) {
		fprintf(stderr, "testhost: %s\n", tc->conf.err);
		conf_free(&tc->conf);
		free(tc);
		return NULL;
	}
	tc->cfg = s->cfg;
	return &tc->cfg;
}

void th_config_free(struct xtcpd_config *cfg)
{
	struct th_config *tc = (struct th_config *)cfg;

	if (!tc)
		return;
	conf_free(&tc->conf);
	free(tc);
}

int th_check(const struct xtcpd_plugin *desc, const char *const *kv, char *out, size_t n)
{
	char msg[700] = "";
	struct xtcpd_check res = { .struct_size = sizeof(res), .msg = msg, .msg_size = sizeof(msg) };
	struct xtcpd_config *cfg;
	int rc;

	snprintf(out, n, "%s", "");
	if (!XTCPD_PLUGIN_HAS(desc, check))
		return -ENOSYS;
	cfg = th_config(desc, desc->name, kv);
	if (!cfg)
		return -EINVAL;
	rc = desc->check(cfg, &res);
	if (rc)
		snprintf(out, n, "%s%s%s", res.key ? res.key : "", res.key ? ": " : "", msg);
	th_config_free(cfg);
	return rc;
}

int th_inst_create(struct th_inst *in, const struct th_plugin *p, const char *const *kv)
{
	return th_inst_create_in(in, NULL, p, kv);
}

int th_inst_create_in(struct th_inst *in, struct xtcpd_ctx *ctx, const struct th_plugin *p,
		      const char *const *kv)
{
	static const char *const kinds[] = { "", "source", "marshaller", "sink" };
	const struct xtcpd_ops_common *ops = p->desc->ops;
	char prefix[96];
	int err;

	memset(in, 0, sizeof(*in));
	in->desc = p->desc;
	in->any_ops = p->desc->ops;
	snprintf(prefix, sizeof(prefix), "%s/%s",
		 p->desc->kind <= XTCPD_KIND_SINK ? kinds[p->desc->kind] : "?", p->desc->name);
	in->ctx = ctx ? ctx : th_ctx_new(prefix);
	in->cfg = th_config(p->desc, p->desc->name, kv);
	if (!in->cfg)
		return -EINVAL;
	err = ops->create(&th_host, in->ctx, in->cfg, &in->obj);
	if (!err && ops->start)
		err = ops->start(in->obj);
	return err;
}

void th_inst_destroy_obj(struct th_inst *in)
{
	const struct xtcpd_ops_common *ops = in->any_ops;

	if (in->obj) {
		if (ops->stop)
			ops->stop(in->obj);
		ops->destroy(in->obj);
	}
	in->obj = NULL;
}

void th_inst_destroy(struct th_inst *in)
{
	if (in->any_ops)
		th_inst_destroy_obj(in);
	th_config_free(in->cfg);
	th_ctx_free(in->ctx);
	in->cfg = NULL;
	in->ctx = NULL;
}

char *th_run(const char *cmd, size_t *len)
{
	FILE *f = popen(cmd, "r");
	size_t cap = 1 << 16, n = 0;
	char *out = malloc(cap);

	if (!f || !out)
		abort();
	for (;;) {
		size_t r;

		if (n == cap && !(out = realloc(out, cap *= 2)))
			abort();
		r = fread(out + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	pclose(f);
	*len = n;
	return out;
}
