/* pipeline/host — the service table lent to every plugin instance: logging with a
 * "kind/instance" prefix, metrics with an instance label, pools, emit (batch.c), buffer
 * release (sink.c), namespace sockets and callbacks inside a namespace (netns/), a
 * sink's content type (its marshaller's). */
#include "config.h"
#include "pipeline/host.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "netns/netns.h"
#include "ops/control.h"
#include "ops/log.h"
#include "ops/stats.h"
#include "pipeline/batch.h"
#include "pipeline/sink.h"

void host_ctx_init(struct xtcpd_ctx *ctx, struct pipeline *pl, enum conf_kind kind,
		   struct conf_section *sec, const struct plugin *plugin)
{
	ctx->pl = pl;
	ctx->kind = kind;
	ctx->sec = sec;
	ctx->plugin = plugin;
	char esc[sizeof(ctx->labels) - sizeof("plugin=\"\"") + 1];

	snprintf(ctx->prefix, sizeof(ctx->prefix), "%s/%s", conf_kind_name(kind), sec->instance);
	metrics_escape(esc, sizeof(esc), ctx->prefix);
	snprintf(ctx->labels, sizeof(ctx->labels), "plugin=\"%.*s\"", (int)sizeof(esc) - 1, esc);
}

void host_log(struct xtcpd_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, ctx ? ctx->prefix : NULL, fmt, ap);
	va_end(ap);
}

static void host_log_rl(struct xtcpd_ctx *ctx, const void *key, int interval_ms, int level,
			const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vratelimited(key, interval_ms, level, ctx ? ctx->prefix : NULL, fmt, ap);
	va_end(ap);
}

_Atomic uint64_t *host_metric(struct xtcpd_ctx *ctx, enum xtcpd_metric_type type,
			      const char *name, const char *labels, const char *help)
{
	char full[256], lab[640];

	snprintf(full, sizeof(full), "xtcpd_%s", name);
	snprintf(lab, sizeof(lab), "%s%s%s", ctx->labels, labels && *labels ? "," : "",
		 labels ? labels : "");
	return metrics_get(type, full, lab, help);
}

void host_metrics_register(struct xtcpd_ctx *ctx, void *obj, const struct host_metric_def *defs,
			   size_t n)
{
	for (size_t i = 0; i < n; i++)
		*(_Atomic uint64_t **)((char *)obj + defs[i].off) =
			host_metric(ctx, defs[i].type, defs[i].name, defs[i].labels, defs[i].help);
}

static struct xtcpd_pool *host_pool_create(struct xtcpd_ctx *ctx, const char *name,
					   size_t obj_size, unsigned capacity)
{
	char full[400];
	struct pool *p;

	snprintf(full, sizeof(full), "%s/%s", ctx->prefix, name);
	if (pool_create(full, obj_size, capacity, &p)) {
		host_log(ctx, XTCPD_LOG_ERR, "cannot create pool %s: %u objects of %zu bytes", name,
			 capacity, obj_size);
		return NULL;
	}
	return (struct xtcpd_pool *)p;
}

static void *host_pool_get(struct xtcpd_pool *p, int wait_ms)
{
	return pool_get((struct pool *)p, wait_ms);
}

static void host_pool_put(struct xtcpd_pool *p, void *obj)
{
	pool_put((struct pool *)p, obj);
}

static void host_pool_destroy(struct xtcpd_pool *p)
{
	pool_destroy((struct pool *)p);
}

static int host_ns_socket(struct xtcpd_ctx *ctx, const struct xtcpd_netns *ns, int domain,
			  int type, int protocol)
{
	return netns_socket(ns, domain, type, protocol);
}

static int host_ns_run(struct xtcpd_ctx *ctx, const struct xtcpd_netns *ns, int (*fn)(void *arg),
		       void *arg)
{
	return netns_run(ns, fn, arg);
}

static const char *host_capture_dir(struct xtcpd_ctx *ctx)
{
	return ctx->pl ? ctx->pl->capture_dir : NULL;
}

/* A sink's ctx is the first member of its sinkinst. Its marshaller is wired after the
 * sink is created (marshallers size their buffers from the sinks' max_message), so this
 * answers from start() on, NULL before; the marshaller's table is read only as far as its
 * struct_size goes. */
static const char *host_content_type(struct xtcpd_ctx *ctx)
{
	const struct xtcpd_marshaller_ops *mo;
	struct sinkinst *k;

	if (!ctx || ctx->kind != CONF_SINK)
		return NULL;
	k = (struct sinkinst *)((char *)ctx - offsetof(struct sinkinst, ctx));
	if (!k->m)
		return NULL;
	mo = k->m->ops;
	if (mo->common.struct_size < offsetof(struct xtcpd_marshaller_ops, content_type) +
				     sizeof(mo->content_type))
		return NULL;
	return mo->content_type;
}

/* ABI 1.6: runtime control, served by the main thread (ops/control.c). */
static int host_poll_now(struct xtcpd_ctx *ctx)
{
	return control_poll();
}

static int host_poll_burst(struct xtcpd_ctx *ctx, unsigned count, int64_t interval_ms)
{
	return control_burst(count, interval_ms);
}

static int host_set_frequency(struct xtcpd_ctx *ctx, int64_t frequency_ms, int64_t timeout_ms)
{
	return control_frequency(frequency_ms, timeout_ms, CONTROL_WAIT_MS);
}

static int host_config_text(struct xtcpd_ctx *ctx, char *buf, size_t size)
{
	return control_config_text(buf, size);
}

static int host_apply_config(struct xtcpd_ctx *ctx, const char *text, size_t len, char *err,
			     size_t err_size)
{
	int rc = control_apply(text, len, err, err_size, CONTROL_WAIT_MS);

	if (rc)
		host_log(ctx, XTCPD_LOG_WARN, "new configuration refused: %s", err);
	return rc;
}

static int host_ready(struct xtcpd_ctx *ctx, char *reason, size_t size)
{
	return stats_ready(reason, size);
}

/* ABI 1.7: see netns/netns_enrich.c. */
static uint64_t host_enrich_generation(struct xtcpd_ctx *ctx)
{
	(void)ctx;
	return enrich_generation();
}

const struct xtcpd_host host_table = {
	.struct_size = sizeof(struct xtcpd_host),
	.abi_major = XTCPD_ABI_MAJOR,
	.abi_minor = XTCPD_ABI_MINOR,
	.log = host_log,
	.log_ratelimited = host_log_rl,
	.metric = host_metric,
	.pool_create = host_pool_create,
	.pool_get = host_pool_get,
	.pool_put = host_pool_put,
	.pool_destroy = host_pool_destroy,
	.emit = batch_emit,
	.buf_release = sink_release,
	.ns_socket = host_ns_socket,
	.capture_dir = host_capture_dir,
	.emit_ns = batch_emit_ns,
	.ns_run = host_ns_run,
	.content_type = host_content_type,
	.poll_now = host_poll_now,
	.poll_burst = host_poll_burst,
	.set_frequency = host_set_frequency,
	.config_text = host_config_text,
	.apply_config = host_apply_config,
	.ready = host_ready,
	.enrich_generation = host_enrich_generation,
};
