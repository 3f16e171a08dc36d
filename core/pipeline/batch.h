/* pipeline/batch — the data path from a source's lane to the sinks' queues: emit()
 * stamps the record's metadata and appends it to the lane's current batch of every
 * marshaller; a full batch is finished and pushed to each sink of its marshaller. */
#ifndef XTCPD_PIPELINE_BATCH_H
#define XTCPD_PIPELINE_BATCH_H

#include <xtcpd/plugin.h>

#include "pipeline/internal.h"

/* host->emit and host->emit_ns (ctx is a source's). */
int batch_emit(struct xtcpd_ctx *ctx, unsigned lane, struct xtcpd_record *rec);
int batch_emit_ns(struct xtcpd_ctx *ctx, unsigned lane, const struct xtcpd_netns *ns,
		  struct xtcpd_record *rec);
/* End of a source's cycle: flush every lane's partial batch. */
void batch_flush_lanes(struct pipeline *p, struct srcinst *src);
/* Give every lane's partial batch back unsent (tear-down). */
void batch_drop_lanes(struct pipeline *p, struct srcinst *src);
/* A continuous source's lanes: hold = 1 takes every lane's lock (no emit meanwhile; the
 * flush/drop above then take none), 0 gives them back. No-op for a poll source. */
void batch_lanes_hold(struct srcinst *src, int hold);
/* A continuous source's time bound: flush its lanes when flush_interval has passed
 * since the last time; returns when it is due next (CLOCK_MONOTONIC ns, INT64_MAX for a
 * poll source). Main thread. */
int64_t batch_tick(struct pipeline *p, struct srcinst *src, int64_t now_ns);
/* Return a batch buffer to its marshaller's pool (the last holder does this). */
void batch_put(struct xtcpd_buf *b);

#endif
