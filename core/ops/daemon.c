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
#include "ops/httpd.h"
#include "ops/jitter.h"
#include "ops/lldp.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "ops/probe.h"
#include "netns/docker.h"
#include "netns/netns.h"
#include "pipeline/pipeline.h"
#include "pipeline/reload.h"
#include "ops/stats.h"
#include "ops/threads.h"
#include "ops/trust.h"
#include "ops/tuning.h"
#include "ops/uplink.h"

/* core.log_level's choices (error|warning|info|debug), in order. */
static const int log_levels[] = { XTCPD_LOG_ERR, XTCPD_LOG_WARN, XTCPD_LOG_INFO, XTCPD_LOG_DEBUG };

static int no_setns; /* no CAP_SYS_ADMIN: only the host namespace can be collected */

/* Exit status when every sink's output closed (a reader that left our pipe): what a
 * filter killed by SIGPIPE reports. */
#define EXIT_NO_OUTPUT (128 + SIGPIPE)

/* One configuration generation: the parsed files and the plugins they loaded. A reload
 * builds the next one beside the running one. */
struct daemon {
	const struct daemon_opts *o;
	struct plugin_set *ps;
	struct conf *conf;
	struct pipeline *pl;
	struct netns_mgr *ns;
	struct docker *docker;          /* enrich_docker's client, NULL when off */
	struct uplink_set *up;          /* enrich_nic: the uplinks records point at */
	struct uplink_set *up_next;     /* those of the pipeline just built, not swapped in */
	_Atomic uint64_t *m_left_out;   /* namespaces the last scan left out for a limit */
	uint64_t seq;
	int64_t sched_start_ns;     /* when the last scheduled cycle started (0: none yet) */
	unsigned fds_per_ns;        /* measured on the first namespace (the host's) */
	unsigned long long nofile;  /* the open-files limit */
	unsigned long long max_ns;  /* namespaces that fit in it (0 = not known yet) */
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

enum ns_event { NS_OPENED, NS_CLOSED, NS_REFUSED, NS_OPEN_FAILED };

/* add = 0 registers the counter (at 0) without counting. */
static void ns_count_n(enum ns_event ev, unsigned add)
{
	static const struct { const char *name, *help; } defs[] = {
		[NS_OPENED] = { "xtcpd_namespaces_opened_total",
				"Network namespaces found and handed to the sources" },
		[NS_CLOSED] = { "xtcpd_namespaces_closed_total",
				"Network namespaces gone (no mount, no process) and released" },
		[NS_REFUSED] = { "xtcpd_namespaces_refused_total",
				 "Network namespaces a source could not use (retried at the next scan)" },
		[NS_OPEN_FAILED] = { "xtcpd_namespaces_open_failed_total",
				     "Network namespaces (or folders of them) that could not be opened, "
				     "e.g. out of file descriptors (retried at the next scan)" },
	};
	metrics_add(metrics_get(XTCPD_METRIC_COUNTER, defs[ev].name, NULL, defs[ev].help), add);
}

static void ns_count(enum ns_event ev)
{
	ns_count_n(ev, 1);
}

/* File descriptors kept out of the namespaces' reach: the endpoint's connections (up to
 * an eighth of a small limit), sinks, logs, the namespace helpers. */
static unsigned long long fd_reserve(const struct daemon *d)
{
	const char *prom = d->conf->core[CK_PROM_LISTEN].str;
	unsigned long long http = prom && *prom ? HTTPD_MAX_CONNECTIONS : 0;

	return 32 + (http < d->nofile / 8 ? http : d->nofile / 8);
}

/* Once the first namespace (the host's) is open, its cost is known: the budget is what
 * the limit leaves after the reserve and what was open before it. */
static void fd_budget(struct daemon *d, unsigned before)
{
	unsigned long long now = tuning_fds_open(), base, room;

	d->fds_per_ns = 1 + (unsigned)(now - before); /* the manager's fd + the sources' */
	base = now - d->fds_per_ns;
	room = d->nofile > base + fd_reserve(d) ? d->nofile - base - fd_reserve(d) : 0;
	d->max_ns = room / d->fds_per_ns > 1 ? room / d->fds_per_ns : 1;
}

static int ns_room_cb(void *arg, size_t n)
{
	struct daemon *d = arg;

	return !d->max_ns || n < d->max_ns;
}

static int ns_add_cb(void *arg, struct xtcpd_netns *ns)
{
	struct daemon *d = arg;
	unsigned before = d->fds_per_ns ? 0 : tuning_fds_open();
	int rc = pipeline_ns_add(d->pl, ns);

	if (!d->fds_per_ns && !rc)
		fd_budget(d, before);
	ns_count(rc ? NS_REFUSED : NS_OPENED);
	if (rc)
		log_ratelimited(ns_add_cb, 60000, XTCPD_LOG_WARN, NULL,
				"namespace %s (inode %llu): source cannot use it: %s", ns->name,
				(unsigned long long)ns->inode, log_errstr(rc));
	return rc;
}

static void ns_limited_cb(void *arg, const char *name, uid_t owner, enum netns_limit why)
{
	static const char *const what[] = { [NETNS_LIMIT_TOTAL] = "max_namespaces",
					    [NETNS_LIMIT_PER_OWNER] = "max_namespaces_per_owner" };
	char lab[64];

	snprintf(lab, sizeof(lab), "limit=\"%s\"", what[why]);
	metrics_add(metrics_get(XTCPD_METRIC_COUNTER, "xtcpd_namespaces_limited_total", lab,
				"Namespaces found but left out for a limit, per scan (retried at the next)"), 1);
	log_ratelimited(ns_limited_cb, 60000, XTCPD_LOG_WARN, NULL,
			"namespace %s (owner uid %d) left out: [core] %s reached", name,
			owner == (uid_t)-1 ? -1 : (int)owner, what[why]);
}

static void ns_del_cb(void *arg, struct xtcpd_netns *ns)
{
	struct daemon *d = arg;

	ns_count(NS_CLOSED);
	pipeline_ns_del(d->pl, ns);
}

static void ns_failed_cb(void *arg, const char *what, int err)
{
	struct daemon *d = arg;

	ns_count(NS_OPEN_FAILED);
	log_ratelimited(ns_failed_cb, 10000, XTCPD_LOG_WARN, NULL,
			"namespace %s: cannot open: %s (open files limit %llu, %u per namespace: room "
			"for %llu; raise LimitNOFILE)", what, log_errstr(err), d->nofile, d->fds_per_ns,
			d->max_ns);
}

/* At start-up: what the open-files limit allows, in namespaces (also a metric). */
static void report_budget(struct daemon *d, unsigned long long from)
{
	unsigned long long cap = d->max_ns;

	if (from != d->nofile)
		log_info("open files: soft limit raised from %llu to %llu (the hard limit)", from, d->nofile);
	/* Said when the limit, not max_namespaces, bounds the namespaces polled. */
	log_msg(cap < (unsigned long long)d->conf->core[CK_MAX_NAMESPACES].num ? XTCPD_LOG_INFO
									      : XTCPD_LOG_DEBUG,
	       "open files: limit %llu, %llu kept for the endpoint and sinks, %u per namespace: "
	       "room for %llu namespaces (%zu now)", d->nofile, fd_reserve(d), d->fds_per_ns, cap,
	       d->ns ? netns_mgr_count(d->ns) : 0);
	metrics_set(metrics_get(XTCPD_METRIC_GAUGE, "xtcpd_namespaces_capacity", NULL,
				"Network namespaces the open-files limit has room for (after a reserve for "
				"the endpoint and sinks), at the file descriptors each costs"), cap);
}

static void ns_refused_cb(void *arg, struct xtcpd_netns *ns, int rc)
{
	ns_count(NS_REFUSED);
	log_ratelimited(ns_add_cb, 60000, XTCPD_LOG_WARN, NULL,
			"namespace %s (inode %llu): source cannot use it: %s", ns->name,
			(unsigned long long)ns->inode, log_errstr(rc));
}

static void netns_conf_of(const struct conf *c, struct netns_conf *nc)
{
	*nc = (struct netns_conf){
		.host_only = c->core[CK_NETNS].num == 1 || no_setns,
		.dirs = c->core[CK_NETNS_DIRS].str,
		.proc_scan = (int)c->core[CK_NETNS_PROC_SCAN].num,
		.reconcile_ms = c->core[CK_RECONCILE_INTERVAL].num,
		.max_namespaces = (size_t)c->core[CK_MAX_NAMESPACES].num,
		.max_per_owner = (size_t)c->core[CK_MAX_NAMESPACES_PER_OWNER].num,
		.enrich_container = c->core[CK_ENRICH_CONTAINER].num || c->core[CK_ENRICH_DOCKER].num,
		.enrich_root = c->core[CK_ENRICH_ROOT].str,
	};
}

/* The namespace manager and what it owns besides: the Docker client. */
static void netns_stop(struct daemon *d)
{
	netns_mgr_destroy(d->ns);
	d->ns = NULL;
	docker_destroy(d->docker);
	d->docker = NULL;
}

static int netns_start(struct daemon *d)
{
	struct netns_ops nops = { .arg = d, .add = ns_add_cb, .del = ns_del_cb, .fail = ns_failed_cb,
				  .room = ns_room_cb, .limited = ns_limited_cb };
	struct netns_conf nc;
	int rc;

	netns_conf_of(d->conf, &nc);
	if (d->conf->core[CK_ENRICH_DOCKER].num && !d->docker) {
		/* Not fatal: records go out without names, the client's metrics say why. */
		rc = docker_create(d->conf->core[CK_DOCKER_SOCKET].str,
				   d->conf->core[CK_DOCKER_TIMEOUT].num, &d->docker);
		if (rc && rc != -ENOENT) /* -ENOENT: no libcurl, docker_create said so */
			log_warn("enrich_docker: no Docker client: %s", log_errstr(rc));
	}
	nc.docker = d->docker;
	for (enum ns_event ev = NS_OPENED; ev <= NS_OPEN_FAILED; ev++)
		ns_count_n(ev, 0);
	if ((rc = netns_mgr_create(&nc, &nops, &d->ns))) {
		log_ratelimited(netns_start, 60000, XTCPD_LOG_ERR, NULL, "namespace manager: %s",
				log_errstr(rc));
		netns_stop(d);
		return rc;
	}
	netns_mgr_reconcile(d->ns); /* a namespace that fails is counted and retried */
	d->m_left_out = metrics_get(XTCPD_METRIC_GAUGE, "xtcpd_namespaces_left_out", NULL,
				    "Namespaces the last scan found but left out for max_namespaces "
				    "or max_namespaces_per_owner");
	metrics_set(d->m_left_out, netns_mgr_limited(d->ns));
	return 0;
}

/* Build (beside `old`, adopting its unchanged instances) and start the pipeline of
 * configuration c. On failure the new parts are undone and old is untouched. */
static int build(struct daemon *d, struct conf *c, struct plugin_set *ps, struct pipeline *old,
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

static void tear_down(struct daemon *d, int timeout_ms)
{
	int left = pipeline_stop(d->pl, timeout_ms);

	if (left)
		log_warn("%d batches were not delivered", left);
	netns_stop(d);
	pipeline_destroy(d->pl);
	d->pl = NULL;
}

static void generation_free(struct conf *c, struct plugin_set *ps)
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
static int load_generation(const struct daemon_opts *o, struct conf **c, struct plugin_set **ps)
{
	*c = calloc(1, sizeof(**c));
	*ps = calloc(1, sizeof(**ps));
	if (!*c || !*ps)
		return -ENOMEM;
	return daemon_load_conf(o, *c, *ps);
}

static int netns_changed(const struct conf *a, const struct conf *b)
{
	struct netns_conf x, y;

	netns_conf_of(a, &x);
	netns_conf_of(b, &y);
	if (x.enrich_container != y.enrich_container ||
	    strcmp(x.enrich_root ? x.enrich_root : "", y.enrich_root ? y.enrich_root : "") ||
	    a->core[CK_ENRICH_DOCKER].num != b->core[CK_ENRICH_DOCKER].num ||
	    a->core[CK_DOCKER_TIMEOUT].num != b->core[CK_DOCKER_TIMEOUT].num ||
	    strcmp(a->core[CK_DOCKER_SOCKET].str, b->core[CK_DOCKER_SOCKET].str))
		return 1;
	return x.host_only != y.host_only || x.proc_scan != y.proc_scan ||
	       x.reconcile_ms != y.reconcile_ms ||
	       x.max_namespaces != y.max_namespaces || x.max_per_owner != y.max_per_owner || strcmp(x.dirs ? x.dirs : "", y.dirs ? y.dirs : "");
}

static void swap_in(struct daemon *d, struct conf *nc, struct plugin_set *nps, struct pipeline *np,
		    const char *why);

/* SIGHUP: check, build beside the running pipeline, swap. Any failure before the swap
 * keeps the running pipeline (its sinks reopen their outputs, as SIGHUP asks). */
static void reload(struct daemon *d)
{
	struct conf *nc;
	struct plugin_set *nps;
	struct pipeline *np;
	int rc;

	rc = load_generation(d->o, &nc, &nps);
	if (rc) {
		log_err("SIGHUP: new configuration refused, keeping the running one: %s",
			nc && nc->err[0] ? nc->err : log_errstr(rc));
		goto keep;
	}
	if ((rc = build(d, nc, nps, d->pl, &np))) {
		log_err("SIGHUP: the new configuration failed to start (%s): keeping the running one",
			log_errstr(rc));
		goto keep;
	}
	swap_in(d, nc, nps, np, "SIGHUP");
	return;
keep:
	generation_free(nc, nps);
	pipeline_reopen(d->pl);
}

/* The effective configuration, for the control services' readers. */
static void publish_conf(const struct conf *c)
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
	struct reload_ns view = { .arg = d, .refused = ns_refused_cb };
	struct reload_stats st;
	int ns_moved;

	if (d->ns)
		view.n = netns_mgr_list(d->ns, &list);
	view.list = list;
	ns_moved = netns_changed(d->conf, nc);
	reload_swap(d->pl, np, (int)d->conf->core[CK_SHUTDOWN_TIMEOUT].num, &view, &st);
	d->pl = np;
	uplink_free(d->up);  /* no lane emits with the old pipeline any more */
	d->up = d->up_next;
	d->up_next = NULL;
	if (st.undelivered)
		log_warn("%s: %d batches of the retired sinks were not delivered", why, st.undelivered);
	if (!st.stuck)  /* else a stuck sink may still read its configuration */
		generation_free(d->conf, d->ps);
	d->conf = nc;
	d->ps = nps;
	stats_set_conf(d->conf);
	log_setup(d->conf->core[CK_LOG_TARGET].num ? LOG_TARGET_SYSLOG : LOG_TARGET_STDERR,
		  log_levels[d->conf->core[CK_LOG_LEVEL].num]);
	if (ns_moved) {  /* other folders, scans or enrichment: find the namespaces again */
		netns_stop(d);
		netns_start(d);
	}
	publish_conf(d->conf);
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
	if ((rc = build(d, nc, nps, d->pl, &np))) {
		snprintf(msg, sizeof(msg), "the new configuration failed to start (%s): keeping the "
			 "running one", log_errstr(rc));
		goto refused;
	}
	publish_conf(nc);  /* what the caller reads back once it is told */
	control_done(0, NULL);
	swap_in(d, nc, nps, np, CONTROL_ORIGIN);
	return;
refused:
	log_err("%s: new configuration refused, keeping the running one: %s", CONTROL_ORIGIN, msg);
	control_done(rc, msg);
	generation_free(nc, nps);
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
	publish_conf(d->conf);
	*next = (d->sched_start_ns ? d->sched_start_ns : now) + freq_ms * 1000000LL;
	if (*next < now)
		*next = now;
	log_info("%s: frequency %s, timeout %s", CONTROL_ORIGIN, f, t);
	return 0;
}

static void serve_control(struct daemon *d, int64_t *next)
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
	no_setns = !r.sys_admin;
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
		netns_start(d);
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
			reload(d);
		else if (sig == CONTROL_SIGNAL)
			serve_control(d, next);
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

	if ((rc = load_generation(o, &d.conf, &d.ps))) {
		fprintf(stderr, "xtcpd: %s\n", d.conf && d.conf->err[0] ? d.conf->err : log_errstr(rc));
		generation_free(d.conf, d.ps);
		return o->healthcheck ? 1 : EXIT_CONFIG;  /* a probe says only ready or not */
	}
	if (o->healthcheck || o->print_config) {
		char err[512];

		rc = 0;
		if (o->print_config)
			conf_print(stdout, d.conf);
		else if ((rc = probe_readyz(d.conf->core[CK_PROM_LISTEN].str, 3000, err, sizeof(err))))
			fprintf(stderr, "xtcpd: healthcheck: %s\n", err);
		generation_free(d.conf, d.ps);
		return rc;
	}
	if (o->check_only) {
		/* Keys and the plugins' checks passed; nothing is created (kafka would connect). */
		printf("configuration OK\n");
		generation_free(d.conf, d.ps);
		return 0;
	}
	/* Before any thread: every thread inherits the mask, and only sigtimedwait here
	 * takes the signals. */
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	log_setup(d.conf->core[CK_LOG_TARGET].num ? LOG_TARGET_SYSLOG : LOG_TARGET_STDERR,
		  log_levels[d.conf->core[CK_LOG_LEVEL].num]);
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
		if ((rc = build(&d, d.conf, d.ps, NULL, &d.pl))) {
			/* a source unavailable here without a fallback is a configuration matter too */
			rc = rc == -E2BIG || rc == XTCPD_ERR_UNAVAILABLE ? EXIT_CONFIG : 1;
			goto out;
		}
		d.up = d.up_next;
		d.up_next = NULL;
		if ((rc = netns_start(&d))) {
			rc = 1;
			goto out;
		}
		report_budget(&d, from);
	}
	pipeline_on_no_output(no_output);
	publish_conf(d.conf);
	run(&d, &set);
	rc = 0;
out:
	control_close();  /* a plugin waiting for the main thread gives up now */
	tear_down(&d, (int)d.conf->core[CK_SHUTDOWN_TIMEOUT].num);
	if (atomic_load(&outputs_gone) && !rc)
		rc = EXIT_NO_OUTPUT;
	pipeline_on_no_output(NULL);
	stats_stop();
	generation_free(d.conf, d.ps);
	uplink_free(d.up);
	metrics_reset();
	return rc;
}
