/* pipeline/host — the service table lent to every plugin instance (struct xtcpd_host):
 * logging with a "kind/instance" prefix, metrics with an instance label, pools, emit,
 * buffer release, namespace sockets, a sink's content type. */
#ifndef XTCPD_PIPELINE_HOST_H
#define XTCPD_PIPELINE_HOST_H

#include <stddef.h>
#include <xtcpd/plugin.h>

#include "pipeline/internal.h"

extern const struct xtcpd_host host_table;

void host_ctx_init(struct xtcpd_ctx *ctx, struct pipeline *pl, enum conf_kind kind,
		   struct conf_section *sec, const struct plugin *plugin);
void host_log(struct xtcpd_ctx *ctx, int level, const char *fmt, ...) XTCPD_PRINTF(3, 4);
_Atomic uint64_t *host_metric(struct xtcpd_ctx *ctx, enum xtcpd_metric_type type,
			      const char *name, const char *labels, const char *help);

/* A table of metric slots to register for one stage object: the slot pointer lives at
 * `off` bytes into the object. */
struct host_metric_def {
	size_t off;
	enum xtcpd_metric_type type;
	const char *name, *labels, *help;
};
/* xtcpd_records_dropped_total{stage,reason}, which every stage registers: slot at `off`. */
#define HOST_HELP_DROPPED "Records dropped, by stage and reason"
#define HOST_METRIC_DROPPED(off, stage, reason)                                          \
	{ (off), XTCPD_METRIC_COUNTER, "records_dropped_total",                           \
	  "stage=\"" stage "\",reason=\"" reason "\"", HOST_HELP_DROPPED }

void host_metrics_register(struct xtcpd_ctx *ctx, void *obj, const struct host_metric_def *defs,
			   size_t n);

#endif
