/* stats — cycle counters and the duration histogram, process CPU/RSS/threads, pool
 * statistics, build info, and readiness: ready once a cycle completed and the last one
 * is not overdue (older than two periods). */
#include "config.h"
#include "ops/stats.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ops/clock.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "ops/xtcp2_metrics.h"
#include "pipeline/pool.h"
#include "ops/threads.h"
#ifdef XTCPD_WITH_HTTPD
#include "ops/httpd.h"
#endif

static struct {
	_Atomic uint64_t *cycles, *overruns, *errors, *namespaces, *last_cycle;
	struct metrics_hist *duration;
	_Atomic int64_t last_done_ms;
	_Atomic int64_t frequency_ms;
	_Atomic int64_t last_duration_ns;
#ifdef XTCPD_WITH_HTTPD
	struct httpd *http;
#endif
} st;

/* Families must be contiguous: one pass per family. */
static void collect_pool_family(void *arg, struct pool *p)
{
	struct { struct metrics_buf *out; const char *fam; } *a = arg;
	struct pool_stats s;
	unsigned long long v;
	char name[512];

	pool_stats(p, &s);
	if (!strcmp(a->fam, "capacity"))
		v = s.capacity;
	else if (!strcmp(a->fam, "in_use"))
		v = s.in_use;
	else if (!strcmp(a->fam, "high_water"))
		v = s.high_water;
	else
		v = s.misses;
	metrics_escape(name, sizeof(name), pool_name(p));
	metrics_printf(a->out, "xtcpd_pool_%s{pool=\"%s\"} %llu\n", a->fam, name, v);
}

static void collect(void *arg, struct metrics_buf *out)
{
	static const char *const fams[][3] = {
		{ "capacity", "gauge", "Objects in the pool" },
		{ "in_use", "gauge", "Objects currently taken from the pool" },
		{ "high_water", "gauge", "Most objects ever taken at once" },
		{ "misses_total", "counter", "Gets that found the pool empty" },
	};
	struct rusage ru;
	long rss_pages = 0, threads = 0;
	FILE *f;

	for (size_t i = 0; i < 4; i++) {
		struct { struct metrics_buf *out; const char *fam; } a = { out, fams[i][0] };
		metrics_printf(out, "# HELP xtcpd_pool_%s %s\n# TYPE xtcpd_pool_%s %s\n", fams[i][0],
			    fams[i][2], fams[i][0], fams[i][1]);
		pool_foreach(collect_pool_family, &a);
	}
	getrusage(RUSAGE_SELF, &ru);
	metrics_printf(out, "# HELP xtcpd_process_cpu_seconds_total User and system CPU time\n"
		    "# TYPE xtcpd_process_cpu_seconds_total counter\n"
		    "xtcpd_process_cpu_seconds_total %.6f\n",
		    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%*s %ld", &rss_pages) != 1)
			rss_pages = 0;
		fclose(f);
	}
	f = fopen("/proc/self/stat", "r");
	if (f) {
		/* field 20 is num_threads; comm (field 2) has no spaces for us */
		if (fscanf(f, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %ld",
			   &threads) != 1)
			threads = 0;
		fclose(f);
	}
	metrics_printf(out, "# HELP xtcpd_process_resident_memory_bytes Resident set size\n"
		    "# TYPE xtcpd_process_resident_memory_bytes gauge\n"
		    "xtcpd_process_resident_memory_bytes %ld\n", rss_pages * sysconf(_SC_PAGESIZE));
	metrics_printf(out, "# HELP xtcpd_threads Threads of the process\n# TYPE xtcpd_threads gauge\n"
		    "xtcpd_threads %ld\n", threads);
	/* Beside the duration histogram, so a dashboard can draw a cycle against its budget. */
	metrics_printf(out, "# HELP xtcpd_poll_frequency_seconds Configured time between two cycles\n"
		    "# TYPE xtcpd_poll_frequency_seconds gauge\n"
		    "xtcpd_poll_frequency_seconds %.3f\n"
		    "# HELP xtcpd_poll_last_duration_seconds Duration of the last completed cycle\n"
		    "# TYPE xtcpd_poll_last_duration_seconds gauge\n"
		    "xtcpd_poll_last_duration_seconds %.6f\n",
		    (double)atomic_load(&st.frequency_ms) / 1e3,
		    (double)atomic_load(&st.last_duration_ns) / 1e9);
}

void stats_set_conf(const struct conf *c)
{
	atomic_store(&st.frequency_ms, c->core[CK_FREQUENCY].num);
}

int stats_ready(char *reason, size_t n)
{
	int64_t last = atomic_load(&st.last_done_ms), freq = atomic_load(&st.frequency_ms);

	if (!last) {
		snprintf(reason, n, "no poll cycle has completed yet\n");
		return 0;
	}
	if (clock_mono_ms() - last > 2 * freq + 1000) {
		snprintf(reason, n, "last poll cycle completed %lld ms ago, more than 2 x frequency\n",
			 (long long)(clock_mono_ms() - last));
		return 0;
	}
	snprintf(reason, n, "ready\n");
	return 1;
}

#ifdef XTCPD_WITH_HTTPD
static int http_metrics(void *arg, char **buf, size_t *len, size_t *cap)
{
	struct metrics_buf b = { *buf, 0, *cap };
	int rc = metrics_render(&b);

	*buf = b.buf;
	*len = b.len;
	*cap = b.cap;
	return rc;
}

static int http_ready(void *arg, char *reason, size_t n)
{
	return stats_ready(reason, n);
}
#endif

int stats_start(const struct conf *c)
{
	static const double bounds[] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };
	char lab[128], ver[64];

	stats_set_conf(c);
	metrics_escape(ver, sizeof(ver), PACKAGE_VERSION);
	snprintf(lab, sizeof(lab), "version=\"%s\"", ver);
	metrics_set(metrics_get(XTCPD_METRIC_GAUGE, "xtcpd_build_info", lab, "Build information"), 1);
	st.cycles = metrics_get(XTCPD_METRIC_COUNTER, "xtcpd_poll_cycles_total", NULL, "Poll cycles run");
	st.overruns = metrics_get(XTCPD_METRIC_COUNTER, "xtcpd_poll_overruns_total", NULL, "Poll cycles that took longer than frequency");
	st.errors = metrics_get(XTCPD_METRIC_COUNTER, "xtcpd_poll_errors_total", NULL, "Poll cycles in which a source reported an error");
	st.namespaces = metrics_get(XTCPD_METRIC_GAUGE, "xtcpd_namespaces_known", NULL, "Network namespaces known (polled in the last cycle unless skipped)");
	st.last_cycle = metrics_get(XTCPD_METRIC_GAUGE, "xtcpd_poll_last_cycle", NULL, "Sequence number of the last completed cycle");
	st.duration = metrics_histogram("xtcpd_poll_duration_seconds", NULL, "Duration of poll cycles", bounds,
					sizeof(bounds) / sizeof(bounds[0]));
	metrics_add_collector(collect, NULL);
	metrics_add_collector(threads_collect, NULL);
	if (c->core[CK_XTCP2_METRICS].num)
		xtcp2_metrics_start();  /* xtcp2's families, for its dashboards */
#ifdef XTCPD_WITH_HTTPD
	const char *listen = c->core[CK_PROM_LISTEN].str;
	if (listen && *listen) {
		struct httpd_handlers h = { .arg = NULL, .metrics = http_metrics, .ready = http_ready };
		int rc = httpd_open(listen, &h, &st.http);
		if (rc) {
			log_err("[core] prom_listen: %s", httpd_error());
			return rc;
		}
		if (httpd_any(st.http))
			log_warn("[core] prom_listen = %s listens on every interface: /metrics, /healthz "
				 "and /readyz are reachable from the network (use 127.0.0.1:%d to keep them "
				 "local)", listen, httpd_port(st.http));
	}
#endif
	return 0;
}

int stats_serve(void)
{
#ifdef XTCPD_WITH_HTTPD
	if (st.http && httpd_serve(st.http)) {
		log_err("[core] %s", httpd_error());
		return -EIO;
	}
	if (st.http && !httpd_nobody(st.http) && geteuid() == 0)
		log_warn("the HTTP thread runs as root (without capabilities): no CAP_SETUID to make "
			 "it nobody");
#endif
	return 0;
}

void stats_cycle_done(uint64_t seq, int64_t duration_ns, int rc, size_t n_ns, int overrun)
{
	metrics_add(st.cycles, 1);
	if (overrun)
		metrics_add(st.overruns, 1);
	if (rc)
		metrics_add(st.errors, 1);
	metrics_set(st.namespaces, n_ns);
	metrics_set(st.last_cycle, seq);
	metrics_observe(st.duration, (double)duration_ns / 1e9);
	xtcp2_metrics_cycle(duration_ns);
	atomic_store(&st.last_duration_ns, duration_ns);
	atomic_store(&st.last_done_ms, clock_mono_ms());
}

void stats_stop(void)
{
#ifdef XTCPD_WITH_HTTPD
	httpd_stop(st.http);
	st.http = NULL;
#endif
	memset(&st, 0, sizeof(st));
}
