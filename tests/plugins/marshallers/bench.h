/* tests/plugins/marshallers/bench.h — the record sets and the kernel side of `make bench`. */
#ifndef XTCPD_BENCH_H
#define XTCPD_BENCH_H

#include <stddef.h>

#include <xtcpd/record.h>

/* In a private network namespace, open established loopback connections and time
 * complete AF_INET sock_diag dumps of them: *ns = nanoseconds per socket of the fastest
 * of 31 dumps, *socks = sockets per dump. Returns 0 or -errno (-EPERM when not root). */
int bench_kernel_dump(double *ns, unsigned *socks);

/* Parse the --capture file `path` with the netlink source's parser (all attributes) into
 * a malloc'ed array of *n records carrying the metadata the daemon adds on emit.
 * Returns 0, -errno, or -EBADMSG when the file does not parse cleanly. */
int bench_replay_load(const char *path, struct xtcpd_record **recs, size_t *n);

#endif /* XTCPD_BENCH_H */
