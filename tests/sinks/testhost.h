/* testhost — a stand-in for the daemon's host table, so sink tests can drive a plugin
 * through its real ops table (dlopen of the built .so): metrics are plain atomics the
 * test reads back, buf_release records what came back (and catches double releases),
 * configuration values are parsed from "key=value" strings by the plugin's key table. */
#ifndef XTCPD_TEST_TESTHOST_H
#define XTCPD_TEST_TESTHOST_H

#include <stddef.h>
#include <stdint.h>

#include <xtcpd/plugin.h>

struct th_plugin {
	void *dl;
	const struct xtcpd_plugin *desc;
	const struct xtcpd_sink_ops *ops;
};

extern const struct xtcpd_host th_host;

/* dlopen $XTCPD_PLUGIN_DIR/sink_NAME.so; 0 or -1 (message printed). */
int th_load(const char *name, struct th_plugin *p);
void th_unload(struct th_plugin *p);

/* Configuration from a NULL-terminated list of "key=value"; NULL on a bad key/value. */
struct xtcpd_config *th_config(const struct xtcpd_plugin *p, const char *instance,
			       const char *const *kv);
void th_config_free(struct xtcpd_config *cfg);

/* One instance's handle: its metrics, logs and released buffers. */
struct xtcpd_ctx *th_ctx_new(const char *name);
void th_ctx_free(struct xtcpd_ctx *ctx);
/* A metric's value; UINT64_MAX when the plugin never registered it. */
uint64_t th_metric(struct xtcpd_ctx *ctx, const char *name, const char *labels);
/* Sum of one metric over all its label sets. */
uint64_t th_metric_sum(struct xtcpd_ctx *ctx, const char *name);

/* A heap batch holding data (with `off` bytes of headroom); freed on release. */
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

struct th_logs {
	unsigned lines;       /* lines printed through log and log_ratelimited */
	unsigned suppressed;  /* log_ratelimited calls that were held back */
};
void th_logs_get(struct xtcpd_ctx *ctx, struct th_logs *l);
/* The text of the last line logged. */
void th_last_log(struct xtcpd_ctx *ctx, char *out, size_t n);

/* One sink instance made through the ops table: create (+ start). */
struct th_inst {
	struct xtcpd_ctx *ctx;
	struct xtcpd_config *cfg;
	void *sink;
	const struct xtcpd_sink_ops *ops;
};
/* Returns create's (or start's) result, or -EINVAL if the configuration did not parse. */
int th_inst_create(struct th_inst *in, struct th_plugin *p, const char *const *kv);
/* stop + destroy the sink only (the handle stays readable). */
void th_inst_destroy_sink(struct th_inst *in);
/* stop + destroy, and free the handle and configuration. */
void th_inst_destroy(struct th_inst *in);

/* Run `cmd` through sh -c, read its stdout into a malloc'ed buffer (*len bytes). */
char *th_run(const char *cmd, size_t *len);

#endif
