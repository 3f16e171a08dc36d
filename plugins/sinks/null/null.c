/* sink null — accepts every batch, discards it and counts it. The reference point for
 * benchmarks: what the pipeline costs without any output. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <xtcpd/plugin.h>

#include "plugins/sinks/common/sink_stats.h"

struct null_sink {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	struct sink_stats st;
};

static const struct xtcpd_key null_keys[] = {
	XTCPD_KEYS_END,
};

/* Nothing can fail in creating a null sink; the check only confirms the key table the
 * host validated against is this one (none). */
static int null_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	if (cfg->n_values || cfg->n_extra)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin has none",
					cfg->n_values + cfg->n_extra);
	return 0;
}

static int null_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		       const struct xtcpd_config *cfg, void **inst)
{
	struct null_sink *ns;
	int err;

	(void)cfg;
	*inst = NULL;
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	ns->host = host;
	ns->ctx = ctx;
	*inst = ns;
	err = sink_stats_init(&ns->st, host, ctx, NULL, 0, NULL);
	if (err)
		host->log(ctx, XTCPD_LOG_ERR, "cannot register metrics");
	return err;
}

static void null_destroy(void *inst)
{
	free(inst);
}

static size_t null_max_message(void *inst)
{
	(void)inst;
	return 0;
}

static int null_send(void *inst, struct xtcpd_buf *buf)
{
	struct null_sink *ns = inst;

	sink_stats_done(&ns->st, ns->host, ns->ctx, buf, 1);
	return 0;
}

static int null_flush(void *inst, int timeout_ms)
{
	(void)inst;
	(void)timeout_ms;
	return 0;
}

static const struct xtcpd_sink_ops null_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_sink_ops),
		.create = null_create,
		.destroy = null_destroy,
	},
	.max_message = null_max_message,
	.send = null_send,
	.flush = null_flush,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SINK, "null", PACKAGE_VERSION, "discard every batch, counting it",
		     null_keys, &null_ops, null_check);
