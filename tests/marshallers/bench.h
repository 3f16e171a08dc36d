/* tests/marshallers/bench.h — the kernel side of `make bench`. */
#ifndef XTCPD_BENCH_H
#define XTCPD_BENCH_H

/* In a private network namespace, open established loopback connections and time
 * complete AF_INET sock_diag dumps of them: *ns = nanoseconds per socket of the fastest
 * of 31 dumps, *socks = sockets per dump. Returns 0 or -errno (-EPERM when not root). */
int bench_kernel_dump(double *ns, unsigned *socks);

#endif /* XTCPD_BENCH_H */
