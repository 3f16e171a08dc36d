/* test_jitter — xtcp2's poll jitter (core.poll_jitter_pct): each interval within
 * frequency +-pct/2 %, the first cycle within 0..pct %, exact for given random words,
 * 0 % the fixed grid; and the generator spreads over the whole window. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ops/jitter.h"

#define S 1000000000LL

static void test_interval_exact(void **state)
{
	(void)state;
	/* 10 s at 20 %: span 2 s, so 9 s + r mod (2 s + 1 ns) */
	assert_int_equal(jitter_interval_ns(10 * S, 20, 0), 9 * S);
	assert_int_equal(jitter_interval_ns(10 * S, 20, 2 * S), 11 * S);
	assert_int_equal(jitter_interval_ns(10 * S, 20, 2 * S + 1), 9 * S);
	assert_int_equal(jitter_interval_ns(10 * S, 20, S), 10 * S);
	assert_int_equal(jitter_interval_ns(10 * S, 100, 0), 5 * S);
	assert_int_equal(jitter_interval_ns(10 * S, 100, 10 * S), 15 * S);
	/* 0 %: today's fixed grid, whatever the random word */
	assert_int_equal(jitter_interval_ns(10 * S, 0, 12345), 10 * S);
	assert_int_equal(jitter_interval_ns(10 * S, 0, UINT64_MAX), 10 * S);
}

static void test_start_exact(void **state)
{
	(void)state;
	assert_int_equal(jitter_start_ns(10 * S, 20, 0), 0);
	assert_int_equal(jitter_start_ns(10 * S, 20, 2 * S), 2 * S);
	assert_int_equal(jitter_start_ns(10 * S, 20, 2 * S + 1), 0);
	assert_int_equal(jitter_start_ns(10 * S, 20, 1500), 1500);
	assert_int_equal(jitter_start_ns(10 * S, 0, 999), 0);
}

/* 100000 draws of a 10 s, 20 % schedule: all inside 9..11 s, both ends' tenths used,
 * and the mean within 0.01 s of 10 s (xtcp2's fleet keeps its average rate). */
static void test_generator_spread(void **state)
{
	uint64_t st = 0x9E3779B97F4A7C15ULL;
	int64_t min = INT64_MAX, max = 0;
	double sum = 0;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		int64_t v = jitter_interval_ns(10 * S, 20, jitter_next(&st));

		min = v < min ? v : min;
		max = v > max ? v : max;
		sum += (double)v;
	}
	assert_true(min >= 9 * S && min < 9 * S + S / 10);
	assert_true(max <= 11 * S && max > 11 * S - S / 10);
	assert_true(sum / 100000 > 10 * S - S / 100 && sum / 100000 < 10 * S + S / 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval_exact),
		cmocka_unit_test(test_start_exact),
		cmocka_unit_test(test_generator_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
