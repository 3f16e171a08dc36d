/* test_udp — the udp sink through its ops table against real loopback receivers: every
 * batch arrives as one byte-exact datagram (IPv4 and IPv6), oversize batches are dropped
 * with a count (our max_datagram and the kernel's EMSGSIZE), a closed port and a full
 * socket buffer are counted without blocking, and bad addresses are refused at create. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lib/skip.h"

#include "tests/lib/testhost.h"

static struct th_plugin udp_plugin;
static uint8_t sendbuf[70000], recvbuf[70000];

/* A bound receiver on loopback; returns the fd, the port in *port. */
static int receiver(int family, unsigned *port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);
	int rcvbuf = 8 << 20;
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (void *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sl = sizeof(*sin6);
	}
	if (bind(fd, (void *)&ss, sl) < 0 || getsockname(fd, (void *)&ss, &sl) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

/* Send `count` batches of growing sizes, receive each back and compare. */
static void roundtrip(const char *address, int rfd, unsigned count)
{
	char kv_addr[128];
	const char *kv[] = { kv_addr, NULL };
	struct th_released r;
	struct th_inst in;
	uint64_t bytes = 0;

	snprintf(kv_addr, sizeof(kv_addr), "address=%s", address);
	assert_int_equal(th_inst_create(&in, &udp_plugin, kv), 0);
	assert_int_equal(in.ops->max_message(in.sink), 65507);
	for (unsigned i = 0; i < count; i++) {
		size_t n = i == count - 1 ? 65507 : 1 + (size_t)i * 997 % 60000;
		ssize_t got;

		fill(sendbuf, n, i);
		assert_int_equal(in.ops->send(in.sink, th_buf(sendbuf, n, i)), 0);
		got = recv(rfd, recvbuf, sizeof(recvbuf), MSG_DONTWAIT);
		assert_int_equal(got, (ssize_t)n);
		assert_memory_equal(recvbuf, sendbuf, n);
		bytes += n;
	}
	assert_int_equal(recv(rfd, recvbuf, sizeof(recvbuf), MSG_DONTWAIT), -1);
	assert_int_equal(in.ops->flush(in.sink, 10), 0);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.ok, count);
	assert_int_equal(r.failed + r.twice, 0);
	assert_int_equal(th_outcome(in.ctx, TH_SENT), count);
	assert_int_equal(th_outcome(in.ctx, TH_OK), count);
	assert_int_equal(th_outcome(in.ctx, TH_BYTES_OK), bytes);
	assert_int_equal(th_outcome(in.ctx, TH_ROWS_OK),
			 (uint64_t)count * (count - 1) / 2);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 0);
	th_inst_destroy(&in);
}

static void test_ipv4(void **state)
{
	char addr[64];
	unsigned port;
	int rfd = receiver(AF_INET, &port);

	(void)state;
	assert_true(rfd >= 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	roundtrip(addr, rfd, 200);
	close(rfd);
}

static void test_ipv6(void **state)
{
	char addr[64];
	unsigned port;
	int rfd = receiver(AF_INET6, &port);

	(void)state;
	if (rfd < 0)
		XT_SKIP("no IPv6 loopback: %s", strerror(errno));
	snprintf(addr, sizeof(addr), "[::1]:%u", port);
	roundtrip(addr, rfd, 50);
	close(rfd);
}

static void test_oversize(void **state)
{
	char kv_addr[64];
	const char *kv[] = { kv_addr, "max_datagram=1000", NULL };
	struct th_released r;
	struct th_inst in;
	unsigned port;
	int rfd = receiver(AF_INET, &port);

	(void)state;
	snprintf(kv_addr, sizeof(kv_addr), "address=127.0.0.1:%u", port);
	assert_int_equal(th_inst_create(&in, &udp_plugin, kv), 0);
	assert_int_equal(in.ops->max_message(in.sink), 1000);
	fill(sendbuf, 1001, 1);
	in.ops->send(in.sink, th_buf(sendbuf, 1001, 5));     /* over our limit */
	in.ops->send(in.sink, th_buf(sendbuf, 1000, 4));     /* exactly at it */
	assert_int_equal(recv(rfd, recvbuf, sizeof(recvbuf), MSG_DONTWAIT), 1000);
	assert_int_equal(recv(rfd, recvbuf, sizeof(recvbuf), MSG_DONTWAIT), -1);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.ok, 1);
	assert_int_equal(r.failed, 1);
	assert_int_equal(r.rows_failed, 5);
	assert_int_equal(th_metric(in.ctx, "sink_failed_total", "reason=\"emsgsize\""), 1);
	assert_int_equal(th_outcome(in.ctx, TH_ROWS_FAILED), 5);
	th_inst_destroy(&in);

	/* Above what IPv4 can carry: the kernel's EMSGSIZE, counted the same way. */
	kv[1] = "max_datagram=65535";
	assert_int_equal(th_inst_create(&in, &udp_plugin, kv), 0);
	in.ops->send(in.sink, th_buf(sendbuf, 65508, 9));
	th_released_get(in.ctx, &r);
	assert_int_equal(r.failed, 1);
	assert_int_equal(th_metric(in.ctx, "sink_failed_total", "reason=\"emsgsize\""), 1);
	assert_int_equal(th_outcome(in.ctx, TH_FAILED), 1);
	assert_int_equal(recv(rfd, recvbuf, sizeof(recvbuf), MSG_DONTWAIT), -1);
	th_inst_destroy(&in);
	close(rfd);
}

static void test_closed_port(void **state)
{
	char kv_addr[64];
	const char *kv[] = { kv_addr, NULL };
	struct th_released r;
	struct th_logs logs;
	struct th_inst in;
	uint64_t refused;
	unsigned port;
	char last[300];
	int rfd = receiver(AF_INET, &port);

	(void)state;
	close(rfd);             /* nobody listens there any more */
	snprintf(kv_addr, sizeof(kv_addr), "address=127.0.0.1:%u", port);
	assert_int_equal(th_inst_create(&in, &udp_plugin, kv), 0);
	fill(sendbuf, 100, 3);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(in.ops->send(in.sink, th_buf(sendbuf, 100, 1)), 0);
	th_released_get(in.ctx, &r);
	refused = th_metric(in.ctx, "sink_failed_total", "reason=\"econnrefused\"");
	/* Across loopback each datagram's refusal is known right after its send: every
	 * batch failed, each refusal counted once, nothing retried, one log line, and the
	 * outcomes say what the log says. */
	assert_int_equal(r.ok, 0);
	assert_int_equal(r.failed, 20);
	assert_int_equal(r.twice, 0);
	assert_int_equal(refused, 20);
	assert_int_equal(th_metric(in.ctx, "sink_retried_total", NULL), 0);
	assert_int_equal(th_outcome(in.ctx, TH_SENT), 20);
	assert_int_equal(th_outcome(in.ctx, TH_OK), 0);
	assert_int_equal(th_outcome(in.ctx, TH_FAILED), 20);
	th_logs_get(in.ctx, &logs);
	assert_int_equal(logs.lines, 1);
	th_last_log(in.ctx, last, sizeof(last));
	assert_string_equal(last, "datagram of 100 bytes refused by the destination: Connection refused");
	th_inst_destroy(&in);
}

/* ENOBUFS/EAGAIN: in a private network namespace, a slow token bucket on lo keeps the
 * datagrams queued, so a socket with a small sndbuf fills up. The sink must drop and
 * count, never wait. Runs in a child (the namespace is per process); 77 = cannot set up
 * (the child says why: no privilege for a namespace, or tc's own error). */
static int enobufs_child(void)
{
	char kv_addr[64];
	const char *kv[] = { kv_addr, "sndbuf=4096", NULL };
	struct th_released r;
	struct th_logs logs;
	struct th_inst in;
	unsigned port;
	uint64_t nobufs;
	int rfd;

	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "SKIP: unshare(CLONE_NEWNET): %s (needs root)\n", strerror(errno));
		return 77;
	}
	if (system("ip link set lo up && tc qdisc add dev lo root tbf rate 8kbit burst 1600 "
		   "limit 100000") != 0) {
		fprintf(stderr, "SKIP: cannot shape lo with tc (iproute2), its error is above\n");
		return 77;
	}
	rfd = receiver(AF_INET, &port);
	snprintf(kv_addr, sizeof(kv_addr), "address=127.0.0.1:%u", port);
	if (rfd < 0 || th_inst_create(&in, &udp_plugin, kv))
		return 1;
	fill(sendbuf, 1000, 5);
	for (unsigned i = 0; i < 50; i++)
		in.ops->send(in.sink, th_buf(sendbuf, 1000, 2));
	th_released_get(in.ctx, &r);
	th_logs_get(in.ctx, &logs);
	nobufs = th_metric(in.ctx, "sink_failed_total", "reason=\"enobufs\"");
	fprintf(stderr, "enobufs: %llu sent, %llu dropped (enobufs %llu), %u log line(s)\n",
		(unsigned long long)r.ok, (unsigned long long)r.failed,
		(unsigned long long)nobufs, logs.lines);
	if (r.ok + r.failed != 50 || r.twice || r.failed < 1 || nobufs != r.failed ||
	    th_outcome(in.ctx, TH_ROWS_FAILED) != 2 * r.failed ||
	    th_metric(in.ctx, "sink_retried_total", NULL) != 0 || logs.lines != 1)
		return 1;
	th_inst_destroy(&in);
	return 0;
}

static void test_enobufs(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(enobufs_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		XT_SKIP("the ENOBUFS test could not set up (reason above)");
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_bad_address(void **state)
{
	static const char *const bad[] = {
		"address=127.0.0.1", "address=::1:99", "address=[::1:99", "address=[::1]",
		"address=:99", "address=no.such.host.invalid:99", "address=127.0.0.1:http",
	};
	struct th_logs logs;
	struct th_inst in;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *kv[] = { bad[i], NULL };

		assert_int_equal(th_inst_create(&in, &udp_plugin, kv), -EINVAL);
		th_logs_get(in.ctx, &logs);
		assert_int_equal(logs.lines, 1);
		th_inst_destroy(&in);
	}
}

/* check (ABI 1.3): the same refusals, each with its reason, and no socket made. */
static void test_check(void **state)
{
	static const char *const cases[][2] = {
		{ "address=127.0.0.1", "address: '127.0.0.1': expected host:port or [IPv6]:port" },
		{ "address=::1:99", "address: '::1:99': expected host:port or [IPv6]:port" },
		{ "address=[::1]", "address: '[::1]': expected host:port or [IPv6]:port" },
		{ "address=127.0.0.1:http", "address: '127.0.0.1:http': port 'http' is not a number 1..65535" },
		{ "address=127.0.0.1:0", "address: '127.0.0.1:0': port '0' is not a number 1..65535" },
		{ "address=127.0.0.1:65536", "address: '127.0.0.1:65536': port '65536' is not a number 1..65535" },
		{ "address=[::1]:9", "" },
		{ "address=localhost:9", "" },
	};
	char out[600];
	int fds_before = 0, fds_after = 0;

	(void)state;
	for (int fd = 0; fd < 1024; fd++)
		fds_before += fcntl(fd, F_GETFD) >= 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *kv[] = { cases[i][0], NULL };

		assert_int_equal(th_check(udp_plugin.desc, kv, out, sizeof(out)), *cases[i][1] ? -EINVAL : 0);
		assert_string_equal(out, cases[i][1]);
	}
	for (int fd = 0; fd < 1024; fd++)
		fds_after += fcntl(fd, F_GETFD) >= 0;
	assert_int_equal(fds_after, fds_before);
	{
		/* An unresolvable name: the resolver's reason (no name, or no resolver here). */
		const char *kv[] = { "address=no-such-host.invalid:9", NULL };

		assert_int_equal(th_check(udp_plugin.desc, kv, out, sizeof(out)), -EINVAL);
		assert_true(!strcmp(out, "address: 'no-such-host.invalid:9': Name or service not known") ||
			    !strcmp(out, "address: 'no-such-host.invalid:9': Temporary failure in name resolution"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_closed_port),
		cmocka_unit_test(test_enobufs),
		cmocka_unit_test(test_bad_address),
		cmocka_unit_test(test_check),
	};

	if (th_load(XTCPD_KIND_SINK, "udp", &udp_plugin))
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
