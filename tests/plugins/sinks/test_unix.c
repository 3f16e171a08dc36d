/* test_unix — the unix sink through its ops table against a peer in this test: every
 * batch arrives as one uvarint(len) ‖ payload frame (as xtcp2's reader decodes them),
 * the csv header only in a connection's first frame, a path and an abstract name; and
 * the failures, each counted exactly: no socket file (enoent), a file with no listener
 * (refused), the peer closing between batches (closed), the peer shutting its reading
 * side (EPIPE on the next write, nothing torn) and closing in the middle of a large
 * frame (EPIPE, torn, the frame sent again whole), cancel, and bad keys, refused alike
 * by the check op (no socket made) and create. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/plugins/sinks/peer.h"

static struct th_plugin unix_plugin;
static char tmpdir[] = "/tmp/xt-test-unix-XXXXXX", sock[256];
static uint8_t out[4 << 20], in_buf[8 << 20];

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

static int make(struct th_inst *in, const char *path, const char *e1, const char *e2)
{
	static char kv_path[300];
	const char *kv[] = { kv_path, "reconnect_min=0", e1, e2, NULL };

	snprintf(kv_path, sizeof(kv_path), "path=%s", path);
	return th_inst_create(in, &unix_plugin, kv);
}

static struct xtcpd_buf *batch(size_t n, unsigned seed)
{
	peer_fill(out, n, seed);
	return th_buf(out, n, seed + 1);
}

static struct xtcpd_buf *csv_batch(unsigned i)
{
	char text[64];
	struct xtcpd_buf *b;

	snprintf(text, sizeof(text), "h1\th2\n%u\tx\n", i);
	b = th_buf(text, strlen(text), 1);
	b->flags |= XTCPD_BUF_HEADER;
	return b;
}

/* Read one frame from fd into in_buf (as Go's binary.ReadUvarint + io.ReadFull);
 * returns its payload length, or (size_t)-1. */
static size_t read_frame(int fd)
{
	uint64_t len = 0;
	uint8_t b;

	for (int shift = 0; shift < 64; shift += 7) {
		if (peer_read(fd, &b, 1, 2000) != 1)
			return (size_t)-1;
		len |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	if (len > sizeof(in_buf) || peer_read(fd, in_buf, (size_t)len, 5000) != len)
		return (size_t)-1;
	return (size_t)len;
}

static void expect_frame(int fd, const char *text)
{
	assert_int_equal(read_frame(fd), strlen(text));
	assert_memory_equal(in_buf, text, strlen(text));
}

static void roundtrip(const char *path)
{
	struct th_inst in;
	int lfd = peer_listen_unix(path, SOCK_STREAM, 0), c;

	assert_true(lfd >= 0);
	assert_int_equal(make(&in, path, NULL, NULL), 0);
	assert_int_equal(in.ops->max_message(in.sink), 0);
	c = -1;
	for (unsigned i = 0; i < 30; i++) {
		/* 1 to ~30000 bytes: one-, two- and three-byte length prefixes */
		size_t n = i == 0 ? 127 : i == 1 ? 128 : i == 2 ? 16384 : 1 + (size_t)i * 997 % 30000;

		assert_int_equal(in.ops->send(in.sink, batch(n, i)), 0);
		if (c < 0)
			c = peer_accept(lfd, 2000);
		assert_int_equal(read_frame(c), n);
		peer_fill(out, n, i);
		assert_memory_equal(in_buf, out, n);
	}
	/* csv batches: the header in the first frame of the connection only */
	assert_int_equal(in.ops->send(in.sink, csv_batch(0)), 0);
	assert_int_equal(in.ops->send(in.sink, csv_batch(1)), 0);
	expect_frame(c, "h1\th2\n0\tx\n");
	expect_frame(c, "1\tx\n");
	expect_counts(&in, 32, 0);
	assert_int_equal(th_metric(in.ctx, "sink_connects_total", NULL), 1);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 0);
	th_inst_destroy(&in);
	close(c);
	close(lfd);
}

static void test_path(void **state)
{
	(void)state;
	roundtrip(sock);
}

static void test_abstract(void **state)
{
	char name[64];

	(void)state;
	snprintf(name, sizeof(name), "@xtcpd-test-unix-%d", (int)getpid());
	roundtrip(name);
}

/* The header starts each connection: a first csv batch on a fresh connection. */
static void test_header_first_frame(void **state)
{
	struct th_inst in;
	int lfd = peer_listen_unix(sock, SOCK_STREAM, 0), c;

	(void)state;
	assert_int_equal(make(&in, sock, NULL, NULL), 0);
	assert_int_equal(in.ops->send(in.sink, csv_batch(5)), 0);
	assert_int_equal(in.ops->send(in.sink, csv_batch(6)), 0);
	c = peer_accept(lfd, 2000);
	expect_frame(c, "h1\th2\n5\tx\n");
	expect_frame(c, "6\tx\n");
	th_inst_destroy(&in);
	close(c);
	close(lfd);
}

/* Between batches the peer closes (closed, reconnected at once), then shuts only its
 * reading side (the next write fails with EPIPE before any byte: not torn); each new
 * connection starts with the header again. */
static void test_closed_and_epipe(void **state)
{
	struct th_inst in;
	int lfd = peer_listen_unix(sock, SOCK_STREAM, 0), c1, c2, c3, sfd;

	(void)state;
	assert_int_equal(make(&in, sock, NULL, NULL), 0);
	assert_int_equal(in.ops->send(in.sink, csv_batch(0)), 0);
	c1 = peer_accept(lfd, 2000);
	expect_frame(c1, "h1\th2\n0\tx\n");
	sfd = peer_sink_fd(c1);
	assert_true(sfd >= 0);
	close(c1);
	assert_true(peer_wait_closed(sfd, 2000));
	assert_int_equal(in.ops->send(in.sink, csv_batch(1)), 0);
	c2 = peer_accept(lfd, 2000);
	expect_frame(c2, "h1\th2\n1\tx\n");
	assert_int_equal(FAILED(&in, "closed"), 1);
	assert_int_equal(shutdown(c2, SHUT_RD), 0);
	assert_int_equal(in.ops->send(in.sink, csv_batch(2)), 0);
	c3 = peer_accept(lfd, 2000);
	expect_frame(c3, "h1\th2\n2\tx\n");
	expect_counts(&in, 3, 0);
	assert_int_equal(FAILED(&in, "epipe"), 1);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 2);
	assert_int_equal(th_metric(in.ctx, "sink_torn_batches_total", NULL), 0);
	assert_int_equal(th_metric(in.ctx, "sink_retried_total", NULL), 2);
	assert_int_equal(th_metric(in.ctx, "sink_connects_total", NULL), 3);
	th_inst_destroy(&in);
	close(c2);
	close(c3);
	close(lfd);
}

/* The peer closes in the middle of a 4 MiB frame: EPIPE, torn, and the frame goes
 * again whole on the next connection (a reader discards the partial one at EOF). */
static void test_epipe_mid_frame(void **state)
{
	const size_t n = 4 << 20;
	struct peer_sender ps;
	struct th_inst in;
	int lfd = peer_listen_unix(sock, SOCK_STREAM, 0), c1, c2;

	(void)state;
	assert_int_equal(make(&in, sock, "sndbuf=4096", NULL), 0);
	peer_send_start(&ps, &in, batch(n, 3));
	c1 = peer_accept(lfd, 2000);
	assert_int_equal(peer_read(c1, in_buf, 1000, 2000), 1000);
	close(c1);
	c2 = peer_accept(lfd, 5000);
	assert_true(c2 >= 0);
	assert_int_equal(read_frame(c2), n);
	assert_int_equal(peer_send_join(&ps), 0);
	peer_fill(out, n, 3);
	assert_memory_equal(in_buf, out, n);
	expect_counts(&in, 1, 0);
	assert_int_equal(FAILED(&in, "epipe"), 1);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 1);
	assert_int_equal(th_metric(in.ctx, "sink_torn_batches_total", NULL), 1);
	assert_int_equal(th_metric(in.ctx, "sink_connects_total", NULL), 2);
	th_inst_destroy(&in);
	close(c2);
	close(lfd);
}

/* No socket file (enoent), then a file nobody listens on (refused): with
 * retry_timeout = 0 each batch is dropped after its one attempt; then a listener. */
static void test_no_peer(void **state)
{
	struct th_inst in;
	int lfd, c;

	(void)state;
	unlink(sock);
	assert_int_equal(make(&in, sock, "retry_timeout=0", "reconnect_max=0"), 0);
	assert_int_equal(in.ops->send(in.sink, batch(10, 0)), 0);
	assert_int_equal(in.ops->send(in.sink, batch(10, 1)), 0);
	assert_int_equal(FAILED(&in, "enoent"), 2);
	lfd = peer_listen_unix(sock, SOCK_STREAM, 0);
	close(lfd);                     /* the file stays, nobody listens */
	assert_int_equal(in.ops->send(in.sink, batch(10, 2)), 0);
	assert_int_equal(FAILED(&in, "econnrefused"), 1);
	expect_counts(&in, 0, 3);
	lfd = peer_listen_unix(sock, SOCK_STREAM, 0);
	assert_int_equal(in.ops->send(in.sink, batch(10, 3)), 0);
	c = peer_accept(lfd, 2000);
	assert_int_equal(read_frame(c), 10);
	expect_counts(&in, 1, 3);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 3);
	th_inst_destroy(&in);
	close(c);
	close(lfd);
}

static void test_cancel(void **state)
{
	struct peer_sender ps;
	struct th_inst in;
	int lfd = peer_listen_unix(sock, SOCK_STREAM, 0), c;

	(void)state;
	assert_int_equal(make(&in, sock, "sndbuf=4096", "write_timeout=10m"), 0);
	peer_send_start(&ps, &in, batch(2 << 20, 4));
	c = peer_accept(lfd, 2000);
	assert_int_equal(peer_read(c, in_buf, 1, 2000), 1);
	in.ops->cancel(in.sink);
	assert_int_equal(peer_send_join(&ps), 0);
	expect_counts(&in, 0, 1);
	assert_int_equal(FAILED(&in, "cancelled"), 1);
	assert_int_equal(th_metric(in.ctx, "sink_torn_batches_total", NULL), 1);
	th_inst_destroy(&in);
	close(c);
	close(lfd);
}

/* The check op (ABI 1.3) refuses each bad configuration with its reason, naming the
 * key, and makes no socket; create refuses it with the same words. */
static void refused(const char *const *kv, const char *want)
{
	char got[700], last[700];
	struct th_inst in;
	int fds = peer_open_fds();

	assert_int_equal(th_check(unix_plugin.desc, kv, got, sizeof(got)), -EINVAL);
	assert_string_equal(got, want);
	assert_int_equal(peer_open_fds(), fds);
	assert_int_equal(th_inst_create(&in, &unix_plugin, kv), -EINVAL);
	th_last_log(in.ctx, last, sizeof(last));
	assert_string_equal(last, want);
	th_inst_destroy(&in);
}

#define KV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_bad_paths(void **state)
{
	char kv_path[300], got[700];
	int fds = peer_open_fds();

	(void)state;
	refused(KV("path=@"), "path: '@': a socket path of 1 to 107 bytes (or @name for the "
		"abstract namespace)");
	snprintf(kv_path, sizeof(kv_path), "path=%s/checked.sock", tmpdir);
	refused(KV(kv_path, "reconnect_min=1s", "reconnect_max=10ms"),
		"reconnect_min: 1s is above reconnect_max = 10ms");
	/* The socket need not be there yet (the sink connects when it sends); an abstract
	 * name neither. Nothing is made. */
	assert_int_equal(th_check(unix_plugin.desc, KV(kv_path), got, sizeof(got)), 0);
	assert_string_equal(got, "");
	assert_int_equal(th_check(unix_plugin.desc, KV("path=@xtcpd-test"), got, sizeof(got)), 0);
	assert_int_equal(peer_open_fds(), fds);
	assert_int_equal(access(kv_path + 5, F_OK), -1);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/collector.sock", tmpdir);
	return th_load(XTCPD_KIND_SINK, "unix", &unix_plugin);
}

static int teardown(void **state)
{
	(void)state;
	unlink(sock);
	rmdir(tmpdir);
	th_unload(&unix_plugin);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_abstract),
		cmocka_unit_test(test_header_first_frame),
		cmocka_unit_test(test_closed_and_epipe),
		cmocka_unit_test(test_epipe_mid_frame),
		cmocka_unit_test(test_no_peer),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_bad_paths),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
