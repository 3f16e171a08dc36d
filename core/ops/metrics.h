/* metrics — the registry behind /metrics: counters and gauges as atomic slots, fixed
 * bucket histograms, and collectors that render computed families (pools, queues). */
#ifndef XTCPD_METRICS_H
#define XTCPD_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <xtcpd/plugin.h>

/* Returns the slot for name+labels, creating it; NULL on ENOMEM, a type clash or labels
 * that are not name="value" pairs with escaped values (metrics_labels_ok). `name` is the
 * full name (xtcpd_...). Registration allocates; do it at create/start time. */
_Atomic uint64_t *metrics_get(enum xtcpd_metric_type type, const char *name,
			      const char *labels, const char *help);

/* A label value as Prometheus text wants it: \\, \" and \n escaped. Writes at most n
 * bytes (terminated); returns the length it needs. */
size_t metrics_escape(char *dst, size_t n, const char *value);
/* 1 when labels is empty or name="value"(,name="value")* with escaped values. */
int metrics_labels_ok(const char *labels);

struct metrics_hist;
/* labels: NULL or a fixed label set; histograms of one name render as one family. */
struct metrics_hist *metrics_histogram(const char *name, const char *labels, const char *help,
				       const double *bounds, unsigned n_bounds);
void metrics_observe(struct metrics_hist *h, double v);

/* A growable output buffer (the renderer's). */
struct metrics_buf {
	char *buf;
	size_t len, cap;
};
int metrics_printf(struct metrics_buf *b, const char *fmt, ...) XTCPD_PRINTF(2, 3);

/* Collectors run at render time and append whole families. */
typedef void (*metrics_collect_fn)(void *arg, struct metrics_buf *out);
int metrics_add_collector(metrics_collect_fn fn, void *arg);
void metrics_del_collector(metrics_collect_fn fn, void *arg);

/* Render every family in Prometheus text format 0.0.4. */
int metrics_render(struct metrics_buf *out);
/* Value of a registered slot (tests, summaries); 0 if absent. */
uint64_t metrics_value(const char *name, const char *labels);
void metrics_reset(void);  /* free everything (tests, exit) */

static inline void metrics_add(_Atomic uint64_t *m, uint64_t v)
{
	if (m)
		atomic_fetch_add_explicit(m, v, memory_order_relaxed);
}

static inline void metrics_set(_Atomic uint64_t *m, uint64_t v)
{
	if (m)
		atomic_store_explicit(m, v, memory_order_relaxed);
}

#endif
