/* xtcp2_metrics — xtcp2's three families from xtcpd's counters at render time: no second
 * set of counters on the data path. The summary's quantiles are over the last
 * X2_WINDOW cycles (xtcp2's client_golang summary uses a sliding window too). */
#include "config.h"
#include "ops/xtcp2_metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ops/metrics.h"

#define X2_WINDOW 128

static struct {
	pthread_mutex_t lock;
	double win[X2_WINDOW];
	uint64_t n;            /* cycles observed */
	double sum;
} x2 = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* xtcp2's series (function, variable, type) and the xtcpd metric each one is. */
static const struct { const char *fn, *var, *type, *name, *labels; } x2_counts[] = {
	{ "Poller", "ticker", "count", "xtcpd_poll_cycles_total", "" },
	{ "Poller", "complete", "count", "xtcpd_poll_cycles_total", "" },
	{ "Poller", "PollTimeout", "count", "xtcpd_poll_overruns_total", "" },
	{ "Poller", "poll", "error", "xtcpd_poll_errors_total", "" },
	{ "netNamespaceInstance", "start", "count", "xtcpd_namespaces_opened_total", "" },
	{ "netNamespaceInstance", "stop", "count", "xtcpd_namespaces_closed_total", "" },
	{ "netNamespaceInstance", "open", "error", "xtcpd_namespaces_open_failed_total", "" },
	{ "Destination", "produce", "count", "xtcpd_sink_batches_done_total", "result=\"delivered\"" },
	{ "Destination", "produce", "error", "xtcpd_sink_batches_done_total", "result=\"failed\"" },
};

void xtcp2_metrics_cycle(int64_t duration_ns)
{
	double s = (double)duration_ns / 1e9;

	pthread_mutex_lock(&x2.lock);
	x2.win[x2.n % X2_WINDOW] = s;
	x2.n++;
	x2.sum += s;
	pthread_mutex_unlock(&x2.lock);
}

static int x2_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void x2_collect(void *arg, struct metrics_buf *out)
{
	static const double q[] = { 0.5, 0.9, 0.99 };
	double win[X2_WINDOW], sum;
	size_t k;
	uint64_t n;

	(void)arg;
	metrics_printf(out, "# HELP xtcp_counts xtcp2's counters, from xtcpd's (see xtcpd_*)\n"
		       "# TYPE xtcp_counts counter\n");
	for (size_t i = 0; i < sizeof(x2_counts) / sizeof(x2_counts[0]); i++)
		metrics_printf(out, "xtcp_counts{function=\"%s\",variable=\"%s\",type=\"%s\"} %llu\n",
			       x2_counts[i].fn, x2_counts[i].var, x2_counts[i].type,
			       (unsigned long long)metrics_sum_held(x2_counts[i].name,
								    x2_counts[i].labels));
	pthread_mutex_lock(&x2.lock);
	n = x2.n;
	sum = x2.sum;
	k = n < X2_WINDOW ? (size_t)n : X2_WINDOW;
	memcpy(win, x2.win, k * sizeof(double));
	pthread_mutex_unlock(&x2.lock);
	qsort(win, k, sizeof(double), x2_cmp);
	metrics_printf(out, "# HELP xtcp_histograms xtcp2's summaries: poll cycle seconds over the "
		       "last %d cycles\n# TYPE xtcp_histograms summary\n", X2_WINDOW);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		metrics_printf(out, "xtcp_histograms{function=\"Poller\",variable=\"pollToDoneDuration\","
			       "type=\"count\",quantile=\"%g\"} ", q[i]);
		if (k)
			metrics_printf(out, "%.9g\n", win[(size_t)(q[i] * (double)(k - 1) + 0.5)]);
		else
			metrics_printf(out, "NaN\n");
	}
	metrics_printf(out, "xtcp_histograms_sum{function=\"Poller\",variable=\"pollToDoneDuration\","
		       "type=\"count\"} %.9g\n", sum);
	metrics_printf(out, "xtcp_histograms_count{function=\"Poller\",variable=\"pollToDoneDuration\","
		       "type=\"count\"} %llu\n", (unsigned long long)n);
	metrics_printf(out, "# HELP xtcp_gauge xtcp2's gauges, from xtcpd's\n# TYPE xtcp_gauge gauge\n"
		       "xtcp_gauge{function=\"Poller\",variable=\"namespaces\",type=\"gauge\"} %llu\n",
		       (unsigned long long)metrics_sum_held("xtcpd_namespaces_known", ""));
}

void xtcp2_metrics_start(void)
{
	metrics_add_collector(x2_collect, NULL);
}
