/* stall — a test source whose poll of cycle N takes the N-th time of `stalls` (ms, comma-
 * separated; later cycles take none), ignoring the cycle deadline on purpose, the way a
 * hung kernel dump would. It emits nothing: it exists to make /readyz flip on cue. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <xtcpd/plugin.h>

static const struct xtcpd_key stall_keys[] = {
	{ "stalls", XTCPD_KEY_STRING, "", 0, 1000, NULL, 0,
	  "how long each cycle's poll takes, in ms, e.g. 3000,0,4000" },
	XTCPD_KEYS_END,
};

struct stall {
	const char *stalls;
};

static int stall_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
			const struct xtcpd_config *cfg, void **inst)
{
	struct stall *s = calloc(1, sizeof(*s));

	*inst = s;
	if (!s)
		return -ENOMEM;
	s->stalls = cfg->values[0].str ? cfg->values[0].str : "";
	return 0;
}

static void stall_destroy(void *inst)
{
	free(inst);
}

static unsigned stall_lanes(void *inst)
{
	return 1;
}

/* The seq-th number of the list (1-based), 0 past its end. */
static long stall_ms(const char *p, uint64_t seq)
{
	for (uint64_t i = 1; *p; i++) {
		char *end;
		long ms = strtol(p, &end, 10);

		if (i == seq)
			return ms > 0 ? ms : 0;
		if (*end != ',')
			break;
		p = end + 1;
	}
	return 0;
}

static int stall_poll(void *inst, const struct xtcpd_cycle *cyc)
{
	long ms = stall_ms(((struct stall *)inst)->stalls, cyc->seq);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return 0;
}

static const struct xtcpd_source_ops stall_ops = {
	.common = { .struct_size = sizeof(struct xtcpd_source_ops), .create = stall_create,
		    .destroy = stall_destroy },
	.lanes = stall_lanes,
	.poll = stall_poll,
};

XTCPD_PLUGIN(XTCPD_KIND_SOURCE, "stall", "1.0", "a source whose polls hang on cue (tests)",
	     stall_keys, &stall_ops);
