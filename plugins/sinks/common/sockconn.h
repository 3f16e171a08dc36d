/* plugins/sinks/common/sockconn.h — one connected socket that a sink sends batches over,
 * shared by the tcp, unix and unixgram sinks (compiled into each): lazy connection,
 * reconnection with exponential backoff, a batch never split across connections, the
 * header line once per connection, failures counted by reason, and a cancel that makes
 * every wait return so shutdown stays bounded. See plugins/sinks/tcp/README.md. */
#ifndef XTCPD_SOCKCONN_H
#define XTCPD_SOCKCONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <xtcpd/plugin.h>

enum sc_mode {
	SC_STREAM,      /* tcp: the batches' bytes, back to back */
	SC_FRAMED,      /* unix: uvarint(len) ‖ payload per batch, one gather write */
	SC_DGRAM,       /* unixgram: one datagram per batch */
};

#define SC_MAX_ADDRS 8

struct sc_conf {
	enum sc_mode mode;
	struct sockaddr_storage addr[SC_MAX_ADDRS];  /* tried in order */
	socklen_t addr_len[SC_MAX_ADDRS];
	unsigned n_addr;
	char peer[320];                 /* for log lines */
	int64_t connect_timeout_ms, write_timeout_ms, retry_timeout_ms;
	int64_t backoff_min_ms, backoff_max_ms;
	int sndbuf;                     /* SO_SNDBUF; 0 = the kernel's */
	size_t max_datagram;            /* SC_DGRAM: largest datagram (see sc_dgram_limit) */
};

/* Keys shared by the three sinks (designated entries of their tables). */
#define SC_KEY_CONNECT_TIMEOUT                                                           \
	{ "connect_timeout", XTCPD_KEY_DURATION, "1s", 1, 60000, NULL, 0,                \
	  "give up a connection attempt after this long" }
#define SC_KEY_WRITE_TIMEOUT(def)                                                        \
	{ "write_timeout", XTCPD_KEY_DURATION, def, 1, 600000, NULL, 0,                  \
	  "drop the connection when a batch makes no progress for this long" }
#define SC_KEY_RETRY_TIMEOUT                                                             \
	{ "retry_timeout", XTCPD_KEY_DURATION, "1s", 0, 600000, NULL, 0,                 \
	  "keep retrying a batch this long after its first failure, then drop it" }
#define SC_KEY_RECONNECT_MIN                                                             \
	{ "reconnect_min", XTCPD_KEY_DURATION, "100ms", 0, 600000, NULL, 0,              \
	  "first pause between failed connection attempts (doubles up to reconnect_max)" }
#define SC_KEY_RECONNECT_MAX                                                             \
	{ "reconnect_max", XTCPD_KEY_DURATION, "5s", 0, 3600000, NULL, 0,                \
	  "longest pause between failed connection attempts" }
#define SC_KEY_SNDBUF                                                                    \
	{ "sndbuf", XTCPD_KEY_SIZE, "0", 0, 256 << 20, NULL, 0,                          \
	  "SO_SNDBUF of the socket (0 = the kernel default)" }

struct sc;

/* Make the connection state (no socket yet: the first send connects). Returns 0 or
 * -errno after logging why; *out is set to what was built. */
int sc_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx, const struct sc_conf *conf,
	      struct sc **out);
/* The sink ops, for the plugins' tables (inst is the struct sc). */
void sc_destroy(void *inst);
int sc_send(void *inst, struct xtcpd_buf *buf);
int sc_flush(void *inst, int timeout_ms);
size_t sc_max_message(void *inst);
void sc_cancel(void *inst);

/* "host:port" or "[v6]:port" -> getaddrinfo(SOCK_STREAM or SOCK_DGRAM) into conf.
 * "path" or "@abstract" -> one AF_UNIX address. 0, or -EINVAL with the reason in res
 * (key "address" or "path"). No side effect: the check ops call them. */
int sc_resolve_inet(struct sc_conf *conf, const char *address, int socktype,
		    struct xtcpd_check *res);
int sc_resolve_unix(struct sc_conf *conf, const char *path, struct xtcpd_check *res);
/* The keys the three sinks share into conf (timeouts, backoff, sndbuf), the backoff's
 * order checked: 0 or -EINVAL with res written. `idx` gives each key's place in the
 * plugin's table (connect_timeout -1: unixgram has none). No side effect. */
struct sc_key_idx {
	int connect_timeout, write_timeout, retry_timeout, reconnect_min, reconnect_max, sndbuf;
};
int sc_conf_common(struct sc_conf *conf, const struct xtcpd_value *v,
		   const struct sc_key_idx *idx, struct xtcpd_check *res);
/* In create(): log a refused check as "KEY: MESSAGE" and return rc. */
int sc_refused(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
	       const struct xtcpd_check *res, int rc);
/* The largest datagram a Unix datagram socket with SO_SNDBUF `sndbuf` (0 = default)
 * takes: its SO_SNDBUF - 32 (a socket is made and closed to ask). 0 or -errno. */
int sc_dgram_limit(int sndbuf, size_t *lim);

#endif /* XTCPD_SOCKCONN_H */
