/* daemon_reload — configuration generations: build one beside the running pipeline
 * (uplinks and LLDP read, threads counted against max_threads), swap it in on SIGHUP or a
 * control service's request (a new configuration text, a new frequency), and publish the
 * effective configuration for the control services' readers. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/daemon_int.h"
#include "ops/clock.h"
#include "ops/control.h"
#include "ops/lldp.h"
#include "ops/log.h"
#include "ops/stats.h"
#include "ops/uplink.h"
#include "netns/netns.h"
#include "pipeline/pipeline.h"
#include "pipeline/reload.h"

/* Build (beside `old`, adopting its unchanged instances) and start the pipeline of
 * configuration c. On failure the new parts are undone and old is untouched. */
int daemon_build(struct daemon *d, struct conf *c, struct plugin_set *ps, struct pipeline *old,
		 struct pipeline **out)
{
	struct pipeline_opts po = { .capture_dir = d->o->capture_dir, .daemon_version = PACKAGE_VERSION };
	struct uplink_set *up = NULL;
	int nic = c->core[CK_ENRICH_NIC].num != 0, lldp = c->core[CK_ENRICH_LLDP].num != 0;
	unsigned threads;
	int rc;

	if (nic || lldp) {
		if ((rc = uplink_read(c->core[CK_ENRICH_ROOT].str, c->core[CK_UPLINK_INTERFACES].str,
				      (unsigned)c->core[CK_UPLINK_COUNT].num, nic, &up)))
			return rc;
		/* bounded (LLDP_TIMEOUT_MS), never fatal: counted, logged, fields left empty */
		if (lldp && up->n)
			lldp_read(c->core[CK_LLDPD_SOCKET].str, up);
		uplink_log(up, nic, lldp);
		for (unsigned i = 0; i < up->n; i++)
			po.uplink[i] = &up->nic[i].pub;
	}
	rc = pipeline_create(c, ps, &po, old, out);

	if (!rc) {
		/* the Docker client's thread too (netns/docker.c); LLDP is read here, on none */
		threads = pipeline_threads(*out) + (c->core[CK_PROM_LISTEN].str && *c->core[CK_PROM_LISTEN].str) +
			  (c->core[CK_ENRICH_DOCKER].num != 0);
		if (threads > (unsigned)c->core[CK_MAX_THREADS].num) {
			log_err("configuration needs %u threads (main, readers, sinks, metrics, docker), above "
				"max_threads = %lld: lower the readers (netlinkers) or raise max_threads",
				threads, (long long)c->core[CK_MAX_THREADS].num);
			rc = -E2BIG;
		}
	}
	if (!rc)
		rc = pipeline_start(*out);
	if (rc) {
		pipeline_destroy(*out);
		*out = NULL;
		uplink_free(up);
		return rc;
	}
	/* The running pipeline's records point at the old set until the swap. */
	d->up_next = up;
	return 0;
}

void daemon_tear_down(struct daemon *d, int timeout_ms)
{
	int left = pipeline_stop(d->pl, timeout_ms);

	if (left)
		log_warn("%d batches were not delivered", left);
	daemon_ns_stop(d);
	pipeline_destroy(d->pl);
	d->pl = NULL;
}

void daemon_generation_free(struct conf *c, struct plugin_set *ps)
{
	if (c) {
		conf_free(c);
		free(c);
	}
	if (ps) {
		plugin_set_fini(ps);
		free(ps);
	}
}

/* Parse and check everything into a new generation: 0, or -errno with the message in
 * (*c)->err. */
int daemon_load_generation(const struct daemon_opts *o, struct conf **c, struct plugin_set **ps)
{
	*c = calloc(1, sizeof(**c));
	*ps = calloc(1, sizeof(**ps));
	if (!*c || !*ps)
		return -ENOMEM;
	return daemon_load_conf(o, *c, *ps);
}

static void swap_in(struct daemon *d, struct conf *nc, struct plugin_set *nps, struct pipeline *np,
		    const char *why);

/* SIGHUP: check, build beside the running pipeline, swap. Any failure before the swap
 * keeps the running pipeline (its sinks reopen their outputs, as SIGHUP asks). */
void daemon_reload(struct daemon *d)
{
	struct conf *nc;
	struct plugin_set *nps;
	struct pipeline *np;
	int rc;

	rc = daemon_load_generation(d->o, &nc, &nps);
	if (rc) {
		log_err("SIGHUP: new configuration refused, keeping the running one: %s",
			nc && nc->err[0] ? nc->err : log_errstr(rc));
		goto keep;
	}
	if ((rc = daemon_build(d, nc, nps, d->pl, &np))) {
		log_err("SIGHUP: the new configuration failed to start (%s): keeping the running one",
			log_errstr(rc));
		goto keep;
	}
	swap_in(d, nc, nps, np, "SIGHUP");
	return;
keep:
	daemon_generation_free(nc, nps);
	pipeline_reopen(d->pl);
}

/* The effective configuration, for the control services' readers. */
void daemon_publish_conf(const struct conf *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	conf_print(f, c);
	if (!fclose(f))
		control_publish(text);
	free(text);
}

/* The swap of a reload (SIGHUP or a control request): np was built beside the running
 * pipeline from nc. Cannot fail. */
static void swap_in(struct daemon *d, struct conf *nc, struct plugin_set *nps, struct pipeline *np,
		    const char *why)
{
	struct xtcpd_netns *const *list = NULL;
	struct reload_ns view = { .arg = d, .refused = daemon_ns_refused };
	struct reload_stats st;
	int ns_moved;

	if (d->ns)
		view.n = netns_mgr_list(d->ns, &list);
	view.list = list;
	ns_moved = daemon_ns_changed(d->conf, nc);
	reload_swap(d->pl, np, (int)d->conf->core[CK_SHUTDOWN_TIMEOUT].num, &view, &st);
	d->pl = np;
	uplink_free(d->up);  /* no lane emits with the old pipeline any more */
	d->up = d->up_next;
	d->up_next = NULL;
	if (st.undelivered)
		log_warn("%s: %d batches of the retired sinks were not delivered", why, st.undelivered);
	if (!st.stuck)  /* else a stuck sink may still read its configuration */
		daemon_generation_free(d->conf, d->ps);
	d->conf = nc;
	d->ps = nps;
	stats_set_conf(d->conf);
	log_setup(d->conf->core[CK_LOG_TARGET].num ? LOG_TARGET_SYSLOG : LOG_TARGET_STDERR,
		  daemon_log_levels[d->conf->core[CK_LOG_LEVEL].num]);
	if (ns_moved) {  /* other folders, scans or enrichment: find the namespaces again */
		daemon_ns_stop(d);
		daemon_ns_start(d);
	}
	daemon_publish_conf(d->conf);
	log_info("%s: configuration reloaded: %u instances kept, %u new, %u retired", why,
		 st.kept, st.created, st.retired);
}

#define CONTROL_ORIGIN "control service"

/* A configuration given by a control service: the path of a SIGHUP, from text instead
 * of the files (and without the command line's overrides: the text is the effective
 * configuration). The caller learns the outcome once it is known, before the swap. */
static void apply_text(struct daemon *d, const char *text, size_t len)
{
	struct conf *nc = calloc(1, sizeof(*nc));
	struct plugin_set *nps = calloc(1, sizeof(*nps));
	struct pipeline *np;
	char msg[1100];
	int rc = -ENOMEM;

	snprintf(msg, sizeof(msg), "out of memory");
	if (!nc || !nps)
		goto refused;
	if ((rc = conf_load_text(nc, CONTROL_ORIGIN, text, len)) ||
	    (rc = conf_keep_hidden(nc, d->conf)) || (rc = daemon_check_conf(nc, nps))) {
		snprintf(msg, sizeof(msg), "%s", nc->err[0] ? nc->err : log_errstr(rc));
		goto refused;
	}
	if (strcmp(nps->dir, d->ps->dir)) {
		rc = -EPERM;
		snprintf(msg, sizeof(msg), "%s: [core] plugin_dir: cannot be changed by a control "
			 "service (only by the files and a SIGHUP)", CONTROL_ORIGIN);
		goto refused;
	}
	if ((rc = daemon_build(d, nc, nps, d->pl, &np))) {
		snprintf(msg, sizeof(msg), "the new configuration failed to start (%s): keeping the "
			 "running one", log_errstr(rc));
		goto refused;
	}
	daemon_publish_conf(nc);  /* what the caller reads back once it is told */
	control_done(0, NULL);
	swap_in(d, nc, nps, np, CONTROL_ORIGIN);
	return;
refused:
	log_err("%s: new configuration refused, keeping the running one: %s", CONTROL_ORIGIN, msg);
	control_done(rc, msg);
	daemon_generation_free(nc, nps);
}

/* A new frequency and timeout, in the running configuration (--print-config shows where
 * they came from); the next cycle is due one new frequency after the last one started. */
static int set_frequency(struct daemon *d, int64_t freq_ms, int64_t timeout_ms, int64_t *next)
{
	char f[32], t[32];
	int64_t now = clock_mono_ns();

	if (!timeout_ms)
		timeout_ms = freq_ms - freq_ms / 10;
	snprintf(f, sizeof(f), "%lldms", (long long)freq_ms);
	snprintf(t, sizeof(t), "%lldms", (long long)timeout_ms);
	if (conf_set_core(d->conf, CK_FREQUENCY, freq_ms, f, CONTROL_ORIGIN) ||
	    conf_set_core(d->conf, CK_TIMEOUT, timeout_ms, t, CONTROL_ORIGIN))
		return -ENOMEM;
	stats_set_conf(d->conf);
	daemon_publish_conf(d->conf);
	*next = (d->sched_start_ns ? d->sched_start_ns : now) + freq_ms * 1000000LL;
	if (*next < now)
		*next = now;
	log_info("%s: frequency %s, timeout %s", CONTROL_ORIGIN, f, t);
	return 0;
}

void daemon_serve_control(struct daemon *d, int64_t *next)
{
	struct control_request r;

	while (control_take(&r)) {
		if (r.kind == CONTROL_FREQUENCY)
			control_done(set_frequency(d, r.frequency_ms, r.timeout_ms, next), NULL);
		else if (r.kind == CONTROL_APPLY)
			apply_text(d, r.text, r.len);
		else
			control_done(-EINVAL, "unknown request");
	}
}
