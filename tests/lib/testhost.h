/* testhost — the one stand-in for the daemon's host table, shared by every test that
 * drives a plugin through its real ops table (a dlopen'ed .so, or a plugin linked into the
 * test). It uses the core's real pieces where they exist: the key parser and section
 * check (conf/), pools (pipeline/pool.c), namespace sockets (netns/). What it records
 * instead of the pipeline: metrics and log lines per instance, what emit() was given
 * (a callback), and every buffer a sink gives back (double releases are caught). */
#ifndef XTCPD_TESTHOST_H
#define XTCPD_TESTHOST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <xtcpd/plugin.h>

extern const struct xtcpd_host th_host;
/* Move th_host's enrichment generation forward (ABI 1.7), as the daemon does before it
 * frees enrichment text: what a marshaller cached by address is then stale. */
void th_enrich_retire(void);

/* ---- one instance's handle --------------------------------------------------------- */

/* `prefix` is "kind/instance" as the daemon's log prefix ("sink/udp"). */
struct xtcpd_ctx *th_ctx_new(const char *prefix);
void th_ctx_free(struct xtcpd_ctx *ctx);
/* Records emitted through this handle go to cb (none: counted only). Like the core,
 * emit_ns fills the namespace fields and both set netlinker_id = lane. */
typedef int (*th_emit_fn)(void *arg, unsigned lane, struct xtcpd_record *rec);
void th_ctx_on_emit(struct xtcpd_ctx *ctx, th_emit_fn cb, void *arg);
uint64_t th_emitted(struct xtcpd_ctx *ctx);
/* What host->capture_dir() answers (default NULL). */
void th_ctx_set_capture(struct xtcpd_ctx *ctx, const char *dir);

/* A metric's value; UINT64_MAX when the plugin never registered it. */
uint64_t th_metric(struct xtcpd_ctx *ctx, const char *name, const char *labels);
/* Sum of one metric over all its label sets (0 when never registered). */
uint64_t th_metric_sum(struct xtcpd_ctx *ctx, const char *name);
void th_metrics_reset(struct xtcpd_ctx *ctx);                 /* every value back to 0 */
void th_metrics_print(struct xtcpd_ctx *ctx, FILE *f);        /* "metric NAME{LABELS} V" */

struct th_logs {
	unsigned lines;       /* lines printed through log and log_ratelimited */
	unsigned suppressed;  /* log_ratelimited calls that were held back */
};
void th_logs_get(struct xtcpd_ctx *ctx, struct th_logs *l);
void th_last_log(struct xtcpd_ctx *ctx, char *out, size_t n);  /* the last line's text */

/* ---- buffers a sink gives back ----------------------------------------------------- */

/* A heap batch holding data (with headroom before it); poisoned and freed on release. */
struct xtcpd_buf *th_buf(const void *data, size_t len, uint32_t rows);

struct th_released {
	uint64_t ok, failed, rows_ok, rows_failed, bytes_ok, twice;
};
void th_released_get(struct xtcpd_ctx *ctx, struct th_released *r);
/* One outcome the host counted from buf_release (what the daemon's
 * xtcpd_sink_{batches,records,bytes}_done counters would say). */
enum th_outcome { TH_OK, TH_FAILED, TH_ROWS_OK, TH_ROWS_FAILED, TH_BYTES_OK, TH_SENT };
uint64_t th_outcome(struct xtcpd_ctx *ctx, enum th_outcome which);
/* Wait until `n` buffers in total came back or timeout_ms passes; returns the total. */
uint64_t th_wait_released(struct xtcpd_ctx *ctx, uint64_t n, int timeout_ms);

/* ---- plugins and instances --------------------------------------------------------- */

struct th_plugin {
	void *dl;                          /* NULL when linked into the test */
	const struct xtcpd_plugin *desc;
};

/* dlopen $XTCPD_PLUGIN_DIR/<kind>_<name>.so and check its descriptor; 0 or -1
 * (message printed). */
int th_load(unsigned kind, const char *name, struct th_plugin *p);
void th_unload(struct th_plugin *p);

/* The configuration a plugin gets from a NULL-terminated list of "key=value", parsed and
 * checked by the core's own code (defaults, ranges, required and prefix keys, and the
 * core's per-kind keys, which the plugin does not see). NULL with the core's message
 * printed on a bad key or value. */
struct xtcpd_config *th_config(const struct xtcpd_plugin *desc, const char *instance,
			       const char *const *kv);
void th_config_free(struct xtcpd_config *cfg);

/* The plugin's check op (ABI 1.3) on the configuration made from kv (as th_config):
 * its result, with out = "KEY: MESSAGE" (or "MESSAGE" when it names no key; "" when it
 * passed). -ENOSYS when the plugin has no check. */
int th_check(const struct xtcpd_plugin *desc, const char *const *kv, char *out, size_t n);

/* One instance made through the ops table: a handle, its configuration, create (+ start). */
struct th_inst {
	struct xtcpd_ctx *ctx;
	struct xtcpd_config *cfg;
	const struct xtcpd_plugin *desc;
	union {
		void *obj;
		void *sink;
	};
	union {
		const void *any_ops;
		const struct xtcpd_sink_ops *ops;
		const struct xtcpd_marshaller_ops *mops;
		const struct xtcpd_source_ops *sops;
	};
};
/* Returns create's (or start's) result, or -EINVAL if the configuration did not check. */
int th_inst_create(struct th_inst *in, const struct th_plugin *p, const char *const *kv);
/* The same with a handle made (and set up: emit callback, capture) by the test; the
 * instance owns it from here. */
int th_inst_create_in(struct th_inst *in, struct xtcpd_ctx *ctx, const struct th_plugin *p,
		      const char *const *kv);
/* stop + destroy the plugin's instance only (the handle stays readable). */
void th_inst_destroy_obj(struct th_inst *in);
#define th_inst_destroy_sink th_inst_destroy_obj
/* stop + destroy, and free the handle and configuration. */
void th_inst_destroy(struct th_inst *in);

/* Run `cmd` through sh -c, read its stdout into a malloc'ed buffer (*len bytes). */
char *th_run(const char *cmd, size_t *len);

#endif
