/* tests/plugins/sinks/peer.h — the far end for the socket sink tests (tcp, unix, unixgram):
 * listeners on loopback or a Unix path, reads with a deadline, finding the sink's own
 * socket in this process (to wait until it has seen a close), and a thread that runs one
 * send() so the test can act as the peer meanwhile. */
#ifndef XTCPD_TEST_PEER_H
#define XTCPD_TEST_PEER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/lib/testhost.h"

/* A TCP listener on the loopback of `family` (port in *port); rcvbuf 0 = default.
 * -1 when the family has no loopback here. */
int peer_listen_tcp(int family, unsigned *port, int rcvbuf);
/* A Unix socket of `type` (SOCK_STREAM: listening) bound at path (@NAME: abstract). */
int peer_listen_unix(const char *path, int type, int rcvbuf);
/* A loopback TCP port with nothing listening on it. */
unsigned peer_closed_port(void);
/* accept() within timeout_ms, or -1. */
int peer_accept(int lfd, int timeout_ms);
/* Read until `want` bytes, EOF or timeout_ms of silence; returns the bytes read. */
size_t peer_read(int fd, uint8_t *buf, size_t want, int timeout_ms);
/* The sink's end of the connection the peer accepted as `conn` (searched among this
 * process's descriptors), or -1. */
int peer_sink_fd(int conn);
/* Until fd reports the peer's close (POLLRDHUP/POLLHUP) or timeout_ms; 1 when it did. */
int peer_wait_closed(int fd, int timeout_ms);

/* One send() on another thread. */
struct peer_sender {
	pthread_t t;
	struct th_inst *in;
	struct xtcpd_buf *buf;
	int rc;
};
void peer_send_start(struct peer_sender *ps, struct th_inst *in, struct xtcpd_buf *buf);
int peer_send_join(struct peer_sender *ps);

/* How many descriptors this process has open (a check op must leave it as it was). */
int peer_open_fds(void);

/* `n` bytes of a pattern that depends on `seed` (so misplaced bytes show). */
void peer_fill(uint8_t *p, size_t n, unsigned seed);

#endif
