/* synth — a synthetic source for tests and benchmarks: `records` deterministic sockets
 * per cycle, emitted by `lanes` reader threads (created at start, constant), exactly as
 * a real source drives the host. Record i of a cycle is a pure function of i. Built a
 * second time with -DSYNTH_FALLBACK as "synthfb" (records at most 100, no `unavailable`
 * key), the fallback of the core's unavailable-source test. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <xtcpd/plugin.h>

#include "synth_record.h"

#if defined(SYNTH_OLD_ABI)
/* ... or as "synthold", a source built against ABI 1.5 headers: its records end before
 * the 1.6 fields (pod_namespace, pod_name), so what lies past them is not the source's;
 * that is simulated here by a record whose 1.6 fields hold a pointer that must never be
 * read. */
#define SYNTH_NAME "synthold"
#define SYNTH_MAX_RECORDS 100
#define SYNTH_DEF_RECORDS "10"
#define SYNTH_FALLBACK
#elif defined(SYNTH_FALLBACK)
#define SYNTH_NAME "synthfb"
#define SYNTH_MAX_RECORDS 100
#define SYNTH_DEF_RECORDS "10"
#else
#define SYNTH_NAME "synth"
#define SYNTH_MAX_RECORDS 10000000
#define SYNTH_DEF_RECORDS "1000"
#endif

enum { K_RECORDS, K_LANES, K_UNAVAILABLE };
static const struct xtcpd_key synth_keys[] = {
	[K_RECORDS] = { "records", XTCPD_KEY_INT, SYNTH_DEF_RECORDS, 0, SYNTH_MAX_RECORDS, NULL, 0, "records per cycle" },
	[K_LANES] = { "lanes", XTCPD_KEY_INT, "2", 1, 64, NULL, 0, "emitting threads" },
#ifndef SYNTH_FALLBACK
	[K_UNAVAILABLE] = { "unavailable", XTCPD_KEY_BOOL, "false", 0, 1, NULL, 0,
		"testing: create() reports its mechanism unavailable on this host" },
#endif
	XTCPD_KEYS_END,
};

struct synth;
struct lane {
	struct synth *s;
	unsigned id;
	pthread_t th;
};

struct synth {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	uint64_t records;
	unsigned lanes, started;
	struct lane *lane;
	pthread_mutex_t lock;
	pthread_cond_t go, done;
	uint64_t gen;        /* cycle generation the lanes should run */
	unsigned pending;    /* lanes still working on gen */
	int stopping;
};

static void *lane_main(void *arg)
{
	struct lane *l = arg;
	struct synth *s = l->s;
	uint64_t seen = 0;
	struct xtcpd_record rec;
	char name[16];

	snprintf(name, sizeof(name), "synth/%u", l->id);
	pthread_setname_np(pthread_self(), name);

	for (;;) {
		pthread_mutex_lock(&s->lock);
		while (s->gen == seen && !s->stopping)
			pthread_cond_wait(&s->go, &s->lock);
		if (s->stopping) {
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		seen = s->gen;
		pthread_mutex_unlock(&s->lock);
		for (uint64_t i = l->id; i < s->records; i += s->lanes) {
			synth_record_fill(&rec, i);
#ifdef SYNTH_OLD_ABI
			rec.pod_namespace = rec.pod_name = (const char *)(uintptr_t)1;
#endif
			s->host->emit(s->ctx, l->id, &rec);
		}
		pthread_mutex_lock(&s->lock);
		if (--s->pending == 0)
			pthread_cond_signal(&s->done);
		pthread_mutex_unlock(&s->lock);
	}
}

static int synth_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
			const struct xtcpd_config *cfg, void **inst)
{
	struct synth *s = calloc(1, sizeof(*s));

	*inst = s;
	if (!s)
		return -ENOMEM;
	s->host = host;
	s->ctx = ctx;
#ifndef SYNTH_FALLBACK
	if (cfg->values[K_UNAVAILABLE].num) {
		host->log(ctx, XTCPD_LOG_ERR, "cannot collect here: injected unavailability "
			  "(remedy: unavailable = false)");
		return XTCPD_ERR_UNAVAILABLE;
	}
#endif
	s->records = (uint64_t)cfg->values[K_RECORDS].num;
	s->lanes = (unsigned)cfg->values[K_LANES].num;
	s->lane = calloc(s->lanes, sizeof(*s->lane));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->go, NULL);
	pthread_cond_init(&s->done, NULL);
	return s->lane ? 0 : -ENOMEM;
}

static int synth_start(void *inst)
{
	struct synth *s = inst;

	for (unsigned i = 0; i < s->lanes; i++) {
		s->lane[i] = (struct lane){ .s = s, .id = i };
		if (pthread_create(&s->lane[i].th, NULL, lane_main, &s->lane[i]))
			return -EAGAIN;
		s->started++;
	}
	return 0;
}

static void synth_stop(void *inst)
{
	struct synth *s = inst;

	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->go);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < s->started; i++)
		pthread_join(s->lane[i].th, NULL);
	s->started = 0;
}

static void synth_destroy(void *inst)
{
	struct synth *s = inst;

	if (!s)
		return;
	if (s->started)
		synth_stop(s);
	free(s->lane);
	free(s);
}

static unsigned synth_lanes(void *inst)
{
	return ((struct synth *)inst)->lanes;
}

static int synth_poll(void *inst, const struct xtcpd_cycle *cyc)
{
	struct synth *s = inst;

	pthread_mutex_lock(&s->lock);
	s->pending = s->lanes;
	s->gen++;
	pthread_cond_broadcast(&s->go);
	while (s->pending)
		pthread_cond_wait(&s->done, &s->lock);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static const struct xtcpd_source_ops synth_ops = {
	.common = { .struct_size = sizeof(struct xtcpd_source_ops), .create = synth_create,
		    .start = synth_start, .stop = synth_stop, .destroy = synth_destroy },
	.lanes = synth_lanes,
	.poll = synth_poll,
};

#ifdef SYNTH_OLD_ABI
XTCPD_EXPORT const struct xtcpd_plugin xtcpd_plugin = {
	.abi_major = XTCPD_ABI_MAJOR,
	.abi_minor = 5,
	.struct_size = sizeof(struct xtcpd_plugin),
	.kind = XTCPD_KIND_SOURCE,
	.name = SYNTH_NAME,
	.version = "1.0",
	.description = "synthetic records of an ABI 1.5 source",
	.keys = synth_keys,
	.ops = &synth_ops,
};
#else
XTCPD_PLUGIN(XTCPD_KIND_SOURCE, SYNTH_NAME, "1.0", "synthetic records for tests and benchmarks",
	     synth_keys, &synth_ops);
#endif
