/* grpc_ctl — ConfigService and grpc.health.v1 Health/Check over the host's control
 * services (ABI 1.6). XtcpConfig is mapped to and from the [core] keys of the effective
 * configuration text: Get reads them; Set appends them to that text as a second [core]
 * section (later settings win) and applies the whole text through check -> build ->
 * swap, so a refused value comes back as the check's message and changes nothing. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grpc_int.h"
#include "xtcp_config.pb-c.h"

#define TEXT_MAX (1 << 20)

typedef XtcpConfig__V1__XtcpConfig XtcpConfig;
typedef XtcpConfig__V1__Duration Duration;

/* One duration of the core's grammar: digits with units d, h, m, s, ms, largest first
 * ("1m30s", "250ms"); bare digits are seconds. */
int gctl_duration_ms(const char *s, int64_t *ms)
{
	static const struct { const char *u; int64_t ms; } units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "ms", 1 }, { "m", 60000 }, { "s", 1000 },
	};
	int64_t total = 0;
	int any = 0;

	if (!*s)
		return -EINVAL;
	while (*s) {
		char *end;
		long long v = strtoll(s, &end, 10);
		size_t i;

		if (end == s || *s < '0' || *s > '9')
			return -EINVAL;
		if (!*end) {
			if (any)
				return -EINVAL;
			*ms = v * 1000;
			return 0;
		}
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strncmp(end, units[i].u, strlen(units[i].u)) &&
			    (strcmp(units[i].u, "m") || end[1] != 's'))
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		total += v * units[i].ms;
		s = end + strlen(units[i].u);
		any = 1;
	}
	*ms = total;
	return 0;
}

/* "key = value ; from X" or "# key = default" inside [core]. */
int gctl_core_value(const char *text, const char *key, char *out, size_t n)
{
	const char *p = text;
	int in_core = 0;
	size_t kl = strlen(key);

	for (; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		const char *l = p, *e = strchr(p, '\n'), *v, *ve;
		int comment = 0;

		if (!e)
			e = p + strlen(p);
		if (*l == '[') {
			in_core = !strncmp(l, "[core]", 6);
			continue;
		}
		if (!in_core)
			continue;
		if (*l == '#')
			comment = 1, l += 2;
		if (strncmp(l, key, kl) || strncmp(l + kl, " = ", 3))
			continue;
		v = l + kl + 3;
		ve = comment ? e : (strstr(v, " ; from ") && strstr(v, " ; from ") < e ? strstr(v, " ; from ") : e);
		if (ve > v && (*v == '"' || *v == '\'') && ve[-1] == *v && ve - v >= 2)
			v++, ve--;
		snprintf(out, n, "%.*s", (int)(ve - v), v);
		return 0;
	}
	return -ENOENT;
}

/* The effective configuration text (malloc'ed) or NULL with msg set. */
static char *config_text(struct gsink *g, char *msg, size_t n)
{
	int len = g->host->config_text(g->ctx, NULL, 0);
	char *t;

	if (len < 0 || len >= TEXT_MAX || !(t = malloc((size_t)len + 1))) {
		snprintf(msg, n, "the effective configuration is not available");
		return NULL;
	}
	g->host->config_text(g->ctx, t, (size_t)len + 1);
	return t;
}

static Duration *dur(Duration *d, int64_t ms)
{
	xtcp_config__v1__duration__init(d);
	d->seconds = ms / 1000;
	d->nanos = (int32_t)(ms % 1000) * 1000000;
	return d;
}

struct cfgbuf {
	Duration f, t;
	char host[256], loc[256], label[256], tag[256];
};

/* XtcpConfig from the [core] keys of text. */
static void to_xtcp(struct gsink *g, const char *text, XtcpConfig *c, struct cfgbuf *b)
{
	char v[256];
	int64_t f = 10000, t = 0;

	xtcp_config__v1__xtcp_config__init(c);
	if (!gctl_core_value(text, "frequency", v, sizeof(v)))
		gctl_duration_ms(v, &f);
	if (gctl_core_value(text, "timeout", v, sizeof(v)) || gctl_duration_ms(v, &t))
		t = f - f / 10;  /* its default */
	c->poll_frequency = dur(&b->f, f);
	c->poll_timeout = dur(&b->t, t);
	if (!gctl_core_value(text, "poll_jitter_pct", v, sizeof(v)))
		c->poll_jitter_pct = (uint32_t)strtoul(v, NULL, 10);
	if (!gctl_core_value(text, "max_loops", v, sizeof(v)))
		c->max_loops = strtoull(v, NULL, 10);
	if (gctl_core_value(text, "hostname", b->host, sizeof(b->host)) || !*b->host)
		gethostname(b->host, sizeof(b->host) - 1);
	c->hostname = b->host;
	c->location = gctl_core_value(text, "location", b->loc, sizeof(b->loc)) ? "" : b->loc;
	c->label = gctl_core_value(text, "label", b->label, sizeof(b->label)) ? "" : b->label;
	c->tag = gctl_core_value(text, "tag", b->tag, sizeof(b->tag)) ? "" : b->tag;
	c->daemon_version = PACKAGE_VERSION;
	c->grpc_port = (uint32_t)g->port;
}

/* Pack a message holding `config` (field 1) from the running configuration. */
static grpc_status_code reply_config(struct gsink *g, const ProtobufCMessageDescriptor *d,
				     uint8_t **resp, size_t *len, char *msg, size_t n)
{
	struct cfgbuf b;
	XtcpConfig c;
	XtcpConfig__V1__GetResponse r;  /* Get/Set/SetPollFrequency responses: the same shape */
	char *text = config_text(g, msg, n);

	if (!text)
		return GRPC_STATUS_UNAVAILABLE;
	to_xtcp(g, text, &c, &b);
	free(text);
	xtcp_config__v1__get_response__init(&r);
	r.base.descriptor = d;
	r.config = &c;
	*len = protobuf_c_message_get_packed_size(&r.base);
	if (!(*resp = malloc(*len ? *len : 1)))
		return GRPC_STATUS_RESOURCE_EXHAUSTED;
	protobuf_c_message_pack(&r.base, *resp);
	return GRPC_STATUS_OK;
}

static int64_t dur_ms(const Duration *d)
{
	return d ? d->seconds * 1000 + d->nanos / 1000000 : 0;
}

static grpc_status_code set_frequency(struct gsink *g, const uint8_t *req, size_t n,
				      uint8_t **resp, size_t *len, char *msg, size_t mn)
{
	XtcpConfig__V1__SetPollFrequencyRequest *r =
		xtcp_config__v1__set_poll_frequency_request__unpack(NULL, n, req);
	int64_t f, t;
	int rc;

	if (!r || !r->poll_frequency) {
		if (r)
			xtcp_config__v1__set_poll_frequency_request__free_unpacked(r, NULL);
		snprintf(msg, mn, "poll_frequency is required");
		return GRPC_STATUS_INVALID_ARGUMENT;
	}
	f = dur_ms(r->poll_frequency);
	t = dur_ms(r->poll_timeout);
	xtcp_config__v1__set_poll_frequency_request__free_unpacked(r, NULL);
	rc = g->host->set_frequency(g->ctx, f, t);
	if (rc == -EINVAL) {
		snprintf(msg, mn, "poll_frequency %lld ms / poll_timeout %lld ms refused: frequency "
			 "100 ms..1 day, timeout below it (0 = 9/10 of it)", (long long)f, (long long)t);
		return GRPC_STATUS_INVALID_ARGUMENT;
	}
	if (rc) {
		snprintf(msg, mn, "not applied: %s", strerror(-rc));
		return GRPC_STATUS_UNAVAILABLE;
	}
	return reply_config(g, &xtcp_config__v1__set_poll_frequency_response__descriptor, resp, len,
			    msg, mn);
}

static grpc_status_code burst(struct gsink *g, const uint8_t *req, size_t n, uint8_t **resp,
			      size_t *len, char *msg, size_t mn)
{
	XtcpConfig__V1__TriggerPollBurstRequest *r =
		xtcp_config__v1__trigger_poll_burst_request__unpack(NULL, n, req);
	XtcpConfig__V1__TriggerPollBurstResponse out = XTCP_CONFIG__V1__TRIGGER_POLL_BURST_RESPONSE__INIT;
	Duration d;
	int64_t iv;
	unsigned count;
	int rc;

	if (!r) {
		snprintf(msg, mn, "cannot decode TriggerPollBurstRequest");
		return GRPC_STATUS_INVALID_ARGUMENT;
	}
	count = r->count;
	iv = dur_ms(r->interval);
	xtcp_config__v1__trigger_poll_burst_request__free_unpacked(r, NULL);
	rc = g->host->poll_burst(g->ctx, count, iv);
	if (rc == -EINVAL) {
		snprintf(msg, mn, "count %u / interval %lld ms refused: count 1..1000, interval 1s..1h",
			 count, (long long)iv);
		return GRPC_STATUS_INVALID_ARGUMENT;
	}
	if (rc == -EBUSY) {
		snprintf(msg, mn, "a burst is running: one at a time");
		return GRPC_STATUS_FAILED_PRECONDITION;
	}
	if (rc) {
		snprintf(msg, mn, "%s", strerror(-rc));
		return GRPC_STATUS_UNAVAILABLE;
	}
	out.count = count;
	out.interval = dur(&d, iv);
	*len = protobuf_c_message_get_packed_size(&out.base);
	if (!(*resp = malloc(*len ? *len : 1)))
		return GRPC_STATUS_RESOURCE_EXHAUSTED;
	protobuf_c_message_pack(&out.base, *resp);
	return GRPC_STATUS_OK;
}

/* A string value for the [core] section Set writes: quoted, nothing that could end the
 * line or the quotes. */
static int quotable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == '"' || *s == 0x7f)
			return 0;
	return 1;
}

static grpc_status_code set_config(struct gsink *g, const uint8_t *req, size_t n,
				   uint8_t **resp, size_t *len, char *msg, size_t mn)
{
	XtcpConfig__V1__SetRequest *r = xtcp_config__v1__set_request__unpack(NULL, n, req);
	char *text = NULL, *nt = NULL;
	size_t tl, cap;
	int rc, off;
	XtcpConfig *c;

	if (!r || !r->config) {
		snprintf(msg, mn, "config is required");
		rc = GRPC_STATUS_INVALID_ARGUMENT;
		goto out;
	}
	c = r->config;
	if (!quotable(c->hostname) || !quotable(c->location) || !quotable(c->label) ||
	    !quotable(c->tag)) {
		snprintf(msg, mn, "hostname, location, label and tag: no quotes or control characters");
		rc = GRPC_STATUS_INVALID_ARGUMENT;
		goto out;
	}
	if (!(text = config_text(g, msg, mn))) {
		rc = GRPC_STATUS_UNAVAILABLE;
		goto out;
	}
	tl = strlen(text);
	cap = tl + 2048;
	if (!(nt = malloc(cap))) {
		rc = GRPC_STATUS_RESOURCE_EXHAUSTED;
		goto out;
	}
	off = snprintf(nt, cap, "%s\n[core]\n", text);
	if (c->poll_frequency)
		off += snprintf(nt + off, cap - off, "frequency = %lldms\n",
				(long long)dur_ms(c->poll_frequency));
	if (c->poll_timeout)
		off += snprintf(nt + off, cap - off, "timeout = %lldms\n",
				(long long)dur_ms(c->poll_timeout));
	off += snprintf(nt + off, cap - off, "poll_jitter_pct = %u\nmax_loops = %llu\n"
			"hostname = \"%.253s\"\nlocation = \"%.253s\"\nlabel = \"%.253s\"\n"
			"tag = \"%.253s\"\n", c->poll_jitter_pct, (unsigned long long)c->max_loops,
			c->hostname, c->location, c->label, c->tag);
	rc = g->host->apply_config(g->ctx, nt, (size_t)off, msg, mn);
	if (rc) {
		rc = rc == -EINVAL || rc == -EPERM ? GRPC_STATUS_INVALID_ARGUMENT : GRPC_STATUS_UNAVAILABLE;
		goto out;
	}
	rc = reply_config(g, &xtcp_config__v1__set_response__descriptor, resp, len, msg, mn);
out:
	if (r)
		xtcp_config__v1__set_request__free_unpacked(r, NULL);
	free(text);
	free(nt);
	return (grpc_status_code)rc;
}

/* grpc.health.v1: HealthCheckResponse { status = 1 }: SERVING 1, NOT_SERVING 2. The
 * request's service: "" (the server) or one of ours; others are NOT_FOUND. */
static grpc_status_code health(struct gsink *g, const uint8_t *req, size_t n, uint8_t **resp,
			       size_t *len, char *msg, size_t mn)
{
	static const char *const known[] = { "", "xtcp_flat_record.v1.XTCPFlatRecordService",
					     "xtcp_config.v1.ConfigService" };
	char service[128] = "", why[256];
	int ready, ok = 0;

	if (n >= 2 && req[0] == 0x0a && req[1] < 0x80 && (size_t)req[1] + 2 <= n && req[1] < sizeof(service))
		snprintf(service, sizeof(service), "%.*s", req[1], (const char *)req + 2);
	else if (n)
		return snprintf(msg, mn, "cannot decode HealthCheckRequest"), GRPC_STATUS_INVALID_ARGUMENT;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		ok |= !strcmp(service, known[i]);
	if (!ok)
		return snprintf(msg, mn, "unknown service"), GRPC_STATUS_NOT_FOUND;
	ready = XTCPD_HOST_HAS(g->host, ready) && g->host->ready(g->ctx, why, sizeof(why)) == 1;
	if (!(*resp = malloc(2)))
		return GRPC_STATUS_RESOURCE_EXHAUSTED;
	(*resp)[0] = 0x08;
	(*resp)[1] = ready ? 1 : 2;
	*len = 2;
	return GRPC_STATUS_OK;
}

grpc_status_code gctl_call(struct gsink *g, enum ctl_method m, const uint8_t *req, size_t n,
			   uint8_t **resp, size_t *len, char *msg, size_t mn)
{
	int rc;

	if (m == CM_HEALTH)
		return health(g, req, n, resp, len, msg, mn);
	if (!XTCPD_HOST_HAS(g->host, apply_config)) {
		snprintf(msg, mn, "this daemon has no control services (plugin ABI < 1.6)");
		return GRPC_STATUS_UNIMPLEMENTED;
	}
	switch (m) {
	case CM_GET:
		return reply_config(g, &xtcp_config__v1__get_response__descriptor, resp, len, msg, mn);
	case CM_SET:
		return set_config(g, req, n, resp, len, msg, mn);
	case CM_SETFREQ:
		return set_frequency(g, req, n, resp, len, msg, mn);
	case CM_BURST:
		return burst(g, req, n, resp, len, msg, mn);
	case CM_TRIGGER:
		rc = g->host->poll_now(g->ctx);
		if (rc && rc != -EALREADY) {
			snprintf(msg, mn, "%s", strerror(-rc));
			return GRPC_STATUS_UNAVAILABLE;
		}
		*len = 0;
		*resp = malloc(1);  /* TriggerPollResponse: empty */
		return *resp ? GRPC_STATUS_OK : GRPC_STATUS_RESOURCE_EXHAUSTED;
	default:
		return GRPC_STATUS_UNIMPLEMENTED;
	}
}
