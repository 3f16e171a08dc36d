/* test_stderr — the stderr sink through its ops table, with fd 2 replaced by a pipe, a
 * socket or a regular file for each case (the test's own messages go to the saved
 * stderr): exact bytes, the csv header once per run, and the failures counted exactly:
 * a reader that stops (etimedout after write_timeout, the sink never blocks), a reader
 * that went away (epipe), cancel while waiting. The check op: standard error closed is
 * refused (by create alike), and the check opens nothing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/plugins/sinks/peer.h"

static struct th_plugin er_plugin;
static int saved_stderr = -1;
static uint8_t out[1 << 20], in_buf[1 << 20];

#define FAILED(in, r) th_metric((in)->ctx, "sink_failed_total", "reason=\"" r "\"")

static void expect_counts(struct th_inst *in, uint64_t delivered, uint64_t dropped)
{
	struct th_released r;

	th_released_get(in->ctx, &r);
	assert_int_equal(r.ok, delivered);
	assert_int_equal(r.failed, dropped);
	assert_int_equal(r.twice, 0);
	assert_int_equal(th_outcome(in->ctx, TH_SENT), delivered + dropped);
}

/* fd 2 becomes `fd` (closed here); restored by restore(). */
static void redirect(int fd)
{
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

static void restore(void)
{
	dup2(saved_stderr, STDERR_FILENO);
}

static struct xtcpd_buf *csv_batch(unsigned i)
{
	char text[64];
	struct xtcpd_buf *b;

	snprintf(text, sizeof(text), "a,b\nrec%u,x\n", i);
	b = th_buf(text, strlen(text), 1);
	b->flags |= XTCPD_BUF_HEADER;
	return b;
}

static void roundtrip(int rd, int wr)
{
	const char *want = "a,b\nrec0,x\nrec1,x\nrec2,x\n";
	struct th_inst in;

	redirect(wr);
	assert_int_equal(th_inst_create(&in, &er_plugin, NULL), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(in.ops->send(in.sink, csv_batch(i)), 0);
	assert_int_equal(in.ops->max_message(in.sink), 0);
	assert_int_equal(in.ops->flush(in.sink, 10), 0);
	expect_counts(&in, 3, 0);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 0);
	th_inst_destroy(&in);
	restore();
	assert_int_equal(peer_read(rd, in_buf, strlen(want) + 1, 300), strlen(want));
	assert_memory_equal(in_buf, want, strlen(want));
	close(rd);
}

static void test_pipe(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	roundtrip(p[0], p[1]);
}

static void test_socket(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	roundtrip(sv[0], sv[1]);
}

static void test_file(void **state)
{
	char path[] = "/tmp/xt-test-stderr-XXXXXX";
	int fd = mkstemp(path), rd;

	(void)state;
	assert_true(fd >= 0);
	rd = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path);
	roundtrip(rd, fd);
}

/* The reader stops: a batch larger than the pipe waits write_timeout and is dropped
 * (its beginning is in the pipe: standard error cannot take it back); once the reader
 * drains, the next batch goes through. Then the reader goes away: EPIPE. */
static void test_stalled_then_gone(void **state)
{
	const size_t n = 256 << 10;
	struct th_inst in;
	const char *kv[] = { "write_timeout=100ms", NULL };
	size_t got;
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	redirect(p[1]);
	assert_int_equal(th_inst_create(&in, &er_plugin, kv), 0);
	peer_fill(out, n, 1);
	assert_int_equal(in.ops->send(in.sink, th_buf(out, n, 5)), 0);
	expect_counts(&in, 0, 1);
	assert_int_equal(FAILED(&in, "etimedout"), 1);
	got = peer_read(p[0], in_buf, n, 200);
	assert_true(got > 0 && got < n);
	assert_memory_equal(in_buf, out, got);
	assert_int_equal(in.ops->send(in.sink, th_buf("rec,ok\n", 7, 1)), 0);
	assert_int_equal(peer_read(p[0], in_buf, 8, 200), 7);
	assert_memory_equal(in_buf, "rec,ok\n", 7);
	close(p[0]);
	assert_int_equal(in.ops->send(in.sink, th_buf("rec,lost\n", 9, 1)), 0);
	expect_counts(&in, 1, 2);
	assert_int_equal(FAILED(&in, "epipe"), 1);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 2);
	th_inst_destroy(&in);
	restore();
}

static void test_cancel(void **state)
{
	const char *kv[] = { "write_timeout=10m", NULL };
	struct peer_sender ps;
	struct th_inst in;
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	redirect(p[1]);
	assert_int_equal(th_inst_create(&in, &er_plugin, kv), 0);
	peer_send_start(&ps, &in, th_buf(out, 256 << 10, 3));
	assert_int_equal(peer_read(p[0], in_buf, 1, 2000), 1);  /* it is writing */
	in.ops->cancel(in.sink);
	assert_int_equal(peer_send_join(&ps), 0);
	expect_counts(&in, 0, 1);
	assert_int_equal(FAILED(&in, "cancelled"), 1);
	th_inst_destroy(&in);
	restore();
	close(p[0]);
}

/* The check op (ABI 1.3): fd 2 closed is the one thing create() could refuse. */
static void test_check(void **state)
{
	char got[700], last[700];
	struct th_inst in;
	int fds = peer_open_fds();

	(void)state;
	assert_int_equal(th_check(er_plugin.desc, NULL, got, sizeof(got)), 0);
	assert_string_equal(got, "");
	assert_int_equal(peer_open_fds(), fds);
	close(STDERR_FILENO);
	assert_int_equal(th_check(er_plugin.desc, NULL, got, sizeof(got)), -EINVAL);
	assert_int_equal(th_inst_create(&in, &er_plugin, NULL), -EINVAL);
	th_last_log(in.ctx, last, sizeof(last));
	th_inst_destroy(&in);
	restore();
	assert_string_equal(got, "standard error: Bad file descriptor");
	assert_string_equal(last, "standard error: Bad file descriptor");
}

static int setup(void **state)
{
	FILE *f;

	(void)state;
	signal(SIGPIPE, SIG_IGN);       /* as the daemon does */
	/* Our messages (and the test host's log lines) keep going to the real stderr. */
	saved_stderr = dup(STDERR_FILENO);
	f = saved_stderr >= 0 ? fdopen(dup(saved_stderr), "w") : NULL;
	if (f == NULL)
		return -1;
	setvbuf(f, NULL, _IONBF, 0);
	stderr = f;
	return th_load(XTCPD_KIND_SINK, "stderr", &er_plugin);
}

static int teardown(void **state)
{
	(void)state;
	th_unload(&er_plugin);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_socket),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_stalled_then_gone),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
