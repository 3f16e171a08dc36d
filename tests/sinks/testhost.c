/* testhost — see testhost.h. Test-only code: allocation and aborts are fine here. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/sinks/testhost.h"

#define TH_MAX_METRICS 64
#define TH_MAX_RL 32
#define TH_HEADROOM 16

struct th_metric {
	char name[96], labels[96];
	_Atomic uint64_t v;
};

struct th_rl {
	const void *key;
	struct timespec last;
};

struct xtcpd_ctx {
	char name[64];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct th_metric metrics[TH_MAX_METRICS];
	unsigned n_metrics;
	struct th_rl rl[TH_MAX_RL];
	unsigned n_rl;
	struct th_released rel;
	struct th_logs logs;
	char last_log[1024];
};

struct th_bufmeta {
	unsigned released;
};

static void th_vlog(struct xtcpd_ctx *ctx, int level, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "[%d] sink/%s: %s\n", level, ctx->name, line);
	pthread_mutex_lock(&ctx->lock);
	memcpy(ctx->last_log, line, sizeof(line));
	pthread_mutex_unlock(&ctx->lock);
}

static void th_log(struct xtcpd_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&ctx->lock);
	ctx->logs.lines++;
	pthread_mutex_unlock(&ctx->lock);
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

	(void)type;
	(void)help;
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
	return slot;
}

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

static const char *th_capture_dir(struct xtcpd_ctx *ctx)
{
	(void)ctx;
	return NULL;
}

const struct xtcpd_host th_host = {
	.struct_size = sizeof(struct xtcpd_host),
	.abi_major = XTCPD_ABI_MAJOR,
	.abi_minor = XTCPD_ABI_MINOR,
	.log = th_log,
	.log_ratelimited = th_log_ratelimited,
	.metric = th_metric_reg,
	.buf_release = th_buf_release,
	.capture_dir = th_capture_dir,
};

struct xtcpd_ctx *th_ctx_new(const char *name)
{
	struct xtcpd_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		abort();
	snprintf(ctx->name, sizeof(ctx->name), "%s", name);
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

int th_load(const char *name, struct th_plugin *p)
{
	const char *dir = getenv("XTCPD_PLUGIN_DIR");
	char path[4096];

	snprintf(path, sizeof(path), "%s/sink_%s.so", dir ? dir : ".libs", name);
	p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl) {
		fprintf(stderr, "testhost: %s\n", dlerror());
		return -1;
	}
	p->desc = dlsym(p->dl, XTCPD_PLUGIN_SYMBOL);
	if (!p->desc || p->desc->kind != XTCPD_KIND_SINK || strcmp(p->desc->name, name)) {
		fprintf(stderr, "testhost: %s: not the sink plugin %s\n", path, name);
		return -1;
	}
	p->ops = p->desc->ops;
	return 0;
}

void th_unload(struct th_plugin *p)
{
	if (p->dl)
		dlclose(p->dl);
	p->dl = NULL;
}

int th_inst_create(struct th_inst *in, struct th_plugin *p, const char *const *kv)
{
	int err;

	memset(in, 0, sizeof(*in));
	in->ops = p->ops;
	in->ctx = th_ctx_new(p->desc->name);
	in->cfg = th_config(p->desc, p->desc->name, kv);
	if (!in->cfg)
		return -EINVAL;
	err = in->ops->common.create(&th_host, in->ctx, in->cfg, &in->sink);
	if (!err && in->ops->common.start)
		err = in->ops->common.start(in->sink);
	return err;
}

void th_inst_destroy_sink(struct th_inst *in)
{
	if (in->sink) {
		if (in->ops->common.stop)
			in->ops->common.stop(in->sink);
		in->ops->common.destroy(in->sink);
	}
	in->sink = NULL;
}

void th_inst_destroy(struct th_inst *in)
{
	th_inst_destroy_sink(in);
	th_config_free(in->cfg);
	th_ctx_free(in->ctx);
	in->cfg = NULL;
	in->ctx = NULL;
}
