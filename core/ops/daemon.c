/* daemon — the main thread: loads and validates the configuration, builds the pipeline
 * and the namespace manager, runs a cycle every `frequency` and waits for signals in
 * between with sigtimedwait (signals are blocked in every thread, so no async handler). */
#include "config.h"
#include "ops/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/advice.h"
#include "ops/caps.h"
#include "ops/clock.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "netns/netns.h"
#include "pipeline/pipeline.h"
#include "ops/stats.h"
#include "ops/threads.h"
#include "ops/tuning.h"

/* core.log_level's choices (error|warning|info|debug), in order. */
static const int log_levels[] = { XTCPD_LOG_ERR, XTCPD_LOG_WARN, XTCPD_LOG_INFO, XTCPD_LOG_DEBUG };

static int no_setns; /* no CAP_SYS_ADMIN: only the host namespace can be collected */

struct daemon {
	const struct daemon_opts *o;
	struct plugin_set ps;
	struct conf conf;
	struct pipeline *pl;
	struct netns_mgr *ns;
	uint64_t seq;
};

static const struct xtcpd_key *keys_of(void *arg, enum conf_kind kind, const char *plugin,
				       char *err, size_t n)
{
	struct plugin_set *ps = arg;
	const struct plugin *pl;

	if (plugin_load(ps, (unsigned)kind, plugin, &pl, err, n))
		return NULL;
	if (!pl->desc->keys) {
		static const struct xtcpd_key none[] = { XTCPD_KEYS_END };
		return none;
	}
	return pl->desc->keys;
}

int daemon_load_conf(const struct daemon_opts *o, struct conf *c, struct plugin_set *ps)
{
	const char *dir;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = conf_load(c, o->conf_path, o->confdir)))
		return rc;
	if (o->dest && (rc = conf_set_dest(c, o->dest, o->marshal ? o->marshal : "protobufList")))
		return rc;
	for (size_t i = 0; i < o->n_overrides; i++)
		if ((rc = conf_override(c, o->overrides[i])))
			return rc;
	if (o->once && (rc = conf_override(c, "core.max_loops=1")))
		return rc;
	/* The plugin folder must be known before plugins are validated. */
	dir = getenv("XTCPD_PLUGIN_DIR");
	if (!dir)
		dir = PLUGINDIR;
	{
		struct conf_section *core = conf_find(c, CONF_CORE, NULL);
		for (size_t i = 0; core && i < core->n_entries; i++)
			if (!strcmp(core->entries[i].key, "plugin_dir"))
				dir = core->entries[i].value;
	}
	if (!ps->dir[0] || strcmp(ps->dir, dir)) {
		plugin_set_fini(ps);
		plugin_set_init(ps, dir);
	}
	return conf_validate(c, keys_of, ps);
}

enum ns_event { NS_OPENED, NS_CLOSED, NS_REFUSED };

static void ns_count(enum ns_event ev)
{
	static const struct { const char *name, *help; } defs[] = {
		[NS_OPENED] = { "xtcpd_namespaces_opened_total",
				"Network namespaces found and handed to the sources" },
		[NS_CLOSED] = { "xtcpd_namespaces_closed_total",
				"Network namespaces gone (no mount, no process) and released" },
		[NS_REFUSED] = { "xtcpd_namespaces_refused_total",
				 "Network namespaces a source could not use (retried at the next scan)" },
	};
	metrics_add(metrics_get(XTCPD_METRIC_COUNTER, defs[ev].name, NULL, defs[ev].help), 1);
}

static int ns_add_cb(void *arg, struct xtcpd_netns *ns)
{
	struct daemon *d = arg;
	int rc = pipeline_ns_add(d->pl, ns);

	ns_count(rc ? NS_REFUSED : NS_OPENED);
	if (rc)
		log_ratelimited(ns_add_cb, 60000, XTCPD_LOG_WARN, NULL,
				"namespace %s (inode %llu): source cannot use it: %s", ns->name,
				(unsigned long long)ns->inode, log_errstr(rc));
	return rc;
}

static void ns_del_cb(void *arg, struct xtcpd_netns *ns)
{
	struct daemon *d = arg;

	ns_count(NS_CLOSED);
	pipeline_ns_del(d->pl, ns);
}

/* Build and start everything from d->conf. */
static int bring_up(struct daemon *d)
{
	const struct conf *c = &d->conf;
	struct pipeline_opts po = { .capture_dir = d->o->capture_dir, .daemon_version = PACKAGE_VERSION };
	struct netns_conf nc = {
		.host_only = c->core[CK_NETNS].num == 1 || no_setns,
		.dirs = c->core[CK_NETNS_DIRS].str,
		.proc_scan = (int)c->core[CK_NETNS_PROC_SCAN].num,
		.reconcile_ms = c->core[CK_RECONCILE_INTERVAL].num,
	};
	struct netns_ops nops = { .arg = d, .add = ns_add_cb, .del = ns_del_cb };
	unsigned threads;
	int rc;

	if ((rc = pipeline_create(&d->conf, &d->ps, &po, &d->pl)))
		return rc;
	threads = pipeline_threads(d->pl) + (c->core[CK_PROM_LISTEN].str && *c->core[CK_PROM_LISTEN].str);
	if (threads > (unsigned)c->core[CK_MAX_THREADS].num) {
		log_err("configuration needs %u threads (main, readers, sinks, metrics), above "
			"max_threads = %lld: lower the readers (netlinkers) or raise max_threads",
			threads, (long long)c->core[CK_MAX_THREADS].num);
		return -E2BIG;
	}
	if ((rc = pipeline_start(d->pl)))
		return rc;
	if ((rc = netns_mgr_create(&nc, &nops, &d->ns))) {
		log_err("namespace manager: %s", log_errstr(rc));
		return rc;
	}
	netns_mgr_reconcile(d->ns); /* a namespace that fails is counted and retried */
	return 0;
}

static void tear_down(struct daemon *d, int timeout_ms)
{
	int left = pipeline_stop(d->pl, timeout_ms);

	if (left)
		log_warn("%d batches were not delivered", left);
	netns_mgr_destroy(d->ns);
	d->ns = NULL;
	pipeline_destroy(d->pl);
	d->pl = NULL;
}

static void reload(struct daemon *d)
{
	struct conf nc;
	int rc;

	rc = daemon_load_conf(d->o, &nc, &d->ps);
	if (rc) {
		log_err("SIGHUP: new configuration refused, keeping the running one: %s", nc.err);
		conf_free(&nc);
		pipeline_reopen(d->pl);
		return;
	}
	log_info("SIGHUP: configuration reloaded");
	tear_down(d, (int)d->conf.core[CK_SHUTDOWN_TIMEOUT].num);
	conf_free(&d->conf);
	d->conf = nc;
	stats_set_conf(&d->conf);
	if ((rc = bring_up(d))) {
		log_err("SIGHUP: the new configuration failed to start (%s); exiting", log_errstr(rc));
		exit(1);
	}
}

/* Say what is missing and what that costs, then keep only what the running daemon
 * needs. Done before any thread starts, so every thread inherits the reduced sets. */
static void check_caps(const struct conf *c)
{
	static const int keep[] = CAPS_KEEP_RUNTIME;
	struct caps_report r;
	char msg[1024], *line, *save = NULL;
	int rc = caps_check(&r, msg, sizeof(msg));

	if (rc) {
		log_warn("cannot read capabilities: %s", log_errstr(rc));
		return;
	}
	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		log_warn("%s", line);
	no_setns = !r.sys_admin;
	rc = caps_drop_except(keep, sizeof(keep) / sizeof(keep[0]));
	if (rc && rc != -EPERM)
		log_warn("cannot drop capabilities: %s", log_errstr(rc));
}

/* Wait until `until` (CLOCK_MONOTONIC ns) or a signal; returns the signal or 0. A
 * signal already pending is taken even when the time has passed (an overrunning daemon
 * must still stop on SIGTERM). */
static int wait_until(const sigset_t *set, int64_t until)
{
	for (;;) {
		int64_t left = until - clock_mono_ns();
		struct timespec ts = { 0, 0 };
		int sig;

		if (left > 0) {
			ts.tv_sec = left / 1000000000LL;
			ts.tv_nsec = left % 1000000000LL;
		}
		sig = sigtimedwait(set, NULL, &ts);
		if (sig > 0)
			return sig;
		if (errno == EAGAIN)
			return 0;
	}
}

static void run_cycle(struct daemon *d)
{
	struct xtcpd_netns *const *list;
	size_t n;
	int64_t t0 = clock_mono_ns(), dt;
	int rc;

	netns_mgr_tick(d->ns, t0 / 1000000);
	n = netns_mgr_list(d->ns, &list);
	rc = pipeline_cycle(d->pl, ++d->seq, list, n, d->conf.core[CK_TIMEOUT].num);
	dt = clock_mono_ns() - t0;
	stats_cycle_done(d->seq, dt, rc, n, dt > d->conf.core[CK_FREQUENCY].num * 1000000LL);
	log_debug("cycle %llu: %zu namespaces in %.1f ms", (unsigned long long)d->seq, n,
		  (double)dt / 1e6);
	if (rc)
		log_ratelimited(d, 60000, XTCPD_LOG_WARN, NULL, "cycle %llu: source error: %s",
				(unsigned long long)d->seq, log_errstr(rc));
	{
		/* At start (the first cycle's cost) and whenever a reconcile changed the set. */
		struct advice_conf ac = { d->conf.core[CK_TUNING_ADVICE_SOCKETS].num,
					  d->conf.core[CK_TUNING_ADVICE_INTERVAL].num };
		advice_cycle(&ac, list, n, dt);
	}
}

int daemon_run(const struct daemon_opts *o)
{
	struct daemon d = { .o = o };
	sigset_t set;
	int64_t next;
	int rc, sig = 0;

	threads_name_self("xtcpd"); /* the main thread: config, schedule, signals */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (daemon_load_conf(o, &d.conf, &d.ps)) {
		fprintf(stderr, "xtcpd: %s\n", d.conf.err);
		conf_free(&d.conf);
		plugin_set_fini(&d.ps);
		return EXIT_CONFIG;
	}
	if (o->check_only) {
		/* Keys are checked; plugins are not created (kafka would connect). */
		printf("configuration OK\n");
		conf_free(&d.conf);
		plugin_set_fini(&d.ps);
		return 0;
	}
	log_setup(d.conf.core[CK_LOG_TARGET].num ? LOG_TARGET_SYSLOG : LOG_TARGET_STDERR,
		  log_levels[d.conf.core[CK_LOG_LEVEL].num]);
	/* The endpoint first: it may bind a port below 1024; its thread drops its own
	 * capabilities before serving. */
	if ((rc = stats_start(&d.conf))) {
		rc = EXIT_CONFIG;
		goto out;
	}
	check_caps(&d.conf);
	{
		char err[300];
		if (tuning_apply(d.conf.core[CK_CPUS].str, (int)d.conf.core[CK_NICE].num, err, sizeof(err))) {
			log_err("[core] %s", err);
			rc = EXIT_CONFIG;
			goto out;
		}
	}
	if ((rc = bring_up(&d))) {
		/* a source unavailable here without a fallback is a configuration matter too */
		rc = rc == -E2BIG || rc == XTCPD_ERR_UNAVAILABLE ? EXIT_CONFIG : 1;
		goto out;
	}
	next = clock_mono_ns();
	while (!d.conf.core[CK_MAX_LOOPS].num || d.seq < (uint64_t)d.conf.core[CK_MAX_LOOPS].num) {
		run_cycle(&d);
		if (d.conf.core[CK_MAX_LOOPS].num && d.seq >= (uint64_t)d.conf.core[CK_MAX_LOOPS].num)
			break;
		next += d.conf.core[CK_FREQUENCY].num * 1000000LL;
		if (next < clock_mono_ns()) /* overran: start the next cycle now, on a fresh grid */
			next = clock_mono_ns();
		while ((sig = wait_until(&set, next)) == SIGHUP)
			reload(&d);
		if (sig == SIGINT || sig == SIGTERM) {
			log_info("%s: stopping", strsignal(sig));
			break;
		}
	}
	rc = 0;
out:
	tear_down(&d, (int)d.conf.core[CK_SHUTDOWN_TIMEOUT].num);
	stats_stop();
	conf_free(&d.conf);
	plugin_set_fini(&d.ps);
	metrics_reset();
	return rc;
}
