/* compat — rewrites xtcp2's command line (Go flag package syntax: -name value, -name=value,
 * --name either way, booleans only as -name or -name=bool), and through compat_env.c its
 * environment and XTCP_CONFIG_JSON, into xtcpd's options. Pure: no I/O besides the warn
 * callback, so the daemon runs it before anything else. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/compat.h"
#include "conf/compat_int.h"
#include "conf/conf.h"

static const struct compat_opt compat_opts[] = {
	{ "frequency", ACT_KEY, VAL_DUR, "core.frequency" },
	{ "timeout", ACT_KEY, VAL_DUR, "core.timeout" },
	{ "maxLoops", ACT_KEY, VAL_UINT, "core.max_loops" },
	{ "pollJitterPct", ACT_KEY, VAL_UINT, "core.poll_jitter_pct" },
	{ "hostname", ACT_KEY, VAL_STR, "core.hostname" },
	{ "label", ACT_KEY, VAL_STR, "core.label" },
	{ "tag", ACT_KEY, VAL_STR, "core.tag" },
	{ "location", ACT_KEY, VAL_STR, "core.location" },
	{ "promListen", ACT_KEY, VAL_STR, "core.prom_listen" },
	{ "reconcileFrequency", ACT_KEY0, VAL_DUR, "core.reconcile_interval" },
	{ "maxThreads", ACT_THREADS, VAL_UINT, "core.max_threads" },
	{ "netlinkers", ACT_KEY, VAL_UINT, "source.netlink.netlinkers" },
	{ "deserializers", ACT_DESER, VAL_STR, "source.netlink.deserializers" },
	{ "packetSize", ACT_PKT, VAL_UINT, "source.netlink.recv_buffer" },
	{ "packetSizeMply", ACT_PKT, VAL_UINT, "source.netlink.recv_buffer" },
	{ "ioUring", ACT_URING, VAL_BOOL, NULL },
	{ "ioUringRecvBatch", ACT_URING, VAL_UINT, "recv_batch" },
	{ "ioUringCqeBatch", ACT_URING, VAL_UINT, "cqe_batch" },
	/* -topic: the destination's topic/subject/channel (default xtcp); without -dest, the
	 * configured kafka sink's topic. -produceTimeout: the http destination's timeout. */
	{ "topic", ACT_TOPIC, VAL_STR, "sink.kafka.topic" },
	{ "produceTimeout", ACT_PTIMEOUT, VAL_DUR, NULL },
	{ "kafkaCompression", ACT_KCOMP, VAL_STR, "sink.kafka.compression" },
	{ "dest", ACT_DEST, VAL_STR, "--dest" },
	{ "marshal", ACT_MARSHAL, VAL_STR, "--marshal" },
	{ "envelopeFlushRows", ACT_FLUSH, VAL_UINT, "flush_rows" },
	{ "envelopeFlushBytes", ACT_FLUSH, VAL_UINT, "flush_bytes" },
	{ "columns", ACT_COLUMNS, VAL_STR, "columns" },
	{ "writeFiles", ACT_WFILES, VAL_UINT, "--capture" },
	{ "capturePath", ACT_CAPDIR, VAL_STR, "--capture" },
	{ "d", ACT_DEBUG, VAL_UINT, "core.log_level" },
	{ "v", ACT_NATIVE, VAL_BOOL, "--version" },
	{ "conf", ACT_NATIVE, VAL_BOOL, "--print-config" },
	{ "healthcheck", ACT_NATIVE, VAL_BOOL, "--healthcheck" },
	{ "grpcPort", ACT_SOFT, VAL_UINT, "sink.grpc.port" },
	/* enrichment: the container of each namespace, Docker names, the uplinks' NICs and
	 * LLDP neighbours */
	{ "resolveContainerId", ACT_KEY, VAL_BOOL, "core.enrich_container" },
	{ "enrichContainer", ACT_KEY, VAL_BOOL, "core.enrich_docker" },
	{ "dockerSocket", ACT_KEY, VAL_STR, "core.docker_socket" },
	{ "enrichNic", ACT_KEY, VAL_BOOL, "core.enrich_nic" },
	{ "uplinkCount", ACT_KEY0, VAL_UINT, "core.uplink_count" },
	{ "uplinkInterfaces", ACT_KEY, VAL_STR, "core.uplink_interfaces" },
	{ "enrichLldp", ACT_KEY, VAL_BOOL, "core.enrich_lldp" },
	{ "lldpdSocket", ACT_KEY, VAL_STR, "core.lldpd_socket" },

	/* xtcp2 options with no direct counterpart: accepted so old unit files start. */
	{ "goMaxProcs", ACT_IGNORE, VAL_STR,
	  "use -o core.cpus=LIST to confine xtcpd's threads, -o core.max_threads=N to cap them" },
	{ "nltimeout", ACT_IGNORE, VAL_STR, "use -o core.timeout=DURATION" },
	{ "promPath", ACT_IGNORE, VAL_STR, "xtcpd serves /metrics, /healthz and /readyz" },
	{ "lldpdVersionHint", ACT_IGNORE, VAL_STR,
	  "xtcpd asks lldpd through liblldpctl, whose API is the same for every lldpd version" },
	{ "reconcileBeforePoll", ACT_IGNORE, VAL_BOOL,
	  "xtcpd scans for namespaces every core.reconcile_interval and at each cycle" },
#define NOEQ(n, v) { n, ACT_IGNORE, v, NULL }
	NOEQ("asnDbPath", VAL_STR), NOEQ("asnRefreshInterval", VAL_STR),
	NOEQ("destWriteFiles", VAL_STR),
	NOEQ("enrichAsn", VAL_BOOL),
	NOEQ("enrichLocality", VAL_BOOL),
	NOEQ("grpcListenAddress", VAL_STR), NOEQ("grpcListenNetwork", VAL_STR),
	NOEQ("grpcUnixSocketMode", VAL_STR),
	NOEQ("grpcUnlinkStaleUnixSocket", VAL_BOOL), NOEQ("ipmetaBootstrapPath", VAL_STR),
	NOEQ("ipmetaCachePath", VAL_STR), NOEQ("ipv4Ttl", VAL_STR),
	NOEQ("ipv6HopLimit", VAL_STR), NOEQ("kafkaSchemaUrl", VAL_STR),
	NOEQ("listenerAuthFailureJitterMax", VAL_STR),
	NOEQ("listenerAuthFailureJitterMin", VAL_STR), NOEQ("listenerAuthMode", VAL_STR),
	NOEQ("listenerHMACSharedKey", VAL_STR), NOEQ("listenerRawToken", VAL_STR),
	NOEQ("listenerSignedSkewMinutes", VAL_STR),
	NOEQ("localityRefreshInterval", VAL_STR),
	NOEQ("modulus", VAL_STR), NOEQ("nlmsgSeq", VAL_STR),
	NOEQ("populateNsid", VAL_BOOL), NOEQ("profile.mode", VAL_STR),
	NOEQ("promListenNetwork", VAL_STR), NOEQ("promUnixSocketMode", VAL_STR),
	NOEQ("promUnlinkStaleUnixSocket", VAL_BOOL),
	NOEQ("protobufListLengthDelimit", VAL_BOOL), NOEQ("pyroscopeAppName", VAL_STR),
	NOEQ("pyroscopeSampleHz", VAL_STR), NOEQ("pyroscopeUploadSec", VAL_STR),
	NOEQ("pyroscopeUrl", VAL_STR),
	NOEQ("s3AccessKey", VAL_STR), NOEQ("s3Bucket", VAL_STR), NOEQ("s3Endpoint", VAL_STR),
	NOEQ("s3FlushInterval", VAL_STR), NOEQ("s3FlushJitterPct", VAL_STR),
	NOEQ("s3FlushThresholdJitterPct", VAL_STR), NOEQ("s3ParquetFlushBytes", VAL_STR),
	NOEQ("s3Prefix", VAL_STR), NOEQ("s3Region", VAL_STR), NOEQ("s3SecretKey", VAL_STR),
	NOEQ("s3SkipBucketProbe", VAL_BOOL), NOEQ("s3UploadBackoffCap", VAL_STR),
	NOEQ("s3UploadMaxAttempts", VAL_STR), NOEQ("xtcpProtoFile", VAL_STR),
#undef NOEQ
};

#define N_OPTS (sizeof(compat_opts) / sizeof(compat_opts[0]))

/* xtcpd's own options whose value is the next argument: never rewrite that value. */
static const char *const compat_native_with_value[] = {
	"-o", "-c", "-C", "--set", "--config", "--confdir", "--help-plugin", "--capture",
	"--dest", "--marshal",
};

/* xtcp2's default marshaller and topic; its "default" deserializers: every attribute but
 * meminfo (which sk_mem_info repeats). */
#define COMPAT_DEFAULT_MARSHAL "protobufList"
#define COMPAT_DEFAULT_TOPIC "xtcp"
#define COMPAT_DEFAULT_JITTER "20"
#define COMPAT_DEFAULT_DESER "info,vegas,cong,tos,tc,skmem,shut,dctcp,bbr,classid,cgroup,sockopt"
/* xtcp2's receive buffer: packetSize (0 = the page size) times packetSizeMply (8) */
#define COMPAT_PAGE 4096ULL
#define COMPAT_MPLY 8ULL
#define COMPAT_MAX_THREADS 1024

struct compat_out {
	char **argv, **tail;     /* xtcp2's settings; then xtcpd's own arguments */
	int argc, cap, ntail, tcap;
	char *err;
	size_t errn;
	void (*warn)(const char *line);
	int xtcp2;               /* an xtcp2 setting (other than -d, -v) was given */
	/* settings decided once all are known (the last one given wins) */
	char *dest, *marshal, *topic, *ptimeout, *columns, *deser, *kcomp, *capdir;
	char marshal_where[160];
	const char *native_dest, *native_marshal;
	unsigned long long pkt_size, pkt_mply;
	int pkt_set, wfiles;
	int io_uring;            /* -ioUring (true): the io_uring source */
	char *uring_recv, *uring_cqe, uring_where[2][160]; /* its batch sizes, -ioUring only */
};

const struct compat_opt *compat_opt_at(size_t i)
{
	return i < N_OPTS ? &compat_opts[i] : NULL;
}

int compat_fail(struct compat_out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->errn) {
		va_start(ap, fmt);
		vsnprintf(o->err, o->errn, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void compat_warn(struct compat_out *o, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!o->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	o->warn(line);
}

static int compat_grow(char ***v, int *cap, int n)
{
	char **nv;

	if (n + 2 <= *cap)
		return 0;
	nv = realloc(*v, (size_t)(*cap * 2 + 16) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = *cap * 2 + 16;
	return 0;
}

static int compat_push(struct compat_out *o, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	if (compat_grow(&o->argv, &o->cap, o->argc))
		return -ENOMEM;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	o->argv[o->argc++] = s;
	o->argv[o->argc] = NULL;
	return 0;
}

/* "-o" "KEY=VALUE" */
static int compat_set(struct compat_out *o, const char *key, const char *op, const char *v)
{
	int r = compat_push(o, "-o");

	return r ? r : compat_push(o, "%s%s%s", key, op, v);
}

static int compat_keep(char **slot, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -ENOMEM;
	free(*slot);
	*slot = s;
	return 0;
}

const struct compat_opt *compat_opt_find(const char *name, size_t len)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strlen(compat_opts[i].name) == len && !memcmp(compat_opts[i].name, name, len))
			return &compat_opts[i];
	return NULL;
}

static int compat_tail(struct compat_out *o, const char *a)
{
	if (compat_grow(&o->tail, &o->tcap, o->ntail) || !(o->tail[o->ntail] = strdup(a)))
		return -ENOMEM;
	o->tail[++o->ntail] = NULL;
	return 0;
}

static int compat_pkt(struct compat_out *o, const struct compat_opt *opt, const char *v,
		      const char *where)
{
	unsigned long long n;

	errno = 0;
	n = strtoull(v, NULL, 10);
	if (errno || n > (16ULL << 20))
		return compat_fail(o, "%s: \"%s\" is too large", where, v);
	if (!strcmp(opt->name, "packetSize"))
		o->pkt_size = n;
	else
		o->pkt_mply = n;
	o->pkt_set = 1;
	return 0;
}

int compat_apply(struct compat_out *o, const struct compat_opt *opt, const char *v,
		 const char *where, const char *ignored)
{
	char buf[32];
	int r;

	/* xtcp2's defaults follow a setting it applies (a GOMAXPROCS left in the environment
	 * for something else, or -d alone, does not make this an xtcp2 configuration) */
	if (opt->act != ACT_DEBUG && opt->act != ACT_NATIVE && opt->act != ACT_IGNORE)
		o->xtcp2 = 1;
	if (opt->act == ACT_IGNORE) {
		compat_warn(o, "ignoring %s: %s", ignored, opt->target ? opt->target
								   : "xtcpd has no equivalent");
		return 0;
	}
	if (opt->act == ACT_DEBUG) {
		if (!compat_is_digits(v))
			return compat_fail(o, "%s: \"%s\" is not a debug level", where, v);
		return compat_set(o, opt->target, "=", compat_zero(v) ? "info" : "debug");
	}
	if ((r = compat_value(o, where, opt, v, buf, sizeof(buf), &v)))
		return r;
	switch (opt->act) {
	case ACT_KEY0:
		if (compat_zero(v))
			return 0;
		/* fall through */
	case ACT_KEY:
		return compat_set(o, opt->target, "=", v);
	case ACT_SOFT:
		return compat_set(o, opt->target, "?=", v);
	case ACT_THREADS:
		if (compat_zero(v))
			return 0;
		if (strlen(v) > 4 || atoi(v) > COMPAT_MAX_THREADS) {
			compat_warn(o, "%s: %s threads capped at xtcpd's maximum, %s=%d", where, v,
				    opt->target, COMPAT_MAX_THREADS);
			return compat_set(o, opt->target, "=", "1024");
		}
		return compat_set(o, opt->target, "=", v);
	case ACT_FLUSH:     /* xtcp2: 0 = the daemon's default */
		if (compat_zero(v))
			return 0;
		if ((r = compat_push(o, "-o")))
			return r;
		return compat_push(o, "marshaller.*.%s=%s", opt->target, v);
	case ACT_PKT:
		return compat_pkt(o, opt, v, where);
	case ACT_WFILES:
		o->wfiles = !compat_zero(v);
		return 0;
	case ACT_NATIVE:
		if (strcmp(v, "true"))
			return 0;
		return compat_tail(o, opt->target);
	case ACT_MARSHAL:
		snprintf(o->marshal_where, sizeof(o->marshal_where), "%s", where);
		return compat_keep(&o->marshal, v);
	case ACT_DEST:
		return compat_keep(&o->dest, v);
	case ACT_URING:
		if (opt->val == VAL_BOOL) {
			o->io_uring = !strcmp(v, "true");
			return 0;
		}
		r = !strcmp(opt->target, "recv_batch");
		snprintf(o->uring_where[r], sizeof(o->uring_where[r]), "%s", where);
		return compat_keep(r ? &o->uring_recv : &o->uring_cqe, v);
	case ACT_TOPIC:
		return compat_keep(&o->topic, v);
	case ACT_PTIMEOUT:
		return compat_keep(&o->ptimeout, v);
	case ACT_COLUMNS:
		return compat_keep(&o->columns, v);
	case ACT_DESER:
		return compat_keep(&o->deser, v);
	case ACT_KCOMP:
		return compat_keep(&o->kcomp, v);
	case ACT_CAPDIR:
		return compat_keep(&o->capdir, v);
	default:
		return 0;
	}
}

/* The destination's topic and timeout: where they go depends on -dest. */
static int compat_finish_dest(struct compat_out *o, const char *dest, const char *marshal)
{
	char key[160];
	int r;

	if (o->dest && ((r = compat_push(o, "--dest")) || (r = compat_push(o, "%s", o->dest))))
		return r;
	/* xtcp2's default marshaller, unless xtcpd's own --marshal names one */
	if ((o->marshal || (o->dest && !o->native_marshal)) &&
	    ((r = compat_push(o, "--marshal")) || (r = compat_push(o, "%s", marshal))))
		return r;
	if (!conf_dest_param(dest, CONF_DEST_TOPIC, key, sizeof(key))) {
		/* xtcp2's default topic is xtcp: a destination it names needs no -topic */
		if (o->topic || o->dest)
			if ((r = compat_set(o, key, "=", o->topic ? o->topic : COMPAT_DEFAULT_TOPIC)))
				return r;
	} else if (o->topic) {
		compat_warn(o, "ignoring xtcp2 option -topic: the destination does not use it");
	}
	if (o->ptimeout && !compat_zero(o->ptimeout)) {
		if (!conf_dest_param(dest, CONF_DEST_TIMEOUT, key, sizeof(key)))
			return compat_set(o, key, "=", o->ptimeout);
		compat_warn(o, "ignoring xtcp2 option -produceTimeout: the destination does not use it");
	}
	return 0;
}

/* Settings that depend on each other: destination, marshaller, topic, columns, capture,
 * the receive buffer, and xtcp2's defaults where xtcpd's differ. */
/* -ioUring: the io_uring source replaces the configured ones (--source io_uring), and
 * what xtcp2's flags set on the netlink source is set on it; its batch sizes only then
 * (xtcp2 ignores them without -ioUring, and so do we, saying so). */
static int compat_finish_uring(struct compat_out *o)
{
	static const char from[] = "source.netlink.";
	int r;

	if (!o->io_uring) {
		for (int k = 0; k < 2; k++)
			if ((k ? o->uring_recv : o->uring_cqe))
				compat_warn(o, "ignoring %s: it applies with -ioUring only", o->uring_where[k]);
		return 0;
	}
	for (int i = 1; i < o->argc; i++) {
		char *a = o->argv[i], *n;

		if (strncmp(a, from, sizeof(from) - 1))
			continue;
		if (asprintf(&n, "source.io_uring.%s", a + sizeof(from) - 1) < 0)
			return -ENOMEM;
		free(a);
		o->argv[i] = n;
	}
	if ((r = compat_push(o, "--source")) || (r = compat_push(o, "io_uring")))
		return r;
	if (o->uring_recv && (r = compat_set(o, "source.io_uring.recv_batch", "=", o->uring_recv)))
		return r;
	if (o->uring_cqe && (r = compat_set(o, "source.io_uring.cqe_batch", "=", o->uring_cqe)))
		return r;
	return 0;
}

static int compat_finish(struct compat_out *o)
{
	const char *dest = o->dest ? o->dest : o->native_dest;
	const char *marshal = o->marshal ? o->marshal : COMPAT_DEFAULT_MARSHAL;
	int r;

	if (dest) {
		if ((r = compat_finish_dest(o, dest, marshal)))
			return r;
	} else {
		if (o->marshal)
			compat_warn(o, "ignoring %s without -dest: the configured marshallers and "
				    "sinks are used", o->marshal_where);
		if (o->topic && (r = compat_set(o, "sink.kafka.topic", "=", o->topic)))
			return r;
		if (o->ptimeout && !compat_zero(o->ptimeout))
			compat_warn(o, "ignoring xtcp2 option -produceTimeout: it applies to -dest "
				    "http:// or https:// only");
	}
	/* xtcp2 reads -columns only for csv and tsv (and ignores it otherwise) */
	if (o->columns && dest && (!strcmp(marshal, "csv") || !strcmp(marshal, "tsv"))) {
		if ((r = compat_push(o, "-o")) ||
		    (r = compat_push(o, "marshaller.%s.columns=%s", marshal, o->columns)))
			return r;
	} else if (o->columns) {
		compat_warn(o, "ignoring xtcp2 option -columns: it picks the columns of -dest with "
			    "-marshal csv or tsv");
	}
	if (o->kcomp) {
		const char *c = !*o->kcomp || !strcmp(o->kcomp, "auto") ? "zstd" : o->kcomp;

		if (dest && strncmp(dest, "kafka:", 6))
			compat_warn(o, "ignoring xtcp2 option -kafkaCompression: the destination is "
				    "not kafka");
		else if ((r = compat_set(o, "sink.kafka.compression", "=", c)))
			return r;
	}
	/* xtcp2's schedule is jittered by default (20%): so is it when xtcp2 configures us */
	if (o->xtcp2 && ((r = compat_set(o, "core.poll_jitter_pct", "?=", COMPAT_DEFAULT_JITTER)) ||
			 (r = compat_set(o, "core.xtcp2_metrics", "?=", "true"))))
		return r;
	if (o->deser || o->xtcp2) {
		/* xtcp2's "default" is every attribute but meminfo; xtcpd's is what ss shows.
		 * Not given: xtcp2's default, unless the configuration names its own. */
		const char *d = !o->deser || !strcmp(o->deser, "default") ? COMPAT_DEFAULT_DESER
									: o->deser;

		if ((r = compat_set(o, "source.netlink.deserializers", o->deser ? "=" : "?=", d)))
			return r;
	}
	if (o->pkt_set) {
		unsigned long long b = (o->pkt_size ? o->pkt_size : COMPAT_PAGE) * o->pkt_mply;
		char v[32];

		snprintf(v, sizeof(v), "%llu", b);
		if ((r = compat_set(o, "source.netlink.recv_buffer", "=", v)))
			return r;
	}
	if (o->wfiles && ((r = compat_push(o, "--capture")) ||
			  (r = compat_push(o, "%s", o->capdir ? o->capdir : "./"))))
		return r;
	if (!o->wfiles && o->capdir)
		compat_warn(o, "ignoring xtcp2 option -capturePath: -writeFiles is 0");
	return compat_finish_uring(o);
}

/* The xtcp2 flag at argv[*i] (name[0..len), value after '=' or NULL); advances *i past a
 * value it consumes. */
static int compat_flag(struct compat_out *o, int argc, char **argv, int *i,
		       const struct compat_opt *opt, const char *dash, const char *v)
{
	char where[160], ignored[160];

	snprintf(where, sizeof(where), "xtcp2 option %s%s", dash, opt->name);
	snprintf(ignored, sizeof(ignored), "xtcp2 option -%s", opt->name);
	if (opt->act == ACT_DEBUG) {
		/* xtcp2's -d is an int level; a bare -d (xtcpd's usual spelling) means debug */
		if (!v && *i + 1 < argc && compat_is_digits(argv[*i + 1]))
			v = argv[++*i];
		return compat_apply(o, opt, v ? v : "1", where, ignored);
	}
	if (opt->val == VAL_BOOL && !v)
		v = "true";
	if (!v) {
		if (*i + 1 >= argc)
			return compat_fail(o, "%s needs a value", where);
		v = argv[++*i];
	}
	return compat_apply(o, opt, v, where, ignored);
}


static int compat_args(struct compat_out *o, int argc, char **argv)
{
	int r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq = NULL, *dash = "-";
		const struct compat_opt *opt = NULL;
		int skip = 0;

		if (!strcmp(a, "--")) {
			for (; i < argc; i++)
				if ((r = compat_tail(o, argv[i])))
					return r;
			break;
		}
		for (size_t k = 0; k < sizeof(compat_native_with_value) / sizeof(char *); k++)
			skip |= !strcmp(a, compat_native_with_value[k]);
		if (!skip && a[0] == '-' && a[1] && strncmp(a, "--dest=", 7) &&
		    strncmp(a, "--marshal=", 10)) {
			dash = a[1] == '-' ? "--" : "-";
			name = a + strlen(dash);
			eq = strchr(name, '=');
			opt = compat_opt_find(name, eq ? (size_t)(eq - name) : strlen(name));
		}
		if (!opt) {
			if (!strcmp(a, "--dest") && i + 1 < argc)
				o->native_dest = argv[i + 1];
			else if (!strncmp(a, "--dest=", 7))
				o->native_dest = a + 7;
			else if (!strcmp(a, "--marshal") || !strncmp(a, "--marshal=", 10))
				o->native_marshal = a;
			if ((r = compat_tail(o, a)))
				return r;
			if (skip && i + 1 < argc && (r = compat_tail(o, argv[++i])))
				return r;
			continue;
		}
		if ((r = compat_flag(o, argc, argv, &i, opt, dash, eq ? eq + 1 : NULL)))
			return r;
	}
	return 0;
}

static void compat_out_free(struct compat_out *o)
{
	char **s[] = { &o->dest, &o->marshal, &o->topic, &o->ptimeout, &o->columns, &o->deser,
		       &o->kcomp, &o->capdir, &o->uring_recv, &o->uring_cqe };

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		free(*s[i]);
	for (int i = 0; i < o->ntail; i++)
		free(o->tail[i]);
	free(o->tail);
}

int compat_rewrite(int argc, char **argv, const char *(*env)(const char *name),
		   int *out_argc, char ***out_argv, char *err, size_t errn,
		   void (*warn)(const char *line))
{
	struct compat_out o = { .err = err, .errn = errn, .warn = warn, .pkt_mply = COMPAT_MPLY };
	int r;

	*out_argv = NULL;
	*out_argc = 0;
	if (argc < 1)
		return compat_fail(&o, "empty command line");
	r = compat_push(&o, "%s", argv[0]);
	if (!r)
		r = compat_args(&o, argc, argv);
	if (!r && env)
		r = compat_env_apply(&o, env);
	if (!r)
		r = compat_finish(&o);
	/* xtcpd's own arguments last: its -o has the last word */
	for (int i = 0; !r && i < o.ntail; i++) {
		if (compat_grow(&o.argv, &o.cap, o.argc)) {
			r = -ENOMEM;
			break;
		}
		o.argv[o.argc++] = o.tail[i];
		o.argv[o.argc] = NULL;
		o.tail[i] = NULL;
	}
	compat_out_free(&o);
	if (r) {
		compat_free(o.argc, o.argv);
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
