/* pipeline/internal.h — the pipeline's objects, shared by its modules: pipeline.c (wiring
 * and lifecycle), reload.c (what a new pipeline keeps of the running one), batch.c (the
 * data path: emit, append, flush), sink.c (queues, sink threads, quotas, release) and
 * host.c (the service table lent to plugins).
 *
 * A reload builds a new pipeline beside the running one. Instances whose configuration
 * did not change are adopted: the same object, still running, listed by both pipelines
 * until the swap. Until then its `ctx.pl` is the running pipeline and what the new one
 * will change in it waits in its next_* fields; pipeline_swap() applies them. */
#ifndef XTCPD_PIPELINE_INTERNAL_H
#define XTCPD_PIPELINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <xtcpd/plugin.h>

#include "conf/conf.h"
#include "ops/metrics.h"
#include "pipeline/pool.h"
#include "pipeline/queue.h"
#include "plugin/plugin.h"

struct pipeline;
struct marsh;

/* One plugin instance as the host sees it; every stage object starts with one, so the
 * handle a plugin passes back leads to its stage. */
struct xtcpd_ctx {
	struct pipeline *pl;
	enum conf_kind kind;
	char prefix[300];            /* "sink/stdout" (log prefix) */
	char labels[320];            /* plugin="sink/stdout" */
	const struct plugin *plugin;
	struct conf_section *sec;
	void *inst;
	int created, started;
	struct pipeline *next_pl;    /* a pipeline being built adopts it (see above) */
	const struct plugin *next_plugin;
};

/* One batch buffer in a pool object: header, then cap bytes of data. */
struct bufhdr {
	struct xtcpd_buf buf;
	struct marsh *m;
	_Atomic int refs;            /* sinks still holding it */
	int64_t flushed_ns;          /* CLOCK_MONOTONIC when queued: sink latency */
};

struct sinkinst {
	struct xtcpd_ctx ctx;
	const struct xtcpd_sink_ops *ops;
	struct marsh *m;
	struct queue *q;
	pthread_t thread;
	int thread_ok;
	int stuck;                   /* its thread did not finish in time: leave it alone */
	atomic_int expired;          /* shutdown deadline passed: drop what is still queued */
	atomic_int closed;           /* its output is gone for good (send returned -EPIPE) */
	struct xtcpd_buf *volatile inflight; /* the batch inside send(), for shutdown accounting */
	struct marsh *next_m;        /* adopted: its marshaller in the new pipeline */
	int drop_when_full;
	int block_ms;
	int quota;                   /* queue_depth + max_in_flight: most batches it may hold */
	atomic_int held;             /* batches queued to it or inside it, not yet released */
	atomic_int held_waiters;     /* emitters waiting for held < quota */
	atomic_int stalled;          /* a wait for room timed out: no more waiting until it
	                              * releases a batch (one wait per stall, not per batch) */
	pthread_mutex_t held_lock;
	pthread_cond_t held_cond;    /* CLOCK_MONOTONIC */
	/* the sink's outcome counters: the core is their only owner */
	_Atomic uint64_t *m_batches_queued, *m_records_queued, *m_drop_batches, *m_drop_records;
	_Atomic uint64_t *m_drop_inflight_batches, *m_drop_inflight_records;
	_Atomic uint64_t *m_abandoned_records, *m_abandoned_batches;
	_Atomic uint64_t *m_closed_records, *m_closed_batches, *m_closed;
	_Atomic uint64_t *m_delivered_batches, *m_delivered_records, *m_delivered_bytes;
	_Atomic uint64_t *m_failed_batches, *m_failed_records, *m_queue_depth;
	_Atomic uint64_t *m_block_timeouts;  /* queue_full = block: waits that ran out */
	struct metrics_hist *latency;
};

struct marsh {
	struct xtcpd_ctx ctx;
	const struct xtcpd_marshaller_ops *ops;
	struct pool *bufs;
	size_t buf_cap;
	uint32_t flush_rows;
	size_t flush_bytes;
	struct sinkinst **sinks;
	size_t n_sinks;
	struct sinkinst **next_sinks; /* adopted: its sinks in the new pipeline */
	size_t next_n_sinks;
	struct marsh *grave_next;    /* retired, until its last buffer comes back */
	_Atomic uint64_t *m_records, *m_batches, *m_bytes;
	_Atomic uint64_t *m_drop_nobuf, *m_drop_toolarge, *m_drop_error, *m_drop_nosink;
	atomic_int starved;          /* the last pool_get missed: do not wait again */
};

struct srcinst {
	struct xtcpd_ctx ctx;
	const struct xtcpd_source_ops *ops;
	unsigned lanes;
	struct xtcpd_buf **cur;      /* [lane * n_marsh + m]: each lane's current batches */
	struct lane_count *emitted;  /* [lane]: records emitted, not yet in m_records */
	struct xtcpd_buf **next_cur; /* adopted: the same for the new pipeline's marshallers */
	int fresh;                   /* created by this pipeline: no namespace given yet */
	_Atomic uint64_t *m_records;
	/* A continuous source (XTCPD_SOURCE_CONTINUOUS, ABI 1.5) emits at any time: each
	 * lane's emits hold its lock, and so do the main thread's flushes (every flush_ns,
	 * pipeline_tick) and a reload's swap; NULL for a poll source, whose lanes the main
	 * thread touches only between polls. */
	pthread_mutex_t *lane_lock;
	int lanes_held;              /* the main thread holds every lane lock (reload) */
	int64_t flush_ns;            /* flush_interval */
	int64_t next_flush_ns;       /* CLOCK_MONOTONIC */
};

/* One lane's emit count, written only by that lane's thread, read by the main thread at
 * the end of the cycle; a cache line each so lanes never share one. */
struct lane_count {
	uint64_t n;
} __attribute__((aligned(64)));

struct pipeline {
	struct conf *conf;
	const char *daemon_version;
	const char *capture_dir;
	struct srcinst **src;
	size_t n_src;
	struct marsh **marsh;
	size_t n_marsh;
	struct sinkinst **sinks;
	size_t n_sinks;
	int pool_wait_ms;
	struct marsh *grave;         /* retired marshallers whose buffers are still out */
	unsigned retired_seq;        /* names retired pools apart in the metrics */
	_Atomic int64_t cycle_start_ns;
	_Atomic uint64_t record_counter;
};

#endif
