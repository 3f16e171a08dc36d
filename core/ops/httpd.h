/* httpd — the operator's HTTP endpoint (libmicrohttpd): /metrics, /healthz, /readyz.
 * It runs in one internal MHD thread (epoll), with a connection limit and a per-connection
 * timeout, so a slow or abusive client never holds up collection; the handlers it calls
 * must therefore be thread-safe and quick (read counters, never wait on the poll loop).
 * That thread drops all its capabilities before it reads its first request. */
#ifndef XTCPD_HTTPD_H
#define XTCPD_HTTPD_H

#include <stddef.h>

/* Defaults chosen for a scrape endpoint: a few Prometheus servers and an operator's curl. */
#define HTTPD_MAX_CONNECTIONS 32    /* accepted at once; more wait in the listen backlog */
#define HTTPD_TIMEOUT_S 10          /* idle seconds before a connection is closed */

struct httpd_handlers {
	void *arg;
	/* Render the Prometheus text format into *buf. Called with *len = 0 and a buffer
	 * of *cap bytes (*buf may be NULL with *cap 0) that the handler may grow with
	 * realloc(), updating *buf and *cap; the server keeps it for the next scrape, so
	 * a steady-state scrape allocates nothing. Returns 0 or -errno (answered 500). */
	int (*metrics)(void *arg, char **buf, size_t *len, size_t *cap);
	/* 1 = ready; else 0 with a one-line reason written to reason[n]. */
	int (*ready)(void *arg, char *reason, size_t n);
};

struct httpd;

/* Listen on `listen`: "HOST:PORT", "[ADDR]:PORT" or ":PORT" (all addresses, IPv6 and
 * IPv4); port 0 picks a free one (see httpd_port). h is copied; its arg is borrowed until
 * httpd_stop. Returns 0 or -errno: -EINVAL for a malformed address, -EADDRINUSE,
 * -EADDRNOTAVAIL, -EACCES, ... with a one-line message in httpd_error(). */
int httpd_start(const char *listen, const struct httpd_handlers *h, struct httpd **out);
/* Stops the thread and closes every connection; NULL ok. */
void httpd_stop(struct httpd *h);
/* The port listened on (useful after ":0"). */
int httpd_port(const struct httpd *h);
/* Why the calling thread's last httpd_start failed ("" if it did not). */
const char *httpd_error(void);

#endif /* XTCPD_HTTPD_H */
