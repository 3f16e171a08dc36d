/* conf_keys — the core's own key tables and the parsing of one value by its declared type. */
#include "config.h"
#include "conf/conf.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DAY_MS (86400LL * 1000)

const struct xtcpd_key conf_core_keys[] = {
	[CK_FREQUENCY] = { "frequency", XTCPD_KEY_DURATION, "10s", 100, DAY_MS, NULL, 0,
			   "time between the starts of two poll cycles" },
	[CK_TIMEOUT] = { "timeout", XTCPD_KEY_DURATION, NULL, 10, DAY_MS, NULL, 0,
			 "longest a cycle may take; must be below frequency (default 9/10 of it)" },
	[CK_MAX_LOOPS] = { "max_loops", XTCPD_KEY_INT, "0", 0, INT64_MAX, NULL, 0,
			   "stop after this many cycles (0 = run forever)" },
	[CK_HOSTNAME] = { "hostname", XTCPD_KEY_STRING, NULL, 0, 255, NULL, 0,
			  "hostname written in every record (default: the system's)" },
	[CK_LABEL] = { "label", XTCPD_KEY_STRING, NULL, 0, 255, NULL, 0, "label written in every record" },
	[CK_TAG] = { "tag", XTCPD_KEY_STRING, NULL, 0, 255, NULL, 0, "tag written in every record" },
	[CK_LOCATION] = { "location", XTCPD_KEY_STRING, NULL, 0, 255, NULL, 0,
			  "location written in every record" },
	[CK_PLUGIN_DIR] = { "plugin_dir", XTCPD_KEY_STRING, PLUGINDIR, 1, 4095, NULL, 0,
			    "folder the plugins are loaded from (env XTCPD_PLUGIN_DIR overrides the default)" },
	[CK_LOG_LEVEL] = { "log_level", XTCPD_KEY_ENUM, "info", 0, 0, "error|warning|info|debug", 0,
			   "least severe level logged" },
	[CK_LOG_TARGET] = { "log_target", XTCPD_KEY_ENUM, "stderr", 0, 0, "stderr|syslog", 0,
			    "where log lines go" },
	[CK_PROM_LISTEN] = { "prom_listen", XTCPD_KEY_STRING, "127.0.0.1:9088", 0, 255, NULL, 0,
			     "address:port of the /metrics, /healthz and /readyz endpoint ('' = off)" },
	[CK_NETNS] = { "netns", XTCPD_KEY_ENUM, "all", 0, 0, "all|host", 0,
		       "collect every network namespace, or only the daemon's own" },
	[CK_NETNS_DIRS] = { "netns_dirs", XTCPD_KEY_STRING, "/run/netns:/run/docker/netns", 0, 4095,
			    NULL, 0, "':'-separated folders of namespace bind mounts (watched with inotify)" },
	[CK_NETNS_PROC_SCAN] = { "netns_proc_scan", XTCPD_KEY_BOOL, "true", 0, 0, NULL, 0,
				 "also find namespaces through /proc/<pid>/ns/net" },
	[CK_RECONCILE_INTERVAL] = { "reconcile_interval", XTCPD_KEY_DURATION, "10s", 100, DAY_MS,
				    NULL, 0, "full rescan of namespaces; gone ones are released within it" },
	[CK_CPUS] = { "cpus", XTCPD_KEY_STRING, NULL, 0, 1023, NULL, 0,
		      "CPU list the daemon's threads are confined to, e.g. 0-3,8 (default all)" },
	[CK_MAX_THREADS] = { "max_threads", XTCPD_KEY_INT, "64", 4, 1024, NULL, 0,
			     "refuse a configuration that needs more threads than this" },
	[CK_NICE] = { "nice", XTCPD_KEY_INT, "0", -20, 19, NULL, 0, "scheduling niceness of the daemon" },
	[CK_POOL_WAIT] = { "pool_wait", XTCPD_KEY_DURATION, "100ms", 0, 60000, NULL, 0,
			   "how long a reader waits for a free batch buffer before dropping" },
	[CK_SHUTDOWN_TIMEOUT] = { "shutdown_timeout", XTCPD_KEY_DURATION, "5s", 0, 600000, NULL, 0,
				  "on SIGTERM, how long sinks may take to deliver what is queued" },
	[CK_MAX_NAMESPACES] = { "max_namespaces", XTCPD_KEY_INT, "1024", 1, 1048576, NULL, 0,
				"most network namespaces collected, the host's included; more are left "
				"out, counted and logged" },
	[CK_MAX_NAMESPACES_PER_OWNER] = { "max_namespaces_per_owner", XTCPD_KEY_INT, "64", 0, 1048576,
					  NULL, 0, "most namespaces collected per user owning them "
					  "(unshare -rn makes one); root's are not counted; 0 = no limit" },
	[CK_POLL_JITTER_PCT] = { "poll_jitter_pct", XTCPD_KEY_INT, "0", 0, 100, NULL, 0,
				 "jitter of the poll schedule in percent of frequency, as xtcp2's: each "
				 "interval moves by up to +-pct/2, the first cycle waits up to pct (not "
				 "with --once); 0 = a fixed grid from the start (xtcp2's flags or "
				 "environment make it 20, xtcp2's default)" },
	[CK_XTCP2_METRICS] = { "xtcp2_metrics", XTCPD_KEY_BOOL, "false", 0, 0, NULL, 0,
			       "also serve xtcp2's metric families on /metrics (xtcp_counts, "
			       "xtcp_histograms, xtcp_gauge) for its dashboards; read at start "
			       "(xtcp2's flags or environment make it true)" },
	[CK_TUNING_ADVICE_SOCKETS] = { "tuning_advice_sockets", XTCPD_KEY_INT, "20000", 0, INT64_MAX, NULL, 0,
				       "advise a per-namespace TCP hash table when namespaces share the host's while it holds this many TCP sockets (0 = never)" },
	[CK_TUNING_ADVICE_INTERVAL] = { "tuning_advice_interval", XTCPD_KEY_DURATION, "10m", 1000, DAY_MS, NULL, 0,
					"at most one look at the namespaces' tables and one advice line (only when it changed) per interval" },
	[CK_ENRICH_CONTAINER] = { "enrich_container", XTCPD_KEY_BOOL, "false", 0, 0, NULL, 0,
				  "fill container_id/container_runtime (and the pod_namespace/pod_name "
				  "extensions) from the cgroup of a process in each namespace, at each scan "
				  "(xtcp2's -resolveContainerId)" },
	[CK_ENRICH_DOCKER] = { "enrich_docker", XTCPD_KEY_BOOL, "false", 0, 0, NULL, 0,
			       "also fill container_name/container_image of Docker containers from the "
			       "Docker Engine API on docker_socket; implies enrich_container (xtcp2's "
			       "-enrichContainer)" },
	[CK_DOCKER_SOCKET] = { "docker_socket", XTCPD_KEY_STRING, "/run/docker.sock", 1, 107, NULL, 0,
			       "unix socket of the Docker Engine API, an absolute path (xtcp2's -dockerSocket)" },
	[CK_DOCKER_TIMEOUT] = { "docker_timeout", XTCPD_KEY_DURATION, "2s", 10, 60000, NULL, 0,
				"longest one Docker API request may take (asked off the poll path)" },
	[CK_ENRICH_NIC] = { "enrich_nic", XTCPD_KEY_BOOL, "false", 0, 0, NULL, 0,
			    "fill the uplink1_*/uplink2_* NIC fields (driver, model, PCI ids, bus, "
			    "speed, firmware) from sysfs and ethtool, read at start and on SIGHUP "
			    "(xtcp2's -enrichNic)" },
	[CK_UPLINK_COUNT] = { "uplink_count", XTCPD_KEY_INT, "2", 1, 2, NULL, 0,
			      "uplinks described on each record (xtcp2's -uplinkCount)" },
	[CK_UPLINK_INTERFACES] = { "uplink_interfaces", XTCPD_KEY_STRING, "", 0, 255, NULL, 0,
				   "the uplinks, comma-separated interface names ('' = the interfaces of "
				   "the default routes) (xtcp2's -uplinkInterfaces)" },
	[CK_ENRICH_LLDP] = { "enrich_lldp", XTCPD_KEY_BOOL, "false", 0, 0, NULL, 0,
			     "fill the uplink1_lldp_*/uplink2_lldp_* fields (the neighbour's chassis "
			     "name and id, management address, port id and description) from lldpd, "
			     "read at start and on SIGHUP (xtcp2's -enrichLldp)" },
	[CK_LLDPD_SOCKET] = { "lldpd_socket", XTCPD_KEY_STRING, "/run/lldpd.socket", 1, 107, NULL, 0,
			      "lldpd's control socket, an absolute path; xtcpd must be in its group "
			      "(_lldpd) (xtcp2's -lldpdSocket)" },
	[CK_ENRICH_ROOT] = { "enrich_root", XTCPD_KEY_STRING, "", 0, 1023, NULL, 0,
			     "FOR TESTS ONLY: folder prefixed to /proc/PID/cgroup, /sys/fs/cgroup, "
			     "/var/log/pods, /sys/class/net and pci.ids when enrichment reads them "
			     "('' = none)" },
	[CK__COUNT] = XTCPD_KEYS_END,
};

const struct xtcpd_key conf_source_keys[] = {
	[SRK_FALLBACK] = { "fallback", XTCPD_KEY_STRING, NULL, 0, 255, NULL, 0,
			   "source created in this one's place when its mechanism is unavailable on this host (e.g. netlink); it takes the keys of this section it declares too" },
	[SRK_FLUSH_INTERVAL] = { "flush_interval", XTCPD_KEY_DURATION, "1s", 10, 3600000, NULL, 0,
				 "a source that emits continuously (closed): longest a record waits in a partial batch before it is sent (poll sources flush at each cycle's end)" },
	[SRK__COUNT] = XTCPD_KEYS_END,
};

const struct xtcpd_key conf_marshaller_keys[] = {
	[MK_FLUSH_ROWS] = { "flush_rows", XTCPD_KEY_INT, "10000", 1, 10000000, NULL, 0,
			    "flush a batch when it holds this many records" },
	[MK_FLUSH_BYTES] = { "flush_bytes", XTCPD_KEY_SIZE, "768KiB", 1024, 256LL << 20, NULL, 0,
			     "flush a batch when it reaches this size (also capped by each sink's maximum message)" },
	[MK_BUFFERS] = { "buffers", XTCPD_KEY_INT, "0", 0, 65536, NULL, 0,
			 "batch buffers in the pool (0 = readers x 2 + the sum over its sinks of queue_depth + max_in_flight, + 2)" },
	[MK__COUNT] = XTCPD_KEYS_END,
};

const struct xtcpd_key conf_sink_keys[] = {
	[SK_MARSHALLER] = { "marshaller", XTCPD_KEY_STRING, NULL, 0, 255, NULL, 0,
			    "marshaller instance whose batches this sink sends (default: the only one)" },
	[SK_QUEUE_DEPTH] = { "queue_depth", XTCPD_KEY_INT, "4", 1, 65536, NULL, 0,
			     "batches waiting for this sink before the queue counts as full (each a resident batch buffer)" },
	[SK_QUEUE_FULL] = { "queue_full", XTCPD_KEY_ENUM, "block", 0, 0, "block|drop", 0,
			    "when the queue is full: wait up to queue_block_timeout, or drop at once (counted)" },
	[SK_QUEUE_BLOCK_TIMEOUT] = { "queue_block_timeout", XTCPD_KEY_DURATION, "1s", 0, 60000, NULL, 0,
				     "longest wait for room in a full queue before the batch is dropped" },
	[SK_MAX_IN_FLIGHT] = { "max_in_flight", XTCPD_KEY_INT, "4", 1, 65536, NULL, 0,
			       "batches the sink may hold after send() (awaiting delivery, e.g. kafka); beyond it batches are dropped and counted, so a stalled sink cannot drain the shared buffer pool" },
	[SK__COUNT] = XTCPD_KEYS_END,
};

static const char *type_name(enum xtcpd_key_type t)
{
	switch (t) {
	case XTCPD_KEY_BOOL: return "bool";
	case XTCPD_KEY_INT: return "int";
	case XTCPD_KEY_STRING: return "string";
	case XTCPD_KEY_ENUM: return "enum";
	case XTCPD_KEY_DURATION: return "duration";
	case XTCPD_KEY_SIZE: return "size";
	case XTCPD_KEY_LIST: return "list";
	}
	return "?";
}

/* Is `w` (length n) one of "a|b|c"? Returns its index or -1. */
static int choice_index(const char *choices, const char *w, size_t n)
{
	int idx = 0;

	for (const char *p = choices; p && *p; idx++) {
		const char *e = strchr(p, '|');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && !strncmp(p, w, n))
			return idx;
		if (!e)
			break;
		p = e + 1;
	}
	return -1;
}

/* Digits only (no sign, space, decimals, hex or exponent): 0, or -ERANGE past INT64_MAX.
 * *end is the first byte after them. */
static int parse_digits(const char *s, int64_t *out, const char **end)
{
	int64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (INT64_MAX - (*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	*end = s;
	return 0;
}

static int mul_add(int64_t *acc, int64_t v, int64_t mult)
{
	if (v > (INT64_MAX - *acc) / mult)
		return -ERANGE;
	*acc += v * mult;
	return 0;
}

int conf_parse_duration(const char *s, int64_t *ms)
{
	/* largest first: each unit at most once, in this order ("1m30s", not "30s1m") */
	static const struct { const char *name; int64_t ms; } units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "ms", 1 }, { "m", 60000 }, { "s", 1000 },
	};
	static const int rank[] = { 0, 1, 4, 2, 3 }; /* d > h > m > s > ms */
	int64_t total = 0, v;
	int last = -1, rc;

	if ((rc = parse_digits(s, &v, &s)))
		return rc;
	if (!*s)
		return mul_add(&total, v, 1000) ? -ERANGE : (*ms = total, 0);
	for (;;) {
		size_t i, n = 0;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			n = strlen(units[i].name);
			if (!strncmp(s, units[i].name, n))
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]) || rank[i] <= last)
			return -EINVAL;
		last = rank[i];
		if (mul_add(&total, v, units[i].ms))
			return -ERANGE;
		s += n;
		if (!*s)
			break;
		if ((rc = parse_digits(s, &v, &s)))
			return rc;
	}
	*ms = total;
	return 0;
}

int conf_parse_size(const char *s, int64_t *bytes)
{
	static const char *const sfx[] = { "b", "k", "kb", "kib", "m", "mb", "mib", "g", "gb", "gib" };
	static const int64_t mult[] = { 1, 1 << 10, 1 << 10, 1 << 10, 1 << 20, 1 << 20, 1 << 20,
					1 << 30, 1 << 30, 1 << 30 };
	int64_t v = 0;
	int rc;

	*bytes = 0;
	if ((rc = parse_digits(s, &v, &s)))
		return rc;
	for (size_t i = 0; *s && i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if (!strcasecmp(s, sfx[i]))
			return mul_add(bytes, v, mult[i]) ? -ERANGE : 0;
	if (*s)
		return -EINVAL;
	*bytes = v;
	return 0;
}

static void fmt_range(const struct xtcpd_key *k, char *buf, size_t n)
{
	switch (k->type) {
	case XTCPD_KEY_INT:
		snprintf(buf, n, "%" PRId64 "..%" PRId64, k->min, k->max);
		break;
	case XTCPD_KEY_DURATION:
		snprintf(buf, n, "%" PRId64 "ms..%" PRId64 "ms", k->min, k->max);
		break;
	case XTCPD_KEY_SIZE:
		snprintf(buf, n, "%" PRId64 "..%" PRId64 " bytes", k->min, k->max);
		break;
	case XTCPD_KEY_ENUM:
	case XTCPD_KEY_LIST:
		snprintf(buf, n, "%s", k->choices ? k->choices : "any");
		if (k->choices && strlen(k->choices) >= n && n > 5) {
			/* too long for one message (csv's columns): end after a whole choice */
			char *bar;

			buf[n - 5] = '\0';
			bar = strrchr(buf, '|');
			if (bar)
				memcpy(bar, "|...", 5);
		}
		break;
	case XTCPD_KEY_BOOL:
		snprintf(buf, n, "true|false");
		break;
	case XTCPD_KEY_STRING:
		if (k->max > 0)
			snprintf(buf, n, "up to %" PRId64 " characters", k->max);
		else
			snprintf(buf, n, "text");
		break;
	}
}

int conf_parse_value(const struct xtcpd_key *k, const char *s, struct xtcpd_value *v,
		     char *err, size_t n)
{
	char range[160];
	int64_t num = 0;
	int rc = 0;

	fmt_range(k, range, sizeof(range));
	v->str = s;
	switch (k->type) {
	case XTCPD_KEY_BOOL:
		if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on") || !strcmp(s, "1"))
			num = 1;
		else if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off") || !strcmp(s, "0"))
			num = 0;
		else {
			snprintf(err, n, "'%s' is not a boolean (use true or false)", s);
			return -EINVAL;
		}
		break;
	case XTCPD_KEY_INT: {
		char *end;
		errno = 0;
		long long ll = strtoll(s, &end, 10);
		if (errno || end == s || *end) {
			snprintf(err, n, "'%s' is not an integer (allowed: %s)", s, range);
			return -EINVAL;
		}
		num = ll;
		break;
	}
	case XTCPD_KEY_DURATION:
		rc = conf_parse_duration(s, &num);
		if (rc == -ERANGE)
			break;  /* reported as out of range below */
		if (rc) {
			snprintf(err, n, "'%s' is not a duration (use e.g. 250ms, 10s, 1m30s, 2h; a bare "
				 "number is seconds; allowed: %s)", s, range);
			return -EINVAL;
		}
		break;
	case XTCPD_KEY_SIZE:
		num = 0;
		rc = conf_parse_size(s, &num);
		if (rc == -ERANGE)
			break;
		if (rc) {
			snprintf(err, n, "'%s' is not a size (use e.g. 65536, 64KiB, 1MiB; allowed: %s)", s, range);
			return -EINVAL;
		}
		break;
	case XTCPD_KEY_ENUM:
		num = choice_index(k->choices, s, strlen(s));
		if (num < 0) {
			snprintf(err, n, "'%s' is not allowed (allowed: %s)", s, range);
			return -EINVAL;
		}
		v->num = num;
		return 0;
	case XTCPD_KEY_LIST:
		if (k->choices && *k->choices) {
			for (const char *p = s; *p;) {
				size_t len = strcspn(p, ", ");
				if (len && choice_index(k->choices, p, len) < 0) {
					snprintf(err, n, "'%.*s' is not allowed in the list (allowed: %s)",
						 (int)len, p, range);
					return -EINVAL;
				}
				p += len;
				p += strspn(p, ", ");
			}
		}
		return 0;
	case XTCPD_KEY_STRING:
		if (k->max > 0 && (int64_t)strlen(s) > k->max) {
			snprintf(err, n, "value is %zu characters long (allowed: %s)", strlen(s), range);
			return -EINVAL;
		}
		if (k->min > 0 && (int64_t)strlen(s) < k->min) {
			snprintf(err, n, "value must not be empty");
			return -EINVAL;
		}
		return 0;
	}
	if (rc == -ERANGE || (k->type != XTCPD_KEY_BOOL && (num < k->min || num > k->max))) {
		snprintf(err, n, "'%s' is out of range (allowed: %s)", s, range);
		return -ERANGE;
	}
	v->num = num;
	return 0;
}

void conf_print_keys(FILE *out, const struct xtcpd_key *keys)
{
	char range[160];

	for (const struct xtcpd_key *k = keys; k && k->name; k++) {
		fmt_range(k, range, sizeof(range));
		fprintf(out, "%s%s\t%s\t%s\t%s\t%s%s\n", k->name, (k->flags & XTCPD_KEY_PREFIX) ? "*" : "",
			type_name(k->type), k->def ? (*k->def ? k->def : "''") : "-", range,
			(k->flags & XTCPD_KEY_REQUIRED) ? "(required) " : "", k->help ? k->help : "");
	}
}
