/* test_pool_queue — pool capacity, statistics and misses; queue order, bounds, timeouts
 * and close semantics. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/pipeline/pool.h"
#include "core/pipeline/queue.h"

static void test_pool(void **state)
{
	struct pool *p;
	struct pool_stats st;
	void *a, *b, *c;

	assert_int_equal(pool_create("t", 100, 2, &p), 0);
	assert_int_equal(pool_obj_size(p), 112); /* rounded to 16 */
	a = pool_get(p, 0);
	b = pool_get(p, 0);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	c = pool_get(p, 10); /* empty: waits 10 ms then misses */
	assert_null(c);
	pool_stats(p, &st);
	assert_int_equal(st.capacity, 2);
	assert_int_equal(st.in_use, 2);
	assert_int_equal(st.high_water, 2);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.gets, 3);
	pool_put(p, a);
	c = pool_get(p, 0);
	assert_ptr_equal(c, a); /* LIFO: the warm object comes back */
	pool_put(p, b);
	pool_put(p, c);
	pool_stats(p, &st);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(st.high_water, 2);
	pool_destroy(p);
	assert_int_equal(pool_create("t", 0, 2, &p), -EINVAL);
	assert_null(p);
}

static void *popper(void *arg)
{
	return queue_pop(arg);
}

static void test_queue(void **state)
{
	struct queue *q;
	int items[4] = { 1, 2, 3, 4 };
	pthread_t th;
	void *got;

	assert_int_equal(queue_create(3, &q), 0);
	assert_int_equal(queue_push(q, &items[0], 0), 0);
	assert_int_equal(queue_push(q, &items[1], 0), 0);
	assert_int_equal(queue_push(q, &items[2], 0), 0);
	assert_int_equal(queue_push(q, &items[3], 0), -EAGAIN);
	assert_int_equal(queue_push(q, &items[3], 20), -EAGAIN); /* waited, still full */
	assert_int_equal(queue_depth(q), 3);
	assert_ptr_equal(queue_pop(q), &items[0]);
	assert_int_equal(queue_push(q, &items[3], 0), 0);
	assert_ptr_equal(queue_pop(q), &items[1]);
	assert_ptr_equal(queue_pop(q), &items[2]);
	assert_ptr_equal(queue_pop(q), &items[3]);
	assert_int_equal(queue_depth(q), 0);
	/* a blocked consumer wakes up with NULL when the queue closes */
	assert_int_equal(pthread_create(&th, NULL, popper, q), 0);
	queue_close(q);
	assert_int_equal(pthread_join(th, &got), 0);
	assert_null(got);
	assert_int_equal(queue_push(q, &items[0], 0), -EPIPE);
	queue_destroy(q);
}

static void test_queue_drains_after_close(void **state)
{
	struct queue *q;
	int a = 1, b = 2;

	assert_int_equal(queue_create(2, &q), 0);
	assert_int_equal(queue_push(q, &a, 0), 0);
	assert_int_equal(queue_push(q, &b, 0), 0);
	queue_close(q);
	assert_ptr_equal(queue_pop(q), &a);
	assert_ptr_equal(queue_pop(q), &b);
	assert_null(queue_pop(q));
	queue_destroy(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_queue_drains_after_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
