/* httpd — the operator's HTTP endpoint (libmicrohttpd): /metrics, /healthz, /readyz.
 * It runs in one internal MHD thread (epoll), with a connection limit and a per-connection
 * timeout, so a slow or abusive client never holds up collection; the handlers it calls
 * must therefore be thread-safe and quick (read counters, never wait on the poll loop).
 * That thread holds no capability from its birth and, when the daemon runs as root, runs
 * as nobody (uid 65534): binding comes first, in the caller's thread (httpd_open), so a
 * port below 1024 needs nothing once the thread runs (httpd_serve). */
#ifndef XTCPD_HTTPD_H
#define XTCPD_HTTPD_H

#include <stddef.h>

/* Chosen so that probes keep answering while clients misbehave: a leaky scraper or a
 * slowloris holds at most HTTPD_PER_IP_CONNECTIONS from one address, and a connection
 * must deliver a whole request header within HTTPD_HEADER_DEADLINE_S of opening (or of
 * its previous answer), however slowly it trickles bytes. */
#define HTTPD_MAX_CONNECTIONS 256   /* accepted at once (fds: see the daemon's fd budget) */
#define HTTPD_PER_IP_CONNECTIONS 16 /* from one client address */
#define HTTPD_TIMEOUT_S 5           /* idle seconds before a connection is closed */
#define HTTPD_HEADER_DEADLINE_S 5   /* to complete a request's header, bytes or not */

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

/* Bind and listen on `listen` (no thread yet): "HOST:PORT", "[ADDR]:PORT" or ":PORT" (all addresses, IPv6 and
 * IPv4); port 0 picks a free one (see httpd_port). h is copied; its arg is borrowed until
 * httpd_stop. Returns 0 or -errno: -EINVAL for a malformed address, -EADDRINUSE,
 * -EADDRNOTAVAIL, -EACCES, ... with a one-line message in httpd_error(). */
int httpd_open(const char *listen, const struct httpd_handlers *h, struct httpd **out);
/* Start serving on a thread born without capabilities (as nobody when the process runs
 * as root and may change its uid). 0 or -errno (message in httpd_error()). */
int httpd_serve(struct httpd *h);
/* httpd_open then httpd_serve. */
int httpd_start(const char *listen, const struct httpd_handlers *h, struct httpd **out);
/* 1 when it listens on every address (":PORT", "0.0.0.0:PORT", "[::]:PORT"). */
int httpd_any(const struct httpd *h);
/* 1 when its thread runs as nobody. */
int httpd_nobody(const struct httpd *h);
/* Stops the thread and closes every connection; NULL ok. */
void httpd_stop(struct httpd *h);
/* The port listened on (useful after ":0"). */
int httpd_port(const struct httpd *h);
/* Why the calling thread's last httpd_start failed ("" if it did not). */
const char *httpd_error(void);

#endif /* XTCPD_HTTPD_H */
