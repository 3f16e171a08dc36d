/* synth — a synthetic source for tests and benchmarks: `records` deterministic sockets
 * per cycle, emitted by `lanes` reader threads (created at start, constant), exactly as
 * a real source drives the host. Record i of a cycle is a pure function of i. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <xtcpd/plugin.h>

#include "synth_record.h"

enum { K_RECORDS, K_LANES };
static const struct xtcpd_key synth_keys[] = {
	[K_RECORDS] = { "records", XTCPD_KEY_INT, "1000", 0, 10000000, NULL, 0, "records per cycle" },
	[K_LANES] = { "lanes", XTCPD_KEY_INT, "2", 1, 64, NULL, 0, "emitting threads" },
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

XTCPD_PLUGIN(XTCPD_KIND_SOURCE, "synth", "1.0", "synthetic records for tests and benchmarks",
	     synth_keys, &synth_ops);
