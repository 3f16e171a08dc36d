/* test_control — the runtime control requests (ABI 1.6) without a daemon: polls asked
 * for are coalesced with a pending or running one, bursts are range-checked, one at a
 * time, due at exact times; frequency and configuration requests wait for a "main
 * thread" (here a test thread) and get its answer; unanswered ones time out; closing
 * fails the waiting ones. Counters checked by value. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ops/clock.h"
#include "ops/control.h"
#include "ops/metrics.h"

static int wakes;

static void count_wake(void)
{
	__atomic_add_fetch(&wakes, 1, __ATOMIC_SEQ_CST);
}

static uint64_t req(const char *labels)
{
	return metrics_value("xtcpd_control_requests_total", labels);
}

static int setup(void **state)
{
	(void)state;
	metrics_reset();
	wakes = 0;
	control_init(count_wake);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	control_close();
	metrics_reset();
	return 0;
}

static void test_poll_coalesced(void **state)
{
	int64_t now = clock_mono_ns();

	(void)state;
	assert_int_equal(control_due(now), INT64_MAX);
	assert_int_equal(control_poll(), 0);
	assert_int_equal(wakes, 1);
	assert_int_equal(control_poll(), -EALREADY);  /* pending: the same poll serves it */
	assert_int_equal(wakes, 1);
	assert_int_equal(control_due(now), now);
	assert_int_equal(control_poll_due(now), 1);
	control_cycle(1);                              /* the cycle starts: pending taken */
	assert_int_equal(control_poll(), -EALREADY);  /* running: coalesced with it */
	assert_int_equal(control_poll_due(now), 0);
	control_cycle(0);
	assert_int_equal(control_due(now), INT64_MAX);
	assert_int_equal(control_poll(), 0);           /* after it: a new one */
	assert_int_equal(req("request=\"poll\",result=\"started\""), 2);
	assert_int_equal(req("request=\"poll\",result=\"coalesced\""), 2);
	assert_int_equal(metrics_value("xtcpd_control_polls_total", "reason=\"triggered\""), 1);
}

static void test_burst(void **state)
{
	const int64_t s = 1000000000LL;
	int64_t t0;

	(void)state;
	assert_int_equal(control_burst(0, 1000), -EINVAL);
	assert_int_equal(control_burst(1001, 1000), -EINVAL);
	assert_int_equal(control_burst(5, 999), -EINVAL);
	assert_int_equal(control_burst(5, 3600001), -EINVAL);
	assert_int_equal(req("request=\"burst\",result=\"invalid\""), 4);
	assert_int_equal(wakes, 0);
	t0 = clock_mono_ns();
	assert_int_equal(control_burst(3, 1000), 0);
	assert_int_equal(control_burst(1, 1000), -EBUSY);
	t0 = control_due(t0);                 /* the first poll is due at once */
	assert_true(t0 <= clock_mono_ns());
	assert_int_equal(control_poll_due(t0), 1);
	assert_int_equal(control_due(t0), t0 + s);
	assert_int_equal(control_poll_due(t0 + s - 1), 0);
	assert_int_equal(control_poll_due(t0 + s), 1);
	assert_int_equal(control_poll_due(t0 + 2 * s), 1);
	assert_int_equal(control_due(t0 + 2 * s), INT64_MAX);  /* 3 done */
	assert_int_equal(control_poll_due(t0 + 10 * s), 0);
	assert_int_equal(metrics_value("xtcpd_control_polls_total", "reason=\"burst\""), 3);
	assert_int_equal(control_burst(1, 3600000), 0);  /* the next burst may start */
	assert_int_equal(req("request=\"burst\",result=\"started\""), 2);
	assert_int_equal(req("request=\"burst\",result=\"busy\""), 1);
}

/* A "main thread" serving one request: answers rc with msg. */
struct server {
	int rc;
	const char *msg;
	struct control_request got;
	char text[64];
};

static void *serve_one(void *arg)
{
	struct server *sv = arg;

	for (int i = 0; i < 2000; i++) {
		if (control_take(&sv->got)) {
			if (sv->got.text)
				snprintf(sv->text, sizeof(sv->text), "%s", sv->got.text);
			control_done(sv->rc, sv->msg);
			return NULL;
		}
		usleep(1000);
	}
	return NULL;
}

static void test_frequency(void **state)
{
	struct server sv = { .rc = 0 };
	pthread_t t;

	(void)state;
	assert_int_equal(control_frequency(99, 0, 1000), -EINVAL);          /* below 100ms */
	assert_int_equal(control_frequency(86400001, 0, 1000), -EINVAL);    /* above 1 day */
	assert_int_equal(control_frequency(5000, 5000, 1000), -EINVAL);     /* timeout not below */
	assert_int_equal(wakes, 0);
	assert_int_equal(pthread_create(&t, NULL, serve_one, &sv), 0);
	assert_int_equal(control_frequency(5000, 4000, 5000), 0);
	pthread_join(t, NULL);
	assert_int_equal(sv.got.kind, CONTROL_FREQUENCY);
	assert_int_equal(sv.got.frequency_ms, 5000);
	assert_int_equal(sv.got.timeout_ms, 4000);
	assert_int_equal(req("request=\"frequency\",result=\"applied\""), 1);
	assert_int_equal(req("request=\"frequency\",result=\"refused\""), 3);
}

static void test_apply_refused_and_timeout(void **state)
{
	struct server sv = { .rc = -EINVAL, .msg = "control service:3: [core] frequency: bad" };
	char err[256];
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, serve_one, &sv), 0);
	assert_int_equal(control_apply("[core]\nfrequency = x\n", 21, err, sizeof(err), 5000), -EINVAL);
	pthread_join(t, NULL);
	assert_string_equal(err, "control service:3: [core] frequency: bad");
	assert_string_equal(sv.text, "[core]\nfrequency = x\n");
	assert_int_equal(req("request=\"config\",result=\"refused\""), 1);
	/* nobody serves: the request is withdrawn after its wait, the slot is free again */
	assert_int_equal(control_apply("x", 1, err, sizeof(err), 50), -ETIMEDOUT);
	assert_int_equal(req("request=\"any\",result=\"timeout\""), 1);
	{
		struct control_request r;
		assert_int_equal(control_take(&r), 0);
	}
	sv = (struct server){ .rc = 0 };
	assert_int_equal(pthread_create(&t, NULL, serve_one, &sv), 0);
	assert_int_equal(control_apply("y", 1, err, sizeof(err), 5000), 0);
	pthread_join(t, NULL);
	assert_string_equal(err, "");
	assert_int_equal(req("request=\"config\",result=\"applied\""), 1);
}

static void *close_soon(void *arg)
{
	(void)arg;
	usleep(50000);
	control_close();
	return NULL;
}

static void test_text_and_close(void **state)
{
	char buf[8], err[64];
	pthread_t t;

	(void)state;
	assert_int_equal(control_config_text(buf, sizeof(buf)), -ENODATA);
	control_publish("[core]\nfrequency = 1s\n");
	assert_int_equal(control_config_text(buf, sizeof(buf)), 22);  /* whole length */
	assert_string_equal(buf, "[core]\n");                         /* truncated, terminated */
	assert_int_equal(pthread_create(&t, NULL, close_soon, NULL), 0);
	assert_int_equal(control_apply("z", 1, err, sizeof(err), 5000), -ESHUTDOWN);
	pthread_join(t, NULL);
	assert_string_equal(err, "the daemon is stopping");
	assert_int_equal(control_poll(), -ESHUTDOWN);
	assert_int_equal(control_burst(1, 1000), -ESHUTDOWN);
	assert_int_equal(control_config_text(buf, sizeof(buf)), -ENODATA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_poll_coalesced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frequency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_refused_and_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_and_close, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
