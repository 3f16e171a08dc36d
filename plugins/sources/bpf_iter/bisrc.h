/* bisrc — state shared by the bpf_iter source's files: the instance, its namespaces,
 * its reader threads and the work queue of one cycle. Internal to this folder. */
#ifndef BPFI_BISRC_H
#define BPFI_BISRC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <xtcpd/plugin.h>

#include "bpf_rec.h"
#include "plugins/sources/netlink/sockstat.h"

enum bpfi_metric {
	BPFI_M_RECORDS, BPFI_M_BYTES, BPFI_M_ITERS, BPFI_M_NS_SKIPPED, BPFI_M_LATE,
	BPFI_M_MISSED, BPFI_M_ERR_ITER, BPFI_M_ERR_READ, BPFI_M_ERR_RECORD, BPFI_M_OVERSIZE,
	BPFI_M_NAMESPACES, BPFI_M_CYCLE_SOCKETS, BPFI_M_COUNT
};

struct bpfi;
struct bpfi_skel_state; /* load.c: the BPF object, program and link */

/* One namespace: its sockstat files and this cycle's iterator. */
struct bpfi_ns {
	struct bpfi *src;
	struct xtcpd_netns *ns;
	struct nlss ss;          /* its sockstat files (netlink/sockstat.h), -1 = unknown */
	int iter_fd;             /* this cycle's iterator, -1 between cycles */
	struct bpfi_ns *next;    /* the cycle's queue */
};

struct bpfi {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	/* configuration */
	unsigned readers;
	uint32_t decode, states;
	int skip_empty, changed_only;
	unsigned refresh, changed_max;
	size_t read_buffer;
	const char *btf_path;
	unsigned hz;                      /* the kernel's HZ (jiffies -> time) */
	/* BPF */
	struct bpfi_skel_state *bpf;
	int link_fd;
	/* readers and the cycle's queue */
	pthread_t *threads;
	void *lanes;                      /* reader.c: each reader's (instance, lane id) */
	unsigned n_threads;
	uint8_t *bufs;                    /* readers x read_buffer */
	pthread_mutex_t lock;
	pthread_cond_t work, idle;        /* CLOCK_MONOTONIC for idle */
	struct bpfi_ns *head, **tail;     /* namespaces whose iterator is ready to read */
	unsigned queued, active;          /* in the queue; being read */
	int cycle_open, stopping;
	_Atomic int closed;               /* the deadline passed: emit nothing more */
	_Atomic uint64_t *m[BPFI_M_COUNT];
	_Atomic uint64_t m_dummy;
};

#define BPFI_ADD(s, idx, v) atomic_fetch_add_explicit((s)->m[idx], (uint64_t)(v), memory_order_relaxed)

/* load.c: load the program (after naming the cause and the remedy of any failure,
 * returns XTCPD_ERR_UNAVAILABLE when BPF cannot work here), and unload it. */
int bpfi_load(struct bpfi *s);
void bpfi_unload(struct bpfi *s);
/* HZ from the coarse clocks' resolution (one tick); 0 if unknown. */
unsigned bpfi_hz(void);

/* conv.c: one raw record -> struct xtcpd_record (kernel part; zeroes the rest). */
void bpfi_conv(const struct bpfi_rec *b, unsigned hz, uint32_t decode, struct xtcpd_record *rec);

/* reader.c */
int bpfi_readers_start(struct bpfi *s);
void bpfi_readers_stop(struct bpfi *s);
/* Run one cycle over the namespaces; 0 or -ETIMEDOUT. */
int bpfi_cycle(struct bpfi *s, const struct xtcpd_cycle *cyc);

#endif
