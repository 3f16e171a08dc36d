/* test_rows — the grpc sink's byte work without gRPC: a protobufList batch split into its
 * rows (and refused when it is not one), a record's timestamp found among its fields, and
 * the subscriber ring: each entry a whole FlatRecordsResponse, full means -ENOSPC with
 * nothing written, entries come back in order across the wrap, a record larger than the
 * ring is -E2BIG. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "plugins/sinks/grpc/rows.h"

struct seen {
	int n;
	size_t len[8];
	uint8_t first[8];
};

static void collect(void *arg, const uint8_t *rec, size_t len)
{
	struct seen *s = arg;

	s->len[s->n] = len;
	s->first[s->n++] = len ? rec[0] : 0;
}

static void test_split(void **state)
{
	/* varint(9) Envelope { row(10) = {0x08 0x01}, row(10) = {0x50 0x7f 0x10} } */
	const uint8_t ok[] = { 9, 0x52, 2, 0x08, 0x01, 0x52, 3, 0x50, 0x7f, 0x10 };
	const uint8_t badlen[] = { 10, 0x52, 2, 0x08, 0x01, 0x52, 3, 0x50, 0x7f, 0x10 };
	const uint8_t badtag[] = { 4, 0x0a, 2, 0x08, 0x01 };
	const uint8_t overrun[] = { 3, 0x52, 5, 0x08 };
	struct seen s = { 0 };

	(void)state;
	assert_int_equal(rows_split(ok, sizeof(ok), collect, &s), 2);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.len[0], 2);
	assert_int_equal(s.first[0], 0x08);
	assert_int_equal(s.len[1], 3);
	assert_int_equal(s.first[1], 0x50);
	assert_int_equal(rows_split(badlen, sizeof(badlen), NULL, NULL), -EBADMSG);
	assert_int_equal(rows_split(badtag, sizeof(badtag), NULL, NULL), -EBADMSG);
	assert_int_equal(rows_split(overrun, sizeof(overrun), NULL, NULL), -EBADMSG);
	assert_int_equal(rows_split(ok, 0, NULL, NULL), -EBADMSG);
}

static void test_timestamp(void **state)
{
	/* schema_version = 1 (varint), daemon_version = "ab" (len), timestamp_ns = 300 */
	const uint8_t rec[] = { 0x08, 0x01, 0x12, 2, 'a', 'b', 0x50, 0xac, 0x02 };
	const uint8_t none[] = { 0x08, 0x01 };
	const uint8_t torn[] = { 0x12, 9, 'a' };

	(void)state;
	assert_int_equal(rows_timestamp(rec, sizeof(rec)), 300);
	assert_int_equal(rows_timestamp(none, sizeof(none)), 0);
	assert_int_equal(rows_timestamp(torn, sizeof(torn)), 0);
}

static void test_ring(void **state)
{
	struct ring r;
	uint8_t rec[100];
	const uint8_t *p;
	int pushed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rec); i++)
		rec[i] = (uint8_t)i;
	assert_int_equal(ring_init(&r, 1024), 0);
	assert_int_equal(ring_peek(&r, &p), 0);
	/* each entry: 4 + 2 + 100 = 106 -> 108 bytes: 9 fit in 1024 */
	while (ring_push_record(&r, rec, sizeof(rec)) == 0)
		pushed++;
	assert_int_equal(pushed, 9);
	assert_int_equal(ring_push_record(&r, rec, sizeof(rec)), -ENOSPC);
	assert_int_equal(r.entries, 9);
	assert_int_equal(ring_peek(&r, &p), 102);
	assert_int_equal(p[0], 0x0a);     /* FlatRecordsResponse field 1, length-delimited */
	assert_int_equal(p[1], 100);
	assert_memory_equal(p + 2, rec, sizeof(rec));
	/* free 3 at the front: the next entries wrap to the start, order is kept */
	for (int i = 0; i < 3; i++)
		ring_pop(&r);
	rec[0] = 0xee;
	assert_int_equal(ring_push_record(&r, rec, sizeof(rec)), 0);
	assert_int_equal(ring_push_record(&r, rec, sizeof(rec)), 0);
	assert_int_equal(r.entries, 8);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(ring_peek(&r, &p), 102);
		assert_int_equal(p[2], 0);   /* the old ones first */
		ring_pop(&r);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ring_peek(&r, &p), 102);
		assert_int_equal(p[2], 0xee);
		ring_pop(&r);
	}
	assert_int_equal(ring_peek(&r, &p), 0);
	assert_int_equal(r.used, 0);
	/* a record the ring could never hold */
	{
		uint8_t big[2000] = { 0 };
		assert_int_equal(ring_push_record(&r, big, sizeof(big)), -E2BIG);
	}
	ring_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_timestamp),
		cmocka_unit_test(test_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
