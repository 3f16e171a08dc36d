/* cont_source — "synthcont", a continuous source (ABI 1.5, XTCPD_SOURCE_CONTINUOUS) for
 * the core's flush_interval test: `delay` after start, each of `lanes` threads emits its
 * share of `records` synthetic records once, outside any poll, then waits to be
 * stopped; poll() returns at once. Only the core's time bound can deliver them. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xtcpd/plugin.h>

#include "synth_record.h"

enum { K_RECORDS, K_LANES, K_DELAY };
static const struct xtcpd_key cont_keys[] = {
	[K_RECORDS] = { "records", XTCPD_KEY_INT, "100", 0, 1000000, NULL, 0, "records emitted once" },
	[K_LANES] = { "lanes", XTCPD_KEY_INT, "2", 1, 64, NULL, 0, "emitting threads" },
	[K_DELAY] = { "delay", XTCPD_KEY_DURATION, "500ms", 0, 60000, NULL, 0, "wait after start" },
	XTCPD_KEYS_END,
};

struct cont;
struct cont_lane {
	struct cont *s;
	unsigned id;
	pthread_t th;
};

struct cont {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	uint64_t records;
	unsigned lanes, started;
	int64_t delay_ms;
	struct cont_lane *lane;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stopping;
};

static void *cont_main(void *arg)
{
	struct cont_lane *l = arg;
	struct cont *s = l->s;
	struct xtcpd_record rec;
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += s->delay_ms / 1000;
	dl.tv_nsec += (s->delay_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->lock);
	while (!s->stopping && pthread_cond_timedwait(&s->cond, &s->lock, &dl) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&s->lock);
	for (uint64_t i = l->id; !s->stopping && i < s->records; i += s->lanes) {
		synth_record_fill(&rec, i);
		s->host->emit(s->ctx, l->id, &rec);
	}
	pthread_mutex_lock(&s->lock);
	while (!s->stopping)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static int cont_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		       const struct xtcpd_config *cfg, void **inst)
{
	struct cont *s = calloc(1, sizeof(*s));

	*inst = s;
	if (!s)
		return -ENOMEM;
	s->host = host;
	s->ctx = ctx;
	s->records = (uint64_t)cfg->values[K_RECORDS].num;
	s->lanes = (unsigned)cfg->values[K_LANES].num;
	s->delay_ms = cfg->values[K_DELAY].num;
	s->lane = calloc(s->lanes, sizeof(*s->lane));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	return s->lane ? 0 : -ENOMEM;
}

static int cont_start(void *inst)
{
	struct cont *s = inst;

	for (unsigned i = 0; i < s->lanes; i++) {
		s->lane[i] = (struct cont_lane){ .s = s, .id = i };
		if (pthread_create(&s->lane[i].th, NULL, cont_main, &s->lane[i]))
			return -EAGAIN;
		s->started++;
	}
	return 0;
}

static void cont_stop(void *inst)
{
	struct cont *s = inst;

	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < s->started; i++)
		pthread_join(s->lane[i].th, NULL);
	s->started = 0;
}

static void cont_destroy(void *inst)
{
	struct cont *s = inst;

	if (!s)
		return;
	if (s->started)
		cont_stop(s);
	free(s->lane);
	free(s);
}

static unsigned cont_lanes(void *inst)
{
	return ((struct cont *)inst)->lanes;
}

static int cont_poll(void *inst, const struct xtcpd_cycle *cyc)
{
	(void)inst;
	(void)cyc;
	return 0;
}

static const struct xtcpd_source_ops cont_ops = {
	.common = { .struct_size = sizeof(struct xtcpd_source_ops), .create = cont_create,
		    .start = cont_start, .stop = cont_stop, .destroy = cont_destroy },
	.lanes = cont_lanes,
	.poll = cont_poll,
	.flags = XTCPD_SOURCE_CONTINUOUS,
};

XTCPD_PLUGIN(XTCPD_KIND_SOURCE, "synthcont", "1.0", "continuous synthetic records (tests)",
	     cont_keys, &cont_ops);
