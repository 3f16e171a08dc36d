/* compat — rewrites xtcp2's command line (Go flag package syntax: -name value, -name=value,
 * --name either way, booleans only as -name or -name=bool) into xtcpd's options. Pure: no
 * I/O besides the warn callback, so the daemon runs it before anything else. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/compat.h"
#include "conf/conf.h"

enum compat_act {
	ACT_KEY,        /* -o TARGET=VALUE */
	ACT_LONG,       /* TARGET VALUE (a native long option) */
	ACT_FLUSH,      /* -o marshaller.<marshal>.TARGET=VALUE, dropped when VALUE is 0 */
	ACT_COLUMNS,    /* -o marshaller.<marshal>.columns=VALUE with -dest and -marshal csv|tsv */
	ACT_DEST,       /* -o sink.<dest's sink>.<its KEY>=VALUE (conf_dest_param), see below */
	ACT_DEBUG,      /* -d [N]: -o core.log_level=debug (info when N is 0) */
	ACT_VERSION,    /* -v: --version */
	ACT_IGNORE,     /* dropped with a warning naming TARGET (the equivalent) or none */
	ACT_URING,      /* -ioUring: --source io_uring (source.netlink.* keys follow it);
	                 * the batch sizes: -o source.io_uring.TARGET=VALUE, with -ioUring only */
};

enum compat_val {
	VAL_STR,        /* any text */
	VAL_UINT,       /* decimal digits */
	VAL_DUR,        /* Go duration, normalized to what xtcpd reads */
	VAL_BOOL,       /* Go bool flag: takes no separate value */
};

struct compat_opt {
	const char *name;       /* xtcp2's flag name */
	enum compat_act act;
	enum compat_val val;
	const char *target;
};

static const struct compat_opt compat_opts[] = {
	{ "frequency", ACT_KEY, VAL_DUR, "core.frequency" },
	{ "timeout", ACT_KEY, VAL_DUR, "core.timeout" },
	{ "maxLoops", ACT_KEY, VAL_UINT, "core.max_loops" },
	{ "hostname", ACT_KEY, VAL_STR, "core.hostname" },
	{ "label", ACT_KEY, VAL_STR, "core.label" },
	{ "tag", ACT_KEY, VAL_STR, "core.tag" },
	{ "location", ACT_KEY, VAL_STR, "core.location" },
	{ "promListen", ACT_KEY, VAL_STR, "core.prom_listen" },
	{ "netlinkers", ACT_KEY, VAL_UINT, "source.netlink.netlinkers" },
	{ "deserializers", ACT_KEY, VAL_STR, "source.netlink.deserializers" },
	{ "ioUring", ACT_URING, VAL_BOOL, NULL },
	{ "ioUringRecvBatch", ACT_URING, VAL_UINT, "recv_batch" },
	{ "ioUringCqeBatch", ACT_URING, VAL_UINT, "cqe_batch" },
	/* -topic: the destination's topic/subject/channel; without -dest, the configured kafka
	 * sink's topic. -produceTimeout: the http destination's timeout (0 = its default). */
	{ "topic", ACT_DEST, VAL_STR, "sink.kafka.topic" },
	{ "produceTimeout", ACT_DEST, VAL_DUR, NULL },
	{ "dest", ACT_LONG, VAL_STR, "--dest" },
	{ "marshal", ACT_LONG, VAL_STR, "--marshal" },
	{ "envelopeFlushRows", ACT_FLUSH, VAL_UINT, "flush_rows" },
	{ "envelopeFlushBytes", ACT_FLUSH, VAL_UINT, "flush_bytes" },
	{ "columns", ACT_COLUMNS, VAL_STR, "columns" },
	{ "d", ACT_DEBUG, VAL_STR, NULL },
	{ "v", ACT_VERSION, VAL_BOOL, NULL },

	/* xtcp2 options with no direct counterpart: accepted so old unit files start. */
	{ "goMaxProcs", ACT_IGNORE, VAL_STR,
	  "use -o core.cpus=LIST to confine xtcpd's threads, -o core.max_threads=N to cap them" },
	{ "maxThreads", ACT_IGNORE, VAL_STR, "use -o core.max_threads=N" },
	{ "nltimeout", ACT_IGNORE, VAL_STR, "use -o core.timeout=DURATION" },
	{ "capturePath", ACT_IGNORE, VAL_STR, "use --capture DIR" },
	{ "writeFiles", ACT_IGNORE, VAL_STR, "use --capture DIR" },
	{ "promPath", ACT_IGNORE, VAL_STR, "xtcpd serves /metrics, /healthz and /readyz" },
	{ "healthcheck", ACT_IGNORE, VAL_BOOL, "probe http://<core.prom_listen>/readyz" },
	{ "kafkaCompression", ACT_IGNORE, VAL_STR,
	  "set the compression in the kafka sink's section (xtcpd --help-plugin kafka)" },
	{ "conf", ACT_IGNORE, VAL_BOOL, "use -n to check and print the configuration" },
#define NOEQ(n, v) { n, ACT_IGNORE, v, NULL }
	NOEQ("asnDbPath", VAL_STR), NOEQ("asnRefreshInterval", VAL_STR),
	NOEQ("destWriteFiles", VAL_STR),
	NOEQ("dockerSocket", VAL_STR), NOEQ("enrichAsn", VAL_BOOL),
	NOEQ("enrichContainer", VAL_BOOL), NOEQ("enrichLldp", VAL_BOOL),
	NOEQ("enrichLocality", VAL_BOOL), NOEQ("enrichNic", VAL_BOOL),
	NOEQ("grpcListenAddress", VAL_STR), NOEQ("grpcListenNetwork", VAL_STR),
	NOEQ("grpcPort", VAL_STR), NOEQ("grpcUnixSocketMode", VAL_STR),
	NOEQ("grpcUnlinkStaleUnixSocket", VAL_BOOL), NOEQ("ipmetaBootstrapPath", VAL_STR),
	NOEQ("ipmetaCachePath", VAL_STR), NOEQ("ipv4Ttl", VAL_STR),
	NOEQ("ipv6HopLimit", VAL_STR), NOEQ("kafkaSchemaUrl", VAL_STR),
	NOEQ("listenerAuthFailureJitterMax", VAL_STR),
	NOEQ("listenerAuthFailureJitterMin", VAL_STR), NOEQ("listenerAuthMode", VAL_STR),
	NOEQ("listenerHMACSharedKey", VAL_STR), NOEQ("listenerRawToken", VAL_STR),
	NOEQ("listenerSignedSkewMinutes", VAL_STR), NOEQ("lldpdSocket", VAL_STR),
	NOEQ("lldpdVersionHint", VAL_STR), NOEQ("localityRefreshInterval", VAL_STR),
	NOEQ("modulus", VAL_STR), NOEQ("nlmsgSeq", VAL_STR), NOEQ("packetSize", VAL_STR),
	NOEQ("packetSizeMply", VAL_STR), NOEQ("pollJitterPct", VAL_STR),
	NOEQ("populateNsid", VAL_BOOL), NOEQ("profile.mode", VAL_STR),
	NOEQ("promListenNetwork", VAL_STR), NOEQ("promUnixSocketMode", VAL_STR),
	NOEQ("promUnlinkStaleUnixSocket", VAL_BOOL), NOEQ("pyroscopeAppName", VAL_STR),
	NOEQ("pyroscopeSampleHz", VAL_STR), NOEQ("pyroscopeUploadSec", VAL_STR),
	NOEQ("pyroscopeUrl", VAL_STR), NOEQ("reconcileBeforePoll", VAL_BOOL),
	NOEQ("reconcileFrequency", VAL_STR), NOEQ("resolveContainerId", VAL_BOOL),
	NOEQ("s3AccessKey", VAL_STR), NOEQ("s3Bucket", VAL_STR), NOEQ("s3Endpoint", VAL_STR),
	NOEQ("s3FlushInterval", VAL_STR), NOEQ("s3FlushJitterPct", VAL_STR),
	NOEQ("s3FlushThresholdJitterPct", VAL_STR), NOEQ("s3ParquetFlushBytes", VAL_STR),
	NOEQ("s3Prefix", VAL_STR), NOEQ("s3Region", VAL_STR), NOEQ("s3SecretKey", VAL_STR),
	NOEQ("s3SkipBucketProbe", VAL_BOOL), NOEQ("s3UploadBackoffCap", VAL_STR),
	NOEQ("s3UploadMaxAttempts", VAL_STR), NOEQ("uplinkCount", VAL_STR),
	NOEQ("uplinkInterfaces", VAL_STR), NOEQ("xtcpProtoFile", VAL_STR),
#undef NOEQ
};

/* xtcpd's own options whose value is the next argument: never rewrite that value. */
static const char *const compat_native_with_value[] = {
	"-o", "-c", "-C", "--set", "--config", "--confdir", "--help-plugin", "--capture",
};

/* xtcp2's default marshaller: its envelope flush options applied to it. */
#define COMPAT_DEFAULT_MARSHAL "protobufList"

struct compat_out {
	char **argv;
	int argc;
	char *err;
	size_t errn;
	int has_dest;            /* -dest/--dest seen */
	const char *dest;        /* its value (the last one) */
	int marshal_slot;        /* index of the "--marshal" a single-dash -marshal became */
	const char *columns;     /* -columns, applied once -marshal is known */
	int io_uring;            /* -ioUring (true) seen */
};

static int compat_fail(struct compat_out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->errn) {
		va_start(ap, fmt);
		vsnprintf(o->err, o->errn, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int compat_push(struct compat_out *o, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	o->argv[o->argc++] = s;
	return 0;
}

static const struct compat_opt *compat_find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(compat_opts) / sizeof(compat_opts[0]); i++)
		if (strlen(compat_opts[i].name) == len && !memcmp(compat_opts[i].name, name, len))
			return &compat_opts[i];
	return NULL;
}

static int compat_is_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Go's strconv.ParseBool. Returns 1, 0, or -1 when it is not a bool. */
static int compat_parse_bool(const char *s)
{
	static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < 6; i++) {
		if (!strcmp(s, t[i]))
			return 1;
		if (!strcmp(s, f[i]))
			return 0;
	}
	return -1;
}

/* Go's time.ParseDuration ("1m30s", "1.5s", "250ms", "0") into ms. Returns 0 or -EINVAL
 * (malformed, negative, below a millisecond resolution, or too large). */
static int compat_go_duration_ms(const char *s, int64_t *ms)
{
	static const struct { const char *u; int64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
		{ "ms", 1000000 }, { "s", 1000000000LL }, { "m", 60000000000LL },
		{ "h", 3600000000000LL },
	};
	const int64_t cap = INT64_MAX / 10;
	int64_t total = 0;

	if (!strcmp(s, "0")) {
		*ms = 0;
		return 0;
	}
	if (*s == '+')
		s++;
	if (!*s)
		return -EINVAL;
	while (*s) {
		int64_t whole = 0, frac = 0, scale = 1, unit = 0, part;
		const char *start = s;
		size_t ulen = 0;

		for (; *s >= '0' && *s <= '9'; s++) {
			if (whole > cap)
				return -EINVAL;
			whole = whole * 10 + (*s - '0');
		}
		if (*s == '.')
			for (s++; *s >= '0' && *s <= '9'; s++)
				if (scale < 1000000000000LL) {
					frac = frac * 10 + (*s - '0');
					scale *= 10;
				}
		if (s == start || (s == start + 1 && *start == '.'))
			return -EINVAL;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].u);
			/* longest match first matters only for "ms" vs "m": checked in order */
			if (!strncmp(s, units[i].u, l) && l > ulen) {
				ulen = l;
				unit = units[i].ns;
			}
		}
		if (!unit)
			return -EINVAL;
		s += ulen;
		if (whole > INT64_MAX / unit)
			return -EINVAL;
		part = whole * unit + (int64_t)((double)frac * (double)unit / (double)scale);
		if (part > INT64_MAX - total)
			return -EINVAL;
		total += part;
	}
	if (total % 1000000)
		return -EINVAL;
	*ms = total / 1000000;
	return 0;
}

/* Checks and normalizes one value. Durations in xtcpd's own grammar (conf_parse_duration:
 * "10s", "1m30s") pass through; other Go durations ("1.5s", "1h0m") become "<N>ms". */
static int compat_value(struct compat_out *o, const char *dash, const struct compat_opt *opt,
			const char *v, char *buf, size_t n, const char **res)
{
	int64_t ms;

	*res = v;
	switch (opt->val) {
	case VAL_UINT:
		if (!compat_is_digits(v))
			return compat_fail(o, "xtcp2 option %s%s: \"%s\" is not a whole number",
					   dash, opt->name, v);
		return 0;
	case VAL_DUR:
		if (!conf_parse_duration(v, &ms))
			return 0;
		if (compat_go_duration_ms(v, &ms))
			return compat_fail(o, "xtcp2 option %s%s: \"%s\" is not a duration of whole "
					   "milliseconds (like 10s, 1m30s, 250ms)", dash, opt->name, v);
		snprintf(buf, n, "%lldms", (long long)ms);
		*res = buf;
		return 0;
	case VAL_BOOL:
		switch (compat_parse_bool(v)) {
		case 1:
			*res = "true";
			return 0;
		case 0:
			*res = "false";
			return 0;
		}
		return compat_fail(o, "xtcp2 option %s%s: \"%s\" is not true or false", dash,
				   opt->name, v);
	case VAL_STR:
		return 0;
	}
	return 0;
}

/* An option whose target is known only once -marshal / -dest are: a reserved "-o" slot. */
struct compat_flush {
	int slot;                /* index in the output of the "-o" argument's value */
	const struct compat_opt *opt;
	const char *value;       /* borrowed from argv, or the normalized duration */
	char buf[32];            /* normalized duration */
};

/* Handles the xtcp2 option at argv[*i]; advances *i past a consumed value. */
static int compat_one(struct compat_out *o, int argc, char **argv, int *i,
		      const struct compat_opt *opt, const char *dash, const char *eq,
		      struct compat_flush *fl, int *n_fl, const char **marshal,
		      void (*warn)(const char *line))
{
	char buf[32], line[256];
	const char *v = eq ? eq + 1 : NULL;
	struct compat_flush *f;
	int r;

	if (opt->act == ACT_DEBUG) {
		/* xtcp2's -d is an int level; a bare -d (xtcpd's usual spelling) means debug */
		if (!v && *i + 1 < argc && compat_is_digits(argv[*i + 1]))
			v = argv[++*i];
		if (v && !compat_is_digits(v))
			return compat_fail(o, "xtcp2 option %sd: \"%s\" is not a debug level", dash, v);
		if ((r = compat_push(o, "-o")))
			return r;
		return compat_push(o, "core.log_level=%s",
				   v && strspn(v, "0") == strlen(v) ? "info" : "debug");
	}
	if (opt->val == VAL_BOOL && !v)
		v = "true";
	if (!v) {
		if (*i + 1 >= argc)
			return compat_fail(o, "xtcp2 option %s%s needs a value", dash, opt->name);
		v = argv[++*i];
	}
	if (opt->act == ACT_IGNORE) {
		if (warn) {
			snprintf(line, sizeof(line), "ignoring xtcp2 option -%s: %s", opt->name,
				 opt->target ? opt->target : "xtcpd has no equivalent");
			warn(line);
		}
		return 0;
	}
	if ((r = compat_value(o, dash, opt, v, buf, sizeof(buf), &v)))
		return r;
	switch (opt->act) {
	case ACT_KEY:
		if ((r = compat_push(o, "-o")))
			return r;
		return compat_push(o, "%s=%s", opt->target, v);
	case ACT_LONG:
		if (!strcmp(opt->name, "marshal")) {
			if (!strcmp(v, "jsonl"))   /* xtcp2's JSON lines = xtcpd's json */
				v = "json";
			*marshal = v;
			o->marshal_slot = strcmp(dash, "-") ? -1 : o->argc;
		} else {
			o->has_dest = 1;
			o->dest = v;
		}
		if ((r = compat_push(o, "%s", opt->target)))
			return r;
		return compat_push(o, "%s", v);
	case ACT_URING:
		if (opt->val == VAL_BOOL) {
			o->io_uring = !strcmp(v, "true");
			return 0;
		}
		/* the batch sizes: a slot filled once we know whether -ioUring came */
		/* fall through */
	case ACT_FLUSH:
	case ACT_DEST:
		/* xtcp2: a zero count or duration means the daemon's default */
		if (opt->act != ACT_URING && opt->val != VAL_STR &&
		    strspn(v, "0") == strspn(v, "0123456789"))
			return 0;
		if ((r = compat_push(o, "-o")))
			return r;
		f = &fl[(*n_fl)++];
		f->slot = o->argc;
		f->opt = opt;
		snprintf(f->buf, sizeof(f->buf), "%s", v);
		f->value = v == buf ? f->buf : v;
		o->argv[o->argc++] = NULL;        /* filled once -marshal and -dest are known */
		return 0;
	case ACT_COLUMNS:
		o->columns = v;
		return 0;
	case ACT_VERSION:
		return strcmp(v, "true") ? 0 : compat_push(o, "--version");
	default:
		return 0;
	}
}

static void compat_drop_pair(struct compat_out *o, int at)
{
	free(o->argv[at]);
	free(o->argv[at + 1]);
	memmove(&o->argv[at], &o->argv[at + 2], (size_t)(o->argc - at - 2) * sizeof(char *));
	o->argc -= 2;
	o->argv[o->argc] = NULL;
}

/* Fill a reserved "-o" slot now that -marshal and -dest are known; a destination option
 * the destination has no key for stays NULL (dropped by the caller) with a warning. */
static int compat_deferred(struct compat_out *o, struct compat_flush *f, const char *marshal,
			   void (*warn)(const char *line))
{
	enum conf_dest_param which = f->opt->val == VAL_DUR ? CONF_DEST_TIMEOUT : CONF_DEST_TOPIC;
	char target[160], line[256];
	int r;

	if (f->opt->act == ACT_URING && !o->io_uring) {
		if (warn) {
			snprintf(line, sizeof(line), "ignoring xtcp2 option -%s: it applies with -ioUring only",
				 f->opt->name);
			warn(line);
		}
		return 0;
	}
	if (f->opt->act == ACT_URING)
		r = asprintf(&o->argv[f->slot], "source.io_uring.%s=%s", f->opt->target, f->value);
	else if (f->opt->act == ACT_FLUSH)
		r = asprintf(&o->argv[f->slot], "marshaller.%s.%s=%s", marshal, f->opt->target,
			     f->value);
	else if (o->has_dest ? !conf_dest_param(o->dest, which, target, sizeof(target)) :
		 f->opt->target != NULL)
		r = asprintf(&o->argv[f->slot], "%s=%s", o->has_dest ? target : f->opt->target,
			     f->value);
	else {
		if (warn) {
			snprintf(line, sizeof(line), "ignoring xtcp2 option -%s: %s", f->opt->name,
				 o->has_dest ? "the destination does not use it"
					     : "it applies to -dest http:// or https:// only");
			warn(line);
		}
		return 0;
	}
	if (r < 0) {
		o->argv[f->slot] = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* -ioUring: the io_uring source replaces the configured ones (--source io_uring, first),
 * and what -netlinkers and -deserializers set (source.netlink.*) is its. */
static int compat_io_uring(struct compat_out *o)
{
	const char *pre = "source.netlink.";
	char *s;

	for (int i = 2; i < o->argc; i++) {
		if (!o->argv[i] || strncmp(o->argv[i], pre, strlen(pre)) ||
		    (strcmp(o->argv[i - 1], "-o") && strcmp(o->argv[i - 1], "--set")))
			continue;
		if (asprintf(&s, "source.io_uring.%s", o->argv[i] + strlen(pre)) < 0)
			return -ENOMEM;
		free(o->argv[i]);
		o->argv[i] = s;
	}
	memmove(&o->argv[3], &o->argv[1], (size_t)(o->argc - 1) * sizeof(char *));
	o->argc += 2;
	o->argv[o->argc] = NULL;
	o->argv[1] = o->argv[2] = NULL;
	if (!(o->argv[1] = strdup("--source")) || !(o->argv[2] = strdup("io_uring")))
		return -ENOMEM;
	return 0;
}

static int compat_run(struct compat_out *o, int argc, char **argv, struct compat_flush *fl,
		      void (*warn)(const char *line))
{
	const char *marshal = COMPAT_DEFAULT_MARSHAL;
	int n_fl = 0, r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq = NULL, *dash = "-";
		const struct compat_opt *opt = NULL;
		int skip = 0;

		if (!strcmp(a, "--")) {
			for (; i < argc; i++)
				if ((r = compat_push(o, "%s", argv[i])))
					return r;
			break;
		}
		for (size_t k = 0; k < sizeof(compat_native_with_value) / sizeof(char *); k++)
			skip |= !strcmp(a, compat_native_with_value[k]);
		if (a[0] == '-' && a[1]) {
			dash = a[1] == '-' ? "--" : "-";
			name = a + strlen(dash);
			eq = strchr(name, '=');
			opt = compat_find(name, eq ? (size_t)(eq - name) : strlen(name));
		}
		if (!opt) {
			if ((r = compat_push(o, "%s", a)))
				return r;
			if (skip && i + 1 < argc && (r = compat_push(o, "%s", argv[++i])))
				return r;
			continue;
		}
		r = compat_one(o, argc, argv, &i, opt, dash, eq, fl, &n_fl, &marshal, warn);
		if (r)
			return r;
	}
	for (int k = 0; k < n_fl; k++)
		if ((r = compat_deferred(o, &fl[k], marshal, warn)))
			return r;
	/* xtcp2 reads -columns only for csv and tsv (and ignores it otherwise) */
	if (o->columns && o->has_dest && (!strcmp(marshal, "csv") || !strcmp(marshal, "tsv"))) {
		if ((r = compat_push(o, "-o")) ||
		    (r = compat_push(o, "marshaller.%s.columns=%s", marshal, o->columns)))
			return r;
	} else if (o->columns && warn) {
		warn("ignoring xtcp2 option -columns: it picks the columns of -dest with "
		     "-marshal csv or tsv");
	}
	/* xtcp2 took -marshal alone (with its default destination); xtcpd's --marshal only
	 * goes with --dest, so without one the configured marshallers and sinks are used */
	if (o->marshal_slot >= 0 && !o->has_dest) {
		compat_drop_pair(o, o->marshal_slot);
		if (warn)
			warn("ignoring xtcp2 option -marshal without -dest: the configured marshallers "
			     "and sinks are used");
	}
	if (o->io_uring && (r = compat_io_uring(o)))
		return r;
	/* deferred options with nowhere to go: their "-o" and empty slot */
	for (int i = 1; i < o->argc; i++)
		if (!o->argv[i])
			compat_drop_pair(o, i-- - 1);
	return 0;
}

int compat_rewrite(int argc, char **argv, int *out_argc, char ***out_argv, char *err,
		   size_t errn, void (*warn)(const char *line))
{
	struct compat_out o = { .err = err, .errn = errn, .marshal_slot = -1 };
	struct compat_flush *fl;
	int r;

	*out_argv = NULL;
	*out_argc = 0;
	if (argc < 1)
		return compat_fail(&o, "empty command line");
	/* each argument becomes at most two ("-frequency=1s" -> "-o" "core.frequency=1s") */
	o.argv = calloc(2 * (size_t)argc + 1, sizeof(char *));
	fl = calloc((size_t)argc, sizeof(*fl));
	if (!o.argv || !fl) {
		free(o.argv);
		free(fl);
		return -ENOMEM;
	}
	r = compat_push(&o, "%s", argv[0]);
	if (!r)
		r = compat_run(&o, argc, argv, fl, warn);
	free(fl);
	if (r) {
		/* flush placeholders may still be NULL: free every slot handed out */
		for (int i = 0; i < o.argc; i++)
			free(o.argv[i]);
		free(o.argv);
		return r;
	}
	*out_argv = o.argv;
	*out_argc = o.argc;
	return 0;
}

void compat_free(int argc, char **argv)
{
	if (!argv)
		return;
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}
