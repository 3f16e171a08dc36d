/* bpf_iter — the BPF TCP iterator source: per cycle, an iterator per namespace (created
 * inside it through the host's ns_run) walks the kernel's TCP tables and writes one fixed
 * binary record per socket (bpf_iter.bpf.c); reader threads convert them into the same
 * struct xtcpd_record the netlink source fills, without the kernel formatting netlink
 * attributes. changed_only leaves out sockets whose counters did not move. */
#include <config.h>

#include "bisrc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plugins/sources/netlink/request.h" /* nlr_states, nlr_deserializers */

enum {
	K_READERS, K_DESER, K_STATES, K_SKIP_EMPTY, K_CHANGED_ONLY, K_REFRESH, K_CHANGED_MAX,
	K_READ_BUFFER, K_BTF, K_COUNT
};

static const struct xtcpd_key bpfi_keys[] = {
	[K_READERS] = { "readers", XTCPD_KEY_INT, "2", 1, 64, NULL, 0,
		"reader threads shared by all namespaces (one namespace's walk is one reader's)" },
	[K_DESER] = { "deserializers", XTCPD_KEY_LIST, "default", 0, 0,
		"meminfo|info|vegas|cong|tos|tc|skmem|shut|dctcp|bbr|classid|cgroup|sockopt|mark|all|default", 0,
		"attribute groups in the records, as the netlink source (vegas, dctcp, bbr: never filled)" },
	[K_STATES] = { "states", XTCPD_KEY_LIST, "all", 0, 0,
		"all|established|syn-sent|syn-recv|fin-wait-1|fin-wait-2|time-wait|close|close-wait|"
		"last-ack|listen|closing|new-syn-recv|bound-inactive", 0,
		"TCP states to emit, as the netlink source (filtered in the BPF program)" },
	[K_SKIP_EMPTY] = { "skip_empty", XTCPD_KEY_BOOL, "true", 0, 1, NULL, 0,
		"skip namespaces whose sockstat shows no TCP socket" },
	[K_CHANGED_ONLY] = { "changed_only", XTCPD_KEY_BOOL, "false", 0, 1, NULL, 0,
		"emit a socket only when its counters (bytes, segments, retransmits, state) moved since the previous pass" },
	[K_REFRESH] = { "refresh", XTCPD_KEY_INT, "10", 1, 1000000, NULL, 0,
		"changed_only: an unchanged socket is still emitted every this many passes" },
	[K_CHANGED_MAX] = { "changed_max", XTCPD_KEY_INT, "262144", 1024, 16777216, NULL, 0,
		"changed_only: sockets remembered (LRU; a forgotten socket is emitted as new)" },
	[K_READ_BUFFER] = { "read_buffer", XTCPD_KEY_SIZE, "64KiB", 4096, 16 << 20, NULL, 0,
		"bytes per read() of an iterator, one buffer per reader" },
	[K_BTF] = { "vmlinux_btf", XTCPD_KEY_STRING, "/sys/kernel/btf/vmlinux", 1, 4096, NULL, 0,
		"the kernel's BTF (testing: another file simulates a kernel without BTF or iterator)" },
	[K_COUNT] = XTCPD_KEYS_END,
};

static const struct {
	const char *name, *labels, *help;
	enum xtcpd_metric_type type;
} bpfi_metric_defs[BPFI_M_COUNT] = {
	[BPFI_M_RECORDS] = { "bpf_iter_sockets_total", NULL, "sockets read from iterators", XTCPD_METRIC_COUNTER },
	[BPFI_M_BYTES] = { "bpf_iter_bytes_total", NULL, "bytes read from iterators", XTCPD_METRIC_COUNTER },
	[BPFI_M_ITERS] = { "bpf_iter_walks_total", NULL, "namespace iterators created (one table walk each)", XTCPD_METRIC_COUNTER },
	[BPFI_M_NS_SKIPPED] = { "bpf_iter_namespaces_skipped_total", NULL, "namespace polls skipped: no TCP socket", XTCPD_METRIC_COUNTER },
	[BPFI_M_LATE] = { "bpf_iter_late_records_total", NULL, "records read after the cycle deadline (not emitted)", XTCPD_METRIC_COUNTER },
	[BPFI_M_MISSED] = { "bpf_iter_walks_missed_total", NULL, "namespace walks unfinished at the cycle deadline", XTCPD_METRIC_COUNTER },
	[BPFI_M_ERR_ITER] = { "bpf_iter_errors_total", "reason=\"create\"", "iterator errors", XTCPD_METRIC_COUNTER },
	[BPFI_M_ERR_READ] = { "bpf_iter_errors_total", "reason=\"read\"", "iterator errors", XTCPD_METRIC_COUNTER },
	[BPFI_M_ERR_RECORD] = { "bpf_iter_errors_total", "reason=\"record\"", "iterator errors", XTCPD_METRIC_COUNTER },
	[BPFI_M_OVERSIZE] = { "bpf_iter_info_oversize_total", NULL, "tcp_info longer than this build knows", XTCPD_METRIC_COUNTER },
	[BPFI_M_NAMESPACES] = { "bpf_iter_namespaces", NULL, "namespaces known to the source", XTCPD_METRIC_GAUGE },
	[BPFI_M_CYCLE_SOCKETS] = { "bpf_iter_cycle_sockets", NULL, "sockets read in the last cycle", XTCPD_METRIC_GAUGE },
};

/* The check op (ABI 1.3): every key, nothing touched (no BTF read, no BPF call: a
 * kernel that cannot run the iterator is not a configuration error, it is the
 * "unavailable" create() reports, which the section's fallback answers). */
static int bpfi_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	const struct xtcpd_value *v = cfg->values;
	uint32_t decode, states;
	uint8_t ext;

	if (cfg->n_values < K_COUNT)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin needs %d",
					cfg->n_values, K_COUNT);
	if (nlr_deserializers(v[K_DESER].str, &ext, &decode) < 0)
		return XTCPD_CHECK_FAIL(res, bpfi_keys[K_DESER].name, "unknown name in '%s'",
					v[K_DESER].str);
	if (nlr_states(v[K_STATES].str, &states) < 0)
		return XTCPD_CHECK_FAIL(res, bpfi_keys[K_STATES].name, "no state, or an unknown one, "
					"in '%s'", v[K_STATES].str);
	if ((size_t)v[K_READ_BUFFER].num < 2 * sizeof(struct bpfi_rec))
		return XTCPD_CHECK_FAIL(res, bpfi_keys[K_READ_BUFFER].name, "at least %zu bytes",
					2 * sizeof(struct bpfi_rec));
	if (!v[K_BTF].str || v[K_BTF].str[0] != '/')
		return XTCPD_CHECK_FAIL(res, bpfi_keys[K_BTF].name, "'%s' is not an absolute path "
					"(it would depend on the folder xtcpd starts in)",
					v[K_BTF].str ? v[K_BTF].str : "");
	return 0;
}

/* A checked configuration into s. */
static int bpfi_conf(struct bpfi *s, const struct xtcpd_config *cfg)
{
	const struct xtcpd_value *v = cfg->values;
	char msg[300];
	struct xtcpd_check res = { .struct_size = sizeof(res), .msg = msg, .msg_size = sizeof(msg) };
	uint8_t ext;
	int err;

	if ((err = bpfi_check(cfg, &res))) {
		s->host->log(s->ctx, XTCPD_LOG_ERR, "%s%s%s", res.key ? res.key : "",
			     res.key ? ": " : "", msg);
		return err;
	}
	s->readers = (unsigned)v[K_READERS].num;
	nlr_deserializers(v[K_DESER].str, &ext, &s->decode);
	nlr_states(v[K_STATES].str, &s->states);
	s->skip_empty = (int)v[K_SKIP_EMPTY].num;
	s->changed_only = (int)v[K_CHANGED_ONLY].num;
	s->refresh = (unsigned)v[K_REFRESH].num;
	s->changed_max = (unsigned)v[K_CHANGED_MAX].num;
	/* a multiple of 64: each reader's buffer (readers x read_buffer, one allocation)
	 * stays aligned, so records are read in place (reader.c) */
	s->read_buffer = ((size_t)v[K_READ_BUFFER].num + 63) & ~(size_t)63;
	s->btf_path = v[K_BTF].str;
	return 0;
}

static void bpfi_destroy(void *inst);

static int bpfi_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		       const struct xtcpd_config *cfg, void **inst)
{
	struct bpfi *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	int err;

	*inst = s;
	if (!s)
		return -ENOMEM;
	s->host = host;
	s->ctx = ctx;
	s->link_fd = -1;
	s->tail = &s->head;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->idle, &ca);
	pthread_condattr_destroy(&ca);
	for (int i = 0; i < BPFI_M_COUNT; i++) {
		s->m[i] = host->metric(ctx, bpfi_metric_defs[i].type, bpfi_metric_defs[i].name,
				       bpfi_metric_defs[i].labels, bpfi_metric_defs[i].help);
		if (!s->m[i])
			s->m[i] = &s->m_dummy;
	}
	if ((err = bpfi_conf(s, cfg)))
		return err;
	if (!XTCPD_HOST_HAS(host, ns_run) || !XTCPD_HOST_HAS(host, emit_ns)) {
		host->log(ctx, XTCPD_LOG_ERR, "this xtcpd lends no ns_run/emit_ns (plugin ABI < 1.3)");
		return -ENOTSUP;
	}
	s->bufs = malloc((size_t)s->readers * s->read_buffer);
	if (!s->bufs)
		return -ENOMEM;
	return bpfi_load(s);
}

static int bpfi_start(void *inst)
{
	struct bpfi *s = inst;
	int err = bpfi_readers_start(s);

	if (err)
		s->host->log(s->ctx, XTCPD_LOG_ERR, "cannot start reader threads: %s", strerror(-err));
	return err;
}

static void bpfi_stop(void *inst)
{
	struct bpfi *s = inst;

	if (s && s->threads)
		bpfi_readers_stop(s);
}

static void bpfi_destroy(void *inst)
{
	struct bpfi *s = inst;

	if (!s)
		return;
	if (s->threads)
		bpfi_readers_stop(s);
	bpfi_unload(s);
	free(s->bufs);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static unsigned bpfi_lanes_n(void *inst)
{
	return ((struct bpfi *)inst)->readers;
}

/* ns_run callback: the sockstat files of the namespace the calling thread is in. */
static int bpfi_sockstat_open(void *arg)
{
	return nlss_open_here(arg);
}

static int bpfi_ns_add(void *inst, struct xtcpd_netns *ns)
{
	struct bpfi *s = inst;
	struct bpfi_ns *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->src = s;
	n->ns = ns;
	n->iter_fd = -1;
	n->ss = (struct nlss)NLSS_INIT;
	if (s->skip_empty) /* inside the namespace; failure = always walk */
		s->host->ns_run(s->ctx, ns, bpfi_sockstat_open, &n->ss);
	ns->source_priv = n;
	BPFI_ADD(s, BPFI_M_NAMESPACES, 1);
	return 0;
}

/* Between cycles (main thread): no reader holds n. */
static void bpfi_ns_del(void *inst, struct xtcpd_netns *ns)
{
	struct bpfi *s = inst;
	struct bpfi_ns *n = ns->source_priv;

	if (!n)
		return;
	nlss_close(&n->ss);
	ns->source_priv = NULL;
	atomic_fetch_sub(s->m[BPFI_M_NAMESPACES], 1);
	free(n);
}

static int bpfi_poll(void *inst, const struct xtcpd_cycle *cyc)
{
	return bpfi_cycle(inst, cyc);
}

static const struct xtcpd_source_ops bpfi_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_source_ops),
		.create = bpfi_create,
		.start = bpfi_start,
		.stop = bpfi_stop,
		.destroy = bpfi_destroy,
	},
	.lanes = bpfi_lanes_n,
	.ns_add = bpfi_ns_add,
	.ns_del = bpfi_ns_del,
	.poll = bpfi_poll,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SOURCE, "bpf_iter", PACKAGE_VERSION,
		     "TCP sockets of every namespace via a BPF TCP iterator (libbpf, CO-RE)",
		     bpfi_keys, &bpfi_ops, bpfi_check);
