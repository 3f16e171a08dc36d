/* sockstat — is a namespace worth a walk of the kernel's TCP tables? The tables are
 * host-wide, so an empty namespace's dump (sock_diag) or iterator (bpf_iter) still walks
 * every host socket; its /proc/net/sockstat counters answer for one small read. Shared by
 * the netlink, io_uring and bpf_iter sources (libnlcommon). */
#ifndef NLSS_SOCKSTAT_H
#define NLSS_SOCKSTAT_H

/* A namespace's sockstat and sockstat6, opened inside it; -1 = not open. */
struct nlss {
	int fd4, fd6;
};

#define NLSS_INIT { -1, -1 }

/* Open the calling thread's namespace's files (/proc/thread-self/net: the open files stay
 * bound to that namespace). 0, or -errno when sockstat cannot be opened (sockstat6 is
 * optional: a kernel without IPv6 has none). */
int nlss_open_here(struct nlss *ss);
void nlss_close(struct nlss *ss);
/* 1: the namespace has TCP sockets (in use or time-wait), or we cannot tell; 0: none. */
int nlss_has_tcp(const struct nlss *ss);

#endif
