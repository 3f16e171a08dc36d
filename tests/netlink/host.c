/* host — see host.h. Pools are a mutex-protected free stack allocated at create. */
#include "host.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/netns/netns.h"

int (*th_emit_cb)(unsigned lane, struct xtcpd_record *rec);
const char *th_capture;

static void th_log(struct xtcpd_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	(void)ctx;
	fprintf(stderr, "source/netlink[%d]: ", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void th_log_rl(struct xtcpd_ctx *ctx, const void *key, int ms, int level, const char *fmt, ...)
{
	va_list ap;

	(void)ctx, (void)key, (void)ms;
	fprintf(stderr, "source/netlink[%d]: ", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static struct {
	char name[96], labels[96];
	_Atomic uint64_t v;
} th_metrics[128];
static int th_n_metrics;
static pthread_mutex_t th_lock = PTHREAD_MUTEX_INITIALIZER;

static _Atomic uint64_t *th_metric_reg(struct xtcpd_ctx *ctx, enum xtcpd_metric_type t,
				       const char *name, const char *labels, const char *help)
{
	_Atomic uint64_t *slot = NULL;

	(void)ctx, (void)t, (void)help;
	pthread_mutex_lock(&th_lock);
	for (int i = 0; i < th_n_metrics && !slot; i++)
		if (!strcmp(th_metrics[i].name, name) && !strcmp(th_metrics[i].labels, labels ? labels : ""))
			slot = &th_metrics[i].v;
	if (!slot && th_n_metrics < 128) {
		snprintf(th_metrics[th_n_metrics].name, 96, "%s", name);
		snprintf(th_metrics[th_n_metrics].labels, 96, "%s", labels ? labels : "");
		slot = &th_metrics[th_n_metrics++].v;
	}
	pthread_mutex_unlock(&th_lock);
	return slot;
}

uint64_t th_metric(const char *name, const char *labels)
{
	for (int i = 0; i < th_n_metrics; i++)
		if (!strcmp(th_metrics[i].name, name) && !strcmp(th_metrics[i].labels, labels ? labels : ""))
			return th_metrics[i].v;
	return 0;
}

void th_metrics_print(FILE *f)
{
	for (int i = 0; i < th_n_metrics; i++)
		fprintf(f, "metric %s{%s} %llu\n", th_metrics[i].name, th_metrics[i].labels,
			(unsigned long long)th_metrics[i].v);
}

struct xtcpd_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	void **free;
	unsigned n, cap;
	char *mem;
};

static struct xtcpd_pool *th_pool_create(struct xtcpd_ctx *ctx, const char *name, size_t sz, unsigned cap)
{
	struct xtcpd_pool *p = calloc(1, sizeof(*p));

	(void)ctx, (void)name;
	p->free = calloc(cap, sizeof(void *));
	p->mem = aligned_alloc(64, ((sz + 63) / 64 * 64) * cap);
	sz = (sz + 63) / 64 * 64;
	for (unsigned i = 0; i < cap; i++)
		p->free[p->n++] = p->mem + i * sz;
	p->cap = cap;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	return p;
}

static void *th_pool_get(struct xtcpd_pool *p, int wait_ms)
{
	void *o = NULL;

	(void)wait_ms;
	pthread_mutex_lock(&p->lock);
	if (p->n)
		o = p->free[--p->n];
	pthread_mutex_unlock(&p->lock);
	return o;
}

static void th_pool_put(struct xtcpd_pool *p, void *o)
{
	pthread_mutex_lock(&p->lock);
	p->free[p->n++] = o;
	pthread_mutex_unlock(&p->lock);
}

static void th_pool_destroy(struct xtcpd_pool *p)
{
	free(p->free);
	free(p->mem);
	free(p);
}

static int th_emit(struct xtcpd_ctx *ctx, unsigned lane, struct xtcpd_record *rec)
{
	(void)ctx;
	return th_emit_cb ? th_emit_cb(lane, rec) : 0;
}

static int th_emit_ns(struct xtcpd_ctx *ctx, unsigned lane, const struct xtcpd_netns *ns,
		      struct xtcpd_record *rec)
{
	if (ns) {
		rec->netns = ns->name;
		rec->netns_inode = ns->inode;
		rec->nsid = ns->nsid;
	}
	rec->netlinker_id = lane;
	return th_emit(ctx, lane, rec);
}

static int th_ns_socket(struct xtcpd_ctx *ctx, const struct xtcpd_netns *ns, int d, int t, int p)
{
	(void)ctx;
	return netns_socket(ns, d, t, p);
}

static const char *th_capture_dir(struct xtcpd_ctx *ctx)
{
	(void)ctx;
	return th_capture;
}

struct xtcpd_host th_host = {
	.struct_size = sizeof(struct xtcpd_host),
	.abi_major = XTCPD_ABI_MAJOR,
	.abi_minor = XTCPD_ABI_MINOR,
	.log = th_log,
	.log_ratelimited = th_log_rl,
	.metric = th_metric_reg,
	.pool_create = th_pool_create,
	.pool_get = th_pool_get,
	.pool_put = th_pool_put,
	.pool_destroy = th_pool_destroy,
	.emit = th_emit,
	.emit_ns = th_emit_ns,
	.ns_socket = th_ns_socket,
	.capture_dir = th_capture_dir,
};

static int64_t th_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (!strcasecmp(end, "k") || !strcasecmp(end, "kib"))
		v *= 1024;
	else if (!strcasecmp(end, "m") || !strcasecmp(end, "mib"))
		v *= 1024 * 1024;
	return (int64_t)v;
}

static void th_value(const struct xtcpd_key *k, const char *s, struct xtcpd_value *v)
{
	v->str = s;
	if (!s)
		return;
	switch (k->type) {
	case XTCPD_KEY_BOOL:
		v->num = !strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "1");
		break;
	case XTCPD_KEY_INT:
		v->num = strtoll(s, NULL, 10);
		break;
	case XTCPD_KEY_SIZE:
		v->num = th_size(s);
		break;
	case XTCPD_KEY_ENUM: {
		const char *c = k->choices;
		int64_t i = 0;
		size_t n = strlen(s);

		while (c) {
			if (!strncmp(c, s, n) && (c[n] == '|' || c[n] == '\0'))
				v->num = i;
			c = strchr(c, '|');
			c = c ? c + 1 : NULL;
			i++;
		}
		break;
	}
	default:
		break;
	}
}

int th_config(const struct xtcpd_key *keys, const char *const *kv, int n,
	      struct xtcpd_value *vals, struct xtcpd_config *cfg)
{
	size_t nk = 0;

	for (; keys[nk].name; nk++) {
		memset(&vals[nk], 0, sizeof(vals[nk]));
		th_value(&keys[nk], keys[nk].def, &vals[nk]);
	}
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(kv[i], '=');
		size_t j;

		if (!eq)
			return -EINVAL;
		for (j = 0; j < nk; j++)
			if (strlen(keys[j].name) == (size_t)(eq - kv[i]) &&
			    !strncmp(keys[j].name, kv[i], (size_t)(eq - kv[i])))
				break;
		if (j == nk)
			return -EINVAL;
		th_value(&keys[j], eq + 1, &vals[j]);
		vals[j].set = 1;
	}
	memset(cfg, 0, sizeof(*cfg));
	cfg->instance = "netlink";
	cfg->values = vals;
	cfg->n_values = nk;
	return 0;
}
