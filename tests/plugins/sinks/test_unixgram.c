/* test_unixgram — the unixgram sink through its ops table against a receiver in this
 * test: one datagram per batch, byte-exact, the csv header kept in every datagram;
 * max_message is the kernel's own limit (a datagram of that size passes, one byte more
 * is refused by the kernel: checked here on a socket of our own), or max_datagram; and
 * the failures, each counted exactly: too large (emsgsize), no socket file (enoent), a
 * receiver replaced (econnrefused, reconnected), a full receive queue (etimedout after
 * write_timeout), cancel while waiting for room; bad keys, refused alike by the check op
 * (no socket left open) and create. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/plugins/sinks/peer.h"

static struct th_plugin ug_plugin;
static char tmpdir[] = "/tmp/xt-test-unixgram-XXXXXX", sock[256];
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

static int make(struct th_inst *in, const char *e1, const char *e2, const char *e3)
{
	static char kv_path[300];
	const char *kv[] = { kv_path, "reconnect_min=0", e1, e2, e3, NULL };

	snprintf(kv_path, sizeof(kv_path), "path=%s", sock);
	return th_inst_create(in, &ug_plugin, kv);
}

static struct xtcpd_buf *batch(size_t n, unsigned seed)
{
	peer_fill(out, n, seed);
	return th_buf(out, n, seed + 1);
}

/* The next datagram, its length (-1: none within 1 s). */
static ssize_t recv_one(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	if (poll(&p, 1, 1000) != 1)
		return -1;
	return recv(fd, in_buf, sizeof(in_buf), 0);
}

/* What the kernel accepts on a fresh AF_UNIX datagram socket with SO_SNDBUF `sndbuf`
 * (0 = default): the limit found by sending, not by formula. */
static size_t kernel_limit(int sndbuf)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0), rfd;
	size_t lo = 1, hi = sizeof(out);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%.90s.probe", sock);
	rfd = peer_listen_unix(sun.sun_path, SOCK_DGRAM, 0);
	if (sndbuf)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	assert_int_equal(connect(fd, (void *)&sun, sizeof(sun)), 0);
	while (lo < hi) {               /* largest size that sends */
		size_t mid = (lo + hi + 1) / 2;
		ssize_t w = send(fd, out, mid, MSG_DONTWAIT);

		if (w == (ssize_t)mid) {
			lo = mid;
			assert_int_equal(recv(rfd, in_buf, sizeof(in_buf), 0), (ssize_t)mid);
		} else {
			assert_int_equal(errno, EMSGSIZE);
			hi = mid - 1;
		}
	}
	close(fd);
	close(rfd);
	unlink(sun.sun_path);
	return lo;
}

static void test_roundtrip_and_limit(void **state)
{
	size_t lim = kernel_limit(0);
	struct xtcpd_buf *b;
	struct th_inst in;
	int rfd = peer_listen_unix(sock, SOCK_DGRAM, 0);

	(void)state;
	assert_true(rfd >= 0);
	assert_int_equal(make(&in, NULL, NULL, NULL), 0);
	assert_int_equal(in.ops->max_message(in.sink), lim);
	for (unsigned i = 0; i < 20; i++) {
		size_t n = i == 19 ? lim : 1 + (size_t)i * 7919 % 100000;

		assert_int_equal(in.ops->send(in.sink, batch(n, i)), 0);
		assert_int_equal(recv_one(rfd), (ssize_t)n);
		peer_fill(out, n, i);
		assert_memory_equal(in_buf, out, n);
	}
	/* a csv batch keeps its header: a datagram stands alone */
	b = th_buf("a,b\n1,2\n", 8, 1);
	b->flags |= XTCPD_BUF_HEADER;
	assert_int_equal(in.ops->send(in.sink, b), 0);
	b = th_buf("a,b\n3,4\n", 8, 1);
	b->flags |= XTCPD_BUF_HEADER;
	assert_int_equal(in.ops->send(in.sink, b), 0);
	assert_int_equal(recv_one(rfd), 8);
	assert_memory_equal(in_buf, "a,b\n1,2\n", 8);
	assert_int_equal(recv_one(rfd), 8);
	assert_memory_equal(in_buf, "a,b\n3,4\n", 8);
	/* one byte over: dropped by the sink, never tried */
	assert_int_equal(in.ops->send(in.sink, batch(lim + 1, 1)), 0);
	assert_int_equal(recv_one(rfd), -1);
	expect_counts(&in, 22, 1);
	assert_int_equal(FAILED(&in, "emsgsize"), 1);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 1);
	assert_int_equal(th_metric(in.ctx, "sink_connects_total", NULL), 1);
	th_inst_destroy(&in);
	close(rfd);
}

/* The check op (ABI 1.3) refuses a bad configuration with its reason, naming the key,
 * and leaves no socket open; create refuses it with the same words. */
static void refused(const char *const *kv, const char *want)
{
	char got[700], last[700];
	struct th_inst in;
	int fds = peer_open_fds();

	assert_int_equal(th_check(ug_plugin.desc, kv, got, sizeof(got)), -EINVAL);
	assert_string_equal(got, want);
	assert_int_equal(peer_open_fds(), fds);
	assert_int_equal(th_inst_create(&in, &ug_plugin, kv), -EINVAL);
	th_last_log(in.ctx, last, sizeof(last));
	assert_string_equal(last, want);
	th_inst_destroy(&in);
}

#define KV(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* sndbuf raises the limit as the kernel does; max_datagram lowers it; above the
 * socket's limit it is refused by the check and at create. */
static void test_limits(void **state)
{
	char kv_max[64], kv_path[300], got[700], want[300];
	struct th_inst in;
	size_t lim = kernel_limit(65536);
	int fds = peer_open_fds();

	(void)state;
	snprintf(kv_path, sizeof(kv_path), "path=%s/checked.sock", tmpdir);
	assert_int_equal(make(&in, "sndbuf=65536", NULL, NULL), 0);
	assert_int_equal(in.ops->max_message(in.sink), lim);
	th_inst_destroy(&in);
	assert_int_equal(make(&in, "max_datagram=1400", NULL, NULL), 0);
	assert_int_equal(in.ops->max_message(in.sink), 1400);
	th_inst_destroy(&in);
	snprintf(kv_max, sizeof(kv_max), "max_datagram=%zu", lim + 1);
	snprintf(want, sizeof(want), "max_datagram: %zu is above this socket's limit of %zu bytes "
		 "(SO_SNDBUF - 32): raise sndbuf or lower it", lim + 1, lim);
	refused(KV(kv_path, "sndbuf=65536", kv_max), want);
	refused(KV(kv_path, "reconnect_min=2s", "reconnect_max=1s"),
		"reconnect_min: 2s is above reconnect_max = 1s");
	refused(KV("path=@"), "path: '@': a socket path of 1 to 107 bytes (or @name for the "
		"abstract namespace)");
	/* at the limit: accepted, and nothing is left open or made */
	snprintf(kv_max, sizeof(kv_max), "max_datagram=%zu", lim);
	assert_int_equal(th_check(ug_plugin.desc, KV(kv_path, "sndbuf=65536", kv_max), got,
				  sizeof(got)), 0);
	assert_string_equal(got, "");
	assert_int_equal(peer_open_fds(), fds);
	assert_int_equal(access(kv_path + 5, F_OK), -1);
}

/* No socket file: dropped (retry_timeout 0: one attempt). A receiver appears:
 * delivered. */
static void test_no_receiver(void **state)
{
	struct th_inst in;
	int rfd;

	(void)state;
	unlink(sock);
	assert_int_equal(make(&in, "retry_timeout=0", NULL, NULL), 0);
	assert_int_equal(in.ops->send(in.sink, batch(100, 0)), 0);
	assert_int_equal(FAILED(&in, "enoent"), 1);
	rfd = peer_listen_unix(sock, SOCK_DGRAM, 0);
	assert_int_equal(in.ops->send(in.sink, batch(100, 1)), 0);
	assert_int_equal(recv_one(rfd), 100);
	peer_fill(out, 100, 1);
	assert_memory_equal(in_buf, out, 100);
	expect_counts(&in, 1, 1);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 1);
	assert_int_equal(th_metric(in.ctx, "sink_retried_total", NULL), 0);
	th_inst_destroy(&in);
	close(rfd);
}

/* The receiver is replaced by a new one at the same path: the send meets ECONNREFUSED
 * (its peer is gone), the sink reconnects at once and the new receiver gets it. */
static void test_receiver_replaced(void **state)
{
	struct th_inst in;
	int rfd = peer_listen_unix(sock, SOCK_DGRAM, 0);

	(void)state;
	assert_int_equal(make(&in, NULL, NULL, NULL), 0);
	assert_int_equal(in.ops->send(in.sink, batch(100, 1)), 0);
	assert_int_equal(recv_one(rfd), 100);
	close(rfd);
	rfd = peer_listen_unix(sock, SOCK_DGRAM, 0);
	assert_int_equal(in.ops->send(in.sink, batch(100, 2)), 0);
	assert_int_equal(recv_one(rfd), 100);
	peer_fill(out, 100, 2);
	assert_memory_equal(in_buf, out, 100);
	expect_counts(&in, 2, 0);
	assert_int_equal(FAILED(&in, "econnrefused"), 1);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 1);
	assert_int_equal(th_metric(in.ctx, "sink_retried_total", NULL), 1);
	assert_int_equal(th_metric(in.ctx, "sink_connects_total", NULL), 2);
	th_inst_destroy(&in);
	close(rfd);
}

/* The receiver stops reading: once its queue is full each batch waits write_timeout and
 * is dropped (etimedout); what was queued is read back intact; then sending resumes. */
static void test_full_queue(void **state)
{
	const unsigned n = 40;
	struct th_released r;
	struct th_inst in;
	int rfd = peer_listen_unix(sock, SOCK_DGRAM, 0);
	uint64_t got = 0;

	(void)state;
	assert_int_equal(make(&in, "write_timeout=100ms", "retry_timeout=0", NULL), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(in.ops->send(in.sink, batch(1000, i)), 0);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.ok + r.failed, n);
	assert_true(r.ok >= 1 && r.failed >= 1);
	assert_int_equal(FAILED(&in, "etimedout"), r.failed);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), r.failed);
	for (unsigned i = 0; i < r.ok; i++) {   /* the first r.ok batches, in order */
		assert_int_equal(recv_one(rfd), 1000);
		peer_fill(out, 1000, i);
		assert_memory_equal(in_buf, out, 1000);
		got++;
	}
	assert_int_equal(recv_one(rfd), -1);
	assert_int_equal(in.ops->send(in.sink, batch(1000, 99)), 0);
	assert_int_equal(recv_one(rfd), 1000);
	expect_counts(&in, got + 1, r.failed);
	th_inst_destroy(&in);
	close(rfd);
}

static void test_cancel(void **state)
{
	struct peer_sender ps;
	struct th_inst in;
	int rfd = peer_listen_unix(sock, SOCK_DGRAM, 0);
	uint64_t ok;

	(void)state;
	assert_int_equal(make(&in, "write_timeout=10m", NULL, NULL), 0);
	/* fill the queue (max_dgram_qlen), then one more send waits */
	for (ok = 0; ok < 10000; ok++) {
		struct th_released r;

		peer_send_start(&ps, &in, batch(10, (unsigned)ok));
		if (th_wait_released(in.ctx, ok + 1, 300) < ok + 1)
			break;
		peer_send_join(&ps);
		th_released_get(in.ctx, &r);
		assert_int_equal(r.ok, ok + 1);
	}
	in.ops->cancel(in.sink);
	assert_int_equal(peer_send_join(&ps), 0);
	expect_counts(&in, ok, 1);
	assert_int_equal(FAILED(&in, "cancelled"), 1);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 1);
	th_inst_destroy(&in);
	close(rfd);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/collector.sock", tmpdir);
	return th_load(XTCPD_KIND_SINK, "unixgram", &ug_plugin);
}

static int teardown(void **state)
{
	(void)state;
	unlink(sock);
	rmdir(tmpdir);
	th_unload(&ug_plugin);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_and_limit),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_no_receiver),
		cmocka_unit_test(test_receiver_replaced),
		cmocka_unit_test(test_full_queue),
		cmocka_unit_test(test_cancel),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
