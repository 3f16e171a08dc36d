/* pipeline/sink — a sink instance as the core runs it: its bounded queue, its thread, the
 * quota of batches it may hold, the outcome of every batch (the core is the one owner
 * of those counts) and its bounded shutdown. */
#ifndef XTCPD_PIPELINE_SINK_H
#define XTCPD_PIPELINE_SINK_H

#include <time.h>
#include <xtcpd/plugin.h>

#include "pipeline/internal.h"

/* Make the sink of section s and create the plugin instance (the pipeline attaches it
 * to its marshaller). 0 or -errno; *out is set to whatever was built (sink_destroy takes
 * it). */
int sink_create(struct pipeline *p, struct conf_section *s, const struct plugin *pl,
		struct sinkinst **out);
/* Its plugin's start and its thread. create, start and reopen run on a thread born
 * without capabilities, so the threads a sink starts hold none. */
int sink_start(struct sinkinst *k);
/* SIGHUP: the plugin reopens its outputs (a failure is logged). */
void sink_reopen(struct sinkinst *k);
/* Queue one reference of a flushed batch (within the sink's quota and queue policy);
 * when the sink cannot take it, the drop is counted and the reference given back. */
void sink_push(struct sinkinst *k, struct xtcpd_buf *b);
/* host->buf_release: the sink is done with a batch. */
void sink_release(struct xtcpd_ctx *ctx, struct xtcpd_buf *b, int ok);
/* No more batches: its thread ends once the queue is drained. */
void sink_close(struct sinkinst *k);
/* Join its thread by `deadline` (CLOCK_REALTIME), then let it flush what is in flight
 * until then. Returns the batches not delivered. */
int sink_finish(struct sinkinst *k, const struct timespec *deadline);
void sink_destroy(struct sinkinst *k);  /* NULL, half-built and stuck ok */
/* Sinks (of every pipeline) whose output is not closed for good; fn is called, from the
 * sink's thread, when the last one closes. */
int sink_open_count(void);
void sink_on_all_closed(void (*fn)(void));

#endif
