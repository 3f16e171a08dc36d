/* metrics — registry and Prometheus text rendering. Slots are allocated at registration
 * and never move, so the data path updates them with one relaxed atomic add. */
#include "config.h"
#include "ops/metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct metric {
	struct metric *next;
	enum xtcpd_metric_type type;
	char *name, *labels, *help;
	_Atomic uint64_t value;
};

struct metrics_hist {
	struct metrics_hist *next;
	char *name, *help, *labels;
	unsigned n;
	double *bounds;
	_Atomic uint64_t *counts;  /* n + 1 (last is +Inf) */
	_Atomic uint64_t sum_micro; /* sum in millionths */
};

struct collector {
	struct collector *next;
	metrics_collect_fn fn;
	void *arg;
};

static struct metric *metrics, **metrics_tail = &metrics;
static struct metrics_hist *hists;
static struct collector *collectors;
static pthread_mutex_t mlock = PTHREAD_MUTEX_INITIALIZER;

static void hist_free(struct metrics_hist *h)
{
	free(h->name);
	free(h->help);
	free(h->labels);
	free(h->bounds);
	free(h->counts);
	free(h);
}

static void metric_free(struct metric *m)
{
	free(m->name);
	free(m->labels);
	free(m->help);
	free(m);
}

static int streq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

size_t metrics_escape(char *dst, size_t n, const char *value)
{
	size_t len = 0, w = 0;

	for (const char *p = value; *p; p++) {
		const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
		size_t k = esc ? 2 : 1;

		if (w == len && w + k < n) {   /* never half an escape: stop at the first miss */
			memcpy(dst + w, esc ? esc : p, k);
			w += k;
		}
		len += k;
	}
	if (n)
		dst[w] = '\0';
	return len;
}

/* name="value"(,name="value")*, names [a-zA-Z_][a-zA-Z0-9_]*, values escaped: anything
 * else would let a value end the label set and write a line of its own. */
int metrics_labels_ok(const char *labels)
{
	const char *p = labels;

	if (!p || !*p)
		return 1;
	for (;;) {
		size_t name = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789");

		if (!name || (*p >= '0' && *p <= '9') || p[name] != '=' || p[name + 1] != '"')
			return 0;
		for (p += name + 2; *p != '"'; p++) {
			if (!*p || *p == '\n')
				return 0;
			if (*p == '\\' && p[1] != '\\' && p[1] != '"' && p[1] != 'n')
				return 0;
			if (*p == '\\')
				p++;
		}
		if (!*++p)
			return 1;
		if (*p++ != ',')
			return 0;
	}
}

_Atomic uint64_t *metrics_get(enum xtcpd_metric_type type, const char *name,
			      const char *labels, const char *help)
{
	struct metric *m;

	if (!metrics_labels_ok(labels))
		return NULL;

	pthread_mutex_lock(&mlock);
	for (m = metrics; m; m = m->next)
		if (streq(m->name, name) && streq(m->labels, labels))
			break;
	if (m) {
		pthread_mutex_unlock(&mlock);
		return m->type == type ? &m->value : NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m) {
		m->type = type;
		m->name = strdup(name);
		m->labels = strdup(labels ? labels : "");
		m->help = strdup(help ? help : name);
		if (!m->name || !m->labels || !m->help) {
			metric_free(m);
			m = NULL;
		} else {
			*metrics_tail = m;
			metrics_tail = &m->next;
		}
	}
	pthread_mutex_unlock(&mlock);
	return m ? &m->value : NULL;
}

struct metrics_hist *metrics_histogram(const char *name, const char *labels, const char *help,
				       const double *bounds, unsigned n)
{
	struct metrics_hist *h, **tail;

	if (!metrics_labels_ok(labels))
		return NULL;
	pthread_mutex_lock(&mlock); /* same name + labels again (a reload): the same one */
	for (h = hists; h; h = h->next)
		if (streq(h->name, name) && streq(h->labels, labels))
			break;
	pthread_mutex_unlock(&mlock);
	if (h)
		return h;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->name = strdup(name);
	h->help = strdup(help);
	h->labels = strdup(labels ? labels : "");
	h->bounds = calloc(n, sizeof(double));
	h->counts = calloc(n + 1, sizeof(*h->counts));
	if (!h->name || !h->help || !h->labels || !h->bounds || !h->counts) {
		hist_free(h);
		return NULL;
	}
	memcpy(h->bounds, bounds, n * sizeof(double));
	h->n = n;
	pthread_mutex_lock(&mlock);
	for (tail = &hists; *tail; tail = &(*tail)->next)
		;
	*tail = h;
	pthread_mutex_unlock(&mlock);
	return h;
}

void metrics_observe(struct metrics_hist *h, double v)
{
	unsigned i;

	if (!h)
		return;
	for (i = 0; i < h->n && v > h->bounds[i]; i++)
		;
	atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_micro, (uint64_t)(v * 1e6), memory_order_relaxed);
}

int metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		/* Two calls, not one with a NULL-or-buffer argument: GCC (profile-guided
		 * inlining) warned of a NULL destination with room. */
		n = b->buf ? vsnprintf(b->buf + b->len, room, fmt, ap) : vsnprintf(NULL, 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return 0;
		}
		size_t ncap = b->cap ? b->cap * 2 : 4096;
		while (ncap - b->len <= (size_t)n)
			ncap *= 2;
		char *nb = realloc(b->buf, ncap);
		if (!nb)
			return -ENOMEM;
		b->buf = nb;
		b->cap = ncap;
	}
}

int metrics_add_collector(metrics_collect_fn fn, void *arg)
{
	struct collector *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->arg = arg;
	pthread_mutex_lock(&mlock);
	c->next = collectors;
	collectors = c;
	pthread_mutex_unlock(&mlock);
	return 0;
}

void metrics_del_collector(metrics_collect_fn fn, void *arg)
{
	pthread_mutex_lock(&mlock);
	for (struct collector **cp = &collectors; *cp; cp = &(*cp)->next)
		if ((*cp)->fn == fn && (*cp)->arg == arg) {
			struct collector *c = *cp;
			*cp = c->next;
			free(c);
			break;
		}
	pthread_mutex_unlock(&mlock);
}

static void render_family(struct metrics_buf *out, struct metric *first)
{
	metrics_printf(out, "# HELP %s %s\n# TYPE %s %s\n", first->name, first->help, first->name,
		    first->type == XTCPD_METRIC_COUNTER ? "counter" : "gauge");
	for (struct metric *m = first; m; m = m->next) {
		if (strcmp(m->name, first->name))
			continue;
		metrics_printf(out, "%s%s%s%s %llu\n", m->name, *m->labels ? "{" : "", m->labels,
			    *m->labels ? "}" : "",
			    (unsigned long long)atomic_load_explicit(&m->value, memory_order_relaxed));
	}
}

static void render_hist(struct metrics_buf *out, struct metrics_hist *h)
{
	const char *sep = *h->labels ? "," : "";
	uint64_t cum = 0;

	for (unsigned i = 0; i <= h->n; i++) {
		cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
		if (i < h->n)
			metrics_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", h->name, h->labels, sep,
				    h->bounds[i], (unsigned long long)cum);
		else
			metrics_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", h->name, h->labels, sep,
				    (unsigned long long)cum);
	}
	metrics_printf(out, "%s_sum%s%s%s %.6f\n%s_count%s%s%s %llu\n", h->name, *h->labels ? "{" : "",
		    h->labels, *h->labels ? "}" : "", (double)atomic_load(&h->sum_micro) / 1e6, h->name,
		    *h->labels ? "{" : "", h->labels, *h->labels ? "}" : "", (unsigned long long)cum);
}

int metrics_render(struct metrics_buf *out)
{
	pthread_mutex_lock(&mlock);
	for (struct metric *m = metrics; m; m = m->next) {
		struct metric *p;

		for (p = metrics; p != m && strcmp(p->name, m->name); p = p->next)
			;
		if (p == m) /* first of its family */
			render_family(out, m);
	}
	for (struct metrics_hist *h = hists; h; h = h->next) {
		struct metrics_hist *p;

		for (p = hists; p != h && strcmp(p->name, h->name); p = p->next)
			;
		if (p != h)
			continue; /* rendered with the first of its family */
		metrics_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", h->name, h->help, h->name);
		for (p = h; p; p = p->next)
			if (!strcmp(p->name, h->name))
				render_hist(out, p);
	}
	for (struct collector *c = collectors; c; c = c->next)
		c->fn(c->arg, out);
	pthread_mutex_unlock(&mlock);
	return out->buf ? 0 : metrics_printf(out, "%s", "");
}

uint64_t metrics_value(const char *name, const char *labels)
{
	uint64_t v = 0;

	pthread_mutex_lock(&mlock);
	for (struct metric *m = metrics; m; m = m->next)
		if (streq(m->name, name) && streq(m->labels, labels)) {
			v = atomic_load(&m->value);
			break;
		}
	pthread_mutex_unlock(&mlock);
	return v;
}

void metrics_reset(void)
{
	pthread_mutex_lock(&mlock);
	while (metrics) {
		struct metric *m = metrics;
		metrics = m->next;
		metric_free(m);
	}
	metrics_tail = &metrics;
	while (hists) {
		struct metrics_hist *h = hists;
		hists = h->next;
		hist_free(h);
	}
	while (collectors) {
		struct collector *c = collectors;
		collectors = c->next;
		free(c);
	}
	pthread_mutex_unlock(&mlock);
}
