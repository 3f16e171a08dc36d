/* tests/plugins/marshallers/bench_kernel.c — the kernel's per-socket sock_diag dump cost, the
 * yardstick of the marshallers' budget (issue: protobufList under 20% of it). Runs in a
 * private network namespace so it neither sees nor disturbs anyone else's sockets. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "tests/plugins/marshallers/bench.h"

#define BK_CONNS 2000
#define BK_DUMPS 31

static int bk_lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		rc = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (rc == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* One complete dump; returns the sockets seen or -errno. */
static int bk_dump(int nl)
{
	static uint8_t rbuf[32768];
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	int n = 0;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.req.sdiag_family = AF_INET;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = ~0u;
	msg.req.idiag_ext = 1 << (INET_DIAG_INFO - 1) | 1 << (INET_DIAG_CONG - 1) |
	                    1 << (INET_DIAG_SKMEMINFO - 1) | 1 << (INET_DIAG_TOS - 1) |
	                    1 << (INET_DIAG_SHUTDOWN - 1);
	if (send(nl, &msg, sizeof(msg), 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(nl, rbuf, sizeof(rbuf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)rbuf;

		if (len < 0)
			return -errno;
		for (; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return n;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -EIO;
			n++;
		}
	}
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int bench_kernel_dump(double *ns, unsigned *socks)
{
	static int fds[2 * BK_CONNS + 1];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	double t[BK_DUMPS];
	struct timespec a, b;
	int i, nfd = 0, nl, n = 0, rc;

	if (geteuid() != 0)
		return -EPERM;
	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	rc = bk_lo_up();
	if (rc)
		return rc;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fds[nfd] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[nfd] < 0 || bind(fds[nfd], (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fds[nfd], 4096) < 0 || getsockname(fds[nfd], (struct sockaddr *)&sa, &sl) < 0)
		return -errno;
	nfd++;
	for (i = 0; i < BK_CONNS; i++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return -errno;
		fds[nfd++] = c;
		fds[nfd] = accept(fds[0], NULL, NULL);
		if (fds[nfd] < 0)
			return -errno;
		/* Some traffic, so tcp_info is not all zeros. */
		if (write(c, "x", 1) != 1)
			return -errno;
		nfd++;
	}
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -errno;
	for (i = 0; i < BK_DUMPS; i++) {
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a); /* user + system, not wall */
		n = bk_dump(nl);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
		if (n <= 0)
			return n < 0 ? n : -ENOENT;
		t[i] = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / n;
	}
	qsort(t, BK_DUMPS, sizeof(t[0]), cmp_d);
	*ns = t[0]; /* the best dump, like the marshallers' best round */
	*socks = (unsigned)n;
	close(nl);
	for (i = 0; i < nfd; i++)
		close(fds[i]);
	return 0;
}
