/* nldump — a minimal raw inet_diag dump, the floor the bench compares xtcpd against:
 * send the request, recv every datagram into one buffer, count messages, parse nothing.
 * Usage: nldump legacy|per_family|naive EXT_HEX PASSES [FILTER_SPORT]
 *   legacy      one TCPDIAG_GETSOCK request (both families, one walk), states w/o bound-inactive
 *   per_family  two SOCK_DIAG_BY_FAMILY requests, same states
 *   naive       two SOCK_DIAG_BY_FAMILY requests, every state (0xffffffff)
 * Prints "sockets=N passes=P" and exits 0; the bench reads CPU time with getrusage. */
#include <errno.h>
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

static uint8_t rbuf[1 << 20];

static long dump(int fd, int family, uint32_t seq, uint8_t ext, uint32_t states,
		 const uint8_t *bc, size_t bc_len)
{
	uint8_t req[NLR_REQ_MAX];
	struct nlmsghdr *nlh = nlr_build(req, family, seq, ext, states, bc, bc_len);
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

int main(int argc, char **argv)
{
	uint32_t states = ((1u << 13) - 1) & ~1u;
	uint8_t bc[NLR_BC_MAX];
	size_t bc_len = 0;
	long passes, total = 0;
	uint8_t ext;
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: nldump legacy|per_family|naive EXT_HEX PASSES [SPORT]\n");
		return 2;
	}
	ext = (uint8_t)strtoul(argv[2], NULL, 16);
	passes = strtol(argv[3], NULL, 10);
	if (argc > 4 && nlr_bytecode(argv[4], NULL, NULL, NULL, bc, sizeof(bc), &bc_len)) {
		fprintf(stderr, "bad filter\n");
		return 2;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	if (strcmp(argv[1], "naive") == 0)
		states = 0xffffffffu;
	for (long p = 0; p < passes; p++) {
		long n;

		if (strcmp(argv[1], "legacy") == 0) {
			n = dump(fd, 0, (uint32_t)p, ext, states, bc, bc_len);
		} else {
			long m = dump(fd, AF_INET, (uint32_t)p, ext, states, bc, bc_len);

			n = dump(fd, AF_INET6, (uint32_t)p, ext, states, bc, bc_len);
			n = m < 0 ? m : n < 0 ? n : n + m;
		}
		if (n < 0) {
			fprintf(stderr, "dump: %s\n", strerror((int)-n));
			return 1;
		}
		total = n;
	}
	printf("sockets=%ld passes=%ld\n", total, passes);
	close(fd);
	return 0;
}
