/* xtcpd/plugin.h — the stable plugin ABI: what a plugin exports and what the host lends it.
 *
 * A plugin is a shared object exporting exactly one symbol, XTCPD_PLUGIN_SYMBOL, a const
 * struct xtcpd_plugin made with XTCPD_PLUGIN(). Plugins never link against the daemon:
 * everything they need from it comes through struct xtcpd_host. The ABI grows only by
 * appending fields; the host reads a field only when the plugin's struct_size covers it.
 * Actions return 0 or -errno. Plugins never exit() or abort(). */
#ifndef XTCPD_PLUGIN_H
#define XTCPD_PLUGIN_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>

#include <xtcpd/record.h>

#define XTCPD_ABI_MAJOR 1
#define XTCPD_ABI_MINOR 7
#define XTCPD_PLUGIN_SYMBOL "xtcpd_plugin"

#if defined(__GNUC__)
#define XTCPD_EXPORT __attribute__((visibility("default")))
#define XTCPD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define XTCPD_EXPORT
#define XTCPD_PRINTF(f, a)
#endif

enum xtcpd_kind {
	XTCPD_KIND_SOURCE = 1,
	XTCPD_KIND_MARSHALLER = 2,
	XTCPD_KIND_SINK = 3,
};

/* ---- configuration keys ------------------------------------------------------------ */

enum xtcpd_key_type {
	XTCPD_KEY_BOOL = 1,     /* true/false/yes/no/on/off/1/0          -> num 0|1        */
	XTCPD_KEY_INT,          /* decimal integer in [min, max]          -> num            */
	XTCPD_KEY_STRING,       /* any text (max = maximum length if > 0) -> str            */
	XTCPD_KEY_ENUM,         /* one of choices "a|b|c"                 -> num = index    */
	XTCPD_KEY_DURATION,     /* 250ms, 10s, 1m30s, 2h (bare number = s) -> num in ms    */
	XTCPD_KEY_SIZE,         /* 512, 64k, 768KiB, 1M, 1MiB (powers of 2) -> num in bytes */
	XTCPD_KEY_LIST,         /* comma-separated words, each in choices ("" = any)  -> str */
};

enum xtcpd_key_flag {
	XTCPD_KEY_REQUIRED = 1u << 0, /* no default: the section must set it */
	XTCPD_KEY_PREFIX = 1u << 1,   /* name is a prefix ("property."): any key starting with
	                               * it is accepted and passed in xtcpd_config.extra */
	XTCPD_KEY_OUTPUT = 1u << 2,   /* ABI 1.3: a STRING naming a file the instance writes
	                               * ("-" = standard output): two instances, of any plugin,
	                               * naming the same file are refused (an older host ignores
	                               * the flag) */
};

/* One declared key. Tables end with an entry whose name is NULL. */
struct xtcpd_key {
	const char *name;
	enum xtcpd_key_type type;
	const char *def;       /* default as text; NULL = unset (str NULL, num 0) */
	int64_t min, max;      /* INT/DURATION(ms)/SIZE(bytes) range; STRING max length */
	const char *choices;   /* ENUM/LIST: "a|b|c" */
	uint32_t flags;        /* enum xtcpd_key_flag */
	const char *help;      /* one line */
};

#define XTCPD_KEYS_END { NULL, 0, NULL, 0, 0, NULL, 0, NULL }

/* A key's validated value. */
struct xtcpd_value {
	const char *str;       /* the text as written (or the default); NULL if unset */
	int64_t num;           /* parsed number, see enum xtcpd_key_type */
	int set;               /* 1 when the configuration set it, 0 for the default */
};

struct xtcpd_kv {
	const char *key, *value;
};

/* What a plugin instance is created with. Borrowed: valid until destroy. */
struct xtcpd_config {
	const char *instance;              /* instance name ("file", "kafka-main", ...) */
	const struct xtcpd_value *values;  /* one per entry of the plugin's key table, same order */
	size_t n_values;
	const struct xtcpd_kv *extra;      /* keys matched by an XTCPD_KEY_PREFIX entry, in order */
	size_t n_extra;
};

/* ---- objects the host lends -------------------------------------------------------- */

struct xtcpd_ctx;      /* the host's handle for one plugin instance (opaque) */
struct xtcpd_pool;     /* a fixed-capacity object pool (opaque) */

/* A batch buffer: marshallers write into it, sinks send data[off, len). Owned by one
 * stage at a time; a sink gives it back with host->buf_release() exactly once. */
struct xtcpd_buf {
	uint8_t *data;
	size_t off;            /* first byte of the message (room reserved for a prefix) */
	size_t len;            /* end of the message */
	size_t cap;            /* bytes available at data */
	uint32_t rows;         /* records in it */
	uint32_t flags;        /* XTCPD_BUF_* */
	void *priv;            /* the host's; do not touch */
};

enum xtcpd_buf_flag {
	XTCPD_BUF_DUMP_INTR = 1u << 0, /* holds records of an interrupted dump */
	/* ABI 1.3, set by the marshaller in begin(): data[off..] starts with a header line
	 * (ending in '\n', e.g. csv column names) that every batch of this marshaller
	 * repeats, so each batch stands alone (a datagram, an HTTP body, a Kafka message).
	 * A sink that writes batches one after another into one stream (a file, a TCP
	 * connection, stderr) writes that line only at the start of each stream. */
	XTCPD_BUF_HEADER = 1u << 1,
};

/* A network namespace the host knows. The source may keep per-namespace state in
 * source_priv between ns_add and ns_del. */
struct xtcpd_netns {
	const char *name;      /* bind-mount name, "pid:<pid>" or "netns:[inode]" */
	uint64_t inode;
	uint32_t nsid;         /* as seen from the host namespace; 0 for the host itself */
	int fd;                /* O_RDONLY fd of the namespace (borrowed) */
	int is_host;
	void *source_priv;
};

/* One poll cycle, given to source->poll(). */
struct xtcpd_cycle {
	uint64_t seq;                       /* 1, 2, ... */
	int64_t start_ns;                   /* CLOCK_REALTIME at poll start */
	int64_t deadline_ns;                /* CLOCK_MONOTONIC: stop waiting after this */
	struct xtcpd_netns *const *ns;      /* the namespaces to poll this cycle */
	size_t n_ns;
};

enum xtcpd_log_level { XTCPD_LOG_ERR = 3, XTCPD_LOG_WARN = 4, XTCPD_LOG_INFO = 6, XTCPD_LOG_DEBUG = 7 };

enum xtcpd_metric_type { XTCPD_METRIC_COUNTER = 1, XTCPD_METRIC_GAUGE = 2 };

/* Services the host lends to a plugin instance. Every function is thread-safe. */
struct xtcpd_host {
	uint32_t struct_size;
	uint16_t abi_major, abi_minor;

	/* Log one line, prefixed "kind/instance: ". */
	void (*log)(struct xtcpd_ctx *ctx, int level, const char *fmt, ...) XTCPD_PRINTF(3, 4);
	/* Like log, but at most one line per `interval_ms` per call site key (`key` is any
	 * stable pointer, e.g. a static); lines suppressed meanwhile are counted in the next. */
	void (*log_ratelimited)(struct xtcpd_ctx *ctx, const void *key, int interval_ms, int level,
	                        const char *fmt, ...) XTCPD_PRINTF(5, 6);

	/* Register a metric; returns a slot the plugin updates with atomics, or NULL on
	 * -ENOMEM. `name` gets the "xtcpd_" prefix; `labels` is NULL or a fixed label set
	 * such as "reason=\"enobufs\"" (bounded cardinality!). The host adds the instance
	 * label. Same name+labels twice returns the same slot. */
	_Atomic uint64_t *(*metric)(struct xtcpd_ctx *ctx, enum xtcpd_metric_type type,
	                            const char *name, const char *labels, const char *help);

	/* Pools of fixed-size objects, all allocated at create. get waits up to wait_ms
	 * (0 = no wait) and returns NULL when none is free (counted as a miss). */
	struct xtcpd_pool *(*pool_create)(struct xtcpd_ctx *ctx, const char *name,
	                                  size_t obj_size, unsigned capacity);
	void *(*pool_get)(struct xtcpd_pool *pool, int wait_ms);
	void (*pool_put)(struct xtcpd_pool *pool, void *obj);
	void (*pool_destroy)(struct xtcpd_pool *pool);

	/* Sources: hand one record to the pipeline from reader `lane` (< the source's
	 * lanes()). Borrows rec and fills its metadata fields but the namespace ones (see
	 * emit_ns, which sources that know namespaces use) and socket_fd. Returns 0, or
	 * -errno when the record was dropped (already counted by the host). */
	int (*emit)(struct xtcpd_ctx *ctx, unsigned lane, struct xtcpd_record *rec);

	/* Sinks: give a buffer back; `ok` = 1 delivered, 0 failed. The host counts every
	 * batch's outcome (batches, records, bytes): a sink counts only what the host cannot
	 * see (failures by reason, retries). */
	void (*buf_release)(struct xtcpd_ctx *ctx, struct xtcpd_buf *buf, int ok);

	/* Open socket(domain, type, protocol) inside namespace `ns` (from a helper thread
	 * that enters it with setns and returns). Returns the fd or -errno. */
	int (*ns_socket)(struct xtcpd_ctx *ctx, const struct xtcpd_netns *ns, int domain,
	                 int type, int protocol);

	/* A directory to write raw captures to (--capture), or NULL. */
	const char *(*capture_dir)(struct xtcpd_ctx *ctx);

	/* ABI 1.2: like emit, for a record collected in namespace `ns` (borrowed, the one
	 * the host lent through ns_add or the cycle): the host fills the record's namespace
	 * fields from it (netns, netns_inode, nsid, and what it knows of the namespace's
	 * owner), so a source never copies them. ns = NULL: the record has no namespace. */
	int (*emit_ns)(struct xtcpd_ctx *ctx, unsigned lane, const struct xtcpd_netns *ns,
		       struct xtcpd_record *rec);

	/* ABI 1.3: run fn(arg) inside namespace `ns` and return what fn returned, or -errno
	 * when `ns` could not be entered. What fn creates that binds to its thread's
	 * namespace (a BPF iterator, a socket, a /proc/thread-self/net file) belongs to `ns`.
	 * fn runs on the host's one namespace helper thread (started at the first call, then
	 * reused: no thread per namespace or per call, no allocation after the first call),
	 * or in the caller for the host namespace. Calls are served one at a time, so fn must
	 * be short, and it must not change its thread's namespaces, credentials or signal
	 * mask. */
	int (*ns_run)(struct xtcpd_ctx *ctx, const struct xtcpd_netns *ns,
		      int (*fn)(void *arg), void *arg);

	/* ABI 1.4. Sinks: the media type of the batches this sink is given (the content_type
	 * its marshaller declares, e.g. "application/x-ndjson"), or NULL when the marshaller
	 * declares none. Borrowed, constant for the instance's life from start() on (during
	 * create() the sink is not wired to its marshaller yet: NULL). Check it with
	 * XTCPD_HOST_HAS(host, content_type): an older host does not lend it. */
	const char *(*content_type)(struct xtcpd_ctx *ctx);

	/* ABI 1.6: runtime control of the daemon (what a control service such as the gRPC
	 * plugin's serves). Any thread; check each with XTCPD_HOST_HAS. The main thread owns
	 * the schedule and serves these between cycles, so the calls that wait for it
	 * (set_frequency, apply_config) can take up to a cycle's timeout: never call them from
	 * a sink's send() or a source's lane. */

	/* Run a poll now, beside the schedule (which is not moved). 0: one will run;
	 * -EALREADY: a poll is running or already asked for, and serves this request too
	 * (coalesced); -ESHUTDOWN: the daemon is stopping. */
	int (*poll_now)(struct xtcpd_ctx *ctx);
	/* Run `count` polls (1..1000), `interval_ms` apart (1 s..1 h), the first now. 0;
	 * -EINVAL out of range; -EBUSY: a burst is running (one at a time); -ESHUTDOWN. */
	int (*poll_burst)(struct xtcpd_ctx *ctx, unsigned count, int64_t interval_ms);
	/* Change the poll frequency (core.frequency's range) and cycle timeout (below it;
	 * 0 = 9/10 of it); applied when this returns 0 (the next cycle is due one new
	 * frequency after the last one started). -EINVAL out of range; -ETIMEDOUT, -ESHUTDOWN.
	 * Until the next reload: a SIGHUP or apply_config reads the configuration again. */
	int (*set_frequency)(struct xtcpd_ctx *ctx, int64_t frequency_ms, int64_t timeout_ms);
	/* The effective configuration, as `xtcpd --print-config` writes it (credentials
	 * hidden). Like snprintf: writes at most `size` bytes into buf (terminated) and
	 * returns the length of the whole text, or -ENODATA (not running yet). */
	int (*config_text)(struct xtcpd_ctx *ctx, char *buf, size_t size);
	/* Apply a whole new configuration given as text (the format config_text gives),
	 * through the path a SIGHUP takes: every check, then the new pipeline built beside
	 * the running one, then the swap (unchanged instances are kept). Returns 0 once it
	 * checked and built (the swap follows at once: this very instance may be stopped by
	 * it if its own section changed); -EINVAL with the check's message in err
	 * ("FILE:LINE: [section] key: reason", FILE being "control service") and nothing
	 * changed; another -errno with why in err. core.plugin_dir cannot change this way,
	 * and a credential shown hidden must be set again. SIGHUP later reads the files. */
	int (*apply_config)(struct xtcpd_ctx *ctx, const char *text, size_t len, char *err,
			    size_t err_size);
	/* The daemon's readiness, what /readyz answers: 1 ready, 0 not (why in reason). */
	int (*ready)(struct xtcpd_ctx *ctx, char *reason, size_t size);

	/* ABI 1.7. Marshallers: the enrichment generation, a number the host moves forward
	 * before it frees any text a record may point at (a namespace's container_* and pod_*
	 * strings, an uplink and its strings). While it stays the same, an address seen in a
	 * record keeps naming the same text, so what a marshaller made of that text (its
	 * encoded bytes) may be kept keyed by the address; once it moves, an address may come
	 * back naming other text. Read it once per record, from the thread that appends it;
	 * any thread. Check with XTCPD_HOST_HAS: an older host does not lend it (cache
	 * nothing then). */
	uint64_t (*enrich_generation)(struct xtcpd_ctx *ctx);
};

/* 1 when the host lends `field` (a host older than the plugin may not). */
#define XTCPD_HOST_HAS(host, field)                                                      \
	((host)->struct_size >= offsetof(struct xtcpd_host, field) + sizeof((host)->field) && \
	 (host)->field != NULL)

/* ABI 1.3: what a source's create() returns when its collection mechanism cannot work on
 * this host (a kernel feature, a privilege or a policy is missing), after logging the
 * cause and the remedy. The core then creates the source named by the section's
 * `fallback` key in its place, or, without one, stops with exit status 2. Any other
 * error is an ordinary failure. */
#define XTCPD_ERR_UNAVAILABLE (-ENOPKG)

/* ---- what a plugin provides -------------------------------------------------------- */

/* Every kind's ops table starts with this. create() gets the host table (borrowed for
 * the instance's life), the instance's handle and its validated configuration; on
 * failure it returns -errno after logging why, with *inst set to whatever it built
 * (destroy accepts NULL and half-built instances). */
struct xtcpd_ops_common {
	uint32_t struct_size;
	int (*create)(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
	              const struct xtcpd_config *cfg, void **inst);
	int (*start)(void *inst);   /* NULL = nothing to start */
	void (*stop)(void *inst);   /* NULL = nothing to stop; called before destroy */
	void (*destroy)(void *inst);
};

struct xtcpd_source_ops {
	struct xtcpd_ops_common common;
	/* Reader threads that will call host->emit (lane ids 0 .. lanes-1). */
	unsigned (*lanes)(void *inst);
	/* The host found / lost a namespace (called between cycles, from the main thread). */
	int (*ns_add)(void *inst, struct xtcpd_netns *ns);
	void (*ns_del)(void *inst, struct xtcpd_netns *ns);
	/* Collect one cycle: emit every record, return when done or at cyc->deadline_ns. No
	 * emit may happen after it returns (unless the source is XTCPD_SOURCE_CONTINUOUS).
	 * Returns 0 or -errno (the cycle counts as failed). */
	int (*poll)(void *inst, const struct xtcpd_cycle *cyc);
	/* ABI 1.5: enum xtcpd_source_flag bits (0 for an older plugin: a poll source). */
	uint32_t flags;
};

/* ABI 1.5: what kind of source (struct xtcpd_source_ops.flags). */
enum xtcpd_source_flag {
	/* The source emits at any time from its lanes' threads, between and during polls
	 * (sockets reported as they close), not only inside poll(). The host then
	 * serialises each lane's emits with its own flushes and reloads, stamps each
	 * record's timestamp_ns with the time of its emit, and sends a lane's partial
	 * batches on the section's `flush_interval` (default 1 s) as well as on
	 * flush_rows/flush_bytes and at each cycle's end. Its poll() may return at once. */
	XTCPD_SOURCE_CONTINUOUS = 1u << 0,
};

struct xtcpd_marshaller_ops {
	struct xtcpd_ops_common common;
	/* Start a batch in an empty buffer (reserve room for a prefix: set buf->off/len). */
	int (*begin)(void *inst, struct xtcpd_buf *buf);
	/* Append one record. -ENOSPC: it does not fit, the buffer is unchanged (the host
	 * flushes and retries in a fresh one); other -errno: the record is dropped. Must
	 * not allocate after warm-up; called concurrently for different buffers. */
	int (*append)(void *inst, struct xtcpd_buf *buf, const struct xtcpd_record *rec);
	/* Close the batch before it goes to the sinks (write the prefix, set off/len). */
	int (*finish)(void *inst, struct xtcpd_buf *buf);
	/* ABI 1.4: the media type of a batch ("application/x-ndjson"), for sinks that label
	 * what they send (an HTTP Content-Type); NULL = not declared. A constant string. */
	const char *content_type;
};

struct xtcpd_sink_ops {
	struct xtcpd_ops_common common;
	/* Largest message the sink can take, in bytes; 0 = no limit. Read after create. */
	size_t (*max_message)(void *inst);
	/* Send one batch (takes buf: call host->buf_release once, now or later from any
	 * thread). Called from the sink's own thread, one batch at a time. Returns 0 (the
	 * outcome is what buf_release said); ABI 1.3: -EPIPE, buf released, when the output
	 * is gone for good (standard output into a pipe whose reader left): the host sends
	 * this sink nothing more (counted as dropped, reason "closed") and stops when no
	 * sink is left, as a filter would. An older host ignores the value. */
	int (*send)(void *inst, struct xtcpd_buf *buf);
	/* Wait up to timeout_ms for what is in flight; returns the batches still undelivered. */
	int (*flush)(void *inst, int timeout_ms);
	/* Reopen outputs (SIGHUP); NULL = nothing to do. */
	int (*reopen)(void *inst);
	/* ABI 1.1: at shutdown, when the sink's thread is still inside send() after the
	 * deadline, make that send give up promptly (release the buffer as failed) so the
	 * sink can still flush and report. Called from another thread; NULL = cannot. */
	void (*cancel)(void *inst);
};

/* ABI 1.3: what a refusing check() reports. The host owns the struct and the buffer. */
struct xtcpd_check {
	uint32_t struct_size;        /* sizeof(struct xtcpd_check) as the host built it */
	char *msg;                   /* write the reason here: one line, no key name, no newline */
	size_t msg_size;             /* bytes at msg */
	const char *key;             /* set it to the offending key's name (a name of the key
	                              * table, or an extra's full name such as
	                              * "property.nosuch"); NULL = the section as a whole */
};

/* The one exported descriptor. */
struct xtcpd_plugin {
	uint16_t abi_major;
	uint16_t abi_minor;
	uint32_t struct_size;        /* sizeof(struct xtcpd_plugin) as the plugin was built */
	uint32_t kind;               /* enum xtcpd_kind */
	const char *name;
	const char *version;
	const char *description;     /* one line */
	const struct xtcpd_key *keys;
	const void *ops;             /* struct xtcpd_{source,marshaller,sink}_ops */
	/* ABI 1.3, optional (NULL = nothing to check beyond the key table): check a
	 * configuration the way create() would take it, without creating anything. cfg is
	 * validated against the key table (types, ranges, required keys) and borrowed for
	 * the call. Check everything create() could refuse: parse addresses and resolve
	 * names, compile filters, let a library validate its options on a throwaway object,
	 * look at the folders of paths to be written. No side effect: no file created, no
	 * socket connected, no thread, no log line, no state kept; it may be called from any
	 * thread, for instances that are never created. It runs for `xtcpd -n`, at start and
	 * for every SIGHUP before anything is built, so a configuration it accepts should not
	 * fail to create. Returns 0, or -EINVAL (another -errno: the check itself failed)
	 * with res->msg written and res->key set; the host prints
	 * "FILE:LINE: [kind name instance] KEY: MSG" and refuses the configuration (exit 2;
	 * on SIGHUP the running pipeline is kept). */
	int (*check)(const struct xtcpd_config *cfg, struct xtcpd_check *res);
};

/* XTCPD_PLUGIN_CHECKED(kind, name, version, description, keys, ops, check) defines the
 * export with a check function; XTCPD_PLUGIN(...) the same without one. */
#define XTCPD_PLUGIN_CHECKED(KIND, NAME, VERSION, DESC, KEYS, OPS, CHECK)                \
	XTCPD_EXPORT const struct xtcpd_plugin xtcpd_plugin = {                          \
		.abi_major = XTCPD_ABI_MAJOR,                                            \
		.abi_minor = XTCPD_ABI_MINOR,                                            \
		.struct_size = sizeof(struct xtcpd_plugin),                              \
		.kind = (KIND),                                                          \
		.name = (NAME),                                                          \
		.version = (VERSION),                                                    \
		.description = (DESC),                                                   \
		.keys = (KEYS),                                                          \
		.ops = (OPS),                                                            \
		.check = (CHECK),                                                        \
	}
#define XTCPD_PLUGIN(KIND, NAME, VERSION, DESC, KEYS, OPS)                               \
	XTCPD_PLUGIN_CHECKED(KIND, NAME, VERSION, DESC, KEYS, OPS, NULL)

/* 1 when the descriptor (of any minor version) carries `field` (the host's test). */
#define XTCPD_PLUGIN_HAS(desc, field)                                                    \
	((desc)->struct_size >= offsetof(struct xtcpd_plugin, field) + sizeof((desc)->field) && \
	 (desc)->field != NULL)

/* In a check(): write the reason (printf-style, needs <stdio.h>), name the key and
 * evaluate to -EINVAL (needs <errno.h>): return XTCPD_CHECK_FAIL(res, "port", "...", ...); */
#define XTCPD_CHECK_FAIL(res, KEY, ...)                                                  \
	(snprintf((res)->msg, (res)->msg_size, __VA_ARGS__), (res)->key = (KEY), -EINVAL)

#endif /* XTCPD_PLUGIN_H */
