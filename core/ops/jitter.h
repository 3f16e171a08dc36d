/* jitter — xtcp2's poll-schedule jitter (poll_jitter_pct): each interval moves by up to
 * +-pct/2 percent of the frequency, the first cycle waits up to pct percent, so a fleet
 * started together does not poll (and produce) in lockstep. Pure, given the random word. */
#ifndef XTCPD_JITTER_H
#define XTCPD_JITTER_H

#include <stdint.h>

/* The next interval: freq_ns + (r mod (pct% of freq_ns + 1)) - pct/2 % of freq_ns. */
static inline int64_t jitter_interval_ns(int64_t freq_ns, unsigned pct, uint64_t r)
{
	int64_t span = freq_ns / 100 * (int64_t)pct;

	if (!pct || span <= 0)
		return freq_ns;
	return freq_ns - span / 2 + (int64_t)(r % (uint64_t)(span + 1));
}

/* The wait before the first cycle: 0 .. pct% of freq_ns. */
static inline int64_t jitter_start_ns(int64_t freq_ns, unsigned pct, uint64_t r)
{
	int64_t span = freq_ns / 100 * (int64_t)pct;

	return !pct || span <= 0 ? 0 : (int64_t)(r % (uint64_t)(span + 1));
}

/* xorshift64*: the schedule needs spread, not secrecy. state must not be 0. */
static inline uint64_t jitter_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

#endif
