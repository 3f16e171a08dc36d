/* clsrc — state shared by the closed source's files: the instance, its namespaces, its
 * reader threads and its record filter. Internal to plugins/sources/closed/. */
#ifndef CLS_CLSRC_H
#define CLS_CLSRC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <xtcpd/plugin.h>

/* Metric slots (host->metric), indexes into struct cls.m. */
enum cls_metric {
	CLS_M_RECORDS, CLS_M_EMITTED, CLS_M_FILTERED, CLS_M_DATAGRAMS, CLS_M_BYTES,
	CLS_M_DROPPED, CLS_M_OVERFLOWS, CLS_M_ERR_SENDER, CLS_M_ERR_MSG, CLS_M_ERR_RECV,
	CLS_M_ERR_TRUNC, CLS_M_ERR_DROPCOUNT, CLS_M_NAMESPACES, CLS_M_BUFFER, CLS_M_COUNT
};

/* The plugin-side filter (the kernel cannot filter a multicast group's messages for one
 * listener): port ranges and address prefixes, all checked on the message header before
 * the message is parsed. An empty list matches everything. */
#define CLF_MAX 64
struct clf_ports {
	unsigned n;
	uint16_t lo[CLF_MAX], hi[CLF_MAX];
};
struct clf_addrs {
	unsigned n;
	uint8_t family[CLF_MAX], bits[CLF_MAX];
	uint8_t addr[CLF_MAX][16];
};
struct clf {
	uint32_t states;          /* idiag_states mask (1 << state) */
	struct clf_ports sport, dport;
	struct clf_addrs src, dst;
};

struct cls;

/* One namespace: its sock_diag socket, joined to the TCP destroy groups. */
struct cls_ns {
	struct cls *src;
	struct xtcpd_netns *ns;
	int fd;
	uint32_t drops;          /* the socket's kernel drop counter when last read */
	uint64_t received, dropped; /* this namespace's totals (logged when it goes) */
	unsigned users;          /* readers draining it (under src->lock) */
	int dead;                /* ns_del ran: readers must not touch it (under src->lock) */
	struct cls_ns *grave_next;
	uint64_t *snap;          /* readers' loop counters when it died */
};

struct cls {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	/* configuration */
	unsigned readers;
	uint32_t groups;         /* SKNLGRP_* bits to join (1 << (group - 1)) */
	size_t sock_buffer;
	struct clf filter;
	/* runtime */
	int epfd, stopfd;
	pthread_t *threads;
	_Atomic uint64_t *loops; /* per reader: epoll_wait calls started */
	unsigned n_threads;
	struct cls_ns *grave;
	pthread_mutex_t lock;
	pthread_cond_t idle;     /* a dead namespace's users reached 0 */
	_Atomic uint64_t *m[CLS_M_COUNT];
	_Atomic uint64_t m_dummy;
};

#define CLS_ADD(s, idx, v) atomic_fetch_add_explicit((s)->m[idx], (uint64_t)(v), memory_order_relaxed)

/* filter.c: parse a key's value (0 or -EINVAL with err naming the bad item); match. */
int clf_ports_parse(const char *s, struct clf_ports *p, char *err, size_t n);
int clf_addrs_parse(const char *s, struct clf_addrs *a, char *err, size_t n);
/* 1 when the inet_diag header (family, state, ports in host order, addresses as the
 * kernel sends them) passes the filter. */
int clf_match(const struct clf *f, int family, int state, uint16_t sport, uint16_t dport,
	      const uint8_t *src, const uint8_t *dst);

/* reader.c */
int cls_readers_start(struct cls *s);
void cls_readers_stop(struct cls *s);
/* Add the drops the kernel counted on n's socket since the last read to the metric. */
void cls_count_drops(struct cls *s, struct cls_ns *n);
void cls_grave_reap(struct cls *s, int all);
/* ns_del: read (and emit from lane 0) what is still queued on n's socket. */
void cls_drain_last(struct cls *s, struct cls_ns *n);

#endif
