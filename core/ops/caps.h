/* caps — which capabilities xtcpd has, what is lost without each, and dropping the rest.
 *
 * What the running daemon needs, for its whole life (namespaces come and go at any time):
 *   CAP_SYS_ADMIN   setns() into each new network namespace to open its sock_diag socket
 *   CAP_SYS_PTRACE  open /proc/<pid>/ns/net of processes owned by other users
 *   CAP_NET_ADMIN   the kernel reports a socket's mark (INET_DIAG_MARK) only to it
 * Dumping sockets over NETLINK_SOCK_DIAG needs no capability. Everything else (binding the
 * metrics port below 1024, reading root-only configuration, raising limits) is done before
 * the drop, so CAPS_KEEP_RUNTIME is what the daemon keeps once it has started. */
#ifndef XTCPD_CAPS_H
#define XTCPD_CAPS_H

#include <stddef.h>
#include <linux/capability.h>

#define CAPS_KEEP_RUNTIME { CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_NET_ADMIN }

struct caps_report {
	int sock_diag;    /* 1: a NETLINK_SOCK_DIAG dump request is answered */
	int sys_admin;    /* 1: CAP_SYS_ADMIN is effective */
	int sys_ptrace;   /* 1: CAP_SYS_PTRACE is effective */
	int net_admin;    /* 1: CAP_NET_ADMIN is effective */
};

/* Fills r and writes into msg one line per missing piece saying what is lost, lines
 * separated by '\n' without a trailing one ("" when nothing is missing), e.g.
 * "no CAP_SYS_ADMIN: only the host namespace is collected". Returns 0 (even when
 * something is missing) or -errno when the capabilities cannot be read. */
int caps_check(struct caps_report *r, char *msg, size_t n);

/* Keeps only keep[0..n_keep) (those currently permitted) in the effective and permitted
 * sets, empties the inheritable and ambient sets and drops every other capability from
 * the bounding set. Capabilities are per thread: call it from the main thread before any
 * other thread starts, so that every thread inherits the reduced sets. Returns 0,
 * -EPERM when the bounding set could not be reduced (no CAP_SETPCAP; the other sets are
 * reduced anyway) or another -errno. */
int caps_drop_except(const int *keep, size_t n_keep);

#endif /* XTCPD_CAPS_H */
