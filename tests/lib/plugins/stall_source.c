/* stall — a test source whose poll of cycle N takes the N-th time of `stalls` (ms, comma-
 * separated; later cycles take none), ignoring the cycle deadline on purpose, the way a
 * hung kernel dump would; with `release` set, a stalled cycle N ends as soon as the file
 * release/N exists (the time is then only a bound), so a test decides when. It emits
 * nothing: it exists to make /readyz flip on cue. Its check op can be made slow
 * (check_ms, like a name lookup that hangs) or refuse (check_error), to test what runs
 * the checks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <xtcpd/plugin.h>

enum { K_STALLS, K_RELEASE, K_CHECK_MS, K_CHECK_ERROR, K_COUNT };
static const struct xtcpd_key stall_keys[] = {
	[K_STALLS] = { "stalls", XTCPD_KEY_STRING, "", 0, 1000, NULL, 0,
		       "how long each cycle's poll takes, in ms, e.g. 3000,0,4000" },
	[K_RELEASE] = { "release", XTCPD_KEY_STRING, "", 0, 4000, NULL, 0,
			"a folder: a stalled cycle N ends once the file N exists in it" },
	[K_CHECK_MS] = { "check_ms", XTCPD_KEY_INT, "0", 0, 600000, NULL, 0,
			 "how long the check op takes" },
	[K_CHECK_ERROR] = { "check_error", XTCPD_KEY_STRING, NULL, 0, 200, NULL, 0,
			    "the check op refuses the configuration with this reason" },
	[K_COUNT] = XTCPD_KEYS_END,
};

static void stall_sleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int stall_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	stall_sleep((long)cfg->values[K_CHECK_MS].num);
	if (cfg->values[K_CHECK_ERROR].str)
		return XTCPD_CHECK_FAIL(res, "check_error", "%s", cfg->values[K_CHECK_ERROR].str);
	return 0;
}

struct stall {
	const char *stalls, *release;
};

static int stall_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
			const struct xtcpd_config *cfg, void **inst)
{
	struct stall *s = calloc(1, sizeof(*s));

	*inst = s;
	if (!s)
		return -ENOMEM;
	s->stalls = cfg->values[K_STALLS].str ? cfg->values[K_STALLS].str : "";
	s->release = cfg->values[K_RELEASE].str ? cfg->values[K_RELEASE].str : "";
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
	const struct stall *s = inst;
	long ms = stall_ms(s->stalls, cyc->seq);
	char cue[4200];

	if (!*s->release) {
		stall_sleep(ms);
		return 0;
	}
	snprintf(cue, sizeof(cue), "%s/%llu", s->release, (unsigned long long)cyc->seq);
	for (; ms > 0 && access(cue, F_OK) != 0; ms -= 10)
		stall_sleep(10);
	return 0;
}

static const struct xtcpd_source_ops stall_ops = {
	.common = { .struct_size = sizeof(struct xtcpd_source_ops), .create = stall_create,
		    .destroy = stall_destroy },
	.lanes = stall_lanes,
	.poll = stall_poll,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SOURCE, "stall", "1.0", "a source whose polls hang on cue (tests)",
		     stall_keys, &stall_ops, stall_check);
