/* caps — which capabilities xtcpd has, what is lost without each, dropping the rest, and
 * threads born without any.
 *
 * Dumping sockets over NETLINK_SOCK_DIAG needs no capability. Everything else the daemon
 * does with privilege (binding the metrics port below 1024, reading root-only files) is
 * done before the drop, so CAPS_RUNTIME is all the main thread and the source's readers
 * keep once it has started; the HTTP thread and the sinks' threads keep none. */
#ifndef XTCPD_CAPS_H
#define XTCPD_CAPS_H

#include <stddef.h>
#include <linux/capability.h>

/* The one table of what the running daemon keeps, for its whole life (namespaces come
 * and go at any time): X(capability, caps_report field, what is lost without it). The
 * report, the drop, dist/xtcpd.service.in and xtcpd(8) follow it (tests check them).
 *   CAP_SYS_ADMIN   setns() into each new network namespace (to open its sock_diag
 *                   socket, or to create its BPF iterator), and loading the bpf_iter
 *                   source's program (CAP_BPF and CAP_PERFMON are not needed)
 *   CAP_SYS_PTRACE  open /proc/<pid>/ns/net of processes owned by other users
 *   CAP_NET_ADMIN   the kernel reports a socket's mark (INET_DIAG_MARK) only to it; the
 *                   check is made in the thread reading the dump: the source's readers */
#define CAPS_RUNTIME(X)                                                                        \
	X(CAP_SYS_ADMIN, sys_admin, "no CAP_SYS_ADMIN: only the host namespace is collected")    \
	X(CAP_SYS_PTRACE, sys_ptrace, "no CAP_SYS_PTRACE: namespaces found only through other "  \
	  "users' processes (/proc/PID/ns/net) are skipped")                                     \
	X(CAP_NET_ADMIN, net_admin, "no CAP_NET_ADMIN: socket marks (INET_DIAG_MARK) are not "   \
	  "reported")

#define CAPS_CAP_(cap, field, lost) cap,
#define CAPS_KEEP_RUNTIME { CAPS_RUNTIME(CAPS_CAP_) }

#define CAPS_FIELD_(cap, field, lost) int field;  /* 1: cap is effective */
struct caps_report {
	int sock_diag;    /* 1: a NETLINK_SOCK_DIAG dump request is answered */
	CAPS_RUNTIME(CAPS_FIELD_)
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

/* The uid and gid a confined thread takes when the process runs as root: nobody's. */
#define CAPS_NOBODY 65534

/* Runs fn(arg) on a new thread, waits for it and returns what fn returned. Before fn, the
 * thread sets no_new_privs and empties its effective, permitted, inheritable and ambient
 * sets (and its bounding set when it holds CAP_SETPCAP); with as_nobody and a thread
 * running as root, it also takes uid and gid CAPS_NOBODY without supplementary groups,
 * which needs CAP_SETUID and CAP_SETGID (*nobody = 1 when done, else 0). Threads that fn
 * starts inherit all of it: that is how a thread holds nothing from its birth. */
int caps_run_confined(int as_nobody, int (*fn)(void *), void *arg, int *nobody);

#endif /* XTCPD_CAPS_H */
