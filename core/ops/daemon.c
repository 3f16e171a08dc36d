/* daemon — the main thread: loads and validates the configuration, builds the pipeline
 * and the namespace manager, runs a cycle every `frequency` and waits for signals in
 * between with sigtimedwait (signals are blocked in every thread, so no async handler). */
#include "config.h"
#include "ops/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ops/advice.h"
#include "ops/caps.h"
#include "ops/clock.h"
#include "ops/control.h"
#include "ops/jitter.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "ops/probe.h"
#include "netns/netns.h"
#include "pipeline/pipeline.h"
#include "ops/stats.h"
#include "ops/threads.h"
#include "ops/trust.h"
#include "ops/tuning.h"
#include "ops/uplink.h"
#include "ops/daemon_int.h"

/* core.log_level's choices (error|warning|info|debug), in order. */
const int daemon_log_levels[] = { XTCPD_LOG_ERR, XTCPD_LOG_WARN, XTCPD_LOG_INFO, XTCPD_LOG_DEBUG };

int daemon_no_setns; /* no CAP_SYS_ADMIN: only the host namespace can be collected */

/* Exit status when every sink's output closed (a reader that left our pipe): what a
 * filter killed by SIGPIPE reports. */
#define EXIT_NO_OUTPUT (128 + SIGPIPE)


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

/* A plugin's own check of its section (ABI 1.3; none = nothing beyond the key table). */
static int check_of(void *arg, const struct conf_section *s, struct xtcpd_check *res)
{
	const struct plugin *pl;
	char err[600];

	if (plugin_load(arg, (unsigned)s->kind, s->plugin, &pl, err, sizeof(err)) ||
	    !XTCPD_PLUGIN_HAS(pl->desc, check))
		return 0;
	return pl->desc->check(&s->cfg, res);
}

int daemon_load_conf(const struct daemon_opts *o, struct conf *c, struct plugin_set *ps)
{
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = conf_load(c, o->conf_path, o->confdir)))
		return rc;
	if (o->dest && (rc = conf_set_dest(c, o->dest, o->marshal ? o->marshal : "protobufList")))
		return rc;
	if (o->source && (rc = conf_set_source(c, o->source)))
		return rc;
	for (size_t i = 0; i < o->n_overrides; i++)
		if ((rc = conf_override(c, o->overrides[i])))
			return rc;
	if (o->once && (rc = conf_override(c, "core.max_loops=1")))
		return rc;
	return daemon_check_conf(c, ps);
}

int daemon_check_conf(struct conf *c, struct plugin_set *ps)
{
	const char *dir;
	int rc;

	/* The plugin folder must be known before plugins are validated. */
	dir = secure_getenv("XTCPD_PLUGIN_DIR");
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
	if ((rc = conf_validate(c, keys_of, ps)))
		return rc;
	return conf_check_plugins(c, check_of, ps);
}

/* Say what is missing and what that costs (before anything is dropped). */
static void check_caps(void)
{
	struct caps_report r;
	char msg[1024], *line, *save = NULL;
	int rc = caps_check(&r, msg, sizeof(msg));

	if (rc) {
		log_warn("cannot read capabilities: %s", log_errstr(rc));
		return;
	}
	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		log_warn("%s", line);
	daemon_no_setns = !r.sys_admin;
}

/* Keep only what the running daemon needs; `for_http` also keeps, until the next call,
 * what it takes to make the HTTP thread nobody (SETUID, SETGID) and to shrink the
 * bounding set once more afterwards (SETPCAP). Done before any thread starts, so every
 * thread inherits the reduced sets. */
static void drop_caps(int for_http)
{
	static const int runtime[] = CAPS_KEEP_RUNTIME;
	enum { N = sizeof(runtime) / sizeof(runtime[0]) };
	int keep[N + 3];
	size_t n = N;
	int rc;

	memcpy(keep, runtime, sizeof(runtime));
	if (for_http) {
		keep[n++] = CAP_SETUID;
		keep[n++] = CAP_SETGID;
		keep[n++] = CAP_SETPCAP;
	}
	rc = caps_drop_except(keep, n);
	if (rc && rc != -EPERM)  /* -EPERM: no SETPCAP, as under the unit (its bounding set) */
		log_warn("cannot drop capabilities: %s", log_errstr(rc));
}

/* --capture writes predictable names: only into a folder nobody else can write to. */
static int check_capture_dir(const char *dir)
{
	char why[700];
	int fd = trust_open(dir, "folder", TRUST_DIR, why, sizeof(why));

	if (fd < 0) {
		fprintf(stderr, "xtcpd: --capture %s: refused: %s\n", dir, why);
		return -EINVAL;
	}
	close(fd);
	return 0;
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
	struct xtcpd_netns *const *list = NULL;
	size_t n = 0;
	int64_t t0 = clock_mono_ns(), dt;
	int rc;

	control_cycle(1);  /* a poll asked for meanwhile is this one */
	if (!d->ns)  /* a reload could not start it: try again */
		daemon_ns_start(d);
	if (d->ns) {
		netns_mgr_tick(d->ns, t0 / 1000000);
		metrics_set(d->m_left_out, netns_mgr_limited(d->ns));
		n = netns_mgr_list(d->ns, &list);
	}
	rc = pipeline_cycle(d->pl, ++d->seq, list, n, d->conf->core[CK_TIMEOUT].num);
	dt = clock_mono_ns() - t0;
	stats_cycle_done(d->seq, dt, rc, n, dt > d->conf->core[CK_FREQUENCY].num * 1000000LL);
	log_debug("cycle %llu: %zu namespaces in %.1f ms", (unsigned long long)d->seq, n,
		  (double)dt / 1e6);
	if (rc)
		log_ratelimited(d, 60000, XTCPD_LOG_WARN, NULL, "cycle %llu: source error: %s",
				(unsigned long long)d->seq, log_errstr(rc));
	{
		/* At start (the first cycle's cost) and whenever a reconcile changed the set. */
		struct advice_conf ac = { d->conf->core[CK_TUNING_ADVICE_SOCKETS].num,
					  d->conf->core[CK_TUNING_ADVICE_INTERVAL].num };
		advice_cycle(&ac, list, n, dt);
	}
	control_cycle(0);
}

static atomic_int outputs_gone;

/* From the sink thread whose output closed last: stop, as a filter whose reader left. */
static void no_output(void)
{
	atomic_store(&outputs_gone, 1);
	kill(getpid(), SIGTERM);
}

/* Until the next cycle is due at *next or a stopping signal (returned): reloads on
 * SIGHUP, serves control requests (polls asked for, bursts, a new frequency that moves
 * *next, a new configuration), and flushes continuous sources' batches on their
 * flush_interval meanwhile. */
static int wait_cycle(struct daemon *d, const sigset_t *set, int64_t *next)
{
	for (;;) {
		int64_t now = clock_mono_ns(), due = pipeline_tick(d->pl, now), cdue = control_due(now);
		int sig;

		/* A continuous source listens between cycles: namespaces that come and go are
		 * followed at its pace too, not only at the next cycle's start. */
		if (due != INT64_MAX && d->ns)
			netns_mgr_tick(d->ns, clock_mono_ns() / 1000000);
		if (cdue < due)
			due = cdue;
		sig = wait_until(set, due < *next ? due : *next);

		if (sig == SIGHUP)
			daemon_reload(d);
		else if (sig == CONTROL_SIGNAL)
			daemon_serve_control(d, next);
		else if (sig)
			return sig;
		if (control_poll_due(clock_mono_ns()))
			run_cycle(d);
		if (clock_mono_ns() >= *next)
			return 0;
	}
}

/* Wait until *until, reloading on SIGHUP; 1 when SIGTERM/SIGINT says stop. */
static int wait_stop(struct daemon *d, const sigset_t *set, int64_t *until)
{
	int sig;

	sig = wait_cycle(d, set, until);
	if (sig != SIGINT && sig != SIGTERM)
		return 0;
	if (!pipeline_outputs_open())
		log_info("every sink's output is closed: stopping");
	else
		log_info("%s: stopping", strsignal(sig));
	return 1;
}

/* Until max_loops cycles ran or SIGTERM/SIGINT; SIGHUP reloads in between. The schedule
 * is jittered as xtcp2's (core.poll_jitter_pct, jitter.h); --once starts at once. */
static void run(struct daemon *d, const sigset_t *set)
{
	int64_t next = clock_mono_ns();
	uint64_t rnd = (uint64_t)next ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
	const struct xtcpd_value *core = d->conf->core;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd) || !rnd)
		rnd |= 1;
	if (core[CK_MAX_LOOPS].num != 1) {
		next += jitter_start_ns(core[CK_FREQUENCY].num * 1000000LL,
					(unsigned)core[CK_POLL_JITTER_PCT].num, jitter_next(&rnd));
		if (wait_stop(d, set, &next))
			return;
	}
	for (;;) {
		if (!pipeline_outputs_open()) {
			log_info("every sink's output is closed: stopping");
			return;
		}
		d->sched_start_ns = clock_mono_ns();
		run_cycle(d);
		core = d->conf->core;  /* a reload may have changed them */
		if (core[CK_MAX_LOOPS].num && d->seq >= (uint64_t)core[CK_MAX_LOOPS].num)
			return;
		next += jitter_interval_ns(core[CK_FREQUENCY].num * 1000000LL,
					   (unsigned)core[CK_POLL_JITTER_PCT].num, jitter_next(&rnd));
		if (next < clock_mono_ns()) /* overran: start the next cycle now, on a fresh grid */
			next = clock_mono_ns();
		if (wait_stop(d, set, &next))
			return;
	}
}

int daemon_run(const struct daemon_opts *o)
{
	struct daemon d = { .o = o };
	sigset_t set;
	int rc;

	threads_name_self("xtcpd"); /* the main thread: config, schedule, signals */
	umask(027);  /* what the daemon creates is not for others (files it opens say 0640) */
	/* SIGHUP waits for the main loop from the first instruction (its default would kill
	 * us); SIGTERM and SIGINT keep their default, so a start that hangs (a slow name
	 * lookup in a check) still ends on them, until the loop takes them over. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, CONTROL_SIGNAL);  /* a control request: its default would kill us */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A shell starts background jobs with SIGINT ignored; an ignored signal is lost
	 * even while blocked, so the loop would never see it. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);

	if ((rc = daemon_load_generation(o, &d.conf, &d.ps))) {
		fprintf(stderr, "xtcpd: %s\n", d.conf && d.conf->err[0] ? d.conf->err : log_errstr(rc));
		daemon_generation_free(d.conf, d.ps);
		return o->healthcheck ? 1 : EXIT_CONFIG;  /* a probe says only ready or not */
	}
	if (o->healthcheck || o->print_config) {
		char err[512];

		rc = 0;
		if (o->print_config)
			conf_print(stdout, d.conf);
		else if ((rc = probe_readyz(d.conf->core[CK_PROM_LISTEN].str, 3000, err, sizeof(err))))
			fprintf(stderr, "xtcpd: healthcheck: %s\n", err);
		daemon_generation_free(d.conf, d.ps);
		return rc;
	}
	if (o->check_only) {
		/* Keys and the plugins' checks passed; nothing is created (kafka would connect). */
		printf("configuration OK\n");
		daemon_generation_free(d.conf, d.ps);
		return 0;
	}
	/* Before any thread: every thread inherits the mask, and only sigtimedwait here
	 * takes the signals. */
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	log_setup(d.conf->core[CK_LOG_TARGET].num ? LOG_TARGET_SYSLOG : LOG_TARGET_STDERR,
		  daemon_log_levels[d.conf->core[CK_LOG_LEVEL].num]);
	rc = EXIT_CONFIG;
	if (o->capture_dir && check_capture_dir(o->capture_dir))
		goto out;
	{
		char err[300];
		/* threads inherit the CPU list and niceness; a negative nice needs CAP_SYS_NICE */
		if (tuning_apply(d.conf->core[CK_CPUS].str, (int)d.conf->core[CK_NICE].num, err, sizeof(err))) {
			log_err("[core] %s", err);
			goto out;
		}
	}
	/* The endpoint's socket is bound first: it may be a port below 1024. Then the drop,
	 * then its thread, born without capabilities (and as nobody when we are root). */
	control_init(NULL);
	if (stats_start(d.conf))
		goto out;
	check_caps();
	drop_caps(1);
	rc = stats_serve();
	drop_caps(0);
	if (rc) {
		rc = 1;
		goto out;
	}
	{
		unsigned long long from = 0;

		if ((rc = tuning_raise_nofile(&from, &d.nofile)))
			log_warn("cannot raise the open-files limit: %s", log_errstr(rc));
		if ((rc = daemon_build(&d, d.conf, d.ps, NULL, &d.pl))) {
			/* a source unavailable here without a fallback is a configuration matter too */
			rc = rc == -E2BIG || rc == XTCPD_ERR_UNAVAILABLE ? EXIT_CONFIG : 1;
			goto out;
		}
		d.up = d.up_next;
		d.up_next = NULL;
		if ((rc = daemon_ns_start(&d))) {
			rc = 1;
			goto out;
		}
		daemon_report_budget(&d, from);
	}
	pipeline_on_no_output(no_output);
	daemon_publish_conf(d.conf);
	run(&d, &set);
	rc = 0;
out:
	control_close();  /* a plugin waiting for the main thread gives up now */
	daemon_tear_down(&d, (int)d.conf->core[CK_SHUTDOWN_TIMEOUT].num);
	if (atomic_load(&outputs_gone) && !rc)
		rc = EXIT_NO_OUTPUT;
	pipeline_on_no_output(NULL);
	stats_stop();
	daemon_generation_free(d.conf, d.ps);
	uplink_free(d.up);
	metrics_reset();
	return rc;
}
