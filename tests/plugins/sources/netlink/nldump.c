/* nldump — a minimal raw inet_diag dump, the floor the bench compares xtcpd against:
 * send the request, recv every datagram into one buffer, count messages, parse nothing.
 * Usage: nldump legacy|per_family|naive EXT_HEX PASSES [NETNS_PATH...]
 *   legacy      one TCPDIAG_GETSOCK request (both families, one walk), states w/o bound-inactive
 *   per_family  two SOCK_DIAG_BY_FAMILY requests, same states
 *   naive       two SOCK_DIAG_BY_FAMILY requests, every state (0xffffffff)
 * With namespace paths, one socket per namespace (else ours), all dumped each pass.
 * Prints "sockets=N passes=P cpu_us_per_pass=C" (user+system CPU of the passes). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "plugins/sources/netlink/request.h"

static uint8_t rbuf[1 << 16];

static long dump(int fd, int family, uint32_t seq, uint8_t ext, uint32_t states)
{
	uint8_t req[NLR_REQ_MAX];
	struct nlmsghdr *nlh = nlr_build(req, family, seq, ext, states, NULL, 0);
	long n = 0;

	if (send(fd, nlh, nlh->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t r = recv(fd, rbuf, sizeof(rbuf), 0);

		if (r < 0)
			return -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, (size_t)r);
		     h = NLMSG_NEXT(h, r)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return n;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -EPROTO;
			n++;
		}
	}
}

static int64_t cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

int main(int argc, char **argv)
{
	uint32_t states = ((1u << 13) - 1) & ~1u;
	int fds[1024], nfd = 0, self;
	long passes, total = 0;
	int64_t t0;
	uint8_t ext;

	if (argc < 4) {
		fprintf(stderr, "usage: nldump legacy|per_family|naive EXT_HEX PASSES [NETNS...]\n");
		return 2;
	}
	ext = (uint8_t)strtoul(argv[2], NULL, 16);
	passes = strtol(argv[3], NULL, 10);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	for (int i = 4; i < argc && nfd < 1024; i++) {
		int ns = open(argv[i], O_RDONLY | O_CLOEXEC);

		if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
			perror(argv[i]);
			return 1;
		}
		fds[nfd++] = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
		close(ns);
	}
	if (setns(self, CLONE_NEWNET) < 0)
		return 1;
	if (nfd == 0)
		fds[nfd++] = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (strcmp(argv[1], "naive") == 0)
		states = 0xffffffffu;
	t0 = cpu_us();
	for (long p = 0; p < passes; p++) {
		total = 0;
		for (int i = 0; i < nfd; i++) {
			long n;

			if (strcmp(argv[1], "legacy") == 0) {
				n = dump(fds[i], 0, (uint32_t)p, ext, states);
			} else {
				long m = dump(fds[i], AF_INET, (uint32_t)p, ext, states);

				n = dump(fds[i], AF_INET6, (uint32_t)p, ext, states);
				n = m < 0 ? m : n < 0 ? n : n + m;
			}
			if (n < 0) {
				fprintf(stderr, "dump: %s\n", strerror((int)-n));
				return 1;
			}
			total += n;
		}
	}
	printf("sockets=%ld passes=%ld cpu_us_per_pass=%lld\n", total, passes,
	       (long long)((cpu_us() - t0) / (passes ? passes : 1)));
	return 0;
}
